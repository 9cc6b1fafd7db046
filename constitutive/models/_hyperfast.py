r"""Fast closed-form kernels for the hyperelastic models (issue 13): stress and tangent in a *components-first*
layout.

Why: a batch of 3×3 tensors stored ``(N, 3, 3)`` makes every broadcast product of a fourth-order tangent an
elementwise loop over trailing axes of length 3 (``A[..., :, None, :, None] * B[..., None, :, None, :]``), which the
CPU kernels cannot vectorise: the old routes spent most of their time there. Here a batch of M tensors is stored
``(3, 3, M)`` (component axes first, points last and contiguous), so every operation is a long contiguous loop
over the points, and a fourth-order tensor is accumulated in place in one ``(3, 3, 3, 3, M)`` buffer with one
pass per term; one transpose at the end gives the public ``(..., 3, 3, 3, 3)`` layout.

Conventions: ``X`` ``(3, 3, M)`` holds ``X[i, j, m]`` = :math:`X_{ij}` of point ``m``; per-point scalars are ``(M,)``
(or numbers / 0-d tensors); a ``None`` coefficient is an exact zero (its term is skipped). Four index patterns
build every tangent of the module (:math:`T_{ijkl}` +=):

* ``outer(X, Y)``: :math:`X_{ij} Y_{kl}`; ``ikjl(X, Y)``: :math:`X_{ik} Y_{jl}`; ``iljk(X, Y)``: :math:`X_{il}
  Y_{jk}`;
* ``diag_ik(Z)``: :math:`\delta_{ik} Z_{jl}`; ``diag_il(Z)``: :math:`\delta_{il} Z_{jk}`; ``diag_jl(Z)``:
  :math:`\delta_{jl} Z_{ik}` (a third of a pass each).

Everything is plain torch arithmetic (differentiable by autograd); the in-place accumulation is not meant for
``torch.func`` transforms, where the models keep their reference routes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..tensor import Tensor

Coef = Tensor | float | None


def to_cf(A: Tensor) -> Tensor:
    """``(..., 3, 3)`` -> ``(3, 3, M)`` contiguous, M the number of points (components first)."""
    M = A.numel() // 9
    return A.reshape(M, 9).t().contiguous().view(3, 3, M)


def from_cf2(X: Tensor, batch: torch.Size) -> Tensor:
    """``(3, 3, M)`` -> ``(*batch, 3, 3)`` contiguous."""
    return X.reshape(9, -1).t().contiguous().view(*batch, 3, 3)


def from_cf4(T: Tensor, batch: torch.Size) -> Tensor:
    """``(3, 3, 3, 3, M)`` -> ``(*batch, 3, 3, 3, 3)`` contiguous (the one transpose of a tangent)."""
    return T.reshape(81, -1).t().contiguous().view(*batch, 3, 3, 3, 3)


def eye_cf(like: Tensor) -> Tensor:
    """The identity ``(3, 3, 1)`` (broadcasts against ``(3, 3, M)``)."""
    return torch.eye(3, dtype=like.dtype, device=like.device)[..., None]


def mm(A: Tensor, B: Tensor) -> Tensor:
    """Matrix product of ``(3, 3, M)`` batches: :math:`(AB)_{ij} = A_{ik} B_{kj}` (three fused multiply-adds of
    ``(3, 3, M)`` products: a reduction over the middle axis would be an order of magnitude slower)."""
    out = A[:, 0, None] * B[None, 0]
    return out.addcmul_(A[:, 1, None], B[None, 1]).addcmul_(A[:, 2, None], B[None, 2])


def tr(A: Tensor) -> Tensor:
    """Transpose of a ``(3, 3, M)`` batch (a view)."""
    return A.transpose(0, 1)


def symm(A: Tensor) -> Tensor:
    r""":math:`\tfrac12(A + A^T)` of a ``(3, 3, M)`` batch."""
    return 0.5 * (A + A.transpose(0, 1))


def trace(A: Tensor) -> Tensor:
    """Trace ``(M,)`` of a ``(3, 3, M)`` batch."""
    return A[0, 0] + A[1, 1] + A[2, 2]


def cofactor(a: Tensor) -> Tensor:
    r"""Cofactor matrix :math:`\det(A) A^{-T}` ``(3, 3, M)`` (as :func:`constitutive.tensor.cofactor`)."""
    return torch.stack(
        [
            torch.stack(
                [a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1], a[1, 2] * a[2, 0] - a[1, 0] * a[2, 2],
                 a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]]
            ),
            torch.stack(
                [a[0, 2] * a[2, 1] - a[0, 1] * a[2, 2], a[0, 0] * a[2, 2] - a[0, 2] * a[2, 0],
                 a[0, 1] * a[2, 0] - a[0, 0] * a[2, 1]]
            ),
            torch.stack(
                [a[0, 1] * a[1, 2] - a[0, 2] * a[1, 1], a[0, 2] * a[1, 0] - a[0, 0] * a[1, 2],
                 a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]]
            ),
        ]
    )  # fmt: skip


def det_from_cofactor(a: Tensor, cof: Tensor) -> Tensor:
    """:math:`\\det A = A_{0k}\\operatorname{cof}(A)_{0k}` ``(M,)`` (Laplace expansion along the first row)."""
    return a[0, 0] * cof[0, 0] + a[0, 1] * cof[0, 1] + a[0, 2] * cof[0, 2]


def scale(c: Coef, X: Tensor | None) -> Tensor | None:
    """``c X`` with ``None`` (an exact zero, of either factor) propagated."""
    return None if c is None or X is None else c * X


def add(*terms: Coef) -> Coef:
    """Sum of the coefficients that are not ``None`` (``None`` when all are)."""
    out: Coef = None
    for t in terms:
        if t is not None:
            out = t if out is None else out + t
    return out


def addt(*terms: Tensor | None) -> Tensor | None:
    """Sum of the tensors that are not ``None`` (``None`` when all are)."""
    out: Tensor | None = None
    for t in terms:
        if t is not None:
            out = t if out is None else out + t
    return out


def mul(*factors: Coef) -> Coef:
    """Product, ``None`` when a factor is ``None`` (an exact zero)."""
    out: Tensor | float = 1.0
    for f in factors:
        if f is None:
            return None
        out = out * f
    return out


class Quartic:
    r"""In-place accumulator of a fourth-order tensor ``(3, 3, 3, 3, M)`` from the index patterns of the module
    docstring (the first term allocates the buffer; ``None`` operands are skipped)."""

    def __init__(self, M: int, dtype: torch.dtype, device: torch.device) -> None:
        self.M, self.dtype, self.device = M, dtype, device
        self.T: Tensor | None = None

    def _acc(self, a: Tensor, b: Tensor) -> None:
        if self.T is None:
            self.T = torch.mul(a, b).expand(3, 3, 3, 3, self.M).contiguous()
        else:
            self.T.addcmul_(a, b)

    def outer(self, X: Tensor | None, Y: Tensor) -> None:
        if X is not None:
            self._acc(X[:, :, None, None], Y[None, None])

    def ikjl(self, X: Tensor | None, Y: Tensor) -> None:
        if X is not None:
            self._acc(X[:, None, :, None], Y[None, :, None, :])

    def iljk(self, X: Tensor | None, Y: Tensor) -> None:
        if X is not None:
            self._acc(X[:, None, None, :], Y[None, :, :, None])

    def buffer(self) -> Tensor:
        """The accumulated tensor ``(3, 3, 3, 3, M)`` (zeros when no term was added)."""
        if self.T is None:
            self.T = torch.zeros(3, 3, 3, 3, self.M, dtype=self.dtype, device=self.device)
        return self.T

    def diag_ik(self, Z: Tensor | None) -> None:
        if Z is not None:
            T = self.buffer()
            for i in range(3):
                T[i, :, i, :] += Z

    def diag_il(self, Z: Tensor | None) -> None:
        if Z is not None:
            T = self.buffer()
            for i in range(3):
                T[i, :, :, i] += Z

    def diag_jl(self, Z: Tensor | None) -> None:
        if Z is not None:
            T = self.buffer()
            for j in range(3):
                T[:, j, :, j] += Z


#: Points per chunk of the fast routes: the ``(3, 3, 3, 3, CHUNK)`` accumulator and every temporary stay in the
#: cache, and only the outputs are written to fresh memory (measured by benchmarks/hyperelastic.py).
CHUNK = 4096

Kernel = Callable[[Tensor, "Tensor | None", bool], "tuple[Tensor, Tensor | None]"]


def working(x: Tensor) -> Tensor:
    """``x`` in the fast routes' working precision: float64 below double precision (the closed forms' cancellations
    near the reference state, I - C^-1 and ln J, would otherwise cost a few ulps of float32), else ``x``."""
    return x.double() if x.dtype in (torch.float32, torch.float16, torch.bfloat16) else x


def run_chunked(
    kernel: Kernel, C: Tensor, F: Tensor | None, tangent: bool, dtype: torch.dtype | None = None
) -> tuple[Tensor, Tensor | None]:
    r"""Run ``kernel(C_chunk, F_chunk, tangent) -> (X (3, 3, m), T (3, 3, 3, 3, m) or None)`` on chunks of
    :data:`CHUNK` points of ``C`` ``(..., 3, 3)`` (and ``F``, same batch) and return ``(X (..., 3, 3), T (..., 3, 3,
    3, 3) or None)``, each chunk's result transposed straight into the output (in ``dtype``, default ``C``'s; the
    work is in :func:`working` precision). When autograd must record (an input or a parameter requires grad) the whole
    batch is one chunk and the outputs are built out of place."""
    batch, dtype = C.shape[:-2], dtype or C.dtype
    M = C.numel() // 9
    Cf = working(C.reshape(M, 3, 3))
    Ff = None if F is None else working(F.expand(*batch, 3, 3).reshape(M, 3, 3))
    grad = torch.is_grad_enabled()
    first = kernel(Cf[:CHUNK], None if Ff is None else Ff[:CHUNK], tangent)
    if M <= CHUNK or (grad and (first[0].requires_grad or (first[1] is not None and first[1].requires_grad))):
        if M > CHUNK:
            first = kernel(Cf, Ff, tangent)
        X1 = from_cf2(first[0], batch).to(dtype)
        return X1, None if first[1] is None else from_cf4(first[1], batch).to(dtype)
    X = torch.empty(M, 9, dtype=dtype, device=first[0].device)
    T = None if first[1] is None else torch.empty(M, 81, dtype=dtype, device=first[1].device)
    for m0 in range(0, M, CHUNK):
        x, t = first if m0 == 0 else kernel(Cf[m0 : m0 + CHUNK], None if Ff is None else Ff[m0 : m0 + CHUNK], tangent)
        X[m0 : m0 + CHUNK].copy_(x.reshape(9, -1).t())
        if T is not None and t is not None:
            T[m0 : m0 + CHUNK].copy_(t.reshape(81, -1).t())
    return X.view(*batch, 3, 3), None if T is None else T.view(*batch, 3, 3, 3, 3)


#: Most cyclic Jacobi sweeps of :func:`eigh_cf` (3×3 Jacobi converges quadratically: 3-5 sweeps reach round-off).
JACOBI_SWEEPS = 12


def eigh_cf(A: Tensor) -> tuple[Tensor, Tensor]:
    r"""Eigenvalues ``(3, M)`` and orthonormal eigenvectors ``(3, 3, M)`` (``V[i, a]`` = component i of vector a)
    of symmetric ``(3, 3, M)`` tensors by cyclic Jacobi rotations, vectorised over the points.

    Each rotation :math:`(p, q)` zeroes :math:`a_{pq}` with :math:`t = \operatorname{sgn}\theta/(|\theta| +
    \sqrt{\theta^2 + 1})`, :math:`\theta = (a_{qq} - a_{pp})/(2a_{pq})` (the smaller rotation angle; Golub & Van
    Loan, Algorithm 8.5.2); sweeps repeat until every point has :math:`\sum_{p<q} a_{pq}^2 \le (\epsilon/10)^2
    \sum_p a_{pp}^2`. Backward stable with orthogonal V to round-off for any spectrum (repeated eigenvalues need no
    special case: a zero :math:`a_{pq}` gives the identity rotation). Eigenvalues are not sorted.
    """
    eps = float(torch.finfo(A.dtype).eps)
    a = {(i, j): A[i, j].clone() for i in range(3) for j in range(i, 3)}
    one, zero = torch.ones_like(a[0, 0]), torch.zeros_like(a[0, 0])
    eye = torch.eye(3, dtype=A.dtype, device=A.device)
    cols = [eye[:, k, None].expand(3, A.shape[-1]).clone() for k in range(3)]  # cols[k] = V[:, k], (3, M)
    tol = (0.1 * eps) ** 2

    def key(i: int, j: int) -> tuple[int, int]:
        return (i, j) if i <= j else (j, i)

    for _ in range(JACOBI_SWEEPS):
        off = a[0, 1] * a[0, 1] + a[0, 2] * a[0, 2] + a[1, 2] * a[1, 2]
        diag = a[0, 0] * a[0, 0] + a[1, 1] * a[1, 1] + a[2, 2] * a[2, 2]
        if not bool((off > tol * diag).any()):
            break
        for p, q, r in ((0, 1, 2), (0, 2, 1), (1, 2, 0)):
            apq, app, aqq = a[p, q], a[p, p], a[q, q]
            nz = apq != 0
            theta = (aqq - app) / (2.0 * torch.where(nz, apq, one))
            t = torch.where(nz, torch.copysign(1.0 / (theta.abs() + torch.sqrt(theta * theta + 1.0)), theta), zero)
            c = torch.rsqrt(t * t + 1.0)
            s = t * c
            tapq = t * apq
            a[p, p], a[q, q], a[p, q] = app - tapq, aqq + tapq, zero
            arp, arq = a[key(r, p)], a[key(r, q)]
            a[key(r, p)], a[key(r, q)] = torch.addcmul(c * arp, s, arq, value=-1.0), torch.addcmul(c * arq, s, arp)
            vp, vq = cols[p], cols[q]
            cols[p], cols[q] = torch.addcmul(c * vp, s, vq, value=-1.0), torch.addcmul(c * vq, s, vp)
    lam = torch.stack([a[0, 0], a[1, 1], a[2, 2]])
    V = torch.stack(cols, 1)
    return lam, V
