"""Where the shipped parameter files and data sets live, in a source checkout and in an installed wheel.

The repository keeps them in the top-level ``materials/`` folder (``*.toml`` parameter files, ``materials/data/``
the measured data with its ``README.md``). ``pyproject.toml`` ships that folder as the package
``constitutive.materials`` (setuptools ``package-dir`` mapping), so an installed wheel or sdist carries the same
files inside the package. This module is the one place that finds them: through ``importlib.resources`` when the
package ``constitutive.materials`` is importable (any installed copy, and an editable install), else the source
tree's ``materials/`` folder next to the ``constitutive`` package (a checkout used without installing).
"""

from __future__ import annotations

import importlib.resources
import sys
from pathlib import Path
from typing import Any

__all__ = ["materials_dir", "data_dir", "material_file", "data_file", "list_materials", "read_toml"]

_SOURCE_TREE = Path(__file__).resolve().parents[1] / "materials"


def materials_dir() -> Path:
    """The folder of the shipped parameter files (``*.toml``); ``data/`` inside it holds the data sets."""
    # A checkout run without installing: the package sits next to materials/, which wins over any other
    # installed copy so that the files match the code being run.
    if (_SOURCE_TREE / "steel_s355.toml").is_file():
        return _SOURCE_TREE
    try:
        root = importlib.resources.files("constitutive.materials")
    except ModuleNotFoundError as err:
        raise FileNotFoundError(
            "the shipped materials are missing: neither the package constitutive.materials (an installed wheel) "
            f"nor the source folder {_SOURCE_TREE} exists; reinstall the package"
        ) from err
    # Installed as plain files (wheels unpack to folders): a real path, usable by open() and Path APIs.
    return Path(str(root))


def data_dir() -> Path:
    """The folder of the shipped data sets (``materials/data``: Treloar's rubber data, steel tension tests)."""
    return materials_dir() / "data"


def material_file(stem: str) -> Path:
    """The shipped parameter file ``<stem>.toml`` (e.g. ``"steel_s355"``); ``FileNotFoundError`` lists the stems."""
    name = Path(stem).name
    path = materials_dir() / (name if name.endswith(".toml") else f"{name}.toml")
    if not path.is_file():
        known = ", ".join(s for s, *_ in list_materials())
        raise FileNotFoundError(f"no shipped material {stem!r}; the shipped materials are: {known}")
    return path


def data_file(name: str) -> Path:
    """The shipped data file ``name`` (e.g. ``"treloar_uniaxial.csv"``); ``FileNotFoundError`` lists them."""
    path = data_dir() / Path(name).name
    if not path.is_file():
        known = ", ".join(sorted(p.name for p in data_dir().iterdir() if p.suffix == ".csv"))
        raise FileNotFoundError(f"no shipped data file {name!r}; the shipped data files are: {known}")
    return path


def list_materials() -> list[tuple[str, str, str, str]]:
    """``(stem, model, name, units)`` of every shipped parameter file, sorted by stem (from each file's
    ``[material]`` table; empty strings where a file gives no name or units)."""
    out = []
    for path in sorted(materials_dir().glob("*.toml")):
        material: dict[str, Any] = read_toml(path).get("material", {})
        out.append(
            (path.stem, str(material.get("model", "")), str(material.get("name", "")), str(material.get("units", "")))
        )
    return out


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file (``tomllib``; ``tomli`` on Python 3.10).

    ``ValueError`` names the file when it is not UTF-8 text (e.g. a binary file) or not valid TOML (with the
    parser's line and column); ``FileNotFoundError``/``IsADirectoryError`` as ``open`` raises them.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        # tomli is a dependency on 3.10 only, so the type checker of a 3.11+ environment may not find it.
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path}: not a TOML file: not UTF-8 text (byte {err.start} is 0x{raw[err.start]:02x}); "
            "parameter files are UTF-8 TOML"
        ) from None
    if text.startswith("\ufeff"):  # a byte-order mark some editors write; TOML forbids it, drop it
        text = text[1:]
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path}: not a valid TOML file: {err}") from None
