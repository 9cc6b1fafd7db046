"""Bayesian calibration of J2 plasticity with Voce hardening to the two steel tension tests (St1594, St1595).

Data: materials/data/tension_St1594.csv and tension_St1595.csv (D. Bezborodov, "stress-strain" dataset, 2022,
public domain), true stress-strain curves up to the UTS, the crosshead compliance removed with E = 210 GPa (as in
examples/calibrate_steel.py; St1595's strain steps back at the start of the test: the points that do not raise the
running maximum are dropped). For each specimen: the least-squares fit (constitutive.calibrate.calibrate), then
the posterior of (sigma_y, Q, b) and of the noise standard deviation sigma (sampled, Jeffreys prior) by emcee
(constitutive.calibrate.bayes.sample_posterior), evaluated in batches over the walkers.

Output (into DIR, default out/bayes_voce_steel): bayes_voce_steel.png (data, least-squares curve, 95 % credible band
of the curve and 95 % predictive band of the data; the marginal posteriors of both specimens), bayes_voce_steel.md
(the posterior tables) and, per specimen, steel_<name>_j2_voce_bayes.toml (parameter file) with the posterior
beside it, steel_<name>_j2_voce_bayes_posterior.npz.

Run ``python examples/calibration/bayes_voce_steel.py [--out DIR] [--nsteps N] [--force]``;
``python examples/regenerate_figures.py --only calibration/bayes_voce_steel`` rewrites the figure and table in
docs/figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from constitutive.calibrate import calibrate  # noqa: E402
from constitutive.calibrate.bayes import NOISE_LABEL, sample_posterior  # noqa: E402
from constitutive.data import load_tension_test  # noqa: E402
from constitutive.fileio import atomic_path, atomic_write_text, check_writable  # noqa: E402
from constitutive.models.plasticity import J2Plasticity  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
E_STEEL = 210e3  # MPa, fixed (the crosshead strain cannot measure it)
SPECIMENS = ("St1594", "St1595")
FIT = dict(
    initial={"sigma_y": 250.0, "Q": 200.0, "b": 10.0},
    fixed={"E": E_STEEL, "nu": 0.3, "H": 0.0},
    options={"hardening": "voce"},
    bounds={"sigma_y": (1.0, None), "Q": (0.0, None), "b": (1e-3, None)},
)


def main(
    outdir: str | Path,
    *,
    nsteps: int = 3500,
    burn: int = 500,
    nwalkers: int = 32,
    points: int = 150,
    files_dir: str | Path | None = None,
    seed: int = 0,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Fit and sample both specimens; write the figure and the tables into ``outdir`` and the parameter files with
    their posteriors into ``files_dir`` (default ``outdir``); return the key numbers.

    Parameters
    ----------
    outdir:
        Folder of the figure and the report.
    nsteps, burn, nwalkers:
        Sampler settings (:func:`sample_posterior`); the defaults keep 3000 steps, over 50 autocorrelation times
        (τ ≈ 45 steps here).
    points:
        Points of each true curve (evenly spaced in strain).
    files_dir:
        Folder of the parameter files and posteriors (default ``outdir``).
    seed:
        Seed of the sampler.
    overwrite:
        Replace existing outputs (default: refused, before any work).
    """
    outdir = Path(outdir)
    files = Path(files_dir) if files_dir is not None else outdir
    stems = {name: f"steel_{name.lower()}_j2_voce_bayes" for name in SPECIMENS}
    targets = [outdir / "bayes_voce_steel.png", outdir / "bayes_voce_steel.md"]
    targets += [files / f"{s}{suffix}" for s in stems.values() for suffix in (".toml", "_posterior.npz")]
    for path in targets:  # refuse before the sampling, not after
        check_writable(path, overwrite=overwrite)
    outdir.mkdir(parents=True, exist_ok=True)
    files.mkdir(parents=True, exist_ok=True)

    specimens: dict[str, dict[str, Any]] = {}
    for name in SPECIMENS:
        test = load_tension_test(f"tension_{name}.csv")
        exp = test.experiment(E=E_STEEL, points=points, monotonic="drop", name=name)
        res = calibrate(J2Plasticity, exp, **FIT)
        post = sample_posterior(res, nwalkers=nwalkers, nsteps=nsteps, burn=burn, noise="estimate", seed=seed)
        pred = post.band(name, 0.95, predictive=True, draws=4000)
        y = exp.y.numpy()
        coverage = float(np.mean((y >= pred.lower) & (y <= pred.upper)))
        res.save(
            files / f"{stems[name]}.toml",
            name=f"steel {name}, J2 with Voce hardening, least squares (posterior beside it)",
            units="MPa",
            overwrite=overwrite,
            posterior=f"{stems[name]}_posterior.npz",
            notes="E fixed at 210 GPa and nu at 0.3; written by examples/calibration/bayes_voce_steel.py",
        )
        post.save(files / f"{stems[name]}_posterior.npz", overwrite=overwrite)
        specimens[name] = {
            "posterior": post,
            "experiment": exp,
            "predictive_coverage": coverage,
            "sigma": float(np.median(post.samples[:, -1])),
            "stem": stems[name],
        }

    _figure(specimens, outdir / "bayes_voce_steel.png", overwrite)
    lines = ["# Bayesian Voce fits to the steel tension tests", ""]
    for name, s in specimens.items():
        post = s["posterior"]
        lines += [
            f"## {name}",
            "",
            post.table(),
            f"- data points inside the 95 % predictive band: {s['predictive_coverage']:.0%}",
            "",
        ]
    text = "\n".join(lines)
    atomic_write_text(outdir / "bayes_voce_steel.md", text, overwrite=overwrite)
    print(text)
    return {"specimens": specimens, "figure": outdir / "bayes_voce_steel.png", "report": outdir / "bayes_voce_steel.md"}


