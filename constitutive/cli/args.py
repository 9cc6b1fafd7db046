"""Argument conventions shared by every ``constitutive`` subcommand (written once): number lists, symmetric
tensors, matrices, ``--param`` pairs and models."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import torch

# ---------------------------------------------------------------------------------------------------------------
# Argument conventions shared by every subcommand (written once)
# ---------------------------------------------------------------------------------------------------------------

#: Help text of every ``--strain``-like option.
SYMMETRIC_ARG_HELP = (
    "six TENSOR components (shear ε_ij, not engineering γ = 2ε_ij) in the component order of --order "
    "(default textbook Voigt: 11 22 33 23 13 12), or nine row-major; space- or comma-separated (write negative "
    "exponent-notation numbers in the comma form, e.g. --strain=-2e-4,1e-3,0,0,0,0)"
)
ORDER_ARG_HELP = "component order of six-component tensors: voigt (default), abaqus, ansys, lsdyna"


def parse_numbers(items: str | Sequence[str], name: str) -> list[float]:
    """Numbers from ``"1,2 3"`` or ``["1", "2,3"]``; ``ValueError`` naming the option otherwise."""
    text = items if isinstance(items, str) else " ".join(items)
    try:
        return [float(v) for v in re.split(r"[,\s]+", text.strip()) if v]
    except ValueError:
        raise ValueError(f"--{name} expects numbers, got {text!r}") from None


def symmetric_arg(items: str | Sequence[str], name: str = "strain", order: str = "voigt") -> torch.Tensor:
    """A symmetric ``(3, 3)`` tensor from six tensor components in ``order`` (no shear factor) or nine row-major
    components (then it must be symmetric)."""
    from ..notation import from_voigt
    from ..tensor import check_finite, check_symmetric

    values = parse_numbers(items, name)
    check_finite(torch.tensor(values, dtype=torch.float64), f"--{name}")  # name the option, not the conversion
    if len(values) == 6:
        # Voigt *stress* conversion = tensor components placed by the order's table, with no factor.
        return from_voigt(torch.tensor(values, dtype=torch.float64), "stress", order)
    if len(values) == 9:
        X = torch.tensor(values, dtype=torch.float64).reshape(3, 3)
        check_symmetric(X, f"--{name}")
        return X
    raise ValueError(f"--{name} takes 6 components (order {order}) or 9 (row-major), got {len(values)}")


def matrix_arg(items: str | Sequence[str], name: str) -> torch.Tensor:
    """A ``(3, 3)`` tensor from nine row-major components (e.g. a deformation gradient)."""
    from ..tensor import check_finite

    values = parse_numbers(items, name)
    if len(values) != 9:
        raise ValueError(f"--{name} takes 9 components (row-major), got {len(values)}")
    X = torch.tensor(values, dtype=torch.float64).reshape(3, 3)
    check_finite(X, f"--{name}")
    return X


def parse_params(items: Sequence[str] | None) -> dict[str, Any]:
    """``NAME=VALUE`` pairs: a number, a comma- or JSON-list of numbers, or else a string option."""
    params: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--param expects NAME=VALUE, got {item!r}")
        value = value.strip()
        try:
            params[key.strip()] = json.loads(value if "," not in value or value.startswith("[") else f"[{value}]")
        except json.JSONDecodeError:
            params[key.strip()] = value
    return params


def model_arg(name: str, params: Sequence[str] | None = None) -> Any:
    """A model from a parameter file (path, or a stem in ``materials/``) or, with ``--param``, a registered class
    name and its parameters."""
    from ..models.base import get_model, load

    if params:
        return get_model(name)(**parse_params(params))
    try:
        return load(name)
    except FileNotFoundError:
        return get_model(name)()
