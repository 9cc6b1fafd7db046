"""Drucker--Prager and Mohr--Coulomb (constitutive.models.geomechanics): closed forms (triaxial compression and
extension, pure shear, the apex), every return type against finite differences (smooth, both edges, apex; associated
and not), unsymmetric tangents, repeated eigenvalues, rotation invariance, J2 as the β = 0 limit, and bad parameters.
The harness cases (tests/cases/path_dependent.py) check the same models along cyclic histories."""

from __future__ import annotations

import math

import pytest
import torch

from constitutive.check import check_tangent
from constitutive.driver import drive
from constitutive.models import (
    ConvergenceError,
    DruckerPrager,
    J2Plasticity,
    MohrCoulomb,
    Voce,
    describe_models,
)
from constitutive.models.geomechanics import (
    RETURN_MODES,
    mohr_coulomb_match,
    pure_shear_peak,
    triaxial_compression_peak,
)
from constitutive.paths import LoadPath, Segment
from constitutive.tensor import transform4

D64 = torch.float64
I3 = torch.eye(3, dtype=D64)
E, NU, PHI, C0 = 20e3, 0.25, 30.0, 10.0


def _diag(*v: float) -> torch.Tensor:
    return torch.diag(torch.tensor(v, dtype=D64))


def _rotation(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(3, 3, generator=g, dtype=D64))
    return Q


def _triaxial(confining: torch.Tensor, axial: float) -> LoadPath:
    """Hydrostatic compression to ``confining`` (stress control), then the axial strain ε33 to ``axial`` with the
    lateral stresses held (compression: axial < 0)."""
    free = {"23": 0.0, "13": 0.0, "12": 0.0}
    p = -confining
    return LoadPath(
        [
            Segment({}, {"11": p, "22": p, "33": p, **free}, increments=1),
            Segment({"33": axial}, {"11": p, "22": p, **free}, increments=6),
        ]
    )


# ------------------------------------------------------------------------------------------- closed forms
def test_triaxial_compression_peak_mohr_coulomb_and_matching_drucker_prager() -> None:
    """DP (compression-matched cone) under the triaxial test itself (driver, lateral stress held); MC by axisymmetric
    strain steps ε = diag(a, a, -b), which end on its compression edge σ₁ = σ₂ (the driver cannot hold σ₁₁ and σ₂₂
    separately there: on the edge dσ₁ = dσ₂, the stress-controlled block is singular): σ₁ - σ₃ at the lateral stress
    σ₁ is the closed form."""
    confining = torch.tensor([0.0, 20.0, 60.0], dtype=D64)
    expected = torch.tensor([triaxial_compression_peak(PHI, C0, float(s)) for s in confining], dtype=D64)
    # uniaxial compressive strength 2c cos φ / (1 - sin φ) = 2c √3 at φ = 30°
    assert expected[0] == pytest.approx(2.0 * C0 * math.sqrt(3.0), rel=1e-14)
    dp = DruckerPrager.from_mohr_coulomb(E, NU, PHI, C0, psi=5.0, match="compression")
    res = drive(dp, _triaxial(confining, -0.01), batch_shape=(3,))
    s = res.stress[-1]
    torch.testing.assert_close(s[:, 0, 0], -confining, rtol=0, atol=1e-9)
    torch.testing.assert_close(-confining - s[:, 2, 2], expected, rtol=1e-10, atol=1e-9)
    assert bool((res.state["alpha"][-1] > 0).all())
    mc = MohrCoulomb(E, NU, PHI, C0, psi=5.0)
    lateral = torch.tensor([2e-3, 3e-3, 4e-3, 2.5e-3], dtype=D64)
    eps = torch.stack([_diag(float(a), float(a), float(a) - 0.01) for a in lateral])
    s, st, _ = mc.update(eps, mc.initial_state((4,)))
    assert mc.return_mode(eps).tolist() == [2, 2, 2, 2]
    conf = -s[:, 0, 0]
    torch.testing.assert_close(s[:, 1, 1], s[:, 0, 0], rtol=1e-13, atol=1e-12)
    closed = torch.tensor([triaxial_compression_peak(PHI, C0, float(p)) for p in conf], dtype=D64)
    torch.testing.assert_close(s[:, 0, 0] - s[:, 2, 2], closed, rtol=1e-12, atol=1e-11)


