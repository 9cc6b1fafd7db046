"""Hyperelastic models: closed-form homogeneous deformations, exactness of the principal-stretch route at repeated
stretches, every tangent measure against finite differences of its own stress measure, Treloar's data, bad input.

(The per-model harness, tests/test_model_harness.py with tests/cases/hyperelastic.py, covers the material tangent
against finite differences, symmetries, objectivity, the small-strain limit, float32 and analytic == AD.)
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from constitutive.check import check_tangent
from constitutive.kinematics import green_lagrange
from constitutive.models import Material, load
from constitutive.models.hyperelastic import (
    LOADING_MODES,
    VOLUMETRIC_FUNCTIONS,
    ArrudaBoyce,
    Gent,
    HyperelasticMaterial,
    MooneyRivlin,
    NeoHookean,
    Ogden,
    SaintVenantKirchhoff,
    Yeoh,
    volumetric_energy,
)

ROOT = Path(__file__).resolve().parents[1]
D = torch.float64
TRELOAR_MU = [0.618, 0.00118, -0.00981]
TRELOAR_ALPHA = [1.3, 5.0, -2.0]


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    scale = float(b.abs().max())
    return float((a - b).abs().max()) / (scale if scale > 0 else 1.0)


def _rotations(n: int, seed: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(n, 3, 3, generator=g, dtype=D))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))[..., None, :]
    q[..., :, 0] *= torch.linalg.det(q)[..., None]
    return q


def _F(n: int, scale: float = 0.25, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.eye(3, dtype=D) + scale * torch.randn(n, 3, 3, generator=g, dtype=D)


def _isotropic(lmbda: float, mu: float) -> torch.Tensor:
    d = np.eye(3)
    C = lmbda * np.einsum("ij,kl->ijkl", d, d) + mu * (np.einsum("ik,jl->ijkl", d, d) + np.einsum("il,jk->ijkl", d, d))
    return torch.from_numpy(C)


# ----------------------------------------------------------------------------------------------------------------
# Homogeneous incompressible deformations: closed forms
# ----------------------------------------------------------------------------------------------------------------

LAM = torch.tensor([0.5, 0.8, 1.0, 1.3, 2.0, 3.5, 6.0], dtype=D)


def _nh_closed(mu: float, lam: torch.Tensor, mode: str) -> torch.Tensor:
    power = {"uniaxial": -2.0, "equibiaxial": -5.0, "pure_shear": -3.0}[mode]
    return mu * (lam - lam**power)


def _mr_closed(C10: float, C01: float, lam: torch.Tensor, mode: str) -> torch.Tensor:
    if mode == "uniaxial":
        return 2 * (lam - lam**-2) * (C10 + C01 / lam)
    if mode == "equibiaxial":
        return 2 * (lam - lam**-5) * (C10 + C01 * lam**2)
    return 2 * (lam - lam**-3) * (C10 + C01)


def _ogden_closed(mu: list[float], alpha: list[float], lam: torch.Tensor, mode: str) -> torch.Tensor:
    out = torch.zeros_like(lam)
    for m, a in zip(mu, alpha):
        if mode == "uniaxial":
            out = out + m * (lam ** (a - 1) - lam ** (-a / 2 - 1))
        elif mode == "equibiaxial":
            out = out + m * (lam ** (a - 1) - lam ** (-2 * a - 1))
        else:
            out = out + m * (lam ** (a - 1) - lam ** (-a - 1))
    return out


def _I1(lam: torch.Tensor, mode: str) -> torch.Tensor:
    return {
        "uniaxial": lam**2 + 2 / lam,
        "equibiaxial": 2 * lam**2 + lam**-4,
        "pure_shear": lam**2 + 1 + lam**-2,
    }[mode]


def _i1_closed(W1: torch.Tensor, lam: torch.Tensor, mode: str) -> torch.Tensor:
    """Models of I1 only: P = 2 (lam - lam^p) dW/dI1."""
    power = {"uniaxial": -2.0, "equibiaxial": -5.0, "pure_shear": -3.0}[mode]
    return 2 * (lam - lam**power) * W1


@pytest.mark.parametrize("mode", LOADING_MODES)
def test_nominal_stress_neo_hookean(mode: str) -> None:
    expected = _nh_closed(0.7, LAM, mode)
    for model in (
        NeoHookean(0.7),
        NeoHookean(0.7, 3.0),
        NeoHookean(0.7, 3.0, form="ciarlet_geymonat"),
        NeoHookean(0.7, 3.0, form="isochoric", volumetric="log"),
        Ogden(mu=[0.7], alpha=[2.0]),
    ):
        assert _rel(model.nominal_stress(LAM, mode), expected) < 1e-13, model


@pytest.mark.parametrize("mode", LOADING_MODES)
def test_nominal_stress_mooney_rivlin(mode: str) -> None:
    expected = _mr_closed(0.3, 0.08, LAM, mode)
    for model in (
        MooneyRivlin(0.3, 0.08),
        MooneyRivlin(0.3, 0.08, K=100.0),
        Ogden(mu=[0.6, -0.16], alpha=[2.0, -2.0]),
    ):
        assert _rel(model.nominal_stress(LAM, mode), expected) < 1e-13, model


@pytest.mark.parametrize("mode", LOADING_MODES)
def test_nominal_stress_ogden(mode: str) -> None:
    expected = _ogden_closed(TRELOAR_MU, TRELOAR_ALPHA, LAM, mode)
    for model in (
        Ogden(TRELOAR_MU, TRELOAR_ALPHA),
        Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=2000.0, volumetric="simo_taylor"),
    ):
        assert _rel(model.nominal_stress(LAM, mode), expected) < 1e-13


@pytest.mark.parametrize("mode", LOADING_MODES)
def test_nominal_stress_first_invariant_models(mode: str) -> None:
    lam = LAM[LAM < 4.0]
    x = _I1(lam, mode) - 3
    W1 = 0.4 + 2 * (-0.01) * x + 3 * 0.002 * x**2
    assert _rel(Yeoh(0.4, -0.01, 0.002).nominal_stress(lam, mode), _i1_closed(W1, lam, mode)) < 1e-13
    W1 = 0.5 * 0.5 * 30.0 / (30.0 - x)
    assert _rel(Gent(0.5, 30.0, K=50.0).nominal_stress(lam, mode), _i1_closed(W1, lam, mode)) < 1e-13
    N = 5.0
    coef = (1 / 2, 1 / 20, 11 / 1050, 19 / 7000, 519 / 673750)
    I1 = _I1(lam, mode)
    W1 = 0.3 * sum(i * a / N ** (i - 1) * I1 ** (i - 1) for i, a in enumerate(coef, 1))
    assert _rel(ArrudaBoyce(0.3, N).nominal_stress(lam, mode), _i1_closed(W1, lam, mode)) < 1e-13
    # Saint Venant-Kirchhoff under the incompressibility constraint (its lmbda term is not a function of J alone,
    # so it stays): lam_a dpsi/dlam_a = c_a S_a = c_a (lmbda tr E + mu (c_a - 1)), P = (t_1 - t_m) / lam.
    svk = SaintVenantKirchhoff(lmbda=2.0, mu=0.6)
    c = {"uniaxial": (lam**2, 1 / lam), "equibiaxial": (lam**2, lam**-4), "pure_shear": (lam**2, lam**-2)}[mode]
    c3 = {"uniaxial": 1 / lam, "equibiaxial": lam**2, "pure_shear": torch.ones_like(lam)}[mode]
    trE = 0.5 * (c[0] + c[1] + c3 - 3)
    t1, tm = (ca * (2.0 * trE + 0.6 * (ca - 1)) for ca in c)
    expected = (t1 - tm) / lam
    assert _rel(svk.nominal_stress(lam, mode), expected) < 1e-12


def test_nominal_stress_batched_and_differentiable() -> None:
    lam = torch.linspace(0.6, 4.0, 12, dtype=D).reshape(3, 4)
    mu = torch.tensor(TRELOAR_MU, dtype=D, requires_grad=True)
    alpha = torch.tensor(TRELOAR_ALPHA, dtype=D, requires_grad=True)
    model = Ogden(mu, alpha)
    P = model.nominal_stress(lam, "uniaxial")
    assert P.shape == (3, 4)
    g_mu, g_alpha = torch.autograd.grad(P.sum(), (mu, alpha))
    # dP/dmu_p = lam^(a-1) - lam^(-a/2-1) (closed form); dP/dalpha by central differences of the closed form
    expected_mu = torch.stack([(lam ** (a - 1) - lam ** (-a / 2 - 1)).sum() for a in TRELOAR_ALPHA])
    assert _rel(g_mu, expected_mu) < 1e-12
    h = 1e-6
    fd = []
    for p in range(3):
        up, dn = list(TRELOAR_ALPHA), list(TRELOAR_ALPHA)
        up[p] += h
        dn[p] -= h
        fd.append(
            (_ogden_closed(TRELOAR_MU, up, lam, "uniaxial") - _ogden_closed(TRELOAR_MU, dn, lam, "uniaxial")).sum()
            / (2 * h)
        )
    assert _rel(g_alpha, torch.stack(fd)) < 1e-7
    # float32 works and stays float32
    P32 = Ogden(TRELOAR_MU, TRELOAR_ALPHA, dtype=torch.float32).nominal_stress(lam.float(), "pure_shear")
    assert P32.dtype == torch.float32
    assert _rel(P32.double(), _ogden_closed(TRELOAR_MU, TRELOAR_ALPHA, lam, "pure_shear")) < 1e-5


def test_stress_differentiable_wrt_parameters() -> None:
    mu = torch.tensor(0.8, dtype=D, requires_grad=True)
    model = NeoHookean(mu, 1.5)
    E = green_lagrange(_F(2))
    S = model.stress(E)
    (g,) = torch.autograd.grad((S * S).sum(), mu)
    C = 2 * E + torch.eye(3, dtype=D)
    dS_dmu = torch.eye(3, dtype=D) - torch.linalg.inv(C)  # S = mu (I - C^-1) + lmbda ln J C^-1
    assert abs(float(g) - float((2 * S * dS_dmu).detach().sum())) < 1e-12


# ----------------------------------------------------------------------------------------------------------------
# Treloar's data and the parameter file
# ----------------------------------------------------------------------------------------------------------------


def test_parameter_file_and_treloar_data() -> None:
    model = load(ROOT / "materials" / "natural_rubber_ogden_treloar.toml")
    assert isinstance(model, Ogden)
    # Ogden (1972) published mu = (6.3, 0.012, -0.1) kg/cm^2, alpha = (1.3, 5.0, -2.0); the file rounds the MPa
    # values to three significant figures
    kgf = 0.0980665
    np.testing.assert_allclose(model.mu.numpy(), np.array([6.3, 0.012, -0.1]) * kgf, rtol=5e-3)
    np.testing.assert_allclose(model.alpha.numpy(), [1.3, 5.0, -2.0])
    assert abs(float(model.initial_shear_modulus) - 0.5 * (0.618 * 1.3 + 0.00118 * 5 + 0.00981 * 2)) < 1e-15
    assert float(model.K) == 2000.0
    # The fit reproduces Treloar's three tests within 13 % over 1.1 <= lambda <= 7.1 (the first points are tiny
    # stresses, read off a figure; beyond 7.1 the three-term fit falls below the upturn, as in Ogden's paper).
    for mode in LOADING_MODES:
        data = np.loadtxt(ROOT / "materials" / "data" / f"treloar_{mode}.csv", delimiter=",", comments="#", skiprows=4)
        keep = (data[:, 0] >= 1.1) & (data[:, 0] <= 7.1)
        lam, P = torch.from_numpy(data[keep, 0]), torch.from_numpy(data[keep, 1] * kgf)
        rel = (model.nominal_stress(lam, mode) - P).abs() / P
        assert float(rel.max()) < 0.13, (mode, rel)


# ----------------------------------------------------------------------------------------------------------------
# Exactness of the spectral route at repeated principal stretches
# ----------------------------------------------------------------------------------------------------------------

REPEATED = [(1.0, 1.0, 1.0), (1.2, 1.2, 0.8), (1.1, 1.1, 1.1), (0.9, 1.3, 1.3), (0.7, 1.0, 1.4)]


def _stretch_states(rotate: bool) -> torch.Tensor:
    U = torch.diag_embed(torch.tensor(REPEATED, dtype=D))
    if rotate:
        Q = _rotations(len(REPEATED))
        U = Q @ U @ Q.transpose(-1, -2)
    return green_lagrange(U)


@pytest.mark.parametrize("rotate", [False, True])
def test_ogden_equals_invariant_models_at_repeated_stretches(rotate: bool) -> None:
    E = _stretch_states(rotate)
    pairs = [
        (Ogden([0.8], [2.0], K=3.0), NeoHookean(0.8, 3.0 - 2 * 0.8 / 3, form="isochoric")),
        (
            Ogden([0.6, -0.16], [2.0, -2.0], K=5.0, volumetric="log"),
            MooneyRivlin(0.3, 0.08, K=5.0, volumetric="log"),
        ),
    ]
    for ogden, invariant in pairs:
        S, C = ogden.stress_and_tangent(E)
        assert bool(torch.isfinite(S).all()) and bool(torch.isfinite(C).all())
        assert _rel(S, invariant.stress(E)) < 1e-12
        assert _rel(C, invariant.tangent(E)) < 1e-12
        assert _rel(ogden.energy(E), invariant.energy(E)) < 1e-13


@pytest.mark.parametrize(
    "model",
    [
        NeoHookean(0.8, 1.2, form="ciarlet_geymonat"),
        MooneyRivlin(0.3, 0.08, K=5.0),
        Yeoh(0.4, -0.01, 0.002, K=3.0, volumetric="simo_taylor"),
        ArrudaBoyce(0.3, 6.0, K=2.0),
        Gent(0.5, 20.0, K=4.0),
        SaintVenantKirchhoff(1.2, 0.8),
    ],
    ids=lambda m: type(m).__name__,
)
def test_spectral_route_equals_invariant_route(model: HyperelasticMaterial) -> None:
    """The spectral route (eigenvalues of C, Daleckii-Krein tangent) against the invariant route, for every
    invariant model, at random states and at repeated stretches."""
    E = torch.cat([_stretch_states(True), green_lagrange(_F(4))])
    S_spec, C_spec = HyperelasticMaterial._spectral_response(model, E, True)
    S_inv, C_inv = HyperelasticMaterial._invariant_response(model, E, True)
    assert _rel(S_spec, S_inv) < 1e-12
    assert _rel(C_spec, C_inv) < 1e-11
    S, C = model.stress_and_tangent(E)  # the class's own route (hand-written for SVK)
    assert _rel(S, S_inv) < 1e-12 and _rel(C, C_inv) < 1e-11


def test_ogden_at_identity_is_the_linear_limit() -> None:
    K = 2000.0
    model = Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=K)
    mu0 = 0.5 * sum(m * a for m, a in zip(TRELOAR_MU, TRELOAR_ALPHA))
    zero = torch.zeros(3, 3, dtype=D)
    S, C = model.stress_and_tangent(zero)
    assert float(S.abs().max()) < 1e-12
    assert _rel(C, _isotropic(K - 2 * mu0 / 3, mu0)) < 1e-13
    # F-based tangents at F = I all reduce to the same tensor (S = 0, J = 1)
    eye = torch.eye(3, dtype=D)
    for name in ("material_tangent", "spatial_tangent", "abaqus_tangent"):
        assert _rel(getattr(model, name)(eye), C) < 1e-13
    A = model.first_elasticity(eye)
    assert _rel(A, C) < 1e-13  # at F = I, A_iJkL = CC_iJLk = CC_iJkL


def test_ogden_repeated_stretches_match_nearby_distinct_and_finite_differences() -> None:
    model = Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=20.0)
    Q = _rotations(len(REPEATED), seed=8)
    lam = torch.tensor(REPEATED, dtype=D)
    E_rep = green_lagrange(Q @ torch.diag_embed(lam) @ Q.transpose(-1, -2))
    S_rep, C_rep = model.stress_and_tangent(E_rep)
    for delta in (1e-4, 1e-5):
        # make every stretch distinct by a relative delta: the gap in c = lambda^2 is ~2 delta, above the
        # coincidence tolerance, so this takes the divided-difference branch
        spread = lam * (1.0 + delta * torch.tensor([0.0, 1.0, 2.5], dtype=D))
        E_near = green_lagrange(Q @ torch.diag_embed(spread) @ Q.transpose(-1, -2))
        S_near, C_near = model.stress_and_tangent(E_near)
        assert _rel(S_near, S_rep) < 50 * delta
        assert _rel(C_near, C_rep) < 50 * delta
    # explicit step: the automatic one scales with |E|, which vanishes at the F = I entry
    report = check_tangent(model, E_rep, rtol=1e-7, step=1e-4)
    assert report.passed, str(report)


# ----------------------------------------------------------------------------------------------------------------
# Every tangent measure against finite differences of its own stress measure
# ----------------------------------------------------------------------------------------------------------------

F_MODELS = [
    NeoHookean(0.8, 1.2),
    NeoHookean(0.8, 1.2, form="isochoric", volumetric="simo_taylor"),
    MooneyRivlin(0.3, 0.08, K=5.0),
    Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=2.0),
    Gent(0.5, 20.0, K=4.0, volumetric="log"),
    SaintVenantKirchhoff(1.2, 0.8),
]
_ids = [f"{type(m).__name__}-{i}" for i, m in enumerate(F_MODELS)]


def _F_states() -> torch.Tensor:
    Q = _rotations(1, seed=21)
    repeated = Q @ torch.diag(torch.tensor([1.2, 1.2, 0.85], dtype=D)) @ _rotations(1, seed=22).transpose(-1, -2)
    return torch.cat([_F(3, 0.2), repeated])


def _unit(k: int, l: int) -> torch.Tensor:
    e = torch.zeros(3, 3, dtype=D)
    e[k, l] = 1.0
    return e


@pytest.mark.parametrize("model", F_MODELS, ids=_ids)
def test_first_elasticity_vs_fd_of_first_piola(model: HyperelasticMaterial) -> None:
    F = _F_states()
    A = model.first_elasticity(F)
    h = 1e-6
    fd = torch.stack(
        [
            torch.stack(
                [
                    (model.first_piola(F + h * _unit(k, l)) - model.first_piola(F - h * _unit(k, l))) / (2 * h)
                    for l in range(3)
                ],
                -1,
            )
            for k in range(3)
        ],
        -2,
    )
    assert _rel(A, fd) < 1e-7
    # major-symmetric, never minor-symmetrised
    assert _rel(A, A.permute(0, 3, 4, 1, 2)) < 1e-12
    assert float((A - A.transpose(-1, -2)).abs().max()) > 1e-3 * float(A.abs().max())


def _sym_perturbed(model: HyperelasticMaterial, F: torch.Tensor, fn, k: int, l: int, eps: float) -> torch.Tensor:
    e = 0.5 * (_unit(k, l) + _unit(l, k))
    return (fn(F + eps * e @ F) - fn(F - eps * e @ F)) / (2 * eps)


@pytest.mark.parametrize("model", F_MODELS, ids=_ids)
def test_abaqus_tangent_vs_jaumann_perturbation(model: HyperelasticMaterial) -> None:
    """C^{tau J}_ijkl = [tau_ij(F + dF) - tau_ij(F - dF)] / (2 J eps), dF = (eps/2)(e_k e_l + e_l e_k) F: a pure
    stretching increment (w = 0), so the Jaumann rate is the plain rate of tau."""
    F = _F_states()
    J = torch.linalg.det(F)[:, None, None]
    cj = model.abaqus_tangent(F)
    eps = 1e-6
    worst = 0.0
    for k in range(3):
        for l in range(3):
            fd = _sym_perturbed(model, F, model.kirchhoff, k, l, eps) / J
            worst = max(worst, float((cj[..., k, l] - fd).abs().max()))
    assert worst < 1e-7 * float(cj.abs().max())
    assert float((cj - cj.transpose(-1, -2)).abs().max()) < 1e-12 * float(cj.abs().max())


@pytest.mark.parametrize("model", F_MODELS, ids=_ids)
def test_spatial_tangent_vs_oldroyd_rate(model: HyperelasticMaterial) -> None:
    """J c : d = Oldroyd rate of tau = d(tau) - l tau - tau l^T, for the increment l = sym(e_k e_l)."""
    F = _F_states()
    J = torch.linalg.det(F)[:, None, None]
    c = model.spatial_tangent(F)
    tau = model.kirchhoff(F)
    eps = 1e-6
    worst = 0.0
    for k in range(3):
        for l in range(3):
            L = 0.5 * (_unit(k, l) + _unit(l, k))
            dtau = _sym_perturbed(model, F, model.kirchhoff, k, l, eps)
            fd = (dtau - L @ tau - tau @ L.transpose(-1, -2)) / J
            worst = max(worst, float((c[..., k, l] - fd).abs().max()))
    assert worst < 1e-7 * float(c.abs().max())
    # and c is the push-forward of the material tangent, with full symmetries
    assert float((c - c.permute(0, 3, 4, 1, 2)).abs().max()) < 1e-12 * float(c.abs().max())


@pytest.mark.parametrize("model", F_MODELS, ids=_ids)
def test_material_tangent_vs_fd_and_stress_measures(model: HyperelasticMaterial) -> None:
    F = _F_states()
    E = green_lagrange(F)
    report = check_tangent(model, E, rtol=1e-7)
    assert report.passed, str(report)
    assert _rel(model.material_tangent(F), model.tangent(E)) < 1e-14
    S = model.second_piola(F)
    P = model.first_piola(F)
    tau = model.kirchhoff(F)
    sigma = model.cauchy(F)
    J = torch.linalg.det(F)[:, None, None]
    assert _rel(P, F @ S) < 1e-14
    assert _rel(tau, P @ F.transpose(-1, -2)) < 1e-13
    assert _rel(sigma, tau / J) < 1e-14
    # P = dpsi/dF by reverse-mode autograd through psi(E(F)) (an independent route to the first Piola stress)
    Fg = F.clone().requires_grad_(True)
    (dpsi,) = torch.autograd.grad(model.energy(0.5 * (Fg.transpose(-1, -2) @ Fg - torch.eye(3, dtype=D))).sum(), Fg)
    assert _rel(P, dpsi) < 1e-12
    # objectivity in F: P(QF) = Q P(F), sigma(QF) = Q sigma Q^T, C^{tau J}(QF) = Q * C^{tau J}(F)
    Q = _rotations(F.shape[0], seed=31)
    assert _rel(model.first_piola(Q @ F), Q @ P) < 1e-12
    assert _rel(model.cauchy(Q @ F), Q @ sigma @ Q.transpose(-1, -2)) < 1e-12
    rotated = torch.einsum("nia,njb,nkc,nld,nabcd->nijkl", Q, Q, Q, Q, model.abaqus_tangent(F))
    assert _rel(model.abaqus_tangent(Q @ F), rotated) < 1e-12


@pytest.mark.parametrize("volumetric", list(VOLUMETRIC_FUNCTIONS))
def test_pure_dilatation_gives_the_volumetric_pressure(volumetric: str) -> None:
    """F = a I: the isochoric part is stress free, so sigma = U'(J) I for every model with the split."""
    a = torch.tensor([0.8, 0.95, 1.0, 1.1, 1.3], dtype=D)
    F = a[:, None, None] * torch.eye(3, dtype=D)
    J = a**3
    K = 3.0
    dU = {"quadratic": K * (J - 1), "log": K * torch.log(J) / J, "simo_taylor": 0.5 * K * (J - 1 / J)}[volumetric]
    expected = dU[:, None, None] * torch.eye(3, dtype=D)
    for model in (
        NeoHookean(0.8, K - 2 * 0.8 / 3, form="isochoric", volumetric=volumetric),
        MooneyRivlin(0.3, 0.08, K=K, volumetric=volumetric),
        Yeoh(0.4, -0.01, 0.002, K=K, volumetric=volumetric),
        ArrudaBoyce(0.3, 6.0, K=K, volumetric=volumetric),
        Gent(0.5, 20.0, K=K, volumetric=volumetric),
        Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=K, volumetric=volumetric),
    ):
        assert float((model.cauchy(F) - expected).abs().max()) < 1e-13 * max(1.0, float(expected.abs().max())), model


