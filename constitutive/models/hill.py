r"""Small-strain Hill (1948) orthotropic plasticity with isotropic elasticity and any isotropic hardening law.

Conventions (named once; ``docs/path-dependent.md`` has the derivations):

* strain ε and stress σ are symmetric ``(..., 3, 3)`` tensors; tangents ``(..., 3, 3, 3, 3)`` in the
  ``"symmetric"`` convention of :mod:`constitutive.tangent`. Internally the return map works on Mandel vectors in
  the order of :data:`~constitutive.models.plasticity.MANDEL_ORDER` (11, 22, 33, 23, 13, 12, √2 on the shear slots).
* elasticity is isotropic: :math:`\sigma = K\operatorname{tr}(\varepsilon) I + 2G(\operatorname{dev}\varepsilon -
  \varepsilon^p)` (the plastic strain is traceless: Hill48 is pressure insensitive).
* **Hill equivalent stress** in the material axes (1, 2, 3):

  .. math::
      \bar\sigma^2 = F(\sigma_{22}-\sigma_{33})^2 + G(\sigma_{33}-\sigma_{11})^2 + H(\sigma_{11}-\sigma_{22})^2
      + 2L\sigma_{23}^2 + 2M\sigma_{31}^2 + 2N\sigma_{12}^2 = \boldsymbol\sigma^T \mathbf M \boldsymbol\sigma

  with the Mandel matrix :math:`\mathbf M` (:func:`hill_matrix`). Normalisation: F = G = H = 1/2, L = M = N = 3/2
  is von Mises, :math:`\mathbf M = \tfrac32 \mathbb P^{dev}`; in general :math:`\bar\sigma^2 = \tfrac32
  \sigma:\mathbb P:\sigma` with :math:`\mathbb P = \tfrac23\mathbf M`. The constants are dimensionless: σ̄ has
  the unit of stress and is compared with the flow stress σ_f(α).
* **material axes**: ``orientation`` ``(3, 3)`` (or ``(*B, 3, 3)``, one per point) is orthonormal with *rows* the
  material axes 1, 2, 3 in global components (as :class:`~.elastic.Orthotropic`'s ``axes``), so the material
  components are :math:`\sigma' = A\sigma A^T`. Euler angles (``euler=``; Bunge, z-x-z, degrees) ``(φ1, Φ, φ2)`` give
  :math:`A = R_z(\varphi_2) R_x(\Phi) R_z(\varphi_1)` (passive rotations; :func:`euler_to_matrix`): ``(θ, 0, 0)`` is
  the material axis 1 at angle θ from the global x axis in the x-y plane. Elasticity is isotropic, so the return map
  runs in the material axes on :math:`\boldsymbol\sigma' = \mathbf Q\boldsymbol\sigma` (:math:`\mathbf Q` the
  orthogonal Mandel form of the rotation, :func:`mandel_rotation`), and rotates back.
* associated flow :math:`\dot\varepsilon^p = \dot\lambda\,\partial\bar\sigma/\partial\sigma`; the **equivalent
  plastic strain** α is work-conjugate to σ̄: :math:`\sigma:\dot\varepsilon^p = \bar\sigma\dot\alpha`, hence
  (σ̄ homogeneous of degree one) :math:`\dot\alpha = \dot\lambda`. For von Mises parameters this is J2's
  :math:`\dot\alpha = \sqrt{2/3}\|\dot\varepsilon^p\|`.
* yield function :math:`f = \bar\sigma - \sigma_f(\alpha)`, :math:`\sigma_f = \sigma_y + H_{iso}\alpha + R(\alpha)`
  with a registered :class:`~.hardening.HardeningLaw` (:mod:`constitutive.models.hardening`). The linear modulus
  is ``H_iso`` here (``H`` is Hill's constant); ``Linear(H)`` sets ``H_iso``.

State (a ``dict`` of tensors, batch shape ``B`` in front): ``"eps_p"`` ``(*B, 3, 3)`` plastic strain (global
components, traceless) and ``"alpha"`` ``(*B)`` equivalent plastic strain α ≥ 0.

Backward Euler (de Souza Neto, Perić & Owen, *Computational Methods for Plasticity*, 2008, ch. 10 (anisotropic
plasticity) for Hill's criterion; one scalar unknown as in their radial return): with
:math:`\Delta\gamma = \Delta\lambda/\bar\sigma` and :math:`x = 2G\Delta\gamma`,

.. math::
    \boldsymbol\sigma'(x) = (\mathbf I + x\mathbf M)^{-1}\boldsymbol\sigma'^{trial}, \qquad
    r(x) = \bar\sigma(x) - \sigma_f\big(\alpha_n + x\bar\sigma(x)/(2G)\big) = 0,

in the material axes (where :math:`(\mathbf I + x\mathbf M)^{-1}` has a closed form: the 3×3 normal block by its
adjugate, the shear slots :math:`1/(1 + xL)`, ...), because :math:`\Delta\varepsilon^p = \Delta\gamma\,\mathbf
M\boldsymbol\sigma` is deviatoric (so :math:`C^e\Delta\varepsilon^p = 2G\Delta\varepsilon^p`). r decreases
strictly from :math:`r(0) = f^{trial} > 0`. The model is a
:class:`~constitutive.models.returnmap.ReturnMappingMaterial`: the shared engine solves r = 0 (local Newton with
line search, x ≥ 0 kept by :meth:`Hill48._clip`), forms the consistent tangent by the implicit function theorem and
makes the stress differentiable in the parameters. The tangent hook is the closed form (:meth:`Hill48._tangent`);
the engine's implicit-function AD tangent (:meth:`Hill48.engine_tangent`) and
:meth:`~.returnmap.ReturnMappingMaterial.ad_update` are the second and third routes (tested equal).
"""

from __future__ import annotations

import math
from typing import Any, Literal, overload

import torch

from ..notation import components
from ..tensor import DEFAULT_DTYPE, Tensor, TensorLike, _is_functorch_wrapped, as_tensor
from .base import check_state_values
from .hardening import HardeningLaw, UserLaw, resolve_hardening, store_hardening
from .parameters import Parameter
from .plasticity import MANDEL_ORDER, mandel_to_tensor, mandel_to_tensor4, tensor_to_mandel
from .returnmap import ReturnMappingMaterial, State, mandel_identity

