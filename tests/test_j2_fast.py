"""The Mandel-native J2 kernel (:meth:`J2Plasticity.update_mandel`, also behind the tensor-form ``update``) against
the out-of-place tensor formulation (``_use_fast = False``) and the AD tangent through the tensor return map, along
the cyclic multiaxial histories of the path-dependent harness, for every hardening law and kinematic term."""

from __future__ import annotations

import math

import pytest
import torch

from constitutive.models import ConvergenceError, J2Plasticity, Perzyna, Voce
from constitutive.models.plasticity import (
    mandel_to_tensor,
    mandel_to_tensor4,
    tensor4_to_mandel,
    tensor_to_mandel,
)
from constitutive.notation import from_mandel, to_mandel
from tests.cases.path_dependent import PATH_CASES

J2_CASES = [c for c in PATH_CASES if c.id.startswith("J2-")]
AF_IDS = {"J2-af", "J2-chaboche+swift", "J2-chaboche+voce"}
DT = torch.float64


def _tiled(strains: torch.Tensor, reps: int) -> torch.Tensor:
    """``(S, N, 3, 3)`` -> ``(S, reps*N, 3, 3)``, each copy scaled slightly differently (distinct points)."""
    scale = torch.linspace(0.8, 1.2, reps, dtype=DT).repeat_interleave(strains.shape[1])
    return strains.repeat(1, reps, 1, 1) * scale[None, :, None, None]


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float, what: str) -> None:
    scale = max(float(b.abs().max()), 1.0) if b.numel() else 1.0
    err = float((a - b).abs().max()) if b.numel() else 0.0
    assert err <= rtol * scale, f"{what}: max difference {err:.3e} (scale {scale:.3e})"


@pytest.mark.parametrize("case", J2_CASES, ids=lambda c: c.id)
def test_mandel_path_equals_tensor_path(case):
    """Stress, state and tangent of update_mandel (chunk 7, N = 36 not a multiple) and of the tensor update (the
    kernel converted) equal the out-of-place tensor path to round-off at every step; with Armstrong--Frederick back
    stresses the closed-form Mandel tangent equals the AD tangent through the tensor return map to 1e-12."""
    model = case.make(DT)
    model._fast_tensor_update = True  # the tensor-form update through the kernel too
    ref = case.make(DT)
    ref._use_fast = False
    strains = _tiled(case.strains, 9)
    N = strains.shape[1]
    st, st_ref, st6 = model.initial_state((N,)), ref.initial_state((N,)), model.initial_state_mandel((N,))
    grew = False
    for eps in strains:
        s6, new6, C6 = model.update_mandel(to_mandel(eps, "strain"), st6, chunk=7)
        s, new, C = model.update(eps, st)
        s_r, new_r, C_r = ref.update(eps, st_ref)
        for got_s, got_st, got_C, label in (
            (from_mandel(s6, "stress"), model.state_from_mandel(new6), from_mandel(C6, "stiffness"), "mandel"),
            (s, new, C, "tensor"),
        ):
            _close(got_s, s_r, 1e-13, f"{label} stress")
            _close(got_C, C_r, 1e-12, f"{label} tangent")
            for k in new_r:
                _close(got_st[k], new_r[k], 1e-13, f"{label} state[{k!r}]")
        if case.id in AF_IDS:
            _, _, C_ad = ref.ad_update(eps, st_ref)
            _close(from_mandel(C6, "stiffness"), C_ad, 1e-12, "closed-form AF tangent vs AD")
        grew |= bool((new_r["alpha"] > st_ref["alpha"]).any())
        st, st_ref, st6 = new, new_r, new6
    assert grew


@pytest.mark.parametrize("case", [c for c in J2_CASES if c.id in ("J2-voce", "J2-chaboche+voce")], ids=lambda c: c.id)
def test_chunk_boundaries(case):
    """Chunks of 1, 5 and 1000 points (N = 12) and the default give the same result (each point is independent)."""
    model = case.make(DT)
    strains = _tiled(case.strains, 3)
    N = strains.shape[1]
    results = []
    for chunk in (1, 5, 1000, None):
        st6 = model.initial_state_mandel((N,))
        for eps in strains:
            s6, st6, C6 = model.update_mandel(to_mandel(eps, "strain"), st6, chunk=chunk)
        results.append((s6, st6, C6))
    for s6, st6, C6 in results[1:]:
        _close(s6, results[0][0], 1e-15, "stress")
        _close(C6, results[0][2], 1e-15, "tangent")
        for k in st6:
            _close(st6[k], results[0][1][k], 1e-15, k)


