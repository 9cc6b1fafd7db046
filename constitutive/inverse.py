r"""Inverse analysis through a finite-element model: material parameters from the force--displacement curve of a
non-homogeneous test, with the gradient by the implicit-function theorem through the FE equilibrium.

**The specimen** (:class:`BondedBlock`): a plane-strain block (rubber; or a metal, below) of width :math:`W` and
height :math:`H` (out-of-plane depth :math:`t`), bonded to two rigid plates (no slip: infinite friction). The
bottom plate is held, the top plate is moved by a prescribed displacement :math:`(\bar u_x, \bar u_y)` (shear
and compression at once, as in a bearing test). The bonded faces cannot expand laterally, so the free faces bulge
and the strain is far from homogeneous. Bilinear quadrilaterals (scikit-fem ``ElementQuad1``, 2x2 Gauss points),
total Lagrangian: at every quadrature point the plane-strain deformation gradient
:math:`F = \begin{bmatrix} I_2 + \nabla_X u & 0 \\ 0 & 1\end{bmatrix}` goes to the model, batched over all points
at once, and the in-plane blocks of :math:`P` and :math:`\mathbb A = \partial P/\partial F`
(``model.first_piola_and_elasticity``) are assembled by :mod:`constitutive.fem`. Units: the model's stress unit
(MPa) and the specimen's length unit (mm) give forces in N.

**The simulated curve.** At each record point :math:`k` the top plate is moved to :math:`\bar u_k` (``substeps``
load steps from the previous point, each a Newton iteration with a linear predictor, :func:`constitutive.fem.newton`)
and the reaction on the top plate is :math:`F_k = t\sum_{a\in\text{top}} f^{int}_a(u_k;\theta)`, the internal
force summed over the plate's nodes, per direction (``(n, 2)``: shear :math:`F_x`, normal :math:`F_y`).

**The gradient (implicit function theorem).** The free dofs satisfy :math:`r(u_f, \theta) = f^{int}_f(u_f, \bar
u_D; \theta) = 0` with the prescribed :math:`\bar u_D` independent of :math:`\theta`; differentiating at the
converged state,

.. math::

   K_{ff}\,\frac{\mathrm du_f}{\mathrm d\theta} = -\frac{\partial f^{int}_f}{\partial\theta},\qquad
   \frac{\mathrm dF_k}{\mathrm d\theta} = t\, s^T\Big(\frac{\partial f^{int}}{\partial\theta}
   + K_{:f}\frac{\mathrm du_f}{\mathrm d\theta}\Big),
   \qquad \frac{\partial f^{int}}{\partial\theta_j} = \int_\Omega \frac{\partial P}{\partial\theta_j} :
   \nabla_X\delta u\,\mathrm dV,

with :math:`K = \partial f^{int}/\partial u` the tangent stiffness at the converged state (assembled from
:math:`\mathbb A`), :math:`s` the 0/1 vector that sums the top-plate dofs of one direction, and
:math:`\partial P/\partial\theta` at every quadrature point by forward-mode automatic differentiation of the model
with respect to its parameters (``torch.func.jacfwd``, one pass for all points). One sparse LU factorisation of
:math:`K_{ff}` per record point serves all parameters. A hyperelastic response has no history, so the derivative
at each record point depends on that point's equilibrium alone; it is exact to the Newton tolerance (central
differences of the whole simulation agree to about 1e-10 relative, ``tests/test_inverse.py``).

**Path-dependent models** (small strain, ``update(strain, state)``, e.g. :class:`~constitutive.models.J2Plasticity`):
plane strain :math:`\varepsilon = \operatorname{sym}\nabla_X u` (:math:`\varepsilon_{33} = 0`), the stress
:math:`\sigma` and the consistent tangent in place of :math:`P` and :math:`\mathbb A`; the state of every
quadrature point is replaced only when a load step has converged. The force now depends on the history, so the
derivative :math:`\dot s_n = \mathrm ds_n/\mathrm d\theta_j` of the state is carried from step to step: per
load step

.. math::

   K_{ff}\,\dot u_f = -\dot f_f,\quad \dot f = \int_\Omega \Big(\frac{\partial\sigma}{\partial\theta_j}
   + \frac{\partial\sigma}{\partial s_n}\dot s_n\Big) : \nabla_X\delta u\,\mathrm dV,\qquad
   \dot s_{n+1} = \frac{\partial s_{n+1}}{\partial\theta_j} + \frac{\partial s_{n+1}}{\partial s_n}\dot s_n
   + \frac{\partial s_{n+1}}{\partial\varepsilon} : \operatorname{sym}\nabla_X\dot u,

both brackets by forward-mode differentiation of ``model.update`` (``torch.func.jvp``), and the reaction's
derivative as above. This is the exact derivative of the discrete (load-stepped, backward-Euler) problem when the
update is a closed form -- J2 with linear isotropic and Prager kinematic hardening; a model whose return map
iterates (Voce, Swift, Armstrong--Frederick) is refused (``ValueError``), since differentiating its local
iterations is exact only at an exactly converged iterate. The forward simulation runs for any such model.

**The fit** (:func:`fit_inverse`): :func:`scipy.optimize.least_squares` (trust-region reflective, bounds from the
model's declared ranges unless given) on the residuals :math:`r = (F(\theta) - F^{data})/\sigma_c` (``sigma``
per channel, default 1), with the Jacobian :math:`\mathrm dF/\mathrm d\theta/\sigma_c` above. Standard errors from
:math:`s^2 (J^TJ)^{-1}`, :math:`s^2 = r\cdot r/(m - n)`, as :func:`constitutive.calibrate.calibrate` reports them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .calibrate.fit import _covariance
from .calibrate.parameters import _factory, _ParameterSpace
from .contracts import is_path_dependent
from .fem import assemble_residual, assemble_tangent, displacement_gradients, newton, require_skfem
from .models.base import Material
from .tensor import Tensor

__all__ = [
    "BondedBlock",
    "EquilibriumError",
    "BlockResponse",
    "block_response",
    "InverseProblem",
    "InverseResult",
    "fit_inverse",
    "plot_inverse",
]

#: The two force channels of the top plate, in the order of the last axis of ``forces``.
CHANNELS = ("F_x (shear)", "F_y (normal)")


class EquilibriumError(RuntimeError):
    """A load step of the FE model did not reach equilibrium (Newton did not converge, or the model refused an
    iterate, e.g. det F <= 0)."""


# --------------------------------------------------------------------------------------------------------------
# The specimen
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BondedBlock:
    r"""A plane-strain block :math:`[0, W]\times[0, H]` bonded to a fixed bottom plate and a moving top plate.

    ``width`` W, ``height`` H and ``depth`` t (out of plane; forces are per depth ``t``) in the length unit of the
    test (mm), ``nx`` x ``ny`` bilinear quadrilaterals. ``ValueError`` for a non-positive size or element count.
    """

    width: float = 2.0
    height: float = 1.0
    nx: int = 8
    ny: int = 4
    depth: float = 1.0

    def __post_init__(self) -> None:
        for name in ("width", "height", "depth"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"BondedBlock.{name} must be a positive finite length, got {v!r}")
        for name in ("nx", "ny"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"BondedBlock.{name} must be a positive number of elements, got {v!r}")

    def discretise(self) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
        """``(basis, fixed_dofs, top_x, top_y)``: the scikit-fem vector basis (``basis.N`` dofs), every dof of both
        plates (bottom and top faces, all prescribed), and the top plate's x and y dofs."""
        skfem = require_skfem()
        mesh = skfem.MeshQuad.init_tensor(
            np.linspace(0.0, self.width, self.nx + 1), np.linspace(0.0, self.height, self.ny + 1)
        )
        basis = skfem.Basis(mesh, skfem.ElementVector(skfem.ElementQuad1()), intorder=3)  # 2x2 Gauss points
        bottom = basis.get_dofs(lambda X: np.isclose(X[1], 0.0))
        top = basis.get_dofs(lambda X: np.isclose(X[1], self.height))
        fixed = np.concatenate([bottom.all(), top.all()])
        return basis, fixed, np.asarray(top.nodal["u^1"]), np.asarray(top.nodal["u^2"])


