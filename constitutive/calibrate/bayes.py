r"""Bayesian posteriors of a calibration by Markov chain Monte Carlo: :func:`sample_posterior` and
:class:`Posterior`.

Noise model (the likelihood). The residuals :math:`r_i(\theta)` are those the least-squares fit minimises
(:func:`constitutive.calibrate.calibrate`, its ``error`` measure and experiment weights), and they are taken as
independent Gaussian errors of one standard deviation :math:`\sigma` *in that residual scale*:

.. math::

    \ln p(y\mid\theta,\sigma) = -m\ln\sigma - \frac{1}{2\sigma^2}\sum_{i=1}^m r_i(\theta)^2 + \text{const},

so a data point :math:`y_i` scatters about the model by :math:`\sigma/s_i` in data units, :math:`s_i` the
residual scale of the point (:math:`\sqrt{w_e}` for the absolute error: :math:`\sigma` is then in stress units).
:math:`\sigma` is

* ``noise=None`` (default): the fit's residual standard deviation :math:`s = \sqrt{\sum r_i^2/(m-n)}` at the
  optimum, held fixed (the plug-in value the Laplace covariance :math:`s^2(J^TJ)^{-1}` uses, so the two compare
  directly);
* ``noise=<number>``: given, held fixed;
* ``noise="estimate"``: sampled with :math:`\theta` as the extra coordinate :math:`\ln\sigma` under the Jeffreys
  prior :math:`p(\sigma)\propto 1/\sigma` (flat in :math:`\ln\sigma`); it appears as the parameter ``noise_sigma``.

Prior on :math:`\theta`: ``"uniform-in-bounds"`` (default) is flat on the fit's bounds (those given to
``calibrate`` and the model's declared admissible ranges; an open side makes it improper, which is harmless when
the data determine the parameter); a callable ``prior(theta) -> float`` is a log density of the free vector
``theta`` ``(n,)`` (order of ``result.free``) added to it, so the bounds stay the support.

Sampler: the affine-invariant ensemble sampler of ``emcee`` (Foreman-Mackey et al., PASP 125 (2013) 306; the
``bayes`` extra, ``pip install 'constitutive[bayes]'``), walkers started from draws of the Laplace approximation
:math:`N(\hat\theta, \mathrm{Cov})` of the fit (a small ball when that covariance is undefined), each redrawn until
it lies inside the bounds with a finite posterior.

Batched evaluation: emcee hands half the ensemble to the log posterior at once (``vectorize=True``). When every
fitted parameter is a scalar, the model is built once with each free parameter a column ``(B, 1)`` and the
experiments' responses are evaluated for all ``B`` walkers in one call; this is checked once, at the start, against
the one-model-per-walker evaluation (agreement to 1e-9 relative), and used only if it agrees (J2 plasticity with
an isotropic law under monotonic uniaxial stress: yes). Otherwise (series parameters such as Ogden's ``mu``, models
whose parameters must be 0-d) each walker is evaluated in a Python loop; ``Posterior.batched`` says which. A
batch in which one walker's parameters are inadmissible for the model falls back to the loop for that batch.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..experiments import Experiment
from ..experiments.experiment import as_numpy
from ..models.base import ConvergenceError
from ..tensor import Tensor
from .result import CalibrationResult

__all__ = ["Band", "Posterior", "sample_posterior", "NOISE_LABEL"]

#: The label of the noise standard deviation when it is sampled (``noise="estimate"``).
NOISE_LABEL = "noise_sigma"

#: What a model raises for parameters it rejects (as in the fit: such a point gets zero posterior).
_INADMISSIBLE = (ValueError, ConvergenceError, torch.linalg.LinAlgError)
#: What a model may raise when it cannot take a batch of parameters (shape mismatches and the like).
_NO_BATCH = (*_INADMISSIBLE, RuntimeError, TypeError, IndexError)


def _emcee() -> Any:
    try:
        import emcee
    except ImportError as err:  # pragma: no cover - emcee is in the test extra
        raise ImportError(
            "constitutive.calibrate.bayes needs emcee >= 3.1, which is not installed: "
            "pip install 'constitutive[bayes]' (or pip install emcee)"
        ) from err
    return emcee


class _NotBatched(Exception):
    """The model or a response cannot take a batch of parameter vectors (or gives other numbers)."""


# --------------------------------------------------------------------------------------------------------------
# Model evaluation for many parameter vectors
# --------------------------------------------------------------------------------------------------------------


class _Evaluator:
    """Predictions and residuals of the fit's problem for ``B`` parameter vectors at once (batched or looped)."""

    def __init__(self, problem: Any) -> None:
        self.problem = problem
        self.space = problem.space
        self.dtype = problem.dtype
        self.batched = False
        self.batch_note = "not checked"

    def _values(self, theta: Tensor) -> dict[str, Tensor]:
        """Constructor keywords for a batch ``theta`` ``(B, n)``: each free scalar a column ``(B, 1)``."""
        out: dict[str, Tensor] = {}
        k = 0
        for e in self.space.entries:
            if e.index is not None:
                raise _NotBatched(f"series parameter {e.param!r}")
            if e.free:
                out[e.param] = theta[:, k : k + 1]
                k += 1
            else:
                out[e.param] = torch.tensor(e.value, dtype=self.dtype)
        return out

    def _predict_batched(self, theta: np.ndarray, xs: Sequence[Tensor | None]) -> list[np.ndarray]:
        B = theta.shape[0]
        with torch.no_grad():
            model = self.problem.make(**self._values(torch.as_tensor(theta, dtype=self.dtype)))
            preds = [e.predict(model, x) for e, x in zip(self.problem.experiments, xs)]
        out = []
        for e, x, p in zip(self.problem.experiments, xs, preds):
            n = len(e) if x is None else int(torch.as_tensor(x).shape[0])
            if tuple(p.shape) != (B, n):
                raise _NotBatched(f"response of {e.name!r} has shape {tuple(p.shape)}, not ({B}, {n})")
            out.append(as_numpy(p))
        return out

    def _predict_one(self, theta: np.ndarray, xs: Sequence[Tensor | None]) -> list[np.ndarray] | None:
        """Predictions at one parameter vector ``(n,)``; ``None`` if the model rejects it."""
        try:
            with torch.no_grad():
                model = self.problem.build(torch.as_tensor(theta, dtype=self.dtype))
                return [as_numpy(e.predict(model, x)) for e, x in zip(self.problem.experiments, xs)]
        except _INADMISSIBLE:
            return None

    def _predict_loop(self, theta: np.ndarray, xs: Sequence[Tensor | None]) -> list[np.ndarray]:
        sizes = [
            len(e) if x is None else int(torch.as_tensor(x).shape[0]) for e, x in zip(self.problem.experiments, xs)
        ]
        out = [np.full((theta.shape[0], n), np.nan) for n in sizes]
        for b in range(theta.shape[0]):
            preds = self._predict_one(theta[b], xs)
            if preds is not None:
                for k, p in enumerate(preds):
                    out[k][b] = p
        return out

    def check_batching(self, theta: np.ndarray) -> None:
        """Use the batched route only if it runs and agrees with the loop at the given vectors ``(B, n)``."""
        xs = [None] * len(self.problem.experiments)
        try:
            batched = self._predict_batched(theta, xs)
        except _NotBatched as err:
            self.batched, self.batch_note = False, f"looped over walkers: {err}"
            return
        except _NO_BATCH as err:
            self.batched, self.batch_note = False, f"looped over walkers: the model does not take a batch ({err})"
            return
        looped = self._predict_loop(theta, xs)
        for e, a, b in zip(self.problem.experiments, batched, looped):
            scale = max(float(np.nanmax(np.abs(b))), 1e-300)
            if not np.allclose(a, b, rtol=1e-9, atol=1e-9 * scale, equal_nan=True):
                self.batched = False
                self.batch_note = f"looped over walkers: the batched response of {e.name!r} differs from the loop"
                return
        self.batched, self.batch_note = True, "batched over walkers (checked against the loop)"

    def predict(self, theta: np.ndarray, xs: Sequence[Tensor | None] | None = None) -> list[np.ndarray]:
        """Predictions per experiment, ``(B, n_e)`` arrays for ``theta`` ``(B, n)``; NaN rows where inadmissible."""
        xs = [None] * len(self.problem.experiments) if xs is None else list(xs)
        if self.batched:
            try:
                return self._predict_batched(theta, xs)
            except (*_NO_BATCH, _NotBatched):
                pass  # one walker's parameters spoil the batch: evaluate them one by one
        return self._predict_loop(theta, xs)

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        """Residuals ``(B, m)`` in the fit's measure (NaN rows where inadmissible)."""
        preds = self.predict(theta)
        parts = [
            (p - as_numpy(y)[None, :]) * as_numpy(s)[None, :]
            for p, y, s in zip(preds, self.problem.targets, self.problem.scales)
        ]
        return np.concatenate(parts, axis=1)


