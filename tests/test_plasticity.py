"""J2 plasticity and Perzyna viscoplasticity: closed forms, consistent tangents vs finite differences, AD vs closed
form, batching, bad input, non-convergence."""

from __future__ import annotations

import math

import pytest
import torch

from constitutive.models import (
    ArmstrongFrederick,
    Chaboche,
    ConvergenceError,
    J2Plasticity,
    Material,
    Perzyna,
    Prager,
    Swift,
    Voce,
)
from constitutive.tensor import dev, identity4_dev

E, NU, SY = 200e3, 0.3, 250.0
G = E / (2 * (1 + NU))
KB = E / (3 * (1 - 2 * NU))
DT = torch.float64


def diag(a: float, b: float, c: float) -> torch.Tensor:
    return torch.diag(torch.tensor([a, b, c], dtype=DT))


def shear(g: float) -> torch.Tensor:
    e = torch.zeros(3, 3, dtype=DT)
    e[0, 1] = e[1, 0] = g / 2
    return e


def drive(model, strains, state=None, dt=None):
    """Apply a sequence of total strains; return stresses, states, tangents per step."""
    state = model.initial_state(strains.shape[1:-2]) if state is None else state
    out = []
    for eps in strains:
        s, state, C = model.update(eps, state, dt)
        out.append((s, state, C))
    return out


# --------------------------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("n_steps", [1, 7])
@pytest.mark.parametrize("kin", [0.0, 4000.0])
def test_uniaxial_strain_linear_hardening(n_steps, kin):
    """ε = diag(ε, 0, 0): q_trial = 2Gε, Δα = (2Gε − σ_y)/(3G + H + C), σ11 = Kε + (2/3) q (proportional path)."""
    H = 1500.0
    model = J2Plasticity(E, NU, SY, H, kinematic=Prager(kin) if kin else None)
    e_final = 0.01
    strains = torch.stack([diag(e, 0, 0) for e in torch.linspace(0, e_final, n_steps + 1, dtype=DT)[1:].tolist()])
    s, state, _ = drive(model, strains)[-1]
    q_tr = 2 * G * e_final
    dalpha = (q_tr - SY) / (3 * G + H + kin)
    q = q_tr - 3 * G * dalpha
    s11 = KB * e_final + 2 / 3 * q  # q of the deviatoric stress (relative stress + back stress)
    s22 = KB * e_final - 1 / 3 * q
    torch.testing.assert_close(s, diag(s11, s22, s22), rtol=1e-12, atol=1e-9)
    torch.testing.assert_close(state["alpha"], torch.tensor(dalpha, dtype=DT), rtol=1e-12, atol=0)


def test_simple_shear_linear_hardening():
    """ε12 = γ/2: q_trial = √3 G γ, τ = (q_trial − 3GΔα)/√3 with Δα = (q_trial − σ_y)/(3G + H)."""
    H = 800.0
    model = J2Plasticity(E, NU, SY, H)
    g = 0.006
    s, state, _ = drive(model, torch.stack([shear(g * k / 5) for k in range(1, 6)]))[-1]
    q_tr = math.sqrt(3) * G * g
    dalpha = (q_tr - SY) / (3 * G + H)
    torch.testing.assert_close(s, shear(2 * (q_tr - 3 * G * dalpha) / math.sqrt(3)), rtol=1e-12, atol=1e-9)
    torch.testing.assert_close(state["alpha"], torch.tensor(dalpha, dtype=DT), rtol=1e-12, atol=0)
    # below yield the response is linear elastic
    s_el, st_el, C_el = model.update(shear(0.5 * SY / (math.sqrt(3) * G)), model.initial_state())
    torch.testing.assert_close(s_el[0, 1], torch.tensor(0.5 * SY / math.sqrt(3), dtype=DT), rtol=1e-13, atol=0)
    assert float(st_el["alpha"]) == 0.0
    torch.testing.assert_close(C_el, model.elastic_tangent(), rtol=0, atol=1e-9)


