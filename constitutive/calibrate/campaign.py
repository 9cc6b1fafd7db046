r"""Test campaigns: many specimens, each fitted on its own and all jointly (:class:`Campaign`, :class:`CampaignResult`).

A **specimen** (:class:`Specimen`) is a set of experiments on one piece of material with its metadata: material,
test kind, temperature (°C), lot. A **campaign** is a list of specimens, built from files
(:meth:`Campaign.from_files`, one tension test per file) or from a folder with a ``campaign.toml`` manifest
(:meth:`Campaign.from_folder`). Its specimens are fitted

* **each** on its own: ``calibrate(model, specimen.experiments, initial, ...)``, exactly the plain call, one
  independent task per specimen (run in parallel by :func:`~constitutive.calibrate.parallel.run_tasks`);
* **jointly**: one :func:`calibrate` over the experiments of every specimen (experiment names prefixed with the
  specimen's when they clash): the one parameter set that fits the whole lot.

The result's table lists each specimen's fitted parameters and rms error, their mean, standard deviation (sample,
n − 1) and coefficient of variation CV = ``std / abs(mean)`` across specimens, and the joint fit beside them; the figure
shows each parameter's scatter over the specimens. Specimens of different materials are not fitted together:
:meth:`Campaign.by_material` splits a campaign, :meth:`Campaign.fit_materials` fits each material with the model its
manifest names.

Manifest (``campaign.toml``; relative file names are looked up next to it, then in the bundled data)::

    name = "tension_2022"                 # the campaign's name (output stem); default: the folder's name
    description = "..."                   # free text

    [defaults]                            # keys every specimen takes unless it sets its own
    mode = "tension_test"
    points = 100

    [[specimens]]
    name = "St1594"                       # unique
    material = "steel"                    # specimens are grouped by material
    test = "tension"                      # test kind (free text)
    temperature = 20.0                    # °C (optional)
    lot = "A"                             # optional
    notes = "..."                         # optional
    file = "tension_St1594.csv"           # one experiment: the keys of a calibration config's [[experiments]]
    E = 210000.0                          #   (file, mode, E, points, x, y, y_scale, ...), or several:
    # [[specimens.experiments]]           #   an array of such tables
    # file = "..."

    [models.steel]                        # the fit of every specimen of this material: a calibration config's
    model = "J2Plasticity"                # keys (model, error, relative_floor, [options], [initial], [fixed],
    [models.steel.options]                # [bounds], [fit]) without [[experiments]]
    hardening = "voce"
    ...

Unknown keys are refused with the list of known ones.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..experiments import Experiment
from ..experiments.experiment import as_numpy
from ..models.base import Material
from .config import _EXPERIMENT_KEYS, experiment_from_config
from .parallel import CalibrationTask, run_calibration, run_tasks
from .result import CalibrationResult

MANIFEST = "campaign.toml"
_SPECIMEN_KEYS = {"name", "material", "test", "temperature", "lot", "notes", "experiments"}
_MANIFEST_KEYS = {"name", "description", "defaults", "specimens", "models"}
_MODEL_KEYS = {"model", "error", "relative_floor", "options", "initial", "fixed", "bounds", "fit"}
_FIT_KEYS = {"max_nfev", "jacobian", "ftol", "xtol", "gtol", "loss", "x_scale"}

__all__ = ["MANIFEST", "Campaign", "CampaignResult", "Specimen"]


@dataclass
class Specimen:
    """One specimen: ``name`` (unique in its campaign), its ``experiments`` (a non-empty list, unique names), and
    metadata: ``material`` (specimens are grouped by it), ``test`` (test kind, e.g. ``"tension"``),
    ``temperature`` (°C, or ``None`` when not stated), ``lot``, ``notes``. ``ValueError`` for an empty name, no
    experiments, duplicate experiment names or a non-finite temperature."""

    name: str
    experiments: list[Experiment]
    material: str = ""
    test: str = ""
    temperature: float | None = None
    lot: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"a specimen needs a non-empty name, got {self.name!r}")
        if isinstance(self.experiments, Experiment):
            self.experiments = [self.experiments]
        self.experiments = list(self.experiments)
        if not self.experiments or not all(isinstance(e, Experiment) for e in self.experiments):
            raise ValueError(f"specimen {self.name!r}: experiments must be a non-empty list of Experiment objects")
        names = [e.name for e in self.experiments]
        if len(set(names)) != len(names):
            raise ValueError(f"specimen {self.name!r}: experiment names must be unique, got {names}")
        if self.temperature is not None:
            t = self.temperature
            if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
                raise ValueError(f"specimen {self.name!r}: temperature (°C) must be a finite number, got {t!r}")
            self.temperature = float(t)
        for key in ("material", "test", "lot", "notes"):
            if not isinstance(getattr(self, key), str):
                raise ValueError(f"specimen {self.name!r}: {key} must be a string, got {getattr(self, key)!r}")


class Campaign:
    """A set of specimens (module docstring), with the fit settings per material from a manifest (``models``).

    Parameters
    ----------
    specimens:
        :class:`Specimen` s with unique names.
    name:
        The campaign's name (the output stem of the command line).
    models:
        ``{material: fit settings}`` (a calibration config's keys without ``experiments``), used by
        :meth:`fit_materials`; optional.
    description:
        Free text.
    """

    def __init__(
        self,
        specimens: Sequence[Specimen],
        *,
        name: str = "campaign",
        models: Mapping[str, Mapping[str, Any]] | None = None,
        description: str = "",
    ) -> None:
        specimens = list(specimens)
        if not specimens:
            raise ValueError("a campaign needs at least one specimen")
        bad = [type(s).__name__ for s in specimens if not isinstance(s, Specimen)]
        if bad:
            raise ValueError(f"specimens must be Specimen objects, got {', '.join(bad)}")
        names = [s.name for s in specimens]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"specimen names must be unique in a campaign; repeated: {dup}")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"a campaign needs a non-empty name, got {name!r}")
        self.specimens, self.name, self.description = specimens, name, description
        self.models: dict[str, dict[str, Any]] = {}
        for material, spec in dict(models or {}).items():
            self.models[material] = _check_model_spec(material, spec)

    def __len__(self) -> int:
        return len(self.specimens)

    def __repr__(self) -> str:
        return f"Campaign({self.name!r}, specimens={[s.name for s in self.specimens]}, materials={self.materials})"

    @property
    def materials(self) -> list[str]:
        """The materials of the specimens, in order of first appearance."""
        return list(dict.fromkeys(s.material for s in self.specimens))

    def by_material(self) -> dict[str, Campaign]:
        """One campaign per material (named ``<name>_<material>``), keeping the specimens' order."""
        return {
            m: Campaign(
                [s for s in self.specimens if s.material == m],
                name=f"{self.name}_{_slug(m)}" if m else self.name,
                models={m: self.models[m]} if m in self.models else None,
                description=self.description,
            )
            for m in self.materials
        }

    # ---------------------------------------------------------------------------------------------- building

    @classmethod
    def from_files(
        cls,
        files: Iterable[str | Path],
        *,
        material: str = "",
        test: str = "tension",
        temperature: float | None = None,
        lot: str = "",
        name: str = "campaign",
        **experiment: Any,
    ) -> Campaign:
        """One specimen per tension-test file, named by the file (``tension_St1594.csv`` → ``St1594``).

        Parameters
        ----------
        files:
            Tension-test files (:func:`constitutive.data.load_tension_test`; a relative name not found is looked up
            in the bundled data).
        material, test, temperature, lot:
            The metadata of every specimen (temperature in °C, or ``None``).
        name:
            The campaign's name.
        **experiment:
            Keywords of :meth:`constitutive.data.TensionTest.experiment` (``E``, ``points``, ``min_strain``,
            ``monotonic``).
        """
        if isinstance(files, (str, Path)):
            files = [files]
        unknown = set(experiment) - {"E", "points", "min_strain", "monotonic"}
        if unknown:
            raise ValueError(
                f"from_files: unknown keyword(s) {sorted(unknown)}; known: E, points, min_strain, monotonic"
            )
        specimens = []
        for f in files:
            spec = {"file": str(f), "mode": "tension_test", "name": Path(f).stem.removeprefix("tension_"), **experiment}
            exp = experiment_from_config(spec, Path("."))
            specimens.append(Specimen(exp.name, [exp], material=material, test=test, temperature=temperature, lot=lot))
        return cls(specimens, name=name)

    @classmethod
    def from_folder(cls, folder: str | Path) -> Campaign:
        """The campaign a folder's ``campaign.toml`` manifest describes (module docstring)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise NotADirectoryError(f"campaign folder {folder} does not exist or is not a folder")
        manifest = folder / MANIFEST
        if not manifest.exists():
            raise FileNotFoundError(f"campaign folder {folder} has no {MANIFEST} manifest")
        return cls.from_manifest(manifest)

    @classmethod
    def from_manifest(cls, path: str | Path) -> Campaign:
        """The campaign a ``campaign.toml`` manifest describes (files relative to its folder)."""
        from ..models.base import read_toml

        path = Path(path)
        cfg = read_toml(path)
        where = f"campaign manifest {path}"
        unknown = set(cfg) - _MANIFEST_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(_MANIFEST_KEYS)}")
        specs = cfg.get("specimens")
        if not isinstance(specs, list) or not specs or not all(isinstance(s, Mapping) for s in specs):
            raise ValueError(f"{where}: give the specimens as an array of tables ([[specimens]])")
        defaults = dict(cfg.get("defaults", {}))
        bad = set(defaults) - (_SPECIMEN_KEYS - {"name", "experiments"}) - _EXPERIMENT_KEYS
        if bad:
            raise ValueError(f"{where}: [defaults]: unknown key(s) {sorted(bad)}")
        specimens = [_specimen(dict(defaults, **spec), path.parent, where) for spec in specs]
        models = cfg.get("models", {})
        if not isinstance(models, Mapping):
            raise ValueError(f"{where}: models must be tables [models.<material>]")
        return cls(
            specimens,
            name=str(cfg.get("name", path.parent.name or "campaign")),
            models=models,
            description=str(cfg.get("description", "")),
        )

    # ---------------------------------------------------------------------------------------------- fitting

    def _single_material(self) -> str:
        if len(self.materials) > 1:
            raise ValueError(
                f"campaign {self.name!r} holds specimens of several materials {self.materials}: fit each material "
                "on its own (campaign.by_material(), or fit_materials() with a model per material)"
            )
        return self.materials[0]

    def joint_experiments(self) -> list[Experiment]:
        """Every specimen's experiments in one list; an experiment is renamed ``<specimen>/<experiment>`` unless its
        name is the specimen's own (the one-experiment shorthand), so the names stay unique."""
        out = []
        for s in self.specimens:
            for e in s.experiments:
                out.append(e if e.name == s.name else dataclasses.replace(e, name=f"{s.name}/{e.name}"))
        names = [e.name for e in out]
        if len(set(names)) != len(names):
            raise ValueError(f"campaign {self.name!r}: experiment names clash in the joint fit: {names}")
        return out

    def fit_each(
        self,
        model: type[Material] | str | Callable[..., Material],
        initial: Mapping[str, Any],
        *,
        scheduler: Any = None,
        workers: int | None = None,
        progress: bool | Callable[[int, int], None] | None = False,
        **calibrate_kwargs: Any,
    ) -> list[CalibrationResult]:
        """Each specimen fitted on its own; results in specimen order.

        Parameters
        ----------
        model, initial:
            As for :func:`calibrate`: each specimen's fit is ``calibrate(model, specimen.experiments, initial,
            **calibrate_kwargs)``.
        scheduler, workers, progress:
            Where the fits run (:func:`~constitutive.calibrate.parallel.run_tasks`; default: local processes).
        **calibrate_kwargs:
            Passed to every :func:`calibrate`.
        """
        tasks = [CalibrationTask(model, s.experiments, dict(initial), dict(calibrate_kwargs)) for s in self.specimens]
        return run_tasks(run_calibration, tasks, workers=workers, scheduler=scheduler, progress=progress)

    def fit_joint(
        self,
        model: type[Material] | str | Callable[..., Material],
        initial: Mapping[str, Any],
        **calibrate_kwargs: Any,
    ) -> CalibrationResult:
        """One fit over every specimen's experiments (:meth:`joint_experiments`), in this process."""
        from .fit import calibrate

        self._single_material()
        return calibrate(model, self.joint_experiments(), initial, **calibrate_kwargs)

    def fit(
        self,
        model: type[Material] | str | Callable[..., Material],
        initial: Mapping[str, Any],
        *,
        joint: bool = True,
        scheduler: Any = None,
        workers: int | None = None,
        progress: bool | Callable[[int, int], None] | None = False,
        **calibrate_kwargs: Any,
    ) -> CampaignResult:
        """Each specimen on its own and (``joint``) all jointly, as independent tasks of one :func:`run_tasks` run;
        a :class:`CampaignResult`. One material only (``ValueError`` otherwise).

        Parameters
        ----------
        model, initial:
            As for :func:`calibrate`, the same for every specimen.
        joint:
            Also fit all specimens jointly (default ``True``).
        scheduler, workers, progress:
            Where the fits run (:func:`~constitutive.calibrate.parallel.run_tasks`).
        **calibrate_kwargs:
            Passed to every :func:`calibrate` (``bounds``, ``fixed``, ``options``, ``error``, ...).
        """
        material = self._single_material()
        tasks = [CalibrationTask(model, s.experiments, dict(initial), dict(calibrate_kwargs)) for s in self.specimens]
        if joint:
            tasks.append(CalibrationTask(model, self.joint_experiments(), dict(initial), dict(calibrate_kwargs)))
        results = run_tasks(run_calibration, tasks, workers=workers, scheduler=scheduler, progress=progress)
        each = results[: len(self.specimens)]
        return CampaignResult(
            name=self.name,
            material=material,
            specimens=list(self.specimens),
            each=each,
            joint=results[-1] if joint else None,
        )

    def fit_materials(
        self,
        *,
        joint: bool = True,
        scheduler: Any = None,
        workers: int | None = None,
        progress: bool | Callable[[int, int], None] | None = False,
        **overrides: Any,
    ) -> dict[str, CampaignResult]:
        """Every material with the fit its ``models`` entry gives (``ValueError`` naming a material without one),
        all fits (every specimen, every joint fit) as tasks of one :func:`run_tasks` run. ``**overrides``: least-
        squares settings replacing the ``[fit]`` entries (e.g. ``max_nfev``)."""
        bad = set(overrides) - _FIT_KEYS
        if bad:
            raise ValueError(f"unknown fit setting(s) {sorted(bad)}; known: {sorted(_FIT_KEYS)}")
        groups = self.by_material()
        missing = [m for m in groups if m not in self.models]
        if missing:
            raise ValueError(
                f"campaign {self.name!r}: no fit settings for material(s) {missing}; give a [models.<material>] "
                f"table (materials with settings: {sorted(self.models)})"
            )
        tasks: list[CalibrationTask] = []
        plan: list[tuple[str, Campaign, int]] = []
        for material, group in groups.items():
            model, initial, kwargs = _model_call(self.models[material], overrides)
            plan.append((material, group, len(tasks)))
            tasks += [CalibrationTask(model, s.experiments, dict(initial), dict(kwargs)) for s in group.specimens]
            if joint:
                tasks.append(CalibrationTask(model, group.joint_experiments(), dict(initial), dict(kwargs)))
        results = run_tasks(run_calibration, tasks, workers=workers, scheduler=scheduler, progress=progress)
        out = {}
        for material, group, start in plan:
            k = len(group.specimens)
            out[material] = CampaignResult(
                name=group.name,
                material=material,
                specimens=list(group.specimens),
                each=results[start : start + k],
                joint=results[start + k] if joint else None,
            )
        return out


def _slug(text: str) -> str:
    """A file-name-safe form of ``text`` (letters, digits, ``-`` and ``_``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text.strip()).strip("_") or "material"


def _specimen(spec: dict[str, Any], base: Path, where: str) -> Specimen:
    unknown = set(spec) - _SPECIMEN_KEYS - _EXPERIMENT_KEYS
    if unknown:
        raise ValueError(
            f"{where}: specimen {spec.get('name', '?')!r}: unknown key(s) {sorted(unknown)}; known: "
            f"{sorted(_SPECIMEN_KEYS)} and the experiment keys {sorted(_EXPERIMENT_KEYS)}"
        )
    if "name" not in spec:
        raise ValueError(f"{where}: every [[specimens]] table needs a name")
    name = str(spec["name"])
    shared = {k: v for k, v in spec.items() if k in _EXPERIMENT_KEYS and k != "name"}
    if "experiments" in spec:
        tables = spec["experiments"]
        if not isinstance(tables, list) or not all(isinstance(t, Mapping) for t in tables):
            raise ValueError(f"{where}: specimen {name!r}: experiments must be an array of tables")
        if "file" in shared:
            raise ValueError(f"{where}: specimen {name!r}: give either file (one experiment) or [[experiments]]")
        experiments = [experiment_from_config({**shared, **dict(t)}, base) for t in tables]
    else:
        if "file" not in shared:
            raise ValueError(f"{where}: specimen {name!r} names no data: give file = ... or [[specimens.experiments]]")
        experiments = [experiment_from_config({"name": name, **shared}, base)]
    return Specimen(
        name=name,
        experiments=experiments,
        material=str(spec.get("material", "")),
        test=str(spec.get("test", "")),
        temperature=spec.get("temperature"),
        lot=str(spec.get("lot", "")),
        notes=str(spec.get("notes", "")),
    )


def _check_model_spec(material: str, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        raise ValueError(f"models.{material}: give a table of fit settings, got {spec!r}")
    unknown = set(spec) - _MODEL_KEYS
    if unknown:
        raise ValueError(f"models.{material}: unknown key(s) {sorted(unknown)}; known: {sorted(_MODEL_KEYS)}")
    for key in ("model", "initial"):
        if key not in spec:
            raise ValueError(f"models.{material}: missing {key!r}")
    bad = set(spec.get("fit", {})) - _FIT_KEYS
    if bad:
        raise ValueError(f"models.{material}: [fit]: unknown key(s) {sorted(bad)}; known: {sorted(_FIT_KEYS)}")
    return dict(spec)


def _model_call(spec: Mapping[str, Any], overrides: Mapping[str, Any]) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """(model, initial, calibrate keywords) of one ``[models.<material>]`` table."""
    kwargs: dict[str, Any] = {**dict(spec.get("fit", {})), **overrides}
    if "bounds" in spec:
        kwargs["bounds"] = {k: tuple(v) for k, v in dict(spec["bounds"]).items()}
    for key in ("fixed", "options", "error"):
        if key in spec:
            kwargs[key] = spec[key] if not isinstance(spec[key], Mapping) else dict(spec[key])
    if "relative_floor" in spec:
        kwargs["relative_floor"] = float(spec["relative_floor"])
    return str(spec["model"]), dict(spec["initial"]), kwargs


@dataclass
class CampaignResult:
    """The fits of one material's specimens: ``each`` (per specimen, in ``specimens`` order) and ``joint`` (all
    specimens at once, or ``None``). ``labels``: the free parameters; :meth:`values` ``(k, n)``;
    :meth:`statistics`: mean, standard deviation (n − 1) and CV across specimens; :meth:`table`, :meth:`report`,
    :meth:`plot` (the scatter figure), :meth:`save`."""

    name: str
    material: str
    specimens: list[Specimen]
    each: list[CalibrationResult]
    joint: CalibrationResult | None = None
    labels: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.labels:
            self.labels = list(self.each[0].free)

    @property
    def model_name(self) -> str:
        return self.each[0].model_name

    @property
    def success(self) -> bool:
        """Whether every fit (each specimen, and the joint one) converged."""
        return all(r.success for r in self.each) and (self.joint is None or self.joint.success)

    def values(self) -> np.ndarray:
        """The fitted free parameters ``(k specimens, n labels)``."""
        return np.array([[dict(zip(r.free, r.x))[lab] for lab in self.labels] for r in self.each], dtype=float)

    def statistics(self) -> dict[str, dict[str, float]]:
        """Per free label: ``mean``, ``std`` (sample standard deviation, n − 1; NaN for one specimen) and ``cv``
        (``std / abs(mean)``) across the specimens."""
        v = self.values()
        mean = v.mean(axis=0)
        std = v.std(axis=0, ddof=1) if len(v) > 1 else np.full(v.shape[1], np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = std / np.abs(mean)
        return {
            lab: {"mean": float(m), "std": float(s), "cv": float(c)} for lab, m, s, c in zip(self.labels, mean, std, cv)
        }

    def joint_rms(self) -> list[float]:
        """The joint fit's rms error (data units) over each specimen's points, in specimen order (empty without a
        joint fit): beside each specimen's own rms it shows whether one parameter set serves them all."""
        if self.joint is None:
            return []
        out, k = [], 0
        for s in self.specimens:
            n = len(s.experiments)
            sq = [
                (p - as_numpy(e.y)) ** 2
                for p, e in zip(self.joint.predictions[k : k + n], self.joint.experiments[k : k + n])
            ]
            out.append(float(np.sqrt(np.concatenate(sq).mean())))
            k += n
        return out

    def table(self, digits: int = 5) -> str:
        """Markdown: one row per specimen (lot, temperature, fitted parameters, rms of its own fit and of the joint
        fit on its points, converged), then mean, std and CV across specimens (– for one specimen), then the joint
        fit (its rms over every specimen's points)."""
        unit = self.each[0].stress_unit
        head = ["specimen", "lot", "T (°C)", *self.labels, f"rms own fit ({unit})", f"rms joint fit ({unit})"]
        head.append("converged")
        rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        fmt = lambda v: f"{v:.{digits}g}" if math.isfinite(v) else "–"  # noqa: E731
        joint_rms = self.joint_rms() or [math.nan] * len(self.specimens)
        for s, r, v, jr in zip(self.specimens, self.each, self.values(), joint_rms):
            t = "–" if s.temperature is None else f"{s.temperature:g}"
            jr_cell = f"{jr:.4g}" if math.isfinite(jr) else "–"
            cells = [s.name, s.lot or "–", t, *map(fmt, v), f"{r.total_rms:.4g}", jr_cell, "yes" if r.success else "NO"]
            rows.append("| " + " | ".join(cells) + " |")
        stats = self.statistics()
        for key, label in (("mean", "mean"), ("std", "std (n − 1)")):
            rows.append(f"| {label} | | | " + " | ".join(fmt(stats[lab][key]) for lab in self.labels) + " | | | |")
        cvs = [f"{stats[lab]['cv']:.2%}" if math.isfinite(stats[lab]["cv"]) else "–" for lab in self.labels]
        rows.append("| CV | | | " + " | ".join(cvs) + " | | | |")
        if self.joint is not None:
            j = dict(zip(self.joint.free, self.joint.x))
            cells = ["joint fit", "", "", *(fmt(j[lab]) for lab in self.labels), "", f"{self.joint.total_rms:.4g}"]
            rows.append("| " + " | ".join(cells) + f" | {'yes' if self.joint.success else 'NO'} |")
        return "\n".join(rows)

    def report(self) -> str:
        """Markdown: the specimens, the table, the joint fit's report."""
        lines = [
            f"# Campaign {self.name}: {self.material or 'specimens'}, {self.model_name}",
            "",
            f"- {len(self.specimens)} specimen(s) fitted each on its own"
            + (" and all jointly" if self.joint is not None else "")
            + f"; error measure {self.each[0].error}",
            "- mean, std (sample, n − 1) and CV = std/|mean| across the specimens",
            "",
            self.table(),
            "",
        ]
        if self.joint is not None:
            lines += [self.joint.report().replace("# Calibration of", "## Joint fit: calibration of", 1), ""]
        return "\n".join(lines)

    def plot(self, path: str | Path | None = None, *, title: str | None = None, overwrite: bool = False) -> Any:
        """Figure: the data of every specimen with its own fit (first experiment) and the joint fit, then one panel
        per free parameter: each specimen's value, mean ± std band, joint value (dashed). Written to ``path`` when
        given (atomically, ``overwrite`` as elsewhere); returns the matplotlib figure."""
        import matplotlib

        from ..fileio import atomic_path, check_writable

        if path is not None:
            check_writable(path, overwrite=overwrite)
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        n = len(self.labels)
        fig, axes = plt.subplots(1, n + 1, figsize=(4.0 * (n + 1), 3.8), squeeze=False)
        ax0 = axes[0, 0]
        colours = plt.get_cmap("tab10")
        for k, (s, r) in enumerate(zip(self.specimens, self.each)):
            e = s.experiments[0]
            c = colours(k % 10)
            ax0.plot(as_numpy(e.x), as_numpy(e.y), "o", ms=3, mfc="none", color=c, label=f"{s.name} data")
            with torch.no_grad():
                ax0.plot(as_numpy(e.x), as_numpy(e.predict(r.model)), "-", color=c, lw=1.2, label=f"{s.name} fit")
                if self.joint is not None:
                    ax0.plot(as_numpy(e.x), as_numpy(e.predict(self.joint.model)), "k--", lw=0.9)
        ax0.plot([], [], "k--", lw=0.9, label="joint fit")
        ax0.set_xlabel(self.specimens[0].experiments[0].x_label)
        ax0.set_ylabel(self.specimens[0].experiments[0].y_label)
        ax0.set_title(f"{self.material or self.name}: data and fits")
        ax0.grid(alpha=0.3)
        ax0.legend(fontsize=7)
        values, stats = self.values(), self.statistics()
        idx = np.arange(len(self.specimens))
        joint = dict(zip(self.joint.free, self.joint.x)) if self.joint is not None else {}
        for j, lab in enumerate(self.labels):
            ax = axes[0, j + 1]
            m, sd = stats[lab]["mean"], stats[lab]["std"]
            if math.isfinite(sd):
                ax.axhspan(m - sd, m + sd, color="0.85", label="mean ± std")
            ax.axhline(m, color="0.4", lw=1.0)
            for k in range(len(self.specimens)):
                ax.plot(k, values[k, j], "o", color=colours(k % 10), ms=7)
            if lab in joint:
                ax.axhline(joint[lab], color="k", ls="--", lw=1.0, label=f"joint {joint[lab]:.4g}")
            ax.set_xticks(idx, [s.name for s in self.specimens], rotation=30)
            ax.set_xlim(-0.5, len(idx) - 0.5)
            cv = stats[lab]["cv"]
            ax.set_title(f"{lab}" + (f" (CV {cv:.1%})" if math.isfinite(cv) else ""))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        fig.suptitle(title or f"campaign {self.name}: {self.model_name}, parameter scatter across specimens")
        fig.tight_layout()
        if path is not None:
            try:
                with atomic_path(path, overwrite=overwrite) as tmp:
                    fig.savefig(tmp, dpi=110)
            finally:
                plt.close(fig)
        return fig

    def output_paths(self, folder: str | Path, stem: str | None = None) -> dict[str, Path]:
        """Where :meth:`save` writes: ``<stem>.md`` (report), ``<stem>.png`` (figure), ``<stem>_joint.toml`` (the
        joint fit's parameter file); ``<stem>`` defaults to the campaign's name, with ``_not_converged`` appended
        when a fit did not converge (so it never replaces a converged result)."""
        stem = _slug(stem or self.name) + ("" if self.success else "_not_converged")
        folder = Path(folder)
        paths = {"report": folder / f"{stem}.md", "figure": folder / f"{stem}.png"}
        if self.joint is not None:
            paths["parameters"] = folder / f"{stem}_joint.toml"
        return paths

    def save(
        self, folder: str | Path, *, stem: str | None = None, overwrite: bool = False, **metadata: Any
    ) -> dict[str, Path]:
        """Write the report, the scatter figure and the joint fit's parameter file (:meth:`output_paths`; every
        path checked before any is written; existing files replaced only with ``overwrite``)."""
        from ..fileio import atomic_write_text, check_writable

        paths = self.output_paths(folder, stem)
        for p in paths.values():
            check_writable(p, overwrite=overwrite)
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.plot(paths["figure"], overwrite=overwrite)
        atomic_write_text(
            paths["report"], self.report() + f"\n![scatter]({paths['figure'].name})\n", overwrite=overwrite
        )
        if self.joint is not None:
            info = {
                "name": f"{self.material or self.name}: joint fit of campaign {self.name}",
                "specimens": [s.name for s in self.specimens],
            }
            info.update(metadata)
            self.joint.save(paths["parameters"], overwrite=overwrite, **info)
        return paths
