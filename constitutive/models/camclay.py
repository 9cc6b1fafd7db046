r"""Modified Cam-clay (critical-state soil mechanics) with porous (logarithmic) elasticity, small strain.

Sign convention, named once. The package is **tension positive** (σ, ε). Soil mechanics works with compressive
quantities; this module converts once, here, and uses only these:

.. math::
    p = -\tfrac13 \operatorname{tr}\sigma, \qquad q = \sqrt{3/2}\,\|\operatorname{dev}\sigma\|, \qquad
    \varepsilon_v = -\operatorname{tr}\varepsilon, \qquad \varepsilon_s = \sqrt{2/3}\,\|\operatorname{dev}
    \varepsilon\|,

so p > 0 and ε_v > 0 in compression (:func:`mean_pressure`, :func:`deviatoric_stress_q`). The void ratio is
:math:`e = e_0 + (1 + e_0)\operatorname{tr}\varepsilon = e_0 - (1 + e_0)\varepsilon_v` (small strain).

Elasticity (Abaqus ``*POROUS ELASTIC``, logarithmic form), with ε^e = ε − ε^p and p_t ≥ 0 the elastic tensile limit:

.. math::
    p + p_t = (p_0 + p_t)\,\exp\!\left(\frac{(1 + e_0)\,\varepsilon^e_v}{\kappa}\right), \qquad
    \operatorname{dev}\sigma = 2G\,\operatorname{dev}\varepsilon^e,

the **hyperelastic exponential form** of the rate law :math:`dp = K\,d\varepsilon^e_v`,
:math:`K = (1 + e_0)(p + p_t)/\kappa` (integrated exactly: no step-size error). The stress at zero strain is
:math:`-p_0 I` (``p0``: the initial mean effective pressure, a parameter). Shear: a constant G (``G``) or a
constant Poisson ratio (``nu``), :math:`G(p) = 3K(p)(1 - 2\nu)/(2(1 + \nu))`, used in the total (secant) form
:math:`\operatorname{dev}\sigma = 2G(p)\operatorname{dev}\varepsilon^e` (path independent inside the elastic domain).

Yield function (ellipse through p = 0 and p = p_c in the p–q plane; the critical-state line is q = M p):

.. math::  f = q^2/M^2 + p\,(p - p_c) \le 0,

associated flow :math:`\dot\varepsilon^p = \dot\gamma\,\partial f/\partial\sigma`, so
:math:`\dot\varepsilon^p_v = \dot\gamma\,(2p - p_c)` and :math:`\dot\varepsilon^p_s = \dot\gamma\,2q/M^2`, and
exponential hardening of the preconsolidation pressure (exact over a step):

.. math::  p_c = p_{c,n}\exp\!\left(\frac{(1 + e_0)\,\Delta\varepsilon^p_v}{\lambda - \kappa}\right).

Tension cut-off: the ellipse passes through p = 0, so no admissible state carries mean tension (p ≥ 0 on and
inside the yield surface); p_t only shapes the elastic law (p > −p_t for every elastic strain).

Return map (backward Euler). The trial elastic strain :math:`\varepsilon^{e,tr} = \varepsilon - \varepsilon^p_n`
gives :math:`\varepsilon^{e,tr}_v` and :math:`e^{tr} = \operatorname{dev}\varepsilon^{e,tr}`. Flow keeps the
deviatoric direction: :math:`\operatorname{dev}\varepsilon^e = e^{tr}/d`, :math:`d = 1 + 6G\Delta\gamma/M^2`
(G at the end-of-step pressure), so two scalar unknowns per point suffice,
:math:`x = (\Delta\varepsilon^p_v,\ y = \Delta\gamma\, p_{c,n})` (both dimensionless), with
:math:`\varepsilon^e_v = \varepsilon^{e,tr}_v - \Delta\varepsilon^p_v` and

.. math::
    R_1 = \Delta\varepsilon^p_v - y\,(2p - p_c)/p_{c,n} = 0, \qquad
    R_2 = \frac{q^2/M^2 + p\,(p - p_c)}{(p + p_t)\,p_c} = 0, \qquad q^2 = 6G^2\|e^{tr}\|^2/d^2,

smooth at :math:`e^{tr} = 0` (isotropic compression along the normal consolidation line). R2 is f scaled by the
current size: scaled by :math:`p_{c,n}^2` it has a spurious root as p → 0 (with ν, G ∝ p + p_t and f vanish as the
elastic strain goes to tension), which Newton followed from far trial states on the dry side; this R2 tends to −1
there. Iterates keep d ≥ 1/2 (q depends on d², so d ≤ 0 is a spurious branch). The consistent tangent is the
engine's implicit-function tangent (:func:`~.returnmap.implicit_tangent`).

State (a ``dict`` of tensors, batch shape ``B`` in front): ``"eps_p"`` ``(*B, 3, 3)`` plastic strain (with a
volumetric part); ``"p_c"`` ``(*B)`` preconsolidation pressure (> 0); ``"alpha"`` ``(*B)`` accumulated equivalent
plastic strain :math:`\sum\sqrt{2/3}\|\Delta\varepsilon^p\|`; ``"void_ratio"`` ``(*B)`` the void ratio at the end of
the step (an output: nothing reads it back). Virgin state: ε^p = 0, p_c = ``pc0``, α = 0, e = ``e0``.

References: Roscoe & Burland (1968); Borja & Lee (1990), *Comput. Methods Appl. Mech. Eng.* 78, 49–72; de Souza
Neto, Perić & Owen, *Computational Methods for Plasticity* (2008), ch. 8 (critical-state models); Abaqus Analysis
User's Guide, 'Critical state (clay) plasticity model' and 'Elastic behavior of porous materials'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from ..tensor import DEFAULT_DTYPE, Tensor, TensorLike, as_tensor
from .base import check_state_values
from .parameters import OptionalParameter, Parameter
from .plasticity import mandel_to_tensor, tensor_to_mandel
from .returnmap import ReturnMappingMaterial, mandel_deviator, mandel_identity

__all__ = [
    "ModifiedCamClay",
    "mean_pressure",
    "deviatoric_stress_q",
    "drained_triaxial_failure",
    "undrained_triaxial_q",
    "undrained_failure_pressure",
]

_SQ23 = math.sqrt(2.0 / 3.0)
State = Mapping[str, Tensor]


# ---------------------------------------------------------------------------------------------- the conventions
def mean_pressure(stress: Tensor) -> Tensor:
    r"""Mean effective pressure :math:`p = -\operatorname{tr}\sigma/3` (compression positive), ``(...)`` from
    ``(..., 3, 3)``."""
    return -torch.diagonal(stress, dim1=-2, dim2=-1).sum(-1) / 3.0


def deviatoric_stress_q(stress: Tensor) -> Tensor:
    r"""Von Mises equivalent stress :math:`q = \sqrt{3/2}\,\|\operatorname{dev}\sigma\|` ``(...)``."""
    tr = torch.diagonal(stress, dim1=-2, dim2=-1).sum(-1)
    s = stress - (tr / 3.0)[..., None, None] * torch.eye(3, dtype=stress.dtype, device=stress.device)
    return math.sqrt(1.5) * torch.linalg.vector_norm(s, dim=(-1, -2))


# ---------------------------------------------------------------------------------------------- closed forms
def drained_triaxial_failure(M: float, p0: float) -> tuple[float, float]:
    r"""Critical state ``(p_f, q_f)`` of a drained triaxial compression test at constant cell pressure from the
    isotropic state p0: the total stress path q = 3 (p − p0) meets the critical-state line q = M p at
    :math:`p_f = 3p_0/(3 - M)` (M < 3), :math:`q_f = M p_f`."""
    if not 0.0 < M < 3.0:
        raise ValueError(f"the drained path q = 3(p - p0) reaches q = M p only for 0 < M < 3, got M = {M}")
    pf = 3.0 * p0 / (3.0 - M)
    return pf, M * pf


def undrained_triaxial_q(
    p: TensorLike, M: float, lmbda: float, kappa: float, p0: float, pc0: float, p_t: float = 0.0
) -> Tensor:
    r"""Deviatoric stress q on the undrained (ε_v = 0) effective stress path of modified Cam-clay, once yielding,
    as a function of p (``(...)``).

    With no volume change the elastic and plastic volumetric strains cancel, so
    :math:`\kappa\ln\frac{p + p_t}{p_0 + p_t} + (\lambda - \kappa)\ln\frac{p_c}{p_{c0}} = 0`, and on the yield
    surface :math:`q^2 = M^2 p\,(p_c - p)`:

    .. math:: q = M\sqrt{p\,(p_c(p) - p)},\qquad
              p_c(p) = p_{c0}\left(\frac{p_0 + p_t}{p + p_t}\right)^{\kappa/(\lambda - \kappa)}.

    Exact for the backward-Euler update too (the relations hold at the end of every step).

    Parameters
    ----------
    p:
        Mean effective pressures (compression positive).
    M, lmbda, kappa:
        Critical-state slope and the logarithmic plastic and elastic bulk moduli λ > κ.
    p0, pc0:
        Initial pressure and preconsolidation pressure.
    p_t:
        Elastic tensile limit.
    """
    p = as_tensor(p, dtype=torch.float64)
    pc = pc0 * ((p0 + p_t) / (p + p_t)) ** (kappa / (lmbda - kappa))
    return M * torch.sqrt(p * (pc - p))


def undrained_failure_pressure(lmbda: float, kappa: float, p0: float, pc0: float) -> float:
    r"""Mean effective pressure at which the undrained path reaches the critical-state line (p_t = 0):
    q = M p means p_c = 2p on the ellipse, hence

    .. math:: \frac{p_f}{p_0} = \left(\frac{p_{c0}}{2 p_0}\right)^{\Lambda}, \qquad \Lambda = \frac{\lambda -
              \kappa}{\lambda}

    (normally consolidated, p_c0 = p0: :math:`p_f = p_0\, 2^{-\Lambda}`)."""
    Lam = (lmbda - kappa) / lmbda
    return p0 * (pc0 / (2.0 * p0)) ** Lam


# ---------------------------------------------------------------------------------------------- the model
class ModifiedCamClay(ReturnMappingMaterial):
    r"""Modified Cam-clay plasticity with porous (logarithmic) elasticity (small strain, tension positive).

    Parameters
    ----------
    kappa:
        Logarithmic elastic bulk modulus κ > 0 (slope of the unloading–reloading line in e–ln p).
    lmbda:
        Logarithmic plastic bulk modulus λ > κ (slope of the normal consolidation line in e–ln p).
    M:
        Slope of the critical-state line q = M p (> 0).
    e0:
        Initial void ratio (> 0).
    p0:
        Initial mean effective pressure (> 0, compression positive): the stress at zero strain is −p0 I.
    pc0:
        Initial preconsolidation pressure p_c0 ≥ p0 (the size of the initial ellipse; p_c0 = p0: normally
        consolidated; the overconsolidation ratio is p_c0/p0).
    G, nu:
        Exactly one: a constant shear modulus G > 0, or a Poisson ratio ν in (−1, 0.5) giving the
        pressure-dependent :math:`G = 3(1 - 2\nu)(1 + e_0)(p + p_t)/(2(1 + \nu)\kappa)`.
    p_t:
        Elastic tensile limit p_t ≥ 0 (default 0): :math:`p \to -p_t` as the elastic volumetric strain goes to
        tension (Abaqus :math:`p^{el}_t`).
    tol, max_iter:
        Local Newton (:func:`~.returnmap.local_newton`): converged when both (dimensionless) residuals are below
        ``tol`` (default 1e-11 in float64, 1e-5 in float32); at most ``max_iter`` Newton updates.
    dtype, device:
        Floating-point dtype (default float64) and device (default CPU).
    """

    kappa = Parameter("logarithmic elastic bulk modulus (URL slope)", unit="1", lower=0.0, lower_open=True)
    lmbda = Parameter("logarithmic plastic bulk modulus (NCL slope), > kappa", unit="1", lower=0.0, lower_open=True)
    M = Parameter("slope of the critical-state line q = M p", unit="1", lower=0.0, lower_open=True)
    e0 = Parameter("initial void ratio", unit="1", lower=0.0, lower_open=True)
    p0 = Parameter("initial mean effective pressure (compression positive)", unit="stress", lower=0.0, lower_open=True)
    pc0 = Parameter("initial preconsolidation pressure, >= p0", unit="stress", lower=0.0, lower_open=True)
    G = OptionalParameter("constant shear modulus (or give nu)", unit="stress", lower=0.0, lower_open=True)
    nu = OptionalParameter(
        "Poisson ratio of the pressure-dependent shear modulus (or give G)",
        unit="1",
        lower=-1.0,
        upper=0.5,
        lower_open=True,
        upper_open=True,
    )
    p_t = Parameter("elastic tensile limit", unit="stress", lower=0.0, default=0.0)
    n_unknowns = 2  # x = (Δε^p_v, Δγ p_c,n)
    tol: float
    max_iter: int

    def __init__(
        self,
        kappa: TensorLike,
        lmbda: TensorLike,
        M: TensorLike,
        e0: TensorLike,
        p0: TensorLike,
        pc0: TensorLike,
        G: TensorLike | None = None,
        nu: TensorLike | None = None,
        p_t: TensorLike = 0.0,
        *,
        tol: float | None = None,
        max_iter: int = 50,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        for name, value in (("kappa", kappa), ("lmbda", lmbda), ("M", M), ("e0", e0), ("p0", p0), ("pc0", pc0)):
            self._param(name, value)
        if (G is None) == (nu is None):
            raise ValueError(
                "ModifiedCamClay: give exactly one of G (constant shear modulus) or nu (Poisson ratio of the "
                f"pressure-dependent shear modulus); got {'both' if G is not None else 'neither'}"
            )
        if G is not None:
            self._param("G", G)
        else:
            self._param("nu", nu)  # type: ignore[arg-type]  # checked above
        self._param("p_t", p_t)
        if not _wrapped_any(self.kappa, self.lmbda) and bool((self.lmbda <= self.kappa).any()):
            raise ValueError(
                f"parameter 'lmbda' must exceed 'kappa' (the normal consolidation line is steeper than the "
                f"unloading line), got lmbda = {float(self.lmbda)} <= kappa = {float(self.kappa)}"
            )
        if not _wrapped_any(self.p0, self.pc0) and bool((self.pc0 < self.p0).any()):
            raise ValueError(
                f"parameter 'pc0' must be >= 'p0' (the initial state must lie inside the yield surface), got "
                f"pc0 = {float(self.pc0)} < p0 = {float(self.p0)}"
            )
        self._solver_options(tol, max_iter)

    # ------------------------------------------------------------------------------------------------ elasticity
    def pressure(self, eps_v_e: Tensor) -> Tensor:
        r""":math:`p = (p_0 + p_t)\exp((1 + e_0)\varepsilon^e_v/\kappa) - p_t` for the elastic volumetric strain
        (compression positive) ``(...)``."""
        return (self.p0 + self.p_t) * torch.exp((1.0 + self.e0) * eps_v_e / self.kappa) - self.p_t

    def bulk_modulus(self, p: Tensor) -> Tensor:
        r"""Tangent bulk modulus :math:`K = dp/d\varepsilon^e_v = (1 + e_0)(p + p_t)/\kappa` ``(...)``."""
        return (1.0 + self.e0) * (p + self.p_t) / self.kappa

    def shear_modulus(self, p: Tensor) -> Tensor:
        r"""G (constant) or :math:`3K(p)(1 - 2\nu)/(2(1 + \nu))` ``(...)``."""
        if "G" in self._params:
            return self._params["G"] + torch.zeros_like(p)
        nu = self._params["nu"]
        return 1.5 * (1.0 - 2.0 * nu) / (1.0 + nu) * self.bulk_modulus(p)

    def yield_function(self, p: Tensor, q: Tensor, p_c: Tensor) -> Tensor:
        r""":math:`f = q^2/M^2 + p(p - p_c)` (stress²) ``(...)``."""
        return q * q / (self.M * self.M) + p * (p - p_c)

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """``eps_p`` ``(*B, 3, 3)``, ``p_c`` ``(*B)``, ``alpha`` ``(*B)``, ``void_ratio`` ``(*B)``."""
        return {"eps_p": (3, 3), "p_c": (), "alpha": (), "void_ratio": ()}

    def initial_state(self, batch_shape: tuple[int, ...] | torch.Size = ()) -> dict[str, Tensor]:
        """The virgin state: ε^p = 0, p_c = ``pc0``, α = 0, void ratio ``e0``."""
        state = super().initial_state(batch_shape)
        state["p_c"] = state["p_c"] + self.pc0  # carries pc0's graph when it requires grad (calibration)
        state["void_ratio"] = state["void_ratio"] + self.e0
        return state

    # ------------------------------------------------------------------------------- the return-map pieces
    # Pointwise hooks of the shared engine (:class:`~.returnmap.ReturnMappingMaterial`): Mandel vectors (n, 6) in
    # the engine's convention (orthonormal: norms are plain vector norms; tr v = v0 + v1 + v2), state rows (n, ...).
    def _trial(self, eps: Tensor, state: State) -> tuple[Tensor, Tensor, Tensor]:
        """``(ε^{e,tr}_v (n,), e^{tr} (n, 6), ‖e^{tr}‖² (n,))`` from the Mandel strain and the state."""
        e_tr, tr = mandel_deviator(eps - tensor_to_mandel(state["eps_p"]))
        return -tr, e_tr, (e_tr * e_tr).sum(-1)

    def _invariants(self, x: Tensor, ev_tr: Tensor, e_sq: Tensor, pc_n: Tensor) -> tuple[Tensor, ...]:
        """``(p, G, p_c, d, q²)`` at the unknowns ``x = (Δε^p_v, y)`` (module docstring)."""
        dvp, y = x[..., 0], x[..., 1]
        p = self.pressure(ev_tr - dvp)
        G = self.shear_modulus(p)
        pc = pc_n * torch.exp((1.0 + self.e0) * dvp / (self.lmbda - self.kappa))
        d = 1.0 + 6.0 * G * y / (self.M * self.M * pc_n)
        q2 = 6.0 * G * G * e_sq / (d * d)
        return p, G, pc, d, q2

    def _elastic_stress(self, eps: Tensor, state: State) -> Tensor:
        """The porous-elastic stress ``(n, 6)`` at ε^e = ε − ε^p_n."""
        return self._plastic_stress(eps.new_zeros((eps.shape[0], 2)), eps, state)

    def _trial_yield(self, eps: Tensor, state: State) -> Tensor:
        """:math:`f^{tr}/p_{c,n}^2` ``(n,)``."""
        ev_tr, _, e_sq = self._trial(eps, state)
        pc_n = state["p_c"]
        p, _, _, _, q2 = self._invariants(eps.new_zeros((eps.shape[0], 2)), ev_tr, e_sq, pc_n)
        return self.yield_function(p, torch.sqrt(q2), pc_n) / (pc_n * pc_n)

    def _residual(self, x: Tensor, eps: Tensor, state: State) -> Tensor:
        """Backward-Euler residual ``(n, 2)``: R1 (flow rule, volume), R2 (f/((p + p_t) p_c), consistency)."""
        ev_tr, _, e_sq = self._trial(eps, state)
        pc_n = state["p_c"]
        p, _, pc, _, q2 = self._invariants(x, ev_tr, e_sq, pc_n)
        r1 = x[..., 0] - x[..., 1] * (2.0 * p - pc) / pc_n
        r2 = (q2 / (self.M * self.M) + p * (p - pc)) / ((p + self.p_t) * pc)
        return torch.stack((r1, r2), -1)

    def _clip(self, x: Tensor, eps: Tensor, state: State) -> Tensor:
        """Keep d = 1 + 6GΔγ/M² ≥ 1/2 along the iterations. Newton may pass through Δγ < 0 on its way (with a
        pressure-dependent G, plastic compaction lowers q sharply, and the first iterate can undershoot), but
        d ≤ 0 is a spurious branch (q² depends on d²)."""
        ev_tr, _, _ = self._trial(eps, state)
        pc_n = state["p_c"]
        G = self.shear_modulus(self.pressure(ev_tr - x[..., 0]))
        y_min = -0.5 * self.M * self.M * pc_n / (6.0 * G)
        return torch.stack((x[..., 0], torch.maximum(x[..., 1], y_min)), -1)

    def _plastic_stress(self, x: Tensor, eps: Tensor, state: State) -> Tensor:
        r"""Mandel stress ``(n, 6)``: :math:`-p\,I + 2G\,e^{tr}/d` (x = 0: the elastic trial stress)."""
        ev_tr, e_tr, e_sq = self._trial(eps, state)
        p, G, _, d, _ = self._invariants(x, ev_tr, e_sq, state["p_c"])
        return -p[..., None] * mandel_identity(eps) + (2.0 * G / d)[..., None] * e_tr

    def _plastic_state(self, x: Tensor, eps: Tensor, state: State) -> dict[str, Tensor]:
        """Plastic strain ε − ε^e, p_c, α (the void ratio is set for every point in :meth:`_assemble`)."""
        ev_tr, e_tr, e_sq = self._trial(eps, state)
        _, _, pc, d, _ = self._invariants(x, ev_tr, e_sq, state["p_c"])
        eps_e = ((x[..., 0] - ev_tr) / 3.0)[..., None] * mandel_identity(eps) + e_tr / d[..., None]
        eps_p = mandel_to_tensor(eps - eps_e)
        # the increment's norm enters only the state (no stress depends on it): detached, so no 0/0 derivative
        alpha = state["alpha"] + _SQ23 * torch.linalg.vector_norm((eps_p - state["eps_p"]).detach(), dim=(-1, -2))
        return {"eps_p": eps_p, "p_c": pc, "alpha": alpha}

    def _assemble(
        self, eps: Tensor, state: dict[str, Tensor], idx: Tensor, e_p: Tensor, s_p: dict[str, Tensor], x_star: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        r"""The engine's assembly, plus the void ratio :math:`e_0 + (1 + e_0)\operatorname{tr}\varepsilon` at
        every point (elastic ones included)."""
        sigma, new_state = super()._assemble(eps, state, idx, e_p, s_p, x_star)
        new_state["void_ratio"] = self.e0 + (1.0 + self.e0) * eps[..., :3].sum(-1)
        return sigma, new_state

    def _finish(
        self, sigma: Tensor, new_state: dict[str, Tensor], C: Tensor | None, batch: torch.Size
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        # the engine's reshape(*batch, *tail) has no argument for an unbatched point and a scalar state entry
        # (p_c, alpha, void_ratio): reshape with a tuple instead
        tails = self.state_shapes()
        shaped = {k: v.reshape((*batch, *tails[k])) for k, v in new_state.items()}
        stress, _, C4 = super()._finish(sigma, {}, C, batch)
        return stress, shaped, C4

    def _check_state_values(self, state: State) -> None:
        check_state_values(
            (state["alpha"], "state['alpha'] (accumulated plastic strain)", "nonnegative"),
            (state["eps_p"], "state['eps_p'] (plastic strain)", "symmetric"),
        )
        pc = state["p_c"].detach()
        if pc.numel() and not _wrapped_any(pc) and not bool((pc > 0).all()):
            raise ValueError(f"state['p_c'] (preconsolidation pressure) must be positive, got {float(pc.min()):.6g}")


def _wrapped_any(*ts: Tensor) -> bool:
    from ..tensor import _is_functorch_wrapped

    return any(_is_functorch_wrapped(t) for t in ts)
