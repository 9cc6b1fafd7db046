"""The exported state: stress and tangent of a model at a strain in an FE code's layout (:class:`ExportedState`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import notation
from ..contracts import FiniteStrainModel, is_path_dependent, require
from ..tensor import Tensor, TensorLike, as_tensor, check_shape
from .layouts import _SIZES, HYPOTHESES, CodeLayout, _labels, layout, pack_upper

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
    strain_t = model.check_strain(strain)
    if is_path_dependent(model):
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
    require(model, FiniteStrainModel, "finite-strain export")
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
        from ..kinematics import green_lagrange

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
