"""Inverse analysis through an FE model (constitutive.inverse, examples/calibration/inverse_block.py).

Independent routes: the force sensitivities (implicit-function theorem through the FE equilibrium) against central
differences of the whole simulation; the reaction forces against the derivative of the total strain energy with
respect to the plate displacement (Castigliano); the fits against the known parameters of synthetic data.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

skfem = pytest.importorskip("skfem")

from constitutive.inverse import (  # noqa: E402
    BondedBlock,
    EquilibriumError,
    InverseProblem,
    block_response,
    fit_inverse,
    plot_inverse,
)
from constitutive.models.hyperelastic import NeoHookean, Yeoh  # noqa: E402
from constitutive.models.plasticity import J2Plasticity  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "calibration" / "inverse_block.py"
COARSE = BondedBlock(width=2.0, height=1.0, nx=4, ny=2)
PATH = np.linspace(0.25, 1.0, 4)[:, None] * np.array([[0.4, -0.2]])


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("inverse_block_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


J2_TRUE = {"E": 200e3, "nu": 0.3, "sigma_y": 250.0, "H": 2000.0}
#: Load to (3, -2) µm, unload to (1, -2/3) µm: plastic flow, then elastic unloading with reverse yielding.
J2_PATH = np.array([[0.0015, -0.001], [0.003, -0.002], [0.001, -0.002 / 3]])


def central_differences(problem: InverseProblem, x: np.ndarray, rel: float = 1e-6) -> np.ndarray:
    """dF/dθ (n, 2, p) by central differences of the whole simulation (forward solves only)."""
    columns = []
    for j in range(x.size):
        h = rel * abs(x[j])
        e = np.zeros_like(x)
        e[j] = h
        plus = problem.response(x + e, sensitivities=False).forces
        minus = problem.response(x - e, sensitivities=False).forces
        columns.append((plus - minus) / (2 * h))
    return np.stack(columns, axis=-1)


@pytest.mark.parametrize(
    "model, initial, fixed",
    [
        (NeoHookean, {"mu": 1.0, "lmbda": 8.0}, None),
        (Yeoh, {"C10": 0.5, "C20": -0.02, "C30": 0.004, "K": 12.0}, ["C30"]),
    ],
    ids=["neo-hookean(mu,lmbda)", "yeoh(C10,C20,K)"],
)
def test_implicit_function_sensitivities_match_central_differences(model, initial, fixed):
    problem = InverseProblem(model, PATH, initial, specimen=COARSE, fixed=fixed)
    out = problem.response(problem.x0)
    assert out.sensitivities is not None and out.sensitivities.shape == (len(PATH), 2, len(problem.labels))
    fd = central_differences(problem, problem.x0)
    scale = np.abs(fd).max(axis=(0, 1))  # per parameter
    err = np.abs(out.sensitivities - fd).max(axis=(0, 1)) / scale
    assert np.all(err < 1e-6), (problem.labels, err)
    # every parameter moves the curve (the test is informative for each of them)
    assert np.all(scale > 1e-3), scale


def test_reaction_is_derivative_of_strain_energy():
    """Castigliano: at equilibrium d(total strain energy)/d(plate displacement) = the plate's reaction force."""
    model = NeoHookean(mu=1.0, lmbda=8.0)
    d0 = np.array([0.3, -0.15])
    out = block_response(model, d0[None, :], COARSE)

    def energy(plate: np.ndarray) -> float:
        r = block_response(model, plate[None, :], COARSE)
        basis = r.basis
        H = torch.from_numpy(np.ascontiguousarray(np.moveaxis(basis.interpolate(r.fields[-1]).grad, (0, 1), (-2, -1))))
        F = torch.zeros(*H.shape[:-2], 3, 3, dtype=H.dtype)
        F[..., :2, :2] = H
        F = F + torch.eye(3, dtype=H.dtype)
        E = 0.5 * (F.transpose(-1, -2) @ F - torch.eye(3, dtype=H.dtype))
        return COARSE.depth * float((model.energy(E).numpy() * basis.dx).sum())

    h = 1e-5
    for c in range(2):
        e = np.zeros(2)
        e[c] = h
        dW = (energy(d0 + e) - energy(d0 - e)) / (2 * h)
        assert dW == pytest.approx(out.forces[0, c], rel=1e-7)
    assert out.forces[0, 0] > 0 > out.forces[0, 1]  # sheared to +x and compressed


