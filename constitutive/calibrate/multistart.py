r"""Multi-start calibration: :func:`calibrate_multistart` runs :func:`~constitutive.calibrate.calibrate` from many
starts spread over the bounds and reports the distinct optima it reaches.

**Starts.** The free parameters' box :math:`[l_j, u_j]` (the ``bounds`` given, else the range the model declares,
as in :func:`calibrate`; every free parameter needs finite bounds) is filled with ``starts`` points of a scrambled
Sobol' sequence (``sampling="sobol"``, :class:`scipy.stats.qmc.Sobol`) or a Latin hypercube (``"lhs"``,
:class:`scipy.stats.qmc.LatinHypercube`), both seeded by ``seed``: the same seed gives the same starts and the same
table. A start :math:`s\in[0,1)^n` maps to :math:`\theta_j = l_j + s_j (u_j - l_j)`, or log-uniformly,
:math:`\theta_j = l_j (u_j/l_j)^{s_j}`, for the labels in ``log_scale`` (positive bounds: parameters spanning
decades, e.g. a Voce rate). The given ``initial`` is start 0 unless ``include_initial=False``, so a multi-start fit
is never worse than the plain one. Every fit runs with the same explicit bounds.

**Distinct optima.** The end points are grouped in order of increasing cost ½Σr²: an end point joins the first
group whose best member is within ``distinct_rtol`` in every scaled coordinate :math:`(\theta_j - l_j)/(u_j - l_j)`
(log-scaled for ``log_scale``) *and* within ``cost_rtol`` in cost (relative to the larger, with an absolute floor
of 1e-12 times the largest cost); otherwise it starts a new group. A start the model rejects (e.g. an Ogden start
with Σμ_pα_p ≤ 0) or whose fit fails is recorded as a failure, not an optimum. ``best``: the lowest-cost end point
among the converged fits (among all when none converged).

Starts are independent tasks: they run through :func:`constitutive.calibrate.parallel.run_tasks` (serial, local
processes or a Dask cluster; bit-identical results).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..experiments import Experiment
from ..models.base import Material
from .fit import _check_inputs
from .parallel import CalibrationTask, TaskFailure, run_calibration, run_tasks
from .parameters import _factory, _ParameterSpace
from .result import CalibrationResult

SAMPLINGS = ("sobol", "lhs")

__all__ = ["SAMPLINGS", "MultiStartResult", "Optimum", "calibrate_multistart", "sample_starts"]


def sample_starts(
    lower: np.ndarray,
    upper: np.ndarray,
    n: int,
    *,
    sampling: str = "sobol",
    seed: int = 0,
    log: Sequence[bool] | np.ndarray = (),
) -> np.ndarray:
    """``n`` points ``(n, d)`` in the box ``[lower, upper]``.

    Parameters
    ----------
    lower, upper:
        ``(d,)`` finite bounds, lower < upper.
    n:
        Number of points (a positive integer).
    sampling:
        ``"sobol"`` (scrambled Sobol' sequence, default) or ``"lhs"`` (Latin hypercube), :mod:`scipy.stats.qmc`.
    seed:
        Seed of the sequence (the same seed gives the same points).
    log:
        ``(d,)`` flags: coordinates spread log-uniformly (positive bounds), :math:`l (u/l)^s`.
    """
    from scipy.stats import qmc

    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    if sampling not in SAMPLINGS:
        raise ValueError(f"unknown sampling {sampling!r}; choose one of {SAMPLINGS}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the number of starts must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    d = lower.size
    log_mask = np.zeros(d, dtype=bool) if len(log) == 0 else np.asarray(log, dtype=bool)
    if sampling == "sobol":
        with warnings.catch_warnings():  # n need not be a power of two here: the balance warning is noise
            warnings.simplefilter("ignore", UserWarning)
            s = qmc.Sobol(d, scramble=True, rng=np.random.default_rng(seed)).random(n)
    else:
        s = qmc.LatinHypercube(d, rng=np.random.default_rng(seed)).random(n)
    x = lower + s * (upper - lower)
    if log_mask.any():
        lo, hi = lower[log_mask], upper[log_mask]
        x[:, log_mask] = lo * (hi / lo) ** s[:, log_mask]
    return x


@dataclass
class Optimum:
    """One distinct optimum: ``rank`` (0 = lowest cost), its best member's ``x`` (free values), ``parameters``
    (all, plain numbers), ``cost`` (½Σr²), ``total_rms`` (data units), ``starts`` (indices of the starts that ended
    here), ``converged`` (how many of them the optimiser reported converged) and ``result`` (the best member's
    :class:`CalibrationResult`)."""

    rank: int
    x: np.ndarray
    parameters: dict[str, float | list[float]]
    cost: float
    total_rms: float
    starts: list[int]
    converged: int
    result: CalibrationResult

    @property
    def count(self) -> int:
        """How many starts reached this optimum."""
        return len(self.starts)


@dataclass
class MultiStartResult:
    """What :func:`calibrate_multistart` found: ``best`` (a :class:`CalibrationResult`), ``optima`` (distinct, by
    increasing cost), ``start_points`` ``(k, n)`` (free values of each start, in ``labels`` order), ``results``
    (per start: a :class:`CalibrationResult` or a :class:`~constitutive.calibrate.parallel.TaskFailure`),
    ``lower``/``upper`` (the box), ``sampling``, ``seed``, ``distinct_rtol``, ``cost_rtol``, ``elapsed_s``."""

    best: CalibrationResult
    optima: list[Optimum]
    labels: list[str]
    start_points: np.ndarray
    results: list[CalibrationResult | TaskFailure]
    lower: np.ndarray
    upper: np.ndarray
    sampling: str
    seed: int
    distinct_rtol: float
    cost_rtol: float
    log_scale: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def failures(self) -> list[TaskFailure]:
        """The starts that failed (the model rejected them, or the fit raised)."""
        return [r for r in self.results if isinstance(r, TaskFailure)]

    def table(self, digits: int = 5) -> str:
        """Markdown table of the distinct optima: rank, cost ½Σr², total rms, how many starts reached it (and how many
        of those converged), the free parameters."""
        head = "| optimum | cost ½Σr² | total rms | starts | converged | " + " | ".join(self.labels) + " |"
        rows = [head, "|" + "---|" * (5 + len(self.labels))]
        for o in self.optima:
            values = " | ".join(f"{v:.{digits}g}" for v in o.x)
            mark = " (best)" if o.result is self.best else ""
            rows.append(f"| {o.rank}{mark} | {o.cost:.6g} | {o.total_rms:.4g} | {o.count} | {o.converged} | {values} |")
        return "\n".join(rows)

    def report(self) -> str:
        """Markdown: settings, the table of distinct optima, failed starts, then the best fit's report."""
        k = len(self.results)
        lines = [
            f"# Multi-start calibration of {self.best.model_name}",
            "",
            f"- {k} starts ({self.sampling}, seed {self.seed}) in the box "
            + ", ".join(f"{lab} ∈ [{lo:.4g}, {hi:.4g}]" for lab, lo, hi in zip(self.labels, self.lower, self.upper))
            + (f" (log-uniform: {', '.join(self.log_scale)})" if self.log_scale else ""),
            f"- {len(self.optima)} distinct optima (scaled parameters within {self.distinct_rtol:g} and cost within "
            f"{self.cost_rtol:g}); {len(self.failures)} start(s) failed; {self.elapsed_s:.1f} s",
            "",
            "## Distinct optima",
            "",
            self.table(),
            "",
        ]
        if self.failures:
            lines += ["## Failed starts", ""] + [f"- start {f}" for f in self.failures] + [""]
        lines += [self.best.report().replace("# Calibration of", "# Best fit: calibration of", 1)]
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: starts, distinct optima, best cost."""
        return (
            f"{self.best.model_name}: {len(self.results)} starts, {len(self.optima)} distinct optima, best cost "
            f"{self.best.cost:.6g} reached by {self.optima[0].count if self.optima else 0} start(s)"
        )

    def save(self, path: str | Path, *, overwrite: bool = False, **metadata: Any) -> Path:
        """The best fit as a ``materials/`` parameter file (:meth:`CalibrationResult.save`), with the multi-start
        settings and the number of distinct optima in its ``[material]`` table."""
        info = {
            "multistart": f"{len(self.results)} starts ({self.sampling}, seed {self.seed}), "
            f"{len(self.optima)} distinct optima, best reached by {self.optima[0].count} start(s)",
        }
        info.update(metadata)
        return self.best.save(path, overwrite=overwrite, **info)

    def plot(self, path: str | Path | None = None, *, title: str | None = None, overwrite: bool = False) -> Any:
        """Figure: left, every distinct optimum as a line through its scaled free parameters
        :math:`(\\theta_j - l_j)/(u_j - l_j)` (parallel coordinates; labelled with its cost and count); right, the final
        cost of every start, sorted. Written to ``path`` when given (atomically, ``overwrite`` as elsewhere);
        returns the matplotlib figure."""
        import matplotlib

        from ..fileio import atomic_path, check_writable

        if path is not None:
            check_writable(path, overwrite=overwrite)
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax, axc) = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [3, 2]})
        cmap = plt.get_cmap("viridis")
        for o in reversed(self.optima):
            u = self._scaled(o.x)
            colour = cmap(o.rank / max(1, len(self.optima) - 1))
            ax.plot(
                range(len(self.labels)),
                u,
                "o-",
                color=colour,
                lw=2.2 if o.rank == 0 else 1.2,
                label=f"#{o.rank}: cost {o.cost:.4g}, {o.count} start(s)",
            )
        ax.set_xticks(range(len(self.labels)), self.labels, rotation=30)
        ax.set_ylabel("scaled parameter (θ − lower)/(upper − lower)")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(f"{len(self.optima)} distinct optima")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the lines, not over them
        costs = np.sort([r.cost for r in self.results if isinstance(r, CalibrationResult)])
        axc.plot(np.arange(1, costs.size + 1), costs, "k.-", ms=5)
        if costs.size and costs.min() > 0:
            axc.set_yscale("log")
        axc.set_xlabel("start, sorted by final cost")
        axc.set_ylabel("final cost ½Σr²")
        axc.set_title(f"{costs.size} fits, {len(self.failures)} failed start(s)")
        axc.grid(alpha=0.3)
        fig.suptitle(title or f"multi-start {self.best.model_name} ({self.sampling}, seed {self.seed})")
        fig.tight_layout()
        if path is not None:
            try:
                with atomic_path(path, overwrite=overwrite) as tmp:
                    fig.savefig(tmp, dpi=110)
            finally:
                plt.close(fig)
        return fig

    def _scaled(self, x: np.ndarray) -> np.ndarray:
        return _scale(np.asarray(x, dtype=float), self.lower, self.upper, self._log_mask())

    def _log_mask(self) -> np.ndarray:
        return np.array([lab in self.log_scale for lab in self.labels], dtype=bool)


def _scale(x: np.ndarray, lower: np.ndarray, upper: np.ndarray, log: np.ndarray) -> np.ndarray:
    u = (x - lower) / (upper - lower)
    if log.any():
        u[..., log] = np.log(x[..., log] / lower[log]) / np.log(upper[log] / lower[log])
    return u


def calibrate_multistart(
    model: type[Material] | str | Callable[..., Material],
    experiments: Experiment | Sequence[Experiment],
    initial: Mapping[str, Any],
    *,
    starts: int = 16,
    sampling: str = "sobol",
    seed: int = 0,
    include_initial: bool = True,
    log_scale: Iterable[str] = (),
    distinct_rtol: float = 1e-3,
    cost_rtol: float = 1e-6,
    bounds: Mapping[str, Sequence[float]] | None = None,
    fixed: Mapping[str, Any] | Iterable[str] | None = None,
    options: Mapping[str, Any] | None = None,
    scheduler: Any = None,
    workers: int | None = None,
    progress: bool | Callable[[int, int], None] | None = False,
    **calibrate_kwargs: Any,
) -> MultiStartResult:
    """Fit from ``starts`` points spread over the bounds (plus ``initial``) and report the distinct optima
    (module docstring).

    Parameters
    ----------
    model, experiments, initial:
        As for :func:`calibrate`; ``initial`` gives the fixed values, the series lengths and start 0.
    starts:
        Number of sampled starts (default 16; a power of two keeps a Sobol' sequence balanced).
    sampling:
        ``"sobol"`` (default, scrambled) or ``"lhs"`` (Latin hypercube).
    seed:
        Seed of the sequence: the same seed gives the same starts and the same results.
    include_initial:
        Also fit from ``initial`` (start 0; default ``True``).
    log_scale:
        Free labels sampled log-uniformly (their bounds must be positive).
    distinct_rtol, cost_rtol:
        Two end points are the same optimum when every scaled parameter differs by at most ``distinct_rtol``
        (default 1e-3) and the costs by at most ``cost_rtol`` relative (default 1e-6).
    bounds, fixed, options:
        As for :func:`calibrate`; every free parameter needs finite bounds (given, or declared by the model).
    scheduler, workers, progress:
        Where the fits run (:func:`~constitutive.calibrate.parallel.run_tasks`; default: local processes).
    **calibrate_kwargs:
        Passed to every :func:`calibrate` (``error``, ``max_nfev``, ``ftol`` ...; no ``callback`` when parallel).

    Raises ``ValueError`` for unbounded free parameters (naming them), a bad sampling, seed or tolerance, and
    what :func:`calibrate` refuses (checked on ``initial`` before any start runs).
    """
    start_time = time.perf_counter()
    experiments = _check_inputs(experiments, calibrate_kwargs.get("error", "absolute"), "reverse")
    for name, tol in (("distinct_rtol", distinct_rtol), ("cost_rtol", cost_rtol)):
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (math.isfinite(tol) and tol >= 0):
            raise ValueError(f"{name} must be a non-negative finite number, got {tol!r}")
    if not isinstance(initial, Mapping) or not initial:
        raise ValueError(f"initial must be a non-empty mapping of parameter names to starting values, got {initial!r}")
    dtype = calibrate_kwargs.get("dtype", torch.float64)
    if fixed is not None and not isinstance(fixed, (Mapping, str)):
        fixed = list(fixed)  # read twice (here and by every start): an iterator would be empty the second time
    space = _ParameterSpace(initial, fixed, bounds)
    make, model_name = _factory(model, dict(options or {}), dtype)
    x0 = space.x0()
    try:
        with torch.no_grad():
            first = make(**space.values(torch.tensor(x0, dtype=dtype)))
    except ValueError as err:
        raise ValueError(f"{model_name} rejects the initial parameters: {err}") from err
    space.apply_declared_bounds(first)
    labels = space.labels
    lower, upper = space.bounds()
    open_ = [
        f"{lab} ∈ [{lo:g}, {hi:g}]" for lab, lo, hi in zip(labels, lower, upper) if not np.isfinite([lo, hi]).all()
    ]
    if open_:
        raise ValueError(
            "multi-start samples its starts inside the bounds: give finite bounds for "
            + ", ".join(open_)
            + " (bounds={'name': (lower, upper)})"
        )
    log_labels = list(log_scale) if not isinstance(log_scale, str) else [log_scale]
    unknown = [lab for lab in log_labels if lab not in labels]
    if unknown:
        raise ValueError(f"log_scale names {unknown}, which are not among the free parameters {labels}")
    log = np.array([lab in log_labels for lab in labels], dtype=bool)
    if log.any() and not (lower[log] > 0).all():
        bad = [lab for lab, lo in zip(labels, lower) if lab in log_labels and lo <= 0]
        raise ValueError(f"log_scale needs positive lower bounds; {bad} have lower bounds <= 0")
    points = sample_starts(lower, upper, starts, sampling=sampling, seed=seed, log=log)
    if include_initial:
        points = np.vstack([x0[None, :], points])

    # every start runs with the same explicit bounds (the given ones and the declared ranges resolved above)
    all_bounds = {lab: (float(lo), float(hi)) for lab, lo, hi in zip(labels, lower, upper)}
    kwargs = dict(calibrate_kwargs, bounds=all_bounds, fixed=fixed, options=options)
    notes = [msg for e in experiments for msg in e.plausibility()]
    for msg in notes:  # once here; the starts run with these warnings silenced
        warnings.warn(msg, UserWarning, stacklevel=2)
    tasks = [
        CalibrationTask(model, experiments, _start(initial, space, x), dict(kwargs), catch=True, tag=i)
        for i, x in enumerate(points)
    ]
    results = run_tasks(run_calibration, tasks, workers=workers, scheduler=scheduler, progress=progress)
    for r in results:
        if isinstance(r, CalibrationResult):
            r.warnings = list(notes)
    fits = [(i, r) for i, r in enumerate(results) if isinstance(r, CalibrationResult)]
    if not fits:
        reasons = "; ".join(str(r) for r in results[:3])
        raise ValueError(f"every start failed (first: {reasons})")
    optima = _distinct(fits, lower, upper, log, distinct_rtol, cost_rtol)
    converged = [o for o in optima if o.converged]
    best = min(converged or optima, key=lambda o: (o.cost, o.starts[0])).result
    return MultiStartResult(
        best=best,
        optima=optima,
        labels=labels,
        start_points=points,
        results=results,
        lower=lower,
        upper=upper,
        sampling=sampling,
        seed=int(seed),
        distinct_rtol=float(distinct_rtol),
        cost_rtol=float(cost_rtol),
        log_scale=log_labels,
        elapsed_s=time.perf_counter() - start_time,
    )


def _start(initial: Mapping[str, Any], space: _ParameterSpace, x: np.ndarray) -> dict[str, Any]:
    """The ``initial`` mapping of one start: the given names, free entries replaced by ``x``."""
    plain = space.plain(x)
    return {name: plain[name] for name in initial}


def _distinct(
    fits: list[tuple[int, CalibrationResult]],
    lower: np.ndarray,
    upper: np.ndarray,
    log: np.ndarray,
    distinct_rtol: float,
    cost_rtol: float,
) -> list[Optimum]:
    """Group end points by increasing cost (ties by start index): join the first group whose best member is close
    in every scaled coordinate and in cost, else open a new one."""
    order = sorted(fits, key=lambda f: (f[1].cost, f[0]))
    floor = 1e-12 * max(max(r.cost for _, r in fits), 1e-300)
    groups: list[list[tuple[int, CalibrationResult]]] = []
    for i, r in order:
        u = _scale(np.asarray(r.x, dtype=float), lower, upper, log)
        for g in groups:
            ref = g[0][1]
            u_ref = _scale(np.asarray(ref.x, dtype=float), lower, upper, log)
            same_x = bool(np.all(np.abs(u - u_ref) <= distinct_rtol))
            same_cost = abs(r.cost - ref.cost) <= cost_rtol * max(r.cost, ref.cost) + floor
            if same_x and same_cost:
                g.append((i, r))
                break
        else:
            groups.append([(i, r)])
    return [
        Optimum(
            rank=k,
            x=np.asarray(g[0][1].x, dtype=float),
            parameters=g[0][1].parameters,
            cost=g[0][1].cost,
            total_rms=g[0][1].total_rms,
            starts=sorted(i for i, _ in g),
            converged=sum(1 for _, r in g if r.success),
            result=g[0][1],
        )
        for k, g in enumerate(groups)
    ]
