r"""Verification of tangents against finite differences: :func:`check_tangent` and the ``constitutive check`` CLI.

A tangent :math:`C = \partial f/\partial X` of a stress map :math:`f` (``(..., 3, 3) -> (..., 3, 3)``) is compared,
component by component and at every point of a batch at once, with a finite-difference tangent taken *in the same
convention* (see :mod:`constitutive.tangent`):

* ``"symmetric"``: the column :math:`kl` comes from a symmetric perturbation
  :math:`X + h\,(e_k \otimes e_l + e_l \otimes e_k)/(1 + \delta_{kl})`, so that
  :math:`\mathrm{d}f/\mathrm{d}h = C : E` gives :math:`C_{ijkl}` directly (:math:`X_{12}` and :math:`X_{21}` each
  move by h/2; the diagonal by h);
* ``"components"``: the off-diagonal perturbation moves :math:`X_{12}` and :math:`X_{21}` by h each, which gives the
  doubled shear columns of that convention;
* ``"full"``: the nine perturbations :math:`e_k \otimes e_l`; the function must accept non-symmetric input.

Methods: ``"central"`` (default) and ``"forward"`` differences, both Richardson-extrapolated (two steps h and h/2)
so that their truncation error is :math:`O(h^4)` and :math:`O(h^2)`; ``"complex"`` (complex step,
:math:`\operatorname{Im} f(X + i h E)/h`, exact to round-off for functions that are real-analytic *and* accept complex
input -- not for those built on ``eigh``, ``abs`` or ``max``); and ``"taylor"``: the Taylor remainder
:math:`r(h) = \|f(X + h D) - f(X) - h\,C : D\|` along a random direction D for a geometric range of h, whose
log-log slope is 2 for a correct tangent and 1 for a wrong one.

The automatic step is :math:`h = \epsilon^{1/3} s` per point, with the length scale
:math:`s = \max(\max|X|,\ \max|f(X)| / \max|C|)` (the strain magnitude, or the offset-to-slope ratio when f does
not vanish at X = 0), so round-off stays at :math:`\approx\epsilon^{2/3}` relative to C and, with Richardson, the
truncation error is far below it: a correct float64 tangent of a smooth function passes at ``rtol=1e-8``.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from . import tensor as T
from .cli import ORDER_ARG_HELP, SYMMETRIC_ARG_HELP
from .notation import components as component_order
from .notation import from_notation
from .symmetry import asymmetry
from .tangent import CONVENTIONS, jacobian
from .tensor import Tensor, TensorLike, as_tensor, check_finite, check_shape, check_symmetric

__all__ = [
    "METHODS",
    "TangentCheckReport",
    "check_tangent",
    "finite_difference_tangent",
    "taylor_remainder",
    "register_cli",
]

METHODS = ("central", "forward", "complex", "taylor")

#: Default number of halvings of h in the Taylor test (h_0 s, ..., h_0 s / 2**7).
_TAYLOR_STEPS = 8


def _taylor_h0(dtype: torch.dtype) -> float:
    """Largest default Taylor step relative to s: 1e-2 in float64; 1e-1 in lower precision, where the quadratic
    remainder h^2 of smaller steps sinks below round-off (about 1e2 eps |f|) and no slope could be fitted."""
    return 1e-2 if float(torch.finfo(dtype).eps) < 1e-10 else 1e-1


# --------------------------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------------------------


@dataclass
class TangentCheckReport:
    """Outcome of :func:`check_tangent`.

    Errors are per point :math:`\\max_{ijkl}|C - C^{FD}|` (absolute) and that divided by
    :math:`\\max_{ijkl}|C^{FD}|` (relative); the reported values are the maxima over the batch. A point passes when
    its absolute error is at most ``atol + rtol * max|C^FD|``; ``worst_batch_index`` is the point that violates this
    most (largest error / allowance). Indices are zero-based (``worst_component`` is ``(i, j, k, l)`` into the
    ``(3, 3, 3, 3)`` tangent, ``worst_voigt`` ``(I, J)`` into the textbook Voigt matrix, order 11 22 33 23 13 12);
    ``worst_label`` spells them one-based. For ``method="taylor"`` ``passed`` means ``taylor_order >= 1.9`` (or a
    remainder at round-off level, i.e. f is affine along the direction), and the component errors come from a
    central-difference comparison run alongside, for diagnosis. ``bool(report)`` is ``report.passed``.
    """

    passed: bool
    method: str
    convention: str
    rtol: float
    atol: float
    step: float
    n_points: int
    max_abs_error: float
    max_rel_error: float
    worst_batch_index: tuple[int, ...]
    worst_component: tuple[int, int, int, int]
    worst_voigt: tuple[int, int]
    worst_label: str
    worst_tangent_value: float
    worst_reference_value: float
    asymmetry: dict[str, float]
    taylor_order: float | None = None
    taylor_steps: list[float] = field(default_factory=list)
    taylor_remainders: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [
            f"Tangent check {verdict}: method {self.method!r}, convention {self.convention!r}, "
            f"{self.n_points} point(s)",
            f"  max |C - C_ref|            = {self.max_abs_error:.3e}   (atol {self.atol:.1e})",
            f"  max |C - C_ref| / max|C_ref| = {self.max_rel_error:.3e}   (rtol {self.rtol:.1e})",
            f"  worst point                 = batch index {self.worst_batch_index}, step h = {self.step:.3e}",
            f"  worst component             = {self.worst_label}: tangent {self.worst_tangent_value:.10g}, "
            f"reference {self.worst_reference_value:.10g}",
            f"  tangent asymmetry           = minor {self.asymmetry['minor']:.2e}, major {self.asymmetry['major']:.2e}",
        ]
        if self.taylor_order is not None:
            order = f"{self.taylor_order:.3f}"
            if math.isnan(self.taylor_order):
                # NaN passes only when every remainder is round-off (f affine along D); otherwise too few steps
                # rose above round-off to fit a slope (float32 with small steps: pass larger ``hs``).
                order = "round-off (affine)" if self.passed else "undetermined (< 3 steps above round-off)"
            lines.append(f"  Taylor remainder order      = {order}   (2 for a correct tangent, 1 for a wrong one)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (lists and numbers; NaN kept as ``float('nan')``)."""
        d = asdict(self)
        d["worst_batch_index"] = list(self.worst_batch_index)
        d["worst_component"] = list(self.worst_component)
        d["worst_voigt"] = list(self.worst_voigt)
        return d

    def to_json(self, **kwargs: Any) -> str:
        """JSON text of :meth:`to_dict` (NaN written as ``null``)."""

        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list):
                return [clean(x) for x in v]
            return v

        return json.dumps(clean(self.to_dict()), **kwargs)

    def plot(self, path: str | None = None) -> Any:
        """Log-log figure of the Taylor remainder r(h) at the worst point, with slope-1 and slope-2 guides.

        Needs ``method="taylor"``. Saves to ``path`` when given; returns the matplotlib figure (Agg backend).
        """
        if not self.taylor_steps:
            raise ValueError("the report holds no Taylor remainder; run check_tangent(..., method='taylor')")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        h = torch.tensor(self.taylor_steps, dtype=torch.float64)
        r = torch.tensor(self.taylor_remainders, dtype=torch.float64)
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.loglog(h, r, "o-", label="remainder $\\|f(x+hd)-f(x)-h\\,C:d\\|$")
        positive = r > 0
        if bool(positive.any()):
            h0, r0 = float(h[positive][0]), float(r[positive][0])
            ax.loglog(h, r0 * (h / h0), "--", color="gray", label="slope 1")
            ax.loglog(h, r0 * (h / h0) ** 2, ":", color="black", label="slope 2")
        order = "n/a" if self.taylor_order is None or math.isnan(self.taylor_order) else f"{self.taylor_order:.2f}"
        ax.set_xlabel("step h")
        ax.set_ylabel("Taylor remainder")
        ax.set_title(f"Taylor test ({'passed' if self.passed else 'failed'}), order {order}")
        ax.legend()
        fig.tight_layout()
        if path is not None:
            fig.savefig(path)
        return fig


