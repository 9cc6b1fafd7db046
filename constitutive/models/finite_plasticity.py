r"""Finite-strain J2 (von Mises) plasticity: multiplicative split, Hencky elasticity, exponential-map return.

Kinematics and conventions (``docs/path-dependent.md``, "Finite-strain J2"; measures as
:mod:`constitutive.kinematics`):

* multiplicative split :math:`F = F^e F^p`; the state carries the inverse plastic right Cauchy--Green tensor
  :math:`C^{p,-1} = F^{p,-1} F^{p,-T}` (key ``"Cp_inv"``, symmetric positive definite, :math:`I` in the virgin
  state) and the equivalent plastic strain :math:`\alpha` (key ``"alpha"``); :math:`F^p` itself is never needed:
  the elastic left Cauchy--Green tensor is :math:`b^e = F C^{p,-1} F^T`.
* elasticity: Hencky (logarithmic) strain :math:`\varepsilon^e = \tfrac12 \ln b^e` and the Kirchhoff stress
  :math:`\tau = K \operatorname{tr}\varepsilon^e\, I + 2G \operatorname{dev}\varepsilon^e` (quadratic energy in the
  logarithmic strain), Cauchy :math:`\sigma = \tau/J`, :math:`P = \tau F^{-T}`.
* plasticity: :math:`f = \sqrt{3/2}\,\|\operatorname{dev}\tau\| - \sigma_f(\alpha)` (von Mises in the Kirchhoff
  stress), isotropic hardening :math:`\sigma_f = \sigma_y + H\alpha + R(\alpha)` with any law of
  :mod:`constitutive.models.hardening`; associative flow in the Lie derivative of :math:`b^e`.
* integration (Simo 1992; Eterovic--Bathe 1990): trial :math:`b^e_{tr} = F C^{p,-1}_n F^T`, spectral
  decomposition :math:`b^e_{tr} = \sum_a b_a\, n_a\otimes n_a`, principal trial log strains
  :math:`\varepsilon_a = \tfrac12 \ln b_a`, then the small-strain radial return on the principal values (exactly
  J2Plasticity's, in :math:`(\varepsilon_a, \tau_a)`): :math:`\Delta\alpha` from
  :math:`\sqrt{3/2}\|s^{tr}\| - 3G\Delta\alpha - \sigma_f(\alpha_n + \Delta\alpha) = 0`,
  :math:`\varepsilon^e_a = \varepsilon_a - \sqrt{3/2}\,\Delta\alpha\, \hat n_a`; the exponential map
  :math:`b^e = \sum_a \exp(2\varepsilon^e_a)\, n_a\otimes n_a` keeps :math:`\det b^e = \det b^e_{tr}` exactly
  (the plastic increment is traceless), so :math:`\det C^{p,-1}` (:math:`= 1/\det C^p = 1/(\det F^p)^2`) never
  changes: plastic incompressibility to round-off. :math:`C^{p,-1}_{n+1} = F^{-1} b^e F^{-T}`.

Tangents, closed form (no perturbation, exact at repeated eigenvalues):

* principal algorithmic moduli :math:`c_{ab} = \partial\tau_a/\partial\varepsilon_b = K\,1\otimes 1 + 2G\beta\,
  (I - \tfrac13 1\otimes 1) - 6G^2(1/(3G + \sigma_f') - \Delta\alpha/q^{tr})\,\hat n\otimes\hat n`,
  :math:`\beta = 1 - 3G\Delta\alpha/q^{tr}` (elastic: :math:`\beta = 1`, no last term);
* :math:`\mathbb{D} = \partial\tau/\partial b^e_{tr}` from :func:`constitutive.tensor.spectral_derivative` with
  :math:`\partial\tau_a/\partial b_b = c_{ab}/(2 b_b)` (Daleckii--Krein divided differences, and their exact limit
  where two eigenvalues of :math:`b^e_{tr}` coincide: no eigenvector derivative is ever taken);
* :math:`\partial\tau_{ij}/\partial F_{kL} = 2\,\mathbb{D}_{ijkn} (F C^{p,-1}_n)_{nL}`, then
  :math:`\mathbb{A}_{iJkL} = \partial P_{iJ}/\partial F_{kL} = (\partial\tau_{ij}/\partial F_{kL}) F^{-1}_{Jj}
  - \tau_{ij} F^{-1}_{Jk} F^{-1}_{Lj}`;
* the Abaqus (NLGEOM UMAT) tangent :math:`\mathbb{C}^{\tau J}` from :math:`\mathbb{A}` by the conversions the
  hyperelastic models use: :math:`\partial S/\partial E` pulled out of :math:`\mathbb{A}` (inverse of
  :func:`~constitutive.kinematics.material_to_first_elasticity`), then
  :func:`~constitutive.kinematics.push_forward_tangent` and
  :func:`~constitutive.kinematics.spatial_to_jaumann_tangent`. (Equal to Simo's
  :math:`\tfrac2J \operatorname{sym}_{kl}(\mathbb{D}_{ijkn} b^e_{tr,nl})`, the second route of the tests.)

Interfaces (those of a finite-strain :class:`constitutive.umat.UMAT`, :mod:`constitutive.contracts`
``FiniteHistoryModel`` and ``FirstPiolaModel``): ``update(F, state, dt=None) -> (σ, new_state, C^τJ)`` (the NLGEOM
UMAT contract), ``first_piola_update(F, state, dt=None) -> (P, new_state, A)`` (total-Lagrangian codes and the
driver's finite-strain paths, which carry the state along), and from the virgin state ``first_piola``,
``first_elasticity``, ``cauchy``, ``kirchhoff``, ``abaqus_tangent``, ``cauchy_and_abaqus_tangent``; ``stress(F)``
and ``tangent(F)`` are σ and :math:`\mathbb{C}^{\tau J}` of one step from the virgin state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from ..kinematics import check_deformation_gradient, push_forward_tangent, spatial_to_jaumann_tangent
from ..tensor import (
    DEFAULT_DTYPE,
    Tensor,
    TensorLike,
    as_tensor,
    eigh_sym,
    eye,
    inv,
    spectral_derivative,
    sym,
)
from ..tensor import _is_functorch_wrapped as _wrapped
from .base import ConvergenceError, PathDependentMaterial, check_state_values
from .hardening import HardeningLaw, UserLaw, resolve_hardening, store_hardening
from .parameters import Parameter

__all__ = ["FiniteStrainJ2", "first_elasticity_to_material"]

SQ32 = math.sqrt(1.5)


def first_elasticity_to_material(A: Tensor, S: Tensor, F: Tensor) -> Tensor:
    r"""Inverse of :func:`constitutive.kinematics.material_to_first_elasticity`: the material tangent
    :math:`\mathbb{C}_{IJKL} = F^{-1}_{Ii} (\mathbb{A}_{iJkL} - \delta_{ik} S_{LJ}) F^{-1}_{Kk}` (minor-symmetrised
    in ``KL``), ``(..., 3, 3, 3, 3)`` from ``A`` ``(..., 3, 3, 3, 3)``, ``S`` and ``F`` ``(..., 3, 3)``.

    Valid for any objective model (``S`` a function of :math:`C`), path-dependent ones included, where
    :math:`\mathrm{d}P = \mathrm{d}F\, S + F\, \mathbb{C} : \operatorname{sym}(F^T \mathrm{d}F)`."""
    I = eye(F.dtype, F.device)
    geo = I[:, None, :, None] * S.transpose(-1, -2)[..., None, :, None, :]
    Fi = inv(F)
    CC = torch.einsum("...Ii,...iJkL,...Kk->...IJLK", Fi, A - geo, Fi)
    return 0.5 * (CC + CC.transpose(-1, -2))


class FiniteStrainJ2(PathDependentMaterial):
    r"""Finite-strain von Mises plasticity (multiplicative split, Hencky elasticity, exponential-map return).

    See the module docstring for the kinematics, the return map and the tangents.

    Parameters
    ----------
    E, nu:
        Young's modulus (> 0) and Poisson's ratio (-1 < ν < 0.5) of the Hencky elasticity
        (:math:`K = E/(3(1-2\nu))`, :math:`G = E/(2(1+\nu))`).
    sigma_y:
        Initial yield stress σ_y > 0 (von Mises equivalent of the Kirchhoff stress); may be ``None`` with Swift
        hardening (then σ_y = K ε0^n).
    H:
        Linear isotropic hardening modulus ≥ 0.
    hardening:
        Any isotropic law of :class:`~constitutive.models.J2Plasticity`: ``None``/``"linear"``, ``"voce"``
        (``Q``, ``b``), ``"swift"`` (``K``, ``eps0``, ``n``), a :class:`~.hardening.HardeningLaw` object or a
        callable ``R(alpha)``.
    Q, b, K, eps0, n:
        The parameters of a law given by name.
    tol, max_iter:
        Local Newton on Δα: converged when :math:`|r| \le \text{tol}\cdot q^{tr}` (default 1e-12 in float64,
        1e-6 in float32); at most ``max_iter`` updates (then :class:`~.base.ConvergenceError`).
    dtype, device:
        Floating dtype (default float64) and device of parameters and results.
    **law_parameters:
        Further parameters of the hardening law.

    State: ``"Cp_inv"`` ``(*B, 3, 3)`` (:math:`C^{p,-1}`, initially :math:`I`) and ``"alpha"`` ``(*B)``.
    """

    strain_measure = "deformation gradient F"
    stress_measure = "Cauchy stress σ (update); first Piola-Kirchhoff P (first_piola_update)"
    #: A finite-strain model: the driver takes it on finite-strain paths only.
    finite_strain = True

    E = Parameter("Young's modulus", unit="stress", lower=0.0, lower_open=True, shape=None)
    nu = Parameter("Poisson's ratio", unit="1", lower=-1.0, upper=0.5, lower_open=True, upper_open=True, shape=None)
    sigma_y = Parameter(
        "initial yield stress (von Mises, Kirchhoff)", unit="stress", lower=0.0, lower_open=True, shape=None
    )
    H = Parameter("linear isotropic hardening modulus", unit="stress", lower=0.0, default=0.0, shape=None)
    hardening: str
    tol: float
    max_iter: int

    def __init__(
        self,
        E: TensorLike,
        nu: TensorLike,
        sigma_y: TensorLike | None = None,
        H: TensorLike = 0.0,
        *,
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
        law, H, sigma_y = resolve_hardening(
            hardening, {**flat, **law_parameters}, H, sigma_y, dtype=self.dtype, device=self.device
        )
        self._param("sigma_y", sigma_y)
        self._param("H", H)
        store_hardening(self, law)
        self.law: HardeningLaw = law
        self._solver_options(tol, max_iter, default_tol=(1e-12, 1e-6))

    # ------------------------------------------------------------------------------------------------ basics
    def with_parameters(self, **changes: TensorLike) -> FiniteStrainJ2:
        kwargs: dict[str, Any] = {**self._params, **self._options, **changes}
        if isinstance(self.law, UserLaw) and kwargs.get("hardening") == "user":
            kwargs["hardening"] = self.law.fn
        return type(self)(**kwargs, dtype=self.dtype, device=self.device)

    def moduli(self) -> tuple[Tensor, Tensor]:
        """Bulk and shear moduli ``(K, G)`` (0-d tensors)."""
        return self.E / (3.0 * (1.0 - 2.0 * self.nu)), self.E / (2.0 * (1.0 + self.nu))

    def flow_stress(self, alpha: Tensor) -> tuple[Tensor, Tensor]:
        r""":math:`\sigma_f(\alpha) = \sigma_y + H\alpha + R(\alpha)` and its slope, elementwise on ``alpha``."""
        sf = self.sigma_y + self.H * alpha
        d = self.H.expand_as(alpha)
        if not self.law.linear:
            R, dR = self.law.flow_stress(alpha)
            sf, d = sf + R, d + dR
        return sf, d

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """``Cp_inv`` ``(*B, 3, 3)`` (inverse plastic right Cauchy--Green tensor) and ``alpha`` ``(*B)``."""
        return {"Cp_inv": (3, 3), "alpha": ()}

    def initial_state(self, batch_shape: tuple[int, ...] | torch.Size = ()) -> dict[str, Tensor]:
        """The virgin state: ``Cp_inv`` = I, ``alpha`` = 0, for ``batch_shape`` points."""
        batch = tuple(batch_shape)
        I = eye(self.dtype, self.device)
        return {
            "Cp_inv": I.expand(*batch, 3, 3).clone(),
            "alpha": torch.zeros(batch, dtype=self.dtype, device=self.device),
        }

    def check_strain(self, strain: TensorLike, name: str = "F") -> Tensor:
        """The deformation gradient ``(..., 3, 3)``: finite, :math:`\\det F > 0` (``ValueError`` otherwise)."""
        return check_deformation_gradient(as_tensor(strain, dtype=self.dtype, device=self.device), name)

    def _prepare(self, F: TensorLike, state: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        F = self.check_strain(F)
        st, batch = self.check_state(state, F.shape[:-2])
        check_state_values(
            (st["alpha"], "state['alpha'] (equivalent plastic strain)", "nonnegative"),
            (st["Cp_inv"], "state['Cp_inv'] (inverse plastic right Cauchy-Green tensor)", "symmetric"),
        )
        if not _wrapped(st["Cp_inv"]) and bool((torch.linalg.det(st["Cp_inv"].detach()) <= 0).any()):
            raise ValueError("state['Cp_inv'] must be positive definite (det Cp_inv > 0); see initial_state")
        return F.expand(*batch, 3, 3), st

    # ----------------------------------------------------------------------------------------- the return map
    def _solve(self, q_tr: Tensor, alpha_n: Tensor, f_tr: Tensor, G: Tensor, plastic: Tensor) -> Tensor:
        """Bracketed scalar Newton for Δα on all points at once (detached); closed form for a linear law."""
        with torch.no_grad():
            zero = torch.zeros_like(q_tr)
            if self.law.linear:
                return torch.where(plastic, f_tr / (3.0 * G + self.H), zero)
            x, lo = zero.clone(), zero.clone()
            hi = torch.where(plastic, f_tr.clamp_min(0.0) / (3.0 * G), zero)  # r(hi) <= 0: σ_f nondecreasing
            scale = torch.where(plastic, q_tr, torch.ones_like(q_tr))
            tol = float(self.tol)
            for it in range(self.max_iter + 1):
                sf, dsf = self.flow_stress(alpha_n + x)
                r = q_tr - 3.0 * G * x - sf
                conv = ~plastic | (r.abs() <= tol * scale)
                if bool(conv.all()):
                    return x
                if it == self.max_iter:
                    bad = ~conv
                    points = [tuple(int(i) for i in row) for row in torch.nonzero(bad)[:50]]
                    res = (r.abs() / scale)[bad]
                    raise ConvergenceError(
                        f"FiniteStrainJ2: local Newton did not converge in {self.max_iter} iterations at "
                        f"{int(bad.sum())} point(s) {points[:5]}; largest relative residual {float(res.max()):.3e} "
                        f"(tol {tol:.1e}); the state was not updated",
                        points=points,
                        residuals=res,
                        iterations=self.max_iter,
                        tol=tol,
                    )
                lo = torch.where(r > 0, x, lo)
                hi = torch.where(r <= 0, x, hi)
                step = x - r / (-3.0 * G - dsf)
                ok = torch.isfinite(step) & (step > lo) & (step < hi)
                x = torch.where(conv, x, torch.where(ok, step, 0.5 * (lo + hi)))
        raise AssertionError("unreachable")  # pragma: no cover

    def _step(self, F: Tensor, st: Mapping[str, Tensor], need_tangent: bool) -> dict[str, Tensor]:
        """One exponential-map step: τ, the new state and (``need_tangent``) ∂τ/∂F, all ``F``'s batch shape."""
        Kb, G = self.moduli()
        Cp_n, alpha_n = st["Cp_inv"], st["alpha"]
        M = F @ Cp_n  # F C^{p,-1}_n: b_tr = M F^T
        be_tr = sym(M @ F.transpose(-1, -2))
        lam, Q = eigh_sym(be_tr)
        e_tr = 0.5 * torch.log(lam)
        theta = e_tr.sum(-1, keepdim=True)
        s_tr = 2.0 * G * (e_tr - theta / 3.0)
        nrm = torch.linalg.vector_norm(s_tr, dim=-1)
        q_tr = SQ32 * nrm
        sf_n, _ = self.flow_stress(alpha_n)
        f_tr = q_tr - sf_n
        plastic = (f_tr > 0).detach()
        x_star = self._solve(q_tr.detach(), alpha_n.detach(), f_tr.detach(), G.detach(), plastic)
        # one Newton step from the converged Δα: equal to it, with the implicit-function derivative in the
        # parameters (calibration) -- the same device as the shared return map's
        sf, dsf = self.flow_stress(alpha_n + x_star)
        r = q_tr - 3.0 * G * x_star - sf
        zero = torch.zeros_like(q_tr)
        x = torch.where(plastic, x_star + r / (3.0 * G + dsf), zero)
        safe = torch.where(plastic, nrm, torch.ones_like(nrm))  # elastic points: a finite dummy (x = 0 there)
        n_hat = s_tr / safe[..., None]
        tau_a = Kb * theta + s_tr - (2.0 * G * SQ32 * x)[..., None] * n_hat
        e_e = e_tr - (SQ32 * x)[..., None] * n_hat
        Qt = Q.transpose(-1, -2)
        tau = sym((Q * tau_a[..., None, :]) @ Qt)
        be = sym((Q * torch.exp(2.0 * e_e)[..., None, :]) @ Qt)
        Fi = inv(F)
        out = {
            "tau": tau,
            "Fi": Fi,
            "Cp_inv": sym(Fi @ be @ Fi.transpose(-1, -2)),
            "alpha": alpha_n + x,
        }
        if need_tangent:
            one = torch.ones(3, dtype=F.dtype, device=F.device)
            oo = one[:, None] * one[None, :]
            idev = torch.eye(3, dtype=F.dtype, device=F.device) - oo / 3.0
            beta = 1.0 - 3.0 * G * x / torch.where(plastic, q_tr, torch.ones_like(q_tr))
            _, dsf_new = self.flow_stress(alpha_n + x)
            c_nn = torch.where(plastic, 6.0 * G * G * (x / safe / SQ32 - 1.0 / (3.0 * G + dsf_new)), zero)
            c = (
                Kb * oo
                + (2.0 * G * beta)[..., None, None] * idev
                + c_nn[..., None, None] * n_hat[..., :, None] * n_hat[..., None, :]
            )
            D = spectral_derivative(lam, Q, tau_a, c / (2.0 * lam[..., None, :]))
            out["D"] = D
            out["be_tr"] = be_tr
            out["dtau_dF"] = 2.0 * torch.einsum("...ijkn,...nL->...ijkL", D, M)
        return out

    def _results(
        self, F: Tensor, out: Mapping[str, Tensor], measure: str, need_tangent: bool
    ) -> tuple[Tensor, Tensor | None]:
        tau, Fi = out["tau"], out["Fi"]
        P = tau @ Fi.transpose(-1, -2)
        J = torch.linalg.det(F)
        A = None
        if need_tangent:
            A = torch.einsum("...ijkL,...Jj->...iJkL", out["dtau_dF"], Fi) - torch.einsum(
                "...ij,...Jk,...Lj->...iJkL", tau, Fi, Fi
            )
        if measure == "P":
            return P, A
        sigma = tau / J[..., None, None]
        if not need_tangent:
            return sigma, None
        assert A is not None
        S = sym(Fi @ tau @ Fi.transpose(-1, -2))
        CC = first_elasticity_to_material(A, S, F)
        return sigma, spatial_to_jaumann_tangent(push_forward_tangent(CC, F), sigma)

    # ------------------------------------------------------------------------------------------- interfaces
    def _update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None, need_tangent: bool
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        """One increment to the deformation gradient ``strain`` = F ``(..., 3, 3)`` from ``state``:
        ``(σ, new_state, C^τJ)``, the Cauchy stress and the Abaqus Jaumann tangent ``(..., 3, 3, 3, 3)`` (``None``
        with ``need_tangent=False``). ``dt`` is accepted and ignored (rate-independent)."""
        F, st = self._prepare(strain, state)
        out = self._step(F, st, need_tangent)
        sigma, C = self._results(F, out, "sigma", need_tangent)
        return sigma, {"Cp_inv": out["Cp_inv"], "alpha": out["alpha"]}, C

    def first_piola_update(
        self, F: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None = None, need_tangent: bool = True
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        r"""One increment to ``F`` ``(..., 3, 3)`` from ``state``: ``(P, new_state, A)``, the first Piola--Kirchhoff
        stress and :math:`\mathbb{A} = \partial P/\partial F` ``(..., 3, 3, 3, 3)`` (two-point, no symmetry), the
        consistent tangent of the step (state held at its start; ``None`` with ``need_tangent=False``). What the
        driver's finite-strain paths call."""
        Ft, st = self._prepare(F, state)
        out = self._step(Ft, st, need_tangent)
        P, A = self._results(Ft, out, "P", need_tangent)
        return P, {"Cp_inv": out["Cp_inv"], "alpha": out["alpha"]}, A

    def first_piola_and_elasticity(self, F: TensorLike) -> tuple[Tensor, Tensor]:
        """``(P, A)`` of one step from the virgin state."""
        Ft = self.check_strain(F)
        P, _, A = self.first_piola_update(Ft, self.initial_state(Ft.shape[:-2]))
        assert A is not None  # need_tangent=True
        return P, A

    def first_piola(self, F: TensorLike) -> Tensor:
        """First Piola--Kirchhoff stress ``(..., 3, 3)`` of one step from the virgin state."""
        Ft = self.check_strain(F)
        return self.first_piola_update(Ft, self.initial_state(Ft.shape[:-2]), need_tangent=False)[0]

    def first_elasticity(self, F: TensorLike) -> Tensor:
        r""":math:`\mathbb{A} = \partial P/\partial F` ``(..., 3, 3, 3, 3)`` of one step from the virgin state."""
        return self.first_piola_and_elasticity(F)[1]

    def cauchy_and_abaqus_tangent(self, F: TensorLike) -> tuple[Tensor, Tensor]:
        r"""``(σ, C^τJ)`` of one step from the virgin state (the NLGEOM UMAT's STRESS and DDSDDE)."""
        Ft = self.check_strain(F)
        sigma, _, C = self.update(Ft, self.initial_state(Ft.shape[:-2]))
        return sigma, C

    def cauchy(self, F: TensorLike) -> Tensor:
        """Cauchy stress ``(..., 3, 3)`` of one step from the virgin state."""
        Ft = self.check_strain(F)
        return self.update(Ft, self.initial_state(Ft.shape[:-2]), need_tangent=False)[0]

    def kirchhoff(self, F: TensorLike) -> Tensor:
        r"""Kirchhoff stress :math:`\tau = J\sigma` ``(..., 3, 3)`` of one step from the virgin state."""
        Ft = self.check_strain(F)
        return self.cauchy(Ft) * torch.linalg.det(Ft)[..., None, None]

    def abaqus_tangent(self, F: TensorLike) -> Tensor:
        r""":math:`\mathbb{C}^{\tau J}` ``(..., 3, 3, 3, 3)`` of one step from the virgin state."""
        return self.cauchy_and_abaqus_tangent(F)[1]

    def simo_abaqus_tangent(self, F: TensorLike, state: Mapping[str, Tensor]) -> Tensor:
        r"""The Abaqus tangent by Simo's spatial formula :math:`\mathbb{C}^{\tau J}_{ijkl} = \tfrac{2}{J}
        \operatorname{sym}_{kl}(\mathbb{D}_{ijkn}\, b^e_{tr,nl})` (:math:`\mathbb{D} = \partial\tau/\partial
        b^e_{tr}`), ``(..., 3, 3, 3, 3)``: a second route to the tangent ``update`` returns (for cross-checks)."""
        Ft, st = self._prepare(F, state)
        out = self._step(Ft, st, True)
        J = torch.linalg.det(Ft)[..., None, None, None, None]
        C = torch.einsum("...ijkn,...nl->...ijkl", out["D"], out["be_tr"])
        return (C + C.transpose(-1, -2)) / J
