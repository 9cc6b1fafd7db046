"""Calibration machinery: least squares with an AD Jacobian, error measures, standard errors, bad input, CLI.

Small closed-form models are defined here so the machinery is checked independently of the library's models:
fits whose optimum is known in closed form (models linear in their parameters: weighted linear least squares),
the AD Jacobian against central differences, recovery of known parameters from synthetic data, and the
uniaxial-stress solver against the closed-form response of linear-hardening J2 plasticity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
import torch

from constitutive.calibrate import Experiment, calibrate, run_config, uniaxial_stress_response
from constitutive.cli import main as cli_main
from constitutive.data import load_treloar
from constitutive.models import PathDependentMaterial, load
from constitutive.models.base import MODELS, Material
from constitutive.tensor import dev, eye, identity4_dev, identity4_vol, norm, trace

# ------------------------------------------------------------------------------------------ models for the tests


class _MooneyRivlinClosedForm(Material):
    """Incompressible Mooney--Rivlin, nominal stress written out (linear in C10, C01)."""

    def __init__(self, C10, C01, *, dtype=torch.float64, device=None):  # noqa: ANN001
        super().__init__(dtype=dtype, device=device)
        self._param("C10", C10)
        self._param("C01", C01)

    def nominal_stress(self, lam: torch.Tensor, mode: str) -> torch.Tensor:
        lam = torch.as_tensor(lam, dtype=self.dtype)
        if mode == "uniaxial":
            return 2 * (lam - lam**-2) * (self.C10 + self.C01 / lam)
        if mode == "equibiaxial":
            return 2 * (lam - lam**-5) * (self.C10 + self.C01 * lam**2)
        return 2 * (lam - lam**-3) * (self.C10 + self.C01)


class _OgdenClosedForm(Material):
    """Incompressible Ogden (Ogden's convention), nominal stress written out; rejects sum(mu alpha) <= 0."""

    def __init__(self, mu, alpha, *, dtype=torch.float64, device=None):  # noqa: ANN001
        super().__init__(dtype=dtype, device=device)
        self._param("mu", mu)
        self._param("alpha", alpha)
        if not self.mu.requires_grad and float((self.mu * self.alpha).sum()) <= 0:
            raise ValueError("parameter 'mu': sum(mu * alpha) must be positive")

    def nominal_stress(self, lam: torch.Tensor, mode: str) -> torch.Tensor:
        lam = torch.as_tensor(lam, dtype=self.dtype)[..., None]
        mu, a = self.mu, self.alpha
        lateral = {"uniaxial": -a / 2, "equibiaxial": -2 * a, "pure_shear": -a}[mode]
        return (mu * (lam ** (a - 1) - lam ** (lateral - 1))).sum(-1)


class _J2Linear(PathDependentMaterial):
    """Small-strain J2 plasticity with linear isotropic hardening, radial return (closed form)."""

    def __init__(self, E, nu, sigma_y, H, *, dtype=torch.float64, device=None):  # noqa: ANN001
        super().__init__(dtype=dtype, device=device)
        self._param("E", E, positive=True)
        self._param("nu", nu, below=0.5, above=-1.0)
        self._param("sigma_y", sigma_y, positive=True)
        self._param("H", H, nonnegative=True)

    def initial_state(self, batch_shape=()):  # noqa: ANN001
        z = torch.zeros((*batch_shape, 3, 3), dtype=self.dtype)
        return {"eps_p": z, "alpha": torch.zeros(batch_shape, dtype=self.dtype)}

    def update(self, strain, state, dt=None):  # noqa: ANN001
        G = self.E / (2 * (1 + self.nu))
        K = self.E / (3 * (1 - 2 * self.nu))
        eps_e = strain - state["eps_p"]
        s_trial = 2 * G * dev(eps_e)
        q = math.sqrt(1.5) * norm(s_trial)
        f = q - (self.sigma_y + self.H * state["alpha"])
        plastic = f > 0
        dgamma = torch.where(plastic, f / (3 * G + self.H), torch.zeros_like(f))
        n = 1.5 * s_trial / torch.clamp(q, min=1e-300)[..., None, None]  # df/dsigma
        s = s_trial - 2 * G * dgamma[..., None, None] * n
        sigma = s + K * trace(eps_e)[..., None, None] * eye(dtype=self.dtype)
        new = {"eps_p": state["eps_p"] + dgamma[..., None, None] * n, "alpha": state["alpha"] + dgamma}
        C = 3 * K * identity4_vol(dtype=self.dtype) + 2 * G * identity4_dev(dtype=self.dtype)
        if bool(plastic.any()):
            NN = torch.einsum("ij,kl->ijkl", n, n) * (2 / 3)  # unit normal N = n / sqrt(3/2), N x N
            theta = 1 - 3 * G * dgamma / q
            theta_bar = 3 * G / (3 * G + self.H) - 1 + theta  # Simo & Hughes (1998), Box 3.2
            Cp = 3 * K * identity4_vol(dtype=self.dtype) + 2 * G * theta * identity4_dev(dtype=self.dtype)
            Cp = Cp - 2 * G * theta_bar * NN
            C = torch.where(plastic, Cp, C)
        return sigma, new, C


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the test models by name for the duration of a test (for parameter files and configs)."""
    monkeypatch.setitem(MODELS, "_MooneyRivlinClosedForm", _MooneyRivlinClosedForm)
    monkeypatch.setitem(MODELS, "_OgdenClosedForm", _OgdenClosedForm)


def _treloar() -> list[Experiment]:
    return [load_treloar(m).experiment() for m in ("uniaxial", "equibiaxial", "pure_shear")]


def _mr_basis(exps: list[Experiment]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Design matrix of Mooney--Rivlin's nominal stress (linear in C10, C01), stacked over experiments."""
    rows, ys, blocks = [], [], []
    for e in exps:
        lam = e.x.numpy()
        if e.mode == "uniaxial":
            a, b = 2 * (lam - lam**-2), 2 * (lam - lam**-2) / lam
        elif e.mode == "equibiaxial":
            a, b = 2 * (lam - lam**-5), 2 * (lam - lam**-5) * lam**2
        else:
            a = b = 2 * (lam - lam**-3)
        block = np.stack([a, b], axis=1)
        rows.append(block)
        blocks.append(block)
        ys.append(e.y.numpy())
    return np.concatenate(rows), np.concatenate(ys), blocks


# -------------------------------------------------------------------------------------------- closed-form optima


@pytest.mark.parametrize("error", ["absolute", "relative", "normalised"])
def test_linear_model_matches_weighted_linear_least_squares(error: str) -> None:
    exps = _treloar()
    exps[1].weight = 2.5
    result = calibrate(_MooneyRivlinClosedForm, exps, {"C10": 0.1, "C01": 0.05}, error=error)
    A, y, blocks = _mr_basis(exps)
    # residual scale per point, written out independently for each measure
    scales = []
    for e in exps:
        yy = e.y.numpy()
        if error == "absolute":
            s = np.ones_like(yy)
        elif error == "relative":
            s = 1 / np.maximum(np.abs(yy), 0.01 * np.abs(yy).max())
        else:
            s = np.full_like(yy, 1 / (np.sqrt(np.mean(yy**2)) * np.sqrt(yy.size)))
        scales.append(s * np.sqrt(e.weight))
    w = np.concatenate(scales)
    coef, *_ = np.linalg.lstsq(A * w[:, None], y * w, rcond=None)
    np.testing.assert_allclose(result.x, coef, rtol=1e-9, atol=1e-12)
    # ordinary least-squares standard errors: s^2 (A^T W A)^-1
    r = (A @ coef - y) * w
    s2 = r @ r / (y.size - 2)
    cov = s2 * np.linalg.inv((A * w[:, None]).T @ (A * w[:, None]))
    np.testing.assert_allclose(result.covariance, cov, rtol=1e-6)
    np.testing.assert_allclose(
        [result.standard_errors["C10"], result.standard_errors["C01"]], np.sqrt(np.diag(cov)), rtol=1e-6
    )
    assert result.cost == pytest.approx(0.5 * r @ r, rel=1e-9)
    # rms per experiment in data units
    for e, blk in zip(exps, blocks):
        rms = np.sqrt(np.mean((blk @ coef - e.y.numpy()) ** 2))
        assert result.rms[e.name] == pytest.approx(rms, rel=1e-9)
    assert result.correlation[0, 1] == pytest.approx(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]), rel=1e-6)


