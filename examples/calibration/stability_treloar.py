"""Drucker stability limits of every shipped Treloar fit, and a stable three-term Ogden fit to one mode.

For each ``materials/natural_rubber_*treloar*.toml`` the Abaqus-style stability scan
(:func:`constitutive.calibrate.stability`, module :mod:`constitutive.calibrate.drucker`; stretches 0.1 to 10,
uniaxial / equibiaxial / planar, and volumetric for a model with a bulk modulus) gives the first stretch of lost
stability per mode and direction. Then a three-term
Ogden model is fitted to Treloar's pure-shear data without the sign bounds mu_p alpha_p > 0 (unconstrained: it
loses stability inside the range of its own data) and again with ``stable_range=(0.1, 10)`` (the penalty); both
errors are reported.

Run ``python examples/calibration/stability_treloar.py [--out DIR] [--force]`` to write treloar_stability.png and
treloar_stability.md into DIR (default ``out/``); ``python examples/regenerate_figures.py --only stability_treloar``
rewrites the copies in docs/figures.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from constitutive.calibrate import calibrate, stability  # noqa: E402
from constitutive.data import load_treloar  # noqa: E402
from constitutive.fileio import atomic_path, atomic_write_text  # noqa: E402
from constitutive.models import load  # noqa: E402
from constitutive.models.hyperelastic import Ogden  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MATERIALS = REPO / "materials"
RANGE = (0.1, 10.0)
INITIAL = {"mu": [0.5, 0.01, -0.01], "alpha": [1.0, 4.0, -1.0]}
#: exponent bounds only: no sign bounds on mu_p (those make every Ogden term stable by itself)
ALPHA_BOUNDS = {"alpha[0]": (0.1, 10.0), "alpha[1]": (0.1, 15.0), "alpha[2]": (-10.0, -0.1)}


def _cell(rep: Any, mode: str, direction: str) -> str:
    if mode not in rep.limits:
        return "n/a"
    v = rep.limits[mode][direction]
    if v is not None:
        return f"**{v:.3g}**"
    end = rep.domain_limits.get(mode, {}).get(direction)
    return f"stable (domain ends {end:.3g})" if end is not None else "stable"


def limits_table(reports: dict[str, Any]) -> str:
    """Markdown: one row per fit, the stretch of lost stability per mode and direction (bold), else stable."""
    cols = [(m, d) for m in ("uniaxial", "equibiaxial", "planar", "volumetric") for d in ("tension", "compression")]
    head = "| fit | " + " | ".join(f"{m} {'T' if d == 'tension' else 'C'}" for m, d in cols) + " |"
    rows = [head, "|---" * (len(cols) + 1) + "|"]
    for name, rep in reports.items():
        rows.append(f"| {name} | " + " | ".join(_cell(rep, m, d) for m, d in cols) + " |")
    return "\n".join(rows)


def main(outdir: str | Path, *, overwrite: bool = False) -> dict[str, Any]:
    """Scan every shipped Treloar fit, fit Ogden to pure shear with and without the penalty, write the figure and
    the table into ``outdir``; return the numbers."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    reports = {}
    for path in sorted(MATERIALS.glob("natural_rubber_*treloar*.toml")):
        reports[path.stem] = stability(load(path), stretches=RANGE, name=path.stem)
    exp = load_treloar("pure_shear").experiment()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        free = calibrate(Ogden, exp, INITIAL, bounds=ALPHA_BOUNDS, max_nfev=200)
        stable = calibrate(Ogden, exp, INITIAL, bounds=ALPHA_BOUNDS, max_nfev=200, stable_range=RANGE)
    reports["Ogden fit to pure shear, unconstrained"] = free.stability
    reports["Ogden fit to pure shear, stable_range (0.1, 10)"] = stable.stability
    name = exp.name
    fits = (
        "| Ogden (3 terms) fit to Treloar pure shear | rms error (MPa) | stability | parameters |\n|---|---|---|---|\n"
        + "\n".join(
            f"| {label} | {res.rms[name]:.5f} | {res.stability.summary()} | mu = "
            + ", ".join(f"{v:.4g}" for v in res.parameters["mu"])
            + "; alpha = "
            + ", ".join(f"{v:.4g}" for v in res.parameters["alpha"])
            + " |"
            for label, res in (("unconstrained", free), ("stable_range = (0.1, 10)", stable))
        )
    )
    table = limits_table(reports)
    atomic_write_text(outdir / "treloar_stability.md", table + "\n\n" + fits + "\n", overwrite=overwrite)
    shown = [k for k in reports if k.endswith("ogden_treloar_fit") or k.endswith("mooneyrivlin_treloar_fit")]
    shown += ["Ogden fit to pure shear, unconstrained", "Ogden fit to pure shear, stable_range (0.1, 10)"]
    fig, axes = plt.subplots(1, len(shown), figsize=(4.4 * len(shown), 3.6), sharey=True)
    for ax, key in zip(axes, shown):
        reports[key].plot(ax=ax, title=key.replace("natural_rubber_", "").replace("_treloar_fit", " (joint fit)"))
        ax.set_ylim(-1.0, 3.0)
    fig.tight_layout()
    with atomic_path(outdir / "treloar_stability.png", overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    print(table + "\n\n" + fits)
    return {
        "reports": reports,
        "free": free,
        "stable": stable,
        "free_rms": free.rms[name],
        "stable_rms": stable.rms[name],
        "table": table,
        "figure": outdir / "treloar_stability.png",
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "out", help="output folder (default: out/, git-ignored)")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    args = parser.parse_args()
    main(args.out, overwrite=args.force)