def _plane_strain_F(H: Tensor) -> Tensor:
    """``(..., 2, 2)`` in-plane displacement gradient -> ``(..., 3, 3)`` deformation gradient with F33 = 1."""
    F = torch.zeros(*H.shape[:-2], 3, 3, dtype=H.dtype)
    F[..., :2, :2] = H
    return F + torch.eye(3, dtype=H.dtype)


def _plane_strain_eps(H: Tensor) -> Tensor:
    """``(..., 2, 2)`` in-plane displacement gradient -> ``(..., 3, 3)`` small strain with the out-of-plane
    components zero."""
    eps = torch.zeros(*H.shape[:-2], 3, 3, dtype=H.dtype)
    eps[..., :2, :2] = 0.5 * (H + H.transpose(-1, -2))
    return eps


def _history_sensitivities_exact(model: Material) -> bool:
    """Whether the model's ``update`` is a closed form (no local iteration), so that forward-mode differentiation
    through it is the exact derivative: J2 plasticity with linear isotropic (and Prager kinematic) hardening."""
    closed = getattr(model, "_linear_residual", None)
    return bool(callable(closed) and closed())


def _check_path(displacements: Any) -> np.ndarray:
    d = np.asarray(displacements, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] != 2 or d.shape[0] < 1:
        raise ValueError(f"displacements must be an (n, 2) array of top-plate (u_x, u_y) values, got shape {d.shape}")
    if not np.all(np.isfinite(d)):
        raise ValueError("displacements must be finite")
    return d


# --------------------------------------------------------------------------------------------------------------
# Forward solve and implicit-function sensitivities
# --------------------------------------------------------------------------------------------------------------


