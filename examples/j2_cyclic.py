r"""Cyclic J2 plasticity at a material point: hysteresis loops under uniaxial stress (mixed control).

Two steel-like models (MPa) are driven through strain-controlled tension--compression cycles with
:math:`\sigma_{22} = \sigma_{33} = \sigma_{23} = \sigma_{13} = \sigma_{12} = 0` solved by the driver's Newton
iteration:

* linear kinematic (Prager) hardening, whose stabilised loop is a parallelogram with the closed-form plastic strain
  range :math:`\Delta\varepsilon^p = 2(E a - \sigma_y)/(E + C)` and area (dissipated energy per cycle)
  :math:`W = 2\sigma_y\,\Delta\varepsilon^p` for strain amplitude a;
* Voce isotropic + two Armstrong--Frederick back stresses (Chaboche): cyclic hardening and a rounded Bauschinger
  loop, with the consistent tangent verified by finite differences at every step.

Run ``python examples/j2_cyclic.py [--out DIR] [--force]`` to write ``driver_j2_hysteresis.png`` into ``DIR`` (default
``out/``, git-ignored); the copy in ``docs/figures`` is redrawn by ``python examples/regenerate_figures.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from constitutive import paths  # noqa: E402
from constitutive.cli.args import example_parser
from constitutive.driver import drive  # noqa: E402
from constitutive.fileio import atomic_path  # noqa: E402
from constitutive.models.plasticity import Chaboche, J2Plasticity, Prager, Voce  # noqa: E402

E, NU, SIGMA_Y = 210000.0, 0.3, 355.0
C_PRAGER = 20000.0


def loop_area(strain: torch.Tensor, stress: torch.Tensor) -> float:
    """Area of a closed loop :math:`\\oint \\sigma\\,d\\varepsilon` by the trapezoidal rule (the elastic-plastic
    kinks fall between steps, so it converges as the increments are refined)."""
    return float(0.5 * ((stress[1:] + stress[:-1]) * (strain[1:] - strain[:-1])).sum())


def main(
    outdir: str | Path | None = None,
    *,
    amplitude: float = 0.01,
    cycles: int = 3,
    increments: int = 40,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Drive both models; return the key numbers and write the hysteresis figure into ``outdir``."""
    path = paths.cyclic("uniaxial_stress", amplitude, cycles=cycles, increments=increments)

    prager = J2Plasticity(E, NU, SIGMA_Y, kinematic=Prager(C_PRAGER))
    res_p = drive(prager, path)
    eps, sig = res_p.column("strain_11"), res_p.column("stress_11")
    # Last full cycle: the last 4 * increments steps (-a -> +a -> -a is two segments of 2 * increments).
    last = slice(res_p.n_steps - 4 * increments, res_p.n_steps + 1)
    area = loop_area(eps[last], sig[last])
    area_exact = 4.0 * SIGMA_Y * (E * amplitude - SIGMA_Y) / (E + C_PRAGER)
    # Plastic strain range of the stabilised loop: 2 (E a - sigma_y) / (E + C), exact at the turning points.
    eps_p = res_p.state["eps_p"][last, 0, 0]
    range_p = float(eps_p.max() - eps_p.min())
    range_p_exact = 2.0 * (E * amplitude - SIGMA_Y) / (E + C_PRAGER)

    chaboche = J2Plasticity(
        E, NU, SIGMA_Y, hardening=Voce(120.0, 8.0), kinematic=Chaboche([60000.0, 5000.0], [400.0, 20.0])
    )
    res_c = drive(chaboche, path, check_tangent=True)
    peaks = res_c.column("stress_11")[torch.cumsum(torch.tensor([increments] + [2 * increments] * (2 * cycles)), 0)]

    out = {
        "prager_loop_area": area,
        "prager_loop_area_exact": area_exact,
        "prager_loop_area_rel_error": abs(area - area_exact) / area_exact,
        "prager_plastic_strain_range": range_p,
        "prager_plastic_strain_range_rel_error": abs(range_p - range_p_exact) / range_p_exact,
        "prager_peak_stress": float(sig.max()),
        "chaboche_peak_stresses": [float(p) for p in peaks],
        "chaboche_tangent_max_rel_error": float(res_c.tangent_error.max()),
        "chaboche_newton_max_iterations": int(res_c.iterations.max()),
        "lateral_stress_max": float(res_c.components("stress")[..., 1:].abs().max()),
        "summary": res_c.summary(),
    }
    if outdir is not None:
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(6.0, 4.5), dpi=130)
        res_p.plot(ax=ax, label=f"Prager C = {C_PRAGER:g} MPa")
        res_c.plot(ax=ax, label="Voce + Chaboche (2 back stresses)")
        ax.set_xlabel("strain ε11")
        ax.set_ylabel("stress σ11 (MPa)")
        ax.set_title(f"J2 under cyclic uniaxial stress, amplitude {amplitude:g}, {cycles} cycles")
        ax.legend(loc="lower right")
        fig.tight_layout()
        out["figure"] = str(outdir / "driver_j2_hysteresis.png")
        with atomic_path(out["figure"], overwrite=overwrite) as tmp:  # an existing file only with overwrite
            fig.savefig(tmp)
        plt.close(fig)
    return out


if __name__ == "__main__":
    args = example_parser(__doc__, __file__).parse_args()
    numbers = main(args.out, overwrite=args.force)
    print(numbers.pop("summary"))
    for key, value in numbers.items():
        print(f"{key}: {value}")
