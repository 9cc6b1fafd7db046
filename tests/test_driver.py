"""The material-point driver (constitutive.driver) and load paths (constitutive.paths).

Independent references: closed-form J2 solutions (uniaxial stress by a scalar 1-D return map, simple shear,
uniaxial strain), the hardening law itself (Voce, Swift), finite differences (tangent check), linear elasticity
solved by a direct 6x6 compliance solve, Saint Venant--Kirchhoff uniaxial stress in closed form, batch vs one at a
time, and hand-written TOML files run through the CLI.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import torch

from constitutive import paths
from constitutive.cli import main as cli_main
from constitutive.driver import DriverError, DriveResult, drive, load_path_file, run_path_file
from constitutive.models.elastic import Anisotropic, LinearElastic
from constitutive.models.hyperelastic import NeoHookean, SaintVenantKirchhoff
from constitutive.models.plasticity import ArmstrongFrederick, Chaboche, J2Plasticity, Perzyna, Prager, Swift, Voce
from constitutive.notation import to_mandel
from constitutive.paths import LoadPath, Segment

E_, NU, SY = 200e3, 0.3, 250.0
G_ = E_ / (2 * (1 + NU))
K_ = E_ / (3 * (1 - 2 * NU))
REPO = Path(__file__).resolve().parents[1]


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


def uniaxial_1d(strain: torch.Tensor, E: float, sy: float, H: float, C: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Scalar 1-D return map (the uniaxial reduction of J2 with linear isotropic H and Prager C) along the strain
    history ``strain (n,)``: returns (stress, plastic strain)."""
    eps_p = alpha = 0.0
    sig_out, ep_out = [], []
    for e in strain.tolist():
        trial = E * (e - eps_p)
        xi = trial - C * eps_p
        f = abs(xi) - (sy + H * alpha)
        if f > 0:
            dg = f / (E + C + H)
            eps_p += dg * math.copysign(1.0, xi)
            alpha += dg
        sig_out.append(E * (e - eps_p))
        ep_out.append(eps_p)
    return torch.tensor(sig_out, dtype=torch.float64), torch.tensor(ep_out, dtype=torch.float64)


# ------------------------------------------------------------------------------------------- J2 closed forms
@pytest.mark.parametrize("H, C", [(2000.0, 0.0), (1000.0, 3000.0), (0.0, 5000.0)])
def test_j2_uniaxial_stress_cyclic_matches_1d_closed_form(H: float, C: float) -> None:
    model = J2Plasticity(E_, NU, SY, H, kinematic=Prager(C) if C else None)
    path = paths.cyclic("uniaxial_stress", 0.006, cycles=1, increments=7)
    res = drive(model, path)
    assert res.completed and res.n_steps == 7 + 14 + 14
    eps = res.column("strain_11")
    sig_ref, ep_ref = uniaxial_1d(eps, E_, SY, H, C)
    assert rel_err(res.column("stress_11"), sig_ref) < 1e-10
    # Lateral strain: elastic contraction plus isochoric plastic flow.
    lateral = -NU * sig_ref / E_ - ep_ref / 2
    assert rel_err(res.column("strain_22"), lateral) < 1e-10
    assert rel_err(res.column("strain_33"), lateral) < 1e-10
    # Mixed control: the stress-controlled components are zero to solver tolerance.
    for c in ("22", "33", "23", "13", "12"):
        assert float(res.column(f"stress_{c}").abs().max()) < 1e-9 * SY
    assert float(res.state["eps_p"][-1, 0, 0]) == pytest.approx(float(ep_ref[-1]), rel=1e-10)


@pytest.mark.parametrize("H, C", [(2000.0, 0.0), (1000.0, 3000.0)])
def test_j2_simple_shear_closed_form(H: float, C: float) -> None:
    model = J2Plasticity(E_, NU, SY, H, kinematic=Prager(C) if C else None)
    res = drive(model, paths.simple_shear([0.01], increments=12))
    gamma = 2 * res.column("strain_12")
    # tau = G (gamma - gamma_p); sqrt3 (tau - C gamma_p / 3) = sigma_y + H gamma_p / sqrt3.
    gamma_p = ((G_ * gamma - SY / math.sqrt(3)) / (G_ + (H + C) / 3)).clamp_min(0.0)
    tau = G_ * (gamma - gamma_p)
    assert rel_err(res.column("stress_12"), tau) < 1e-10
    assert float(gamma_p[-1]) > 0.005  # well into the plastic range
    assert rel_err(res.state["alpha"], gamma_p / math.sqrt(3)) < 1e-10
    for c in ("11", "22", "33", "23", "13"):
        assert float(res.column(f"stress_{c}").abs().max()) < 1e-9 * SY
    assert int(res.iterations.max()) == 0  # fully strain-controlled: no Newton iterations


def test_j2_uniaxial_strain_closed_form() -> None:
    H, C = 1500.0, 2500.0
    model = J2Plasticity(E_, NU, SY, H, kinematic=Prager(C))
    res = drive(model, paths.uniaxial_strain([0.008], increments=9))
    e = res.column("strain_11")
    a = ((2 * G_ * e - SY) / (3 * G_ + H + C)).clamp_min(0.0)  # plastic strain eps_p11
    s11 = 2 * G_ * (2 * e / 3 - a)
    assert rel_err(res.column("stress_11"), K_ * e + s11) < 1e-10
    assert rel_err(res.column("stress_22"), K_ * e - s11 / 2) < 1e-10
    assert rel_err(res.column("stress_33"), K_ * e - s11 / 2) < 1e-10
    assert float(a[-1]) > 0


