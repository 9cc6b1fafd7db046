r"""The material-point driver: one point or a batch of points along a load path, under strain, stress or mixed
control, with Newton iterations on the stress-controlled components.

**Control.** Each step of a :class:`~constitutive.paths.LoadPath` prescribes, per component, either the strain
or the stress. With :math:`e` the strain-controlled and :math:`s` the stress-controlled slots, the step solves

.. math::  r(\varepsilon_s) = \sigma_s(\varepsilon_e^*, \varepsilon_s) - \sigma_s^* = 0, \qquad
           \Delta\varepsilon_s = -\,\mathsf C_{ss}^{-1}\, r,

with :math:`\mathsf C_{ss}` the stress-controlled block of the model's tangent (the consistent tangent returned by
``update`` for path-dependent models). The partition uses the **Mandel** 6x6 tangent and Mandel vectors
(:func:`constitutive.notation.to_mandel`, orthonormal, so the residual norm is the Frobenius norm of the stress
error and no shear factor is ever re-encoded). With the consistent tangent the iteration converges quadratically.
Inside a segment, the first iterate of a step is the tangent predictor from the previous converged step. Iteration
counts and the residual history of every step are recorded.

**Finite strain.** On a ``kinematics="finite"`` path the nine components of F or of the first Piola--Kirchhoff
stress P are prescribed (component order :data:`constitutive.paths.FINITE_LABELS`); the model must provide
``first_piola(F)`` and ``first_elasticity(F)`` (:math:`\mathbb A = \partial P/\partial F`, ``A[i,j,k,l] =
dP_ij/dF_kl``); the Newton matrix is the 9x9 block of :math:`\mathbb A` (no symmetry, no factors).

**Models.** :class:`~constitutive.models.base.PathDependentMaterial` s are advanced with
``update(strain, state, dt)`` (``dt`` = the step's time increment); other small-strain models with
``stress_and_tangent(strain)``.

**Convergence.** A step converges when, at every point, :math:`\|r\| \le \text{rtol}\cdot\text{scale} +
\text{atol}` with :math:`\text{scale} = \max(\|\sigma\|, \|\sigma^*_s\|, \|\mathsf C\|\max(\|\varepsilon_n -
\varepsilon_0\|, \|\varepsilon^*_e - \varepsilon_{0,e}\|))` (Mandel/Frobenius norms; :math:`\varepsilon_n` the
strain at the start of the step, :math:`\varepsilon_0` = 0 or I, starred: the step's targets). A Newton step that
does not reduce :math:`\|r\|` is halved (backtracking, at most ``line_search`` times): near the solution full
steps are taken, so quadratic convergence is untouched; across an elastic/plastic switch, where the response is
only piecewise smooth, this stops Newton from cycling. A step that does not converge in ``max_iter`` iterations,
or a model that fails, raises :class:`DriverError`, whose ``result`` holds every step converged before the failure
(or, with ``on_failure="return"``, that result is returned with ``completed=False``).

**Temperature.** A path may prescribe a temperature (:mod:`constitutive.paths`): a temperature-dependent model
(``temperature_dependent = True``, e.g. ``constitutive.models.thermal.ThermoMechanical``) is then called with
``update(strain, state_n, dt, temperature=T_{n+1})`` at every evaluation of a step, the state carrying
:math:`T_n`; the result records the temperature of every step (the ``T`` column).

**Performance.** A model with a Mandel-native ``update_mandel`` (J2) is evaluated on the driver's Mandel vectors
directly in the non-differentiable mode; other models through constant conversion matrices, the tangent's minor
symmetry checked on the first evaluation of each segment (``docs/driver.md``, "Performance").

**Differentiating through the driver** (``differentiable=True``). Each step's Newton iterations run under
:func:`torch.no_grad`; from the converged point :math:`x^*` one more Newton correction is taken *with* the graph,
using the start-of-step state that carries the graph of the previous steps:

.. math::  x_s = x^*_s - \mathsf C_{ss}^{-1}\, r(x^*;\theta), \qquad y = \sigma(x;\, \text{state}_n(\theta), \theta),

with :math:`\mathsf C_{ss}` held constant (the model's own consistent tangent, even when ``tangent=`` replaces the
Newton matrix). Since :math:`r(x^*) = 0` at convergence, :math:`\partial x_s/\partial\theta = -\mathsf
C_{ss}^{-1}\,\partial r/\partial\theta` is the implicit-function derivative, exact at convergence (back-propagating
through the unrolled iterations is not: each iterate's derivative carries the previous residual). The recorded
strain, stress and state stay attached to the graph, on the model's device, so ``torch.autograd.grad`` of any
recorded quantity with respect to the model's parameters (or to tensor targets of a Segment) is the derivative of
the converged path. Cost: one graph-carrying model evaluation per step more than the Newton iterations need (two
on mixed steps).
"""

from __future__ import annotations

from .core import Progress, drive
from .kinematics import TangentFn
from .newton import NewtonSettings, StepResult
from .pathfile import load_path_file, run_path_file
from .result import DriverError, DriveResult, MaterialFailure

__all__ = [
    "DriverError",
    "DriveResult",
    "MaterialFailure",
    "NewtonSettings",
    "Progress",
    "StepResult",
    "TangentFn",
    "drive",
    "load_path_file",
    "run_path_file",
]