def test_fixed_parameter_is_held_and_the_rest_is_the_reduced_least_squares_solution() -> None:
    exps = _treloar()[:1]
    result = calibrate(_MooneyRivlinClosedForm, exps, {"C10": 0.2}, fixed={"C01": 0.01})
    A, y, _ = _mr_basis(exps)
    c10 = float(A[:, 0] @ (y - 0.01 * A[:, 1]) / (A[:, 0] @ A[:, 0]))
    assert result.parameters == {"C10": pytest.approx(c10, rel=1e-10), "C01": 0.01}
    assert result.free == ["C10"]
    assert float(result.model.C01) == 0.01
    # fixed by name (held at its initial value)
    held = calibrate(_MooneyRivlinClosedForm, exps, {"C10": 0.2, "C01": 0.01}, fixed=["C01"])
    assert held.parameters["C10"] == pytest.approx(c10, rel=1e-10)


def test_bounds_are_honoured_and_reported() -> None:
    exps = _treloar()
    free = calibrate(_MooneyRivlinClosedForm, exps, {"C10": 0.2, "C01": 0.0})
    assert free.parameters["C01"] < 0  # the unconstrained optimum of this data is a slightly negative C01
    bounded = calibrate(_MooneyRivlinClosedForm, exps, {"C10": 0.2, "C01": 0.01}, bounds={"C01": (0.0, None)})
    assert bounded.parameters["C01"] == pytest.approx(0.0, abs=1e-9)
    assert bounded.at_bounds == ["C01"]
    assert bounded.cost >= free.cost


# ------------------------------------------------------------------------------------------------- AD Jacobian


@pytest.mark.parametrize("jacobian", ["reverse", "forward"])
def test_ad_jacobian_matches_central_differences(jacobian: str) -> None:
    exps = _treloar()
    x0 = {"mu": [0.6, 0.002, -0.01], "alpha": [1.4, 4.8, -1.9]}
    res = calibrate(_OgdenClosedForm, exps, x0, max_nfev=1, jacobian=jacobian, x_scale=1.0)
    J = res.jacobian  # at the first evaluation point (max_nfev=1: no accepted step)

    def r(theta: np.ndarray) -> np.ndarray:
        model = _OgdenClosedForm(theta[:3], theta[3:])
        return np.concatenate([(e.predict(model) - e.y).numpy() for e in exps])

    theta = np.array(x0["mu"] + x0["alpha"])
    fd = np.zeros_like(J)
    for k in range(theta.size):
        h = 1e-6 * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h
        tm[k] -= h
        fd[:, k] = (r(tp) - r(tm)) / (2 * h)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-7 * np.abs(fd).max())


