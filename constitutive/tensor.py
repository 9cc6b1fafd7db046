r"""Batched tensor algebra for second- and fourth-order tensors in three dimensions.

Every function takes leading batch axes: second-order tensors are ``(..., 3, 3)``, fourth-order tensors
``(..., 3, 3, 3, 3)``. Inputs may be torch tensors (any device; float64, float32 or complex dtypes are kept),
numpy arrays (float32, float64 and complex kept, other dtypes become ``torch.float64``) or nested lists
(``torch.float64``). Index notation in the docstrings uses the
summation convention; :math:`\delta_{ij}` is the Kronecker delta.

Fourth-order conventions (written once, here):

* double contraction ``(A : B) = A_{ij} B_{ij}``, ``(C : A)_{ij} = C_{ijkl} A_{kl}``,
  ``(C : D)_{ijkl} = C_{ijmn} D_{mnkl}``;
* dyadic product ``(A \otimes B)_{ijkl} = A_{ij} B_{kl}``;
* the two box (cross-dyadic) products ``(A \overline{\otimes} B)_{ijkl} = A_{ik} B_{jl}`` (:func:`dyad_ikjl`) and
  ``(A \underline{\otimes} B)_{ijkl} = A_{il} B_{jk}`` (:func:`dyad_iljk`);
* identities :math:`\mathbb{I} = I \overline{\otimes} I` (``I : A = A``), :math:`\mathbb{I}^T = I \underline{\otimes} I`
  (``I^T : A = A^T``), :math:`\mathbb{I}^s = \tfrac12(\mathbb{I} + \mathbb{I}^T)`,
  :math:`\mathbb{I}^{vol} = \tfrac13 I \otimes I`, :math:`\mathbb{I}^{dev} = \mathbb{I}^s - \mathbb{I}^{vol}`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

Tensor = torch.Tensor
TensorLike = Any  # torch.Tensor, numpy.ndarray, nested sequences of numbers

DEFAULT_DTYPE = torch.float64

__all__ = [
    "DEFAULT_DTYPE",
    "as_tensor",
    "allow_complex",
    "check_real",
    "check_shape",
    "check_finite",
    "check_symmetric",
    "symmetry_tolerance",
    "eye",
    "sym",
    "skew",
    "trace",
    "dev",
    "vol",
    "det",
    "inv",
    "cofactor",
    "dot",
    "ddot",
    "ddot42",
    "ddot24",
    "ddot44",
    "dyad",
    "dyad_ikjl",
    "dyad_iljk",
    "identity2",
    "identity4",
    "identity4_transpose",
    "identity4_sym",
    "identity4_vol",
    "identity4_dev",
    "transform4",
    "major_transpose",
    "minor_transpose_left",
    "minor_transpose_right",
    "invariants",
    "invariants_derivatives",
    "J2",
    "J3",
    "dJ2",
    "dJ3",
    "norm",
    "eigh_sym",
    "eigenprojections",
    "sym_function",
    "sym_exp",
    "sym_log",
    "sym_sqrt",
    "spectral_derivative",
    "sym_function_derivative",
]


# --------------------------------------------------------------------------------------------------------------
# Conversion and validation
# --------------------------------------------------------------------------------------------------------------


def as_tensor(x: TensorLike, dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> Tensor:
    """Convert ``x`` to a torch tensor.

    Floating and complex torch tensors and numpy arrays keep their dtype (and device) unless ``dtype``/``device``
    are given, except float16 arrays; lists, integer and float16 arrays and integer (and bool) tensors become
    ``float64`` (:data:`DEFAULT_DTYPE`). Other inputs (``None``, strings, mappings, ragged or non-numeric
    sequences) raise ``TypeError``/``ValueError`` naming the problem.
    """
    if isinstance(x, Tensor):
        t = x
        if dtype is None and not (t.is_floating_point() or t.is_complex()):
            dtype = DEFAULT_DTYPE
    elif isinstance(x, np.ndarray):
        if x.dtype.kind not in "biufc":
            raise TypeError(f"expected a numeric array, got a numpy array of dtype {x.dtype}")
        t = torch.from_numpy(np.ascontiguousarray(x))
        if dtype is None and not (t.is_floating_point() or t.is_complex()):
            dtype = DEFAULT_DTYPE
        if dtype is None and t.dtype == torch.float16:
            dtype = DEFAULT_DTYPE
    else:
        if x is None or isinstance(x, (str, bytes, Mapping)):
            raise TypeError(f"expected a tensor, an array or (nested) numbers, got {type(x).__name__}")
        try:
            arr = np.asarray(x) if _is_complex_seq(x) else np.asarray(x, dtype=np.float64)
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"cannot make a tensor of this {type(x).__name__} (ragged nesting or non-numeric entries?): {err}"
            ) from None
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"expected numbers, got entries of type {arr.dtype}")
        t = torch.as_tensor(arr)
        if dtype is None and not t.is_complex():
            dtype = DEFAULT_DTYPE
    if dtype is not None or device is not None:
        t = t.to(dtype=dtype if dtype is not None else t.dtype, device=device if device is not None else t.device)
    return t


_COMPLEX_ALLOWED: contextvars.ContextVar[bool] = contextvars.ContextVar("constitutive_complex_allowed", default=False)


@contextlib.contextmanager
def allow_complex() -> Iterator[None]:
    """Within this block, :func:`check_real` (and hence :func:`check_symmetric`) accepts complex tensors: for the
    complex-step derivative check (:mod:`constitutive.check`), which evaluates real-analytic models at
    :math:`X + i h E` on purpose. Everywhere else a complex strain is refused, since most models would drop its
    imaginary part."""
    token = _COMPLEX_ALLOWED.set(True)
    try:
        yield
    finally:
        _COMPLEX_ALLOWED.reset(token)


def _check_data(x: Tensor, name: str) -> None:
    """Tensors that hold no data (meta) or whose precision no computation here supports (float16, bfloat16)."""
    if x.is_meta:
        raise ValueError(f"{name} is a meta tensor (shape only, no data); evaluate on a real device ('cpu', 'cuda')")
    if x.dtype in (torch.float16, torch.bfloat16, torch.complex32):
        raise ValueError(
            f"{name} is {x.dtype}: half precision (3 significant digits) is not supported -- tangents, symmetry "
            "tests and return mapping need float32 or float64; convert with .double() or .float()"
        )


def check_real(x: Tensor, name: str = "input") -> None:
    """Raise ``ValueError`` if ``x`` is complex (outside :func:`allow_complex`), a meta tensor, or half precision."""
    _check_data(x, name)
    if x.is_complex() and not _COMPLEX_ALLOWED.get():
        raise ValueError(
            f"{name} is complex ({x.dtype}); strains and stresses are real (a model would drop the imaginary "
            "part): pass x.real. The complex-step check enables complex input itself "
            "(constitutive.tensor.allow_complex)"
        )


def _is_complex_seq(x: Any) -> bool:
    try:
        return np.iscomplexobj(np.asarray(x))
    except Exception:  # pragma: no cover - numpy raises for ragged input; let as_tensor report it
        return False


def check_shape(x: Tensor, trailing: Sequence[int], name: str = "input") -> None:
    """Raise ``ValueError`` unless ``x`` has trailing shape ``trailing`` (any leading batch axes)."""
    trailing = tuple(trailing)
    if x.ndim < len(trailing) or tuple(x.shape[x.ndim - len(trailing) :]) != trailing:
        want = "(..., " + ", ".join(str(n) for n in trailing) + ")"
        raise ValueError(f"{name} must have shape {want}, got {tuple(x.shape)}")


def check_finite(x: Tensor, name: str = "input") -> None:
    """Raise ``ValueError`` if ``x`` contains NaN or infinite entries, or is a meta or half-precision tensor
    (skipped inside ``torch.func`` transforms)."""
    if _is_functorch_wrapped(x):
        return
    _check_data(x, name)
    # Fast path: NaN and inf propagate through a sum (one cheap reduction); only a non-finite sum, or finite
    # values so large that their sum overflows, needs the elementwise test.
    if x.numel() == 0 or bool(torch.isfinite(x.sum())):
        return
    if not bool(torch.isfinite(x).all()):
        kind = "NaN" if bool(torch.isnan(x).any()) else "infinite values"
        raise ValueError(f"{name} contains {kind}")


def symmetry_tolerance(dtype: torch.dtype) -> float:
    """Default relative tolerance of symmetry checks: ``sqrt(machine epsilon)`` (1.5e-8 float64, 3.5e-4 float32)."""
    real = torch.empty((), dtype=dtype).real.dtype if dtype.is_complex else dtype
    return float(torch.finfo(real).eps) ** 0.5


def check_symmetric(x: Tensor, name: str = "input", rtol: float | None = None) -> None:
    r"""Raise ``ValueError`` unless every ``(..., 3, 3)`` tensor in ``x`` is symmetric.

    The test is :math:`\max|x - x^T| \le \text{rtol}\,\max(|x|, \text{tiny})` per batch entry. A complex ``x``
    is refused as well (:func:`check_real`) except inside :func:`allow_complex`, as are meta and half-precision
    tensors.
    """
    if _is_functorch_wrapped(x):
        return
    check_real(x, name)
    # Fast path: exactly symmetric input (the common case) needs three comparisons of strided views only.
    if all(torch.equal(x[..., i, j], x[..., j, i]) for i, j in ((0, 1), (0, 2), (1, 2))):
        return
    rtol = symmetry_tolerance(x.dtype) if rtol is None else rtol
    diff = (x - x.transpose(-1, -2)).abs().amax(dim=(-1, -2))
    scale = x.abs().amax(dim=(-1, -2)).clamp_min(torch.finfo(diff.dtype).tiny)
    bad = diff > rtol * scale
    if bool(bad.any()):
        idx = tuple(int(i) for i in torch.nonzero(bad)[0]) if bad.ndim else ()
        raise ValueError(
            f"{name} must be symmetric, but entry {idx if idx else '(unbatched)'} has |x - x^T| = "
            f"{float(diff[idx] if idx else diff):.3e} relative to max|x| = {float(scale[idx] if idx else scale):.3e}; "
            "symmetrize it (constitutive.tensor.sym) or pass a symmetric strain"
        )


def _is_functorch_wrapped(x: Tensor) -> bool:
    # Data-dependent Python control flow is not allowed under vmap/grad; checks run on the outer call instead.
    try:
        return torch._C._functorch.is_functorch_wrapped_tensor(x)  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - older torch
        return False


def _operand(A: Any, name: str = "A") -> None:
    """Cheap guard of the algebra's operands (no device synchronisation): a torch tensor of shape (..., 3, 3)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{name} must be a torch tensor (..., 3, 3), got {type(A).__name__}; convert with as_tensor")
    if A.ndim < 2 or A.shape[-2:] != (3, 3):
        raise ValueError(f"{name} must have shape (..., 3, 3), got {tuple(A.shape)}")


