r"""Hill48 from the r-values and directional yield stresses of a sheet: three identifications compared.

**Data: SYNTHETIC.** The numbers below are made up for this example, with the order of magnitude of a DC04
deep-drawing steel (r-values near 2, yield stresses near 160 MPa); they are not measurements of any sheet:

=========  ======  ======  ======
direction    0°     45°     90°
=========  ======  ======  ======
r            1.94    1.52    2.23
σ (MPa)     162.0   170.0   166.0
=========  ======  ======  ======

Hill48 has four in-plane constants (F, G, H, N; L and M are not seen by in-plane tests) for six numbers, so it
cannot match them all in general. Three identifications (material axes 1 = rolling, 2 = transverse, 3 = normal;
the flow stress reference σ_y = σ0):

* **r-based** (:meth:`Hill48.from_lankford`): the three r-values exactly; the yield stresses are then predicted,
  :math:`\sigma_\theta = \sigma_0/\sqrt{\varphi(\theta)}` (:func:`~constitutive.models.hill.in_plane_phi`);
* **stress-based**: σ0, σ45, σ90 and r0 exactly, in closed form: :math:`G + H = 1`, :math:`H = r_0 G`,
  :math:`F + H = (\sigma_0/\sigma_{90})^2`, :math:`(F + G + 2N)/4 = (\sigma_0/\sigma_{45})^2`; r45 and r90
  predicted;
* **least squares** (``scipy.optimize.least_squares``) on all six relative residuals
  :math:`r^{pred}_\theta/r_\theta - 1` and :math:`\sigma^{pred}_\theta/\sigma_\theta - 1`, starting from the
  r-based constants. The package's :func:`constitutive.calibrate.calibrate` fits stress–strain curves of its
  ``Experiment`` types; it has no r-value experiment, so this example calls scipy directly on the closed forms.

The fitted model is then checked by **driving** it: uniaxial stress at 0°, 45° and 90° from the rolling direction
(the driver's mixed control, one point per direction with a per-point orientation, perfect plasticity) gives
stresses and plastic-strain ratios :math:`\varepsilon^p_{22}/\varepsilon^p_{33}` equal to the closed-form
predictions. The fitted parameter file ``hill48_sheet_fit.toml`` (with its ``*POTENTIAL`` ratios in a comment
table) goes to ``out/`` (``--out DIR``; ``--force`` to replace).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from constitutive.driver import drive
from constitutive.models import Hill48
from constitutive.models.hill import in_plane_phi, in_plane_r_value
from constitutive.paths import uniaxial_stress

THETAS = (0.0, 45.0, 90.0)
#: SYNTHETIC sheet data (see the module docstring): r-values and uniaxial yield stresses (MPa) at 0/45/90 degrees.
R_VALUES = (1.94, 1.52, 2.23)
YIELD_STRESSES = (162.0, 170.0, 166.0)
E, NU = 210000.0, 0.3


def predictions(F: float, G: float, H: float, N: float, sigma_y: float) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form r-values and uniaxial yield stresses at :data:`THETAS` of the constants (σ_y: the flow stress)."""
    t = np.asarray(THETAS)
    r = in_plane_r_value(F, G, H, N, t)
    s = sigma_y / np.sqrt(in_plane_phi(F, G, H, N, t))
    return np.asarray(r, dtype=float), np.asarray(s, dtype=float)


def r_based() -> dict[str, float]:
    """F, G, H, N from the three r-values (rolling-direction normalisation, σ_y = σ0)."""
    m = Hill48.from_lankford(*R_VALUES, E=E, nu=NU, sigma_y=YIELD_STRESSES[0])
    return {k: float(m.parameters[k]) for k in ("F", "G", "H", "N")}


def stress_based() -> dict[str, float]:
    """F, G, H, N from σ0, σ45, σ90 and r0 (closed form, σ_y = σ0)."""
    s0, s45, s90 = YIELD_STRESSES
    G = 1.0 / (1.0 + R_VALUES[0])
    H = R_VALUES[0] * G
    F = (s0 / s90) ** 2 - H
    N = 2.0 * (s0 / s45) ** 2 - 0.5 * (F + G)
    return {"F": F, "G": G, "H": H, "N": N}


