"""A measured experiment and the model's prediction of it (:class:`Experiment`), and the rms error."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..models.base import Material
from ..tensor import Tensor
from .columns import RUBBER_MODES, check_finite_column, check_monotonic, plausibility_warnings
from .responses import AXIS_LABELS, RESPONSES, ResponseFn

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
    :func:`uniaxial_stress_response`). ``weight`` multiplies the experiment's squared residuals. ``stress_unit``:
    the unit of the measured stresses (default ``"MPa"``, the unit of the shipped data); the default axis label
    and the calibration report use it, and :meth:`plausibility` checks the data against it
    (:func:`constitutive.experiments.columns.plausibility_warnings`). Validation raises ``ValueError`` for
    mismatched lengths, NaN/inf, a non-monotonic path where monotonic is required, a non-positive weight, an
    empty unit, or an unknown mode.
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
    stress_unit: str = "MPa"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"an experiment needs a non-empty name, got {self.name!r}")
        if self.response is not None and not callable(self.response):
            raise ValueError(
                f"experiment {self.name!r}: response must be a callable response(model, x), got {self.response!r}"
            )
        if not isinstance(self.settings, dict):
            raise ValueError(f"experiment {self.name!r}: settings must be a dict of keywords, got {self.settings!r}")
        if not isinstance(self.stress_unit, str) or not self.stress_unit.strip():
            raise ValueError(f"experiment {self.name!r}: stress_unit must be a non-empty string such as 'MPa'")
        self.stress_unit = self.stress_unit.strip()
        if self.response is None and self.mode not in RESPONSES:
            raise ValueError(
                f"experiment {self.name!r}: unknown mode {self.mode!r}; known modes {sorted(RESPONSES)} "
                "(or pass response=)"
            )
        x = check_finite_column(
            self.x if not isinstance(self.x, Tensor) else as_numpy(self.x), f"experiment {self.name!r}: x (load path)"
        )
        y = check_finite_column(
            self.y if not isinstance(self.y, Tensor) else as_numpy(self.y),
            f"experiment {self.name!r}: y (measured response)",
        )
        if x.shape != y.shape:
            raise ValueError(f"experiment {self.name!r}: x has {x.size} points but y has {y.size}")
        if self.monotonic:
            check_monotonic(x, f"experiment {self.name!r}: load path x")
        if self.response is None and self.mode in RUBBER_MODES and bool((x <= 0).any()):
            k = int(np.flatnonzero(x <= 0)[0])
            raise ValueError(f"experiment {self.name!r}: stretches must be positive, got {x[k]!r} at index {k}")
        try:
            weight = float(self.weight)
        except (TypeError, ValueError):
            raise ValueError(f"experiment {self.name!r}: weight must be a number, got {self.weight!r}") from None
        if isinstance(self.weight, bool) or not (math.isfinite(weight) and weight > 0):
            raise ValueError(f"experiment {self.name!r}: weight must be positive and finite, got {self.weight}")
        self.x = torch.as_tensor(x, dtype=torch.float64)
        self.y = torch.as_tensor(y, dtype=torch.float64)
        default = AXIS_LABELS.get(self.mode, ("x", "y"))
        self.x_label = self.x_label or default[0]
        self.y_label = self.y_label or default[1].replace("(MPa)", f"({self.stress_unit})")

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def plausibility(self) -> list[str]:
        """Messages for data implausible in :attr:`stress_unit` (kPa data, strain in percent ...; the rule is
        :func:`constitutive.experiments.columns.plausibility_warnings`); empty when plausible."""
        return plausibility_warnings(self.mode, as_numpy(self.x), as_numpy(self.y), self.stress_unit, self.name)

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
        if not isinstance(model, Material):
            raise TypeError(
                f"experiment {self.name!r}: model must be a constitutive Material, got {type(model).__name__}"
            )
        fn = self.response or RESPONSES[self.mode]
        xs = self.x if x is None else torch.as_tensor(x, dtype=torch.float64)
        return fn(model, xs.to(dtype=model.dtype, device=model.device), **self.settings)

    def subsample(self, points: int) -> Experiment:
        """A copy with at most ``points`` points, evenly spaced in index, always keeping the last one."""
        if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
            raise ValueError(f"points must be >= 2 (an integer), got {points!r}")
        n = len(self)
        if points >= n:
            return self
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
            stress_unit=self.stress_unit,
        )


def source_line(text: str) -> str:
    """The line of a data file's source text that cites the source (``Source: ...``), else its first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in lines if line.lower().startswith("source")), lines[0])


def as_numpy(v: Any) -> np.ndarray:
    if isinstance(v, Tensor):
        return v.detach().cpu().numpy().astype(np.float64)
    return np.asarray(v, dtype=np.float64)


def rms_error(predicted: Any, measured: Any) -> float:
    r"""Root-mean-square error :math:`\sqrt{\tfrac1n\sum(\hat y_i - y_i)^2}` in data units."""
    p, m = as_numpy(predicted), as_numpy(measured)
    return float(np.sqrt(np.mean((p - m) ** 2)))
