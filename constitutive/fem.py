r"""Small helpers to use a ``constitutive`` model inside the Newton iteration of scikit-fem (optional dependency).

scikit-fem (``pip install scikit-fem``, the ``fem`` extra) is imported lazily, only by these functions. The
material routine is called once per Newton iteration for *all* quadrature points at once: it receives the
displacement gradients ``H = ∇u`` as a ``(n_elements, n_points, 3, 3)`` tensor and returns

* ``stress`` ``(n_elements, n_points, 3, 3)``: the stress that does virtual work with ``∇v``
  (first Piola--Kirchhoff P for finite strain, Cauchy σ for small strain), and
* ``tangent`` ``(n_elements, n_points, 3, 3, 3, 3)``: its derivative with respect to ``∇u``
  (:math:`\mathbb{A} = \partial P/\partial F` for finite strain, the consistent dσ/dε -- minor-symmetric, so
  dσ/d∇u = dσ/dε -- for small strain).

The weak form is :math:`R(u)\cdot\delta u = \int_\Omega \mathrm{stress} : \nabla\delta u \,\mathrm dV` (no body
force; loads by prescribed displacements) and its linearisation
:math:`K = \int_\Omega \nabla\delta u : \mathrm{tangent} : \nabla\Delta u\,\mathrm dV`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .tensor import Tensor

__all__ = [
    "require_skfem",
    "NewtonResult",
    "displacement_gradients",
    "assemble_residual",
    "assemble_tangent",
    "newton",
    "convergence_orders",
    "plot_convergence",
]

#: material(H) -> (stress, tangent), H = ∇u at all quadrature points, batch-first torch tensors.
MaterialRoutine = Callable[[Tensor], tuple[Tensor, Tensor]]


def require_skfem() -> Any:
    """Import scikit-fem, with a clear message when the optional dependency is missing."""
    try:
        import skfem
    except ModuleNotFoundError as err:  # pragma: no cover - exercised only without the extra
        raise ModuleNotFoundError(
            "the FE examples need scikit-fem: pip install 'constitutive[fem]' (or pip install scikit-fem)"
        ) from err
    return skfem


def displacement_gradients(basis: Any, u: np.ndarray) -> Tensor:
    """``∇u`` at every quadrature point, ``(n_elements, n_points, 3, 3)`` float64 (``H[..., i, J] = ∂u_i/∂X_J``)."""
    grad = np.asarray(basis.interpolate(u).grad)  # scikit-fem layout (3, 3, n_elements, n_points)
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(grad, (0, 1), (-2, -1))))


def _skfem_layout(x: Tensor, ndim: int) -> np.ndarray:
    """Batch-first torch ``(nel, nqp, *k)`` -> scikit-fem's ``(*k, nel, nqp)`` numpy array."""
    a = x.detach().cpu().to(torch.float64).numpy()
    return np.ascontiguousarray(np.moveaxis(a, (0, 1), (ndim, ndim + 1)))


def assemble_residual(basis: Any, stress: Tensor) -> np.ndarray:
    r"""Internal force vector :math:`\int \mathrm{stress} : \nabla v\,\mathrm dV`, ``stress`` ``(nel, nqp, 3, 3)``."""
    skfem = require_skfem()

    @skfem.LinearForm
    def internal(v: Any, w: Any) -> np.ndarray:
        return np.einsum("ij...,ij...->...", np.asarray(w["stress"]), v.grad)

    return internal.assemble(basis, stress=_skfem_layout(stress, 2))


def assemble_tangent(basis: Any, tangent: Tensor) -> Any:
    r"""Stiffness matrix :math:`\int \nabla v : \mathbb{A} : \nabla u\,\mathrm dV` (scipy sparse) for ``tangent``
    ``(nel, nqp, 3, 3, 3, 3)``. Not symmetrised: an unsymmetric tangent gives an unsymmetric matrix."""
    skfem = require_skfem()

    @skfem.BilinearForm
    def stiffness(u: Any, v: Any, w: Any) -> np.ndarray:
        return np.einsum("ijkl...,ij...,kl...->...", np.asarray(w["tangent"]), v.grad, u.grad)

    return stiffness.assemble(basis, tangent=_skfem_layout(tangent, 4))


@dataclass
class NewtonResult:
    r"""One load step's Newton iteration: ``u`` the solution, ``residuals`` the free-dof residual norms
    :math:`\|R_k\|` before each correction (``residuals[0]`` once the prescribed displacements are applied),
    ``scale`` the force scale :math:`\|f^{int}_0\|` (internal forces on *all* dofs, reactions included, at the
    first evaluation), ``converged`` whether ``residuals[-1]`` met the tolerance."""

    u: np.ndarray
    residuals: list[float] = field(default_factory=list)
    scale: float = 1.0
    converged: bool = False
    #: Why the iteration stopped early (the material refused an iterate, e.g. det F <= 0), if it did.
    failure: str | None = None

    @property
    def relative(self) -> list[float]:
        """``residuals[k] / scale``: the residual as a fraction of the forces in play."""
        return [r / self.scale for r in self.residuals]


