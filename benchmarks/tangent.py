"""Throughput of tangents dY/dX on symmetric tensors: closed form vs ``constitutive.tangent`` AD vs the forum's loop.

Two maps, both with closed-form tangents in the 'symmetric' convention:

* ``square``: Y = X @ X, C = sym_kl(I ⊠ X + X ⊠ I);
* ``exp``: Y = exp X (spectral), C from ``constitutive.tensor.sym_function_derivative``.

Methods: the closed form (batched einsum) and ``constitutive.tangent.jacobian`` (vmap of jacfwd), both applied to
blocks of ``--block`` points written into one preallocated output (bounds temporary memory), and the forum's
approach -- a Python loop of ``torch.autograd.functional.jacobian`` over points followed by the symmetrization --
timed on a small batch (``--loop-points``) since it is per point.
Prints points per second. Usage: ``python benchmarks/tangent.py [--sizes 100000 1000000] [--threads N] [--all]``;
by default ``exp`` runs at the first size only, keeping the run under about a minute on two cores.
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable

import torch

from constitutive import tensor as T
from constitutive.tangent import apply_convention, jacobian


def square(X: torch.Tensor) -> torch.Tensor:
    return X @ X


def square_closed(X: torch.Tensor) -> torch.Tensor:
    I = torch.eye(3, dtype=X.dtype).expand_as(X)
    J = T.dyad_ikjl(I, X.transpose(-1, -2)) + T.dyad_ikjl(X, I)
    return 0.5 * (J + J.transpose(-1, -2))


def exp_closed(X: torch.Tensor) -> torch.Tensor:
    return T.sym_function_derivative(X, torch.exp, torch.exp)


MAPS: dict[str, tuple[Callable, Callable]] = {"square": (square, square_closed), "exp": (T.sym_exp, exp_closed)}


def forum_loop(fn: Callable, X: torch.Tensor) -> torch.Tensor:
    """The per-point loop a forum user writes, then symmetrized (the 'symmetric' convention)."""
    out = torch.empty(X.shape[0], 3, 3, 3, 3, dtype=X.dtype)
    for n in range(X.shape[0]):
        out[n] = torch.autograd.functional.jacobian(fn, X[n])
    return apply_convention(out, "symmetric")


def blocked(f: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor, block: int) -> torch.Tensor:
    """f over blocks of points written into one preallocated output (bounds the temporaries' memory)."""
    out = torch.empty(*X.shape[:-2], 3, 3, 3, 3, dtype=X.dtype)
    for start in range(0, X.shape[0], block):
        out[start : start + block] = f(X[start : start + block])
    return out


def rate(f: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor) -> tuple[float, torch.Tensor]:
    f(X[: min(len(X), 1000)])  # warm-up on a slice (allocator, vmap tracing)
    t0 = time.perf_counter()
    out = f(X)
    return X.shape[0] / (time.perf_counter() - t0), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--loop-points", type=int, default=200)
    parser.add_argument("--block", type=int, default=100_000, help="points per block (bounds temporary memory)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--all", action="store_true", help="run 'exp' at every size too (about 2.5 min on 2 cores)")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {args.dtype}, CPU")
    print(f"{'map':8s} {'points':>9s} {'method':28s} {'points/s':>12s} {'max |diff| vs closed':>22s}")
    for name, (fn, closed) in MAPS.items():
        sizes = args.sizes if name == "square" or args.all else args.sizes[:1]
        bench_map(name, fn, closed, sizes, args.loop_points, args.block, dtype)


def bench_map(
    name: str, fn: Callable, closed: Callable, sizes: list[int], loop_points: int, block: int, dtype: torch.dtype
) -> None:
    Xs = 0.5 * T.sym(torch.randn(loop_points, 3, 3, dtype=dtype))
    r_loop, C_loop = rate(functools.partial(forum_loop, fn), Xs)
    diff = float((C_loop - closed(Xs)).abs().max())
    print(f"{name:8s} {loop_points:9d} {'autograd.functional loop':28s} {r_loop:12.3e} {diff:22.2e}")
    for n in sizes:
        X = 0.5 * T.sym(torch.randn(n, 3, 3, dtype=dtype))
        r_closed, C_ref = rate(functools.partial(blocked, closed, block=block), X)
        print(f"{name:8s} {n:9d} {'closed form':28s} {r_closed:12.3e} {0.0:22.2e}")
        ad = functools.partial(jacobian, fn)
        r_ad, C_ad = rate(functools.partial(blocked, ad, block=block), X)
        diff = float((C_ad - C_ref).abs().max())
        print(f"{name:8s} {n:9d} {'constitutive.tangent.jacobian':28s} {r_ad:12.3e} {diff:22.2e}")
        del C_ref, C_ad  # free ~0.6 GB per 1e6 points before the next size


if __name__ == "__main__":
    main()
