"""Material cards beyond elasticity and hyperelasticity: *PLASTIC tables, combined hardening, rate dependence,
Prony viscoelasticity, the CalculiX variants, the card-writer registry and the reverse reader ``read_card``.

Each conversion is checked against an independent route written here from the Abaqus formulas: the Abaqus
closed-form uniaxial response of combined hardening, the closed-form relaxation of the card's Prony moduli, a
fine-grid interpolation of the table against the hardening law written out by hand, the Abaqus energy of a
hyperelastic card (``abaqus_energy`` of ``test_export``), and CalculiX itself in ``test_calculix.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_export import abaqus_energy, random_F

from constitutive import export as ex
from constitutive.driver import drive
from constitutive.models import elastic, hyperelastic, plasticity, viscoelastic
from constitutive.models.base import Material
from constitutive.paths import LoadPath, Segment

STEEL = dict(E=210000.0, nu=0.3, sigma_y=355.0)


def _data(card: str, keyword: str) -> list[float]:
    (block,) = [b for b in ex.parse_abaqus_card(card) if b["keyword"] == keyword]
    return block["data"]


def _content(card: str) -> list[str]:
    """The card without its ``**`` comment lines."""
    return [ln for ln in card.splitlines() if not ln.startswith("**")]


# ------------------------------------------------------------------------------------------------ the registry


class Spring(Material, abstract=True):  # abstract: kept out of the model registry MODELS
    """A user model defined outside the package (a one-parameter isotropic 'spring')."""

    strain_measure = "Hencky strain (user)"

    def __init__(self, k: float) -> None:
        super().__init__()
        self._param("k", k, positive=True)

    def stress(self, strain):  # pragma: no cover - not evaluated here
        return self.k * strain


def test_user_model_joins_the_card_registry():
    with pytest.raises(ValueError, match=r"no material card for Spring: cards exist for .*J2Plasticity"):
        ex.abaqus_card(Spring(2.0))

    def spring_card(model, *, code="abaqus", **_):
        return f"*ELASTIC, TYPE=ISOTROPIC\n{float(model.k) * 3.0}, 0.0\n"

    ex.register_card_writer(Spring, spring_card)
    try:
        card = ex.abaqus_card(Spring(2.0), name="SPRING")
        assert _data(card, "ELASTIC") == [6.0, 0.0]
        assert "Spring" in ex.card_kinds()

        class StiffSpring(Spring, abstract=True):  # a subclass finds its parent's writer along the MRO
            pass

        assert ex.card_writer_for(StiffSpring(1.0)) is spring_card

        @ex.register_card_writer(StiffSpring)  # ... unless it registers its own (decorator form)
        def stiff_card(model, **_):
            return "*ELASTIC\n1.0, 0.0\n"

        assert ex.card_writer_for(StiffSpring(1.0)) is stiff_card
        assert ex.card_writer_for(Spring(1.0)) is spring_card
    finally:
        from constitutive.export import cards

        cards._CARD_WRITERS.pop(Spring, None)
        cards._CARD_WRITERS.pop(StiffSpring, None)


def test_subclass_of_a_package_model_gets_its_card():
    class CardTestElastic(elastic.LinearElastic, abstract=True):
        pass

    assert _data(ex.abaqus_card(CardTestElastic(E=100.0, nu=0.2)), "ELASTIC") == [100.0, 0.2]


def test_bad_inputs_name_the_problem():
    with pytest.raises(TypeError, match="material models.*object"):
        ex.abaqus_card(object())
    with pytest.raises(ValueError, match="no material card for Gent: cards exist for .*GeneralizedMaxwell"):
        ex.abaqus_card(hyperelastic.Gent(mu=0.3, Jm=50.0, K=10.0))
    with pytest.raises(ValueError, match="unknown card code 'ansys'"):
        ex.abaqus_card(elastic.LinearElastic(E=1.0, nu=0.2), code="ansys")
    with pytest.raises(TypeError, match="needs a class"):
        ex.register_card_writer("Spring", lambda m, **_: "")


# ------------------------------------------------------------------------------------------------ *PLASTIC tables


def _by_hand(alpha: np.ndarray, law: str) -> np.ndarray:
    """The flow stresses of the models below, written out from the hardening formulas."""
    if law == "voce":
        return 355.0 + 1000.0 * alpha + 150.0 * (1 - np.exp(-20.0 * alpha))
    if law == "swift":
        return 355.0 + 800.0 * ((0.002 + alpha) ** 0.2 - 0.002**0.2)
    if law == "user":
        return 355.0 + 200.0 * np.tanh(30.0 * alpha)
    return 355.0 + 2000.0 * alpha


LAWS = {
    "voce": lambda: plasticity.J2Plasticity(**STEEL, H=1000.0, hardening=plasticity.Voce(150.0, 20.0)),
    "swift": lambda: plasticity.J2Plasticity(**STEEL, hardening=plasticity.Swift(800.0, 0.002, 0.2)),
    "user": lambda: plasticity.J2Plasticity(**STEEL, hardening=lambda a: 200.0 * torch.tanh(30.0 * a)),
    "linear": lambda: plasticity.J2Plasticity(**STEEL, H=2000.0),
}


@pytest.mark.parametrize("law", list(LAWS))
def test_plastic_table_stays_within_its_tolerance(law):
    model = LAWS[law]()
    for tol in (1e-1, 1e-2):
        table = ex.plastic_table(model, tolerance=tol, max_plastic_strain=0.3)
        assert table.strain[0] == 0.0 and table.strain[-1] == 0.3 and table.tolerance == tol
        a = np.linspace(0.0, 0.3, 300_001)
        err = np.abs(np.interp(a, table.strain, table.stress) - _by_hand(a, law)).max()
        assert err <= tol  # on a grid 100x finer than the check inside plastic_table
        assert table.max_error == pytest.approx(err, rel=0.05, abs=1e-9)  # the reported error is the error
        np.testing.assert_allclose(table.stress, _by_hand(table.strain, law), rtol=1e-14)
    if law == "linear":
        assert len(table.strain) == 2 and table.max_error < 1e-9  # exact with two points
    else:
        coarse = ex.plastic_table(model, tolerance=1e-1, max_plastic_strain=0.3)
        assert len(coarse.strain) < len(table.strain)
    card = ex.abaqus_card(model, tolerance=1e-2, max_plastic_strain=0.3)
    assert "*PLASTIC\n" in card and f"max |sigma_f - table| = {table.max_error:.3g}" in card
    pairs = np.array(_data(card, "PLASTIC")).reshape(-1, 2)  # lines: true stress, equivalent plastic strain
    np.testing.assert_array_equal(pairs[:, 0], table.stress)
    np.testing.assert_array_equal(pairs[:, 1], table.strain)


def test_perfect_plasticity_is_one_line_and_table_errors():
    card = ex.abaqus_card(plasticity.J2Plasticity(**STEEL))
    assert _data(card, "PLASTIC") == [355.0, 0.0]
    assert _data(card, "ELASTIC") == [210000.0, 0.3]
    with pytest.raises(ValueError, match="more than 5 points"):
        ex.plastic_table(LAWS["voce"](), tolerance=1e-6, max_points=5)
    with pytest.raises(ValueError, match="tolerance must be finite and > 0"):
        ex.plastic_table(LAWS["voce"](), tolerance=-1.0)
    with pytest.raises(ValueError, match="max_plastic_strain"):
        ex.plastic_table(LAWS["voce"](), max_plastic_strain=0.0)
    soft = plasticity.J2Plasticity(**STEEL, hardening=lambda a: -50.0 * a)
    with pytest.raises(ValueError, match="decreases"):
        ex.plastic_table(soft)


# ------------------------------------------------------------------------------------------- combined hardening

CHABOCHE = dict(**STEEL, hardening=plasticity.Voce(80.0, 8.0), C=[40000.0, 3000.0], gamma=[400.0, 20.0])


def test_combined_hardening_card_values():
    card = ex.abaqus_card(plasticity.J2Plasticity(**CHABOCHE))
    assert "*PLASTIC, HARDENING=COMBINED, DATATYPE=PARAMETERS, NUMBER BACKSTRESSES=2" in card
    assert _data(card, "PLASTIC") == [355.0, 40000.0, 400.0, 3000.0, 20.0]  # σ|0, C1, γ1, C2, γ2
    assert "*CYCLIC HARDENING, PARAMETERS" in card and _data(card, "CYCLIC HARDENING") == [355.0, 80.0, 8.0]
    prager = ex.abaqus_card(plasticity.J2Plasticity(**STEEL, kinematic=plasticity.Prager(5000.0)))
    assert _data(prager, "PLASTIC") == [355.0, 5000.0, 0.0] and "CYCLIC" not in prager  # γ = 0, constant σ0
    swift = plasticity.J2Plasticity(**STEEL, hardening=plasticity.Swift(800.0, 0.002, 0.2), C=[1000.0], gamma=[10.0])
    card = ex.abaqus_card(swift, max_plastic_strain=0.2, tolerance=0.05)
    table = np.array(_data(card, "CYCLIC HARDENING")).reshape(-1, 2)  # any other law: a σ0(ε̄pl) table
    a = np.linspace(0, 0.2, 20001)
    assert np.abs(np.interp(a, table[:, 1], table[:, 0]) - _by_hand(a, "swift")).max() <= 0.05
    with pytest.raises(ValueError, match="CalculiX has no Armstrong--Frederick"):
        ex.abaqus_card(plasticity.J2Plasticity(**CHABOCHE), code="calculix")


def test_combined_hardening_follows_the_abaqus_law_with_the_card_numbers():
    """Abaqus's combined model, uniaxial: back stresses α_k (axial) with α̇_k = C_k ε̇^pl - γ_k α_k |ε̇^pl|
    (the uniaxial form of α̇_k = C_k (σ - α)/σ0 ε̄̇^pl - γ_k α_k ε̄̇^pl), σ = Σ α_k + ν σ0(ε̄^pl),
    σ0 = σ|0 + Q∞ (1 - exp(-b ε̄^pl)), ν = ±1 the flow direction. Integrated here by backward Euler with the card's
    numbers, α_k ← (α_k + C_k Δε^pl)/(1 + γ_k |Δε^pl|), on the plastic strains of the driver (tension to 2 %,
    reversal to -2 %): the driver's stresses follow to round-off. Plus the saturated monotonic limit
    σ → σ|0 + Q∞ + Σ C_k/γ_k."""
    model = plasticity.J2Plasticity(**CHABOCHE)
    card = ex.abaqus_card(model)
    s0, C1, g1, C2, g2 = _data(card, "PLASTIC")
    _, Q, b = _data(card, "CYCLIC HARDENING")
    free = {"22": 0.0, "33": 0.0, "12": 0.0, "13": 0.0, "23": 0.0}
    path = LoadPath([Segment({"11": 0.02}, free, 10), Segment({"11": -0.02}, free, 20)], "small")
    res = drive(model, path)
    sigma = res.stress[:, 0, 0].numpy()
    ep = res.state["eps_p"][:, 0, 0].numpy()
    ebar = res.state["alpha"].numpy()
    a = np.zeros(2)
    for n in range(1, len(sigma)):
        d = ep[n] - ep[n - 1]
        a = (a + np.array([C1, C2]) * d) / (1 + np.array([g1, g2]) * abs(d))
        if abs(d) > 0:  # plastic step: on the yield surface |σ - Σ α_k| = σ0
            nu = math.copysign(1.0, d)
            expected = a.sum() + nu * (s0 + Q * (1 - math.exp(-b * ebar[n])))
            assert sigma[n] == pytest.approx(expected, rel=1e-10)
    assert sigma.min() < -400.0 and (np.diff(ep[11:]) < 0).any()  # reversed yielding
    long = drive(model, LoadPath([Segment({"11": 1.0}, free, 20)], "small"))
    saturated = s0 + Q + C1 / g1 + C2 / g2
    assert float(long.stress[-1, 0, 0]) == pytest.approx(saturated, rel=1e-4)


# ------------------------------------------------------------------------------------- rate dependence (Perzyna)


def test_perzyna_rate_dependent_card():
    model = plasticity.Perzyna(**STEEL, H=1000.0, eta=0.05, m=3.0)
    card = ex.abaqus_card(model)
    D, n = _data(card, "RATE DEPENDENT")
    assert "*RATE DEPENDENT, TYPE=POWER LAW" in card and D == 1 / 0.05 and n == 3.0  # D = 1/η, n = m
    # Abaqus's power law ε̄̇ = D (q/σ0 - 1)^n at an overstress equals the model's α̇ = (1/η)(q/σf - 1)^m
    q, sf = 420.0, 400.0
    assert D * (q / sf - 1) ** n == pytest.approx((1 / 0.05) * (q / sf - 1) ** 3.0, rel=1e-15)
    with pytest.raises(ValueError, match="no \\*RATE DEPENDENT"):
        ex.abaqus_card(model, code="calculix")


# ------------------------------------------------------------------------------------------ *VISCOELASTIC, PRONY

MAXWELL = dict(K_inf=1500.0, G_inf=300.0, prony_shear=[(400.0, 0.1), (200.0, 2.0)], prony_bulk=[(500.0, 0.1)])


def _relaxation(card: str, t: np.ndarray, t_ramp: float) -> tuple[np.ndarray, np.ndarray]:
    """Shear and bulk relaxation after a unit strain ramp over t_ramp, from the card's numbers alone:
    G_R(t) = G0 (1 - Σ g_i (1 - e^{-t/τ_i})); response (1/t_r) ∫_0^{t_r} G_R(t - s) ds (closed form)."""
    E0, nu0 = _data(card, "ELASTIC")
    rows = np.array(_data(card, "VISCOELASTIC")).reshape(-1, 3)
    G0, K0 = E0 / (2 * (1 + nu0)), E0 / (3 * (1 - 2 * nu0))
    out = []
    for M0, rel in ((G0, rows[:, 0]), (K0, rows[:, 1])):
        tau = rows[:, 2]
        r = M0 * (1 - rel.sum()) * np.ones_like(t)
        for w, tt in zip(M0 * rel, tau):
            r += w * tt * np.exp(-t / tt) * (np.exp(t_ramp / tt) - 1) / t_ramp
        out.append(r)
    return out[0], out[1]


def test_viscoelastic_card_relaxes_like_the_model():
    model = viscoelastic.GeneralizedMaxwell(**MAXWELL)
    card = ex.abaqus_card(model)
    assert "*ELASTIC, TYPE=ISOTROPIC, MODULI=INSTANTANEOUS" in card and "*VISCOELASTIC, TIME=PRONY" in card
    rows = np.array(_data(card, "VISCOELASTIC")).reshape(-1, 3)
    np.testing.assert_allclose(rows, [[400 / 900, 500 / 2000, 0.1], [200 / 900, 0.0, 2.0]], rtol=1e-15)
    # Ramp ε12 = 1e-3 and tr ε = 3e-3 over t_r, then hold: σ12 = 2 ε12 G(t), p = tr ε K(t).
    t_ramp, e12, vol = 0.01, 1e-3, 1e-3
    eps = torch.tensor([[vol, e12, 0.0], [e12, vol, 0.0], [0.0, 0.0, vol]], dtype=torch.float64)
    state = model.initial_state(())
    sigma, state, _ = model.update(eps, state, dt=t_ramp)  # strain linear in time over the step: exact
    times, s12, p = [t_ramp], [float(sigma[0, 1])], [float(torch.trace(sigma)) / 3]
    for dt in (0.003, 0.05, 0.2, 1.0, 5.0):
        sigma, state, _ = model.update(eps, state, dt=dt)
        times.append(times[-1] + dt)
        s12.append(float(sigma[0, 1]))
        p.append(float(torch.trace(sigma)) / 3)
    G_t, K_t = _relaxation(card, np.array(times), t_ramp)
    np.testing.assert_allclose(s12, 2 * e12 * G_t, rtol=1e-12)
    np.testing.assert_allclose(p, 3 * vol * K_t, rtol=1e-12)
    with pytest.raises(ValueError, match="CalculiX has no \\*VISCOELASTIC"):
        ex.abaqus_card(model, code="calculix")


def test_viscoelastic_long_term_moduli_card_is_read():
    """Abaqus's default for *ELASTIC under *VISCOELASTIC is the long-term moduli: G∞ = G0 (1 - Σ g_i)."""
    text = "*MATERIAL, NAME=V\n*ELASTIC\n780.0, 0.3\n*VISCOELASTIC, TIME=PRONY\n0.5, 0.2, 1.5\n"
    model = ex.read_card(text)
    G_inf, K_inf = 780.0 / 2.6, 780.0 / 1.2
    assert float(model.G_inf) == pytest.approx(G_inf, rel=1e-15) and float(model.K_inf) == pytest.approx(K_inf)
    G0, K0 = G_inf / 0.5, K_inf / 0.8
    np.testing.assert_allclose(model.shear_moduli.numpy(), [0.5 * G0], rtol=1e-15)
    np.testing.assert_allclose(model.bulk_moduli.numpy(), [0.2 * K0], rtol=1e-15)


