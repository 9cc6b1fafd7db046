r"""Generated UMATs: standalone Fortran source of an Abaqus/Standard UMAT implementing a package model exactly.

:func:`umat_source` returns the text of a fixed-form Fortran file (``.f``) holding ``SUBROUTINE UMAT`` (and the
helper routines it calls), which needs no library at run time: compile it with the analysis (``abaqus job=...
user=material.f``) or drive it with :class:`constitutive.umat.UMAT`. :func:`generate_umat` returns the same source
with what a caller needs beside it: the ``PROPS`` values of the model, ``NSTATV``, and whether the analysis must be
NLGEOM.

Conventions of the generated code, stated once:

* **Form.** Fixed form, every line within 72 columns (so any compiler's default fixed-form setting takes it;
  continuation ``&`` in column 6), ``INCLUDE 'ABA_PARAM.INC'`` (``REAL*8`` by the implicit rule) and explicit
  ``DIMENSION``/``COMPLEX*16`` declarations. It compiles with ``gfortran -Wall -Werror``: the interface arguments a
  model does not read are referenced once in a branch that is never taken (NTENS < 0).
* **PROPS carry the parameter values**, in the order of the header comment (one source serves any parameter set);
  the header also shows the ``*USER MATERIAL`` and ``*DEPVAR`` cards with the values of the model it was generated
  from. The code checks ``NPROPS`` and ``NSTATV`` and stops with ``STDB_ABQERR`` (LOP = -3) when they do not match.
* **Components** are Abaqus's: 11 22 33 12 13 23, engineering shear in ``STRAN``/``DSTRAN``; ``DDSDDE(I, J)`` =
  ∂Δσ_I/∂Δε_J. 3-D (NTENS 6), plane strain and axisymmetric (NTENS 4: 11 22 33 12, NDI 3) elements; plane stress
  (NDI 2) is refused at run time. The model computes the 3-D response (out-of-plane shear strains zero in 2-D) and
  returns the NTENS slots.
* **Units** are the model's: the parameters' units (header) are consistent with the units of the analysis (stress
  parameters in the unit of ``STRESS``); nothing is converted.
* Small-strain models read the total strain ``STRAN + DSTRAN`` and return the total stress (no accumulation of
  increments). Finite-strain (hyperelastic) models read ``DFGRD1`` only and return the Cauchy stress and the
  tangent of the Jaumann rate of Kirchhoff stress over J (NLGEOM=YES); that tangent is computed by the complex
  step inside the Fortran, column kl = Im τ(F + (ih/2)(e_k⊗e_l + e_l⊗e_k)F) / (J h), h = 1e-30: exact to
  round-off (no difference is taken), with τ(F) written in closed form from the energy's first derivatives.

Generators are looked up by the model's class along its MRO (:func:`register_umat_generator`), so a subclass of a
generated model, or a user's class with its own generator, joins. A model without one (a user model from Python
functions) raises :class:`UMATGenerationError` saying so.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._version import __version__
from ..models.base import Material
from ..models.elastic import Anisotropic, Cubic, LinearElastic, Orthotropic, TransverselyIsotropic
from ..models.hardening import Linear, Swift, UserLaw, Voce
from ..models.hyperelastic import (
    ArrudaBoyce,
    Gent,
    HyperelasticMaterial,
    MooneyRivlin,
    NeoHookean,
    Ogden,
    SaintVenantKirchhoff,
    Yeoh,
)
from ..models.plasticity import J2Plasticity, Perzyna
from ..models.user import _UserMaterial
from ..models.viscoelastic import GeneralizedMaxwell
from .layouts import ANISOTROPIC_ORDER

__all__ = [
    "UMATGenerationError",
    "GeneratedUMAT",
    "generate_umat",
    "umat_source",
    "register_umat_generator",
    "umat_generator",
    "INTERFACES",
    "NOT_GENERATED_YET",
    "HARDENING_FORTRAN",
    "hardening_fortran",
    "LINE_LENGTH",
    "JACOBI_FORTRAN",
    "DALECKII_FORTRAN",
    "SPECTRAL_FORTRAN",
]

#: The interfaces :func:`umat_source` writes (Abaqus/Standard UMAT).
INTERFACES: tuple[str, ...] = ("abaqus",)
#: Fixed form: every generated line fits in 72 columns.
LINE_LENGTH = 72

#: The arguments of SUBROUTINE UMAT, in Abaqus's order.
UMAT_ARGUMENTS: tuple[str, ...] = (
    "STRESS", "STATEV", "DDSDDE", "SSE", "SPD", "SCD", "RPL", "DDSDDT", "DRPLDE", "DRPLDT", "STRAN", "DSTRAN",
    "TIME", "DTIME", "TEMP", "DTEMP", "PREDEF", "DPRED", "CMNAME", "NDI", "NSHR", "NTENS", "NSTATV", "PROPS",
    "NPROPS", "COORDS", "DROT", "PNEWDT", "CELENT", "DFGRD0", "DFGRD1", "NOEL", "NPT", "LAYER", "KSPT", "JSTEP",
    "KINC",
)  # fmt: skip
# How each argument is referenced when a model does not read it (the never-taken branch).
_DUMMY_USE = {"TIME": "TIME(1)", "PREDEF": "PREDEF(1)", "DPRED": "DPRED(1)", "COORDS": "COORDS(1)",
              "DROT": "DROT(1,1)", "DFGRD0": "DFGRD0(1,1)", "DFGRD1": "DFGRD1(1,1)", "STRAN": "STRAN(1)",
              "DSTRAN": "DSTRAN(1)", "STATEV": "STATEV(1)", "DDSDDT": "DDSDDT(1)", "DRPLDE": "DRPLDE(1)",
              "JSTEP": "DBLE(JSTEP(1))", "CMNAME": "DBLE(LEN(CMNAME))", "NOEL": "DBLE(NOEL)", "NPT": "DBLE(NPT)",
              "LAYER": "DBLE(LAYER)", "KSPT": "DBLE(KSPT)", "KINC": "DBLE(KINC)", "NSHR": "DBLE(NSHR)"}  # fmt: skip


class UMATGenerationError(ValueError):
    """The model (or this configuration of it) has no UMAT generator; the message says which and why."""


@dataclass
class GeneratedUMAT:
    """A generated UMAT: its Fortran ``source`` and what goes with it.

    ``props``: the PROPS values of the model it was generated from (``NPROPS = len(props)``); ``prop_docs``:
    ``(name, meaning, unit)`` per PROPS entry; ``statev``: ``(name, meaning)`` per STATEV entry (``NSTATV =
    len(statev)``); ``finite_strain``: the UMAT reads DFGRD1 and needs NLGEOM (drive it with
    ``UMAT(..., finite_strain=True)``); ``thermal``: the body sets DDSDDT (∂σ/∂T, temperature-dependent models),
    which is otherwise zeroed.
    """

    model: str
    title: str
    props: list[float]
    prop_docs: list[tuple[str, str, str]]
    statev: list[tuple[str, str]]
    finite_strain: bool
    body: list[str]
    declarations: list[str] = field(default_factory=list)
    routines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    units: str = "unspecified"
    source: str = ""
    #: For a finite-strain UMAT whose stress and DDSDDE are not the hyperelastic complex-step ones: the header
    #: sentence that says what it reads and how it computes them (replaces the default sentence).
    finite_strain_note: str = ""
    thermal: bool = False

    @property
    def nprops(self) -> int:
        return len(self.props)

    @property
    def nstatv(self) -> int:
        return len(self.statev)


Generator = Callable[[Any], GeneratedUMAT]
#: Package models without a generator yet, and why.
NOT_GENERATED_YET: dict[str, str] = {}
_GENERATORS: dict[type, Generator] = {}


def register_umat_generator(cls: type, fn: Generator | None = None) -> Any:
    """Register ``fn(model) -> GeneratedUMAT`` (with ``body`` etc. filled; the source is assembled here) as the
    generator of ``cls`` and its subclasses (found along the MRO). Usable as a decorator:
    ``@register_umat_generator(MyModel)``."""

    def deco(f: Generator) -> Generator:
        _GENERATORS[cls] = f
        return f

    return deco if fn is None else deco(fn)


def umat_generator(model: Any) -> Generator | None:
    """The generator registered for the model's class or its nearest base class, ``None`` if none."""
    for klass in type(model).__mro__:
        if klass in _GENERATORS:
            return _GENERATORS[klass]
    return None


def generate_umat(model: Material, *, interface: str = "abaqus", units: str | None = None) -> GeneratedUMAT:
    """Generate the UMAT of ``model``: a :class:`GeneratedUMAT` with the source, PROPS values, NSTATV.

    ``units``: the unit system of the parameter values (e.g. ``"MPa, mm, s"``, the ``[material] units`` of a
    parameter file: :func:`constitutive.export.material_units`), stated in the header; ``None``: unspecified.
    ``UMATGenerationError`` for a model without a generator (user models from Python functions, ...) or a
    configuration its generator does not cover (the message names it)."""
    if units is not None and (not isinstance(units, str) or not units.strip()):
        raise ValueError(f"units must be a non-empty string such as 'MPa, mm, s', got {units!r}")
    if interface not in INTERFACES:
        raise ValueError(f"unknown interface {interface!r}; choose one of {INTERFACES}")
    gen = umat_generator(model)
    if gen is None:
        name = type(model).__name__
        if name in NOT_GENERATED_YET:
            raise UMATGenerationError(
                f"UMAT not generated yet for {name} ({NOT_GENERATED_YET[name]}); generated: "
                f"{', '.join(sorted(c.__name__ for c in _GENERATORS))}"
            )
        if isinstance(model, _UserMaterial):
            raise UMATGenerationError(
                f"no UMAT can be generated for {name}: a user model defined by Python functions (from_energy/"
                "from_stress) cannot be translated to Fortran; write its UMAT by hand and check it with "
                "constitutive umat check, or register a generator (register_umat_generator)"
            )
        raise UMATGenerationError(
            f"no UMAT generator for {name}; generated: {', '.join(sorted(c.__name__ for c in _GENERATORS))} "
            "(register one with constitutive.export.umat_generator.register_umat_generator)"
        )
    g = gen(model)
    g.units = units.strip() if units else "unspecified"
    g.source = _assemble(g)
    return g


