"""``constitutive drive``: drive a material point along a TOML load path."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ..driver import DriverError, run_path_file
from .args import add_debug, add_force


def run(args: argparse.Namespace) -> int:
    """Exit code 0 (done) or 2 (the driver stopped early: the summary of the converged steps, then the error, on
    stderr; the steps before are written); bad input raises (``main`` prints one line, exit 2)."""
    last = [0.0]

    def progress(step: int, total: int) -> None:
        now = time.perf_counter()
        if total >= 200 and (now - last[0] > 1.0 or step == total):
            last[0] = now
            print(f"  step {step}/{total} ({100.0 * step / total:.0f}%)", file=sys.stderr, flush=True)

    path = Path(args.pathfile)
    if path.is_dir():
        raise IsADirectoryError(f"load-path file {path} is a folder, not a TOML file")
    if args.out is not None and not str(args.out).strip():
        raise ValueError("--out is empty: give an output folder")
    overrides: dict[str, Any] = {}
    if args.check_tangent:
        overrides["check_tangent"] = True
    try:
        result, written = run_path_file(path, args.out, progress=progress, overwrite=args.force, **overrides)
    except DriverError as err:
        print(err.result.summary(), file=sys.stderr)
        print(f"constitutive drive: error: {err}", file=sys.stderr)
        return 2
    print(result.summary())
    for kind, p in written.items():
        print(f"wrote {kind}: {p}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``constitutive drive PATHFILE [--out DIR] [--check-tangent] [--force]``."""
    p = subparsers.add_parser(
        "drive",
        help="drive a material point along a TOML load path",
        description="Drive a material point along a load path written in TOML (see docs/driver.md); prints a "
        "summary and writes the per-step CSV and a stress-strain figure. Exit code 0; 2 on bad input or when the "
        "driver stops early (the steps before are written).",
    )
    p.add_argument("pathfile", help="TOML load-path file")
    p.add_argument("--out", default=None, help="output folder (default: next to the load-path file)")
    p.add_argument("--check-tangent", action="store_true", help="check the tangent by finite differences each step")
    add_force(p)
    add_debug(p)
    p.set_defaults(func=run)
