"""Checks of measured data columns, shared by the readers (:mod:`constitutive.data`) and the experiments."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Homogeneous incompressible rubber test modes (names shared with ``nominal_stress(stretch, mode)``).
RUBBER_MODES = ("uniaxial", "equibiaxial", "pure_shear")


def check_finite_column(values: Any, name: str) -> np.ndarray:
    """``values`` as a 1-d float64 array; ``ValueError`` naming ``name`` and the first bad index otherwise."""
    a = np.asarray(values, dtype=np.float64)
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
