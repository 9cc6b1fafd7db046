r"""The model interface: small classes with validated parameters, ``stress``, and a tangent that is analytic where
written and automatic otherwise.

Conventions, stated once:

* ``strain`` is a symmetric ``(..., 3, 3)`` tensor: the small strain ε for small-strain models, the Green--Lagrange
  strain E for hyperelastic models (:attr:`Material.strain_measure` names it).
* ``stress(strain)`` returns the work-conjugate symmetric stress ``(..., 3, 3)``: σ for small strain, the second
  Piola--Kirchhoff S for hyperelasticity (:attr:`Material.stress_measure`).
* ``tangent(strain)`` is dstress/dstrain on Sym in the ``"symmetric"`` convention of :mod:`constitutive.tangent`:
  ``(..., 3, 3, 3, 3)``, minor-symmetric; its Voigt matrix pairs with engineering shear strain.
* parameters are 0-d (or 1-d, for series such as Ogden's) torch tensors, float64 by default, so a calibration can
  differentiate through them.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, cast, overload

import torch
from torch.func import grad, vmap

from ..resources import material_file, read_toml
from ..tangent import hessian, jacobian
from ..tensor import Tensor, TensorLike, as_tensor, check_finite, check_shape, check_symmetric
from ..tensor import _is_functorch_wrapped as _wrapped
from .parameters import Parametrised

__all__ = [
    "MODELS",
    "Material",
    "PathDependentMaterial",
    "ConvergenceError",
    "register",
    "get_model",
    "load",
    "save",
    "read_toml",
    "write_toml",
]

#: Registry of model classes by class name (filled by :meth:`Material.__init_subclass__`).
MODELS: dict[str, type[Material]] = {}


class ConvergenceError(RuntimeError):
    """A local (return-map) or global (driver) Newton iteration did not converge; carries diagnostics."""

    def __init__(self, message: str, **diagnostics: Any) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


def register(cls: type[Material]) -> type[Material]:
    """Register a model class under its class name (done automatically for subclasses)."""
    MODELS[cls.__name__] = cls
    return cls


def get_model(name: str) -> type[Material]:
    """The model class registered under ``name``; ``ValueError`` lists the known names otherwise."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {sorted(MODELS)}")
    return MODELS[name]