# --------------------------------------------------------------------------------------------------------------
# Second-order operations
# --------------------------------------------------------------------------------------------------------------


def eye(dtype: torch.dtype = DEFAULT_DTYPE, device: torch.device | str | None = None) -> Tensor:
    """The second-order identity ``I`` of shape ``(3, 3)``."""
    return torch.eye(3, dtype=dtype, device=device)


identity2 = eye


def _like_eye(A: Tensor) -> Tensor:
    return torch.eye(3, dtype=A.dtype, device=A.device)


def sym(A: Tensor) -> Tensor:
    r"""Symmetric part :math:`\tfrac12(A + A^T)`; ``(..., 3, 3) -> (..., 3, 3)``."""
    return 0.5 * (A + A.transpose(-1, -2))


def skew(A: Tensor) -> Tensor:
    r"""Skew part :math:`\tfrac12(A - A^T)`; ``(..., 3, 3) -> (..., 3, 3)``."""
    return 0.5 * (A - A.transpose(-1, -2))


def trace(A: Tensor) -> Tensor:
    """Trace :math:`A_{ii}`; ``(..., 3, 3) -> (...)``."""
    _operand(A)
    return A.diagonal(dim1=-2, dim2=-1).sum(-1)


def vol(A: Tensor) -> Tensor:
    r"""Volumetric part :math:`\tfrac13 \operatorname{tr}(A) I`; ``(..., 3, 3) -> (..., 3, 3)``."""
    return trace(A)[..., None, None] / 3.0 * _like_eye(A)