def test_fit_recovers_parameters_noise_free_and_within_standard_errors_with_noise():
    true = NeoHookean(mu=1.0, lmbda=8.0)
    exact = block_response(true, PATH, COARSE).forces
    fit = fit_inverse(NeoHookean, PATH, exact, {"mu": 1.6, "lmbda": 3.0}, specimen=COARSE)
    assert fit.success and fit.rejected == 0
    np.testing.assert_allclose(fit.x, [1.0, 8.0], rtol=1e-6)
    assert fit.parameters == pytest.approx({"mu": 1.0, "lmbda": 8.0}, rel=1e-6)
    assert max(fit.rms.values()) < 1e-9
    assert fit.ndofs == 30 and fit.seconds_per_evaluation["sensitivities"] > 0
    sigma = 0.01
    noisy = exact + sigma * np.random.default_rng(1).standard_normal(exact.shape)
    fit = fit_inverse(NeoHookean, PATH, noisy, {"mu": 1.6, "lmbda": 3.0}, specimen=COARSE, sigma=sigma)
    se = np.array([fit.standard_errors[k] for k in fit.free])
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    assert np.all(np.abs(fit.x - [1.0, 8.0]) < 3 * se), (fit.x, se)
    assert np.all(np.abs(fit.x - [1.0, 8.0]) > 0)  # the noise moved them
    # with the residuals scaled by the true sigma, (J^T J)^-1 is the covariance: s.e. = s.e.(s^2) * sigma / s
    se_sigma = np.array([fit.standard_errors_sigma[k] for k in fit.free])
    s = np.sqrt(np.sum(((fit.forces - noisy) / sigma) ** 2) / (noisy.size - 2))
    np.testing.assert_allclose(se_sigma, se / s, rtol=1e-12)
    assert np.all(np.abs(fit.x - [1.0, 8.0]) < 3 * se_sigma)
    chi = np.sqrt(np.mean(((fit.forces - noisy) / sigma) ** 2))
    assert 0.4 < chi < 1.5  # residuals at the noise level
    assert "| mu |" in fit.report() and "dofs" in fit.report()


def test_fixed_parameter_and_declared_bounds():
    exact = block_response(NeoHookean(mu=1.0, lmbda=8.0), PATH, COARSE).forces
    fit = fit_inverse(NeoHookean, PATH, exact, {"mu": 0.5, "lmbda": 8.0}, fixed=["lmbda"], specimen=COARSE)
    assert fit.free == ["mu"] and fit.parameters["lmbda"] == 8.0
    assert fit.x[0] == pytest.approx(1.0, rel=1e-8)
    problem = InverseProblem(NeoHookean, PATH, {"mu": 1.0, "lmbda": 8.0}, specimen=COARSE)
    lower, upper = problem.bounds()
    assert lower[0] > 0 and np.isinf(upper).all()  # mu > 0 declared by the model


def test_example_numbers_and_figure(example, tmp_path):
    out = example.main(tmp_path, nx=4, ny=2, points=4, repeat=1, j2=False)["rubber"]
    assert out["exact"].x == pytest.approx([1.0, 8.0], rel=1e-6)
    noisy = out["noisy"]
    se = np.array([noisy.standard_errors[k] for k in noisy.free])
    assert np.all(np.abs(noisy.x - [1.0, 8.0]) < 3 * se), (noisy.x, se)
    cost = out["cost"]
    assert cost["ndofs"] == 30 and cost["nfree"] == 10 and cost["forward_cpu_s"] > 0
    text = (tmp_path / "inverse_block.md").read_text(encoding="utf-8")
    assert text.strip() == example.table(out).strip()
    assert "| mu (MPa) | 1 | 1.6 |" in text and "implicit-function gradient" in text and "dᵀ Cov⁻¹ d" in text
    png = tmp_path / "inverse_block.png"
    assert png.stat().st_size > 5000
    with pytest.raises(FileExistsError):  # checked before any fit
        example.main(tmp_path, nx=4, ny=2, points=4, repeat=1, j2=False)
    with pytest.raises(FileExistsError):
        plot_inverse(noisy, png)


def test_example_coverage_statistics(example):
    """The Monte Carlo check of the standard errors runs and returns its statistics (the 40-draw result is in
    docs/calibration.md)."""
    stats = example.coverage(seeds=2, nx=2, ny=2, points=3)
    assert stats["std"].shape == stats["se_sigma"].shape == (2,)
    assert np.all(stats["std"] > 0) and np.all(stats["se_sigma"] > 0)
    # two draws: the scatter is of the order of the standard error (a factor 5 either way)
    assert np.all(stats["std"] < 5 * stats["se_sigma"]) and np.all(stats["std"] > stats["se_sigma"] / 5)
    assert 0 <= stats["joint_below_5.99"] <= 1