class Material(Parametrised):
    """Base class of every model.

    Parameters are declared on the class (:class:`~.parameters.Parameter`); a subclass either keeps the
    declaration-driven constructor or writes its own ``__init__`` storing each value with :meth:`_param` (which
    validates it against its declaration). Subclasses implement :meth:`stress`
    (or :meth:`energy` only: the stress then comes from automatic differentiation). :meth:`tangent` defaults to
    automatic differentiation (:func:`constitutive.tangent.hessian` of the energy when the subclass defines one,
    :func:`constitutive.tangent.jacobian` of the stress otherwise); subclasses override it with a closed form.
    """

    strain_measure: ClassVar[str] = "small strain ε"
    stress_measure: ClassVar[str] = "Cauchy stress σ"
    #: True when the response does not depend on orientation (used by the objectivity tests).
    isotropic: ClassVar[bool] = True

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        # Concrete models are registered by class name; base classes (``class X(Material, abstract=True)``) and
        # private helpers (a leading underscore) are not.
        super().__init_subclass__(**kwargs)
        if not abstract and not cls.__name__.startswith("_"):
            register(cls)

    def with_parameters(self, **changes: TensorLike) -> Material:
        """A new model of the same class with some parameters replaced (validated again)."""
        kwargs: dict[str, Any] = {**self._params, **self._options, **changes}
        return type(self)(**kwargs, dtype=self.dtype, device=self.device)

    # --------------------------------------------------------------------------------------------- the response
    def energy(self, strain: Tensor) -> Tensor:
        """Strain-energy density ``(...)``; models without one raise ``TypeError``."""
        raise TypeError(f"{type(self).__name__} has no strain-energy function")

    def has_energy(self) -> bool:
        """Whether the class defines :meth:`energy`."""
        return type(self).energy is not Material.energy

    def stress(self, strain: TensorLike) -> Tensor:
        """Stress ``(..., 3, 3)`` at ``strain`` ``(..., 3, 3)``; by default the gradient of :meth:`energy` on Sym."""
        if not self.has_energy():
            raise TypeError(f"{type(self).__name__} defines neither stress nor energy")
        strain = self.check_strain(strain)
        # first derivatives only (tangent.hessian would compute, and here discard, the second ones)
        flat = strain.reshape(-1, 3, 3)
        g = vmap(grad(self._scalar_energy_point))(flat)
        stress = (0.5 * (g + g.transpose(-1, -2))).reshape(strain.shape)
        check_finite(stress, "the gradient of the energy")
        return stress

    def tangent(self, strain: TensorLike) -> Tensor:
        """Tangent dstress/dstrain on Sym ``(..., 3, 3, 3, 3)`` by automatic differentiation (override with a
        closed form where one is written)."""
        return self.ad_tangent(strain)

    def ad_tangent(self, strain: TensorLike) -> Tensor:
        """The automatic-differentiation tangent, whatever :meth:`tangent` does (for cross-checks)."""
        strain = self.check_strain(strain)
        if self.has_energy() and type(self).stress is Material.stress:
            return hessian(self._energy_point, strain)[1]
        return cast(Tensor, jacobian(self.stress, strain))  # return_value=False: the tangent alone

    def stress_and_tangent(self, strain: TensorLike) -> tuple[Tensor, Tensor]:
        """Both at once (subclasses may share work; an energy-only model gets both from one Hessian pass)."""
        if self.has_energy() and type(self).stress is Material.stress and type(self).tangent is Material.tangent:
            return hessian(self._energy_point, self.check_strain(strain))
        return self.stress(strain), self.tangent(strain)

    def _energy_point(self, strain: Tensor) -> Tensor:
        return self.energy(strain)

    def _scalar_energy_point(self, strain: Tensor) -> Tensor:
        value = self._energy_point(strain)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise ValueError(f"{type(self).__name__}.energy must map a (3, 3) strain to a scalar")
        return value.reshape(())

    def check_strain(self, strain: TensorLike, name: str = "strain") -> Tensor:
        """Convert and validate a strain argument: shape ``(..., 3, 3)``, finite, symmetric."""
        # numbers, lists and arrays become tensors of the model's dtype on its device; tensors keep theirs
        t = strain if isinstance(strain, Tensor) else as_tensor(strain, dtype=self.dtype, device=self.device)
        if not (t.is_floating_point() or t.is_complex()):
            t = t.to(dtype=self.dtype)
        check_shape(t, (3, 3), name)
        check_finite(t, name)
        check_symmetric(t, name)
        return t

    # ------------------------------------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """``{"model": class name, "parameters": {...}, "options": {...}}`` with plain Python numbers."""
        params = {k: _plain(v) for k, v in self._params.items()}
        out: dict[str, Any] = {"model": type(self).__name__, "parameters": params}
        if self._options:
            out["options"] = dict(self._options)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], **kwargs: Any) -> Material:
        """Build a model from :meth:`to_dict` output (or a parameter file's content); called on
        :class:`Material` it dispatches on ``data["model"]``."""
        if "temperature" in data:  # a temperature-dependent material (models/thermal.py)
            from .thermal import ThermoMechanical

            if cls is not Material and not issubclass(ThermoMechanical, cls):
                raise ValueError(
                    f"data describes a temperature-dependent model (ThermoMechanical), not a {cls.__name__}"
                )
            return ThermoMechanical.from_dict(data, **kwargs)
        name = data.get("model")
        target = cls
        if name is not None:
            target = get_model(str(name))
            if cls is not Material and not issubclass(target, cls):
                raise ValueError(f"data describes a {name}, not a {cls.__name__}")
        elif cls is Material:
            raise ValueError("data has no 'model' entry naming the model class")
        params = dict(data.get("parameters", {}))
        options = dict(data.get("options", {}))
        _check_arguments(target, {**params, **options, **kwargs})
        return target(**params, **options, **kwargs)

    def save(self, path: str | Path, *, overwrite: bool = False, **metadata: Any) -> Path:
        """Write a TOML parameter file (see :func:`save`); over an existing file only with ``overwrite=True``."""
        return save(self, path, overwrite=overwrite, **metadata)

    @classmethod
    def load(cls, path: str | Path, **kwargs: Any) -> Material:
        """Read a TOML parameter file (see :func:`load`)."""
        model = load(path, **kwargs)
        if cls is not Material and not isinstance(model, cls):
            raise ValueError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}")
        return model

    def __repr__(self) -> str:
        items = [f"{k}={_plain(v)!r}" for k, v in self._params.items()]
        items += [f"{k}={v!r}" for k, v in self._options.items()]
        return f"{type(self).__name__}({', '.join(items)})"


