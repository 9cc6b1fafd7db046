"""``constitutive export``: stress and tangent in an FE code's layout, or an Abaqus material card.

``--strain`` is read the way the chosen ``--code`` passes a strain to its material routine: in the code's component
order and shear convention (engineering shear γ = 2ε for the Voigt codes Abaqus, Ansys, LS-DYNA; tensor shear ε_ij
for CalculiX's ``umat_user``; Mandel √2 ε_ij for MFront and NEML2/MOOSE), so a pasted ``STRAN`` means what it
means in Abaqus. ``--order`` and ``--shear`` override either; the interpreted tensor is echoed with its labels.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np
import torch

from ..export import (
    CARD_CODES,
    CODES,
    FORMATS,
    HYPOTHESES,
    abaqus_card,
    export_finite_strain,
    export_model,
    material_units,
    write,
)
from ..export.layouts import layout
from ..notation import ORDERS, component_labels, from_mandel, from_voigt
from .args import add_debug, add_force, matrix_arg, model_arg, model_file, parse_numbers

#: Shear conventions ``--shear`` accepts: the factor on each shear slot of the strain vector.
SHEARS = ("engineering", "tensor", "mandel")

STRAIN_HELP = (
    "the strain (small strain, or Green-Lagrange for hyperelasticity): six components as --code passes them to "
    "its material routine, i.e. in the code's component order (abaqus/calculix/mfront 11 22 33 12 13 23, ansys "
    "11 22 33 12 23 13, lsdyna 11 22 33 12 23 31, neml2/moose 11 22 33 23 13 12) with the code's shear "
    "(abaqus, ansys, lsdyna: engineering γ = 2ε; calculix umat_user: tensor ε_ij; mfront, neml2: Mandel √2 ε_ij); "
    "--order and --shear override them. Or nine row-major tensor components. Space- or comma-separated (write "
    "negative exponent-notation numbers in the comma form, e.g. --strain=-2e-4,1e-3,0,0,0,0). The tensor read is "
    "printed before the result"
)


def code_shear(code: str) -> str:
    """The shear convention of ``code``'s strain vector: ``"engineering"``, ``"tensor"`` or ``"mandel"``."""
    lay = layout(code)
    if lay.notation == "mandel":
        return "mandel"
    return "tensor" if lay.tensor_shear_strain else "engineering"


def code_strain_arg(
    items: str | list[str], code: str, *, order: str | None = None, shear: str | None = None
) -> tuple[torch.Tensor, str, str]:
    """``(tensor (3, 3), order, shear)``: six components in ``order`` (default: ``code``'s) with ``shear`` (default:
    ``code``'s), or nine row-major tensor components (then symmetric; order and shear do not apply)."""
    from ..tensor import check_finite, check_symmetric

    lay = layout(code)
    order = order or lay.order
    shear = shear or code_shear(code)
    values = parse_numbers(items, "strain")
    v = torch.tensor(values, dtype=torch.float64)
    check_finite(v, "--strain")
    if len(values) == 9:
        X = v.reshape(3, 3)
        check_symmetric(X, "--strain")
        return X, "row-major", "tensor"
    if len(values) != 6:
        raise ValueError(
            f"--strain takes 6 components (order {order}, {shear} shear) or 9 (row-major), got {len(values)}"
        )
    if shear == "mandel":
        return from_mandel(v, "strain", order), order, shear
    # notation's "strain" quantity halves the shear slots (engineering γ); its "stress" quantity takes them as they are
    return from_voigt(v, "strain" if shear == "engineering" else "stress", order), order, shear


def describe_strain(X: torch.Tensor, order: str, shear: str, symbol: str = "ε") -> str:
    """One line: how ``--strain`` was read and the tensor components, labelled, in the order it was given."""
    labels = component_labels(order if order in ORDERS else "voigt")
    pairs = [(int(lab[0]) - 1, int(lab[1]) - 1) for lab in labels]
    text = ", ".join(f"{symbol}{i + 1}{j + 1} = {float(X[i, j]):.6g}" for i, j in pairs)
    how = "nine row-major components" if order == "row-major" else f"{order} order, {shear} shear"
    return f"strain read as ({how}): {text}"


