r"""
Lesson 5 -- verifying a tangent
===============================

A hand-derived tangent is wrong until proven right. Three numerical witnesses, each in
:mod:`constitutive.check`:

* **finite differences**: column :math:`kl` of :math:`\mathbb{C}` from
  :math:`[\sigma(\varepsilon + hE_{kl}) - \sigma(\varepsilon - hE_{kl})]/2h` with a *symmetric* perturbation
  :math:`E_{kl}`; truncation error :math:`O(h^2)`, round-off :math:`O(\epsilon/h)`, so about 10 correct digits at
  best;
* **complex step**: :math:`\operatorname{Im}\sigma(\varepsilon + ihE_{kl})/h`, no subtraction, hence no round-off:
  exact to machine precision with :math:`h = 10^{-30}` -- for functions that accept complex input;
* **Taylor remainder**: :math:`r(h) = \|\sigma(\varepsilon + hD) - \sigma(\varepsilon) - h\,\mathbb{C}:D\|` along a
  direction D falls like :math:`h^2` for the right tangent and like :math:`h` for a wrong one -- a test that needs
  no tolerance.

The model of this lesson is a nonlinear elastic law with a hand-written tangent,

.. math:: \sigma = \lambda\operatorname{tr}\varepsilon\,\mathbf 1 + 2\mu\varepsilon
          + \beta(\varepsilon:\varepsilon)\,\varepsilon,\qquad
          \mathbb{C} = \lambda\,\mathbf 1\otimes\mathbf 1 + \left[2\mu + \beta(\varepsilon:\varepsilon)\right]
          \mathbb{I}^{\mathrm s} + 2\beta\,\varepsilon\otimes\varepsilon .
"""

# %%
# The model and its tangent
# -------------------------
import matplotlib.pyplot as plt
import torch

from constitutive import tensor as T
from constitutive.check import check_tangent, finite_difference_tangent, taylor_remainder

LMBDA, MU, BETA = 120e3, 80e3, 5e9  # MPa


def stress(eps: torch.Tensor) -> torch.Tensor:
    """Batched (..., 3, 3); works for complex input too (no abs, no eigh)."""
    I = torch.eye(3, dtype=eps.dtype)
    tr = eps.diagonal(dim1=-2, dim2=-1).sum(-1)[..., None, None]
    ee = (eps * eps).sum((-2, -1))[..., None, None]
    return LMBDA * tr * I + 2 * MU * eps + BETA * ee * eps


def tangent(eps: torch.Tensor) -> torch.Tensor:
    I = T.eye()
    ee = T.ddot(eps, eps)[..., None, None, None, None]
    return LMBDA * T.dyad(I, I) + (2 * MU + BETA * ee) * T.identity4_sym() + 2 * BETA * T.dyad(eps, eps)


eps = torch.tensor([[2.0, 0.5, -0.3], [0.5, -1.0, 0.8], [-0.3, 0.8, 0.4]], dtype=torch.float64) * 1e-3
for method in ("central", "complex", "taylor"):
    report = check_tangent(stress, eps, tangent(eps), method, rtol=1e-8)
    order = f", Taylor order {report.taylor_order:.2f}" if report.taylor_order is not None else ""
    print(f"{method:8s}: passed={report.passed}, relative error {report.max_rel_error:.1e}{order}")

# %%
# Error against step size
# -----------------------
# Without Richardson extrapolation the forward difference has error :math:`O(h) + O(\epsilon/h)`, the central one
# :math:`O(h^2) + O(\epsilon/h)`: each has a best step, and neither reaches round-off. The complex step keeps
# improving down to :math:`10^{-30}`.
hs = torch.logspace(-30, -1, 59, dtype=torch.float64)
C = tangent(eps)
errors: dict[str, list[float]] = {"forward": [], "central": [], "complex": []}
for h in hs:
    for method in errors:
        if method != "complex" and h < 1e-14:
            errors[method].append(float("nan"))
            continue
        C_fd, _ = finite_difference_tangent(stress, eps, method, step=float(h), richardson=False)
        errors[method].append(float((C_fd - C).abs().max() / C.abs().max()))
for method, err in errors.items():
    best = min(e for e in err if e == e)
    print(f"{method:8s}: best relative error {best:.1e}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
for method, err in errors.items():
    ax1.loglog(hs.numpy(), err, "o-", ms=3, label=method)
ax1.set_xlabel("step h")
ax1.set_ylabel("max |C_fd - C| / max |C|")
ax1.set_title("finite differences against the step")
ax1.grid(True, which="both", alpha=0.3)
ax1.legend()

# %%
# The signatures of the common mistakes
# -------------------------------------
# * **doubled shear columns**: the derivative with respect to six independent components (``"components"``),
#   or a Voigt matrix paired with tensor shear strain: only columns 4--6 are wrong, by a factor 2;
# * **a forgotten term** (here :math:`2\beta\,\varepsilon\otimes\varepsilon`): an error everywhere, growing with
#   the strain;
# * **the elastic tangent** used where the material is nonlinear.
#
# Every one of them has a Taylor order of 1, and the finite-difference check names the worst component.
# Doubled shear columns: C_ijkl doubled where k != l (what a six-component derivative gives).
offdiag = 1 + (1 - torch.eye(3, dtype=torch.float64))
mistakes = {
    "correct": C,
    "doubled shear columns": C * offdiag,
    "forgotten term": C - 2 * BETA * T.dyad(eps, eps),
    "elastic tangent": LMBDA * T.dyad(T.eye(), T.eye()) + 2 * MU * T.identity4_sym(),
}
for name, candidate in mistakes.items():
    report = check_tangent(stress, eps, candidate, "taylor", rtol=1e-8)
    print(
        f"{name:22s}: passed={report.passed!s:5s} worst {report.worst_label:8s} Taylor order {report.taylor_order:.2f}"
    )
    h, r, noise = taylor_remainder(stress, eps, candidate)
    ax2.loglog(h.numpy(), r.numpy(), "o-", ms=3, label=f"{name} (order {report.taylor_order:.1f})")
ax2.set_xlabel("step h")
ax2.set_ylabel("Taylor remainder r(h)")
ax2.set_title("slope 2: right tangent; slope 1: wrong")
ax2.grid(True, which="both", alpha=0.3)
ax2.legend(fontsize=8)
fig.tight_layout()

# %%
# Exercises
# ---------
# Solutions: ``tests/test_lessons.py`` (``lesson5_*``).
#
# 1. Complex step on a scalar function: for :math:`f(x) = e^x\sin x` at :math:`x = 1`, show that
#    :math:`\operatorname{Im} f(x + ih)/h` with :math:`h = 10^{-30}` equals :math:`f'(x)` to round-off, while the
#    best central difference is off by about :math:`10^{-11}`.
# 2. The best central-difference step balances truncation :math:`h^2|f'''|/6` against round-off
#    :math:`\epsilon|f|/h`: :math:`h^* = (3\epsilon|f|/|f'''|)^{1/3}`. Find the best step on a grid for
#    :math:`f = \exp` at 1 and compare with :math:`h^*`.
# 3. Fit the slope of :math:`\log r` against :math:`\log h` yourself (least squares over the Taylor steps above
#    the noise) for the correct tangent and for the forgotten term; compare with the reported Taylor orders.
