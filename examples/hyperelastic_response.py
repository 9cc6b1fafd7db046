r"""Uniaxial, equibiaxial and pure-shear response of the hyperelastic models against Treloar's (1944) rubber data.

Writes ``hyperelastic_modes.png`` (nominal stress vs stretch, one panel per loading mode) into ``outdir``
(default ``out/``, git-ignored) and prints the parameters it used:

* Ogden: the published three-term fit (Ogden 1972), read from ``materials/natural_rubber_ogden_treloar.toml``;
* Neo-Hookean, Mooney--Rivlin, Yeoh, Arruda--Boyce, Gent and a three-term Ogden: the joint fits to the three data
  sets written by ``examples/calibrate_treloar.py`` (:mod:`constitutive.calibrate`) into
  ``materials/natural_rubber_<model>_treloar_fit.toml``.

The data come from :func:`constitutive.data.load_treloar` (``materials/data``).
Run ``python examples/hyperelastic_response.py [--out DIR] [--force]``; the copy in ``docs/figures`` is redrawn by
``python examples/regenerate_figures.py``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from constitutive.cli.args import example_parser
from constitutive.data import load_treloar  # noqa: E402
from constitutive.fileio import atomic_path  # noqa: E402
from constitutive.models import load  # noqa: E402
from constitutive.models.hyperelastic import LOADING_MODES, HyperelasticMaterial  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FITTED = ("NeoHookean", "MooneyRivlin", "Yeoh", "ArrudaBoyce", "Gent", "Ogden")


def build_models() -> list[tuple[str, HyperelasticMaterial]]:
    """The models of the figure, each incompressible, with its label (parameters in MPa): Ogden's published fit
    and the joint fits of ``examples/calibrate_treloar.py`` (``materials/natural_rubber_*_treloar_fit.toml``)."""
    models: list[tuple[str, HyperelasticMaterial]] = []
    published = load(ROOT / "materials" / "natural_rubber_ogden_treloar.toml")
    models.append(("Ogden (published 1972 fit)", published.with_parameters(K=None)))
    for name in FITTED:
        model = load(ROOT / "materials" / f"natural_rubber_{name.lower()}_treloar_fit.toml")
        values = ", ".join(f"{k}={_short(v)}" for k, v in model.to_dict()["parameters"].items() if v is not None)
        models.append((f"{name} (joint fit: {values})", model))
    return models


def _short(v: float | list[float]) -> str:
    return "[" + ", ".join(f"{x:.3g}" for x in v) + "]" if isinstance(v, list) else f"{v:.3g}"


def main(outdir: str | Path | None = None, *, overwrite: bool = False) -> Path:
    """Write ``hyperelastic_modes.png`` into ``outdir`` (default ``out/``, git-ignored; an existing file only with
    ``overwrite``) and return its path."""
    outdir = Path(outdir) if outdir is not None else ROOT / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    models = build_models()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), constrained_layout=True)
    titles = {
        "uniaxial": "uniaxial tension",
        "equibiaxial": "equibiaxial tension",
        "pure_shear": "pure shear",
    }
    for ax, mode in zip(axes, LOADING_MODES):
        test = load_treloar(mode)
        lam_data, P_data = test.stretch, test.stress
        top = float(lam_data.max())
        lam = torch.linspace(1.0, top, 200, dtype=torch.float64)
        for label, model in models:
            try:
                P = model.nominal_stress(lam, mode)
            except ValueError:  # Gent beyond its locking stretch in this mode
                continue
            ax.plot(lam.numpy(), P.numpy(), label=label, lw=1.8 if "published" in label else 1.1)
        ax.plot(lam_data, P_data, "ko", ms=4, mfc="none", label="Treloar (1944)")
        ax.set_title(titles[mode])
        ax.set_xlabel("stretch λ")
        ax.set_ylabel("nominal stress P [MPa]")
        ax.set_ylim(0.0, 1.25 * float(P_data.max()))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Incompressible hyperelastic models vs Treloar's natural-rubber data (joint fits to all three tests)")
    path = outdir / "hyperelastic_modes.png"
    with atomic_path(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    for label, _ in models:
        print(label)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    parser = example_parser(__doc__, __file__)
    args = parser.parse_args()
    main(args.out, overwrite=args.force)
