"""The public hyperelastic hooks: a model written from invariants (InvariantHyperelastic) or from principal
stretches (StretchHyperelastic) equals the package's own model in every stress and tangent measure, passes
finite-difference checks, drives at finite strain, and keeps Ogden's exactness at equal stretches."""

from __future__ import annotations

import pytest
import torch

from constitutive import paths
from constitutive.check import check_tangent
from constitutive.contracts import FiniteStrainModel
from constitutive.driver import drive
from constitutive.models import (
    BULK_MODULUS,
    InvariantHyperelastic,
    Material,
    MooneyRivlin,
    Ogden,
    Parameter,
    StretchHyperelastic,
    isochoric_stretches,
)
from constitutive.models.base import MODELS

DT = torch.float64


class HookMooneyRivlin(InvariantHyperelastic):
    """Mooney--Rivlin through psi_isochoric."""

    C10 = Parameter("coefficient of (I1bar - 3)", unit="stress")
    C01 = Parameter("coefficient of (I2bar - 3)", unit="stress")
    K = BULK_MODULUS

    def psi_isochoric(self, I1bar, I2bar, J):
        return self.C10 * (I1bar - 3) + self.C01 * (I2bar - 3) + self.volumetric_term(J)


class HookMooneyRivlinI3(InvariantHyperelastic):
    """Mooney--Rivlin through psi_invariants(I1, I2, I3), written out by hand."""

    C10 = Parameter("coefficient of (I1bar - 3)", unit="stress")
    C01 = Parameter("coefficient of (I2bar - 3)", unit="stress")
    K = Parameter("bulk modulus", unit="stress", lower=0.0, lower_open=True)

    def psi_invariants(self, I1, I2, I3):
        J = torch.sqrt(I3)
        return self.C10 * (I1 * I3 ** (-1 / 3) - 3) + self.C01 * (I2 * I3 ** (-2 / 3) - 3) + 0.5 * self.K * (J - 1) ** 2


class HookOgden(StretchHyperelastic):
    """Ogden through psi_stretches (series parameters)."""

    mu = Parameter("Ogden moduli", unit="stress", shape="series")
    alpha = Parameter("Ogden exponents", unit="1", shape="series")
    K = BULK_MODULUS

    def psi_stretches(self, lam):
        lam_bar, J = isochoric_stretches(lam)
        powers = lam_bar[..., None, :] ** self.alpha[:, None]  # (..., P, 3)
        return (self.mu / self.alpha * (powers.sum(-1) - 3)).sum(-1) + self.volumetric_term(J)


@pytest.fixture(scope="module", autouse=True)
def _unregister():
    """The classes above register themselves by name (like every model); forget them after this module."""
    yield
    for name in ("HookMooneyRivlin", "HookMooneyRivlinI3", "HookOgden"):
        MODELS.pop(name, None)


F_MEASURES = (
    "second_piola",
    "material_tangent",
    "first_piola",
    "first_elasticity",
    "kirchhoff",
    "cauchy",
    "spatial_tangent",
    "abaqus_tangent",
)


def _deformations() -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    F = torch.eye(3, dtype=DT) + 0.25 * torch.randn(5, 3, 3, generator=g, dtype=DT)
    equal = torch.diag(torch.tensor([1.2, 1.2, 0.8], dtype=DT))  # two equal stretches
    return torch.cat([F, torch.eye(3, dtype=DT)[None], equal[None]])


def _same(a: Material, b: Material, rtol: float) -> None:
    F = _deformations()
    assert torch.det(F).min() > 0
    for name in F_MEASURES:
        x, y = getattr(a, name)(F), getattr(b, name)(F)
        scale = float(y.abs().max()) or 1.0
        assert float((x - y).abs().max()) <= rtol * scale, name
    E = 0.5 * (F.transpose(-1, -2) @ F - torch.eye(3, dtype=DT))
    for name in ("energy", "stress", "tangent"):
        x, y = getattr(a, name)(E), getattr(b, name)(E)
        assert float((x - y).abs().max()) <= rtol * (float(y.abs().max()) or 1.0), name
    assert float(a.initial_shear_modulus) == pytest.approx(float(b.initial_shear_modulus), rel=rtol)
    assert float(a.initial_bulk_modulus) == pytest.approx(float(b.initial_bulk_modulus), rel=rtol)


