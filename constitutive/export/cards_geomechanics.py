r"""Abaqus cards for the frictional plasticity models of :mod:`constitutive.models.geomechanics`.

* :class:`~constitutive.models.geomechanics.DruckerPrager` -> ``*ELASTIC`` + ``*DRUCKER PRAGER, SHEAR
  CRITERION=LINEAR`` (data line β, K, ψ in degrees, K = 1) + ``*DRUCKER PRAGER HARDENING, TYPE=COMPRESSION``
  (lines σ_c, ε̄^pl). Exact: Abaqus's linear model with K = 1 is :math:`F = q - p\tan\beta - d`,
  :math:`G = q - p\tan\psi`, :math:`d = (1 - \tan\beta/3)\sigma_c` for hardening given in uniaxial compression, and
  its equivalent plastic strain :math:`\dot{\bar\varepsilon}^{pl} = |\dot\varepsilon^{pl}_{11}|` in uniaxial
  compression, i.e. :math:`(1 - \tan\psi/3)\dot\gamma` -- the package's α (Abaqus Analysis User's Guide, *Extended
  Drucker-Prager models*; Keywords Reference ``*DRUCKER PRAGER``, ``*DRUCKER PRAGER HARDENING``). The σ_c(ε̄) law is
  tabulated by :func:`~constitutive.export.cards.plastic_table` (the interpolation error is in a ``**`` comment).
* :class:`~constitutive.models.geomechanics.MohrCoulomb` -> ``*ELASTIC`` + ``*MOHR COULOMB`` (φ, ψ in degrees) +
  ``*MOHR COULOMB HARDENING`` (lines c, ε̄^pl). The elasticity, the yield surface (Abaqus: :math:`F = R_{mc} q - p
  \tan\phi - c`, the same hexagonal pyramid) and the cohesion table are the model's; **the plastic flow is not**:
  Abaqus's flow potential is smooth (hyperbolic in the meridional plane, Menétrey--Willam in the deviatoric plane),
  not the hexagonal :math:`\Psi` used here, so stresses after yield agree only approximately. The card says so in
  a comment (Abaqus Analysis User's Guide, *Mohr-Coulomb plasticity*).

With non-associated flow (ψ ≠ β, ψ ≠ φ) the consistent tangent is unsymmetric: the cards carry a ``**`` comment
asking for Abaqus's unsymmetric solver (``*STEP, UNSYMM=YES``). CalculiX has neither keyword: ``code="calculix"``
raises ``ValueError`` (use a UMAT).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..models.geomechanics import DruckerPrager, MohrCoulomb
from .cards import (
    _check_code,
    _data_lines,
    _fmt,
    _isotropic_elastic_lines,
    _scalar,
    plastic_table,
    register_card_writer,
)

__all__ = ["abaqus_drucker_prager_card", "abaqus_mohr_coulomb_card", "UNSYMMETRIC_NOTE"]

#: The comment line written when the consistent tangent is unsymmetric (non-associated flow).
UNSYMMETRIC_NOTE = (
    "** unsymmetric tangent (non-associated flow, dilation angle != friction angle): run the step with "
    "*STEP, UNSYMM=YES"
)


class _StrengthCurve:
    """The hardened strength σ_c(α) or c(α) of a geomechanics model, as the ``flow_stress`` that
    :func:`~constitutive.export.cards.plastic_table` tabulates."""

    def __init__(self, model: Any) -> None:
        self.model, self.dtype, self.device = model, model.dtype, model.device

    def flow_stress(self, alpha: torch.Tensor, slope: bool = False) -> tuple[torch.Tensor, None]:
        return self.model.strength(alpha)[0], None


def _table(model: Any, keyword: str, tolerance: float | None, max_plastic_strain: float) -> list[str]:
    table = plastic_table(_StrengthCurve(model), tolerance, max_plastic_strain)  # type: ignore[arg-type]
    lines = [f"{_fmt(s)}, {_fmt(e)}" for s, e in zip(np.asarray(table.stress), np.asarray(table.strain))]
    return [table.comment(keyword), *lines]


def _refuse_calculix(model: Any, code: str, keyword: str) -> None:
    _check_code(code)
    if code == "calculix":
        raise ValueError(
            f"CalculiX has no {keyword} keyword, so no CalculiX card reproduces {type(model).__name__}: write "
            "code='abaqus', or use a UMAT"
        )


def abaqus_drucker_prager_card(
    model: DruckerPrager, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0
) -> str:
    """``*ELASTIC`` + ``*DRUCKER PRAGER`` + ``*DRUCKER PRAGER HARDENING, TYPE=COMPRESSION`` for a
    :class:`DruckerPrager` model (module docstring; exact, the hardening table within ``tolerance``)."""
    _refuse_calculix(model, code, "*DRUCKER PRAGER")
    lines = [_isotropic_elastic_lines(_scalar(model, "E"), _scalar(model, "nu"))]
    if model.unsymmetric_tangent:
        lines.append(UNSYMMETRIC_NOTE)
    lines += [
        "*DRUCKER PRAGER, SHEAR CRITERION=LINEAR",
        *_data_lines([_scalar(model, "beta"), 1.0, _scalar(model, "psi")]),
    ]
    table = _table(model, "*DRUCKER PRAGER HARDENING", tolerance, max_plastic_strain)
    lines += [table[0], "*DRUCKER PRAGER HARDENING, TYPE=COMPRESSION", *table[1:]]
    return "\n".join(lines) + "\n"


def abaqus_mohr_coulomb_card(
    model: MohrCoulomb, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0
) -> str:
    """``*ELASTIC`` + ``*MOHR COULOMB`` + ``*MOHR COULOMB HARDENING`` for a :class:`MohrCoulomb` model (module
    docstring: the yield surface, elasticity and cohesion table are exact; Abaqus's smooth flow potential is not the
    model's, which a comment states)."""
    _refuse_calculix(model, code, "*MOHR COULOMB")
    lines = [_isotropic_elastic_lines(_scalar(model, "E"), _scalar(model, "nu"))]
    lines.append(
        "** note: Abaqus's Mohr-Coulomb flow potential is smooth (hyperbolic meridian, Menetrey-Willam deviatoric "
        "section) and its equivalent plastic strain is its own; the model's potential is the hexagonal pyramid "
        "with the dilation angle: same elasticity, yield surface and cohesion table, different plastic flow"
    )
    if model.unsymmetric_tangent:
        lines.append(UNSYMMETRIC_NOTE)
    lines += ["*MOHR COULOMB", *_data_lines([_scalar(model, "phi"), _scalar(model, "psi")])]
    table = _table(model, "*MOHR COULOMB HARDENING", tolerance, max_plastic_strain)
    lines += [table[0], "*MOHR COULOMB HARDENING", *table[1:]]
    return "\n".join(lines) + "\n"


def _dp_writer(
    model: Any, *, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0, **_: Any
) -> str:
    return abaqus_drucker_prager_card(model, code, tolerance, max_plastic_strain)


def _mc_writer(
    model: Any, *, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0, **_: Any
) -> str:
    return abaqus_mohr_coulomb_card(model, code, tolerance, max_plastic_strain)


register_card_writer(DruckerPrager, _dp_writer)
register_card_writer(MohrCoulomb, _mc_writer)


# ----------------------------------------------------------------------------------------------------------------
# UMAT: Drucker--Prager (cone and apex returns, closed-form consistent tangent)
# ----------------------------------------------------------------------------------------------------------------
_DP_ROUTINE = """
C     Compression yield stress SC = sigma_c(A) and its slope DSC.
      SUBROUTINE UGSIGC(A, P, SF, DSF)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION P(*)
      SF = P({sigma_c}) + P({H})*A
      DSF = P({H})
{law}
      RETURN
      END
"""

_DP_BODY = """
C     Elastic moduli, tan(beta), tan(psi) and the total strain.
      BK = PROPS({E})/(3.0D0*(1.0D0 - 2.0D0*PROPS({nu})))
      G = PROPS({E})/(2.0D0*(1.0D0 + PROPS({nu})))
      PI = 4.0D0*ATAN(1.0D0)
      TB = TAN(PROPS({beta})*PI/180.0D0)
      TP = TAN(PROPS({psi})*PI/180.0D0)
      AKB = 1.0D0 - TB/3.0D0
      AKP = 1.0D0 - TP/3.0D0
      DO I = 1, 6
         ET(I) = 0.0D0
      END DO
      DO I = 1, NTENS
         ET(I) = STRAN(I) + DSTRAN(I)
      END DO
      DO I = 4, 6
         ET(I) = 0.5D0*ET(I)
      END DO
C     Trial state from the elastic strain EE = eps - eps_p: s, p, q.
      DO I = 1, 6
         EP(I) = STATEV(I)*WI(I)
         EE(I) = ET(I) - EP(I)
      END DO
      A0 = STATEV(7)
      TR = EE(1) + EE(2) + EE(3)
      DO I = 1, 6
         STR(I) = 2.0D0*G*EE(I)
      END DO
      DO I = 1, 3
         STR(I) = STR(I) - 2.0D0*G*TR/3.0D0
      END DO
      PTR = -BK*TR
      QTR = 0.0D0
      DO I = 1, 6
         QTR = QTR + WT(I)*STR(I)*STR(I)
      END DO
      QTR = SQRT(1.5D0*QTR)
      CALL UGSIGC(A0, PROPS, SC, DSC)
      DN = AKB*SC
      FTR = QTR - PTR*TB - DN
      SCL = MAX(QTR + ABS(PTR)*TB + DN, 1.0D-300)
      DO I = 1, 6
         DO J = 1, 6
            D6(I,J) = 2.0D0*G*DEV(I,J)
         END DO
      END DO
      DO I = 1, 3
         DO J = 1, 3
            D6(I,J) = D6(I,J) + BK
         END DO
      END DO
      DA = 0.0D0
      IF (FTR .LE. 0.0D0) THEN
C        Elastic step: sigma = s - p 1, the state is unchanged.
         DO I = 1, 6
            S6(I) = STR(I)
         END DO
         DO I = 1, 3
            S6(I) = S6(I) - PTR
         END DO
         RSTATE = 0.0D0
      ELSE
C        Cone: r(dg) = q_tr - 3G dg - (p_tr + K tan(psi) dg) tan(beta)
C        - (1 - tan(beta)/3) sigma_c(a0 + (1 - tan(psi)/3) dg).
         DG = 0.0D0
         DO IT = 0, {maxit}
            CALL UGSIGC(A0 + AKP*DG, PROPS, SC, DSC)
            R = QTR - 3.0D0*G*DG - (PTR + BK*TP*DG)*TB - AKB*SC
            DR = -3.0D0*G - BK*TP*TB - AKB*AKP*DSC
            IF (ABS(R) .LE. {tol}*SCL) GO TO 10
            DG = DG - R/DR
         END DO
         PNEWDT = 0.5D0
         RETURN
   10    CONTINUE
         Q = QTR - 3.0D0*G*DG
         IF (Q .GE. 0.0D0) THEN
            P = PTR + BK*TP*DG
            DA = AKP*DG
            RATIO = Q/QTR
            DO I = 1, 6
               FN(I) = STR(I)/(SQRT(2.0D0/3.0D0)*QTR)
               S6(I) = RATIO*STR(I)
            END DO
            DO I = 1, 3
               S6(I) = S6(I) - P
            END DO
C           C = 2G ratio (Idev - n n) + 2G n n + K 1 1
C           - (sqrt6 G n + K tan(psi) 1)(sqrt6 G n + K tan(beta) 1)/A
            AA = -DR
            DO I = 1, 6
               U(I) = SQRT(6.0D0)*G*FN(I)
               V(I) = U(I)
            END DO
            DO I = 1, 3
               U(I) = U(I) + BK*TP
               V(I) = V(I) + BK*TB
            END DO
            DO I = 1, 6
               DO J = 1, 6
                  D6(I,J) = D6(I,J) - 2.0D0*G*(1.0D0 - RATIO)
     &               *(DEV(I,J) - FN(I)*FN(J)) - U(I)*V(J)/AA
               END DO
            END DO
         ELSE
C           Apex: s = 0, p = p_tr + K dv, -(p tan(beta) + d) = 0.
            IF (TP .LE. 0.0D0) THEN
               CALL STDB_ABQERR(-3, {apexmsg}, INTV(3), REALV, CHARV)
               RETURN
            END IF
            CV = AKP/TP
            DV = 0.0D0
            DO IT = 0, {maxit}
               CALL UGSIGC(A0 + CV*DV, PROPS, SC, DSC)
               R = -(PTR + BK*DV)*TB - AKB*SC
               DR = -BK*TB - AKB*CV*DSC
               IF (ABS(R) .LE. {tol}*SCL) GO TO 20
               DV = DV - R/DR
            END DO
            PNEWDT = 0.5D0
            RETURN
   20       CONTINUE
            P = PTR + BK*DV
            DA = CV*DV
            DO I = 1, 6
               S6(I) = 0.0D0
               DO J = 1, 6
                  D6(I,J) = 0.0D0
               END DO
            END DO
            CVOL = BK*(1.0D0 + BK*TB/DR)
            DO I = 1, 3
               S6(I) = -P
               DO J = 1, 3
                  D6(I,J) = CVOL
               END DO
            END DO
         END IF
C        Plastic strain: eps_p = eps - C_e^-1 sigma.
         TRS = S6(1) + S6(2) + S6(3)
         DO I = 1, 6
            EP(I) = ET(I) - S6(I)/(2.0D0*G)
         END DO
         DO I = 1, 3
            EP(I) = EP(I) + TRS/(6.0D0*G) - TRS/(9.0D0*BK)
         END DO
         RSTATE = 1.0D0
      END IF
      IF (RSTATE .GT. 0.5D0) THEN
         DO I = 1, 6
            STATEV(I) = EP(I)/WI(I)
         END DO
         STATEV(7) = A0 + DA
      END IF
"""


def _gen_drucker_prager(model: DruckerPrager) -> Any:
    from .umat_generator import (
        HARDENING_FORTRAN,
        GeneratedUMAT,
        UMATGenerationError,
        _fstr,
        _j2_indices,
        _model_repr,
        _props_from_parameters,
    )

    law = model.law
    snippet = HARDENING_FORTRAN.get(type(law))
    if snippet is None:
        raise UMATGenerationError(
            f"UMAT not generated for DruckerPrager with the hardening law {type(law).__name__}: generated laws are "
            f"{', '.join(c.__name__ for c in HARDENING_FORTRAN)}"
        )
    idx = {k: str(v) for k, v in _j2_indices(model).items()}
    props, docs = _props_from_parameters(model, list(model.parameters))
    routine = _DP_ROUTINE.replace("{law}", "\n".join(ln.format(**idx) for ln in snippet))
    for key in ("sigma_c", "H"):
        routine = routine.replace("{" + key + "}", idx[key])
    body = _DP_BODY
    for key in ("E", "nu", "beta", "psi"):
        body = body.replace("{" + key + "}", idx[key])
    body = body.replace("{maxit}", str(int(model.max_iter))).replace("{tol}", f"{float(model.tol):.17g}".upper())
    msg = "UMAT DruckerPrager: trial stress beyond the apex and psi = 0: no admissible return (element %I, point %I)"
    body = body.replace("{apexmsg}", _fstr(msg))
    decl = [
        "      DIMENSION ET(6), EP(6), EE(6), STR(6), FN(6), U(6), V(6), WT(6), WI(6), DEV(6,6)",
        "      DATA WT /1.0D0, 1.0D0, 1.0D0, 2.0D0, 2.0D0, 2.0D0/",
        "      DATA WI /1.0D0, 1.0D0, 1.0D0, 0.5D0, 0.5D0, 0.5D0/",
        "      DATA DEV /0.6666666666666666D0, -0.3333333333333333D0, -0.3333333333333333D0, 0.0D0, 0.0D0, 0.0D0,"
        " -0.3333333333333333D0, 0.6666666666666666D0, -0.3333333333333333D0, 0.0D0, 0.0D0, 0.0D0,"
        " -0.3333333333333333D0, -0.3333333333333333D0, 0.6666666666666666D0, 0.0D0, 0.0D0, 0.0D0,"
        " 0.0D0, 0.0D0, 0.0D0, 0.5D0, 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.5D0, 0.0D0,"
        " 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.5D0/",
    ]
    statev = [(f"eps_p {lab}", "plastic strain" + (" (engineering shear)" if lab[0] != lab[1] else ""))
              for lab in ("11", "22", "33", "12", "13", "23")]  # fmt: skip
    statev.append(("alpha", "equivalent plastic strain (Abaqus's, hardening in uniaxial compression)"))
    notes = [
        "Linear Drucker-Prager, K = 1: F = q - p tan(beta) - (1 - tan(beta)/3) sigma_c, G = q - p tan(psi); cone "
        "and apex returns (Newton in the multiplier / plastic volume change, exact for linear hardening) and the "
        "closed-form consistent tangent (constitutive.models.geomechanics.DruckerPrager).",
        f"Local Newton: converged when |r| <= {float(model.tol):g} (q_tr + |p_tr| tan(beta) + d_n), at most "
        f"{int(model.max_iter)} iterations, else PNEWDT = 0.5.",
    ]
    if model.unsymmetric_tangent:
        notes.append("Unsymmetric tangent (psi != beta): declare *USER MATERIAL, UNSYMM.")
    return GeneratedUMAT(
        _model_repr(model),
        "Drucker-Prager plasticity (linear, K = 1), cohesion hardening "
        f"({type(law).__name__}): backward Euler cone/apex return map and its consistent tangent.",
        props,
        docs,
        statev,
        False,
        ["      RSTATE = 0.0D0", *body.strip("\n").split("\n")],
        declarations=decl,
        routines=[routine],
        notes=notes,
    )


def _register_umat() -> None:
    from .umat_generator import register_umat_generator

    register_umat_generator(DruckerPrager, _gen_drucker_prager)


_register_umat()
