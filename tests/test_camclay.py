"""Modified Cam-clay (:mod:`constitutive.models.camclay`) against the critical-state closed forms.

The harness (``tests/test_path_dependent_harness.py``, cases ``CamClay-*``) checks the consistent tangent by finite
differences at every step of a cyclic, non-proportional history, batching, float32, serialisation, bad states and
failed updates. Here: the porous-elastic closed form of an elastic step, isotropic compression along the normal
consolidation line (slope λ in e–ln p on loading, κ on unloading), drained triaxial compression (total stress path
dq/dp = 3 ending on q = M p at p_f = 3p0/(3 − M)), the undrained effective stress path and its failure pressure,
rotation invariance, the AD tangent as a second route, and the refusal of bad parameters.
"""

from __future__ import annotations

import math
import shutil

import pytest
import torch

from constitutive.driver import drive
from constitutive.models import ModifiedCamClay, describe_models
from constitutive.models.camclay import (
    deviatoric_stress_q,
    drained_triaxial_failure,
    mean_pressure,
    undrained_failure_pressure,
    undrained_triaxial_q,
)
from constitutive.paths import LoadPath, Segment

KAPPA, LAMBDA, M, E0, P0 = 0.05, 0.2, 1.2, 1.0, 100.0
D = torch.float64


def _model(pc0: float = 150.0, **kw) -> ModifiedCamClay:
    if "G" not in kw and "nu" not in kw:
        kw["nu"] = 0.3
    return ModifiedCamClay(kappa=KAPPA, lmbda=LAMBDA, M=M, e0=E0, p0=P0, pc0=pc0, **kw)


def _diag(a: float, b: float, c: float) -> torch.Tensor:
    return torch.diag(torch.tensor([a, b, c], dtype=D))


@pytest.mark.parametrize("shear", [{"G": 1500.0, "p_t": 10.0}, {"nu": 0.25}])
def test_elastic_step_matches_porous_elastic_closed_form(shear: dict) -> None:
    model = _model(200.0, **shear)
    p_t = shear.get("p_t", 0.0)
    eps = torch.tensor([[-2e-3, 1e-3, 0.0], [1e-3, 5e-4, -4e-4], [0.0, -4e-4, 2e-4]], dtype=D)
    sigma, state, C = model.update(eps, model.initial_state())
    ev = -float(torch.trace(eps))
    p = (P0 + p_t) * math.exp((1 + E0) * ev / KAPPA) - p_t
    K = (1 + E0) * (p + p_t) / KAPPA
    G = shear.get("G", 1.5 * (1 - 2 * shear.get("nu", 0.0)) / (1 + shear.get("nu", 0.0)) * K)
    e = eps - torch.trace(eps) / 3 * torch.eye(3, dtype=D)
    expected = -p * torch.eye(3, dtype=D) + 2 * G * e
    torch.testing.assert_close(sigma, expected, rtol=1e-13, atol=1e-12)
    assert float(state["alpha"]) == 0.0 and float(state["p_c"]) == 200.0
    assert float(state["void_ratio"]) == pytest.approx(E0 + (1 + E0) * float(torch.trace(eps)), rel=1e-14)
    if "G" in shear:  # constant G: C = K I⊗I + 2G I_dev
        I = torch.eye(3, dtype=D)
        Isym = 0.5 * (torch.einsum("ik,jl->ijkl", I, I) + torch.einsum("il,jk->ijkl", I, I))
        IxI = torch.einsum("ij,kl->ijkl", I, I)
        torch.testing.assert_close(C, K * IxI + 2 * G * (Isym - IxI / 3), rtol=1e-12, atol=1e-9)