def test_bad_input():
    with pytest.raises(ValueError, match="nx"):
        BondedBlock(nx=0)
    with pytest.raises(ValueError, match="height"):
        BondedBlock(height=-1.0)
    model = NeoHookean(mu=1.0, lmbda=8.0)
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        block_response(model, [0.1, -0.1], COARSE)
    with pytest.raises(ValueError, match="finite"):
        block_response(model, [[np.nan, 0.0]], COARSE)
    with pytest.raises(ValueError, match="substeps"):
        block_response(model, PATH, COARSE, substeps=0)
    from constitutive.models.elastic import LinearElastic

    with pytest.raises(ValueError, match="first_piola_and_elasticity"):
        block_response(LinearElastic(E=1.0, nu=0.3), PATH, COARSE)
    with pytest.raises(ValueError, match="shape"):
        fit_inverse(NeoHookean, PATH, np.zeros((3, 2)), {"mu": 1.0, "lmbda": 8.0}, specimen=COARSE)
    with pytest.raises(ValueError, match="sigma"):
        fit_inverse(NeoHookean, PATH, np.zeros((4, 2)), {"mu": 1.0, "lmbda": 8.0}, specimen=COARSE, sigma=0.0)
    with pytest.raises(ValueError, match="outside its bounds"):
        fit_inverse(NeoHookean, PATH, np.zeros((4, 2)), {"mu": 1.0, "lmbda": 8.0}, bounds={"mu": (2, 3)})
    problem = InverseProblem(NeoHookean, PATH, {"mu": 1.0, "lmbda": 8.0}, specimen=COARSE)
    with pytest.raises(ValueError, match="free parameters"):
        problem.response([1.0])
    # the top plate pushed through the bottom one: no equilibrium, a named error
    with pytest.raises(EquilibriumError, match="record point 0"):
        block_response(model, [[0.0, -1.2]], COARSE)
    with pytest.raises(EquilibriumError, match="no equilibrium"):  # the initial point must have one
        fit_inverse(NeoHookean, [[0.0, -1.2]], np.zeros((1, 2)), {"mu": 1.0, "lmbda": 8.0}, specimen=COARSE)


# ------------------------------------------------------------------------------------------- path-dependent (J2)


def test_j2_sensitivities_through_the_history_match_central_differences():
    """Load and unload: the sensitivities carry d(state)/dθ from step to step (plastic strain, α); compared with
    central differences of the whole load history. Newton is converged tightly (1e-13) so that the differences
    resolve the derivative."""
    problem = InverseProblem(J2Plasticity, J2_PATH, J2_TRUE, specimen=COARSE, fixed=["nu"], rtol=1e-13)
    assert problem.exact_sensitivities and problem.labels == ["E", "sigma_y", "H"]
    out = problem.response(problem.x0)
    alpha = out.state["alpha"]
    assert 0 < int((alpha > 0).sum()) and float(alpha.max()) > 1e-3  # plastic flow in the block
    assert out.forces[1, 1] < 0 and out.forces[2, 0] < 0.5 * out.forces[1, 0]  # compressed, then unloaded
    fd = central_differences(problem, problem.x0, rel=1e-5)
    scale = np.abs(fd).max(axis=(0, 1))
    err = np.abs(out.sensitivities - fd).max(axis=(0, 1)) / scale
    assert np.all(err < 1e-6), (problem.labels, err)
    # the history matters: the derivative after unloading differs from the one of a fresh elastic load
    fresh = InverseProblem(J2Plasticity, J2_PATH[2:], J2_TRUE, specimen=COARSE, fixed=["nu"]).response(problem.x0)
    assert not np.allclose(fresh.sensitivities[0], out.sensitivities[2], rtol=1e-2)


def test_j2_fit_recovers_parameters_noise_free(example):
    path = example.load_unload_path(up=2, down=1)
    exact = block_response(J2Plasticity(**J2_TRUE), path, COARSE).forces
    start = {**J2_TRUE, "sigma_y": 280.0, "H": 1500.0}
    fit = fit_inverse(J2Plasticity, path, exact, start, specimen=COARSE, fixed=["nu", "E"])
    assert fit.success and fit.free == ["sigma_y", "H"]
    np.testing.assert_allclose(fit.x, [250.0, 2000.0], rtol=1e-6)
    assert fit.response.state is not None


def test_j2_with_iterated_update_is_refused():
    """Voce hardening iterates its return map: the derivative through the iterations would not be exact, so the
    inverse analysis refuses it (the forward simulation still runs)."""
    initial = {"E": 200e3, "nu": 0.3, "sigma_y": 250.0, "Q": 100.0, "b": 20.0}
    options = {"hardening": "voce"}
    problem = InverseProblem(J2Plasticity, J2_PATH[:1], initial, specimen=COARSE, fixed=["nu"], options=options)
    assert not problem.exact_sensitivities
    assert problem.response(problem.x0, sensitivities=False).forces.shape == (1, 2)
    with pytest.raises(ValueError, match="closed-form update"):
        problem.response(problem.x0)
    with pytest.raises(ValueError, match="closed-form update"):
        fit_inverse(J2Plasticity, J2_PATH[:1], np.zeros((1, 2)), initial, specimen=COARSE, options=options)
