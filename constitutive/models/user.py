r"""User-defined models from a strain-energy function or a stress function alone; tangents by automatic
differentiation.

.. code-block:: python

    from constitutive.models import from_energy
    from constitutive.tensor import trace, ddot

    def psi(eps, lmbda, mu):  # one point: eps is (3, 3), parameters are 0-d tensors
        return 0.5 * lmbda * trace(eps) ** 2 + mu * ddot(eps, eps)

    model = from_energy(psi, parameters={"lmbda": 121e3, "mu": 81e3}, name="MyElastic")
    sigma, C = model.stress(eps), model.tangent(eps)  # eps: (..., 3, 3)

Conventions:

* ``psi(strain, **parameters)`` maps **one** symmetric ``(3, 3)`` strain to a scalar; ``fn(strain, **parameters)``
  maps one ``(3, 3)`` strain to a ``(3, 3)`` stress. Both are applied to batches with ``torch.func.vmap``, so they
  must use torch operations without data-dependent Python control flow (use ``torch.where``, not ``if``).
* The stress of an energy model is :math:`\partial\psi/\partial\varepsilon` on Sym and its tangent
  :math:`\partial^2\psi/\partial\varepsilon\partial\varepsilon` (:func:`constitutive.tangent.hessian`: minor- and
  major-symmetric); the tangent of a stress model is :func:`constitutive.tangent.jacobian` of the stress, in the
  ``"symmetric"`` convention. Which strain and stress these are is the user's choice (``strain_measure``,
  ``stress_measure``): small strain and σ by default; Green--Lagrange E and S for a hyperelastic energy ψ(E).
* ``from_energy(psi, kinematics="finite")`` takes ``psi(C, **parameters)`` of the right Cauchy--Green tensor
  :math:`C = F^TF` of one point instead and returns a full hyperelastic model
  (:class:`~constitutive.models.HyperelasticMaterial`: S, dS/dE, P, A, σ, the Abaqus tangent, nominal stresses).
* Parameters are stored as tensors (``Material._param``) and passed to the function by keyword, so gradients of
  stresses and tangents with respect to them flow (calibration); a tensor with ``requires_grad`` is kept as is.

The returned model is an instance of a class created for it, named ``name`` and registered like every model, so
``to_dict``/``from_dict``, ``with_parameters`` and TOML ``save``/``load`` work within the Python session that
defined it (the function itself is code, not data: it is not written to the file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Literal, cast, overload

import torch
from torch.func import grad, vmap

from ..tangent import hessian, jacobian
from ..tensor import DEFAULT_DTYPE, Tensor, TensorLike, check_finite
from .base import MODELS, Material
from .hyperelastic import HyperelasticMaterial
from .parameters import Parameter

__all__ = ["from_energy", "from_stress"]


class _UserMaterial(Material):
    """Shared machinery: parameters declared by the class factory, validated by name."""

    _defaults: ClassVar[dict[str, Any]] = {}
    _positive: ClassVar[frozenset[str]] = frozenset()
    isotropic: ClassVar[bool] = False

    def __init__(
        self,
        *,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
        **parameters: TensorLike,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        unknown = set(parameters) - set(self._defaults)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: unknown parameter(s) {sorted(unknown)}; its parameters are "
                f"{list(self._defaults)}"
            )
        for name, default in self._defaults.items():
            value = parameters.get(name, default)
            if value is None:
                raise ValueError(f"{type(self).__name__}: parameter {name!r} is required (no default given)")
            self._param(name, value, positive=name in self._positive)

    def _point_strain(self, strain: TensorLike) -> tuple[Tensor, Tensor]:
        """Validated strain (model dtype) and its ``(n, 3, 3)`` flattening."""
        eps = self.check_strain(strain).to(dtype=self.dtype, device=self.device)
        return eps, eps.reshape(-1, 3, 3)


class _UserEnergyMaterial(_UserMaterial):
    r"""Base of models made by :func:`from_energy` (stress = ∂ψ/∂ε on Sym, tangent = its Hessian)."""

    _psi: ClassVar[Callable[..., Tensor]]

    def _energy_point(self, strain: Tensor) -> Tensor:
        value = type(self)._psi(strain, **self._params)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise ValueError(f"{type(self).__name__}: the energy function must return a scalar tensor")
        return value.reshape(())

    def energy(self, strain: TensorLike) -> Tensor:
        """:math:`\\psi(\\varepsilon)` ``(...)``."""
        eps, flat = self._point_strain(strain)
        out = vmap(self._energy_point)(flat).reshape(eps.shape[:-2])
        check_finite(out, "energy")
        return out

    def stress(self, strain: TensorLike) -> Tensor:
        """Gradient of the energy on Sym, :math:`\\operatorname{sym}(\\partial\\psi/\\partial\\varepsilon)`."""
        eps, flat = self._point_strain(strain)
        g = vmap(grad(self._energy_point))(flat)
        out = (0.5 * (g + g.transpose(-1, -2))).reshape(eps.shape)
        check_finite(out, "stress")
        return out

    def tangent(self, strain: TensorLike) -> Tensor:
        """Second derivative of the energy on Sym ``(..., 3, 3, 3, 3)`` (:func:`constitutive.tangent.hessian`)."""
        eps, _ = self._point_strain(strain)
        return hessian(self._energy_point, eps)[1]

    def stress_and_tangent(self, strain: TensorLike) -> tuple[Tensor, Tensor]:
        eps, _ = self._point_strain(strain)
        return hessian(self._energy_point, eps)


class _UserFiniteEnergyMaterial(_UserMaterial, HyperelasticMaterial):
    r"""Base of models made by ``from_energy(psi, kinematics="finite")``: ``psi(C, **parameters)`` of the right
    Cauchy--Green tensor :math:`C = F^TF = I + 2E` of one point; :math:`S = \partial\psi/\partial E = 2\,
    \partial\psi/\partial C` and :math:`\mathbb{C} = \partial^2\psi/\partial E\partial E` on Sym by
    :func:`constitutive.tangent.hessian`; every F-based measure and ``nominal_stress`` from
    :class:`~constitutive.models.HyperelasticMaterial`."""

    _psi: ClassVar[Callable[..., Tensor]]

    def _energy_point(self, strain: Tensor) -> Tensor:
        C = torch.eye(3, dtype=strain.dtype, device=strain.device) + 2.0 * strain
        value = type(self)._psi(C, **self._params)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise ValueError(f"{type(self).__name__}: the energy function must return a scalar tensor")
        return value.reshape(())

    def energy(self, strain: TensorLike) -> Tensor:
        r""":math:`\psi(C(E))` ``(...)`` for Green--Lagrange strains ``(..., 3, 3)``."""
        E, flat = self._point_strain(strain)
        out = vmap(self._energy_point)(flat).reshape(E.shape[:-2])
        check_finite(out, "energy")
        return out

    def _response(self, strain: TensorLike, tangent: bool) -> tuple[Tensor, Tensor | None]:
        E, flat = self._point_strain(strain)
        if tangent:
            return hessian(self._energy_point, E)
        g = vmap(grad(self._energy_point))(flat)
        S = (0.5 * (g + g.transpose(-1, -2))).reshape(E.shape)
        check_finite(S, "stress")
        return S, None

    def _psi_principal(self, c: Tensor) -> Tensor:
        # nominal_stress: the principal stretches along x, y, z (C = diag(c)); batched by _scalar_derivatives' vmap.
        return type(self)._psi(torch.diag_embed(c), **self._params).reshape(c.shape[:-1])

    @property
    def initial_shear_modulus(self) -> Tensor:
        return self._moduli()[0]

    @property
    def initial_bulk_modulus(self) -> Tensor:
        return self._moduli()[1]

    def _moduli(self) -> tuple[Tensor, Tensor]:
        E0 = torch.zeros(3, 3, dtype=self.dtype, device=self.device)
        CC = hessian(self._energy_point, E0)[1]
        return CC[0, 1, 0, 1], (CC[0, 0, 0, 0] + 2.0 * CC[0, 0, 1, 1]) / 3.0


class _UserStressMaterial(_UserMaterial):
    """Base of models made by :func:`from_stress` (tangent = Jacobian of the stress on Sym)."""

    _fn: ClassVar[Callable[..., Tensor]]

    def _stress_point(self, strain: Tensor) -> Tensor:
        value = type(self)._fn(strain, **self._params)
        if not isinstance(value, Tensor) or tuple(value.shape) != (3, 3):
            shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
            raise ValueError(f"{type(self).__name__}: the stress function must return a (3, 3) tensor, got {shape}")
        return value

    def stress(self, strain: TensorLike) -> Tensor:
        eps, flat = self._point_strain(strain)
        out = vmap(self._stress_point)(flat).reshape(eps.shape)
        check_finite(out, "stress")
        return out

    def tangent(self, strain: TensorLike) -> Tensor:
        """:func:`constitutive.tangent.jacobian` of the stress, 'symmetric' convention, ``(..., 3, 3, 3, 3)``."""
        eps, _ = self._point_strain(strain)
        return cast(Tensor, jacobian(self._stress_point, eps))  # return_value=False: the tangent alone

    def stress_and_tangent(self, strain: TensorLike) -> tuple[Tensor, Tensor]:
        eps, _ = self._point_strain(strain)
        s, C = jacobian(self._stress_point, eps, return_value=True)
        return s, C


def _make_class(
    base: type[_UserMaterial],
    function_slot: str,
    function: Callable[..., Tensor],
    parameters: Mapping[str, TensorLike] | None,
    name: str,
    strain_measure: str | None,
    stress_measure: str | None,
    positive: Iterable[str],
    isotropic: bool,
) -> type[_UserMaterial]:
    if not callable(function):
        raise ValueError(f"expected a function, got {type(function).__name__}")
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"name must be a Python identifier not starting with '_', got {name!r}")
    existing = MODELS.get(name)
    if existing is not None and not issubclass(existing, _UserMaterial):
        raise ValueError(f"name {name!r} is a built-in model; choose another name for a user-defined model")
    if parameters is not None and not isinstance(parameters, Mapping):
        raise ValueError(f"parameters must be a mapping {{name: value}}, got {type(parameters).__name__}")
    defaults: dict[str, Any] = dict(parameters or {})
    for p in defaults:
        if not isinstance(p, str) or not p.isidentifier():
            raise ValueError(f"parameter names must be identifiers, got {p!r}")
        if p in ("dtype", "device") or hasattr(Material, p) or hasattr(base, p) or p.startswith("_"):
            raise ValueError(f"parameter name {p!r} is reserved (a Material attribute or keyword); rename it")
    positive = frozenset(positive)
    if not positive <= set(defaults):
        raise ValueError(f"positive names unknown parameter(s) {sorted(positive - set(defaults))}")
    namespace: dict[str, Any] = {
        function_slot: staticmethod(function),
        "_defaults": defaults,
        "_positive": positive,
        "isotropic": bool(isotropic),
        "__doc__": (function.__doc__ or f"User-defined model {name}."),
        "__module__": getattr(function, "__module__", __name__),
    }
    for p, value in defaults.items():  # declarations: what describe_models() and calibration bounds read
        namespace[p] = Parameter(
            f"parameter {p} of the user-defined model",
            unit="user units",
            lower=0.0 if p in positive else None,
            lower_open=True,
            default=value if isinstance(value, (int, float)) and not isinstance(value, bool) else None,
            shape=None,
        )
    if strain_measure is not None:
        namespace["strain_measure"] = strain_measure
    if stress_measure is not None:
        namespace["stress_measure"] = stress_measure
    return type(name, (base,), namespace)  # registered in MODELS by Material.__init_subclass__


#: What ``from_energy(kinematics=...)`` accepts: the energy of a small strain (or any strain measure the user
#: names), or the finite-strain energy of the right Cauchy--Green tensor C.
KINEMATICS: tuple[str, ...] = ("small", "finite")


@overload
def from_energy(
    psi: Callable[..., Tensor],
    parameters: Mapping[str, TensorLike] | None = ...,
    *,
    kinematics: Literal["small"] = ...,
    name: str = ...,
    strain_measure: str | None = ...,
    stress_measure: str | None = ...,
    positive: Iterable[str] = ...,
    isotropic: bool = ...,
    dtype: torch.dtype = ...,
    device: torch.device | str | None = ...,
) -> _UserEnergyMaterial: ...
@overload
def from_energy(
    psi: Callable[..., Tensor],
    parameters: Mapping[str, TensorLike] | None = ...,
    *,
    kinematics: Literal["finite"],
    name: str = ...,
    strain_measure: str | None = ...,
    stress_measure: str | None = ...,
    positive: Iterable[str] = ...,
    isotropic: bool = ...,
    dtype: torch.dtype = ...,
    device: torch.device | str | None = ...,
) -> _UserFiniteEnergyMaterial: ...
def from_energy(
    psi: Callable[..., Tensor],
    parameters: Mapping[str, TensorLike] | None = None,
    *,
    kinematics: str = "small",
    name: str = "UserEnergyModel",
    strain_measure: str | None = None,
    stress_measure: str | None = None,
    positive: Iterable[str] = (),
    isotropic: bool = False,
    dtype: torch.dtype = DEFAULT_DTYPE,
    device: torch.device | str | None = None,
) -> _UserEnergyMaterial | _UserFiniteEnergyMaterial:
    r"""A model from a strain-energy function; stress and tangent by automatic differentiation.

    Parameters
    ----------
    psi:
        ``psi(strain, **parameters) -> scalar``, for one ``(3, 3)`` strain (vmapped over batches); with
        ``kinematics="finite"``, ``psi(C, **parameters)`` of the right Cauchy--Green tensor :math:`C = F^TF` of one
        point.
    kinematics:
        ``"small"`` (default): a map on the strain ``psi`` takes, stress :math:`\partial\psi/\partial\varepsilon`,
        tangent its Hessian on Sym. ``"finite"``: a full hyperelastic model
        (:class:`~constitutive.models.HyperelasticMaterial`): ``stress``/``tangent`` of the Green--Lagrange strain
        (:math:`S = 2\partial\psi/\partial C`, :math:`\partial S/\partial E`), ``first_piola``/
        ``first_elasticity``, ``cauchy``/``abaqus_tangent``, ``second_piola``/``material_tangent`` of ``F``, and
        ``nominal_stress(stretch, mode)`` with the stretches along the x, y, z axes (:math:`C` diagonal; exact for
        isotropic energies and for energies orthotropic in those axes). The energy is taken as written (no
        isochoric split): an energy without a volumetric part, e.g. :math:`\tfrac\mu2(\operatorname{tr}C - 3)`,
        is meaningful through ``nominal_stress`` only (incompressible deformations). Driven by the driver's
        finite-strain paths and fitted to rubber data by ``calibrate``; no Abaqus card (``ValueError``).
    parameters:
        ``{name: value}``: values (numbers, lists, tensors -- a tensor that requires grad is kept as is) are
        checked to be finite and stored as tensors; ``type(model)(**new_values)`` or ``model.with_parameters``
        builds more instances.
    name:
        Class name of the model (used by ``to_dict``/``save``); must not be a built-in model's name.
    strain_measure, stress_measure:
        Descriptions of the strain the energy takes and the stress it yields (defaults: small strain, σ; with
        ``kinematics="finite"`` they are fixed, Green--Lagrange E and S, and may not be given).
    positive:
        Names of parameters that must be positive (``ValueError`` otherwise, naming the parameter).
    isotropic:
        Declare the response isotropic (used by the objectivity tests).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).

    Returns an instance of a new :class:`~constitutive.models.Material` subclass called ``name``.
    """
    if kinematics not in KINEMATICS:
        raise ValueError(f"unknown kinematics {kinematics!r}; choose one of {KINEMATICS}")
    base: type[_UserMaterial] = _UserEnergyMaterial
    if kinematics == "finite":
        if strain_measure is not None or stress_measure is not None:
            raise ValueError(
                "kinematics='finite' fixes the measures (Green-Lagrange E, second Piola-Kirchhoff S): "
                "give neither strain_measure nor stress_measure"
            )
        base = _UserFiniteEnergyMaterial
    cls = _make_class(base, "_psi", psi, parameters, name, strain_measure, stress_measure, positive, isotropic)
    return cls(dtype=dtype, device=device)  # type: ignore[return-value]


def from_stress(
    fn: Callable[..., Tensor],
    parameters: Mapping[str, TensorLike] | None = None,
    *,
    name: str = "UserStressModel",
    strain_measure: str | None = None,
    stress_measure: str | None = None,
    positive: Iterable[str] = (),
    isotropic: bool = False,
    dtype: torch.dtype = DEFAULT_DTYPE,
    device: torch.device | str | None = None,
) -> _UserStressMaterial:
    """A model from a stress function ``fn(strain, **parameters) -> (3, 3)`` for one point (vmapped over
    batches); the tangent is its Jacobian on Sym by automatic differentiation. The tangent is major-symmetric only
    if ``fn`` derives from an energy.

    Parameters
    ----------
    fn:
        ``fn(strain, **parameters) -> (3, 3)`` stress, for one ``(3, 3)`` strain (vmapped over batches).
    parameters, name, strain_measure, stress_measure, positive, isotropic:
        As in :func:`from_energy` (default ``name``: ``"UserStressModel"``).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).

    Returns an instance of a new :class:`~constitutive.models.Material` subclass called ``name``."""
    cls = _make_class(
        _UserStressMaterial, "_fn", fn, parameters, name, strain_measure, stress_measure, positive, isotropic
    )
    return cls(dtype=dtype, device=device)  # type: ignore[return-value]
