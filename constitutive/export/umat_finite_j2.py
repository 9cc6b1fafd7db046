r"""The generated Abaqus NLGEOM UMAT of finite-strain J2 plasticity (:class:`~constitutive.models.FiniteStrainJ2`).

Importing this module registers the generator (:func:`~constitutive.export.umat_generator.register_umat_generator`),
so :func:`~constitutive.export.generate_umat`, :func:`~constitutive.export.umat_source` and ``constitutive export
umat`` write it; ``constitutive.export`` imports it.

What the Fortran does, per call (the model's return map, ``constitutive.models.finite_plasticity``, step for step):

1. refuse a step without NLGEOM (``JSTEP(3) = 0``: ``STDB_ABQERR``, LOP = -3), since the UMAT reads ``DFGRD1``;
   ``det DFGRD1 <= 0`` sets ``PNEWDT = 0.25`` (the increment is retried smaller);
2. the state at the start of the increment: :math:`C^{p,-1}_n = I + ` ``STATEV(1:6)`` (11 22 33 12 13 23; stored
   as the difference from :math:`I` so that Abaqus's zero initial ``STATEV`` is the virgin state) and
   :math:`\alpha_n` = ``STATEV(7)``; a :math:`C^{p,-1}_n` that is not positive definite stops the analysis;
3. trial :math:`b^e_{tr} = F C^{p,-1}_n F^T` with :math:`F` = ``DFGRD1`` (total, exact: no incremental strain
   approximation of Abaqus enters), its eigen-decomposition by the shared Jacobi routine ``UGEIG``
   (:data:`~constitutive.export.umat_generator.JACOBI_FORTRAN`, also the Ogden UMAT's), principal log strains
   :math:`\varepsilon_a = \tfrac12 \ln b_a`, Hencky trial Kirchhoff stress;
4. the radial return in the principal log strains: :math:`\Delta\alpha` from
   :math:`q^{tr} - 3G\Delta\alpha - \sigma_f(\alpha_n + \Delta\alpha) = 0` by the model's bracketed Newton (closed
   form for linear hardening) with any isotropic law of
   :data:`~constitutive.export.umat_generator.HARDENING_FORTRAN`, then one Newton step from the converged value (as
   the model); at most ``max_iter`` iterations, else ``PNEWDT = 0.5``;
5. :math:`\tau = \sum_a \tau_a n_a\otimes n_a`, the exponential map :math:`b^e = \sum_a \exp(2\varepsilon^e_a)\,
   n_a\otimes n_a`, :math:`C^{p,-1}_{n+1} = F^{-1} b^e F^{-T}` (:math:`\det C^{p,-1}` unchanged: plastic
   incompressibility to round-off), :math:`\alpha_{n+1}`; ``STRESS`` = :math:`\sigma = \tau/J`;
6. ``DDSDDE`` = the tangent of the Jaumann rate of the Kirchhoff stress over J, which is what the model's
   ``update`` returns (the package's :math:`\mathbb{C}^{\tau J}` convention, ``docs/umat.md``): the principal
   algorithmic moduli :math:`c_{ab}`, :math:`\mathbb{D} = \partial\tau/\partial b^e_{tr}` by the Daleckii--Krein
   formula with :math:`\partial\tau_a/\partial b_b = c_{ab}/(2b_b)` and its exact limit where two :math:`b_a` are
   within :math:`\epsilon^{1/3}\max(1, \max b)` (as :func:`constitutive.tensor.spectral_derivative`), and the
   spatial (Truesdell) tangent of τ, :math:`2\operatorname{sym}_{kl}(\mathbb{D}_{ijkn} b^e_{tr,nl}) -
   (\delta_{ik}\tau_{jl} + \tau_{ik}\delta_{jl})_{\mathrm{sym}}`, plus the Jaumann correction
   :math:`(\delta_{ik}\tau_{jl} + \tau_{ik}\delta_{jl})_{\mathrm{sym}}`: the two geometric terms cancel, so the code
   evaluates :math:`\tfrac1J \cdot 2\operatorname{sym}_{kl}(\mathbb{D}_{ijkn} b^e_{tr,nl})` (Simo's form,
   :meth:`~constitutive.models.FiniteStrainJ2.simo_abaqus_tangent`, equal to the model's route through
   :math:`\mathbb{A}` to round-off). Closed form: nothing is perturbed.

The state is written only at the end of a converged plastic step (an elastic step leaves ``STATEV`` exactly as it
was; the Python model recomputes :math:`C^{p,-1}` there, equal to round-off). ``SSE``, ``SPD``, ``SCD`` are not
updated. Compared with :meth:`~constitutive.models.FiniteStrainJ2.update` through the bridge
(``UMAT(..., finite_strain=True)``) in ``tests/test_umat_finite_j2.py``.
"""

