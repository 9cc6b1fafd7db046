"""The UMAT bridge: a compiled Fortran UMAT through Abaqus's interface, checked against the package's models.

Needs gfortran (``.ci/run`` installs it); the tests skip, saying so, only where it is absent.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from constitutive import paths
from constitutive.check import check_tangent
from constitutive.driver import DriverError, drive
from constitutive.models import J2Plasticity, LinearElastic, NeoHookean

pytestmark = [
    pytest.mark.skipif(
        shutil.which("gfortran") is None, reason="gfortran is not installed (apt-get install -y gfortran)"
    ),
    pytest.mark.usefixtures("umat_cache"),  # a fresh compiled-UMAT cache for the module (conftest)
]

HERE = Path(__file__).resolve().parent / "umat"
E, NU, SY, H = 210e3, 0.3, 250.0, 1000.0
J2_PROPS = [E, NU, SY, H]


def _umat(name, props, **kw):
    from constitutive.umat import UMAT

    return UMAT(HERE / name, props, **kw)


def _cyclic_strains(n=12):
    """A cyclic non-proportional multiaxial strain history (n, 3, 3) reaching ~1 % with reversals."""
    t = torch.linspace(0, 2 * np.pi, n + 1, dtype=torch.float64)[1:]
    eps = torch.zeros(n, 3, 3, dtype=torch.float64)
    eps[:, 0, 0] = 0.008 * torch.sin(t)
    eps[:, 1, 1] = -0.003 * torch.sin(t) + 0.002 * torch.cos(2 * t)
    eps[:, 2, 2] = 0.001 * torch.cos(t)
    eps[:, 0, 1] = eps[:, 1, 0] = 0.004 * torch.sin(2 * t)
    eps[:, 1, 2] = eps[:, 2, 1] = 0.002 * torch.cos(t)
    return eps


def _rel(a, b):
    return float((a - b).abs().max() / b.abs().max())


# ------------------------------------------------------------------------------------- agreement with the models
def test_elastic_umat_matches_linear_elastic_in_every_hypothesis():
    model = LinearElastic(E=E, nu=NU)
    eps = _cyclic_strains()
    u = _umat("elastic.f", [E, NU])
    s, _, C = u.update(eps, u.initial_state((len(eps),)))
    assert _rel(s, model.stress(eps)) <= 1e-12 and _rel(C, model.tangent(eps)) <= 1e-12
    from constitutive.notation import reduce

    for hyp in ("plane_strain", "axisymmetric"):
        u = _umat("elastic.f", [E, NU], hypothesis=hyp)
        e2 = eps.clone()
        e2[..., 0, 2] = e2[..., 2, 0] = e2[..., 1, 2] = e2[..., 2, 1] = 0.0
        s, _, D = u.update_voigt(u.to_vector(e2, "strain"), u.initial_state((len(eps),)))
        assert _rel(s, reduce(model.stress(e2), "stress", hyp)) <= 1e-12
        assert _rel(D, reduce(model.tangent(e2), "stiffness", hyp)) <= 1e-12
    u = _umat("elastic.f", [E, NU], hypothesis="plane_stress")
    s, _, D = u.update_voigt(torch.tensor([1e-3, -4e-4, 6e-4], dtype=torch.float64), u.initial_state())
    Dps = reduce(model.tangent(eps[0]), "stiffness", "plane_stress")
    assert _rel(D, Dps) <= 1e-12
    assert _rel(s, Dps @ torch.tensor([1e-3, -4e-4, 6e-4], dtype=torch.float64)) <= 1e-12


@pytest.mark.parametrize("hypothesis", ["3d", "plane_strain", "plane_stress"])
def test_j2_umat_matches_j2plasticity_along_cyclic_multiaxial_paths(hypothesis):
    from constitutive.umat.check import compare_umat

    u = _umat("j2.f", J2_PROPS, nstatv=8, hypothesis=hypothesis)
    model = J2Plasticity(E=E, nu=NU, sigma_y=SY, H=H)
    rep = compare_umat(u, model, state_map={"alpha": 6})
    assert len(rep.rows) > 60
    assert rep.max_stress_difference <= 1e-12
    assert rep.max_tangent_difference <= 1e-12
    assert max(r["state"]["alpha"] for r in rep.rows) <= 1e-12
    # plastic flow did happen on every path (so the comparison covers the return map and its tangent)
    for name in {r["path"] for r in rep.rows}:
        assert max(r["state_values"]["alpha"] for r in rep.rows if r["path"] == name) > 1e-3


def test_j2_umat_increment_by_increment_equals_model_update_in_3d():
    u = _umat("j2.f", J2_PROPS, nstatv=8)
    m = J2Plasticity(E=E, nu=NU, sigma_y=SY, H=H)
    su, sm = u.initial_state(), m.initial_state()
    plastic = 0
    for eps in _cyclic_strains(24):
        s1, su, C1 = u.update(eps, su, 0.1)
        s2, sm, C2 = m.update(eps, sm, 0.1)
        assert _rel(s1, s2) <= 1e-12 and _rel(C1, C2) <= 1e-12
        assert abs(float(su["statev"][6] - sm["alpha"])) <= 1e-12 * max(float(sm["alpha"]), 1e-300)
        plastic += float(su["statev"][6]) > 0
    assert plastic > 10
    assert int(su["kinc"]) == 24 and float(su["time"][1]) == pytest.approx(2.4)


def test_finite_strain_neo_hookean_matches_package_model_and_abaqus_definition():
    from constitutive.umat.check import check_umat, compare_umat

    u = _umat("neohooke.f", [0.5, 40.0], finite_strain=True)
    model = NeoHookean(mu=0.5, lmbda=40.0)
    rep = compare_umat(u, model)
    assert rep.max_stress_difference <= 1e-12 and rep.max_tangent_difference <= 1e-12
    assert check_umat(u).passed
    F = torch.tensor([[1.3, 0.2, 0.0], [0.1, 0.9, 0.05], [0.0, -0.1, 1.1]], dtype=torch.float64)
    assert _rel(u.first_piola(F), model.first_piola(F)) <= 1e-12
    assert _rel(u.first_elasticity(F), model.first_elasticity(F)) <= 1e-10
    # the driver's F-controlled paths drive it, and its own finite-difference check passes
    res = drive(
        u, paths.cyclic("uniaxial_stress", amplitude=0.3, kinematics="finite", increments=6), check_tangent=True
    )
    ref = drive(model, paths.cyclic("uniaxial_stress", amplitude=0.3, kinematics="finite", increments=6))
    assert _rel(res.stress, ref.stress) <= 1e-10
    assert float(res.tangent_error[1:].max()) <= 1e-6


def test_finite_strain_increment_passes_rotated_state_and_log_strain():
    u = _umat("utils.f", [E, NU], nstatv=23, finite_strain=True)
    c, s_ = np.cos(0.3), np.sin(0.3)
    R = torch.tensor([[c, -s_, 0], [s_, c, 0], [0, 0, 1]], dtype=torch.float64)
    U = torch.diag(torch.tensor([1.1, 0.95, 1.0], dtype=torch.float64))
    _, st, _ = u.update(R @ U, u.initial_state())
    # one increment from I: DROT = R, DSTRAN = ln V = R ln U R^T, ROTSIG of the strain by DROT stored in STATEV
    lnV = R @ torch.diag(torch.log(torch.diag(U))) @ R.T
    assert _rel(st["stran"], u.to_vector(lnV, "strain")) <= 1e-12
    rotated = R @ lnV @ R.T  # ROTSIG(STRAN + DSTRAN, DROT) stored in STATEV(18:23)
    assert _rel(st["statev"][17:23], u.to_vector(rotated, "strain")) <= 1e-12
    assert torch.equal(st["F"], R @ U)


# ---------------------------------------------------------------------------------------- the driver and checks
def test_driver_and_check_tangent_take_the_umat_unchanged():
    u = _umat("j2.f", J2_PROPS, nstatv=8)
    m = J2Plasticity(E=E, nu=NU, sigma_y=SY, H=H)
    path = paths.cyclic("uniaxial_stress", amplitude=0.006, cycles=1, increments=6)
    ru = drive(u, path, check_tangent=True)
    rm = drive(m, path)
    assert _rel(ru.stress, rm.stress) <= 1e-9
    assert float(ru.tangent_error[1:].max()) <= 1e-6
    assert int(ru.iterations.max()) <= 4  # quadratic convergence with the consistent DDSDDE
    state = {k: v[4] for k, v in ru.state.items()}
    assert check_tangent(u, ru.strain[5], state=state, dt=1.0).passed


def test_planted_error_is_caught_with_taylor_order_one():
    from constitutive.umat.check import check_umat

    good = check_umat(_umat("j2.f", J2_PROPS, nstatv=8), increments=8)
    bad = check_umat(_umat("j2_elastic_tangent.f", J2_PROPS, nstatv=8), increments=8)
    assert good.passed and max(r.rel_error for r in good.increments) <= 1e-8
    assert not bad.passed
    first = bad.first_failure
    assert first.path == "uniaxial strain" and first.increment == 2
    assert first.worst == (1, 1) and first.worst_label.startswith("DDSDDE(1,1)")
    assert first.taylor_order == pytest.approx(1.0, abs=0.05)
    assert all(r.passed for r in bad.increments if r.taylor_order is None)  # elastic increments are right
    d = json.loads(bad.to_json())
    assert d["passed"] is False and d["first_failure"]["increment"] == 2


def test_transposed_ddsdde_and_shear_factor_are_caught(tmp_path):
    """Two classic defects planted by editing the elastic UMAT after it computed the stress: DDSDDE's shear
    diagonal doubled (columns 4-6 off by 2), and an asymmetric coupling returned transposed."""
    from constitutive.umat.check import check_umat

    src = (HERE / "elastic.f").read_text()
    anchor = "      SSE = 0.0D0\n"
    assert src.count(anchor) == 1
    doubled = "      DO I = NDI+1, NTENS\n         DDSDDE(I,I) = 2.0D0*DDSDDE(I,I)\n      END DO\n"
    (tmp_path / "shear2.f").write_text(src.replace(anchor, doubled + anchor))
    rep = check_umat(_umat(tmp_path / "shear2.f", [E, NU]), increments=2)
    first = rep.first_failure
    assert not rep.passed and first.increment == 1 and first.worst[0] == first.worst[1] >= 4
    assert first.value == pytest.approx(2 * first.reference, rel=1e-6)
    assert all(r.worst[1] >= 4 for r in rep.increments)
    # asymmetric material: D12 = lambda + G/10, D21 = lambda - G/10 used for the stress, DDSDDE handed back transposed
    asym = "      DDSDDE(1,2) = DDSDDE(1,2) + 0.1D0*G\n      DDSDDE(2,1) = DDSDDE(2,1) - 0.1D0*G\n"
    swap = "      T = DDSDDE(1,2)\n      DDSDDE(1,2) = DDSDDE(2,1)\n      DDSDDE(2,1) = T\n"
    loop = "      DO I = 1, NTENS\n         DO J = 1, NTENS\n            STRESS(I) = STRESS(I)"
    assert src.count(loop) == 1
    (tmp_path / "transposed.f").write_text(src.replace(loop, asym + loop).replace(anchor, swap + anchor))
    rep = check_umat(_umat(tmp_path / "transposed.f", [E, NU]), increments=2)
    first = rep.first_failure
    assert not rep.passed and set(first.worst) == {1, 2} and first.asymmetry > 0.01
    assert first.value == pytest.approx(first.reference + np.sign(first.value - first.reference) * 0.2 * E / 2.6)


# ---------------------------------------------------------------------------------------- failures and cutbacks
@pytest.mark.parametrize(
    "mode, words",
    [
        (1, "XIT"),
        (2, "non-finite STRESS"),
        (3, "STOP"),
        (4, "STDB_ABQERR"),
        (5, "non-finite DDSDDE"),
        (6, "non-finite STATEV"),
    ],
)
def test_xit_stop_and_nan_raise_umat_error_and_leave_state(mode, words):
    from constitutive.umat import UMATError

    u = _umat("xit.f", [E, NU, 1e-3, mode], nstatv=1)
    st0 = u.initial_state((3,))
    eps = torch.zeros(3, 3, 3, dtype=torch.float64)
    eps[:, 0, 0] = torch.tensor([5e-4, 8e-4, 2e-3])
    _, st1, _ = u.update(eps[:2], {k: v[:2] for k, v in st0.items()})
    before = {k: v.clone() for k, v in st1.items()}
    with pytest.raises(UMATError) as info:
        u.update(eps[1:], st1)
    assert words in str(info.value) and "increment 2" in str(info.value) and info.value.increment == 2
    assert info.value.point == (1,)
    assert all(torch.equal(before[k], st1[k]) for k in before)
    # the process is alive and the library still works
    s, _, _ = u.update(eps[:1], u.initial_state((1,)))
    assert float(s[0, 0, 0]) > 0


def test_pnewdt_makes_the_driver_cut_back():
    from constitutive.umat import UMATCutback

    u = _umat("cutback.f", [E, NU, 2e-3])
    with pytest.raises(UMATCutback) as info:
        u.update(torch.diag(torch.tensor([5e-3, 0, 0], dtype=torch.float64)), u.initial_state())
    assert info.value.pnewdt == 0.25
    path = paths.uniaxial_strain([0.006], increments=1)
    with pytest.raises(DriverError, match="PNEWDT"):
        drive(u, path)
    res = drive(u, path, cutbacks=3)
    assert res.completed and res.extra["cutbacks"] >= 2
    assert _rel(res.stress[-1], LinearElastic(E=E, nu=NU).stress(res.strain[-1])) <= 1e-12


def test_abaqus_utilities_match_their_definitions():
    u = _umat("utils.f", [E, NU], nstatv=23)
    eps = _cyclic_strains(3)[1]
    s, st, _ = u.update(eps, u.initial_state())
    v = st["statev"]
    assert float(v[0]) == pytest.approx(float(torch.trace(s)) / 3, rel=1e-13)
    dev = s - torch.trace(s) / 3 * torch.eye(3, dtype=torch.float64)
    assert float(v[1]) == pytest.approx(float(torch.sqrt(1.5 * (dev * dev).sum())), rel=1e-13)
    assert np.allclose(np.sort(v[2:5].numpy()), torch.linalg.eigvalsh(s).numpy(), rtol=1e-12, atol=1e-9)
    w = v[5:8].numpy()
    assert np.allclose(np.sort(w), torch.linalg.eigvalsh(eps).numpy(), rtol=1e-12, atol=1e-15)
    AN = v[8:17].numpy().reshape(3, 3, order="F")  # AN(K, I): component I of direction K
    for k in range(3):
        assert np.allclose(eps.numpy() @ AN[k], w[k] * AN[k], atol=1e-15)
    assert np.allclose(v[17:23].numpy(), u.to_vector(eps, "strain").numpy(), rtol=1e-13)  # DROT = I here


# ------------------------------------------------------------------------------------------------------ plumbing
def test_bad_input_is_refused_with_named_errors(tmp_path):
    from constitutive.umat import UMAT, CompileError

    with pytest.raises(ValueError, match="hypothesis"):
        UMAT(HERE / "elastic.f", [E, NU], hypothesis="shell")
    with pytest.raises(ValueError, match="props"):
        UMAT(HERE / "elastic.f", [])
    with pytest.raises(FileNotFoundError):
        UMAT(tmp_path / "missing.f", [E, NU])
    (tmp_path / "broken.f").write_text("      SUBROUTINE UMAT(\n")
    with pytest.raises(CompileError, match="compilation failed"):
        UMAT(tmp_path / "broken.f", [E, NU])
    with pytest.raises(ValueError, match="statev0"):
        UMAT(HERE / "elastic.f", [E, NU], nstatv=2, statev0=[1.0])


def test_compiled_library_is_cached_by_content(tmp_path):
    from constitutive.umat import compile_umat

    a = compile_umat(HERE / "elastic.f", cache=tmp_path)
    assert compile_umat(HERE / "elastic.f", cache=tmp_path) == a
    assert compile_umat(HERE / "elastic.f", ["-O0", "-fPIC", "-ffixed-line-length-132"], cache=tmp_path) != a
    assert tmp_path in a.parents and HERE not in a.parents


def test_cli_check_and_compare_exit_codes(tmp_path, capsys):
    from constitutive.cli.umat import main

    j2 = str(HERE / "j2.f")
    props = ["--props", "210e3", "0.3", "250", "1e3", "--nstatv", "8", "--increments", "3"]
    assert main(["check", j2, *props, "--json", str(tmp_path / "r.json"), "--plot", str(tmp_path / "r.png")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["passed"] is True and (tmp_path / "r.png").exists()
    assert main(["check", str(HERE / "j2_elastic_tangent.f"), *props]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "path 'uniaxial strain', increment 1" in out and "DDSDDE(1,1)" in out
    assert main(["check", j2, "--props", "x"]) == 2
    assert main(["check", str(tmp_path / "none.f"), "--props", "1"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error:" in err
    assert main(["check", str(HERE / "xit.f"), "--props", "210e3", "0.3", "1e-3", "1", "--increments", "2"]) == 1
    assert "XIT" in capsys.readouterr().err
    mat = tmp_path / "j2.toml"
    J2Plasticity(E=E, nu=NU, sigma_y=SY, H=H).save(mat)
    assert main(["compare", j2, *props, "--material", str(mat), "--state", "alpha=7", "--json", "-"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert max(r["stress"] for r in rows) <= 1e-12
    argparse_register_smoke()


def test_cli_never_overwrites_without_force_nor_its_inputs(tmp_path, capsys):
    from constitutive.cli.umat import main

    src = tmp_path / "elastic.f"
    src.write_text((HERE / "elastic.f").read_text())
    report = tmp_path / "r.json"
    report.write_text("previous")
    args = ["check", str(src), "--props", "210e3", "0.3", "--increments", "1"]
    assert main([*args, "--json", str(report)]) == 2  # exists: refused before any work
    assert report.read_text() == "previous" and "--force" in capsys.readouterr().err
    assert main([*args, "--json", str(report), "--force"]) == 0
    assert json.loads(report.read_text())["passed"] is True
    before = src.read_text()
    assert main([*args, "--json", str(src), "--force"]) == 2  # the UMAT source is an input: never replaced
    assert src.read_text() == before and "Traceback" not in capsys.readouterr().err


def argparse_register_smoke():
    import argparse

    from constitutive.cli.umat import register, run

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["umat", "check", str(HERE / "elastic.f"), "--props", "210e3", "0.3", "--increments", "1"])
    assert args.func is run and run(args) == 0


def test_example_finds_the_planted_error():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "umat_planted_error", Path(__file__).resolve().parent.parent / "examples" / "umat_planted_error.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(increments=4, amplitude=0.006, verbose=False)
    assert out["good"].passed and not out["bad"].passed
    its = out["iterations"]
    assert its["consistent"] is not None
    assert its["planted error"] is None or its["planted error"] > 2 * its["consistent"]


def test_cli_takes_a_load_path_file_and_finite_strain(tmp_path, capsys):
    from constitutive.cli.umat import main

    toml = tmp_path / "path.toml"
    toml.write_text('[path]\nmode = "uniaxial_stress"\namplitude = 0.004\ncycles = 1\nincrements = 3\n')
    j2 = str(HERE / "j2.f")
    assert main(["check", j2, "--props", "210e3", "0.3", "250", "1e3", "--nstatv", "8", "--path", str(toml)]) == 0
    out = capsys.readouterr().out
    assert "PASSED: DDSDDE consistent in all 15 increments" in out  # 3 + 6 + 6 steps of the file's path
    assert (
        main(["check", str(HERE / "neohooke.f"), "--props", "0.5", "40", "--finite-strain", "--increments", "2"]) == 0
    )
    assert "NLGEOM" in capsys.readouterr().out
    assert main(["check", j2, "--props", "1", "--path", str(tmp_path / "missing.toml")]) == 2


def test_prebuilt_library_resolves_xit_to_the_support_library(tmp_path):
    """A library compiled without the package (as a user ships it) finds XIT in the support library."""
    import subprocess

    from constitutive.umat import ABA_PARAM_INC, UMAT, UMATError

    (tmp_path / "ABA_PARAM.INC").write_text(ABA_PARAM_INC)
    lib = tmp_path / "libmine.so"
    subprocess.run(
        ["gfortran", "-O2", "-fPIC", "-shared", f"-I{tmp_path}", "-o", str(lib), str(HERE / "xit.f")], check=True
    )
    u = UMAT(lib, [E, NU, 1e-3, 1])
    s, st, _ = u.update(torch.diag(torch.tensor([5e-4, 0, 0], dtype=torch.float64)), u.initial_state())
    assert float(s[0, 0]) == pytest.approx(5e-4 * E * (1 - NU) / ((1 + NU) * (1 - 2 * NU)), rel=1e-14)
    with pytest.raises(UMATError, match="XIT"):
        u.update(torch.diag(torch.tensor([2e-3, 0, 0], dtype=torch.float64)), st)


def test_support_library_compiles_without_warnings(tmp_path):
    import subprocess

    from constitutive.umat._support import SUPPORT_C

    (tmp_path / "s.c").write_text(SUPPORT_C)
    proc = subprocess.run(
        ["gcc", "-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-o", str(tmp_path / "s.so"), str(tmp_path / "s.c")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and proc.stderr == ""


def test_first_piola_update_from_a_history_state_matches_finite_differences():
    u = _umat("neohooke.f", [0.5, 40.0], finite_strain=True)
    model = NeoHookean(mu=0.5, lmbda=40.0)
    F1 = torch.tensor([[1.1, 0.1, 0.0], [0.0, 0.95, 0.02], [0.0, 0.0, 1.02]], dtype=torch.float64)
    F2 = torch.tensor([[1.25, 0.2, 0.0], [0.05, 0.9, 0.05], [0.0, -0.1, 1.1]], dtype=torch.float64)
    _, st, _ = u.update(F1, u.initial_state(), 0.5)
    P, st2, A = u.first_piola_update(F2, st, 0.5)
    assert _rel(P, model.first_piola(F2)) <= 1e-12 and int(st2["kinc"]) == 2
    # an independent route: central differences of P over all nine components of F (full convention)
    A_fd = torch.zeros(3, 3, 3, 3, dtype=torch.float64)
    h = 1e-6
    for k in range(3):
        for l in range(3):
            dF = torch.zeros(3, 3, dtype=torch.float64)
            dF[k, l] = h
            A_fd[..., k, l] = (u.first_piola_update(F2 + dF, st)[0] - u.first_piola_update(F2 - dF, st)[0]) / (2 * h)
    assert _rel(A, A_fd) <= 1e-8
    copy = u.with_parameters(props=[0.6, 40.0])
    assert copy.finite_strain and copy.to_dict()["options"]["source"].endswith("neohooke.f")


def test_compare_is_relative_to_the_path_scale_where_the_stress_crosses_zero():
    # The reversal path passes through zero stress: relative to the stress of that increment alone, round-off
    # read as a difference of order 1e287; relative to the largest stress of the path it is round-off.
    from constitutive.umat.check import compare_umat

    rep = compare_umat(_umat("elastic.f", [E, NU]), LinearElastic(E=E, nu=NU))
    reversal = [r for r in rep.rows if r["path"] == "reversal"]
    assert reversal and max(r["stress"] for r in reversal) <= 1e-13
    assert max(r["stress"] for r in rep.rows) <= 1e-13 and max(r["tangent"] for r in rep.rows) <= 1e-13
