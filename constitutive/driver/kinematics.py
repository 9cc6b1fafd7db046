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
from ..notation import from_mandel, to_mandel
from ..paths import FINITE_COMPONENTS
from ..tensor import Tensor

#: Replacement Newton tangent ``tangent(strain, state_n, dt) -> (..., 3, 3, 3, 3)`` (small strain only), e.g.
#: ``J2Plasticity.continuum_tangent`` to show the loss of quadratic convergence; ``state_n`` is the state at the
#: start of the step (``None`` for models without history).
TangentFn = Callable[[Tensor, Mapping[str, Tensor] | None, float], Tensor]


class SmallStrain:
    """Small strain (or any symmetric strain/stress pair): Mandel vectors, textbook Voigt order."""

    kind = "small"
    n = 6
    names = ("strain", "stress")

    def __init__(self, dtype: torch.dtype, device: torch.device) -> None:
        self.pairs = FINITE_COMPONENTS[:6]
        self.dtype, self.device = dtype, device

    def reference(self, batch: torch.Size) -> Tensor:
        return torch.zeros(*batch, 6, dtype=self.dtype, device=self.device)

    def vec(self, x: Tensor, quantity: str) -> Tensor:
        return to_mandel(x, quantity)

    def tensor(self, v: Tensor, quantity: str) -> Tensor:
        return from_mandel(v, quantity)

    def matrix(self, C: Tensor) -> Tensor:
        return to_mandel(C, "stiffness")

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
                sig, new_state, C = model.update(eps, state, dt, temperature=temperature)
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