@pytest.mark.parametrize(
    "hardening, law",
    [
        (Voce(300.0, 15.0), lambda a: SY + 300.0 * (1 - torch.exp(-15.0 * a))),
        (Swift(600.0, 0.01, 0.2), lambda a: 600.0 * (0.01 + a) ** 0.2),
    ],
)
def test_nonlinear_hardening_uniaxial_stress_follows_the_law(hardening: object, law: Callable) -> None:
    sy = None if isinstance(hardening, Swift) else SY
    model = J2Plasticity(E_, NU, sy, hardening=hardening)
    res = drive(model, paths.uniaxial_stress([0.03], increments=15))
    sig, eps = res.column("stress_11"), res.column("strain_11")
    eps_p = eps - sig / E_
    plastic = eps_p > 1e-12
    assert int(plastic.sum()) >= 12
    assert rel_err(sig[plastic], law(eps_p[plastic])) < 1e-9
    # Newton residuals at convergence are within the recorded tolerance.
    assert bool((res.final_residuals() <= res.tolerance).all())


# ------------------------------------------------------------------------------ tangent check along a cycle
ISOTROPIC = {
    "linear": {"H": 2000.0},
    "voce": {"hardening": Voce(200.0, 20.0)},
    "swift": {"hardening": Swift(700.0, 0.005, 0.15)},
}
KINEMATIC = {
    "none": None,
    "prager": Prager(10000.0),
    "af": ArmstrongFrederick(20000.0, 150.0),
    "chaboche": Chaboche([20000.0, 5000.0], [200.0, 0.0]),
}


@pytest.mark.parametrize("kin", list(KINEMATIC))
@pytest.mark.parametrize("iso", list(ISOTROPIC))
def test_consistent_tangent_passes_fd_check_at_every_step_of_a_cycle(iso: str, kin: str) -> None:
    kw = dict(ISOTROPIC[iso])
    sy = None if iso == "swift" else SY
    model = J2Plasticity(E_, NU, sy, kinematic=KINEMATIC[kin], **kw)
    # Tension-compression cycle, then shear at held axial stress (non-proportional, back stress misaligned).
    path = paths.cyclic("uniaxial_stress", 0.0055, cycles=1, increments=3) + LoadPath(
        [Segment({"12": 0.004}, {"11": 0.0, "22": 0.0, "33": 0.0, "23": 0.0, "13": 0.0}, increments=2)]
    )
    res = drive(model, path, check_tangent=True, tangent_tolerance=1e-6)
    assert res.tangent_error is not None and res.tangent_error.shape == (res.n_steps + 1,)
    assert float(res.tangent_error.max()) < 1e-6, res.summary()
    assert "tangent check: PASS" in res.summary()
    # The cycle visits loading, elastic unloading and reverse yielding.
    dalpha = res.state["alpha"].diff()
    assert bool((dalpha[:3] > 0).any()) and bool((dalpha[3:5] == 0).any()) and bool((dalpha[5:9] > 0).any())


def test_tangent_check_detects_a_wrong_tangent() -> None:
    model = J2Plasticity(E_, NU, SY, hardening=Voce(200.0, 20.0))
    res = drive(model, paths.uniaxial_stress([0.01], increments=4), tangent="continuum", check_tangent=True)
    assert float(res.tangent_error.max()) > 1e-3
    assert "tangent check: FAIL" in res.summary()


# ------------------------------------------------------------------------------------ Newton convergence
def tension_torsion() -> LoadPath:
    """Tension into the plastic range, then shear at constant axial stress: the residual is not along n."""
    free = {"22": 0.0, "33": 0.0, "23": 0.0, "13": 0.0}
    return LoadPath(
        [Segment({"11": 0.004}, {**free, "12": 0.0}, increments=4), Segment({"12": 0.006}, {**free, "11": 300.0}, 4)]
    )


def normalised_histories(res: DriveResult) -> list[torch.Tensor]:
    out = []
    for k in range(1, res.n_steps + 1):
        h = res.residuals[k]
        out.append(h[torch.isfinite(h)] / (res.tolerance[k] / 1e-12))
    return out


def test_mixed_newton_converges_quadratically_with_the_consistent_tangent() -> None:
    model = J2Plasticity(E_, NU, SY, hardening=Voce(200.0, 20.0))
    res = drive(model, tension_torsion())
    orders = []
    for rho in normalised_histories(res):
        for r0, r1, r2 in zip(rho[:-2].tolist(), rho[1:-1].tolist(), rho[2:].tolist()):
            # Asymptotic range (below the elastic/plastic switching of the first iterates) and above round-off:
            # the observed order log(r2/r1) / log(r1/r0).
            if r1 < 2e-3 and r2 > 1e-13:
                orders.append(math.log(r2 / r1) / math.log(r1 / r0))
    assert len(orders) >= 5
    assert min(orders) > 1.8 and max(orders) > 1.95, orders
    assert int(res.line_search_halvings.sum()) == 0
    assert int(res.iterations.max()) <= 8
    assert int(res.iterations[5:].min()) >= 3  # the torsion steps do need Newton


