r"""Inverse analysis through an FE model: Neo-Hookean μ and λ of a rubber block from its force--displacement curve.

A plane-strain block (width 2 mm, height 1 mm, depth 1 mm) is bonded to two rigid plates; the top plate is moved
proportionally in shear and compression, :math:`\bar u = t\,(0.5, -0.25)` mm, :math:`t = 1/8, \dots, 1`, and the
two reaction forces (shear :math:`F_x`, normal :math:`F_y`) are recorded. The bonded faces make the strain strongly
non-homogeneous (bulging free faces, stress concentrations at the bonded corners), so no closed-form response
exists: the parameters are identified through the FE model (:mod:`constitutive.inverse`), with the gradient of the
objective by the implicit-function theorem through the FE equilibrium.

Synthetic test: the data are the model's own response at μ = 1 MPa, λ = 8 MPa (ν = 0.444), once noise-free and once
with Gaussian noise σ = 0.01 N on every force (seed 0); both fits start from μ = 1.6, λ = 3 MPa.

Path-dependent case (:func:`run_j2`): the same block of a steel-like J2 material (small strain, linear isotropic
hardening: E = 200 GPa, ν = 0.3 held, σ_y = 250 MPa, H = 2 GPa) loaded to :math:`\bar u = (3, -2)` µm and unloaded
to zero; E, σ_y and H are fitted with the force sensitivities propagated through the plastic history. Run
``python examples/calibration/inverse_block.py`` for the tables (``--out DIR`` for the figures, default ``out/``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from constitutive.inverse import BondedBlock, InverseProblem, block_response, fit_inverse, plot_inverse
from constitutive.models.hyperelastic import NeoHookean
from constitutive.models.plasticity import J2Plasticity

TRUE = {"mu": 1.0, "lmbda": 8.0}  # MPa
START = {"mu": 1.6, "lmbda": 3.0}
DIRECTION = (0.5, -0.25)  # top-plate displacement at t = 1 (mm)
SIGMA = 0.01  # N, noise of every force reading
SEED = 0

TRUE_J2 = {"E": 200e3, "nu": 0.3, "sigma_y": 250.0, "H": 2000.0}  # MPa; nu is held
START_J2 = {"E": 150e3, "nu": 0.3, "sigma_y": 320.0, "H": 800.0}
PEAK_J2 = (0.003, -0.002)  # mm, top-plate displacement at the peak
SIGMA_J2 = 1.0  # N


def load_path(points: int = 8) -> np.ndarray:
    """``(points, 2)`` top-plate displacements ``t (0.5, -0.25)``, t = 1/points ... 1."""
    return np.linspace(1.0 / points, 1.0, points)[:, None] * np.asarray(DIRECTION)[None, :]


def synthetic_data(specimen: BondedBlock, path: np.ndarray, sigma: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(exact, noisy)`` forces ``(n, 2)`` of the true model; the noise is N(0, sigma²) from ``seed``."""
    exact = block_response(NeoHookean(**TRUE), path, specimen).forces
    rng = np.random.default_rng(seed)
    return exact, exact + sigma * rng.standard_normal(exact.shape)


def _fits(model, true, start, specimen, path, sigma, seed, repeat, fixed=None) -> dict[str, Any]:
    """Noise-free and noisy fits of synthetic data of ``model(**true)`` and the cost of one evaluation."""
    exact = block_response(model(**true), path, specimen).forces
    noisy = exact + sigma * np.random.default_rng(seed).standard_normal(exact.shape)
    fits = {
        "exact": fit_inverse(model, path, exact, start, specimen=specimen, fixed=fixed),
        "noisy": fit_inverse(model, path, noisy, start, specimen=specimen, fixed=fixed, sigma=sigma),
    }
    problem = InverseProblem(model, path, true, specimen=specimen, fixed=fixed)
    runs = []
    for _ in range(repeat):  # the fastest of a few warm evaluations: wall time on a shared machine is noisy
        start_s = time.perf_counter()
        response = problem.response(problem.x0)
        runs.append((time.perf_counter() - start_s, response))
    total, response = min(runs, key=lambda r: r[1].seconds["forward_cpu"] + r[1].seconds["sensitivities_cpu"])
    cost = {
        "ndofs": response.ndofs,
        "nfree": response.nfree,
        "newton_iterations": sum(response.iterations),
        "forward_s": response.seconds["forward"],
        "sensitivities_s": response.seconds["sensitivities"],
        "forward_cpu_s": response.seconds["forward_cpu"],
        "sensitivities_cpu_s": response.seconds["sensitivities_cpu"],
        "total_s": total,
    }
    return {**fits, "specimen": specimen, "path": path, "sigma": sigma, "cost": cost, "true": true, "start": start}


