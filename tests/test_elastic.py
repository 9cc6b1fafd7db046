"""Linear elasticity: conversions, admissibility, closed forms, symmetry classes, rotations, bounds, published data.

The harness (tests/test_model_harness.py, entries in tests/cases/elastic.py) already checks tangents against finite
differences, AD, symmetries, batching and float32 for every class; here are the model-specific facts.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from constitutive.models import (
    Anisotropic,
    Cubic,
    LinearElastic,
    Orthotropic,
    TransverselyIsotropic,
    elastic_constants,
    hill_average,
    reuss_average,
    voigt_average,
)
from constitutive.models.elastic import rotate_stiffness
from constitutive.notation import convert, reorder, to_mandel, to_voigt
from constitutive.tensor import ddot, ddot42, ddot44, identity4_sym

F64 = torch.float64


def _sym(n: int, scale: float = 1e-3) -> torch.Tensor:
    a = torch.randn(n, 3, 3, dtype=F64)
    return scale * 0.5 * (a + a.transpose(-1, -2))


def _rotation(n: int = 1) -> torch.Tensor:
    q, r = torch.linalg.qr(torch.randn(n, 3, 3, dtype=F64))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))[..., None, :]
    q[..., :, 0] *= torch.linalg.det(q)[..., None]
    return q


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-12) -> bool:
    return float((a - b).abs().max()) <= rtol * max(float(b.abs().max()), 1e-300)


# ------------------------------------------------------------------------------------------ isotropic constants
STEEL = {"E": 210000.0, "nu": 0.3}
STEEL_ALL = {
    "E": 210000.0,
    "nu": 0.3,
    "lmbda": 210000.0 * 0.3 / (1.3 * 0.4),  # 121153.846...
    "mu": 210000.0 / 2.6,  # 80769.23...
    "G": 210000.0 / 2.6,
    "K": 210000.0 / 1.2,  # 175000
}


@pytest.mark.parametrize("pair", [p for p in combinations(["E", "nu", "lmbda", "mu", "K"], 2)] + [("E", "G")])
def test_every_pair_gives_the_same_material(pair: tuple[str, str]) -> None:
    m = LinearElastic(**{k: STEEL_ALL[k] for k in pair})
    assert math.isclose(float(m.E), 210000.0, rel_tol=1e-13)
    assert math.isclose(float(m.nu), 0.3, rel_tol=1e-13)
    for k in ("lmbda", "mu", "G", "K"):
        assert math.isclose(float(getattr(m, k)), STEEL_ALL[k], rel_tol=1e-13)
    d = m.to_dict()
    assert d["model"] == "LinearElastic" and set(d["parameters"]) == {"E", "nu"}  # canonical storage
    assert d["parameters"] == pytest.approx(STEEL, rel=1e-13)


@given(E=st.floats(1e-3, 1e6), nu=st.floats(-0.99, 0.49))
def test_conversions_round_trip(E: float, nu: float) -> None:
    c = elastic_constants(E=E, nu=nu)
    for a, b in combinations(["E", "nu", "lmbda", "mu", "K"], 2):
        if {a, b} == {"nu", "lmbda"} and abs(nu) < 1e-3:
            continue  # λ → 0 as ν → 0: E is ill-conditioned from (ν, λ)
        back = elastic_constants(**{a: c[a], b: c[b]})
        assert math.isclose(float(back["E"]), E, rel_tol=1e-8), (a, b)
        assert math.isclose(float(back["nu"]), nu, rel_tol=1e-8, abs_tol=1e-10), (a, b)


def test_stiffness_and_compliance_closed_forms() -> None:
    m = LinearElastic(**STEEL)
    I = torch.eye(3, dtype=F64)
    IxI = torch.einsum("ij,kl->ijkl", I, I)
    Is = identity4_sym(F64)
    lam, mu = STEEL_ALL["lmbda"], STEEL_ALL["mu"]
    assert _close(m.stiffness(), lam * IxI + 2 * mu * Is)
    assert _close(m.compliance(), -0.3 / 210000.0 * IxI + 1.3 / 210000.0 * Is)
    # The textbook Voigt compliance: 1/E on the diagonal, -ν/E off it, 1/G = 2(1 + ν)/E on shear.
    S_V = to_voigt(m.compliance(), "compliance")
    expected = torch.zeros(6, 6, dtype=F64)
    expected[:3, :3] = -0.3 / 210000.0
    expected[range(3), range(3)] = 1 / 210000.0
    expected[range(3, 6), range(3, 6)] = 2.6 / 210000.0
    assert _close(S_V, expected)
    # and the generic Mandel inverse agrees with the closed form
    assert _close(super(LinearElastic, m).compliance(), m.compliance(), 1e-12)


def test_uniaxial_stress_response() -> None:
    m = LinearElastic(**STEEL)
    sigma0 = 355.0
    eps = torch.diag(torch.tensor([sigma0 / 210000.0, -0.3 * sigma0 / 210000.0, -0.3 * sigma0 / 210000.0], dtype=F64))
    assert _close(m.stress(eps), torch.diag(torch.tensor([sigma0, 0.0, 0.0], dtype=F64)), 1e-12)
    # simple shear: σ12 = G γ
    gamma = 1e-3
    eps = torch.zeros(3, 3, dtype=F64)
    eps[0, 1] = eps[1, 0] = gamma / 2
    assert math.isclose(float(m.stress(eps)[0, 1]), STEEL_ALL["G"] * gamma, rel_tol=1e-13)
    # energy ψ = ½ σ : ε
    e = _sym(5)
    assert _close(m.energy(e), 0.5 * ddot(m.stress(e), e))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"E": 1.0, "nu": 0.5}, "'nu'"),
        ({"E": 1.0, "nu": 0.7}, "'nu'"),
        ({"E": 1.0, "nu": -1.0}, "'nu'"),
        ({"E": -1.0, "nu": 0.3}, "'E'"),
        ({"E": 0.0, "nu": 0.3}, "'E'"),
        ({"K": -1.0, "G": 1.0}, "'K'"),
        ({"K": 1.0, "G": -1.0}, "'G'"),
        ({"K": 1.0, "mu": 0.0}, "'mu'"),
        ({"E": float("nan"), "nu": 0.3}, "'E'"),
        ({"E": 1.0}, "under-specified"),
        ({}, "under-specified"),
        ({"E": 1.0, "nu": 0.2, "K": 1.0}, "over-specified"),
        ({"mu": 1.0, "G": 1.0}, "same shear modulus"),
        ({"E": 1.0, "K": 0.1}, "inadmissible"),  # ν < -1
        ({"E": 10.0, "G": 1.0}, "inadmissible"),  # ν = 4
        ({"lmbda": -5.0, "mu": 1.0}, "inadmissible"),  # K < 0
        ({"nu": 0.0, "lmbda": 0.0}, "do not determine"),
    ],
)
def test_inadmissible_isotropic_constants(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LinearElastic(**kwargs)


def test_with_parameters() -> None:
    m = LinearElastic(**STEEL)
    assert float(m.with_parameters(E=70000.0).E) == 70000.0
    assert float(m.with_parameters(E=70000.0).nu) == 0.3
    m2 = m.with_parameters(lmbda=1.0, mu=1.0)
    assert math.isclose(float(m2.nu), 0.25) and math.isclose(float(m2.E), 2.5)
    with pytest.raises(ValueError, match="ambiguous"):
        m.with_parameters(K=100.0)
    with pytest.raises(ValueError, match="'nu'"):
        m.with_parameters(nu=0.5)


def test_parameters_are_differentiable() -> None:
    E = torch.tensor(210000.0, dtype=F64, requires_grad=True)
    nu = torch.tensor(0.3, dtype=F64, requires_grad=True)
    m = LinearElastic(E, nu)
    assert m.E is E  # kept as the caller's leaf
    e = _sym(3)
    w = torch.randn(3, 3, 3, dtype=F64)
    (m.stress(e) * w).sum().backward()

    def f(E_: float, nu_: float) -> float:
        return float((LinearElastic(E_, nu_).stress(e) * w).sum())

    h = 1e-4
    assert math.isclose(float(E.grad), (f(210000 + 1e-1, 0.3) - f(210000 - 1e-1, 0.3)) / 2e-1, rel_tol=1e-6)
    assert math.isclose(float(nu.grad), (f(210000, 0.3 + h) - f(210000, 0.3 - h)) / (2 * h), rel_tol=1e-6)
    # from another pair the gradient flows back to that pair
    K = torch.tensor(175000.0, dtype=F64, requires_grad=True)
    G = torch.tensor(80000.0, dtype=F64, requires_grad=True)
    m = LinearElastic(K=K, G=G)
    eps = torch.eye(3, dtype=F64) * 1e-3  # pure dilatation: σ = 3K ε_v/3 I -> dσ11/dK = 3e-3, dσ11/dG = 0
    m.stress(eps)[0, 0].backward()
    assert math.isclose(float(K.grad), 3e-3, rel_tol=1e-10) and abs(float(G.grad)) < 1e-14


# ---------------------------------------------------------------------------------------- anisotropic classes
ORTHO = dict(E1=140e3, E2=10e3, E3=9e3, nu12=0.3, nu13=0.28, nu23=0.45, G12=5e3, G13=4.8e3, G23=3.5e3)


def test_compliance_inverts_stiffness_every_class() -> None:
    models = [
        LinearElastic(**STEEL),
        TransverselyIsotropic(12e3, 70e3, 0.4, 0.05, 4e3, axis=(1.0, 2.0, 2.0)),
        Orthotropic(**ORTHO, axes=_rotation()[0]),
        Cubic(168.4, 121.4, 75.4, axes=_rotation()[0]),
        Anisotropic(to_voigt(Orthotropic(**ORTHO).stiffness(), "stiffness")),
    ]
    Is = identity4_sym(F64)
    for m in models:
        assert _close(ddot44(m.stiffness(), m.compliance()), Is, 1e-12), type(m).__name__
        assert _close(ddot44(m.compliance(), m.stiffness()), Is, 1e-12), type(m).__name__
        # Voigt matrices: S_V = C_V^{-1} with the notation layer's factors
        C_V = to_voigt(m.stiffness(), "stiffness")
        S_V = to_voigt(m.compliance(), "compliance")
        assert _close(S_V @ C_V, torch.eye(6, dtype=F64), 1e-12)
        assert bool((m.mandel_eigenvalues() > 0).all())


def test_orthotropic_engineering_constants_are_recovered() -> None:
    m = Orthotropic(**ORTHO)
    S = m.compliance()
    # uniaxial stress along each material axis: ε_i = σ/E_i, ε_j = -ν_ij σ/E_i
    for i, (E, others) in enumerate(
        [("E1", {1: "nu12", 2: "nu13"}), ("E2", {2: "nu23"}), ("E3", {})],
    ):
        sig = torch.zeros(3, 3, dtype=F64)
        sig[i, i] = 100.0
        eps = ddot42(S, sig)
        assert math.isclose(float(eps[i, i]), 100.0 / ORTHO[E], rel_tol=1e-13)
        for j, nu in others.items():
            assert math.isclose(float(eps[j, j]), -ORTHO[nu] * 100.0 / ORTHO[E], rel_tol=1e-12)
    # reciprocity ν21 = ν12 E2/E1
    sig = torch.zeros(3, 3, dtype=F64)
    sig[1, 1] = 1.0
    eps = ddot42(S, sig)
    assert math.isclose(-float(eps[0, 0]) / float(eps[1, 1]), 0.3 * 10e3 / 140e3, rel_tol=1e-12)
    # shear: γ_ij = τ/G_ij
    for (i, j), G in {(0, 1): "G12", (0, 2): "G13", (1, 2): "G23"}.items():
        sig = torch.zeros(3, 3, dtype=F64)
        sig[i, j] = sig[j, i] = 10.0
        assert math.isclose(2 * float(ddot42(S, sig)[i, j]), 10.0 / ORTHO[G], rel_tol=1e-13)


def test_orthotropic_with_equal_constants_is_isotropic() -> None:
    E, nu = 70e3, 0.33
    G = E / (2 * (1 + nu))
    iso = LinearElastic(E, nu)
    for axes in (None, _rotation()[0]):
        o = Orthotropic(E, E, E, nu, nu, nu, G, G, G, axes=axes)
        assert _close(o.stiffness(), iso.stiffness(), 1e-12)
        assert _close(o.compliance(), iso.compliance(), 1e-12)
    t = TransverselyIsotropic(E, E, nu, nu, G, axis=(0.3, -1.0, 2.0))
    assert _close(t.stiffness(), iso.stiffness(), 1e-12)
    c = Cubic(iso.lmbda + 2 * iso.mu, iso.lmbda, iso.mu, axes=_rotation()[0])  # C44 = (C11 - C12)/2
    assert _close(c.stiffness(), iso.stiffness(), 1e-12)
    assert math.isclose(float(c.zener_ratio), 1.0, rel_tol=1e-13)


def test_orthotropic_axes_rotate_the_response() -> None:
    A = _rotation()[0]  # rows = material axes
    rotated = Orthotropic(**ORTHO, axes=A)
    material = Orthotropic(**ORTHO)
    eps = _sym(4)
    # σ = Aᵀ σ_mat(A ε Aᵀ) A
    expected = A.T @ material.stress(A @ eps @ A.T) @ A
    assert _close(rotated.stress(eps), expected, 1e-12)
    # rotating by a material symmetry (π about axis 1) changes nothing
    flip = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=F64))
    assert _close(Orthotropic(**ORTHO, axes=flip).stiffness(), material.stiffness(), 1e-13)


def test_transversely_isotropic_rotated_axis_equals_rotating_the_strain() -> None:
    ref = TransverselyIsotropic(12e3, 70e3, 0.4, 0.05, 4e3)  # axis e3
    for Q in _rotation(3):
        n = Q[:, 2]  # Q e3
        m = TransverselyIsotropic(12e3, 70e3, 0.4, 0.05, 4e3, axis=3.0 * n)  # length does not matter
        eps = _sym(5)
        assert _close(m.stress(eps), Q @ ref.stress(Q.T @ eps @ Q) @ Q.T, 1e-12)
    # isotropic in the plane: any rotation about the axis is a symmetry
    c, s = math.cos(0.9), math.sin(0.9)
    Rz = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=F64)
    assert _close(rotate_stiffness(ref.stiffness(), Rz), ref.stiffness(), 1e-12)


def test_transversely_isotropic_engineering_constants() -> None:
    Ep, Et, nup, nupt, Gt = 12e3, 70e3, 0.4, 0.05, 4e3
    m = TransverselyIsotropic(Ep, Et, nup, nupt, Gt)
    S = m.compliance()
    sig = torch.zeros(3, 3, dtype=F64)
    sig[0, 0] = 1.0  # along p (in the plane)
    eps = ddot42(S, sig)
    assert math.isclose(float(eps[0, 0]), 1 / Ep, rel_tol=1e-13)
    assert math.isclose(-float(eps[1, 1]) / float(eps[0, 0]), nup, rel_tol=1e-12)  # ν_p
    assert math.isclose(-float(eps[2, 2]) / float(eps[0, 0]), nupt, rel_tol=1e-12)  # ν_pt = -ε_t/ε_p
    sig = torch.zeros(3, 3, dtype=F64)
    sig[2, 2] = 1.0  # along t (the axis)
    eps = ddot42(S, sig)
    assert math.isclose(float(eps[2, 2]), 1 / Et, rel_tol=1e-13)
    assert math.isclose(-float(eps[0, 0]) / float(eps[2, 2]), nupt * Et / Ep, rel_tol=1e-12)  # ν_tp
    # in-plane shear modulus G_p = E_p / (2 (1 + ν_p)), transverse G_t
    C = m.stiffness()
    assert math.isclose(float(C[0, 1, 0, 1]), Ep / (2 * (1 + nup)), rel_tol=1e-12)
    assert math.isclose(float(C[0, 2, 0, 2]), Gt, rel_tol=1e-12)


# Copper single crystal, GPa (Simmons & Wang 1971; Kittel, Introduction to Solid State Physics, table 4.3).
CU = (168.4, 121.4, 75.4)


def test_cubic_copper_published_constants() -> None:
    C11, C12, C44 = CU
    m = Cubic(*CU)
    # Zener ratio 2 C44/(C11 - C12) = 150.8/47 = 3.21 (copper's well-known strong anisotropy)
    assert math.isclose(float(m.zener_ratio), 150.8 / 47.0, rel_tol=1e-14)
    assert round(float(m.zener_ratio), 2) == 3.21
    # Mandel eigenvalues: C11 + 2 C12 (bulk), C11 - C12 (x2), 2 C44 (x3)
    eig = m.mandel_eigenvalues()
    expected = torch.tensor(sorted([C11 + 2 * C12, C11 - C12, C11 - C12, 2 * C44, 2 * C44, 2 * C44]), dtype=F64)
    assert _close(eig, expected, 1e-13)
    # Voigt and Reuss bounds, closed forms for cubic crystals
    KV, GV = voigt_average(m.stiffness())
    KR, GR = reuss_average(m.stiffness())
    K = (C11 + 2 * C12) / 3
    assert math.isclose(float(KV), K, rel_tol=1e-13) and math.isclose(float(KR), K, rel_tol=1e-12)
    assert math.isclose(float(GV), (C11 - C12 + 3 * C44) / 5, rel_tol=1e-13)  # 54.64
    assert math.isclose(float(GR), 5 * (C11 - C12) * C44 / (4 * C44 + 3 * (C11 - C12)), rel_tol=1e-12)  # 40.03
    KH, GH = hill_average(m.stiffness())
    assert float(GR) < float(GH) < float(GV)
    # Directional Young's moduli: E<100> = 1/S11 = 66.7 GPa, E<111> = 191.1 GPa (textbook values for Cu)
    S11 = (C11 + C12) / ((C11 - C12) * (C11 + 2 * C12))
    S12 = -C12 / ((C11 - C12) * (C11 + 2 * C12))
    S44 = 1 / C44
    E100, E111 = 1 / S11, 1 / (S11 - 2 * (S11 - S12 - S44 / 2) / 3)
    assert abs(E100 - 66.7) < 0.05 and abs(E111 - 191.1) < 0.1

    def young(model: Cubic, n: torch.Tensor) -> float:
        nn = torch.outer(n, n)
        return 1.0 / float(ddot(nn, ddot42(model.compliance(), nn)))

    x = torch.tensor([1.0, 0.0, 0.0], dtype=F64)
    assert math.isclose(young(m, x), E100, rel_tol=1e-12)
    d111 = torch.ones(3, dtype=F64) / math.sqrt(3.0)
    assert math.isclose(young(m, d111), E111, rel_tol=1e-12)
    # Rotate the crystal so that [111] lies along global x: the axes' first column is the crystal direction
    a = d111
    b = torch.tensor([1.0, -1.0, 0.0], dtype=F64) / math.sqrt(2.0)
    A = torch.stack([a, b, torch.linalg.cross(a, b)]).T  # rows = crystal axes in global comps; A e_x = [111]
    rotated = Cubic(*CU, axes=A)
    assert math.isclose(young(rotated, x), E111, rel_tol=1e-12)


def test_bounds_ordering_and_isotropic_averages() -> None:
    iso = LinearElastic(**STEEL)
    for avg in (voigt_average, reuss_average, hill_average):
        K, G = avg(iso.stiffness())
        assert math.isclose(float(K), STEEL_ALL["K"], rel_tol=1e-12)
        assert math.isclose(float(G), STEEL_ALL["G"], rel_tol=1e-12)
    # a random SPD stiffness: Voigt >= Reuss (Hill 1952), batched over three materials
    B = torch.randn(3, 6, 6, dtype=F64)
    M = B @ B.transpose(-1, -2) + 0.5 * torch.eye(6, dtype=F64)
    from constitutive.notation import from_mandel

    C = from_mandel(M, "stiffness")
    KV, GV = voigt_average(C)
    KR, GR = reuss_average(C)
    assert KV.shape == (3,) and bool((KV >= KR).all()) and bool((GV >= GR).all())
    # invariance: averages do not depend on the orientation
    R = _rotation()[0]
    KV2, GV2 = voigt_average(rotate_stiffness(C, R))
    KR2, GR2 = reuss_average(rotate_stiffness(C, R))
    assert _close(KV2, KV, 1e-12) and _close(GV2, GV, 1e-12) and _close(GR2, GR, 1e-11)


def test_anisotropic_input_forms_agree() -> None:
    ref = Orthotropic(**ORTHO, axes=_rotation()[0])
    C = ref.stiffness()
    V = to_voigt(C, "stiffness")
    iu = torch.triu_indices(6, 6)
    forms = [
        Anisotropic(V),
        Anisotropic(V[iu[0], iu[1]]),  # 21 constants, upper triangle row by row
        Anisotropic(to_voigt(C, "stiffness", "abaqus"), order="abaqus"),
        Anisotropic(to_mandel(C, "stiffness", "ansys"), notation="mandel", order="ansys"),
        Anisotropic(reorder(V, "voigt", "lsdyna"), order="lsdyna"),
        Anisotropic(
            convert(V, "stiffness", from_=("voigt", "voigt"), to=("mandel", "abaqus"))[iu[0], iu[1]],
            notation="mandel",
            order="abaqus",
        ),
    ]
    for a in forms:
        assert _close(a.stiffness(), C, 1e-12), a.options
    assert forms[1].parameters["stiffness_matrix"].shape == (21,)
    assert _close(forms[1].matrix(), V, 1e-14)


def test_anisotropic_rejects_bad_matrices() -> None:
    V = to_voigt(Cubic(*CU).stiffness(), "stiffness")
    bad = V.clone()
    bad[0, 5] += 10.0
    with pytest.raises(ValueError, match="symmetric"):
        Anisotropic(bad)
    with pytest.raises(ValueError, match="positive definite"):
        Anisotropic(-V)
    with pytest.raises(ValueError, match="shape"):
        Anisotropic(torch.eye(5, dtype=F64))
    with pytest.raises(ValueError, match="notation"):
        Anisotropic(V, notation="kelvin")
    with pytest.raises(ValueError, match="order"):
        Anisotropic(V, order="nastran")
    with pytest.raises(ValueError, match="finite"):
        Anisotropic(V * float("nan"))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Orthotropic(**{**ORTHO, "nu12": 4.0}), "positive definite"),  # |ν12| > sqrt(E1/E2) = 3.7
        (lambda: Orthotropic(**{**ORTHO, "nu23": 1.2}), "positive definite"),
        (lambda: Orthotropic(**{**ORTHO, "E2": -1.0}), "'E2'"),
        (lambda: Orthotropic(**{**ORTHO, "G13": 0.0}), "'G13'"),
        (lambda: Orthotropic(**ORTHO, axes=torch.ones(3, 3)), "orthonormal"),
        (lambda: Orthotropic(**ORTHO, axes=torch.eye(2)), "shape"),
        (lambda: TransverselyIsotropic(10.0, 10.0, 1.0, 0.1, 1.0), "'nu_p'"),
        (lambda: TransverselyIsotropic(10.0, 100.0, 0.3, 0.5, 1.0), "positive definite"),  # 2 ν² Et/Ep > 1 - ν
        (lambda: TransverselyIsotropic(10.0, 10.0, 0.3, 0.3, 1.0, axis=(0.0, 0.0, 0.0)), "'axis'"),
        (lambda: TransverselyIsotropic(10.0, -10.0, 0.3, 0.3, 1.0), "'E_t'"),
        (lambda: Cubic(100.0, 120.0, 50.0), "positive definite"),  # C11 < C12
        (lambda: Cubic(100.0, -60.0, 50.0), "positive definite"),  # C11 + 2 C12 < 0
        (lambda: Cubic(100.0, 50.0, -5.0), "'C44'"),
    ],
)
def test_inadmissible_anisotropic_constants(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_anisotropic_parameters_are_differentiable() -> None:
    E1 = torch.tensor(140e3, dtype=F64, requires_grad=True)
    m = Orthotropic(**{**ORTHO, "E1": E1}, axes=_rotation()[0])
    eps = _sym(2)
    w = torch.randn(2, 3, 3, dtype=F64)
    (m.stress(eps) * w).sum().backward()

    def f(v: float) -> float:
        return float((m.with_parameters(E1=v).stress(eps) * w).sum())

    fd = (f(140e3 + 1.0) - f(140e3 - 1.0)) / 2.0
    assert math.isclose(float(E1.grad), fd, rel_tol=1e-6)


def test_tangent_is_constant_and_batched() -> None:
    m = Cubic(*CU, axes=_rotation()[0])
    eps = _sym(6).reshape(2, 3, 3, 3)
    C = m.tangent(eps)
    assert C.shape == (2, 3, 3, 3, 3, 3) and C.is_contiguous()
    assert _close(C, m.stiffness().expand_as(C), 0.0)
    C[0, 0, 0, 0, 0, 0] = 0.0  # a fresh tensor: writing to it is allowed and does not touch the model
    assert float(m.stiffness()[0, 0, 0, 0]) != 0.0


def test_numpy_and_list_input() -> None:
    m = LinearElastic(**STEEL)
    e = _sym(2)
    assert _close(m.stress(e.numpy()), m.stress(e), 0.0)
    assert _close(m.stress(e[0].tolist()), m.stress(e[0]), 0.0)
    assert np.allclose(to_voigt(m.tangent(e[0]), "stiffness").numpy(), to_voigt(m.stiffness(), "stiffness").numpy())


def test_parameters_under_torch_func_transforms() -> None:
    from torch.func import jacrev, vmap

    eps = torch.zeros(3, 3, dtype=F64)
    eps[0, 0] = 1e-3
    # vmap over a batch of Young's moduli: σ11 = E (1 - ν) / ((1 + ν)(1 - 2ν)) ε11
    Es = torch.tensor([1.0, 2.0, 3.0], dtype=F64)
    s11 = vmap(lambda E: LinearElastic(E, 0.25).stress(eps)[0, 0])(Es)
    assert _close(s11, Es * 0.75 / (1.25 * 0.5) * 1e-3, 1e-13)
    # jacrev with respect to the cubic constants: σ11 = C11 ε11, σ22 = C12 ε11, nothing from C44
    J = jacrev(lambda p: Cubic(p[0], p[1], p[2]).stress(eps))(torch.tensor(CU, dtype=F64))
    assert _close(J[0, 0], torch.tensor([1e-3, 0.0, 0.0], dtype=F64), 1e-12)
    assert _close(J[1, 1], torch.tensor([0.0, 1e-3, 0.0], dtype=F64), 1e-12)


def test_axes_from_scipy_rotation() -> None:
    Rotation = pytest.importorskip("scipy.spatial.transform").Rotation
    R = Rotation.from_euler("z", 30, degrees=True).as_matrix()  # columns: material axes in global components
    m = Orthotropic(**ORTHO, axes=R.T)
    n = torch.tensor([math.cos(math.pi / 6), math.sin(math.pi / 6), 0.0], dtype=F64)  # material axis 1
    nn = torch.outer(n, n)
    assert math.isclose(1.0 / float(ddot(nn, ddot42(m.compliance(), nn))), ORTHO["E1"], rel_tol=1e-12)


def test_integer_dtype_and_float16_overflow_are_refused():
    """Issue 9: dtype=torch.int64 would truncate nu = 0.3 to 0 (zero stress); float16 overflow is named."""
    with pytest.raises(ValueError, match="floating-point torch dtype"):
        LinearElastic(200e3, 0.3, dtype=torch.int64)
    with pytest.raises(ValueError, match="overflows torch.float16"):
        LinearElastic(200e3, 0.3, dtype=torch.float16)
    m = LinearElastic(2e3, 0.3, dtype=torch.float16)
    assert m.E.dtype == torch.float16 and float(m.nu) == pytest.approx(0.3, abs=1e-3)
    decl = LinearElastic.declared_parameters()
    assert list(decl) == ["E", "nu"] and decl["nu"].bounds() == (-1.0, 0.5)


def test_alternative_spellings_as_classmethods():
    ref = LinearElastic(lmbda=115.0, mu=77.0)
    assert LinearElastic.from_lame(115.0, 77.0).to_dict() == ref.to_dict()
    K, G = float(ref.K), float(ref.G)
    torch.testing.assert_close(LinearElastic.from_bulk_shear(K, G).E, ref.E)
    torch.testing.assert_close(LinearElastic.from_bulk_shear(K, G).nu, ref.nu)
    with pytest.raises(ValueError, match="'K' must be positive"):
        LinearElastic.from_bulk_shear(-1.0, 1.0)
