"""Multi-start calibration (constitutive.calibrate.multistart): a problem with two known optima, reproducibility,
the sampling designs, the grouping of end points, bad input.

The two-optimum problem: a one-term Ogden model, P(λ) = μ (λ^(α-1) - λ^(-α/2-1)) in uniaxial tension, fitted to
data made by μ = 0.4, α = 2 (the global optimum, cost 0). Ogden requires μα > 0, so the box μ ∈ [-1, 1], α ∈ [-8, 8]
holds two admissible regions; in the α < 0 one the best fit is a local optimum. It is located independently: for a
fixed α the model is linear in μ, so the cost profile c(α) = ½(Σy² - (Σfy)²/Σf²) is closed form and its minimum is
found by a scalar search. Starts with μα ≤ 0 are refused by the model and recorded as failures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from constitutive.calibrate import Experiment, calibrate
from constitutive.calibrate.multistart import MultiStartResult, _distinct, calibrate_multistart, sample_starts
from constitutive.calibrate.parallel import TaskFailure
from constitutive.models import load
from constitutive.models.hyperelastic import Ogden

STRETCH = np.linspace(1.05, 4.0, 15)
MU, ALPHA = 0.4, 2.0
BOUNDS = {"mu": (-1.0, 1.0), "alpha": (-8.0, 8.0)}
INITIAL = {"mu": [0.3], "alpha": [1.5]}


def _f(alpha: float) -> np.ndarray:
    return STRETCH ** (alpha - 1) - STRETCH ** (-alpha / 2 - 1)


DATA = MU * _f(ALPHA)


def _profile(alpha: float) -> float:
    f = _f(alpha)
    return 0.5 * float(DATA @ DATA - (f @ DATA) ** 2 / (f @ f))


def _experiment() -> Experiment:
    return Experiment.rubber("uniaxial", STRETCH, DATA, name="synthetic")


def _run(seed: int = 0, starts: int = 8, **kw) -> MultiStartResult:  # noqa: ANN003
    return calibrate_multistart(
        Ogden, _experiment(), INITIAL, bounds=BOUNDS, starts=starts, seed=seed, scheduler="serial", **kw
    )


@pytest.fixture(scope="module")
def result() -> MultiStartResult:
    return _run()


def test_the_multistart_finds_the_global_and_the_local_optimum_and_picks_the_global(result: MultiStartResult) -> None:
    assert len(result.optima) == 2
    best, local = result.optima
    assert result.best is best.result and best.rank == 0
    np.testing.assert_allclose(best.x, [MU, ALPHA], rtol=1e-9)
    assert best.cost < 1e-20
    # the local optimum, independently: the minimum of the closed-form cost profile over alpha < 0
    ref = minimize_scalar(_profile, bounds=(-8.0, -0.5), method="bounded", options={"xatol": 1e-12})
    f = _f(ref.x)
    mu_ref = float(f @ DATA / (f @ f))
    np.testing.assert_allclose(local.x, [mu_ref, ref.x], rtol=1e-6)
    assert local.cost == pytest.approx(ref.fun, rel=1e-9)
    assert local.cost > 1e-3  # truly worse: a local optimum, not the global one again
    # every start the model refuses (mu alpha <= 0) is a failure; every other start reaches one of the two optima
    refused = {i for i, (mu, alpha) in enumerate(result.start_points) if mu * alpha <= 0}
    assert {f.tag for f in result.failures} == refused and refused
    assert all("sum(mu_p * alpha_p) must be positive" in f.message for f in result.failures)
    assert sorted(best.starts + local.starts) == sorted(set(range(len(result.results))) - refused)
    assert best.converged == best.count and local.converged == local.count


def test_the_same_seed_gives_the_same_table_and_start_zero_is_the_plain_fit(result: MultiStartResult) -> None:
    again = _run()
    assert again.table() == result.table()
    np.testing.assert_array_equal(again.start_points, result.start_points)
    plain = calibrate(Ogden, _experiment(), INITIAL, bounds=BOUNDS)
    np.testing.assert_array_equal(result.results[0].x, plain.x)  # start 0 is the given initial point
    np.testing.assert_array_equal(result.start_points[0], [0.3, 1.5])
    other = _run(seed=7, starts=4, include_initial=False)
    assert not np.array_equal(other.start_points, result.start_points[1:5])
    assert len(other.start_points) == 4


def test_tables_reports_and_files(result: MultiStartResult, tmp_path: Path) -> None:
    table = result.table()
    assert table.splitlines()[2].startswith("| 0 (best) |") and "| mu[0] | alpha[0] |" in table
    report = result.report()
    assert "2 distinct optima" in report and "## Failed starts" in report and "# Best fit: calibration of" in report
    assert "9 starts (sobol, seed 0)" in report
    path = result.save(tmp_path / "best.toml")
    model = load(path)
    np.testing.assert_allclose([float(model.mu[0]), float(model.alpha[0])], [MU, ALPHA], rtol=1e-9)
    assert "distinct optima" in path.read_text()
    result.plot(tmp_path / "multistart.png")
    assert (tmp_path / "multistart.png").stat().st_size > 10_000
    with pytest.raises(FileExistsError):
        result.plot(tmp_path / "multistart.png")


def test_grouping_tolerances(result: MultiStartResult) -> None:
    fits = [(i, r) for i, r in enumerate(result.results) if not isinstance(r, TaskFailure)]
    log = np.zeros(2, dtype=bool)
    merged = _distinct(fits, result.lower, result.upper, log, 1.0, 1.0)
    assert len(merged) == 1 and merged[0].count == len(fits)
    # a zero tolerance in the parameters keeps end points apart that differ in the last bits
    split = _distinct(fits, result.lower, result.upper, log, 0.0, 0.0)
    assert len(split) >= len(result.optima)
    assert sum(o.count for o in split) == len(fits)


def test_sampling_designs() -> None:
    lo, hi = np.array([-1.0, 1e-3]), np.array([2.0, 1e3])
    sob = sample_starts(lo, hi, 16, sampling="sobol", seed=3, log=[False, True])
    assert sob.shape == (16, 2) and np.all(sob >= lo) and np.all(sob <= hi)
    np.testing.assert_array_equal(sob, sample_starts(lo, hi, 16, sampling="sobol", seed=3, log=[False, True]))
    # log-uniform: a Sobol' sequence puts half its points in each half of [log lo, log hi]
    assert np.sum(np.log10(sob[:, 1]) < 0) == 8
    lhs = sample_starts(lo, hi, 10, sampling="lhs", seed=1)
    strata = np.floor((lhs - lo) / (hi - lo) * 10).astype(int)
    for j in range(2):  # a Latin hypercube: each of the 10 strata once per coordinate
        assert sorted(strata[:, j]) == list(range(10))


def test_bad_input_is_refused_before_any_start_runs() -> None:
    exp = _experiment()
    with pytest.raises(ValueError, match=r"finite bounds for .*mu\[0\]"):
        calibrate_multistart(Ogden, exp, INITIAL, bounds={"alpha": (-8, 8)}, scheduler="serial")
    with pytest.raises(ValueError, match="unknown sampling 'grid'"):
        _run(sampling="grid")
    with pytest.raises(ValueError, match="number of starts"):
        _run(starts=0)
    with pytest.raises(ValueError, match="seed must be an integer"):
        _run(seed=1.5)
    with pytest.raises(ValueError, match="distinct_rtol"):
        _run(distinct_rtol=-1.0)
    with pytest.raises(ValueError, match="log_scale names"):
        _run(log_scale=["beta"])
    with pytest.raises(ValueError, match="positive lower bounds"):
        _run(log_scale=["mu[0]"])
    with pytest.raises(ValueError, match="rejects the initial parameters"):
        calibrate_multistart(Ogden, exp, {"mu": [-0.3], "alpha": [1.5]}, bounds=BOUNDS, scheduler="serial")
    with pytest.raises(ValueError, match="unknown scheduler"):
        calibrate_multistart(Ogden, exp, INITIAL, bounds=BOUNDS, scheduler="cluster")


def test_a_config_with_a_multistart_table_through_the_command_line(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from constitutive.cli import main

    rows = "\n".join(f"{float(x)!r},{float(y)!r}" for x, y in zip(STRETCH, DATA))
    (tmp_path / "synthetic.csv").write_text(f"stretch,stress\n{rows}\n")
    config = tmp_path / "ogden.toml"
    config.write_text(
        'model = "Ogden"\nname = "ogden_ms"\n[initial]\nmu = [0.3]\nalpha = [1.5]\n'
        "[bounds]\nmu = [-1.0, 1.0]\nalpha = [-8.0, 8.0]\n"
        '[multistart]\nstarts = 8\nsampling = "sobol"\nseed = 0\n'
        '[[experiments]]\nname = "synthetic"\nfile = "synthetic.csv"\nmode = "uniaxial"\nx = "stretch"\ny = "stress"\n'
    )
    out = tmp_path / "out"
    assert main(["calibrate", str(config), "--out", str(out), "--quiet", "--scheduler", "serial"]) == 0
    report = (out / "ogden_ms_report.md").read_text()
    assert "# Multi-start calibration of Ogden" in report and "2 distinct optima" in report
    # the same table as the Python call (the config's data are the same numbers, read back from the CSV)
    assert _run().table() in report
    model = load(out / "ogden_ms.toml")
    np.testing.assert_allclose([float(model.mu[0]), float(model.alpha[0])], [MU, ALPHA], rtol=1e-9)
    capsys.readouterr()
    config.write_text(config.read_text().replace("seed = 0", "seed = 0\nrestarts = 2"))
    assert main(["calibrate", str(config), "--out", str(tmp_path / "o2"), "--quiet"]) == 2
    assert "[multistart]: unknown key(s) ['restarts']" in capsys.readouterr().err


def _example(name: str):  # noqa: ANN202
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "examples" / "calibration" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_the_ogden_example_reports_the_distinct_optima(tmp_path: Path) -> None:
    numbers = _example("multistart_ogden").main(tmp_path, quick=True, scheduler="serial")
    result = numbers["result"]
    assert len(result.results) == 5 and numbers["best_cost"] <= numbers["initial_cost"]
    # the refused starts are exactly those with sum(mu_p alpha_p) <= 0 (mu = columns 0-1, alpha = columns 2-3)
    pts = result.start_points
    refused = {i for i, p in enumerate(pts) if p[0] * p[2] + p[1] * p[3] <= 0}
    assert {f.tag for f in result.failures} == refused
    assert len(result.optima) == len(result.results) - len(refused)  # 40 evaluations: no two starts meet
    costs = [c for c, _, _ in numbers["optima"]]
    assert costs == sorted(costs) and numbers["best_cost"] == costs[0]
    assert all(Path(f).stat().st_size > 20_000 for f in numbers["figures"])
    assert "| optimum | cost ½Σr² |" in (tmp_path / "calibration_multistart_ogden.md").read_text()
