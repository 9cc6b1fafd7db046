r"""Abaqus cards for :class:`~constitutive.models.hill.Hill48`: ``*ELASTIC`` + ``*PLASTIC`` (the flow-stress table,
as J2's) + ``*POTENTIAL`` (Hill's yield-stress ratios).

Abaqus (Theory Guide, 'Stress potentials for anisotropic metal plasticity'; Analysis User's Guide, 'Anisotropic
yield/creep') writes Hill's potential :math:`f(\sigma) = \sqrt{F(\sigma_{22}-\sigma_{33})^2 + \dots +
2N\sigma_{12}^2}` with :math:`F = \tfrac{(\sigma^0)^2}{2}(\bar\sigma_{22}^{-2} + \bar\sigma_{33}^{-2} -
\bar\sigma_{11}^{-2})`, ..., :math:`N = \tfrac32(\tau^0/\bar\sigma_{12})^2`, :math:`\tau^0 = \sigma^0/\sqrt3`, and
reads the ratios :math:`R_{ij}` (``*POTENTIAL`` data line ``R11, R22, R33, R12, R13, R23``) with
:math:`R_{ii} = \bar\sigma_{ii}/\sigma^0`, :math:`R_{ij} = \bar\sigma_{ij}/\tau^0`. The package's constants are
Abaqus's (same normalisation, F = G = H = 1/2, L = M = N = 3/2 is von Mises), σ^0 is the ``*PLASTIC`` flow stress
σ_f(α), and Abaqus's equivalent plastic strain is work-conjugate to f, as the package's α.

The ratios refer to the local material axes: the section must use an ``*ORIENTATION`` whose local 1, 2, 3 axes are
the model's ``orientation`` rows; the card's comment gives them (``SYSTEM=RECTANGULAR``: point a on the local
1-axis, point b in the local 1-2 plane).
"""

from __future__ import annotations

from typing import Any

import torch

from ..models.hill import Hill48
from .cards import (
    _check_code,
    _data_lines,
    _fmt,
    _isotropic_elastic_lines,
    _scalar,
    _table_lines,
    plastic_table,
    register_card_writer,
)

__all__ = ["abaqus_hill_card", "POTENTIAL_ORDER"]

#: The order of the ``*POTENTIAL`` data line.
POTENTIAL_ORDER = ("R11", "R22", "R33", "R12", "R13", "R23")


def _orientation_comment(model: Hill48) -> str:
    A = torch.as_tensor(model.parameters["orientation"]).detach().cpu()
    if A.ndim > 2:
        return (
            f"** material axes vary per point (orientation of batch shape {tuple(A.shape[:-2])}): give them with "
            "*ORIENTATION and a *DISTRIBUTION; the R_ij refer to those local axes"
        )
    a, b = A[0].tolist(), A[1].tolist()
    return (
        "** the R_ij refer to the local material axes: use them through the section's ORIENTATION=..., e.g.\n"
        "** *ORIENTATION, NAME=HILL_AXES, SYSTEM=RECTANGULAR\n"
        f"** {', '.join(_fmt(v) for v in a)}, {', '.join(_fmt(v) for v in b)}, 0.0, 0.0, 0.0\n"
        "** (point a on the local 1-axis, point b in the local 1-2 plane: the model's orientation rows 1 and 2)"
    )


