"""Notation layer: round trips, invariance of inner products, the FE tables, 2D reductions, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from constitutive import notation as N
from constitutive import tensor as T

ORDERS = list(N.ORDERS)
finite = st.floats(-100.0, 100.0, allow_nan=False, allow_infinity=False, width=64)

# The tables as published (issue text and the FE manuals), written independently of N.ORDERS.
PUBLISHED = {
    "voigt": ["11", "22", "33", "23", "13", "12"],
    "abaqus": ["11", "22", "33", "12", "13", "23"],
    "ansys": ["11", "22", "33", "12", "23", "13"],
    "lsdyna": ["11", "22", "33", "12", "23", "31"],
}


def sym_batch() -> st.SearchStrategy[torch.Tensor]:
    return st.integers(1, 3).flatmap(
        lambda n: arrays(np.float64, (n, 3, 3), elements=finite).map(lambda a: T.sym(torch.from_numpy(a)))
    )


def stiffness_batch() -> st.SearchStrategy[torch.Tensor]:
    """Random minor- and major-symmetric positive-definite stiffness tensors (via a random Mandel matrix)."""

    def build(a: np.ndarray) -> torch.Tensor:
        M = torch.from_numpy(a)
        M = M @ M.transpose(-1, -2) + 6.0 * torch.eye(6, dtype=torch.float64)
        return N.from_mandel(M, "stiffness")

    return st.integers(1, 3).flatmap(
        lambda n: arrays(np.float64, (n, 6, 6), elements=st.floats(-3, 3, width=64)).map(build)
    )


@pytest.mark.parametrize("order", ORDERS)
def test_orders_match_published_tables(order: str) -> None:
    assert N.component_labels(order) == PUBLISHED[order]
    # a tensor whose entries encode their (unordered) index pair lands in the slots of the table
    x = torch.zeros(3, 3, dtype=torch.float64)
    for i in range(3):
        for j in range(3):
            x[i, j] = 10 * (min(i, j) + 1) + (max(i, j) + 1)
    v = N.to_voigt(x, "stress", order)
    expected = [float("".join(sorted(label))) for label in PUBLISHED[order]]
    assert v.tolist() == expected


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("notation", ["voigt", "mandel"])
@given(x=sym_batch())
def test_second_order_round_trip(order: str, notation: str, x: torch.Tensor) -> None:
    for quantity in ("stress", "strain"):
        v = N.to_notation(x, quantity, notation, order)
        assert v.shape == (*x.shape[:-2], 6)
        assert torch.allclose(N.from_notation(v, quantity, notation, order), x, rtol=0, atol=1e-12)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("notation", ["voigt", "mandel"])
@given(C=stiffness_batch())
def test_fourth_order_round_trip(order: str, notation: str, C: torch.Tensor) -> None:
    for quantity in ("stiffness", "compliance"):
        M = N.to_notation(C, quantity, notation, order)
        assert M.shape == (*C.shape[:-4], 6, 6)
        assert torch.allclose(N.from_notation(M, quantity, notation, order), C, atol=1e-12)


@pytest.mark.parametrize("order", ORDERS)
@given(sigma=sym_batch(), eps=sym_batch(), C=stiffness_batch())
def test_inner_products_and_contractions_preserved(order: str, sigma, eps, C) -> None:
    n = min(sigma.shape[0], eps.shape[0], C.shape[0])
    sigma, eps, C = sigma[:n], eps[:n], C[:n]
    work = T.ddot(sigma, eps)
    sv, ev = N.to_voigt(sigma, "stress", order), N.to_voigt(eps, "strain", order)
    sm, em = N.to_mandel(sigma, "stress", order), N.to_mandel(eps, "strain", order)
    assert torch.allclose((sv * ev).sum(-1), work, rtol=1e-12, atol=1e-9)
    assert torch.allclose((sm * em).sum(-1), work, rtol=1e-12, atol=1e-9)
    # sigma_V = C_V eps_V equals the tensor contraction, in Voigt and Mandel
    s_tensor = T.ddot42(C, eps)
    CV = N.to_voigt(C, "stiffness", order)
    assert torch.allclose((CV @ ev[..., None])[..., 0], N.to_voigt(s_tensor, "stress", order), atol=1e-9)
    CM = N.to_mandel(C, "stiffness", order)
    assert torch.allclose((CM @ em[..., None])[..., 0], N.to_mandel(s_tensor, "stress", order), atol=1e-9)
    # Voigt compliance (of the tensor inverse, computed in Mandel) inverts Voigt stiffness
    S_tensor = N.from_mandel(torch.linalg.inv(CM), "compliance", order)
    SV = N.to_voigt(S_tensor, "compliance", order)
    assert torch.allclose(SV @ CV, torch.eye(6, dtype=torch.float64).expand_as(CV), atol=1e-10)
    # Mandel preserves norms
    assert torch.allclose(torch.linalg.vector_norm(sm, dim=-1), T.norm(sigma), rtol=1e-12)
    assert torch.allclose(torch.linalg.matrix_norm(CM), T.norm(C), rtol=1e-12)


def isotropic(lmbda: float, mu: float) -> torch.Tensor:
    I = torch.eye(3, dtype=torch.float64)
    return lmbda * T.dyad(I, I) + 2 * mu * T.identity4_sym()


@pytest.mark.parametrize("order", ORDERS)
def test_isotropic_mandel_eigenvalues(order: str) -> None:
    lmbda, mu = 115.0, 77.0
    K = lmbda + 2 * mu / 3
    eig = torch.linalg.eigvalsh(N.to_mandel(isotropic(lmbda, mu), "stiffness", order))
    assert torch.allclose(eig, torch.tensor([2 * mu] * 5 + [3 * K], dtype=torch.float64))


def test_voigt_factors_explicit() -> None:
    eps = torch.tensor([[1.0, 0.1, 0.2], [0.1, 2.0, 0.3], [0.2, 0.3, 3.0]], dtype=torch.float64)
    assert N.to_voigt(eps, "strain").tolist() == pytest.approx([1, 2, 3, 0.6, 0.4, 0.2])
    assert N.to_voigt(eps, "stress").tolist() == pytest.approx([1, 2, 3, 0.3, 0.2, 0.1])
    r2 = math.sqrt(2)
    assert N.to_mandel(eps, "strain").tolist() == pytest.approx([1, 2, 3, 0.3 * r2, 0.2 * r2, 0.1 * r2])
    C = isotropic(100.0, 50.0)
    assert N.to_voigt(C, "stiffness")[3, 3] == pytest.approx(50.0)  # C_2323 = mu, no factor
    assert N.to_mandel(C, "stiffness")[3, 3] == pytest.approx(100.0)  # 2 C_2323
    S = N.from_mandel(torch.linalg.inv(N.to_mandel(C, "stiffness")), "compliance")
    assert N.to_voigt(S, "compliance")[3, 3] == pytest.approx(1 / 50.0)  # 4 S_2323 = 1/G
    assert S[1, 2, 1, 2] == pytest.approx(1 / 200.0)


def test_reorder_and_convert() -> None:
    x = T.sym(torch.randn(4, 3, 3, dtype=torch.float64))
    C = isotropic(3.0, 2.0) + 0.1 * N.from_mandel(
        torch.randn(6, 6, dtype=torch.float64).mT @ torch.randn(6, 6, dtype=torch.float64), "stiffness"
    )
    for a in ORDERS:
        for b in ORDERS:
            assert torch.allclose(N.reorder(N.to_voigt(x, "strain", a), a, b), N.to_voigt(x, "strain", b))
            assert torch.allclose(N.reorder(N.to_voigt(C, "stiffness", a), a, b), N.to_voigt(C, "stiffness", b))
    v = N.convert(N.to_voigt(x, "strain", "abaqus"), "strain", from_=("voigt", "abaqus"), to=("mandel", "voigt"))
    assert torch.allclose(v, N.to_mandel(x, "strain", "voigt"))


# --------------------------------------------------------------------------------------------------- 2D reductions
E, NU = 210.0, 0.3
LMBDA, MU = E * NU / ((1 + NU) * (1 - 2 * NU)), E / (2 * (1 + NU))


def test_plane_stress_condensation_closed_form() -> None:
    expected = E / (1 - NU**2) * torch.tensor([[1, NU, 0], [NU, 1, 0], [0, 0, (1 - NU) / 2]], dtype=torch.float64)
    C = isotropic(LMBDA, MU)
    assert torch.allclose(N.reduce(C, "stiffness", "plane_stress"), expected)
    assert torch.allclose(N.reduce(C, "stiffness", "shell"), expected)
    batch = torch.stack([C, 2 * C])
    assert torch.allclose(N.reduce(batch, "stiffness", "plane_stress"), torch.stack([expected, 2 * expected]))


@pytest.mark.parametrize("kind", ["plane_strain", "axisymmetric"])
def test_plane_strain_and_axisymmetric_hand_written(kind: str) -> None:
    l, m = LMBDA, MU
    expected = torch.tensor(
        [[l + 2 * m, l, l, 0], [l, l + 2 * m, l, 0], [l, l, l + 2 * m, 0], [0, 0, 0, m]], dtype=torch.float64
    )
    assert torch.allclose(N.reduce(isotropic(l, m), "stiffness", kind), expected)
    eps = torch.tensor([[1.0, 0.5, 0.0], [0.5, 2.0, 0.0], [0.0, 0.0, 3.0]], dtype=torch.float64)
    assert N.reduce(eps, "strain", kind).tolist() == [1.0, 2.0, 3.0, 1.0]  # 11 22 33 and gamma_12
    with pytest.raises(ValueError, match="compliance"):
        N.reduce(isotropic(l, m), "compliance", kind)


def test_shell_condensation_equals_inverse_of_compliance_block() -> None:
    A = torch.randn(6, 6, dtype=torch.float64)
    CM = A @ A.T + 6 * torch.eye(6, dtype=torch.float64)  # a general anisotropic stiffness
    C = N.from_mandel(CM, "stiffness")
    S = N.from_mandel(torch.linalg.inv(CM), "compliance")
    SV3 = N.reduce(S, "compliance", "shell")
    assert torch.allclose(N.reduce(C, "stiffness", "shell"), torch.linalg.inv(SV3), atol=1e-10)
    # plane stress (σ33 = 0 with ε13 = ε23 = 0): sigma33 of the expanded strain state vanishes
    Cps = N.reduce(C, "stiffness", "plane_stress")
    e = torch.tensor([1e-3, -2e-3, 5e-4], dtype=torch.float64)  # ε11, ε22, γ12
    CV = N.to_voigt(C, "stiffness", "abaqus")
    e33 = -(CV[2, [0, 1, 3]] @ e) / CV[2, 2]
    full = torch.stack(
        [
            e[0],
            e[1],
            e33,
            e[2],
            torch.tensor(0.0, dtype=torch.float64),
            torch.tensor(0.0, dtype=torch.float64),
        ]
    )
    s = CV @ full
    assert abs(float(s[2])) < 1e-12
    assert torch.allclose(Cps @ e, s[[0, 1, 3]])


# --------------------------------------------------------------------------------------------------- bad input
def test_bad_input_messages() -> None:
    x = torch.eye(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="unknown quantity"):
        N.to_voigt(x, "stres")
    with pytest.raises(ValueError, match="unknown component order"):
        N.to_voigt(x, "stress", "nastran")
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3, 3\)"):
        N.to_voigt(torch.zeros(6), "stress")
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 6\)"):
        N.from_voigt(torch.zeros(3, 3), "strain")
    y = x.clone()
    y[0, 1] = 1.0
    with pytest.raises(ValueError, match="symmetric"):
        N.to_mandel(y, "strain")
    with pytest.raises(ValueError, match="NaN"):
        N.to_voigt(torch.full((3, 3), float("nan")), "stress")
    C = T.identity4()  # not minor-symmetric
    with pytest.raises(ValueError, match="minor-symmetric"):
        N.to_voigt(C, "stiffness")
    with pytest.raises(ValueError, match="unknown 2D reduction"):
        N.reduce(x, "stress", "plane")


def test_float32_and_numpy_inputs() -> None:
    x32 = T.sym(torch.randn(3, 3))
    assert N.to_mandel(x32, "stress").dtype == torch.float32
    v = N.to_voigt(np.eye(3), "strain")
    assert v.dtype == torch.float64 and v.tolist() == [1, 1, 1, 0, 0, 0]


def test_plane_stress_compliance_is_inverse_of_condensed_stiffness_for_anisotropy() -> None:
    # Review fix: the plane-stress compliance was the plain 11-22-12 sub-block of the 3D compliance, which is the
    # inverse of the condensed stiffness only when the in-plane block does not couple to 13/23 (isotropy).
    gen = torch.Generator().manual_seed(3)
    A = torch.randn(2, 6, 6, generator=gen, dtype=torch.float64)
    CM = A @ A.mT + 6 * torch.eye(6, dtype=torch.float64)  # general anisotropic stiffness, batched
    C = N.from_mandel(CM, "stiffness")
    S = N.from_mandel(torch.linalg.inv(CM), "compliance")
    for notation in ("voigt", "mandel"):
        Cps = N.reduce(C, "stiffness", "plane_stress", notation)
        Sps = N.reduce(S, "compliance", "plane_stress", notation)
        assert torch.allclose(Sps @ Cps, torch.eye(3, dtype=torch.float64).expand(2, 3, 3), atol=1e-10)
    # isotropic: still the closed form 1/E [[1, -ν, 0], [-ν, 1, 0], [0, 0, 2(1 + ν)]] (Voigt, engineering shear)
    C_iso = isotropic(LMBDA, MU)
    S_iso = N.from_mandel(torch.linalg.inv(N.to_mandel(C_iso, "stiffness")), "compliance")
    expected = torch.tensor([[1, -NU, 0], [-NU, 1, 0], [0, 0, 2 * (1 + NU)]], dtype=torch.float64) / E
    assert torch.allclose(N.reduce(S_iso, "compliance", "plane_stress"), expected)


def test_first_call_under_inference_mode_does_not_poison_autograd() -> None:
    # Review fix: the cached basis was created on first use; under torch.inference_mode it became an inference
    # tensor and every later differentiable conversion failed ("Inference tensors cannot be saved for backward").
    N._basis.cache_clear()
    with torch.inference_mode():
        for quantity in N.QUANTITIES:
            shape = (3, 3) if quantity in ("stress", "strain") else (3, 3, 3, 3)
            x = torch.zeros(shape, dtype=torch.float64)
            N.from_voigt(N.to_voigt(x, quantity), quantity)
    eps = T.sym(torch.randn(2, 3, 3, dtype=torch.float64)).requires_grad_()
    N.to_voigt(eps, "strain").sum().backward()
    # d(sum of Voigt strain)/d eps: 1 on the diagonal, 2 (γ = 2ε) split over the two shear entries
    assert torch.allclose(eps.grad, torch.ones(2, 3, 3, dtype=torch.float64))
