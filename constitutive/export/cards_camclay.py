r"""Abaqus cards of :class:`~constitutive.models.ModifiedCamClay`: ``*POROUS ELASTIC`` with ``*CLAY PLASTICITY``
(registered with :func:`~.cards.register_card_writer`, so :func:`~.cards.abaqus_card` writes them).

Field by field (Abaqus Keywords Reference, ``*POROUS ELASTIC`` and ``*CLAY PLASTICITY``; Analysis User's Guide,
'Elastic behavior of porous materials' and 'Critical state (clay) plasticity model'):

=====================================  ==========================================================================
card field                             package parameter
=====================================  ==========================================================================
``*POROUS ELASTIC, SHEAR=G``           constant shear modulus (``G`` given)
``*POROUS ELASTIC, SHEAR=POISSON``     G from K and ν (``nu`` given)
  1 logarithmic bulk modulus κ         ``kappa``
  2 G, or Poisson's ratio ν            ``G`` or ``nu``
  3 elastic tensile limit p_t^el       ``p_t``
``*CLAY PLASTICITY``                   exponential hardening (``HARDENING=EXPONENTIAL``, the Standard default)
  1 logarithmic plastic bulk modulus   ``lmbda``
  2 stress ratio at critical state M   ``M``
  3 initial yield surface size a0      ``pc0 / 2`` (Abaqus a is the half-size of the ellipse, p_c = 2a)
  4 β (wet-side ellipse shape)         1 (the modified Cam-clay ellipse on both sides)
  5 K (triaxial tension/compression)   1 (a circle in the π-plane: q is the von Mises stress)
=====================================  ==========================================================================

The initial state is not material data in Abaqus: the writer adds the ``*INITIAL CONDITIONS`` it needs as ``**``
comment lines (``TYPE=RATIO`` with e0, ``TYPE=STRESS`` with σ = −p0 I) for the user to place in the model.

What does not map exactly:

* Abaqus is a finite-strain formulation: its porous elasticity is
  :math:`\frac{\kappa}{1+e_0}\ln\frac{p_0 + p_t}{p + p_t} = J^{el} - 1` and its hardening
  :math:`a = a_0\exp\bigl((1+e_0)\frac{1 - J^{pl}}{\lambda - \kappa J^{pl}}\bigr)`; the package's laws are their
  small-strain forms (:math:`J - 1 \to \operatorname{tr}\varepsilon`, :math:`\kappa J^{pl} \to \kappa`), equal
  to first order in the volume change;
* with ``SHEAR=POISSON`` Abaqus integrates the deviatoric rate law :math:`dS = 2G\,de^{el}` with the
  instantaneous G, the package uses the secant form :math:`S = 2G(p)\,e^{el}`: the two agree at constant
  pressure and for constant G, and differ where p changes while :math:`e^{el} \ne 0`;
* ``*CLAY PLASTICITY``'s β ≠ 1, K ≠ 1, ``HARDENING=TABULAR`` and ``INTERCEPT=e1`` (a0 from the NCL intercept e1,
  :math:`a_0 = \frac12\exp\frac{e_1 - e_0 - \kappa\ln p_0}{\lambda - \kappa}`) have no package counterpart
  (the model takes ``pc0`` directly).

The generated UMAT (:func:`constitutive.export.generate_umat`, registered here) has none of these differences: it
is the model itself -- the same backward-Euler return map (unknowns x = (Δε^p_v, Δγ p_c,n), residuals R1, R2,
their closed-form Jacobian, the clip d ≥ 1/2, the engine's line search, tolerance and iteration limit) in
``COMPLEX*16``, and DDSDDE by the **complex step** through the converged return map: column J is
:math:`\operatorname{Im}\sigma(\varepsilon + ih\,e_J)/h`, h = 1e-30, the Newton iteration run on the complex
unknowns until the real parts converge and then one more (exact to round-off: no difference is taken; every
branch on real parts). PROPS = κ, λ, M, e0, p0, pc0, G or ν, p_t; STATEV = ε^p (6, engineering shear), p_c (0 in
a fresh STATEV is read as pc0), α, void ratio. The tangent is unsymmetric (``*USER MATERIAL, UNSYMM``).
"""

