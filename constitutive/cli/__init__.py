"""The ``constitutive`` command line: the parser and ``main``.

Each subcommand lives in its own module of this package with ``register(subparsers)`` (adds its parser and sets
``func``) and ``run(args) -> int`` (the exit code); the argument conventions they share are in :mod:`.args`. The
engines below this package know nothing of argparse: a new command is a new module here, listed in
:data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import re
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from . import calibrate, check, demo, drive, export, listing, umat
from .args import (
    ORDER_ARG_HELP,
    SYMMETRIC_ARG_HELP,
    matrix_arg,
    model_arg,
    parse_numbers,
    parse_params,
    symmetric_arg,
)

#: Subcommand modules, in the order ``constitutive --help`` lists them (``listing`` adds ``models`` and
#: ``materials``).
SUBCOMMANDS = (demo, check, drive, calibrate, export, listing, umat)

#: Errors that come from the user's input (arguments, files, the file system): one line on stderr, exit 2.
#: ``ConvergenceError`` (and the driver's ``DriverError``) are a computation that did not converge from that input.
#: Anything else is a bug in the package and keeps its traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, LookupError, OSError)


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose usage errors are one line on stderr (``PROG: error: ...``), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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

    parser = Parser(
        prog="constitutive",
        description="Constitutive models with explicit conventions and verified tangents. Errors in the input are "
        "one line on stderr and exit status 2 (--debug shows the traceback).",
    )
    parser.add_argument("--version", action="version", version=f"constitutive {__version__}")
    parser.add_argument("--debug", action="store_true", dest="debug_traceback", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def _one_line(err: BaseException) -> str:
    """The message of ``err`` on one line (OS errors as ``reason: file``)."""
    if isinstance(err, OSError) and err.strerror and err.filename:
        text = f"{err.strerror}: {err.filename}"
    elif isinstance(err, KeyError) and err.args:
        text = f"missing key {err.args[0]!r}"
    else:
        text = str(err) or type(err).__name__
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


#: Options whose value is a list of numbers, which may start with a minus sign (``--strain -1e-3,0,...``).
_NUMBER_LIST_OPTIONS = ("--strain", "--F")
_NEGATIVE_NUMBER = re.compile(r"-[0-9.]")


def _join_negative_values(argv: list[str]) -> list[str]:
    """``--strain -1e-3,...`` -> ``--strain=-1e-3,...``: argparse would take a value that starts with a minus sign
    (and is not one plain number) for an option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in _NUMBER_LIST_OPTIONS and i + 1 < len(argv) and _NEGATIVE_NUMBER.match(argv[i + 1]):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit code.

    The single error boundary of every subcommand: an error of :data:`USER_ERRORS` or a ``ConvergenceError`` is
    printed as one line ``constitutive <command>: error: <message>`` on stderr with exit status 2; ``--debug``
    (before or after the command) re-raises it with its traceback. argparse usage errors also exit with 2.
    """
    from ..models.base import ConvergenceError

    errors: tuple[type[BaseException], ...] = (*USER_ERRORS, ConvergenceError)
    parser = build_parser()
    args = parser.parse_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # the reader of stdout went away (e.g. `| head`): stop quietly, as other command-line tools do
        import os

        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # no real file descriptor (captured output): nothing to silence
            pass
        return 1
    except errors as err:
        if getattr(args, "debug_traceback", False):
            raise
        print(f"constitutive {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if getattr(args, "debug_traceback", False):
            traceback.print_exc()
        print(f"constitutive {args.command}: interrupted", file=sys.stderr)
        return 130