def test_radial_loading_arbitrary_direction():
    """Proportional strain ε = t A (A with a volumetric part): the plastic strain is parallel to dev A and the
    stress follows the scalar closed form, in any number of steps."""
    A = torch.tensor([[3.0, 1.0, -0.5], [1.0, -1.0, 0.7], [-0.5, 0.7, 0.4]], dtype=DT) * 1e-3
    H = 2000.0
    model = J2Plasticity(E, NU, SY, H)
    t_final = 4.0
    for n in (1, 9):
        s, state, _ = drive(model, torch.stack([A * t_final * k / n for k in range(1, n + 1)]))[-1]
        e = A * t_final
        q_tr = math.sqrt(1.5) * 2 * G * float(dev(e).norm())
        dalpha = (q_tr - SY) / (3 * G + H)
        expect = KB * torch.trace(e) * torch.eye(3, dtype=DT) + 2 * G * dev(e) * (1 - 3 * G * dalpha / q_tr)
        torch.testing.assert_close(s, expect, rtol=1e-12, atol=1e-9)
        nvec = dev(A) / dev(A).norm()
        torch.testing.assert_close(state["eps_p"], math.sqrt(1.5) * dalpha * nvec, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "make, law",
    [
        (lambda: J2Plasticity(E, NU, SY, 1200.0), lambda a: SY + 1200.0 * a),
        (lambda: J2Plasticity(E, NU, SY, hardening=Voce(300.0, 15.0)), lambda a: SY + 300 * (1 - math.exp(-15 * a))),
        (
            lambda: J2Plasticity(E, NU, SY, 500.0, hardening=Voce(300.0, 15.0)),
            lambda a: SY + 500 * a + 300 * (1 - math.exp(-15 * a)),
        ),
        (lambda: J2Plasticity(E, NU, None, hardening=Swift(600.0, 0.004, 0.18)), lambda a: 600 * (0.004 + a) ** 0.18),
        (
            lambda: J2Plasticity(E, NU, SY, hardening=lambda a: 80.0 * torch.log1p(40.0 * a)),
            lambda a: SY + 80 * math.log1p(40 * a),
        ),
    ],
    ids=["linear", "voce", "linear+voce", "swift-classic", "user"],
)
def test_uniaxial_stress_follows_flow_curve(make, law):
    """σ = σ_f(ε − σ/E) in uniaxial stress: the strain path of the closed form gives σ = diag(σ_f, 0, 0), α = ε^p."""
    model = make()
    alphas = [0.0005, 0.002, 0.01, 0.05]
    state = model.initial_state()
    for a in alphas:
        sf = law(a)
        eps = diag(sf / E + a, -NU * sf / E - a / 2, -NU * sf / E - a / 2)
        s, state, _ = model.update(eps, state)
        torch.testing.assert_close(s, diag(sf, 0, 0), rtol=0, atol=1e-9 * sf)
        assert abs(float(state["alpha"]) - a) <= 1e-12
        # consistency: the end-of-step stress is on the yield surface
        q = math.sqrt(1.5) * float(dev(s).norm())
        assert abs(q - float(model.flow_stress(state["alpha"])[0])) <= 1e-9 * sf


def test_swift_and_voce_laws():
    """The flow stress, its slope (vs a finite difference), the classic-Swift default σ_y = K ε0^n."""
    sw = J2Plasticity(E, NU, None, hardening=Swift(600.0, 0.004, 0.18))
    assert abs(float(sw.sigma_y) - 600 * 0.004**0.18) < 1e-12
    vo = J2Plasticity(E, NU, SY, 100.0, hardening=Voce(300.0, 15.0))
    a = torch.tensor([0.0, 0.01, 0.3], dtype=DT)
    for m in (sw, vo):
        sf, d = m.flow_stress(a)
        h = 1e-7
        fd = (m.flow_stress(a + h)[0] - m.flow_stress(a - h)[0]) / (2 * h)
        torch.testing.assert_close(d[1:], fd[1:], rtol=1e-6, atol=0)
        assert float(sf[0]) == pytest.approx(float(m.sigma_y), rel=1e-14)
    torch.testing.assert_close(
        vo.flow_stress(torch.tensor(50.0, dtype=DT))[0], torch.tensor(SY + 5000 + 300.0, dtype=DT)
    )


def test_armstrong_frederick_uniaxial_converges_to_exponential():
    """Monotonic uniaxial stress with one AF back stress: σ = σ_y + (C/γ)(1 − e^{−γα}) (continuous solution);
    backward Euler converges to it at first order."""
    Ck, gk = 30e3, 150.0
    model = J2Plasticity(E, NU, SY, kinematic=ArmstrongFrederick(Ck, gk))

    def law(a):
        return SY + Ck / gk * (1 - math.exp(-gk * a))

    errors = []
    for n in (50, 200):
        state = model.initial_state()
        for k in range(1, n + 1):
            a = 0.02 * k / n
            sf = law(a)
            s, state, _ = model.update(diag(sf / E + a, -NU * sf / E - a / 2, -NU * sf / E - a / 2), state)
        errors.append(abs(float(s[0, 0] - s[1, 1]) - law(0.02)) / law(0.02))
        X11 = float(state["backstress"][0, 0, 0]) * 1.5
        assert X11 == pytest.approx(Ck / gk * (1 - math.exp(-gk * float(state["alpha"]))), rel=2e-2)
    assert errors[1] < 1e-2
    assert 3.0 < errors[0] / errors[1] < 5.0  # first order: 4x smaller steps, 4x smaller error


