r"""The material-point driver: one point or a batch of points along a load path, under strain, stress or mixed
control, with Newton iterations on the stress-controlled components.

**Control.** Each step of a :class:`~constitutive.paths.LoadPath` prescribes, per component, either the strain
or the stress. With :math:`e` the strain-controlled and :math:`s` the stress-controlled slots, the step solves

.. math::  r(\varepsilon_s) = \sigma_s(\varepsilon_e^*, \varepsilon_s) - \sigma_s^* = 0, \qquad
           \Delta\varepsilon_s = -\,\mathsf C_{ss}^{-1}\, r,

with :math:`\mathsf C_{ss}` the stress-controlled block of the model's tangent (the consistent tangent returned by
``update`` for path-dependent models). The partition uses the **Mandel** 6x6 tangent and Mandel vectors
(:func:`constitutive.notation.to_mandel`, orthonormal, so the residual norm is the Frobenius norm of the stress
error and no shear factor is ever re-encoded). With the consistent tangent the iteration converges quadratically.
Inside a segment, the first iterate of a step is the tangent predictor from the previous converged step. Iteration
counts and the residual history of every step are recorded.

**Finite strain.** On a ``kinematics="finite"`` path the nine components of F or of the first Piola--Kirchhoff
stress P are prescribed (component order :data:`constitutive.paths.FINITE_LABELS`); the model must provide
``first_piola(F)`` and ``first_elasticity(F)`` (:math:`\mathbb A = \partial P/\partial F`, ``A[i,j,k,l] =
dP_ij/dF_kl``); the Newton matrix is the 9x9 block of :math:`\mathbb A` (no symmetry, no factors).

**Models.** :class:`~constitutive.models.base.PathDependentMaterial` s are advanced with
``update(strain, state, dt)`` (``dt`` = the step's time increment); other small-strain models with
``stress_and_tangent(strain)``.

**Convergence.** A step converges when, at every point, :math:`\|r\| \le \text{rtol}\cdot\text{scale} +
\text{atol}` with :math:`\text{scale} = \max(\|\sigma\|, \|\sigma^*_s\|, \|\mathsf C\|\max(\|\varepsilon_n -
\varepsilon_0\|, \|\varepsilon^*_e - \varepsilon_{0,e}\|))` (Mandel/Frobenius norms; :math:`\varepsilon_n` the
strain at the start of the step, :math:`\varepsilon_0` = 0 or I, starred: the step's targets). A Newton step that
does not reduce :math:`\|r\|` is halved (backtracking, at most ``line_search`` times): near the solution full
steps are taken, so quadratic convergence is untouched; across an elastic/plastic switch, where the response is
only piecewise smooth, this stops Newton from cycling. A step that does not converge in ``max_iter`` iterations,
or a model that fails, raises :class:`DriverError`, whose ``result`` holds every step converged before the failure
(or, with ``on_failure="return"``, that result is returned with ``completed=False``).

**Differentiating through the driver** (``differentiable=True``). Each step's Newton iterations run under
:func:`torch.no_grad`; from the converged point :math:`x^*` one more Newton correction is taken *with* the graph,
using the start-of-step state that carries the graph of the previous steps:

.. math::  x_s = x^*_s - \mathsf C_{ss}^{-1}\, r(x^*;\theta), \qquad y = \sigma(x;\, \text{state}_n(\theta), \theta),

with :math:`\mathsf C_{ss}` held constant (the model's own consistent tangent, even when ``tangent=`` replaces the
Newton matrix). Since :math:`r(x^*) = 0` at convergence, :math:`\partial x_s/\partial\theta = -\mathsf
C_{ss}^{-1}\,\partial r/\partial\theta` is the implicit-function derivative, exact at convergence (back-propagating
through the unrolled iterations is not: each iterate's derivative carries the previous residual). The recorded
strain, stress and state stay attached to the graph, on the model's device, so ``torch.autograd.grad`` of any
recorded quantity with respect to the model's parameters (or to tensor targets of a Segment) is the derivative of
the converged path. Cost: one graph-carrying model evaluation per step more than the Newton iterations need (two
on mixed steps).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import math
import sys
import time as _time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .models.base import ConvergenceError, Material, PathDependentMaterial, load, read_toml
from .notation import from_mandel, to_mandel
from .paths import FINITE_COMPONENTS, LoadPath, labels_for, path_from_dict
from .tensor import Tensor

__all__ = ["DriverError", "DriveResult", "drive", "load_path_file", "run_path_file", "register_cli"]

#: Callback ``progress(step, n_steps)`` called after every converged step.
Progress = Callable[[int, int], None]
#: Replacement Newton tangent ``tangent(strain, state_n, dt) -> (..., 3, 3, 3, 3)`` (small strain only), e.g.
#: ``J2Plasticity.continuum_tangent`` to show the loss of quadratic convergence; ``state_n`` is the state at the
#: start of the step (``None`` for models without history).
TangentFn = Callable[[Tensor, Mapping[str, Tensor] | None, float], Tensor]


class DriverError(ConvergenceError):
    """The driver stopped: a step did not converge or the model failed. ``result`` holds the converged steps;
    ``diagnostics`` the step, time, failing points and residuals."""

    def __init__(self, message: str, result: DriveResult, **diagnostics: Any) -> None:
        super().__init__(message, **diagnostics)
        self.result = result


# ------------------------------------------------------------------------------------------------ kinematics
class _Small:
    """Small strain (or any symmetric strain/stress pair): Mandel vectors, textbook Voigt order."""

    kind = "small"
    n = 6
    names = ("strain", "stress")

    def __init__(self, dtype: torch.dtype, device: torch.device) -> None:
        self.pairs = FINITE_COMPONENTS[:6]
        self.dtype, self.device = dtype, device

    def reference(self, batch: torch.Size) -> Tensor:
        return torch.zeros(*batch, 6, dtype=self.dtype, device=self.device)

    def vec(self, x: Tensor, quantity: str) -> Tensor:
        return to_mandel(x, quantity)

    def tensor(self, v: Tensor, quantity: str) -> Tensor:
        return from_mandel(v, quantity)

    def matrix(self, C: Tensor) -> Tensor:
        return to_mandel(C, "stiffness")

    def from_components(self, values: Tensor, quantity: str) -> Tensor:
        """Tensor components ``(..., 6)`` (label order) -> internal Mandel vector of ``quantity``."""
        t = torch.zeros(*values.shape[:-1], 3, 3, dtype=values.dtype, device=values.device)
        for I, (i, j) in enumerate(self.pairs):
            t[..., i, j] = values[..., I]
            t[..., j, i] = values[..., I]
        return to_mandel(t, quantity)

    def components(self, x: Tensor) -> Tensor:
        """Full tensors ``(..., 3, 3)`` -> tensor components ``(..., 6)`` in label order."""
        return torch.stack([x[..., i, j] for i, j in self.pairs], dim=-1)


class _Finite:
    """Finite strain: the nine components of F and P (no symmetry, no factors)."""

    kind = "finite"
    n = 9
    names = ("F", "P")

    def __init__(self, dtype: torch.dtype, device: torch.device) -> None:
        self.pairs = FINITE_COMPONENTS
        self.rows = torch.tensor([i for i, _ in self.pairs], device=device)
        self.cols = torch.tensor([j for _, j in self.pairs], device=device)
        self.dtype, self.device = dtype, device

    def reference(self, batch: torch.Size) -> Tensor:
        eye = torch.eye(3, dtype=self.dtype, device=self.device).expand(*batch, 3, 3)
        return self.components(eye)

    def vec(self, x: Tensor, quantity: str) -> Tensor:
        return self.components(x)

    def tensor(self, v: Tensor, quantity: str) -> Tensor:
        t = torch.zeros(*v.shape[:-1], 3, 3, dtype=v.dtype, device=v.device)
        t[..., self.rows, self.cols] = v
        return t

    def matrix(self, A: Tensor) -> Tensor:
        r, c = self.rows, self.cols
        return A[..., r[:, None], c[:, None], r[None, :], c[None, :]]

    def from_components(self, values: Tensor, quantity: str) -> Tensor:
        return values

    def components(self, x: Tensor) -> Tensor:
        return x[..., self.rows, self.cols]


# ----------------------------------------------------------------------------------------------------- result
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
        ``'iterations'``, or a state variable name (``(n+1, *B, ...)``)."""
        if name == "time":
            return self.time
        if name == "iterations":
            return self.iterations
        if name in self.state:
            return self.state[name]
        quantity, _, label = name.rpartition("_")
        if quantity and label in self.labels:
            return self.components(quantity)[..., self.labels.index(label)]
        raise ValueError(
            f"unknown column {name!r}; columns are time, iterations, state variables {sorted(self.state)}, and "
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
        """The per-step table: header and rows (one row per step and point; ``point`` is the flat batch index)."""
        batch = self.batch_shape
        npts = math.prod(batch) if len(batch) else 1
        q0, q1 = self.quantity_names
        header = ["step", "time", "segment"] + (["point"] if len(batch) else [])
        header += [f"{q0}_{c}" for c in self.labels] + [f"{q1}_{c}" for c in self.labels]
        state_cols: list[tuple[str, Tensor]] = []
        for name, value in self.state.items():
            v = value.reshape(value.shape[0], npts, -1)
            if v.shape[-1] == 1:
                state_cols.append((name, v[..., 0]))
            else:
                state_cols += [(f"{name}_{i}", v[..., i]) for i in range(v.shape[-1])]
        header += [n for n, _ in state_cols]
        header += ["control", "iterations", "residual", "tolerance"]
        if self.tangent_error is not None:
            header.append("tangent_error")
        eps = self.components(q0).reshape(self.n_steps + 1, npts, -1).detach().cpu()
        sig = self.components(q1).reshape(self.n_steps + 1, npts, -1).detach().cpu()
        its = self.iterations.reshape(self.n_steps + 1, npts)
        res = self.final_residuals().reshape(self.n_steps + 1, npts)
        tol = self.tolerance.reshape(self.n_steps + 1, npts)
        terr = None if self.tangent_error is None else self.tangent_error.reshape(self.n_steps + 1, npts)
        rows = []
        for k in range(self.n_steps + 1):
            ctrl = self.control[k]
            ctrl_text = "" if ctrl is None else "".join("e" if c == "strain" else "s" for c in ctrl)
            for p in range(npts):
                row: list[Any] = [k, float(self.time[k]), int(self.segment[k])] + ([p] if len(batch) else [])
                row += [float(v) for v in eps[k, p]] + [float(v) for v in sig[k, p]]
                row += [float(v[k, p]) for _, v in state_cols]
                row += [ctrl_text, int(its[k, p]), float(res[k, p]), float(tol[k, p])]
                if terr is not None:
                    row.append(float(terr[k, p]))
                rows.append(row)
        return header, rows

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`table` as CSV (``control``: one letter per component, ``e`` strain/F, ``s`` stress/P)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header, rows = self.table()
        with open(path, "w", newline="", encoding="utf-8") as fh:
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
        if self.tangent_error is not None:
            err = self.tangent_error[1:]
            tol = float(self.extra.get("tangent_tolerance", float("nan")))
            if err.numel():
                worst = float(err.max())
                k = int(err.reshape(err.shape[0], -1).amax(dim=1).argmax()) + 1
                verdict = "PASS" if worst <= tol else "FAIL"
                lines.append(
                    f"tangent check: {verdict}, max relative error {worst:.2e} (step {k}) over {self.n_steps} steps, "
                    f"tolerance {tol:.1e}"
                )
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
    ) -> Any:
        """Stress--strain curve (a hysteresis loop on a cyclic path) of column ``y`` against ``x`` (defaults: the
        first driven strain component and its stress), one line per point; saved to ``path`` when given.
        Returns the matplotlib axes."""
        import matplotlib

        if ax is None:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        q0, q1 = self.quantity_names
        if x is None or y is None:
            comp = self._driving_component()
            x = x or f"{q0}_{comp}"
            y = y or f"{q1}_{comp}"
        xs = self.column(x).detach().cpu().reshape(self.n_steps + 1, -1)
        ys = self.column(y).detach().cpu().reshape(self.n_steps + 1, -1)
        own = ax is None
        if own:
            fig, ax = plt.subplots(figsize=(5.5, 4.2), dpi=120)
        for p in range(xs.shape[1]):
            ax.plot(xs[:, p].numpy(), ys[:, p].numpy(), lw=1.4, label=label if p == 0 else None)
        ax.set_xlabel(x.replace("_", " "))
        ax.set_ylabel(y.replace("_", " "))
        ax.grid(True, alpha=0.3)
        if title:
            ax.set_title(title, fontsize=9)
        if label:
            ax.legend()
        if own and path is not None:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            ax.figure.tight_layout()
            ax.figure.savefig(path)
            plt.close(ax.figure)
        return ax

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


