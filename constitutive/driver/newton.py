r"""One load step of the driver: Newton on the stress-controlled components, with a tangent predictor and a
backtracking line search (module docstring of :mod:`constitutive.driver`), and the graph-carrying correction that
makes a converged step differentiable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

from ..models.base import ConvergenceError
from ..tensor import Tensor

#: ``evaluate(x_vec, state_n, dt, temperature) -> (y_vec, new_state, K)``: the model in the driver's component
#: vectors; ``temperature`` is the temperature at the end of the step ``T_{n+1}`` (``None``: no temperature, or held).
Evaluator = Callable[[Tensor, Any, float, "Tensor | None"], tuple[Tensor, Any, Tensor]]


@dataclass(frozen=True)
class NewtonSettings:
    """Limits of the Newton iterations of one step.

    ``max_iter``: corrections per step; convergence when ``|r| <= rtol * scale + atol`` at every point;
    ``predictor``: start from the previous step's tangent, extrapolated; ``line_search``: at most this many halvings
    of a correction that does not reduce ``|r|``."""

    max_iter: int = 25
    rtol: float = 1e-12
    atol: float = 0.0
    predictor: bool = True
    line_search: int = 8


class StepStart(NamedTuple):
    """The converged point a step starts from: vectors ``x`` (strain/F) and ``y`` (stress/P) ``(*B, n)``, the
    history ``state`` and the previous Newton matrix ``K`` ``(*B, n, n)`` (``None`` before the first step)."""

    x: Tensor
    y: Tensor
    state: Any
    K: Tensor | None


class Control(NamedTuple):
    """Indices of the stress-controlled (``s_idx``) and strain-controlled (``e_idx``) components of a step."""

    s_idx: Tensor
    e_idx: Tensor


class StepResult(NamedTuple):
    """A converged step: ``x``, ``y``, ``state``, the Newton matrix ``K``, the residual ``history`` ``(iters+1, *B)``
    (NaN once a point has converged), the ``tolerance`` ``(*B)`` and the number of line-search ``backtracks``."""

    x: Tensor
    y: Tensor
    state: Any
    K: Tensor
    history: Tensor
    tolerance: Tensor
    backtracks: int


class _Trial(NamedTuple):
    """The model at one iterate: response, residual ``r`` on the stress-controlled slots, its norm and tolerance."""

    y: Tensor
    state: Any
    K: Tensor
    r: Tensor
    rnorm: Tensor
    tol: Tensor


class StepFailure(Exception):
    """A step that did not converge or whose model failed (``diagnostics``: iteration, points, residuals ...)."""

    def __init__(self, message: str, **diagnostics: Any) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


def implicit_correction(
    evaluate: Evaluator,
    x: Tensor,
    state: Any,
    target: Tensor,
    control: Control,
    dt: float,
    temperature: Tensor | None = None,
) -> tuple[Tensor, Tensor, Any]:
    r"""One graph-carrying Newton correction from the converged (graph-free) point ``x``: returns ``(x, y,
    new_state)`` whose derivatives are the implicit-function derivatives (module docstring); ``temperature``:
    ``T_{n+1}`` of the step (``None``: none).

    ``state`` is the start-of-step state with its graph. The stress-controlled block of the tangent is detached:
    at convergence the residual vanishes, so the tangent's own derivative contributes nothing.
    """
    s_idx, e_idx = control
    # Out of place throughout (x is saved by the first evaluation's graph). The strain-controlled components are
    # the targets themselves, with their graph (if any).
    x = x.index_copy(-1, e_idx, target[..., e_idx])
    try:
        if s_idx.numel():
            y, _, K = evaluate(x, state, dt, temperature)
            K_ss = _block(K.detach(), s_idx, s_idx)
            dx_s = -torch.linalg.solve(K_ss, (y - target).index_select(-1, s_idx))
            x = x + torch.zeros_like(x).index_copy(-1, s_idx, dx_s)
        y, new_state, _ = evaluate(x, state, dt, temperature)
    except (ConvergenceError, ValueError, RuntimeError) as err:
        raise StepFailure(f"the model failed in the differentiable Newton correction: {err}") from err
    return x, y, new_state


#: An index set of components: a slice when the indices are consecutive (a view, no copy), else an index tensor.
Index = slice | Tensor


def _indexer(idx: Tensor) -> Index:
    """``idx`` as a slice when its entries are consecutive (e.g. the five lateral stresses of uniaxial stress)."""
    values = idx.tolist()
    if values and values == list(range(values[0], values[0] + len(values))):
        return slice(values[0], values[0] + len(values))
    return idx


def _take(v: Tensor, ix: Index) -> Tensor:
    """The components ``ix`` of vectors ``(..., n)`` (index_select/slices: far cheaper than advanced indexing on
    large batches)."""
    return v[..., ix] if isinstance(ix, slice) else v.index_select(-1, ix)


def _block(K: Tensor, rows: Index, cols: Index) -> Tensor:
    """The ``(rows, cols)`` block of a batch of matrices ``(..., n, n)``."""
    K = K[..., rows, :] if isinstance(rows, slice) else K.index_select(-2, rows)
    return K[..., cols] if isinstance(cols, slice) else K.index_select(-1, cols)


def _put(x: Tensor, ix: Index, values: Tensor) -> Tensor:
    """A copy of ``x`` with the components ``ix`` replaced by ``values``."""
    if isinstance(ix, slice):
        out = x.clone()
        out[..., ix] = values
        return out
    return x.index_copy(-1, ix, values)


def _first_iterate(start: StepStart, target: Tensor, control: Control, predictor: bool) -> Tensor:
    """The strain targets in place; on mixed steps with ``predictor``, the stress-controlled slots extrapolated with
    the previous tangent: ``K_ss dx_s + K_se dx_e = (target - y_prev)_s``."""
    s_idx, e_idx = control
    mixed = s_idx.numel() > 0
    s_ix, e_ix = _indexer(s_idx), _indexer(e_idx)
    x = _put(start.x, e_ix, _take(target, e_ix))
    K_prev = start.K
    if mixed and predictor and K_prev is not None:
        dx_e = _take(x - start.x, e_ix)
        rhs = _take(target - start.y, s_ix) - (_block(K_prev, s_ix, e_ix) @ dx_e[..., None])[..., 0]
        try:
            dx_s = torch.linalg.solve(_block(K_prev, s_ix, s_ix), rhs)
        except RuntimeError:  # singular previous tangent (e.g. perfect plasticity): start without a predictor
            dx_s = torch.zeros_like(rhs)
        if bool(torch.isfinite(dx_s).all()):
            x = _put(x, s_ix, _take(start.x, s_ix) + dx_s)
    return x


class _Step:
    """The residual of one step at any iterate (``assess``), with what it needs held once."""

    def __init__(
        self,
        evaluate: Evaluator,
        start: StepStart,
        target: Tensor,
        control: Control,
        dt: float,
        x0: Tensor,
        settings: NewtonSettings,
        temperature: Tensor | None = None,
    ) -> None:
        self.evaluate, self.state, self.target, self.dt, self.settings = evaluate, start.state, target, dt, settings
        self.temperature = temperature
        self.s_idx, self.e_idx = _indexer(control.s_idx), _indexer(control.e_idx)
        self.history: list[Tensor] = []
        self.strain_scale = torch.maximum(
            torch.linalg.vector_norm(start.x - x0, dim=-1),
            torch.linalg.vector_norm(_take(target - x0, self.e_idx), dim=-1),
        )

    def assess(self, x: Tensor, it: int) -> _Trial:
        try:
            y, new_state, K = self.evaluate(x, self.state, self.dt, self.temperature)
        except (ConvergenceError, ValueError, RuntimeError) as err:
            failure = StepFailure(
                f"the model failed at Newton iteration {it}: {err}",
                iteration=it,
                residuals=torch.stack(self.history) if self.history else None,
                model_diagnostics=getattr(err, "diagnostics", None),
            )
            raise failure from err
        s_idx = self.s_idx
        r = _take(y - self.target, s_idx)
        rnorm = torch.linalg.vector_norm(r, dim=-1)
        # One synchronisation for the residual and the finiteness of the whole response (the driver's conversions
        # do not check their inputs inside the iterations): a sum is NaN or infinite iff an entry is (or the sum
        # overflows, at entries near 1e308: no stress or tangent).
        if not bool(torch.isfinite(rnorm.sum() + y.sum() + K.sum())):
            if not bool(torch.isfinite(rnorm).all()):
                raise StepFailure(f"non-finite stress residual at Newton iteration {it}", iteration=it)
            raise StepFailure(
                f"the model returned a non-finite stress or tangent at Newton iteration {it}", iteration=it
            )
        # Stress scale from quantities a diverging iterate cannot inflate: the stress itself, the stress targets,
        # and the tangent times the strain at the start of the step and the strain targets.
        scale = torch.maximum(
            torch.linalg.vector_norm(y, dim=-1), torch.linalg.vector_norm(_take(self.target, s_idx), dim=-1)
        )
        scale = torch.maximum(scale, torch.linalg.matrix_norm(K) * self.strain_scale)
        return _Trial(y, new_state, K, r, rnorm, self.settings.rtol * scale + self.settings.atol)

    def correction(self, trial: _Trial, converged: Tensor, it: int) -> Tensor:
        """The Newton correction of the stress-controlled slots (zero where a point has converged)."""
        s_idx = self.s_idx
        K_ss = _block(trial.K, s_idx, s_idx)
        try:
            dx = torch.linalg.solve(K_ss, -trial.r)
        except RuntimeError as err:
            raise StepFailure(
                f"singular stress-controlled tangent block at Newton iteration {it}",
                iteration=it,
                residuals=torch.stack(self.history),
            ) from err
        return torch.where(converged[..., None], torch.zeros_like(dx), dx)

    def line_search(
        self, x: Tensor, dx: Tensor, trial: _Trial, converged: Tensor, it: int
    ) -> tuple[Tensor, _Trial, int]:
        """Backtracking on the residual norm: full steps near the solution (quadratic convergence untouched), halved
        steps where a full step does not reduce the residual (e.g. cycling across an elastic/plastic switch, where
        the response is only piecewise smooth). Returns the new iterate, its trial and the number of halvings."""
        s_idx, rnorm, halvings = self.s_idx, trial.rnorm, 0
        lam = torch.ones_like(rnorm)
        for ls in range(self.settings.line_search + 1):
            x_t = _put(x, s_idx, _take(x, s_idx) + lam[..., None] * dx)
            new = self.assess(x_t, it + 1)
            ok = converged | (new.rnorm <= (1.0 - 1e-4 * lam) * rnorm) | (new.rnorm <= new.tol)
            if ls == self.settings.line_search or bool(ok.all()):
                break
            lam = torch.where(ok, lam, 0.5 * lam)
            halvings += 1
        return x_t, new, halvings

    def not_converged(self, converged: Tensor, tol: Tensor) -> StepFailure:
        bad = torch.nonzero(~converged)
        hist = torch.stack(self.history)
        return StepFailure(
            f"Newton did not converge in {self.settings.max_iter} iterations at {bad.shape[0]} point(s) "
            f"(first: {tuple(int(i) for i in bad[0]) if bad.numel() else ()}); residual history of the worst point: "
            + ", ".join(f"{float(v):.3e}" for v in hist.reshape(hist.shape[0], -1).nan_to_num(0.0).amax(dim=1))
            + f"; tolerance {float(tol.max()):.3e}",
            points=bad,
            residuals=hist,
            tolerance=tol,
        )


def newton_step(
    evaluate: Evaluator,
    start: StepStart,
    target: Tensor,
    control: Control,
    dt: float,
    x0: Tensor,
    settings: NewtonSettings,
    temperature: Tensor | None = None,
) -> StepResult:
    """One load step from ``start`` to ``target`` (``(*B, n)``, strain-controlled slots: strains, the others:
    stresses) over ``dt``, to the temperature ``temperature`` (``T_{n+1}``, ``(*B)``; ``None``: none or held, the
    state carries ``T_n``); ``x0`` is the reference vector (0 or I). Raises :class:`StepFailure`."""
    step = _Step(evaluate, start, target, control, dt, x0, settings, temperature)
    x = _first_iterate(start, target, control, settings.predictor)
    mixed = control.s_idx.numel() > 0
    converged = torch.zeros(x.shape[:-1], dtype=torch.bool, device=x.device)
    backtracks = 0
    trial = step.assess(x, 0)
    for it in range(settings.max_iter + 1):
        step.history.append(torch.where(converged, torch.full_like(trial.rnorm, float("nan")), trial.rnorm))
        converged = converged | (trial.rnorm <= trial.tol)
        if not mixed or bool(converged.all()):
            return StepResult(x, trial.y, trial.state, trial.K, torch.stack(step.history), trial.tol, backtracks)
        if it == settings.max_iter:
            break
        dx = step.correction(trial, converged, it)
        x, trial, halvings = step.line_search(x, dx, trial, converged, it)
        backtracks += halvings
    raise step.not_converged(converged, trial.tol)
