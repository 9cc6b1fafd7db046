"""Finite-strain kinematics: strain measures, stress conversions and tangent conversions, against definitions
written out here, numpy, invariances and round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from constitutive import kinematics as K
from constitutive.tensor import sym


def _F(n: int, scale: float = 0.3, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.eye(3, dtype=torch.float64) + scale * torch.randn(n, 3, 3, generator=g, dtype=torch.float64)


def _rotations(n: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(n, 3, 3, generator=g, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))[..., None, :]
    q[..., :, 0] *= torch.linalg.det(q)[..., None]
    return q


def _sym_random(n: int, seed: int = 2) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return sym(torch.randn(n, 3, 3, generator=g, dtype=torch.float64))


def test_strain_measures_against_numpy() -> None:
    F = _F(5)
    Fn = F.numpy()
    C = np.einsum("nki,nkj->nij", Fn, Fn)
    b = np.einsum("nik,njk->nij", Fn, Fn)
    np.testing.assert_allclose(K.right_cauchy_green(F).numpy(), C, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(K.left_cauchy_green(F).numpy(), b, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(K.green_lagrange(F).numpy(), 0.5 * (C - np.eye(3)), atol=1e-14)
    np.testing.assert_allclose(K.jacobian_det(F).numpy(), np.linalg.det(Fn), rtol=1e-13)
    # e = F^-T E F^-1
    Fi = np.linalg.inv(Fn)
    e = np.einsum("nki,nkl,nlj->nij", Fi, 0.5 * (C - np.eye(3)), Fi)
    np.testing.assert_allclose(K.euler_almansi(F).numpy(), e, atol=1e-12)


def test_isochoric_split_and_polar_decomposition() -> None:
    F = _F(6)
    J, Fb = K.isochoric_split(F)
    torch.testing.assert_close(torch.linalg.det(Fb), torch.ones(6, dtype=torch.float64), rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(Fb * J[:, None, None] ** (1 / 3), F, rtol=1e-13, atol=1e-13)
    Cb = K.isochoric_right_cauchy_green(F)
    torch.testing.assert_close(Cb, K.right_cauchy_green(F) * J[:, None, None] ** (-2 / 3), rtol=1e-13, atol=1e-13)
    R, U = K.polar_decomposition(F)
    torch.testing.assert_close(R @ U, F, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(
        R.transpose(-1, -2) @ R, torch.eye(3, dtype=torch.float64).expand(6, 3, 3), atol=1e-12, rtol=0
    )
    torch.testing.assert_close(torch.linalg.det(R), torch.ones(6, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(U, U.transpose(-1, -2))
    # U from E alone reproduces E; and E is invariant under a superposed rotation (material frame).
    E = K.green_lagrange(F)
    torch.testing.assert_close(K.green_lagrange(K.right_stretch_from_green_lagrange(E)), E, rtol=1e-12, atol=1e-12)
    Q = _rotations(6)
    torch.testing.assert_close(K.green_lagrange(Q @ F), E, rtol=1e-12, atol=1e-13)


def test_stress_conversions_round_trips_and_consistency() -> None:
    F = _F(4)
    S = _sym_random(4)
    J = torch.linalg.det(F)[:, None, None]
    P = K.pk2_to_pk1(S, F)
    tau = K.pk2_to_kirchhoff(S, F)
    sigma = K.pk2_to_cauchy(S, F)
    Fn, Sn = F.numpy(), S.numpy()
    np.testing.assert_allclose(P.numpy(), Fn @ Sn, atol=1e-13)
    np.testing.assert_allclose(tau.numpy(), Fn @ Sn @ Fn.transpose(0, 2, 1), atol=1e-13)
    np.testing.assert_allclose(sigma.numpy(), (tau / J).numpy(), atol=1e-13)
    # every route to each measure agrees
    torch.testing.assert_close(K.pk1_to_cauchy(P, F), sigma)
    torch.testing.assert_close(K.pk1_to_kirchhoff(P, F), tau)
    torch.testing.assert_close(K.cauchy_to_kirchhoff(sigma, F), tau)
    torch.testing.assert_close(K.kirchhoff_to_cauchy(tau, F), sigma)
    # and back
    torch.testing.assert_close(K.pk1_to_pk2(P, F), S)
    torch.testing.assert_close(K.cauchy_to_pk2(sigma, F), S)
    torch.testing.assert_close(K.kirchhoff_to_pk2(tau, F), S)
    torch.testing.assert_close(K.cauchy_to_pk1(sigma, F), P)
    torch.testing.assert_close(K.kirchhoff_to_pk1(tau, F), P)


def test_tangent_conversions() -> None:
    F = _F(3)
    g = torch.Generator().manual_seed(5)
    M = torch.randn(3, 6, 6, generator=g, dtype=torch.float64)
    M = M + M.transpose(-1, -2)
    # a minor- and major-symmetric fourth-order tensor from a symmetric 6x6 (explicit index loop)
    pairs = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
    CC = torch.zeros(3, 3, 3, 3, 3, dtype=torch.float64)
    for I, (i, j) in enumerate(pairs):
        for Jx, (k, l) in enumerate(pairs):
            for a, b in {(i, j), (j, i)}:
                for c, d in {(k, l), (l, k)}:
                    CC[:, a, b, c, d] = M[:, I, Jx]
    c = K.push_forward_tangent(CC, F)
    torch.testing.assert_close(K.pull_back_tangent(c, F), CC, rtol=1e-11, atol=1e-11)
    # c : d = J^-1 F (CC : (F^T d F)) F^T for a symmetric d
    d = _sym_random(3, seed=9)
    lhs = torch.einsum("nijkl,nkl->nij", c, d)
    inner = torch.einsum("nIJKL,nKL->nIJ", CC, F.transpose(-1, -2) @ d @ F)
    rhs = F @ inner @ F.transpose(-1, -2) / torch.linalg.det(F)[:, None, None]
    torch.testing.assert_close(lhs, rhs, rtol=1e-11, atol=1e-11)
    # A : dF = dF S + F CC : sym(F^T dF)
    S = _sym_random(3, seed=11)
    A = K.material_to_first_elasticity(CC, S, F)
    dF = torch.randn(3, 3, 3, generator=g, dtype=torch.float64)
    lhs = torch.einsum("niJkL,nkL->niJ", A, dF)
    rhs = dF @ S + F @ torch.einsum("nIJKL,nKL->nIJ", CC, sym(F.transpose(-1, -2) @ dF))
    torch.testing.assert_close(lhs, rhs, rtol=1e-11, atol=1e-11)
    # Jaumann tangent: (c + stress terms) : d = c : d + d sigma + sigma d
    sigma = _sym_random(3, seed=13)
    cj = K.spatial_to_jaumann_tangent(c, sigma)
    lhs = torch.einsum("nijkl,nkl->nij", cj, d)
    torch.testing.assert_close(
        lhs, torch.einsum("nijkl,nkl->nij", c, d) + d @ sigma + sigma @ d, rtol=1e-11, atol=1e-11
    )
    assert float((cj - cj.transpose(-1, -2)).abs().max()) < 1e-12
    assert float((cj - cj.transpose(-3, -4)).abs().max()) < 1e-12


def test_float32_and_unbatched() -> None:
    F = _F(1)[0].float()
    C = K.right_cauchy_green(F)
    assert C.dtype == torch.float32 and C.shape == (3, 3)
    assert K.jacobian_det(F).shape == ()
    assert K.green_lagrange(F.tolist()).dtype == torch.float64  # lists become float64


@pytest.mark.parametrize(
    "fn",
    [
        K.jacobian_det,
        K.right_cauchy_green,
        K.left_cauchy_green,
        K.green_lagrange,
        K.isochoric_split,
        K.polar_decomposition,
    ],
)
def test_bad_deformation_gradients(fn) -> None:
    F = _F(3)
    reflected = F.clone()
    reflected[1, :, 0] *= -1.0 if float(torch.linalg.det(F[1])) > 0 else 1.0  # det < 0 at batch entry 1
    with pytest.raises(ValueError, match=r"det F > 0.*\(1,\)"):
        fn(reflected)
    with pytest.raises(ValueError, match="det F > 0"):
        fn(torch.zeros(3, 3, dtype=torch.float64))
    nan = F.clone()
    nan[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        fn(nan)
    with pytest.raises(ValueError, match="shape"):
        fn(torch.ones(2, 3, dtype=torch.float64))


def test_conversions_refuse_bad_F() -> None:
    S = _sym_random(1)[0]
    with pytest.raises(ValueError, match="det F"):
        K.pk2_to_pk1(S, -torch.eye(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="det F"):
        K.push_forward_tangent(torch.zeros(3, 3, 3, 3, dtype=torch.float64), torch.diag(torch.tensor([1.0, 1.0, -1.0])))
    with pytest.raises(ValueError, match="positive definite"):
        K.right_stretch_from_green_lagrange(torch.diag(torch.tensor([-0.6, 0.0, 0.0], dtype=torch.float64)))


def test_conversions_refuse_wrong_stress_and_tangent_shapes() -> None:
    F = _F(2)
    S = _sym_random(2)
    voigt = torch.zeros(2, 6, dtype=torch.float64)
    for fn in (
        K.pk2_to_pk1,
        K.pk1_to_pk2,
        K.pk1_to_cauchy,
        K.cauchy_to_pk1,
        K.pk2_to_cauchy,
        K.cauchy_to_pk2,
        K.pk2_to_kirchhoff,
        K.kirchhoff_to_pk2,
        K.pk1_to_kirchhoff,
        K.kirchhoff_to_pk1,
        K.cauchy_to_kirchhoff,
        K.kirchhoff_to_cauchy,
    ):
        with pytest.raises(ValueError, match=r"must have shape \(\.\.\., 3, 3\)"):
            fn(voigt, F)
        assert fn(S, F).shape == (2, 3, 3)
    C66 = torch.zeros(2, 6, 6, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3, 3, 3, 3\)"):
        K.push_forward_tangent(C66, F)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3, 3, 3, 3\)"):
        K.pull_back_tangent(C66, F)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3, 3, 3, 3\)"):
        K.material_to_first_elasticity(C66, S, F)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3, 3\)"):
        K.material_to_first_elasticity(torch.zeros(2, 3, 3, 3, 3, dtype=torch.float64), voigt, F)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3, 3, 3, 3\)"):
        K.spatial_to_jaumann_tangent(C66, S)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3, 3\)"):
        K.spatial_to_jaumann_tangent(torch.zeros(2, 3, 3, 3, 3, dtype=torch.float64), voigt)