def dev(A: Tensor) -> Tensor:
    r"""Deviatoric part :math:`A - \tfrac13 \operatorname{tr}(A) I`; ``(..., 3, 3) -> (..., 3, 3)``."""
    return A - vol(A)


def det(A: Tensor) -> Tensor:
    r"""Determinant by the explicit (Sarrus) polynomial; ``(..., 3, 3) -> (...)``.

    A polynomial in the entries, so first and second derivatives (autograd, ``torch.func``) are exact and finite
    everywhere, including the identity and singular tensors (``torch.linalg.det`` differentiates through an LU
    factorisation whose second derivatives are not finite at singular points).
    """
    _operand(A)
    a = A
    return (
        a[..., 0, 0] * (a[..., 1, 1] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 1])
        - a[..., 0, 1] * (a[..., 1, 0] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 0])
        + a[..., 0, 2] * (a[..., 1, 0] * a[..., 2, 1] - a[..., 1, 1] * a[..., 2, 0])
    )


def cofactor(A: Tensor) -> Tensor:
    r"""Cofactor matrix :math:`\operatorname{cof} A = \det(A) A^{-T}` as a polynomial (finite for singular A)."""
    _operand(A)
    a = A
    c00 = a[..., 1, 1] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 1]
    c01 = a[..., 1, 2] * a[..., 2, 0] - a[..., 1, 0] * a[..., 2, 2]
    c02 = a[..., 1, 0] * a[..., 2, 1] - a[..., 1, 1] * a[..., 2, 0]
    c10 = a[..., 0, 2] * a[..., 2, 1] - a[..., 0, 1] * a[..., 2, 2]
    c11 = a[..., 0, 0] * a[..., 2, 2] - a[..., 0, 2] * a[..., 2, 0]
    c12 = a[..., 0, 1] * a[..., 2, 0] - a[..., 0, 0] * a[..., 2, 1]
    c20 = a[..., 0, 1] * a[..., 1, 2] - a[..., 0, 2] * a[..., 1, 1]
    c21 = a[..., 0, 2] * a[..., 1, 0] - a[..., 0, 0] * a[..., 1, 2]
    c22 = a[..., 0, 0] * a[..., 1, 1] - a[..., 0, 1] * a[..., 1, 0]
    return torch.stack(
        [
            torch.stack([c00, c01, c02], -1),
            torch.stack([c10, c11, c12], -1),
            torch.stack([c20, c21, c22], -1),
        ],
        -2,
    )


