"""The result of a tangent check: :class:`TangentCheckReport` (text, JSON, Taylor figure)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

# --------------------------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------------------------


@dataclass
class TangentCheckReport:
    """Outcome of :func:`check_tangent`.

    Errors are per point :math:`\\max_{ijkl}|C - C^{FD}|` (absolute) and that divided by
    :math:`\\max_{ijkl}|C^{FD}|` (relative); the reported values are the maxima over the batch. A point passes when
    its absolute error is at most ``atol + rtol * max|C^FD|``; ``worst_batch_index`` is the point that violates this
    most (largest error / allowance). Indices are zero-based (``worst_component`` is ``(i, j, k, l)`` into the
    ``(3, 3, 3, 3)`` tangent, ``worst_voigt`` ``(I, J)`` into the textbook Voigt matrix, order 11 22 33 23 13 12);
    ``worst_label`` spells them one-based. For ``method="taylor"`` ``passed`` means ``taylor_order >= 1.9`` (or a
    remainder at round-off level, i.e. f is affine along the direction), and the component errors come from a
    central-difference comparison run alongside, for diagnosis. ``bool(report)`` is ``report.passed``.
    """

    passed: bool
    method: str
    convention: str
    rtol: float
    atol: float
    step: float
    n_points: int
    max_abs_error: float
    max_rel_error: float
    worst_batch_index: tuple[int, ...]
    worst_component: tuple[int, int, int, int]
    worst_voigt: tuple[int, int]
    worst_label: str
    worst_tangent_value: float
    worst_reference_value: float
    asymmetry: dict[str, float]
    taylor_order: float | None = None
    taylor_steps: list[float] = field(default_factory=list)
    taylor_remainders: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [
            f"Tangent check {verdict}: method {self.method!r}, convention {self.convention!r}, "
            f"{self.n_points} point(s)",
            f"  max |C - C_ref|            = {self.max_abs_error:.3e}   (atol {self.atol:.1e})",
            f"  max |C - C_ref| / max|C_ref| = {self.max_rel_error:.3e}   (rtol {self.rtol:.1e})",
            f"  worst point                 = batch index {self.worst_batch_index}, step h = {self.step:.3e}",
            f"  worst component             = {self.worst_label}: tangent {self.worst_tangent_value:.10g}, "
            f"reference {self.worst_reference_value:.10g}",
            f"  tangent asymmetry           = minor {self.asymmetry['minor']:.2e}, major {self.asymmetry['major']:.2e}",
        ]
        if self.taylor_order is not None:
            order = f"{self.taylor_order:.3f}"
            if math.isnan(self.taylor_order):
                # NaN passes only when every remainder is round-off (f affine along D); otherwise too few steps
                # rose above round-off to fit a slope (float32 with small steps: pass larger ``hs``).
                order = "round-off (affine)" if self.passed else "undetermined (< 3 steps above round-off)"
            lines.append(f"  Taylor remainder order      = {order}   (2 for a correct tangent, 1 for a wrong one)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (lists and numbers; NaN kept as ``float('nan')``)."""
        d = asdict(self)
        d["worst_batch_index"] = list(self.worst_batch_index)
        d["worst_component"] = list(self.worst_component)
        d["worst_voigt"] = list(self.worst_voigt)
        return d

    def to_json(self, **kwargs: Any) -> str:
        """JSON text of :meth:`to_dict` (NaN written as ``null``)."""

        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list):
                return [clean(x) for x in v]
            return v

        return json.dumps(clean(self.to_dict()), **kwargs)

    def plot(self, path: str | Path | None = None, *, overwrite: bool = False) -> Any:
        """Log-log figure of the Taylor remainder r(h) at the worst point, with slope-1 and slope-2 guides.

        Needs ``method="taylor"``. Saves to ``path`` when given (atomically; over an existing file only with
        ``overwrite=True``); returns the matplotlib figure (Agg backend).
        """
        from ..fileio import atomic_path, check_writable

        if not self.taylor_steps:
            raise ValueError("the report holds no Taylor remainder; run check_tangent(..., method='taylor')")
        if path is not None:
            check_writable(path, overwrite=overwrite)
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        h = torch.tensor(self.taylor_steps, dtype=torch.float64)
        r = torch.tensor(self.taylor_remainders, dtype=torch.float64)
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.loglog(h, r, "o-", label="remainder $\\|f(x+hd)-f(x)-h\\,C:d\\|$")
        positive = r > 0
        if bool(positive.any()):
            h0, r0 = float(h[positive][0]), float(r[positive][0])
            ax.loglog(h, r0 * (h / h0), "--", color="gray", label="slope 1")
            ax.loglog(h, r0 * (h / h0) ** 2, ":", color="black", label="slope 2")
        order = "n/a" if self.taylor_order is None or math.isnan(self.taylor_order) else f"{self.taylor_order:.2f}"
        ax.set_xlabel("step h")
        ax.set_ylabel("Taylor remainder")
        ax.set_title(f"Taylor test ({'passed' if self.passed else 'failed'}), order {order}")
        ax.legend()
        fig.tight_layout()
        if path is not None:
            with atomic_path(path, overwrite=overwrite) as tmp:
                fig.savefig(tmp)
        return fig