def test_neo_hookean_simple_shear_closed_form() -> None:
    """F = I + gamma e1 e2 (J = 1): sigma = mu (b - I) for the Ciarlet form, so sigma_12 = mu gamma,
    sigma_11 = mu gamma^2, sigma_22 = sigma_33 = 0; the isochoric form gives sigma = mu dev(b)."""
    gamma = torch.tensor([0.0, 0.3, 1.0, 2.5], dtype=D)
    F = torch.eye(3, dtype=D).repeat(4, 1, 1)
    F[:, 0, 1] = gamma
    mu = 0.7
    sigma = NeoHookean(mu, 2.0).cauchy(F)
    expected = torch.zeros(4, 3, 3, dtype=D)
    expected[:, 0, 1] = expected[:, 1, 0] = mu * gamma
    expected[:, 0, 0] = mu * gamma**2
    assert float((sigma - expected).abs().max()) < 1e-13
    b = F @ F.transpose(-1, -2)
    dev_b = b - torch.diagonal(b, dim1=-2, dim2=-1).sum(-1)[:, None, None] / 3 * torch.eye(3, dtype=D)
    sigma_iso = NeoHookean(mu, 2.0, form="isochoric").cauchy(F)
    assert float((sigma_iso - mu * dev_b).abs().max()) < 1e-13


