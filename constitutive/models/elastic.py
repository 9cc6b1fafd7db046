r"""Small-strain linear elasticity in every symmetry class: :math:`\sigma = \mathbb{C} : \varepsilon`.

Every model here has a constant stiffness :math:`\mathbb{C}` ``(3, 3, 3, 3)`` (minor- and major-symmetric,
positive definite), returned by :meth:`stiffness`; the compliance :math:`\mathbb{S} = \mathbb{C}^{-1}` (on Sym) by
:meth:`compliance`. Conventions:

* ``stress(ε) = C : ε`` ``(..., 3, 3)``; ``tangent(ε) = C`` broadcast to ``(..., 3, 3, 3, 3)`` (the
  ``"symmetric"`` convention of :mod:`constitutive.tangent`; its Voigt matrix pairs with engineering shear);
  ``energy(ε) = ½ ε : C : ε`` ``(...)``.
* Voigt/Mandel matrices of C and S come from :mod:`constitutive.notation` (``to_voigt(model.stiffness(),
  "stiffness")``, ``to_voigt(model.compliance(), "compliance")``) -- no component order or shear factor is
  re-encoded here. Inverses are taken in Mandel form, where the basis is orthonormal, so the 6x6 inverse *is*
  the inverse on Sym.
* Engineering constants: :math:`\nu_{ij} = -\varepsilon_j / \varepsilon_i` under uniaxial stress
  :math:`\sigma_i` (the Abaqus ``*ELASTIC, TYPE=ENGINEERING CONSTANTS`` convention), so the Voigt compliance
  has :math:`S_{ij} = -\nu_{ij}/E_i` and is symmetric: :math:`\nu_{ij}/E_i = \nu_{ji}/E_j`.
* Material axes: ``axes`` is a ``(3, 3)`` orthonormal matrix whose *rows* are the material axes
  :math:`a_1, a_2, a_3` in global components. The global stiffness is
  :math:`C_{ijkl} = A_{ai} A_{bj} A_{ck} A_{dl} C^{\mathrm{mat}}_{abcd}` (one einsum), i.e.
  :math:`\varepsilon^{\mathrm{mat}} = A \varepsilon A^T`, :math:`\sigma = A^T \sigma^{\mathrm{mat}} A`.

Isotropic conversions (:class:`LinearElastic`; any two of E, ν, λ, μ = G, K):

==============  ==========================================================================================
given           Young's modulus E and Poisson's ratio ν
==============  ==========================================================================================
E, G            :math:`\nu = E/(2G) - 1`
E, K            :math:`\nu = (3K - E)/(6K)`
E, λ            :math:`\nu = 2\lambda / (E + \lambda + R)`, :math:`R = \sqrt{E^2 + 9\lambda^2 + 2E\lambda}`
ν, G            :math:`E = 2G(1 + \nu)`
ν, K            :math:`E = 3K(1 - 2\nu)`
ν, λ            :math:`E = \lambda (1 + \nu)(1 - 2\nu)/\nu` (ν ≠ 0)
λ, G            :math:`E = G(3\lambda + 2G)/(\lambda + G)`, :math:`\nu = \lambda / (2(\lambda + G))`
λ, K            :math:`G = \tfrac32 (K - \lambda)`, then as (λ, G)
K, G            :math:`E = 9KG/(3K + G)`, :math:`\nu = (3K - 2G)/(2(3K + G))`
==============  ==========================================================================================

and back: :math:`\lambda = E\nu/((1+\nu)(1-2\nu))`, :math:`\mu = G = E/(2(1+\nu))`, :math:`K = E/(3(1-2\nu))`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import torch

from ..notation import NOTATIONS, ORDERS, from_mandel, from_notation, from_voigt, to_mandel
from ..tensor import (
    DEFAULT_DTYPE,
    Tensor,
    TensorLike,
    as_tensor,
    ddot,
    ddot42,
    identity4_sym,
    identity4_vol,
    trace,
    transform4,
)
from ..tensor import _is_functorch_wrapped as _wrapped
from .base import Material
from .parameters import Parameter

__all__ = [
    "LinearElastic",
    "TransverselyIsotropic",
    "Orthotropic",
    "Cubic",
    "Anisotropic",
    "elastic_constants",
    "rotate_stiffness",
    "voigt_average",
    "reuss_average",
    "hill_average",
]

_MODULI = ("E", "nu", "lmbda", "mu", "K", "G")


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------


def rotate_stiffness(C: Tensor, axes: Tensor) -> Tensor:
    r"""Express a material-frame fourth-order tensor in global components:
    :math:`C_{ijkl} = A_{ai} A_{bj} A_{ck} A_{dl} C^{\mathrm{mat}}_{abcd}`.

    ``C``: ``(..., 3, 3, 3, 3)``; ``axes``: ``(..., 3, 3)`` orthonormal, rows = material axes in global components.
    Works for stiffness and compliance alike (any fourth-order tensor).
    """
    return transform4(axes.transpose(-1, -2), C)


def _check_positive_definite(M: Tensor, what: str, hint: str = "") -> None:
    """``ValueError`` unless the symmetric Mandel matrix ``M`` ``(6, 6)`` has positive eigenvalues."""
    if _wrapped(M):
        return
    with torch.no_grad():
        eig = torch.linalg.eigvalsh(M.detach())
    if bool((eig <= 0).any()):
        raise ValueError(
            f"{what} is not positive definite: smallest Mandel eigenvalue {float(eig.min()):.6g}"
            f" (all eigenvalues {[round(float(e), 6) for e in eig]}){hint}"
        )


def _check_axes(axes: Tensor, name: str) -> None:
    if _wrapped(axes):
        return
    eye = torch.eye(3, dtype=axes.dtype, device=axes.device)
    A = axes.detach()
    err = float((A @ A.transpose(-1, -2) - eye).abs().max())
    tol = 1e-6 if A.dtype == torch.float64 else 1e-5
    if err > tol:
        raise ValueError(
            f"parameter {name!r} must be orthonormal (rows = material axes), but max|A A^T - I| = {err:.3e}; "
            "normalise the axes (e.g. with scipy.spatial.transform.Rotation.as_matrix())"
        )


def _frame_from_axis(axis: Tensor) -> Tensor:
    """Orthonormal rows (a1, a2, n) with n = axis/|axis|; a1 from a fixed helper vector (branch-free, so it works
    under ``torch.func``). Transversely isotropic tensors do not depend on the choice of a1 in the plane."""
    n = axis / torch.linalg.vector_norm(axis)
    e1 = torch.tensor([1.0, 0.0, 0.0], dtype=axis.dtype, device=axis.device)
    e2 = torch.tensor([0.0, 1.0, 0.0], dtype=axis.dtype, device=axis.device)
    helper = torch.where(n[0].abs() < 0.9, e1, e2)
    a1 = helper - (helper @ n) * n
    a1 = a1 / torch.linalg.vector_norm(a1)
    a2 = torch.linalg.cross(n, a1)
    return torch.stack([a1, a2, n])


def _matrix(rows: Sequence[Sequence[Tensor | float]], like: Tensor) -> Tensor:
    """Stack a nested list of 0-d tensors / numbers into a differentiable matrix."""
    return torch.stack([torch.stack([r if isinstance(r, Tensor) else like.new_tensor(r) for r in row]) for row in rows])


def _from_compliance_voigt(S_voigt: Tensor) -> tuple[Tensor, Tensor]:
    """Material-frame (stiffness, compliance) fourth-order tensors from a Voigt compliance matrix.

    The compliance matrix is turned into the fourth-order tensor by the notation layer; its Mandel matrix is
    inverted (orthonormal basis: the matrix inverse is the inverse on Sym).
    """
    S = from_voigt(S_voigt, "compliance")
    C = from_mandel(torch.linalg.inv(to_mandel(S, "compliance")), "stiffness")
    return C, S


def elastic_constants(**given: TensorLike) -> dict[str, Tensor]:
    r"""All isotropic constants from any two of ``E``, ``nu``, ``lmbda``, ``mu`` (= ``G``), ``K``.

    Returns ``{"E", "nu", "lmbda", "mu", "G", "K"}`` as tensors (differentiable in the given ones). The
    conversions are the table in the module docstring. ``ValueError`` when not exactly two independent constants
    are given or the pair is inadmissible (E, G, K ≤ 0; ν outside (-1, 0.5); a pair that implies either),
    naming the parameter.
    """
    E, nu = _to_E_nu({k: v for k, v in given.items() if v is not None}, dtype=None)
    return _all_constants(E, nu)


def _all_constants(E: Tensor, nu: Tensor) -> dict[str, Tensor]:
    mu = E / (2.0 * (1.0 + nu))
    return {
        "E": E,
        "nu": nu,
        "lmbda": E * nu / ((1.0 + nu) * (1.0 - 2.0 * nu)),
        "mu": mu,
        "G": mu,
        "K": E / (3.0 * (1.0 - 2.0 * nu)),
    }


def _to_E_nu(given: dict[str, Any], dtype: torch.dtype | None) -> tuple[Tensor, Tensor]:
    unknown = set(given) - set(_MODULI)
    if unknown:
        raise ValueError(f"unknown elastic constant(s) {sorted(unknown)}; use two of {_MODULI}")
    if "mu" in given and "G" in given:
        raise ValueError("'mu' and 'G' are the same shear modulus: give one of them (and one other constant)")
    shear_name = "G" if "G" in given else "mu"  # the name the caller used, for error messages
    if "G" in given:
        given = {("mu" if k == "G" else k): v for k, v in given.items()}
    if len(given) != 2:
        state = "over-specified" if len(given) > 2 else "under-specified"
        raise ValueError(
            f"isotropic elasticity is {state}: got {sorted(given)}; give exactly two of E, nu, lmbda, mu (= G), K"
        )
    t = {
        k: (v if isinstance(v, Tensor) and (dtype is None or v.dtype == dtype) else as_tensor(v, dtype=dtype))
        for k, v in given.items()
    }
    for k, v in t.items():
        name = shear_name if k == "mu" else k
        if v.ndim != 0:
            raise ValueError(f"parameter {name!r} must be a scalar, got shape {tuple(v.shape)}")
        if not _wrapped(v):
            x = float(v.detach())
            if not math.isfinite(x):
                raise ValueError(f"parameter {name!r} must be finite, got {x}")
            if k in ("E", "mu", "K") and x <= 0:
                raise ValueError(f"parameter {name!r} must be positive, got {x}")
            if k == "nu" and not (-1.0 < x < 0.5):
                raise ValueError(f"parameter 'nu' must lie in (-1, 0.5), got {x}")
    keys = frozenset(t)
    if keys == {"E", "nu"}:
        E, nu = t["E"], t["nu"]
    elif keys == {"E", "mu"}:
        E = t["E"]
        nu = E / (2.0 * t["mu"]) - 1.0
    elif keys == {"E", "K"}:
        E = t["E"]
        nu = (3.0 * t["K"] - E) / (6.0 * t["K"])
    elif keys == {"E", "lmbda"}:
        E, lam = t["E"], t["lmbda"]
        R = torch.sqrt(E**2 + 9.0 * lam**2 + 2.0 * E * lam)
        nu = 2.0 * lam / (E + lam + R)
    elif keys == {"nu", "mu"}:
        nu = t["nu"]
        E = 2.0 * t["mu"] * (1.0 + nu)
    elif keys == {"nu", "K"}:
        nu = t["nu"]
        E = 3.0 * t["K"] * (1.0 - 2.0 * nu)
    elif keys == {"nu", "lmbda"}:
        nu, lam = t["nu"], t["lmbda"]
        if not _wrapped(nu) and float(nu.detach()) == 0.0:
            raise ValueError("parameters 'nu' = 0 and 'lmbda' do not determine E (λ = 0 for every E when ν = 0)")
        E = lam * (1.0 + nu) * (1.0 - 2.0 * nu) / nu
    elif keys == {"lmbda", "mu"}:
        lam, mu = t["lmbda"], t["mu"]
        E = mu * (3.0 * lam + 2.0 * mu) / (lam + mu)
        nu = lam / (2.0 * (lam + mu))
    elif keys == {"lmbda", "K"}:
        lam = t["lmbda"]
        mu = 1.5 * (t["K"] - lam)
        E = mu * (3.0 * lam + 2.0 * mu) / (lam + mu)
        nu = lam / (2.0 * (lam + mu))
    else:  # {"mu", "K"}
        mu, K = t["mu"], t["K"]
        E = 9.0 * K * mu / (3.0 * K + mu)
        nu = (3.0 * K - 2.0 * mu) / (2.0 * (3.0 * K + mu))
    if not _wrapped(E) and not _wrapped(nu):
        pair = ", ".join(f"{shear_name if k == 'mu' else k}={float(v.detach()):.6g}" for k, v in t.items())
        E_, nu_ = float(E.detach()), float(nu.detach())
        if not (-1.0 < nu_ < 0.5) or not E_ > 0 or not math.isfinite(E_):
            raise ValueError(
                f"inadmissible elastic constants {pair}: they imply E = {E_:.6g}, nu = {nu_:.6g} "
                "(need E > 0 and -1 < nu < 0.5, i.e. G > 0 and K > 0)"
            )
    return E, nu


# --------------------------------------------------------------------------------------------------------------
# Common machinery
# --------------------------------------------------------------------------------------------------------------


class _LinearElasticity(Material):
    """Linear elasticity with a constant stiffness; subclasses implement :meth:`stiffness`."""

    isotropic: ClassVar[bool] = False

    def stiffness(self) -> Tensor:
        r"""The stiffness :math:`\mathbb{C}` ``(3, 3, 3, 3)`` in global components (every subclass defines it)."""
        raise TypeError(f"{type(self).__name__} must define stiffness")

    def compliance(self) -> Tensor:
        r"""The compliance :math:`\mathbb{S} = \mathbb{C}^{-1}` on Sym ``(3, 3, 3, 3)`` (Mandel-form inverse);
        Voigt matrix: ``to_voigt(model.compliance(), "compliance")`` (factors 2 and 4 on shear)."""
        return from_mandel(torch.linalg.inv(to_mandel(self.stiffness(), "stiffness")), "compliance")

    def _strain(self, strain: TensorLike) -> Tensor:
        return self.check_strain(strain).to(dtype=self.dtype, device=self.device)

    def stress(self, strain: TensorLike) -> Tensor:
        r""":math:`\sigma = \mathbb{C} : \varepsilon`; ``(..., 3, 3) -> (..., 3, 3)``."""
        eps = self._strain(strain)
        return ddot42(self.stiffness(), eps)

    def tangent(self, strain: TensorLike) -> Tensor:
        r"""The constant stiffness broadcast to ``(..., 3, 3, 3, 3)`` (a fresh, contiguous tensor)."""
        eps = self._strain(strain)
        C = self.stiffness()
        return C.expand(*eps.shape[:-2], 3, 3, 3, 3).contiguous()

    def stress_and_tangent(self, strain: TensorLike) -> tuple[Tensor, Tensor]:
        eps = self._strain(strain)
        C = self.stiffness()
        return ddot42(C, eps), C.expand(*eps.shape[:-2], 3, 3, 3, 3).contiguous()

    def energy(self, strain: TensorLike) -> Tensor:
        r""":math:`\psi = \tfrac12 \varepsilon : \mathbb{C} : \varepsilon`; ``(..., 3, 3) -> (...)``."""
        eps = self._strain(strain)
        return 0.5 * ddot(eps, ddot42(self.stiffness(), eps))

    def mandel_eigenvalues(self) -> Tensor:
        """Eigenvalues ``(6,)`` of the Mandel stiffness matrix (all positive for an admissible material)."""
        return torch.linalg.eigvalsh(to_mandel(self.stiffness(), "stiffness"))


# --------------------------------------------------------------------------------------------------------------
# Isotropic
# --------------------------------------------------------------------------------------------------------------


class LinearElastic(_LinearElasticity):
    r"""Isotropic linear elasticity :math:`\sigma = \lambda \operatorname{tr}(\varepsilon) I + 2\mu\varepsilon`.

    Parameters
    ----------
    E, nu, lmbda, mu, K, G:
        Give any two of Young's modulus ``E``, Poisson's ratio ``nu``, the Lamé constants ``lmbda`` and ``mu``
        (= ``G``, the shear modulus) and the bulk modulus ``K`` (conversions: the table in the module docstring).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).

    The canonical parameters stored (and written by ``to_dict``/``save``) are ``E`` and ``nu``;
    :attr:`lmbda`, :attr:`mu`, :attr:`G`, :attr:`K` are derived, differentiable properties.

    * stiffness :math:`\mathbb{C} = \lambda I \otimes I + 2\mu \mathbb{I}^s = 3K \mathbb{I}^{vol} + 2G
      \mathbb{I}^{dev}`;
    * compliance :math:`\mathbb{S} = \frac{1}{9K} I \otimes I + \frac{1}{2G} \mathbb{I}^{dev}
      = -\frac{\nu}{E} I \otimes I + \frac{1+\nu}{E} \mathbb{I}^s`;
    * energy :math:`\psi = \tfrac12 \lambda (\operatorname{tr}\varepsilon)^2 + \mu\, \varepsilon : \varepsilon`.

    Admissible: E > 0, -1 < ν < 0.5 (equivalently G > 0, K > 0); otherwise ``ValueError`` naming the parameter.
    """

    isotropic: ClassVar[bool] = True

    E = Parameter("Young's modulus", unit="stress", lower=0.0, lower_open=True, shape=None)
    nu = Parameter("Poisson's ratio", unit="1", lower=-1.0, upper=0.5, lower_open=True, upper_open=True, shape=None)

    def __init__(
        self,
        E: TensorLike | None = None,
        nu: TensorLike | None = None,
        *,
        lmbda: TensorLike | None = None,
        mu: TensorLike | None = None,
        K: TensorLike | None = None,
        G: TensorLike | None = None,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        given = {"E": E, "nu": nu, "lmbda": lmbda, "mu": mu, "K": K, "G": G}
        # half precision: convert in float64, so that an overflow is reported as one when E, nu are stored
        work = torch.float64 if self.dtype in (torch.float16, torch.bfloat16) else self.dtype
        E_, nu_ = _to_E_nu({k: v for k, v in given.items() if v is not None}, dtype=work)
        self._param("E", E_)
        self._param("nu", nu_)

    # alternative spellings (the constructor keywords do the same; E and nu are what is stored)
    @classmethod
    def from_lame(cls, lmbda: TensorLike, mu: TensorLike, **kwargs: Any) -> LinearElastic:
        """From the Lamé constants λ, μ."""
        return cls(lmbda=lmbda, mu=mu, **kwargs)

    @classmethod
    def from_bulk_shear(cls, K: TensorLike, G: TensorLike, **kwargs: Any) -> LinearElastic:
        """From the bulk and shear moduli K, G."""
        return cls(K=K, G=G, **kwargs)

    # derived constants (differentiable functions of E and nu)
    @property
    def lmbda(self) -> Tensor:
        r"""Lamé's first parameter :math:`\lambda = E\nu/((1+\nu)(1-2\nu))`."""
        return self.E * self.nu / ((1.0 + self.nu) * (1.0 - 2.0 * self.nu))

    @property
    def mu(self) -> Tensor:
        r"""Shear modulus :math:`\mu = G = E/(2(1+\nu))`."""
        return self.E / (2.0 * (1.0 + self.nu))

    @property
    def G(self) -> Tensor:
        """Shear modulus (same as :attr:`mu`)."""
        return self.mu

    @property
    def K(self) -> Tensor:
        r"""Bulk modulus :math:`K = E/(3(1-2\nu))`."""
        return self.E / (3.0 * (1.0 - 2.0 * self.nu))

    def with_parameters(self, **changes: TensorLike) -> LinearElastic:
        """A new model with some constants replaced. ``E``/``nu`` replace the stored ones; any other pair of
        constants (e.g. ``lmbda=..., mu=...``) defines the new model alone. A single non-canonical constant is
        ambiguous (which of E, ν should stay?) and raises ``ValueError``."""
        other = set(changes) & {"lmbda", "mu", "K", "G"}
        if not other:
            return super().with_parameters(**changes)  # type: ignore[return-value]
        if len(changes) != 2:
            raise ValueError(
                f"with_parameters({', '.join(sorted(changes))}) is ambiguous for LinearElastic: "
                "give E and/or nu, or exactly two constants that define the new model"
            )
        return LinearElastic(**changes, dtype=self.dtype, device=self.device)

    def stiffness(self) -> Tensor:
        r""":math:`\mathbb{C} = 3K \mathbb{I}^{vol} + 2G \mathbb{I}^{dev}` ``(3, 3, 3, 3)``."""
        Ivol = identity4_vol(self.dtype, self.device)
        Is = identity4_sym(self.dtype, self.device)
        return 3.0 * self.K * Ivol + 2.0 * self.mu * (Is - Ivol)

    def compliance(self) -> Tensor:
        r"""Closed form :math:`\mathbb{S} = \frac{1}{9K} I \otimes I + \frac{1}{2G} \mathbb{I}^{dev}`."""
        Ivol = identity4_vol(self.dtype, self.device)
        Is = identity4_sym(self.dtype, self.device)
        return Ivol / (3.0 * self.K) + (Is - Ivol) / (2.0 * self.mu)

    def stress(self, strain: TensorLike) -> Tensor:
        r"""Closed form :math:`\sigma = \lambda \operatorname{tr}(\varepsilon) I + 2\mu\varepsilon`."""
        eps = self._strain(strain)
        eye = torch.eye(3, dtype=eps.dtype, device=eps.device)
        return self.lmbda * trace(eps)[..., None, None] * eye + 2.0 * self.mu * eps

    def energy(self, strain: TensorLike) -> Tensor:
        r"""Closed form :math:`\psi = \tfrac12\lambda(\operatorname{tr}\varepsilon)^2
        + \mu\,\varepsilon:\varepsilon`."""
        eps = self._strain(strain)
        return 0.5 * self.lmbda * trace(eps) ** 2 + self.mu * ddot(eps, eps)