def test_isotropic_compression_follows_ncl_and_url() -> None:
    """Normally consolidated: e = e0 − λ ln(p/p0) on loading (p_c = p), e = e_max − κ ln(p/p_max) on unloading."""
    model = _model(P0, G=2000.0)
    state = model.initial_state()
    ps, es = [], []
    for a in [0.004 * k for k in range(1, 9)] + [0.032 - 0.002 * k for k in range(1, 6)]:
        sigma, state, _ = model.update(_diag(-a / 3, -a / 3, -a / 3), state)
        ps.append(float(mean_pressure(sigma)))
        es.append(float(state["void_ratio"]))
        if len(ps) <= 8:
            assert float(state["p_c"]) == pytest.approx(ps[-1], rel=1e-12)  # on the NCL, p = p_c
    lnp = torch.log(torch.tensor([P0] + ps, dtype=D))
    e = torch.tensor([E0] + es, dtype=D)
    slopes = (e[1:] - e[:-1]) / (lnp[1:] - lnp[:-1])
    torch.testing.assert_close(slopes[:8], torch.full((8,), -LAMBDA, dtype=D), rtol=1e-11, atol=0.0)
    torch.testing.assert_close(slopes[8:], torch.full((5,), -KAPPA, dtype=D), rtol=1e-11, atol=0.0)


def _drained_path(axial: float, n: int) -> LoadPath:
    shear0 = {"23": 0.0, "13": 0.0, "12": 0.0}
    return LoadPath(
        [
            Segment(strain={"11": 0.0, "22": 0.0, "33": 0.0, **shear0}, increments=1),  # the stress -p0 I
            Segment(strain={"11": -0.2, **shear0}, stress={"22": -P0, "33": -P0}, increments=n),
            Segment(strain={"11": axial, **shear0}, stress={"22": -P0, "33": -P0}, increments=n),
        ]
    )


@pytest.mark.parametrize("pc0", [100.0, 150.0])
def test_drained_triaxial_compression_reaches_the_critical_state(pc0: float) -> None:
    model = _model(pc0)
    result = drive(model, _drained_path(-3.0, 15))
    sigma, st = result.stress[1:], {k: v[1:] for k, v in result.state.items()}
    p, q = mean_pressure(sigma), deviatoric_stress_q(sigma)
    # the total stress path of a constant-cell-pressure test: q = 3 (p - p0)
    torch.testing.assert_close(q, 3.0 * (p - P0), rtol=0.0, atol=1e-6)
    # volume change: elastic κ/(1+e0) ln(p/p0) plus plastic (λ-κ)/(1+e0) ln(p_c/p_c0), exact at every step
    ev = -result.strain[1:].diagonal(dim1=-2, dim2=-1).sum(-1)
    closed = (KAPPA * torch.log(p / P0) + (LAMBDA - KAPPA) * torch.log(st["p_c"] / pc0)) / (1 + E0)
    torch.testing.assert_close(ev, closed, rtol=1e-10, atol=1e-13)
    plastic = st["alpha"] > 0
    assert bool(plastic[-1]) and int(plastic.sum()) > 10
    f = q**2 / M**2 + p * (p - st["p_c"])
    assert float((f[plastic].abs() / st["p_c"][plastic] ** 2).max()) < 1e-9  # on the yield surface
    pf, qf = drained_triaxial_failure(M, P0)
    assert float(p[-1]) == pytest.approx(pf, rel=1e-7) and float(q[-1]) == pytest.approx(qf, rel=1e-7)
    assert float(st["p_c"][-1]) == pytest.approx(2.0 * pf, rel=1e-6)  # the CSL meets the ellipse at p_c/2


@pytest.mark.parametrize("pc0", [100.0, 300.0])
def test_undrained_triaxial_effective_stress_path(pc0: float) -> None:
    model = _model(pc0)
    state = model.initial_state()
    ps, qs, plastic = [], [], []
    amplitudes = [0.005 * k for k in range(1, 11)] + [0.05 + 0.3 * k for k in range(1, 11)]
    for a in amplitudes:
        sigma, new, _ = model.update(_diag(-a, a / 2, a / 2), state)  # no volume change
        plastic.append(bool(new["alpha"] > state["alpha"]))
        ps.append(float(mean_pressure(sigma)))
        qs.append(float(deviatoric_stress_q(sigma)))
        state = new
    p, q, yielded = torch.tensor(ps, dtype=D), torch.tensor(qs, dtype=D), torch.tensor(plastic)
    assert bool(yielded.any()) and bool(yielded[-1])
    torch.testing.assert_close(p[~yielded], torch.full_like(p[~yielded], P0), rtol=1e-13, atol=0.0)  # elastic: p = p0
    torch.testing.assert_close(
        q[yielded], undrained_triaxial_q(p[yielded], M, LAMBDA, KAPPA, P0, pc0), rtol=1e-10, atol=0
    )
    pf = undrained_failure_pressure(LAMBDA, KAPPA, P0, pc0)
    assert float(p[-1]) == pytest.approx(pf, rel=1e-7) and float(q[-1]) == pytest.approx(M * pf, rel=1e-7)
    if pc0 == P0:
        assert pf == pytest.approx(P0 * 2.0 ** (-(LAMBDA - KAPPA) / LAMBDA), rel=1e-15)
    else:  # heavily overconsolidated: the path bends to the right (dilation tendency) before reaching the CSL
        assert pf > P0


