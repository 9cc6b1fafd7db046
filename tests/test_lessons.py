"""Solutions of the teaching track's exercises (docs/lessons/lesson_*.py), each checked against an independent value.

Each ``lessonN_*`` function computes an exercise's answer the way a student would; the tests compare it with a
second route (the package's own implementation, a closed form, or automatic differentiation).
"""

from __future__ import annotations

import ast
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from constitutive import tensor as T
from constitutive.calibrate import calibrate
from constitutive.check import check_tangent, taylor_remainder
from constitutive.data import load_treloar
from constitutive.driver import drive
from constitutive.models import J2Plasticity, MooneyRivlin, NeoHookean
from constitutive.notation import reorder, to_mandel, to_voigt
from constitutive.paths import LoadPath, Segment
from constitutive.tangent import jacobian, parameter_jacobian

ROOT = Path(__file__).resolve().parents[1]
X_FORUM = torch.tensor([[1.0, 3.0, 5.0], [3.0, 1.0, 7.0], [5.0, 7.0, 1.0]], dtype=torch.float64)


# -- Lesson 1: the derivative with respect to a symmetric tensor ---------------------------------------------------
def lesson1_square_tangent(X: torch.Tensor) -> torch.Tensor:
    """C_ijkl = ½(δ_ik X_lj + δ_il X_kj + X_ik δ_jl + X_il δ_jk): d(XX)/dX on symmetric tensors."""
    d = T.eye()
    return 0.5 * (
        torch.einsum("ik,lj->ijkl", d, X)
        + torch.einsum("il,kj->ijkl", d, X)
        + torch.einsum("ik,jl->ijkl", X, d)
        + torch.einsum("il,jk->ijkl", X, d)
    )


def test_lesson1_exercise1_square_tangent_by_hand() -> None:
    C = lesson1_square_tangent(X_FORUM)
    assert torch.allclose(C, jacobian(lambda x: x @ x, X_FORUM), rtol=1e-14, atol=1e-13)
    assert float(C[1, 2, 1, 2]) == pytest.approx(1.0) and float(C[1, 2, 2, 1]) == pytest.approx(1.0)


def lesson1_six_component_gradient(eps: torch.Tensor, mu: float) -> torch.Tensor:
    """dψ/dp for ψ = μ ε:ε with ε built from its six independent components p (Voigt order, tensor shear)."""
    p = torch.stack([eps[0, 0], eps[1, 1], eps[2, 2], eps[1, 2], eps[0, 2], eps[0, 1]]).requires_grad_(True)
    e = torch.stack([torch.stack([p[0], p[5], p[4]]), torch.stack([p[5], p[1], p[3]]), torch.stack([p[4], p[3], p[2]])])
    (g,) = torch.autograd.grad(mu * (e * e).sum(), p)
    return g


def test_lesson1_exercise2_components_double_the_shear() -> None:
    mu = 80.0
    eps = T.sym(torch.tensor([[1.0, 0.3, -0.2], [0.0, 2.0, 0.5], [0.0, 0.0, -1.0]], dtype=torch.float64))
    g = lesson1_six_component_gradient(eps, mu)
    stress = 2 * mu * eps  # ∂ψ/∂ε on symmetric tensors
    assert torch.allclose(g[:3], stress.diagonal(), rtol=1e-14)
    assert torch.allclose(g[3:], 2 * torch.stack([stress[1, 2], stress[0, 2], stress[0, 1]]), rtol=1e-14)
    assert float(g[5]) == pytest.approx(4 * mu * float(eps[0, 1]), rel=1e-14)
    # the package's six-parameter Jacobian of the stress map: the Voigt stiffness with its shear columns doubled
    P = parameter_jacobian(lambda x: 2 * mu * x, eps)
    doubling = torch.diag(torch.tensor([1.0, 1.0, 1.0, 2.0, 2.0, 2.0], dtype=torch.float64))
    assert torch.allclose(P, to_voigt(2 * mu * T.identity4_sym(), "stiffness") @ doubling, rtol=1e-14)


def test_lesson1_exercise3_symmetric_identity_in_voigt_and_mandel() -> None:
    Is = T.identity4_sym()
    assert torch.allclose(to_mandel(Is, "stiffness"), torch.eye(6, dtype=torch.float64), atol=1e-15)
    expected = torch.diag(torch.tensor([1.0, 1.0, 1.0, 0.5, 0.5, 0.5], dtype=torch.float64))
    assert torch.allclose(to_voigt(Is, "stiffness"), expected, atol=1e-15)


