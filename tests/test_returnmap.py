"""The shared return-map engine (constitutive.models.returnmap) against an independent implementation.

A von Mises model with Voce + linear isotropic hardening written in a few lines on the engine (its residual,
stress and state only) must reproduce :class:`J2Plasticity` -- a separate, hand-written radial return with a
closed-form tangent -- along a cyclic, non-proportional path: stress, state and consistent tangent to round-off.
"""

from __future__ import annotations

import math

import pytest
import torch

from constitutive.models import J2Plasticity
from constitutive.models.base import ConvergenceError
from constitutive.models.parameters import Parameter
from constitutive.models.returnmap import (
    ReturnMappingMaterial,
    implicit_tangent,
    local_newton,
    mandel_deviator,
    mandel_identity,
)
from constitutive.tensor import dev

SQ32 = math.sqrt(1.5)


class _EngineJ2(ReturnMappingMaterial):
    """Von Mises plasticity, σ_f(α) = σ_y + Hα + Q(1 − exp(−bα)), on the engine (unknown: Δα)."""

    E = Parameter("Young's modulus", unit="stress", lower=0.0, lower_open=True)
    nu = Parameter("Poisson's ratio", lower=-1.0, upper=0.5, lower_open=True, upper_open=True)
    sigma_y = Parameter("initial yield stress", unit="stress", lower=0.0, lower_open=True)
    H = Parameter("linear hardening modulus", unit="stress", default=0.0)
    Q = Parameter("Voce saturation", unit="stress", default=0.0)
    b = Parameter("Voce rate", lower=0.0, default=1.0)

    def __init__(self, *args, tol=None, max_iter=50, **kwargs):
        super().__init__(*args, **kwargs)
        self._solver_options(tol, max_iter)

    def state_shapes(self):
        return {"eps_p": (6,), "alpha": ()}

    def _moduli(self):
        return self.E / (3 * (1 - 2 * self.nu)), self.E / (2 * (1 + self.nu))

    def _flow(self, a):
        return self.sigma_y + self.H * a + self.Q * (1 - torch.exp(-self.b * a))

    def _trial(self, eps, st):
        K, G = self._moduli()
        e_dev, tr = mandel_deviator(eps)
        s_tr = 2 * G * (e_dev - st["eps_p"])
        q_tr = SQ32 * torch.linalg.vector_norm(s_tr, dim=-1)
        return K, G, tr, s_tr, q_tr

    def _elastic_stress(self, eps, st):
        K, _, tr, s_tr, _ = self._trial(eps, st)
        return (K * tr)[:, None] * mandel_identity(eps) + s_tr

    def _elastic_tangent(self, eps, st):  # 3K P_vol + 2G P_dev in Mandel form
        K, G = self._moduli()
        m = mandel_identity(eps)
        vol = m[:, None] * m[None, :] / 3.0
        return 3 * K * vol + 2 * G * (torch.eye(6, dtype=eps.dtype) - vol)

    def _trial_yield(self, eps, st):
        return self._trial(eps, st)[4] - self._flow(st["alpha"])

    def _residual(self, x, eps, st):
        _, G, _, _, q_tr = self._trial(eps, st)
        da = x[:, 0]
        return ((q_tr - 3 * G * da - self._flow(st["alpha"] + da)) / self.sigma_y)[:, None]

    def _clip(self, x, eps, st):
        return x.clamp_min(0.0)

    def _plastic_stress(self, x, eps, st):
        K, G, tr, s_tr, q_tr = self._trial(eps, st)
        s = s_tr * (1 - 3 * G * x[:, 0] / q_tr)[:, None]
        return (K * tr)[:, None] * mandel_identity(eps) + s

    def _plastic_state(self, x, eps, st):
        _, _, _, s_tr, q_tr = self._trial(eps, st)
        n = 1.5 * s_tr / q_tr[:, None]  # dε^p/dα = (3/2) s/q
        return {"eps_p": st["eps_p"] + x[:, :1] * n, "alpha": st["alpha"] + x[:, 0]}


PARAMS = dict(E=200e3, nu=0.3, sigma_y=250.0, H=800.0, Q=120.0, b=15.0)


def _history(n: int = 3) -> torch.Tensor:
    """(S, n, 3, 3): loading, unloading, reverse loading, then a turn to another deviatoric direction."""
    g = torch.Generator().manual_seed(3)
    d1 = dev(torch.randn(n, 3, 3, generator=g, dtype=torch.float64))
    d1 = d1 + d1.transpose(-1, -2)
    d2 = dev(torch.randn(n, 3, 3, generator=g, dtype=torch.float64))
    d2 = d2 + d2.transpose(-1, -2)
    vol = torch.eye(3, dtype=torch.float64) * 1e-4
    amps = [0.5, 1.0, 2.0, 3.0, 2.0, 0.0, -2.0, -3.0, -1.0]
    steps = [a * 1e-3 * d1 + vol for a in amps] + [-1e-3 * d1 + k * 1e-3 * d2 for k in (1.0, 2.0, 3.0)]
    return torch.stack(steps)


def _reference() -> J2Plasticity:
    return J2Plasticity(
        PARAMS["E"], PARAMS["nu"], PARAMS["sigma_y"], PARAMS["H"], hardening="voce", Q=PARAMS["Q"], b=PARAMS["b"]
    )


