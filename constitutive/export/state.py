"""The exported state: stress and tangent of a model at a strain in an FE code's layout (:class:`ExportedState`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import notation
from ..contracts import SmallStrainModel, is_path_dependent, missing_members
from ..tensor import Tensor, TensorLike, as_tensor, check_finite, check_shape
from .layouts import _SIZES, HYPOTHESES, CodeLayout, _labels, layout, pack_upper

#: What the header says when the units are not known.
UNSPECIFIED = "unspecified"

# The out-of-plane slots solved in a plane-stress export, (i, j) with i <= j, and their names.
_OUT_OF_PLANE = ((2, 2), (0, 2), (1, 2))
_OUT_OF_PLANE_LABELS = ("33", "13", "23")

# --------------------------------------------------------------------------------------------------------------
# The exported state
# --------------------------------------------------------------------------------------------------------------


@dataclass
class ExportedState:
    """Stress ``(..., NTENS)`` and tangent ``(..., NTENS, NTENS)`` in one code's layout, with the convention.

    ``tangent[..., I, J]`` is ∂stress_I/∂strain_J (0-based here; DDSDDE(I+1, J+1) in Fortran). ``labels`` are the
    tensor components of the slots in order (``'11'``, ``'22'``, ...). ``strain`` is the strain vector in the same
    layout (engineering shear in Voigt) when known. ``units``: the units of stress and tangent (and of the
    model's parameters), written in the header.
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
    #: The unit system of stress and moduli, e.g. ``"MPa, mm, s"`` (``"unspecified"`` when unknown).
    units: str = UNSPECIFIED

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
            "units": self.units,
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
    units: str | None = None,
) -> ExportedState:
    """Lay out a stress ``(..., 3, 3)`` and a minor-symmetric tangent ``(..., 3, 3, 3, 3)`` for ``code``.

    3D: :func:`constitutive.notation.to_notation` in the code's (notation, order). 2D (Abaqus):
    :func:`constitutive.notation.reduce` -- plane strain / axisymmetric keep the 4x4 block of slots 11 22 33 12,
    plane stress condenses σ33 = 0: :math:`\\bar D = D_{aa} - D_{a3} D_{33}^{-1} D_{3a}`.

    Parameters
    ----------
    stress:
        ``(..., 3, 3)`` symmetric stress.
    tangent:
        ``(..., 3, 3, 3, 3)`` minor-symmetric tangent; the batch shapes of ``stress``, ``tangent`` and ``strain``
        broadcast.
    code:
        The FE code, a key of :data:`constitutive.export.layouts.CODES` (default ``"abaqus"``).
    hypothesis:
        ``"3d"`` (default), ``"plane_strain"``, ``"axisymmetric"`` or ``"plane_stress"`` (plane stress needs
        σ33 = σ13 = σ23 = 0, else ``ValueError``), as the code's layout allows.
    strain:
        Optional ``(..., 3, 3)`` strain, laid out in the code's strain convention alongside.
    stress_measure, strain_measure, tangent_measure:
        Descriptions written into the header.
    metadata:
        Extra entries stored in ``ExportedState.metadata``.
    units:
        e.g. ``"MPa, mm, s"``, written into the header; ``None`` (default): ``"unspecified"``.
    """
    units = _checked_units(units)
    lay = layout(code)
    _check_hypothesis(lay, hypothesis)
    s = as_tensor(stress)
    C = as_tensor(tangent)
    check_shape(s, (3, 3), "stress")
    check_shape(C, (3, 3, 3, 3), "tangent")
    check_finite(s, "stress")
    check_finite(C, "tangent")
    shapes = [s.shape[:-2], C.shape[:-4]]
    if strain is not None:
        strain = as_tensor(strain)
        check_shape(strain, (3, 3), "strain")
        shapes.append(strain.shape[:-2])
    try:
        batch = torch.broadcast_shapes(*shapes)
    except RuntimeError:
        raise ValueError(
            f"the batch shapes of stress {tuple(shapes[0])}, tangent {tuple(shapes[1])}"
            + (f" and strain {tuple(shapes[2])}" if strain is not None else "")
            + " do not broadcast"
        ) from None
    s, C = s.expand(*batch, 3, 3), C.expand(*batch, 3, 3, 3, 3)
    if strain is not None:
        strain = strain.expand(*batch, 3, 3)
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
            tol = max(1e-8, 1000.0 * float(torch.finfo(s.dtype).eps))  # float64: 1e-8; float32: Newton's round-off
            if bool((off > tol * scale).any()):
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
        units=units,
    )


