"""Temperature (constitutive.models.thermal): tables, thermal strain, parameters at T_{n+1}, DDSDDT.

Verification against hand calculations: the constrained bar heated uniformly (σ11 = −E α ΔT; the secant form with
tables), the temperature at which it starts to yield (closed form on the interval that holds it), and a temperature
ramp with temperature-dependent yield stress and hardening against its closed-form history; dσ/dT against central
finite differences in T for every model class; isothermal use equal to the wrapped model; TOML round trip; bad input.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from constitutive.models import (
    Chaboche,
    DruckerPrager,
    FiniteStrainJ2,
    GeneralizedMaxwell,
    Hill48,
    J2Plasticity,
    LemaitreDamage,
    LinearElastic,
    Material,
    ModifiedCamClay,
    MohrCoulomb,
    NeoHookean,
    Orthotropic,
    Perzyna,
    TemperatureFunction,
    TemperatureTable,
    ThermoMechanical,
    Voce,
    load,
)

DT = torch.float64
I3 = torch.eye(3, dtype=DT)


def alpha_function(T: torch.Tensor) -> torch.Tensor:
    """A secant expansion coefficient as a function (importable as ``test_thermal:alpha_function``)."""
    return 1.1e-5 + 2e-9 * T


# --------------------------------------------------------------------------------------------- the bar
def constrained_bar(model: ThermoMechanical, state: dict, T: float, x0: float = 0.0) -> tuple:
    """One increment of the bar held axially (ε11 = 0) with free lateral faces (σ22 = σ33 = 0): the lateral strain
    x = ε22 = ε33 (equal by symmetry) by Newton on σ22(x) = 0 with the consistent tangent, dσ22/dx = C2222 + C2233.
    Returns ``(σ, new_state, x)``."""
    x = torch.tensor(x0, dtype=DT)
    for _ in range(25):
        eps = torch.diag(torch.stack([torch.zeros((), dtype=DT), x, x]))
        s, st, C = model.update(eps, state, temperature=T)
        r = s[1, 1]
        if abs(float(r)) <= 1e-10 * max(1.0, float(s.abs().max())):
            return s, st, float(x)
        x = x - r / (C[1, 1, 1, 1] + C[1, 1, 2, 2])
    raise AssertionError(f"lateral Newton did not converge at T = {T}")


def test_constrained_bar_elastic_constant_properties() -> None:
    E, nu, alpha, T_ref = 200e3, 0.3, 1.2e-5, 20.0
    bar = ThermoMechanical(LinearElastic(E=E, nu=nu), expansion=alpha, reference_temperature=T_ref)
    state = bar.initial_state()
    x = 0.0
    for T in (50.0, 120.0, 300.0):
        s, _, x = constrained_bar(bar, state, T, x)
        torch.testing.assert_close(s[0, 0], torch.tensor(-E * alpha * (T - T_ref), dtype=DT), rtol=1e-13, atol=0)
        # lateral strain: the free thermal strain plus the Poisson contraction of the axial stress
        assert x == pytest.approx(alpha * (T - T_ref) * (1 + nu), rel=1e-12)
        assert float(s[1, 1].abs()) < 1e-9 and float(s[2, 2].abs()) < 1e-9


def test_constrained_bar_elastic_tables_secant_form() -> None:
    E = TemperatureTable([0.0, 400.0, 800.0], [210e3, 150e3, 40e3])
    alpha = TemperatureTable([0.0, 300.0, 900.0], [1.1e-5, 1.3e-5, 1.5e-5])
    T_ref, T_I = 20.0, 60.0
    bar = ThermoMechanical(
        LinearElastic(E=210e3, nu=0.3),
        parameters={"E": E},
        expansion=alpha,
        reference_temperature=T_ref,
        initial_temperature=T_I,
    )
    state = bar.initial_state()
    torch.testing.assert_close(state["temperature"], torch.tensor(T_I, dtype=DT))
    s0, _, _ = constrained_bar(bar, state, T_I)
    assert float(s0.abs().max()) < 1e-9  # zero thermal strain at T_I
    for T in (150.0, 450.0, 1000.0):  # 1000: beyond both tables (constant extrapolation)
        s, st, _ = constrained_bar(bar, state, T)

        def a(t: float) -> float:
            return float(alpha(torch.tensor(t, dtype=DT)))

        # by hand: the tables' linear interpolation
        E_T = {150.0: 210e3 - 60e3 * 150 / 400, 450.0: 150e3 - 110e3 * 50 / 400, 1000.0: 40e3}[T]
        a_T = {150.0: 1.1e-5 + 0.2e-5 * 150 / 300, 450.0: 1.3e-5 + 0.2e-5 * 150 / 600, 1000.0: 1.5e-5}[T]
        assert a(T) == pytest.approx(a_T, rel=1e-14)
        expected = -E_T * (a_T * (T - T_ref) - a(T_I) * (T_I - T_ref))
        assert float(s[0, 0]) == pytest.approx(expected, rel=1e-12)
        assert float(st["temperature"]) == T


def _yield_onset(T_I: float, E: float, alpha: float, temps: list[float], sy: list[float]) -> float:
    """By hand: E α (T − T_I) = σ_y(T) with σ_y piecewise linear; on the interval [T_k, T_k+1] where the sign of
    E α (T − T_I) − σ_y(T) changes, σ_y = σ_k + s (T − T_k), s = (σ_k+1 − σ_k)/(T_k+1 − T_k), so
    T* = (E α T_I + σ_k − s T_k) / (E α − s)."""
    for k in range(len(temps) - 1):
        g0 = E * alpha * (temps[k] - T_I) - sy[k]
        g1 = E * alpha * (temps[k + 1] - T_I) - sy[k + 1]
        if g0 <= 0 < g1:
            s = (sy[k + 1] - sy[k]) / (temps[k + 1] - temps[k])
            return (E * alpha * T_I + sy[k] - s * temps[k]) / (E * alpha - s)
    raise AssertionError("no yield onset in the table")


def test_yield_onset_temperature_by_hand() -> None:
    E, alpha, T_I = 200e3, 1.2e-5, 20.0
    temps, sy = [20.0, 100.0, 200.0, 300.0], [300.0, 280.0, 200.0, 150.0]
    T_star = _yield_onset(T_I, E, alpha, temps, sy)
    assert 100.0 < T_star < 200.0  # E α ΔT reaches the falling σ_y between 100 and 200 °C
    bar = ThermoMechanical(
        J2Plasticity(E=E, nu=0.3, sigma_y=300.0, H=2000.0),
        parameters={"sigma_y": {"temperature": temps, "value": sy}},
        expansion=alpha,
        reference_temperature=T_I,
    )
    state = bar.initial_state()
    below, _, x = constrained_bar(bar, state, T_star - 1e-6)
    _, st_below, _ = constrained_bar(bar, state, T_star - 1e-6, x)
    _, st_above, _ = constrained_bar(bar, state, T_star + 1e-6, x)
    assert float(st_below["alpha"]) == 0.0  # still elastic just below T*
    assert 0.0 < float(st_above["alpha"]) < 1e-9  # plastic just above
    assert float(-below[0, 0]) == pytest.approx(E * alpha * (T_star - 1e-6 - T_I), rel=1e-12)
    sy_star = float(bar.model_at(T_star).sigma_y)  # at T*, the elastic stress meets the yield stress
    assert sy_star == pytest.approx(E * alpha * (T_star - T_I), rel=1e-12)


def test_temperature_ramp_against_closed_form_history() -> None:
    r"""Constrained bar under J2 with linear hardening, σ_f = σ_y(T) + H(T) α, E(T), constant ν, α_th, heated in steps.

    Uniaxial stress with ε11 = 0: ε11 = σ/E + ε^p_11 + ε_th = 0, with ε^p_11 = −α (compression) while yielding. On
    the yield surface −σ = σ_y + H α, so α = (E ε_th − σ_y)/(E + H) =: g(T). Backward Euler with the parameters at
    T_{n+1} yields iff the trial |σ| = E (ε_th − α_n) exceeds σ_y + H α_n, i.e. iff g(T_{n+1}) > α_n; so
    α_{n+1} = max(α_n, g(T_{n+1}), 0) exactly (the history is the running maximum of g), and
    σ11 = −E(T) (ε_th(T) − α) in every step (elastic or plastic). Compared at every step to round-off.
    """
    E_tab = TemperatureTable([20.0, 300.0, 600.0], [200e3, 170e3, 90e3])
    sy_tab = TemperatureTable([20.0, 200.0, 500.0, 600.0], [250.0, 240.0, 120.0, 60.0])
    H_tab = TemperatureTable([20.0, 600.0], [5000.0, 500.0])
    alpha = 1.3e-5
    bar = ThermoMechanical(
        J2Plasticity(E=200e3, nu=0.3, sigma_y=250.0, H=5000.0),
        parameters={"E": E_tab, "sigma_y": sy_tab, "H": H_tab},
        expansion=alpha,
        reference_temperature=20.0,
    )
    state, x, a_hand, plastic_steps = bar.initial_state(), 0.0, 0.0, 0
    temps = torch.linspace(20.0, 600.0, 30, dtype=DT)[1:]
    for T in temps.tolist():
        s, state, x = constrained_bar(bar, state, T, x)
        t = torch.tensor(T, dtype=DT)
        E, sy, H, eps_th = float(E_tab(t)), float(sy_tab(t)), float(H_tab(t)), alpha * (T - 20.0)
        g = (E * eps_th - sy) / (E + H)
        plastic_steps += g > a_hand
        a_hand = max(a_hand, g, 0.0)
        assert float(state["alpha"]) == pytest.approx(a_hand, rel=1e-10, abs=1e-15)
        assert float(s[0, 0]) == pytest.approx(-E * (eps_th - a_hand), rel=1e-10)
        assert float(state["eps_p"][0, 0]) == pytest.approx(-a_hand, rel=1e-10, abs=1e-15)
    assert 5 < plastic_steps < len(temps)  # elastic, then plastic steps


# ------------------------------------------------------------------------------------------ DDSDDT vs FD
def _sym(seed: int, n: int, scale: float) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, 3, 3, generator=g, dtype=DT) * scale
    return 0.5 * (a + a.mT)


def _tab(values: tuple[float, float], temps: tuple[float, float] = (0.0, 500.0)) -> TemperatureTable:
    return TemperatureTable(list(temps), list(values))


# model, its temperature-dependent parameters, strains of a first and a second step (the second checked), dt
DDSDDT_CASES = {
    "LinearElastic": (LinearElastic(E=210e3, nu=0.3), {"E": _tab((210e3, 150e3)), "nu": _tab((0.3, 0.35))}, 1e-3),
    "Orthotropic": (
        Orthotropic(E1=150e3, E2=10e3, E3=10e3, nu12=0.3, nu13=0.3, nu23=0.4, G12=5e3, G13=5e3, G23=3.5e3),
        {"E1": _tab((150e3, 120e3)), "G12": _tab((5e3, 4e3))},
        1e-3,
    ),
    "J2-voce-chaboche": (
        J2Plasticity(E=210e3, nu=0.3, sigma_y=250.0, hardening=Voce(100.0, 20.0), kinematic=Chaboche([2e4], [100.0])),
        {"sigma_y": _tab((250.0, 150.0)), "Q": _tab((100.0, 60.0)), "C": _tab(([2e4], [1e4]))},
        4e-3,
    ),
    "Perzyna": (
        Perzyna(E=210e3, nu=0.3, sigma_y=250.0, H=1000.0, eta=10.0, m=1.0),
        {"sigma_y": _tab((250.0, 150.0)), "eta": _tab((10.0, 30.0))},
        4e-3,
    ),
    "GeneralizedMaxwell": (
        GeneralizedMaxwell(E_inf=1e3, nu_inf=0.3, prony_shear=[(0.4, 1.0)]),
        {"G_inf": _tab((400.0, 250.0)), "shear_moduli": _tab(([300.0], [200.0]))},
        4e-3,
    ),
    "Hill48": (
        Hill48(E=210e3, nu=0.3, sigma_y=250.0, F=0.4, H_iso=1000.0),
        {"sigma_y": _tab((250.0, 150.0)), "F": _tab((0.4, 0.6))},
        4e-3,
    ),
    "DruckerPrager": (
        DruckerPrager(E=50e3, nu=0.25, beta=30.0, sigma_c=60.0, H=500.0, psi=10.0),
        {"sigma_c": _tab((60.0, 40.0)), "beta": _tab((30.0, 25.0))},
        4e-3,
    ),
    "MohrCoulomb": (
        MohrCoulomb(E=50e3, nu=0.25, phi=30.0, c=20.0, H=500.0, psi=10.0),
        {"c": _tab((20.0, 12.0)), "E": _tab((50e3, 35e3))},
        4e-3,
    ),
    "ModifiedCamClay": (
        ModifiedCamClay(kappa=0.02, lmbda=0.2, M=1.0, e0=1.0, p0=100.0, pc0=150.0, nu=0.3),
        {"M": _tab((1.0, 1.2)), "kappa": _tab((0.02, 0.025))},
        3e-3,
    ),
    "LemaitreDamage": (
        LemaitreDamage(E=210e3, nu=0.3, sigma_y=250.0, H=1000.0, S=2.0),
        {"sigma_y": _tab((250.0, 150.0)), "S": _tab((2.0, 1.5))},
        4e-3,
    ),
}


@pytest.mark.parametrize("name", list(DDSDDT_CASES))
def test_ddsddt_matches_central_differences(name: str) -> None:
    model, deps, scale = DDSDDT_CASES[name]
    thermo = ThermoMechanical(model, parameters=deps, expansion=_tab((1.2e-5, 1.6e-5)), reference_temperature=20.0)
    dt = 0.5 if name in ("Perzyna", "GeneralizedMaxwell") else None
    e1, e2 = _sym(1, 3, scale), _sym(2, 3, scale)
    if name == "ModifiedCamClay":  # compression: loaded towards the critical state
        e1, e2 = e1 - 2e-3 * I3, e2 - 4e-3 * I3
    _, state, _ = thermo.update(e1, thermo.initial_state((3,)), dt, temperature=150.0)
    T = 230.0  # inside one interval of every table
    s, new_state, C, dsdT = thermo.update_thermal(e2, state, dt, temperature=T)
    s_u, _, C_u = thermo.update(e2, state, dt, temperature=T)
    assert torch.equal(s, s_u) and torch.equal(C, C_u) and float(new_state["temperature"][0]) == T

    def at(t: float) -> torch.Tensor:
        return thermo.update(e2, state, dt, False, temperature=t)[0]

    h = 0.1  # Richardson-extrapolated central differences (fourth order)
    fd = (8 * (at(T + h) - at(T - h)) - (at(T + 2 * h) - at(T - 2 * h))) / (12 * h)
    torch.testing.assert_close(dsdT, fd, rtol=1e-6, atol=1e-6 * float(fd.abs().max()))
    assert float(dsdT.abs().max()) > 1e-3  # the check is not vacuous
    if "alpha" in state:  # plastic points in the checked step
        assert bool((new_state["alpha"] > state["alpha"]).any())


def test_ddsddt_elastic_closed_form_and_finite_strain_parameters() -> None:
    # LinearElastic with E(T) and the thermal strain: dσ/dT = (dE/dT / E) σ − C : dε_th/dT, by hand
    E_tab, a_tab = _tab((210e3, 110e3)), _tab((1.2e-5, 2.2e-5))
    thermo = ThermoMechanical(LinearElastic(E=210e3, nu=0.3), parameters={"E": E_tab}, expansion=a_tab)
    eps = _sym(3, 4, 1e-3)
    T = 200.0
    s, _, C, dsdT = thermo.update_thermal(eps, thermo.initial_state((4,)), temperature=T)
    dE, da = -100e3 / 500.0, 1e-5 / 500.0
    deth = (da * T + float(a_tab(torch.tensor(T, dtype=DT)))) * I3
    expected = dE / float(E_tab(torch.tensor(T, dtype=DT))) * s - torch.einsum("...ijkl,kl->...ij", C, deth)
    torch.testing.assert_close(dsdT, expected, rtol=1e-12, atol=1e-9)
    # a hyperelastic model: temperature-dependent parameters (no expansion); dS/dT = S(μ'(T)) ...
    nh = ThermoMechanical(NeoHookean(mu=1.0, lmbda=100.0), parameters={"mu": _tab((1.0, 0.5))})
    E = _sym(4, 2, 5e-2)
    S, _, _, dSdT = nh.update_thermal(E, nh.initial_state((2,)), temperature=100.0)
    d_mu = NeoHookean(mu=1.0, lmbda=100.0).stress(E) - NeoHookean(mu=0.0 + 1e-300, lmbda=100.0).stress(E)
    torch.testing.assert_close(dSdT, -0.5 / 500.0 * d_mu, rtol=1e-10, atol=1e-12)  # S is linear in μ
    with pytest.raises(ValueError, match="thermal expansion needs a small-strain model"):
        ThermoMechanical(NeoHookean(mu=1.0, lmbda=100.0), expansion=1e-5)
    # finite-strain J2 (the strain is F): yield stress and hardening from tables, DDSDDT against differences
    fj2 = ThermoMechanical(
        FiniteStrainJ2(E=210e3, nu=0.3, sigma_y=300.0, H=2000.0),
        parameters={"sigma_y": _tab((300.0, 200.0)), "H": _tab((2000.0, 1000.0))},
    )
    F = I3 + torch.tensor([[0.002, 0.03, 0.0], [0.0, -0.001, 0.0], [0.0, 0.0, 0.001]], dtype=DT)
    st = fj2.initial_state()
    s, new, _, dsdT = fj2.update_thermal(F, st, temperature=120.0)
    assert float(new["alpha"]) > 0

    def at(t: float) -> torch.Tensor:
        return fj2.update(F, st, None, False, temperature=t)[0]

    fd = (8 * (at(120.1) - at(119.9)) - (at(120.2) - at(119.8))) / (12 * 0.1)
    torch.testing.assert_close(dsdT, fd, rtol=1e-6, atol=1e-6 * float(fd.abs().max()))
    with pytest.raises(ValueError, match="small-strain model; FiniteStrainJ2 works with the deformation gradient"):
        ThermoMechanical(FiniteStrainJ2(E=210e3, nu=0.3, sigma_y=300.0), expansion=1e-5)


def test_per_point_temperatures() -> None:
    thermo = ThermoMechanical(LinearElastic(E=200e3, nu=0.25), expansion=1e-5)
    T = torch.tensor([20.0, 120.0, 220.0], dtype=DT)
    s, st, C, dsdT = thermo.update_thermal(torch.zeros(3, 3, 3, dtype=DT), thermo.initial_state((3,)), temperature=T)
    K = 200e3 / (3 * (1 - 0.5))
    torch.testing.assert_close(s, -(3 * K * 1e-5 * T)[:, None, None] * I3, rtol=1e-13, atol=1e-12)
    torch.testing.assert_close(dsdT, -(3 * K * 1e-5) * I3.expand(3, 3, 3), rtol=1e-13, atol=0)
    torch.testing.assert_close(st["temperature"], T)
    torch.testing.assert_close(thermo.thermal_strain(T), (1e-5 * T)[:, None, None] * I3)
    # temperature-dependent parameters at different per-point temperatures: one update per distinct temperature,
    # each point equal to the point updated alone (J2 with T-dependent yield stress, plastic and elastic points)
    tdep = ThermoMechanical(LinearElastic(E=200e3, nu=0.25), parameters={"E": _tab((200e3, 100e3))})
    j2t = ThermoMechanical(
        J2Plasticity(E=200e3, nu=0.3, sigma_y=250.0, H=1000.0),
        parameters={"sigma_y": _tab((250.0, 150.0))},
        expansion=1e-5,
    )
    Tb = torch.tensor([[20.0, 150.0, 220.0], [150.0, 20.0, 60.0]], dtype=DT)
    eps = _sym(7, 6, 2e-3).reshape(2, 3, 3, 3) * torch.tensor([1.0, 0.05], dtype=DT)[:, None, None, None]
    for model in (tdep, j2t):
        st0 = model.initial_state((2, 3))
        s_b, st_b, C_b, d_b = model.update_thermal(eps, st0, temperature=Tb)
        s_u, st_u, C_u = model.update(eps, st0, temperature=Tb)
        torch.testing.assert_close(s_u, s_b, rtol=0, atol=0)
        torch.testing.assert_close(C_u, C_b, rtol=0, atol=0)
        for i in range(2):
            for j in range(3):
                one = {k: v[i, j] for k, v in st0.items()}
                s1, st1, C1, d1 = model.update_thermal(eps[i, j], one, temperature=Tb[i, j])
                torch.testing.assert_close(s_b[i, j], s1, rtol=1e-14, atol=1e-12)
                torch.testing.assert_close(C_b[i, j], C1, rtol=1e-14, atol=1e-9)
                torch.testing.assert_close(d_b[i, j], d1, rtol=1e-12, atol=1e-12)
                for k in st1:
                    torch.testing.assert_close(st_b[k][i, j], st1[k], rtol=1e-14, atol=1e-15)
    assert bool((st_b["alpha"] > 0).any()) and bool((st_b["alpha"] == 0).any())  # plastic and elastic points
    same = torch.full((3,), 100.0, dtype=DT)  # equal per-point temperatures are one temperature
    s_same = tdep.update(_sym(5, 3, 1e-3), tdep.initial_state((3,)), temperature=same)[0]
    torch.testing.assert_close(s_same, tdep.model_at(100.0).stress(_sym(5, 3, 1e-3)), rtol=1e-14, atol=1e-12)


# ------------------------------------------------------------------------------------- isothermal, tables
def test_isothermal_equals_the_wrapped_model() -> None:
    j2 = J2Plasticity(E=210e3, nu=0.3, sigma_y=250.0, hardening=Voce(100.0, 20.0), kinematic=Chaboche([2e4], [100.0]))
    plain = ThermoMechanical(j2)
    # tables that give the model's own values at the temperature used
    tabled = ThermoMechanical(j2, parameters={"sigma_y": _tab((250.0, 250.0)), "E": TemperatureTable([0.0], [210e3])})
    st_j, st_p, st_t = j2.initial_state((4,)), plain.initial_state((4,)), tabled.initial_state((4,))
    for k, f in enumerate((1.0, 2.5, -1.0, 3.0)):
        eps = f * _sym(10, 4, 2e-3)
        s_j, st_j, C_j = j2.update(eps, st_j)
        s_p, st_p, C_p = plain.update(eps, st_p, temperature=None if k % 2 else 300.0)
        s_t, st_t, C_t = tabled.update(eps, st_t, temperature=300.0)
        assert torch.equal(s_p, s_j) and torch.equal(C_p, C_j)
        assert all(torch.equal(st_p[key], st_j[key]) for key in st_j)
        torch.testing.assert_close(s_t, s_j, rtol=1e-13, atol=1e-10)
        torch.testing.assert_close(C_t, C_j, rtol=1e-13, atol=1e-6)
    _, _, _, dsdT = plain.update_thermal(eps, st_p, temperature=310.0)
    assert torch.equal(dsdT, torch.zeros_like(dsdT))


def test_table_interpolation_extrapolation_and_gradient() -> None:
    tab = TemperatureTable([0.0, 100.0, 300.0], [1.0, 3.0, 2.0])
    T = torch.tensor([-50.0, 0.0, 50.0, 100.0, 200.0, 300.0, 400.0], dtype=DT, requires_grad=True)
    v = tab(T)
    torch.testing.assert_close(v, torch.tensor([1.0, 1.0, 2.0, 3.0, 2.5, 2.0, 2.0], dtype=DT))
    (g,) = torch.autograd.grad(v.sum(), T)
    # slope of the interval holding T (at a node: the one above; at the last node: below), zero outside
    torch.testing.assert_close(g, torch.tensor([0.0, 0.02, 0.02, -0.005, -0.005, -0.005, 0.0], dtype=DT))
    assert tab.to_dict() == {"temperature": [0.0, 100.0, 300.0], "value": [1.0, 3.0, 2.0]}
    assert tab(torch.tensor(7.0)).shape == () and tab(torch.zeros(2, 5)).shape == (2, 5)
    series = TemperatureTable([0.0, 10.0], [[1.0, 2.0], [3.0, 6.0]])
    torch.testing.assert_close(series(torch.tensor([5.0], dtype=DT)), torch.tensor([[2.0, 4.0]], dtype=DT))
    one = TemperatureTable([10.0], [4.0])
    torch.testing.assert_close(one(torch.tensor([0.0, 99.0], dtype=DT)), torch.tensor([4.0, 4.0], dtype=DT))


def test_secant_thermal_strain_and_function_dependence(tmp_path: Path) -> None:
    fn = TemperatureFunction(alpha_function, reference="test_thermal:alpha_function")
    thermo = ThermoMechanical(
        LinearElastic(E=200e3, nu=0.3), expansion=fn, reference_temperature=20.0, initial_temperature=100.0
    )
    T = torch.tensor([100.0, 500.0], dtype=DT)
    a = 1.1e-5 + 2e-9 * T
    expected = a * (T - 20.0) - (1.1e-5 + 2e-7) * 80.0
    torch.testing.assert_close(thermo.thermal_strain(T), expected[:, None, None] * I3, rtol=1e-14, atol=1e-20)
    assert thermo.to_dict()["temperature"]["expansion"] == {"function": "test_thermal:alpha_function"}
    assert TemperatureFunction("test_thermal:alpha_function").reference == "test_thermal:alpha_function"
    again = load(thermo.save(tmp_path / "fn.toml"))  # [temperature.expansion] function = "test_thermal:..."
    assert isinstance(again, ThermoMechanical) and again.to_dict() == thermo.to_dict()
    torch.testing.assert_close(again.thermal_strain(T), thermo.thermal_strain(T), rtol=0, atol=0)
    with pytest.raises(ValueError, match="cannot be saved: give reference"):
        ThermoMechanical(LinearElastic(E=1.0, nu=0.3), expansion=lambda t: 1e-5 + 0 * t).to_dict()


# ------------------------------------------------------------------------------------------ serialisation
def test_toml_round_trip_and_the_shipped_eurocode_file(tmp_path: Path) -> None:
    steel = load("steel_s355_thermal")
    assert isinstance(steel, ThermoMechanical) and isinstance(steel.mechanical, J2Plasticity)
    assert steel.reference_temperature == 20.0 and steel.initial_temperature == 20.0
    # EN 1993-1-2 Table 3.1 at 500 °C: k_E = 0.60, k_y = 0.78; 3.4.1.1: Δl/l(500) = 6.7584e-3
    at500 = steel.model_at(500.0)
    assert float(at500.E) == pytest.approx(0.6 * 210e3) and float(at500.sigma_y) == pytest.approx(0.78 * 355.0)
    eth = float(steel.thermal_strain(torch.tensor(500.0))[0, 0])
    assert eth == pytest.approx(1.2e-5 * 500 + 0.4e-8 * 500**2 - 2.416e-4, rel=1e-5)
    assert float(steel.thermal_strain(torch.tensor(800.0))[0, 0]) == pytest.approx(1.1e-2, rel=1e-5)
    path = steel.save(tmp_path / "copy.toml", name="copy")
    again = load(path)
    assert isinstance(again, ThermoMechanical) and again.to_dict() == steel.to_dict()
    assert Material.from_dict(steel.to_dict()).to_dict() == steel.to_dict()
    eps = _sym(7, 2, 2e-3)
    for T in (300.0, 650.0):
        torch.testing.assert_close(
            again.update(eps, again.initial_state((2,)), temperature=T)[0],
            steel.update(eps, steel.initial_state((2,)), temperature=T)[0],
            rtol=0,
            atol=0,
        )
    with pytest.raises(ValueError, match="not a LinearElastic"):
        LinearElastic.from_dict(steel.to_dict())
    bad = {**steel.to_dict(), "temperature": {**steel.temperature_dict(), "zero": 20.0}}
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['zero'\]"):
        Material.from_dict(bad)


# --------------------------------------------------------------------------------------------- bad input
def test_bad_input_messages() -> None:
    j2 = J2Plasticity(E=210e3, nu=0.3, sigma_y=250.0, hardening=Voce(100.0, 20.0))
    with pytest.raises(ValueError, match=r"has no parameter 'sigma_u'; its parameters are \['E', 'nu', 'sigma_y'"):
        ThermoMechanical(j2, parameters={"sigma_u": _tab((1.0, 2.0))})
    with pytest.raises(ValueError, match=r"parameter 'nu' at T = 500: parameter 'nu' must be in \(-1, 0.5\)"):
        ThermoMechanical(j2, parameters={"nu": _tab((0.3, 0.5))})
    with pytest.raises(ValueError, match=r"parameter 'Q' at T = 0: .*non-negative"):
        ThermoMechanical(j2, parameters={"Q": _tab((-1.0, 2.0))})
    with pytest.raises(ValueError, match="strictly increasing"):
        TemperatureTable([0.0, 100.0, 100.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="one value per temperature"):
        TemperatureTable([0.0, 100.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="temperatures must be finite"):
        TemperatureTable([0.0, float("inf")], [1.0, 2.0])
    with pytest.raises(ValueError, match="values must be finite"):
        TemperatureTable([0.0, 1.0], [1.0, float("nan")])
    with pytest.raises(ValueError, match=r"the parameter's shape \(\)"):
        ThermoMechanical(j2, parameters={"E": TemperatureTable([0.0, 1.0], [[1.0, 2.0], [3.0, 4.0]])})
    with pytest.raises(ValueError, match="reference_temperature must be finite"):
        ThermoMechanical(j2, reference_temperature=float("nan"))
    with pytest.raises(ValueError, match="expansion .*must be finite"):
        ThermoMechanical(j2, expansion=float("inf"))
    with pytest.raises(ValueError, match="wraps a model"):
        ThermoMechanical("J2Plasticity")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"keys \['function'\]|got the keys"):
        ThermoMechanical(j2, parameters={"E": {"temperature": [0.0], "values": [1.0]}})
    thermo = ThermoMechanical(j2, parameters={"sigma_y": _tab((250.0, 200.0))}, expansion=1e-5)
    state = thermo.initial_state((2,))
    before = {k: v.clone() for k, v in state.items()}
    eps = _sym(8, 2, 1e-3)
    for bad_T, match in ((float("nan"), "temperature must be finite"), (float("inf"), "temperature must be finite")):
        with pytest.raises(ValueError, match=match):
            thermo.update(eps, state, temperature=bad_T)
    with pytest.raises(ValueError, match="does not broadcast"):
        thermo.update(eps, state, temperature=torch.tensor([1.0, 2.0, 3.0], dtype=DT))
    with pytest.raises(ValueError, match="state is missing 'temperature'"):
        thermo.update(eps, {k: v for k, v in state.items() if k != "temperature"})
    with pytest.raises(ValueError, match="model_at takes one temperature"):
        thermo.model_at(torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="must be a number or a tensor of temperatures"):
        thermo.update(eps, state, temperature="hot")  # type: ignore[arg-type]
    assert all(torch.equal(state[k], before[k]) for k in before)  # failed updates left the state untouched
    with pytest.raises(ValueError, match="do not wrap it twice"):
        ThermoMechanical(thermo)


# ------------------------------------------------------------------------------------------------ example
def test_thermal_bar_example(tmp_path: Path) -> None:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "examples" / "thermal_bar.py"
    spec = importlib.util.spec_from_file_location("_example_thermal_bar", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    out = example.main(tmp_path, steps=13)
    assert Path(out["figure"]).is_file()
    assert 150.0 < out["yield_onset_hand_C"] < 170.0  # between 100 and 200 °C, where E falls and f_y does not
    assert out["yield_onset_difference_C"] < 1e-8
    assert out["elastic_max_rel_error"] < 1e-12 and out["closed_form_max_rel_error"] < 1e-12
    assert out["free_bar_max_stress"] < 1e-9
    assert out["driver_tangent_error"] < 1e-6 and out["driver_thermal_tangent_error"] < 1e-6
    assert out["expansion_table_max_rel_error"] < 2e-3  # the secant table against EN 1993-1-2's formula
    # at 800 °C the bar has yielded and f_y fell to 0.11 f_y,20: the stress is near the yield stress there
    assert -0.2 * 355.0 < out["stress_at_800C"] < -0.11 * 355.0
    with pytest.raises(FileExistsError):  # a second run keeps the first run's figure
        example.main(tmp_path, steps=2)


def test_parameters_at_a_temperature_keep_the_gradient_and_the_catalogue_lists_the_wrapper() -> None:
    from constitutive.models import describe_models

    thermo = ThermoMechanical(J2Plasticity(E=210e3, nu=0.3, sigma_y=250.0), parameters={"sigma_y": _tab((250.0, 50.0))})
    t = torch.tensor(100.0, dtype=DT, requires_grad=True)
    sy = thermo.model_at(t).parameters["sigma_y"]  # with_parameters keeps a float64 tensor as it is: no copy
    (g,) = torch.autograd.grad(sy, t)
    assert float(g) == pytest.approx(-200.0 / 500.0, rel=1e-14)
    entry = next(e for e in describe_models() if e["kind"] == "model" and e["name"] == "ThermoMechanical")
    assert "temperature" in entry["summary"] and entry["parameters"] == []  # declares none
    assert thermo.parameters.keys() == thermo.mechanical.parameters.keys()


def test_driver_heats_the_s355_bar_with_the_hand_solution_and_checks_ddsddt() -> None:
    """The driver's mixed control (ε11 = 0 held, lateral stresses zero) with a temperature segment on the shipped
    S355 file: σ11 equals the closed form −E(T)(ε_th(T) − α) at every step (α the running maximum of
    (E ε_th − σ_y)/(E + H), tests above and examples/thermal_bar.py), and the driver's finite-difference checks of
    dσ/dε and dσ/dT pass (the batched check evaluates all steps at their own temperatures at once)."""
    from constitutive.driver import drive
    from constitutive.paths import LoadPath, Segment

    steel = load("steel_s355_thermal")
    free = {"22": 0.0, "33": 0.0, "23": 0.0, "13": 0.0, "12": 0.0}
    bar = LoadPath([Segment({"11": 0.0}, free, increments=26, temperature=800.0)], initial_temperature=20.0)
    res = drive(steel, bar, check_tangent=True)
    assert res.completed and "thermal tangent check (dσ/dT): PASS" in res.summary()
    H, a, hand = float(steel.mechanical.parameters["H"]), 0.0, []
    for T in res.column("T")[1:].tolist():
        m = steel.model_at(T)
        E, sy = float(m.parameters["E"]), float(m.parameters["sigma_y"])
        eth = float(steel.thermal_strain(torch.tensor(T, dtype=DT))[0, 0])
        a = max(a, (E * eth - sy) / (E + H))
        hand.append(-E * (eth - a))
    torch.testing.assert_close(res.column("stress_11")[1:], torch.tensor(hand, dtype=DT), rtol=1e-10, atol=1e-9)
    assert a > 0  # the ramp yields
