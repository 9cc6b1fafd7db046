r"""Finite-strain kinematics: strain measures from the deformation gradient, stress-measure conversions and
tangent-measure conversions. Everything is batched: ``F`` is ``(..., 3, 3)``.

Conventions, stated once (and used by :mod:`constitutive.models.hyperelastic`):

* deformation gradient :math:`F_{iJ} = \partial x_i / \partial X_J` (first index spatial, second material),
  :math:`J = \det F > 0` (:func:`check_deformation_gradient` refuses :math:`J \le 0` with ``ValueError``);
* right and left Cauchy--Green tensors :math:`C = F^T F`, :math:`b = F F^T`; Green--Lagrange strain
  :math:`E = \tfrac12 (C - I)`; Euler--Almansi strain :math:`e = \tfrac12 (I - b^{-1})`;
* isochoric/volumetric split :math:`F = J^{1/3} \bar F`, :math:`\det \bar F = 1`, :math:`\bar C = J^{-2/3} C`;
* stresses: second Piola--Kirchhoff :math:`S` (symmetric, material), first Piola--Kirchhoff :math:`P = F S`
  (two-point, :math:`P_{iJ}`), Kirchhoff :math:`\tau = F S F^T = P F^T`, Cauchy :math:`\sigma = \tau / J`;
* tangents: the material tangent :math:`\mathbb{C} = \partial S / \partial E` (minor- and major-symmetric);
  the first elasticity tensor :math:`\mathbb{A}_{iJkL} = \partial P_{iJ} / \partial F_{kL}` (two-point, only
  major-symmetric, never minor-symmetrised); the spatial tangent :math:`c_{ijkl} = J^{-1} F_{iI} F_{jJ} F_{kK}
  F_{lL} \mathbb{C}_{IJKL}` (push-forward over :math:`J`; the Oldroyd rate of the Kirchhoff stress is
  :math:`\mathcal{L}_v \tau = J\, c : d`, :math:`d` the rate of deformation); and the Abaqus/Standard UMAT tangent
  :math:`\mathbb{C}^{\tau J}` defined by the Jaumann rate of Kirchhoff stress,
  :math:`\overset{\nabla}{\tau} = J\, \mathbb{C}^{\tau J} : d`, with
  :math:`\mathbb{C}^{\tau J}_{ijkl} = c_{ijkl} + \tfrac12(\delta_{ik}\sigma_{jl} + \sigma_{ik}\delta_{jl}
  + \delta_{il}\sigma_{jk} + \sigma_{il}\delta_{jk})`.
"""

from __future__ import annotations

import torch

from .tensor import (
    Tensor,
    TensorLike,
    _is_functorch_wrapped,
    as_tensor,
    check_finite,
    check_real,
    check_shape,
    det,
    eye,
    inv,
    sym,
    sym_sqrt,
    transform4,
)

__all__ = [
    "check_deformation_gradient",
    "jacobian_det",
    "right_cauchy_green",
    "left_cauchy_green",
    "green_lagrange",
    "euler_almansi",
    "isochoric_split",
    "isochoric_right_cauchy_green",
    "polar_decomposition",
    "right_stretch_from_green_lagrange",
    "pk2_to_pk1",
    "pk1_to_pk2",
    "pk1_to_cauchy",
    "cauchy_to_pk1",
    "pk2_to_cauchy",
    "cauchy_to_pk2",
    "pk2_to_kirchhoff",
    "kirchhoff_to_pk2",
    "pk1_to_kirchhoff",
    "kirchhoff_to_pk1",
    "cauchy_to_kirchhoff",
    "kirchhoff_to_cauchy",
    "material_to_first_elasticity",
    "push_forward_tangent",
    "pull_back_tangent",
    "spatial_to_jaumann_tangent",
]


# --------------------------------------------------------------------------------------------------------------
# Deformation gradient and strain measures
# --------------------------------------------------------------------------------------------------------------


def check_deformation_gradient(F: TensorLike, name: str = "F") -> Tensor:
    r"""Convert and validate a deformation gradient: shape ``(..., 3, 3)``, finite, :math:`\det F > 0`.

    Returns the tensor (float64 unless a floating torch tensor was given). ``ValueError`` names the first bad
    batch entry. Value checks are skipped inside ``torch.func`` transforms (they run on the outer call).
    """
    F = as_tensor(F)
    check_shape(F, (3, 3), name)
    check_real(F, name)
    check_finite(F, name)
    if not _is_functorch_wrapped(F):
        J = det(F).real
        bad = J <= 0
        if bool(bad.any()):
            idx = tuple(int(i) for i in torch.nonzero(bad)[0]) if bad.ndim else ()
            value = float(J[idx]) if idx else float(J)
            raise ValueError(
                f"{name} must have det {name} > 0 (an admissible deformation), but entry "
                f"{idx if idx else '(unbatched)'} has det {name} = {value:.6g}"
            )
    return F


