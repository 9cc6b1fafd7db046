"""Hill48 orthotropic plasticity: reduction to J2, the sheet closed forms (uniaxial yield stresses and r-values at
0/45/90 degrees, driven by the material-point driver), frame consistency, the Lankford and Abaqus-ratio
constructors, bad parameters, the AD cross-check of the closed-form tangent, parameter gradients, and the Abaqus
``*POTENTIAL`` card. The per-step finite-difference tangent checks, batching, float32, serialisation and failed
updates are the path-dependent harness's (``tests/cases/path_dependent.py``: the ``Hill48-*`` cases)."""

from __future__ import annotations

import math
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import torch

_TESTS = Path(__file__).resolve().parent
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

from cases.path_dependent import cyclic_history  # noqa: E402

from constitutive.driver import drive  # noqa: E402
from constitutive.export import abaqus_card, abaqus_hill_card, parse_abaqus_card  # noqa: E402
from constitutive.models import Hill48, J2Plasticity, Linear, Voce, describe_models  # noqa: E402
from constitutive.models.hill import (  # noqa: E402
    euler_to_matrix,
    hill_matrix,
    hill_to_yield_ratios,
    in_plane_phi,
    lankford_to_hill,
    mandel_rotation,
    yield_ratios_to_hill,
)
from constitutive.paths import uniaxial_stress  # noqa: E402

E, NU, SY = 200e3, 0.3, 250.0
R0, R45, R90 = 1.9, 1.4, 2.3  # a deep-drawing steel's order of magnitude
D = torch.float64


def _run(model, strains, state=None):
    state = model.initial_state(strains.shape[1:-2]) if state is None else state
    out = []
    for eps in strains:
        s, state, C = model.update(eps, state)
        out.append((s, state, C))
    return out


def test_reduces_to_j2_along_a_cyclic_path() -> None:
    # von Mises constants (the defaults), any orientation: the same stress, state and tangent as J2Plasticity
    hist = cyclic_history(0.006)
    for law in (Voce(300.0, 20.0),):  # (Swift: the harness case Hill48-ratios-swift)
        # both local Newton iterations driven to 1e-13 (default 1e-11: then the two agree to that tolerance)
        hill = Hill48(E, NU, SY, H_iso=100.0, hardening=law, euler=(20.0, 50.0, 70.0), tol=1e-13)
        j2 = J2Plasticity(E, NU, SY, 100.0, hardening=law, tol=1e-13)
        for (s, st, C), (s_j, st_j, C_j) in zip(_run(hill, hist), _run(j2, hist)):
            torch.testing.assert_close(s, s_j, rtol=1e-13, atol=1e-9)
            torch.testing.assert_close(C, C_j, rtol=1e-12, atol=1e-6)
            torch.testing.assert_close(st["alpha"], st_j["alpha"], rtol=1e-12, atol=1e-16)
            torch.testing.assert_close(st["eps_p"], st_j["eps_p"], rtol=1e-12, atol=1e-16)
    alpha = _run(hill, hist)[-1][1]["alpha"]
    assert bool((alpha > 1e-3).all())  # the path is well into the plastic range


def _sheet_drive(model_factory, thetas: list[float], strain: float = 0.01):
    """Uniaxial stress along global x on sheets whose rolling direction is at -θ from x (so the load is at θ from
    the rolling direction), one point per θ (a per-point orientation), by the driver's mixed control."""
    euler = torch.tensor([[-t, 0.0, 0.0] for t in thetas], dtype=D)
    model = model_factory(euler)
    res = drive(model, uniaxial_stress([strain], increments=4), batch_shape=(len(thetas),))
    return model, res


