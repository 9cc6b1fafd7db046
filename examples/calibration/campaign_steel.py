"""A test campaign: the tension tests St1594, St1595 (steel) and Al5005 (aluminium 5005), each specimen fitted on its
own and each material jointly, with the table and the figure of the parameter scatter across specimens.

The campaign is the manifest examples/calibration/campaign_steel/campaign.toml: true curves up to the UTS
(compliance-corrected to E = 210 GPa for steel, 70 GPa for aluminium), J2 plasticity with Swift hardening for the
steel and Voce hardening for the aluminium (the first fit example of Al5005). Specimens are grouped by material:
the aluminium is not fitted together with the steel.

Run ``python examples/calibration/campaign_steel.py [--out DIR] [--quick] [--force] [--scheduler ADDRESS]
[--workers N]`` to write, per material, campaign_<campaign>_<material>.{md,png} and the joint fit's parameter file
into DIR (default ``out/``, git-ignored); the same as ``constitutive calibrate --campaign
examples/calibration/campaign_steel --out DIR``. The copies in docs/figures are rewritten only by
``python examples/regenerate_figures.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from constitutive.calibrate.campaign import Campaign, Specimen

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FOLDER = HERE / "campaign_steel"


def main(
    outdir: str | Path,
    quick: bool = False,
    *,
    overwrite: bool = False,
    scheduler: Any = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Fit the campaign, write each material's report, scatter figure and joint parameter file into ``outdir``;
    return the key numbers. ``quick``: 25 points per curve (for the tests) instead of the manifest's 100."""
    outdir = Path(outdir)
    campaign = Campaign.from_folder(FOLDER)
    if quick:
        campaign = Campaign(
            [
                Specimen(
                    s.name,
                    [e.subsample(25) for e in s.experiments],
                    material=s.material,
                    test=s.test,
                    temperature=s.temperature,
                    lot=s.lot,
                )
                for s in campaign.specimens
            ],
            name=campaign.name,
            models=campaign.models,
            description=campaign.description,
        )
    results = campaign.fit_materials(scheduler=scheduler, workers=workers, progress=not quick)
    paths = {}
    for material, result in results.items():
        paths[material] = result.save(outdir, stem=f"campaign_{result.name}", overwrite=overwrite)
        print(f"## {material}: {result.model_name}\n\n{result.table()}\n")
    return {
        "results": results,
        "tables": {m: r.table() for m, r in results.items()},
        "parameters": {m: {s.name: e.parameters for s, e in zip(r.specimens, r.each)} for m, r in results.items()},
        "statistics": {m: r.statistics() for m, r in results.items()},
        "rms": {m: {s.name: e.total_rms for s, e in zip(r.specimens, r.each)} for m, r in results.items()},
        "joint_rms": {m: dict(zip((s.name for s in r.specimens), r.joint_rms())) for m, r in results.items()},
        "success": {m: r.success for m, r in results.items()},
        "paths": paths,
    }


if __name__ == "__main__":
    import argparse

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "out", help="output folder (default: out/, git-ignored)")
    parser.add_argument("--quick", action="store_true", help="fewer points per curve")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    parser.add_argument("--scheduler", default=None, help="serial, local (default), processes or tcp://host:port")
    parser.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per CPU)")
    args = parser.parse_args()
    main(args.out, quick=args.quick, overwrite=args.force, scheduler=args.scheduler, workers=args.workers)
