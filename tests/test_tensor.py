"""Tensor algebra: identities, products, invariants and spectral functions against independent routes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from constitutive import tensor as T
from constitutive.tangent import jacobian

finite = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False, width=64)


def batch_of(shape: tuple[int, ...]) -> st.SearchStrategy[torch.Tensor]:
    return st.integers(1, 4).flatmap(lambda n: arrays(np.float64, (n, *shape), elements=finite).map(torch.from_numpy))


@given(batch_of((3, 3)))
def test_sym_skew_dev_vol_decompose(A: torch.Tensor) -> None:
    assert torch.allclose(T.sym(A) + T.skew(A), A)
    assert torch.allclose(T.dev(A) + T.vol(A), A)
    assert torch.allclose(T.trace(T.dev(A)), torch.zeros(A.shape[0], dtype=A.dtype), atol=1e-12)
    assert torch.allclose(T.sym(A), T.sym(A).transpose(-1, -2))


@given(batch_of((3, 3)))
def test_det_inverse_cofactor_against_linalg(A: torch.Tensor) -> None:
    A = A + 4.0 * torch.eye(3, dtype=A.dtype) * A.abs().amax(dim=(-1, -2), keepdim=True).clamp_min(1.0)
    assert torch.allclose(T.det(A), torch.linalg.det(A), rtol=1e-10, atol=1e-8)
    assert torch.allclose(T.inv(A), torch.linalg.inv(A), rtol=1e-9, atol=1e-12)
    assert torch.allclose(T.cofactor(A), T.det(A)[..., None, None] * torch.linalg.inv(A).transpose(-1, -2), rtol=1e-8)


def test_det_second_derivative_finite_and_exact_at_identity() -> None:
    I = torch.eye(3, dtype=torch.float64)
    H = torch.func.hessian(T.det)(I)
    assert torch.isfinite(H).all()
    # d2 det/dA_ij dA_kl at I = δij δkl − δil δjk
    expected = T.dyad(I, I) - T.identity4_transpose()
    assert torch.allclose(H, expected)
    # and at a singular tensor
    Z = torch.zeros(3, 3, dtype=torch.float64)
    assert torch.isfinite(torch.func.hessian(T.det)(Z)).all()


def test_inv_singular_raises() -> None:
    with pytest.raises(ValueError, match="singular"):
        T.inv(torch.zeros(3, 3, dtype=torch.float64))


@given(batch_of((3, 3)), batch_of((3, 3)))
def test_contractions_against_numpy(A: torch.Tensor, B: torch.Tensor) -> None:
    n = min(A.shape[0], B.shape[0])
    A, B = A[:n], B[:n]
    a, b = A.numpy(), B.numpy()
    assert np.allclose(T.ddot(A, B).numpy(), np.einsum("nij,nij->n", a, b))
    C = T.dyad(A, B)
    assert np.allclose(C.numpy(), np.einsum("nij,nkl->nijkl", a, b))
    assert np.allclose(T.ddot42(C, B).numpy(), np.einsum("nijkl,nkl->nij", C.numpy(), b))
    assert np.allclose(T.ddot24(A, C).numpy(), np.einsum("nij,nijkl->nkl", a, C.numpy()))
    D = T.dyad_ikjl(A, B)
    assert np.allclose(T.ddot44(C, D).numpy(), np.einsum("bijmn,bmnkl->bijkl", C.numpy(), D.numpy()))
    # box products act as A X B^T and A X^T B^T
    X = A.flip(0)
    assert torch.allclose(T.ddot42(T.dyad_ikjl(A, B), X), A @ X @ B.transpose(-1, -2))
    assert torch.allclose(T.ddot42(T.dyad_iljk(A, B), X), A @ X.transpose(-1, -2) @ B.transpose(-1, -2))


@given(batch_of((3, 3)))
def test_identities_act_as_documented(A: torch.Tensor) -> None:
    assert torch.allclose(T.ddot42(T.identity4(), A), A)
    assert torch.allclose(T.ddot42(T.identity4_transpose(), A), A.transpose(-1, -2))
    assert torch.allclose(T.ddot42(T.identity4_sym(), A), T.sym(A))
    assert torch.allclose(T.ddot42(T.identity4_vol(), A), T.vol(A))
    assert torch.allclose(T.ddot42(T.identity4_dev(), A), T.dev(T.sym(A)))
    # projectors are idempotent
    P = T.identity4_dev()
    assert torch.allclose(T.ddot44(P, P), P)


def test_transposes() -> None:
    C = torch.randn(2, 3, 3, 3, 3, dtype=torch.float64)
    assert torch.equal(T.major_transpose(C)[1, 0, 1, 2, 0], C[1, 2, 0, 0, 1])
    assert torch.equal(T.minor_transpose_left(C)[0, 0, 1, 2, 0], C[0, 1, 0, 2, 0])
    assert torch.equal(T.minor_transpose_right(C)[0, 0, 1, 2, 0], C[0, 0, 1, 0, 2])


@given(batch_of((3, 3)))
def test_invariants_and_their_derivatives(A: torch.Tensor) -> None:
    lam = torch.linalg.eigvals(A)
    I1, I2, I3 = T.invariants(A)
    assert torch.allclose(I1.to(lam.dtype), lam.sum(-1), atol=1e-8)
    assert torch.allclose(I3.to(lam.dtype), lam.prod(-1), rtol=1e-8, atol=1e-6)
    dI = T.invariants_derivatives(A)
    for k, f in enumerate((lambda x: T.invariants(x)[0], lambda x: T.invariants(x)[1], lambda x: T.invariants(x)[2])):
        g = torch.func.vmap(torch.func.grad(f))(A)
        assert torch.allclose(g, dI[k], atol=1e-10)
    assert torch.allclose(torch.func.vmap(torch.func.grad(T.J2))(A), T.dJ2(A), atol=1e-10)
    assert torch.allclose(torch.func.vmap(torch.func.grad(T.J3))(A), T.dJ3(A), rtol=1e-9, atol=1e-8)
    s = T.dev(T.sym(A))
    assert torch.allclose(T.J2(T.sym(A)), 0.5 * T.ddot(s, s))


def _random_rotation(n: int) -> torch.Tensor:
    Q, R = torch.linalg.qr(torch.randn(n, 3, 3, dtype=torch.float64))
    Q = Q * torch.sign(torch.diagonal(R, dim1=-2, dim2=-1))[..., None, :]
    return Q * torch.sign(torch.linalg.det(Q))[..., None, None]


@pytest.mark.parametrize("eigs", [(0.3, -0.2, 0.9), (0.3, 0.3, -0.2), (0.5, 0.5, 0.5), (1.0, 1.0 + 1e-9, 2.0)])
def test_eigenprojections_repeated(eigs: tuple[float, float, float]) -> None:
    Q = _random_rotation(4)
    A = Q @ torch.diag(torch.tensor(eigs, dtype=torch.float64)) @ Q.transpose(-1, -2)
    lam, P, m = T.eigenprojections(A)
    assert torch.isfinite(P).all()
    I = torch.eye(3, dtype=torch.float64)
    assert torch.allclose((P / m[..., None, None]).sum(-3), I.expand_as(A), atol=1e-12)
    assert torch.allclose((lam[..., None, None] * P / m[..., None, None]).sum(-3), A, atol=1e-12)
    # projectors: idempotent, and rank = multiplicity
    assert torch.allclose(P @ P, P, atol=1e-10)
    assert torch.allclose(T.trace(P), m)
    expected_m = torch.tensor([sum(abs(a - b) < 1e-6 for b in sorted(eigs)) for a in sorted(eigs)], dtype=m.dtype)
    assert torch.equal(m, expected_m.expand_as(m))


@pytest.mark.parametrize("eigs", [(0.3, -0.2, 0.9), (0.3, 0.3, -0.2), (0.5, 0.5, 0.5), (0.4, 0.4 + 1e-7, -1.0)])
@pytest.mark.parametrize(
    "f,df,matrix_f",
    [
        (torch.exp, torch.exp, torch.linalg.matrix_exp),
        (torch.log, torch.reciprocal, None),
    ],
)
def test_isotropic_function_tangent_exact_at_repeated_eigenvalues(eigs, f, df, matrix_f) -> None:
    Q = _random_rotation(3)
    shift = 0.0 if f is torch.exp else 1.5  # log needs positive eigenvalues
    A = Q @ torch.diag(torch.tensor(eigs, dtype=torch.float64) + shift) @ Q.transpose(-1, -2)
    D = T.sym_function_derivative(A, f, df)
    assert torch.isfinite(D).all()
    if matrix_f is not None:
        reference = jacobian(matrix_f, A)  # autograd through the matrix exponential: no eigenvectors involved
    else:
        # log is the inverse of exp: d log A = (d exp at log A)^{-1} on Sym; invert in Mandel form
        from constitutive.notation import from_mandel, to_mandel

        L = T.sym_log(A)
        Dexp = jacobian(torch.linalg.matrix_exp, L)
        reference = from_mandel(torch.linalg.inv(to_mandel(Dexp, "stiffness")), "stiffness")
    assert torch.allclose(D, reference, rtol=1e-7, atol=1e-9)
    assert torch.allclose(T.sym_function(A, f), matrix_f(A) if matrix_f else T.sym_log(A), atol=1e-12)


def test_sym_log_rejects_non_positive() -> None:
    with pytest.raises(ValueError, match="positive-definite"):
        T.sym_log(torch.diag(torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64)))


def test_as_tensor_conversions() -> None:
    assert T.as_tensor([[1, 2], [3, 4]]).dtype == torch.float64
    assert T.as_tensor(np.eye(3, dtype=np.float32)).dtype == torch.float32
    assert T.as_tensor(torch.eye(3, dtype=torch.float32)).dtype == torch.float32
    assert T.as_tensor(torch.arange(3)).dtype == torch.float64


def test_validation_messages() -> None:
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3, 3\)"):
        T.check_shape(torch.zeros(3, 2), (3, 3), "strain")
    with pytest.raises(ValueError, match="NaN"):
        T.check_finite(torch.tensor([1.0, float("nan")]), "strain")
    A = torch.zeros(2, 3, 3, dtype=torch.float64)
    A[1, 0, 1] = 1.0
    with pytest.raises(ValueError, match=r"strain must be symmetric.*\(1,\)"):
        T.check_symmetric(A, "strain")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_is_kept(dtype: torch.dtype) -> None:
    A = T.sym(torch.randn(5, 3, 3, dtype=dtype))
    for out in (T.dev(A), T.inv(A + 3 * torch.eye(3, dtype=dtype)), T.sym_exp(A), T.identity4_sym(dtype)):
        assert out.dtype == dtype


def test_sym_sqrt_rejects_negative_definite_but_tolerates_round_off() -> None:
    # Review fix: a negative eigenvalue was clamped to 0 silently (sqrt(diag(-4, 1, 1)) = diag(0, 1, 1)).
    with pytest.raises(ValueError, match="semi-definite"):
        T.sym_sqrt(torch.diag(torch.tensor([-4.0, 1.0, 1.0], dtype=torch.float64)))
    A = torch.diag(torch.tensor([-1e-17, 4.0, 9.0], dtype=torch.float64))  # round-off below zero: clamped
    assert torch.allclose(T.sym_sqrt(A), torch.diag(torch.tensor([0.0, 2.0, 3.0], dtype=torch.float64)))


def test_transform4_against_einsum_and_as_a_rotation() -> None:
    A = torch.randn(4, 3, 3, dtype=torch.float64)
    C = torch.randn(4, 3, 3, 3, 3, dtype=torch.float64)
    expected = torch.einsum("niI,njJ,nkK,nlL,nIJKL->nijkl", A, A, A, A, C)
    assert torch.allclose(T.transform4(A, C), expected, atol=1e-12)
    # rotating an isotropic tensor leaves it unchanged; rotating a dyad rotates its factors
    Q = _random_rotation(4)
    Iso = 3.0 * T.identity4_vol() + 2.0 * T.identity4_dev()
    assert torch.allclose(T.transform4(Q, Iso.expand(4, 3, 3, 3, 3)), Iso.expand(4, 3, 3, 3, 3), atol=1e-12)
    X = T.sym(torch.randn(4, 3, 3, dtype=torch.float64))
    QXQ = Q @ X @ Q.transpose(-1, -2)
    assert torch.allclose(T.transform4(Q, T.dyad(X, X)), T.dyad(QXQ, QXQ), atol=1e-12)
