r"""Fitting model parameters to measured data: :func:`calibrate`.

A calibration fits the free parameters :math:`\theta` of a model to one or several :class:`Experiment` s at once by
minimising :math:`\tfrac12 \sum_i r_i(\theta)^2` with :func:`scipy.optimize.least_squares` (trust-region
reflective, so bounds are honoured). The residual of point :math:`i` of experiment :math:`e` (``n_e`` points,
weight :math:`w_e`, measured :math:`y_i`, model :math:`\hat y_i(\theta)`) is, by ``error`` measure:

* ``"absolute"``: :math:`r_i = \sqrt{w_e}\,(\hat y_i - y_i)` (data units; long experiments weigh more);
* ``"relative"``: :math:`r_i = \sqrt{w_e}\,(\hat y_i - y_i)/\max(|y_i|, f\,\max_e|y|)` with the floor fraction
  :math:`f` = ``relative_floor`` (so a zero reading at the unloaded state does not divide by zero);
* ``"normalised"``: :math:`r_i = \sqrt{w_e}\,(\hat y_i - y_i)/(\mathrm{rms}_e(y)\sqrt{n_e})`: each experiment
  contributes its squared relative rms error, whatever its number of points or stress level.

The Jacobian :math:`\partial r/\partial\theta` comes from automatic differentiation through the model: the model
is rebuilt from the parameter vector (parameters stay differentiable tensors) and ``jacobian="reverse"`` (default)
back-propagates one batched vector-Jacobian product per residual (``torch.autograd.grad(...,
is_grads_batched=True)``, falling back to a loop when a backward formula does not batch), ``"forward"`` uses
``torch.func.jacfwd``. Rubber experiments differentiate through ``model.nominal_stress``; uniaxial-stress
experiments through :func:`uniaxial_stress_response`: a closed form for isotropic J2 plasticity under monotonic
loading, otherwise the material-point driver (:func:`constitutive.driver.drive` with ``differentiable=True``),
whose derivative is the implicit-function derivative at the converged lateral strains of every step.

Report (:class:`CalibrationResult`): fitted values; rms error per experiment in data units and relative to the
data's rms; standard errors from the linearisation :math:`\mathrm{Cov} = s^2 (J^TJ)^{-1}`,
:math:`s^2 = \sum r_i^2/(m - n)`, with correlations; the fit's figure; a ``materials/`` parameter file.
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import RUBBER_MODES, check_finite_column, check_monotonic
from .driver import DriverError, drive
from .models.base import ConvergenceError, Material, PathDependentMaterial, get_model, read_toml, save
from .paths import uniaxial_stress as uniaxial_stress_path
from .tensor import Tensor

__all__ = [
    "experiment_from_config",
    "ERROR_MEASURES",
    "RESPONSES",
    "Experiment",
    "CalibrationResult",
    "calibrate",
    "uniaxial_stress_response",
    "has_uniaxial_closed_form",
    "rms_error",
    "run_config",
]

ERROR_MEASURES = ("absolute", "relative", "normalised")

ResponseFn = Callable[[Material, Tensor], Tensor]


# --------------------------------------------------------------------------------------------------------------
# Model responses along experimental load paths
# --------------------------------------------------------------------------------------------------------------


def _rubber_response(mode: str) -> ResponseFn:
    def response(model: Material, stretch: Tensor) -> Tensor:
        fn = getattr(model, "nominal_stress", None)
        if fn is None:
            raise TypeError(
                f"{type(model).__name__} has no nominal_stress(stretch, mode): it cannot be fitted to {mode} "
                "rubber data"
            )
        return fn(stretch, mode)

    response.__doc__ = f"Nominal stress in {mode} tension, ``model.nominal_stress(stretch, {mode!r})``."
    return response


UNIAXIAL_ROUTES = ("auto", "flow_stress", "incremental")


def has_uniaxial_closed_form(model: Material) -> bool:
    """Whether :func:`uniaxial_stress_response` can use the ``"flow_stress"`` route for ``model``: rate-independent
    J2 plasticity with isotropic hardening only (a ``flow_stress(alpha)`` method, Young's modulus ``E``, no back
    stresses, no viscosity parameter ``eta``)."""
    params = model.parameters
    return (
        callable(getattr(model, "flow_stress", None))
        and "E" in params
        and getattr(model, "n_backstress", 1) == 0
        and "eta" not in params
    )


def uniaxial_stress_response(
    model: Material,
    strain: Tensor,
    *,
    route: str = "auto",
    tol: float = 1e-10,
    max_iter: int = 50,
    dt: float | Tensor | None = None,
) -> Tensor:
    r"""Axial stress ``(n,)`` along an axial-strain history ``strain`` ``(n,)`` under uniaxial stress:
    :math:`\varepsilon_{11}` prescribed, the other five stress components zero.

    ``route``:

    * ``"flow_stress"`` -- closed form for rate-independent J2 plasticity with isotropic hardening under monotonic
      loading (:func:`has_uniaxial_closed_form`): with :math:`\alpha = \varepsilon^p_{11}`,
      :math:`\sigma = E\varepsilon` while :math:`E\varepsilon \le \sigma_y`, else :math:`\sigma = E(\varepsilon -
      \alpha)` with :math:`E(\varepsilon - \alpha) = \sigma_f(\alpha)` solved for all points at once by a
      vectorised scalar Newton iteration (``model.flow_stress``). Differentiated by one extra Newton step taken
      with the graph from the converged :math:`\alpha` (implicit-function derivative, exact at convergence).
    * ``"incremental"`` -- any model, any history (below).
    * ``"auto"`` -- ``"flow_stress"`` when it applies and the history is non-decreasing, else ``"incremental"``.

    Incremental route: :func:`constitutive.driver.drive` along the uniaxial-stress path
    (:func:`constitutive.paths.uniaxial_stress`) with one segment of one increment ending at each point, from the
    unloaded virgin state: :math:`\varepsilon_{11}` prescribed, Newton on the five other strain components
    (Mandel notation, the model's consistent tangent) until :math:`\sigma_K = 0` (K = 22, 33, 23, 13, 12) to the
    driver's relative tolerance ``tol``, at most ``max_iter`` iterations per step. Path-dependent models go through
    ``update(strain, state, dt)``, others through ``stress_and_tangent``. ``dt``: the time increment of every step
    (a number) or of each step (``(n,)``), for rate-dependent models; ``None`` gives rate-independent models a unit
    increment and a rate-dependent model's own ``ValueError``. A step that does not converge raises
    :class:`constitutive.models.ConvergenceError` (the driver's diagnostics, the point and its axial strain); a
    model that rejects its input, ``ValueError``.

    Differentiation: ``drive(..., differentiable=True)`` -- Newton without a graph, then one Newton correction
    *with* the graph from the converged lateral strains; its derivative is the implicit-function derivative,
    exact at convergence (differentiating the unrolled iterations is not). That holds for reverse mode
    (``jacobian="reverse"`` in :func:`calibrate`); forward mode (``torch.func.jacfwd``) is not stopped by
    ``no_grad`` and differentiates the Newton iterations themselves, which agrees once they have converged.
    """
    strain = torch.as_tensor(strain, dtype=model.dtype, device=model.device)
    if strain.ndim != 1:
        raise ValueError(f"strain must be a 1-d history (n,), got shape {tuple(strain.shape)}")
    if route not in UNIAXIAL_ROUTES:
        raise ValueError(f"unknown uniaxial-stress route {route!r}; choose one of {UNIAXIAL_ROUTES}")
    monotonic = bool((strain >= 0).all()) and bool((torch.diff(strain.detach()) >= 0).all())
    if route == "auto":
        route = "flow_stress" if has_uniaxial_closed_form(model) and monotonic else "incremental"
    if route == "flow_stress":
        if not has_uniaxial_closed_form(model):
            raise ValueError(
                f"the flow_stress route needs rate-independent J2 plasticity with isotropic hardening only; "
                f"{type(model).__name__} is not (use route='incremental')"
            )
        if not monotonic:
            raise ValueError("the flow_stress route needs a monotonic, non-negative strain history")
        return _uniaxial_flow_stress(model, strain, tol, max_iter)
    return _uniaxial_driven(model, strain, tol, max_iter, dt)


def _uniaxial_driven(model: Any, strain: Tensor, tol: float, max_iter: int, dt: float | Tensor | None) -> Tensor:
    """The incremental route of :func:`uniaxial_stress_response`: the driver, differentiably, one step per point."""
    n = strain.shape[0]
    if dt is None:
        # A rate-dependent model must say so (its own ValueError) rather than be run at an invented time step.
        if isinstance(model, PathDependentMaterial):
            with torch.no_grad():
                model.update(torch.zeros(3, 3, dtype=model.dtype, device=model.device), model.initial_state(()), None)
        durations: float | list[float] = 1.0
    else:
        dts = torch.as_tensor(dt, dtype=torch.float64).detach().cpu().reshape(-1)
        if dts.numel() not in (1, n):
            raise ValueError(f"dt must be one time increment or one per point ({n}), got {dts.numel()}")
        durations = [float(v) for v in dts.expand(n)]
    path = uniaxial_stress_path(strain.detach().cpu(), increments=1, duration=durations)
    try:
        result = drive(model, path, max_iter=max_iter, rtol=tol, differentiable=True)
    except DriverError as err:
        k = err.result.n_steps  # the failing data point (steps converged before it)
        where = f"uniaxial stress at point {k} (axial strain {float(strain[k]):g})"
        if isinstance(err.__cause__, ValueError):  # the model rejected its input or parameters
            raise ValueError(f"{where}: {err.__cause__}") from err
        raise ConvergenceError(f"{where}: {err}", **{**err.diagnostics, "point": k}) from err
    return result.stress[1:, 0, 0]


def _uniaxial_flow_stress(model: Any, strain: Tensor, tol: float, max_iter: int) -> Tensor:
    """Closed-form monotonic uniaxial response of isotropic J2 plasticity (see :func:`uniaxial_stress_response`)."""
    E = model.E

    def g(alpha: Tensor) -> tuple[Tensor, Tensor]:
        sf, dsf = model.flow_stress(alpha, slope=True)
        return E * (strain - alpha) - sf, -E - dsf

    with torch.no_grad():
        alpha = torch.zeros_like(strain)
        scale = torch.clamp(E * strain.abs(), min=1.0)
        plastic = E * strain > model.flow_stress(torch.zeros_like(strain), slope=False)[0]  # beyond first yield
        for it in range(max_iter + 1):
            r, dr = g(alpha)
            r = torch.where(plastic, r, torch.zeros_like(r))
            size = float((r.abs() / scale).max())
            if size <= tol:
                break
            if it == max_iter:
                raise ConvergenceError(
                    f"uniaxial flow-stress solve did not converge in {max_iter} iterations; max relative residual "
                    f"{size:.3e}",
                    residual=size,
                )
            # g is decreasing in alpha; from alpha = 0 the iterates stay feasible (clamped at 0)
            alpha = torch.clamp(alpha - r / dr, min=0.0)
    r, dr = g(alpha)
    alpha_corrected = alpha - r / dr  # graph-carrying step: d(alpha)/dθ = -dg/dθ / g' at convergence
    return torch.where(plastic, E * (strain - alpha_corrected), E * strain)


#: Built-in responses by experiment ``mode``: ``fn(model, x) -> y``.
RESPONSES: dict[str, ResponseFn] = {mode: _rubber_response(mode) for mode in RUBBER_MODES}
RESPONSES["uniaxial_stress"] = uniaxial_stress_response

_LABELS = {
    "uniaxial": ("stretch λ", "nominal stress (MPa)"),
    "equibiaxial": ("stretch λ", "nominal stress (MPa)"),
    "pure_shear": ("stretch λ", "nominal stress (MPa)"),
    "uniaxial_stress": ("true strain", "true stress (MPa)"),
}


# --------------------------------------------------------------------------------------------------------------
# Experiments
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Experiment:
    """One experiment: a load path ``x`` ``(n,)`` and the measured response ``y`` ``(n,)``.

    ``mode`` selects the model response in :data:`RESPONSES` (``"uniaxial"``, ``"equibiaxial"``,
    ``"pure_shear"``: rubber stretch → nominal stress; ``"uniaxial_stress"``: axial (true) strain → axial (true)
    stress) unless a custom ``response(model, x) -> y`` is given. ``monotonic``: the load path must increase
    strictly (checked). ``settings``: keywords for the response (e.g. ``{"route": "incremental"}`` for
    :func:`uniaxial_stress_response`). ``weight`` multiplies the experiment's squared residuals. Validation raises
    ``ValueError`` for mismatched lengths, NaN/inf, a non-monotonic path where monotonic is required, a
    non-positive weight, or an unknown mode.
    """

    name: str
    mode: str
    x: Any
    y: Any
    weight: float = 1.0
    x_label: str = ""
    y_label: str = ""
    source: str = ""
    monotonic: bool = True
    response: ResponseFn | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.response is None and self.mode not in RESPONSES:
            raise ValueError(
                f"experiment {self.name!r}: unknown mode {self.mode!r}; known modes {sorted(RESPONSES)} "
                "(or pass response=)"
            )
        x = check_finite_column(_numpy(self.x), f"experiment {self.name!r}: x (load path)")
        y = check_finite_column(_numpy(self.y), f"experiment {self.name!r}: y (measured response)")
        if x.shape != y.shape:
            raise ValueError(f"experiment {self.name!r}: x has {x.size} points but y has {y.size}")
        if self.monotonic:
            check_monotonic(x, f"experiment {self.name!r}: load path x")
        if not (math.isfinite(self.weight) and self.weight > 0):
            raise ValueError(f"experiment {self.name!r}: weight must be positive and finite, got {self.weight}")
        self.x = torch.as_tensor(x, dtype=torch.float64)
        self.y = torch.as_tensor(y, dtype=torch.float64)
        default = _LABELS.get(self.mode, ("x", "y"))
        self.x_label = self.x_label or default[0]
        self.y_label = self.y_label or default[1]

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @classmethod
    def rubber(cls, mode: str, stretch: Any, nominal_stress: Any, **kwargs: Any) -> Experiment:
        """A homogeneous incompressible rubber test (``mode`` in ``RUBBER_MODES``), nominal stress vs stretch."""
        if mode not in RUBBER_MODES:
            raise ValueError(f"unknown rubber test mode {mode!r}; choose one of {RUBBER_MODES}")
        kwargs.setdefault("name", mode)
        return cls(mode=mode, x=stretch, y=nominal_stress, **kwargs)

    @classmethod
    def uniaxial_stress(cls, strain: Any, stress: Any, **kwargs: Any) -> Experiment:
        """A uniaxial-stress test: axial strain history → axial stress (e.g. a true stress–strain curve)."""
        kwargs.setdefault("name", "uniaxial_stress")
        return cls(mode="uniaxial_stress", x=strain, y=stress, **kwargs)

    def predict(self, model: Material, x: Tensor | None = None) -> Tensor:
        """The model's response ``(n,)`` along this experiment's load path (or along ``x``)."""
        fn = self.response or RESPONSES[self.mode]
        xs = self.x if x is None else torch.as_tensor(x, dtype=torch.float64)
        return fn(model, xs.to(dtype=model.dtype, device=model.device), **self.settings)

    def subsample(self, points: int) -> Experiment:
        """A copy with at most ``points`` points, evenly spaced in index, always keeping the last one."""
        n = len(self)
        if points >= n:
            return self
        if points < 2:
            raise ValueError(f"points must be >= 2, got {points}")
        idx = np.unique(np.round(np.linspace(0, n - 1, points)).astype(int))
        return Experiment(
            name=self.name,
            mode=self.mode,
            x=self.x[idx],
            y=self.y[idx],
            weight=self.weight,
            x_label=self.x_label,
            y_label=self.y_label,
            source=self.source,
            monotonic=self.monotonic,
            response=self.response,
            settings=dict(self.settings),
        )


def _source_line(text: str) -> str:
    """The line of a data file's source text that cites the source (``Source: ...``), else its first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in lines if line.lower().startswith("source")), lines[0])


def _numpy(v: Any) -> np.ndarray:
    if isinstance(v, Tensor):
        return v.detach().cpu().numpy().astype(np.float64)
    return np.asarray(v, dtype=np.float64)


def rms_error(predicted: Any, measured: Any) -> float:
    r"""Root-mean-square error :math:`\sqrt{\tfrac1n\sum(\hat y_i - y_i)^2}` in data units."""
    p, m = _numpy(predicted), _numpy(measured)
    return float(np.sqrt(np.mean((p - m) ** 2)))


# --------------------------------------------------------------------------------------------------------------
# Parameter vector <-> model
# --------------------------------------------------------------------------------------------------------------

_ELEMENT = re.compile(r"^(?P<name>[A-Za-z_]\w*)\[(?P<index>\d+)\]$")


@dataclass
class _Entry:
    label: str  # "mu" for a scalar, "mu[1]" for an element of a series parameter
    param: str
    index: int | None
    value: float
    free: bool = True
    lower: float = -math.inf
    upper: float = math.inf


class _ParameterSpace:
    """Flattens named scalar/series parameters into the free vector θ and rebuilds the model from θ."""

    def __init__(
        self,
        initial: Mapping[str, Any],
        fixed: Mapping[str, Any] | Iterable[str] | None,
        bounds: Mapping[str, Sequence[float]] | None,
    ) -> None:
        if not initial:
            raise ValueError("initial must name at least one parameter with its starting value")
        values: dict[str, Any] = {k: _numpy(v) for k, v in initial.items()}
        fixed_labels: set[str] = set()
        if isinstance(fixed, Mapping):
            for k, v in fixed.items():
                m = _ELEMENT.match(k)
                if m:
                    raise ValueError(f"fixed value for element {k!r}: give it in initial and list {k!r} in fixed")
                values[k] = _numpy(v)
                fixed_labels.add(k)
        elif fixed is not None:
            if isinstance(fixed, str):
                fixed = [fixed]
            fixed_labels.update(fixed)
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.entries: list[_Entry] = []
        for name, v in values.items():
            if v.ndim > 1:
                raise ValueError(f"parameter {name!r}: give a number or a list of numbers, got shape {v.shape}")
            if not np.all(np.isfinite(v)):
                raise ValueError(f"parameter {name!r}: initial value must be finite, got {v.tolist()}")
            self.shapes[name] = tuple(v.shape)
            if v.ndim == 0:
                self.entries.append(_Entry(name, name, None, float(v)))
            else:
                self.entries += [_Entry(f"{name}[{i}]", name, i, float(x)) for i, x in enumerate(v)]
        by_label = {e.label: e for e in self.entries}
        for label in fixed_labels:
            hits = [e for e in self.entries if e.label == label or e.param == label]
            if not hits:
                raise ValueError(f"fixed parameter {label!r} is not among the parameters {list(by_label)}")
            for e in hits:
                e.free = False
        for label, bound in (bounds or {}).items():
            hits = [e for e in self.entries if e.label == label or (e.param == label and e.index is not None)]
            if not hits:
                raise ValueError(f"bounds given for {label!r}, which is not among the parameters {list(by_label)}")
            if len(bound) != 2:
                raise ValueError(f"bounds for {label!r} must be (lower, upper), got {bound!r}")
            lo = -math.inf if bound[0] is None else float(bound[0])
            hi = math.inf if bound[1] is None else float(bound[1])
            if not lo < hi:
                raise ValueError(f"bounds for {label!r}: lower {lo} must be below upper {hi}")
            for e in hits:
                e.lower, e.upper = lo, hi
        for e in self.entries:
            if e.free and not e.lower <= e.value <= e.upper:
                raise ValueError(
                    f"initial value of {e.label!r} = {e.value} is outside its bounds [{e.lower}, {e.upper}]"
                )
        if not any(e.free for e in self.entries):
            raise ValueError("every parameter is fixed: nothing to calibrate")

    @property
    def free(self) -> list[_Entry]:
        return [e for e in self.entries if e.free]

    @property
    def labels(self) -> list[str]:
        return [e.label for e in self.free]

    def x0(self) -> np.ndarray:
        return np.array([e.value for e in self.free])

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array([e.lower for e in self.free]), np.array([e.upper for e in self.free])

    def values(self, theta: Tensor) -> dict[str, Tensor]:
        """Parameter tensors built from θ (free entries) and constants (fixed ones), differentiable in θ."""
        elements: dict[str, list[Tensor]] = {name: [] for name in self.shapes}
        k = 0
        for e in self.entries:
            if e.free:
                elements[e.param].append(theta[k])
                k += 1
            else:
                elements[e.param].append(torch.tensor(e.value, dtype=theta.dtype, device=theta.device))
        return {name: (parts[0] if self.shapes[name] == () else torch.stack(parts)) for name, parts in elements.items()}

    def plain(self, x: np.ndarray) -> dict[str, float | list[float]]:
        full = {e.label: e.value for e in self.entries}
        full.update(dict(zip(self.labels, (float(v) for v in x))))
        out: dict[str, float | list[float]] = {}
        for name, shape in self.shapes.items():
            if shape == ():
                out[name] = full[name]
            else:
                out[name] = [full[f"{name}[{i}]"] for i in range(shape[0])]
        return out


def _factory(
    model: type[Material] | str | Callable[..., Material],
    options: Mapping[str, Any],
    dtype: torch.dtype,
) -> tuple[Callable[..., Material], str]:
    """A ``make(**params) -> Material`` and a display name, from a class, a registered name or a factory."""
    if isinstance(model, str):
        model = get_model(model)
    if isinstance(model, type):
        if not issubclass(model, Material):
            raise TypeError(f"{model.__name__} is not a Material subclass")
        cls = model
        return (lambda **p: cls(**p, **options, dtype=dtype)), cls.__name__
    if callable(model):
        if options:
            return (lambda **p: model(**p, **options)), getattr(model, "__name__", "model")
        return model, getattr(model, "__name__", "model")
    raise TypeError(f"model must be a Material class, a registered model name or a factory, got {model!r}")


# --------------------------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------------------------


@dataclass
class CalibrationResult:
    r"""What :func:`calibrate` found.

    ``model``: the fitted model; ``parameters``: every parameter (free and fixed) as plain numbers;
    ``free``: labels of the fitted entries (``"mu[1]"`` for an element of a series); ``x``: their values;
    ``standard_errors`` / ``covariance`` / ``correlation``: from :math:`s^2 (J^TJ)^{-1}` in the residual measure
    (NaN when the problem has no redundancy, :math:`m \le n`, or :math:`J` is rank-deficient in that direction);
    ``rms`` / ``relative_rms``: per experiment, in data units and relative to the data's rms; ``predictions``:
    per experiment ``(n,)`` arrays at the data points; ``history``: one entry per Jacobian evaluation
    (iteration) with ``nfev``, ``cost`` and the free values; ``at_bounds``: free labels that ended on a bound.
    """

    model: Material
    model_name: str
    parameters: dict[str, float | list[float]]
    free: list[str]
    x: np.ndarray
    standard_errors: dict[str, float]
    covariance: np.ndarray
    correlation: np.ndarray
    experiments: list[Experiment]
    predictions: list[np.ndarray]
    rms: dict[str, float]
    relative_rms: dict[str, float]
    cost: float
    error: str
    success: bool
    status: int
    message: str
    nfev: int
    njev: int
    jacobian: np.ndarray
    jacobian_method: str
    elapsed_s: float
    at_bounds: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0

    @property
    def total_rms(self) -> float:
        """rms error over all points of all experiments (data units)."""
        sq = np.concatenate([(p - _numpy(e.y)) ** 2 for p, e in zip(self.predictions, self.experiments)])
        return float(np.sqrt(sq.mean()))

    def parameter_table(self) -> str:
        """Markdown table: parameter, value, standard error, relative standard error, free/fixed."""
        rows = ["| parameter | value | std. error | rel. std. error | |", "|---|---|---|---|---|"]
        free = set(self.free)
        for name, v in self.parameters.items():
            labels = [name] if not isinstance(v, list) else [f"{name}[{i}]" for i in range(len(v))]
            values = [v] if not isinstance(v, list) else v
            for label, value in zip(labels, values):
                if label in free:
                    se = self.standard_errors[label]
                    rel = abs(se / value) if value != 0 else math.inf
                    note = "at bound" if label in self.at_bounds else "fitted"
                    rows.append(f"| {label} | {value:.6g} | {se:.3g} | {rel:.2%} | {note} |")
                else:
                    rows.append(f"| {label} | {value:.6g} | – | – | fixed |")
        return "\n".join(rows)

    def error_table(self) -> str:
        """Markdown table of the rms error per experiment."""
        rows = ["| experiment | points | rms error | relative rms |", "|---|---|---|---|"]
        for e in self.experiments:
            rows.append(f"| {e.name} | {len(e)} | {self.rms[e.name]:.4g} | {self.relative_rms[e.name]:.2%} |")
        return "\n".join(rows)

    def report(self) -> str:
        """A markdown report: model, settings, parameters with standard errors, errors per experiment."""
        lines = [
            f"# Calibration of {self.model_name}",
            "",
            f"- error measure: {self.error}; cost ½Σr² = {self.cost:.6g}",
            f"- optimiser: scipy.optimize.least_squares (trf); {self.message} (status {self.status}); "
            f"{self.nfev} evaluations, {self.njev} Jacobians ({self.jacobian_method} automatic differentiation); "
            f"{self.elapsed_s:.2f} s",
        ]
        if self.rejected:
            lines.append(f"- {self.rejected} trial point(s) were inadmissible for the model and were rejected")
        lines += ["", "## Parameters", "", self.parameter_table(), "", "## Errors", "", self.error_table(), ""]
        sources = sorted({_source_line(e.source) for e in self.experiments if e.source.strip()})
        if sources:
            lines += ["## Data", ""] + [f"- {s}" for s in sources] + [""]
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: model, rms per experiment."""
        errs = ", ".join(f"{k} {v:.4g}" for k, v in self.rms.items())
        return f"{self.model_name}: rms {errs} ({'converged' if self.success else 'NOT converged'})"

    def plot(self, path: str | Path | None = None, *, points: int = 200, title: str | None = None) -> Any:
        """Figure: one panel per experiment, data as markers and the fitted model as a line on a fine grid of
        ``points`` (at the data points for a non-monotonic path or one with time increments ``dt``).

        Written to ``path`` when given; returns the matplotlib figure.
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        n = len(self.experiments)
        fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.6), squeeze=False)
        for ax, exp in zip(axes[0], self.experiments):
            x = _numpy(exp.x)
            # a fine grid only for a monotonic path without time increments: with ``dt`` a finer grid would be
            # another strain rate (and per-point increments fit no other grid)
            fine = exp.monotonic and "dt" not in exp.settings
            lo = min(0.0, x[0]) if exp.mode == "uniaxial_stress" else min(1.0, x[0])
            grid = torch.linspace(lo, float(x[-1]), points, dtype=torch.float64) if fine else exp.x
            if fine and exp.mode == "uniaxial_stress":
                grid = grid[1:]
            with torch.no_grad():
                curve = _numpy(exp.predict(self.model, grid))
            ax.plot(x, _numpy(exp.y), "o", ms=4, mfc="none", label="data")
            ax.plot(_numpy(grid), curve, "-", label=f"{self.model_name} (rms {self.rms[exp.name]:.3g})")
            ax.set_xlabel(exp.x_label)
            ax.set_ylabel(exp.y_label)
            ax.set_title(exp.name)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, dpi=120)
            plt.close(fig)
        return fig

    def save(self, path: str | Path, **metadata: Any) -> Path:
        """Write the fitted model as a ``materials/`` TOML parameter file (:func:`constitutive.models.save`) with
        the calibration's provenance (data sources, error measure, rms errors) in the ``[material]`` table."""
        info: dict[str, Any] = {
            "calibrated_with": "constitutive.calibrate (scipy least_squares, AD Jacobian)",
            "error_measure": self.error,
            "experiments": [e.name for e in self.experiments],
            "rms_error": [self.rms[e.name] for e in self.experiments],
        }
        sources = sorted({_source_line(e.source) for e in self.experiments if e.source.strip()})
        if sources:
            info["data_source"] = "; ".join(sources)
        info.update(metadata)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return save(self.model, path, **info)


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
) -> CalibrationResult:
    r"""Fit ``model``'s parameters to ``experiments`` by nonlinear least squares with an AD Jacobian.

    ``model``: a :class:`Material` subclass (called as ``cls(**params, **options, dtype=dtype)``), its registered
    name, or a factory ``make(**params) -> Material``. ``initial``: starting value of every parameter to vary or
    hold (a number, or a list for series parameters such as Ogden's ``mu``/``alpha``; elements are addressed as
    ``"mu[1]"``). ``fixed``: names (or element labels) in ``initial`` held at their initial value, or a mapping
    of extra parameters held at the given values. ``bounds``: ``{name or "name[i]": (lower, upper)}``, ``None``
    for an open side; a bound on a series name applies to each element. ``options``: non-fitted keywords for the
    constructor (e.g. ``{"K": 2000.0}``). ``error``: ``"absolute"``, ``"relative"`` or ``"normalised"`` (module
    docstring). ``jacobian``: ``"reverse"`` or ``"forward"`` automatic differentiation. ``verbose``: print one
    progress line per iteration; ``callback(info)`` receives ``{"iteration", "nfev", "cost", "parameters"}``
    each iteration. The remaining keywords go to :func:`scipy.optimize.least_squares`.

    Raises ``ValueError`` for an initial value outside its bounds, unknown names in ``fixed``/``bounds``, bad
    experiments, or a model that rejects the initial parameters.
    """
    from scipy.optimize import least_squares

    if isinstance(experiments, Experiment):
        experiments = [experiments]
    experiments = list(experiments)
    if not experiments:
        raise ValueError("no experiments to calibrate against")
    names = [e.name for e in experiments]
    if len(set(names)) != len(names):
        raise ValueError(f"experiment names must be unique, got {names}")
    if error not in ERROR_MEASURES:
        raise ValueError(f"unknown error measure {error!r}; choose one of {ERROR_MEASURES}")
    if jacobian not in ("reverse", "forward"):
        raise ValueError(f"jacobian must be 'reverse' or 'forward', got {jacobian!r}")
    space = _ParameterSpace(initial, fixed, bounds)
    make, model_name = _factory(model, dict(options or {}), dtype)
    scales = [s.to(dtype) for s in _residual_scales(experiments, error, relative_floor)]
    targets = [e.y.to(dtype) for e in experiments]
    m = sum(len(e) for e in experiments)

    def build(theta: Tensor) -> Material:
        return make(**space.values(theta))

    def residuals(theta: Tensor) -> Tensor:
        model_ = build(theta)
        parts = [(e.predict(model_) - y) * s for e, y, s in zip(experiments, targets, scales)]
        return torch.cat([p.reshape(-1) for p in parts])

    # the initial point must be admissible: report the model's own message
    x0 = space.x0()
    with torch.no_grad():
        try:
            r0 = residuals(torch.tensor(x0, dtype=dtype))
        except ValueError as err:
            raise ValueError(f"{model_name} rejects the initial parameters: {err}") from err
    if not bool(torch.isfinite(r0).all()):
        raise ValueError(f"{model_name} gives non-finite responses at the initial parameters {space.plain(x0)}")
    penalty = 1e3 * (float(r0.abs().max()) + 1.0)  # residual at inadmissible trial points: forces a rejection

    cache: dict[str, Any] = {}
    counters = {"nfev": 0, "njev": 0, "rejected": 0}
    history: list[dict[str, Any]] = []
    jac_route = {"method": jacobian}

    def fun(x: np.ndarray) -> np.ndarray:
        counters["nfev"] += 1
        theta = torch.tensor(x, dtype=dtype, requires_grad=jacobian == "reverse")
        try:
            with torch.enable_grad():
                r = residuals(theta)
        except (ValueError, ConvergenceError, torch.linalg.LinAlgError):
            r = None
        # non-finite or absurdly large responses (e.g. an Ogden exponent run away) are treated as inadmissible
        if r is None or not bool(torch.isfinite(r).all()) or float(r.detach().abs().max()) > penalty:
            counters["rejected"] += 1
            cache.clear()
            return np.full(m, penalty)
        cache.update(key=x.tobytes(), theta=theta, r=r)
        return r.detach().cpu().numpy()

    def jac(x: np.ndarray) -> np.ndarray:
        counters["njev"] += 1
        if jacobian == "forward":
            J = torch.func.jacfwd(residuals)(torch.tensor(x, dtype=dtype))
        else:
            if cache.get("key") != x.tobytes():
                fun(x)
            theta, r = cache["theta"], cache["r"]
            J = _reverse_jacobian(r, theta, jac_route)
        J_np = J.detach().cpu().numpy()
        info = {
            "iteration": counters["njev"],
            "nfev": counters["nfev"],
            "cost": 0.5 * float(np.sum(cache["r"].detach().cpu().numpy() ** 2)) if "r" in cache else math.nan,
            "parameters": dict(zip(space.labels, (float(v) for v in x))),
        }
        history.append(info)
        if verbose:
            values = ", ".join(f"{k}={v:.5g}" for k, v in info["parameters"].items())
            print(
                f"[calibrate {model_name}] iter {info['iteration']:3d}  nfev {info['nfev']:4d}  "
                f"cost {info['cost']:.6e}  {values}",
                file=sys.stderr,
                flush=True,
            )
        if callback is not None:
            callback(info)
        return J_np

    lower, upper = space.bounds()
    start = time.perf_counter()
    sol = least_squares(
        fun,
        x0,
        jac=jac,
        bounds=(lower, upper),
        method="trf",
        ftol=ftol,
        xtol=xtol,
        gtol=gtol,
        x_scale=x_scale,
        loss=loss,
        max_nfev=max_nfev,
    )
    elapsed = time.perf_counter() - start

    x = sol.x
    with torch.no_grad():
        fitted = build(torch.tensor(x, dtype=dtype))
        predictions = [_numpy(e.predict(fitted)) for e in experiments]
    r = np.asarray(sol.fun)
    J = np.asarray(sol.jac)
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
        model_name=model_name,
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
        error=error,
        success=bool(sol.success),
        status=int(sol.status),
        message=str(sol.message),
        nfev=counters["nfev"],
        njev=counters["njev"],
        jacobian=J,
        jacobian_method=jac_route["method"],
        elapsed_s=elapsed,
        at_bounds=at_bounds,
        history=history,
        rejected=counters["rejected"],
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


