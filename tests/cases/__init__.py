"""Per-model test entries for the reusable harness ``tests/test_model_harness.py``.

Each module in this package defines ``CASES: list[ModelCase]``; the harness collects all of them and checks every
model the same way (tangent vs finite differences, zero stress at zero strain, objectivity, small-strain limit,
symmetries, analytic vs automatic-differentiation tangent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
