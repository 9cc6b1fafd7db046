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

Six-parameter (lower-triangular) representation: a symmetric tensor built from six numbers
:math:`p = (X_{11}, X_{22}, X_{33}, X_{23}, X_{13}, X_{12})` (any component order of :mod:`constitutive.notation`;
tensor components, no shear factors; :func:`symmetric_from_parameters`), or from the lower triangle of a ``(3, 3)``
array, :math:`X = L + L^T - \operatorname{diag} L` (:func:`symmetric_from_lower`). Differentiating through either
builder gives :math:`\partial Y_I / \partial p_J`, the ``"components"`` convention as a 6x6 matrix
(:func:`parameter_jacobian`): the derivative with respect to a lower-triangle entry moves the mirrored upper entry
too. In matrix form (``jacobian(..., "components", notation="voigt")``) it equals the Voigt stiffness times
diag(1, 1, 1, 2, 2, 2) -- the stiffness acting on *tensorial* shear strain -- and is not symmetric even when C is.
A Mandel matrix exists for ``"symmetric"`` only: the Mandel basis is orthonormal, so the Mandel matrix *is* the
derivative of the Mandel stress vector with respect to the Mandel strain vector.

Differentiation mode. The default route is reverse mode (``torch.func.jacrev`` under ``vmap``; reverse over
reverse for :func:`hessian`). Forward mode (``jacfwd``) is available but, in PyTorch up to at least 2.13, its
batching rules for ``torch.linalg.det`` and ``slogdet`` give wrong derivatives for every point but the first of a
batch of two or more (C1111 = 22615 instead of 14.7 for a neo-Hookean energy on five strains, the stress being
right), so a user function written with those would get a silently wrong tangent. Reverse mode is exact there and,
measured on two cores (``benchmarks/tangent.py``), as fast for Jacobians and about five times faster for Hessians.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import grad, jacfwd, jacrev, vmap

from .notation import from_notation, to_notation
from .tensor import Tensor, TensorLike, as_tensor, check_finite, check_shape, check_symmetric

__all__ = [
    "CONVENTIONS",
    "jacobian",
    "hessian",
    "apply_convention",
    "components_matrix",
    "symmetric_from_parameters",
    "parameters_from_symmetric",
    "symmetric_from_lower",
    "parameter_jacobian",
]

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


def _shear_factors(order: str, like: Tensor) -> Tensor:
    """(1, 1, 1, 2, 2, 2) in ``order``: the Voigt strain vector of the all-ones tensor (engineering vs tensorial
    shear), taken from the notation layer rather than written again."""
    ones = torch.ones(3, 3, dtype=like.real.dtype, device=like.device)
    return to_notation(ones, "strain", "voigt", order)


def components_matrix(C: TensorLike, convention: str = "symmetric", order: str = "voigt") -> Tensor:
    r"""The ``"components"`` 6x6 matrix :math:`M_{IJ} = \partial Y_I / \partial X_J` of a tangent.

    ``C`` ``(..., 3, 3, 3, 3)`` in ``convention`` ('symmetric' or 'components'; minor-symmetric). ``Y_I`` and
    ``X_J`` are the six tensor components (no shear factors) in ``order``. Equals the Voigt stiffness matrix times
    diag(1, 1, 1, 2, 2, 2): the stiffness acting on tensorial shear strain. Returns ``(..., 6, 6)``.
    """
    C = as_tensor(C)
    check_shape(C, (3, 3, 3, 3), "tangent")
    if convention == "components":
        C = C * (1.0 - 0.5 * (1.0 - torch.eye(3, dtype=C.real.dtype, device=C.device)))  # halve shear columns
    elif convention != "symmetric":
        raise ValueError(f"components_matrix needs a 'symmetric' or 'components' tangent, got {convention!r}")
    return to_notation(C, "stiffness", "voigt", order) * _shear_factors(order, C)