def umat_source(model: Material, *, interface: str = "abaqus", units: str | None = None) -> str:
    """Standalone fixed-form Fortran source of an Abaqus UMAT implementing ``model`` (see the module docstring;
    :func:`generate_umat` returns the PROPS values and NSTATV with it; ``units`` as there)."""
    return generate_umat(model, interface=interface, units=units).source


# ------------------------------------------------------------------------------------------------- assembly
def _version() -> str:
    return __version__


def _comment(text: str) -> list[str]:
    """Comment lines ``C     ...`` wrapped at :data:`LINE_LENGTH`."""
    import textwrap

    if not text:
        return ["C"]
    return ["C     " + t for t in textwrap.wrap(text, LINE_LENGTH - 6, break_on_hyphens=False)] or ["C"]


def _fixed(statement: str) -> list[str]:
    """One statement (6-space indented, possibly deeper) as fixed-form lines: broken at spaces outside string
    literals before column 72, continued with ``&`` in column 6 (spaces are insignificant in fixed form)."""
    if statement.startswith("C"):
        return [statement] if len(statement) <= LINE_LENGTH else _comment(statement[1:].strip())
    if not statement.strip():
        return []
    lines: list[str] = []
    s = statement
    first = True
    while True:
        prefix_len = 0 if first else 9  # "     &   "
        if prefix_len + len(s) <= LINE_LENGTH:
            lines.append(("     &   " if not first else "") + s)
            return lines
        limit = LINE_LENGTH - prefix_len
        in_str = False
        cut = -1
        for i, ch in enumerate(s[:limit]):
            if ch == "'":
                in_str = not in_str
            elif ch == " " and not in_str and i > (6 if first else 0) and s[:i].strip():
                cut = i
        if cut < 0:
            raise AssertionError(f"cannot break the Fortran statement {statement!r} at {LINE_LENGTH} columns")
        lines.append(("     &   " if not first else "") + s[:cut].rstrip())
        s = s[cut:].lstrip()
        first = False


def _assemble(g: GeneratedUMAT) -> str:
    n, m = g.nprops, g.nstatv
    out: list[str] = ["C " + "=" * (LINE_LENGTH - 2)]
    out += _comment(f"UMAT generated by constitutive {_version()} (constitutive.export.umat_source).")
    out += _comment(f"Model: {g.model}")
    out += _comment(g.title)
    out += ["C"]
    out += _comment(
        "Fixed form, 72 columns; INCLUDE 'ABA_PARAM.INC' (REAL*8). Abaqus components 11 22 33 12 13 23 "
        "(engineering shear strains); 3-D (NTENS 6), plane-strain and axisymmetric (NTENS 4, NDI 3) elements; "
        "plane stress is refused."
    )
    if g.finite_strain and g.finite_strain_note:
        out += _comment(g.finite_strain_note)
    elif g.finite_strain:
        out += _comment(
            "Finite strain: needs NLGEOM=YES. Reads DFGRD1 only; returns the Cauchy stress and DDSDDE = the "
            "tangent of the Jaumann rate of Kirchhoff stress over J, by the complex step (exact to round-off)."
        )
    else:
        out += _comment("Small strain: total strain STRAN + DSTRAN in, total stress out.")
    out += ["C"]
    out += _comment(
        f"Units: {g.units}"
        + (" (the parameter file's); " if g.units != "unspecified" else " (any consistent system); ")
        + "the analysis must use the same: nothing is converted."
    )
    out += ["C"]
    out += _comment(
        f"PROPS (NPROPS = {n}) carry the parameter values, in this order, in those units (stress "
        "parameters in the unit of STRESS):"
    )
    for k, ((name, meaning, unit), v) in enumerate(zip(g.prop_docs, g.props), 1):
        out += _comment(f"  PROPS({k}) {name} = {v!r}: {meaning} [{unit or '1'}]")
    out += ["C"]
    if m:
        out += _comment(f"STATEV (NSTATV = {m}, zero initially):")
        for k, (name, meaning) in enumerate(g.statev, 1):
            out += _comment(f"  STATEV({k}) {name}: {meaning}")
    else:
        out += _comment("STATEV: none (NSTATV = 0 accepted).")
    for note in g.notes:
        out += ["C"] + _comment(note)
    out += ["C"]
    out += _comment(
        f"Abaqus input: *USER MATERIAL, CONSTANTS={n} with the PROPS values above (the model it was generated "
        "from), eight per data line" + (f"; *DEPVAR with {m}." if m else ".")
    )
    out += ["C " + "=" * (LINE_LENGTH - 2)]
    out += [
        "      SUBROUTINE UMAT(STRESS,STATEV,DDSDDE,SSE,SPD,SCD,",
        "     1 RPL,DDSDDT,DRPLDE,DRPLDT,",
        "     2 STRAN,DSTRAN,TIME,DTIME,TEMP,DTEMP,PREDEF,DPRED,CMNAME,",
        "     3 NDI,NSHR,NTENS,NSTATV,PROPS,NPROPS,COORDS,DROT,PNEWDT,",
        "     4 CELENT,DFGRD0,DFGRD1,NOEL,NPT,LAYER,KSPT,JSTEP,KINC)",
        "C",
        "      INCLUDE 'ABA_PARAM.INC'",
        "C",
        "      CHARACTER*80 CMNAME",
        "      DIMENSION STRESS(NTENS),STATEV(NSTATV),",
        "     1 DDSDDE(NTENS,NTENS),DDSDDT(NTENS),DRPLDE(NTENS),",
        "     2 STRAN(NTENS),DSTRAN(NTENS),TIME(2),PREDEF(1),DPRED(1),",
        "     3 PROPS(NPROPS),COORDS(3),DROT(3,3),DFGRD0(3,3),DFGRD1(3,3),",
        "     4 JSTEP(4)",
        "      DIMENSION INTV(4), REALV(1), S6(6), D6(6,6)",
        "      CHARACTER*8 CHARV(1)",
    ]
    for d in g.declarations:
        out += _fixed(d)
    checks = [
        "C",
        "C     The element and the material definition must match this UMAT.",
        "      REALV(1) = 0.0D0",
        "      CHARV(1) = ' '",
        "      INTV(1) = NPROPS",
        "      INTV(2) = NSTATV",
        "      INTV(3) = NOEL",
        "      INTV(4) = NPT",
        f"      IF (NPROPS .NE. {n} .OR. NSTATV .LT. {m}) THEN",
        "         CALL STDB_ABQERR(-3, "
        + _fstr(
            f"UMAT {_short(g.model)}: NPROPS %I, NSTATV %I (element %I, point %I); expected NPROPS {n}, NSTATV >= {m}"
        )
        + ", INTV, REALV, CHARV)",
        "         RETURN",
        "      END IF",
        "      IF (NDI .NE. 3) THEN",
        "         CALL STDB_ABQERR(-3, "
        + _fstr(f"UMAT {_short(g.model)}: plane stress (NDI = 2) is not supported (element %I, point %I)")
        + ", INTV(3), REALV, CHARV)",
        "         RETURN",
        "      END IF",
        "C     DDSDDT is set below; RPL, DRPLDE, DRPLDT (heat generation) are zero."
        if g.thermal
        else "C     Not coupled to temperature: the thermal outputs are zero.",
        "      RPL = 0.0D0",
        "      DRPLDT = 0.0D0",
        "      DO I = 1, NTENS",
        "         DDSDDT(I) = 0.0D0",
        "         DRPLDE(I) = 0.0D0",
        "      END DO",
    ]
    body = g.body + [
        "C",
        "C     The NTENS slots of the 3-D response: 11 22 33 12 (13 23).",
        "      DO I = 1, NTENS",
        "         STRESS(I) = S6(I)",
        "         DO J = 1, NTENS",
        "            DDSDDE(I,J) = D6(I,J)",
        "         END DO",
        "      END DO",
    ]
    used = " ".join(checks + body)
    unused = [a for a in UMAT_ARGUMENTS if not re.search(rf"\b{a}\b", used)]
    for c in checks:
        out += _fixed(c)
    if unused:
        terms = " + ".join(_DUMMY_USE.get(a, a) for a in unused)
        out += _comment("Arguments this model does not read, referenced in a branch never taken (NTENS >= 1), so "
                        "that compilers report no unused arguments:")  # fmt: skip
        out += ["      IF (NTENS .LT. 0) THEN"]
        out += _fixed(f"         SCD = {terms}")
        out += ["      END IF"]
    for b in body:
        out += _fixed(b)
    out += ["      RETURN", "      END"]
    for routine in g.routines:
        out += ["C"]
        for line in routine.strip("\n").split("\n"):
            if line.startswith("C") and len(line) <= LINE_LENGTH:
                out.append(line)  # a comment written to fit: kept as it is
            else:
                out += _fixed(line)
    text = "\n".join(out) + "\n"
    too_long = [ln for ln in text.split("\n") if len(ln) > LINE_LENGTH]
    if too_long:
        raise AssertionError(f"generated lines exceed {LINE_LENGTH} columns: {too_long[:3]}")
    return text


def _fstr(text: str, width: int = 40) -> str:
    """A Fortran character constant, as a concatenation of pieces short enough for fixed-form lines."""
    pieces = [text[k : k + width] for k in range(0, len(text), width)]
    return " // ".join("'" + p.replace("'", "''") + "'" for p in pieces)


def _short(name: str) -> str:
    return name.split("(")[0]


def _value(t: torch.Tensor) -> list[float]:
    return [float(v) for v in t.detach().cpu().double().reshape(-1).tolist()]


def _declared(model: Material) -> dict[str, tuple[str, str]]:
    """``name -> (meaning, unit)`` from the model's parameter declarations."""
    out: dict[str, tuple[str, str]] = {}
    for name, decl in model.parameter_declarations().items():
        d = decl.describe()
        out[name] = (str(d.get("meaning") or name), str(d.get("unit") or ""))
    return out