# --------------------------------------------------------------------------------------------------------------
# Resolving the function and tangent
# --------------------------------------------------------------------------------------------------------------


def _batched(fn: Callable[[Tensor], Tensor], x: Tensor, batched: bool | None) -> Callable[[Tensor], Tensor]:
    """A function on ``(..., 3, 3)`` batches: ``fn`` itself if it handles batches, else ``vmap(fn)``."""
    if x.ndim == 2 or batched is True:
        return fn

    def vmapped(y: Tensor) -> Tensor:
        flat = y.reshape(-1, 3, 3)
        return torch.func.vmap(fn)(flat).reshape(y.shape)

    if batched is False:
        return vmapped
    # Auto-detect: a point-wise fn fails on a batch, returns the wrong shape, or (indexing the batch axis as if it
    # were a tensor axis) returns other values than on a single point: compare with the first point alone.
    try:
        out = fn(x)
    except (RuntimeError, IndexError):
        return vmapped
    if not isinstance(out, Tensor) or out.shape != x.shape:
        return vmapped
    first = x.reshape(-1, 3, 3)[0]
    try:
        single = fn(first)
    except (RuntimeError, IndexError):
        return fn  # batched-only function
    if not isinstance(single, Tensor) or single.shape != (3, 3) or not bool(torch.isfinite(single).all()):
        return fn  # batched-only, or non-finite: f(strain) reports the NaN
    tol = T.symmetry_tolerance(x.dtype)  # sqrt(eps): batched and single kernels may differ in round-off
    same = torch.allclose(single, out.reshape(-1, 3, 3)[0], rtol=tol, atol=tol * float(single.abs().max()))
    return fn if same else vmapped