def test_three_dimensional_uniaxial_tension_approaches_nominal_stress() -> None:
    """A nearly incompressible 3-D model in uniaxial tension (lateral stretch t solved from sigma_22 = 0 by
    bisection) gives the incompressible nominal stress to O(mu/K)."""
    lam = torch.tensor([0.7, 1.5, 3.0, 5.0], dtype=D)
    for model in (
        Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=4000.0),
        MooneyRivlin(0.3, 0.08, K=4000.0),
        NeoHookean(0.4, 4000.0, form="ciarlet"),
    ):
        lo, hi = 0.5 * lam ** (-0.5), 1.5 * lam ** (-0.5)
        for _ in range(60):  # sigma_22 increases with t
            t = 0.5 * (lo + hi)
            F = torch.diag_embed(torch.stack([lam, t, t], -1))
            high = model.cauchy(F)[:, 1, 1] > 0
            hi, lo = torch.where(high, t, hi), torch.where(high, lo, t)
        P = model.first_piola(torch.diag_embed(torch.stack([lam, t, t], -1)))
        assert float(P[:, 1, 1].abs().max()) < 1e-9
        expected = model.nominal_stress(lam, "uniaxial")
        assert _rel(P[:, 0, 0], expected) < 2e-3, model


def test_combined_methods_and_float32() -> None:
    F = _F_states()
    for model in (Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=2.0), NeoHookean(0.8, 1.2)):
        P, A = model.first_piola_and_elasticity(F)
        assert _rel(P, model.first_piola(F)) < 1e-15 and _rel(A, model.first_elasticity(F)) < 1e-15
        sigma, cj = model.cauchy_and_abaqus_tangent(F)
        assert _rel(sigma, model.cauchy(F)) < 1e-14 and _rel(cj, model.abaqus_tangent(F)) < 1e-15
        model32 = type(model).from_dict(model.to_dict(), dtype=torch.float32)
        P32, A32 = model32.first_piola_and_elasticity(F.float())
        assert P32.dtype == A32.dtype == torch.float32
        assert _rel(P32.double(), P) < 1e-4 and _rel(A32.double(), A) < 1e-4