def jacobian_det(F: TensorLike) -> Tensor:
    r"""Volume ratio :math:`J = \det F`, ``(..., 3, 3) -> (...)``; ``ValueError`` for :math:`J \le 0`."""
    return det(check_deformation_gradient(F))


def right_cauchy_green(F: TensorLike) -> Tensor:
    r"""Right Cauchy--Green tensor :math:`C = F^T F` (material, symmetric), ``(..., 3, 3)``."""
    F = check_deformation_gradient(F)
    return sym(F.transpose(-1, -2) @ F)


def left_cauchy_green(F: TensorLike) -> Tensor:
    r"""Left Cauchy--Green tensor :math:`b = F F^T` (spatial, symmetric), ``(..., 3, 3)``."""
    F = check_deformation_gradient(F)
    return sym(F @ F.transpose(-1, -2))


def green_lagrange(F: TensorLike) -> Tensor:
    r"""Green--Lagrange strain :math:`E = \tfrac12 (F^T F - I)`, ``(..., 3, 3)``."""
    C = right_cauchy_green(F)
    return 0.5 * (C - eye(C.dtype, C.device))


def euler_almansi(F: TensorLike) -> Tensor:
    r"""Euler--Almansi strain :math:`e = \tfrac12 (I - b^{-1}) = F^{-T} E F^{-1}`, ``(..., 3, 3)``."""
    b = left_cauchy_green(F)
    return sym(0.5 * (eye(b.dtype, b.device) - inv(b)))


def isochoric_split(F: TensorLike) -> tuple[Tensor, Tensor]:
    r"""Volumetric/isochoric split :math:`F = J^{1/3} \bar F`: returns ``(J, F_bar)`` with shapes ``(...)`` and
    ``(..., 3, 3)``, :math:`\det \bar F = 1`."""
    F = check_deformation_gradient(F)
    J = det(F)
    return J, F * J[..., None, None] ** (-1.0 / 3.0)


def isochoric_right_cauchy_green(F: TensorLike) -> Tensor:
    r""":math:`\bar C = \bar F^T \bar F = J^{-2/3} C`, ``(..., 3, 3)``, :math:`\det \bar C = 1`."""
    J, Fb = isochoric_split(F)
    return sym(Fb.transpose(-1, -2) @ Fb)


def polar_decomposition(F: TensorLike) -> tuple[Tensor, Tensor]:
    r"""Right polar decomposition :math:`F = R U`: returns ``(R, U)``, :math:`U = \sqrt{C}` symmetric positive
    definite, :math:`R` proper orthogonal; each ``(..., 3, 3)``."""
    F = check_deformation_gradient(F)
    U = sym_sqrt(sym(F.transpose(-1, -2) @ F))
    return F @ inv(U), U


def right_stretch_from_green_lagrange(E: TensorLike) -> Tensor:
    r"""The right stretch :math:`U = \sqrt{I + 2E}` (a deformation gradient without rotation whose Green--Lagrange
    strain is ``E``); ``ValueError`` unless :math:`I + 2E` is positive definite."""
    E = as_tensor(E)
    check_shape(E, (3, 3), "E")
    check_finite(E, "E")
    C = sym(eye(E.dtype, E.device) + 2.0 * E)
    if not _is_functorch_wrapped(C) and bool((torch.linalg.eigvalsh(C) <= 0).any()):
        raise ValueError("E is not an admissible Green-Lagrange strain: I + 2E must be positive definite")
    return sym_sqrt(C)


# --------------------------------------------------------------------------------------------------------------
# Stress conversions (F is validated in each; shapes (..., 3, 3))
# --------------------------------------------------------------------------------------------------------------


def _FJ(F: TensorLike) -> tuple[Tensor, Tensor]:
    F = check_deformation_gradient(F)
    return F, det(F)[..., None, None]


def _second(x: TensorLike, name: str) -> Tensor:
    """A stress argument as a real tensor of shape ``(..., 3, 3)`` (no value checks: no device synchronisation)."""
    x = as_tensor(x)
    check_shape(x, (3, 3), name)
    check_real(x, name)
    return x


def _fourth(x: TensorLike, name: str) -> Tensor:
    """A tangent argument as a real tensor of shape ``(..., 3, 3, 3, 3)``."""
    x = as_tensor(x)
    check_shape(x, (3, 3, 3, 3), name)
    check_real(x, name)
    return x


