r"""Default pass thresholds of the tangent check per floating-point type, and the checks of user thresholds.

Rule (stated once): a correct tangent compared with central differences (step :math:`\epsilon^{1/3} s`) agrees to
about :math:`\epsilon^{2/3}` relative, a few times more where the model's own arithmetic loses digits. The default
relative tolerance is therefore a fixed multiple of the round-off of the dtype:

==================  ============  ==========================================================================
dtype               rtol          why
==================  ============  ==========================================================================
float64/complex128  1e-6          as always (:math:`\epsilon^{2/3} \approx 4\cdot10^{-11}`; ample margin)
float32/complex64   1e-3          :math:`\epsilon^{2/3} \approx 2.5\cdot10^{-5}`; models lose a few digits more
float16/bfloat16    5e-2          half precision: only gross errors are detectable
==================  ============  ==========================================================================

A wrong tangent -- e.g. doubled shear columns -- is wrong by O(1) relative and fails at every one of them. The
absolute tolerance defaults to :math:`100\epsilon` times the largest reference entry of the batch.
"""

from __future__ import annotations

import math

import torch

#: Default relative tolerance per dtype (the table of the module docstring).
DEFAULT_RTOL: dict[torch.dtype, float] = {
    torch.float64: 1e-6,
    torch.complex128: 1e-6,
    torch.float32: 1e-3,
    torch.complex64: 1e-3,
    torch.float16: 5e-2,
    torch.bfloat16: 5e-2,
}


def default_rtol(dtype: torch.dtype) -> float:
    """The default relative tolerance of a tangent check in ``dtype`` (module docstring)."""
    if dtype not in DEFAULT_RTOL:
        raise ValueError(f"no tangent-check tolerance for dtype {dtype}; use a floating-point dtype")
    return DEFAULT_RTOL[dtype]


def check_positive(value: object, name: str) -> float:
    """``value`` as a float, refused (``ValueError`` naming ``name``) unless finite and > 0."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0.0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v