def inv(A: Tensor) -> Tensor:
    r"""Inverse :math:`A^{-1} = (\operatorname{cof} A)^T / \det A`; ``(..., 3, 3) -> (..., 3, 3)``.

    Raises ``ValueError`` for a singular tensor (outside ``torch.func`` transforms).
    """
    d = det(A)
    if not _is_functorch_wrapped(d) and not d.is_meta and bool((d == 0).any()):
        raise ValueError("cannot invert a singular tensor (det = 0)")
    return cofactor(A).transpose(-1, -2) / d[..., None, None]


def dot(A: Tensor, B: Tensor) -> Tensor:
    """Single contraction (matrix product) :math:`(A B)_{ij} = A_{ik} B_{kj}`."""
    return A @ B


def ddot(A: Tensor, B: Tensor) -> Tensor:
    r"""Double contraction of two second-order tensors :math:`A : B = A_{ij} B_{ij}`; result ``(...)``."""
    return (A * B).sum(dim=(-1, -2))


def ddot42(C: Tensor, A: Tensor) -> Tensor:
    r"""Fourth-order on second-order :math:`(C : A)_{ij} = C_{ijkl} A_{kl}`; result ``(..., 3, 3)``."""
    return torch.einsum("...ijkl,...kl->...ij", C, A)


