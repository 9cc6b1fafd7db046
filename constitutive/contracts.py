r"""The interfaces a model offers, as :class:`typing.Protocol` classes: what the driver, the tangent check, export
and calibration call, named once.

Three kinds of model:

* :class:`SmallStrainModel` -- a stress map on symmetric strains of the measure it names (``strain_measure``): small
  strain :math:`\varepsilon \mapsto \sigma`, or Green--Lagrange :math:`E \mapsto S` for a hyperelastic model used as
  a map on :math:`E`; ``stress(strain)`` ``(..., 3, 3)`` and ``tangent(strain)`` ``(..., 3, 3, 3, 3)``
  (:math:`\partial\sigma/\partial\varepsilon` on Sym, minor-symmetric).
* :class:`PathDependentModel` -- a :class:`SmallStrainModel` with history: ``state_shapes()``,
  ``initial_state(batch)``, ``check_state(state, batch)`` and ``update(strain, state, dt) -> (stress, new_state,
  consistent tangent)``, the state a ``dict[str, Tensor]`` with the batch axes in front.
* :class:`FiniteHistoryModel` -- a :class:`PathDependentModel` that also updates its history along F-controlled
  paths (``first_piola_update(F, state, dt)``; a finite-strain UMAT).
* :class:`FiniteStrainModel` -- a hyperelastic model driven by the deformation gradient :math:`F` ``(..., 3, 3)``:
  first Piola :math:`P` and first elasticity :math:`\mathbb{A} = \partial P/\partial F` (the driver's
  finite-strain paths need only these two: :class:`FirstPiolaModel`), :math:`S` and :math:`\partial S/\partial
  E` (CalculiX export), Cauchy :math:`\sigma` and the Abaqus tangent :math:`\mathbb{C}^{\tau J}` (Abaqus
  export), and ``nominal_stress(stretch, mode)`` for homogeneous incompressible rubber tests (calibration;
  :class:`NominalStressModel` alone).

Every :class:`constitutive.models.Material` is a :class:`SmallStrainModel`, every
:class:`~constitutive.models.PathDependentMaterial` (:class:`constitutive.umat.UMAT` included) a
:class:`PathDependentModel`, every :class:`~constitutive.models.HyperelasticMaterial` a :class:`FiniteStrainModel`;
but a model need not inherit from them: the protocols are structural (``isinstance`` checks that the members exist,
not their signatures). :func:`require` turns a missing member into a ``TypeError`` that names the model, what it
lacks and what the caller needed it for. This module sits below :mod:`constitutive.check` (which uses it) and
imports nothing of the package but the tensor type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import torch

from .tensor import Tensor

__all__ = [
    "StressTangentMap",
    "SmallStrainModel",
    "PathDependentModel",
    "FiniteHistoryModel",
    "NominalStressModel",
    "FirstPiolaModel",
    "FiniteStrainModel",
    "is_path_dependent",
    "is_finite_strain",
    "missing_members",
    "require",
]


@runtime_checkable
class StressTangentMap(Protocol):
    """The least a model needs to be driven on small-strain paths: ``stress(strain)`` ``(..., 3, 3)`` and
    ``tangent(strain)`` ``(..., 3, 3, 3, 3)`` for strains ``(..., 3, 3)``."""

    def stress(self, strain: Any) -> Tensor: ...

    def tangent(self, strain: Any) -> Tensor: ...


@runtime_checkable
class SmallStrainModel(StressTangentMap, Protocol):
    """A model on symmetric strains (see the module docstring): stress, tangent, both at once, the strain check,
    the measures it works in, its floating dtype/device and its parameter record ``to_dict()``."""

    strain_measure: str
    stress_measure: str
    dtype: torch.dtype
    device: torch.device

    def stress_and_tangent(self, strain: Any) -> tuple[Tensor, Tensor]: ...

    def check_strain(self, strain: Any, name: str = ...) -> Tensor: ...

    def to_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class PathDependentModel(SmallStrainModel, Protocol):
    """A model with history (see the module docstring); ``update`` never mutates ``state``."""

    def state_shapes(self) -> dict[str, tuple[int, ...]]: ...

    def initial_state(self, batch_shape: tuple[int, ...] | torch.Size = ...) -> dict[str, Tensor]: ...

    def check_state(
        self, state: Mapping[str, Tensor], batch: tuple[int, ...] | torch.Size
    ) -> tuple[dict[str, Tensor], torch.Size]: ...

    def update(
        self, strain: Any, state: Mapping[str, Tensor], dt: float | Tensor | None = ...
    ) -> tuple[Tensor, dict[str, Tensor], Tensor]: ...


@runtime_checkable
class FiniteHistoryModel(PathDependentModel, Protocol):
    """A path-dependent model that also carries its history along F-controlled paths (a finite-strain
    :class:`constitutive.umat.UMAT`): ``first_piola_update(F, state, dt) -> (P, new_state, A)``."""

    def first_piola_update(
        self, F: Any, state: Mapping[str, Tensor], dt: float | Tensor | None = ...
    ) -> tuple[Tensor, dict[str, Tensor], Tensor]: ...


@runtime_checkable
class NominalStressModel(Protocol):
    """``nominal_stress(stretch, mode)``: nominal stress ``(...)`` of a homogeneous incompressible deformation
    (``mode`` one of ``"uniaxial"``, ``"equibiaxial"``, ``"pure_shear"``) for stretches ``(...)``."""

    def nominal_stress(self, stretch: Any, mode: str = ...) -> Tensor: ...


@runtime_checkable
class FirstPiolaModel(Protocol):
    r"""What the driver's finite-strain paths call: ``first_piola(F)`` :math:`P` ``(..., 3, 3)`` and
    ``first_elasticity(F)`` :math:`\mathbb{A} = \partial P/\partial F` ``(..., 3, 3, 3, 3)`` (also offered by a
    finite-strain :class:`constitutive.umat.UMAT`)."""

    def first_piola(self, F: Any) -> Tensor: ...

    def first_elasticity(self, F: Any) -> Tensor: ...


@runtime_checkable
class FiniteStrainModel(FirstPiolaModel, Protocol):
    r"""A hyperelastic model of the deformation gradient ``F`` ``(..., 3, 3)``, :math:`\det F > 0`: every map
    returns ``(..., 3, 3)`` stresses or ``(..., 3, 3, 3, 3)`` tangents (:mod:`constitutive.kinematics` names the
    measures), and ``nominal_stress`` as :class:`NominalStressModel`."""

    dtype: torch.dtype

    def first_piola_and_elasticity(self, F: Any) -> tuple[Tensor, Tensor]: ...

    def second_piola(self, F: Any) -> Tensor: ...

    def material_tangent(self, F: Any) -> Tensor: ...

    def cauchy(self, F: Any) -> Tensor: ...

    def abaqus_tangent(self, F: Any) -> Tensor: ...

    def cauchy_and_abaqus_tangent(self, F: Any) -> tuple[Tensor, Tensor]: ...

    def nominal_stress(self, stretch: Any, mode: str = ...) -> Tensor: ...

    def to_dict(self) -> dict[str, Any]: ...


def is_path_dependent(model: object) -> bool:
    """Whether ``model`` offers the :class:`PathDependentModel` interface (history through ``update``)."""
    return isinstance(model, PathDependentModel)


def is_finite_strain(model: object) -> bool:
    """Whether ``model`` offers the :class:`FiniteStrainModel` interface (maps of ``F``)."""
    return isinstance(model, FiniteStrainModel)


def _members(protocol: type) -> tuple[str, ...]:
    """The public members a protocol declares (its own and its bases'): methods in declaration order, then
    attributes."""
    names: dict[str, None] = {}
    for cls in reversed(protocol.__mro__):
        if cls in (object, Protocol) or not getattr(cls, "_is_protocol", False):
            continue
        for name in (*vars(cls), *getattr(cls, "__annotations__", {})):
            if not name.startswith("_"):
                names[name] = None
    return tuple(names)


def missing_members(model: object, protocol: type) -> list[str]:
    """The members of ``protocol`` that ``model`` lacks (empty when it satisfies the protocol)."""
    return [name for name in _members(protocol) if not hasattr(model, name)]


def require(model: object, protocol: type, purpose: str, error: type[Exception] = TypeError) -> None:
    """Raise ``error`` (``TypeError`` by default) unless ``model`` satisfies ``protocol``; the message names the
    model's class, the members it lacks and ``purpose``, what the caller needed them for (e.g. ``"a finite-strain
    path"``)."""
    missing = missing_members(model, protocol)
    if missing:
        raise error(
            f"{type(model).__name__} has no {', '.join(missing)}: {purpose} needs a model with "
            f"{', '.join(_members(protocol))} (the {protocol.__name__} interface, constitutive.contracts)"
        )
