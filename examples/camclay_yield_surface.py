r"""Modified Cam-clay: the yield ellipse, the critical-state line and the drained and undrained triaxial paths.

A normally consolidated clay (κ = 0.05, λ = 0.2, M = 1.2, e0 = 1, p0 = p_c0 = 100 kPa, ν = 0.3) is sheared

* drained, at constant cell pressure (the driver's mixed control: σ22 = σ33 = −p0, ε11 prescribed): the total stress
  path q = 3 (p − p0) ends on the critical-state line at :math:`p_f = 3p_0/(3 - M)`, the ellipse growing to
  :math:`p_c = 2p_f`;
* undrained (ε_v = 0, strain controlled): the effective stress path
  :math:`q = M\sqrt{p\,(p_{c0}(p_0/p)^{\kappa/(\lambda-\kappa)} - p)}` ends at
  :math:`p_f = p_0\,(p_{c0}/2p_0)^{(\lambda-\kappa)/\lambda}`.

The left panel draws both paths in the p–q plane with the initial and final ellipses and the CSL q = M p (closed
forms as lines, the model's steps as markers); the right panel the π-plane section of the yield surface at
p = p_c/2 (a circle of radius √(2/3) M p_c/2: q is the von Mises stress). Run
``python examples/camclay_yield_surface.py [--out DIR] [--force]`` to write ``camclay_yield_surface.png`` into
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
from constitutive.models import ModifiedCamClay  # noqa: E402
from constitutive.models.camclay import (  # noqa: E402
    deviatoric_stress_q,
    drained_triaxial_failure,
    mean_pressure,
    undrained_failure_pressure,
    undrained_triaxial_q,
)
from constitutive.paths import LoadPath, Segment  # noqa: E402

KAPPA, LAMBDA, M, E0, P0, PC0, NU = 0.05, 0.2, 1.2, 1.0, 100.0, 100.0, 0.3


def model() -> ModifiedCamClay:
    """The normally consolidated clay of this example (kPa)."""
    return ModifiedCamClay(kappa=KAPPA, lmbda=LAMBDA, M=M, e0=E0, p0=P0, pc0=PC0, nu=NU)


def drained(increments: int = 20) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(p, q, p_c)`` per step of a drained triaxial compression to 300 % axial strain (the approach to the
    critical state is asymptotic), from the driver."""
    shear0 = {"23": 0.0, "13": 0.0, "12": 0.0}
    cell = {"22": -P0, "33": -P0}
    path = LoadPath(
        [
            Segment(strain={"11": 0.0, "22": 0.0, "33": 0.0, **shear0}, increments=1),
            Segment(strain={"11": -0.2, **shear0}, stress=cell, increments=increments),
            Segment(strain={"11": -3.0, **shear0}, stress=cell, increments=increments),
        ]
    )
    res = drive(model(), path)
    return mean_pressure(res.stress[1:]), deviatoric_stress_q(res.stress[1:]), res.state["p_c"][1:]


