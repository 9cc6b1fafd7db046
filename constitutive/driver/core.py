"""The driver loop: :func:`drive` walks the segments of a load path, step by step, with cutbacks, and records
every converged step (the Newton iterations of a step are in :mod:`.newton`)."""

from __future__ import annotations

import contextlib
import math
import numbers
import time as _time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import torch

from ..check.tolerances import check_positive, default_rtol
from ..contracts import is_path_dependent
from ..paths import LoadPath, labels_for
from ..tensor import Tensor
from .kinematics import (
    FiniteStrain,
    SmallStrain,
    StateMap,
    TangentFn,
    finite_history,
    mandel_route,
    model_evaluator,
)
from .newton import Control, NewtonSettings, StepFailure, StepResult, StepStart, implicit_correction, newton_step
from .result import DriverError, DriveResult, Recorder
from .tangent_errors import newton_tangent_errors, thermal_tangent_errors

#: Bounds of a step ratio suggested by a failing model (``suggested_step_ratio``): never below 0.1 (at most ten
#: sub-steps per cut), never above 0.5 (a cut at least halves the step).
MIN_STEP_RATIO, MAX_STEP_RATIO = 0.1, 0.5


def substeps(failure: BaseException) -> int:
    """Equal sub-steps replacing a failed step: 2 (halving), or ``ceil(1/r)`` for the ratio ``r`` that the model's
    error suggests through a ``suggested_step_ratio`` attribute (e.g. a UMAT's PNEWDT < 1), ``r`` clamped to
    [:data:`MIN_STEP_RATIO`, :data:`MAX_STEP_RATIO`]; so every sub-step is at most ``r`` times the failed one. The
    driver reads the attribute on the failure's cause (any model error), without knowing the error class."""
    ratio = getattr(failure.__cause__, "suggested_step_ratio", None)
    try:
        r = float(ratio) if ratio is not None else MAX_STEP_RATIO
    except (TypeError, ValueError):
        r = MAX_STEP_RATIO
    if not math.isfinite(r):
        r = MAX_STEP_RATIO
    r = min(max(r, MIN_STEP_RATIO), MAX_STEP_RATIO)
    return math.ceil(1.0 / r - 1e-9)


#: Callback ``progress(step, n_steps)`` called after every converged step.
Progress = Callable[[int, int], None]


