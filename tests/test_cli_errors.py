"""Every command-line error is one clear line on stderr and exit status 2, without a traceback unless ``--debug``
(issue 9). The table below holds bad invocations of every subcommand: empty values, wrong counts, NaN, non-numbers,
absent/directory/unparsable files, existing or impossible outputs, contradictory options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from constitutive.cli import main as cli_main
from constitutive.cli.export import code_strain_arg, describe_strain
from constitutive.notation import to_voigt

REPO = Path(__file__).resolve().parents[1]
ZERO = "0,0,0,0,0,0"

# (argv with {tmp} for the folder of the fixture files, a phrase the one-line message must contain)
BAD: list[tuple[list[str], str]] = [
    # argparse usage errors: one line too
    (["nosuch"], "invalid choice"),
    (["--bogus"], "unrecognized arguments"),
    (["export"], "required: model"),
    (["demo", "--scale", "x"], "invalid float"),
    (["calibrate", "{tmp}/cal.toml", "--max-nfev", "x"], "invalid int"),
    (["check", "--expr", "X", "--order", "foo"], "invalid choice"),
    # export: the state
    (["export", "steel_s355", "--strain", "0.001,0,0,0,0,0", "--F", "1,0,0,0,1,0,0,0,1"], "not both"),
    (["export", "steel_s355"], "give a state"),
    (["export", "steel_s355", "--strain", ""], "--strain is empty"),
    (["export", "steel_s355", "--strain", "a,b"], "expects numbers"),
    (["export", "steel_s355", "--strain", "nan,0,0,0,0,0"], "NaN"),
    (["export", "steel_s355", "--strain", "1,2,3"], "6 components"),
    (["export", "steel_s355", "--strain", "0,1,0,0,0,0,0,0,0"], "symmetric"),
    (["export", "steel_s355", "--F", "1,0,0,0,1,0,0,0"], "9 components"),
    (["export", "steel_s355", "--F", "inf,0,0,0,1,0,0,0,1"], "infinite"),
    (["export", "steel_s355", "--F", "1,0,0,0,1,0,0,0,1"], "small-strain model"),
    (["export", "NeoHookean", "--param", "mu=1", "--param", "lmbda=1", "--F", "1,0,0,0,1,0,0,0,-1"], "det F"),
    (["export", "steel_s355", "--code", "foo", "--strain", ZERO], "unknown FE code"),
    (["export", "steel_s355", "--F", "1,0,0,0,1,0,0,0,1", "--shear", "tensor"], "--order and --shear describe"),
    (["export", "steel_s355", "--card", "abaqus", "--strain", ZERO], "--card"),
    (["export", "steel_s355", "--strain", ZERO, "--name", "X"], "--name"),
    (["export", "steel_s355", "--strain", ZERO, "--format", "json"], "--format"),
    (["export", "steel_s355", "--card", "foo"], "--card supports"),
    # export: the model argument
    (["export", "", "--strain", ZERO], "empty"),
    (["export", "{tmp}/missing.toml", "--strain", ZERO], "no parameter file"),
    (["export", "{tmp}/adir", "--strain", ZERO], "is a folder"),
    (["export", "{tmp}/bad.toml", "--strain", ZERO], "Expected"),
    (["export", "NoSuchModel", "--strain", ZERO], "unknown model 'NoSuchModel'"),
    (["export", "steel_s355", "--param", "nu=0.7", "--strain", ZERO], "nu"),
    (["export", "steel_s355", "--param", "E=", "--strain", ZERO], "has no value"),
    (["export", "steel_s355", "--param", "=1", "--strain", ZERO], "NAME=VALUE"),
    (["export", "steel_s355", "--param", "E=nan", "--strain", ZERO], "finite"),
    (["export", "steel_s355", "--param", "E=abc", "--strain", ZERO], "read as text"),
    (["export", "steel_s355", "--param", "sigma_y=300", "--strain", ZERO], "unknown parameter"),
    (["export", "LinearElastic", "--param", "E=1", "--strain", ZERO], "under-specified"),
    # export: the output
    (["export", "steel_s355", "--strain", ZERO, "-o", "{tmp}/exists.json"], "exists"),
    (["export", "steel_s355", "--strain", ZERO, "-o", "{tmp}/adir"], "is a folder"),
    (["export", "steel_s355", "--strain", ZERO, "-o", "{tmp}/x.xlsx"], "unknown file format"),
    (["export", "steel_s355", "--strain", ZERO, "-o", ""], "empty"),
    (["export", "{tmp}/el.toml", "--card", "abaqus", "-o", "{tmp}/el.toml", "--force"], "is an input"),
    # check
    (["check", "--model", "", "--strain", ZERO], "empty"),
    (["check", "--model", "{tmp}/missing.toml"], "no parameter file"),
    (["check", "--model", "steel_s355", "--param", "E=0"], "positive"),
    (["check", "--expr", ""], "--expr is empty"),
    (["check", "--expr", "X @"], "not a valid expression"),
    (["check", "--expr", "1/0"], "ZeroDivisionError"),
    (["check", "--expr", "X[5]"], "IndexError"),
    (["check", "--expr", "X", "--param", "E=1"], "--param"),
    (["check", "--expr", "X", "--rtol", "nan"], "--rtol"),
    (["check", "--expr", "X", "--strain", "1,2"], "6 components"),
    (["check", "--expr", "X @ X", "--plot", "{tmp}/t.png"], "--method taylor"),
    (["check", "--expr", "X @ X", "--method", "taylor", "--plot", "{tmp}/adir"], "is a folder"),
    (["check", "--expr", "X @ X", "--method", "taylor", "--plot", "{tmp}/t.xyz"], "figure file name"),
    (["check", "--expr", "X @ X", "--method", "taylor", "--plot", "{tmp}/exists.png"], "exists"),
    # drive
    (["drive", "{tmp}/missing.toml"], "no load-path file"),
    (["drive", "{tmp}/adir"], "is a folder"),
    (["drive", "{tmp}/bad.toml"], "Expected"),
    (["drive", "{tmp}/el.toml"], "unknown top-level keys"),
    (["drive", "{tmp}/path.toml", "--out", ""], "--out is empty"),
    (["drive", "{tmp}/path.toml", "--out", "{tmp}/el.toml"], "is a file"),
    # calibrate
    (["calibrate", "{tmp}/missing.toml"], "no calibration config"),
    (["calibrate", "{tmp}/adir"], "is a folder"),
    (["calibrate", "{tmp}/bad.toml"], "Expected"),
    (["calibrate", "{tmp}/el.toml"], "unknown key"),
    (["calibrate", "{tmp}/cal.toml", "--max-nfev", "0"], "--max-nfev"),
    # demo, models
    (["demo", "--scale", "nan"], "--scale"),
    (["models", "NoSuchModel"], "unknown model"),
]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "adir").mkdir()
    (tmp_path / "bad.toml").write_text("not toml [[[")
    (tmp_path / "el.toml").write_text('[material]\nmodel = "LinearElastic"\n[parameters]\nE = 1.0\nnu = 0.3\n')
    (tmp_path / "exists.json").write_text("{}")
    (tmp_path / "exists.png").write_text("old")
    (tmp_path / "path.toml").write_text(
        'material = "steel_s355"\n[path]\nmode = "uniaxial_strain"\namplitudes = [0.001]\nincrements = 1\n'
    )
    (tmp_path / "cal.toml").write_text('model = "MooneyRivlin"\n[initial]\nC10 = 0.2\n[[experiments]]\n')
    return tmp_path


@pytest.mark.parametrize(("argv", "phrase"), BAD, ids=[" ".join(a)[:60] for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], phrase: str, files: Path, capsys) -> None:
    argv = [a.replace("{tmp}", str(files)) for a in argv]
    try:
        rc = cli_main(argv)
    except SystemExit as exit_:  # argparse
        rc = exit_.code
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("constitutive") and ": error: " in lines[0], lines[0]
    assert phrase in lines[0], lines[0]
    # no input file was touched and nothing was written for a refused command
    assert (files / "exists.json").read_text() == "{}" and (files / "exists.png").read_text() == "old"
    assert (files / "el.toml").read_text().startswith("[material]")


def test_debug_shows_the_traceback(files: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no parameter file"):
        cli_main(["--debug", "export", str(files / "missing.toml"), "--strain", ZERO])
    with pytest.raises(ValueError, match="not both"):
        cli_main(["export", "steel_s355", "--strain", ZERO, "--F", "1,0,0,0,1,0,0,0,1", "--debug"])


def test_end_to_end_error_line(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "constitutive", "export", str(tmp_path / "nope.toml"), "--strain", ZERO]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"constitutive export: error: no parameter file {tmp_path / 'nope.toml'}\n"


# ----------------------------------------------------------------------- export --strain: the code's conventions


def test_a_pasted_abaqus_stran_gives_the_textbook_tensor(capsys) -> None:
    """Abaqus STRAN: 11 22 33 12 13 23 with engineering shear γ = 2ε. The same strain as six textbook-Voigt tensor
    components (11 22 33 23 13 12, shear ε_ij) must give the same tensor, the same stress and the same file."""
    eps = torch.tensor([[1e-3, 2e-4, -3e-4], [2e-4, -5e-4, 4e-4], [-3e-4, 4e-4, 2e-4]], dtype=torch.float64)
    stran = [1e-3, -5e-4, 2e-4, 2 * 2e-4, 2 * -3e-4, 2 * 4e-4]  # γ12, γ13, γ23
    X, order, shear = code_strain_arg(",".join(map(repr, stran)), "abaqus")
    assert (order, shear) == ("abaqus", "engineering")
    torch.testing.assert_close(X, eps, rtol=0, atol=1e-18)
    tensor_voigt = [1e-3, -5e-4, 2e-4, 4e-4, -3e-4, 2e-4]
    Y, *_ = code_strain_arg(",".join(map(repr, tensor_voigt)), "abaqus", order="voigt", shear="tensor")
    torch.testing.assert_close(Y, eps, rtol=0, atol=1e-18)
    # round trip through notation's own Abaqus strain vector: the engineering shear is what to_voigt writes
    torch.testing.assert_close(to_voigt(X, "strain", "abaqus"), torch.tensor(stran, dtype=torch.float64))
    # the command line echoes the interpreted tensor and gives the same stress for both spellings
    assert cli_main(["export", "steel_s355", "--code", "abaqus", "--strain", ",".join(map(repr, stran))]) == 0
    a = capsys.readouterr().out
    assert a.startswith("strain read as (abaqus order, engineering shear): ε11 = 0.001, ε22 = -0.0005")
    assert "ε12 = 0.0002, ε13 = -0.0003, ε23 = 0.0004" in a.splitlines()[0]
    args = ["--order", "voigt", "--shear", "tensor", "--strain", ",".join(map(repr, tensor_voigt))]
    assert cli_main(["export", "steel_s355", "--code", "abaqus", *args]) == 0
    b = capsys.readouterr().out
    assert a.splitlines()[1:] == b.splitlines()[1:]


@pytest.mark.parametrize(
    ("code", "shear", "factor"),
    [
        ("abaqus", "engineering", 2.0),
        ("ansys", "engineering", 2.0),
        ("lsdyna", "engineering", 2.0),
        ("calculix", "tensor", 1.0),
        ("mfront", "mandel", 2.0**0.5),
        ("neml2", "mandel", 2.0**0.5),
    ],
)
def test_each_code_reads_its_order_and_shear(code: str, shear: str, factor: float) -> None:
    from constitutive.export.layouts import layout
    from constitutive.notation import ORDERS

    eps = torch.tensor([[1.0, 6.0, 5.0], [6.0, 2.0, 4.0], [5.0, 4.0, 3.0]], dtype=torch.float64) * 1e-4
    pairs = ORDERS[layout(code).order]
    vec = [float(eps[i, j]) * (1.0 if i == j else factor) for i, j in pairs]
    X, order, got = code_strain_arg(",".join(map(repr, vec)), code)
    assert got == shear and order == layout(code).order
    torch.testing.assert_close(X, eps, rtol=1e-15, atol=0)
    line = describe_strain(X, order, shear)
    assert line.count("=") == 6 and f"{shear} shear" in line
    # tensor shear on request for any code, and nine row-major components ignore order and shear
    T, *_ = code_strain_arg(",".join(repr(float(eps[i, j])) for i, j in pairs), code, shear="tensor")
    torch.testing.assert_close(T, eps, rtol=1e-15, atol=0)
    R, how, _ = code_strain_arg(",".join(repr(float(v)) for v in eps.reshape(-1)), code)
    assert how == "row-major" and torch.equal(R, eps)


def test_models_and_materials_listings(capsys) -> None:
    assert cli_main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("LinearElastic", "NeoHookean", "J2Plasticity"):
        assert f"\n{name}" in "\n" + out
    assert cli_main(["models", "LinearElastic"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("LinearElastic") and "    E" in out and "    nu" in out
    assert cli_main(["materials"]) == 0
    out = capsys.readouterr().out
    stems = sorted(p.stem for p in (REPO / "materials").glob("*.toml"))
    assert stems and all(s in out for s in stems)


def test_param_overrides_a_material_file(tmp_path: Path) -> None:
    from constitutive.export import read
    from constitutive.models.base import load

    E = float(load("steel_s355").E)
    args = ["export", "steel_s355", "--strain", "0.001,0,0,0,0,0"]
    assert cli_main([*args, "-o", str(tmp_path / "a.json")]) == 0
    assert cli_main([*args, "--param", f"E={2 * E!r}", "-o", str(tmp_path / "b.json")]) == 0
    a, b = read(tmp_path / "a.json"), read(tmp_path / "b.json")
    assert abs(b.stress[0] - 2 * a.stress[0]) <= 1e-12 * abs(a.stress[0])  # linear elastic: σ ∝ E at fixed ν