# ----------------------------------------------------------------------------------------------------- driver
def _model_evaluator(model: Any, kin: _Small | _Finite, tangent: TangentFn | str | None) -> Callable[..., Any]:
    """``evaluate(x_vec, state_n, dt) -> (y_vec, new_state, K)`` for this model and kinematics."""
    if isinstance(tangent, str):
        if tangent == "consistent":
            tangent = None
        elif tangent == "continuum":
            if not hasattr(model, "continuum_tangent"):
                raise ValueError(f"{type(model).__name__} has no continuum_tangent")
            tangent = model.continuum_tangent
        else:
            raise ValueError(f"tangent must be 'consistent', 'continuum' or a callable, got {tangent!r}")
    if kin.kind == "finite":
        if not (hasattr(model, "first_piola") and hasattr(model, "first_elasticity")):
            raise ValueError(
                f"a finite-strain path needs a model with first_piola(F) and first_elasticity(F); "
                f"{type(model).__name__} has not"
            )
        if tangent is not None:
            raise ValueError("a replacement tangent is supported on small-strain paths only")

        def evaluate_finite(x: Tensor, state: Any, dt: float) -> tuple[Tensor, Any, Tensor]:
            F = kin.tensor(x, "F")
            if bool((torch.linalg.det(F) <= 0).any()):
                raise ValueError("the Newton iterate has det F <= 0 (the step is too large for the material)")
            return kin.vec(model.first_piola(F), "P"), None, kin.matrix(model.first_elasticity(F))

        return evaluate_finite
    if isinstance(model, PathDependentMaterial):

        def evaluate_history(x: Tensor, state: Any, dt: float) -> tuple[Tensor, Any, Tensor]:
            eps = kin.tensor(x, "strain")
            sig, new_state, C = model.update(eps, state, dt)
            if tangent is not None:
                C = tangent(eps, state, dt)
            return kin.vec(sig, "stress"), new_state, kin.matrix(C)

        return evaluate_history
    if isinstance(model, Material) or (hasattr(model, "stress") and hasattr(model, "tangent")):

        def evaluate_elastic(x: Tensor, state: Any, dt: float) -> tuple[Tensor, Any, Tensor]:
            eps = kin.tensor(x, "strain")
            if hasattr(model, "stress_and_tangent"):
                sig, C = model.stress_and_tangent(eps)
            else:
                sig, C = model.stress(eps), model.tangent(eps)
            if tangent is not None:
                C = tangent(eps, None, dt)
            return kin.vec(sig, "stress"), None, kin.matrix(C)

        return evaluate_elastic
    raise ValueError(f"cannot drive a {type(model).__name__}: it is neither a Material nor has stress/tangent")


