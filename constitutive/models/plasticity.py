r"""Small-strain J2 (von Mises) plasticity and Perzyna viscoplasticity with consistent tangents.

Conventions (see ``docs/path-dependent.md`` for the derivations):

* strain ε and stress σ are symmetric ``(..., 3, 3)`` tensors; tangents are ``(..., 3, 3, 3, 3)`` in the
  ``"symmetric"`` convention of :mod:`constitutive.tangent` (dσ = C : dε for symmetric dε).
* elasticity is isotropic: bulk modulus :math:`K = E / (3(1-2\nu))`, shear modulus :math:`G = E / (2(1+\nu))`,
  :math:`\sigma = K \operatorname{tr}(\varepsilon) I + 2G (\operatorname{dev}\varepsilon - \varepsilon^p)`
  (the plastic strain is traceless).
* yield function :math:`f = q(\eta) - \sigma_f(\alpha)`, :math:`\eta = \operatorname{dev}\sigma - \sum_k X_k`,
  :math:`q(\eta) = \sqrt{3/2}\,\|\eta\|` (von Mises equivalent stress), associative flow
  :math:`\dot\varepsilon^p = \dot\gamma\, n`, :math:`n = \eta/\|\eta\|`, :math:`\dot\alpha = \sqrt{2/3}\,\dot\gamma`
  (so α is the equivalent plastic strain; in uniaxial stress α = |ε^p_11|).
* hardening laws: :mod:`constitutive.models.hardening`.

State (a ``dict`` of tensors, batch shape ``B`` in front):

* ``"eps_p"`` ``(*B, 3, 3)`` -- plastic strain (symmetric, traceless);
* ``"alpha"`` ``(*B)`` -- equivalent plastic strain α ≥ 0;
* ``"backstress"`` ``(*B, n, 3, 3)`` -- the ``n`` back stresses :math:`X_k` (``n = 0`` without kinematic hardening).

Integration: backward Euler, solved as a *scalar* equation in the increment Δα of the equivalent plastic strain,
even with Armstrong--Frederick back stresses (their implicit update is solved in closed form for a given Δα), by a
bracketed Newton iteration vectorised over points. Converged points stop changing; points still unconverged after
``max_iter`` iterations raise :class:`~constitutive.models.base.ConvergenceError` (nothing is returned).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal, overload

import torch

from ..notation import components
from ..tensor import DEFAULT_DTYPE, Tensor, TensorLike, as_tensor, dev, eye, identity4_sym, trace
from .base import ConvergenceError, PathDependentMaterial, check_state_values
from .hardening import (
    ArmstrongFrederick,
    Chaboche,
    HardeningLaw,
    Linear,
    Prager,
    Swift,
    UserLaw,
    Voce,
    _vector,
    kinematic_terms,
    make_hardening_law,
)
from .parameters import Parameter

__all__ = [
    "J2Plasticity",
    "Perzyna",
    "isotropic_rank_one_tangent",
    "Linear",
    "Voce",
    "Swift",
    "Prager",
    "ArmstrongFrederick",
    "Chaboche",
]

SQ32 = math.sqrt(1.5)
SQ23 = math.sqrt(2.0 / 3.0)


def isotropic_rank_one_tangent(c_vol: Tensor, c_sym: Tensor, c_nn: Tensor, n: Tensor) -> Tensor:
    r"""Assemble :math:`c_{vol}\, I \otimes I + c_{sym}\, \mathbb{I}^s + c_{nn}\, n \otimes n` ``(..., 3, 3, 3, 3)``.

    ``c_vol``, ``c_sym``, ``c_nn`` have the batch shape ``(...)``, ``n`` is ``(..., 3, 3)``. Written with in-place
    fused operations on one ``(N, 81)`` buffer: the tangent is the largest array of a point update, so this is where
    memory traffic goes.
    """
    batch = n.shape[:-2]
    N = int(math.prod(batch))
    dtype, device = n.dtype, n.device
    I = eye(dtype, device)
    ixi = (I[:, :, None, None] * I[None, None, :, :]).reshape(1, 81)
    isym = identity4_sym(dtype, device).reshape(1, 81)
    cv, cs = c_vol.expand(batch).reshape(N, 1), c_sym.expand(batch).reshape(N, 1)
    nf = n.reshape(N, 9)
    scaled = (c_nn.expand(batch).reshape(N, 1) * nf).unsqueeze(-1)
    if torch.is_grad_enabled() and any(t.requires_grad for t in (cv, cs, scaled)):
        out9 = torch.baddbmm((cv * ixi + cs * isym).view(N, 9, 9), scaled, nf.unsqueeze(-2))
    else:  # in place: no autograd graph to keep
        out9 = (cv * ixi).addcmul_(cs, isym).view(N, 9, 9).baddbmm_(scaled, nf.unsqueeze(-2))
    return out9.reshape(*batch, 3, 3, 3, 3)


def _check_dt(dt: float | Tensor | None, dtype: torch.dtype, device: torch.device, model: str) -> Tensor:
    if dt is None:
        raise ValueError(f"{model} is rate-dependent: update needs the time increment dt > 0")
    t = as_tensor(dt, dtype=dtype, device=device)
    if not bool(torch.isfinite(t).all()) or bool((t <= 0).any()):
        raise ValueError(f"{model}: the time increment dt must be finite and > 0, got {dt!r}")
    return t


class J2Plasticity(PathDependentMaterial):
    r"""Small-strain von Mises plasticity with isotropic and kinematic hardening.

    Parameters
    ----------
    E, nu:
        Young's modulus (> 0) and Poisson's ratio (-1 < ν < 0.5).
    sigma_y:
        Initial yield stress σ_y > 0 (von Mises equivalent). May be ``None`` with Swift hardening only: then
        σ_y = K ε0^n, the classic Swift law.
    H:
        Linear isotropic hardening modulus ≥ 0 (adds H α to the flow stress whatever the law).
    hardening:
        ``None``/``"linear"``/:class:`~.hardening.Linear` (linear only), :class:`~.hardening.Voce` or ``"voce"``
        (with ``Q``, ``b``), :class:`~.hardening.Swift` or ``"swift"`` (with ``K``, ``eps0``, ``n``), or a callable
        ``R(alpha) -> Tensor`` (elementwise, R(0) = 0, nondecreasing), giving
        :math:`\sigma_f(\alpha) = \sigma_y + H\alpha + R(\alpha)`.
    kinematic:
        ``None``, :class:`~.hardening.Prager`, :class:`~.hardening.ArmstrongFrederick`,
        :class:`~.hardening.Chaboche`, or a list of them; equivalently the 1-d parameters ``C`` and ``gamma``.
    Q, b, K, eps0, n:
        The parameters of a law given by name: Voce ``Q``, ``b``; Swift ``K``, ``eps0``, ``n``
        (:mod:`constitutive.models.hardening`).
    C, gamma:
        1-d kinematic hardening moduli :math:`C_k \ge 0` (stress) and dynamic recovery rates :math:`\gamma_k \ge 0`,
        one pair per back stress (γ_k = 0: a Prager term), instead of ``kinematic``.
    tangent_method:
        ``"auto"`` (closed form where one exists: any isotropic law with Prager back stresses; automatic
        differentiation through the converged return map otherwise) or ``"ad"`` (always automatic
        differentiation; for cross-checks).
    tol, max_iter:
        Local Newton: converged when :math:`|r| \le \text{tol}\cdot q^{trial}` (default tol 1e-11 in float64,
        1e-5 in float32); at most ``max_iter`` Newton updates.
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).
    **law_parameters:
        Further parameters of the hardening law (a name also given as a keyword above raises ``ValueError``).
    """

    E = Parameter("Young's modulus", unit="stress", lower=0.0, lower_open=True, shape=None)
    nu = Parameter("Poisson's ratio", unit="1", lower=-1.0, upper=0.5, lower_open=True, upper_open=True, shape=None)
    sigma_y = Parameter("initial yield stress (von Mises)", unit="stress", lower=0.0, lower_open=True, shape=None)
    H = Parameter("linear isotropic hardening modulus", unit="stress", lower=0.0, default=0.0, shape=None)
    C = Parameter("kinematic hardening moduli C_k", unit="stress", lower=0.0, shape="series", required=False)
    gamma = Parameter("dynamic recovery rates gamma_k", unit="1", lower=0.0, shape="series", required=False)
    hardening: str  # options (saved with the parameters)
    tangent_method: str
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
        kinematic: Any = None,
        Q: TensorLike | None = None,
        b: TensorLike | None = None,
        K: TensorLike | None = None,
        eps0: TensorLike | None = None,
        n: TensorLike | None = None,
        C: TensorLike | None = None,
        gamma: TensorLike | None = None,
        tangent_method: str = "auto",
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
        for k in law_parameters:
            if k in flat:  # cannot happen through keywords; guards a dict merged by hand
                raise ValueError(f"parameter {k!r} given twice")
        law = make_hardening_law(hardening, {**flat, **law_parameters}, self.dtype, self.device)
        for name, value in law.model_parameters().items():  # Linear(H) sets the model's H
            if name == "H" and not _is_zero(H):
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
        own = type(self).declared_parameters()
        clash = [k for k in law.parameters if k in own]
        if clash:
            raise ValueError(f"hardening law {law.name!r} declares parameter(s) {clash} that the model already has")
        decls = law.parameter_declarations()
        for name, value in law.parameters.items():  # the law's tensors themselves: gradients reach the leaves
            self._param(name, value, decls[name])
        self.law: HardeningLaw = law

        if kinematic is not None and (C is not None or gamma is not None):
            raise ValueError("give kinematic hardening once: either kinematic=... or C=..., gamma=...")
        if kinematic is not None:
            C, gamma = kinematic_terms(kinematic)
        if C is not None:
            Ct = _vector(C, self.dtype)
            Gt = torch.zeros_like(Ct) if gamma is None else _vector(gamma, self.dtype)
            if Gt.shape != Ct.shape:
                raise ValueError(f"parameters 'C' and 'gamma' must have the same length, got {Ct.shape} and {Gt.shape}")
            if Ct.numel() > 0:
                self._param("C", Ct)
                self._param("gamma", Gt.reshape(-1))
        elif gamma is not None:
            raise ValueError("parameter 'gamma' needs the kinematic moduli 'C'")

        self._option("hardening", law.name)
        self._option("tangent_method", tangent_method, choices=("auto", "ad"))
        if tol is not None and not (isinstance(tol, (int, float)) and 0 < tol < 1):
            raise ValueError(f"option 'tol' must be a number in (0, 1), got {tol!r}")
        if not isinstance(max_iter, int) or isinstance(max_iter, bool) or max_iter < 1:
            raise ValueError(f"option 'max_iter' must be a positive integer, got {max_iter!r}")
        self._option("tol", float(tol) if tol is not None else (1e-11 if dtype == torch.float64 else 1e-5))
        self._option("max_iter", max_iter)

    # ------------------------------------------------------------------------------------------------ basics
    @property
    def n_backstress(self) -> int:
        """Number of back stresses (0 without kinematic hardening)."""
        return int(self.C.numel()) if "C" in self._params else 0

    def _tol(self) -> float:
        return float(self.tol)

    def moduli(self) -> tuple[Tensor, Tensor]:
        """Bulk and shear moduli ``(K, G)`` (0-d tensors)."""
        return self.E / (3.0 * (1.0 - 2.0 * self.nu)), self.E / (2.0 * (1.0 + self.nu))

    def elastic_tangent(self, batch_shape: tuple[int, ...] | torch.Size = ()) -> Tensor:
        r""":math:`K\, I \otimes I + 2G\, \mathbb{I}^{dev}`, ``(*batch_shape, 3, 3, 3, 3)``."""
        Kb, G = self.moduli()
        z = torch.zeros(batch_shape, dtype=self.dtype, device=self.device)
        n = torch.zeros((*batch_shape, 3, 3), dtype=self.dtype, device=self.device)
        return isotropic_rank_one_tangent(Kb - 2.0 * G / 3.0 + z, 2.0 * G + z, z, n)

    @overload
    def flow_stress(self, alpha: Tensor, slope: Literal[True] = True) -> tuple[Tensor, Tensor]: ...
    @overload
    def flow_stress(self, alpha: Tensor, slope: bool) -> tuple[Tensor, Tensor | None]: ...
    def flow_stress(self, alpha: Tensor, slope: bool = True) -> tuple[Tensor, Tensor | None]:
        r"""Flow stress :math:`\sigma_f(\alpha)` and its slope :math:`\sigma_f'(\alpha)` (``None`` if not asked),
        elementwise on ``alpha`` ``(...)``."""
        sf = self.sigma_y + self.H * alpha
        d = self.H.expand_as(alpha) if slope else None
        law = self.law
        if not law.linear:  # the law's increase R(alpha), R(0) = 0, over sigma_y + H alpha
            if d is not None:
                R, dR = law.flow_stress(alpha)
                sf, d = sf + R, d + dR
            else:
                sf = sf + law.value(alpha)
        return sf, d

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """``eps_p`` ``(*B, 3, 3)`` plastic strain, ``alpha`` ``(*B)`` equivalent plastic strain, ``backstress``
        ``(*B, n, 3, 3)`` one back stress per kinematic term (virgin state: all zero)."""
        return {"eps_p": (3, 3), "alpha": (), "backstress": (self.n_backstress, 3, 3)}

    def with_parameters(self, **changes: TensorLike) -> J2Plasticity:
        kwargs: dict[str, Any] = {**self._params, **self._options, **changes}
        if isinstance(self.law, UserLaw) and kwargs.get("hardening") == "user":
            kwargs["hardening"] = self.law.fn
        return type(self)(**kwargs, dtype=self.dtype, device=self.device)

    # ----------------------------------------------------------------------------------------- the return map
    def _context(self, eps: Tensor, st: Mapping[str, Tensor], dt: Tensor | None) -> dict[str, Any]:
        """Trial quantities, differentiable in ``eps`` and the parameters."""
        Kb, G = self.moduli()
        s_tr = 2.0 * G * (dev(eps) - st["eps_p"])
        X_n = st["backstress"]
        eta_tr = s_tr - X_n.sum(-3) if self.n_backstress else s_tr
        # vector_norm, not sqrt(sum of squares): its derivative at η = 0 (a volumetric strain) is 0, not NaN
        q_tr = SQ32 * torch.linalg.vector_norm(eta_tr, dim=(-1, -2))
        sf_n, _ = self.flow_stress(st["alpha"], slope=False)
        return {
            "eps": eps, "s_tr": s_tr, "X_n": X_n, "alpha_n": st["alpha"], "eps_p_n": st["eps_p"], "q_tr": q_tr,
            "sf_n": sf_n, "f_tr": q_tr - sf_n, "K": Kb, "G": G, "dt": dt,
        }  # fmt: skip

    def _direction(self, x: Tensor, ctx: Mapping[str, Any], plastic: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        r"""``ξ``'s norm, the flow direction ``n = ξ/‖ξ‖`` and the AF factors ``θ_k = 1/(1 + γ_k Δα)`` at Δα = ``x``.

        :math:`\xi(\Delta\alpha) = s^{trial} - \sum_k \theta_k X_{k,n}` is parallel to the end-of-step relative
        stress. Elastic points get a finite dummy norm (their Δα is 0): no NaN reaches a gradient.
        """
        s_tr = ctx["s_tr"]
        if self.n_backstress:
            theta = 1.0 / (1.0 + self.gamma * x[..., None])
            xi = s_tr - (theta[..., None, None] * ctx["X_n"]).sum(-3)
        else:
            theta, xi = None, s_tr
        nrm = torch.sqrt((xi * xi).sum((-1, -2)) + (~plastic).to(xi.dtype))
        return nrm, xi / nrm[..., None, None], theta

    def _elastic_part(
        self, x: Tensor, ctx: Mapping[str, Any], plastic: Tensor, slope: bool = True
    ) -> tuple[Tensor, Tensor]:
        r""":math:`\rho(\Delta\alpha) = \sqrt{3/2}\|\xi\| - (3G + \sum_k\theta_k C_k)\Delta\alpha`, the end-of-step
        equivalent relative stress q(η) as a function of Δα, and :math:`d\rho/d\Delta\alpha` (zeros if not asked)."""
        G = ctx["G"]
        nrm, n, theta = self._direction(x, ctx, plastic)
        if theta is None:
            rho = SQ32 * nrm - 3.0 * G * x
            return rho, (-3.0 * G + torch.zeros_like(rho)) if slope else torch.zeros_like(rho)
        kin = (theta * self.C).sum(-1)
        rho = SQ32 * nrm - (3.0 * G + kin) * x
        if not slope:
            return rho, torch.zeros_like(rho)
        g_th2 = self.gamma * theta * theta
        n_X = (n[..., None, :, :] * ctx["X_n"]).sum((-1, -2))
        return rho, SQ32 * (g_th2 * n_X).sum(-1) - 3.0 * G - kin + (g_th2 * self.C).sum(-1) * x

    def _residual(
        self, z: Tensor, ctx: Mapping[str, Any], plastic: Tensor, slope: bool = True
    ) -> tuple[Tensor, Tensor]:
        r"""Consistency residual :math:`r(\Delta\alpha) = \sqrt{3/2}\|\xi\| - (3G + \sum_k\theta_k C_k)\Delta\alpha
        - \sigma_f(\alpha_n + \Delta\alpha)` and :math:`dr/d\Delta\alpha` (here the Newton unknown z is Δα)."""
        rho, drho = self._elastic_part(z, ctx, plastic, slope)
        sf, dsf = self.flow_stress(ctx["alpha_n"] + z, slope=slope)
        return rho - sf, (drho - dsf) if dsf is not None else drho

    def _dalpha(self, z: Tensor, ctx: Mapping[str, Any]) -> tuple[Tensor, Tensor]:
        """Δα and dΔα/dz for the Newton unknown z (here z = Δα)."""
        return z, torch.ones_like(z)

    def _upper_bound(self, ctx: Mapping[str, Any]) -> Tensor:
        """A z with r(z) ≤ 0 (hardening nondecreasing): brackets the root with z = 0, where r = f_trial > 0."""
        s_norm = torch.sqrt((ctx["s_tr"] ** 2).sum((-1, -2)))
        if self.n_backstress:
            s_norm = s_norm + torch.sqrt((ctx["X_n"] ** 2).sum((-1, -2))).sum(-1)
        return (SQ32 * s_norm - ctx["sf_n"]).clamp_min(0.0) / (3.0 * ctx["G"])

    def _linear_residual(self) -> bool:
        """Whether r is linear in Δα (linear isotropic + Prager): then Δα has a closed form."""
        return self.law.linear and self._has_closed_tangent()

    def _closed_form(self, ctx: Mapping[str, Any], plastic: Tensor) -> Tensor | None:
        """Δα in closed form when the residual is linear in it, else ``None``."""
        if not self._linear_residual():
            return None
        kin = self.C.sum() if self.n_backstress else 0.0
        return torch.where(plastic, ctx["f_tr"] / (3.0 * ctx["G"] + self.H + kin), torch.zeros_like(ctx["f_tr"]))

    def _solve(self, ctx: Mapping[str, Any], plastic: Tensor) -> tuple[Tensor, Tensor, int]:
        """Bracketed scalar Newton on all points at once; returns ``(z, dr/dz at z, iterations)``, detached."""
        with torch.no_grad():
            c = {k: (v.detach() if isinstance(v, Tensor) else v) for k, v in ctx.items()}
            zero = torch.zeros_like(c["q_tr"])
            z, lo, hi = zero.clone(), zero.clone(), torch.where(plastic, self._upper_bound(c), zero)
            scale = torch.where(plastic, c["q_tr"], torch.ones_like(zero))
            tol = self._tol()
            for it in range(self.max_iter + 1):
                r, dr = self._residual(z, c, plastic)
                conv = ~plastic | (r.abs() <= tol * scale)
                if bool(conv.all()):
                    return z, dr, it
                if it == self.max_iter:
                    bad = ~conv
                    idx = torch.nonzero(bad)
                    points = [tuple(int(i) for i in row) for row in idx[:50]]
                    res = (r.abs() / scale)[bad]
                    raise ConvergenceError(
                        f"{type(self).__name__}: local Newton did not converge in {self.max_iter} iterations at "
                        f"{int(bad.sum())} point(s) {points[:5]}{' ...' if len(points) > 5 else ''}; largest relative "
                        f"residual {float(res.max()):.3e} (tol {tol:.1e}); the state was not updated",
                        points=points,
                        residuals=res,
                        iterations=self.max_iter,
                        tol=tol,
                    )
                lo = torch.where(r > 0, z, lo)
                hi = torch.where(r <= 0, z, hi)
                step = z - r / dr
                ok = torch.isfinite(step) & (step > lo) & (step < hi)
                z = torch.where(conv, z, torch.where(ok, step, 0.5 * (lo + hi)))
        raise AssertionError("unreachable")  # pragma: no cover

    def _finish(
        self, eps: Tensor, st: Mapping[str, Tensor], dt: Tensor | None, z_star: Tensor | None, dr_star: Tensor | None,
        plastic: Tensor, ctx: dict[str, Any] | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], dict[str, Any]]:  # fmt: skip
        """Stress and new state, differentiable in ``eps`` and the parameters (``ctx``: the trial quantities at
        ``eps`` when already computed).

        With a Newton solution ``z_star`` the unknown is re-expressed as one Newton step from it,
        z = z* - r(z*)/r'(z*) (r' held fixed): equal to z* at convergence, with the implicit-function-theorem
        derivative dz = -dr/r'. ``z_star=None`` uses the closed form.
        """
        ctx = self._context(eps, st, dt) if ctx is None else ctx
        zero = torch.zeros_like(ctx["q_tr"])
        if z_star is None:
            z = self._closed_form(ctx, plastic)
            assert z is not None
        else:
            r, _ = self._residual(z_star, ctx, plastic, slope=False)
            assert dr_star is not None  # comes with z_star
            z = torch.where(plastic, z_star - r / dr_star, zero)
        x, _ = self._dalpha(z, ctx)
        x = torch.where(plastic, x, zero)
        nrm, n, theta = self._direction(x, ctx, plastic)
        G = ctx["G"]
        dgamma = SQ32 * x
        s = ctx["s_tr"] - (2.0 * G * dgamma)[..., None, None] * n
        I = eye(eps.dtype, eps.device)
        stress = (ctx["K"] * trace(eps))[..., None, None] * I + s
        new_state = {"eps_p": ctx["eps_p_n"] + dgamma[..., None, None] * n, "alpha": ctx["alpha_n"] + x}
        if theta is not None:
            X = theta[..., None, None] * (
                ctx["X_n"] + (SQ23 * self.C * x[..., None])[..., None, None] * n[..., None, :, :]
            )
        else:
            X = ctx["X_n"].clone()
        new_state["backstress"] = X
        ctx.update(z=z, x=x, n=n)
        return stress, new_state, ctx

    def _prepare(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        eps = self.check_strain(strain).to(dtype=self.dtype, device=self.device)
        dtt = self._check_dt_arg(dt)
        batch = eps.shape[:-2]
        if dtt is not None:  # a per-point dt may carry batch axes of its own (broadcast, as the state's)
            try:
                batch = torch.broadcast_shapes(batch, dtt.shape)
            except RuntimeError:
                raise ValueError(
                    f"the time increment dt of shape {tuple(dtt.shape)} does not broadcast with the strain batch "
                    f"shape {tuple(batch)}"
                ) from None
        st, batch = self.check_state(state, batch)
        check_state_values(
            (st["alpha"], "state['alpha'] (equivalent plastic strain)", "nonnegative"),
            (st["eps_p"], "state['eps_p'] (plastic strain)", "deviatoric"),
            (st["backstress"], "state['backstress'] (back stresses)", "deviatoric"),
        )
        return eps.expand(*batch, 3, 3), st, dtt

    def _check_dt_arg(self, dt: float | Tensor | None) -> Tensor | None:
        """Rate-independent: ``dt`` is accepted and ignored."""
        return None

    def _run(self, eps: Tensor, st: dict[str, Tensor], dt: Tensor | None) -> tuple[Tensor, dict, dict, Tensor, Any]:
        ctx = self._context(eps, st, dt)
        plastic = (ctx["f_tr"] > 0).detach()
        if self._linear_residual():
            z_star, dr_star = None, None
        else:
            z_star, dr_star, _ = self._solve(ctx, plastic)
        stress, new_state, fctx = self._finish(eps, st, dt, z_star, dr_star, plastic, ctx)
        if dr_star is None:  # linear residual: r' = -(3G + H + sum C)
            kin = self.C.sum() if self.n_backstress else 0.0
            dr_star = (-(3.0 * fctx["G"] + self.H + kin) + torch.zeros_like(fctx["q_tr"])).detach()
        return stress, new_state, fctx, plastic, (z_star, dr_star)

    def _update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None, need_tangent: bool
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        """One increment from ``state`` to total strain ``strain`` ``(..., 3, 3)``: ``(stress, new_state, C_alg)``.

        ``C_alg`` is the consistent (algorithmic) tangent ``(..., 3, 3, 3, 3)`` of the backward-Euler update, in the
        'symmetric' convention (``None`` with ``need_tangent=False``). The inputs are not modified; on a
        :class:`ConvergenceError` nothing is returned.
        """
        eps, st, dtt = self._prepare(strain, state, dt)
        stress, new_state, fctx, plastic, (z_star, dr_star) = self._run(eps, st, dtt)
        if not need_tangent:
            return stress, new_state, None
        if self.tangent_method == "ad" or not self._has_closed_tangent():
            C = self._ad_tangent(eps, st, dtt, z_star, dr_star, plastic)
        else:
            C = self._closed_tangent(fctx, plastic, dr_star)
        return stress, new_state, C

    # ------------------------------------------------------------------------------------------------ tangents
    def _has_closed_tangent(self) -> bool:
        return not (self.n_backstress and bool((self.gamma != 0).any()))

    def _closed_tangent(self, ctx: Mapping[str, Any], plastic: Tensor, dr_star: Tensor) -> Tensor:
        r"""Radial-return consistent tangent
        :math:`K I\otimes I + 2G\beta\,\mathbb{I}^{dev} - 2G\bar\gamma\, n \otimes n`,
        :math:`\beta = 1 - 3G\Delta\alpha/q^{trial}`, :math:`\bar\gamma = 3G\,d\Delta\alpha/dq^{trial} - (1 - \beta)`,
        with :math:`d\Delta\alpha/dq^{trial} = (d\Delta\alpha/dz)/(-r'(z))`
        (J2: :math:`1/(3G + \sum C_k + \sigma_f')`)."""
        G, Kb, x, n = ctx["G"], ctx["K"], ctx["x"], ctx["n"]
        q_safe = torch.where(plastic, ctx["q_tr"], torch.ones_like(x))
        _, dx_dz = self._dalpha(ctx["z"], ctx)
        D = torch.where(plastic, dx_dz / (-dr_star), torch.zeros_like(x))
        ratio = 3.0 * G * x / q_safe
        beta = 1.0 - ratio
        c_sym = 2.0 * G * beta
        return isotropic_rank_one_tangent(Kb - c_sym / 3.0, c_sym, 2.0 * G * (ratio - 3.0 * G * D), n)

    def _ad_tangent(
        self, eps: Tensor, st: Mapping[str, Tensor], dt: Tensor | None, z_star: Tensor | None, dr_star: Tensor,
        plastic: Tensor,
    ) -> Tensor:  # fmt: skip
        """dσ/dε on Sym by reverse-mode AD through the converged return map (six vector-Jacobian products, one per
        independent stress component, each batched over all points since points do not interact); the
        implicit-function theorem enters through the one-Newton-step form of :meth:`_finish`."""
        e = eps.detach().requires_grad_(True)
        with torch.enable_grad():
            sigma = self._finish(e, st, dt, z_star, dr_star, plastic)[0]
        J = torch.empty((*eps.shape[:-2], 3, 3, 3, 3), dtype=eps.dtype, device=eps.device)
        for i, j in components("voigt"):  # the six independent components, any order
            seed = torch.zeros(3, 3, dtype=eps.dtype, device=eps.device)
            seed[i, j] = 1.0
            (row,) = torch.autograd.grad(sigma, e, seed.expand_as(sigma), retain_graph=True)
            J[..., i, j, :, :] = row
            J[..., j, i, :, :] = row
        return 0.5 * (J + J.transpose(-1, -2))  # the 'symmetric' convention on the strain side

    def ad_update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """:meth:`update` with the tangent always by automatic differentiation (for cross-checks)."""
        eps, st, dtt = self._prepare(strain, state, dt)
        stress, new_state, _, plastic, (z_star, dr_star) = self._run(eps, st, dtt)
        return stress, new_state, self._ad_tangent(eps, st, dtt, z_star, dr_star, plastic)

    def ad_tangent(self, strain: TensorLike) -> Tensor:
        """AD tangent of one step from the virgin state (cf. :meth:`tangent`)."""
        strain = self.check_strain(strain)
        return self.ad_update(strain, self.initial_state(strain.shape[:-2]))[2]

    def continuum_tangent(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None = None
    ) -> Tensor:
        r"""The continuum (rate) elastoplastic tangent at the end of the step from ``state`` to ``strain``.

        :math:`C^{ep} = C^e - \dfrac{2G\, n \otimes n}{1 + h/(3G)}` at plastic points, with
        :math:`h = \sigma_f'(\alpha) + \sum_k (C_k - \gamma_k \sqrt{3/2}\, n : X_k)`, and :math:`C^e` at elastic
        ones. It is *not* the derivative of the discrete update (use the tangent of :meth:`update` in a Newton
        solver): with it, global Newton iterations converge only linearly. ``(..., 3, 3, 3, 3)``.
        """
        eps, st, dtt = self._prepare(strain, state, dt)
        _, new_state, fctx, plastic, _ = self._run(eps, st, dtt)
        return self._continuum(fctx, new_state, plastic)

    def _continuum(self, ctx: Mapping[str, Any], new_state: Mapping[str, Tensor], plastic: Tensor) -> Tensor:
        G, Kb, n = ctx["G"], ctx["K"], ctx["n"]
        _, h = self.flow_stress(new_state["alpha"])
        if self.n_backstress:
            n_X = (n[..., None, :, :] * new_state["backstress"]).sum((-1, -2))
            h = h + (self.C - self.gamma * SQ32 * n_X).sum(-1)
        c_nn = torch.where(plastic, -2.0 * G / (1.0 + h / (3.0 * G)), torch.zeros_like(h))
        z = torch.zeros_like(h)
        return isotropic_rank_one_tangent(Kb - 2.0 * G / 3.0 + z, 2.0 * G + z, c_nn, n).detach()


class Perzyna(J2Plasticity):
    r"""J2 Perzyna viscoplasticity with the hardening laws of :class:`J2Plasticity` (isotropic and kinematic).

    Overstress law (no rate effects inside the elastic domain; η is a relaxation time in the unit of ``dt``,
    m ≥ 1 an exponent), with η the relative stress dev σ − Σ X_k:

    .. math::
        \dot\alpha = \frac{1}{\eta}\left\langle \frac{q(\eta)}{\sigma_f(\alpha)} - 1 \right\rangle^{m},
        \qquad \dot\varepsilon^p = \sqrt{3/2}\,\dot\alpha\, n.

    Backward Euler gives, with :math:`y = (\eta\Delta\alpha/\Delta t)^{1/m}` (the overstress ratio, the Newton
    unknown: smooth at y = 0 for m ≥ 1) and ρ(Δα) the end-of-step q(η) of :class:`J2Plasticity`
    (:math:`q^{trial} - 3G\Delta\alpha` without back stresses),

    .. math::
        r(y) = \rho(\Delta\alpha(y)) - \sigma_f(\alpha_n + \Delta\alpha(y))\,(1 + y) = 0,
        \qquad \Delta\alpha = \frac{\Delta t}{\eta} y^m.

    As η/Δt → 0 the rate-independent J2 return map is recovered. ``dt`` is required. Same state as
    :class:`J2Plasticity`. The consistent tangent is the radial-return form with
    :math:`d\Delta\alpha/dq^{trial} = (\Delta t/\eta)\, m y^{m-1} / (-r'(y))` (isotropic/Prager hardening), by
    automatic differentiation through the return map with Armstrong--Frederick back stresses.

    Parameters
    ----------
    E, nu, sigma_y, H, hardening, kinematic:
        As in :class:`J2Plasticity`.
    Q, b, K, eps0, n, C, gamma, tangent_method, tol, max_iter, **law_parameters:
        As in :class:`J2Plasticity`.
    eta:
        Relaxation time η > 0, in the unit of ``dt`` (required).
    m:
        Overstress exponent m ≥ 1 (default 1).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).
    """

    eta = Parameter("relaxation time (unit of dt)", unit="time", lower=0.0, lower_open=True, shape=None)
    m = Parameter("overstress exponent", unit="1", lower=1.0, default=1.0, shape=None)

    def __init__(
        self,
        E: TensorLike,
        nu: TensorLike,
        sigma_y: TensorLike | None = None,
        H: TensorLike = 0.0,
        eta: TensorLike | None = None,
        m: TensorLike = 1.0,
        *,
        hardening: Any = None,
        kinematic: Any = None,
        Q: TensorLike | None = None,
        b: TensorLike | None = None,
        K: TensorLike | None = None,
        eps0: TensorLike | None = None,
        n: TensorLike | None = None,
        C: TensorLike | None = None,
        gamma: TensorLike | None = None,
        tangent_method: str = "auto",
        tol: float | None = None,
        max_iter: int = 50,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
        **law_parameters: TensorLike,
    ) -> None:
        super().__init__(
            E, nu, sigma_y, H, hardening=hardening, kinematic=kinematic, Q=Q, b=b, K=K, eps0=eps0, n=n, C=C,
            gamma=gamma, tangent_method=tangent_method, tol=tol, max_iter=max_iter, dtype=dtype, device=device,
            **law_parameters,
        )  # fmt: skip
        self._param("eta", eta)
        self._param("m", m)

    def _check_dt_arg(self, dt: float | Tensor | None) -> Tensor | None:
        return _check_dt(dt, self.dtype, self.device, type(self).__name__)

    def _dalpha(self, z: Tensor, ctx: Mapping[str, Any]) -> tuple[Tensor, Tensor]:
        c = ctx["dt"] / self.eta
        return c * z**self.m, c * self.m * z ** (self.m - 1.0)

    def _residual(
        self, z: Tensor, ctx: Mapping[str, Any], plastic: Tensor, slope: bool = True
    ) -> tuple[Tensor, Tensor]:
        x, dx = self._dalpha(z, ctx)
        rho, drho = self._elastic_part(x, ctx, plastic, slope)
        sf, dsf = self.flow_stress(ctx["alpha_n"] + x, slope=slope)
        r = rho - sf * (1.0 + z)
        if dsf is None:
            return r, torch.zeros_like(r)
        return r, (drho - dsf * (1.0 + z)) * dx - sf

    def _upper_bound(self, ctx: Mapping[str, Any]) -> Tensor:
        # r(y) <= sqrt(3/2)(|s_trial| + sum |X_n|) - sigma_f(alpha_n) (1 + y) for nondecreasing hardening
        return super()._upper_bound(ctx) * (3.0 * ctx["G"]) / ctx["sf_n"]

    def _linear_residual(self) -> bool:
        return False

    def continuum_tangent(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None = None
    ) -> Tensor:
        """The instantaneous (rate) response of an overstress model is elastic: returns the elastic tangent."""
        eps, _, _ = self._prepare(strain, state, dt)
        return self.elastic_tangent(eps.shape[:-2])


def _is_zero(v: TensorLike) -> bool:
    t = as_tensor(v) if not isinstance(v, Tensor) else v
    return bool((t == 0).all())
