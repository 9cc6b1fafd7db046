"""``constitutive calibrate``: fit model parameters to test data described by a TOML config."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..calibrate import run_config
from ..models.base import ConvergenceError


def run(args: argparse.Namespace) -> int:
    """Exit code 0 (fit converged), 1 (the optimizer did not report success) or 2 (bad input)."""
    overrides = {"max_nfev": args.max_nfev} if args.max_nfev is not None else {}
    try:
        result, paths = run_config(args.config, args.out, verbose=0 if args.quiet else 1, **overrides)
    except (ValueError, FileNotFoundError, TypeError, ConvergenceError) as err:
        print(f"constitutive calibrate: error: {err}", file=sys.stderr)
        return 2
    print(result.report())
    for kind, p in paths.items():
        print(f"wrote {kind}: {p}")
    return 0 if result.success else 1


def register(subparsers: Any) -> None:
    """Add ``constitutive calibrate CONFIG [--out DIR] [--max-nfev N] [--quiet]``."""
    p = subparsers.add_parser(
        "calibrate",
        help="fit model parameters to test data described by a TOML config",
        description="Fit a model to experiments (TOML config; see docs/calibration.md). Writes the parameter "
        "file, a markdown report and the fit figure.",
    )
    p.add_argument("config", help="calibration config (TOML)")
    p.add_argument("--out", default=None, help="output folder (default: the config's folder)")
    p.add_argument("--max-nfev", type=int, default=None, help="cap on residual evaluations")
    p.add_argument("--quiet", action="store_true", help="no per-iteration progress lines")
    p.set_defaults(func=run)
