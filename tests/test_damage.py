"""Lemaitre ductile damage coupled to J2 (:class:`constitutive.models.LemaitreDamage`): parameters, reduction to
J2 without damage, the uniaxial closed form (damage, accumulated plastic strain, stress, failure), the driver's
failure report, Taylor-order tangents along the harness histories, rotation invariance, failed updates, the
example's numbers. The finite-difference tangent checks at every step of cyclic and non-proportional histories
run in the path-dependent harness (``tests/cases/path_dependent.py``, ids ``Lemaitre-*``)."""

from __future__ import annotations

import importlib.util
import math
import shutil
import sys
from pathlib import Path

import pytest
import torch
from scipy.integrate import quad

_TESTS = Path(__file__).resolve().parent
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

from cases.path_dependent import PATH_CASES, cyclic_history  # noqa: E402

from constitutive import paths  # noqa: E402
from constitutive.check import check_tangent  # noqa: E402
from constitutive.driver import drive  # noqa: E402
from constitutive.models import (  # noqa: E402
    ConvergenceError,
    J2Plasticity,
    LemaitreDamage,
    Material,
    Swift,
    Voce,
    describe_models,
)
from constitutive.models.damage import uniaxial_critical_kappa, uniaxial_damage  # noqa: E402

E, NU, SY, H = 200e3, 0.3, 250.0, 1000.0
#: Uniaxial test material: fast damage so that D_c is reached at moderate strain.
UNI = {"E": E, "nu": NU, "sigma_y": SY, "H": H, "S": 0.1, "s": 1.0, "p_D": 0.02, "D_c": 0.3}
EPS_Y = SY / E


