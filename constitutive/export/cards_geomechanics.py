r"""Abaqus cards for the frictional plasticity models of :mod:`constitutive.models.geomechanics`.

* :class:`~constitutive.models.geomechanics.DruckerPrager` -> ``*ELASTIC`` + ``*DRUCKER PRAGER, SHEAR
  CRITERION=LINEAR`` (data line β, K, ψ in degrees, K = 1) + ``*DRUCKER PRAGER HARDENING, TYPE=COMPRESSION``
  (lines σ_c, ε̄^pl). Exact: Abaqus's linear model with K = 1 is :math:`F = q - p\tan\beta - d`,
  :math:`G = q - p\tan\psi`, :math:`d = (1 - \tan\beta/3)\sigma_c` for hardening given in uniaxial compression, and
  its equivalent plastic strain :math:`\dot{\bar\varepsilon}^{pl} = |\dot\varepsilon^{pl}_{11}|` in uniaxial
  compression, i.e. :math:`(1 - \tan\psi/3)\dot\gamma` -- the package's α (Abaqus Analysis User's Guide, *Extended
  Drucker-Prager models*; Keywords Reference ``*DRUCKER PRAGER``, ``*DRUCKER PRAGER HARDENING``). The σ_c(ε̄) law is
  tabulated by :func:`~constitutive.export.cards.plastic_table` (the interpolation error is in a ``**`` comment).
* :class:`~constitutive.models.geomechanics.MohrCoulomb` -> ``*ELASTIC`` + ``*MOHR COULOMB`` (φ, ψ in degrees) +
  ``*MOHR COULOMB HARDENING`` (lines c, ε̄^pl). The elasticity, the yield surface (Abaqus: :math:`F = R_{mc} q - p
  \tan\phi - c`, the same hexagonal pyramid) and the cohesion table are the model's; **the plastic flow is not**:
  Abaqus's flow potential is smooth (hyperbolic in the meridional plane, Menétrey--Willam in the deviatoric plane),
  not the hexagonal :math:`\Psi` used here, so stresses after yield agree only approximately. The card says so in
  a comment (Abaqus Analysis User's Guide, *Mohr-Coulomb plasticity*).

With non-associated flow (ψ ≠ β, ψ ≠ φ) the consistent tangent is unsymmetric: the cards carry a ``**`` comment
asking for Abaqus's unsymmetric solver (``*STEP, UNSYMM=YES``). CalculiX has neither keyword: ``code="calculix"``
raises ``ValueError`` (use a UMAT).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..models.geomechanics import DruckerPrager, MohrCoulomb
from .cards import (
    _check_code,
    _data_lines,
    _fmt,
    _isotropic_elastic_lines,
    _scalar,
    plastic_table,
    register_card_writer,
)

__all__ = ["abaqus_drucker_prager_card", "abaqus_mohr_coulomb_card", "UNSYMMETRIC_NOTE"]

#: The comment line written when the consistent tangent is unsymmetric (non-associated flow).
UNSYMMETRIC_NOTE = (
    "** unsymmetric tangent (non-associated flow, dilation angle != friction angle): run the step with "
    "*STEP, UNSYMM=YES"
)


class _StrengthCurve:
    """The hardened strength σ_c(α) or c(α) of a geomechanics model, as the ``flow_stress`` that
    :func:`~constitutive.export.cards.plastic_table` tabulates."""

    def __init__(self, model: Any) -> None:
        self.model, self.dtype, self.device = model, model.dtype, model.device

    def flow_stress(self, alpha: torch.Tensor, slope: bool = False) -> tuple[torch.Tensor, None]:
        return self.model.strength(alpha)[0], None


def _table(model: Any, keyword: str, tolerance: float | None, max_plastic_strain: float) -> list[str]:
    table = plastic_table(_StrengthCurve(model), tolerance, max_plastic_strain)  # type: ignore[arg-type]
    lines = [f"{_fmt(s)}, {_fmt(e)}" for s, e in zip(np.asarray(table.stress), np.asarray(table.strain))]
    return [table.comment(keyword), *lines]


def _refuse_calculix(model: Any, code: str, keyword: str) -> None:
    _check_code(code)
    if code == "calculix":
        raise ValueError(
            f"CalculiX has no {keyword} keyword, so no CalculiX card reproduces {type(model).__name__}: write "
            "code='abaqus', or use a UMAT"
        )


def abaqus_drucker_prager_card(
    model: DruckerPrager, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0
) -> str:
    """``*ELASTIC`` + ``*DRUCKER PRAGER`` + ``*DRUCKER PRAGER HARDENING, TYPE=COMPRESSION`` for a
    :class:`DruckerPrager` model (module docstring; exact, the hardening table within ``tolerance``)."""
    _refuse_calculix(model, code, "*DRUCKER PRAGER")
    lines = [_isotropic_elastic_lines(_scalar(model, "E"), _scalar(model, "nu"))]
    if model.unsymmetric_tangent:
        lines.append(UNSYMMETRIC_NOTE)
    lines += [
        "*DRUCKER PRAGER, SHEAR CRITERION=LINEAR",
        *_data_lines([_scalar(model, "beta"), 1.0, _scalar(model, "psi")]),
    ]
    table = _table(model, "*DRUCKER PRAGER HARDENING", tolerance, max_plastic_strain)
    lines += [table[0], "*DRUCKER PRAGER HARDENING, TYPE=COMPRESSION", *table[1:]]
    return "\n".join(lines) + "\n"


def abaqus_mohr_coulomb_card(
    model: MohrCoulomb, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0
) -> str:
    """``*ELASTIC`` + ``*MOHR COULOMB`` + ``*MOHR COULOMB HARDENING`` for a :class:`MohrCoulomb` model (module
    docstring: the yield surface, elasticity and cohesion table are exact; Abaqus's smooth flow potential is not the
    model's, which a comment states)."""
    _refuse_calculix(model, code, "*MOHR COULOMB")
    lines = [_isotropic_elastic_lines(_scalar(model, "E"), _scalar(model, "nu"))]
    lines.append(
        "** note: Abaqus's Mohr-Coulomb flow potential is smooth (hyperbolic meridian, Menetrey-Willam deviatoric "
        "section) and its equivalent plastic strain is its own; the model's potential is the hexagonal pyramid "
        "with the dilation angle: same elasticity, yield surface and cohesion table, different plastic flow"
    )
    if model.unsymmetric_tangent:
        lines.append(UNSYMMETRIC_NOTE)
    lines += ["*MOHR COULOMB", *_data_lines([_scalar(model, "phi"), _scalar(model, "psi")])]
    table = _table(model, "*MOHR COULOMB HARDENING", tolerance, max_plastic_strain)
    lines += [table[0], "*MOHR COULOMB HARDENING", *table[1:]]
    return "\n".join(lines) + "\n"


def _dp_writer(
    model: Any, *, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0, **_: Any
) -> str:
    return abaqus_drucker_prager_card(model, code, tolerance, max_plastic_strain)


def _mc_writer(
    model: Any, *, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0, **_: Any
) -> str:
    return abaqus_mohr_coulomb_card(model, code, tolerance, max_plastic_strain)


register_card_writer(DruckerPrager, _dp_writer)
register_card_writer(MohrCoulomb, _mc_writer)