def undrained(steps: int = 30) -> tuple[torch.Tensor, torch.Tensor]:
    """``(p, q)`` per step of an undrained triaxial compression (ε11 = −a, ε22 = ε33 = a/2)."""
    m = model()
    state = m.initial_state()
    ps, qs = [], []
    for a in torch.cat((torch.linspace(0.004, 0.08, steps // 2), torch.linspace(0.2, 3.0, steps - steps // 2))):
        eps = torch.diag(torch.stack((-a, a / 2, a / 2))).to(torch.float64)
        sigma, state, _ = m.update(eps, state)
        ps.append(mean_pressure(sigma))
        qs.append(deviatoric_stress_q(sigma))
    return torch.stack(ps), torch.stack(qs)


def main(outdir: str | Path | None = None, *, increments: int = 20, overwrite: bool = False) -> dict[str, Any]:
    """Run both tests; return the key numbers against the closed forms and write the figure into ``outdir``."""
    p_d, q_d, pc_d = drained(increments)
    p_u, q_u = undrained(increments + 10)
    pf_d, qf_d = drained_triaxial_failure(M, P0)
    pf_u = undrained_failure_pressure(LAMBDA, KAPPA, P0, PC0)
    q_closed = undrained_triaxial_q(p_u, M, LAMBDA, KAPPA, P0, PC0)
    out: dict[str, Any] = {
        "drained_p_f": float(p_d[-1]),
        "drained_p_f_closed_form": pf_d,
        "drained_q_over_p_final": float(q_d[-1] / p_d[-1]),
        "drained_path_slope_max_error": float((q_d - 3.0 * (p_d - P0)).abs().max()),
        "drained_p_c_final": float(pc_d[-1]),
        "undrained_p_f": float(p_u[-1]),
        "undrained_p_f_closed_form": pf_u,
        "undrained_q_max_rel_error": float(((q_u - q_closed).abs() / q_closed).max()),
    }
    if outdir is None:
        return out
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11.0, 4.8), dpi=120, gridspec_kw={"width_ratios": [1.6, 1.0]})
    theta = torch.linspace(0.0, math.pi, 181, dtype=torch.float64)
    for pc, style, label in ((PC0, "k--", f"initial ellipse p_c = {PC0:g}"), (2 * pf_d, "k-", "final, drained")):
        pe = 0.5 * pc * (1.0 - torch.cos(theta))
        ax.plot(pe, M * torch.sqrt((pe * (pc - pe)).clamp_min(0.0)), style, lw=1.0, label=label)
    p_line = torch.linspace(0.0, 2.2 * pf_d, 2)
    ax.plot(p_line, M * p_line, color="tab:red", lw=1.2, label=f"critical-state line q = {M:g} p")
    ax.plot([P0, pf_d], [0.0, qf_d], color="tab:blue", lw=1.0, label="drained: q = 3 (p - p0) (closed form)")
    ax.plot(p_d, q_d, "o", color="tab:blue", ms=3.5, label="drained, model steps")
    pg = torch.linspace(pf_u, P0, 200, dtype=torch.float64)
    ax.plot(pg, undrained_triaxial_q(pg, M, LAMBDA, KAPPA, P0, PC0), color="tab:green", lw=1.0,
            label="undrained (closed form)")  # fmt: skip
    ax.plot(p_u, q_u, "s", color="tab:green", ms=3.0, label="undrained, model steps")
    ax.set_xlabel("p = -tr σ / 3 (kPa)")
    ax.set_ylabel("q = √(3/2) |dev σ| (kPa)")
    ax.set_xlim(0.0, 2.1 * pf_d)
    ax.set_ylim(0.0, 1.25 * qf_d)
    ax.set_title("Modified Cam-clay: p–q plane (NC clay, p0 = 100 kPa)")
    ax.legend(fontsize=7, loc="upper left")
    # π-plane: the deviatoric section at p = p_c/2 is a circle of radius sqrt(2/3) q, q = M p_c/2
    phi = torch.linspace(0.0, 2 * math.pi, 361, dtype=torch.float64)
    for pc, style in ((PC0, "k--"), (2 * pf_d, "k-")):
        r = math.sqrt(2.0 / 3.0) * M * pc / 2.0
        ax2.plot(r * torch.cos(phi), r * torch.sin(phi), style, lw=1.0, label=f"p = p_c/2, p_c = {pc:.4g}")
    for k in range(3):  # projected principal axes
        ang = math.pi / 2 + 2 * math.pi * k / 3
        ax2.plot([0, 1.15 * r * math.cos(ang)], [0, 1.15 * r * math.sin(ang)], color="0.6", lw=0.6)
        ax2.annotate(f"σ{k + 1}", (1.2 * r * math.cos(ang), 1.2 * r * math.sin(ang)), ha="center", fontsize=8)
    ax2.set_aspect("equal")
    ax2.set_axis_off()
    ax2.set_title("π-plane section (von Mises circle)")
    ax2.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout()
    out["figure"] = str(outdir / "camclay_yield_surface.png")
    with atomic_path(out["figure"], overwrite=overwrite) as tmp:
        fig.savefig(tmp)
    plt.close(fig)
    return out


if __name__ == "__main__":
    args = example_parser(__doc__, __file__).parse_args()
    for key, value in main(args.out, overwrite=args.force).items():
        print(f"{key}: {value}")
