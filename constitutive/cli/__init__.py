"""The ``constitutive`` command line: the parser and ``main``.

Each subcommand lives in its own module of this package with ``register(subparsers)`` (adds its parser and sets
``func``) and ``run(args) -> int`` (the exit code); the argument conventions they share are in :mod:`.args`. The
engines below this package know nothing of argparse: a new command is a new module here, listed in
:data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from . import calibrate, check, demo, drive, export, umat
from .args import (
    ORDER_ARG_HELP,
    SYMMETRIC_ARG_HELP,
    matrix_arg,
    model_arg,
    parse_numbers,
    parse_params,
    symmetric_arg,
)

#: Subcommand modules, in the order ``constitutive --help`` lists them.
SUBCOMMANDS = (demo, check, drive, calibrate, export, umat)

__all__ = [
    "ORDER_ARG_HELP",
    "SUBCOMMANDS",
    "SYMMETRIC_ARG_HELP",
    "build_parser",
    "main",
    "matrix_arg",
    "model_arg",
    "parse_numbers",
    "parse_params",
    "symmetric_arg",
]


def build_parser() -> argparse.ArgumentParser:
    """The ``constitutive`` parser with every subcommand of :data:`SUBCOMMANDS` registered."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="constitutive",
        description="Constitutive models with explicit conventions and verified tangents.",
    )
    parser.add_argument("--version", action="version", version=f"constitutive {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    return int(args.func(args) or 0)