def _agree(ref: Tensor, **args: Tensor) -> None:
    """``ValueError`` unless every argument has the dtype and device of ``ref`` (F, or the tangent ``c``)."""
    ref_name = "the tangent c" if ref.ndim >= 4 and ref.shape[-4:] == (3, 3, 3, 3) else "F"
    for name, x in args.items():
        if x.dtype != ref.dtype or x.device != ref.device:
            raise ValueError(
                f"{name} is {x.dtype} on {x.device} but {ref_name} is {ref.dtype} on {ref.device}; give both the same "
                "dtype and device"
            )


def pk2_to_pk1(S: Tensor, F: TensorLike) -> Tensor:
    r""":math:`P = F S`."""
    S = _second(S, "S")
    F, _ = _FJ(F)
    _agree(F, S=S)
    return F @ S


def pk1_to_pk2(P: Tensor, F: TensorLike) -> Tensor:
    r""":math:`S = F^{-1} P` (symmetrised: exact for a :math:`P` that satisfies the balance of angular momentum)."""
    P = _second(P, "P")
    F, _ = _FJ(F)
    _agree(F, P=P)
    return sym(inv(F) @ P)


def pk1_to_cauchy(P: Tensor, F: TensorLike) -> Tensor:
    r""":math:`\sigma = J^{-1} P F^T`."""
    P = _second(P, "P")
    F, J = _FJ(F)
    _agree(F, P=P)
    return sym(P @ F.transpose(-1, -2)) / J


def cauchy_to_pk1(sigma: Tensor, F: TensorLike) -> Tensor:
    r""":math:`P = J \sigma F^{-T}`."""
    sigma = _second(sigma, "sigma")
    F, J = _FJ(F)
    _agree(F, sigma=sigma)
    return J * sigma @ inv(F).transpose(-1, -2)


def pk2_to_cauchy(S: Tensor, F: TensorLike) -> Tensor:
    r""":math:`\sigma = J^{-1} F S F^T`."""
    S = _second(S, "S")
    F, J = _FJ(F)
    _agree(F, S=S)
    return sym(F @ S @ F.transpose(-1, -2)) / J


def cauchy_to_pk2(sigma: Tensor, F: TensorLike) -> Tensor:
    r""":math:`S = J F^{-1} \sigma F^{-T}`."""
    sigma = _second(sigma, "sigma")
    F, J = _FJ(F)
    _agree(F, sigma=sigma)
    Fi = inv(F)
    return sym(J * Fi @ sigma @ Fi.transpose(-1, -2))


def pk2_to_kirchhoff(S: Tensor, F: TensorLike) -> Tensor:
    r""":math:`\tau = F S F^T`."""
    S = _second(S, "S")
    F, _ = _FJ(F)
    _agree(F, S=S)
    return sym(F @ S @ F.transpose(-1, -2))


def kirchhoff_to_pk2(tau: Tensor, F: TensorLike) -> Tensor:
    r""":math:`S = F^{-1} \tau F^{-T}`."""
    tau = _second(tau, "tau")
    F, _ = _FJ(F)
    _agree(F, tau=tau)
    Fi = inv(F)
    return sym(Fi @ tau @ Fi.transpose(-1, -2))


def pk1_to_kirchhoff(P: Tensor, F: TensorLike) -> Tensor:
    r""":math:`\tau = P F^T`."""
    P = _second(P, "P")
    F, _ = _FJ(F)
    _agree(F, P=P)
    return sym(P @ F.transpose(-1, -2))


def kirchhoff_to_pk1(tau: Tensor, F: TensorLike) -> Tensor:
    r""":math:`P = \tau F^{-T}`."""
    tau = _second(tau, "tau")
    F, _ = _FJ(F)
    _agree(F, tau=tau)
    return tau @ inv(F).transpose(-1, -2)


def cauchy_to_kirchhoff(sigma: Tensor, F: TensorLike) -> Tensor:
    r""":math:`\tau = J \sigma`."""
    sigma = _second(sigma, "sigma")
    _, J = _FJ(F)
    _agree(J, sigma=sigma)
    return J * sigma


def kirchhoff_to_cauchy(tau: Tensor, F: TensorLike) -> Tensor:
    r""":math:`\sigma = \tau / J`."""
    tau = _second(tau, "tau")
    _, J = _FJ(F)
    _agree(J, tau=tau)
    return tau / J


# --------------------------------------------------------------------------------------------------------------
# Tangent conversions
# --------------------------------------------------------------------------------------------------------------