def test_triaxial_extension_peak_with_tension_matched_drucker_prager() -> None:
    """Axial extension with the lateral stress held (σ₂ = σ₃ = -conf, σ₁ axial): the inner (tension) DP cone by the
    driver, MC by axisymmetric strain steps on its extension edge σ₂ = σ₃; both follow
    (σ₁ - σ₃)(1 + sin φ) = 2c cos φ + 2 conf sin φ."""
    s_, co = math.sin(math.radians(PHI)), math.cos(math.radians(PHI))
    conf = torch.tensor([10.0, 50.0], dtype=D64)
    dp = DruckerPrager.from_mohr_coulomb(E, NU, PHI, C0, psi=5.0, match="tension")
    res = drive(dp, _triaxial(conf, 0.01), batch_shape=(2,))
    torch.testing.assert_close(
        res.stress[-1][:, 2, 2] + conf, (2 * C0 * co + 2 * conf * s_) / (1 + s_), rtol=1e-10, atol=1e-9
    )
    mc = MohrCoulomb(E, NU, PHI, C0, psi=5.0)
    eps = torch.stack([_diag(float(a) + 0.01, float(a), float(a)) for a in (-4e-3, -6e-3)])
    s, _, _ = mc.update(eps, mc.initial_state((2,)))
    assert mc.return_mode(eps).tolist() == [3, 3]
    torch.testing.assert_close(s[:, 1, 1], s[:, 2, 2], rtol=1e-13, atol=1e-12)
    c_ = -s[:, 1, 1]
    torch.testing.assert_close((s[:, 0, 0] - s[:, 2, 2]) * (1 + s_), 2 * C0 * co + 2 * c_ * s_, rtol=1e-12, atol=1e-11)


def test_pure_shear_peak() -> None:
    p0 = torch.tensor([0.0, 30.0], dtype=D64)
    mc = MohrCoulomb(E, NU, PHI, C0, psi=10.0)
    dp = DruckerPrager(E, NU, 25.0, 40.0, psi=8.0)
    tb, d = math.tan(math.radians(25.0)), (1 - math.tan(math.radians(25.0)) / 3) * 40.0
    path = LoadPath(
        [
            Segment({}, {"11": -p0, "22": -p0, "33": -p0, "23": 0.0, "13": 0.0, "12": 0.0}),
            Segment({"12": 0.01}, {"11": -p0, "22": -p0, "33": -p0, "23": 0.0, "13": 0.0}, increments=30),
        ]
    )
    tau_mc = torch.tensor([pure_shear_peak(PHI, C0, float(p)) for p in p0], dtype=D64)
    tau_dp = (d + p0 * tb) / math.sqrt(3.0)
    for model, tau in ((mc, tau_mc), (dp, tau_dp)):
        res = drive(model, path, batch_shape=(2,))
        torch.testing.assert_close(res.stress[-1][:, 0, 1], tau, rtol=1e-10, atol=1e-9)
        torch.testing.assert_close(res.stress[-1][:, 2, 2], -p0, rtol=0, atol=1e-9)


def test_mohr_coulomb_match_cones_pass_through_the_meridians() -> None:
    """A stress on the MC surface at the compression (σ₁ = σ₂) / extension (σ₂ = σ₃) meridian is on the matching DP
    cone; plane strain at φ = 0 is von Mises through the Tresca shear strength."""
    mc = MohrCoulomb(E, NU, PHI, C0)
    p = torch.tensor([-5.0, 0.0, 20.0, 100.0], dtype=D64)
    s_, co = math.sin(math.radians(PHI)), math.cos(math.radians(PHI))
    for match, lateral_high in (("compression", True), ("tension", False)):
        dp = DruckerPrager.from_mohr_coulomb(E, NU, PHI, C0, match=match)
        if lateral_high:  # σ₁ = σ₂ = -p, σ₃ = -p - Δ
            delta = (2 * C0 * co + 2 * p * s_) / (1 - s_)
            sig = torch.stack([_diag(-float(pi), -float(pi), -float(pi) - float(di)) for pi, di in zip(p, delta)])
        else:  # σ₂ = σ₃ = -p, σ₁ = -p + Δ
            delta = (2 * C0 * co + 2 * p * s_) / (1 + s_)
            sig = torch.stack([_diag(-float(pi) + float(di), -float(pi), -float(pi)) for pi, di in zip(p, delta)])
        torch.testing.assert_close(mc.yield_function(sig), torch.zeros(4, dtype=D64), rtol=0, atol=1e-12)
        torch.testing.assert_close(dp.yield_function(sig), torch.zeros(4, dtype=D64), rtol=0, atol=1e-12)
    beta, psi, d = mohr_coulomb_match(0.0, 7.0, match="plane_strain")
    assert (beta, psi) == (0.0, 0.0) and d == pytest.approx(math.sqrt(3.0) * 7.0, rel=1e-15)
    with pytest.raises(ValueError, match="match"):
        mohr_coulomb_match(30.0, 1.0, match="triaxial")


