r"""Abaqus cards of :class:`~constitutive.models.ModifiedCamClay`: ``*POROUS ELASTIC`` with ``*CLAY PLASTICITY``
(registered with :func:`~.cards.register_card_writer`, so :func:`~.cards.abaqus_card` writes them).

Field by field (Abaqus Keywords Reference, ``*POROUS ELASTIC`` and ``*CLAY PLASTICITY``; Analysis User's Guide,
'Elastic behavior of porous materials' and 'Critical state (clay) plasticity model'):

=====================================  ==========================================================================
card field                             package parameter
=====================================  ==========================================================================
``*POROUS ELASTIC, SHEAR=G``           constant shear modulus (``G`` given)
``*POROUS ELASTIC, SHEAR=POISSON``     G from K and ν (``nu`` given)
  1 logarithmic bulk modulus κ         ``kappa``
  2 G, or Poisson's ratio ν            ``G`` or ``nu``
  3 elastic tensile limit p_t^el       ``p_t``
``*CLAY PLASTICITY``                   exponential hardening (``HARDENING=EXPONENTIAL``, the Standard default)
  1 logarithmic plastic bulk modulus   ``lmbda``
  2 stress ratio at critical state M   ``M``
  3 initial yield surface size a0      ``pc0 / 2`` (Abaqus a is the half-size of the ellipse, p_c = 2a)
  4 β (wet-side ellipse shape)         1 (the modified Cam-clay ellipse on both sides)
  5 K (triaxial tension/compression)   1 (a circle in the π-plane: q is the von Mises stress)
=====================================  ==========================================================================

The initial state is not material data in Abaqus: the writer adds the ``*INITIAL CONDITIONS`` it needs as ``**``
comment lines (``TYPE=RATIO`` with e0, ``TYPE=STRESS`` with σ = −p0 I) for the user to place in the model.

What does not map exactly:

* Abaqus is a finite-strain formulation: its porous elasticity is
  :math:`\frac{\kappa}{1+e_0}\ln\frac{p_0 + p_t}{p + p_t} = J^{el} - 1` and its hardening
  :math:`a = a_0\exp\bigl((1+e_0)\frac{1 - J^{pl}}{\lambda - \kappa J^{pl}}\bigr)`; the package's laws are their
  small-strain forms (:math:`J - 1 \to \operatorname{tr}\varepsilon`, :math:`\kappa J^{pl} \to \kappa`), equal
  to first order in the volume change;
* with ``SHEAR=POISSON`` Abaqus integrates the deviatoric rate law :math:`dS = 2G\,de^{el}` with the
  instantaneous G, the package uses the secant form :math:`S = 2G(p)\,e^{el}`: the two agree at constant
  pressure and for constant G, and differ where p changes while :math:`e^{el} \ne 0`;
* ``*CLAY PLASTICITY``'s β ≠ 1, K ≠ 1, ``HARDENING=TABULAR`` and ``INTERCEPT=e1`` (a0 from the NCL intercept e1,
  :math:`a_0 = \frac12\exp\frac{e_1 - e_0 - \kappa\ln p_0}{\lambda - \kappa}`) have no package counterpart
  (the model takes ``pc0`` directly).
"""

from __future__ import annotations

from typing import Any

from ..models.camclay import ModifiedCamClay
from .cards import _check_code, _data_lines, _fmt, _scalar, register_card_writer

__all__ = ["abaqus_camclay_card"]


def abaqus_camclay_card(model: ModifiedCamClay, code: str = "abaqus") -> str:
    """The ``*POROUS ELASTIC`` and ``*CLAY PLASTICITY`` blocks of a :class:`ModifiedCamClay` (without
    ``*MATERIAL``), preceded by ``**`` comments giving the ``*INITIAL CONDITIONS`` the model assumes. CalculiX has
    neither keyword: ``code="calculix"`` raises ``ValueError``."""
    _check_code(code)
    if code == "calculix":
        raise ValueError("CalculiX has no *POROUS ELASTIC or *CLAY PLASTICITY: ModifiedCamClay has no CalculiX card")
    if not isinstance(model, ModifiedCamClay):
        raise TypeError(f"abaqus_camclay_card needs a ModifiedCamClay, got {type(model).__name__}")
    params = model.parameters
    shear, second = ("G", _scalar(model, "G")) if "G" in params else ("POISSON", _scalar(model, "nu"))
    e0, p0 = _scalar(model, "e0"), _scalar(model, "p0")
    lines = [
        f"** initial conditions this material assumes: *INITIAL CONDITIONS, TYPE=RATIO (void ratio e0 = {_fmt(e0)})",
        f"** and *INITIAL CONDITIONS, TYPE=STRESS (sigma = -p0 I, p0 = {_fmt(p0)}; tension positive)",
        f"*POROUS ELASTIC, SHEAR={shear}",
        *_data_lines([_scalar(model, "kappa"), second, _scalar(model, "p_t")]),
        "*CLAY PLASTICITY, HARDENING=EXPONENTIAL",
        *_data_lines([_scalar(model, "lmbda"), _scalar(model, "M"), 0.5 * _scalar(model, "pc0"), 1.0, 1.0]),
    ]
    return "\n".join(lines) + "\n"


@register_card_writer(ModifiedCamClay)
def _camclay_writer(model: Any, *, code: str = "abaqus", **_: Any) -> str:
    return abaqus_camclay_card(model, code)