def symmetric_from_parameters(p: TensorLike, order: str = "voigt") -> Tensor:
    r"""Symmetric ``(..., 3, 3)`` tensor from its six independent components ``p`` ``(..., 6)`` in ``order``:
    :math:`X_{ij} = X_{ji} = p_I` (tensor components; no shear factor). Differentiable; its derivative with
    respect to ``p`` is the ``"components"`` convention."""
    # The 'stress' Voigt vector is exactly the list of tensor components (no factors): reuse its basis.
    return from_notation(p, "stress", "voigt", order)


def parameters_from_symmetric(X: TensorLike, order: str = "voigt") -> Tensor:
    """Inverse of :func:`symmetric_from_parameters`: the six components ``(..., 6)`` of symmetric ``X``."""
    return to_notation(X, "stress", "voigt", order)


def symmetric_from_lower(L: TensorLike) -> Tensor:
    r"""Symmetric tensor from the lower triangle of ``L`` ``(..., 3, 3)``: :math:`X = L + L^T - \operatorname{diag}
    L` (the strictly upper entries of ``L`` are ignored). Autograd through it gives, in the lower triangle, the
    ``"components"`` derivative and zeros above the diagonal."""
    L = as_tensor(L)
    check_shape(L, (3, 3), "L")
    low = torch.tril(L)
    return low + torch.tril(L, -1).transpose(-1, -2)


def parameter_jacobian(
    fn: Callable[[Tensor], Tensor],
    x: TensorLike,
    order: str = "voigt",
    *,
    mode: str = "reverse",
    chunk_size: int | None = None,
) -> Tensor:
    r"""Derivative of the six components of ``fn(X)`` with respect to the six parameters of ``X``,
    :math:`\partial Y_I / \partial p_J` ``(..., 6, 6)``, by AD through :func:`symmetric_from_parameters`.

    A second route to ``jacobian(fn, x, "components", notation="voigt", order=order)``, independent of
    :func:`apply_convention`.

    Parameters
    ----------
    fn:
        Maps a ``(3, 3)`` tensor to a ``(3, 3)`` tensor (called under ``vmap``, as in :func:`jacobian`).
    x:
        ``(..., 3, 3)`` symmetric (or ``(..., 6)`` parameters).
    order:
        The component order of the six components and parameters (default 'voigt').
    mode:
        'reverse' (default) or 'forward' (see the module docstring on forward mode and ``torch.linalg.det``).
    chunk_size:
        Passed to ``vmap`` to bound memory for very large batches.
    """
    if mode not in ("forward", "reverse"):
        raise ValueError(f"unknown mode {mode!r}; choose 'forward' or 'reverse'")
    x = as_tensor(x)
    p = x if x.shape[-1:] == (6,) and x.ndim >= 1 and x.shape[-2:] != (3, 3) else None
    if p is None:
        check_shape(x, (3, 3), "x")
        check_finite(x, "x")
        check_symmetric(x, "x (the point of differentiation)")
        p = parameters_from_symmetric(x, order)
    check_finite(p, "parameters")

    def g(pi: Tensor) -> Tensor:
        y = fn(symmetric_from_parameters(pi, order))
        return parameters_from_symmetric(y, order)

    jac = jacfwd(g) if mode == "forward" else jacrev(g)
    batch = p.shape[:-1]
    M = vmap(jac, chunk_size=chunk_size)(p.reshape(-1, 6)).reshape(*batch, 6, 6)
    _check_derivative(M, "the derivative of fn", "fn", tail=2)
    return M


def _is_missing_formula(err: BaseException) -> bool:
    """True when ``err`` says an operation lacks a derivative formula in the mode tried."""
    text = str(err).lower()
    return any(k in text for k in ("backward", "vjp", "forward", "jvp", "not implemented"))


