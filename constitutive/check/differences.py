"""Finite-difference tangents (central / forward with Richardson, complex step) and the Taylor remainder
test, in the conventions of :mod:`constitutive.tangent`."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from .. import tensor as T
from ..notation import components as component_order
from ..tangent import CONVENTIONS
from ..tensor import Tensor, TensorLike, as_tensor, check_finite, check_shape

METHODS = ("central", "forward", "complex", "taylor")

#: Default number of halvings of h in the Taylor test (h_0 s, ..., h_0 s / 2**7).
_TAYLOR_STEPS = 8


def _taylor_h0(dtype: torch.dtype) -> float:
    """Largest default Taylor step relative to s: 1e-2 in float64; 1e-1 in lower precision, where the quadratic
    remainder h^2 of smaller steps sinks below round-off (about 1e2 eps |f|) and no slope could be fitted."""
    return 1e-2 if float(torch.finfo(dtype).eps) < 1e-10 else 1e-1


def _directions(convention: str, dtype: torch.dtype, device: torch.device) -> list[tuple[int, int, Tensor]]:
    """(k, l, E) perturbation directions whose directional derivative is the column kl in ``convention``."""
    out = []
    if convention == "full":
        for k in range(3):
            for l in range(3):
                E = torch.zeros(3, 3, dtype=dtype, device=device)
                E[k, l] = 1.0
                out.append((k, l, E))
        return out
    # The six independent components, named once by the notation layer's textbook Voigt order.
    for k, l in component_order("voigt"):
        E = torch.zeros(3, 3, dtype=dtype, device=device)
        if k == l:
            E[k, k] = 1.0
        else:
            w = 0.5 if convention == "symmetric" else 1.0  # C:E = C_ijkl (symmetric), or 2 C_ijkl (components)
            E[k, l] = E[l, k] = w
        out.append((k, l, E))
    return out


def _scale(x: Tensor, fx: Tensor, C: Tensor) -> Tensor:
    """Per-point length scale s = max(max|x|, max|f(x)| / max|C|) (1 where both vanish); shape ``(...)``."""
    xs = x.abs().amax(dim=(-1, -2))
    cs = C.abs().amax(dim=(-1, -2, -3, -4))
    fs = fx.abs().amax(dim=(-1, -2))
    ratio = torch.where(cs > 0, fs / cs.clamp_min(torch.finfo(cs.dtype).tiny), torch.zeros_like(fs))
    s = torch.maximum(xs, ratio)
    return torch.where(s > 0, s, torch.ones_like(s))


def _eval(fn: Callable[[Tensor], Tensor], x: Tensor, what: str) -> Tensor:
    y = fn(x)
    if not isinstance(y, Tensor) or y.shape != x.shape:
        shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
        raise ValueError(f"the stress function must map {tuple(x.shape)} to the same shape, got {shape}")
    check_finite(y, what)
    return y


def finite_difference_tangent(
    fn: Callable[[Tensor], Tensor],
    strain: TensorLike,
    method: str = "central",
    convention: str = "symmetric",
    *,
    step: float | TensorLike | None = None,
    richardson: bool = True,
    scale: TensorLike | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Finite-difference tangent of a *batched* ``fn`` at ``strain`` ``(..., 3, 3)`` in ``convention``.

    All points are perturbed at once (one call of ``fn`` per direction and step).

    Parameters
    ----------
    fn:
        Batched stress function, ``(..., 3, 3) -> (..., 3, 3)``.
    strain:
        ``(..., 3, 3)`` points.
    method:
        'central' (default), 'forward' or 'complex'.
    convention:
        'symmetric' (default), 'components' or 'full', as in :mod:`constitutive.tangent`.
    step:
        Absolute step (scalar or ``(...)`` per point); default :math:`\epsilon^{1/3} s` (central, forward with
        Richardson), :math:`\epsilon^{1/2} s` (plain forward) or :math:`10^{-20} s` (complex).
    richardson:
        Richardson-extrapolate central/forward differences (default True).
    scale:
        The per-point length scale s ``(...)`` of the default step (default ``max(max|x|, 1)``).

    Returns ``(C_fd (..., 3, 3, 3, 3), step (...))``.
    """
    if not callable(fn):
        raise ValueError(f"fn must be a callable stress(strain), got {type(fn).__name__}")
    x = as_tensor(strain)
    check_shape(x, (3, 3), "strain")
    check_finite(x, "strain")
    if method not in ("central", "forward", "complex"):
        raise ValueError(f"unknown finite-difference method {method!r}; choose 'central', 'forward' or 'complex'")
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; choose one of {CONVENTIONS}")
    real = x.real.dtype if x.is_complex() else x.dtype
    eps = float(torch.finfo(real).eps)
    batch = x.shape[:-2]
    if scale is None:
        s = x.abs().amax(dim=(-1, -2)).clamp_min(1.0)
    else:
        s = torch.broadcast_to(as_tensor(scale, dtype=real, device=x.device), batch)
    if step is not None:
        h = torch.broadcast_to(as_tensor(step, dtype=real, device=x.device), batch).clone()
        if bool((h <= 0).any()):
            raise ValueError(f"step must be positive, got {step}")
    elif method == "complex":
        h = 1e-20 * s
    elif method == "forward" and not richardson:
        h = math.sqrt(eps) * s
    else:
        h = eps ** (1.0 / 3.0) * s
    hh = h[..., None, None]
    C = torch.zeros(*batch, 3, 3, 3, 3, dtype=x.dtype, device=x.device)

    if method == "complex":
        xc = x.to(torch.complex128 if real == torch.float64 else torch.complex64)
        for k, l, E in _directions(convention, real, x.device):
            with T.allow_complex():  # models refuse complex strains elsewhere; here the imaginary part is the point
                y = _eval(fn, xc + 1j * hh * E, "f at a complex-step point")
            if not y.is_complex():
                raise ValueError("the complex-step method needs a function that keeps complex input complex")
            col = y.imag / hh
            C[..., k, l] = col
            if convention != "full":
                C[..., l, k] = col
        return C, h

    f0 = _eval(fn, x, "f(strain)") if method == "forward" else None

    def derivative(E: Tensor, hs: Tensor) -> Tensor:
        if method == "central":
            plus = _eval(fn, x + hs * E, "f at a perturbed strain")
            return (plus - _eval(fn, x - hs * E, "f at a perturbed strain")) / (2 * hs)
        assert f0 is not None  # method == "forward"
        return (_eval(fn, x + hs * E, "f at a perturbed strain") - f0) / hs

    for k, l, E in _directions(convention, real, x.device):
        d = derivative(E, hh)
        if richardson:
            # Two steps cancel the leading truncation term: O(h^2) -> O(h^4) (central), O(h) -> O(h^2) (forward).
            d_half = derivative(E, 0.5 * hh)
            d = (4.0 * d_half - d) / 3.0 if method == "central" else 2.0 * d_half - d
        C[..., k, l] = d
        if convention != "full":
            C[..., l, k] = d
    return C, h