from __future__ import annotations

from ..models.finite_plasticity import FiniteStrainJ2
from .umat_generator import (
    DALECKII_FORTRAN,
    JACOBI_FORTRAN,
    SPECTRAL_FORTRAN,
    GeneratedUMAT,
    _fstr,
    _j2_indices,
    _model_repr,
    _props_from_parameters,
    flow_routine,
    register_umat_generator,
)

__all__ = ["STATEV_LAYOUT", "generate_finite_j2_umat"]

#: STATEV of the generated finite-strain J2 UMAT: ``(name, meaning)`` per entry (NSTATV = 7).
STATEV_LAYOUT: tuple[tuple[str, str], ...] = (
    *(
        (f"Cp_inv {lab} - I", f"inverse plastic right Cauchy-Green tensor Cp^-1 minus the identity, component {lab}")
        for lab in ("11", "22", "33", "12", "13", "23")
    ),
    ("alpha", "equivalent plastic strain"),
)

_FLOW_ROUTINE = """
{flow}"""

_BODY_START = """
      SQ32 = SQRT(1.5D0)
C     The UMAT reads the deformation gradient DFGRD1: NLGEOM only.
      IF (JSTEP(3) .EQ. 0) THEN
         CALL STDB_ABQERR(-3, {nlgeom}, INTV(3), REALV, CHARV)
         RETURN
      END IF
      DJ = DFGRD1(1,1)*(DFGRD1(2,2)*DFGRD1(3,3) - DFGRD1(2,3)*DFGRD1(3,2))
     &   - DFGRD1(1,2)*(DFGRD1(2,1)*DFGRD1(3,3) - DFGRD1(2,3)*DFGRD1(3,1))
     &   + DFGRD1(1,3)*(DFGRD1(2,1)*DFGRD1(3,2) - DFGRD1(2,2)*DFGRD1(3,1))
      IF (DJ .LE. 0.0D0) THEN
         PNEWDT = 0.25D0
         RETURN
      END IF
      BK = PROPS({E})/(3.0D0*(1.0D0 - 2.0D0*PROPS({nu})))
      G = PROPS({E})/(2.0D0*(1.0D0 + PROPS({nu})))
C     The state at the start: Cp^-1 = I + STATEV(1:6), alpha = STATEV(7).
      DO M = 1, 6
         CPI(IA(M),JA(M)) = STATEV(M)
         CPI(JA(M),IA(M)) = STATEV(M)
      END DO
      DO I = 1, 3
         CPI(I,I) = CPI(I,I) + 1.0D0
      END DO
      A0 = STATEV(7)
C     Trial elastic left Cauchy-Green tensor BT = F Cp^-1 F^T, FC = F Cp^-1.
      DO I = 1, 3
         DO J = 1, 3
            FC(I,J) = 0.0D0
            DO K = 1, 3
               FC(I,J) = FC(I,J) + DFGRD1(I,K)*CPI(K,J)
            END DO
         END DO
      END DO
      DO I = 1, 3
         DO J = I, 3
            T = 0.0D0
            DO K = 1, 3
               T = T + 0.5D0*(FC(I,K)*DFGRD1(J,K) + FC(J,K)*DFGRD1(I,K))
            END DO
            BT(I,J) = T
            BT(J,I) = T
         END DO
      END DO
C     b_tr = sum_a BA(a) n_a n_a (n_a = column a of Q), log strains EA.
      CALL UGEIG(BT, BA, Q)
      IF (MIN(BA(1), BA(2), BA(3)) .LE. 0.0D0) THEN
         CALL STDB_ABQERR(-3, {posdef}, INTV(3), REALV, CHARV)
         RETURN
      END IF
      TH = 0.0D0
      DO IE = 1, 3
         EA(IE) = 0.5D0*LOG(BA(IE))
         TH = TH + EA(IE)
      END DO
C     Trial deviatoric Kirchhoff stress ST, its norm SN, q_trial, f_trial.
      SN = 0.0D0
      DO IE = 1, 3
         ST(IE) = 2.0D0*G*(EA(IE) - TH/3.0D0)
         SN = SN + ST(IE)*ST(IE)
      END DO
      SN = SQRT(SN)
      QTR = SQ32*SN
      CALL UFFLOW(A0, PROPS, SFN, DSF)
      FTR = QTR - SFN
      X = 0.0D0
      BETA = 1.0D0
      CNN = 0.0D0
      DO IE = 1, 3
         FN(IE) = 0.0D0
      END DO
      IF (FTR .GT. 0.0D0) THEN
"""

