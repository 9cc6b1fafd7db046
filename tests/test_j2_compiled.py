"""The fused J2 kernel of :mod:`constitutive.models.j2_kernel` behind ``J2Plasticity.update_mandel(compile=...)``.

Two layers: the kernel's pure function run *uncompiled* (cheap; every J2 case of the path-dependent harness, the
fallback of unconverged points, the compile-failure fallback, the policy), and one test that really compiles it
with inductor (linear, Voce and Chaboche, each compiled once per process at tiny N) -- skipped only where inductor
has no C++ compiler; it runs on the development machine and in CI (gcc comes with gfortran)."""

from __future__ import annotations

import warnings

import pytest
import torch

from constitutive.models import ArmstrongFrederick, ConvergenceError, J2Plasticity, Voce, j2_kernel
from constitutive.notation import to_mandel
from tests.cases.path_dependent import PATH_CASES

J2_CASES = [c for c in PATH_CASES if c.id.startswith("J2-")]
DT = torch.float64


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float, what: str) -> None:
    if not b.numel():
        return
    scale = max(float(b.abs().max()), 1.0)
    err = float((a - b).abs().max())
    assert err <= rtol * scale, f"{what}: max difference {err:.3e} (scale {scale:.3e})"


def _history(case, model, compile, reps=3):
    """Run the case's cyclic history (``(S, 4, 3, 3)`` tiled ``reps`` times, scaled) through ``update_mandel``;
    returns the list of ``(stress, state, tangent)`` per step."""
    strains = case.strains.repeat(1, reps, 1, 1)
    strains = strains * torch.linspace(0.8, 1.2, strains.shape[1], dtype=DT)[None, :, None, None]
    N = strains.shape[1]
    st6 = model.initial_state_mandel((N,))
    out = []
    for eps in strains:
        s6, st6, C6 = model.update_mandel(to_mandel(eps, "strain"), st6, compile=compile)
        out.append((s6, st6, C6))
    return out


def _compare(got, ref, rtol_s=1e-13, rtol_C=1e-12):
    for (s, st, C), (s_r, st_r, C_r) in zip(got, ref):
        _close(s, s_r, rtol_s, "stress")
        _close(C, C_r, rtol_C, "tangent")
        for k in st_r:
            _close(st[k], st_r[k], rtol_s, f"state[{k!r}]")


@pytest.fixture
def uncompiled(monkeypatch):
    """The compiled-kernel route with the kernel's pure function run eagerly (no inductor): tests its math and
    the surrounding logic cheaply."""
    monkeypatch.setattr(j2_kernel, "compiled_kernel", lambda key: j2_kernel.j2_return_mandel_into)
    monkeypatch.setattr(j2_kernel, "READY", set())  # leaves the process's record of compiled kinds alone
    return monkeypatch


@pytest.mark.parametrize("case", [c for c in J2_CASES if c.id != "J2-user"], ids=lambda c: c.id)
def test_kernel_function_equals_eager_and_tensor_path(case, uncompiled):
    """The fused kernel's formulation (unrolled Newton, Gram-form Armstrong--Frederick iterations, tangent in
    Mandel form) equals the eager kernel and the out-of-place tensor path to round-off along the harness history."""
    model = case.make(DT)
    ref = case.make(DT)
    ref._use_fast = False
    got = _history(case, model, compile=True)
    _compare(got, _history(case, model, compile=False))
    _compare(got, _history(case, ref, compile=None))


def test_user_law_stays_eager(uncompiled):
    """A user hardening callable is code, not parameters: the compiled route is not taken."""
    case = next(c for c in J2_CASES if c.id == "J2-user")
    model = case.make(DT)
    assert not model._compiled_ok()
    _compare(_history(case, model, compile=True), _history(case, model, compile=False), 0.0, 0.0)


def test_unconverged_points_go_to_the_eager_loop(uncompiled):
    """With one unrolled Newton iteration most plastic points are not converged: they are recomputed by the eager
    loop, and the result is still the eager one; a point that cannot converge raises ConvergenceError naming it."""
    uncompiled.setattr(j2_kernel, "N_NEWTON", {"scalar": 1, "af": 1})
    for cid in ("J2-voce", "J2-chaboche+voce"):
        case = next(c for c in J2_CASES if c.id == cid)
        model = case.make(DT)
        _compare(_history(case, model, compile=True), _history(case, model, compile=False))
    model = J2Plasticity(200e3, 0.3, 250.0, hardening=Voce(300.0, 20.0), max_iter=1)
    e6 = torch.zeros(5, 6, dtype=DT)
    e6[3, 3] = 0.05  # far beyond yield: one iteration is not enough
    with pytest.raises(ConvergenceError) as info:
        model.update_mandel(e6, model.initial_state_mandel((5,)), compile=True)
    assert info.value.diagnostics["points"] == [(3,)]