def _check_derivative(D: Tensor, name: str, fn_name: str, tail: int = 4) -> None:
    """Raise ``ValueError`` if the derivative ``D`` (batch axes, then ``tail`` derivative axes) has NaN/inf
    entries, naming the first bad point and the usual cause: ``torch.linalg.det``/``slogdet``/``inv``
    differentiate through a factorisation whose derivatives are not finite at some points (det's second derivative
    at tensors with repeated eigenvalues, e.g. ``det(I + 2E)`` at ``E = 0``), although the function is smooth."""
    if D.numel() == 0 or bool(torch.isfinite(D.sum())) or bool(torch.isfinite(D).all()):
        return
    per_point = (~torch.isfinite(D)).reshape(-1, *D.shape[D.ndim - tail :]).flatten(1).any(1)
    points = torch.nonzero(per_point).flatten()
    where = f" at {len(points)} of {per_point.numel()} point(s), the first at flat batch index {int(points[0])}"
    kind = "NaN" if bool(torch.isnan(D).any()) else "infinite values"
    raise ValueError(
        f"{name} contains {kind}{where}, although {fn_name} itself is finite there. If {fn_name} calls "
        "torch.linalg.det (or slogdet, inv), its derivatives go through an LU factorisation that is not "
        "differentiable (twice) everywhere -- the second derivative of torch.linalg.det is NaN at tensors with "
        "repeated eigenvalues, e.g. det(I + 2E) at E = 0. Use constitutive.tensor.det (the determinant "
        "polynomial, smooth everywhere) and constitutive.tensor.inv instead."
    )


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
    mode: str = "reverse",
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
        ``None`` returns ``(..., 3, 3, 3, 3)``. 'voigt' or 'mandel' returns the ``(..., 6, 6)`` matrix in that
        notation and component order: for 'symmetric' the stiffness matrix of :func:`constitutive.notation.to_voigt`
        / ``to_mandel`` (Voigt: no factors, pairs with engineering shear strain); for 'components' (Voigt only) the
        matrix :math:`\partial Y_I/\partial X_J` of :func:`components_matrix`, i.e. the Voigt stiffness times
        diag(1, 1, 1, 2, 2, 2). 'full' has no 6x6 form.
    mode:
        'reverse' (default; ``jacrev``: nine VJPs, exact under ``vmap`` for ``torch.linalg.det``/``slogdet``/``inv``),
        'forward' (``jacfwd``; wrong for batched ``torch.linalg.det``/``slogdet`` in PyTorch <= 2.13, see the module
        docstring) or 'auto' (reverse, falling back to forward when an operation has no reverse-mode formula).
    chunk_size:
        passed to ``vmap`` to bound memory for very large batches.
    return_value:
        also return ``fn(x)`` ``(..., 3, 3)``, computed in the same pass: the result is then ``(value, jacobian)``,
        value first as everywhere in the package (:func:`hessian` returns ``(gradient, hessian)``).

    Raises ``ValueError`` when the derivative is NaN or infinite at a point where ``fn`` is finite, naming the
    likely cause (``torch.linalg.det`` at a repeated-eigenvalue point such as the identity) and the cure
    (:func:`constitutive.tensor.det`).
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; choose one of {CONVENTIONS}")
    x = as_tensor(x)
    check_shape(x, (3, 3), "x")
    check_finite(x, "x")
    if convention != "full":
        check_symmetric(x, "x (the point of differentiation)")
    if notation is not None and convention == "full":
        raise ValueError("the 'full' (nine-by-nine) derivative has no Voigt or Mandel matrix form")
    if notation == "mandel" and convention == "components":
        raise ValueError(
            "a Mandel matrix is defined for the 'symmetric' convention only (it is already the derivative with "
            "respect to the Mandel components); use notation='voigt' for the six-component matrix"
        )

    def with_aux(xi: Tensor) -> tuple[Tensor, Tensor]:
        y = fn(xi)
        if not isinstance(y, Tensor) or y.shape != (3, 3):
            shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
            raise ValueError(f"fn must map a (3, 3) tensor to a (3, 3) tensor, got output {shape}")
        return y, y

    if mode not in ("forward", "reverse", "auto"):
        raise ValueError(f"unknown mode {mode!r}; choose 'forward', 'reverse' or 'auto'")
    flat, batch = _flatten(x)
    if mode == "forward":
        J, y = vmap(jacfwd(with_aux, has_aux=True), chunk_size=chunk_size)(flat)
    else:
        try:
            J, y = vmap(jacrev(with_aux, has_aux=True), chunk_size=chunk_size)(flat)
        except (RuntimeError, NotImplementedError) as err:
            # 'auto': an operation without a reverse-mode (VJP) formula, e.g. an autograd.Function without backward.
            if mode == "reverse" or not _is_missing_formula(err):
                raise
            J, y = vmap(jacfwd(with_aux, has_aux=True), chunk_size=chunk_size)(flat)
    J = J.reshape(*batch, 3, 3, 3, 3)
    y = y.reshape(*batch, 3, 3)
    check_finite(y, "fn(x)")
    _check_derivative(J, "the derivative of fn", "fn")
    C = apply_convention(J, convention)
    if notation is not None and convention == "components":
        C = components_matrix(C, "components", order)
    elif notation is not None:
        C = to_notation(C, "stiffness", notation, order)
    return (y, C) if return_value else C