def test_continuum_tangent_loses_quadratic_convergence() -> None:
    model = J2Plasticity(E_, NU, SY, hardening=Voce(200.0, 20.0))
    cons = drive(model, tension_torsion())
    cont = drive(model, tension_torsion(), tangent="continuum", max_iter=200)
    assert torch.allclose(cont.stress, cons.stress, rtol=0, atol=1e-6)  # same solution...
    assert int(cont.iterations[5:].min()) > 3 * int(cons.iterations[5:].max())  # ...far more iterations
    rho = normalised_histories(cont)[5]
    orders = torch.log(rho[2:] / rho[1:-1]) / torch.log(rho[1:-1] / rho[:-2])
    assert bool((orders.abs() - 1.0).abs().max() < 0.1)  # order 1: linear convergence
    ratios = rho[1:] / rho[:-1]
    assert bool((ratios[-5:] > 0.2).all())  # a constant contraction factor
    with pytest.raises(DriverError, match="did not converge in 10 iterations"):
        drive(model, tension_torsion(), tangent="continuum", max_iter=10)


# ---------------------------------------------------------------------------------------- batch and models
def test_batch_equals_points_one_at_a_time() -> None:
    model = J2Plasticity(E_, NU, SY, hardening=Voce(200.0, 20.0), kinematic=Prager(10000.0))
    amps = torch.tensor([[0.002, 0.006, 0.012], [-0.004, -0.002, 0.0]])  # (keypoints, points)
    res = drive(model, paths.uniaxial_stress(amps, increments=5))
    assert res.batch_shape == (3,)
    for p in range(3):
        one = drive(model, paths.uniaxial_stress(amps[:, p].tolist(), increments=5))
        assert torch.allclose(res.stress[:, p], one.stress, rtol=0, atol=1e-9)
        assert torch.allclose(res.strain[:, p], one.strain, rtol=0, atol=1e-14)
        assert torch.equal(res.iterations[:, p], one.iterations)


@pytest.mark.parametrize("by", ["strain", "stress"])
@pytest.mark.parametrize("mode", paths.MODES)
def test_every_mode_on_linear_elasticity_matches_a_direct_compliance_solve(mode: str, by: str) -> None:
    model = LinearElastic(E_, NU)
    a = 0.002 if by == "strain" else 300.0
    res = drive(model, paths.standard_path(mode, [a, -a / 2], increments=2, by=by))
    seg = res.control[-1]
    target = paths.standard_path(mode, [-a / 2], by=by).segments[0]
    eps, sig = res.components("strain")[-1], res.components("stress")[-1]
    for i, c in enumerate(paths.SMALL_LABELS):
        if seg[i] == "strain":
            assert float(eps[i]) == pytest.approx(float(target.strain[c]), rel=1e-15, abs=1e-18)
        else:
            assert float(sig[i]) == pytest.approx(float(target.stress[c]), abs=1e-11 * float(sig.abs().max()))
    # Independent route: the closed-form isotropic stiffness in Mandel form (orthonormal: shear rows and columns
    # carry factor 2 on the 2G diagonal), partitioned by hand and solved directly for the unknown strains.
    lam = E_ * NU / ((1 + NU) * (1 - 2 * NU))
    Cm = torch.zeros(6, 6, dtype=torch.float64)
    Cm[:3, :3] = lam
    Cm += 2 * G_ * torch.eye(6, dtype=torch.float64)
    w = torch.tensor([1.0, 1.0, 1.0, math.sqrt(2), math.sqrt(2), math.sqrt(2)], dtype=torch.float64)
    s_ = torch.tensor([c == "stress" for c in seg])
    e_known = torch.tensor([float(target.strain.get(c, 0.0)) for c in paths.SMALL_LABELS], dtype=torch.float64) * w
    s_known = torch.tensor([float(target.stress.get(c, 0.0)) for c in paths.SMALL_LABELS], dtype=torch.float64) * w
    em = torch.where(s_, 0.0, e_known)
    if bool(s_.any()):
        rhs = s_known[s_] - Cm[s_][:, ~s_] @ em[~s_]
        em[s_] = torch.linalg.solve(Cm[s_][:, s_], rhs)
    assert torch.allclose(
        to_mandel(res.strain[-1], "strain"), em, rtol=1e-12, atol=1e-15 * (1 if by == "strain" else a)
    )
    assert torch.allclose(
        to_mandel(res.stress[-1], "stress"), Cm @ em, rtol=1e-10, atol=1e-9 * E_ * float(em.abs().max())
    )
    assert int(res.iterations.max()) <= 1  # linear: the predictor or one Newton step


def test_perzyna_slow_loading_recovers_rate_independent_j2() -> None:
    j2 = J2Plasticity(E_, NU, SY, 2000.0)
    visco = Perzyna(E_, NU, SY, 2000.0, eta=1e-3)
    slow = paths.uniaxial_stress([0.005], increments=10, duration=1e4)
    fast = paths.uniaxial_stress([0.005], increments=10, duration=1e-10)
    ref = drive(j2, slow)
    assert rel_err(drive(visco, slow).stress, ref.stress) < 1e-6
    # Fast loading: the overstress has no time to relax; the response is (nearly) elastic.
    s_fast = drive(visco, fast).column("stress_11")
    assert float(s_fast[-1]) == pytest.approx(E_ * 0.005, rel=1e-3)


# ------------------------------------------------------------------------------------------- finite strain
def test_finite_uniaxial_stress_saint_venant_kirchhoff_closed_form() -> None:
    lam, mu = 100.0, 40.0
    model = SaintVenantKirchhoff(lam, mu)
    res = drive(model, paths.uniaxial_stress([0.3], increments=6, kinematics="finite"), check_tangent=True)
    F11 = res.column("F_11")
    E11 = (F11**2 - 1) / 2
    nu = lam / (2 * (lam + mu))
    young = mu * (3 * lam + 2 * mu) / (lam + mu)
    E22 = -nu * E11  # S22 = S33 = 0
    assert rel_err(res.column("F_22"), torch.sqrt(1 + 2 * E22)) < 1e-10
    assert rel_err(res.column("F_33"), torch.sqrt(1 + 2 * E22)) < 1e-10
    assert rel_err(res.column("P_11"), F11 * young * E11) < 1e-10
    assert float(res.column("P_22").abs().max()) < 1e-10 * young
    assert float(res.tangent_error.max()) < 1e-6