def test_compile_failure_warns_once_and_runs_eager(monkeypatch):
    """A compilation that fails (no C++ compiler, ...) warns once, leaves that kernel kind eager, and the results
    are the eager ones."""

    def broken(key):
        def fn(*args, **kwargs):
            raise RuntimeError("no C++ compiler (simulated)")

        return fn

    monkeypatch.setattr(j2_kernel, "compiled_kernel", broken)
    monkeypatch.setattr(j2_kernel, "_FAILED", set())
    monkeypatch.setattr(j2_kernel, "READY", set())
    monkeypatch.setattr(j2_kernel, "_WARNED", False)
    model = J2Plasticity(200e3, 0.3, 250.0, 1000.0)
    e6 = torch.linspace(-2e-3, 3e-3, 60, dtype=DT).reshape(10, 6)
    st = model.initial_state_mandel((10,))
    with pytest.warns(RuntimeWarning, match="torch.compile of the J2 kernel failed"):
        got = model.update_mandel(e6, st, compile=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = model.update_mandel(e6, st, compile=True)  # no second warning, eager from now on
    ref = model.update_mandel(e6, st, compile=False)
    for a, b in ((got, ref), (again, ref)):
        assert torch.equal(a[0], b[0]) and torch.equal(a[2], b[2])
    assert model._kernel_key(True) in j2_kernel._FAILED


def test_policy(monkeypatch):
    """The policy: off by default (never compiled unless asked), 'auto' compiles only for calls of at least
    AUTO_THRESHOLD points (or when already compiled), 'always' for every call of ≥ 2 points; bad values raise."""
    key = ("kind",)
    monkeypatch.setattr(j2_kernel, "_COMPILED", {})
    monkeypatch.setattr(j2_kernel, "_FAILED", set())
    old = j2_kernel.set_compile_policy("off")
    try:
        assert not j2_kernel.wants_compiled(None, 10**7, key)
        assert j2_kernel.wants_compiled(True, 2, key) and not j2_kernel.wants_compiled(True, 1, key)
        j2_kernel.set_compile_policy("auto")
        assert not j2_kernel.wants_compiled(None, j2_kernel.AUTO_THRESHOLD - 1, key)
        assert j2_kernel.wants_compiled(None, j2_kernel.AUTO_THRESHOLD, key)
        assert not j2_kernel.wants_compiled(False, 10**7, key)
        j2_kernel.set_compile_policy("always")
        assert j2_kernel.wants_compiled(None, 2, key)
        j2_kernel._FAILED.add(key)
        assert not j2_kernel.wants_compiled(True, 10**6, key)
        with pytest.raises(ValueError, match="compile policy must be one of"):
            j2_kernel.set_compile_policy("sometimes")
    finally:
        j2_kernel.set_compile_policy(old)
    model = J2Plasticity(200e3, 0.3, 250.0)
    with pytest.raises(ValueError, match="compile must be True, False or None"):
        model.update_mandel(torch.zeros(3, 6, dtype=DT), model.initial_state_mandel((3,)), compile="yes")


@pytest.mark.skipif(not j2_kernel.inductor_available(), reason="torch inductor has no C++ compiler here")
def test_compiled_kernel_matches_eager_and_tensor_path():
    """The inductor-compiled kernel (each kind compiled once per process; tiny N) equals the eager kernel and the
    tensor path to round-off for linear, Voce and Chaboche (Voce + two Armstrong--Frederick back stresses), at
    another N without recompiling, into ``out=`` buffers and in chunks."""
    models = {
        "linear": J2Plasticity(200e3, 0.3, 250.0, 1000.0),
        "voce": J2Plasticity(200e3, 0.3, 250.0, hardening=Voce(300.0, 20.0)),
        "chaboche": J2Plasticity(
            200e3, 0.3, 250.0, hardening=Voce(100.0, 20.0),
            kinematic=[ArmstrongFrederick(20e3, 200.0), ArmstrongFrederick(5e3, 20.0)],
        ),
    }  # fmt: skip
    case = next(c for c in J2_CASES if c.id == "J2-voce")  # its strain history; the models are the ones above
    for name, model in models.items():
        ref = model.with_parameters()
        ref._use_fast = False
        got = _history(case, model, compile=True, reps=2)
        assert model._kernel_key(True) in j2_kernel.READY, name
        _compare(got, _history(case, model, compile=False, reps=2))
        _compare(got, _history(case, ref, compile=None, reps=2))
        # another N (5) and out= buffers: no recompilation (the batch axis is dynamic)
        s6, st6, C6 = got[-1]
        e6 = to_mandel(case.strains[-1], "strain").repeat(2, 1)[:5] * 1.1
        st_in = {k: v[:5] for k, v in st6.items()}
        out = (
            torch.empty(5, 6, dtype=DT),
            {k: torch.empty_like(v) for k, v in st_in.items()},
            torch.empty(5, 6, 6, dtype=DT),
        )
        frames = torch._dynamo.utils.counters["stats"]["unique_graphs"]
        res = model.update_mandel(e6, st_in, compile=True, out=out)
        assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == frames, f"{name}: recompiled"
        eager = model.update_mandel(e6, st_in, compile=False)
        assert res[0] is out[0] and res[2] is out[2]
        _compare([res], [eager])
        # in chunks of 2 points (5 = 2 + 3: no chunk of one point) -- the same results, still no recompilation
        _compare([model.update_mandel(e6, st_in, compile=True, chunk=2)], [eager])
        assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == frames, f"{name}: recompiled (chunks)"


def test_kernel_function_float32(uncompiled):
    """float32: the fused formulation equals the float32 eager kernel to float32 round-off (local tolerance 1e-5)
    along the Chaboche + Voce history."""
    case = next(c for c in J2_CASES if c.id == "J2-chaboche+voce")
    model = case.make(torch.float32)
    strains = case.strains.to(torch.float32)
    st_c = st_e = model.initial_state_mandel((strains.shape[1],))
    for eps in strains:
        e6 = to_mandel(eps, "strain")
        s_c, st_c, C_c = model.update_mandel(e6, st_c, compile=True)
        s_e, st_e, C_e = model.update_mandel(e6, st_e, compile=False)
        assert s_c.dtype == torch.float32 and C_c.dtype == torch.float32
        _close(s_c, s_e, 1e-5, "float32 stress")
        _close(C_c, C_e, 1e-4, "float32 tangent")