def drive(
    model: Any,
    path: LoadPath,
    *,
    batch_shape: tuple[int, ...] | torch.Size = (),
    max_iter: int = 25,
    rtol: float = 1e-12,
    atol: float = 0.0,
    predictor: bool = True,
    line_search: int = 8,
    cutbacks: int = 0,
    tangent: TangentFn | str | None = None,
    check_tangent: bool = False,
    tangent_tolerance: float | None = None,
    progress: Progress | None = None,
    on_failure: str = "raise",
    differentiable: bool = False,
) -> DriveResult:
    r"""Drive ``model`` along ``path`` and return the per-step :class:`DriveResult`.

    Parameters
    ----------
    model:
        a :class:`~constitutive.models.base.PathDependentMaterial` (advanced by ``update``), any small-strain
        :class:`~constitutive.models.base.Material` (``stress_and_tangent``), or, on a finite path, a model with
        ``first_piola(F)`` and ``first_elasticity(F)``.
    path:
        a :class:`~constitutive.paths.LoadPath` (see :mod:`constitutive.paths` for the standard modes). A path with
        a temperature (segment targets, ``initial_temperature``) needs a temperature-dependent model
        (``model.temperature_dependent``, e.g. ``ThermoMechanical``): every model call of a step gets
        ``update(strain, state_n, dt, temperature=T_{n+1})``, ``T`` linear over a segment like every target
        (cutback sub-steps included); ``ValueError`` for a model that does not take a temperature. The result
        records the temperature (``result.temperature``, the ``T`` column).
    batch_shape:
        drive a batch of points (the batch shape is broadcast with the path's own target shape).
    max_iter, rtol, atol:
        Newton limits per step; ``rtol`` is raised to ``100 eps`` of the model's dtype (see the module docstring).
    predictor:
        start each step but the first of a segment from the previous step's tangent, extrapolated, instead of the
        previous converged state (a step that fails from the predictor is retried without it).
    line_search:
        at most this many halvings of a Newton step that does not reduce the residual norm (0: plain Newton).
    cutbacks:
        a step that fails is split into equal sub-steps, recursively: two halves, or, when the model's error
        suggests a step ratio r (a ``suggested_step_ratio`` attribute, e.g. a UMAT's PNEWDT), ``ceil(1/r)``
        sub-steps with r clamped to [0.1, 0.5] (:func:`substeps`). ``cutbacks`` bounds the reduction in halvings:
        a step may shrink to 2**-cutbacks of the path's step; a cut into n sub-steps costs log2(n) of it (0: fail at
        once). The result then has more steps than the path; ``result.extra["cutbacks"]`` counts the halvings
        spent (a cut into four counts 2).
    tangent:
        ``None``/'consistent': the model's (consistent) tangent. 'continuum': ``model.continuum_tangent``. A
        callable ``tangent(strain, state_n, dt)`` (small strain) replaces the Newton matrix, to study convergence;
        the stress is still the model's.
    check_tangent:
        verify the Newton tangent of every converged step against central finite differences of that step's
        stress map (the engine of :mod:`constitutive.check`; all steps in one batched pass after the run, so the
        cost is that of about a dozen model calls); errors land in ``result.tangent_error`` and the summary line.
        A temperature-dependent model with ``update_thermal`` also gets its dσ/dT checked by central differences
        in the temperature (``result.thermal_tangent_error``, a second summary line).
    tangent_tolerance:
        the pass threshold of that summary line (positive; default from the model's dtype,
        :func:`constitutive.check.default_rtol`: 1e-6 in float64, 1e-3 in float32).
    progress:
        ``progress(step, n_steps)`` after every step (the CLI prints from it).
    on_failure:
        'raise' (default): :class:`DriverError` carrying the partial result; 'return': return the partial result
        with ``completed=False`` and ``error`` set.
    differentiable:
        keep the result differentiable with respect to the model's parameters (and tensor targets of segments):
        Newton runs under :func:`torch.no_grad`, then one graph-carrying Newton correction from each converged
        point gives the implicit-function derivative, exact at convergence (module docstring); ``strain``,
        ``stress`` and ``state`` of the result stay attached to the graph on the model's device. Reverse-mode
        autograd (``torch.autograd.grad``, ``backward``); not ``torch.func`` transforms (the iteration branches on
        values). Default ``False``: detached CPU results, as always.
    """
    _check_options(path, on_failure, max_iter, cutbacks, line_search)
    for name, value in (("rtol", rtol), ("atol", atol)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
    for name, flag in (("predictor", predictor), ("check_tangent", check_tangent), ("differentiable", differentiable)):
        if not isinstance(flag, bool):
            raise ValueError(f"{name} must be True or False, got {flag!r}")
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be a callable progress(step, n_steps) or None, got {progress!r}")
    try:
        batch_shape = torch.Size(batch_shape)
    except (TypeError, ValueError):
        raise ValueError(f"batch_shape must be a tuple of non-negative integers, got {batch_shape!r}") from None
    if any(n < 0 for n in batch_shape):
        raise ValueError(f"batch_shape must be a tuple of non-negative integers, got {tuple(batch_shape)}")
    try:
        torch.broadcast_shapes(batch_shape, path.batch_shape())
    except RuntimeError:
        raise ValueError(
            f"batch_shape {tuple(batch_shape)} does not broadcast with the path's target batch "
            f"{tuple(path.batch_shape())}"
        ) from None
    dtype = getattr(model, "dtype", torch.float64)
    settings = NewtonSettings(
        max_iter=max_iter,
        rtol=max(float(rtol), 100.0 * float(torch.finfo(dtype).eps)),
        atol=atol,
        predictor=predictor,
        line_search=line_search,
    )
    run = _Drive(model, path, batch_shape, tangent, settings, differentiable)
    tolerance = (
        default_rtol(dtype) if tangent_tolerance is None else check_positive(tangent_tolerance, "tangent_tolerance")
    )
    run.cutbacks, run.check_tangent, run.tangent_tolerance = cutbacks, check_tangent, tolerance
    run.progress, run.on_failure = progress, on_failure
    for seg_index in range(len(path.segments)):
        failed = run.segment(seg_index)
        if failed is not None:
            return failed
    return run.finish()


def _check_options(path: LoadPath, on_failure: str, max_iter: int, cutbacks: int, line_search: int) -> None:
    if on_failure not in ("raise", "return"):
        raise ValueError(f"on_failure must be 'raise' or 'return', got {on_failure!r}")
    if not isinstance(path, LoadPath):
        raise ValueError(f"path must be a constitutive.paths.LoadPath, got {type(path).__name__}")
    for name, value, least in (("max_iter", max_iter, 1), ("cutbacks", cutbacks, 0), ("line_search", line_search, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            kind = "a positive integer" if least else "a non-negative integer"
            raise ValueError(f"{name} must be {kind}, got {value!r}")


class _Drive:
    """The state of one :func:`drive` run: the converged point, the time, the recorder, the step counters."""

    cutbacks: int = 0
    check_tangent: bool = False
    tangent_tolerance: float = 1e-6
    progress: Progress | None = None
    on_failure: str = "raise"

    def __init__(
        self,
        model: Any,
        path: LoadPath,
        batch_shape: tuple[int, ...] | torch.Size,
        tangent: TangentFn | str | None,
        settings: NewtonSettings,
        differentiable: bool,
    ) -> None:
        dtype = getattr(model, "dtype", torch.float64)
        device = getattr(model, "device", torch.device("cpu"))
        self.model, self.path, self.settings, self.differentiable = model, path, settings, differentiable
        self.dtype, self.device = dtype, device
        kin: SmallStrain | FiniteStrain = (
            SmallStrain(dtype, device) if path.kinematics == "small" else FiniteStrain(dtype, device)
        )
        self.kin = kin
        self.evaluate = model_evaluator(model, kin, tangent)
        # A model's Mandel-native route (J2's kernel), when it has one: no conversions inside Newton; the state is
        # held in the model's Mandel form and recorded in the tensor form.
        self.state_in: StateMap = _same
        self.state_out: StateMap = _same
        route = None if differentiable else mandel_route(model, kin, tangent)
        if route is not None:
            self.evaluate, self.state_in, self.state_out = route
        # The differentiable correction always uses the model's own tangent: only then is it the exact derivative.
        self.exact = model_evaluator(model, kin, None) if differentiable else self.evaluate
        self.newton_mode = torch.no_grad if differentiable else contextlib.nullcontext
        batch = torch.broadcast_shapes(torch.Size(batch_shape), path.batch_shape())
        self.batch = batch
        self.labels = labels_for(path.kinematics)
        self.x0 = kin.reference(batch)
        self.x, self.y = self.x0.clone(), torch.zeros_like(self.x0)
        # Small strain: every path-dependent model; finite strain: those with first_piola_update (a stateful F map).
        is_history = is_path_dependent(model) and (kin.kind == "small" or finite_history(model))
        self.state = model.initial_state(batch) if is_history else None
        self.thermal_path = path.thermal
        self.T = self._initial_temperature()
        if self.state is not None:
            self.state = self.state_in(self.state)
        self.K_prev: Tensor | None = None
        self.t = 0.0
        self.rec = Recorder(kin, batch, dtype, device, differentiable, None if route is None else self.state_out)
        no_history = torch.zeros(0, *batch, dtype=dtype, device=device)
        zero = torch.zeros(batch, dtype=dtype, device=device)
        self.rec.add(self.t, self.x, self.y, self.state, no_history, zero, None, -1, None, 0, 0.0, self.T)
        self.n_total = path.n_steps
        self.start = _time.perf_counter()
        self.step = self.n_cutbacks = 0

    def _initial_temperature(self) -> Tensor | None:
        """The temperature at time 0 ``(*B)`` for a temperature-dependent model (``None`` for other models): the
        path's ``initial_temperature``, else the model's own (``state["temperature"]`` of its initial state).
        ``ValueError`` for a path with a temperature and a model that does not take one, or a path that starts at
        another temperature than the model's stress-free initial state."""
        model, path, name = self.model, self.path, type(self.model).__name__
        thermal_model = bool(getattr(model, "temperature_dependent", False))
        if path.thermal and not thermal_model:
            raise ValueError(
                f"the path prescribes a temperature, but {name} is not temperature dependent: wrap it in "
                f"constitutive.models.thermal.ThermoMechanical({name}(...), expansion=..., parameters=...) to give "
                "it thermal expansion and temperature-dependent parameters"
            )
        if not thermal_model:
            return None
        if path.kinematics != "small" or not isinstance(self.state, Mapping):
            if not path.thermal:  # e.g. a finite-strain UMAT on an F path: driven without a temperature
                return None
            raise ValueError(
                f"{name} is temperature dependent: it is driven on small-strain paths through "
                "update(strain, state, dt, temperature=...), with the temperature in its state"
            )
        own = self.state.get("temperature")
        if own is not None:
            own = torch.as_tensor(own, dtype=self.dtype, device=self.device).expand(self.batch)
        if path.initial_temperature is None:
            if own is None:
                raise ValueError(
                    f"{name}'s initial state has no 'temperature': give the path an initial temperature "
                    "(LoadPath(..., initial_temperature=...) or [temperature] initial = ...)"
                )
            return own
        T0 = torch.as_tensor(path.initial_temperature, dtype=self.dtype, device=self.device).expand(self.batch)
        if own is not None and not bool(torch.isclose(own.detach(), T0, rtol=1e-12, atol=0.0).all()):
            raise ValueError(
                f"the path starts at the temperature {_range(T0)} but {name}'s stress-free initial state is at "
                f"{_range(own)}: make them equal (the model's initial_temperature, e.g. "
                "ThermoMechanical(..., initial_temperature=...), or the path's initial temperature)"
            )
        return T0

    def finish(self) -> DriveResult:
        result = self.rec.result(
            self.labels, self.model, self.path, _time.perf_counter() - self.start, self.tangent_tolerance
        )
        result.extra["cutbacks"] = self.n_cutbacks
        if self.check_tangent:
            with self.newton_mode():
                result.tangent_error = newton_tangent_errors(self.model, self.kin, self.rec, self.thermal_path)
                if self.T is not None and hasattr(self.model, "update_thermal"):
                    result.thermal_tangent_error = thermal_tangent_errors(self.model, self.rec)
        return result

    def fail(self, message: str, cause: BaseException | None = None, **diag: Any) -> DriveResult:
        result = self.finish()
        result.completed = False
        result.error = message
        if self.on_failure == "return":
            return result
        err = DriverError(message, result, **diag)
        if cause is not None:
            raise err from cause
        raise err

    def segment(self, seg_index: int) -> DriveResult | None:
        """Take the steps of one segment; a failure's result (``on_failure="return"``) or ``None``."""
        kin, seg, kinematics = self.kin, self.path.segments[seg_index], self.path.kinematics
        control = seg.control(kinematics)
        is_strain = torch.tensor([c == "strain" for c in control], device=self.device)
        split = Control(torch.nonzero(~is_strain).flatten(), torch.nonzero(is_strain).flatten())
        values = seg.target(kinematics, self.dtype, self.device).expand(*self.batch, kin.n)
        end = torch.where(is_strain, kin.from_components(values, "strain"), kin.from_components(values, "stress"))
        begin = torch.where(is_strain, self.x, self.y)
        kin.strict = True  # the first tangent of the segment is checked for minor symmetry (SmallStrain.matrix)
        # The temperature: linear from the value reached at the segment start to the segment's target (or held).
        T_begin = T_end = self.T
        if T_begin is not None and (T_target := seg.temperature_target(self.dtype, self.device)) is not None:
            T_end = T_target.expand(self.batch)
        # Steps to take, as fractions of the segment (a stack; a failed step is split in two when cutbacks allow).
        pending: list[tuple[float, float]] = [(k / seg.increments, 0.0) for k in range(seg.increments, 0, -1)]
        t_start, f_cur = self.t, 0.0
        while pending:
            f_new, level = pending.pop()
            dt = (f_new - f_cur) * seg.duration
            t_new = t_start + f_new * seg.duration
            target = begin + f_new * (end - begin)
            T_new = None if T_begin is None or T_end is None else T_begin + f_new * (T_end - T_begin)
            # The tangent predictor extrapolates the previous step: only inside a segment, where the loading
            # direction is unchanged (at a segment start, e.g. a load reversal, it would overshoot).
            try:
                out = self.solve(
                    target, split, dt, self.settings.predictor and f_cur > 0.0, T_new if self.thermal_path else None
                )
            except StepFailure as err:
                n_sub = substeps(err)
                cost = math.log2(n_sub)
                if level + cost <= self.cutbacks + 1e-9:
                    pending += [(f_cur + (f_new - f_cur) * k / n_sub, level + cost) for k in range(n_sub, 0, -1)]
                    self.n_cutbacks += math.ceil(cost - 1e-9)
                    continue
                return self.fail(
                    f"step {self.step + 1} (segment {seg_index + 1}, t = {t_new:.6g}"
                    + (f", after {level:.3g} cutback(s)" if level else "")
                    + f"): {err}",
                    err.__cause__,
                    step=self.step + 1,
                    time=t_new,
                    **err.diagnostics,
                )
            f_cur = f_new
            self.record(out, t_new, control, seg_index, dt, T_new)
        return None

    def solve(
        self, target: Tensor, control: Control, dt: float, use_predictor: bool, temperature: Tensor | None = None
    ) -> StepResult:
        """Newton from the converged point (retried without the predictor if that fails), then, when
        differentiable, the graph-carrying correction; ``temperature``: ``T_{n+1}`` passed to the model."""
        start = StepStart(self.x, self.y, self.state, self.K_prev)
        settings = replace(self.settings, predictor=use_predictor)
        T = temperature
        with self.newton_mode():
            try:
                out = newton_step(self.evaluate, start, target, control, dt, self.x0, settings, T)
            except StepFailure:
                if not use_predictor:
                    raise
                settings = replace(self.settings, predictor=False)
                out = newton_step(self.evaluate, start, target, control, dt, self.x0, settings, T)  # from converged
        if self.differentiable:
            x, y, state = implicit_correction(self.exact, out.x, self.state, target, control, dt, T)
            out = out._replace(x=x, y=y, state=state)
        return out

    def record(
        self,
        out: StepResult,
        t: float,
        control: tuple[str, ...],
        seg_index: int,
        dt: float,
        temperature: Tensor | None = None,
    ) -> None:
        self.x, self.y, self.state, self.K_prev = out.x, out.y, out.state, out.K
        self.t, self.T = t, temperature
        self.step += 1
        K = self.K_prev if self.check_tangent else None
        self.rec.add(
            t,
            self.x,
            self.y,
            self.state,
            out.history,
            out.tolerance,
            control,
            seg_index,
            K,
            out.backtracks,
            dt,
            temperature,
        )
        if self.progress is not None:
            self.progress(self.step, max(self.n_total, self.step))


def _range(T: Tensor) -> str:
    """A temperature field in words: one number, or its range over the batch."""
    lo, hi = float(T.detach().min()), float(T.detach().max())
    return f"{lo:.6g}" if lo == hi else f"{lo:.6g} to {hi:.6g}"


def _same(state: Any) -> Any:
    """The identity map of a state (models evaluated in their own form)."""
    return state
