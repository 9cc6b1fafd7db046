r"""Temperature: temperature-dependent parameters, thermal strain and the temperature tangent dσ/dT (DDSDDT) for
every small-strain model.

Conventions, named once (Abaqus's, so that a material here and an Abaqus/CalculiX input deck agree):

* **Temperature** is in the user's unit (°C or K): only differences and the reference temperature matter.
* **Tables** (:class:`TemperatureTable`): piecewise-linear in T through the points :math:`(T_k, v_k)`, ``T_k``
  strictly increasing, **constant outside** :math:`[T_0, T_{last}]` (Abaqus's convention for temperature-dependent
  data). Its derivative in T is the slope of the interval that holds T; at a tabulated temperature the interval
  above it (at :math:`T_{last}` the one below), zero outside the table.
* **Thermal strain** with the **secant** expansion coefficient α(T) (Abaqus ``*EXPANSION``, ``ZERO`` = the
  reference temperature :math:`T_{ref}`) and the initial temperature :math:`T_I` (the temperature at which the
  thermal strain is zero):

  .. math::
      \varepsilon^{th}(T) = \big[\alpha(T)\,(T - T_{ref}) - \alpha(T_I)\,(T_I - T_{ref})\big]\, I.

  A secant α is not the instantaneous coefficient: the thermal elongation from :math:`T_{ref}` is
  :math:`\alpha(T)(T - T_{ref})`, so a measured elongation curve :math:`\Delta l/l\,(T)` gives
  :math:`\alpha(T) = (\Delta l/l)(T) / (T - T_{ref})`.
* **Backward Euler in temperature**: an increment from the state at :math:`(\varepsilon_n, T_n)` to
  :math:`(\varepsilon_{n+1}, T_{n+1})` evaluates every parameter at :math:`T_{n+1}` and integrates the wrapped model
  from its state with the mechanical strain :math:`\varepsilon_{n+1} - \varepsilon^{th}(T_{n+1})`. The state
  records the temperature (``state["temperature"]``), so the next increment starts from :math:`T_{n+1}`.
* **DDSDDT** (:meth:`ThermoMechanical.update_thermal`): the derivative of the updated stress with respect to
  :math:`T_{n+1}` at fixed total strain and fixed start-of-step state,

  .. math::
      \frac{d\sigma}{dT} = -\mathbb{C}^{alg} : \frac{d\varepsilon^{th}}{dT}
          + \sum_p \frac{\partial\sigma}{\partial p}\,\frac{dp}{dT},
      \qquad \frac{d\varepsilon^{th}}{dT} = \big[\alpha'(T)(T - T_{ref}) + \alpha(T)\big] I,

  with :math:`\mathbb{C}^{alg}` the wrapped model's consistent tangent and :math:`\partial\sigma/\partial p` the
  exact implicit derivative of its return map (the converged unknowns re-expressed as one Newton step,
  :func:`~.returnmap.differentiable_solution`). Both terms come from one reverse-mode pass through the update and
  one more through its gradient (the double-backward form of a forward derivative: with
  :math:`g(u) = \partial(u : \sigma)/\partial T`, linear in the seed ``u``, :math:`d\sigma/dT = \partial g/\partial
  u`), for any batch at once.

Limitations: parameters are scalars of the wrapped model, so with temperature-dependent parameters a batch whose
points have different temperatures is updated once per distinct temperature (its cost grows with the number of
distinct temperatures; per-point temperatures cost nothing extra for the thermal strain alone). Thermal expansion
is refused for models whose strain is not the small strain (hyperelastic, finite-strain J2: their kinematics would
need :math:`F = F_m F_{th}`); temperature-dependent parameters work for them. Models that take the temperature
themselves (``temperature_dependent = True``, e.g. a UMAT) are not wrapped.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, overload

import torch

from ..tensor import Tensor, TensorLike, as_tensor
from .base import Material, PathDependentMaterial

__all__ = [
    "TemperatureTable",
    "TemperatureFunction",
    "ThermoMechanical",
    "as_temperature_dependence",
]

#: The strain measure of small-strain models (:attr:`Material.strain_measure`); thermal expansion needs it.
_SMALL_STRAIN = "small strain"


def _number(value: Any, name: str) -> float:
    """A finite real number, or ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, Tensor) and value.numel() == 1 and value.is_floating_point():
            value = float(value.detach().reshape(()))
        else:
            raise ValueError(f"{name} must be a real number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


class TemperatureTable:
    r"""A value tabulated against temperature: piecewise-linear through :math:`(T_k, v_k)`, constant outside
    :math:`[T_0, T_{last}]` (Abaqus's convention).

    Parameters
    ----------
    temperatures:
        ``(n,)`` strictly increasing finite temperatures, ``n >= 1`` (one point: a constant).
    values:
        ``(n,)`` finite values, one per temperature; or ``(n, *shape)`` for a parameter with a shape (e.g. the
        moduli of a Chaboche series), interpolated entrywise.

    Calling the table on ``T`` (any shape) returns ``T.shape + shape`` in ``T``'s floating dtype (float64 for other
    inputs), differentiable in ``T`` (the slope of the interval that holds T; zero outside the table).
    Attributes ``temperatures`` and ``values`` are float64 tensors.
    """

    def __init__(self, temperatures: TensorLike, values: TensorLike) -> None:
        try:
            t = as_tensor(temperatures, dtype=torch.float64).detach().cpu()
            v = as_tensor(values, dtype=torch.float64).detach().cpu()
        except (TypeError, ValueError) as err:
            raise ValueError(f"temperature table: temperatures and values must be numbers ({err})") from None
        if t.ndim != 1 or t.numel() == 0:
            raise ValueError(
                f"temperature table: temperatures must be a non-empty 1-d list, got shape {tuple(t.shape)}"
            )
        if v.ndim == 0 or v.shape[0] != t.shape[0]:
            raise ValueError(
                f"temperature table: one value per temperature, got {t.shape[0]} temperatures and values of shape "
                f"{tuple(v.shape)}"
            )
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"temperature table: temperatures must be finite, got {t.tolist()}")
        if not bool(torch.isfinite(v).all()):
            raise ValueError(f"temperature table: values must be finite, got {v.tolist()}")
        if t.numel() > 1 and not bool((t[1:] > t[:-1]).all()):
            raise ValueError(f"temperature table: temperatures must be strictly increasing, got {t.tolist()}")
        self.temperatures: Tensor = t
        self.values: Tensor = v

    @property
    def value_shape(self) -> tuple[int, ...]:
        """The shape of one value (``()`` for a scalar parameter)."""
        return tuple(self.values.shape[1:])

    def __call__(self, T: TensorLike) -> Tensor:
        """The value at ``T`` (any shape): ``T.shape + value_shape``, differentiable in ``T``."""
        Tt = as_tensor(T)
        if not Tt.is_floating_point():
            Tt = Tt.to(torch.float64)
        tk = self.temperatures.to(dtype=Tt.dtype, device=Tt.device)
        vk = self.values.to(dtype=Tt.dtype, device=Tt.device)
        ones = (1,) * len(self.value_shape)  # trailing axes of the value
        if tk.numel() == 1:
            return vk[0] + torch.zeros_like(Tt).reshape(Tt.shape + ones)
        # clamp: constant outside the table (and a zero derivative there)
        Tc = Tt.clamp(min=float(tk[0]), max=float(tk[-1]))
        k = (torch.searchsorted(tk, Tc.detach().contiguous(), right=True) - 1).clamp(0, tk.numel() - 2)
        t0, t1 = tk[k], tk[k + 1]
        w = ((Tc - t0) / (t1 - t0)).reshape(Tt.shape + ones)
        return vk[k] + w * (vk[k + 1] - vk[k])

    def to_dict(self) -> dict[str, Any]:
        """``{"temperature": [...], "value": [...]}`` (plain numbers)."""
        return {"temperature": self.temperatures.tolist(), "value": self.values.tolist()}

    def __repr__(self) -> str:
        return f"TemperatureTable(temperatures={self.temperatures.tolist()}, values={self.values.tolist()})"


