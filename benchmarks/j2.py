"""Throughput of J2 point updates (stress + consistent tangent): the library vs a plain closed-form torch baseline.

Both do one backward-Euler step of small-strain von Mises plasticity with linear isotropic hardening from a
pre-strained state (about half the points yield) and return the stress ``(N, 3, 3)``, the new state and the
consistent tangent ``(N, 3, 3, 3, 3)``, float64 on the CPU:

* ``library``: ``J2Plasticity(E, nu, sigma_y, H).update(strain, state)`` (input validation included);
* ``baseline``: the textbook radial return written out below in plain torch (no validation, no state dict),
  the tangent assembled by broadcasting K I⊗I + 2G β I^dev − 2G γ̄ n⊗n.

The two results are compared (they must agree to round-off) before timing. Prints point-updates per second, the
best of ``--repeat`` runs. Usage: ``python benchmarks/j2.py [--sizes 10000 100000 1000000] [--threads N]``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import torch

from constitutive.models import J2Plasticity

E, NU, SY, H = 200e3, 0.3, 250.0, 1000.0


def baseline_update(
    eps: torch.Tensor, eps_p: torch.Tensor, alpha: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Plain radial return with linear isotropic hardening: (stress, eps_p, alpha, tangent)."""
    K = E / (3 * (1 - 2 * NU))
    G = E / (2 * (1 + NU))
    I = torch.eye(3, dtype=eps.dtype)
    IxI = torch.einsum("ij,kl->ijkl", I, I)
    Isym = 0.5 * (torch.einsum("ik,jl->ijkl", I, I) + torch.einsum("il,jk->ijkl", I, I))
    Idev = Isym - IxI / 3
    tr = eps.diagonal(dim1=-2, dim2=-1).sum(-1)
    e = eps - tr[:, None, None] / 3 * I
    s_tr = 2 * G * (e - eps_p)
    norm = s_tr.norm(dim=(-2, -1))
    q_tr = math.sqrt(1.5) * norm
    f = q_tr - (SY + H * alpha)
    plastic = f > 0
    dalpha = torch.where(plastic, f / (3 * G + H), torch.zeros_like(f))
    n = s_tr / norm.clamp_min(1e-300)[:, None, None]
    dgamma = math.sqrt(1.5) * dalpha
    stress = K * tr[:, None, None] * I + s_tr - 2 * G * dgamma[:, None, None] * n
    beta = 1 - 3 * G * dalpha / q_tr.clamp_min(1e-300)
    gbar = torch.where(plastic, 1 / (1 + H / (3 * G)) - (1 - beta), torch.zeros_like(f))
    C = (
        K * IxI
        + 2 * G * beta[:, None, None, None, None] * Idev
        - 2 * G * gbar[:, None, None, None, None] * n[:, :, :, None, None] * n[:, None, None, :, :]
    )
    return stress, eps_p + dgamma[:, None, None] * n, alpha + dalpha, C


def make_inputs(N: int, seed: int = 0) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(N, 3, 3, generator=g, dtype=torch.float64)
    eps = 3e-4 * (A + A.transpose(-1, -2))
    B = torch.randn(N, 3, 3, generator=g, dtype=torch.float64)
    B = B + B.transpose(-1, -2)
    B = B - B.diagonal(dim1=-2, dim2=-1).sum(-1)[:, None, None] / 3 * torch.eye(3, dtype=torch.float64)
    eps_p = 1e-4 * B
    alpha = math.sqrt(2 / 3) * eps_p.norm(dim=(-2, -1))
    model = J2Plasticity(E, NU, SY, H)
    state = {"eps_p": eps_p, "alpha": alpha, "backstress": torch.zeros(N, 0, 3, 3, dtype=torch.float64)}
    return eps, state, model


def best_times(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """Best wall time of each function; runs interleaved so that load from other processes hits both alike."""
    best = [math.inf] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"J2 point update (stress + consistent tangent), float64, CPU, {torch.get_num_threads()} thread(s)")
    print(f"{'N':>10} {'plastic':>8} {'library [pts/s]':>16} {'baseline [pts/s]':>17} {'library/baseline':>17}")
    for N in args.sizes:
        eps, state, model = make_inputs(N)
        s_lib, st_lib, C_lib = model.update(eps, state)
        s_ref, ep_ref, a_ref, C_ref = baseline_update(eps, state["eps_p"], state["alpha"])
        scale = float(C_ref.abs().max())
        assert float((C_lib - C_ref).abs().max()) <= 1e-10 * scale, "library and baseline tangents differ"
        assert float((s_lib - s_ref).abs().max()) <= 1e-9 * float(s_ref.abs().max()), "stresses differ"
        assert float((st_lib["alpha"] - a_ref).abs().max()) <= 1e-15
        plastic = float((st_lib["alpha"] > state["alpha"]).double().mean())
        del s_lib, st_lib, C_lib, s_ref, ep_ref, a_ref, C_ref
        t_lib, t_ref = best_times(
            [
                lambda: model.update(eps, state),  # noqa: B023
                lambda: baseline_update(eps, state["eps_p"], state["alpha"]),  # noqa: B023
            ],
            args.repeat,
        )
        print(f"{N:>10} {plastic:>8.2f} {N / t_lib:>16.3e} {N / t_ref:>17.3e} {t_ref / t_lib:>16.2f}x")


if __name__ == "__main__":
    main()
