"""J2 / Chaboche point-update throughput against the machine's memory-bandwidth bound (issue 13).

Everything runs in one process, side by side, float64 on the CPU (``--threads``, default 2):

* ``stream``: the measured streaming bandwidth -- a large copy into an existing buffer (bytes read + written per
  second, best of 5) -- and the bound it implies, ``bandwidth / bytes per point``. A J2 update must read 13 doubles
  (strain 6, plastic strain 6, α) and write 49 (stress 6, plastic strain 6, α, tangent 36) in Mandel form: 496 B;
  Chaboche with two back stresses reads 25 and writes 61: 688 B.
* ``mandel``: ``J2Plasticity.update_mandel`` (the in-place Mandel kernel, chunked), fresh outputs each call;
* ``mandel_out``: the same writing into preallocated ``out=`` buffers reused across calls (what a driver does);
* ``tensor``: ``J2Plasticity.update`` on ``(N, 3, 3)`` tensors with ``_fast_tensor_update = True`` (the kernel plus
  the conversions to the tensor form; the closed-form linear case keeps the tensor formulation);
* ``tensor_ref``: the out-of-place tensor formulation that ``update`` used before the Mandel kernel (kept as the
  differentiable path; ``model._use_fast = False``) -- "today's" package;
* ``baseline``: a plain-torch minimal radial return written directly on Mandel 6-vectors with the 6×6 tangent
  built by broadcasting (linear hardening only; the lean reference of the issue).

Cases: ``j2-linear`` (H = 1000), ``j2-voce`` (Q = 100, b = 20), ``chaboche`` (Voce + two Armstrong--Frederick back
stresses), all from the virgin state with 94 % of the points plastic. Results are compared before timing (they
must agree to round-off). Reports points/s (best of ``--repeat``), the fraction of the bound, the log-log slope of
time per point against N, and the peak memory per point: the growth of the resident set's high-water mark
(``VmHWM`` of ``/proc/self/status``, reset to the current RSS through ``/proc/self/clear_refs`` just before the
update) during one update, measured in a fresh subprocess per (case, N) after the inputs exist, plus the inputs'
own bytes. NEML2 (``pip install neml2`` in a separate venv: it pins its own torch): ``--neml2 PYTHON``.

* ``compiled`` / ``compiled_out`` (``--compile``): ``update_mandel(..., compile=True)``, the torch.compile-fused
  kernel of :mod:`constitutive.models.j2_kernel`, fresh outputs / ``out=`` buffers (compiled before timing; the
  first call's time is reported).

Usage: ``python benchmarks/performance.py [--max-n 1e6] [--threads 1 2] [--repeat 3] [--out out/performance]
[--compile] [--profile] [--thp] [--paired ROUNDS] [--neml2 PYTHON] [--sections [--quick]] [--device auto|cpu|cuda]
[--docs]``;
``--max-n 1e7`` for N = 1e7 (a few GB; ``--max-tensor-n`` bounds the tensor route, whose tangent alone is 648 B per
point).
``--device``: ``auto`` (default) measures the CPU and, when torch sees a CUDA GPU, the same cases there (timings
synchronised, bound from the GPU's own copy bandwidth, peak memory from ``torch.cuda.max_memory_allocated``).
``--thp``: ``mandel`` / ``mandel_out`` in fresh processes with ``THP_MEM_ALLOC_ENABLE`` unset and ``=1``.
``--isolated``: ``compiled_out`` (or ``mandel_out``) per (case, N ≥ 1e5) in fresh processes, the kernel's own
scaling with N (``--isolated-only``: that alone). ``--neml2 PYTHON``: NEML2's J2 return map at N = 1e5 to
``--neml2-max-n`` (``benchmarks/neml2_j2.py``, run in NEML2's own venv). ``--paired ROUNDS``: the flatness from
N = 1e5 to ``--max-n`` measured in alternated rounds (one large call, then as many N = 1e5 calls as give the same
point count), so that the machine's drift between minutes cancels in the ratio. ``--sections``: the tables of
``benchmarks/hyperelastic.py`` and ``benchmarks/driver.py`` (``measure(quick)``).
``--docs``: the figure into ``docs/figures/performance.png`` and the tables and profile into
``docs/performance.md`` between its marker comments (:data:`MARKERS`). Writes ``performance.json``,
``performance.md`` and ``performance.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package, whatever the cwd

from constitutive.models import ArmstrongFrederick, J2Plasticity, Voce  # noqa: E402
from constitutive.models.plasticity import mandel_to_tensor  # noqa: E402

E, NU, SY, H = 200e3, 0.3, 250.0, 1000.0
SQ32 = math.sqrt(1.5)
DOUBLES = {"j2-linear": (13, 49), "j2-voce": (13, 49), "chaboche": (25, 61)}  # (in, out) per point, Mandel form
CASES = tuple(DOUBLES)
COLORS = {"mandel": "C0", "mandel_out": "C1", "tensor": "C2", "tensor_ref": "C3", "baseline": "C4", "compiled": "C5",
          "compiled_out": "C6"}  # fmt: skip
#: Contributed sections: modules of benchmarks/ exposing ``measure(quick: bool = False) -> dict`` with "title",
#: "headers", "rows", "notes" (imported when present).
SECTIONS = ("hyperelastic", "driver")
#: Marker comments of docs/performance.md between which ``--docs`` writes the generated tables and profile.
MARKERS = {
    "tables": ("<!-- BEGIN generated: performance tables -->", "<!-- END generated: performance tables -->"),
    "profile": ("<!-- BEGIN generated: performance profile -->", "<!-- END generated: performance profile -->"),
}


#: The device of the measurements (``--device``; set by :func:`main` for each run).
DEVICE = torch.device("cpu")


def make_model(case: str) -> J2Plasticity:
    dev = DEVICE
    if case == "j2-linear":
        return J2Plasticity(E, NU, SY, H, device=dev)
    if case == "j2-voce":
        return J2Plasticity(E, NU, SY, H, hardening=Voce(100.0, 20.0, device=dev), device=dev)
    return J2Plasticity(
        E, NU, SY, hardening=Voce(100.0, 20.0, device=dev),
        kinematic=[ArmstrongFrederick(20e3, 200.0, device=dev), ArmstrongFrederick(5e3, 20.0, device=dev)],
        device=dev,
    )  # fmt: skip


def make_strain(N: int, seed: int = 0) -> torch.Tensor:
    """:func:`make_strain_cpu` on :data:`DEVICE` (the same numbers on every device)."""
    return make_strain_cpu(N, seed).to(DEVICE)


def synchronize() -> None:
    """Wait for the device's queued work (CUDA timings); nothing on the CPU."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)


