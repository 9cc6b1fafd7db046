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

Generated UMATs (``generate_umat``; Linear, Voce and Swift cohesion laws): Drucker--Prager (cone and apex returns)
and Mohr--Coulomb (the model's principal-stress returns on a Jacobi eigendecomposition of the trial elastic strain:
main plane, the edge chosen as the model chooses it, apex; same Newton unknowns, tolerance and scale; the
closed-form principal tangent mapped to tensors with the spectral terms and the coincidence limit of
:func:`constitutive.tensor.spectral_derivative`). STATEV 1--6 ε^p (engineering shear), 7 ε̄^p.
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
{flow}"""

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
        GeneratedUMAT,
        _fstr,
        _j2_indices,
        _model_repr,
        _props_from_parameters,
        flow_routine,
    )

    idx = {k: str(v) for k, v in _j2_indices(model).items()}
    props, docs = _props_from_parameters(model, list(model.parameters))
    routine = _DP_ROUTINE.replace(
        "{flow}",
        flow_routine(model, idx, "UGSIGC", "sigma_c", "Compression yield stress SC = sigma_c(A) and its slope DSC."),
    )
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
        f"({type(model.law).__name__}): backward Euler cone/apex return map and its consistent tangent.",
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


# ----------------------------------------------------------------------------------------------------------------
# UMAT: Mohr--Coulomb (main plane, edge and apex returns in principal stresses, closed-form consistent tangent)
# ----------------------------------------------------------------------------------------------------------------
_MC_ROUTINES = """
{flow}C
C     Eigenvalues W (descending) and eigenvectors V (columns) of the
C     symmetric 3x3 matrix A: the shared Jacobi routine UGEIG, sorted.
      SUBROUTINE UMCEIG(A, W, V)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION A(3,3), W(3), V(3,3)
      CALL UGEIG(A, W, V)
C     Sort descending (selection), the eigenvectors with them.
      DO I = 1, 2
         KM = I
         DO J = I + 1, 3
            IF (W(J) .GT. W(KM)) KM = J
         END DO
         IF (KM .NE. I) THEN
            T = W(I)
            W(I) = W(KM)
            W(KM) = T
            DO K = 1, 3
               T = V(K,I)
               V(K,I) = V(K,KM)
               V(K,KM) = T
            END DO
         END IF
      END DO
      RETURN
      END
C
C     Return to M = 1 (main) or 2 (edge) planes F_k . sigma = 2 c cos(phi)
C     with flow directions N_k: Newton on the multipliers X from zero,
C     R_k = F_k.STR - sum_l (F_k.De N_l) X_l - 2 cos(phi) c(A0 + 2 cos(phi)
C     sum X). Out: SIG, AN = alpha, DP3 = (1 + De N^T J^-1 F) De and
C     IOK = 1 (0: no convergence or a singular Jacobian).
      SUBROUTINE UMCPLN(M, FP, FN, STR, A0, DE, CF, PROPS, TOL, SCL,
     &   MAXIT, SIG, AN, DP3, IOK)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION FP(2,3), FN(2,3), STR(3), DE(3,3), PROPS(*), SIG(3),
     &   DP3(3,3), FS(2), AM(2,2), X(2), R(2), AJ(2,2), AI(2,2),
     &   DN(3,2), W(2,3), TT(3,3), DX(2), XT(2), RT(2), AT(2,2)
      IOK = 0
      DO K = 1, M
         FS(K) = 0.0D0
         DO I = 1, 3
            FS(K) = FS(K) + FP(K,I)*STR(I)
         END DO
         DO L = 1, M
            AM(K,L) = 0.0D0
            DO I = 1, 3
               DO J = 1, 3
                  AM(K,L) = AM(K,L) + FP(K,I)*DE(I,J)*FN(L,J)
               END DO
            END DO
         END DO
      END DO
      X(1) = 0.0D0
      X(2) = 0.0D0
      DO IT = 0, MAXIT
         CALL UMCRES(M, FS, AM, X, A0, CF, PROPS, R, AJ)
         ERR = MAX(ABS(R(1)), ABS(R(M)))
         IF (M .EQ. 1) THEN
            DET = AJ(1,1)
            AI(1,1) = 1.0D0
         ELSE
            DET = AJ(1,1)*AJ(2,2) - AJ(1,2)*AJ(2,1)
            AI(1,1) = AJ(2,2)
            AI(1,2) = -AJ(1,2)
            AI(2,1) = -AJ(2,1)
            AI(2,2) = AJ(1,1)
         END IF
         IF (DET .EQ. 0.0D0) RETURN
         DO K = 1, M
            DO L = 1, M
               AI(K,L) = AI(K,L)/DET
            END DO
         END DO
         IF (ERR .LE. TOL*SCL) GO TO 10
         IF (IT .EQ. MAXIT) RETURN
