"""NEML2's J2 return map side by side with ours: the optional NEML2 column of ``benchmarks/performance.py``.

NEML2 (``pip install neml2``) pins its own torch, so it lives in a separate virtual environment and this file has
two halves:

* run with NEML2's python, it is the measuring script::

      python benchmarks/neml2_j2.py --case j2-linear --n 1e5 --repeat 3 --threads 2 --strain E.npy --out R.json

  It loads ``benchmarks/neml2/<case>.i`` (the backward-Euler J2 return map of :func:`performance.make_model`'s
  case as a NEML2 ``ImplicitUpdate`` + ``Newton`` model), evaluates, for the Mandel strains ``(N, 6)`` of
  ``--strain`` from the virgin state, in one batched call, the stress, plastic strain, equivalent plastic strain
  and the consistent tangent dσ/dε (NEML2's forward-mode chain rule through the implicit function theorem, seeded
  on the strain only: the ``stress``/``strain`` block of ``Model.jacobian``), times the best of ``--repeat`` calls
  on ``--threads`` threads, and writes the JSON (points/s, NEML2 and torch versions, the Newton loop used) with
  the stress ``(N, 6)`` and tangent ``(N, 6, 6)`` in ``<out stem>_stress.npy`` / ``<out stem>_tangent.npy`` next
  to it. NEML2's ``SR2`` is the Mandel packing of ours (11, 22, 33, √2·23, √2·13, √2·12) and its tangent
  ``dσ_M/dε_M`` is our ``C_alg`` of ``update_mandel``: no conversion is needed (the comparison checks it).
* imported from our venv (numpy and torch only at import), :func:`measure_neml2` runs that script in NEML2's
  python on :func:`performance.make_strain_cpu` strains and compares with ``J2Plasticity.update_mandel``.

NEML2 3.1's Python route drives its Newton iterations from a compiled loop (``neml2.aoti._aoti.newton_solve_eager``)
linked to torch's C++ library; NEML2 supports torch 2.10 to 2.12 (its compatibility table), and under torch 2.13 or
2.14 that loop fails ("Dimension out of range", a C++ ABI mismatch; torch 2.12.1 works). With
``--newton auto`` (the default) the script then replaces only that loop control by :func:`_python_newton` (the
same iteration: full step ``u += A⁻¹(-r)``, converged when every point has ``|r| < abs_tol`` or
``|r| < rel_tol |r₀|``), keeping NEML2's models, Jacobian assembly, linear solver and implicit-function tangent,
and says so in the JSON (``"newton": "python"``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
#: The NEML2 input file of each case (the ``[Models/model]`` block is the return map).
INPUTS = {"j2-linear": HERE / "neml2" / "j2_linear.i", "j2-voce": HERE / "neml2" / "j2_voce.i"}
CASES = tuple(INPUTS)


# ----------------------------------------------------------------------------------------------------------------
# NEML2 side (NEML2's python)
# ----------------------------------------------------------------------------------------------------------------


def _python_newton(
    *,
    residual_fn: Any,
    step_fn: Any,
    unknown_layout: Any,
    residual_layout: Any,
    u0: list[torch.Tensor],
    atol: float,
    rtol: float,
    miters: int,
    collect_log: bool = False,
    **_: Any,
) -> tuple[list[torch.Tensor], bool, int, list[str]]:
    """Drop-in for ``neml2.aoti._aoti.newton_solve_eager`` (full Newton steps, no line search).

    ``residual_fn(u) -> b = -r`` and ``step_fn(u) -> (du, b)`` with ``du = A⁻¹ b`` are NEML2's own graphs; the
    per-point residual norm reduces each group over its trailing sub-batch and base axes (``residual_layout``) and
    sums the squares across groups."""

    def norm(b: list[torch.Tensor]) -> torch.Tensor:
        sq = None
        for x, (_, sub) in zip(b, residual_layout, strict=True):
            s = x.square().sum(dim=tuple(range(x.ndim - 1 - len(sub), x.ndim)))
            sq = s if sq is None else sq + s
        assert sq is not None
        return sq.sqrt()

    u = [t.clone() for t in u0]
    nr0 = norm(residual_fn(u))
    nr = nr0
    its = 0
    while True:
        if bool(((nr < atol) | (nr < rtol * nr0)).all()):
            return u, True, its, []
        if its >= miters:
            return u, False, its, []
        du, _b = step_fn(u)
        u = [a + d for a, d in zip(u, du, strict=True)]
        nr = norm(residual_fn(u))
        its += 1


def _inputs(model: Any, strain: torch.Tensor) -> tuple[Any, ...]:
    """The model's inputs in ``input_spec`` order: the strain and the virgin history (zero)."""
    from neml2 import SR2, Scalar

    N = strain.shape[0]
    values = {
        "strain": SR2(strain),
        "plastic_strain~1": SR2(torch.zeros(N, 6, dtype=strain.dtype)),
        "equivalent_plastic_strain~1": Scalar(torch.zeros(N, dtype=strain.dtype)),
    }
    return tuple(values[name] for name in model.input_spec)


