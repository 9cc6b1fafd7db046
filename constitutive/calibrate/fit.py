"""The fit: :func:`calibrate` (least squares with autograd Jacobians) and its error measures."""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..experiments import (
    Experiment,
    rms_error,
)
from ..experiments.experiment import as_numpy
from ..models.base import ConvergenceError, Material
from ..tensor import Tensor
from .parameters import _factory, _ParameterSpace
from .result import CalibrationResult

ERROR_MEASURES = ("absolute", "relative", "normalised")


# --------------------------------------------------------------------------------------------------------------
# The fit
# --------------------------------------------------------------------------------------------------------------


def _residual_scales(experiments: Sequence[Experiment], error: str, relative_floor: float) -> list[Tensor]:
    scales = []
    for e in experiments:
        w = math.sqrt(e.weight)
        y = e.y
        if error == "absolute":
            s = torch.full_like(y, w)
        elif error == "relative":
            floor = relative_floor * float(y.abs().max())
            if floor <= 0:
                raise ValueError(f"experiment {e.name!r}: relative error needs a non-zero response somewhere")
            s = w / torch.clamp(y.abs(), min=floor)
        elif error == "normalised":
            rms = float(torch.sqrt(torch.mean(y**2)))
            if rms <= 0:
                raise ValueError(f"experiment {e.name!r}: normalised error needs a non-zero response somewhere")
            s = torch.full_like(y, w / (rms * math.sqrt(len(e))))
        else:
            raise ValueError(f"unknown error measure {error!r}; choose one of {ERROR_MEASURES}")
        scales.append(s)
    return scales


