"""``constitutive check``: verify the tangent of a model or of an expression of X against finite differences."""

from __future__ import annotations

import argparse
from typing import Any

from ..check import METHODS, check_tangent, expression_function
from ..check.expressions import EXPR_NAMES
from ..notation import ORDERS
from ..tangent import CONVENTIONS
from .args import (
    ORDER_ARG_HELP,
    SYMMETRIC_ARG_HELP,
    add_debug,
    add_force,
    check_figure_suffix,
    model_arg,
    model_file,
    symmetric_arg,
)

ORDER_CHOICES = tuple(ORDERS)


def run(args: argparse.Namespace) -> int:
    """Exit code 0 (passed), 1 (failed); bad input raises (``main`` prints one line, exit 2)."""
    from ..fileio import check_not_input, check_writable

    if args.plot is not None and args.method != "taylor":
        raise ValueError("--plot draws the Taylor remainder: use it with --method taylor")
    if args.param and not args.model:
        raise ValueError("--param sets model parameters: use it with --model, not --expr")
    if args.expr is not None and not args.expr.strip():
        raise ValueError("--expr is empty: give a torch expression of X, e.g. 'X @ X'")
    if args.rtol is not None and not (args.rtol > 0 and args.rtol < float("inf")):
        raise ValueError(f"--rtol must be a positive number, got {args.rtol}")
    strain = symmetric_arg(args.strain, "strain", args.order)
    if args.plot is not None:  # before the check: a refused output should cost nothing
        check_not_input(args.plot, [model_file(args.model)] if args.model is not None else [])
        check_writable(args.plot, overwrite=args.force)
        check_figure_suffix(args.plot, "--plot")
    if args.model is not None:
        target: Any = model_arg(args.model, args.param)
        what = repr(target)
        report = check_tangent(target, strain, method=args.method, convention=args.convention, rtol=args.rtol)
    else:
        target = expression_function(args.expr)
        what = f"f(X) = {args.expr}"
        try:
            report = check_tangent(target, strain, method=args.method, convention=args.convention, rtol=args.rtol)
        except (ValueError, TypeError):
            raise
        except Exception as err:
            # the expression is the user's code: whatever it raises (torch's shape/dtype errors, 1/0, X[5]) is the
            # user's input, not a bug of the package
            raise ValueError(f"--expr {args.expr!r} failed: {type(err).__name__}: {err}") from err
    if args.plot:
        report.plot(args.plot, overwrite=args.force)
    if args.json:
        print(report.to_json(indent=2))
    else:
        print(what)
        print(report)
    return 0 if report.passed else 1


def register(subparsers: Any) -> None:
    """Add ``constitutive check``."""
    p = subparsers.add_parser(
        "check",
        help="verify a tangent against finite differences",
        description=(
            "Check the tangent of a registered model (--model, with --param NAME=VALUE) or of an expression of X "
            "(--expr, differentiated automatically) against finite differences at one strain. Prints the report; "
            "exit code 1 when the check fails, 2 on bad input."
        ),
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--model",
        help="a parameter file (path or materials/ stem; --param overrides its values), or a model class name with "
        "--param NAME=VALUE (see `constitutive models`, `constitutive materials`)",
    )
    src.add_argument(
        "--expr",
        help="torch expression of X, e.g. 'X @ X' or 'expm(X)'; names: X, I, torch, "
        + ", ".join(k for k in EXPR_NAMES if k not in ("torch", "I")),
    )
    p.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="model parameter or option (repeat)"
    )
    p.add_argument(
        "--strain",
        nargs="+",
        default=["0,0,0,0,0,0"],
        metavar="E",
        help="the strain, read as " + SYMMETRIC_ARG_HELP + "; default zero strain",
    )
    p.add_argument("--order", default="voigt", choices=ORDER_CHOICES, help=ORDER_ARG_HELP)
    p.add_argument("--method", default="central", choices=METHODS)
    p.add_argument("--convention", default="symmetric", choices=CONVENTIONS)
    p.add_argument("--rtol", type=float, default=1e-6)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--plot", metavar="PATH", help="save the Taylor-remainder figure (with --method taylor)")
    add_force(p)
    add_debug(p)
    p.set_defaults(func=run)
