"""The catalogue of registered models, hardening laws, kinematic terms and volumetric terms, read from their
declarations (what the ``constitutive models`` command prints)."""

from __future__ import annotations

from typing import Any

from .base import MODELS
from .hardening import HARDENING_LAWS, KINEMATIC_TERMS
from .hyperelastic import VOLUMETRIC_TERMS
from .parameters import Parametrised

__all__ = ["describe_models"]


def _summary(cls: type) -> str:
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def _entry(kind: str, name: str, cls: type[Parametrised]) -> dict[str, Any]:
    return {
        "kind": kind,
        "name": name,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "summary": _summary(cls),
        "parameters": [d.describe() for d in cls.declared_parameters().values()],
    }


def describe_models() -> list[dict[str, Any]]:
    """One dict per registered class: ``kind`` (``"model"``, ``"hardening"``, ``"kinematic"``,
    ``"volumetric"``), ``name`` (the registry key), ``class``, ``summary`` (first docstring line) and
    ``parameters`` (each declaration's :meth:`~.parameters.Parameter.describe`: name, meaning, unit, range, bounds,
    default, shape, required). A J2 model's hardening-law parameters are listed under the law."""
    out = [_entry("model", name, cls) for name, cls in sorted(MODELS.items())]
    out += [_entry("hardening", name, cls) for name, cls in sorted(HARDENING_LAWS.items())]
    out += [_entry("kinematic", name, cls) for name, cls in sorted(KINEMATIC_TERMS.items())]
    out += [
        {
            "kind": "volumetric",
            "name": name,
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "summary": cls.description,
            "parameters": [],
        }
        for name, cls in sorted(VOLUMETRIC_TERMS.items())
    ]
    return out
