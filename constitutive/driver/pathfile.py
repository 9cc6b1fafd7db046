"""TOML load-path files: a material, a load path and driver/output settings in one file (docs/driver.md)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..models.base import Material, load, read_toml
from ..paths import LoadPath, path_from_dict
from .core import Progress, drive
from .result import DriverError, DriveResult


def load_path_file(path: str | Path) -> tuple[Any, LoadPath, dict[str, Any]]:
    """Read a TOML load-path file: ``(model, load path, settings)``.

    The model comes from ``material = "steel_s355"`` (a ``materials/`` entry, or a parameter-file path relative to
    the load-path file) or an inline ``[model]`` table (``name = "J2Plasticity"``, ``[model.parameters]``,
    ``[model.options]``; a ``[model.temperature]`` table -- ``reference``, ``initial``, ``expansion``,
    ``[model.temperature.parameters]``, the keys of ``ThermoMechanical.to_dict()["temperature"]`` -- wraps the model
    in ``constitutive.models.thermal.ThermoMechanical``). The path from ``[path]`` and/or ``[[steps]]``, its
    temperature from ``[temperature]`` (:func:`constitutive.paths.path_from_dict`).
    ``settings``: the ``[driver]`` table (``max_iter``, ``rtol``, ``atol``, ``line_search``, ``cutbacks``,
    ``check_tangent``, ``tangent_tolerance``, ``predictor``) and the ``[output]`` table (``csv``, ``figure``, ``x``,
    ``y``).
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no load-path file {path}")
    data = read_toml(p)
    known = {
        "title",
        "description",
        "material",
        "model",
        "path",
        "steps",
        "driver",
        "output",
        "kinematics",
        "temperature",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{p}: unknown top-level keys {unknown}; allowed: {sorted(known)}")
    if ("material" in data) == ("model" in data):
        raise ValueError(f'{p}: give the material either as material = "<materials/ entry or file>" or [model]')
    if "material" in data:
        if not isinstance(data["material"], str):
            raise ValueError(
                f"{p}: material must be a string naming a materials/ entry or a parameter file; write an inline "
                "model as a [model] table (name = ..., [model.parameters])"
            )
        ref = data["material"]
        local = (p.parent / ref).resolve()
        model = load(local if local.suffix == ".toml" and local.exists() else ref)
    else:
        if not isinstance(data["model"], Mapping):
            raise ValueError(f"{p}: [model] must be a table (name = ..., [model.parameters], [model.options])")
        table = dict(data["model"])
        extra = sorted(set(table) - {"name", "model", "parameters", "options", "temperature"})
        if extra:
            raise ValueError(f"{p}: unknown keys {extra} in [model]; allowed: name, parameters, options, temperature")
        name = table.get("name", table.get("model"))
        if name is None:
            raise ValueError(f'{p}: [model] needs name = "<model class>"')
        model = Material.from_dict(
            {"model": name, "parameters": table.get("parameters", {}), "options": table.get("options", {})}
        )
        if "temperature" in table:
            model = thermal_model(model, table["temperature"], p)
    load_path = path_from_dict(data, source=p)
    settings = {"driver": dict(data.get("driver", {})), "output": dict(data.get("output", {}))}
    allowed = {"max_iter", "rtol", "atol", "check_tangent", "tangent_tolerance", "predictor", "line_search", "cutbacks"}
    bad = sorted(set(settings["driver"]) - allowed)
    if bad:
        raise ValueError(f"{p}: unknown keys {bad} in [driver]; allowed: {sorted(allowed)}")
    return model, load_path, settings


def thermal_model(model: Material, table: Any, source: str | Path = "<model>") -> Any:
    """``model`` wrapped in ``ThermoMechanical`` (``constitutive.models.thermal``, the temperature contract) from
    a ``[model.temperature]`` table: ``reference`` (T_ref, default 0), ``initial`` (T_I, default T_ref),
    ``expansion`` (the secant α: a number, ``{temperature = [...], value = [...]}`` or ``{function = "..."}``) and
    ``parameters`` (``{name = {temperature = [...], value = [...]}}``)."""
    if not isinstance(table, Mapping):
        raise ValueError(f"{source}: [model.temperature] must be a table (reference, initial, expansion, parameters)")
    extra = sorted(set(table) - {"reference", "initial", "expansion", "parameters"})
    if extra:
        raise ValueError(
            f"{source}: unknown keys {extra} in [model.temperature]; allowed: expansion, initial, parameters, reference"
        )
    try:
        from ..models.thermal import ThermoMechanical  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise ValueError(
            f"{source}: [model.temperature] needs constitutive.models.thermal.ThermoMechanical, which this "
            "installation does not have"
        ) from None
    return ThermoMechanical(
        model,
        parameters=dict(table.get("parameters", {})) or None,
        expansion=table.get("expansion"),
        reference_temperature=float(table.get("reference", 0.0)),
        initial_temperature=None if table.get("initial") is None else float(table["initial"]),
    )


def run_path_file(
    path: str | Path,
    out: str | Path | None = None,
    *,
    progress: Progress | None = None,
    overwrite: bool = False,
    **overrides: Any,
) -> tuple[DriveResult, dict[str, Path]]:
    """Run a load-path file; write the CSV and the figure into ``out`` (default: next to the file).

    Returns the result and the written files. A failure still writes the steps computed before it, then re-raises.
    Existing outputs are replaced only with ``overwrite=True``; an output that is the load-path file itself or its
    material file is refused even then (checked before driving, so a refusal costs nothing).
    """
    from ..fileio import check_not_input, check_writable

    model, load_path, settings = load_path_file(path)
    options = {**settings["driver"], **overrides}
    out_dir = Path(out) if out is not None else Path(path).parent
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"output folder {out_dir} is a file")
    stem = Path(path).stem
    output = settings["output"]
    csv_path = out_dir / str(output.get("csv", f"{stem}.csv"))
    fig_path = out_dir / str(output.get("figure", f"{stem}.png"))
    material = read_toml(path).get("material")
    inputs: list[Path] = [Path(path)]
    if isinstance(material, str):  # the file load() may read: next to the path file, or a materials/ entry
        inputs += [Path(path).parent / material, Path(__file__).resolve().parents[2] / "materials" / f"{material}.toml"]
    for target in (csv_path, fig_path):
        check_not_input(target, inputs)
        check_writable(target, overwrite=overwrite)
    if csv_path.resolve() == fig_path.resolve():
        raise ValueError(f"{path}: [output] csv and figure name the same file {csv_path}")
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = drive(model, load_path, progress=progress, **options)
    except DriverError as err:
        err.result.to_csv(csv_path, overwrite=overwrite)
        raise
    written = {"csv": result.to_csv(csv_path, overwrite=overwrite)}
    result.plot(fig_path, x=output.get("x"), y=output.get("y"), title=load_path.name, overwrite=overwrite)
    written["figure"] = fig_path
    return result, written