def _props_from_parameters(model: Material, names: Sequence[str]) -> tuple[list[float], list[tuple[str, str, str]]]:
    """PROPS = the named parameters' values in order (series expanded, ``name(k)``), with their declarations."""
    decl = _declared(model)
    props: list[float] = []
    docs: list[tuple[str, str, str]] = []
    for name in names:
        vals = _value(model.parameters[name])
        meaning, unit = decl.get(name, (name, ""))
        series = model.parameters[name].ndim > 0
        for k, v in enumerate(vals, 1):
            props.append(v)
            docs.append((f"{name}({k})" if series else name, meaning, unit))
    return props, docs


def _model_repr(model: Material) -> str:
    ps = ", ".join(
        f"{k}={_value(v)[0]:.6g}" if v.ndim == 0 else f"{k}={[round(x, 6) for x in _value(v)]}"
        for k, v in model.parameters.items()
    )
    opts = ", ".join(f"{k}={v!r}" for k, v in model.options.items() if k not in ("tol", "max_iter", "tangent_method"))
    return f"{type(model).__name__}({ps}{', ' + opts if opts else ''})"


# ----------------------------------------------------------------------------------------- linear elasticity
_LOAD_D6_ANISO = [
    "C     D6 = the Abaqus-order stiffness from its 21 upper-triangle entries (the *ELASTIC, TYPE=ANISO order: "
    "D1111 D1122 D2222 D1133 D2233 D3333 D1112 ...).",
    "      K = 0",
    "      DO J = 1, 6",
    "         DO I = 1, J",
    "            K = K + 1",
    "            D6(I,J) = PROPS(K)",
    "            D6(J,I) = PROPS(K)",
    "         END DO",
    "      END DO",
]
_ELASTIC_STRESS = [
    "C     Total strain (engineering shear; 13 23 zero in 2-D) and S6 = D6 E6.",
    "      DO I = 1, 6",
    "         E6(I) = 0.0D0",
    "      END DO",
    "      DO I = 1, NTENS",
    "         E6(I) = STRAN(I) + DSTRAN(I)",
    "      END DO",
    "      SSE = 0.0D0",
    "      DO I = 1, 6",
    "         S6(I) = 0.0D0",
    "         DO J = 1, 6",
    "            S6(I) = S6(I) + D6(I,J)*E6(J)",
    "         END DO",
    "         SSE = SSE + 0.5D0*S6(I)*E6(I)",
    "      END DO",
]


@register_umat_generator(LinearElastic)
def _gen_isotropic(model: LinearElastic) -> GeneratedUMAT:
    props, docs = _props_from_parameters(model, ["E", "nu"])
    body = [
        "C     Isotropic: lambda = E nu/((1 + nu)(1 - 2 nu)), mu = E/(2(1 + nu)), D6 = lambda 1 x 1 + 2 mu I "
        "(shear rows mu).",
        "      E = PROPS(1)",
        "      ANU = PROPS(2)",
        "      ALAM = E*ANU/((1.0D0 + ANU)*(1.0D0 - 2.0D0*ANU))",
        "      AMU = E/(2.0D0*(1.0D0 + ANU))",
        "      DO I = 1, 6",
        "         DO J = 1, 6",
        "            D6(I,J) = 0.0D0",
        "         END DO",
        "      END DO",
        "      DO I = 1, 3",
        "         DO J = 1, 3",
        "            D6(I,J) = ALAM",
        "         END DO",
        "         D6(I,I) = ALAM + 2.0D0*AMU",
        "         D6(I+3,I+3) = AMU",
        "      END DO",
        *_ELASTIC_STRESS,
    ]
    return GeneratedUMAT(
        _model_repr(model),
        "Isotropic linear elasticity, sigma = lambda tr(eps) I + 2 mu eps.",
        props,
        docs,
        [],
        False,
        body,
        declarations=["      DIMENSION E6(6)"],
        notes=["SSE = the elastic strain energy density 1/2 sigma : eps."],
    )


def _gen_anisotropic(model: Any, title: str) -> GeneratedUMAT:
    from ..notation import to_voigt

    D = np.asarray(to_voigt(model.stiffness(), "stiffness", order="abaqus").detach().cpu().double())
    props = [float(D[i, j]) for i, j in ANISOTROPIC_ORDER]
    labels = ["11", "22", "33", "12", "13", "23"]
    docs = [(f"D{labels[i]}{labels[j]}", f"stiffness DDSDDE({i + 1},{j + 1}) in global axes", "stress")
            for i, j in ANISOTROPIC_ORDER]  # fmt: skip
    return GeneratedUMAT(
        _model_repr(model),
        title,
        props,
        docs,
        [],
        False,
        [*_LOAD_D6_ANISO, *_ELASTIC_STRESS],
        declarations=["      DIMENSION E6(6)"],
        notes=[
            "PROPS are the 21 upper-triangle entries of the stiffness matrix in global components and Abaqus order "
            "(the material axes are applied when generating: the same numbers an *ELASTIC, TYPE=ANISO card takes, "
            "computed from the model's constants).",
            "SSE = the elastic strain energy density 1/2 sigma : eps.",
        ],
    )


for _cls, _title in (
    (TransverselyIsotropic, "Transversely isotropic linear elasticity, sigma = C : eps."),
    (Orthotropic, "Orthotropic linear elasticity, sigma = C : eps."),
    (Cubic, "Cubic linear elasticity, sigma = C : eps."),
    (Anisotropic, "Anisotropic linear elasticity, sigma = C : eps."),
):
    register_umat_generator(_cls, functools.partial(_gen_anisotropic, title=_title))


# ------------------------------------------------------------------------------------------- hyperelasticity
# Kirchhoff stress tau(F) in complex arithmetic: tau = 2 psi1 b + 2 psi2 (I1 b - b^2) + J psiJ 1 with psi_a the
# derivatives of psi(I1, I2, J) (I1, I2 the invariants of b = F F^T); each model contributes the lines that set
# PSI1, PSI2, PSIJ from AI1, AI2, AJ and the PROPS array P.
_TAU_ROUTINE = """
C     Kirchhoff stress TAU(F) = 2 psi1 b + 2 psi2 (I1 b - b b)
C     + J psiJ 1 (b = F F^T, psi(I1, I2, J)), in complex arithmetic so
C     that the UMAT's complex step differentiates it exactly.
      SUBROUTINE UGTAU(F, P, TAU)
      INCLUDE 'ABA_PARAM.INC'
      COMPLEX*16 F(3,3), TAU(3,3), B(3,3), BB(3,3)
      COMPLEX*16 AI1, AI2, AJ, PSI1, PSI2, PSIJ
{decl}
      DIMENSION P(*)
      DO I = 1, 3
         DO J = 1, 3
            B(I,J) = (0.0D0, 0.0D0)
            DO K = 1, 3
               B(I,J) = B(I,J) + F(I,K)*F(J,K)
            END DO
         END DO
      END DO
      DO I = 1, 3
         DO J = 1, 3
            BB(I,J) = (0.0D0, 0.0D0)
            DO K = 1, 3
               BB(I,J) = BB(I,J) + B(I,K)*B(K,J)
            END DO
         END DO
      END DO
      AI1 = B(1,1) + B(2,2) + B(3,3)
      AI2 = 0.5D0*(AI1*AI1 - (BB(1,1) + BB(2,2) + BB(3,3)))
      AJ = F(1,1)*(F(2,2)*F(3,3) - F(2,3)*F(3,2))
     &   - F(1,2)*(F(2,1)*F(3,3) - F(2,3)*F(3,1))
     &   + F(1,3)*(F(2,1)*F(3,2) - F(2,2)*F(3,1))
{psi}
      DO I = 1, 3
         DO J = 1, 3
            TAU(I,J) = 2.0D0*PSI1*B(I,J)
     &         + 2.0D0*PSI2*(AI1*B(I,J) - BB(I,J))
         END DO
         TAU(I,I) = TAU(I,I) + AJ*PSIJ
      END DO
      RETURN
      END
"""

_HYPER_BODY = [
    "C     F = DFGRD1; Cauchy stress sigma = tau(F)/J.",
    "      DO I = 1, 3",
    "         DO J = 1, 3",
    "            ZF(I,J) = DCMPLX(DFGRD1(I,J), 0.0D0)",
    "         END DO",
    "      END DO",
    "      DJ = DFGRD1(1,1)*(DFGRD1(2,2)*DFGRD1(3,3) - DFGRD1(2,3)*DFGRD1(3,2)) - DFGRD1(1,2)*(DFGRD1(2,1)*"
    "DFGRD1(3,3) - DFGRD1(2,3)*DFGRD1(3,1)) + DFGRD1(1,3)*(DFGRD1(2,1)*DFGRD1(3,2) - DFGRD1(2,2)*DFGRD1(3,1))",
    "      IF (DJ .LE. 0.0D0) THEN",
    "         PNEWDT = 0.25D0",
    "         RETURN",
    "      END IF",
    "{domain}",
    "      CALL UGTAU(ZF, PROPS, ZT)",
    "      DO M = 1, 6",
    "         S6(M) = DBLE(ZT(IA(M),JA(M)))/DJ",
    "      END DO",
    "C     DDSDDE column (k, l) = d tau / J along dF = (1/2)(e_k e_l + e_l e_k) F: complex step of size H.",
    "      H = 1.0D-30",
    "      DO N = 1, 6",
    "         K = IA(N)",
    "         L = JA(N)",
    "         DO I = 1, 3",
    "            DO J = 1, 3",
    "               ZP(I,J) = ZF(I,J)",
    "            END DO",
    "         END DO",
    "         DO J = 1, 3",
    "            ZP(K,J) = ZP(K,J) + DCMPLX(0.0D0, 0.5D0*H*DFGRD1(L,J))",
    "            ZP(L,J) = ZP(L,J) + DCMPLX(0.0D0, 0.5D0*H*DFGRD1(K,J))",
    "         END DO",
    "         CALL UGTAU(ZP, PROPS, ZT)",
    "         DO M = 1, 6",
    "            D6(M,N) = DIMAG(ZT(IA(M),JA(M)))/(DJ*H)",
    "         END DO",
    "      END DO",
]
_HYPER_DECL = [
    "      COMPLEX*16 ZF(3,3), ZP(3,3), ZT(3,3)",
    "      DIMENSION IA(6), JA(6)",
    "      DATA IA /1, 2, 3, 1, 1, 2/",
    "      DATA JA /1, 2, 3, 2, 3, 3/",
]

