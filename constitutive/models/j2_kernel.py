r"""The fused (``torch.compile``) J2 / Armstrong--Frederick return map on Mandel vectors, behind
:meth:`constitutive.models.J2Plasticity.update_mandel`.

One pure function of ``(strain6, eps_p6, alpha, backstress, parameters)`` -- :func:`j2_return_mandel` -- does the
whole point update: trial state, yield decision, the local Newton iteration as a *fixed* number of unrolled
iterations (converged points frozen, as in the eager loop, so the iterates are the same), the extra Newton step,
the new state and the closed-form consistent tangent ``(N, 6, 6)``. It is written for inductor (C++ on the CPU) in
two stages:

1. **per point, on columns**: every Mandel 6-vector is six ``(N,)`` tensors, so the trial state, the Newton
   iterations and the tangent's coefficients are elementwise over the points (no 6-wide reductions) and compile to
   one loop vectorised across points with every temporary in registers; it ends by stacking the few per-point
   results (n, Δα, tr ε, the tangent's u, c_sym, c_vol and θ_k: 8 to 22 numbers) into one small buffer;
2. **the outputs** as broadcasting expressions of the inputs and that buffer (``σ = s - 2G√(3/2)Δα n + K tr ε m``,
   ``C = u⊗n + c_sym I + c_vol m⊗m``, ...), which inductor writes straight into the result (or ``out=``) buffers
   with contiguous stores.

A single stage (stacking the 49 output columns) made inductor build every output in a temporary and copy it,
2× the memory traffic; a graph-constant identity matrix became per-entry index arithmetic in the store loop, so
``m``, ``I6`` and ``m⊗m`` are inputs (:func:`mandel_constants`). Measured figures: ``docs/performance.md``.

Convention: Mandel vectors of :data:`constitutive.models.plasticity.MANDEL_ORDER` (order 11, 22, 33, 23, 13, 12,
√2 on the shear slots); tangents :math:`C_{IJ} = w_I w_J C_{ijkl}`.

Policy (named once here): the compiled kernel runs

* when asked per call, ``update_mandel(..., compile=True)``; never with ``compile=False``;
* with ``compile=None`` (the default), by the process-wide policy :func:`set_compile_policy` (or the environment
  variable ``CONSTITUTIVE_J2_COMPILE``, read at import): ``"off"`` (default: never), ``"auto"`` (calls of at least
  :data:`AUTO_THRESHOLD` points compile the kernel once and use it; smaller calls use it only when it is already
  compiled -- no compile cost in small calls), ``"always"`` (every call of ≥ 2 points).

A kernel is compiled once per process and *kind* (hardening-law class, closed-form / scalar Newton /
Armstrong--Frederick, number of back stresses, tangent or not, dtype), with the batch dimension dynamic (no
recompiles per N). A failed compilation (no C++ compiler, unsupported platform) warns once and that kind runs the
eager kernel from then on. Points whose Newton iteration has not converged after the unrolled iterations are
recomputed by the eager kernel (same iterates, so the same result to round-off; it raises
:class:`~constitutive.models.base.ConvergenceError` if they do not converge there either).

Run-time needs of inductor on the CPU: a C++ compiler (``g++``/``clang++``, found as ``CXX`` or on ``PATH``) with
OpenMP, and the Python development headers (``Python.h``) for the generated extension; the first compilation of a
kind takes tens of seconds (cached on disk by inductor across processes afterwards).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from typing import Any

import torch

from ..tensor import Tensor

__all__ = [
    "AUTO_THRESHOLD",
    "COMPILED_CHUNK",
    "COMPILE_POLICIES",
    "INDUCTOR_OPTIONS",
    "N_NEWTON",
    "compile_policy",
    "inductor_available",
    "j2_return_mandel",
    "mandel_constants",
    "set_compile_policy",
]

SQ32 = math.sqrt(1.5)
SQ23 = math.sqrt(2.0 / 3.0)

#: Accepted values of :func:`set_compile_policy`.
COMPILE_POLICIES = ("off", "auto", "always")
#: Under the ``"auto"`` policy, the smallest call (points) that may trigger the compilation.
AUTO_THRESHOLD = 100_000
#: Points per call of the compiled kernel (``update_mandel(chunk=None)``). The kernel's only temporary is its
#: per-point buffer (8-22 doubles per point, see :func:`j2_return_mandel`): per chunk at most 11 MB, which the C
#: allocator can recycle from chunk to chunk (below glibc's 32 MB mmap threshold) while it is still in cache; one
#: call over all points would fault in fresh pages for it on every call (docs/performance.md).
COMPILED_CHUNK = 65536
#: Inductor options of the compiled kernel. ``cpp.dynamic_threads``: the generated loops are ``#pragma omp
#: parallel`` whatever the batch size and thread count at compile time (otherwise inductor hard-codes both from the
#: first call: a first call of 10³ points, or one made with one thread, would compile a serial loop for good).
#: ``cpp.enable_tiling_heuristics`` off: inductor otherwise refuses to vectorise a loop with more than 35 strided
#: loads and stores (ours reads the 6-vectors of every point), and the scalar loop was 1.2-1.5× slower.
INDUCTOR_OPTIONS: dict[str, Any] = {"cpp.dynamic_threads": True, "cpp.enable_tiling_heuristics": False}
#: Unrolled Newton iterations of the compiled kernel: (scalar Newton of a nonlinear isotropic law,
#: Armstrong--Frederick). Points not converged after them go to the eager kernel.
N_NEWTON = {"scalar": 4, "af": 5}

_POLICY = os.environ.get("CONSTITUTIVE_J2_COMPILE", "off").strip().lower() or "off"
if _POLICY not in COMPILE_POLICIES:  # a bad environment value must not break the import: warn, stay off
    warnings.warn(f"CONSTITUTIVE_J2_COMPILE={_POLICY!r} is not one of {COMPILE_POLICIES}; using 'off'", stacklevel=1)
    _POLICY = "off"

_COMPILED: dict[tuple[Any, ...], Callable[..., Any]] = {}
_FAILED: set[tuple[Any, ...]] = set()
#: Kernel kinds that compiled and ran successfully in this process.
READY: set[tuple[Any, ...]] = set()
_WARNED = False


def set_compile_policy(policy: str) -> str:
    """Set the process-wide policy of the compiled J2 kernel (``"off"``, ``"auto"``, ``"always"``; see the module
    docstring); returns the previous one. ``ValueError`` for anything else."""
    global _POLICY
    if policy not in COMPILE_POLICIES:
        raise ValueError(f"compile policy must be one of {COMPILE_POLICIES}, got {policy!r}")
    old, _POLICY = _POLICY, policy
    return old


def compile_policy() -> str:
    """The current process-wide policy (:func:`set_compile_policy`)."""
    return _POLICY


def inductor_available() -> bool:
    """Whether ``torch._inductor`` imports and a C++ compiler is found (a cheap check; compiling may still fail,
    which the kernel handles by falling back)."""
    try:
        import torch._inductor.config  # noqa: F401
        from torch._inductor.cpp_builder import get_cpp_compiler

        get_cpp_compiler()
    except Exception:
        return False
    return True


def wants_compiled(compile: bool | None, n: int, key: tuple[Any, ...]) -> bool:
    """Whether a call of ``n`` points of kernel kind ``key`` runs compiled (the policy of the module docstring)."""
    if n < 2 or key in _FAILED or compile is False:
        return False
    if compile:
        return True
    if _POLICY == "always":
        return True
    if _POLICY == "auto":
        return key in _COMPILED or n >= AUTO_THRESHOLD
    return False


def compiled_kernel(key: tuple[Any, ...]) -> Callable[..., Any]:
    """The compiled :func:`j2_return_mandel` for kernel kind ``key`` (one ``torch.compile`` object per kind and
    process; it compiles on its first call)."""
    fn = _COMPILED.get(key)
    if fn is None:
        # static shapes except the batch axis (marked dynamic by the caller): the 6-vectors unroll
        fn = torch.compile(j2_return_mandel_into, dynamic=False, fullgraph=True, options=INDUCTOR_OPTIONS)
        _COMPILED[key] = fn
    return fn


def mark_failed(key: tuple[Any, ...], err: BaseException) -> None:
    """Record a failed compilation of kind ``key`` (eager from then on); warns once per process."""
    global _WARNED
    _FAILED.add(key)
    _COMPILED.pop(key, None)
    if not _WARNED:
        _WARNED = True
        warnings.warn(
            f"torch.compile of the J2 kernel failed ({type(err).__name__}: {str(err).splitlines()[0][:200]}); "
            "using the eager kernel (results are the same; see constitutive.models.j2_kernel)",
            RuntimeWarning,
            stacklevel=3,
        )


class _LawParameters:
    """The law's parameters as attributes, for ``law_cls.flow_stress(self, alpha)`` inside the compiled function
    (a plain class that dynamo traces)."""

    def __init__(self, params: dict[str, Tensor]) -> None:
        for k, v in params.items():
            setattr(self, k, v)


def j2_return_mandel(
    e: Tensor,
    ep: Tensor,
    al: Tensor,
    X: Tensor,
    p: dict[str, Tensor],
    law_params: dict[str, Tensor],
    law_cls: Any,
    mode: str,
    n_iter: int,
    tangent: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor | None, Tensor]:
    r"""One backward-Euler J2 step of ``N`` points in Mandel form, as a pure function (compiled by inductor).

    Parameters
    ----------
    e, ep, al, X:
        Total strain ``(N, 6)``, plastic strain ``(N, 6)``, equivalent plastic strain ``(N,)`` and back stresses
        ``(N, nk, 6)`` at the start of the step (Mandel).
    p:
        0-d tensors ``K``, ``G`` (bulk and shear moduli), ``sigma_y``, ``H``, ``tol`` (local Newton tolerance,
        relative to the trial equivalent stress), ``(nk,)`` tensors ``C``, ``gamma`` (kinematic moduli) and the
        constants ``m`` (δ as a Mandel vector, ``(6,)``), ``I6`` (the ``(6, 6)`` identity) and ``mm`` (m ⊗ m):
        :func:`mandel_constants`.
    law_params, law_cls:
        The hardening law's parameters (0-d tensors) and class: its ``flow_stress`` is evaluated on a namespace
        of these (so any law written in torch operations of its parameters compiles); ``law_cls.linear``: R ≡ 0.
    mode:
        ``"closed"`` (linear law, no recovery: Δα = f_tr / (3G + H + ΣC)), ``"scalar"`` (nonlinear law, no
        recovery: scalar Newton with n fixed) or ``"af"`` (Armstrong--Frederick recovery: Newton on
        r(Δα) = √(3/2)‖ξ(Δα)‖ − (3G + Σθ_k C_k)Δα − σ_f(α_n + Δα)).
    n_iter:
        Unrolled bracketed Newton iterations (the eager loop's iterates; converged points frozen).
    tangent:
        Whether to build the consistent tangent.

    Returns
    -------
    ``(stress (N, 6), eps_p (N, 6), alpha (N,), backstress (N, nk, 6), C (N, 6, 6) or None, converged (N,) bool)``
    -- ``converged`` is False where the Newton iteration did not reach the tolerance (those rows must be
    recomputed).
    """
    K, G, sy, H, tol = p["K"], p["G"], p["sigma_y"], p["H"], p["tol"]
    ns = _LawParameters(law_params)
    nk = X.shape[1]
    Ck, gk = p["C"], p["gamma"]
    cks, gks = [Ck[k] for k in range(nk)], [gk[k] for k in range(nk)]

    def flow(a: Tensor) -> tuple[Tensor, Tensor]:
        sf = sy + H * a
        if law_cls.linear:
            return sf, H + torch.zeros_like(a)
        R, dR = law_cls.flow_stress(ns, a)
        return sf + R, H + dR

    # columns: every Mandel 6-vector is a list of six (N,) tensors, so that every operation below is
    # elementwise over the points (inductor vectorises and fuses it into one loop; no 6-wide reductions)
    ec, pc = list(e.unbind(1)), list(ep.unbind(1))
    Xc = [[X[:, k, i] for i in range(6)] for k in range(nk)]
    tr = ec[0] + ec[1] + ec[2]
    third = tr * (1.0 / 3.0)
    s = [2.0 * G * (ec[i] - pc[i] - third) if i < 3 else 2.0 * G * (ec[i] - pc[i]) for i in range(6)]
    eta = [s[i] - _sum([Xc[k][i] for k in range(nk)]) for i in range(6)] if nk else s
    nrm_tr = torch.sqrt(_dot(eta, eta))
    q_tr = SQ32 * nrm_tr
    sf_n = flow(al)[0]
    f_tr = q_tr - sf_n
    plastic = f_tr > 0
    pm = plastic.to(e.dtype)
    kin_sum = Ck.sum() if nk else torch.zeros_like(G)
    th: list[Tensor] | None = None
    if mode == "closed":
        hk = 3.0 * G + H + kin_sum
        x = f_tr.clamp_min(0.0) / hk
        dr = -hk + torch.zeros_like(x)
        nrm = nrm_tr
        converged = torch.ones_like(plastic)
    else:
        if mode == "af":
            # the iterations on per-point scalars (Gram form): s·s, s·X_k, X_k·X_l give ‖ξ‖ and n·X_k at any Δα
            # -- a much smaller graph; the last Newton step below uses the vector form of the eager kernel
            ss = _dot(s, s)
            sX = [_dot(Xc[k], s) for k in range(nk)]
            XX = [[_dot(Xc[k], Xc[m]) for m in range(nk)] for k in range(nk)]

            def af_terms(z: Tensor, xi_X: list[Tensor], nr: Tensor, th_: list[Tensor]) -> tuple[Tensor, Tensor]:
                kin = _sum([th_[k] * cks[k] for k in range(nk)])
                g_th2 = [gks[k] * th_[k] * th_[k] for k in range(nk)]
                sf, dsf = flow(al + z)
                r = SQ32 * nr - (3.0 * G + kin) * z - sf
                dr_ = (
                    SQ32 * _sum([g_th2[k] * (xi_X[k] / nr) for k in range(nk)])
                    - 3.0 * G - kin + _sum([g_th2[k] * cks[k] for k in range(nk)]) * z - dsf
                )  # fmt: skip
                return r, dr_

            def residual(z: Tensor) -> tuple[Tensor, Tensor]:
                th_ = [1.0 / (1.0 + gks[k] * z) for k in range(nk)]
                thXX = [_sum([th_[m] * XX[m][k] for m in range(nk)]) for k in range(nk)]  # Σ_m θ_m X_m·X_k
                xi_X = [sX[k] - thXX[k] for k in range(nk)]  # ξ·X_k
                xi2 = ss - 2.0 * _sum([th_[k] * sX[k] for k in range(nk)]) + _sum([th_[k] * thXX[k] for k in range(nk)])
                nr = torch.sqrt(xi2.clamp_min(0.0)) + (1.0 - pm)
                return af_terms(z, xi_X, nr, th_)

            def residual_vec(z: Tensor) -> tuple[Tensor, Tensor]:  # the eager kernel's form
                th_ = [1.0 / (1.0 + gks[k] * z) for k in range(nk)]
                xi = [s[i] - _sum([th_[k] * Xc[k][i] for k in range(nk)]) for i in range(6)]
                nr = torch.sqrt(_dot(xi, xi)) + (1.0 - pm)
                return af_terms(z, [_dot(Xc[k], xi) for k in range(nk)], nr, th_)

        else:

            def residual(z: Tensor) -> tuple[Tensor, Tensor]:
                sf, dsf = flow(al + z)
                return q_tr - (3.0 * G + kin_sum) * z - sf, -(3.0 * G + kin_sum) - dsf

        s_norm = torch.sqrt(_dot(s, s))
        for k in range(nk):
            s_norm = s_norm + torch.sqrt(_dot(Xc[k], Xc[k]))
        zero = torch.zeros_like(q_tr)
        z, lo = zero, zero
        hi = torch.where(plastic, (SQ32 * s_norm - sf_n).clamp_min(0.0) / (3.0 * G), zero)
        scale = torch.where(plastic, q_tr, torch.ones_like(q_tr))
        for _ in range(n_iter):  # the eager loop's iterates, unrolled; converged points stay where they are
            r, dr = residual(z)
            conv = ~plastic | (r.abs() <= tol * scale)
            lo = torch.where(r > 0, z, lo)
            hi = torch.where(r <= 0, z, hi)
            step = z - r / dr
            ok = torch.isfinite(step) & (step > lo) & (step < hi)
            z = torch.where(conv, z, torch.where(ok, step, 0.5 * (lo + hi)))
        r, dr = residual_vec(z) if mode == "af" else residual(z)
        converged = ~plastic | (r.abs() <= tol * scale)
        x = torch.where(plastic, z - r / dr, zero)  # one more Newton step, as the eager and tensor paths
        if mode == "af":
            th = [1.0 / (1.0 + gks[k] * x) for k in range(nk)]
            eta = [s[i] - _sum([th[k] * Xc[k][i] for k in range(nk)]) for i in range(6)]
            nrm = torch.sqrt(_dot(eta, eta))
        else:
            nrm = nrm_tr
    nrm_safe = nrm + (1.0 - pm)  # elastic points: a finite dummy (their Δα is 0)
    n = [eta[i] / nrm_safe for i in range(6)]
    cols = [*n, x, tr]
    if tangent:
        ratio = (2.0 * G * SQ32) * x / nrm_safe
        c_sym = 2.0 * G * (1.0 - ratio)
        c_vol = K - c_sym * (1.0 / 3.0)
        g6 = pm * (6.0 * G * G) / dr
        un = 2.0 * G * ratio + g6
        u = [n[i] * un for i in range(6)]
        if th is not None:
            v = [_sum([gks[k] * th[k] * th[k] * Xc[k][i] for k in range(nk)]) for i in range(6)]
            nv = _dot(n, v)
            gw = g6 * x / nrm_safe
            u = [u[i] + (v[i] - nv * n[i]) * gw for i in range(6)]
        cols += [*u, c_sym, c_vol]
    if th is not None:
        cols += th
    # Stage 2: the outputs as broadcasting expressions of the inputs and of these per-point quantities, stacked
    # into one small (N, 8-22) buffer so that inductor computes stage 1 once per point and then writes each
    # output (stress, state, the 6×6 tangent) straight into its destination with contiguous stores
    pack = torch.stack(cols, 1)
    n6, x, tr = pack[:, 0:6], pack[:, 6], pack[:, 7]
    m = p["m"]  # δ in Mandel form; it and the 6×6 constants below are inputs, not constants of the graph
    s6 = 2.0 * G * (e - ep - (tr * (1.0 / 3.0))[:, None] * m)
    dg = SQ32 * x
    stress = s6 - (2.0 * G * dg)[:, None] * n6 + (K * tr)[:, None] * m
    ep_new = ep + dg[:, None] * n6
    if nk:
        X_new = X + (SQ23 * Ck * x[:, None])[:, :, None] * n6[:, None, :]
        if th is not None:
            X_new = X_new * pack[:, -nk:, None]
    else:
        X_new = X.clone()
    C = None
    if tangent:
        u6, c_sym, c_vol = pack[:, 8:14], pack[:, 14], pack[:, 15]
        # (inductor would turn constant tensors into per-entry index arithmetic inside the store loop)
        C = u6[:, :, None] * n6[:, None, :] + c_sym[:, None, None] * p["I6"] + c_vol[:, None, None] * p["mm"]
    return stress, ep_new, al + x, X_new, C, converged


def mandel_constants(dtype: torch.dtype, device: torch.device) -> dict[str, Tensor]:
    """The constant inputs ``m``, ``I6``, ``mm`` of :func:`j2_return_mandel` (see there)."""
    m = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0], dtype=dtype, device=device)
    return {"m": m, "I6": torch.eye(6, dtype=dtype, device=device), "mm": torch.outer(m, m)}


def _sum(terms: list[Tensor]) -> Tensor:
    """Sum of a non-empty list of tensors, left to right."""
    acc = terms[0]
    for t in terms[1:]:
        acc = acc + t
    return acc


def _dot(a: list[Tensor], b: list[Tensor]) -> Tensor:
    """Dot product of two Mandel vectors given as columns (the plain one: the Mandel basis is orthonormal)."""
    return _sum([a[i] * b[i] for i in range(len(a))])


def j2_return_mandel_into(
    e: Tensor,
    ep: Tensor,
    al: Tensor,
    X: Tensor,
    p: dict[str, Tensor],
    law_params: dict[str, Tensor],
    law_cls: Any,
    mode: str,
    n_iter: int,
    tangent: bool,
    outs: list[Tensor | None],
) -> None:
    """:func:`j2_return_mandel` written into ``outs = [stress, eps_p, alpha, backstress, C or None, converged]``
    (the function that is compiled: inductor writes the results straight into the buffers)."""
    res = j2_return_mandel(e, ep, al, X, p, law_params, law_cls, mode, n_iter, tangent)
    for o, r in zip(outs, res):
        if o is not None and r is not None:
            o.copy_(r)
