"""Packaging: the wheel carries materials/ as constitutive.materials, and the installed layout finds it.

The full check (a wheel installed with pip into a fresh virtual environment, then ``constitutive demo``) runs in
``.ci/run``; here the wheel is built without isolation, unpacked outside the tree and imported from there.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from constitutive import resources
from constitutive.models.base import read_toml

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = read_toml(ROOT / "pyproject.toml")
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def test_every_subpackage_is_listed_in_pyproject() -> None:
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "constitutive").rglob("__init__.py")} | {
        "constitutive.materials"
    }
    assert found == set(SETUPTOOLS["packages"]), "add new sub-packages to [tool.setuptools] packages"
    assert SETUPTOOLS["package-dir"] == {"constitutive.materials": "materials"}


def test_every_file_in_materials_is_package_data() -> None:
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["constitutive.materials"]
    for path in (ROOT / "materials").rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(ROOT / "materials").as_posix()
        assert rel == "__init__.py" or any(fnmatch.fnmatch(rel, pat) for pat in patterns), f"{rel} is not shipped"


def test_resources_find_the_shipped_files() -> None:
    assert resources.materials_dir() == ROOT / "materials"
    assert resources.data_dir() == ROOT / "materials" / "data"
    assert resources.material_file("steel_s355") == ROOT / "materials" / "steel_s355.toml"
    assert resources.data_file("treloar_uniaxial.csv").read_text(encoding="utf-8").startswith("#")
    table = resources.list_materials()
    assert [t[0] for t in table] == sorted(p.stem for p in (ROOT / "materials").glob("*.toml"))
    assert ("steel_s355", "LinearElastic", "structural steel S355", "MPa") in table
    with pytest.raises(FileNotFoundError, match="shipped materials are: aluminium_5005"):
        resources.material_file("nope")
    with pytest.raises(FileNotFoundError, match="shipped data files are: tension_Al5005.csv"):
        resources.data_file("nope.csv")


SMOKE = """
import sys
import constitutive
from constitutive import resources
from constitutive.data import DATA_DIR, load_tension_test, load_treloar
from constitutive.models import load
assert constitutive.__file__.startswith(sys.argv[1]), constitutive.__file__
assert str(resources.materials_dir()).startswith(sys.argv[1]), resources.materials_dir()
assert DATA_DIR == resources.data_dir()
assert float(load("steel_s355").E) == 210000.0
assert type(load("natural_rubber_ogden_treloar")).__name__ == "Ogden"
assert len(load_treloar("uniaxial").stretch) == 25
assert len(load_tension_test("tension_St1594.csv").strain) > 1000
print("ok")
"""


@pytest.mark.skipif(importlib.util.find_spec("build") is None, reason="the 'build' package is not installed")
def test_wheel_contents_work_outside_the_tree(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("constitutive", "materials"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path / "dist"), str(src)]
    subprocess.run(cmd, check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("constitutive-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "materials").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert f"constitutive/materials/{path.relative_to(ROOT / 'materials').as_posix()}" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    out = subprocess.run(
        [sys.executable, "-c", SMOKE, str(site)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,  # away from the checkout, whose constitutive/ would shadow the unpacked one
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "ok"
