r"""Mohr--Coulomb and Drucker--Prager yield surfaces: the π-plane section (MC hexagon with the outer, inner and
plane-strain DP cones) and the meridional section (compression and extension meridians), with stress points
returned by the models' own return maps.

Every curve is computed from the models (``yield_function`` and ``update``), not redrawn from formulas: along a ray
:math:`\sigma = -p_0 I + \rho\,u` (u a unit deviatoric direction at Lode angle θ) the yield function is affine in ρ
for a fixed ordering of the principal stresses, so the radius is :math:`\rho = -F(0)/(F(1) - F(0))`. The DP cone
matched at the compression meridian touches the hexagon's outer corners (θ = the compression meridian), the
tension-matched one its inner corners; the example returns those radii, which the tests compare.

Run ``python examples/geomechanics_yield_surface.py [--out DIR] [--force]`` to write ``geomechanics_yield_surface.png``
into ``DIR`` (default ``out/``, git-ignored); the copy in ``docs/figures`` is redrawn by
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
from constitutive.fileio import atomic_path  # noqa: E402
from constitutive.models import DruckerPrager, MohrCoulomb  # noqa: E402

E, NU, PHI, C, PSI = 20e3, 0.25, 30.0, 10.0, 10.0  # kPa, degrees: a stiff clayey sand
P0 = 40.0  # the π-plane section's pressure (compressive, kPa)


def deviatoric_direction(theta: torch.Tensor) -> torch.Tensor:
    """Unit deviatoric tensors ``(n, 3, 3)`` (diagonal) at angle θ in the π-plane, θ = 0 along the σ₁ axis
    projection (the compression meridian of tension-positive σ₁ = σ₂ > σ₃ is at θ = 60°)."""
    e1 = torch.tensor([2.0, -1.0, -1.0], dtype=torch.float64) / math.sqrt(6.0)
    e2 = torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64) / math.sqrt(2.0)
    u = torch.cos(theta)[:, None] * e1 + torch.sin(theta)[:, None] * e2
    return torch.diag_embed(u)


def section_radius(model: Any, theta: torch.Tensor, p: float | torch.Tensor) -> torch.Tensor:
    """Radius ρ of the yield surface at pressure ``p`` (a float, or a tensor broadcasting with ``theta``) along the
    π-plane directions ``theta`` (from the model's own yield function, affine in ρ along a ray)."""
    theta, pp = torch.broadcast_tensors(theta, torch.as_tensor(p, dtype=torch.float64))
    u = deviatoric_direction(theta.reshape(-1))
    base = -pp.reshape(-1, 1, 1) * torch.eye(3, dtype=torch.float64)
    f0, f1 = model.yield_function(base), model.yield_function(base + u)
    return -f0 / (f1 - f0)


def main(outdir: str | Path | None = None, *, n: int = 361, overwrite: bool = False) -> dict[str, Any]:
    """Compute the sections (and returned stresses); write the figure into ``outdir`` when given."""
    mc = MohrCoulomb(E, NU, PHI, C, psi=PSI)
    cones = {m: DruckerPrager.from_mohr_coulomb(E, NU, PHI, C, PSI, match=m) for m in ("compression", "tension")}
    cones["plane_strain"] = DruckerPrager.from_mohr_coulomb(E, NU, PHI, C, match="plane_strain")
    theta = torch.linspace(0.0, 2.0 * math.pi, n, dtype=torch.float64)
    r_mc = section_radius(mc, theta, P0)
    r_dp = {k: section_radius(m, theta, P0) for k, m in cones.items()}
    special = torch.tensor([math.pi / 3.0, 0.0], dtype=torch.float64)  # compression, extension meridians
    r_special = section_radius(mc, special, P0)
    out: dict[str, Any] = {
        "mc_radius_compression": float(r_special[0]),
        "mc_radius_extension": float(r_special[1]),
        "dp_outer_radius": float(section_radius(cones["compression"], special[:1], P0)[0]),
        "dp_inner_radius": float(section_radius(cones["tension"], special[:1], P0)[0]),
    }
    # trial states beyond the surface at pressure P0, returned by the MC return map (plane and edges); with ψ = 0
    # the return is isochoric, so the returned stresses stay in the π-plane section at P0, on the hexagon
    K = E / (3 * (1 - 2 * NU))
    G = E / (2 * (1 + NU))
    dirs = deviatoric_direction(torch.linspace(0.1, 2 * math.pi - 0.1, 14, dtype=torch.float64))
    eps = (-P0 / (3 * K)) * torch.eye(3, dtype=torch.float64) + (2.5 * float(r_mc.max()) / (2 * G)) * dirs
    mc0 = mc.with_parameters(psi=0.0)
    s, _, _ = mc0.update(eps, mc0.initial_state((eps.shape[0],)))
    out["returned_modes"] = sorted(set(mc0.return_mode(eps).tolist()))
    e1 = torch.tensor([2.0, -1.0, -1.0], dtype=torch.float64) / math.sqrt(6.0)
    e2 = torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64) / math.sqrt(2.0)
    diag = torch.diagonal(s, dim1=-2, dim2=-1)
    returned = torch.stack([diag @ e1, diag @ e2], -1)
    out["returned_radius_error"] = float(
        (returned.norm(dim=-1) - section_radius(mc, torch.atan2(returned[:, 1], returned[:, 0]), P0)).abs().max()
    )
    out["summary"] = (
        f"Mohr-Coulomb phi = {PHI} deg, c = {C} kPa at p = {P0} kPa: rho(compression meridian) = "
        f"{out['mc_radius_compression']:.4f}, outer DP cone {out['dp_outer_radius']:.4f}; rho(extension) = "
        f"{out['mc_radius_extension']:.4f}, inner DP cone {out['dp_inner_radius']:.4f}"
    )
    if outdir is None:
        return out
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 5.2))
    xy = lambda r: (r * torch.cos(theta), r * torch.sin(theta))  # noqa: E731
    ax.plot(*xy(r_mc), "k-", lw=2, label=f"Mohr-Coulomb (phi = {PHI:g}°, c = {C:g})")
    styles = {"compression": "C0--", "tension": "C1--", "plane_strain": "C2:"}
    for k, r in r_dp.items():
        ax.plot(*xy(r), styles[k], label=f"Drucker-Prager, {k.replace('_', ' ')} match")
    ax.plot(returned[:, 0], returned[:, 1], "rx", label="MC returns (ψ = 0: plane, edges)")
    R = 1.3 * float(r_mc.max())
    for k, name in enumerate(("σ1", "σ2", "σ3")):  # projections of the principal axes
        a = 2 * math.pi * k / 3
        ax.plot([0.0, R * math.cos(a)], [0.0, R * math.sin(a)], color="0.8", lw=0.8, zorder=0)
        ax.annotate(name, (0.92 * R * math.cos(a), 0.92 * R * math.sin(a) + 2.0))
    ax.set_xlim(-R, R)
    ax.set_ylim(-R, R)
    ax.set_aspect("equal")
    ax.set_title(f"π-plane at p = {P0:g} kPa (tension positive)")
    ax.legend(loc="lower left", fontsize=6.5, framealpha=0.9)
    p = torch.linspace(-C / math.tan(math.radians(PHI)) - 5.0, 150.0, 50, dtype=torch.float64)
    for th, name, ls in ((math.pi / 3, "compression meridian", "-"), (0.0, "extension meridian", "--")):
        q_mc = section_radius(mc, torch.full_like(p, th), p).clamp_min(0.0) * math.sqrt(1.5)
        bx.plot(p, q_mc, "k" + ls, lw=3, alpha=0.5, label=f"MC {name}")
    for k, m in cones.items():
        q_dp = (
            m.cohesion(torch.zeros((), dtype=torch.float64))[0] + p * math.tan(math.radians(float(m.beta)))
        ).clamp_min(0.0)
        bx.plot(p, q_dp, styles[k], label=f"DP {k.replace('_', ' ')}")
    bx.set_xlabel("p = -tr σ / 3 (kPa)")
    bx.set_ylabel("q (kPa)")
    bx.set_ylim(bottom=0.0)
    bx.set_title("meridional sections (apex at p = -c cot φ)")
    bx.legend(fontsize=7)
    fig.tight_layout()
    out["figure"] = str(outdir / "geomechanics_yield_surface.png")
    with atomic_path(out["figure"], overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return out


if __name__ == "__main__":
    parser = example_parser(__doc__, __file__)
    args = parser.parse_args()
    numbers = main(args.out, overwrite=args.force)
    print(numbers.pop("summary"))
    for key, value in numbers.items():
        print(f"{key}: {value}")
