r"""Export to finite-element codes: stress and tangent in each code's layout, files with a stated convention, and
Abaqus material cards with exact parameter conversions.

Layouts (:data:`CODES`). Every layout is a (notation, component order) pair of :mod:`constitutive.notation`, which
does every conversion; nothing here re-encodes an order or a shear factor.

==========  ========  ===========================  =============================================================
code        notation  order                        arrays in that code
==========  ========  ===========================  =============================================================
abaqus      Voigt     11 22 33 12 13 23            UMAT ``STRESS(NTENS)``, ``DDSDDE(NTENS, NTENS)``
calculix    Voigt     11 22 33 12 13 23            umat ``emec(6)`` (tensor shear), ``stre(6)`` (PK2), ``stiff(21)``
ansys       Voigt     11 22 33 12 23 13            USERMAT ``stress(ncomp)``, ``dsdePl(ncomp, ncomp)``
lsdyna      Voigt     11 22 33 12 23 31            user material ``sig(6)`` (and Abaqus/Explicit VUMAT)
mfront      Mandel    11 22 33 12 13 23 (√2)       TFEL ``StressStensor``, ``StiffnessTensor``
neml2       Mandel    11 22 33 23 13 12 (√2)       NEML2/MOOSE ``SR2`` / ``SSR4`` Mandel vectors
==========  ========  ===========================  =============================================================

Voigt: the stress vector has no factors, the strain vector carries engineering shear γ = 2ε, the tangent matrix is
:math:`D_{IJ} = C_{ijkl}` (no factors; it pairs with engineering shear). CalculiX's umat takes the strain *tensor*
(``emec``: ε_12, not γ_12; :attr:`CodeLayout.tensor_shear_strain`), so its strain vector has no factors either.
Mandel: √2 on every shear slot of stress, strain, and (√2, 2) on the tangent.

Fortran storage. ``DDSDDE(I, J)`` = ∂Δσ_I/∂Δε_J is stored column-major, so the flat array a Fortran reader gets is
``flat[(I-1) + (J-1)*NTENS] = DDSDDE(I, J)`` (1-based I, J); :meth:`ExportedState.fortran_flat` returns it and
:func:`from_fortran_flat` reads it back. (Column-major and row-major coincide only for a symmetric tangent.)

Two-dimensional hypotheses (Abaqus NTENS): ``"3d"`` (6), ``"plane_strain"`` and ``"axisymmetric"`` (4: 11 22 33 12),
``"plane_stress"`` (3: 11 22 12, σ33 = 0 condensed statically by :func:`constitutive.notation.reduce`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import notation
from .tensor import Tensor, TensorLike, as_tensor, check_shape

__all__ = [
    "CodeLayout",
    "CODES",
    "HYPOTHESES",
    "FORMATS",
    "ExportedState",
    "layout",
    "export_state",
    "export_model",
    "export_finite_strain",
    "from_fortran_flat",
    "pack_upper",
    "unpack_upper",
    "ANISOTROPIC_ORDER",
    "ORTHOTROPIC_ORDER",
    "write",
    "read",
    "abaqus_elastic_card",
    "abaqus_hyperelastic_card",
    "abaqus_card",
    "parse_abaqus_card",
]


# --------------------------------------------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeLayout:
    """How one FE code lays out a stress vector and a tangent matrix.

    ``notation`` and ``order`` name a pair of :mod:`constitutive.notation`; ``interface`` names the arrays in the
    code; ``source`` says where the convention is documented.
    """

    code: str
    notation: str
    order: str
    interface: str
    source: str
    #: The 2D hypotheses the code's interface hands to a material routine with fewer than six components.
    hypotheses: tuple[str, ...] = ("3d",)
    #: The strain vector holds the tensor shear components ε_ij (no factor 2), as CalculiX's ``emec(6)`` does:
    #: it is laid out like a stress (:mod:`constitutive.notation` quantity ``"stress"``).
    tensor_shear_strain: bool = False

    @property
    def strain_quantity(self) -> str:
        """The :mod:`constitutive.notation` quantity whose layout the strain vector has."""
        return "stress" if self.tensor_shear_strain else "strain"

    @property
    def shear(self) -> str:
        """The shear convention in words, for file headers."""
        if self.notation == "mandel":
            return "Mandel: sqrt(2) on shear slots of stress and strain; tangent factors sqrt(2) and 2"
        if self.tensor_shear_strain:
            return (
                "Voigt order without factors: strain vector with tensor shear eps_ij (not gamma), tangent C_ijkl, "
                "so stress_I = sum_J tangent_IJ w_J strain_J with w = (1, 1, 1, 2, 2, 2)"
            )
        return "Voigt: engineering shear strain gamma = 2 eps; stress and tangent without factors"


CODES: dict[str, CodeLayout] = {
    "abaqus": CodeLayout(
        "abaqus",
        "voigt",
        "abaqus",
        "Abaqus/Standard UMAT: STRESS(NTENS), DDSDDE(NTENS,NTENS) = dDSTRESS/dDSTRAN, column-major",
        "Abaqus User Subroutines Reference Guide, UMAT; Abaqus Analysis User's Guide, 'Conventions'",
        ("3d", "plane_strain", "axisymmetric", "plane_stress"),
    ),
    "calculix": CodeLayout(
        "calculix",
        "voigt",
        "abaqus",
        "CalculiX umat_user: emec(6) Lagrange strain tensor (tensor shear), stre(6) second Piola-Kirchhoff, "
        "stiff(21) = dS/dE (C_ijkl) upper triangle in *ELASTIC,TYPE=ANISO order",
        "CalculiX CrunchiX User's Manual, 'User-defined mechanical material laws' and '*ELASTIC'; "
        "CalculiX src/umat_user.f (argument list)",
        tensor_shear_strain=True,
    ),
    "ansys": CodeLayout(
        "ansys",
        "voigt",
        "ansys",
        "Ansys USERMAT: stress(ncomp), dsdePl(ncomp,ncomp)",
        "Ansys Programmer's Reference, 'Subroutine UserMat'",
    ),
    "lsdyna": CodeLayout(
        "lsdyna",
        "voigt",
        "lsdyna",
        "LS-DYNA user material sig(6), eps(6) (xx yy zz xy yz zx, engineering shear); Abaqus/Explicit VUMAT "
        "stress has the same order, but its strainInc holds tensor shear",
        "LS-DYNA Keyword User's Manual, Appendix A 'User Defined Material Model'",
    ),
    "mfront": CodeLayout(
        "mfront",
        "mandel",
        "abaqus",
        "MFront/TFEL: StressStensor, StrainStensor, StiffnessTensor (Mandel, 11 22 33 12 13 23)",
        "TFEL documentation, 'Tensors and symmetric tensors' (tfel-math)",
    ),
    "neml2": CodeLayout(
        "neml2",
        "mandel",
        "voigt",
        "NEML2/MOOSE: SR2, SSR4 Mandel vectors and matrices (11 22 33 23 13 12)",
        "NEML2 documentation, 'Tensors: SR2 and SSR4 (Mandel notation)'",
    ),
}
CODES["moose"] = CODES["neml2"]

HYPOTHESES = ("3d", "plane_strain", "axisymmetric", "plane_stress")
#: NTENS, NDI (direct components), NSHR (shear components) per hypothesis (Abaqus's names).
_SIZES = {"3d": (6, 3, 3), "plane_strain": (4, 3, 1), "axisymmetric": (4, 3, 1), "plane_stress": (3, 2, 1)}
FORMATS = ("json", "csv", "npz")

#: Abaqus *ELASTIC, TYPE=ANISOTROPIC data order: the upper triangle of D (Abaqus order) column by column.
#: Also CalculiX stiff(21) and *ELASTIC,TYPE=ANISO.
ANISOTROPIC_ORDER: tuple[tuple[int, int], ...] = tuple((I, J) for J in range(6) for I in range(J + 1))
#: Abaqus *ELASTIC, TYPE=ORTHOTROPIC data order: D1111 D1122 D2222 D1133 D2233 D3333 D1212 D1313 D2323.
ORTHOTROPIC_ORDER: tuple[tuple[int, int], ...] = tuple(zip((0, 0, 1, 0, 1, 2, 3, 4, 5), (0, 1, 1, 2, 2, 2, 3, 4, 5)))


def layout(code: str) -> CodeLayout:
    """The :class:`CodeLayout` of ``code`` (``ValueError`` lists the known codes)."""
    key = code.lower().replace("-", "").replace("/", "").replace("_", "")
    aliases = {"abaqusstandard": "abaqus", "umat": "abaqus", "ccx": "calculix", "tfel": "mfront", "dyna": "lsdyna"}
    key = aliases.get(key, key)
    if key not in CODES:
        raise ValueError(f"unknown FE code {code!r}; choose one of {sorted(CODES)}")
    return CODES[key]


def _labels(lay: CodeLayout, hypothesis: str) -> list[str]:
    if hypothesis == "3d":
        return notation.component_labels(lay.order)
    return [f"{i + 1}{j + 1}" for i, j in notation.REDUCTIONS[hypothesis]]


# --------------------------------------------------------------------------------------------------------------
# The exported state
# --------------------------------------------------------------------------------------------------------------


@dataclass
class ExportedState:
    """Stress ``(..., NTENS)`` and tangent ``(..., NTENS, NTENS)`` in one code's layout, with the convention.

    ``tangent[..., I, J]`` is ∂stress_I/∂strain_J (0-based here; DDSDDE(I+1, J+1) in Fortran). ``labels`` are the
    tensor components of the slots in order (``'11'``, ``'22'``, ...). ``strain`` is the strain vector in the same
    layout (engineering shear in Voigt) when known.
    """

    code: str
    hypothesis: str
    stress: np.ndarray
    tangent: np.ndarray
    stress_measure: str
    strain_measure: str
    tangent_measure: str = "consistent tangent d(stress)/d(strain) on symmetric tensors"
    strain: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def layout(self) -> CodeLayout:
        return layout(self.code)

    @property
    def ntens(self) -> int:
        return _SIZES[self.hypothesis][0]

    @property
    def labels(self) -> list[str]:
        return _labels(self.layout, self.hypothesis)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.stress.shape[:-1])

    def header(self) -> dict[str, Any]:
        """The convention, as a JSON-ready mapping written at the top of every file."""
        lay = self.layout
        ntens, ndi, nshr = _SIZES[self.hypothesis]
        return {
            "format": "constitutive.export/1",
            "code": lay.code,
            "interface": lay.interface,
            "source": lay.source,
            "notation": lay.notation,
            "order": self.labels,
            "shear": lay.shear,
            "hypothesis": self.hypothesis,
            "NTENS": ntens,
            "NDI": ndi,
            "NSHR": nshr,
            "stress_measure": self.stress_measure,
            "strain_measure": self.strain_measure,
            "tangent_measure": self.tangent_measure,
            "tangent_layout": "tangent[I][J] = d stress_I / d strain_J (row I, column J, 0-based)",
            "fortran_flat": "column-major: flat[I + NTENS*J] = DDSDDE(I+1, J+1)",
            "batch_shape": list(self.batch_shape),
            **({"metadata": self.metadata} if self.metadata else {}),
        }

    def fortran_flat(self) -> np.ndarray:
        """The tangent as the flat column-major array a Fortran ``DDSDDE(NTENS, NTENS)`` holds, ``(..., NTENS²)``:
        ``flat[..., I + NTENS*J] = tangent[..., I, J]``."""
        return np.swapaxes(self.tangent, -1, -2).reshape(*self.batch_shape, self.ntens * self.ntens)

    def packed_upper(self) -> np.ndarray:
        """The 21 upper-triangle constants ``(..., 21)`` in Abaqus ANISOTROPIC / CalculiX ``stiff(21)`` order
        (3D only; meaningful for a symmetric tangent)."""
        if self.hypothesis != "3d":
            raise ValueError("the 21-constant packing is defined for 3D tangents only")
        return pack_upper(self.tangent)

    def tensors(self) -> tuple[Tensor, Tensor]:
        """Back to full tensors ``(..., 3, 3)`` and ``(..., 3, 3, 3, 3)`` through :mod:`constitutive.notation`
        (3D only)."""
        if self.hypothesis != "3d":
            raise ValueError(f"a {self.hypothesis} layout does not hold the full 3D tensors")
        lay = self.layout
        s = notation.from_notation(torch.from_numpy(self.stress), "stress", lay.notation, lay.order)
        C = notation.from_notation(torch.from_numpy(self.tangent), "stiffness", lay.notation, lay.order)
        return s, C


def from_fortran_flat(flat: TensorLike, ntens: int) -> np.ndarray:
    """Inverse of :meth:`ExportedState.fortran_flat`: ``(..., NTENS²)`` column-major -> ``(..., NTENS, NTENS)``."""
    a = np.asarray(flat, dtype=np.float64)
    if a.shape[-1] != ntens * ntens:
        raise ValueError(f"a flat DDSDDE for NTENS={ntens} has {ntens * ntens} entries, got {a.shape[-1]}")
    return np.swapaxes(a.reshape(*a.shape[:-1], ntens, ntens), -1, -2)


def pack_upper(D: TensorLike) -> np.ndarray:
    """The 21 upper-triangle entries ``(..., 21)`` of ``(..., 6, 6)`` in :data:`ANISOTROPIC_ORDER`."""
    D = np.asarray(D, dtype=np.float64)
    if D.shape[-2:] != (6, 6):
        raise ValueError(f"expected a (..., 6, 6) matrix, got {D.shape}")
    return np.stack([D[..., I, J] for I, J in ANISOTROPIC_ORDER], axis=-1)


def unpack_upper(values: TensorLike) -> np.ndarray:
    """Inverse of :func:`pack_upper`: 21 constants -> symmetric ``(..., 6, 6)``."""
    v = np.asarray(values, dtype=np.float64)
    if v.shape[-1] != 21:
        raise ValueError(f"expected 21 constants, got {v.shape[-1]}")
    D = np.zeros(v.shape[:-1] + (6, 6))
    for k, (I, J) in enumerate(ANISOTROPIC_ORDER):
        D[..., I, J] = D[..., J, I] = v[..., k]
    return D


def _np(x: Tensor) -> np.ndarray:
    return x.detach().cpu().to(torch.float64).numpy().copy()


def _check_hypothesis(lay: CodeLayout, hypothesis: str) -> None:
    if hypothesis not in HYPOTHESES:
        raise ValueError(f"unknown hypothesis {hypothesis!r}; choose one of {HYPOTHESES}")
    if hypothesis not in lay.hypotheses:
        raise ValueError(
            f"{lay.code} takes {', '.join(lay.hypotheses)} material-point layouts here, not {hypothesis!r} "
            "(CalculiX expands 2D elements to 3D; the other interfaces are exported in 3D)"
        )


def export_state(
    stress: TensorLike,
    tangent: TensorLike,
    code: str = "abaqus",
    hypothesis: str = "3d",
    *,
    strain: TensorLike | None = None,
    stress_measure: str = "Cauchy stress σ",
    strain_measure: str = "small strain ε",
    tangent_measure: str = "consistent tangent d(stress)/d(strain) on symmetric tensors",
    metadata: Mapping[str, Any] | None = None,
) -> ExportedState:
    """Lay out a stress ``(..., 3, 3)`` and a minor-symmetric tangent ``(..., 3, 3, 3, 3)`` for ``code``.

    3D: :func:`constitutive.notation.to_notation` in the code's (notation, order). 2D (Abaqus):
    :func:`constitutive.notation.reduce` -- plane strain / axisymmetric keep the 4x4 block of slots 11 22 33 12,
    plane stress condenses σ33 = 0: :math:`\\bar D = D_{aa} - D_{a3} D_{33}^{-1} D_{3a}`.
    """
    lay = layout(code)
    _check_hypothesis(lay, hypothesis)
    s = as_tensor(stress)
    C = as_tensor(tangent)
    check_shape(s, (3, 3), "stress")
    check_shape(C, (3, 3, 3, 3), "tangent")
    e = None
    if hypothesis == "3d":
        sv = notation.to_notation(s, "stress", lay.notation, lay.order)
        Cv = notation.to_notation(C, "stiffness", lay.notation, lay.order)
        if strain is not None:
            e = notation.to_notation(as_tensor(strain), lay.strain_quantity, lay.notation, lay.order)
    else:
        if hypothesis == "plane_stress":
            # The condensed tangent assumes σ33 = 0 (and a plane problem, σ13 = σ23 = 0): refuse a 3D state
            # that is not one, instead of silently dropping stress components.
            off = s[..., [2, 0, 1], [2, 2, 2]].abs().amax(-1)
            scale = s.abs().amax((-1, -2)).clamp_min(torch.finfo(s.dtype).tiny)
            if bool((off > 1e-8 * scale).any()):
                raise ValueError(
                    "a plane-stress export needs a state with σ33 = σ13 = σ23 = 0 (max relative "
                    f"{float((off / scale).max()):.2e}); solve for the out-of-plane strain first"
                )
        sv = notation.reduce(s, "stress", hypothesis, lay.notation)
        Cv = notation.reduce(C, "stiffness", hypothesis, lay.notation)
        if strain is not None:
            e = notation.reduce(as_tensor(strain), lay.strain_quantity, hypothesis, lay.notation)
    return ExportedState(
        code=lay.code,
        hypothesis=hypothesis,
        stress=_np(sv),
        tangent=_np(Cv),
        stress_measure=stress_measure,
        strain_measure=strain_measure,
        tangent_measure=tangent_measure,
        strain=None if e is None else _np(e),
        metadata=dict(metadata or {}),
    )


def export_model(
    model: Any,
    strain: TensorLike,
    code: str = "abaqus",
    hypothesis: str = "3d",
    *,
    state: Mapping[str, Tensor] | None = None,
    dt: float | None = None,
) -> ExportedState:
    """Stress and tangent of ``model`` at ``strain`` ``(..., 3, 3)`` (the model's own strain measure) for ``code``.

    Path-dependent models take ``state`` (default: the virgin state) and ``dt``; the tangent is the consistent one
    from ``update``. For a plane-stress layout the 3D strain must already satisfy σ33 = 0 (the tangent is condensed,
    the state is not iterated here).
    """
    from .models.base import PathDependentMaterial

    strain_t = model.check_strain(strain)
    if isinstance(model, PathDependentMaterial):
        st = model.initial_state(strain_t.shape[:-2]) if state is None else state
        stress, _, tangent = model.update(strain_t, st, dt) if dt is not None else model.update(strain_t, st)
    else:
        stress, tangent = model.stress_and_tangent(strain_t)
    return export_state(
        stress,
        tangent,
        code,
        hypothesis,
        strain=strain_t,
        stress_measure=model.stress_measure,
        strain_measure=model.strain_measure,
        metadata={"model": model.to_dict()},
    )


def export_finite_strain(model: Any, F: TensorLike, code: str = "abaqus") -> ExportedState:
    """Finite-strain export at the deformation gradient ``F`` ``(..., 3, 3)``.

    * ``"abaqus"`` (UMAT with NLGEOM): Cauchy stress σ and ``model.abaqus_tangent(F)``, the tangent of the Jaumann
      rate of Kirchhoff stress divided by J, :math:`\\mathbb{C}^{\\tau J}/J` (Abaqus Theory Guide, 'Hyperelastic
      material behavior'; its DDSDDE for finite strain).
    * ``"calculix"`` (native umat, total Lagrangian): second Piola-Kirchhoff S and dS/dE
      (``model.material_tangent(F)``), with E the Green-Lagrange strain.
    """
    lay = layout(code)
    F = as_tensor(F)
    meta = {"model": model.to_dict(), "F": _np(F).tolist()}
    if lay.code == "abaqus":
        return export_state(
            model.cauchy(F),
            model.abaqus_tangent(F),
            "abaqus",
            stress_measure="Cauchy stress σ",
            strain_measure="logarithmic strain increment (Abaqus NLGEOM, Jaumann-rate formulation)",
            tangent_measure="Jaumann rate of Kirchhoff stress / J: C^{τJ}/J (Abaqus DDSDDE with NLGEOM)",
            metadata=meta,
        )
    if lay.code == "calculix":
        from .kinematics import green_lagrange

        return export_state(
            model.second_piola(F),
            model.material_tangent(F),
            "calculix",
            strain=green_lagrange(F),
            stress_measure="second Piola-Kirchhoff stress S",
            strain_measure="Green-Lagrange strain E",
            tangent_measure="dS/dE (material tangent)",
            metadata=meta,
        )
    raise ValueError(f"finite-strain export is defined for 'abaqus' and 'calculix', not {code!r}")


# --------------------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------------------


def _format_of(path: Path, fmt: str | None) -> str:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"unknown file format {fmt!r} (from {path.name}); choose one of {FORMATS}")
    return fmt


def write(exported: ExportedState, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``exported`` as JSON, CSV or NPZ (``fmt`` or the file suffix), header first.

    * JSON: ``{"header": {...}, "stress": [...], "tangent": [[...]], "ddsdde_fortran": [...]}`` (nested by batch).
    * CSV: ``#``-prefixed header lines (``# key: json value``), then one row per material point: the stress
      components ``S11, S22, ...`` in the code's order, then ``D_I_J`` = DDSDDE(I, J) in Fortran column-major
      order (``D_1_1, D_2_1, ...``), then the strain ``E11, ...`` when present.
    * NPZ: arrays ``stress``, ``tangent`` (``[..., I, J]``), ``ddsdde_fortran`` and ``strain``; the header as a
      JSON string in ``header``.
    """
    path = Path(path)
    fmt = _format_of(path, fmt)
    header = exported.header()
    flat = exported.fortran_flat()
    if fmt == "json":
        data: dict[str, Any] = {
            "header": header,
            "stress": exported.stress.tolist(),
            "tangent": exported.tangent.tolist(),
            "ddsdde_fortran": flat.tolist(),
        }
        if exported.strain is not None:
            data["strain"] = exported.strain.tolist()
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    elif fmt == "npz":
        arrays = {"stress": exported.stress, "tangent": exported.tangent, "ddsdde_fortran": flat}
        if exported.strain is not None:
            arrays["strain"] = exported.strain
        with open(path, "wb") as fh:
            np.savez(fh, header=np.array(json.dumps(header)), **arrays)
    else:
        n = exported.ntens
        labels = exported.labels
        cols = [f"S{lab}" for lab in labels] + [f"D_{I + 1}_{J + 1}" for J in range(n) for I in range(n)]
        rows = [exported.stress.reshape(-1, n), flat.reshape(-1, n * n)]
        if exported.strain is not None:
            cols += [f"E{lab}" for lab in labels]
            rows.append(exported.strain.reshape(-1, n))
        table = np.concatenate(rows, axis=1)
        buf = io.StringIO()
        for key, value in header.items():
            buf.write(f"# {key}: {json.dumps(value, ensure_ascii=False)}\n")
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for row in table:
            w.writerow([repr(float(x)) for x in row])
        path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _check_header(header: Any, path: Path) -> None:
    """``ValueError`` naming the first convention entry a file's header lacks."""
    if not isinstance(header, Mapping):
        raise ValueError(f"{path}: no export file header")
    for key in ("code", "hypothesis", "NTENS", "order", "stress_measure", "strain_measure"):
        if key not in header:
            raise ValueError(f"{path}: export file header lacks {key!r}")


def _from_header(header: Mapping[str, Any], stress: np.ndarray, tangent: np.ndarray, strain: Any) -> ExportedState:
    lay = layout(header["code"])
    n = int(header["NTENS"])
    if list(header["order"]) != _labels(lay, header["hypothesis"]) or n != _SIZES[header["hypothesis"]][0]:
        raise ValueError(
            f"header order {header['order']} / NTENS {n} do not match the {lay.code} {header['hypothesis']} layout"
        )
    batch = tuple(header.get("batch_shape", []))
    return ExportedState(
        code=lay.code,
        hypothesis=header["hypothesis"],
        stress=np.asarray(stress, dtype=np.float64).reshape(*batch, n),
        tangent=np.asarray(tangent, dtype=np.float64).reshape(*batch, n, n),
        stress_measure=header["stress_measure"],
        strain_measure=header["strain_measure"],
        tangent_measure=header.get("tangent_measure", ""),
        strain=None if strain is None else np.asarray(strain, dtype=np.float64).reshape(*batch, n),
        metadata=dict(header.get("metadata", {})),
    )


def read(path: str | Path, fmt: str | None = None) -> ExportedState:
    """Read a file written by :func:`write`. The CSV tangent is rebuilt from its Fortran column-major columns."""
    path = Path(path)
    fmt = _format_of(path, fmt)
    if fmt == "json":
        data = json.loads(path.read_text(encoding="utf-8"))
        header = data.get("header")
        _check_header(header, path)
        tangent = np.asarray(data["tangent"], dtype=np.float64)
        flat = from_fortran_flat(data["ddsdde_fortran"], int(header["NTENS"]))
        if not np.array_equal(flat, tangent):
            raise ValueError(f"{path}: 'tangent' and 'ddsdde_fortran' disagree")
        return _from_header(header, np.asarray(data["stress"]), tangent, data.get("strain"))
    if fmt == "npz":
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"])) if "header" in z.files else None
            _check_header(header, path)
            strain = z["strain"] if "strain" in z.files else None
            return _from_header(header, z["stress"], z["tangent"], strain)
    header = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    body = []
    for line in lines:
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            header[key.strip()] = json.loads(value)
        elif line.strip():
            body.append(line)
    _check_header(header, path)
    rows = list(csv.reader(body))
    cols, values = rows[0], np.asarray(rows[1:], dtype=np.float64).reshape(len(rows) - 1, len(rows[0]))
    n = int(header["NTENS"])
    idx = {c: k for k, c in enumerate(cols)}
    labels = header["order"]
    d_cols = [f"D_{I + 1}_{J + 1}" for J in range(n) for I in range(n)]  # column-major DDSDDE
    missing = [c for c in [f"S{lab}" for lab in labels] + d_cols if c not in idx]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    stress = values[:, [idx[f"S{lab}"] for lab in labels]]
    flat = values[:, [idx[c] for c in d_cols]]
    strain = values[:, [idx[f"E{lab}"] for lab in labels]] if f"E{labels[0]}" in idx else None
    return _from_header(header, stress, from_fortran_flat(flat, n), strain)


# --------------------------------------------------------------------------------------------------------------
# Abaqus material cards
# --------------------------------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    # 15 significant digits: exact for every value typed in decimal, without binary noise (0.00295, not
    # 0.0029500000000000004); 17 would round-trip every double but print that noise.
    text = f"{float(x):.15g}"
    return text if any(c in text for c in ".en") else text + ".0"


def _data_lines(values: Sequence[float], per_line: int = 8) -> list[str]:
    """Abaqus data lines hold at most eight entries each."""
    vals = [_fmt(v) for v in values]
    return [", ".join(vals[k : k + per_line]) for k in range(0, len(vals), per_line)] or [""]


def _elastic_stiffness(model_or_stiffness: Any) -> np.ndarray:
    """Abaqus-order Voigt stiffness D ``(6, 6)`` of a linear elastic model (its tangent at zero strain) or of a
    given ``(3, 3, 3, 3)`` stiffness tensor."""
    if hasattr(model_or_stiffness, "tangent"):
        from .models.base import PathDependentMaterial

        model = model_or_stiffness
        if isinstance(model, PathDependentMaterial):
            raise ValueError(
                f"{type(model).__name__} is path dependent; a *ELASTIC card alone would drop its inelastic part "
                "(no *PLASTIC/*VISCOELASTIC cards are written)"
            )
        if "small strain" not in model.strain_measure:
            raise ValueError(f"*ELASTIC describes small-strain linear elasticity; {type(model).__name__} is not")
        like = {"dtype": model.dtype, "device": model.device}
        C = model.tangent(torch.zeros(3, 3, **like))
        C2 = model.tangent(1e-3 * torch.eye(3, **like) + 1e-3 * torch.ones(3, 3, **like))
        if not torch.allclose(C, C2, rtol=1e-10, atol=0.0):
            raise ValueError(f"{type(model).__name__} is not linear elastic (its tangent varies with strain)")
    else:
        C = as_tensor(model_or_stiffness)
    check_shape(C, (3, 3, 3, 3), "stiffness")
    if C.ndim != 4:
        raise ValueError("one material card describes one stiffness, not a batch")
    D = _np(notation.to_voigt(C, "stiffness", "abaqus"))
    if not np.allclose(D, D.T, rtol=1e-10, atol=1e-12 * np.abs(D).max()):
        raise ValueError("the stiffness has no major symmetry; *ELASTIC needs a symmetric D matrix")
    return 0.5 * (D + D.T)


def _isotropic_moduli(D: np.ndarray) -> tuple[float, float] | None:
    """(E, ν) if D is isotropic (to round-off), else None."""
    lam, mu = D[0, 1], D[3, 3]
    iso = np.zeros((6, 6))
    iso[:3, :3] = lam
    iso[np.arange(3), np.arange(3)] = lam + 2 * mu
    iso[np.arange(3, 6), np.arange(3, 6)] = mu
    if not np.allclose(D, iso, rtol=0.0, atol=1e-10 * np.abs(D).max()):
        return None
    return mu * (3 * lam + 2 * mu) / (lam + mu), lam / (2 * (lam + mu))


def _is_orthotropic(D: np.ndarray) -> bool:
    mask = np.ones((6, 6), bool)
    mask[:3, :3] = False
    mask[np.arange(3, 6), np.arange(3, 6)] = False
    return bool(np.all(np.abs(D[mask]) <= 1e-12 * np.abs(D).max()))


def abaqus_elastic_card(model_or_stiffness: Any, elastic_type: str | None = None) -> str:
    r"""An Abaqus ``*ELASTIC`` card for a linear elastic model (or a ``(3, 3, 3, 3)`` stiffness tensor).

    ``elastic_type`` (default: the most specific that is exact):

    * ``"isotropic"``: ``E, ν``  with :math:`\mu = D_{1212}`, :math:`\lambda = D_{1122}`,
      :math:`E = \mu(3\lambda + 2\mu)/(\lambda + \mu)`, :math:`\nu = \lambda / (2(\lambda + \mu))`;
    * ``"engineering_constants"``: ``E1, E2, E3, ν12, ν13, ν23, G12, G13, G23`` from the Voigt compliance
      :math:`S = D^{-1}`: :math:`E_i = 1/S_{ii}`, :math:`\nu_{ij} = -S_{ij} E_i` (ν_ij = −ε_j/ε_i under uniaxial
      stress along i; Abaqus writes :math:`S_{12} = -\nu_{12}/E_1`), :math:`G_{ij} = 1/S_{kk}` on the shear slots;
    * ``"orthotropic"``: D1111, D1122, D2222, D1133, D2233, D3333, D1212, D1313, D2323 (:data:`ORTHOTROPIC_ORDER`);
    * ``"anisotropic"``: the 21 constants of :data:`ANISOTROPIC_ORDER`.

    D is the stiffness in Abaqus order against engineering shear strain (Abaqus Analysis User's Guide, 'Linear
    elastic behavior'); non-orthotropic stiffness refuses the orthotropic types with ``ValueError``.
    """
    D = _elastic_stiffness(model_or_stiffness)
    iso = _isotropic_moduli(D)
    if iso is not None and type(model_or_stiffness).__name__ == "LinearElastic":
        # The model's own (E, ν) are exact; the ones recovered from D carry round-off.
        iso = (_scalar(model_or_stiffness, "E"), _scalar(model_or_stiffness, "nu"))
    ortho = _is_orthotropic(D)
    if elastic_type is None:
        elastic_type = "isotropic" if iso is not None else ("orthotropic" if ortho else "anisotropic")
    kind = elastic_type.lower().replace(" ", "_")
    if kind == "isotropic":
        if iso is None:
            raise ValueError("the stiffness is not isotropic; use 'orthotropic' or 'anisotropic'")
        return "*ELASTIC, TYPE=ISOTROPIC\n" + "\n".join(_data_lines(iso)) + "\n"
    if kind in ("engineering_constants", "orthotropic") and not ortho:
        raise ValueError(f"TYPE={kind.upper()} needs an orthotropic stiffness in the global axes; use 'anisotropic'")
    if kind == "engineering_constants":
        S = np.linalg.inv(D)
        E = 1.0 / np.diag(S)[:3]
        nu12, nu13, nu23 = -S[0, 1] * E[0], -S[0, 2] * E[0], -S[1, 2] * E[1]
        G = 1.0 / np.diag(S)[3:]  # Abaqus order: G12, G13, G23
        values = [*E, nu12, nu13, nu23, *G]
        return "*ELASTIC, TYPE=ENGINEERING CONSTANTS\n" + "\n".join(_data_lines(values)) + "\n"
    if kind == "orthotropic":
        values = [D[I, J] for I, J in ORTHOTROPIC_ORDER]
        return "*ELASTIC, TYPE=ORTHOTROPIC\n" + "\n".join(_data_lines(values)) + "\n"
    if kind == "anisotropic":
        return "*ELASTIC, TYPE=ANISOTROPIC\n" + "\n".join(_data_lines(pack_upper(D))) + "\n"
    raise ValueError(
        f"unknown *ELASTIC type {elastic_type!r}; choose isotropic, engineering_constants, orthotropic, anisotropic"
    )


def _scalar(model: Any, name: str) -> float:
    return float(torch.as_tensor(model.parameters[name]).detach().cpu())


def _bulk_term(model: Any, allowed: tuple[str, ...]) -> float:
    """Abaqus D1 = 2/K for the model's volumetric function (0 = incompressible); ``ValueError`` if the model's
    volumetric function is not one Abaqus writes for this form."""
    params = model.parameters
    K = params.get("K")
    if K is None:
        return 0.0
    vol = model.options.get("volumetric", "quadratic")
    if vol not in allowed:
        raise ValueError(
            f"{type(model).__name__} uses the {vol!r} volumetric function; this Abaqus form has "
            f"{' or '.join(allowed)} only, so no exact card exists"
        )
    return 2.0 / float(torch.as_tensor(K).detach().cpu())


def abaqus_hyperelastic_card(model: Any) -> str:
    r"""An Abaqus ``*HYPERELASTIC`` card whose strain energy equals the model's (exact conversions).

    Abaqus energies (Abaqus Theory Guide 'Hyperelastic material behavior'; Analysis User's Guide 'Hyperelastic
    behavior of rubberlike materials'), with :math:`\bar I_1, \bar I_2, \bar\lambda_i` isochoric, J = det F:

    * NEO HOOKE :math:`U = C_{10}(\bar I_1 - 3) + (J - 1)^2/D_1`: :math:`C_{10} = \mu/2`, :math:`D_1 = 2/K`;
    * MOONEY-RIVLIN :math:`U = C_{10}(\bar I_1 - 3) + C_{01}(\bar I_2 - 3) + (J-1)^2/D_1`;
    * YEOH :math:`U = \sum_{i=1}^3 C_{i0}(\bar I_1 - 3)^i + \sum_i (J-1)^{2i}/D_i`: D1 = 2/K, D2 = D3 = 0;
    * OGDEN, N :math:`U = \sum_i \frac{2\mu_i}{\alpha_i^2}(\bar\lambda_1^{\alpha_i} + \bar\lambda_2^{\alpha_i} +
      \bar\lambda_3^{\alpha_i} - 3) + \sum_i (J-1)^{2i}/D_i`; from Ogden's
      :math:`\psi = \sum_p \frac{\mu_p}{\alpha_p}(\ldots)`: :math:`\mu_i^{Abaqus} = \mu_p\alpha_p/2`, same α;
    * ARRUDA-BOYCE :math:`U = \mu\sum_{i=1}^5 \frac{C_i}{\lambda_m^{2i-2}}(\bar I_1^i - 3^i)
      + \frac1D\left(\frac{J^2-1}{2} - \ln J\right)`, C = (1/2, 1/20, 11/1050, 19/7000, 519/673750):
      MU = μ, LAMBDA_M = √N, D = 2/K (K/4 (J² − 1 − 2 ln J) is the 'simo_taylor' volumetric function).

    Models without K are incompressible: Abaqus D = 0. A model whose energy has no exact Abaqus form (another
    volumetric function, a compressible neo-Hookean form that is not isochoric/volumetric) raises ``ValueError``.
    """
    name = type(model).__name__
    p = model.parameters
    if name == "NeoHookean":
        form = model.options.get("form", "ciarlet")
        if form != "isochoric" and "lmbda" in p:  # incompressible: every form is μ/2 (Ī1 - 3)
            raise ValueError(
                f"NeoHookean(form={form!r}) has no exact Abaqus NEO HOOKE card (Abaqus splits Ī1 and (J-1)²); "
                "use form='isochoric' with the quadratic volumetric function"
            )
        mu = _scalar(model, "mu")
        D1 = _bulk_term(model, ("quadratic",)) if "K" in p else _neo_hooke_d1(model)
        return "*HYPERELASTIC, NEO HOOKE\n" + "\n".join(_data_lines([mu / 2.0, D1])) + "\n"
    if name == "MooneyRivlin":
        vals = [_scalar(model, "C10"), _scalar(model, "C01"), _bulk_term(model, ("quadratic",))]
        return "*HYPERELASTIC, MOONEY-RIVLIN\n" + "\n".join(_data_lines(vals)) + "\n"
    if name == "Yeoh":
        vals = [_scalar(model, "C10"), _scalar(model, "C20"), _scalar(model, "C30")]
        vals += [_bulk_term(model, ("quadratic",)), 0.0, 0.0]
        return "*HYPERELASTIC, YEOH\n" + "\n".join(_data_lines(vals)) + "\n"
    if name == "Ogden":
        mu = torch.as_tensor(p["mu"]).detach().cpu().reshape(-1).tolist()
        alpha = torch.as_tensor(p["alpha"]).detach().cpu().reshape(-1).tolist()
        n = len(mu)
        vals: list[float] = []
        for m, a in zip(mu, alpha):
            vals += [m * a / 2.0, a]
        vals += [_bulk_term(model, ("quadratic",))] + [0.0] * (n - 1)
        return f"*HYPERELASTIC, OGDEN, N={n}\n" + "\n".join(_data_lines(vals)) + "\n"
    if name == "ArrudaBoyce":
        vals = [_scalar(model, "mu"), math.sqrt(_scalar(model, "N")), _bulk_term(model, ("simo_taylor",))]
        return "*HYPERELASTIC, ARRUDA-BOYCE\n" + "\n".join(_data_lines(vals)) + "\n"
    raise ValueError(f"no Abaqus *HYPERELASTIC card for {name}")


def _neo_hooke_d1(model: Any) -> float:
    """D1 for an isochoric NeoHookean parameterised by (mu, lmbda): K = λ + 2μ/3 with the quadratic volumetric
    function (only when the model states it uses that function)."""
    if "lmbda" not in model.parameters:
        return 0.0  # incompressible
    vol = model.options.get("volumetric", "quadratic")
    if vol != "quadratic":
        raise ValueError(
            f"NeoHookean uses the {vol!r} volumetric function; Abaqus NEO HOOKE has (J-1)^2/D1 only, "
            "so no exact card exists"
        )
    K = _scalar(model, "lmbda") + 2.0 * _scalar(model, "mu") / 3.0
    return 2.0 / K


def abaqus_card(model: Any, *, name: str | None = None, elastic_type: str | None = None) -> str:
    """A complete ``*MATERIAL`` block: ``*ELASTIC`` for linear elastic models, ``*HYPERELASTIC`` for hyperelastic
    ones (see :func:`abaqus_elastic_card`, :func:`abaqus_hyperelastic_card`)."""
    label = name or type(model).__name__.upper()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]{0,79}", label):
        raise ValueError(f"Abaqus material names start with a letter and hold letters, digits, _ or -: {label!r}")
    if "Green-Lagrange" in getattr(model, "strain_measure", ""):
        body = abaqus_hyperelastic_card(model)
    else:
        body = abaqus_elastic_card(model, elastic_type)
    src = json.dumps(model.to_dict())
    return f"** written by constitutive.export from {src}\n*MATERIAL, NAME={label}\n{body}"


def parse_abaqus_card(text: str) -> list[dict[str, Any]]:
    """Parse keyword blocks: ``[{"keyword": "HYPERELASTIC", "options": {"OGDEN": None, "N": "3"},
    "data": [floats...]}, ...]`` (comment lines ``**`` skipped; data lines concatenated)."""
    blocks: list[dict[str, Any]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("**"):
            continue
        if line.startswith("*"):
            parts = [s.strip() for s in line[1:].split(",")]
            options: dict[str, str | None] = {}
            for opt in parts[1:]:
                key, eq, value = opt.partition("=")
                options[key.strip().upper()] = value.strip() if eq else None
            blocks.append({"keyword": parts[0].upper(), "options": options, "data": []})
        else:
            if not blocks:
                raise ValueError(f"data line before any keyword: {line!r}")
            blocks[-1]["data"] += [float(s) for s in line.split(",") if s.strip()]
    return blocks
