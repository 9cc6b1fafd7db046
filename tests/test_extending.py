"""Extending the package from outside: a new isotropic hardening law, a new hyperelastic energy and a new volumetric
term, each one small class, checked against closed forms and finite differences; and the declarations that the
catalogue (describe_models), calibration bounds and the card-writer hook read."""

from __future__ import annotations

import math

import pytest
import torch

from constitutive.check import check_tangent, finite_difference_tangent
from constitutive.models import (
    HARDENING_LAWS,
    VOLUMETRIC_TERMS,
    HardeningLaw,
    HyperelasticMaterial,
    J2Plasticity,
    Material,
    MooneyRivlin,
    NeoHookean,
    Parameter,
    VolumetricTerm,
    describe_models,
)
from constitutive.models.base import MODELS
from constitutive.models.hyperelastic import VOLUMETRIC_FUNCTIONS

DT = torch.float64
E, NU, SY = 200e3, 0.3, 250.0


@pytest.fixture(autouse=True, scope="module")
def _unregister_test_classes():
    """The classes this module registers leave the registries (and the model catalogue) with it."""
    yield
    HARDENING_LAWS.pop("hockett_sherby", None)
    MODELS.pop("BlatzKo", None)
    MODELS.pop("NeoHookeanIJ", None)


# ------------------------------------------------------------------------------------------- a hardening law
class HockettSherby(HardeningLaw, name="hockett_sherby"):
    """Hockett--Sherby: sigma_f = sigma_sat - (sigma_sat - sigma_y) exp(-a alpha^p), as R(alpha) with
    Q = sigma_sat - sigma_y: R = Q (1 - exp(-a alpha^p))."""

    Q = Parameter("saturation stress minus the yield stress", unit="stress", lower=0.0)
    a = Parameter("saturation rate", unit="1", lower=0.0, lower_open=True)
    p = Parameter("exponent on alpha (>= 1: finite slope at alpha = 0)", unit="1", lower=1.0)

    def flow_stress(self, alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e = torch.exp(-self.a * alpha**self.p)
        return self.Q * (1.0 - e), self.Q * self.a * self.p * alpha ** (self.p - 1.0) * e


HS = {"Q": 180.0, "a": 25.0, "p": 1.3}


def _sigma_f(alpha: float) -> float:
    return SY + HS["Q"] * (1.0 - math.exp(-HS["a"] * alpha ** HS["p"]))


def test_hardening_law_is_registered_and_named_in_every_route(tmp_path) -> None:
    assert HARDENING_LAWS["hockett_sherby"] is HockettSherby
    by_object = J2Plasticity(E, NU, SY, hardening=HockettSherby(**HS))
    by_name = J2Plasticity(E, NU, SY, hardening="hockett_sherby", **HS)
    assert by_object.to_dict() == by_name.to_dict()
    assert by_object.to_dict()["options"]["hardening"] == "hockett_sherby"
    assert list(by_object.parameters) == ["E", "nu", "sigma_y", "H", "Q", "a", "p"]
    decl = by_object.parameter_declarations()
    assert decl["p"].bounds() == (1.0, math.inf) and decl["Q"].unit == "stress" and decl["E"].range_text == "> 0"
    loaded = Material.load(by_object.save(tmp_path / "hs.toml"))
    assert loaded.to_dict() == by_object.to_dict()
    changed = by_object.with_parameters(a=5.0)
    assert isinstance(changed, J2Plasticity) and float(changed.law.parameters["a"]) == 5.0
    with pytest.raises(ValueError, match="'p' must be at least 1"):
        J2Plasticity(E, NU, SY, hardening="hockett_sherby", Q=180.0, a=25.0, p=0.5)
    with pytest.raises(ValueError, match=r"needs parameter\(s\) \['a'\]"):
        J2Plasticity(E, NU, SY, hardening="hockett_sherby", Q=180.0, p=1.3)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['b'\]"):
        J2Plasticity(E, NU, SY, hardening="hockett_sherby", b=1.0, **HS)
    entry = next(e for e in describe_models() if e["kind"] == "hardening" and e["name"] == "hockett_sherby")
    assert [p["name"] for p in entry["parameters"]] == ["Q", "a", "p"]


def test_hardening_law_uniaxial_closed_form() -> None:
    """One step from the virgin state to the strain of a uniaxial stress state on the Hockett--Sherby curve:
    radial return is exact for this proportional path, so the stress is diag(sigma_f(alpha), 0, 0) and the new
    equivalent plastic strain is alpha."""
    model = J2Plasticity(E, NU, SY, hardening=HockettSherby(**HS))
    alphas = torch.tensor([0.002, 0.01, 0.05, 0.2], dtype=DT)
    sf = torch.tensor([_sigma_f(float(a)) for a in alphas], dtype=DT)
    d = torch.tensor([1.0, -NU, -NU], dtype=DT)
    p = torch.tensor([1.0, -0.5, -0.5], dtype=DT)
    eps = torch.diag_embed(sf[:, None] / E * d + alphas[:, None] * p)
    stress, state, _ = model.update(eps, model.initial_state((4,)))
    expected = torch.zeros(4, 3, 3, dtype=DT)
    expected[:, 0, 0] = sf
    torch.testing.assert_close(stress, expected, rtol=1e-10, atol=1e-8)
    torch.testing.assert_close(state["alpha"], alphas, rtol=1e-10, atol=0.0)


def test_hardening_law_tangent_against_finite_differences() -> None:
    """The consistent tangent of a plastic step from a hardened state, with the law's slope in the Newton
    iteration, equals central differences (history held at the start of the step)."""
    model = J2Plasticity(E, NU, SY, hardening="hockett_sherby", **HS)
    g = torch.Generator().manual_seed(3)
    A = torch.randn(5, 3, 3, dtype=DT, generator=g)
    eps0 = 4e-3 * (A + A.transpose(-1, -2)) / 2
    _, state, _ = model.update(eps0, model.initial_state((5,)))
    assert bool((state["alpha"] > 0).all())
    B = torch.randn(5, 3, 3, dtype=DT, generator=g)
    eps1 = eps0 + 1e-3 * (B + B.transpose(-1, -2)) / 2
    report = check_tangent(model, eps1, state=state, rtol=1e-6)
    assert report.passed, report
    # and the stress is differentiable in the law's parameters (calibration): autograd vs central differences
    a = torch.tensor(HS["a"], dtype=DT, requires_grad=True)
    s = model.with_parameters(a=a).update(eps1, state)[0][..., 0, 0].sum()
    (ga,) = torch.autograd.grad(s, a)
    h = 1e-4 * HS["a"]

    def s11(value: float) -> float:
        return float(model.with_parameters(a=value).update(eps1, state)[0][..., 0, 0].sum())

    fd = (s11(HS["a"] + h) - s11(HS["a"] - h)) / (2 * h)
    assert abs(float(ga) - fd) <= 1e-6 * abs(fd)


# -------------------------------------------------------------------------------------- a hyperelastic energy
class BlatzKo(HyperelasticMaterial):
    """Blatz--Ko foam: psi = mu/2 (I2/J^2 + 2 J - 5) (initial Poisson's ratio 1/4)."""

    mu = Parameter("shear modulus", unit="stress", lower=0.0, lower_open=True)

    def _psi_invariants(self, I1: torch.Tensor, I2: torch.Tensor, J: torch.Tensor) -> torch.Tensor:
        return 0.5 * self.mu * (I2 / (J * J) + 2.0 * J - 5.0)

    @property
    def initial_shear_modulus(self) -> torch.Tensor:
        return self.mu

    @property
    def initial_bulk_modulus(self) -> torch.Tensor:
        return 5.0 * self.mu / 3.0


class NeoHookeanIJ(HyperelasticMaterial):
    """psi = mu/2 (I1 - 3) - mu ln J + lmbda/2 (ln J)^2, written on (I1, J) only."""

    mu = Parameter("shear modulus", unit="stress", lower=0.0, lower_open=True)
    lmbda = Parameter("Lame's first constant", unit="stress")

    def _psi_invariants(self, I1: torch.Tensor, I2: torch.Tensor, J: torch.Tensor) -> torch.Tensor:
        lnJ = torch.log(J)
        return 0.5 * self.mu * (I1 - 3.0) - self.mu * lnJ + 0.5 * self.lmbda * lnJ * lnJ

    @property
    def initial_shear_modulus(self) -> torch.Tensor:
        return self.mu

    @property
    def initial_bulk_modulus(self) -> torch.Tensor:
        return self.lmbda + 2.0 * self.mu / 3.0


def _strains(n: int, scale: float, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(n, 3, 3, dtype=DT, generator=g)
    return scale * (A + A.transpose(-1, -2)) / 2


def test_new_energy_matches_the_hand_written_neo_hookean() -> None:
    """Two routes: the invariant route of the new class vs NeoHookean's hand-written S and C (the same energy)."""
    E_ = _strains(6, 0.1)
    new, ref = NeoHookeanIJ(0.6, 2.0), NeoHookean(0.6, 2.0)
    S, CC = new.stress_and_tangent(E_)
    S_ref, CC_ref = ref.stress_and_tangent(E_)
    torch.testing.assert_close(S, S_ref, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(CC, CC_ref, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(new.initial_tangent(), ref.initial_tangent())


def test_new_energy_stress_and_tangent_against_finite_differences() -> None:
    model = BlatzKo(0.4)
    assert model.parameters.keys() == {"mu"} and model.to_dict() == {"model": "BlatzKo", "parameters": {"mu": 0.4}}
    E_ = _strains(5, 0.08, seed=1)
    # S = dpsi/dE (FD of the energy along each symmetric direction) and C = dS/dE (check_tangent)
    S = model.stress(E_)
    h = 1e-5
    for i, j in ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)):
        D = torch.zeros(3, 3, dtype=DT)
        D[i, j] = D[j, i] = 1.0
        fd = (model.energy(E_ + h * D) - model.energy(E_ - h * D)) / (2 * h)
        want = S[:, i, j] * (1.0 if i == j else 2.0)
        torch.testing.assert_close(fd, want, rtol=1e-8, atol=1e-10)
    report = check_tangent(model, E_, rtol=1e-7)
    assert report.passed, report
    # the small-strain limit: mu0 = mu, K0 = 5 mu / 3
    C_fd, _ = finite_difference_tangent(model.stress, torch.zeros(3, 3, dtype=DT))
    torch.testing.assert_close(C_fd, model.initial_tangent(), rtol=1e-7, atol=1e-9)
    with pytest.raises(ValueError, match="'mu' must be positive"):
        BlatzKo(-1.0)
    with pytest.raises(ValueError, match=r"missing parameter\(s\) \['mu'\]"):
        BlatzKo()
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['K'\]"):
        BlatzKo(0.4, K=1.0)


# --------------------------------------------------------------------------------------- a volumetric term
def test_new_volumetric_term_by_name() -> None:
    # defined here, and unregistered after: other test modules enumerate the registered volumetric functions
    class Hartmann(VolumetricTerm, name="hartmann_neff_test"):
        """U = K/beta^2 (beta ln J + J^-beta - 1), beta = 2 (Hartmann & Neff 2003 family)."""

        def energy(self, J: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
            beta = 2.0
            return K / beta**2 * (beta * torch.log(J) + J ** (-beta) - 1.0)

    try:
        assert VOLUMETRIC_TERMS["hartmann_neff_test"] is Hartmann
        model = MooneyRivlin(0.3, 0.05, K=50.0, volumetric="hartmann_neff_test")
        assert model.to_dict()["options"] == {"volumetric": "hartmann_neff_test"}
        # pure dilatation F = s I: S = J U'(J) C^-1 (the isochoric part gives none), U' = K/beta (1/J - J^-beta-1)
        s = torch.tensor([0.9, 1.05, 1.2], dtype=DT)
        J = s**3
        Up = 50.0 / 2.0 * (1.0 / J - J ** (-3.0))
        E_ = torch.diag_embed(0.5 * (s**2 - 1.0)[:, None].expand(3, 3))
        S_want = torch.diag_embed((J * Up / s**2)[:, None].expand(3, 3))
        torch.testing.assert_close(model.stress(E_), S_want, rtol=1e-12, atol=1e-13)
        # U''(1) = K: the initial tangent is linear elasticity with K0 = K; the tangent passes the FD check
        C_fd, _ = finite_difference_tangent(model.stress, torch.zeros(3, 3, dtype=DT))
        torch.testing.assert_close(C_fd, model.initial_tangent(), rtol=1e-7, atol=1e-8)
        assert check_tangent(model, _strains(4, 0.05, seed=2), rtol=1e-7).passed
    finally:
        VOLUMETRIC_TERMS.pop("hartmann_neff_test", None)
        VOLUMETRIC_FUNCTIONS.pop("hartmann_neff_test", None)


# ----------------------------------------------------------------------------------------------- card writers
def test_card_writer_registry_follows_the_class_hierarchy() -> None:
    # The one registry of card writers lives in constitutive.export (cards are export's business); a subclass
    # defined outside the package inherits its parent's writer until it registers its own.
    from constitutive import export
    from constitutive.export import cards

    class MyJ2(J2Plasticity):
        pass

    try:
        assert export.card_writer_for(MyJ2(E, NU, SY)) is export.card_writer_for(J2Plasticity(E, NU, SY))
        assert "\n*PLASTIC\n250.0, 0.0\n" in export.abaqus_card(MyJ2(E, NU, SY))  # perfectly plastic table

        @export.register_card_writer(MyJ2)
        def _mine(model: Material, **kw: object) -> str:
            return "*USER MATERIAL"

        assert export.card_writer_for(MyJ2(E, NU, SY)) is _mine
        assert export.card_writer_for(J2Plasticity(E, NU, SY)) is not _mine
    finally:
        cards._CARD_WRITERS.pop(MyJ2, None)
        MODELS.pop("MyJ2", None)


def test_describe_models_reads_the_declarations() -> None:
    entries = describe_models()
    kinds = {e["kind"] for e in entries}
    assert kinds == {"model", "hardening", "kinematic", "volumetric"}
    j2 = next(e for e in entries if e["kind"] == "model" and e["name"] == "J2Plasticity")
    nu = next(p for p in j2["parameters"] if p["name"] == "nu")
    assert nu["range"] == "in (-1, 0.5)" and nu["unit"] == "1" and nu["meaning"] == "Poisson's ratio"
    assert {e["name"] for e in entries if e["kind"] == "hardening"} >= {"linear", "voce", "swift", "user"}
    assert {e["name"] for e in entries if e["kind"] == "kinematic"} >= {"prager", "armstrong_frederick", "chaboche"}
    assert {e["name"] for e in entries if e["kind"] == "volumetric"} >= {"quadratic", "log", "simo_taylor"}
    # every declared parameter of every model names its meaning and unit
    for e in entries:
        for p in e["parameters"]:
            assert p["meaning"] and p["unit"], (e["name"], p["name"])