# --------------------------------------------------------------------------------------------------------------
# Configuration files and the command line
# --------------------------------------------------------------------------------------------------------------

_CONFIG_KEYS = {
    "model",
    "name",
    "error",
    "relative_floor",
    "options",
    "initial",
    "fixed",
    "bounds",
    "fit",
    "experiments",
    "metadata",
}
_EXPERIMENT_KEYS = {
    "name",
    "file",
    "mode",
    "x",
    "y",
    "x_scale",
    "y_scale",
    "weight",
    "points",
    "E",
    "min_strain",
    "monotonic",
    "strain_column",
    "stress_column",
}


def _resolve(file: str, base: Path) -> Path:
    from .data import data_path

    p = Path(file)
    if not p.is_absolute() and (base / p).exists():
        return base / p
    return data_path(p)


def experiment_from_config(spec: Mapping[str, Any], base: Path = Path(".")) -> Experiment:
    """Build an :class:`Experiment` from one ``[[experiments]]`` table of a calibration config.

    ``mode = "tension_test"`` reads a tension test (:func:`constitutive.data.load_tension_test`; keys ``E``,
    ``points``, ``min_strain``, ``monotonic``, ``strain_column``, ``stress_column``) and fits its true curve up to
    the UTS as a uniaxial-stress experiment; any other mode reads columns ``x`` and ``y`` of a CSV file, scaled
    by ``x_scale``/``y_scale`` (e.g. 0.0980665 for kgf/cm² → MPa), optionally subsampled to ``points``.
    """
    from .data import load_tension_test, read_csv

    unknown = set(spec) - _EXPERIMENT_KEYS
    if unknown:
        raise ValueError(f"experiment table: unknown key(s) {sorted(unknown)}; known: {sorted(_EXPERIMENT_KEYS)}")
    if "file" not in spec or "mode" not in spec:
        raise ValueError(f"every [[experiments]] table needs 'file' and 'mode', got keys {sorted(spec)}")
    path = _resolve(str(spec["file"]), base)
    mode = str(spec["mode"])
    name = str(spec.get("name", path.stem))
    weight = float(spec.get("weight", 1.0))
    if mode == "tension_test":
        kwargs = {k: spec[k] for k in ("strain_column", "stress_column") if k in spec}
        test = load_tension_test(path, **kwargs)
        return test.experiment(
            E=spec.get("E"),
            points=spec.get("points"),
            min_strain=float(spec.get("min_strain", 0.0)),
            monotonic=str(spec.get("monotonic", "error")),
            name=name,
            weight=weight,
        )
    for key in ("x", "y"):
        if key not in spec:
            raise ValueError(f"experiment {name!r}: give the column names 'x' (load path) and 'y' (response)")
    table = read_csv(path, required=(str(spec["x"]), str(spec["y"])))
    exp = Experiment(
        name=name,
        mode=mode,
        x=table.column(str(spec["x"])) * float(spec.get("x_scale", 1.0)),
        y=table.column(str(spec["y"])) * float(spec.get("y_scale", 1.0)),
        weight=weight,
        source="\n".join(table.source),
    )
    if "points" in spec:
        exp = exp.subsample(int(spec["points"]))
    return exp


