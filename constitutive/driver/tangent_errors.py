"""The driver's check of its Newton tangents against finite differences (``drive(..., check_tangent=True)``)."""

from __future__ import annotations

from typing import Any

import torch

from ..check import finite_difference_tangent
from ..contracts import is_path_dependent
from ..notation import from_mandel
from ..tensor import Tensor
from .kinematics import FiniteStrain, SmallStrain
from .result import Recorder


def newton_tangent_errors(model: Any, kin: SmallStrain | FiniteStrain, rec: Recorder, thermal: bool = False) -> Tensor:
    r"""Relative error ``(n+1, *B)`` of each converged step's Newton tangent against central finite differences of
    that step's stress map (state held at the start of the step: the definition of the consistent tangent).

    All steps are checked in one batched pass per distinct time increment, with the finite-difference engine of
    :func:`constitutive.check.finite_difference_tangent` (central differences, step
    :math:`h = \epsilon^{1/3} s`, :math:`s = \max(\max|\varepsilon|, \max|\sigma| / \max|C|)` per point, as
    :func:`constitutive.check.check_tangent` uses) and its error measure
    :math:`\max|C - C^{FD}| / \max|C^{FD}|`. Step 0 (the initial state) gets 0.

    Below float64 (float32, half) the step's own scale can be too small where the strain passes near zero (a cycle
    through the origin): models built on :math:`I + 2E` or :math:`F` keep a round-off of :math:`\epsilon` relative to
    1, which differences over a tiny step amplify. There the error is the smaller of two estimates, with the scale
    ``s`` and with ``max(s, 1)``; a wrong tangent (an O(1) error, e.g. doubled shear columns) differs from both.
    float64 keeps the single estimate.

    ``thermal``: the path prescribes a temperature, so each step's map is ``update(..., temperature=T_{n+1})``.
    """
    n = len(rec.xs) - 1
    batch = rec.batch
    out = torch.zeros(n + 1, *batch, dtype=torch.float64)
    if n == 0:
        return out
    q0, q1 = kin.names
    x = torch.stack([kin.tensor(v, q0) for v in rec.xs[1:]])  # (n, *B, 3, 3)
    f = torch.stack([kin.tensor(v, q1) for v in rec.ys[1:]])
    Ks = [K for K in rec.Ks[1:] if K is not None]  # recorded for every step when the check is on
    if isinstance(kin, FiniteStrain):
        K = torch.stack(Ks)
        C = torch.zeros(*K.shape[:-2], 3, 3, 3, 3, dtype=K.dtype, device=K.device)
        r, c = kin.rows, kin.cols
        C[..., r[:, None], c[:, None], r[None, :], c[None, :]] = K
        convention = "full"
    else:
        C = from_mandel(torch.stack(Ks), "stiffness")
        convention = "symmetric"
    xs = x.abs().amax(dim=(-1, -2))
    cs = C.abs().amax(dim=(-1, -2, -3, -4)).clamp_min(torch.finfo(C.dtype).tiny)
    scale = torch.maximum(xs, f.abs().amax(dim=(-1, -2)) / cs)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    dts = torch.tensor(rec.dts[1:], dtype=torch.float64)
    temps = torch.stack([torch.as_tensor(T).expand(batch) for T in rec.temperatures[1:]]) if thermal else None
    for dt in torch.unique(dts).tolist():
        idx = torch.nonzero(dts == dt).flatten()
        xi = x[idx]
        if kin.kind == "finite" and rec.states[0] is None:
            fn = model.first_piola
        elif kin.kind == "finite":
            start = rec.stacked_states(idx.tolist())

            def fn(F: Tensor, start: dict[str, Tensor] = start, dt: float = dt) -> Tensor:
                return model.first_piola_update(F, start, dt)[0]
        elif is_path_dependent(model):
            start = rec.stacked_states(idx.tolist())

            if temps is not None:
                T_end = temps[idx]

                def fn(e: Tensor, start: dict[str, Tensor] = start, dt: float = dt, T: Tensor = T_end) -> Tensor:
                    return model.update(e, start, dt, temperature=T)[0]
            else:

                def fn(e: Tensor, start: dict[str, Tensor] = start, dt: float = dt) -> Tensor:
                    return model.update(e, start, dt)[0]
        else:
            fn = model.stress
        rel = _relative_error(fn, xi, C[idx], convention, scale[idx])
        if C.dtype != torch.float64:
            rel = torch.minimum(rel, _relative_error(fn, xi, C[idx], convention, scale[idx].clamp_min(1.0)))
        out[idx + 1] = rel.to(torch.float64).cpu()
    return out


