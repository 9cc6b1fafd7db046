r"""Declared parameters: one declaration per parameter (name, admissible range, default, unit, meaning) that the
constructor, validation, ``parameters``, ``to_dict``, ``with_parameters``, :func:`~.catalog.describe_models` and
calibration bounds all read.

A declaration is a descriptor on the class body::

    class MyModel(Material):
        mu = Parameter("shear modulus", unit="stress", lower=0.0, lower_open=True)

Reading ``model.mu`` returns the stored 0-d (or 1-d, for series) tensor; :meth:`Parametrised.declared_parameters`
lists a class's declarations in declaration order (base classes first). Values are validated once, when stored
(:meth:`Parametrised._param`): dtype, shape, finiteness and range, the ``ValueError`` naming the parameter and its
admissible range. Checks that need concrete values are skipped inside ``torch.func`` transforms.
"""

from __future__ import annotations

import math
from typing import Any, overload

import torch

from ..tensor import DEFAULT_DTYPE, Tensor, TensorLike, as_tensor
from ..tensor import _is_functorch_wrapped as _wrapped

__all__ = ["Parameter", "OptionalParameter", "Parametrised", "check_dtype"]


def check_dtype(dtype: Any) -> torch.dtype:
    """``dtype`` if it is a floating (or complex) torch dtype; ``ValueError`` otherwise (an integer dtype would
    truncate ν = 0.3 to 0)."""
    if not isinstance(dtype, torch.dtype) or not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(
            f"dtype must be a floating-point torch dtype (torch.float64, torch.float32, ...), got {dtype!r}: "
            "parameters and strains would be truncated"
        )
    return dtype


class _ParameterBase:
    """What :class:`Parameter` and :class:`OptionalParameter` share (everything but the type of ``__get__``)."""

    def __init__(
        self,
        meaning: str,
        *,
        unit: str = "",
        lower: float | None = None,
        upper: float | None = None,
        lower_open: bool = False,
        upper_open: bool = False,
        default: float | None = None,
        shape: tuple[int, ...] | str | None = (),
        required: bool = True,
    ) -> None:
        """The arguments are documented in the Parameters section of :class:`Parameter`."""
        self.name = ""
        self.meaning = meaning
        self.unit = unit
        self.lower, self.upper = lower, upper
        self.lower_open, self.upper_open = lower_open, upper_open
        self.default = default
        self.shape = shape
        self.required = required

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @property
    def range_text(self) -> str:
        """The admissible range in words, e.g. ``"> 0"``, ``"in (-1, 0.5)"``, ``"any"``."""
        lo, hi = self.lower, self.upper
        if lo is not None and hi is not None:
            return f"in {'(' if self.lower_open else '['}{lo:g}, {hi:g}{')' if self.upper_open else ']'}"
        if lo is not None:
            return f"{'>' if self.lower_open else '>='} {lo:g}"
        if hi is not None:
            return f"{'<' if self.upper_open else '<='} {hi:g}"
        return "any"

    def _requirement(self) -> str:
        lo, hi = self.lower, self.upper
        if lo == 0.0 and hi is None:
            return "positive" if self.lower_open else "non-negative"
        if lo is not None and hi is None:
            return f"{'greater than' if self.lower_open else 'at least'} {lo:g}"
        if hi is not None and lo is None:
            return f"{'below' if self.upper_open else 'at most'} {hi:g}"
        return self.range_text

    def describe(self) -> dict[str, Any]:
        """Plain description: name, meaning, unit, range, lower/upper bounds, default, shape."""
        return {
            "name": self.name,
            "meaning": self.meaning,
            "unit": self.unit,
            "range": self.range_text,
            "lower": self.lower,
            "upper": self.upper,
            "default": self.default,
            "shape": self.shape if isinstance(self.shape, str) or self.shape is None else list(self.shape),
            "required": self.required and self.default is None,
        }

    def bounds(self) -> tuple[float, float]:
        """``(lower, upper)`` with ``-inf``/``inf`` for open-ended ranges (default calibration bounds)."""
        return (-math.inf if self.lower is None else self.lower, math.inf if self.upper is None else self.upper)

    def validate(self, value: TensorLike, dtype: torch.dtype, device: torch.device, name: str | None = None) -> Tensor:
        """``value`` as a tensor of ``dtype`` on ``device``, checked for shape, finiteness and range.

        Tensors of the right dtype are kept as they are (no copy), so gradients flow to the caller's leaves.
        """
        name = name or self.name
        if value is None:
            raise ValueError(f"parameter {name!r} is required")
        t = value if isinstance(value, Tensor) and value.dtype == dtype else as_tensor(value, dtype=dtype)
        t = t.to(device)
        shape = self.shape
        if shape == "series":
            if t.ndim != 1 or t.numel() == 0:
                raise ValueError(f"parameter {name!r} must be a non-empty 1-d series, got shape {tuple(t.shape)}")
        elif shape is not None and tuple(t.shape) != shape:
            raise ValueError(f"parameter {name!r} must have shape {shape}, got {tuple(t.shape)}")
        if _wrapped(t):
            return t
        if not bool(torch.isfinite(t).all()):
            src = value.detach().to(torch.float64) if isinstance(value, Tensor) else _as_float64(value)
            if src is not None and bool(torch.isfinite(src).all()):
                raise ValueError(
                    f"parameter {name!r} = {_plain(src)} overflows {dtype} (largest finite value "
                    f"{torch.finfo(dtype).max:g}); use a wider dtype or other units"
                )
            raise ValueError(f"parameter {name!r} must be finite, got {_plain(t)}")
        lo, hi = self.lower, self.upper
        bad = False
        if lo is not None:
            bad = bool((t <= lo).any()) if self.lower_open else bool((t < lo).any())
        if not bad and hi is not None:
            bad = bool((t >= hi).any()) if self.upper_open else bool((t > hi).any())
        if bad:
            what = f" ({self.meaning})" if self.meaning else ""
            raise ValueError(f"parameter {name!r} must be {self._requirement()}, got {_plain(t)}{what}")
        return t

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}: {self.meaning}, {self.range_text}, unit={self.unit!r})"


