r"""Drucker stability of isotropic hyperelastic models, and the stability penalty of :func:`calibrate`.

**Criterion** (Drucker stability as Abaqus states it for hyperelastic materials): a state is stable when every
infinitesimal change of the logarithmic strain :math:`\varepsilon = \ln V` does positive work on the change of the
Kirchhoff stress :math:`\tau = J\sigma` it causes,

.. math::
    \mathrm d\tau : \mathrm d\varepsilon > 0 \quad\text{for every } \mathrm d\varepsilon \ne 0,
    \qquad\text{i.e.}\quad \mathbb D = \frac{\partial\tau}{\partial\varepsilon} \text{ positive definite on Sym.}

For an isotropic energy :math:`\psi` written in the principal log strains :math:`\varepsilon_a = \ln\lambda_a`,
:math:`\tau_a = \partial\psi/\partial\varepsilon_a` and :math:`\mathbb D` splits, in the principal frame, into the
principal block :math:`D_{ab} = \partial\tau_a/\partial\varepsilon_b = \partial^2\psi/\partial\varepsilon_a
\partial\varepsilon_b` (the 3×3 matrix Abaqus tests) and three shear moduli
:math:`G_{ab} = (\tau_a - \tau_b)/(\varepsilon_a - \varepsilon_b)` (limit :math:`\tfrac12(D_{aa} + D_{bb}) -
D_{ab}` at :math:`\lambda_a = \lambda_b`); :math:`\mathbb D` is positive definite iff the principal block is and
every :math:`G_{ab} > 0`. Its eigenvalues on Sym (Frobenius inner product, Mandel form) are exactly the eigenvalues
of :math:`D` and the three :math:`G_{ab}`: :func:`drucker_moduli` returns them, :func:`drucker_margin` their minimum
(stress units; :math:`2\mu_0` in the undeformed state).

**Incompressible models** (no bulk modulus): the pressure is not a function of the strain and
:math:`\mathrm d\varepsilon` is traceless, so only the restriction of :math:`D` to the deviatoric plane
:math:`\sum_a \mathrm d\varepsilon_a = 0` counts (the pressure increment does no work on a traceless
:math:`\mathrm d\varepsilon`). It is tested as the 2×2 matrix :math:`Q^T D Q`, :math:`Q` an orthonormal basis of
that plane; this is Abaqus's 2×2 condition (:math:`\mathrm d\tau_3 = 0`, :math:`\mathrm d\varepsilon_3 =
-\mathrm d\varepsilon_1 - \mathrm d\varepsilon_2`) written in an orthonormal basis. The shear moduli are unaffected
by a pressure. Incompressible states must have :math:`\det F = 1`.

**Models with a bulk modulus** (nearly incompressible, :math:`\psi = \psi_{iso}(\bar\lambda) + U(J)`): the full
:math:`3\times 3` block is tested, volumetric term included. In the isochoric test modes (:math:`J = 1`) it equals
:math:`D_{iso} + U''(1)\,\mathbf 1\mathbf 1^T = D_{iso} + K\,\mathbf 1\mathbf 1^T` with :math:`D_{iso}\mathbf 1 =
0`, so for ``K > 0`` it is positive definite iff the incompressible criterion holds: nearly incompressible and
incompressible versions of a model have the same limits there. The volumetric mode (:math:`\lambda_a = \lambda`,
:math:`J = \lambda^3`) tests :math:`U` as well (:math:`\partial^2 U/\partial(\ln J)^2 = J^2U'' + JU' > 0`; the
quadratic :math:`U = \tfrac K2(J-1)^2` fails below :math:`J = 1/2`). Models without a split (the ciarlet
Neo-Hookean, Saint Venant--Kirchhoff) are tested with their whole energy.

**Test deformations** (:func:`stability`), as in Abaqus's material evaluation: uniaxial :math:`(\lambda,
\lambda^{-1/2}, \lambda^{-1/2})`, equibiaxial :math:`(\lambda, \lambda, \lambda^{-2})`, planar :math:`(\lambda, 1,
\lambda^{-1})`, each in tension (:math:`\lambda > 1`) and compression (:math:`\lambda < 1`), and volumetric
:math:`(\lambda, \lambda, \lambda)` for compressible models. For each, the report gives the first stretch, going
out from :math:`\lambda = 1`, at which stability is lost (or "stable on the range tested").

Routes: :math:`D` and :math:`\tau_a` come from the model's energy hook :math:`\psi(c)` (``_psi_principal``)
differentiated twice in :math:`\varepsilon` by ``torch.func`` (exact, batched, differentiable in the parameters);
:func:`logarithmic_tangent` assembles the fourth-order :math:`\mathbb D` in the global frame with
:func:`constitutive.tensor.spectral_derivative`. The tests check both against finite differences of the model's
Kirchhoff stress :math:`\tau(\exp\varepsilon)`, against the principal block of the model's Abaqus (Jaumann) tangent
:math:`J\,\mathbb C^{\tau J}` (equal to :math:`D`; its shear entries are :math:`G_{ab}` times the positive factor
:math:`\tfrac{(r+1)\ln r}{2(r-1)}`, :math:`r = \lambda_a^2/\lambda_b^2`) and against closed forms.

**Stable fits** (:class:`StabilityPenalty`, ``calibrate(..., stable_range=(lmin, lmax))``): a penalty, not a
hard constraint (scipy's least squares takes bounds only). For each test mode and direction one residual
:math:`w\,s\,\tfrac1n\sum_k\max(0,\ \delta - m_k/2\mu_0(\theta))` over the Drucker moduli :math:`m_k` at
:math:`n` log-spaced stretches of the range (target :math:`\delta = 10^{-3}`: small, since a stable model's moduli
can be small at extreme stretches, e.g. :math:`\lambda^2` of :math:`2\mu_0` for Neo-Hookean in equibiaxial
compression; weight :math:`w` = 100; :math:`s` the norm of the data residuals of the zero model, so the penalty is
in the units of the fit's error measure). Stable states cost nothing; the fit's report gives the limits found by
:func:`stability` on a finer grid, and ``calibrate`` warns when they show an instability on the range.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..kinematics import check_deformation_gradient
from ..models.base import Material
from ..models.hyperelastic import HyperelasticMaterial, incompressible_stretches
from ..tensor import Tensor, TensorLike, as_tensor, eigh_sym, spectral_derivative

__all__ = [
    "STABILITY_MODES",
    "DEFAULT_STABLE_RANGE",
    "mode_stretches",
    "principal_drucker_moduli",
    "logarithmic_tangent",
    "drucker_moduli",
    "drucker_margin",
    "drucker_stable",
    "stability",
    "StabilityReport",
    "StabilityPenalty",
    "attach_stability_penalty",
]

#: The test deformations of :func:`stability` (``"planar"`` is pure shear / planar tension).
STABILITY_MODES: tuple[str, ...] = ("uniaxial", "equibiaxial", "planar", "volumetric")
#: Stretch range of :func:`stability` when none is given.
DEFAULT_STABLE_RANGE: tuple[float, float] = (0.1, 10.0)

# Orthonormal basis (columns) of the deviatoric plane sum(d eps_a) = 0 of principal log-strain increments.
_DEVIATORIC_BASIS = (
    (1.0 / math.sqrt(2.0), 1.0 / math.sqrt(6.0)),
    (-1.0 / math.sqrt(2.0), 1.0 / math.sqrt(6.0)),
    (0.0, -2.0 / math.sqrt(6.0)),
)
_PAIRS = ((0, 1), (1, 2), (0, 2))


def _require_hyperelastic(model: Any) -> HyperelasticMaterial:
    if not isinstance(model, HyperelasticMaterial):
        raise ValueError(
            "Drucker stability is defined here for isotropic hyperelastic models (HyperelasticMaterial), got "
            f"{type(model).__name__}"
        )
    return model


def mode_stretches(stretch: TensorLike, mode: str) -> Tensor:
    r"""Principal stretches ``(..., 3)`` of a test deformation for stretches ``(...)``: ``"uniaxial"``
    :math:`(\lambda, \lambda^{-1/2}, \lambda^{-1/2})`, ``"equibiaxial"`` :math:`(\lambda, \lambda, \lambda^{-2})`,
    ``"planar"`` :math:`(\lambda, 1, \lambda^{-1})` (all :math:`J = 1`), ``"volumetric"`` :math:`(\lambda, \lambda,
    \lambda)`."""
    lam = stretch if isinstance(stretch, Tensor) else as_tensor(stretch)
    if mode == "volumetric":
        return torch.stack([lam, lam, lam], -1)
    if mode not in STABILITY_MODES:
        raise ValueError(f"unknown stability test mode {mode!r}; choose one of {STABILITY_MODES}")
    return incompressible_stretches(lam, "pure_shear" if mode == "planar" else mode)[0]


def _principal_response(model: HyperelasticMaterial, eps: Tensor) -> tuple[Tensor, Tensor]:
    r""":math:`\tau_a = \partial\psi/\partial\varepsilon_a` ``(..., 3)`` and :math:`D_{ab} =
    \partial^2\psi/\partial\varepsilon_a\partial\varepsilon_b` ``(..., 3, 3)`` at principal log strains ``eps``,
    NaN where the energy is not finite (outside the model's domain; no exception). For an incompressible model
    :math:`\tau_a` is the pressure-free part.

    Reverse-mode autograd on the batch (points are independent, so the gradient of the summed energy is the
    pointwise gradient): one backward pass for :math:`\tau`, three for :math:`D`; ten times cheaper per call than
    ``torch.func`` transforms, which matters inside a fit. Differentiable in the parameters (and ``eps``) when
    gradients are enabled."""
    # keep a graph only where someone can differentiate: enabled, and the strains or a parameter require grad
    params = [v for v in model._params.values() if isinstance(v, Tensor)]
    outer = torch.is_grad_enabled() and (eps.requires_grad or any(v.requires_grad for v in params))
    with torch.enable_grad():
        e = eps if eps.requires_grad else eps.detach().requires_grad_()
        psi = model._psi_principal(torch.exp(2.0 * e))
        (tau,) = torch.autograd.grad(psi.sum(), e, create_graph=True)
        rows = [torch.autograd.grad(tau[..., k].sum(), e, create_graph=outer, retain_graph=True)[0] for k in range(3)]
    D = torch.stack(rows, -2)
    if not outer:
        tau, D, psi = tau.detach(), D.detach(), psi.detach()
    # outside the domain (Gent beyond locking) the energy is NaN while its derivatives may look finite
    out = ~torch.isfinite(psi)
    if bool(out.any()):
        tau = torch.where(out[..., None], torch.full_like(tau, math.nan), tau)
        D = torch.where(out[..., None, None], torch.full_like(D, math.nan), D)
    return tau, D


def _moduli(tau: Tensor, D: Tensor, eps: Tensor, incompressible: bool) -> Tensor:
    """The Drucker moduli ``(..., 5 | 6)``: eigenvalues of the principal block (deviatoric 2×2 when incompressible,
    ascending), then the shear moduli G_12, G_23, G_13."""
    if incompressible:
        Q = torch.tensor(_DEVIATORIC_BASIS, dtype=D.dtype, device=D.device)
        block = Q.transpose(0, 1) @ D @ Q
    else:
        block = D
    # NaN (outside the model's domain) would make LAPACK fail: evaluate those as identity, restore NaN after.
    bad = ~torch.isfinite(block).all(-1).all(-1)
    eye = torch.eye(block.shape[-1], dtype=D.dtype, device=D.device)
    eig = torch.linalg.eigvalsh(torch.where(bad[..., None, None], eye, block))
    eig = torch.where(bad[..., None], torch.full_like(eig, math.nan), eig)
    # shear moduli (tau_a - tau_b)/(eps_a - eps_b); the limit at coincident stretches, second-order accurate
    tol = float(torch.finfo(eps.dtype).eps) ** (1.0 / 3.0)
    shear = []
    for a, b in _PAIRS:
        gap = eps[..., a] - eps[..., b]
        close = gap.abs() <= tol
        safe = torch.where(close, torch.ones_like(gap), gap)  # no 0/0 (nor NaN gradients) where not used
        limit = 0.5 * (D[..., a, a] + D[..., b, b]) - D[..., a, b]
        shear.append(torch.where(close, limit, (tau[..., a] - tau[..., b]) / safe))
    return torch.cat([eig, torch.stack(shear, -1)], -1)


def principal_drucker_moduli(model: Material, stretches: TensorLike) -> Tensor:
    r"""Drucker moduli ``(..., 5)`` (incompressible) or ``(..., 6)`` at principal stretches ``(..., 3)``: the
    eigenvalues (ascending) of the principal block :math:`D_{ab} = \partial\tau_a/\partial\ln\lambda_b` (its
    deviatoric 2×2 restriction for an incompressible model), then the shear moduli :math:`G_{12}, G_{23}, G_{13}`
    (module docstring). Stable iff all are positive. ``ValueError`` for non-positive stretches, for an
    incompressible model at :math:`\lambda_1\lambda_2\lambda_3 \ne 1`, and for states outside the model's domain."""
    model = _require_hyperelastic(model)
    lam = stretches if isinstance(stretches, Tensor) else as_tensor(stretches, model.dtype, model.device)
    if lam.shape[-1:] != (3,) or not bool(torch.isfinite(lam).all()) or bool((lam <= 0).any()):
        raise ValueError(
            f"stretches must be finite positive principal stretches (..., 3), got shape {tuple(lam.shape)}"
        )
    eps = torch.log(lam.to(model.dtype))
    incompressible = not model.compressible
    if incompressible:
        _check_isochoric(eps.sum(-1))
    model._check_principal(lam.to(model.dtype) ** 2)
    tau, D = _principal_response(model, eps)
    return _moduli(tau, D, eps, incompressible)


def _check_isochoric(lnJ: Tensor) -> None:
    worst = float(lnJ.detach().abs().max()) if lnJ.numel() else 0.0
    if worst > 1e-6:
        raise ValueError(
            f"an incompressible model has only isochoric states: det F must be 1 (|ln J| <= 1e-6), got |ln J| = "
            f"{worst:.3g}; give the model a bulk modulus K to test compressible states"
        )


def _spectral(model: HyperelasticMaterial, F: TensorLike) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``eps`` (principal log strains, ascending), ``Q`` (eigenvectors of b = F F^T), ``tau_a``, ``D_ab`` at F."""
    F_t = check_deformation_gradient(F if isinstance(F, Tensor) else as_tensor(F, model.dtype, model.device))
    b = F_t @ F_t.transpose(-1, -2)
    c, Q = eigh_sym(0.5 * (b + b.transpose(-1, -2)))
    eps = 0.5 * torch.log(c)
    if not model.compressible:
        _check_isochoric(eps.sum(-1))
    model._check_principal(c)
    tau, D = _principal_response(model, eps)
    return eps, Q, tau, D


def logarithmic_tangent(model: Material, F: TensorLike) -> tuple[Tensor, Tensor]:
    r"""Kirchhoff stress :math:`\tau` ``(..., 3, 3)`` and its tangent :math:`\mathbb D = \partial\tau/\partial
    \varepsilon` ``(..., 3, 3, 3, 3)`` with respect to the logarithmic (Hencky) strain :math:`\varepsilon = \ln V`,
    :math:`V^2 = b = FF^T`, at deformation gradients ``F`` ``(..., 3, 3)``.

    Minor- and major-symmetric. :math:`\mathbb D = \sum_{ab} D_{ab}\, n_a\otimes n_a\otimes n_b\otimes n_b +
    \sum_{a\ne b} G_{ab}\, \mathrm{sym}(n_a\otimes n_b)\otimes\mathrm{sym}(n_a\otimes n_b)` (:math:`n_a` the
    eigenvectors of :math:`b`) by :func:`constitutive.tensor.spectral_derivative`, exact at repeated stretches. For
    an incompressible model :math:`\tau` is the pressure-free part :math:`\sum_a (\partial\psi/\partial
    \varepsilon_a)\, n_a\otimes n_a` and only :math:`\mathbb D` on traceless increments has a meaning."""
    model = _require_hyperelastic(model)
    eps, Q, tau_a, D = _spectral(model, F)
    tau = (Q * tau_a[..., None, :]) @ Q.transpose(-1, -2)
    return tau, spectral_derivative(eps, Q, tau_a, D)


def drucker_moduli(model: Material, F: TensorLike) -> Tensor:
    r"""The Drucker moduli ``(..., 5 | 6)`` at deformation gradients ``F`` ``(..., 3, 3)`` (see
    :func:`principal_drucker_moduli`; they are the eigenvalues of :math:`\mathbb D` on Sym, restricted to traceless
    increments for an incompressible model)."""
    model = _require_hyperelastic(model)
    eps, _, tau, D = _spectral(model, F)
    return _moduli(tau, D, eps, not model.compressible)


def drucker_margin(model: Material, F: TensorLike) -> Tensor:
    r"""The smallest Drucker modulus ``(...)`` at ``F`` ``(..., 3, 3)`` (stress units; :math:`2\mu_0` at
    :math:`F = I`): the minimum of :math:`\mathrm d\tau:\mathrm d\varepsilon` over unit increments
    :math:`\|\mathrm d\varepsilon\| = 1` (traceless ones for an incompressible model)."""
    return drucker_moduli(model, F).amin(-1)


def drucker_stable(model: Material, F: TensorLike) -> Tensor:
    r"""Whether the states ``F`` ``(..., 3, 3)`` are Drucker stable, ``(...)`` bool: :math:`\mathbb D =
    \partial\tau/\partial\ln V` positive definite (on traceless increments for an incompressible model).
    ``ValueError`` for :math:`\det F \le 0`, an incompressible model at :math:`\det F \ne 1`, or a state outside
    the model's domain (Gent beyond its locking stretch)."""
    return drucker_margin(model, F) > 0


# --------------------------------------------------------------------------------------------------------------
# The scan over the test deformations (Abaqus's material evaluation)
# --------------------------------------------------------------------------------------------------------------


def _check_range(stretches: Sequence[float], what: str = "stretches") -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in stretches)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a pair (lambda_min, lambda_max), got {stretches!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 < lo < 1.0 < hi):
        raise ValueError(f"{what} must satisfy 0 < lambda_min < 1 < lambda_max (finite), got ({lo}, {hi})")
    return lo, hi