C        Newton step DX, halved (at most 8 times, as the Python engine)
C        until the scaled residual norm decreases.
         RN0 = 0.0D0
         DO K = 1, M
            DX(K) = 0.0D0
            DO L = 1, M
               DX(K) = DX(K) - AI(K,L)*R(L)
            END DO
            RN0 = RN0 + (R(K)/SCL)**2
         END DO
         RN0 = SQRT(RN0)
         T = 1.0D0
         DO IH = 1, 8
            XT(1) = X(1) + T*DX(1)
            XT(2) = 0.0D0
            IF (M .EQ. 2) XT(2) = X(2) + T*DX(2)
            CALL UMCRES(M, FS, AM, XT, A0, CF, PROPS, RT, AT)
            RN1 = 0.0D0
            DO K = 1, M
               RN1 = RN1 + (RT(K)/SCL)**2
            END DO
            RN1 = SQRT(RN1)
            IF (RN1 .LT. RN0) GO TO 5
            T = 0.5D0*T
         END DO
    5    CONTINUE
         DO K = 1, M
            X(K) = X(K) + T*DX(K)
         END DO
      END DO
      RETURN
   10 CONTINUE
      DO I = 1, 3
         SIG(I) = STR(I)
         DO K = 1, M
            DN(I,K) = 0.0D0
            DO J = 1, 3
               DN(I,K) = DN(I,K) + DE(I,J)*FN(K,J)
            END DO
            SIG(I) = SIG(I) - DN(I,K)*X(K)
         END DO
      END DO
      AN = A0 + 2.0D0*CF*(X(1) + X(2))
      DO K = 1, M
         DO J = 1, 3
            W(K,J) = 0.0D0
            DO L = 1, M
               W(K,J) = W(K,J) + AI(K,L)*FP(L,J)
            END DO
         END DO
      END DO
      DO I = 1, 3
         DO J = 1, 3
            TT(I,J) = 0.0D0
            IF (I .EQ. J) TT(I,J) = 1.0D0
            DO K = 1, M
               TT(I,J) = TT(I,J) + DN(I,K)*W(K,J)
            END DO
         END DO
      END DO
      DO I = 1, 3
         DO J = 1, 3
            DP3(I,J) = 0.0D0
            DO K = 1, 3
               DP3(I,J) = DP3(I,J) + TT(I,K)*DE(K,J)
            END DO
         END DO
      END DO
      IOK = 1
      RETURN
      END
C
C     Residual R and Jacobian AJ of the M active planes at multipliers X.
      SUBROUTINE UMCRES(M, FS, AM, X, A0, CF, PROPS, R, AJ)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION FS(2), AM(2,2), X(2), PROPS(*), R(2), AJ(2,2)
      CALL UMCCOH(A0 + 2.0D0*CF*(X(1) + X(2)), PROPS, CC, DC)
      DO K = 1, M
         R(K) = FS(K) - 2.0D0*CF*CC
         DO L = 1, M
            R(K) = R(K) - AM(K,L)*X(L)
            AJ(K,L) = -AM(K,L) - 4.0D0*CF*CF*DC
         END DO
      END DO
      RETURN
      END
"""

_MC_BODY = """
C     Elastic moduli, the angles' sines and cosine, the total strain.
      BK = PROPS({E})/(3.0D0*(1.0D0 - 2.0D0*PROPS({nu})))
      G = PROPS({E})/(2.0D0*(1.0D0 + PROPS({nu})))
      AL = BK - 2.0D0*G/3.0D0
      PI = 4.0D0*ATAN(1.0D0)
      SF = SIN(PROPS({phi})*(PI/180.0D0))
      CF = COS(PROPS({phi})*(PI/180.0D0))
      SP = SIN(PROPS({psi})*(PI/180.0D0))
      DO I = 1, 6
         ET(I) = 0.0D0
      END DO
      DO I = 1, NTENS
         ET(I) = STRAN(I) + DSTRAN(I)
      END DO
      DO I = 4, 6
         ET(I) = 0.5D0*ET(I)
      END DO
