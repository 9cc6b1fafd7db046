"""User functions written with ``torch.linalg.det``/``slogdet``/``inv``: the default AD route gives the right
tangent on batches of 1, 2 and 1000 points (PyTorch's forward-mode batching rules for det/slogdet do not), checked
against central finite differences; a NaN second derivative (det at E = 0) is reported with its cause."""

from __future__ import annotations

import pytest
import torch

from constitutive import tensor as T
from constitutive.models import from_energy, from_stress
from constitutive.tangent import hessian, jacobian

MU, LAM = 1.0, 10.0


def _right_cauchy_green(E: torch.Tensor) -> torch.Tensor:
    return torch.eye(3, dtype=E.dtype, device=E.device) + 2.0 * E


def _log_J(E: torch.Tensor, route: str) -> torch.Tensor:
    C = _right_cauchy_green(E)
    if route == "det":
        return 0.5 * torch.log(torch.linalg.det(C))
    if route == "slogdet":
        return 0.5 * torch.linalg.slogdet(C)[1]
    if route == "inv":  # ln J through inv: ln det C = -ln det C^-1 (polynomial det of the LAPACK inverse)
        return -0.5 * torch.log(T.det(torch.linalg.inv(C)))
    raise AssertionError(route)


def neo_hookean(E: torch.Tensor, route: str) -> torch.Tensor:
    """Compressible neo-Hookean energy psi(E) = mu/2 (I1 - 3) - mu ln J + lam/2 (ln J)^2, one (3, 3) point."""
    lnJ = _log_J(E, route)
    return 0.5 * MU * (torch.trace(_right_cauchy_green(E)) - 3.0) - MU * lnJ + 0.5 * LAM * lnJ**2


def pk2(E: torch.Tensor, route: str) -> torch.Tensor:
    """Its second Piola-Kirchhoff stress S = mu (I - C^-1) + lam ln J C^-1, written with the linalg route."""
    C = _right_cauchy_green(E)
    Cinv = torch.linalg.inv(C) if route == "inv" else T.inv(C)
    return MU * (torch.eye(3, dtype=E.dtype) - Cinv) + LAM * _log_J(E, route) * Cinv


def strains(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return T.sym(0.05 * torch.randn(n, 3, 3, dtype=torch.float64, generator=g))


def fd_tangent(f, E: torch.Tensor, h: float = 1e-6) -> torch.Tensor:
    """Central differences of the batched map f (..., 3, 3) -> (..., 3, 3) along the symmetric directions
    (e_k e_l + e_l e_k)/2: the 'symmetric' tangent C_ijkl, one column pair per (k, l)."""
    out = torch.empty(*E.shape, 3, 3, dtype=E.dtype)
    for k in range(3):
        for l in range(3):
            D = torch.zeros(3, 3, dtype=E.dtype)
            D[k, l] += 0.5
            D[l, k] += 0.5
            out[..., k, l] = (f(E + h * D) - f(E - h * D)) / (2 * h)
    return out


def batched(f_point, route: str):
    return lambda E: torch.vmap(lambda e: f_point(e, route))(E)


ROUTES = ("det", "slogdet", "inv")
SIZES = (1, 2, 1000)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("n", SIZES)
def test_hessian_of_linalg_energy_matches_finite_differences(route: str, n: int) -> None:
    E = strains(n, seed=n)
    S, C = hessian(lambda e: neo_hookean(e, route), E)
    torch.testing.assert_close(S, batched(pk2, route)(E), rtol=1e-10, atol=1e-10)
    ref = fd_tangent(batched(pk2, route), E)
    torch.testing.assert_close(C, ref, rtol=1e-6, atol=1e-6)
    assert abs(float(C[0, 0, 0, 0, 0]) - (LAM + 2 * MU)) < 5.0  # near lam + 2 mu = 12 at small strain


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("n", SIZES)
def test_jacobian_of_linalg_stress_matches_finite_differences(route: str, n: int) -> None:
    E = strains(n, seed=10 + n)
    S, C = jacobian(lambda e: pk2(e, route), E, return_value=True)
    torch.testing.assert_close(S, batched(pk2, route)(E), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(C, fd_tangent(batched(pk2, route), E), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("n", SIZES)
def test_user_models_with_linalg_have_the_right_tangent_by_default(route: str, n: int) -> None:
    E = strains(n, seed=20 + n)
    ref = fd_tangent(batched(pk2, route), E)
    energy_model = from_energy(lambda e: neo_hookean(e, route), name=f"DetEnergy_{route}_{n}")
    stress_model = from_stress(lambda e: pk2(e, route), name=f"DetStress_{route}_{n}")
    for model in (energy_model, stress_model):
        torch.testing.assert_close(model.stress(E), batched(pk2, route)(E), rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(model.tangent(E), ref, rtol=1e-6, atol=1e-6)


def test_the_issue_example_c1111() -> None:
    """The reported case: neo-Hookean with torch.linalg.det on 5 strains gave C1111 = 22615 instead of 14.7."""
    E = strains(5, seed=0)
    _, C = hessian(lambda e: neo_hookean(e, "det"), E)
    _, C_poly = hessian(lambda e: neo_hookean(e, "inv"), E)  # the same energy, another route
    torch.testing.assert_close(C, C_poly, rtol=1e-10, atol=1e-10)
    # forward mode is kept as an explicit option; its documented defect is what the default route avoids
    _, C_fwd = hessian(lambda e: neo_hookean(e, "det"), E, mode="forward")
    torch.testing.assert_close(C_fwd[0], C[0], rtol=1e-10, atol=1e-10)


def test_nan_second_derivative_at_zero_strain_names_the_cause() -> None:
    E = torch.zeros(2, 3, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"second derivative of psi contains NaN.*constitutive\.tensor\.det"):
        hessian(lambda e: neo_hookean(e, "det"), E)
    model = from_energy(lambda e: neo_hookean(e, "det"), name="DetEnergyAtZero")
    with pytest.raises(ValueError, match=r"at 2 of 2 point\(s\).*det\(I \+ 2E\) at E = 0"):
        model.tangent(E)
    # the polynomial determinant is smooth there: C = lam I x I + 2 mu I^s at E = 0 (with C = I + 2E, S = dpsi/dE)

    def psi_poly(e: torch.Tensor) -> torch.Tensor:
        lnJ = 0.5 * torch.log(T.det(_right_cauchy_green(e)))
        return 0.5 * MU * (torch.trace(_right_cauchy_green(e)) - 3.0) - MU * lnJ + 0.5 * LAM * lnJ**2

    S, C = hessian(psi_poly, E)
    torch.testing.assert_close(S, torch.zeros_like(S))
    I = T.eye()
    torch.testing.assert_close(C, (LAM * T.dyad(I, I) + 2 * MU * T.identity4_sym()).expand(2, 3, 3, 3, 3))