from __future__ import annotations

from typing import Any

from ..models.camclay import ModifiedCamClay
from .cards import _check_code, _data_lines, _fmt, _scalar, register_card_writer
from .umat_generator import (
    GeneratedUMAT,
    _fstr,
    _j2_indices,
    _model_repr,
    _props_from_parameters,
    register_umat_generator,
)

__all__ = ["abaqus_camclay_card"]


def abaqus_camclay_card(model: ModifiedCamClay, code: str = "abaqus") -> str:
    """The ``*POROUS ELASTIC`` and ``*CLAY PLASTICITY`` blocks of a :class:`ModifiedCamClay` (without
    ``*MATERIAL``), preceded by ``**`` comments giving the ``*INITIAL CONDITIONS`` the model assumes. CalculiX has
    neither keyword: ``code="calculix"`` raises ``ValueError``."""
    _check_code(code)
    if code == "calculix":
        raise ValueError("CalculiX has no *POROUS ELASTIC or *CLAY PLASTICITY: ModifiedCamClay has no CalculiX card")
    if not isinstance(model, ModifiedCamClay):
        raise TypeError(f"abaqus_camclay_card needs a ModifiedCamClay, got {type(model).__name__}")
    params = model.parameters
    shear, second = ("G", _scalar(model, "G")) if "G" in params else ("POISSON", _scalar(model, "nu"))
    e0, p0 = _scalar(model, "e0"), _scalar(model, "p0")
    lines = [
        f"** initial conditions this material assumes: *INITIAL CONDITIONS, TYPE=RATIO (void ratio e0 = {_fmt(e0)})",
        f"** and *INITIAL CONDITIONS, TYPE=STRESS (sigma = -p0 I, p0 = {_fmt(p0)}; tension positive)",
        f"*POROUS ELASTIC, SHEAR={shear}",
        *_data_lines([_scalar(model, "kappa"), second, _scalar(model, "p_t")]),
        "*CLAY PLASTICITY, HARDENING=EXPONENTIAL",
        *_data_lines([_scalar(model, "lmbda"), _scalar(model, "M"), 0.5 * _scalar(model, "pc0"), 1.0, 1.0]),
    ]
    return "\n".join(lines) + "\n"


@register_card_writer(ModifiedCamClay)
def _camclay_writer(model: Any, *, code: str = "abaqus", **_: Any) -> str:
    return abaqus_camclay_card(model, code)