def test_finite_modes_reach_their_targets_and_are_consistent_with_the_model() -> None:
    model = NeoHookean(1.0, 10.0)
    for mode in ("equibiaxial", "pure_shear", "simple_shear", "hydrostatic", "uniaxial_strain"):
        res = drive(model, paths.standard_path(mode, [0.4], increments=4, kinematics="finite"))
        F, P = res.strain[-1], res.stress[-1]
        assert torch.allclose(model.first_piola(F), P, rtol=0, atol=1e-12)
        if mode == "pure_shear":
            assert float(F[1, 1]) == 1.0 and abs(float(P[2, 2])) < 1e-10 and float(F[2, 2]) < 1.0
        if mode == "simple_shear":
            assert float(F[0, 1]) == pytest.approx(0.4) and float(torch.linalg.det(F)) == pytest.approx(1.0)
    # Stress-driven equibiaxial: P11 = P22 = 0.5 reached by a full P-control Newton on 3 components.
    res = drive(model, paths.equibiaxial([0.5], increments=5, by="stress", kinematics="finite"))
    assert torch.allclose(res.stress[-1].diagonal(), torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64), atol=1e-12)
    assert float(res.strain[-1, 0, 0]) > 1.0


# ----------------------------------------------------------------------------------- bad input and failure
def test_bad_paths_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown small-strain path component '14'"):
        Segment({"14": 0.1, "11": 0.0}).validated("small")
    full = {c: 0.0 for c in paths.SMALL_LABELS}
    with pytest.raises(ValueError, match=r"\['22'\] are prescribed in both strain and stress"):
        LoadPath([Segment(full, {"22": 0.0})])
    with pytest.raises(ValueError, match=r"\['33', '12'\] are prescribed in neither"):
        LoadPath([Segment({c: 0.0 for c in ("11", "22", "23", "13")}, {})])
    with pytest.raises(ValueError, match="unknown path mode"):
        paths.standard_path("biaxial", [0.1])
    with pytest.raises(ValueError, match="needs a model with first_piola"):
        drive(J2Plasticity(E_, NU, SY), paths.uniaxial_stress([1.1], kinematics="finite"))
    with pytest.raises(ValueError, match="increments must be a positive integer"):
        LoadPath([Segment(full, {}, increments=0)])
    # a whole-number float is a valid increment count; a fractional one is named
    assert paths.uniaxial_stress([0.01, 0.02], increments=3.0).n_steps == 6
    with pytest.raises(ValueError, match="increments must be a positive integer"):
        paths.uniaxial_stress([0.01], increments=2.5)
    # '21' is the same small-strain component as '12'
    assert "12" in Segment({**{c: 0.0 for c in paths.SMALL_LABELS if c != "12"}, "21": 0.1}).validated("small").strain


def test_failure_keeps_the_steps_computed_before_it() -> None:
    model = J2Plasticity(E_, NU, SY, 0.0)  # perfect plasticity: stress control beyond sigma_y has no solution
    path = paths.uniaxial_stress([0.8 * SY, 1.2 * SY], increments=4, by="stress")
    with pytest.raises(DriverError) as info:
        drive(model, path, max_iter=15)
    err = info.value
    res = err.result
    assert not res.completed and "step" in str(err) and err.diagnostics["step"] == res.n_steps + 1
    assert res.n_steps >= 4  # the elastic segment is kept
    assert torch.allclose(res.column("stress_11")[:5], torch.linspace(0, 0.8 * SY, 5, dtype=torch.float64))
    assert torch.allclose(res.column("strain_11")[:5], torch.linspace(0, 0.8 * SY / E_, 5, dtype=torch.float64))
    returned = drive(model, path, max_iter=15, on_failure="return")
    assert not returned.completed and returned.n_steps == res.n_steps and "STOPPED EARLY" in returned.summary()


# ------------------------------------------------------------------------------------------ files and CLI
PATH_FILE = """
title = "J2 cyclic, inline model"
[model]
name = "J2Plasticity"
[model.parameters]
E = 200000.0
nu = 0.3
sigma_y = 250.0
H = 2000.0
[path]
mode = "uniaxial_stress"
amplitude = 0.004
cycles = 1
increments = 5
[driver]
check_tangent = true
[output]
csv = "cyc.csv"
figure = "cyc.png"
"""


