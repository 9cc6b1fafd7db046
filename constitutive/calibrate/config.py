"""Calibration config files (TOML): experiments from files and :func:`run_config`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..experiments import (
    Experiment,
)
from ..models.base import read_toml
from .fit import calibrate
from .result import CalibrationResult

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
    "mcmc",
    "multistart",
    "stable_range",
}
#: Keys of the optional ``[mcmc]`` table: keywords of :func:`constitutive.calibrate.bayes.sample_posterior`.
_MCMC_KEYS = {"nwalkers", "nsteps", "burn", "noise", "seed"}
#: Keys of a config's ``[multistart]`` table (:func:`constitutive.calibrate.multistart.calibrate_multistart`).
_MULTISTART_KEYS = {"starts", "sampling", "seed", "include_initial", "log_scale", "distinct_rtol", "cost_rtol"}
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
    "stress_unit",
}


def _resolve(file: str, base: Path) -> Path:
    from ..data import data_path

    p = Path(file)
    if not p.is_absolute() and (base / p).exists():
        return base / p
    return data_path(p)


def _stable_range(value: Any) -> tuple[float, float]:
    """The config's ``stable_range = [lambda_min, lambda_max]`` (checked again by the fit)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"calibration config: stable_range must be [lambda_min, lambda_max], got {value!r}")
    return float(value[0]), float(value[1])