# ------------------------------------------------------------------------------------------------------- UMAT
# The model's backward-Euler return map (constitutive.models.camclay) in COMPLEX*16: the real parts are the update,
# the imaginary parts of a run from strain + i h e_J the J-th column of the consistent tangent (complex step).
_ROUTINES = """
C     Residuals R1, R2 of the Cam-clay return map at the unknowns
C     X1 = Delta eps^p_v, X2 = y = Delta gamma p_c,n and their Jacobian
C     A11 A12 / A21 A22 (closed form, complex: analytic in every
C     argument); also p, G, p_c, d there. EVT: trial elastic
C     volumetric strain (compression positive); ESQ = |e_tr|^2.
      SUBROUTINE UCCRES(X1, X2, EVT, ESQ, PCN, P, R1, R2, A11, A12,
     &   A21, A22, ZP, ZG, ZPC, ZD)
      INCLUDE 'ABA_PARAM.INC'
      COMPLEX*16 X1, X2, EVT, ESQ, R1, R2, A11, A12, A21, A22, ZP, ZG,
     &   ZPC, ZD, PU, GU, PCU, DU, DY, Q2, Q2U, Q2Y, F, FU, FY, W, WU
      DIMENSION P(*)
      C = (1.0D0 + P({e0}))/P({kappa})
      CH = (1.0D0 + P({e0}))/(P({lmbda}) - P({kappa}))
      AM2 = P({M})*P({M})
      ZP = (P({p0}) + P({p_t}))*EXP(C*(EVT - X1)) - P({p_t})
      PU = -C*(ZP + P({p_t}))
{shear}
      ZPC = PCN*EXP(CH*X1)
      PCU = CH*ZPC
      ZD = 1.0D0 + 6.0D0*ZG*X2/(AM2*PCN)
      DU = 6.0D0*GU*X2/(AM2*PCN)
      DY = 6.0D0*ZG/(AM2*PCN)
      Q2 = 6.0D0*ZG*ZG*ESQ/(ZD*ZD)
      Q2U = 12.0D0*ZG*ESQ*(GU*ZD - ZG*DU)/(ZD*ZD*ZD)
      Q2Y = -12.0D0*ZG*ZG*ESQ*DY/(ZD*ZD*ZD)
      R1 = X1 - X2*(2.0D0*ZP - ZPC)/PCN
      A11 = 1.0D0 - X2*(2.0D0*PU - PCU)/PCN
      A12 = -(2.0D0*ZP - ZPC)/PCN
      F = Q2/AM2 + ZP*(ZP - ZPC)
      FU = Q2U/AM2 + PU*(ZP - ZPC) + ZP*(PU - PCU)
      FY = Q2Y/AM2
      W = (ZP + P({p_t}))*ZPC
      WU = PU*ZPC + (ZP + P({p_t}))*PCU
      R2 = F/W
      A21 = (FU*W - F*WU)/(W*W)
      A22 = FY/W
      RETURN
      END
C
C     Keep d = 1 + 6 G y/(M^2 p_c,n) >= 1/2 (the model's clip: d <= 0 is
C     a spurious branch), G at the pressure of X1.
      SUBROUTINE UCCCLP(X1, X2, EVT, ESQ, PCN, P)
      INCLUDE 'ABA_PARAM.INC'
      COMPLEX*16 X1, X2, EVT, ESQ, R1, R2, A11, A12, A21, A22, ZP, ZG,
     &   ZPC, ZD, YMIN
      DIMENSION P(*)
      CALL UCCRES(X1, X2, EVT, ESQ, PCN, P, R1, R2, A11, A12, A21, A22,
     &   ZP, ZG, ZPC, ZD)
      YMIN = -0.5D0*P({M})*P({M})*PCN/(6.0D0*ZG)
      IF (DBLE(X2) .LT. DBLE(YMIN)) X2 = YMIN
      RETURN
      END
C
C     One increment of the model from the strain ZE (tensor components,
C     complex), the plastic strain EPN and p_c,n: stress ZS, plastic
C     strain ZEP, p_c ZPC; IPL = 1 if plastic; IOK = 0 if Newton failed.
C     Elastic/plastic and convergence are decided on real parts. IEX =
C     1 (complex step): one more full Newton step after convergence, so
C     that the imaginary parts are the exact derivative.
      SUBROUTINE UCCMAP(ZE, EPN, PCN, P, IEX, ZS, ZEP, ZPC, IPL, IOK)
      INCLUDE 'ABA_PARAM.INC'
      COMPLEX*16 ZE(6), ZS(6), ZEP(6), ZPC, ZT(6), ZTR, EVT, ESQ, X1,
     &   X2, Y1, Y2, DX1, DX2, R1, R2, A11, A12, A21, A22, ZP, ZG, ZD,
     &   B1, B2, B11, B12, B21, B22, ZDET, ZEE
      DIMENSION EPN(6), P(*), WT(6)
      DATA WT /1.0D0, 1.0D0, 1.0D0, 2.0D0, 2.0D0, 2.0D0/
C     Trial elastic strain: EVT = -tr, deviator ZT, ESQ = ZT:ZT (no
C     conjugate: analytic).
      DO I = 1, 6
         ZT(I) = ZE(I) - EPN(I)
      END DO
      ZTR = ZT(1) + ZT(2) + ZT(3)
      EVT = -ZTR
      DO I = 1, 3
         ZT(I) = ZT(I) - ZTR/3.0D0
      END DO
      ESQ = (0.0D0, 0.0D0)
      DO I = 1, 6
         ESQ = ESQ + WT(I)*ZT(I)*ZT(I)
      END DO
      AM2 = P({M})*P({M})
      X1 = (0.0D0, 0.0D0)
      X2 = (0.0D0, 0.0D0)
      IOK = 1
      IPL = 0
      NEXT = 0
C     Trial yield function f/p_c,n^2 at X = 0 (d = 1).
      CALL UCCRES(X1, X2, EVT, ESQ, PCN, P, R1, R2, A11, A12, A21, A22,
     &   ZP, ZG, ZPC, ZD)
C     (from real parts: Re(ESQ) carries -h^2 where e_tr = 0)
      ESQR = 0.0D0
      DO I = 1, 6
         ESQR = ESQR + WT(I)*DBLE(ZT(I))**2
      END DO
      Q = SQRT(6.0D0*DBLE(ZG)**2*ESQR)
      FTR = (Q*Q/AM2 + DBLE(ZP)*(DBLE(ZP) - PCN))/(PCN*PCN)
      IF (FTR .LE. 0.0D0) GO TO 40
      IPL = 1
C     Newton from X = 0: converged when |R1|, |R2| <= tol; the step is
C     halved (at most 8 times) until |R| decreases, then clipped.
      DO IT = 0, {maxit}
         CALL UCCRES(X1, X2, EVT, ESQ, PCN, P, R1, R2, A11, A12, A21,
     &      A22, ZP, ZG, ZPC, ZD)
         ERR = MAX(ABS(DBLE(R1)), ABS(DBLE(R2)))
         IF (ERR .LE. {tol}) THEN
            IF (IEX .EQ. 0) GO TO 40
            NEXT = 1
         ELSE IF (IT .EQ. {maxit}) THEN
            IOK = 0
            RETURN
         END IF
         ZDET = A11*A22 - A12*A21
         IF (DBLE(ZDET) .EQ. 0.0D0) THEN
            IOK = 0
            RETURN
         END IF
         DX1 = -(A22*R1 - A12*R2)/ZDET
         DX2 = -(A11*R2 - A21*R1)/ZDET
         IF (.NOT. (ABS(DBLE(DX1)) + ABS(DBLE(DX2)) .LE. HUGE(1.0D0)))
     &      THEN
            IOK = 0
            RETURN
         END IF
         IF (NEXT .EQ. 1) THEN
            X1 = X1 + DX1
            X2 = X2 + DX2
            GO TO 40
         END IF
         RN0 = SQRT(DBLE(R1)**2 + DBLE(R2)**2)
         T = 1.0D0
         DO K = 1, 8
            Y1 = X1 + T*DX1
            Y2 = X2 + T*DX2
            CALL UCCCLP(Y1, Y2, EVT, ESQ, PCN, P)
            CALL UCCRES(Y1, Y2, EVT, ESQ, PCN, P, B1, B2, B11, B12, B21,
     &         B22, ZP, ZG, ZPC, ZD)
            RN1 = SQRT(DBLE(B1)**2 + DBLE(B2)**2)
            IF (RN1 .LE. HUGE(RN1) .AND. RN1 .LT. RN0) GO TO 30
            T = 0.5D0*T
         END DO
   30    CONTINUE
         X1 = X1 + T*DX1
         X2 = X2 + T*DX2
         CALL UCCCLP(X1, X2, EVT, ESQ, PCN, P)
      END DO
      IOK = 0
      RETURN
C     Stress -p 1 + 2G e_tr/d and the state at X.
   40 CONTINUE
      CALL UCCRES(X1, X2, EVT, ESQ, PCN, P, R1, R2, A11, A12, A21, A22,
     &   ZP, ZG, ZPC, ZD)
      DO I = 1, 6
         ZS(I) = 2.0D0*ZG/ZD*ZT(I)
         ZEP(I) = DCMPLX(EPN(I), 0.0D0)
      END DO
      DO I = 1, 3
         ZS(I) = ZS(I) - ZP
      END DO
      IF (IPL .EQ. 1) THEN
C        eps_p = eps - eps_e, eps_e = (X1 - EVT)/3 1 + e_tr/d.
         DO I = 1, 6
            ZEE = ZT(I)/ZD
            IF (I .LE. 3) ZEE = ZEE + (X1 - EVT)/3.0D0
            ZEP(I) = ZE(I) - ZEE
         END DO
      END IF
      RETURN
      END
"""