def calibrate(
    model: type[Material] | str | Callable[..., Material],
    experiments: Experiment | Sequence[Experiment],
    initial: Mapping[str, Any],
    *,
    bounds: Mapping[str, Sequence[float]] | None = None,
    fixed: Mapping[str, Any] | Iterable[str] | None = None,
    options: Mapping[str, Any] | None = None,
    error: str = "absolute",
    relative_floor: float = 0.01,
    jacobian: str = "reverse",
    max_nfev: int | None = None,
    ftol: float = 1e-12,
    xtol: float = 1e-12,
    gtol: float = 1e-12,
    x_scale: str | Sequence[float] = "jac",
    loss: str = "linear",
    verbose: int | bool = 0,
    callback: Callable[[dict[str, Any]], None] | None = None,
    dtype: torch.dtype = torch.float64,
    stable_range: Sequence[float] | None = None,
) -> CalibrationResult:
    r"""Fit ``model``'s parameters to ``experiments`` by nonlinear least squares with an AD Jacobian.

    Parameters
    ----------
    model:
        A :class:`Material` subclass (called as ``cls(**params, **options, dtype=dtype)``), its registered name, or
        a factory ``make(**params) -> Material``.
    experiments:
        One :class:`Experiment` or a sequence of them (unique names).
    initial:
        Starting value of every parameter to vary or hold (a number, or a list for series parameters such as
        Ogden's ``mu``/``alpha``; elements are addressed as ``"mu[1]"``).
    bounds:
        ``{name or "name[i]": (lower, upper)}``, ``None`` for an open side; a bound on a series name applies to
        each element. A free parameter without bounds gets the admissible range its model declares
        (``model.parameter_declarations()``, open ends nudged inside).
    fixed:
        Names (or element labels) in ``initial`` held at their initial value, or a mapping of extra parameters
        held at the given values.
    options:
        Non-fitted keywords for the constructor (e.g. ``{"K": 2000.0}``).
    error:
        ``"absolute"`` (default), ``"relative"`` or ``"normalised"`` (module docstring).
    relative_floor:
        For ``error="relative"``: the residual of a point is divided by ``max(|y|, relative_floor * max|y|)``
        (positive, finite; default 0.01).
    jacobian:
        ``"reverse"`` (default) or ``"forward"`` automatic differentiation.
    max_nfev, ftol, xtol, gtol, x_scale, loss:
        Passed to :func:`scipy.optimize.least_squares` (method ``"trf"``); defaults: no evaluation limit beyond
        scipy's, tolerances 1e-12, ``x_scale="jac"``, ``loss="linear"``.
    verbose:
        Print one progress line per iteration.
    callback:
        ``callback(info)`` receives ``{"iteration", "nfev", "cost", "parameters"}`` each iteration.
    dtype:
        Floating-point dtype of the model and the residuals (default float64).
    stable_range:
        ``(lambda_min, lambda_max)``: make a hyperelastic fit Drucker stable over these stretches in every test
        mode by a penalty (extra residuals after the data rows, zero where stable; not a hard constraint;
        :class:`~constitutive.calibrate.drucker.StabilityPenalty`). The statistics use the data rows only; the
        report gives the stability limits of every hyperelastic fit, on this range (default (0.1, 10)).

    Raises ``ValueError`` for an initial value outside its bounds, unknown names in ``fixed``/``bounds``, bad
    experiments, or a model that rejects the initial parameters.
    """
    from scipy.optimize import least_squares

    experiments = _check_inputs(experiments, error, jacobian)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating-point torch dtype (float64 default), got {dtype!r}")
    if not isinstance(initial, Mapping) or not initial:
        raise ValueError(f"initial must be a non-empty mapping of parameter names to starting values, got {initial!r}")
    if bounds is not None and not isinstance(bounds, Mapping):
        raise ValueError(f"bounds must be a mapping {{name: (lower, upper)}}, got {bounds!r}")
    if fixed is not None and (isinstance(fixed, (str, bytes)) or not isinstance(fixed, (Mapping, Iterable))):
        raise ValueError(f"fixed must be a list of parameter names or a mapping of held values, got {fixed!r}")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be a callable callback(info) or None, got {callback!r}")
    if options is not None and not isinstance(options, Mapping):
        raise ValueError(f"options must be a mapping of constructor keywords, got {options!r}")
    if not (isinstance(relative_floor, (int, float)) and math.isfinite(relative_floor) and relative_floor > 0):
        raise ValueError(f"relative_floor must be a positive finite number, got {relative_floor!r}")
    if max_nfev is not None and (isinstance(max_nfev, bool) or int(max_nfev) != max_nfev or max_nfev < 1):
        raise ValueError(f"max_nfev must be a positive integer (or None), got {max_nfev!r}")
    for tol_name, tol in (("ftol", ftol), ("xtol", xtol), ("gtol", gtol)):
        if tol is not None and not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol >= 0):
            raise ValueError(f"{tol_name} must be a non-negative finite number, got {tol!r}")
    # Data implausible for their stated units (kPa labelled MPa, strain in percent): warn, and say so in the report.
    notes = [msg for e in experiments for msg in e.plausibility()]
    for msg in notes:
        warnings.warn(msg, UserWarning, stacklevel=2)
    space = _ParameterSpace(initial, fixed, bounds)
    make, model_name = _factory(model, dict(options or {}), dtype)
    problem = _Problem(experiments, space, make, model_name, error, relative_floor, jacobian, dtype)
    problem.verbose, problem.callback = verbose, callback
    x0 = space.x0()
    if stable_range is not None:  # Drucker-stability penalty rows after the data rows (calibrate.drucker)
        from .drucker import attach_stability_penalty

        attach_stability_penalty(problem, stable_range, x0)
    problem.admit(x0)
    space.apply_declared_bounds(make(**space.values(torch.tensor(x0, dtype=dtype))))
    lower, upper = space.bounds()
    start = time.perf_counter()
    sol = least_squares(
        problem.fun,
        x0,
        jac=problem.jac,
        bounds=(lower, upper),
        method="trf",
        ftol=ftol,
        xtol=xtol,
        gtol=gtol,
        x_scale=x_scale,
        loss=loss,
        max_nfev=max_nfev,
    )
    result = _result(problem, sol, time.perf_counter() - start, lower, upper)
    result.warnings = notes
    # Parameters the data do not determine (a bound, a large std. error, a strong correlation): say so.
    ident = result.identifiability
    if not ident.ok:
        warnings.warn(ident.message(result.model_name), UserWarning, stacklevel=2)
    problem.cache.clear()  # drop the last autograd graph; the problem stays for sample_posterior
    result.problem = problem
    result.stable_range = None if stable_range is None else problem.stability.stable_range
    if result.stable_range is not None and not result.stability.stable:  # a penalty guarantees nothing: say so
        msg = f"the stability penalty did not make the fit Drucker stable: {result.stability.summary()}"
        warnings.warn(msg, UserWarning, stacklevel=2)
        result.warnings.append(msg)
    return result


def _check_inputs(experiments: Experiment | Sequence[Experiment], error: str, jacobian: str) -> list[Experiment]:
    """The experiments as a non-empty list with unique names; ``ValueError`` for a bad error measure or route."""
    if isinstance(experiments, Experiment):
        experiments = [experiments]
    if isinstance(experiments, (str, bytes)) or not isinstance(experiments, Iterable):
        raise ValueError(f"experiments must be an Experiment or a list of them, got {type(experiments).__name__}")
    experiments = list(experiments)
    if not experiments:
        raise ValueError("no experiments to calibrate against")
    bad = [type(e).__name__ for e in experiments if not isinstance(e, Experiment)]
    if bad:
        raise ValueError(f"experiments must be constitutive.experiments.Experiment objects, got {', '.join(bad)}")
    names = [e.name for e in experiments]
    if len(set(names)) != len(names):
        raise ValueError(f"experiment names must be unique, got {names}")
    if error not in ERROR_MEASURES:
        raise ValueError(f"unknown error measure {error!r}; choose one of {ERROR_MEASURES}")
    if jacobian not in ("reverse", "forward"):
        raise ValueError(f"jacobian must be 'reverse' or 'forward', got {jacobian!r}")
    return experiments