def test_prager_bauschinger_reverse_yield():
    """Pure kinematic hardening: the elastic range stays 2σ_y wide; reverse yielding starts when the relative stress
    reaches the other side of the surface (uniaxial strain, closed form for the reverse yield strain)."""
    Ck = 10e3
    model = J2Plasticity(E, NU, SY, kinematic=Prager(Ck))
    e1 = 0.005
    _, st, _ = model.update(diag(e1, 0, 0), model.initial_state())
    # relative stress after loading is at q = σ_y; unloading by Δε reduces q_rel by 2GΔε: reverse yield at Δε = σ_y/G
    d_rev = SY / G
    _, st_a, _ = model.update(diag(e1 - 0.999 * d_rev, 0, 0), st)
    _, st_b, _ = model.update(diag(e1 - 1.001 * d_rev, 0, 0), st)
    assert float(st_a["alpha"]) == float(st["alpha"])
    assert float(st_b["alpha"]) > float(st["alpha"])
    assert float(st_b["alpha"] - st["alpha"]) == pytest.approx(0.001 * d_rev * 2 * G / (3 * G + Ck), rel=1e-9)


# -------------------------------------------------------------------------------------------------- tangents
def _models():
    return {
        "linear": (J2Plasticity(E, NU, SY, 1000.0), None),
        "perfect": (J2Plasticity(E, NU, SY), None),
        "voce": (J2Plasticity(E, NU, SY, hardening=Voce(300.0, 20.0)), None),
        "swift": (J2Plasticity(E, NU, None, hardening=Swift(600.0, 0.004, 0.18)), None),
        "user": (J2Plasticity(E, NU, SY, hardening=lambda a: 100.0 * torch.sqrt(a + 1e-3) - 100.0 * 1e-3**0.5), None),
        "prager": (J2Plasticity(E, NU, SY, 500.0, kinematic=Prager(5e3)), None),
        "voce+prager": (J2Plasticity(E, NU, SY, hardening=Voce(200.0, 10.0), kinematic=Prager(5e3)), None),
        "af": (J2Plasticity(E, NU, SY, kinematic=ArmstrongFrederick(30e3, 200.0)), None),
        "chaboche+swift": (
            J2Plasticity(
                E, NU, None, hardening=Swift(500.0, 0.01, 0.2), kinematic=Chaboche([40e3, 5e3, 1e3], [400.0, 50.0, 0.0])
            ),
            None,
        ),
        "chaboche+voce": (
            J2Plasticity(E, NU, SY, 200.0, hardening=Voce(100.0, 30.0), kinematic=Chaboche([20e3, 3e3], [200.0, 20.0])),
            None,
        ),
        "perzyna": (Perzyna(E, NU, SY, 1000.0, eta=0.5, m=1.0), 0.01),
        "perzyna-voce-m3": (Perzyna(E, NU, SY, hardening=Voce(300.0, 20.0), eta=0.2, m=3.0), 0.05),
        "perzyna-prager": (Perzyna(E, NU, SY, 300.0, eta=0.5, m=2.0, kinematic=Prager(5e3)), 0.02),
        "perzyna-chaboche": (
            Perzyna(
                E, NU, SY, hardening=Voce(100.0, 20.0), eta=0.5, m=1.5, kinematic=Chaboche([20e3, 2e3], [200.0, 10.0])
            ),
            0.02,
        ),
    }


def _directions() -> torch.Tensor:
    g = torch.Generator().manual_seed(7)
    A = torch.randn(4, 3, 3, generator=g, dtype=DT)
    A = 0.5 * (A + A.transpose(-1, -2))
    A[0] = diag(1.0, -0.3, -0.3)
    return A / dev(A).norm(dim=(-1, -2), keepdim=True)


@pytest.mark.parametrize(
    "name", ["linear", "voce", "swift", "user", "prager", "voce+prager", "perzyna", "perzyna-voce-m3", "perzyna-prager"]
)
def test_ad_tangent_equals_closed_form(name):
    """Implicit-function-theorem AD through the converged return map == the closed-form consistent tangent."""
    model, dt = _models()[name]
    A = _directions()
    state = model.initial_state((A.shape[0],))
    for t in (1.5, -1.0):
        eps = 0.006 * t * A
        s, new_state, C = model.update(eps, state, dt)
        s_ad, st_ad, C_ad = model.ad_update(eps, state, dt)
        torch.testing.assert_close(C_ad, C, rtol=1e-10, atol=1e-6)
        torch.testing.assert_close(s_ad, s, rtol=0, atol=0)
        state = new_state
    ad_model = model.with_parameters(tangent_method="ad")
    torch.testing.assert_close(
        ad_model.update(eps, state, dt)[2], model.update(eps, state, dt)[2], rtol=1e-10, atol=1e-6
    )


