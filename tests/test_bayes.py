"""Bayesian posteriors by MCMC (constitutive.calibrate.bayes) and the identifiability diagnostics of every fit.

Verification is independent of the sampler: on problems linear in their parameters with Gaussian noise the
posterior is known in closed form (normal with the least-squares mean and covariance σ²(AᵀA)⁻¹; with a Gaussian
prior the conjugate update; with σ sampled under the Jeffreys prior, σ² is scaled-inverse-χ² with m − n degrees of
freedom), so the chains are compared with those formulas within their Monte Carlo error (fixed seeds, tolerances
of several Monte Carlo standard errors from emcee's autocorrelation time).
"""

from __future__ import annotations

import importlib.util
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from constitutive.calibrate import Experiment, calibrate
from constitutive.calibrate.bayes import NOISE_LABEL, Posterior, sample_posterior
from constitutive.calibrate.result import CONDITION_LIMIT, CORRELATION_LIMIT, REL_STD_LIMIT, identifiability
from constitutive.data import load_tension_test, load_treloar
from constitutive.models.base import Material
from constitutive.models.parameters import Parameter
from constitutive.models.plasticity import J2Plasticity

REPO = Path(__file__).resolve().parents[1]

# ------------------------------------------------------------------------------------------------ linear problems


def _elastic_data(m: int = 40, sigma: float = 2.0, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic linear-elastic uniaxial data: σ = E ε + noise, E = 200 GPa, noise N(0, sigma²) MPa."""
    rng = np.random.default_rng(seed)
    strain = np.linspace(1e-4, 1.2e-3, m)
    return strain, 200e3 * strain + sigma * rng.standard_normal(m)


def _fit_modulus(strain: np.ndarray, stress: np.ndarray):  # noqa: ANN202
    """E of J2 plasticity that never yields (σ_y = 1e9 MPa), fitted by calibrate: the response is E ε exactly."""
    exp = Experiment.uniaxial_stress(strain, stress, name="elastic")
    fixed = {"nu": 0.3, "sigma_y": 1e9, "H": 0.0}
    return calibrate(J2Plasticity, exp, {"E": 150e3}, fixed=fixed, bounds={"E": (1e3, 1e6)})


def _mc_tolerance(post: Posterior, label: str, k: float = 5.0) -> float:
    """k Monte Carlo standard errors of the posterior mean of ``label`` (Posterior.mc_error: the larger of the
    autocorrelation-time and the batch-means estimates)."""
    return k * post.mc_error[label]


def _std_tolerance(post: Posterior, label: str, k: float = 5.0) -> float:
    """k relative Monte Carlo errors of the posterior std: sqrt(tau / 2N), tau/N = (mc_error / std)^2."""
    return k * post.mc_error[label] / (post.std[label] * math.sqrt(2.0))


def test_linear_modulus_posterior_is_the_least_squares_estimate_and_its_standard_error() -> None:
    strain, stress = _elastic_data()
    sigma = 2.0
    res = _fit_modulus(strain, stress)
    E_ls = float(strain @ stress / (strain @ strain))  # closed form, independent of calibrate
    se = sigma / math.sqrt(float(strain @ strain))
    assert res.parameters["E"] == pytest.approx(E_ls, rel=1e-10)
    post = sample_posterior(res, noise=sigma, nwalkers=32, nsteps=600, burn=100, seed=3)
    assert post.batched and "batched" in post.batch_note
    assert post.labels == ["E"] and post.noise == "given" and post.sigma == sigma
    assert post.chain.shape == (500, 32, 1) and post.samples.shape == (16000, 1)
    assert post.autocorr_time.shape == (1,) and 1.0 < post.autocorr_time[0] < 50.0
    assert 0.2 < float(np.mean(post.acceptance_fraction)) < 0.9
    assert post.mc_error["E"] < 0.05 * se  # the test below is sharp
    assert abs(post.mean["E"] - E_ls) < _mc_tolerance(post, "E")
    assert post.std["E"] == pytest.approx(se, rel=_std_tolerance(post, "E"))
    # the 2.5 / 97.5 % quantiles of a normal posterior: mean -/+ 1.96 se; Monte Carlo error of a quantile
    # sqrt(p (1 - p) tau / N) / phi(1.96) posterior stds = 2.67 mc_error
    q = post.quantiles((0.025, 0.975))["E"]
    assert q == pytest.approx([E_ls - 1.96 * se, E_ls + 1.96 * se], abs=5 * 2.67 * post.mc_error["E"])


def test_gaussian_prior_gives_the_conjugate_posterior() -> None:
    strain, stress = _elastic_data(m=20, sigma=4.0, seed=11)
    sigma, mu0, tau0 = 4.0, 180e3, 2e3  # a prior as informative as the data
    res = _fit_modulus(strain, stress)
    prec = 1 / tau0**2 + float(strain @ strain) / sigma**2
    mean = (mu0 / tau0**2 + float(strain @ stress) / sigma**2) / prec
    std = 1 / math.sqrt(prec)

    def gaussian_prior(theta: np.ndarray) -> float:
        return -0.5 * float((theta[0] - mu0) / tau0) ** 2

    post = sample_posterior(res, noise=sigma, prior=gaussian_prior, nwalkers=32, nsteps=600, burn=100, seed=5)
    assert abs(mean - res.parameters["E"]) > 3 * std  # the prior moves the posterior away from least squares
    assert abs(post.mean["E"] - mean) < _mc_tolerance(post, "E")
    assert post.std["E"] == pytest.approx(std, rel=_std_tolerance(post, "E"))
    assert "gaussian_prior" in post.prior


def test_estimated_noise_recovers_the_synthetic_sigma_and_its_posterior() -> None:
    sigma_true = 2.0
    strain, stress = _elastic_data(m=60, sigma=sigma_true, seed=2)
    res = _fit_modulus(strain, stress)
    post = sample_posterior(res, noise="estimate", nwalkers=32, nsteps=700, burn=100, seed=4)
    assert post.labels == ["E", NOISE_LABEL] and post.noise == "estimate" and post.sigma is None
    m, n = 60, 1
    nu = m - n
    r = stress - res.parameters["E"] * strain
    s2 = float(r @ r) / nu
    # Jeffreys prior, flat prior on E: sigma^2 | y ~ scaled-inv-chi2(nu, s2), mean nu s2 / (nu - 2)
    sig = post.samples[:, 1]
    mc = 5 * post.mc_error[NOISE_LABEL] * 2 * float(np.mean(sig))  # d(sigma^2) = 2 sigma d(sigma)
    assert float(np.mean(sig**2)) == pytest.approx(nu * s2 / (nu - 2), abs=mc)
    assert abs(post.quantiles((0.5,))[NOISE_LABEL][0] - sigma_true) < 3 * sigma_true / math.sqrt(2 * nu)
    # E | y is Student-t with nu degrees of freedom: std s / sqrt(sum eps^2) * sqrt(nu / (nu - 2))
    t_std = math.sqrt(s2 / float(strain @ strain) * nu / (nu - 2))
    assert abs(post.mean["E"] - res.parameters["E"]) < _mc_tolerance(post, "E")
    assert post.std["E"] == pytest.approx(t_std, rel=_std_tolerance(post, "E"))


class _MooneyRivlinScalar(Material):
    """Incompressible Mooney--Rivlin in uniaxial tension, nominal stress written out (linear in C10, C01); its
    declared 0-d parameters cannot take a batch, so the sampler loops over walkers."""

    C10 = Parameter("first Mooney-Rivlin constant", unit="stress")
    C01 = Parameter("second Mooney-Rivlin constant", unit="stress")

    def __init__(self, C10, C01, *, dtype=torch.float64, device=None):  # noqa: ANN001
        super().__init__(dtype=dtype, device=device)
        self._param("C10", C10)
        self._param("C01", C01)

    def nominal_stress(self, lam: torch.Tensor, mode: str) -> torch.Tensor:
        return 2 * (lam - lam**-2) * (self.C10 + self.C01 / lam)


def test_laplace_covariance_equals_the_mcmc_covariance_on_a_linear_two_parameter_problem() -> None:
    e = load_treloar("uniaxial").experiment()
    lam, y = e.x.numpy(), e.y.numpy()
    keep = lam < 4.0  # the part a Mooney-Rivlin law follows; still linear in (C10, C01)
    exp = Experiment.rubber("uniaxial", lam[keep], y[keep], name="treloar_uniaxial")
    res = calibrate(_MooneyRivlinScalar, exp, {"C10": 0.2, "C01": 0.05})
    A = np.stack([2 * (lam[keep] - lam[keep] ** -2), 2 * (lam[keep] - lam[keep] ** -2) / lam[keep]], axis=1)
    theta, *_ = np.linalg.lstsq(A, y[keep], rcond=None)  # independent closed form
    r = y[keep] - A @ theta
    s2 = float(r @ r) / (len(r) - 2)
    cov = s2 * np.linalg.inv(A.T @ A)
    np.testing.assert_allclose(res.x, theta, rtol=1e-8)
    np.testing.assert_allclose(res.covariance, cov, rtol=1e-6)  # today's Laplace covariance
    post = sample_posterior(res, nwalkers=8, nsteps=600, burn=100, seed=6)  # noise=None: the fit's s, fixed
    assert not post.batched and "looped" in post.batch_note
    assert post.noise == "fit" and post.sigma == pytest.approx(math.sqrt(s2), rel=1e-10)
    for label in ("C10", "C01"):
        assert abs(post.mean[label] - theta[post.labels.index(label)]) < _mc_tolerance(post, label)
    for k, label in enumerate(post.labels):
        assert post.std[label] == pytest.approx(math.sqrt(cov[k, k]), rel=_std_tolerance(post, label))
    assert post.correlation[0, 1] == pytest.approx(res.correlation[0, 1], abs=0.03)
    assert res.correlation[0, 1] < -0.9  # a strongly correlated pair: a real test of the off-diagonal term


# ------------------------------------------------------------------------------- posterior object, files, errors


@pytest.fixture(scope="module")
def voce_posterior() -> Posterior:
    exp = load_tension_test("tension_St1594.csv").experiment(E=210e3, points=40, name="St1594")
    res = calibrate(
        J2Plasticity,
        exp,
        {"sigma_y": 250.0, "Q": 200.0, "b": 10.0},
        fixed={"E": 210e3, "nu": 0.3, "H": 0.0},
        options={"hardening": "voce"},
        bounds={"sigma_y": (1.0, None), "Q": (0.0, None), "b": (1e-3, None)},
    )
    return sample_posterior(res, noise="estimate", nwalkers=16, nsteps=150, burn=50, seed=0)


def test_posterior_table_band_and_short_chain_note(voce_posterior: Posterior) -> None:
    post = voce_posterior
    assert post.batched and post.labels == ["sigma_y", "Q", "b", NOISE_LABEL]
    assert not post.autocorr_reliable and "shorter than 50 τ" in post.autocorr_note  # emcee's error, handled
    table = post.table()
    for text in ("| sigma_y |", "| noise_sigma |", "Jeffreys prior", "16 walkers, 150 steps, 50 burn-in", "50 τ"):
        assert text in table
    band = post.band("St1594", 0.9, draws=64)
    assert band.x.shape == band.lower.shape == band.upper.shape == (40,) and band.draws == 64
    assert np.all(band.lower <= band.median) and np.all(band.median <= band.upper)
    np.testing.assert_allclose(band.best, post.result.predictions[0], rtol=1e-12)
    # the batched evaluation of the draws equals one model per draw
    looped = Posterior(**{**post.__dict__, "batched": False, "batch_note": "loop"})
    b2 = looped.band("St1594", 0.9, draws=64)
    np.testing.assert_allclose(b2.upper, band.upper, rtol=1e-10)
    pred = post.band(0, predictive=True, draws=100)
    assert np.all(pred.upper - pred.lower > band.upper - band.lower)
    grid = post.band(0, x=np.linspace(0.01, 0.2, 7), draws=16)
    assert grid.x.shape == (7,)
    with pytest.raises(ValueError, match="predictive band"):
        post.band(0, x=[0.1], predictive=True)
    with pytest.raises(ValueError, match="no fitted experiment named"):
        post.band("St1595")
    with pytest.raises(ValueError, match="level must be"):
        post.band(0, level=1.5)


def test_save_load_round_trip_and_plot(voce_posterior: Posterior, tmp_path: Path) -> None:
    post = voce_posterior
    path = post.save(tmp_path / "voce_posterior.npz")
    with pytest.raises(FileExistsError):
        post.save(path)
    with pytest.raises(ValueError, match=".npz"):
        post.save(tmp_path / "voce.toml")
    back = Posterior.load(path)
    np.testing.assert_array_equal(back.chain, post.chain)
    assert back.labels == post.labels and back.table() == post.table() and back.parameters == post.parameters
    with pytest.raises(ValueError, match="needs the calibration result"):
        back.band(0)
    again = Posterior.load(path, result=post.result)
    fig = again.plot(tmp_path / "voce_posterior.png", draws=32, points=40)
    assert (tmp_path / "voce_posterior.png").stat().st_size > 10_000 and len(fig.axes) == 1 + 4


def test_bad_input_is_refused(voce_posterior: Posterior) -> None:
    res = voce_posterior.result
    for kwargs, match in (
        ({"noise": -1.0}, "positive finite"),
        ({"noise": "guess"}, "noise must be"),
        ({"nwalkers": 4}, "at least twice"),
        ({"nsteps": 10, "burn": 10}, "burn"),
        ({"prior": "flat"}, "prior must be"),
        ({"seed": 1.5}, "seed must be"),
    ):
        with pytest.raises(ValueError, match=match):
            sample_posterior(res, **kwargs)
    bare = Posterior.__new__(Posterior)
    with pytest.raises(ValueError, match="needs a CalibrationResult"):
        sample_posterior(bare)


def test_missing_emcee_names_the_extra(monkeypatch: pytest.MonkeyPatch, voce_posterior: Posterior) -> None:
    monkeypatch.setitem(sys.modules, "emcee", None)  # import emcee now raises ImportError
    with pytest.raises(ImportError, match=r"constitutive\[bayes\]"):
        sample_posterior(voce_posterior.result)


# ----------------------------------------------------------------------------------------------- identifiability


def test_single_mode_ogden_warns_and_names_the_parameters_on_bounds() -> None:
    from constitutive.models.hyperelastic import Ogden

    bounds = {
        "mu[0]": (0.0, None),
        "mu[1]": (0.0, None),
        "mu[2]": (None, 0.0),
        "alpha[0]": (0.1, 10.0),
        "alpha[1]": (0.1, 15.0),
        "alpha[2]": (-10.0, -0.1),
    }
    exp = load_treloar("equibiaxial").experiment()
    with pytest.warns(UserWarning, match=r"not determined by the data: .*alpha\[2\] \(.*on a bound") as record:
        res = calibrate(Ogden, exp, {"mu": [0.5, 0.01, -0.01], "alpha": [1.0, 4.0, -1.0]}, bounds=bounds)
    assert res.at_bounds and set(res.at_bounds) <= set(res.identifiability.undetermined)
    assert any("mu[2]" in str(w.message) for w in record)
    assert not res.identifiability.ok and res.identifiability.correlated
    report = res.report()
    assert "## Identifiability" in report and "WARNING: alpha[2] is not determined" in report


def test_well_posed_voce_fit_to_st1594_does_not_warn() -> None:
    exp = load_tension_test("tension_St1594.csv").experiment(E=210e3, points=150, name="St1594")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        res = calibrate(
            J2Plasticity,
            exp,
            {"sigma_y": 250.0, "Q": 200.0, "b": 10.0},
            fixed={"E": 210e3, "nu": 0.3, "H": 0.0},
            options={"hardening": "voce"},
        )
    ident = res.identifiability
    assert ident.ok and not ident.correlated and 1.0 < res.condition_number < 100.0
    assert "every fitted parameter is determined by the data" in res.report()


def test_identifiability_rules_on_constructed_jacobians() -> None:
    rng = np.random.default_rng(0)
    J = rng.standard_normal((50, 3))
    cov = np.linalg.inv(J.T @ J)
    x = np.array([1.0, 2.0, 3.0])
    assert identifiability(["a", "b", "c"], x, J, cov, []).ok
    # each rule alone, with the documented thresholds
    assert list(identifiability(["a", "b", "c"], x, J, cov, ["b"]).undetermined) == ["b"]
    big = cov.copy()
    big[2, 2] = (1.01 * REL_STD_LIMIT * 3.0) ** 2
    assert "relative std. error" in identifiability(["a", "b", "c"], x, J, big, []).undetermined["c"][0]
    Jc = J.copy()
    Jc[:, 1] = Jc[:, 0] + 1e-3 * rng.standard_normal(50)  # |corr| ~ 1 - 1e-6
    covc = np.linalg.inv(Jc.T @ Jc)
    ident = identifiability(["a", "b", "c"], x, Jc, covc, [])
    assert [p[:2] for p in ident.correlated] == [("a", "b")] and abs(ident.correlated[0][2]) > CORRELATION_LIMIT
    assert set(ident.undetermined) == {"a", "b"}
    Js = J.copy()
    Js[:, 2] = Js[:, 0] - Js[:, 1] + 1e-9 * rng.standard_normal(50)  # a three-parameter near-dependence
    ident = identifiability(["a", "b", "c"], x, Js, np.linalg.inv(Js.T @ Js), [])
    assert ident.condition_number > CONDITION_LIMIT
    assert all(any("near-singular" in r for r in ident.undetermined[k]) for k in "abc")
    J0 = J.copy()
    J0[:, 0] = 0.0
    ident = identifiability(["a", "b", "c"], x, J0, np.full((3, 3), np.nan), [])
    assert "the residuals do not depend on it" in ident.undetermined["a"] and math.isinf(ident.condition_number)


# --------------------------------------------------------------------------------------------------- the example


def test_bayes_voce_steel_example(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "_example_bayes_voce_steel", REPO / "examples" / "calibration" / "bayes_voce_steel.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(tmp_path, nsteps=120, burn=40, nwalkers=16, points=40)
    for name, numbers in out["specimens"].items():
        post = numbers["posterior"]
        res = post.result
        for k, label in enumerate(res.free):  # the posterior mean near the least-squares optimum
            assert abs(post.mean[label] - res.x[k]) < 3 * post.std[label], (name, label)
        assert 0.8 <= numbers["predictive_coverage"] <= 1.0, name  # the data lie in the band within the noise
        assert numbers["sigma"] == pytest.approx(res.total_rms, rel=0.3)  # σ ~ rms error (absolute residuals)
        assert (tmp_path / f"{numbers['stem']}.toml").is_file()
        assert Posterior.load(tmp_path / f"{numbers['stem']}_posterior.npz").labels == post.labels
    assert out["figure"].is_file()
    with pytest.raises(FileExistsError):
        mod.main(tmp_path, nsteps=120, burn=40, nwalkers=16, points=40)


def test_config_mcmc_table_writes_the_posterior_beside_the_parameters(tmp_path: Path) -> None:
    from constitutive.calibrate import run_config

    cfg = {
        "model": "J2Plasticity",
        "name": "voce",
        "options": {"hardening": "voce"},
        "initial": {"sigma_y": 250.0, "Q": 200.0, "b": 10.0},
        "fixed": {"E": 210e3, "nu": 0.3, "H": 0.0},
        "experiments": [{"name": "St1594", "file": "tension_St1594.csv", "mode": "tension_test", "E": 210e3}],
        "mcmc": {"nwalkers": 8, "nsteps": 40, "burn": 10, "noise": "estimate", "seed": 1},
    }
    cfg["experiments"][0]["points"] = 30
    with pytest.raises(ValueError, match=r"\[mcmc\]: unknown key\(s\) \['steps'\]"):
        run_config({**cfg, "mcmc": {"steps": 10}}, tmp_path, verbose=0)
    result, paths = run_config(cfg, tmp_path, verbose=0)
    assert set(paths) >= {"parameters", "report", "figure", "posterior", "posterior_figure"}
    post = Posterior.load(paths["posterior"], result=result)
    assert post.chain.shape == (30, 8, 4) and post.labels[-1] == NOISE_LABEL
    report = paths["report"].read_text()
    assert "## Posterior (MCMC)" in report and "| noise_sigma |" in report and paths["posterior_figure"].is_file()
    with pytest.raises(FileExistsError):  # refused before the fit, posterior outputs included
        run_config(cfg, tmp_path, verbose=0)
