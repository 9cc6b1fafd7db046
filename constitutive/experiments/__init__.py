"""Experiments: measured data paired with the model response that predicts it.

Below both :mod:`constitutive.data` (which reads test files and returns :class:`Experiment` s) and
:mod:`constitutive.calibrate` (which fits them), so neither imports the other's internals and there is no cycle.

Modules: :mod:`.columns` (checks of measured columns, the rubber test modes), :mod:`.responses` (``fn(model, x) ->
y`` per mode: rubber nominal stresses, uniaxial stress by closed form or by the driver), :mod:`.experiment`
(:class:`Experiment`, :func:`rms_error`).
"""

from __future__ import annotations

from .columns import RUBBER_MODES, STRESS_UNITS, check_finite_column, check_monotonic, plausibility_warnings
from .experiment import Experiment, rms_error
from .responses import (
    RESPONSES,
    UNIAXIAL_ROUTES,
    ResponseFn,
    has_uniaxial_closed_form,
    uniaxial_stress_response,
)

__all__ = [
    "RESPONSES",
    "RUBBER_MODES",
    "STRESS_UNITS",
    "UNIAXIAL_ROUTES",
    "Experiment",
    "ResponseFn",
    "check_finite_column",
    "check_monotonic",
    "has_uniaxial_closed_form",
    "plausibility_warnings",
    "rms_error",
    "uniaxial_stress_response",
]