def test_engine_reproduces_the_hand_written_radial_return() -> None:
    engine, ref = _EngineJ2(**PARAMS), _reference()
    history = _history()
    s_e, s_r = engine.initial_state((3,)), ref.initial_state((3,))
    plastic_steps = 0
    for eps in history:
        sig_e, s_e, C_e = engine.update(eps, s_e)
        sig_r, s_r, C_r = ref.update(eps, s_r)
        torch.testing.assert_close(sig_e, sig_r, rtol=1e-12, atol=1e-9)
        torch.testing.assert_close(s_e["alpha"], s_r["alpha"], rtol=1e-10, atol=1e-13)  # both solve to tol 1e-11
        torch.testing.assert_close(C_e, C_r, rtol=1e-9, atol=1e-6)
        plastic_steps += int((s_e["alpha"] > 0).any())
    assert plastic_steps >= 6


def test_elastic_tangent_hook_equals_the_ad_default() -> None:
    engine = _EngineJ2(**PARAMS)
    eps = _history()[0] * 0.1  # elastic
    state = engine.initial_state((3,))
    C_hook = engine.update(eps, state)[2]

    class _WithoutHook(_EngineJ2):
        _elastic_tangent = ReturnMappingMaterial._elastic_tangent

    C_ad = _WithoutHook(**PARAMS).update(eps, state)[2]
    torch.testing.assert_close(C_hook, C_ad, rtol=1e-12, atol=1e-6)


def test_ad_route_equals_implicit_tangent_and_inputs_untouched() -> None:
    engine = _EngineJ2(**PARAMS)
    eps = _history()[3]
    state = engine.initial_state((3,))
    state["alpha"] = torch.tensor([0.0, 0.01, 0.02], dtype=torch.float64)
    before = {k: v.clone() for k, v in state.items()}
    sig, new, C = engine.update(eps, state)
    sig_ad, new_ad, C_ad = engine.ad_update(eps, state)
    torch.testing.assert_close(sig_ad, sig, rtol=1e-14, atol=1e-10)
    torch.testing.assert_close(C_ad, C, rtol=1e-10, atol=1e-6)
    for k in state:
        assert torch.equal(state[k], before[k])
        assert new[k] is not state[k]


def test_parameter_gradient_through_the_solution_matches_finite_differences() -> None:
    eps = _history()[3]

    def stress11(Q: torch.Tensor) -> torch.Tensor:
        m = _EngineJ2(**{**PARAMS, "Q": Q})
        return (m.update(eps, m.initial_state((3,)), need_tangent=False)[0] ** 2).sum().sqrt()

    Q = torch.tensor(PARAMS["Q"], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(stress11(Q), Q)
    h = 1e-3
    fd = (
        stress11(torch.tensor(PARAMS["Q"] + h, dtype=torch.float64))
        - stress11(torch.tensor(PARAMS["Q"] - h, dtype=torch.float64))
    ) / (2 * h)
    assert abs(float(g) - float(fd)) <= 1e-6 * abs(float(fd))
    assert float(g) != 0.0


def test_batch_axes_and_broadcast_state() -> None:
    engine = _EngineJ2(**PARAMS)
    eps = _history(6)[3].reshape(2, 3, 3, 3)
    sig, st, C = engine.update(eps, engine.initial_state())
    assert sig.shape == (2, 3, 3, 3) and C.shape == (2, 3, 3, 3, 3, 3) and st["eps_p"].shape == (2, 3, 6)
    flat = engine.update(eps.reshape(6, 3, 3), engine.initial_state((6,)))
    torch.testing.assert_close(sig.reshape(6, 3, 3), flat[0], rtol=0, atol=0)


def test_non_convergence_names_points_and_returns_nothing() -> None:
    engine = _EngineJ2(**PARAMS, max_iter=1)
    eps = _history()[3]
    with pytest.raises(ConvergenceError, match=r"did not converge in 1 iterations .* state was not updated") as info:
        engine.update(eps, engine.initial_state((3,)))
    assert info.value.diagnostics["points"] and info.value.diagnostics["iterations"] == 1


def test_solver_options_are_validated() -> None:
    with pytest.raises(ValueError, match="max_iter"):
        _EngineJ2(**PARAMS, max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        _EngineJ2(**PARAMS, tol=2.0)


def test_local_newton_two_unknowns_and_implicit_tangent() -> None:
    """A 2-unknown system with a known solution: x1 = ε1², x2 = x1 + sin(ε2) (so the tangent is known)."""
    eps = torch.tensor([[0.3, -0.2, 0.1, 0.05, 0.0, 0.2], [1.1, 0.4, -0.3, 0.0, 0.1, 0.0]], dtype=torch.float64)

    def residual(x, e, st):
        return torch.stack(
            (x[:, 0] ** 3 - e[:, 0] ** 6, torch.exp(x[:, 1]) - torch.exp(x[:, 0] + torch.sin(e[:, 1]))), -1
        )

    def stress(x, e, st):
        return e * x[:, 1:2]

    x, it = local_newton(residual, torch.ones(2, 2, dtype=torch.float64), eps, {}, scale=torch.ones(2, 2),
                         tol=1e-13, max_iter=60, model="test")  # fmt: skip
    exact = torch.stack((eps[:, 0] ** 2, eps[:, 0] ** 2 + torch.sin(eps[:, 1])), -1)
    torch.testing.assert_close(x, exact, rtol=1e-12, atol=1e-12)
    C = implicit_tangent(residual, stress, x, eps, {})
    # σ = ε x2(ε): dσ_I/dε_J = δ_IJ x2 + ε_I dx2/dε_J, dx2/dε = (2ε1, cos ε2, 0, ...)
    dx2 = torch.zeros(2, 6, dtype=torch.float64)
    dx2[:, 0], dx2[:, 1] = 2 * eps[:, 0], torch.cos(eps[:, 1])
    expected = torch.eye(6, dtype=torch.float64) * exact[:, 1, None, None] + eps[:, :, None] * dx2[:, None, :]
    torch.testing.assert_close(C, expected, rtol=1e-10, atol=1e-12)
