r"""Isotropic hyperelastic models: maps :math:`S(E)` on symmetric tensors, with F-based methods for every stress and
tangent measure and homogeneous incompressible deformations for rubber testing.

Conventions (kinematics and tangent measures: :mod:`constitutive.kinematics`):

* ``strain`` is the Green--Lagrange strain :math:`E`, ``stress(E)`` the second Piola--Kirchhoff stress
  :math:`S = \partial\psi/\partial E = 2\,\partial\psi/\partial C`, ``tangent(E)`` the material tangent
  :math:`\mathbb{C} = \partial S/\partial E = 4\,\partial^2\psi/\partial C\partial C` (minor- and
  major-symmetric), ``energy(E)`` the strain-energy density :math:`\psi` per unit reference volume.
* Invariants of :math:`C`: :math:`I_1 = \operatorname{tr} C`, :math:`I_2 = \tfrac12(I_1^2 - \operatorname{tr}
  C^2)`, :math:`J = \sqrt{\det C} = \det F`; isochoric invariants :math:`\bar I_1 = J^{-2/3} I_1`,
  :math:`\bar I_2 = J^{-4/3} I_2`; principal stretches :math:`\lambda_a` (:math:`c_a = \lambda_a^2` the eigenvalues
  of :math:`C`), isochoric stretches :math:`\bar\lambda_a = J^{-1/3}\lambda_a`.
* Models with a bulk modulus ``K`` use the split :math:`\psi = \psi_{iso}(\bar I_1, \bar I_2 \text{ or }
  \bar\lambda_a) + U(J)` with :math:`U` chosen by name (:data:`VOLUMETRIC_FUNCTIONS`, all with
  :math:`U(1) = U'(1) = 0`, :math:`U''(1) = K`). Without ``K`` a model is incompressible: it has no 3-D stress
  (``stress(E)`` raises ``ValueError``) and is used through :meth:`HyperelasticMaterial.nominal_stress`.

Two exact routes compute :math:`S` and :math:`\mathbb{C}`, both batched, both free of perturbations:

* invariant models: :math:`S = 2\psi_1 I + 2\psi_2 (I_1 I - C) + J\psi_J C^{-1}` and
  :math:`\mathbb{C} = 4\sum_{\alpha\beta}\psi_{\alpha\beta}\, G_\alpha \otimes G_\beta + 4\psi_2 (I\otimes I -
  \mathbb{I}^s) + J\psi_J (C^{-1}\otimes C^{-1} - 2\, C^{-1}\odot C^{-1})` with :math:`G = (I,\ I_1 I - C,\
  \tfrac12 J C^{-1})`, :math:`(A\odot B)_{ijkl} = \tfrac12(A_{ik}B_{jl} + A_{il}B_{jk})` and the scalar
  derivatives :math:`\psi_\alpha = \partial\psi/\partial(I_1, I_2, J)` by ``torch.func`` on the three scalars;
* principal-stretch models (Ogden): :math:`S = \sum_a y_a N_a\otimes N_a`, :math:`y_a = 2\,\partial\psi/\partial
  c_a`, and :math:`\mathbb{C} = 2\,\mathrm{d}S/\mathrm{d}C` from :func:`constitutive.tensor.spectral_derivative`
  (Daleckii--Krein with the exact limit at coincident :math:`c_a`), the derivatives :math:`\partial y_a/\partial
  c_b` by ``torch.func`` on the 3-vector of eigenvalues (no eigenvector derivatives). Exact at repeated stretches,
  :math:`F = I` included.

Saint Venant--Kirchhoff and the default Neo-Hookean form also have fully hand-written stress and tangent.

To write a new model, subclass one of the public hooks, :class:`InvariantHyperelastic` (``psi_isochoric(I1bar,
I2bar, J)`` or ``psi_invariants(I1, I2, I3)``) or :class:`StretchHyperelastic` (``psi_stretches(lam)``), and write
the energy only (docs/models.md, "Writing a hyperelastic model").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
from torch.func import grad, jacfwd, vmap

from ..kinematics import (
    check_deformation_gradient,
    material_to_first_elasticity,
    push_forward_tangent,
    spatial_to_jaumann_tangent,
)
from ..tensor import (
    DEFAULT_DTYPE,
    Tensor,
    TensorLike,
    as_tensor,
    check_finite,
    det,
    dyad,
    dyad_ikjl,
    dyad_iljk,
    eigh_sym,
    identity4_sym,
    inv,
    invariants,
    spectral_derivative,
    sym,
)
from ..tensor import _is_functorch_wrapped as _wrapped
from . import _hyperfast as hf
from ._hyperfast import Coef
from .base import Material
from .parameters import OptionalParameter, Parameter

#: The bulk modulus declaration shared by the split models (``None``: incompressible).
BULK_MODULUS = OptionalParameter("bulk modulus K (None: incompressible)", unit="stress", lower=0.0, lower_open=True)

__all__ = [
    "VOLUMETRIC_FUNCTIONS",
    "VOLUMETRIC_TERMS",
    "VolumetricTerm",
    "BULK_MODULUS",
    "LOADING_MODES",
    "volumetric_energy",
    "incompressible_stretches",
    "HyperelasticMaterial",
    "InvariantHyperelastic",
    "StretchHyperelastic",
    "isochoric_stretches",
    "SaintVenantKirchhoff",
    "NeoHookean",
    "MooneyRivlin",
    "Yeoh",
    "Ogden",
    "ArrudaBoyce",
    "Gent",
]


class VolumetricTerm:
    r"""Base class of volumetric energies :math:`U(J; K)` with :math:`U(1) = U'(1) = 0`, :math:`U''(1) = K`.

    A subclass implements :meth:`energy` and registers itself by name
    (``class MyU(VolumetricTerm, name="my_u", description="...")``); models select it with ``volumetric="my_u"``
    (saved as that option). The stress and tangent follow from the energy by the invariant route.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init_subclass__(cls, name: str | None = None, description: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        key = name or cls.__name__.lower()
        cls.name, cls.description = key, description or (cls.__doc__ or "").strip().splitlines()[0]
        VOLUMETRIC_TERMS[key] = cls
        VOLUMETRIC_FUNCTIONS[key] = cls.description

    def energy(self, J: Tensor, K: Tensor) -> Tensor:
        """:math:`U(J)` ``(...)`` for ``J`` ``(...)`` and the bulk modulus ``K``."""
        raise TypeError(f"{type(self).__name__} must define energy(J, K)")

    def derivatives(self, J: Tensor, K: Tensor) -> tuple[Tensor, Tensor] | None:
        r"""Closed-form :math:`(J U'(J), J^2 U''(J))` for the fast routes (scaled by J: no division by J, which
        keeps float32 round-off at the level of the energy's own terms), or ``None`` (default: the models then
        differentiate the energy by ``torch.func``)."""
        return None


#: Volumetric term classes by name (filled by :meth:`VolumetricTerm.__init_subclass__`).
VOLUMETRIC_TERMS: dict[str, type[VolumetricTerm]] = {}
#: Volumetric energies :math:`U(J)` selectable by name, with their formula; each has :math:`U(1) = U'(1) = 0`,
#: :math:`U''(1) = K` (one line per :class:`VolumetricTerm`, filled on registration).
VOLUMETRIC_FUNCTIONS: dict[str, str] = {}


class QuadraticVolumetric(VolumetricTerm, name="quadratic", description="U = K/2 (J - 1)^2  (Abaqus D1 = 2/K form)"):
    """:math:`U = \tfrac K2 (J - 1)^2`."""

    def energy(self, J: Tensor, K: Tensor) -> Tensor:
        d = J - 1.0
        return 0.5 * K * d * d

    def derivatives(self, J: Tensor, K: Tensor) -> tuple[Tensor, Tensor]:
        return K * J * (J - 1.0), K * J * J


class LogVolumetric(VolumetricTerm, name="log", description="U = K/2 (ln J)^2  (Simo-Miehe, Bonet-Wood)"):
    """:math:`U = \tfrac K2 (\\ln J)^2`."""

    def energy(self, J: Tensor, K: Tensor) -> Tensor:
        lnJ = torch.log(J)
        return 0.5 * K * lnJ * lnJ

    def derivatives(self, J: Tensor, K: Tensor) -> tuple[Tensor, Tensor]:
        lnJ = torch.log(J)
        return K * lnJ, K * (1.0 - lnJ)


class SimoTaylorVolumetric(
    VolumetricTerm,
    name="simo_taylor",
    description="U = K/4 (J^2 - 1 - 2 ln J)  (Simo-Taylor 1982, Ciarlet-Geymonat)",
):
    """:math:`U = \tfrac K4 (J^2 - 1 - 2\\ln J)`."""

    def energy(self, J: Tensor, K: Tensor) -> Tensor:
        return 0.25 * K * (J * J - 1.0 - 2.0 * torch.log(J))

    def derivatives(self, J: Tensor, K: Tensor) -> tuple[Tensor, Tensor]:
        J2 = J * J
        return 0.5 * K * (J2 - 1.0), 0.5 * K * (J2 + 1.0)


#: Homogeneous incompressible loading modes of :meth:`HyperelasticMaterial.nominal_stress`.
LOADING_MODES: tuple[str, ...] = ("uniaxial", "equibiaxial", "pure_shear")


def volumetric_energy(J: Tensor, K: Tensor, name: str) -> Tensor:
    r"""Volumetric energy :math:`U(J)` by name (see :data:`VOLUMETRIC_TERMS`); ``J`` ``(...)``."""
    if name not in VOLUMETRIC_TERMS:
        raise ValueError(f"unknown volumetric function {name!r}; choose one of {tuple(VOLUMETRIC_TERMS)}")
    return VOLUMETRIC_TERMS[name]().energy(J, K)


def incompressible_stretches(stretch: Tensor, mode: str) -> tuple[Tensor, int]:
    r"""Principal stretches ``(..., 3)`` of a homogeneous incompressible deformation, and the index of the
    stress-free lateral direction used to eliminate the pressure:

    * ``"uniaxial"``: :math:`(\lambda, \lambda^{-1/2}, \lambda^{-1/2})`, lateral direction 2;
    * ``"equibiaxial"``: :math:`(\lambda, \lambda, \lambda^{-2})`, lateral direction 3;
    * ``"pure_shear"`` (planar tension): :math:`(\lambda, 1, \lambda^{-1})`, lateral direction 3.
    """
    if mode == "uniaxial":
        lat = stretch ** (-0.5)
        return torch.stack([stretch, lat, lat], -1), 1
    if mode == "equibiaxial":
        return torch.stack([stretch, stretch, stretch ** (-2.0)], -1), 2
    if mode == "pure_shear":
        return torch.stack([stretch, torch.ones_like(stretch), 1.0 / stretch], -1), 2
    raise ValueError(f"unknown loading mode {mode!r}; choose one of {LOADING_MODES}")


def _scalar_derivatives(fn: Callable[[Tensor], Tensor], x: Tensor, second: bool) -> tuple[Tensor, Tensor | None]:
    """Gradient ``(..., n)`` and (if ``second``) Hessian ``(..., n, n)`` of a scalar function of an n-vector,
    batched over the leading axes of ``x`` with ``torch.func`` (differentiable w.r.t. captured parameters)."""
    n = x.shape[-1]
    batch = x.shape[:-1]
    flat = x.reshape(-1, n)
    if flat.shape[0] == 0:
        return x.new_zeros(x.shape), (x.new_zeros(*batch, n, n) if second else None)
    if not second:
        return vmap(grad(fn))(flat).reshape(*batch, n), None

    def g_aux(v: Tensor) -> tuple[Tensor, Tensor]:
        g = grad(fn)(v)
        return g, g

    H, g = vmap(jacfwd(g_aux, has_aux=True))(flat)
    # For float32 input, `(x - 1.0) * y` comes out float64 under vmap(jacfwd(grad)) (a torch 2.13 promotion quirk
    # of Python-scalar operands in forward-over-reverse mode): cast back to the working dtype.
    return g.reshape(*batch, n), H.reshape(*batch, n, n).to(x.dtype)


def _sym_box(A: Tensor) -> Tensor:
    r""":math:`(A\odot A)_{ijkl} = \tfrac12(A_{ik}A_{jl} + A_{il}A_{jk})` (so :math:`\partial C^{-1}/\partial C =
    -C^{-1}\odot C^{-1}` on Sym)."""
    return 0.5 * (dyad_ikjl(A, A) + dyad_iljk(A, A))


def _right_cauchy_green_work(E: Tensor) -> Tensor:
    """C = I + 2E in the fast routes' working precision (:func:`._hyperfast.working`: float64 below double, where
    C rounded in float32 would lose the strain's low digits)."""
    Ew = hf.working(E)
    return torch.eye(3, dtype=Ew.dtype, device=Ew.device) + 2.0 * Ew


def _green_lagrange(F: Tensor) -> Tensor:
    """E = (F^T F - I)/2 of an already validated F (the public kinematics.green_lagrange validates it again)."""
    return 0.5 * (sym(F.transpose(-1, -2) @ F) - torch.eye(3, dtype=F.dtype, device=F.device))


#: Closed-form derivatives of ψ(I1, I2, J), the J-derivatives scaled by powers of J (no division by J: float32
#: round-off stays at the level of the energy's terms): ``((ψ_1, ψ_2, r), (ψ_11, ψ_12, Jψ_1J, ψ_22, Jψ_2J,
#: J²ψ_JJ) or None)`` with ``r = Jψ_J + 2ψ_1 + 4ψ_2`` (zero in a stress-free reference state, so that
#: ``S = 2ψ_1(I - C⁻¹) + 2ψ_2(I_1 I - C - 2C⁻¹) + r C⁻¹`` has no cancellation of large terms), each ``(...)``, a
#: number, or ``None`` for an exact zero (its terms are skipped).
InvariantDerivatives = tuple[tuple[Coef, Coef, Coef], tuple[Coef, Coef, Coef, Coef, Coef, Coef] | None]
#: Closed-form derivatives of an isochoric energy W(Ī1, Ī2): ``(W_1, W_2, W_11, W_12, W_22)`` (``None``: zero).
IsochoricDerivatives = tuple[Coef, Coef, Coef, Coef, Coef]


def _isochoric_chain(
    I1: Tensor,
    I2: Tensor,
    J: Tensor,
    iso: Callable[[Tensor, Tensor, bool], IsochoricDerivatives | None],
    U: tuple[Coef, Coef],
    second: bool,
) -> InvariantDerivatives | None:
    r""":data:`InvariantDerivatives` of :math:`\psi = W(\bar I_1, \bar I_2) + U(J)` from those of :math:`W`
    (``iso(I1bar, I2bar, second)``, ``None``: no closed form) and :math:`U = (JU', J^2U'')`, by the chain rule
    through :math:`\bar I_1 = J^{-2/3} I_1`, :math:`\bar I_2 = J^{-4/3} I_2`: :math:`\psi_{I_1} = J^{-2/3} W_1`,
    :math:`\psi_{I_2} = J^{-4/3} W_2`, :math:`J\psi_J = W_1 e_1 + W_2 e_2 + JU'` with :math:`e_1 = J\,\partial\bar
    I_1/\partial J = -\tfrac23 \bar I_1`, :math:`e_2 = -\tfrac43\bar I_2`, and the second derivatives
    :math:`\psi_{vw} = \sum W_{mn} \partial_v u_m \partial_w u_n + \sum_m W_m \partial^2_{vw} u_m`
    (:math:`J\partial^2_{I_1 J}\bar I_1 = -\tfrac23 J^{-2/3}`, :math:`J^2\partial^2_{JJ}\bar I_1 = \tfrac{10}{9}\bar
    I_1`, :math:`J\partial^2_{I_2 J}\bar I_2 = -\tfrac43 J^{-4/3}`, :math:`J^2\partial^2_{JJ} \bar I_2 =
    \tfrac{28}{9}\bar I_2`)."""
    a = J ** (-2.0 / 3.0)
    b = J ** (-4.0 / 3.0)
    I1b, I2b = I1 * a, I2 * b
    W = iso(I1b, I2b, second)
    if W is None:
        return None
    W1, W2, W11, W12, W22 = W
    JU1, J2U2 = U
    e1 = -2.0 / 3.0 * I1b
    e2 = -4.0 / 3.0 * I2b
    # r = J psi_J + 2 psi_1 + 4 psi_2 = -(2/3) a W1 (I1 - 3) - (4/3) b W2 (I2 - 3) + J U'
    r = hf.add(hf.mul(W1, -2.0 / 3.0 * a * (I1 - 3.0)), hf.mul(W2, -4.0 / 3.0 * b * (I2 - 3.0)), JU1)
    g = (hf.mul(W1, a), hf.mul(W2, b), r)
    if not second:
        return g, None
    q1J = hf.add(hf.mul(a, hf.add(hf.mul(W11, e1), hf.mul(W12, e2))), hf.mul(W1, -2.0 / 3.0 * a))
    q2J = hf.add(hf.mul(b, hf.add(hf.mul(W12, e1), hf.mul(W22, e2))), hf.mul(W2, -4.0 / 3.0 * b))
    qJJ = hf.add(
        hf.mul(W11, e1 * e1),
        hf.mul(2.0, W12, e1 * e2),
        hf.mul(W22, e2 * e2),
        hf.mul(W1, 10.0 / 9.0 * I1b),
        hf.mul(W2, 28.0 / 9.0 * I2b),
        J2U2,
    )
    return g, (hf.mul(W11, a * a), hf.mul(W12, a * b), q1J, hf.mul(W22, b * b), q2J, qJJ)


class HyperelasticMaterial(Material, abstract=True):
    r"""Base class of isotropic hyperelastic models :math:`\psi(C)`, :math:`C = I + 2E`.

    A subclass defines the energy through one hook:

    * ``_psi_invariants(I1, I2, J)`` (invariant models), or
    * ``_psi_principal(c)`` with ``c`` ``(..., 3)`` the eigenvalues of :math:`C` (principal-stretch models; set
      ``_principal_model = True``),

    plus :attr:`initial_shear_modulus`, :attr:`initial_bulk_modulus` (``None`` when incompressible) and, optionally,
    ``_check_state(I1bar)`` to refuse states outside the model's domain (Gent's locking stretch). The public hooks
    :class:`InvariantHyperelastic` and :class:`StretchHyperelastic` wrap these two routes for users: the energy
    alone, the initial moduli derived from it.
    """

    strain_measure: ClassVar[str] = "Green-Lagrange E"
    stress_measure: ClassVar[str] = "second Piola-Kirchhoff S"
    isotropic: ClassVar[bool] = True
    _principal_model: ClassVar[bool] = False
    #: Anisotropic models set this and write their energy as ``_psi_C(C)`` (a function of the full tensor C).
    _tensor_model: ClassVar[bool] = False

    # ------------------------------------------------------------------------------------------------ the hooks
    def _psi_invariants(self, I1: Tensor, I2: Tensor, J: Tensor) -> Tensor:
        raise TypeError(f"{type(self).__name__} defines no invariant form of its energy (_psi_invariants)")

    def _psi_principal(self, c: Tensor) -> Tensor:
        """Energy from the eigenvalues ``c`` ``(..., 3)`` of C (defaults to the invariant form)."""
        c0, c1, c2 = c[..., 0], c[..., 1], c[..., 2]
        return self._psi_invariants(c0 + c1 + c2, c0 * c1 + c1 * c2 + c2 * c0, torch.sqrt(c0 * c1 * c2))

    def _check_state(self, I1bar: Tensor) -> None:
        """Raise ``ValueError`` for states outside the model's domain (default: none)."""

    def _psi_C(self, C: Tensor) -> Tensor:
        """Energy ``(...)`` of the right Cauchy--Green tensor ``C`` ``(..., 3, 3)`` (the hook of anisotropic models,
        ``_tensor_model = True``): S and dS/dE follow by ``torch.func`` on the nine components of C."""
        raise TypeError(f"{type(self).__name__} defines no tensor form of its energy (_psi_C)")

    def _volumetric(self, J: Tensor) -> Tensor:
        K = self._params.get("K")
        if K is None:
            return torch.zeros_like(J)
        return VOLUMETRIC_TERMS[self._options.get("volumetric", "quadratic")]().energy(J, K)

    def volumetric_term(self, J: Tensor) -> Tensor:
        r"""The model's volumetric energy :math:`U(J)` ``(...)``: its ``volumetric`` function (default
        ``"quadratic"``) with its bulk modulus parameter ``K``; zero without ``K`` (incompressible)."""
        return self._volumetric(J)

    # --------------------------------------------------------------------------------------- moduli & limits
    @property
    def compressible(self) -> bool:
        """Whether the model has a 3-D response (a bulk modulus); incompressible models only give
        :meth:`nominal_stress`."""
        return self.initial_bulk_modulus is not None

    @property
    def initial_shear_modulus(self) -> Tensor:
        r"""Shear modulus :math:`\mu_0` of the linearisation at :math:`E = 0` (every model defines it)."""
        raise TypeError(f"{type(self).__name__} must define initial_shear_modulus")

    @property
    def initial_bulk_modulus(self) -> Tensor | None:
        r"""Bulk modulus :math:`K_0` of the linearisation at :math:`E = 0` (``None``: incompressible)."""
        K = self._params.get("K")
        return K

    def initial_tangent(self) -> Tensor:
        r"""The small-strain limit :math:`\mathbb{C}_0 = \lambda_0 I\otimes I + 2\mu_0 \mathbb{I}^s` with
        :math:`\lambda_0 = K_0 - \tfrac23\mu_0`, ``(3, 3, 3, 3)`` (linear elasticity with the initial moduli)."""
        self._require_compressible("an initial 3-D tangent")
        mu0, K0 = self.initial_shear_modulus, self.initial_bulk_modulus
        assert K0 is not None  # compressible, checked above
        lam0 = K0 - 2.0 * mu0 / 3.0
        I = torch.eye(3, dtype=self.dtype, device=self.device)
        return lam0 * dyad(I, I) + 2.0 * mu0 * identity4_sym(self.dtype, self.device)

    def _require_compressible(self, what: str) -> None:
        if not self.compressible:
            raise ValueError(
                f"{type(self).__name__} without a bulk modulus is incompressible: {what} needs a bulk modulus "
                "K (or lmbda for NeoHookean) to define the pressure; give one, or use nominal_stress(stretch, mode) "
                "for homogeneous incompressible deformations"
            )

    # ------------------------------------------------------------------------------------------ E-based maps
    def check_strain(self, strain: TensorLike, name: str = "E") -> Tensor:
        """Validate a Green--Lagrange strain: shape, finite, symmetric, and :math:`I + 2E` positive definite."""
        E = super().check_strain(strain, name)
        if not _wrapped(E):
            C = sym(torch.eye(3, dtype=E.dtype, device=E.device) + 2.0 * E)
            if bool((torch.linalg.cholesky_ex(C).info != 0).any()):
                raise ValueError(
                    f"{name} is not an admissible Green-Lagrange strain: I + 2{name} = F^T F must be positive "
                    "definite (det F > 0)"
                )
        return E

    def energy(self, strain: TensorLike) -> Tensor:
        r"""Strain-energy density :math:`\psi(E)` ``(...)``."""
        self._require_compressible("the energy")
        E = self.check_strain(strain)
        C = sym(torch.eye(3, dtype=E.dtype, device=E.device) + 2.0 * E)
        if self._tensor_model:
            return self._psi_C(C)
        if self._principal_model:
            c = torch.linalg.eigvalsh(C)
            self._check_principal(c)
            return self._psi_principal(c)
        I1, I2, I3 = invariants(C)
        J = torch.sqrt(I3)
        if not _wrapped(J):
            self._check_state(I1 * J ** (-2.0 / 3.0))
        return self._psi_invariants(I1, I2, J)

    def stress(self, strain: TensorLike) -> Tensor:
        """Second Piola--Kirchhoff stress :math:`S(E)` ``(..., 3, 3)``."""
        return self._response(strain, tangent=False)[0]

    def tangent(self, strain: TensorLike) -> Tensor:
        r"""Material tangent :math:`\partial S/\partial E` ``(..., 3, 3, 3, 3)``."""
        return self.stress_and_tangent(strain)[1]

    def stress_and_tangent(self, strain: TensorLike) -> tuple[Tensor, Tensor]:
        S, CC = self._response(strain, tangent=True)
        assert CC is not None  # tangent=True
        return S, CC

    def _response(self, strain: TensorLike, tangent: bool) -> tuple[Tensor, Tensor | None]:
        self._require_compressible("a 3-D stress")
        E = self.check_strain(strain)
        if self._tensor_model:
            return self._tensor_response(E, tangent)
        if self._principal_model:
            return self._spectral_response(E, tangent)
        return self._invariant_response(E, tangent)

    def _tensor_response(self, E: Tensor, tangent: bool) -> tuple[Tensor, Tensor | None]:
        r"""S = 2 ∂ψ/∂C and dS/dE = 4 ∂²ψ/∂C∂C of :meth:`_psi_C`, differentiated by ``torch.func`` on the nine
        components of C through :math:`\psi(\operatorname{sym} C)` (so the derivatives are symmetric and the
        Hessian is minor- and major-symmetric: the tangent on Sym)."""
        C = sym(torch.eye(3, dtype=E.dtype, device=E.device) + 2.0 * E)
        g, H = _scalar_derivatives(lambda v: self._psi_C(sym(v.reshape(3, 3))), C.reshape(*C.shape[:-2], 9), tangent)
        S = 2.0 * g.reshape(C.shape)
        if H is None:
            return S, None
        return S, 4.0 * H.reshape(*C.shape[:-2], 3, 3, 3, 3)

    # ------------------------------------------------------------------------- closed-form derivative hooks
    def _iso_derivatives(self, I1bar: Tensor, I2bar: Tensor, second: bool) -> IsochoricDerivatives | None:
        r"""Closed-form :math:`(W_1, W_2, W_{11}, W_{12}, W_{22})` of the isochoric energy :math:`W(\bar I_1,
        \bar I_2)` of a split model (``None`` entries: exact zeros), or ``None`` (default): the fast routes then
        differentiate :meth:`_psi_invariants` by ``torch.func``."""
        return None

    def _volumetric_derivatives(self, J: Tensor) -> tuple[Coef, Coef] | None:
        r""":math:`(JU'(J), J^2U''(J))` of :meth:`volumetric_term` (``(None, None)`` without ``K``), or ``None``
        when the volumetric function has no closed-form derivatives."""
        K = self._params.get("K")
        if K is None:
            return None, None
        return VOLUMETRIC_TERMS[self._options.get("volumetric", "quadratic")]().derivatives(J, K)

    def _invariant_derivatives(self, I1: Tensor, I2: Tensor, J: Tensor, second: bool) -> InvariantDerivatives | None:
        r"""Closed-form derivatives of :math:`\psi(I_1, I_2, J)` (:data:`InvariantDerivatives`), or ``None``: by
        default the chain rule of :func:`_isochoric_chain` from :meth:`_iso_derivatives` and
        :meth:`_volumetric_derivatives` when both exist."""
        U = self._volumetric_derivatives(J)
        if U is None:
            return None
        return _isochoric_chain(I1, I2, J, self._iso_derivatives, U, second)

    def _principal_derivatives(self, c: Tensor, second: bool) -> tuple[Tensor, Tensor | None] | None:
        r"""Closed-form principal values :math:`y_a = 2\partial\psi/\partial c_a` ``(..., 3)`` and (``second``)
        :math:`\partial y_a/\partial c_b` ``(..., 3, 3)`` of a principal-stretch model, or ``None`` (default:
        ``torch.func`` on :meth:`_psi_principal`)."""
        return None

    def _fast_ok(self, *tensors: Tensor) -> bool:
        """Whether the fast (in-place, components-first) routes apply: real tensors outside ``torch.func``
        transforms, parameters included, and a non-empty batch; otherwise the reference routes run."""
        if any(_wrapped(t) or t.numel() == 0 or t.is_complex() for t in tensors):
            return False
        return not any(isinstance(p, Tensor) and _wrapped(p) for p in self._params.values())

    def _scalar_invariant_derivatives(self, I1: Tensor, I2: Tensor, J: Tensor, second: bool) -> InvariantDerivatives:
        """:meth:`_invariant_derivatives`, or ``torch.func`` on :meth:`_psi_invariants` where it gives ``None``."""
        d = self._invariant_derivatives(I1, I2, J, second)
        if d is not None:
            return d
        g, H = _scalar_derivatives(
            lambda v: self._psi_invariants(v[0], v[1], v[2]), torch.stack([I1, I2, J], -1), second
        )
        gs = (g[..., 0], g[..., 1], J * g[..., 2] + 2.0 * g[..., 0] + 4.0 * g[..., 1])
        if H is None:
            return gs, None
        return gs, (H[..., 0, 0], H[..., 0, 1], J * H[..., 0, 2], H[..., 1, 1], J * H[..., 1, 2], J * J * H[..., 2, 2])

    def _fast_invariant(
        self, C: Tensor, F: Tensor | None, tangent: bool, dtype: torch.dtype | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """:meth:`_invariant_kernel` over chunks of points (:func:`._hyperfast.run_chunked`): ``(S, dS/dE)`` of ``C``
        ``(..., 3, 3)``, or with ``F`` given ``(P, A)``, in the ``(..., 3, 3)`` / ``(..., 3, 3, 3, 3)`` layout."""
        return hf.run_chunked(self._invariant_kernel, C, F, tangent, dtype)

    def _invariant_kernel(self, C: Tensor, F: Tensor | None, tangent: bool) -> tuple[Tensor, Tensor | None]:
        r"""The invariant route in the components-first layout of :mod:`._hyperfast`: ``(S, dS/dE)`` of
        :math:`C` ``(..., 3, 3)``, or with ``F`` given ``(P, A)`` (:math:`P = FS`, :math:`\mathbb{A} = \partial
        P/\partial F`). Same formulas as :meth:`_invariant_response_reference` with the outer sum folded:
        :math:`\mathbb{C} = \sum_b w_b \otimes G_b - 4\psi_2\mathbb{I}^s - J\psi_J(C^{-1}_{ik}C^{-1}_{jl} +
        C^{-1}_{il}C^{-1}_{jk})`, :math:`w_b = 4\sum_a \psi_{ab} G_a` (+ :math:`4\psi_2 I` for b = 1, + :math:`2\psi_J
        C^{-1}` for b = J); pushed forward term by term,
        :math:`\mathbb{A}_{iJkL} = \delta_{ik}(S - J\psi_J C^{-1})_{JL} + \sum_b (Fw_b)_{iJ}(FG_b)_{kL}
        - 2\psi_2(F_{iL}F_{kJ} + b_{ik}\delta_{JL}) - J\psi_J F^{-T}_{iL}F^{-T}_{kJ}`. The J-derivatives come scaled
        (:data:`InvariantDerivatives`), so :math:`G_J = \tfrac12 J C^{-1}` enters as :math:`C^{-1}` with
        :math:`2J\psi_{aJ}`, :math:`J^2\psi_{JJ}`, and S is assembled from ``r`` without cancellation."""
        Cc = hf.symm(hf.to_cf(C))
        I = hf.eye_cf(Cc)
        I1 = hf.trace(Cc)
        I2 = 0.5 * (I1 * I1 - hf.trace(hf.mm(Cc, Cc)))
        cof = hf.symm(hf.cofactor(Cc))
        I3 = hf.det_from_cofactor(Cc, cof)
        J = torch.sqrt(I3)
        self._check_state(I1 * J ** (-2.0 / 3.0))
        Ci = cof / I3
        (p1, p2, r), h = self._scalar_invariant_derivatives(I1, I2, J, tangent)
        needs_G1 = p2 is not None or (h is not None and any(h[k] is not None for k in (1, 3, 4)))
        G1 = I1 * I - Cc if needs_G1 else None
        S = hf.addt(
            hf.scale(hf.mul(2.0, p1), I - Ci),
            None if p2 is None or G1 is None else 2.0 * p2 * (G1 - 2.0 * Ci),
            hf.scale(r, Ci),
        )
        S = (torch.zeros_like(Cc) if S is None else S).expand(3, 3, Cc.shape[-1])
        out_S = S if F is None else None
        Fc = hf.to_cf(F) if F is not None else None
        if Fc is not None:
            out_S = hf.mm(Fc, S)
        assert out_S is not None
        if not tangent:
            return out_S, None
        assert h is not None
        h11, h12, q1J, h22, q2J, qJJ = h
        qJ = hf.add(r, hf.mul(-2.0, p1), hf.mul(-4.0, p2))  # J psi_J
        # w_b = sum_a 4 psi_ab G_a with G_J = J Ci / 2 written through the J-scaled derivatives (outer with Ci)
        h4 = (hf.mul(4.0, h11), hf.mul(4.0, h12), hf.mul(2.0, q1J), hf.mul(4.0, h22), hf.mul(2.0, q2J))
        w0 = hf.addt(hf.scale(h4[0], I), hf.scale(h4[1], G1), hf.scale(h4[2], Ci), hf.scale(hf.mul(4.0, p2), I))
        w1 = hf.addt(hf.scale(h4[1], I), hf.scale(h4[3], G1), hf.scale(h4[4], Ci))
        w2 = hf.addt(hf.scale(h4[2], I), hf.scale(h4[4], G1), hf.scale(hf.add(qJJ, qJ), Ci))
        q = hf.Quartic(Cc.shape[-1], Cc.dtype, Cc.device)
        box = hf.scale(hf.mul(-1.0, qJ), Ci)
        m2p2 = hf.mul(-2.0, p2)
        if Fc is None:
            q.outer(w0, I)
            if G1 is not None:
                q.outer(w1, G1)
            q.outer(w2, Ci)
            q.ikjl(box, Ci)
            q.iljk(box, Ci)
            q.diag_ik(hf.scale(m2p2, I))
            q.diag_il(hf.scale(m2p2, I))
            return S, q.buffer()
        iFT = hf.mm(Fc, Ci)
        q.outer(None if w0 is None else hf.mm(Fc, w0), Fc)
        if G1 is not None:
            q.outer(None if w1 is None else hf.mm(Fc, w1), I1 * Fc - hf.mm(Fc, Cc))
        q.outer(None if w2 is None else hf.mm(Fc, w2), iFT)
        q.iljk(hf.scale(m2p2, Fc), hf.tr(Fc))
        q.iljk(hf.scale(hf.mul(-1.0, qJ), iFT), hf.tr(iFT))
        q.diag_ik(hf.addt(S, box))
        q.diag_jl(hf.scale(m2p2, hf.mm(Fc, hf.tr(Fc))))
        return out_S, q.buffer()

    def _invariant_response(self, E: Tensor, tangent: bool) -> tuple[Tensor, Tensor | None]:
        """The invariant route: :meth:`_fast_invariant` where it applies (:meth:`_fast_ok`), else
        :meth:`_invariant_response_reference`."""
        if self._fast_ok(E):
            return self._fast_invariant(_right_cauchy_green_work(E), None, tangent, E.dtype)
        return self._invariant_response_reference(E, tangent)

    def _invariant_response_reference(self, E: Tensor, tangent: bool) -> tuple[Tensor, Tensor | None]:
        """The invariant route of the module docstring with ``torch.func`` scalar derivatives, in the ``(..., 3,
        3)`` layout (differentiable by every transform; the reference of the fast route)."""
        I = torch.eye(3, dtype=E.dtype, device=E.device)
        C = sym(I + 2.0 * E)
        I1, I2, I3 = invariants(C)
        J = torch.sqrt(I3)
        if not _wrapped(J):
            self._check_state(I1 * J ** (-2.0 / 3.0))
        Ci = sym(inv(C))
        g, H = _scalar_derivatives(
            lambda v: self._psi_invariants(v[0], v[1], v[2]), torch.stack([I1, I2, J], -1), tangent
        )
        p1, p2, pJ = (g[..., k, None, None] for k in range(3))
        G = torch.stack([I.expand_as(C), I1[..., None, None] * I - C, 0.5 * J[..., None, None] * Ci], -3)
        S = 2.0 * (p1 * G[..., 0, :, :] + p2 * G[..., 1, :, :] + pJ * G[..., 2, :, :])
        if not tangent:
            return S, None
        Jx = J[..., None, None, None, None]
        CC = (
            4.0 * torch.einsum("...ab,...aij,...bkl->...ijkl", H, G, G)
            + 4.0 * p2[..., None, None] * (dyad(I, I) - identity4_sym(E.dtype, E.device))
            + pJ[..., None, None] * Jx * (dyad(Ci, Ci) - 2.0 * _sym_box(Ci))
        )
        return S, CC

    def _check_principal(self, c: Tensor) -> None:
        if not _wrapped(c):
            self._check_state(c.sum(-1) * c.prod(-1) ** (-1.0 / 3.0))

    def _spectral_response(self, E: Tensor, tangent: bool) -> tuple[Tensor, Tensor | None]:
        """The spectral route: :meth:`_fast_spectral` where it applies (:meth:`_fast_ok`), else
        :meth:`_spectral_response_reference`."""
        if self._fast_ok(E):
            return self._fast_spectral(_right_cauchy_green_work(E), None, tangent, E.dtype)
        return self._spectral_response_reference(E, tangent)

    def _fast_spectral(
        self, C: Tensor, F: Tensor | None, tangent: bool, dtype: torch.dtype | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """:meth:`_spectral_kernel` over chunks of points (:func:`._hyperfast.run_chunked`): ``(S, dS/dE)`` of ``C``
        ``(..., 3, 3)``, or with ``F`` given ``(P, A)``, in the ``(..., 3, 3)`` / ``(..., 3, 3, 3, 3)`` layout."""
        return hf.run_chunked(self._spectral_kernel, C, F, tangent, dtype)

    def _spectral_kernel(self, C: Tensor, F: Tensor | None, tangent: bool) -> tuple[Tensor, Tensor | None]:
        r"""The spectral route in the components-first layout of :mod:`._hyperfast`: ``(S, dS/dE)`` of :math:`C`
        ``(..., 3, 3)``, or with ``F`` given ``(P, A)``. With the eigenprojections :math:`M_a = n_a\otimes n_a`,
        :math:`S = \sum_a y_a M_a` and (the Daleckii--Krein form of :func:`constitutive.tensor.spectral_derivative`,
        same coincidence rule and limit) :math:`\mathbb{C} = 2\,\mathrm{d}S/\mathrm{d}C = \sum_b W_b\otimes M_b
        + \sum_a (M_{a,ik} Z_{a,jl} + M_{a,il} Z_{a,jk})` with :math:`W_b = 2\sum_a \partial_b y_a M_a`,
        :math:`Z_a = \sum_{b\ne a}\theta_{ab} M_b`; pushed forward term by term, :math:`\mathbb{A}_{iJkL} =
        \delta_{ik}S_{JL} + \sum_b (FW_b)_{iJ}(FM_b)_{kL} + \sum_a [(FM_a)_{iL}(FZ_a)_{kJ} + (FM_aF^T)_{ik}
        Z_{a,JL}]`."""
        check_finite(C, "the tensor to diagonalise")
        lam, Qc = hf.eigh_cf(hf.symm(hf.to_cf(C)))  # Qc[i, a, m] = (n_a)_i of point m
        M = Qc.shape[-1]
        c = lam.t()  # (m, 3) view: elementwise work on the eigenvalues runs along the points
        self._check_principal(c)
        d = self._principal_derivatives(c, tangent)
        if d is None:
            g, H = _scalar_derivatives(self._psi_principal, c.contiguous(), tangent)
            y, dy = 2.0 * g, (None if H is None else 2.0 * H)
        else:
            y, dy = d
        n = [Qc[:, a] for a in range(3)]
        Mp = [n[a][:, None] * n[a][None] for a in range(3)]
        yc = torch.movedim(y, -1, 0).reshape(3, M).contiguous()
        S = yc[0] * Mp[0] + yc[1] * Mp[1] + yc[2] * Mp[2]
        Fc = hf.to_cf(F) if F is not None else None
        if not tangent:
            return (S if Fc is None else hf.mm(Fc, S)), None
        assert dy is not None
        # theta_ab of constitutive.tensor.spectral_derivative (same coincidence rule and limit), (3, 3, m)
        ct = c.t()
        dyc = torch.movedim(dy, (-2, -1), (0, 1)).reshape(3, 3, M).contiguous()
        gap = ct[:, None] - ct[None]
        tol = float(torch.finfo(ct.dtype).eps) ** (1.0 / 3.0) * ct.abs().amax(0).clamp_min(1.0)
        close = gap.abs() <= tol
        dd = torch.stack([dyc[0, 0], dyc[1, 1], dyc[2, 2]])
        limit = 0.5 * (dd[:, None] + dd[None]) - 0.5 * (dyc + dyc.transpose(0, 1))
        th = torch.where(close, limit, (yc[:, None] - yc[None]) / torch.where(close, 1.0, gap))
        dyc = 2.0 * dyc  # W_b = 2 sum_a dy_ab M_a (C = 2 dS/dC)
        # the spin part as three outer products: N_ab = sym(n_a ⊗ n_b), sum_{a != b} theta_ab N_ab ⊗ N_ab / 2 * 2
        pairs = ((0, 1), (0, 2), (1, 2))
        q = hf.Quartic(M, C.dtype, C.device)
        if Fc is None:
            for b in range(3):
                q.outer(dyc[0, b] * Mp[0] + dyc[1, b] * Mp[1] + dyc[2, b] * Mp[2], Mp[b])
            for a, b in pairs:
                N = 0.5 * (n[a][:, None] * n[b][None] + n[b][:, None] * n[a][None])
                q.outer(4.0 * th[a, b] * N, N)
            return S, q.buffer()
        f = [torch.addcmul(torch.addcmul(Fc[:, 0] * n[a][0], Fc[:, 1], n[a][1]), Fc[:, 2], n[a][2]) for a in range(3)]
        FM = [f[a][:, None] * n[a][None] for a in range(3)]  # F M_a
        for b in range(3):
            q.outer(dyc[0, b] * FM[0] + dyc[1, b] * FM[1] + dyc[2, b] * FM[2], FM[b])
        for a, b in pairs:
            FN = 0.5 * (f[a][:, None] * n[b][None] + f[b][:, None] * n[a][None])
            q.outer(4.0 * th[a, b] * FN, FN)
        q.diag_ik(S)
        return hf.mm(Fc, S), q.buffer()

    def _spectral_response_reference(self, E: Tensor, tangent: bool) -> tuple[Tensor, Tensor | None]:
        """The spectral route in the ``(..., 3, 3)`` layout with :func:`constitutive.tensor.spectral_derivative`
        (differentiable by every transform; the reference of the fast route)."""
        C = sym(torch.eye(3, dtype=E.dtype, device=E.device) + 2.0 * E)
        c, Q = eigh_sym(C)
        self._check_principal(c)
        g, H = _scalar_derivatives(self._psi_principal, c, tangent)
        y = 2.0 * g  # principal values of S
        S = sym((Q * y[..., None, :]) @ Q.transpose(-1, -2))
        if H is None:
            return S, None
        # dS/dE = 2 dS/dC; dS/dC from the principal values y_a(c) and dy_a/dc_b = 2 d2psi/dc_a dc_b.
        return S, 2.0 * spectral_derivative(c, Q, y, 2.0 * H)

    # ------------------------------------------------------------------------------------------ F-based maps
    def second_piola(self, F: TensorLike) -> Tensor:
        r""":math:`S(F)` ``(..., 3, 3)``; ``ValueError`` for :math:`\det F \le 0`."""
        return self.stress(_green_lagrange(self._check_F(F)))

    def first_piola(self, F: TensorLike) -> Tensor:
        r"""First Piola--Kirchhoff stress :math:`P = F S` ``(..., 3, 3)`` (:math:`P_{iJ}`)."""
        F = self._check_F(F)
        fast = self._fast_F_route(F)
        if fast is not None:  # the same computation as first_piola_and_elasticity's P
            Fw = hf.working(F)
            return fast(Fw.transpose(-1, -2) @ Fw, Fw, False, F.dtype)[0]
        return F @ self.stress(_green_lagrange(F))

    def kirchhoff(self, F: TensorLike) -> Tensor:
        r"""Kirchhoff stress :math:`\tau = F S F^T` ``(..., 3, 3)``."""
        F = self._check_F(F)
        return sym(F @ self.stress(_green_lagrange(F)) @ F.transpose(-1, -2))

    def cauchy(self, F: TensorLike) -> Tensor:
        r"""Cauchy stress :math:`\sigma = J^{-1} F S F^T` ``(..., 3, 3)``."""
        F = self._check_F(F)
        return sym(F @ self.stress(_green_lagrange(F)) @ F.transpose(-1, -2)) / det(F)[..., None, None]

    def material_tangent(self, F: TensorLike) -> Tensor:
        r"""Material tangent :math:`\mathbb{C} = \partial S/\partial E` at :math:`E(F)`, ``(..., 3, 3, 3, 3)``."""
        return self.tangent(_green_lagrange(self._check_F(F)))

    def first_elasticity(self, F: TensorLike) -> Tensor:
        r"""First elasticity tensor :math:`\mathbb{A}_{iJkL} = \partial P_{iJ}/\partial F_{kL} = \delta_{ik} S_{LJ}
        + F_{iI}\mathbb{C}_{IJLK}F_{kK}` ``(..., 3, 3, 3, 3)`` (not minor-symmetric; see
        :func:`constitutive.kinematics.material_to_first_elasticity`)."""
        return self.first_piola_and_elasticity(F)[1]

    def spatial_tangent(self, F: TensorLike) -> Tensor:
        r"""Spatial tangent :math:`c_{ijkl} = J^{-1}F_{iI}F_{jJ}F_{kK}F_{lL}\mathbb{C}_{IJKL}` ``(..., 3, 3, 3,
        3)``."""
        F = self._check_F(F)
        return push_forward_tangent(self.tangent(_green_lagrange(F)), F)

    def abaqus_tangent(self, F: TensorLike) -> Tensor:
        r"""The Abaqus/Standard UMAT tangent (Jaumann rate of Kirchhoff stress over :math:`J`):
        :math:`c_{ijkl} + \tfrac12(\delta_{ik}\sigma_{jl} + \sigma_{ik}\delta_{jl} + \delta_{il}\sigma_{jk} +
        \sigma_{il}\delta_{jk})`, ``(..., 3, 3, 3, 3)``, minor-symmetric (see
        :func:`constitutive.kinematics.spatial_to_jaumann_tangent`)."""
        return self.cauchy_and_abaqus_tangent(F)[1]

    def first_piola_and_elasticity(self, F: TensorLike) -> tuple[Tensor, Tensor]:
        r"""``(P, A)`` in one evaluation of the model (what a Newton iteration on :math:`P(F)` needs)."""
        F = self._check_F(F)
        fast = self._fast_F_route(F)
        if fast is not None:
            Fw = hf.working(F)
            PA = fast(Fw.transpose(-1, -2) @ Fw, Fw, True, F.dtype)
            assert PA[1] is not None  # tangent=True
            return PA[0], PA[1]
        S, CC = self.stress_and_tangent(_green_lagrange(F))
        return F @ S, material_to_first_elasticity(CC, S, F)

    def _fast_F_route(self, F: Tensor) -> Callable[..., tuple[Tensor, Tensor | None]] | None:
        """The fast route computing ``(P, A)`` directly from F (invariant or spectral models outside ``torch.func``
        transforms), or ``None`` (then S and dS/dE are converted by
        :func:`constitutive.kinematics.material_to_first_elasticity`)."""
        if self._tensor_model or type(self)._response is not HyperelasticMaterial._response:
            return None  # anisotropic models and classes with their own S(E) (Saint Venant-Kirchhoff)
        if not self._fast_ok(F):
            return None
        self._require_compressible("a 3-D stress")
        return self._fast_spectral if self._principal_model else self._fast_invariant

    def cauchy_and_abaqus_tangent(self, F: TensorLike) -> tuple[Tensor, Tensor]:
        r"""``(sigma, C^{tau J})`` in one evaluation of the model (the STRESS and DDSDDE of a finite-strain UMAT,
        as tensors)."""
        F = self._check_F(F)
        S, CC = self.stress_and_tangent(_green_lagrange(F))
        sigma = sym(F @ S @ F.transpose(-1, -2)) / det(F)[..., None, None]
        return sigma, spatial_to_jaumann_tangent(push_forward_tangent(CC, F), sigma)

    def _check_F(self, F: TensorLike) -> Tensor:
        F = check_deformation_gradient(
            F if isinstance(F, Tensor) else as_tensor(F, dtype=self.dtype, device=self.device)
        )
        return F

    # ---------------------------------------------------------------------------- homogeneous incompressible
    def nominal_stress(self, stretch: TensorLike, mode: str = "uniaxial") -> Tensor:
        r"""Nominal (first Piola--Kirchhoff) stress in the loading direction of a homogeneous incompressible
        deformation, lateral stresses free, ``(...)`` for stretches ``(...)``.

        With the principal stretches of :func:`incompressible_stretches` (:math:`\lambda_1\lambda_2\lambda_3 = 1`)
        the Cauchy stresses are :math:`\sigma_a = \lambda_a \partial\psi/\partial\lambda_a - p`; the pressure
        :math:`p` follows from the free lateral direction :math:`m`, so
        :math:`P_{1} = (\lambda_1 \psi_{,1} - \lambda_m \psi_{,m}) / \lambda_1`, :math:`\lambda_a
        \psi_{,a} = 2 c_a \partial\psi/\partial c_a`. Terms of :math:`J` alone (the volumetric :math:`U(J)`, the
        :math:`\ln J` terms of the Neo-Hookean forms) give equal :math:`\lambda_a\psi_{,a}` in every direction and
        cancel, so models with a split give their incompressible limit; a model without one (Saint
        Venant--Kirchhoff) is evaluated with its whole energy under the constraint. Differentiable with respect to
        the parameters (and the stretch).
        """
        lam = (
            stretch
            if isinstance(stretch, Tensor) and stretch.is_floating_point()
            else as_tensor(stretch, self.dtype, None if isinstance(stretch, Tensor) else self.device)
        )
        check_finite(lam, "stretch")
        if not _wrapped(lam) and bool((lam <= 0).any()):
            raise ValueError("stretch must be positive (a stretch ratio lambda = l / L > 0)")
        if mode not in LOADING_MODES:
            raise ValueError(f"unknown loading mode {mode!r}; choose one of {LOADING_MODES}")
        stretches, lateral = incompressible_stretches(lam, mode)
        c = stretches**2
        self._check_principal(c)
        g, _ = _scalar_derivatives(self._psi_principal, c, second=False)
        t = 2.0 * c * g  # lambda_a dpsi/dlambda_a
        return (t[..., 0] - t[..., lateral]) / lam


def _energy_moduli(model: HyperelasticMaterial) -> tuple[Tensor, Tensor]:
    r"""Initial shear and bulk moduli :math:`(\mu_0, K_0)` of ``model``'s energy, read off its exact tangent at
    :math:`E = 0`: :math:`\mu_0 = \mathbb{C}_{1212}`, :math:`K_0 = (\mathbb{C}_{1111} + 2\mathbb{C}_{1122})/3`
    (isotropic linearisation; differentiable in the parameters)."""
    E0 = torch.zeros(3, 3, dtype=model.dtype, device=model.device)
    route = model._spectral_response if model._principal_model else model._invariant_response
    CC = route(E0, True)[1]
    assert CC is not None  # tangent=True
    return CC[0, 1, 0, 1], (CC[0, 0, 0, 0] + 2.0 * CC[0, 0, 1, 1]) / 3.0


class _EnergyHook(HyperelasticMaterial, abstract=True):
    """Shared by the public hooks: initial moduli from the energy. A class that declares a parameter ``K`` (e.g.
    ``K = BULK_MODULUS``) is incompressible when it is not given (nominal stress only); otherwise the model is
    compressible with the bulk modulus of its energy."""

    @property
    def initial_shear_modulus(self) -> Tensor:
        return _energy_moduli(self)[0]

    @property
    def initial_bulk_modulus(self) -> Tensor | None:
        if "K" in type(self).declared_parameters() and self._params.get("K") is None:
            return None
        return _energy_moduli(self)[1]


class InvariantHyperelastic(_EnergyHook, abstract=True):
    r"""Public hook: a hyperelastic model written from invariants of :math:`C`. Subclass it, declare the
    parameters (:class:`~constitutive.models.Parameter`; ``K = BULK_MODULUS`` for an optional bulk modulus) and
    define **one** energy method, for a batch of points (``(...)`` tensors in, ``(...)`` out):

    * ``psi_isochoric(self, I1bar, I2bar, J)`` -- :math:`\psi(\bar I_1, \bar I_2, J)` (the isochoric/volumetric
      split; :meth:`volumetric_term` gives :math:`U(J)` from ``K``), or
    * ``psi_invariants(self, I1, I2, I3)`` -- :math:`\psi(I_1, I_2, I_3)`, :math:`I_3 = \det C = J^2`.

    Everything else follows exactly from the energy by the invariant route (module docstring): ``stress``/
    ``tangent`` (:math:`S`, :math:`\partial S/\partial E`), ``first_piola``/``first_elasticity`` (:math:`P`,
    :math:`\mathbb{A}`), ``cauchy``/``abaqus_tangent``, ``nominal_stress(stretch, mode)``, and the initial moduli
    (from the tangent at :math:`E = 0`). Write the energy with torch operations only (it is differentiated twice
    by ``torch.func``), without Python branches on values. Example (Mooney--Rivlin)::

        class MyMooneyRivlin(InvariantHyperelastic):
            C10 = Parameter("coefficient of (I1bar - 3)", unit="stress")
            C01 = Parameter("coefficient of (I2bar - 3)", unit="stress")
            K = BULK_MODULUS

            def psi_isochoric(self, I1bar, I2bar, J):
                return self.C10 * (I1bar - 3) + self.C01 * (I2bar - 3) + self.volumetric_term(J)
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if _defines(cls, "psi_isochoric") and _defines(cls, "psi_invariants"):  # checked before registration
            raise TypeError(f"{cls.__name__} defines both psi_isochoric and psi_invariants; define one")
        super().__init_subclass__(**kwargs)

    def psi_isochoric(self, I1bar: Tensor, I2bar: Tensor, J: Tensor) -> Tensor:
        r"""The energy :math:`\psi(\bar I_1, \bar I_2, J)` ``(...)`` (define this or :meth:`psi_invariants`)."""
        raise TypeError(f"{type(self).__name__} must define psi_isochoric(I1bar, I2bar, J) or psi_invariants")

    def psi_invariants(self, I1: Tensor, I2: Tensor, I3: Tensor) -> Tensor:
        r"""The energy :math:`\psi(I_1, I_2, I_3)` ``(...)`` (define this or :meth:`psi_isochoric`)."""
        raise TypeError(f"{type(self).__name__} must define psi_invariants(I1, I2, I3) or psi_isochoric")

    def _psi_invariants(self, I1: Tensor, I2: Tensor, J: Tensor) -> Tensor:
        if _defines(type(self), "psi_invariants"):
            return self.psi_invariants(I1, I2, J * J)
        I1b, I2b = _iso(I1, I2, J)
        return self.psi_isochoric(I1b, I2b, J)


class StretchHyperelastic(_EnergyHook, abstract=True):
    r"""Public hook: a hyperelastic model written from principal stretches. Subclass it, declare the parameters
    and define ``psi_stretches(self, lam)``: the energy ``(...)`` of the principal stretches ``lam`` ``(..., 3)``
    (:math:`\lambda_a = \sqrt{c_a}`, :math:`c_a` the eigenvalues of :math:`C`), symmetric in the three stretches
    (isotropy). :func:`isochoric_stretches` gives :math:`(\bar\lambda_a, J)` for the isochoric/volumetric split.

    Stress and tangent by the spectral route (module docstring), exact at equal stretches (:math:`F = I`
    included) like :class:`Ogden`; every measure of :class:`HyperelasticMaterial` and ``nominal_stress`` follow.
    Example (one-term Ogden)::

        class MyOgden(StretchHyperelastic):
            mu = Parameter("modulus", unit="stress")
            alpha = Parameter("exponent", unit="1")
            K = BULK_MODULUS

            def psi_stretches(self, lam):
                lam_bar, J = isochoric_stretches(lam)
                return self.mu / self.alpha * ((lam_bar**self.alpha).sum(-1) - 3) + self.volumetric_term(J)
    """

    _principal_model: ClassVar[bool] = True

    def psi_stretches(self, lam: Tensor) -> Tensor:
        r"""The energy :math:`\psi(\lambda_1, \lambda_2, \lambda_3)` ``(...)`` for ``lam`` ``(..., 3)``."""
        raise TypeError(f"{type(self).__name__} must define psi_stretches(lam)")

    def _psi_principal(self, c: Tensor) -> Tensor:
        return self.psi_stretches(torch.sqrt(c))


def isochoric_stretches(lam: Tensor) -> tuple[Tensor, Tensor]:
    r"""Isochoric stretches :math:`\bar\lambda_a = J^{-1/3}\lambda_a` ``(..., 3)`` and :math:`J = \lambda_1
    \lambda_2\lambda_3` ``(...)`` of principal stretches ``lam`` ``(..., 3)`` (through logarithms: exact and smooth
    for positive stretches)."""
    ln = torch.log(lam)
    return torch.exp(ln - ln.mean(-1, keepdim=True)), torch.exp(ln.sum(-1))


def _defines(cls: type, name: str) -> bool:
    """Whether ``cls`` overrides the hook ``name`` of the public hook classes."""
    hook = StretchHyperelastic if name == "psi_stretches" else InvariantHyperelastic
    return getattr(cls, name) is not getattr(hook, name)


def _iso(I1: Tensor, I2: Tensor, J: Tensor) -> tuple[Tensor, Tensor]:
    r"""Isochoric invariants :math:`\bar I_1 = J^{-2/3} I_1`, :math:`\bar I_2 = J^{-4/3} I_2`."""
    return I1 * J ** (-2.0 / 3.0), I2 * J ** (-4.0 / 3.0)


class SaintVenantKirchhoff(HyperelasticMaterial):
    r"""Saint Venant--Kirchhoff: :math:`\psi = \tfrac{\lambda}{2} (\operatorname{tr} E)^2 + \mu\, E:E`,
    :math:`S = \lambda (\operatorname{tr} E) I + 2\mu E`, :math:`\mathbb{C} = \lambda I\otimes I + 2\mu
    \mathbb{I}^s` (constant). Lamé constants ``lmbda``, ``mu`` (:math:`\mu > 0`, :math:`K = \lambda + 2\mu/3 > 0`).
    Linear elasticity written in :math:`(E, S)`; not polyconvex, unstable in strong compression.
    """

    lmbda = Parameter("Lamé's first constant λ (K = λ + 2μ/3 > 0)", unit="stress")
    mu = Parameter("shear modulus μ", unit="stress", lower=0.0, lower_open=True)

    def __init__(
        self, lmbda: TensorLike, mu: TensorLike, *, dtype: torch.dtype = DEFAULT_DTYPE, device: Any = None
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        self._param("lmbda", lmbda)
        self._param("mu", mu)
        _check_bulk(self.lmbda, self.mu)

    @property
    def initial_shear_modulus(self) -> Tensor:
        return self.mu

    @property
    def initial_bulk_modulus(self) -> Tensor:
        return self.lmbda + 2.0 * self.mu / 3.0

    def _psi_invariants(self, I1: Tensor, I2: Tensor, J: Tensor) -> Tensor:
        # tr E = (I1 - 3)/2, E:E = (tr C^2 - 2 I1 + 3)/4 with tr C^2 = I1^2 - 2 I2.
        trE = 0.5 * (I1 - 3.0)
        EE = 0.25 * (I1 * I1 - 2.0 * I2 - 2.0 * I1 + 3.0)
        return 0.5 * self.lmbda * trE * trE + self.mu * EE

    def energy(self, strain: TensorLike) -> Tensor:
        E = self.check_strain(strain)
        trE = E.diagonal(dim1=-2, dim2=-1).sum(-1)
        return 0.5 * self.lmbda * trE**2 + self.mu * (E * E).sum((-1, -2))

    def _response(self, strain: TensorLike, tangent: bool) -> tuple[Tensor, Tensor | None]:
        E = self.check_strain(strain)
        I = torch.eye(3, dtype=E.dtype, device=E.device)
        trE = E.diagonal(dim1=-2, dim2=-1).sum(-1)[..., None, None]
        S = self.lmbda * trE * I + 2.0 * self.mu * E
        if not tangent:
            return S, None
        CC = self.lmbda * dyad(I, I) + 2.0 * self.mu * identity4_sym(E.dtype, E.device)
        return S, CC.expand(*E.shape[:-2], 3, 3, 3, 3).clone()


NEO_HOOKEAN_FORMS: dict[str, str] = {
    "ciarlet": "psi = mu/2 (I1 - 3) - mu ln J + lmbda/2 (ln J)^2",
    "ciarlet_geymonat": "psi = mu/2 (I1 - 3) - mu ln J + lmbda/4 (J^2 - 1 - 2 ln J)",
    "isochoric": "psi = mu/2 (I1bar - 3) + U(J), K = lmbda + 2 mu / 3, U chosen by `volumetric`",
}


class NeoHookean(HyperelasticMaterial):
    r"""Compressible Neo-Hookean solid, shear modulus ``mu``, Lamé ``lmbda`` (:math:`K_0 = \lambda + 2\mu/3`).

    Parameters
    ----------
    mu:
        Shear modulus μ > 0.
    lmbda:
        Lamé's first constant λ (:math:`K_0 = \lambda + 2\mu/3 > 0`); ``None`` (default): incompressible (below).
    form:
        The energy, ``"ciarlet"`` (default), ``"ciarlet_geymonat"`` or ``"isochoric"`` (below).
    volumetric:
        The volumetric function :math:`U(J; K)` of the ``"isochoric"`` form, a name of :data:`VOLUMETRIC_TERMS`
        (default ``"quadratic"``).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).

    ``form`` selects the energy:

    * ``"ciarlet"`` (default): :math:`\psi = \tfrac{\mu}{2}(I_1 - 3) - \mu\ln J + \tfrac{\lambda}{2}(\ln J)^2`
      (Ciarlet 1988; Bonet & Wood 2008), :math:`S = \mu(I - C^{-1}) + \lambda\ln J\, C^{-1}`,
      :math:`\mathbb{C} = \lambda C^{-1}\otimes C^{-1} + 2(\mu - \lambda\ln J)\, C^{-1}\odot C^{-1}` (hand-written);
    * ``"ciarlet_geymonat"``: :math:`\psi = \tfrac{\mu}{2}(I_1 - 3) - \mu\ln J + \tfrac{\lambda}{4}(J^2 - 1 -
      2\ln J)`, :math:`S = \mu(I - C^{-1}) + \tfrac{\lambda}{2}(J^2 - 1) C^{-1}`;
    * ``"isochoric"``: :math:`\psi = \tfrac{\mu}{2}(\bar I_1 - 3) + U(J)` with :math:`K = \lambda + 2\mu/3` and
      :math:`U` from ``volumetric`` (the Abaqus/Simo--Miehe decoupled form).

    ``lmbda=None`` gives the incompressible Neo-Hookean :math:`\psi = \tfrac{\mu}{2}(\bar I_1 - 3)` (nominal stress
    only). All forms have the initial moduli :math:`\mu_0 = \mu`, :math:`\lambda_0 = \lambda`.
    """

    form: str
    volumetric: str

    mu = Parameter("shear modulus μ", unit="stress", lower=0.0, lower_open=True)
    lmbda = OptionalParameter("Lamé's first constant λ (None: incompressible)", unit="stress")

    def __init__(
        self,
        mu: TensorLike,
        lmbda: TensorLike | None = None,
        *,
        form: str = "ciarlet",
        volumetric: str = "quadratic",
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: Any = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        self._param("mu", mu)
        if lmbda is not None:
            _check_bulk(self._param("lmbda", lmbda), self.mu)
        self._option("form", form, tuple(NEO_HOOKEAN_FORMS))
        self._option("volumetric", volumetric, tuple(VOLUMETRIC_TERMS))

    @property
    def initial_shear_modulus(self) -> Tensor:
        return self.mu

    @property
    def initial_bulk_modulus(self) -> Tensor | None:
        return None if self.lmbda is None else self.lmbda + 2.0 * self.mu / 3.0

    def _psi_invariants(self, I1: Tensor, I2: Tensor, J: Tensor) -> Tensor:
        mu, lmbda = self.mu, self.lmbda
        if lmbda is None:
            return 0.5 * mu * (_iso(I1, I2, J)[0] - 3.0)
        lnJ = torch.log(J)
        if self.form == "ciarlet":
            return 0.5 * mu * (I1 - 3.0) - mu * lnJ + 0.5 * lmbda * lnJ * lnJ
        if self.form == "ciarlet_geymonat":
            return 0.5 * mu * (I1 - 3.0) - mu * lnJ + 0.25 * lmbda * (J * J - 1.0 - 2.0 * lnJ)
        K = lmbda + 2.0 * mu / 3.0
        return 0.5 * mu * (_iso(I1, I2, J)[0] - 3.0) + volumetric_energy(J, K, self.volumetric)

    def _invariant_derivatives(self, I1: Tensor, I2: Tensor, J: Tensor, second: bool) -> InvariantDerivatives | None:
        # ciarlet: r = J psi_J + mu = lmbda ln J, J^2 psi_JJ = mu + lmbda - lmbda ln J;
        # ciarlet_geymonat: r = lmbda/2 (J^2 - 1), J^2 psi_JJ = mu + lmbda/2 (J^2 + 1).
        if self.lmbda is None or self.form == "isochoric":
            return super()._invariant_derivatives(I1, I2, J, second)
        mu, lmbda = self.mu, self.lmbda
        if self.form == "ciarlet":
            lnJ = torch.log(J)
            r, qJJ = lmbda * lnJ, mu + lmbda - lmbda * lnJ
        else:
            J2 = J * J
            r, qJJ = 0.5 * lmbda * (J2 - 1.0), mu + 0.5 * lmbda * (J2 + 1.0)
        return (0.5 * mu, None, r), ((None, None, None, None, None, qJJ) if second else None)

    def _iso_derivatives(self, I1bar: Tensor, I2bar: Tensor, second: bool) -> IsochoricDerivatives:
        return 0.5 * self.mu, None, None, None, None

    def _volumetric_derivatives(self, J: Tensor) -> tuple[Coef, Coef] | None:
        if self.lmbda is None:
            return None, None
        return VOLUMETRIC_TERMS[self.volumetric]().derivatives(J, self.lmbda + 2.0 * self.mu / 3.0)

    def _invariant_response(self, E: Tensor, tangent: bool) -> tuple[Tensor, Tensor | None]:
        if self._fast_ok(E) or self.form != "ciarlet" or self.lmbda is None:
            return super()._invariant_response(E, tangent)
        return self._hand_written_response(E, tangent)  # inside torch.func transforms

    def _hand_written_response(self, E: Tensor, tangent: bool) -> tuple[Tensor, Tensor | None]:
        """The hand-written ciarlet form of the class docstring in the ``(..., 3, 3)`` layout."""
        assert self.lmbda is not None  # compressible ciarlet form only
        I = torch.eye(3, dtype=E.dtype, device=E.device)
        C = sym(I + 2.0 * E)
        Ci = sym(inv(C))
        lnJ = 0.5 * torch.log(det(C))[..., None, None]
        S = self.mu * (I - Ci) + self.lmbda * lnJ * Ci
        if not tangent:
            return S, None
        CC = self.lmbda * dyad(Ci, Ci) + 2.0 * (self.mu - self.lmbda * lnJ)[..., None, None] * _sym_box(Ci)
        return S, CC


class MooneyRivlin(HyperelasticMaterial):
    r"""Mooney--Rivlin (Mooney 1940, Rivlin 1948): :math:`\psi = C_{10}(\bar I_1 - 3) + C_{01}(\bar I_2 - 3) + U(J)`.

    Initial shear modulus :math:`\mu_0 = 2(C_{10} + C_{01})` (must be positive). Incompressible without ``K``:
    uniaxial nominal stress :math:`P = 2(\lambda - \lambda^{-2})(C_{10} + C_{01}/\lambda)`.

    Parameters
    ----------
    C10, C01:
        Coefficients of :math:`\bar I_1 - 3` and :math:`\bar I_2 - 3` (stress units; :math:`C_{10} + C_{01} > 0`).
    K:
        Bulk modulus (> 0) of the volumetric energy :math:`U(J)`; ``None`` (default): incompressible.
    volumetric:
        The volumetric function :math:`U(J; K)`, a name of :data:`VOLUMETRIC_TERMS` (default ``"quadratic"``).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).
    """

    C10 = Parameter("coefficient of (I1bar - 3); 2(C10 + C01) > 0", unit="stress")
    C01 = Parameter("coefficient of (I2bar - 3)", unit="stress")
    K = BULK_MODULUS

    def __init__(
        self,
        C10: TensorLike,
        C01: TensorLike,
        K: TensorLike | None = None,
        *,
        volumetric: str = "quadratic",
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: Any = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        self._param("C10", C10)
        self._param("C01", C01)
        if not (_wrapped(self.C10) or _wrapped(self.C01)) and float((self.C10 + self.C01).detach()) <= 0:
            raise ValueError(
                f"parameters 'C10' + 'C01' must be positive (initial shear modulus 2(C10 + C01) > 0), got "
                f"C10 = {float(self.C10.detach())}, C01 = {float(self.C01.detach())}"
            )
        _volumetric_part(self, K, volumetric)

    @property
    def initial_shear_modulus(self) -> Tensor:
        return 2.0 * (self.C10 + self.C01)

    def _psi_invariants(self, I1: Tensor, I2: Tensor, J: Tensor) -> Tensor:
        I1b, I2b = _iso(I1, I2, J)
        return self.C10 * (I1b - 3.0) + self.C01 * (I2b - 3.0) + self._volumetric(J)

    def _iso_derivatives(self, I1bar: Tensor, I2bar: Tensor, second: bool) -> IsochoricDerivatives:
        return self.C10, self.C01, None, None, None


class Yeoh(HyperelasticMaterial):
    r"""Yeoh (1993): :math:`\psi = \sum_{i=1}^{3} C_{i0}(\bar I_1 - 3)^i + U(J)`; :math:`\mu_0 = 2C_{10} > 0`.

    Parameters
    ----------
    C10, C20, C30:
        Coefficients of :math:`(\bar I_1 - 3)^i`, i = 1, 2, 3 (stress units; :math:`C_{10} > 0`).
    K:
        Bulk modulus (> 0) of the volumetric energy :math:`U(J)`; ``None`` (default): incompressible.
    volumetric:
        The volumetric function :math:`U(J; K)`, a name of :data:`VOLUMETRIC_TERMS` (default ``"quadratic"``).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).
    """

    C10 = Parameter("coefficient of (I1bar - 3) (μ0 = 2 C10)", unit="stress", lower=0.0, lower_open=True)
    C20 = Parameter("coefficient of (I1bar - 3)^2", unit="stress")
    C30 = Parameter("coefficient of (I1bar - 3)^3", unit="stress")
    K = BULK_MODULUS

    def __init__(
        self,
        C10: TensorLike,
        C20: TensorLike,
        C30: TensorLike,
        K: TensorLike | None = None,
        *,
        volumetric: str = "quadratic",
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: Any = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        self._param("C10", C10)
        self._param("C20", C20)
        self._param("C30", C30)
        _volumetric_part(self, K, volumetric)

    @property
    def initial_shear_modulus(self) -> Tensor:
        return 2.0 * self.C10

    def _psi_invariants(self, I1: Tensor, I2: Tensor, J: Tensor) -> Tensor:
        x = _iso(I1, I2, J)[0] - 3.0
        x2 = x * x
        return self.C10 * x + self.C20 * x2 + self.C30 * x2 * x + self._volumetric(J)

    def _iso_derivatives(self, I1bar: Tensor, I2bar: Tensor, second: bool) -> IsochoricDerivatives:
        x = I1bar - 3.0
        W1 = self.C10 + 2.0 * self.C20 * x + 3.0 * self.C30 * x * x
        return W1, None, (2.0 * self.C20 + 6.0 * self.C30 * x) if second else None, None, None


#: Coefficients of the five-term Arruda--Boyce series (inverse-Langevin expansion), as in Abaqus.
ARRUDA_BOYCE_COEFFICIENTS = (1.0 / 2.0, 1.0 / 20.0, 11.0 / 1050.0, 19.0 / 7000.0, 519.0 / 673750.0)


class ArrudaBoyce(HyperelasticMaterial):
    r"""Arruda--Boyce eight-chain model (Arruda & Boyce 1993), five-term series as in Abaqus:
    :math:`\psi = \mu\sum_{i=1}^{5} \frac{\alpha_i}{N^{i-1}}(\bar I_1^i - 3^i) + U(J)`,
    :math:`\alpha = (\tfrac12, \tfrac1{20}, \tfrac{11}{1050}, \tfrac{19}{7000}, \tfrac{519}{673750})`, ``N`` the
    number of chain segments (:math:`\lambda_m = \sqrt N` the locking stretch). :math:`\mu` is not exactly the initial
    shear modulus: :math:`\mu_0 = \mu(1 + \tfrac{3}{5N} + \tfrac{99}{175N^2} + \tfrac{513}{875N^3} +
    \tfrac{42039}{67375N^4})`.

    Parameters
    ----------
    mu:
        The shear modulus parameter μ > 0.
    N:
        The number of chain segments, N > 1.
    K:
        Bulk modulus (> 0) of the volumetric energy :math:`U(J)`; ``None`` (default): incompressible.
    volumetric:
        The volumetric function :math:`U(J; K)`, a name of :data:`VOLUMETRIC_TERMS` (default ``"quadratic"``).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).
    """

    mu = Parameter("shear modulus parameter μ", unit="stress", lower=0.0, lower_open=True)
    N = Parameter("chain segments (locking stretch sqrt(N))", unit="1", lower=1.0, lower_open=True)
    K = BULK_MODULUS

    def __init__(
        self,
        mu: TensorLike,
        N: TensorLike,
        K: TensorLike | None = None,
        *,
        volumetric: str = "quadratic",
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: Any = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        self._param("mu", mu)
        self._param("N", N)
        _volumetric_part(self, K, volumetric)

    @property
    def initial_shear_modulus(self) -> Tensor:
        # mu0 = 2 dpsi/dI1bar at I1bar = 3
        return self.mu * sum(
            2.0 * i * a * 3.0 ** (i - 1) / self.N ** (i - 1) for i, a in enumerate(ARRUDA_BOYCE_COEFFICIENTS, 1)
        )

    def _psi_invariants(self, I1: Tensor, I2: Tensor, J: Tensor) -> Tensor:
        I1b = _iso(I1, I2, J)[0]
        series = sum(a / self.N ** (i - 1) * (I1b**i - 3.0**i) for i, a in enumerate(ARRUDA_BOYCE_COEFFICIENTS, 1))
        return self.mu * series + self._volumetric(J)

    def _iso_derivatives(self, I1bar: Tensor, I2bar: Tensor, second: bool) -> IsochoricDerivatives:
        # W = mu sum_i a_i N^(1-i) (I1bar^i - 3^i): W_1 = mu sum_i i a_i N^(1-i) I1bar^(i-1), W_11 likewise.
        coef = [a / self.N ** (i - 1) for i, a in enumerate(ARRUDA_BOYCE_COEFFICIENTS, 1)]
        powers = [torch.ones_like(I1bar), I1bar]
        for _ in range(3):
            powers.append(powers[-1] * I1bar)
        W1 = self.mu * sum(i * coef[i - 1] * powers[i - 1] for i in range(1, 6))
        W11 = self.mu * sum(i * (i - 1) * coef[i - 1] * powers[i - 2] for i in range(2, 6)) if second else None
        return W1, None, W11, None, None


class Gent(HyperelasticMaterial):
    r"""Gent (1996): :math:`\psi = -\tfrac{\mu J_m}{2}\ln\!\left(1 - \frac{\bar I_1 - 3}{J_m}\right) + U(J)`,
    initial shear modulus ``mu``, locking parameter ``Jm`` > 0 (:math:`\bar I_1 - 3 < J_m`: states beyond the
    limiting chain extensibility raise ``ValueError``). Tends to Neo-Hookean as :math:`J_m\to\infty`.

    Parameters
    ----------
    mu:
        Initial shear modulus μ > 0.
    Jm:
        Locking parameter :math:`J_m > 0`.
    K:
        Bulk modulus (> 0) of the volumetric energy :math:`U(J)`; ``None`` (default): incompressible.
    volumetric:
        The volumetric function :math:`U(J; K)`, a name of :data:`VOLUMETRIC_TERMS` (default ``"quadratic"``).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).
    """

    mu = Parameter("shear modulus μ", unit="stress", lower=0.0, lower_open=True)
    Jm = Parameter("locking parameter (I1bar - 3 < Jm)", unit="1", lower=0.0, lower_open=True)
    K = BULK_MODULUS

    def __init__(
        self,
        mu: TensorLike,
        Jm: TensorLike,
        K: TensorLike | None = None,
        *,
        volumetric: str = "quadratic",
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: Any = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        self._param("mu", mu)
        self._param("Jm", Jm)
        _volumetric_part(self, K, volumetric)

    @property
    def initial_shear_modulus(self) -> Tensor:
        return self.mu

    def _check_state(self, I1bar: Tensor) -> None:
        if _wrapped(self.Jm) or _wrapped(I1bar):  # a value check: skipped inside torch.func transforms
            return
        bad = (I1bar - 3.0) >= self.Jm.detach()
        if bool(bad.any()):
            raise ValueError(
                f"Gent model: the state exceeds the limiting chain extensibility (I1bar - 3 = "
                f"{float((I1bar - 3.0)[bad].max()):.6g} >= Jm = {float(self.Jm.detach()):.6g})"
            )

    def _psi_invariants(self, I1: Tensor, I2: Tensor, J: Tensor) -> Tensor:
        x = _iso(I1, I2, J)[0] - 3.0
        return -0.5 * self.mu * self.Jm * torch.log1p(-x / self.Jm) + self._volumetric(J)

    def _iso_derivatives(self, I1bar: Tensor, I2bar: Tensor, second: bool) -> IsochoricDerivatives:
        # W = -mu Jm/2 ln(1 - x/Jm), x = I1bar - 3: W_1 = mu/2 r, W_11 = mu/(2 Jm) r^2 with r = 1/(1 - x/Jm).
        r = 1.0 / (1.0 - (I1bar - 3.0) / self.Jm)
        return 0.5 * self.mu * r, None, (0.5 * self.mu / self.Jm * r * r) if second else None, None, None


class Ogden(HyperelasticMaterial):
    r"""Ogden (1972), in Ogden's convention:
    :math:`\psi = \sum_p \frac{\mu_p}{\alpha_p}(\bar\lambda_1^{\alpha_p} + \bar\lambda_2^{\alpha_p} +
    \bar\lambda_3^{\alpha_p} - 3) + U(J)`, initial shear modulus :math:`\mu_0 = \tfrac12\sum_p\mu_p\alpha_p > 0`.

    ``mu`` and ``alpha`` are sequences of equal length (1-D tensors), :math:`\alpha_p \ne 0`. Principal values
    :math:`y_a = 2\partial\psi/\partial c_a` with :math:`\bar\lambda_a^{\alpha} = \exp(\tfrac{\alpha}{2}(\ln c_a -
    \tfrac13\sum_b \ln c_b))`; stress and tangent by the spectral route (exact at repeated stretches). Incompressible
    uniaxial nominal stress: :math:`P = \sum_p \mu_p(\lambda^{\alpha_p - 1} - \lambda^{-\alpha_p/2 - 1})`.

    Parameters
    ----------
    mu, alpha:
        The moduli :math:`\mu_p` (stress units) and exponents :math:`\alpha_p \ne 0`, sequences of equal length.
    K:
        Bulk modulus (> 0) of the volumetric energy :math:`U(J)`; ``None`` (default): incompressible.
    volumetric:
        The volumetric function :math:`U(J; K)`, a name of :data:`VOLUMETRIC_TERMS` (default ``"quadratic"``).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).
    """

    _principal_model: ClassVar[bool] = True

    mu = Parameter("Ogden moduli μ_p", unit="stress", shape="series")
    alpha = Parameter("Ogden exponents α_p (non-zero)", unit="1", shape="series")
    K = BULK_MODULUS

    def __init__(
        self,
        mu: Sequence[float] | TensorLike,
        alpha: Sequence[float] | TensorLike,
        K: TensorLike | None = None,
        *,
        volumetric: str = "quadratic",
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: Any = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        mu_t = as_tensor(mu, dtype=dtype) if not isinstance(mu, Tensor) else mu
        alpha_t = as_tensor(alpha, dtype=dtype) if not isinstance(alpha, Tensor) else alpha
        if mu_t.ndim != 1 or alpha_t.ndim != 1 or mu_t.shape != alpha_t.shape or mu_t.numel() == 0:
            raise ValueError(
                f"parameters 'mu' and 'alpha' must be non-empty 1-D sequences of equal length, got shapes "
                f"{tuple(mu_t.shape)} and {tuple(alpha_t.shape)}"
            )
        self._param("mu", mu_t)
        self._param("alpha", alpha_t)
        if not _wrapped(self.alpha) and bool((self.alpha.detach() == 0).any()):
            raise ValueError(f"parameter 'alpha' must have non-zero entries, got {self.alpha.detach().tolist()}")
        if not (_wrapped(self.mu) or _wrapped(self.alpha)):
            if float((self.mu * self.alpha).detach().sum()) <= 0:
                raise ValueError(
                    "parameters 'mu', 'alpha': sum(mu_p * alpha_p) must be positive (initial shear modulus "
                    f"sum(mu_p alpha_p)/2 > 0), got {float((self.mu * self.alpha).detach().sum()):.6g}"
                )
        _volumetric_part(self, K, volumetric)

    @property
    def initial_shear_modulus(self) -> Tensor:
        return 0.5 * (self.mu * self.alpha).sum()

    def _psi_principal(self, c: Tensor) -> Tensor:
        lnc = torch.log(c)
        lnc_bar = lnc - lnc.mean(-1, keepdim=True)  # ln(lambda_bar_a^2)
        powers = torch.exp(0.5 * self.alpha[:, None] * lnc_bar[..., None, :])  # (..., P, 3)
        iso = (self.mu / self.alpha * (powers.sum(-1) - 3.0)).sum(-1)
        return iso + self._volumetric(torch.exp(0.5 * lnc.sum(-1)))

    def _principal_derivatives(self, c: Tensor, second: bool) -> tuple[Tensor, Tensor | None] | None:
        r"""Closed form, with :math:`e_{pa} = \bar\lambda_a^{\alpha_p}`, :math:`s_p = \sum_a e_{pa}`,
        :math:`t_{pa} = e_{pa} - s_p/3`: :math:`y_a = (\sum_p \mu_p t_{pa} + U'(J) J)/c_a` and
        :math:`\partial y_a/\partial c_b = [\delta_{ab} q_a - \tfrac13(q_a + r_b) + \tfrac12(U''J + U')J]/(c_a
        c_b) - \delta_{ab} y_a/c_a`, :math:`q_a = \sum_p \tfrac12\mu_p\alpha_p e_{pa}`, :math:`r_b = \sum_p
        \tfrac12\mu_p\alpha_p t_{pb}`."""
        cm = torch.movedim(c, -1, 0)  # (3, ...): the work runs along the points whatever the layout of c
        lnc = torch.log(cm)
        J = torch.exp(0.5 * lnc.sum(0))
        U = self._volumetric_derivatives(J)
        if U is None:
            return None
        JU1, J2U2 = U
        shape = (-1,) + (1,) * cm.ndim
        alpha, mu = self.alpha.reshape(shape), self.mu.reshape(shape)
        e = torch.exp(0.5 * alpha * (lnc - lnc.mean(0)))  # (P, 3, ...)
        t = e - e.sum(1, keepdim=True) / 3.0
        ci = 1.0 / cm
        y = (mu * t).sum(0)
        if JU1 is not None:
            y = y + JU1
        y = y * ci
        if not second:
            return torch.movedim(y, 0, -1), None
        ma = 0.5 * mu * alpha
        q, r = (ma * e).sum(0), (ma * t).sum(0)
        eye = torch.eye(3, dtype=cm.dtype, device=cm.device).reshape(3, 3, *(1,) * (cm.ndim - 1))
        D = eye * q[:, None] - (q[:, None] + r[None]) / 3.0
        if JU1 is not None and J2U2 is not None:
            D = D + 0.5 * (J2U2 + JU1)
        dy = D * ci[:, None] * ci[None] - eye * (y * ci)[:, None]
        return torch.movedim(y, 0, -1), torch.movedim(dy, (0, 1), (-2, -1))


def _check_bulk(lmbda: Tensor, mu: Tensor) -> None:
    if not (_wrapped(lmbda) or _wrapped(mu)) and float((lmbda + 2.0 * mu / 3.0).detach()) <= 0:
        raise ValueError(
            f"parameter 'lmbda' must give a positive bulk modulus K = lmbda + 2 mu / 3, got lmbda = "
            f"{float(lmbda.detach())}, mu = {float(mu.detach())}"
        )


def _volumetric_part(model: HyperelasticMaterial, K: TensorLike | None, volumetric: str) -> None:
    """The bulk modulus ``K`` (``None``: incompressible) and the volumetric function's name, validated and stored."""
    if K is not None:
        model._param("K", K)
    model._option("volumetric", volumetric, tuple(VOLUMETRIC_TERMS))
