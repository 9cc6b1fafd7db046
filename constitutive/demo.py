"""The demo behind ``constitutive demo``: what the package does, in a few screens.

For a structural steel (linear elasticity, from ``materials/steel_s355.toml``) and a natural rubber (Ogden fitted
by Ogden to Treloar's data, ``materials/natural_rubber_ogden_treloar.toml``) at a given strain, print the stress and
the tangent in tensor, Voigt (Abaqus order) and Mandel form, and verify the tangent by finite differences; then the
rubber's Cauchy stress and Abaqus finite-strain tangent, and a cyclic J2-plasticity path driven by Newton with the
consistent tangent checked at every step.
"""

from __future__ import annotations

from typing import Any

import torch

from . import paths
from .check import check_tangent
from .driver import drive
from .kinematics import green_lagrange
from .models import J2Plasticity, Voce, load
from .notation import component_labels, to_mandel, to_voigt
from .tensor import Tensor


def _matrix(M: Tensor, labels: list[str], fmt: str = "{:>11.4g}") -> str:
    head = "      " + "".join(f"{lab:>11}" for lab in labels)
    rows = [f"{labels[i]:>5} " + "".join(fmt.format(float(x)) for x in M[i]) for i in range(M.shape[0])]
    return "\n".join([head, *rows])


def _vector(v: Tensor, labels: list[str]) -> str:
    return "  ".join(f"{lab}={float(x):.5g}" for lab, x in zip(labels, v))


def show_material(title: str, model: Any, strain: Tensor, order: str = "abaqus") -> dict[str, Any]:
    """Print stress and tangent of ``model`` at ``strain`` in every form and check the tangent; return numbers."""
    stress = model.stress(strain)
    tangent = model.tangent(strain)
    labels = component_labels(order)
    print(f"\n=== {title}: {type(model).__name__} {dict((k, v) for k, v in model.to_dict()['parameters'].items())}")
    print(f"strain measure: {model.strain_measure}; stress measure: {model.stress_measure}")
    print("strain tensor:\n", strain.numpy().round(6))
    print("stress tensor:\n", stress.detach().numpy().round(6))
    print(f"stress, Voigt ({order} order):  {_vector(to_voigt(stress, 'stress', order), labels)}")
    print(f"stress, Mandel ({order} order): {_vector(to_mandel(stress, 'stress', order), labels)}")
    t = tangent.detach()
    print(f"tangent component C_1212 = {float(t[0, 1, 0, 1]):.6g} (tensor form, (3, 3, 3, 3))")
    print(f"tangent, Voigt ({order} order; pairs with engineering shear strain):")
    print(_matrix(to_voigt(t, "stiffness", order), labels))
    print(f"tangent, Mandel ({order} order; √2 on shear, eigenvalues preserved):")
    print(_matrix(to_mandel(t, "stiffness", order), labels))
    report = check_tangent(model, strain)
    print("finite-difference check of the tangent:")
    print(report)
    return {"stress": stress, "tangent": tangent, "report": report}


def run(strain_scale: float = 1.0) -> dict[str, Any]:
    """Run the demo; returns the numbers it printed (tests use them)."""
    eps = strain_scale * torch.tensor(
        [[1.0e-3, 2.0e-4, 0.0], [2.0e-4, -3.0e-4, 1.0e-4], [0.0, 1.0e-4, -3.0e-4]], dtype=torch.float64
    )
    steel = load("steel_s355")
    out = {"steel": show_material("Structural steel, small strain", steel, eps)}
    # Rubber: a nearly isochoric stretch of 1.5 with some shear, as a deformation gradient F.
    stretch = 1.0 + 0.5 * strain_scale
    F = torch.diag(torch.tensor([stretch, stretch**-0.5, stretch**-0.5], dtype=torch.float64))
    F[0, 1] = 0.1 * strain_scale
    rubber: Any = load("natural_rubber_ogden_treloar")  # a hyperelastic model: has cauchy_and_abaqus_tangent
    out["rubber"] = show_material("Natural rubber, finite strain (Green-Lagrange E -> S)", rubber, green_lagrange(F))
    sigma, ddsdde = rubber.cauchy_and_abaqus_tangent(F)
    print("Cauchy stress and the Abaqus/Standard finite-strain UMAT tangent (Jaumann rate of Kirchhoff / J), Voigt:")
    print(_vector(to_voigt(sigma, "stress", "abaqus"), component_labels("abaqus")))
    print(_matrix(to_voigt(ddsdde, "stiffness", "abaqus"), component_labels("abaqus")))

    # Steel with J2 plasticity along a cyclic uniaxial-stress path, every step's tangent checked.
    j2 = J2Plasticity(E=210000.0, nu=0.3, sigma_y=355.0, hardening=Voce(150.0, 20.0))
    result = drive(j2, paths.cyclic("uniaxial_stress", amplitude=0.005 * strain_scale, cycles=1), check_tangent=True)
    print(f"\n=== Structural steel, J2 plasticity with Voce hardening: {j2}")
    print(result.summary())
    err = result.tangent_error  # set: check_tangent=True
    out["j2"] = {"result": result, "passed": err is not None and float(err.max()) <= 1e-6}
    return out
