r"""Independent tasks (the starts of a multi-start fit, the specimens of a campaign) run serially, in local processes
or on a Dask cluster: :func:`run_tasks`.

Where the tasks run, ``scheduler``:

* ``"serial"``: one after another in this process (also chosen for a single task or ``workers=1``);
* ``"local"`` (the default, ``None``): in parallel on this machine, ``workers`` processes (default: the number of
  CPUs, at most one per task), each with one torch thread. With ``dask.distributed`` installed (the ``parallel``
  extra: ``pip install "constitutive[parallel]"``) this is a ``distributed.LocalCluster`` (processes, one thread
  each), the same code path as a remote cluster, with Dask's diagnostics; without it, a
  ``concurrent.futures.ProcessPoolExecutor`` (``spawn``), so the base install is parallel as well;
* ``"processes"``: the ``ProcessPoolExecutor`` even when Dask is installed;
* ``"tcp://host:port"`` (any address with ``://``): the Dask scheduler there (``distributed.Client(address)``; the
  workers must be able to import ``constitutive`` and the task's model);
* a ``distributed.Client``: used as it is (not closed afterwards), e.g. a ``LocalCluster`` the caller keeps for
  several runs.

Results come back in task order, whatever order the workers finish in. Each task is a pure function call
``fn(task)``: the same inputs give bit-identical results in every mode (the tests compare the fitted parameters of
a serial and a two-worker run bit for bit). In the local modes each worker runs torch with one intra-op thread, as
the test suite does, so parallel runs do not oversubscribe the cores.

Tasks must be picklable for the parallel modes: ``fn`` a module-level function, a model given as a class or a
registered name (a ``lambda`` factory does not pickle; a module-level factory function does), experiments with the
built-in responses or module-level ``response`` functions. :func:`run_tasks` pickles every task before starting
any worker and names the first one that fails.

Progress (``progress``): ``False``/``None`` (default) silent; ``True`` one line on stderr, rewritten in place as
tasks finish (``[run_tasks] 5/16 done, 3.2 s``); a callable receives ``progress(done, total)`` after each task.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The names :func:`run_tasks` accepts for ``scheduler`` besides an address and a ``distributed.Client``.
SCHEDULERS = ("serial", "local", "processes")

__all__ = [
    "SCHEDULERS",
    "CalibrationTask",
    "TaskFailure",
    "dask_available",
    "resolve_scheduler",
    "run_calibration",
    "run_tasks",
]


def dask_available() -> bool:
    """Whether ``dask.distributed`` can be imported (the ``parallel`` extra)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as err:
        raise ImportError(
            "running on a Dask cluster needs dask.distributed: pip install 'constitutive[parallel]' "
            "(or pip install 'dask[distributed]')"
        ) from err
    return distributed


def _is_client(scheduler: Any) -> bool:
    mod = type(scheduler).__module__ or ""
    return mod.startswith("distributed") and type(scheduler).__name__ == "Client"