def evaluate(model: Any, args: tuple[Any, ...]) -> dict[str, torch.Tensor]:
    """One batched call: ``stress`` (N, 6), ``plastic_strain`` (N, 6), ``equivalent_plastic_strain`` (N,) and
    ``tangent`` (N, 6, 6) ``= d stress / d strain`` (forward-mode chain rule, identity seed on the strain alone),
    without autograd."""
    from neml2 import SR2

    strain = args[list(model.input_spec).index("strain")]
    N = strain.data.shape[0]
    eye = torch.eye(6, dtype=strain.data.dtype).reshape(6, 1, 6).expand(6, N, 6).contiguous()
    seed = SR2(eye, k_ndim=1, k_state=("full",), k_pairing=(None,))
    with torch.no_grad():  # the parameters require grad: no autograd graph for a forward evaluation
        *outs, v_out = model(*args, v={"strain": {"strain": seed}})
    res = {name: out.data for name, out in zip(model.output_spec, outs, strict=True)}
    res["tangent"] = v_out["stress"]["strain"].data.movedim(0, -1)  # (K = d strain, N, d stress) -> (N, 6, 6)
    return res


_NATIVE_NEWTON: Any = None  # NEML2's compiled Newton loop, kept when load() replaces it


def load(case: str, newton: str = "auto") -> tuple[Any, str, str]:
    """``(model, newton loop used, why the native loop was not)``; ``newton``: auto | native | python."""
    import neml2
    import neml2.aoti._aoti as _aoti

    global _NATIVE_NEWTON
    if _NATIVE_NEWTON is None:
        _NATIVE_NEWTON = _aoti.newton_solve_eager
    _aoti.newton_solve_eager = _NATIVE_NEWTON  # undo a replacement by an earlier load
    model = neml2.load_model(str(INPUTS[case]), "model")
    why = ""
    if newton == "python":
        _aoti.newton_solve_eager = _python_newton
        return model, "python", "requested"
    # 8 points, half plastic: a torch of another ABI makes the compiled loop reduce over dim N - 1
    scale = torch.linspace(0.1, 1.0, 8, dtype=torch.float64)[:, None]
    probe = scale * torch.tensor([4e-3, -2e-3, -2e-3, 1e-3, 0.0, 0.0], dtype=torch.float64)
    try:
        evaluate(model, _inputs(model, probe))
        return model, "native", why
    except RuntimeError as exc:
        if newton == "native":
            raise
        why = str(exc).splitlines()[0]
    _aoti.newton_solve_eager = _python_newton
    return model, "python", why


