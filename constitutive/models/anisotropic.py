r"""Anisotropic hyperelasticity: the Holzapfel--Gasser--Ogden model with fibre dispersion (Gasser, Ogden & Holzapfel
2006), in the form of Abaqus's ``*ANISOTROPIC HYPERELASTIC, HOLZAPFEL``, and the fibre invariants.

Conventions (as in :mod:`.hyperelastic`): ``strain`` is the Green--Lagrange strain :math:`E`, :math:`C = I + 2E`,
:math:`J = \sqrt{\det C}`, :math:`\bar C = J^{-2/3} C`, :math:`\bar I_1 = \operatorname{tr}\bar C`. Fibre family
:math:`\alpha` has the unit direction :math:`A_\alpha` in the **reference** configuration (rows of ``directions``,
global axes); :math:`I_{4\alpha\alpha} = A_\alpha\cdot C A_\alpha` (squared fibre stretch),
:math:`\bar I_{4\alpha\alpha} = A_\alpha\cdot\bar C A_\alpha`, the mixed invariant
:math:`I_{8\alpha\beta} = A_\alpha\cdot C A_\beta` and :math:`I_{5\alpha} = A_\alpha\cdot C^2 A_\alpha`.

The energy is written once, as a function of the tensor C (:meth:`HolzapfelGasserOgden._psi_C`); every stress and
tangent measure (S, dS/dE, P, A = dP/dF, σ, τ, the spatial and the Abaqus Jaumann tangents) comes from the shared
machinery of :class:`~.hyperelastic.HyperelasticMaterial` (``torch.func`` on the nine components of C: exact).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import torch

from ..tensor import DEFAULT_DTYPE, Tensor, TensorLike, as_tensor, det
from ..tensor import _is_functorch_wrapped as _wrapped
from .hyperelastic import VOLUMETRIC_TERMS, HyperelasticMaterial
from .parameters import Parameter

__all__ = ["FibreInvariants", "fibre_invariants", "HolzapfelGasserOgden", "homogeneous_stretch"]


class FibreInvariants(NamedTuple):
    r"""Fibre invariants of C for n fibre families: ``I4`` ``(..., n)`` :math:`A_\alpha\cdot CA_\alpha`, ``I5``
    ``(..., n)`` :math:`A_\alpha\cdot C^2A_\alpha`, ``I8`` ``(..., n, n)`` :math:`A_\alpha\cdot CA_\beta` (symmetric;
    its diagonal is ``I4``; the classical :math:`I_6 = I_{4,22}` of the second family is ``I4[..., 1]``)."""

    I4: Tensor
    I5: Tensor
    I8: Tensor


def _check_directions(directions: TensorLike, dtype: torch.dtype, device: Any) -> Tensor:
    """Directions as a ``(n, 3)`` tensor of unit rows; ``ValueError`` for another shape, a non-finite or zero row."""
    d = directions if isinstance(directions, Tensor) else as_tensor(directions, dtype=dtype, device=device)
    if not d.is_floating_point():
        d = d.to(dtype)
    if d.ndim == 1 and d.shape[0] == 3:
        d = d[None, :]
    if d.ndim != 2 or d.shape[-1] != 3 or d.shape[0] == 0:
        raise ValueError(
            f"fibre directions must have shape (n_families, 3) (one direction vector per row), got {tuple(d.shape)}"
        )
    if _wrapped(d):
        return d / torch.linalg.vector_norm(d, dim=-1, keepdim=True)
    if not bool(torch.isfinite(d).all()):
        raise ValueError("fibre directions must be finite (NaN or inf found)")
    norm = torch.linalg.vector_norm(d, dim=-1, keepdim=True)
    if bool((norm == 0).any()):
        raise ValueError(f"fibre direction(s) {torch.nonzero(norm[:, 0] == 0).flatten().tolist()} are zero vectors")
    # Unit vectors (to round-off) are kept bit for bit: normalising again would change the last bit, and a model
    # read back from its parameter file must be the same model.
    unit = bool(((norm - 1.0).abs() <= 4.0 * torch.finfo(d.dtype).eps).all())
    return d if unit else d / norm


def fibre_invariants(C: TensorLike, directions: TensorLike) -> FibreInvariants:
    r"""The fibre invariants of a (batch of) right Cauchy--Green tensor(s) ``C`` ``(..., 3, 3)`` for the fibre
    ``directions`` ``(n, 3)`` (normalised here; zero rows refused): :class:`FibreInvariants` ``(I4, I5, I8)``.
    Pass :math:`\bar C = J^{-2/3}C` for the isochoric invariants."""
    Ct = C if isinstance(C, Tensor) else as_tensor(C)
    if Ct.shape[-2:] != (3, 3):
        raise ValueError(f"C must have shape (..., 3, 3), got {tuple(Ct.shape)}")
    A = _check_directions(directions, Ct.dtype, Ct.device).to(Ct.dtype)
    CA = torch.einsum("...ij,bj->...bi", Ct, A)  # (..., n, 3): C A_beta
    I8 = torch.einsum("ai,...bi->...ab", A, CA)
    I4 = torch.diagonal(I8, dim1=-2, dim2=-1)
    I5 = (CA * CA).sum(-1)  # |C A|^2 = A.C^2 A (C symmetric)
    return FibreInvariants(I4, I5, I8)


class HolzapfelGasserOgden(HyperelasticMaterial):
    r"""Holzapfel--Gasser--Ogden fibre-reinforced hyperelasticity with fibre dispersion (Gasser, Ogden & Holzapfel
    2006; Holzapfel, Gasser & Ogden 2000 for κ = 0), Abaqus's ``*ANISOTROPIC HYPERELASTIC, HOLZAPFEL`` form:

    .. math::

        \psi = C_{10}(\bar I_1 - 3) + U(J) + \frac{k_1}{2k_2}\sum_{\alpha=1}^{n}
        \left[\exp\!\left(k_2\langle\bar E_\alpha\rangle^2\right) - 1\right],\qquad
        \bar E_\alpha = \kappa(\bar I_1 - 3) + (1 - 3\kappa)(\bar I_{4\alpha\alpha} - 1),

    :math:`\langle x\rangle = \max(x, 0)`, :math:`U(J) = \tfrac K4(J^2 - 1 - 2\ln J)` (the ``"simo_taylor"``
    volumetric function: Abaqus's :math:`\frac1D(\frac{J^2-1}2 - \ln J)` with :math:`D = 2/K`).

    **Fibre switch.** A family bears load only when :math:`\bar E_\alpha > 0` (Abaqus's switch: on the dispersed
    strain-like quantity :math:`\bar E_\alpha`, not on :math:`I_4`; with κ = 0 they coincide, :math:`\bar E_\alpha
    = \bar I_4 - 1`). Implemented exactly so, to match Abaqus. The energy is C¹ (value and first derivative
    continuous across :math:`\bar E_\alpha = 0`); its second derivative jumps there by :math:`k_1` times
    :math:`\partial\bar E_\alpha/\partial C\otimes\partial\bar E_\alpha/\partial C` (a kink of the tangent: Newton
    converges, linearly at worst, across it). At exactly :math:`\bar E_\alpha = 0` the compressive branch is taken
    (the family is off), so at :math:`F = I` the tangent is the matrix's,
    :math:`(K - \tfrac23\mu_0) I\otimes I + 2\mu_0\mathbb{I}^s`, :math:`\mu_0 = 2C_{10}`.

    κ = 0: no dispersion (HGO 2000); κ = 1/3: isotropic dispersion, :math:`\bar E_\alpha = (\bar I_1 - 3)/3`.

    Parameters
    ----------
    C10:
        Matrix (neo-Hookean) coefficient, > 0 (shear modulus μ = 2 C10).
    K:
        Bulk modulus, > 0 (Abaqus D = 2/K).
    k1:
        Fibre stiffness, >= 0 (stress units).
    k2:
        Fibre exponent, > 0 (dimensionless).
    kappa:
        Dispersion, 0 <= κ <= 1/3.
    directions:
        Fibre directions ``(n_families, 3)`` in the reference configuration (global axes), normalised on input
        (zero vectors refused); a single ``(3,)`` vector is one family.
    volumetric:
        The volumetric function, a name of :data:`~.hyperelastic.VOLUMETRIC_TERMS` (default ``"simo_taylor"``, the
        Abaqus form; cards need it).
    dtype, device:
        Floating-point dtype (default float64) and device (default CPU).
    """

    isotropic: ClassVar[bool] = False
    _tensor_model: ClassVar[bool] = True

    C10 = Parameter("matrix coefficient of (I1bar - 3) (mu0 = 2 C10)", unit="stress", lower=0.0, lower_open=True)
    K = Parameter("bulk modulus K (Abaqus D = 2/K)", unit="stress", lower=0.0, lower_open=True)
    k1 = Parameter("fibre stiffness", unit="stress", lower=0.0)
    k2 = Parameter("fibre exponent", unit="1", lower=0.0, lower_open=True)
    kappa = Parameter("fibre dispersion (0: aligned, 1/3: isotropic)", unit="1", lower=0.0, upper=1.0 / 3.0)
    directions = Parameter("fibre directions (n_families, 3), reference configuration", unit="1", shape=None)

    def __init__(
        self,
        C10: TensorLike,
        K: TensorLike,
        k1: TensorLike,
        k2: TensorLike,
        kappa: TensorLike,
        directions: TensorLike,
        *,
        volumetric: str = "simo_taylor",
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: Any = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        self._param("C10", C10)
        self._param("K", K)
        self._param("k1", k1)
        self._param("k2", k2)
        self._param("kappa", kappa)
        d = directions.to(dtype) if isinstance(directions, Tensor) and directions.dtype != dtype else directions
        self._param("directions", _check_directions(d, dtype, self.device))
        self._option("volumetric", volumetric, tuple(VOLUMETRIC_TERMS))

    @property
    def n_families(self) -> int:
        """The number of fibre families."""
        return int(self.directions.shape[0])

    @property
    def initial_shear_modulus(self) -> Tensor:
        return 2.0 * self.C10

    @property
    def initial_bulk_modulus(self) -> Tensor:
        return self.K

    def fibre_strains(self, C: Tensor) -> Tensor:
        r""":math:`\bar E_\alpha` ``(..., n)`` at C ``(..., 3, 3)`` (a family is loaded where it is > 0)."""
        J = torch.sqrt(det(C))
        Jm23 = (J ** (-2.0 / 3.0))[..., None]
        I1b = Jm23[..., 0] * C.diagonal(dim1=-2, dim2=-1).sum(-1)
        I4b = Jm23 * torch.einsum("ai,...ij,aj->...a", self.directions, C, self.directions)
        return self.kappa * (I1b[..., None] - 3.0) + (1.0 - 3.0 * self.kappa) * (I4b - 1.0)

    def _psi_C(self, C: Tensor) -> Tensor:
        J = torch.sqrt(det(C))
        I1b = J ** (-2.0 / 3.0) * C.diagonal(dim1=-2, dim2=-1).sum(-1)
        Ea = self.fibre_strains(C)
        Ep = torch.where(Ea > 0, Ea, torch.zeros_like(Ea))  # <E>: the compressive branch at E = 0 exactly
        fibres = (0.5 * self.k1 / self.k2 * torch.expm1(self.k2 * Ep * Ep)).sum(-1)
        vol = VOLUMETRIC_TERMS[self._options.get("volumetric", "simo_taylor")]().energy(J, self.K)
        return self.C10 * (I1b - 3.0) + vol + fibres

    def nominal_stress(self, stretch: TensorLike, mode: str = "uniaxial") -> Tensor:
        """Not defined for an anisotropic model (the lateral stretches depend on the fibres): use
        :func:`homogeneous_stretch`, or :meth:`first_piola` at a deformation gradient."""
        raise ValueError(
            "HolzapfelGasserOgden is anisotropic: nominal_stress(stretch, mode) assumes isotropic lateral stretches; "
            "use constitutive.models.anisotropic.homogeneous_stretch(model, stretch, mode) or first_piola(F)"
        )


def homogeneous_stretch(
    model: HyperelasticMaterial,
    stretch: TensorLike,
    mode: str = "uniaxial",
    axis: int = 0,
    *,
    tol: float = 1e-12,
    max_iter: int = 50,
) -> tuple[Tensor, Tensor]:
    r"""A homogeneous stretch ``stretch`` ``(...)`` along the global ``axis`` with the other normal stresses free:
    returns ``(F, P)``, both ``(..., 3, 3)``, with F diagonal.

    * ``"uniaxial"``: :math:`F_{aa} = \lambda` on ``axis``, the two lateral stretches solved for
      :math:`P_{bb} = 0`;
    * ``"equibiaxial"``: :math:`\lambda` on ``axis`` and on ``(axis + 1) % 3``, the third stretch solved for
      :math:`P_{cc} = 0`.

    The lateral stretches come from a batched Newton iteration with the model's exact :math:`\partial P/\partial F`
    (relative residual below ``tol`` times the loading stress, else ``ValueError``). The deformation is a
    solution only where the shear stresses vanish at a diagonal F (fibres symmetric about the axes, e.g. two
    families at ±θ in a coordinate plane): checked, ``ValueError`` otherwise.

    Parameters
    ----------
    model:
        A compressible hyperelastic model.
    stretch:
        Stretches ``(...)`` > 0.
    mode:
        ``"uniaxial"`` or ``"equibiaxial"``.
    axis:
        The loading axis 0, 1 or 2.
    tol, max_iter:
        Newton tolerance (relative to the loading stress) and iteration limit.
    """
    lam = stretch if isinstance(stretch, Tensor) else as_tensor(stretch, dtype=model.dtype, device=model.device)
    if not bool((lam > 0).all()) or not bool(torch.isfinite(lam).all()):
        raise ValueError("stretch must be finite and positive")
    if axis not in (0, 1, 2):
        raise ValueError(f"axis must be 0, 1 or 2, got {axis!r}")
    if mode == "uniaxial":
        loaded, free = [axis], [(axis + 1) % 3, (axis + 2) % 3]
    elif mode == "equibiaxial":
        loaded, free = [axis, (axis + 1) % 3], [(axis + 2) % 3]
    else:
        raise ValueError(f"unknown mode {mode!r}; choose 'uniaxial' or 'equibiaxial'")
    diag = lam[..., None].repeat(*([1] * lam.ndim), 3)
    guess = lam ** (-0.5) if mode == "uniaxial" else lam ** (-2.0)
    diag[..., free] = guess[..., None].expand(*lam.shape, len(free))
    fi = torch.tensor(free, device=lam.device)
    for _ in range(max_iter):
        F = torch.diag_embed(diag)
        P, A = model.first_piola_and_elasticity(F)
        r = P.diagonal(dim1=-2, dim2=-1)[..., fi]
        Jac = torch.stack([A[..., b, b, :, :][..., fi, fi] for b in free], -2)  # dP_bb/dF_cc, b, c free
        scale = P.diagonal(dim1=-2, dim2=-1)[..., loaded].abs().amax(-1).clamp_min(float(model.initial_shear_modulus))
        if bool((r.abs().amax(-1) <= tol * scale).all()):
            break
        step = torch.linalg.solve(Jac, r[..., None])[..., 0]
        new = diag[..., fi] - step
        diag[..., fi] = torch.where(new > 0, new, 0.5 * diag[..., fi])  # stay in det F > 0
    else:
        raise ValueError(f"homogeneous_stretch: Newton did not converge in {max_iter} iterations")
    F = torch.diag_embed(diag)
    P = model.first_piola(F)
    off = P - torch.diag_embed(P.diagonal(dim1=-2, dim2=-1))
    if float(off.abs().max()) > math.sqrt(tol) * float(P.abs().max()):
        raise ValueError(
            "homogeneous_stretch: the model has shear stresses at a diagonal F (fibres not symmetric about the "
            "axes), so a pure stretch with free lateral faces is not a solution"
        )
    return F, P