def newton(
    basis: Any,
    u: np.ndarray,
    fixed_dofs: np.ndarray,
    fixed_values: np.ndarray,
    material: MaterialRoutine,
    *,
    rtol: float = 1e-12,
    atol: float = 0.0,
    max_iter: int = 25,
    predictor: bool = True,
) -> NewtonResult:
    r"""Newton's method for :math:`R(u) = 0` on the free dofs with ``u[fixed_dofs] = fixed_values``.

    With ``predictor`` (the default, as FE codes do) the prescribed increment enters through a first linear solve
    at the start-of-step state, :math:`K(u_n)\,\Delta u = -R(u_n)` with :math:`\Delta u_D = \bar u_D - u_{n,D}`,
    instead of a jump of the boundary nodes alone (which strains only the boundary layer of elements and can
    throw a path-dependent material far off its solution). Then each iteration evaluates ``material(∇u)`` once
    for all quadrature points, assembles R and K, and solves :math:`K_{ff}\,\Delta u_f = -R_f`, until
    :math:`\|R_f\| \le \max(\text{atol}, \text{rtol}\,\|f^{int}_0\|)`, with :math:`\|f^{int}_0\|` the norm of
    the internal forces on all dofs (reactions included) at the first evaluation after the predictor -- a force
    scale that does not vanish when the predictor is already exact. Non-convergence is reported in the result
    (``converged=False``), not raised: the residual history is the point of these examples; an iterate the
    material refuses (``ValueError``) ends the step with ``failure`` set.

    Parameters
    ----------
    basis:
        The scikit-fem vector basis of the displacement field (``basis.N`` dofs).
    u:
        ``(basis.N,)`` start-of-step displacements (copied, not modified).
    fixed_dofs, fixed_values:
        Indices of the prescribed dofs and their end-of-step values.
    material:
        ``material(H) -> (stress, tangent)`` with H = ∇u at all quadrature points (:data:`MaterialRoutine`).
    rtol, atol:
        Convergence tolerances of the criterion above (defaults 1e-12 and 0).
    max_iter:
        At most this many Newton updates after the predictor (default 25).
    predictor:
        Take the linear predictor step above (default ``True``).
    """
    skfem = require_skfem()
    u = np.array(u, dtype=np.float64, copy=True)
    if predictor:
        stress, tangent = material(displacement_gradients(basis, u))
        R = assemble_residual(basis, stress)
        K = assemble_tangent(basis, tangent)
        du_fixed = np.zeros(basis.N)
        du_fixed[fixed_dofs] = np.asarray(fixed_values) - u[fixed_dofs]
        u = u + skfem.solve(*skfem.condense(K, -R, x=du_fixed, D=fixed_dofs))
    u[fixed_dofs] = fixed_values
    free = np.setdiff1d(np.arange(basis.N), fixed_dofs)
    result = NewtonResult(u=u)
    for _ in range(max_iter + 1):
        try:
            stress, tangent = material(displacement_gradients(basis, u))
        except ValueError as err:  # an inadmissible iterate (det F <= 0, ...): report, as a code would cut back
            result.failure = str(err)
            break
        R = assemble_residual(basis, stress)
        r = float(np.linalg.norm(R[free]))
        if not np.isfinite(r):
            break
        if not result.residuals:
            result.scale = max(float(np.linalg.norm(R)), np.finfo(float).tiny)
        result.residuals.append(r)
        if r <= max(atol, rtol * result.scale):
            result.converged = True
            break
        if len(result.residuals) > max_iter:
            break
        K = assemble_tangent(basis, tangent)
        du = skfem.solve(*skfem.condense(K, -R, D=fixed_dofs))
        u = u + du
        result.u = u
    return result


def convergence_orders(residuals: list[float], scale: float | None = None, floor: float = 1e-13) -> list[float]:
    r"""Observed orders :math:`\log r_{k+1} / \log r_k` of the relative residuals :math:`r_k = \|R_k\|/\text{scale}`
    (default scale ``residuals[0]``), for the pairs with :math:`r_k < 1` and both above ``floor`` (round-off).
    Quadratic convergence gives 2, linear convergence values that approach 1 as :math:`r_k \to 0`."""
    r0 = residuals[0] if scale is None else scale
    rel = [r / r0 for r in residuals]
    return [float(np.log(b) / np.log(a)) for a, b in zip(rel[:-1], rel[1:]) if 0 < a < 1 and b > floor and a > floor]


def plot_convergence(curves: dict[str, list[float]], path: Any, title: str = "", *, overwrite: bool = False) -> Any:
    """Semi-log plot of residual histories (one curve per label, each normalised by its first value); writes
    ``path`` (Agg backend; atomically, over an existing file only with ``overwrite=True``) and returns it."""
    import matplotlib

    from .fileio import atomic_path, check_writable

    check_writable(path, overwrite=overwrite)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for label, history in curves.items():
        r = np.asarray(history, dtype=float)
        ax.semilogy(np.arange(len(r)), r / r[0], "o-", ms=3, label=label)
    ax.set_xlabel("Newton iteration k")
    ax.set_ylabel(r"$\|R_k\| / \|R_0\|$")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            fig.savefig(tmp, dpi=120)
    finally:
        plt.close(fig)
    return path