# --------------------------------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    ("change", "name"),
    [({"S": 0.0}, "S"), ({"S": -1.0}, "S"), ({"s": 0.0}, "'s'"), ({"D_c": 0.0}, "D_c"), ({"D_c": 1.2}, "D_c"),
     ({"p_D": -0.1}, "p_D"), ({"sigma_y": 0.0}, "sigma_y"), ({"nu": 0.5}, "nu")],
)  # fmt: skip
def test_bad_parameters_are_refused_by_name(change: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        LemaitreDamage(**{**UNI, **change})


def test_declarations_catalogue_and_round_trip() -> None:
    entry = next(d for d in describe_models() if d["name"] == "LemaitreDamage")
    ranges = {p["name"]: p["range"] for p in entry["parameters"]}
    assert ranges["S"] == "> 0" and ranges["s"] == "> 0" and ranges["D_c"] == "in (0, 1]" and ranges["p_D"] == ">= 0"
    m = LemaitreDamage(E, NU, SY, hardening=Voce(200.0, 10.0), S=2.0, s=1.5, D_c=0.5, p_D=0.01)
    again = Material.from_dict(m.to_dict())
    assert again.to_dict() == m.to_dict() and float(again.Q) == 200.0
    assert LemaitreDamage(E, NU, None, hardening=Swift(600.0, 0.004, 0.18), S=1.0).sigma_y > 0
    with pytest.raises(ValueError, match="sigma_y"):
        LemaitreDamage(E, NU, None, S=1.0)


def test_state_checks_damage_range() -> None:
    m = LemaitreDamage(**UNI)
    eps = torch.zeros(3, 3, dtype=torch.float64)
    for bad, what in ((1.0, "below 1"), (-0.1, "non-negative")):
        state = {**m.initial_state(), "D": torch.tensor(bad, dtype=torch.float64)}
        with pytest.raises(ValueError, match=rf"state\['D'\].*{what}"):
            m.update(eps, state)


# ------------------------------------------------------------------------------------------- reduction to J2
@pytest.mark.parametrize("law", ["linear", "voce", "swift", "user"])
def test_reduces_to_j2_without_damage(law: str) -> None:
    """A threshold p_D beyond the path (or S → large) switches damage off: J2's stress, plastic strain and
    equivalent plastic strain to round-off, κ = p and D = 0 (linear, Voce, Swift and a user callable law)."""
    kw = {"linear": {"H": H}, "voce": {"hardening": Voce(300.0, 20.0)}, "swift": {"hardening": Swift(600.0, 0.004,
          0.18)}, "user": {"hardening": lambda a: 100.0 * torch.sqrt(a + 1e-3) - 100.0 * 1e-3**0.5}}[law]  # fmt: skip
    sy = None if law == "swift" else SY
    j2 = J2Plasticity(E, NU, sy, **kw)
    off = [LemaitreDamage(E, NU, sy, **kw, S=1.0, p_D=1e6), LemaitreDamage(E, NU, sy, **kw, S=1e200)]
    history = cyclic_history(0.006)
    state_j = j2.initial_state(history.shape[1:-2])
    states = [m.initial_state(history.shape[1:-2]) for m in off]
    for eps in history:
        s_j, state_j, C_j = j2.update(eps, state_j)
        for k, m in enumerate(off):
            s, states[k], C = m.update(eps, states[k])
            torch.testing.assert_close(s, s_j, rtol=1e-12, atol=1e-9)
            torch.testing.assert_close(C, C_j, rtol=1e-10, atol=1e-4)
            torch.testing.assert_close(states[k]["eps_p"], state_j["eps_p"], rtol=1e-10, atol=1e-14)
            torch.testing.assert_close(states[k]["alpha"], state_j["alpha"], rtol=1e-10, atol=1e-14)
            torch.testing.assert_close(states[k]["kappa"], state_j["alpha"], rtol=1e-10, atol=1e-14)
            assert float(states[k]["D"].abs().max()) < 1e-150
    assert float(state_j["alpha"].min()) > 0


# ------------------------------------------------------------------------------------- uniaxial closed form
def _uniaxial(n: int) -> tuple[torch.Tensor, ...]:
    """Uniaxial stress to ε11 = 0.145, beyond failure (first step to the yield strain, then ``n`` increments):
    ε11, σ11, κ, p, D of the plastic steps, and the driver's result."""
    m = LemaitreDamage(**UNI)
    res = drive(m, paths.uniaxial_stress([EPS_Y, 0.145], increments=[1, n]))
    k = slice(2, None)
    st = res.state
    return res.column("strain_11")[k], res.column("stress_11")[k], st["kappa"][k], st["alpha"][k], st["D"][k], res


@pytest.fixture(scope="module")
def uniaxial_runs() -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
    return _uniaxial(30), _uniaxial(60)


def _p_closed_form(m: LemaitreDamage, kappa: torch.Tensor) -> torch.Tensor:
    pD = float(m.p_D)

    def inv_omega(k: float) -> float:
        return 1.0 / (1.0 - float(uniaxial_damage(m, k)))

    return torch.tensor([k if k <= pD else pD + quad(inv_omega, pD, k, epsrel=1e-12)[0] for k in kappa.tolist()])


def test_uniaxial_steps_are_the_backward_euler_recursion(uniaxial_runs) -> None:
    """Along the driven path the states satisfy the discrete equations exactly (to round-off):
    p_{n+1} − p_n = Δκ/(1 − D_{n+1}), D_{n+1} − D_n = Δp_D (σ_f(κ_{n+1})²/(2ES))^s, σ = (1 − D)σ_f(κ)."""
    m = LemaitreDamage(**UNI)
    eps, sig, kappa, p, D, _ = uniaxial_runs[0]
    sf = SY + H * kappa
    torch.testing.assert_close(sig, (1.0 - D) * sf, rtol=1e-9, atol=0.0)
    torch.testing.assert_close(p[1:] - p[:-1], (kappa[1:] - kappa[:-1]) / (1.0 - D[1:]), rtol=1e-9, atol=1e-15)
    pD = float(m.p_D)
    dpD = torch.relu(p[1:] - pD) - torch.relu(p[:-1] - pD)
    torch.testing.assert_close(D[1:] - D[:-1], dpD * sf[1:] ** 2 / (2.0 * E * float(m.S)), rtol=1e-9, atol=1e-14)
    torch.testing.assert_close(eps, sf / E + p, rtol=1e-9, atol=0.0)  # ε11 = σ̃/E + ε^p11, ε^p11 = p


def test_uniaxial_damage_against_closed_form(uniaxial_runs) -> None:
    """D(κ) = 1 − √(1 − 2[Γ(κ) − Γ(p_D)]) and p(κ) = p_D + ∫dκ/(1 − D): backward Euler converges at first
    order (the error halves with the step) and the Richardson combination of the two runs (at their common
    strains) agrees with the closed form to ~1e-4 of the quantities."""
    m = LemaitreDamage(**UNI)
    (e1, s1, k1, p1, D1, _), (e2, s2, k2, p2, D2, _) = uniaxial_runs
    torch.testing.assert_close(e2[1::2], e1, rtol=1e-12, atol=0.0)
    errD1, errD2 = D1 - uniaxial_damage(m, k1), (D2 - uniaxial_damage(m, k2))[1::2]
    errp1, errp2 = p1 - _p_closed_form(m, k1), (p2 - _p_closed_form(m, k2))[1::2]
    assert 1e-4 < float(errD1.abs().max()) < 1e-2
    ratio = float(errD1.abs().max() / errD2.abs().max())
    assert 1.8 < ratio < 2.2, ratio
    assert float((2.0 * errD2 - errD1).abs().max()) < 1e-4 * float(D1.max())
    assert float((2.0 * errp2 - errp1).abs().max()) < 1e-4 * float(p1.max())
    assert float(D1[-1]) > 0.25  # damage well developed


def test_failure_reported_at_the_closed_form_strain(uniaxial_runs) -> None:
    m = LemaitreDamage(**UNI)
    eps, _, kappa, p, D, res = uniaxial_runs[1]
    kc = uniaxial_critical_kappa(m)
    assert abs(float(uniaxial_damage(m, kc)) - float(m.D_c)) < 1e-12
    eps_c = (SY + H * kc) / E + float(_p_closed_form(m, torch.tensor([kc]))[0])
    f = res.failure
    assert f is not None and f.points == [()] and "critical damage" in f.message and f"step {f.step}" in f.message
    assert "MATERIAL FAILURE" in res.summary()
    # the first step with D >= D_c; its strain brackets the closed form's within the O(h) integration error
    step_eps = res.column("strain_11")
    assert bool(res.state["D"][f.step] >= m.D_c) and bool(res.state["D"][f.step - 1] < m.D_c)
    h = float(eps[1] - eps[0])
    assert float(step_eps[f.step - 1]) - 2 * h < eps_c < float(step_eps[f.step]) + 2 * h
    assert bool(m.failed(res.state).any()) and not bool(m.failed(m.initial_state()))


def test_failure_points_in_a_batch_and_none_without_criterion() -> None:
    m = LemaitreDamage(**UNI)
    amps = torch.tensor([[0.03, 0.2]], dtype=torch.float64)  # only the second point fails
    res = drive(m, paths.uniaxial_stress(amps, increments=25))
    assert res.failure is not None and res.failure.points == [(1,)]
    assert "1 point(s) [(1,)]" in res.failure.message
    j2 = drive(J2Plasticity(E, NU, SY, H), paths.uniaxial_stress(0.01, increments=3))
    assert j2.failure is None and J2Plasticity(E, NU, SY).failed(j2.state) is None


# ---------------------------------------------------------------------------------- tangents, frames, failures
_LEMAITRE_CASES = [c for c in PATH_CASES if c.id.startswith("Lemaitre")]


@pytest.mark.parametrize("case", _LEMAITRE_CASES, ids=[c.id for c in _LEMAITRE_CASES])
def test_taylor_order_two_at_every_step_with_damage_growing(case) -> None:
    """The consistent tangent of the coupled (Δp, D) system is the derivative of the discrete update: the Taylor
    remainder falls as h² at every step of the history (all steps as one batch, each from its start state; small
    steps: no yield switch inside the ball); damage grows, and the tangent is unsymmetric."""
    model = case.make(torch.float64)
    state = model.initial_state(case.strains.shape[1:-2])
    starts, tangents = [], []
    for eps in case.strains:
        starts.append(state)
        _, state, C = model.update(eps, state)
        tangents.append(C)
    batch = {key: torch.cat([st[key] for st in starts]) for key in state}
    eps_all = case.strains.reshape(-1, 3, 3)
    report = check_tangent(model, eps_all, state=batch, method="taylor", hs=[1e-6 * 2.0**-m for m in range(6)])
    assert report.passed and report.n_points == eps_all.shape[0], str(report)
    assert float(state["D"].max()) > 0.01 and bool((state["D"] > starts[len(starts) // 2]["D"]).any())
    C = torch.cat(tangents)
    asym = (C - C.permute(0, 3, 4, 1, 2)).abs().amax()
    assert float(asym) > 1e-3 * float(C.abs().amax())


def test_closed_form_jacobian_equals_automatic_differentiation() -> None:
    """The Newton iterations use the closed-form ∂r/∂x, the tangent AD of the residual: both agree at plastic
    points below, across and above the threshold p_D, for linear, Voce and a user law."""
    from constitutive.models.plasticity import tensor_to_mandel
    from constitutive.models.returnmap import pointwise_jacobian

    g = torch.Generator().manual_seed(11)
    n = 12
    eps = tensor_to_mandel(0.02 * cyclic_history(1.0)[2, torch.arange(n) % 4])
    state = {
        "eps_p": torch.zeros(n, 3, 3, dtype=torch.float64),
        "alpha": torch.linspace(0.0, 0.02, n, dtype=torch.float64),
        "kappa": torch.linspace(0.0, 0.015, n, dtype=torch.float64),
        "D": torch.linspace(0.0, 0.3, n, dtype=torch.float64),
    }
    x = torch.stack((0.01 * torch.rand(n, generator=g, dtype=torch.float64), state["D"] + 0.05), -1)
    for kw in ({"H": H}, {"hardening": Voce(300.0, 20.0)}, {"hardening": lambda a: 50.0 * torch.sqrt(a + 1e-3)}):
        model = LemaitreDamage(E, NU, SY, **kw, S=2.0, s=1.7, p_D=0.01)
        r, J = model._residual_jacobian(x, eps, state)
        r_ad, J_ad = pointwise_jacobian(lambda y, m=model: m._residual(y, eps, state), x)
        torch.testing.assert_close(r, r_ad, rtol=1e-14, atol=1e-15)
        torch.testing.assert_close(J, J_ad, rtol=1e-12, atol=1e-12)


def test_rotation_invariance() -> None:
    model = _LEMAITRE_CASES[0].make(torch.float64)
    history = _LEMAITRE_CASES[0].strains
    g = torch.Generator().manual_seed(5)
    Q, _ = torch.linalg.qr(torch.randn(3, 3, generator=g, dtype=torch.float64))
    state = model.initial_state(history.shape[1:-2])
    rstate = dict(state)
    for eps in history:
        s, state, C = model.update(eps, state)
        rs, rstate, rC = model.update(Q @ eps @ Q.T, rstate)
        torch.testing.assert_close(rs, Q @ s @ Q.T, rtol=1e-10, atol=1e-8)
        torch.testing.assert_close(rstate["eps_p"], Q @ state["eps_p"] @ Q.T, rtol=1e-10, atol=1e-14)
        for key in ("alpha", "kappa", "D"):
            torch.testing.assert_close(rstate[key], state[key], rtol=1e-10, atol=1e-14)
        rotC = torch.einsum("ia,jb,kc,ld,...abcd->...ijkl", Q, Q, Q, Q, C)
        torch.testing.assert_close(rC, rotC, rtol=1e-9, atol=1e-5)


def test_failed_return_leaves_state_untouched() -> None:
    model = _LEMAITRE_CASES[0].make(torch.float64)
    history = _LEMAITRE_CASES[0].strains
    state = model.initial_state(history.shape[1:-2])
    for eps in history[:1]:
        state = model.update(eps, state)[1]
    before = {k: v.clone() for k, v in state.items()}
    with pytest.raises(ConvergenceError) as info:
        model.with_parameters(max_iter=1).update(history[1], state)  # further loading: plastic
    assert info.value.diagnostics  # the engine's diagnostics: points, residuals, iterations
    for key in before:
        assert torch.equal(state[key], before[key]), key
    nan = history[1].clone()
    nan[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        model.update(nan, state)
    with pytest.raises(ConvergenceError, match="D >= 1|completely"):
        model.with_parameters(S=1e-4).update(history[1], state)  # the step would damage the point completely
    for key in before:
        assert torch.equal(state[key], before[key]), key


# -------------------------------------------------------------------------------------------------- example
def test_example_numbers(tmp_path: Path) -> None:
    path = Path(__file__).resolve().parents[1] / "examples" / "lemaitre_yield_surface.py"
    spec = importlib.util.spec_from_file_location("_example_lemaitre", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(tmp_path, strain=0.15, increments=30)
    for d, r in out["pi_plane_radius"].items():
        assert abs(r - math.sqrt(2.0 / 3.0) * (1.0 - d) * SY) < 1e-9 * SY
    assert out["failure_step"] is not None
    assert abs(out["failure_strain"] - out["failure_strain_closed_form"]) < 3 * out["strain_increment"]
    assert out["damage_max_abs_error"] < 0.02 and Path(out["figure"]).is_file()


# ---------------------------------------------------------------------------------------------- generated UMAT
@pytest.mark.skipif(shutil.which("gfortran") is None, reason="gfortran is not installed")
def test_generated_umat_matches_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated UMAT (Newton on (Δp, D), closed-form consistent tangent) against the Python model along a
    cyclic non-proportional path with every strain component (damage growing, threshold crossed): stress, DDSDDE
    and STATEV to round-off; the bridge's finite-difference check of DDSDDE; plane strain through compare_umat."""
    from constitutive.export import generate_umat
    from constitutive.umat import UMAT
    from constitutive.umat.check import check_umat, compare_umat

    monkeypatch.setenv("CONSTITUTIVE_UMAT_CACHE", str(tmp_path / "cache"))
    model = LemaitreDamage(210e3, 0.3, 250.0, 500.0, hardening=Voce(100.0, 20.0), S=2.0, s=1.5, p_D=0.004)
    g = generate_umat(model)
    assert g.nstatv == 9 and g.nprops == 10 and "UNSYMM" in g.source
    source = tmp_path / "lemaitre.f"
    source.write_text(g.source)
    flags = ("-O2", "-fPIC", "-Wall", "-Werror")
    umat = UMAT(str(source), g.props, nstatv=g.nstatv, flags=flags)
    t = torch.arange(1, 25, dtype=torch.float64) * (3.0 * math.pi / 24)
    comps = [torch.sin(t), -0.5 * torch.sin(t) + 0.3 * torch.sin(2 * t), 0.2 * torch.cos(t) - 0.2,
             0.4 * torch.sin(t + 1.0), 0.3 * torch.sin(2 * t), 0.25 * torch.cos(3 * t) - 0.25]  # fmt: skip
    path = torch.zeros(24, 3, 3, dtype=torch.float64)
    for k, (i, j) in enumerate([(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]):
        path[:, i, j] = path[:, j, i] = 6e-3 * comps[k]
    us, ms = umat.initial_state(), model.initial_state()
    for eps in path:
        su, us, Cu = umat.update(eps, us, 0.05)
        sm, ms, Cm = model.update(eps, ms, 0.05)
        torch.testing.assert_close(su, sm, rtol=0.0, atol=1e-12 * float(sm.abs().max()) + 1e-12)
        torch.testing.assert_close(Cu, Cm, rtol=0.0, atol=1e-12 * float(Cm.abs().max()))
        sv = us["statev"]
        for k, key in ((6, "alpha"), (7, "kappa"), (8, "D")):
            assert abs(float(sv[k]) - float(ms[key])) <= 1e-14, key
    assert float(ms["D"]) > 5e-3 and float(ms["alpha"]) > float(model.p_D)
    assert check_umat(umat, increments=3).passed
    plane = UMAT(str(source), g.props, nstatv=g.nstatv, hypothesis="plane_strain", flags=flags)
    rep = compare_umat(plane, model, state_map={"alpha": 6, "kappa": 7, "D": 8}, increments=4)
    assert rep.max_tangent_difference <= 1e-12 and max(r["stress"] for r in rep.rows) <= 1e-12
