r"""Why the consistent tangent matters: the driver's mixed-control Newton with the consistent (algorithmic) and the
continuum elastoplastic tangent of J2 plasticity.

Path (tension--torsion, a classic non-proportional test): uniaxial tension into the plastic range
(ε11 prescribed, the other stresses zero), then shear ε12 at a held axial stress σ11 (stress-controlled), so the
Newton correction is not along the flow direction. The stress is the model's in both runs; only the matrix of the
Newton step changes. With the consistent tangent the residual falls quadratically (observed order
:math:`p = \log(r_{k+1}/r_k)/\log(r_k/r_{k-1}) \approx 2`); with the continuum tangent only linearly (p = 1).

Run ``python examples/newton_convergence.py [--out DIR] [--force]`` to write ``driver_newton_convergence.png``
into ``DIR`` (default ``out/``, git-ignored); the copy in ``docs/figures`` is redrawn
by ``python examples/regenerate_figures.py``.
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
from constitutive.driver import DriveResult, drive  # noqa: E402
from constitutive.fileio import atomic_path  # noqa: E402
from constitutive.models.plasticity import J2Plasticity, Voce  # noqa: E402
from constitutive.paths import LoadPath, Segment  # noqa: E402


def tension_torsion(increments: int = 4, axial_strain: float = 0.004, shear_strain: float = 0.006) -> LoadPath:
    """Tension to ``axial_strain``, then ε12 to ``shear_strain`` while σ11 is held at 300 MPa."""
    free = {"22": 0.0, "33": 0.0, "23": 0.0, "13": 0.0}
    return LoadPath(
        [
            Segment({"11": axial_strain}, {**free, "12": 0.0}, increments=increments),
            Segment({"12": shear_strain}, {**free, "11": 300.0}, increments=increments),
        ],
        name="tension-torsion",
    )


def normalised_history(res: DriveResult, step: int, rtol: float = 1e-12) -> torch.Tensor:
    """Residual norms of one step divided by the driver's stress scale (tolerance / rtol)."""
    h = res.residuals[step]
    return h[torch.isfinite(h)] / (res.tolerance[step] / rtol)


def observed_orders(rho: torch.Tensor, floor: float = 1e-13) -> list[float]:
    """:math:`\\log(r_{k+1}/r_k)/\\log(r_k/r_{k-1})` for consecutive triples above round-off."""
    out = []
    for r0, r1, r2 in zip(rho[:-2].tolist(), rho[1:-1].tolist(), rho[2:].tolist()):
        if r2 > floor:
            out.append(math.log(r2 / r1) / math.log(r1 / r0))
    return out


def main(outdir: str | Path | None = None, *, increments: int = 4, overwrite: bool = False) -> dict[str, Any]:
    """Run both tangents; return iteration counts and observed orders, write the figure into ``outdir``."""
    model = J2Plasticity(200000.0, 0.3, 250.0, hardening=Voce(200.0, 20.0))
    path = tension_torsion(increments)
    consistent = drive(model, path)
    continuum = drive(model, path, tangent="continuum", max_iter=300)
    step = increments + 2  # the second torsion step: inside the segment, started from the tangent predictor
    rho_cons = normalised_history(consistent, step)
    rho_cont = normalised_history(continuum, step)
    orders_cons = observed_orders(rho_cons)
    orders_cont = observed_orders(rho_cont)
    out = {
        "step": step,
        "consistent_iterations": int(consistent.iterations[step]),
        "continuum_iterations": int(continuum.iterations[step]),
        "consistent_total_iterations": int(consistent.iterations.sum()),
        "continuum_total_iterations": int(continuum.iterations.sum()),
        "consistent_orders": orders_cons,
        "continuum_orders": orders_cont,
        "consistent_residuals": rho_cons.tolist(),
        "continuum_residuals": rho_cont.tolist(),
        "max_stress_difference": float((consistent.stress - continuum.stress).abs().max()),
    }
    if outdir is not None:
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(6.0, 4.3), dpi=130)
        ax.semilogy(rho_cons.numpy(), "o-", label=f"consistent tangent ({out['consistent_iterations']} iterations)")
        ax.semilogy(rho_cont.numpy(), "s-", ms=3, label=f"continuum tangent ({out['continuum_iterations']} iterations)")
        ax.axhline(1e-12, color="gray", ls=":", lw=1, label="tolerance (rtol = 1e-12)")
        ax.set_xlabel("Newton iteration")
        ax.set_ylabel("stress residual / stress scale")
        ax.set_title(f"Mixed-control Newton, J2 + Voce, tension-torsion step {step}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        out["figure"] = str(outdir / "driver_newton_convergence.png")
        with atomic_path(out["figure"], overwrite=overwrite) as tmp:  # an existing file only with overwrite
            fig.savefig(tmp)
        plt.close(fig)
    return out


if __name__ == "__main__":
    args = example_parser(__doc__, __file__).parse_args()
    numbers = main(args.out, overwrite=args.force)
    for key in ("step", "consistent_iterations", "continuum_iterations", "consistent_orders", "max_stress_difference"):
        print(f"{key}: {numbers[key]}")
    print("continuum_orders (first 5):", [round(p, 3) for p in numbers["continuum_orders"][:5]])
    print("consistent residuals:", ", ".join(f"{r:.2e}" for r in numbers["consistent_residuals"]))