def abaqus_hill_card(
    model: Hill48, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0
) -> str:
    r"""``*ELASTIC`` + ``*PLASTIC`` (flow-stress table, :func:`~.cards.plastic_table`) + ``*POTENTIAL`` for a
    :class:`~constitutive.models.hill.Hill48` model, with the ``*ORIENTATION`` to use in a comment.

    The ratios are :meth:`~constitutive.models.hill.Hill48.yield_ratios` (:math:`R_{11} = (G+H)^{-1/2}`, ...,
    :math:`R_{12} = \sqrt{3/(2N)}`). CalculiX has no ``*POTENTIAL``: ``code="calculix"`` raises ``ValueError``.
    """
    _check_code(code)
    if code == "calculix":
        raise ValueError(
            "CalculiX has no *POTENTIAL (Hill) keyword, so no CalculiX card reproduces Hill48: write code='abaqus', "
            "or use a UMAT"
        )
    ratios = model.yield_ratios()
    values = [float(torch.as_tensor(ratios[k]).detach().cpu()) for k in POTENTIAL_ORDER]
    table = plastic_table(model, tolerance, max_plastic_strain)
    lines = [
        _isotropic_elastic_lines(_scalar(model, "E"), _scalar(model, "nu")),
        table.comment(),
        "*PLASTIC",
        *_table_lines(table),
        f"** Hill48 F, G, H, L, M, N = {', '.join(_fmt(_scalar(model, k)) for k in ('F', 'G', 'H', 'L', 'M', 'N'))}",
        _orientation_comment(model),
        "*POTENTIAL",
        *_data_lines(values),
    ]
    return "\n".join(lines) + "\n"


@register_card_writer(Hill48)
def _hill_writer(
    model: Any, *, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0, **_: Any
) -> str:
    return abaqus_hill_card(model, code, tolerance, max_plastic_strain)


# --------------------------------------------------------------------------------------------------------------
# The generated UMAT
# --------------------------------------------------------------------------------------------------------------
_HILL_ROUTINES = """
{flow}C
C     W = M V: Hill's matrix on Mandel vectors in the material axes
C     (Abaqus order 11 22 33 12 13 23, sqrt(2) on the shear slots).
      SUBROUTINE UHAPPM(P, V, W)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION P(*), V(6), W(6)
      W(1) = P({G})*(V(1) - V(3)) + P({H})*(V(1) - V(2))
      W(2) = P({F})*(V(2) - V(3)) + P({H})*(V(2) - V(1))
      W(3) = P({F})*(V(3) - V(2)) + P({G})*(V(3) - V(1))
      W(4) = P({N})*V(4)
      W(5) = P({M})*V(5)
      W(6) = P({L})*V(6)
      RETURN
      END
C
C     Y = (I + X M)^-1 V (material axes): the normal block by its
C     adjugate, the shear slots divided by 1 + X N, 1 + X M, 1 + X L.
      SUBROUTINE UHSOLV(X, P, V, Y)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION P(*), V(6), Y(6)
      B11 = 1.0D0 + X*(P({G}) + P({H}))
      B22 = 1.0D0 + X*(P({F}) + P({H}))
      B33 = 1.0D0 + X*(P({F}) + P({G}))
      B12 = -X*P({H})
      B13 = -X*P({G})
      B23 = -X*P({F})
      C11 = B22*B33 - B23*B23
      C22 = B11*B33 - B13*B13
      C33 = B11*B22 - B12*B12
      C12 = B13*B23 - B12*B33
      C13 = B12*B23 - B13*B22
      C23 = B12*B13 - B11*B23
      DET = B11*C11 + B12*C12 + B13*C13
      Y(1) = (C11*V(1) + C12*V(2) + C13*V(3))/DET
      Y(2) = (C12*V(1) + C22*V(2) + C23*V(3))/DET
      Y(3) = (C13*V(1) + C23*V(2) + C33*V(3))/DET
      Y(4) = V(4)/(1.0D0 + X*P({N}))
      Y(5) = V(5)/(1.0D0 + X*P({M}))
      Y(6) = V(6)/(1.0D0 + X*P({L}))
      RETURN
      END
C
C     Residual R(X) = sigma_bar(X) - sigma_f(A0 + X sigma_bar/(2G)) and
C     its slope DR, with SM = (I + X M)^-1 STM, FM = M SM, SB = sigma_bar.
      SUBROUTINE UHRES(X, P, G, A0, STM, R, DR, SM, FM, SB)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION P(*), STM(6), SM(6), FM(6), AFM(6)
      CALL UHSOLV(X, P, STM, SM)
      CALL UHAPPM(P, SM, FM)
      SB = 0.0D0
      DO I = 1, 6
         SB = SB + SM(I)*FM(I)
      END DO
      SB = SQRT(MAX(SB, 0.0D0))
      CALL UHSOLV(X, P, FM, AFM)
      DSB = 0.0D0
      DO I = 1, 6
         DSB = DSB - FM(I)*AFM(I)
      END DO
      DSB = DSB/SB
      CALL UHFLOW(A0 + X*SB/(2.0D0*G), P, SF, DSF)
      R = SB - SF
      DR = DSB - DSF*(SB + X*DSB)/(2.0D0*G)
      RETURN
      END
C
C     Q: the Mandel matrix of sigma -> A sigma A^T (A: rows = material
C     axes, PROPS row by row), built column by column from the basis.
      SUBROUTINE UHROTQ(P, Q)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION P(*), Q(6,6), AM(3,3), EB(3,3), R3(3,3), WM(6)
      DIMENSION IA(6), JA(6)
      DATA IA /1, 2, 3, 1, 1, 2/
      DATA JA /1, 2, 3, 2, 3, 3/
      DO I = 1, 3
         DO J = 1, 3
            AM(I,J) = P({orientation} + 3*(I - 1) + J - 1)
         END DO
      END DO
      DO I = 1, 6
         WM(I) = 1.0D0
         IF (I .GT. 3) WM(I) = SQRT(2.0D0)
      END DO
      DO JJ = 1, 6
         DO I = 1, 3
            DO J = 1, 3
               EB(I,J) = 0.0D0
            END DO
         END DO
         EB(IA(JJ),JA(JJ)) = 1.0D0/WM(JJ)
         EB(JA(JJ),IA(JJ)) = 1.0D0/WM(JJ)
         DO I = 1, 3
            DO J = 1, 3
               R3(I,J) = 0.0D0
               DO K = 1, 3
                  DO L = 1, 3
                     R3(I,J) = R3(I,J) + AM(I,K)*EB(K,L)*AM(J,L)
                  END DO
               END DO
            END DO
         END DO
         DO II = 1, 6
            Q(II,JJ) = R3(IA(II),JA(II))*WM(II)
         END DO
      END DO
      RETURN
      END
"""

