r"""A generated thermo-elastoplastic UMAT: J2 plasticity with temperature-dependent parameters and thermal expansion.

:func:`thermal_j2_umat` generates the Abaqus UMAT of a temperature-dependent J2 model given by the temperature
contract of ``constitutive.models.thermal`` (duck-typed, so that any object following it is accepted):

* ``model.mechanical``: a :class:`~constitutive.models.plasticity.J2Plasticity` with isotropic hardening only
  (:class:`~constitutive.models.hardening.Linear`, :class:`~constitutive.models.hardening.Voce` or
  :class:`~constitutive.models.hardening.Swift`; no back stresses, not Perzyna);
* ``model.dependencies``: ``{name: table}`` for any of its parameters (``E nu sigma_y H``, and ``Q b`` of Voce or
  ``K eps0 n`` of Swift), each a piecewise-linear table with ``temperatures``/``values`` (a ``TemperatureTable``,
  or a ``{"temperature": [...], "value": [...]}`` dict); a Python function cannot be translated (refused);
* ``model.expansion``: ``None``, a number or a table of the secant expansion coefficient α(T);
* ``model.reference_temperature`` (T_ref, Abaqus ``ZERO``), ``model.initial_temperature`` (T_I; ``None``: T_ref).

**The UMAT.** With T = TEMP + DTEMP (the end of the increment: backward Euler), every parameter p is read from its
table at T (piecewise linear through the (T_k, p_k), constant outside [T_1, T_N], as Abaqus's temperature-dependent
data), the thermal strain is the secant form ε_th = [α(T)(T − T_ref) − α(T_I)(T_I − T_ref)] 1, and the radial return
of J2's generated UMAT (:mod:`constitutive.export.umat_generator`, reused line for line with the parameter values
in place of PROPS) runs on the mechanical strain ε − ε_th. STATEV are J2's: ε_p (engineering shear) and α.

**DDSDDT** = ∂σ/∂T at fixed total strain, in closed form (p' = dp/dT of a parameter, right-sided at a table
breakpoint, 0 outside the table). With K, G the bulk and shear moduli, θ = ε_th,11, θ' = α'(T)(T − T_ref) + α(T),
σ = K tr(ε − θ1) 1 + s:

* volumetric part, elastic or plastic: dp/dT = K' tr(ε − θ1) − 3Kθ';
* elastic step: ds/dT = (G'/G) s (s = 2G(dev ε − ε_p,n));
* plastic step: s = √(2/3) σ_f n with n = s_trial/‖s_trial‖ independent of T (s_trial ∝ G), and the consistency
  condition q_trial(T) − 3GΔα − σ_f(α_n + Δα; T) = 0 with q_trial' = (G'/G) q_trial gives
  dΔα/dT = [(G'/G) σ_f − ∂_Tσ_f]/(3G + h), so that
  ds/dT = √(2/3) n [3G ∂_Tσ_f + h (G'/G) σ_f]/(3G + h), h = ∂σ_f/∂α, ∂_Tσ_f = σ_y' + H'α + R_T(α) at α_n + Δα
  (Voce R_T = Q'(1 − e^{−bα}) + Q b' α e^{−bα}; Swift R_T = K'(B^n − ε0^n) + K[n'(B^n ln B − ε0^n ln ε0)
  + ε0' n (B^{n−1} − ε0^{n−1})], B = ε0 + α).

It equals −C : dε_th/dT + dC/dT : ε_e in the elastic step, and adds the plastic correction through the
consistency condition. The header of the generated file repeats the formulas and lays out PROPS:

``PROPS(1) = T_ref``, ``PROPS(2) = T_I``, then one table per parameter of the J2 model (in its order) and a last one
for α: ``N`` (the number of points; 1 for a constant) followed by ``T_1, p_1, ..., T_N, p_N``.

Registration: after the merge with ``constitutive.models.thermal``,
``register_umat_generator(ThermoMechanical, thermal_j2_umat)`` makes :func:`~constitutive.export.generate_umat`
pick it; until then call :func:`thermal_j2_umat` (it returns the assembled :class:`GeneratedUMAT`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ..models.hardening import Linear, Swift, Voce
from ..models.plasticity import J2Plasticity, Perzyna
from ..models.thermal import ThermoMechanical
from .umat_generator import (
    GeneratedUMAT,
    UMATGenerationError,
    _assemble,
    _declared,
    _fstr,
    _model_repr,
    register_umat_generator,
    umat_generator,
)

__all__ = ["thermal_j2_umat", "THERMAL_HARDENING_FORTRAN", "table_points"]

#: ∂σ_f/∂T at fixed α per isotropic law: Fortran lines adding to ``SFT`` in UGFLT from ``A`` (α), the parameter
#: values ``P`` and their temperature derivatives ``D`` ({name}: the index of parameter ``name``); σ_y' + H'α is
#: common to every law.
THERMAL_HARDENING_FORTRAN: dict[type, list[str]] = {
    Linear: [],
    Voce: [
        "      EB = EXP(-P({b})*A)",
        "      SFT = SFT + D({Q})*(1.0D0 - EB) + P({Q})*D({b})*A*EB",
    ],
    Swift: [
        "      BS = P({eps0}) + A",
        "      BN = BS**P({n})",
        "      EN = P({eps0})**P({n})",
        "      SFT = SFT + D({K})*(BN - EN) + P({K})*(D({n})*(BN*LOG(BS) - EN*LOG(P({eps0}))) "
        "+ D({eps0})*P({n})*(BN/BS - EN/P({eps0})))",
    ],
}

_THERMAL_ROUTINES = """
C     Piecewise-linear table at P(K): N = NINT(P(K)) points (T_j, v_j)
C     in P(K+1), P(K+2), ..., P(K+2N); constant outside [T_1, T_N].
C     V = v(T), DV = dv/dT (the right-sided slope at a breakpoint, 0
C     outside the table).
      SUBROUTINE UTTAB(P, K, T, V, DV)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION P(*)
      N = NINT(P(K))
      V = P(K + 2)
      DV = 0.0D0
      IF (T .LT. P(K + 1)) RETURN
      V = P(K + 2*N)
      IF (T .GE. P(K + 2*N - 1)) RETURN
      DO J = 1, N - 1
         TA = P(K + 2*J - 1)
         TB = P(K + 2*J + 1)
         IF (T .LT. TB) THEN
            DV = (P(K + 2*J + 2) - P(K + 2*J))/(TB - TA)
            V = P(K + 2*J) + (T - TA)*DV
            RETURN
         END IF
      END DO
      RETURN
      END