__all__ = [
    "Hill48",
    "hill_matrix",
    "euler_to_matrix",
    "mandel_rotation",
    "lankford_to_hill",
    "hill_to_yield_ratios",
    "yield_ratios_to_hill",
    "in_plane_phi",
    "in_plane_r_value",
    "HILL_NAMES",
]

#: The six Hill constants in the order of the signature.
HILL_NAMES = ("F", "G", "H", "L", "M", "N")


# --------------------------------------------------------------------------------------------------------------
# conversions (plain functions: the classmethods, the card writer and the calibration example share them)
# --------------------------------------------------------------------------------------------------------------
def hill_matrix(F: Tensor, G: Tensor, H: Tensor, L: Tensor, M: Tensor, N: Tensor) -> Tensor:
    r"""The Mandel matrix :math:`\mathbf M` ``(..., 6, 6)`` of :math:`\bar\sigma^2 = \boldsymbol\sigma^T\mathbf
    M\boldsymbol\sigma` in the material axes (:data:`~.plasticity.MANDEL_ORDER`, √2 on shear slots)::

        [[G+H, -H,  -G ], [-H, F+H, -F], [-G, -F, F+G]] ⊕ diag(L, M, N)

    (a Mandel shear component is √2 σ_ij, so :math:`2L\sigma_{23}^2 = L(\sqrt2\sigma_{23})^2`). Batched over
    the constants' common shape; differentiable in them.

    Parameters
    ----------
    F, G, H, L, M, N:
        Hill's constants (tensors of a common broadcast shape).
    """
    F, G, H, L, M, N = torch.broadcast_tensors(F, G, H, L, M, N)
    z = torch.zeros_like(F)
    # entries by index pair, placed in the slots of MANDEL_ORDER (one table, whatever that order is)
    normal = {(0, 0): G + H, (1, 1): F + H, (2, 2): F + G, (0, 1): -H, (1, 0): -H, (0, 2): -G, (2, 0): -G}
    normal.update({(1, 2): -F, (2, 1): -F})
    shear = {(1, 2): L, (0, 2): M, (0, 1): N}
    slots = components(MANDEL_ORDER)
    rows = []
    for a in slots:
        row = []
        for b in slots:
            if a[0] == a[1] and b[0] == b[1]:
                row.append(normal[(a[0], b[0])])
            elif a == b:
                row.append(shear[a])
            else:
                row.append(z)
        rows.append(row)
    return torch.stack([torch.stack(r, -1) for r in rows], -2)


def euler_to_matrix(angles: TensorLike, *, dtype: torch.dtype = DEFAULT_DTYPE) -> Tensor:
    r"""Bunge Euler angles ``(..., 3)`` = (φ1, Φ, φ2) in **degrees** -> orientation ``(..., 3, 3)`` whose rows are
    the material axes in global components: :math:`A = R_z(\varphi_2)R_x(\Phi)R_z(\varphi_1)` with the passive
    rotations :math:`R_z(t) = [[c, s, 0], [-s, c, 0], [0, 0, 1]]`, :math:`R_x(t) = [[1, 0, 0], [0, c, s],
    [0, -s, c]]`. ``(θ, 0, 0)``: axis 1 = (cos θ, sin θ, 0)."""
    a = as_tensor(angles, dtype=dtype)
    if a.shape[-1:] != (3,):
        raise ValueError(f"Euler angles must have shape (..., 3) (phi1, Phi, phi2 in degrees), got {tuple(a.shape)}")
    r = torch.deg2rad(a)
    c1, s1 = torch.cos(r[..., 0]), torch.sin(r[..., 0])
    c, s = torch.cos(r[..., 1]), torch.sin(r[..., 1])
    c2, s2 = torch.cos(r[..., 2]), torch.sin(r[..., 2])
    rows = [
        [c1 * c2 - s1 * s2 * c, s1 * c2 + c1 * s2 * c, s2 * s],
        [-c1 * s2 - s1 * c2 * c, -s1 * s2 + c1 * c2 * c, c2 * s],
        [s1 * s, -c1 * s, c],
    ]
    return torch.stack([torch.stack(row, -1) for row in rows], -2)


def mandel_rotation(A: Tensor) -> Tensor:
    r"""The orthogonal ``(..., 6, 6)`` Mandel matrix :math:`\mathbf Q` of :math:`\sigma \mapsto A\sigma A^T`
    (:math:`\boldsymbol\sigma' = \mathbf Q\boldsymbol\sigma`), built column by column from the Mandel basis."""
    basis = mandel_to_tensor(torch.eye(6, dtype=A.dtype, device=A.device))  # (6, 3, 3) orthonormal basis E_J
    At = A[..., None, :, :]
    cols = tensor_to_mandel(At @ basis @ At.transpose(-1, -2))  # (..., 6 [J], 6 [I])
    return cols.transpose(-1, -2)


