"""The parameter vector of a fit: free/fixed parameters, bounds and vector elements, and the model
factory (parameter vector -> model, differentiably)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..experiments.experiment import as_numpy
from ..models.base import Material, get_model
from ..tensor import Tensor

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
    user_bounds: bool = False  # bounds given to calibrate (else the model's declared range applies)


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
        values: dict[str, Any] = {k: as_numpy(v) for k, v in initial.items()}
        fixed_labels: set[str] = set()
        if isinstance(fixed, Mapping):
            for k, v in fixed.items():
                m = _ELEMENT.match(k)
                if m:
                    raise ValueError(f"fixed value for element {k!r}: give it in initial and list {k!r} in fixed")
                values[k] = as_numpy(v)
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
                e.lower, e.upper, e.user_bounds = lo, hi, True
        for e in self.entries:
            if e.free and not e.lower <= e.value <= e.upper:
                raise ValueError(
                    f"initial value of {e.label!r} = {e.value} is outside its bounds [{e.lower}, {e.upper}]"
                )
        if not any(e.free for e in self.entries):
            raise ValueError("every parameter is fixed: nothing to calibrate")

    def apply_declared_bounds(self, model: Material) -> None:
        """Default bounds from the admissible ranges ``model.parameter_declarations()`` declares (the model built at
        the initial parameters), for every free entry the caller gave no bounds: ``Parameter.bounds()``, an open
        end nudged inside (a relative 1e-9, at most half-way to the initial value) so the optimizer never tries a
        value the model refuses. Bounds given to ``calibrate`` override them."""
        declarations = model.parameter_declarations()
        for e in self.entries:
            decl = declarations.get(e.param)
            if not e.free or e.user_bounds or decl is None:
                continue
            lo, hi = decl.bounds()
            if decl.lower_open and math.isfinite(lo):
                lo += min(1e-9 * max(abs(lo), abs(e.value)), 0.5 * (e.value - lo))
            if decl.upper_open and math.isfinite(hi):
                hi -= min(1e-9 * max(abs(hi), abs(e.value)), 0.5 * (hi - e.value))
            e.lower, e.upper = lo, hi

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


class _ClassFactory:
    """``make(**params)`` of a model class with fixed options: a picklable object, not a closure, so that a fit's
    problem (kept on its result for MCMC) travels to and from worker processes."""

    def __init__(self, cls: type[Material], options: Mapping[str, Any], dtype: torch.dtype) -> None:
        self.cls, self.options, self.dtype = cls, dict(options), dtype

    def __call__(self, **p: Any) -> Material:
        try:
            return self.cls(**p, **self.options, dtype=self.dtype)
        except TypeError as err:  # an unknown or missing keyword: name the model and what it takes
            raise ValueError(f"{self.cls.__name__} does not take these parameters/options: {err}") from err


class _OptionsFactory:
    """A user's factory called with fixed extra options (picklable when the factory is)."""

    def __init__(self, factory: Callable[..., Material], options: Mapping[str, Any]) -> None:
        self.factory, self.options = factory, dict(options)

    def __call__(self, **p: Any) -> Material:
        return self.factory(**p, **self.options)


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
        return _ClassFactory(model, options, dtype), model.__name__
    if callable(model):
        if options:
            return _OptionsFactory(model, options), getattr(model, "__name__", "model")
        return model, getattr(model, "__name__", "model")
    raise TypeError(f"model must be a Material class, a registered model name or a factory, got {model!r}")
