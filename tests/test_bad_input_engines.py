"""Bad input to the engines (paths, driver, check, export engine, experiments, calibrate, data readers): each call
gets a clear, named error whose message says what is wrong -- never an AttributeError or a silent result.

One parametrised table: (id, call, expected error type, a phrase the message must contain). Valid edge cases that
must keep working are at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from constitutive import data, paths
from constitutive import export as ex
from constitutive.calibrate import Experiment, calibrate, experiment_from_config, run_config, uniaxial_stress_response
from constitutive.check import check_tangent, finite_difference_tangent, taylor_remainder
from constitutive.driver import drive
from constitutive.models import J2Plasticity, LinearElastic, NeoHookean
from constitutive.paths import LoadPath, Segment

NAN, INF = math.nan, math.inf
LE = LinearElastic(200e3, 0.3)
J2 = J2Plasticity(200e3, 0.3, 250.0, 1000.0)
NH = NeoHookean(1.0, 10.0)
UP = paths.uniaxial_stress([0.01], increments=2)
EPS = 1e-3 * torch.eye(3, dtype=torch.float64)
ZERO6 = {"22": 0.0, "33": 0.0, "23": 0.0, "13": 0.0, "12": 0.0}


def _tension() -> Experiment:
    return Experiment.uniaxial_stress([1e-3, 2e-3], [200.0, 400.0])


def _cal(**kw: Any) -> Any:
    args: dict[str, Any] = {"initial": {"E": 1e5}, "options": {"nu": 0.3}}
    args.update(kw)
    return calibrate("LinearElastic", _tension(), **args)


CASES: list[tuple[str, Callable[[], Any], type[BaseException], str]] = [
    # ---------------------------------------------------------------- paths
    ("segment NaN target", lambda: LoadPath([Segment({"11": NAN, **ZERO6})]), ValueError, "must be finite"),
    ("segment inf target", lambda: LoadPath([Segment({"11": INF, **ZERO6})]), ValueError, "must be finite"),
    ("segment text target", lambda: LoadPath([Segment({"11": "a", **ZERO6})]), ValueError, "number or a tensor"),
    ("segment strain not a mapping", lambda: LoadPath([Segment([0.1], {})]), ValueError, "must be a mapping"),
    (
        "segment fractional increments",
        lambda: LoadPath([Segment({"11": 0.1, **ZERO6}, increments=2.5)]),
        ValueError,
        "increments must be a positive integer",
    ),
    (
        "segment text increments",
        lambda: LoadPath([Segment({"11": 0.1, **ZERO6}, increments="3")]),
        ValueError,
        "increments must be a positive integer",
    ),
    (
        "segment text duration",
        lambda: LoadPath([Segment({"11": 0.1, **ZERO6}, duration="x")]),
        ValueError,
        "duration must be",
    ),
    (
        "segment NaN duration",
        lambda: LoadPath([Segment({"11": 0.1, **ZERO6}, duration=NAN)]),
        ValueError,
        "duration must be",
    ),
    (
        "segment batches do not broadcast",
        lambda: LoadPath([Segment({"11": torch.zeros(2), "22": torch.zeros(3), "33": 0, "23": 0, "13": 0, "12": 0})]),
        ValueError,
        "do not broadcast",
    ),
    ("path of dicts", lambda: LoadPath([{"11": 0.1}]), ValueError, "Segment objects"),
    ("path without segments", lambda: LoadPath([]), ValueError, "non-empty list of segments"),
    ("path kinematics", lambda: LoadPath([Segment({})], kinematics="large"), ValueError, "large"),
    ("path plus a number", lambda: UP + 3, TypeError, "unsupported operand"),
    ("amplitudes NaN", lambda: paths.uniaxial_stress([NAN]), ValueError, "must be finite"),
    ("amplitudes empty", lambda: paths.uniaxial_stress([]), ValueError, ""),
    ("cyclic amplitude NaN", lambda: paths.cyclic("uniaxial_stress", NAN), ValueError, "must be finite"),
    ("negative increments", lambda: paths.uniaxial_stress([0.1], increments=-1), ValueError, "increments"),
    ("negative duration", lambda: paths.uniaxial_stress([0.1], duration=-1.0), ValueError, "duration"),
    ("negative cycles", lambda: paths.cyclic("uniaxial_stress", 0.01, -1), ValueError, "cycles"),
    ("path file not a mapping", lambda: paths.path_from_dict([1, 2]), ValueError, "must be a mapping"),
    ("steps not an array", lambda: paths.path_from_dict({"steps": 3}), ValueError, "array of tables"),
    ("step not a table", lambda: paths.path_from_dict({"steps": [3]}), ValueError, "step 1 must be a table"),
    # ---------------------------------------------------------------- driver
    ("drive a string", lambda: drive("LinearElastic", UP), ValueError, "cannot drive"),
    ("drive without a path", lambda: drive(LE, None), ValueError, "LoadPath"),
    ("fractional max_iter", lambda: drive(LE, UP, max_iter=2.5), ValueError, "max_iter must be a positive integer"),
    ("zero max_iter", lambda: drive(LE, UP, max_iter=0), ValueError, "max_iter must be a positive integer"),
    ("fractional cutbacks", lambda: drive(LE, UP, cutbacks=1.5), ValueError, "cutbacks must be a non-negative"),
    ("negative line_search", lambda: drive(LE, UP, line_search=-1), ValueError, "line_search must be"),
    ("negative rtol", lambda: drive(LE, UP, rtol=-1.0), ValueError, "rtol must be a finite non-negative"),
    ("NaN rtol", lambda: drive(LE, UP, rtol=NAN), ValueError, "rtol must be a finite non-negative"),
    ("negative atol", lambda: drive(LE, UP, atol=-1.0), ValueError, "atol must be a finite non-negative"),
    ("text batch_shape", lambda: drive(LE, UP, batch_shape="ab"), ValueError, "batch_shape"),
    ("negative batch_shape", lambda: drive(LE, UP, batch_shape=(-1,)), ValueError, "batch_shape"),
    (
        "batch_shape against the path",
        lambda: drive(LE, paths.uniaxial_stress(torch.full((1, 3), 0.01)), batch_shape=(2,)),
        ValueError,
        "does not broadcast",
    ),
    ("progress not callable", lambda: drive(LE, UP, progress=3), ValueError, "progress must be a callable"),
    ("check_tangent not a flag", lambda: drive(LE, UP, check_tangent="yes"), ValueError, "check_tangent must be"),
    (
        "tangent_tolerance negative",
        lambda: drive(LE, UP, check_tangent=True, tangent_tolerance=-1.0),
        ValueError,
        "tangent_tolerance must be a positive",
    ),
    ("unknown tangent", lambda: drive(LE, UP, tangent="numerical"), ValueError, "tangent must be"),
    (
        "small-strain model on a finite path",
        lambda: drive(LE, paths.uniaxial_stress([0.1], kinematics="finite")),
        ValueError,
        "first_piola",
    ),
    ("on_failure", lambda: drive(LE, UP, on_failure="ignore"), ValueError, "on_failure"),
    # ---------------------------------------------------------------- check
    ("check None", lambda: check_tangent(None, EPS), ValueError, "fn_or_model"),
    ("check rtol -1", lambda: check_tangent(LE, EPS, rtol=-1), ValueError, "rtol must be a positive"),
    ("check atol 0", lambda: check_tangent(LE, EPS, atol=0.0), ValueError, "atol must be a positive"),
    ("check step 0", lambda: check_tangent(LE, EPS, step=0.0), ValueError, "step must be positive"),
    ("check strain shape", lambda: check_tangent(LE, torch.zeros(3)), ValueError, "strain"),
    ("check strain NaN", lambda: check_tangent(LE, torch.full((3, 3), NAN)), ValueError, "strain"),
    ("check method", lambda: check_tangent(LE, EPS, method="spline"), ValueError, "unknown method"),
    ("check negative dt", lambda: check_tangent(J2, EPS, dt=-1.0), ValueError, "dt must be finite and non-negative"),
    (
        "check state for an elastic model",
        lambda: check_tangent(LE, EPS, state={"a": torch.zeros(1)}),
        ValueError,
        "path-dependent models",
    ),
    ("check state keys", lambda: check_tangent(J2, EPS, state={"x": torch.zeros(1)}), ValueError, "state"),
    ("fd of a number", lambda: finite_difference_tangent(3, EPS), ValueError, "fn must be a callable"),
    ("fd negative step", lambda: finite_difference_tangent(LE.stress, EPS, step=-1.0), ValueError, "step"),
    ("fd NaN strain", lambda: finite_difference_tangent(LE.stress, torch.full((3, 3), NAN)), ValueError, "strain"),
    (
        "taylor NaN step",
        lambda: taylor_remainder(LE.stress, EPS, LE.tangent(EPS), hs=[NAN, 1e-3, 1e-4]),
        ValueError,
        "hs must hold at least three positive finite steps",
    ),
    (
        "taylor two steps",
        lambda: taylor_remainder(LE.stress, EPS, LE.tangent(EPS), hs=[1e-3, 1e-4]),
        ValueError,
        "at least three",
    ),
    ("taylor tangent shape", lambda: taylor_remainder(LE.stress, EPS, torch.eye(6)), ValueError, "tangent"),
    # ---------------------------------------------------------------- export engine
    ("export a string", lambda: ex.export_model("steel", EPS), ValueError, "needs a constitutive Material"),
    ("export None", lambda: ex.export_model(None, EPS), ValueError, "needs a constitutive Material"),
    ("export NaN strain", lambda: ex.export_model(LE, torch.full((3, 3), NAN)), ValueError, "strain"),
    ("export negative dt", lambda: ex.export_model(J2, EPS, dt=-1.0), ValueError, "dt must be a finite"),
    ("export state for an elastic model", lambda: ex.export_model(LE, EPS, state={}), ValueError, "no history"),
    ("export empty units", lambda: ex.export_model(LE, EPS, units=" "), ValueError, "units must be"),
    ("export numeric units", lambda: ex.export_model(LE, EPS, units=3), ValueError, "units must be"),
    (
        "plane stress vector length",
        lambda: ex.export_model(LE, [1e-3, 0.0], hypothesis="plane_stress"),
        ValueError,
        "plane-stress strain",
    ),
    ("plane stress NaN", lambda: ex.export_model(LE, [NAN, 0.0, 0.0], hypothesis="plane_stress"), ValueError, "strain"),
    (
        "plane stress for another code",
        lambda: ex.export_model(LE, [1e-3, 0, 0], "ansys", "plane_stress"),
        ValueError,
        "plane_stress",
    ),
    ("unknown hypothesis", lambda: ex.export_model(LE, EPS, hypothesis="2d"), ValueError, "unknown hypothesis"),
    (
        "export_state NaN",
        lambda: ex.export_state(torch.full((3, 3), NAN), torch.zeros(3, 3, 3, 3)),
        ValueError,
        "stress",
    ),
    (
        "export_state batches",
        lambda: ex.export_state(torch.zeros(2, 3, 3), torch.zeros(3, 3, 3, 3, 3, 3)),
        ValueError,
        "do not broadcast",
    ),
    (
        "finite export of a small-strain model",
        lambda: ex.export_finite_strain(LE, torch.eye(3)),
        ValueError,
        "lacks cauchy",
    ),
    ("finite export to ansys", lambda: ex.export_finite_strain(NH, torch.eye(3), "ansys"), ValueError, "'abaqus'"),
    ("layout None", lambda: ex.layout(None), ValueError, "code must be an FE code name"),
    ("unknown code", lambda: ex.layout("nastran"), ValueError, "unknown FE code"),
    ("fortran flat NTENS 0", lambda: ex.from_fortran_flat(np.zeros(0), 0), ValueError, "ntens must be 3, 4 or 6"),
    ("fortran flat length", lambda: ex.from_fortran_flat(np.zeros(10), 3), ValueError, "9 entries"),
    ("pack NaN", lambda: ex.pack_upper(np.full((6, 6), NAN)), ValueError, "NaN or Inf"),
    ("pack shape", lambda: ex.pack_upper(np.zeros((5, 5))), ValueError, "(..., 6, 6)"),
    ("unpack length", lambda: ex.unpack_upper(np.zeros(20)), ValueError, "21 constants"),
    (
        "plane_stress_strain of a 3D export",
        lambda: ex.plane_stress_strain(ex.export_model(LE, EPS)),
        ValueError,
        "not a plane-stress export",
    ),
    ("read a missing file", lambda: ex.read("/nonexistent/state.json"), FileNotFoundError, "state.json"),
    # ---------------------------------------------------------------- experiments
    ("unknown mode", lambda: Experiment("a", "torsion", [1, 2], [1, 2]), ValueError, "unknown mode"),
    ("lengths differ", lambda: Experiment.uniaxial_stress([1e-3, 2e-3], [1.0]), ValueError, "2 points but y has 1"),
    ("NaN in data", lambda: Experiment.uniaxial_stress([1e-3, NAN], [1.0, 2.0]), ValueError, "non-finite"),
    ("empty data", lambda: Experiment.uniaxial_stress([], []), ValueError, "empty"),
    ("2-d data", lambda: Experiment.uniaxial_stress([[1e-3]], [[1.0]]), ValueError, "one-dimensional"),
    ("negative weight", lambda: Experiment.uniaxial_stress([1e-3], [1.0], weight=-1), ValueError, "weight"),
    ("text weight", lambda: Experiment.uniaxial_stress([1e-3], [1.0], weight="a"), ValueError, "weight must be"),
    ("empty name", lambda: Experiment("", "uniaxial_stress", [1e-3], [1.0]), ValueError, "non-empty name"),
    ("empty unit", lambda: Experiment.uniaxial_stress([1e-3], [1.0], stress_unit=""), ValueError, "stress_unit"),
    (
        "negative stretch",
        lambda: Experiment.rubber("uniaxial", [-1.0, 1.1], [0.1, 0.2]),
        ValueError,
        "stretches must be positive",
    ),
    ("unknown rubber mode", lambda: Experiment.rubber("shear", [1.1], [0.1]), ValueError, "unknown rubber"),
    ("subsample one point", lambda: _tension().subsample(1), ValueError, "points must be >= 2"),
    ("subsample text", lambda: _tension().subsample("2"), ValueError, "points must be >= 2"),
    (
        "predict with None",
        lambda: Experiment.rubber("uniaxial", [1.1, 1.2], [0.1, 0.2]).predict(None),
        TypeError,
        "must be a constitutive Material",
    ),
    (
        "rubber data for J2",
        lambda: Experiment.rubber("uniaxial", [1.1, 1.2], [0.1, 0.2]).predict(J2),
        TypeError,
        "no nominal_stress",
    ),
    (
        "uniaxial response of None",
        lambda: uniaxial_stress_response(None, torch.tensor([1e-3])),
        TypeError,
        "must be a constitutive Material",
    ),
    ("uniaxial response NaN", lambda: uniaxial_stress_response(J2, torch.tensor([NAN])), ValueError, "NaN"),
    ("uniaxial response empty", lambda: uniaxial_stress_response(J2, torch.zeros(0)), ValueError, "empty"),
    (
        "uniaxial response tol",
        lambda: uniaxial_stress_response(J2, torch.tensor([1e-3]), tol=-1.0),
        ValueError,
        "tol must be",
    ),
    (
        "uniaxial response route",
        lambda: uniaxial_stress_response(J2, torch.tensor([1e-3]), route="x"),
        ValueError,
        "route",
    ),
    # ---------------------------------------------------------------- calibrate
    (
        "calibrate without experiments",
        lambda: calibrate("LinearElastic", None, {"E": 1.0}),
        ValueError,
        "experiments must be",
    ),
    ("calibrate strings", lambda: calibrate("LinearElastic", ["a"], {"E": 1.0}), ValueError, "Experiment objects"),
    ("calibrate empty initial", lambda: _cal(initial={}), ValueError, "initial must be a non-empty mapping"),
    ("calibrate initial None", lambda: _cal(initial=None), ValueError, "initial must be a non-empty mapping"),
    ("calibrate NaN initial", lambda: _cal(initial={"E": NAN}), ValueError, "E"),
    ("calibrate unknown option", lambda: _cal(options={"nux": 0.3}), ValueError, "does not take"),
    ("calibrate negative floor", lambda: _cal(relative_floor=-1.0), ValueError, "relative_floor"),
    ("calibrate max_nfev 0", lambda: _cal(max_nfev=0), ValueError, "max_nfev"),
    ("calibrate negative ftol", lambda: _cal(ftol=-1.0), ValueError, "ftol"),
    ("calibrate integer dtype", lambda: _cal(dtype=torch.int64), ValueError, "floating-point"),
    (
        "calibrate unknown model",
        lambda: calibrate("Steel", _tension(), {"E": 1.0}),
        ValueError,
        "Steel",
    ),
    ("calibrate error measure", lambda: _cal(error="squared"), ValueError, "error measure"),
    ("config not a table", lambda: experiment_from_config([1]), Exception, ""),
    ("run_config of a number", lambda: run_config(3), ValueError, "config must be a path"),
    ("calibrate bounds list", lambda: _cal(bounds=[1, 2]), ValueError, "bounds must be a mapping"),
    ("calibrate fixed number", lambda: _cal(fixed=3), ValueError, "fixed must be"),
    ("calibrate callback number", lambda: _cal(callback=3), ValueError, "callback must be"),
    ("experiment text data", lambda: Experiment.uniaxial_stress("abc", [1.0]), ValueError, "must be numbers"),
    (
        "uniaxial response negative dt",
        lambda: uniaxial_stress_response(J2, torch.tensor([1e-3]), route="incremental", dt=-1.0),
        ValueError,
        "dt must hold finite non-negative",
    ),
    ("check richardson text", lambda: check_tangent(LE, EPS, richardson="no"), ValueError, "richardson"),
    (
        "config missing file",
        lambda: experiment_from_config({"file": "nope.csv", "mode": "uniaxial"}),
        FileNotFoundError,
        "nope.csv",
    ),
    # ---------------------------------------------------------------- data readers
    ("treloar mode", lambda: data.load_treloar("torsion"), ValueError, "torsion"),
    ("tension E negative", lambda: data.load_tension_test("tension_St1594.csv").true_curve(E=-1.0), ValueError, "E"),
    ("tension E NaN", lambda: data.load_tension_test("tension_St1594.csv").true_curve(E=NAN), ValueError, "E"),
    (
        "tension points text",
        lambda: data.load_tension_test("tension_St1594.csv").experiment(points="5"),
        ValueError,
        "points must be >= 2",
    ),
    (
        "tension modulus window",
        lambda: data.load_tension_test("tension_St1594.csv").apparent_modulus(0.5, 0.1),
        ValueError,
        "",
    ),
]


@pytest.mark.parametrize("call,error,phrase", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_named_error(call: Callable[[], Any], error: type[BaseException], phrase: str) -> None:
    with pytest.raises(error) as info:
        call()
    assert not isinstance(info.value, AttributeError)
    assert phrase in str(info.value), str(info.value)


# ---------------------------------------------------------------- valid edge cases keep working
def test_valid_edge_cases() -> None:
    # compression (negative amplitudes) and a zero-duration segment for a rate-independent model
    assert drive(LE, paths.uniaxial_stress([-0.01])).completed
    assert drive(LE, paths.uniaxial_stress([0.01], duration=0.0)).completed
    # numpy integers count as integers, rtol 0 is raised to the dtype's floor
    assert drive(LE, UP, max_iter=np.int64(5), rtol=0.0).completed
    # a target tensor per point broadcasts with batch_shape
    res = drive(LE, paths.uniaxial_stress(torch.tensor([[0.01, 0.02]])), batch_shape=(2,))
    assert res.strain.shape == (11, 2, 3, 3)  # 10 increments (default) + the initial state
    # export_state broadcasts a single tangent over a batch of stresses
    out = ex.export_state(torch.zeros(4, 3, 3), LE.tangent(EPS))
    assert out.stress.shape == (4, 6) and out.tangent.shape == (4, 6, 6) and out.fortran_flat().shape == (4, 36)
    # dt = 0 for a rate-independent model, a numpy-float weight
    assert check_tangent(J2, EPS, dt=0.0).passed
    assert Experiment.uniaxial_stress([1e-3], [1.0], weight=np.float64(2.0)).weight == 2.0