@pytest.mark.parametrize("case", [c for c in J2_CASES if c.id in ("J2-linear", "J2-voce", "J2-af")], ids=lambda c: c.id)
def test_float32(case):
    """float32 kernel: equals the float32 tensor path to float32 round-off and the float64 kernel to ~1e-6
    relative (stress) along the history (the documented float32 accuracy)."""
    m32, m64 = case.make(torch.float32), case.make(DT)
    ref32 = case.make(torch.float32)
    ref32._use_fast = False
    N = case.strains.shape[1]
    s32, s64, sr = m32.initial_state_mandel((N,)), m64.initial_state_mandel((N,)), ref32.initial_state((N,))
    for eps in case.strains:
        e6 = to_mandel(eps, "strain")
        a6, s32, Ca = m32.update_mandel(e6.float(), s32)
        b6, s64, Cb = m64.update_mandel(e6, s64)
        r, sr, Cr = ref32.update(eps.float(), sr)
        assert a6.dtype == torch.float32 and Ca.dtype == torch.float32
        _close(a6.double(), to_mandel(r, "stress").double(), 2e-5, "float32 kernel vs float32 tensor path")
        _close(a6.double(), b6, 2e-5, "float32 vs float64 stress")
        _close(Ca.double(), Cb, 1e-3, "float32 vs float64 tangent")


@pytest.mark.parametrize("param", ["E", "sigma_y", "Q"])
def test_parameter_gradients_match_tensor_path(param):
    """With parameters that require grad the differentiable route runs: gradients of stress and tangent through
    update_mandel equal those through the tensor update."""
    strains = _tiled(J2_CASES[0].strains, 2)
    N = strains.shape[1]

    def run(mandel: bool) -> torch.Tensor:
        p = {"E": 200e3, "sigma_y": 250.0, "Q": 300.0}
        leaf = torch.tensor(p[param], dtype=DT, requires_grad=True)
        p[param] = leaf
        model = J2Plasticity(p["E"], 0.3, p["sigma_y"], 500.0, hardening=Voce(p["Q"], 20.0))
        st = model.initial_state_mandel((N,)) if mandel else model.initial_state((N,))
        total = torch.zeros((), dtype=DT)
        for eps in strains[:6]:
            if mandel:
                s, st, C = model.update_mandel(to_mandel(eps, "strain"), st)
                s, C = from_mandel(s, "stress"), from_mandel(C, "stiffness")
            else:
                s, st, C = model.update(eps, st)
            assert s.requires_grad and C.requires_grad
            total = total + (s * s).sum() + 1e-6 * (C * C).sum()
        (g,) = torch.autograd.grad(total, leaf)
        return g

    g_m, g_t = run(True), run(False)
    assert float(g_t.abs()) > 0
    torch.testing.assert_close(g_m, g_t, rtol=1e-12, atol=0)


def test_forward_mode_takes_the_differentiable_route():
    """torch.func.jvp (forward mode, not stopped by no_grad) through update_mandel and update agree."""
    eps = _tiled(J2_CASES[0].strains, 1)[1]
    e6 = to_mandel(eps, "strain")

    def stress(E: torch.Tensor, mandel: bool) -> torch.Tensor:
        model = J2Plasticity(E, 0.3, 250.0, hardening=Voce(300.0, 20.0))
        with torch.no_grad():
            if mandel:
                return from_mandel(model.update_mandel(e6, model.initial_state_mandel((4,)))[0], "stress")
            return model.update(eps, model.initial_state((4,)))[0]

    E0, dE = torch.tensor(200e3, dtype=DT), torch.tensor(1.0, dtype=DT)
    _, t_m = torch.func.jvp(lambda E: stress(E, True), (E0,), (dE,))
    _, t_t = torch.func.jvp(lambda E: stress(E, False), (E0,), (dE,))
    assert float(t_t.abs().max()) > 0
    torch.testing.assert_close(t_m, t_t, rtol=1e-12, atol=1e-15)


def test_out_buffers_and_need_tangent():
    """``out=`` buffers receive the result (the same as fresh outputs) and are returned; wrong buffers raise."""
    model = J2Plasticity(200e3, 0.3, 250.0, 1000.0, hardening=Voce(100.0, 20.0))
    eps = to_mandel(_tiled(J2_CASES[0].strains, 3)[1], "strain")
    st = model.initial_state_mandel((eps.shape[0],))
    s, new, C = model.update_mandel(eps, st)
    out = (torch.empty_like(s), {k: torch.empty_like(v) for k, v in new.items()}, torch.empty_like(C))
    s2, new2, C2 = model.update_mandel(eps, st, out=out, chunk=5)
    assert s2.data_ptr() == out[0].data_ptr() and C2 is not None and C2.data_ptr() == out[2].data_ptr()
    assert torch.equal(s2, s) and torch.equal(C2, C) and all(torch.equal(new2[k], new[k]) for k in new)
    s3, new3, C3 = model.update_mandel(eps, st, need_tangent=False)
    assert C3 is None and torch.equal(s3, s)
    with pytest.raises(ValueError, match="tangent buffer"):
        model.update_mandel(eps, st, out=(out[0], out[1], torch.empty(3, 6, 6, dtype=DT)))