_HILL_BODY = """
C     Mandel weights (sqrt 2 on shear), elastic moduli, the total strain
C     and the plastic strain (STATEV: engineering shear) as Mandel vectors.
      DO I = 1, 6
         WM(I) = 1.0D0
         IF (I .GT. 3) WM(I) = SQRT(2.0D0)
         EM(I) = 0.0D0
         AMI(I) = 0.0D0
      END DO
      DO I = 1, 3
         AMI(I) = 1.0D0
      END DO
      BK = PROPS({E})/(3.0D0*(1.0D0 - 2.0D0*PROPS({nu})))
      G = PROPS({E})/(2.0D0*(1.0D0 + PROPS({nu})))
      AL = BK - 2.0D0*G/3.0D0
      DO I = 1, NTENS
         EM(I) = STRAN(I) + DSTRAN(I)
      END DO
      DO I = 4, 6
         EM(I) = EM(I)/WM(I)
      END DO
      DO I = 1, 6
         EPM(I) = STATEV(I)
         IF (I .GT. 3) EPM(I) = EPM(I)/WM(I)
      END DO
      A0 = STATEV(7)
      A1 = A0
      TR = EM(1) + EM(2) + EM(3)
C     Trial stress (global), rotated to the material axes: STM = Q STG.
      DO I = 1, 6
         STG(I) = 2.0D0*G*(EM(I) - EPM(I)) + AL*TR*AMI(I)
      END DO
      CALL UHROTQ(PROPS, Q)
      DO I = 1, 6
         STM(I) = 0.0D0
         DO J = 1, 6
            STM(I) = STM(I) + Q(I,J)*STG(J)
         END DO
      END DO
      CALL UHAPPM(PROPS, STM, FM)
      SBT = 0.0D0
      DO I = 1, 6
         SBT = SBT + STM(I)*FM(I)
      END DO
      SBT = SQRT(MAX(SBT, 0.0D0))
      CALL UHFLOW(A0, PROPS, SFN, DSF)
      FTR = SBT - SFN
C     Elastic tangent (Mandel): 2 G I + lambda m m^T.
      DO I = 1, 6
         DO J = 1, 6
            DM(I,J) = AL*AMI(I)*AMI(J)
         END DO
         DM(I,I) = DM(I,I) + 2.0D0*G
      END DO
      IF (FTR .LE. 0.0D0) THEN
C        Elastic step: the state is unchanged.
         DO I = 1, 6
            SGM(I) = STG(I)
         END DO
         RSTATE = 0.0D0
      ELSE
C        Bracketed Newton iteration on X = 2 G dgamma from X = 0; the
C        bracket end: sigma_bar(X) <= sigma_bar_trial/(1 + X lambda_min).
         HS = PROPS({F}) + PROPS({G}) + PROPS({H})
         HP = PROPS({F})*PROPS({G}) + PROPS({G})*PROPS({H})
     &      + PROPS({H})*PROPS({F})
         ALM = MIN(PROPS({L}), PROPS({M}), PROPS({N}),
     &      HS - SQRT(MAX(HS*HS - 3.0D0*HP, 0.0D0)))
         XHI = MAX(SBT/SFN - 1.0D0, 0.0D0)/ALM
         XLO = 0.0D0
         X = 0.0D0
         DO IT = 0, {maxit}
            CALL UHRES(X, PROPS, G, A0, STM, R, DR, SM, FM, SB)
            IF (ABS(R) .LE. {tol}*SBT) GO TO 10
            IF (R .GT. 0.0D0) THEN
               XLO = X
            ELSE
               XHI = X
            END IF
            XS = X - R/DR
            IF (XS .GT. XLO .AND. XS .LT. XHI) THEN
               X = XS
            ELSE
               X = 0.5D0*(XLO + XHI)
            END IF
         END DO
C        Not converged: ask for a smaller increment.
         PNEWDT = 0.5D0
         RETURN
   10    CONTINUE
C        One more Newton step (the root to round-off), then the stress,
C        dgamma = X/(2G), the plastic strain dgamma M sigma (rotated
C        back) and alpha + dgamma sigma_bar.
         X = X - R/DR
         CALL UHRES(X, PROPS, G, A0, STM, R, DR, SM, FM, SB)
         DG = X/(2.0D0*G)
         DO I = 1, 6
            SGM(I) = 0.0D0
            DO J = 1, 6
               SGM(I) = SGM(I) + Q(J,I)*SM(J)
               EPM(I) = EPM(I) + DG*Q(J,I)*FM(J)
            END DO
         END DO
         A1 = A0 + DG*SB
C        Consistent tangent (material axes): C' = 2G A^-1 + lambda m m^T
C        - (2G SB C1/DD) (A^-1 n)(A^-1 n)^T, n = M sigma/SB,
C        C1 = 1 - DSF X/(2G), DD = C1 SB n.A^-1 n + DSF SB/(2G); then
C        C = Q^T C' Q.
         CALL UHFLOW(A1, PROPS, SF, DSF)
         DO I = 1, 6
            FN(I) = FM(I)/SB
         END DO
         CALL UHSOLV(X, PROPS, FN, AN)
         C1 = 1.0D0 - DSF*X/(2.0D0*G)
         DD = 0.0D0
         DO I = 1, 6
            DD = DD + FN(I)*AN(I)
         END DO
         DD = C1*SB*DD + DSF*SB/(2.0D0*G)
         COEF = 2.0D0*G*SB*C1/DD
         DO J = 1, 6
            DO I = 1, 6
               UJ(I) = 0.0D0
            END DO
            UJ(J) = 1.0D0
            CALL UHSOLV(X, PROPS, UJ, AJ)
            DO I = 1, 6
               CP(I,J) = 2.0D0*G*AJ(I) + AL*AMI(I)*AMI(J)
     &            - COEF*AN(I)*AN(J)
            END DO
         END DO
         DO I = 1, 6
            DO J = 1, 6
               T = 0.0D0
               DO K = 1, 6
                  DO L = 1, 6
                     T = T + Q(K,I)*CP(K,L)*Q(L,J)
                  END DO
               END DO
               DM(I,J) = T
            END DO
         END DO
         RSTATE = 1.0D0
      END IF
C     Tensor-component stress and the Abaqus tangent (engineering shear).
      DO I = 1, 6
         S6(I) = SGM(I)/WM(I)
         DO J = 1, 6
            D6(I,J) = DM(I,J)/(WM(I)*WM(J))
         END DO
      END DO
      IF (RSTATE .GT. 0.5D0) THEN
         DO I = 1, 6
            STATEV(I) = EPM(I)*WM(I)
         END DO
         STATEV(7) = A1
      END IF
"""