class Parameter(_ParameterBase):
    """A required (or defaulted) parameter; ``instance.name`` is its stored tensor.

    Parameters
    ----------
    meaning:
        One line.
    unit:
        ``"stress"``, ``"1"`` (dimensionless), ``"time"``, ...
    lower, upper:
        Admissible range (``None``: unbounded).
    lower_open, upper_open:
        Open ends of that range (default closed).
    default:
        Used when the argument is omitted.
    shape:
        ``()`` scalar (default), a tuple, ``"series"`` (1-d, non-empty) or ``None`` (any).
    required:
        ``False``: the model may go without it (reading it then raises ``AttributeError``; check
        ``name in model.parameters``).
    """

    @overload
    def __get__(self, instance: None, owner: type) -> Parameter: ...
    @overload
    def __get__(self, instance: object, owner: type) -> Tensor: ...
    def __get__(self, instance: object | None, owner: type) -> Parameter | Tensor:
        if instance is None:
            return self
        try:
            return instance._params[self.name]  # type: ignore[attr-defined, no-any-return]  # Parametrised only
        except KeyError:
            raise AttributeError(f"{type(instance).__name__} has no parameter {self.name!r} set") from None


class OptionalParameter(_ParameterBase):
    """A parameter that may be absent (e.g. the bulk modulus of an incompressible model): reads ``None`` then."""

    def __init__(self, meaning: str, **kwargs: Any) -> None:
        super().__init__(meaning, **{**kwargs, "required": False})

    @overload
    def __get__(self, instance: None, owner: type) -> OptionalParameter: ...
    @overload
    def __get__(self, instance: object, owner: type) -> Tensor | None: ...
    def __get__(self, instance: object | None, owner: type) -> OptionalParameter | Tensor | None:
        if instance is None:
            return self
        return instance._params.get(self.name)  # type: ignore[attr-defined, no-any-return]  # Parametrised only


def _as_float64(value: Any) -> Tensor | None:
    try:
        return as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, OverflowError):
        return None


def _plain(v: Any) -> Any:
    if isinstance(v, Tensor):
        v = v.detach().cpu()
        return v.item() if v.ndim == 0 else v.tolist()
    return v