class _Problem:
    """The least-squares problem handed to scipy: residuals ``fun(x)`` and Jacobian ``jac(x)`` of the parameter
    vector, with the counters, the per-iteration history and the cache that lets ``jac`` reuse ``fun``'s graph."""

    verbose: int | bool = 0
    callback: Callable[[dict[str, Any]], None] | None = None
    stability: Any = None  # a StabilityPenalty (calibrate(..., stable_range=...)) or None

    def __init__(
        self,
        experiments: list[Experiment],
        space: _ParameterSpace,
        make: Callable[..., Material],
        model_name: str,
        error: str,
        relative_floor: float,
        jacobian: str,
        dtype: torch.dtype,
    ) -> None:
        self.experiments, self.space, self.make, self.model_name = experiments, space, make, model_name
        self.error, self.jacobian, self.dtype = error, jacobian, dtype
        self.scales = [s.to(dtype) for s in _residual_scales(experiments, error, relative_floor)]
        self.targets = [e.y.to(dtype) for e in experiments]
        self.m = sum(len(e) for e in experiments)
        self.m_data = self.m  # the data rows; m also counts penalty rows
        self.penalty = math.inf
        self.cache: dict[str, Any] = {}
        self.counters = {"nfev": 0, "njev": 0, "rejected": 0}
        self.history: list[dict[str, Any]] = []
        self.jac_route = {"method": jacobian}

    def __getstate__(self) -> dict[str, Any]:
        # pickled with its result (worker processes): without the autograd cache and the caller's callback
        state = dict(self.__dict__)
        state["cache"] = {}
        state.pop("callback", None)
        return state

    def build(self, theta: Tensor) -> Material:
        return self.make(**self.space.values(theta))

    def residuals(self, theta: Tensor) -> Tensor:
        model_ = self.build(theta)
        parts = [(e.predict(model_) - y) * s for e, y, s in zip(self.experiments, self.targets, self.scales)]
        if self.stability is not None:
            parts.append(self.stability.residuals(model_))
        return torch.cat([p.reshape(-1) for p in parts])

    def admit(self, x0: np.ndarray) -> None:
        """The initial point must be admissible (else ``ValueError`` with the model's own message); sets the
        penalty residual returned at inadmissible trial points, which forces the optimizer to reject them."""
        with torch.no_grad():
            try:
                r0 = self.residuals(torch.tensor(x0, dtype=self.dtype))
            except ValueError as err:
                raise ValueError(f"{self.model_name} rejects the initial parameters: {err}") from err
        if not bool(torch.isfinite(r0).all()):
            raise ValueError(
                f"{self.model_name} gives non-finite responses at the initial parameters {self.space.plain(x0)}"
            )
        self.penalty = 1e3 * (float(r0.abs().max()) + 1.0)

    def fun(self, x: np.ndarray) -> np.ndarray:
        self.counters["nfev"] += 1
        theta = torch.tensor(x, dtype=self.dtype, requires_grad=self.jacobian == "reverse")
        try:
            with torch.enable_grad():
                r = self.residuals(theta)
        except (ValueError, ConvergenceError, torch.linalg.LinAlgError):
            r = None
        # non-finite or absurdly large responses (e.g. an Ogden exponent run away) are treated as inadmissible
        if r is None or not bool(torch.isfinite(r).all()) or float(r.detach().abs().max()) > self.penalty:
            self.counters["rejected"] += 1
            self.cache.clear()
            return np.full(self.m, self.penalty)
        self.cache.update(key=x.tobytes(), theta=theta, r=r)
        return r.detach().cpu().numpy()

    def jac(self, x: np.ndarray) -> np.ndarray:
        self.counters["njev"] += 1
        if self.jacobian == "forward":
            J = torch.func.jacfwd(self.residuals)(torch.tensor(x, dtype=self.dtype))
        else:
            if self.cache.get("key") != x.tobytes():
                self.fun(x)
            theta, r = self.cache["theta"], self.cache["r"]
            J = _reverse_jacobian(r, theta, self.jac_route)
        J_np = J.detach().cpu().numpy()
        self.iteration(x)
        return J_np

    def iteration(self, x: np.ndarray) -> None:
        """Record one iteration; print it (``verbose``) and pass it to ``callback``."""
        cache = self.cache
        info: dict[str, Any] = {
            "iteration": self.counters["njev"],
            "nfev": self.counters["nfev"],
            "cost": 0.5 * float(np.sum(cache["r"].detach().cpu().numpy() ** 2)) if "r" in cache else math.nan,
            "parameters": dict(zip(self.space.labels, (float(v) for v in x))),
        }
        self.history.append(info)
        if self.verbose:
            values = ", ".join(f"{k}={v:.5g}" for k, v in info["parameters"].items())
            print(
                f"[calibrate {self.model_name}] iter {info['iteration']:3d}  nfev {info['nfev']:4d}  "
                f"cost {info['cost']:.6e}  {values}",
                file=sys.stderr,
                flush=True,
            )
        if self.callback is not None:
            self.callback(info)


