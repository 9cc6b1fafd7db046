"""Finite-strain J2 (:class:`constitutive.models.FiniteStrainJ2`): multiplicative split, Hencky elasticity,
exponential-map return.

Checked here: the small-strain limit against :class:`J2Plasticity` (relative difference O(ε), and shrinking in
proportion to ε); uniaxial tension through the driver (mixed control, lateral P = 0) against the closed form of the
Hencky model in log strain; large simple shear against an independent numpy integrator written below (NEML2 3.1.0
installs, but offers no multiplicative finite-strain J2 to compare with) and the driver; objectivity under
superposed rotations; plastic incompressibility det Cp_inv = 1 to round-off; A = dP/dF against central differences
and a Taylor test of order 2, and the Abaqus tangent against the Jaumann-rate finite differences and Simo's spatial
formula, at every step of cyclic and non-proportional paths; repeated eigenvalues; bad input and failed updates.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from constitutive import paths
from constitutive.driver import drive
from constitutive.models import ConvergenceError, FiniteStrainJ2, J2Plasticity, Material

E, NU, SY, HH = 200000.0, 0.3, 250.0, 1000.0
KB, GG = E / (3 * (1 - 2 * NU)), E / (2 * (1 + NU))
ROOT = Path(__file__).resolve().parents[1]


def _voce() -> FiniteStrainJ2:
    return FiniteStrainJ2(E, NU, SY, HH, hardening="voce", Q=150.0, b=12.0)


def _rotations(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    Q, R = torch.linalg.qr(torch.randn(n, 3, 3, generator=g, dtype=torch.float64))
    Q = Q * torch.sign(torch.diagonal(R, dim1=-2, dim2=-1))[..., None, :]
    return Q * torch.sign(torch.linalg.det(Q))[..., None, None]


def _history(n_points: int = 3, seed: int = 1) -> list[torch.Tensor]:
    """A cyclic, non-proportional F history ``(n_points, 3, 3)`` per step: loading along one direction, a
    reversal (elastic unloading, then reverse yielding), then a turn to another direction, with rotations."""
    g = torch.Generator().manual_seed(seed)
    d1 = 0.02 * torch.randn(n_points, 3, 3, generator=g, dtype=torch.float64)
    d2 = 0.02 * torch.randn(n_points, 3, 3, generator=g, dtype=torch.float64)
    I = torch.eye(3, dtype=torch.float64)
    s = [0.5, 1.0, 1.5, 1.45, 1.0, 0.0, -0.8]
    Fs = [I + a * d1 for a in s]
    Fs += [Fs[-1] + a * d2 for a in (0.5, 1.0, 1.5)]
    R = _rotations(n_points, seed + 7)
    return Fs[:-1] + [R @ Fs[-1]]  # a final large rotation too


def _run(model: FiniteStrainJ2, Fs: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
    """The state at the start of every step."""
    st = model.initial_state(Fs[0].shape[:-2])
    starts = []
    for F in Fs:
        starts.append(st)
        st = model.first_piola_update(F, st)[1]
    return starts + [st]


# ------------------------------------------------------------------------------------------- the small-strain limit
def _small_strain_difference(scale: float) -> tuple[float, float]:
    """Relative difference of σ and α between FiniteStrainJ2 at F = I + ε and J2Plasticity at ε, along a cyclic
    non-proportional strain history of amplitude ``scale`` (σ_y scaled with it: same plastic history shape)."""
    kw = {"hardening": "voce", "Q": 0.5 * scale * E, "b": 30.0 / scale}
    fin = FiniteStrainJ2(E, NU, 0.25 * scale * E, 0.1 * E, **kw)
    sml = J2Plasticity(E, NU, 0.25 * scale * E, 0.1 * E, **kw)
    g = torch.Generator().manual_seed(3)
    d1, d2 = (torch.randn(4, 3, 3, generator=g, dtype=torch.float64) for _ in range(2))
    d1, d2 = scale * 0.5 * (d1 + d1.mT) / 2, scale * 0.5 * (d2 + d2.mT) / 2
    I = torch.eye(3, dtype=torch.float64)
    sf, ss = fin.initial_state((4,)), sml.initial_state((4,))
    worst_s = worst_a = 0.0
    for eps in (d1, 2 * d1, 2 * d1 + d2, d2, -d1, -2 * d1):
        s_f, sf, _ = fin.update(I + eps, sf)
        s_s, ss, _ = sml.update(eps, ss)
        worst_s = max(worst_s, float((s_f - s_s).abs().max() / s_s.abs().max()))
        worst_a = max(worst_a, float((sf["alpha"] - ss["alpha"]).abs().max() / ss["alpha"].abs().max()))
    assert float(ss["alpha"].min()) > 0  # plastic at every point
    return worst_s, worst_a


def test_small_strain_limit() -> None:
    """Strains ~1e-4 (F = I + ε, ε symmetric): σ and α agree with small-strain J2 to a relative 20·ε (the O(ε)
    geometric terms: ½ ln(I + 2ε + ε²) against ε, σ = τ/J against τ); at ε/10 the difference falls tenfold (it is
    first order in ε, not a constant offset)."""
    s1, a1 = _small_strain_difference(1e-4)
    s2, a2 = _small_strain_difference(1e-5)
    assert s1 < 20 * 1e-4 and a1 < 20 * 1e-4
    assert 5.0 < s1 / s2 < 20.0


# ------------------------------------------------------------------------------------------------ uniaxial tension
def test_uniaxial_tension_closed_form_through_the_driver() -> None:
    r"""Uniaxial stress (F11 prescribed, P22 = P33 = 0 and F off-diagonals zero: mixed control) with linear hardening.

    Closed form (proportional loading, fixed principal axes: the Hencky model is small-strain J2 in log strains
    ε = ln λ and Kirchhoff stress): elastic τ11 = E ε11; plastic τ11 = σ_y + H α with α = ε11 - τ11/E, so
    τ11 = E(σ_y + H ε11)/(E + H), and ln λ2 = -ν τ11/E - α/2."""
    m = FiniteStrainJ2(E, NU, SY, HH)
    path = paths.uniaxial_stress([0.001, 0.6], kinematics="finite", increments=[1, 8])
    res = drive(m, path, check_tangent=True)
    F, P = res.strain, res.stress
    tau = P @ F.mT
    lam1 = F[:, 0, 0]
    eps = torch.log(lam1)
    assert float(P[:, 1:, 1:].abs().max()) < 1e-9 * float(P.abs().max())
    plastic = eps * E > SY
    exact = torch.where(plastic, E * (SY + HH * eps) / (E + HH), E * eps)
    assert float((tau[:, 0, 0] - exact).abs().max()) < 1e-10 * float(exact.abs().max())
    alpha = res.state["alpha"]
    assert float((alpha - torch.where(plastic, eps - exact / E, torch.zeros_like(eps))).abs().max()) < 1e-12
    lat = -NU * exact / E - 0.5 * alpha
    assert float((torch.log(F[:, 1, 1]) - lat).abs().max()) < 1e-10
    assert bool(plastic[2:].all()) and not bool(plastic[1])  # an elastic step, then plastic ones
    assert float((torch.linalg.det(res.state["Cp_inv"]) - 1).abs().max()) < 1e-13
    assert float(res.tangent_error.max()) < 1e-6


# ------------------------------------------------------------------------------------------------ large simple shear
def _numpy_reference(gammas: np.ndarray, Q: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """An independent exponential-map integrator (numpy, one point, scalar Newton): Cauchy stresses and α along
    simple shear F = I + γ e1⊗e2, with state Cp_inv; Voce hardening σ_f = σ_y + H α + Q(1 - exp(-b α))."""
    Cp, alpha = np.eye(3), 0.0
    sigmas, alphas = [], []
    for gam in gammas:
        F = np.eye(3)
        F[0, 1] = gam
        w, V = np.linalg.eigh(F @ Cp @ F.T)
        e = 0.5 * np.log(w)
        s = 2 * GG * (e - e.sum() / 3)
        q = math.sqrt(1.5) * np.linalg.norm(s)
        da = 0.0
        if q - (SY + HH * alpha + Q * (1 - math.exp(-b * alpha))) > 0:
            for _ in range(60):
                a = alpha + da
                r = q - 3 * GG * da - (SY + HH * a + Q * (1 - math.exp(-b * a)))
                if abs(r) < 1e-13 * q:
                    break
                da += r / (3 * GG + HH + Q * b * math.exp(-b * a))
        ee = e - math.sqrt(1.5) * da * s / np.linalg.norm(s) if da > 0 else e
        tau_p = KB * ee.sum() + 2 * GG * (ee - ee.sum() / 3)
        tau = V @ np.diag(tau_p) @ V.T
        Fi = np.linalg.inv(F)
        Cp = Fi @ V @ np.diag(np.exp(2 * ee)) @ V.T @ Fi.T
        alpha += da
        sigmas.append(tau / np.linalg.det(F))
        alphas.append(alpha)
    return np.array(sigmas), np.array(alphas)


def test_large_simple_shear_against_an_independent_integrator_and_the_driver() -> None:
    m = _voce()
    path = paths.simple_shear([4.0], kinematics="finite", increments=16)
    res = drive(m, path)
    F = res.strain
    sigma = (res.stress @ F.mT) / torch.linalg.det(F)[:, None, None]
    ref_s, ref_a = _numpy_reference(F[1:, 0, 1].numpy(), 150.0, 12.0)
    assert np.abs(sigma[1:].numpy() - ref_s).max() < 1e-10 * np.abs(ref_s).max()
    assert np.abs(res.state["alpha"][1:].numpy() - ref_a).max() < 1e-12
    # the published features of the formulation (Simo 1992, Eterovic-Bathe 1990): monotone shear stress, no
    # oscillation; α ≈ γ/√3 (the rate of deformation is constant)
    assert bool((sigma[1:, 0, 1] > sigma[:-1, 0, 1]).all())
    gamma = F[:, 0, 1]
    ratio = float(res.state["alpha"][-1] / (gamma[-1] / math.sqrt(3)))
    assert 0.98 < ratio < 1.0  # less by the elastic strain and the stress's turn away from d
    assert float((torch.linalg.det(res.state["Cp_inv"]) - 1).abs().max()) < 1e-13


# ---------------------------------------------------------------------------------------------------- objectivity
def test_objectivity_and_plastic_incompressibility() -> None:
    """F -> Q F at every step (a different rotation per step): σ -> Q σ Qᵀ, P -> Q P, A and the Abaqus tangent
    rotate, the state is the same (to round-off); det Cp_inv = 1 to round-off along the whole path."""
    m = _voce()
    Fs = _history()
    st, st_r = m.initial_state((3,)), m.initial_state((3,))
    for k, F in enumerate(Fs):
        Q = _rotations(3, 100 + k)
        s, st_new, C = m.update(F, st)
        P, _, A = m.first_piola_update(F, st)
        s_r, st_r, C_r = m.update(Q @ F, st_r)
        P_r, _, A_r = m.first_piola_update(Q @ F, st)
        # round-off: strains carry ~1e-16 relative to 1, so stresses ~1e-16 E (not relative to |σ| << E)
        assert float((s_r - Q @ s @ Q.mT).abs().max()) < 1e-14 * E
        assert float((P_r - Q @ P).abs().max()) < 1e-14 * E
        assert float((A_r - torch.einsum("nia,nkb,najbl->nijkl", Q, Q, A)).abs().max()) < 1e-12 * float(A.abs().max())
        rotC = torch.einsum("nia,njb,nkc,nld,nabcd->nijkl", Q, Q, Q, Q, C)
        assert float((C_r - rotC).abs().max()) < 1e-12 * float(C.abs().max())
        for key in st_new:
            assert float((st_r[key] - st_new[key]).abs().max()) < 1e-12
        st = st_new
        assert float((torch.linalg.det(st["Cp_inv"]) - 1).abs().max()) < 1e-13
    assert float(st["alpha"].min()) > 0.02


# ------------------------------------------------------------------------------------------------------ tangents
def _jaumann_fd(m: FiniteStrainJ2, F: torch.Tensor, st: dict[str, torch.Tensor], h: float) -> torch.Tensor:
    """C^τJ_ijkl ≈ [τ_ij(F + δF) - τ_ij(F - δF)] / (2 J h), δF = h sym(e_k ⊗ e_l) F: a pure stretching increment
    (no spin), so the Jaumann rate is the plain rate of τ (the definition the hyperelastic tests check,
    :func:`constitutive.kinematics.spatial_to_jaumann_tangent`)."""
    J = torch.linalg.det(F)
    out = torch.zeros(*F.shape[:-2], 3, 3, 3, 3, dtype=F.dtype)
    for k in range(3):
        for l in range(3):
            e = torch.zeros(3, 3, dtype=F.dtype)
            e[k, l] += 0.5
            e[l, k] += 0.5

            def tau(G: torch.Tensor) -> torch.Tensor:
                return m.update(G, st)[0] * torch.linalg.det(G)[..., None, None]

            out[..., k, l] = (tau(F + h * e @ F) - tau(F - h * e @ F)) / (2 * h * J[..., None, None])
    return out


def test_tangents_at_every_step_fd_taylor_and_two_routes() -> None:
    """At every step of a cyclic, non-proportional path (plastic loading, elastic unloading, reverse yielding, a
    turn, a large rotation): A = dP/dF against central differences (9 perturbations) and a Taylor test (remainder
    of order 2 along a random direction); the Abaqus tangent against Jaumann-rate differences and against Simo's
    spatial formula (a second closed form, to round-off)."""
    m = _voce()
    Fs = _history()
    starts = _run(m, Fs)
    g = torch.Generator().manual_seed(11)
    kinds = set()
    for F, st, st_end in zip(Fs, starts[:-1], starts[1:]):
        kinds.add(bool((st_end["alpha"] > st["alpha"]).any()))
        kinds.add(bool((st_end["alpha"] == st["alpha"]).any()))
        P, _, A = m.first_piola_update(F, st)
        h = 1e-6
        A_fd = torch.zeros_like(A)
        for k in range(3):
            for l in range(3):
                dF = torch.zeros(3, 3, dtype=F.dtype)
                dF[k, l] = h
                A_fd[..., k, l] = (m.first_piola_update(F + dF, st)[0] - m.first_piola_update(F - dF, st)[0]) / (2 * h)
        assert float((A - A_fd).abs().max()) < 1e-7 * float(A.abs().max())
        d = torch.randn(F.shape, generator=g, dtype=F.dtype)
        lin = torch.einsum("...iJkL,...kL->...iJ", A, d)
        rem = [float((m.first_piola_update(F + t * d, st)[0] - P - t * lin).abs().max()) for t in (4e-5, 2e-5, 1e-5)]
        order = [math.log2(rem[0] / rem[1]), math.log2(rem[1] / rem[2])]
        assert min(order) > 1.8, order
        sigma, _, C = m.update(F, st)
        C_fd = _jaumann_fd(m, F, st, 1e-6)
        assert float((C - C_fd).abs().max()) < 1e-7 * float(C.abs().max())
        C_simo = m.simo_abaqus_tangent(F, st)
        assert float((C - C_simo).abs().max()) < 1e-12 * float(C.abs().max())
    assert kinds == {True, False}  # plastic and elastic points both met


def test_repeated_eigenvalues() -> None:
    """F = I, uniaxial (two equal stretches) and hydrostatic (three) deformations, elastic and plastic: A is finite
    and agrees with central differences (the spectral derivative takes the exact limit where eigenvalues of
    b_e^trial coincide), and is continuous across a tiny split of the eigenvalues."""
    m = _voce()
    I = torch.eye(3, dtype=torch.float64)
    Fs = torch.stack([I, torch.diag(torch.tensor([1.1, 0.96, 0.96])), 1.002 * I, torch.diag(torch.tensor([1.002] * 3))])
    st = m.initial_state((4,))
    P, _, A = m.first_piola_update(Fs, st)
    assert bool(torch.isfinite(A).all())
    h = 1e-6
    for k in range(3):
        for l in range(3):
            dF = torch.zeros(3, 3, dtype=torch.float64)
            dF[k, l] = h
            fd = (m.first_piola_update(Fs + dF, st)[0] - m.first_piola_update(Fs - dF, st)[0]) / (2 * h)
            assert float((A[..., k, l] - fd).abs().max()) < 1e-7 * float(A.abs().max())
    split = Fs + torch.diag(torch.tensor([0.0, 1e-9, -1e-9], dtype=torch.float64))
    A2 = m.first_piola_update(split, st)[2]
    assert float((A2 - A).abs().max()) < 1e-6 * float(A.abs().max())


# --------------------------------------------------------------------------------------------- interfaces and input
def test_virgin_maps_round_trip_and_parameter_gradient() -> None:
    m = _voce()
    F = torch.tensor([[1.2, 0.3, 0.0], [0.0, 0.9, 0.1], [0.05, 0.0, 1.0]], dtype=torch.float64)
    P, A = m.first_piola_and_elasticity(F)
    sigma, C = m.cauchy_and_abaqus_tangent(F)
    J = torch.linalg.det(F)
    assert torch.allclose(m.first_piola(F), P, rtol=0, atol=0) and torch.allclose(m.first_elasticity(F), A)
    assert torch.allclose(m.stress(F), sigma) and torch.allclose(m.tangent(F), C) and torch.allclose(m.cauchy(F), sigma)
    assert torch.allclose(m.kirchhoff(F), J * sigma) and torch.allclose(P @ F.mT / J, sigma, rtol=1e-13)
    assert torch.allclose(m.abaqus_tangent(F), C)
    twin = Material.from_dict(m.to_dict())
    assert isinstance(twin, FiniteStrainJ2) and torch.equal(twin.first_piola(F), P)
    assert torch.equal(m.with_parameters(Q=150.0).first_piola(F), P)
    # dσ/dσ_y through the converged return (implicit-function step) against central differences
    sy = torch.tensor(SY, dtype=torch.float64, requires_grad=True)
    mg = FiniteStrainJ2(E, NU, sy, HH, hardening="voce", Q=150.0, b=12.0)
    s12 = mg.cauchy(F)[0, 1]
    (g,) = torch.autograd.grad(s12, sy)
    d = 1e-3
    fd = (
        FiniteStrainJ2(E, NU, SY + d, HH, hardening="voce", Q=150.0, b=12.0).cauchy(F)[0, 1]
        - FiniteStrainJ2(E, NU, SY - d, HH, hardening="voce", Q=150.0, b=12.0).cauchy(F)[0, 1]
    ) / (2 * d)
    assert abs(float(g) - float(fd)) < 1e-6 * abs(float(fd)) and abs(float(fd)) > 1e-3


def test_bad_input_and_failed_updates_leave_the_state_untouched() -> None:
    m = _voce()
    st = m.initial_state((2,))
    F = torch.eye(3, dtype=torch.float64).expand(2, 3, 3).clone()
    F[:, 0, 1] = 0.5
    with pytest.raises(ValueError, match="det F"):
        m.update(torch.diag(torch.tensor([1.0, 1.0, -1.0])), m.initial_state())
    with pytest.raises(ValueError, match="missing 'Cp_inv'"):
        m.update(F, {"alpha": st["alpha"]})
    bad = {"Cp_inv": st["Cp_inv"].clone(), "alpha": st["alpha"]}
    bad["Cp_inv"][0, 0, 1] = 0.3
    with pytest.raises(ValueError, match="symmetric"):
        m.update(F, bad)
    with pytest.raises(ValueError, match="non-negative"):
        m.update(F, {"Cp_inv": st["Cp_inv"], "alpha": -torch.ones(2, dtype=torch.float64)})
    with pytest.raises(ValueError, match="positive definite"):
        m.update(F, {"Cp_inv": -st["Cp_inv"], "alpha": st["alpha"]})
    with pytest.raises(ValueError, match="max_iter"):
        FiniteStrainJ2(E, NU, SY, max_iter=0)
    with pytest.raises(ValueError, match="sigma_y"):
        FiniteStrainJ2(E, NU)
    saved = {k: v.clone() for k, v in st.items()}
    one = FiniteStrainJ2(E, NU, SY, HH, hardening="voce", Q=150.0, b=12.0, max_iter=1)
    with pytest.raises(ConvergenceError, match="did not converge"):
        one.first_piola_update(F, st)
    assert all(torch.equal(st[k], saved[k]) for k in st)
    _, new, _ = m.update(F, st)
    assert new["Cp_inv"] is not st["Cp_inv"] and all(torch.equal(st[k], saved[k]) for k in st)


# ------------------------------------------------------------------------------------------------------- example
def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_example_finite_j2", ROOT / "examples" / "finite_j2_simple_shear.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_simple_shear(tmp_path: Path) -> None:
    out = _example().main(tmp_path, gamma=2.0, increments=8)
    assert Path(out["figure"]).exists()
    assert out["small_gamma_rel_difference"] < 1e-3  # γ ≤ 0.02
    assert out["monotone_shear_stress"] and out["yield_consistency"] < 1e-12
    assert out["det_Cp_inv_error"] < 1e-13 and out["tangent_max_rel_error"] < 1e-6
    assert abs(out["final_sigma12_finite"] - out["final_sigma12_small"]) < 0.01 * out["final_sigma12_small"]