def resolve_scheduler(scheduler: Any = None, *, workers: int | None = None, tasks: int | None = None) -> str:
    """The mode :func:`run_tasks` will use: ``"serial"``, ``"processes"``, ``"dask-local"`` (a ``LocalCluster``),
    ``"dask-address"`` or ``"dask-client"``. ``ValueError`` for an unknown name or a bad ``workers``."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive integer (or None: one per CPU), got {workers!r}")
    if scheduler is not None and not isinstance(scheduler, str):
        if _is_client(scheduler):
            return "dask-client"
        raise ValueError(
            f"scheduler must be None, one of {SCHEDULERS}, a Dask scheduler address 'tcp://host:port' or a "
            f"distributed.Client, got {scheduler!r}"
        )
    name = "local" if scheduler is None else scheduler.strip()
    if "://" in name:
        return "dask-address"
    if name not in SCHEDULERS:
        raise ValueError(
            f"unknown scheduler {scheduler!r}; give one of {SCHEDULERS}, a Dask scheduler address 'tcp://host:port' "
            "or a distributed.Client"
        )
    if name == "serial" or workers == 1 or (tasks is not None and tasks <= 1):
        return "serial"
    if name == "processes":
        return "processes"
    return "dask-local" if dask_available() else "processes"


class _Progress:
    """Counts finished tasks; reports to a callable or as one stderr line rewritten in place."""

    def __init__(self, progress: bool | Callable[[int, int], None] | None, total: int) -> None:
        if progress is not None and not isinstance(progress, bool) and not callable(progress):
            raise ValueError(f"progress must be True, False/None or a callable progress(done, total), got {progress!r}")
        self.progress, self.total, self.done = progress, total, 0
        self.start = time.perf_counter()

    def step(self) -> None:
        self.done += 1
        if callable(self.progress):
            self.progress(self.done, self.total)
        elif self.progress:
            end = "\n" if self.done == self.total else ""
            print(
                f"\r[run_tasks] {self.done}/{self.total} done, {time.perf_counter() - self.start:.1f} s",
                end=end,
                file=sys.stderr,
                flush=True,
            )


def _one_thread() -> None:
    """Worker initializer: one torch intra-op thread per worker process (the workers share the cores)."""
    import torch

    torch.set_num_threads(1)


def _check_picklable(fn: Callable[..., Any], tasks: Sequence[Any]) -> None:
    try:
        pickle.dumps(fn)
    except Exception as err:  # pickle raises PicklingError, AttributeError or TypeError
        raise ValueError(
            f"the task function {getattr(fn, '__qualname__', fn)!r} cannot be sent to worker processes ({err}); "
            "use a module-level function, or scheduler='serial'"
        ) from err
    for i, task in enumerate(tasks):
        try:
            pickle.dumps(task)
        except Exception as err:
            raise ValueError(
                f"task {i} cannot be sent to worker processes ({err}): give the model as a class, a registered name "
                "or a module-level factory function (not a lambda or a local function), experiments with module-level "
                "response functions, no callback; or run with scheduler='serial'"
            ) from err


def run_tasks(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool | Callable[[int, int], None] | None = False,
) -> list[Any]:
    """``[fn(task) for task in tasks]``, serially, in local processes or on a Dask cluster (module docstring).

    Parameters
    ----------
    fn:
        A function of one task (module-level, so it pickles, for the parallel modes).
    tasks:
        The tasks (picklable for the parallel modes); the results come back in this order.
    workers:
        Number of local worker processes (default: one per CPU, at most one per task); ``1`` runs serially.
        Ignored for a Dask address or client (the cluster has its workers).
    scheduler:
        ``None``/``"local"`` (default), ``"serial"``, ``"processes"``, ``"tcp://host:port"`` or a
        ``distributed.Client``.
    progress:
        ``False``/``None`` (default, silent), ``True`` (one stderr line) or ``progress(done, total)``.

    The first task that raises stops the run (the remaining tasks are cancelled) and its exception propagates
    unchanged. ``ValueError`` for an unknown scheduler, a bad ``workers`` or a task that does not pickle;
    ``ImportError`` naming the ``parallel`` extra when a Dask scheduler is asked for without ``dask.distributed``.
    """
    if not callable(fn):
        raise ValueError(f"fn must be callable, got {fn!r}")
    tasks = list(tasks)
    mode = resolve_scheduler(scheduler, workers=workers, tasks=len(tasks))
    report = _Progress(progress, len(tasks))
    if not tasks:
        return []
    if mode == "serial":
        results = []
        for task in tasks:
            results.append(fn(task))
            report.step()
        return results
    _check_picklable(fn, tasks)
    n = min(workers or os.cpu_count() or 1, len(tasks))
    if mode == "processes":
        return _run_processes(fn, tasks, n, report)
    return _run_dask(fn, tasks, mode, scheduler, n, report)


def _run_processes(fn: Callable[[Any], Any], tasks: list[Any], n: int, report: _Progress) -> list[Any]:
    import multiprocessing
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

    # spawn, not fork: a forked child of a process that has used torch's thread pool can deadlock
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n, mp_context=context, initializer=_one_thread) as pool:
        futures = [pool.submit(fn, task) for task in tasks]
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for f in done:
                if f.exception() is not None:
                    for g in pending:
                        g.cancel()
                    raise f.exception()  # type: ignore[misc]
                report.step()
        return [f.result() for f in futures]


def _run_dask(
    fn: Callable[[Any], Any], tasks: list[Any], mode: str, scheduler: Any, n: int, report: _Progress
) -> list[Any]:
    distributed = _import_distributed()
    cluster = None
    if mode == "dask-client":
        client = scheduler
    elif mode == "dask-address":
        client = distributed.Client(scheduler.strip())
    else:
        cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = distributed.Client(cluster)
        client.run(_one_thread)
    try:
        # pure=False: never merge two equal tasks into one key (each start is its own task)
        futures = [client.submit(fn, task, pure=False) for task in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(tasks)
        try:
            for future in distributed.as_completed(futures):
                results[index[future.key]] = future.result()  # re-raises a task's exception here
                report.step()
        except BaseException:
            client.cancel(futures)
            raise
        return results
    finally:
        if mode != "dask-client":
            client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------------------------------------------
# A calibration as a task
# --------------------------------------------------------------------------------------------------------------


@dataclass
class CalibrationTask:
    """One :func:`~constitutive.calibrate.calibrate` call as a picklable task: ``calibrate(model, experiments,
    initial, **kwargs)``. ``model``: a class, a registered name or a module-level factory (a ``lambda`` does not
    pickle); ``kwargs`` must not hold a ``callback`` for the parallel modes. ``catch``: return a :class:`TaskFailure`
    instead of raising when the model rejects the start (``ValueError``) or a local solve fails, so one bad start of
    a multi-start fit does not stop the others. ``tag``: returned with the failure (e.g. the start's index)."""

    model: Any
    experiments: Any
    initial: Mapping[str, Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    catch: bool = False
    tag: Any = None


@dataclass
class TaskFailure:
    """A caught failure of a :class:`CalibrationTask`: its ``tag``, the exception's type name and message."""

    tag: Any
    error: str
    message: str

    def __str__(self) -> str:
        return f"{self.tag}: {self.error}: {self.message}"


def run_calibration(task: CalibrationTask) -> Any:
    """Run one :class:`CalibrationTask` (module-level, so it pickles): the :class:`CalibrationResult`, or a
    :class:`TaskFailure` when ``task.catch`` and the fit raised ``ValueError``, ``ConvergenceError`` or
    ``LinAlgError``."""
    import warnings

    import numpy as np
    import torch

    from ..models.base import ConvergenceError
    from .fit import calibrate

    try:
        with warnings.catch_warnings():
            if task.catch:  # the caller reports the data warnings once, not once per start
                warnings.simplefilter("ignore", UserWarning)
            return calibrate(task.model, task.experiments, task.initial, **task.kwargs)
    except (ValueError, ConvergenceError, torch.linalg.LinAlgError, np.linalg.LinAlgError) as err:
        if not task.catch:
            raise
        return TaskFailure(task.tag, type(err).__name__, str(err))
