r"""
Lesson 7 -- checking a Fortran UMAT
===================================

Abaqus (and CalculiX) call a user material, ``UMAT``, once per integration point and iteration: it receives the
strain increment ``DSTRAN`` and must return the new ``STRESS`` and the Jacobian ``DDSDDE`` =
:math:`\partial\Delta\sigma_I/\partial\Delta\varepsilon_J`, in the order 11 22 33 12 13 23 with *engineering*
shear strain :math:`\gamma = 2\varepsilon`. A wrong ``DDSDDE`` gives the right stresses -- the analysis still
converges to the right answer, slowly, or not at all -- so nothing in the results points at it.

:mod:`constitutive.umat` compiles a UMAT with gfortran, calls it from Python exactly as Abaqus does, checks
``DDSDDE`` against finite differences of ``STRESS`` at every increment, and drives it with the material-point
driver. This lesson writes a small UMAT -- isotropic elasticity -- with an optional *planted error*: the shear
entries of ``DDSDDE`` multiplied by ``PROPS(3)``. ``PROPS(3) = 2`` is the classic mistake of a tangent derived
with respect to tensor shear :math:`\varepsilon_{12}` instead of :math:`\gamma_{12}`. Needs ``gfortran``.
"""

# %%
# A UMAT, written and compiled
# ----------------------------
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from constitutive.driver import drive
from constitutive.models import LinearElastic
from constitutive.paths import LoadPath, Segment
from constitutive.umat import UMAT
from constitutive.umat.check import check_umat, compare_umat, default_paths

SOURCE = """
subroutine umat(stress, statev, ddsdde, sse, spd, scd, rpl, ddsddt, drplde, drpldt, &
                stran, dstran, time, dtime, temp, dtemp, predef, dpred, cmname, ndi, nshr, ntens, &
                nstatv, props, nprops, coords, drot, pnewdt, celent, dfgrd0, dfgrd1, noel, npt, &
                layer, kspt, jstep, kinc)
  ! Isotropic linear elasticity, PROPS = E, NU, FACTOR; FACTOR /= 1 plants an error in the shear tangent.
  implicit none
  character(len=80) :: cmname
  integer :: ndi, nshr, ntens, nstatv, nprops, noel, npt, layer, kspt, jstep(4), kinc
  double precision :: stress(ntens), statev(nstatv), ddsdde(ntens, ntens), sse, spd, scd, rpl, &
                      ddsddt(ntens), drplde(ntens), drpldt, stran(ntens), dstran(ntens), time(2), &
                      dtime, temp, dtemp, predef(1), dpred(1), props(nprops), coords(3), drot(3, 3), &
                      pnewdt, celent, dfgrd0(3, 3), dfgrd1(3, 3)
  double precision :: g, lam
  integer :: i
  g = props(1) / (2 * (1 + props(2)))
  lam = props(1) * props(2) / ((1 + props(2)) * (1 - 2 * props(2)))
  ddsdde = 0
  ddsdde(1:ndi, 1:ndi) = lam
  do i = 1, ndi
    ddsdde(i, i) = lam + 2 * g
  end do
  do i = ndi + 1, ntens
    ddsdde(i, i) = g          ! engineering shear: tau = G gamma
  end do
  stress = stress + matmul(ddsdde, dstran)
  do i = ndi + 1, ntens
    ddsdde(i, i) = props(3) * g
  end do
end subroutine umat
"""

workdir = Path(tempfile.mkdtemp(prefix="constitutive-lesson7-"))
(workdir / "elastic.f90").write_text(SOURCE)
E, NU = 210e3, 0.3  # MPa
good = UMAT(workdir / "elastic.f90", [E, NU, 1.0], nstatv=1)
bad = UMAT(workdir / "elastic.f90", [E, NU, 2.0], nstatv=1)
print(good)
print(bad)

# %%
# The check, increment by increment
# ---------------------------------
# ``check_umat`` follows a set of standard load paths (uniaxial, shear, mixed) and compares ``DDSDDE`` with
# central differences of ``STRESS`` at the end of every increment. The report names the first failing increment,
# the worst component by its Abaqus label, and the Taylor order (2 for a consistent tangent, 1 otherwise).
good_report = check_umat(good, increments=4)
bad_report = check_umat(bad, increments=4)
print("\n".join(str(good_report).splitlines()[:8]), "\n...")
print(str(good_report).splitlines()[-1])
print()
print("\n".join(str(bad_report).splitlines()[:8]), "\n...")
print(str(bad_report).splitlines()[-1])

# %%
# Against a package model
# -----------------------
# ``compare_umat`` drives the UMAT and a model of the package along the same paths: stresses and tangents should
# agree to round-off for a correct UMAT of the same material. (The monotonic paths: on the reversal path the
# stress passes through zero, where a *relative* stress difference means nothing.)
monotonic = [p for p in default_paths(increments=4) if p.name != "reversal"]
comparison = compare_umat(good, LinearElastic(E=E, nu=NU), monotonic)
print(
    f"largest relative differences: stress {comparison.max_stress_difference:.1e}, "
    f"tangent {comparison.max_tangent_difference:.1e}"
)

# %%
# What the planted error costs Newton
# -----------------------------------
# A stress-controlled shear path: the driver solves for the strain with ``DDSDDE`` as its Newton matrix. With the
# doubled shear stiffness each correction goes half the way, so the residual halves at every iteration (linear
# convergence with rate 1/2) instead of vanishing after one.
zero = {c: 0.0 for c in ("11", "22", "33", "13", "23")}
path = LoadPath([Segment({}, {**zero, "12": 100.0}, increments=2)], name="shear stress")
runs = {name: drive(umat, path, max_iter=100) for name, umat in (("correct", good), ("planted error", bad))}
fig, ax = plt.subplots(figsize=(6, 4))
for name, result in runs.items():
    r = result.residuals[1]
    r = r[torch.isfinite(r)]
    print(f"{name:14s}: Newton iterations per step {result.iterations[1:].tolist()}")
    ax.semilogy((r / r[0]).numpy(), "o-", ms=3, label=f"{name} ({len(r) - 1} iterations)")
ax.set_xlabel("Newton iteration")
ax.set_ylabel("residual / first residual")
ax.set_title("stress-controlled shear, first step")
ax.grid(True, which="both", alpha=0.3)
ax.legend()

# %%
# Exercises
# ---------
# Solutions: ``tests/test_lessons.py`` (``lesson7_*``).
#
# 1. Show that the correct UMAT's ``DDSDDE`` is the package's isotropic stiffness written in Abaqus order:
#    ``to_voigt(LinearElastic(E=E, nu=NU).tangent(eps), "stiffness", order="abaqus")``.
# 2. With ``DDSDDE`` scaled by a factor f on the shear diagonal, each Newton correction on a stress-controlled
#    shear multiplies the residual by :math:`|1 - 1/f|`. Predict the number of iterations to reach the driver's
#    tolerance for f = 2 and compare with the driver.
# 3. Which entries does ``check_umat`` flag for the planted error, and by what ratio do they differ from the
#    finite-difference reference?