def test_hand_written_tangents_equal_generic_and_ad() -> None:
    E = torch.cat([green_lagrange(_F(3)), _stretch_states(True)])
    for model in (NeoHookean(0.8, 1.2), SaintVenantKirchhoff(1.2, 0.8)):
        S, C = model.stress_and_tangent(E)
        S_gen, C_gen = HyperelasticMaterial._invariant_response(model, E, True)
        assert _rel(S, S_gen) < 1e-12 and _rel(C, C_gen) < 1e-12
        assert _rel(C, model.ad_tangent(E)) < 1e-12


# ----------------------------------------------------------------------------------------------------------------
# Volumetric functions, serialisation, incompressible use
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(VOLUMETRIC_FUNCTIONS))
def test_volumetric_functions(name: str) -> None:
    K = torch.tensor(7.0, dtype=D)
    J = torch.tensor(1.0, dtype=D, requires_grad=True)
    U = volumetric_energy(J, K, name)
    (dU,) = torch.autograd.grad(U, J, create_graph=True)
    (d2U,) = torch.autograd.grad(dU, J)
    assert float(U.detach()) == 0.0 and abs(float(dU.detach())) < 1e-15 and abs(float(d2U) - 7.0) < 1e-13
    Jv = 1.3
    expected = {
        "quadratic": 3.5 * (Jv - 1) ** 2,
        "log": 3.5 * math.log(Jv) ** 2,
        "simo_taylor": 1.75 * (Jv**2 - 1 - 2 * math.log(Jv)),
    }[name]
    assert abs(float(volumetric_energy(torch.tensor(Jv, dtype=D), K, name)) - expected) < 1e-14