@pytest.mark.parametrize("hook", [HookMooneyRivlin, HookMooneyRivlinI3])
def test_invariant_hook_equals_mooney_rivlin(hook) -> None:
    model = hook(0.3, 0.05, 10.0)
    assert isinstance(model, FiniteStrainModel)
    _same(model, MooneyRivlin(0.3, 0.05, 10.0), 1e-12)


def test_stretch_hook_equals_ogden_also_at_equal_stretches() -> None:
    mu, alpha = [0.6, 0.001, -0.01], [1.3, 5.0, -2.0]
    _same(HookOgden(mu, alpha, 10.0), Ogden(mu, alpha, 10.0), 1e-12)
    # at F = I (three equal stretches) the tangent is the linear one, exactly (no 0/0 of eigenvector derivatives)
    C0 = HookOgden(mu, alpha, 10.0).material_tangent(torch.eye(3, dtype=DT))
    assert torch.isfinite(C0).all()
    assert torch.allclose(C0, Ogden(mu, alpha, 10.0).initial_tangent(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["uniaxial", "equibiaxial", "pure_shear"])
def test_incompressible_hooks_give_the_nominal_stress(mode) -> None:
    lam = torch.linspace(1.0, 6.0, 11, dtype=DT)
    mr, ref = HookMooneyRivlin(0.3, 0.05), MooneyRivlin(0.3, 0.05)
    assert not mr.compressible and mr.initial_bulk_modulus is None
    assert torch.allclose(mr.nominal_stress(lam, mode), ref.nominal_stress(lam, mode), rtol=1e-13, atol=1e-13)
    og, ref_og = HookOgden([0.6, -0.01], [1.3, -2.0]), Ogden([0.6, -0.01], [1.3, -2.0])
    assert torch.allclose(og.nominal_stress(lam, mode), ref_og.nominal_stress(lam, mode), rtol=1e-12, atol=1e-13)
    with pytest.raises(ValueError, match="incompressible"):
        mr.first_piola(torch.eye(3, dtype=DT))


def test_hook_models_pass_finite_difference_checks() -> None:
    F = _deformations()[:3]
    E = 0.5 * (F.transpose(-1, -2) @ F - torch.eye(3, dtype=DT))
    for model in (HookMooneyRivlin(0.3, 0.05, 10.0), HookMooneyRivlinI3(0.3, 0.05, 10.0), HookOgden([0.6], [1.7], 5.0)):
        report = check_tangent(model, E)
        assert report.passed, (type(model).__name__, report)
        # dP/dF by central differences, every component (A has no minor symmetry)
        A, h = model.first_elasticity(F), 1e-6
        fd = torch.zeros_like(A)
        for k in range(3):
            for L in range(3):
                dF = torch.zeros(3, 3, dtype=DT)
                dF[k, L] = h
                fd[..., k, L] = (model.first_piola(F + dF) - model.first_piola(F - dF)) / (2 * h)
        assert float((A - fd).abs().max()) <= 1e-7 * float(A.abs().max()), type(model).__name__


def test_hook_models_drive_at_finite_strain_and_round_trip() -> None:
    path = paths.uniaxial_stress([0.6], increments=6, kinematics="finite")
    res, ref = drive(HookMooneyRivlin(0.3, 0.05, 10.0), path), drive(MooneyRivlin(0.3, 0.05, 10.0), path)
    assert torch.allclose(res.stress, ref.stress, rtol=1e-12, atol=1e-12)
    assert torch.allclose(res.strain, ref.strain, rtol=1e-12, atol=1e-12)
    model = HookOgden([0.6, -0.01], [1.3, -2.0], 10.0)
    again = Material.from_dict(model.to_dict())
    assert type(again) is HookOgden and torch.equal(again.alpha, model.alpha)


def test_hook_errors_are_clear() -> None:
    with pytest.raises(TypeError, match="_Both defines both psi_isochoric and psi_invariants"):

        class _Both(InvariantHyperelastic):
            def psi_isochoric(self, I1bar, I2bar, J):
                return I1bar

            def psi_invariants(self, I1, I2, I3):
                return I1

    class _Neither(InvariantHyperelastic):
        mu = Parameter("modulus", unit="stress")

    with pytest.raises(TypeError, match="_Neither must define psi_isochoric"):
        _Neither(1.0).stress(torch.zeros(3, 3, dtype=DT))

    class _NoStretch(StretchHyperelastic):
        mu = Parameter("modulus", unit="stress")

    with pytest.raises(TypeError, match="_NoStretch must define psi_stretches"):
        _NoStretch(1.0).stress(torch.zeros(3, 3, dtype=DT))