# ------------------------------------------------------------------------------------------- CalculiX variants


@pytest.mark.parametrize(
    "make",
    [
        lambda: hyperelastic.Yeoh(C10=0.3, C20=-0.01, C30=0.002, K=50.0),
        lambda: hyperelastic.Ogden(mu=[0.618, 0.00118, -0.00981], alpha=[1.3, 5.0, -2.0], K=20.0),
        lambda: hyperelastic.MooneyRivlin(C10=0.3, C01=0.05, K=50.0),
    ],
    ids=["yeoh", "ogden", "mooney"],
)
def test_calculix_hyperelastic_cards_have_no_zero_compressibility(make):
    model = make()
    card = ex.abaqus_card(model, code="calculix")
    data = _data(card, "HYPERELASTIC")
    abaqus = _data(ex.abaqus_card(model), "HYPERELASTIC")  # D2, D3, ... = 0 there: "no term" for Abaqus
    assert 0.0 not in data
    assert data == [ex.cards.CALCULIX_NO_TERM if v == 0.0 else v for v in abaqus]
    F = random_F(10, seed=4)
    E = 0.5 * (F.transpose(-1, -2) @ F - torch.eye(3, dtype=torch.float64))
    np.testing.assert_allclose(abaqus_energy(card, F.numpy()), model.energy(E).numpy(), rtol=1e-11, atol=1e-13)
    assert ex.abaqus_card(ex.read_card(card), code="calculix").splitlines()[2:] == card.splitlines()[2:]


