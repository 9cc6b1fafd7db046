"""Export of :class:`~constitutive.models.damage.LemaitreDamage`.

* Abaqus material cards: Abaqus has no Lemaitre card, and the writer registered here says so (instead of the
  registry's generic "no material card");
* a generated UMAT (:func:`constitutive.export.generate_umat`): the same backward-Euler return map in Fortran --
  Newton on the two unknowns (Δp, D) with iterates kept in Δp ≥ 0, D_n ≤ D ≤ 1 -- and its consistent tangent
  written in closed form from the implicit-function theorem (unsymmetric: declare ``*USER MATERIAL, UNSYMM``).
"""

from __future__ import annotations

from typing import Any

from ..models.damage import LemaitreDamage
from .cards import register_card_writer
from .umat_generator import (
    GeneratedUMAT,
    _j2_indices,
    _model_repr,
    _props_from_parameters,
    flow_routine,
    register_umat_generator,
)

__all__ = ["NO_LEMAITRE_CARD"]

#: Why no card is written (the message of the ``ValueError``).
NO_LEMAITRE_CARD = (
    "Abaqus has no Lemaitre ductile damage card: its ductile damage (*DAMAGE INITIATION, CRITERION=DUCTILE with "
    "*DAMAGE EVOLUTION) is a different model (an initiation locus in stress triaxiality, then a displacement- or "
    "energy-based softening regularised by the element length), so no card reproduces LemaitreDamage; run it in "
    "the material-point driver (constitutive drive) or through its generated UMAT (constitutive.export.umat_source)"
)


@register_card_writer(LemaitreDamage)
def _lemaitre_card(model: Any, *, code: str = "abaqus", **_: Any) -> str:
    raise ValueError(f"{type(model).__name__}: {NO_LEMAITRE_CARD}")


# ------------------------------------------------------------------------------------------------------- UMAT
_ROUTINES = """
{flow}C
C     Residuals R1, R2 of the Lemaitre return map at (DP, DD) = (Delta
C     p, D) and their Jacobian A11 A12 / A21 A22; C2 = dR2/dPE (the
C     effective mean stress). G, BK: moduli; QTR: effective trial von
C     Mises stress; P0, AK0, D0: p, kappa, D at the start; SFN: the
C     flow stress at AK0. Also SF, DSF at kappa = AK0 + (1 - D) DP.
      SUBROUTINE ULRES(DP, DD, P, G, BK, QTR, PE, P0, AK0, D0, SFN,
     &   R1, R2, A11, A12, A21, A22, C2, SF, DSF)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION P(*)
      OM = 1.0D0 - DD
      CALL ULFLOW(AK0 + OM*DP, P, SF, DSF)
      R1 = (QTR - 3.0D0*G*DP - SF)/SFN
      A11 = (-3.0D0*G - DSF*OM)/SFN
      A12 = DSF*DP/SFN
C     Part of DP above the threshold p_D, and its slope HV.
      PDP = MAX(P0 + DP - P({p_D}), 0.0D0) - MAX(P0 - P({p_D}), 0.0D0)
      HV = 0.0D0
      IF (P0 + DP - P({p_D}) .GT. 0.0D0) HV = 1.0D0
      Y = SF*SF/(6.0D0*G) + PE*PE/(2.0D0*BK)
      YS = Y/P({S})
      GY = YS**P({s})
      DGY = P({s})*YS**(P({s}) - 1.0D0)/P({S})
      R2 = DD - D0 - PDP*GY
      A21 = -HV*GY - PDP*DGY*SF*DSF*OM/(3.0D0*G)
      A22 = 1.0D0 + PDP*DGY*SF*DSF*DP/(3.0D0*G)
      C2 = -PDP*DGY*PE/BK
      RETURN
      END
"""