def test_uniaxial_yield_stresses_and_r_values_at_0_45_90() -> None:
    thetas = [0.0, 45.0, 90.0]
    # perfect plasticity: the uniaxial stress saturates at the yield stress of its direction
    model, res = _sheet_drive(lambda e: Hill48.from_lankford(R0, R45, R90, E=E, nu=NU, sigma_y=SY, euler=e), thetas)
    p = {k: float(model.parameters[k]) for k in ("F", "G", "H", "N")}
    closed = [SY / math.sqrt(in_plane_phi(p["F"], p["G"], p["H"], p["N"], t)) for t in thetas]
    # by hand: G + H = 1 (rolling reference), (F + G + 2N)/4 at 45, F + H at 90
    by_hand = [SY, SY / math.sqrt((p["F"] + p["G"] + 2 * p["N"]) / 4), SY / math.sqrt(p["F"] + p["H"])]
    torch.testing.assert_close(torch.tensor(closed, dtype=D), torch.tensor(by_hand, dtype=D), rtol=1e-14, atol=0)
    torch.testing.assert_close(res.stress[-1][:, 0, 0], torch.tensor(closed, dtype=D), rtol=1e-11, atol=0)
    torch.testing.assert_close(model.uniaxial_yield_stress(torch.tensor(thetas)), torch.tensor(closed, dtype=D))
    assert abs(closed[1] - closed[0]) > 10.0  # the anisotropy is visible
    # with hardening: the stress direction is fixed, so is the flow direction: r = eps_p(width)/eps_p(thickness)
    model, res = _sheet_drive(
        lambda e: Hill48.from_lankford(R0, R45, R90, E=E, nu=NU, sigma_y=SY, hardening=Voce(200.0, 15.0), euler=e),
        thetas,
    )
    ep = res.state["eps_p"][-1]
    assert bool((res.state["alpha"][-1] > 0.005).all())
    r = ep[:, 1, 1] / ep[:, 2, 2]
    torch.testing.assert_close(r, torch.tensor([R0, R45, R90], dtype=D), rtol=1e-9, atol=0)
    torch.testing.assert_close(model.r_value(torch.tensor(thetas)), torch.tensor([R0, R45, R90], dtype=D))
    # the other stresses vanish (mixed control) and the plastic strain is traceless
    torch.testing.assert_close(res.stress[-1][:, 1:, 1:], torch.zeros(3, 2, 2, dtype=D), rtol=0, atol=1e-8)
    torch.testing.assert_close(ep.diagonal(dim1=-2, dim2=-1).sum(-1), torch.zeros(3, dtype=D), rtol=0, atol=1e-15)


@pytest.mark.parametrize("direction", [0, 45, 90, "td"])
def test_from_lankford_reference_direction(direction) -> None:
    model = Hill48.from_lankford(R0, R45, R90, E=E, nu=NU, sigma_y=SY, sigma0_direction=direction)
    theta = {0: 0.0, 45: 45.0, 90: 90.0, "td": 90.0}[direction]
    torch.testing.assert_close(model.uniaxial_yield_stress(theta), torch.tensor(SY, dtype=D), rtol=1e-14, atol=0)
    torch.testing.assert_close(model.r_value(torch.tensor([0.0, 45.0, 90.0])), torch.tensor([R0, R45, R90], dtype=D))
    # r0 = H/G, r90 = H/F, r45 = N/(F+G) - 1/2 whatever the normalisation
    F, G, H, N = (float(model.parameters[k]) for k in ("F", "G", "H", "N"))
    assert math.isclose(H / G, R0, rel_tol=1e-14) and math.isclose(H / F, R90, rel_tol=1e-14)
    assert math.isclose(N / (F + G) - 0.5, R45, rel_tol=1e-14)


def test_isotropic_lankford_is_von_mises() -> None:
    c = lankford_to_hill(1.0, 1.0, 1.0)
    for k, v in (("F", 0.5), ("G", 0.5), ("H", 0.5), ("N", 1.5)):
        assert math.isclose(float(c[k]), v, rel_tol=1e-15)
    ratios = Hill48(E, NU, SY).yield_ratios()
    for v in ratios.values():
        assert math.isclose(float(v), 1.0, rel_tol=1e-15)
    # the Mandel matrix of the von Mises constants is (3/2) P_dev
    M = hill_matrix(*(torch.tensor(v, dtype=D) for v in (0.5, 0.5, 0.5, 1.5, 1.5, 1.5)))
    m = torch.tensor([1.0, 1, 1, 0, 0, 0], dtype=D)
    torch.testing.assert_close(M, 1.5 * (torch.eye(6, dtype=D) - m[:, None] * m / 3.0))