def test_synthetic_ogden_data_are_recovered_with_tiny_standard_errors() -> None:
    true = _OgdenClosedForm([0.5, 0.01], [1.6, 5.0])
    exps = []
    for mode in ("uniaxial", "equibiaxial", "pure_shear"):
        lam = torch.linspace(1.05, 4.0, 15, dtype=torch.float64)
        exps.append(Experiment.rubber(mode, lam, true.nominal_stress(lam, mode)))
    res = calibrate(
        _OgdenClosedForm,
        exps,
        {"mu": [0.3, 0.05], "alpha": [2.0, 4.0]},
        bounds={"alpha": (0.1, 10.0), "mu": (0.0, 5.0)},
    )
    np.testing.assert_allclose(res.parameters["mu"], [0.5, 0.01], rtol=1e-6)
    np.testing.assert_allclose(res.parameters["alpha"], [1.6, 5.0], rtol=1e-6)
    assert max(res.rms.values()) < 1e-8
    assert all(se < 1e-6 for se in res.standard_errors.values())


def test_element_level_fixing_and_bounds_of_series_parameters() -> None:
    exps = _treloar()[:1]
    res = calibrate(
        _OgdenClosedForm,
        exps,
        {"mu": [0.6, 0.001, -0.01], "alpha": [1.3, 5.0, -2.0]},
        fixed=["alpha"],
        bounds={"mu[2]": (-1.0, 0.0)},
    )
    assert res.free == ["mu[0]", "mu[1]", "mu[2]"]
    assert res.parameters["alpha"] == [1.3, 5.0, -2.0]
    # with alpha fixed the model is linear in mu: compare with linear least squares
    lam = exps[0].x.numpy()[:, None]
    a = np.array([1.3, 5.0, -2.0])
    A = lam ** (a - 1) - lam ** (-a / 2 - 1)
    coef, *_ = np.linalg.lstsq(A, exps[0].y.numpy(), rcond=None)
    if coef[2] <= 0:  # the bound is inactive: the solutions coincide
        np.testing.assert_allclose(res.parameters["mu"], coef, rtol=1e-7, atol=1e-10)


def test_ogden_from_a_neutral_start_beats_ogdens_published_parameters_on_uniaxial_data() -> None:
    """The acceptance criterion, on a closed-form Ogden model (the library model is checked in the example)."""
    uni = load_treloar("uniaxial").experiment()
    published = _OgdenClosedForm([0.618, 0.00118, -0.00981], [1.3, 5.0, -2.0])
    with torch.no_grad():
        rms_published = float(torch.sqrt(torch.mean((uni.predict(published) - uni.y) ** 2)))
    res = calibrate(
        _OgdenClosedForm,
        uni,
        {"mu": [0.5, 0.01, -0.01], "alpha": [1.0, 4.0, -1.0]},
        bounds={"alpha[0]": (0.0, 10.0), "alpha[1]": (0.0, 15.0), "alpha[2]": (-10.0, 0.0)},
    )
    assert res.rms[uni.name] <= rms_published
    assert 0.3 < rms_published < 0.4  # MPa; Ogden's constants were fitted to all three modes


# ------------------------------------------------------------------------------------------ path-dependent route


def _uniaxial_closed_form(strain: np.ndarray, E: float, sigma_y: float, H: float) -> np.ndarray:
    """Linear-hardening J2 under monotonic uniaxial stress: sigma = E eps, then sigma_y + E H/(E + H) (eps - eps_y)."""
    eps_y = sigma_y / E
    return np.where(strain <= eps_y, E * strain, sigma_y + E * H / (E + H) * (strain - eps_y))


def test_uniaxial_stress_response_of_linear_hardening_j2_is_the_closed_form() -> None:
    model = _J2Linear(200e3, 0.3, 250.0, 1500.0)
    strain = torch.linspace(2e-4, 0.05, 30, dtype=torch.float64)
    sigma = uniaxial_stress_response(model, strain)
    np.testing.assert_allclose(sigma.numpy(), _uniaxial_closed_form(strain.numpy(), 200e3, 250.0, 1500.0), rtol=1e-10)


def test_j2_hardening_fit_through_the_incremental_solver_recovers_parameters() -> None:
    strain = np.linspace(5e-4, 0.04, 20)
    data = _uniaxial_closed_form(strain, 200e3, 250.0, 1500.0)
    exp = Experiment.uniaxial_stress(strain, data, name="synthetic")
    make = lambda sigma_y, H, E=200e3, nu=0.3: _J2Linear(E, nu, sigma_y, H)  # noqa: E731
    res = calibrate(make, exp, {"sigma_y": 300.0, "H": 500.0}, bounds={"sigma_y": (1.0, None), "H": (0.0, None)})
    assert res.parameters["sigma_y"] == pytest.approx(250.0, rel=1e-8)
    assert res.parameters["H"] == pytest.approx(1500.0, rel=1e-8)
    # its AD Jacobian (through update and the driver's implicit-function Newton correction) against central differences
    res1 = calibrate(make, exp, {"sigma_y": 240.0, "H": 1400.0}, max_nfev=1, x_scale=1.0)
    fd = np.zeros((len(exp), 2))
    for k, h in enumerate((1e-4, 1e-3)):
        p, m = [240.0, 1400.0], [240.0, 1400.0]
        p[k] += h
        m[k] -= h
        with torch.no_grad():
            fd[:, k] = (exp.predict(make(*p)) - exp.predict(make(*m))).numpy() / (2 * h)
    np.testing.assert_allclose(res1.jacobian, fd, rtol=1e-6, atol=1e-9)