def hessian(
    psi: Callable[[Tensor], Tensor],
    x: TensorLike,
    *,
    notation: str | None = None,
    order: str = "voigt",
    mode: str = "reverse",
    chunk_size: int | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Gradient and second derivative of a scalar energy :math:`\psi` on symmetric tensors, in one pass.

    Parameters
    ----------
    psi:
        Maps a ``(3, 3)`` tensor to a scalar (called under ``vmap``).
    x:
        ``(..., 3, 3)`` symmetric points.
    notation, order:
        ``None`` (default): tensors; 'voigt' or 'mandel' with a component order (default 'voigt'): the stress
        vector and stiffness matrix in that notation (below).
    mode:
        'reverse' (default; ``jacrev`` of ``grad``, reverse over reverse, exact for energies written with
        ``torch.linalg.det``/``slogdet``/``inv`` on batches) or 'forward' (``jacfwd`` of ``grad``; wrong for
        batched ``torch.linalg.det``/``slogdet`` in PyTorch <= 2.13, see the module docstring).
    chunk_size:
        Passed to ``vmap`` to bound memory for very large batches.

    Returns ``(stress, tangent)``: :math:`\partial\psi/\partial X` on Sym, ``(..., 3, 3)`` (symmetric), and
    :math:`\partial^2\psi/\partial X \partial X` on Sym, ``(..., 3, 3, 3, 3)`` -- minor- and major-symmetric. With
    ``notation`` the stress comes back as a Voigt/Mandel stress vector and the tangent as the stiffness matrix.
    For a hyperelastic energy :math:`\psi(E)` this gives :math:`S` and :math:`\mathrm{d}S/\mathrm{d}E`.

    Raises ``ValueError`` when the second derivative is NaN or infinite where the gradient is finite, e.g.
    ``torch.linalg.det(I + 2E)`` at ``E = 0``, pointing at :func:`constitutive.tensor.det`.
    """
    if mode not in ("forward", "reverse"):
        raise ValueError(f"unknown mode {mode!r}; choose 'reverse' or 'forward'")
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
    outer = jacrev if mode == "reverse" else jacfwd
    H, g = vmap(outer(gradient, has_aux=True), chunk_size=chunk_size)(flat)
    stress = g.reshape(*batch, 3, 3)
    C = apply_convention(H.reshape(*batch, 3, 3, 3, 3), "symmetric")
    check_finite(stress, "the gradient of psi")
    _check_derivative(C, "the second derivative of psi", "psi")
    if notation is not None:
        return to_notation(stress, "stress", notation, order), to_notation(C, "stiffness", notation, order)
    return stress, C
