"""``constitutive demo``: print stress and tangent of two materials in every form, and check them."""

from __future__ import annotations

import argparse
from typing import Any

from .. import demo


def register(subparsers: Any) -> None:
    """Add ``constitutive demo [--scale S]``."""
    p = subparsers.add_parser("demo", help="print stress and tangent of two materials in every form, and check them")
    p.add_argument("--scale", type=float, default=1.0, help="scale the demo strains (default 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit code 0 when every tangent of the demo passed its check, 1 otherwise."""
    out = demo.run(args.scale)
    ok = out["steel"]["report"].passed and out["rubber"]["report"].passed and out["j2"]["passed"]
    print("\nall tangents verified" if ok else "\nA TANGENT FAILED ITS CHECK")
    return 0 if ok else 1