def material_units(path: str | Path) -> str:
    """The ``[material] units`` entry of a material parameter file (a path, or the stem of a file in the
    repository's ``materials/`` folder, as :func:`constitutive.models.load` resolves it), e.g. ``"MPa, mm, s"``;
    ``"unspecified"`` when the file has none or no such file exists (a model given by class name and parameters).
    ``export_model(model, ..., units=material_units(path))`` writes it in the export header."""
    from ..resources import material_file, read_toml

    p = Path(path)
    if not p.is_file():
        try:
            p = material_file(str(path))
        except (FileNotFoundError, ValueError):
            return UNSPECIFIED
    units = read_toml(p).get("material", {}).get("units")
    return units.strip() if isinstance(units, str) and units.strip() else UNSPECIFIED


def _checked_units(units: str | None) -> str:
    if units is None:
        return UNSPECIFIED
    if not isinstance(units, str) or not units.strip():
        raise ValueError(f"units must be a non-empty string such as 'MPa, mm, s', got {units!r}")
    return units.strip()


def export_model(
    model: Any,
    strain: TensorLike,
    code: str = "abaqus",
    hypothesis: str = "3d",
    *,
    state: Mapping[str, Tensor] | None = None,
    dt: float | None = None,
    units: str | None = None,
) -> ExportedState:
    r"""Stress and tangent of ``model`` at ``strain`` (the model's own strain measure) for ``code``.

    Parameters
    ----------
    model:
        A material model; path-dependent models are evaluated by ``update`` (the tangent is the consistent one).
    strain:
        The strain, ``(..., 3, 3)`` or, for plane stress, the in-plane strain (below).
    code:
        The FE code, a key of :data:`constitutive.export.layouts.CODES` (default ``"abaqus"``).
    hypothesis:
        ``"3d"`` (default), ``"plane_strain"``, ``"axisymmetric"`` or ``"plane_stress"`` (below).
    state, dt:
        For path-dependent models: the start state (default: the virgin state) and the time increment.
    units:
        e.g. ``"MPa, mm, s"``, written in the header; default: ``model.units`` when the model carries it, else
        ``"unspecified"``.

    ``"3d"``, ``"plane_strain"``, ``"axisymmetric"``: ``strain`` is the full tensor ``(..., 3, 3)``.

    ``"plane_stress"``: ``strain`` gives the in-plane strain only, as tensor components (ε12 is half the
    engineering shear γ12):

    * ``(..., 3)``: the vector (ε11, ε22, ε12);
    * ``(..., 2, 2)``: the in-plane tensor;
    * ``(..., 3, 3)``: a full tensor whose 33, 13 and 23 entries are **ignored** (they are solved for).
      A ``(3, 3)`` array is always read as a tensor: give a batch of three vectors as ``(3, 1, 3)``.

    The out-of-plane strains ε33, ε13, ε23 are solved for :math:`\sigma_{33} = \sigma_{13} = \sigma_{23} = 0`
    (the model's stress measure: σ for small-strain models, S for hyperelastic ones in E) by the driver's
    mixed-control Newton step (:func:`constitutive.driver.newton.newton_step`, the consistent tangent, rtol 1e-12
    or 100 ε of the dtype), from ``state`` for path-dependent models. The tangent is the static condensation of
    the converged 3D tangent D (Abaqus Voigt slots a = 11 22 12, c = 33 13 23):
    :math:`\bar D = D_{aa} - D_{ac} D_{cc}^{-1} D_{ca}`, the exact derivative of the solved in-plane response
    (equal to :func:`constitutive.notation.reduce` ``(..., "plane_stress")``, which condenses 33 only, whenever
    13/23 do not couple to the in-plane slots: isotropy, in-plane orthotropy, J2 under in-plane stress).
    ``metadata["plane_stress"]`` holds the solved ``out_of_plane_strain`` (ε33, ε13, ε23, tensor components,
    nested by batch), the largest ``residual_stress`` ``|σ_c|`` and the Newton ``iterations``; for a path-dependent
    model ``ExportedState.metadata`` does not hold the new state (call ``model.update`` at the 3D strain
    ``plane_stress_strain(exported)`` for it). Raises :class:`~constitutive.models.base.ConvergenceError` when the
    solve does not converge.
    """
    _require_model(model)
    _check_dt(dt)
    if units is None:
        units = getattr(model, "units", None)
    if hypothesis == "plane_stress":
        return _export_plane_stress(model, strain, code, state, dt, units)
    strain_t = model.check_strain(strain)
    if is_path_dependent(model):
        st = model.initial_state(strain_t.shape[:-2]) if state is None else state
        stress, _, tangent = model.update(strain_t, st, dt) if dt is not None else model.update(strain_t, st)
    else:
        if state is not None:
            raise ValueError(f"{type(model).__name__} has no history: state applies to path-dependent models only")
        stress, tangent = model.stress_and_tangent(strain_t)
    return export_state(
        stress,
        tangent,
        code,
        hypothesis,
        strain=strain_t,
        stress_measure=model.stress_measure,
        strain_measure=model.strain_measure,
        metadata={"model": model.to_dict(), **_tangent_note(model)},
        units=units,
    )