# Volumetric terms U(J) by name: the line setting DU = U'(J) (complex) from AJ and the bulk modulus AK.
_VOLUMETRIC_DU = {
    "quadratic": "      DU = AK*(AJ - 1.0D0)",
    "log": "      DU = AK*LOG(AJ)/AJ",
    "simo_taylor": "      DU = 0.5D0*AK*(AJ - 1.0D0/AJ)",
}
_VOLUMETRIC_TEXT = {
    "quadratic": "U = K/2 (J - 1)^2",
    "log": "U = K/2 (ln J)^2",
    "simo_taylor": "U = K/4 (J^2 - 1 - 2 ln J)",
}


def _isochoric_psi(pbar: list[str], volumetric: str, k_expr: str) -> tuple[list[str], str]:
    """psi = psibar(I1bar, I2bar) + U(J): lines computing PSI1, PSI2, PSIJ from the model's PB1, PB2 (the
    derivatives of psibar, set by ``pbar`` from AI1B, AI2B) and U'(J)."""
    if volumetric not in _VOLUMETRIC_DU:
        raise UMATGenerationError(
            f"UMAT not generated yet for the volumetric term {volumetric!r} (generated: {sorted(_VOLUMETRIC_DU)})"
        )
    lines = [
        "      AJM23 = AJ**(-2.0D0/3.0D0)",
        "      AI1B = AJM23*AI1",
        "      AI2B = AJM23*AJM23*AI2",
        *pbar,
        f"      AK = {k_expr}",
        _VOLUMETRIC_DU[volumetric],
        "      PSI1 = AJM23*PB1",
        "      PSI2 = AJM23*AJM23*PB2",
        "      PSIJ = -(2.0D0/3.0D0)*(AI1B*PB1 + 2.0D0*AI2B*PB2)/AJ + DU",
    ]
    x = ", X" if any(re.search(r"\bX\b", ln) for ln in pbar) else ""
    return lines, f"      COMPLEX*16 AJM23, AI1B, AI2B, PB1, PB2, DU{x}\n      DOUBLE PRECISION AK"


def _hyper(
    model: HyperelasticMaterial,
    names: list[str],
    title: str,
    psi: list[str],
    decl: str,
    domain: list[str] | None = None,
) -> GeneratedUMAT:
    if not model.compressible:
        raise UMATGenerationError(
            f"{type(model).__name__} without a bulk modulus is incompressible: a UMAT needs a 3-D stress; give the "
            "model a bulk modulus (K, or lmbda for NeoHookean) to generate one"
        )
    props, docs = _props_from_parameters(model, names)
    routine = _TAU_ROUTINE.replace("{decl}", decl).replace("{psi}", "\n".join(psi))
    body = []
    for line in _HYPER_BODY:
        if line == "{domain}":
            body += domain or []
        else:
            body.append(line)
    return GeneratedUMAT(
        _model_repr(model),
        title,
        props,
        docs,
        [],
        True,
        body,
        declarations=list(_HYPER_DECL),
        routines=[routine],
        notes=[
            "psi is the strain energy per unit reference volume; invariants of b = F F^T: I1 = tr b, "
            "I2 = (I1^2 - tr b^2)/2, J = det F, I1bar = J^(-2/3) I1, I2bar = J^(-4/3) I2.",
            "det F <= 0 sets PNEWDT = 0.25 (the increment is retried smaller). SSE, SPD, SCD are not updated.",
        ],
    )


def _names(model: Material, *names: str) -> list[str]:
    return [n for n in names if n in model.parameters]


@register_umat_generator(NeoHookean)
def _gen_neohookean(model: NeoHookean) -> GeneratedUMAT:
    form = model.form
    if model.lmbda is None:
        _hyper(model, [], "", [], "")  # raises the incompressible error
    if form == "ciarlet":
        psi = ["      PSI1 = 0.5D0*P(1)", "      PSI2 = (0.0D0, 0.0D0)", "      PSIJ = (P(2)*LOG(AJ) - P(1))/AJ"]
        return _hyper(model, ["mu", "lmbda"], "Neo-Hookean (Ciarlet): psi = mu/2 (I1 - 3) - mu ln J + "
                      "lmbda/2 (ln J)^2.", psi, "")  # fmt: skip
    if form == "ciarlet_geymonat":
        psi = [
            "      PSI1 = 0.5D0*P(1)",
            "      PSI2 = (0.0D0, 0.0D0)",
            "      PSIJ = -P(1)/AJ + 0.5D0*P(2)*(AJ - 1.0D0/AJ)",
        ]
        return _hyper(model, ["mu", "lmbda"], "Neo-Hookean (Ciarlet-Geymonat): psi = mu/2 (I1 - 3) - mu ln J + "
                      "lmbda/4 (J^2 - 1 - 2 ln J).", psi, "")  # fmt: skip
    vol = model.volumetric
    lines, decl = _isochoric_psi(["      PB1 = 0.5D0*P(1)", "      PB2 = (0.0D0, 0.0D0)"], vol,
                                 "P(2) + 2.0D0*P(1)/3.0D0")  # fmt: skip
    return _hyper(model, ["mu", "lmbda"], f"Neo-Hookean (isochoric): psi = mu/2 (I1bar - 3) + U(J), "
                  f"{_VOLUMETRIC_TEXT[vol]}, K = lmbda + 2 mu/3.", lines, decl)  # fmt: skip


@register_umat_generator(SaintVenantKirchhoff)
def _gen_svk(model: SaintVenantKirchhoff) -> GeneratedUMAT:
    # psi = lmbda/2 (tr E)^2 + mu E:E: psi1 = lmbda tr E/2 + mu (I1 - 1)/2, psi2 = -mu/2, tr E = (I1 - 3)/2.
    psi = [
        "      PSI1 = 0.25D0*P(1)*(AI1 - 3.0D0) + 0.5D0*P(2)*(AI1 - 1.0D0)",
        "      PSI2 = -0.5D0*P(2)",
        "      PSIJ = (0.0D0, 0.0D0)",
    ]
    return _hyper(model, ["lmbda", "mu"], "Saint Venant-Kirchhoff: psi = lmbda/2 (tr E)^2 + mu E:E.", psi, "")


def _vol(model: Material) -> str:
    return str(model.options.get("volumetric", "quadratic"))


@register_umat_generator(MooneyRivlin)
def _gen_mooney(model: MooneyRivlin) -> GeneratedUMAT:
    lines, decl = _isochoric_psi(["      PB1 = P(1)", "      PB2 = P(2)"], _vol(model), "P(3)")
    return _hyper(model, _names(model, "C10", "C01", "K"), "Mooney-Rivlin: psi = C10 (I1bar - 3) + C01 (I2bar - 3) "
                  f"+ U(J), {_VOLUMETRIC_TEXT.get(_vol(model), '')}.", lines, decl)  # fmt: skip


@register_umat_generator(Yeoh)
def _gen_yeoh(model: Yeoh) -> GeneratedUMAT:
    pbar = [
        "      X = AI1B - 3.0D0",
        "      PB1 = P(1) + 2.0D0*P(2)*X + 3.0D0*P(3)*X*X",
        "      PB2 = (0.0D0, 0.0D0)",
    ]
    lines, decl = _isochoric_psi(pbar, _vol(model), "P(4)")
    return _hyper(model, _names(model, "C10", "C20", "C30", "K"), "Yeoh: psi = sum_i Ci0 (I1bar - 3)^i + U(J), "
                  f"{_VOLUMETRIC_TEXT.get(_vol(model), '')}.", lines, decl)  # fmt: skip


@register_umat_generator(ArrudaBoyce)
def _gen_arruda_boyce(model: ArrudaBoyce) -> GeneratedUMAT:
    # psi = mu sum_i a_i / N^(i-1) (I1bar^i - 3^i), a = (1/2, 1/20, 11/1050, 19/7000, 519/673750)
    pbar = [
        "      PB1 = P(1)*(0.5D0 + 2.0D0*(1.0D0/20.0D0)*AI1B/P(2)",
        "     &   + 3.0D0*(11.0D0/1050.0D0)*AI1B**2/P(2)**2",
        "     &   + 4.0D0*(19.0D0/7000.0D0)*AI1B**3/P(2)**3",
        "     &   + 5.0D0*(519.0D0/673750.0D0)*AI1B**4/P(2)**4)",
        "      PB2 = (0.0D0, 0.0D0)",
    ]
    lines, decl = _isochoric_psi(pbar, _vol(model), "P(3)")
    return _hyper(model, _names(model, "mu", "N", "K"), "Arruda-Boyce (five-term series): psi = mu sum_i a_i/N^(i-1) "
                  f"(I1bar^i - 3^i) + U(J), {_VOLUMETRIC_TEXT.get(_vol(model), '')}.", lines, decl)  # fmt: skip


@register_umat_generator(Gent)
def _gen_gent(model: Gent) -> GeneratedUMAT:
    pbar = ["      X = AI1B - 3.0D0", "      PB1 = 0.5D0*P(1)/(1.0D0 - X/P(2))", "      PB2 = (0.0D0, 0.0D0)"]
    lines, decl = _isochoric_psi(pbar, _vol(model), "P(3)")
    domain = [
        "C     Gent: I1bar - 3 must stay below Jm (limiting chain extensibility), else retry smaller.",
        "      TRB = DFGRD1(1,1)**2 + DFGRD1(1,2)**2 + DFGRD1(1,3)**2 + DFGRD1(2,1)**2 + DFGRD1(2,2)**2 "
        "+ DFGRD1(2,3)**2 + DFGRD1(3,1)**2 + DFGRD1(3,2)**2 + DFGRD1(3,3)**2",
        "      IF (TRB*DJ**(-2.0D0/3.0D0) - 3.0D0 .GE. PROPS(2)) THEN",
        "         PNEWDT = 0.25D0",
        "         RETURN",
        "      END IF",
    ]
    return _hyper(model, _names(model, "mu", "Jm", "K"), "Gent: psi = -mu Jm/2 ln(1 - (I1bar - 3)/Jm) + U(J), "
                  f"{_VOLUMETRIC_TEXT.get(_vol(model), '')}.", lines, decl, domain)  # fmt: skip


