"""``constitutive demo``: print stress and tangent of two materials in every form, and check them."""

from __future__ import annotations

import argparse
from typing import Any

from .. import demo
from .args import add_debug


def register(subparsers: Any) -> None:
    """Add ``constitutive demo [--scale S]``."""
    p = subparsers.add_parser("demo", help="print stress and tangent of two materials in every form, and check them")
    p.add_argument("--scale", type=float, default=1.0, help="scale the demo strains (default 1)")
    add_debug(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit code 0 when every tangent of the demo passed its check, 1 otherwise."""
    import math

    if not math.isfinite(args.scale):
        raise ValueError(f"--scale must be a finite number, got {args.scale}")
    out = demo.run(args.scale)
    ok = out["steel"]["report"].passed and out["rubber"]["report"].passed and out["j2"]["passed"]
    print("\nall tangents verified" if ok else "\nA TANGENT FAILED ITS CHECK")
    return 0 if ok else 1