def lankford_to_hill(
    r0: TensorLike, r45: TensorLike, r90: TensorLike, sigma0_direction: int | str = 0
) -> dict[str, Tensor]:
    r"""Hill constants F, G, H, N from the Lankford coefficients (plane stress in the sheet plane 1-2, 1 the rolling
    direction), in the normalisation where the uniaxial yield stress along ``sigma0_direction`` (0, 45 or 90
    degrees from the rolling direction) equals σ̄:

    .. math::
        G = \frac{1}{1+r_0},\quad H = \frac{r_0}{1+r_0},\quad F = \frac{r_0}{r_{90}(1+r_0)},\quad
        N = \frac{(r_0+r_{90})(1+2r_{45})}{2r_{90}(1+r_0)}

    (G + H = 1: the rolling direction is the reference; Hill 1948, e.g. Banabic, *Sheet Metal Forming Processes*,
    2010, chapter on yield criteria), then all divided by :math:`\varphi(\theta_0)`,
    :math:`\varphi(\theta) = F\sin^4\theta + G\cos^4\theta + H\cos^2 2\theta + \tfrac{N}{2}\sin^2 2\theta`
    (so that :math:`\varphi(\theta_0) = 1`).
    The inverse relations: :math:`r_0 = H/G`, :math:`r_{90} = H/F`, :math:`r_{45} = N/(F+G) - 1/2`.
    Returns ``{"F", "G", "H", "N"}`` (tensors) plus ``"scale"`` = :math:`1/\varphi(\theta_0)` (the factor the
    out-of-plane constants L, M of the rolling-direction normalisation take). ``ValueError`` for r ≤ 0."""
    r = [as_tensor(v, dtype=DEFAULT_DTYPE) if not isinstance(v, Tensor) else v for v in (r0, r45, r90)]
    for name, v in zip(("r0", "r45", "r90"), r):
        if not bool(torch.isfinite(v).all()) or bool((v <= 0).any()):
            raise ValueError(f"Lankford coefficient {name} must be finite and > 0, got {v.tolist()}")
    a, b, c = r
    G = 1.0 / (1.0 + a)
    H = a / (1.0 + a)
    F = a / (c * (1.0 + a))
    N = (a + c) * (1.0 + 2.0 * b) / (2.0 * c * (1.0 + a))
    theta = _direction_degrees(sigma0_direction)
    phi = in_plane_phi(F, G, H, N, theta)
    return {"F": F / phi, "G": G / phi, "H": H / phi, "N": N / phi, "scale": 1.0 / phi}


def _direction_degrees(direction: int | str | float) -> float:
    names = {"rd": 0.0, "rolling": 0.0, "dd": 45.0, "diagonal": 45.0, "td": 90.0, "transverse": 90.0}
    if isinstance(direction, str):
        if direction.lower() not in names:
            raise ValueError(f"sigma0_direction must be 0, 45, 90 or one of {sorted(names)}, got {direction!r}")
        return names[direction.lower()]
    if float(direction) not in (0.0, 45.0, 90.0):
        raise ValueError(f"sigma0_direction must be 0, 45 or 90 (degrees from the rolling direction), got {direction}")
    return float(direction)


def in_plane_phi(F: Any, G: Any, H: Any, N: Any, theta_deg: Any) -> Any:
    r""":math:`\varphi(\theta) = (\bar\sigma/\sigma)^2` for uniaxial stress σ at θ degrees from material axis 1 in
    the 1-2 plane: :math:`F s^4 + G c^4 + H(c^2 - s^2)^2 + 2N s^2c^2` (c = cos θ, s = sin θ); the uniaxial yield
    stress there is :math:`\sigma_f/\sqrt{\varphi(\theta)}`. Works on floats, arrays and tensors.

    Parameters
    ----------
    F, G, H, N:
        Hill's in-plane constants.
    theta_deg:
        Angle from material axis 1, in degrees.
    """
    t = theta_deg * math.pi / 180.0
    c, s = _cos(t), _sin(t)
    c2, s2 = c * c, s * s
    return F * s2 * s2 + G * c2 * c2 + H * (c2 - s2) ** 2 + 2.0 * N * s2 * c2


def in_plane_r_value(F: Any, G: Any, H: Any, N: Any, theta_deg: Any) -> Any:
    r"""Lankford coefficient :math:`r(\theta) = \dot\varepsilon^p_{ww}/\dot\varepsilon^p_{tt}` (width over
    thickness) of uniaxial stress at θ degrees from material axis 1 in the 1-2 plane:
    :math:`r = \dfrac{H + (2N - F - G - 4H)\sin^2\theta\cos^2\theta}{F\sin^2\theta + G\cos^2\theta}`.

    Parameters
    ----------
    F, G, H, N:
        Hill's in-plane constants.
    theta_deg:
        Angle from material axis 1, in degrees.
    """
    t = theta_deg * math.pi / 180.0
    c, s = _cos(t), _sin(t)
    sc2 = s * s * c * c
    return (H + (2.0 * N - F - G - 4.0 * H) * sc2) / (F * s * s + G * c * c)


def _cos(t: Any) -> Any:
    return torch.cos(t) if isinstance(t, Tensor) else (math.cos(t) if isinstance(t, (int, float)) else _np().cos(t))


def _sin(t: Any) -> Any:
    return torch.sin(t) if isinstance(t, Tensor) else (math.sin(t) if isinstance(t, (int, float)) else _np().sin(t))


def _np() -> Any:
    import numpy

    return numpy


def hill_to_yield_ratios(F: Any, G: Any, H: Any, L: Any, M: Any, N: Any) -> dict[str, Any]:
    r"""Abaqus ``*POTENTIAL`` yield-stress ratios (Abaqus Theory Guide, 'Stress potentials for anisotropic metal
    plasticity'): :math:`R_{ii} = \bar\sigma_{ii}/\sigma^0`, :math:`R_{ij} = \bar\sigma_{ij}/\tau^0`,
    :math:`\tau^0 = \sigma^0/\sqrt3`, with σ^0 the ``*PLASTIC`` flow stress (here σ_f):
    :math:`R_{11} = (G+H)^{-1/2}`, :math:`R_{22} = (F+H)^{-1/2}`, :math:`R_{33} = (F+G)^{-1/2}`,
    :math:`R_{12} = \sqrt{3/(2N)}`, :math:`R_{13} = \sqrt{3/(2M)}`, :math:`R_{23} = \sqrt{3/(2L)}`.

    Parameters
    ----------
    F, G, H, L, M, N:
        Hill's constants (floats, arrays or tensors); returns ``{"R11", "R22", "R33", "R12", "R13", "R23"}``.
    """
    sq = torch.sqrt if isinstance(F, Tensor) else _np().sqrt
    return {
        "R11": 1.0 / sq(G + H),
        "R22": 1.0 / sq(F + H),
        "R33": 1.0 / sq(F + G),
        "R12": sq(1.5 / N),
        "R13": sq(1.5 / M),
        "R23": sq(1.5 / L),
    }


