r"""Derivatives of maps on symmetric tensors, in explicit, named conventions.

Autograd sees a ``(3, 3)`` tensor as nine independent numbers. A strain is symmetric, so "the derivative with
respect to the strain" needs a convention (see ``docs/symmetric-derivatives.md``). With
:math:`J_{ijkl} = \partial f_{ij} / \partial X_{kl}` the raw nine-by-nine derivative:

* ``"symmetric"`` (default): the derivative on the space Sym of symmetric tensors,
  :math:`C = J : \mathbb{I}^s`, i.e. :math:`C_{ijkl} = \tfrac12 (J_{ijkl} + J_{ijlk})`. Minor-symmetric in kl
  (and in ij when f is symmetric-valued), it satisfies :math:`\mathrm{d}f = C : \mathrm{d}X` for every symmetric
  increment. This is the consistent tangent FE codes want; its Voigt matrix (engineering shear strain) is
  :math:`C_{IJ} = C_{ijkl}` without factors.
* ``"components"``: the derivative with respect to the six independent components, :math:`X_{12}` and
  :math:`X_{21}` moved together: :math:`C^c_{ijkl} = J_{ijkl} + J_{ijlk}` for :math:`k \ne l` and :math:`J_{ijkk}`
  on the diagonal -- the symmetric tangent with off-diagonal columns doubled. As a matrix it is the Voigt
  stiffness times diag(1, 1, 1, 2, 2, 2), the stiffness against *tensorial* shear strain. It is not a fourth-order
  tangent (contracting it with a symmetric increment double-counts shear) and must not be handed to an FE code.
* ``"full"``: :math:`J` itself, for comparison.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import grad, jacfwd, jacrev, vmap

from .notation import to_notation
from .tensor import Tensor, TensorLike, as_tensor, check_finite, check_shape, check_symmetric

__all__ = ["CONVENTIONS", "jacobian", "hessian", "apply_convention"]

CONVENTIONS = ("symmetric", "components", "full")


def apply_convention(J: Tensor, convention: str) -> Tensor:
    """Turn the raw derivative ``J`` ``(..., 3, 3, 3, 3)`` (w.r.t. nine independent entries) into ``convention``."""
    if convention == "full":
        return J
    sym = 0.5 * (J + J.transpose(-1, -2))
    if convention == "symmetric":
        return sym
    if convention == "components":
        off = 2.0 - torch.eye(3, dtype=J.dtype, device=J.device)  # 1 on the diagonal, 2 off it
        return sym * off
    raise ValueError(f"unknown convention {convention!r}; choose one of {CONVENTIONS}")


def _flatten(x: Tensor) -> tuple[Tensor, torch.Size]:
    batch = x.shape[:-2]
    return x.reshape(-1, 3, 3), batch


def jacobian(
    fn: Callable[[Tensor], Tensor],
    x: TensorLike,
    convention: str = "symmetric",
    *,
    notation: str | None = None,
    order: str = "voigt",
    mode: str = "forward",
    chunk_size: int | None = None,
    return_value: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    r"""Derivative of ``fn`` at ``x`` in a named convention, batched by ``torch.func.vmap``.

    Parameters
    ----------
    fn:
        Maps a ``(3, 3)`` tensor to a ``(3, 3)`` tensor; it is called under ``vmap``, point by point, so it must
        work on unbatched input (every function of this package does). Differentiable by ``torch.func``.
    x:
        ``(..., 3, 3)`` points; symmetric for the 'symmetric' and 'components' conventions.
    convention:
        'symmetric' (default), 'components' or 'full' (see the module docstring).
    notation, order:
        ``None`` returns ``(..., 3, 3, 3, 3)``. 'voigt' or 'mandel' returns the ``(..., 6, 6)`` stiffness matrix in
        that notation and component order (``convention='symmetric'`` only; use :func:`constitutive.notation.to_voigt`
        rules: Voigt stiffness has no factors and pairs with engineering shear strain).
    mode:
        'forward' (``jacfwd``: nine JVPs, the cheaper choice for square 9x9 Jacobians) or 'reverse' (``jacrev``,
        for functions without forward-mode support).
    chunk_size:
        passed to ``vmap`` to bound memory for very large batches.
    return_value:
        also return ``fn(x)`` ``(..., 3, 3)``, computed in the same pass.
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; choose one of {CONVENTIONS}")
    x = as_tensor(x)
    check_shape(x, (3, 3), "x")
    check_finite(x, "x")
    if convention != "full":
        check_symmetric(x, "x (the point of differentiation)")
    if notation is not None and convention != "symmetric":
        raise ValueError("a Voigt or Mandel matrix is defined for the 'symmetric' convention only")

    def with_aux(xi: Tensor) -> tuple[Tensor, Tensor]:
        y = fn(xi)
        if not isinstance(y, Tensor) or y.shape != (3, 3):
            shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
            raise ValueError(f"fn must map a (3, 3) tensor to a (3, 3) tensor, got output {shape}")
        return y, y

    if mode == "forward":
        jac = jacfwd(with_aux, has_aux=True)
    elif mode == "reverse":
        jac = jacrev(with_aux, has_aux=True)
    else:
        raise ValueError(f"unknown mode {mode!r}; choose 'forward' or 'reverse'")
    flat, batch = _flatten(x)
    J, y = vmap(jac, chunk_size=chunk_size)(flat)
    J = J.reshape(*batch, 3, 3, 3, 3)
    y = y.reshape(*batch, 3, 3)
    check_finite(y, "fn(x)")
    check_finite(J, "the derivative of fn")
    C = apply_convention(J, convention)
    if notation is not None:
        C = to_notation(C, "stiffness", notation, order)
    return (C, y) if return_value else C