def make_strain_cpu(N: int, seed: int = 0) -> torch.Tensor:
    """Mandel strains ``(N, 6)``: random deviatoric directions with amplitudes such that 94 % of the points
    (index mod 50 ≥ 3) exceed the virgin yield strain by 1-4×, the rest below it, plus a small volumetric part."""
    g = torch.Generator().manual_seed(seed)
    d = torch.randn(N, 6, generator=g, dtype=torch.float64)
    d[:, :3] -= d[:, :3].mean(1, keepdim=True)
    d /= torch.linalg.vector_norm(d, dim=1, keepdim=True)
    G = E / (2 * (1 + NU))
    r_y = SY / (2 * G * SQ32)  # |dev ε| at first yield
    u = torch.rand(N, generator=g, dtype=torch.float64)
    plastic = (torch.arange(N) % 50) >= 3
    amp = torch.where(plastic, r_y * (1.0 + 3.0 * u), r_y * 0.95 * u)
    e = d * amp[:, None]
    e[:, :3] += 1e-4 * torch.randn(N, 1, generator=g, dtype=torch.float64)
    return e


def baseline_update(e: torch.Tensor, ep: torch.Tensor, al: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Plain-torch minimal radial return on Mandel 6-vectors, linear hardening: (stress, eps_p, alpha, C 6×6)."""
    K = E / (3 * (1 - 2 * NU))
    G = E / (2 * (1 + NU))
    m = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0], dtype=e.dtype, device=e.device)
    Idev = torch.eye(6, dtype=e.dtype, device=e.device) - m[:, None] * m[None, :] / 3
    tr = e[:, :3].sum(1)
    s = 2 * G * (e - tr[:, None] / 3 * m - ep)
    nrm = torch.linalg.vector_norm(s, dim=1)
    f = SQ32 * nrm - (SY + H * al)
    x = f.clamp_min(0) / (3 * G + H)
    n = s / nrm.clamp_min(1e-300)[:, None]
    stress = s - (2 * G * SQ32 * x)[:, None] * n + (K * tr)[:, None] * m
    ratio = 3 * G * x / (SQ32 * nrm).clamp_min(1e-300)
    c_nn = torch.where(f > 0, 2 * G * (ratio - 3 * G / (3 * G + H)), torch.zeros_like(f))
    C = (
        K * m[:, None] * m[None, :]
        + (2 * G * (1 - ratio))[:, None, None] * Idev
        + c_nn[:, None, None] * (n[:, :, None] * n[:, None, :])
    )
    return stress, ep + (SQ32 * x)[:, None] * n, al + x, C


def best_times(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best wall time of each function, interleaved so that load from other processes hits all alike."""
    best = dict.fromkeys(fns, math.inf)
    for _ in range(repeat):
        for k, fn in fns.items():
            synchronize()
            t0 = time.perf_counter()
            fn()
            synchronize()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def stream_bandwidth(nbytes: int = 1 << 28) -> float:
    """Bytes/s of ``dst.copy_(src)`` into an existing buffer (read + write counted), best of 5."""
    src = torch.ones(nbytes // 8, dtype=torch.float64, device=DEVICE)
    dst = torch.empty_like(src)
    dst.copy_(src)
    best = math.inf
    for _ in range(5):
        synchronize()
        t0 = time.perf_counter()
        dst.copy_(src)
        synchronize()
        best = min(best, time.perf_counter() - t0)
    return 2 * nbytes / best


def variants(
    case: str,
    N: int,
    max_ref: int,
    compiled: bool = False,
    info: dict[str, Any] | None = None,
    max_tensor: int | None = None,
) -> tuple[dict[str, Callable[[], object]], float]:
    """The timed callables for one (case, N), checked against each other first; also the plastic fraction.
    ``compiled``: also ``update_mandel(compile=True)`` (fresh outputs and ``out=``); the first call's time (the
    compilation, when it happens there) goes to ``info["compile_s"]``. ``max_tensor``: the largest N of the
    ``tensor`` route (its ``(N, 3, 3, 3, 3)`` tangent is 648 B per point)."""
    model = make_model(case)
    model._fast_tensor_update = True  # the tensor-form update through the kernel where it applies
    e6 = make_strain(N)
    st6 = model.initial_state_mandel((N,))
    with_tensor = max_tensor is None or N <= max_tensor or N <= max_ref
    eps = mandel_to_tensor(e6) if with_tensor else None
    st = model.initial_state((N,))
    s6, n6, C6 = model.update_mandel(e6, st6)
    out = (torch.empty_like(s6), {k: torch.empty_like(v) for k, v in n6.items()}, torch.empty_like(C6))
    fns: dict[str, Callable[[], object]] = {
        "mandel": lambda: model.update_mandel(e6, st6),
        "mandel_out": lambda: model.update_mandel(e6, st6, out=out),
    }
    if max_tensor is None or N <= max_tensor:
        fns["tensor"] = lambda: model.update(eps, st)
    if compiled:
        t0 = time.perf_counter()
        sc, nc, Cc = model.update_mandel(e6, st6, compile=True)
        if info is not None:
            info["compile_s"] = max(info.get("compile_s", 0.0), time.perf_counter() - t0)
        assert float((Cc - C6).abs().max()) <= 1e-11 * float(C6.abs().max()), "compiled tangent differs"
        assert float((sc - s6).abs().max()) <= 1e-11 * float(s6.abs().max()), "compiled stress differs"
        out_c = (torch.empty_like(s6), {k: torch.empty_like(v) for k, v in n6.items()}, torch.empty_like(C6))
        fns["compiled"] = lambda: model.update_mandel(e6, st6, compile=True)
        fns["compiled_out"] = lambda: model.update_mandel(e6, st6, out=out_c, compile=True)
        del sc, nc, Cc
    if N <= max_ref:
        ref = make_model(case)
        ref._use_fast = False
        s_r, n_r, C_r = ref.update(eps, st)
        from constitutive.notation import to_mandel

        scale = float(C_r.abs().max())
        assert float((to_mandel(C_r, "stiffness") - C6).abs().max()) <= 1e-11 * scale, "tangents differ"
        assert float((to_mandel(s_r, "stress") - s6).abs().max()) <= 1e-11 * float(s_r.abs().max()), "stress"
        fns["tensor_ref"] = lambda: ref.update(eps, st)
        del s_r, n_r, C_r
    if case == "j2-linear":
        sb, _, ab, Cb = baseline_update(e6, st6["eps_p"], st6["alpha"])
        assert float((Cb - C6).abs().max()) <= 1e-11 * float(Cb.abs().max()), "baseline tangent differs"
        assert float((ab - n6["alpha"]).abs().max()) <= 1e-15
        fns["baseline"] = lambda: baseline_update(e6, st6["eps_p"], st6["alpha"])
        del sb, ab, Cb
    plastic = float((n6["alpha"] > 0).double().mean())
    return fns, plastic


def _rss_kib(field: str) -> int:
    """``VmRSS`` (current) or ``VmHWM`` (peak since the last reset) of this process, KiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _peak_since_reset() -> int:
    """Peak RSS (KiB) since the last :func:`_reset_peak`, or ``ru_maxrss`` where the peak cannot be reset."""
    try:
        return _rss_kib("VmHWM")
    except (OSError, RuntimeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> int:
    """Reset the RSS high-water mark to the current RSS (``/proc/self/clear_refs`` ← 5); returns the current RSS."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _rss_kib("VmRSS")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_memory(case: str, N: int, variant: str) -> dict[str, float]:
    """Run in a fresh process: peak-RSS growth of one update after the inputs exist, per point (the high-water
    mark ``VmHWM`` reset through ``/proc/self/clear_refs`` just before the update)."""
    model = make_model(case)
    warm = variant == "compiled"  # compile (or load from inductor's cache) before measuring
    model.update_mandel(make_strain(64), model.initial_state_mandel((64,)), compile=warm)  # lazy initialisation
    before_inputs = _reset_peak()
    e6 = make_strain(N)
    st6 = model.initial_state_mandel((N,))
    if variant == "tensor":
        eps, st = mandel_to_tensor(e6), model.initial_state((N,))
        del e6, st6
    rss0 = _reset_peak()
    if variant in ("mandel", "compiled"):
        res = model.update_mandel(e6, st6, compile=variant == "compiled")
    elif variant == "tensor":
        res = model.update(eps, st)
    else:  # tensor_ref
        model._use_fast = False
        eps, st = mandel_to_tensor(e6), model.initial_state((N,))
        rss0 = _reset_peak()
        res = model.update(eps, st)
    rss1 = _peak_since_reset()
    del res
    kib = 1024.0  # ru_maxrss is in KiB on Linux
    return {
        "update_bytes_per_point": (rss1 - rss0) * kib / N,
        "inputs_bytes_per_point": (rss0 - before_inputs) * kib / N,
    }


def memory(case: str, N: int, variant: str) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", case, str(N), variant]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=dict(os.environ))
    return json.loads(out.stdout.strip().splitlines()[-1])


def profile(N: int = 100_000, rows: int = 12, compiled: bool = False) -> dict[str, str]:
    """torch.profiler tables (top operations by self CPU time) of the J2-linear update at N: the eager kernel,
    the tensor route and (``compiled``) the compiled kernel."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as tprofile

    tables = {}
    model = make_model("j2-linear")
    e6 = make_strain(N)
    st6 = model.initial_state_mandel((N,))
    ref = make_model("j2-linear")
    ref._use_fast = False
    eps, st = mandel_to_tensor(e6), ref.initial_state((N,))
    routes: dict[str, Callable[[], object]] = {
        "mandel": lambda: model.update_mandel(e6, st6),
        "tensor_ref": lambda: ref.update(eps, st),
    }
    if compiled:
        routes["compiled"] = lambda: model.update_mandel(e6, st6, compile=True)
    for name, fn in routes.items():
        fn()
        with tprofile(activities=[ProfilerActivity.CPU]) as prof:
            fn()
        tables[name] = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)
    return tables


def slope(ns: list[int], ts: list[float]) -> float:
    """Least-squares slope of log(time per point) against log N."""
    x = [math.log(n) for n in ns]
    y = [math.log(t / n) for n, t in zip(ns, ts)]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    return sum((a - mx) * (b - my) for a, b in zip(x, y)) / sum((a - mx) ** 2 for a in x)


def figure(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results["cases"]), figsize=(5 * len(results["cases"]), 4), squeeze=False)
    for ax, (case, data) in zip(axes[0], results["cases"].items()):
        for v in data["variants"]:
            pts = [(r["N"], r["pts_s"][v]) for r in data["rows"] if v in r["pts_s"]]
            if pts:
                ax.loglog(*zip(*pts), "o-", label=v, color=COLORS.get(v))
        ax.axhline(data["bound_pts_s"], color="k", ls="--", label="bandwidth bound")
        ax.set_title(case)
        ax.set_xlabel("points N")
        ax.set_ylabel("point updates / s")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def child_time(case: str, N: int, variant: str, repeat: int) -> dict[str, float]:
    """Run in a fresh process (environment as given, e.g. ``THP_MEM_ALLOC_ENABLE``): points/s of one variant."""
    fns, _ = variants(case, N, 0, compiled=variant.startswith("compiled"))
    t = best_times({variant: fns[variant]}, repeat)
    return {"pts_s": N / t[variant]}


def thp_effect(case: str, N: int, repeat: int, threads: int) -> dict[str, dict[str, float]]:
    """Points/s of ``mandel`` (fresh outputs: page faults) and ``mandel_out`` in fresh processes with
    ``THP_MEM_ALLOC_ENABLE`` unset and ``=1`` (transparent huge pages for torch's CPU allocator)."""
    res: dict[str, dict[str, float]] = {}
    for thp in ("unset", "1"):
        env = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"}
        if thp != "unset":
            env["THP_MEM_ALLOC_ENABLE"] = thp
        for variant in ("mandel", "mandel_out"):
            cmd = [sys.executable, __file__, "--threads", str(threads), "--child-time", case, str(N), variant,
                   str(repeat)]  # fmt: skip
            out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
            res.setdefault(thp, {})[variant] = json.loads(out.stdout.strip().splitlines()[-1])["pts_s"]
    return res


def isolated(cases: list[str], sizes: list[int], variant: str, repeat: int, threads: int) -> dict[str, Any]:
    """Points/s of one variant per (case, N), each in a fresh process (the scaling of the kernel alone, without
    the memory of the other variants that the side-by-side run holds at the same time)."""
    res: dict[str, Any] = {"variant": variant, "threads": threads, "cases": {}}
    for case in cases:
        for N in sizes:
            cmd = [sys.executable, __file__, "--threads", str(threads), "--child-time", case, str(N), variant,
                   str(repeat)]  # fmt: skip
            out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=dict(os.environ))
            pts = json.loads(out.stdout.strip().splitlines()[-1])["pts_s"]
            res["cases"].setdefault(case, {})[str(N)] = pts
            print(f"isolated {variant} {case} N={N:.0e}: {pts:.3e} points/s")
    return res


def paired(cases: list[str], small: int, large: int, rounds: int, compiled: bool) -> dict[str, Any]:
    """The flatness check from N = ``small`` to ``large`` with the machine's drift taken out: per case, ``rounds``
    rounds of one ``update_mandel(out=...)`` call over ``large`` points and ``large // small`` calls over
    ``small`` points (the same number of point updates), alternated, so that both sizes meet the same load and
    memory bandwidth. Per round the throughput ratio large / small; reported: its median and range."""
    res: dict[str, Any] = {"small": small, "large": large, "rounds": rounds, "compiled": compiled, "cases": {}}
    reps = large // small
    for case in cases:
        model = make_model(case)
        bufs = {}
        for N in (small, large):
            e6 = make_strain(N)
            st6 = model.initial_state_mandel((N,))
            s6, n6, C6 = model.update_mandel(e6, st6, compile=compiled)
            bufs[N] = (e6, st6, (s6, n6, C6))
        ratios, pts = [], {small: [], large: []}
        for _ in range(rounds):
            for N, calls in ((large, 1), (small, reps)):
                e6, st6, out = bufs[N]
                synchronize()
                t0 = time.perf_counter()
                for _ in range(calls):
                    model.update_mandel(e6, st6, out=out, compile=compiled)
                synchronize()
                pts[N].append(N * calls / (time.perf_counter() - t0))
            ratios.append(pts[large][-1] / pts[small][-1])
        del bufs
        row = {
            "ratio_median": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
            "pts_s_small_best": max(pts[small]), "pts_s_large_best": max(pts[large]), "ratios": ratios,
        }  # fmt: skip
        res["cases"][case] = row
        print(
            f"paired {case}: N={large:.0e} / N={small:.0e} throughput ratio median {row['ratio_median']:.3f} "
            f"(range {row['ratio_min']:.3f}-{row['ratio_max']:.3f} over {rounds} rounds)"
        )
    return res


def neml2_column(
    python: str, cases: list[str], sizes: list[int], repeat: int, threads: int, run: dict[str, Any] | None
) -> dict[str, Any]:
    """NEML2's J2 return map (``benchmarks/neml2_j2.py``: its own virtual environment ``python``, the input files
    ``benchmarks/neml2/*.i``) on the same strains, with its agreement with ``update_mandel`` and the package's
    best ``update_mandel`` figure of the side-by-side ``run`` at the same N."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import neml2_j2

    res: dict[str, Any] = {"python": python, "threads": threads, "cases": {}}
    for case in [c for c in cases if c in neml2_j2.CASES]:
        for N in sizes:
            r = neml2_j2.measure_neml2(python, case, N, repeat, threads)
            rows = (run or {}).get("cases", {}).get(case, {}).get("rows", [])
            ours = [
                max(v for k, v in row["pts_s"].items() if k in ("mandel_out", "compiled_out"))
                for row in rows
                if row["N"] == N
            ]
            r["package_pts_s"] = ours[0] if ours else None
            res["cases"].setdefault(case, {})[str(N)] = r
            res.update(neml2=r["neml2"], torch=r["torch"], newton=r["newton"])
            speed = f", package {r['package_pts_s'] / r['pts_s']:.0f}x faster" if ours else ""
            print(
                f"NEML2 {r['neml2']} (torch {r['torch']}, {r['newton']} Newton loop) {case} N={N:.0e}: "
                f"{r['pts_s']:.3e} points/s{speed}; max relative difference stress {r['max_rel_err_stress']:.1e}, "
                f"tangent {r['max_rel_err_tangent']:.1e}"
            )
    return res


def sections(quick: bool) -> dict[str, Any]:
    """The contributed sections (:data:`SECTIONS`): ``measure(quick)`` of each module present in benchmarks/."""
    import importlib

    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    found: dict[str, Any] = {}
    for name in SECTIONS:
        if not (Path(here) / f"{name}.py").exists():
            print(f"(section {name!r}: benchmarks/{name}.py is not present here; skipped)")
            found[name] = None
            continue
        mod = importlib.import_module(name)
        print(f"\n== section {name!r} (benchmarks/{name}.py)")
        result = mod.measure(quick=quick)
        missing = [k for k in ("title", "headers", "rows") if k not in result]
        if missing:  # report it in the section rather than lose the whole run's measurements
            result = {"title": f"benchmarks/{name}.py", "headers": [], "rows": [],
                      "notes": [f"measure() returned no {missing}: not the section format"]}  # fmt: skip
        found[name] = result
        print(_section_markdown(found[name]))
    return found


def _section_markdown(sec: dict[str, Any]) -> str:
    lines = [f"**{sec['title']}**", "", "| " + " | ".join(map(str, sec["headers"])) + " |"]
    lines.append("|" + "---|" * len(sec["headers"]))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in sec["rows"]]
    lines += [""] + [f"* {n}" for n in sec.get("notes", [])]
    return "\n".join(lines)


def _cell(c: Any) -> str:
    if isinstance(c, float):
        return f"{c:.3g}" if abs(c) < 1e4 else f"{c:.2e}"
    return str(c)


def case_table(case: str, data: dict[str, Any]) -> str:
    """The markdown table of one case at one thread count."""
    order = ["mandel", "mandel_out", "compiled", "compiled_out", "tensor", "tensor_ref", "baseline"]
    names = [v for v in order if v in data["variants"]]
    bound = data["bound_pts_s"]
    head = ["N", *names, "best / bound"]
    if "compiled_out" in names:
        head += ["compiled_out / mandel_out"]
    if "tensor_ref" in names:
        head += ["best / tensor_ref"]
    head += ["peak B/pt (update + inputs)"]
    lines = [
        f"**{case}** — {data['bytes_per_point']} B/point, bound {bound:.2e} points/s"
        + (f"; first compile {data['compile_s']:.0f} s" if data.get("compile_s") else ""),
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in data["rows"]:
        p = r["pts_s"]
        best = max(p[v] for v in names if v in p and v not in ("baseline", "tensor_ref"))
        cells = [f"{r['N']:.0e}", *[f"{p[v]:.2e}" if v in p else "–" for v in names], f"{best / bound:.1%}"]
        if "compiled_out" in names:
            cells.append(f"{p['compiled_out'] / p['mandel_out']:.1f}×" if "compiled_out" in p else "–")
        if "tensor_ref" in names:
            cells.append(f"{best / p['tensor_ref']:.1f}×" if "tensor_ref" in p else "–")
        mem = r.get("memory", {})
        cells.append(
            "; ".join(
                f"{k} {m['update_bytes_per_point']:.0f} + {m['inputs_bytes_per_point']:.0f}" for k, m in mem.items()
            )
            or "–"
        )
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Log–log slope of time per point against N (0: linear scaling): "
              + ", ".join(f"{k} {v:+.2f}" for k, v in data["slopes"].items())]  # fmt: skip
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> dict[str, str]:
    """The generated parts of docs/performance.md: ``{"tables": ..., "profile": ...}``."""
    m = results["machine"]
    out = [
        f"Generated by `python benchmarks/performance.py {results['argv']}`; torch {m['torch']}, Python "
        f"{m['python']}, float64, CPU `{m['cpu']}` ({m['cores']} cores), `uptime` at the start: `{m['uptime']}`; "
        f"THP_MEM_ALLOC_ENABLE {m['THP_MEM_ALLOC_ENABLE']}. Streaming bandwidth (copy into an existing buffer) "
        f"{results['stream_bytes_per_s'] / 1e9:.1f} GB/s; points/s best of {results['repeat']}.",
    ]
    for t, run in results["runs"].items():
        if t == "cuda":
            out.append(f"\n### CUDA: {m['cuda']} (streaming bandwidth {run['stream_bytes_per_s'] / 1e9:.0f} GB/s)\n")
        else:
            out.append(f"\n### {t} thread{'s' if t != '1' else ''} (load at the end: {run['load_end']})\n")
        out += [case_table(case, data) + "\n" for case, data in run["cases"].items()]
    if results.get("thp"):
        th = results["thp"]
        out.append(
            f"\n**THP_MEM_ALLOC_ENABLE** ({th['case']}, N = {th['N']:.0e}, {th['threads']} thread(s), "
            "fresh processes): "
            + "; ".join(
                f"{k}: mandel {v['mandel']:.2e}, mandel_out {v['mandel_out']:.2e} points/s"
                for k, v in th["runs"].items()
            )
        )
    if results.get("isolated"):
        iso = results["isolated"]
        sizes = sorted({int(n) for c in iso["cases"].values() for n in c})
        out += [
            "",
            f"**`{iso['variant']}` alone, one fresh process per (case, N)** ({iso['threads']} thread(s); points/s, "
            "and the change from the smallest N):",
            "",
            "| case | " + " | ".join(f"N = {n:.0e}" for n in sizes) + " |",
            "|---|" + "---|" * len(sizes),
        ]
        for case, row in iso["cases"].items():
            first = row[str(sizes[0])]
            out.append(
                f"| {case} | " + " | ".join(f"{row[str(n)]:.2e} ({row[str(n)] / first - 1:+.0%})" for n in sizes) + " |"
            )
    if results.get("neml2"):
        n2 = results["neml2"]
        out += [
            "",
            f"**NEML2 {n2['neml2']}** (torch {n2['torch']} in its own virtual environment, {n2['newton']} Newton "
            f"loop, {n2['threads']} thread(s); `benchmarks/neml2_j2.py` with `benchmarks/neml2/*.i`, the same "
            "strains): points/s against the package's best `update_mandel` figure above at the same N, and the largest "
            "per-point relative difference of NEML2's stress and tangent from the package's.",
            "",
            "| case | N | NEML2 points/s | package points/s | package / NEML2 | stress difference "
            "| tangent difference |",
            "|---|---|---|---|---|---|---|",
        ]
        for case, by_n in n2["cases"].items():
            for N, r in by_n.items():
                ours = r.get("package_pts_s")
                ratio = f"{ours / r['pts_s']:.0f}×" if ours else "–"
                out.append(
                    f"| {case} | {int(N):.0e} | {r['pts_s']:.2e} | {ours or float('nan'):.2e} | {ratio} | "
                    f"{r['max_rel_err_stress']:.1e} | {r['max_rel_err_tangent']:.1e} |"
                )
    if results.get("paired"):
        pr = results["paired"]
        variant = "compiled_out" if pr["compiled"] else "mandel_out"
        out += [
            "",
            f"**Paired flatness** (`{variant}`, {pr['rounds']} rounds, each one call over N = {pr['large']:.0e} "
            f"and {pr['large'] // pr['small']} calls over N = {pr['small']:.0e}, alternated so that both meet the "
            "same machine state): throughput at the large N over that at the small N.",
            "",
            "| case | median ratio | range | best points/s, small N | best points/s, large N |",
            "|---|---|---|---|---|",
        ]
        for case, row in pr["cases"].items():
            out.append(
                f"| {case} | {row['ratio_median']:.3f} | {row['ratio_min']:.3f}–{row['ratio_max']:.3f} | "
                f"{row['pts_s_small_best']:.2e} | {row['pts_s_large_best']:.2e} |"
            )
    for name, sec in results.get("sections", {}).items():
        out.append("")
        out.append(_section_markdown(sec) if sec else f"*Section {name!r}: benchmarks/{name}.py not present.*")
    prof = []
    for k, v in results.get("profile", {}).items():
        prof += [f"`{k}`:", "", "```", v.rstrip(), "```", ""]
    return {"tables": "\n".join(out), "profile": "\n".join(prof)}


def write_docs(parts: dict[str, str], path: Path) -> None:
    """Replace the text between each pair of :data:`MARKERS` in ``path`` by the generated part."""
    text = path.read_text(encoding="utf-8")
    for key, (begin, end) in MARKERS.items():
        if key not in parts or not parts[key]:
            continue
        i, j = text.find(begin), text.find(end)
        if i < 0 or j < i:
            raise SystemExit(f"{path}: markers {begin!r} ... {end!r} not found")
        text = text[: i + len(begin)] + "\n" + parts[key].rstrip() + "\n" + text[j:]
    path.write_text(text, encoding="utf-8")


def measure_run(args: argparse.Namespace, sizes: list[int], bw: float, with_memory: bool) -> dict[str, Any]:
    """Every case at every N on :data:`DEVICE` with the current thread count: points/s of each variant, the
    bound ``bw / bytes per point``, log-log slopes and (``with_memory``, CPU) the peak memory per point."""
    run: dict[str, Any] = {"cases": {}, "device": str(DEVICE), "stream_bytes_per_s": bw}
    for case in args.cases:
        nin, nout = DOUBLES[case]
        bpp = 8 * (nin + nout)
        bound = bw / bpp
        rows = []
        info: dict[str, Any] = {}
        print(f"\n== {case}: {bpp} B/point in Mandel form, bound {bound:.3e} points/s")
        for N in sizes:
            fns, plastic = variants(
                case, N, int(args.max_ref_n), compiled=args.compile, info=info, max_tensor=int(args.max_tensor_n)
            )
            t = best_times(fns, args.repeat)
            row: dict[str, Any] = {
                "N": N, "plastic": plastic, "time_s": t, "pts_s": {k: N / v for k, v in t.items()},
                "load": os.getloadavg()[0],
            }  # fmt: skip
            if with_memory:
                kinds = ["mandel"] + (["tensor"] if "tensor" in fns else [])
                kinds += ["compiled"] if args.compile and N == sizes[-1] else []
                row["memory"] = {v: memory(case, N, v) for v in kinds}
            if DEVICE.type == "cuda":  # the device's own allocator: peak bytes of one update per point
                row["memory"] = {"mandel": cuda_memory(fns["mandel"], N)}
            rows.append(row)
            del fns
            cells = "  ".join(f"{k} {v:.3e}" for k, v in row["pts_s"].items())
            print(f"N={N:>9} plastic {plastic:.2f} load {row['load']:.1f}  {cells}")
            best = max(v for k, v in row["pts_s"].items() if k not in ("baseline", "tensor_ref"))
            print(f"{'':12}best: {best / bound:.1%} of the bound")
            if "memory" in row:
                print(f"{'':12}peak memory per point: {row['memory']}")
        names = sorted({k for r in rows for k in r["pts_s"]})
        slopes = {}
        for v in names:
            pts = [(r["N"], r["time_s"][v]) for r in rows if v in r["time_s"]]
            if len(pts) > 1:
                slopes[v] = slope(*map(list, zip(*pts)))
        print("log-log slope of time per point vs N: " + ", ".join(f"{k} {s:+.3f}" for k, s in slopes.items()))
        run["cases"][case] = {
            "bytes_per_point": bpp, "bound_pts_s": bound, "rows": rows, "variants": names, "slopes": slopes, **info,
        }  # fmt: skip
    run["load_end"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return run


def cuda_memory(fn: Callable[[], object], N: int) -> dict[str, float]:
    """Peak CUDA memory of one call of ``fn`` above what was allocated before it, bytes per point (the
    inputs are already allocated: reported as 0)."""
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    res = fn()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - before
    del res
    return {"update_bytes_per_point": peak / N, "inputs_bytes_per_point": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-n", type=float, default=1e6)
    parser.add_argument("--min-n", type=float, default=1e3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[2], help="one or more thread counts")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--max-ref-n", type=float, default=1e6, help="largest N for the tensor_ref route")
    parser.add_argument("--max-tensor-n", type=float, default=1e7, help="largest N for the tensor route")
    parser.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto",
        help="auto: the CPU, and also CUDA when torch sees a GPU; cpu or cuda: that one only",
    )  # fmt: skip
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument("--profile", action="store_true", help="torch.profiler tables at N = 1e5")
    parser.add_argument("--compile", action="store_true", help="also the torch.compile-fused kernel (compiled)")
    parser.add_argument("--thp", action="store_true", help="THP_MEM_ALLOC_ENABLE unset vs 1 (fresh processes)")
    parser.add_argument("--sections", action="store_true", help="the contributed sections (hyperelastic, driver)")
    parser.add_argument(
        "--isolated", action="store_true",
        help="also compiled_out (mandel_out without --compile) per (case, N >= 1e5) in fresh processes",
    )  # fmt: skip
    parser.add_argument("--isolated-only", action="store_true", help="--isolated without the side-by-side run")
    parser.add_argument(
        "--paired", type=int, default=0, metavar="ROUNDS",
        help="the N = 1e5 -> max-n flatness in ROUNDS alternated rounds (update_mandel, out= buffers)",
    )  # fmt: skip
    parser.add_argument(
        "--neml2", metavar="PYTHON", default=None,
        help="NEML2's python (its own venv): also time NEML2's J2 return map (benchmarks/neml2_j2.py)",
    )  # fmt: skip
    parser.add_argument("--neml2-max-n", type=float, default=1e6, help="largest N for NEML2 (from 1e5)")
    parser.add_argument("--quick", action="store_true", help="quick mode of the contributed sections")
    parser.add_argument("--out", default="out/performance")
    parser.add_argument(
        "--docs", action="store_true", help="write the figure into docs/figures and the tables into docs/performance.md"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-time", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads[0])
    if args.child:
        case, N, variant = args.child
        print(json.dumps(child_memory(case, int(N), variant)))
        return
    if args.child_time:
        case, N, variant, repeat = args.child_time
        print(json.dumps(child_time(case, int(N), variant, int(repeat))))
        return
    sizes = [int(10**k) for k in range(round(math.log10(args.min_n)), round(math.log10(args.max_n)) + 1)]
    devices = ["cpu"] if args.device in ("auto", "cpu") else []
    if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: torch sees no CUDA device here")
        devices.append("cuda")
    global DEVICE
    DEVICE = torch.device("cpu")
    bw = stream_bandwidth() if "cpu" in devices else math.nan
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip() if os.name == "posix" else ""
    results: dict[str, Any] = {
        "argv": " ".join(sys.argv[1:]),
        "machine": {
            "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "torch": torch.__version__, "python": platform.python_version(), "uptime": uptime,
            "load_average": os.getloadavg(), "THP_MEM_ALLOC_ENABLE": os.environ.get("THP_MEM_ALLOC_ENABLE", "unset"),
            "cuda": torch.cuda.get_device_name(0) if "cuda" in devices else None,
        },
        "stream_bytes_per_s": bw,
        "repeat": args.repeat,
        "runs": {},
    }  # fmt: skip
    print(f"float64, devices {devices}, torch {torch.__version__}, uptime: {uptime}")
    print(f"THP_MEM_ALLOC_ENABLE={results['machine']['THP_MEM_ALLOC_ENABLE']}")
    if args.isolated_only:
        args.isolated, devices = True, ["cpu"]
    if "cpu" in devices:
        print(f"streaming bandwidth (copy into an existing buffer): {bw / 1e9:.1f} GB/s")
        for threads in args.threads if not args.isolated_only else []:
            torch.set_num_threads(threads)
            print(f"\n######## {threads} thread(s), load {os.getloadavg()}")
            memory_here = not args.no_memory and threads == args.threads[0]
            results["runs"][str(threads)] = measure_run(args, sizes, bw, memory_here)
        torch.set_num_threads(args.threads[0])
    if "cuda" in devices:
        DEVICE = torch.device("cuda")
        bw_gpu = stream_bandwidth()
        print(f"\n######## CUDA: {results['machine']['cuda']}, streaming bandwidth {bw_gpu / 1e9:.0f} GB/s")
        results["runs"]["cuda"] = measure_run(args, sizes, bw_gpu, False)
        DEVICE = torch.device("cpu")
    results["cases"] = next(iter(results["runs"].values()))["cases"] if results["runs"] else {}  # (figure)
    if args.thp and "cpu" in devices:
        N = sizes[-1]
        results["thp"] = {"case": "j2-linear", "N": N, "threads": args.threads[0],
                          "runs": thp_effect("j2-linear", N, args.repeat, args.threads[0])}  # fmt: skip
        print(f"\nTHP_MEM_ALLOC_ENABLE: {results['thp']}")
    if args.isolated and "cpu" in devices:
        big = [n for n in sizes if n >= 100_000] or sizes[-1:]
        variant = "compiled_out" if args.compile else "mandel_out"
        results["isolated"] = isolated(args.cases, big, variant, args.repeat, args.threads[0])
    if args.neml2 and "cpu" in devices:
        n2_sizes = [n for n in sizes if 100_000 <= n <= args.neml2_max_n] or [min(sizes[-1], int(args.neml2_max_n))]
        results["neml2"] = neml2_column(
            args.neml2, args.cases, n2_sizes, args.repeat, args.threads[0], results["runs"].get(str(args.threads[0]))
        )
    if args.paired and "cpu" in devices and len(sizes) > 1:
        small = 100_000 if 100_000 in sizes[:-1] else sizes[0]
        results["paired"] = paired(args.cases, small, sizes[-1], args.paired, args.compile)
    if args.profile and "cpu" in devices:
        results["profile"] = profile(compiled=args.compile)
        for k, v in results["profile"].items():
            print(f"\n-- torch.profiler, j2-linear, N = 1e5, {k}\n{v}")
    if args.sections and "cpu" in devices:
        results["sections"] = sections(args.quick)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "performance.json").write_text(json.dumps(results, indent=1))
    if results["cases"]:
        figure(results, out / "performance.png")
    parts = markdown(results)
    (out / "performance.md").write_text(parts["tables"] + "\n\n" + parts["profile"])
    if args.docs:
        root = Path(__file__).resolve().parents[1]
        if results["cases"]:
            figure(results, root / "docs" / "figures" / "performance.png")
        write_docs(parts, root / "docs" / "performance.md")
    print(f"\nwrote {out / 'performance.json'}, {out / 'performance.md'} and {out / 'performance.png'}")


if __name__ == "__main__":
    main()