def test_yield_ratio_round_trip_and_definitions() -> None:
    model = Hill48.from_lankford(R0, R45, R90, E=E, nu=NU, sigma_y=SY, L=1.3, M=1.7)
    ratios = model.yield_ratios()
    again = Hill48.from_yield_ratios(**ratios, E=E, nu=NU, sigma_y=SY)
    for k in ("F", "G", "H", "L", "M", "N"):
        torch.testing.assert_close(again.parameters[k], model.parameters[k], rtol=1e-14, atol=1e-15)
    # R_ii is the uniaxial yield stress along axis i over sigma^0: sigma_bar of sigma_ii = R_ii sigma^0 is sigma^0
    for i, key in enumerate(("R11", "R22", "R33")):
        s = torch.zeros(3, 3, dtype=D)
        s[i, i] = float(ratios[key]) * SY
        torch.testing.assert_close(model.equivalent_stress(s), torch.tensor(SY, dtype=D), rtol=1e-14, atol=0)
    # R_ij = tau_bar_ij / tau^0, tau^0 = sigma^0 / sqrt(3)
    for (i, j), key in (((0, 1), "R12"), ((0, 2), "R13"), ((1, 2), "R23")):
        s = torch.zeros(3, 3, dtype=D)
        s[i, j] = s[j, i] = float(ratios[key]) * SY / math.sqrt(3.0)
        torch.testing.assert_close(model.equivalent_stress(s), torch.tensor(SY, dtype=D), rtol=1e-14, atol=0)
    # Abaqus's definitions written out
    h = yield_ratios_to_hill(1.1, 0.9, 1.2, 1.05, 0.95, 1.0)
    assert math.isclose(h["F"], 0.5 * (1 / 0.9**2 + 1 / 1.2**2 - 1 / 1.1**2))
    assert math.isclose(h["N"], 1.5 / 1.05**2) and math.isclose(h["L"], 1.5 / 1.0**2)
    back = hill_to_yield_ratios(*(h[k] for k in ("F", "G", "H", "L", "M", "N")))
    assert [round(back[k], 12) for k in ("R11", "R22", "R33", "R12", "R13", "R23")] == [1.1, 0.9, 1.2, 1.05, 0.95, 1.0]


def _rotation(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(3, 3, generator=g, dtype=D))
    return Q * torch.sign(torch.linalg.det(Q))


def test_frame_consistency() -> None:
    """Rotating the material axes and the loading together rotates the stress, state and tangent; rotating only the
    load does not."""
    Q = _rotation(5)
    base = Hill48.from_lankford(R0, R45, R90, E=E, nu=NU, sigma_y=SY, hardening=Voce(200.0, 15.0), euler=(10, 0, 0))
    A = base.orientation
    turned = base.with_parameters(orientation=A @ Q.T)  # rows Q a_i: the material axes rotated by Q
    hist = cyclic_history(0.006)
    rot = Q @ hist @ Q.T
    out, out_rot = _run(base, hist), _run(turned, rot)
    only_load = _run(base, rot)
    for (s, st, C), (s_r, st_r, C_r) in zip(out, out_rot):
        torch.testing.assert_close(s_r, Q @ s @ Q.T, rtol=1e-11, atol=1e-9)
        torch.testing.assert_close(st_r["eps_p"], Q @ st["eps_p"] @ Q.T, rtol=1e-10, atol=1e-15)
        torch.testing.assert_close(st_r["alpha"], st["alpha"], rtol=1e-10, atol=1e-15)
        C_rot = torch.einsum("ip,jq,kr,ls,...pqrs->...ijkl", Q, Q, Q, Q, C)
        torch.testing.assert_close(C_r, C_rot, rtol=1e-9, atol=1e-4)
    s_last, s_r_last, s_o_last = out[-1][0], out_rot[-1][0], only_load[-1][0]
    assert float((s_o_last - Q @ s_last @ Q.T).abs().max()) > 5.0  # anisotropic: the load alone is not enough
    assert float((s_r_last - s_o_last).abs().max()) > 5.0