C     Trial: elastic strain EE = eps - eps_p (tensor shear), stress.
      DO I = 1, 6
         EP(I) = STATEV(I)*WI(I)
         EE(I) = ET(I) - EP(I)
      END DO
      A0 = STATEV(7)
      TR = EE(1) + EE(2) + EE(3)
      DO I = 1, 6
         S6(I) = 2.0D0*G*EE(I)
      END DO
      DO I = 1, 3
         S6(I) = S6(I) + AL*TR
      END DO
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
C     Principal trial values (descending) and the yield test.
      DO K = 1, 6
         XM(IX(K),JX(K)) = EE(K)
         XM(JX(K),IX(K)) = EE(K)
      END DO
      CALL UMCEIG(XM, EV, QV)
      DO I = 1, 3
         STR(I) = AL*TR + 2.0D0*G*EV(I)
      END DO
      CALL UMCCOH(A0, PROPS, CN, DC)
      FTR = (STR(1) - STR(3)) + (STR(1) + STR(3))*SF - 2.0D0*CN*CF
      IF (FTR .GT. 0.0D0) THEN
         SCL = MAX(MAX(ABS(STR(1)), ABS(STR(2)), ABS(STR(3))) + CN,
     &      1.0D-300)
         DO I = 1, 3
            DO J = 1, 3
               DE(I,J) = AL
            END DO
            DE(I,I) = AL + 2.0D0*G
         END DO
C        Plane k: F_k (friction), N_k (dilation); 1 main (1,3),
C        2 the second plane of the edge: (2,3) or (1,2).
         FP(1,1) = 1.0D0 + SF
         FP(1,2) = 0.0D0
         FP(1,3) = -1.0D0 + SF
         FN(1,1) = 1.0D0 + SP
         FN(1,2) = 0.0D0
         FN(1,3) = -1.0D0 + SP
C        1. Main plane.
         CALL UMCPLN(1, FP, FN, STR, A0, DE, CF, PROPS, {tol}, SCL,
     &      {maxit}, SIG, AN, DP3, IOK)
         IF (IOK .EQ. 0) THEN
            PNEWDT = 0.5D0
            RETURN
         END IF
         IF (.NOT. (SIG(1) .GE. SIG(2) .AND. SIG(2) .GE. SIG(3))) THEN
C           2. An edge, chosen from the trial stress: sigma_1 = sigma_2
C           (compression meridian) or sigma_2 = sigma_3 (extension).
            TOC = (1.0D0 - SP)*STR(1) - 2.0D0*STR(2)
     &         + (1.0D0 + SP)*STR(3)
            IF (TOC .LT. 0.0D0) THEN
               FP(2,1) = 0.0D0
               FP(2,2) = 1.0D0 + SF
               FP(2,3) = -1.0D0 + SF
               FN(2,1) = 0.0D0
               FN(2,2) = 1.0D0 + SP
               FN(2,3) = -1.0D0 + SP
            ELSE
               FP(2,1) = 1.0D0 + SF
               FP(2,2) = -1.0D0 + SF
               FP(2,3) = 0.0D0
               FN(2,1) = 1.0D0 + SP
               FN(2,2) = -1.0D0 + SP
               FN(2,3) = 0.0D0
            END IF
            CALL UMCPLN(2, FP, FN, STR, A0, DE, CF, PROPS, {tol}, SCL,
     &         {maxit}, SIG, AN, DP3, IOK)
            IF (IOK .EQ. 0) THEN
               PNEWDT = 0.5D0
               RETURN
            END IF
            IF (TOC .LT. 0.0D0) THEN
               OK2 = SIG(2) - SIG(3)
            ELSE
               OK2 = SIG(1) - SIG(2)
            END IF
            IF (OK2 .LT. 0.0D0) THEN