def drive(
    model: Any,
    path: LoadPath,
    *,
    batch_shape: tuple[int, ...] | torch.Size = (),
    max_iter: int = 25,
    rtol: float = 1e-12,
    atol: float = 0.0,
    predictor: bool = True,
    line_search: int = 8,
    cutbacks: int = 0,
    tangent: TangentFn | str | None = None,
    check_tangent: bool = False,
    tangent_tolerance: float = 1e-6,
    progress: Progress | None = None,
    on_failure: str = "raise",
    differentiable: bool = False,
) -> DriveResult:
    r"""Drive ``model`` along ``path`` and return the per-step :class:`DriveResult`.

    Parameters
    ----------
    model:
        a :class:`~constitutive.models.base.PathDependentMaterial` (advanced by ``update``), any small-strain
        :class:`~constitutive.models.base.Material` (``stress_and_tangent``), or, on a finite path, a model with
        ``first_piola(F)`` and ``first_elasticity(F)``.
    path:
        a :class:`~constitutive.paths.LoadPath` (see :mod:`constitutive.paths` for the standard modes).
    batch_shape:
        drive a batch of points (the batch shape is broadcast with the path's own target shape).
    max_iter, rtol, atol:
        Newton limits per step; ``rtol`` is raised to ``100 eps`` of the model's dtype (see the module docstring).
    predictor:
        start each step but the first of a segment from the previous step's tangent, extrapolated, instead of the
        previous converged state (a step that fails from the predictor is retried without it).
    line_search:
        at most this many halvings of a Newton step that does not reduce the residual norm (0: plain Newton).
    cutbacks:
        a step that fails is split into two half steps, recursively, at most this many times (0: fail at once).
        The result then has more steps than the path; ``result.extra["cutbacks"]`` counts the splits.
    tangent:
        ``None``/'consistent': the model's (consistent) tangent. 'continuum': ``model.continuum_tangent``. A
        callable ``tangent(strain, state_n, dt)`` (small strain) replaces the Newton matrix, to study convergence;
        the stress is still the model's.
    check_tangent:
        verify the Newton tangent of every converged step against central finite differences of that step's
        stress map (the engine of :mod:`constitutive.check`; all steps in one batched pass after the run, so the
        cost is that of about a dozen model calls); errors land in ``result.tangent_error`` and the summary line.
        ``tangent_tolerance`` is the pass threshold of that line.
    progress:
        ``progress(step, n_steps)`` after every step (the CLI prints from it).
    on_failure:
        'raise' (default): :class:`DriverError` carrying the partial result; 'return': return the partial result
        with ``completed=False`` and ``error`` set.
    differentiable:
        keep the result differentiable with respect to the model's parameters (and tensor targets of segments):
        Newton runs under :func:`torch.no_grad`, then one graph-carrying Newton correction from each converged
        point gives the implicit-function derivative, exact at convergence (module docstring); ``strain``,
        ``stress`` and ``state`` of the result stay attached to the graph on the model's device. Reverse-mode
        autograd (``torch.autograd.grad``, ``backward``); not ``torch.func`` transforms (the iteration branches on
        values). Default ``False``: detached CPU results, as always.
    """
    if on_failure not in ("raise", "return"):
        raise ValueError(f"on_failure must be 'raise' or 'return', got {on_failure!r}")
    if not isinstance(path, LoadPath):
        raise ValueError(f"path must be a constitutive.paths.LoadPath, got {type(path).__name__}")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter}")
    if int(cutbacks) < 0 or int(line_search) < 0:
        raise ValueError(f"cutbacks and line_search must be non-negative, got {cutbacks} and {line_search}")
    dtype = getattr(model, "dtype", torch.float64)
    device = getattr(model, "device", torch.device("cpu"))
    kin: _Small | _Finite = _Small(dtype, device) if path.kinematics == "small" else _Finite(dtype, device)
    evaluate = _model_evaluator(model, kin, tangent)
    # The differentiable correction always uses the model's own tangent: only then is it the exact derivative.
    exact = _model_evaluator(model, kin, None) if differentiable else evaluate
    newton_mode = torch.no_grad if differentiable else contextlib.nullcontext
    rtol = max(float(rtol), 100.0 * float(torch.finfo(dtype).eps))
    batch = torch.broadcast_shapes(torch.Size(batch_shape), path.batch_shape())
    labels = labels_for(path.kinematics)

    x0 = kin.reference(batch)
    x, y = x0.clone(), torch.zeros_like(x0)
    state = model.initial_state(batch) if isinstance(model, PathDependentMaterial) and kin.kind == "small" else None
    K_prev: Tensor | None = None
    t = 0.0
    rec = _Recorder(kin, batch, dtype, device, differentiable)
    no_history = torch.zeros(0, *batch, dtype=dtype, device=device)
    rec.add(t, x, y, state, no_history, torch.zeros(batch, dtype=dtype, device=device), None, -1, None, 0, 0.0)
    n_total = path.n_steps
    start = _time.perf_counter()
    step = n_cutbacks = 0

    def finish() -> DriveResult:
        result = rec.result(labels, model, path, _time.perf_counter() - start, tangent_tolerance)
        result.extra["cutbacks"] = n_cutbacks
        if check_tangent:
            with newton_mode():
                result.tangent_error = _check_tangents(model, kin, rec)
        return result

    def fail(message: str, cause: BaseException | None = None, **diag: Any) -> DriveResult:
        result = finish()
        result.completed = False
        result.error = message
        if on_failure == "return":
            return result
        err = DriverError(message, result, **diag)
        if cause is not None:
            raise err from cause
        raise err

    for seg_index, seg in enumerate(path.segments):
        control = seg.control(path.kinematics)
        is_strain = torch.tensor([c == "strain" for c in control], device=device)
        s_idx = torch.nonzero(~is_strain).flatten()
        e_idx = torch.nonzero(is_strain).flatten()
        values = seg.target(path.kinematics, dtype, device).expand(*batch, kin.n)
        end = torch.where(is_strain, kin.from_components(values, "strain"), kin.from_components(values, "stress"))
        begin = torch.where(is_strain, x, y)
        # Steps to take, as fractions of the segment (a stack; a failed step is split in two when cutbacks allow).
        pending = [(k / seg.increments, 0) for k in range(seg.increments, 0, -1)]
        t_start, f_cur = t, 0.0
        while pending:
            f_new, level = pending.pop()
            dt = (f_new - f_cur) * seg.duration
            t_new = t_start + f_new * seg.duration
            target = begin + f_new * (end - begin)
            # The tangent predictor extrapolates the previous step: only inside a segment, where the loading
            # direction is unchanged (at a segment start, e.g. a load reversal, it would overshoot).
            use_predictor = predictor and f_cur > 0.0
            args = (evaluate, x, y, state, K_prev, target, s_idx, e_idx, dt, x0, max_iter, rtol, atol)
            try:
                with newton_mode():
                    try:
                        out = _newton_step(*args, use_predictor, line_search)
                    except _StepFailure:
                        if not use_predictor:
                            raise
                        out = _newton_step(*args, False, line_search)  # retry from the converged state
                if differentiable:
                    out = (*_implicit_correction(exact, out[0], state, target, s_idx, e_idx, dt), *out[3:])
            except _StepFailure as err:
                if level < cutbacks:
                    pending += [(f_new, level + 1), (0.5 * (f_cur + f_new), level + 1)]
                    n_cutbacks += 1
                    continue
                return fail(
                    f"step {step + 1} (segment {seg_index + 1}, t = {t_new:.6g}"
                    + (f", after {level} cutback(s)" if level else "")
                    + f"): {err}",
                    err.__cause__,
                    step=step + 1,
                    time=t_new,
                    **err.diagnostics,
                )
            x, y, state, K_prev, history, tol, backtracks = out
            t, f_cur = t_new, f_new
            step += 1
            rec.add(t, x, y, state, history, tol, control, seg_index, K_prev if check_tangent else None, backtracks, dt)
            if progress is not None:
                progress(step, max(n_total, step))
    return finish()