def _modes_for(model: HyperelasticMaterial, modes: Sequence[str]) -> list[str]:
    if isinstance(modes, str):
        modes = [modes]
    bad = [m for m in modes if m not in STABILITY_MODES]
    if bad or not modes:
        raise ValueError(f"modes must be a non-empty list of {STABILITY_MODES}, got {list(modes)}")
    return [m for m in dict.fromkeys(modes) if m != "volumetric" or model.compressible]


def _mode_log_strains(modes: Sequence[str], lam: Tensor) -> Tensor:
    """Principal log strains ``(len(modes), n, 3)`` of the test modes at stretches ``lam`` ``(len(modes), n)``."""
    return torch.log(torch.stack([mode_stretches(lam[k], m) for k, m in enumerate(modes)]))


def _normalised(model: HyperelasticMaterial, eps: Tensor) -> Tensor:
    """Drucker moduli / (2 mu0) ``(..., 5 | 6)`` at principal log strains ``eps`` ``(..., 3)``; NaN outside the
    model's domain."""
    tau, D = _principal_response(model, eps)
    return _moduli(tau, D, eps, not model.compressible) / (2.0 * model.initial_shear_modulus)


def _normalised_moduli(model: HyperelasticMaterial, modes: Sequence[str], lam: Tensor) -> Tensor:
    """Drucker moduli / (2 mu0), ``(len(modes), n, 5 | 6)`` at stretches ``lam`` ``(len(modes), n)``."""
    return _normalised(model, _mode_log_strains(modes, lam))


