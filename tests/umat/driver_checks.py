"""UMAT checks of the driver, run by ``tests/test_driver.py`` (with a UMAT cache of their own; see there).

1. A history-dependent finite-strain UMAT (``softening.f``) is driven along an F-controlled path with its state
   carried from increment to increment: the driver's per-increment stress and state equal a hand loop over
   ``first_piola_update`` at the driver's F's, and differ from one increment from the virgin state.
2. The finite-strain neo-Hookean UMAT (``neohooke.f``) matches the package's NeoHookean step by step, one UMAT
   increment per converged step; a small-strain UMAT on a finite path is refused up front.
3. PNEWDT = 0.25 (``cutback.f``) cuts a failed step into four equal sub-steps at once, counted as two halvings of
   the ``cutbacks`` budget; failed attempts leave no trace in the state.

Run: ``PYTHONPATH=. python tests/umat/driver_checks.py`` (prints "3 UMAT driver checks passed").
"""

from __future__ import annotations

from pathlib import Path

import torch

from constitutive import paths
from constitutive.driver import DriverError, drive
from constitutive.models import NeoHookean
from constitutive.umat import UMAT

HERE = Path(__file__).resolve().parent


def check_stateful_finite_strain() -> None:
    u = UMAT(HERE / "softening.f", [0.5, 40.0, 2.0], nstatv=1, finite_strain=True)
    res = drive(u, paths.uniaxial_stress([0.3], increments=5, kinematics="finite"), check_tangent=True)
    assert res.completed and "tangent check: PASS" in res.summary(), res.summary()
    assert res.state["kinc"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    state = u.initial_state()
    for k in range(1, res.n_steps + 1):
        P, state, _ = u.first_piola_update(res.strain[k], state, float(res.time[k] - res.time[k - 1]))
        assert torch.equal(P, res.stress[k]), k
        assert torch.equal(state["statev"], res.state["statev"][k]), k
    assert float(res.state["statev"][-1, 0]) > 0.5
    virgin = u.first_piola(res.strain[-1])  # one increment from the virgin state: another stress
    assert float((virgin - res.stress[-1]).abs().max()) > 0.1 * float(res.stress[-1].abs().max())
    assert float(res.stress[1:, 1, 1].abs().max()) <= 1e-10  # uniaxial: P22 = 0 at every step


def check_neo_hookean_umat() -> None:
    u = UMAT(HERE / "neohooke.f", [0.5, 40.0], finite_strain=True)
    path = paths.uniaxial_stress([0.4], increments=4, kinematics="finite")
    ru, rm = drive(u, path), drive(NeoHookean(0.5, 40.0), path)
    assert float((ru.stress - rm.stress).abs().max()) <= 1e-12 * float(rm.stress.abs().max())
    assert ru.state["kinc"][-1] == 4
    try:
        drive(UMAT(HERE / "neohooke.f", [0.5, 40.0]), path)
    except ValueError as err:
        assert "finite_strain=False" in str(err), err
    else:
        raise AssertionError("a small-strain UMAT on a finite path was accepted")


def check_pnewdt_ratio() -> None:
    u = UMAT(HERE / "cutback.f", [210e3, 0.3, 2e-3])
    res = drive(u, paths.uniaxial_strain([0.006], increments=1), cutbacks=2)
    assert res.completed and res.n_steps == 4, res.n_steps
    assert res.extra["cutbacks"] == 2
    expected = torch.tensor([0.0015, 0.003, 0.0045, 0.006], dtype=torch.float64)
    assert torch.allclose(res.strain[1:, 0, 0], expected)
    assert res.state["kinc"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    try:
        drive(u, paths.uniaxial_strain([0.006], increments=1), cutbacks=1)
    except DriverError as err:
        assert "PNEWDT" in str(err), err
    else:
        raise AssertionError("a cut into four fitted in a budget of one halving")


if __name__ == "__main__":
    checks = [check_stateful_finite_strain, check_neo_hookean_umat, check_pnewdt_ratio]
    for check in checks:
        check()
    print(f"{len(checks)} UMAT driver checks passed")