def test_incremental_route_failures_and_time_increments() -> None:
    """The driver's failures surface as ConvergenceError (non-convergence, naming the point) or ValueError (the model
    rejects its input); a rate-dependent model needs dt, one per step or one for all."""
    from constitutive.models.base import ConvergenceError
    from constitutive.models.plasticity import J2Plasticity, Perzyna

    strain = torch.tensor([0.001, 0.02, 0.05], dtype=torch.float64)
    voce = J2Plasticity(200e3, 0.3, 250.0, hardening="voce", Q=300.0, b=50.0)
    with pytest.raises(ConvergenceError, match=r"point 1 \(axial strain 0.02\).*did not converge in 1 iterations"):
        uniaxial_stress_response(voce, strain, route="incremental", max_iter=1)
    viscous = Perzyna(200e3, 0.3, 250.0, 1000.0, eta=100.0)
    with pytest.raises(ValueError, match="rate-dependent: update needs the time increment"):
        uniaxial_stress_response(viscous, strain)
    with pytest.raises(ValueError, match=r"point 0 \(axial strain 0.001\).*dt must be finite and > 0"):
        uniaxial_stress_response(viscous, strain, dt=0.0)
    with pytest.raises(ValueError, match="one per point"):
        uniaxial_stress_response(viscous, strain, dt=[1.0, 2.0])
    # equal steps given once or per point agree; a slower test (larger dt) is softer: less viscous overstress
    with torch.no_grad():
        once = uniaxial_stress_response(viscous, strain, dt=0.5)
        each = uniaxial_stress_response(viscous, strain, dt=torch.full((3,), 0.5, dtype=torch.float64))
        slow = uniaxial_stress_response(viscous, strain, dt=50.0)
    assert torch.equal(once, each)
    assert bool((slow[1:] < once[1:]).all())


# ------------------------------------------------------------------------------------------- report and output