def hessian(
    psi: Callable[[Tensor], Tensor],
    x: TensorLike,
    *,
    notation: str | None = None,
    order: str = "voigt",
    chunk_size: int | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Gradient and second derivative of a scalar energy :math:`\psi` on symmetric tensors, in one pass.

    ``psi`` maps a ``(3, 3)`` tensor to a scalar (called under ``vmap``); ``x`` is ``(..., 3, 3)`` symmetric.
    Returns ``(stress, tangent)``: :math:`\partial\psi/\partial X` on Sym, ``(..., 3, 3)`` (symmetric), and
    :math:`\partial^2\psi/\partial X \partial X` on Sym, ``(..., 3, 3, 3, 3)`` -- minor- and major-symmetric. With
    ``notation`` the stress comes back as a Voigt/Mandel stress vector and the tangent as the stiffness matrix.
    For a hyperelastic energy :math:`\psi(E)` this gives :math:`S` and :math:`\mathrm{d}S/\mathrm{d}E`.
    """
    x = as_tensor(x)
    check_shape(x, (3, 3), "x")
    check_finite(x, "x")
    check_symmetric(x, "x (the point of differentiation)")

    def scalar_psi(xi: Tensor) -> Tensor:
        value = psi(xi)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise ValueError("psi must map a (3, 3) tensor to a scalar")
        return value.reshape(())

    def gradient(xi: Tensor) -> tuple[Tensor, Tensor]:
        g = grad(scalar_psi)(xi)
        g = 0.5 * (g + g.transpose(-1, -2))
        return g, g

    flat, batch = _flatten(x)
    H, g = vmap(jacfwd(gradient, has_aux=True), chunk_size=chunk_size)(flat)
    stress = g.reshape(*batch, 3, 3)
    C = apply_convention(H.reshape(*batch, 3, 3, 3, 3), "symmetric")
    check_finite(stress, "the gradient of psi")
    check_finite(C, "the second derivative of psi")
    if notation is not None:
        return to_notation(stress, "stress", notation, order), to_notation(C, "stiffness", notation, order)
    return stress, C