def test_apex_returns_hydrostatic_tension_to_the_apex() -> None:
    eps = torch.stack([0.004 * I3, 0.01 * I3])
    mc, dp = MohrCoulomb(E, NU, PHI, C0, psi=10.0), DruckerPrager(E, NU, 30.0, 25.0, psi=12.0)
    s, st, C = mc.update(eps, mc.initial_state((2,)))
    torch.testing.assert_close(s, C0 / math.tan(math.radians(PHI)) * I3.expand(2, 3, 3), rtol=1e-13, atol=1e-12)
    assert mc.return_mode(eps).tolist() == [4, 4] and float(C.abs().max()) == 0.0  # perfectly plastic apex
    d = (1 - math.tan(math.radians(30.0)) / 3) * 25.0
    s, st, _ = dp.update(eps, dp.initial_state((2,)))
    torch.testing.assert_close(s, d / math.tan(math.radians(30.0)) * I3.expand(2, 3, 3), rtol=1e-13, atol=1e-12)
    assert dp.return_mode(eps).tolist() == [4, 4]
    # plastic volume change takes up the rest: the elastic volumetric strain is the apex's
    K = E / (3 * (1 - 2 * NU))
    torch.testing.assert_close(torch.diagonal(st["eps_p"], dim1=-2, dim2=-1).sum(-1), 3 * eps[:, 0, 0] - s[:, 0, 0] / K)
    # with psi = 0 nothing can dilate: no admissible return, state untouched
    for model in (MohrCoulomb(E, NU, PHI, C0, psi=0.0), DruckerPrager(E, NU, 30.0, 25.0, psi=0.0)):
        state = model.initial_state((2,))
        with pytest.raises(ConvergenceError, match="psi = 0"):
            model.update(eps, state)
        assert float(state["alpha"].abs().max()) == 0.0


def test_edge_returns_and_a_repeated_eigenvalue() -> None:
    """Triaxial compression / extension strains return to the edges σ₁ = σ₂ / σ₂ = σ₃; at exactly repeated trial
    eigenvalues the stress and tangent equal the limit of nearby distinct ones."""
    mc = MohrCoulomb(E, NU, PHI, C0, 800.0, psi=10.0)
    comp, ext = _diag(0.001, 0.001, -0.004), _diag(0.002, -0.002, -0.002)
    for eps, code, (i, j) in ((comp, 2, (0, 1)), (ext, 3, (1, 2))):
        assert int(mc.return_mode(eps)) == code
        s, st, C = mc.update(eps, mc.initial_state())
        lam = torch.linalg.eigvalsh(s).flip(-1)
        assert float((lam[j] - lam[i]).abs()) < 1e-12 * float(lam.abs().max())  # on the edge
        torch.testing.assert_close(mc.yield_function(s, st["alpha"]), torch.zeros((), dtype=D64), rtol=0, atol=1e-11)
        near = eps + 1e-9 * _diag(1.0, -0.3, 0.7)  # distinct eigenvalues, same return
        s2, _, C2 = mc.update(near, mc.initial_state())
        torch.testing.assert_close(s, s2, rtol=0, atol=1e-4)
        torch.testing.assert_close(C, C2, rtol=0, atol=1e-3 * float(C.abs().max()))
        rot = _rotation(5)  # a rotated repeated case: any eigenvector basis of the repeated pair gives the same
        s3, _, C3 = mc.update(rot @ eps @ rot.T, mc.initial_state())
        torch.testing.assert_close(s3, rot @ s @ rot.T, rtol=1e-12, atol=1e-10)
        torch.testing.assert_close(C3, transform4(rot, C), rtol=1e-10, atol=1e-7)
    assert set(RETURN_MODES) == {0, 1, 2, 3, 4}


# ------------------------------------------------------------------------------------------- tangents
def _states_at(model, pre: torch.Tensor) -> dict[str, torch.Tensor]:
    return model.update(pre, model.initial_state(pre.shape[:-2]))[1]


_G = torch.Generator().manual_seed(21)
_R = torch.randn(6, 3, 3, generator=_G, dtype=D64)
_R = 0.5 * (_R + _R.transpose(-1, -2))
#: one strain per return type (distinct eigenvalues): elastic, smooth, compression edge, extension edge, apex
_MC_STRAINS = torch.stack(
    [
        _diag(-2e-4, -3e-4, -4e-4) + 1e-5 * _R[0],
        _diag(1.5e-3, -0.5e-3, -5e-3) + 1e-5 * _R[1],
        _diag(1.1e-3, 1.0e-3, -4e-3) + 1e-5 * _R[2],
        _diag(2.5e-3, -2.0e-3, -2.1e-3) + 1e-5 * _R[3],
        _diag(4.0e-3, 3.9e-3, 3.8e-3) + 1e-5 * _R[4],
    ]
)


@pytest.mark.parametrize(
    "model",
    [
        MohrCoulomb(E, NU, PHI, C0, 800.0, psi=10.0),
        MohrCoulomb(E, NU, PHI, C0, 800.0),
        MohrCoulomb(E, NU, PHI, C0, 300.0, psi=20.0, hardening=Voce(6.0, 150.0)),
    ],
    ids=["nonassociated", "associated", "voce"],
)
def test_mohr_coulomb_tangent_at_every_return(model: MohrCoulomb) -> None:
    pre = 0.3 * _MC_STRAINS  # a loaded start state (history), then the step
    state = _states_at(model, pre)
    assert model.return_mode(_MC_STRAINS, state).tolist() == [0, 1, 2, 3, 4]
    report = check_tangent(model, _MC_STRAINS, state=state, rtol=1e-6)
    assert report.passed, str(report)
    C = model.update(_MC_STRAINS, state)[2]
    asym = (C - C.permute(0, 3, 4, 1, 2)).abs().amax((1, 2, 3, 4)) / C.abs().amax((1, 2, 3, 4))
    if model.unsymmetric_tangent:
        assert float(asym[1:4].min()) > 1e-3  # non-associated plane and edges: unsymmetric, and kept so
    else:
        assert float(asym.max()) < 1e-12


