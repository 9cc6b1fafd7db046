"""Generalized Maxwell viscoelasticity: exact integration vs Prony closed forms, rate limits, tangent, batching."""

from __future__ import annotations

import math

import pytest
import torch

from constitutive.models import GeneralizedMaxwell, Material
from constitutive.tensor import dev, trace

DT = torch.float64
SHEAR = [(300.0, 0.5), (150.0, 5.0), (60.0, 50.0)]
BULK = [(800.0, 0.2), (400.0, 8.0)]
K_INF, G_INF = 2000.0, 100.0


def model() -> GeneralizedMaxwell:
    return GeneralizedMaxwell(K_inf=K_INF, G_inf=G_INF, prony_shear=SHEAR, prony_bulk=BULK)


def direction() -> torch.Tensor:
    return torch.tensor([[1.0, 0.3, -0.2], [0.3, -0.4, 0.5], [-0.2, 0.5, 0.1]], dtype=DT) * 1e-2


def ramp_hold_closed_form(t: float, t0: float, e0: torch.Tensor) -> torch.Tensor:
    """σ(t) for ε(s) = e0 min(s/t0, 1): the hereditary integral of each exponential over a linear ramp, in closed
    form (independent of the recursive update): a term (M, τ) contributes M τ/t0 (1 − e^{−t/τ}) during the ramp and
    M τ/t0 (e^{−(t−t0)/τ} − e^{−t/τ}) after it."""

    def weight(tau: float) -> float:
        if t <= t0:
            return tau / t0 * (1 - math.exp(-t / tau))
        return tau / t0 * (math.exp(-(t - t0) / tau) - math.exp(-t / tau))

    frac = min(t / t0, 1.0)
    G = G_INF * frac + sum(g * weight(tau) for g, tau in SHEAR)
    K = K_INF * frac + sum(k * weight(tau) for k, tau in BULK)
    return 2 * G * dev(e0) + K * trace(e0) * torch.eye(3, dtype=DT)


def test_ramp_and_relaxation_exact_for_any_step():
    """The recursive update is exact for piecewise-linear strain: uneven steps reproduce the closed form to
    round-off during the ramp and during relaxation."""
    m = model()
    e0 = direction()
    t0 = 1.3
    times = [0.05, 0.3, 0.31, 0.9, 1.3, 1.35, 2.0, 7.5, 30.0, 200.0]
    state = m.initial_state()
    t_prev = 0.0
    for t in times:
        s, state, _ = m.update(e0 * min(t / t0, 1.0), state, dt=t - t_prev)
        t_prev = t
        expect = ramp_hold_closed_form(t, t0, e0)
        torch.testing.assert_close(s, expect, rtol=1e-12, atol=1e-12 * float(expect.abs().max()))


def test_step_relaxation_matches_prony_series():
    """A (nearly) instantaneous step ε0 then hold: σ(t) = 2G(t) dev ε0 + K(t) tr ε0 I, with the Prony moduli."""
    m = model()
    e0 = direction()
    t_step = 1e-9
    s, state, _ = m.update(e0, m.initial_state(), dt=t_step)
    K0, G0 = m.relaxation_moduli(0.0)
    torch.testing.assert_close(s, 2 * G0 * dev(e0) + K0 * trace(e0) * torch.eye(3, dtype=DT), rtol=1e-7, atol=0)
    t = t_step
    for dt in (0.1, 0.4, 2.0, 10.0, 100.0, 1000.0):
        s, state, _ = m.update(e0, state, dt=dt)
        t += dt
        K, G = m.relaxation_moduli(t - t_step / 2)  # the step is centred in its (tiny) interval
        torch.testing.assert_close(s, 2 * G * dev(e0) + K * trace(e0) * torch.eye(3, dtype=DT), rtol=1e-8, atol=1e-12)
    # fully relaxed: the long-term moduli
    torch.testing.assert_close(s, 2 * G_INF * dev(e0) + K_INF * trace(e0) * torch.eye(3, dtype=DT), rtol=1e-8, atol=0)


def test_fast_loading_instantaneous_slow_loading_long_term():
    m = model()
    e = direction()
    K0, G0 = (float(v) for v in m.relaxation_moduli(0.0))
    # one fast step: stress and tangent with the instantaneous moduli
    s_fast, _, C_fast = m.update(e, m.initial_state(), dt=1e-8)
    torch.testing.assert_close(s_fast, 2 * G0 * dev(e) + K0 * trace(e) * torch.eye(3, dtype=DT), rtol=1e-6, atol=0)
    # a slow ramp in many steps: the long-term elastic stress
    state = m.initial_state()
    for k in range(1, 21):
        s_slow, state, C_slow = m.update(e * k / 20, state, dt=1e5)
    torch.testing.assert_close(
        s_slow, 2 * G_INF * dev(e) + K_INF * trace(e) * torch.eye(3, dtype=DT), rtol=1e-3, atol=0
    )
    I = torch.eye(3, dtype=DT)
    IxI = torch.einsum("ij,kl->ijkl", I, I)
    Isym = 0.5 * (torch.einsum("ik,jl->ijkl", I, I) + torch.einsum("il,jk->ijkl", I, I))
    iso = lambda K, G: K * IxI + 2 * G * (Isym - IxI / 3)  # noqa: E731
    torch.testing.assert_close(C_fast, iso(K0, G0), rtol=1e-6, atol=0)
    torch.testing.assert_close(C_slow, iso(K_INF, G_INF), rtol=1e-3, atol=0)
    torch.testing.assert_close(m.tangent(e), iso(K0, G0), rtol=1e-12, atol=0)


