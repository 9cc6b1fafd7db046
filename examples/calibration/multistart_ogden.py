"""Multi-start calibration of a two-term Ogden model to Treloar's (1944) rubber data: the distinct optima.

Both Ogden terms get the same box, mu_p in [-2, 2] MPa and alpha_p in [-10, 10], and 16 starts of a scrambled Sobol'
sequence (seed 0) plus a neutral start are fitted to the three modes jointly (absolute error, MPa). A start with
sum(mu_p alpha_p) <= 0 is refused by the model (a failure, not an optimum). The table lists the distinct optima:
since both terms share one box, the model is symmetric under swapping them, and an optimum reached with the terms
in one order also appears mirrored (same cost, mu and alpha swapped), besides genuinely different local optima.

Run ``python examples/calibration/multistart_ogden.py [--out DIR] [--quick] [--force] [--scheduler ADDRESS]
[--workers N]`` to write calibration_multistart_ogden.{png,md} (and the best fit's figure
calibration_multistart_ogden_best.png) into DIR (default ``out/``, git-ignored); ``--scheduler tcp://host:port``
runs the starts on a Dask cluster. The copies in docs/figures are rewritten only by
``python examples/regenerate_figures.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from constitutive.calibrate.multistart import calibrate_multistart
from constitutive.data import RUBBER_MODES, load_treloar
from constitutive.fileio import atomic_write_text
from constitutive.models.hyperelastic import Ogden

REPO = Path(__file__).resolve().parents[2]
INITIAL = {"mu": [0.5, -0.01], "alpha": [1.5, -2.0]}  # neutral start: one stiffening, one softening term
BOUNDS = {"mu": (-2.0, 2.0), "alpha": (-10.0, 10.0)}  # the same box for both terms


def main(
    outdir: str | Path,
    quick: bool = False,
    *,
    overwrite: bool = False,
    scheduler: Any = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Run the multi-start fit, write the figures and the table into ``outdir``; return the key numbers.

    ``quick``: 4 starts, 8 points per mode, at most 40 evaluations per start (for the tests).
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    experiments = [load_treloar(mode).experiment(name=mode) for mode in RUBBER_MODES]
    if quick:
        experiments = [e.subsample(8) for e in experiments]
    result = calibrate_multistart(
        Ogden,
        experiments,
        INITIAL,
        bounds=BOUNDS,
        starts=4 if quick else 16,
        sampling="sobol",
        seed=0,
        max_nfev=40 if quick else 400,
        scheduler=scheduler,
        workers=workers,
        progress=not quick,
    )
    figure = outdir / "calibration_multistart_ogden.png"
    best_figure = outdir / "calibration_multistart_ogden_best.png"
    result.plot(figure, title="two-term Ogden, Treloar (three modes): distinct optima", overwrite=overwrite)
    result.best.plot(best_figure, title="best of the multi-start fits", overwrite=overwrite)
    text = result.report()
    atomic_write_text(outdir / "calibration_multistart_ogden.md", text, overwrite=overwrite)
    print(result.table())
    print(result.summary())
    return {
        "result": result,
        "table": result.table(),
        "optima": [(o.cost, o.x.tolist(), o.count) for o in result.optima],
        "best_cost": result.best.cost,
        "initial_cost": getattr(result.results[0], "cost", None),
        "failures": len(result.failures),
        "figures": [figure, best_figure],
    }


if __name__ == "__main__":
    import argparse

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "out", help="output folder (default: out/, git-ignored)")
    parser.add_argument("--quick", action="store_true", help="few starts, few points")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    parser.add_argument("--scheduler", default=None, help="serial, local (default), processes or tcp://host:port")
    parser.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per CPU)")
    args = parser.parse_args()
    main(args.out, quick=args.quick, overwrite=args.force, scheduler=args.scheduler, workers=args.workers)