# -- Lesson 2: Voigt, Mandel and FE orders ---------------------------------------------------------------------------
def _anisotropic_stiffness(seed: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(6, 6, generator=g, dtype=torch.float64)
    M = A @ A.T + 6 * torch.eye(6, dtype=torch.float64)  # symmetric positive definite Mandel matrix
    from constitutive.notation import from_mandel

    return from_mandel(M, "stiffness")


def lesson2_abaqus_permutation() -> list[int]:
    """Textbook order 11 22 33 23 13 12 -> Abaqus 11 22 33 12 13 23: rows/columns (0, 1, 2, 5, 4, 3)."""
    return [0, 1, 2, 5, 4, 3]


def test_lesson2_exercise1_abaqus_order_is_a_permutation() -> None:
    C = _anisotropic_stiffness()
    p = lesson2_abaqus_permutation()
    D = to_voigt(C, "stiffness")
    assert torch.equal(D[p][:, p], to_voigt(C, "stiffness", order="abaqus"))
    # the same permutation as the package's vector reordering
    v = torch.arange(6, dtype=torch.float64)
    assert torch.equal(v[p], reorder(v, "voigt", "abaqus"))


def lesson2_isotropic_eigenvalues(K: float, G: float) -> torch.Tensor:
    """The eigenvalues of an isotropic stiffness on Sym: 3K (dilatation) once, 2G (deviators) five times; ascending."""
    return torch.tensor(sorted([3 * K] + [2 * G] * 5), dtype=torch.float64)


def test_lesson2_exercise2_isotropic_eigenvalues() -> None:
    K, G = 175e3, 80.8e3
    I = T.eye()
    C = K * T.dyad(I, I) + 2 * G * T.identity4_dev()
    exact = lesson2_isotropic_eigenvalues(K, G)
    assert torch.allclose(torch.linalg.eigvalsh(to_mandel(C, "stiffness")), exact, rtol=1e-13)
    assert not torch.allclose(torch.linalg.eigvalsh(to_voigt(C, "stiffness")), exact, rtol=1e-3)


def lesson2_shear_error_with_tensor_shear(G: float, gamma: float) -> float:
    """σ12 from D ε̂ when ε̂ holds ε12 = γ/2 instead of γ: G γ / 2 instead of G γ, an error of -G γ / 2."""
    return -G * gamma / 2


def test_lesson2_exercise3_tensor_shear_in_voigt() -> None:
    K, G, gamma = 175e3, 80.8e3, 1e-3
    I = T.eye()
    C = K * T.dyad(I, I) + 2 * G * T.identity4_dev()
    eps = torch.zeros(3, 3, dtype=torch.float64)
    eps[0, 1] = eps[1, 0] = gamma / 2
    D = to_voigt(C, "stiffness")
    wrong = torch.tensor([0, 0, 0, 0, 0, eps[0, 1]], dtype=torch.float64)  # tensor shear in the γ slot
    sigma12_wrong = float((D @ wrong)[5])
    sigma12_right = float(T.ddot42(C, eps)[0, 1])
    assert sigma12_right == pytest.approx(G * gamma, rel=1e-13)
    assert sigma12_wrong - sigma12_right == pytest.approx(lesson2_shear_error_with_tensor_shear(G, gamma), rel=1e-13)


# -- Lesson 3: the consistent tangent of J2 plasticity ---------------------------------------------------------------
E_, NU_, SY_, H_ = 200e3, 0.3, 250.0, 2000.0


def _lesson3_strain() -> torch.Tensor:
    eps = torch.zeros(3, 3, dtype=torch.float64)
    eps[0, 0], eps[1, 1], eps[2, 2] = 0.004, -0.0015, -0.0015
    eps[0, 1] = eps[1, 0] = 0.001
    return eps


def lesson3_consistent_tangent(eps: torch.Tensor) -> torch.Tensor:
    """Radial return from the virgin state, linear isotropic hardening: the Simo-Taylor closed form."""
    G, K = E_ / (2 * (1 + NU_)), E_ / (3 * (1 - 2 * NU_))
    s_trial = 2 * G * T.dev(eps)
    norm = float(T.norm(s_trial))
    f = math.sqrt(1.5) * norm - SY_
    assert f > 0, "the increment must be plastic"
    dgamma = f / (3 * G + H_)  # Δε̄p
    n = s_trial / norm
    theta = 1 - 2 * G * math.sqrt(1.5) * dgamma / norm
    theta_bar = 1 / (1 + H_ / (3 * G)) - (1 - theta)
    I = T.eye()
    return K * T.dyad(I, I) + 2 * G * theta * T.identity4_dev() - 2 * G * theta_bar * T.dyad(n, n)


def test_lesson3_exercise1_closed_form_consistent_tangent() -> None:
    model = J2Plasticity(E=E_, nu=NU_, sigma_y=SY_, H=H_)
    eps = _lesson3_strain()
    _, _, C_alg = model.update(eps, model.initial_state(()))
    assert torch.allclose(lesson3_consistent_tangent(eps), C_alg, rtol=1e-11, atol=1e-6)


def lesson3_tangent_gap(scale: float) -> float:
    """max |C_alg - C_cont| / max |C_cont| for a plastic increment of size ``scale`` from the yield surface."""
    model = J2Plasticity(E=E_, nu=NU_, sigma_y=SY_, H=H_)
    direction = torch.diag(torch.tensor([1.0, -0.5, -0.5], dtype=torch.float64))
    eps_y = SY_ / E_ * direction  # uniaxial-like deviatoric direction: on the yield surface (pure deviator)
    eps_y = eps_y * (SY_ / (math.sqrt(1.5) * float(T.norm(2 * E_ / (2 * (1 + NU_)) * T.dev(eps_y)))))
    state = model.update(eps_y, model.initial_state(()))[1]
    eps = eps_y + scale * direction
    _, _, C_alg = model.update(eps, state)
    C_cont = model.continuum_tangent(eps, state)
    return float((C_alg - C_cont).abs().max() / C_cont.abs().max())


def test_lesson3_exercise2_tangents_coincide_for_small_increments() -> None:
    gaps = [lesson3_tangent_gap(s) for s in (1e-5, 1e-6, 1e-7)]
    assert gaps[0] > gaps[1] > gaps[2] > 0
    # first order in the increment (asymptotically): a tenfold smaller increment gives a tenfold smaller gap
    for a, b in zip(gaps[:-1], gaps[1:]):
        assert a / b == pytest.approx(10.0, rel=0.02)


def test_lesson3_exercise3_elastic_steps() -> None:
    model = J2Plasticity(E=E_, nu=NU_, sigma_y=SY_, H=H_)
    eps = 0.3 * SY_ / E_ * torch.diag(torch.tensor([1.0, -0.3, -0.3], dtype=torch.float64))
    _, _, C_alg = model.update(eps, model.initial_state(()))
    C_cont = model.continuum_tangent(eps, model.initial_state(()))
    G, K = E_ / (2 * (1 + NU_)), E_ / (3 * (1 - 2 * NU_))
    C_el = K * T.dyad(T.eye(), T.eye()) + 2 * G * T.identity4_dev()
    assert torch.allclose(C_alg, C_el, rtol=1e-13) and torch.allclose(C_cont, C_el, rtol=1e-13)
    free = {"22": 0.0, "33": 0.0, "23": 0.0, "13": 0.0, "12": 0.0}
    path = LoadPath([Segment({"11": 0.5 * SY_ / E_}, free, increments=3)])
    for tangent in ("consistent", "continuum"):
        result = drive(model, path, tangent=tangent, predictor=False)
        assert result.iterations[1:].tolist() == [1, 1, 1]


# -- Lesson 4: hyperelasticity ---------------------------------------------------------------------------------------
def lesson4_neo_hookean_uniaxial(mu: float, lam: torch.Tensor) -> torch.Tensor:
    return mu * (lam - lam**-2)


def test_lesson4_exercise1_incompressible_neo_hookean() -> None:
    lam = torch.linspace(0.5, 7.0, 40, dtype=torch.float64)
    assert torch.allclose(NeoHookean(mu=0.4).nominal_stress(lam, "uniaxial"), lesson4_neo_hookean_uniaxial(0.4, lam))


def lesson4_neo_hookean_cauchy(F: torch.Tensor, mu: float, lmbda: float) -> torch.Tensor:
    J = torch.linalg.det(F)
    b = F @ F.mT
    return (mu * (b - T.eye()) + lmbda * torch.log(J) * T.eye()) / J


def test_lesson4_exercise2_compressible_neo_hookean_cauchy() -> None:
    F = torch.tensor([[1.3, 0.2, 0.0], [0.0, 0.9, 0.1], [0.05, 0.0, 0.95]], dtype=torch.float64)
    model = NeoHookean(mu=0.8, lmbda=1200.0)
    assert torch.allclose(model.cauchy(F), lesson4_neo_hookean_cauchy(F, 0.8, 1200.0), rtol=1e-12, atol=1e-12)


def lesson4_mooney_plot(lam: torch.Tensor, P: torch.Tensor) -> tuple[float, float]:
    """Fit the Mooney plot P / [2(λ - λ⁻²)] = C10 + C01 / λ; returns (C10, C01)."""
    y = (P / (2 * (lam - lam**-2))).numpy()
    slope, intercept = np.polyfit((1 / lam).numpy(), y, 1)
    return float(intercept), float(slope)


def test_lesson4_exercise3_mooney_rivlin_uniaxial_and_mooney_plot() -> None:
    C10, C01 = 0.16, 0.02
    lam = torch.linspace(1.1, 5.0, 30, dtype=torch.float64)
    P = MooneyRivlin(C10, C01).nominal_stress(lam, "uniaxial")
    assert torch.allclose(P, 2 * (lam - lam**-2) * (C10 + C01 / lam), rtol=1e-13)
    assert lesson4_mooney_plot(lam, P) == pytest.approx((C10, C01), rel=1e-10)


# -- Lesson 5: verifying a tangent -----------------------------------------------------------------------------------
def lesson5_complex_step(x: float, h: float = 1e-30) -> float:
    z = torch.tensor(complex(x, h), dtype=torch.complex128)
    return float((torch.exp(z) * torch.sin(z)).imag / h)


def lesson5_best_central(f, x: float, hs: np.ndarray, exact: float) -> tuple[float, float]:  # noqa: ANN001
    errors = np.array([abs((f(x + h) - f(x - h)) / (2 * h) - exact) for h in hs])
    i = int(np.argmin(errors))
    return float(hs[i]), float(errors[i])


def test_lesson5_exercise1_complex_step_is_exact() -> None:
    x = 1.0
    exact = math.exp(x) * (math.sin(x) + math.cos(x))
    assert lesson5_complex_step(x) == pytest.approx(exact, rel=4e-16)
    hs = np.logspace(-12, -1, 111)
    _, best = lesson5_best_central(lambda t: math.exp(t) * math.sin(t), x, hs, exact)
    assert 1e-13 < best / exact < 1e-8  # central differences: about 11 digits at best


def test_lesson5_exercise2_best_central_step() -> None:
    eps = np.finfo(float).eps
    h_star = (3 * eps) ** (1 / 3)  # |f| = |f'''| for exp
    hs = np.logspace(-9, -2, 141)
    h_best, _ = lesson5_best_central(math.exp, 1.0, hs, math.e)
    assert h_star / 10 < h_best < h_star * 10


def _lesson5_stress(eps: torch.Tensor) -> torch.Tensor:
    I = torch.eye(3, dtype=eps.dtype)
    tr = eps.diagonal(dim1=-2, dim2=-1).sum(-1)[..., None, None]
    ee = (eps * eps).sum((-2, -1))[..., None, None]
    return 120e3 * tr * I + 160e3 * eps + 5e9 * ee * eps


def lesson5_fitted_order(C: torch.Tensor, eps: torch.Tensor) -> float:
    h, r, noise = taylor_remainder(_lesson5_stress, eps, C)
    keep = r > 10 * noise  # above round-off; the four smallest such steps are in the asymptotic range
    slope, _ = np.polyfit(np.log(h[keep][-4:].numpy()), np.log(r[keep][-4:].numpy()), 1)
    return float(slope)


def test_lesson5_exercise3_taylor_slopes() -> None:
    eps = torch.tensor([[2.0, 0.5, -0.3], [0.5, -1.0, 0.8], [-0.3, 0.8, 0.4]], dtype=torch.float64) * 1e-3
    I = T.eye()
    ee = T.ddot(eps, eps)
    C = 120e3 * T.dyad(I, I) + (160e3 + 5e9 * ee) * T.identity4_sym() + 2 * 5e9 * T.dyad(eps, eps)
    wrong = C - 2 * 5e9 * T.dyad(eps, eps)
    for tangent, order in ((C, 2.0), (wrong, 1.0)):
        fitted = lesson5_fitted_order(tangent, eps)
        report = check_tangent(_lesson5_stress, eps, tangent, "taylor")
        # the plain least-squares slope still carries a little of the next order; the package's fit is closer
        assert fitted == pytest.approx(order, abs=0.15)
        assert report.taylor_order == pytest.approx(order, abs=0.02)
        assert report.taylor_order == pytest.approx(fitted, abs=0.15)


# -- Lesson 6: calibration -------------------------------------------------------------------------------------------
def _design(mode: str, lam: np.ndarray) -> np.ndarray:
    """Columns multiplying C10 and C01 in Mooney-Rivlin's nominal stress of ``mode``."""
    if mode == "uniaxial":
        return np.stack([2 * (lam - lam**-2), 2 * (lam - lam**-2) / lam], axis=1)
    if mode == "equibiaxial":
        return np.stack([2 * (lam - lam**-5), 2 * (lam - lam**-5) * lam**2], axis=1)
    return np.stack([2 * (lam - lam**-3), 2 * (lam - lam**-3)], axis=1)


def lesson6_linear_joint_fit() -> tuple[np.ndarray, np.ndarray]:
    """(C10, C01) and their correlation matrix from linear least squares on the three Treloar tests."""
    tests = [load_treloar(m) for m in ("uniaxial", "equibiaxial", "pure_shear")]
    A = np.concatenate([_design(t.mode, np.asarray(t.stretch, float)) for t in tests])
    y = np.concatenate([np.asarray(t.stress, float) for t in tests])
    p, *_ = np.linalg.lstsq(A, y, rcond=None)
    s2 = float(((A @ p - y) ** 2).sum() / (len(y) - 2))
    cov = s2 * np.linalg.inv(A.T @ A)
    d = np.sqrt(np.diag(cov))
    return p, cov / np.outer(d, d)


@pytest.fixture(scope="module")
def joint_fit():  # noqa: ANN201
    experiments = [load_treloar(m).experiment() for m in ("uniaxial", "equibiaxial", "pure_shear")]
    return calibrate(MooneyRivlin, experiments, {"C10": 0.2, "C01": 0.01})


def test_lesson6_exercise1_linear_least_squares(joint_fit) -> None:  # noqa: ANN001
    p, _ = lesson6_linear_joint_fit()
    assert joint_fit.parameters["C10"] == pytest.approx(p[0], rel=1e-7)
    assert joint_fit.parameters["C01"] == pytest.approx(p[1], rel=1e-5, abs=1e-9)


def lesson6_small_strain_slope(model: MooneyRivlin) -> float:
    lam = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    (dP,) = torch.autograd.grad(model.nominal_stress(lam, "uniaxial"), lam)
    return float(dP)


def test_lesson6_exercise2_uniaxial_fit_has_no_small_strain_stiffness() -> None:
    fit = calibrate(MooneyRivlin, [load_treloar("uniaxial").experiment()], {"C10": 0.2, "C01": 0.01})
    C10, C01 = fit.parameters["C10"], fit.parameters["C01"]
    slope = lesson6_small_strain_slope(fit.model)
    assert slope == pytest.approx(3 * 2 * (C10 + C01), abs=1e-9)
    assert abs(slope) < 1e-6 * 3 * 2 * C10  # the fit sits on the stability bound μ0 = 0
    assert fit.correlation[0, 1] < -0.9  # and its two parameters are strongly correlated


def test_lesson6_exercise3_correlation_from_the_design_matrix(joint_fit) -> None:  # noqa: ANN001
    _, corr = lesson6_linear_joint_fit()
    assert joint_fit.correlation[0, 1] == pytest.approx(corr[0, 1], rel=1e-5)


# -- Lesson 7: checking a Fortran UMAT -------------------------------------------------------------------------------
# The lesson's UMAT is compiled and called in a child process: a process keeps the first UMAT support library it
# loads (XIT/STOP handling), and tests/test_umat.py, later in the run, uses its own cache directory.
LESSON7 = Path(__file__).resolve().parents[1] / "docs" / "lessons" / "lesson_07_checking_a_umat.py"
needs_gfortran = pytest.mark.skipif(
    shutil.which("gfortran") is None, reason="gfortran is not installed (apt-get install -y gfortran)"
)
LESSON7_EPS = [[1e-3, 4e-4, -2e-4], [4e-4, -5e-4, 3e-4], [-2e-4, 3e-4, 7e-4]]


def _lesson7_source() -> str:
    """The lesson's UMAT source (the string constant SOURCE), read without running the lesson."""
    for node in ast.parse(LESSON7.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SOURCE" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("the lesson defines no SOURCE")


def lesson7_umats(workdir: Path) -> dict[float, Any]:
    """The lesson's UMAT with the shear factor 1 (correct) and 2 (the planted error)."""
    from constitutive.umat import UMAT

    (workdir / "elastic.f90").write_text(_lesson7_source())
    return {f: UMAT(workdir / "elastic.f90", [210e3, 0.3, f], nstatv=1) for f in (1.0, 2.0)}


def lesson7_ddsdde(umat: Any, eps: torch.Tensor) -> torch.Tensor:
    """DDSDDE of one increment from the initial state, as the Abaqus-order 6x6 matrix."""
    return umat.tangent_to_matrix(umat.update(eps, umat.initial_state())[2])


def lesson7_shear_run(umat: Any) -> tuple[list[float], int]:
    """Residual ratios of the first Newton iterations and the iteration count, stress-controlled shear."""
    zero = {c: 0.0 for c in ("11", "22", "33", "13", "23")}
    result = drive(umat, LoadPath([Segment({}, {**zero, "12": 100.0}, increments=1)]), max_iter=100)
    r = result.residuals[1]
    r = r[torch.isfinite(r)]
    return (r[1:6] / r[:5]).tolist(), int(result.iterations[1])


def _lesson7_child() -> None:
    """Run in the child: print the lesson-7 quantities as JSON."""
    from constitutive.umat.check import check_umat

    umats = lesson7_umats(Path(tempfile.mkdtemp(prefix="lesson7-")))
    eps = torch.tensor(LESSON7_EPS, dtype=torch.float64)
    bad_ratios, bad_iterations = lesson7_shear_run(umats[2.0])
    report = check_umat(umats[2.0], increments=2)
    out = {
        "ddsdde": lesson7_ddsdde(umats[1.0], eps).tolist(),
        "bad_ratios": bad_ratios,
        "bad_iterations": bad_iterations,
        "good_iterations": lesson7_shear_run(umats[1.0])[1],
        "good_passed": check_umat(umats[1.0], increments=2).passed,
        "bad_passed": report.passed,
        "flagged": [[*inc.worst, inc.value, inc.reference, inc.taylor_order] for inc in report.increments],
    }
    print(json.dumps(out))


@pytest.fixture(scope="module")
def lesson7() -> dict[str, Any]:
    code = f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(Path(__file__).parent)!r}]; "
    code += "import test_lessons; test_lessons._lesson7_child()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@needs_gfortran