def test_toml_path_file_cli_csv_and_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "cyc.toml"
    f.write_text(PATH_FILE)
    out = tmp_path / "out"
    assert cli_main(["drive", str(f), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "25 step(s)" in printed and "tangent check: PASS" in printed and "wrote csv" in printed
    assert (out / "cyc.png").stat().st_size > 1000
    with open(out / "cyc.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 26
    res, _ = run_path_file(f, tmp_path / "again")
    s11 = torch.tensor([float(r["stress_11"]) for r in rows], dtype=torch.float64)
    assert torch.allclose(s11, res.column("stress_11"), rtol=1e-15, atol=0)
    assert rows[3]["control"] == "esssss" and set(rows[0]) >= {"alpha", "eps_p_0", "iterations", "tangent_error"}
    sig_ref, _ = uniaxial_1d(res.column("strain_11"), E_, SY, 2000.0, 0.0)
    assert rel_err(s11, sig_ref) < 1e-10


def test_toml_steps_material_file_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    LinearElastic(E_, NU).save(tmp_path / "elastic.toml")
    f = tmp_path / "steps.toml"
    f.write_text(
        'material = "elastic.toml"\n'
        '[[steps]]\nincrements = 2\nstrain = { "11" = 0.001, "23" = 0.0, "13" = 0.0, "12" = 0.0 }\n'
        'stress = { "22" = 0.0, "33" = 0.0 }\n'
        '[[steps]]\nstress = { "11" = 0.0, "22" = 50.0, "33" = 0.0, "23" = 0.0, "13" = 0.0, "12" = 0.0 }\n'
    )
    model, path, _ = load_path_file(f)
    assert isinstance(model, LinearElastic) and path.n_steps == 3
    res = drive(model, path)
    assert torch.allclose(res.components("stress")[-1], torch.tensor([0, 50.0, 0, 0, 0, 0], dtype=torch.float64))
    assert float(res.column("strain_11")[-1]) == pytest.approx(-NU * 50.0 / E_, rel=1e-12)
    bad = tmp_path / "bad.toml"
    bad.write_text(f.read_text().replace('"33" = 0.0 }\n[[steps]]', '"33" = 0.0, "12" = 1.0 }\n[[steps]]'))
    with pytest.raises(ValueError, match=r"step 1: components \['12'\] are prescribed in both"):
        load_path_file(bad)
    assert cli_main(["drive", str(bad)]) == 2
    assert "prescribed in both" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "examples" / "paths").glob("*.toml")))
def test_example_path_files_run(name: str, tmp_path: Path) -> None:
    model, path, settings = load_path_file(REPO / "examples" / "paths" / name)
    res, written = run_path_file(REPO / "examples" / "paths" / name, tmp_path)
    assert res.completed and res.n_steps == path.n_steps and written["csv"].exists()


# ----------------------------------------------------------------------------------------------- examples
def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", REPO / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_j2_cyclic(tmp_path: Path) -> None:
    out = load_example("j2_cyclic").main(tmp_path, amplitude=0.008, cycles=1, increments=12)
    assert Path(out["figure"]).stat().st_size > 10_000
    # Prager: plastic strain range of the stabilised loop in closed form; loop area to discretisation accuracy.
    assert out["prager_plastic_strain_range_rel_error"] < 1e-10
    assert out["prager_loop_area_rel_error"] < 5e-3
    # Chaboche + Voce: tangent verified at every step; cyclic hardening (growing peaks); uniaxial stress state.
    assert out["chaboche_tangent_max_rel_error"] < 1e-6
    peaks = [abs(p) for p in out["chaboche_peak_stresses"]]
    assert peaks == sorted(peaks) and peaks[0] > 355.0
    assert out["lateral_stress_max"] < 1e-8


def test_example_newton_convergence(tmp_path: Path) -> None:
    out = load_example("newton_convergence").main(tmp_path)
    assert Path(out["figure"]).stat().st_size > 10_000
    assert out["consistent_iterations"] <= 4 and out["continuum_iterations"] > 30
    assert min(out["consistent_orders"]) > 1.9
    assert max(abs(p - 1.0) for p in out["continuum_orders"]) < 0.1
    assert out["max_stress_difference"] < 1e-6


def test_example_relaxation_creep_and_rate_limits(tmp_path: Path) -> None:
    out = load_example("relaxation").main(tmp_path, increments=4, n_segments=8)
    assert Path(out["figure"]).stat().st_size > 10_000
    assert out["relaxation_max_rel_error"] < 1e-12  # exact integration of piecewise-linear strain
    assert out["creep_max_rel_error_half_step"] < 2e-3
    assert 3.5 < out["creep_error_ratio"] < 4.5  # second order in the time step
    assert out["fast_rel_error"] < 1e-5 and out["slow_rel_error"] < 1e-5
    assert out["E_fast"] > 5 * out["E_slow"]


