"""Regenerate every figure and report in ``docs/figures`` and the fitted parameter files in ``materials/``.

The one command that writes over tracked files (every other example writes into ``out/`` and keeps existing files)::

    python examples/regenerate_figures.py            # everything (the calibrations take a few minutes)
    python examples/regenerate_figures.py --only j2_cyclic relaxation
    python examples/regenerate_figures.py --dry-run  # list what would be written

It passes ``docs/figures`` (and ``materials/`` to the calibrations) explicitly, with ``overwrite=True``. The
calibrations run first: ``hyperelastic_response`` draws the rubber fits they write.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
MATERIALS = ROOT / "materials"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_example_{name}", ROOT / "examples" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: (example, what it writes, how to run it into the docs), in the order they must run.
JOBS: list[tuple[str, str, Callable[[ModuleType], Any]]] = [
    (
        "calibrate_treloar",
        "calibration_treloar*.png/.md, materials/natural_rubber_*_treloar_fit.toml",
        lambda m: m.main(FIGURES, materials_dir=MATERIALS, overwrite=True),
    ),
    (
        "calibrate_steel",
        "calibration_steel.png/.md, materials/steel_st1594_j2_*_fit.toml",
        lambda m: m.main(FIGURES, materials_dir=MATERIALS, overwrite=True),
    ),
    (
        "calibration/bayes_voce_steel",
        "bayes_voce_steel.png/.md (parameter files and posteriors into out/bayes_voce_steel)",
        lambda m: m.main(FIGURES, files_dir=ROOT / "out" / "bayes_voce_steel", overwrite=True),
    ),
    ("hyperelastic_response", "hyperelastic_modes.png", lambda m: m.main(FIGURES, overwrite=True)),
    ("j2_cyclic", "driver_j2_hysteresis.png", lambda m: m.main(FIGURES, overwrite=True)),
    ("newton_convergence", "driver_newton_convergence.png", lambda m: m.main(FIGURES, overwrite=True)),
    ("relaxation", "driver_relaxation.png", lambda m: m.main(FIGURES, overwrite=True)),
    ("fem_hyperelastic_block", "fem_hyperelastic_convergence.png", lambda m: m.figure(FIGURES, overwrite=True)),
    ("fem_plasticity", "fem_plasticity_convergence.png", lambda m: m.figure(FIGURES, overwrite=True)),
    ("hill48_yield_surface", "hill48_yield_surface.png", lambda m: m.main(FIGURES, overwrite=True)),
    ("geomechanics_yield_surface", "geomechanics_yield_surface.png", lambda m: m.main(FIGURES, overwrite=True)),
    (
        "calibration/multistart_ogden",
        "calibration_multistart_ogden*.png/.md",
        lambda m: m.main(FIGURES, overwrite=True),
    ),
    (
        "calibration/campaign_steel",
        "campaign_bezborodov_tension_*.png/.md/_joint.toml",
        lambda m: m.main(FIGURES, overwrite=True),
    ),
    ("lemaitre_yield_surface", "lemaitre_yield_surface.png", lambda m: m.main(FIGURES, overwrite=True)),
    ("calibration/stability_treloar", "treloar_stability.png/.md", lambda m: m.main(FIGURES, overwrite=True)),
    ("camclay_yield_surface", "camclay_yield_surface.png", lambda m: m.main(FIGURES, overwrite=True)),
    ("calibration/inverse_block", "inverse_block*.png/.md", lambda m: m.main(FIGURES, overwrite=True)),
    ("artery_hgo", "artery_hgo.png", lambda m: m.main(FIGURES, overwrite=True)),
    ("finite_j2_simple_shear", "finite_j2_simple_shear.png", lambda m: m.main(FIGURES, overwrite=True)),
    ("thermal_bar", "thermal_bar.png", lambda m: m.main(FIGURES, overwrite=True)),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [name for name, *_ in JOBS]
    parser.add_argument("--only", nargs="+", choices=names, metavar="EXAMPLE", help=f"a subset of {names}")
    parser.add_argument("--dry-run", action="store_true", help="list the jobs without running them")
    args = parser.parse_args(argv)
    for name, writes, run in JOBS:
        if args.only and name not in args.only:
            continue
        print(f"{name}: {writes}", flush=True)
        if args.dry_run:
            continue
        start = time.perf_counter()
        run(_load(name))
        print(f"  done in {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
