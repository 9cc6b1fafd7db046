r"""
Lesson 2 -- Voigt, Mandel and the FE codes' component orders
============================================================

A fourth-order stiffness :math:`\mathbb{C}` with minor symmetries has 36 independent entries; codes store it as a
:math:`6\times6` matrix. Two choices make that matrix:

* **which factor** multiplies the shear components: Voigt pairs the stiffness with *engineering* shear strain
  :math:`\gamma_{12} = 2\varepsilon_{12}` (no factor on the stiffness); Mandel scales every shear component of
  stress and strain by :math:`\sqrt2`, an orthonormal basis;
* **which order** the shear components come in: the textbook's 11 22 33 23 13 12, Abaqus/CalculiX's 11 22 33 12
  13 23, Ansys's 11 22 33 12 23 13, LS-DYNA's 11 22 33 12 23 31.

This lesson builds one cubic stiffness and writes it in every form; the strain energy is the same in all of them,
and only Mandel keeps the eigenvalues of the tensor.
"""

# %%
# One stiffness, every form
# -------------------------
import matplotlib.pyplot as plt
import torch

from constitutive import tensor as T
from constitutive.notation import component_labels, to_mandel, to_voigt

# A cubic crystal (copper-like, MPa): C11, C12, C44 in the crystal axes.
C11, C12, C44 = 168.4e3, 121.4e3, 75.4e3
I = T.eye()
cubic = torch.zeros(3, 3, 3, 3, dtype=torch.float64)
for i in range(3):
    for j in range(3):
        cubic[i, i, j, j] = C11 if i == j else C12
for i, j in ((0, 1), (0, 2), (1, 2)):
    for a, b in ((i, j), (j, i)):
        cubic[a, b, a, b] = cubic[a, b, b, a] = C44

# Rotated by 30 degrees about the axis (1, 1, 0)/sqrt(2): a general anisotropic stiffness, so that the orders differ.
axis = torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64) / 2**0.5
K = torch.tensor([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]], dtype=torch.float64)
Q = torch.linalg.matrix_exp(torch.pi / 6 * K)
C = T.transform4(Q, cubic)

torch.set_printoptions(precision=1, sci_mode=False, linewidth=120)
for order in ("voigt", "abaqus"):
    print(f"Voigt matrix (GPa), order {order!r}: {' '.join(component_labels(order))}")
    print(to_voigt(C, "stiffness", order=order) / 1e3, "\n")
print("Mandel matrix (GPa), textbook order: the shear rows and columns carry sqrt(2), the shear block 2")
print(to_mandel(C, "stiffness") / 1e3)
for order in ("ansys", "lsdyna"):
    print(f"order {order!r}: {' '.join(component_labels(order))}")

# %%
# The strain energy does not depend on the form
# ---------------------------------------------
# :math:`\psi = \tfrac12\varepsilon:\mathbb{C}:\varepsilon` equals :math:`\tfrac12\hat\varepsilon\cdot D\hat\varepsilon`
# with the Voigt strain (engineering shear) and the Voigt matrix, and the same with the Mandel pair.
torch.manual_seed(1)
eps = T.sym(1e-3 * torch.randn(3, 3, dtype=torch.float64))
psi_tensor = 0.5 * T.ddot(eps, T.ddot42(C, eps))
for order in ("voigt", "abaqus", "ansys", "lsdyna"):
    e, D = to_voigt(eps, "strain", order=order), to_voigt(C, "stiffness", order=order)
    print(f"Voigt {order:7s}: psi = {float(0.5 * e @ D @ e):.10e}")
e, D = to_mandel(eps, "strain"), to_mandel(C, "stiffness")
print(f"Mandel       : psi = {float(0.5 * e @ D @ e):.10e}")
print(f"tensor       : psi = {float(psi_tensor):.10e}")

# %%
# Eigenvalues: Mandel only
# ------------------------
# As a linear map on symmetric tensors, :math:`\mathbb{C}` has six eigenvalues -- for a cubic crystal
# :math:`C_{11} + 2C_{12}` (dilatation), :math:`C_{11} - C_{12}` (twice) and :math:`2C_{44}` (three times), in any
# orientation. The
# Mandel matrix is that map in an orthonormal basis, so it has the same eigenvalues. The Voigt matrix does not:
# the basis that pairs with engineering shear is not orthonormal.
exact = torch.tensor([C11 + 2 * C12, C11 - C12, C11 - C12, 2 * C44, 2 * C44, 2 * C44], dtype=torch.float64)
eig_mandel = torch.linalg.eigvalsh(to_mandel(C, "stiffness"))
eig_voigt = torch.linalg.eigvalsh(to_voigt(C, "stiffness"))
print("exact :", (exact.sort().values / 1e3).tolist())
print("Mandel:", (eig_mandel / 1e3).tolist())
print("Voigt :", (eig_voigt / 1e3).tolist())

fig, ax = plt.subplots(figsize=(6, 3.8))
x = torch.arange(6)
ax.bar(x - 0.25, exact.sort().values / 1e3, width=0.25, label="tensor (exact)")
ax.bar(x, eig_mandel / 1e3, width=0.25, label="Mandel matrix")
ax.bar(x + 0.25, eig_voigt / 1e3, width=0.25, label="Voigt matrix")
ax.set_xlabel("eigenvalue number")
ax.set_ylabel("eigenvalue (GPa)")
ax.set_title("Cubic stiffness: Mandel keeps the eigenvalues, Voigt does not")
ax.legend()

# %%
# Exercises
# ---------
# Solutions: ``tests/test_lessons.py`` (``lesson2_*``).
#
# 1. Build the Abaqus-order Voigt matrix from the textbook-order one by permuting rows and columns (which
#    permutation?), and check it against ``to_voigt(C, "stiffness", order="abaqus")``.
# 2. Show that the eigenvalues of the Mandel matrix of an *isotropic* stiffness are :math:`3K` (once) and
#    :math:`2G` (five times), and that the Voigt matrix's are not.
# 3. A Voigt stress vector is :math:`D\hat\varepsilon`. What goes wrong if the strain's shear components are
#    *tensor* shears :math:`\varepsilon_{12}` instead of :math:`\gamma_{12}`? Compute the error of
#    :math:`\sigma_{12}` for a pure shear strain.