_BODY = """
C     Total strain (tensor components; 13 23 zero in 2-D), the state.
      DO I = 1, 6
         ET(I) = 0.0D0
      END DO
      DO I = 1, NTENS
         ET(I) = STRAN(I) + DSTRAN(I)
      END DO
      DO I = 4, 6
         ET(I) = 0.5D0*ET(I)
      END DO
      DO I = 1, 6
         EP(I) = STATEV(I)*WI(I)
         ZE(I) = DCMPLX(ET(I), 0.0D0)
      END DO
C     STATEV(7) = 0 (a fresh STATEV): the virgin p_c = pc0.
      PCN = STATEV(7)
      IF (PCN .EQ. 0.0D0) PCN = PROPS({pc0})
      IF (PCN .LT. 0.0D0) THEN
         CALL STDB_ABQERR(-3, {pcmsg}, INTV(3), REALV, CHARV)
         RETURN
      END IF
      CALL UCCMAP(ZE, EP, PCN, PROPS, 0, ZS, ZEP, ZPC, IPL, IOK)
      IF (IOK .EQ. 0) THEN
C        Not converged: ask for a smaller increment.
         PNEWDT = 0.5D0
         RETURN
      END IF
      DO I = 1, 6
         S6(I) = DBLE(ZS(I))
      END DO
C     DDSDDE column J = Im sigma(eps + i h dE_J)/h, dE_J the J-th unit
C     engineering strain (tensor shear h/2), h = 1e-30: the complex step
C     through the converged return map, exact to round-off.
      H = 1.0D-30
      DO J = 1, 6
         DO I = 1, 6
            ZE(I) = DCMPLX(ET(I), 0.0D0)
         END DO
         ZE(J) = DCMPLX(ET(J), H*WI(J))
         CALL UCCMAP(ZE, EP, PCN, PROPS, 1, ZS2, ZEP2, ZPC2, IPL2, IOK)
         IF (IOK .EQ. 0) THEN
            PNEWDT = 0.5D0
            RETURN
         END IF
         DO I = 1, 6
            D6(I,J) = DIMAG(ZS2(I))/H
         END DO
      END DO
C     The state at the end of the increment.
      DA = 0.0D0
      DO I = 1, 6
         DA = DA + WT(I)*(DBLE(ZEP(I)) - EP(I))**2
         STATEV(I) = DBLE(ZEP(I))/WI(I)
      END DO
      STATEV(7) = DBLE(ZPC)
      STATEV(8) = STATEV(8) + SQRT(2.0D0/3.0D0)*SQRT(DA)
      STATEV(9) = PROPS({e0}) + (1.0D0 + PROPS({e0}))*(ET(1) + ET(2) + ET(3))
"""

