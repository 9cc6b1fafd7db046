"""The README's promises: the two set-up commands, the demo, the console command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import torch

from constitutive.cli import main
from constitutive.demo import run

ROOT = Path(__file__).resolve().parents[1]


def test_readme_opens_with_two_setup_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    install, test = blocks[0].strip(), blocks[1].strip()
    for cmd in (install, test):
        assert "\n" not in cmd
        # the CPU build of torch first, before anything that depends on torch
        assert cmd.index("pip install torch==2.13.0") < cmd.index("pip install -e")
    assert install.endswith("constitutive demo")
    assert test.endswith("python -m pytest -q") and '".[test]"' in test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    pattern = re.search(r"grep -m1 -E '(.*)' README.md", ci).group(1)
    matches = [line for line in readme.splitlines() if re.search(pattern.replace("\\.", r"\."), line)]
    assert matches[0] == test  # .ci/run runs exactly the README's test command


def test_demo_prints_every_form_and_verifies_tangents(capsys) -> None:
    out = run(strain_scale=0.5)
    text = capsys.readouterr().out
    for needle in ("Voigt (abaqus order", "Mandel (abaqus order", "Tangent check PASSED", "tangent check: PASS"):
        assert needle in text
    steel = out["steel"]
    # linear elasticity: σ = λ tr(ε) I + 2 μ ε, independent of the model class
    E, nu = 210000.0, 0.3
    lmbda, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
    eps = 0.5 * torch.tensor(
        [[1.0e-3, 2.0e-4, 0.0], [2.0e-4, -3.0e-4, 1.0e-4], [0.0, 1.0e-4, -3.0e-4]], dtype=torch.float64
    )
    expected = lmbda * torch.trace(eps) * torch.eye(3, dtype=torch.float64) + 2 * mu * eps
    assert torch.allclose(steel["stress"], expected, rtol=1e-12)
    assert steel["report"].passed and out["rubber"]["report"].passed and out["j2"]["passed"]


def test_console_help_lists_subcommands(capsys) -> None:
    assert main([]) == 0
    text = capsys.readouterr().out
    for command in ("demo", "check", "drive", "calibrate", "export", "models", "materials"):
        assert command in text
    proc = subprocess.run([sys.executable, "-m", "constitutive", "--help"], capture_output=True, text=True, check=True)
    assert "usage: constitutive" in proc.stdout


def test_every_writing_command_has_force_and_every_command_debug(capsys) -> None:
    from constitutive.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():  # type: ignore[union-attr]
        options = {s for a in p._actions for s in a.option_strings}
        if name in ("check", "drive", "calibrate", "export"):
            assert "--force" in options, name
        if name != "umat":  # the UMAT bridge has its own --debug
            assert "--debug" in options, name


def test_number_lists_may_start_with_a_minus_sign(tmp_path: Path) -> None:
    """``--strain -2e-3,...`` (a compressive strain pasted from a UMAT) is a value, not an unknown option."""
    import json

    from constitutive.cli import main

    out = tmp_path / "state.json"
    assert main(["export", "steel_s355", "--strain", "-2e-3,0,0,0,0,0", "--code", "abaqus", "-o", str(out)]) == 0
    stress = json.loads(out.read_text())["stress"]
    assert stress[0] < 0 and abs(stress[0] / stress[1] - (1 - 0.3) / 0.3) < 1e-12  # σ11/σ22 = (1 − ν)/ν
