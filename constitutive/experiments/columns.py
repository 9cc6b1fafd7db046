"""Checks of measured data columns, shared by the readers (:mod:`constitutive.data`) and the experiments."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Homogeneous incompressible rubber test modes (names shared with ``nominal_stress(stretch, mode)``).
RUBBER_MODES = ("uniaxial", "equibiaxial", "pure_shear")


def check_finite_column(values: Any, name: str) -> np.ndarray:
    """``values`` as a 1-d float64 array; ``ValueError`` naming ``name`` and the first bad index otherwise."""
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numbers: {err}") from None
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise ValueError(f"{name} holds a non-finite value ({a[bad[0]]}) at index {bad[0]} ({bad.size} in all)")
    return a


def check_monotonic(values: Any, name: str, *, strict: bool = True) -> np.ndarray:
    """``values`` if (strictly) increasing; ``ValueError`` naming ``name`` and the first index where it is not."""
    a = check_finite_column(values, name)
    d = np.diff(a)
    bad = np.flatnonzero(d <= 0 if strict else d < 0)
    if bad.size:
        k = int(bad[0])
        kind = "strictly increasing" if strict else "non-decreasing"
        raise ValueError(
            f"{name} must be {kind} (a monotonic loading path): value {a[k + 1]!r} at index {k + 1} follows "
            f"{a[k]!r} ({bad.size} violation(s) in all)"
        )
    return a


# --------------------------------------------------------------------------------------------------------------
# Plausibility of data for their stated units
# --------------------------------------------------------------------------------------------------------------

#: Stress units the plausibility rule knows, as their value in MPa.
STRESS_UNITS: dict[str, float] = {
    "Pa": 1e-6,
    "kPa": 1e-3,
    "MPa": 1.0,
    "N/mm^2": 1.0,
    "N/mm2": 1.0,
    "GPa": 1e3,
    "psi": 6.894757293168361e-3,
    "ksi": 6.894757293168361,
}
#: Thresholds of :func:`plausibility_warnings` (stresses in MPa).
MAX_METAL_STRESS_MPA = 1e4  # no engineering metal reaches 10 GPa in a tension test
MAX_STRAIN = 2.0  # a uniaxial strain above 200 % is a strain in percent
MAX_RUBBER_STRESS_MPA = 100.0  # rubber nominal stresses stay far below 100 MPa
MAX_STRETCH = 20.0  # a stretch above 20 is a strain in percent (or a displacement)
MIN_STRESS_MPA = 1e-3  # every stress below 1 kPa: the data are in another unit than stated


def plausibility_warnings(mode: str, x: np.ndarray, y: np.ndarray, unit: str, name: str = "") -> list[str]:
    """Messages for data that are implausible for the stated stress ``unit`` (empty when plausible).

    Parameters
    ----------
    mode:
        The experiment's mode (``"uniaxial_stress"``, a rubber mode, or a custom response).
    x, y:
        The experiment's control (strain or stretch) and stress columns, 1-D arrays.
    unit:
        The stated stress unit, a key of :data:`STRESS_UNITS` (surrounding spaces ignored).
    name:
        The experiment's name, prefixed to each message when given.

    The rule, per experiment, with :math:`\\max|y|` converted to MPa through :data:`STRESS_UNITS` (an unknown unit
    skips the stress bounds):

    * ``"uniaxial_stress"`` (metal tension tests): :math:`\\max|y| > 10^4` MPa (data in kPa or Pa), or
      :math:`\\max|x| > 2` (strain in percent);
    * rubber modes (``"uniaxial"``, ``"equibiaxial"``, ``"pure_shear"``): :math:`\\max|y| > 100` MPa, or a
      stretch above 20 (strain in percent);
    * every mode: :math:`\\max|y| < 10^{-3}` MPa (all stresses below 1 kPa: GPa data, or a wrong scale).

    Other modes (custom responses) get the last check only.
    """
    label = f"experiment {name!r}: " if name else ""
    out: list[str] = []
    ymax = float(np.max(np.abs(y))) if y.size else 0.0
    xmax = float(np.max(np.abs(x))) if x.size else 0.0
    factor = STRESS_UNITS.get(unit.strip())
    if factor is not None:
        y_mpa = ymax * factor
        if mode == "uniaxial_stress" and y_mpa > MAX_METAL_STRESS_MPA:
            out.append(
                f"{label}stresses up to {ymax:.4g} {unit} ({y_mpa:.3g} MPa) exceed {MAX_METAL_STRESS_MPA:g} MPa: "
                f"implausible for a tension test; are the data in kPa or Pa rather than {unit}?"
            )
        if mode in RUBBER_MODES and y_mpa > MAX_RUBBER_STRESS_MPA:
            out.append(
                f"{label}nominal stresses up to {ymax:.4g} {unit} ({y_mpa:.3g} MPa) exceed "
                f"{MAX_RUBBER_STRESS_MPA:g} MPa: implausible for rubber; are the data in kPa rather than {unit}?"
            )
        if ymax > 0 and y_mpa < MIN_STRESS_MPA:
            out.append(
                f"{label}every stress is below {MIN_STRESS_MPA:g} MPa (max {ymax:.3g} {unit}): implausible for "
                f"a test in {unit}; check the unit and any scale factor"
            )
    if mode == "uniaxial_stress" and xmax > MAX_STRAIN:
        out.append(
            f"{label}strains up to {xmax:.4g} exceed {MAX_STRAIN:g}: is the strain in percent? "
            "Give it as a fraction (mm/mm)"
        )
    if mode in RUBBER_MODES and xmax > MAX_STRETCH:
        out.append(
            f"{label}stretches up to {xmax:.4g} exceed {MAX_STRETCH:g}: is this a strain in percent rather than "
            "the stretch λ = 1 + strain?"
        )
    return out