_BODY = """
C     Elastic moduli and the total strain (tensor components).
      BK = PROPS({E})/(3.0D0*(1.0D0 - 2.0D0*PROPS({nu})))
      G = PROPS({E})/(2.0D0*(1.0D0 + PROPS({nu})))
      DO I = 1, 6
         ET(I) = 0.0D0
      END DO
      DO I = 1, NTENS
         ET(I) = STRAN(I) + DSTRAN(I)
      END DO
      DO I = 4, 6
         ET(I) = 0.5D0*ET(I)
      END DO
      TR = ET(1) + ET(2) + ET(3)
C     The state at the start of the increment.
      DO I = 1, 6
         EP(I) = STATEV(I)*WI(I)
      END DO
      P0 = STATEV(7)
      AK0 = STATEV(8)
      D0 = STATEV(9)
      OM0 = 1.0D0 - D0
C     Effective trial state: s = 2G (dev eps - eps_p), q, p = K tr eps.
      DO I = 1, 6
         STR(I) = 2.0D0*G*(ET(I) - EP(I))
      END DO
      DO I = 1, 3
         STR(I) = STR(I) - 2.0D0*G*TR/3.0D0
      END DO
      QTR = 0.0D0
      DO I = 1, 6
         QTR = QTR + WT(I)*STR(I)*STR(I)
      END DO
      QTR = SQ32*SQRT(QTR)
      PE = BK*TR
      CALL ULFLOW(AK0, PROPS, SFN, DSF)
      FTR = QTR - SFN
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
      IF (FTR .LE. 0.0D0) THEN
C        Elastic step: sigma = (1 - D) C eps_e, the state unchanged.
         DO I = 1, 6
            S6(I) = OM0*STR(I)
            DO J = 1, 6
               D6(I,J) = OM0*D6(I,J)
            END DO
         END DO
         DO I = 1, 3
            S6(I) = S6(I) + OM0*PE
         END DO
      ELSE
C        Newton on (DP, DD) from the linearised J2 return, D frozen.
         DP = FTR/(3.0D0*G + OM0*DSF)
         DD = D0
         DO IT = 0, {maxit}
            CALL ULRES(DP, DD, PROPS, G, BK, QTR, PE, P0, AK0, D0, SFN,
     &         R1, R2, A11, A12, A21, A22, C2, SF, DSF)
            IF (ABS(R1) .LE. {tol} .AND. ABS(R2) .LE. {tol}) GO TO 10
            DET = A11*A22 - A12*A21
            DP = DP - (A22*R1 - A12*R2)/DET
            DD = DD - (A11*R2 - A21*R1)/DET
            DP = MAX(DP, 0.0D0)
            DD = MIN(MAX(DD, D0), 1.0D0)
         END DO
C        Not converged: ask for a smaller increment.
         PNEWDT = 0.5D0
         RETURN
   10    CONTINUE
         IF (DD .GE. 1.0D0) THEN
C           The increment damages the point completely: retry smaller.
            PNEWDT = 0.25D0
            RETURN
         END IF
C        Stress and state at the end of the increment.
         OM = 1.0D0 - DD
         SHR = 1.0D0 - 3.0D0*G*DP/QTR
         DO I = 1, 6
            S6(I) = OM*SHR*STR(I)
            EP(I) = EP(I) + 1.5D0*DP*STR(I)/QTR
         END DO
         DO I = 1, 3
            S6(I) = S6(I) + OM*PE
         END DO
C        Consistent tangent (implicit-function theorem): with FN = s/|s|,
C        dq = sqrt(6) G FN : de, dpe = K tr de, [dDP, dDD] = -J^-1
C        [dq/SFN, C2 dpe]; dsigma = OM (SHR ds + dpe 1) + OM 3G DP/q^2
C        dq s - OM 3G/q dDP s - dDD (SHR s + PE 1).
         DET = A11*A22 - A12*A21
         SN = QTR/SQ32
         DO J = 1, 6
            DQ = SQRT(6.0D0)*G*STR(J)/SN
            DPE = 0.0D0
            IF (J .LE. 3) DPE = BK
            DDP = -(A22*DQ/SFN - A12*C2*DPE)/DET
            DDD = -(A11*C2*DPE - A21*DQ/SFN)/DET
            DO I = 1, 6
               VI = 0.0D0
               IF (I .LE. 3) VI = 1.0D0
               D6(I,J) = OM*SHR*2.0D0*G*DEV(I,J) + OM*VI*DPE
     &            + STR(I)*OM*3.0D0*G*(DP*DQ/(QTR*QTR) - DDP/QTR)
     &            - DDD*(SHR*STR(I) + PE*VI)
            END DO
         END DO
         DO I = 1, 6
            STATEV(I) = EP(I)/WI(I)
         END DO
         STATEV(7) = P0 + DP
         STATEV(8) = AK0 + OM*DP
         STATEV(9) = DD
      END IF
"""


@register_umat_generator(LemaitreDamage)
def _gen_lemaitre(model: LemaitreDamage) -> GeneratedUMAT:
    idx = {k: str(v) for k, v in _j2_indices(model).items()}
    props, docs = _props_from_parameters(model, list(model.parameters))
    flow = flow_routine(model, idx, "ULFLOW", "sigma_y", "Flow stress SF = sigma_f(A) and its slope DSF at kappa = A.")
    routines = _ROUTINES.replace("{flow}", flow)
    for key in ("S", "s", "p_D"):
        routines = routines.replace("{" + key + "}", idx[key])
    body = _BODY.replace("{E}", idx["E"]).replace("{nu}", idx["nu"])
    body = body.replace("{maxit}", str(int(model.max_iter))).replace("{tol}", f"{float(model.tol):.17g}".upper())
    decl = [
        "      DIMENSION ET(6), EP(6), STR(6), WT(6), WI(6), DEV(6,6)",
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
    statev += [("alpha", "accumulated plastic strain p"), ("kappa", "hardening variable"), ("D", "damage")]
    title = (
        f"Lemaitre ductile damage coupled to J2 plasticity, {type(model.law).__name__} isotropic hardening: backward "
        "Euler return map (Newton on (Delta p, D)) and its consistent tangent in closed form."
    )
    notes = [
        "Units: the parameters' units above (stress in the unit of STRESS).",
        f"Local Newton: converged when |r1|, |r2| <= {float(model.tol):g} (r1 scaled by the flow stress), at "
        f"most {int(model.max_iter)} iterations, else PNEWDT = 0.5; a root with D >= 1 gives PNEWDT = 0.25.",
        "Failure (D >= D_c) is not acted on here: STATEV(9) holds D for the analysis to compare with D_c.",
        "The tangent is not symmetric: declare *USER MATERIAL, UNSYMM.",
    ]
    return GeneratedUMAT(
        _model_repr(model),
        title,
        props,
        docs,
        statev,
        False,
        ["      SQ32 = SQRT(1.5D0)", *body.strip("\n").split("\n")],
        declarations=decl,
        routines=[routines],
        notes=notes,
    )
