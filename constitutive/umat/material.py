r"""A compiled Abaqus UMAT as a :class:`~constitutive.models.base.PathDependentMaterial`.

**The interface** is Abaqus/Standard's, argument for argument (Abaqus User Subroutines Reference Guide, UMAT)::

    SUBROUTINE UMAT(STRESS,STATEV,DDSDDE,SSE,SPD,SCD,RPL,DDSDDT,DRPLDE,DRPLDT,STRAN,DSTRAN,TIME,DTIME,TEMP,DTEMP,
   &  PREDEF,DPRED,CMNAME,NDI,NSHR,NTENS,NSTATV,PROPS,NPROPS,COORDS,DROT,PNEWDT,CELENT,DFGRD0,DFGRD1,NOEL,NPT,
   &  LAYER,KSPT,JSTEP,KINC)

Arrays are float64 (``REAL*8``) in Fortran (column-major) order, integers ``INTEGER*4``, every argument by reference,
and the hidden length of ``CMNAME`` (``CHARACTER*80``) appended by value (gfortran: ``size_t``). ``JSTEP(4)`` is
passed as an array (step 1, procedure 1, NLGEOM flag, not a perturbation step); a UMAT that declares the older
``KSTEP`` reads its first entry, the step number. ``PREDEF``/``DPRED`` have one (zero) entry (no field variables),
``NPREDF = 0``.

**Components** (Abaqus "Conventions"): 11 22 33 12 13 23, the first ``NDI`` direct and ``NSHR`` shear slots of the
hypothesis (:data:`HYPOTHESES`); ``STRAN``/``DSTRAN`` hold engineering shear γ = 2ε; ``DDSDDE(I, J)`` =
∂Δσ_I/∂Δε_J pairs with it, so as a tensor it is the package's ``"symmetric"`` tangent C_ijkl
(:func:`constitutive.notation.from_voigt` with order ``"abaqus"``).

**Increments.** ``update(strain, state, dt)`` is one Abaqus increment from the converged ``state`` to ``strain``:
``STRAN`` = the state's strain, ``DSTRAN`` = ``strain - STRAN``, ``STRESS``/``STATEV``/``SSE SPD SCD`` from the
state, ``TIME`` = (step time, total time) at the start of the increment, ``DTIME = dt`` (1 when ``None``), ``KINC``
= increments completed + 1. The driver's Newton iterations call it repeatedly from the same start state, as
Abaqus does within an increment. ``PNEWDT`` < 1 raises :class:`UMATCutback` (a
:class:`~constitutive.models.base.ConvergenceError`: the driver cuts the step back when ``cutbacks`` > 0); ``XIT``,
``STOP``, ``STDB_ABQERR`` with ``LOP = -3`` and non-finite outputs raise :class:`UMATError` naming the increment
and the point; the Python process survives and the state passed in is untouched (outputs are written to fresh
arrays only).

**Temperature** (the temperature contract of ``constitutive.models.thermal``): the state carries the
temperature at the start of the increment, ``"temperature"`` ``(...)`` (initially the constructor's ``temp``).
``update(strain, state, dt, *, temperature=T)`` passes ``TEMP`` = the state's T_n and ``DTEMP`` = T - T_n, and the
new state holds T; ``temperature=None`` means ``DTEMP = 0`` (the temperature stays where the state has it).
``update_thermal`` also returns ``DDSDDT`` = ∂σ/∂T at fixed strain as a ``(..., 3, 3)`` stress-like tensor (same
slots and plane hypotheses as ``STRESS``; :meth:`UMAT.update_thermal_voigt` gives the Abaqus vector). ``RPL``,
``DRPLDE``, ``DRPLDT`` (heat generation, for coupled temperature-displacement analyses) are not read back.

**The point loop.** A UMAT takes one material point per call, so :meth:`UMAT._call` loops over the batch in
Python, the one place in the package that does. It costs a few microseconds per point and call.

**Two-dimensional hypotheses.** ``update`` takes full ``(..., 3, 3)`` strains and passes the hypothesis's slots:
``plane_strain``/``axisymmetric`` 11 22 33 12 (ε33 is the hoop strain in axisymmetry; zero in a plane-strain
analysis), ``plane_stress`` 11 22 12 (the UMAT enforces σ33 = 0 itself and returns the condensed DDSDDE; ε33 is not
an input). The other components are not read and their rows and columns of the returned tangent are zero -- the
exact derivative of this map, so finite-difference checks stay consistent. :meth:`UMAT.update_voigt` is the same
call on Abaqus vectors ``(..., NTENS)``.

**Finite strain** (``finite_strain=True``, NLGEOM): ``update(F, state, dt)`` takes the deformation gradient at the
end of the increment ``F`` ``(..., 3, 3)`` and passes ``DFGRD0`` (the state's F) and ``DFGRD1 = F``; with the
incremental deformation :math:`\Delta F = F_1 F_0^{-1} = \Delta V \Delta R` (left polar decomposition),
``DROT`` = :math:`\Delta R`, ``DSTRAN`` = :math:`\ln \Delta V` (logarithmic strain increment), and ``STRESS`` and
``STRAN`` enter rotated by :math:`\Delta R` (Abaqus computes :math:`\Delta R`, :math:`\Delta\varepsilon` by the
Hughes--Winget midpoint rule; both agree to second order in the increment, and a UMAT that uses ``DFGRD1`` alone,
as hyperelastic ones do, sees no difference). The UMAT returns the Cauchy stress and the Jaumann DDSDDE
:math:`\mathbb C^{\tau J}/J` (:func:`constitutive.kinematics.spatial_to_jaumann_tangent`); ``update`` returns them
as ``(σ, new_state, C^{τJ}/J)``. For the driver's F-controlled paths, :meth:`UMAT.first_piola` and
:meth:`UMAT.first_elasticity` evaluate one increment from the initial state to F (exact for a hyperelastic UMAT)
and convert: :math:`P = J\sigma F^{-T}`, :math:`\mathbb A` from :math:`c = \mathbb C^{\tau J}/J - \tfrac12(\delta
\sigma + \ldots)` pulled back (:func:`constitutive.kinematics.material_to_first_elasticity`).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..kinematics import (
    check_deformation_gradient,
    material_to_first_elasticity,
    pull_back_tangent,
    spatial_to_jaumann_tangent,
)
from ..models.base import ConvergenceError, PathDependentMaterial
from ..notation import ORDERS, from_voigt, to_voigt
from ..tensor import DEFAULT_DTYPE, Tensor, TensorLike, as_tensor, check_finite, check_shape
from .build import FORTRAN_SUFFIXES, compile_umat, load_library, support_library

__all__ = ["UMAT", "UMATError", "UMATCutback", "HYPOTHESES", "abaqus_labels"]

#: NTENS, NDI, NSHR per hypothesis, as Abaqus sets them.
HYPOTHESES: dict[str, tuple[int, int, int]] = {
    "3d": (6, 3, 3),
    "plane_strain": (4, 3, 1),
    "axisymmetric": (4, 3, 1),
    "plane_stress": (3, 2, 1),
}
#: The tensor component (i, j) of each Abaqus slot, per hypothesis (0-based).
_SLOTS: dict[str, tuple[tuple[int, int], ...]] = {
    "3d": tuple(ORDERS["abaqus"]),
    "plane_strain": ((0, 0), (1, 1), (2, 2), (0, 1)),
    "axisymmetric": ((0, 0), (1, 1), (2, 2), (0, 1)),
    "plane_stress": ((0, 0), (1, 1), (0, 1)),
}
_CODES = {1: "XIT", 2: "STOP", 3: "ERROR STOP", 4: "STDB_ABQERR"}


def abaqus_labels(hypothesis: str = "3d") -> list[str]:
    """Slot labels ``['11', '22', ...]`` of the hypothesis, in Abaqus order."""
    return [f"{i + 1}{j + 1}" for i, j in _SLOTS[hypothesis]]


class UMATError(ConvergenceError):
    """The UMAT failed in an increment (``XIT``, ``STOP``, a fatal ``STDB_ABQERR``, NaN/Inf outputs).

    ``increment`` is the KINC of the failed call, ``point`` the batch index, ``reason`` a short keyword.
    """

    def __init__(self, message: str, *, increment: int, point: tuple[int, ...] = (), reason: str = "") -> None:
        super().__init__(message, increment=increment, point=point, reason=reason)
        self.increment, self.point, self.reason = increment, point, reason


class UMATCutback(UMATError):
    """The UMAT set ``PNEWDT`` < 1: the increment must be retried with a smaller time step (``pnewdt`` holds the
    smallest value requested). The driver treats it as a failed step and, with ``cutbacks`` > 0, splits it."""

    def __init__(self, message: str, *, increment: int, point: tuple[int, ...] = (), pnewdt: float = 0.5) -> None:
        super().__init__(message, increment=increment, point=point, reason="PNEWDT")
        self.pnewdt = pnewdt

    @property
    def suggested_step_ratio(self) -> float:
        """The step ratio the UMAT asks for (``pnewdt``): the driver's cutbacks read this generic attribute."""
        return self.pnewdt