def test_continuum_tangent():
    """Continuum tangent: C^e at elastic points; at plastic points C^e − 2G/(1 + h/3G) n⊗n, so C^ep : n equals
    2G h/(3G + h) n for deviatoric n -- and it differs from the consistent tangent off the normal direction."""
    H = 3000.0
    model = J2Plasticity(E, NU, SY, H)
    A = _directions()
    st = model.initial_state((4,))
    eps = 0.01 * A
    _, new, C_alg = model.update(eps, st)
    C_ep = model.continuum_tangent(eps, st)
    n = new["eps_p"] / new["eps_p"].norm(dim=(-1, -2), keepdim=True)
    Cn = torch.einsum("...ijkl,...kl->...ij", C_ep, n)
    torch.testing.assert_close(Cn, 2 * G * H / (3 * G + H) * n, rtol=1e-10, atol=1e-8)
    torch.testing.assert_close(torch.einsum("...ijkl,...kl->...ij", C_alg, n), Cn, rtol=1e-10, atol=1e-8)
    assert float((C_alg - C_ep).abs().max()) > 1e3  # the β < 1 part orthogonal to n
    torch.testing.assert_close(model.continuum_tangent(1e-4 * A, st), model.elastic_tangent((4,)))
    Idev = identity4_dev(DT)
    torch.testing.assert_close(
        model.elastic_tangent(),
        KB * torch.einsum("ij,kl->ijkl", torch.eye(3, dtype=DT), torch.eye(3, dtype=DT)) + 2 * G * Idev,
    )


@pytest.mark.parametrize("name", ["voce+prager", "chaboche+voce", "chaboche+swift"])
def test_continuum_tangent_is_the_small_step_limit(name):
    """From a plastic state, the consistent tangent of an ever smaller plastic increment tends to the continuum
    tangent at first order (checks the back-stress term of h)."""
    model, _ = _models()[name]
    A = _directions()
    _, st, _ = model.update(0.01 * A, model.initial_state((4,)))
    errors = []
    for h in (1e-5, 1e-6):
        eps = (0.01 + h) * A
        C_alg = model.update(eps, st)[2]
        C_ep = model.continuum_tangent(eps, st)
        errors.append(float(((C_alg - C_ep).abs().amax((-1, -2, -3, -4)) / C_alg.abs().amax((-1, -2, -3, -4))).max()))
    assert errors[1] < 1e-3
    assert 7.0 < errors[0] / errors[1] < 13.0


