"""The path-dependent harness: every ``PATH_CASES`` entry of ``tests/cases/path_dependent.py`` gets the same checks
along its whole strain history (the state carried from step to step by ``update``).

Per :class:`cases.path_dependent.PathDependentCase` (parametrised by ``case.id``), at every step of the history:

* the consistent tangent ``update(...)[2]`` passes :func:`constitutive.check.check_tangent` (central differences
  with Richardson extrapolation, ``case.rtol``) with the state held at the start of the step; an elastoplastic
  history must contain both plastic steps (α grows somewhere) and elastic ones (α grows nowhere);
* the Taylor remainder ‖σ(ε + h d) − σ(ε) − h C:d‖ of the consistent tangent C falls as h² (order ≥ 1.8 over
  h, h/2, h/4) along a random direction d at every point of every step, or is at round-off (a response linear in
  the step);
* ``update`` mutates neither the strain nor the state tensors it is given, and returns fresh state tensors;
* a batch equals point-by-point updates (each point carried alone through the history, unbatched), and a 2-d
  batch and an unbatched state broadcast to the batch give the same result;
* the model built in float32 gives float32 stress, state and tangent close to float64 (``case.float32_stress_tol``)
  and a tangent that passes the finite-difference check at ``case.float32_fd_rtol`` (float32 round-off: the float64
  ``rtol`` is out of reach);
* ``to_dict``/``from_dict`` and a TOML ``save``/``load`` give a model whose history is identical;
* ``check_state`` (and ``update``) reject a state with a missing key, a wrong trailing shape or a NaN with a
  ``ValueError`` naming the key;
* a failed update (``ConvergenceError`` from ``max_iter=1`` where the return map iterates, a NaN strain, a bad ``dt``)
  raises and leaves the caller's state tensors untouched.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

_TESTS = Path(__file__).resolve().parent
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

from cases.path_dependent import PATH_CASES, PathDependentCase  # noqa: E402

from constitutive.check import check_tangent  # noqa: E402
from constitutive.models import ConvergenceError, Material, PathDependentMaterial  # noqa: E402

_params = pytest.mark.parametrize("case", PATH_CASES, ids=[c.id for c in PATH_CASES])
StepResult = tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]


def _run(model: PathDependentMaterial, case: PathDependentCase, strains: torch.Tensor) -> list[StepResult]:
    """``update`` through the history ``strains`` ``(S, N, 3, 3)`` from the virgin state; one result per step."""
    state = model.initial_state(strains.shape[1:-2])
    out: list[StepResult] = []
    for k, eps in enumerate(strains):
        dt = case.step_dt(k)
        if isinstance(dt, torch.Tensor):
            dt = dt.to(model.dtype)
        s, state, C = model.update(eps, state, dt)
        out.append((s, state, C))
    return out


def _states(model: PathDependentMaterial, case: PathDependentCase) -> list[dict[str, torch.Tensor]]:
    """The state at the start of every step (the virgin state, then each converged one but the last)."""
    history = _run(model, case, case.strains)
    return [model.initial_state(case.strains.shape[1:-2])] + [st for _, st, _ in history[:-1]]


def test_cases_collected() -> None:
    ids = {c.id for c in PATH_CASES}
    for name in ("J2-linear", "J2-voce", "J2-swift", "J2-prager", "J2-af", "J2-chaboche+voce", "GeneralizedMaxwell"):
        assert name in ids
    assert any(i.startswith("Perzyna") for i in ids)
    assert len(ids) == len(PATH_CASES)


def _all_steps(
    model: PathDependentMaterial, case: PathDependentCase, strains: torch.Tensor
) -> tuple[torch.Tensor, dict[str, torch.Tensor], float | torch.Tensor | None, list[dict[str, torch.Tensor]]]:
    """Every step of the history as one batch of ``S·N`` points, for one ``check_tangent`` call (it checks each point
    on its own): the strains ``(S·N, 3, 3)``, the states at the start of each step, the time increments (a float,
    or ``(S·N,)``), and the per-step start states (a list of ``S`` dicts)."""
    history = _run(model, case, strains)
    starts = [model.initial_state(strains.shape[1:-2])] + [st for _, st, _ in history[:-1]]
    n_steps, n_points = strains.shape[:2]
    state = {key: torch.cat([st[key] for st in starts]) for key in starts[0]}
    dt = case.dt
    if isinstance(dt, torch.Tensor):
        dt = (dt[:, None] if dt.ndim == 1 else dt).expand(n_steps, n_points).reshape(-1).to(model.dtype)
    return strains.reshape(-1, 3, 3), state, dt, starts


@_params
def test_consistent_tangent_vs_finite_differences_at_every_step(case: PathDependentCase) -> None:
    model = case.make(torch.float64)
    eps, state, dt, starts = _all_steps(model, case, case.strains)
    report = check_tangent(model, eps, state=state, dt=dt, rtol=case.rtol)
    n_points = case.strains.shape[1]
    assert report.passed, (case.id, f"step {report.worst_batch_index[0] // n_points}", str(report))
    assert report.n_points == eps.shape[0]
    if case.elastoplastic:
        phases = set()
        for k, st in enumerate(starts):
            new_alpha = model.update(case.strains[k], st, case.step_dt(k))[1]["alpha"]
            phases.add("plastic" if bool((new_alpha > st["alpha"]).any()) else "elastic")
        assert phases == {"plastic", "elastic"}


@_params
def test_taylor_remainder_is_second_order_at_every_step(case: PathDependentCase) -> None:
    model = case.make(torch.float64)
    eps, state, dt, _ = _all_steps(model, case, case.strains)
    sigma0, _, C = model.update(eps, state, dt)
    g = torch.Generator().manual_seed(7)
    d = torch.randn(eps.shape, generator=g, dtype=torch.float64)
    d = 0.5 * (d + d.mT)
    d = d / torch.linalg.matrix_norm(d)[:, None, None]
    scale = torch.linalg.matrix_norm(eps).clamp_min(1e-4)  # the strain's own size
    Cd = torch.einsum("nijkl,nkl->nij", C, d)
    remainders = []
    for k in range(3):
        h = (1e-3 / 2**k) * scale
        sigma = model.update(eps + h[:, None, None] * d, state, dt)[0]
        r = torch.linalg.matrix_norm(sigma - sigma0 - h[:, None, None] * Cd)
        remainders.append((r, h * torch.linalg.matrix_norm(Cd)))
    (r0, lin0), (r1, _), (r2, _) = remainders
    roundoff = r0 <= 1e-9 * (lin0 + torch.linalg.matrix_norm(sigma0))
    order = torch.maximum(torch.log2(r0 / r1), torch.log2(r1 / r2))
    good = roundoff | ((order >= 1.8) & (r0 <= 1e-2 * lin0))
    bad = torch.nonzero(~good).reshape(-1)
    n_points = case.strains.shape[1]
    assert bad.numel() == 0, (
        case.id,
        [(int(i) // n_points, int(i) % n_points) for i in bad[:5]],  # (step, point)
        [(float(order[i]), float(r0[i] / lin0[i])) for i in bad[:5]],
    )
    assert not bool(roundoff.all()) or not case.elastoplastic  # the history has nonlinear steps


@_params
def test_inputs_not_mutated_and_state_is_new(case: PathDependentCase) -> None:
    model = case.make(torch.float64)
    state = model.initial_state(case.strains.shape[1:-2])
    for k, eps in enumerate(case.strains):
        eps_before = eps.clone()
        state_before = {key: v.clone() for key, v in state.items()}
        _, new_state, _ = model.update(eps, state, case.step_dt(k))
        assert torch.equal(eps, eps_before)
        assert set(new_state) == set(state)
        for key in state:
            assert torch.equal(state[key], state_before[key]), (k, key)
            if new_state[key].numel():
                assert new_state[key].data_ptr() != state[key].data_ptr(), (k, key)
        state = new_state


@_params
def test_batch_equals_point_by_point(case: PathDependentCase) -> None:
    model = case.make(torch.float64)
    batched = _run(model, case, case.strains)
    (s_rtol, s_atol), (c_rtol, c_atol), (q_rtol, q_atol) = case.batch_tol
    n_points = case.strains.shape[1]
    for i in range(n_points):
        state = model.initial_state()
        for k, eps in enumerate(case.strains):
            s, state, C = model.update(eps[i], state, case.point_dt(k, i))
            assert s.shape == (3, 3) and C.shape == (3, 3, 3, 3)
            s_b, st_b, C_b = batched[k]
            torch.testing.assert_close(s, s_b[i], rtol=s_rtol, atol=s_atol)
            torch.testing.assert_close(C, C_b[i], rtol=c_rtol, atol=c_atol)
            for key in state:
                torch.testing.assert_close(state[key], st_b[key][i], rtol=q_rtol, atol=q_atol)
    # a 2-d batch from an unbatched (broadcast) virgin state equals the 1-d batch
    eps = case.strains[0]
    dt = case.step_dt(0)
    dt2 = dt.reshape(2, n_points // 2) if isinstance(dt, torch.Tensor) and dt.ndim == 1 else dt
    s2, st2, C2 = model.update(eps.reshape(2, n_points // 2, 3, 3), model.initial_state(), dt2)
    s_b, st_b, C_b = batched[0]
    assert s2.shape == (2, n_points // 2, 3, 3) and C2.shape == (2, n_points // 2, 3, 3, 3, 3)
    torch.testing.assert_close(s2.reshape(s_b.shape), s_b, rtol=s_rtol, atol=s_atol)
    torch.testing.assert_close(C2.reshape(C_b.shape), C_b, rtol=c_rtol, atol=c_atol)
    for key, tail in model.state_shapes().items():
        assert st2[key].shape == (2, n_points // 2, *tail)


@_params
def test_float32(case: PathDependentCase) -> None:
    model64, model32 = case.make(torch.float64), case.make(torch.float32)
    run64 = _run(model64, case, case.strains)
    strains32 = case.strains.to(torch.float32)
    run32 = _run(model32, case, strains32)
    rtol, atol = case.float32_stress_tol
    for (s32, st32, C32), (s64, _, _) in zip(run32, run64):
        assert s32.dtype == C32.dtype == torch.float32
        assert all(v.dtype == torch.float32 for v in st32.values())
        torch.testing.assert_close(s32.double(), s64, rtol=rtol, atol=atol)
    eps, state, dt, _ = _all_steps(model32, case, strains32)
    report = check_tangent(model32, eps, state=state, dt=dt, rtol=case.float32_fd_rtol)
    assert report.passed, (case.id, str(report))


@_params
def test_dict_and_toml_round_trip(case: PathDependentCase, tmp_path: Path) -> None:
    model = case.make(torch.float64)
    if not case.serialisable:
        with pytest.raises(ValueError, match="callable"):
            Material.from_dict(model.to_dict())
        return
    again = Material.from_dict(model.to_dict())
    loaded = Material.load(model.save(tmp_path / f"{case.id}.toml", name=case.id))
    reference = _run(model, case, case.strains)
    for other in (again, loaded):
        assert type(other) is type(model) and other.to_dict() == model.to_dict()
        for (s, st, C), (s_r, st_r, C_r) in zip(_run(other, case, case.strains), reference):
            torch.testing.assert_close(s, s_r, rtol=0, atol=0)
            torch.testing.assert_close(C, C_r, rtol=0, atol=0)
            for key in st_r:
                torch.testing.assert_close(st[key], st_r[key], rtol=0, atol=0)


@_params
def test_check_state_rejects_bad_states(case: PathDependentCase) -> None:
    model = case.make(torch.float64)
    n_steps = 3
    state = _run(model, case, case.strains[:n_steps])[-1][1]  # a loaded state
    eps, dt = case.strains[n_steps], case.step_dt(n_steps)
    batch = eps.shape[:-2]
    checked, common = model.check_state(state, batch)
    assert common == batch and set(checked) == set(model.state_shapes())
    for key, tail in model.state_shapes().items():
        missing = {k: v for k, v in state.items() if k != key}
        bad_states = [(missing, "missing")]
        if tail:
            wrong = {**state, key: torch.zeros((*batch, *tail[:-1], tail[-1] + 1), dtype=model.dtype)}
            bad_states.append((wrong, "shape"))
        else:
            # a per-point scalar entry (J2's alpha) has no trailing shape to get wrong: an extra axis shows up as a
            # batch mismatch, whose message names the batch shapes but not the key (see the report)
            with pytest.raises(ValueError, match="batch"):
                model.check_state({**state, key: torch.zeros((*batch, 2), dtype=model.dtype)}, batch)
        if state[key].numel():
            nan = {**state, key: state[key].clone()}
            nan[key].view(-1)[0] = float("nan")
            bad_states.append((nan, "NaN"))
        for bad, what in bad_states:
            with pytest.raises(ValueError, match=f"'{key}'") as info:
                model.check_state(bad, batch)
            assert what in str(info.value)
            with pytest.raises(ValueError, match=f"'{key}'"):
                model.update(eps, bad, dt)


def _assert_untouched(state: dict[str, torch.Tensor], before: dict[str, torch.Tensor]) -> None:
    for key in before:
        assert torch.equal(state[key], before[key]), key


@_params
def test_failed_update_leaves_state_intact(case: PathDependentCase) -> None:
    model = case.make(torch.float64)
    states = _states(model, case)
    # bad input at a loaded state
    state = states[4]
    before = {k: v.clone() for k, v in state.items()}
    nan = case.strains[4].clone()
    nan[1, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        model.update(nan, state, case.step_dt(4))
    _assert_untouched(state, before)
    if case.dt is not None:
        for bad_dt in (None, 0.0, -1.0, float("nan")):
            with pytest.raises(ValueError, match="dt"):
                model.update(case.strains[4], state, bad_dt)
            _assert_untouched(state, before)
    # a return map stopped after one Newton update: ConvergenceError, caller's state untouched
    if not case.converges_iteratively:
        return
    stingy = model.with_parameters(max_iter=1)
    raised = 0
    for k, state in enumerate(states):
        before = {key: v.clone() for key, v in state.items()}
        try:
            stingy.update(case.strains[k], state, case.step_dt(k))
        except ConvergenceError:
            raised += 1
        _assert_untouched(state, before)
    assert raised > 0, "max_iter=1 never failed: the case does not exercise a failed update"