_SOLVE_LINEAR = """
C        Linear hardening: Delta alpha in closed form.
         Z = FTR/(3.0D0*G + PROPS({H}))
"""

_SOLVE_NEWTON = """
C        Bracketed Newton on Z = Delta alpha from Z = 0 (the model's).
         ZLO = 0.0D0
         ZHI = FTR/(3.0D0*G)
         Z = 0.0D0
         DO IT = 0, {maxit}
            CALL UFFLOW(A0 + Z, PROPS, SF, DSF)
            R = QTR - 3.0D0*G*Z - SF
            IF (ABS(R) .LE. {tol}*QTR) GO TO 10
            IF (R .GT. 0.0D0) THEN
               ZLO = Z
            ELSE
               ZHI = Z
            END IF
            ZS = Z + R/(3.0D0*G + DSF)
            IF (ZS .GT. ZLO .AND. ZS .LT. ZHI) THEN
               Z = ZS
            ELSE
               Z = 0.5D0*(ZLO + ZHI)
            END IF
         END DO
C        Not converged: ask for a smaller increment (state untouched).
         PNEWDT = 0.5D0
         RETURN
   10    CONTINUE
"""

_BODY_END = """
C        One Newton step from the converged value (as the Python model).
         CALL UFFLOW(A0 + Z, PROPS, SF, DSF)
         R = QTR - 3.0D0*G*Z - SF
         X = Z + R/(3.0D0*G + DSF)
         CALL UFFLOW(A0 + X, PROPS, SF, DSF)
         BETA = 1.0D0 - 3.0D0*G*X/QTR
         CNN = 6.0D0*G*G*(X/QTR - 1.0D0/(3.0D0*G + DSF))
         DO IE = 1, 3
            FN(IE) = ST(IE)/SN
         END DO
      END IF
C     Principal Kirchhoff stresses TA and elastic stretches squared EE.
      DO IE = 1, 3
         TA(IE) = BK*TH + ST(IE) - 2.0D0*G*SQ32*X*FN(IE)
         EE(IE) = EXP(2.0D0*(EA(IE) - SQ32*X*FN(IE)))
      END DO
      DO I = 1, 3
         DO J = I, 3
            T = 0.0D0
            U = 0.0D0
            DO IE = 1, 3
               T = T + TA(IE)*Q(I,IE)*Q(J,IE)
               U = U + EE(IE)*Q(I,IE)*Q(J,IE)
            END DO
            TAU(I,J) = T
            TAU(J,I) = T
            BE(I,J) = U
            BE(J,I) = U
         END DO
      END DO
      DO M = 1, 6
         S6(M) = TAU(IA(M),JA(M))/DJ
      END DO
C     DDSDDE: c_ab = d tau_a/d eps_b, DY(a,b) = d tau_a/d b_b, the
C     Daleckii-Krein THETA with its limit where b_a, b_b coincide.
      DO IE = 1, 3
         DO JE = 1, 3
            C = BK - 2.0D0*G*BETA/3.0D0 + CNN*FN(IE)*FN(JE)
            IF (IE .EQ. JE) C = C + 2.0D0*G*BETA
            DY(IE,JE) = C/(2.0D0*BA(JE))
         END DO
      END DO
      CALL UGDKC(BA, TA, DY, THETA)
C     DD = d tau/d b_tr (minor-symmetric).
      CALL UGSPD(Q, DY, THETA, DD)
C     Jaumann DDSDDE (tau-rate over J): (DD_ijkn b_nl + DD_ijln b_nk)/J
C     (the Truesdell tangent of tau plus the Jaumann correction).
      DO M = 1, 6
         I = IA(M)
         J = JA(M)
         DO N = 1, 6
            K = IA(N)
            L = JA(N)
            T = 0.0D0
            DO NN = 1, 3
               T = T + DD(I,J,K,NN)*BT(NN,L) + DD(I,J,L,NN)*BT(NN,K)
            END DO
            D6(M,N) = T/DJ
         END DO
      END DO
C     The state at the end: Cp^-1 = F^-1 b_e F^-T (plastic steps only:
C     elastically it is unchanged), FI = F^-1 by the adjugate.
      IF (FTR .GT. 0.0D0) THEN
         FI(1,1) = (DFGRD1(2,2)*DFGRD1(3,3) - DFGRD1(2,3)*DFGRD1(3,2))/DJ
         FI(1,2) = (DFGRD1(1,3)*DFGRD1(3,2) - DFGRD1(1,2)*DFGRD1(3,3))/DJ
         FI(1,3) = (DFGRD1(1,2)*DFGRD1(2,3) - DFGRD1(1,3)*DFGRD1(2,2))/DJ
         FI(2,1) = (DFGRD1(2,3)*DFGRD1(3,1) - DFGRD1(2,1)*DFGRD1(3,3))/DJ
         FI(2,2) = (DFGRD1(1,1)*DFGRD1(3,3) - DFGRD1(1,3)*DFGRD1(3,1))/DJ
         FI(2,3) = (DFGRD1(1,3)*DFGRD1(2,1) - DFGRD1(1,1)*DFGRD1(2,3))/DJ
         FI(3,1) = (DFGRD1(2,1)*DFGRD1(3,2) - DFGRD1(2,2)*DFGRD1(3,1))/DJ
         FI(3,2) = (DFGRD1(1,2)*DFGRD1(3,1) - DFGRD1(1,1)*DFGRD1(3,2))/DJ
         FI(3,3) = (DFGRD1(1,1)*DFGRD1(2,2) - DFGRD1(1,2)*DFGRD1(2,1))/DJ
         DO I = 1, 3
            DO J = 1, 3
               FC(I,J) = 0.0D0
               DO K = 1, 3
                  FC(I,J) = FC(I,J) + FI(I,K)*BE(K,J)
               END DO
            END DO
         END DO
         DO M = 1, 6
            I = IA(M)
            J = JA(M)
            T = 0.0D0
            DO K = 1, 3
               T = T + 0.5D0*(FC(I,K)*FI(J,K) + FC(J,K)*FI(I,K))
            END DO
            IF (I .EQ. J) T = T - 1.0D0
            STATEV(M) = T
         END DO
         STATEV(7) = A0 + X
      END IF
"""