def ddot24(A: Tensor, C: Tensor) -> Tensor:
    r"""Second-order on fourth-order :math:`(A : C)_{kl} = A_{ij} C_{ijkl}`; result ``(..., 3, 3)``."""
    return torch.einsum("...ij,...ijkl->...kl", A, C)


def ddot44(C: Tensor, D: Tensor) -> Tensor:
    r"""Fourth-order on fourth-order :math:`(C : D)_{ijkl} = C_{ijmn} D_{mnkl}`; result ``(..., 3, 3, 3, 3)``."""
    return torch.einsum("...ijmn,...mnkl->...ijkl", C, D)


def dyad(A: Tensor, B: Tensor) -> Tensor:
    r"""Dyadic product :math:`(A \otimes B)_{ijkl} = A_{ij} B_{kl}`; result ``(..., 3, 3, 3, 3)``."""
    return A[..., :, :, None, None] * B[..., None, None, :, :]


def dyad_ikjl(A: Tensor, B: Tensor) -> Tensor:
    r"""Upper box product :math:`(A \overline{\otimes} B)_{ijkl} = A_{ik} B_{jl}`; ``(A ⊗̄ B) : X = A X B^T``."""
    return A[..., :, None, :, None] * B[..., None, :, None, :]


def dyad_iljk(A: Tensor, B: Tensor) -> Tensor:
    r"""Lower box product :math:`(A \underline{\otimes} B)_{ijkl} = A_{il} B_{jk}`; ``(A ⊗̲ B) : X = A X^T B^T``."""
    return A[..., :, None, None, :] * B[..., None, :, :, None]


def identity4(dtype: torch.dtype = DEFAULT_DTYPE, device: torch.device | str | None = None) -> Tensor:
    r""":math:`\mathbb{I}_{ijkl} = \delta_{ik}\delta_{jl}` (``I : A = A``), shape ``(3, 3, 3, 3)``."""
    I = eye(dtype, device)
    return dyad_ikjl(I, I)


def identity4_transpose(dtype: torch.dtype = DEFAULT_DTYPE, device: torch.device | str | None = None) -> Tensor:
    r""":math:`\mathbb{I}^T_{ijkl} = \delta_{il}\delta_{jk}` (``I^T : A = A^T``), shape ``(3, 3, 3, 3)``."""
    I = eye(dtype, device)
    return dyad_iljk(I, I)


def identity4_sym(dtype: torch.dtype = DEFAULT_DTYPE, device: torch.device | str | None = None) -> Tensor:
    r""":math:`\mathbb{I}^s_{ijkl} = \tfrac12(\delta_{ik}\delta_{jl} + \delta_{il}\delta_{jk})`.

    ``I^s : A = sym A``."""
    return 0.5 * (identity4(dtype, device) + identity4_transpose(dtype, device))


def identity4_vol(dtype: torch.dtype = DEFAULT_DTYPE, device: torch.device | str | None = None) -> Tensor:
    r""":math:`\mathbb{I}^{vol} = \tfrac13 I \otimes I` (``I^vol : A = vol A``)."""
    I = eye(dtype, device)
    return dyad(I, I) / 3.0


def identity4_dev(dtype: torch.dtype = DEFAULT_DTYPE, device: torch.device | str | None = None) -> Tensor:
    r""":math:`\mathbb{I}^{dev} = \mathbb{I}^s - \mathbb{I}^{vol}` (``I^dev : A = dev sym A``)."""
    return identity4_sym(dtype, device) - identity4_vol(dtype, device)


def major_transpose(C: Tensor) -> Tensor:
    r"""Major transpose :math:`C^T_{ijkl} = C_{klij}`."""
    return C.permute(*range(C.ndim - 4), -2, -1, -4, -3)


def minor_transpose_left(C: Tensor) -> Tensor:
    r"""Left minor transpose :math:`C_{jikl}`."""
    return C.transpose(-4, -3)