def test_cli_failure_writes_the_partial_csv_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "fail.toml"
    f.write_text(
        '[model]\nname = "J2Plasticity"\n[model.parameters]\nE = 200000.0\nnu = 0.3\nsigma_y = 250.0\n'
        '[path]\nmode = "uniaxial_stress"\nby = "stress"\namplitudes = [200.0, 300.0]\nincrements = 4\n'
        "[driver]\nmax_iter = 10\n"
    )
    assert cli_main(["drive", str(f), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "STOPPED EARLY" in err and "error: step" in err
    with open(tmp_path / "fail.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 5 and float(rows[4]["stress_11"]) == pytest.approx(200.0)


def test_cutbacks_split_a_failing_step() -> None:
    # A return map limited to 3 local iterations fails on one large step; halving the step lets it converge.
    fragile = J2Plasticity(E_, NU, SY, hardening=Voce(300.0, 200.0), max_iter=3)
    path = paths.uniaxial_stress([0.02], increments=1)
    with pytest.raises(DriverError, match="local Newton did not converge"):
        drive(fragile, path)
    res = drive(fragile, path, cutbacks=6)
    assert res.completed and res.extra["cutbacks"] >= 1 and res.n_steps == res.extra["cutbacks"] + 1
    assert bool((res.time.diff() > 0).all()) and float(res.time[-1]) == 1.0
    assert "cutbacks:" in res.summary()
    # Monotonic uniaxial stress with isotropic hardening: the end state does not depend on the stepping.
    ref = drive(J2Plasticity(E_, NU, SY, hardening=Voce(300.0, 200.0)), path)
    assert rel_err(res.stress[-1], ref.stress[-1]) < 1e-9


def test_mixed_control_with_full_anisotropy_matches_a_hand_written_voigt_solve() -> None:
    # Triclinic stiffness (normal-shear coupling): a wrong shear factor in the mixed partition would show here.
    gen = torch.Generator().manual_seed(7)
    A = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    CV = 1e4 * (A @ A.T + 6 * torch.eye(6, dtype=torch.float64))  # Voigt, textbook order, engineering shear
    model = Anisotropic(CV, "voigt", "voigt")
    strain = {"11": 1e-3, "23": 0.0, "12": 5e-4}
    stress = {"22": 10.0, "33": 0.0, "13": -5.0}
    res = drive(model, LoadPath([Segment(strain, stress, increments=2)]))
    # Independent route: sigma_V = CV e_V with e_V = (e11, e22, e33, 2 e23, 2 e13, 2 e12); unknown slots 1, 2, 4.
    known, unknown = [0, 3, 5], [1, 2, 4]
    e_known = torch.tensor([1e-3, 0.0, 2 * 5e-4], dtype=torch.float64)
    s_known = torch.tensor([10.0, 0.0, -5.0], dtype=torch.float64)
    e_unknown = torch.linalg.solve(CV[unknown][:, unknown], s_known - CV[unknown][:, known] @ e_known)
    e_V = torch.zeros(6, dtype=torch.float64)
    e_V[known], e_V[unknown] = e_known, e_unknown
    s_V = CV @ e_V
    eps, sig = res.components("strain")[-1], res.components("stress")[-1]
    shear = torch.tensor([1, 1, 1, 2, 2, 2], dtype=torch.float64)
    assert torch.allclose(eps * shear, e_V, rtol=1e-12, atol=1e-16)
    assert torch.allclose(sig, s_V, rtol=1e-10, atol=1e-9)


# ------------------------------------------------------------------------------- differentiating through the driver
def _central_jacobian(response: Callable[[list[float]], torch.Tensor], theta: list[float], rel: float) -> torch.Tensor:
    """Central differences ``(n_outputs, n_params)`` of ``response`` (a detached 1-d tensor) at ``theta``."""
    cols = []
    for k, v in enumerate(theta):
        h = rel * abs(v)
        up, down = list(theta), list(theta)
        up[k] += h
        down[k] -= h
        cols.append((response(up) - response(down)) / (2 * h))
    return torch.stack(cols, dim=-1)


def _autograd_jacobian(out: torch.Tensor, params: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Reverse-mode Jacobian ``(n_outputs, n_params)``: one batched backward pass through the driven path."""
    seeds = torch.eye(out.shape[0], dtype=out.dtype)
    return torch.stack(torch.autograd.grad(out, params, seeds, is_grads_batched=True), dim=-1)


def test_differentiable_j2_uniaxial_stress_gradient_matches_central_differences() -> None:
    # Cyclic uniaxial stress (mixed control, several increments per segment: the tangent predictor is used),
    # Voce isotropic + Armstrong-Frederick kinematic hardening; d(sigma_11, alpha)/d(sigma_y, H) of every step.
    path = paths.cyclic("uniaxial_stress", amplitude=0.004, cycles=1, increments=4)

    def model(sigma_y: object, H: object) -> J2Plasticity:
        return J2Plasticity(E_, NU, sigma_y, H, Q=80.0, b=30.0, C=[30e3], gamma=[200.0], hardening="voce")

    def response(result: DriveResult) -> torch.Tensor:
        return torch.cat([result.stress[1:, 0, 0], result.state["alpha"][1:]])

    theta = [SY, 1500.0]
    params = tuple(torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in theta)
    res = drive(model(*params), path, differentiable=True)
    assert res.stress.requires_grad and res.strain.requires_grad and res.state["alpha"].requires_grad
    J = _autograd_jacobian(response(res), params)
    fd = _central_jacobian(lambda t: response(drive(model(*t), path)), theta, 1e-6)
    assert float(fd[:, 0].abs().max()) > 0.5 and float(fd[:, 1].abs().max()) > 1e-3  # both parameters matter
    assert torch.allclose(J, fd, rtol=1e-6, atol=1e-7 * float(fd.abs().max()))
    # The values are those of the ordinary driver (to its tolerance: the extra correction only sharpens them).
    plain = drive(model(*theta), path)
    assert rel_err(res.stress.detach(), plain.stress) < 1e-10 and rel_err(res.strain.detach(), plain.strain) < 1e-10
    assert float(res.stress[1:, 1:, 1:].detach().abs().max()) < 1e-9 * float(plain.stress.abs().max())
    # By default the record is detached and on the CPU, even for parameters that require grad.
    default = drive(model(*params), path)
    assert not default.stress.requires_grad and not default.state["alpha"].requires_grad
    assert default.stress.device.type == "cpu" and torch.equal(default.stress, plain.stress)


def test_differentiable_finite_strain_uniaxial_stress_gradient_matches_central_differences() -> None:
    path = paths.uniaxial_stress([0.3], increments=3, kinematics="finite")
    theta = [1.0, 5.0]
    params = tuple(torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in theta)

    def response(result: DriveResult) -> torch.Tensor:
        return torch.cat([result.stress[1:, 0, 0], result.strain[1:, 1, 1]])  # P11 and the lateral stretch F22

    J = _autograd_jacobian(response(drive(NeoHookean(*params), path, differentiable=True)), params)
    fd = _central_jacobian(lambda t: response(drive(NeoHookean(*t), path)), theta, 1e-6)
    assert float(fd.abs().amin(dim=0).min()) > 0  # P11 and F22 depend on both parameters
    assert torch.allclose(J, fd, rtol=1e-6, atol=1e-8 * float(fd.abs().max()))


def test_differentiable_strain_targets_give_the_elastic_compliance() -> None:
    # Uniaxial stress on linear elasticity, the axial strain a tensor target: d sigma_11/d eps_11 = E, d eps_22/d eps_11
    # = -nu (closed form), through two increments of a mixed-control segment.
    a = torch.tensor([1e-3], dtype=torch.float64, requires_grad=True)
    segment = Segment({"11": a}, {c: 0.0 for c in ("22", "33", "23", "13", "12")}, increments=2)
    res = drive(LinearElastic(E_, NU), LoadPath([segment]), differentiable=True)
    (dsig,) = torch.autograd.grad(res.stress[-1, 0, 0, 0], a, retain_graph=True)
    (deps,) = torch.autograd.grad(res.strain[-1, 0, 1, 1], a)
    assert float(dsig) == pytest.approx(E_, rel=1e-12) and float(deps) == pytest.approx(-NU, rel=1e-12)


def test_malformed_toml_values_are_value_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Wrongly typed entries of a hand-written file give a ValueError naming the key (CLI exit 1, no traceback);
    unknown keys in [model] are errors, not silently ignored."""
    head = '[model]\nname = "LinearElastic"\n[model.parameters]\nE = 200000.0\nnu = 0.3\n'
    cases = {
        "cyclic_list": (
            head + '[path]\nmode = "uniaxial_stress"\namplitude = 0.01\ncycles = 1\nincrements = [5]\n',
            "increments",
        ),
        "step_scalar": (head + "[[steps]]\nstrain = 0.01\n", "strain"),
        "model_typo": (
            '[model]\nname = "LinearElastic"\n[model.parameter]\nE = 200000.0\nnu = 0.3\n'
            '[path]\nmode = "uniaxial_stress"\namplitudes = [0.001]\n',
            "parameter",
        ),
    }
    for name, (text, key) in cases.items():
        f = tmp_path / f"{name}.toml"
        f.write_text(text)
        with pytest.raises(ValueError, match=key):
            load_path_file(f)
        assert cli_main(["drive", str(f), "--out", str(tmp_path)]) == 2


# --------------------------------------------------------------------------------------------------------------
# check_tangent=True in float32: default tolerance from the dtype (issue 9)
# --------------------------------------------------------------------------------------------------------------


def _float32_models() -> list[tuple[str, object, LoadPath]]:
    j2 = J2Plasticity(200e3, 0.3, 250.0, 1000.0, dtype=torch.float32)
    nh = NeoHookean(1.0, 10.0, dtype=torch.float32)
    return [
        ("J2", j2, paths.cyclic("uniaxial_stress", 0.01, cycles=1, increments=10)),
        # a cycle through the origin: steps near zero strain, where a float32 step of eps^(1/3)|x| would be noise
        ("NeoHookean", nh, paths.cyclic("uniaxial_stress", 0.01, cycles=1, increments=10)),
        ("NeoHookean-large", nh, paths.uniaxial_stress([0.2], increments=8)),
    ]


@pytest.mark.parametrize("name,model,path", _float32_models(), ids=[m[0] for m in _float32_models()])
def test_float32_tangent_check_passes_with_default_tolerance(name: str, model, path: LoadPath) -> None:
    res = drive(model, path, check_tangent=True)
    assert res.extra["tangent_tolerance"] == 1e-3
    assert "tangent check: PASS" in res.summary(), res.summary()
    assert float(res.tangent_error.max()) < 1e-3
    # a deliberately wrong Newton tangent (doubled shear columns) still FAILs at the same default
    doubled = 2.0 - torch.eye(3, dtype=torch.float32)
    if isinstance(model, J2Plasticity):
        wrong = lambda eps, state, dt: model.update(eps, state, dt)[2] * doubled  # noqa: E731
    else:
        wrong = lambda eps, state, dt: model.tangent(eps) * doubled  # noqa: E731
    bad = drive(model, paths.uniaxial_strain([0.01], increments=3), tangent=wrong, check_tangent=True)
    assert "tangent check: FAIL" in bad.summary()
    assert float(bad.tangent_error[1:].min()) > 1e-2  # mu / max|C|, far above the 1e-3 tolerance


def test_float64_tangent_tolerance_default_unchanged_and_bad_values_refused() -> None:
    res = drive(LinearElastic(200e3, 0.3), paths.uniaxial_stress([0.01], increments=2), check_tangent=True)
    assert res.extra["tangent_tolerance"] == 1e-6
    for bad in (-1.0, 0.0, float("nan")):
        with pytest.raises(ValueError, match="tangent_tolerance must be a positive finite number"):
            drive(LinearElastic(200e3, 0.3), paths.uniaxial_stress([0.01]), check_tangent=True, tangent_tolerance=bad)


# --------------------------------------------------------------------------------------------------------------
# Stateful finite-strain paths and cutbacks by a suggested ratio (issue 11 follow-up)
# --------------------------------------------------------------------------------------------------------------

_UMAT_DIR = Path(__file__).resolve().parent / "umat"


@pytest.mark.skipif(shutil.which("gfortran") is None, reason="gfortran is not installed")
@pytest.mark.parametrize("check", ["check_stateful_finite_strain", "check_neo_hookean_umat", "check_pnewdt_ratio"])
def test_umat_finite_strain_state_and_pnewdt_ratio(check: str, tmp_path: Path, monkeypatch) -> None:
    # The UMAT checks of tests/umat/driver_checks.py (stateful finite-strain paths with a history-dependent UMAT, the
    # finite-strain neo-Hookean UMAT against the package model, PNEWDT cutting a step into quarters), in this
    # process with a UMAT cache of their own: a second cache in one process must not split XIT's support library
    # (tests/test_umat.py, with its own cache, runs XIT after these in the same session).
    import importlib.util

    monkeypatch.setenv("CONSTITUTIVE_UMAT_CACHE", str(tmp_path / "umat_cache"))
    spec = importlib.util.spec_from_file_location("umat_driver_checks", _UMAT_DIR / "driver_checks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    getattr(module, check)()


def test_substeps_from_a_suggested_ratio() -> None:
    from constitutive.driver.core import substeps
    from constitutive.driver.newton import StepFailure

    def failure(cause: object) -> StepFailure:
        err = StepFailure("failed")
        err.__cause__ = cause  # type: ignore[assignment]
        return err

    class Suggests(RuntimeError):
        def __init__(self, ratio: object) -> None:
            super().__init__("cut")
            self.suggested_step_ratio = ratio

    assert substeps(failure(None)) == 2  # plain halving
    assert substeps(failure(RuntimeError("no suggestion"))) == 2
    assert substeps(failure(Suggests(0.25))) == 4
    assert substeps(failure(Suggests(0.3))) == 4  # every sub-step at most 0.3 of the failed one
    assert substeps(failure(Suggests(0.01))) == 10  # bounded below by 0.1
    assert substeps(failure(Suggests(0.9))) == 2  # never above 0.5: a cut at least halves
    assert substeps(failure(Suggests(float("nan")))) == 2
    assert substeps(failure(Suggests("soon"))) == 2


# ------------------------------------------------------------------------------------- performance routes (issue 13)
class _TensorRouteJ2(J2Plasticity):
    """J2 without its Mandel-native route: the driver evaluates it through ``update`` and the tensor conversions."""

    update_mandel = None  # type: ignore[assignment]


def test_mandel_route_equals_the_tensor_route() -> None:
    # The driver runs J2's Mandel kernel inside Newton (no conversions, state in Mandel form); the tensor route is
    # the independent reference: same converged path to round-off, same iterations, state recorded in tensor form.
    args = dict(Q=80.0, b=30.0, C=[30e3], gamma=[200.0], hardening="voce")
    a = torch.tensor([[2e-3, 4e-3, 6e-3], [-2e-3, -4e-3, -6e-3]], dtype=torch.float64)
    path = paths.uniaxial_stress(a, increments=[3, 5]) + paths.simple_shear([[0.004] * 3], increments=2)
    fast = drive(J2Plasticity(E_, NU, SY, 1500.0, **args), path)
    ref = drive(_TensorRouteJ2(E_, NU, SY, 1500.0, **args), path)
    assert rel_err(fast.stress, ref.stress) < 1e-11 and rel_err(fast.strain, ref.strain) < 1e-11
    assert fast.state.keys() == ref.state.keys()
    for name, value in ref.state.items():
        assert fast.state[name].shape == value.shape and rel_err(fast.state[name], value) < 1e-10
    assert float(fast.state["alpha"][-1].min()) > 0 and torch.equal(fast.iterations, ref.iterations)


class _Elastic:
    """Isotropic elasticity by its stress and tangent maps only, with knobs: a tangent that is not minor-symmetric
    (C_ijkl = 2μ δik δjl + λ δij δkl), or a NaN stress beyond a strain."""

    def __init__(self, asymmetric: bool = False, nan_above: float = float("inf")) -> None:
        self.asymmetric, self.nan_above = asymmetric, nan_above
        self.dtype = torch.float64

    def stress(self, strain: torch.Tensor) -> torch.Tensor:
        sig = 2 * G_ * strain + (K_ - 2 * G_ / 3) * strain.diagonal(dim1=-2, dim2=-1).sum(-1)[
            ..., None, None
        ] * torch.eye(3, dtype=torch.float64)
        return torch.where(strain[..., :1, :1] > self.nan_above, torch.full_like(sig, float("nan")), sig)

    def tangent(self, strain: torch.Tensor) -> torch.Tensor:
        I = torch.eye(3, dtype=torch.float64)
        ik_jl = torch.einsum("ik,jl->ijkl", I, I)
        sym = ik_jl if self.asymmetric else 0.5 * (ik_jl + torch.einsum("il,jk->ijkl", I, I))
        C = 2 * G_ * sym + (K_ - 2 * G_ / 3) * torch.einsum("ij,kl->ijkl", I, I)
        return C.expand(*strain.shape[:-2], 3, 3, 3, 3)


def test_driver_checks_tangent_symmetry_and_finiteness_without_per_call_conversions() -> None:
    # The tangent's minor symmetry is checked on the first evaluation of every segment (not on every Newton
    # evaluation), and a non-finite stress in a strain-controlled step (no residual there) still stops the driver.
    ok = drive(_Elastic(), paths.uniaxial_stress([1e-3, 2e-3], increments=2))
    assert float(ok.stress[-1, 0, 0]) == pytest.approx(E_ * 2e-3, rel=1e-12)
    with pytest.raises(DriverError, match="minor-symmetric"):
        drive(_Elastic(asymmetric=True), paths.uniaxial_stress([1e-3], increments=2))
    with pytest.raises(DriverError, match="non-finite") as err:
        drive(_Elastic(nan_above=1.5e-3), paths.uniaxial_strain([1e-3, 2e-3], increments=2))
    assert err.value.result.n_steps == 3  # the steps before the NaN are kept