def test_euler_angles_and_mandel_rotation() -> None:
    A = euler_to_matrix(torch.tensor([30.0, 0.0, 0.0]))
    c, s = math.cos(math.pi / 6), math.sin(math.pi / 6)
    torch.testing.assert_close(A, torch.tensor([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]], dtype=D))
    B = euler_to_matrix(torch.tensor([[30.0, 40.0, 50.0], [-10.0, 100.0, 5.0]]))
    torch.testing.assert_close(B @ B.transpose(-1, -2), torch.eye(3, dtype=D).expand(2, 3, 3), rtol=0, atol=1e-15)
    # Q sigma = mandel(A sigma A^T), Q orthogonal
    from constitutive.models.plasticity import tensor_to_mandel

    g = torch.Generator().manual_seed(2)
    S = torch.randn(3, 3, generator=g, dtype=D)
    S = S + S.T
    Q = mandel_rotation(B[0])
    torch.testing.assert_close(Q @ tensor_to_mandel(S), tensor_to_mandel(B[0] @ S @ B[0].T))
    torch.testing.assert_close(Q @ Q.T, torch.eye(6, dtype=D), rtol=0, atol=1e-14)


def test_engine_tangent_equals_ad_and_closed_form_and_parameter_gradients() -> None:
    model = Hill48.from_yield_ratios(1.0, 0.9, 1.1, 0.95, 1.05, 1.0, E=E, nu=NU, sigma_y=SY, hardening=Voce(300, 20))
    hist = cyclic_history(0.006)
    state = model.initial_state((4,))
    for eps in hist[:6]:
        s, new, C = model.update(eps, state)
        s_ad, new_ad, C_ad = model.ad_update(eps, state)
        # ad_update's stress is one Newton step further (differentiable_solution): equal to the solver's tolerance
        torch.testing.assert_close(s_ad, s, rtol=1e-10, atol=1e-8)
        torch.testing.assert_close(C_ad, C, rtol=1e-9, atol=1e-5)
        # the engine's implicit-function AD tangent equals the closed form of update
        torch.testing.assert_close(model.engine_tangent(eps, state), C, rtol=1e-9, atol=1e-5)
        state = new
    # the stress is differentiable in the Hill constants through the converged return map (calibration)
    eps = hist[6]
    F = torch.tensor(float(model.parameters["F"]), dtype=D, requires_grad=True)
    s = model.with_parameters(F=F).update(eps, state)[0]
    (g,) = torch.autograd.grad(s[:, 0, 0].sum(), F)
    h = 1e-6
    fd = (
        model.with_parameters(F=float(F.detach()) + h).update(eps, state)[0][:, 0, 0].sum()
        - model.with_parameters(F=float(F.detach()) - h).update(eps, state)[0][:, 0, 0].sum()
    ) / (2 * h)
    assert abs(float(g) - float(fd)) <= 1e-5 * abs(float(fd)) and abs(float(fd)) > 1.0


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Hill48.from_lankford(0.0, 1.0, 1.0, E=E, nu=NU, sigma_y=SY), "r0 must be finite and > 0"),
        (lambda: Hill48.from_lankford(1.0, -1.0, 1.0, E=E, nu=NU, sigma_y=SY), "r45"),
        (lambda: Hill48.from_lankford(1, 1, 1, E=E, nu=NU, sigma_y=SY, sigma0_direction=30), "sigma0_direction"),
        (lambda: Hill48.from_yield_ratios(1, 1, 1, 0.0, 1, 1, E=E, nu=NU, sigma_y=SY), "R12 must be finite and > 0"),
        (lambda: Hill48(E, NU, SY, F=-0.6, G=0.5), "F \\+ G must be > 0"),
        (lambda: Hill48(E, NU, SY, F=-0.4, G=2.0, H=-0.4), "H \\+ F must be > 0"),
        (lambda: Hill48(E, NU, SY, F=1.0, G=1.0, H=-0.6), "F G \\+ G H \\+ H F must be > 0"),
        (lambda: Hill48(E, NU, SY, L=0.0), "'L' must be positive"),
        (lambda: Hill48(E, NU, SY, N=-1.0), "'N' must be positive"),
        (lambda: Hill48(E, NU, -1.0), "'sigma_y' must be positive"),
        (lambda: Hill48(E, NU, SY, orientation=torch.ones(3, 3)), "orthonormal"),
        (lambda: Hill48(E, NU, SY, orientation=torch.eye(3), euler=(0, 0, 0)), "once"),
        (lambda: Hill48(E, NU, SY, orientation=torch.ones(3)), "shape"),
        (lambda: Hill48(E, NU, SY, H_iso=10.0, hardening=Linear(20.0)), "once"),
        (lambda: Hill48(E, NU, hardening="voce", Q=1.0, b=1.0), "sigma_y"),
    ],
)
def test_bad_parameters(make, match) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_linear_law_and_per_point_orientation_broadcast() -> None:
    a = Hill48(E, NU, SY, hardening=Linear(500.0))
    assert float(a.H_iso) == 500.0
    per_point = Hill48(E, NU, SY, F=0.3, euler=torch.tensor([[0.0, 0, 0], [90.0, 0, 0]]))
    with pytest.raises(ValueError, match="orientation"):
        per_point.update(torch.zeros(3, 3, 3, dtype=D), per_point.initial_state((3,)))
    # each point equals a model with that point's orientation
    eps = cyclic_history(0.006)[2, :2]
    s = per_point.update(eps, per_point.initial_state())[0]
    for i, ang in enumerate((0.0, 90.0)):
        single = Hill48(E, NU, SY, F=0.3, euler=(ang, 0.0, 0.0))
        torch.testing.assert_close(s[i], single.update(eps[i], single.initial_state())[0], rtol=1e-14, atol=1e-10)


