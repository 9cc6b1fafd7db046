"""FE-code layouts: component order, shear convention and sizes of each code (:data:`CODES`), the analysis
hypotheses, and the packed/flat orders of a tangent matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import notation
from ..tensor import TensorLike, as_tensor, check_finite, check_shape

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

#: Abaqus ``*ELASTIC, TYPE=ANISOTROPIC`` data order: the upper triangle of D (Abaqus order) column by column.
#: Also CalculiX stiff(21) and ``*ELASTIC,TYPE=ANISO``.
ANISOTROPIC_ORDER: tuple[tuple[int, int], ...] = tuple((I, J) for J in range(6) for I in range(J + 1))
#: Abaqus ``*ELASTIC, TYPE=ORTHOTROPIC`` data order: D1111 D1122 D2222 D1133 D2233 D3333 D1212 D1313 D2323.
ORTHOTROPIC_ORDER: tuple[tuple[int, int], ...] = tuple(zip((0, 0, 1, 0, 1, 2, 3, 4, 5), (0, 1, 1, 2, 2, 2, 3, 4, 5)))


def layout(code: str) -> CodeLayout:
    """The :class:`CodeLayout` of ``code`` (``ValueError`` lists the known codes)."""
    if not isinstance(code, str):
        raise ValueError(f"code must be an FE code name, one of {sorted(CODES)}; got {code!r}")
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


def from_fortran_flat(flat: TensorLike, ntens: int) -> np.ndarray:
    """Inverse of :meth:`ExportedState.fortran_flat`: ``(..., NTENS²)`` column-major -> ``(..., NTENS, NTENS)``."""
    if isinstance(ntens, bool) or not isinstance(ntens, (int, np.integer)) or ntens not in (3, 4, 6):
        raise ValueError(f"ntens must be 3, 4 or 6 (plane stress, 2D, 3D), got {ntens!r}")
    a = np.asarray(flat, dtype=np.float64)
    if a.ndim == 0 or a.shape[-1] != ntens * ntens:
        raise ValueError(f"a flat DDSDDE for NTENS={ntens} has {ntens * ntens} entries, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("the flat DDSDDE holds NaN or Inf")
    return np.swapaxes(a.reshape(*a.shape[:-1], ntens, ntens), -1, -2)


def pack_upper(D: TensorLike) -> np.ndarray:
    """The 21 upper-triangle entries ``(..., 21)`` of ``(..., 6, 6)`` in :data:`ANISOTROPIC_ORDER`."""
    D = np.asarray(D, dtype=np.float64)
    if D.ndim < 2 or D.shape[-2:] != (6, 6):
        raise ValueError(f"expected a (..., 6, 6) matrix, got {D.shape}")
    if not np.isfinite(D).all():
        raise ValueError("the tangent matrix holds NaN or Inf")
    return np.stack([D[..., I, J] for I, J in ANISOTROPIC_ORDER], axis=-1)


def unpack_upper(values: TensorLike) -> np.ndarray:
    """Inverse of :func:`pack_upper`: 21 constants -> symmetric ``(..., 6, 6)``."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 0 or v.shape[-1] != 21:
        raise ValueError(f"expected 21 constants (..., 21), got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError("the 21 constants hold NaN or Inf")
    D = np.zeros(v.shape[:-1] + (6, 6))
    for k, (I, J) in enumerate(ANISOTROPIC_ORDER):
        D[..., I, J] = D[..., J, I] = v[..., k]
    return D


# --------------------------------------------------------------------------------------------------------------
# The thermal tangent (DDSDDT)
# --------------------------------------------------------------------------------------------------------------
#: The thermal tangent ∂σ/∂T at fixed strain (Abaqus ``DDSDDT(NTENS)``) is a symmetric second-order stress-like
#: tensor: every code lays it out exactly as its stress vector (the :mod:`constitutive.notation` quantity named
#: here, the code's order, no shear factor in Voigt, √2 in Mandel). Named once; the functions below use it.
THERMAL_TANGENT_QUANTITY = "stress"


def _thermal_layout(code: str, hypothesis: str) -> CodeLayout:
    lay = layout(code)
    if hypothesis not in lay.hypotheses:
        raise ValueError(
            f"{lay.code} DDSDDT layout: hypothesis must be one of {list(lay.hypotheses)}, got {hypothesis!r}"
        )
    return lay


def thermal_tangent_vector(
    dsigma_dT: TensorLike, code: str = "abaqus", hypothesis: str = "3d", *, tangent: TensorLike | None = None
) -> np.ndarray:
    r"""``dsigma_dT`` ``(..., 3, 3)`` (∂σ/∂T at fixed strain) as the code's DDSDDT vector ``(..., NTENS)``.

    Laid out as the stress (:data:`THERMAL_TANGENT_QUANTITY`) in the code's (notation, order). 2-D hypotheses
    (Abaqus): plane strain / axisymmetric keep the slots 11 22 33 12; plane stress needs the 3-D ``tangent``
    ``(..., 3, 3, 3, 3)`` at the same point, because σ33 = 0 is held as T changes (ε33 follows):
    :math:`\bar d_a = d_a - C_{a,33}\, d_{33} / C_{33,33}` (the condensation of
    :func:`constitutive.notation.reduce` applied to the temperature column).
    """
    lay = _thermal_layout(code, hypothesis)
    d = as_tensor(dsigma_dT)
    check_shape(d, (3, 3), "dsigma_dT")
    check_finite(d, "dsigma_dT")
    if hypothesis == "3d":
        return notation.to_notation(d, THERMAL_TANGENT_QUANTITY, lay.notation, lay.order).detach().cpu().numpy()
    full = notation.to_notation(d, THERMAL_TANGENT_QUANTITY, lay.notation, "abaqus")
    slots = [notation.ORDERS["abaqus"].index(ij) for ij in notation.REDUCTIONS[hypothesis]]
    v = full[..., slots]
    if hypothesis == "plane_stress":
        if tangent is None:
            raise ValueError("a plane-stress DDSDDT needs the 3-D tangent (tangent=...) to condense sigma33 = 0")
        C = as_tensor(tangent)
        check_shape(C, (3, 3, 3, 3), "tangent")
        check_finite(C, "tangent")
        C = notation.to_notation(C, "stiffness", lay.notation, "abaqus")
        if bool((C[..., 2, 2] == 0).any()):
            raise ValueError("the tangent's C3333 is zero: sigma33 = 0 cannot be held (no plane-stress DDSDDT)")
        v = v - C[..., slots, 2] * (full[..., 2] / C[..., 2, 2])[..., None]
    return v.detach().cpu().numpy()


def thermal_tangent_tensor(vector: TensorLike, code: str = "abaqus", hypothesis: str = "3d") -> torch.Tensor:
    """Inverse of :func:`thermal_tangent_vector`: a code's DDSDDT ``(..., NTENS)`` as a symmetric ``(..., 3, 3)``
    tensor (the slots a 2-D hypothesis lacks are zero; a condensed plane-stress vector stays condensed)."""
    lay = _thermal_layout(code, hypothesis)
    v = torch.as_tensor(np.asarray(vector, dtype=np.float64))
    n = _SIZES[hypothesis][0]
    if v.ndim == 0 or v.shape[-1] != n:
        raise ValueError(f"a {hypothesis} DDSDDT vector has {n} entries, got shape {tuple(v.shape)}")
    if not bool(torch.isfinite(v).all()):
        raise ValueError("the DDSDDT vector holds NaN or Inf")
    if hypothesis == "3d":
        return notation.from_notation(v, THERMAL_TANGENT_QUANTITY, lay.notation, lay.order)
    full = torch.zeros(*v.shape[:-1], 6, dtype=v.dtype)
    slots = [notation.ORDERS["abaqus"].index(ij) for ij in notation.REDUCTIONS[hypothesis]]
    full[..., slots] = v
    return notation.from_notation(full, THERMAL_TANGENT_QUANTITY, lay.notation, "abaqus")