def _tangent_note(model: Any) -> dict[str, str]:
    """``{"tangent": "unsymmetric tangent ..."}`` for a model whose consistent tangent is not major-symmetric
    (non-associated flow: ``model.unsymmetric_tangent``), else ``{}``; written into the export header."""
    if getattr(model, "unsymmetric_tangent", False):
        return {
            "tangent": "unsymmetric tangent (non-associated flow): DDSDDE(I, J) != DDSDDE(J, I); use the FE code's "
            "unsymmetric solver (Abaqus: *STEP, UNSYMM=YES; *USER MATERIAL, UNSYMM)"
        }
    return {}


def _check_dt(dt: Any) -> None:
    if dt is None:
        return
    if isinstance(dt, bool):
        raise ValueError(f"dt must be a finite non-negative time increment, got {dt!r}")
    try:
        t = as_tensor(dt, dtype=torch.float64) if not isinstance(dt, Tensor) else dt.detach()
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"dt must be a finite non-negative time increment, got {dt!r}") from None
    if not bool(torch.isfinite(t).all()) or bool((t < 0).any()):
        raise ValueError(f"dt must be a finite non-negative time increment, got {dt!r}")


def _require_model(model: Any) -> None:
    """``ValueError`` unless ``model`` is a small-strain material (stress/tangent of its own strain measure)."""
    missing = missing_members(model, SmallStrainModel)
    if missing:
        raise ValueError(
            f"export_model needs a constitutive Material (stress and tangent of its strain measure); "
            f"{type(model).__name__} lacks {', '.join(missing)} (finite-strain F export: export_finite_strain)"
        )