def test_rotation_invariance_and_ad_tangent() -> None:
    model = _model(150.0)
    g = torch.Generator().manual_seed(4)
    A = torch.randn(2, 3, 3, generator=g, dtype=D) * 0.01
    A = 0.5 * (A + A.mT) - 0.004 * torch.eye(3, dtype=D)
    Q, _ = torch.linalg.qr(torch.randn(3, 3, generator=g, dtype=D))
    state, state_r = model.initial_state(), model.initial_state()
    for k in range(3):
        eps = (k + 1) * A[0] if k < 2 else 2 * A[0] + A[1]
        s, state, C = model.update(eps, state)
        s_r, state_r, C_r = model.update(Q @ eps @ Q.T, state_r)
        torch.testing.assert_close(s_r, Q @ s @ Q.T, rtol=1e-11, atol=1e-10)
        torch.testing.assert_close(state_r["eps_p"], Q @ state["eps_p"] @ Q.T, rtol=1e-10, atol=1e-14)
        torch.testing.assert_close(state_r["p_c"], state["p_c"], rtol=1e-12, atol=0.0)
        C_rot = torch.einsum("ia,jb,kc,ld,abcd->ijkl", Q, Q, Q, Q, C)
        torch.testing.assert_close(C_r, C_rot, rtol=1e-9, atol=1e-7)
    assert float(state["alpha"]) > 0
    _, _, C_ad = model.ad_update(2 * A[0] + 2 * A[1], state)
    _, _, C_ift = model.update(2 * A[0] + 2 * A[1], state)
    torch.testing.assert_close(C_ad, C_ift, rtol=1e-9, atol=1e-7)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lmbda": 0.05}, "'lmbda' must exceed 'kappa'"),
        ({"lmbda": 0.01}, "'lmbda' must exceed 'kappa'"),
        ({"kappa": 0.0}, "'kappa' must be positive"),
        ({"M": -1.0}, "'M' must be positive"),
        ({"e0": 0.0}, "'e0' must be positive"),
        ({"p0": -5.0}, "'p0' must be positive"),
        ({"pc0": 0.0}, "'pc0' must be positive"),
        ({"pc0": 80.0}, "'pc0' must be >= 'p0'"),
        ({"nu": 0.5}, "'nu' must be"),
        ({"G": -1.0, "nu": None}, "'G' must be positive"),
        ({"G": 100.0}, "exactly one of G"),
        ({"nu": None}, "exactly one of G"),
        ({"p_t": -1.0}, "'p_t' must be non-negative"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_parameters_are_refused(changes: dict, message: str) -> None:
    kw = {"kappa": KAPPA, "lmbda": LAMBDA, "M": M, "e0": E0, "p0": P0, "pc0": 150.0, "nu": 0.3, **changes}
    with pytest.raises(ValueError, match=message):
        ModifiedCamClay(**kw)


def test_bad_state_and_catalogue() -> None:
    model = _model()
    bad = {**model.initial_state(), "p_c": torch.tensor(-1.0, dtype=D)}
    with pytest.raises(ValueError, match="p_c"):
        model.update(torch.zeros(3, 3, dtype=D), bad)
    entry = next(e for e in describe_models() if e["name"] == "ModifiedCamClay")
    names = [p["name"] for p in entry["parameters"]]
    assert names == ["kappa", "lmbda", "M", "e0", "p0", "pc0", "G", "nu", "p_t"]
    with pytest.raises(ValueError, match="0 < M < 3"):
        drained_triaxial_failure(3.5, P0)


@pytest.mark.parametrize("shear", [{"G": 1500.0, "p_t": 2.5}, {"nu": 0.25}])
def test_abaqus_card(shear: dict) -> None:
    from constitutive.export import abaqus_card, parse_abaqus_card

    model = _model(180.0, **shear)
    text = abaqus_card(model, name="CLAY")
    blocks = {b["keyword"]: b for b in parse_abaqus_card(text)}
    assert list(blocks) == ["MATERIAL", "POROUS ELASTIC", "CLAY PLASTICITY"]
    porous, clay = blocks["POROUS ELASTIC"], blocks["CLAY PLASTICITY"]
    assert porous["options"] == {"SHEAR": "G" if "G" in shear else "POISSON"}
    assert porous["data"] == [KAPPA, shear.get("G", shear.get("nu")), shear.get("p_t", 0.0)]
    assert clay["options"] == {"HARDENING": "EXPONENTIAL"} and clay["data"] == [LAMBDA, M, 90.0, 1.0, 1.0]
    assert "TYPE=RATIO (void ratio e0 = 1.0)" in text and "p0 = 100.0" in text
    with pytest.raises(ValueError, match="CalculiX"):
        abaqus_card(model, code="calculix")


def test_example_figure(tmp_path) -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "camclay_yield_surface.py"
    spec = importlib.util.spec_from_file_location("_example_camclay_yield_surface", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    out = example.main(tmp_path, increments=5)
    assert Path(out["figure"]).is_file()
    assert out["drained_p_f"] == pytest.approx(out["drained_p_f_closed_form"], rel=1e-5)
    assert out["drained_path_slope_max_error"] < 1e-6
    assert out["undrained_p_f"] == pytest.approx(out["undrained_p_f_closed_form"], rel=1e-8)
    assert out["undrained_q_max_rel_error"] < 1e-9
    with pytest.raises(FileExistsError):  # a second run keeps the first run's figure
        example.main(tmp_path, increments=5)


def test_parameter_gradients_match_finite_differences() -> None:
    """Calibration route: the engine's one-Newton-step re-expression makes a plastic step's stress differentiable in
    the parameters (pc0 also through the initial state)."""
    eps = torch.tensor([[-0.012, 0.004, 0.0], [0.004, 0.003, 0.0], [0.0, 0.0, 0.002]], dtype=D)

    def q_of(M_: torch.Tensor, pc0: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
        model = ModifiedCamClay(kappa=KAPPA, lmbda=lam, M=M_, e0=E0, p0=P0, pc0=pc0, nu=0.3)
        state = model.initial_state()
        sigma, state, _ = model.update(0.5 * eps, state)
        sigma, state, _ = model.update(eps, state)
        assert float(state["alpha"]) > 0
        return deviatoric_stress_q(sigma) + mean_pressure(sigma)

    args = [torch.tensor(v, dtype=D, requires_grad=True) for v in (M, 150.0, LAMBDA)]
    grads = torch.autograd.grad(q_of(*args), args)
    for i, g in enumerate(grads):
        h = 1e-6 * float(args[i].detach())
        plus = [a.detach() + (h if j == i else 0.0) for j, a in enumerate(args)]
        minus = [a.detach() - (h if j == i else 0.0) for j, a in enumerate(args)]
        fd = (q_of(*plus) - q_of(*minus)) / (2 * h)
        assert float(g) == pytest.approx(float(fd), rel=1e-6), i


# ---------------------------------------------------------------------------------------------- generated UMAT
_UMAT_FLAGS = ("-O2", "-fPIC", "-Wall", "-Werror")  # the bridge compiles with -Wall -Werror: any warning fails


def _cyclic_path() -> torch.Tensor:
    """Strains ``(28, 3, 3)`` reaching every return type of an overconsolidated clay (pc0 = 3 p0): shear to yield
    on the dry side (softening: p_c falls), shear reversed through zero (elastic), compression to the wet side
    (hardening, near the NCL with small q), then cyclic shear under compression (wet yielding, elastic unloading
    and reloading); every strain component."""
    rows = [(0.0, 0.006 * k) for k in range(1, 7)] + [(0.0, 0.036 - 0.012 * k) for k in range(1, 5)]
    rows += [(0.008 * k, -0.012) for k in range(1, 7)]
    rows += [(0.048 + 0.004 * s, -0.012 + 0.03 * math.sin(s)) for s in (k * math.pi / 6 for k in range(1, 13))]
    path = torch.zeros(len(rows), 3, 3, dtype=D)
    for n, (ev, g) in enumerate(rows):
        path[n] = _diag(0.3 * g, 0.0, -0.3 * g) - ev / 3 * torch.eye(3, dtype=D)
        path[n, 0, 1] = path[n, 1, 0] = g
        path[n, 1, 2] = path[n, 2, 1] = 0.2 * g
        path[n, 0, 2] = path[n, 2, 0] = -0.1 * g
    return path


@pytest.fixture(scope="module")
def camclay_umats(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The generated UMATs of a ν model and of a constant-G model with p_t > 0, compiled once for this module."""
    from constitutive.export import generate_umat
    from constitutive.umat import UMAT

    if shutil.which("gfortran") is None:
        pytest.skip("gfortran is not installed")
    tmp = tmp_path_factory.mktemp("camclay_umat")
    out = {}
    for name, kw in (("nu", {"nu": 0.3}), ("G", {"G": 1500.0, "p_t": 10.0})):
        model = _model(300.0, **kw)
        g = generate_umat(model)
        source = tmp / f"camclay_{name}.f"
        source.write_text(g.source)
        umat = UMAT(str(source), g.props, nstatv=g.nstatv, flags=_UMAT_FLAGS, cache=tmp / "cache")
        out[name] = (model, g, source, umat)
    return out


@pytest.mark.parametrize("shear", ["nu", "G"])
def test_generated_umat_matches_the_model(camclay_umats: dict, shear: str) -> None:
    """The generated UMAT (the model's Newton, line search and clip in COMPLEX*16, DDSDDE by the complex step through
    the converged return map) against the Python model along the cyclic path of :func:`_cyclic_path`: stress and
    STATEV (ε^p, p_c, α, void ratio) to round-off, DDSDDE to the solvers' tolerance (1e-11: the two tangents are
    exact at roots that differ by the tolerance); every return type is reached."""
    model, g, _, umat = camclay_umats[shear]
    assert g.nprops == 8 and g.nstatv == 9 and "UNSYMM" in g.source and "COMPLEX*16" in g.source
    assert all(len(line) <= 72 for line in g.source.splitlines())
    us, ms = umat.initial_state(), model.initial_state()
    kinds = set()
    for eps in _cyclic_path():
        su, us, Cu = umat.update(eps, us, 1.0)
        pc_n = float(ms["p_c"])
        sm, ms, Cm = model.update(eps, ms, 1.0)
        torch.testing.assert_close(su, sm, rtol=0.0, atol=1e-13 * float(sm.abs().max()))
        torch.testing.assert_close(Cu, Cm, rtol=0.0, atol=1e-10 * float(Cm.abs().max()))
        sv = us["statev"]
        ep = sv[:6] * torch.tensor([1.0, 1.0, 1.0, 0.5, 0.5, 0.5], dtype=D)  # engineering -> tensor shear
        ep_m = ms["eps_p"]
        torch.testing.assert_close(ep, torch.stack([ep_m[0, 0], ep_m[1, 1], ep_m[2, 2], ep_m[0, 1], ep_m[0, 2],
                                                    ep_m[1, 2]]), rtol=0.0, atol=1e-15)  # fmt: skip
        for k, key in ((6, "p_c"), (7, "alpha"), (8, "void_ratio")):
            assert abs(float(sv[k]) - float(ms[key])) <= 1e-13 * max(abs(float(ms[key])), 1.0), key
        pc = float(ms["p_c"])
        p = float(mean_pressure(sm))
        kinds.add("elastic" if pc == pc_n else ("wet" if pc > pc_n else "dry"))
        assert (pc <= pc_n or p > pc / 2) and (pc >= pc_n or p < pc / 2)  # hardening wet, softening dry
    assert kinds == {"elastic", "wet", "dry"}
    assert not torch.allclose(Cm, Cm.permute(2, 3, 0, 1))  # the tangent is unsymmetric: UNSYMM is needed


def test_generated_umat_isotropic_compression_and_bridge_checks(camclay_umats: dict) -> None:
    """Isotropic compression from the virgin state (e_tr = 0: q = 0 on the NCL) through the UMAT; check_umat (DDSDDE
    against finite differences) on a drained triaxial path (lateral stresses held at −p0) and a compressive shear
    path; compare_umat in plane strain; a wrong NPROPS or NSTATV, or a negative p_c in STATEV, stops the UMAT."""
    from constitutive.umat import UMAT, UMATError
    from constitutive.umat.check import check_umat, compare_umat

    model, g, source, umat = camclay_umats["G"]
    us, ms = umat.initial_state(), model.initial_state()
    for ev in (0.01, 0.03):
        eps = -ev / 3 * torch.eye(3, dtype=D)
        su, us, Cu = umat.update(eps, us, 1.0)
        sm, ms, Cm = model.update(eps, ms, 1.0)
        torch.testing.assert_close(su, sm, rtol=0.0, atol=1e-13 * float(sm.abs().max()))
        torch.testing.assert_close(Cu, Cm, rtol=0.0, atol=1e-10 * float(Cm.abs().max()))
    assert float(ms["p_c"]) > 300.0 and abs(float(us["statev"][6]) - float(ms["p_c"])) <= 1e-12 * 300.0
    lateral = {"22": -P0, "33": -P0, "12": 0.0, "13": 0.0, "23": 0.0}
    paths = [
        LoadPath([Segment({"11": -0.06}, lateral, increments=4)], "small", "drained triaxial"),
        LoadPath(
            [Segment({"11": -0.02, "22": -0.02, "33": -0.02, "12": 0.0, "13": 0.0, "23": 0.0}, increments=2),
             Segment({"11": -0.03, "22": -0.02, "33": -0.01, "12": 0.01, "13": 0.0, "23": 0.005}, increments=3)],
            "small", "compression then shear"),
    ]  # fmt: skip
    assert check_umat(umat, paths, increments=3).passed
    plane = UMAT(str(source), g.props, nstatv=g.nstatv, hypothesis="plane_strain", flags=_UMAT_FLAGS,
                 cache=source.parent / "cache")  # fmt: skip
    planar = LoadPath(
        [Segment({"11": -0.02, "22": -0.02, "33": -0.02, "12": 0.0, "13": 0.0, "23": 0.0}, increments=2),
         Segment({"11": -0.03, "22": -0.02, "33": -0.01, "12": 0.01, "13": 0.0, "23": 0.0}, increments=3)],
        "small", "compression then shear, in plane")  # fmt: skip
    rep = compare_umat(plane, model, [planar], state_map={"p_c": 6, "alpha": 7, "void_ratio": 8})
    assert rep.max_tangent_difference <= 1e-10 and max(r["stress"] for r in rep.rows) <= 1e-12
    assert max(v for r in rep.rows for v in r["state"].values()) <= 1e-12
    with pytest.raises(UMATError, match="NPROPS"):
        bad = UMAT(str(source), g.props[:-1], nstatv=g.nstatv, cache=source.parent / "cache")
        bad.update(torch.zeros(3, 3, dtype=D), bad.initial_state(), 1.0)
    short = UMAT(str(source), g.props, nstatv=g.nstatv - 1, cache=source.parent / "cache")
    with pytest.raises(UMATError, match="NSTATV"):
        short.update(torch.zeros(3, 3, dtype=D), short.initial_state(), 1.0)
    negative = umat.initial_state()
    negative["statev"][6] = -1.0
    with pytest.raises(UMATError, match="preconsolidation"):
        umat.update(torch.zeros(3, 3, dtype=D), negative, 1.0)
