"""Argument conventions shared by every ``constitutive`` subcommand (written once): number lists, symmetric
tensors, matrices, ``--param`` pairs and models."""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

# ---------------------------------------------------------------------------------------------------------------
# Argument conventions shared by every subcommand (written once)
# ---------------------------------------------------------------------------------------------------------------

#: Help text of every ``--strain``-like option.
SYMMETRIC_ARG_HELP = (
    "six TENSOR components (shear ε_ij, not engineering γ = 2ε_ij) in the component order of --order "
    "(default textbook Voigt: 11 22 33 23 13 12), or nine row-major; space- or comma-separated (write negative "
    "exponent-notation numbers in the comma form, e.g. --strain=-2e-4,1e-3,0,0,0,0)"
)
ORDER_ARG_HELP = "component order of six-component tensors: voigt (default), abaqus, ansys, lsdyna"


def parse_numbers(items: str | Sequence[str], name: str) -> list[float]:
    """Numbers from ``"1,2 3"`` or ``["1", "2,3"]``; ``ValueError`` naming the option otherwise."""
    text = items if isinstance(items, str) else " ".join(items)
    try:
        values = [float(v) for v in re.split(r"[,\s]+", text.strip()) if v]
    except ValueError:
        raise ValueError(f"--{name} expects numbers, got {text!r}") from None
    if not values:
        raise ValueError(f"--{name} is empty: give the numbers")
    return values


def symmetric_arg(items: str | Sequence[str], name: str = "strain", order: str = "voigt") -> torch.Tensor:
    """A symmetric ``(3, 3)`` tensor from six tensor components in ``order`` (no shear factor) or nine row-major
    components (then it must be symmetric)."""
    from ..notation import from_voigt
    from ..tensor import check_finite, check_symmetric

    values = parse_numbers(items, name)
    check_finite(torch.tensor(values, dtype=torch.float64), f"--{name}")  # name the option, not the conversion
    if len(values) == 6:
        # Voigt *stress* conversion = tensor components placed by the order's table, with no factor.
        return from_voigt(torch.tensor(values, dtype=torch.float64), "stress", order)
    if len(values) == 9:
        X = torch.tensor(values, dtype=torch.float64).reshape(3, 3)
        check_symmetric(X, f"--{name}")
        return X
    raise ValueError(f"--{name} takes 6 components (order {order}) or 9 (row-major), got {len(values)}")


def matrix_arg(items: str | Sequence[str], name: str) -> torch.Tensor:
    """A ``(3, 3)`` tensor from nine row-major components (e.g. a deformation gradient)."""
    from ..tensor import check_finite

    values = parse_numbers(items, name)
    if len(values) != 9:
        raise ValueError(f"--{name} takes 9 components (row-major), got {len(values)}")
    X = torch.tensor(values, dtype=torch.float64).reshape(3, 3)
    check_finite(X, f"--{name}")
    return X


def parse_params(items: Sequence[str] | None) -> dict[str, Any]:
    """``NAME=VALUE`` pairs: a number, a comma- or JSON-list of numbers, or else a string option."""
    params: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--param expects NAME=VALUE, got {item!r}")
        value = value.strip()
        if not value:
            raise ValueError(f"--param {key.strip()}= has no value")
        try:
            parsed = json.loads(value if "," not in value or value.startswith("[") else f"[{value}]")
        except json.JSONDecodeError:
            parsed = _number(value)
        if any(
            isinstance(v, float) and not math.isfinite(v) for v in (parsed if isinstance(parsed, list) else [parsed])
        ):
            raise ValueError(f"--param {key.strip()} must be finite, got {value!r}")
        params[key.strip()] = parsed
    return params


def _materials_dir() -> Path:
    """The shipped ``materials/`` folder (source tree or installed package)."""
    from ..resources import materials_dir

    return Path(materials_dir())


def material_stems() -> list[str]:
    """Stems of the shipped parameter files (``materials/*.toml``), sorted."""
    folder = _materials_dir()
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def _looks_like_path(name: str) -> bool:
    return name.endswith(".toml") or "/" in name or "\\" in name or name.startswith(".")


def _number(text: str) -> Any:
    """``text`` as a float when Python reads it as one (``1e3``, ``nan``, ``.5``), else the string (an option)."""
    try:
        return float(text)
    except ValueError:
        return text


