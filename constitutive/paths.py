r"""Load paths for the material-point driver (:mod:`constitutive.driver`).

A load path is a list of :class:`Segment` s. Each segment prescribes, for **every** component, either the strain
or the stress (mixed control) and the value that component reaches at the end of the segment; the driver splits
the segment into ``increments`` equal steps, interpolating linearly from the values actually reached at the
start of the segment (so a component may switch from strain to stress control between segments).

Conventions, stated once:

* Values are **tensor components**: the strain component ``"12"`` is :math:`\varepsilon_{12}` (half the
  engineering shear strain :math:`\gamma_{12}`), the stress component ``"12"`` is :math:`\sigma_{12}`.
* Small-strain paths (``kinematics="small"``) use the six labels of :func:`constitutive.notation.component_labels`
  in the textbook Voigt order: ``11 22 33 23 13 12``. ``strain``/``stress`` are the model's own work-conjugate pair
  (ε and σ for small-strain models; E and S when a hyperelastic model is driven in its Green--Lagrange strain).
* Finite-strain paths (``kinematics="finite"``) prescribe the nine components of the deformation gradient
  :math:`F_{ij}` or of the first Piola--Kirchhoff stress :math:`P_{ij}` (:data:`FINITE_LABELS`: the six Voigt
  labels followed by ``32 31 21``). On a finite path ``strain`` means F and ``stress`` means P.
* Paths start from the virgin, stress-free state: zero strain (F = I) and zero stress at time 0.
* **Temperature** (optional, small-strain paths, for temperature-dependent models such as
  ``constitutive.models.thermal.ThermoMechanical``): a segment may carry a temperature ``temperature`` reached at
  its end, linear in between like every target, held when not given; :attr:`LoadPath.initial_temperature` is the
  temperature at time 0 (``None``: the model's own initial temperature, ``state["temperature"]`` of
  ``model.initial_state``). Temperatures are in the user's unit (°C or K).

Standard modes (:data:`MODES`), each driven by one amplitude :math:`a` (by strain unless ``by="stress"``):

=================  ===============================================  ==============================================
mode               small strain (strain-driven)                     finite strain (F-driven)
=================  ===============================================  ==============================================
uniaxial_stress    ε11 = a; σ22 = σ33 = σ23 = σ13 = σ12 = 0         F11 = 1 + a, F off-diagonal = 0; P22 = P33 = 0
uniaxial_strain    ε11 = a; all other strains 0                     F11 = 1 + a; F22 = F33 = 1; F off-diagonal 0
equibiaxial        ε11 = ε22 = a; σ33 = σ23 = σ13 = σ12 = 0         F11 = F22 = 1 + a, off-diagonal 0; P33 = 0
pure_shear         ε11 = a, ε22 = −a; all other strains 0           planar tension: F11 = 1 + a, F22 = 1; P33 = 0
simple_shear       ε12 = a/2 (a = γ); all other strains 0           F12 = a (= γ); F = I otherwise
hydrostatic        ε11 = ε22 = ε33 = a; shear strains 0             F11 = F22 = F33 = 1 + a; off-diagonal 0
=================  ===============================================  ==============================================

Driven by stress (``by="stress"``) the driving components carry the stress a instead (small strain: σ11 = a for
uniaxial stress and strain, σ11 = σ22 = a equibiaxial, σ11 = −σ22 = a pure shear, σ12 = a simple shear, σii = a
hydrostatic, i.e. the pressure is −a; finite strain: the same P components, P11 = a for planar tension) and every
other component keeps its control.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .notation import component_labels, components
from .tensor import Tensor, TensorLike, as_tensor

__all__ = [
    "SMALL_LABELS",
    "FINITE_LABELS",
    "FINITE_COMPONENTS",
    "MODES",
    "Segment",
    "LoadPath",
    "labels_for",
    "standard_path",
    "history",
    "cyclic",
    "uniaxial_stress",
    "uniaxial_strain",
    "equibiaxial",
    "pure_shear",
    "simple_shear",
    "hydrostatic",
    "path_from_dict",
    "path_from_table",
]

#: Small-strain component labels, textbook Voigt order (from :mod:`constitutive.notation`).
SMALL_LABELS: tuple[str, ...] = tuple(component_labels("voigt"))
#: Index pairs of the nine components of a non-symmetric tensor (F, P): the six Voigt pairs, then the transposes of
#: the three shear pairs (32, 31, 21).
FINITE_COMPONENTS: tuple[tuple[int, int], ...] = tuple(components("voigt")) + tuple(
    (j, i) for (i, j) in components("voigt")[3:]
)
#: Finite-strain component labels: ``11 22 33 23 13 12 32 31 21``.
FINITE_LABELS: tuple[str, ...] = tuple(f"{i + 1}{j + 1}" for i, j in FINITE_COMPONENTS)

KINEMATICS = ("small", "finite")
CONTROLS = ("strain", "stress")


def labels_for(kinematics: str) -> tuple[str, ...]:
    """The component labels of a kinematics ('small': 6, 'finite': 9)."""
    if kinematics == "small":
        return SMALL_LABELS
    if kinematics == "finite":
        return FINITE_LABELS
    raise ValueError(f"unknown kinematics {kinematics!r}; choose one of {KINEMATICS}")


def _normalise_label(label: Any, kinematics: str) -> str:
    """'11', 11, 'xy'-free labels; a symmetric small-strain label may be given either way round ('21' = '12')."""
    text = str(label).strip()
    labels = labels_for(kinematics)
    if text in labels:
        return text
    if kinematics == "small" and len(text) == 2 and text[::-1] in labels:
        return text[::-1]
    raise ValueError(f"unknown {kinematics}-strain path component {label!r}; components are {list(labels)}")


def _check_value(component: str, value: Any) -> None:
    """``ValueError`` unless a segment target is a real number or tensor with finite entries."""
    try:
        t = value.detach() if isinstance(value, Tensor) else as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"the target of component {component!r} must be a number or a tensor, got {value!r}") from None
    if t.is_complex():
        raise ValueError(f"the target of component {component!r} must be real, got {value!r}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"the target of component {component!r} must be finite, got {value!r}")


@dataclass
class Segment:
    """One piece of a piecewise-linear load path.

    ``strain`` and ``stress`` map component labels to the values reached at the end of the segment (floats, or
    tensors of the batch shape for a batch of points with different targets); every component must appear in
    exactly one of them. ``increments`` equal steps cover ``duration`` (time matters for rate-dependent models).
    On a finite-strain path ``strain`` holds F components and ``stress`` P components. ``temperature`` (optional;
    a number or a tensor of the batch shape) is the temperature reached at the end of the segment, linearly
    interpolated over its steps; ``None`` holds the temperature reached at its start.
    """

    strain: dict[str, Any] = field(default_factory=dict)
    stress: dict[str, Any] = field(default_factory=dict)
    increments: int = 1
    duration: float = 1.0
    temperature: Any = None

    def validated(self, kinematics: str) -> Segment:
        """A copy with normalised labels; ``ValueError`` for unknown, doubly or never prescribed components."""
        labels = labels_for(kinematics)
        for what, table in (("strain", self.strain), ("stress", self.stress)):
            if not isinstance(table, Mapping):
                raise ValueError(
                    f"a segment's {what} must be a mapping of component labels to values (e.g. {{'11': 0.01}}), "
                    f"got {type(table).__name__}"
                )
        strain = {_normalise_label(k, kinematics): v for k, v in self.strain.items()}
        stress = {_normalise_label(k, kinematics): v for k, v in self.stress.items()}
        if len(strain) != len(self.strain) or len(stress) != len(self.stress):
            raise ValueError("a component is listed twice (e.g. '12' and '21') in one control of a segment")
        both = sorted(set(strain) & set(stress), key=labels.index)
        if both:
            raise ValueError(f"components {both} are prescribed in both strain and stress; give each one control")
        neither = [c for c in labels if c not in strain and c not in stress]
        if neither:
            raise ValueError(
                f"components {neither} are prescribed in neither strain nor stress; every component of a segment "
                f"needs one control ({'F or P' if kinematics == 'finite' else 'strain or stress'})"
            )
        for c, v in {**strain, **stress}.items():
            _check_value(c, v)
        if (
            isinstance(self.increments, bool)
            or not isinstance(self.increments, (int, float))
            or int(self.increments) != self.increments
            or int(self.increments) < 1
        ):
            raise ValueError(f"increments must be a positive integer, got {self.increments!r}")
        try:
            duration = float(self.duration)
        except (TypeError, ValueError):
            raise ValueError(f"duration must be a finite non-negative number, got {self.duration!r}") from None
        if not duration >= 0.0 or duration == float("inf"):
            raise ValueError(f"duration must be finite and non-negative, got {self.duration!r}")
        if self.temperature is not None:
            _check_value("T", self.temperature)
            if kinematics != "small":
                raise ValueError("a temperature is supported on small-strain paths only (kinematics='small')")
        return Segment(strain, stress, int(self.increments), duration, self.temperature)

    def control(self, kinematics: str) -> tuple[str, ...]:
        """'strain' or 'stress' per component, in label order."""
        return tuple("strain" if c in self.strain else "stress" for c in labels_for(kinematics))

    def target(self, kinematics: str, dtype: torch.dtype, device: torch.device | None = None) -> Tensor:
        """End values per component ``(*batch, n_components)`` (tensor components, label order)."""
        values = []
        for c in labels_for(kinematics):
            v = self.strain[c] if c in self.strain else self.stress[c]
            values.append(as_tensor(v, dtype=dtype, device=device))
        batch = torch.broadcast_shapes(*(v.shape for v in values))
        return torch.stack([v.expand(batch) for v in values], dim=-1)

    def temperature_target(self, dtype: torch.dtype, device: torch.device | None = None) -> Tensor | None:
        """The temperature at the end of the segment as a tensor (``()`` or the batch shape), ``None`` if held."""
        if self.temperature is None:
            return None
        return as_tensor(self.temperature, dtype=dtype, device=device)


@dataclass
class LoadPath:
    """A piecewise-linear load path: segments plus the kinematics ('small' or 'finite').

    ``name`` and ``description`` are free text carried into the driver's summary. ``initial_temperature`` (a
    number or a tensor of the batch shape; small strain only) is the temperature at time 0; ``None``: the model's
    own initial temperature (``state["temperature"]`` of ``model.initial_state``).
    """

    segments: list[Segment]
    kinematics: str = "small"
    name: str = "path"
    description: str = ""
    initial_temperature: Any = None

    def __post_init__(self) -> None:
        labels_for(self.kinematics)
        if self.initial_temperature is not None:
            _check_value("initial temperature", self.initial_temperature)
            if self.kinematics != "small":
                raise ValueError("a temperature is supported on small-strain paths only (kinematics='small')")
        if isinstance(self.segments, Segment):
            self.segments = [self.segments]
        if not isinstance(self.segments, Sequence) or not self.segments:
            raise ValueError("a load path needs a non-empty list of segments")
        bad = [type(s).__name__ for s in self.segments if not isinstance(s, Segment)]
        if bad:
            raise ValueError(f"a load path's segments must be constitutive.paths.Segment objects, got {bad}")
        self.segments = [s.validated(self.kinematics) for s in self.segments]
        self.batch_shape()  # the segments' target batches must broadcast

    @property
    def labels(self) -> tuple[str, ...]:
        return labels_for(self.kinematics)

    @property
    def n_steps(self) -> int:
        return sum(s.increments for s in self.segments)

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)

    @property
    def thermal(self) -> bool:
        """Whether the path prescribes a temperature (an initial temperature or a segment's target)."""
        return self.initial_temperature is not None or any(s.temperature is not None for s in self.segments)

    def batch_shape(self) -> torch.Size:
        """Broadcast shape of every segment's targets, temperatures included (``()`` for one point)."""
        try:
            shapes = [s.target(self.kinematics, torch.float64).shape[:-1] for s in self.segments]
            shapes += [t.shape for s in self.segments if (t := s.temperature_target(torch.float64)) is not None]
            if self.initial_temperature is not None:
                shapes.append(as_tensor(self.initial_temperature, dtype=torch.float64).shape)
            return torch.broadcast_shapes(*shapes)
        except RuntimeError as err:
            raise ValueError(f"the batch shapes of the path's targets do not broadcast: {err}") from None

    def __add__(self, other: LoadPath) -> LoadPath:
        if not isinstance(other, LoadPath):
            return NotImplemented
        if other.kinematics != self.kinematics:
            raise ValueError("cannot join a small-strain and a finite-strain path")
        if other.initial_temperature is not None:
            # the second path continues from where the first ends: its start temperature would be silently lost
            raise ValueError(
                "cannot join a path with an initial_temperature after another: give the temperature as the "
                "first path's last segment target instead"
            )
        return LoadPath(
            self.segments + other.segments,
            self.kinematics,
            f"{self.name}+{other.name}",
            initial_temperature=self.initial_temperature,
        )


# ------------------------------------------------------------------------------------------------ standard modes
_SHEAR = ("23", "13", "12")
_OFF9 = ("23", "13", "12", "32", "31", "21")


def _small_mode(mode: str, a: Any, by: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(strain, stress) dicts of a small-strain mode at amplitude a."""
    zero = 0.0
    if mode == "uniaxial_stress":
        drive, strain, stress = {"11": a}, {}, {c: zero for c in ("22", "33", *_SHEAR)}
    elif mode == "uniaxial_strain":
        drive, strain, stress = {"11": a}, {c: zero for c in ("22", "33", *_SHEAR)}, {}
    elif mode == "equibiaxial":
        drive, strain, stress = {"11": a, "22": a}, {}, {c: zero for c in ("33", *_SHEAR)}
    elif mode == "pure_shear":
        drive, strain, stress = {"11": a, "22": -a}, {c: zero for c in ("33", *_SHEAR)}, {}
    elif mode == "simple_shear":
        drive = {"12": a / 2 if by == "strain" else a}  # a is the engineering shear strain γ = 2 ε12
        strain, stress = {c: zero for c in ("11", "22", "33", "23", "13")}, {}
    elif mode == "hydrostatic":
        drive, strain, stress = {"11": a, "22": a, "33": a}, {c: zero for c in _SHEAR}, {}
    else:
        raise ValueError(f"unknown path mode {mode!r}; choose one of {MODES}")
    if by == "strain":
        return {**drive, **strain}, stress
    # Stress-driven: the driving components become stress-controlled; the others keep their control.
    return strain, {**drive, **stress}


def _finite_mode(mode: str, a: Any, by: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(F, P) dicts of a finite-strain mode at amplitude a."""
    one, zero = 1.0, 0.0
    off = {c: zero for c in _OFF9}
    if mode == "uniaxial_stress":
        drive, F, P = {"11": a}, dict(off), {"22": zero, "33": zero}
    elif mode == "uniaxial_strain":
        drive, F, P = {"11": a}, {"22": one, "33": one, **off}, {}
    elif mode == "equibiaxial":
        drive, F, P = {"11": a, "22": a}, dict(off), {"33": zero}
    elif mode == "pure_shear":
        drive, F, P = {"11": a}, {"22": one, **off}, {"33": zero}
    elif mode == "simple_shear":
        F = {"11": one, "22": one, "33": one, **{c: zero for c in _OFF9 if c != "12"}}
        if by == "strain":
            return {**F, "12": a}, {}
        return F, {"12": a}
    elif mode == "hydrostatic":
        drive, F, P = {"11": a, "22": a, "33": a}, dict(off), {}
    else:
        raise ValueError(f"unknown path mode {mode!r}; choose one of {MODES}")
    if by == "strain":
        return {**{c: one + v for c, v in drive.items()}, **F}, P
    return F, {**drive, **P}


MODES = ("uniaxial_stress", "uniaxial_strain", "equibiaxial", "pure_shear", "simple_shear", "hydrostatic")


def standard_path(
    mode: str,
    amplitudes: TensorLike | Sequence[Any],
    *,
    increments: int | Sequence[int] = 10,
    duration: float | Sequence[float] = 1.0,
    by: str = "strain",
    kinematics: str = "small",
    temperatures: TensorLike | Sequence[Any] | None = None,
    initial_temperature: Any = None,
) -> LoadPath:
    """A named mode driven through the keypoint amplitudes ``a_1, a_2, ...`` (starting from a = 0).

    Parameters
    ----------
    mode:
        One of :data:`MODES`; see the module docstring for the meaning of ``a`` in each mode.
    amplitudes:
        A number, a list of numbers, or a tensor ``(n_keypoints, *batch)`` for a batch of points with different
        amplitudes.
    increments, duration:
        Per segment: one value for all or one per keypoint (defaults 10 increments, duration 1).
    by:
        'strain' (default) or 'stress': which quantity the amplitude prescribes.
    kinematics:
        'small' (default) or 'finite'.
    temperatures:
        The temperature column of the history (small strain): one temperature per keypoint, reached with its
        amplitude (a list, or a tensor ``(n_keypoints, *batch)``; ``None`` entries hold the temperature).
        Default ``None``: no temperature targets.
    initial_temperature:
        The temperature at time 0 (default ``None``: the model's own initial temperature).
    """
    if by not in CONTROLS:
        raise ValueError(f"by must be 'strain' or 'stress', got {by!r}")
    labels_for(kinematics)
    if mode not in MODES:
        raise ValueError(f"unknown path mode {mode!r}; choose one of {MODES}")
    amps = amplitudes if isinstance(amplitudes, Tensor) else as_tensor(amplitudes)
    if amps.ndim == 0:
        amps = amps.reshape(1)
    n = amps.shape[0]
    try:  # one number for every segment, or one per keypoint (Segment validates each value)
        incs = [increments] * n if isinstance(increments, (int, float)) else list(increments)
        durs = [duration] * n if isinstance(duration, (int, float)) else list(duration)
    except TypeError:
        raise ValueError(
            f"increments and duration must be numbers or lists of numbers, got {increments!r} and {duration!r}"
        ) from None
    if len(incs) != n or len(durs) != n:
        raise ValueError(f"need one increments/duration value per keypoint ({n}), got {len(incs)} and {len(durs)}")
    temps = _temperature_column(temperatures, n)
    build = _small_mode if kinematics == "small" else _finite_mode
    segments = []
    for k in range(n):
        a = amps[k] if amps[k].ndim else float(amps[k])
        strain, stress = build(mode, a, by)
        segments.append(Segment(strain, stress, incs[k], durs[k], temps[k]))
    return LoadPath(
        segments,
        kinematics,
        name=f"{mode} ({kinematics} strain, {by}-driven)",
        initial_temperature=initial_temperature,
    )


def _temperature_column(temperatures: Any, n: int) -> list[Any]:
    """One temperature target (or ``None``: held) per keypoint; ``ValueError`` unless there are ``n``."""
    if temperatures is None:
        return [None] * n
    if isinstance(temperatures, Tensor):
        column: list[Any] = list(temperatures) if temperatures.ndim else [temperatures]
    elif isinstance(temperatures, (str, bytes, Mapping)) or not isinstance(temperatures, Sequence):
        raise ValueError(f"temperatures must be a list with one temperature per keypoint, got {temperatures!r}")
    else:
        column = list(temperatures)
    if len(column) != n:
        raise ValueError(f"need one temperature per keypoint ({n}), got {len(column)}")
    return column


def history(mode: str, amplitudes: Sequence[Any], **kwargs: Any) -> LoadPath:
    """An arbitrary piecewise-linear history of a mode: alias of :func:`standard_path` (``temperatures=[...]``: the
    temperature column, one per amplitude)."""
    return standard_path(mode, amplitudes, **kwargs)


def cyclic(
    mode: str = "uniaxial_stress",
    amplitude: float = 0.01,
    cycles: int = 1,
    *,
    mean: float = 0.0,
    increments: int = 20,
    duration: float = 1.0,
    by: str = "strain",
    kinematics: str = "small",
) -> LoadPath:
    r"""Tension--compression cycles: keypoints :math:`m + a, m - a, m + a, \dots` (``2 cycles + 1`` keypoints), i.e.
    a first loading branch then ``cycles`` full reversals-and-reloadings. A segment from ``+a`` to ``-a`` spans twice
    the amplitude, so it gets ``2 increments`` steps and ``2 duration`` (constant rate).

    Parameters
    ----------
    mode:
        One of :data:`MODES` (default 'uniaxial_stress').
    amplitude:
        The amplitude a (default 0.01).
    cycles:
        The number of full cycles, a non-negative integer (default 1).
    mean:
        The mean value m (default 0).
    increments, duration:
        Steps and duration of the first loading branch (defaults 20 and 1); reversals get twice each.
    by, kinematics:
        As in :func:`standard_path`.
    """
    if int(cycles) != cycles or cycles < 0:
        raise ValueError(f"cycles must be a non-negative integer, got {cycles!r}")
    amps = [mean + amplitude] + [mean - amplitude, mean + amplitude] * int(cycles)
    incs = [increments] + [2 * increments] * (2 * int(cycles))
    durs = [duration] + [2 * duration] * (2 * int(cycles))
    path = standard_path(mode, amps, increments=incs, duration=durs, by=by, kinematics=kinematics)
    path.name = f"cyclic {mode} ({kinematics} strain, {by}-driven), amplitude {amplitude}, {cycles} cycle(s)"
    return path


def uniaxial_stress(amplitudes: Any, **kwargs: Any) -> LoadPath:
    """Uniaxial stress: ε11 (F11 = 1 + a) prescribed, every other stress zero (mixed control); see module doc."""
    return standard_path("uniaxial_stress", amplitudes, **kwargs)


def uniaxial_strain(amplitudes: Any, **kwargs: Any) -> LoadPath:
    """Uniaxial strain: ε11 = a, all other strains zero."""
    return standard_path("uniaxial_strain", amplitudes, **kwargs)


def equibiaxial(amplitudes: Any, **kwargs: Any) -> LoadPath:
    """Equibiaxial: ε11 = ε22 = a, σ33 and the shear stresses zero."""
    return standard_path("equibiaxial", amplitudes, **kwargs)


def pure_shear(amplitudes: Any, **kwargs: Any) -> LoadPath:
    """Pure shear: ε = diag(a, −a, 0) (small strain); planar tension F11 = 1 + a, F22 = 1, P33 = 0 (finite)."""
    return standard_path("pure_shear", amplitudes, **kwargs)


def simple_shear(amplitudes: Any, **kwargs: Any) -> LoadPath:
    """Simple shear with amount γ = a: ε12 = γ/2 (small strain), F12 = γ (finite); other strains zero."""
    return standard_path("simple_shear", amplitudes, **kwargs)


def hydrostatic(amplitudes: Any, **kwargs: Any) -> LoadPath:
    """Hydrostatic: ε11 = ε22 = ε33 = a (or σii = a = −pressure with ``by='stress'``)."""
    return standard_path("hydrostatic", amplitudes, **kwargs)


# ---------------------------------------------------------------------------------------------------- from TOML
_PATH_KEYS = {
    "mode",
    "amplitudes",
    "amplitude",
    "cycles",
    "mean",
    "increments",
    "duration",
    "by",
    "kinematics",
    "table",
}


def path_from_dict(data: Mapping[str, Any], *, source: str | Path = "<path>") -> LoadPath:
    """Build a :class:`LoadPath` from the ``[path]`` table and/or ``[[steps]]`` array of a load-path file.

    ``[path]``: ``mode`` (a :data:`MODES` name), ``kinematics`` ('small' default, or 'finite'), ``by`` ('strain' or
    'stress'), and either ``amplitudes = [...]`` (piecewise-linear history) or ``amplitude`` + ``cycles`` (+ ``mean``)
    for a cyclic path; ``increments`` and ``duration`` per segment (a number or a list).

    ``[[steps]]``: each table has ``strain = {"11" = ...}`` and ``stress = {"22" = ...}`` (on a finite path ``F`` and
    ``P``; ``strain``/``stress`` are accepted as aliases), ``increments``, ``duration`` and, optionally,
    ``temperature`` (reached at the end of the step). Steps follow the ``[path]`` segments when both are given.

    ``[temperature]`` (optional, small strain): ``initial`` (the temperature at time 0; default the model's own
    initial temperature) and ``values = [...]``, the temperature column: one temperature per segment, in order
    (the ``[path]`` segments -- one per amplitude, ``2 cycles + 1`` on a cyclic path -- then the ``[[steps]]``),
    each reached at the end of its segment. A step's own ``temperature`` and ``values`` exclude each other.
    """
    if not isinstance(data, Mapping):
        raise ValueError(
            f"{source}: a load-path description must be a mapping (TOML tables), got {type(data).__name__}"
        )
    if not isinstance(data.get("path", {}), Mapping):
        raise ValueError(f"{source}: [path] must be a table, got {data['path']!r}")
    raw_steps = data.get("steps", [])
    if isinstance(raw_steps, (str, bytes, Mapping)) or not isinstance(raw_steps, Sequence):
        raise ValueError(f"{source}: steps must be an array of tables ([[steps]]), got {raw_steps!r}")
    for k, step in enumerate(raw_steps):
        if not isinstance(step, Mapping):
            raise ValueError(f"{source}: step {k + 1} must be a table ([[steps]]), got {step!r}")
    table = dict(data.get("path", {}))
    steps = list(raw_steps)
    kinematics = str(table.get("kinematics", data.get("kinematics", "small")))
    labels_for(kinematics)
    segments: list[Segment] = []
    name = str(data.get("title", Path(str(source)).stem))
    if table:
        segments += _path_table_segments(table, kinematics, source)
    segments += _step_segments(steps, kinematics, source)
    if not segments:
        raise ValueError(f"{source}: no load path: give a [path] table or [[steps]]")
    initial = _temperature_table(data, segments, kinematics, source)
    return LoadPath(
        segments, kinematics, name=name, description=str(data.get("description", "")), initial_temperature=initial
    )


def _temperature_number(value: Any, what: str, source: str | Path) -> float:
    """A finite real temperature from a TOML value; ``ValueError`` naming ``what`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{source}: {what} must be a finite number, got {value!r}")
    return float(value)


def _temperature_table(
    data: Mapping[str, Any], segments: list[Segment], kinematics: str, source: str | Path
) -> float | None:
    """Apply the ``[temperature]`` table's ``values`` to ``segments`` (in place) and return its ``initial``."""
    table = data.get("temperature")
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ValueError(f"{source}: [temperature] must be a table (initial = ..., values = [...]), got {table!r}")
    unknown = sorted(set(table) - {"initial", "values"})
    if unknown:
        raise ValueError(f"{source}: unknown keys {unknown} in [temperature]; allowed: ['initial', 'values']")
    if kinematics != "small":
        raise ValueError(f"{source}: a [temperature] table is supported on small-strain paths only")
    initial = None if "initial" not in table else _temperature_number(table["initial"], "[temperature] initial", source)
    if "values" in table:
        values = table["values"]
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
            raise ValueError(f"{source}: [temperature] values must be a list of numbers, got {values!r}")
        if len(values) != len(segments):
            raise ValueError(
                f"{source}: [temperature] values needs one temperature per segment ({len(segments)}: the [path] "
                f"segments, then the [[steps]]), got {len(values)}"
            )
        given = [k + 1 for k, seg in enumerate(segments) if seg.temperature is not None]
        if given:
            raise ValueError(
                f"{source}: segments {given} give their own temperature; use either [temperature] values or a "
                "step's temperature, not both"
            )
        for k, (seg, v) in enumerate(zip(segments, values)):
            seg.temperature = _temperature_number(v, f"[temperature] values[{k}]", source)
    return initial


def _path_table_segments(table: Mapping[str, Any], kinematics: str, source: str | Path) -> list[Segment]:
    """The segments of a ``[path]`` table (a cyclic path, or a piecewise-linear history of amplitudes)."""
    unknown = sorted(set(table) - _PATH_KEYS)
    if unknown:
        raise ValueError(f"{source}: unknown keys {unknown} in [path]; allowed: {sorted(_PATH_KEYS)}")
    if "table" in table:
        extra = sorted(set(table) - {"table", "increments", "kinematics"})
        if extra:
            raise ValueError(f"{source}: [path] table = ... takes only increments and kinematics besides, got {extra}")
        ref = Path(str(table["table"]))
        if not ref.is_absolute() and Path(str(source)).exists():
            ref = Path(str(source)).parent / ref
        tabled = path_from_table(ref, kinematics=kinematics, increments=table.get("increments", 1))
        if tabled.initial_temperature is not None:
            raise ValueError(
                f"{source}: the table {ref} starts with a time-0 row carrying T; give the initial temperature in "
                "[temperature] initial = ... of the load-path file instead"
            )
        return tabled.segments
    if "mode" not in table:
        raise ValueError(f"{source}: [path] needs mode = one of {MODES}")
    common = dict(by=str(table.get("by", "strain")), kinematics=kinematics)
    if "cycles" in table or "amplitude" in table:
        if "amplitudes" in table:
            raise ValueError(f"{source}: give either amplitudes or amplitude + cycles in [path], not both")
        numbers: dict[str, Any] = {}
        for key, default in (
            ("amplitude", 0.0),
            ("cycles", 0),
            ("mean", 0.0),
            ("increments", 20),
            ("duration", 1.0),
        ):
            value = table.get(key, default)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{source}: [path] {key} of a cyclic path must be one number, got {value!r}")
            numbers[key] = value
        path = cyclic(
            table["mode"],
            float(numbers["amplitude"]),
            numbers["cycles"],
            mean=float(numbers["mean"]),
            increments=numbers["increments"],
            duration=float(numbers["duration"]),
            **common,
        )
    elif "amplitudes" in table:
        path = standard_path(
            table["mode"],
            list(table["amplitudes"]),
            increments=table.get("increments", 10),
            duration=table.get("duration", 1.0),
            **common,
        )
    else:
        raise ValueError(f"{source}: [path] needs amplitudes = [...] or amplitude + cycles")
    return path.segments


def _step_segments(steps: Sequence[Any], kinematics: str, source: str | Path) -> list[Segment]:
    """The validated segments of a ``[[steps]]`` array."""
    segments: list[Segment] = []
    names = ("F", "P") if kinematics == "finite" else ("strain", "stress")
    for k, step in enumerate(steps):
        unknown = sorted(set(step) - {"strain", "stress", "F", "P", "increments", "duration", "temperature"})
        if unknown:
            raise ValueError(f"{source}: unknown keys {unknown} in step {k + 1}")
        strain, stress = (step.get(names[i], step.get(alias, {})) for i, alias in enumerate(("strain", "stress")))
        for key, value in ((names[0], strain), (names[1], stress)):
            if not isinstance(value, Mapping):
                raise ValueError(
                    f'{source}: step {k + 1}: {key} must be a table of components ({{"11" = ...}}), got {value!r}'
                )
        temperature = step.get("temperature")
        if temperature is not None:
            temperature = _temperature_number(temperature, f"step {k + 1}: temperature", source)
        seg = Segment(dict(strain), dict(stress), step.get("increments", 1), step.get("duration", 1.0), temperature)
        try:
            segments.append(seg.validated(kinematics))
        except ValueError as err:
            raise ValueError(f"{source}: step {k + 1}: {err}") from None
    return segments


def path_from_table(
    table: str | Path | Sequence[Mapping[str, Any]],
    *,
    kinematics: str = "small",
    increments: int = 1,
    name: str | None = None,
) -> LoadPath:
    r"""A load path from a table of keypoints: a CSV file (``#`` comment lines skipped) or a list of row dicts.

    One row per keypoint, reached at the end of its segment; columns (the names of the driver's CSV output):

    * ``strain_11`` … / ``stress_11`` … for every component of :func:`labels_for` (on a finite path ``F_11`` … /
      ``P_11`` …): in each row exactly one of the two columns of a component holds a number (the control of that
      component in that segment; mixed control and switching controls between rows allowed), the other is empty;
    * ``time`` (optional): the time at the keypoint; a segment's duration is the difference to the previous row's
      (the first row's to 0). Without it every segment lasts 1;
    * ``T`` (optional, small strain): the temperature at the keypoint, the **temperature column**: each segment
      reaches its row's T linearly (:class:`Segment` ``temperature``); an empty cell holds the temperature;
    * ``increments`` (optional): steps per segment (default: the ``increments`` argument).

    A first row at ``time`` 0 is the starting point, not a segment: its targets must be zero (paths start from the
    virgin state) and its ``T`` becomes the path's ``initial_temperature``. ``ValueError`` naming the row and the
    column for an unknown column, a component with both or neither control, a non-number, a non-increasing time.
    """
    labels = labels_for(kinematics)
    q0, q1 = ("F", "P") if kinematics == "finite" else ("strain", "stress")
    source = str(table) if isinstance(table, (str, Path)) else "<table>"
    rows = _read_table_rows(table) if isinstance(table, (str, Path)) else [dict(r) for r in table]
    if not rows:
        raise ValueError(f"{source}: the path table has no rows")
    allowed = {f"{q}_{c}" for q in (q0, q1) for c in labels} | {"time", "T", "increments"}
    unknown = sorted(set().union(*(r.keys() for r in rows)) - allowed)
    if unknown:
        raise ValueError(
            f"{source}: unknown column(s) {unknown}; columns are {q0}_<ij> / {q1}_<ij> for ij in {list(labels)}, "
            "time, T, increments"
        )

    def number(row: int, col: str, value: Any) -> float | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{source}: row {row}, column {col!r}: not a number: {value!r}") from None
        if not math.isfinite(x):
            raise ValueError(f"{source}: row {row}, column {col!r}: must be finite, got {value!r}")
        return x

    keypoints = []
    for k, r in enumerate(rows, start=1):
        strain: dict[str, float] = {}
        stress: dict[str, float] = {}
        for c in labels:
            a, b = number(k, f"{q0}_{c}", r.get(f"{q0}_{c}")), number(k, f"{q1}_{c}", r.get(f"{q1}_{c}"))
            if (a is None) == (b is None):
                raise ValueError(
                    f"{source}: row {k}: component {c} needs exactly one of {q0}_{c} and {q1}_{c}, got "
                    f"{'both' if a is not None else 'neither'}"
                )
            (strain if a is not None else stress)[c] = a if a is not None else b  # type: ignore[assignment]
        inc = number(k, "increments", r.get("increments"))
        keypoints.append((strain, stress, number(k, "time", r.get("time")), number(k, "T", r.get("T")), inc))
    if any(T is not None for *_, T, _ in keypoints) and kinematics != "small":
        raise ValueError(f"{source}: a T column is supported on small-strain paths only")
    initial = None
    first_strain, first_stress, t0, T0, _ = keypoints[0]
    if t0 == 0.0:
        reference = {c: (1.0 if kinematics == "finite" and c[0] == c[1] else 0.0) for c in labels}
        off = [c for c, v in first_strain.items() if v != reference[c]] + [c for c, v in first_stress.items() if v]
        if off:
            raise ValueError(
                f"{source}: row 1 (time 0) is the starting point: its targets must be the virgin state, got {off}"
            )
        initial, keypoints = T0, keypoints[1:]
        if not keypoints:
            raise ValueError(f"{source}: the path table has only its time-0 row")
    times = [kp[2] for kp in keypoints]
    if any(t is not None for t in times) and any(t is None for t in times):
        raise ValueError(f"{source}: the time column must be filled in every row (or left out)")
    segments: list[Segment] = []
    previous = 0.0
    for k, (strain, stress, t, T, inc) in enumerate(keypoints, start=1 if initial is None else 2):
        duration = 1.0
        if t is not None:
            duration = t - previous
            if not duration > 0:
                raise ValueError(f"{source}: row {k}: time must increase, got {t:g} after {previous:g}")
            previous = t
        n = increments if inc is None else inc
        if n != int(n) or n < 1:
            raise ValueError(f"{source}: row {k}: increments must be a positive integer, got {n!r}")
        seg = Segment(strain, stress, int(n), duration, T)
        try:
            segments.append(seg.validated(kinematics))
        except ValueError as err:
            raise ValueError(f"{source}: row {k}: {err}") from None
    title = name if name is not None else (Path(source).stem if source != "<table>" else "table")
    return LoadPath(segments, kinematics, name=title, initial_temperature=initial)


def _read_table_rows(path: str | Path) -> list[dict[str, str]]:
    """The rows of a CSV file as dicts (header row first; blank and ``#`` comment lines skipped)."""
    import csv

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no path table {p}")
    with open(p, newline="", encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.DictReader(lines)
    rows = []
    for k, row in enumerate(reader, start=1):
        if None in row:
            raise ValueError(f"{p}: row {k} has more cells than the header")
        rows.append({key.strip(): value for key, value in row.items() if key is not None})
    return rows
