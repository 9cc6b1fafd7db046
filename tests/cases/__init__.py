"""Per-model test entries for the reusable harness ``tests/test_model_harness.py``.

Each module in this package defines ``CASES: list[ModelCase]``; the harness collects all of them and checks every
model the same way (tangent vs finite differences, zero stress at zero strain, objectivity, small-strain limit,
symmetries, analytic vs automatic-differentiation tangent).

Path-dependent models (plasticity, viscoelasticity) have their own case type: ``path_dependent.PATH_CASES`` of
:class:`path_dependent.PathDependentCase`, checked along a strain history by ``tests/test_path_dependent_harness.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from constitutive.models import Material


@dataclass
class ModelCase:
    """One model configuration to test.

    ``strains``: ``(N, 3, 3)`` symmetric test strains (the model's own strain measure) at which tangents are
    checked. ``linear_limit``: the expected tangent ``(3, 3, 3, 3)`` at zero strain (linear elasticity with the
    model's initial moduli), or ``None``. ``analytic``: the class overrides ``tangent`` with a closed form, which
    must equal ``ad_tangent``. ``major_symmetric``: tangent must be major-symmetric (energy-based models).
    """

    id: str
    make: Callable[[], Material]
    strains: torch.Tensor
    linear_limit: torch.Tensor | None = None
    analytic: bool = False
    isotropic: bool = True
    major_symmetric: bool = True
    zero_stress_at_zero_strain: bool = True
    rtol: float = 1e-6
    extra: dict = field(default_factory=dict)


def random_strains(n: int, scale: float, generator: torch.Generator) -> torch.Tensor:
    """``(n, 3, 3)`` random symmetric strains of size ``scale`` (float64), reproducible through ``generator``."""
    a = torch.randn(n, 3, 3, generator=generator, dtype=torch.float64)
    return scale * 0.5 * (a + a.transpose(-1, -2))


def isotropic_stiffness(lmbda: float, mu: float) -> torch.Tensor:
    """λ δij δkl + μ (δik δjl + δil δjk), written with numpy, independently of the library's tensor algebra."""
    d = np.eye(3)
    C = lmbda * np.einsum("ij,kl->ijkl", d, d) + mu * (np.einsum("ik,jl->ijkl", d, d) + np.einsum("il,jk->ijkl", d, d))
    return torch.from_numpy(C)
