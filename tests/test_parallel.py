"""constitutive.calibrate.parallel: run_tasks serially, in a local process pool and on a Dask LocalCluster (one
per module, two worker processes), with bit-identical results; picklable calibration tasks; progress; errors.

One LocalCluster (processes) serves every Dask test here, as a client and through its scheduler address; the
stdlib process pool (the fallback without Dask) is started once.
"""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest

from constitutive.calibrate import Experiment, calibrate
from constitutive.calibrate.campaign import Campaign
from constitutive.calibrate.multistart import MultiStartResult, calibrate_multistart
from constitutive.calibrate.parallel import (
    CalibrationTask,
    TaskFailure,
    resolve_scheduler,
    run_calibration,
    run_tasks,
)
from constitutive.data import load_treloar
from constitutive.models.hyperelastic import Ogden

STRETCH = np.linspace(1.05, 4.0, 15)
DATA = 0.4 * (STRETCH - STRETCH**-2.0)
BOUNDS = {"mu": (-1.0, 1.0), "alpha": (-8.0, 8.0)}


def _multistart(scheduler, **kw) -> MultiStartResult:  # noqa: ANN001, ANN003
    exp = Experiment.rubber("uniaxial", STRETCH, DATA, name="synthetic")
    return calibrate_multistart(
        Ogden, exp, {"mu": [0.3], "alpha": [1.5]}, bounds=BOUNDS, starts=4, scheduler=scheduler, **kw
    )


@pytest.fixture(scope="module")
def serial() -> MultiStartResult:
    return _multistart("serial")


@pytest.fixture(scope="module")
def client():  # noqa: ANN201
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def _same(a: MultiStartResult, b: MultiStartResult) -> None:
    assert len(a.results) == len(b.results)
    for ra, rb in zip(a.results, b.results):
        assert type(ra) is type(rb)
        if isinstance(ra, TaskFailure):
            assert (ra.tag, ra.message) == (rb.tag, rb.message)
        else:  # bit for bit
            np.testing.assert_array_equal(ra.x, rb.x)
            assert ra.cost == rb.cost and ra.nfev == rb.nfev
    assert a.table() == b.table()


def test_a_local_cluster_gives_bit_identical_results_in_task_order(serial: MultiStartResult, client) -> None:  # noqa: ANN001
    calls: list[tuple[int, int]] = []
    parallel = _multistart(client, progress=lambda done, total: calls.append((done, total)))
    _same(serial, parallel)
    assert calls == [(k, 5) for k in range(1, 6)]
    # the same cluster through its scheduler address (a new client, closed afterwards)
    _same(serial, _multistart(client.scheduler.address))


def test_a_task_error_on_the_cluster_propagates_unchanged(client) -> None:  # noqa: ANN001
    exp = Experiment.rubber("uniaxial", STRETCH, DATA, name="synthetic")
    good = CalibrationTask(Ogden, exp, {"mu": [0.3], "alpha": [1.5]}, {"bounds": BOUNDS})
    bad = CalibrationTask(Ogden, exp, {"mu": [-0.3], "alpha": [1.5]}, {"bounds": BOUNDS})
    with pytest.raises(ValueError, match="rejects the initial parameters"):
        run_tasks(run_calibration, [good, bad], scheduler=client)


def test_campaign_fits_on_the_cluster_equal_the_serial_fits(client) -> None:  # noqa: ANN001
    campaign = Campaign.from_files(
        ["tension_St1594.csv", "tension_St1595.csv"],
        material="steel",
        E=210e3,
        points=25,
        monotonic="drop",
        name="steel",
    )
    fit = dict(
        model="J2Plasticity",
        initial={"sigma_y": 300.0, "Q": 200.0, "b": 10.0},
        fixed={"E": 210e3, "nu": 0.3, "H": 0.0},
        options={"hardening": "voce"},
        bounds={"sigma_y": (1.0, 1e4), "Q": (0.0, 1e4), "b": (1e-3, 1e3)},
    )
    a = campaign.fit(**fit, scheduler="serial")
    b = campaign.fit(**fit, scheduler=client)
    for ra, rb in zip(a.each + [a.joint], b.each + [b.joint]):
        np.testing.assert_array_equal(ra.x, rb.x)
    assert a.table() == b.table()


def test_the_process_pool_gives_bit_identical_results(serial: MultiStartResult) -> None:
    _same(serial, _multistart("processes", workers=2))


def test_a_calibration_task_pickles_and_runs_the_same() -> None:
    exp = load_treloar("uniaxial").experiment().subsample(8)
    task = CalibrationTask("NeoHookean", [exp], {"mu": 0.5}, {"max_nfev": 20})
    copy = pickle.loads(pickle.dumps(task))
    a, b = run_calibration(task), run_calibration(copy)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.x, calibrate("NeoHookean", [exp], {"mu": 0.5}, max_nfev=20).x)
    # a result pickles too (it travels back from the workers)
    assert pickle.loads(pickle.dumps(a)).parameters == a.parameters
    caught = run_calibration(CalibrationTask(Ogden, [exp], {"mu": [-0.3], "alpha": [1.5]}, catch=True, tag=3))
    assert isinstance(caught, TaskFailure) and caught.tag == 3 and "rejects" in str(caught)


def test_serial_runs_in_order_with_progress(capsys) -> None:  # noqa: ANN001
    calls: list[tuple[int, int]] = []
    assert run_tasks(abs, [-3, 2, -1], scheduler="serial", progress=lambda d, t: calls.append((d, t))) == [3, 2, 1]
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert run_tasks(abs, [-1, -2], workers=1, progress=True) == [1, 2]  # workers=1: serial, no pool
    err = capsys.readouterr().err
    assert "[run_tasks] 2/2 done" in err and err.endswith("\n")
    assert run_tasks(abs, [], scheduler="serial") == []
    assert run_tasks(abs, [-5]) == [5]  # a single task runs in this process


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown scheduler 'cluster'"):
        run_tasks(abs, [1, 2], scheduler="cluster")
    with pytest.raises(ValueError, match="scheduler must be"):
        run_tasks(abs, [1, 2], scheduler=3)
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        run_tasks(abs, [1, 2], workers=0)
    with pytest.raises(ValueError, match="progress must be"):
        run_tasks(abs, [1, 2], scheduler="serial", progress="yes")
    with pytest.raises(ValueError, match="fn must be callable"):
        run_tasks(None, [1, 2])
    exp = Experiment.rubber("uniaxial", STRETCH, DATA, name="synthetic")
    task = CalibrationTask(lambda mu, alpha: Ogden(mu, alpha), exp, {"mu": [0.3], "alpha": [1.5]})
    with pytest.raises(ValueError, match="task 1 cannot be sent to worker processes"):  # checked before any worker
        run_tasks(run_calibration, [CalibrationTask(Ogden, exp, {"mu": [0.3], "alpha": [1.5]}), task], workers=2)
    with pytest.raises(ValueError, match="task function"):
        run_tasks(lambda t: t, [1, 2], scheduler="processes")


def test_without_dask_local_falls_back_to_processes_and_dask_asks_for_the_extra(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert resolve_scheduler(None, tasks=4) == "processes"
    assert resolve_scheduler("local", workers=2) == "processes"
    assert resolve_scheduler("serial") == "serial" and resolve_scheduler(None, tasks=1) == "serial"
    with pytest.raises(ImportError, match=r"constitutive\[parallel\]"):
        run_tasks(abs, [1, 2], scheduler="tcp://127.0.0.1:1")