def test_calculix_refuses_incompressible_models():
    for model in (hyperelastic.NeoHookean(mu=0.5), hyperelastic.Yeoh(C10=0.3, C20=-0.01, C30=0.002)):
        with pytest.raises(ValueError, match="CalculiX has no incompressible hyperelasticity.*bulk modulus"):
            ex.abaqus_card(model, code="calculix")
    assert _data(ex.abaqus_card(hyperelastic.NeoHookean(mu=0.5)), "HYPERELASTIC") == [0.25, 0.0]  # Abaqus: D = 0


# ---------------------------------------------------------------------------------------------------- read_card

ROUND_TRIP = {
    "isotropic": (lambda: elastic.LinearElastic(E=70000.0, nu=0.33), {}),
    "engineering": (
        lambda: elastic.Orthotropic(1000.0, 800.0, 900.0, 0.2, 0.25, 0.3, 300.0, 350.0, 320.0),
        {"elastic_type": "engineering_constants"},
    ),
    "orthotropic": (lambda: elastic.Cubic(C11=1700.0, C12=1200.0, C44=750.0), {}),
    "anisotropic": (
        lambda: elastic.Anisotropic(
            torch.tensor(
                [
                    [9.0, 2, 1, 0.5, 0.1, 0.2],
                    [2, 8, 1.5, 0.3, 0.2, 0.1],
                    [1, 1.5, 7, 0.1, 0.3, 0.2],
                    [0.5, 0.3, 0.1, 3, 0.2, 0.1],
                    [0.1, 0.2, 0.3, 0.2, 2.5, 0.3],
                    [0.2, 0.1, 0.2, 0.1, 0.3, 2],
                ],
                dtype=torch.float64,
            )
            * 100  # fmt: skip
        ),
        {},
    ),
    "neo_hooke": (lambda: hyperelastic.NeoHookean(mu=0.5, lmbda=40.0, form="isochoric"), {}),
    "neo_incompressible": (lambda: hyperelastic.NeoHookean(mu=0.5), {}),
    "mooney": (lambda: hyperelastic.MooneyRivlin(C10=0.3, C01=0.05, K=50.0), {}),
    "yeoh": (lambda: hyperelastic.Yeoh(C10=0.3, C20=-0.01, C30=0.002, K=50.0), {}),
    "ogden": (lambda: hyperelastic.Ogden(mu=[0.618, 0.00118, -0.00981], alpha=[1.3, 5.0, -2.0], K=20.0), {}),
    "arruda": (lambda: hyperelastic.ArrudaBoyce(mu=0.3, N=8.0, K=30.0, volumetric="simo_taylor"), {}),
    "plastic": (LAWS["voce"], {"tolerance": 0.05, "max_plastic_strain": 0.2}),
    "perfect": (lambda: plasticity.J2Plasticity(**STEEL), {}),
    "combined": (lambda: plasticity.J2Plasticity(**CHABOCHE), {}),
    "combined_table": (
        lambda: plasticity.J2Plasticity(**STEEL, H=500.0, C=[1000.0], gamma=[10.0]),
        {"tolerance": 0.05, "max_plastic_strain": 0.2},
    ),
    "perzyna": (lambda: plasticity.Perzyna(**STEEL, H=1000.0, eta=0.05, m=3.0), {}),
    "maxwell": (lambda: viscoelastic.GeneralizedMaxwell(**MAXWELL), {}),
}


