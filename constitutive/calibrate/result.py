"""The result of a fit (:class:`CalibrationResult`): report, figure, parameter file."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..experiments import (
    Experiment,
)
from ..experiments.experiment import as_numpy, source_line
from ..models.base import Material, save

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
    #: Messages about data implausible for their stated units (also issued as ``UserWarning`` by ``calibrate``).
    warnings: list[str] = field(default_factory=list)
    #: The ``stable_range`` of a fit made Drucker stable by penalty (``None``: no stability penalty).
    stable_range: tuple[float, float] | None = None
    _stability: Any = field(default=None, repr=False, compare=False)

    @property
    def stability(self) -> Any:
        """The :class:`~constitutive.calibrate.drucker.StabilityReport` of the fitted model over
        ``stable_range`` (default (0.1, 10)); ``None`` for a model that is not hyperelastic. Computed once."""
        from ..models.hyperelastic import HyperelasticMaterial
        from .drucker import DEFAULT_STABLE_RANGE, stability

        if self._stability is None and isinstance(self.model, HyperelasticMaterial):
            rng = self.stable_range or DEFAULT_STABLE_RANGE
            self._stability = stability(self.model, stretches=rng, name=self.model_name)
        return self._stability

    @property
    def stress_unit(self) -> str:
        """The stress unit of the experiments (``"MPa, kPa"`` when they differ)."""
        units = list(dict.fromkeys(e.stress_unit for e in self.experiments))
        return ", ".join(units)

    @property
    def total_rms(self) -> float:
        """rms error over all points of all experiments (data units)."""
        sq = np.concatenate([(p - as_numpy(e.y)) ** 2 for p, e in zip(self.predictions, self.experiments)])
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
        rows = ["| experiment | points | rms error | unit | relative rms |", "|---|---|---|---|---|"]
        for e in self.experiments:
            rows.append(
                f"| {e.name} | {len(e)} | {self.rms[e.name]:.4g} | {e.stress_unit} | {self.relative_rms[e.name]:.2%} |"
            )
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
        lines.append(f"- stress unit of the data (and of the fitted moduli): {self.stress_unit}")
        if self.rejected:
            lines.append(f"- {self.rejected} trial point(s) were inadmissible for the model and were rejected")
        if self.warnings:
            lines += ["", "## Warnings", ""] + [f"- WARNING: {w}" for w in self.warnings]
        lines += ["", "## Parameters", "", self.parameter_table(), "", "## Errors", "", self.error_table(), ""]
        if self.stability is not None:  # hyperelastic fits: Drucker stability limits (calibrate.drucker)
            how = (
                "fitted with the stability penalty (`stable_range`)"
                if self.stable_range
                else "no stability penalty in the fit"
            )
            lines += ["## Drucker stability", "", f"{self.stability.summary()}; {how}.", "", self.stability.table(), ""]
        sources = sorted({source_line(e.source) for e in self.experiments if e.source.strip()})
        if sources:
            lines += ["## Data", ""] + [f"- {s}" for s in sources] + [""]
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: model, rms per experiment."""
        errs = ", ".join(f"{k} {v:.4g}" for k, v in self.rms.items())
        line = f"{self.model_name}: rms {errs} ({'converged' if self.success else 'NOT converged'})"
        return line if self.stability is None else f"{line}; {self.stability.summary()}"

    def plot(
        self, path: str | Path | None = None, *, points: int = 200, title: str | None = None, overwrite: bool = False
    ) -> Any:
        """Figure: one panel per experiment, data as markers and the fitted model as a line on a fine grid of
        ``points`` (at the data points for a non-monotonic path or one with time increments ``dt``).

        Written to ``path`` when given (atomically; over an existing file only with ``overwrite=True``); returns the
        matplotlib figure.
        """
        import matplotlib

        from ..fileio import atomic_path, check_writable

        if path is not None:
            check_writable(path, overwrite=overwrite)  # before drawing: fail fast

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        n = len(self.experiments)
        fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.6), squeeze=False)
        for ax, exp in zip(axes[0], self.experiments):
            x = as_numpy(exp.x)
            # a fine grid only for a monotonic path without time increments: with ``dt`` a finer grid would be
            # another strain rate (and per-point increments fit no other grid)
            fine = exp.monotonic and "dt" not in exp.settings
            lo = min(0.0, x[0]) if exp.mode == "uniaxial_stress" else min(1.0, x[0])
            grid = torch.linspace(lo, float(x[-1]), points, dtype=torch.float64) if fine else exp.x
            if fine and exp.mode == "uniaxial_stress":
                grid = grid[1:]
            with torch.no_grad():
                curve = as_numpy(exp.predict(self.model, grid))
            ax.plot(x, as_numpy(exp.y), "o", ms=4, mfc="none", label="data")
            ax.plot(as_numpy(grid), curve, "-", label=f"{self.model_name} (rms {self.rms[exp.name]:.3g})")
            ax.set_xlabel(exp.x_label)
            ax.set_ylabel(exp.y_label)
            ax.set_title(exp.name)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        if path is not None:
            try:
                with atomic_path(path, overwrite=overwrite) as tmp:
                    fig.savefig(tmp, dpi=120)
            finally:
                plt.close(fig)
        return fig

    def save(self, path: str | Path, *, overwrite: bool = False, **metadata: Any) -> Path:
        """Write the fitted model as a ``materials/`` TOML parameter file (:func:`constitutive.models.save`) with
        the calibration's provenance (data sources, error measure, rms errors) in the ``[material]`` table;
        over an existing file only with ``overwrite=True``."""
        info: dict[str, Any] = {
            "calibrated_with": "constitutive.calibrate (scipy least_squares, AD Jacobian)",
            "error_measure": self.error,
            "experiments": [e.name for e in self.experiments],
            "rms_error": [self.rms[e.name] for e in self.experiments],
        }
        if self.stress_unit and self.stress_unit != "unspecified":
            info["units"] = self.stress_unit  # the fitted moduli are in the data's stress unit
        sources = sorted({source_line(e.source) for e in self.experiments if e.source.strip()})
        if sources:
            info["data_source"] = "; ".join(sources)
        info.update(metadata)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return save(self.model, path, overwrite=overwrite, **info)