# --------------------------------------------------------------------------------------------------------------
# Anisotropic classes
# --------------------------------------------------------------------------------------------------------------


class TransverselyIsotropic(_LinearElasticity):
    r"""Transverse isotropy: isotropic in the plane p normal to ``axis``, with the axis the transverse direction t.

    Engineering constants (convention :math:`\nu_{ij} = -\varepsilon_j/\varepsilon_i` under uniaxial
    :math:`\sigma_i`):

    Parameters
    ----------
    E_p, E_t:
        Young's modulus for any in-plane direction, and along the axis.
    nu_p:
        In-plane Poisson's ratio, :math:`-\varepsilon_{p'}/\varepsilon_p` under stress along p (p' the other
        in-plane direction); the in-plane shear modulus is :math:`G_p = E_p/(2(1+\nu_p))`.
    nu_pt:
        :math:`-\varepsilon_t/\varepsilon_p` under stress along p (the reciprocal ratio is
        :math:`\nu_{tp} = \nu_{pt} E_t/E_p`).
    G_t:
        Shear modulus of planes containing the axis (:math:`G_{pt}`).
    axis:
        ``(3,)`` the symmetry axis (normalised internally; default e3).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).

    Material-frame Voigt compliance (1, 2 in the plane, 3 = axis; Voigt order 11 22 33 23 13 12):

    .. math::
        S = \begin{bmatrix}
        1/E_p & -\nu_p/E_p & -\nu_{pt}/E_p & & & \\
        -\nu_p/E_p & 1/E_p & -\nu_{pt}/E_p & & & \\
        -\nu_{pt}/E_p & -\nu_{pt}/E_p & 1/E_t & & & \\
        & & & 1/G_t & & \\ & & & & 1/G_t & \\ & & & & & 2(1+\nu_p)/E_p
        \end{bmatrix}

    The stiffness is the inverse of its Mandel form, rotated to ``axis``. Admissible when the compliance is
    positive definite (E_p, E_t, G_t > 0, -1 < ν_p < 1 and :math:`2\nu_{pt}^2 E_t/E_p < 1 - \nu_p`); otherwise
    ``ValueError``.
    """

    E_p = Parameter("Young's modulus in the plane of isotropy", unit="stress", lower=0.0, lower_open=True)
    E_t = Parameter("Young's modulus along the axis", unit="stress", lower=0.0, lower_open=True)
    nu_p = Parameter("in-plane Poisson's ratio", unit="1", lower=-1.0, upper=1.0, lower_open=True, upper_open=True)
    nu_pt = Parameter("Poisson's ratio, in-plane load, axial contraction", unit="1")
    G_t = Parameter("shear modulus in planes containing the axis", unit="stress", lower=0.0, lower_open=True)
    axis = Parameter("axis of isotropy (a non-zero vector)", unit="1", default=None, shape=(3,))

    def __init__(
        self,
        E_p: TensorLike,
        E_t: TensorLike,
        nu_p: TensorLike,
        nu_pt: TensorLike,
        G_t: TensorLike,
        axis: TensorLike = (0.0, 0.0, 1.0),
        *,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        self._param("E_p", E_p)
        self._param("E_t", E_t)
        self._param("nu_p", nu_p)
        self._param("nu_pt", nu_pt)
        self._param("G_t", G_t)
        a = self._param("axis", axis)
        if not _wrapped(a) and float(torch.linalg.vector_norm(a.detach())) == 0.0:
            raise ValueError("parameter 'axis' must be a non-zero vector")
        _check_positive_definite(
            to_mandel(self.material_compliance(), "compliance"),
            "TransverselyIsotropic compliance",
            "; need -1 < nu_p < 1 and 2 nu_pt^2 E_t/E_p < 1 - nu_p",
        )

    def compliance_matrix(self) -> Tensor:
        """The material-frame Voigt compliance ``(6, 6)`` of the class docstring."""
        Ep, Et, nup, nupt, Gt = self.E_p, self.E_t, self.nu_p, self.nu_pt, self.G_t
        z = Ep * 0.0
        return _matrix(
            [
                [1.0 / Ep, -nup / Ep, -nupt / Ep, z, z, z],
                [-nup / Ep, 1.0 / Ep, -nupt / Ep, z, z, z],
                [-nupt / Ep, -nupt / Ep, 1.0 / Et, z, z, z],
                [z, z, z, 1.0 / Gt, z, z],
                [z, z, z, z, 1.0 / Gt, z],
                [z, z, z, z, z, 2.0 * (1.0 + nup) / Ep],
            ],
            Ep,
        )

    def material_compliance(self) -> Tensor:
        """Fourth-order compliance in the material frame (axis = e3)."""
        return from_voigt(self.compliance_matrix(), "compliance")

    def frame(self) -> Tensor:
        """Orthonormal material axes ``(3, 3)`` (rows; the last is the normalised ``axis``)."""
        return _frame_from_axis(self.axis)

    def stiffness(self) -> Tensor:
        C, _ = _from_compliance_voigt(self.compliance_matrix())
        return rotate_stiffness(C, self.frame())


class Orthotropic(_LinearElasticity):
    r"""Orthotropic linear elasticity from nine engineering constants in material axes.

    Parameters
    ----------
    E1, E2, E3:
        Young's moduli along the material axes.
    nu12, nu13, nu23:
        Poisson's ratios :math:`\nu_{ij} = -\varepsilon_j/\varepsilon_i` under uniaxial :math:`\sigma_i` (Abaqus
        convention; the others follow from :math:`\nu_{ji} = \nu_{ij} E_j / E_i`).
    G12, G13, G23:
        Shear moduli.
    axes:
        ``(3, 3)`` orthonormal, rows = material axes 1, 2, 3 in global components (default: the global axes).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).

    Material-frame Voigt compliance (order 11 22 33 23 13 12):

    .. math::
        S = \begin{bmatrix}
        1/E_1 & -\nu_{12}/E_1 & -\nu_{13}/E_1 & & & \\
        -\nu_{12}/E_1 & 1/E_2 & -\nu_{23}/E_2 & & & \\
        -\nu_{13}/E_1 & -\nu_{23}/E_2 & 1/E_3 & & & \\
        & & & 1/G_{23} & & \\ & & & & 1/G_{13} & \\ & & & & & 1/G_{12}
        \end{bmatrix}

    The stiffness is the inverse of the Mandel compliance, rotated with ``axes``. Positive definiteness of the
    compliance is checked (it needs :math:`|\nu_{ij}| < \sqrt{E_i/E_j}` and
    :math:`1 - \nu_{12}\nu_{21} - \nu_{23}\nu_{32} - \nu_{13}\nu_{31} - 2\nu_{21}\nu_{32}\nu_{13} > 0`).
    """

    E1 = Parameter("Young's modulus along material axis 1", unit="stress", lower=0.0, lower_open=True)
    E2 = Parameter("Young's modulus along material axis 2", unit="stress", lower=0.0, lower_open=True)
    E3 = Parameter("Young's modulus along material axis 3", unit="stress", lower=0.0, lower_open=True)
    nu12 = Parameter("Poisson's ratio: load along 1, contraction along 2", unit="1")
    nu13 = Parameter("Poisson's ratio: load along 1, contraction along 3", unit="1")
    nu23 = Parameter("Poisson's ratio: load along 2, contraction along 3", unit="1")
    G12 = Parameter("shear modulus in the 1-2 plane", unit="stress", lower=0.0, lower_open=True)
    G13 = Parameter("shear modulus in the 1-3 plane", unit="stress", lower=0.0, lower_open=True)
    G23 = Parameter("shear modulus in the 2-3 plane", unit="stress", lower=0.0, lower_open=True)
    axes = Parameter("material axes (rows: unit vectors; identity by default)", unit="1", shape=(3, 3))

    def __init__(
        self,
        E1: TensorLike,
        E2: TensorLike,
        E3: TensorLike,
        nu12: TensorLike,
        nu13: TensorLike,
        nu23: TensorLike,
        G12: TensorLike,
        G13: TensorLike,
        G23: TensorLike,
        axes: TensorLike | None = None,
        *,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        for name, value in (("E1", E1), ("E2", E2), ("E3", E3)):
            self._param(name, value)
        for name, value in (("nu12", nu12), ("nu13", nu13), ("nu23", nu23)):
            self._param(name, value)
        for name, value in (("G12", G12), ("G13", G13), ("G23", G23)):
            self._param(name, value)
        A = self._param("axes", torch.eye(3) if axes is None else axes)
        _check_axes(A, "axes")
        _check_positive_definite(
            to_mandel(from_voigt(self.compliance_matrix(), "compliance"), "compliance"),
            "Orthotropic compliance",
            "; check the Poisson's ratios: |nu_ij| < sqrt(E_i/E_j) and "
            "1 - nu12 nu21 - nu23 nu32 - nu13 nu31 - 2 nu21 nu32 nu13 > 0",
        )

    def compliance_matrix(self) -> Tensor:
        """The material-frame Voigt compliance ``(6, 6)`` of the class docstring."""
        E1, E2, E3 = self.E1, self.E2, self.E3
        n12, n13, n23 = self.nu12, self.nu13, self.nu23
        z = E1 * 0.0
        return _matrix(
            [
                [1.0 / E1, -n12 / E1, -n13 / E1, z, z, z],
                [-n12 / E1, 1.0 / E2, -n23 / E2, z, z, z],
                [-n13 / E1, -n23 / E2, 1.0 / E3, z, z, z],
                [z, z, z, 1.0 / self.G23, z, z],
                [z, z, z, z, 1.0 / self.G13, z],
                [z, z, z, z, z, 1.0 / self.G12],
            ],
            E1,
        )

    def stiffness(self) -> Tensor:
        C, _ = _from_compliance_voigt(self.compliance_matrix())
        return rotate_stiffness(C, self.axes)


class Cubic(_LinearElasticity):
    r"""Cubic symmetry from the three stiffness constants (Voigt notation, crystal axes):

    .. math::
        C = \begin{bmatrix}
        C_{11} & C_{12} & C_{12} & & & \\ C_{12} & C_{11} & C_{12} & & & \\ C_{12} & C_{12} & C_{11} & & & \\
        & & & C_{44} & & \\ & & & & C_{44} & \\ & & & & & C_{44}
        \end{bmatrix}

    Parameters
    ----------
    C11, C12, C44:
        The three stiffness constants (stress units).
    axes:
        ``(3, 3)`` orthonormal rows = crystal axes [100], [010], [001] in global components (default: the global
        axes).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).

    Positive definite iff :math:`C_{11} - C_{12} > 0`, :math:`C_{11} + 2C_{12} > 0`, :math:`C_{44} > 0` (the Mandel
    eigenvalues are :math:`C_{11} + 2C_{12}`, :math:`C_{11} - C_{12}` (twice), :math:`2C_{44}` (three times)).
    Zener's anisotropy ratio :math:`A = 2C_{44}/(C_{11} - C_{12})` is 1 for an isotropic material.
    """

    C11 = Parameter("stiffness C11 (cube axes)", unit="stress", lower=0.0, lower_open=True)
    C12 = Parameter("stiffness C12 (cube axes)", unit="stress")
    C44 = Parameter("stiffness C44 (cube axes)", unit="stress", lower=0.0, lower_open=True)
    axes = Parameter("cube axes (rows: unit vectors; identity by default)", unit="1", shape=(3, 3))

    def __init__(
        self,
        C11: TensorLike,
        C12: TensorLike,
        C44: TensorLike,
        axes: TensorLike | None = None,
        *,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        self._param("C11", C11)
        self._param("C12", C12)
        self._param("C44", C44)
        A = self._param("axes", torch.eye(3) if axes is None else axes)
        _check_axes(A, "axes")
        _check_positive_definite(
            to_mandel(from_voigt(self.stiffness_matrix(), "stiffness"), "stiffness"),
            "Cubic stiffness",
            "; need C11 - C12 > 0, C11 + 2 C12 > 0 and C44 > 0",
        )

    def stiffness_matrix(self) -> Tensor:
        """The crystal-frame Voigt stiffness ``(6, 6)``."""
        a, b, c = self.C11, self.C12, self.C44
        z = a * 0.0
        return _matrix(
            [
                [a, b, b, z, z, z],
                [b, a, b, z, z, z],
                [b, b, a, z, z, z],
                [z, z, z, c, z, z],
                [z, z, z, z, c, z],
                [z, z, z, z, z, c],
            ],
            a,
        )

    @property
    def zener_ratio(self) -> Tensor:
        r"""Zener's anisotropy ratio :math:`A = 2C_{44}/(C_{11} - C_{12})`."""
        return 2.0 * self.C44 / (self.C11 - self.C12)

    def stiffness(self) -> Tensor:
        return rotate_stiffness(from_voigt(self.stiffness_matrix(), "stiffness"), self.axes)


class Anisotropic(_LinearElasticity):
    r"""General (triclinic) anisotropy from a 6x6 stiffness matrix or its 21 independent constants.

    Parameters
    ----------
    stiffness_matrix:
        ``(6, 6)`` symmetric, or ``(21,)`` -- the upper triangle read row by row,
        :math:`C_{11}, C_{12}, \dots, C_{16}, C_{22}, \dots, C_{26}, \dots, C_{66}`, with the slots numbered in
        ``order``.
    notation:
        ``"voigt"`` (default; no factors on a stiffness; pairs with engineering shear strain) or ``"mandel"`` (√2
        and 2 on shear slots).
    order:
        Any order of :data:`constitutive.notation.ORDERS` (``"voigt"`` 11 22 33 23 13 12, the default;
        ``"abaqus"`` 11 22 33 12 13 23, ``"ansys"``, ``"lsdyna"``).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).

    The matrix is converted to the fourth-order tensor by :func:`constitutive.notation.from_notation`; its Mandel
    eigenvalues must be positive (``ValueError`` otherwise).
    """

    notation: str
    order: str

    stiffness_matrix = Parameter("stiffness matrix, (6, 6) or its 21-entry upper triangle", unit="stress", shape=None)

    def __init__(
        self,
        stiffness_matrix: TensorLike,
        notation: str = "voigt",
        order: str = "voigt",
        *,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        self._option("notation", notation, NOTATIONS)
        self._option("order", order, tuple(ORDERS))
        M = self._param("stiffness_matrix", stiffness_matrix)
        if tuple(M.shape) not in ((6, 6), (21,)):
            raise ValueError(
                f"parameter 'stiffness_matrix' must have shape (6, 6) or (21,) (upper triangle row by row), "
                f"got {tuple(M.shape)}"
            )
        full = self.matrix()
        if not _wrapped(full):
            F = full.detach()
            asym = float((F - F.T).abs().max() / F.abs().max().clamp_min(torch.finfo(F.dtype).tiny))
            if asym > (1e-10 if full.dtype == torch.float64 else 1e-5):
                raise ValueError(
                    f"parameter 'stiffness_matrix' must be symmetric (major symmetry), relative asymmetry {asym:.3e}"
                )
        _check_positive_definite(to_mandel(self.stiffness(), "stiffness"), "Anisotropic stiffness")

    def matrix(self) -> Tensor:
        """The full ``(6, 6)`` matrix in the given notation and order (expanded from 21 constants if needed)."""
        M = self.stiffness_matrix
        if M.shape == (6, 6):
            return M
        r, c = torch.triu_indices(6, 6, device=M.device)
        upper = M.new_zeros(6, 6).index_put((r, c), M)
        return upper + upper.T - torch.diag(torch.diagonal(upper))

    def stiffness(self) -> Tensor:
        return from_notation(self.matrix(), "stiffness", self.notation, self.order)


# --------------------------------------------------------------------------------------------------------------
# Isotropic averages of an anisotropic stiffness
# --------------------------------------------------------------------------------------------------------------


def _check_fourth(C: TensorLike, name: str) -> Tensor:
    C = as_tensor(C)
    if C.ndim < 4 or tuple(C.shape[-4:]) != (3, 3, 3, 3):
        raise ValueError(f"{name} must have shape (..., 3, 3, 3, 3), got {tuple(C.shape)}")
    return C


def voigt_average(C: TensorLike) -> tuple[Tensor, Tensor]:
    r"""Voigt (uniform-strain) bulk and shear moduli of a stiffness ``(..., 3, 3, 3, 3)``:
    :math:`K_V = C_{iijj}/9`, :math:`G_V = (3C_{ijij} - C_{iijj})/30` (upper bounds). Returns ``(K_V, G_V)``."""
    C = _check_fourth(C, "stiffness")
    iijj = torch.einsum("...iijj->...", C)
    ijij = torch.einsum("...ijij->...", C)
    return iijj / 9.0, (3.0 * ijij - iijj) / 30.0


def reuss_average(C: TensorLike) -> tuple[Tensor, Tensor]:
    r"""Reuss (uniform-stress) moduli from the compliance :math:`\mathbb{S} = \mathbb{C}^{-1}`:
    :math:`1/K_R = S_{iijj}`, :math:`15/G_R = 6 S_{ijij} - 2 S_{iijj}` (lower bounds). Returns ``(K_R, G_R)``."""
    C = _check_fourth(C, "stiffness")
    S = from_mandel(torch.linalg.inv(to_mandel(C, "stiffness")), "compliance")
    iijj = torch.einsum("...iijj->...", S)
    ijij = torch.einsum("...ijij->...", S)
    return 1.0 / iijj, 15.0 / (6.0 * ijij - 2.0 * iijj)


def hill_average(C: TensorLike) -> tuple[Tensor, Tensor]:
    """Hill's estimate: the arithmetic means of the Voigt and Reuss moduli, ``(K_H, G_H)``."""
    KV, GV = voigt_average(C)
    KR, GR = reuss_average(C)
    return 0.5 * (KV + KR), 0.5 * (GV + GR)