class Parametrised:
    """Holder of declared parameters: models (:class:`~.base.Material`) and their laws and terms.

    ``__init__(*args, dtype=, device=, **kwargs)``: a class whose body only declares parameters gets this
    constructor, positional arguments in declaration order, omitted ones taking their declared default (a required
    one missing, or an unknown keyword, is a ``ValueError`` naming it). Classes with their own ``__init__`` call
    ``super().__init__(dtype=..., device=...)`` and store each value with :meth:`_param`.
    """

    def __init__(
        self,
        *args: TensorLike,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
        **kwargs: TensorLike,
    ) -> None:
        self.dtype = check_dtype(dtype)
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self._params: dict[str, Tensor] = {}
        self._declarations: dict[str, _ParameterBase] = {}
        self._options: dict[str, Any] = {}
        if args or kwargs or self._generated_init():
            self._set_declared(args, kwargs)

    def _generated_init(self) -> bool:
        """Whether this object's class relies on the declaration-driven constructor (defines no ``__init__``)."""
        return type(self).__init__ is Parametrised.__init__

    def _set_declared(self, args: tuple[TensorLike, ...], kwargs: dict[str, TensorLike]) -> None:
        decl = type(self).declared_parameters()
        names = list(decl)
        cls = type(self).__name__
        if len(args) > len(names):
            raise ValueError(f"{cls} takes at most {len(names)} positional parameters {names}, got {len(args)}")
        given = dict(zip(names, args))
        twice = [k for k in kwargs if k in given]
        unknown = [k for k in kwargs if k not in decl]
        if twice or unknown:
            problems = ([f"unknown parameter(s) {unknown}"] if unknown else []) + (
                [f"parameter(s) {twice} given twice"] if twice else []
            )
            raise ValueError(f"{cls}: {'; '.join(problems)}; it takes {names}")
        given.update(kwargs)
        missing = [n for n, d in decl.items() if n not in given and d.default is None and d.required]
        if missing:
            raise ValueError(f"{cls}: missing parameter(s) {missing}; it takes {names}")
        for n, d in decl.items():
            value = given.get(n, d.default)
            if value is not None:
                self._param(n, value)

    @classmethod
    def declared_parameters(cls) -> dict[str, _ParameterBase]:
        """The class's parameter declarations by name, in declaration order (base classes first)."""
        out: dict[str, _ParameterBase] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, _ParameterBase):
                    out.pop(name, None)
                    out[name] = value
        return out

    def _param(
        self,
        name: str,
        value: TensorLike,
        declaration: _ParameterBase | None = None,
        *,
        positive: bool = False,
        nonnegative: bool = False,
        below: float | None = None,
        above: float | None = None,
        shape: tuple[int, ...] | None = None,
    ) -> Tensor:
        """Validate and store a parameter by its declaration (the class's, or ``declaration``, e.g. a hardening
        law's). Names the class does not declare (subclasses written before declarations) get an ad hoc one from
        ``positive``/``nonnegative`` (lower bound 0), ``above``/``below`` (open bounds) and ``shape``."""
        decl = declaration or type(self).declared_parameters().get(name)
        if decl is None:
            lower = 0.0 if (positive or nonnegative) else above
            if above is not None and (positive or nonnegative):
                lower = max(above, 0.0)
            decl = Parameter(
                "", lower=lower, lower_open=not nonnegative or positive, upper=below, upper_open=True, shape=shape
            )
            decl.name = name
        t = decl.validate(value, self.dtype, self.device, name)
        self._params[name] = t
        self._declarations[name] = decl
        if not isinstance(getattr(type(self), name, None), _ParameterBase):
            setattr(self, name, t)  # undeclared on the class (a law's parameter on its model, a user model's)
        return t

    def _option(self, name: str, value: Any, choices: tuple[Any, ...] | None = None) -> Any:
        """Store a non-numeric option (e.g. a volumetric function's name); saved with the parameters."""
        if choices is not None and value not in choices:
            raise ValueError(f"option {name!r} must be one of {choices}, got {value!r}")
        self._options[name] = value
        setattr(self, name, value)
        return value

    @property
    def parameters(self) -> dict[str, Tensor]:
        """The parameters, by name, as tensors (in constructor order)."""
        return dict(self._params)

    @property
    def options(self) -> dict[str, Any]:
        """Non-numeric settings, by name."""
        return dict(self._options)

    def parameter_declarations(self) -> dict[str, _ParameterBase]:
        """The declaration of every parameter this object holds (those its laws and terms contribute included),
        by name in :attr:`parameters` order: meaning, unit, range, default (calibration takes default bounds from
        :meth:`Parameter.bounds`)."""
        return {name: self._declarations[name] for name in self._params}