def test_card_potential_and_round_trip() -> None:
    model = Hill48.from_lankford(R0, R45, R90, E=E, nu=NU, sigma_y=SY, hardening=Voce(300.0, 20.0), euler=(30, 0, 0))
    text = abaqus_card(model, name="DC04_HILL")
    blocks = parse_abaqus_card(text)
    kws = [b["keyword"] for b in blocks]
    assert kws == ["MATERIAL", "ELASTIC", "PLASTIC", "POTENTIAL"]
    ratios = blocks[-1]["data"]
    again = Hill48.from_yield_ratios(*ratios, E=E, nu=NU, sigma_y=SY)
    for k in ("F", "G", "H", "L", "M", "N"):
        torch.testing.assert_close(again.parameters[k], model.parameters[k], rtol=1e-14, atol=1e-15)
    plastic = blocks[2]["data"]
    assert plastic[0] == SY and plastic[1] == 0.0  # the flow-stress table starts at sigma_y, alpha = 0
    assert "*ORIENTATION, NAME=HILL_AXES" in text and "0.8660254037844387, 0.49999999999999994" in text
    with pytest.raises(ValueError, match="CalculiX has no \\*POTENTIAL"):
        abaqus_hill_card(model, code="calculix")
    per_point = Hill48(E, NU, SY, euler=torch.tensor([[0.0, 0, 0], [90.0, 0, 0]]))
    assert "vary per point" in abaqus_card(per_point)


def test_listed_in_describe_models() -> None:
    entry = next(e for e in describe_models() if e["kind"] == "model" and e["name"] == "Hill48")
    names = [p["name"] for p in entry["parameters"]]
    assert names[:3] == ["E", "nu", "sigma_y"] and {"F", "G", "H", "L", "M", "N", "H_iso", "orientation"} <= set(names)


