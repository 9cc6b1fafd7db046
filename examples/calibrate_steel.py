"""J2 plasticity with Voce and with Swift isotropic hardening fitted to a steel tension test (St1594).

Data: materials/data/tension_St1594.csv (D. Bezborodov, "stress-strain" dataset, 2022, public domain): engineering
strain (crosshead) and stress up to the ultimate tensile strength, converted to true strain and true stress
(uniform elongation: sigma_t = sigma_e (1 + eps_e), eps_t = ln(1 + eps_e)). Young's modulus is fixed at 210 GPa and
Poisson's ratio at 0.3; the crosshead compliance is removed from the strain so the elastic slope is 210 GPa (see
constitutive.data.TensionTest.true_curve). Small-strain J2 is fitted to the true curve (true strain as the
small-strain measure: a common engineering approximation for a hardening law).

The model response is the closed-form monotonic uniaxial response of isotropic J2 (flow_stress route); the
incremental route (mixed-control Newton through J2Plasticity.update) is evaluated at the fitted parameters as an
independent check of the closed form.

Run ``python examples/calibrate_steel.py [--out DIR] [--materials DIR] [--quick] [--force]`` to write
calibration_steel.png and the report calibration_steel.md into DIR (default ``out/``, git-ignored) and, with
``--materials``, steel_st1594_j2_{voce,swift}_fit.toml there. The copies in docs/figures and materials/ are
rewritten only by ``python examples/regenerate_figures.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from constitutive.calibrate import CalibrationResult, calibrate, uniaxial_stress_response  # noqa: E402
from constitutive.cli.args import example_parser  # noqa: E402
from constitutive.data import load_tension_test  # noqa: E402
from constitutive.fileio import atomic_path, atomic_write_text  # noqa: E402
from constitutive.models.plasticity import J2Plasticity  # noqa: E402

E_STEEL = 210e3  # MPa, fixed (the crosshead strain cannot measure it)
NU_STEEL = 0.3

FITS = {
    "Voce": dict(
        initial={"sigma_y": 250.0, "Q": 200.0, "b": 10.0},
        options={"hardening": "voce"},
        bounds={"sigma_y": (1.0, None), "Q": (0.0, None), "b": (1e-3, None)},
    ),
    "Swift": dict(
        initial={"K": 800.0, "eps0": 0.01, "n": 0.2},
        options={"hardening": "swift", "sigma_y": None},  # classic Swift: sigma_y = K eps0^n
        bounds={"K": (1.0, None), "eps0": (1e-6, 1.0), "n": (1e-3, 1.0)},
    ),
}


def main(
    outdir: str | Path, quick: bool = False, materials_dir: str | Path | None = None, *, overwrite: bool = False
) -> dict[str, Any]:
    """Fit both laws, write the figure and report into ``outdir``; return the key numbers.

    ``quick``: 40 points of the curve instead of 150 (the fits themselves take well under a second).
    ``materials_dir``: also save the fitted models there.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    test = load_tension_test("tension_St1594.csv")
    exp = test.experiment(E=E_STEEL, points=40 if quick else 150, name="St1594 true curve to UTS")
    fixed = {"E": E_STEEL, "nu": NU_STEEL, "H": 0.0}
    results: dict[str, CalibrationResult] = {}
    for law, spec in FITS.items():
        results[law] = calibrate(
            J2Plasticity, exp, spec["initial"], fixed=fixed, options=spec["options"], bounds=spec["bounds"]
        )
    # independent check of the closed-form route: the incremental mixed-control solve through update()
    check_points = exp.x[:: max(1, len(exp) // 20)]
    route_difference = {}
    with torch.no_grad():
        for law, res in results.items():
            a = uniaxial_stress_response(res.model, check_points, route="flow_stress")
            b = uniaxial_stress_response(res.model, check_points, route="incremental")
            route_difference[law] = float((a - b).abs().max() / b.abs().max())

    fig, (ax, axr) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    eps_raw, sig_raw = test.true_curve()
    eps_c, sig_c = test.true_curve(E=E_STEEL)
    ax.plot(eps_raw, sig_raw, color="0.75", lw=1, label="measured (crosshead strain)")
    ax.plot(exp.x.numpy(), exp.y.numpy(), "ko", ms=3, mfc="none", label=f"fitted points (E = {E_STEEL / 1e3:.0f} GPa)")
    grid = torch.linspace(1e-5, float(exp.x[-1]), 400, dtype=torch.float64)
    for law, res in results.items():
        with torch.no_grad():
            curve = exp.predict(res.model, grid).numpy()
            resid = exp.predict(res.model).numpy() - exp.y.numpy()
        ax.plot(grid.numpy(), curve, lw=1.6, label=f"J2 + {law} (rms {res.rms[exp.name]:.2f} MPa)")
        axr.plot(exp.x.numpy(), resid, ".-", ms=3, lw=0.8, label=law)
    ax.set_xlabel("true strain")
    ax.set_ylabel("true stress (MPa)")
    ax.set_title("steel St1594 up to the UTS")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    axr.axhline(0.0, color="k", lw=0.8)
    axr.set_xlabel("true strain")
    axr.set_ylabel("model − data (MPa)")
    axr.set_title("residuals")
    axr.grid(alpha=0.3)
    axr.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(outdir / "calibration_steel.png", overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)

    report = [
        f"Steel St1594: UTS {test.uts:.1f} MPa (engineering) at engineering strain "
        f"{test.strain[test.uts_index]:.4f}; apparent elastic slope of the crosshead strain "
        f"{test.apparent_modulus() / 1e3:.0f} GPa, corrected to E = {E_STEEL / 1e3:.0f} GPa.",
        "",
    ]
    for law, res in results.items():
        report += [f"## J2 + {law}", "", res.parameter_table(), "", res.error_table(), ""]
        report += [
            f"closed-form vs incremental route at the fit: max relative difference {route_difference[law]:.1e}",
            "",
        ]
    text = "\n".join(report)
    atomic_write_text(outdir / "calibration_steel.md", text, overwrite=overwrite)
    print(text)
    if materials_dir is not None:
        for law, res in results.items():
            res.save(
                Path(materials_dir) / f"steel_st1594_j2_{law.lower()}_fit.toml",
                name=f"steel St1594, J2 with {law} hardening fitted to the true curve up to the UTS",
                units="MPa",
                overwrite=overwrite,
                notes="E fixed at 210 GPa and nu at 0.3 (assumed); crosshead compliance removed from the strain. "
                "Written by examples/calibrate_steel.py",
            )
    return {
        "uts": test.uts,
        "apparent_modulus": test.apparent_modulus(),
        "points": len(exp),
        "parameters": {law: r.parameters for law, r in results.items()},
        "standard_errors": {law: r.standard_errors for law, r in results.items()},
        "rms": {law: r.rms[exp.name] for law, r in results.items()},
        "relative_rms": {law: r.relative_rms[exp.name] for law, r in results.items()},
        "success": {law: r.success for law, r in results.items()},
        "route_difference": route_difference,
        "final_true_stress": float(exp.y[-1]),
        "figure": outdir / "calibration_steel.png",
    }


if __name__ == "__main__":
    torch.set_num_threads(1)
    parser = example_parser(__doc__, __file__)
    parser.add_argument("--materials", type=Path, default=None, help="also save the fitted parameter files there")
    parser.add_argument("--quick", action="store_true", help="fewer data points")
    args = parser.parse_args()
    numbers = main(args.out, quick=args.quick, materials_dir=args.materials, overwrite=args.force)
    print({k: numbers[k] for k in ("rms", "route_difference")})
    np.set_printoptions(precision=4)