@pytest.mark.parametrize(
    "model",
    [
        DruckerPrager(E, NU, 30.0, 25.0, 1500.0, psi=10.0),
        DruckerPrager(E, NU, 30.0, 25.0, 1500.0),
        DruckerPrager(E, NU, 40.0, 25.0, 400.0, psi=15.0, hardening=Voce(10.0, 80.0)),
    ],
    ids=["nonassociated", "associated", "voce"],
)
def test_drucker_prager_tangent_at_cone_and_apex(model: DruckerPrager) -> None:
    strains = _MC_STRAINS[[0, 1, 2, 4]]
    state = _states_at(model, 0.3 * strains)
    assert model.return_mode(strains, state).tolist() == [0, 1, 1, 4]
    report = check_tangent(model, strains, state=state, rtol=1e-6)
    assert report.passed, str(report)
    C = model.update(strains, state)[2]
    asym = float((C[1] - C[1].permute(2, 3, 0, 1)).abs().max() / C[1].abs().max())
    assert (asym > 1e-3) if model.unsymmetric_tangent else (asym < 1e-12)


def test_drucker_prager_with_zero_friction_is_j2() -> None:
    """β = ψ = 0: q ≤ σ_c, von Mises with σ_y = σ_c -- the same stress, state and tangent as J2Plasticity."""
    dp = DruckerPrager(E, NU, 0.0, 30.0, 700.0, hardening=Voce(20.0, 40.0))
    j2 = J2Plasticity(E, NU, 30.0, 700.0, hardening=Voce(20.0, 40.0))
    s1, st1, C1 = dp.update(_MC_STRAINS, dp.initial_state((5,)))
    s2, st2, C2 = j2.update(_MC_STRAINS, j2.initial_state((5,)))
    torch.testing.assert_close(s1, s2, rtol=1e-12, atol=1e-10)
    torch.testing.assert_close(st1["alpha"], st2["alpha"], rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(st1["eps_p"], st2["eps_p"], rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(C1, C2, rtol=1e-10, atol=1e-6)


@pytest.mark.parametrize("cls", ["MohrCoulomb", "DruckerPrager"])
def test_rotation_invariance(cls: str) -> None:
    model = (
        MohrCoulomb(E, NU, PHI, C0, 800.0, psi=10.0)
        if cls == "MohrCoulomb"
        else DruckerPrager(E, NU, 30.0, 25.0, 1500.0, psi=10.0)
    )
    Q = _rotation(9)
    s, st, C = model.update(_MC_STRAINS, model.initial_state((5,)))
    sr, str_, Cr = model.update(Q @ _MC_STRAINS @ Q.T, model.initial_state((5,)))
    torch.testing.assert_close(sr, Q @ s @ Q.T, rtol=1e-11, atol=1e-10)
    torch.testing.assert_close(str_["eps_p"], Q @ st["eps_p"] @ Q.T, rtol=1e-11, atol=1e-15)
    torch.testing.assert_close(Cr, transform4(Q, C), rtol=1e-10, atol=1e-6)


# ------------------------------------------------------------------------------------------- parameters
def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="'phi'.*friction angle"):
        MohrCoulomb(E, NU, -5.0, C0)
    with pytest.raises(ValueError, match="'phi'"):
        MohrCoulomb(E, NU, 90.0, C0)
    with pytest.raises(ValueError, match="dilation angle psi"):
        MohrCoulomb(E, NU, 20.0, C0, psi=25.0)
    with pytest.raises(ValueError, match="'c'"):
        MohrCoulomb(E, NU, 20.0, -1.0)
    with pytest.raises(ValueError, match="'beta'"):
        DruckerPrager(E, NU, 75.0, 10.0)
    with pytest.raises(ValueError, match="'beta'.*friction angle"):
        DruckerPrager(E, NU, -1.0, 10.0)
    with pytest.raises(ValueError, match="dilation angle psi"):
        DruckerPrager(E, NU, 20.0, 10.0, psi=30.0)
    with pytest.raises(ValueError, match="'sigma_c'"):
        DruckerPrager(E, NU, 20.0, -10.0)
    names = {d["name"] for d in describe_models() if d["kind"] == "model"}
    assert {"DruckerPrager", "MohrCoulomb"} <= names
    assert not MohrCoulomb(E, NU, 20.0, C0).unsymmetric_tangent
    assert DruckerPrager(E, NU, 20.0, 10.0, psi=0.0).unsymmetric_tangent


def test_parameters_are_differentiable_through_the_return() -> None:
    """d σ / d c through a Voce return (one-Newton-step re-expression) equals central differences."""
    eps = _MC_STRAINS[1:4]

    def stress(c: torch.Tensor) -> torch.Tensor:
        m = MohrCoulomb(E, NU, PHI, c, 300.0, psi=20.0, hardening=Voce(6.0, 150.0))
        return m.update(eps, m.initial_state((3,)))[0]

    c = torch.tensor(C0, dtype=D64, requires_grad=True)
    (g,) = torch.autograd.grad(stress(c).sum(), c)
    h = 1e-6
    fd = (stress(torch.tensor(C0 + h, dtype=D64)).sum() - stress(torch.tensor(C0 - h, dtype=D64)).sum()) / (2 * h)
    assert float(g) == pytest.approx(float(fd), rel=1e-6)


# ------------------------------------------------------------------------------------------- export
def test_cards_and_export_header() -> None:
    from constitutive.export import abaqus_card, export_model, parse_abaqus_card

    dp = DruckerPrager(E, NU, 30.0, 25.0, 400.0, psi=10.0)
    blocks = {b["keyword"]: b for b in parse_abaqus_card(abaqus_card(dp))}
    assert blocks["ELASTIC"]["data"] == [E, NU]
    assert blocks["DRUCKER PRAGER"]["data"] == [30.0, 1.0, 10.0]
    assert blocks["DRUCKER PRAGER"]["options"] == {"SHEAR CRITERION": "LINEAR"}
    assert blocks["DRUCKER PRAGER HARDENING"]["options"] == {"TYPE": "COMPRESSION"}
    assert blocks["DRUCKER PRAGER HARDENING"]["data"] == [25.0, 0.0, 425.0, 1.0]  # σ_c, ε̄^pl (linear: exact)
    assert "UNSYMM=YES" in abaqus_card(dp) and "UNSYMM" not in abaqus_card(dp.with_parameters(psi=30.0))
    mc = MohrCoulomb(E, NU, PHI, C0, psi=10.0, hardening=Voce(5.0, 20.0))
    text = abaqus_card(mc, tolerance=1e-3)
    blocks = {b["keyword"]: b for b in parse_abaqus_card(text)}
    assert blocks["MOHR COULOMB"]["data"] == [PHI, 10.0]
    table = torch.tensor(blocks["MOHR COULOMB HARDENING"]["data"], dtype=D64).reshape(-1, 2)
    torch.testing.assert_close(table[:, 0], mc.strength(table[:, 1])[0], rtol=1e-15, atol=0.0)  # c at the knots
    assert "Menetrey-Willam" in text and "UNSYMM=YES" in text
    with pytest.raises(ValueError, match="CalculiX has no"):
        abaqus_card(mc, code="calculix")
    eps = _MC_STRAINS[1]
    assert "unsymmetric tangent" in export_model(mc, eps).header()["metadata"]["tangent"]
    assert "tangent" not in export_model(mc.with_parameters(psi=PHI), eps).header()["metadata"]


# ------------------------------------------------------------------------------------------- examples
def _load_example(relative: str):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / relative
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_yield_surface(tmp_path) -> None:
    out = _load_example("geomechanics_yield_surface.py").main(tmp_path, n=91)
    # the compression-matched DP cone through the hexagon's outer corners, the tension-matched one the inner
    assert out["dp_outer_radius"] == pytest.approx(out["mc_radius_compression"], rel=1e-12)
    assert out["dp_inner_radius"] == pytest.approx(out["mc_radius_extension"], rel=1e-12)
    assert out["returned_radius_error"] < 1e-9 and out["returned_modes"] == [1, 2, 3]
    assert (tmp_path / "geomechanics_yield_surface.png").stat().st_size > 0


def test_example_triaxial_calibration() -> None:
    out = _load_example("calibration/triaxial_dp.py").main(None, increments=4)
    assert abs(out["fit_phi"] - 33.0) < 1.0 and abs(out["fit_c"] - 12.0) < 2.0  # synthetic data: 2 % noise
    assert out["dp_driven_vs_envelope"] < 1e-8 and out["mc_edge_vs_envelope"] < 1e-9
    assert out["mc_edge_modes"] == [2, 2]


# ------------------------------------------------------------------------------------------- UMAT
@pytest.mark.skipif(__import__("shutil").which("gfortran") is None, reason="gfortran is not installed")
def test_drucker_prager_umat_matches_the_model(tmp_path, monkeypatch) -> None:
    """The generated Fortran (gfortran -Wall -Werror) against the Python model through the bridge: stress, α and
    DDSDDE along a compression / dilation path that ends in apex returns, and DDSDDE against finite differences."""
    from constitutive.export import generate_umat
    from constitutive.umat import UMAT
    from constitutive.umat.check import check_umat, compare_umat

    monkeypatch.setenv("CONSTITUTIVE_UMAT_CACHE", str(tmp_path / "cache"))
    z = {"23": 0.0, "13": 0.0, "12": 0.0}
    ends = [(-0.004, 0.001, 0.001, 0.0), (0.004, 0.006, 0.005, 0.001), (0.0, 0.001, 0.0, 0.0)]
    path = LoadPath(
        [
            Segment({"11": a, "22": b, "33": c, **{**z, "12": s}}, increments=n)
            for (a, b, c, s), n in zip(ends, (4, 4, 3))
        ]
    )
    for model in (DruckerPrager(E, NU, 35.0, 30.0, 400.0, psi=20.0, hardening=Voce(10.0, 80.0)),):
        g = generate_umat(model)
        assert ("UNSYMM" in g.source) == model.unsymmetric_tangent
        src = tmp_path / f"dp_{len(g.props)}.f"
        src.write_text(g.source)
        umat = UMAT(str(src), g.props, nstatv=g.nstatv, flags=("-O2", "-fPIC", "-Wall", "-Werror"))
        rep = compare_umat(umat, model, [path], state_map={"alpha": 6})
        assert rep.max_tangent_difference <= 1e-12
        assert max(r["stress"] for r in rep.rows) <= 1e-12
        assert max(max(r["state"].values()) for r in rep.rows) <= 1e-12
        assert check_umat(umat, [path]).passed
        # the path reaches cone and apex returns of the Python model
        st, modes = model.initial_state(), set()
        prev = torch.zeros(3, 3, dtype=D64)
        for (a, b, c, s), n in zip(ends, (4, 4, 3)):
            end = torch.tensor([[a, s, 0.0], [s, b, 0.0], [0.0, 0.0, c]], dtype=D64)
            for k in range(1, n + 1):
                eps = prev + (end - prev) * k / n
                modes.add(int(model.return_mode(eps, st)))
                st = model.update(eps, st)[1]
            prev = end
        assert {1, 4} <= modes


def test_tangents_against_the_engine_implicit_tangent() -> None:
    """A second route: the same backward-Euler systems written on Mandel strains (eigh inside for MC, distinct
    eigenvalues) and differentiated by the shared engine's implicit_tangent (AD); equal to the closed forms."""
    from constitutive.models.plasticity import mandel_to_tensor, tensor4_to_mandel, tensor_to_mandel
    from constitutive.models.returnmap import implicit_tangent, local_newton

    dp = DruckerPrager(E, NU, 30.0, 25.0, 800.0, psi=10.0, hardening=Voce(10.0, 80.0))
    mc = MohrCoulomb(E, NU, PHI, C0, 800.0, psi=10.0, hardening=Voce(5.0, 100.0))
    K, G = (float(t) for t in dp.moduli())
    tb, tp = math.tan(math.radians(30.0)), math.tan(math.radians(10.0))
    sf, cf, sp = (math.sin(math.radians(PHI)), math.cos(math.radians(PHI)), math.sin(math.radians(10.0)))

    def dp_trial(e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ee = mandel_to_tensor(e)
        s = 2 * G * (ee - torch.diagonal(ee, dim1=-2, dim2=-1).sum(-1)[:, None, None] * I3 / 3)
        return s, -K * torch.diagonal(ee, dim1=-2, dim2=-1).sum(-1), torch.linalg.vector_norm(s, dim=(-1, -2))

    def dp_res(x, e, st):
        s, p, ns = dp_trial(e)
        g = x[:, 0]
        return (math.sqrt(1.5) * ns - 3 * G * g - (p + K * tp * g) * tb - dp.cohesion(st["a"] + (1 - tp / 3) * g)[0])[
            :, None
        ]

    def dp_stress(x, e, st):
        s, p, ns = dp_trial(e)
        q_tr = math.sqrt(1.5) * ns
        ratio = (q_tr - 3 * G * x[:, 0]) / q_tr
        return tensor_to_mandel(ratio[:, None, None] * s - (p + K * tp * x[:, 0])[:, None, None] * I3)

    def mc_principal(e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lam, Q = torch.linalg.eigh(mandel_to_tensor(e))
        lam, Q = lam.flip(-1), Q.flip(-1)
        return (K - 2 * G / 3) * lam.sum(-1, keepdim=True) + 2 * G * lam, Q

    Fa = torch.tensor([1 + sf, 0.0, -1 + sf], dtype=D64)
    Na = torch.tensor([1 + sp, 0.0, -1 + sp], dtype=D64)
    De = (K - 2 * G / 3) * torch.ones(3, 3, dtype=D64) + 2 * G * torch.eye(3, dtype=D64)

    def mc_res(x, e, st):
        s, _ = mc_principal(e)
        sig = s - x[:, :1] * (De @ Na)
        return (sig @ Fa - 2 * cf * mc.strength(st["a"] + 2 * cf * x[:, 0])[0])[:, None]

    def mc_stress(x, e, st):
        s, Q = mc_principal(e)
        sig = s - x[:, :1] * (De @ Na)
        return tensor_to_mandel((Q * sig[:, None, :]) @ Q.transpose(-1, -2))

    for model, res, stress, eps in (
        (dp, dp_res, dp_stress, _MC_STRAINS[1:3]),
        (mc, mc_res, mc_stress, _MC_STRAINS[1:2]),
    ):
        assert bool((model.return_mode(eps) == 1).all())
        e = tensor_to_mandel(eps)
        st = {"a": torch.zeros(len(eps), dtype=D64)}
        x, _ = local_newton(res, torch.zeros(len(eps), 1, dtype=D64), e, st, scale=torch.full((len(eps), 1), 100.0,
                            dtype=D64), tol=1e-13, max_iter=30, model="reference")  # fmt: skip
        C_ref = implicit_tangent(res, stress, x, e, st)
        s_ref = stress(x, e, st)
        s, _, C = model.update(eps, model.initial_state((len(eps),)))
        torch.testing.assert_close(tensor_to_mandel(s), s_ref, rtol=1e-12, atol=1e-10)
        torch.testing.assert_close(tensor4_to_mandel(C), C_ref, rtol=1e-10, atol=1e-7)


# ------------------------------------------------------------------------------------------- UMAT: Mohr-Coulomb
#: strain corners of a cyclic path (a small constant shear keeps the principal strains distinct) and the return
#: modes the Python model takes on each segment's 3 increments: every return type, with reversals in between.
_MC_CORNERS = [(1.0e-3, 0.95e-3, -4e-3), (-1e-3, -1e-3, -1e-3), (4e-3, -2.5e-3, -2.55e-3), (-2e-3, -1e-3, -3e-3),
               (6e-3, 6.1e-3, 5.9e-3), (1.5e-3, -0.5e-3, -5e-3)]  # fmt: skip
_MC_SHEAR = {"12": 0.7e-5, "13": -0.4e-5, "23": 0.5e-5}


def _mc_umat_path() -> tuple[LoadPath, torch.Tensor]:
    """The cyclic path as a :class:`LoadPath` and as its ``(n, 3, 3)`` strains (3 increments per segment)."""
    path = LoadPath([Segment({"11": a, "22": b, "33": c, **_MC_SHEAR}, increments=3) for a, b, c in _MC_CORNERS])
    shear = torch.zeros(3, 3, dtype=D64)
    for (i, j), v in zip(((0, 1), (0, 2), (1, 2)), _MC_SHEAR.values()):
        shear[i, j] = shear[j, i] = v
    prev, strains = torch.zeros(3, 3, dtype=D64), []
    for corner in _MC_CORNERS:
        end = torch.diag(torch.tensor(corner, dtype=D64)) + shear
        strains += [prev + (end - prev) * k / 3 for k in range(1, 4)]
        prev = end
    return path, torch.stack(strains)


@pytest.mark.skipif(__import__("shutil").which("gfortran") is None, reason="gfortran is not installed")
def test_mohr_coulomb_umat_matches_the_model(tmp_path, monkeypatch) -> None:
    """The generated Fortran (gfortran -Wall -Werror) against the Python model through the bridge along a cyclic
    path that takes every return (elastic, main plane, both edges, apex): stress, DDSDDE (unsymmetric, ψ ≠ φ), α and
    the plastic strain to round-off, per increment and through compare_umat; check_umat's finite differences of
    DDSDDE; NPROPS / NSTATV mismatches stop the UMAT."""
    from constitutive.export import generate_umat
    from constitutive.umat import UMAT, UMATError
    from constitutive.umat.check import check_umat, compare_umat

    monkeypatch.setenv("CONSTITUTIVE_UMAT_CACHE", str(tmp_path / "cache"))
    model = MohrCoulomb(E, NU, PHI, C0, 400.0, psi=10.0, hardening=Voce(5.0, 100.0))
    g = generate_umat(model)
    assert g.nprops == 8 and g.nstatv == 7 and "UNSYMM" in g.source
    assert all(len(line) <= 72 for line in g.source.split("\n"))
    src = tmp_path / "mc.f"
    src.write_text(g.source)
    umat = UMAT(str(src), g.props, nstatv=g.nstatv, flags=("-O2", "-fPIC", "-Wall", "-Werror"))
    path, strains = _mc_umat_path()
    us, ms, modes, asym = umat.initial_state(), model.initial_state(), [], 0.0
    eng = torch.tensor([1.0, 1.0, 1.0, 2.0, 2.0, 2.0], dtype=D64)  # STATEV: engineering shear
    for eps in strains:
        modes.append(int(model.return_mode(eps, ms)))
        su, us, Cu = umat.update(eps, us, 1.0)
        sm, ms, Cm = model.update(eps, ms)
        torch.testing.assert_close(su, sm, rtol=0.0, atol=1e-12 * float(sm.abs().max()))
        torch.testing.assert_close(Cu, Cm, rtol=0.0, atol=1e-12 * float(Cm.abs().max()))
        asym = max(asym, float((Cu - Cu.permute(2, 3, 0, 1)).abs().max() / Cu.abs().max()))
        ep = ms["eps_p"]
        ep_v = torch.stack([ep[0, 0], ep[1, 1], ep[2, 2], ep[0, 1], ep[0, 2], ep[1, 2]]) * eng
        torch.testing.assert_close(us["statev"][:6], ep_v, rtol=0.0, atol=1e-15)
        assert abs(float(us["statev"][6]) - float(ms["alpha"])) <= 1e-15
    assert modes == [0, 2, 2, 0, 0, 0, 0, 1, 3, 0, 0, 0, 2, 4, 4, 0, 0, 0]
    assert asym > 1e-3  # non-associated flow: the tangents compared are unsymmetric
    rep = compare_umat(umat, model, [path], state_map={"alpha": 6})
    assert rep.max_tangent_difference <= 1e-11
    assert max(r["stress"] for r in rep.rows) <= 1e-11
    assert max(max(r["state"].values()) for r in rep.rows) <= 1e-11
    assert check_umat(umat, [path]).passed
    with pytest.raises(UMATError, match="NPROPS"):
        wrong = UMAT(str(src), g.props[:-1], nstatv=g.nstatv)
        wrong.update(strains[0], wrong.initial_state(), 1.0)
    short = UMAT(str(src), g.props, nstatv=g.nstatv - 1)
    with pytest.raises(UMATError, match="NSTATV"):
        short.update(strains[0], short.initial_state(), 1.0)


@pytest.mark.skipif(__import__("shutil").which("gfortran") is None, reason="gfortran is not installed")
def test_mohr_coulomb_umat_associated_linear_and_refusals(tmp_path, monkeypatch) -> None:
    """Associated flow with linear hardening (symmetric tangent: no UNSYMM) matches the model on the same path;
    a hardening law without Fortran is refused by name; ψ = 0 beyond the apex stops the UMAT as the model raises."""
    from constitutive.export import generate_umat
    from constitutive.export.umat_generator import UMATGenerationError
    from constitutive.models.base import ConvergenceError
    from constitutive.umat import UMAT, UMATError

    monkeypatch.setenv("CONSTITUTIVE_UMAT_CACHE", str(tmp_path / "cache"))
    model = MohrCoulomb(E, NU, PHI, C0, 300.0)
    g = generate_umat(model)
    assert "UNSYMM" not in g.source and not model.unsymmetric_tangent
    src = tmp_path / "mc_assoc.f"
    src.write_text(g.source)
    umat = UMAT(str(src), g.props, nstatv=g.nstatv, flags=("-O2", "-fPIC", "-Wall", "-Werror"))
    us, ms = umat.initial_state(), model.initial_state()
    for eps in _mc_umat_path()[1]:
        su, us, Cu = umat.update(eps, us, 1.0)
        sm, ms, Cm = model.update(eps, ms)
        torch.testing.assert_close(su, sm, rtol=0.0, atol=1e-12 * float(sm.abs().max()))
        torch.testing.assert_close(Cu, Cm, rtol=0.0, atol=1e-12 * float(Cm.abs().max()))
        assert abs(float(us["statev"][6]) - float(ms["alpha"])) <= 1e-15
    with pytest.raises(UMATGenerationError, match="MohrCoulomb with a Python callable"):
        generate_umat(MohrCoulomb(E, NU, PHI, C0, hardening=lambda a: 5.0 * a))
    flat = MohrCoulomb(E, NU, PHI, C0, psi=0.0)
    gf = generate_umat(flat)
    (tmp_path / "mc_flat.f").write_text(gf.source)
    flat_umat = UMAT(str(tmp_path / "mc_flat.f"), gf.props, nstatv=gf.nstatv)
    apex = torch.eye(3, dtype=D64) * 4e-3
    with pytest.raises(ConvergenceError):
        flat.update(apex, flat.initial_state())
    with pytest.raises(UMATError, match="apex"):
        flat_umat.update(apex, flat_umat.initial_state(), 1.0)


@pytest.mark.skipif(__import__("shutil").which("gfortran") is None, reason="gfortran is not installed")
def test_mohr_coulomb_umat_random_strains_nonlinear_laws(tmp_path, monkeypatch) -> None:
    """Random strains from the virgin state (every return type) with a fast-saturating Voce law and a Swift law:
    the UMAT's stress and DDSDDE equal the model's to round-off at every point."""
    from constitutive.export import generate_umat
    from constitutive.models import Swift
    from constitutive.umat import UMAT

    monkeypatch.setenv("CONSTITUTIVE_UMAT_CACHE", str(tmp_path / "cache"))
    gen = torch.Generator().manual_seed(3)
    A = torch.randn(40, 3, 3, generator=gen, dtype=D64)
    strains = 2e-3 * (A + A.transpose(-1, -2))
    models = (MohrCoulomb(E, NU, PHI, C0, psi=10.0, hardening=Voce(40.0, 3000.0)),
              MohrCoulomb(E, NU, 35.0, C0, 100.0, psi=20.0, hardening=Swift(50.0, 0.001, 0.3)))  # fmt: skip
    for k, model in enumerate(models):
        g = generate_umat(model)
        (tmp_path / f"mc{k}.f").write_text(g.source)
        umat = UMAT(str(tmp_path / f"mc{k}.f"), g.props, nstatv=g.nstatv, flags=("-O2", "-fPIC", "-Wall", "-Werror"))
        assert set(model.return_mode(strains).tolist()) == {0, 1, 2, 3, 4}
        sm, ms, Cm = model.update(strains, model.initial_state((40,)))
        for i, eps in enumerate(strains):
            su, us, Cu = umat.update(eps, umat.initial_state(), 1.0)
            torch.testing.assert_close(su, sm[i], rtol=0.0, atol=1e-12 * float(sm[i].abs().max()))
            torch.testing.assert_close(Cu, Cm[i], rtol=0.0, atol=1e-12 * float(Cm[i].abs().max()))
            assert abs(float(us["statev"][6]) - float(ms["alpha"][i])) <= 1e-15