C              3. Apex sigma_i = c cot(phi): plastic volume change DV,
C              alpha = alpha_n + (cos(phi)/sin(psi)) DV.
               IF (SP .LE. 0.0D0 .OR. SF .LE. 0.0D0) THEN
                  CALL STDB_ABQERR(-3, {apexmsg}, INTV(3), REALV, CHARV)
                  RETURN
               END IF
               CV = CF/SP
               COT = CF/SF
               SM = (STR(1) + STR(2) + STR(3))/3.0D0
               DV = 0.0D0
               DO IT = 0, {maxit}
                  CALL UMCCOH(A0 + CV*DV, PROPS, CC, DC)
                  R = SM - BK*DV - COT*CC
                  DR = -BK - COT*CV*DC
                  IF (ABS(R) .LE. {tol}*SCL) GO TO 20
                  IF (IT .EQ. {maxit} .OR. DR .EQ. 0.0D0) GO TO 15
C                 Newton step, halved until |r| decreases (as the engine).
                  STP = -R/DR
                  T = 1.0D0
                  DO IH = 1, 8
                     CALL UMCCOH(A0 + CV*(DV + T*STP), PROPS, CC, DC)
                     RT = SM - BK*(DV + T*STP) - COT*CC
                     IF (ABS(RT/SCL) .LT. ABS(R/SCL)) GO TO 12
                     T = 0.5D0*T
                  END DO
   12             CONTINUE
                  DV = DV + T*STP
               END DO
   15          CONTINUE
               PNEWDT = 0.5D0
               RETURN
   20          CONTINUE
               AN = A0 + CV*DV
               DO I = 1, 3
                  SIG(I) = SM - BK*DV
                  DO J = 1, 3
                     DP3(I,J) = BK*(1.0D0 + BK/DR)
                  END DO
               END DO
            END IF
         END IF
C        Back to tensors: sigma = sum_a sig_a v_a v_a; the tangent with
C        the spectral terms (sig_a - sig_b)/(e_a - e_b), their limit
C        at (relatively) coincident principal strains.
         EMX = MAX(MAX(ABS(EV(1)), ABS(EV(2)), ABS(EV(3))), 1.0D-300)
         DO IA = 1, 3
            DO IB = 1, 3
               TH(IA,IB) = 0.0D0
               IF (IA .NE. IB) THEN
                  IF (ABS(EV(IA) - EV(IB)) .LE. {rtol}*EMX) THEN
                     TH(IA,IB) = 0.5D0*(DP3(IA,IA) + DP3(IB,IB))
     &                  - 0.5D0*(DP3(IA,IB) + DP3(IB,IA))
                  ELSE
                     TH(IA,IB) = (SIG(IA) - SIG(IB))/(EV(IA) - EV(IB))
                  END IF
               END IF
            END DO
         END DO
         DO K = 1, 6
            I = IX(K)
            J = JX(K)
            S6(K) = 0.0D0
            DO IA = 1, 3
               S6(K) = S6(K) + SIG(IA)*QV(I,IA)*QV(J,IA)
            END DO
            DO L = 1, 6
               KK = IX(L)
               LL = JX(L)
               D6(K,L) = 0.0D0
               DO IA = 1, 3
                  DO IB = 1, 3
                     D6(K,L) = D6(K,L) + DP3(IA,IB)*QV(I,IA)*QV(J,IA)
     &                  *QV(KK,IB)*QV(LL,IB) + 0.5D0*TH(IA,IB)
     &                  *QV(I,IA)*QV(J,IB)*(QV(KK,IA)*QV(LL,IB)
     &                  + QV(KK,IB)*QV(LL,IA))
                  END DO
               END DO
            END DO
         END DO
C        Plastic strain: eps_p = eps - C_e^-1 sigma.
         TRS = S6(1) + S6(2) + S6(3)
         DO I = 1, 6
            EP(I) = ET(I) - S6(I)/(2.0D0*G)
         END DO
         DO I = 1, 3
            EP(I) = EP(I) + TRS/(6.0D0*G) - TRS/(9.0D0*BK)
         END DO
         DO I = 1, 6
            STATEV(I) = EP(I)/WI(I)
         END DO
         STATEV(7) = AN
      END IF