@dataclass
class BlockResponse:
    r"""The simulated test: ``forces`` ``(n, 2)`` the top-plate reaction :math:`(F_x, F_y)` at each record point
    (force the plate exerts on the block, times the depth), ``sensitivities`` ``(n, 2, p)`` their derivatives
    :math:`\mathrm dF/\mathrm d\theta` by the implicit-function theorem (``None`` when not asked for),
    ``fields`` ``(n, basis.N)`` the converged displacements, ``iterations`` the Newton iterations of each load step,
    ``ndofs`` / ``nfree`` the dof counts, ``seconds`` the wall time of the forward solve and of the sensitivities
    (``"forward"``, ``"sensitivities"``) and the process CPU time of each (``"forward_cpu"``,
    ``"sensitivities_cpu"``: the measure that a busy shared machine does not inflate)."""

    displacements: np.ndarray
    forces: np.ndarray
    sensitivities: np.ndarray | None
    fields: np.ndarray
    iterations: list[int]
    ndofs: int
    nfree: int
    seconds: dict[str, float]
    basis: Any = field(repr=False, default=None)
    #: The material state at every quadrature point after the last record point (path-dependent models; else None).
    state: dict[str, Tensor] | None = field(repr=False, default=None)


def _simulate(
    specimen: BondedBlock,
    model_of: Callable[[Tensor | None], Any],
    theta: Tensor | None,
    displacements: np.ndarray,
    *,
    substeps: int,
    rtol: float,
    max_iter: int,
) -> BlockResponse:
    """Load-step the block through ``displacements``; with ``theta`` also the force sensitivities (module docs)."""
    from scipy.sparse.linalg import splu

    basis, fixed, top_x, top_y = specimen.discretise()
    free = np.setdiff1d(np.arange(basis.N), fixed)
    with torch.no_grad():
        model: Any = model_of(None if theta is None else theta.detach())  # hyperelastic or path-dependent

    def routine(H: Tensor) -> tuple[Tensor, Tensor]:
        P, A = model.first_piola_and_elasticity(_plane_strain_F(H))
        return P[..., :2, :2], A[..., :2, :2, :2, :2]

    forces, sens, fields, iterations = [], [], [], []
    t_forward = t_sens = c_forward = c_sens = 0.0  # wall and CPU (process) seconds
    u = np.zeros(basis.N)
    previous = np.zeros(2)
    for k, target in enumerate(displacements):
        start, cpu = time.perf_counter(), time.process_time()
        for j in range(1, substeps + 1):
            plate = previous + (target - previous) * j / substeps
            values = np.zeros(basis.N)
            values[top_x], values[top_y] = plate[0], plate[1]
            result = newton(basis, u, fixed, values[fixed], routine, rtol=rtol, max_iter=max_iter)
            if not result.converged:
                why = result.failure or f"residuals {[f'{r:.2e}' for r in result.relative]}"
                raise EquilibriumError(
                    f"record point {k} (top plate at {plate.tolist()}), load step {j}/{substeps}: no equilibrium: "
                    f"{why}; use more substeps or a smaller displacement"
                )
            u = result.u
            iterations.append(len(result.residuals) - 1)
        previous = np.array(target, dtype=np.float64)
        H = displacement_gradients(basis, u)
        P, A = routine(H)
        f = assemble_residual(basis, P)
        forces.append(specimen.depth * np.array([f[top_x].sum(), f[top_y].sum()]))
        fields.append(u)
        t_forward += time.perf_counter() - start
        c_forward += time.process_time() - cpu
        if theta is None:
            continue
        start, cpu = time.perf_counter(), time.process_time()
        F3 = _plane_strain_F(H)
        # dP/dtheta at every quadrature point, (nel, nqp, 2, 2, p): forward mode, one pass for all points.
        dP = torch.func.jacfwd(lambda th, F=F3: model_of(th).first_piola(F)[..., :2, :2])(theta)
        df = np.stack([assemble_residual(basis, dP[..., j]) for j in range(theta.numel())], axis=-1)  # (N, p)
        K = assemble_tangent(basis, A).tocsr()
        du = -splu(K[free][:, free].tocsc()).solve(df[free])  # (nfree, p): du_f/dtheta
        total = df + K[:, free] @ du  # d f_int / d theta along the equilibrium, all dofs
        sens.append(specimen.depth * np.stack([total[top_x].sum(0), total[top_y].sum(0)]))
        t_sens += time.perf_counter() - start
        c_sens += time.process_time() - cpu
    return BlockResponse(
        displacements=displacements,
        forces=np.array(forces),
        sensitivities=None if theta is None else np.array(sens),
        fields=np.array(fields),
        iterations=iterations,
        ndofs=int(basis.N),
        nfree=int(free.size),
        seconds={"forward": t_forward, "sensitivities": t_sens, "forward_cpu": c_forward, "sensitivities_cpu": c_sens},
        basis=basis,
    )


