r"""Hill48 yield surface of a deep-drawing sheet beside von Mises: π-plane, meridian and the in-plane σ11–σ22 locus.

The sheet (synthetic, DC04-like Lankford coefficients r0 = 1.9, r45 = 1.4, r90 = 2.3, rolling-direction yield stress
σ_y = 160 MPa; :meth:`Hill48.from_lankford`) is drawn in three sections, with material axes 1 = rolling,
2 = transverse, 3 = normal:

* the π-plane (principal stresses along the material axes, σ1 + σ2 + σ3 = 0): von Mises is the circle of radius
  √(2/3) σ_y, Hill48 an ellipse (σ̄ is quadratic and pressure insensitive);
* the meridian (ρ = ‖dev σ‖ against ξ = tr σ/√3) along uniaxial tension in the rolling, transverse and normal
  directions:
  lines parallel to the hydrostatic axis;
* the in-plane locus of the sheet (σ33 = σ12 = 0): :math:`G\sigma_{11}^2 + F\sigma_{22}^2 + H(\sigma_{11} -
  \sigma_{22})^2 = \sigma_y^2`, with the uniaxial yield stresses at 0° and 90° *obtained by driving the model*
  (uniaxial stress by the driver's mixed control, perfect plasticity) marked on it, and the equibiaxial point
  :math:`\sigma_b = \sigma_y/\sqrt{F + G}`.

Run ``python examples/hill48_yield_surface.py [--out DIR] [--force]`` to write ``hill48_yield_surface.png`` into
``DIR`` (default ``out/``, git-ignored); the copy in ``docs/figures`` is redrawn by
``python examples/regenerate_figures.py``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from constitutive.cli.args import example_parser
from constitutive.driver import drive  # noqa: E402
from constitutive.fileio import atomic_path  # noqa: E402
from constitutive.models import Hill48  # noqa: E402
from constitutive.paths import uniaxial_stress  # noqa: E402

E, NU, SIGMA_Y = 210000.0, 0.3, 160.0
R0, R45, R90 = 1.9, 1.4, 2.3  # synthetic, of the order of a DC04 deep-drawing steel
D = torch.float64


def _sbar(model: Hill48, s11: torch.Tensor, s22: torch.Tensor, s33: torch.Tensor) -> torch.Tensor:
    """Hill equivalent stress of diagonal stresses (material axes = global axes here)."""
    S = torch.zeros((*s11.shape, 3, 3), dtype=D)
    S[..., 0, 0], S[..., 1, 1], S[..., 2, 2] = s11, s22, s33
    return model.equivalent_stress(S)


def pi_plane(model: Hill48, n: int = 361) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """π-plane section: the angle ω (from the projected σ1 axis), the Hill radius and the von Mises radius
    (σ̄ is homogeneous of degree one, so the radius along a unit deviatoric direction d is σ_y/σ̄(d))."""
    w = torch.linspace(0.0, 2.0 * math.pi, n, dtype=D)
    e1 = torch.tensor([2.0, -1.0, -1.0], dtype=D) / math.sqrt(6.0)
    e2 = torch.tensor([0.0, 1.0, -1.0], dtype=D) / math.sqrt(2.0)
    d = torch.cos(w)[:, None] * e1 + torch.sin(w)[:, None] * e2
    rho = SIGMA_Y / _sbar(model, d[:, 0], d[:, 1], d[:, 2])
    return w, rho, torch.full_like(w, math.sqrt(2.0 / 3.0) * SIGMA_Y)


def in_plane_locus(model: Hill48, n: int = 361) -> tuple[torch.Tensor, torch.Tensor]:
    """σ11, σ22 on the sheet's plane-stress yield locus (σ33 = σ12 = 0), by the same radial scaling."""
    t = torch.linspace(0.0, 2.0 * math.pi, n, dtype=D)
    c, s = torch.cos(t), torch.sin(t)
    r = SIGMA_Y / _sbar(model, c, s, torch.zeros_like(c))
    return r * c, r * s


def driven_yield_stresses(model_kwargs: dict[str, Any], thetas: list[float]) -> torch.Tensor:
    """Uniaxial stress at θ from the rolling direction, driven by the material-point driver on a perfectly plastic
    sheet (the rolling direction at −θ from the load axis x: one orientation per point); the saturated stress."""
    euler = torch.tensor([[-t, 0.0, 0.0] for t in thetas], dtype=D)
    model = Hill48.from_lankford(R0, R45, R90, euler=euler, **model_kwargs)
    res = drive(model, uniaxial_stress([0.01], increments=4), batch_shape=(len(thetas),))
    return res.stress[-1][:, 0, 0]