@pytest.mark.parametrize("case", list(ROUND_TRIP))
def test_card_model_card_round_trip_is_exact(case):
    make, options = ROUND_TRIP[case]
    card = ex.abaqus_card(make(), name="M", **options)
    back = ex.abaqus_card(ex.read_card(card), name="M", **options)
    if case == "maxwell":  # E0 from K0 = K∞ + Σ k_j and G0: one rounding of a sum may differ in the last bit
        for kw in ("ELASTIC", "VISCOELASTIC"):
            np.testing.assert_allclose(_data(back, kw), _data(card, kw), rtol=4e-16)
    else:
        assert _content(back) == _content(card)


def test_read_hyperelastic_cards_by_their_energy():
    """Hand-written cards (CalculiX spellings and the polynomial names included) read into models whose energy is
    the card's Abaqus energy."""
    cards = {  # card read -> the same energy under the name the independent evaluator knows
        "POLYNOMIAL, N=1\n0.3, 0.05, 0.04": "MOONEY-RIVLIN\n0.3, 0.05, 0.04",
        "REDUCED POLYNOMIAL, N=3\n0.3, -0.01, 0.002, 0.04, 0.0, 0.0": "YEOH\n0.3, -0.01, 0.002, 0.04, 0.0, 0.0",
        "REDUCED POLYNOMIAL, N=1\n0.25, 0.05": "NEO HOOKE\n0.25, 0.05",
        "OGDEN, N=2\n0.4, 1.3, -0.01, -2.0, 0.1, 0.0": "OGDEN, N=2\n0.4, 1.3, -0.01, -2.0, 0.1, 0.0",
        "ARRUDA-BOYCE\n0.3, 2.8, 0.0667": "ARRUDA-BOYCE\n0.3, 2.8, 0.0667",
        "YEOH\n0.3, -0.01, 0.002, 0.04, 1e300, 1e300": "YEOH\n0.3, -0.01, 0.002, 0.04, 0.0, 0.0",  # CalculiX
    }
    F = random_F(8, seed=7)
    E = 0.5 * (F.transpose(-1, -2) @ F - torch.eye(3, dtype=torch.float64))
    for text, same in cards.items():
        model = ex.read_card("*MATERIAL, NAME=R\n*HYPERELASTIC, " + text + "\n")
        expected = abaqus_energy("*HYPERELASTIC, " + same + "\n", F.numpy())
        np.testing.assert_allclose(model.energy(E).numpy(), expected, rtol=1e-11)