def test_serialisation_round_trips(tmp_path: Path) -> None:
    E = green_lagrange(_F(2))
    for model in (
        Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=2000.0, volumetric="log"),
        NeoHookean(0.8, 1.2, form="isochoric", volumetric="simo_taylor"),
        Gent(0.5, 20.0, K=4.0),
    ):
        again = Material.from_dict(model.to_dict())
        assert again.to_dict() == model.to_dict()
        assert _rel(again.stress(E), model.stress(E)) < 1e-15
        path = model.save(tmp_path / f"{type(model).__name__}.toml", source="test")
        assert _rel(load(path).stress(E), model.stress(E)) < 1e-15
    incompressible = MooneyRivlin(0.3, 0.08)
    again = Material.from_dict(incompressible.to_dict())
    assert again.K is None and _rel(again.nominal_stress(LAM), incompressible.nominal_stress(LAM)) < 1e-15
    assert NeoHookean(0.5).with_parameters(mu=0.6).nominal_stress(torch.tensor(2.0, dtype=D)) > 0


# ----------------------------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------------------------

F_METHODS = [
    "second_piola",
    "first_piola",
    "cauchy",
    "kirchhoff",
    "material_tangent",
    "first_elasticity",
    "spatial_tangent",
    "abaqus_tangent",
]