def _resolve(
    fn_or_model: Any,
    strain: Tensor,
    tangent: TensorLike | None,
    convention: str,
    state: Mapping[str, Tensor] | None,
    dt: float | Tensor | None,
    batched: bool | None,
    notation: str | None,
    order: str,
) -> tuple[Callable[[Tensor], Tensor], Tensor]:
    """(batched stress function, tangent in ``convention`` broadcast to ``(..., 3, 3, 3, 3)``)."""
    from .models.base import Material, PathDependentMaterial

    batch = strain.shape[:-2]
    if isinstance(fn_or_model, PathDependentMaterial):
        model = fn_or_model
        start = dict(model.initial_state(batch)) if state is None else dict(state)

        def stress(e: Tensor) -> Tensor:
            # The history stays at the start of the step: this is what makes the tangent the consistent one.
            return model.update(e, start, dt)[0]

        model_tangent = (lambda: model.update(strain, start, dt)[2]) if tangent is None else None
    elif isinstance(fn_or_model, Material):
        model = fn_or_model
        stress = model.stress
        model_tangent = (lambda: model.tangent(strain)) if tangent is None else None
    elif callable(fn_or_model):
        stress = _batched(fn_or_model, strain, batched)
        model_tangent = None
        if tangent is None:
            tangent = jacobian(fn_or_model, strain, convention, mode="auto")
    else:
        raise ValueError(f"fn_or_model must be a callable or a constitutive Material, got {type(fn_or_model)}")

    if model_tangent is not None:
        if convention == "full":
            raise ValueError(
                "a model's tangent is defined on symmetric strains; check it with convention 'symmetric' "
                "(or 'components'), not 'full'"
            )
        C = as_tensor(model_tangent())
        check_shape(C, (3, 3, 3, 3), "the model's tangent")
        if convention == "components":
            # Double the shear columns without symmetrizing: a model tangent that is wrongly not minor-symmetric
            # must show up in the comparison, not be projected away.
            C = C * (2.0 - torch.eye(3, dtype=C.real.dtype, device=C.device))
    else:
        C = as_tensor(tangent)
        if C.ndim >= 2 and C.shape[-2:] == (6, 6) and not (C.ndim >= 4 and C.shape[-4:] == (3, 3, 3, 3)):
            if notation is None:
                raise ValueError("a (..., 6, 6) tangent needs notation='voigt' or 'mandel' (and its order)")
            if convention != "symmetric":
                raise ValueError("a Voigt/Mandel tangent matrix is checked in the 'symmetric' convention only")
            C = from_notation(C, "stiffness", notation, order)
        check_shape(C, (3, 3, 3, 3), "tangent")
    check_finite(C, "tangent")
    try:
        C = torch.broadcast_to(C, (*batch, 3, 3, 3, 3))
    except RuntimeError:
        raise ValueError(
            f"tangent of shape {tuple(C.shape)} does not match the strain batch {tuple(batch)} (+ (3, 3, 3, 3))"
        ) from None
    return stress, C.to(strain.dtype) if not strain.is_complex() else C


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

    All points are perturbed at once (one call of ``fn`` per direction and step). ``method``: 'central', 'forward'
    or 'complex'. ``step``: absolute step (scalar or ``(...)`` per point); default :math:`\epsilon^{1/3} s`
    (central, forward with Richardson), :math:`\epsilon^{1/2} s` (plain forward) or :math:`10^{-20} s` (complex),
    with ``scale`` s ``(...)`` (default ``max(max|x|, 1)``). Returns ``(C_fd (..., 3, 3, 3, 3), step (...))``.
    """
    x = as_tensor(strain)
    check_shape(x, (3, 3), "strain")
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

    D is a random unit direction per point (symmetric unless ``convention='full'``; seeded, reproducible). ``hs``:
    absolute steps, shared by all points; default :math:`h_0 2^{-m} s`, m = 0..7, with :math:`h_0 = 10^{-2}` in
    float64 and :math:`10^{-1}` in float32, and the per-point ``scale`` s (default ``max(max|x|, 1)``). Returns
    ``(h (..., M), r (..., M), noise (..., M))`` where ``noise`` is a round-off estimate
    :math:`10^2 \epsilon (\|f(X)\| + \|f(X + hD)\|)`; remainders below it carry no information.
    """
    x = as_tensor(strain)
    check_shape(x, (3, 3), "strain")
    C = _symmetric_action(as_tensor(tangent), convention)
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
    if rel.numel() < 3 or bool((rel <= 0).any()):
        raise ValueError("hs must hold at least three positive steps")
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


