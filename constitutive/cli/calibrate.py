"""``constitutive calibrate``: fit model parameters to test data described by a TOML config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..calibrate import run_config
from .args import add_debug, add_force


def run(args: argparse.Namespace) -> int:
    """Exit code 0 (fit converged) or 1 (the optimizer did not report success: the outputs are written as
    ``<name>_not_converged.*``, a previous fit is kept); bad input raises (``main`` prints one line, exit 2)."""
    config = Path(args.config)
    if config.is_dir():
        raise IsADirectoryError(f"calibration config {config} is a folder, not a TOML file")
    if args.out is not None and not str(args.out).strip():
        raise ValueError("--out is empty: give an output folder")
    if args.max_nfev is not None and args.max_nfev < 1:
        raise ValueError(f"--max-nfev must be a positive integer, got {args.max_nfev}")
    overrides = {"max_nfev": args.max_nfev} if args.max_nfev is not None else {}
    result, paths = run_config(config, args.out, verbose=0 if args.quiet else 1, overwrite=args.force, **overrides)
    print(result.report())
    for kind, p in paths.items():
        print(f"wrote {kind}: {p}")
    if not result.success:
        print(
            "constitutive calibrate: the fit did not converge; written under the name "
            f"{paths['parameters'].stem!r}, a previous fit is left as it was",
            file=sys.stderr,
        )
    return 0 if result.success else 1


def register(subparsers: Any) -> None:
    """Add ``constitutive calibrate CONFIG [--out DIR] [--max-nfev N] [--quiet] [--force]``."""
    p = subparsers.add_parser(
        "calibrate",
        help="fit model parameters to test data described by a TOML config",
        description="Fit a model to experiments (TOML config; see docs/calibration.md). Writes the parameter "
        "file <name>.toml, a markdown report <name>_report.md and the fit figure <name>.png (<name>: the config's "
        "name, else <config stem>_fit; <name>_not_converged.* when the fit did not converge). Exit code 0, 1 when "
        "the fit did not converge, 2 on bad input.",
    )
    p.add_argument("config", help="calibration config (TOML)")
    p.add_argument("--out", default=None, help="output folder (default: the config's folder)")
    p.add_argument("--max-nfev", type=int, default=None, help="cap on residual evaluations")
    p.add_argument("--quiet", action="store_true", help="no per-iteration progress lines")
    add_force(p)
    add_debug(p)
    p.set_defaults(func=run)