def yield_ratios_to_hill(R11: Any, R22: Any, R33: Any, R12: Any, R13: Any, R23: Any) -> dict[str, Any]:
    r"""Hill constants from the Abaqus ``*POTENTIAL`` ratios (Abaqus Theory Guide, as above):
    :math:`F = \tfrac12(R_{22}^{-2} + R_{33}^{-2} - R_{11}^{-2})`, :math:`G = \tfrac12(R_{33}^{-2} + R_{11}^{-2} -
    R_{22}^{-2})`, :math:`H = \tfrac12(R_{11}^{-2} + R_{22}^{-2} - R_{33}^{-2})`, :math:`L = 3/(2R_{23}^2)`,
    :math:`M = 3/(2R_{13}^2)`, :math:`N = 3/(2R_{12}^2)`. ``ValueError`` for a ratio ≤ 0.

    Parameters
    ----------
    R11, R22, R33, R12, R13, R23:
        The yield-stress ratios (> 0; floats, arrays or tensors); returns ``{"F", "G", "H", "L", "M", "N"}``.
    """
    vals = {"R11": R11, "R22": R22, "R33": R33, "R12": R12, "R13": R13, "R23": R23}
    for name, v in vals.items():
        t = v if isinstance(v, Tensor) else as_tensor(v, dtype=DEFAULT_DTYPE)
        if not bool(torch.isfinite(t).all()) or bool((t <= 0).any()):
            raise ValueError(f"yield-stress ratio {name} must be finite and > 0, got {t.tolist()}")
    a, b, c = 1.0 / R11**2, 1.0 / R22**2, 1.0 / R33**2
    return {
        "F": 0.5 * (b + c - a),
        "G": 0.5 * (c + a - b),
        "H": 0.5 * (a + b - c),
        "L": 1.5 / R23**2,
        "M": 1.5 / R13**2,
        "N": 1.5 / R12**2,
    }


def _check_hill_constants(F: Tensor, G: Tensor, H: Tensor, L: Tensor, M: Tensor, N: Tensor) -> None:
    """Positive definiteness of σ̄² on deviatoric stresses: F+G, G+H, H+F > 0, FG+GH+HF > 0, L, M, N > 0."""
    if any(_is_functorch_wrapped(t) for t in (F, G, H)):  # inside torch.func transforms: no concrete values
        return
    checks = [
        (F + G, "F + G", "the yield stress along axis 3 would be infinite or imaginary"),
        (G + H, "G + H", "the yield stress along axis 1 would be infinite or imaginary"),
        (H + F, "H + F", "the yield stress along axis 2 would be infinite or imaginary"),
        (F * G + G * H + H * F, "F G + G H + H F", "the normal-stress block is not positive definite"),
    ]
    for value, name, why in checks:
        if bool((value.detach() <= 0).any()):
            raise ValueError(
                f"Hill48: {name} must be > 0, got {value.detach().tolist()} ({why}; F={F.tolist()}, G={G.tolist()}, "
                f"H={H.tolist()})"
            )