def run_config(
    config: str | Path | Mapping[str, Any],
    out: str | Path | None = None,
    *,
    verbose: int | bool = 1,
    base: str | Path | None = None,
    **overrides: Any,
) -> tuple[CalibrationResult, dict[str, Path]]:
    """Run the calibration a TOML config describes; write ``<name>.toml`` (parameter file), ``<name>_report.md``
    and ``<name>.png`` into ``out`` (default: the config's folder). Returns the result and the written paths.

    Config keys: ``model`` (registered name), ``name`` (output stem), ``error``, ``relative_floor``,
    ``[options]``, ``[initial]``, ``fixed`` (list of names, or a ``[fixed]`` table of values), ``[bounds]``
    (``name = [lower, upper]``), ``[fit]`` (``max_nfev``, ``jacobian``, ``ftol``, ``xtol``, ``gtol``, ``loss``),
    ``[metadata]`` (copied into the parameter file) and ``[[experiments]]`` (:func:`experiment_from_config`).
    ``overrides`` replace ``[fit]`` entries.
    """
    if isinstance(config, Mapping):
        cfg, base_dir = dict(config), Path(base or ".")
        stem_default = "calibration"
    else:
        path = Path(config)
        cfg, base_dir = read_toml(path), Path(base) if base else path.resolve().parent
        stem_default = path.stem
    unknown = set(cfg) - _CONFIG_KEYS
    if unknown:
        raise ValueError(f"calibration config: unknown key(s) {sorted(unknown)}; known: {sorted(_CONFIG_KEYS)}")
    for key in ("model", "initial", "experiments"):
        if key not in cfg:
            raise ValueError(f"calibration config: missing {key!r}")
    experiments = [experiment_from_config(spec, base_dir) for spec in cfg["experiments"]]
    fit = {**dict(cfg.get("fit", {})), **overrides}
    allowed_fit = {"max_nfev", "jacobian", "ftol", "xtol", "gtol", "loss", "x_scale"}
    if set(fit) - allowed_fit:
        raise ValueError(f"[fit]: unknown key(s) {sorted(set(fit) - allowed_fit)}; known: {sorted(allowed_fit)}")
    bounds = {k: tuple(v) for k, v in dict(cfg.get("bounds", {})).items()}
    result = calibrate(
        str(cfg["model"]),
        experiments,
        dict(cfg["initial"]),
        bounds=bounds or None,
        fixed=cfg.get("fixed"),
        options=dict(cfg.get("options", {})),
        error=str(cfg.get("error", "absolute")),
        relative_floor=float(cfg.get("relative_floor", 0.01)),
        verbose=verbose,
        **fit,
    )
    out_dir = Path(out) if out is not None else base_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = str(cfg.get("name", stem_default))
    paths = {
        "parameters": out_dir / f"{stem}.toml",
        "report": out_dir / f"{stem}_report.md",
        "figure": out_dir / f"{stem}.png",
    }
    result.save(paths["parameters"], **dict(cfg.get("metadata", {})))
    result.plot(paths["figure"], title=f"{result.model_name} fitted ({result.error} error)")
    paths["report"].write_text(
        result.report() + f"\n![fit]({paths['figure'].name})\n\nParameter file: `{paths['parameters'].name}`\n",
        encoding="utf-8",
    )
    return result, paths