def _result(problem: _Problem, sol: Any, elapsed: float, lower: np.ndarray, upper: np.ndarray) -> CalibrationResult:
    """The :class:`CalibrationResult` of scipy's solution: fitted model, statistics, errors per experiment."""
    experiments, space = problem.experiments, problem.space
    x = sol.x
    with torch.no_grad():
        fitted = problem.build(torch.tensor(x, dtype=problem.dtype))
        predictions = [as_numpy(e.predict(fitted)) for e in experiments]
    r = np.asarray(sol.fun)[: problem.m_data]  # statistics of the data rows (not the stability penalty's)
    J = np.asarray(sol.jac)[: problem.m_data]
    n = x.size
    cov = _covariance(J, r, n)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))  # NaN (undetermined) entries stay NaN
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(se, se)
    rms = {e.name: rms_error(p, e.y) for e, p in zip(experiments, predictions)}
    rel = {e.name: rms[e.name] / float(torch.sqrt(torch.mean(e.y**2))) for e in experiments}
    at_bounds = [
        lab for lab, v, lo, hi in zip(space.labels, x, lower, upper) if min(v - lo, hi - v) <= 1e-8 * max(1.0, abs(v))
    ]
    return CalibrationResult(
        model=fitted,
        model_name=problem.model_name,
        parameters=space.plain(x),
        free=space.labels,
        x=x,
        standard_errors=dict(zip(space.labels, (float(v) for v in se))),
        covariance=cov,
        correlation=corr,
        experiments=experiments,
        predictions=predictions,
        rms=rms,
        relative_rms=rel,
        cost=float(sol.cost),
        error=problem.error,
        success=bool(sol.success),
        status=int(sol.status),
        message=str(sol.message),
        nfev=problem.counters["nfev"],
        njev=problem.counters["njev"],
        jacobian=J,
        jacobian_method=problem.jac_route["method"],
        elapsed_s=elapsed,
        at_bounds=at_bounds,
        history=problem.history,
        rejected=problem.counters["rejected"],
    )


def _reverse_jacobian(r: Tensor, theta: Tensor, route: dict[str, str]) -> Tensor:
    """``dr/dθ`` ``(m, n)`` by reverse mode: one batched backward pass, else one backward pass per residual."""
    m = r.shape[0]
    if not r.requires_grad:  # the residuals do not depend on the free parameters at all
        return torch.zeros(m, theta.shape[0], dtype=r.dtype)
    eye = torch.eye(m, dtype=r.dtype, device=r.device)
    if route.get("method") != "reverse (row loop)":
        try:
            (J,) = torch.autograd.grad(r, theta, eye, retain_graph=True, is_grads_batched=True, allow_unused=True)
            if J is None:
                return torch.zeros(m, theta.shape[0], dtype=r.dtype)
            route["method"] = "reverse"
            return J
        except (RuntimeError, NotImplementedError):
            route["method"] = "reverse (row loop)"
    rows = []
    for i in range(m):
        (g,) = torch.autograd.grad(r[i], theta, retain_graph=True, allow_unused=True)
        rows.append(torch.zeros_like(theta) if g is None else g)
    return torch.stack(rows)


def _covariance(J: np.ndarray, r: np.ndarray, n: int) -> np.ndarray:
    r"""Linearised covariance :math:`s^2 (J^TJ)^{-1}`, :math:`s^2 = r\cdot r/(m-n)`; NaN where undetermined."""
    m = r.size
    if m <= n:
        return np.full((n, n), np.nan)
    s2 = float(r @ r) / (m - n)
    JtJ = J.T @ J
    # scale to unit diagonal before inverting: parameters of very different magnitude (Ogden mu ~ 1e-3..1)
    d = np.sqrt(np.diag(JtJ))
    if np.any(d == 0):
        cov = np.full((n, n), np.nan)
        ok = d > 0
        sub = _covariance(J[:, ok], r, int(ok.sum())) if ok.any() else None
        if sub is not None:
            cov[np.ix_(ok, ok)] = sub * (m - int(ok.sum())) / (m - n)
        return cov
    A = JtJ / np.outer(d, d)
    w, V = np.linalg.eigh(A)
    if w.min() <= w.max() * 1e-14:
        inv = np.full((n, n), np.nan)
    else:
        inv = (V / w) @ V.T
    return s2 * inv / np.outer(d, d)