def test_lesson7_exercise1_ddsdde_is_the_abaqus_stiffness(lesson7: dict[str, Any]) -> None:
    from constitutive.models import LinearElastic

    eps = torch.tensor(LESSON7_EPS, dtype=torch.float64)
    expected = to_voigt(LinearElastic(E=210e3, nu=0.3).tangent(eps), "stiffness", order="abaqus")
    assert torch.allclose(torch.tensor(lesson7["ddsdde"], dtype=torch.float64), expected, rtol=1e-14, atol=1e-9)


def lesson7_predicted_iterations(factor: float, rtol: float = 1e-12) -> int:
    """Residual × |1 - 1/f| per correction: iterations until it falls below rtol (relative to the first)."""
    return math.ceil(math.log(rtol) / math.log(abs(1 - 1 / factor)))


@needs_gfortran
def test_lesson7_exercise2_linear_convergence_rate(lesson7: dict[str, Any]) -> None:
    assert lesson7["bad_ratios"] == pytest.approx([0.5] * 5, rel=1e-8)
    assert abs(lesson7["bad_iterations"] - lesson7_predicted_iterations(2.0)) <= 1
    assert lesson7["good_iterations"] == 1


@needs_gfortran
def test_lesson7_exercise3_flagged_entries(lesson7: dict[str, Any]) -> None:
    assert lesson7["good_passed"] and not lesson7["bad_passed"]
    assert lesson7["flagged"]
    for i, j, value, reference, order in lesson7["flagged"]:
        assert i == j and i >= 4  # a shear diagonal entry of DDSDDE, 1-based
        assert value / reference == pytest.approx(2.0, rel=1e-6)
        assert order == pytest.approx(1.0, abs=0.05)