def test_yield_surface_example(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_example_hill48", _TESTS.parent / "examples" / "hill48_yield_surface.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(tmp_path)
    assert Path(out["figure"]).stat().st_size > 20_000
    # the driven uniaxial yield stresses at 0/45/90 degrees equal the closed form; r-values are the inputs
    assert out["yield_stress_max_rel_error"] < 1e-12
    assert out["yield_stress_driven"][0] == pytest.approx(mod.SIGMA_Y, rel=1e-12)
    assert out["r_values"] == pytest.approx([mod.R0, mod.R45, mod.R90], rel=1e-13)
    F, G = out["constants"]["F"], out["constants"]["G"]
    assert out["equibiaxial_yield_stress"] == pytest.approx(mod.SIGMA_Y / math.sqrt(F + G), rel=1e-15)
    with pytest.raises(FileExistsError):  # a second run keeps the first run's figure
        mod.main(tmp_path)


def test_sheet_calibration_example(tmp_path: Path) -> None:
    import importlib.util

    path = _TESTS.parent / "examples" / "calibration" / "hill48_sheet.py"
    spec = importlib.util.spec_from_file_location("_example_hill48_sheet", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(tmp_path)
    # each identification matches what it was built on, and the least-squares fit sits between them
    assert out["r-based"]["max_rel_error_r"] < 1e-13 and out["r-based"]["max_rel_error_sigma"] > 0.05
    assert out["stress-based"]["max_rel_error_sigma"] < 1e-13 and out["stress-based"]["r"][0] == pytest.approx(1.94)
    ls = out["least squares"]
    assert max(ls["max_rel_error_r"], ls["max_rel_error_sigma"]) < min(
        out["r-based"]["max_rel_error_sigma"], out["stress-based"]["max_rel_error_r"]
    )
    # the driven model reproduces the closed-form predictions of the fit
    assert out["driven_vs_closed_form"] < 1e-9
    again = Hill48.load(out["parameter_file"])
    assert float(again.F) == pytest.approx(out["fits"]["least squares"]["F"], rel=1e-15)


@pytest.mark.skipif(shutil.which("gfortran") is None, reason="gfortran is not installed (apt-get install -y gfortran)")
def test_generated_umat_matches_the_model_along_a_cyclic_path() -> None:
    """The generated Hill48 UMAT (rotated axes, Voce + linear hardening) through the bridge: stress, DDSDDE and
    STATEV equal the model's along a non-proportional cyclic path with all six components; plane strain by the
    bridge's compare_umat; the bridge's finite-difference tangent check passes."""
    from constitutive.export import generate_umat
    from constitutive.umat import UMAT
    from constitutive.umat.check import check_umat, compare_umat

    model = Hill48.from_lankford(
        R0, R45, R90, E=E, nu=NU, sigma_y=SY, hardening=Voce(100.0, 20.0), H_iso=500.0, euler=(30, 20, 10), tol=1e-13
    )
    g = generate_umat(model)
    assert g.nstatv == 7 and g.nprops == len(model.parameters) + 8  # orientation: 9 PROPS
    path = Path(tempfile.mkdtemp(prefix="hill-umat-")) / "hill48.f"
    path.write_text(g.source)
    umat = UMAT(str(path), g.props, nstatv=g.nstatv, flags=("-O2", "-fPIC", "-Wall", "-Werror"))
    n = 16
    t = torch.arange(1, n + 1, dtype=D) * (3.0 * math.pi / n)
    comps = [torch.sin(t), -0.5 * torch.sin(t) + 0.3 * torch.sin(2 * t), 0.2 * torch.cos(t) - 0.2,
             0.4 * torch.sin(t + 1.0), 0.3 * torch.sin(2 * t), 0.25 * torch.cos(3 * t) - 0.25]  # fmt: skip
    eps = torch.zeros(n, 3, 3, dtype=D)
    for c, (i, j) in zip(comps, [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]):
        eps[:, i, j] = eps[:, j, i] = 6e-3 * c
    us, ms = umat.initial_state(), model.initial_state()
    for e in eps:
        su, us, Cu = umat.update(e, us)
        sm, ms, Cm = model.update(e, ms)
        assert float((su - sm).abs().max()) <= 1e-11 * float(sm.abs().max())
        assert float((Cu - Cm).abs().max()) <= 1e-11 * float(Cm.abs().max())
        sv = us["statev"]
        ep = torch.tensor([[sv[0], sv[3] / 2, sv[4] / 2], [sv[3] / 2, sv[1], sv[5] / 2], [sv[4] / 2, sv[5] / 2, sv[2]]])
        torch.testing.assert_close(ep.to(D), ms["eps_p"], rtol=0, atol=1e-14)
        assert abs(float(sv[6]) - float(ms["alpha"])) <= 1e-14
    assert float(ms["alpha"]) > 0.02
    assert check_umat(umat, increments=3).passed
    flat = UMAT(
        str(path), g.props, nstatv=g.nstatv, hypothesis="plane_strain", flags=("-O2", "-fPIC", "-Wall", "-Werror")
    )
    rep = compare_umat(flat, model, state_map={"alpha": 6}, increments=3)
    assert rep.max_tangent_difference <= 1e-10
    with pytest.raises(Exception, match="per-point orientation"):
        generate_umat(Hill48(E, NU, SY, euler=torch.tensor([[0.0, 0, 0], [30.0, 0, 0]])))