class _StepFailure(Exception):
    def __init__(self, message: str, **diagnostics: Any) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


def _implicit_correction(
    evaluate: Callable[..., Any],
    x: Tensor,
    state: Any,
    target: Tensor,
    s_idx: Tensor,
    e_idx: Tensor,
    dt: float,
) -> tuple[Tensor, Tensor, Any]:
    r"""One graph-carrying Newton correction from the converged (graph-free) point ``x``: returns ``(x, y,
    new_state)`` whose derivatives are the implicit-function derivatives (module docstring).

    ``state`` is the start-of-step state with its graph. The stress-controlled block of the tangent is detached:
    at convergence the residual vanishes, so the tangent's own derivative contributes nothing.
    """
    # Out of place throughout (x is saved by the first evaluation's graph). The strain-controlled components are
    # the targets themselves, with their graph (if any).
    x = x.index_copy(-1, e_idx, target[..., e_idx])
    try:
        if s_idx.numel():
            y, _, K = evaluate(x, state, dt)
            K_ss = K.detach()[..., s_idx[:, None], s_idx[None, :]]
            dx_s = -torch.linalg.solve(K_ss, (y - target)[..., s_idx])
            x = x + torch.zeros_like(x).index_copy(-1, s_idx, dx_s)
        y, new_state, _ = evaluate(x, state, dt)
    except (ConvergenceError, ValueError, RuntimeError) as err:
        raise _StepFailure(f"the model failed in the differentiable Newton correction: {err}") from err
    return x, y, new_state


