"""``constitutive umat check|compare``: the command line of the UMAT bridge.

``register(subparsers)`` adds the ``umat`` subcommand to the package CLI; ``run(args)`` executes it; ``main(argv)``
builds its own parser (for tests and ``python -m constitutive.cli.umat``). Exit codes: 0 every tangent
consistent (``compare``: the comparison ran), 1 an inconsistent tangent (naming the first bad increment and
component), 2 usage errors (one line on stderr; a traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .args import add_debug

__all__ = ["register", "run", "main"]

_HYPOTHESES = ("3d", "plane_strain", "axisymmetric", "plane_stress")


def _props(text: list[str]) -> list[float]:
    values: list[float] = []
    for item in text:
        for part in item.replace(",", " ").split():
            try:
                values.append(float(part))
            except ValueError:
                raise ValueError(f"--props: {part!r} is not a number") from None
    if not values:
        raise ValueError("--props needs at least one number")
    return values


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="UMAT Fortran source (.f .for .f90 .F) or shared library (.so)")
    p.add_argument("--props", nargs="+", required=True, metavar="V", help="PROPS, e.g. --props 210e3 0.3 250 1e3")
    p.add_argument("--nstatv", type=int, default=0, help="NSTATV (default 0)")
    p.add_argument("--hypothesis", default="3d", choices=_HYPOTHESES, help="NTENS 6 / 4 / 4 / 3 (default 3d)")
    p.add_argument("--finite-strain", action="store_true", help="NLGEOM: DFGRD0/DFGRD1, Cauchy stress, Jaumann DDSDDE")
    p.add_argument("--cmname", default="MATERIAL", help="material name passed in CMNAME")
    p.add_argument(
        "--flag", action="append", default=None, metavar="FLAG", help="gfortran flag (repeat; replaces defaults)"
    )
    p.add_argument("--path", metavar="PATH.toml", help="a load-path file ([path] / [[steps]]) instead of the defaults")
    p.add_argument("--amplitude", type=float, default=None, help="default paths: strain (0.01) or stretch (0.2)")
    p.add_argument("--increments", type=int, default=8, help="increments per default segment (default 8)")
    p.add_argument("--json", metavar="FILE", help="write the report as JSON ('-' for stdout)")
    p.add_argument("--force", action="store_true", help="overwrite existing output files (never the UMAT source)")
    add_debug(p)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``umat`` with its ``check`` and ``compare`` sub-commands to an argparse ``subparsers``."""
    p = subparsers.add_parser(
        "umat",
        help="check a Fortran UMAT's DDSDDE, or compare it with a package model",
        description="Run an Abaqus UMAT through its documented interface (see docs/umat.md).",
    )
    sub = p.add_subparsers(dest="umat_command", metavar="{check,compare}")
    sub.required = True
    c = sub.add_parser(
        "check",
        help="finite-difference check of DDSDDE at every increment of a set of paths",
        description="Drive the UMAT along uniaxial strain and stress, pure shear, a non-proportional multiaxial path "
        "and a load reversal (or --path) and check DDSDDE at every increment. Exit 0 when every tangent is "
        "consistent, 1 otherwise, 2 on usage errors.",
    )
    _common(c)
    c.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance of the DDSDDE check (default 1e-6)")
    c.add_argument("--plot", metavar="FILE.png", help="figure: error and Taylor order per increment")
    c.set_defaults(umat_func=_check)
    m = sub.add_parser(
        "compare",
        help="drive the UMAT and a package model along the same paths and report differences",
        description="Report stress, tangent and (with --state) state differences per increment between the UMAT "
        "and a package model read from a parameter file.",
    )
    _common(m)
    m.add_argument("--material", required=True, metavar="FILE.toml", help="package model parameter file")
    m.add_argument(
        "--state",
        action="append",
        default=[],
        metavar="KEY=N",
        help="compare the model's scalar state KEY with STATEV(N) (1-based; repeat)",
    )
    m.set_defaults(umat_func=_compare)
    p.set_defaults(func=run)
    return p


