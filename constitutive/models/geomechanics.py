r"""Pressure-dependent (frictional) plasticity: linear Drucker--Prager and Mohr--Coulomb, with non-associated flow,
exact returns to the smooth cone / plane, the edges and the apex, and their consistent tangents.

Conventions (named once here; ``docs/path-dependent.md`` has the derivations):

* **tension positive**, as the whole package: strain ε and stress σ are symmetric ``(..., 3, 3)``; the
  *compressive* pressure is :math:`p = -\operatorname{tr}\sigma/3` (positive in compression), the deviator
  :math:`s = \operatorname{dev}\sigma`, the von Mises stress :math:`q = \sqrt{3/2}\,\|s\|`; principal stresses are
  sorted :math:`\sigma_1 \ge \sigma_2 \ge \sigma_3` (σ₃ the most compressive).
* isotropic linear elasticity, :math:`K = E/(3(1-2\nu))`, :math:`G = E/(2(1+\nu))`,
  :math:`\sigma = K\operatorname{tr}(\varepsilon^e) I + 2G\operatorname{dev}\varepsilon^e`,
  :math:`\varepsilon^e = \varepsilon - \varepsilon^p` (the plastic strain has a volumetric part: dilatancy).
* angles (friction β, φ; dilation ψ) are given in **degrees**, as in Abaqus input.
* tangents are ``(..., 3, 3, 3, 3)`` in the ``"symmetric"`` convention of :mod:`constitutive.tangent`
  (minor-symmetric); with non-associated flow (ψ ≠ β, ψ ≠ φ) they are **not major-symmetric**, and are returned
  as they are (the models' ``unsymmetric_tangent`` property).

Models:

* :class:`DruckerPrager` -- Abaqus's linear form with K = 1 (no third-invariant dependence)
  :math:`F = q - p\tan\beta - d`, :math:`G = q - p\tan\psi`, cohesion
  :math:`d = (1 - \tan\beta/3)\,\sigma_c(\bar\varepsilon^p)` from the uniaxial compression yield stress
  :math:`\sigma_c` (a hardening law), :math:`\dot{\bar\varepsilon}^p = (1 - \tan\psi/3)\dot\gamma`
  (Abaqus's equivalent plastic strain for hardening defined in uniaxial compression: :math:`|\dot\varepsilon^p_{11}|`
  there).
* :class:`MohrCoulomb` -- :math:`\Phi = (\sigma_1 - \sigma_3) + (\sigma_1 + \sigma_3)\sin\phi - 2c\cos\phi`,
  potential :math:`\Psi = (\sigma_1 - \sigma_3) + (\sigma_1 + \sigma_3)\sin\psi`, cohesion :math:`c(\bar\varepsilon^p)`
  (a hardening law), :math:`\dot{\bar\varepsilon}^p = 2\cos\phi\sum_k\dot\gamma_k` (de Souza Neto, Perić & Owen,
  *Computational Methods for Plasticity*, Wiley 2008, Sect. 8.2).

State (batch shape ``B`` in front): ``"eps_p"`` ``(*B, 3, 3)`` plastic strain (symmetric; trace = plastic volume
change), ``"alpha"`` ``(*B)`` the equivalent plastic strain :math:`\bar\varepsilon^p \ge 0` of the model.

Local systems (one unknown on the cone, the plane and the apex, two on an edge) are solved by the shared engine's
batched Newton :func:`~.returnmap.local_newton` (all points at once; converged points drop out; after ``max_iter``
iterations the unconverged points raise :class:`~.base.ConvergenceError` and nothing is returned) and re-expressed
by :func:`~.returnmap.differentiable_solution` when parameters require gradients. With linear hardening every
system is linear and the first Newton update is the exact solution. The special returns (cone/apex, plane/edges/
apex, the principal-stress frame) and the closed-form consistent tangents are written here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import torch

from ..tensor import DEFAULT_DTYPE, Tensor, TensorLike, dev, eye, spectral_derivative, trace
from .base import ConvergenceError, PathDependentMaterial, check_state_values
from .hardening import HardeningLaw, UserLaw, resolve_hardening, store_hardening
from .parameters import Parameter
from .plasticity import isotropic_rank_one_tangent
from .returnmap import differentiable_solution, local_newton

__all__ = [
    "DruckerPrager",
    "MohrCoulomb",
    "mohr_coulomb_match",
    "RETURN_MODES",
    "triaxial_compression_peak",
    "pure_shear_peak",
]

#: Return-mode codes of ``return_mode``.
RETURN_MODES: dict[int, str] = {
    0: "elastic",
    1: "smooth (Drucker-Prager cone / Mohr-Coulomb main plane)",
    2: "edge sigma_1 = sigma_2 (triaxial compression meridian)",
    3: "edge sigma_2 = sigma_3 (triaxial extension meridian)",
    4: "apex",
}
_ELASTIC, _SMOOTH, _EDGE_C, _EDGE_E, _APEX = 0, 1, 2, 3, 4
_SQ6 = math.sqrt(6.0)
#: arctan(3) in degrees: Abaqus's linear Drucker--Prager needs tan β < 3 and tan ψ < 3 (d = (1 - tan β/3) σ_c > 0).
_BETA_MAX = math.degrees(math.atan(3.0))


def _rad(deg: Tensor) -> Tensor:
    return deg * (math.pi / 180.0)


def mohr_coulomb_match(
    phi: float, c: float, psi: float | None = None, match: str = "compression"
) -> tuple[float, float, float]:
    r"""Linear Drucker--Prager parameters ``(beta, psi_dp, d)`` (degrees, degrees, stress) matching Mohr--Coulomb
    ``(phi, c, psi)`` (degrees, stress, degrees; ``psi=None``: ψ = φ).

    In de Souza Neto et al.'s form :math:`\sqrt{J_2} + \eta\,\bar p - \xi c = 0` (:math:`\bar p = \operatorname{tr}
    \sigma/3`; *Computational Methods for Plasticity*, Sect. 6.4: Drucker--Prager approximations of Mohr--Coulomb),
    i.e. Abaqus's :math:`q - p\tan\beta - d = 0` with :math:`\tan\beta = \sqrt3\,\eta`, :math:`d = \sqrt3\,\xi c`:

    * ``"compression"`` (outer cone, through the compression meridian σ₁ = σ₂):
      :math:`\tan\beta = \dfrac{6\sin\phi}{3 - \sin\phi}`, :math:`d = \dfrac{6c\cos\phi}{3 - \sin\phi}`;
    * ``"tension"`` (inner cone, through the extension meridian σ₂ = σ₃):
      :math:`\tan\beta = \dfrac{6\sin\phi}{3 + \sin\phi}`, :math:`d = \dfrac{6c\cos\phi}{3 + \sin\phi}`;
    * ``"plane_strain"`` (same collapse load in plane strain, associated flow):
      :math:`\tan\beta = \dfrac{3\sqrt3\tan\phi}{\sqrt{9 + 12\tan^2\phi}}`,
      :math:`d = \dfrac{3\sqrt3\,c}{\sqrt{9 + 12\tan^2\phi}}`.

    The dilation angle maps by the same formula with ψ for φ (for ``"plane_strain"`` the match is exact only
    with associated flow, ψ = φ). ``ValueError`` for an unknown ``match`` or φ, ψ outside [0°, 90°).
    """
    psi = phi if psi is None else psi
    for name, v in (("phi", phi), ("psi", psi)):
        if not (0.0 <= float(v) < 90.0):
            raise ValueError(f"{name} must be an angle in [0, 90) degrees, got {v!r}")

    def tb(angle: float) -> tuple[float, float]:
        s, co, t = math.sin(math.radians(angle)), math.cos(math.radians(angle)), math.tan(math.radians(angle))
        if match == "compression":
            return 6.0 * s / (3.0 - s), 6.0 * co / (3.0 - s)
        if match == "tension":
            return 6.0 * s / (3.0 + s), 6.0 * co / (3.0 + s)
        if match == "plane_strain":
            r = math.sqrt(9.0 + 12.0 * t * t)
            return 3.0 * math.sqrt(3.0) * t / r, 3.0 * math.sqrt(3.0) / r
        raise ValueError(f"match must be 'compression', 'tension' or 'plane_strain', got {match!r}")

    tan_beta, xi = tb(float(phi))
    tan_psi, _ = tb(float(psi))
    return math.degrees(math.atan(tan_beta)), math.degrees(math.atan(tan_psi)), xi * float(c)


def triaxial_compression_peak(phi: float, c: float, confining: float) -> float:
    r"""Mohr--Coulomb deviator at failure :math:`\sigma_1 - \sigma_3` in a triaxial compression test at confining
    pressure ``confining`` ≥ 0 (compressive, stress units; φ in degrees), perfect plasticity:

    .. math:: (\sigma_1 - \sigma_3)_f = \frac{2c\cos\phi + 2\sigma_c\sin\phi}{1 - \sin\phi},

    with σ₁ = −σ_conf (lateral), σ₃ the axial stress (tension positive). The same with σ_conf = 0 is the uniaxial
    compressive strength :math:`2c\cos\phi/(1 - \sin\phi)`."""
    s, co = math.sin(math.radians(phi)), math.cos(math.radians(phi))
    return (2.0 * c * co + 2.0 * confining * s) / (1.0 - s)


def pure_shear_peak(phi: float, c: float, pressure: float = 0.0) -> float:
    r"""Mohr--Coulomb shear stress at failure in pure shear superposed on a hydrostatic pressure ``pressure``
    (compressive): principal stresses (−p + τ, −p, −p − τ), so :math:`\tau_f = c\cos\phi + p\sin\phi`."""
    s, co = math.sin(math.radians(phi)), math.cos(math.radians(phi))
    return c * co + pressure * s


class _FrictionalPlasticity(PathDependentMaterial, abstract=True):
    """What Drucker--Prager and Mohr--Coulomb share: elasticity, the hardening law, state, checks and the update
    driver (trial state, return, new state); subclasses write ``_return``."""

    E = Parameter("Young's modulus", unit="stress", lower=0.0, lower_open=True, shape=None)
    nu = Parameter("Poisson's ratio", unit="1", lower=-1.0, upper=0.5, lower_open=True, upper_open=True, shape=None)
    hardening: str
    tol: float
    max_iter: int
    #: name of the hardened strength parameter (``sigma_c`` or ``c``), for messages.
    _strength: ClassVar[str] = ""

    def _setup(
        self,
        strength: TensorLike,
        H: TensorLike,
        hardening: Any,
        law_parameters: Mapping[str, TensorLike],
        tol: float | None,
        max_iter: int,
    ) -> None:
        """Store the strength, ``H``, the law (its parameters on the model) and the Newton options."""
        # the strength plays sigma_y's part: it is given, so resolve_hardening never looks for a default
        law, H, strength = resolve_hardening(
            hardening, law_parameters, H, strength, dtype=self.dtype, device=self.device
        )
        self._param(self._strength, strength)
        self._param("H", H)
        store_hardening(self, law)
        self.law: HardeningLaw = law
        self._solver_options(tol, max_iter)

    def with_parameters(self, **changes: TensorLike) -> _FrictionalPlasticity:
        kwargs: dict[str, Any] = {**self._params, **self._options, **changes}
        if isinstance(self.law, UserLaw) and kwargs.get("hardening") == "user":
            kwargs["hardening"] = self.law.fn
        return type(self)(**kwargs, dtype=self.dtype, device=self.device)

    # ------------------------------------------------------------------------------------------------ basics
    def moduli(self) -> tuple[Tensor, Tensor]:
        """Bulk and shear moduli ``(K, G)`` (0-d tensors)."""
        return self.E / (3.0 * (1.0 - 2.0 * self.nu)), self.E / (2.0 * (1.0 + self.nu))

    def strength(self, alpha: Tensor) -> tuple[Tensor, Tensor]:
        r"""The hardened strength (σ_c for Drucker--Prager, c for Mohr--Coulomb) :math:`s_0 + H\alpha + R(\alpha)` and
        its slope, elementwise on ``alpha`` ``(...)``."""
        s0, H = self._params[self._strength], self._params["H"]  # declared by each subclass
        value = s0 + H * alpha
        slope = H.expand_as(alpha)
        if not self.law.linear:
            R, dR = self.law.flow_stress(alpha)
            value, slope = value + R, slope + dR
        return value, slope

    @property
    def unsymmetric_tangent(self) -> bool:
        """True with non-associated flow (dilation angle ≠ friction angle): the consistent tangent is then not
        major-symmetric (an FE code needs its unsymmetric solver)."""
        return not bool((self._params["psi"] == self._friction()).all())

    def _friction(self) -> Tensor:
        raise TypeError(f"{type(self).__name__} must define _friction (the friction angle its flow compares with)")

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """``eps_p`` ``(*B, 3, 3)`` plastic strain (symmetric, with a volumetric part), ``alpha`` ``(*B)``
        equivalent plastic strain (virgin state: zero)."""
        return {"eps_p": (3, 3), "alpha": ()}

    def elastic_tangent(self, batch_shape: tuple[int, ...] | torch.Size = ()) -> Tensor:
        r""":math:`K\, I \otimes I + 2G\, \mathbb{I}^{dev}`, ``(*batch_shape, 3, 3, 3, 3)``."""
        Kb, G = self.moduli()
        z = torch.zeros(batch_shape, dtype=self.dtype, device=self.device)
        n = torch.zeros((*batch_shape, 3, 3), dtype=self.dtype, device=self.device)
        return isotropic_rank_one_tangent(Kb - 2.0 * G / 3.0 + z, 2.0 * G + z, z, n)

    # ------------------------------------------------------------------------------------------------ update
    def _prepare(self, strain: TensorLike, state: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        eps = self.check_strain(strain).to(dtype=self.dtype, device=self.device)
        st, batch = self.check_state(state, eps.shape[:-2])
        check_state_values(
            (st["alpha"], "state['alpha'] (equivalent plastic strain)", "nonnegative"),
            (st["eps_p"], "state['eps_p'] (plastic strain)", "symmetric"),
        )
        return eps.expand(*batch, 3, 3), st

    def _run(
        self, strain: TensorLike, state: Mapping[str, Tensor], need_tangent: bool
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None, Tensor]:
        eps, st = self._prepare(strain, state)
        batch = eps.shape[:-2]
        ee = (eps - st["eps_p"]).reshape(-1, 3, 3)
        an = st["alpha"].reshape(-1)
        sigma, alpha, C, mode = self._return(ee, an, need_tangent)
        Kb, G = self.moduli()
        # the plastic strain from the returned stress: eps_p = eps - C_e^{-1} : sigma (exact for every return)
        ee_new = dev(sigma) / (2.0 * G) + (trace(sigma) / (9.0 * Kb))[:, None, None] * eye(sigma.dtype, sigma.device)
        eps_p = torch.where(
            (mode == _ELASTIC)[:, None, None], st["eps_p"].reshape(-1, 3, 3), eps.reshape(-1, 3, 3) - ee_new
        )
        new_state = {"eps_p": eps_p.reshape(*batch, 3, 3), "alpha": alpha.reshape(batch)}
        C_out = None if C is None else C.reshape(*batch, 3, 3, 3, 3)
        return sigma.reshape(*batch, 3, 3), new_state, C_out, mode.reshape(batch)

    def _update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None, need_tangent: bool
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        """One increment from ``state`` to ``strain`` ``(..., 3, 3)``: ``(stress, new_state, C_alg)`` (``dt`` is
        ignored: rate independent). The inputs are not modified; on an error nothing is returned."""
        stress, new_state, C, _ = self._run(strain, state, need_tangent)
        return stress, new_state, C

    def return_mode(self, strain: TensorLike, state: Mapping[str, Tensor] | None = None) -> Tensor:
        """Which return the step from ``state`` (default: virgin) to ``strain`` takes, per point ``(...)`` int64:
        the codes of :data:`RETURN_MODES` (0 elastic, 1 smooth cone/main plane, 2 edge σ₁ = σ₂, 3 edge σ₂ = σ₃,
        4 apex)."""
        eps = self.check_strain(strain)
        st = self.initial_state(eps.shape[:-2]) if state is None else state
        return self._run(eps, st, False)[3]

    def _return(self, ee: Tensor, an: Tensor, need_tangent: bool) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
        """From the trial elastic strains ``ee`` ``(n, 3, 3)`` and α_n ``(n,)``: stress ``(n, 3, 3)``, α_{n+1},
        the consistent tangent ``(n, 3, 3, 3, 3)`` (or ``None``) and the return mode ``(n,)``."""
        raise TypeError(f"{type(self).__name__} must define _return")

    def _solve(
        self,
        residual: Callable[[Tensor, Mapping[str, Tensor]], tuple[Tensor, Tensor]],
        data: Mapping[str, Tensor],
        m: int,
        scale: Tensor,
        points: Tensor,
    ) -> tuple[Tensor, Tensor]:
        """Solve ``residual(x, data) -> (R (n, m), dR/dx (n, m, m))`` for ``x`` ``(n, m)`` from zero with the engine's
        :func:`~.returnmap.local_newton` (the per-point ``data`` ride in its state slot, so converged rows drop out
        with their data); re-expressed as one Newton step (:func:`~.returnmap.differentiable_solution`) when a
        parameter requires grad, so the result carries the implicit-function derivative. Returns ``(x, dR/dx at x)``
        (the closed-form Jacobian, for the tangents). ``points``: the rows' indices in the flattened batch."""
        n = scale.shape[0]
        slot = scale.new_zeros((n, 6))  # the engine's strain slot: these systems carry their data in ``data``

        def engine_residual(x: Tensor, _eps: Tensor, d: Mapping[str, Tensor]) -> Tensor:
            return residual(x, d)[0]

        x, _ = local_newton(
            engine_residual,
            scale.new_zeros((n, m)),
            slot,
            data,
            scale=scale.detach()[:, None].expand(n, m),
            tol=self.tol,
            max_iter=self.max_iter,
            model=type(self).__name__,
            where=lambda rows: [(int(points[int(r)]),) for r in rows],
        )
        if torch.is_grad_enabled() and any(t.requires_grad for t in self._params.values()):
            x = differentiable_solution(engine_residual, x, slot, data)
        with torch.no_grad():
            J = residual(x.detach(), {k: v.detach() for k, v in data.items()})[1]
        return x, J


class DruckerPrager(_FrictionalPlasticity):
    r"""Linear Drucker--Prager plasticity (Abaqus form, K = 1), associated or non-associated, cohesion hardening.

    .. math::
        F = q - p\tan\beta - d(\bar\varepsilon^p), \qquad G = q - p\tan\psi, \qquad
        d = (1 - \tan\beta/3)\,\sigma_c(\bar\varepsilon^p),

    :math:`p = -\operatorname{tr}\sigma/3` (compressive pressure), :math:`q = \sqrt{3/2}\|\operatorname{dev}\sigma\|`;
    :math:`\sigma_c(\bar\varepsilon^p) = \sigma_{c0} + H\bar\varepsilon^p + R(\bar\varepsilon^p)` is the yield stress
    in uniaxial compression (any :class:`~.hardening.HardeningLaw`), :math:`\dot\varepsilon^p = \dot\gamma\,\partial
    G/\partial\sigma`, :math:`\dot{\bar\varepsilon}^p = (1 - \tan\psi/3)\dot\gamma` (= :math:`|\dot\varepsilon^p_{11}|`
    in uniaxial compression, Abaqus's definition for ``*DRUCKER PRAGER HARDENING, TYPE=COMPRESSION``).

    Return map (backward Euler, exact): the **cone** return (scalar equation in Δγ, closed form for linear
    hardening) when it ends at q ≥ 0, else the **apex** return (purely volumetric, s = 0, scalar equation in the
    plastic volume change). Consistent tangent at both, unsymmetric when ψ ≠ β.

    Parameters
    ----------
    E, nu:
        Young's modulus and Poisson's ratio.
    beta:
        Friction angle β in the p--q plane, degrees, 0 ≤ β < arctan 3 (71.57°).
    sigma_c:
        Initial yield stress in uniaxial compression σ_c0 ≥ 0 (stress; d = (1 − tan β/3) σ_c).
    H:
        Linear hardening modulus of σ_c (stress), ≥ 0.
    psi:
        Dilation angle ψ, degrees, 0 ≤ ψ ≤ β (default ψ = β: associated flow).
    hardening, **law_parameters:
        A hardening law for σ_c as in :class:`~.plasticity.J2Plasticity` (``"voce"`` with ``Q``, ``b``, a law
        object, a callable R(ε̄)).
    tol, max_iter:
        Local Newton (nonlinear laws only): converged when :math:`|r| \le` tol · scale; at most ``max_iter`` updates.
    dtype, device:
        Floating-point dtype (default float64) and device.
    """

    beta = Parameter("friction angle beta in the p-q plane (degrees)", unit="degree", lower=0.0, upper=_BETA_MAX,
                     upper_open=True, shape=None)  # fmt: skip
    psi = Parameter("dilation angle psi (degrees)", unit="degree", lower=0.0, upper=_BETA_MAX, upper_open=True,
                    shape=None)  # fmt: skip
    sigma_c = Parameter("initial yield stress in uniaxial compression", unit="stress", lower=0.0, shape=None)
    H = Parameter("linear hardening modulus of sigma_c", unit="stress", lower=0.0, default=0.0, shape=None)
    _strength: ClassVar[str] = "sigma_c"

    def __init__(
        self,
        E: TensorLike,
        nu: TensorLike,
        beta: TensorLike,
        sigma_c: TensorLike,
        H: TensorLike = 0.0,
        psi: TensorLike | None = None,
        *,
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
        self._param("beta", beta)
        self._param("psi", beta if psi is None else psi)
        if bool((self.psi > self.beta).any()):
            raise ValueError(
                f"the dilation angle psi = {self.psi.tolist()} must not exceed the friction angle beta = "
                f"{self.beta.tolist()} (degrees)"
            )
        self._setup(sigma_c, H, hardening, law_parameters, tol, max_iter)

    @classmethod
    def from_mohr_coulomb(
        cls,
        E: TensorLike,
        nu: TensorLike,
        phi: float,
        c: float,
        psi: float | None = None,
        *,
        match: str = "compression",
        **kwargs: Any,
    ) -> DruckerPrager:
        """The Drucker--Prager cone matching Mohr--Coulomb (φ, c, ψ in degrees/stress) at the compression
        meridian (outer cone), the tension meridian (inner cone) or in plane strain (:func:`mohr_coulomb_match`);
        σ_c = d/(1 − tan β/3).

        Parameters
        ----------
        E, nu:
            Elastic constants.
        phi, c, psi:
            Mohr--Coulomb friction angle (degrees), cohesion (stress) and dilation angle (degrees; default φ).
        match:
            ``"compression"`` (outer cone), ``"tension"`` (inner cone) or ``"plane_strain"``.
        **kwargs:
            Further constructor arguments (``H`` and hardening laws act on σ_c, in the Drucker--Prager ε̄^p).
        """
        beta, psi_dp, d = mohr_coulomb_match(phi, c, psi, match)
        sigma_c = d / (1.0 - math.tan(math.radians(beta)) / 3.0)
        return cls(E, nu, beta, sigma_c, psi=psi_dp, **kwargs)

    def _friction(self) -> Tensor:
        return self.beta

    def cohesion(self, alpha: Tensor) -> tuple[Tensor, Tensor]:
        """:math:`d(\\bar\\varepsilon^p) = (1 - \\tan\\beta/3)\\sigma_c` and its slope."""
        kb = 1.0 - torch.tan(_rad(self.beta)) / 3.0
        s, ds = self.strength(alpha)
        return kb * s, kb * ds

    def yield_function(self, stress: TensorLike, alpha: TensorLike = 0.0) -> Tensor:
        """:math:`F = q - p\\tan\\beta - d(\\alpha)` at ``stress`` ``(..., 3, 3)``, shape ``(...)``."""
        sig = self.check_strain(stress, "stress")
        p = -trace(sig) / 3.0
        q = math.sqrt(1.5) * torch.linalg.vector_norm(dev(sig), dim=(-1, -2))
        a = torch.as_tensor(alpha, dtype=sig.dtype, device=sig.device)
        return q - p * torch.tan(_rad(self.beta)) - self.cohesion(a.expand(p.shape))[0]

    def _return(self, ee: Tensor, an: Tensor, need_tangent: bool) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
        Kb, G = self.moduli()
        tb, tp = torch.tan(_rad(self.beta)), torch.tan(_rad(self.psi))
        kp = 1.0 - tp / 3.0
        I = eye(ee.dtype, ee.device)
        tr = trace(ee)
        s_tr = 2.0 * G * dev(ee)
        p_tr = -Kb * tr
        q_tr = math.sqrt(1.5) * torch.linalg.vector_norm(s_tr, dim=(-1, -2))
        d_n, _ = self.cohesion(an)
        f_tr = q_tr - p_tr * tb - d_n
        plastic = (f_tr > 0).detach()
        sigma = s_tr - (p_tr)[:, None, None] * I
        alpha = an.clone()
        mode = torch.zeros(an.shape, dtype=torch.int64, device=an.device)
        C = self.elastic_tangent(an.shape) if need_tangent else None
        idx = torch.nonzero(plastic).reshape(-1)
        if idx.numel() == 0:
            return sigma, alpha, C, mode
        qt, pt, st, a0 = q_tr[idx], p_tr[idx], s_tr[idx], an[idx]
        scale = (qt + pt.abs() * tb + d_n[idx]).clamp_min(torch.finfo(ee.dtype).tiny)

        def cone(x: Tensor, c: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:  # r(Δγ) = q - p tanβ - d at n+1
            g = x[:, 0]
            d, dd = self.cohesion(c["a"] + kp * g)
            r = c["q"] - 3.0 * G * g - (c["p"] + Kb * tp * g) * tb - d
            return r[:, None], (-3.0 * G - Kb * tp * tb - kp * dd)[:, None, None]

        x, J = self._solve(cone, {"q": qt, "p": pt, "a": a0}, 1, scale, idx)
        dg = x[:, 0]
        q = qt - 3.0 * G * dg
        on_cone = (q >= 0).detach()
        # apex where the cone return overshoots the axis: needs dilatancy (tan ψ > 0) to reach it
        apex = ~on_cone
        if bool(apex.any()) and not bool((tp > 0).all()):
            bad = idx[apex]
            raise ConvergenceError(
                f"{type(self).__name__}: no admissible return at {int(apex.sum())} point(s) {bad[:5].tolist()}: the "
                "trial stress lies beyond the apex (hydrostatic tension) and psi = 0 allows no plastic volume change; "
                "the state was not updated",
                points=bad.tolist(), residuals=torch.full((int(apex.sum()),), float("inf")), iterations=0, tol=self.tol,
            )  # fmt: skip
        n_hat = st / (math.sqrt(2.0 / 3.0) * qt.clamp_min(torch.finfo(ee.dtype).tiny))[:, None, None]
        p = pt + Kb * tp * dg
        sig_c = -p[:, None, None] * I + math.sqrt(2.0 / 3.0) * q[:, None, None] * n_hat
        al_c = a0 + kp * dg
        A = -J[:, 0, 0]  # 3G + K tanψ tanβ + kβ kψ σ_c'
        sig_p, al_p = sig_c, al_c
        C_p = None
        if need_tangent:
            ratio = (q / qt.clamp_min(torch.finfo(ee.dtype).tiny)).clamp_min(0.0)
            u = _SQ6 * G * n_hat + (Kb * tp)[..., None, None] * I  # G-side: dq/dσ-direction of the flow
            v = _SQ6 * G * n_hat + (Kb * tb)[..., None, None] * I  # F-side
            c_sym = 2.0 * G * ratio
            # 2G ratio (I_dev - n n) + 2G n n + K I I - u v / A
            C_p = isotropic_rank_one_tangent(Kb - c_sym / 3.0, c_sym, 2.0 * G * (1.0 - ratio), n_hat)
            C_p = C_p - (u[:, :, :, None, None] * v[:, None, None, :, :]) / A[:, None, None, None, None]
        if bool(apex.any()):
            ia = torch.nonzero(apex).reshape(-1)
            pa, aa = pt[ia], a0[ia]
            cv = kp / tp  # dε̄ per unit plastic volume change at the apex

            def at_apex(x: Tensor, c: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:  # -(p tanβ + d) = 0, s = 0
                v_ = x[:, 0]
                d, dd = self.cohesion(c["a"] + cv * v_)
                r = -(c["p"] + Kb * v_) * tb - d
                return r[:, None], (-Kb * tb - cv * dd)[:, None, None]

            xa, Ja = self._solve(at_apex, {"p": pa, "a": aa}, 1, scale[ia], idx[ia])
            va = xa[:, 0]
            sig_a = -(pa + Kb * va)[:, None, None] * I.expand(len(ia), 3, 3)
            sig_p = sig_p.index_put((ia,), sig_a)
            al_p = al_p.index_put((ia,), aa + cv * va)
            if C_p is not None:
                Bm = -Ja[:, 0, 0]  # K tanβ + kβ (kψ/tanψ) σ_c'
                z = torch.zeros_like(va)
                c_vol = Kb * (1.0 - Kb * tb / Bm)
                C_a = isotropic_rank_one_tangent(c_vol + z, z, z, torch.zeros_like(sig_a))
                C_p = C_p.index_put((ia,), C_a)
        sigma = sigma.index_put((idx,), sig_p)
        alpha = alpha.index_put((idx,), al_p)
        mode = mode.index_put((idx,), torch.where(on_cone, _SMOOTH, _APEX))
        if C is not None and C_p is not None:
            C = C.index_put((idx,), C_p)
        return sigma, alpha, C, mode


class MohrCoulomb(_FrictionalPlasticity):
    r"""Mohr--Coulomb plasticity, non-associated flow, cohesion hardening, exact plane/edge/apex returns.

    Principal-stress returns to the main plane, the two edges and the apex (de Souza Neto, Perić & Owen 2008,
    Sect. 8.2).

    .. math::
        \Phi = (\sigma_1 - \sigma_3) + (\sigma_1 + \sigma_3)\sin\phi - 2c(\bar\varepsilon^p)\cos\phi, \qquad
        \Psi = (\sigma_1 - \sigma_3) + (\sigma_1 + \sigma_3)\sin\psi,

    σ₁ ≥ σ₂ ≥ σ₃ (tension positive), :math:`c(\bar\varepsilon^p) = c_0 + H\bar\varepsilon^p + R(\bar\varepsilon^p)`
    (any :class:`~.hardening.HardeningLaw`), :math:`\dot{\bar\varepsilon}^p = 2\cos\phi\sum_k \dot\gamma_k` over the
    active planes. The trial stress is diagonalised (``torch.linalg.eigh`` of the trial elastic strain), the return
    runs on the principal values, and the consistent tangent is mapped back with the spectral terms
    :math:`(\sigma_i - \sigma_j)/(\varepsilon^e_i - \varepsilon^e_j)` (:func:`constitutive.tensor.spectral_derivative`,
    which takes the exact limit at repeated eigenvalues).

    Parameters
    ----------
    E, nu:
        Young's modulus and Poisson's ratio.
    phi:
        Friction angle φ, degrees, 0 ≤ φ < 90 (φ = 0: Tresca).
    c:
        Initial cohesion c₀ ≥ 0 (stress).
    H:
        Linear hardening modulus of the cohesion (stress), ≥ 0.
    psi:
        Dilation angle ψ, degrees, 0 ≤ ψ ≤ φ (default ψ = φ: associated flow). The apex return needs ψ > 0.
    hardening, **law_parameters:
        A hardening law for c, as in :class:`~.plasticity.J2Plasticity`.
    tol, max_iter:
        Local Newton options (nonlinear laws only).
    dtype, device:
        Floating-point dtype (default float64) and device.
    """

    phi = Parameter("friction angle phi (degrees)", unit="degree", lower=0.0, upper=90.0, upper_open=True, shape=None)
    psi = Parameter("dilation angle psi (degrees)", unit="degree", lower=0.0, upper=90.0, upper_open=True, shape=None)
    c = Parameter("initial cohesion", unit="stress", lower=0.0, shape=None)
    H = Parameter("linear hardening modulus of the cohesion", unit="stress", lower=0.0, default=0.0, shape=None)
    _strength: ClassVar[str] = "c"

    def __init__(
        self,
        E: TensorLike,
        nu: TensorLike,
        phi: TensorLike,
        c: TensorLike,
        H: TensorLike = 0.0,
        psi: TensorLike | None = None,
        *,
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
        self._param("phi", phi)
        self._param("psi", phi if psi is None else psi)
        if bool((self.psi > self.phi).any()):
            raise ValueError(
                f"the dilation angle psi = {self.psi.tolist()} must not exceed the friction angle phi = "
                f"{self.phi.tolist()} (degrees)"
            )
        self._setup(c, H, hardening, law_parameters, tol, max_iter)

    def _friction(self) -> Tensor:
        return self.phi

    def yield_function(self, stress: TensorLike, alpha: TensorLike = 0.0) -> Tensor:
        """:math:`\\Phi` of the main plane at ``stress`` ``(..., 3, 3)`` (principal stresses sorted), ``(...)``."""
        sig = self.check_strain(stress, "stress")
        lam = torch.linalg.eigvalsh(sig)
        s1, s3 = lam[..., 2], lam[..., 0]
        a = torch.as_tensor(alpha, dtype=sig.dtype, device=sig.device).expand(s1.shape)
        sf, cf = torch.sin(_rad(self.phi)), torch.cos(_rad(self.phi))
        return (s1 - s3) + (s1 + s3) * sf - 2.0 * self.strength(a)[0] * cf

    def _return(self, ee: Tensor, an: Tensor, need_tangent: bool) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
        Kb, G = self.moduli()
        lam = Kb - 2.0 * G / 3.0
        dt, dv = ee.dtype, ee.device
        I = eye(dt, dv)
        sf, cf = torch.sin(_rad(self.phi)), torch.cos(_rad(self.phi))
        sp = torch.sin(_rad(self.psi))
        tr = trace(ee)
        sigma = lam * tr[:, None, None] * I + 2.0 * G * ee
        alpha = an.clone()
        mode = torch.zeros(an.shape, dtype=torch.int64, device=dv)
        C = self.elastic_tangent(an.shape) if need_tangent else None
        # the trial yield test on the sorted principal trial stresses (eigenvalues of ee, descending)
        with torch.no_grad():
            e_all = torch.linalg.eigvalsh(ee.detach()).flip(-1)
            s_all = lam * tr.detach()[:, None] + 2.0 * G.detach() * e_all
            c_n = self.strength(an.detach())[0]
            f_tr = (s_all[:, 0] - s_all[:, 2]) + (s_all[:, 0] + s_all[:, 2]) * sf.detach() - 2.0 * c_n * cf.detach()
        idx = torch.nonzero(f_tr > 0).reshape(-1)
        if idx.numel() == 0:
            return sigma, alpha, C, mode
        e_val, Q = torch.linalg.eigh(ee[idx])
        e_val, Q = e_val.flip(-1), Q.flip(-1)  # descending: ε₁ ≥ ε₂ ≥ ε₃, eigenvectors as columns
        s_tr = lam * trace(ee[idx])[:, None] + 2.0 * G * e_val
        a0 = an[idx]
        n = idx.numel()
        scale = (s_tr.abs().amax(-1) + c_n[idx]).clamp_min(torch.finfo(dt).tiny).detach()
        De = lam * torch.ones(3, 3, dtype=dt, device=dv) + 2.0 * G * torch.eye(3, dtype=dt, device=dv)
        zero = torch.zeros((), dtype=dt, device=dv)

        def vec(a: Tensor, b: Tensor, c: Tensor) -> Tensor:
            return torch.stack(torch.broadcast_tensors(a, b, c))

        Fa, Na = vec(1 + sf, zero, -1 + sf), vec(1 + sp, zero, -1 + sp)  # main plane (1, 3)
        Fc, Nc = vec(zero, 1 + sf, -1 + sf), vec(zero, 1 + sp, -1 + sp)  # plane (2, 3): edge σ₁ = σ₂
        Fe, Ne = vec(1 + sf, -1 + sf, zero), vec(1 + sp, -1 + sp, zero)  # plane (1, 2): edge σ₂ = σ₃

        def planes(x: Tensor, c: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
            """Residual of the active planes: Φ_i(σ^tr − De Σ_j Δγ_j N_j, ε̄_n + 2 cos φ Σ Δγ), with
            ``c["Fs"]`` = F_i·σ^tr ``(k, m)``, ``c["A"]`` = F_i·De N_j ``(k, m, m)``, ``c["a"]`` = ε̄_n."""
            cc, dc = self.strength(c["a"] + 2.0 * cf * x.sum(-1))
            r = c["Fs"] - torch.einsum("kml,kl->km", c["A"], x) - (2.0 * cf * cc)[:, None]
            return r, -c["A"] - (4.0 * cf * cf * dc)[:, None, None]

        def plane_result(F: Tensor, N: Tensor, st: Tensor, al: Tensor, pts: Tensor) -> tuple[Tensor, ...]:
            data = {"Fs": torch.einsum("kmi,ki->km", F, st), "A": torch.einsum("kmi,ij,klj->kml", F, De, N), "a": al}
            x, J = self._solve(planes, data, F.shape[1], scale[pts], idx[pts])
            sig = st - torch.einsum("ij,kmj,km->ki", De, N, x)
            return sig, al + 2.0 * cf * x.sum(-1), x, J

        sig_p = torch.empty_like(s_tr)
        al_p = torch.empty_like(a0)
        mode_p = torch.empty(n, dtype=torch.int64, device=dv)
        D_p = torch.empty(n, 3, 3, dtype=dt, device=dv) if need_tangent else None

        def put(pts: Tensor, sig: Tensor, al: Tensor, code: int, D: Tensor | None) -> None:
            sig_p[pts] = sig
            al_p[pts] = al
            mode_p[pts] = code
            if D_p is not None and D is not None:
                D_p[pts] = D

        def plane_tangent(F: Tensor, N: Tensor, J: Tensor) -> Tensor:
            # dσ = (1 + De Nᵀ J⁻¹ F) De dε  (principal, from dR = F dσ^tr + J dx = 0)
            k = F.shape[0]
            DN = torch.einsum("ij,kmj->kim", De, N)
            return (torch.eye(3, dtype=dt, device=dv) + DN @ torch.linalg.solve(J, F)) @ De.expand(k, 3, 3)

        # 1. main plane
        every = torch.arange(n, device=dv)
        F1, N1 = Fa.expand(n, 1, 3), Na.expand(n, 1, 3)
        sig1, al1, _, J1 = plane_result(F1, N1, s_tr, a0, every)
        ok1 = ((sig1[:, 0] >= sig1[:, 1]) & (sig1[:, 1] >= sig1[:, 2])).detach()
        if bool(ok1.any()):
            put(every[ok1], sig1[ok1], al1[ok1], _SMOOTH,
                plane_tangent(F1[ok1], N1[ok1], J1[ok1]) if need_tangent else None)  # fmt: skip
        rest = every[~ok1]
        if rest.numel():
            # 2. an edge: σ₁ = σ₂ (compression meridian) or σ₂ = σ₃ (extension), chosen from the trial stress
            t = s_tr[rest].detach()
            to_c = ((1 - sp.detach()) * t[:, 0] - 2.0 * t[:, 1] + (1 + sp.detach()) * t[:, 2]) < 0
            F2 = torch.where(to_c[:, None, None], torch.stack((Fa, Fc)).expand(len(rest), 2, 3),
                             torch.stack((Fa, Fe)).expand(len(rest), 2, 3))  # fmt: skip
            N2 = torch.where(to_c[:, None, None], torch.stack((Na, Nc)).expand(len(rest), 2, 3),
                             torch.stack((Na, Ne)).expand(len(rest), 2, 3))  # fmt: skip
            sig2, al2, _, J2 = plane_result(F2, N2, s_tr[rest], a0[rest], rest)
            ok2 = torch.where(to_c, sig2[:, 1] >= sig2[:, 2], sig2[:, 0] >= sig2[:, 1]).detach()
            if bool(ok2.any()):
                codes = torch.where(to_c, _EDGE_C, _EDGE_E)[ok2]
                D2 = plane_tangent(F2[ok2], N2[ok2], J2[ok2]) if need_tangent else None
                pts = rest[ok2]
                sig_p[pts], al_p[pts], mode_p[pts] = sig2[ok2], al2[ok2], codes
                if D_p is not None and D2 is not None:
                    D_p[pts] = D2
            apex = rest[~ok2]
            if apex.numel():
                # 3. the apex σ₁ = σ₂ = σ₃ = c cot φ: plastic volume change v, ε̄ = ε̄_n + (cos φ / sin ψ) v
                if not (bool((sp > 0).all()) and bool((sf > 0).all())):
                    raise ConvergenceError(
                        f"{type(self).__name__}: no admissible return at {apex.numel()} point(s) "
                        f"{idx[apex][:5].tolist()}: the trial stress lies beyond the apex and psi = 0 allows no "
                        "plastic volume change; the state was not updated",
                        points=idx[apex].tolist(), residuals=torch.full((apex.numel(),), float("inf")), iterations=0,
                        tol=self.tol,
                    )  # fmt: skip
                cv = cf / sp
                cot = cf / sf
                sm = s_tr[apex].mean(-1)
                aa = a0[apex]

                def at_apex(x: Tensor, c: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
                    cc, dc = self.strength(c["a"] + cv * x[:, 0])
                    r = c["sm"] - Kb * x[:, 0] - cot * cc
                    return r[:, None], (-Kb - cot * cv * dc)[:, None, None]

                xa, Ja = self._solve(at_apex, {"sm": sm, "a": aa}, 1, scale[apex], idx[apex])
                sig3 = (sm - Kb * xa[:, 0])[:, None].expand(apex.numel(), 3)
                D3 = None
                if need_tangent:
                    D3 = (Kb * (1.0 + Kb / Ja[:, 0, 0]))[:, None, None] * torch.ones(3, 3, dtype=dt, device=dv)
                put(apex, sig3, aa + cv * xa[:, 0], _APEX, D3)
        # back to tensors: σ = Σ σ_i v_i ⊗ v_i; tangent with the spectral (σ_i − σ_j)/(ε_i − ε_j) terms
        sig_t = (Q * sig_p[:, None, :]) @ Q.transpose(-1, -2)
        sig_t = 0.5 * (sig_t + sig_t.transpose(-1, -2))  # exactly symmetric (round-off of the product is not)
        sigma = sigma.index_put((idx,), sig_t)
        alpha = alpha.index_put((idx,), al_p)
        mode = mode.index_put((idx,), mode_p)
        if C is not None and D_p is not None:
            # eigenvalues scaled to O(1) so that the repeated-eigenvalue test of spectral_derivative is relative
            s = e_val.detach().abs().amax(-1, keepdim=True).clamp_min(torch.finfo(dt).tiny)
            Cp = spectral_derivative(e_val / s, Q, sig_p, D_p * s[:, :, None]) / s[:, :, None, None, None]
            C = C.index_put((idx,), Cp)
        return sigma, alpha, C, mode