def run(case: str, strain: np.ndarray, repeat: int, threads: int, newton: str = "auto") -> tuple[dict, dict]:
    """Timing and results: ``(info for the JSON, arrays)``."""
    import neml2

    torch.set_num_threads(threads)
    model, loop, why = load(case, newton)
    e = torch.from_numpy(np.ascontiguousarray(strain, dtype=np.float64))
    N = e.shape[0]
    evaluate(model, _inputs(model, e[:64]))  # warm-up (lazy initialisation)
    args = _inputs(model, e)
    times = []
    res: dict[str, torch.Tensor] = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = evaluate(model, args)
        times.append(time.perf_counter() - t0)
    best = min(times)
    info = {
        "case": case,
        "input": str(INPUTS[case]),
        "N": N,
        "threads": threads,
        "repeat": repeat,
        "times_s": times,
        "pts_s": N / best,
        "neml2": neml2.__version__,
        "torch": torch.__version__,
        "newton": loop,
        "newton_note": why,
        "plastic": float((res["equivalent_plastic_strain"].reshape(N) > 0).double().mean()),
    }
    arrays = {"stress": res["stress"].numpy(), "tangent": res["tangent"].contiguous().numpy()}
    return info, arrays


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=CASES, default="j2-linear")
    ap.add_argument("--n", type=float, default=None, help="points (default: all of --strain); the first N are used")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--strain", type=Path, required=True, help="Mandel strains (N, 6) float64, .npy")
    ap.add_argument("--out", type=Path, required=True, help="JSON; the arrays go next to it")
    ap.add_argument("--newton", choices=("auto", "native", "python"), default="auto")
    a = ap.parse_args(argv)
    strain = np.load(a.strain)
    if a.n is not None:
        strain = strain[: int(a.n)]
    info, arrays = run(a.case, strain, a.repeat, a.threads, a.newton)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    for key, arr in arrays.items():
        path = a.out.with_name(f"{a.out.stem}_{key}.npy")
        np.save(path, arr)
        info[key] = str(path)
    a.out.write_text(json.dumps(info, indent=1))
    print(json.dumps({k: v for k, v in info.items() if k not in arrays}))


# ----------------------------------------------------------------------------------------------------------------
# Our side (our venv): run the script in NEML2's python and compare
# ----------------------------------------------------------------------------------------------------------------


def _max_rel_err(x: torch.Tensor, ref: torch.Tensor) -> float:
    """``max over points of ||x - ref||_∞ / ||ref||_∞`` (per point, over its components)."""
    d = (x - ref).reshape(x.shape[0], -1).abs().amax(1)
    r = ref.reshape(ref.shape[0], -1).abs().amax(1)
    return float((d / r).max())


def measure_neml2(python: str, case: str, N: int, repeat: int, threads: int, timeout: float = 1800.0) -> dict:
    """NEML2's points/s for ``case`` at ``N`` points (subprocess in ``python``, NEML2's interpreter) and its
    agreement with ``J2Plasticity.update_mandel`` on the same strains (:func:`performance.make_strain_cpu`):
    ``{"pts_s", "neml2", "torch", "max_rel_err_stress", "max_rel_err_tangent", "newton"}``."""
    sys.path.insert(0, str(HERE))
    import performance  # noqa: PLC0415 -- our package and its torch: only on this side

    N = int(N)
    e = performance.make_strain_cpu(N)
    with tempfile.TemporaryDirectory(prefix="neml2_j2_") as tmp:
        strain_path = Path(tmp) / "strain.npy"
        out = Path(tmp) / "result.json"
        np.save(strain_path, e.numpy())
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        env.pop("PYTHONPATH", None)
        cmd = [python, str(Path(__file__).resolve()), "--case", case, "--n", str(N), "--repeat", str(repeat),
               "--threads", str(threads), "--strain", str(strain_path), "--out", str(out)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(HERE.parent))
        if proc.returncode != 0:
            raise RuntimeError(f"NEML2 run failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        info = json.loads(out.read_text())
        s_n2 = torch.from_numpy(np.load(info["stress"]))
        C_n2 = torch.from_numpy(np.load(info["tangent"]))
    model = performance.make_model(case)
    s, _, C = model.update_mandel(e.to(model.device), model.initial_state_mandel((N,)))
    assert C is not None
    return {
        "pts_s": info["pts_s"],
        "neml2": info["neml2"],
        "torch": info["torch"],
        "newton": info["newton"],
        "max_rel_err_stress": _max_rel_err(s_n2, s.cpu()),
        "max_rel_err_tangent": _max_rel_err(C_n2, C.cpu()),
    }


if __name__ == "__main__":
    main()