def run(args: argparse.Namespace) -> int:
    """Exit code 0; bad input raises (``main`` prints one line, exit 2)."""
    from ..fileio import atomic_write_text, check_not_input, check_writable

    if args.model == "umat":
        return _umat(args)
    if args.material is not None:
        raise ValueError(f"unexpected argument {args.material!r} (a second positional is for `export umat MATERIAL`)")
    if args.strain is not None and args.F is not None:
        raise ValueError("give one state: --strain (small strain / Green-Lagrange) or --F (finite strain), not both")
    state_given = args.strain is not None or args.F is not None
    if args.card and state_given:
        raise ValueError("--card writes a material card from the parameters: --strain/--F do not apply")
    if not args.card and (args.name is not None or args.elastic_type is not None):
        raise ValueError("--name and --elastic-type belong to a material card: use them with --card abaqus|calculix")
    if args.F is not None and (args.order is not None or args.shear is not None):
        raise ValueError("--order and --shear describe --strain; --F is nine row-major components")
    if args.F is not None and args.hypothesis != "3d":
        raise ValueError("--F exports the 3D finite-strain state; --hypothesis applies to --strain")
    if args.format is not None and not args.output:
        raise ValueError("--format chooses the file format of -o/--output: give -o FILE")
    if args.card and (args.format is not None or args.hypothesis != "3d"):
        raise ValueError("--format and --hypothesis do not apply to --card")
    if args.output is not None:
        if not args.output.strip():
            raise ValueError("-o/--output is empty: give a file name")
        check_not_input(args.output, [model_file(args.model)])
        check_writable(args.output, overwrite=args.force)
    code = args.code
    layout(code)  # validates the code before any work
    model = model_arg(args.model, (args.param or []) + (args.option or []))
    if args.card:
        if args.card not in CARD_CODES:
            raise ValueError(f"--card supports {', '.join(CARD_CODES)}, not {args.card!r}")
        text = abaqus_card(model, name=args.name, elastic_type=args.elastic_type, code=args.card)
        if args.output:
            atomic_write_text(args.output, text, overwrite=args.force)
            print(f"wrote {args.output} ({args.card} material card)")
        else:
            sys.stdout.write(text)
        return 0
    if args.F is not None:
        F = matrix_arg(args.F, "F")
        if not callable(getattr(model, "cauchy", None)):
            raise ValueError(
                f"--F needs a finite-strain (hyperelastic) model; {type(model).__name__} is a small-strain model: "
                "give its strain with --strain"
            )
        exported = export_finite_strain(model, F, code)
    elif args.strain is not None:
        X, order, shear = code_strain_arg(args.strain, code, order=args.order, shear=args.shear)
        symbol = "E" if "Green" in str(getattr(model, "strain_measure", "")) else "ε"
        print(describe_strain(X, order, shear, symbol))
        source = model_file(args.model)
        units = material_units(source) if source is not None else None
        exported = export_model(model, X, code, args.hypothesis, units=units)
    else:
        raise ValueError("give a state: --strain (small strain / Green-Lagrange) or --F (finite strain), or --card")
    if args.output:
        write(exported, args.output, args.format, overwrite=args.force)
        print(f"wrote {args.output} ({exported.code}, {exported.hypothesis}, NTENS={exported.ntens})")
    else:
        with np.printoptions(precision=6, suppress=False, linewidth=140):
            print(json.dumps(exported.header(), indent=1, ensure_ascii=False))
            print("stress", exported.stress)
            print("tangent (rows: stress components, columns: strain components)")
            print(exported.tangent)
    return 0


