r"""Minor and major symmetry of fourth-order tensors: measure and enforce.

Minor symmetry (:math:`C_{ijkl} = C_{jikl} = C_{ijlk}`) belongs to tangents between symmetric tensors -- dσ/dε,
dS/dE, the spatial tangent c -- and is what lets a tangent live in a 6x6 Voigt or Mandel matrix. It never belongs
to the first elasticity tensor A = dP/dF: P and F are not symmetric, and projecting A onto minor-symmetric tensors
changes the linearisation, so a Newton solver using the projected tangent loses quadratic convergence.
Major symmetry (:math:`C_{ijkl} = C_{klij}`) holds for tangents derived from an energy (hyperelasticity, associative
plasticity's consistent tangent) and fails for non-associative models.
"""

from __future__ import annotations

import torch

from .notation import NOTATIONS
from .tensor import (
    Tensor,
    TensorLike,
    as_tensor,
    check_shape,
    identity4_sym,
    major_transpose,
    minor_transpose_left,
    minor_transpose_right,
    norm,
)

__all__ = ["asymmetry", "symmetrize"]


def _rel(diff: Tensor, ref: Tensor) -> Tensor:
    return diff / ref.clamp_min(torch.finfo(ref.dtype).tiny)


def asymmetry(C: TensorLike, notation: str | None = None) -> dict[str, Tensor]:
    r"""Relative asymmetries of a fourth-order tensor, per batch entry.

    ``C``: ``(..., 3, 3, 3, 3)``, or ``(..., 6, 6)`` with ``notation`` stated ('voigt' or 'mandel', any order;
    a stiffness or compliance matrix). Returns a dict of ``(...)`` tensors:

    * ``"minor_left"`` :math:`\|C - C_{jikl}\| / \|C\|`, ``"minor_right"`` :math:`\|C - C_{ijlk}\| / \|C\|`,
      ``"minor"`` their maximum;
    * ``"major"`` :math:`\|C - C_{klij}\| / \|C\|` (Frobenius norms; 0 for a symmetric tensor, at most 2).

    A 6x6 matrix has minor symmetry built in (its minor entries are 0); its major asymmetry is that of the
    matrix, :math:`\|M - M^T\|/\|M\|`, in Voigt and Mandel alike.
    """
    C = as_tensor(C)
    if C.ndim >= 2 and C.shape[-2:] == (6, 6):
        if notation not in NOTATIONS:
            raise ValueError(f"a (..., 6, 6) matrix needs its notation stated (one of {NOTATIONS}), got {notation!r}")
        ref = torch.linalg.matrix_norm(C)
        zero = torch.zeros_like(ref)
        major = _rel(torch.linalg.matrix_norm(C - C.transpose(-1, -2)), ref)
        return {"minor_left": zero, "minor_right": zero, "minor": zero, "major": major}
    check_shape(C, (3, 3, 3, 3), "fourth-order tensor")
    ref = norm(C)
    left = _rel(norm(C - minor_transpose_left(C)), ref)
    right = _rel(norm(C - minor_transpose_right(C)), ref)
    return {
        "minor_left": left,
        "minor_right": right,
        "minor": torch.maximum(left, right),
        "major": _rel(norm(C - major_transpose(C)), ref),
    }


def symmetrize(C: TensorLike, minor: bool = True, major: bool = False) -> Tensor:
    r"""Orthogonal projection of ``C`` ``(..., 3, 3, 3, 3)`` onto the chosen symmetric subspace.

    minor: :math:`\mathbb{I}^s : C : \mathbb{I}^s`; major: :math:`\tfrac12(C + C^T)`; both commute. Never apply
    ``minor=True`` to dP/dF (see the module docstring).
    """
    C = as_tensor(C)
    check_shape(C, (3, 3, 3, 3), "fourth-order tensor")
    out = C
    if minor:
        Is = identity4_sym(C.dtype, C.device)
        out = torch.einsum("ijmn,...mnpq,pqkl->...ijkl", Is, out, Is)
    if major:
        out = 0.5 * (out + major_transpose(out))
    return out