def _in_plane_tensor(model: Any, strain: TensorLike) -> Tensor:
    """The plane-stress input (``(..., 3)``, ``(..., 2, 2)`` or ``(..., 3, 3)``) as a ``(..., 3, 3)`` tensor with
    zero 33, 13, 23 entries, in the model's dtype."""
    x = as_tensor(strain, dtype=model.dtype)
    if x.ndim >= 2 and x.shape[-2:] == (3, 3):
        full = x.clone()
    elif x.ndim >= 2 and x.shape[-2:] == (2, 2):
        full = torch.zeros(*x.shape[:-2], 3, 3, dtype=x.dtype, device=x.device)
        full[..., :2, :2] = x
    elif x.ndim >= 1 and x.shape[-1] == 3:
        full = torch.zeros(*x.shape[:-1], 3, 3, dtype=x.dtype, device=x.device)
        full[..., 0, 0], full[..., 1, 1] = x[..., 0], x[..., 1]
        full[..., 0, 1] = full[..., 1, 0] = x[..., 2]
    else:
        raise ValueError(
            "a plane-stress strain is (..., 3) = (ε11, ε22, ε12), (..., 2, 2) or (..., 3, 3); "
            f"got shape {tuple(x.shape)}"
        )
    for i, j in _OUT_OF_PLANE:
        full[..., i, j] = full[..., j, i] = 0.0
    return model.check_strain(full)


def _export_plane_stress(
    model: Any,
    strain: TensorLike,
    code: str,
    state: Mapping[str, Tensor] | None,
    dt: float | None,
    units: str | None,
) -> ExportedState:
    """:func:`export_model` for ``hypothesis="plane_stress"``: solve the out-of-plane strains, condense."""
    from ..driver.kinematics import SmallStrain, model_evaluator
    from ..driver.newton import Control, NewtonSettings, StepFailure, StepStart, newton_step
    from ..models.base import ConvergenceError

    lay = layout(code)
    _check_hypothesis(lay, "plane_stress")
    eps = _in_plane_tensor(model, strain)
    batch = eps.shape[:-2]
    if is_path_dependent(model):
        if state is None:
            start_state: Any = model.initial_state(batch)
        else:
            start_state, batch = model.check_state(state, batch)
            eps = eps.expand(*batch, 3, 3)
    else:
        if state is not None:
            raise ValueError(f"{type(model).__name__} has no history: state applies to path-dependent models only")
        start_state = None
    kin = SmallStrain(eps.dtype, eps.device)
    evaluate = model_evaluator(model, kin, None)
    # Slots of the driver's Mandel vector (textbook Voigt order 11 22 33 23 13 12): 33, 23, 13 are stress-controlled
    # (target σ = 0), 11, 22, 12 strain-controlled (target: the given strain).
    stress_slots = torch.tensor([2, 3, 4], device=eps.device)
    strain_slots = torch.tensor([0, 1, 5], device=eps.device)
    target = kin.vec(eps, "strain")  # zero in the stress-controlled slots: the stress target
    zero = torch.zeros_like(target)
    settings = NewtonSettings(max_iter=50, rtol=max(1e-12, 100.0 * float(torch.finfo(eps.dtype).eps)), predictor=False)
    try:
        out = newton_step(
            evaluate,
            StepStart(zero, zero, start_state, None),
            target,
            Control(stress_slots, strain_slots),
            0.0 if dt is None else dt,
            zero,
            settings,
        )
    except StepFailure as err:
        raise ConvergenceError(
            f"plane-stress export: the solve for σ33 = σ13 = σ23 = 0 failed: {err}", **err.diagnostics
        ) from err
    eps3 = kin.tensor(out.x, "strain")
    sig3 = kin.tensor(out.y, "stress")
    D = notation.to_notation(notation.from_mandel(out.K, "stiffness"), "stiffness", lay.notation, "abaqus")
    a, c = [0, 1, 3], [2, 4, 5]  # Abaqus order 11 22 33 12 13 23: in-plane and out-of-plane slots
    D_ac = D[..., a, :][..., :, c]
    D_bar = D[..., a, :][..., :, a] - D_ac @ torch.linalg.solve(D[..., c, :][..., :, c], D[..., c, :][..., :, a])
    sv = notation.reduce(sig3, "stress", "plane_stress", lay.notation)
    ev = notation.reduce(eps3, lay.strain_quantity, "plane_stress", lay.notation)
    out_of_plane = torch.stack([eps3[..., i, j] for i, j in _OUT_OF_PLANE], dim=-1)
    residual = torch.stack([sig3[..., i, j] for i, j in _OUT_OF_PLANE], dim=-1).abs()
    iterations = int(out.history.shape[0]) - 1
    meta = {
        "model": model.to_dict(),
        **_tangent_note(model),
        "plane_stress": {
            "out_of_plane_strain": _np(out_of_plane).tolist(),
            "out_of_plane_labels": list(_OUT_OF_PLANE_LABELS),
            "convention": "tensor components ε33, ε13, ε23 solved for σ33 = σ13 = σ23 = 0",
            "residual_stress": float(residual.max()) if residual.numel() else 0.0,
            "iterations": iterations,
        },
    }
    return ExportedState(
        code=lay.code,
        hypothesis="plane_stress",
        stress=_np(sv),
        tangent=_np(D_bar),
        stress_measure=model.stress_measure,
        strain_measure=model.strain_measure,
        tangent_measure="consistent tangent of the plane-stress response (σ33 = σ13 = σ23 = 0 condensed)",
        strain=_np(ev),
        metadata=meta,
        units=_checked_units(units),
    )