def _build(args: argparse.Namespace) -> tuple[Any, Any]:
    from ..models.base import read_toml
    from ..paths import path_from_dict
    from ..umat.material import UMAT

    umat = UMAT(
        args.source,
        _props(args.props),
        nstatv=args.nstatv,
        cmname=args.cmname,
        hypothesis=args.hypothesis,
        finite_strain=args.finite_strain,
        flags=args.flag,
    )
    paths = None
    if args.path:
        p = Path(args.path)
        if not p.exists():
            raise FileNotFoundError(f"no load-path file {args.path}")
        paths = [path_from_dict(read_toml(p), source=p)]
    if args.increments < 1:
        raise ValueError("--increments must be at least 1")
    return umat, paths


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any work, outputs that exist (without --force) or that would replace an input."""
    from ..fileio import check_not_input, check_writable

    inputs = [args.source, args.path, getattr(args, "material", None)]
    for out in (args.json if args.json != "-" else None, getattr(args, "plot", None)):
        if out:
            check_not_input(out, inputs)
            check_writable(out, overwrite=args.force)


def _write_json(text: str, dest: str, overwrite: bool) -> None:
    from ..fileio import atomic_write_text

    if dest == "-":
        print(text)
    else:
        atomic_write_text(dest, text + "\n", overwrite=overwrite)


def _check(args: argparse.Namespace) -> int:
    from ..umat.check import check_umat

    _check_outputs(args)
    umat, paths = _build(args)
    report = check_umat(umat, paths, rtol=args.rtol, amplitude=args.amplitude, increments=args.increments)
    if args.json != "-":
        print(report)
    if args.json:
        _write_json(report.to_json(indent=1), args.json, args.force)
    if args.plot:
        report.plot(args.plot, overwrite=args.force)
    return 0 if report.passed else 1


def _compare(args: argparse.Namespace) -> int:
    from ..models.base import load
    from ..umat.check import compare_umat

    _check_outputs(args)
    umat, paths = _build(args)
    model = load(args.material)
    state_map: dict[str, int] = {}
    for item in args.state:
        key, sep, n = item.partition("=")
        if not sep or not n.strip().isdigit() or int(n) < 1:
            raise ValueError(f"--state takes KEY=N with N a 1-based STATEV index, got {item!r}")
        state_map[key.strip()] = int(n) - 1
    report = compare_umat(umat, model, paths, state_map=state_map, amplitude=args.amplitude, increments=args.increments)
    if args.json != "-":
        print(report)
    if args.json:
        _write_json(report.to_json(indent=1), args.json, args.force)
    return 0


def run(args: argparse.Namespace) -> int:
    """Execute a parsed ``umat`` command. A failing UMAT (XIT, STOP, NaN) is a finding: one line, exit 1. A
    compile error is a usage error: its first compiler lines on stderr, then :func:`constitutive.cli.main`'s
    boundary prints the one-line error with exit 2 (as for every other input error)."""
    from ..umat.build import CompileError
    from ..umat.material import UMATError

    try:
        return int(args.umat_func(args))
    except UMATError as err:
        if getattr(args, "debug_traceback", False):
            raise
        print(f"constitutive umat {args.umat_command}: UMAT failed: {err}", file=sys.stderr)
        return 1
    except CompileError as err:
        if not getattr(args, "debug_traceback", False):
            print("\n".join(str(err).splitlines()[1:12]), file=sys.stderr)
        raise ValueError(str(err).splitlines()[0] if str(err) else "the UMAT did not compile") from err


def main(argv: list[str] | None = None) -> int:
    """``constitutive umat ...`` (``argv`` without the program name, starting at ``check`` or ``compare``; a
    leading ``umat`` is accepted): the package's command line with its error boundary."""
    from . import main as cli_main

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "umat":
        argv = ["umat", *argv]
    try:
        return cli_main(argv)
    except SystemExit as exc:  # argparse: usage error -> 2, --help -> 0
        return int(exc.code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
