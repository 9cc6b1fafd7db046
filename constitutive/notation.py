r"""One notation layer: full tensors <-> Voigt and Mandel vectors and matrices, in every FE component order.

The quantity is always stated, never guessed from the shape:

=============  =====================================  ======================================================
quantity       Voigt                                  Mandel
=============  =====================================  ======================================================
``stress``     :math:`\sigma_I = \sigma_{ij}`         :math:`\sigma_I = w_I \sigma_{ij}`
``strain``     :math:`\varepsilon_I = w^\gamma_I       :math:`\varepsilon_I = w_I \varepsilon_{ij}`
               \varepsilon_{ij}` (engineering shear
               :math:`\gamma = 2\varepsilon`)
``stiffness``  :math:`C_{IJ} = C_{ijkl}` (no factors)  :math:`C_{IJ} = w_I w_J C_{ijkl}`
``compliance`` :math:`S_{IJ} = w^\gamma_I w^\gamma_J   :math:`S_{IJ} = w_I w_J S_{ijkl}`
               S_{ijkl}` (factors 2 and 4)
=============  =====================================  ======================================================

with :math:`w^\gamma = (1, 1, 1, 2, 2, 2)` and the Mandel weight :math:`w = (1, 1, 1, \sqrt2, \sqrt2, \sqrt2)`.
With these, :math:`\sigma:\varepsilon = \sigma_V\cdot\varepsilon_V = \sigma_M\cdot\varepsilon_M`,
:math:`\sigma_V = C_V \varepsilon_V`, :math:`S_V = C_V^{-1}`; the Mandel basis is orthonormal, so Mandel preserves
norms, inverses and eigenvalues of every quantity.

Component orders (:data:`ORDERS`, the one index table that drives every mapping):

* ``"voigt"``  -- textbook Voigt: 11, 22, 33, 23, 13, 12 (also NEML2/MOOSE Mandel order);
* ``"abaqus"`` -- Abaqus/Standard UMAT and CalculiX: 11, 22, 33, 12, 13, 23 (also MFront/TFEL Mandel order);
* ``"ansys"``  -- Ansys USERMAT: 11, 22, 33, 12, 23, 13;
* ``"lsdyna"`` -- LS-DYNA user materials and Abaqus/Explicit VUMAT: 11, 22, 33, 12, 23, 31.

Everything is implemented with one orthonormal-style basis per (quantity, notation, order): a vector is
:math:`v_I = E_I : x` and a tensor :math:`x = \sum_I v_I B_I`; a matrix is :math:`M_{IJ} = E^{out}_I : C :
B^{in}_J` and back :math:`C = \sum_{IJ} M_{IJ} B^{out}_I \otimes E^{in}_J`. One einsum converts any batch.
"""

from __future__ import annotations

import math
from functools import cache

import torch

from .tensor import (
    Tensor,
    TensorLike,
    _is_functorch_wrapped,
    as_tensor,
    check_finite,
    check_shape,
    check_symmetric,
    symmetry_tolerance,
)

__all__ = [
    "ORDERS",
    "QUANTITIES",
    "NOTATIONS",
    "REDUCTIONS",
    "components",
    "component_labels",
    "to_voigt",
    "from_voigt",
    "to_mandel",
    "from_mandel",
    "to_notation",
    "from_notation",
    "convert",
    "reorder",
    "reduce",
    "plane_stress_condense",
]