def _first_loss(model: HyperelasticMaterial, modes: list[str], grid: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """For each mode (rows of ``grid``, stretches going out from 1): the normalised margin along the grid, the
    index of the first unstable or out-of-domain point (``n`` if none) and whether that point is out of domain."""
    with torch.no_grad():
        m = _normalised_moduli(model, modes, grid).amin(-1)
    bad = ~(m > 0)  # NaN counts: the domain ends there
    n = grid.shape[-1]
    first = torch.where(bad.any(-1), bad.to(torch.int64).argmax(-1), torch.full((len(modes),), n))
    idx = first.clamp(max=n - 1)
    domain = ~torch.isfinite(m.gather(-1, idx[:, None])[:, 0]) & (first < n)
    return m, first, domain


def _refine(model: HyperelasticMaterial, modes: list[str], lo: Tensor, hi: Tensor, domain: Tensor) -> Tensor:
    """Refine the transition between ``lo`` (stable) and ``hi`` (not) per mode, in log stretch: the sign change of
    the margin, or (``domain``) the end of the finite values. Four rounds of 64 subintervals (bracket / 1.7e7),
    then linear interpolation of the margin across the last bracket (a margin is smooth: error ~ bracket^2)."""
    a, b = torch.log(lo), torch.log(hi)
    t = torch.linspace(0.0, 1.0, 65, dtype=a.dtype, device=a.device)
    with torch.no_grad():
        for _ in range(4):
            x = a[:, None] + (b - a)[:, None] * t  # (modes, 65)
            m = _normalised_moduli(model, modes, torch.exp(x)).amin(-1)
            ok = torch.where(domain[:, None], torch.isfinite(m), m > 0)
            ok[:, 0] = True
            k = torch.where(~ok, torch.arange(65, device=a.device), 65).amin(-1).clamp(1, 64)  # first bad point
            a, b = x.gather(-1, (k - 1)[:, None])[:, 0], x.gather(-1, k[:, None])[:, 0]
        ma = _normalised_moduli(model, modes, torch.exp(a)[:, None]).amin(-1)[:, 0]
        mb = _normalised_moduli(model, modes, torch.exp(b)[:, None]).amin(-1)[:, 0]
    w = torch.where(domain | ~torch.isfinite(mb) | (ma == mb), torch.full_like(ma, 0.5), ma / (ma - mb))
    return torch.exp(a + w.clamp(0.0, 1.0) * (b - a))


@dataclass
class StabilityReport:
    r"""What :func:`stability` found for one model.

    ``limits[mode][direction]`` (direction ``"tension"`` or ``"compression"``): the first stretch, going out from
    :math:`\lambda = 1`, at which Drucker stability is lost, ``None`` when stable on the range tested;
    ``domain_limits`` likewise where the model's domain ends first (Gent's locking stretch: no state beyond, so not
    an instability); ``curves[mode]``: ``(stretches, margin)`` arrays across the whole range, the smallest Drucker
    modulus over :math:`2\mu_0` (1 at :math:`\lambda = 1`, NaN outside the domain). Nominal strain = stretch − 1.
    """

    model_name: str
    stretch_range: tuple[float, float]
    incompressible: bool
    modes: list[str]
    limits: dict[str, dict[str, float | None]]
    domain_limits: dict[str, dict[str, float | None]] = field(default_factory=dict)
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def stable(self) -> bool:
        """Stable in every mode and direction over the range tested."""
        return all(v is None for d in self.limits.values() for v in d.values())

    def unstable(self) -> list[tuple[str, str, float]]:
        """``(mode, direction, stretch)`` of every loss of stability."""
        return [(m, d, v) for m, dd in self.limits.items() for d, v in dd.items() if v is not None]

    def _cell(self, mode: str, direction: str) -> str:
        lo, hi = self.stretch_range
        v = self.limits[mode][direction]
        if v is not None:
            rel = ">" if direction == "tension" else "<"
            return f"unstable at λ {rel} {v:.4g} (nominal strain {v - 1.0:+.4g})"
        end = self.domain_limits.get(mode, {}).get(direction)
        if end is not None:
            return f"stable up to the end of the model's domain, λ = {end:.4g}"
        return f"stable to λ = {hi if direction == 'tension' else lo:.4g}"

    def table(self) -> str:
        """Markdown table: mode, tension, compression."""
        rows = ["| mode | tension | compression |", "|---|---|---|"]
        rows += [f"| {m} | {self._cell(m, 'tension')} | {self._cell(m, 'compression')} |" for m in self.modes]
        return "\n".join(rows)

    def summary(self) -> str:
        """One line: stable on the range, or every loss of stability."""
        lo, hi = self.stretch_range
        ends = [f"{m} {d} λ = {v:.4g}" for m, dd in self.domain_limits.items() for d, v in dd.items() if v is not None]
        domain = f"; the model's domain ends at {', '.join(ends)}" if ends else ""
        if self.stable:
            return f"Drucker stable for {lo:g} <= λ <= {hi:g} in every mode tested{domain}"
        parts = [f"{m} {d} at λ = {v:.4g}" for m, d, v in self.unstable()]
        return "Drucker UNSTABLE: " + "; ".join(parts) + f" (range tested {lo:g} <= λ <= {hi:g}){domain}"

    def __str__(self) -> str:
        lo, hi = self.stretch_range
        kind = "incompressible" if self.incompressible else "compressible"
        head = f"Drucker stability of {self.model_name} ({kind}), stretches {lo:g} to {hi:g}"
        return head + "\n\n" + self.table()

    def plot(
        self, path: str | Path | None = None, *, ax: Any = None, title: str | None = None, overwrite: bool = False
    ) -> Any:
        """The normalised Drucker margin against stretch (log axis), one line per mode, limits marked; written to
        ``path`` when given (atomically; over an existing file only with ``overwrite=True``). Returns the figure."""
        import matplotlib

        from ..fileio import atomic_path, check_writable

        if path is not None:
            check_writable(path, overwrite=overwrite)
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig = None
        if ax is None:
            fig, ax = plt.subplots(figsize=(5.5, 3.8))
        for m in self.modes:
            x, y = self.curves[m]
            (line,) = ax.plot(x, y, "-", lw=1.3, label=m)
            for v in self.limits[m].values():
                if v is not None:
                    ax.axvline(v, color=line.get_color(), ls=":", lw=1.0)
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("stretch λ")
        ax.set_ylabel("min Drucker modulus / 2μ0")
        ax.set_title(title or self.model_name, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        if fig is not None:
            fig.tight_layout()
            if path is not None:
                try:
                    with atomic_path(path, overwrite=overwrite) as tmp:
                        fig.savefig(tmp, dpi=120)
                finally:
                    plt.close(fig)
        return fig if fig is not None else ax.figure


def stability(
    model: Material,
    *,
    stretches: Sequence[float] = DEFAULT_STABLE_RANGE,
    modes: Sequence[str] = STABILITY_MODES,
    points: int = 200,
    name: str | None = None,
) -> StabilityReport:
    r"""Drucker stability of ``model`` along the test deformations, as Abaqus's material evaluation reports it.

    Parameters
    ----------
    model:
        An isotropic hyperelastic model (:class:`~constitutive.models.hyperelastic.HyperelasticMaterial`),
        incompressible or with a bulk modulus.
    stretches:
        The range ``(lambda_min, lambda_max)``, ``0 < lambda_min < 1 < lambda_max`` (default (0.1, 10)).
    modes:
        Subset of :data:`STABILITY_MODES`; ``"volumetric"`` is skipped for an incompressible model.
    points:
        Grid points per mode and direction, log-spaced from λ = 1 (default 200); the first unstable grid point is
        refined by bisection to round-off. A loss and regain of stability between two grid points is missed.
    name:
        The model's name in the report (default: its class name).

    Returns a :class:`StabilityReport` (``str(report)`` is a table, ``report.plot()`` a figure).
    """
    model = _require_hyperelastic(model)
    lo, hi = _check_range(stretches)
    if isinstance(points, bool) or int(points) != points or points < 2:
        raise ValueError(f"points must be an integer >= 2, got {points!r}")
    use = _modes_for(model, modes)
    dtype, device = model.dtype, model.device
    limits: dict[str, dict[str, float | None]] = {m: {} for m in use}
    domain_limits: dict[str, dict[str, float | None]] = {m: {} for m in use}
    margins = {}
    for direction, end in (("tension", hi), ("compression", lo)):
        line = torch.exp(torch.linspace(0.0, math.log(end), int(points) + 1, dtype=dtype, device=device)[1:])
        grid = line.expand(len(use), -1)
        m, first, domain = _first_loss(model, use, grid)
        margins[direction] = (line, m)
        found = first < grid.shape[-1]
        if bool(found.any()):
            ones = torch.ones(len(use), dtype=dtype, device=device)
            prev = torch.where(first > 0, grid.gather(-1, (first - 1).clamp(min=0)[:, None])[:, 0], ones)
            at = grid.gather(-1, first.clamp(max=grid.shape[-1] - 1)[:, None])[:, 0]
            refined = _refine(model, use, prev, at, domain)
        for k, mode in enumerate(use):
            value = float(refined[k]) if bool(found[k]) else None
            limits[mode][direction] = None if bool(domain[k]) else value
            domain_limits[mode][direction] = value if bool(domain[k]) else None
    curves = {}
    for k, mode in enumerate(use):
        (lt, mt), (lc, mc) = margins["tension"], margins["compression"]
        x = torch.cat([lc.flip(0), torch.ones(1, dtype=dtype, device=device), lt])
        y = torch.cat([mc[k].flip(0), torch.ones(1, dtype=dtype, device=device), mt[k]])
        curves[mode] = (x.cpu().numpy(), y.cpu().numpy())
    return StabilityReport(
        model_name=name or type(model).__name__,
        stretch_range=(lo, hi),
        incompressible=not model.compressible,
        modes=use,
        limits=limits,
        domain_limits=domain_limits,
        curves=curves,
    )


# --------------------------------------------------------------------------------------------------------------
# The penalty of calibrate(..., stable_range=...)
# --------------------------------------------------------------------------------------------------------------


class StabilityPenalty:
    r"""Penalty residuals that make a fit Drucker stable over a stretch range (module docstring).

    For the Drucker moduli :math:`m_k` of every test mode at ``points`` log-spaced stretches per direction
    (tension and compression) of ``stable_range``, normalised by :math:`2\mu_0(\theta)`, one residual per mode and
    direction, :math:`r = w\,s\,[\tfrac1n\sum_k \max(0, \delta - m_k/2\mu_0) + \sum\max(0, \delta -
    m^*/2\mu_0)]` (:math:`n` = ``points``: a mean violation along the stretch axis; :math:`m^*` the moduli at the
    stretch of the smallest one on a 200-point grid, :meth:`worst_stretches`, so that no instability hides between
    the points): zero where the model is stable with margin :math:`\delta`, growing linearly with the violation,
    so the cost :math:`\tfrac12 r^2` is continuously differentiable. Few rows keep the fit's
    Jacobian (one backward pass per row) cheap. States outside the model's domain (Gent beyond locking) add
    nothing.

    Parameters
    ----------
    stable_range:
        ``(lambda_min, lambda_max)``, ``0 < lambda_min < 1 < lambda_max``.
    scale:
        :math:`s`, the size of the data residuals (``calibrate`` passes the norm of the scaled data).
    points:
        Stretches per mode and direction (default 30).
    target:
        :math:`\delta`, the normalised margin asked for (default 0.001).
    weight:
        :math:`w` (default 100).
    """

    def __init__(
        self,
        stable_range: Sequence[float],
        *,
        scale: float = 1.0,
        points: int = 30,
        target: float = 1e-3,
        weight: float = 100.0,
    ) -> None:
        self.stable_range = _check_range(stable_range, "stable_range")
        for label, v in (("scale", scale), ("target", target), ("weight", weight)):
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"stability penalty: {label} must be a positive finite number, got {v!r}")
        if isinstance(points, bool) or int(points) != points or points < 2:
            raise ValueError(f"stability penalty: points must be an integer >= 2, got {points!r}")
        self.scale, self.points, self.target, self.weight = float(scale), int(points), float(target), float(weight)

    def _grid(self, model: HyperelasticMaterial) -> tuple[list[str], Tensor]:
        """The modes and their stretches ``(modes, 2, points)``: compression (from 1 down), tension (from 1 up)."""
        lo, hi = self.stable_range
        n = self.points
        dtype, device = model.dtype, model.device
        down = torch.exp(torch.linspace(0.0, math.log(lo), n + 1, dtype=dtype, device=device)[1:])
        up = torch.exp(torch.linspace(0.0, math.log(hi), n + 1, dtype=dtype, device=device)[1:])
        modes = _modes_for(model, STABILITY_MODES)
        return modes, torch.stack([down, up]).expand(len(modes), 2, n)

    def size(self, model: Material) -> int:
        """The number of penalty residuals for ``model`` (two per test mode)."""
        return 2 * len(self._grid(_require_hyperelastic(model))[0])

    def moduli(self, model: Material) -> Tensor:
        """The normalised Drucker moduli on the grid, ``(modes, 2, points, 5 | 6)`` (NaN outside the domain)."""
        model = _require_hyperelastic(model)
        modes, grid = self._grid(model)
        return _normalised_moduli(model, modes, grid.reshape(len(modes), -1)).reshape(*grid.shape, -1)

    def worst_stretches(self, model: Material, fine: int = 200) -> Tensor:
        """Per mode and direction, the stretch ``(modes, 2)`` of the smallest Drucker modulus over ``fine``
        log-spaced stretches of the range, refined by the parabola through its neighbours (no gradient: the
        derivative of a minimum is the derivative at its minimiser)."""
        model = _require_hyperelastic(model)
        modes, _ = self._grid(model)
        lo, hi = self.stable_range
        dtype, device = model.dtype, model.device
        t = torch.stack(
            [
                torch.linspace(0.0, math.log(lo), fine + 1, dtype=dtype, device=device)[1:],
                torch.linspace(0.0, math.log(hi), fine + 1, dtype=dtype, device=device)[1:],
            ]
        )
        x = t.expand(len(modes), 2, fine)
        with torch.no_grad():
            m = _normalised_moduli(model, modes, torch.exp(x).reshape(len(modes), -1)).amin(-1).reshape(x.shape)
        m = torch.where(torch.isfinite(m), m, torch.full_like(m, math.inf))
        k = m.argmin(-1).clamp(1, fine - 2)[..., None]
        xa, xb = x.gather(-1, k - 1), x.gather(-1, k)
        ma, mb, mc = m.gather(-1, k - 1), m.gather(-1, k), m.gather(-1, k + 1)
        h = xb - xa
        curv = ma - 2.0 * mb + mc
        step = torch.where(torch.isfinite(curv) & (curv > 0), 0.5 * h * (ma - mc) / curv, torch.zeros_like(h))
        return torch.exp((xb + step.clamp(-h.abs(), h.abs()))[..., 0])

    def residuals(self, model: Material) -> Tensor:
        """The penalty residuals ``(size,)``, differentiable in the model's parameters: per mode and direction the
        mean violation on the grid plus the violation at :meth:`worst_stretches` (so no instability hides between
        grid points)."""
        model = _require_hyperelastic(model)
        modes, grid = self._grid(model)
        lam = torch.cat([grid, self.worst_stretches(model)[..., None]], -1)  # (modes, 2, points + 1)
        flat = lam.reshape(len(modes), -1)
        eps = _mode_log_strains(modes, flat).reshape(-1, 3)
        with torch.no_grad():
            inside = torch.isfinite(_normalised(model, eps)).all(-1)
        # NaN must not enter the graph (0 * NaN gradients): only states inside the domain are evaluated with it
        m = _normalised(model, eps[inside])
        full = torch.zeros(eps.shape[0], m.shape[-1], dtype=m.dtype, device=m.device)
        full = full.index_put((inside.nonzero()[:, 0],), m).reshape(*lam.shape, -1)
        v = torch.relu(self.target - full)
        r = v[..., :-1, :].sum((-1, -2)) / self.points + v[..., -1, :].sum(-1)  # (modes, 2)
        return self.weight * self.scale * r.reshape(-1)

    def violated(self, model: Material) -> bool:
        """Whether a Drucker modulus on the grid is not positive."""
        with torch.no_grad():
            m = self.moduli(model)
        return bool((m[torch.isfinite(m)] <= 0).any())


def attach_stability_penalty(problem: Any, stable_range: Sequence[float], x0: np.ndarray) -> StabilityPenalty:
    """Give a fit's least-squares problem (``calibrate``'s ``_Problem``) the penalty rows of ``stable_range``:
    sets ``problem.stability`` and counts its rows in ``problem.m`` (``problem.m_data`` keeps the data rows).
    ``ValueError`` for a model that is not hyperelastic or a bad range."""
    penalty_range = _check_range(stable_range, "stable_range")
    with torch.no_grad():
        try:
            model = problem.build(torch.tensor(x0, dtype=problem.dtype))
        except ValueError as err:
            raise ValueError(f"{problem.model_name} rejects the initial parameters: {err}") from err
    if not isinstance(model, HyperelasticMaterial):
        raise ValueError(
            f"stable_range applies to isotropic hyperelastic models (Drucker stability), got {type(model).__name__}"
        )
    # the penalty's unit: the norm of the scaled data, i.e. of the residuals of a zero response
    scale = float(torch.sqrt(sum(((y * s) ** 2).sum() for y, s in zip(problem.targets, problem.scales))))
    penalty = StabilityPenalty(penalty_range, scale=scale if scale > 0 else 1.0)
    problem.stability = penalty
    problem.m = problem.m_data + penalty.size(model)
    return penalty
