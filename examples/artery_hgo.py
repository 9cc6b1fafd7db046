r"""An artery layer with the Holzapfel--Gasser--Ogden model: uniaxial (circumferential, axial) and equibiaxial
response of the adventitia, two fibre families at ±γ from the circumferential direction.

Parameters (kPa): the adventitia of Gasser, Ogden & Holzapfel (2006), J. R. Soc. Interface 3, 15--35 (fit to a
human iliac adventitia): μ = 7.64 kPa (C10 = μ/2 = 3.82 kPa), k1 = 996.6 kPa, k2 = 524.6, κ = 0.226,
γ = 49.98°. Their model is incompressible; here **K = 1000 μ = 7640 kPa is an assumption** (nearly incompressible,
Abaqus D = 2/K), with the Abaqus volumetric term. Axes: 1 circumferential, 2 axial, 3 radial; the fibres lie in the
1-2 plane at ±γ from axis 1.

Each curve is a homogeneous stretch with the other normal stresses free
(:func:`constitutive.models.anisotropic.homogeneous_stretch`): uniaxial along 1 or 2, equibiaxial in the 1-2 plane
(first Piola--Kirchhoff stresses P11 and P22). Writes ``artery_hgo.png`` into ``outdir`` (default ``out/``); the copy
in ``docs/figures`` is redrawn by ``python examples/regenerate_figures.py``. Run
``python examples/artery_hgo.py [--out DIR] [--force]``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from constitutive.cli.args import example_parser
from constitutive.fileio import atomic_path
from constitutive.models import HolzapfelGasserOgden, homogeneous_stretch

ROOT = Path(__file__).resolve().parents[1]
#: Gasser, Ogden & Holzapfel (2006), adventitia: mu [kPa], k1 [kPa], k2, kappa, gamma [deg].
GOH2006_ADVENTITIA = {"mu": 7.64, "k1": 996.6, "k2": 524.6, "kappa": 0.226, "gamma": 49.98}
#: The largest stretch of the curves (the exponential stiffening makes larger stretches physiologically moot).
MAX_STRETCH = 1.10


def adventitia() -> HolzapfelGasserOgden:
    """The HGO model of the adventitia (kPa), K = 1000 μ assumed."""
    p = GOH2006_ADVENTITIA
    g = math.radians(p["gamma"])
    directions = [[math.cos(g), math.sin(g), 0.0], [math.cos(g), -math.sin(g), 0.0]]
    return HolzapfelGasserOgden(
        C10=p["mu"] / 2.0, K=1000.0 * p["mu"], k1=p["k1"], k2=p["k2"], kappa=p["kappa"], directions=directions
    )


def curves(n: int = 41) -> dict[str, np.ndarray]:
    """Nominal stresses [kPa] on ``n`` stretches from 1 to :data:`MAX_STRETCH`: ``"stretch"``, uniaxial
    ``"circumferential"`` (P11) and ``"axial"`` (P22), equibiaxial ``"equibiaxial_circ"`` (P11) and
    ``"equibiaxial_axial"`` (P22)."""
    model = adventitia()
    lam = torch.linspace(1.0, MAX_STRETCH, n, dtype=torch.float64)
    out = {"stretch": lam.numpy()}
    out["circumferential"] = homogeneous_stretch(model, lam, "uniaxial", axis=0)[1][:, 0, 0].numpy()
    out["axial"] = homogeneous_stretch(model, lam, "uniaxial", axis=1)[1][:, 1, 1].numpy()
    P = homogeneous_stretch(model, lam, "equibiaxial", axis=0)[1]
    out["equibiaxial_circ"], out["equibiaxial_axial"] = P[:, 0, 0].numpy(), P[:, 1, 1].numpy()
    return out


def main(outdir: str | Path | None = None, *, overwrite: bool = False, n: int = 41) -> Path:
    """Write ``artery_hgo.png`` (``n`` stretches per curve) into ``outdir`` (default ``out/``; an existing file only
    with ``overwrite``) and print the curves' end values; returns the figure's path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outdir = Path(outdir) if outdir is not None else ROOT / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    c = curves(n)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    lam = c["stretch"]
    axes[0].plot(lam, c["circumferential"], label="uniaxial, circumferential (P11)")
    axes[0].plot(lam, c["axial"], label="uniaxial, axial (P22)")
    axes[0].set_title("uniaxial tension, lateral faces free")
    axes[1].plot(lam, c["equibiaxial_circ"], label="circumferential P11")
    axes[1].plot(lam, c["equibiaxial_axial"], label="axial P22")
    axes[1].set_title("equibiaxial tension (1-2 plane), radial face free")
    for ax in axes:
        ax.set_xlabel("stretch λ")
        ax.set_ylabel("nominal stress [kPa]")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
    p = GOH2006_ADVENTITIA
    fig.suptitle(
        f"HGO adventitia (Gasser, Ogden & Holzapfel 2006): μ = {p['mu']} kPa, k1 = {p['k1']} kPa, k2 = {p['k2']}, "
        f"κ = {p['kappa']},\nfibres at ±{p['gamma']}° from the circumferential axis; K = 1000 μ (assumed)"
    )
    path = outdir / "artery_hgo.png"
    with atomic_path(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    for key, values in c.items():
        if key != "stretch":
            print(f"{key:>18}: P({lam[-1]:.2f}) = {values[-1]:.4g} kPa")
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    parser = example_parser(__doc__, __file__)
    args = parser.parse_args()
    main(args.out, overwrite=args.force)