def _umat(args: argparse.Namespace) -> int:
    """``constitutive export umat MATERIAL -o FILE.f [--force]``: the generated UMAT of the material
    (:func:`constitutive.export.umat_source`; docs/export.md, "Generated UMATs")."""
    from ..export import material_units
    from ..export.umat_generator import generate_umat
    from ..fileio import atomic_write_text, check_not_input, check_writable

    if args.material is None:
        raise ValueError("export umat needs the material: constitutive export umat MATERIAL.toml -o FILE.f")
    given = [f"--{k}" for k in ("strain", "F", "card", "name", "format", "order", "shear") if getattr(args, k, None)]
    if given or args.hypothesis != "3d" or args.code != "abaqus":
        raise ValueError(
            f"export umat writes a Fortran source: {', '.join(given) or '--hypothesis/--code'} do not apply"
        )
    if not args.output or not args.output.strip():
        raise ValueError("export umat writes a Fortran file: give -o FILE.f")
    check_not_input(args.output, [model_file(args.material)])
    check_writable(args.output, overwrite=args.force)
    model = model_arg(args.material, (args.param or []) + (args.option or []))
    g = generate_umat(model, units=material_units(args.material))
    atomic_write_text(args.output, g.source, overwrite=args.force)
    nlgeom = ", NLGEOM=YES" if g.finite_strain else ""
    print(f"wrote {args.output} (Abaqus UMAT for {type(model).__name__}: NPROPS {g.nprops}, NSTATV {g.nstatv}{nlgeom})")
    return 0


def register(subparsers: Any) -> None:
    """Add ``constitutive export``."""
    p = subparsers.add_parser(
        "export",
        help="stress and tangent in an FE code's layout, or an Abaqus material card",
        description=(
            "Examples:\n"
            "  constitutive export steel_s355 --strain 0.002,0,0,0.001,0,0 --code abaqus -o state.json\n"
            "      (a pasted Abaqus STRAN: 11 22 33 12 13 23, engineering shear γ12 = 0.001)\n"
            "  constitutive export steel_s355 --param sigma_y=300 --strain 0.002,0,0,0,0,0 --code ansys\n"
            "  constitutive export NeoHookean --param mu=1 --param lmbda=100 --F 1.2,0.1,0,0,1,0,0,0,0.9\n"
            "  constitutive export natural_rubber_ogden_treloar --card abaqus -o rubber.inp\n"
            "  constitutive export umat steel_s355 -o steel_umat.f   (a standalone Fortran UMAT of the model)\n"
            "Existing output files are kept unless --force. Errors: one line on stderr, exit status 2."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "model",
        help="a parameter file (path or materials/ stem; --param overrides its values), or a model class name with "
        "--param (see `constitutive models`, `constitutive materials`)",
    )
    p.add_argument("material", nargs="?", help="with model 'umat': the material of the generated UMAT")
    p.add_argument("--param", action="append", help="NAME=VALUE (repeat; lists comma-separated)")
    p.add_argument("--option", action="append", help="NAME=VALUE string option (same as --param)")
    p.add_argument("--strain", help=STRAIN_HELP)
    p.add_argument(
        "--order", default=None, choices=tuple(ORDERS), help="component order of --strain (default: the --code's)"
    )
    p.add_argument(
        "--shear",
        default=None,
        choices=SHEARS,
        help="shear convention of --strain: engineering (γ = 2ε), tensor (ε_ij) or mandel (√2 ε_ij); default: the "
        "--code's",
    )
    p.add_argument("--F", help="deformation gradient, 9 components row-major (finite-strain export)")
    p.add_argument("--code", default="abaqus", help=f"FE code layout: {', '.join(sorted(CODES))}")
    p.add_argument("--hypothesis", default="3d", choices=HYPOTHESES)
    p.add_argument("--format", choices=FORMATS, help="file format (default: the output suffix)")
    p.add_argument("-o", "--output", help="output file (default: print); kept if it exists, unless --force")
    p.add_argument(
        "--card",
        help="write a material card instead: 'abaqus', or 'calculix' (no zero compressibility terms CalculiX would "
        "replace by its defaults; what CalculiX cannot read is refused)",
    )
    p.add_argument("--name", help="material name in the card")
    p.add_argument("--elastic-type", dest="elastic_type", help="*ELASTIC TYPE (isotropic, orthotropic, ...)")
    add_force(p)
    add_debug(p)
    p.set_defaults(func=run)