def _check_arguments(cls: type[Material], given: Mapping[str, Any]) -> None:
    """``ValueError`` naming unknown and missing constructor arguments (a misspelled key in a parameter file)
    instead of the constructor's ``TypeError``."""
    sig = inspect.signature(cls)
    try:
        sig.bind(**given)
    except TypeError:
        pass
    else:
        return
    accepted = [n for n, p in sig.parameters.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    takes_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    unknown = [] if takes_any else [k for k in given if k not in sig.parameters]
    missing = [
        n
        for n, p in sig.parameters.items()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and n not in given
    ]
    problems = ([f"unknown parameter(s) {unknown}"] if unknown else []) + (
        [f"missing parameter(s) {missing}"] if missing else []
    )
    raise ValueError(f"{cls.__name__}: {'; '.join(problems) or 'bad arguments'}; it takes {accepted}")


class PathDependentMaterial(Material, abstract=True):
    """Base class of models with history (plasticity, viscoelasticity).

    The state is a plain ``dict[str, Tensor]`` whose tensors carry the batch shape in front (documented per model);
    :meth:`update` integrates one increment from the converged state at the start of the step to ``strain`` at its
    end and returns ``(stress, new_state, tangent)`` -- the tangent being the consistent (algorithmic) one. It never
    mutates its inputs. ``stress``/``tangent`` evaluate one step from the initial state (the virgin material).
    """

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """Trailing shape (after the batch axes) of each state entry, by key; defines the state's structure."""
        raise TypeError(f"{type(self).__name__} must define state_shapes")

    def initial_state(self, batch_shape: tuple[int, ...] | torch.Size = ()) -> dict[str, Tensor]:
        """The virgin state for a batch of ``batch_shape`` points: every entry of :meth:`state_shapes`, zero."""
        batch = tuple(batch_shape)
        return {
            key: torch.zeros((*batch, *tail), dtype=self.dtype, device=self.device)
            for key, tail in self.state_shapes().items()
        }

    def check_state(
        self, state: Mapping[str, Tensor], batch: tuple[int, ...] | torch.Size
    ) -> tuple[dict[str, Tensor], torch.Size]:
        """Validate ``state`` against :meth:`state_shapes` (keys, trailing shapes, finiteness) and broadcast its
        batch axes with the strain's ``batch``; returns the entries expanded to the common batch shape."""
        tails = self.state_shapes()
        out, common = self._broadcast_state(state, batch, tails)
        return {key: t.expand((*common, *tails[key])) for key, t in out.items()}, common

    def _broadcast_state(
        self,
        state: Mapping[str, Tensor],
        batch: tuple[int, ...] | torch.Size,
        tails: Mapping[str, tuple[int, ...]],
        form: str = "",
        initial: str = "initial_state",
    ) -> tuple[dict[str, Tensor], torch.Size]:
        """The checks of :meth:`check_state` against the trailing shapes ``tails`` (keys, shapes, finiteness) and the
        common batch shape; the entries are returned unexpanded. ``form`` qualifies the shape message (e.g. a
        Mandel-form state), ``initial`` names the method that builds a valid state."""
        if not isinstance(state, Mapping):
            raise ValueError(f"state must be a dict of tensors, got {type(state).__name__}")
        out: dict[str, Tensor] = {}
        shapes = [torch.Size(batch)]
        for key, tail in tails.items():
            if key not in state:
                raise ValueError(f"state is missing {key!r}; expected keys {sorted(tails)} (see {initial})")
            t = as_tensor(state[key], dtype=self.dtype, device=self.device)
            if t.ndim < len(tail) or tuple(t.shape[t.ndim - len(tail) :]) != tail:
                raise ValueError(
                    f"state[{key!r}]{form} must have shape (..., {', '.join(map(str, tail))}), got {tuple(t.shape)}"
                )
            check_finite(t, f"state[{key!r}]")
            out[key] = t
            shapes.append(t.shape[: t.ndim - len(tail)])
        try:
            common = torch.broadcast_shapes(*shapes)
        except RuntimeError as exc:
            raise ValueError(f"state batch shapes do not match the strain batch shape {tuple(batch)}: {exc}") from None
        return out, common

    @overload
    def update(
        self,
        strain: TensorLike,
        state: Mapping[str, Tensor],
        dt: float | Tensor | None = None,
        need_tangent: Literal[True] = True,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor]: ...
    @overload
    def update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None, need_tangent: Literal[False]
    ) -> tuple[Tensor, dict[str, Tensor], None]: ...
    @overload
    def update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None = None, *,
        need_tangent: Literal[False],
    ) -> tuple[Tensor, dict[str, Tensor], None]: ...  # fmt: skip
    @overload
    def update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None = None,
        need_tangent: bool = True,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]: ...  # fmt: skip
    def update(
        self,
        strain: TensorLike,
        state: Mapping[str, Tensor],
        dt: float | Tensor | None = None,
        need_tangent: bool = True,
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        """One increment: ``(stress, new_state, consistent tangent)`` at ``strain`` ``(..., 3, 3)``;
        ``need_tangent=False`` (residual-only calls, e.g. a line search) returns ``None`` for the tangent and skips
        its work. Subclasses implement :meth:`_update` (or override ``update`` itself)."""
        return self._update(strain, state, dt, need_tangent)

    def _update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None, need_tangent: bool
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        raise TypeError(f"{type(self).__name__} must define update")

    def _solver_options(
        self, tol: float | None, max_iter: int, default_tol: tuple[float, float] = (1e-11, 1e-5)
    ) -> None:
        """Validate and store the local Newton options: ``tol`` in (0, 1) (default ``default_tol``: float64,
        other dtypes) and ``max_iter`` a positive integer."""
        if tol is not None and not (isinstance(tol, (int, float)) and not isinstance(tol, bool) and 0 < tol < 1):
            raise ValueError(f"option 'tol' must be a number in (0, 1), got {tol!r}")
        if not isinstance(max_iter, int) or isinstance(max_iter, bool) or max_iter < 1:
            raise ValueError(f"option 'max_iter' must be a positive integer, got {max_iter!r}")
        default = default_tol[0] if self.dtype == torch.float64 else default_tol[1]
        self._option("tol", float(tol) if tol is not None else default)
        self._option("max_iter", max_iter)

    def stress(self, strain: TensorLike) -> Tensor:
        strain = self.check_strain(strain)
        return self.update(strain, self.initial_state(strain.shape[:-2]))[0]

    def tangent(self, strain: TensorLike) -> Tensor:
        strain = self.check_strain(strain)
        return self.update(strain, self.initial_state(strain.shape[:-2]))[2]

    #: What a model's failure criterion says in words (e.g. "damage D reached the critical damage D_c"); used in the
    #: driver's failure report. Empty for models without one.
    failure_criterion: ClassVar[str] = ""

    def failed(self, state: Mapping[str, Tensor]) -> Tensor | None:
        """Failure hook: which points of a (converged) ``state`` have failed, a bool tensor of the state's batch
        shape, or ``None`` for a model without a failure criterion (the default). A model that defines one (e.g.
        critical damage) keeps integrating after failure; :func:`constitutive.driver.drive` reports the first step
        at which any point has failed in ``DriveResult.failure``."""
        return None


_OFF = ((0, 1), (0, 2), (1, 2))


def check_state_tensor(
    t: Tensor, name: str, *, nonnegative: bool = False, symmetric: bool = False, deviatoric: bool = False
) -> None:
    """Value checks of one state entry (see :func:`check_state_values`)."""
    kind = "nonnegative" if nonnegative else "deviatoric" if deviatoric else "symmetric" if symmetric else ""
    if kind:
        check_state_values((t, name, kind))


def check_state_values(*entries: tuple[Tensor, str, str]) -> None:
    """Value checks of state entries ``(tensor, name, kind)``, ``ValueError`` naming the entry: ``kind`` is
    ``"nonnegative"``, ``"symmetric"`` or ``"deviatoric"`` (symmetric and traceless ``(..., 3, 3)``), the last two to
    a tolerance of sqrt(machine epsilon) of the dtype relative to the largest entry (round-off accumulated over many
    steps passes; a wrong state does not). One synchronisation for all entries (this runs on every update); skipped
    inside ``torch.func`` transforms."""
    stats: list[Tensor] = []
    layout: list[tuple[str, str, int, float]] = []
    for t, name, kind in entries:
        if _wrapped(t) or t.numel() == 0:
            continue
        d = t.detach()
        start = sum(x.numel() for x in stats)
        if kind == "nonnegative":
            stats.append(d.min().reshape(1))
        else:
            # few operations (this runs on every update): the extremes of the entries, and of the three
            # asymmetries and the trace as one (n, 9) @ (9, 4) product
            # (torch.aminmax is slow on small tensors: plain abs/amax)
            a = d.reshape(-1, 9)
            stats += [a.abs().amax().reshape(1), (a @ _check_matrix(d.dtype, d.device)).abs().amax(0)]
        layout.append((name, kind, start, math.sqrt(torch.finfo(d.dtype).eps)))
    if not stats:
        return
    v = torch.cat([x.to(stats[0].dtype) for x in stats]).tolist()  # one synchronisation
    for name, kind, i, tol in layout:
        if kind == "nonnegative":
            if v[i] < 0:
                raise ValueError(f"{name} must be non-negative, got a minimum of {v[i]:.6g}")
            continue
        scale, asym, tr = v[i], max(v[i + 1 : i + 4]), v[i + 4]  # columns: 3 asymmetries, trace
        if asym > tol * scale:
            raise ValueError(f"{name} must be symmetric, got an asymmetry of {asym:.3e} (largest entry {scale:.3e})")
        if kind == "deviatoric" and tr > tol * scale:
            raise ValueError(
                f"{name} must be deviatoric (traceless), got a trace of {tr:.3e} (largest entry {scale:.3e})"
            )


_CHECK_MATRICES: dict[tuple[torch.dtype, torch.device], Tensor] = {}


def _check_matrix(dtype: torch.dtype, device: torch.device) -> Tensor:
    """``(9, 4)``: a flattened 3x3 tensor times it gives A01 - A10, A02 - A20, A12 - A21 and tr A (exact: the
    coefficients are 0 and ±1)."""
    key = (dtype, device)
    if key not in _CHECK_MATRICES:
        M = torch.zeros(9, 4, dtype=dtype, device=device)
        for col, (i, j) in enumerate(_OFF):
            M[3 * i + j, col], M[3 * j + i, col] = 1.0, -1.0
        M[[0, 4, 8], 3] = 1.0
        _CHECK_MATRICES[key] = M
    return _CHECK_MATRICES[key]


# --------------------------------------------------------------------------------------------------------------
# TOML parameter files
# --------------------------------------------------------------------------------------------------------------


def _show(t: Tensor) -> str:
    return str(_plain(t))


def _plain(v: Any) -> Any:
    if isinstance(v, Tensor):
        v = v.detach().cpu()
        return v.item() if v.ndim == 0 else v.tolist()
    return v


def _toml_value(v: Any) -> str:
    v = _plain(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise ValueError("TOML parameter files hold finite numbers only")
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def write_toml(data: Mapping[str, Any], path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a mapping of scalars, lists and (one level of nested) tables as TOML; atomically, and over an existing
    file only with ``overwrite=True`` (:mod:`constitutive.fileio`)."""
    from ..fileio import atomic_write_text, check_writable

    check_writable(path, overwrite=overwrite)
    lines: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in data.items() if isinstance(v, Mapping)}
    for k, v in scalars.items():
        lines.append(f"{k} = {_toml_value(v)}")
    for name, table in tables.items():
        if name == "temperature":  # nested tables ([temperature.parameters.NAME]): models/thermal.py
            lines += _toml_tables(name, table)
            continue
        lines.append("")
        lines.append(f"[{name}]")
        for k, v in table.items():
            if isinstance(v, Mapping):
                raise TypeError("write_toml supports one level of tables")
            lines.append(f"{k} = {_toml_value(v)}")
    return atomic_write_text(path, "\n".join(lines).lstrip("\n") + "\n", overwrite=overwrite)


def _toml_tables(name: str, table: Mapping[str, Any]) -> list[str]:
    """Lines of the table ``[name]`` and its nested tables ``[name.key]`` (for the ``[temperature]`` table)."""
    lines = ["", f"[{name}]"]
    nested = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if not isinstance(v, Mapping)]
    for k, v in nested.items():
        lines += _toml_tables(f"{name}.{k}", v)
    return lines


def save(model: Material, path: str | Path, *, overwrite: bool = False, **metadata: Any) -> Path:
    """Write ``model`` as a TOML parameter file; returns its path.

    The file's layout::

        [material]            # free metadata: name, source, units, notes ...
        model = "NeoHookean"
        [parameters]
        mu = 0.4
        lmbda = 200.0
        [options]             # only when the model has options
    """
    d = model.to_dict()
    material = {"model": d["model"], **metadata}
    out: dict[str, Any] = {"material": material, "parameters": d["parameters"]}
    if d.get("options"):
        out["options"] = d["options"]
    if "temperature" in d:  # a ThermoMechanical (models/thermal.py)
        out["temperature"] = d["temperature"]
    return write_toml(out, path, overwrite=overwrite)


def load(path: str | Path, **kwargs: Any) -> Material:
    """Read a TOML parameter file written by :func:`save` (or by hand) and build the model.

    ``path`` may also be the stem of a shipped parameter file (e.g. ``"steel_s355"``; see
    :func:`constitutive.resources.list_materials`), found in the source tree's ``materials/`` folder or in the
    installed package. The file holds the tables ``[material]`` (``model = "..."`` plus free metadata),
    ``[parameters]`` and, for models with options, ``[options]`` (and, for a temperature-dependent material,
    ``[temperature]``: it loads as a :class:`~.thermal.ThermoMechanical`, see ``docs/temperature.md``); any other
    table or top-level key is refused with a ``ValueError`` naming it (a misspelt ``[parameter]`` would otherwise
    be silently ignored).
    """

    tables = ("material", "parameters", "options", "temperature")  # the tables save() writes
    p = Path(path)
    if not p.exists():
        if p.suffix in ("", ".toml"):
            try:
                p = material_file(p.stem)
            except FileNotFoundError as err:
                raise FileNotFoundError(f"no parameter file {path} (not a path, and {err})") from None
        else:
            raise FileNotFoundError(f"no parameter file {path}")
    data = read_toml(p)
    unknown = [k for k in data if k not in tables]
    if unknown:
        raise ValueError(
            f"{p}: unknown table(s) or key(s) {unknown}; a parameter file holds the tables "
            f"{', '.join(f'[{t}]' for t in tables)} (options only for models that have them)"
        )
    for table in tables:
        if table in data and not isinstance(data[table], Mapping):
            raise ValueError(f"{p}: {table} must be a table ([{table}]), got {type(data[table]).__name__}")
    material = data.get("material", {})
    if "model" not in material:
        raise ValueError(f'{p}: the [material] table must name the model (model = "...")')
    spec = {
        "model": material["model"],
        "parameters": data.get("parameters", {}),
        "options": data.get("options", {}),
    }
    if "temperature" in data:  # loads as a ThermoMechanical (models/thermal.py)
        spec["temperature"] = data["temperature"]
    return Material.from_dict(spec, **kwargs)
