"""``constitutive models`` and ``constitutive materials``: what a model argument may name.

``models`` lists every registered model class with its parameters (``constitutive.models.describe_models()``:
meaning, unit and admissible range of each parameter; without it, the constructor's keywords and defaults),
``materials`` the shipped parameter files (stem, model, name, units).
"""

from __future__ import annotations

import argparse
import inspect
import json
from typing import Any

from .args import _materials_dir, add_debug, optional_module


def _fallback_models() -> list[dict[str, Any]]:
    """The catalogue from the registered classes' constructors (keywords and defaults), for a package without
    ``describe_models``."""
    from ..models.base import MODELS

    out = []
    for name, cls in sorted(MODELS.items()):
        params = []
        for p in inspect.signature(cls).parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("dtype", "device"):
                continue
            default = None if p.default is p.empty else p.default
            params.append({"name": p.name, "default": default, "required": p.default is p.empty})
        doc = (cls.__doc__ or "").strip()
        out.append({"kind": "model", "name": name, "summary": doc.splitlines()[0] if doc else "", "parameters": params})
    return out


def describe() -> list[dict[str, Any]]:
    """One dict per registered model (and hardening law, ...): ``kind``, ``name``, ``summary``, ``parameters``."""
    from .. import models

    describe_models = getattr(models, "describe_models", None)
    return list(describe_models()) if describe_models is not None else _fallback_models()


def _parameter_line(d: dict[str, Any]) -> str:
    parts = [f"    {d['name']}"]
    if d.get("meaning"):
        parts.append(f": {d['meaning']}")
    if d.get("unit"):
        parts.append(f" [{d['unit']}]")
    if d.get("range"):
        parts.append(f", {d['range']}")
    if d.get("required"):
        parts.append(" (required)")
    elif d.get("default") is not None:
        parts.append(f" (default {d['default']!r})")
    return "".join(parts)


def run_models(args: argparse.Namespace) -> int:
    """Print the catalogue (``--json``: as JSON); exit code 0."""
    entries = describe()
    if args.name:
        entries = [e for e in entries if e["name"] == args.name]
        if not entries:
            known = ", ".join(e["name"] for e in describe())
            raise ValueError(f"unknown model {args.name!r}; known: {known}")
    if args.json:
        print(json.dumps(entries, indent=1, default=str, ensure_ascii=False))
        return 0
    for e in entries:
        kind = "" if e.get("kind", "model") == "model" else f" ({e['kind']})"
        print(f"{e['name']}{kind}: {e.get('summary', '')}")
        for d in e.get("parameters", []):
            print(_parameter_line(d))
    return 0


def list_materials() -> list[tuple[str, str, str, str]]:
    """``(stem, model, name, units)`` of every shipped parameter file (``constitutive.resources.list_materials``
    when present)."""
    from ..models.base import read_toml

    resources = optional_module("constitutive.resources")
    if resources is not None:
        return list(resources.list_materials())
    out = []
    for path in sorted(_materials_dir().glob("*.toml")):
        material = read_toml(path).get("material", {})
        out.append(
            (path.stem, str(material.get("model", "")), str(material.get("name", "")), str(material.get("units", "")))
        )
    return out


def run_materials(args: argparse.Namespace) -> int:
    """Print the shipped parameter files; exit code 0."""
    rows = list_materials()
    if args.json:
        keys = ("stem", "model", "name", "units")
        print(json.dumps([dict(zip(keys, r)) for r in rows], indent=1, ensure_ascii=False))
        return 0
    width = max((len(r[0]) for r in rows), default=4)
    for stem, model, name, units in rows:
        extra = ", ".join(x for x in (name, units and f"units {units}") if x)
        print(f"{stem:<{width}}  {model}" + (f"  ({extra})" if extra else ""))
    print(
        f"\n{len(rows)} parameter files in {_materials_dir()}; use a stem wherever a model is asked for, with "
        "--param NAME=VALUE to override a parameter"
    )
    return 0


def register(subparsers: Any) -> None:
    """Add ``constitutive models [NAME] [--json]`` and ``constitutive materials [--json]``."""
    p = subparsers.add_parser(
        "models",
        help="list every model class with its parameters (meaning, admissible range)",
        description="List the registered model classes (and hardening laws, ...) with their parameters.",
    )
    p.add_argument("name", nargs="?", help="only this model")
    p.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    add_debug(p)
    p.set_defaults(func=run_models)
    m = subparsers.add_parser(
        "materials",
        help="list the shipped parameter files (materials/)",
        description="List the shipped parameter files: a stem can be given wherever a model is asked for.",
    )
    m.add_argument("--json", action="store_true", help="print the list as JSON")
    add_debug(m)
    m.set_defaults(func=run_materials)
