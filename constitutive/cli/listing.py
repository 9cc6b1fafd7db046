"""``constitutive models`` and ``constitutive materials``: what a model argument may name.

``models`` lists every registered model class with its parameters (``constitutive.models.describe_models()``:
meaning, unit and admissible range of each parameter),
``materials`` the shipped parameter files (stem, model, name, units).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from .args import _materials_dir, add_debug


def describe() -> list[dict[str, Any]]:
    """One dict per registered model (and hardening law, ...): ``kind``, ``name``, ``summary``, ``parameters``."""
    from ..models import describe_models

    return list(describe_models())


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
    """``(stem, model, name, units)`` of every shipped parameter file."""
    from ..resources import list_materials as shipped

    return shipped()


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
