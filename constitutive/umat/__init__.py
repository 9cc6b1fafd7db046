"""The UMAT bridge: a user's compiled Abaqus UMAT as a package material, with tangent checks.

* :class:`UMAT` -- a Fortran source or shared library driven through Abaqus's documented interface
  (:mod:`constitutive.umat.material`); a :class:`~constitutive.models.base.PathDependentMaterial`, so
  :func:`constitutive.driver.drive` and :func:`constitutive.check.check_tangent` take it unchanged.
* :func:`check_umat`, :func:`compare_umat` -- per-increment tangent verification along load paths, and comparison
  with a package model (:mod:`constitutive.umat.check`); ``constitutive umat check|compare`` on the command line
  (:mod:`constitutive.cli.umat`).
* :func:`compile_umat`, :func:`cache_dir` -- gfortran into a user cache (:mod:`constitutive.umat.build`).

See docs/umat.md.
"""

from .build import ABA_PARAM_INC, DEFAULT_FLAGS, CompileError, cache_dir, compile_umat
from .material import HYPOTHESES, UMAT, UMATCutback, UMATError, abaqus_labels

__all__ = [
    "UMAT",
    "UMATError",
    "UMATCutback",
    "HYPOTHESES",
    "abaqus_labels",
    "compile_umat",
    "cache_dir",
    "CompileError",
    "DEFAULT_FLAGS",
    "ABA_PARAM_INC",
]
