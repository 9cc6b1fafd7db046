r"""Verification of tangents against finite differences: :func:`check_tangent` and its engines.

Modules: :mod:`.differences` (finite-difference tangents, Taylor remainder), :mod:`.tangent_check`
(:func:`check_tangent`), :mod:`.report` (:class:`TangentCheckReport`), :mod:`.expressions` (stress functions from
expressions of X). The ``constitutive check`` command is in :mod:`constitutive.cli.check`.

A tangent :math:`C = \partial f/\partial X` of a stress map :math:`f` (``(..., 3, 3) -> (..., 3, 3)``) is compared,
component by component and at every point of a batch at once, with a finite-difference tangent taken *in the same
convention* (see :mod:`constitutive.tangent`):

* ``"symmetric"``: the column :math:`kl` comes from a symmetric perturbation
  :math:`X + h\,(e_k \otimes e_l + e_l \otimes e_k)/(1 + \delta_{kl})`, so that
  :math:`\mathrm{d}f/\mathrm{d}h = C : E` gives :math:`C_{ijkl}` directly (:math:`X_{12}` and :math:`X_{21}` each
  move by h/2; the diagonal by h);
* ``"components"``: the off-diagonal perturbation moves :math:`X_{12}` and :math:`X_{21}` by h each, which gives the
  doubled shear columns of that convention;
* ``"full"``: the nine perturbations :math:`e_k \otimes e_l`; the function must accept non-symmetric input.

Methods: ``"central"`` (default) and ``"forward"`` differences, both Richardson-extrapolated (two steps h and h/2)
so that their truncation error is :math:`O(h^4)` and :math:`O(h^2)`; ``"complex"`` (complex step,
:math:`\operatorname{Im} f(X + i h E)/h`, exact to round-off for functions that are real-analytic *and* accept complex
input -- not for those built on ``eigh``, ``abs`` or ``max``); and ``"taylor"``: the Taylor remainder
:math:`r(h) = \|f(X + h D) - f(X) - h\,C : D\|` along a random direction D for a geometric range of h, whose
log-log slope is 2 for a correct tangent and 1 for a wrong one.

The automatic step is :math:`h = \epsilon^{1/3} s` per point, with the length scale
:math:`s = \max(\max|X|,\ \max|f(X)| / \max|C|)` (the strain magnitude, or the offset-to-slope ratio when f does
not vanish at X = 0), so round-off stays at :math:`\approx\epsilon^{2/3}` relative to C and, with Richardson, the
truncation error is far below it: a correct float64 tangent of a smooth function passes at ``rtol=1e-8``.
"""

from __future__ import annotations

from .differences import METHODS, finite_difference_tangent, taylor_remainder
from .expressions import expression_function
from .report import TangentCheckReport
from .tangent_check import check_tangent
from .tolerances import DEFAULT_RTOL, default_rtol

__all__ = [
    "METHODS",
    "DEFAULT_RTOL",
    "default_rtol",
    "TangentCheckReport",
    "check_tangent",
    "expression_function",
    "finite_difference_tangent",
    "taylor_remainder",
]
