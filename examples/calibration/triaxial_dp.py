r"""Mohr--Coulomb and Drucker--Prager strength parameters from triaxial compression tests at several confining
pressures.

**The data are synthetic** (not measured): peak deviators :math:`q_f = (\sigma_1 - \sigma_3)_f` generated from a
Mohr--Coulomb soil with c = 12 kPa, φ = 33° at five confining pressures, each multiplied by :math:`1 + 0.02 z`
(z standard normal, Python ``random.seed(7)``), rounded to 0.1 kPa and typed into :data:`DATA`.

Two routes:

1. **the failure envelope** (closed form): in triaxial compression Mohr--Coulomb gives the straight line
   :math:`q_f = a + b\,\sigma_{conf}` with :math:`b = 2\sin\phi/(1 - \sin\phi)`, :math:`a = 2c\cos\phi/(1 - \sin\phi)`
   (:func:`constitutive.models.geomechanics.triaxial_compression_peak`); a linear least-squares fit of (a, b) gives
   :math:`\sin\phi = b/(2 + b)`, :math:`c = a(1 - \sin\phi)/(2\cos\phi)`;
2. **the models through the test** (independent check): the fitted Drucker--Prager cone matched at the
   compression meridian (:meth:`DruckerPrager.from_mohr_coulomb`, ``match="compression"``) is driven through each
   triaxial test -- hydrostatic compression to the confining pressure under stress control, then axial
   compression with the lateral stress held (:func:`constitutive.driver.drive`, mixed control) -- and its
   plateau deviators equal the fitted envelope (to the driver's tolerance); the fitted Mohr--Coulomb model, strained
   axisymmetrically onto its compression edge, satisfies the same envelope.

Run ``python examples/calibration/triaxial_dp.py [--out DIR] [--force]`` to print the fit and write
``triaxial_dp.png`` into ``DIR`` (default ``out/``, git-ignored).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from constitutive.driver import drive  # noqa: E402
from constitutive.fileio import atomic_path  # noqa: E402
from constitutive.models import DruckerPrager, MohrCoulomb  # noqa: E402
from constitutive.models.geomechanics import triaxial_compression_peak  # noqa: E402
from constitutive.paths import LoadPath, Segment  # noqa: E402

#: SYNTHETIC triaxial compression data (see the module docstring): (confining pressure, peak deviator) in kPa.
DATA: list[tuple[float, float]] = [(25.0, 103.5), (50.0, 165.5), (100.0, 282.1), (200.0, 519.3), (400.0, 982.4)]
#: The values the synthetic data were generated from (the fit should come close, not equal: 2 % noise).
TRUE_C, TRUE_PHI = 12.0, 33.0
E, NU = 30e3, 0.3  # kPa: elastic constants for driving the models (they do not enter the peak strengths)


def fit_envelope(data: list[tuple[float, float]]) -> dict[str, float]:
    """Linear least squares of :math:`q_f = a + b\\,\\sigma_{conf}`; returns a, b, φ (degrees), c and the rms
    misfit (kPa)."""
    x = torch.tensor([d[0] for d in data], dtype=torch.float64)
    y = torch.tensor([d[1] for d in data], dtype=torch.float64)
    A = torch.stack([torch.ones_like(x), x], -1)
    (a, b) = torch.linalg.lstsq(A, y[:, None]).solution[:, 0].tolist()
    s = b / (2.0 + b)
    phi = math.degrees(math.asin(s))
    c = a * (1.0 - s) / (2.0 * math.cos(math.radians(phi)))
    rms = float(((A @ torch.tensor([a, b], dtype=torch.float64) - y) ** 2).mean().sqrt())
    return {"a": a, "b": b, "phi": phi, "c": c, "rms": rms}


def triaxial_path(confining: torch.Tensor, axial: float = -0.06, increments: int = 12) -> LoadPath:
    """Hydrostatic compression to ``confining`` (stress control), then axial strain ε33 to ``axial`` with the
    lateral stresses held (tension positive: compression is negative)."""
    free = {"23": 0.0, "13": 0.0, "12": 0.0}
    p = -confining
    return LoadPath(
        [
            Segment({}, {"11": p, "22": p, "33": p, **free}),
            Segment({"33": axial}, {"11": p, "22": p, **free}, increments=increments),
        ]
    )


def main(outdir: str | Path | None = None, *, increments: int = 12, overwrite: bool = False) -> dict[str, Any]:
    """Fit, check through the models, and write the figure into ``outdir`` when given."""
    fit = fit_envelope(DATA)
    conf = torch.tensor([d[0] for d in DATA], dtype=torch.float64)
    envelope = torch.tensor(
        [triaxial_compression_peak(fit["phi"], fit["c"], float(s)) for s in conf], dtype=torch.float64
    )
    dp = DruckerPrager.from_mohr_coulomb(E, NU, fit["phi"], fit["c"], psi=0.0, match="compression")
    res = drive(dp, triaxial_path(conf, increments=increments), batch_shape=conf.shape)
    dp_peak = -conf - res.stress[-1][:, 2, 2]
    mc = MohrCoulomb(E, NU, fit["phi"], fit["c"], psi=0.0)
    eps = torch.stack([torch.diag(torch.tensor([a, a, a - 0.02], dtype=torch.float64)) for a in (0.004, 0.006)])
    s_mc, _, _ = mc.update(eps, mc.initial_state((2,)))
    mc_conf = -s_mc[:, 0, 0]
    mc_error = max(
        abs(float(s_mc[k, 0, 0] - s_mc[k, 2, 2]) - triaxial_compression_peak(fit["phi"], fit["c"], float(mc_conf[k])))
        for k in range(2)
    )
    out: dict[str, Any] = {
        **{f"fit_{k}": v for k, v in fit.items()},
        "dp_beta": float(dp.beta),
        "dp_sigma_c": float(dp.sigma_c),
        "dp_driven_vs_envelope": float((dp_peak - envelope).abs().max()),
        "mc_edge_vs_envelope": mc_error,
        "mc_edge_modes": mc.return_mode(eps).tolist(),
    }
    out["summary"] = (
        f"SYNTHETIC data (generated from c = {TRUE_C} kPa, phi = {TRUE_PHI} deg, 2 % noise): fitted phi = "
        f"{fit['phi']:.2f} deg, c = {fit['c']:.2f} kPa, rms misfit {fit['rms']:.2f} kPa; Drucker-Prager "
        f"(compression match) beta = {out['dp_beta']:.2f} deg, sigma_c = {out['dp_sigma_c']:.2f} kPa: driven "
        f"triaxial peaks within {out['dp_driven_vs_envelope']:.1e} kPa of the envelope"
    )
    if outdir is None:
        return out
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    xs = torch.linspace(0.0, 420.0, 50, dtype=torch.float64)
    ax.plot(conf, [d[1] for d in DATA], "ko", label="synthetic test data")
    ax.plot(xs, fit["a"] + fit["b"] * xs, "k-", label=f"MC envelope: φ = {fit['phi']:.1f}°, c = {fit['c']:.1f} kPa")
    ax.plot(conf, dp_peak, "C0x", ms=9, label="DP (compression match), driven triaxial test")
    ax.set_xlabel("confining pressure (kPa)")
    ax.set_ylabel("peak deviator σ1 − σ3 (kPa)")
    ax.set_title("Triaxial compression: strength envelope (synthetic data)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out["figure"] = str(outdir / "triaxial_dp.png")
    with atomic_path(out["figure"], overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return out


ROOT = Path(__file__).resolve().parents[2]

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out", help="output folder (default: out/, git-ignored)")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    args = parser.parse_args()
    numbers = main(args.out, overwrite=args.force)
    print(numbers.pop("summary"))
    for key, value in numbers.items():
        print(f"{key}: {value}")