def _newton_step(
    evaluate: Callable[..., Any],
    x_prev: Tensor,
    y_prev: Tensor,
    state: Any,
    K_prev: Tensor | None,
    target: Tensor,
    s_idx: Tensor,
    e_idx: Tensor,
    dt: float,
    x0: Tensor,
    max_iter: int,
    rtol: float,
    atol: float,
    predictor: bool,
    line_search: int,
) -> tuple[Tensor, Tensor, Any, Tensor, Tensor, Tensor, int]:
    """One load step: returns (x, y, new_state, K, residual history (iters+1, *B), tolerance (*B), number of
    line-search step halvings)."""
    x = x_prev.clone()
    x[..., e_idx] = target[..., e_idx]
    mixed = s_idx.numel() > 0
    if mixed and predictor and K_prev is not None:
        # Tangent predictor: ds = K_ss dx_s + K_se dx_e = (target - y_prev)_s.
        dx_e = (x - x_prev)[..., e_idx]
        rhs = (target - y_prev)[..., s_idx] - (K_prev[..., s_idx[:, None], e_idx[None, :]] @ dx_e[..., None])[..., 0]
        try:
            dx_s = torch.linalg.solve(K_prev[..., s_idx[:, None], s_idx[None, :]], rhs)
        except RuntimeError:  # singular previous tangent (e.g. perfect plasticity): start without a predictor
            dx_s = torch.zeros_like(rhs)
        if bool(torch.isfinite(dx_s).all()):
            x[..., s_idx] = x_prev[..., s_idx] + dx_s
    history: list[Tensor] = []
    converged = torch.zeros(x.shape[:-1], dtype=torch.bool, device=x.device)
    strain_scale = torch.maximum(
        torch.linalg.vector_norm(x_prev - x0, dim=-1), torch.linalg.vector_norm((target - x0)[..., e_idx], dim=-1)
    )

    def assess(x: Tensor, it: int) -> tuple[Tensor, Any, Tensor, Tensor, Tensor, Tensor]:
        try:
            y, new_state, K = evaluate(x, state, dt)
        except (ConvergenceError, ValueError, RuntimeError) as err:
            failure = _StepFailure(
                f"the model failed at Newton iteration {it}: {err}",
                iteration=it,
                residuals=torch.stack(history) if history else None,
                model_diagnostics=getattr(err, "diagnostics", None),
            )
            raise failure from err
        r = (y - target)[..., s_idx]
        rnorm = torch.linalg.vector_norm(r, dim=-1)
        if not bool(torch.isfinite(rnorm).all()):
            raise _StepFailure(f"non-finite stress residual at Newton iteration {it}", iteration=it)
        # Stress scale from quantities a diverging iterate cannot inflate: the stress itself, the stress targets,
        # and the tangent times the strain at the start of the step and the strain targets.
        scale = torch.maximum(torch.linalg.vector_norm(y, dim=-1), torch.linalg.vector_norm(target[..., s_idx], dim=-1))
        scale = torch.maximum(scale, torch.linalg.matrix_norm(K) * strain_scale)
        return y, new_state, K, r, rnorm, rtol * scale + atol

    backtracks = 0
    y, new_state, K, r, rnorm, tol = assess(x, 0)
    for it in range(max_iter + 1):
        history.append(torch.where(converged, torch.full_like(rnorm, float("nan")), rnorm))
        converged = converged | (rnorm <= tol)
        if not mixed or bool(converged.all()):
            return x, y, new_state, K, torch.stack(history), tol, backtracks
        if it == max_iter:
            break
        K_ss = K[..., s_idx[:, None], s_idx[None, :]]
        try:
            dx = torch.linalg.solve(K_ss, -r)
        except RuntimeError as err:
            raise _StepFailure(
                f"singular stress-controlled tangent block at Newton iteration {it}",
                iteration=it,
                residuals=torch.stack(history),
            ) from err
        dx = torch.where(converged[..., None], torch.zeros_like(dx), dx)
        # Backtracking on the residual norm: full steps near the solution (quadratic convergence untouched),
        # halved steps where a full step does not reduce the residual (e.g. cycling across an elastic/plastic
        # switch, where the response is only piecewise smooth).
        lam = torch.ones_like(rnorm)
        for ls in range(line_search + 1):
            x_t = x.clone()
            x_t[..., s_idx] = x[..., s_idx] + lam[..., None] * dx
            trial = assess(x_t, it + 1)
            ok = converged | (trial[4] <= (1.0 - 1e-4 * lam) * rnorm) | (trial[4] <= trial[5])
            if ls == line_search or bool(ok.all()):
                break
            lam = torch.where(ok, lam, 0.5 * lam)
            backtracks += 1
        x = x_t
        y, new_state, K, r, rnorm, tol = trial
    bad = torch.nonzero(~converged)
    hist = torch.stack(history)
    raise _StepFailure(
        f"Newton did not converge in {max_iter} iterations at {bad.shape[0]} point(s) "
        f"(first: {tuple(int(i) for i in bad[0]) if bad.numel() else ()}); residual history of the worst point: "
        + ", ".join(f"{float(v):.3e}" for v in hist.reshape(hist.shape[0], -1).nan_to_num(0.0).amax(dim=1))
        + f"; tolerance {float(tol.max()):.3e}",
        points=bad,
        residuals=hist,
        tolerance=tol,
    )


