r"""
Lesson 4 -- hyperelasticity: from an energy to stresses and tangents
====================================================================

A hyperelastic material is an energy :math:`\psi` per unit reference volume. Everything else follows by
differentiation and push-forward:

* second Piola--Kirchhoff stress :math:`S = \partial\psi/\partial E = 2\,\partial\psi/\partial C`, with
  :math:`C = F^TF`, :math:`E = \tfrac12(C - I)`;
* first Piola--Kirchhoff (nominal) stress :math:`P = FS = \partial\psi/\partial F`;
* Cauchy stress :math:`\sigma = J^{-1}PF^T = J^{-1}FSF^T`, :math:`J = \det F`;
* tangents: :math:`\mathbb{C} = \partial S/\partial E` (material), :math:`\mathbb{A} = \partial P/\partial F`
  (two-point, with the initial-stress term :math:`\delta_{ik}S_{LJ}`), and their spatial push-forwards.

This lesson checks these relations on a compressible neo-Hookean solid, then compares the classic rubber models
with Treloar's (1944) data.
"""

# %%
# One energy, every stress measure
# --------------------------------
import matplotlib.pyplot as plt
import torch

from constitutive import tensor as T
from constitutive.check import check_tangent
from constitutive.data import load_treloar
from constitutive.models import NeoHookean, load

model = NeoHookean(mu=0.8, lmbda=1200.0)  # MPa: a nearly incompressible rubber
F = torch.tensor([[1.3, 0.2, 0.0], [0.0, 0.9, 0.1], [0.05, 0.0, 0.95]], dtype=torch.float64)
E = 0.5 * (F.mT @ F - T.eye())
S = model.second_piola(F)
P = model.first_piola(F)
sigma = model.cauchy(F)
J = T.det(F)
print("P = F S            :", torch.allclose(P, F @ S, rtol=1e-12, atol=1e-12))
print("sigma = P F^T / J  :", torch.allclose(sigma, P @ F.mT / J, rtol=1e-12, atol=1e-12))
print("sigma symmetric    :", torch.allclose(sigma, sigma.mT, rtol=1e-12, atol=1e-12))
# S is the gradient of the energy: compare with automatic differentiation of psi(E).
E_var = E.clone().requires_grad_(True)
(dpsi,) = torch.autograd.grad(model.energy(E_var), E_var)
print("S = dpsi/dE (autograd, symmetrised):", torch.allclose(S, T.sym(dpsi), rtol=1e-12, atol=1e-12))

# %%
# The tangents, checked by finite differences
# -------------------------------------------
# :math:`\partial S/\partial E` is minor-symmetric (a map on symmetric tensors: ``"symmetric"`` convention);
# :math:`\mathbb{A} = \partial P/\partial F` is a derivative with respect to all nine components of F
# (``"full"``), and is never minor-symmetric.
print(check_tangent(model.stress, E, model.tangent(E)))
print(check_tangent(model.first_piola, F, model.first_elasticity(F), convention="full"))

# %%
# Treloar's data and the classic models
# -------------------------------------
# Incompressible homogeneous tests: uniaxial, equibiaxial and pure-shear tension, nominal stress against stretch.
# Ogden's (1972) published three-term fit, and the joint fits of a neo-Hookean and a Mooney--Rivlin model to all
# three data sets (``materials/*_treloar_fit.toml``, written by ``examples/calibrate_treloar.py``).
models = {
    "Neo-Hookean": load("natural_rubber_neohookean_treloar_fit"),
    "Mooney-Rivlin": load("natural_rubber_mooneyrivlin_treloar_fit"),
    "Ogden (1972)": load("natural_rubber_ogden_treloar"),
}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
for ax, mode in zip(axes, ("uniaxial", "equibiaxial", "pure_shear")):
    data = load_treloar(mode)
    ax.plot(data.stretch, data.stress, "ko", ms=4, label="Treloar (1944)")
    lam = torch.linspace(1.0, float(data.stretch.max()), 100, dtype=torch.float64)
    for name, rubber in models.items():
        ax.plot(lam.numpy(), rubber.nominal_stress(lam, mode).detach().numpy(), label=name)
    ax.set_title(mode)
    ax.set_xlabel("stretch")
    ax.set_ylabel("nominal stress (MPa)")
axes[0].legend()
fig.tight_layout()

# %%
# The neo-Hookean model (one parameter) cannot follow the upturn at large stretch; Mooney--Rivlin (two) adds the
# :math:`\bar I_2` term that fits the moderate range; Ogden's stretch-based energy follows all three modes.
for name, rubber in models.items():
    data = load_treloar("uniaxial")
    pred = rubber.nominal_stress(torch.as_tensor(data.stretch), "uniaxial").detach().numpy()
    print(f"{name:14s} uniaxial rms error: {((pred - data.stress) ** 2).mean() ** 0.5:.3f} MPa")

# %%
# Exercises
# ---------
# Solutions: ``tests/test_lessons.py`` (``lesson4_*``).
#
# 1. For the incompressible neo-Hookean solid, derive the uniaxial nominal stress
#    :math:`P = \mu(\lambda - \lambda^{-2})` and check it against ``NeoHookean(mu).nominal_stress``.
# 2. For the compressible neo-Hookean solid of the first cell, show that
#    :math:`\sigma = J^{-1}\left[\mu(b - I) + \lambda\ln J\,I\right]`, :math:`b = FF^T`.
# 3. Mooney--Rivlin's uniaxial nominal stress is :math:`P = 2(\lambda - \lambda^{-2})(C_{10} + C_{01}/\lambda)`:
#    check it against the model, and find the Mooney plot: :math:`P / [2(\lambda - \lambda^{-2})]` is linear in
#    :math:`1/\lambda`.