def _ptr(a: np.ndarray) -> int:
    return a.ctypes.data


class UMAT(PathDependentMaterial, abstract=True):
    r"""A user's compiled Abaqus UMAT, driven as a path-dependent material (module docstring for the conventions).

    Parameters
    ----------
    source:
        a shared library exporting ``umat_`` (gfortran's name of ``UMAT``), or a Fortran source (``.f .for .f90 .F``)
        compiled with gfortran into the cache of :func:`constitutive.umat.build.compile_umat`.
    props:
        ``PROPS(NPROPS)``, the material constants (a sequence of numbers).
    nstatv:
        ``NSTATV``, the number of solution-dependent state variables.
    cmname:
        the material name passed in ``CMNAME`` (upper case, as Abaqus passes it; at most 80 characters).
    hypothesis:
        ``"3d"`` (NTENS 6), ``"plane_strain"``, ``"axisymmetric"`` (NTENS 4), ``"plane_stress"`` (NTENS 3).
    finite_strain:
        NLGEOM: ``update`` takes F, the UMAT returns Cauchy stress and the Jaumann DDSDDE.
    flags:
        gfortran flags replacing :data:`constitutive.umat.build.DEFAULT_FLAGS` (e.g. add ``"-fdefault-real-8"``).
    cache:
        the cache directory for compiled libraries (default: see :func:`constitutive.umat.build.cache_dir`).
    statev0:
        initial ``STATEV`` (default zeros; what a ``SDVINI`` would set).
    temp, coords, celent, noel, npt:
        ``temp``: the initial temperature (the ``"temperature"`` of :meth:`initial_state`; ``TEMP`` stays there while
        ``update`` gets ``temperature=None``, ``DTEMP`` = 0); ``COORDS``, ``CELENT``, ``NOEL``, ``NPT`` passed to
        every call.
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).

    State (``initial_state(batch)``; batch axes first): ``stress (..., NTENS)`` the Abaqus stress vector,
    ``stran (..., NTENS)`` the strain vector (engineering shear), ``statev (..., NSTATV)``, ``energy (..., 3)``
    (SSE, SPD, SCD), ``time (..., 2)`` (step and total time), ``kinc (...)`` increments completed,
    ``temperature (...)`` the temperature at the end of the last increment (initially ``temp``), and with
    ``finite_strain`` ``F (..., 3, 3)``, the deformation gradient (initially I).
    """

    #: The driver passes ``temperature=`` to models that set this (the temperature contract, module docstring).
    temperature_dependent = True

    #: With ``finite_strain=True`` ``update`` takes the deformation gradient F (DFGRD1) instead.
    strain_measure = "small strain ε (Abaqus STRAN + DSTRAN, engineering shear)"
    stress_measure = "Cauchy stress σ (Abaqus STRESS)"
    isotropic = False
    props: Tensor

    def __init__(
        self,
        source: str | os.PathLike[str],
        props: Sequence[float] | TensorLike,
        *,
        nstatv: int = 0,
        cmname: str = "MATERIAL",
        hypothesis: str = "3d",
        finite_strain: bool = False,
        flags: Sequence[str] | None = None,
        cache: str | os.PathLike[str] | None = None,
        statev0: Sequence[float] | None = None,
        temp: float = 0.0,
        coords: Sequence[float] = (0.0, 0.0, 0.0),
        celent: float = 1.0,
        noel: int = 1,
        npt: int = 1,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        if dtype != torch.float64:
            raise ValueError(f"a UMAT computes in REAL*8: dtype must be torch.float64, got {dtype}")
        if hypothesis not in HYPOTHESES:
            raise ValueError(f"unknown hypothesis {hypothesis!r}; choose one of {sorted(HYPOTHESES)}")
        if finite_strain and hypothesis == "plane_stress":
            raise ValueError("finite_strain=True is supported for '3d', 'plane_strain' and 'axisymmetric'")
        if int(nstatv) != nstatv or nstatv < 0:
            raise ValueError(f"nstatv must be a non-negative integer, got {nstatv!r}")
        p = np.asarray(props.detach().cpu() if isinstance(props, Tensor) else props, dtype=np.float64).reshape(-1)
        if p.size == 0 or not np.isfinite(p).all():
            raise ValueError(f"props must be a non-empty sequence of finite numbers, got {props!r}")
        self._param("props", torch.from_numpy(p.copy()))
        if not isinstance(cmname, str) or len(cmname) > 80 or not cmname.isascii():
            raise ValueError(f"cmname must be an ASCII string of at most 80 characters, got {cmname!r}")
        self.nstatv = int(nstatv)
        self.hypothesis = hypothesis
        self.finite_strain = bool(finite_strain)
        self.ntens, self.ndi, self.nshr = HYPOTHESES[hypothesis]
        self.slots = _SLOTS[hypothesis]
        self.labels = abaqus_labels(hypothesis)
        self.cmname = cmname.upper()
        self.statev0 = np.zeros(self.nstatv) if statev0 is None else np.asarray(statev0, dtype=np.float64)
        if self.statev0.shape != (self.nstatv,):
            raise ValueError(f"statev0 must have NSTATV = {self.nstatv} entries, got {self.statev0.shape}")
        self.temp, self.celent, self.noel, self.npt = float(temp), float(celent), int(noel), int(npt)
        self.coords = np.asarray(coords, dtype=np.float64).reshape(3)
        #: Messages of ``STDB_ABQERR`` calls (info and warnings), oldest first.
        self.messages: list[str] = []
        self.source = Path(source)
        self.library_path = self._library(self.source, flags, cache)
        self._support = load_library(support_library(cache), global_symbols=True)
        self._support.cst_umat_call.restype = ctypes.c_int
        self._support.cst_umat_call.argtypes = [ctypes.c_void_p] * 37 + [ctypes.c_size_t]
        self._support.cst_message.restype = ctypes.c_char_p
        self._support.cst_log_text.restype = ctypes.c_char_p
        lib = load_library(self.library_path)
        for name in ("umat_", "umat", "UMAT", "umat__"):
            fn = getattr(lib, name, None)
            if fn is not None:
                self._fn = ctypes.cast(fn, ctypes.c_void_p).value
                break
        else:
            raise ValueError(f"{self.library_path} exports no UMAT symbol (looked for umat_, umat, UMAT)")
        self._options.update(
            {
                "source": str(self.source),
                "nstatv": self.nstatv,
                "cmname": self.cmname,
                "hypothesis": hypothesis,
                "finite_strain": self.finite_strain,
            }
        )
        self._last_finite: tuple[Tensor, Tensor, Tensor] | None = None

    @staticmethod
    def _library(source: Path, flags: Sequence[str] | None, cache: Any) -> Path:
        if not source.exists():
            raise FileNotFoundError(f"no UMAT source or library {source}")
        if source.suffix in FORTRAN_SUFFIXES:
            return compile_umat(source, flags, cache=cache)
        if source.suffix in (".so", ".dylib", ".dll") or ".so." in source.name:
            return source
        raise ValueError(
            f"{source.name}: give a Fortran source ({', '.join(FORTRAN_SUFFIXES)}) or a shared library (.so)"
        )

    def __repr__(self) -> str:
        props = ", ".join(f"{v:g}" for v in self.props.tolist())
        return (
            f"UMAT({self.source.name!r}, props=[{props}], nstatv={self.nstatv}, hypothesis={self.hypothesis!r}"
            + (", finite_strain=True" if self.finite_strain else "")
            + ")"
        )

    # ---------------------------------------------------------------------------------------------------- state
    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {
            "stress": (self.ntens,),
            "stran": (self.ntens,),
            "statev": (self.nstatv,),
            "energy": (3,),
            "time": (2,),
            "kinc": (),
            "temperature": (),
        }
        if self.finite_strain:
            shapes["F"] = (3, 3)
        return shapes

    def initial_state(self, batch_shape: tuple[int, ...] | torch.Size = ()) -> dict[str, Tensor]:
        state = super().initial_state(batch_shape)
        state["statev"] = state["statev"] + torch.from_numpy(self.statev0).to(self.dtype)
        state["temperature"] = state["temperature"] + self.temp
        if self.finite_strain:
            state["F"] = torch.eye(3, dtype=self.dtype).expand(*tuple(batch_shape), 3, 3).clone()
        return state

    # ------------------------------------------------------------------------------------------ vector <-> tensor
    def to_vector(self, x: Tensor, quantity: str) -> Tensor:
        """A symmetric ``(..., 3, 3)`` strain or stress as the hypothesis's Abaqus vector ``(..., NTENS)``
        (engineering shear for ``quantity="strain"``)."""
        w = 2.0 if quantity == "strain" else 1.0
        return torch.stack([x[..., i, j] * (1.0 if i == j else w) for i, j in self.slots], dim=-1)

    def to_tensor(self, v: Tensor) -> Tensor:
        """An Abaqus stress vector ``(..., NTENS)`` as a symmetric ``(..., 3, 3)`` tensor (missing slots zero)."""
        t = torch.zeros(*v.shape[:-1], 3, 3, dtype=v.dtype, device=v.device)
        for k, (i, j) in enumerate(self.slots):
            t[..., i, j] = v[..., k]
            t[..., j, i] = v[..., k]
        return t

    def tangent_to_tensor(self, D: Tensor) -> Tensor:
        """DDSDDE ``(..., NTENS, NTENS)`` as ``(..., 3, 3, 3, 3)`` in the ``"symmetric"`` convention (rows and columns
        of the slots the hypothesis lacks are zero; major asymmetry is kept)."""
        if self.hypothesis == "3d":
            return from_voigt(D, "stiffness", "abaqus")
        full = torch.zeros(*D.shape[:-2], 6, 6, dtype=D.dtype, device=D.device)
        idx = torch.tensor([ORDERS["abaqus"].index(ij) for ij in self.slots])
        full[..., idx[:, None], idx[None, :]] = D
        return from_voigt(full, "stiffness", "abaqus")

    def tangent_to_matrix(self, C: Tensor) -> Tensor:
        """Inverse of :meth:`tangent_to_tensor`: the DDSDDE block of the hypothesis's slots (no condensation)."""
        full = to_voigt(C, "stiffness", "abaqus", rtol=float("inf"))
        idx = torch.tensor([ORDERS["abaqus"].index(ij) for ij in self.slots])
        return full[..., idx[:, None], idx[None, :]]

    # -------------------------------------------------------------------------------------------------- updates
    def update(  # type: ignore[override]
        self,
        strain: TensorLike,
        state: Mapping[str, Tensor],
        dt: float | Tensor | None = None,
        need_tangent: bool = True,
        *,
        temperature: TensorLike | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """One Abaqus increment: ``(stress (..., 3, 3), new_state, DDSDDE as (..., 3, 3, 3, 3))``. Raises
        :class:`UMATError` / :class:`UMATCutback`.

        Parameters
        ----------
        strain:
            ``(..., 3, 3)`` small strain at the end of the increment (F with ``finite_strain``).
        state:
            The converged state at its start (:meth:`initial_state`); not modified.
        dt:
            ``DTIME`` (1 when ``None``).
        need_tangent:
            Accepted for the driver's interface: the UMAT always computes DDSDDE, so it is returned either way.
        temperature:
            The temperature at the end of the increment, 0-d or broadcastable to the batch: ``TEMP`` = the state's
            T_n, ``DTEMP`` = T - T_n. ``None``: ``DTEMP`` = 0 (the state's temperature is kept).
        """
        sigma, new_state, C, _ = self.update_thermal(strain, state, dt, temperature=temperature)
        return sigma, new_state, C

    def _update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None, need_tangent: bool
    ) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        return self.update(strain, state, dt, need_tangent)

    def update_thermal(
        self,
        strain: TensorLike,
        state: Mapping[str, Tensor],
        dt: float | Tensor | None = None,
        *,
        temperature: TensorLike | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor, Tensor]:
        """:meth:`update` and ``DDSDDT``: ``(stress, new_state, DDSDDE (..., 3, 3, 3, 3), dsigma_dT (..., 3, 3))``,
        ``dsigma_dT`` = ∂σ/∂T at fixed strain (the UMAT's ``DDSDDT`` vector as a symmetric stress-like tensor; the
        slots the hypothesis lacks are zero)."""
        if self.finite_strain:
            F = check_deformation_gradient(as_tensor(strain, dtype=self.dtype))
            sv, new_state, D, dT = self._increment(None, F, state, dt, temperature)
        else:
            eps = self.check_strain(strain)
            sv, new_state, D, dT = self._increment(self.to_vector(eps, "strain"), None, state, dt, temperature)
        return self.to_tensor(sv), new_state, self.tangent_to_tensor(D), self.to_tensor(dT)

    def update_voigt(
        self,
        strain: TensorLike,
        state: Mapping[str, Tensor],
        dt: float | Tensor | None = None,
        *,
        temperature: TensorLike | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """One increment on Abaqus vectors: ``strain`` ``(..., NTENS)`` (engineering shear; F ``(..., 3, 3)`` with
        ``finite_strain``) -> ``(STRESS (..., NTENS), new_state, DDSDDE (..., NTENS, NTENS))``; ``temperature``
        as in :meth:`update`."""
        s, new_state, D, _ = self.update_thermal_voigt(strain, state, dt, temperature=temperature)
        return s, new_state, D

    def update_thermal_voigt(
        self,
        strain: TensorLike,
        state: Mapping[str, Tensor],
        dt: float | Tensor | None = None,
        *,
        temperature: TensorLike | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor, Tensor]:
        """:meth:`update_voigt` and ``DDSDDT (..., NTENS)``, the Abaqus vector of ∂σ/∂T at fixed strain."""
        if self.finite_strain:
            F = check_deformation_gradient(as_tensor(strain, dtype=self.dtype))
            return self._increment(None, F, state, dt, temperature)
        e = as_tensor(strain, dtype=self.dtype)
        check_shape(e, (self.ntens,), "strain vector")
        check_finite(e, "strain vector")
        return self._increment(e, None, state, dt, temperature)

    def _increment(
        self,
        eps: Tensor | None,
        F: Tensor | None,
        state: Mapping[str, Tensor],
        dt: float | Tensor | None,
        temperature: TensorLike | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor, Tensor]:
        x = eps if eps is not None else F
        assert x is not None
        batch = x.shape[:-1] if eps is not None else x.shape[:-2]
        st, common = self.check_state(state, batch)
        dtime = 1.0 if dt is None else float(dt)
        if not np.isfinite(dtime) or dtime < 0:
            raise ValueError(f"dt must be a non-negative finite number, got {dt!r}")
        n = int(np.prod(common)) if len(common) else 1
        temp0 = st["temperature"]
        if temperature is None:
            temp1 = temp0
        else:
            T = as_tensor(temperature, dtype=self.dtype, device=self.device)
            check_finite(T, "temperature")
            try:
                temp1 = torch.broadcast_to(T, common)
            except RuntimeError:
                raise ValueError(
                    f"temperature of shape {tuple(T.shape)} does not broadcast to the batch shape {tuple(common)}"
                ) from None

        def flat(t: Tensor, tail: tuple[int, ...]) -> np.ndarray:
            return np.ascontiguousarray(t.expand(torch.Size([*common, *tail])).reshape(n, *tail).detach().cpu().numpy())

        stress0 = flat(st["stress"], (self.ntens,))
        stran0 = flat(st["stran"], (self.ntens,))
        drot = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
        F0 = F1 = None
        if F is not None:
            F0 = flat(st["F"], (3, 3))
            F1 = flat(F, (3, 3))
            dstran, drot = _log_increment(F0, F1, self.slots)
            # Abaqus hands in the start-of-increment stress and strain rotated by the increment's rotation.
            stress0 = _rotate_vectors(stress0, drot, self.slots, 1.0)
            stran0 = _rotate_vectors(stran0, drot, self.slots, 2.0)
        else:
            assert eps is not None
            dstran = flat(eps, (self.ntens,)) - stran0
        temp0_np = flat(temp0, ())
        out = self._call(
            stress0,
            flat(st["statev"], (self.nstatv,)),
            flat(st["energy"], (3,)),
            stran0,
            dstran,
            flat(st["time"], (2,)),
            flat(st["kinc"], ()),
            dtime,
            drot,
            F0,
            F1,
            common,
            temp0_np,
            # DTEMP = T_{n+1} - T_n, exactly 0 without a temperature (today's calls, bit for bit)
            flat(temp1, ()) - temp0_np,
        )
        stress, statev, energy, ddsdde, ddsddt = out
        t = lambda a, *tail: torch.from_numpy(a).reshape(*common, *tail).to(self.dtype)  # noqa: E731
        new_state = {
            "stress": t(stress, self.ntens),
            "stran": t(stran0 + dstran, self.ntens),
            "statev": t(statev, self.nstatv),
            "energy": t(energy, 3),
            "time": st["time"] + dtime,
            "kinc": st["kinc"] + 1.0,
            "temperature": temp1.expand(common).clone(),
        }
        if F is not None:
            new_state["F"] = F.expand(*common, 3, 3).clone()
        return new_state["stress"], new_state, t(ddsdde, self.ntens, self.ntens), t(ddsddt, self.ntens)

    def _call(
        self,
        stress0: np.ndarray,
        statev0: np.ndarray,
        energy0: np.ndarray,
        stran0: np.ndarray,
        dstran: np.ndarray,
        time0: np.ndarray,
        kinc0: np.ndarray,
        dtime: float,
        drot: np.ndarray,
        F0: np.ndarray | None,
        F1: np.ndarray | None,
        batch: torch.Size,
        temp: np.ndarray | None = None,
        dtemp: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The point loop: one UMAT call per material point (the only Python loop over points in the package).

        Inputs are ``(n, ...)`` arrays (``temp``, ``dtemp``: TEMP and DTEMP per point, default ``self.temp`` and
        0); returns ``(stress (n, NTENS), statev (n, NSTATV), energy (n, 3), DDSDDE (n, NTENS, NTENS), DDSDDT (n,
        NTENS))`` in fresh arrays. Raises on XIT/STOP/NaN/PNEWDT < 1 before returning anything.
        """
        n, nt = stress0.shape[0], self.ntens
        stress = stress0.copy()
        statev = statev0.copy()
        energy = energy0.copy()
        ddsdde_all = np.zeros((n, nt, nt))
        ddsddt_all = np.zeros((n, nt))
        temps = np.full(n, self.temp) if temp is None else temp
        dtemps = np.zeros(n) if dtemp is None else dtemp
        # Scratch buffers, Fortran order, reused for every point (pointers computed once).
        b_stress = np.zeros(nt)
        b_statev = np.zeros(max(self.nstatv, 1))
        b_dd = np.zeros((nt, nt), order="F")
        b_sse, b_spd, b_scd, b_rpl = (np.zeros(1) for _ in range(4))
        b_ddsddt, b_drplde = np.zeros(nt), np.zeros(nt)
        b_drpldt = np.zeros(1)
        b_stran, b_dstran = np.zeros(nt), np.zeros(nt)
        b_time, b_dtime = np.zeros(2), np.array([dtime])
        b_temp, b_dtemp = np.array([self.temp]), np.zeros(1)
        b_predef, b_dpred = np.zeros(1), np.zeros(1)
        cmname = ctypes.create_string_buffer(self.cmname.ljust(80).encode("ascii"), 80)
        i_ndi, i_nshr, i_ntens = (np.array([v], dtype=np.int32) for v in (self.ndi, self.nshr, nt))
        i_nstatv = np.array([self.nstatv], dtype=np.int32)
        b_props = np.ascontiguousarray(self.props.detach().cpu().numpy(), dtype=np.float64)
        i_nprops = np.array([b_props.size], dtype=np.int32)
        b_coords = self.coords.copy()
        b_drot = np.zeros((3, 3), order="F")
        b_pnewdt, b_celent = np.ones(1), np.array([self.celent])
        b_f0, b_f1 = np.eye(3, order="F"), np.eye(3, order="F")
        i_noel, i_npt = np.array([self.noel], dtype=np.int32), np.array([self.npt], dtype=np.int32)
        i_layer, i_kspt = np.ones(1, dtype=np.int32), np.ones(1, dtype=np.int32)
        i_jstep = np.array([1, 1, 1 if self.finite_strain else 0, 0], dtype=np.int32)
        i_kinc = np.zeros(1, dtype=np.int32)
        ptrs = [
            _ptr(a)
            for a in (b_stress, b_statev, b_dd, b_sse, b_spd, b_scd, b_rpl, b_ddsddt, b_drplde, b_drpldt, b_stran)
        ]
        ptrs += [_ptr(a) for a in (b_dstran, b_time, b_dtime, b_temp, b_dtemp, b_predef, b_dpred)]
        ptrs.append(ctypes.addressof(cmname))
        ptrs += [_ptr(a) for a in (i_ndi, i_nshr, i_ntens, i_nstatv, b_props, i_nprops, b_coords, b_drot)]
        ptrs += [_ptr(a) for a in (b_pnewdt, b_celent, b_f0, b_f1, i_noel, i_npt, i_layer, i_kspt, i_jstep, i_kinc)]
        call = self._support.cst_umat_call
        cutback: tuple[float, int, tuple[int, ...]] | None = None
        for p in range(n):
            kinc = int(kinc0[p]) + 1
            b_stress[:] = stress0[p]
            b_statev[: self.nstatv] = statev0[p]
            b_dd[:] = 0.0
            b_sse[0], b_spd[0], b_scd[0] = energy0[p]
            b_rpl[0] = b_drpldt[0] = 0.0
            b_ddsddt[:] = b_drplde[:] = 0.0
            b_stran[:] = stran0[p]
            b_dstran[:] = dstran[p]
            b_time[:] = time0[p]
            b_temp[0], b_dtemp[0] = temps[p], dtemps[p]
            b_drot[:] = drot[p]
            b_pnewdt[0] = 1.0
            if F0 is not None and F1 is not None:
                b_f0[:] = F0[p]
                b_f1[:] = F1[p]
            i_kinc[0] = kinc
            code = call(self._fn, *ptrs, 80)
            log = self._support.cst_log_text()
            if log:
                self.messages += log.decode(errors="replace").splitlines()
                self._support.cst_clear_log()
            point = tuple(int(i) for i in np.unravel_index(p, tuple(batch))) if len(batch) else ()
            if code != 0:
                msg = self._support.cst_message().decode(errors="replace")
                raise UMATError(
                    f"UMAT {self.source.name}: increment {kinc}, point {point}: {msg}",
                    increment=kinc,
                    point=point,
                    reason=_CODES.get(code, "error"),
                )
            if b_pnewdt[0] < 1.0:
                if cutback is None or b_pnewdt[0] < cutback[0]:
                    cutback = (float(b_pnewdt[0]), kinc, point)
                continue
            bad = [
                name
                for name, a in (
                    ("STRESS", b_stress),
                    ("DDSDDE", b_dd),
                    ("STATEV", b_statev[: self.nstatv]),
                    ("DDSDDT", b_ddsddt),
                )
                if not np.isfinite(a).all()
            ]
            if bad:
                raise UMATError(
                    f"UMAT {self.source.name}: increment {kinc}, point {point}: non-finite {', '.join(bad)} returned",
                    increment=kinc,
                    point=point,
                    reason="NaN",
                )
            stress[p] = b_stress
            statev[p] = b_statev[: self.nstatv]
            energy[p] = (b_sse[0], b_spd[0], b_scd[0])
            ddsdde_all[p] = b_dd
            ddsddt_all[p] = b_ddsddt
        if cutback is not None:
            raise UMATCutback(
                f"UMAT {self.source.name}: increment {cutback[1]}, point {cutback[2]}: PNEWDT = {cutback[0]:g} "
                "requests a smaller time increment",
                increment=cutback[1],
                point=cutback[2],
                pnewdt=cutback[0],
            )
        return stress, statev, energy, ddsdde_all, ddsddt_all

    # ------------------------------------------------------------------------------------ finite-strain protocol
    def cauchy_and_abaqus_tangent(self, F: TensorLike) -> tuple[Tensor, Tensor]:
        """``(σ, C^{τJ}/J)`` ``(..., 3, 3)``, ``(..., 3, 3, 3, 3)`` of one increment from the initial state to F
        (``finite_strain=True``), as :meth:`~constitutive.models.hyperelastic.HyperelasticMaterial.\
cauchy_and_abaqus_tangent` returns them for the package's hyperelastic models."""
        if not self.finite_strain:
            raise ValueError("cauchy_and_abaqus_tangent needs UMAT(..., finite_strain=True)")
        F = check_deformation_gradient(as_tensor(F, dtype=self.dtype))
        last = self._last_finite
        if last is not None and last[0].shape == F.shape and bool(torch.equal(last[0], F)):
            return last[1], last[2]
        sigma, _, C = self.update(F, self.initial_state(F.shape[:-2]))
        self._last_finite = (F.clone(), sigma, C)
        return sigma, C

    def first_piola(self, F: TensorLike) -> Tensor:
        """First Piola--Kirchhoff stress :math:`P = J\\sigma F^{-T}` of one increment from the initial state."""
        F = as_tensor(F, dtype=self.dtype)
        sigma, _ = self.cauchy_and_abaqus_tangent(F)
        return self._to_first_piola(F, sigma)

    def first_piola_update(
        self, F: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """One increment from ``state`` to F in the driver's finite-strain variables: ``(P, new_state, A)`` with
        :math:`P = J\\sigma F^{-T}` and :math:`\\mathbb A = \\partial P/\\partial F` from DDSDDE (as
        :meth:`first_elasticity`), for a driver that carries the state along F-controlled paths."""
        F = check_deformation_gradient(as_tensor(F, dtype=self.dtype))
        sigma, new_state, C = self.update(F, state, dt)
        return self._to_first_piola(F, sigma), new_state, self._to_first_elasticity(F, sigma, C)

    @staticmethod
    def _to_first_piola(F: Tensor, sigma: Tensor) -> Tensor:
        return torch.linalg.det(F)[..., None, None] * sigma @ torch.linalg.inv(F).mT

    @staticmethod
    def _to_first_elasticity(F: Tensor, sigma: Tensor, C: Tensor) -> Tensor:
        c = C - spatial_to_jaumann_tangent(torch.zeros_like(C), sigma)  # the spatial tangent of τ, over J
        J = torch.linalg.det(F)[..., None, None]
        Finv = torch.linalg.inv(F)
        S = J * Finv @ sigma @ Finv.mT
        return material_to_first_elasticity(pull_back_tangent(c, F), S, F)

    def first_elasticity(self, F: TensorLike) -> Tensor:
        """:math:`\\mathbb A = \\partial P/\\partial F` ``(..., 3, 3, 3, 3)`` from the UMAT's Jaumann DDSDDE: the
        spatial tangent :math:`c = \\mathbb C^{\\tau J}/J - \\tfrac12(\\delta\\sigma + \\ldots)`, pulled back to
        :math:`\\partial S/\\partial E`, then :func:`constitutive.kinematics.material_to_first_elasticity`."""
        F = as_tensor(F, dtype=self.dtype)
        sigma, C = self.cauchy_and_abaqus_tangent(F)
        return self._to_first_elasticity(F, sigma, C)


# ------------------------------------------------------------------------------------------- finite-strain helpers
def _log_increment(F0: np.ndarray, F1: np.ndarray, slots: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """``(DSTRAN (n, NTENS), DROT (n, 3, 3))``: ΔF = F1 F0⁻¹ = ΔV ΔR, DSTRAN = ln ΔV (engineering shear), DROT = ΔR."""
    dF = F1 @ np.linalg.inv(F0)
    b = dF @ np.swapaxes(dF, -1, -2)
    w, Q = np.linalg.eigh(b)
    if (w <= 0).any():
        raise ValueError("the incremental deformation gradient is singular")
    lnV = (Q * (0.5 * np.log(w))[..., None, :]) @ np.swapaxes(Q, -1, -2)
    Vinv = (Q * (1.0 / np.sqrt(w))[..., None, :]) @ np.swapaxes(Q, -1, -2)
    R = Vinv @ dF
    d = np.stack([lnV[:, i, j] * (1.0 if i == j else 2.0) for i, j in slots], axis=-1)
    return d, R


def _rotate_vectors(v: np.ndarray, R: np.ndarray, slots: Sequence[tuple[int, int]], shear: float) -> np.ndarray:
    """Rotate Abaqus vectors ``(n, NTENS)`` as tensors, ``R A Rᵀ`` (``shear`` 2 for engineering strain)."""
    n = v.shape[0]
    A = np.zeros((n, 3, 3))
    for k, (i, j) in enumerate(slots):
        w = 1.0 if i == j else 1.0 / shear
        A[:, i, j] = v[:, k] * w
        A[:, j, i] = v[:, k] * w
    B = R @ A @ np.swapaxes(R, -1, -2)
    return np.stack([B[:, i, j] * (1.0 if i == j else shear) for i, j in slots], axis=-1)
