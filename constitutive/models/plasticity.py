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
  (so α is the equivalent plastic strain; in uniaxial stress :math:`\alpha = |\varepsilon^p_{11}|`).
* hardening laws: :mod:`constitutive.models.hardening`.

State (a ``dict`` of tensors, batch shape ``B`` in front):

* ``"eps_p"`` ``(*B, 3, 3)`` -- plastic strain (symmetric, traceless);
* ``"alpha"`` ``(*B)`` -- equivalent plastic strain α ≥ 0;
* ``"backstress"`` ``(*B, n, 3, 3)`` -- the ``n`` back stresses :math:`X_k` (``n = 0`` without kinematic hardening).

Fast path: :meth:`J2Plasticity.update_mandel` takes and returns Mandel vectors (convention :data:`MANDEL_ORDER`)
and runs an in-place, chunked Mandel-native kernel whenever no derivatives are wanted (no input or parameter
requires grad, no forward mode); otherwise the out-of-place tensor formulation below, converted at the edges (same
results to round-off; ``docs/performance.md``). The tensor-form :meth:`J2Plasticity.update` keeps the tensor
formulation unless ``_fast_tensor_update`` is set. ``update_mandel(..., compile=True)`` (or the policy of
:mod:`constitutive.models.j2_kernel`) runs the same return map as one ``torch.compile``-fused kernel instead.

Integration: backward Euler, solved as a *scalar* equation in the increment Δα of the equivalent plastic strain,
even with Armstrong--Frederick back stresses (their implicit update is solved in closed form for a given Δα), by a
bracketed Newton iteration vectorised over points. Converged points stop changing; points still unconverged after
``max_iter`` iterations raise :class:`~constitutive.models.base.ConvergenceError` (nothing is returned).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Literal, overload

import torch
import torch.autograd.forward_ad as fwAD