class TemperatureFunction:
    """A user function of temperature, ``value = function(T)`` (torch operations, elementwise in ``T``, so that it
    is differentiable and batched).

    ``function`` is a callable or a ``"package.module:name"`` string (imported). ``reference``: the importable
    ``"package.module:name"`` of the callable; with it the dependence is serialisable
    (``to_dict() -> {"function": reference}``), without it :meth:`to_dict` raises ``ValueError``.
    """

    def __init__(self, function: Callable[[Tensor], Tensor] | str, reference: str | None = None) -> None:
        if isinstance(function, str):
            reference = reference or function
            function = _import_reference(function)
        if not callable(function):
            raise ValueError(f"temperature function must be callable, got {type(function).__name__}")
        if reference is not None:
            target = _import_reference(reference)
            if not callable(target):
                raise ValueError(f"temperature function reference {reference!r} does not name a callable")
        self.function = function
        self.reference = reference

    def __call__(self, T: TensorLike) -> Tensor:
        """``function(T)`` as a tensor (``ValueError`` if it is not one, or not finite)."""
        Tt = as_tensor(T)
        if not Tt.is_floating_point():
            Tt = Tt.to(torch.float64)
        out = self.function(Tt)
        if not isinstance(out, Tensor):
            out = as_tensor(out, dtype=Tt.dtype, device=Tt.device)
        if out.ndim < Tt.ndim or tuple(out.shape[: Tt.ndim]) != tuple(Tt.shape):
            out = out + torch.zeros_like(Tt).reshape(Tt.shape + (1,) * out.ndim)  # a constant: T's shape
        if not bool(torch.isfinite(out.detach()).all()):
            raise ValueError(f"temperature function {self.name} returned non-finite values at T = {_show(Tt)}")
        return out

    @property
    def name(self) -> str:
        """The reference, or the function's name."""
        if self.reference is not None:
            return self.reference
        return str(getattr(self.function, "__qualname__", repr(self.function)))

    def to_dict(self) -> dict[str, Any]:
        """``{"function": "package.module:name"}``; ``ValueError`` without a reference."""
        if self.reference is None:
            raise ValueError(
                f"temperature function {self.name} cannot be saved: give reference='package.module:name' (an "
                "importable function) to TemperatureFunction"
            )
        return {"function": self.reference}

    def __repr__(self) -> str:
        return f"TemperatureFunction({self.name})"