class _Recorder:
    """Accumulates per-step records; builds a :class:`DriveResult` at the end or on failure."""

    def __init__(
        self,
        kin: _Small | _Finite,
        batch: torch.Size,
        dtype: torch.dtype,
        device: torch.device,
        differentiable: bool = False,
    ) -> None:
        self.kin, self.batch, self.differentiable = kin, batch, differentiable
        self.times: list[float] = []
        self.xs: list[Tensor] = []
        self.ys: list[Tensor] = []
        self.states: list[Any] = []
        self.iters: list[int] = []
        self.histories: list[Tensor] = []
        self.tols: list[Tensor] = []
        self.controls: list[tuple[str, ...] | None] = []
        self.segments: list[int] = []
        self.Ks: list[Tensor | None] = []
        self.dts: list[float] = []
        self.backtracks: list[int] = []

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
    ) -> None:
        """Record one converged step: internal vectors ``x`` (strain/F) and ``y`` (stress/P), the state, the residual
        history ``(iters+1, *B)``, the tolerance, the Newton matrix ``K`` (kept for the tangent check) and ``dt``."""
        self.backtracks.append(backtracks)
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

        strain = out(torch.stack([kin.tensor(x, kin.names[0]) for x in self.xs]))
        stress = out(torch.stack([kin.tensor(y, kin.names[1]) for y in self.ys]))
        state: dict[str, Tensor] = {}
        if self.states[0] is not None:
            for name in self.states[0]:
                state[name] = out(torch.stack([torch.as_tensor(s[name]) for s in self.states]))
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
        )


