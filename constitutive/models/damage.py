r"""Lemaitre's ductile damage coupled to small-strain J2 plasticity (de Souza Neto, Perić & Owen,
*Computational Methods for Plasticity*, Wiley 2008, §12.3 and Box 12.4), with any registered isotropic hardening law
and a plastic-strain threshold of damage (Lemaitre 1985).

Conventions (``docs/path-dependent.md``, section "Lemaitre ductile damage"):

* strain ε and stress σ are symmetric ``(..., 3, 3)``; tangents ``(..., 3, 3, 3, 3)`` in the ``"symmetric"``
  convention of :mod:`constitutive.tangent`.
* scalar damage D ∈ [0, 1), integrity ω = 1 − D; effective stress σ̃ = σ/ω = K tr(ε) I + 2G(dev ε − ε^p)
  (strain equivalence: the undamaged isotropic elasticity acts on the elastic strain), K = E/(3(1−2ν)),
  G = E/(2(1+ν)).
* yield on the effective stress: Φ = q̃ − σ_f(κ), q̃ = √(3/2)‖dev σ̃‖ (von Mises), σ_f(κ) = σ_y + Hκ + R(κ) with the
  registered :class:`~.hardening.HardeningLaw` objects (as :class:`~.plasticity.J2Plasticity`).
* associative flow on the nominal stress, ε̇^p = γ̇ ∂Φ/∂σ = γ̇ (3/2) dev σ̃/(ω q̃); κ̇ = γ̇ (the hardening variable,
  de Souza Neto's R); the accumulated plastic strain p (state ``alpha``), ṗ = √(2/3)‖ε̇^p‖ = γ̇/ω.
* damage: Ḋ = γ̇/ω (−Y/S)^s = ṗ (−Y/S)^s while p > p_D, with the elastic energy release rate
  −Y = q̃²/(6G) + p̃²/(2K) = σ_eq²/(2E ω²) R_ν, R_ν = (2/3)(1+ν) + 3(1−2ν)(σ_H/σ_eq)² (p̃ = K tr ε the effective
  mean stress).
* failure: a point has failed once D ≥ D_c (:meth:`LemaitreDamage.failed`); the model keeps integrating (the
  driver reports the first failed step in ``DriveResult.failure``).

State (batch shape ``B`` in front): ``eps_p`` ``(*B, 3, 3)`` plastic strain (traceless), ``alpha`` ``(*B)``
accumulated plastic strain p, ``kappa`` ``(*B)`` hardening variable κ, ``D`` ``(*B)`` damage in [0, 1).

Integration: backward Euler on the shared return-map engine (:class:`~.returnmap.ReturnMappingMaterial`). The
effective deviatoric return is radial, q̃ = q̃^tr − 3GΔp, which leaves two unknowns per plastic point,
x = (Δp, D_{n+1}) (Δγ = ωΔp), and the residuals

    r₁ = [q̃^tr − 3GΔp − σ_f(κ_n + (1 − D)Δp)] / σ_f(κ_n)                     (consistency)
    r₂ = D − D_n − Δp_D (−Y/S)^s,  −Y = σ_f(κ_n + (1 − D)Δp)²/(6G) + p̃²/(2K)    (damage)
    Δp_D = ⟨p_n + Δp − p_D⟩ − ⟨p_n − p_D⟩                                      (the part of Δp above p_D)

Eliminating D through ω = 3GΔγ/(q̃^tr − σ_f) gives de Souza Neto's single equation of Box 12.4; the pair (Δp, D)
is equivalent, has no division by ω, and its iterates are kept in Δp ≥ 0, D_n ≤ D ≤ 1 (``_clip``). A root with
D ≥ 1 (the step would damage the point completely) raises ``ConvergenceError``. The consistent tangent is the
engine's implicit-function tangent of this coupled system, unsymmetric in general (the damage term).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from ..tensor import DEFAULT_DTYPE, Tensor, TensorLike, _is_functorch_wrapped, as_tensor, dev
from .base import ConvergenceError, check_state_values
from .hardening import HardeningLaw, UserLaw, resolve_hardening, store_hardening
from .parameters import Parameter
from .plasticity import mandel_to_tensor, tensor_to_mandel
from .returnmap import ReturnMappingMaterial, mandel_deviator, mandel_identity

__all__ = ["LemaitreDamage", "uniaxial_damage", "uniaxial_critical_kappa"]

SQ32 = math.sqrt(1.5)


class LemaitreDamage(ReturnMappingMaterial):
    r"""Lemaitre ductile damage coupled to J2 plasticity with isotropic hardening (de Souza Neto et al. 2008,
    Box 12.4, plus a plastic-strain threshold p_D).

    Parameters
    ----------
    E, nu:
        Young's modulus (> 0) and Poisson's ratio (−1 < ν < 0.5) of the undamaged material.
    sigma_y:
        Initial yield stress σ_y > 0 of the effective (undamaged) stress; ``None`` only with a law that defines it
        (Swift).
    H:
        Linear isotropic hardening modulus ≥ 0 (adds Hκ to the flow stress whatever the law).
    S:
        Damage denominator S > 0 (stress units; de Souza Neto's r), scales the energy release rate.
    s:
        Damage exponent s > 0.
    D_c:
        Critical damage, 0 < D_c ≤ 1: a point with D ≥ D_c has failed (:meth:`failed`).
    p_D:
        Damage threshold ≥ 0 on the accumulated plastic strain p: no damage while p ≤ p_D.
    hardening:
        As in :class:`~.plasticity.J2Plasticity`: ``None``/``"linear"``, a :class:`~.hardening.HardeningLaw`
        object or name (its parameters as keywords), or a callable ``R(kappa)``.
    tol, max_iter:
        Local Newton: converged when the scaled residuals are below ``tol`` (default 1e-11 in float64, 1e-5 in
        float32); at most ``max_iter`` Newton updates.
    dtype, device:
        Floating-point dtype (default float64) and device (default CPU).
    **law_parameters:
        Parameters of a hardening law given by name (e.g. ``Q``, ``b`` for Voce).
    """

    E = Parameter("Young's modulus", unit="stress", lower=0.0, lower_open=True, shape=None)
    nu = Parameter("Poisson's ratio", unit="1", lower=-1.0, upper=0.5, lower_open=True, upper_open=True, shape=None)
    sigma_y = Parameter("initial yield stress (effective, von Mises)", unit="stress", lower=0.0, lower_open=True,
                        shape=None)  # fmt: skip
    H = Parameter("linear isotropic hardening modulus", unit="stress", lower=0.0, default=0.0, shape=None)
    S = Parameter("damage denominator S (energy release rate scale)", unit="stress", lower=0.0, lower_open=True,
                  shape=None)  # fmt: skip
    s = Parameter("damage exponent s", unit="1", lower=0.0, lower_open=True, default=1.0, shape=None)
    D_c = Parameter("critical damage (failure)", unit="1", lower=0.0, upper=1.0, lower_open=True, default=1.0,
                    shape=None)  # fmt: skip
    p_D = Parameter("damage threshold on the accumulated plastic strain", unit="1", lower=0.0, default=0.0,
                    shape=None)  # fmt: skip

    failure_criterion: ClassVar[str] = "damage D reached the critical damage D_c"
    n_unknowns: ClassVar[int] = 2  # (Δp, D)
    closed_form_jacobian: ClassVar[bool] = True
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
        S: TensorLike,
        s: TensorLike = 1.0,
        D_c: TensorLike = 1.0,
        p_D: TensorLike = 0.0,
        hardening: Any = None,
        tol: float | None = None,
        max_iter: int = 50,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
        **law_parameters: TensorLike,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        self._param("E", E)
        self._param("nu", nu)
        law, H, sigma_y = resolve_hardening(hardening, law_parameters, H, sigma_y, dtype=self.dtype, device=self.device)
        self._param("sigma_y", sigma_y)
        self._param("H", H)
        self._param("S", S)
        self._param("s", s)
        self._param("D_c", D_c)
        self._param("p_D", p_D)
        store_hardening(self, law)
        self.law: HardeningLaw = law
        self._solver_options(tol, max_iter)

    def with_parameters(self, **changes: TensorLike) -> LemaitreDamage:
        kwargs: dict[str, Any] = {**self._params, **self._options, **changes}
        if isinstance(self.law, UserLaw) and kwargs.get("hardening") == "user":
            kwargs["hardening"] = self.law.fn
        return type(self)(**kwargs, dtype=self.dtype, device=self.device)

    # ------------------------------------------------------------------------------------------------ basics
    def moduli(self) -> tuple[Tensor, Tensor]:
        """Bulk and shear moduli ``(K, G)`` of the undamaged material (0-d tensors)."""
        return self.E / (3.0 * (1.0 - 2.0 * self.nu)), self.E / (2.0 * (1.0 + self.nu))

    def flow_stress(self, kappa: Tensor) -> Tensor:
        r""":math:`\sigma_f(\kappa) = \sigma_y + H\kappa + R(\kappa)`, elementwise on ``kappa`` ``(...)``."""
        sf = self.sigma_y + self.H * kappa
        return sf if self.law.linear else sf + self.law.value(kappa)

    def energy_release_rate(self, q_eff: Tensor, p_eff: Tensor) -> Tensor:
        r"""Lemaitre's :math:`-Y = \tilde q^2/(6G) + \tilde p^2/(2K)` from the effective von Mises stress ``q_eff``
        and mean stress ``p_eff`` (elementwise); equal to :math:`\sigma_{eq}^2 R_\nu/(2E(1-D)^2)`."""
        Kb, G = self.moduli()
        return q_eff * q_eff / (6.0 * G) + p_eff * p_eff / (2.0 * Kb)

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """``eps_p`` ``(*B, 3, 3)`` plastic strain, ``alpha`` ``(*B)`` accumulated plastic strain p, ``kappa``
        ``(*B)`` hardening variable κ, ``D`` ``(*B)`` damage (virgin state: all zero)."""
        return {"eps_p": (3, 3), "alpha": (), "kappa": (), "D": ()}

    def failed(self, state: Mapping[str, Tensor]) -> Tensor:
        """``D ≥ D_c`` per point (bool, the state's batch shape): the critical-damage failure criterion."""
        D = torch.as_tensor(state["D"])
        return D >= self.D_c.to(D.device)

    def yield_function(self, stress: TensorLike, state: Mapping[str, Tensor]) -> Tensor:
        r"""Φ = q(σ)/(1 − D) − σ_f(κ) ``(...)`` at the nominal ``stress`` ``(..., 3, 3)``: the von Mises yield
        function of the effective stress σ̃ = σ/(1 − D), so the nominal yield surface is the undamaged one shrunk
        by 1 − D (a cylinder about the hydrostatic axis of radius √(2/3)(1 − D)σ_f)."""
        sig = as_tensor(stress, dtype=self.dtype, device=self.device)
        q = SQ32 * torch.linalg.vector_norm(dev(sig), dim=(-1, -2))
        return q / (1.0 - torch.as_tensor(state["D"])) - self.flow_stress(torch.as_tensor(state["kappa"]))

    # ----------------------------------------------------------------------------------------- the return map
    # Hooks of the shared engine (constitutive.models.returnmap): pointwise functions of the Mandel strain ``eps``
    # (n, 6) at the end of the step and the start-of-step state (entries (n, *tail)).
    def _check_state_values(self, state: Mapping[str, Tensor]) -> None:
        check_state_values(
            (state["alpha"], "state['alpha'] (accumulated plastic strain)", "nonnegative"),
            (state["kappa"], "state['kappa'] (hardening variable)", "nonnegative"),
            (state["D"], "state['D'] (damage)", "nonnegative"),
            (state["eps_p"], "state['eps_p'] (plastic strain)", "deviatoric"),
        )
        D = state["D"]
        if D.numel() and not _is_functorch_wrapped(D) and bool((D >= 1.0).any()):
            raise ValueError(f"state['D'] (damage) must be below 1, got a maximum of {float(D.max()):.6g}")

    def _trial(self, eps: Tensor, state: Mapping[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        """Effective trial quantities: deviatoric stress s̃^tr = 2G(dev ε − ε^p_n) ``(n, 6)``, its von Mises value
        q̃^tr ``(n,)`` and the effective mean stress p̃ = K tr ε ``(n,)``."""
        Kb, G = self.moduli()
        e_dev, tr = mandel_deviator(eps)
        s_tr = 2.0 * G * (e_dev - tensor_to_mandel(state["eps_p"]))
        # vector_norm: a zero derivative (not NaN) at a purely volumetric strain
        return s_tr, SQ32 * torch.linalg.vector_norm(s_tr, dim=-1), Kb * tr

    def _elastic_stress(self, eps: Tensor, state: Mapping[str, Tensor]) -> Tensor:
        """σ = ω_n σ̃^tr: the damaged elastic law."""
        s_tr, _, p_eff = self._trial(eps, state)
        return (1.0 - state["D"])[:, None] * (s_tr + p_eff[:, None] * mandel_identity(eps))

    def _elastic_tangent(self, eps: Tensor, state: Mapping[str, Tensor]) -> Tensor:
        """ω_n (K m⊗m + 2G(𝕀 − m⊗m/3)) on Mandel vectors ``(n, 6, 6)``."""
        Kb, G = self.moduli()
        m = mandel_identity(eps)
        mm = m[:, None] * m[None, :]
        Ce = Kb * mm + 2.0 * G * (torch.eye(6, dtype=eps.dtype, device=eps.device) - mm / 3.0)
        return (1.0 - state["D"])[:, None, None] * Ce

    def _trial_yield(self, eps: Tensor, state: Mapping[str, Tensor]) -> Tensor:
        """Φ^tr = q̃^tr − σ_f(κ_n) (the effective trial stress against the flow stress)."""
        return self._trial(eps, state)[1] - self.flow_stress(state["kappa"])

    def _initial_guess(self, eps: Tensor, state: Mapping[str, Tensor]) -> Tensor:
        """x₀ = (Φ^tr/(3G + σ_f'·ω_n), D_n): the linearised J2 return of the effective stress, damage frozen."""
        _, G = self.moduli()
        kappa = state["kappa"]
        with torch.enable_grad():  # the hardening slope at κ_n, for a better first iterate
            k = kappa.detach().requires_grad_(True)
            (slope,) = torch.autograd.grad(self.flow_stress(k).sum(), k, allow_unused=True)
        slope = torch.zeros_like(kappa) if slope is None else slope
        omega_n = 1.0 - state["D"]
        dp0 = self._trial_yield(eps, state).clamp_min(0.0) / (3.0 * G + omega_n * slope)
        return torch.stack((dp0, state["D"]), -1).detach()

    def _residual(self, x: Tensor, eps: Tensor, state: Mapping[str, Tensor]) -> Tensor:
        """Backward-Euler residuals ``(n, 2)`` at x = (Δp, D) (module docstring): consistency scaled by σ_f(κ_n),
        and the damage update."""
        _, G = self.moduli()
        _, q_tr, p_eff = self._trial(eps, state)
        dp, D = x[:, 0], x[:, 1]
        sf = self.flow_stress(state["kappa"] + (1.0 - D) * dp)
        r1 = (q_tr - 3.0 * G * dp - sf) / self.flow_stress(state["kappa"])
        p_n = state["alpha"]
        dp_D = torch.relu(p_n + dp - self.p_D) - torch.relu(p_n - self.p_D)
        r2 = D - state["D"] - dp_D * (self.energy_release_rate(sf, p_eff) / self.S) ** self.s
        return torch.stack((r1, r2), -1)

    def _flow_stress_and_slope(self, kappa: Tensor) -> tuple[Tensor, Tensor]:
        """σ_f(κ) and σ_f'(κ), elementwise."""
        sf, slope = self.sigma_y + self.H * kappa, self.H.expand_as(kappa)
        if not self.law.linear:
            R, dR = self.law.flow_stress(kappa)
            sf, slope = sf + R, slope + dR
        return sf, slope

    def _residual_jacobian(self, x: Tensor, eps: Tensor, state: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
        """``(r, ∂r/∂x)`` ``(n, 2)``, ``(n, 2, 2)`` in closed form (the Newton iterations; the tangent uses AD of
        :meth:`_residual`, and the tests compare both Jacobians): with ω = 1 − D, κ = κ_n + ωΔp, g = (−Y/S)^s,
        ∂(−Y)/∂κ = σ_f σ_f'/(3G) and H the Heaviside of p_n + Δp − p_D,

            ∂r₁/∂Δp = −(3G + ω σ_f')/σ_f(κ_n),   ∂r₁/∂D = Δp σ_f'/σ_f(κ_n),
            ∂r₂/∂Δp = −H g − Δp_D g' ω σ_f σ_f'/(3G),   ∂r₂/∂D = 1 + Δp_D g' Δp σ_f σ_f'/(3G)."""
        _, G = self.moduli()
        _, q_tr, p_eff = self._trial(eps, state)
        dp, D = x[:, 0], x[:, 1]
        omega = 1.0 - D
        sf, dsf = self._flow_stress_and_slope(state["kappa"] + omega * dp)
        sf_n = self.flow_stress(state["kappa"])
        above = state["alpha"] + dp - self.p_D
        dp_D = torch.relu(above) - torch.relu(state["alpha"] - self.p_D)
        ys = self.energy_release_rate(sf, p_eff) / self.S
        g = ys**self.s
        dg = self.s * ys ** (self.s - 1.0) / self.S
        dY = sf * dsf / (3.0 * G)
        r = torch.stack(((q_tr - 3.0 * G * dp - sf) / sf_n, D - state["D"] - dp_D * g), -1)
        J = torch.stack(
            (
                torch.stack((-(3.0 * G + omega * dsf) / sf_n, dp * dsf / sf_n), -1),
                torch.stack((-(above > 0).to(g.dtype) * g - dp_D * dg * dY * omega, 1.0 + dp_D * dg * dY * dp), -1),
            ),
            -2,
        )
        return r, J

    def _clip(self, x: Tensor, eps: Tensor, state: Mapping[str, Tensor]) -> Tensor:
        """Keep iterates where the solution lies: Δp ≥ 0, D_n ≤ D ≤ 1 (a root at D = 1 is refused afterwards)."""
        dp = x[:, 0].clamp_min(0.0)
        D = torch.minimum(torch.maximum(x[:, 1], state["D"]), torch.ones_like(x[:, 1]))
        return torch.stack((dp, D), -1)

    def _plastic_stress(self, x: Tensor, eps: Tensor, state: Mapping[str, Tensor]) -> Tensor:
        """σ = ω [(1 − 3GΔp/q̃^tr) s̃^tr + p̃ I] (Mandel ``(n, 6)``)."""
        _, G = self.moduli()
        s_tr, q_tr, p_eff = self._trial(eps, state)
        dp, D = x[:, 0], x[:, 1]
        shrink = 1.0 - 3.0 * G * dp / q_tr
        return (1.0 - D)[:, None] * (shrink[:, None] * s_tr + p_eff[:, None] * mandel_identity(eps))

    def _plastic_state(self, x: Tensor, eps: Tensor, state: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """ε^p = ε^p_n + (3/2) Δp s̃^tr/q̃^tr, p = p_n + Δp, κ = κ_n + (1 − D)Δp, D."""
        s_tr, q_tr, _ = self._trial(eps, state)
        dp, D = x[:, 0], x[:, 1]
        eps_p = state["eps_p"] + mandel_to_tensor((1.5 * dp / q_tr)[:, None] * s_tr)
        return {"eps_p": eps_p, "alpha": state["alpha"] + dp, "kappa": state["kappa"] + (1.0 - D) * dp, "D": D}

    def _explain_complete_damage(
        self, eps: Tensor, state: dict[str, Tensor], batch: torch.Size, err: ConvergenceError
    ) -> None:
        """When the local Newton fails, say whether the step damages points completely: at the largest plastic
        increment the step allows, Δp_max = Φ^tr/(3G) (no hardening, D = 1), the damage update already demands
        D ≥ 1, i.e. r₂(Δp_max, 1) ≤ 0. Such points have no admissible solution; a smaller step is the remedy."""
        _, G = self.moduli()
        with torch.no_grad():
            f = self._trial_yield(eps, state)
            idx = torch.nonzero(f > 0).reshape(-1)
            e_p, s_p = eps.index_select(0, idx), {k: v.index_select(0, idx) for k, v in state.items()}
            x_max = torch.stack((f.index_select(0, idx) / (3.0 * G), torch.ones_like(idx, dtype=eps.dtype)), -1)
            hopeless = self._residual(x_max, e_p, s_p)[:, 1] <= 0.0
        if bool(hopeless.any()):
            points = self._where(batch, idx)(torch.nonzero(hopeless).reshape(-1)[:50])
            raise ConvergenceError(
                f"{type(self).__name__}: the step damages {int(hopeless.sum())} point(s) {points[:5]} completely (no "
                f"return with D < 1 exists); take a smaller step; the state was not updated ({err})",
                **{**err.diagnostics, "points": points},
            ) from err

    def _solve_plastic(
        self, eps: Tensor, state: dict[str, Tensor], batch: torch.Size
    ) -> tuple[Tensor, Tensor, dict[str, Tensor], Tensor]:
        """The engine's Newton, then the admissibility of the root: a plastic point whose damage would reach 1 in
        the step (no solution with D < 1) raises ``ConvergenceError`` naming it; nothing is updated."""
        try:
            idx, e_p, s_p, x_star = super()._solve_plastic(eps, state, batch)
        except ConvergenceError as err:
            self._explain_complete_damage(eps, state, batch, err)
            raise
        bad = x_star[:, 1] >= 1.0
        if bool(bad.any()):
            points = self._where(batch, idx)(torch.nonzero(bad).reshape(-1)[:50])
            raise ConvergenceError(
                f"{type(self).__name__}: the step damages {int(bad.sum())} point(s) {points[:5]} completely (the "
                "return map's root has D >= 1); take a smaller step; the state was not updated",
                points=points,
                damage=x_star[bad, 1].clone(),
            )
        return idx, e_p, s_p, x_star


# ----------------------------------------------------------------------------------------------------------------
# The uniaxial closed form (linear hardening)
# ----------------------------------------------------------------------------------------------------------------
def _linear_uniaxial(model: LemaitreDamage) -> tuple[float, float, float, float, float, float]:
    if not model.law.linear:
        raise ValueError(f"the uniaxial closed form needs linear hardening, not {model.law.name!r}")
    return tuple(float(getattr(model, k)) for k in ("E", "sigma_y", "H", "S", "s", "p_D"))  # type: ignore[return-value]


def _gamma(kappa: Tensor, E: float, sy: float, H: float, S: float, s: float) -> Tensor:
    r"""Γ(κ) = ∫ (σ_f²/(2ES))^s dκ = (σ_y + Hκ)^{2s+1}/((2s+1) H (2ES)^s) (H > 0), g κ (H = 0)."""
    if H == 0.0:
        return kappa * (sy * sy / (2.0 * E * S)) ** s
    return (sy + H * kappa) ** (2.0 * s + 1.0) / ((2.0 * s + 1.0) * H * (2.0 * E * S) ** s)


def uniaxial_damage(model: LemaitreDamage, kappa: TensorLike) -> Tensor:
    r"""Closed-form damage D(κ) under monotonic uniaxial stress, linear hardening σ_f = σ_y + Hκ (elementwise).

    On the yield surface σ̃ = σ_f(κ), −Y = σ̃²/(2E) (R_ν = 1 at triaxiality 1/3), ṗ = κ̇/(1 − D); before the
    threshold D = 0 and p = κ; after it (1 − D) dD = (σ_f²/(2ES))^s dκ, so

        D(κ) = 1 − √(1 − 2[Γ(κ) − Γ(p_D)]),   Γ(κ) = (σ_y + Hκ)^{2s+1} / ((2s+1) H (2ES)^s)

    (Γ = (σ_y²/(2ES))^s κ for H = 0). ``ValueError`` beyond complete damage (the root's argument negative)."""
    E, sy, H, S, s, pD = _linear_uniaxial(model)
    k = as_tensor(kappa, dtype=torch.float64)
    G = _gamma(k, E, sy, H, S, s) - _gamma(torch.tensor(pD, dtype=torch.float64), E, sy, H, S, s)
    arg = 1.0 - 2.0 * torch.where(k > pD, G, torch.zeros_like(G))
    if bool((arg < 0).any()):
        raise ValueError("kappa beyond complete damage (D = 1) in the uniaxial closed form")
    return 1.0 - torch.sqrt(arg)


def uniaxial_critical_kappa(model: LemaitreDamage) -> float:
    r"""The hardening variable κ_c at which the uniaxial closed form reaches D = D_c:
    Γ(κ_c) = Γ(p_D) + (1 − (1 − D_c)²)/2, inverted in closed form."""
    E, sy, H, S, s, pD = _linear_uniaxial(model)
    Dc = float(model.D_c)
    target = float(_gamma(torch.tensor(pD, dtype=torch.float64), E, sy, H, S, s)) + 0.5 * (1.0 - (1.0 - Dc) ** 2)
    if H == 0.0:
        return target / (sy * sy / (2.0 * E * S)) ** s
    return ((target * (2.0 * s + 1.0) * H * (2.0 * E * S) ** s) ** (1.0 / (2.0 * s + 1.0)) - sy) / H