def _relative_error(fn: Any, x: Tensor, C: Tensor, convention: str, scale: Tensor) -> Tensor:
    r""":math:`\max|C - C^{FD}| / \max|C^{FD}|` per point, central differences with step :math:`\epsilon^{1/3}`
    ``scale``."""
    C_fd, _ = finite_difference_tangent(fn, x, "central", convention, richardson=False, scale=scale)
    err = (C - C_fd).abs().amax(dim=(-1, -2, -3, -4))
    ref = C_fd.abs().amax(dim=(-1, -2, -3, -4)).clamp_min(torch.finfo(C_fd.dtype).tiny)
    return err / ref


def thermal_tangent_errors(model: Any, rec: Recorder) -> Tensor:
    r"""Relative error ``(n+1, *B)`` of each converged step's dσ/dT (Abaqus's DDSDDT, from the model's
    ``update_thermal(strain, state_n, dt, temperature=T) -> (σ, new_state, C, dσ/dT)``) against central finite
    differences in the temperature at fixed total strain and start-of-step state:

    .. math::  \frac{\partial\sigma}{\partial T} \approx \frac{\sigma(T + h) - \sigma(T - h)}{2h}, \qquad
               h = \epsilon^{1/3}\max(|T|, 1),

    error :math:`\max|D - D^{FD}| / \max(\max|D^{FD}|,\ \max|\sigma| / \max(|T|, 1))`: the second term of the
    denominator is the stress over the temperature scale, so a step whose true dσ/dT vanishes (no thermal
    coupling) compares the round-off of the differences with the stress, not with zero. At a kink in T (a breakpoint
    of a piecewise-linear temperature table) the derivative is one-sided, so the error is the smallest of those
    against the central and the two second-order one-sided differences, :math:`(\mp 3\sigma(T) \pm 4\sigma(T \pm h)
    \mp \sigma(T \pm 2h))/2h`. All steps at once per distinct time increment (five model calls each; the
    contract's ``update(..., temperature=)``). Step 0 gets 0.
    """
    n = len(rec.xs) - 1
    out = torch.zeros(n + 1, *rec.batch, dtype=torch.float64)
    if n == 0:
        return out
    eps = torch.stack([from_mandel(v, "strain") for v in rec.xs[1:]])  # (n, *B, 3, 3)
    temps = torch.stack([torch.as_tensor(T).expand(rec.batch) for T in rec.temperatures[1:]])
    dts = torch.tensor(rec.dts[1:], dtype=torch.float64)
    for dt in torch.unique(dts).tolist():
        idx = torch.nonzero(dts == dt).flatten()
        start = rec.stacked_states(idx.tolist())
        e, T = eps[idx], temps[idx]
        sigma, _, _, D = model.update_thermal(e, start, dt, temperature=T)
        h = torch.finfo(T.dtype).eps ** (1.0 / 3.0) * T.abs().clamp_min(1.0)
        plus = model.update(e, start, dt, temperature=T + h)[0]
        minus = model.update(e, start, dt, temperature=T - h)[0]
        plus2 = model.update(e, start, dt, temperature=T + 2.0 * h)[0]
        minus2 = model.update(e, start, dt, temperature=T - 2.0 * h)[0]
        h2 = (2.0 * h)[..., None, None]
        D_fd = (plus - minus) / h2
        # at a kink in T (a breakpoint of a temperature table) dσ/dT is one-sided: second-order one-sided
        # differences on either side; the model's derivative must match one of the three
        D_fwd = (4.0 * plus - 3.0 * sigma - plus2) / h2
        D_bwd = (3.0 * sigma - 4.0 * minus + minus2) / h2
        err = torch.stack([(D - d).abs().amax(dim=(-1, -2)) for d in (D_fd, D_fwd, D_bwd)]).amin(dim=0)
        ref = torch.maximum(D_fd.abs().amax(dim=(-1, -2)), sigma.abs().amax(dim=(-1, -2)) / T.abs().clamp_min(1.0))
        out[idx + 1] = (err / ref.clamp_min(torch.finfo(ref.dtype).tiny)).to(torch.float64).cpu()
    return out
