r"""Hardening laws for small-strain J2 (von Mises) plasticity, as plain parameter records.

The records only *name* a law and carry its numbers; the model (:class:`~constitutive.models.plasticity.J2Plasticity`)
stores those numbers as its own differentiable parameters (so ``to_dict``/``save``/``with_parameters`` and calibration
work) and evaluates the law.

Isotropic hardening: the flow stress, in von Mises equivalent stress units, is

.. math::
    \sigma_f(\alpha) = \sigma_y + H\,\alpha + R(\alpha), \qquad R(0) = 0,

with :math:`\alpha` the equivalent (accumulated) plastic strain, :math:`\dot\alpha = \sqrt{2/3}\,\|\dot\varepsilon^p\|`,
and :math:`R` one of

* :class:`Linear` ``(H)``: :math:`R = 0` (the linear part :math:`H\alpha` is the model's ``H``);
* :class:`Voce` ``(Q, b)``: :math:`R = Q\,(1 - e^{-b\alpha})` (saturates at :math:`\sigma_y + Q`);
* :class:`Swift` ``(K, eps0, n)``: :math:`R = K[(\varepsilon_0 + \alpha)^n - \varepsilon_0^n]`. With
  :math:`\sigma_y = K \varepsilon_0^n` (the default when ``sigma_y`` is ``None``) and ``H = 0`` this is the classic
  Swift law :math:`\sigma_f = K(\varepsilon_0 + \alpha)^n`;
* a user callable ``R(alpha)`` (elementwise on a tensor; its slope comes from forward-mode automatic
  differentiation).

Kinematic hardening: back stresses :math:`X_k` (deviatoric, stress units), :math:`k = 1..n`, with the
Armstrong--Frederick law :math:`\dot X_k = \tfrac23 C_k \dot\varepsilon^p - \gamma_k X_k \dot\alpha`;
:class:`Prager` is :math:`\gamma = 0`, :class:`Chaboche` several terms. The yield function is
:math:`f = \sqrt{3/2}\,\|\operatorname{dev}\sigma - \sum_k X_k\| - \sigma_f(\alpha)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Linear", "Voce", "Swift", "Prager", "ArmstrongFrederick", "Chaboche", "kinematic_terms"]


@dataclass(frozen=True)
class Linear:
    """Linear isotropic hardening :math:`\\sigma_f = \\sigma_y + H\\alpha` (``H`` ≥ 0, stress units)."""

    H: float


@dataclass(frozen=True)
class Voce:
    """Voce saturation hardening :math:`R = Q(1 - e^{-b\\alpha})` (``Q`` ≥ 0 stress units, ``b`` > 0)."""

    Q: float
    b: float


@dataclass(frozen=True)
class Swift:
    """Swift power law :math:`R = K[(\\varepsilon_0 + \\alpha)^n - \\varepsilon_0^n]` (``K``, ``eps0``, ``n`` > 0)."""

    K: float
    eps0: float
    n: float


@dataclass(frozen=True)
class Prager:
    """Linear (Prager) kinematic hardening :math:`\\dot X = \\tfrac23 C \\dot\\varepsilon^p` (``C`` ≥ 0)."""

    C: float


@dataclass(frozen=True)
class ArmstrongFrederick:
    """Armstrong--Frederick back stress :math:`\\dot X = \\tfrac23 C\\dot\\varepsilon^p - \\gamma X \\dot\\alpha`;
    saturates at :math:`\\sqrt{3/2}\\,\\|X\\| = C/\\gamma`."""

    C: float
    gamma: float


@dataclass(frozen=True)
class Chaboche:
    """Several Armstrong--Frederick back stresses (``C[k]``, ``gamma[k]``; a zero ``gamma`` is a Prager term)."""

    C: Sequence[float]
    gamma: Sequence[float]


def kinematic_terms(kinematic: object) -> tuple[list[float], list[float]]:
    """Normalise a kinematic-hardening spec to ``(C list, gamma list)``.

    Accepts ``None``, :class:`Prager`, :class:`ArmstrongFrederick`, :class:`Chaboche`, or a list/tuple of
    :class:`Prager`/:class:`ArmstrongFrederick` records. ``ValueError`` for anything else.
    """
    if kinematic is None:
        return [], []
    if isinstance(kinematic, Prager):
        return [kinematic.C], [0.0]
    if isinstance(kinematic, ArmstrongFrederick):
        return [kinematic.C], [kinematic.gamma]
    if isinstance(kinematic, Chaboche):
        C, g = list(kinematic.C), list(kinematic.gamma)
        if len(C) != len(g):
            raise ValueError(f"Chaboche needs as many C as gamma values, got {len(C)} and {len(g)}")
        return C, g
    if isinstance(kinematic, (list, tuple)):
        C, g = [], []
        for term in kinematic:
            if isinstance(term, (Prager, ArmstrongFrederick, Chaboche)):
                c, gg = kinematic_terms(term)
                C += c
                g += gg
            else:
                raise ValueError(f"kinematic terms must be Prager/ArmstrongFrederick/Chaboche, got {term!r}")
        return C, g
    raise ValueError(
        f"kinematic must be None, Prager, ArmstrongFrederick, Chaboche or a list of them, got {kinematic!r}"
    )