"""


def _gen_mohr_coulomb(model: MohrCoulomb) -> Any:
    """The UMAT of a :class:`MohrCoulomb` model: the model's backward-Euler returns (main plane, the edge chosen as
    the model chooses it, apex) on the principal trial stresses of a Jacobi eigendecomposition, the same Newton
    unknowns, tolerance and scale, and the closed-form consistent tangent mapped to tensors with the spectral terms
    of :func:`constitutive.tensor.spectral_derivative` (the same repeated-eigenvalue test and limit)."""
    from .umat_generator import (
        JACOBI_FORTRAN,
        GeneratedUMAT,
        _fstr,
        _j2_indices,
        _model_repr,
        _props_from_parameters,
        flow_routine,
    )

    idx = {k: str(v) for k, v in _j2_indices(model).items()}
    props, docs = _props_from_parameters(model, list(model.parameters))
    flow = flow_routine(model, idx, "UMCCOH", "c", "Cohesion CC = c(A) and its slope DC.")
    routines = _MC_ROUTINES.replace("{flow}", flow)
    body = _MC_BODY
    for key in ("E", "nu", "phi", "psi"):
        body = body.replace("{" + key + "}", idx[key])
    # the repeated-eigenvalue test of spectral_derivative: gap <= eps**(1/3) max|e| (float64)
    rtol = float(torch.finfo(torch.float64).eps) ** (1.0 / 3.0)
    body = (
        body.replace("{maxit}", str(int(model.max_iter)))
        .replace("{tol}", f"{float(model.tol):.17e}".upper().replace("E", "D"))
        .replace("{rtol}", f"{rtol:.17e}".upper().replace("E", "D"))
    )
    msg = "UMAT MohrCoulomb: trial stress beyond the apex and psi = 0: no admissible return (element %I, point %I)"
    body = body.replace("{apexmsg}", _fstr(msg))
    decl = [
        "      DIMENSION ET(6), EP(6), EE(6), WI(6), DEV(6,6), XM(3,3), EV(3), QV(3,3), STR(3), SIG(3), DE(3,3), "
        "DP3(3,3), FP(2,3), FN(2,3), TH(3,3), IX(6), JX(6)",
        "      DATA WI /1.0D0, 1.0D0, 1.0D0, 0.5D0, 0.5D0, 0.5D0/",
        "      DATA IX /1, 2, 3, 1, 1, 2/",
        "      DATA JX /1, 2, 3, 2, 3, 3/",
        "      DATA DEV /0.6666666666666666D0, -0.3333333333333333D0, -0.3333333333333333D0, 0.0D0, 0.0D0, 0.0D0,"
        " -0.3333333333333333D0, 0.6666666666666666D0, -0.3333333333333333D0, 0.0D0, 0.0D0, 0.0D0,"
        " -0.3333333333333333D0, -0.3333333333333333D0, 0.6666666666666666D0, 0.0D0, 0.0D0, 0.0D0,"
        " 0.0D0, 0.0D0, 0.0D0, 0.5D0, 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.5D0, 0.0D0,"
        " 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.0D0, 0.5D0/",
    ]
    statev = [(f"eps_p {lab}", "plastic strain" + (" (engineering shear)" if lab[0] != lab[1] else ""))
              for lab in ("11", "22", "33", "12", "13", "23")]  # fmt: skip
    statev.append(("alpha", "equivalent plastic strain (d alpha = 2 cos(phi) sum of the multipliers)"))
    notes = [
        "Mohr-Coulomb: Phi = (s1 - s3) + (s1 + s3) sin(phi) - 2 c cos(phi), potential with the dilation angle psi; "
        "returns in principal stresses (Jacobi eigendecomposition of the trial elastic strain) to the main plane, "
        "the edge s1 = s2 or s2 = s3, or the apex, and the closed-form consistent tangent with the spectral terms "
        "(constitutive.models.geomechanics.MohrCoulomb).",
        f"Local Newton: converged when |r| <= {float(model.tol):g} (max |s_tr| + c_n), at most "
        f"{int(model.max_iter)} iterations (the engine's step halving), else PNEWDT = 0.5.",
    ]
    if model.unsymmetric_tangent:
        notes.append("Unsymmetric tangent (psi != phi): declare *USER MATERIAL, UNSYMM.")
    return GeneratedUMAT(
        _model_repr(model),
        f"Mohr-Coulomb plasticity, cohesion hardening ({type(model.law).__name__}): backward Euler plane/edge/apex "
        "return map and its consistent tangent.",
        props,
        docs,
        statev,
        False,
        body.strip("\n").split("\n"),
        declarations=decl,
        routines=[JACOBI_FORTRAN, routines],
        notes=notes,
    )


def _register_umat_mc() -> None:
    from .umat_generator import register_umat_generator

    register_umat_generator(MohrCoulomb, _gen_mohr_coulomb)


_register_umat_mc()