# -------------------------------------------------------------------------------------------- J2 plasticity
# Isotropic hardening laws by class: Fortran lines setting SF = sigma_f(A) and DSF = sigma_f'(A) in UGFLOW, where
# sigma_f = sigma_y + H alpha + R(alpha) (hardening.py); {name} stands for the PROPS entry of parameter `name`.
HARDENING_FORTRAN: dict[type, list[str]] = {
    Linear: [],
    Voce: [
        "      EB = EXP(-P({b})*A)",
        "      SF = SF + P({Q})*(1.0D0 - EB)",
        "      DSF = DSF + P({Q})*P({b})*EB",
    ],
    Swift: [
        "      BS = P({eps0}) + A",
        "      SF = SF + P({K})*(BS**P({n}) - P({eps0})**P({n}))",
        "      DSF = DSF + P({K})*P({n})*BS**(P({n}) - 1.0D0)",
    ],
}

_J2_ROUTINES = """
{flow}C
C     Residual R of the return map at the Newton unknown Z and its
C     slope DR (the equations of J2Plasticity/Perzyna): X = Delta
C     alpha(Z), DX = dX/dZ, TH(k) = 1/(1 + gamma_k X), XI = s_trial
C     - sum TH_k X_k,n (tensor components, Abaqus order), XN = |XI|,
C     FN = XI/XN, and W = sum gamma_k TH_k^2 X_k,n.
      SUBROUTINE UGRES(Z, P, G, A0, {dt}STR, BX, R, DR, X, DX, XI, XN,
     &   FN, TH, W)
      INCLUDE 'ABA_PARAM.INC'
      PARAMETER (NBD = {nbd})
      DIMENSION P(*), STR(6), BX(6,NBD), XI(6), FN(6), TH(NBD), W(6)
      DIMENSION WT(6)
      DATA WT /1.0D0, 1.0D0, 1.0D0, 2.0D0, 2.0D0, 2.0D0/
      SQ32 = SQRT(1.5D0)
C     NB back stresses (a variable: no zero-trip loops at compile time).
      NB = {nb}
{dalpha}
      DO I = 1, 6
         XI(I) = STR(I)
         W(I) = 0.0D0
      END DO
      AKIN = 0.0D0
      GT2C = 0.0D0
      DO KB = 1, NB
         TH(KB) = 1.0D0/(1.0D0 + P({gamma} + KB - 1)*X)
         AKIN = AKIN + TH(KB)*P({C} + KB - 1)
         GT2 = P({gamma} + KB - 1)*TH(KB)*TH(KB)
         GT2C = GT2C + GT2*P({C} + KB - 1)
         DO I = 1, 6
            XI(I) = XI(I) - TH(KB)*BX(I,KB)
            W(I) = W(I) + GT2*BX(I,KB)
         END DO
      END DO
      XN = 0.0D0
      DO I = 1, 6
         XN = XN + WT(I)*XI(I)*XI(I)
      END DO
      XN = SQRT(XN)
      FNW = 0.0D0
      DO I = 1, 6
         FN(I) = XI(I)/XN
         FNW = FNW + WT(I)*FN(I)*W(I)
      END DO
      RHO = SQ32*XN - (3.0D0*G + AKIN)*X
      DRHO = SQ32*FNW - 3.0D0*G - AKIN + GT2C*X
      CALL UGFLOW(A0 + X, P, SF, DSF)
{residual}
      RETURN
      END
"""
_J2_DALPHA = "      X = Z\n      DX = 1.0D0"
_J2_RESIDUAL = "      R = RHO - SF\n      DR = DRHO - DSF"
_PERZYNA_DALPHA = "      CR = DT/P({eta})\n      X = CR*Z**P({m})\n      DX = CR*P({m})*Z**(P({m}) - 1.0D0)"
_PERZYNA_RESIDUAL = "      R = RHO - SF*(1.0D0 + Z)\n      DR = (DRHO - DSF*(1.0D0 + Z))*DX - SF"

_J2_BODY = """
C     Elastic moduli and the total strain (tensor components).
      BK = PROPS({E})/(3.0D0*(1.0D0 - 2.0D0*PROPS({nu})))
      G = PROPS({E})/(2.0D0*(1.0D0 + PROPS({nu})))
      DO I = 1, 6
         ET(I) = 0.0D0
      END DO
      DO I = 1, NTENS
         ET(I) = STRAN(I) + DSTRAN(I)
      END DO
      DO I = 4, 6
         ET(I) = 0.5D0*ET(I)
      END DO
      TR = ET(1) + ET(2) + ET(3)
C     The state at the start of the increment.
      DO I = 1, 6
         EP(I) = STATEV(I)*WI(I)
      END DO
      A0 = STATEV(7)
      DO KB = 1, NB
         DO I = 1, 6
            BX(I,KB) = STATEV(7 + 6*(KB - 1) + I)
         END DO
      END DO
C     Trial state: s_trial = 2 G (dev eps - eps_p), q_trial, f_trial.
      DO I = 1, 6
         STR(I) = 2.0D0*G*(ET(I) - EP(I))
      END DO
      DO I = 1, 3
         STR(I) = STR(I) - 2.0D0*G*TR/3.0D0
      END DO
      DO I = 1, 6
         XI(I) = STR(I)
      END DO
      DO KB = 1, NB
         DO I = 1, 6
            XI(I) = XI(I) - BX(I,KB)
         END DO
      END DO
      QTR = 0.0D0
      DO I = 1, 6
         QTR = QTR + WT(I)*XI(I)*XI(I)
      END DO
      QTR = SQ32*SQRT(QTR)
      CALL UGFLOW(A0, PROPS, SFN, DSF)
      FTR = QTR - SFN
      DO I = 1, 6
         DO J = 1, 6
            D6(I,J) = 2.0D0*G*DEV(I,J)
         END DO
      END DO
      DO I = 1, 3
         DO J = 1, 3
            D6(I,J) = D6(I,J) + BK
         END DO
      END DO
      IF (FTR .LE. 0.0D0) THEN
C        Elastic step: the state is unchanged.
         DO I = 1, 6
            S6(I) = STR(I)
         END DO
         DO I = 1, 3
            S6(I) = S6(I) + BK*TR
         END DO
         RETURN_STATE = 0
      ELSE
C        Bracketed Newton iteration on the scalar unknown Z, from Z = 0.
         SN = 0.0D0
         DO I = 1, 6
            SN = SN + WT(I)*STR(I)*STR(I)
         END DO
         SN = SQRT(SN)
         DO KB = 1, NB
            BN = 0.0D0
            DO I = 1, 6
               BN = BN + WT(I)*BX(I,KB)*BX(I,KB)
            END DO
            SN = SN + SQRT(BN)
         END DO
         ZHI = MAX(SQ32*SN - SFN, 0.0D0)/(3.0D0*G){upper}
         ZLO = 0.0D0
         Z = 0.0D0
         DO IT = 0, {maxit}
            CALL UGRES(Z, PROPS, G, A0, {dt}STR, BX, R, DR, X, DX, XI,
     &         XN, FN, TH, W)
            IF (ABS(R) .LE. {tol}*QTR) GO TO 10
            IF (R .GT. 0.0D0) THEN
               ZLO = Z
            ELSE
               ZHI = Z
            END IF
            ZS = Z - R/DR
            IF (ZS .GT. ZLO .AND. ZS .LT. ZHI) THEN
               Z = ZS
            ELSE
               Z = 0.5D0*(ZLO + ZHI)
            END IF
         END DO
C        Not converged: ask for a smaller increment.
         PNEWDT = 0.5D0
         RETURN
   10    CONTINUE
C        One more Newton step with the slope held (as the Python model),
C        keeping the direction and slope at the converged iterate.
         DRS = DR
         DO I = 1, 6
            FNS(I) = FN(I)
         END DO
         Z = Z - R/DRS
         CALL UGRES(Z, PROPS, G, A0, {dt}STR, BX, R, DR, X, DX, XI, XN,
     &      FN, TH, W)
C        Stress and state at the end of the increment.
         DO I = 1, 6
            S6(I) = STR(I) - 2.0D0*G*SQ32*X*FN(I)
            EP(I) = EP(I) + SQ32*X*FN(I)
         END DO
         DO I = 1, 3
            S6(I) = S6(I) + BK*TR
         END DO
         DO KB = 1, NB
            DO I = 1, 6
               BX(I,KB) = TH(KB)*(BX(I,KB)
     &            + SQ23*P_C(KB)*X*FN(I))
            END DO
         END DO
C        Consistent tangent: dsigma = K tr(deps) 1 + 2G deps_dev
C        - 2G sqrt(3/2) (dX FN + X dFN), dX = A : deps,
C        A = DX sqrt(6) G / (-DRS) FNS, dFN = (1 - FN FN)(2G deps_dev
C        + W dX)/XN.
         FNW = 0.0D0
         DO I = 1, 6
            FNW = FNW + WT(I)*FN(I)*W(I)
         END DO
         DO I = 1, 6
            AV(I) = DX*SQRT(6.0D0)*G/(-DRS)*FNS(I)
            WP(I) = W(I) - FNW*FN(I)
         END DO
         RATIO = X/XN
         DO I = 1, 6
            DO J = 1, 6
               D6(I,J) = D6(I,J) - 2.0D0*G*SQ32*(FN(I)*AV(J)
     &            + RATIO*(2.0D0*G*(DEV(I,J) - FN(I)*FN(J))
     &            + WP(I)*AV(J)))
            END DO
         END DO
         RETURN_STATE = 1
      END IF
      IF (RETURN_STATE .GT. 0.5D0) THEN
         DO I = 1, 6
            STATEV(I) = EP(I)/WI(I)
         END DO
         STATEV(7) = A0 + X
         DO KB = 1, NB
            DO I = 1, 6
               STATEV(7 + 6*(KB - 1) + I) = BX(I,KB)
            END DO
         END DO
      END IF
"""