def _gen_hill(model: Hill48) -> Any:
    from .umat_generator import (
        GeneratedUMAT,
        UMATGenerationError,
        _j2_indices,
        _model_repr,
        _props_from_parameters,
        flow_routine,
    )

    if model.orientation.ndim != 2:
        raise UMATGenerationError(
            "UMAT not generated for Hill48 with a per-point orientation: PROPS hold one set of material axes (give "
            "the axes per element through *ORIENTATION and generate from a model with the identity orientation)"
        )
    names = list(model.parameters)
    props, docs = _props_from_parameters(model, names)
    sub = {k: str(v) for k, v in _j2_indices(model).items()}
    flow = flow_routine(
        model, sub, "UHFLOW", "sigma_y", "Flow stress SF = sigma_f(A) and its slope DSF at alpha = A.", slope="H_iso"
    )
    routines = _HILL_ROUTINES.replace("{flow}", flow)
    for key in ("F", "G", "H", "L", "M", "N", "orientation"):
        routines = routines.replace("{" + key + "}", sub[key])
    body = _HILL_BODY
    for key in ("E", "nu", "F", "G", "H", "L", "M", "N"):
        body = body.replace("{" + key + "}", sub[key])
    body = body.replace("{maxit}", str(int(model.max_iter))).replace("{tol}", f"{float(model.tol):.17g}".upper())
    decl = [
        "      DIMENSION EM(6), EPM(6), STG(6), STM(6), SGM(6), SM(6), FM(6), FN(6), AN(6), UJ(6), AJ(6)",
        "      DIMENSION WM(6), AMI(6), Q(6,6), DM(6,6), CP(6,6)",
    ]
    statev = [
        (f"eps_p {lab}", "plastic strain (global axes)" + (" (engineering shear)" if lab[0] != lab[1] else ""))
        for lab in ("11", "22", "33", "12", "13", "23")
    ]
    statev.append(("alpha", "equivalent plastic strain (work-conjugate to the Hill stress)"))
    title = (
        f"Hill48 orthotropic plasticity, {type(model.law).__name__} isotropic hardening: backward Euler return map "
        "(scalar Newton in x = 2G dgamma, material axes from PROPS) and its consistent tangent in closed form."
    )
    notes = [
        "Units: the parameters' units above (stress in the unit of STRESS).",
        "Material axes: PROPS orientation(1..9) are the rows of the model's orientation (material axes in the "
        "element's axes). With a section *ORIENTATION that already gives the material axes, generate from a model "
        "with the identity orientation (Abaqus then passes strains in those axes).",
        f"Local Newton: converged when |r| <= {float(model.tol):g} sigma_bar_trial, at most {int(model.max_iter)} "
        "iterations, else PNEWDT = 0.5 (the increment is retried smaller).",
    ]
    return GeneratedUMAT(
        _model_repr(model), title, props, docs, statev, False, body.strip("\n").split("\n"),
        declarations=decl, routines=[routines], notes=notes,
    )  # fmt: skip


def _register_umat() -> None:
    from .umat_generator import register_umat_generator

    register_umat_generator(Hill48, _gen_hill)


_register_umat()
