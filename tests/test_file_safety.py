"""Never destroy a user's file (issue 9): no writer replaces an existing file unless asked (``overwrite=True`` /
``--force``), none writes over one of its own inputs even then, writes are atomic, and the examples write only under
their output folder.

Each test here fails on the behaviour before ``constitutive.fileio``: the writers replaced anything, ``calibrate``
without ``name =`` wrote over its own config, a non-converged fit replaced the previous fit, ``drive`` wrote over its
path file when ``[output] csv`` named it, ``export -o`` replaced anything.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from constitutive.cli import main as cli_main
from constitutive.cli.args import example_parser
from constitutive.export import export_model, write
from constitutive.fileio import (
    OutputExistsError,
    OverwritesInputError,
    atomic_open,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    check_not_input,
)
from constitutive.models import LinearElastic
from constitutive.models.base import load, write_toml

REPO = Path(__file__).resolve().parents[1]
OLD = "precious user data\n"


def _precious(path: Path) -> Path:
    path.write_text(OLD, encoding="utf-8")
    return path


def _no_temporaries(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if ".tmp" in p.name], "a temporary file was left behind"


# ------------------------------------------------------------------------------------------------- fileio itself


def test_atomic_write_refuses_an_existing_file_and_replaces_it_with_overwrite(tmp_path: Path) -> None:
    f = _precious(tmp_path / "a.txt")
    with pytest.raises(OutputExistsError, match=r"exists; pass overwrite=True \(command line: --force\)"):
        atomic_write_text(f, "new\n")
    assert f.read_text() == OLD
    with pytest.raises(FileExistsError):  # the error is a FileExistsError for callers that catch those
        atomic_write_bytes(f, b"new")
    assert atomic_write_text(f, "new\n", overwrite=True) == f and f.read_text() == "new\n"
    assert atomic_write_bytes(tmp_path / "sub" / "b.bin", b"\x00\x01") == tmp_path / "sub" / "b.bin"
    assert (tmp_path / "sub" / "b.bin").read_bytes() == b"\x00\x01"
    with pytest.raises(IsADirectoryError):
        atomic_write_text(tmp_path / "sub", "x", overwrite=True)
    _no_temporaries(tmp_path)


def test_an_exception_while_writing_leaves_the_old_file_intact(tmp_path: Path) -> None:
    f = _precious(tmp_path / "a.csv")
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_open(f, "w", overwrite=True) as fh:
            fh.write("half of the new ")
            fh.flush()
            raise RuntimeError("interrupted")
    assert f.read_text() == OLD
    new = tmp_path / "new.png"
    with pytest.raises(RuntimeError):
        with atomic_path(new) as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("interrupted")
    assert not new.exists()
    _no_temporaries(tmp_path)


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    mask = os.umask(0)
    os.umask(mask)
    f = atomic_write_text(tmp_path / "a.txt", "x")
    assert f.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's private 0600
    os.chmod(f, 0o640)
    atomic_write_text(f, "y", overwrite=True)
    assert f.stat().st_mode & 0o777 == 0o640  # a replaced file keeps its mode


def test_check_not_input_compares_resolved_paths_and_links(tmp_path: Path) -> None:
    src = _precious(tmp_path / "in.toml")
    with pytest.raises(OverwritesInputError, match="is an input"):
        check_not_input(tmp_path / "sub" / ".." / "in.toml", [None, src])
    (tmp_path / "link.toml").symlink_to(src)
    with pytest.raises(OverwritesInputError):
        check_not_input(tmp_path / "link.toml", [src])
    os.link(src, tmp_path / "hard.toml")
    with pytest.raises(OverwritesInputError):
        check_not_input(tmp_path / "hard.toml", [src])
    assert check_not_input(tmp_path / "out.toml", [src]) == tmp_path / "out.toml"


# ------------------------------------------------------------------------------------------- the engine writers


def test_engine_writers_refuse_existing_files_unless_overwrite(tmp_path: Path) -> None:
    model = LinearElastic(E=200.0, nu=0.3)
    f = _precious(tmp_path / "m.toml")
    with pytest.raises(FileExistsError):
        model.save(f)
    with pytest.raises(FileExistsError):
        write_toml({"a": 1}, f)
    assert f.read_text() == OLD
    model.save(f, overwrite=True, name="x")
    assert float(load(f).E) == 200.0
    state = export_model(model, torch.zeros(3, 3, dtype=torch.float64), "abaqus")
    for fmt in ("json", "csv", "npz"):
        g = _precious(tmp_path / f"s.{fmt}")
        with pytest.raises(FileExistsError):
            write(state, g)
        assert g.read_text() == OLD
        write(state, g, overwrite=True)
        assert g.read_bytes() != OLD.encode()
    _no_temporaries(tmp_path)


def test_figures_and_csv_of_the_driver_refuse_existing_files(tmp_path: Path) -> None:
    from constitutive.driver import drive
    from constitutive.paths import uniaxial_strain

    res = drive(LinearElastic(E=200.0, nu=0.3), uniaxial_strain([0.01], increments=2))
    csv, png = _precious(tmp_path / "r.csv"), _precious(tmp_path / "r.png")
    with pytest.raises(FileExistsError):
        res.to_csv(csv)
    with pytest.raises(FileExistsError):
        res.plot(png)
    assert csv.read_text() == OLD and png.read_text() == OLD
    res.to_csv(csv, overwrite=True)
    res.plot(png, overwrite=True)
    assert csv.read_text().startswith("step,") and png.read_bytes()[:4] == b"\x89PNG"
    _no_temporaries(tmp_path)


# ---------------------------------------------------------------------------------------------- the command line

DRIVE = """material = "{material}"
[path]
mode = "uniaxial_strain"
amplitudes = [0.001]
increments = 2
[output]
csv = "{csv}"
"""


def test_drive_never_writes_over_its_path_file_or_material_even_with_force(tmp_path: Path, capsys) -> None:
    shutil.copy(REPO / "materials" / "steel_s355.toml", tmp_path / "steel.toml")
    material_before = (tmp_path / "steel.toml").read_text()
    f = tmp_path / "p.toml"
    f.write_text(DRIVE.format(material="steel.toml", csv="p.toml"))
    text = f.read_text()
    for extra in ([], ["--force"]):
        assert cli_main(["drive", str(f), *extra]) == 2
        assert "is an input of this run" in capsys.readouterr().err
        assert f.read_text() == text
    f.write_text(DRIVE.format(material="steel.toml", csv="steel.toml"))
    assert cli_main(["drive", str(f), "--force"]) == 2
    assert "is an input" in capsys.readouterr().err
    assert (tmp_path / "steel.toml").read_text() == material_before


def test_drive_refuses_existing_outputs_unless_force(tmp_path: Path, capsys) -> None:
    f = tmp_path / "p.toml"
    f.write_text(DRIVE.format(material="steel_s355", csv="p.csv"))
    csv = _precious(tmp_path / "p.csv")
    assert cli_main(["drive", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists" in err and "--force" in err
    assert csv.read_text() == OLD and not (tmp_path / "p.png").exists()  # refused before writing anything
    assert cli_main(["drive", str(f), "--force"]) == 0
    assert csv.read_text().startswith("step,") and (tmp_path / "p.png").exists()


def test_export_output_refuses_existing_files_and_its_own_material_file(tmp_path: Path, capsys) -> None:
    mat = tmp_path / "alu.toml"
    LinearElastic(E=70000.0, nu=0.33).save(mat)
    mat_text = mat.read_text()
    out = _precious(tmp_path / "state.json")
    args = ["export", str(mat), "--strain", "0.001,0,0,0,0,0"]
    assert cli_main([*args, "-o", str(out)]) == 2
    assert "exists" in capsys.readouterr().err and out.read_text() == OLD
    assert cli_main([*args, "-o", str(out), "--force"]) == 0
    assert '"header"' in out.read_text()
    card = _precious(tmp_path / "card.inp")
    assert cli_main(["export", str(mat), "--card", "abaqus", "-o", str(card)]) == 2
    assert card.read_text() == OLD
    capsys.readouterr()
    for extra in ([], ["--force"]):
        assert cli_main(["export", str(mat), "--card", "abaqus", "-o", str(mat), *extra]) == 2
        assert "is an input" in capsys.readouterr().err
        assert mat.read_text() == mat_text


def test_check_plot_refuses_an_existing_figure(tmp_path: Path, capsys) -> None:
    png = _precious(tmp_path / "t.png")
    args = ["check", "--expr", "X @ X", "--method", "taylor", "--plot", str(png)]
    assert cli_main(args) == 2
    assert "exists" in capsys.readouterr().err and png.read_text() == OLD
    assert cli_main([*args, "--force"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    # a missing folder is created, not a traceback
    assert cli_main([*args[:-1], str(tmp_path / "new" / "dir" / "t.png")]) == 0


CALIBRATION = """model = "MooneyRivlin"
{name}
[initial]
C10 = 0.2
C01 = 0.01
[fit]
max_nfev = 1
[[experiments]]
name = "uniaxial"
file = "treloar_uniaxial.csv"
mode = "uniaxial"
x = "stretch"
y = "nominal_stress_kgf_per_cm2"
y_scale = 0.0980665
points = 4
"""


def test_calibrate_without_name_never_writes_over_its_config(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "fit.toml"
    cfg.write_text(CALIBRATION.format(name=""))
    text = cfg.read_text()
    rc = cli_main(["calibrate", str(cfg), "--quiet"])
    assert rc == 1  # one evaluation: not converged
    assert cfg.read_text() == text
    assert (tmp_path / "fit_fit_not_converged.toml").exists()
    # a name that makes the parameter file the config itself is refused, even with --force
    cfg.write_text(CALIBRATION.format(name='name = "fit"'))
    text = cfg.read_text()
    capsys.readouterr()
    assert cli_main(["calibrate", str(cfg), "--quiet", "--force"]) == 2
    assert "is an input" in capsys.readouterr().err and cfg.read_text() == text


def test_a_non_converged_fit_does_not_replace_the_previous_fit(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(CALIBRATION.format(name='name = "rubber"'))
    previous = _precious(tmp_path / "rubber.toml")
    assert cli_main(["calibrate", str(cfg), "--quiet"]) == 2  # refused before fitting: rubber.toml exists
    assert "rubber.toml exists" in capsys.readouterr().err and previous.read_text() == OLD
    for _ in range(2):  # --force allows replacing a converged fit, and the previous non-converged one
        assert cli_main(["calibrate", str(cfg), "--quiet", "--force"]) == 1
        captured = capsys.readouterr()
        assert "did not converge" in captured.err and "rubber_not_converged.toml" in captured.out
        assert previous.read_text() == OLD
    assert float(load(tmp_path / "rubber_not_converged.toml").C10) != 0.0


# --------------------------------------------------------------------------------------------------- the examples


def _tracked_mtimes() -> dict[Path, float]:
    return {p: p.stat().st_mtime for folder in ("docs/figures", "materials") for p in (REPO / folder).rglob("*")}


def test_examples_write_only_under_their_out_folder(tmp_path: Path) -> None:
    import importlib.util

    before = _tracked_mtimes()
    written: list[Path] = []
    for name, call in (
        ("j2_cyclic", lambda mod, out: mod.main(out, cycles=1, increments=8)),
        ("hyperelastic_response", lambda mod, out: mod.main(out)),
    ):
        spec = importlib.util.spec_from_file_location(f"_example_{name}", REPO / "examples" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        out = tmp_path / name
        call(mod, out)
        written += [p for p in out.rglob("*") if p.is_file()]
        with pytest.raises(FileExistsError):  # a second run keeps the first run's files
            call(mod, out)
    assert written
    assert _tracked_mtimes() == before


def test_example_parser_shared_command_line(tmp_path):
    """``examples/``'s shared command line: ``--out`` defaults to out/ beside examples/, ``--force`` is off unless
    given, the description is the docstring's first line, and an example can add its own arguments."""
    example = tmp_path / "repo" / "examples" / "demo.py"
    parser = example_parser("Demo: the first line.\n\nMore text.", example)
    assert parser.description == "Demo: the first line."
    args = parser.parse_args([])
    assert args.out == (tmp_path / "repo" / "out").resolve() and args.force is False
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(["--out", str(tmp_path / "x"), "--force", "--quick"])
    assert args.out == tmp_path / "x" and args.force and args.quick