_SHEAR = {
    "G": ["      ZG = P({G})", "      GU = (0.0D0, 0.0D0)"],
    "nu": [
        "      BG = 1.5D0*(1.0D0 - 2.0D0*P({nu}))/(1.0D0 + P({nu}))",
        "      ZG = BG*(1.0D0 + P({e0}))*(ZP + P({p_t}))/P({kappa})",
        "      GU = BG*(1.0D0 + P({e0}))*PU/P({kappa})",
    ],
}


def _fill(text: str, idx: dict[str, str]) -> str:
    for key, value in idx.items():
        text = text.replace("{" + key + "}", value)
    return text


@register_umat_generator(ModifiedCamClay)
def _gen_camclay(model: ModifiedCamClay) -> GeneratedUMAT:
    """The UMAT of a :class:`ModifiedCamClay`: the model's return map (same unknowns x = (Δε^p_v, Δγ p_c,n),
    residuals, clip, line search, tolerance and iteration limit) in COMPLEX*16, and DDSDDE by the complex step
    through it (module section above)."""
    idx = {k: str(v) for k, v in _j2_indices(model).items()}
    props, docs = _props_from_parameters(model, list(model.parameters))
    shear = "G" if "G" in model.parameters else "nu"
    idx["shear"] = "\n".join(_SHEAR[shear])
    idx["shear"] = _fill(idx["shear"], idx)
    idx["maxit"] = str(int(model.max_iter))
    idx["tol"] = f"{float(model.tol):.17g}".upper().replace("E", "D")
    if "D" not in idx["tol"]:
        idx["tol"] += "D0"
    routines = _fill(_ROUTINES, idx)
    msg = "UMAT ModifiedCamClay: STATEV(7) (preconsolidation pressure p_c) is negative (element %I, point %I)"
    body = _fill(_BODY, {**idx, "pcmsg": _fstr(msg)})
    decl = [
        "      COMPLEX*16 ZE(6), ZS(6), ZEP(6), ZPC, ZS2(6), ZEP2(6), ZPC2",
        "      DIMENSION ET(6), EP(6), WT(6), WI(6)",
        "      DATA WT /1.0D0, 1.0D0, 1.0D0, 2.0D0, 2.0D0, 2.0D0/",
        "      DATA WI /1.0D0, 1.0D0, 1.0D0, 0.5D0, 0.5D0, 0.5D0/",
    ]
    statev = [(f"eps_p {lab}", "plastic strain" + (" (engineering shear)" if lab[0] != lab[1] else ""))
              for lab in ("11", "22", "33", "12", "13", "23")]  # fmt: skip
    statev += [
        ("p_c", "preconsolidation pressure (0 in a fresh STATEV: read as pc0)"),
        ("alpha", "accumulated equivalent plastic strain"),
        ("void_ratio", "void ratio e0 + (1 + e0) tr(eps) at the end of the increment (output)"),
    ]
    title = (
        f"Modified Cam-clay, porous elasticity ({'constant G' if shear == 'G' else 'Poisson ratio nu'}): the "
        "backward Euler return map (Newton on (Delta eps^p_v, Delta gamma p_c,n)) in complex arithmetic, DDSDDE by "
        "the complex step through it."
    )
    notes = [
        "Tension positive; p = -tr(sigma)/3. At zero strain the stress is -p0 I: the analysis's initial stress "
        "(*INITIAL CONDITIONS, TYPE=STRESS) should be the same. STATEV(7) = 0 is read as the virgin p_c = pc0.",
        f"Local Newton: converged when |R1|, |R2| <= {float(model.tol):g}, step halved (at most 8 times) until "
        f"|R| decreases, at most {int(model.max_iter)} iterations, else PNEWDT = 0.5.",
        "DDSDDE: column J = Im sigma(eps + i h e_J)/h, h = 1e-30, the update run in COMPLEX*16 with one more "
        "Newton step after convergence (exact to round-off; branches on real parts).",
        "The tangent is not symmetric in general: declare *USER MATERIAL, UNSYMM.",
    ]
    return GeneratedUMAT(
        _model_repr(model),
        title,
        props,
        docs,
        statev,
        False,
        body.strip("\n").split("\n"),
        declarations=decl,
        routines=[routines],
        notes=notes,
    )
