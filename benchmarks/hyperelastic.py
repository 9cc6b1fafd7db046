"""Hyperelastic stress and tangent throughput against felupe's analytic neo-Hookean (issue 13).

Everything runs in one process, side by side, float64 on the CPU, on the same deformation gradients (N random
near-identity F, ``F = I + 0.1 X``, X standard normal, det F > 0):

* ``felupe``: ``felupe.NeoHooke(mu, bulk)`` -- its analytic ``gradient`` (P) and ``hessian`` (A) in numpy, with F
  laid out ``(3, 3, 1, N)`` as felupe wants it; felupe is not a dependency of the package (``pip install felupe``
  for this benchmark; without it the felupe columns are empty and a note says so);
* ``NH S+dS/dE``: ``NeoHookean(mu, K - 2 mu / 3, form="isochoric").stress_and_tangent(E)`` -- the same energy as
  felupe's, psi = mu/2 (I1bar - 3) + K/2 (J - 1)^2, from the Green-Lagrange strain E of the same F;
* ``NH P+A``: ``first_piola_and_elasticity(F)`` of the same model;
* ``Ogden``: the three-term Treloar fit of Ogden (1972) with K = 50 (spectral route: eigen-decomposition of C),
  ``stress_and_tangent(E)`` and ``first_piola_and_elasticity(F)``.

Before timing, the package's P and A are checked against felupe's (relative difference below 1e-12) and Ogden's
fast route against its reference route. Times are the best of ``repeat`` rounds, each round running every candidate
once (interleaved, so load on the shared machine hits all alike), as wall-clock (``time.perf_counter``) and as CPU
time of the process (``time.process_time``, which a busy machine inflates less). The ratios are the issue's
targets: NH (both outputs) within 2x of felupe, Ogden within 3x of neo-Hookean.

Usage: ``python benchmarks/hyperelastic.py [--quick] [--max-n 1e6] [--repeat 5] [--threads 1 2]``.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package, whatever the cwd

from constitutive.kinematics import material_to_first_elasticity  # noqa: E402
from constitutive.models.hyperelastic import NeoHookean, Ogden  # noqa: E402

try:  # optional: the benchmark's peer, not a dependency of the package
    import felupe
except ImportError:  # pragma: no cover - depends on the environment
    felupe = None

MU, K = 1.0, 50.0
OGDEN_MU, OGDEN_ALPHA = [0.618, 0.00118, -0.00981], [1.3, 5.0, -2.0]
SIZES = (1_000, 10_000, 100_000, 1_000_000)
HEADERS = [
    "N",
    "threads",
    "clock",
    "felupe P+A [ms]",
    "NH S+dS/dE [ms]",
    "NH P+A [ms]",
    "Ogden S+dS/dE [ms]",
    "Ogden P+A [ms]",
    "NH P+A / felupe",
    "NH S+dS/dE / felupe",
    "Ogden / NH (S+dS/dE)",
    "Ogden / NH (P+A)",
]


def make_F(N: int, seed: int = 0) -> torch.Tensor:
    """``(N, 3, 3)`` float64 deformation gradients ``I + 0.1 X`` (X standard normal; det F > 0 for all)."""
    g = torch.Generator().manual_seed(seed)
    F = torch.eye(3, dtype=torch.float64) + 0.1 * torch.randn(N, 3, 3, generator=g, dtype=torch.float64)
    bad = torch.linalg.det(F) <= 0
    F[bad] = torch.eye(3, dtype=torch.float64)
    return F


def felupe_F(F: torch.Tensor) -> np.ndarray:
    """felupe's layout ``(3, 3, quadrature points, cells)`` = ``(3, 3, 1, N)``."""
    return np.ascontiguousarray(F.numpy().transpose(1, 2, 0))[:, :, None, :]


def models() -> tuple[NeoHookean, Ogden]:
    return NeoHookean(MU, K - 2.0 * MU / 3.0, form="isochoric"), Ogden(OGDEN_MU, OGDEN_ALPHA, K=K)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


def check(N: int = 2000) -> dict[str, float]:
    """Relative differences of the fast routes from the independent ones (felupe, the reference routes)."""
    F = make_F(N, seed=1)
    E = 0.5 * (F.transpose(-1, -2) @ F - torch.eye(3, dtype=torch.float64))
    nh, og = models()
    P, A = nh.first_piola_and_elasticity(F)
    out: dict[str, float] = {}
    if felupe is not None:
        umat = felupe.NeoHooke(mu=MU, bulk=K)
        Fn = felupe_F(F)
        Pf = torch.from_numpy(umat.gradient([Fn, None])[0][..., 0, :]).permute(2, 0, 1)
        Af = torch.from_numpy(umat.hessian([Fn, None])[0][..., 0, :]).permute(4, 0, 1, 2, 3)
        out["NH P vs felupe"], out["NH A vs felupe"] = _rel(P, Pf), _rel(A, Af)
    S0, C0 = og._spectral_response_reference(E, True)
    assert C0 is not None
    S1, C1 = og.stress_and_tangent(E)
    Po, Ao = og.first_piola_and_elasticity(F)
    out["Ogden S, dS/dE vs reference"] = max(_rel(S1, S0), _rel(C1, C0))
    out["Ogden P, A vs reference"] = max(_rel(Po, F @ S0), _rel(Ao, material_to_first_elasticity(C0, S0, F)))
    return out