def _import_reference(reference: str) -> Any:
    """The object named ``"package.module:name"`` (``ValueError`` naming what failed)."""
    if not isinstance(reference, str) or reference.count(":") != 1:
        raise ValueError(f"a function reference is 'package.module:name', got {reference!r}")
    module, _, attr = reference.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot import the temperature function {reference!r}: {err}") from None
    return obj


def _show(T: Tensor) -> Any:
    d = T.detach().cpu()
    return d.item() if d.numel() == 1 else d.tolist()


Dependence = TemperatureTable | TemperatureFunction


def as_temperature_dependence(value: Any, name: str) -> Dependence:
    """``value`` as a :class:`TemperatureTable` or :class:`TemperatureFunction`: one of those, a mapping
    ``{"temperature": [...], "value": [...]}`` or ``{"function": "package.module:name"}``, or a callable;
    ``ValueError`` naming ``name`` otherwise."""
    if isinstance(value, (TemperatureTable, TemperatureFunction)):
        return value
    if isinstance(value, Mapping):
        keys = set(value)
        try:
            if keys == {"temperature", "value"}:
                return TemperatureTable(value["temperature"], value["value"])
            if keys == {"function"}:
                return TemperatureFunction(value["function"])
        except ValueError as err:
            raise ValueError(f"{name}: {err}") from None
        raise ValueError(
            f"{name}: a temperature dependence is {{temperature = [...], value = [...]}} or "
            f"{{function = 'package.module:name'}}, got the keys {sorted(keys)}"
        )
    if callable(value):
        return TemperatureFunction(value)
    raise ValueError(
        f"{name}: expected a TemperatureTable, a TemperatureFunction, a table {{temperature, value}} or a callable, "
        f"got {type(value).__name__}"
    )