# --------------------------------------------------------------------------------------------------------------
# The posterior
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Band:
    """A pointwise credible band of an experiment's model curve (:meth:`Posterior.band`): ``x`` ``(k,)``, the
    ``lower`` / ``median`` / ``upper`` quantiles ``(k,)`` over the posterior draws, ``best`` ``(k,)`` the
    least-squares curve; ``predictive``: the band includes the measurement noise (at the data points)."""

    experiment: str
    level: float
    x: np.ndarray
    lower: np.ndarray
    median: np.ndarray
    upper: np.ndarray
    best: np.ndarray
    predictive: bool
    draws: int


@dataclass
class Posterior:
    r"""MCMC samples of the posterior of a calibration (:func:`sample_posterior`).

    ``labels``: the sampled coordinates, the fit's free labels, then :data:`NOISE_LABEL` when ``noise="estimate"``
    (the noise standard deviation :math:`\sigma`, in the residual scale); ``chain`` ``(steps, walkers, k)``: the
    samples after burn-in; ``log_prob`` ``(steps, walkers)``: their log posterior; ``acceptance_fraction``
    ``(walkers,)``; ``autocorr_time`` ``(k,)``: emcee's integrated autocorrelation time in steps, and
    ``autocorr_reliable`` / ``autocorr_note``: whether the chain is at least 50 τ long (emcee's criterion; a shorter
    chain gives a rough τ, stated in the note and the table); ``x_opt`` ``(n,)`` and ``laplace_covariance``
    ``(n, n)``: the least-squares optimum and its linearised covariance; ``noise``: ``"fit"`` (the fit's s held
    fixed), ``"given"`` or ``"estimate"``; ``sigma``: the fixed σ (``None`` when sampled); ``batched``: whether
    the walkers were evaluated in batches (else a loop; ``batch_note`` says why).
    """

    labels: list[str]
    chain: np.ndarray
    log_prob: np.ndarray
    acceptance_fraction: np.ndarray
    autocorr_time: np.ndarray
    autocorr_reliable: bool
    autocorr_note: str
    x_opt: np.ndarray
    laplace_covariance: np.ndarray
    noise: str
    sigma: float | None
    model_name: str
    error: str
    experiments: list[str]
    nwalkers: int
    nsteps: int
    burn: int
    seed: int | None
    prior: str
    batched: bool
    batch_note: str
    elapsed_s: float
    parameters: dict[str, Any] = field(default_factory=dict)
    #: The calibration result the chain was sampled from (``None`` after :meth:`load` without ``result=``).
    result: CalibrationResult | None = field(default=None, repr=False, compare=False)

    # -- samples and statistics ----------------------------------------------------------------------------------
    @property
    def samples(self) -> np.ndarray:
        """The chain flattened over steps and walkers, ``(steps * walkers, k)``."""
        return self.chain.reshape(-1, self.chain.shape[-1])

    @property
    def n_model(self) -> int:
        """The number of model parameters among the sampled coordinates (``k`` less the noise σ if sampled)."""
        return len(self.labels) - (1 if self.noise == "estimate" else 0)

    def _stat(self, values: np.ndarray) -> dict[str, float]:
        return {label: float(v) for label, v in zip(self.labels, values)}

    @property
    def mean(self) -> dict[str, float]:
        """Posterior mean per coordinate."""
        return self._stat(self.samples.mean(axis=0))

    @property
    def std(self) -> dict[str, float]:
        """Posterior standard deviation per coordinate."""
        return self._stat(self.samples.std(axis=0, ddof=1))

    @property
    def covariance(self) -> np.ndarray:
        """Posterior covariance ``(k, k)`` of the sampled coordinates."""
        return np.atleast_2d(np.cov(self.samples, rowvar=False))

    @property
    def correlation(self) -> np.ndarray:
        """Posterior correlation matrix ``(k, k)``."""
        c = self.covariance
        d = np.sqrt(np.diag(c))
        return c / np.outer(d, d)

    def quantiles(self, q: Sequence[float] = (0.025, 0.5, 0.975)) -> dict[str, np.ndarray]:
        """Posterior quantiles ``q`` (fractions in [0, 1]) per coordinate, each an array ``(len(q),)``."""
        qs = np.asarray(q, dtype=float)
        if qs.ndim != 1 or not np.all((qs >= 0) & (qs <= 1)):
            raise ValueError(f"quantiles must be fractions in [0, 1], got {q!r}")
        values = np.quantile(self.samples, qs, axis=0)
        return {label: values[:, k] for k, label in enumerate(self.labels)}

    @property
    def mc_error(self) -> dict[str, float]:
        r"""Monte Carlo standard error of each posterior mean: the larger of :math:`\mathrm{std}\sqrt{\tau/N}`
        (``N`` samples, τ emcee's autocorrelation time, which averages over walkers and so misses the correlation
        between them that the ensemble moves create) and the batch-means estimate, the spread of the ensemble
        average over 10 consecutive blocks of steps divided by :math:`\sqrt{10}` (which includes it)."""
        steps, n = self.chain.shape[0], self.samples.shape[0]
        std = self.samples.std(axis=0, ddof=1)
        tau = np.where(np.isfinite(self.autocorr_time), np.maximum(self.autocorr_time, 1.0), steps)
        err = std * np.sqrt(tau / n)
        if steps >= 20:
            blocks = np.array_split(self.chain, 10, axis=0)
            means = np.stack([b.reshape(-1, b.shape[-1]).mean(axis=0) for b in blocks])
            err = np.maximum(err, means.std(axis=0, ddof=1) / math.sqrt(10))
        return self._stat(err)

    def table(self) -> str:
        """Markdown table: least-squares value ± Laplace std, posterior mean, std, 2.5 / 50 / 97.5 % quantiles and
        the autocorrelation time per coordinate, followed by the sampler's settings and diagnostics."""
        q = self.quantiles((0.025, 0.5, 0.975))
        mean, std = self.mean, self.std
        lap = np.sqrt(np.clip(np.diag(self.laplace_covariance), 0.0, None))
        rows = [
            "| parameter | least squares ± Laplace std | posterior mean | posterior std | 2.5 % | median | 97.5 % "
            "| τ |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for k, label in enumerate(self.labels):
            ls = f"{self.x_opt[k]:.6g} ± {lap[k]:.3g}" if k < self.n_model else "–"
            rows.append(
                f"| {label} | {ls} | {mean[label]:.6g} | {std[label]:.3g} | {q[label][0]:.6g} | {q[label][1]:.6g} "
                f"| {q[label][2]:.6g} | {self.autocorr_time[k]:.3g} |"
            )
        if self.noise == "estimate":
            noise = f"σ sampled ({NOISE_LABEL}, Jeffreys prior)"
        else:
            origin = "the fit's residual std" if self.noise == "fit" else "given"
            noise = f"σ = {self.sigma:.4g} fixed ({origin})"
        rows += [
            "",
            f"- {self.model_name}, {self.error} residuals, Gaussian iid noise in the residual scale: {noise}; "
            f"prior {self.prior}",
            f"- emcee ensemble sampler: {self.nwalkers} walkers, {self.nsteps} steps, {self.burn} burn-in, "
            f"{self.samples.shape[0]} samples; mean acceptance fraction "
            f"{float(np.mean(self.acceptance_fraction)):.2f}; "
            f"{self.batch_note}; {self.elapsed_s:.1f} s",
            f"- autocorrelation time: {self.autocorr_note}",
        ]
        return "\n".join(rows)

    # -- bands and figure ----------------------------------------------------------------------------------------
    def _require_result(self, what: str) -> CalibrationResult:
        if self.result is None or self.result.problem is None:
            raise ValueError(
                f"Posterior.{what} evaluates the model: it needs the calibration result "
                "(Posterior.load(path, result=...) re-attaches one)"
            )
        return self.result

    def _experiment(self, experiment: Experiment | str | int) -> tuple[int, Experiment]:
        result = self._require_result("band")
        exps = result.experiments
        if isinstance(experiment, Experiment):
            names = [e.name for e in exps]
            if experiment.name not in names:
                raise ValueError(f"experiment {experiment.name!r} is not one of the fitted experiments {names}")
            k = names.index(experiment.name)
        elif isinstance(experiment, str):
            names = [e.name for e in exps]
            if experiment not in names:
                raise ValueError(f"no fitted experiment named {experiment!r}; the experiments are {names}")
            k = names.index(experiment)
        elif isinstance(experiment, (int, np.integer)) and not isinstance(experiment, bool):
            if not 0 <= int(experiment) < len(exps):
                raise ValueError(f"experiment index {experiment} out of range (0..{len(exps) - 1})")
            k = int(experiment)
        else:
            raise ValueError(f"experiment must be an Experiment, its name or its index, got {experiment!r}")
        return k, exps[k]

    def band(
        self,
        experiment: Experiment | str | int,
        level: float = 0.95,
        *,
        x: Any = None,
        draws: int = 200,
        predictive: bool = False,
        seed: int | None = 0,
    ) -> Band:
        r"""Pointwise credible band of ``experiment``'s model curve at ``level`` (e.g. 0.95: the 2.5 % and 97.5 %
        quantiles), from ``draws`` posterior samples evaluated at once (batched when ``batched``).

        Parameters
        ----------
        experiment:
            A fitted experiment, its name or its index.
        level:
            Central probability of the band, in (0, 1).
        x:
            Load path ``(k,)`` to evaluate on (default: the experiment's data points).
        draws:
            Number of posterior samples drawn (without replacement; at most the number of samples).
        predictive:
            Add the measurement noise, :math:`\sigma/s_i` at data point ``i`` (posterior predictive band of a
            new measurement); only at the data points (``x=None``).
        seed:
            Seed of the draw.
        """
        result = self._require_result("band")
        k, exp = self._experiment(experiment)
        if not (isinstance(level, (int, float)) and 0 < level < 1):
            raise ValueError(f"level must be a probability in (0, 1), got {level!r}")
        if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 2:
            raise ValueError(f"draws must be an integer >= 2, got {draws!r}")
        if predictive and x is not None:
            raise ValueError("a predictive band adds the noise of the data points: give x=None")
        rng = np.random.default_rng(seed)
        flat = self.samples
        idx = rng.choice(flat.shape[0], size=min(int(draws), flat.shape[0]), replace=False)
        theta = flat[idx, : self.n_model]
        grid = None if x is None else torch.as_tensor(np.asarray(x, dtype=float), dtype=torch.float64)
        xs: list[Tensor | None] = [None] * len(result.experiments)
        xs[k] = grid
        evaluator = _Evaluator(result.problem)
        evaluator.batched, evaluator.batch_note = self.batched, self.batch_note
        curves = evaluator.predict(theta, xs)[k]
        best = evaluator.predict(self.x_opt[None, :], xs)[k][0]
        if predictive:
            sig = flat[idx, -1] if self.noise == "estimate" else np.full(len(idx), float(self.sigma or 0.0))
            scale = as_numpy(result.problem.scales[k])
            curves = curves + rng.standard_normal(curves.shape) * sig[:, None] / scale[None, :]
        ok = np.isfinite(curves).all(axis=1)
        if not ok.any():
            raise ValueError(f"the model rejects every posterior draw on this load path of {exp.name!r}")
        curves = curves[ok]
        tail = 0.5 * (1.0 - level)
        lo, mid, hi = np.quantile(curves, [tail, 0.5, 1.0 - tail], axis=0)
        xv = as_numpy(exp.x) if grid is None else as_numpy(grid)
        return Band(exp.name, float(level), xv, lo, mid, hi, best, bool(predictive), int(ok.sum()))

    def plot(
        self,
        path: str | Path | None = None,
        *,
        level: float = 0.95,
        draws: int = 200,
        points: int = 200,
        marginals: bool = True,
        predictive: bool = True,
        title: str | None = None,
        overwrite: bool = False,
    ) -> Any:
        """Figure: per experiment the data, the least-squares curve and the ``level`` credible band of the model
        curve on a grid of ``points`` (the data points for a non-monotonic path), with ``predictive`` also the
        posterior predictive band at the data points (model and noise); with ``marginals``, a second row of
        histograms of each coordinate's posterior with the Laplace normal approximation.

        Parameters
        ----------
        path:
            Where to write the figure (default: not written).
        level:
            Central probability of the bands.
        draws:
            Posterior samples per band.
        points:
            Grid points of the credible band of the curve.
        marginals:
            Add the row of marginal histograms.
        predictive:
            Add the predictive band at the data points.
        title:
            Figure title.
        overwrite:
            Replace an existing ``path``.

        Written to ``path`` when given (atomically; over an existing file only with ``overwrite=True``); returns
        the matplotlib figure.
        """
        import matplotlib

        from ..fileio import atomic_path, check_writable

        result = self._require_result("plot")
        if path is not None:
            check_writable(path, overwrite=overwrite)
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        exps = result.experiments
        nrows = 2 if marginals else 1
        width = 4.2 * max(len(exps), 2 if marginals else 1, 0.7 * len(self.labels) if marginals else 0)
        fig = plt.figure(figsize=(width, 3.6 * nrows), layout="constrained")
        sub = fig.subfigures(nrows, 1, squeeze=False)[:, 0] if nrows > 1 else [fig]
        axes = sub[0].subplots(1, len(exps), squeeze=False)[0]
        for ax, exp in zip(axes, exps):
            x = as_numpy(exp.x)
            fine = exp.monotonic and "dt" not in exp.settings
            lo = min(0.0, x[0]) if exp.mode == "uniaxial_stress" else min(1.0, x[0])
            grid = np.linspace(lo, float(x[-1]), points) if fine else None
            if grid is not None and exp.mode == "uniaxial_stress":
                grid = grid[1:]
            if predictive:
                bp = self.band(exp, level, draws=draws, predictive=True)
                ax.fill_between(
                    bp.x, bp.lower, bp.upper, color="C2", alpha=0.2, lw=0, label=f"{level:.0%} predictive (with noise)"
                )
            b = self.band(exp, level, x=grid, draws=draws)
            ax.fill_between(b.x, b.lower, b.upper, color="C1", alpha=0.5, lw=0, label=f"{level:.0%} credible band")
            ax.plot(x, as_numpy(exp.y), "o", ms=3, mfc="none", color="k", label="data")
            ax.plot(b.x, b.best, "-", color="C0", lw=1.2, label="least squares")
            ax.set_xlabel(exp.x_label)
            ax.set_ylabel(exp.y_label)
            ax.set_title(exp.name)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        if marginals:
            maxes = sub[1].subplots(1, len(self.labels), squeeze=False)[0]
            flat = self.samples
            lap = np.sqrt(np.clip(np.diag(self.laplace_covariance), 0.0, None))
            for k, (ax, label) in enumerate(zip(maxes, self.labels)):
                ax.hist(flat[:, k], bins=50, density=True, color="C1", alpha=0.6, label="MCMC")
                if k < self.n_model and math.isfinite(lap[k]) and lap[k] > 0:
                    t = np.linspace(flat[:, k].min(), flat[:, k].max(), 200)
                    pdf = np.exp(-0.5 * ((t - self.x_opt[k]) / lap[k]) ** 2) / (lap[k] * math.sqrt(2 * math.pi))
                    ax.plot(t, pdf, "-", color="C0", lw=1.2, label="Laplace")
                ax.set_xlabel(label)
                ax.set_yticks([])
                ax.legend(fontsize=7)
        if title:
            fig.suptitle(title)
        if path is not None:
            try:
                with atomic_path(path, overwrite=overwrite) as tmp:
                    fig.savefig(tmp, dpi=110)
            finally:
                plt.close(fig)
        return fig

    # -- files ---------------------------------------------------------------------------------------------------
    _ARRAYS = ("chain", "log_prob", "acceptance_fraction", "autocorr_time", "x_opt", "laplace_covariance")
    _META = (
        "labels",
        "autocorr_reliable",
        "autocorr_note",
        "noise",
        "sigma",
        "model_name",
        "error",
        "experiments",
        "nwalkers",
        "nsteps",
        "burn",
        "seed",
        "prior",
        "batched",
        "batch_note",
        "elapsed_s",
        "parameters",
    )

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the posterior to ``path`` (a ``.npz`` file: the arrays, and the settings as JSON in ``meta``),
        atomically; over an existing file only with ``overwrite=True``. Save it beside the parameter file
        (``CalibrationResult.save``), e.g. ``fit.toml`` and ``fit_posterior.npz``."""
        from ..fileio import atomic_path

        p = Path(path)
        if p.suffix != ".npz":
            raise ValueError(f"a posterior is saved as a .npz file, got {str(path)!r}")
        arrays: dict[str, Any] = {name: np.asarray(getattr(self, name)) for name in self._ARRAYS}
        meta = {name: getattr(self, name) for name in self._META}
        meta["format"] = "constitutive.calibrate.bayes.Posterior 1"
        with atomic_path(p, overwrite=overwrite) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)
        return p

    @classmethod
    def load(cls, path: str | Path, *, result: CalibrationResult | None = None) -> Posterior:
        """Read a posterior written by :meth:`save`; ``result`` (the calibration it was sampled from, same free
        labels) re-attaches the model for :meth:`band` and :meth:`plot`."""
        with np.load(Path(path), allow_pickle=False) as data:
            if "meta" not in data.files:
                raise ValueError(f"{path} is not a posterior written by Posterior.save (no 'meta' entry)")
            meta = json.loads(str(data["meta"]))
            arrays: dict[str, Any] = {name: np.array(data[name]) for name in cls._ARRAYS}
        meta.pop("format", None)
        post = cls(**arrays, **meta)
        if result is not None:
            if list(result.free) != post.labels[: post.n_model]:
                raise ValueError(
                    f"the result's free parameters {result.free} are not the posterior's {post.labels[: post.n_model]}"
                )
            post.result = result
        return post


# --------------------------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------------------------


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def sample_posterior(
    result: CalibrationResult | Any,
    *,
    nwalkers: int = 32,
    nsteps: int = 2000,
    burn: int = 500,
    noise: None | float | str = None,
    prior: str | Callable[[np.ndarray], float] = "uniform-in-bounds",
    seed: int | None = 0,
    progress: bool = False,
    start: Any = None,
) -> Posterior:
    r"""Sample the Bayesian posterior of a calibration's free parameters with emcee (module docstring: the
    likelihood, the noise model, the prior and the batching).

    Parameters
    ----------
    result:
        A :class:`~constitutive.calibrate.CalibrationResult` of :func:`~constitutive.calibrate.calibrate` (its
        ``problem`` gives the residuals), or that problem itself together with ``start``.
    nwalkers:
        Number of walkers of the ensemble (at least twice the number of sampled coordinates; default 32).
    nsteps:
        Steps of every walker (default 2000).
    burn:
        Steps discarded at the start (default 500; less than ``nsteps``).
    noise:
        ``None`` (default: the fit's residual std s held fixed), a positive number (σ given, in the residual
        scale: stress units for the absolute error), or ``"estimate"`` (σ sampled, Jeffreys prior).
    prior:
        ``"uniform-in-bounds"`` (default) or a callable ``prior(theta) -> float``, a log density of the free vector
        ``(n,)`` added on the bounds.
    seed:
        Seed of the initial walkers and of the sampler (default 0; ``None``: fresh randomness).
    progress:
        Show emcee's progress bar (needs tqdm).
    start:
        With a problem instead of a result: the free vector ``(n,)`` to start around (a ball of relative radius
        1e-3).

    Returns
    -------
    Posterior
        The chain after burn-in and its diagnostics.
    """
    emcee = _emcee()
    problem, x_opt, cov = _problem_and_start(result, start)
    n = x_opt.size
    estimate = noise == "estimate"
    ndim = n + (1 if estimate else 0)
    if isinstance(nwalkers, (int, np.integer)) and not isinstance(nwalkers, bool) and nwalkers < 2 * ndim:
        raise ValueError(f"nwalkers must be at least twice the {ndim} sampled coordinates (emcee), got {nwalkers}")
    nwalkers = _check_int("nwalkers", nwalkers, 2 * ndim)
    nsteps = _check_int("nsteps", nsteps, 2)
    burn = _check_int("burn", burn, 0)
    if burn >= nsteps:
        raise ValueError(f"burn ({burn}) must be less than nsteps ({nsteps})")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValueError(f"seed must be an integer or None, got {seed!r}")
    if isinstance(prior, str):
        if prior != "uniform-in-bounds":
            raise ValueError(f"prior must be 'uniform-in-bounds' or a callable log density, got {prior!r}")
        log_prior_fn = None
        prior_text = "uniform in the bounds"
    elif callable(prior):
        log_prior_fn = prior
        prior_text = f"{getattr(prior, '__name__', 'callable')} on the bounds"
    else:
        raise ValueError(f"prior must be 'uniform-in-bounds' or a callable log density, got {prior!r}")
    lower, upper = problem.space.bounds()
    evaluator = _Evaluator(problem)
    r_opt = evaluator._predict_loop(x_opt[None, :], [None] * len(problem.experiments))
    r0 = np.concatenate([(p[0] - as_numpy(y)) * as_numpy(s) for p, y, s in zip(r_opt, problem.targets, problem.scales)])
    m = r0.size
    if not np.isfinite(r0).all():
        raise ValueError(f"{problem.model_name} rejects the starting parameters {x_opt.tolist()}")
    s_fit = math.sqrt(float(r0 @ r0) / (m - n)) if m > n else math.nan
    if noise is None:
        if not (math.isfinite(s_fit) and s_fit > 0):
            raise ValueError(
                "noise=None takes the fit's residual std s = sqrt(Σr²/(m−n)), which is undefined here "
                f"(m = {m} residuals, n = {n} parameters, Σr² = {float(r0 @ r0):.3g}): give noise= or 'estimate'"
            )
        sigma, noise_kind = s_fit, "fit"
    elif estimate:
        sigma, noise_kind = None, "estimate"
    elif isinstance(noise, str):
        raise ValueError(f"noise must be None, a positive number or 'estimate', got {noise!r}")
    else:
        try:
            sigma = float(noise)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"noise must be None, a positive number or 'estimate', got {noise!r}") from None
        if isinstance(noise, bool) or not (math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"noise must be a positive finite standard deviation, got {noise!r}")
        noise_kind = "given"

    def log_prob(p: np.ndarray) -> np.ndarray:
        p = np.atleast_2d(p)
        theta = p[:, :n]
        lp = np.where(np.all((theta >= lower) & (theta <= upper), axis=1), 0.0, -np.inf)
        if log_prior_fn is not None:
            for b in np.flatnonzero(np.isfinite(lp)):
                lp[b] += float(log_prior_fn(theta[b].copy()))
        out = np.full(p.shape[0], -np.inf)
        ok = np.isfinite(lp)
        if ok.any():
            r = evaluator.residuals(theta[ok])
            S = np.sum(r * r, axis=1)
            if estimate:
                ln_s = p[ok, n]
                ll = -m * ln_s - 0.5 * S * np.exp(-2.0 * ln_s)
            else:
                ll = -0.5 * S / sigma**2  # type: ignore[operator]
            ll = np.where(np.isfinite(ll), ll, -np.inf)
            out[ok] = lp[ok] + ll
        return out

    rng = np.random.default_rng(seed)
    p0 = _initial_walkers(rng, nwalkers, x_opt, cov, lower, upper, s_fit, m - n, estimate, log_prob)
    evaluator.check_batching(p0[: min(3, nwalkers), :n])
    sampler = emcee.EnsembleSampler(nwalkers, ndim, log_prob, vectorize=True)
    sampler.random_state = np.random.RandomState(None if seed is None else int(seed) % 2**32).get_state()
    t0 = time.perf_counter()
    sampler.run_mcmc(p0, nsteps, progress=progress)
    elapsed = time.perf_counter() - t0
    chain = sampler.get_chain(discard=burn)
    log_p = sampler.get_log_prob(discard=burn)
    labels = list(problem.space.labels)
    if estimate:
        chain = chain.copy()
        chain[..., n] = np.exp(chain[..., n])  # report σ, sampled as ln σ
        labels.append(NOISE_LABEL)
    tau, reliable, note = _autocorr(emcee, sampler, burn)
    return Posterior(
        labels=labels,
        chain=chain,
        log_prob=log_p,
        acceptance_fraction=np.asarray(sampler.acceptance_fraction),
        autocorr_time=tau,
        autocorr_reliable=reliable,
        autocorr_note=note,
        x_opt=x_opt,
        laplace_covariance=cov,
        noise=noise_kind,
        sigma=sigma,
        model_name=problem.model_name,
        error=problem.error,
        experiments=[e.name for e in problem.experiments],
        nwalkers=nwalkers,
        nsteps=nsteps,
        burn=burn,
        seed=None if seed is None else int(seed),
        prior=prior_text,
        batched=evaluator.batched,
        batch_note=evaluator.batch_note,
        elapsed_s=elapsed,
        parameters=dict(result.parameters) if isinstance(result, CalibrationResult) else {},
        result=result if isinstance(result, CalibrationResult) else None,
    )


def _problem_and_start(result: Any, start: Any) -> tuple[Any, np.ndarray, np.ndarray]:
    """The fit's problem, the starting vector and the Laplace covariance (NaN if unknown)."""
    from .fit import _Problem

    if isinstance(result, CalibrationResult):
        if result.problem is None:
            raise ValueError(
                "this CalibrationResult carries no problem (it was not made by calibrate): "
                "sample_posterior needs the fit's residuals"
            )
        if start is not None:
            raise ValueError("start is for a problem; a CalibrationResult starts at its optimum")
        x = np.asarray(result.x, dtype=float)
        return result.problem, x, np.asarray(result.covariance, dtype=float)
    if isinstance(result, _Problem):
        if start is None:
            raise ValueError("sampling a problem needs start= (the free vector to start around)")
        x = np.asarray(start, dtype=float).reshape(-1)
        if x.size != len(result.space.labels):
            raise ValueError(f"start has {x.size} values, the problem {len(result.space.labels)} free parameters")
        return result, x, np.full((x.size, x.size), np.nan)
    raise ValueError(f"sample_posterior needs a CalibrationResult (from calibrate), got {type(result).__name__}")