def run(
    nx: int = 8, ny: int = 4, points: int = 8, sigma: float = SIGMA, seed: int = SEED, repeat: int = 3
) -> dict[str, Any]:
    """Both Neo-Hookean fits and the cost: ``{"exact": InverseResult, "noisy": InverseResult, "specimen", "path",
    "sigma", "true", "start", "cost": {"ndofs", "nfree", "newton_iterations", "forward_s", "sensitivities_s",
    "forward_cpu_s", "sensitivities_cpu_s", "total_s"}}``, the cost of one evaluation (forward solve + gradient)
    at the true parameters, wall and CPU seconds, the fastest of ``repeat`` warm runs."""
    specimen = BondedBlock(width=2.0, height=1.0, nx=nx, ny=ny)
    return _fits(NeoHookean, TRUE, START, specimen, load_path(points), sigma, seed, repeat)


def load_unload_path(up: int = 6, down: int = 4) -> np.ndarray:
    """``(up + down, 2)`` top-plate displacements: ``up`` points to :data:`PEAK_J2`, then ``down`` back to zero."""
    t = np.concatenate([np.linspace(1.0 / up, 1.0, up), np.linspace(1.0, 0.0, down + 1)[1:]])
    return t[:, None] * np.asarray(PEAK_J2)[None, :]


def run_j2(
    nx: int = 8, ny: int = 4, up: int = 6, down: int = 4, sigma: float = SIGMA_J2, seed: int = SEED, repeat: int = 3
) -> dict[str, Any]:
    """The J2 fits (E, σ_y, H free, ν held) on the load--unload path, as :func:`run`."""
    specimen = BondedBlock(width=2.0, height=1.0, nx=nx, ny=ny)
    path = load_unload_path(up, down)
    return _fits(J2Plasticity, TRUE_J2, START_J2, specimen, path, sigma, seed, repeat, fixed=["nu"])


def coverage(seeds: int = 40, nx: int = 8, ny: int = 4, points: int = 8, sigma: float = SIGMA) -> dict[str, Any]:
    """Monte Carlo check of the standard errors: fit ``seeds`` noise realisations (seeds 0, 1, ...; start 5 % off
    the true values) and compare the scatter of the estimates with the reported standard errors. Returns
    ``{"std": empirical standard deviation of each estimate (p,), "se_sigma": mean standard error with σ known,
    "z_std": standard deviation of (fit − true)/s.e. (s² form), "within_2se": fraction with |z| < 2 per parameter,
    "joint_below_5.99": fraction of fits with dᵀ Cov⁻¹ d below the 95 % point of χ²₂}`` (a few minutes)."""
    specimen = BondedBlock(width=2.0, height=1.0, nx=nx, ny=ny)
    path = load_path(points)
    true = np.array([TRUE["mu"], TRUE["lmbda"]])
    start = {"mu": 1.05 * TRUE["mu"], "lmbda": 0.95 * TRUE["lmbda"]}
    estimates, z, se_sigma, joint = [], [], [], []
    for seed in range(seeds):
        _, noisy = synthetic_data(specimen, path, sigma, seed)
        fit = fit_inverse(NeoHookean, path, noisy, start, specimen=specimen, sigma=sigma)
        d = fit.x - true
        estimates.append(fit.x)
        z.append(d / np.array([fit.standard_errors[k] for k in fit.free]))
        se_sigma.append([fit.standard_errors_sigma[k] for k in fit.free])
        joint.append(float(d @ np.linalg.solve(fit.covariance, d)))
    zs = np.array(z)
    return {
        "std": np.std(estimates, axis=0, ddof=1),
        "se_sigma": np.mean(se_sigma, axis=0),
        "z_std": zs.std(axis=0, ddof=1),
        "within_2se": (np.abs(zs) < 2).mean(axis=0),
        "joint_below_5.99": float((np.array(joint) < 5.99).mean()),
    }


