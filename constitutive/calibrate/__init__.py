r"""Fitting model parameters to measured data: :func:`calibrate`.

A calibration fits the free parameters :math:`\theta` of a model to one or several :class:`Experiment` s at once by
minimising :math:`\tfrac12 \sum_i r_i(\theta)^2` with :func:`scipy.optimize.least_squares` (trust-region
reflective, so bounds are honoured). The residual of point :math:`i` of experiment :math:`e` (``n_e`` points,
weight :math:`w_e`, measured :math:`y_i`, model :math:`\hat y_i(\theta)`) is, by ``error`` measure:

* ``"absolute"``: :math:`r_i = \sqrt{w_e}\,(\hat y_i - y_i)` (data units; long experiments weigh more);
* ``"relative"``: :math:`r_i = \sqrt{w_e}\,(\hat y_i - y_i)/\max(|y_i|, f\,\max_e|y|)` with the floor fraction
  :math:`f` = ``relative_floor`` (so a zero reading at the unloaded state does not divide by zero);
* ``"normalised"``: :math:`r_i = \sqrt{w_e}\,(\hat y_i - y_i)/(\mathrm{rms}_e(y)\sqrt{n_e})`: each experiment
  contributes its squared relative rms error, whatever its number of points or stress level.

The Jacobian :math:`\partial r/\partial\theta` comes from automatic differentiation through the model: the model
is rebuilt from the parameter vector (parameters stay differentiable tensors) and ``jacobian="reverse"`` (default)
back-propagates one batched vector-Jacobian product per residual (``torch.autograd.grad(...,
is_grads_batched=True)``, falling back to a loop when a backward formula does not batch), ``"forward"`` uses
``torch.func.jacfwd``. Rubber experiments differentiate through ``model.nominal_stress``; uniaxial-stress
experiments through :func:`uniaxial_stress_response`: a closed form for isotropic J2 plasticity under monotonic
loading, otherwise the material-point driver (:func:`constitutive.driver.drive` with ``differentiable=True``),
whose derivative is the implicit-function derivative at the converged lateral strains of every step.

Modules: :mod:`.parameters` (the parameter vector), :mod:`.fit` (:func:`calibrate`), :mod:`.result`
(:class:`CalibrationResult`), :mod:`.config` (TOML configs, :func:`run_config`); experiments and model responses are
in :mod:`constitutive.experiments` (re-exported here); the command line in :mod:`constitutive.cli.calibrate`.

Report (:class:`CalibrationResult`): fitted values; rms error per experiment in data units and relative to the
data's rms; standard errors from the linearisation :math:`\mathrm{Cov} = s^2 (J^TJ)^{-1}`,
:math:`s^2 = \sum r_i^2/(m - n)`, with correlations; the fit's figure; a ``materials/`` parameter file.

Identifiability (every fit, :func:`identifiability`): the condition number of the column-scaled Jacobian and the
parameters the data do not determine (a bound, a large relative standard error, a strong correlation, a
near-singular Jacobian), warned about and listed in the report. Uncertainty beyond the linearisation:
:func:`sample_posterior` (module :mod:`.bayes`, emcee) samples the Bayesian posterior of a fit.
Many fits: :mod:`.multistart` (:func:`calibrate_multistart`: starts spread over the bounds, the distinct optima),
:mod:`.campaign` (:class:`Campaign`: specimens fitted each on its own and jointly, the parameter scatter),
:mod:`.parallel` (:func:`run_tasks`: independent fits serially, in local processes or on a Dask cluster).
Stability (:mod:`.drucker`): Drucker stability of hyperelastic models (:func:`stability`, :func:`drucker_stable`)
and the ``stable_range`` penalty of :func:`calibrate`; every hyperelastic fit's report gives its stability limits.
"""

from __future__ import annotations

from ..experiments import (
    RESPONSES,
    UNIAXIAL_ROUTES,
    Experiment,
    ResponseFn,
    has_uniaxial_closed_form,
    rms_error,
    uniaxial_stress_response,
)
from .bayes import Band, Posterior, sample_posterior
from .campaign import Campaign, CampaignResult, Specimen
from .config import experiment_from_config, run_config
from .drucker import (
    STABILITY_MODES,
    StabilityPenalty,
    StabilityReport,
    drucker_margin,
    drucker_moduli,
    drucker_stable,
    logarithmic_tangent,
    stability,
)
from .fit import ERROR_MEASURES, calibrate
from .multistart import MultiStartResult, Optimum, calibrate_multistart
from .parallel import run_tasks
from .result import CalibrationResult, Identifiability, identifiability

__all__ = [
    "experiment_from_config",
    "ERROR_MEASURES",
    "RESPONSES",
    "UNIAXIAL_ROUTES",
    "Experiment",
    "ResponseFn",
    "CalibrationResult",
    "calibrate",
    "uniaxial_stress_response",
    "has_uniaxial_closed_form",
    "rms_error",
    "run_config",
    "Band",
    "Posterior",
    "sample_posterior",
    "Identifiability",
    "identifiability",
    "calibrate_multistart",
    "MultiStartResult",
    "Optimum",
    "Campaign",
    "CampaignResult",
    "Specimen",
    "run_tasks",
    "STABILITY_MODES",
    "StabilityPenalty",
    "StabilityReport",
    "drucker_margin",
    "drucker_moduli",
    "drucker_stable",
    "logarithmic_tangent",
    "stability",
]
