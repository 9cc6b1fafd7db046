"""Tangents of maps on symmetric tensors (``constitutive.tangent``) against closed forms and second routes."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from constitutive import tensor as T
from constitutive.notation import ORDERS, from_notation, to_mandel, to_voigt
from constitutive.tangent import (
    apply_convention,
    components_matrix,
    hessian,
    jacobian,
    parameter_jacobian,
    parameters_from_symmetric,
    symmetric_from_lower,
    symmetric_from_parameters,
)

LAM, MU = 1.3, 0.8
X_FORUM = torch.tensor([[1.0, 3.0, 5.0], [3.0, 1.0, 7.0], [5.0, 7.0, 1.0]], dtype=torch.float64)


def random_sym(*batch: int, scale: float = 1.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return scale * T.sym(torch.randn(*batch, 3, 3, dtype=dtype))


def square_full(X: torch.Tensor) -> torch.Tensor:
    """Closed form of d(X X)/dX on nine independent entries: J_ijkl = δ_ik X_lj + X_ik δ_jl."""
    I = torch.eye(3, dtype=X.dtype).expand_as(X)
    return T.dyad_ikjl(I, X.transpose(-1, -2)) + T.dyad_ikjl(X, I)


def elastic_tangent(dtype: torch.dtype = torch.float64) -> torch.Tensor:
    I = T.eye(dtype)
    return LAM * T.dyad(I, I) + 2 * MU * T.identity4_sym(dtype)


def elastic_energy(eps: torch.Tensor) -> torch.Tensor:
    return 0.5 * LAM * T.trace(eps) ** 2 + MU * T.ddot(eps, eps)


def rotated_diag(lams: list[list[float]], seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    Q = torch.linalg.qr(torch.randn(len(lams), 3, 3, generator=gen, dtype=torch.float64))[0]
    return Q @ torch.diag_embed(torch.tensor(lams, dtype=torch.float64)) @ Q.transpose(-1, -2)


# ---------------------------------------------------------------------------------------------- closed forms


def test_linear_elasticity_hessian_and_jacobian_closed_form() -> None:
    eps = random_sym(4, 2, scale=1e-2)
    stress, C = hessian(elastic_energy, eps)
    torch.testing.assert_close(stress, LAM * T.trace(eps)[..., None, None] * T.eye() + 2 * MU * eps)
    torch.testing.assert_close(C, elastic_tangent().expand(4, 2, 3, 3, 3, 3))
    torch.testing.assert_close(jacobian(lambda e: stress_of(e), eps), C)
    # The textbook Voigt matrix: λ + 2μ / λ off-diagonal in the normal block, μ (no factor) on the shear diagonal.
    M = jacobian(stress_of, eps[0, 0], notation="voigt", order="abaqus")
    expected = torch.zeros(6, 6, dtype=torch.float64)
    expected[:3, :3] = LAM
    expected[range(3), range(3)] = LAM + 2 * MU
    expected[range(3, 6), range(3, 6)] = MU
    torch.testing.assert_close(M, expected)
    # Mandel: 2μ on the shear diagonal (orthonormal basis; the eigenvalues 3K and 2μ are visible).
    Mm = jacobian(stress_of, eps[0, 0], notation="mandel")
    torch.testing.assert_close(torch.diagonal(Mm)[3:], torch.full((3,), 2 * MU, dtype=torch.float64))
    s_v, C_v = hessian(elastic_energy, eps, notation="voigt", order="ansys")
    torch.testing.assert_close(s_v, to_voigt(stress, "stress", order="ansys"))
    torch.testing.assert_close(C_v, to_voigt(C, "stiffness", order="ansys"))


def stress_of(eps: torch.Tensor) -> torch.Tensor:
    return LAM * T.trace(eps)[..., None, None] * torch.eye(3, dtype=eps.dtype) + 2 * MU * eps


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_square_closed_form_all_conventions(mode: str) -> None:
    X = random_sym(3, 2)
    J = square_full(X)
    full = jacobian(lambda A: A @ A, X, "full", mode=mode)
    torch.testing.assert_close(full, J)
    sym = 0.5 * (J + J.transpose(-1, -2))
    torch.testing.assert_close(jacobian(lambda A: A @ A, X, mode=mode), sym)
    doubled = sym * (2.0 - torch.eye(3, dtype=torch.float64))
    torch.testing.assert_close(jacobian(lambda A: A @ A, X, "components", mode=mode), doubled)
    torch.testing.assert_close(apply_convention(J, "components"), doubled)


def test_float32_and_chunked_batches() -> None:
    X = random_sym(40, dtype=torch.float32)
    C = jacobian(lambda A: A @ A, X, chunk_size=7)
    assert C.dtype == torch.float32 and C.shape == (40, 3, 3, 3, 3)
    J = square_full(X.double())
    torch.testing.assert_close(C.double(), 0.5 * (J + J.transpose(-1, -2)), rtol=1e-5, atol=1e-5)
    Y, C_val = jacobian(lambda A: A @ A, X, return_value=True)  # value first, like hessian's (gradient, hessian)
    torch.testing.assert_close(Y, X @ X)
    torch.testing.assert_close(C_val, C)


def test_exp_and_log_closed_forms_with_repeated_eigenvalues() -> None:
    X = rotated_diag([[0.2, 0.2, -0.5], [0.4, 0.4, 0.4], [-0.3, 0.1, 0.6]])
    D_exp = T.sym_function_derivative(X, torch.exp, torch.exp)
    assert torch.isfinite(D_exp).all()
    # Second route, valid at repeated eigenvalues: AD of the (analytic) Padé matrix exponential.
    ref = jacobian(torch.linalg.matrix_exp, X, mode="reverse")
    torch.testing.assert_close(D_exp, ref, rtol=1e-10, atol=1e-12)
    # exp(c I): the derivative is e^c I^s.
    torch.testing.assert_close(D_exp[1], torch.exp(torch.tensor(0.4, dtype=torch.float64)) * T.identity4_sym())
    # log is the inverse of exp on Sym, so D_log(exp X) : D_exp(X) = I^s, at repeated eigenvalues too.
    Y = T.sym_exp(X)
    D_log = T.sym_function_derivative(Y, torch.log, torch.reciprocal)
    torch.testing.assert_close(T.ddot44(D_log, D_exp), T.identity4_sym().expand_as(D_exp), rtol=1e-10, atol=1e-12)
    # Distinct eigenvalues: AD through eigh agrees with the closed form.
    torch.testing.assert_close(jacobian(T.sym_log, Y[2]), D_log[2], rtol=1e-9, atol=1e-11)
    torch.testing.assert_close(jacobian(T.sym_exp, X[2]), D_exp[2], rtol=1e-9, atol=1e-11)


def test_ad_through_eigh_at_repeated_eigenvalues_is_reported_not_returned() -> None:
    # Differentiating eigenvectors at a repeated eigenvalue is singular; jacobian says so instead of returning NaN.
    with pytest.raises(ValueError, match="NaN"):
        jacobian(T.sym_exp, 0.4 * torch.eye(3, dtype=torch.float64))


def test_forum_numbers_in_all_three_conventions() -> None:
    square = lambda A: A @ A
    expected = {"full": (2.0, 0.0), "symmetric": (1.0, 1.0), "components": (2.0, 2.0)}
    for convention, (a, b) in expected.items():
        J = jacobian(square, X_FORUM, convention)
        assert float(J[1, 2, 1, 2]) == pytest.approx(a, abs=1e-14)
        assert float(J[1, 2, 2, 1]) == pytest.approx(b, abs=1e-14)
    # The raw autograd answer the user saw is the 'full' convention; symmetrizing inside gives 'symmetric'.
    raw = torch.autograd.functional.jacobian(square, X_FORUM)
    torch.testing.assert_close(raw, jacobian(square, X_FORUM, "full"))
    inside = torch.autograd.functional.jacobian(lambda A: square(T.sym(A)), X_FORUM)
    torch.testing.assert_close(inside, jacobian(square, X_FORUM))


# ---------------------------------------------------------------------------------------------- matrix forms


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_components_matrix_is_voigt_times_shear_factors_and_six_parameter_derivative(order: str) -> None:
    X = random_sym(5)
    f = lambda A: A @ A + T.trace(A)[..., None, None] * A
    M_c = jacobian(f, X, "components", notation="voigt", order=order)
    voigt = jacobian(f, X, notation="voigt", order=order)
    factors = torch.tensor([1.0, 1.0, 1.0, 2.0, 2.0, 2.0], dtype=torch.float64)  # independent statement
    torch.testing.assert_close(M_c, voigt * factors)
    # Second route: AD through the six-parameter builder.
    torch.testing.assert_close(parameter_jacobian(f, X, order), M_c)
    torch.testing.assert_close(parameter_jacobian(f, parameters_from_symmetric(X, order), order), M_c)
    torch.testing.assert_close(components_matrix(jacobian(f, X, "components"), "components", order), M_c)
    # Column J of M_c is the derivative along a unit change of the six-parameter p_J (X_ij and X_ji together).
    p = parameters_from_symmetric(X, order)
    h = 1e-6
    for J in range(6):
        dp = torch.zeros(6, dtype=torch.float64)
        dp[J] = h
        plus = parameters_from_symmetric(f(symmetric_from_parameters(p + dp, order)), order)
        minus = parameters_from_symmetric(f(symmetric_from_parameters(p - dp, order)), order)
        torch.testing.assert_close((plus - minus) / (2 * h), M_c[..., J], rtol=1e-7, atol=1e-7)


def test_lower_triangular_representation() -> None:
    X = random_sym(3)
    L = torch.tril(X)
    torch.testing.assert_close(symmetric_from_lower(L), X)
    torch.testing.assert_close(symmetric_from_lower(L + torch.triu(torch.randn(3, 3), 1)), X)  # upper ignored
    f = lambda A: A @ A
    for b in range(3):
        dL = torch.autograd.functional.jacobian(lambda A: f(symmetric_from_lower(A)), L[b])
        comp = jacobian(f, X[b], "components")
        lower = torch.tril(torch.ones(3, 3, dtype=torch.bool))
        torch.testing.assert_close(dL[..., lower], comp[..., lower])
        assert torch.all(dL[..., ~lower] == 0)
    p = parameters_from_symmetric(X, "lsdyna")
    torch.testing.assert_close(symmetric_from_parameters(p, "lsdyna"), X)
    torch.testing.assert_close(p[..., 5], X[..., 2, 0])  # LS-DYNA's sixth slot is 31


def test_mandel_matrix_is_derivative_of_mandel_vectors() -> None:
    X = random_sym(4)
    f = lambda A: A @ A + T.sym_exp(A)

    def mandel_map(v: torch.Tensor) -> torch.Tensor:
        return to_mandel(f(from_notation(v, "strain", "mandel")), "stress")

    v = to_mandel(X, "strain")
    ref = torch.func.vmap(torch.func.jacfwd(mandel_map))(v)
    torch.testing.assert_close(jacobian(f, X, notation="mandel"), ref, rtol=1e-10, atol=1e-10)


@settings(max_examples=12)
@given(st.integers(0, 10_000))
def test_symmetric_tangent_predicts_directional_derivative(seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    X = T.sym(torch.randn(3, 3, generator=gen, dtype=torch.float64))
    dX = T.sym(torch.randn(3, 3, generator=gen, dtype=torch.float64))
    f = lambda A: T.trace(A) * A @ A + T.det(A) * A
    _, jvp = torch.func.jvp(f, (X,), (dX,))
    torch.testing.assert_close(T.ddot42(jacobian(f, X), dX), jvp)
    # 'components' contracted with the six independent components of dX (upper triangle) gives the same.
    upper = torch.triu(torch.ones(3, 3, dtype=torch.float64))
    torch.testing.assert_close(T.ddot42(jacobian(f, X, "components"), dX * upper), jvp)


def test_hessian_of_nonlinear_energy_major_symmetric_and_consistent() -> None:
    X = random_sym(6, scale=0.3)
    psi = lambda A: T.trace(A @ A @ A) / 3.0 + T.trace(A) ** 4
    stress, C = hessian(psi, X)
    I = torch.eye(3, dtype=torch.float64)
    torch.testing.assert_close(stress, X @ X + 4 * T.trace(X)[..., None, None] ** 3 * I)
    torch.testing.assert_close(C, T.major_transpose(C))
    torch.testing.assert_close(C, jacobian(lambda A: A @ A + 4 * T.trace(A) ** 3 * torch.eye(3, dtype=A.dtype), X))


# ---------------------------------------------------------------------------------------------- bad input


def test_bad_input() -> None:
    X = random_sym(2)
    with pytest.raises(ValueError, match="symmetric"):
        jacobian(lambda A: A @ A, torch.randn(2, 3, 3, dtype=torch.float64))
    jacobian(lambda A: A @ A, torch.randn(2, 3, 3, dtype=torch.float64), "full")  # fine in 'full'
    with pytest.raises(ValueError, match="NaN"):
        jacobian(lambda A: A @ A, X.clone().fill_(float("nan")))
    with pytest.raises(ValueError, match="NaN"):
        jacobian(lambda A: A * float("nan"), X)
    with pytest.raises(ValueError, match="shape"):
        jacobian(lambda A: A @ A, torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="shape|3, 3"):
        jacobian(lambda A: A[0], X)
    with pytest.raises(ValueError, match="convention"):
        jacobian(lambda A: A @ A, X, "engineering")
    with pytest.raises(ValueError, match="full"):
        jacobian(lambda A: A @ A, X, "full", notation="voigt")
    with pytest.raises(ValueError, match="Mandel"):
        jacobian(lambda A: A @ A, X, "components", notation="mandel")
    with pytest.raises(ValueError, match="mode"):
        jacobian(lambda A: A @ A, X, mode="sideways")
    with pytest.raises(ValueError, match="symmetric"):
        hessian(lambda A: T.trace(A @ A), torch.randn(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="scalar"):
        hessian(lambda A: A, X)
    with pytest.raises(ValueError, match="symmetric"):
        parameter_jacobian(lambda A: A @ A, torch.randn(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="components"):
        components_matrix(jacobian(lambda A: A @ A, X, "full"), "full")


class _NoJvp(torch.autograd.Function):
    """X -> X^3 with a hand-written backward and no forward-mode formula."""

    generate_vmap_rule = True

    @staticmethod
    def forward(X):
        return X**3

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (X,) = ctx.saved_tensors
        return 3 * X**2 * g


class _NoVjp(torch.autograd.Function):
    """X -> X^3 with a hand-written forward-mode formula and no backward."""

    generate_vmap_rule = True

    @staticmethod
    def forward(X):
        return X**3

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def jvp(ctx, dX):
        (X,) = ctx.saved_tensors
        return 3 * X**2 * dX


def test_auto_mode_uses_the_mode_the_function_supports() -> None:
    X = random_sym(3)
    expected = jacobian(lambda A: A**3, X)
    with pytest.raises((RuntimeError, NotImplementedError)):
        jacobian(_NoJvp.apply, X, mode="forward")
    torch.testing.assert_close(jacobian(_NoJvp.apply, X, mode="auto"), expected)  # reverse, the default route
    torch.testing.assert_close(jacobian(_NoJvp.apply, X), expected)
    with pytest.raises((RuntimeError, NotImplementedError)):
        jacobian(_NoVjp.apply, X)  # reverse by default: no backward formula
    torch.testing.assert_close(jacobian(_NoVjp.apply, X, mode="auto"), expected)  # falls back to forward
    torch.testing.assert_close(jacobian(_NoVjp.apply, X, mode="forward"), expected)


def test_parameter_jacobian_rejects_unknown_mode() -> None:
    # Review fix: any mode other than 'forward' silently ran reverse mode.
    with pytest.raises(ValueError, match="mode"):
        parameter_jacobian(lambda A: A @ A, random_sym(2), mode="sideways")
    X = random_sym(2)
    torch.testing.assert_close(
        parameter_jacobian(lambda A: A @ A, X, mode="forward"), parameter_jacobian(lambda A: A @ A, X)
    )  # the default (reverse) and forward mode agree on a polynomial map


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_hessian_modes_agree_with_the_closed_form(mode: str) -> None:
    """psi = lam/2 tr(X)^2 + mu X:X gives S = lam tr(X) I + 2 mu X and C = lam I x I + 2 mu I^s in both modes."""
    X = random_sym(4)
    S, C = hessian(lambda A: 0.5 * LAM * torch.trace(A) ** 2 + MU * (A * A).sum(), X, mode=mode)
    I = torch.eye(3, dtype=torch.float64)
    torch.testing.assert_close(S, LAM * T.trace(X)[..., None, None] * I + 2 * MU * X)
    torch.testing.assert_close(C, (LAM * T.dyad(I, I) + 2 * MU * T.identity4_sym()).expand(4, 3, 3, 3, 3))
    with pytest.raises(ValueError, match="unknown mode"):
        hessian(lambda A: (A * A).sum(), X, mode="sideways")


def test_parameter_jacobian_of_linalg_det_is_right_on_batches() -> None:
    """The default (reverse) route of parameter_jacobian is exact for torch.linalg.det on a batch."""
    X = random_sym(5, scale=0.1) + torch.eye(3, dtype=torch.float64)
    M = parameter_jacobian(lambda A: torch.linalg.det(A) * A, X)
    ref = parameter_jacobian(lambda A: T.det(A) * A, X)
    torch.testing.assert_close(M, ref, rtol=1e-12, atol=1e-12)