def test_progress_lines_and_callback(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[Mapping] = []
    res = calibrate(_MooneyRivlinClosedForm, _treloar(), {"C10": 0.1, "C01": 0.05}, verbose=1, callback=seen.append)
    err = capsys.readouterr().err
    assert "[calibrate _MooneyRivlinClosedForm] iter   1" in err
    assert [s["iteration"] for s in seen] == list(range(1, len(seen) + 1))
    assert seen[-1]["cost"] == pytest.approx(res.cost, rel=1e-9)
    assert res.njev == len(seen)


def test_report_figure_and_parameter_file_round_trip(tmp_path: Path, registered: None) -> None:
    res = calibrate(_MooneyRivlinClosedForm, _treloar(), {"C10": 0.1, "C01": 0.05})
    text = res.report()
    assert "| C10 |" in text and "| treloar_pure_shear | 14 |" in text and "doi:10.1039/tf9444000059" in text
    fig_path = tmp_path / "fit.png"
    res.plot(fig_path)
    assert fig_path.stat().st_size > 10_000
    p = res.save(tmp_path / "mr.toml", name="test rubber")
    back = load(p)
    assert isinstance(back, _MooneyRivlinClosedForm)
    assert float(back.C10) == res.parameters["C10"] and float(back.C01) == res.parameters["C01"]
    content = p.read_text()
    assert 'name = "test rubber"' in content and "rms_error" in content and "Treloar" in content
    assert 'units = "MPa"' in content  # the data's stress unit, in which the moduli were fitted


# ----------------------------------------------------------------------------------------------------- bad input


def test_bad_input_gives_clear_errors() -> None:
    exps = _treloar()[:1]
    with pytest.raises(ValueError, match=r"initial value of 'C01' = -1.0 is outside its bounds \[0.0, inf\]"):
        calibrate(_MooneyRivlinClosedForm, exps, {"C10": 0.2, "C01": -1.0}, bounds={"C01": (0.0, None)})
    with pytest.raises(ValueError, match=r"initial value of 'alpha\[1\]'"):
        calibrate(_OgdenClosedForm, exps, {"mu": [1.0, 0.1], "alpha": [1.0, 20.0]}, bounds={"alpha": (0.0, 10.0)})
    with pytest.raises(ValueError, match="fixed parameter 'C02' is not among"):
        calibrate(_MooneyRivlinClosedForm, exps, {"C10": 0.2, "C01": 0.0}, fixed=["C02"])
    with pytest.raises(ValueError, match="bounds given for 'K'"):
        calibrate(_MooneyRivlinClosedForm, exps, {"C10": 0.2, "C01": 0.0}, bounds={"K": (0, 1)})
    with pytest.raises(ValueError, match="every parameter is fixed"):
        calibrate(_MooneyRivlinClosedForm, exps, {"C10": 0.2, "C01": 0.0}, fixed=["C10", "C01"])
    with pytest.raises(ValueError, match="unknown error measure 'squared'"):
        calibrate(_MooneyRivlinClosedForm, exps, {"C10": 0.2, "C01": 0.0}, error="squared")
    with pytest.raises(ValueError, match="rejects the initial parameters.*sum\\(mu \\* alpha\\)"):
        calibrate(_OgdenClosedForm, exps, {"mu": [1.0], "alpha": [-1.0]})
    with pytest.raises(ValueError, match="lower 2.0 must be below upper 1.0"):
        calibrate(_MooneyRivlinClosedForm, exps, {"C10": 0.2, "C01": 0.0}, bounds={"C10": (2.0, 1.0)})


def test_bad_experiments_are_refused() -> None:
    with pytest.raises(ValueError, match=r"x \(load path\) holds a non-finite value \(nan\) at index 1"):
        Experiment.rubber("uniaxial", [1.0, float("nan")], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"y \(measured response\) holds a non-finite"):
        Experiment.rubber("uniaxial", [1.0, 1.1], [0.0, float("inf")])
    with pytest.raises(ValueError, match=r"strictly increasing.*index 2"):
        Experiment.rubber("uniaxial", [1.0, 1.2, 1.1], [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="x has 2 points but y has 3"):
        Experiment.uniaxial_stress([0.1, 0.2], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="unknown mode 'torsion'"):
        Experiment(name="t", mode="torsion", x=[1.0], y=[1.0])
    with pytest.raises(ValueError, match="weight must be positive"):
        Experiment.rubber("uniaxial", [1.0, 1.1], [0.0, 1.0], weight=0.0)
    # a non-monotonic path is accepted when the experiment says so (e.g. a cyclic test)
    assert len(Experiment.uniaxial_stress([0.1, 0.2, 0.1], [1.0, 2.0, 1.0], monotonic=False)) == 3
    with pytest.raises(ValueError, match="names must be unique"):
        calibrate(_MooneyRivlinClosedForm, [_treloar()[0]] * 2, {"C10": 0.2, "C01": 0.0})


def test_a_model_without_nominal_stress_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="_J2Linear has no nominal_stress"):
        calibrate(lambda sigma_y: _J2Linear(200e3, 0.3, sigma_y, 0.0), _treloar()[:1], {"sigma_y": 1.0})


# -------------------------------------------------------------------------------------------------- config, CLI

CONFIG = """
model = "_MooneyRivlinClosedForm"
name = "rubber_mr"
error = "normalised"

[initial]
C10 = 0.1
C01 = 0.01

[bounds]
C10 = [0.0, 10.0]

[metadata]
units = "MPa"

[[experiments]]
name = "uniaxial"
file = "treloar_uniaxial.csv"
mode = "uniaxial"
x = "stretch"
y = "nominal_stress_kgf_per_cm2"
y_scale = 0.0980665

[[experiments]]
name = "biaxial"
file = "treloar_equibiaxial.csv"
mode = "equibiaxial"
x = "stretch"
y = "nominal_stress_kgf_per_cm2"
y_scale = 0.0980665
points = 9
"""


def test_cli_calibrate_writes_parameter_file_report_and_figure(
    tmp_path: Path, registered: None, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "fit.toml"
    cfg.write_text(CONFIG)
    code = cli_main(["calibrate", str(cfg), "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "| uniaxial | 25 |" in out and "| biaxial | 9 |" in out
    model = load(tmp_path / "out" / "rubber_mr.toml")
    # same numbers as the Python API with the same settings
    exps = [
        load_treloar("uniaxial").experiment(name="uniaxial"),
        load_treloar("equibiaxial").experiment(name="biaxial").subsample(9),
    ]
    direct = calibrate(
        _MooneyRivlinClosedForm, exps, {"C10": 0.1, "C01": 0.01}, error="normalised", bounds={"C10": (0.0, 10.0)}
    )
    assert float(model.C10) == pytest.approx(direct.parameters["C10"], rel=1e-10)
    assert (tmp_path / "out" / "rubber_mr_report.md").read_text().startswith("# Calibration of _MooneyRivlinClosedForm")
    assert (tmp_path / "out" / "rubber_mr.png").exists()
    assert 'units = "MPa"' in (tmp_path / "out" / "rubber_mr.toml").read_text()


def test_config_errors(tmp_path: Path, registered: None, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(CONFIG.replace('y = "nominal_stress_kgf_per_cm2"\ny_scale = 0.0980665\n\n[[', 'y = "stress"\n\n[['))
    assert cli_main(["calibrate", str(cfg), "--quiet"]) == 2
    assert "missing column(s) ['stress']" in capsys.readouterr().err
    with pytest.raises(ValueError, match="missing 'initial'"):
        run_config({"model": "_MooneyRivlinClosedForm", "experiments": []})
    with pytest.raises(ValueError, match="unknown key"):
        run_config({"model": "x", "initial": {}, "experiments": [], "colour": 1})


# ----------------------------------------------------------------------------------- the library's real models

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _example(name: str):  # noqa: ANN202
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_real_neo_hookean_and_mooney_rivlin_joint_fits_are_the_linear_least_squares_solutions() -> None:
    from constitutive.models.hyperelastic import MooneyRivlin, NeoHookean

    exps = _treloar()
    A, y, _ = _mr_basis(exps)
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    mr = calibrate(MooneyRivlin, exps, {"C10": 0.2, "C01": 0.01})
    np.testing.assert_allclose([mr.parameters["C10"], mr.parameters["C01"]], coef, rtol=1e-8)
    # neo-Hookean (incompressible): P = mu (lam - lam^-2) ... = 2 C10 (...) with C01 = 0, C10 = mu / 2
    mu = float(A[:, 0] @ y / (A[:, 0] @ A[:, 0])) * 2
    nh = calibrate(NeoHookean, exps, {"mu": 0.5})
    assert nh.parameters["mu"] == pytest.approx(mu, rel=1e-8)


def test_real_j2_routes_agree_and_the_jacobian_matches_central_differences() -> None:
    from constitutive.models.plasticity import J2Plasticity

    strain = torch.linspace(1e-3, 0.1, 12, dtype=torch.float64)
    for kw in (
        {"hardening": "voce", "Q": 300.0, "b": 8.0, "sigma_y": 350.0},
        {"hardening": "swift", "K": 840.0, "eps0": 0.01, "n": 0.21},
    ):
        model = J2Plasticity(210e3, 0.3, **kw)
        with torch.no_grad():
            a = uniaxial_stress_response(model, strain, route="flow_stress")
            b = uniaxial_stress_response(model, strain, route="incremental")
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)
    exp = Experiment.uniaxial_stress(strain, a * 1.01, name="synthetic")
    make = lambda K, eps0, n: J2Plasticity(210e3, 0.3, None, hardening="swift", K=K, eps0=eps0, n=n)  # noqa: E731
    x0 = [800.0, 0.02, 0.25]
    res = calibrate(make, exp, dict(zip(("K", "eps0", "n"), x0)), max_nfev=1, x_scale=1.0)
    fd = np.zeros((len(exp), 3))
    for k in range(3):
        h = 1e-6 * x0[k]
        p, m = list(x0), list(x0)
        p[k] += h
        m[k] -= h
        with torch.no_grad():
            fd[:, k] = (exp.predict(make(*p)) - exp.predict(make(*m))).numpy() / (2 * h)
    np.testing.assert_allclose(res.jacobian, fd, rtol=1e-6)
    # a non-monotonic history falls back to the incremental route; the flow-stress route refuses it
    with pytest.raises(ValueError, match="monotonic"):
        uniaxial_stress_response(model, torch.tensor([0.01, 0.005], dtype=torch.float64), route="flow_stress")


def test_treloar_example_meets_the_acceptance_criterion(tmp_path: Path) -> None:
    numbers = _example("calibrate_treloar").main(tmp_path, quick=True)
    # Ogden's published constants on the uniaxial data, by an independent closed-form Ogden
    uni = load_treloar("uniaxial").experiment()
    pub = _OgdenClosedForm([0.618, 0.00118, -0.00981], [1.3, 5.0, -2.0])
    with torch.no_grad():
        rms_pub = float(torch.sqrt(torch.mean((uni.predict(pub) - uni.y) ** 2)))
    assert numbers["ogden_uniaxial_rms_published"] == pytest.approx(rms_pub, rel=1e-10)
    assert numbers["ogden_uniaxial_rms_fitted"] <= rms_pub
    # the joint Ogden fit is better than the published constants in every mode
    for mode, rms in numbers["joint_rms"]["Ogden"].items():
        assert rms <= numbers["ogden_published_rms"][mode]
    assert all(numbers["joint_success"].values())
    # two-parameter models cannot follow the upturn: neo-Hookean and Mooney-Rivlin are far worse in uniaxial
    assert numbers["joint_rms"]["NeoHookean"]["uniaxial"] > 5 * numbers["joint_rms"]["Ogden"]["uniaxial"]
    assert "| Ogden (1972) published |" in numbers["table"]
    assert all(Path(f).stat().st_size > 20_000 for f in numbers["figures"])


def test_steel_example_fits_voce_and_swift(tmp_path: Path) -> None:
    numbers = _example("calibrate_steel").main(tmp_path, quick=True, materials_dir=tmp_path)
    assert numbers["uts"] == pytest.approx(497.01828)
    assert all(numbers["success"].values())
    assert max(numbers["route_difference"].values()) < 1e-10
    # Swift follows this curve better than Voce (no saturation before the UTS); both within 2 % rms
    assert numbers["rms"]["Swift"] < numbers["rms"]["Voce"]
    assert max(numbers["relative_rms"].values()) < 0.02
    voce, swift = numbers["parameters"]["Voce"], numbers["parameters"]["Swift"]
    assert 300 < voce["sigma_y"] < 400 and 0.15 < swift["n"] < 0.3
    # Considere: at the UTS the true stress equals the hardening slope; the Swift fit must roughly agree
    eps_u = np.log1p(0.25905)
    slope = swift["K"] * swift["n"] * (swift["eps0"] + eps_u) ** (swift["n"] - 1)
    assert slope == pytest.approx(numbers["final_true_stress"], rel=0.25)
    model = load(tmp_path / "steel_st1594_j2_swift_fit.toml")
    assert float(model.n) == swift["n"] and model.hardening == "swift"


@pytest.mark.parametrize("config,max_nfev", [("steel_voce.toml", None), ("treloar_ogden.toml", 5)])
def test_example_configs_run(tmp_path: Path, config: str, max_nfev: int | None) -> None:
    overrides = {"max_nfev": max_nfev} if max_nfev else {}
    result, paths = run_config(EXAMPLES / "calibration" / config, tmp_path, verbose=0, **overrides)
    assert all(p.exists() for p in paths.values())
    if max_nfev is None:
        assert result.success and max(result.relative_rms.values()) < 0.02
    assert "Source:" in paths["parameters"].read_text()


def test_incremental_route_on_a_cyclic_path_matches_the_driver_and_its_jacobian_matches_differences() -> None:
    """Armstrong-Frederick + Voce J2 under tension-compression: no closed form; the incremental route (the driver
    with differentiable=True) is checked against an ordinary driver run and its AD Jacobian against central
    differences."""
    from constitutive.driver import drive
    from constitutive.models.plasticity import J2Plasticity
    from constitutive.paths import uniaxial_stress as uniaxial_stress_path

    strain = torch.tensor([0.001, 0.003, 0.006, 0.002, -0.004, -0.001, 0.005], dtype=torch.float64)
    x0 = {"sigma_y": 250.0, "Q": 100.0, "b": 20.0, "C": [20000.0], "gamma": [150.0]}
    fixed = {"E": 200e3, "nu": 0.3, "H": 0.0}
    model = J2Plasticity(**fixed, **x0, hardening="voce")
    with torch.no_grad():
        ours = uniaxial_stress_response(model, strain)
    driven = drive(model, uniaxial_stress_path(strain.tolist(), increments=1)).stress[1:, 0, 0]
    np.testing.assert_allclose(ours.numpy(), driven.numpy(), rtol=1e-9, atol=1e-8)
    exp = Experiment.uniaxial_stress(strain, ours * 1.02, monotonic=False, name="cyclic")
    res = calibrate(J2Plasticity, exp, x0, fixed=fixed, options={"hardening": "voce"}, max_nfev=1, x_scale=1.0)
    assert res.free == ["sigma_y", "Q", "b", "C[0]", "gamma[0]"]
    flat = [250.0, 100.0, 20.0, 20000.0, 150.0]

    def predict(v: list[float]) -> np.ndarray:
        m = J2Plasticity(**fixed, sigma_y=v[0], Q=v[1], b=v[2], C=[v[3]], gamma=[v[4]], hardening="voce")
        with torch.no_grad():
            return exp.predict(m).numpy()

    fd = np.zeros((len(exp), 5))
    for k in range(5):
        h = 1e-6 * flat[k]
        p, m = list(flat), list(flat)
        p[k] += h
        m[k] -= h
        fd[:, k] = (predict(p) - predict(m)) / (2 * h)
    np.testing.assert_allclose(res.jacobian, fd, rtol=1e-6, atol=1e-7 * np.abs(fd).max())


@pytest.mark.parametrize("jacobian", ["reverse", "forward"])
def test_real_ogden_jacobian_matches_central_differences(jacobian: str) -> None:
    """Automatic differentiation through the library's Ogden.nominal_stress (itself built on torch.func)."""
    from constitutive.models.hyperelastic import Ogden

    exps = [e.subsample(8) for e in _treloar()]
    x0 = {"mu": [0.6, 0.002, -0.01], "alpha": [1.4, 4.8, -1.9]}
    res = calibrate(Ogden, exps, x0, max_nfev=1, jacobian=jacobian, x_scale=1.0)
    theta = np.array(x0["mu"] + x0["alpha"])

    def r(t: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return np.concatenate([(e.predict(Ogden(t[:3], t[3:])) - e.y).numpy() for e in exps])

    fd = np.zeros_like(res.jacobian)
    for k in range(6):
        h = 1e-6 * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h
        tm[k] -= h
        fd[:, k] = (r(tp) - r(tm)) / (2 * h)
    np.testing.assert_allclose(res.jacobian, fd, rtol=1e-6, atol=1e-7 * np.abs(fd).max())


def test_standard_errors_stay_square_roots_when_one_parameter_is_not_identifiable() -> None:
    """A parameter the residuals do not depend on gets NaN; the others keep sqrt(s² (aᵀa)⁻¹), s² = rᵀr/(m - n)."""
    exps = _treloar()[:1]
    make = lambda C10, unused: _MooneyRivlinClosedForm(C10, 0.0)  # noqa: E731
    res = calibrate(make, exps, {"C10": 0.2, "unused": 1.0})
    A, y, _ = _mr_basis(exps)
    a = A[:, 0]
    c10 = float(a @ y / (a @ a))
    r = a * c10 - y
    s2 = float(r @ r) / (y.size - 2)  # two free parameters
    assert res.parameters["C10"] == pytest.approx(c10, rel=1e-6)  # trf stops by ftol here: J has a zero column
    c10 = res.parameters["C10"]
    assert res.standard_errors["C10"] == pytest.approx(math.sqrt(s2 / float(a @ a)), rel=1e-6)
    assert math.isnan(res.standard_errors["unused"])
    assert f"| C10 | {c10:.6g} | {res.standard_errors['C10']:.3g} |" in res.parameter_table()


def test_forward_jacobian_through_the_incremental_route_equals_reverse() -> None:
    """jacfwd's dual numbers pass through the driver's Newton iterations (no_grad does not stop forward mode); at
    convergence the result equals the reverse-mode implicit-function Jacobian."""
    from constitutive.models.plasticity import J2Plasticity

    strain = np.linspace(1e-3, 0.02, 5)
    exp = Experiment.uniaxial_stress(strain, 300 + 1000 * strain, settings={"route": "incremental"})
    make = lambda sigma_y, H: J2Plasticity(210e3, 0.3, sigma_y, H=H, hardening="voce", Q=100.0, b=10.0)  # noqa: E731
    x0 = {"sigma_y": 250.0, "H": 900.0}
    fwd = calibrate(make, exp, x0, jacobian="forward", max_nfev=1, x_scale=1.0)
    rev = calibrate(make, exp, x0, jacobian="reverse", max_nfev=1, x_scale=1.0)
    assert fwd.jacobian_method == "forward"
    np.testing.assert_allclose(fwd.jacobian, rev.jacobian, rtol=1e-10, atol=1e-12)
    assert np.abs(rev.jacobian[1:]).min() > 1e-3  # plastic points depend on both parameters


@pytest.mark.parametrize("dt", [0.5, [0.5, 1.0, 2.0]], ids=["one_dt", "dt_per_point"])
def test_plot_of_a_rate_dependent_fit_is_drawn_at_the_data_points(tmp_path: Path, dt) -> None:  # noqa: ANN001
    """A rate-dependent response depends on the time increments of the data points: the figure must not re-run
    it on a finer strain grid (another strain rate), and per-point increments fit no other grid."""
    import matplotlib

    matplotlib.use("Agg")
    from constitutive.models.plasticity import Perzyna

    strain = np.array([0.001, 0.02, 0.05])
    exp = Experiment.uniaxial_stress(strain, [200.0, 330.0, 380.0], settings={"dt": dt}, name="viscous")
    make = lambda sigma_y: Perzyna(200e3, 0.3, sigma_y, 1000.0, eta=100.0)  # noqa: E731
    res = calibrate(make, exp, {"sigma_y": 250.0}, max_nfev=2)
    fig = res.plot(None)
    line = fig.axes[0].lines[1].get_xydata()
    np.testing.assert_allclose(line[:, 0], strain, rtol=1e-15)
    np.testing.assert_allclose(line[:, 1], res.predictions[0], rtol=1e-12)


# --------------------------------------------------------------------------------------------------------------
# Units: stated per experiment, used in labels and the report; implausible data warned about (issue 9)
# --------------------------------------------------------------------------------------------------------------


def test_shipped_data_are_plausible_for_their_units() -> None:
    from constitutive.data import load_tension_test

    exps = _treloar() + [load_tension_test(f).experiment(points=20) for f in ("tension_St1594.csv",)]
    for e in exps:
        assert e.stress_unit == "MPa" and e.plausibility() == [], e.name
    assert exps[0].y_label == "nominal stress (MPa)"


def test_units_reach_labels_and_report_and_kpa_rubber_data_warn() -> None:
    e = load_treloar("uniaxial").experiment()
    kpa = Experiment.rubber("uniaxial", e.x, e.y * 1000.0, name="uniaxial_kPa", stress_unit="kPa")
    assert kpa.y_label == "nominal stress (kPa)" and kpa.plausibility() == []  # stated correctly: plausible
    mislabelled = Experiment.rubber("uniaxial", e.x, e.y * 1000.0, name="uniaxial_in_kPa")  # says MPa
    assert any("exceed 100 MPa" in m and "kPa" in m for m in mislabelled.plausibility())
    with pytest.warns(UserWarning, match="implausible for rubber"):
        res = calibrate(_MooneyRivlinClosedForm, [mislabelled], {"C10": 100.0, "C01": 10.0})
    report = res.report()
    assert "## Warnings" in report and "implausible for rubber" in report
    ok = calibrate(_MooneyRivlinClosedForm, [kpa], {"C10": 100.0, "C01": 10.0})
    assert "stress unit of the data (and of the fitted moduli): kPa" in ok.report() and "## Warnings" not in ok.report()
    assert "| kPa |" in ok.error_table()


def test_kpa_metal_data_and_percent_strain_warn() -> None:
    strain = np.linspace(5e-4, 0.04, 20)
    sigma = _uniaxial_closed_form(strain, 200e3, 250.0, 1500.0)
    assert Experiment.uniaxial_stress(strain, sigma).plausibility() == []
    kpa = Experiment.uniaxial_stress(strain, sigma * 1000.0, name="kpa")
    assert any("exceed 10000 MPa" in m for m in kpa.plausibility())
    percent = Experiment.uniaxial_stress(strain * 100.0, sigma, name="percent")
    assert any("strain in percent" in m for m in percent.plausibility())
    tiny = Experiment.uniaxial_stress(strain, sigma * 1e-6, name="tiny")
    assert any("below 0.001 MPa" in m for m in tiny.plausibility())
    # an unknown unit skips the stress bounds (the strain rule still applies)
    assert Experiment.uniaxial_stress(strain, sigma * 1000.0, stress_unit="bar").plausibility() == []
    make = lambda sigma_y, H, E=200e3, nu=0.3: _J2Linear(E, nu, sigma_y, H)  # noqa: E731
    with pytest.warns(UserWarning, match="strain in percent"):
        res = calibrate(make, percent, {"sigma_y": 300.0, "H": 500.0}, max_nfev=2)
    assert any("strain in percent" in w for w in res.warnings)
    with pytest.raises(ValueError, match="stress_unit must be a non-empty string"):
        Experiment.uniaxial_stress(strain, sigma, stress_unit=" ")
