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
# Identifiability
# --------------------------------------------------------------------------------------------------------------

#: A fitted parameter is "not determined by the data" when its standard error exceeds this fraction of its value,
REL_STD_LIMIT = 1.0
#: when its correlation with another parameter exceeds this in magnitude,
CORRELATION_LIMIT = 0.99
#: or when it takes part in a direction of the column-scaled Jacobian with a condition number above this (a
#: combination of parameters the data fix a million times less well than the best-determined one); and when it
#: ended on a bound.
CONDITION_LIMIT = 1e6


@dataclass(frozen=True)
class Identifiability:
    r"""Identifiability diagnostics of a least-squares fit (:func:`identifiability`).

    ``condition_number``: :math:`\kappa = s_{max}/s_{min}` of the Jacobian with its columns scaled to unit norm
    (independent of the parameters' units; ``inf`` when a column is zero or the columns are dependent);
    ``correlated``: the pairs ``(a, b, corr)`` with :math:`|corr| >` :data:`CORRELATION_LIMIT`; ``undetermined``:
    label -> the reasons it is not determined by the data (empty when every parameter is).
    """

    condition_number: float
    correlated: list[tuple[str, str, float]]
    undetermined: dict[str, list[str]]

    @property
    def ok(self) -> bool:
        """Whether every fitted parameter is determined by the data (no reason listed)."""
        return not self.undetermined

    def message(self, model_name: str = "model") -> str:
        """One sentence naming every undetermined parameter with its reasons (empty when ``ok``)."""
        if self.ok:
            return ""
        items = "; ".join(f"{label} ({', '.join(reasons)})" for label, reasons in self.undetermined.items())
        return (
            f"{model_name}: parameter(s) not determined by the data: {items}. Fix or bound them, add experiments "
            "that excite them, or read their values as arbitrary"
        )

    def lines(self) -> list[str]:
        """Markdown bullet lines for the report."""
        out = [
            f"- condition number of the column-scaled Jacobian: {self.condition_number:.3g} "
            f"(near-singular above {CONDITION_LIMIT:.0e})"
        ]
        if self.ok:
            out.append(
                f"- every fitted parameter is determined by the data (relative std. error ≤ {REL_STD_LIMIT:.0%}, "
                f"|correlation| ≤ {CORRELATION_LIMIT}, none on a bound)"
            )
        else:
            out += [f"- WARNING: {label} is not determined: {', '.join(r)}" for label, r in self.undetermined.items()]
        return out


def identifiability(
    labels: list[str], x: np.ndarray, jacobian: np.ndarray, covariance: np.ndarray, at_bounds: list[str]
) -> Identifiability:
    r"""Which fitted parameters the data do not determine, from the Jacobian ``(m, n)`` of the residuals at the
    optimum ``x`` ``(n,)`` and the linearised covariance ``(n, n)``.

    A parameter is flagged when (thresholds: module constants) its standard error exceeds
    :data:`REL_STD_LIMIT` times :math:`|x|` or is undefined (NaN); its correlation with another exceeds
    :data:`CORRELATION_LIMIT` in magnitude; it is on a bound (``at_bounds``); the residuals do not depend on it
    (a zero Jacobian column); or the column-scaled Jacobian :math:`\tilde J = J\,\mathrm{diag}(1/\|J_{:k}\|)` has a
    condition number above :data:`CONDITION_LIMIT` and the parameter carries at least half of the largest
    component of the right singular vector of the smallest singular value (the undetermined combination).

    Parameters
    ----------
    labels:
        The fitted parameters' labels, ``(n,)``.
    x:
        Their values at the optimum, ``(n,)``.
    jacobian:
        ``(m, n)`` Jacobian of the residuals at ``x``.
    covariance:
        ``(n, n)`` linearised covariance (NaN where undefined).
    at_bounds:
        The labels that ended on a bound.
    """
    J = np.asarray(jacobian, dtype=float)
    x = np.asarray(x, dtype=float)
    n = len(labels)
    reasons: dict[str, list[str]] = {label: [] for label in labels}
    norms = np.linalg.norm(J, axis=0) if J.size else np.zeros(n)
    for j in np.flatnonzero(~(norms > 0)):
        reasons[labels[int(j)]].append("the residuals do not depend on it")
    ok = norms > 0
    kappa = math.inf
    if ok.all() and J.shape[0] >= n:
        _, s, vt = np.linalg.svd(J / norms, full_matrices=False)
        kappa = float(s[0] / s[-1]) if s[-1] > 0 else math.inf
        if kappa > CONDITION_LIMIT:
            v = np.abs(vt[-1])
            for j in np.flatnonzero(v >= 0.5 * v.max()):
                reasons[labels[int(j)]].append(f"Jacobian near-singular, condition number {kappa:.2g}")
    cov = np.asarray(covariance, dtype=float)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None)) if cov.size else np.full(n, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(se, se)
    for k, label in enumerate(labels):
        if not math.isfinite(se[k]):
            reasons[label].append("standard error undefined (singular Jacobian or no redundancy)")
        elif se[k] > REL_STD_LIMIT * abs(x[k]):
            rel = se[k] / abs(x[k]) if x[k] != 0 else math.inf
            reasons[label].append(f"relative std. error {rel:.3g} > {REL_STD_LIMIT:g}")
        if label in at_bounds:
            reasons[label].append("on a bound")
    correlated = [
        (labels[i], labels[j], float(corr[i, j]))
        for i in range(n)
        for j in range(i + 1, n)
        if math.isfinite(corr[i, j]) and abs(corr[i, j]) > CORRELATION_LIMIT
    ]
    for label in labels:  # name the strongest partner only, and how many more there are
        partners = [(abs(c), c, b if a == label else a) for a, b, c in correlated if label in (a, b)]
        if partners:
            _, c, other = max(partners)
            more = f" (and {len(partners) - 1} more)" if len(partners) > 1 else ""
            reasons[label].append(f"correlation {c:+.4f} with {other}{more}")
    return Identifiability(kappa, correlated, {k: v for k, v in reasons.items() if v})


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
    #: The least-squares problem (residuals of the parameter vector), kept for
    #: :func:`constitutive.calibrate.bayes.sample_posterior`; ``None`` for a result built by hand.
    problem: Any = field(default=None, repr=False, compare=False)

    @property
    def identifiability(self) -> Identifiability:
        """Identifiability diagnostics (:func:`identifiability`): condition number of the column-scaled Jacobian,
        strongly correlated pairs, and the parameters the data do not determine (``calibrate`` warns about them)."""
        return identifiability(self.free, self.x, self.jacobian, self.covariance, self.at_bounds)

    @property
    def condition_number(self) -> float:
        """Condition number of the Jacobian with its columns scaled to unit norm (``inf`` when singular)."""
        return self.identifiability.condition_number

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
        lines += ["", "## Identifiability", ""] + self.identifiability.lines()
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
