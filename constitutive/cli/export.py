"""``constitutive export``: stress and tangent in an FE code's layout, or an Abaqus material card."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..export import (
    CODES,
    FORMATS,
    HYPOTHESES,
    abaqus_card,
    export_finite_strain,
    export_model,
    write,
)
from .args import ORDER_ARG_HELP, SYMMETRIC_ARG_HELP, matrix_arg, model_arg, symmetric_arg


def run(args: argparse.Namespace) -> int:
    """Exit code 0, or 2 on bad input (message on stderr)."""
    try:
        return _export(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"constitutive export: error: {err}", file=sys.stderr)
        return 2


def _export(args: argparse.Namespace) -> int:
    model = model_arg(args.model, (args.param or []) + (args.option or []))
    if args.card:
        if args.card != "abaqus":
            raise ValueError(f"--card supports 'abaqus', not {args.card!r}")
        text = abaqus_card(model, name=args.name, elastic_type=args.elastic_type)
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    if args.F is not None:
        exported = export_finite_strain(model, matrix_arg(args.F, "F"), args.code)
    elif args.strain is not None:
        exported = export_model(model, symmetric_arg(args.strain, "strain", args.order), args.code, args.hypothesis)
    else:
        raise ValueError("give a state: --strain (small strain / Green-Lagrange) or --F (finite strain), or --card")
    if args.output:
        write(exported, args.output, args.format)
        print(f"wrote {args.output} ({exported.code}, {exported.hypothesis}, NTENS={exported.ntens})")
    else:
        with np.printoptions(precision=6, suppress=False, linewidth=140):
            print(json.dumps(exported.header(), indent=1, ensure_ascii=False))
            print("stress", exported.stress)
            print("tangent (rows: stress components, columns: strain components)")
            print(exported.tangent)
    return 0


def register(subparsers: Any) -> None:
    """Add ``constitutive export``."""
    p = subparsers.add_parser(
        "export",
        help="stress and tangent in an FE code's layout, or an Abaqus material card",
        description=(
            "Examples:\n"
            "  constitutive export steel_s355 --strain 0.002,0,0,0,0,0 --code abaqus -o state.json\n"
            "  constitutive export NeoHookean --param mu=1 --param lmbda=100 --F 1.2,0.1,0,0,1,0,0,0,0.9\n"
            "  constitutive export natural_rubber_ogden_treloar --card abaqus -o rubber.inp"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="a parameter file (path or materials/ stem), or a model class name with --param")
    p.add_argument("--param", action="append", help="NAME=VALUE (repeat; lists comma-separated) with a class name")
    p.add_argument("--option", action="append", help="NAME=VALUE string option with a class name (same as --param)")
    p.add_argument(
        "--strain", help="the strain (small strain, or Green-Lagrange for hyperelasticity): " + SYMMETRIC_ARG_HELP
    )
    p.add_argument("--order", default="voigt", help=ORDER_ARG_HELP + " (of --strain; the output follows --code)")
    p.add_argument("--F", help="deformation gradient, 9 components row-major (finite-strain export)")
    p.add_argument("--code", default="abaqus", help=f"FE code layout: {', '.join(sorted(CODES))}")
    p.add_argument("--hypothesis", default="3d", choices=HYPOTHESES)
    p.add_argument("--format", choices=FORMATS, help="file format (default: the output suffix)")
    p.add_argument("-o", "--output", help="output file (default: print)")
    p.add_argument("--card", help="write a material card instead: 'abaqus'")
    p.add_argument("--name", help="material name in the card")
    p.add_argument("--elastic-type", dest="elastic_type", help="*ELASTIC TYPE (isotropic, orthotropic, ...)")
    p.set_defaults(func=run)