_DECLARATIONS = [
    "      DIMENSION CPI(3,3), FC(3,3), BT(3,3), BA(3), Q(3,3), EA(3), ST(3), FN(3), TA(3), EE(3)",
    "      DIMENSION TAU(3,3), BE(3,3), FI(3,3), DY(3,3), THETA(3,3), DD(3,3,3,3), IA(6), JA(6)",
    "      DATA IA /1, 2, 3, 1, 1, 2/",
    "      DATA JA /1, 2, 3, 2, 3, 3/",
]


def _fortran_real(value: float) -> str:
    """``value`` as a double-precision Fortran constant (``1D-12``, ``6.0554544523933395D-06``)."""
    text = repr(float(value)).upper().replace("E", "D")
    return text if "D" in text else text + "D0"


@register_umat_generator(FiniteStrainJ2)
def generate_finite_j2_umat(model: FiniteStrainJ2) -> GeneratedUMAT:
    """The :class:`~constitutive.export.umat_generator.GeneratedUMAT` of a
    :class:`~constitutive.models.FiniteStrainJ2` (source assembled by
    :func:`~constitutive.export.generate_umat`, which calls this through the registry): PROPS = the model's
    parameters in declaration order (E, nu, sigma_y, H, then the hardening law's), NSTATV = 7
    (:data:`STATEV_LAYOUT`), ``finite_strain=True`` (NLGEOM). :class:`~constitutive.export.UMATGenerationError` for a
    hardening law without Fortran lines (a Python callable)."""
    idx = {k: str(v) for k, v in _j2_indices(model).items()}
    props, docs = _props_from_parameters(model, list(model.parameters))
    name = type(model).__name__
    flow = _FLOW_ROUTINE.replace(
        "{flow}",
        flow_routine(model, idx, "UFFLOW", "sigma_y", "Flow stress SF = sigma_f(A) and its slope DSF at alpha = A."),
    )
    start = _BODY_START.replace("{E}", idx["E"]).replace("{nu}", idx["nu"])
    start = start.replace(
        "{nlgeom}", _fstr(f"UMAT {name}: reads DFGRD1, needs NLGEOM=YES in the step (element %I, point %I)")
    )
    start = start.replace(
        "{posdef}",
        _fstr(f"UMAT {name}: I + STATEV(1:6) (Cp^-1) is not positive definite (element %I, point %I)"),
    )
    if model.law.linear:
        solve = _SOLVE_LINEAR.replace("{H}", idx["H"])
        how = "closed form (linear hardening)"
    else:
        solve = _SOLVE_NEWTON.replace("{maxit}", str(int(model.max_iter)))
        solve = solve.replace("{tol}", _fortran_real(float(model.tol)))
        how = (
            f"bracketed Newton, converged when |r| <= {float(model.tol):g} q_trial, at most {int(model.max_iter)} "
            "iterations, else PNEWDT = 0.5 (the increment is retried smaller, the state untouched)"
        )
    body = (start + solve + _BODY_END).strip("\n").split("\n")
    lawname = type(model.law).__name__
    return GeneratedUMAT(
        _model_repr(model),
        f"Finite-strain J2 (von Mises) plasticity, {lawname} isotropic hardening: multiplicative split, Hencky "
        "elasticity, exponential-map return (Simo 1992) and its consistent Jaumann tangent in closed form.",
        props,
        docs,
        list(STATEV_LAYOUT),
        True,
        body,
        declarations=list(_DECLARATIONS),
        routines=[JACOBI_FORTRAN, DALECKII_FORTRAN, SPECTRAL_FORTRAN, flow],
        notes=[
            "Reads DFGRD1 and STATEV only (exact, independent of Abaqus's incremental strain and rotation "
            "approximations): b_e trial = F Cp^-1 F^T (Jacobi eigen-decomposition), Hencky trial Kirchhoff stress, "
            "radial return in the principal log strains, exponential map b_e = sum exp(2 eps_e_a) n_a n_a, "
            "Cp^-1 = F^-1 b_e F^-T (det Cp^-1 unchanged: plastic incompressibility to round-off).",
            f"Delta alpha: {how}.",
            "DDSDDE = (2/J) sym_kl(D_ijkn b_tr,nl), D = d tau/d b_tr (Daleckii-Krein, exact limit where two "
            "eigenvalues of b_tr are within eps^(1/3) max(1, max b)): the Truesdell tangent of tau plus the "
            "Jaumann correction, in closed form. Symmetric.",
            "STATEV(1:6) hold Cp^-1 - I so that the zero initial STATEV is the virgin state; they change in "
            "plastic increments only. A step without NLGEOM (JSTEP(3) = 0) stops the analysis; det F <= 0 sets "
            "PNEWDT = 0.25. SSE, SPD, SCD are not updated.",
        ],
        finite_strain_note=(
            "Finite strain: needs NLGEOM=YES. Reads DFGRD1 and the state; returns the Cauchy stress and DDSDDE = "
            "the tangent of the Jaumann rate of Kirchhoff stress over J, in closed form (exact to round-off)."
        ),
    )