def least_squares_fit(weight_r: float = 1.0, weight_s: float = 1.0) -> tuple[dict[str, float], Any]:
    """F, G, H, N minimising the weighted relative misfit of all six data (σ_y = σ0)."""
    from scipy.optimize import least_squares

    r_meas, s_meas = np.asarray(R_VALUES), np.asarray(YIELD_STRESSES)

    def residuals(p: np.ndarray) -> np.ndarray:
        r, s = predictions(*p, sigma_y=s_meas[0])
        return np.concatenate((weight_r * (r / r_meas - 1.0), weight_s * (s / s_meas - 1.0)))

    start = r_based()
    sol = least_squares(residuals, [start[k] for k in ("F", "G", "H", "N")], x_scale="jac", xtol=1e-15, ftol=1e-15)
    return dict(zip(("F", "G", "H", "N"), (float(v) for v in sol.x))), sol


def drive_sheet(model_kwargs: dict[str, Any], strain: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Drive uniaxial stress at :data:`THETAS` from the rolling direction (perfect plasticity); the saturated stresses
    and the ratios ε^p_22/ε^p_33 (width over thickness)."""
    euler = torch.tensor([[-t, 0.0, 0.0] for t in THETAS], dtype=torch.float64)
    model = Hill48(E, NU, YIELD_STRESSES[0], euler=euler, **model_kwargs)
    res = drive(model, uniaxial_stress([strain], increments=4), batch_shape=(len(THETAS),))
    ep = res.state["eps_p"][-1]
    return res.stress[-1][:, 0, 0].numpy(), (ep[:, 1, 1] / ep[:, 2, 2]).numpy()


def main(outdir: str | Path | None = None, *, overwrite: bool = False) -> dict[str, Any]:
    """Run the three identifications, check the least-squares fit by driving it, and return the numbers (and write
    the fitted parameter file into ``outdir`` when given)."""
    fits = {"r-based": r_based(), "stress-based": stress_based()}
    fits["least squares"], sol = least_squares_fit()
    out: dict[str, Any] = {"fits": fits, "data": {"r": R_VALUES, "sigma": YIELD_STRESSES}}
    for name, c in fits.items():
        r, s = predictions(c["F"], c["G"], c["H"], c["N"], YIELD_STRESSES[0])
        out[name] = {
            "r": r.tolist(),
            "sigma": s.tolist(),
            "max_rel_error_r": float(np.max(np.abs(r / np.asarray(R_VALUES) - 1.0))),
            "max_rel_error_sigma": float(np.max(np.abs(s / np.asarray(YIELD_STRESSES) - 1.0))),
        }
    c = fits["least squares"]
    sigma_driven, r_driven = drive_sheet(c)
    r_closed, s_closed = predictions(c["F"], c["G"], c["H"], c["N"], YIELD_STRESSES[0])
    out["driven"] = {"sigma": sigma_driven.tolist(), "r": r_driven.tolist()}
    out["driven_vs_closed_form"] = float(
        max(np.max(np.abs(sigma_driven / s_closed - 1.0)), np.max(np.abs(r_driven / r_closed - 1.0)))
    )
    out["least_squares_cost"] = float(sol.cost)
    model = Hill48(E, NU, YIELD_STRESSES[0], **c)
    out["potential_ratios"] = {k: float(v) for k, v in model.yield_ratios().items()}
    if outdir is not None:
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        out["parameter_file"] = str(
            model.save(
                outdir / "hill48_sheet_fit.toml",
                overwrite=overwrite,
                name="synthetic DC04-like sheet, Hill48 least-squares fit",
                source="SYNTHETIC data of examples/calibration/hill48_sheet.py (not measurements)",
                units="MPa",
            )
        )
    return out


ROOT = Path(__file__).resolve().parents[2]

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out", help="output folder (default: out/, git-ignored)")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    args = parser.parse_args()
    result = main(args.out, overwrite=args.force)
    print("SYNTHETIC sheet data: r =", R_VALUES, " sigma =", YIELD_STRESSES, "MPa")
    for name in ("r-based", "stress-based", "least squares"):
        f, p = result["fits"][name], result[name]
        consts = ", ".join(f"{k}={v:.4f}" for k, v in f.items())
        print(f"{name:>14}: {consts}")
        print(f"{'':>14}  r = {np.round(p['r'], 3).tolist()}  sigma = {np.round(p['sigma'], 1).tolist()} MPa")
        print(f"{'':>14}  max rel. error r {p['max_rel_error_r']:.3f}, sigma {p['max_rel_error_sigma']:.3f}")
    print(
        f"driven (least squares fit): sigma = {np.round(result['driven']['sigma'], 3).tolist()}, "
        f"r = {np.round(result['driven']['r'], 4).tolist()}; vs closed form {result['driven_vs_closed_form']:.1e}"
    )
    print("*POTENTIAL ratios:", {k: round(v, 5) for k, v in result["potential_ratios"].items()})
    if "parameter_file" in result:
        print("wrote", result["parameter_file"])
    assert math.isfinite(result["least_squares_cost"])