def hardening_fortran(model: Any, indices: Mapping[str, str]) -> str:
    """The Fortran lines of ``model.law`` (:data:`HARDENING_FORTRAN`, adding to ``SF``/``DSF`` from ``A``) with
    ``{name}`` replaced by the PROPS index ``indices[name]``; :class:`UMATGenerationError` names a law that has
    none (every generator of a model with an isotropic hardening law goes through here)."""
    law = model.law
    snippet = HARDENING_FORTRAN.get(type(law))
    if snippet is None:
        what = "a Python callable" if isinstance(law, UserLaw) else f"the hardening law {type(law).__name__}"
        raise UMATGenerationError(
            f"UMAT not generated for {type(model).__name__} with {what}: generated isotropic laws are "
            f"{', '.join(c.__name__ for c in HARDENING_FORTRAN)} (a law defined by Python code cannot be translated; "
            "add its Fortran lines to constitutive.export.umat_generator.HARDENING_FORTRAN)"
        )
    return "\n".join(ln.format(**indices) for ln in snippet)


def flow_routine(model: Any, indices: Mapping[str, str], name: str, base: str, comment: str, slope: str = "H") -> str:
    """The Fortran subroutine ``name(A, P, SF, DSF)`` of a model with an isotropic hardening law: ``SF = P(base) +
    P(slope)*A`` plus the law's lines (:func:`hardening_fortran`) and its slope ``DSF`` at ``A``; ``indices``:
    PROPS index per parameter name; ``comment``: the routine's heading comment (one line)."""
    return (
        f"C     {comment}\n"
        f"      SUBROUTINE {name}(A, P, SF, DSF)\n"
        "      INCLUDE 'ABA_PARAM.INC'\n"
        "      DIMENSION P(*)\n"
        f"      SF = P({indices[base]}) + P({indices[slope]})*A\n"
        f"      DSF = P({indices[slope]})\n"
        f"{hardening_fortran(model, indices)}\n"
        "      RETURN\n"
        "      END\n"
    )


def _j2_indices(model: Any) -> dict[str, int]:
    idx: dict[str, int] = {}
    k = 1
    for name, v in model.parameters.items():
        idx[name] = k
        k += int(v.numel())
    return idx


@register_umat_generator(J2Plasticity)
def _gen_j2(model: J2Plasticity) -> GeneratedUMAT:
    law = model.law
    perzyna = isinstance(model, Perzyna)
    idx = _j2_indices(model)
    nb = model.n_backstress
    names = list(model.parameters)
    props, docs = _props_from_parameters(model, names)
    sub = {k: str(v) for k, v in idx.items()}
    sub.setdefault("C", "1")
    sub.setdefault("gamma", "1")
    flow = flow_routine(model, sub, "UGFLOW", "sigma_y", "Flow stress SF = sigma_f(A) and its slope DSF at alpha = A.")
    routines = _J2_ROUTINES.replace("{flow}", flow)
    routines = routines.replace("{dalpha}", (_PERZYNA_DALPHA if perzyna else _J2_DALPHA).format(**sub))
    routines = routines.replace("{residual}", _PERZYNA_RESIDUAL if perzyna else _J2_RESIDUAL)
    for key in ("sigma_y", "H", "C", "gamma"):
        routines = routines.replace("{" + key + "}", sub[key])
    routines = routines.replace("{nb}", str(nb)).replace("{nbd}", str(max(nb, 1)))
    body = _J2_BODY
    for key in ("E", "nu"):
        body = body.replace("{" + key + "}", sub[key])
    body = body.replace("{maxit}", str(int(model.max_iter))).replace("{tol}", f"{float(model.tol):.17g}".upper())
    body = body.replace("{upper}", "*3.0D0*G/SFN" if perzyna else "")
    # the time increment reaches the residual of the rate-dependent model only
    body = body.replace("{dt}", "DT, " if perzyna else "")
    routines = routines.replace("{dt}", "DT, " if perzyna else "")
    body = body.replace("P_C(KB)", f"PROPS({sub['C']} + KB - 1)")
    body_lines = body.strip("\n").split("\n")
    dt_line = []
    if perzyna:
        dt_line += [
            "      DT = DTIME",
            "      IF (DTIME .LE. 0.0D0) THEN",
            "         CALL STDB_ABQERR(-3, "
            + _fstr(f"UMAT {type(model).__name__}: rate-dependent, needs DTIME > 0 (element %I, point %I)")
            + ", INTV(3), REALV, CHARV)",
            "         RETURN",
            "      END IF",
        ]
    decl = [
        f"      PARAMETER (NBD = {max(nb, 1)})",
        "      DIMENSION ET(6), EP(6), STR(6), XI(6), FN(6), FNS(6), W(6), WP(6), AV(6), BX(6,NBD), TH(NBD)",
        "      DIMENSION WT(6), WI(6), DEV(6,6)",
        "      DATA WT /1.0D0, 1.0D0, 1.0D0, 2.0D0, 2.0D0, 2.0D0/",
        "      DATA WI /1.0D0, 1.0D0, 1.0D0, 0.5D0, 0.5D0, 0.5D0/",
        "      DATA DEV /0.6666666666666666D0, -0.3333333333333333D0, -0.3333333333333333D0, 0.0D0, 0.0D0, 0.0D0,"
        " -0.3333333333333333D0, 0.6666666666666666D0, -0.3333333333333333D0, 0.0D0, 0.0D0, 0.0D0,"
        " -0.3333333333333333D0, -0.3333333333333333D0, 0.6666666666666666D0, 0.0D0, 0.0D0, 0.0D0,"
        " 0.0D0, 0.0D0, 0.0D0, 0.5D0, 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.5D0, 0.0D0,"
        " 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.5D0/",
    ]
    pre = [
        f"      NB = {nb}",
        "      SQ32 = SQRT(1.5D0)",
        "      SQ23 = SQRT(2.0D0/3.0D0)",
        "      X = 0.0D0",
        *dt_line,
    ]
    statev = [(f"eps_p {lab}", "plastic strain" + (" (engineering shear)" if lab[0] != lab[1] else ""))
              for lab in ("11", "22", "33", "12", "13", "23")]  # fmt: skip
    statev.append(("alpha", "equivalent plastic strain"))
    for k in range(1, nb + 1):
        statev += [(f"X{k} {lab}", f"back stress {k}") for lab in ("11", "22", "33", "12", "13", "23")]
    kin = "" if nb == 0 else (" Armstrong-Frederick/Chaboche" if bool((model.gamma != 0).any()) else " Prager")
    lawname = type(law).__name__
    stresses = f"{nb} back stress{'es' if nb > 1 else ''}"
    title = (
        f"{'Perzyna viscoplasticity' if perzyna else 'J2 (von Mises) plasticity'}, {lawname} isotropic hardening"
        f"{',' + kin + ' kinematic hardening (' + stresses + ')' if nb else ''}: backward Euler "
        "return map (scalar Newton in the plastic multiplier) and its consistent tangent in closed form."
    )
    notes = [
        "Units: the parameters' units above (stress in the unit of STRESS"
        + ("; eta in the unit of time of the step (DTIME))." if perzyna else ")."),
        f"Local Newton: converged when |r| <= {float(model.tol):g} q_trial, at most {int(model.max_iter)} "
        "iterations, else PNEWDT = 0.5 (the increment is retried smaller).",
    ]
    if nb and bool((model.gamma != 0).any()):
        notes.append("The tangent is not symmetric: declare *USER MATERIAL, UNSYMM.")
    # "RETURN_STATE" is a real flag (implicit typing), 1 when the state changed
    body_lines = [ln.replace("RETURN_STATE", "RSTATE") for ln in body_lines]
    return GeneratedUMAT(
        _model_repr(model),
        title,
        props,
        docs,
        statev,
        False,
        [*pre, *body_lines],
        declarations=decl,
        routines=[routines],
        notes=notes,
    )


