"""The ``constitutive`` command line. Each feature module adds its subcommand through ``register_cli``."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

# Modules that may define ``register_cli(subparsers)``; a module that is absent or defines none is skipped.
SUBCOMMAND_MODULES = (
    "constitutive.demo",
    "constitutive.check",
    "constitutive.driver",
    "constitutive.calibrate",
    "constitutive.export",
)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="constitutive",
        description="Constitutive models with explicit conventions and verified tangents.",
    )
    parser.add_argument("--version", action="version", version=f"constitutive {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                continue
            raise
        register = getattr(module, "register_cli", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    return int(args.func(args) or 0)
