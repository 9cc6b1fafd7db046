"""constitutive models inside scikit-fem's Newton iteration (examples/fem_*.py and constitutive.fem).

Checked against independent facts: the assembled matrix is the derivative of the assembled residual (finite
differences), affine patch tests reproduce the homogeneous material-point response exactly, the consistent tangent
converges quadratically (log r_{k+1} / log r_k near 2) while perturbed/continuum tangents converge linearly, and all
tangents reach the same solution.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

skfem = pytest.importorskip("skfem")

from constitutive.fem import (  # noqa: E402
    assemble_residual,
    assemble_tangent,
    convergence_orders,
    displacement_gradients,
    newton,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def block():
    pytest.importorskip("constitutive.models.hyperelastic")
    return load_example("fem_hyperelastic_block")


@pytest.fixture(scope="module")
def beam():
    pytest.importorskip("constitutive.models.plasticity")
    return load_example("fem_plasticity")


def asymptotic_orders(history: list[float], floor: float = 1e-13) -> list[float]:
    """Observed orders log r_{k+1}/log r_k (r_k = |R_k|/|R_0|) in the asymptotic range r_k < 1e-2 (above the
    round-off floor); all pairs with r_k < 1 if none is that far along."""
    rel = np.asarray(history) / history[0]
    pairs = [(a, b) for a, b in zip(rel[:-1], rel[1:]) if a < 1e-2 and b > floor]
    if not pairs:
        return convergence_orders(history, floor=floor)
    return [float(np.log(b) / np.log(a)) for a, b in pairs]


# ------------------------------------------------------------------------------------------------ hyperelastic


def test_assembled_tangent_is_derivative_of_residual(block):
    from constitutive.models.hyperelastic import NeoHookean

    basis, _, _ = block.make_problem(2)
    routine = block.material_routine(NeoHookean(mu=1.0, lmbda=10.0))
    rng = np.random.default_rng(0)
    u = 0.05 * rng.standard_normal(basis.N)
    K = assemble_tangent(basis, routine(displacement_gradients(basis, u))[1])
    for _ in range(3):
        d = rng.standard_normal(basis.N)
        h = 1e-6
        Rp = assemble_residual(basis, routine(displacement_gradients(basis, u + h * d))[0])
        Rm = assemble_residual(basis, routine(displacement_gradients(basis, u - h * d))[0])
        np.testing.assert_allclose(K @ d, (Rp - Rm) / (2 * h), rtol=1e-6, atol=1e-8 * np.abs(K @ d).max())


def test_hyperelastic_patch_test_reproduces_homogeneous_state(block):
    """Affine displacements on the whole boundary: the interior nodes converge to the affine field and the stress
    at every quadrature point is the model's P(F) -- trilinear elements represent the homogeneous solution."""
    from constitutive.models.hyperelastic import MooneyRivlin

    model = MooneyRivlin(C10=0.4, C01=0.1, K=20.0)
    basis, _, _ = block.make_problem(3)
    boundary = basis.get_dofs().all()
    Fbar = np.array([[1.3, 0.2, 0.0], [0.0, 0.9, 0.1], [0.05, 0.0, 1.1]])
    X = basis.doflocs  # (3, N): the coordinates of the node of each dof
    comp = np.arange(basis.N) % 3  # scikit-fem numbers vector dofs node by node: u^1, u^2, u^3
    affine = np.einsum("ij,jn->in", Fbar - np.eye(3), X)[comp, np.arange(basis.N)]
    result = newton(basis, np.zeros(basis.N), boundary, affine[boundary], block.material_routine(model))
    assert result.converged
    np.testing.assert_allclose(result.u, affine, rtol=0, atol=1e-12)
    H = displacement_gradients(basis, result.u)
    P = model.first_piola(torch.eye(3, dtype=torch.float64) + H)
    torch.testing.assert_close(P, model.first_piola(torch.tensor(Fbar)).expand_as(P), rtol=1e-10, atol=1e-12)


def test_hyperelastic_block_converges_quadratically_with_consistent_tangent(block):
    out = block.solve(steps=2, tangent="consistent")
    assert out["converged"]
    for history in out["residuals"]:
        assert len(history) - 1 <= 6
        orders = asymptotic_orders(history)
        assert orders, history
        assert 1.7 < orders[-1] < 3.5, (orders, history)
    # The block really deforms: the top face moved by (0.3, 0, 0.5) and lateral faces contracted.
    u = out["u"]
    assert u.reshape(-1, 3)[:, 2].max() == pytest.approx(0.5)