# --------------------------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------------------------
class Hill48(ReturnMappingMaterial):
    r"""Small-strain Hill (1948) orthotropic plasticity: isotropic elasticity, Hill's quadratic yield function in
    material axes, associated flow, any isotropic hardening law (see the module docstring for the conventions).

    Parameters
    ----------
    E, nu:
        Young's modulus (> 0) and Poisson's ratio (-1 < ν < 0.5).
    sigma_y:
        Initial flow stress σ_y > 0: the value of the Hill equivalent stress σ̄ at first yield (with the default
        von Mises constants the uniaxial yield stress; in general the uniaxial yield stress along material axis 1
        is :math:`\sigma_y/\sqrt{G+H}`). ``None`` with Swift hardening: σ_y = K ε0^n.
    F, G, H, L, M, N:
        Hill's constants (dimensionless; default 1/2, 1/2, 1/2, 3/2, 3/2, 3/2: von Mises). F + G, G + H, H + F,
        FG + GH + HF and L, M, N must be > 0 (positive-definite yield function on deviatoric stresses).
    H_iso:
        Linear isotropic hardening modulus ≥ 0 (adds H_iso α to the flow stress whatever the law).
    orientation:
        Material axes: ``None`` (the global axes), an orthonormal ``(3, 3)`` matrix whose rows are the material
        axes in global components, or ``(*B, 3, 3)``, one per point (broadcast with the strain's batch shape).
    euler:
        Instead of ``orientation``: Bunge Euler angles ``(3,)`` or ``(*B, 3)`` in degrees (:func:`euler_to_matrix`;
        stored as the matrix ``orientation``).
    hardening:
        As :class:`~.plasticity.J2Plasticity`'s: ``None``/``"linear"``/``Linear``, ``Voce``/``"voce"``,
        ``Swift``/``"swift"``, a registered law or a callable ``R(alpha)``.
    Q, b, K, eps0, n, **law_parameters:
        Parameters of a law given by name (Voce ``Q``, ``b``; Swift ``K``, ``eps0``, ``n``; ...).
    tol, max_iter:
        Local Newton: converged when :math:`|r| \le \text{tol}\cdot\bar\sigma^{trial}` (default 1e-11 in float64,
        1e-5 in float32); at most ``max_iter`` Newton updates (then :class:`ConvergenceError`).
    dtype, device:
        Floating-point dtype (default float64) and device (default CPU).
    """

    isotropic = False
    E = Parameter("Young's modulus", unit="stress", lower=0.0, lower_open=True)
    nu = Parameter("Poisson's ratio", unit="1", lower=-1.0, upper=0.5, lower_open=True, upper_open=True)
    sigma_y = Parameter("initial flow stress (Hill equivalent stress)", unit="stress", lower=0.0, lower_open=True)
    F = Parameter("Hill constant F (weights (s22 - s33)^2)", unit="1", default=0.5)
    G = Parameter("Hill constant G (weights (s33 - s11)^2)", unit="1", default=0.5)
    H = Parameter("Hill constant H (weights (s11 - s22)^2)", unit="1", default=0.5)
    L = Parameter("Hill constant L (weights 2 s23^2)", unit="1", lower=0.0, lower_open=True, default=1.5)
    M = Parameter("Hill constant M (weights 2 s31^2)", unit="1", lower=0.0, lower_open=True, default=1.5)
    N = Parameter("Hill constant N (weights 2 s12^2)", unit="1", lower=0.0, lower_open=True, default=1.5)
    H_iso = Parameter("linear isotropic hardening modulus", unit="stress", lower=0.0, default=0.0)
    orientation = Parameter(
        "material axes (rows: unit vectors in global components; identity by default)", unit="1", shape=None
    )
    hardening: str
    tol: float
    max_iter: int

    def __init__(
        self,
        E: TensorLike,
        nu: TensorLike,
        sigma_y: TensorLike | None = None,
        F: TensorLike = 0.5,
        G: TensorLike = 0.5,
        H: TensorLike = 0.5,
        L: TensorLike = 1.5,
        M: TensorLike = 1.5,
        N: TensorLike = 1.5,
        H_iso: TensorLike = 0.0,
        *,
        orientation: TensorLike | None = None,
        euler: TensorLike | None = None,
        hardening: Any = None,
        Q: TensorLike | None = None,
        b: TensorLike | None = None,
        K: TensorLike | None = None,
        eps0: TensorLike | None = None,
        n: TensorLike | None = None,
        tol: float | None = None,
        max_iter: int = 50,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
        **law_parameters: TensorLike,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        self._param("E", E)
        self._param("nu", nu)
        flat = {k: v for k, v in (("Q", Q), ("b", b), ("K", K), ("eps0", eps0), ("n", n)) if v is not None}
        law, H_iso, sigma_y = resolve_hardening(
            hardening, {**flat, **law_parameters}, H_iso, sigma_y, dtype=self.dtype, device=self.device,
            linear_name="H_iso",
        )  # fmt: skip
        self._param("sigma_y", sigma_y)
        consts = [self._param(k, v) for k, v in zip(HILL_NAMES, (F, G, H, L, M, N))]
        _check_hill_constants(*consts)
        self._param("H_iso", H_iso)
        if euler is not None:
            if orientation is not None:
                raise ValueError("give the material axes once: either orientation=... (matrix) or euler=... (angles)")
            orientation = euler_to_matrix(euler, dtype=self.dtype).to(self.device)
        self._param("orientation", self._orientation_matrix(orientation))
        store_hardening(self, law)
        self.law: HardeningLaw = law
        self._solver_options(tol, max_iter)

    def _orientation_matrix(self, orientation: TensorLike | None) -> Tensor:
        if orientation is None:
            return torch.eye(3, dtype=self.dtype, device=self.device)
        A = orientation if isinstance(orientation, Tensor) else as_tensor(orientation, dtype=self.dtype)
        A = A.to(dtype=self.dtype, device=self.device)
        if A.ndim < 2 or A.shape[-2:] != (3, 3):
            raise ValueError(
                "parameter 'orientation' must be a (3, 3) matrix (rows = material axes) or (*B, 3, 3), one per point "
                f"(Euler angles go to euler=...); got shape {tuple(A.shape)}"
            )
        if not bool(torch.isfinite(A.detach()).all()):
            raise ValueError("parameter 'orientation' must be finite")
        Ad = A.detach()
        err = float((Ad @ Ad.transpose(-1, -2) - torch.eye(3, dtype=A.dtype, device=A.device)).abs().max())
        if err > (1e-6 if A.dtype == torch.float64 else 1e-4):
            raise ValueError(
                f"parameter 'orientation' must be orthonormal (rows = material axes), but max|A A^T - I| = "
                f"{err:.3e}; normalise the axes or give Euler angles"
            )
        return A

    # ------------------------------------------------------------------------------------- alternative inputs
    @classmethod
    def from_lankford(
        cls,
        r0: TensorLike,
        r45: TensorLike,
        r90: TensorLike,
        *,
        E: TensorLike,
        nu: TensorLike,
        sigma_y: TensorLike | None = None,
        sigma0_direction: int | str = 0,
        L: TensorLike | None = None,
        M: TensorLike | None = None,
        **kwargs: Any,
    ) -> Hill48:
        r"""Hill48 from the Lankford coefficients r0, r45, r90 of a sheet (axes: 1 rolling, 2 transverse,
        3 normal), with ``sigma_y`` the uniaxial yield stress along ``sigma0_direction`` (0, 45 or 90 degrees from
        the rolling direction, or ``"rd"``/``"dd"``/``"td"``).

        Plane-stress formulas (:func:`lankford_to_hill`): in the rolling-direction normalisation G + H = 1,
        :math:`G = 1/(1+r_0)`, :math:`H = r_0/(1+r_0)`, :math:`F = r_0/(r_{90}(1+r_0))`,
        :math:`N = (r_0+r_{90})(1+2r_{45})/(2r_{90}(1+r_0))`, then all divided by :math:`\varphi(\theta_0)` so that
        σ̄ equals the uniaxial stress along θ0. Sheet tests do not determine L and M: by default they take the
        isotropic value 3/2 in the rolling-direction normalisation (scaled likewise). Other keywords go to the
        constructor (hardening law, orientation, ...).

        Parameters
        ----------
        r0, r45, r90:
            Lankford coefficients (> 0).
        E, nu, sigma_y:
            Elastic constants and the reference yield stress (see above).
        sigma0_direction:
            Direction of the reference uniaxial yield stress (default 0: rolling).
        L, M:
            Out-of-plane shear constants (default 3/2 · scale).
        **kwargs:
            Further constructor arguments.
        """
        c = lankford_to_hill(r0, r45, r90, sigma0_direction)
        scale = c.pop("scale")
        Lv = 1.5 * scale if L is None else L
        Mv = 1.5 * scale if M is None else M
        return cls(E, nu, sigma_y, c["F"], c["G"], c["H"], Lv, Mv, c["N"], **kwargs)

    @classmethod
    def from_yield_ratios(
        cls,
        R11: TensorLike,
        R22: TensorLike,
        R33: TensorLike,
        R12: TensorLike,
        R13: TensorLike,
        R23: TensorLike,
        *,
        E: TensorLike,
        nu: TensorLike,
        sigma_y: TensorLike | None = None,
        **kwargs: Any,
    ) -> Hill48:
        r"""Hill48 from Abaqus's ``*POTENTIAL`` yield-stress ratios (:func:`yield_ratios_to_hill`), with
        ``sigma_y`` the ``*PLASTIC`` reference σ^0. Other keywords go to the constructor.

        Parameters
        ----------
        R11, R22, R33, R12, R13, R23:
            Yield-stress ratios (> 0): :math:`R_{ii} = \bar\sigma_{ii}/\sigma^0`,
            :math:`R_{ij} = \sqrt3\,\bar\tau_{ij}/\sigma^0`.
        E, nu, sigma_y:
            Elastic constants and the reference yield stress σ^0.
        **kwargs:
            Further constructor arguments.
        """
        c = yield_ratios_to_hill(
            *[v if isinstance(v, Tensor) else as_tensor(v, dtype=DEFAULT_DTYPE) for v in (R11, R22, R33, R12, R13, R23)]
        )
        return cls(E, nu, sigma_y, c["F"], c["G"], c["H"], c["L"], c["M"], c["N"], **kwargs)

    def yield_ratios(self) -> dict[str, Tensor]:
        """Abaqus ``*POTENTIAL`` ratios R11, R22, R33, R12, R13, R23 of this model (:func:`hill_to_yield_ratios`)."""
        return hill_to_yield_ratios(*(self._params[k] for k in HILL_NAMES))

    def uniaxial_yield_stress(self, theta: TensorLike) -> Tensor:
        r"""Initial uniaxial yield stress at θ degrees from material axis 1 in the 1-2 plane:
        :math:`\sigma_y/\sqrt{\varphi(\theta)}` (:func:`in_plane_phi`)."""
        t = as_tensor(theta, dtype=self.dtype)
        p = self._params
        return self.sigma_y / torch.sqrt(in_plane_phi(p["F"], p["G"], p["H"], p["N"], t))

    def r_value(self, theta: TensorLike) -> Tensor:
        """Lankford coefficient at θ degrees from material axis 1 in the 1-2 plane (:func:`in_plane_r_value`)."""
        t = as_tensor(theta, dtype=self.dtype)
        p = self._params
        return in_plane_r_value(p["F"], p["G"], p["H"], p["N"], t)

    # ------------------------------------------------------------------------------------------------ basics
    def moduli(self) -> tuple[Tensor, Tensor]:
        """Bulk and shear moduli ``(K, G)`` (0-d tensors)."""
        return self.E / (3.0 * (1.0 - 2.0 * self.nu)), self.E / (2.0 * (1.0 + self.nu))

    def hill_matrix(self, frame: Literal["material", "global"] = "global") -> Tensor:
        r"""The Mandel matrix :math:`\mathbf M` ``(6, 6)`` (or ``(*B, 6, 6)`` with per-point orientations) in the
        material axes or rotated to the global frame, :math:`\mathbf M_g = \mathbf Q^T\mathbf M\mathbf Q`."""
        Mm = hill_matrix(*(self._params[k] for k in HILL_NAMES))
        if frame == "material":
            return Mm
        Q = mandel_rotation(self.orientation)
        return Q.transpose(-1, -2) @ Mm @ Q

    def equivalent_stress(self, stress: TensorLike) -> Tensor:
        """Hill equivalent stress σ̄ ``(...)`` of a global-frame stress ``(..., 3, 3)``."""
        s = tensor_to_mandel(as_tensor(stress, dtype=self.dtype))
        Mg = self.hill_matrix()
        return torch.sqrt(torch.clamp_min((s[..., None, :] @ Mg @ s[..., :, None])[..., 0, 0], 0.0))

    @overload
    def flow_stress(self, alpha: Tensor, slope: Literal[True] = True) -> tuple[Tensor, Tensor]: ...
    @overload
    def flow_stress(self, alpha: Tensor, slope: bool) -> tuple[Tensor, Tensor | None]: ...
    def flow_stress(self, alpha: Tensor, slope: bool = True) -> tuple[Tensor, Tensor | None]:
        r"""Flow stress :math:`\sigma_f = \sigma_y + H_{iso}\alpha + R(\alpha)` and its slope (``None`` if not
        asked), elementwise on ``alpha`` ``(...)``."""
        sf = self.sigma_y + self.H_iso * alpha
        d = self.H_iso.expand_as(alpha) if slope else None
        if not self.law.linear:
            if d is not None:
                R, dR = self.law.flow_stress(alpha)
                sf, d = sf + R, d + dR
            else:
                sf = sf + self.law.value(alpha)
        return sf, d

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """``eps_p`` ``(*B, 3, 3)`` plastic strain (global components), ``alpha`` ``(*B)`` equivalent plastic
        strain (virgin state: zero)."""
        return {"eps_p": (3, 3), "alpha": ()}

    def with_parameters(self, **changes: TensorLike) -> Hill48:
        kwargs: dict[str, Any] = {**self._params, **self._options, **changes}
        if isinstance(self.law, UserLaw) and kwargs.get("hardening") == "user":
            kwargs["hardening"] = self.law.fn
        return type(self)(**kwargs, dtype=self.dtype, device=self.device)

    # ----------------------------------------------------------------------------------------- the return map
    # Hooks of the shared engine (constitutive.models.returnmap): pointwise functions of the Mandel strain
    # eps (n, 6) and the flattened state; "_Q" (n, 6, 6), the Mandel rotation to the material axes, travels with the
    # points as an internal state entry (so a per-point orientation is dropped and gathered with them).
    def _prepare(self, strain: TensorLike, state: State) -> tuple[Tensor, dict[str, Tensor], torch.Size]:
        """The engine's preparation, with the orientation's batch shape broadcast in and ``_Q`` added."""
        eps_t = self.check_strain(strain).to(dtype=self.dtype, device=self.device)
        ob = self.orientation.shape[:-2]
        try:
            batch = torch.broadcast_shapes(eps_t.shape[:-2], ob)
        except RuntimeError:
            raise ValueError(
                f"the per-point orientation of batch shape {tuple(ob)} does not broadcast with the strain batch "
                f"shape {tuple(eps_t.shape[:-2])}"
            ) from None
        st, batch = self.check_state(state, batch)
        self._check_state_values(st)
        n = math.prod(batch)
        tails = self.state_shapes()
        flat = {k: v.reshape(n, *tails[k]) for k, v in st.items()}
        flat["_Q"] = mandel_rotation(self.orientation).expand(*batch, 6, 6).reshape(n, 6, 6)
        eps = tensor_to_mandel(eps_t.expand(*batch, 3, 3).reshape(n, 3, 3))
        return eps, flat, batch

    def _finish(
        self, sigma: Tensor, new_state: dict[str, Tensor], C: Tensor | None, batch: torch.Size
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        # the engine's _finish less "_Q", with tuple shapes: reshape(*(), *()) fails for an unbatched scalar entry
        tails = self.state_shapes()
        out_state = {k: v.reshape((*batch, *tails[k])) for k, v in new_state.items() if k != "_Q"}
        stress = mandel_to_tensor(sigma).reshape(*batch, 3, 3)
        return stress, out_state, None if C is None else mandel_to_tensor4(C).reshape(*batch, 3, 3, 3, 3)

    def _check_state_values(self, state: State) -> None:
        check_state_values(
            (state["alpha"], "state['alpha'] (equivalent plastic strain)", "nonnegative"),
            (state["eps_p"], "state['eps_p'] (plastic strain)", "deviatoric"),
        )

    def _hill(self) -> tuple[Tensor, ...]:
        return tuple(self._params[k] for k in HILL_NAMES)

    def _elastic_stress(self, eps: Tensor, state: State) -> Tensor:
        """σ = 2G(ε − εᵖ) + λ tr(ε) m (Mandel, global frame; εᵖ is traceless)."""
        Kb, G = self.moduli()
        m = mandel_identity(eps)
        return (
            2.0 * G * (eps - tensor_to_mandel(state["eps_p"]))
            + ((Kb - 2.0 * G / 3.0) * eps[:, :3].sum(-1))[:, None] * m
        )

    def _elastic_tangent(self, eps: Tensor, state: State) -> Tensor:
        Kb, G = self.moduli()
        m = mandel_identity(eps)
        return 2.0 * G * torch.eye(6, dtype=eps.dtype, device=eps.device) + (Kb - 2.0 * G / 3.0) * (m[:, None] * m)

    def _trial_material(self, eps: Tensor, state: State) -> Tensor:
        """σ^trial in the material axes, σ' = Q σ ``(n, 6)``."""
        return (state["_Q"] @ self._elastic_stress(eps, state)[:, :, None])[:, :, 0]

    def _trial_yield(self, eps: Tensor, state: State) -> Tensor:
        s = self._trial_material(eps, state)
        sbar = torch.sqrt(torch.clamp_min((s * _apply_hill(self._hill(), s)).sum(-1), 0.0))
        return sbar - self.flow_stress(state["alpha"], slope=False)[0]

    def _material_solution(self, x: Tensor, eps: Tensor, state: State) -> tuple[Tensor, Tensor, Tensor]:
        """σ'(x) = (I + x M)⁻¹ σ'^trial, M σ' and σ̄ at the unknown x = 2GΔγ ``(n, 1)``."""
        hill = self._hill()
        sig = _solve_hill(hill, x[:, 0], self._trial_material(eps, state))
        Ms = _apply_hill(hill, sig)
        return sig, Ms, torch.sqrt(torch.clamp_min((sig * Ms).sum(-1), 0.0))

    def _residual(self, x: Tensor, eps: Tensor, state: State) -> Tensor:
        r"""r(x) = σ̄(σ(x)) − σ_f(α_n + x σ̄/(2G)) ``(n, 1)``."""
        _, G = self.moduli()
        _, _, sbar = self._material_solution(x, eps, state)
        sf, _ = self.flow_stress(state["alpha"] + x[:, 0] * sbar / (2.0 * G), slope=False)
        return (sbar - sf)[:, None]

    def _residual_scale(self, eps: Tensor, state: State) -> Tensor:
        """|r| ≤ tol · σ̄^trial."""
        s = self._trial_material(eps, state)
        return torch.sqrt((s * _apply_hill(self._hill(), s)).sum(-1))[:, None]

    def _clip(self, x: Tensor, eps: Tensor, state: State) -> Tensor:
        return x.clamp_min(0.0)  # Δγ ≥ 0 (and I + xM stays invertible)

    def _plastic_stress(self, x: Tensor, eps: Tensor, state: State) -> Tensor:
        sig, _, _ = self._material_solution(x, eps, state)
        return (state["_Q"].transpose(-1, -2) @ sig[:, :, None])[:, :, 0]

    def _plastic_state(self, x: Tensor, eps: Tensor, state: State) -> dict[str, Tensor]:
        _, G = self.moduli()
        _, Ms, sbar = self._material_solution(x, eps, state)
        dgamma = x[:, 0] / (2.0 * G)  # Δγ = Δλ/σ̄: Δεᵖ = Δγ M σ, Δα = Δλ = Δγ σ̄
        dep = (state["_Q"].transpose(-1, -2) @ (dgamma[:, None] * Ms)[:, :, None])[:, :, 0]
        return {"eps_p": state["eps_p"] + mandel_to_tensor(dep), "alpha": state["alpha"] + dgamma * sbar}

    # ------------------------------------------------------------------------------------ consistent tangent
    def _tangent(
        self, eps: Tensor, state: dict[str, Tensor], idx: Tensor, e_p: Tensor, s_p: dict[str, Tensor], x_star: Tensor
    ) -> Tensor:
        r"""The consistent tangent in closed form (the engine's hook; its implicit-function AD tangent,
        :meth:`engine_tangent`, is the same to round-off and 2-3 times dearer). In the material axes, with
        :math:`\mathbf A = \mathbf I + x\mathbf M`, :math:`\mathbf n = \mathbf M\boldsymbol\sigma/\bar\sigma`,
        :math:`c_1 = 1 - \sigma_f' x/(2G)`,

        .. math::
            \mathbf C' = \mathbf A^{-1}\mathbf C^e - \frac{2G\bar\sigma c_1}{D}(\mathbf A^{-1}\mathbf n)
            (\mathbf A^{-1}\mathbf n)^T, \qquad
            D = c_1\bar\sigma\,\mathbf n^T\mathbf A^{-1}\mathbf n + \sigma_f'\bar\sigma/(2G),

        from :math:`d\boldsymbol\sigma = \mathbf A^{-1}(\mathbf C^e d\boldsymbol\varepsilon - \bar\sigma\mathbf n\,dx)`
        and :math:`dr = 0`; :math:`\mathbf A^{-1}\mathbf C^e = 2G\mathbf A^{-1} + \lambda\, m m^T` (M m = 0, λ the
        Lamé constant); then :math:`\mathbf C = \mathbf Q^T\mathbf C'\mathbf Q` (elastic points: :math:`\mathbf C^e`).
        """
        with torch.no_grad():
            C = self._elastic_tangent(eps, state).expand(eps.shape[0], 6, 6)
            if idx.numel() == 0:
                return C
            Kb, G = self.moduli()
            hill, x = self._hill(), x_star[:, 0]
            _, Ms, sbar = self._material_solution(x_star, e_p, s_p)
            nvec = Ms / sbar[:, None]
            Ain = _solve_hill(hill, x, nvec)
            _, dsf = self.flow_stress(s_p["alpha"] + x * sbar / (2.0 * G))
            c1 = 1.0 - dsf * x / (2.0 * G)
            D = c1 * sbar * (nvec * Ain).sum(-1) + dsf * sbar / (2.0 * G)
            m = mandel_identity(eps)
            Cp = 2.0 * G * _inverse_hill(hill, x) + (Kb - 2.0 * G / 3.0) * (m[:, None] * m)
            Cp = Cp - (2.0 * G * sbar * c1 / D)[:, None, None] * (Ain[:, :, None] * Ain[:, None, :])
            Q = s_p["_Q"]
            return C.index_copy(0, idx, Q.transpose(-1, -2) @ Cp @ Q)

    def engine_tangent(self, strain: TensorLike, state: State) -> Tensor:
        """The consistent tangent ``(..., 3, 3, 3, 3)`` of the step by the engine's
        :func:`~constitutive.models.returnmap.implicit_tangent` (AD of the residual and the stress; a second route to
        the closed form of :meth:`_tangent`, for the tests)."""
        eps, st, batch = self._prepare(strain, state)
        idx, e_p, s_p, x_star = self._solve_plastic(eps, st, batch)
        C = super()._tangent(eps, st, idx, e_p, s_p, x_star)
        return mandel_to_tensor4(C).reshape(*batch, 3, 3, 3, 3)


def _apply_hill(hill: tuple[Tensor, ...], v: Tensor) -> Tensor:
    """M v for material-axes Mandel vectors ``v`` ``(..., 6)`` (:func:`hill_matrix`, written out)."""
    F, G, H, L, M, N = hill
    a, b, c = v[..., 0], v[..., 1], v[..., 2]
    return torch.stack(
        (G * (a - c) + H * (a - b), F * (b - c) + H * (b - a), F * (c - b) + G * (c - a), L * v[..., 3],
         M * v[..., 4], N * v[..., 5]), -1,
    )  # fmt: skip


def _inverse_hill(hill: tuple[Tensor, ...], x: Tensor) -> Tensor:
    """(I + x M)⁻¹ ``(..., 6, 6)`` in the material axes: the symmetric 3×3 normal block by its adjugate, the shear
    slots 1/(1 + x L), 1/(1 + x M), 1/(1 + x N). det ≥ 1 for x ≥ 0 (M is positive semi-definite)."""
    F, G, H, L, M, N = hill
    b11, b22, b33 = 1.0 + x * (G + H), 1.0 + x * (F + H), 1.0 + x * (F + G)
    b12, b13, b23 = -x * H, -x * G, -x * F
    c11, c22, c33 = b22 * b33 - b23 * b23, b11 * b33 - b13 * b13, b11 * b22 - b12 * b12
    c12, c13, c23 = b13 * b23 - b12 * b33, b12 * b23 - b13 * b22, b12 * b13 - b11 * b23
    det = b11 * c11 + b12 * c12 + b13 * c13
    z = torch.zeros_like(x)
    d4, d5, d6 = 1.0 / (1.0 + x * L), 1.0 / (1.0 + x * M), 1.0 / (1.0 + x * N)
    rows = [
        [c11 / det, c12 / det, c13 / det, z, z, z],
        [c12 / det, c22 / det, c23 / det, z, z, z],
        [c13 / det, c23 / det, c33 / det, z, z, z],
        [z, z, z, d4 + z, z, z],
        [z, z, z, z, d5 + z, z],
        [z, z, z, z, z, d6 + z],
    ]
    return torch.stack([torch.stack(r, -1) for r in rows], -2)


def _solve_hill(hill: tuple[Tensor, ...], x: Tensor, v: Tensor) -> Tensor:
    """(I + x M)⁻¹ v for material-axes Mandel vectors ``v`` ``(..., 6)`` and ``x`` ``(...)``, elementwise (the
    adjugate of the normal block applied to the vector; no 6×6 matrix is formed: this runs inside the AD Jacobian of
    every Newton iteration)."""
    F, G, H, L, M, N = hill
    b11, b22, b33 = 1.0 + x * (G + H), 1.0 + x * (F + H), 1.0 + x * (F + G)
    b12, b13, b23 = -x * H, -x * G, -x * F
    c11, c22, c33 = b22 * b33 - b23 * b23, b11 * b33 - b13 * b13, b11 * b22 - b12 * b12
    c12, c13, c23 = b13 * b23 - b12 * b33, b12 * b23 - b13 * b22, b12 * b13 - b11 * b23
    det = b11 * c11 + b12 * c12 + b13 * c13
    v1, v2, v3 = v[..., 0], v[..., 1], v[..., 2]
    return torch.stack(
        ((c11 * v1 + c12 * v2 + c13 * v3) / det, (c12 * v1 + c22 * v2 + c23 * v3) / det,
         (c13 * v1 + c23 * v2 + c33 * v3) / det, v[..., 3] / (1.0 + x * L), v[..., 4] / (1.0 + x * M),
         v[..., 5] / (1.0 + x * N)), -1,
    )  # fmt: skip