@pytest.mark.parametrize("method", F_METHODS)
def test_F_methods_refuse_bad_F(method: str) -> None:
    model = Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=2.0)
    f = getattr(model, method)
    F = _F(3)
    bad = F.clone()
    bad[2] = torch.diag(torch.tensor([1.1, 0.9, -1.0], dtype=D))
    with pytest.raises(ValueError, match=r"det F > 0.*\(2,\)"):
        f(bad)
    with pytest.raises(ValueError, match="det F > 0"):
        f(torch.zeros(3, 3, dtype=D))
    nan = F.clone()
    nan[0, 1, 2] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        f(nan)
    with pytest.raises(ValueError, match="shape"):
        f(torch.eye(2, dtype=D))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: NeoHookean(-1.0, 1.0), "'mu' must be positive"),
        (lambda: NeoHookean(1.0, -1.0), "'lmbda'"),
        (lambda: NeoHookean(1.0, 1.0, form="foo"), "'form'"),
        (lambda: NeoHookean(1.0, 1.0, form="isochoric", volumetric="cubic"), "'volumetric'"),
        (lambda: SaintVenantKirchhoff(1.0, 0.0), "'mu' must be positive"),
        (lambda: SaintVenantKirchhoff(-2.0, 1.0), "'lmbda'"),
        (lambda: MooneyRivlin(0.1, -0.2), "C10.*C01"),
        (lambda: MooneyRivlin(0.1, 0.2, K=-1.0), "'K' must be positive"),
        (lambda: Yeoh(0.0, 0.1, 0.1), "'C10' must be positive"),
        (lambda: Ogden([0.5, 0.1], [-1.0, -2.0]), "sum\\(mu_p \\* alpha_p\\) must be positive"),
        (lambda: Ogden([0.5, 0.1], [1.0]), "equal length"),
        (lambda: Ogden([0.5], [0.0]), "'alpha' must have non-zero"),
        (lambda: Ogden([0.5], [float("nan")]), "'alpha' must be finite"),
        (lambda: ArrudaBoyce(0.3, 0.0), "'N' must be greater than 1"),
        (lambda: ArrudaBoyce(0.3, 0.5), "'N' must be greater than 1"),
        (lambda: ArrudaBoyce(0.3, 0.01, K=2.0), "'N' must be greater than 1"),
        (lambda: ArrudaBoyce(0.3, 1.0), "'N' must be greater than 1"),
        (lambda: Gent(0.5, 0.0), "'Jm' must be positive"),
        (lambda: Gent(0.5, -3.0, K=2.0), "'Jm' must be positive"),
    ],
)
def test_inadmissible_parameters(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_states_and_incompressible_use() -> None:
    incompressible = Ogden(TRELOAR_MU, TRELOAR_ALPHA)
    for call in (incompressible.stress, incompressible.tangent, incompressible.energy):
        with pytest.raises(ValueError, match="bulk modulus"):
            call(torch.zeros(3, 3, dtype=D))
    with pytest.raises(ValueError, match="bulk modulus"):
        incompressible.first_piola(torch.eye(3, dtype=D))
    with pytest.raises(ValueError, match="bulk modulus"):
        NeoHookean(0.5).initial_tangent()
    model = NeoHookean(0.8, 1.2)
    with pytest.raises(ValueError, match="loading mode"):
        model.nominal_stress(LAM, "simple_shear")
    with pytest.raises(ValueError, match="stretch must be positive"):
        model.nominal_stress(torch.tensor([1.2, 0.0], dtype=D))
    with pytest.raises(ValueError, match="NaN"):
        model.nominal_stress(torch.tensor([1.2, float("nan")], dtype=D))
    with pytest.raises(ValueError, match="positive definite"):
        model.stress(torch.diag(torch.tensor([-0.5, 0.1, 0.1], dtype=D)))
    gent = Gent(0.5, 2.0, K=3.0)
    with pytest.raises(ValueError, match="limiting chain extensibility"):
        gent.nominal_stress(torch.tensor([1.5, 3.0], dtype=D))
    with pytest.raises(ValueError, match="limiting chain extensibility"):
        gent.first_piola(torch.diag(torch.tensor([3.0, 0.6, 0.6], dtype=D)))


# ----------------------------------------------------------------------------------------------------------------
# The example script
# ----------------------------------------------------------------------------------------------------------------


def test_example_writes_figure(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "hyperelastic_response", ROOT / "examples" / "hyperelastic_response.py"
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    out = module.main(tmp_path)
    png = tmp_path / "hyperelastic_modes.png"
    assert Path(out) == png and png.stat().st_size > 10_000


# ----------------------------------------------------------------------------------------------------------------
# Review additions: parameters under torch.func.vmap, scalar parameter shapes
# ----------------------------------------------------------------------------------------------------------------


def test_constructors_and_responses_under_vmap_over_one_parameter() -> None:
    """A population of models (vmap over one parameter, the others fixed) equals a loop over the values: the
    admissibility checks that combine parameters (K of NeoHookean/SVK, C10 + C01, sum mu_p alpha_p, Gent's locking
    state) must be skipped when any of the parameters they read is a transform's tensor."""
    from torch.func import vmap

    lam = torch.linspace(1.1, 3.0, 5, dtype=D)
    E = green_lagrange(_F(2, 0.1))
    values = torch.tensor([0.2, 0.35], dtype=D)
    cases = [
        (lambda p: MooneyRivlin(0.3, p).nominal_stress(lam), values),
        (lambda p: NeoHookean(p, 1.0).stress(E), values),
        (lambda p: SaintVenantKirchhoff(1.0, p).stress(E), values),
        (lambda p: Gent(0.5, p).nominal_stress(lam), 100.0 * values),
        (lambda p: Gent(0.5, p, K=2.0).stress(E), 100.0 * values),
        (lambda p: Ogden(p, torch.tensor(TRELOAR_ALPHA, dtype=D)).nominal_stress(lam), torch.tensor([TRELOAR_MU] * 2)),
    ]
    for fn, ps in cases:
        batched = vmap(fn)(ps)
        looped = torch.stack([fn(p) for p in ps])
        assert _rel(batched, looped) < 1e-14


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: NeoHookean([0.5, 0.6], 1.0), "mu"),
        (lambda: NeoHookean(0.5, [1.0, 2.0]), "lmbda"),
        (lambda: SaintVenantKirchhoff([1.0, 2.0], 1.0), "lmbda"),
        (lambda: MooneyRivlin([0.3, 0.4], 0.1), "C10"),
        (lambda: Yeoh(0.4, [0.1, 0.2], 0.0), "C20"),
        (lambda: ArrudaBoyce(0.3, [6.0, 7.0]), "N"),
        (lambda: Gent(0.5, [20.0, 30.0], K=2.0), "Jm"),
        (lambda: Ogden([0.5], [2.0], K=[1.0, 2.0]), "K"),
    ],
)
def test_scalar_parameters_must_be_scalars(make, name: str) -> None:
    with pytest.raises(ValueError, match=f"parameter '{name}' must have shape"):
        make()


def test_integer_dtype_refused_and_volumetric_terms_registered():
    """Issue 9: non-floating dtypes are refused; the volumetric functions are registered VolumetricTerm classes."""
    from constitutive.models import VOLUMETRIC_TERMS

    with pytest.raises(ValueError, match="floating-point torch dtype"):
        NeoHookean(0.5, 2.0, dtype=torch.int64)
    assert set(VOLUMETRIC_TERMS) >= {"quadratic", "log", "simo_taylor"}
    assert VOLUMETRIC_FUNCTIONS["log"].startswith("U = K/2 (ln J)^2")
    J = torch.tensor([0.8, 1.0, 1.3], dtype=torch.float64)
    K = torch.tensor(3.0, dtype=torch.float64)
    torch.testing.assert_close(VOLUMETRIC_TERMS["quadratic"]().energy(J, K), 1.5 * (J - 1) ** 2)
    with pytest.raises(ValueError, match="'volumetric'"):
        Gent(0.5, 20.0, K=2.0, volumetric="cubic")
    assert ArrudaBoyce.declared_parameters()["N"].range_text == "> 1"
    assert MooneyRivlin(0.3, 0.1).parameter_declarations().keys() == {"C10", "C01"}