class ThermoMechanical(PathDependentMaterial):
    r"""A small-strain model with temperature: temperature-dependent parameters, thermal strain (secant α) and
    the temperature tangent dσ/dT (Abaqus DDSDDT), wrapping any model of the package.

    The conventions (secant α with reference temperature :math:`T_{ref}` = Abaqus ``ZERO``, initial temperature
    :math:`T_I`, tables constant outside their range, parameters at :math:`T_{n+1}`, DDSDDT) are stated in
    :mod:`constitutive.models.thermal`.

    Parameters
    ----------
    model:
        The wrapped (mechanical) model: elastic or path-dependent, small strain (finite-strain models only without
        ``expansion``).
    parameters:
        ``{name: dependence}`` for any of ``model``'s parameters (a hardening law's included): a
        :class:`TemperatureTable`, a :class:`TemperatureFunction`, a callable, or
        ``{"temperature": [...], "value": [...]}``. Every tabulated value is checked against the parameter's
        declaration (and the model is built at each tabulated temperature); interpolation between admissible values
        stays admissible for the (convex) ranges of the declarations.
    expansion:
        The secant thermal expansion coefficient α(T): a number, a dependence as above, or ``None`` (no thermal
        strain).
    reference_temperature:
        :math:`T_{ref}` (Abaqus ``ZERO``), the temperature from which α measures the thermal strain.
    initial_temperature:
        :math:`T_I`, the temperature of the initial state, at which the thermal strain is zero (default
        :math:`T_{ref}`).

    The state is the wrapped model's plus ``"temperature"`` ``(*B)``, the temperature of the converged state.
    """

    #: The driver passes the temperature to models that say so.
    temperature_dependent: ClassVar[bool] = True

    def __init__(
        self,
        model: Material,
        *,
        parameters: Mapping[str, Any] | None = None,
        expansion: Any = None,
        reference_temperature: float = 0.0,
        initial_temperature: float | None = None,
    ) -> None:
        if not isinstance(model, Material):
            raise ValueError(f"ThermoMechanical wraps a model (a Material), got {type(model).__name__}")
        if isinstance(model, ThermoMechanical):
            raise ValueError("ThermoMechanical: the model already has temperature (do not wrap it twice)")
        if getattr(model, "temperature_dependent", False):
            raise ValueError(
                f"ThermoMechanical: {type(model).__name__} takes the temperature itself (temperature_dependent); "
                "drive it directly"
            )
        super().__init__(dtype=model.dtype, device=model.device)
        self.mechanical: Material = model
        self._params = model._params  # the wrapped model's (read-only view: parameters, repr, calibration)
        self._declarations = model._declarations
        self.strain_measure = model.strain_measure  # type: ignore[misc]  # instance value of the ClassVar
        self.stress_measure = model.stress_measure  # type: ignore[misc]
        self.isotropic = model.isotropic  # type: ignore[misc]
        self.reference_temperature = _number(reference_temperature, "ThermoMechanical: reference_temperature")
        self.initial_temperature = (
            self.reference_temperature
            if initial_temperature is None
            else _number(initial_temperature, "ThermoMechanical: initial_temperature")
        )
        self.expansion: float | Dependence | None = self._expansion(expansion)
        if self.expansion is not None and not model.strain_measure.startswith(_SMALL_STRAIN):
            raise ValueError(
                f"ThermoMechanical: thermal expansion needs a small-strain model; {type(model).__name__} works with "
                f"the {model.strain_measure} (a thermal stretch would need F = F_m F_th, not implemented). "
                "Temperature-dependent parameters without expansion are supported"
            )
        self.dependencies: dict[str, Dependence] = {}
        if parameters is not None and not isinstance(parameters, Mapping):
            raise ValueError(f"ThermoMechanical: parameters must be a dict name -> dependence, got {parameters!r}")
        for name, dep in (parameters or {}).items():
            if name not in model.parameters:
                raise ValueError(
                    f"ThermoMechanical: {type(model).__name__} has no parameter {name!r}; its parameters are "
                    f"{list(model.parameters)}"
                )
            self.dependencies[name] = as_temperature_dependence(dep, f"temperature dependence of {name!r}")
        self._check_tables()

    # --------------------------------------------------------------------------------------- construction
    def _expansion(self, value: Any) -> float | Dependence | None:
        if value is None:
            return None
        if isinstance(value, (int, float, Tensor)) and not isinstance(value, bool):
            return _number(value, "ThermoMechanical: expansion (the secant expansion coefficient)")
        dep = as_temperature_dependence(value, "expansion (the secant expansion coefficient)")
        if isinstance(dep, TemperatureTable) and dep.value_shape != ():
            raise ValueError(
                f"expansion: one coefficient per temperature (a 1-d list of values), got values of shape "
                f"{tuple(dep.values.shape)}"
            )
        return dep

    def _check_tables(self) -> None:
        """Each tabulated value against its parameter's declaration and shape, then the model at every tabulated
        temperature (constraints between parameters) and at T_I (functions)."""
        decls = self.mechanical.parameter_declarations()
        nodes: set[float] = {self.initial_temperature}
        for name, dep in self.dependencies.items():
            if not isinstance(dep, TemperatureTable):
                continue
            shape = tuple(self.mechanical.parameters[name].shape)
            if dep.value_shape != shape:
                raise ValueError(
                    f"temperature table of parameter {name!r}: each value must have the parameter's shape {shape}, "
                    f"got {dep.value_shape}"
                )
            for Tk, vk in zip(dep.temperatures.tolist(), dep.values):
                try:
                    decls[name].validate(vk, self.dtype, self.device, name)
                except ValueError as err:
                    raise ValueError(f"temperature table of parameter {name!r} at T = {Tk:g}: {err}") from None
            nodes.update(dep.temperatures.tolist())
        if self.dependencies:
            for Tk in sorted(nodes):
                try:
                    self.model_at(Tk)
                except ValueError as err:
                    raise ValueError(f"ThermoMechanical: the model at T = {Tk:g} is not admissible: {err}") from None
        if self.expansion is not None:
            self.thermal_strain(torch.tensor(sorted(nodes), dtype=torch.float64))  # finite values

    def with_parameters(self, **changes: TensorLike) -> ThermoMechanical:
        """The same temperature dependence around the wrapped model with some parameters (or options) replaced
        (a temperature-dependent parameter keeps its dependence)."""
        return type(self)(
            self.mechanical.with_parameters(**changes),
            parameters=self.dependencies,
            expansion=self.expansion,
            reference_temperature=self.reference_temperature,
            initial_temperature=self.initial_temperature,
        )

    # -------------------------------------------------------------------------------------- temperature
    def _alpha(self, T: Tensor) -> Tensor:
        assert self.expansion is not None
        if isinstance(self.expansion, float):
            return torch.full_like(T, self.expansion)
        return self.expansion(T)

    def thermal_strain(self, temperature: TensorLike) -> Tensor:
        r""":math:`\varepsilon^{th}(T) = [\alpha(T)(T - T_{ref}) - \alpha(T_I)(T_I - T_{ref})] I`, shape
        ``T.shape + (3, 3)`` (zero without expansion), differentiable in ``T``."""
        T = self._temperature(temperature, "temperature")
        I = torch.eye(3, dtype=T.dtype, device=T.device)
        if self.expansion is None:
            return torch.zeros((*T.shape, 3, 3), dtype=T.dtype, device=T.device)
        TI = torch.tensor(self.initial_temperature, dtype=T.dtype, device=T.device)
        e = self._alpha(T) * (T - self.reference_temperature) - self._alpha(TI) * (TI - self.reference_temperature)
        return e[..., None, None] * I

    def model_at(self, temperature: TensorLike) -> Material:
        """The wrapped model with every temperature-dependent parameter at ``temperature`` (a scalar: a number or a
        0-d tensor; one that requires grad carries the derivative into the parameters)."""
        T = self._temperature(temperature, "temperature")
        if T.numel() != 1:
            raise ValueError(f"model_at takes one temperature (a scalar), got shape {tuple(T.shape)}")
        if not self.dependencies:
            return self.mechanical
        T = T.reshape(())
        values = {name: dep(T).to(self.dtype) for name, dep in self.dependencies.items()}
        return self.mechanical.with_parameters(**values)

    def _temperature(self, temperature: TensorLike, name: str) -> Tensor:
        """A temperature as a tensor of the model's dtype (grad kept), finite (``ValueError`` naming ``name``)."""
        try:
            T = temperature if isinstance(temperature, Tensor) else as_tensor(temperature, dtype=self.dtype)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be a number or a tensor of temperatures ({err})") from None
        if T.dtype != self.dtype:
            T = T.to(self.dtype)
        T = T.to(self.device)
        if not bool(torch.isfinite(T.detach()).all()):
            raise ValueError(f"{name} must be finite, got {_show(T)}")
        return T

    def check_strain(self, strain: TensorLike, name: str | None = None) -> Tensor:
        """The wrapped model's strain check (a symmetric strain, or F for a finite-strain model)."""
        return self.mechanical.check_strain(strain) if name is None else self.mechanical.check_strain(strain, name)

    # -------------------------------------------------------------------------------------------- state
    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """The wrapped model's state entries plus ``temperature`` ``()`` (the temperature of the state)."""
        inner = self.mechanical.state_shapes() if isinstance(self.mechanical, PathDependentMaterial) else {}
        return {**inner, "temperature": ()}

    def initial_state(self, batch_shape: tuple[int, ...] | torch.Size = ()) -> dict[str, Tensor]:
        """The wrapped model's initial state plus ``"temperature"`` = :math:`T_I` (shape ``batch_shape``)."""
        batch = tuple(batch_shape)
        inner = self.mechanical.initial_state(batch) if isinstance(self.mechanical, PathDependentMaterial) else {}
        T = torch.full(batch, self.initial_temperature, dtype=self.dtype, device=self.device)
        return {**inner, "temperature": T}

    # ------------------------------------------------------------------------------------------- update
    @overload  # type: ignore[override]
    def update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None = None,
        need_tangent: Literal[True] = True, *, temperature: TensorLike | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor]: ...  # fmt: skip
    @overload
    def update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None,
        need_tangent: Literal[False], *, temperature: TensorLike | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], None]: ...  # fmt: skip
    @overload
    def update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None = None, *,
        need_tangent: Literal[False], temperature: TensorLike | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], None]: ...  # fmt: skip
    @overload
    def update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None = None,
        need_tangent: bool = True, *, temperature: TensorLike | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]: ...  # fmt: skip
    def update(
        self,
        strain: TensorLike,
        state: Mapping[str, Tensor],
        dt: float | Tensor | None = None,
        need_tangent: bool = True,
        *,
        temperature: TensorLike | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        r"""One increment from ``state`` (which holds :math:`T_n`) to total strain ``strain`` ``(..., 3, 3)`` and
        temperature :math:`T_{n+1}` = ``temperature`` (0-d or broadcastable to the batch; ``None``:
        :math:`T_{n+1} = T_n`): ``(σ, new_state, C)``.

        The wrapped model, its parameters at :math:`T_{n+1}`, integrates the mechanical strain
        :math:`\varepsilon - \varepsilon^{th}(T_{n+1})`; ``C = dσ/dε`` is its consistent tangent
        ``(..., 3, 3, 3, 3)`` (``None`` with ``need_tangent=False``); ``new_state["temperature"]`` =
        :math:`T_{n+1}`. The inputs are not modified; on an error nothing is returned.

        Parameters
        ----------
        strain:
            Total strain at the end of the step ``(..., 3, 3)`` (thermal part included).
        state:
            The converged state at the start of the step (:meth:`initial_state`), holding :math:`T_n`.
        dt:
            Time increment (for rate-dependent wrapped models).
        need_tangent:
            ``False`` skips the tangent (returned as ``None``).
        temperature:
            :math:`T_{n+1}`, 0-d or per point (``None``: unchanged). With temperature-dependent parameters,
            points at different temperatures are updated once per distinct temperature.
        """
        groups = self._temperature_groups(strain, state, temperature)
        if groups is not None:
            return self._by_temperature(groups, dt, need_tangent, thermal=False)[:3]  # type: ignore[return-value]
        eps, inner, T1, Tpar, batch = self._prepare_thermal(strain, state, temperature)
        model = self.model_at(Tpar) if Tpar is not None else self.mechanical
        eps_m = eps - self.thermal_strain(T1) if self.expansion is not None else eps
        stress, new_inner, C = self._mechanical_update(model, eps_m.expand(*batch, 3, 3), inner, dt, need_tangent)
        return stress, {**new_inner, "temperature": T1.expand(batch).clone()}, C

    def update_thermal(
        self,
        strain: TensorLike,
        state: Mapping[str, Tensor],
        dt: float | Tensor | None = None,
        *,
        temperature: TensorLike | None = None,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor, Tensor]:
        r""":meth:`update` and the temperature tangent: ``(σ, new_state, C, dσ/dT)``, ``dσ/dT`` ``(..., 3, 3)`` at
        fixed total strain and start-of-step state (Abaqus's DDSDDT as a tensor: stress-like components),

        .. math::
            \frac{d\sigma}{dT} = -\mathbb{C}^{alg} : \frac{d\varepsilon^{th}}{dT}
                + \sum_p \frac{\partial\sigma}{\partial p}\,\frac{dp}{dT},

        exact: automatic differentiation through the update (the return map's implicit derivative) by one
        reverse pass and one pass through its gradient.
        """
        groups = self._temperature_groups(strain, state, temperature)
        if groups is not None:
            return self._by_temperature(groups, dt, True, thermal=True)  # type: ignore[return-value]
        stress, new_state, C = self.update(strain, state, dt, True, temperature=temperature)
        eps, inner, T1, Tpar, batch = self._prepare_thermal(strain, state, temperature)
        inner = {k: v.detach() for k, v in inner.items()}
        if self.expansion is None and not self.dependencies:
            return stress, new_state, C, torch.zeros_like(stress)
        # one leaf: the scalar temperature with temperature-dependent parameters, else the per-point one
        t = (Tpar if Tpar is not None else T1).detach().clone().requires_grad_(True)
        with torch.enable_grad():
            model = self.model_at(t) if Tpar is not None else self.mechanical
            eps_m = eps.detach() - self.thermal_strain(t) if self.expansion is not None else eps.detach()
            sigma, _, _ = self._mechanical_update(model, eps_m.expand(*batch, 3, 3), inner, dt, False)
            if not sigma.requires_grad:  # e.g. constant functions: no dependence on T
                return stress, new_state, C, torch.zeros_like(stress)
            seed = torch.zeros_like(sigma, requires_grad=True)
            (g,) = torch.autograd.grad(sigma, t, seed, create_graph=True, allow_unused=True)
            if g is None or not g.requires_grad:
                return stress, new_state, C, torch.zeros_like(stress)
            (dsdT,) = torch.autograd.grad(g, seed, torch.ones_like(g), allow_unused=True)
        if dsdT is None:
            dsdT = torch.zeros_like(stress)
        return stress, new_state, C, dsdT.detach().expand_as(stress).clone()

    def _temperature_groups(
        self, strain: TensorLike, state: Mapping[str, Tensor], temperature: TensorLike | None
    ) -> tuple[Tensor, dict[str, Tensor], Tensor, torch.Size] | None:
        """``None`` unless parameters depend on temperature and the points have different temperatures; then the
        strain ``(N, 3, 3)``, the state entries and :math:`T_{n+1}` ``(N,)`` flattened over the batch, and the batch
        shape (for :meth:`_by_temperature`)."""
        if not self.dependencies or temperature is None:
            return None
        T1 = self._temperature(temperature, "temperature").detach()
        flat = T1.reshape(-1)
        if flat.numel() <= 1 or bool((flat == flat[0]).all()):
            return None
        eps = self.check_strain(strain).to(dtype=self.dtype, device=self.device)
        tails: dict[str, tuple[int, ...]] = {"temperature": ()}
        if isinstance(self.mechanical, PathDependentMaterial):
            tails.update(self.mechanical.state_shapes())
        entries, common = self._broadcast_state(state, eps.shape[:-2], tails)
        try:
            batch = torch.broadcast_shapes(common, T1.shape)
        except RuntimeError:
            raise ValueError(
                f"temperature of shape {tuple(T1.shape)} does not broadcast with the strain batch shape "
                f"{tuple(eps.shape[:-2])}"
            ) from None
        n = math.prod(batch)
        flat_state = {k: v.expand(*batch, *tails[k]).reshape(n, *tails[k]) for k, v in entries.items()}
        return eps.expand(*batch, 3, 3).reshape(n, 3, 3), flat_state, T1.expand(batch).reshape(n), batch

    def _by_temperature(
        self,
        groups: tuple[Tensor, dict[str, Tensor], Tensor, torch.Size],
        dt: float | Tensor | None,
        need_tangent: bool,
        thermal: bool,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None, Tensor | None]:
        """Points at different temperatures with temperature-dependent parameters: one update per distinct
        temperature (the wrapped model's parameters are scalars), results scattered back into the batch. The cost
        grows with the number of distinct temperatures, not with the number of points."""
        eps, st, T, batch = groups
        n = T.shape[0]
        dtv = dt.expand(batch).reshape(n) if isinstance(dt, Tensor) and dt.ndim > 0 else None
        values, inverse = torch.unique(T, return_inverse=True)
        outs: list[tuple[Tensor, Tensor, tuple[Any, ...]]] = []
        for k in range(values.numel()):
            idx = (inverse == k).nonzero().reshape(-1)
            sub = {key: v.index_select(0, idx) for key, v in st.items()}
            dtk = dtv.index_select(0, idx) if dtv is not None else dt
            if thermal:
                res: tuple[Any, ...] = self.update_thermal(eps.index_select(0, idx), sub, dtk, temperature=values[k])
            else:
                res = self.update(eps.index_select(0, idx), sub, dtk, need_tangent, temperature=values[k])
            outs.append((idx, values[k], res))
        first = outs[0][2]

        def scatter(pick: Callable[[tuple[Any, ...]], Tensor]) -> Tensor:
            ref = pick(first)
            out = torch.empty((n, *ref.shape[1:]), dtype=ref.dtype, device=ref.device)
            for idx, _, res in outs:
                out.index_copy_(0, idx, pick(res))
            return out.reshape(*batch, *ref.shape[1:])

        def entry(key: str) -> Callable[[tuple[Any, ...]], Tensor]:
            return lambda r: r[1][key]  # type: ignore[no-any-return]

        stress = scatter(lambda r: r[0])
        new_state = {key: scatter(entry(key)) for key in first[1]}
        C = scatter(lambda r: r[2]) if first[2] is not None else None
        dsdT = scatter(lambda r: r[3]) if thermal else None
        return stress, new_state, C, dsdT

    def _prepare_thermal(
        self, strain: TensorLike, state: Mapping[str, Tensor], temperature: TensorLike | None
    ) -> tuple[Tensor, dict[str, Tensor], Tensor, Tensor | None, torch.Size]:
        """Checked strain, the wrapped model's state entries, :math:`T_{n+1}` (per point or 0-d), the one
        temperature of the parameters (``None`` without temperature-dependent parameters) and the batch shape."""
        eps = self.check_strain(strain).to(dtype=self.dtype, device=self.device)
        # presence, shape and finiteness of the temperature entry (the wrapped model checks its own entries)
        Tn = self._broadcast_state(state, eps.shape[:-2], {"temperature": ()})[0]["temperature"]
        T1 = Tn if temperature is None else self._temperature(temperature, "temperature")
        try:
            batch = torch.broadcast_shapes(eps.shape[:-2], Tn.shape, T1.shape)
        except RuntimeError:
            raise ValueError(
                f"temperature of shape {tuple(T1.shape)} (state['temperature']: {tuple(Tn.shape)}) does not "
                f"broadcast with the strain batch shape {tuple(eps.shape[:-2])}"
            ) from None
        inner = {k: v for k, v in state.items() if k != "temperature"}
        Tpar: Tensor | None = None
        if self.dependencies:
            flat = T1.detach().reshape(-1)
            if flat.numel() > 1 and not bool((flat == flat[0]).all()):
                raise ValueError(
                    "ThermoMechanical: temperature-dependent parameters need one temperature for the whole batch "
                    f"(the model's parameters are scalars), got temperatures from {float(flat.min()):g} to "
                    f"{float(flat.max()):g}; update the points in groups of equal temperature"
                )
            Tpar = T1.reshape(-1)[0]
        return eps, inner, T1, Tpar, batch

    def _mechanical_update(
        self, model: Material, eps_m: Tensor, inner: dict[str, Tensor], dt: float | Tensor | None, need_tangent: bool
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        if isinstance(model, PathDependentMaterial):
            return model.update(eps_m, inner, dt, need_tangent)
        if need_tangent:
            stress, C = model.stress_and_tangent(eps_m)
            return stress, {}, C
        return model.stress(eps_m), {}, None

    # ------------------------------------------------------------------------------------- serialisation
    def temperature_dict(self) -> dict[str, Any]:
        """The ``"temperature"`` entry of :meth:`to_dict`: reference, initial, expansion (when set), parameters."""
        out: dict[str, Any] = {"reference": self.reference_temperature, "initial": self.initial_temperature}
        if self.expansion is not None:
            out["expansion"] = self.expansion if isinstance(self.expansion, float) else self.expansion.to_dict()
        out["parameters"] = {name: dep.to_dict() for name, dep in self.dependencies.items()}
        return out

    def to_dict(self) -> dict[str, Any]:
        """The wrapped model's dict plus ``"temperature": {"reference", "initial", "expansion", "parameters"}``."""
        return {**self.mechanical.to_dict(), "temperature": self.temperature_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], **kwargs: Any) -> ThermoMechanical:
        """Inverse of :meth:`to_dict` (``kwargs`` go to the wrapped model, e.g. ``dtype``)."""
        if "temperature" not in data:
            raise ValueError("data has no 'temperature' entry: it describes a model without temperature")
        inner = Material.from_dict({k: v for k, v in data.items() if k != "temperature"}, **kwargs)
        return cls.from_temperature_table(inner, data["temperature"])

    @classmethod
    def from_temperature_table(cls, model: Material, table: Mapping[str, Any]) -> ThermoMechanical:
        """Wrap ``model`` as a material file's ``[temperature]`` table says: ``reference``, ``initial``,
        ``expansion`` (number or dependence) and ``[temperature.parameters]`` (name -> dependence); an unknown key
        is a ``ValueError`` naming it."""
        if not isinstance(table, Mapping):
            raise ValueError(f"temperature must be a table ([temperature]), got {type(table).__name__}")
        known = ("reference", "initial", "expansion", "parameters")
        unknown = [k for k in table if k not in known]
        if unknown:
            raise ValueError(f"[temperature]: unknown key(s) {unknown}; it holds {list(known)}")
        params = table.get("parameters", {})
        if not isinstance(params, Mapping):
            raise ValueError(f"[temperature.parameters] must be a table, got {type(params).__name__}")
        return cls(
            model,
            parameters=params,
            expansion=table.get("expansion"),
            reference_temperature=table.get("reference", 0.0),
            initial_temperature=table.get("initial"),
        )

    def __repr__(self) -> str:
        return (
            f"ThermoMechanical({self.mechanical!r}, parameters={self.dependencies!r}, expansion={self.expansion!r}, "
            f"reference_temperature={self.reference_temperature!r}, initial_temperature={self.initial_temperature!r})"
        )
