"""What the driver returns: :class:`DriveResult` (per-step record, CSV, summary), the recorder that builds it,
and :class:`DriverError` (a stopped run, carrying the converged steps)."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..models.base import ConvergenceError
from ..paths import FINITE_COMPONENTS, LoadPath
from ..tensor import Tensor
from .kinematics import FiniteStrain, SmallStrain


class DriverError(ConvergenceError):
    """The driver stopped: a step did not converge or the model failed. ``result`` holds the converged steps;
    ``diagnostics`` the step, time, failing points and residuals."""

    def __init__(self, message: str, result: DriveResult, **diagnostics: Any) -> None:
        super().__init__(message, **diagnostics)
        self.result = result


@dataclass
class MaterialFailure:
    """The first step at which a model's failure criterion was met (``model.failed(state)``, e.g. critical damage):
    ``step`` (index into the result's per-step arrays), ``time``, ``points`` (batch indices of the points failed at
    that step, at most 50; ``()`` for an unbatched run) and ``message``. The run itself went on: a failed material
    point is reported, not a stopped driver (that is :class:`DriverError`)."""

    step: int
    time: float
    points: list[tuple[int, ...]]
    message: str


@dataclass
class DriveResult:
    r"""Per-step record of a driven load path (index 0 is the initial state at time 0); tensors on the CPU,
    detached -- except with ``drive(..., differentiable=True)``, where ``strain``, ``stress`` and ``state`` stay on the
    model's device, attached to the autograd graph.

    Shapes (``B`` = batch shape, ``n`` = number of converged steps):

    * ``time (n+1,)``; ``strain``, ``stress`` ``(n+1, *B, 3, 3)`` (F and P on a finite path);
    * ``state[name] (n+1, *B, ...)`` (empty for models without history);
    * ``iterations (n+1, *B)``: Newton corrections per step and point;
    * ``residuals[k] (iters+1, *B)``: residual norm before each correction of step k (NaN once a point has
      converged); ``tolerance (n+1, *B)``: the convergence threshold used;
    * ``tangent_error (n+1, *B)``: relative error of the Newton tangent against finite differences of the step's
      stress map, :math:`\max|C - C^{FD}|/\max|C^{FD}|` (``None`` unless requested);
    * ``control[k]``: 'strain'/'stress' per component in step k; ``segment (n+1,)``: the path segment of each step;
    * ``line_search_halvings (n+1,)``: Newton steps halved by the backtracking line search in each step (0 when
      every full Newton step reduced the residual).
    * ``temperature (n+1, *B)``: the temperature at the end of each step (a temperature-dependent model, e.g.
      ``ThermoMechanical``; ``None`` otherwise), the ``T`` column of :meth:`table`;
      ``thermal_tangent_error (n+1, *B)``: relative error of the model's dσ/dT (``update_thermal``) against
      central finite differences in the temperature (``None`` unless ``check_tangent`` and the model has
      ``update_thermal``);
    * ``failure``: the first step at which the model's failure criterion (``model.failed(state)``, a hook of
      :class:`~constitutive.models.base.PathDependentMaterial`) held at some point, a :class:`MaterialFailure`;
      ``None`` when no point failed or the model defines no criterion.
    """

    kinematics: str
    labels: tuple[str, ...]
    time: Tensor
    strain: Tensor
    stress: Tensor
    state: dict[str, Tensor]
    iterations: Tensor
    residuals: list[Tensor]
    tolerance: Tensor
    control: list[tuple[str, ...] | None]
    segment: Tensor
    tangent_error: Tensor | None = None
    line_search_halvings: Tensor | None = None
    completed: bool = True
    error: str | None = None
    model: str = ""
    path: str = ""
    wall_time: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    failure: MaterialFailure | None = None
    temperature: Tensor | None = None
    thermal_tangent_error: Tensor | None = None

    # ---------------------------------------------------------------------------------------------- access
    @property
    def n_steps(self) -> int:
        return int(self.time.shape[0]) - 1

    @property
    def batch_shape(self) -> torch.Size:
        return self.strain.shape[1:-2]

    @property
    def quantity_names(self) -> tuple[str, str]:
        return ("F", "P") if self.kinematics == "finite" else ("strain", "stress")

    def components(self, quantity: str) -> Tensor:
        """Tensor components ``(n+1, *B, n_components)`` in label order of 'strain'/'stress' (or 'F'/'P')."""
        names = self.quantity_names
        aliases = {names[0]: self.strain, names[1]: self.stress, "strain": self.strain, "stress": self.stress}
        if quantity not in aliases:
            raise ValueError(f"unknown quantity {quantity!r}; choose one of {names}")
        x = aliases[quantity]
        pairs = FINITE_COMPONENTS[: len(self.labels)]
        return torch.stack([x[..., i, j] for i, j in pairs], dim=-1)

    def column(self, name: str) -> Tensor:
        """One column of :meth:`table` by name, e.g. ``'stress_11'``, ``'strain_12'``, ``'F_11'``, ``'time'``,
        ``'iterations'``, ``'T'`` (the temperature, when recorded), or a state variable name (``(n+1, *B, ...)``)."""
        if name == "time":
            return self.time
        if name == "T" and self.temperature is not None:
            return self.temperature
        if name == "iterations":
            return self.iterations
        if name in self.state:
            return self.state[name]
        quantity, _, label = name.rpartition("_")
        if quantity and label in self.labels:
            return self.components(quantity)[..., self.labels.index(label)]
        raise ValueError(
            f"unknown column {name!r}; columns are time, iterations, "
            + ("T, " if self.temperature is not None else "")
            + f"state variables {sorted(self.state)}, and "
            f"<quantity>_<label> with quantity in {self.quantity_names} and label in {list(self.labels)}"
        )

    def final_residuals(self) -> Tensor:
        """Residual norm at convergence for each step ``(n+1, *B)`` (0 for step 0 and fully strain-controlled)."""
        out = torch.zeros(self.iterations.shape, dtype=self.time.dtype)
        for k, r in enumerate(self.residuals):
            if r.shape[0]:
                out[k] = _last_finite(r)
        return out

    # ----------------------------------------------------------------------------------------------- table
    def table(self) -> tuple[list[str], list[list[Any]]]:
        """The per-step table: header and rows (one row per step and point; ``point`` is the flat batch index).
        With a recorded temperature, a ``T`` column follows the stresses (and the state's own ``temperature``
        entry, the same values, is not repeated)."""
        batch = self.batch_shape
        npts = math.prod(batch) if len(batch) else 1
        q0, q1 = self.quantity_names
        header = ["step", "time", "segment"] + (["point"] if len(batch) else [])
        header += [f"{q0}_{c}" for c in self.labels] + [f"{q1}_{c}" for c in self.labels]
        temp = None if self.temperature is None else self.temperature.detach().cpu().reshape(self.n_steps + 1, npts)
        header += [] if temp is None else ["T"]
        state_cols: list[tuple[str, Tensor]] = []
        for name, value in self.state.items():
            if temp is not None and name == "temperature":
                continue
            v = value.reshape(value.shape[0], npts, -1)
            if v.shape[-1] == 1:
                state_cols.append((name, v[..., 0]))
            else:
                state_cols += [(f"{name}_{i}", v[..., i]) for i in range(v.shape[-1])]
        header += [n for n, _ in state_cols]
        header += ["control", "iterations", "residual", "tolerance"]
        if self.tangent_error is not None:
            header.append("tangent_error")
        if self.thermal_tangent_error is not None:
            header.append("thermal_tangent_error")
        eps = self.components(q0).reshape(self.n_steps + 1, npts, -1).detach().cpu()
        sig = self.components(q1).reshape(self.n_steps + 1, npts, -1).detach().cpu()
        its = self.iterations.reshape(self.n_steps + 1, npts)
        res = self.final_residuals().reshape(self.n_steps + 1, npts)
        tol = self.tolerance.reshape(self.n_steps + 1, npts)
        terr = None if self.tangent_error is None else self.tangent_error.reshape(self.n_steps + 1, npts)
        therr = None
        if self.thermal_tangent_error is not None:
            therr = self.thermal_tangent_error.reshape(self.n_steps + 1, npts)
        rows = []
        for k in range(self.n_steps + 1):
            ctrl = self.control[k]
            ctrl_text = "" if ctrl is None else "".join("e" if c == "strain" else "s" for c in ctrl)
            for p in range(npts):
                row: list[Any] = [k, float(self.time[k]), int(self.segment[k])] + ([p] if len(batch) else [])
                row += [float(v) for v in eps[k, p]] + [float(v) for v in sig[k, p]]
                row += [] if temp is None else [float(temp[k, p])]
                row += [float(v[k, p]) for _, v in state_cols]
                row += [ctrl_text, int(its[k, p]), float(res[k, p]), float(tol[k, p])]
                if terr is not None:
                    row.append(float(terr[k, p]))
                if therr is not None:
                    row.append(float(therr[k, p]))
                rows.append(row)
        return header, rows

    def to_csv(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write :meth:`table` as CSV (``control``: one letter per component, ``e`` strain/F, ``s`` stress/P);
        atomically, and over an existing file only with ``overwrite=True`` (:mod:`constitutive.fileio`)."""
        from ..fileio import atomic_open, check_writable

        path = check_writable(path, overwrite=overwrite)
        header, rows = self.table()
        with atomic_open(path, "w", overwrite=overwrite, newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        return path

    # --------------------------------------------------------------------------------------------- summary
    def summary(self) -> str:
        """One paragraph: steps, iterations, worst residual, the tangent-check line and the failure if any."""
        its = self.iterations[1:].to(torch.float64)
        lines = [
            f"{self.model or 'model'} along {self.path or 'path'}: {self.n_steps} step(s)"
            + (f" x {math.prod(self.batch_shape)} points" if len(self.batch_shape) else "")
            + f", t = {float(self.time[-1]):.6g}, {self.wall_time:.2f} s"
        ]
        if its.numel():
            ratio = (self.final_residuals()[1:] / self.tolerance[1:].clamp_min(1e-300)).max()
            lines.append(
                f"Newton: {int(its.sum())} iterations in total, mean {float(its.mean()):.2f}, max "
                f"{int(its.max())} per step; worst final residual/tolerance {float(ratio):.2e}"
            )
            halved = 0 if self.line_search_halvings is None else int(self.line_search_halvings.sum())
            if halved:
                lines.append(f"line search: {halved} Newton step(s) halved")
            if self.extra.get("cutbacks"):
                lines.append(f"cutbacks: {self.extra['cutbacks']} failed step(s) split in two")
        q0, q1 = self.quantity_names
        e, s = self.components(q0)[-1], self.components(q1)[-1]
        if len(self.batch_shape) == 0:
            lines.append(
                f"final {q0}: "
                + ", ".join(f"{c}={float(v):.6g}" for c, v in zip(self.labels, e))
                + f"\nfinal {q1}: "
                + ", ".join(f"{c}={float(v):.6g}" for c, v in zip(self.labels, s))
            )
        if self.temperature is not None:
            T = self.temperature.detach()
            lines.append(
                f"temperature: {float(T[0].min()):.6g} -> {float(T[-1].max()):.6g} (range {float(T.min()):.6g} to "
                f"{float(T.max()):.6g})"
            )
        tol = float(self.extra.get("tangent_tolerance", float("nan")))
        for what, errors in (
            ("tangent check", self.tangent_error),
            ("thermal tangent check (dσ/dT)", self.thermal_tangent_error),
        ):
            if errors is None:
                continue
            err = errors[1:]
            if err.numel():
                worst = float(err.max())
                k = int(err.reshape(err.shape[0], -1).amax(dim=1).argmax()) + 1
                verdict = "PASS" if worst <= tol else "FAIL"
                lines.append(
                    f"{what}: {verdict}, max relative error {worst:.2e} (step {k}) over {self.n_steps} steps, "
                    f"tolerance {tol:.1e}"
                )
        if self.failure is not None:
            lines.append(f"MATERIAL FAILURE: {self.failure.message}")
        if not self.completed:
            lines.append(f"STOPPED EARLY: {self.error}")
        return "\n".join(lines)

    # -------------------------------------------------------------------------------------------- figures
    def plot(
        self,
        path: str | Path | None = None,
        *,
        x: str | None = None,
        y: str | None = None,
        ax: Any = None,
        label: str | None = None,
        title: str | None = None,
        overwrite: bool = False,
    ) -> Any:
        """Stress--strain curve (a hysteresis loop on a cyclic path) of column ``y`` against ``x``, one line per point.

        Parameters
        ----------
        path:
            Save the figure there when given (atomically; only a figure of its own, i.e. with ``ax`` ``None``).
        x, y:
            Column names (defaults: the first driven strain component and its stress).
        ax:
            Matplotlib axes to draw into (default: a new figure).
        label:
            Legend label of the first point's line (a legend is drawn when given).
        title:
            Axes title.
        overwrite:
            Replace an existing file at ``path`` (default ``False``: refused).

        Returns the matplotlib axes (see :func:`constitutive.driver.figures.plot_result`).
        """
        from .figures import plot_result

        return plot_result(self, path, x=x, y=y, ax=ax, label=label, title=title, overwrite=overwrite)

    def _driving_component(self) -> str:
        """The component with the largest strain (F − I) excursion: what the path drives."""
        e = self.components(self.quantity_names[0])
        if self.kinematics == "finite":
            e = e - e[:1]
        spread = e.reshape(e.shape[0], -1, e.shape[-1]).abs().amax(dim=(0, 1))
        return self.labels[int(spread.argmax())]


def _last_finite(r: Tensor) -> Tensor:
    """Per point, the last finite entry of a history ``(iters+1, *B)``."""
    finite = torch.isfinite(r)
    idx = (finite.to(torch.int64) * torch.arange(r.shape[0]).reshape(-1, *([1] * (r.ndim - 1)))).amax(dim=0)
    return torch.gather(torch.nan_to_num(r, nan=0.0), 0, idx.unsqueeze(0)).squeeze(0)


class Recorder:
    """Accumulates per-step records; builds a :class:`DriveResult` at the end or on failure."""

    def __init__(
        self,
        kin: SmallStrain | FiniteStrain,
        batch: torch.Size,
        dtype: torch.dtype,
        device: torch.device,
        differentiable: bool = False,
        state_out: Callable[[Any], Any] | None = None,
    ) -> None:
        self.kin, self.batch, self.differentiable = kin, batch, differentiable
        #: Converts a stacked state of the evaluator's form (e.g. J2's Mandel vectors) to the model's own form;
        #: ``None``: the same form. States are recorded as the evaluator holds them and converted once, stacked.
        self.state_out = state_out
        self.times: list[float] = []
        self.xs: list[Tensor] = []
        self.ys: list[Tensor] = []
        self.states: list[Any] = []
        self.iters: list[Tensor] = []
        self.histories: list[Tensor] = []
        self.tols: list[Tensor] = []
        self.controls: list[tuple[str, ...] | None] = []
        self.segments: list[int] = []
        self.Ks: list[Tensor | None] = []
        self.dts: list[float] = []
        self.backtracks: list[int] = []
        self.temperatures: list[Tensor | None] = []

    def add(
        self,
        t: float,
        x: Tensor,
        y: Tensor,
        state: Mapping[str, Tensor] | None,
        history: Tensor,
        tol: Tensor,
        control: tuple[str, ...] | None,
        segment: int,
        K: Tensor | None,
        backtracks: int,
        dt: float,
        temperature: Tensor | None = None,
    ) -> None:
        """Record one converged step: internal vectors ``x`` (strain/F) and ``y`` (stress/P), the state, the residual
        history ``(iters+1, *B)``, the tolerance, the Newton matrix ``K`` (kept for the tangent check), ``dt`` and
        the temperature at the end of the step ``(*B)`` (``None``: none)."""
        self.backtracks.append(backtracks)
        self.temperatures.append(temperature)
        self.Ks.append(K)
        self.dts.append(dt)
        self.times.append(t)
        self.xs.append(x)
        self.ys.append(y)
        self.states.append(state)
        # Iterations per point: corrections until that point met the tolerance.
        if history.shape[0]:
            per_point = torch.isfinite(history).sum(dim=0) - 1
        else:
            per_point = torch.zeros(self.batch, dtype=torch.int64, device=history.device)
        self.iters.append(per_point.to(torch.int64))
        self.histories.append(history)
        self.tols.append(tol)
        self.controls.append(control)
        self.segments.append(segment)

    def result(
        self, labels: tuple[str, ...], model: Any, path: LoadPath, wall: float, tangent_tolerance: float
    ) -> DriveResult:
        kin = self.kin

        def out(t: Tensor) -> Tensor:  # differentiable: keep the graph and the device
            return t if self.differentiable else t.detach().cpu()

        strain = out(kin.tensor(torch.stack(self.xs), kin.names[0]))  # one conversion of the stacked vectors
        stress = out(kin.tensor(torch.stack(self.ys), kin.names[1]))
        state = {name: out(value) for name, value in self.stacked_states().items()}
        return DriveResult(
            kinematics=kin.kind,
            labels=tuple(labels),
            time=torch.tensor(self.times, dtype=torch.float64),
            strain=strain,
            stress=stress,
            state=state,
            iterations=torch.stack(self.iters).cpu(),
            residuals=[h.detach().cpu() for h in self.histories],
            tolerance=torch.stack(self.tols).detach().cpu(),
            control=list(self.controls),
            segment=torch.tensor(self.segments),
            line_search_halvings=torch.tensor(self.backtracks),
            model=type(model).__name__,
            path=path.name,
            wall_time=wall,
            extra={"tangent_tolerance": tangent_tolerance},
            failure=_first_failure(model, state, self.times),
            temperature=self.temperature_record(),
        )

    def stacked_states(self, steps: list[int] | None = None) -> dict[str, Tensor]:
        """The states recorded at ``steps`` (default: all), stacked ``(len(steps), *B, ...)`` in the model's own
        form; ``{}`` for a model without history."""
        if not self.states or self.states[0] is None:
            return {}
        chosen = self.states if steps is None else [self.states[k] for k in steps]
        stacked = {name: torch.stack([torch.as_tensor(s[name]) for s in chosen]) for name in self.states[0]}
        return stacked if self.state_out is None else dict(self.state_out(stacked))

    def temperature_record(self) -> Tensor | None:
        """The recorded temperatures ``(n+1, *B)``, detached on the CPU (``None`` when none was recorded)."""
        if not self.temperatures or self.temperatures[0] is None:
            return None
        return torch.stack([torch.as_tensor(T).expand(self.batch) for T in self.temperatures]).detach().cpu()


def _first_failure(model: Any, state: Mapping[str, Tensor], times: list[float]) -> MaterialFailure | None:
    """The first recorded step at which ``model.failed`` (the failure hook) flags a point; ``None`` otherwise."""
    hook = getattr(model, "failed", None)
    if not state or hook is None:
        return None
    with torch.no_grad():
        flags = hook({k: v.detach() for k, v in state.items()})  # one call on the stacked states (n+1, *B)
    if flags is None:
        return None
    flags = torch.as_tensor(flags).to(torch.bool).cpu()
    per_step = flags.reshape(flags.shape[0], -1).any(dim=1)
    if not bool(per_step.any()):
        return None
    k = int(torch.nonzero(per_step)[0, 0])
    points = [tuple(int(i) for i in row) for row in torch.nonzero(flags[k])[:50]]
    what = getattr(model, "failure_criterion", "") or "the failure criterion was met"
    where = f" at {int(flags[k].sum())} point(s) {points[:5]}{' ...' if len(points) > 5 else ''}" if points[0] else ""
    message = f"{type(model).__name__}: {what} at step {k} (t = {times[k]:.6g}){where}"
    return MaterialFailure(step=k, time=float(times[k]), points=points, message=message)
