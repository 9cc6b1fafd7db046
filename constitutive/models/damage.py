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

Integration: backward Euler with the unknowns x = (Δγ, D_{n+1}) per plastic point (the radial return of the
effective stress makes the deviatoric update a scalar), residuals

    r₁ = [ω (q̃^tr − σ_f(κ_n + Δγ)) − 3G Δγ] / σ_f(κ_n),
    r₂ = D − D_n − Δp_D (−Y/S)^s,   Δp_D = ⟨p_n + Δγ/ω − p_D⟩ − ⟨p_n − p_D⟩,  −Y = σ_f(κ_n + Δγ)²/(6G) + p̃²/(2K),

(r₁ = 0 is consistency q̃_{n+1} = q̃^tr − 3GΔγ/ω = σ_f; eliminating ω from it gives de Souza Neto's single equation
(12.48); Δp_D is the part of the step's Δp = Δγ/ω above the threshold, the exact integral of its Heaviside).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from ..tensor import DEFAULT_DTYPE, Tensor, TensorLike, _is_functorch_wrapped, as_tensor, dev, eye, trace
from .base import PathDependentMaterial, check_state_values
from .hardening import HardeningLaw, UserLaw, make_hardening_law
from .parameters import Parameter

__all__ = ["LemaitreDamage", "uniaxial_damage", "uniaxial_critical_kappa"]

SQ32 = math.sqrt(1.5)


class LemaitreDamage(PathDependentMaterial):
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
        law = make_hardening_law(hardening, law_parameters, self.dtype, self.device)
        for name, value in law.model_parameters().items():  # Linear(H) sets the model's H
            if name == "H" and bool((as_tensor(H) != 0).any()):
                raise ValueError("give the linear hardening modulus once: either H=... or hardening=Linear(H)")
            H = value
        if sigma_y is None:
            sigma_y = law.default_sigma_y()
            if sigma_y is None:
                raise ValueError(
                    f"parameter 'sigma_y' is required (it may be omitted only with a law that defines it, such as "
                    f"Swift; {law.name} does not)"
                )
        self._param("sigma_y", sigma_y)
        self._param("H", H)
        self._param("S", S)
        self._param("s", s)
        self._param("D_c", D_c)
        self._param("p_D", p_D)
        own = type(self).declared_parameters()
        clash = [k for k in law.parameters if k in own]
        if clash:
            raise ValueError(f"hardening law {law.name!r} declares parameter(s) {clash} that the model already has")
        decls = law.parameter_declarations()
        for name, value in law.parameters.items():
            self._param(name, value, decls[name])
        self.law: HardeningLaw = law
        self._option("hardening", law.name)
        if tol is not None and not (isinstance(tol, (int, float)) and 0 < tol < 1):
            raise ValueError(f"option 'tol' must be a number in (0, 1), got {tol!r}")
        if not isinstance(max_iter, int) or isinstance(max_iter, bool) or max_iter < 1:
            raise ValueError(f"option 'max_iter' must be a positive integer, got {max_iter!r}")
        self._option("tol", float(tol) if tol is not None else (1e-11 if dtype == torch.float64 else 1e-5))
        self._option("max_iter", max_iter)

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
        return torch.as_tensor(state["D"]) >= self.D_c.to(torch.as_tensor(state["D"]).device)

    def yield_function(self, stress: TensorLike, state: Mapping[str, Tensor]) -> Tensor:
        r"""Φ = q(σ)/(1 − D) − σ_f(κ) ``(...)`` at the nominal ``stress`` ``(..., 3, 3)``: the von Mises yield
        function of the effective stress σ̃ = σ/(1 − D), so the nominal yield surface is the undamaged one shrunk
        by 1 − D (a cylinder about the hydrostatic axis of radius √(2/3)(1 − D)σ_f)."""
        sig = as_tensor(stress, dtype=self.dtype, device=self.device)
        q = SQ32 * torch.linalg.vector_norm(dev(sig), dim=(-1, -2))
        return q / (1.0 - torch.as_tensor(state["D"])) - self.flow_stress(torch.as_tensor(state["kappa"]))

    # ----------------------------------------------------------------------------------------- the return map
    def _prepare(self, strain: TensorLike, state: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Checked strain (expanded to the common batch shape) and state; ``ValueError`` naming a bad entry."""
        eps = self.check_strain(strain).to(dtype=self.dtype, device=self.device)
        st, batch = self.check_state(state, eps.shape[:-2])
        check_state_values(
            (st["alpha"], "state['alpha'] (accumulated plastic strain)", "nonnegative"),
            (st["kappa"], "state['kappa'] (hardening variable)", "nonnegative"),
            (st["D"], "state['D'] (damage)", "nonnegative"),
            (st["eps_p"], "state['eps_p'] (plastic strain)", "deviatoric"),
        )
        D = st["D"]
        if D.numel() and not _is_functorch_wrapped(D) and bool((D >= 1.0).any()):
            raise ValueError(f"state['D'] (damage) must be below 1, got a maximum of {float(D.max()):.6g}")
        return eps.expand(*batch, 3, 3), st

    def _trial(self, eps: Tensor, st: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Trial (elastic predictor) quantities of the effective stress, differentiable in ``eps``:
        ``s_tr`` = 2G(dev ε − ε^p_n), ``q_tr`` = √(3/2)‖s_tr‖, ``p_eff`` = K tr ε, ``f_tr`` = q_tr − σ_f(κ_n)."""
        Kb, G = self.moduli()
        s_tr = 2.0 * G * (dev(eps) - st["eps_p"])
        q_tr = SQ32 * torch.linalg.vector_norm(s_tr, dim=(-1, -2))
        sf_n = self.flow_stress(st["kappa"])
        return {"s_tr": s_tr, "q_tr": q_tr, "p_eff": Kb * trace(eps), "sf_n": sf_n, "f_tr": q_tr - sf_n}

    def _residual(self, x: Tensor, tr: Mapping[str, Tensor], st: Mapping[str, Tensor]) -> Tensor:
        """Backward-Euler residuals ``(..., 2)`` at x = (Δp, D) ``(..., 2)`` (module docstring): consistency scaled
        by σ_f(κ_n), and the damage update."""
        _, G = self.moduli()
        dp, D = x[..., 0], x[..., 1]
        sf = self.flow_stress(st["kappa"] + (1.0 - D) * dp)
        r1 = (tr["q_tr"] - 3.0 * G * dp - sf) / tr["sf_n"]
        p_n = st["alpha"]
        dp_D = torch.relu(p_n + dp - self.p_D) - torch.relu(p_n - self.p_D)
        Y = self.energy_release_rate(sf, tr["p_eff"])
        r2 = D - st["D"] - dp_D * (Y / self.S) ** self.s
        return torch.stack((r1, r2), -1)

    def _initial_guess(self, tr: Mapping[str, Tensor], st: Mapping[str, Tensor]) -> Tensor:
        """x₀ = (f^tr/(3G), D_n): the perfectly plastic effective return with the damage frozen."""
        _, G = self.moduli()
        dp0 = tr["f_tr"].clamp_min(0.0) / (3.0 * G)
        return torch.stack((dp0, st["D"].expand_as(dp0)), -1)

    def _stress_and_state(
        self, x: Tensor, tr: Mapping[str, Tensor], st: Mapping[str, Tensor], plastic: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Stress and new state from the unknowns x = (Δγ, D) (zero Δγ and D = D_n at elastic points):
        σ = ω [(1 − 3GΔγ/(ω q̃^tr)) s̃^tr + p̃ I], ε^p = ε^p_n + (3/2)(Δγ/ω) s̃^tr/q̃^tr, p = p_n + Δγ/ω,
        κ = κ_n + Δγ."""
        _, G = self.moduli()
        dp = torch.where(plastic, x[..., 0], torch.zeros_like(x[..., 0]))
        D = torch.where(plastic, x[..., 1], st["D"].expand_as(dp))
        omega = 1.0 - D
        q_safe = torch.where(plastic, tr["q_tr"], torch.ones_like(dp))  # elastic points: no 0/0 in a gradient
        dg = omega * dp
        shrink = 1.0 - 3.0 * G * dp / q_safe
        s_tr = tr["s_tr"]
        I = eye(s_tr.dtype, s_tr.device)
        stress = omega[..., None, None] * (shrink[..., None, None] * s_tr + tr["p_eff"][..., None, None] * I)
        new_state = {
            "eps_p": st["eps_p"] + (1.5 * dp / q_safe)[..., None, None] * s_tr,
            "alpha": st["alpha"] + dp,
            "kappa": st["kappa"] + dg,
            "D": D,
        }
        return stress, new_state

    def _check_admissible(self, x: Tensor, plastic: Tensor) -> None:
        """Refuse a converged root with D ≥ 1 or Δp < 0 at a plastic point (a step that damages the point
        completely has no admissible solution): ``ConvergenceError`` naming the points; nothing is updated."""
        bad = plastic & ((x[..., 1] >= 1.0) | (x[..., 0] < 0.0))
        if bool(bad.any()):
            from .base import ConvergenceError

            idx = [tuple(int(i) for i in row) for row in torch.nonzero(bad)[:50]]
            raise ConvergenceError(
                f"{type(self).__name__}: the step damages {int(bad.sum())} point(s) {idx[:5]} completely (the return "
                "map's root has D >= 1); take a smaller step; the state was not updated",
                points=idx,
                damage=x[..., 1][bad].detach(),
            )

    # ------------------------------------------------------------------------- provisional solver (pre-engine)
    def _update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None, need_tangent: bool
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        eps, st = self._prepare(strain, state)
        batch = eps.shape[:-2]
        tr = self._trial(eps, st)
        plastic = (tr["f_tr"] > 0).detach()
        x = self._initial_guess(tr, st).detach()
        fl = lambda d: {k: v.detach().reshape(-1, *v.shape[len(batch) :]) for k, v in d.items()}  # noqa: E731
        trf, stf, pf = fl(tr), fl(st), plastic.reshape(-1)
        xf = x.reshape(-1, 2)
        jac = torch.func.vmap(torch.func.jacfwd(self._residual))
        for it in range(self.max_iter + 1):
            R = self._residual(xf, trf, stf)
            conv = ~pf | (R.abs().amax(-1) <= self.tol)
            if bool(conv.all()):
                break
            if it == self.max_iter:
                from .base import ConvergenceError

                raise ConvergenceError("LemaitreDamage: local Newton did not converge; the state was not updated")
            J = jac(xf, trf, stf)
            dx = torch.linalg.solve(torch.where(pf[:, None, None], J, torch.eye(2, dtype=J.dtype)), R)
            xf = torch.where(conv[:, None], xf, xf - dx)
        self._check_admissible(xf, pf)
        J = jac(xf, trf, stf)
        Jinv = torch.linalg.inv(torch.where(pf[:, None, None], J, torch.eye(2, dtype=J.dtype)))
        stress, new_state = self._stress_and_state(xf.reshape(*batch, 2), tr, st, plastic)
        if not need_tangent:
            return stress, new_state, None

        def point(e: Tensor, s: dict, xs: Tensor, Ji: Tensor, pl: Tensor) -> Tensor:
            t = self._trial(e, s)
            xx = xs - Ji @ self._residual(xs, t, s)
            return self._stress_and_state(xx, t, s, pl)[0]

        C = torch.func.vmap(torch.func.jacfwd(point))(eps.reshape(-1, 3, 3), stf, xf, Jinv, pf)
        C = 0.5 * (C + C.transpose(-1, -2))
        return stress, new_state, C.reshape(*batch, 3, 3, 3, 3)


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