def model_file(name: str) -> Path | None:
    """The parameter file a model argument names (a path, or a ``materials/`` stem), or ``None`` for a class name.
    ``FileNotFoundError``/``IsADirectoryError`` for a path that is not a readable file."""
    from ..models.base import MODELS

    if not name or not name.strip():
        raise ValueError("the model argument is empty: give a parameter file, a materials/ stem or a model class")
    p = Path(name)
    if p.is_dir():
        raise IsADirectoryError(f"model argument {name} is a folder, not a parameter file")
    if p.is_file():
        return p
    if _looks_like_path(name):
        raise FileNotFoundError(f"no parameter file {name}")
    if name in MODELS:
        return None
    shipped = _materials_dir() / f"{name}.toml"
    if shipped.is_file():
        return shipped
    raise ValueError(
        f"unknown model {name!r}: not a file, a materials/ stem ({', '.join(material_stems())}) nor a model class "
        f"({', '.join(sorted(MODELS))}); see `constitutive models` and `constitutive materials`"
    )


def model_arg(name: str, params: Sequence[str] | None = None) -> Any:
    """A model from a parameter file (path, or a stem in ``materials/``), with ``--param NAME=VALUE`` overriding
    its parameters or options, or from a registered class name and its ``--param`` values. Every model is built
    through the class's validation, so a bad override names the parameter."""
    from ..models.base import Material, _check_arguments, get_model, read_toml

    overrides = parse_params(params)
    path = model_file(name)
    if path is None:
        cls = get_model(name)
        _check_arguments(cls, overrides)  # a misspelled --param names itself, not the constructor's TypeError
        return _build(lambda: cls(**overrides), overrides)
    data = read_toml(path)
    material = data.get("material", {})
    if not isinstance(material, dict) or "model" not in material:
        raise ValueError(f'{path}: the [material] table must name the model (model = "...")')
    parameters = dict(data.get("parameters", {}))
    options = dict(data.get("options", {}))
    for key, value in overrides.items():
        (options if key in options else parameters)[key] = value
    return _build(
        lambda: Material.from_dict({"model": material["model"], "parameters": parameters, "options": options}),
        overrides,
    )


def _build(make: Any, overrides: dict[str, Any]) -> Any:
    """``make()``; a failure that may come from a ``--param`` read as text (not a number) says which ones were."""
    try:
        return make()
    except (ValueError, TypeError) as err:
        text = sorted(k for k, v in overrides.items() if isinstance(v, str))
        if not text:
            raise
        raise type(err)(f"{err} (--param values read as text, not numbers: {', '.join(text)})") from err


def add_force(p: argparse.ArgumentParser) -> None:
    """``--force``: replace existing output files (never an input of the same run)."""
    p.add_argument(
        "--force",
        action="store_true",
        help="replace existing output files (an output that is one of the inputs is refused even then)",
    )


def add_debug(p: argparse.ArgumentParser) -> None:
    """``--debug`` after the subcommand too (the same flag as ``constitutive --debug``)."""
    p.add_argument(
        "--debug",
        action="store_true",
        dest="debug_traceback",
        default=argparse.SUPPRESS,
        help="show the traceback of an error",
    )


def check_figure_suffix(path: str, option: str) -> None:
    """``ValueError`` when matplotlib cannot write a figure named ``path`` (checked before any work is done)."""
    from matplotlib.backend_bases import FigureCanvasBase

    suffix = Path(path).suffix.lstrip(".").lower()
    formats = FigureCanvasBase.get_supported_filetypes()
    if suffix not in formats:
        raise ValueError(
            f"{option} {path}: give a figure file name ending in one of {', '.join('.' + f for f in sorted(formats))}"
        )


def example_parser(doc: str | None, example_file: str | Path) -> argparse.ArgumentParser:
    """The command line shared by the programs in ``examples/``: ``--out DIR`` (default: ``out/`` at the
    repository root beside ``examples/``, git-ignored) and ``--force`` (replace existing output files; without it
    an existing file is an :class:`~constitutive.fileio.OutputExistsError`). ``doc``: the program's docstring
    (its first line is the description); an example adds its own arguments to the returned parser."""
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0] if doc else None)
    default = Path(example_file).resolve().parents[1] / "out"
    parser.add_argument("--out", type=Path, default=default, help="output folder (default: out/, git-ignored)")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    return parser