def test_bad_input_and_failed_update():
    """Shapes, non-deviatoric or negative state entries and bad chunks raise ValueError naming the problem; a
    failed Newton raises ConvergenceError naming batch indices and leaves the inputs untouched."""
    model = J2Plasticity(200e3, 0.3, 250.0, hardening=Voce(300.0, 20.0))
    st = model.initial_state_mandel((2, 3))
    with pytest.raises(ValueError, match=r"\(\.\.\., 6\)"):
        model.update_mandel(torch.zeros(2, 3, 3, 3, dtype=DT), st)
    with pytest.raises(ValueError, match="chunk"):
        model.update_mandel(torch.zeros(2, 3, 6, dtype=DT), st, chunk=0)
    bad = dict(st, eps_p=st["eps_p"] + torch.tensor([1e-3, 0, 0, 0, 0, 0], dtype=DT))
    with pytest.raises(ValueError, match="deviatoric"):
        model.update_mandel(torch.zeros(2, 3, 6, dtype=DT), bad)
    with pytest.raises(ValueError, match="non-negative"):
        model.update_mandel(torch.zeros(2, 3, 6, dtype=DT), dict(st, alpha=-torch.ones(2, 3, dtype=DT)))
    with pytest.raises(ValueError, match="backstress"):
        model.update_mandel(torch.zeros(2, 3, 6, dtype=DT), dict(st, backstress=torch.zeros(2, 3, 1, 6, dtype=DT)))
    eps = torch.zeros(2, 3, 6, dtype=DT)
    eps[1, 2, 3] = 0.02  # one point far past yield
    before = {k: v.clone() for k, v in st.items()}
    with pytest.raises(ConvergenceError) as info:
        model.with_parameters(max_iter=1).update_mandel(eps, st, chunk=4)
    assert info.value.diagnostics["points"] == [(1, 2)]
    assert "(1, 2)" in str(info.value)
    assert all(torch.equal(st[k], before[k]) for k in st)


def test_perzyna_and_ad_option_take_the_tensor_route():
    """Models the kernel does not cover (Perzyna) and tangent_method='ad' give update() converted (to the round-off
    of the strain's round trip through Mandel form)."""
    eps = _tiled(J2_CASES[0].strains, 1)[1]
    for model, dt in (
        (Perzyna(200e3, 0.3, 250.0, 1000.0, eta=0.5, m=2.0), 0.01),
        (J2Plasticity(200e3, 0.3, 250.0, hardening=Voce(300.0, 20.0), tangent_method="ad"), None),
    ):
        st = model.initial_state((eps.shape[0],))
        s, new, C = model.update(eps, st, dt)
        s6, new6, C6 = model.update_mandel(tensor_to_mandel(eps), model.state_to_mandel(st), dt)
        _close(s6, tensor_to_mandel(s), 1e-13, "stress")
        _close(C6, tensor4_to_mandel(C), 1e-12, "tangent")
        _close(new6["eps_p"], tensor_to_mandel(new["eps_p"]), 1e-13, "eps_p")


def test_conversions_match_notation():
    """The kernel's gathers equal constitutive.notation's Mandel conversions (order 11 22 33 23 13 12, √2)."""
    g = torch.Generator().manual_seed(0)
    A = torch.randn(5, 3, 3, generator=g, dtype=DT)
    A = A + A.mT
    C = torch.randn(5, 6, 6, generator=g, dtype=DT)
    torch.testing.assert_close(tensor_to_mandel(A), to_mandel(A, "stress"), rtol=0, atol=1e-15)
    torch.testing.assert_close(mandel_to_tensor(to_mandel(A, "stress")), A, rtol=0, atol=1e-15)
    torch.testing.assert_close(mandel_to_tensor4(C), from_mandel(C, "stiffness"), rtol=0, atol=1e-15)
    torch.testing.assert_close(tensor4_to_mandel(from_mandel(C, "stiffness")), C, rtol=0, atol=1e-14)
    assert math.isclose(float(tensor_to_mandel(A)[0, 3]), math.sqrt(2) * float(A[0, 1, 2]), rel_tol=1e-15)