def main(outdir: str | Path | None = None, *, overwrite: bool = False) -> dict[str, Any]:
    """Compute the sections and the driven yield stresses; write the figure into ``outdir`` when given."""
    kwargs: dict[str, Any] = {"E": E, "nu": NU, "sigma_y": SIGMA_Y}
    hill = Hill48.from_lankford(R0, R45, R90, **kwargs)
    mises = Hill48(E, NU, SIGMA_Y)
    F, G, H, N = (float(hill.parameters[k]) for k in ("F", "G", "H", "N"))
    thetas = [0.0, 45.0, 90.0]
    driven = driven_yield_stresses(kwargs, thetas)
    closed = hill.uniaxial_yield_stress(torch.tensor(thetas, dtype=D))
    sigma_b = SIGMA_Y / math.sqrt(F + G)
    w, rho_h, rho_m = pi_plane(hill)
    x_h, y_h = in_plane_locus(hill)
    x_m, y_m = in_plane_locus(mises)
    out: dict[str, Any] = {
        "constants": {"F": F, "G": G, "H": H, "N": N},
        "yield_stress_closed_form": [float(v) for v in closed],
        "yield_stress_driven": [float(v) for v in driven],
        "yield_stress_max_rel_error": float(((driven - closed).abs() / closed).max()),
        "equibiaxial_yield_stress": sigma_b,
        "r_values": [float(v) for v in hill.r_value(torch.tensor(thetas, dtype=D))],
        "pi_plane_radius_range": (float(rho_h.min()), float(rho_h.max())),
    }
    if outdir is None:
        return out
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.5), dpi=120)
    ax = axes[0]
    ax.plot(rho_m * torch.cos(w), rho_m * torch.sin(w), "k--", lw=1, label="von Mises")
    ax.plot(rho_h * torch.cos(w), rho_h * torch.sin(w), "C0", lw=2, label="Hill48")
    for k, name in enumerate(("σ1 (RD)", "σ2 (TD)", "σ3 (ND)")):
        ang = 2.0 * math.pi * k / 3.0  # the projected σ1, σ2, σ3 axes at 0°, 120°, 240°
        ax.plot([0, 1.15 * SIGMA_Y * math.cos(ang)], [0, 1.15 * SIGMA_Y * math.sin(ang)], color="0.6", lw=0.8)
        ax.annotate(name, (1.18 * SIGMA_Y * math.cos(ang), 1.18 * SIGMA_Y * math.sin(ang)), ha="center", fontsize=8)
    ax.set_aspect("equal")
    ax.set_title("π-plane (principal stresses along material axes)")
    ax.legend(loc="lower right", fontsize=7, framealpha=0.9)
    ax = axes[1]
    xi = torch.linspace(-300.0, 300.0, 2, dtype=D)
    dirs = {"tension RD (= von Mises)": (1.0, 0.0, 0.0), "tension TD": (0.0, 1.0, 0.0), "tension ND": (0.0, 0.0, 1.0)}
    for (label, (a, b, c)), color in zip(dirs.items(), ("C0", "C2", "C1")):
        dev = torch.tensor([a, b, c], dtype=D) - (a + b + c) / 3.0
        dev = dev / dev.norm()
        r = SIGMA_Y / float(_sbar(hill, dev[0], dev[1], dev[2]))
        ax.plot(xi, torch.full_like(xi, r), color=color, lw=2, label=f"Hill48, {label}")
    ax.plot(xi, torch.full_like(xi, math.sqrt(2.0 / 3.0) * SIGMA_Y), "k--", lw=1, label="von Mises (σ_y = RD)")
    ax.set_xlabel("ξ = tr σ / √3 (MPa)")
    ax.set_ylabel("ρ = ‖dev σ‖ (MPa)")
    ax.set_ylim(0.0, 1.6 * SIGMA_Y)
    ax.set_title("meridian (pressure insensitive)")
    ax.legend(loc="lower right", fontsize=8)
    ax = axes[2]
    ax.plot(x_m, y_m, "k--", lw=1, label="von Mises")
    ax.plot(x_h, y_h, "C0", lw=2, label=f"Hill48 (r0, r45, r90 = {R0}, {R45}, {R90})")
    ax.plot([float(driven[0])], [0.0], "o", color="C3", label="driven uniaxial 0°, 90°")
    ax.plot([0.0], [float(driven[2])], "o", color="C3")
    ax.plot([sigma_b], [sigma_b], "s", color="C2", label="equibiaxial σ_y/√(F+G)")
    ax.axhline(0.0, color="0.7", lw=0.6)
    ax.axvline(0.0, color="0.7", lw=0.6)
    ax.set_aspect("equal")
    ax.set_xlabel("σ11, rolling (MPa)")
    ax.set_ylabel("σ22, transverse (MPa)")
    ax.set_title("sheet plane stress locus (σ12 = 0)")
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    out["figure"] = str(outdir / "hill48_yield_surface.png")
    with atomic_path(out["figure"], overwrite=overwrite) as tmp:  # an existing file only with overwrite
        fig.savefig(tmp)
    plt.close(fig)
    return out


if __name__ == "__main__":
    parser = example_parser(__doc__, __file__)
    args = parser.parse_args()
    for key, value in main(args.out, overwrite=args.force).items():
        print(f"{key}: {value}")