def table(out: dict[str, Any]) -> str:
    """Markdown: true, start and fitted values with standard errors, the deviation in standard errors, the joint
    (Mahalanobis) deviation, the iterations and the cost of one evaluation."""
    e, n, sigma, true, start = out["exact"], out["noisy"], out["sigma"], out["true"], out["start"]
    lines = [
        f"| parameter | true | start | noise-free fit (relative error) | noisy fit ± s.e. (σ = {sigma:g} N) "
        "| (fit − true)/s.e. | s.e. with σ known | (fit − true)/s.e. |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k, label in enumerate(e.free):
        dev = (n.x[k] - true[label]) / n.standard_errors[label]
        rel = abs(e.x[k] / true[label] - 1)
        ses = n.standard_errors_sigma[label]
        lines.append(
            f"| {label} (MPa) | {true[label]:g} | {start[label]:g} | {e.x[k]:.10g} ({rel:.1e})"
            f" | {n.x[k]:.5g} ± {n.standard_errors[label]:.2g} | {dev:+.2f} | {ses:.2g} | "
            f"{(n.x[k] - true[label]) / ses:+.2f} |"
        )
    d = n.x - np.array([true[label] for label in n.free])
    joint = float(d @ np.linalg.solve(n.covariance, d))
    s2 = float(np.sum(((n.forces - n.data) / sigma) ** 2)) / (n.data.size - d.size)  # cov = s² (JᵀJ)⁻¹
    p = d.size
    corr = ", ".join(f"{n.correlation[a, b]:+.3f}" for a in range(p) for b in range(a + 1, p))
    c = out["cost"]
    lines += [
        "",
        f"noisy fit: correlations of the estimates {corr}; joint deviation dᵀ Cov⁻¹ d = {joint:.2f} with "
        f"Cov = s²(JᵀJ)⁻¹, {joint * s2:.2f} with σ known, Cov = σ²(JᵀJ)⁻¹ (χ² with {p} degrees of freedom: 95 % of "
        f"fits below {CHI2_95[p]}); s/σ = {np.sqrt(s2):.2f}.",
        "",
        f"iterations (Jacobian evaluations): noise-free fit {e.njev} ({e.nfev} evaluations), noisy fit {n.njev} "
        f"({n.nfev} evaluations).",
        "",
        f"cost of one evaluation ({c['ndofs']} dofs, {c['nfree']} free, {c['newton_iterations']} Newton iterations "
        f"in {len(out['path'])} load steps), CPU time: forward solve {c['forward_cpu_s']:.3f} s + implicit-function "
        f"gradient {c['sensitivities_cpu_s']:.3f} s (wall {c['forward_s']:.3f} s + {c['sensitivities_s']:.3f} s).",
    ]
    return "\n".join(lines)


#: 95 % points of the chi-square distribution with 1, 2, 3, 4 degrees of freedom.
CHI2_95 = {1: 3.84, 2: 5.99, 3: 7.81, 4: 9.49}


def main(
    outdir: str | Path,
    *,
    nx: int = 8,
    ny: int = 4,
    points: int = 8,
    repeat: int = 3,
    j2: bool = True,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Run the fits, print the tables and write ``inverse_block.png``/``.md`` (and, with ``j2``,
    ``inverse_block_j2.png``/``.md``) into ``outdir``; existing files are kept unless ``overwrite`` (checked before
    any fit). Returns ``{"rubber": run(nx, ny, points), "j2": run_j2(nx, ny)}``.

    Parameters
    ----------
    outdir:
        The folder to write into (created if missing).
    nx, ny:
        Elements along the width and the height.
    points:
        Record points of the rubber test.
    repeat:
        Warm evaluations timed for the cost (the fastest is reported).
    j2:
        Also run the J2 case.
    overwrite:
        Replace existing outputs.
    """
    from constitutive.fileio import atomic_path, check_writable

    outdir = Path(outdir)
    cases: list[tuple[str, str, Any, str]] = [
        ("rubber", "inverse_block", lambda: run(nx=nx, ny=ny, points=points, repeat=repeat), "Neo-Hookean")
    ]
    if j2:
        cases.append(
            ("j2", "inverse_block_j2", lambda: run_j2(nx=nx, ny=ny, repeat=repeat), "J2, linear hardening, load-unload")
        )
    for _, stem, _, _ in cases:
        for suffix in (".png", ".md"):
            check_writable(outdir / f"{stem}{suffix}", overwrite=overwrite)
    results = {}
    for key, stem, fn, name in cases:
        out = fn()
        text = table(out)
        print(f"--- {name}\n{text}")
        plot_inverse(
            out["noisy"],
            outdir / f"{stem}.png",
            title=f"bonded block, {name}: fit to noisy data (σ = {out['sigma']:g} N)",
            overwrite=overwrite,
        )
        with atomic_path(outdir / f"{stem}.md", overwrite=overwrite) as tmp:
            tmp.write_text(text + "\n", encoding="utf-8")
        results[key] = out
    return results


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "out", help="output folder")
    parser.add_argument("--force", action="store_true", help="replace existing outputs")
    args = parser.parse_args()
    main(args.out, overwrite=args.force)