def minor_transpose_right(C: Tensor) -> Tensor:
    r"""Right minor transpose :math:`C_{ijlk}`."""
    return C.transpose(-2, -1)


def transform4(A: Tensor, C: Tensor) -> Tensor:
    r"""Transform all four indices: :math:`C'_{ijkl} = A_{iI} A_{jJ} A_{kK} A_{lL} C_{IJKL}`.

    ``A`` ``(..., 3, 3)``, ``C`` ``(..., 3, 3, 3, 3)`` (batch axes broadcast). A rotation of components for an
    orthogonal ``A`` (``A = Q``: material to global), a push-forward for ``A = F``. Computed as
    :math:`(A \otimes A)\, C\, (A \otimes A)^T` with 9x9 matrices.
    """
    batch = torch.broadcast_shapes(A.shape[:-2], C.shape[:-4])
    AA = (A[..., :, None, :, None] * A[..., None, :, None, :]).reshape(*A.shape[:-2], 9, 9)  # [(i, j), (I, J)]
    M = C.reshape(*C.shape[:-4], 9, 9)
    return (AA @ M @ AA.transpose(-1, -2)).reshape(*batch, 3, 3, 3, 3)


def norm(A: Tensor) -> Tensor:
    r"""Frobenius norm :math:`\sqrt{A:A}` of second- or fourth-order tensors over the tensor axes."""
    dims = (-1, -2) if A.ndim < 4 or A.shape[-4:] != (3, 3, 3, 3) else (-1, -2, -3, -4)
    return A.abs().square().sum(dim=dims).sqrt()


# --------------------------------------------------------------------------------------------------------------
# Invariants
# --------------------------------------------------------------------------------------------------------------