def test_read_plastic_table_and_a_whole_deck():
    deck = (
        "*NODE\n1, 0, 0, 0\n*MATERIAL, NAME=RUBBER\n*HYPERELASTIC, NEO HOOKE\n0.5, 0.0\n"
        "*MATERIAL, NAME=STEEL\n*ELASTIC, TYPE=ISO\n210000.0, 0.3\n*PLASTIC\n355.0, 0.0\n455.0, 0.1\n475.0, 0.5\n"
        "*DENSITY\n7.85e-9\n*SOLID SECTION, ELSET=E, MATERIAL=STEEL\n*STEP\n*STATIC\n*END STEP\n"
    )
    with pytest.raises(ValueError, match="2 materials.*pass name="):
        ex.read_card(deck)
    steel = ex.read_card(deck, name="steel")
    assert isinstance(steel, plasticity.J2Plasticity) and float(steel.sigma_y) == 355.0
    a = torch.tensor([0.0, 0.05, 0.1, 0.3, 0.5, 2.0], dtype=torch.float64)
    expected = np.interp(a.numpy(), [0.0, 0.1, 0.5], [355.0, 455.0, 475.0])  # constant beyond the last point
    np.testing.assert_allclose(steel.flow_stress(a)[0].numpy(), expected, rtol=1e-15)
    assert isinstance(ex.read_card(deck, name="RUBBER"), hyperelastic.NeoHookean)