def plane_stress_strain(exported: ExportedState) -> np.ndarray:
    """The full 3D strain ``(..., 3, 3)`` (tensor components) of a plane-stress export: the in-plane slots of
    ``exported.strain`` and the solved ε33, ε13, ε23 of its metadata."""
    if exported.hypothesis != "plane_stress" or "plane_stress" not in exported.metadata or exported.strain is None:
        raise ValueError("not a plane-stress export of a model (export_model(..., hypothesis='plane_stress'))")
    lay = exported.layout
    e = np.asarray(exported.strain, dtype=np.float64)
    shear = 1.0 if lay.tensor_shear_strain else (np.sqrt(2.0) if lay.notation == "mandel" else 2.0)
    full = np.zeros((*e.shape[:-1], 3, 3))
    full[..., 0, 0], full[..., 1, 1] = e[..., 0], e[..., 1]
    full[..., 0, 1] = full[..., 1, 0] = e[..., 2] / shear
    oop = np.asarray(exported.metadata["plane_stress"]["out_of_plane_strain"], dtype=np.float64)
    for k, (i, j) in enumerate(_OUT_OF_PLANE):
        full[..., i, j] = full[..., j, i] = oop[..., k]
    return full


def export_finite_strain(model: Any, F: TensorLike, code: str = "abaqus") -> ExportedState:
    """Finite-strain export at the deformation gradient ``F`` ``(..., 3, 3)``.

    * ``"abaqus"`` (UMAT with NLGEOM): Cauchy stress σ and ``model.abaqus_tangent(F)``, the tangent of the Jaumann
      rate of Kirchhoff stress divided by J, :math:`\\mathbb{C}^{\\tau J}/J` (Abaqus Theory Guide, 'Hyperelastic
      material behavior'; its DDSDDE for finite strain).
    * ``"calculix"`` (native umat, total Lagrangian): second Piola-Kirchhoff S and dS/dE
      (``model.material_tangent(F)``), with E the Green-Lagrange strain.
    """
    lay = layout(code)
    needed = {"abaqus": ("cauchy", "abaqus_tangent"), "calculix": ("second_piola", "material_tangent")}
    if lay.code not in needed:
        raise ValueError(f"finite-strain export is defined for 'abaqus' and 'calculix', not {code!r}")
    missing = [name for name in (*needed[lay.code], "to_dict") if not callable(getattr(model, name, None))]
    if missing:
        raise ValueError(
            f"a finite-strain export to {lay.code} needs a finite-strain (hyperelastic) model with "
            f"{', '.join(needed[lay.code])}; {type(model).__name__} lacks {', '.join(missing)}"
        )
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