def _symmetric_action(C: Tensor, convention: str) -> Tensor:
    """The fourth-order tensor whose ``: D`` gives df for an increment D (undoes the doubled shear columns)."""
    if convention == "components":
        half = 1.0 - 0.5 * (1.0 - torch.eye(3, dtype=C.real.dtype, device=C.device))  # 1 diagonal, 1/2 off it
        return C * half
    return C


def taylor_remainder(
    fn: Callable[[Tensor], Tensor],
    strain: TensorLike,
    tangent: TensorLike,
    convention: str = "symmetric",
    *,
    hs: Sequence[float] | TensorLike | None = None,
    scale: TensorLike | None = None,
    seed: int = 0,
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Taylor remainders :math:`r_m = \|f(X + h_m D) - f(X) - h_m\,C : D\|` for a *batched* ``fn``.

    D is a random unit direction per point (symmetric unless ``convention='full'``; seeded, reproducible).

    Parameters
    ----------
    fn:
        Batched stress function, ``(..., 3, 3) -> (..., 3, 3)``.
    strain:
        ``(..., 3, 3)`` points X.
    tangent:
        C, ``(..., 3, 3, 3, 3)`` in ``convention``.
    convention:
        'symmetric' (default), 'components' or 'full', as in :mod:`constitutive.tangent`.
    hs:
        Absolute steps, shared by all points; default :math:`h_0 2^{-m} s`, m = 0..7, with :math:`h_0 = 10^{-2}`
        in float64 and :math:`10^{-1}` in float32.
    scale:
        The per-point length scale s of the default steps (default ``max(max|x|, 1)``).
    seed:
        Seed of the random directions D (default 0).

    Returns ``(h (..., M), r (..., M), noise (..., M))`` where ``noise`` is a round-off estimate
    :math:`10^2 \epsilon (\|f(X)\| + \|f(X + hD)\|)`; remainders below it carry no information.
    """
    if not callable(fn):
        raise ValueError(f"fn must be a callable stress(strain), got {type(fn).__name__}")
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; choose one of {CONVENTIONS}")
    x = as_tensor(strain)
    check_shape(x, (3, 3), "strain")
    check_finite(x, "strain")
    C = as_tensor(tangent)
    check_shape(C, (3, 3, 3, 3), "tangent")
    check_finite(C, "tangent")
    C = _symmetric_action(C.to(x.dtype), convention)
    batch = x.shape[:-2]
    eps = float(torch.finfo(x.dtype).eps)
    if hs is None:
        h0 = _taylor_h0(x.dtype)
        rel = torch.tensor([h0 * 0.5**m for m in range(_TAYLOR_STEPS)], dtype=x.dtype, device=x.device)
        if scale is None:
            s = x.abs().amax(dim=(-1, -2)).clamp_min(1.0)
        else:
            s = torch.broadcast_to(as_tensor(scale, dtype=x.dtype, device=x.device), batch)
    else:
        rel = as_tensor(hs, dtype=x.dtype, device=x.device).flatten()
        s = torch.ones(batch, dtype=x.dtype, device=x.device)
    if rel.numel() < 3 or not bool(torch.isfinite(rel).all()) or bool((rel <= 0).any()):
        raise ValueError("hs must hold at least three positive finite steps")
    gen = torch.Generator().manual_seed(seed)
    D = torch.randn(*batch, 3, 3, generator=gen, dtype=torch.float64).to(dtype=x.dtype, device=x.device)
    if convention != "full":
        D = T.sym(D)
    D = D / T.norm(D)[..., None, None]
    f0 = _eval(fn, x, "f(strain)")
    CD = T.ddot42(C, D)
    h_all, r_all, noise_all = [], [], []
    for hr in rel:
        h = hr * s
        f1 = _eval(fn, x + h[..., None, None] * D, "f at a Taylor-test point")
        r_all.append(T.norm(f1 - f0 - h[..., None, None] * CD))
        noise_all.append(1e2 * eps * (T.norm(f0) + T.norm(f1)))
        h_all.append(h)
    return torch.stack(h_all, -1), torch.stack(r_all, -1), torch.stack(noise_all, -1)


def _fit_order(h: Tensor, r: Tensor, noise: Tensor) -> Tensor:
    """Least-squares slope of log r against log h over the entries above the noise (NaN if < 3 such)."""
    valid = r > noise
    lh, lr = torch.log(h), torch.log(r.clamp_min(torch.finfo(r.dtype).tiny))
    w = valid.to(h.dtype)
    n = w.sum(-1)
    mh = (w * lh).sum(-1) / n.clamp_min(1)
    mr = (w * lr).sum(-1) / n.clamp_min(1)
    cov = (w * (lh - mh[..., None]) * (lr - mr[..., None])).sum(-1)
    var = (w * (lh - mh[..., None]) ** 2).sum(-1)
    slope = cov / var.clamp_min(torch.finfo(h.dtype).tiny)
    return torch.where(n >= 3, slope, torch.full_like(slope, float("nan")))


def _voigt_slot(i: int, j: int) -> int:
    return [frozenset(p) for p in component_order("voigt")].index(frozenset((i, j)))


def _label(ijkl: tuple[int, int, int, int], convention: str) -> str:
    i, j, k, l = ijkl
    I, J = _voigt_slot(i, j), _voigt_slot(k, l)
    return (
        f"C_{i + 1}{j + 1}{k + 1}{l + 1} = Voigt C[{I + 1},{J + 1}] "
        f"(d{'σ'}{i + 1}{j + 1}/d{'ε'}{k + 1}{l + 1}, {convention} convention)"
    )