def _check_tangents(model: Any, kin: _Small | _Finite, rec: _Recorder) -> Tensor:
    r"""Relative error ``(n+1, *B)`` of each converged step's Newton tangent against central finite differences of
    that step's stress map (state held at the start of the step: the definition of the consistent tangent).

    All steps are checked in one batched pass per distinct time increment, with the finite-difference engine of
    :func:`constitutive.check.finite_difference_tangent` (central differences, step
    :math:`h = \epsilon^{1/3} s`, :math:`s = \max(\max|\varepsilon|, \max|\sigma| / \max|C|)` per point, as
    :func:`constitutive.check.check_tangent` uses) and its error measure
    :math:`\max|C - C^{FD}| / \max|C^{FD}|`. Step 0 (the initial state) gets 0.
    """
    from .check import finite_difference_tangent

    n = len(rec.xs) - 1
    batch = rec.batch
    out = torch.zeros(n + 1, *batch, dtype=torch.float64)
    if n == 0:
        return out
    q0, q1 = kin.names
    x = torch.stack([kin.tensor(v, q0) for v in rec.xs[1:]])  # (n, *B, 3, 3)
    f = torch.stack([kin.tensor(v, q1) for v in rec.ys[1:]])
    if kin.kind == "finite":
        K = torch.stack(rec.Ks[1:])
        C = torch.zeros(*K.shape[:-2], 3, 3, 3, 3, dtype=K.dtype, device=K.device)
        r, c = kin.rows, kin.cols
        C[..., r[:, None], c[:, None], r[None, :], c[None, :]] = K
        convention = "full"
    else:
        C = from_mandel(torch.stack(rec.Ks[1:]), "stiffness")
        convention = "symmetric"
    xs = x.abs().amax(dim=(-1, -2))
    cs = C.abs().amax(dim=(-1, -2, -3, -4)).clamp_min(torch.finfo(C.dtype).tiny)
    scale = torch.maximum(xs, f.abs().amax(dim=(-1, -2)) / cs)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    dts = torch.tensor(rec.dts[1:], dtype=torch.float64)
    for dt in torch.unique(dts).tolist():
        idx = torch.nonzero(dts == dt).flatten()
        xi = x[idx]
        if kin.kind == "finite":
            fn = model.first_piola
        elif isinstance(model, PathDependentMaterial):
            start = {name: torch.stack([rec.states[k][name] for k in idx.tolist()]) for name in rec.states[0]}

            def fn(e: Tensor, start: dict[str, Tensor] = start, dt: float = dt) -> Tensor:
                return model.update(e, start, dt)[0]
        else:
            fn = model.stress
        C_fd, _ = finite_difference_tangent(fn, xi, "central", convention, richardson=False, scale=scale[idx])
        err = (C[idx] - C_fd).abs().amax(dim=(-1, -2, -3, -4))
        ref = C_fd.abs().amax(dim=(-1, -2, -3, -4)).clamp_min(torch.finfo(C_fd.dtype).tiny)
        out[idx + 1] = (err / ref).to(torch.float64).cpu()
    return out