def _figure(specimens: dict[str, dict[str, Any]], path: Path, overwrite: bool) -> None:
    fig = plt.figure(figsize=(12, 10), layout="constrained")
    top, middle, bottom = fig.subfigures(3, 1, height_ratios=[1.2, 0.9, 1])
    axes, raxes = top.subplots(1, len(specimens)), middle.subplots(1, len(specimens))
    for ax, rax, (name, s) in zip(axes, raxes, specimens.items()):
        post, exp = s["posterior"], s["experiment"]
        x, y = exp.x.numpy(), exp.y.numpy()
        grid = np.linspace(1e-5, float(exp.x[-1]), 300)
        band = post.band(name, 0.95, x=grid, draws=1000)
        at_data = post.band(name, 0.95, draws=1000)
        pred = post.band(name, 0.95, predictive=True, draws=4000)  # many draws: a smooth noise quantile
        ax.fill_between(pred.x, pred.lower, pred.upper, color="C2", alpha=0.25, lw=0, label="95 % predictive")
        ax.fill_between(band.x, band.lower, band.upper, color="C1", alpha=0.7, lw=0, label="95 % credible (curve)")
        ax.plot(x, y, "ko", ms=2.5, mfc="none", label="data (true curve)")
        ax.plot(band.x, band.best, "C0-", lw=1.0, label="least squares")
        sig = float(np.median(post.samples[:, -1]))
        ax.set_title(f"{name}: J2 + Voce, noise σ ≈ {sig:.1f} MPa")
        ax.set_xlabel("true strain")
        ax.set_ylabel("true stress (MPa)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        # the same about the least-squares curve: the credible band is narrow, the misfit is systematic
        best = at_data.best
        rax.fill_between(x, pred.lower - best, pred.upper - best, color="C2", alpha=0.25, lw=0)
        rax.fill_between(x, at_data.lower - best, at_data.upper - best, color="C1", alpha=0.7, lw=0)
        rax.plot(x, y - best, "ko", ms=2.5, mfc="none")
        rax.axhline(0.0, color="C0", lw=1.0)
        rax.set_xlabel("true strain")
        rax.set_ylabel("minus least squares (MPa)")
        rax.set_title(f"{name}: data and bands about the fit ({s['predictive_coverage']:.0%} of the data inside)")
        rax.grid(alpha=0.3)
    labels = ["sigma_y", "Q", "b", NOISE_LABEL]
    units = {"sigma_y": " (MPa)", "Q": " (MPa)", "b": "", NOISE_LABEL: " (MPa)"}
    maxes = bottom.subplots(1, len(labels))
    for ax, label in zip(maxes, labels):
        for k, (name, s) in enumerate(specimens.items()):
            post = s["posterior"]
            ax.hist(post.samples[:, post.labels.index(label)], bins=40, density=True, alpha=0.6, color=f"C{k + 3}")
            ax.axvline(np.mean(post.samples[:, post.labels.index(label)]), color=f"C{k + 3}", lw=1, label=name)
        ax.set_xlabel(label + units[label])
        ax.set_yticks([])
        ax.legend(fontsize=8)
    bottom.suptitle(
        "marginal posteriors (two different steels: they differ far beyond the posterior widths)", fontsize=10
    )
    with atomic_path(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    import argparse

    torch.set_num_threads(1)  # small tensors: threads only add overhead
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "out" / "bayes_voce_steel", help="output folder")
    parser.add_argument("--nsteps", type=int, default=3500, help="MCMC steps per walker")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    args = parser.parse_args()
    main(args.out, nsteps=args.nsteps, overwrite=args.force)