def _simulate_history(
    specimen: BondedBlock,
    model_of: Callable[[Tensor | None], Any],
    theta: Tensor | None,
    displacements: np.ndarray,
    *,
    substeps: int,
    rtol: float,
    max_iter: int,
) -> BlockResponse:
    r"""Load-step the block with a small-strain path-dependent model (``update(eps, state)``), plane strain; with
    ``theta`` also the force sensitivities, propagated through the history (module docs, "Path-dependent models").

    Per load step n -> n+1, with the state derivative :math:`\dot s_n = \mathrm ds_n/\mathrm d\theta_j` carried
    at every quadrature point: the partial :math:`\partial\sigma/\partial\theta_j + \partial\sigma/\partial
    s_n\,\dot s_n` at fixed strain (one forward-mode pass, ``torch.func.jvp``), assembled into the right-hand side
    of :math:`K_{ff}\dot u_f = -\dot f_f`, then :math:`\dot s_{n+1}` from a second pass with the strain
    derivative :math:`\dot\varepsilon = \operatorname{sym}\nabla\dot u` included."""
    from scipy.sparse.linalg import splu

    basis, fixed, top_x, top_y = specimen.discretise()
    free = np.setdiff1d(np.arange(basis.N), fixed)
    with torch.no_grad():
        model: Any = model_of(None if theta is None else theta.detach())  # hyperelastic or path-dependent
    batch = (basis.mesh.t.shape[1], basis.X.shape[-1])
    held = {"state": model.initial_state(batch)}  # the converged state at the start of the step
    nparam = 0 if theta is None else theta.numel()
    dstate = {k: torch.zeros(*v.shape, nparam, dtype=v.dtype) for k, v in held["state"].items()}

    def routine(H: Tensor) -> tuple[Tensor, Tensor]:
        sigma, _, C = model.update(_plane_strain_eps(H), held["state"])
        return sigma[..., :2, :2], C[..., :2, :2, :2, :2]

    def step_map(eps: Tensor, th: Tensor, state: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        sigma, new, _ = model_of(th).update(eps, state, need_tangent=False)
        return sigma[..., :2, :2], new

    forces, sens, fields, iterations = [], [], [], []
    t_forward = t_sens = c_forward = c_sens = 0.0
    u = np.zeros(basis.N)
    previous = np.zeros(2)
    total = np.zeros((basis.N, nparam))
    for k, target in enumerate(displacements):
        for j in range(1, substeps + 1):
            start, cpu = time.perf_counter(), time.process_time()
            plate = previous + (np.asarray(target) - previous) * j / substeps
            values = np.zeros(basis.N)
            values[top_x], values[top_y] = plate[0], plate[1]
            result = newton(basis, u, fixed, values[fixed], routine, rtol=rtol, max_iter=max_iter)
            if not result.converged:
                why = result.failure or f"residuals {[f'{r:.2e}' for r in result.relative]}"
                raise EquilibriumError(
                    f"record point {k} (top plate at {plate.tolist()}), load step {j}/{substeps}: no equilibrium: "
                    f"{why}; use more substeps or a smaller displacement"
                )
            u = result.u
            iterations.append(len(result.residuals) - 1)
            eps = _plane_strain_eps(displacement_gradients(basis, u))
            sigma, new_state, C = model.update(eps, held["state"])
            t_forward += time.perf_counter() - start
            c_forward += time.process_time() - cpu
            if theta is not None:
                start, cpu = time.perf_counter(), time.process_time()
                unit = torch.eye(nparam, dtype=theta.dtype)
                zero = torch.zeros_like(eps)
                partial = [  # d sigma / d theta_j at fixed strain, through the parameters and the history
                    torch.func.jvp(
                        step_map,
                        (eps, theta, held["state"]),
                        (zero, unit[i], {key: v[..., i] for key, v in dstate.items()}),
                    )[1][0]
                    for i in range(nparam)
                ]
                df = np.stack([assemble_residual(basis, d) for d in partial], axis=-1)  # (N, p)
                K = assemble_tangent(basis, C[..., :2, :2, :2, :2]).tocsr()
                du = np.zeros((basis.N, nparam))
                du[free] = -splu(K[free][:, free].tocsc()).solve(df[free])
                total = df + K @ du  # d f_int / d theta along the equilibrium (du = 0 on the prescribed dofs)
                new_dstate = {key: torch.zeros_like(v) for key, v in dstate.items()}
                for i in range(nparam):
                    deps = _plane_strain_eps(displacement_gradients(basis, du[:, i]))
                    sdot = torch.func.jvp(
                        step_map,
                        (eps, theta, held["state"]),
                        (deps, unit[i], {key: v[..., i] for key, v in dstate.items()}),
                    )[1][1]
                    for key in new_dstate:
                        new_dstate[key][..., i] = sdot[key]
                dstate = new_dstate
                t_sens += time.perf_counter() - start
                c_sens += time.process_time() - cpu
            held["state"] = new_state
        previous = np.array(target, dtype=np.float64)
        f = assemble_residual(basis, sigma[..., :2, :2])
        forces.append(specimen.depth * np.array([f[top_x].sum(), f[top_y].sum()]))
        fields.append(u)
        if theta is not None:
            sens.append(specimen.depth * np.stack([total[top_x].sum(0), total[top_y].sum(0)]))
    return BlockResponse(
        displacements=displacements,
        forces=np.array(forces),
        sensitivities=None if theta is None else np.array(sens),
        fields=np.array(fields),
        iterations=iterations,
        ndofs=int(basis.N),
        nfree=int(free.size),
        seconds={"forward": t_forward, "sensitivities": t_sens, "forward_cpu": c_forward, "sensitivities_cpu": c_sens},
        basis=basis,
        state=held["state"],
    )


def _simulator(model: Material) -> Callable[..., BlockResponse]:
    """:func:`_simulate_history` for a path-dependent model, :func:`_simulate` for a hyperelastic one."""
    if is_path_dependent(model):
        return _simulate_history
    if hasattr(model, "first_piola_and_elasticity"):
        return _simulate
    raise ValueError(
        f"{type(model).__name__} is neither hyperelastic (first_piola_and_elasticity(F)) nor path-dependent "
        "(update(strain, state)): the block test needs one of them"
    )


def _check_solver(substeps: Any, rtol: Any, max_iter: Any) -> None:
    if isinstance(substeps, bool) or not isinstance(substeps, (int, np.integer)) or substeps < 1:
        raise ValueError(f"substeps must be a positive integer, got {substeps!r}")
    if not (isinstance(rtol, (int, float)) and math.isfinite(rtol) and 0 < rtol < 1):
        raise ValueError(f"rtol must be a number in (0, 1), got {rtol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")


def block_response(
    model: Material,
    displacements: Any,
    specimen: BondedBlock | None = None,
    *,
    substeps: int = 1,
    rtol: float = 1e-11,
    max_iter: int = 25,
) -> BlockResponse:
    """The simulated force curve of ``specimen`` (default :class:`BondedBlock()`) for a model with fixed parameters.

    Parameters
    ----------
    model:
        A compressible hyperelastic model (``first_piola_and_elasticity(F)``, finite strain) or a small-strain
        path-dependent one (``update(strain, state)``, e.g. ``J2Plasticity``).
    displacements:
        ``(n, 2)`` top-plate displacements :math:`(\\bar u_x, \\bar u_y)` at the record points, in loading order.
    specimen:
        The :class:`BondedBlock` (default size and mesh when ``None``).
    substeps:
        Load steps from one record point to the next (default 1).
    rtol, max_iter:
        Newton's relative tolerance (of :func:`constitutive.fem.newton`, default 1e-11) and iteration limit.

    Raises ``EquilibriumError`` when a load step finds no equilibrium, ``ValueError`` for bad input.
    """
    _check_solver(substeps, rtol, max_iter)
    return _simulator(model)(
        specimen or BondedBlock(),
        lambda _: model,
        None,
        _check_path(displacements),
        substeps=substeps,
        rtol=rtol,
        max_iter=max_iter,
    )


class InverseProblem:
    r"""The forward map :math:`\theta \mapsto F(\theta)` of a block test and its implicit-function Jacobian.

    The free parameters :math:`\theta` are the entries of ``initial`` not held ``fixed`` (labels ``"mu"`` or
    ``"mu[1]"`` as in :func:`constitutive.calibrate.calibrate`); the model is rebuilt from :math:`\theta` as
    ``model(**params, **options, dtype=float64)`` (a class, a registered name, or a factory).

    Parameters
    ----------
    model:
        A :class:`Material` class (hyperelastic, or small-strain path-dependent), its registered name, or a factory
        ``make(**params)``.
    displacements:
        ``(n, 2)`` top-plate displacements at the record points.
    initial:
        Starting value of every parameter (free or held).
    specimen:
        The :class:`BondedBlock` (default when ``None``).
    fixed, bounds, options:
        As in :func:`constitutive.calibrate.calibrate`: held parameters, ``{label: (lower, upper)}`` (default: the
        model's declared ranges), constructor keywords that are not fitted.
    substeps, rtol, max_iter:
        Load stepping and Newton settings (see :func:`block_response`).
    """

    def __init__(
        self,
        model: type[Material] | str | Callable[..., Material],
        displacements: Any,
        initial: Mapping[str, Any],
        *,
        specimen: BondedBlock | None = None,
        fixed: Mapping[str, Any] | Iterable[str] | None = None,
        bounds: Mapping[str, Sequence[float]] | None = None,
        options: Mapping[str, Any] | None = None,
        substeps: int = 1,
        rtol: float = 1e-11,
        max_iter: int = 25,
    ) -> None:
        _check_solver(substeps, rtol, max_iter)
        if specimen is not None and not isinstance(specimen, BondedBlock):
            raise ValueError(f"specimen must be a BondedBlock, got {type(specimen).__name__}")
        self.specimen = specimen or BondedBlock()
        self.displacements = _check_path(displacements)
        self.space = _ParameterSpace(initial, fixed, bounds)
        self.make, self.model_name = _factory(model, dict(options or {}), torch.float64)
        self.substeps, self.rtol, self.max_iter = int(substeps), float(rtol), int(max_iter)
        self.x0 = self.space.x0()
        probe = self.model(self.x0)
        self._simulate = _simulator(probe)
        #: Whether the force sensitivities are exact: always for hyperelastic models; for path-dependent ones when
        #: the update is a closed form (J2 with linear isotropic / Prager hardening), so that the derivative
        #: propagated through the history is the derivative of the discrete problem.
        self.exact_sensitivities = self._simulate is _simulate or _history_sensitivities_exact(probe)
        self.space.apply_declared_bounds(probe)

    @property
    def labels(self) -> list[str]:
        """Labels of the free parameters, the order of :math:`\\theta`."""
        return self.space.labels

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lower, upper)`` of the free parameters (given, else the model's declared ranges)."""
        return self.space.bounds()

    def model(self, x: Any) -> Material:
        """The model at the free parameter values ``x`` ``(p,)``."""
        return self.make(**self.space.values(torch.as_tensor(np.asarray(x, dtype=np.float64))))

    def response(self, x: Any, *, sensitivities: bool = True) -> BlockResponse:
        """The simulated test at ``x`` ``(p,)``; with ``sensitivities`` also :math:`\\mathrm dF/\\mathrm d\\theta`
        ``(n, 2, p)`` by the implicit-function theorem."""
        theta = torch.as_tensor(np.array(x, dtype=np.float64))
        if theta.shape != (len(self.labels),):
            raise ValueError(
                f"x must hold the {len(self.labels)} free parameters {self.labels}, got {tuple(theta.shape)}"
            )
        if sensitivities and not self.exact_sensitivities:
            raise ValueError(
                f"{self.model_name}: force sensitivities through the history are exact only for a closed-form update "
                "(J2 plasticity with linear isotropic and Prager kinematic hardening); this model iterates locally"
            )

        def model_of(th: Tensor | None) -> Material:
            return self.make(**self.space.values(theta if th is None else th))

        return self._simulate(
            self.specimen,
            model_of,
            theta if sensitivities else None,
            self.displacements,
            substeps=self.substeps,
            rtol=self.rtol,
            max_iter=self.max_iter,
        )


# --------------------------------------------------------------------------------------------------------------
# The fit
# --------------------------------------------------------------------------------------------------------------


@dataclass
class InverseResult:
    r"""What :func:`fit_inverse` found: ``parameters`` (every parameter, plain numbers), ``free`` / ``x`` (the
    fitted labels and values), ``standard_errors`` / ``covariance`` / ``correlation`` from :math:`s^2(J^TJ)^{-1}`
    with the residuals' own :math:`s^2 = r\cdot r/(m - n)`, ``standard_errors_sigma`` from :math:`(J^TJ)^{-1}` (the
    residuals are divided by ``sigma``, so these hold when ``sigma`` is the true noise level of each channel),
    ``forces`` ``(n, 2)`` the fitted curve, ``data`` ``(n, 2)`` the measured one, ``rms`` per channel (force
    units), ``response`` the :class:`BlockResponse` at the fit, the optimiser's ``success``/``message``/``nfev``/
    ``njev``, ``rejected`` trial points without equilibrium, and the cost: ``seconds_per_evaluation`` (mean wall
    time of a forward solve and its sensitivities), ``elapsed_s`` (whole fit), ``ndofs``."""

    model: Material
    parameters: dict[str, float | list[float]]
    free: list[str]
    x: np.ndarray
    standard_errors: dict[str, float]
    standard_errors_sigma: dict[str, float]
    covariance: np.ndarray
    correlation: np.ndarray
    forces: np.ndarray
    data: np.ndarray
    rms: dict[str, float]
    response: BlockResponse
    success: bool
    message: str
    nfev: int
    njev: int
    rejected: int
    seconds_per_evaluation: dict[str, float]
    elapsed_s: float
    ndofs: int

    def report(self) -> str:
        """A markdown table of the fitted parameters with standard errors, the rms errors and the cost."""
        lines = ["| parameter | value | standard error | standard error (given sigma) |", "|---|---|---|---|"]
        for label, v in zip(self.free, self.x):
            se, ses = self.standard_errors[label], self.standard_errors_sigma[label]
            lines.append(f"| {label} | {v:.6g} | {se:.3g} | {ses:.3g} |")
        lines.append("")
        lines.append("rms error: " + ", ".join(f"{k} {v:.3g}" for k, v in self.rms.items()))
        s = self.seconds_per_evaluation
        lines.append(
            f"{self.nfev} evaluations, {self.njev} Jacobians, {self.ndofs} dofs; one forward solve "
            f"{s['forward']:.3f} s + sensitivities {s['sensitivities']:.3f} s (CPU {s['forward_cpu']:.3f} s + "
            f"{s['sensitivities_cpu']:.3f} s; {self.message})"
        )
        return "\n".join(lines)


def fit_inverse(
    model: type[Material] | str | Callable[..., Material],
    displacements: Any,
    forces: Any,
    initial: Mapping[str, Any],
    *,
    specimen: BondedBlock | None = None,
    fixed: Mapping[str, Any] | Iterable[str] | None = None,
    bounds: Mapping[str, Sequence[float]] | None = None,
    options: Mapping[str, Any] | None = None,
    sigma: float | Sequence[float] = 1.0,
    substeps: int = 1,
    max_nfev: int | None = 50,
    ftol: float = 1e-12,
    xtol: float = 1e-12,
    gtol: float = 1e-12,
) -> InverseResult:
    r"""Fit ``model``'s parameters to a measured top-plate force curve of a :class:`BondedBlock` test.

    Minimises :math:`\tfrac12\sum_{k,c} \big((F_{kc}(\theta) - F^{data}_{kc})/\sigma_c\big)^2` with
    :func:`scipy.optimize.least_squares` (``"trf"``, ``x_scale="jac"``) and the implicit-function Jacobian of
    :class:`InverseProblem` (no finite differences of the simulation).

    Parameters
    ----------
    model:
        A :class:`Material` class (hyperelastic, or small-strain path-dependent), its registered name, or a factory
        ``make(**params)``.
    displacements:
        ``(n, 2)`` top-plate displacements :math:`(\bar u_x, \bar u_y)` at the record points, in loading order.
    forces:
        ``(n, 2)`` measured reactions :math:`(F_x, F_y)` at those points (per the specimen's depth).
    initial:
        Starting value of every parameter (free or held).
    specimen:
        The :class:`BondedBlock` the data come from (default when ``None``).
    fixed, bounds, options:
        As in :func:`constitutive.calibrate.calibrate`.
    sigma:
        Scale of each channel's residual (a number or ``(sigma_x, sigma_y)``, positive; e.g. the noise level).
    substeps:
        Load steps between record points.
    max_nfev, ftol, xtol, gtol:
        Passed to :func:`scipy.optimize.least_squares`.

    A trial point without equilibrium gets a large constant residual (the trust region shrinks; counted in
    ``rejected``); the initial point must have one (else ``EquilibriumError``). ``ValueError`` for bad input.
    """
    from scipy.optimize import least_squares

    problem = InverseProblem(
        model, displacements, initial, specimen=specimen, fixed=fixed, bounds=bounds, options=options, substeps=substeps
    )
    if not problem.exact_sensitivities:
        problem.response(problem.x0)  # raises the ValueError that says why
    data = np.asarray(forces, dtype=np.float64)
    if data.shape != problem.displacements.shape:
        raise ValueError(f"forces must have the shape {problem.displacements.shape} of displacements, got {data.shape}")
    if not np.all(np.isfinite(data)):
        raise ValueError("forces must be finite")
    scale = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (2,)).copy()
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        raise ValueError(f"sigma must be positive and finite (one value or one per channel), got {sigma!r}")
    if max_nfev is not None and (isinstance(max_nfev, bool) or int(max_nfev) != max_nfev or max_nfev < 1):
        raise ValueError(f"max_nfev must be a positive integer (or None), got {max_nfev!r}")
    cache: dict[bytes, BlockResponse | None] = {}
    counters = {"nfev": 0, "njev": 0, "rejected": 0}
    timings: list[dict[str, float]] = []
    penalty = 1e6 * max(1.0, float(np.abs(data / scale).max()))

    def evaluate(x: np.ndarray) -> BlockResponse | None:
        key = np.asarray(x, dtype=np.float64).tobytes()
        if key not in cache:
            try:
                cache.clear()  # one point at a time: jac(x) follows fun(x)
                cache[key] = problem.response(x)
                timings.append(cache[key].seconds)  # type: ignore[union-attr]
            except (EquilibriumError, ValueError):
                cache[key] = None
        return cache[key]

    def fun(x: np.ndarray) -> np.ndarray:
        counters["nfev"] += 1
        out = evaluate(x)
        if out is None:
            counters["rejected"] += 1
            return np.full(data.size, penalty)
        return ((out.forces - data) / scale).ravel()

    def jac(x: np.ndarray) -> np.ndarray:
        counters["njev"] += 1
        out = evaluate(x)
        if out is None or out.sensitivities is None:  # pragma: no cover - scipy asks jac only at accepted points
            return np.zeros((data.size, x.size))
        return (out.sensitivities / scale[None, :, None]).reshape(data.size, x.size)

    x0 = problem.x0
    first = evaluate(x0)
    if first is None:
        problem.response(x0)  # raises the solver's (or the model's) own error for the user
    lower, upper = problem.bounds()
    start = time.perf_counter()
    sol = least_squares(
        fun, x0, jac=jac, bounds=(lower, upper), method="trf", ftol=ftol, xtol=xtol, gtol=gtol, x_scale="jac",
        max_nfev=max_nfev,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    final = evaluate(sol.x)
    if final is None:  # pragma: no cover - the solution is an accepted point
        raise EquilibriumError("the fitted parameters have no equilibrium")
    r = ((final.forces - data) / scale).ravel()
    J = jac(sol.x)
    counters["njev"] -= 1  # the statistics' Jacobian is not an optimiser call
    cov = _covariance(J, r, sol.x.size)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(se, se)
    mean = {k: float(np.median([t[k] for t in timings])) for k in timings[0]}
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = float(r @ r) / (r.size - sol.x.size) if r.size > sol.x.size else math.nan
        se_sigma = se / math.sqrt(s2)  # (J^T J)^{-1}: the covariance when sigma is the true noise level
    return InverseResult(
        model=problem.model(sol.x),
        parameters=problem.space.plain(sol.x),
        free=problem.labels,
        x=np.array(sol.x),
        standard_errors=dict(zip(problem.labels, (float(v) for v in se))),
        standard_errors_sigma=dict(zip(problem.labels, (float(v) for v in se_sigma))),
        covariance=cov,
        correlation=corr,
        forces=final.forces,
        data=data,
        rms={c: float(np.sqrt(np.mean((final.forces[:, i] - data[:, i]) ** 2))) for i, c in enumerate(CHANNELS)},
        response=final,
        success=bool(sol.success),
        message=str(sol.message),
        nfev=counters["nfev"],
        njev=counters["njev"],
        rejected=counters["rejected"],
        seconds_per_evaluation=mean,
        elapsed_s=elapsed,
        ndofs=final.ndofs,
    )


# --------------------------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------------------------


def plot_inverse(
    result: InverseResult, path: Any, *, model: Material | None = None, title: str = "", overwrite: bool = False
) -> Any:
    """Figure of a fit: the deformed block at the last record point (coloured by the element mean of the nominal
    normal stress :math:`P_{yy}` of ``model``, default the fitted one; for a path-dependent model by the
    equivalent plastic strain of the final state; small displacements magnified by a stated power of ten) and the
    two force channels against their plate displacements, data (markers) and fit (lines). Writes ``path`` (Agg
    backend; atomically, over an existing file only with ``overwrite=True``) and returns it.

    Parameters
    ----------
    result:
        The :class:`InverseResult` of :func:`fit_inverse`.
    path:
        The image file to write (its suffix selects the format).
    model:
        The model whose stress colours the block (default ``result.model``, the fitted one).
    title:
        A figure title (none by default).
    overwrite:
        Replace an existing file (default ``False``: ``OutputExistsError``).
    """
    import matplotlib

    from .fileio import atomic_path, check_writable

    check_writable(path, overwrite=overwrite)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    response = result.response
    basis = response.basis
    model = model if model is not None else result.model
    shown: Any = model  # a hyperelastic model when no state is plotted
    u = response.fields[-1]
    mesh = basis.mesh
    size = float(np.ptp(mesh.p, axis=1).max())
    umax = float(np.abs(u).max())
    magnify = 1.0 if umax >= 0.05 * size or umax == 0 else 10 ** np.floor(np.log10(0.1 * size / umax))
    x = mesh.p + magnify * u[basis.nodal_dofs]  # deformed node positions (2, n_nodes)
    if response.state is not None and "alpha" in response.state:  # path-dependent: the plastic zone
        values = response.state["alpha"].mean(-1).numpy()
        colour = r"equivalent plastic strain $\alpha$"
    else:
        with torch.no_grad():
            P = shown.first_piola(_plane_strain_F(displacement_gradients(basis, u)))
        values = P[..., 1, 1].mean(-1).numpy()
        colour = r"nominal stress $P_{yy}$"
    fig, axes = plt.subplots(1, 3, figsize=(13.0, 3.9), gridspec_kw={"width_ratios": [1.5, 1.0, 1.0]})
    ax = axes[0]
    polys = PolyCollection(np.moveaxis(x[:, mesh.t], 0, -1).transpose(1, 0, 2), cmap="viridis", edgecolor="k", lw=0.4)
    polys.set_array(values)
    ax.add_collection(polys)
    (x0, y0), (x1, y1) = mesh.p.min(1), mesh.p.max(1)
    ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], "--", color="0.5", lw=0.8)  # the undeformed block
    ax.set_aspect("equal")
    ax.autoscale_view()
    fig.colorbar(polys, ax=ax, label=colour, shrink=0.8)
    d = response.displacements
    scaled = "" if magnify == 1 else f", displacements x {magnify:g}"
    last = d[-1] + 0.0  # no "-0"
    ax.set_title(f"plate at ({last[0]:.3g}, {last[1]:.3g}){scaled}; element means", fontsize=9)
    for ax, c, label in ((axes[1], 1, "normal"), (axes[2], 0, "shear")):
        sign = -1.0 if c == 1 else 1.0  # compression plotted positive
        ax.plot(sign * d[:, c], sign * result.data[:, c], "o", ms=4, label="data")
        ax.plot(sign * d[:, c], sign * result.forces[:, c], "-", marker=".", ms=3, label="fit")
        ax.set_xlabel(("-u_y" if c == 1 else "u_x") + " (top plate)")
        ax.set_ylabel(("-F_y" if c == 1 else "F_x") + f" ({label} force)")
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            fig.savefig(tmp, dpi=110)
    finally:
        plt.close(fig)
    return path
