r"""The shared implicit return map: a batched local Newton solver and the consistent tangent by the implicit
function theorem, for every small-strain model whose step is a small nonlinear system per material point.

A backward-Euler step of an elastoplastic (or damage, or critical-state) model is, at each plastic point, a system
of :math:`m` equations :math:`R(x; \varepsilon, s_n) = 0` in :math:`m` local unknowns :math:`x` (a plastic
multiplier, a pressure, a hardening variable, a damage, ...), given the total strain :math:`\varepsilon` at the end
of the step and the state :math:`s_n` at its start. The stress is then :math:`\sigma(x; \varepsilon, s_n)`. Three
things are the same for every such model, and are written here once:

* **the solve** (:func:`local_newton`): Newton's method on all points at once, the Jacobian
  :math:`\partial R/\partial x` by automatic differentiation (``m`` reverse-mode products, each batched
  over the points), a scaled convergence test :math:`|R_i| \le \mathrm{tol}\; s_i` per equation, a
  backtracking line search on the scaled residual norm, converged points dropped from the work, and a
  :class:`~constitutive.models.base.ConvergenceError` naming the points that did not converge (nothing is
  returned, so no state is touched);
* **the consistent tangent** (:func:`implicit_tangent`): differentiating :math:`R(x(\varepsilon); \varepsilon) = 0`,

  .. math::

      \frac{d\sigma}{d\varepsilon} = \frac{\partial \sigma}{\partial \varepsilon}
          - \frac{\partial \sigma}{\partial x}
            \Big(\frac{\partial R}{\partial x}\Big)^{-1} \frac{\partial R}{\partial \varepsilon},

  every block by AD on **Mandel** vectors (``m + 6`` reverse-mode products, batched over the points), so the
  result is the derivative on Sym (the ``"symmetric"`` convention of :mod:`constitutive.tangent`) and needs no
  symmetry of its own: a non-associated model gets its unsymmetric tangent;
* **derivatives for calibration** (:func:`differentiable_solution`): the converged :math:`x^*` re-expressed as one
  Newton step :math:`x = x^* - J^{*-1} R(x^*)` with :math:`J^*` held fixed -- equal to :math:`x^*` at convergence,
  and carrying the implicit-function-theorem derivative :math:`dx = -J^{-1}\, dR` to the strain and the parameters
  through autograd.

:class:`ReturnMappingMaterial` puts them together: a subclass states its model (elastic stress, trial yield value,
residual, stress and state from the unknowns) and inherits ``update`` with input and state checks, the
elastic/plastic split, Newton on the plastic points only, the consistent tangent, ``need_tangent=False``,
:meth:`~ReturnMappingMaterial.ad_update` (the tangent by reverse-mode AD through the solution, a second route for
tests) and the errors.

Conventions: strains and stresses inside are **Mandel** 6-vectors in :data:`constitutive.models.plasticity.MANDEL_ORDER`
(norm-preserving: :math:`\sigma : \varepsilon = \sigma_M \cdot \varepsilon_M`); the 6×6 Mandel tangent
:math:`d\sigma_M/d\varepsilon_M` becomes the ``(..., 3, 3, 3, 3)`` tangent at the edge. Hook functions receive
the points flattened to one leading axis ``n`` and must be *pointwise* (row ``i`` of the output depends on row ``i``
of the inputs only) and written with plain tensor operations (``torch.where`` instead of Python ``if`` on values),
since they are differentiated by autograd.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import ClassVar

import torch

from ..tensor import Tensor, TensorLike
from .base import ConvergenceError, PathDependentMaterial
from .plasticity import mandel_to_tensor, mandel_to_tensor4, tensor_to_mandel

__all__ = [
    "ReturnMappingMaterial",
    "local_newton",
    "implicit_tangent",
    "stress_tangent",
    "differentiable_solution",
    "pointwise_jacobian",
]

State = Mapping[str, Tensor]
#: ``residual(x, eps, state) -> R``: ``x`` ``(n, m)``, ``eps`` ``(n, 6)`` Mandel, ``state`` entries ``(n, ...)``.
Residual = Callable[[Tensor, Tensor, State], Tensor]

#: Backtracking halvings of the Newton step before the full step is taken anyway.
LINE_SEARCH_HALVINGS = 8


def _solve(J: Tensor, b: Tensor) -> Tensor:
    """``J⁻¹ b`` for ``J`` ``(n, m, m)`` and ``b`` ``(n, m, k)`` (a division when ``m == 1``: the common scalar
    return map, where a batched LAPACK call costs more than the arithmetic)."""
    return b / J if J.shape[-1] == 1 else torch.linalg.solve(J, b)


def _take(state: State, idx: Tensor) -> dict[str, Tensor]:
    return {k: v.index_select(0, idx) for k, v in state.items()}


def pointwise_jacobian(fn: Callable[[Tensor], Tensor], x: Tensor) -> tuple[Tensor, Tensor]:
    r"""``(fn(x), dfn/dx)`` for a pointwise ``fn``: ``x`` ``(n, m)`` -> ``(n, k)``; the Jacobian ``(n, k, m)``,
    detached, by ``k`` reverse-mode products (row ``r`` is the gradient of :math:`\sum_i fn(x)_{ir}`, which is
    the per-point gradient because points do not interact), each batched over the ``n`` points.

    Reverse mode because forward-mode dual numbers run elementwise products through Python decompositions in
    this torch (about 8 times slower, measured on 1000 points and 6 unknowns)."""
    n, m = x.shape
    with torch.enable_grad():
        xx = x.detach().requires_grad_(True)
        out = fn(xx)
        k = out.shape[-1]
        J = out.new_zeros((n, k, m))
        if out.requires_grad:
            for r in range(k):
                seed = torch.zeros_like(out)
                seed[:, r] = 1.0
                (g,) = torch.autograd.grad(out, xx, seed, retain_graph=r < k - 1, allow_unused=True)
                if g is not None:
                    J[:, r] = g
    return out.detach(), J


def local_newton(
    residual: Residual,
    x0: Tensor,
    eps: Tensor,
    state: State,
    *,
    scale: Tensor,
    tol: float,
    max_iter: int,
    model: str,
    clip: Callable[[Tensor, Tensor, State], Tensor] | None = None,
    where: Callable[[Tensor], list[tuple[int, ...]]] | None = None,
    jacobian: Callable[[Tensor, Tensor, State], tuple[Tensor, Tensor]] | None = None,
) -> tuple[Tensor, int]:
    r"""Solve ``residual(x, eps, state) = 0`` for ``x`` at every point; returns ``(x, iterations)``, detached.

    Parameters
    ----------
    residual:
        Pointwise residual ``(n, m)`` of the unknowns ``x`` ``(n, m)``, the Mandel strain ``eps`` ``(n, 6)`` and the
        state entries ``(n, ...)``; its Jacobian in ``x`` comes from AD (:func:`pointwise_jacobian`).
    x0:
        The starting point ``(n, m)`` (e.g. the elastic trial: zero plastic multiplier).
    eps, state:
        The data of each point, passed through to ``residual`` (rows are dropped together as points converge).
    scale:
        ``(n, m)`` positive: point ``i`` has converged when :math:`|R_{ij}| \le \mathrm{tol}\, s_{ij}` for all ``j``.
    tol, max_iter:
        Relative tolerance and the most Newton iterations.
    model:
        The model's name, for the error message.
    clip:
        ``clip(x, eps, state) -> x`` keeps an iterate admissible (e.g. a plastic multiplier ≥ 0), applied after each
        step; ``None``: no constraint.
    where:
        Maps the indices ``(k,)`` of failing rows to the points' batch indices for the error message.
    jacobian:
        ``jacobian(x, eps, state) -> (R, dR/dx)`` ``(n, m)``, ``(n, m, m)``: a closed-form Jacobian instead of AD
        (the AD products dominate the cost of a cheap residual).

    Each iteration takes the Newton step :math:`\Delta x = -J^{-1} R` and halves it (at most
    :data:`LINE_SEARCH_HALVINGS` times) until the scaled residual norm decreases; points that have converged stop
    iterating. Raises :class:`~constitutive.models.base.ConvergenceError` (with ``points``, ``residuals``,
    ``iterations``, ``tol`` in its ``diagnostics``) when some point has not converged after ``max_iter``
    iterations or its Jacobian is singular.
    """
    with torch.no_grad():
        x = x0.detach().clone()
        n = x.shape[0]
        active = torch.arange(n, device=x.device)
        xa, ea, sa, ca = x, eps.detach(), {k: v.detach() for k, v in state.items()}, scale.detach()
        for it in range(max_iter + 1):
            if jacobian is not None:
                R, J = jacobian(xa, ea, sa)
            else:
                R, J = pointwise_jacobian(lambda y: residual(y, ea, sa), xa)  # noqa: B023 (used at once)
            err = (R.abs() / ca).amax(-1)
            done = err <= tol
            if bool(done.any()):
                x[active[done]] = xa[done]
                keep = ~done
                if not bool(keep.any()):
                    return x, it
                active, xa, ea, R, J, err, ca = (t[keep] for t in (active, xa, ea, R, J, err, ca))
                sa = {k: v[keep] for k, v in sa.items()}
            if it == max_iter:
                _fail(model, f"did not converge in {max_iter} iterations", active, err, tol, max_iter, where)
            if J.shape[-1] == 1:
                dx, info = -R / J[..., 0], (J[:, 0, 0] == 0).to(torch.int32)
            else:
                dx, info = torch.linalg.solve_ex(J, -R)
            bad = (info != 0) | ~torch.isfinite(dx).all(-1)
            if bool(bad.any()):
                _fail(model, "has a singular Jacobian", active[bad], err[bad], tol, it, where)
            norm0 = torch.linalg.vector_norm(R / ca, dim=-1)
            t = torch.ones_like(norm0)
            for _ in range(LINE_SEARCH_HALVINGS):
                trial = xa + t[:, None] * dx
                if clip is not None:
                    trial = clip(trial, ea, sa)
                norm1 = torch.linalg.vector_norm(residual(trial, ea, sa) / ca, dim=-1)
                ok = torch.isfinite(norm1) & (norm1 < norm0)
                if bool(ok.all()):
                    break
                t = torch.where(ok, t, 0.5 * t)
            xa = xa + t[:, None] * dx
            if clip is not None:
                xa = clip(xa, ea, sa)
    raise AssertionError("unreachable")  # pragma: no cover


def _fail(
    model: str,
    what: str,
    rows: Tensor,
    err: Tensor,
    tol: float,
    iterations: int,
    where: Callable[[Tensor], list[tuple[int, ...]]] | None,
) -> None:
    idx = rows[:50]
    points = where(idx) if where is not None else [(int(i),) for i in idx]
    worst = float(err.max()) if err.numel() else math.nan
    raise ConvergenceError(
        f"{model}: the local Newton iteration (return map) {what} at {rows.numel()} point(s) "
        f"{points[:5]}{' ...' if len(points) > 5 else ''}; largest scaled residual {worst:.3e} (tol {tol:.1e}); "
        "the state was not updated",
        points=points,
        residuals=err.detach().clone(),
        iterations=iterations,
        tol=tol,
    )


def implicit_tangent(
    residual: Residual,
    stress: Callable[[Tensor, Tensor, State], Tensor],
    x: Tensor,
    eps: Tensor,
    state: State,
) -> Tensor:
    r"""Consistent Mandel tangent :math:`d\sigma_M/d\varepsilon_M` ``(n, 6, 6)`` at the solution ``x`` ``(n, m)``.

    :math:`\partial_\varepsilon \sigma - \partial_x \sigma\, (\partial_x R)^{-1} \partial_\varepsilon R`, each block
    by AD with respect to the unknowns and the Mandel strain; the state is held fixed (it is the start of the step).

    Parameters
    ----------
    residual:
        ``residual(x, eps, state) -> (n, m)``, pointwise (as in :func:`local_newton`).
    stress:
        ``stress(x, eps, state) -> (n, 6)``, the Mandel stress from the unknowns, pointwise.
    x:
        The converged unknowns ``(n, m)``.
    eps:
        The Mandel strain at the end of the step ``(n, 6)``.
    state:
        The state at the start of the step, entries ``(n, ...)``.
    """
    n, m = x.shape
    x, eps = x.detach(), eps.detach()
    state = {k: v.detach() for k, v in state.items()}

    def both(z: Tensor) -> Tensor:  # unknowns and strain stacked, (n, m + 6) -> (n, m + 6)
        return torch.cat((residual(z[:, :m], z[:, m:], state), stress(z[:, :m], z[:, m:], state)), -1)

    _, D = pointwise_jacobian(both, torch.cat((x, eps), -1))
    Rx, Re, Sx, Se = D[:, :m, :m], D[:, :m, m:], D[:, m:, :m], D[:, m:, m:]
    if m == 0:
        return Se
    return Se - Sx @ _solve(Rx, Re)


def stress_tangent(stress: Callable[[Tensor], Tensor], eps: Tensor) -> Tensor:
    """Mandel tangent ``(n, 6, 6)`` of a pointwise stress function of the Mandel strain ``eps`` ``(n, 6)`` (an
    elastic step) by six reverse-mode products."""
    return pointwise_jacobian(stress, eps.detach())[1]


def differentiable_solution(residual: Residual, x_star: Tensor, eps: Tensor, state: State) -> Tensor:
    r"""The converged unknowns as one Newton step from themselves, :math:`x = x^* - J^{*-1} R(x^*; \varepsilon)`
    with :math:`J^* = \partial R/\partial x` at :math:`x^*` held fixed: equal to ``x_star`` to the solver's
    tolerance, and differentiable in ``eps`` and the model parameters with the implicit-function-theorem derivative
    (autograd reaches them through ``R``)."""
    xs = x_star.detach()
    with torch.no_grad():
        st0 = {k: v.detach() for k, v in state.items()}
        _, J = pointwise_jacobian(lambda y: residual(y, eps.detach(), st0), xs)
    return xs - _solve(J, residual(xs, eps, state).unsqueeze(-1)).squeeze(-1)


class ReturnMappingMaterial(PathDependentMaterial, abstract=True):
    r"""Base class of small-strain models integrated by an implicit return map (backward Euler) on the shared
    engine of this module.

    A subclass declares its parameters and state (:meth:`state_shapes`) and implements the model as pointwise
    functions of the Mandel strain ``eps`` ``(n, 6)`` at the end of the step and the state ``state`` (entries
    ``(n, *tail)``) at its start:

    * :meth:`_elastic_stress` ``(n, 6)``: the stress if the step is elastic (the state unchanged), and optionally
      :meth:`_elastic_tangent` (its Mandel tangent, by AD when not given);
    * :meth:`_trial_yield` ``(n,)``: the yield function at the elastic trial; a point is plastic where it is > 0;
    * :attr:`n_unknowns` ``m`` and :meth:`_initial_guess` ``(n, m)``, :meth:`_residual` ``(n, m)``,
      :meth:`_residual_scale` ``(n, m)``: the backward-Euler system of a plastic point and its convergence scales;
    * :meth:`_plastic_stress` ``(n, 6)`` and :meth:`_plastic_state` (dict of ``(n, *tail)``) from the solution;
    * optionally :meth:`_clip` (keep iterates admissible) and :meth:`_check_state_values` (value checks of a
      state, e.g. a non-negative hardening variable).

    A model with several return types (a cone and its apex, a plane and its edges) overrides
    :meth:`_solve_plastic`, :meth:`_assemble` and :meth:`_tangent` per type, still with the functions of this
    module.

    The base supplies ``update(strain, state, dt=None, need_tangent=True) -> (stress, new_state, C)`` with ``C``
    the consistent tangent ``(..., 3, 3, 3, 3)`` (derivative on Sym, minor-symmetric, major-symmetric only if the
    model is), batched over any leading axes, inputs never modified, and on a
    :class:`~constitutive.models.base.ConvergenceError` nothing returned. Subclasses store the solver options with
    :meth:`_solver_options` (``tol``: relative tolerance of :func:`local_newton`, default 1e-11 in float64 and
    1e-5 in float32; ``max_iter``).
    """

    #: Number of local unknowns ``m`` of a plastic point.
    n_unknowns: ClassVar[int] = 1

    # ------------------------------------------------------------------------------------------- the model
    def _elastic_stress(self, eps: Tensor, state: State) -> Tensor:
        raise TypeError(f"{type(self).__name__} must define _elastic_stress")

    def _elastic_tangent(self, eps: Tensor, state: State) -> Tensor | None:
        """Mandel tangent ``(n, 6, 6)`` of an elastic step, or ``None`` (the default): then by AD of
        :meth:`_elastic_stress` (six reverse-mode products). A model with constant elasticity returns its
        stiffness here and saves that work at every point."""
        return None

    def _trial_yield(self, eps: Tensor, state: State) -> Tensor:
        raise TypeError(f"{type(self).__name__} must define _trial_yield")

    def _initial_guess(self, eps: Tensor, state: State) -> Tensor:
        return eps.new_zeros((eps.shape[0], self.n_unknowns))

    def _residual(self, x: Tensor, eps: Tensor, state: State) -> Tensor:
        raise TypeError(f"{type(self).__name__} must define _residual")

    def _residual_jacobian(self, x: Tensor, eps: Tensor, state: State) -> tuple[Tensor, Tensor]:
        """``(R, dR/dx)`` ``(n, m)``, ``(n, m, m)`` in closed form; a subclass that defines it sets
        :attr:`closed_form_jacobian` and the Newton iterations skip the AD products (the tangent still uses AD)."""
        raise TypeError(f"{type(self).__name__} defines no closed-form Jacobian")

    #: Whether :meth:`_residual_jacobian` is defined (used by the local Newton iterations).
    closed_form_jacobian: ClassVar[bool] = False

    def _residual_scale(self, eps: Tensor, state: State) -> Tensor:
        return eps.new_ones((eps.shape[0], self.n_unknowns))

    def _plastic_stress(self, x: Tensor, eps: Tensor, state: State) -> Tensor:
        raise TypeError(f"{type(self).__name__} must define _plastic_stress")

    def _plastic_state(self, x: Tensor, eps: Tensor, state: State) -> dict[str, Tensor]:
        raise TypeError(f"{type(self).__name__} must define _plastic_state")

    def _clip(self, x: Tensor, eps: Tensor, state: State) -> Tensor:
        return x

    def _check_state_values(self, state: State) -> None:
        """Value checks of a (broadcast) state; ``ValueError`` naming the entry (default: none)."""

    # ------------------------------------------------------------------------------------------- options
    @property
    def _tol(self) -> float:
        return float(self._options.get("tol", 1e-11 if self.dtype == torch.float64 else 1e-5))

    @property
    def _max_iter(self) -> int:
        return int(self._options.get("max_iter", 50))

    # ------------------------------------------------------------------------------------------- the update
    def _prepare(self, strain: TensorLike, state: State) -> tuple[Tensor, dict[str, Tensor], torch.Size]:
        """Checked Mandel strain ``(N, 6)``, flattened state entries ``(N, *tail)`` and the batch shape."""
        eps_t = self.check_strain(strain).to(dtype=self.dtype, device=self.device)
        st, batch = self.check_state(state, eps_t.shape[:-2])
        self._check_state_values(st)
        N = math.prod(batch)
        tails = self.state_shapes()
        flat = {k: v.reshape(N, *tails[k]) for k, v in st.items()}
        eps = tensor_to_mandel(eps_t.expand(*batch, 3, 3).reshape(N, 3, 3))
        return eps, flat, batch

    def _where(self, batch: torch.Size, plastic_idx: Tensor) -> Callable[[Tensor], list[tuple[int, ...]]]:
        def where(rows: Tensor) -> list[tuple[int, ...]]:
            flat = plastic_idx[rows].tolist()
            return [tuple(int(i) for i in torch.unravel_index(torch.tensor(f), batch)) if batch else () for f in flat]

        return where

    def _solve_plastic(
        self, eps: Tensor, state: dict[str, Tensor], batch: torch.Size
    ) -> tuple[Tensor, Tensor, dict[str, Tensor], Tensor]:
        """The plastic points' indices, their data and converged unknowns: ``(idx, eps_p, state_p, x*)``."""
        with torch.no_grad():
            f = self._trial_yield(eps.detach(), {k: v.detach() for k, v in state.items()})
        idx = torch.nonzero(f > 0).reshape(-1)
        e_p, s_p = eps.index_select(0, idx), _take(state, idx)
        if idx.numel() == 0:
            return idx, e_p, s_p, eps.new_zeros((0, self.n_unknowns))
        x0 = self._initial_guess(e_p.detach(), s_p)
        x_star, _ = local_newton(
            self._residual,
            x0,
            e_p,
            s_p,
            scale=self._residual_scale(e_p.detach(), s_p),
            tol=self._tol,
            max_iter=self._max_iter,
            model=type(self).__name__,
            clip=self._clip,
            where=self._where(batch, idx),
            jacobian=self._residual_jacobian if self.closed_form_jacobian else None,
        )
        return idx, e_p, s_p, x_star

    def _assemble(
        self, eps: Tensor, state: dict[str, Tensor], idx: Tensor, e_p: Tensor, s_p: dict[str, Tensor], x_star: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Stress ``(N, 6)`` and new state, differentiable in the strain and the parameters."""
        sigma = self._elastic_stress(eps, state)
        new_state = {k: v.clone() for k, v in state.items()}
        if idx.numel() == 0:
            return sigma, new_state
        needs_graph = torch.is_grad_enabled() and (
            eps.requires_grad or any(p.requires_grad for p in self.parameters.values())
        )
        x = differentiable_solution(self._residual, x_star, e_p, s_p) if needs_graph else x_star
        sigma = sigma.index_copy(0, idx, self._plastic_stress(x, e_p, s_p).to(sigma.dtype))
        for k, v in self._plastic_state(x, e_p, s_p).items():
            new_state[k] = new_state[k].index_copy(0, idx, v.to(new_state[k].dtype))
        return sigma, new_state

    def _tangent(
        self, eps: Tensor, state: dict[str, Tensor], idx: Tensor, e_p: Tensor, s_p: dict[str, Tensor], x_star: Tensor
    ) -> Tensor:
        st = {k: v.detach() for k, v in state.items()}
        with torch.no_grad():
            C = self._elastic_tangent(eps.detach(), st)
            if C is None:
                C = stress_tangent(lambda e: self._elastic_stress(e, st), eps)
            C = C.expand(eps.shape[0], 6, 6)
            if idx.numel():
                C = C.index_copy(0, idx, implicit_tangent(self._residual, self._plastic_stress, x_star, e_p, s_p))
        return C

    def _finish(
        self, sigma: Tensor, new_state: dict[str, Tensor], C: Tensor | None, batch: torch.Size
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        tails = self.state_shapes()
        out_state = {k: v.reshape((*batch, *tails[k])) for k, v in new_state.items()}
        stress = mandel_to_tensor(sigma).reshape(*batch, 3, 3)
        return stress, out_state, None if C is None else mandel_to_tensor4(C).reshape(*batch, 3, 3, 3, 3)

    def _update(
        self, strain: TensorLike, state: State, dt: float | Tensor | None, need_tangent: bool
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        """One backward-Euler increment to ``strain`` ``(..., 3, 3)`` from ``state``: ``(stress, new_state, C)``."""
        eps, st, batch = self._prepare(strain, state)
        idx, e_p, s_p, x_star = self._solve_plastic(eps, st, batch)
        sigma, new_state = self._assemble(eps, st, idx, e_p, s_p, x_star)
        C = self._tangent(eps, st, idx, e_p, s_p, x_star) if need_tangent else None
        return self._finish(sigma, new_state, C, batch)

    def ad_update(
        self, strain: TensorLike, state: State, dt: float | Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """:meth:`update` with the tangent by reverse-mode AD through :func:`differentiable_solution` (six
        vector-Jacobian products, batched over the points): a second route to the consistent tangent."""
        eps, st, batch = self._prepare(strain, state)
        idx, e_p, s_p, x_star = self._solve_plastic(eps, st, batch)
        e = eps.detach().requires_grad_(True)
        with torch.enable_grad():
            sigma, new_state = self._assemble(e, st, idx, e.index_select(0, idx), s_p, x_star)
        rows = []
        for i in range(6):
            seed = torch.zeros_like(sigma)
            seed[:, i] = 1.0
            (g,) = torch.autograd.grad(sigma, e, seed, retain_graph=i < 5)
            rows.append(g)
        C = torch.stack(rows, -2)
        stress, out_state, C4 = self._finish(sigma.detach(), {k: v.detach() for k, v in new_state.items()}, C, batch)
        assert C4 is not None
        return stress, out_state, C4

    def ad_tangent(self, strain: TensorLike) -> Tensor:
        """AD tangent of one step from the virgin state (cf. :meth:`tangent`)."""
        strain = self.check_strain(strain)
        return self.ad_update(strain, self.initial_state(strain.shape[:-2]))[2]


def mandel_identity(like: Tensor) -> Tensor:
    """The Mandel vector of the identity, ``(6,)`` in the dtype and device of ``like``."""
    return torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0], dtype=like.dtype, device=like.device)


def mandel_deviator(v: Tensor) -> tuple[Tensor, Tensor]:
    """``(dev v, tr v)`` of Mandel vectors ``(..., 6)`` (the deviator is again a Mandel vector)."""
    tr = v[..., :3].sum(-1)
    return v - (tr / 3.0)[..., None] * mandel_identity(v), tr


__all__ += ["mandel_identity", "mandel_deviator"]