def candidates(N: int, nh: NeoHookean, og: Ogden) -> dict[str, Callable[[], object]]:
    """The timed calls on N points: the package's four and (when installed) felupe's P and A."""
    F = make_F(N)
    E = 0.5 * (F.transpose(-1, -2) @ F - torch.eye(3, dtype=torch.float64))
    fns: dict[str, Callable[[], object]] = {
        "nh_SC": lambda: nh.stress_and_tangent(E),
        "nh_PA": lambda: nh.first_piola_and_elasticity(F),
        "og_SC": lambda: og.stress_and_tangent(E),
        "og_PA": lambda: og.first_piola_and_elasticity(F),
    }
    if felupe is not None:
        umat, Fn = felupe.NeoHooke(mu=MU, bulk=K), felupe_F(F)
        fns["felupe"] = lambda: (umat.gradient([Fn, None]), umat.hessian([Fn, None]))
    return fns


def best_times(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, float]]:
    """Best (wall, CPU) seconds of each function over ``repeat`` interleaved rounds (one warm-up call each)."""
    for fn in fns.values():
        fn()
    best = {k: (float("inf"), float("inf")) for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            w, c = time.perf_counter() - w0, time.process_time() - c0
            best[k] = (min(best[k][0], w), min(best[k][1], c))
    return best


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:  # pragma: no cover - no uptime binary
        return "unknown"


def measure(
    quick: bool = False,
    sizes: tuple[int, ...] | None = None,
    threads: tuple[int, ...] = (1, 2),
    repeat: int | None = None,
) -> dict[str, Any]:
    """Run the benchmark; returns ``{"title", "headers", "rows", "notes"}`` (rows: one per N, thread count and
    clock, times in ms). ``quick``: N = 1e3 and 1e4, 3 rounds (what the performance page's runner uses)."""
    sizes = sizes or ((1_000, 10_000) if quick else SIZES)
    repeat = repeat or (3 if quick else 5)
    before = torch.get_num_threads()
    notes = [f"uptime before: {_uptime()}"]
    errors = check()
    notes.append("agreement: " + ", ".join(f"{k} {v:.1e}" for k, v in errors.items()))
    if felupe is None:
        notes.append("felupe is not installed (pip install felupe): its columns and ratios are empty")
    rows: list[list[Any]] = []
    nh, og = models()
    try:
        for N in sizes:
            fns = candidates(N, nh, og)
            reps = repeat if N < 1_000_000 else max(2, repeat // 2)
            for t in threads:
                torch.set_num_threads(t)
                best = best_times(fns, reps)
                for clock in (0, 1):
                    ms = {k: 1e3 * v[clock] for k, v in best.items()}
                    fe = ms.get("felupe")
                    rows.append(
                        [
                            N,
                            t,
                            ("wall", "cpu")[clock],
                            None if fe is None else round(fe, 2),
                            round(ms["nh_SC"], 2),
                            round(ms["nh_PA"], 2),
                            round(ms["og_SC"], 2),
                            round(ms["og_PA"], 2),
                            None if fe is None else round(ms["nh_PA"] / fe, 2),
                            None if fe is None else round(ms["nh_SC"] / fe, 2),
                            round(ms["og_SC"] / ms["nh_SC"], 2),
                            round(ms["og_PA"] / ms["nh_PA"], 2),
                        ]
                    )
            del fns
    finally:
        torch.set_num_threads(before)
    notes += [
        f"uptime after: {_uptime()}",
        f"torch {torch.__version__}, numpy {np.__version__}, felupe {getattr(felupe, '__version__', 'absent')}, "
        f"{platform.processor() or platform.machine()}, best of {repeat} interleaved rounds (2+ at N = 1e6)",
        "felupe runs numpy, single-threaded whatever the torch thread count; 'cpu' is the process's CPU time "
        "(all threads), 'wall' the elapsed time",
    ]
    return {
        "title": "Hyperelastic S + dS/dE and P + A: package vs felupe's analytic neo-Hookean (float64, CPU)",
        "headers": HEADERS,
        "rows": rows,
        "notes": notes,
    }


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table of :func:`measure`'s result."""
    cells = [[str(h) for h in result["headers"]]] + [["-" if v is None else str(v) for v in r] for r in result["rows"]]
    widths = [max(len(row[k]) for row in cells) for k in range(len(cells[0]))]
    lines = [result["title"], ""]
    for n, row in enumerate(cells):
        lines.append("  ".join(v.rjust(w) for v, w in zip(row, widths)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines + [""] + [f"* {note}" for note in result["notes"]])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 1e3, 1e4 and 3 rounds")
    parser.add_argument("--max-n", type=float, default=1e6, help="largest N (default 1e6)")
    parser.add_argument("--repeat", type=int, default=None, help="rounds (default 5, quick 3)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts (default 1 2)")
    args = parser.parse_args(argv)
    sizes = None if args.quick else tuple(n for n in SIZES if n <= args.max_n)
    print(format_table(measure(args.quick, sizes, tuple(args.threads), args.repeat)))


if __name__ == "__main__":
    main()