C
C     SFT = the temperature derivative of the flow stress at fixed
C     alpha = A, from the parameter values P and their derivatives D.
      SUBROUTINE UGFLT(A, P, D, SFT)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION P(*), D(*)
      SFT = D({sigma_y}) + D({H})*A
{law}
      RETURN
      END
"""

# The lines of J2's generated body this generator anchors to (checked: a change there fails generation loudly).
_J2_TRACE = "      TR = ET(1) + ET(2) + ET(3)"


def table_points(dependence: Any, name: str) -> tuple[list[float], list[float]]:
    """``(temperatures, values)`` of a piecewise-linear dependence: a number (one point), a table object with
    ``temperatures``/``values`` (a ``TemperatureTable``) or a ``{"temperature": [...], "value": [...]}`` dict.
    :class:`UMATGenerationError` for a Python function (``TemperatureFunction``: no Fortran translation) or a
    malformed table (the message names ``name``)."""
    if isinstance(dependence, (int, float)) and not isinstance(dependence, bool):
        return [0.0], [float(dependence)]
    if isinstance(dependence, torch.Tensor) and dependence.numel() == 1:
        return [0.0], [float(dependence)]
    if isinstance(dependence, Mapping) and "temperature" in dependence and "value" in dependence:
        ts, vs = dependence["temperature"], dependence["value"]
    elif hasattr(dependence, "temperatures") and hasattr(dependence, "values"):
        ts, vs = dependence.temperatures, dependence.values
    else:
        raise UMATGenerationError(
            f"UMAT not generated: the temperature dependence of {name!r} is {type(dependence).__name__}, not a "
            "piecewise-linear table (a Python function cannot be translated to Fortran; tabulate it with "
            "TemperatureTable)"
        )
    t = [float(v) for v in torch.as_tensor(ts, dtype=torch.float64).reshape(-1).tolist()]
    v = [float(x) for x in torch.as_tensor(vs, dtype=torch.float64).reshape(-1).tolist()]
    if not t or len(t) != len(v):
        raise UMATGenerationError(f"the table of {name!r} needs as many values as temperatures (at least one)")
    if not all(math.isfinite(x) for x in t + v) or any(b <= a for a, b in zip(t, t[1:])):
        raise UMATGenerationError(f"the table of {name!r} needs finite values and strictly increasing temperatures")
    return t, v


def _check_model(model: Any) -> J2Plasticity:
    for attr in ("mechanical", "dependencies", "expansion", "reference_temperature", "initial_temperature"):
        if not hasattr(model, attr):
            raise UMATGenerationError(
                f"thermal_j2_umat needs a temperature-dependent model (constitutive.models.thermal.ThermoMechanical: "
                f"mechanical, dependencies, expansion, ...); {type(model).__name__} has no {attr!r}"
            )
    mech = model.mechanical
    if not isinstance(mech, J2Plasticity) or isinstance(mech, Perzyna):
        raise UMATGenerationError(
            f"thermal_j2_umat generates temperature-dependent J2Plasticity only; the wrapped model is "
            f"{type(mech).__name__}"
        )
    if mech.n_backstress:
        raise UMATGenerationError(
            "thermal_j2_umat covers isotropic hardening only: the wrapped J2Plasticity has back stresses (kinematic "
            "hardening; its DDSDDT would need the back-stress recursion)"
        )
    if type(mech.law) not in THERMAL_HARDENING_FORTRAN:
        raise UMATGenerationError(
            f"thermal_j2_umat covers the isotropic laws {', '.join(c.__name__ for c in THERMAL_HARDENING_FORTRAN)}; "
            f"the wrapped model has {type(mech.law).__name__}"
        )
    unknown = sorted(set(model.dependencies) - set(mech.parameters))
    if unknown:
        raise UMATGenerationError(
            f"temperature dependence of unknown parameter(s) {unknown}; the J2 model has {list(mech.parameters)}"
        )
    return mech


def _substitute(lines: Sequence[str], old: str, new: Sequence[str]) -> list[str]:
    """Replace the one line ``old`` of J2's body by ``new`` (AssertionError if J2's body no longer has it)."""
    hits = [k for k, ln in enumerate(lines) if ln == old]
    if len(hits) != 1:
        raise AssertionError(f"J2's generated body must hold {old.strip()!r} once (found {len(hits)})")
    k = hits[0]
    return [*lines[:k], *new, *lines[k + 1 :]]


def thermal_j2_umat(model: Any, *, units: str | None = None) -> GeneratedUMAT:
    """The generated UMAT of a temperature-dependent J2 model (module docstring): a :class:`GeneratedUMAT` with the
    assembled ``source``, the PROPS values (reference and initial temperature, then the tables) and NSTATV = 7.
    ``units`` (e.g. ``"MPa, mm, s"``; temperatures in the user's unit) is stated in the header, as by
    :func:`~constitutive.export.generate_umat`.

    :class:`UMATGenerationError` names what is not covered (a Python temperature function, kinematic hardening,
    Perzyna, another wrapped model); ``ValueError`` for tables that leave the parameters' admissible range at a
    breakpoint (E > 0, -1 < nu < 1/2, sigma_y > 0)."""
    if units is not None and (not isinstance(units, str) or not units.strip()):
        raise ValueError(f"units must be a non-empty string such as 'MPa, mm, s', got {units!r}")
    mech = _check_model(model)
    names = list(mech.parameters)
    j2_gen = umat_generator(mech)
    assert j2_gen is not None
    j2 = j2_gen(mech)
    decl = _declared(mech)
    t_ref = float(model.reference_temperature)
    t_ini = t_ref if model.initial_temperature is None else float(model.initial_temperature)
    if not (math.isfinite(t_ref) and math.isfinite(t_ini)):
        raise ValueError("reference and initial temperatures must be finite")
    props: list[float] = [t_ref, t_ini]
    docs: list[tuple[str, str, str]] = [
        ("T_ref", "reference temperature of the thermal expansion (Abaqus ZERO)", "temperature"),
        ("T_I", "initial temperature (zero thermal strain there)", "temperature"),
    ]
    start: dict[str, int] = {}
    tables: dict[str, tuple[list[float], list[float]]] = {}
    for name in names:
        if name in model.dependencies:
            tables[name] = table_points(model.dependencies[name], name)
        else:
            tables[name] = ([0.0], [float(mech.parameters[name])])
    tables["alpha"] = ([0.0], [0.0]) if model.expansion is None else table_points(model.expansion, "expansion")
    for key, (lo, hi, what) in {"E": (0.0, math.inf, "E > 0"), "nu": (-1.0, 0.5, "-1 < nu < 1/2"),
                                "sigma_y": (0.0, math.inf, "sigma_y > 0")}.items():  # fmt: skip
        bad = [v for v in tables[key][1] if not lo < v < hi]
        if bad:
            raise ValueError(f"the temperature table of {key} leaves {what}: {bad}")
    for key, (ts, vs) in tables.items():
        start[key] = len(props) + 1
        meaning, unit = decl.get(key, ("secant thermal expansion coefficient", "1/temperature"))
        props.append(float(len(ts)))
        docs.append((f"N_{key}", f"number of (T, {key}) points", "1"))
        for k, (t, v) in enumerate(zip(ts, vs), 1):
            props += [t, v]
            docs += [(f"T_{key}({k})", f"temperature of point {k}", "temperature"), (f"{key}({k})", meaning, unit)]
    npv = len(names)
    idx = {name: str(k) for k, name in enumerate(names, 1)}
    law = "\n".join(ln.format(**idx) for ln in THERMAL_HARDENING_FORTRAN[type(mech.law)])
    routines = _THERMAL_ROUTINES.replace("{law}", law)
    for key in ("sigma_y", "H"):
        routines = routines.replace("{" + key + "}", idx[key])
    # J2's body with the parameter values PV(k) (at T) in place of its PROPS(k), on the mechanical strain.
    j2_body = [re.sub(r"\bPROPS\b", "PV", ln) for ln in j2.body]
    j2_body = _substitute(
        j2_body,
        _J2_TRACE,
        ["C     Mechanical strain: the thermal strain ETH on the normal components.",
         "      DO I = 1, 3", "         ET(I) = ET(I) - ETH", "      END DO", _J2_TRACE],
    )  # fmt: skip
    pre = [
        "C     End-of-increment temperature (backward Euler) and the parameter values PV and slopes DV there.",
        "      TNEW = TEMP + DTEMP",
        "      TREF = PROPS(1)",
        "      TINI = PROPS(2)",
        *[f"      CALL UTTAB(PROPS, {start[name]}, TNEW, PV({k}), DV({k}))" for k, name in enumerate(names, 1)],
        "C     Secant thermal strain ETH = alpha(T)(T - T_ref) - alpha(T_I)(T_I - T_ref) and DETH = dETH/dT.",
        f"      CALL UTTAB(PROPS, {start['alpha']}, TNEW, ALPHA, DALPHA)",
        f"      CALL UTTAB(PROPS, {start['alpha']}, TINI, ALPHI, DALPHI)",
        "      ETH = ALPHA*(TNEW - TREF) - ALPHI*(TINI - TREF)",
        "      DETH = DALPHA*(TNEW - TREF) + ALPHA",
        "      IF (PV(1) .LE. 0.0D0 .OR. PV(2) .LE. -1.0D0 .OR. PV(2) .GE. 0.5D0) THEN",
        "         REALV(1) = TNEW",
        "         CALL STDB_ABQERR(-3, "
        + _fstr("UMAT thermal J2: E or nu out of range at T = %R (element %I, point %I)")
        + ", INTV(3), REALV, CHARV)",
        "         RETURN",
        "      END IF",
    ]
    e, nu = idx["E"], idx["nu"]
    post = [
        "C     DDSDDT = dsigma/dT at fixed total strain (header): volumetric",
        "C     K' tr(eps - eps_th) - 3 K eps_th'; deviatoric (G'/G) s elastic,",
        "C     sqrt(2/3) n [3G dsf/dT + h (G'/G) sf]/(3G + h) plastic.",
        f"      DBK = DV({e})/(3.0D0*(1.0D0 - 2.0D0*PV({nu}))) + 2.0D0*PV({e})*DV({nu})/(3.0D0*(1.0D0 "
        f"- 2.0D0*PV({nu}))**2)",
        f"      DG = DV({e})/(2.0D0*(1.0D0 + PV({nu}))) - PV({e})*DV({nu})/(2.0D0*(1.0D0 + PV({nu}))**2)",
        "      DPDT = DBK*TR - 3.0D0*BK*DETH",
        "      IF (RSTATE .GT. 0.5D0) THEN",
        "         CALL UGFLOW(A0 + X, PV, SF, DSF)",
        "         CALL UGFLT(A0 + X, PV, DV, SFT)",
        "         DSFDT = (3.0D0*G*SFT + DSF*DG/G*SF)/(3.0D0*G + DSF)",
        "         DO I = 1, 6",
        "            T6(I) = SQ23*FN(I)*DSFDT",
        "         END DO",
        "      ELSE",
        "         DO I = 1, 6",
        "            T6(I) = DG/G*STR(I)",
        "         END DO",
        "      END IF",
        "      DO I = 1, 3",
        "         T6(I) = T6(I) + DPDT",
        "      END DO",
        "      DO I = 1, NTENS",
        "         DDSDDT(I) = T6(I)",
        "      END DO",
    ]
    # J2's body sets RSTATE only in its two branches; a plain RSTATE = 0 first keeps -Wall quiet about it.
    body = [*pre, "      RSTATE = 0.0D0", *j2_body, *post]
    deps = sorted(k for k in model.dependencies)
    exp = "none" if model.expansion is None else ("table" if len(tables["alpha"][0]) > 1 else "constant")
    g = GeneratedUMAT(
        f"ThermoMechanical({_model_repr(mech)}; T-dependent {', '.join(deps) or 'none'}; expansion {exp})",
        "Thermo-elastoplastic J2 plasticity, " + type(mech.law).__name__ + " isotropic hardening, parameters "
        "piecewise linear in temperature (at TEMP + DTEMP), secant thermal expansion; DDSDDT in closed form.",
        props,
        docs,
        j2.statev,
        False,
        body,
        declarations=[
            *j2.declarations,
            f"      DIMENSION PV({npv}), DV({npv}), T6(6)",
        ],
        routines=[*j2.routines, routines],
        notes=[
            *j2.notes,
            "Temperature: T = TEMP + DTEMP (end of the increment); each parameter is a table "
            "N, T_1, p_1, ..., T_N, p_N (piecewise linear, constant outside [T_1, T_N]; N = 1 a constant) "
            "read at T, in the order of PROPS above, the last table being the secant expansion coefficient "
            "alpha(T) (Abaqus *EXPANSION, ZERO = T_ref = PROPS(1)); thermal strain "
            "eps_th = [alpha(T)(T - T_ref) - alpha(T_I)(T_I - T_ref)] I, T_I = PROPS(2).",
            "DDSDDT = dsigma/dT at fixed total strain in closed form: volumetric K'(T) tr(eps - eps_th) "
            "- 3 K eps_th'(T), eps_th' = alpha'(T)(T - T_ref) + alpha(T); elastic step (G'/G) s; plastic step "
            "sqrt(2/3) n [3G dsf/dT + h (G'/G) sf]/(3G + h) from the consistency condition (sf the flow stress "
            "at alpha_n + dalpha, h its slope, dsf/dT its temperature derivative at fixed alpha: "
            "sigma_y' + H' alpha + the law's term). Parameter slopes are right-sided at table breakpoints. "
            "RPL, DRPLDE, DRPLDT (heat generation) are zero.",
        ],
    )
    g.thermal = True
    g.units = units.strip() if units else "unspecified"
    g.source = _assemble(g)
    return g


#: ``generate_umat(ThermoMechanical(J2Plasticity(...), ...))`` (and ``constitutive export umat``) use this generator.
register_umat_generator(ThermoMechanical, thermal_j2_umat)
