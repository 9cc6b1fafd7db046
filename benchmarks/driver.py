"""The material-point driver against bare model updates (issue 13).

Target of the issue: "a batch of 1e4 material points along a 100-step cyclic path within 3x the cost of 100 bare
updates of the same batch". Measured here, float64 on the CPU, J2 plasticity with linear isotropic hardening
(E = 200 GPa, ν = 0.3, σ_y = 250 MPa, H = 1000 MPa), a batch of ``n`` points whose amplitudes spread from 0.4 to 4
times the yield strain (elastic and plastic points), one cycle ``+a, -a, +a`` in 20 + 40 + 40 = 100 steps:

* ``strain``: uniaxial strain (every component strain-controlled: one model call per step);
* ``mixed``: uniaxial stress (ε11 driven, the five other stresses zero: Newton on the stress-controlled block).

For each case, the columns:

* ``bare``: 100 calls of ``model.update(strain_k, state, dt)`` (the public tensor API, consistent tangent) along
  the *same* strains the driver converged to, the state carried from call to call;
* ``bare_mandel``: the same 100 steps through ``model.update_mandel`` (the Mandel-vector kernel the driver uses
  for J2; no conversions);
* ``drive``: :func:`constitutive.driver.drive` along the path (Newton, recording, no tangent check);
* ``ratio`` = drive / bare (the issue's measure), ``ratio_mandel`` = drive / bare_mandel, ``model_calls``: the
  driver's model evaluations (steps + Newton iterations), and the throughput in point-steps per second.

Each time is the best of ``repeat`` runs. The load average (``os.getloadavg``) is reported with the numbers: on a
shared machine the timings are not quiet-machine figures. Usage: ``python benchmarks/driver.py [--quick] [--n
10000] [--repeat 3] [--threads 2]``; :func:`measure` is imported by ``benchmarks/performance.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package, whatever the cwd

from constitutive import paths  # noqa: E402
from constitutive.driver import drive  # noqa: E402
from constitutive.models.plasticity import J2Plasticity  # noqa: E402
from constitutive.notation import to_mandel  # noqa: E402

E, NU, SY, H = 200e3, 0.3, 250.0, 1000.0
CASES = {"strain": "uniaxial_strain", "mixed": "uniaxial_stress"}
INCREMENTS = [20, 40, 40]  # one cycle +a, -a, +a: 100 steps at a constant rate


def make_model() -> J2Plasticity:
    """J2 with linear isotropic hardening (the closed-form return map)."""
    return J2Plasticity(E, NU, SY, H)


def cycle_path(mode: str, n: int) -> paths.LoadPath:
    """One cycle of ``mode`` for ``n`` points, amplitudes from 0.4 to 4 yield strains: 100 steps."""
    a = torch.linspace(0.4, 4.0, n, dtype=torch.float64) * SY / E
    amplitudes = torch.stack([a, -a, a])  # (3 keypoints, n)
    return paths.standard_path(mode, amplitudes, increments=INCREMENTS, duration=[1.0, 2.0, 2.0])


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _bare(model: J2Plasticity, strains: torch.Tensor, dts: list[float]) -> torch.Tensor:
    """100 updates along the converged strains ``(steps + 1, n, 3, 3)``, the state carried; the last stress."""
    state = model.initial_state(strains.shape[1:-2])
    sigma = strains[0]
    for k in range(1, strains.shape[0]):
        sigma, state, _ = model.update(strains[k], state, dts[k - 1])
    return sigma


def _bare_mandel(model: J2Plasticity, strains: torch.Tensor, dts: list[float]) -> torch.Tensor:
    state = model.initial_state_mandel(strains.shape[1:-2])
    e6 = to_mandel(strains, "strain")
    sigma = e6[0]
    for k in range(1, strains.shape[0]):
        sigma, state, _ = model.update_mandel(e6[k], state, dts[k - 1])
    return sigma


def measure(quick: bool = False, *, n: int | None = None, repeat: int | None = None) -> dict[str, Any]:
    """Time the driver against bare updates; a dict ``{"n", "steps", "threads", "load", "cases": {case: {...}}}``
    with, per case (``strain``, ``mixed``), the seconds ``bare``, ``bare_mandel``, ``drive``, the ratios
    ``ratio`` (drive / bare) and ``ratio_mandel``, ``model_calls`` and ``point_steps_per_s`` of the driver.

    ``quick``: 1000 points, best of 1 (a smoke run); otherwise 1e4 points, best of 3. The bare runs reproduce the
    driver's final stress to round-off (checked)."""
    n = n if n is not None else (1_000 if quick else 10_000)
    repeat = repeat if repeat is not None else (1 if quick else 3)
    model = make_model()
    out: dict[str, Any] = {
        "n": n,
        "steps": sum(INCREMENTS),
        "threads": torch.get_num_threads(),
        "load": os.getloadavg()[0],
        "cases": {},
    }
    for case, mode in CASES.items():
        path = cycle_path(mode, n)
        t_drive, res = _best(partial(drive, model, path, batch_shape=(n,)), repeat)
        dts = [float(d) for d in torch.diff(res.time)]
        t_bare, sig = _best(partial(_bare, model, res.strain, dts), repeat)
        t_mandel, sig6 = _best(partial(_bare_mandel, model, res.strain, dts), repeat)
        scale = float(res.stress.abs().max())
        for label, got, ref in (
            ("bare", sig, res.stress[-1]),
            ("bare_mandel", sig6, to_mandel(res.stress[-1], "stress")),
        ):
            err = float((got - ref).abs().max()) / scale
            if err > 1e-9:
                raise RuntimeError(f"{case}: {label} does not reproduce the driver's stress (relative error {err:.2e})")
        steps = res.n_steps
        calls = steps + int(res.iterations[1:].amax(dim=tuple(range(1, res.iterations.ndim))).sum())
        out["cases"][case] = {
            "bare": t_bare,
            "bare_mandel": t_mandel,
            "drive": t_drive,
            "ratio": t_drive / t_bare,
            "ratio_mandel": t_drive / t_mandel,
            "model_calls": calls,
            "point_steps_per_s": n * steps / t_drive,
        }
    out["load_after"] = os.getloadavg()[0]
    # the runner's section format (benchmarks/performance.py --sections)
    out["title"] = (
        f"The driver against bare updates: J2 linear hardening, {n} points x {out['steps']}-step cycle, float64, "
        f"{out['threads']} thread(s)"
    )
    out["headers"] = ["cycle", "bare update [s]", "bare update_mandel [s]", "drive [s]", "drive / bare update",
                      "drive / bare update_mandel", "model calls", "point-steps/s"]  # fmt: skip
    out["rows"] = [
        [
            case,
            r["bare"],
            r["bare_mandel"],
            r["drive"],
            r["ratio"],
            r["ratio_mandel"],
            r["model_calls"],
            r["point_steps_per_s"],
        ]  # fmt: skip
        for case, r in out["cases"].items()
    ]
    out["notes"] = [
        f"load average {out['load']:.2f} -> {out['load_after']:.2f}; best of {repeat}",
        "'strain': strain-controlled cycle; 'mixed': uniaxial stress (lateral stresses zero); the bare runs replay "
        "the driver's converged strains and reproduce its final stress to 1e-9",
    ]
    return out


def table(result: dict[str, Any]) -> str:
    """The measurements as a text table."""
    lines = [
        f"driver vs bare updates: J2 linear hardening, {result['n']} points x {result['steps']} steps, float64, "
        f"{result['threads']} thread(s), load average {result['load']:.2f} -> {result['load_after']:.2f}",
        f"{'case':<8}{'bare s':>9}{'mandel s':>10}{'drive s':>9}{'ratio':>7}{'r_mandel':>9}{'calls':>7}"
        f"{'pt-steps/s':>12}",
    ]
    for case, r in result["cases"].items():
        lines.append(
            f"{case:<8}{r['bare']:>9.3f}{r['bare_mandel']:>10.3f}{r['drive']:>9.3f}{r['ratio']:>7.2f}"
            f"{r['ratio_mandel']:>9.2f}{r['model_calls']:>7d}{r['point_steps_per_s']:>12.3g}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1000 points, one repetition")
    parser.add_argument("--n", type=int, default=None, help="points in the batch (default 1e4; --quick 1e3)")
    parser.add_argument("--repeat", type=int, default=None, help="best of this many runs (default 3)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(table(measure(args.quick, n=args.n, repeat=args.repeat)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