# --------------------------------------------------------------------------------------------- load-path files
def load_path_file(path: str | Path) -> tuple[Any, LoadPath, dict[str, Any]]:
    """Read a TOML load-path file: ``(model, load path, settings)``.

    The model comes from ``material = "steel_s355"`` (a ``materials/`` entry, or a parameter-file path relative to
    the load-path file) or an inline ``[model]`` table (``name = "J2Plasticity"``, ``[model.parameters]``,
    ``[model.options]``). The path from ``[path]`` and/or ``[[steps]]`` (:func:`constitutive.paths.path_from_dict`).
    ``settings``: the ``[driver]`` table (``max_iter``, ``rtol``, ``atol``, ``line_search``, ``cutbacks``,
    ``check_tangent``, ``tangent_tolerance``, ``predictor``) and the ``[output]`` table (``csv``, ``figure``, ``x``,
    ``y``).
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no load-path file {path}")
    data = read_toml(p)
    known = {"title", "description", "material", "model", "path", "steps", "driver", "output", "kinematics"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{p}: unknown top-level keys {unknown}; allowed: {sorted(known)}")
    if ("material" in data) == ("model" in data):
        raise ValueError(f'{p}: give the material either as material = "<materials/ entry or file>" or [model]')
    if "material" in data:
        if not isinstance(data["material"], str):
            raise ValueError(
                f"{p}: material must be a string naming a materials/ entry or a parameter file; write an inline "
                "model as a [model] table (name = ..., [model.parameters])"
            )
        ref = data["material"]
        local = (p.parent / ref).resolve()
        model = load(local if local.suffix == ".toml" and local.exists() else ref)
    else:
        if not isinstance(data["model"], Mapping):
            raise ValueError(f"{p}: [model] must be a table (name = ..., [model.parameters], [model.options])")
        table = dict(data["model"])
        extra = sorted(set(table) - {"name", "model", "parameters", "options"})
        if extra:
            raise ValueError(f"{p}: unknown keys {extra} in [model]; allowed: name, parameters, options")
        name = table.get("name", table.get("model"))
        if name is None:
            raise ValueError(f'{p}: [model] needs name = "<model class>"')
        model = Material.from_dict(
            {"model": name, "parameters": table.get("parameters", {}), "options": table.get("options", {})}
        )
    load_path = path_from_dict(data, source=p)
    settings = {"driver": dict(data.get("driver", {})), "output": dict(data.get("output", {}))}
    allowed = {"max_iter", "rtol", "atol", "check_tangent", "tangent_tolerance", "predictor", "line_search", "cutbacks"}
    bad = sorted(set(settings["driver"]) - allowed)
    if bad:
        raise ValueError(f"{p}: unknown keys {bad} in [driver]; allowed: {sorted(allowed)}")
    return model, load_path, settings


def run_path_file(
    path: str | Path, out: str | Path | None = None, *, progress: Progress | None = None, **overrides: Any
) -> tuple[DriveResult, dict[str, Path]]:
    """Run a load-path file; write the CSV and the figure into ``out`` (default: next to the file).

    Returns the result and the written files. A failure still writes the steps computed before it, then re-raises.
    """
    model, load_path, settings = load_path_file(path)
    options = {**settings["driver"], **overrides}
    out_dir = Path(out) if out is not None else Path(path).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(path).stem
    output = settings["output"]
    csv_path = out_dir / output.get("csv", f"{stem}.csv")
    fig_path = out_dir / output.get("figure", f"{stem}.png")
    try:
        result = drive(model, load_path, progress=progress, **options)
    except DriverError as err:
        err.result.to_csv(csv_path)
        raise
    written = {"csv": result.to_csv(csv_path)}
    result.plot(fig_path, x=output.get("x"), y=output.get("y"), title=load_path.name)
    written["figure"] = fig_path
    return result, written


# ------------------------------------------------------------------------------------------------------ CLI
def _cli_drive(args: argparse.Namespace) -> int:
    last = [0.0]

    def progress(step: int, total: int) -> None:
        now = _time.perf_counter()
        if total >= 200 and (now - last[0] > 1.0 or step == total):
            last[0] = now
            print(f"  step {step}/{total} ({100.0 * step / total:.0f}%)", file=sys.stderr, flush=True)

    overrides: dict[str, Any] = {}
    if args.check_tangent:
        overrides["check_tangent"] = True
    try:
        result, written = run_path_file(args.pathfile, args.out, progress=progress, **overrides)
    except DriverError as err:
        print(err.result.summary(), file=sys.stderr)
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(result.summary())
    for kind, p in written.items():
        print(f"wrote {kind}: {p}")
    return 0


def register_cli(subparsers: Any) -> None:
    """``constitutive drive PATHFILE [--out DIR] [--check-tangent]``."""
    p = subparsers.add_parser(
        "drive",
        help="drive a material point along a TOML load path",
        description="Drive a material point along a load path written in TOML (see docs/driver.md); prints a "
        "summary and writes the per-step CSV and a stress-strain figure.",
    )
    p.add_argument("pathfile", help="TOML load-path file")
    p.add_argument("--out", default=None, help="output folder (default: next to the load-path file)")
    p.add_argument("--check-tangent", action="store_true", help="check the tangent by finite differences each step")
    p.set_defaults(func=_cli_drive)