def _initial_walkers(
    rng: np.random.Generator,
    nwalkers: int,
    x: np.ndarray,
    cov: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    s_fit: float,
    dof: int,
    estimate: bool,
    log_prob: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Walkers ``(nwalkers, ndim)`` from the Laplace approximation (a small ball when it is undefined), redrawn
    until every one lies in the bounds with a finite posterior; halving the spread after repeated failures."""
    n = x.size
    try:
        L = np.linalg.cholesky(cov) if np.all(np.isfinite(cov)) else None
    except np.linalg.LinAlgError:
        L = None
    if L is None:
        L = np.diag(1e-3 * np.maximum(np.abs(x), 1e-6))
    ln_s = math.log(s_fit) if math.isfinite(s_fit) and s_fit > 0 else 0.0
    sd_ln_s = 1.0 / math.sqrt(2.0 * max(dof, 1))
    p0 = np.empty((nwalkers, n + (1 if estimate else 0)))
    todo = np.arange(nwalkers)
    spread = 1.0
    for attempt in range(60):
        z = rng.standard_normal((todo.size, n))
        p0[todo, :n] = x + spread * z @ L.T
        if estimate:
            p0[todo, n] = ln_s + spread * sd_ln_s * rng.standard_normal(todo.size)
        good = np.isfinite(log_prob(p0[todo]))
        todo = todo[~good]
        if todo.size == 0:
            return p0
        if attempt % 10 == 9:
            spread *= 0.5
    raise ValueError(
        f"could not place {todo.size} of {nwalkers} walkers at admissible parameters near {x.tolist()} "
        "(inside the bounds, with a finite likelihood)"
    )


def _autocorr(emcee: Any, sampler: Any, burn: int) -> tuple[np.ndarray, bool, str]:
    """emcee's integrated autocorrelation time after burn-in; its "chain too short" error becomes a note."""
    steps = sampler.iteration - burn
    try:
        tau = np.asarray(sampler.get_autocorr_time(discard=burn), dtype=float)
        return tau, True, f"max τ = {np.nanmax(tau):.3g} steps; chain of {steps} steps ≥ 50 τ (emcee's criterion)"
    except emcee.autocorr.AutocorrError as err:
        tau = np.asarray(err.tau, dtype=float)
        return (
            tau,
            False,
            f"max τ ≈ {np.nanmax(tau):.3g} steps, a rough estimate: the chain of {steps} steps is shorter than 50 τ "
            "(emcee's criterion); run more steps for reliable Monte Carlo errors",
        )
