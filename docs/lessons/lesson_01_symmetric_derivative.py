r"""
Lesson 1 -- the derivative with respect to a symmetric tensor
=============================================================

A question that comes back on every forum: automatic differentiation of :math:`Y = XX` with respect to a
symmetric :math:`X` gives :math:`\partial Y_{12}/\partial X_{21} = 0`, symmetrising inside the function gives
:math:`\tfrac12`, and a derivation "by components" gives 2. Which one is the tangent?

Autograd sees a :math:`3\times3` tensor as nine independent numbers. On symmetric tensors :math:`X_{12}` and
:math:`X_{21}` cannot move independently, so "the derivative" needs a convention. ``constitutive.tangent`` names
three:

* ``"full"``: :math:`J_{ijkl} = \partial Y_{ij}/\partial X_{kl}`, nine independent entries;
* ``"symmetric"``: :math:`C = J : \mathbb{I}^{\mathrm s}`, the derivative *on the space of symmetric tensors*, with
  the symmetric identity :math:`\mathbb{I}^{\mathrm s}_{ijkl} = \tfrac12(\delta_{ik}\delta_{jl} +
  \delta_{il}\delta_{jk})`;
* ``"components"``: the derivative with respect to the six independent numbers, :math:`X_{12}` and :math:`X_{21}`
  moved together.

The tangent of a material model is the linear map with :math:`\mathrm dY = C : \mathrm dX` for every symmetric
increment :math:`\mathrm dX`, *and* minor-symmetric, so that it is a map on symmetric tensors: that is
``"symmetric"``.
"""

# %%
# The forum numbers
# -----------------
import matplotlib.pyplot as plt
import torch

from constitutive import tensor as T
from constitutive.tangent import jacobian

X = torch.tensor([[1.0, 3.0, 5.0], [3.0, 1.0, 7.0], [5.0, 7.0, 1.0]], dtype=torch.float64)


def square(x: torch.Tensor) -> torch.Tensor:
    return x @ x


for convention in ("full", "symmetric", "components"):
    D = jacobian(square, X, convention)
    print(f"{convention:10s}  dY[1,2]/dX[1,2] = {float(D[1, 2, 1, 2]):5.2f}", end="   ")
    print(f"dY[1,2]/dX[2,1] = {float(D[1, 2, 2, 1]):5.2f}")

# %%
# Why :math:`\mathbb{I}^{\mathrm s}` appears
# ------------------------------------------
# Take the identity map :math:`Y = X`. Its full derivative is :math:`\delta_{ik}\delta_{jl}`, which is not
# minor-symmetric: it "knows" which of :math:`X_{12}`, :math:`X_{21}` moved. Restricted to symmetric tensors, the
# only minor-symmetric map that returns every symmetric increment unchanged is :math:`\mathbb{I}^{\mathrm s}` --
# hence the :math:`\tfrac12` of the symmetrised autograd result.
D_identity = jacobian(lambda x: x, X, "symmetric")
print("symmetric derivative of Y = X equals I^s:", torch.allclose(D_identity, T.identity4_sym()))
print("I^s_0101 =", float(T.identity4_sym()[0, 1, 0, 1]), " I^s_0110 =", float(T.identity4_sym()[0, 1, 1, 0]))

# %%
# Which one predicts the increment?
# ---------------------------------
# Take a small symmetric increment and compare :math:`Y(X + h\,\mathrm dX) - Y(X)` with
# :math:`h\,C : \mathrm dX` for each convention. ``"full"`` and ``"symmetric"`` agree on symmetric increments (they
# differ only by a part that annihilates them); ``"components"`` double-counts every shear component.
torch.manual_seed(0)
dX = T.sym(torch.randn(3, 3, dtype=torch.float64))
hs = torch.logspace(-6, -1, 11, dtype=torch.float64)
errors = {}
for convention in ("full", "symmetric", "components"):
    C = jacobian(square, X, convention)
    errors[convention] = [
        float(torch.linalg.norm(square(X + h * dX) - square(X) - h * T.ddot42(C, dX)) / torch.linalg.norm(h * dX))
        for h in hs
    ]
    print(f"{convention:10s}  relative error of the prediction at h = 1e-6: {errors[convention][0]:.1e}")

fig, ax = plt.subplots(figsize=(6, 4))
for convention, err in errors.items():
    ax.loglog(hs.numpy(), err, "o-", label=convention)
ax.set_xlabel("step h")
ax.set_ylabel(r"$\|Y(X+h\,dX) - Y(X) - h\,C:dX\| / \|h\,dX\|$")
ax.set_title("Y = XX: only a wrong convention leaves an O(1) error")
ax.grid(True, which="both", alpha=0.3)
ax.legend()

# %%
# Only ``"symmetric"`` is minor-symmetric, so only it is a fourth-order tensor on Sym (and has a Voigt or Mandel
# matrix):
for convention in ("full", "symmetric", "components"):
    C = jacobian(square, X, convention)
    print(f"{convention:10s}  minor-symmetric in kl: {torch.allclose(C, C.transpose(-1, -2))}")

# %%
# Exercises
# ---------
# Solutions: ``tests/test_lessons.py`` (``lesson1_*``).
#
# 1. Derive the symmetric-convention tangent of :math:`Y = XX` by hand,
#    :math:`C_{ijkl} = \tfrac12(\delta_{ik}X_{lj} + \delta_{il}X_{kj} + X_{ik}\delta_{jl} + X_{il}\delta_{jk})`,
#    and check it against ``jacobian(square, X)`` at the forum's :math:`X`.
# 2. For the energy :math:`\psi(\varepsilon) = \mu\,\varepsilon:\varepsilon`, the stress is
#    :math:`\partial\psi/\partial\varepsilon = 2\mu\varepsilon`. Show that differentiating with respect to the six
#    independent components gives :math:`4\mu\varepsilon_{12}` for the shear entry -- the doubled value of the
#    ``"components"`` convention.
# 3. Show that :math:`\mathbb{I}^{\mathrm s}` is the :math:`6\times6` identity in Mandel notation but
#    :math:`\mathrm{diag}(1, 1, 1, \tfrac12, \tfrac12, \tfrac12)` in Voigt notation (stiffness convention).
