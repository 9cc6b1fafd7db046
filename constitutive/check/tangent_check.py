"""The tangent check: :func:`check_tangent` of a model or a stress function at a batch of strains."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import torch

from .. import tensor as T
from ..contracts import PathDependentModel, SmallStrainModel
from ..notation import from_notation
from ..symmetry import asymmetry
from ..tangent import CONVENTIONS, jacobian
from ..tensor import Tensor, TensorLike, as_tensor, check_finite, check_shape, check_symmetric
from .differences import (
    METHODS,
    _eval,
    _fit_order,
    _label,
    _scale,
    _symmetric_action,
    _voigt_slot,
    finite_difference_tangent,
    taylor_remainder,
)
from .report import TangentCheckReport
from .tolerances import check_positive, default_rtol

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
    batch = strain.shape[:-2]
    _check_dt(dt)
    path_dependent = isinstance(fn_or_model, PathDependentModel)
    if not path_dependent and (state is not None or dt is not None):
        raise ValueError(
            "state and dt apply to path-dependent models (with initial_state/update) only; "
            f"{type(fn_or_model).__name__} has no history"
        )
    stress: Callable[[Tensor], Tensor]
    # Models are recognised by their interface (constitutive.contracts), not their class: the check sits below
    # constitutive.models (which uses it), so it must not import it.
    if path_dependent:
        model = fn_or_model
        start = dict(model.initial_state(batch)) if state is None else dict(state)

        def path_stress(e: Tensor) -> Tensor:
            # The history stays at the start of the step: this is what makes the tangent the consistent one.
            return model.update(e, start, dt)[0]

        stress = path_stress

        model_tangent = (lambda: model.update(strain, start, dt)[2]) if tangent is None else None
    elif isinstance(fn_or_model, SmallStrainModel):
        elastic = fn_or_model
        stress = elastic.stress
        model_tangent = (lambda: elastic.tangent(strain)) if tangent is None else None
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


def _check_dt(dt: float | Tensor | None) -> None:
    """``ValueError`` unless ``dt`` is None or finite and non-negative (a number or a tensor)."""
    if dt is None:
        return
    try:
        t = as_tensor(dt, dtype=torch.float64) if not isinstance(dt, Tensor) else dt.detach()
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"dt must be a non-negative number or tensor, got {dt!r}") from None
    if t.is_complex() or not bool(torch.isfinite(t).all()) or bool((t < 0).any()):
        raise ValueError(f"dt must be finite and non-negative, got {dt!r}")


# --------------------------------------------------------------------------------------------------------------
# check_tangent
# --------------------------------------------------------------------------------------------------------------


def check_tangent(
    fn_or_model: Any,
    strain: TensorLike,
    tangent: TensorLike | None = None,
    method: str = "central",
    *,
    convention: str = "symmetric",
    rtol: float | None = None,
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
        A point passes when :math:`\max|C - C^{FD}| \le \text{atol} + \text{rtol}\max|C^{FD}|`; ``rtol``
        defaults from the strain's dtype (:func:`constitutive.check.default_rtol`: 1e-6 in float64, 1e-3 in
        float32), ``atol`` to :math:`100\epsilon` times the largest :math:`\max|C^{FD}|` of the batch. Both must be
        positive and finite. ``rtol=1e-8`` is reachable in float64 with 'central' or 'complex'.
    step:
        Absolute finite-difference step (scalar or per point, positive and finite); default automatic from the
        dtype, :math:`\epsilon^{1/3} s` (see the module docstring).
    state, dt:
        For a path-dependent model: the start-of-step state held fixed (default ``model.initial_state(batch)``)
        and the time increment, as in ``model.update(ε, state, dt)``.
    hs:
        Absolute Taylor steps (at least three), default ``h0 * 2**-m`` times the per-point length scale s,
        m = 0..7, with h0 = 1e-2 in float64 and 1e-1 in float32 (whose round-off would swallow smaller steps).
    batched:
        For a callable: ``True`` takes it as batched on ``(..., 3, 3)``, ``False`` as point-wise on ``(3, 3)``
        (vmapped), ``None`` (default) detects which by comparing a batch call with a single-point call.
    richardson:
        Richardson-extrapolate central/forward differences (default True).
    notation, order:
        The notation ('voigt' or 'mandel') and component order of a ``(..., 6, 6)`` ``tangent`` (default order
        'voigt'); ``notation`` is required for such a tangent and unused for a ``(..., 3, 3, 3, 3)`` one.

    Returns a :class:`TangentCheckReport`. Raises ``ValueError`` for a non-symmetric strain (unless 'full'), NaN
    in the strain, the tangent or any function value, and shape mismatches.
    """
    if not isinstance(richardson, bool):
        raise ValueError(f"richardson must be True or False, got {richardson!r}")
    x = _checked_strain(strain, method, convention)
    real = x.real.dtype if x.is_complex() else x.dtype
    rtol = default_rtol(real) if rtol is None else check_positive(rtol, "rtol")
    atol = None if atol is None else check_positive(atol, "atol")
    if step is not None:
        h_user = as_tensor(step)
        if h_user.numel() == 0 or not bool(torch.isfinite(h_user).all()) or not bool((h_user > 0).all()):
            raise ValueError(f"step must be positive and finite (scalar or one per point), got {step!r}")
    fn, C = _resolve(fn_or_model, x, tangent, convention, state, dt, batched, notation, order)
    batch = x.shape[:-2]
    fx = _eval(fn, x, "f(strain)")
    s = _scale(x, fx, C)

    fd_method = "central" if method == "taylor" else method
    C_fd, h = finite_difference_tangent(fn, x, fd_method, convention, step=step, richardson=richardson, scale=s)
    C_fd = C_fd.to(C.dtype)
    e = _errors(C, C_fd, x, rtol, atol)
    passed = e.passed
    worst_idx, ijkl = _worst_component(e.err, e.violation, batch)
    asym = asymmetry(_symmetric_action(C, convention))  # of the tangent proper (shear columns not doubled)
    notes: list[str] = []
    if method == "complex":
        notes.append("complex step: exact only for real-analytic functions (no eigh/abs/max inside)")
    if fd_method in ("central", "forward"):
        notes.append(f"{fd_method} differences{' with Richardson extrapolation' if richardson else ''}")

    taylor = _Taylor(None, [], [])
    if method == "taylor":
        passed, taylor, worst_t = _taylor_verdict(fn, x, C, convention, hs, s)
        worst_idx, ijkl = _worst_component(e.err, None, batch, worst_t)
        notes.append("passed/failed from the Taylor order; component errors from central differences")

    return TangentCheckReport(
        passed=passed,
        method=method,
        convention=convention,
        rtol=float(rtol),
        atol=e.atol,
        step=float(h[worst_idx]) if batch else float(h),
        n_points=int(math.prod(batch)),
        max_abs_error=float(e.err_pt.max()),
        max_rel_error=float(e.rel_pt.max()),
        worst_batch_index=worst_idx,
        worst_component=ijkl,  # type: ignore[arg-type]
        worst_voigt=(_voigt_slot(ijkl[0], ijkl[1]), _voigt_slot(ijkl[2], ijkl[3])),
        worst_label=_label(ijkl, convention),  # type: ignore[arg-type]
        worst_tangent_value=float(C[worst_idx][ijkl].real),
        worst_reference_value=float(C_fd[worst_idx][ijkl].real),
        asymmetry={k: float(asym[k].max()) for k in ("minor", "major")},
        taylor_order=taylor.order,
        taylor_steps=taylor.steps,
        taylor_remainders=taylor.remainders,
        notes=notes,
    )


