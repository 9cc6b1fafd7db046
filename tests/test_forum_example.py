"""The forum example (examples/forum_question.py) reproduces the closed-form answers in every convention."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "forum_question.py"


def load_example():
    spec = importlib.util.spec_from_file_location("forum_question", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_forum_example_answers(capsys) -> None:
    out = load_example().main()
    printed = capsys.readouterr().out
    assert "convention 'components'" in printed and "Mandel" in printed
    X = torch.tensor(out["X"], dtype=torch.float64)
    torch.testing.assert_close(torch.tensor(out["Y"], dtype=torch.float64), X @ X)
    # Closed form of d(X X)/dX on nine entries: J_ijkl = δ_ik X_lj + X_ik δ_jl, at (1,2,1,2) and (1,2,2,1).
    d = torch.eye(3, dtype=torch.float64)

    def J(i: int, j: int, k: int, l: int) -> float:
        return float(d[i, k] * X[l, j] + X[i, k] * d[j, l])

    full = (J(1, 2, 1, 2), J(1, 2, 2, 1))
    assert full == (2.0, 0.0)  # the forum's dY[1,2]/dX[2,1] = 0
    sym = 0.5 * (full[0] + full[1])
    expected = {
        "autograd_raw": full,
        "full": full,
        "autograd_symmetrized_inside": (sym, sym),
        "symmetric": (sym, sym),
        "components": (2 * sym, 2 * sym),
    }
    for key, (a, b) in expected.items():
        assert out[key]["[1, 2, 1, 2]"] == pytest.approx(a, abs=1e-14), key
        assert out[key]["[1, 2, 2, 1]"] == pytest.approx(b, abs=1e-14), key
    assert out["identity_symmetrized"] == {"[0, 1, 0, 1]": 0.5, "[0, 1, 1, 0]": 0.5}
    assert out["lower_triangular"] == {"[1, 2, 2, 1]": 2 * sym, "[1, 2, 1, 2]": 0.0}
    voigt = torch.tensor(out["voigt"])
    comp = torch.tensor(out["components_voigt"])
    torch.testing.assert_close(comp, voigt * torch.tensor([1.0, 1, 1, 2, 2, 2]))
    torch.testing.assert_close(torch.tensor(out["six_parameter"]), comp)
    mandel = torch.tensor(out["mandel"])
    w = torch.tensor([1.0, 1, 1, 2**0.5, 2**0.5, 2**0.5])
    torch.testing.assert_close(mandel, w[:, None] * voigt * w[None, :])  # Mandel: C_IJ = w_I w_J C_ijkl
    # Voigt slot 23 (index 3) against slot 23: C_2323 = ½(J_1212 + J_1221).
    assert float(voigt[3, 3]) == pytest.approx(sym)
    assert out["check_symmetric_passed"] is True
    assert out["check_components_as_tangent_passed"] is False
