"""The NEML2 column of the performance benchmark (benchmarks/neml2_j2.py, benchmarks/neml2/*.i).

The input files always get checked: they parse as HIT blocks and carry the material constants of
benchmarks/performance.py (read from it, not copied). The comparison with NEML2 itself needs NEML2, which pins its own
torch and so lives in another virtual environment: it runs only when ``CONSTITUTIVE_NEML2_PYTHON`` names a python
that imports ``neml2``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
sys.path.append(str(BENCH))  # (after the installed packages: benchmarks/ has modules named driver, hyperelastic)

import neml2_j2  # noqa: E402
import performance  # noqa: E402


def parse_hit(text: str) -> dict[str, dict[str, str]]:
    """A minimal HIT reader: ``{"Section/block": {key: value}}`` (quotes stripped, multi-line quoted values joined,
    comments dropped). Raises ``ValueError`` on unbalanced blocks or lines it does not understand."""
    blocks: dict[str, dict[str, str]] = {}
    path: list[str] = []
    lines = iter(text.splitlines())
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line == "[]":
            if not path:
                raise ValueError("unbalanced []")
            path.pop()
            continue
        m = re.fullmatch(r"\[([A-Za-z_][\w~]*)\]", line)
        if m:
            path.append(m.group(1))
            blocks.setdefault("/".join(path), {})
            continue
        m = re.fullmatch(r"([A-Za-z_][\w~]*)\s*=\s*(.*)", line)
        if not m or not path:
            raise ValueError(f"not HIT: {raw!r}")
        key, value = m.groups()
        if value.startswith("'"):
            while value.count("'") < 2:  # a quoted value continued on the next lines
                value += " " + next(lines).split("#", 1)[0].strip()
            value = value.strip("'")
        blocks["/".join(path)][key] = " ".join(value.split())
    if path:
        raise ValueError(f"unclosed block {'/'.join(path)}")
    return blocks


def _floats(value: str) -> list[float]:
    return [float(v) for v in value.split()]


@pytest.mark.parametrize("case", neml2_j2.CASES)
def test_input_files_match_performance_constants(case: str) -> None:
    blocks = parse_hit(neml2_j2.INPUTS[case].read_text())
    models = {k.split("/", 1)[1]: v for k, v in blocks.items() if k.startswith("Models/")}
    by_type: dict[str, list[dict[str, str]]] = {}
    for params in models.values():
        by_type.setdefault(params.get("type", ""), []).append(params)

    # elasticity: every (E, nu) pair, the elastic predictor, the stress and the scalar trial-stress update
    pairs = [p for p in models.values() if "coefficients" in p]
    assert len(pairs) == 3
    for p in pairs:
        assert p["coefficient_types"].split() == ["YOUNGS_MODULUS", "POISSONS_RATIO"]
        assert _floats(p["coefficients"]) == [performance.E, performance.NU]
    (yf,) = by_type["YieldFunction"]
    assert float(yf["yield_stress"]) == performance.SY
    (lin,) = by_type["LinearIsotropicHardening"]
    assert float(lin["hardening_modulus"]) == performance.H
    model = performance.make_model(case)
    if case == "j2-voce":
        (voce,) = by_type["VoceIsotropicHardening"]
        assert float(voce["saturated_hardening"]) == float(model.Q)
        assert float(voce["saturation_rate"]) == float(model.b)
        (total,) = [p for p in by_type["ScalarLinearCombination"] if p["to"] == yf["isotropic_hardening"]]
        assert _floats(total["weights"]) == [1.0, 1.0]
        assert set(total["from"].split()) == {lin["isotropic_hardening"], voce["isotropic_hardening"]}
    else:
        assert "VoceIsotropicHardening" not in by_type
        assert lin["isotropic_hardening"] == yf["isotropic_hardening"]
    # the model is the same (E, nu, sigma_y, H) as benchmarks/performance.py's
    assert (float(model.E), float(model.nu), float(model.sigma_y), float(model.H)) == (
        performance.E, performance.NU, performance.SY, performance.H,
    )  # fmt: skip
    # the backward-Euler return map: an ImplicitUpdate of a NonlinearSystem solved by Newton
    (iu,) = by_type["ImplicitUpdate"]
    assert blocks[f"Solvers/{iu['solver']}"]["type"] == "Newton"
    assert blocks[f"EquationSystems/{iu['equation_system']}"]["type"] == "NonlinearSystem"
    assert models["model"]["type"] == "ComposedModel"


def test_parse_hit_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_hit("[Models]\n  [a]\n    type = X\n  []\n")
    with pytest.raises(ValueError):
        parse_hit("[Models]\n  what is this\n[]\n")


def _neml2_python() -> str | None:
    python = os.environ.get("CONSTITUTIVE_NEML2_PYTHON")
    if not python:
        return None
    try:
        ok = subprocess.run([python, "-c", "import neml2"], capture_output=True, cwd="/", timeout=300)
    except OSError:
        return None
    return python if ok.returncode == 0 else None


@pytest.mark.parametrize("case", neml2_j2.CASES)
def test_neml2_agrees(case: str) -> None:
    python = _neml2_python()
    if python is None:
        pytest.skip("CONSTITUTIVE_NEML2_PYTHON does not name a python with neml2")
    res = neml2_j2.measure_neml2(python, case, 1000, repeat=1, threads=1)
    assert res["pts_s"] > 0 and res["neml2"] and res["torch"]
    assert res["max_rel_err_stress"] < 1e-10
    assert res["max_rel_err_tangent"] < 1e-10
