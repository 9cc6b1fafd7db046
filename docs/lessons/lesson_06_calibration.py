r"""
Lesson 6 -- calibrating a model to data, and its pitfalls
=========================================================

Calibration is a least-squares problem: find the parameters :math:`p` that minimise
:math:`\sum_e\sum_i [P_{model}(\lambda_i; p) - P_i]^2` over the experiments :math:`e`. Two pitfalls wait:

* **non-uniqueness**: one test type rarely determines every parameter. Different parameter sets fit it equally
  well -- the cost has a long, flat valley, the parameters are strongly correlated, their standard errors large --
  and they predict *other* tests very differently;
* **stability**: the best fit of one test can be a material that is not stable (a non-positive initial shear
  modulus, a nominal stress that falls with stretch), and ``calibrate`` then stops on the bound that keeps it
  admissible.

The model is Mooney--Rivlin, :math:`\psi = C_{10}(\bar I_1 - 3) + C_{01}(\bar I_2 - 3)`, incompressible, whose
uniaxial nominal stress :math:`P = 2(\lambda - \lambda^{-2})(C_{10} + C_{01}/\lambda)` is linear in the parameters;
the data are Treloar's (1944).
"""

# %%
# Fit to the uniaxial test alone
# ------------------------------
import matplotlib.pyplot as plt
import numpy as np
import torch

from constitutive.calibrate import calibrate
from constitutive.data import load_treloar
from constitutive.models import MooneyRivlin

modes = ("uniaxial", "equibiaxial", "pure_shear")
tests = {mode: load_treloar(mode) for mode in modes}
experiments = {mode: test.experiment() for mode, test in tests.items()}

uni = calibrate(MooneyRivlin, [experiments["uniaxial"]], {"C10": 0.2, "C01": 0.01})
print(uni.report())
mu0 = 2 * (uni.parameters["C10"] + uni.parameters["C01"])
print(f"\ninitial shear modulus 2 (C10 + C01) = {mu0:.2e} MPa: the fit sits on the stability bound")

# %%
# Fit to all three tests
# ----------------------
joint = calibrate(MooneyRivlin, list(experiments.values()), {"C10": 0.2, "C01": 0.01})
print(joint.report())

# %%
# The flat valley, and what each fit predicts
# -------------------------------------------
# The uniaxial cost over the :math:`(C_{10}, C_{01})` plane: a long valley along :math:`C_{10} + C_{01}/\bar\lambda
# \approx` const. The uniaxial-only fit predicts the equibiaxial test poorly; the joint fit is a compromise.
lam = torch.as_tensor(tests["uniaxial"].stretch)
a = (2 * (lam - lam**-2)).numpy()
b = (2 * (lam - lam**-2) / lam).numpy()
c10, c01 = np.meshgrid(np.linspace(0.0, 0.6, 121), np.linspace(-0.45, 0.25, 141))
rms = np.sqrt(((c10[..., None] * a + c01[..., None] * b - tests["uniaxial"].stress) ** 2).mean(-1))

fig, axes = plt.subplots(1, 3, figsize=(14, 4))
cs = axes[0].contour(c10, c01, np.log10(rms), levels=20, cmap="viridis")
axes[0].plot(c10[0], -c10[0], "k--", lw=1, label="2 (C10 + C01) = 0")
axes[0].plot(uni.parameters["C10"], uni.parameters["C01"], "r*", ms=12, label="uniaxial fit")
axes[0].plot(joint.parameters["C10"], joint.parameters["C01"], "bs", ms=8, label="joint fit")
axes[0].set_xlabel("C10 (MPa)")
axes[0].set_ylabel("C01 (MPa)")
axes[0].set_title("log10 rms error, uniaxial data")
axes[0].legend(fontsize=8)
for ax, mode in zip(axes[1:], ("uniaxial", "equibiaxial")):
    test = tests[mode]
    ax.plot(test.stretch, test.stress, "ko", ms=4, label="Treloar (1944)")
    stretch = torch.linspace(1.0, float(test.stretch.max()), 100, dtype=torch.float64)
    for fit, style in ((uni, "r-"), (joint, "b-")):
        label = "uniaxial fit" if fit is uni else "joint fit"
        ax.plot(stretch.numpy(), fit.model.nominal_stress(stretch, mode).detach().numpy(), style, label=label)
    ax.set_title(mode)
    ax.set_xlabel("stretch")
    ax.set_ylabel("nominal stress (MPa)")
    ax.legend(fontsize=8)
fig.tight_layout()

print("rms error (MPa)      uniaxial fit   joint fit")
for mode in modes:
    pred_u = uni.model.nominal_stress(torch.as_tensor(tests[mode].stretch), mode).detach().numpy()
    pred_j = joint.model.nominal_stress(torch.as_tensor(tests[mode].stretch), mode).detach().numpy()
    err_u = np.sqrt(((pred_u - tests[mode].stress) ** 2).mean())
    err_j = np.sqrt(((pred_j - tests[mode].stress) ** 2).mean())
    print(f"{mode:20s} {err_u:12.3f} {err_j:11.3f}")

# %%
# Exercises
# ---------
# Solutions: ``tests/test_lessons.py`` (``lesson6_*``).
#
# 1. Every Mooney--Rivlin nominal stress of the three tests is linear in :math:`(C_{10}, C_{01})` (equibiaxial:
#    :math:`2(\lambda - \lambda^{-5})(C_{10} + \lambda^2 C_{01})`; pure shear: :math:`2(\lambda -
#    \lambda^{-3})(C_{10} + C_{01})`). Solve the joint fit as a linear least-squares problem and compare with
#    ``calibrate``.
# 2. The small-strain slope of the uniaxial curve is :math:`\mathrm dP/\mathrm d\lambda|_{\lambda=1} = 3\mu_0`.
#    Compute it for the uniaxial-only fit by automatic differentiation and compare with
#    :math:`3\cdot2(C_{10} + C_{01})`: the fitted rubber has (almost) no small-strain stiffness.
# 3. From the linear model's design matrix :math:`A`, compute the parameter covariance
#    :math:`s^2(A^TA)^{-1}` (:math:`s^2` the residual variance) and the correlation of :math:`C_{10}` and
#    :math:`C_{01}` for the joint fit; compare with ``joint.correlation``.