# ------------------------------------------------------------------------------------------------- Perzyna
def test_perzyna_rate_independent_limit_and_overstress_law():
    """η/Δt → 0 recovers J2; a finite η satisfies q = σ_f(α)(1 + (ηΔα/Δt)^{1/m}) at the end of the step and gives a
    stress between the elastic trial and the J2 stress."""
    A = _directions()
    eps = 0.008 * A
    j2 = J2Plasticity(E, NU, SY, 1000.0, hardening=Voce(200.0, 20.0))
    s_j2, st_j2, C_j2 = j2.update(eps, j2.initial_state((4,)))
    fast = Perzyna(E, NU, SY, 1000.0, hardening=Voce(200.0, 20.0), eta=1e-12, m=2.0)
    s_v, st_v, C_v = fast.update(eps, fast.initial_state((4,)), dt=1.0)
    torch.testing.assert_close(s_v, s_j2, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(C_v, C_j2, rtol=1e-5, atol=1e-2)
    for eta, m, dt in [(0.3, 1.0, 0.1), (0.3, 2.5, 0.01)]:
        model = Perzyna(E, NU, SY, 1000.0, hardening=Voce(200.0, 20.0), eta=eta, m=m)
        s, st, _ = model.update(eps, model.initial_state((4,)), dt=dt)
        q = math.sqrt(1.5) * dev(s).norm(dim=(-1, -2))
        da = st["alpha"]
        sf = model.flow_stress(da)[0]
        torch.testing.assert_close(q, sf * (1 + (eta * da / dt) ** (1 / m)), rtol=1e-10, atol=0)
        q_j2 = math.sqrt(1.5) * dev(s_j2).norm(dim=(-1, -2))
        q_el = math.sqrt(1.5) * 2 * G * dev(eps).norm(dim=(-1, -2))
        assert bool(((q > q_j2) & (q < q_el)).all())


def test_perzyna_with_back_stresses():
    """With Chaboche back stresses: the η → 0 limit is the J2 model, and a finite η satisfies the overstress law
    q(dev σ − ΣX) = σ_f(α)(1 + (ηΔα/Δt)^{1/m}) at the end of the step."""
    kin = Chaboche([20e3, 2e3], [200.0, 10.0])
    A = _directions()
    j2 = J2Plasticity(E, NU, SY, hardening=Voce(100.0, 20.0), kinematic=kin)
    fast = Perzyna(E, NU, SY, hardening=Voce(100.0, 20.0), eta=1e-12, m=1.5, kinematic=kin)
    slow = Perzyna(E, NU, SY, hardening=Voce(100.0, 20.0), eta=0.5, m=1.5, kinematic=kin)
    st_j, st_f, st_s = (m.initial_state((4,)) for m in (j2, fast, slow))
    for t in (1.0, -1.0):
        eps = 0.008 * t * A
        s_j, st_j, C_j = j2.update(eps, st_j)
        s_f, st_f, C_f = fast.update(eps, st_f, 1.0)
        torch.testing.assert_close(s_f, s_j, rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(C_f, C_j, rtol=1e-5, atol=1e-2)
        alpha_n = st_s["alpha"]
        s, st_s, _ = slow.update(eps, st_s, 0.05)
        q = math.sqrt(1.5) * (dev(s) - st_s["backstress"].sum(-3)).norm(dim=(-1, -2))
        da = st_s["alpha"] - alpha_n
        torch.testing.assert_close(
            q, slow.flow_stress(st_s["alpha"])[0] * (1 + (0.5 * da / 0.05) ** (1 / 1.5)), rtol=1e-10, atol=0
        )


def test_perzyna_needs_dt():
    model = Perzyna(E, NU, SY, 0.0, eta=1.0, m=1.0)
    st = model.initial_state()
    for bad in (None, 0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="dt"):
            model.update(diag(0.01, 0, 0), st, bad)
    with pytest.raises(ValueError, match="'m'"):
        Perzyna(E, NU, SY, 0.0, eta=1.0, m=0.5)
    with pytest.raises(ValueError, match="'eta'"):
        Perzyna(E, NU, SY, 0.0, eta=0.0, m=1.0)


# ---------------------------------------------------------------------------------------- batching, state


def test_non_convergence_raises_with_diagnostics_and_keeps_state():
    model = J2Plasticity(E, NU, SY, hardening=Voce(300.0, 50.0), max_iter=1)
    A = _directions()
    eps = torch.cat([1e-5 * A[:1], 0.02 * A[1:]])  # point 0 elastic, others plastic
    st = model.initial_state((4,))
    _, st, _ = model.with_parameters(max_iter=50).update(0.5 * eps, st)
    before = {k: v.clone() for k, v in st.items()}
    with pytest.raises(ConvergenceError) as info:
        model.update(eps, st)
    diag_ = info.value.diagnostics
    assert (0,) not in diag_["points"] and len(diag_["points"]) >= 1
    assert diag_["residuals"].numel() == len(diag_["points"]) and bool((diag_["residuals"] > 0).all())
    assert diag_["iterations"] == 1 and "did not converge" in str(info.value)
    for k in st:
        assert torch.equal(st[k], before[k])
    # the same step with enough iterations converges
    model.with_parameters(max_iter=50).update(eps, st)


def test_bad_input():
    with pytest.raises(ValueError, match="'nu'"):
        J2Plasticity(E, 0.5, SY)
    with pytest.raises(ValueError, match="'sigma_y'"):
        J2Plasticity(E, NU, -1.0)
    with pytest.raises(ValueError, match="'sigma_y'"):
        J2Plasticity(E, NU)
    with pytest.raises(ValueError, match="'H'"):
        J2Plasticity(E, NU, SY, -5.0)
    with pytest.raises(ValueError, match="hardening"):
        J2Plasticity(E, NU, SY, hardening="johnson-cook")
    with pytest.raises(ValueError, match="'b'"):
        J2Plasticity(E, NU, SY, hardening=Voce(100.0, -1.0))
    with pytest.raises(ValueError, match="same length|as many"):
        J2Plasticity(E, NU, SY, kinematic=Chaboche([1.0, 2.0], [1.0]))
    with pytest.raises(ValueError, match="'gamma'"):
        J2Plasticity(E, NU, SY, kinematic=ArmstrongFrederick(1e3, -1.0))
    with pytest.raises(ValueError, match="kinematic"):
        J2Plasticity(E, NU, SY, kinematic="prager")
    with pytest.raises(ValueError, match="max_iter"):
        J2Plasticity(E, NU, SY, max_iter=0)
    model = J2Plasticity(E, NU, SY)
    st = model.initial_state()
    with pytest.raises(ValueError, match="symmetric"):
        model.update(torch.tensor([[0, 1e-3, 0], [0, 0, 0], [0, 0, 0]], dtype=DT), st)
    with pytest.raises(ValueError, match="NaN"):
        model.update(diag(float("nan"), 0, 0), st)
    with pytest.raises(ValueError, match="shape"):
        model.update(torch.zeros(3, 2, dtype=DT), st)
    with pytest.raises(ValueError, match="missing 'alpha'"):
        model.update(diag(1e-3, 0, 0), {"eps_p": st["eps_p"], "backstress": st["backstress"]})
    with pytest.raises(ValueError, match="backstress"):
        model.update(diag(1e-3, 0, 0), {**st, "backstress": torch.zeros(2, 3, 3, dtype=DT)})
    with pytest.raises(ValueError, match="batch"):
        model.update(torch.zeros(4, 3, 3, dtype=DT), model.initial_state((3,)))


def test_serialisation_round_trip(tmp_path):
    m = J2Plasticity(E, NU, SY, 100.0, hardening=Voce(300.0, 15.0), kinematic=Chaboche([20e3, 3e3], [200.0, 0.0]))
    path = m.save(tmp_path / "j2.toml", name="test steel")
    m2 = Material.load(path)
    assert isinstance(m2, J2Plasticity) and m2.to_dict() == m.to_dict()
    eps = 0.01 * _directions()
    torch.testing.assert_close(m2.update(eps, m2.initial_state((4,)))[0], m.update(eps, m.initial_state((4,)))[0])
    p = Perzyna(E, NU, None, hardening=Swift(600.0, 0.004, 0.18), eta=0.1, m=2.0)
    assert Material.from_dict(p.to_dict()).to_dict() == p.to_dict()
    user = J2Plasticity(E, NU, SY, hardening=lambda a: 10.0 * a)
    assert user.with_parameters(sigma_y=300.0).hardening == "user"
    with pytest.raises(ValueError, match="callable"):
        Material.from_dict(user.to_dict())


def test_parameter_gradient_through_return_map():
    """The stress is differentiable in the parameters (implicit function theorem through the Newton solution):
    autograd d σ11 / d(Q, b, sigma_y) equals central differences."""
    params = {"sigma_y": 250.0, "Q": 300.0, "b": 15.0}
    eps = 0.01 * _directions()[:2]

    def s11(values):
        m = J2Plasticity(E, NU, values["sigma_y"], hardening="voce", Q=values["Q"], b=values["b"])
        return m.update(eps, m.initial_state((2,)))[0][..., 0, 0].sum()

    leaves = {k: torch.tensor(v, dtype=DT, requires_grad=True) for k, v in params.items()}
    grads = torch.autograd.grad(s11(leaves), list(leaves.values()))
    for (k, v), g in zip(params.items(), grads):
        h = 1e-6 * v
        fd = (s11({**params, k: v + h}) - s11({**params, k: v - h})) / (2 * h)
        assert float(g) == pytest.approx(float(fd), rel=1e-6, abs=1e-9)


def test_virgin_stress_and_tangent_shortcuts():
    """Material.stress/tangent/ad_tangent of a path-dependent model: one step from the virgin state."""
    model = J2Plasticity(E, NU, SY, hardening=Voce(300.0, 20.0))
    eps = 0.01 * _directions()
    s, _, C = model.update(eps, model.initial_state((4,)))
    torch.testing.assert_close(model.stress(eps), s)
    torch.testing.assert_close(model.tangent(eps), C)
    torch.testing.assert_close(model.ad_tangent(eps), C, rtol=1e-10, atol=1e-6)


def test_zero_deviatoric_trial_stress_has_finite_derivatives():
    """A purely volumetric strain (q_trial = 0, e.g. a hydrostatic path or the virgin point itself) is elastic: the
    AD tangent is the elastic one and the parameter gradient is the elastic one, not NaN (the norm's kink at 0)."""
    for model in (J2Plasticity(E, NU, SY, 1000.0, tangent_method="ad"), J2Plasticity(E, NU, SY, 1000.0)):
        for eps in (torch.zeros(2, 3, 3, dtype=DT), 1e-3 * torch.eye(3, dtype=DT).expand(2, 3, 3)):
            C_ad = model.ad_update(eps, model.initial_state((2,)))[2]
            torch.testing.assert_close(C_ad, model.elastic_tangent((2,)), rtol=1e-13, atol=1e-9)
    E_leaf = torch.tensor(E, dtype=DT, requires_grad=True)
    model = J2Plasticity(E_leaf, NU, SY, 1000.0)
    s = model.update(1e-3 * torch.eye(3, dtype=DT), model.initial_state())[0]
    (g,) = torch.autograd.grad(s[0, 0], E_leaf)
    assert float(g) == pytest.approx(3e-3 / (3 * (1 - 2 * NU)), rel=1e-12)  # d(K tr ε)/dE


def test_per_point_dt_broadcasts_like_the_batch():
    """Perzyna's dt may carry batch axes that the strain and state lack (as in GeneralizedMaxwell): the batch is
    the broadcast of all three, each point equal to its own scalar-dt update; incompatible shapes: ValueError."""
    model = Perzyna(E, NU, SY, 1000.0, hardening=Voce(200.0, 20.0), eta=0.3, m=2.0)
    eps = diag(0.01, -0.004, -0.003)
    dts = torch.tensor([0.01, 0.2, 5.0], dtype=DT)
    s, st, C = model.update(eps, model.initial_state(), dts)
    assert s.shape == (3, 3, 3) and st["alpha"].shape == (3,) and C.shape == (3, 3, 3, 3, 3)
    for i in range(3):
        s_i, st_i, C_i = model.update(eps, model.initial_state(), float(dts[i]))
        torch.testing.assert_close(s[i], s_i, rtol=1e-14, atol=1e-10)
        torch.testing.assert_close(C[i], C_i, rtol=1e-12, atol=1e-8)
        torch.testing.assert_close(st["alpha"][i], st_i["alpha"], rtol=1e-14, atol=0)
    with pytest.raises(ValueError, match="dt"):
        model.update(eps.expand(2, 3, 3), model.initial_state((2,)), dts)


def test_kinematic_moduli_as_0d_tensors():
    """C and gamma given as 0-d tensors (e.g. calibration leaves) make one back stress, like floats do."""
    a = J2Plasticity(E, NU, SY, C=torch.tensor(1e4, dtype=DT), gamma=torch.tensor(50.0, dtype=DT))
    b = J2Plasticity(E, NU, SY, kinematic=ArmstrongFrederick(1e4, 50.0))
    assert a.to_dict() == b.to_dict() and a.n_backstress == 1


def test_swift_default_sigma_y_names_the_bad_swift_parameter():
    """σ_y = K ε0^n is derived from the Swift parameters: a bad one is named, not reported as a NaN σ_y (the law
    object validates its parameters when built; the flat keywords are checked the same way)."""
    for args, name in (
        ((600.0, -0.004, 0.18), "eps0"),
        ((-600.0, 0.004, 0.18), "K"),
        ((600.0, 0.004, 0.0), "'n'"),
    ):
        with pytest.raises(ValueError, match=name):
            J2Plasticity(E, NU, None, hardening=Swift(*args))
        with pytest.raises(ValueError, match=name):
            J2Plasticity(E, NU, None, hardening="swift", **dict(zip(("K", "eps0", "n"), args)))


def test_kinematic_records_may_hold_differentiable_tensors():
    """Chaboche/ArmstrongFrederick records holding tensors that require grad (calibration leaves) keep the graph:
    the gradient equals the one through the C=/gamma= parameters."""
    eps = 0.01 * _directions()[:2]

    def grad_of_stress(make):
        leaf = torch.tensor([20e3, 3e3], dtype=DT, requires_grad=True)
        model = make(leaf)
        s = model.update(eps, model.initial_state((2,)))[0]
        return torch.autograd.grad(s[..., 0, 0].sum(), leaf)[0]

    gam = [200.0, 20.0]
    ref = grad_of_stress(lambda c: J2Plasticity(E, NU, SY, C=c, gamma=torch.tensor(gam, dtype=DT)))
    assert bool((ref.abs() > 0).all())
    torch.testing.assert_close(grad_of_stress(lambda c: J2Plasticity(E, NU, SY, kinematic=Chaboche(c, gam))), ref)
    torch.testing.assert_close(
        grad_of_stress(
            lambda c: J2Plasticity(
                E, NU, SY, kinematic=[ArmstrongFrederick(c[0], gam[0]), ArmstrongFrederick(c[1], gam[1])]
            )
        ),
        ref,
    )


def test_bad_state_values_are_refused_and_nothing_changes():
    """Issue 9: a negative accumulated plastic strain, a plastic strain with a trace or an asymmetry, and back
    stresses that are not symmetric and deviatoric are refused (tolerances scaled to the dtype), naming the entry."""
    model = J2Plasticity(E, NU, SY, kinematic=Prager(1e4))
    st = model.initial_state((2,))
    eps = diag(3e-3, -1e-3, -1e-3).expand(2, 3, 3)
    bad_alpha = {**st, "alpha": torch.tensor([0.0, -1e-4], dtype=DT)}
    bad_trace = {**st, "eps_p": diag(1e-3, 0, 0).expand(2, 3, 3).clone()}
    asym = torch.zeros(2, 3, 3, dtype=DT)
    asym[1, 0, 1] = 1e-3
    bad_sym = {**st, "eps_p": asym}
    X = torch.zeros(2, 1, 3, 3, dtype=DT)
    X[0, 0, 0, 1] = 10.0
    bad_X_sym = {**st, "backstress": X}
    bad_X_dev = {**st, "backstress": diag(10.0, 10.0, 10.0).expand(2, 1, 3, 3).clone()}
    for state, match in (
        (bad_alpha, r"alpha.*non-negative"),
        (bad_trace, r"eps_p.*deviatoric"),
        (bad_sym, r"eps_p.*symmetric"),
        (bad_X_sym, r"backstress.*symmetric"),
        (bad_X_dev, r"backstress.*deviatoric"),
    ):
        before = {k: v.clone() for k, v in state.items()}
        with pytest.raises(ValueError, match=match):
            model.update(eps, state)
        for k in state:
            assert torch.equal(state[k], before[k])
    # round-off-sized traces (a state after many steps) pass, in float64 and float32
    ok = {**st, "eps_p": diag(1e-3 + 1e-18, -5e-4, -5e-4).expand(2, 3, 3).clone()}
    model.update(eps, ok)
    m32 = J2Plasticity(E, NU, SY, dtype=torch.float32)
    m32.update(eps.float(), {**m32.initial_state((2,)), "eps_p": diag(1e-3 + 1e-10, -5e-4, -5e-4).float()})


def test_need_tangent_false_skips_the_tangent_and_returns_the_same_step():
    """update(..., need_tangent=False) (residual-only calls) returns (stress, new_state, None), identical to the full
    update, for J2 with every kind of hardening and for Perzyna."""
    eps = 0.01 * _directions()
    for model, dt in (
        (J2Plasticity(E, NU, SY, 500.0), None),
        (J2Plasticity(E, NU, SY, hardening=Voce(300.0, 15.0), kinematic=ArmstrongFrederick(2e4, 100.0)), None),
        (Perzyna(E, NU, SY, 100.0, eta=0.1, m=2.0), 0.05),
    ):
        st = model.initial_state((eps.shape[0],))
        s_full, new_full, C = model.update(eps, st, dt)
        s, new, none = model.update(eps, st, dt, need_tangent=False)
        assert none is None and C is not None
        torch.testing.assert_close(s, s_full, rtol=0, atol=0)
        for k in new_full:
            torch.testing.assert_close(new[k], new_full[k], rtol=0, atol=0)


def test_integer_and_overflowing_dtypes_are_refused():
    """Issue 9: an integer dtype would truncate nu = 0.3 to 0; a float16 overflow is reported as one."""
    with pytest.raises(ValueError, match="floating-point torch dtype"):
        J2Plasticity(E, NU, SY, dtype=torch.int64)
    with pytest.raises(ValueError, match="floating-point torch dtype"):
        Perzyna(E, NU, SY, eta=1.0, dtype=torch.int32)
    with pytest.raises(ValueError, match=r"'E' = 200000.0 overflows torch.float16"):
        J2Plasticity(E, NU, SY, dtype=torch.float16)
    with pytest.raises(ValueError, match=r"'nu' must be in \(-1, 0.5\), got 0.7"):
        J2Plasticity(E, 0.7, SY)


def test_hardening_laws_are_objects_with_declared_parameters():
    """Voce/Swift/Linear are HardeningLaw objects registered by name; the model holds the law's parameters (the very
    tensors: gradients reach them) and lists their declarations next to its own."""
    from constitutive.models import HARDENING_LAWS, HardeningLaw

    assert {"linear", "voce", "swift", "user"} <= set(HARDENING_LAWS)
    law = Voce(300.0, 15.0)
    assert isinstance(law, HardeningLaw) and float(law.Q) == 300.0 and law.name == "voce"
    alpha = torch.tensor([0.0, 0.01, 0.1], dtype=DT)
    R, dR = law.flow_stress(alpha)
    torch.testing.assert_close(R, 300.0 * (1 - torch.exp(-15.0 * alpha)))
    torch.testing.assert_close(dR, 4500.0 * torch.exp(-15.0 * alpha))
    Q = torch.tensor(300.0, dtype=DT, requires_grad=True)
    model = J2Plasticity(E, NU, SY, hardening="voce", Q=Q, b=15.0)
    assert model.parameters["Q"] is Q and model.law.parameters["Q"] is Q
    decl = model.parameter_declarations()
    assert list(decl) == ["E", "nu", "sigma_y", "H", "Q", "b"]
    assert decl["b"].range_text == "> 0" and decl["Q"].unit == "stress"
    with pytest.raises(ValueError, match="once"):
        J2Plasticity(E, NU, SY, hardening=Voce(300.0, 15.0), Q=10.0)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['Q'\]"):
        J2Plasticity(E, NU, SY, hardening="swift", K=600.0, eps0=0.01, n=0.2, Q=10.0)
    with pytest.raises(ValueError, match="sigma_y"):
        J2Plasticity(E, NU, None, hardening=Voce(300.0, 15.0))
