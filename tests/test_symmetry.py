"""Symmetry tools: asymmetry measures and orthogonal projections."""

from __future__ import annotations

import pytest
import torch

from constitutive import notation as N
from constitutive import tensor as T
from constitutive.symmetry import asymmetry, symmetrize


def test_projection_properties() -> None:
    C = torch.randn(4, 3, 3, 3, 3, dtype=torch.float64)
    P = symmetrize(C, minor=True, major=True)
    a = asymmetry(P)
    assert float(a["minor"].max()) < 1e-14 and float(a["major"].max()) < 1e-14
    assert torch.allclose(symmetrize(P, minor=True, major=True), P)  # idempotent
    # orthogonal: the residual is orthogonal to every minor-symmetric tensor
    R = C - symmetrize(C)
    D = symmetrize(torch.randn(4, 3, 3, 3, 3, dtype=torch.float64))
    assert torch.allclose((R * D).sum(dim=(-1, -2, -3, -4)), torch.zeros(4, dtype=torch.float64), atol=1e-12)
    # minor and major projections commute
    assert torch.allclose(symmetrize(symmetrize(C, minor=False, major=True)), symmetrize(C, major=True))


def test_asymmetry_values() -> None:
    I = torch.eye(3, dtype=torch.float64)
    a = asymmetry(T.identity4())  # δik δjl: major-symmetric, not minor-symmetric
    assert float(a["major"]) == pytest.approx(0.0)
    assert float(a["minor"]) == pytest.approx(float(T.norm(T.identity4() - T.identity4_transpose()) / 3.0))
    C = T.dyad(I, torch.diag(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)))
    assert float(asymmetry(C)["major"]) > 0.1
    with pytest.raises(ValueError, match="notation"):
        asymmetry(torch.eye(6))
    M = torch.eye(6, dtype=torch.float64)
    M[0, 1] = 1.0
    assert float(asymmetry(M, "voigt")["major"]) == pytest.approx(2**0.5 / (7**0.5))
    # 6x6 and tensor forms agree on major asymmetry in Mandel
    A = torch.randn(6, 6, dtype=torch.float64)
    Cf = N.from_mandel(A, "stiffness")
    assert float(asymmetry(A, "mandel")["major"]) == pytest.approx(float(asymmetry(Cf)["major"]))