def material_to_first_elasticity(CC: Tensor, S: Tensor, F: TensorLike) -> Tensor:
    r"""First elasticity tensor from the material tangent :math:`\mathbb{C} = \partial S/\partial E` (minor-
    symmetric) and the stress :math:`S`:

    .. math:: \mathbb{A}_{iJkL} = \frac{\partial P_{iJ}}{\partial F_{kL}}
              = \delta_{ik} S_{LJ} + F_{iI}\, \mathbb{C}_{IJLK}\, F_{kK}

    (from :math:`\mathrm{d}P = \mathrm{d}F\, S + F\, \mathbb{C} : \operatorname{sym}(F^T \mathrm{d}F)`). Shape
    ``(..., 3, 3, 3, 3)``; it has the major symmetry :math:`\mathbb{A}_{iJkL} = \mathbb{A}_{kLiJ}` of a
    hyperelastic material but no minor symmetries.
    """
    CC, S = _fourth(CC, "CC (the material tangent)"), _second(S, "S")
    F, _ = _FJ(F)
    _agree(F, CC=CC, S=S)
    batch = torch.broadcast_shapes(F.shape[:-2], CC.shape[:-4])
    F = F.expand(*batch, 3, 3)
    I = eye(F.dtype, F.device)
    geo = I[:, None, :, None] * S.transpose(-1, -2)[..., None, :, None, :]  # δ_ik S_LJ at [i, J, k, L]
    # two batched matrix products instead of a three-operand einsum (much faster on large batches)
    T = F @ CC.expand(*batch, 3, 3, 3, 3).reshape(*batch, 3, 27)  # T[i, (J, L, K)] = F_iI CC_IJLK
    U = T.reshape(*batch, 27, 3) @ F.transpose(-1, -2)  # U[(i, J, L), k] = T_iJLK F_kK
    return geo + U.reshape(*batch, 3, 3, 3, 3).transpose(-1, -2)


def push_forward_tangent(CC: Tensor, F: TensorLike) -> Tensor:
    r"""Spatial tangent :math:`c_{ijkl} = J^{-1} F_{iI} F_{jJ} F_{kK} F_{lL}\, \mathbb{C}_{IJKL}`, ``(..., 3, 3, 3,
    3)``: :math:`\mathcal{L}_v \tau = J\, c : d` (Oldroyd rate of the Kirchhoff stress, :math:`d` the rate of
    deformation)."""
    CC = _fourth(CC, "CC (the material tangent)")
    F, J = _FJ(F)
    _agree(F, CC=CC)
    return transform4(F, CC) / J[..., None, None]


def pull_back_tangent(c: Tensor, F: TensorLike) -> Tensor:
    r"""Inverse of :func:`push_forward_tangent`: :math:`\mathbb{C}_{IJKL} = J F^{-1}_{Ii} F^{-1}_{Jj} F^{-1}_{Kk}
    F^{-1}_{Ll} c_{ijkl}`."""
    c = _fourth(c, "c (the spatial tangent)")
    F, J = _FJ(F)
    _agree(F, c=c)
    return transform4(inv(F), c) * J[..., None, None]


def spatial_to_jaumann_tangent(c: Tensor, sigma: Tensor) -> Tensor:
    r"""The tangent Abaqus/Standard expects from a UMAT at finite strain, from the spatial tangent ``c`` and the
    Cauchy stress ``sigma``:

    .. math:: \mathbb{C}^{\tau J}_{ijkl} = c_{ijkl} + \tfrac12 (\delta_{ik}\sigma_{jl} + \sigma_{ik}\delta_{jl}
              + \delta_{il}\sigma_{jk} + \sigma_{il}\delta_{jk})

    It relates the Jaumann rate of the Kirchhoff stress to the rate of deformation,
    :math:`\overset{\nabla}{\tau} = \dot\tau - w\tau + \tau w = J\, \mathbb{C}^{\tau J} : d` (because
    :math:`\overset{\nabla}{\tau} = \mathcal{L}_v\tau + d\tau + \tau d`). Finite-difference definition (the one
    used to verify it): with :math:`\delta F = \tfrac{\epsilon}{2}(e_k \otimes e_l + e_l \otimes e_k) F`,
    :math:`\mathbb{C}^{\tau J}_{ijkl} \approx [\tau_{ij}(F + \delta F) - \tau_{ij}(F)] / (J \epsilon)`.
    """
    c, sigma = _fourth(c, "c (the spatial tangent)"), _second(sigma, "sigma")
    _agree(c, sigma=sigma)
    I = eye(sigma.dtype, sigma.device)
    t1 = I[:, None, :, None] * sigma[..., None, :, None, :]  # δ_ik σ_jl
    t2 = sigma[..., :, None, :, None] * I[None, :, None, :]  # σ_ik δ_jl
    t3 = I[:, None, None, :] * sigma[..., None, :, :, None]  # δ_il σ_jk
    t4 = sigma[..., :, None, None, :] * I[None, :, :, None]  # σ_il δ_jk
    return c + 0.5 * (t1 + t2 + t3 + t4)