# --------------------------------------------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------------------------------------------


def check_tangent(
    fn_or_model: Any,
    strain: TensorLike,
    tangent: TensorLike | None = None,
    method: str = "central",
    *,
    convention: str = "symmetric",
    rtol: float = 1e-6,
    atol: float | None = None,
    step: float | TensorLike | None = None,
    state: Mapping[str, Tensor] | None = None,
    dt: float | Tensor | None = None,
    hs: Sequence[float] | TensorLike | None = None,
    batched: bool | None = None,
    richardson: bool = True,
    notation: str | None = None,
    order: str = "voigt",
) -> TangentCheckReport:
    r"""Compare a tangent with finite differences in the same convention, at every point of a batch at once.

    Parameters
    ----------
    fn_or_model:
        A callable ``stress(strain)`` on ``(..., 3, 3)`` (batched, or point-wise on ``(3, 3)``: it is then vmapped;
        ``batched`` forces either), a :class:`~constitutive.models.Material` (``model.stress``; ``model.tangent``
        when ``tangent`` is None), or a :class:`~constitutive.models.PathDependentMaterial`:
        :math:`\sigma(\varepsilon) = ` ``model.update(ε, state, dt)[0]`` with ``state`` (default
        ``model.initial_state(batch)``) held at the start of the step, the tangent being ``update(...)[2]``.
    strain:
        ``(..., 3, 3)``; symmetric unless ``convention='full'``.
    tangent:
        ``(..., 3, 3, 3, 3)`` (or broadcastable, e.g. one ``(3, 3, 3, 3)`` for all points) in ``convention``, or a
        ``(..., 6, 6)`` stiffness matrix with ``notation``/``order`` stated ('symmetric' only). ``None``: from the
        model, or :func:`constitutive.tangent.jacobian` (automatic differentiation) for a callable.
    method:
        'central' (default), 'forward', 'complex' or 'taylor' (see the module docstring).
    convention:
        'symmetric' (default), 'components' or 'full', as in :mod:`constitutive.tangent`.
    rtol, atol:
        A point passes when :math:`\max|C - C^{FD}| \le \text{atol} + \text{rtol}\max|C^{FD}|`; ``atol`` defaults
        to :math:`100\epsilon` times the largest :math:`\max|C^{FD}|` of the batch. ``rtol=1e-8`` is reachable in
        float64 with 'central' or 'complex'; use about 1e-3 in float32.
    step:
        Absolute finite-difference step (scalar or per point); default automatic (see the module docstring).
    hs:
        Absolute Taylor steps (at least three), default ``h0 * 2**-m`` times the per-point length scale s,
        m = 0..7, with h0 = 1e-2 in float64 and 1e-1 in float32 (whose round-off would swallow smaller steps).
    richardson:
        Richardson-extrapolate central/forward differences (default True).

    Returns a :class:`TangentCheckReport`. Raises ``ValueError`` for a non-symmetric strain (unless 'full'), NaN
    in the strain, the tangent or any function value, and shape mismatches.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; choose one of {CONVENTIONS}")
    x = as_tensor(strain)
    check_shape(x, (3, 3), "strain")
    if x.numel() == 0:
        raise ValueError(f"strain batch is empty (shape {tuple(x.shape)}); nothing to check")
    check_finite(x, "strain")
    if convention != "full":
        check_symmetric(x, "strain (the tangent's convention needs symmetric strains; use convention='full' otherwise)")
    fn, C = _resolve(fn_or_model, x, tangent, convention, state, dt, batched, notation, order)
    batch = x.shape[:-2]
    fx = _eval(fn, x, "f(strain)")
    s = _scale(x, fx, C)

    fd_method = "central" if method == "taylor" else method
    C_fd, h = finite_difference_tangent(fn, x, fd_method, convention, step=step, richardson=richardson, scale=s)
    C_fd = C_fd.to(C.dtype)
    err = (C - C_fd).abs()
    err_pt = err.amax(dim=(-1, -2, -3, -4))
    ref_pt = C_fd.abs().amax(dim=(-1, -2, -3, -4))
    eps = float(torch.finfo(x.real.dtype if x.is_complex() else x.dtype).eps)
    atol_val = float(100 * eps * float(ref_pt.max())) if atol is None else float(atol)
    allowance = atol_val + rtol * ref_pt
    tiny = torch.finfo(err.dtype).tiny
    violation = err_pt / allowance.clamp_min(tiny)
    violation = torch.where(allowance > 0, violation, torch.where(err_pt > 0, torch.inf, 0.0))
    passed = bool((err_pt <= allowance).all())
    rel_pt = err_pt / ref_pt.clamp_min(tiny)
    rel_pt = torch.where(ref_pt > 0, rel_pt, torch.where(err_pt > 0, torch.inf, 0.0))

    flat_v = violation.reshape(-1)
    worst_flat = int(torch.argmax(flat_v)) if flat_v.numel() else 0
    worst_idx = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst_flat), batch)) if batch else ()
    comp = int(torch.argmax(err[worst_idx].reshape(-1)))
    ijkl = tuple(int(i) for i in torch.unravel_index(torch.tensor(comp), (3, 3, 3, 3)))
    asym = asymmetry(_symmetric_action(C, convention))  # of the tangent proper (shear columns not doubled)
    notes: list[str] = []
    if method == "complex":
        notes.append("complex step: exact only for real-analytic functions (no eigh/abs/max inside)")
    if fd_method in ("central", "forward"):
        notes.append(f"{fd_method} differences{' with Richardson extrapolation' if richardson else ''}")

    taylor_order = None
    t_h: list[float] = []
    t_r: list[float] = []
    if method == "taylor":
        hs_abs, r, noise = taylor_remainder(fn, x, C, convention, hs=hs, scale=s)
        orders = _fit_order(hs_abs, r, noise)
        # A NaN order means the remainder is round-off at every step: f is affine along D and C:D is exact.
        affine = torch.isnan(orders) & (r <= noise).all(-1)
        ok = (orders >= 1.9) | affine
        passed = bool(ok.all())
        key = torch.where(affine, torch.full_like(orders, torch.inf), orders)
        worst_t = int(torch.argmin(key.reshape(-1)))
        worst_idx = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst_t), batch)) if batch else ()
        taylor_order = float(orders.reshape(-1)[worst_t])
        t_h = [float(v) for v in hs_abs.reshape(-1, hs_abs.shape[-1])[worst_t]]
        t_r = [float(v) for v in r.reshape(-1, r.shape[-1])[worst_t]]
        comp = int(torch.argmax(err[worst_idx].reshape(-1)))
        ijkl = tuple(int(i) for i in torch.unravel_index(torch.tensor(comp), (3, 3, 3, 3)))
        notes.append("passed/failed from the Taylor order; component errors from central differences")

    return TangentCheckReport(
        passed=passed,
        method=method,
        convention=convention,
        rtol=float(rtol),
        atol=atol_val,
        step=float(h[worst_idx]) if batch else float(h),
        n_points=int(math.prod(batch)),
        max_abs_error=float(err_pt.max()),
        max_rel_error=float(rel_pt.max()),
        worst_batch_index=worst_idx,
        worst_component=ijkl,  # type: ignore[arg-type]
        worst_voigt=(_voigt_slot(ijkl[0], ijkl[1]), _voigt_slot(ijkl[2], ijkl[3])),
        worst_label=_label(ijkl, convention),  # type: ignore[arg-type]
        worst_tangent_value=float(C[worst_idx][ijkl].real),
        worst_reference_value=float(C_fd[worst_idx][ijkl].real),
        asymmetry={k: float(asym[k].max()) for k in ("minor", "major")},
        taylor_order=taylor_order,
        taylor_steps=t_h,
        taylor_remainders=t_r,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------

#: Names an ``--expr`` may use besides X: torch and the tensor helpers below (no builtins, no attributes with _).
_EXPR_NAMES: dict[str, Any] = {
    "torch": torch,
    "I": None,  # the identity, filled per dtype
    "sym": T.sym,
    "skew": T.skew,
    "dev": T.dev,
    "vol": T.vol,
    "tr": T.trace,
    "trace": T.trace,
    "det": T.det,
    "inv": T.inv,
    "ddot": T.ddot,
    "dyad": T.dyad,
    "norm": T.norm,
    # torch's Padé matrix exponential: analytic, so AD stays finite at repeated eigenvalues (sym_exp's eigh does not).
    "expm": torch.linalg.matrix_exp,
    "logm": T.sym_log,
    "sqrtm": T.sym_sqrt,
}


def _torch_math_names() -> frozenset[str]:
    """torch attributes an expression may use: the tensor operators (no I/O, hub, jit, ops, ...)."""
    ops = {n for n in dir(torch._C._VariableFunctions) if not n.startswith("_")}  # the ATen tensor functions
    return frozenset(ops | {"linalg", "einsum", "tensordot", "pi", "e", "float64", "float32", "where"})


def expression_function(expr: str) -> Callable[[Tensor], Tensor]:
    """A stress function from a torch expression of ``X`` (a ``(..., 3, 3)`` tensor), evaluated in a restricted
    namespace: ``torch``, ``I`` (identity), ``sym skew dev vol tr trace det inv ddot dyad norm logm sqrtm``
    (from :mod:`constitutive.tensor`; the spectral ``logm``/``sqrtm`` have no AD derivative at repeated
    eigenvalues), ``expm`` (``torch.linalg.matrix_exp``), numbers and operators. Attribute access to names
    starting with ``_``, ``torch`` attributes other than its tensor operators and ``torch.linalg`` (no ``torch.load``,
    ``torch.save``, ``torch.hub``, ...), lambdas and comprehensions are rejected (``ValueError``). Scalar-valued results
    (e.g. ``tr(X)``) must be turned into tensors by the expression itself (e.g. ``tr(X)[..., None, None] * I``)."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as err:
        raise ValueError(f"--expr is not a valid expression: {err.msg}") from None
    allowed = set(_EXPR_NAMES) | {"X"}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr)):
            raise ValueError(f"--expr may not contain {type(node).__name__}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ValueError(f"--expr may not access the private attribute {node.attr!r}")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch":
            if node.attr not in _torch_math_names():
                raise ValueError(f"--expr may use torch's tensor operations only, not torch.{node.attr}")
        if isinstance(node, ast.Name) and node.id not in allowed:
            raise ValueError(f"--expr uses unknown name {node.id!r}; allowed: X, {', '.join(sorted(_EXPR_NAMES))}")
    code = compile(tree, "<expr>", "eval")

    def f(X: Tensor) -> Tensor:
        names = dict(_EXPR_NAMES, X=X, I=torch.eye(3, dtype=X.dtype, device=X.device))
        out = eval(code, {"__builtins__": {}}, names)  # noqa: S307 - restricted namespace, AST-checked above
        if not isinstance(out, Tensor):
            raise ValueError(f"--expr must evaluate to a tensor, got {type(out).__name__}")
        return out

    return f


def _run_cli(args: argparse.Namespace) -> int:
    """Exit code 0 (passed), 1 (failed) or 2 (bad input, message on stderr)."""
    import sys

    from .cli import model_arg, symmetric_arg

    try:
        if args.plot and args.method != "taylor":
            raise ValueError("--plot draws the Taylor remainder: use it with --method taylor")
        strain = symmetric_arg(args.strain, "strain", args.order)
        if args.model:
            target: Any = model_arg(args.model, args.param)
            what = repr(target)
        else:
            target = expression_function(args.expr)
            what = f"f(X) = {args.expr}"
        report = check_tangent(target, strain, method=args.method, convention=args.convention, rtol=args.rtol)
    except (ValueError, TypeError) as err:
        print(f"constitutive check: error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        if args.model:
            raise
        # torch's own error for an expression it cannot evaluate (shapes, dtypes): the user's input, not a bug.
        print(f"constitutive check: error: --expr {args.expr!r} failed: {err}", file=sys.stderr)
        return 2
    if args.plot:
        report.plot(args.plot)
    if args.json:
        print(report.to_json(indent=2))
    else:
        print(what)
        print(report)
    return 0 if report.passed else 1


def register_cli(subparsers: Any) -> None:
    """Add ``constitutive check``."""
    p = subparsers.add_parser(
        "check",
        help="verify a tangent against finite differences",
        description=(
            "Check the tangent of a registered model (--model, with --param NAME=VALUE) or of an expression of X "
            "(--expr, differentiated automatically) against finite differences at one strain. Prints the report; "
            "exit code 1 when the check fails, 2 on bad input."
        ),
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--model", help="a parameter file (path or materials/ stem), or a model class name with --param NAME=VALUE"
    )
    src.add_argument(
        "--expr",
        help="torch expression of X, e.g. 'X @ X' or 'expm(X)'; names: X, I, torch, "
        + ", ".join(k for k in _EXPR_NAMES if k not in ("torch", "I")),
    )
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="model parameter (repeat)")
    p.add_argument(
        "--strain",
        nargs="+",
        default=["0,0,0,0,0,0"],
        metavar="E",
        help="the strain: " + SYMMETRIC_ARG_HELP + "; default zero strain",
    )
    p.add_argument("--order", default="voigt", help=ORDER_ARG_HELP)
    p.add_argument("--method", default="central", choices=METHODS)
    p.add_argument("--convention", default="symmetric", choices=CONVENTIONS)
    p.add_argument("--rtol", type=float, default=1e-6)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--plot", metavar="PATH", help="save the Taylor-remainder figure (with --method taylor)")
    p.set_defaults(func=_run_cli)