#: Component order of each named convention, as zero-based index pairs (i, j) of the six vector slots.
ORDERS: dict[str, tuple[tuple[int, int], ...]] = {
    # Textbook Voigt (Voigt 1910; e.g. Nye, Physical Properties of Crystals): 11 22 33 23 13 12.
    "voigt": ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)),
    # Abaqus/Standard UMAT STRESS/STRAN/DDSDDE (Abaqus User Subroutines Reference Guide, UMAT) and CalculiX umat.
    "abaqus": ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)),
    # Ansys USERMAT (Ansys Programmer's Reference, "Subroutine UserMat"): 11 22 33 12 23 13.
    "ansys": ((0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (0, 2)),
    # LS-DYNA user materials (sig(1..6): xx yy zz xy yz zx) and Abaqus/Explicit VUMAT: 11 22 33 12 23 31.
    "lsdyna": ((0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (2, 0)),
}

#: Where each order is documented, for the docs and error messages.
ORDER_SOURCES: dict[str, str] = {
    "voigt": "textbook Voigt notation; NEML2/MOOSE Mandel vectors use this order",
    "abaqus": "Abaqus/Standard UMAT (STRESS, STRAN, DDSDDE) and CalculiX; MFront/TFEL Mandel vectors use this order",
    "ansys": "Ansys USERMAT (stress, strain, dsdePl)",
    "lsdyna": "LS-DYNA user material (sig(1..6)) and Abaqus/Explicit VUMAT",
}

QUANTITIES = ("stress", "strain", "stiffness", "compliance")
NOTATIONS = ("voigt", "mandel")
_SECOND = ("stress", "strain")

#: Two-dimensional reductions: kept components as tensor index pairs, in Abaqus's 2D order.
REDUCTIONS: dict[str, tuple[tuple[int, int], ...]] = {
    # Abaqus CPE*/CAX*: NDI = 3 direct, NSHR = 1 shear; 11 22 33 12. Axisymmetric: 11 = rr, 22 = zz, 33 = θθ, 12 = rz.
    "plane_strain": ((0, 0), (1, 1), (2, 2), (0, 1)),
    "axisymmetric": ((0, 0), (1, 1), (2, 2), (0, 1)),
    # Abaqus CPS*: NDI = 2, NSHR = 1; 11 22 12 with σ33 = 0 condensed out.
    "plane_stress": ((0, 0), (1, 1), (0, 1)),
    # Shells (in-plane part): σ33 = σ13 = σ23 = 0 condensed out; 11 22 12.
    "shell": ((0, 0), (1, 1), (0, 1)),
}


def _label(ij: tuple[int, int]) -> str:
    return f"{ij[0] + 1}{ij[1] + 1}"


def components(order: str = "voigt") -> tuple[tuple[int, int], ...]:
    """The six (i, j) index pairs (zero-based) of a named component order."""
    return ORDERS[_check_order(order)]


def component_labels(order: str = "voigt") -> list[str]:
    """Labels such as ``['11', '22', '33', '12', '13', '23']`` for a named order."""
    return [_label(ij) for ij in components(order)]


def _check_order(order: str) -> str:
    if order not in ORDERS:
        known = "; ".join(f"{name!r} ({ORDER_SOURCES[name]})" for name in ORDERS)
        raise ValueError(f"unknown component order {order!r}; choose one of {known}")
    return order


def _check_quantity(quantity: str) -> str:
    if quantity not in QUANTITIES:
        raise ValueError(f"unknown quantity {quantity!r}; choose one of {QUANTITIES} (it is never guessed)")
    return quantity


def _check_notation(notation: str) -> str:
    if notation not in NOTATIONS:
        raise ValueError(f"unknown notation {notation!r}; choose one of {NOTATIONS}")
    return notation


def _weights(kind: str, notation: str) -> list[float]:
    """Factors w_I applied to shear slots of a second-order quantity of this kind."""
    if notation == "mandel":
        return [1.0, 1.0, 1.0, math.sqrt(2.0), math.sqrt(2.0), math.sqrt(2.0)]
    return [1.0, 1.0, 1.0] + ([2.0] * 3 if kind == "strain" else [1.0] * 3)


@cache
def _basis(kind: str, notation: str, order: str, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
    """(E, B) of shape (6, 3, 3) for a second-order kind ('stress' or 'strain'), cached per dtype and device.

    v_I = E_I : x for symmetric x, and x = sum_I v_I B_I; E_I : B_J = delta_IJ. Cached per device so that CUDA
    conversions do not copy the basis from the host on every call; built outside inference mode so that a first
    call under ``torch.inference_mode`` does not cache inference tensors that autograd later refuses.
    """
    w = _weights(kind, notation)
    with torch.inference_mode(False):
        E = torch.zeros(6, 3, 3, dtype=torch.float64)
        B = torch.zeros(6, 3, 3, dtype=torch.float64)
        for I, (i, j) in enumerate(ORDERS[order]):
            if i == j:
                E[I, i, i] = w[I]
                B[I, i, i] = 1.0 / w[I]
            else:
                E[I, i, j] = E[I, j, i] = 0.5 * w[I]
                B[I, i, j] = B[I, j, i] = 1.0 / w[I]
        return E.to(dtype=dtype, device=device), B.to(dtype=dtype, device=device)


# A stiffness maps strain to stress, a compliance stress to strain: (output kind, input kind).
_MAPS = {"stiffness": ("stress", "strain"), "compliance": ("strain", "stress")}


def _prepare(x: TensorLike, trailing: tuple[int, ...], name: str) -> Tensor:
    x = as_tensor(x)
    check_shape(x, trailing, name)
    check_finite(x, name)
    return x


def _check_minor_symmetric(C: Tensor, quantity: str, rtol: float | None) -> None:
    if _is_functorch_wrapped(C):
        return
    rtol = symmetry_tolerance(C.dtype) if rtol is None else rtol
    scale = C.abs().amax(dim=(-1, -2, -3, -4)).clamp_min(torch.finfo(C.real.dtype).tiny)
    left = (C - C.transpose(-4, -3)).abs().amax(dim=(-1, -2, -3, -4))
    right = (C - C.transpose(-2, -1)).abs().amax(dim=(-1, -2, -3, -4))
    bad = (left > rtol * scale) | (right > rtol * scale)
    if bool(bad.any()):
        raise ValueError(
            f"{quantity} tensor is not minor-symmetric (max relative asymmetry "
            f"{float((torch.maximum(left, right) / scale).max()):.3e}); a 6x6 matrix cannot represent it. "
            "Use constitutive.symmetry.symmetrize(C) if the asymmetry is round-off, or check the tangent's convention"
        )


def to_notation(
    x: TensorLike, quantity: str, notation: str = "voigt", order: str = "voigt", *, rtol: float | None = None
) -> Tensor:
    """Full tensor -> vector ``(..., 6)`` or matrix ``(..., 6, 6)`` in ``notation`` ('voigt' or 'mandel').

    Parameters
    ----------
    x:
        ``(..., 3, 3)`` symmetric for 'stress'/'strain', ``(..., 3, 3, 3, 3)`` minor-symmetric for
        'stiffness'/'compliance'.
    quantity:
        'stress', 'strain', 'stiffness' or 'compliance' (:data:`QUANTITIES`).
    notation:
        'voigt' (default) or 'mandel'.
    order:
        The component order, a key of :data:`ORDERS` (default 'voigt').
    rtol:
        The relative symmetry tolerance (default ``sqrt(eps)``).
    """
    _check_quantity(quantity), _check_notation(notation), _check_order(order)
    if quantity in _SECOND:
        x = _prepare(x, (3, 3), quantity)
        check_symmetric(x, quantity, rtol)
        E, _ = _basis(quantity, notation, order, x.dtype, x.device)
        return torch.einsum("Iij,...ij->...I", E, x)
    x = _prepare(x, (3, 3, 3, 3), quantity)
    _check_minor_symmetric(x, quantity, rtol)
    out, inp = _MAPS[quantity]
    E_out, _ = _basis(out, notation, order, x.dtype, x.device)
    _, B_in = _basis(inp, notation, order, x.dtype, x.device)
    return torch.einsum("Iij,...ijkl,Jkl->...IJ", E_out, x, B_in)


def from_notation(v: TensorLike, quantity: str, notation: str = "voigt", order: str = "voigt") -> Tensor:
    """Vector ``(..., 6)`` or matrix ``(..., 6, 6)`` in ``notation`` -> full symmetric tensor (inverse of
    :func:`to_notation`)."""
    _check_quantity(quantity), _check_notation(notation), _check_order(order)
    if quantity in _SECOND:
        v = _prepare(v, (6,), f"{quantity} vector")
        _, B = _basis(quantity, notation, order, v.dtype, v.device)
        return torch.einsum("...I,Iij->...ij", v, B)
    v = _prepare(v, (6, 6), f"{quantity} matrix")
    out, inp = _MAPS[quantity]
    _, B_out = _basis(out, notation, order, v.dtype, v.device)
    E_in, _ = _basis(inp, notation, order, v.dtype, v.device)
    return torch.einsum("...IJ,Iij,Jkl->...ijkl", v, B_out, E_in)


def to_voigt(x: TensorLike, quantity: str, order: str = "voigt", *, rtol: float | None = None) -> Tensor:
    """Full tensor -> Voigt vector/matrix. Strain carries engineering shear (γ = 2ε); stress none; stiffness is
    C_ijkl without factors; compliance carries factors 2 (one shear index) and 4 (two). See the module table."""
    return to_notation(x, quantity, "voigt", order, rtol=rtol)


def from_voigt(v: TensorLike, quantity: str, order: str = "voigt") -> Tensor:
    """Voigt vector ``(..., 6)``/matrix ``(..., 6, 6)`` -> full tensor; inverse of :func:`to_voigt`."""
    return from_notation(v, quantity, "voigt", order)


def to_mandel(x: TensorLike, quantity: str, order: str = "voigt", *, rtol: float | None = None) -> Tensor:
    """Full tensor -> Mandel vector/matrix (√2 on every shear slot, for every quantity; orthonormal basis)."""
    return to_notation(x, quantity, "mandel", order, rtol=rtol)


def from_mandel(v: TensorLike, quantity: str, order: str = "voigt") -> Tensor:
    """Mandel vector ``(..., 6)``/matrix ``(..., 6, 6)`` -> full tensor; inverse of :func:`to_mandel`."""
    return from_notation(v, quantity, "mandel", order)


def convert(
    v: TensorLike,
    quantity: str,
    *,
    from_: tuple[str, str] = ("voigt", "voigt"),
    to: tuple[str, str] = ("mandel", "voigt"),
) -> Tensor:
    """Convert a vector/matrix between (notation, order) pairs, e.g. Voigt/abaqus -> Mandel/voigt."""
    return to_notation(from_notation(v, quantity, *from_), quantity, *to)


def reorder(v: TensorLike, from_order: str, to_order: str) -> Tensor:
    """Permute the six slots of a vector ``(..., 6)`` or a matrix ``(..., 6, 6)`` between component orders.

    Factors are untouched (they depend on the quantity, not on the order). The matrix case is recognised by
    a trailing ``(6, 6)``; pass vectors batched as ``(..., 6)``.
    """
    v = as_tensor(v)
    src = [frozenset(ij) for ij in components(from_order)]
    perm = [src.index(frozenset(ij)) for ij in components(to_order)]
    idx = torch.tensor(perm, device=v.device)
    if v.ndim >= 2 and v.shape[-2:] == (6, 6):
        return v.index_select(-1, idx).index_select(-2, idx)
    check_shape(v, (6,), "vector")
    return v.index_select(-1, idx)


def plane_stress_condense(M: TensorLike, keep: list[int], drop: list[int]) -> Tensor:
    r"""Static condensation :math:`M_{kk} - M_{kd} M_{dd}^{-1} M_{dk}` of a stiffness matrix ``(..., n, n)``.

    Imposes zero stress on the ``drop`` slots (their strains become dependent) and returns the ``(..., k, k)``
    tangent of the ``keep`` slots. ``ValueError`` when ``M`` is not a batch of square matrices holding those slots,
    or when the ``drop`` block :math:`M_{dd}` is singular (e.g. a zero C3333: no plane-stress state exists).
    """
    M = as_tensor(M)
    check_finite(M, "the stiffness matrix")
    if M.ndim < 2 or M.shape[-1] != M.shape[-2]:
        raise ValueError(f"static condensation needs square matrices (..., n, n), got shape {tuple(M.shape)}")
    if min(keep + drop) < 0 or max(keep + drop) >= M.shape[-1] or set(keep) & set(drop):
        raise ValueError(f"slots keep={keep}, drop={drop} must be distinct indices below n = {M.shape[-1]}")
    k = torch.tensor(keep, device=M.device)
    d = torch.tensor(drop, device=M.device)
    Mkk = M.index_select(-2, k).index_select(-1, k)
    Mkd = M.index_select(-2, k).index_select(-1, d)
    Mdk = M.index_select(-2, d).index_select(-1, k)
    Mdd = M.index_select(-2, d).index_select(-1, d)
    X, info = torch.linalg.solve_ex(Mdd, Mdk)
    if not _is_functorch_wrapped(info) and bool((info != 0).any()):
        first = tuple(int(i) for i in torch.nonzero(info)[0]) if info.ndim else ()
        raise ValueError(
            f"cannot condense out slots {drop}: their block of the stiffness is singular"
            f"{f' at batch entry {first}' if first else ''} (e.g. C3333 = 0 for plane stress); no state with zero "
            "stress on those slots exists"
        )
    return Mkk - Mkd @ X


def reduce(x: TensorLike, quantity: str, kind: str, notation: str = "voigt", *, rtol: float | None = None) -> Tensor:
    r"""Two-dimensional reduction of a full tensor to the vector/matrix an FE code uses for 2D elements.

    Parameters
    ----------
    x:
        ``(..., 3, 3)`` for stress/strain, ``(..., 3, 3, 3, 3)`` for stiffness/compliance (below).
    quantity:
        'stress', 'strain', 'stiffness' or 'compliance' (:data:`QUANTITIES`).
    kind:
        The reduction, a key of :data:`REDUCTIONS` (below).
    notation:
        'voigt' (default) or 'mandel'; the slots are in Abaqus order.
    rtol:
        The relative symmetry tolerance of :func:`to_notation` (default ``sqrt(eps)``).

    ``kind``:

    * ``"plane_strain"`` and ``"axisymmetric"``: slots 11, 22, 33, 12 (Abaqus NDI = 3, NSHR = 1); the
      tangent is the corresponding 4x4 block (ε33 = 0, or the hoop strain u_r/r in axisymmetry, is a slot).
      Axisymmetric axes follow Abaqus: 1 = r, 2 = z, 3 = θ, 12 = rz.
    * ``"plane_stress"``: slots 11, 22, 12; the tangent is condensed statically for σ33 = 0,
      :math:`\bar C = C_{aa} - C_{a3} C_{33}^{-1} C_{3a}` (ε13 = ε23 = 0 in a plane problem).
    * ``"shell"``: slots 11, 22, 12 with σ33 = σ13 = σ23 = 0 condensed out (in-plane shell tangent).

    ``x`` is ``(..., 3, 3)`` for stress/strain (vector ``(..., n)`` returned; for plane stress the 33 strain is not
    a slot) or ``(..., 3, 3, 3, 3)`` for stiffness or compliance (matrix ``(..., n, n)``). A compliance reduces to
    the inverse of the reduced stiffness: for ``"shell"`` it is the 11-22-12 block of the 3D compliance; for
    ``"plane_stress"`` the strain constraint ε13 = ε23 = 0 is condensed first,
    :math:`\bar S = S_{aa} - S_{ad} S_{dd}^{-1} S_{da}` over the 13, 23 slots d (the plain block only when the
    in-plane components do not couple to 13/23, e.g. isotropy). It is not defined for plane strain: a
    ``ValueError`` says so.
    """
    if kind not in REDUCTIONS:
        raise ValueError(f"unknown 2D reduction {kind!r}; choose one of {sorted(REDUCTIONS)}")
    full = to_notation(x, quantity, notation, "abaqus", rtol=rtol)
    slots = [ORDERS["abaqus"].index(ij) for ij in REDUCTIONS[kind]]
    if quantity in _SECOND:
        return full[..., slots]
    if quantity == "compliance":
        if kind in ("plane_strain", "axisymmetric"):
            raise ValueError(
                f"a {kind} compliance is not a sub-block of the 3D compliance; reduce the stiffness and invert it"
            )
        if kind == "plane_stress":
            # σ33 = 0 is a stress condition (selection); ε13 = ε23 = 0 a strain condition: condense abaqus 13, 23.
            return plane_stress_condense(full, slots, [4, 5])
        idx = torch.tensor(slots, device=full.device)
        return full.index_select(-2, idx).index_select(-1, idx)
    if kind in ("plane_strain", "axisymmetric"):
        idx = torch.tensor(slots, device=full.device)
        return full.index_select(-2, idx).index_select(-1, idx)
    # Plane stress: σ33 = 0 is condensed; ε13 = ε23 = 0 (a plane problem has no transverse shear strain), so
    # their slots are simply left out. Shell: σ33 = σ13 = σ23 = 0 are all condensed (abaqus slots 33, 13, 23).
    drop = [2] if kind == "plane_stress" else [2, 4, 5]
    return plane_stress_condense(full, slots, drop)
