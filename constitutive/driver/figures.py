"""Figures of a driven path (matplotlib imported on first use, so importing the driver stays light)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .result import DriveResult


def plot_result(
    result: DriveResult,
    path: str | Path | None = None,
    *,
    x: str | None = None,
    y: str | None = None,
    ax: Any = None,
    label: str | None = None,
    title: str | None = None,
    overwrite: bool = False,
) -> Any:
    """Stress--strain curve of column ``y`` against ``x`` of ``result`` (defaults: the first driven strain component
    and its stress), one line per point; saved to ``path`` when given (then the figure is closed; atomically, over
    an existing file only with ``overwrite=True``). Returns the matplotlib axes."""
    import matplotlib

    from ..fileio import atomic_path, check_writable

    if path is not None:
        check_writable(path, overwrite=overwrite)  # before drawing: fail fast

    if ax is None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q0, q1 = result.quantity_names
    if x is None or y is None:
        comp = result._driving_component()
        x = x or f"{q0}_{comp}"
        y = y or f"{q1}_{comp}"
    xs = result.column(x).detach().cpu().reshape(result.n_steps + 1, -1)
    ys = result.column(y).detach().cpu().reshape(result.n_steps + 1, -1)
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
        ax.figure.tight_layout()
        try:
            with atomic_path(path, overwrite=overwrite) as tmp:
                ax.figure.savefig(tmp)
        finally:
            plt.close(ax.figure)
    return ax
