r"""Hardening laws and kinematic hardening terms for small-strain J2 (von Mises) plasticity, as objects with
declared parameters, registered by name.

Isotropic hardening. The flow stress, in von Mises equivalent stress units, is

.. math::
    \sigma_f(\alpha) = \sigma_y + H\,\alpha + R(\alpha), \qquad R(0) = 0,

with :math:`\alpha` the equivalent (accumulated) plastic strain, :math:`\dot\alpha = \sqrt{2/3}\,\|\dot\varepsilon^p\|`,
``sigma_y`` and ``H`` parameters of the model, and :math:`R` given by a :class:`HardeningLaw` (the convention, named
once: **a law returns the increase** :math:`R(\alpha)` **over** :math:`\sigma_y + H\alpha`, **with** :math:`R(0)=0`,
and its slope :math:`R'(\alpha)`):

* :class:`Linear` (``"linear"``): :math:`R = 0` (the linear part :math:`H\alpha` is the model's ``H``);
* :class:`Voce` (``"voce"``) ``(Q, b)``: :math:`R = Q\,(1 - e^{-b\alpha})` (saturates at :math:`\sigma_y + Q`);
* :class:`Swift` (``"swift"``) ``(K, eps0, n)``: :math:`R = K[(\varepsilon_0 + \alpha)^n - \varepsilon_0^n]`. With
  :math:`\sigma_y = K \varepsilon_0^n` (the default when the model's ``sigma_y`` is ``None``) and ``H = 0`` this is
  the classic Swift law :math:`\sigma_f = K(\varepsilon_0 + \alpha)^n`;
* :class:`UserLaw` (``"user"``): a callable ``R(alpha)`` (elementwise on a tensor; its slope by forward-mode
  automatic differentiation).

A new law is one class: declare its parameters and write :meth:`HardeningLaw.flow_stress`; the class registers
itself under ``name`` (default: the lower-case class name) in :data:`HARDENING_LAWS`, so
``J2Plasticity(..., hardening="name", <its parameters>=...)``, parameter files and ``with_parameters`` find it.

Kinematic hardening: back stresses :math:`X_k` (deviatoric, stress units), :math:`k = 1..n`, each with the
Armstrong--Frederick law :math:`\dot X_k = \tfrac23 C_k \dot\varepsilon^p - \gamma_k X_k \dot\alpha`. A
:class:`KinematicTerm` contributes such ``(C_k, gamma_k)`` pairs (:meth:`KinematicTerm.moduli`): :class:`Prager`
(:math:`\gamma = 0`), :class:`ArmstrongFrederick`, :class:`Chaboche` (several). The yield function is
:math:`f = \sqrt{3/2}\,\|\operatorname{dev}\sigma - \sum_k X_k\| - \sigma_f(\alpha)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import torch

from ..tensor import DEFAULT_DTYPE, Tensor, TensorLike, as_tensor
from .parameters import Parameter, Parametrised

__all__ = [
    "HARDENING_LAWS",
    "KINEMATIC_TERMS",
    "HardeningLaw",
    "KinematicTerm",
    "Linear",
    "Voce",
    "Swift",
    "UserLaw",
    "Prager",
    "ArmstrongFrederick",
    "Chaboche",
    "get_hardening_law",
    "make_hardening_law",
    "resolve_hardening",
    "store_hardening",
    "kinematic_terms",
]

#: Isotropic hardening law classes by name (filled by :meth:`HardeningLaw.__init_subclass__`).
HARDENING_LAWS: dict[str, type[HardeningLaw]] = {}
#: Kinematic hardening term classes by name (filled by :meth:`KinematicTerm.__init_subclass__`).
KINEMATIC_TERMS: dict[str, type[KinematicTerm]] = {}


def _registry_name(cls: type, name: str | None) -> str | None:
    if name is not None:
        return name
    return None if cls.__name__.startswith("_") else cls.__name__.lower()


class HardeningLaw(Parametrised):
    r"""Base class of isotropic hardening laws :math:`R(\alpha)`, :math:`R(0) = 0` (see the module docstring).

    Subclasses declare their parameters (:class:`~.parameters.Parameter`) and implement :meth:`flow_stress`;
    ``class MyLaw(HardeningLaw, name="my_law")`` registers it (default name: the lower-case class name). The
    constructor takes the parameters positionally in declaration order or by name, plus ``dtype``/``device``.
    """

    #: The name the law is registered (and saved) under.
    name: ClassVar[str] = ""
    #: True when :math:`R \equiv 0` (then J2 with Prager back stresses has a closed-form return map).
    linear: ClassVar[bool] = False

    def __init_subclass__(cls, name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        key = _registry_name(cls, name)
        if key is not None:
            cls.name = key
            HARDENING_LAWS[key] = cls

    def flow_stress(self, alpha: Tensor) -> tuple[Tensor, Tensor]:
        r"""``(R(alpha), R'(alpha))`` elementwise on ``alpha`` ``(...)`` (batched, differentiable in the
        parameters); :math:`R(0) = 0`, :math:`R' \ge 0` expected (the return map brackets its root with it)."""
        raise TypeError(f"{type(self).__name__} must define flow_stress(alpha) -> (R, dR/dalpha)")

    def value(self, alpha: Tensor) -> Tensor:
        """:math:`R(\\alpha)` alone (override when the slope costs extra)."""
        return self.flow_stress(alpha)[0]

    def default_sigma_y(self) -> Tensor | None:
        """The model's initial yield stress when it is not given (``None``: it must be given)."""
        return None

    def model_parameters(self) -> dict[str, TensorLike]:
        """Values this law hands to the model's own parameters (``Linear(H)`` gives ``H``)."""
        return {}

    def bind(self, dtype: torch.dtype, device: torch.device) -> HardeningLaw:
        """The same law with its parameters in ``dtype`` on ``device`` (``self`` when they already are)."""
        if dtype == self.dtype and device == self.device:
            return self
        return type(self)(**self._params, dtype=dtype, device=device)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={_plain(v)!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({items})"


class Linear(HardeningLaw, name="linear"):
    r"""Linear isotropic hardening :math:`\sigma_f = \sigma_y + H\alpha`: :math:`R = 0`. ``Linear(H)`` sets the
    model's ``H`` (≥ 0, stress units)."""

    linear: ClassVar[bool] = True

    def __init__(self, H: TensorLike | None = None, *, dtype: torch.dtype = DEFAULT_DTYPE, device: Any = None) -> None:
        super().__init__(dtype=dtype, device=device)
        self.H = H

    def flow_stress(self, alpha: Tensor) -> tuple[Tensor, Tensor]:
        zero = torch.zeros_like(alpha)
        return zero, zero

    def model_parameters(self) -> dict[str, TensorLike]:
        return {} if self.H is None else {"H": self.H}

    def bind(self, dtype: torch.dtype, device: torch.device) -> HardeningLaw:
        return Linear(self.H, dtype=dtype, device=device)


class Voce(HardeningLaw):
    """Voce saturation hardening :math:`R = Q(1 - e^{-b\\alpha})`."""

    Q = Parameter("Voce saturation stress increase", unit="stress", lower=0.0, shape=None)
    b = Parameter("Voce saturation rate", unit="1", lower=0.0, lower_open=True, shape=None)

    def flow_stress(self, alpha: Tensor) -> tuple[Tensor, Tensor]:
        e = torch.exp(-self.b * alpha)
        return self.Q * (1.0 - e), self.Q * self.b * e

    def value(self, alpha: Tensor) -> Tensor:
        return self.Q * (1.0 - torch.exp(-self.b * alpha))


class Swift(HardeningLaw):
    """Swift power law :math:`R = K[(\\varepsilon_0 + \\alpha)^n - \\varepsilon_0^n]`; default
    :math:`\\sigma_y = K\\varepsilon_0^n`."""

    K = Parameter("Swift strength coefficient", unit="stress", lower=0.0, lower_open=True, shape=None)
    eps0 = Parameter("Swift pre-strain", unit="1", lower=0.0, lower_open=True, shape=None)
    n = Parameter("Swift hardening exponent", unit="1", lower=0.0, lower_open=True, shape=None)

    def flow_stress(self, alpha: Tensor) -> tuple[Tensor, Tensor]:
        base = self.eps0 + alpha
        return self.K * (base**self.n - self.eps0**self.n), self.K * self.n * base ** (self.n - 1.0)

    def value(self, alpha: Tensor) -> Tensor:
        return self.K * ((self.eps0 + alpha) ** self.n - self.eps0**self.n)

    def default_sigma_y(self) -> Tensor:
        return self.K * self.eps0**self.n


class UserLaw(HardeningLaw, name="user"):
    """A callable ``R(alpha) -> Tensor`` (elementwise, R(0) = 0, nondecreasing) as a law; slope by forward-mode
    automatic differentiation. Not saved to parameter files (the callable is code)."""

    def __init__(
        self, fn: Callable[[Tensor], Tensor], *, dtype: torch.dtype = DEFAULT_DTYPE, device: Any = None
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        if not callable(fn):
            raise ValueError(f"UserLaw needs a callable R(alpha) -> Tensor, got {fn!r}")
        self.fn = fn

    def flow_stress(self, alpha: Tensor) -> tuple[Tensor, Tensor]:
        out = torch.func.jvp(self.fn, (alpha,), (torch.ones_like(alpha),))
        return out[0], out[1]

    def value(self, alpha: Tensor) -> Tensor:
        return self.fn(alpha)

    def bind(self, dtype: torch.dtype, device: torch.device) -> HardeningLaw:
        return UserLaw(self.fn, dtype=dtype, device=device)


def get_hardening_law(name: str) -> type[HardeningLaw]:
    """The law class registered under ``name``; ``ValueError`` lists the known names otherwise."""
    if name not in HARDENING_LAWS:
        raise ValueError(f"unknown hardening law {name!r}; known laws: {sorted(HARDENING_LAWS)}")
    return HARDENING_LAWS[name]


def make_hardening_law(
    hardening: Any, parameters: Mapping[str, TensorLike], dtype: torch.dtype, device: torch.device
) -> HardeningLaw:
    """The law a model's ``hardening=`` argument names, with the flat law ``parameters`` (e.g. ``Q``, ``b``).

    ``hardening``: ``None`` (linear), a registered name, a :class:`HardeningLaw` instance (then ``parameters``
    must be empty), a :class:`HardeningLaw` class, or a callable ``R(alpha)``. ``ValueError`` names missing,
    unknown or doubly given parameters.
    """
    if hardening is None:
        hardening = "linear"
    if isinstance(hardening, HardeningLaw):
        if parameters:
            raise ValueError(
                f"give the {hardening.name} hardening parameters once: either in the law object or as keywords "
                f"{sorted(parameters)}"
            )
        return hardening.bind(dtype, device)
    if isinstance(hardening, str):
        if hardening == "user":
            raise ValueError("hardening='user' needs the callable itself: pass hardening=R with R(alpha) -> Tensor")
        if hardening not in HARDENING_LAWS:
            raise ValueError(
                f"unknown hardening {hardening!r}: give one of {sorted(HARDENING_LAWS)}, a HardeningLaw object "
                "(Voce(...), Swift(...), ...) or a callable R(alpha)"
            )
        cls = HARDENING_LAWS[hardening]
    elif isinstance(hardening, type) and issubclass(hardening, HardeningLaw):
        cls = hardening
    elif callable(hardening):
        if parameters:
            raise ValueError(f"a callable hardening law takes no parameters; got {sorted(parameters)}")
        return UserLaw(hardening, dtype=dtype, device=device)
    else:
        raise ValueError(
            "hardening must be None, a law name, a HardeningLaw object (Linear, Voce, Swift, ...) or a callable "
            f"R(alpha), got {hardening!r}"
        )
    declared = cls.declared_parameters()
    unknown = [k for k in parameters if k not in declared]
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown}: neither the model's nor the {cls.__name__} hardening law's (it takes "
            f"{list(declared)})"
        )
    missing = [k for k, d in declared.items() if k not in parameters and d.default is None]
    if missing:
        raise ValueError(f"{cls.__name__} hardening needs parameter(s) {missing}")
    return cls(**parameters, dtype=dtype, device=device)


def resolve_hardening(
    hardening: Any,
    parameters: Mapping[str, TensorLike],
    linear: TensorLike,
    sigma_y: TensorLike | None,
    *,
    dtype: torch.dtype,
    device: torch.device,
    linear_name: str = "H",
) -> tuple[HardeningLaw, TensorLike, TensorLike]:
    """``(law, linear modulus, initial yield stress)`` from a plasticity model's constructor arguments, before it
    stores them (every model with an isotropic hardening law goes through here).

    Parameters
    ----------
    hardening:
        The model's ``hardening=`` argument (``None``, a law name, a :class:`HardeningLaw`, a class or a callable).
    parameters:
        The flat law parameters given to the model (``Q``, ``b``, ...), for :func:`make_hardening_law`.
    linear:
        The model's linear hardening modulus as given; ``Linear(H)`` as the law sets it instead (refused when both
        are given, the modulus non-zero).
    sigma_y:
        The initial yield stress as given; ``None``: the law's own default (Swift's), else a ``ValueError`` says
        it is required.
    dtype, device:
        Of the law's parameters.
    linear_name:
        The name of the linear modulus on the model (``"H"``; Hill48's is ``"H_iso"``), for the message.
    """
    law = make_hardening_law(hardening, dict(parameters), dtype, device)
    for name, value in law.model_parameters().items():  # Linear(H) sets the model's linear modulus
        if name == "H":
            t = linear if isinstance(linear, Tensor) else as_tensor(linear)
            if not bool((t == 0).all()):
                raise ValueError(
                    f"give the linear hardening modulus once: either {linear_name}=... or hardening=Linear(H)"
                )
            linear = value
    if sigma_y is None:
        sigma_y = law.default_sigma_y()
        if sigma_y is None:
            raise ValueError(
                f"parameter 'sigma_y' is required (it may be omitted only with a law that defines it, such as "
                f"Swift; {law.name} does not)"
            )
    return law, linear, sigma_y


def store_hardening(model: Parametrised, law: HardeningLaw) -> None:
    """Put ``law``'s parameters on ``model`` (with their declarations, so calibration and ``to_dict`` see them;
    the law's own tensors, so gradients reach the caller's leaves), ``model.law`` and the option ``hardening``.
    ``ValueError`` when the law declares a name the model already has."""
    own = type(model).declared_parameters()
    clash = [k for k in law.parameters if k in own]
    if clash:
        raise ValueError(f"hardening law {law.name!r} declares parameter(s) {clash} that the model already has")
    decls = law.parameter_declarations()
    for name, value in law.parameters.items():
        model._param(name, value, decls[name])
    model.law = law  # type: ignore[attr-defined]
    model._option("hardening", law.name)


# ----------------------------------------------------------------------------------------------------------------
# kinematic hardening
# ----------------------------------------------------------------------------------------------------------------


class KinematicTerm(Parametrised):
    """Base class of kinematic hardening terms: each contributes Armstrong--Frederick back stresses, given by
    :meth:`moduli` as ``(C list, gamma list)``. Registered by name like :class:`HardeningLaw`."""

    name: ClassVar[str] = ""

    def __init_subclass__(cls, name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        key = _registry_name(cls, name)
        if key is not None:
            cls.name = key
            KINEMATIC_TERMS[key] = cls

    def moduli(self) -> tuple[list[Tensor], list[Tensor]]:
        """``([C_1, ...], [gamma_1, ...])``: the Armstrong--Frederick moduli of this term's back stresses."""
        raise TypeError(f"{type(self).__name__} must define moduli() -> (C list, gamma list)")


class Prager(KinematicTerm):
    """Linear (Prager) kinematic hardening :math:`\\dot X = \\tfrac23 C \\dot\\varepsilon^p`."""

    C = Parameter("kinematic hardening modulus", unit="stress", lower=0.0)

    def moduli(self) -> tuple[list[Tensor], list[Tensor]]:
        return [self.C], [torch.zeros_like(self.C)]


class ArmstrongFrederick(KinematicTerm, name="armstrong_frederick"):
    """Armstrong--Frederick back stress :math:`\\dot X = \\tfrac23 C\\dot\\varepsilon^p - \\gamma X \\dot\\alpha`;
    saturates at :math:`\\sqrt{3/2}\\,\\|X\\| = C/\\gamma`."""

    C = Parameter("kinematic hardening modulus", unit="stress", lower=0.0)
    gamma = Parameter("dynamic recovery rate", unit="1", lower=0.0)

    def moduli(self) -> tuple[list[Tensor], list[Tensor]]:
        return [self.C], [self.gamma]


class Chaboche(KinematicTerm):
    """Several Armstrong--Frederick back stresses (``C[k]``, ``gamma[k]``; a zero ``gamma`` is a Prager term)."""

    C = Parameter("kinematic hardening moduli", unit="stress", lower=0.0, shape="series")
    gamma = Parameter("dynamic recovery rates", unit="1", lower=0.0, shape="series")

    def __init__(
        self,
        C: Sequence[TensorLike] | TensorLike,
        gamma: Sequence[TensorLike] | TensorLike,
        *,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: Any = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        Ct, Gt = _vector(C, self.dtype), _vector(gamma, self.dtype)
        if Ct.shape != Gt.shape:
            raise ValueError(f"Chaboche needs as many C as gamma values, got {Ct.numel()} and {Gt.numel()}")
        self._param("C", Ct)
        self._param("gamma", Gt)

    def moduli(self) -> tuple[list[Tensor], list[Tensor]]:
        return list(self.C.unbind()), list(self.gamma.unbind())


def kinematic_terms(kinematic: object) -> tuple[list[Tensor], list[Tensor]]:
    """Normalise a kinematic-hardening spec to ``(C list, gamma list)``.

    Accepts ``None``, a :class:`KinematicTerm` (:class:`Prager`, :class:`ArmstrongFrederick`, :class:`Chaboche`, a
    user term) or a list/tuple of them. ``ValueError`` for anything else.
    """
    if kinematic is None:
        return [], []
    if isinstance(kinematic, KinematicTerm):
        return kinematic.moduli()
    if isinstance(kinematic, (list, tuple)):
        C: list[Tensor] = []
        g: list[Tensor] = []
        for term in kinematic:
            if not isinstance(term, KinematicTerm):
                raise ValueError(f"kinematic terms must be KinematicTerm objects (Prager, ...), got {term!r}")
            c, gg = term.moduli()
            C += c
            g += gg
        return C, g
    raise ValueError(
        "kinematic must be None, a KinematicTerm (Prager, ArmstrongFrederick, Chaboche, ...) or a list of them, "
        f"got {kinematic!r}"
    )


def _vector(values: Any, dtype: torch.dtype) -> Tensor:
    """A 1-d tensor from a tensor, a number or a sequence of them, keeping the autograd graph of tensor entries
    (calibration leaves)."""
    if isinstance(values, Tensor):
        return values.reshape(-1)
    if isinstance(values, (list, tuple)) and any(isinstance(v, Tensor) for v in values):
        device = next(v.device for v in values if isinstance(v, Tensor))  # numbers join the tensors' device
        return torch.stack([as_tensor(v, dtype=dtype, device=device).reshape(()) for v in values])
    return as_tensor(values, dtype=dtype).reshape(-1)


def _plain(v: Any) -> Any:
    if isinstance(v, Tensor):
        v = v.detach().cpu()
        return v.item() if v.ndim == 0 else v.tolist()
    return v