def test_read_card_refuses_what_no_model_reproduces():
    bad = {
        "D2 = 0.5 adds": "*HYPERELASTIC, YEOH\n0.3, -0.01, 0.002, 0.04, 0.5, 0.0",
        "first plastic strain": "*ELASTIC\n1000.0, 0.3\n*PLASTIC\n5.0, 0.01\n6.0, 0.1",
        "decreases": "*ELASTIC\n1000.0, 0.3\n*PLASTIC\n5.0, 0.0\n4.0, 0.1",
        "no temperature columns": "*ELASTIC, TYPE=ENGINEERING CONSTANTS\n1., 1., 1., 0.1, 0.1, 0.1, 1., 1.\n1., 20.0",
        "TYPE=TRACTION is not read": "*ELASTIC, TYPE=TRACTION\n1.0, 2.0, 3.0",
        "HARDENING=KINEMATIC": "*ELASTIC\n1000.0, 0.3\n*PLASTIC, HARDENING=KINEMATIC\n5.0, 0.0\n6.0, 0.1",
        "MARLOW has no package model": "*HYPERELASTIC, MARLOW\n",
        "no material card found": "*NODE\n1, 0, 0, 0\n",
        "neither \\*ELASTIC": "*MATERIAL, NAME=X\n*DENSITY\n1.0",
    }
    for message, text in bad.items():
        with pytest.raises(ValueError, match=message):
            ex.read_card(text)


