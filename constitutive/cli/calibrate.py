"""``constitutive calibrate``: fit model parameters to test data described by a TOML config, or every specimen of a
campaign folder (``--campaign``)."""

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
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be a positive integer, got {args.workers}")
    if args.campaign is not None:
        if args.config is not None:
            raise ValueError("give either a CONFIG or --campaign FOLDER, not both")
        return run_campaign(args)
    if args.config is None:
        raise ValueError("give a calibration CONFIG (TOML) or --campaign FOLDER")
    config = Path(args.config)
    if config.is_dir():
        raise IsADirectoryError(f"calibration config {config} is a folder, not a TOML file")
    if args.out is not None and not str(args.out).strip():
        raise ValueError("--out is empty: give an output folder")
    if args.max_nfev is not None and args.max_nfev < 1:
        raise ValueError(f"--max-nfev must be a positive integer, got {args.max_nfev}")
    overrides = {"max_nfev": args.max_nfev} if args.max_nfev is not None else {}
    result, paths = run_config(
        config,
        args.out,
        verbose=0 if args.quiet else 1,
        overwrite=args.force,
        scheduler=args.scheduler,
        workers=args.workers,
        **overrides,
    )
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


def run_campaign(args: argparse.Namespace) -> int:
    """``--campaign FOLDER``: fit every specimen of the folder's ``campaign.toml`` on its own and each material
    jointly; per material write ``<campaign>_<material>.md`` (table and reports), ``.png`` (scatter figure) and
    ``_joint.toml`` (``_not_converged`` in the names when a fit did not converge). Exit code 0, or 1 when a fit did
    not converge."""
    from ..calibrate.campaign import Campaign
    from ..fileio import check_writable

    folder = Path(args.campaign)
    if args.out is not None and not str(args.out).strip():
        raise ValueError("--out is empty: give an output folder")
    if args.max_nfev is not None and args.max_nfev < 1:
        raise ValueError(f"--max-nfev must be a positive integer, got {args.max_nfev}")
    campaign = Campaign.from_folder(folder)
    out = Path(args.out) if args.out is not None else folder
    groups = campaign.by_material()
    for group in groups.values():  # before the fits: a refusal should cost nothing
        for stem in (group.name, f"{group.name}_not_converged"):
            for suffix in (".md", ".png", "_joint.toml"):
                check_writable(out / f"{stem}{suffix}", overwrite=args.force)
    overrides = {"max_nfev": args.max_nfev} if args.max_nfev is not None else {}
    results = campaign.fit_materials(
        scheduler=args.scheduler, workers=args.workers, progress=not args.quiet, **overrides
    )
    ok = True
    for result in results.values():
        paths = result.save(out, overwrite=args.force)
        print(f"## {result.material or result.name}: {result.model_name}\n\n{result.table()}\n")
        for kind, p in paths.items():
            print(f"wrote {kind}: {p}")
        if not result.success:
            ok = False
            print(
                f"constitutive calibrate: a fit of {result.material!r} did not converge; written as "
                f"{paths['report'].stem!r}",
                file=sys.stderr,
            )
    return 0 if ok else 1


def register(subparsers: Any) -> None:
    """Add ``constitutive calibrate (CONFIG | --campaign FOLDER) [--out DIR] [--max-nfev N] [--scheduler ADDRESS]
    [--workers N] [--quiet] [--force]``."""
    p = subparsers.add_parser(
        "calibrate",
        help="fit model parameters to test data described by a TOML config",
        description="Fit a model to experiments (TOML config; see docs/calibration.md). Writes the parameter "
        "file <name>.toml, a markdown report <name>_report.md and the fit figure <name>.png (<name>: the config's "
        "name, else <config stem>_fit; <name>_not_converged.* when the fit did not converge). Exit code 0, 1 when "
        "the fit did not converge, 2 on bad input. With --campaign FOLDER: every specimen of the folder's "
        "campaign.toml on its own and each material jointly (a table and scatter figure per material).",
    )
    p.add_argument("config", nargs="?", default=None, help="calibration config (TOML)")
    p.add_argument(
        "--campaign", default=None, metavar="FOLDER", help="fit the campaign of FOLDER/campaign.toml instead"
    )
    p.add_argument("--out", default=None, help="output folder (default: the config's or the campaign's folder)")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="where independent fits (multi-start starts, specimens) run: local (default), serial, processes, or a "
        "Dask scheduler address tcp://host:port",
    )
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per CPU)")
    p.add_argument("--max-nfev", type=int, default=None, help="cap on residual evaluations")
    p.add_argument("--quiet", action="store_true", help="no per-iteration progress lines")
    add_force(p)
    add_debug(p)
    p.set_defaults(func=run)