def experiment_from_config(spec: Mapping[str, Any], base: Path = Path(".")) -> Experiment:
    """Build an :class:`Experiment` from one ``[[experiments]]`` table of a calibration config.

    ``mode = "tension_test"`` reads a tension test (:func:`constitutive.data.load_tension_test`; keys ``E``,
    ``points``, ``min_strain``, ``monotonic``, ``strain_column``, ``stress_column``) and fits its true curve up to
    the UTS as a uniaxial-stress experiment; any other mode reads columns ``x`` and ``y`` of a CSV file, scaled
    by ``x_scale``/``y_scale`` (e.g. 0.0980665 for kgf/cm² → MPa), optionally subsampled to ``points``.
    ``stress_unit``: the unit of the (scaled) stresses; default: the ``y`` column's unit from the file's units line
    when there is one and no ``y_scale``, else ``"MPa"``.
    """
    from ..data import load_tension_test, read_csv

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
            **({"stress_unit": str(spec["stress_unit"])} if "stress_unit" in spec else {}),
        )
    for key in ("x", "y"):
        if key not in spec:
            raise ValueError(f"experiment {name!r}: give the column names 'x' (load path) and 'y' (response)")
    table = read_csv(path, required=(str(spec["x"]), str(spec["y"])))
    file_unit = table.units.get(str(spec["y"]), "") if "y_scale" not in spec else ""
    exp = Experiment(
        name=name,
        mode=mode,
        x=table.column(str(spec["x"])) * float(spec.get("x_scale", 1.0)),
        y=table.column(str(spec["y"])) * float(spec.get("y_scale", 1.0)),
        weight=weight,
        source="\n".join(table.source),
        stress_unit=str(spec.get("stress_unit", file_unit or "MPa")),
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
    overwrite: bool = False,
    scheduler: Any = None,
    workers: int | None = None,
    **overrides: Any,
) -> tuple[CalibrationResult, dict[str, Path]]:
    """Run the calibration a TOML config describes; write ``<name>.toml`` (parameter file), ``<name>_report.md``
    and ``<name>.png`` into ``out``. Returns the result and the written paths.

    Parameters
    ----------
    config:
        The path of a TOML config, or the config itself as a mapping (keys below).
    out:
        The output folder (default: the config's folder; for a mapping, ``base``).
    verbose:
        Passed to :func:`calibrate` (default 1: one progress line per iteration).
    base:
        The folder relative data-file names are resolved against first (default: the config's folder, or the
        current folder for a mapping); a name not found there is looked up in the bundled data.
    overwrite:
        Replace existing outputs (default ``False``: refused).
    scheduler, workers:
        Where the starts of a ``[multistart]`` config run (:func:`constitutive.calibrate.parallel.run_tasks`;
        default: local processes); unused without ``[multistart]``.
    **overrides:
        Replace ``[fit]`` entries.

    ``<name>`` is the config's ``name``, else ``<config stem>_fit`` (``calibration`` for a mapping). A fit the
    optimizer did not report converged is written as ``<name>_not_converged.*``, so it never replaces a previous
    fit. Existing outputs are replaced only with ``overwrite=True``; an output that is the config or one of its
    data files is refused even then. Both checks run before the fit.

    Config keys: ``model`` (registered name), ``name`` (output stem), ``error``, ``relative_floor``,
    ``[options]``, ``[initial]``, ``fixed`` (list of names, or a ``[fixed]`` table of values), ``[bounds]``
    (``name = [lower, upper]``), ``[fit]`` (``max_nfev``, ``jacobian``, ``ftol``, ``xtol``, ``gtol``, ``loss``),
    ``[metadata]`` (copied into the parameter file) and ``[[experiments]]`` (:func:`experiment_from_config`).

    With an ``[mcmc]`` table (keys ``nwalkers``, ``nsteps``, ``burn``, ``noise`` -- a number or ``"estimate"`` --
    and ``seed``), the fit is followed by :func:`constitutive.calibrate.bayes.sample_posterior`, which writes
    ``<name>_posterior.npz`` (beside the parameter file) and ``<name>_posterior.png``, and the posterior table is
    added to the report.
    A ``[multistart]`` table (``starts``, ``sampling``, ``seed``, ``include_initial``, ``log_scale``,
    ``distinct_rtol``, ``cost_rtol``) runs :func:`~constitutive.calibrate.multistart.calibrate_multistart` instead
    of one fit: the outputs are those of the best fit, and the report starts with the table of distinct optima.
    ``stable_range = [lambda_min, lambda_max]``: a Drucker-stable hyperelastic fit over these stretches
    (:func:`calibrate`'s ``stable_range``, a penalty).
    """
    if not isinstance(config, (str, Path, Mapping)):
        raise ValueError(f"config must be a path to a TOML file or a mapping, got {type(config).__name__}")
    if isinstance(config, Mapping):
        cfg, base_dir = dict(config), Path(base or ".")
        stem_default = "calibration"
        inputs: list[Path] = []
    else:
        path = Path(config)
        if path.is_dir():
            raise IsADirectoryError(f"calibration config {path} is a folder, not a TOML file")
        if not path.exists():
            raise FileNotFoundError(f"no calibration config {path}")
        cfg, base_dir = read_toml(path), Path(base) if base else path.resolve().parent
        stem_default = f"{path.stem}_fit"
        inputs = [path]
    unknown = set(cfg) - _CONFIG_KEYS
    if unknown:
        raise ValueError(f"calibration config: unknown key(s) {sorted(unknown)}; known: {sorted(_CONFIG_KEYS)}")
    for key in ("model", "initial", "experiments"):
        if key not in cfg:
            raise ValueError(f"calibration config: missing {key!r}")
    if not isinstance(cfg["experiments"], list) or not all(isinstance(s, Mapping) for s in cfg["experiments"]):
        raise ValueError("calibration config: experiments must be an array of tables ([[experiments]])")
    experiments = [experiment_from_config(spec, base_dir) for spec in cfg["experiments"]]
    inputs += [_resolve(str(spec["file"]), base_dir) for spec in cfg["experiments"]]
    out_dir = Path(out) if out is not None else base_dir
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"output folder {out_dir} is a file")
    stem = str(cfg.get("name", stem_default))
    if not stem or Path(stem).name != stem:
        raise ValueError(f"calibration config: name = {stem!r} must be a plain file stem (no folders)")
    # check both possible names (converged or not) before the fit: a refusal should cost nothing
    from ..fileio import check_not_input, check_writable

    if not isinstance(cfg.get("mcmc", {}), Mapping):
        raise ValueError("calibration config: mcmc must be a table ([mcmc]) of sample_posterior settings")
    mcmc = dict(cfg.get("mcmc", {}))
    if set(mcmc) - _MCMC_KEYS:
        raise ValueError(f"[mcmc]: unknown key(s) {sorted(set(mcmc) - _MCMC_KEYS)}; known: {sorted(_MCMC_KEYS)}")
    suffixes = (".toml", "_report.md", ".png") + (("_posterior.npz", "_posterior.png") if "mcmc" in cfg else ())
    for s in (stem, f"{stem}_not_converged"):
        for suffix in suffixes:
            check_not_input(out_dir / f"{s}{suffix}", inputs)
    for suffix in suffixes:
        check_writable(out_dir / f"{stem}{suffix}", overwrite=overwrite)
    fit = {**dict(cfg.get("fit", {})), **overrides}
    allowed_fit = {"max_nfev", "jacobian", "ftol", "xtol", "gtol", "loss", "x_scale"}
    if set(fit) - allowed_fit:
        raise ValueError(f"[fit]: unknown key(s) {sorted(set(fit) - allowed_fit)}; known: {sorted(allowed_fit)}")
    bounds = {k: tuple(v) for k, v in dict(cfg.get("bounds", {})).items()}
    fit_fn, multistart_runs = _fit_function(cfg.get("multistart"), scheduler, workers)
    result = fit_fn(
        str(cfg["model"]),
        experiments,
        dict(cfg["initial"]),
        bounds=bounds or None,
        fixed=cfg.get("fixed"),
        options=dict(cfg.get("options", {})),
        error=str(cfg.get("error", "absolute")),
        relative_floor=float(cfg.get("relative_floor", 0.01)),
        verbose=verbose,
        stable_range=_stable_range(cfg["stable_range"]) if "stable_range" in cfg else None,
        **fit,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    if not result.success:
        stem = f"{stem}_not_converged"
    paths = {
        "parameters": out_dir / f"{stem}.toml",
        "report": out_dir / f"{stem}_report.md",
        "figure": out_dir / f"{stem}.png",
    }
    from ..fileio import atomic_write_text

    extra = ""
    if "mcmc" in cfg:
        paths["posterior"] = out_dir / f"{stem}_posterior.npz"
        paths["posterior_figure"] = out_dir / f"{stem}_posterior.png"
    for p in paths.values():
        check_writable(p, overwrite=overwrite)  # all of them before writing any
    if "mcmc" in cfg:
        from .bayes import sample_posterior

        posterior = sample_posterior(result, **mcmc)
        posterior.save(paths["posterior"], overwrite=overwrite)
        posterior.plot(paths["posterior_figure"], title=f"{result.model_name}: posterior", overwrite=overwrite)
        extra = (
            f"\n## Posterior (MCMC)\n\n{posterior.table()}\n\n![posterior]({paths['posterior_figure'].name})\n\n"
            f"Posterior samples: `{paths['posterior'].name}`\n"
        )
    result.save(paths["parameters"], overwrite=overwrite, **dict(cfg.get("metadata", {})))
    result.plot(paths["figure"], title=f"{result.model_name} fitted ({result.error} error)", overwrite=overwrite)
    atomic_write_text(
        paths["report"],
        (multistart_runs[0].report() if multistart_runs else result.report())
        + f"\n![fit]({paths['figure'].name})\n\nParameter file: `{paths['parameters'].name}`\n"
        + extra,
        overwrite=overwrite,
    )
    return result, paths


def _fit_function(multistart: Any, scheduler: Any, workers: int | None) -> tuple[Any, list[Any]]:
    """:func:`calibrate` without a ``[multistart]`` table; with one, a function of the same call that runs
    :func:`~constitutive.calibrate.multistart.calibrate_multistart` and returns its best fit (the
    :class:`MultiStartResult` is appended to the returned list, for the report)."""
    if multistart is None:
        return calibrate, []
    if not isinstance(multistart, Mapping) or set(multistart) - _MULTISTART_KEYS:
        bad = sorted(set(multistart) - _MULTISTART_KEYS) if isinstance(multistart, Mapping) else multistart
        raise ValueError(f"[multistart]: unknown key(s) {bad}; known: {sorted(_MULTISTART_KEYS)}")
    from .multistart import calibrate_multistart

    runs: list[Any] = []

    def best(model: Any, experiments: Any, initial: Any, *, verbose: int | bool = 0, **kwargs: Any) -> Any:
        multi = calibrate_multistart(
            model,
            experiments,
            initial,
            scheduler=scheduler,
            workers=workers,
            progress=bool(verbose),
            **dict(multistart),
            **kwargs,
        )
        runs.append(multi)
        return multi.best

    return best, runs