def test_inputs_not_mutated_and_round_trip(tmp_path):
    m = GeneralizedMaxwell(E_inf=1000.0, nu_inf=0.3, prony_shear=[(200.0, 1.0)])
    assert m.n_bulk == 0 and m.n_shear == 1
    assert float(m.K_inf) == pytest.approx(1000 / (3 * 0.4)) and float(m.G_inf) == pytest.approx(1000 / 2.6)
    e = direction()
    _, st, _ = m.update(e, m.initial_state(), dt=0.1)
    before = {k: v.clone() for k, v in st.items()}
    m.update(2 * e, st, dt=0.1)
    for k in st:
        assert torch.equal(st[k], before[k])
    m2 = Material.load(m.save(tmp_path / "visco.toml"))
    assert m2.to_dict() == m.to_dict()
    torch.testing.assert_close(m2.update(e, st, dt=0.2)[0], m.update(e, st, dt=0.2)[0])


def test_bad_input():
    m = model()
    st = m.initial_state()
    for bad in (None, 0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="dt"):
            m.update(direction(), st, bad)
    with pytest.raises(ValueError, match="missing"):
        m.update(direction(), {"strain": st["strain"]}, 1.0)
    with pytest.raises(ValueError, match="shear_stress"):
        m.update(direction(), {**st, "shear_stress": torch.zeros(2, 3, 3, dtype=DT)}, 1.0)
    with pytest.raises(ValueError, match="symmetric"):
        m.update(torch.triu(direction()), st, 1.0)
    with pytest.raises(ValueError, match="long-term"):
        GeneralizedMaxwell(prony_shear=SHEAR)
    with pytest.raises(ValueError, match="once"):
        GeneralizedMaxwell(1000.0, 0.3, K_inf=1.0, G_inf=1.0)
    with pytest.raises(ValueError, match="nu_inf"):
        GeneralizedMaxwell(1000.0, 0.5)
    with pytest.raises(ValueError, match="shear_times"):
        GeneralizedMaxwell(K_inf=1.0, G_inf=1.0, prony_shear=[(1.0, -2.0)])
    with pytest.raises(ValueError, match="bulk_moduli"):
        GeneralizedMaxwell(K_inf=1.0, G_inf=1.0, prony_bulk=[(-1.0, 2.0)])
    with pytest.raises(ValueError, match="pairs"):
        GeneralizedMaxwell(K_inf=1.0, G_inf=1.0, prony_shear=[(1.0, 2.0, 3.0)])


def test_dt_shape_that_does_not_broadcast_is_a_value_error():
    m = model()
    with pytest.raises(ValueError, match="dt"):
        m.update(direction().expand(2, 3, 3), m.initial_state((2,)), torch.tensor([0.1, 0.2, 0.3], dtype=DT))


def test_bad_state_values_and_need_tangent():
    """Issue 9 for the viscoelastic state: a non-symmetric strain or a shear branch stress with a trace is refused;
    need_tangent=False returns the same step without the tangent."""
    m = model()
    st = m.initial_state((2,))
    eps = torch.diag(torch.tensor([1e-3, 0.0, 0.0], dtype=DT)).expand(2, 3, 3)
    h = st["shear_stress"].clone()
    h[..., 0, 0, 0] = 5.0
    with pytest.raises(ValueError, match=r"shear_stress.*deviatoric"):
        m.update(eps, {**st, "shear_stress": h}, dt=0.1)
    s = st["strain"].clone()
    s[1, 0, 2] = 1e-3
    with pytest.raises(ValueError, match=r"strain.*symmetric"):
        m.update(eps, {**st, "strain": s}, dt=0.1)
    full = m.update(eps, st, dt=0.1)
    part = m.update(eps, st, dt=0.1, need_tangent=False)
    assert part[2] is None and full[2] is not None
    torch.testing.assert_close(part[0], full[0], rtol=0, atol=0)
    with pytest.raises(ValueError, match="floating-point torch dtype"):
        GeneralizedMaxwell(K_inf=K_INF, G_inf=G_INF, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"'shear_times' must be positive"):
        GeneralizedMaxwell(K_inf=K_INF, G_inf=G_INF, prony_shear=[(1.0, -2.0)])
    decl = m.parameter_declarations()
    assert decl["shear_times"].unit == "time" and decl["K_inf"].range_text == "> 0"


def test_from_prony_classmethod():
    m = GeneralizedMaxwell.from_prony(K_INF, G_INF, shear=SHEAR, bulk=BULK)
    assert m.to_dict() == model().to_dict()
    only_shear = GeneralizedMaxwell.from_prony(K_INF, G_INF, shear=SHEAR)
    assert only_shear.n_bulk == 0 and only_shear.n_shear == len(SHEAR)