from ..notation import ORDERS, components
from ..tensor import (
    DEFAULT_DTYPE,
    Tensor,
    TensorLike,
    _is_functorch_wrapped,
    as_tensor,
    check_finite,
    check_shape,
    dev,
    eye,
    identity4_sym,
    trace,
)
from . import j2_kernel
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
    resolve_hardening,
    store_hardening,
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
        ``"auto"`` (closed form: without autograd the Mandel kernel's, for every law and kinematic term; with
        autograd the tensor formulation's for isotropic laws with Prager back stresses, automatic differentiation
        through the converged return map with Armstrong--Frederick ones) or ``"ad"`` (always automatic
        differentiation through the tensor return map; for cross-checks).
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
    #: Whether :meth:`update` and :meth:`update_mandel` may use the in-place Mandel kernel (``False``: always the
    #: out-of-place tensor formulation; for cross-checks and benchmarks).
    _use_fast: bool = True
    #: Whether the tensor-form :meth:`update` may use the kernel (see :meth:`_fast_tensor_ok`). Off by default:
    #: the driver's tests require bit-identical results with and without parameters that require grad, which two
    #: formulations cannot give (round-off); on, the results agree to round-off (``tests/test_j2_fast.py``).
    _fast_tensor_update: bool = False
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
        law, H, sigma_y = resolve_hardening(
            hardening, {**flat, **law_parameters}, H, sigma_y, dtype=self.dtype, device=self.device
        )
        self._param("sigma_y", sigma_y)
        self._param("H", H)
        store_hardening(self, law)
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

        self._option("tangent_method", tangent_method, choices=("auto", "ad"))
        self._solver_options(tol, max_iter)

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

    def _solve(
        self,
        ctx: Mapping[str, Any],
        plastic: Tensor,
        residual: Callable[[Tensor], tuple[Tensor, Tensor]] | None = None,
        upper: Tensor | None = None,
        where: Callable[[Tensor], list[tuple[int, ...]]] | None = None,
    ) -> tuple[Tensor, Tensor, int]:
        """Bracketed scalar Newton on all points at once; returns ``(z, dr/dz at z, iterations)``, detached.

        ``residual(z) -> (r, dr/dz)`` and the bracket's ``upper`` end default to the tensor-form ones of ``ctx``
        (the Mandel path passes its own); ``where(indices)`` maps the failing points' indices for the error."""
        with torch.no_grad():
            c = {k: (v.detach() if isinstance(v, Tensor) else v) for k, v in ctx.items()}
            zero = torch.zeros_like(c["q_tr"])
            if residual is None:
                residual = lambda z: self._residual(z, c, plastic)  # noqa: E731
            z, lo = zero.clone(), zero.clone()
            hi = torch.where(plastic, self._upper_bound(c) if upper is None else upper, zero)
            scale = torch.where(plastic, c["q_tr"], torch.ones_like(zero))
            tol = self._tol()
            for it in range(self.max_iter + 1):
                r, dr = residual(z)
                conv = ~plastic | (r.abs() <= tol * scale)
                if bool(conv.all()):
                    return z, dr, it
                if it == self.max_iter:
                    bad = ~conv
                    idx = torch.nonzero(bad)
                    if where is not None:
                        points = where(idx[:50])
                    else:
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

    def _run(
        self, eps: Tensor, st: dict[str, Tensor], dt: Tensor | None, plastic: Tensor | None = None
    ) -> tuple[Tensor, dict, dict, Tensor, Any]:
        """The tensor-form return map; ``plastic``: the yield decision when already made (by the Mandel kernel,
        so that both agree at points on the yield surface, where round-off decides)."""
        ctx = self._context(eps, st, dt)
        if plastic is None:
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
        if self._fast_tensor_ok(eps, st):
            # no autograd graph wanted: the Mandel kernel, converted at the edges (same results to round-off)
            return self._fast_tensor(eps, st, dtt, need_tangent, ad=self.tangent_method == "ad")
        stress, new_state, fctx, plastic, (z_star, dr_star) = self._run(eps, st, dtt)
        if not need_tangent:
            return stress, new_state, None
        if self.tangent_method == "ad" or not self._has_closed_tangent():
            C = self._ad_tangent(eps, st, dtt, z_star, dr_star, plastic)
        else:
            C = self._closed_tangent(fctx, plastic, dr_star)
        return stress, new_state, C

    # ------------------------------------------------------------------------------------ Mandel-native path
    def mandel_state_shapes(self) -> dict[str, tuple[int, ...]]:
        """Trailing shapes of the Mandel-form state: ``eps_p`` ``(6,)``, ``alpha`` ``()``, ``backstress``
        ``(n, 6)`` (:data:`MANDEL_ORDER`, √2 on shear slots)."""
        return {"eps_p": (6,), "alpha": (), "backstress": (self.n_backstress, 6)}

    def initial_state_mandel(self, batch_shape: tuple[int, ...] | torch.Size = ()) -> dict[str, Tensor]:
        """The virgin Mandel-form state (all zero) for ``batch_shape`` points."""
        batch = tuple(batch_shape)
        return {
            key: torch.zeros((*batch, *tail), dtype=self.dtype, device=self.device)
            for key, tail in self.mandel_state_shapes().items()
        }

    @staticmethod
    def state_to_mandel(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Tensor-form state (``eps_p`` ``(*B, 3, 3)``, ...) -> Mandel form (``eps_p`` ``(*B, 6)``, ...)."""
        return {
            "eps_p": tensor_to_mandel(state["eps_p"]),
            "alpha": state["alpha"],
            "backstress": tensor_to_mandel(state["backstress"]),
        }

    @staticmethod
    def state_from_mandel(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Mandel-form state -> tensor form (inverse of :meth:`state_to_mandel`)."""
        return {
            "eps_p": mandel_to_tensor(state["eps_p"]),
            "alpha": state["alpha"],
            "backstress": mandel_to_tensor(state["backstress"]),
        }

    def _fast_tensor(
        self, eps: Tensor, st: dict[str, Tensor], dtt: Tensor | None, need_tangent: bool, ad: bool
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        """Tensor-form update through the Mandel kernel; ``ad``: the tangent by AD through the tensor return map
        (:meth:`_ad_tangent`) with the kernel's yield decision."""
        batch = eps.shape[:-2]
        plastic = torch.empty(batch, dtype=torch.bool, device=eps.device) if ad else None
        with torch.no_grad():
            s6, st6, C6 = self._fast_mandel(
                tensor_to_mandel(eps), self.state_to_mandel(st), batch, need_tangent and not ad, None, None, plastic
            )
        stress, new_state = mandel_to_tensor(s6), self.state_from_mandel(st6)
        if not need_tangent:
            return stress, new_state, None
        if not ad:
            assert C6 is not None
            return stress, new_state, mandel_to_tensor4(C6)
        _, _, _, plastic, (z_star, dr_star) = self._run(eps, st, dtt, plastic)
        return stress, new_state, self._ad_tangent(eps, st, dtt, z_star, dr_star, plastic)

    def _fast_tensor_ok(self, eps: Tensor, st: Mapping[str, Tensor]) -> bool:
        """Whether the tensor-form :meth:`update` runs the Mandel kernel: where it is faster by measurement
        (``docs/performance.md``), i.e. when the return map needs a Newton iteration or AD for its tangent
        (nonlinear laws, Armstrong--Frederick back stresses), and no derivatives are wanted. The closed-form
        cases (linear law, Prager) keep the tensor formulation: with the conversion to ``(..., 3, 3, 3, 3)`` the
        kernel is no faster there, and their results stay bit-identical with and without autograd."""
        return (
            self._fast_tensor_update
            and self._fast_eligible()
            and not self._linear_residual()
            and not self._needs_graph(eps, *st.values())
        )

    def _fast_eligible(self) -> bool:
        """Whether the hand-fused Mandel kernel applies: the rate-independent J2 return map (not a subclass that
        changes the residual, e.g. :class:`Perzyna`), scalar parameters."""
        cls = type(self)
        if not self._use_fast or any(
            getattr(cls, m) is not getattr(J2Plasticity, m)
            for m in ("_residual", "_dalpha", "_elastic_part", "_check_dt_arg", "_finish", "_context")
        ):
            return False
        return all(t.numel() == 1 for k, t in self._params.items() if k not in ("C", "gamma"))

    def _needs_graph(self, *tensors: Tensor) -> bool:
        """Whether derivatives are wanted: an autograd graph (inputs or parameters require grad, grad mode on), or
        forward mode (dual tensors or ``torch.func`` transforms, which ``no_grad`` does not stop). Then the
        differentiable out-of-place formulation runs instead of the in-place kernel."""
        everything = (*tensors, *self._params.values())
        if any(_is_functorch_wrapped(t) or fwAD.unpack_dual(t).tangent is not None for t in everything):
            return True
        if not torch.is_grad_enabled():
            return False
        if any(t.requires_grad for t in everything):
            return True
        if isinstance(self.law, UserLaw):  # a callable may close over tensors that require grad
            return bool(self.law.value(torch.zeros(1, dtype=self.dtype, device=self.device)).requires_grad)
        return False

    def update_mandel(
        self,
        strain: TensorLike,
        state: Mapping[str, Tensor],
        dt: float | Tensor | None = None,
        *,
        need_tangent: bool = True,
        chunk: int | None = None,
        out: tuple[Tensor, Mapping[str, Tensor], Tensor | None] | None = None,
        compile: bool | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        r""":meth:`update` on Mandel vectors: ``(stress (..., 6), new_state, C_alg (..., 6, 6))``.

        Vectors and state are in the Mandel convention :data:`MANDEL_ORDER` (order 11, 22, 33, 23, 13, 12, √2 on
        shear slots, as :func:`constitutive.notation.to_mandel`); the tangent is :math:`C_{IJ} = w_I w_J C_{ijkl}`
        (dσ_M = C dε_M). Equal to :meth:`update` converted (to round-off).

        Parameters
        ----------
        strain:
            Total strain at the end of the step, Mandel vectors ``(..., 6)``.
        state:
            The converged state at the start of the step (:meth:`mandel_state_shapes`: ``eps_p`` ``(..., 6)``,
            ``alpha`` ``(...)``, ``backstress`` ``(..., n, 6)``); never modified.
        dt:
            Time increment (unused by rate-independent J2; accepted for the common interface).
        need_tangent:
            ``False`` skips the tangent (returned as ``None``), for residual-only calls.
        chunk:
            Points per chunk (default :data:`DEFAULT_CHUNK` for the eager kernel,
            :data:`~constitutive.models.j2_kernel.COMPILED_CHUNK` for the compiled one): temporaries stay in cache
            and their memory is reused from chunk to chunk.
        out:
            Preallocated ``(stress, state, tangent)`` outputs to write into (see below).
        compile:
            ``True``: run the ``torch.compile``-fused kernel (:mod:`constitutive.models.j2_kernel`; compiled once
            per process and kernel kind, tens of seconds the first time); ``False``: never; ``None`` (default):
            the process-wide policy :func:`constitutive.models.j2_kernel.set_compile_policy` (default ``"off"``;
            ``"auto"`` compiles for calls of ≥ :data:`~constitutive.models.j2_kernel.AUTO_THRESHOLD` points).
            Same results as the eager kernel to round-off; a failed compilation warns once and runs eager.

        Without autograd (no input or parameter requires grad, or grad mode off) a hand-fused radial return runs
        over chunks of ``chunk`` points (default :data:`DEFAULT_CHUNK`) with in-place operations, the 6×6 tangent
        built in place (closed form also with Armstrong--Frederick back stresses:
        :math:`C = K\,m\otimes m + 2G\beta\,\mathbb{I}^{dev} + u \otimes n`, see :meth:`_mandel_chunk` and
        ``docs/performance.md``).
        ``out=(stress, state, tangent)``: preallocated outputs of the result's shapes, dtype and device to write into
        (reused across steps; they must not overlap the inputs; on an error their contents are undefined, the
        inputs are untouched). With autograd, or for models the kernel does not cover (:class:`Perzyna`, per-point
        parameters, ``tangent_method="ad"``), the differentiable tensor path runs, converted at the edges.
        """
        e6 = strain if isinstance(strain, Tensor) else as_tensor(strain, dtype=self.dtype, device=self.device)
        check_shape(e6, (6,), "strain (Mandel vector)")
        check_finite(e6, "strain (Mandel vector)")
        e6 = e6.to(dtype=self.dtype, device=self.device)
        st, batch = self._check_mandel_state(state, e6.shape[:-1])
        if chunk is not None and (not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1):
            raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
        if not self._fast_eligible() or self.tangent_method != "auto" or self._needs_graph(e6, *st.values()):
            stress, new_state, C = self._update(mandel_to_tensor(e6), self.state_from_mandel(st), dt, need_tangent)
            res = (
                tensor_to_mandel(stress),
                self.state_to_mandel(new_state),
                None if C is None else tensor4_to_mandel(C),
            )
            if out is not None:
                _copy_out(out, res)
                return out[0], dict(out[1]), out[2] if res[2] is not None else None
            return res
        if compile is not None and not isinstance(compile, bool):
            raise ValueError(f"compile must be True, False or None, got {compile!r}")
        self._check_dt_arg(dt)
        with torch.no_grad():
            return self._fast_mandel(e6.expand(*batch, 6), st, batch, need_tangent, chunk, out, compile=compile)

    def _check_mandel_state(
        self, state: Mapping[str, Tensor], batch: tuple[int, ...] | torch.Size
    ) -> tuple[dict[str, Tensor], torch.Size]:
        """:meth:`check_state` and the value checks of :meth:`_prepare` on a Mandel-form state."""
        tails = self.mandel_state_shapes()
        out, common = self._broadcast_state(state, batch, tails, " (Mandel form)", "initial_state_mandel")
        if any(_is_functorch_wrapped(t) for t in out.values()):  # no data-dependent checks inside torch.func
            return {key: t.expand((*common, *tails[key])) for key, t in out.items()}, common
        # value checks with one synchronisation: min alpha; largest entry and largest trace of eps_p, backstress
        stats = [out["alpha"].detach().amin().reshape(1) if out["alpha"].numel() else _NEG_INF(out["alpha"])]
        # (aminmax and one matrix-vector product: single passes without temporaries of the state's size)
        m6 = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0], dtype=self.dtype, device=self.device)
        for key in ("eps_p", "backstress"):
            d = out[key].detach()
            if d.numel():
                lo, hi = d.aminmax()
                t_lo, t_hi = (d @ m6).aminmax()
                stats += [torch.maximum(-lo, hi).reshape(1), torch.maximum(-t_lo, t_hi).reshape(1)]
            else:
                stats += [torch.zeros(1, dtype=d.dtype, device=d.device)] * 2
        v = torch.cat(stats).tolist()
        if v[0] < 0:
            raise ValueError(
                f"state['alpha'] (equivalent plastic strain) must be non-negative, got a minimum of {v[0]:.6g}"
            )
        tol = math.sqrt(torch.finfo(self.dtype).eps)
        for i, name in ((1, "state['eps_p'] (plastic strain)"), (3, "state['backstress'] (back stresses)")):
            if v[i + 1] > tol * v[i]:
                raise ValueError(
                    f"{name} must be deviatoric (traceless), got a trace of {v[i + 1]:.3e} (largest entry {v[i]:.3e})"
                )
        return {key: t.expand((*common, *tails[key])) for key, t in out.items()}, common

    def _fast_mandel(
        self,
        e6: Tensor,
        st: Mapping[str, Tensor],
        batch: torch.Size | tuple[int, ...],
        need_tangent: bool,
        chunk: int | None,
        out: tuple[Tensor, Mapping[str, Tensor], Tensor | None] | None,
        plastic_out: Tensor | None = None,
        compile: bool | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        """The in-place Mandel kernel over chunks of points (no autograd; inputs already checked); ``plastic_out``
        (bool, batch shape): receives the yield decision; ``compile``: see :meth:`update_mandel` (the compiled
        kernel, :meth:`_compiled_mandel`, when the policy says so and it compiles)."""
        N = int(math.prod(batch))
        nk = self.n_backstress
        dtype, device = self.dtype, self.device
        e = e6.reshape(N, 6)
        ep = st["eps_p"].reshape(N, 6)
        al = st["alpha"].reshape(N)
        X = st["backstress"].reshape(N, nk, 6)
        shapes = {"stress": (*batch, 6), "eps_p": (*batch, 6), "alpha": tuple(batch), "backstress": (*batch, nk, 6)}
        if out is None:
            o_s = torch.empty(shapes["stress"], dtype=dtype, device=device)
            o_st = {k: torch.empty(shapes[k], dtype=dtype, device=device) for k in ("eps_p", "alpha", "backstress")}
            o_C = torch.empty((*batch, 6, 6), dtype=dtype, device=device) if need_tangent else None
        else:
            o_s, o_st_in, o_C = out
            o_st = dict(o_st_in)
            given = {"stress": o_s, **{k: o_st.get(k) for k in ("eps_p", "alpha", "backstress")}}
            if need_tangent:
                given["tangent"], shapes["tangent"] = o_C, (*batch, 6, 6)
            for k, t in given.items():
                if not isinstance(t, Tensor) or tuple(t.shape) != tuple(shapes[k]) or t.dtype != dtype:
                    raise ValueError(
                        f"out: the {k} buffer must be a {dtype} tensor of shape {tuple(shapes[k])}, "
                        f"got {getattr(t, 'shape', t)!r}"
                    )
                if not t.is_contiguous():
                    raise ValueError(f"out: the {k} buffer must be contiguous")
            if not need_tangent:
                o_C = None
        fs = o_s.view(N, 6)
        fep, fal, fX = o_st["eps_p"].view(N, 6), o_st["alpha"].view(N), o_st["backstress"].view(N, nk, 6)
        fC = o_C.view(N, 6, 6) if o_C is not None else None
        fP = plastic_out.view(N) if plastic_out is not None else None
        Kb, G = (float(t) for t in self.moduli())
        C = self.C.detach() if nk else None
        gam = self.gamma.detach() if nk else None
        if plastic_out is None and self._compiled_ok():
            key = self._kernel_key(need_tangent)
            if j2_kernel.wants_compiled(compile, N, key) and self._compiled_mandel(
                key, e, ep, al, X, fs, fep, fal, fX, fC, Kb, G, C, gam, batch, chunk
            ):
                return o_s, o_st, o_C
        step = DEFAULT_CHUNK if chunk is None else chunk
        for a in range(0, N, step):
            b = min(a + step, N)

            def where(idx: Tensor, a: int = a) -> list[tuple[int, ...]]:  # chunk-local -> batch indices
                if not batch:
                    return [()]
                cols = torch.unravel_index(idx[:, 0] + a, tuple(batch))
                return [tuple(int(i) for i in u) for u in zip(*cols)]

            self._mandel_chunk(
                e[a:b], ep[a:b], al[a:b], X[a:b], fs[a:b], fep[a:b], fal[a:b], fX[a:b],
                None if fC is None else fC[a:b], Kb, G, C, gam, where, None if fP is None else fP[a:b],
            )  # fmt: skip
        return o_s, o_st, o_C

    def _compiled_ok(self) -> bool:
        """Whether the compiled kernel covers this model: a law whose ``flow_stress`` is torch operations of its
        declared parameters (not a :class:`UserLaw`, whose callable is code)."""
        return not isinstance(self.law, UserLaw)

    def _kernel_key(self, need_tangent: bool) -> tuple[Any, ...]:
        """The compiled kernel's kind: law class, mode, back stresses, tangent, dtype, device type (the generated
        loops take the thread count at run time)."""
        if not self._has_closed_tangent():
            mode = "af"
        else:
            mode = "closed" if self.law.linear else "scalar"
        return (type(self.law), mode, self.n_backstress, bool(need_tangent), self.dtype, self.device.type)

    def _compiled_mandel(
        self, key: tuple[Any, ...], e: Tensor, ep: Tensor, al: Tensor, X: Tensor, o_s: Tensor, o_ep: Tensor,
        o_al: Tensor, o_X: Tensor, o_C: Tensor | None, Kb: float, G: float, C: Tensor | None, gam: Tensor | None,
        batch: torch.Size | tuple[int, ...], chunk: int | None,
    ) -> bool:  # fmt: skip
        """The compiled kernel (:func:`constitutive.models.j2_kernel.j2_return_mandel`) into the flat output views;
        points whose unrolled Newton iteration did not converge are recomputed by the eager kernel. Returns
        ``False`` (nothing written) when the kernel failed to compile: the caller runs the eager kernel."""
        mode, nk, tangent = key[1], key[2], key[3]
        dtype, device = self.dtype, self.device
        zeros = torch.zeros(0, dtype=dtype, device=device)
        p = {
            "K": torch.tensor(Kb, dtype=dtype, device=device), "G": torch.tensor(G, dtype=dtype, device=device),
            "sigma_y": self.sigma_y.detach().reshape(()), "H": self.H.detach().reshape(()),
            "tol": torch.tensor(self._tol(), dtype=dtype, device=device),
            "C": C.reshape(-1) if C is not None else zeros, "gamma": gam.reshape(-1) if gam is not None else zeros,
            **j2_kernel.mandel_constants(dtype, device),
        }  # fmt: skip
        law_params = {k: v.detach().reshape(()) for k, v in self.law._params.items()}
        n_iter = j2_kernel.N_NEWTON.get(mode, 0)
        fn = j2_kernel.compiled_kernel(key)
        N = e.shape[0]
        step = j2_kernel.COMPILED_CHUNK if chunk is None else max(chunk, 2)
        conv = torch.empty(N, dtype=torch.bool, device=device)
        for a in range(0, N, step):
            b = N if N - (a + step) < 2 else a + step  # no chunk of 1 point (a size-1 axis recompiles)
            args = [t[a:b].contiguous() for t in (e, ep, al, X)]
            outs = [o_s[a:b], o_ep[a:b], o_al[a:b], o_X[a:b], o_C[a:b] if o_C is not None else None, conv[a:b]]
            for t in (*args, *outs):
                if t is not None:
                    torch._dynamo.mark_dynamic(t, 0)
            try:
                fn(*args, p, law_params, type(self.law), mode, n_iter, tangent, outs)
            except Exception as err:  # no C++ compiler, unsupported platform, a law dynamo cannot trace
                if key in j2_kernel.READY:
                    raise
                j2_kernel.mark_failed(key, err)
                return False
            j2_kernel.READY.add(key)
            if b == N:
                break
        if not bool(conv.all()):  # the unrolled iterations were not enough there: the eager loop finishes
            idx = torch.nonzero(~conv).reshape(-1)
            m = idx.numel()
            t_s, t_ep = torch.empty(m, 6, dtype=dtype, device=device), torch.empty(m, 6, dtype=dtype, device=device)
            t_al, t_X = torch.empty(m, dtype=dtype, device=device), torch.empty(m, nk, 6, dtype=dtype, device=device)
            t_C = torch.empty(m, 6, 6, dtype=dtype, device=device) if o_C is not None else None

            def where(local: Tensor) -> list[tuple[int, ...]]:  # subset indices -> batch indices
                if not batch:
                    return [()]
                cols = torch.unravel_index(idx[local[:, 0]], tuple(batch))
                return [tuple(int(i) for i in u) for u in zip(*cols)]

            self._mandel_chunk(
                e[idx], ep[idx], al[idx], X[idx], t_s, t_ep, t_al, t_X, t_C, Kb, G, C, gam, where
            )  # fmt: skip
            for o, t in ((o_s, t_s), (o_ep, t_ep), (o_al, t_al), (o_X, t_X), (o_C, t_C)):
                if o is not None and t is not None:
                    o.index_copy_(0, idx, t)
        return True

    def _mandel_chunk(
        self, e: Tensor, ep: Tensor, al: Tensor, X: Tensor, o_s: Tensor, o_ep: Tensor, o_al: Tensor, o_X: Tensor,
        o_C: Tensor | None, Kb: float, G: float, C: Tensor | None, gam: Tensor | None,
        where: Callable[[Tensor], list[tuple[int, ...]]], o_P: Tensor | None = None,
    ) -> None:  # fmt: skip
        r"""Radial return of one chunk of ``n`` points in Mandel form, writing into the ``o_*`` views.

        Same return map as the tensor path (same Newton iterates and bracket); the consistent tangent in closed
        form for every case: with :math:`\xi = s^{tr} - \sum_k\theta_k X_{k,n}`, :math:`n = \xi/\|\xi\|`,
        :math:`a = 2G\sqrt{3/2}\,\Delta\alpha/\|\xi\|`, :math:`v = \sum_k\gamma_k\theta_k^2 X_{k,n}` and
        :math:`r'` the slope of the consistency residual,
        :math:`C = K\,m\otimes m + 2G(1-a)\,\mathbb{I}^{dev} + \big[(2Ga + 6G^2/r')\,n
        + (6G^2/r')(\Delta\alpha/\|\xi\|)(v - (n\cdot v)\,n)\big]\otimes n` (``m`` the Mandel identity)."""
        nk = X.shape[1]
        af = nk > 0 and gam is not None and bool((gam != 0).any())
        # (row sums and norms of the few components as matrix-vector products: torch's reductions over a short
        # last axis were 2-35× slower, docs/performance.md)
        tr = e @ _mandel_m(e.dtype, e.device)
        s = torch.sub(e, ep, out=o_s)  # s_tr = 2G (dev e - eps_p), built in the stress buffer
        s[:, :3] -= (tr * (1.0 / 3.0))[:, None]
        s.mul_(2.0 * G)
        eta = s - X.sum(1) if nk else s
        nrm_tr = _row_norms(eta)
        q_tr = SQ32 * nrm_tr
        sf_n, _ = self.flow_stress(al, slope=False)
        f_tr = q_tr - sf_n
        plastic = f_tr > 0
        pm = plastic.to(e.dtype)
        if o_P is not None:
            o_P.copy_(plastic)
        kin_sum = float(C.sum()) if C is not None else 0.0

        def xi_at(x: Tensor) -> tuple[Tensor, Tensor]:  # AF: ξ(Δα) and θ_k(Δα)
            assert C is not None and gam is not None
            th = 1.0 / (1.0 + gam * x[:, None])
            return s - (th[:, :, None] * X).sum(1), th

        if self._linear_residual():
            hk = 3.0 * G + float(self.H) + kin_sum
            x = f_tr.clamp_min(0.0) / hk
            dr = torch.full_like(x, -hk)
            nrm, th = nrm_tr, None
        else:
            if af:
                assert C is not None and gam is not None

                def residual(z: Tensor) -> tuple[Tensor, Tensor]:
                    xi, th = xi_at(z)
                    nr = _row_norms(xi) + (1.0 - pm)
                    kin = th @ C
                    g_th2 = gam * th * th
                    n_X = torch.einsum("nki,ni->nk", X, xi) / nr[:, None]
                    sf, dsf = self.flow_stress(al + z)
                    r = SQ32 * nr - (3.0 * G + kin) * z - sf
                    return r, SQ32 * _row_sums(g_th2 * n_X) - 3.0 * G - kin + (g_th2 @ C) * z - dsf

            else:  # isotropic law (+ Prager): n is fixed, the residual is scalar

                def residual(z: Tensor) -> tuple[Tensor, Tensor]:
                    sf, dsf = self.flow_stress(al + z)
                    return q_tr - (3.0 * G + kin_sum) * z - sf, -(3.0 * G + kin_sum) - dsf

            s_norm = _row_norms(s)
            if nk:
                s_norm = s_norm + _row_sums(_row_norms(X))
            upper = (SQ32 * s_norm - sf_n).clamp_min(0.0) / (3.0 * G)
            z_star, dr, _ = self._solve({"q_tr": q_tr}, plastic, residual, upper, where)
            r, _ = residual(z_star)
            x = torch.where(plastic, z_star - r / dr, 0.0)  # one more Newton step, as the tensor path
            if af:
                xi, th = xi_at(x)
                nrm = _row_norms(xi)
                eta = xi
            else:
                nrm, th = nrm_tr, None
        nrm_safe = nrm + (1.0 - pm)  # elastic points: a finite dummy (their Δα is 0)
        n = eta / nrm_safe[:, None]
        dg = SQ32 * x
        # outputs
        torch.addcmul(ep, dg[:, None], n, out=o_ep)
        torch.add(al, x, out=o_al)
        if nk:
            assert C is not None
            torch.addcmul(X, (SQ23 * C * x[:, None])[:, :, None], n[:, None, :], out=o_X)
            if th is not None:
                o_X.mul_(th[:, :, None])
        if o_C is not None:
            ratio = (2.0 * G * SQ32) * x / nrm_safe
            c_sym = 2.0 * G * (1.0 - ratio)
            c_vol = Kb - c_sym * (1.0 / 3.0)
            g6 = pm * (6.0 * G * G) / dr
            u = n * (2.0 * G * ratio + g6)[:, None]
            if af:
                assert gam is not None and th is not None
                v = ((gam * th * th)[:, :, None] * X).sum(1)
                w = v - _row_sums(n * v)[:, None] * n
                u.addcmul_(w, (g6 * x / nrm_safe)[:, None])
            torch.mul(u[:, :, None], n[:, None, :], out=o_C)
            # + c_sym I + c_vol m⊗m as one contiguous (n, 2) @ (2, 36) product (strided slice/diagonal updates of
            # the 6×6 blocks are several times slower)
            o_C.view(-1, 36).addmm_(torch.stack((c_sym, c_vol), 1), _iso_basis(o_C.dtype, o_C.device))
        # the stress last: its buffer held s_tr
        s.addcmul_(n, (-2.0 * G * dg)[:, None])
        s[:, :3] += (Kb * tr)[:, None]

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
        if self._fast_tensor_ok(eps, st):
            out = self._fast_tensor(eps, st, dtt, True, ad=True)  # the same stress and state as update
            assert out[2] is not None
            return out[0], out[1], out[2]
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


# ----------------------------------------------------------------------------------------------------------------
# Mandel-native fast path
# ----------------------------------------------------------------------------------------------------------------
#: Mandel convention of the fast path (named once): the "voigt" component order of :mod:`constitutive.notation`
#: (11, 22, 33, 23, 13, 12) with √2 on the three shear slots, for strain, stress, plastic strain and back stresses
#: alike; tangents are the 6×6 matrices :math:`C_{IJ} = w_I w_J C_{ijkl}`. The basis is orthonormal: norms, dot
#: products and n⊗n are the plain vector ones.
MANDEL_ORDER = "voigt"
#: Default number of points per chunk of :meth:`J2Plasticity.update_mandel` (temporaries of a chunk stay in cache).
DEFAULT_CHUNK = 16384

_SQ2 = math.sqrt(2.0)
_PAIRS = ORDERS[MANDEL_ORDER]  # the component order is written once, in constitutive.notation
_CONVERSIONS: dict[tuple[torch.dtype, torch.device], tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]] = {}


def _conversion(dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Index/weight tables of the Mandel <-> tensor gathers: ``(idx_ij, idx_ji, w6, idx81, w81, idx9)``."""
    key = (dtype, device)
    if key not in _CONVERSIONS:
        with torch.inference_mode(False):
            w = torch.tensor([1.0, 1.0, 1.0, _SQ2, _SQ2, _SQ2], dtype=dtype, device=device)
            idx_ij = torch.tensor([3 * i + j for i, j in _PAIRS], device=device)
            idx_ji = torch.tensor([3 * j + i for i, j in _PAIRS], device=device)
            slot = {}
            for I, (i, j) in enumerate(_PAIRS):
                slot[(i, j)] = slot[(j, i)] = I
            idx9 = torch.tensor([slot[(i, j)] for i in range(3) for j in range(3)], device=device)
            idx81 = (idx9[:, None] * 6 + idx9[None, :]).reshape(81)
            w81 = (1.0 / (w[idx9][:, None] * w[idx9][None, :])).reshape(81)
            _CONVERSIONS[key] = (idx_ij, idx_ji, w, idx81, w81, idx9)
    return _CONVERSIONS[key]


_ISO_BASES: dict[tuple[torch.dtype, torch.device], Tensor] = {}


def _mandel_m(dtype: torch.dtype, device: torch.device) -> Tensor:
    """``(6,)``: the Mandel identity m (so that ``e @ m`` is the trace of Mandel vectors ``e``)."""
    return _iso_basis(dtype, device)[1, :6]


_ONES: dict[tuple[torch.dtype, torch.device, int], Tensor] = {}


def _row_sums(v: Tensor) -> Tensor:
    """Sums over the last axis of a short ``(..., k)`` (a matrix-vector product with ones)."""
    key = (v.dtype, v.device, v.shape[-1])
    if key not in _ONES:
        with torch.inference_mode(False):
            _ONES[key] = torch.ones(v.shape[-1], dtype=v.dtype, device=v.device)
    return v @ _ONES[key]


def _row_norms(v: Tensor) -> Tensor:
    """Euclidean norms over the last axis of a short ``(..., k)`` (Mandel vectors: the tensor norms)."""
    return torch.sqrt(_row_sums(v * v))


def _iso_basis(dtype: torch.dtype, device: torch.device) -> Tensor:
    """``(2, 36)``: the 6×6 identity and m⊗m (m the Mandel identity), flattened."""
    key = (dtype, device)
    if key not in _ISO_BASES:
        with torch.inference_mode(False):
            m = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0], dtype=dtype, device=device)
            _ISO_BASES[key] = torch.stack((torch.eye(6, dtype=dtype, device=device), m[:, None] * m)).reshape(2, 36)
    return _ISO_BASES[key]


def tensor_to_mandel(x: Tensor) -> Tensor:
    """Symmetric ``(..., 3, 3)`` -> Mandel ``(..., 6)`` (:data:`MANDEL_ORDER`; the symmetric part, as
    :func:`constitutive.notation.to_mandel`, without its checks)."""
    idx_ij, idx_ji, w, _, _, _ = _conversion(x.dtype, x.device)
    f = x.reshape(-1, 9)
    if x.requires_grad and torch.is_grad_enabled():
        v = 0.5 * (f[:, idx_ij] + f[:, idx_ji]) * w
    else:  # index_select is faster than advanced indexing
        v = torch.index_select(f, 1, idx_ij).add_(torch.index_select(f, 1, idx_ji)).mul_(0.5 * w)
    return v.reshape(*x.shape[:-2], 6)


def mandel_to_tensor(v: Tensor) -> Tensor:
    """Mandel ``(..., 6)`` -> symmetric ``(..., 3, 3)`` (inverse of :func:`tensor_to_mandel`)."""
    _, _, w, _, _, idx9 = _conversion(v.dtype, v.device)
    return torch.index_select((v / w).reshape(-1, 6), 1, idx9).reshape(*v.shape[:-1], 3, 3)


def mandel_to_tensor4(C: Tensor) -> Tensor:
    """Mandel ``(..., 6, 6)`` -> ``(..., 3, 3, 3, 3)`` (one gather: :math:`C_{ijkl} = C_{IJ}/(w_I w_J)`)."""
    _, _, _, idx81, w81, _ = _conversion(C.dtype, C.device)
    f = C.reshape(-1, 36)
    if C.requires_grad and torch.is_grad_enabled():
        out = f[:, idx81] * w81
    else:
        out = torch.index_select(f, 1, idx81).mul_(w81)
    return out.reshape(*C.shape[:-2], 3, 3, 3, 3)


def tensor4_to_mandel(C: Tensor) -> Tensor:
    """Minor-symmetric ``(..., 3, 3, 3, 3)`` -> Mandel ``(..., 6, 6)`` (no checks)."""
    idx_ij, idx_ji, w, _, _, _ = _conversion(C.dtype, C.device)
    f = C.reshape(*C.shape[:-4], 9, 9)
    rows = 0.5 * (f[..., idx_ij, :] + f[..., idx_ji, :])
    M = 0.5 * (rows[..., idx_ij] + rows[..., idx_ji])
    return M * w[:, None] * w[None, :]


def _copy_out(
    out: tuple[Tensor, Mapping[str, Tensor], Tensor | None], res: tuple[Tensor, dict[str, Tensor], Tensor | None]
) -> None:
    """Copy a result into ``out`` buffers (the differentiable route of :meth:`J2Plasticity.update_mandel`)."""
    out[0].copy_(res[0])
    for k, v in res[1].items():
        out[1][k].copy_(v)
    if res[2] is not None and out[2] is not None:
        out[2].copy_(res[2])


def _NEG_INF(t: Tensor) -> Tensor:
    """A one-element tensor that passes the ``alpha >= 0`` check (empty state)."""
    return torch.zeros(1, dtype=t.dtype, device=t.device)