def _checked_strain(strain: TensorLike, method: str, convention: str) -> Tensor:
    """The strain as a tensor ``(..., 3, 3)``: non-empty, finite, symmetric unless 'full'; method and convention
    known."""
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
    return x


class _Errors(NamedTuple):
    """Component errors ``err = |C - C_fd|`` and per point: max error, max reference, relative error, violation
    (error over allowance), with the absolute tolerance used and the verdict."""

    err: Tensor
    err_pt: Tensor
    rel_pt: Tensor
    violation: Tensor
    atol: float
    passed: bool


def _errors(C: Tensor, C_fd: Tensor, x: Tensor, rtol: float, atol: float | None) -> _Errors:
    """A point passes when ``max|C - C_fd| <= atol + rtol max|C_fd|`` (``atol`` default: 100 eps max|C_fd|)."""
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
    return _Errors(err, err_pt, rel_pt, violation, atol_val, passed)


def _worst_component(
    err: Tensor, violation: Tensor | None, batch: torch.Size, worst_flat: int | None = None
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(batch index, ijkl) of the largest component error at the worst point: the point of largest
    ``violation``, or the flat index ``worst_flat``."""
    if worst_flat is None:
        assert violation is not None
        flat_v = violation.reshape(-1)
        worst_flat = int(torch.argmax(flat_v)) if flat_v.numel() else 0
    worst_idx = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst_flat), batch)) if batch else ()
    comp = int(torch.argmax(err[worst_idx].reshape(-1)))
    ijkl = tuple(int(i) for i in torch.unravel_index(torch.tensor(comp), (3, 3, 3, 3)))
    return worst_idx, ijkl


class _Taylor(NamedTuple):
    """The Taylor test at the worst point: its order and the (step, remainder) pairs."""

    order: float | None
    steps: list[float]
    remainders: list[float]


def _taylor_verdict(
    fn: Callable[[Tensor], Tensor],
    x: Tensor,
    C: Tensor,
    convention: str,
    hs: Sequence[float] | TensorLike | None,
    s: Tensor,
) -> tuple[bool, _Taylor, int]:
    """(passed, the worst point's Taylor data, its flat index): a point passes with order >= 1.9."""
    hs_abs, r, noise = taylor_remainder(fn, x, C, convention, hs=hs, scale=s)
    orders = _fit_order(hs_abs, r, noise)
    # A NaN order means the remainder is round-off at every step: f is affine along D and C:D is exact.
    affine = torch.isnan(orders) & (r <= noise).all(-1)
    ok = (orders >= 1.9) | affine
    passed = bool(ok.all())
    key = torch.where(affine, torch.full_like(orders, torch.inf), orders)
    worst_t = int(torch.argmin(key.reshape(-1)))
    taylor = _Taylor(
        float(orders.reshape(-1)[worst_t]),
        [float(v) for v in hs_abs.reshape(-1, hs_abs.shape[-1])[worst_t]],
        [float(v) for v in r.reshape(-1, r.shape[-1])[worst_t]],
    )
    return passed, taylor, worst_t
