"""User-defined models: from an energy, from a stress function, and by subclassing Material with ``energy`` only.

Each is compared with closed forms derived by hand (and with LinearElastic where the function is linear); the
harness entries in tests/cases/elastic.py add finite-difference, symmetry, objectivity and batching checks.
"""

from __future__ import annotations

import math

import pytest
import torch

from constitutive import paths
from constitutive.calibrate import calibrate
from constitutive.check import check_tangent
from constitutive.contracts import FiniteStrainModel
from constitutive.data import load_treloar
from constitutive.driver import drive
from constitutive.export import abaqus_card, export_finite_strain
from constitutive.models import (
    MODELS,
    HyperelasticMaterial,
    LinearElastic,
    Material,
    NeoHookean,
    from_energy,
    from_stress,
)
from constitutive.tensor import ddot, det, dyad, eye, identity4_sym, trace

F64 = torch.float64


def _sym(n: int, scale: float) -> torch.Tensor:
    a = torch.randn(n, 3, 3, dtype=F64)
    return scale * 0.5 * (a + a.transpose(-1, -2))


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-12) -> bool:
    return float((a - b).abs().max()) <= rtol * max(float(b.abs().max()), 1e-300)


def linear_psi(eps: torch.Tensor, lmbda: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
    return 0.5 * lmbda * trace(eps) ** 2 + mu * ddot(eps, eps)


def quartic_psi(eps: torch.Tensor, lmbda: torch.Tensor, mu: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    return 0.5 * lmbda * trace(eps) ** 2 + mu * ddot(eps, eps) + c * trace(eps) ** 4 + c / 3 * trace(eps @ eps @ eps)


def test_energy_model_equals_linear_elastic() -> None:
    model = from_energy(linear_psi, parameters={"lmbda": 121153.8, "mu": 80769.2}, name="UserLinear")
    ref = LinearElastic(lmbda=121153.8, mu=80769.2)
    eps = _sym(5, 1e-3)
    assert _close(model.stress(eps), ref.stress(eps))
    assert _close(model.tangent(eps), ref.tangent(eps))
    assert _close(model.energy(eps), ref.energy(eps))
    s, C = model.stress_and_tangent(eps)
    assert _close(s, ref.stress(eps)) and _close(C, ref.tangent(eps))
    assert model.energy(eps).shape == (5,) and model.stress(eps[0]).shape == (3, 3)
    assert isinstance(model, Material) and type(model).__name__ == "UserLinear" and MODELS["UserLinear"] is type(model)


def test_nonlinear_energy_against_hand_derivatives() -> None:
    lam, mu, c = 1.5, 2.0, 3.0
    model = from_energy(quartic_psi, {"lmbda": lam, "mu": mu, "c": c}, name="UserQuartic")
    eps = _sym(4, 0.3)
    tr = trace(eps)[..., None, None]
    I = eye(F64)
    # σ = λ tr ε I + 2μ ε + 4c (tr ε)³ I + c ε²
    sigma = lam * tr * I + 2 * mu * eps + 4 * c * tr**3 * I + c * eps @ eps
    assert _close(model.stress(eps), sigma)
    # C = (λ + 12 c (tr ε)²) I ⊗ I + 2μ I^s + c d(ε²)/dε, with d(ε²)/dε on Sym = sym of ε_ik δ_jl + δ_ik ε_lj
    Is = identity4_sym(F64)
    dsq = torch.einsum("nik,jl->nijkl", eps, I) + torch.einsum("ik,nlj->nijkl", I, eps)
    dsq = 0.25 * (dsq + dsq.transpose(-1, -2) + dsq.transpose(-3, -4) + dsq.transpose(-1, -2).transpose(-3, -4))
    C = (lam + 12 * c * tr[..., None, None] ** 2) * dyad(I, I) + 2 * mu * Is + c * dsq
    assert _close(model.tangent(eps), C, 1e-11)
    assert check_tangent(model, eps, rtol=1e-7).passed


def test_stress_model_against_hand_derivatives() -> None:
    def sig(eps: torch.Tensor, lmbda: torch.Tensor, mu: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        return lmbda * trace(eps) * torch.eye(3, dtype=eps.dtype) + 2 * mu * eps + beta * trace(eps) * eps

    model = from_stress(sig, {"lmbda": 1.0, "mu": 2.0, "beta": 5.0}, name="UserNonAssoc")
    eps = _sym(3, 0.2)
    I = eye(F64)
    tr = trace(eps)[..., None, None, None, None]
    # C = λ I ⊗ I + 2μ I^s + β (ε ⊗ I + tr ε I^s): not major-symmetric
    C = 1.0 * dyad(I, I) + 4.0 * identity4_sym(F64) + 5.0 * (dyad(eps, I.expand_as(eps)) + tr * identity4_sym(F64))
    assert _close(model.tangent(eps), C)
    s, C2 = model.stress_and_tangent(eps)
    assert _close(C2, C) and _close(s, model.stress(eps))
    assert not model.has_energy()
    with pytest.raises(TypeError):
        model.energy(eps)


def test_strain_and_stress_measures_are_recorded() -> None:
    def svk(E: torch.Tensor, lmbda: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
        return 0.5 * lmbda * trace(E) ** 2 + mu * ddot(E, E)

    model = from_energy(
        svk,
        {"lmbda": 1.0, "mu": 1.0},
        name="UserSVK",
        strain_measure="Green-Lagrange strain E",
        stress_measure="second Piola-Kirchhoff stress S",
    )
    assert model.strain_measure == "Green-Lagrange strain E"
    assert model.stress_measure == "second Piola-Kirchhoff stress S"
    assert from_energy(linear_psi, {"lmbda": 1.0, "mu": 1.0}, name="UserLinear").strain_measure == "small strain ε"


def test_parameters_flow_gradients() -> None:
    mu = torch.tensor(2.0, dtype=F64, requires_grad=True)
    model = from_energy(quartic_psi, {"lmbda": 1.5, "mu": mu, "c": 3.0}, name="UserQuartic")
    assert model.mu is mu
    eps = _sym(3, 0.1)
    w = torch.randn(3, 3, 3, dtype=F64)
    (model.stress(eps) * w).sum().backward()
    assert math.isclose(float(mu.grad), float((2 * eps * w).sum()), rel_tol=1e-12)  # dσ/dμ = 2ε
    mu.grad = None
    model.tangent(eps).sum().backward()  # dC/dμ = 2 I^s, summed: 2 * 9 per point
    assert math.isclose(float(mu.grad), 3 * 18.0, rel_tol=1e-12)
    # with_parameters builds a new instance of the same class, validated again
    other = model.with_parameters(c=0.0)
    assert type(other) is type(model) and float(other.c) == 0.0


def test_parameter_validation() -> None:
    with pytest.raises(ValueError, match="'mu' must be positive"):
        from_energy(linear_psi, {"lmbda": 1.0, "mu": -1.0}, name="UserLinear", positive=("mu",))
    with pytest.raises(ValueError, match="'mu' must be finite"):
        from_energy(linear_psi, {"lmbda": 1.0, "mu": float("nan")}, name="UserLinear")
    model = from_energy(linear_psi, {"lmbda": 1.0, "mu": 1.0}, name="UserLinear", positive=("mu",))
    with pytest.raises(ValueError, match="unknown parameter"):
        model.with_parameters(kappa=1.0)
    with pytest.raises(ValueError, match="'mu' must be positive"):
        model.with_parameters(mu=0.0)
    with pytest.raises(ValueError, match="required"):
        from_energy(linear_psi, {"lmbda": 1.0, "mu": None}, name="UserLinear")
    with pytest.raises(ValueError, match="positive names unknown"):
        from_energy(linear_psi, {"lmbda": 1.0, "mu": 1.0}, name="UserLinear", positive=("k",))
    with pytest.raises(ValueError, match="reserved"):
        from_energy(lambda e, stress: stress * trace(e), {"stress": 1.0}, name="UserReserved")
    with pytest.raises(ValueError, match="mapping"):
        from_energy(linear_psi, ["lmbda", "mu"], name="UserLinear")  # type: ignore[arg-type]


def test_names_cannot_shadow_built_in_models() -> None:
    with pytest.raises(ValueError, match="built-in"):
        from_energy(linear_psi, {"lmbda": 1.0, "mu": 1.0}, name="LinearElastic")
    assert MODELS["LinearElastic"] is LinearElastic
    with pytest.raises(ValueError, match="identifier"):
        from_energy(linear_psi, {"lmbda": 1.0, "mu": 1.0}, name="my model")
    with pytest.raises(ValueError, match="function"):
        from_energy(3.0, {"lmbda": 1.0})  # type: ignore[arg-type]


def test_bad_user_functions_are_reported() -> None:
    vector = from_energy(lambda e, a: a * e.diagonal(), {"a": 1.0}, name="UserVectorEnergy")
    with pytest.raises(ValueError, match="scalar"):
        vector.stress(torch.zeros(3, 3, dtype=F64))
    wrong = from_stress(lambda e, a: a * e[0], {"a": 1.0}, name="UserWrongStress")
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        wrong.stress(torch.zeros(3, 3, dtype=F64))
    model = from_energy(linear_psi, {"lmbda": 1.0, "mu": 1.0}, name="UserLinear")
    with pytest.raises(ValueError, match="symmetric"):
        model.stress(torch.triu(torch.ones(3, 3, dtype=F64)))


def test_float32_user_model() -> None:
    model = from_energy(quartic_psi, {"lmbda": 1.5, "mu": 2.0, "c": 3.0}, name="UserQuartic", dtype=torch.float32)
    eps = _sym(3, 0.1)
    s = model.stress(eps.float())
    assert s.dtype == torch.float32
    ref = from_energy(quartic_psi, {"lmbda": 1.5, "mu": 2.0, "c": 3.0}, name="UserQuartic").stress(eps)
    assert _close(s.double(), ref, 1e-5)


# ------------------------------------------------------------------------------- subclassing with energy only
class EnergyOnlyElastic(Material):
    """A user subclass that defines nothing but the energy: the base class supplies stress and tangent."""

    def __init__(self, lmbda, mu, *, dtype=torch.float64, device=None) -> None:
        super().__init__(dtype=dtype, device=device)
        self._param("lmbda", lmbda)
        self._param("mu", mu, positive=True)

    def energy(self, strain: torch.Tensor) -> torch.Tensor:
        return 0.5 * self.lmbda * trace(strain) ** 2 + self.mu * ddot(strain, strain)


def test_subclass_with_energy_only() -> None:
    model = EnergyOnlyElastic(1.2, 0.7)
    ref = LinearElastic(lmbda=1.2, mu=0.7)
    eps = _sym(4, 1e-2)
    assert model.has_energy()
    assert _close(model.stress(eps), ref.stress(eps))
    assert _close(model.tangent(eps), ref.tangent(eps))
    assert _close(model.ad_tangent(eps), ref.tangent(eps))
    assert check_tangent(model, eps).passed
    assert _close(Material.from_dict(model.to_dict()).stress(eps), ref.stress(eps))
    with pytest.raises(ValueError, match="'mu' must be positive"):
        EnergyOnlyElastic(1.0, -1.0)


def test_energy_only_subclass_stress_needs_first_derivatives_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The base-class stress of an energy-only model is the gradient alone (no second derivative computed and
    thrown away), and stress_and_tangent computes the Hessian once."""
    import constitutive.models.base as base

    calls = {"hessian": 0}
    real = base.hessian

    def counting(*args, **kwargs):
        calls["hessian"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(base, "hessian", counting)
    model = EnergyOnlyElastic(1.2, 0.7)
    ref = LinearElastic(lmbda=1.2, mu=0.7)
    eps = _sym(5, 1e-2)
    assert _close(model.stress(eps), ref.stress(eps))
    assert model.stress(eps[0]).shape == (3, 3)
    assert calls["hessian"] == 0
    s, C = model.stress_and_tangent(eps)
    assert calls["hessian"] == 1
    assert _close(s, ref.stress(eps)) and _close(C, ref.tangent(eps))


def test_user_model_parameters_are_declared() -> None:
    """from_energy/from_stress classes declare their parameters (defaults, positivity) like the built-in models, so
    describe_models() and calibration bounds see them."""
    cls = type(from_energy(linear_psi, {"lmbda": 100.0, "mu": 80.0}, name="UserDeclared", positive=["mu"]))
    decl = cls.declared_parameters()
    assert list(decl) == ["lmbda", "mu"] and decl["mu"].bounds() == (0.0, math.inf) and decl["lmbda"].default == 100.0
    assert cls(mu=3.0).parameter_declarations()["mu"] is decl["mu"] and float(cls(mu=3.0).mu) == 3.0
    with pytest.raises(ValueError, match="'mu' must be positive"):
        cls(mu=-1.0)
    MODELS.pop("UserDeclared", None)


# --------------------------------------------------------------------------- finite strain: psi(C) of one point
def ciarlet_psi(C: torch.Tensor, mu: torch.Tensor, lmbda: torch.Tensor) -> torch.Tensor:
    """Ciarlet's compressible Neo-Hookean, psi = mu/2 (I1 - 3) - mu ln J + lmbda/2 (ln J)^2, as a function of C."""
    lnJ = 0.5 * torch.log(det(C))
    return 0.5 * mu * (trace(C) - 3) - mu * lnJ + 0.5 * lmbda * lnJ**2


def _deformations(n: int = 4) -> torch.Tensor:
    g = torch.Generator().manual_seed(7)
    F = torch.eye(3, dtype=F64) + 0.2 * torch.randn(n, 3, 3, generator=g, dtype=F64)
    return torch.cat([F, torch.eye(3, dtype=F64)[None]])


def test_finite_energy_model_equals_neo_hookean_in_every_measure() -> None:
    model = from_energy(ciarlet_psi, {"mu": 0.8, "lmbda": 12.0}, kinematics="finite", name="UserCiarlet")
    ref = NeoHookean(0.8, 12.0)  # form="ciarlet": hand-written stress and tangent
    assert isinstance(model, HyperelasticMaterial) and isinstance(model, FiniteStrainModel)
    assert model.strain_measure == ref.strain_measure and model.stress_measure == ref.stress_measure
    F = _deformations()
    for name in ("second_piola", "material_tangent", "first_piola", "first_elasticity", "cauchy", "abaqus_tangent"):
        assert _close(getattr(model, name)(F), getattr(ref, name)(F), 1e-12), name
    P, A = model.first_piola_and_elasticity(F)
    assert _close(P, ref.first_piola(F)) and _close(A, ref.first_elasticity(F))
    E = 0.5 * (F.transpose(-1, -2) @ F - torch.eye(3, dtype=F64))
    assert _close(model.energy(E), ref.energy(E)) and _close(model.stress(E), ref.stress(E))
    assert float(model.initial_shear_modulus) == pytest.approx(0.8, rel=1e-13)
    assert float(model.initial_bulk_modulus) == pytest.approx(12.0 + 2 * 0.8 / 3, rel=1e-13)
    assert check_tangent(model, E[:2]).passed
    lam = torch.linspace(1.0, 4.0, 7, dtype=F64)
    for mode in ("uniaxial", "equibiaxial", "pure_shear"):
        assert _close(model.nominal_stress(lam, mode), ref.nominal_stress(lam, mode), 1e-12), mode
    again = Material.from_dict(model.to_dict())
    assert type(again) is type(model) and float(again.parameters["lmbda"]) == 12.0
    for code in ("abaqus", "calculix"):  # finite-strain export: sigma and C^{tauJ}, or S and dS/dE
        got, want = export_finite_strain(model, F[0], code), export_finite_strain(ref, F[0], code)
        assert _close(torch.as_tensor(got.stress), torch.as_tensor(want.stress))
        assert _close(torch.as_tensor(got.tangent), torch.as_tensor(want.tangent))


def test_finite_energy_model_drives_on_finite_paths() -> None:
    model = from_energy(ciarlet_psi, {"mu": 0.8, "lmbda": 12.0}, kinematics="finite", name="UserCiarlet")
    path = paths.uniaxial_stress([0.5], increments=5, kinematics="finite")
    res, ref = drive(model, path), drive(NeoHookean(0.8, 12.0), path)
    assert torch.allclose(res.stress, ref.stress, rtol=1e-12, atol=1e-12)
    assert torch.allclose(res.strain, ref.strain, rtol=1e-12, atol=1e-12)


def test_user_neo_hookean_energy_fits_treloar_like_the_package_model() -> None:
    uniaxial = load_treloar("uniaxial").experiment()
    user = from_energy(
        lambda C, mu: 0.5 * mu * (trace(C) - 3), {"mu": 0.4}, kinematics="finite", positive=["mu"], name="UserNH"
    )
    fit = calibrate(type(user), uniaxial, {"mu": 0.4})
    ref = calibrate(NeoHookean, uniaxial, {"mu": 0.4})
    assert fit.parameters["mu"] == pytest.approx(ref.parameters["mu"], rel=1e-6)
    assert fit.rms[uniaxial.name] == pytest.approx(ref.rms[uniaxial.name], rel=1e-6)


def test_finite_energy_model_errors() -> None:
    with pytest.raises(ValueError, match="unknown kinematics 'large'"):
        from_energy(ciarlet_psi, {"mu": 1.0, "lmbda": 1.0}, kinematics="large")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="give neither strain_measure nor stress_measure"):
        from_energy(ciarlet_psi, {"mu": 1.0, "lmbda": 1.0}, kinematics="finite", strain_measure="E")
    with pytest.raises(ValueError, match="parameter name 'cauchy' is reserved"):
        from_energy(lambda C, cauchy: trace(C), {"cauchy": 1.0}, kinematics="finite", name="UserBad")
    model = from_energy(ciarlet_psi, {"mu": 1.0, "lmbda": 1.0}, kinematics="finite", name="UserCiarlet")
    with pytest.raises(ValueError, match="UserCiarlet"):  # no Abaqus card for a user energy
        abaqus_card(model)
    with pytest.raises(ValueError, match="I \\+ 2E = F\\^T F must be positive definite"):
        model.stress(torch.diag(torch.tensor([-0.6, 0.0, 0.0], dtype=F64)))
    # the default stays the small-strain map on the strain psi takes
    small = from_energy(linear_psi, {"lmbda": 1.0, "mu": 1.0}, name="UserLinear")
    assert not isinstance(small, HyperelasticMaterial) and small.strain_measure != model.strain_measure
