r"""Abaqus cards for :class:`~constitutive.models.hill.Hill48`: ``*ELASTIC`` + ``*PLASTIC`` (the flow-stress table,
as J2's) + ``*POTENTIAL`` (Hill's yield-stress ratios).

Abaqus (Theory Guide, 'Stress potentials for anisotropic metal plasticity'; Analysis User's Guide, 'Anisotropic
yield/creep') writes Hill's potential :math:`f(\sigma) = \sqrt{F(\sigma_{22}-\sigma_{33})^2 + \dots +
2N\sigma_{12}^2}` with :math:`F = \tfrac{(\sigma^0)^2}{2}(\bar\sigma_{22}^{-2} + \bar\sigma_{33}^{-2} -
\bar\sigma_{11}^{-2})`, ..., :math:`N = \tfrac32(\tau^0/\bar\sigma_{12})^2`, :math:`\tau^0 = \sigma^0/\sqrt3`, and
reads the ratios :math:`R_{ij}` (``*POTENTIAL`` data line ``R11, R22, R33, R12, R13, R23``) with
:math:`R_{ii} = \bar\sigma_{ii}/\sigma^0`, :math:`R_{ij} = \bar\sigma_{ij}/\tau^0`. The package's constants are
Abaqus's (same normalisation, F = G = H = 1/2, L = M = N = 3/2 is von Mises), σ^0 is the ``*PLASTIC`` flow stress
σ_f(α), and Abaqus's equivalent plastic strain is work-conjugate to f, as the package's α.

The ratios refer to the local material axes: the section must use an ``*ORIENTATION`` whose local 1, 2, 3 axes are
the model's ``orientation`` rows; the card's comment gives them (``SYSTEM=RECTANGULAR``: point a on the local
1-axis, point b in the local 1-2 plane).
"""

from __future__ import annotations

from typing import Any

import torch

from ..models.hill import Hill48
from .cards import (
    _check_code,
    _data_lines,
    _fmt,
    _isotropic_elastic_lines,
    _scalar,
    _table_lines,
    plastic_table,
    register_card_writer,
)

__all__ = ["abaqus_hill_card", "POTENTIAL_ORDER"]

#: The order of the ``*POTENTIAL`` data line.
POTENTIAL_ORDER = ("R11", "R22", "R33", "R12", "R13", "R23")


def _orientation_comment(model: Hill48) -> str:
    A = torch.as_tensor(model.parameters["orientation"]).detach().cpu()
    if A.ndim > 2:
        return (
            f"** material axes vary per point (orientation of batch shape {tuple(A.shape[:-2])}): give them with "
            "*ORIENTATION and a *DISTRIBUTION; the R_ij refer to those local axes"
        )
    a, b = A[0].tolist(), A[1].tolist()
    return (
        "** the R_ij refer to the local material axes: use them through the section's ORIENTATION=..., e.g.\n"
        "** *ORIENTATION, NAME=HILL_AXES, SYSTEM=RECTANGULAR\n"
        f"** {', '.join(_fmt(v) for v in a)}, {', '.join(_fmt(v) for v in b)}, 0.0, 0.0, 0.0\n"
        "** (point a on the local 1-axis, point b in the local 1-2 plane: the model's orientation rows 1 and 2)"
    )


def abaqus_hill_card(
    model: Hill48, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0
) -> str:
    r"""``*ELASTIC`` + ``*PLASTIC`` (flow-stress table, :func:`~.cards.plastic_table`) + ``*POTENTIAL`` for a
    :class:`~constitutive.models.hill.Hill48` model, with the ``*ORIENTATION`` to use in a comment.

    The ratios are :meth:`Hill48.yield_ratios` (:math:`R_{11} = (G+H)^{-1/2}`, ...,
    :math:`R_{12} = \sqrt{3/(2N)}`). CalculiX has no ``*POTENTIAL``: ``code="calculix"`` raises ``ValueError``.
    """
    _check_code(code)
    if code == "calculix":
        raise ValueError(
            "CalculiX has no *POTENTIAL (Hill) keyword, so no CalculiX card reproduces Hill48: write code='abaqus', "
            "or use a UMAT"
        )
    ratios = model.yield_ratios()
    values = [float(torch.as_tensor(ratios[k]).detach().cpu()) for k in POTENTIAL_ORDER]
    table = plastic_table(model, tolerance, max_plastic_strain)
    lines = [
        _isotropic_elastic_lines(_scalar(model, "E"), _scalar(model, "nu")),
        table.comment(),
        "*PLASTIC",
        *_table_lines(table),
        f"** Hill48 F, G, H, L, M, N = {', '.join(_fmt(_scalar(model, k)) for k in ('F', 'G', 'H', 'L', 'M', 'N'))}",
        _orientation_comment(model),
        "*POTENTIAL",
        *_data_lines(values),
    ]
    return "\n".join(lines) + "\n"


@register_card_writer(Hill48)
def _hill_writer(
    model: Any, *, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0, **_: Any
) -> str:
    return abaqus_hill_card(model, code, tolerance, max_plastic_strain)