# ---------------------------------------------------------------------------------------- viscoelasticity
_PRONY_BODY = """
      IF (DTIME .LE. 0.0D0) THEN
         CALL STDB_ABQERR(-3, {msg}, INTV(3), REALV, CHARV)
         RETURN
      END IF
C     Total strain and its increment (tensor components, Abaqus order).
      DO I = 1, 6
         ET(I) = 0.0D0
         DE(I) = 0.0D0
      END DO
      DO I = 1, NTENS
         ET(I) = STRAN(I) + DSTRAN(I)
         DE(I) = DSTRAN(I)
      END DO
      DO I = 4, 6
         ET(I) = 0.5D0*ET(I)
         DE(I) = 0.5D0*DE(I)
      END DO
      TR = ET(1) + ET(2) + ET(3)
      TRD = DE(1) + DE(2) + DE(3)
      DO I = 1, 3
         ET(I) = ET(I) - TR/3.0D0
         DE(I) = DE(I) - TRD/3.0D0
      END DO
C     Long-term branch, then the Maxwell branches: h_i = a_i h_i,n
C     + 2 g_i phi_i dev(d eps), p_j = a_j p_j,n + k_j phi_j tr(d eps),
C     a = exp(-dt/tau), phi = (tau/dt)(1 - a) (by expm1, see UGPHI).
      GA = PROPS(2)
      AKA = PROPS(1)
      DO I = 1, 6
         S6(I) = 2.0D0*PROPS(2)*ET(I)
      END DO
      SM = PROPS(1)*TR
      NS = {ns}
      NBK = {nbk}
      DO KT = 1, NS
         CALL UGPHI(DTIME/PROPS({st} + KT - 1), A, PHI)
         GP = PROPS({sm} + KT - 1)*PHI
         GA = GA + GP
         DO I = 1, 6
            H = A*STATEV(6*(KT - 1) + I) + 2.0D0*GP*DE(I)
            STATEV(6*(KT - 1) + I) = H
            S6(I) = S6(I) + H
         END DO
      END DO
      DO KT = 1, NBK
         CALL UGPHI(DTIME/PROPS({bt} + KT - 1), A, PHI)
         AKP = PROPS({bm} + KT - 1)*PHI
         AKA = AKA + AKP
         PJ = A*STATEV(6*NS + KT) + AKP*TRD
         STATEV(6*NS + KT) = PJ
         SM = SM + PJ
      END DO
      DO I = 1, 3
         S6(I) = S6(I) + SM
      END DO
C     Consistent tangent: K_alg 1 x 1 + 2 G_alg I_dev (fixed by DTIME).
      DO I = 1, 6
         DO J = 1, 6
            D6(I,J) = 0.0D0
         END DO
      END DO
      DO I = 1, 3
         DO J = 1, 3
            D6(I,J) = AKA - 2.0D0*GA/3.0D0
         END DO
         D6(I,I) = D6(I,I) + 2.0D0*GA
         D6(I+3,I+3) = GA
      END DO
"""
_PRONY_ROUTINE = """
C     A = exp(-X) and PHI = (1 - exp(-X))/X for X = dt/tau >= 0, with
C     1 - exp(-X) = -expm1(-X) = -2t/(1 - t), t = tanh(-X/2): accurate
C     for small X (PHI = 1 at X = 0).
      SUBROUTINE UGPHI(X, A, PHI)
      INCLUDE 'ABA_PARAM.INC'
      A = EXP(-X)
      IF (X .GT. 0.0D0) THEN
         T = TANH(-0.5D0*X)
         PHI = -2.0D0*T/((1.0D0 - T)*X)
      ELSE
         PHI = 1.0D0
      END IF
      RETURN
      END
"""


@register_umat_generator(GeneralizedMaxwell)
def _gen_maxwell(model: GeneralizedMaxwell) -> GeneratedUMAT:
    idx = _j2_indices(model)
    ns, nbk = model.n_shear, model.n_bulk
    props, docs = _props_from_parameters(model, list(model.parameters))
    sub = {
        "ns": str(ns),
        "nbk": str(nbk),
        "sm": str(idx.get("shear_moduli", 1)),
        "st": str(idx.get("shear_times", 1)),
        "bm": str(idx.get("bulk_moduli", 1)),
        "bt": str(idx.get("bulk_times", 1)),
        "msg": _fstr(f"UMAT {type(model).__name__}: rate-dependent, needs DTIME > 0 (element %I, point %I)"),
    }
    body = _PRONY_BODY
    for k, v in sub.items():
        body = body.replace("{" + k + "}", v)
    statev = [(f"h{k} {lab}", f"shear branch {k} stress") for k in range(1, ns + 1)
              for lab in ("11", "22", "33", "12", "13", "23")]  # fmt: skip
    statev += [(f"p{k}", f"bulk branch {k} mean stress") for k in range(1, nbk + 1)]
    return GeneratedUMAT(
        _model_repr(model),
        f"Generalized Maxwell (Prony series) viscoelasticity, {ns} shear and {nbk} bulk terms: exact recursive "
        "update for a strain linear in time over the increment, consistent tangent.",
        props,
        docs,
        statev,
        False,
        body.strip("\n").split("\n"),
        declarations=["      DIMENSION ET(6), DE(6)"],
        routines=[_PRONY_ROUTINE],
        notes=[
            "Relaxation times in the time unit of the analysis (DTIME); the Prony moduli are absolute moduli "
            "(not fractions of the instantaneous modulus). The strain at the start of the increment is STRAN.",
        ],
    )


# ------------------------------------------------------------------------------------------------- Ogden
_VOLUMETRIC_REAL = {  # U'(J) and U''(J), real, from AJ and AK
    "quadratic": ["      DU = AK*(AJ - 1.0D0)", "      DDU = AK"],
    "log": ["      DU = AK*LOG(AJ)/AJ", "      DDU = AK*(1.0D0 - LOG(AJ))/(AJ*AJ)"],
    "simo_taylor": ["      DU = 0.5D0*AK*(AJ - 1.0D0/AJ)", "      DDU = 0.5D0*AK*(1.0D0 + 1.0D0/(AJ*AJ))"],
}

_OGDEN_BODY = """
      DJ = DFGRD1(1,1)*(DFGRD1(2,2)*DFGRD1(3,3) - DFGRD1(2,3)*DFGRD1(3,2))
     &   - DFGRD1(1,2)*(DFGRD1(2,1)*DFGRD1(3,3) - DFGRD1(2,3)*DFGRD1(3,1))
     &   + DFGRD1(1,3)*(DFGRD1(2,1)*DFGRD1(3,2) - DFGRD1(2,2)*DFGRD1(3,1))
      IF (DJ .LE. 0.0D0) THEN
         PNEWDT = 0.25D0
         RETURN
      END IF
C     C = F^T F = sum_a c_a N_a N_a (Jacobi: eigenvalues CA, vectors Q).
      DO I = 1, 3
         DO J = 1, 3
            CR(I,J) = 0.0D0
            DO K = 1, 3
               CR(I,J) = CR(I,J) + DFGRD1(K,I)*DFGRD1(K,J)
            END DO
         END DO
      END DO
      CALL UGEIG(CR, CA, Q)
C     g_a = d psi/d ln c_a and DGL(a,b) = d g_a/d ln c_b, with
C     lambda_bar_a^alpha = exp(alpha/2 (ln c_a - mean ln c)).
      AM = 0.0D0
      DO IE = 1, 3
         AL(IE) = LOG(CA(IE))
         AM = AM + AL(IE)/3.0D0
      END DO
      AJ = EXP(0.5D0*(AL(1) + AL(2) + AL(3)))
      DO IE = 1, 3
         GA(IE) = 0.0D0
         DO JE = 1, 3
            DGL(IE,JE) = 0.0D0
         END DO
      END DO
      NP = {np}
      DO KP = 1, NP
         AMU = PROPS(KP)
         ALP = PROPS(NP + KP)
         WS = 0.0D0
         DO IE = 1, 3
            WP(IE) = EXP(0.5D0*ALP*(AL(IE) - AM))
            WS = WS + WP(IE)
         END DO
         DO IE = 1, 3
            GA(IE) = GA(IE) + 0.5D0*AMU*(WP(IE) - WS/3.0D0)
            DO JE = 1, 3
               DGL(IE,JE) = DGL(IE,JE) - 0.25D0*AMU*ALP*(WP(IE)/3.0D0
     &            + (WP(JE) - WS/3.0D0)/3.0D0)
            END DO
            DGL(IE,IE) = DGL(IE,IE) + 0.25D0*AMU*ALP*WP(IE)
         END DO
      END DO
      AK = PROPS(2*NP + 1)
{vol}
      DO IE = 1, 3
         GA(IE) = GA(IE) + 0.5D0*AJ*DU
         DO JE = 1, 3
            DGL(IE,JE) = DGL(IE,JE) + 0.25D0*AJ*(DU + AJ*DDU)
         END DO
      END DO
C     Principal values of S, y_a = 2 g_a/c_a, and HY(a,b) = d y_a/d c_b.
      DO IE = 1, 3
         Y(IE) = 2.0D0*GA(IE)/CA(IE)
         DO JE = 1, 3
            HY(IE,JE) = 2.0D0*DGL(IE,JE)/(CA(IE)*CA(JE))
         END DO
         HY(IE,IE) = HY(IE,IE) - 2.0D0*GA(IE)/CA(IE)**2
      END DO
C     Daleckii-Krein coefficients THETA(a,b) = (y_a - y_b)/(c_a - c_b),
C     the limit where |c_a - c_b| <= eps^(1/3) max(1, max c) (as the
C     package does).
      CALL UGDKC(CA, Y, HY, THETA)
C     S and the material tangent CM = dS/dE = 2 dS/dC.
      CALL UGSPD(Q, HY, THETA, CM)
      DO I = 1, 3
         DO J = 1, 3
            SP(I,J) = 0.0D0
            DO IE = 1, 3
               SP(I,J) = SP(I,J) + Y(IE)*Q(I,IE)*Q(J,IE)
            END DO
            DO K = 1, 3
               DO L = 1, 3
                  CM(I,J,K,L) = 2.0D0*CM(I,J,K,L)
               END DO
            END DO
         END DO
      END DO
C     Cauchy stress sigma = F S F^T/J; spatial tangent J^-1 F F F F : CM
C     (one index at a time), plus the Jaumann terms 1/2 (d_ik s_jl
C     + s_ik d_jl + d_il s_jk + s_il d_jk).
      DO I = 1, 3
         DO J = 1, 3
            T = 0.0D0
            DO K = 1, 3
               DO L = 1, 3
                  T = T + DFGRD1(I,K)*SP(K,L)*DFGRD1(J,L)
               END DO
            END DO
            SIG(I,J) = T/DJ
         END DO
      END DO
      CALL UGPUSH(CM, DFGRD1, 1)
      CALL UGPUSH(CM, DFGRD1, 2)
      CALL UGPUSH(CM, DFGRD1, 3)
      CALL UGPUSH(CM, DFGRD1, 4)
      DO M = 1, 6
         S6(M) = SIG(IA(M),JA(M))
         DO N = 1, 6
            I = IA(M)
            J = JA(M)
            K = IA(N)
            L = JA(N)
            T = CM(I,J,K,L)/DJ
            IF (I .EQ. K) T = T + 0.5D0*SIG(J,L)
            IF (J .EQ. L) T = T + 0.5D0*SIG(I,K)
            IF (I .EQ. L) T = T + 0.5D0*SIG(J,K)
            IF (J .EQ. K) T = T + 0.5D0*SIG(I,L)
            D6(M,N) = T
         END DO
      END DO
"""

