r"""
Lesson 3 -- the consistent tangent of J2 plasticity
===================================================

An implicit FE code solves the global equilibrium by Newton's method; the matrix of each Newton step is assembled
from the material tangent at every integration point. For rate-independent J2 plasticity with radial return there
are two candidates:

* the **continuum** (rate) tangent :math:`\mathbb{C}^{ep} = \mathbb{C}^e - \dfrac{2G\,n\otimes n}{1 + h/(3G)}`,
  the derivative of the *rate* equations;
* the **consistent** (algorithmic) tangent :math:`\partial\sigma_{n+1}/\partial\varepsilon_{n+1}` of the
  *discrete* backward-Euler update (Simo and Taylor, 1985). For linear isotropic hardening

  .. math::

     \mathbb{C}^{alg} = K\,\mathbf 1\otimes\mathbf 1 + 2G\theta\,\mathbb{I}^{\mathrm{dev}}
     - 2G\bar\theta\, n\otimes n,

     \theta = 1 - \frac{2G\Delta\gamma}{\|s^{trial}\|},\qquad
     \bar\theta = \frac{1}{1 + H/(3G)} - (1 - \theta),

  with :math:`\Delta\gamma = \sqrt{3/2}\,\Delta\bar\varepsilon^p` the plastic multiplier of the step
  (:math:`\Delta\bar\varepsilon^p` the increment of equivalent plastic strain).

Both give the same stress -- the stress is the model's -- but only the consistent tangent is the derivative of the
residual, so only it gives Newton's quadratic convergence. This lesson measures the difference.
"""

# %%
# The two tangents at one plastic point
# -------------------------------------
import matplotlib.pyplot as plt
import torch

from constitutive.driver import drive
from constitutive.models import J2Plasticity
from constitutive.paths import LoadPath, Segment

model = J2Plasticity(E=200e3, nu=0.3, sigma_y=250.0, H=2000.0)  # MPa, linear isotropic hardening
state = model.initial_state(())
strain = torch.zeros(3, 3, dtype=torch.float64)
strain[0, 0], strain[1, 1], strain[2, 2] = 0.004, -0.0015, -0.0015  # one large, plastic increment from 0
strain[0, 1] = strain[1, 0] = 0.001
stress, new_state, C_alg = model.update(strain, state)
C_cont = model.continuum_tangent(strain, state)
print("equivalent plastic strain after the increment:", float(new_state["alpha"]))
print("max |C_alg - C_cont| / max |C_cont| =", float((C_alg - C_cont).abs().max() / C_cont.abs().max()))

# %%
# Newton iterations along a non-proportional, mixed-controlled path
# -----------------------------------------------------------------
# Tension into the plastic range (:math:`\varepsilon_{11}` prescribed, the other stresses zero), then shear
# :math:`\varepsilon_{12}` at a held axial stress :math:`\sigma_{11} = 300` MPa. The driver solves for the free
# strain components by Newton's method. Same path, same model, same stress: only the Newton matrix changes.
free = {"22": 0.0, "33": 0.0, "23": 0.0, "13": 0.0}
path = LoadPath(
    [
        Segment({"11": 0.004}, {**free, "12": 0.0}, increments=4),
        Segment({"12": 0.006}, {**free, "11": 300.0}, increments=4),
    ],
    name="tension-torsion",
)
consistent = drive(model, path)
continuum = drive(model, path, tangent="continuum", max_iter=300)
print("Newton iterations per step, consistent:", consistent.iterations.tolist())
print("Newton iterations per step, continuum: ", continuum.iterations.tolist())
print("largest stress difference between the runs (MPa):", float((consistent.stress - continuum.stress).abs().max()))

# %%
# The residual histories of one plastic step show the two rates: the number of correct digits doubles at each
# iteration with the consistent tangent (quadratic), it grows by a fixed amount with the continuum tangent
# (linear).
step = int(torch.argmax(continuum.iterations))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
for result, label, marker in ((consistent, "consistent", "o-"), (continuum, "continuum", "s-")):
    r = result.residuals[step]
    r = r[torch.isfinite(r)]
    ax1.semilogy((r / r[0]).numpy(), marker, ms=4, label=f"{label} ({len(r) - 1} iterations)")
    ax2.plot(result.iterations.numpy(), marker, ms=3, label=label)
ax1.set_xlabel("Newton iteration")
ax1.set_ylabel("residual / first residual")
ax1.set_title(f"step {step}")
ax1.grid(True, which="both", alpha=0.3)
ax1.legend()
ax2.set_xlabel("load step")
ax2.set_ylabel("Newton iterations")
ax2.set_title("iterations per step, tension-torsion")
ax2.legend()
fig.tight_layout()

# %%
# Exercises
# ---------
# Solutions: ``tests/test_lessons.py`` (``lesson3_*``).
#
# 1. Implement the closed-form consistent tangent above for linear isotropic hardening and check it against the
#    tangent returned by ``J2Plasticity.update`` for the increment of the first cell.
# 2. Show that the two tangents coincide in the limit of a vanishing plastic increment: start from a state on the
#    yield surface and shrink the increment; how does the difference scale?
# 3. In an elastic step both tangents are the elastic stiffness: check it, and check that the driver then needs a
#    single Newton correction per step with either.