def test_hyperelastic_block_perturbed_tangent_converges_linearly(block):
    consistent = block.solve(steps=1, tangent="consistent")
    perturbed = block.solve(steps=1, tangent="scaled", max_iter=60)
    (hc,), (hp,) = consistent["residuals"], perturbed["residuals"]
    assert perturbed["converged"]
    assert len(hp) > 2 * len(hc)
    orders = asymptotic_orders(hp)
    assert max(orders[-3:]) < 1.3, orders
    # Successive residual ratios settle near the perturbation's contraction factor 0.3/1.3.
    ratios = np.array(hp[1:]) / np.array(hp[:-1])
    assert 0.1 < np.median(ratios[-5:]) < 0.4
    np.testing.assert_allclose(perturbed["u"], consistent["u"], rtol=0, atol=1e-9)


# ------------------------------------------------------------------------------------------------ plasticity


def test_plasticity_patch_test_matches_material_point(beam):
    """Homogeneous strain path on all boundary nodes: every quadrature point carries the stress and state of the
    material-point update driven through the same strain increments."""
    model = beam.default_model()
    basis, _, _ = beam.make_problem(2, 2, 2, length=1.0)
    boundary = basis.get_dofs().all()
    routine = beam.PlasticityRoutine(model, (basis.mesh.nelements, basis.X.shape[-1]))
    comp = np.arange(basis.N) % 3
    eps_dir = np.array([[1.0, 0.3, 0.0], [0.3, -0.4, 0.0], [0.0, 0.0, -0.2]])
    u = np.zeros(basis.N)
    state = model.initial_state(())
    for level in (1e-3, 2.5e-3, 4e-3):
        eps = level * eps_dir
        affine = np.einsum("ij,jn->in", eps, basis.doflocs)[comp, np.arange(basis.N)]
        result = newton(basis, u, boundary, affine[boundary], routine, rtol=1e-11)
        assert result.converged
        routine.commit()
        u = result.u
        sigma, state, _ = model.update(torch.tensor(eps), state)
    np.testing.assert_allclose(u, affine, atol=1e-12)
    assert float(state["alpha"]) > 1e-3  # the path is well into the plastic range
    torch.testing.assert_close(routine.state["alpha"], state["alpha"].expand_as(routine.state["alpha"]))
    H = displacement_gradients(basis, u)
    stress, _, _ = model.update(0.5 * (H + H.transpose(-1, -2)), routine.state)
    torch.testing.assert_close(stress, sigma.expand_as(stress), rtol=1e-9, atol=1e-9)


def test_plasticity_consistent_tangent_quadratic_continuum_linear(beam):
    consistent = beam.solve(steps=3, deflection=0.06, tangent="consistent")
    continuum = beam.solve(steps=3, deflection=0.06, tangent="continuum", max_iter=60)
    assert consistent["converged"] and continuum["converged"]
    plastic = consistent["state"]["alpha"] > 0
    assert 0 < int(plastic.sum()) < plastic.numel()  # a partly plastic beam
    for hc, hk in zip(consistent["residuals"][1:], continuum["residuals"][1:]):  # steps with plastic flow
        orders = asymptotic_orders(hc)
        assert len(hc) - 1 <= 6 and 1.7 < orders[-1] < 3.5, (orders, hc)
        assert len(hk) > 2 * len(hc)
        assert max(asymptotic_orders(hk)[-3:]) < 1.3
    # Same equilibrium, whichever tangent found it.
    scale = np.abs(consistent["u"]).max()
    np.testing.assert_allclose(continuum["u"], consistent["u"], rtol=0, atol=1e-8 * scale)
    torch.testing.assert_close(continuum["state"]["alpha"], consistent["state"]["alpha"], rtol=1e-6, atol=1e-10)


def test_examples_main_return_histories(block, beam):
    hist = beam.main(steps=2, deflection=0.04)
    assert len(hist) == 2 and all(isinstance(r, float) for h in hist for r in h)
    with pytest.raises(ValueError, match="unknown tangent"):
        block.material_routine(None, "secant")


def test_ogden_block_converges_quadratically_through_repeated_stretches(block):
    """A principal-stretch model: every step starts from states with repeated stretches (F = I in the first
    predictor), where its spectral tangent must still be exact for Newton to converge quadratically."""
    from constitutive.models.hyperelastic import Ogden

    model = Ogden(mu=[0.618, 0.00118, -0.00981], alpha=[1.3, 5.0, -2.0], K=20.0)
    out = block.solve(model=model, steps=1)
    (history,) = out["residuals"]
    assert out["converged"] and len(history) - 1 <= 6
    assert 1.7 < asymptotic_orders(history)[-1] < 3.5, history


def test_plot_convergence_writes_figure(tmp_path):
    from constitutive.fem import plot_convergence

    path = plot_convergence({"a": [1.0, 1e-2, 1e-6], "b": [2.0, 1.0, 0.5]}, tmp_path / "c.png", "t")
    assert path.exists() and path.stat().st_size > 1000