def invariants(A: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    r"""Principal invariants :math:`I_1 = \operatorname{tr} A`, :math:`I_2 = \tfrac12[(\operatorname{tr}A)^2 -
    \operatorname{tr}(A^2)]`, :math:`I_3 = \det A`; each ``(...)``."""
    I1 = trace(A)
    I2 = 0.5 * (I1**2 - trace(A @ A))
    return I1, I2, det(A)


def invariants_derivatives(A: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    r"""Derivatives of the principal invariants, :math:`\partial I_k / \partial A_{ij}`, each ``(..., 3, 3)``:
    :math:`I`, :math:`I_1 I - A^T`, :math:`\operatorname{cof} A = (A^2 - I_1 A + I_2 I)^T` (finite for singular A)."""
    I = _like_eye(A)
    I1 = trace(A)[..., None, None]
    return I.expand_as(A), I1 * I - A.transpose(-1, -2), cofactor(A)


def J2(A: Tensor) -> Tensor:
    r""":math:`J_2 = \tfrac12 s : s^T`, with :math:`s = \operatorname{dev} A` (``= ½ s:s`` for symmetric A)."""
    s = dev(A)
    return 0.5 * trace(s @ s)


def J3(A: Tensor) -> Tensor:
    r""":math:`J_3 = \det(\operatorname{dev} A)`."""
    return det(dev(A))


def dJ2(A: Tensor) -> Tensor:
    r""":math:`\partial J_2/\partial A = s^T`."""
    return dev(A).transpose(-1, -2)


def dJ3(A: Tensor) -> Tensor:
    r""":math:`\partial J_3/\partial A = (s s - \tfrac23 J_2 I)^T`."""
    s = dev(A)
    return (s @ s - (2.0 / 3.0) * J2(A)[..., None, None] * _like_eye(A)).transpose(-1, -2)


# --------------------------------------------------------------------------------------------------------------
# Spectral decomposition and isotropic tensor functions of symmetric tensors
# --------------------------------------------------------------------------------------------------------------


def eigh_sym(A: Tensor) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending, ``(..., 3)``) and orthonormal eigenvectors (columns, ``(..., 3, 3)``) of symmetric A.

    The eigenvectors of a repeated eigenvalue are any orthonormal basis of its eigenspace; quantities built by
    :func:`eigenprojections`, :func:`sym_function` and :func:`spectral_derivative` do not depend on that choice.
    Gradients of these eigenvectors are singular at repeated eigenvalues: use :func:`spectral_derivative` for
    derivatives of isotropic functions instead of differentiating through this function. ``ValueError`` for NaN or
    infinite entries, half precision and non-floating dtypes (LAPACK would fail with a less helpful message).
    """
    _operand(A)
    if not (A.is_floating_point() or A.is_complex()):
        raise ValueError(f"eigenvalues need a floating dtype, got {A.dtype}; convert with as_tensor or .double()")
    check_finite(A, "the tensor to diagonalise")
    return torch.linalg.eigh(A)


def _coincidence_tol(lam: Tensor, rtol: float | None) -> Tensor:
    real = lam.dtype
    rtol = (float(torch.finfo(real).eps) ** (1.0 / 3.0)) if rtol is None else rtol
    scale = lam.abs().amax(-1, keepdim=True).clamp_min(1.0)
    return rtol * scale


def eigenprojections(A: Tensor, rtol: float | None = None) -> tuple[Tensor, Tensor, Tensor]:
    r"""Eigenvalues, eigenprojections and multiplicities of symmetric ``A``.

    Returns ``(lam, P, m)`` with shapes ``(..., 3)``, ``(..., 3, 3, 3)`` and ``(..., 3)``: ``P[..., a, :, :]`` is the
    projector onto the *whole* eigenspace of ``lam[..., a]`` and ``m[..., a]`` its dimension. For distinct
    eigenvalues :math:`P_a = n_a \otimes n_a`; eigenvalues within ``rtol * max(1, max|lam|)`` of each other count as
    one (default ``rtol = eps^{1/3}``, 6e-6 in float64), and each of them gets the same projector, the sum of their
    :math:`n \otimes n` -- unique and finite even where individual eigenvectors are not. Hence
    :math:`\sum_a P_a / m_a = I` and :math:`A = \sum_a \lambda_a P_a / m_a`.
    """
    lam, Q = eigh_sym(A)
    nn = Q.transpose(-1, -2)[..., :, :, None] * Q.transpose(-1, -2)[..., :, None, :]  # (..., 3, 3, 3): n_a ⊗ n_a
    same = ((lam[..., :, None] - lam[..., None, :]).abs() <= _coincidence_tol(lam, rtol)[..., None]).to(A.dtype)
    P = torch.einsum("...ab,...bij->...aij", same, nn)
    return lam, P, same.sum(-1)


def sym_function(A: Tensor, f: Callable[[Tensor], Tensor]) -> Tensor:
    r"""Isotropic tensor function :math:`f(A) = \sum_a f(\lambda_a) n_a \otimes n_a` of symmetric ``A``.

    ``f`` acts elementwise on the ``(..., 3)`` eigenvalues.
    """
    lam, Q = eigh_sym(A)
    return (Q * f(lam)[..., None, :]) @ Q.transpose(-1, -2)


def sym_exp(A: Tensor) -> Tensor:
    """Matrix exponential of a symmetric tensor (spectral form)."""
    return sym_function(A, torch.exp)


def sym_log(A: Tensor) -> Tensor:
    """Matrix logarithm of a symmetric positive-definite tensor; ``ValueError`` if an eigenvalue is ≤ 0."""
    lam, Q = eigh_sym(A)
    if not _is_functorch_wrapped(lam) and bool((lam <= 0).any()):
        raise ValueError("sym_log needs a positive-definite tensor (an eigenvalue is <= 0)")
    return (Q * torch.log(lam)[..., None, :]) @ Q.transpose(-1, -2)


def sym_sqrt(A: Tensor) -> Tensor:
    """Square root of a symmetric positive semi-definite tensor (spectral form).

    Eigenvalues below zero by round-off (down to ``-sqrt(eps) * max|lam|``) are taken as 0; a clearly negative
    eigenvalue raises ``ValueError`` (outside ``torch.func`` transforms).
    """
    lam, Q = eigh_sym(A)
    if not _is_functorch_wrapped(lam):
        floor = -symmetry_tolerance(lam.dtype) * lam.abs().amax(-1)
        if bool((lam[..., 0] < floor).any()):
            raise ValueError("sym_sqrt needs a positive semi-definite tensor (an eigenvalue is < 0)")
    return (Q * torch.sqrt(lam.clamp_min(0))[..., None, :]) @ Q.transpose(-1, -2)


def spectral_derivative(lam: Tensor, Q: Tensor, y: Tensor, dy: Tensor, rtol: float | None = None) -> Tensor:
    r"""Derivative of :math:`Y(X) = \sum_a y_a(\lambda) n_a \otimes n_a` on symmetric tensors, exact at repeated
    eigenvalues.

    Parameters
    ----------
    lam, Q:
        ``(..., 3)`` and ``(..., 3, 3)``: eigenvalues and eigenvectors from :func:`eigh_sym` of ``X``.
    y:
        ``(..., 3)`` the principal values :math:`y_a`.
    dy:
        ``(..., 3, 3)`` with ``dy[..., a, b]`` = :math:`\partial y_a/\partial \lambda_b`.
    rtol:
        Relative gap below which two eigenvalues count as repeated (below; default :math:`\epsilon^{1/3}` of the
        dtype).

    The functions :math:`y_a` must be symmetric in the sense that swapping two eigenvalues swaps the
    corresponding :math:`y` (true of every isotropic function).

    Returns the minor-symmetric tangent :math:`\partial Y / \partial X` on Sym, ``(..., 3, 3, 3, 3)``:

    .. math::
        \mathbb{D} = \sum_{a,b} \frac{\partial y_a}{\partial \lambda_b} P_a \otimes P_b
        + \sum_{a \ne b} \theta_{ab}\, \operatorname{sym}(n_a \otimes n_b) \otimes \operatorname{sym}(n_a \otimes n_b),
        \qquad \theta_{ab} = \frac{y_a - y_b}{\lambda_a - \lambda_b}

    and, where :math:`|\lambda_a - \lambda_b|` is below ``rtol * max(1, max|lam|)``, the limit
    :math:`\theta_{ab} = \tfrac12(\partial_a y_a + \partial_b y_b) - \tfrac12(\partial_b y_a + \partial_a y_b)`
    (second-order accurate in the gap), so nothing is perturbed and nothing divides by zero.
    """
    gap = lam[..., :, None] - lam[..., None, :]
    close = gap.abs() <= _coincidence_tol(lam, rtol)[..., None]
    d_diag = torch.diagonal(dy, dim1=-2, dim2=-1)
    limit = 0.5 * (d_diag[..., :, None] + d_diag[..., None, :]) - 0.5 * (dy + dy.transpose(-1, -2))
    safe_gap = torch.where(close, torch.ones_like(gap), gap)
    theta = torch.where(close, limit, (y[..., :, None] - y[..., None, :]) / safe_gap)
    # Off-diagonal (a != b) spin part; theta_aa multiplies nothing new there: set it to zero and add dy separately.
    eye3 = torch.eye(3, dtype=torch.bool, device=lam.device)
    theta = torch.where(eye3, torch.zeros_like(theta), theta)
    spin = torch.einsum("...ab,...ia,...jb,...ka,...lb->...ijkl", theta, Q, Q, Q, Q)
    spin = 0.5 * (spin + spin.transpose(-1, -2))
    diag = torch.einsum("...ab,...ia,...ja,...kb,...lb->...ijkl", dy, Q, Q, Q, Q)
    return diag + spin


def sym_function_derivative(
    A: Tensor, f: Callable[[Tensor], Tensor], df: Callable[[Tensor], Tensor], rtol: float | None = None
) -> Tensor:
    r"""Tangent :math:`\partial f(A)/\partial A` on Sym of the isotropic function of :func:`sym_function`.

    ``df`` is the scalar derivative :math:`f'`. Exact at repeated eigenvalues (Daleckii--Krein divided differences
    with the :math:`f'` limit, see :func:`spectral_derivative`). Shape ``(..., 3, 3, 3, 3)``.
    """
    lam, Q = eigh_sym(A)
    return spectral_derivative(lam, Q, f(lam), torch.diag_embed(df(lam)), rtol)
