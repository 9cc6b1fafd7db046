r"""Kinematics adaptors of the driver: the internal component vectors of a step and the model evaluators.

Small strain (:class:`SmallStrain`): strain and stress as Mandel 6-vectors (orthonormal, so the residual norm is the
Frobenius norm of the stress error), the tangent as the Mandel 6x6 matrix. Finite strain (:class:`FiniteStrain`):
F and P as 9-vectors in :data:`constitutive.paths.FINITE_COMPONENTS` order, the tangent the 9x9 block of
:math:`\mathbb A = \partial P/\partial F` (no symmetry, no factors).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import torch

from ..contracts import (
    FiniteHistoryModel,
    FirstPiolaModel,
    PathDependentModel,
    SmallStrainModel,
    StressTangentMap,
    require,
)
from ..notation import to_mandel
from ..paths import FINITE_COMPONENTS
from ..tensor import Tensor

#: Replacement Newton tangent ``tangent(strain, state_n, dt) -> (..., 3, 3, 3, 3)`` (small strain only), e.g.
#: ``J2Plasticity.continuum_tangent`` to show the loss of quadratic convergence; ``state_n`` is the state at the
#: start of the step (``None`` for models without history).
TangentFn = Callable[[Tensor, Mapping[str, Tensor] | None, float], Tensor]


class SmallStrain:
    """Small strain (or any symmetric strain/stress pair): Mandel vectors, textbook Voigt order.

    The conversions inside Newton iterations are gathers with the Mandel weights (√2 on shear slots), the same
    formulas as :func:`constitutive.notation.to_mandel` / ``from_mandel`` (the symmetric part, projected) without
    their input checks, which would otherwise dominate the driver's cost (``docs/performance.md``). The checks run
    where they mean something: :meth:`matrix` checks the tangent's minor symmetry with ``to_mandel`` while
    :attr:`strict` is set -- on the first evaluation of every segment (the driver sets it at each segment start) --
    and the Newton step checks the finiteness of every stress and tangent."""

    kind = "small"
    n = 6
    names = ("strain", "stress")

    def __init__(self, dtype: torch.dtype, device: torch.device) -> None:
        self.pairs = FINITE_COMPONENTS[:6]
        self.dtype, self.device = dtype, device
        #: The next :meth:`matrix` call checks minor symmetry (then clears the flag).
        self.strict = True
        # The conversions as constant matrices (one small GEMM each, far faster than gathers on large batches):
        # vec: (9 -> 6) v_I = w_I (x_ij + x_ji) / 2; tensor: (6 -> 9) x_ij = v_I / w_I; matrix: (81 -> 36)
        # M_IJ = w_I w_J (C_ijkl + C_jikl + C_ijlk + C_jilk) / 4. Each output sums at most four non-zero products.
        # The batch is flattened first: a GEMM on a 2-D operand, not a batched matmul against a broadcast matrix.
        w = [1.0, 1.0, 1.0] + [2.0**0.5] * 3
        to_vec = torch.zeros(9, 6, dtype=torch.float64)
        to_tensor = torch.zeros(6, 9, dtype=torch.float64)
        to_matrix = torch.zeros(81, 36, dtype=torch.float64)
        for I, (i, j) in enumerate(self.pairs):
            for a in {3 * i + j, 3 * j + i}:
                to_vec[a, I] += 0.5 * w[I] * (2 if i == j else 1)
                to_tensor[I, a] = 1.0 / w[I]
            for J, (k, l) in enumerate(self.pairs):
                for r in (3 * i + j, 3 * j + i):
                    for c in (3 * k + l, 3 * l + k):
                        to_matrix[9 * r + c, 6 * I + J] += 0.25 * w[I] * w[J]
        self._maps = {"vec": to_vec, "tensor": to_tensor, "matrix": to_matrix}
        self._cache: dict[tuple[str, torch.dtype, torch.device], Tensor] = {}

    def _map(self, name: str, like: Tensor) -> Tensor:
        key = (name, like.dtype, like.device)
        if key not in self._cache:
            self._cache[key] = self._maps[name].to(dtype=like.dtype, device=like.device)
        return self._cache[key]

    def reference(self, batch: torch.Size) -> Tensor:
        return torch.zeros(*batch, 6, dtype=self.dtype, device=self.device)

    def vec(self, x: Tensor, quantity: str) -> Tensor:
        """``(..., 3, 3)`` -> Mandel ``(..., 6)``: :math:`v_I = w_I (x_{ij} + x_{ji})/2`."""
        return (x.reshape(-1, 9) @ self._map("vec", x)).reshape(*x.shape[:-2], 6)

    def tensor(self, v: Tensor, quantity: str) -> Tensor:
        """Mandel ``(..., 6)`` -> symmetric ``(..., 3, 3)``: :math:`x_{ij} = v_I / w_I`."""
        return (v.reshape(-1, 6) @ self._map("tensor", v)).reshape(*v.shape[:-1], 3, 3)

    def matrix(self, C: Tensor) -> Tensor:
        """``(..., 3, 3, 3, 3)`` -> Mandel ``(..., 6, 6)``: :math:`M_{IJ} = w_I w_J` times the average of
        :math:`C_{ijkl}` over the minor-symmetric index swaps (the projection ``to_mandel`` computes); the minor
        symmetry itself is checked (``ValueError``) while :attr:`strict` is set."""
        if self.strict:
            self.strict = False
            return to_mandel(C, "stiffness")
        return (C.reshape(-1, 81) @ self._map("matrix", C)).reshape(*C.shape[:-4], 6, 6)

    def from_components(self, values: Tensor, quantity: str) -> Tensor:
        """Tensor components ``(..., 6)`` (label order) -> internal Mandel vector of ``quantity``."""
        t = torch.zeros(*values.shape[:-1], 3, 3, dtype=values.dtype, device=values.device)
        for I, (i, j) in enumerate(self.pairs):
            t[..., i, j] = values[..., I]
            t[..., j, i] = values[..., I]
        return to_mandel(t, quantity)

    def components(self, x: Tensor) -> Tensor:
        """Full tensors ``(..., 3, 3)`` -> tensor components ``(..., 6)`` in label order."""
        return torch.stack([x[..., i, j] for i, j in self.pairs], dim=-1)


class FiniteStrain:
    """Finite strain: the nine components of F and P (no symmetry, no factors)."""

    kind = "finite"
    n = 9
    names = ("F", "P")
    #: Unused: the 9x9 block of 𝔸 has no symmetry to check (kept for the driver's per-segment reset).
    strict = True

    def __init__(self, dtype: torch.dtype, device: torch.device) -> None:
        self.pairs = FINITE_COMPONENTS
        self.rows = torch.tensor([i for i, _ in self.pairs], device=device)
        self.cols = torch.tensor([j for _, j in self.pairs], device=device)
        self.dtype, self.device = dtype, device

    def reference(self, batch: torch.Size) -> Tensor:
        eye = torch.eye(3, dtype=self.dtype, device=self.device).expand(*batch, 3, 3)
        return self.components(eye)

    def vec(self, x: Tensor, quantity: str) -> Tensor:
        return self.components(x)

    def tensor(self, v: Tensor, quantity: str) -> Tensor:
        t = torch.zeros(*v.shape[:-1], 3, 3, dtype=v.dtype, device=v.device)
        t[..., self.rows, self.cols] = v
        return t

    def matrix(self, A: Tensor) -> Tensor:
        r, c = self.rows, self.cols
        return A[..., r[:, None], c[:, None], r[None, :], c[None, :]]

    def from_components(self, values: Tensor, quantity: str) -> Tensor:
        return values

    def components(self, x: Tensor) -> Tensor:
        return x[..., self.rows, self.cols]


def finite_history(model: Any) -> bool:
    """Whether ``model`` carries a history along F-controlled paths: a path-dependent model (``initial_state``) that
    offers ``first_piola_update(F, state, dt) -> (P, new_state, A)`` (e.g. a finite-strain UMAT). Others are
    evaluated at F from the virgin state (exact for hyperelastic models)."""
    return isinstance(model, FiniteHistoryModel)


def model_evaluator(model: Any, kin: SmallStrain | FiniteStrain, tangent: TangentFn | str | None) -> Callable[..., Any]:
    """``evaluate(x_vec, state_n, dt) -> (y_vec, new_state, K)`` for this model and kinematics."""
    replacement: TangentFn | None
    if tangent is None or tangent == "consistent":
        replacement = None
    elif tangent == "continuum":
        if not hasattr(model, "continuum_tangent"):
            raise ValueError(f"{type(model).__name__} has no continuum_tangent")
        replacement = model.continuum_tangent
    elif isinstance(tangent, str):
        raise ValueError(f"tangent must be 'consistent', 'continuum' or a callable, got {tangent!r}")
    else:
        replacement = tangent
    if kin.kind == "finite":
        require(model, FirstPiolaModel, "a finite-strain path", ValueError)
        if replacement is not None:
            raise ValueError("a replacement tangent is supported on small-strain paths only")
        if getattr(model, "finite_strain", True) is False:
            raise ValueError(
                f"a finite-strain path needs a finite-strain model; this {type(model).__name__} was built with "
                "finite_strain=False (drive it on a small-strain path, or build it with finite_strain=True)"
            )
        if finite_history(model):

            def evaluate_finite_history(
                x: Tensor, state: Any, dt: float, temperature: Tensor | None = None
            ) -> tuple[Tensor, Any, Tensor]:
                F = kin.tensor(x, "F")
                if bool((torch.linalg.det(F) <= 0).any()):
                    raise ValueError("the Newton iterate has det F <= 0 (the step is too large for the material)")
                P, new_state, A = model.first_piola_update(F, state, dt)
                return kin.vec(P, "P"), new_state, kin.matrix(A)

            return evaluate_finite_history

        def evaluate_finite(
            x: Tensor, state: Any, dt: float, temperature: Tensor | None = None
        ) -> tuple[Tensor, Any, Tensor]:
            F = kin.tensor(x, "F")
            if bool((torch.linalg.det(F) <= 0).any()):
                raise ValueError("the Newton iterate has det F <= 0 (the step is too large for the material)")
            return kin.vec(model.first_piola(F), "P"), None, kin.matrix(model.first_elasticity(F))

        return evaluate_finite
    if isinstance(model, PathDependentModel):

        def evaluate_history(
            x: Tensor, state: Any, dt: float, temperature: Tensor | None = None
        ) -> tuple[Tensor, Any, Tensor]:
            eps = kin.tensor(x, "strain")
            if temperature is None:
                sig, new_state, C = model.update(eps, state, dt)
            else:  # a temperature-dependent model (the temperature contract): T_{n+1}; the state carries T_n
                sig, new_state, C = cast(Any, model).update(eps, state, dt, temperature=temperature)
            if replacement is not None:
                C = replacement(eps, state, dt)
            return kin.vec(sig, "stress"), new_state, kin.matrix(C)

        return evaluate_history
    if isinstance(model, StressTangentMap):
        both = isinstance(model, SmallStrainModel)  # stress_and_tangent: one evaluation

        def evaluate_elastic(
            x: Tensor, state: Any, dt: float, temperature: Tensor | None = None
        ) -> tuple[Tensor, Any, Tensor]:
            eps = kin.tensor(x, "strain")
            if both:
                sig, C = cast(SmallStrainModel, model).stress_and_tangent(eps)
            else:
                sig, C = model.stress(eps), model.tangent(eps)
            if replacement is not None:
                C = replacement(eps, None, dt)
            return kin.vec(sig, "stress"), None, kin.matrix(C)

        return evaluate_elastic
    raise ValueError(f"cannot drive a {type(model).__name__}: it is neither a Material nor has stress/tangent")


#: ``state -> state``: a change of the state's form (e.g. tensor <-> Mandel vectors).
StateMap = Callable[[Any], Any]


def mandel_route(
    model: Any, kin: SmallStrain | FiniteStrain, tangent: TangentFn | str | None
) -> tuple[Callable[..., Any], StateMap, StateMap] | None:
    """The Mandel-native route of a model that offers one, for the driver's non-differentiable Newton iterations:
    ``(evaluate, to_internal, to_record)`` or ``None``.

    A path-dependent model with ``update_mandel(strain6, state6, dt) -> (stress6, new_state6, C66)`` (Mandel vectors
    and matrix in the textbook Voigt order, the driver's own) and ``state_to_mandel`` / ``state_from_mandel``
    (e.g. :class:`~constitutive.models.plasticity.J2Plasticity`, whose in-place kernel runs there) is evaluated
    without any tensor conversion; the driver holds its state in the Mandel form (``to_internal``) and records it in
    the tensor form (``to_record``). The call runs under :func:`torch.no_grad` -- the driver's results are detached
    in this mode anyway -- so the kernel is taken whether or not the parameters require grad (the same numbers
    either way). Not for a replacement tangent, finite strain or temperature-dependent models."""
    if kin.kind != "small" or tangent not in (None, "consistent") or getattr(model, "temperature_dependent", False):
        return None
    names = ("update_mandel", "state_to_mandel", "state_from_mandel")
    if not isinstance(model, PathDependentModel) or not all(callable(getattr(model, n, None)) for n in names):
        return None
    mandel: Any = model  # duck-typed: the three methods above
    probe = model.initial_state(())
    if set(mandel.state_from_mandel(mandel.state_to_mandel(probe))) != set(probe):
        return None  # the Mandel form would not carry the whole state

    def evaluate_mandel(
        x: Tensor, state: Any, dt: float, temperature: Tensor | None = None
    ) -> tuple[Tensor, Any, Tensor]:
        with torch.no_grad():
            return mandel.update_mandel(x, state, dt)

    return evaluate_mandel, mandel.state_to_mandel, mandel.state_from_mandel