def test_tabulated_hardening_slope_is_the_segment_slope():
    law = ex.TabulatedHardening([0.0, 0.1, 0.5], [355.0, 455.0, 475.0])
    a = torch.tensor([0.05, 0.3, 0.7], dtype=torch.float64)
    _, slope = torch.func.jvp(law, (a,), (torch.ones_like(a),))
    np.testing.assert_allclose(slope.numpy(), [1000.0, 50.0, 0.0], rtol=1e-12)


def test_read_combined_card_in_the_documented_spelling():
    """Abaqus's manual spells the parameters DATA TYPE and NUMBER BACKSTRESSES; blanks in keyword lines are
    ignored, so both spellings read the same."""
    text = (
        "*ELASTIC\n210000.0, 0.3\n*PLASTIC, HARDENING=COMBINED, DATA TYPE=PARAMETERS, NUMBER BACKSTRESSES=2\n"
        "355.0, 40000.0, 400.0, 3000.0, 20.0\n*CYCLIC HARDENING, PARAMETERS\n355.0, 80.0, 8.0\n"
    )
    model = ex.read_card(text)
    assert _content(ex.abaqus_card(model)) == _content(ex.abaqus_card(plasticity.J2Plasticity(**CHABOCHE)))


def test_cli_writes_the_calculix_card_variant(capsys) -> None:
    # --card calculix: no zero D2, D3 that CalculiX would replace by its defaults; an incompressible fit is refused
    from constitutive.cli import main

    yeoh = ["export", "natural_rubber_yeoh_treloar_fit", "--param", "K=2000"]
    assert main([*yeoh, "--card", "calculix"]) == 0
    calculix = capsys.readouterr().out
    assert main([*yeoh, "--card", "abaqus"]) == 0
    abaqus = capsys.readouterr().out
    assert "*HYPERELASTIC, YEOH" in calculix and calculix != abaqus
    assert main(["export", "natural_rubber_yeoh_treloar_fit", "--card", "calculix"]) == 2
    assert "bulk modulus" in capsys.readouterr().err
    assert main([*yeoh, "--card", "ansys"]) == 2
    assert "abaqus, calculix" in capsys.readouterr().err