#: The one Fortran eigen-solver of the generated finite-strain UMATs (Ogden, finite-strain J2:
#: :mod:`constitutive.export.umat_finite_j2`): ``SUBROUTINE UGEIG(A0, D, V)``, eigenvalues ``D`` (unsorted) and
#: orthonormal eigenvectors ``V`` (columns) of a symmetric 3x3 ``A0`` (not modified) by cyclic Jacobi rotations, to
#: an off-diagonal norm below 1e-30 of the diagonal's (high relative accuracy). A generator appends it to its
#: ``routines`` rather than writing a copy.
JACOBI_FORTRAN = """
C     Eigenvalues D and eigenvectors V (columns) of the symmetric 3x3
C     A0 by cyclic Jacobi rotations (high relative accuracy).
      SUBROUTINE UGEIG(A0, D, V)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION A0(3,3), D(3), V(3,3), A(3,3)
      DO I = 1, 3
         DO J = 1, 3
            A(I,J) = A0(I,J)
            V(I,J) = 0.0D0
         END DO
         V(I,I) = 1.0D0
      END DO
      DO ISW = 1, 50
         OFF = A(1,2)**2 + A(1,3)**2 + A(2,3)**2
         DIAG = A(1,1)**2 + A(2,2)**2 + A(3,3)**2
         IF (OFF .LE. 1.0D-60*DIAG) GO TO 20
         DO IP = 1, 2
            DO IQ = IP + 1, 3
               IF (A(IP,IQ) .NE. 0.0D0) THEN
                  TH = (A(IQ,IQ) - A(IP,IP))/(2.0D0*A(IP,IQ))
                  IF (ABS(TH) .GT. 1.0D150) THEN
                     T = 0.5D0/TH
                  ELSE
                     T = SIGN(1.0D0, TH)/(ABS(TH) + SQRT(TH*TH + 1.0D0))
                  END IF
                  C = 1.0D0/SQRT(T*T + 1.0D0)
                  S = T*C
                  DO K = 1, 3
                     AKP = A(K,IP)
                     AKQ = A(K,IQ)
                     A(K,IP) = C*AKP - S*AKQ
                     A(K,IQ) = S*AKP + C*AKQ
                  END DO
                  DO K = 1, 3
                     APK = A(IP,K)
                     AQK = A(IQ,K)
                     A(IP,K) = C*APK - S*AQK
                     A(IQ,K) = S*APK + C*AQK
                  END DO
                  A(IP,IQ) = 0.0D0
                  A(IQ,IP) = 0.0D0
                  DO K = 1, 3
                     VKP = V(K,IP)
                     VKQ = V(K,IQ)
                     V(K,IP) = C*VKP - S*VKQ
                     V(K,IQ) = S*VKP + C*VKQ
                  END DO
               END IF
            END DO
         END DO
      END DO
   20 CONTINUE
      DO I = 1, 3
         D(I) = A(I,I)
      END DO
      RETURN
      END
"""
#: The Daleckii--Krein coefficients of the generated finite-strain UMATs (Ogden, finite-strain J2), one copy:
#: ``SUBROUTINE UGDKC(C, Y, DY, THETA)``, ``THETA(a,b) = (y_a - y_b)/(c_a - c_b)`` for ``a != b``, and where
#: ``|c_a - c_b| <= eps^(1/3) max(1, max |c|)`` (the package's coincidence test,
#: :func:`constitutive.tensor.spectral_derivative`) its limit ``(DY(a,a) + DY(b,b) - DY(a,b) - DY(b,a))/2`` from
#: the derivatives ``DY(a,b) = dy_a/dc_b``; ``THETA(a,a) = 0``.
DALECKII_FORTRAN = """
C     Daleckii-Krein coefficients THETA(a,b) = (y_a - y_b)/(c_a - c_b),
C     the limit where |c_a - c_b| <= eps^(1/3) max(1, max c) (as the
C     package does), from DY(a,b) = d y_a/d c_b.
      SUBROUTINE UGDKC(C, Y, DY, THETA)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION C(3), Y(3), DY(3,3), THETA(3,3)
      TOLC = {tolc}*MAX(1.0D0, ABS(C(1)), ABS(C(2)), ABS(C(3)))
      DO IE = 1, 3
         DO JE = 1, 3
            IF (IE .EQ. JE) THEN
               THETA(IE,JE) = 0.0D0
            ELSE IF (ABS(C(IE) - C(JE)) .LE. TOLC) THEN
               THETA(IE,JE) = 0.5D0*(DY(IE,IE) + DY(JE,JE))
     &            - 0.5D0*(DY(IE,JE) + DY(JE,IE))
            ELSE
               THETA(IE,JE) = (Y(IE) - Y(JE))/(C(IE) - C(JE))
            END IF
         END DO
      END DO
      RETURN
      END
""".replace("{tolc}", repr(float(torch.finfo(torch.float64).eps) ** (1.0 / 3.0)).upper().replace("E", "D"))
#: The derivative of an isotropic tensor function in its eigenbasis, for the same UMATs, one copy:
#: ``SUBROUTINE UGSPD(Q, DY, THETA, DD)``, ``DD_ijkl = Σ_ab DY(a,b) q_a,i q_a,j q_b,k q_b,l + THETA(a,b)/2
#: q_a,i q_b,j (q_a,k q_b,l + q_b,k q_a,l)`` with the eigenvectors ``Q`` (columns), ``DY(a,b) = dy_a/dc_b`` and the
#: Daleckii--Krein ``THETA`` of :data:`DALECKII_FORTRAN` (minor-symmetric in (k, l)).
SPECTRAL_FORTRAN = """
C     DD = d Y/d C of the isotropic tensor function Y = sum_a y_a q_a q_a
C     in the eigenbasis Q (columns): the DY(a,b) = d y_a/d c_b terms and
C     the Daleckii-Krein THETA terms (minor-symmetric in k, l).
      SUBROUTINE UGSPD(Q, DY, THETA, DD)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION Q(3,3), DY(3,3), THETA(3,3), DD(3,3,3,3)
      DO I = 1, 3
       DO J = 1, 3
        DO K = 1, 3
         DO L = 1, 3
          T = 0.0D0
          DO IE = 1, 3
           DO JE = 1, 3
            T = T + DY(IE,JE)*Q(I,IE)*Q(J,IE)*Q(K,JE)*Q(L,JE)
     &         + 0.5D0*THETA(IE,JE)*Q(I,IE)*Q(J,JE)
     &         *(Q(K,IE)*Q(L,JE) + Q(K,JE)*Q(L,IE))
           END DO
          END DO
          DD(I,J,K,L) = T
         END DO
        END DO
       END DO
      END DO
      RETURN
      END
"""
_PUSH_FORTRAN = """
C     Contract index IX of the fourth-order CM with F: CM(..,i,..) =
C     F(i,I) CM(..,I,..) (a push-forward applies it to all four).
      SUBROUTINE UGPUSH(CM, F, IX)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION CM(3,3,3,3), F(3,3), W(3,3,3,3)
      DO I = 1, 3
       DO J = 1, 3
        DO K = 1, 3
         DO L = 1, 3
          T = 0.0D0
          DO M = 1, 3
           IF (IX .EQ. 1) T = T + F(I,M)*CM(M,J,K,L)
           IF (IX .EQ. 2) T = T + F(J,M)*CM(I,M,K,L)
           IF (IX .EQ. 3) T = T + F(K,M)*CM(I,J,M,L)
           IF (IX .EQ. 4) T = T + F(L,M)*CM(I,J,K,M)
          END DO
          W(I,J,K,L) = T
         END DO
        END DO
       END DO
      END DO
      DO I = 1, 3
       DO J = 1, 3
        DO K = 1, 3
         DO L = 1, 3
          CM(I,J,K,L) = W(I,J,K,L)
         END DO
        END DO
       END DO
      END DO
      RETURN
      END
"""
_OGDEN_ROUTINES = JACOBI_FORTRAN + "C" + DALECKII_FORTRAN + "C" + SPECTRAL_FORTRAN + "C" + _PUSH_FORTRAN


@register_umat_generator(Ogden)
def _gen_ogden(model: Ogden) -> GeneratedUMAT:
    if not model.compressible:
        _hyper(model, [], "", [], "")  # raises the incompressible error
    vol = _vol(model)
    if vol not in _VOLUMETRIC_REAL:
        raise UMATGenerationError(
            f"UMAT not generated yet for the volumetric term {vol!r} (generated: {sorted(_VOLUMETRIC_REAL)})"
        )
    npairs = int(model.mu.numel())
    props, docs = _props_from_parameters(model, ["mu", "alpha", "K"])
    body = _OGDEN_BODY.replace("{np}", str(npairs)).replace("{vol}", "\n".join(_VOLUMETRIC_REAL[vol]))
    return GeneratedUMAT(
        _model_repr(model),
        f"Ogden ({npairs} terms): psi = sum_p mu_p/alpha_p (sum_a lambda_bar_a^alpha_p - 3) + U(J), "
        f"{_VOLUMETRIC_TEXT[vol]}.",
        props,
        docs,
        [],
        True,
        body.strip("\n").split("\n"),
        declarations=[
            "      DIMENSION CR(3,3), CA(3), Q(3,3), AL(3), GA(3), DGL(3,3), WP(3), Y(3), HY(3,3), THETA(3,3)",
            "      DIMENSION SP(3,3), SIG(3,3), CM(3,3,3,3), IA(6), JA(6)",
            "      DATA IA /1, 2, 3, 1, 1, 2/",
            "      DATA JA /1, 2, 3, 2, 3, 3/",
        ],
        routines=[_OGDEN_ROUTINES],
        notes=[
            "Principal stretches: the eigenvalues c_a of C = F^T F (Jacobi), S = sum_a y_a N_a N_a with y_a = "
            "2 d psi/d c_a, dS/dE by the Daleckii-Krein formula with its exact limit where two c_a are within "
            "eps^(1/3) max(1, max c) (equal stretches, F = I included); pushed forward to the Jaumann DDSDDE in "
            "closed form (no perturbation).",
            "det F <= 0 sets PNEWDT = 0.25 (the increment is retried smaller). SSE, SPD, SCD are not updated.",
        ],
    )
