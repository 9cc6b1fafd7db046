"""Abaqus material cards (``*ELASTIC``, ``*HYPERELASTIC``, ``*PLASTIC``, ``*CYCLIC HARDENING``,
``*RATE DEPENDENT``, ``*VISCOELASTIC``) from a model, their CalculiX variants, the card-writer registry, and a card
parser (:mod:`.card_reader` turns cards back into models)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import notation
from ..contracts import StressTangentMap, is_path_dependent
from ..tensor import as_tensor, check_shape
from .layouts import ORTHOTROPIC_ORDER, pack_upper
from .state import _np

# --------------------------------------------------------------------------------------------------------------
# Abaqus material cards
# --------------------------------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    # The shortest text that reads back as the same double (Python's repr): exact, so card -> model -> card is
    # exact, and without binary noise for values typed in decimal (0.00295, not 0.0029500000000000004). CalculiX
    # reads a field in 20 characters (f20.0): longer texts (17 digits with a sign and exponent) are shortened to
    # the most digits that fit (relative change below 1e-14).
    value = float(x)
    text = repr(value)
    digits = 17
    while len(text) > 20 and digits > 1:
        digits -= 1
        text = f"{value:.{digits}g}"
    return text if any(c in text for c in ".en") else text + ".0"


def _data_lines(values: Sequence[float], per_line: int = 8) -> list[str]:
    """Abaqus data lines hold at most eight entries each."""
    vals = [_fmt(v) for v in values]
    return [", ".join(vals[k : k + per_line]) for k in range(0, len(vals), per_line)] or [""]


def _elastic_stiffness(model_or_stiffness: Any) -> np.ndarray:
    """Abaqus-order Voigt stiffness D ``(6, 6)`` of a linear elastic model (its tangent at zero strain) or of a
    given ``(3, 3, 3, 3)`` stiffness tensor."""
    if isinstance(model_or_stiffness, StressTangentMap):
        model: Any = model_or_stiffness
        if is_path_dependent(model):
            raise ValueError(
                f"{type(model).__name__} is path dependent; a *ELASTIC card alone would drop its inelastic part "
                "(abaqus_card writes its *PLASTIC/*VISCOELASTIC cards)"
            )
        if "small strain" not in model.strain_measure:
            raise ValueError(f"*ELASTIC describes small-strain linear elasticity; {type(model).__name__} is not")
        like = {"dtype": model.dtype, "device": model.device}
        C = model.tangent(torch.zeros(3, 3, **like))
        C2 = model.tangent(1e-3 * torch.eye(3, **like) + 1e-3 * torch.ones(3, 3, **like))
        if not torch.allclose(C, C2, rtol=1e-10, atol=0.0):
            raise ValueError(f"{type(model).__name__} is not linear elastic (its tangent varies with strain)")
    else:
        C = as_tensor(model_or_stiffness)
    check_shape(C, (3, 3, 3, 3), "stiffness")
    if C.ndim != 4:
        raise ValueError("one material card describes one stiffness, not a batch")
    D = _np(notation.to_voigt(C, "stiffness", "abaqus"))
    if not np.allclose(D, D.T, rtol=1e-10, atol=1e-12 * np.abs(D).max()):
        raise ValueError("the stiffness has no major symmetry; *ELASTIC needs a symmetric D matrix")
    return 0.5 * (D + D.T)


def _isotropic_moduli(D: np.ndarray) -> tuple[float, float] | None:
    """(E, ν) if D is isotropic (to round-off), else None."""
    lam, mu = D[0, 1], D[3, 3]
    iso = np.zeros((6, 6))
    iso[:3, :3] = lam
    iso[np.arange(3), np.arange(3)] = lam + 2 * mu
    iso[np.arange(3, 6), np.arange(3, 6)] = mu
    if not np.allclose(D, iso, rtol=0.0, atol=1e-10 * np.abs(D).max()):
        return None
    return mu * (3 * lam + 2 * mu) / (lam + mu), lam / (2 * (lam + mu))


def _is_orthotropic(D: np.ndarray) -> bool:
    mask = np.ones((6, 6), bool)
    mask[:3, :3] = False
    mask[np.arange(3, 6), np.arange(3, 6)] = False
    return bool(np.all(np.abs(D[mask]) <= 1e-12 * np.abs(D).max()))


def abaqus_elastic_card(model_or_stiffness: Any, elastic_type: str | None = None) -> str:
    r"""An Abaqus ``*ELASTIC`` card for a linear elastic model (or a ``(3, 3, 3, 3)`` stiffness tensor).

    ``elastic_type`` (default: the most specific that is exact; with ``"engineering_constants"`` an ``Orthotropic``
    model in the global axes writes its own nine constants, exactly):

    * ``"isotropic"``: ``E, ν``  with :math:`\mu = D_{1212}`, :math:`\lambda = D_{1122}`,
      :math:`E = \mu(3\lambda + 2\mu)/(\lambda + \mu)`, :math:`\nu = \lambda / (2(\lambda + \mu))`;
    * ``"engineering_constants"``: ``E1, E2, E3, ν12, ν13, ν23, G12, G13, G23`` from the Voigt compliance
      :math:`S = D^{-1}`: :math:`E_i = 1/S_{ii}`, :math:`\nu_{ij} = -S_{ij} E_i` (ν_ij = −ε_j/ε_i under uniaxial
      stress along i; Abaqus writes :math:`S_{12} = -\nu_{12}/E_1`), :math:`G_{ij} = 1/S_{kk}` on the shear slots;
    * ``"orthotropic"``: D1111, D1122, D2222, D1133, D2233, D3333, D1212, D1313, D2323 (:data:`ORTHOTROPIC_ORDER`);
    * ``"anisotropic"``: the 21 constants of :data:`ANISOTROPIC_ORDER`.

    D is the stiffness in Abaqus order against engineering shear strain (Abaqus Analysis User's Guide, 'Linear
    elastic behavior'); non-orthotropic stiffness refuses the orthotropic types with ``ValueError``.
    """
    D = _elastic_stiffness(model_or_stiffness)
    from ..models.elastic import LinearElastic, Orthotropic

    iso = _isotropic_moduli(D)
    if iso is not None and isinstance(model_or_stiffness, LinearElastic):
        # The model's own (E, ν) are exact; the ones recovered from D carry round-off.
        iso = (_scalar(model_or_stiffness, "E"), _scalar(model_or_stiffness, "nu"))
    ortho = _is_orthotropic(D)
    own_constants = None  # an Orthotropic model in the global axes: its own nine constants are exact
    if isinstance(model_or_stiffness, Orthotropic):
        axes = torch.as_tensor(model_or_stiffness.parameters["axes"]).detach().cpu()
        if torch.equal(axes, torch.eye(3, dtype=axes.dtype)):
            names = ("E1", "E2", "E3", "nu12", "nu13", "nu23", "G12", "G13", "G23")
            own_constants = [_scalar(model_or_stiffness, n) for n in names]
    if elastic_type is None:
        elastic_type = "isotropic" if iso is not None else ("orthotropic" if ortho else "anisotropic")
    kind = elastic_type.lower().replace(" ", "_")
    if kind == "isotropic":
        if iso is None:
            raise ValueError("the stiffness is not isotropic; use 'orthotropic' or 'anisotropic'")
        return "*ELASTIC, TYPE=ISOTROPIC\n" + "\n".join(_data_lines(iso)) + "\n"
    if kind in ("engineering_constants", "orthotropic") and not ortho:
        raise ValueError(f"TYPE={kind.upper()} needs an orthotropic stiffness in the global axes; use 'anisotropic'")
    if kind == "engineering_constants" and own_constants is not None:
        return "*ELASTIC, TYPE=ENGINEERING CONSTANTS\n" + "\n".join(_data_lines(own_constants)) + "\n"
    if kind == "engineering_constants":
        S = np.linalg.inv(D)
        E = 1.0 / np.diag(S)[:3]
        nu12, nu13, nu23 = -S[0, 1] * E[0], -S[0, 2] * E[0], -S[1, 2] * E[1]
        G = 1.0 / np.diag(S)[3:]  # Abaqus order: G12, G13, G23
        values = [*E, nu12, nu13, nu23, *G]
        return "*ELASTIC, TYPE=ENGINEERING CONSTANTS\n" + "\n".join(_data_lines(values)) + "\n"
    if kind == "orthotropic":
        values = [D[I, J] for I, J in ORTHOTROPIC_ORDER]
        return "*ELASTIC, TYPE=ORTHOTROPIC\n" + "\n".join(_data_lines(values)) + "\n"
    if kind == "anisotropic":
        return "*ELASTIC, TYPE=ANISOTROPIC\n" + "\n".join(_data_lines(list(pack_upper(D)))) + "\n"
    raise ValueError(
        f"unknown *ELASTIC type {elastic_type!r}; choose isotropic, engineering_constants, orthotropic, anisotropic"
    )


def _scalar(model: Any, name: str) -> float:
    return float(torch.as_tensor(model.parameters[name]).detach().cpu())


def _bulk_term(model: Any, allowed: tuple[str, ...]) -> float:
    """Abaqus D1 = 2/K for the model's volumetric function (0 = incompressible); ``ValueError`` if the model's
    volumetric function is not one Abaqus writes for this form."""
    params = model.parameters
    K = params.get("K")
    if K is None:
        return 0.0
    vol = model.options.get("volumetric", "quadratic")
    if vol not in allowed:
        raise ValueError(
            f"{type(model).__name__} uses the {vol!r} volumetric function; this Abaqus form has "
            f"{' or '.join(allowed)} only, so no exact card exists"
        )
    return 2.0 / float(torch.as_tensor(K).detach().cpu())


#: Codes whose reading of a card the writers know: Abaqus keyword syntax, and CalculiX where it differs.
CARD_CODES: tuple[str, ...] = ("abaqus", "calculix")

#: What the CalculiX variant writes for an absent compressibility term D_i (i ≥ 2): CalculiX replaces a zero D_i by a
#: default (its D_i = 0 is not "no term", as in Abaqus); with D_i = 1e300 the term (J - 1)^{2i}/D_i is below 1e-300.
CALCULIX_NO_TERM = 1e300


def _check_code(code: str) -> str:
    if code not in CARD_CODES:
        raise ValueError(f"unknown card code {code!r}; choose one of {', '.join(CARD_CODES)}")
    return code


def _compressibility(model: Any, D1: float, n: int, code: str) -> list[float]:
    """``[D1, D2, ..., Dn]`` for a card whose energy has only the quadratic term (J - 1)^2/D1: Abaqus reads
    D_i = 0 (i ≥ 2) as no term; CalculiX replaces a zero D_i by a default, so its variant writes
    :data:`CALCULIX_NO_TERM`. An incompressible model (D1 = 0) has no CalculiX card."""
    if code == "calculix":
        if D1 == 0.0:
            raise ValueError(
                f"{type(model).__name__} is incompressible, and CalculiX has no incompressible hyperelasticity "
                "(it replaces D1 = 0 by a default bulk modulus): give the model a bulk modulus K (e.g. K = 1000 mu0)"
            )
        return [D1] + [CALCULIX_NO_TERM] * (n - 1)
    return [D1] + [0.0] * (n - 1)


def abaqus_hyperelastic_card(model: Any, code: str = "abaqus") -> str:
    r"""An Abaqus ``*HYPERELASTIC`` card whose strain energy equals the model's (exact conversions).

    Abaqus energies (Abaqus Theory Guide 'Hyperelastic material behavior'; Analysis User's Guide 'Hyperelastic
    behavior of rubberlike materials'), with :math:`\bar I_1, \bar I_2, \bar\lambda_i` isochoric, J = det F:

    * NEO HOOKE :math:`U = C_{10}(\bar I_1 - 3) + (J - 1)^2/D_1`: :math:`C_{10} = \mu/2`, :math:`D_1 = 2/K`;
    * MOONEY-RIVLIN :math:`U = C_{10}(\bar I_1 - 3) + C_{01}(\bar I_2 - 3) + (J-1)^2/D_1`;
    * YEOH :math:`U = \sum_{i=1}^3 C_{i0}(\bar I_1 - 3)^i + \sum_i (J-1)^{2i}/D_i`: D1 = 2/K, D2 = D3 = 0;
    * OGDEN, N :math:`U = \sum_i \frac{2\mu_i}{\alpha_i^2}(\bar\lambda_1^{\alpha_i} + \bar\lambda_2^{\alpha_i} +
      \bar\lambda_3^{\alpha_i} - 3) + \sum_i (J-1)^{2i}/D_i`; from Ogden's
      :math:`\psi = \sum_p \frac{\mu_p}{\alpha_p}(\ldots)`: :math:`\mu_i^{Abaqus} = \mu_p\alpha_p/2`, same α;
    * ARRUDA-BOYCE :math:`U = \mu\sum_{i=1}^5 \frac{C_i}{\lambda_m^{2i-2}}(\bar I_1^i - 3^i)
      + \frac1D\left(\frac{J^2-1}{2} - \ln J\right)`, C = (1/2, 1/20, 11/1050, 19/7000, 519/673750):
      MU = μ, LAMBDA_M = √N, D = 2/K (K/4 (J² − 1 − 2 ln J) is the 'simo_taylor' volumetric function).

    Models without K are incompressible: Abaqus D = 0. A model whose energy has no exact Abaqus form (another
    volumetric function, a compressible neo-Hookean form that is not isochoric/volumetric) raises ``ValueError``.

    ``code="calculix"``: CalculiX reads the same energies (its ``rubber.f``) but replaces a zero D_i by a default
    (:math:`(0.1/\mu_0)^i`-like), so D2, D3, ... are written as :data:`CALCULIX_NO_TERM` = 1e300 (the term
    :math:`(J-1)^{2i}/D_i` is then below 1e-300: exact to round-off), and incompressible models are refused with
    a ``ValueError`` that asks for a bulk modulus (CalculiX has no incompressible hyperelasticity).
    """
    _check_code(code)
    found = _lookup(type(model), _HYPERELASTIC_FORMS) if _is_class_of(model) else None
    if found is None:
        raise ValueError(
            f"no Abaqus *HYPERELASTIC card for {type(model).__name__}; hyperelastic cards exist for "
            f"{', '.join(sorted(c.__name__ for c in _HYPERELASTIC_FORMS))}"
        )
    return _HYPERELASTIC_FORMS[found](model, code) + "\n"


def _neo_hooke_card(model: Any, code: str) -> str:
    p = model.parameters
    form = model.options.get("form", "ciarlet")
    if form != "isochoric" and "lmbda" in p:  # incompressible: every form is μ/2 (Ī1 - 3)
        raise ValueError(
            f"NeoHookean(form={form!r}) has no exact Abaqus NEO HOOKE card (Abaqus splits Ī1 and (J-1)²); "
            "use form='isochoric' with the quadratic volumetric function"
        )
    mu = _scalar(model, "mu")
    D1 = _bulk_term(model, ("quadratic",)) if "K" in p else _neo_hooke_d1(model)
    return "*HYPERELASTIC, NEO HOOKE\n" + "\n".join(_data_lines([mu / 2.0, *_compressibility(model, D1, 1, code)]))


def _mooney_rivlin_card(model: Any, code: str) -> str:
    D = _compressibility(model, _bulk_term(model, ("quadratic",)), 1, code)
    vals = [_scalar(model, "C10"), _scalar(model, "C01"), *D]
    return "*HYPERELASTIC, MOONEY-RIVLIN\n" + "\n".join(_data_lines(vals))


def _yeoh_card(model: Any, code: str) -> str:
    vals = [_scalar(model, "C10"), _scalar(model, "C20"), _scalar(model, "C30")]
    vals += _compressibility(model, _bulk_term(model, ("quadratic",)), 3, code)
    return "*HYPERELASTIC, YEOH\n" + "\n".join(_data_lines(vals))


def _ogden_card(model: Any, code: str) -> str:
    p = model.parameters
    mu = torch.as_tensor(p["mu"]).detach().cpu().reshape(-1).tolist()
    alpha = torch.as_tensor(p["alpha"]).detach().cpu().reshape(-1).tolist()
    n = len(mu)
    if code == "calculix" and n > 3:
        raise ValueError(f"CalculiX reads OGDEN with N <= 3 only; this Ogden model has {n} terms")
    vals: list[float] = []
    for m, a in zip(mu, alpha):
        vals += [m * a / 2.0, a]
    vals += _compressibility(model, _bulk_term(model, ("quadratic",)), n, code)
    return f"*HYPERELASTIC, OGDEN, N={n}\n" + "\n".join(_data_lines(vals))


def _arruda_boyce_card(model: Any, code: str) -> str:
    D = _compressibility(model, _bulk_term(model, ("simo_taylor",)), 1, code)
    vals = [_scalar(model, "mu"), math.sqrt(_scalar(model, "N")), *D]
    return "*HYPERELASTIC, ARRUDA-BOYCE\n" + "\n".join(_data_lines(vals))


def _neo_hooke_d1(model: Any) -> float:
    """D1 for an isochoric NeoHookean parameterised by (mu, lmbda): K = λ + 2μ/3 with the quadratic volumetric
    function (only when the model states it uses that function)."""
    if "lmbda" not in model.parameters:
        return 0.0  # incompressible
    vol = model.options.get("volumetric", "quadratic")
    if vol != "quadratic":
        raise ValueError(
            f"NeoHookean uses the {vol!r} volumetric function; Abaqus NEO HOOKE has (J-1)^2/D1 only, "
            "so no exact card exists"
        )
    K = _scalar(model, "lmbda") + 2.0 * _scalar(model, "mu") / 3.0
    return 2.0 / K


def parse_abaqus_card(text: str) -> list[dict[str, Any]]:
    """Parse keyword blocks: ``[{"keyword": "HYPERELASTIC", "options": {"OGDEN": None, "N": "3"},
    "data": [floats...]}, ...]`` (comment lines ``**`` skipped; data lines concatenated)."""
    blocks: list[dict[str, Any]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("**"):
            continue
        if line.startswith("*"):
            parts = [s.strip() for s in line[1:].split(",")]
            options: dict[str, str | None] = {}
            for opt in parts[1:]:
                key, eq, value = opt.partition("=")
                options[key.strip().upper()] = value.strip() if eq else None
            blocks.append({"keyword": parts[0].upper(), "options": options, "data": []})
        else:
            if not blocks:
                raise ValueError(f"data line before any keyword: {line!r}")
            blocks[-1]["data"] += [float(s) for s in line.split(",") if s.strip()]
    return blocks


#: Keywords that belong to a material: a block of one of these after ``*MATERIAL`` (or, without ``*MATERIAL``,
#: the first of them) starts or continues a material; any other keyword ends it.
MATERIAL_KEYWORDS = frozenset({
    "ELASTIC", "PLASTIC", "EXPANSION", "HYPERELASTIC", "ANISOTROPIC HYPERELASTIC", "CYCLIC HARDENING",
    "RATE DEPENDENT", "VISCOELASTIC", "DENSITY", "CONDUCTIVITY", "SPECIFIC HEAT",
})  # fmt: skip


def choose_material(blocks: list[dict[str, Any]], name: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The blocks of one material in parsed keyword ``blocks`` (``MATERIAL_KEYWORDS``) and its name: the only
    material, or the one called ``name`` (case-insensitive). ``ValueError`` when there is none, when ``name`` is
    not there, or when there are several and no ``name``."""
    materials: list[tuple[str | None, list[dict[str, Any]]]] = []
    current: list[dict[str, Any]] | None = None
    for b in blocks:
        if b["keyword"] == "MATERIAL":
            current = []
            materials.append((b["options"].get("NAME"), current))
        elif b["keyword"] in MATERIAL_KEYWORDS:
            if current is None:
                current = []
                materials.append((None, current))
            current.append(b)
        else:
            current = None  # another keyword ends the material
    if not materials:
        raise ValueError("no material card found (*MATERIAL, *ELASTIC, *HYPERELASTIC, ...)")
    if name is not None:
        chosen = [(n, m) for n, m in materials if n is not None and n.upper() == name.upper()]
        if not chosen:
            raise ValueError(f"no material named {name!r}; the text has {[n for n, _ in materials]}")
        return chosen[0][1], chosen[0][0]
    if len(materials) > 1:
        raise ValueError(f"the text has {len(materials)} materials {[n for n, _ in materials]}; pass name=")
    return materials[0][1], materials[0][0]


# --------------------------------------------------------------------------------------------------------------
# *PLASTIC: tabulated isotropic hardening, combined (Armstrong--Frederick/Chaboche + Voce) hardening, rate dependence
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlasticTable:
    """A ``*PLASTIC`` (or ``*CYCLIC HARDENING``) table: flow stress ``stress[k]`` (true stress, von Mises
    equivalent) at equivalent plastic strain ``strain[k]`` (``strain[0] = 0``), both ``(n,)``; between points the
    FE code interpolates linearly, beyond the last point it holds the last stress. ``max_error`` is the largest
    :math:`|\\sigma_f(\\alpha) - \\text{table}(\\alpha)|` on ``[0, strain[-1]]`` (measured on 64 points per
    interval) and ``tolerance`` the bound it was built to (stress units)."""

    strain: np.ndarray
    stress: np.ndarray
    max_error: float
    tolerance: float

    def comment(self, keyword: str = "*PLASTIC") -> str:
        """The ``**`` comment line that reports the table's range, size and interpolation error."""
        return (
            f"** {keyword} table: {len(self.strain)} points on 0 <= eps_p <= {_fmt(self.strain[-1])}; "
            f"max |sigma_f - table| = {self.max_error:.3g} (tolerance {self.tolerance:.3g}); "
            "constant beyond the last point"
        )


def _flow_stress(model: Any, alpha: np.ndarray) -> np.ndarray:
    """σ_f(α) of a J2 model, elementwise ``(n,)`` (the model's own ``flow_stress``; no slope)."""
    a = torch.as_tensor(alpha, dtype=model.dtype, device=model.device)
    with torch.no_grad():
        value, _ = model.flow_stress(a, slope=False)
    return value.detach().cpu().numpy().astype(np.float64)


def plastic_table(
    model: Any, tolerance: float | None = None, max_plastic_strain: float = 1.0, max_points: int = 2000
) -> PlasticTable:
    r"""Tabulate a J2 model's isotropic flow stress :math:`\sigma_f(\alpha) = \sigma_y + H\alpha + R(\alpha)`
    on :math:`0 \le \alpha \le` ``max_plastic_strain`` so that the piecewise-linear interpolant the FE code uses
    stays within ``tolerance`` (stress units; default :math:`10^{-4}\sigma_f(0)`) of the law.

    Points: start from the two ends and bisect every interval whose interpolation error, measured at 15 interior
    points, exceeds ``tolerance`` (vectorised per refinement level); the final error is measured again on 64 points
    per interval and returned as :attr:`PlasticTable.max_error`. A law that is linear on the range (``Linear``
    hardening) gives two points (one when H = 0: perfect plasticity). ``ValueError`` if ``max_points`` would be
    exceeded, or if the law decreases (an FE table of a softening law is not what the model does here).
    """
    alpha_max = float(max_plastic_strain)
    if not (math.isfinite(alpha_max) and alpha_max > 0):
        raise ValueError(f"max_plastic_strain must be finite and > 0, got {max_plastic_strain!r}")
    s0 = float(_flow_stress(model, np.zeros(1))[0])
    tol = 1e-4 * abs(s0) if tolerance is None else float(tolerance)
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tolerance must be finite and > 0 (stress units), got {tolerance!r}")
    # A table read from a card (TabulatedHardening, held by the model's UserLaw): its own points, exactly.
    law = getattr(getattr(model, "law", None), "fn", None)
    if law is not None and hasattr(law, "strain") and hasattr(law, "stress"):
        if _scalar(model, "H") == 0.0:
            strain = np.asarray(law.strain, dtype=np.float64)
            return PlasticTable(strain, s0 - law.stress[0] + np.asarray(law.stress, dtype=np.float64), 0.0, tol)

    def interval_errors(knots: np.ndarray, per: int) -> np.ndarray:
        t = np.linspace(0.0, 1.0, per + 2)[1:-1]
        a0, a1 = knots[:-1, None], knots[1:, None]
        pts = a0 + (a1 - a0) * t
        f0, f1 = _flow_stress(model, knots[:-1])[:, None], _flow_stress(model, knots[1:])[:, None]
        exact = _flow_stress(model, pts.ravel()).reshape(pts.shape)
        return np.abs(exact - (f0 + (f1 - f0) * t)).max(axis=1)

    knots = np.array([0.0, alpha_max])
    while True:
        err = interval_errors(knots, 15)
        bad = err > 0.5 * tol  # half: the 64-point check below must stay within tol
        if not bad.any():
            break
        if len(knots) + int(bad.sum()) > max_points:
            raise ValueError(
                f"the *PLASTIC table would need more than {max_points} points to stay within {tol:.3g}; "
                "raise the tolerance or max_points, or lower max_plastic_strain"
            )
        mids = 0.5 * (knots[:-1] + knots[1:])[bad]
        knots = np.sort(np.concatenate([knots, mids]))
    # The table holds exactly what the card prints (_fmt shortens a text over 20 characters).
    knots = np.array([float(_fmt(k)) for k in knots])
    stress = np.array([float(_fmt(v)) for v in _flow_stress(model, knots)])
    if np.any(np.diff(stress) < -1e-12 * np.abs(stress).max()):
        raise ValueError("the flow stress decreases with plastic strain; *PLASTIC tables here are for hardening laws")
    if np.allclose(stress, stress[0], rtol=0.0, atol=0.0):
        knots, stress = knots[:1], stress[:1]  # perfect plasticity: one point
        max_error = 0.0
    else:
        max_error = float(interval_errors(knots, 64).max())
    return PlasticTable(knots, stress, max_error, tol)


def _table_lines(table: PlasticTable) -> list[str]:
    return [f"{_fmt(s)}, {_fmt(e)}" for s, e in zip(table.stress, table.strain)]


def _isotropic_elastic_lines(E: float, nu: float, extra: str = "") -> str:
    return f"*ELASTIC, TYPE=ISOTROPIC{extra}\n" + "\n".join(_data_lines([E, nu]))


def _kinematic_terms(model: Any) -> tuple[list[float], list[float]]:
    p = model.parameters
    if "C" not in p:
        return [], []
    C = torch.as_tensor(p["C"]).detach().cpu().reshape(-1).tolist()
    g = torch.as_tensor(p["gamma"]).detach().cpu().reshape(-1).tolist()
    return C, g


def abaqus_plastic_card(
    model: Any, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0
) -> str:
    r"""``*ELASTIC`` + ``*PLASTIC`` (+ ``*CYCLIC HARDENING``) cards for a :class:`J2Plasticity` model.

    * elasticity: ``*ELASTIC, TYPE=ISOTROPIC`` with E, ν;
    * isotropic hardening only: ``*PLASTIC`` (HARDENING=ISOTROPIC, the default), lines ``σ_f, ε̄^pl`` -- true
      stress against equivalent plastic strain, from :func:`plastic_table` (the error is reported in a comment);
      the package's α is the equivalent plastic strain :math:`\int\sqrt{2/3}\|\dot\varepsilon^p\|`, as Abaqus's;
    * kinematic hardening (Prager/Armstrong--Frederick/Chaboche, n back stresses):
      ``*PLASTIC, HARDENING=COMBINED, DATATYPE=PARAMETERS, NUMBER BACKSTRESSES=n`` with the line
      :math:`\sigma|_0, C_1, \gamma_1, \ldots, C_n, \gamma_n`. Abaqus's law
      :math:`\dot\alpha_k = C_k\frac{1}{\sigma^0}(\sigma - \alpha)\dot{\bar\varepsilon}^{pl} - \gamma_k\alpha_k
      \dot{\bar\varepsilon}^{pl}` with associative flow :math:`\dot\varepsilon^{pl} = \tfrac32
      \dot{\bar\varepsilon}^{pl}\operatorname{dev}(\sigma - \alpha)/\sigma^0` is
      :math:`\dot\alpha_k = \tfrac23 C_k\dot\varepsilon^{pl} - \gamma_k\alpha_k\dot{\bar\varepsilon}^{pl}`, the
      package's :math:`\dot X_k = \tfrac23 C_k\dot\varepsilon^p - \gamma_k X_k\dot\alpha`: same :math:`C_k,
      \gamma_k` (γ = 0 is a Prager term), :math:`\sigma|_0 = \sigma_y`. The isotropic part
      (:math:`\sigma^0(\bar\varepsilon^{pl})`): constant σ_y (linear law with H = 0: no further card);
      ``*CYCLIC HARDENING, PARAMETERS`` :math:`\sigma|_0, Q_\infty, b` for Voce with H = 0
      (:math:`\sigma^0 = \sigma|_0 + Q_\infty(1 - e^{-b\bar\varepsilon^{pl}})`, exactly the package's
      :math:`\sigma_y + Q(1 - e^{-b\alpha})`); any other law as a ``*CYCLIC HARDENING`` table (:func:`plastic_table`).

    ``code="calculix"``: CalculiX reads the isotropic ``*PLASTIC`` table (small strain without NLGEOM, checked
    against its results in ``tests/test_calculix.py``) but has neither ``*CYCLIC HARDENING, PARAMETERS`` nor
    Armstrong--Frederick back stresses (its kinematic hardening is a linear table), so kinematic hardening raises
    ``ValueError``.
    """
    _check_code(code)
    E, nu = _scalar(model, "E"), _scalar(model, "nu")
    C, gamma = _kinematic_terms(model)
    lines = [_isotropic_elastic_lines(E, nu)]
    if not C:
        table = plastic_table(model, tolerance, max_plastic_strain)
        lines += [table.comment(), "*PLASTIC", *_table_lines(table)]
        return "\n".join(lines) + "\n"
    if code == "calculix":
        raise ValueError(
            f"{type(model).__name__} has kinematic hardening; CalculiX has no Armstrong--Frederick/Chaboche back "
            "stresses and no *CYCLIC HARDENING, PARAMETERS (its kinematic hardening is a linear table), so no "
            "CalculiX card reproduces it: write code='abaqus', or use the UMAT"
        )
    sy = _scalar(model, "sigma_y")
    head = f"*PLASTIC, HARDENING=COMBINED, DATATYPE=PARAMETERS, NUMBER BACKSTRESSES={len(C)}"
    lines += [head, *_data_lines([sy, *[v for cg in zip(C, gamma) for v in cg]])]
    law, H = model.options.get("hardening"), _scalar(model, "H")
    if law == "voce" and H == 0.0:
        lines += ["*CYCLIC HARDENING, PARAMETERS", *_data_lines([sy, _scalar(model, "Q"), _scalar(model, "b")])]
    elif not (law == "linear" and H == 0.0):
        table = plastic_table(model, tolerance, max_plastic_strain)
        lines += [table.comment("*CYCLIC HARDENING"), "*CYCLIC HARDENING", *_table_lines(table)]
    return "\n".join(lines) + "\n"


def abaqus_rate_dependent_card(model: Any, code: str = "abaqus", **table_options: Any) -> str:
    r"""Perzyna viscoplasticity: the :func:`abaqus_plastic_card` cards and ``*RATE DEPENDENT, TYPE=POWER LAW``
    with ``D, n``. Abaqus's power law :math:`\dot{\bar\varepsilon}^{pl} = D(q/\sigma^0 - 1)^n` is the package's
    :math:`\dot\alpha = \frac1\eta\langle q/\sigma_f - 1\rangle^m`: :math:`D = 1/\eta`, :math:`n = m`.
    CalculiX has no ``*RATE DEPENDENT`` (it ignores the keyword): ``code="calculix"`` raises ``ValueError``."""
    _check_code(code)
    if code == "calculix":
        raise ValueError(
            f"CalculiX has no *RATE DEPENDENT keyword, so no CalculiX card reproduces {type(model).__name__}'s "
            "rate dependence: write code='abaqus', or use the UMAT"
        )
    body = abaqus_plastic_card(model, code, **table_options)
    D, n = 1.0 / _scalar(model, "eta"), _scalar(model, "m")
    return body + "*RATE DEPENDENT, TYPE=POWER LAW\n" + "\n".join(_data_lines([D, n])) + "\n"


# --------------------------------------------------------------------------------------------------------------
# *VISCOELASTIC, TIME=PRONY
# --------------------------------------------------------------------------------------------------------------


def _series_values(model: Any, what: str) -> tuple[list[float], list[float]]:
    p = model.parameters
    if f"{what}_moduli" not in p:
        return [], []
    m = torch.as_tensor(p[f"{what}_moduli"]).detach().cpu().reshape(-1).tolist()
    t = torch.as_tensor(p[f"{what}_times"]).detach().cpu().reshape(-1).tolist()
    return m, t


def abaqus_viscoelastic_card(model: Any, code: str = "abaqus") -> str:
    r"""``*ELASTIC, TYPE=ISOTROPIC, MODULI=INSTANTANEOUS`` + ``*VISCOELASTIC, TIME=PRONY`` for a
    :class:`GeneralizedMaxwell` model.

    The package: :math:`G(t) = G_\infty + \sum_i g_i e^{-t/\tau_i}`, :math:`K(t) = K_\infty + \sum_j k_j
    e^{-t/\tau_j}` (absolute moduli). Abaqus: :math:`G_R(t) = G_0\big(1 - \sum_i \bar g_i^P(1 - e^{-t/\tau_i})\big)`,
    :math:`K_R(t) = K_0\big(1 - \sum_i \bar k_i^P(1 - e^{-t/\tau_i})\big)` with relative moduli on lines
    :math:`\bar g_i^P, \bar k_i^P, \tau_i`. Equal relaxation functions for all t:
    :math:`G_0 = G_\infty + \sum g_i`, :math:`K_0 = K_\infty + \sum k_j`, :math:`\bar g_i^P = g_i/G_0`,
    :math:`\bar k_i^P = k_i/K_0`; one line per distinct relaxation time (a time in one series only has 0 in the
    other). The instantaneous moduli are written as :math:`E_0 = 9K_0G_0/(3K_0 + G_0)`,
    :math:`\nu_0 = (3K_0 - 2G_0)/(2(3K_0 + G_0))` with ``MODULI=INSTANTANEOUS`` stated (Abaqus's default for
    ``*ELASTIC`` under ``*VISCOELASTIC`` is the long-term moduli; the parameter removes the ambiguity).

    CalculiX has no ``*VISCOELASTIC`` (it skips the keyword with a warning): ``code="calculix"`` raises
    ``ValueError``.
    """
    _check_code(code)
    if code == "calculix":
        raise ValueError(
            "CalculiX has no *VISCOELASTIC keyword (it skips it and runs the elastic material), so no CalculiX card "
            f"reproduces {type(model).__name__}: write code='abaqus', or use the UMAT"
        )
    g, tg = _series_values(model, "shear")
    k, tk = _series_values(model, "bulk")
    G0 = _scalar(model, "G_inf") + sum(g)
    K0 = _scalar(model, "K_inf") + sum(k)
    E0 = 9.0 * K0 * G0 / (3.0 * K0 + G0)
    nu0 = (3.0 * K0 - 2.0 * G0) / (2.0 * (3.0 * K0 + G0))
    rows: dict[float, list[float]] = {}
    for gi, ti in zip(g, tg):
        rows.setdefault(ti, [0.0, 0.0])[0] += gi / G0
    for kj, tj in zip(k, tk):
        rows.setdefault(tj, [0.0, 0.0])[1] += kj / K0
    text = _isotropic_elastic_lines(E0, nu0, ", MODULI=INSTANTANEOUS")
    if rows:
        text += "\n*VISCOELASTIC, TIME=PRONY\n"
        text += "\n".join(f"{_fmt(gr)}, {_fmt(kr)}, {_fmt(t)}" for t, (gr, kr) in sorted(rows.items()))
    return text + "\n"


# --------------------------------------------------------------------------------------------------------------
# The card-writer registry and the *MATERIAL block
# --------------------------------------------------------------------------------------------------------------

#: ``writer(model, *, code, **options) -> str``: the keyword blocks (``*ELASTIC``, ``*HYPERELASTIC``, ...) of one
#: material, each line ending in a newline, for ``code`` in :data:`CARD_CODES`.
CardWriter = Callable[..., str]

_CARD_WRITERS: dict[type, CardWriter] = {}
_HYPERELASTIC_FORMS: dict[type, Callable[[Any, str], str]] = {}


def register_card_writer(model_class: type, writer: CardWriter | None = None) -> Any:
    """Register ``writer`` as the card writer of ``model_class`` and its subclasses (lookup along the MRO: the
    nearest registered class wins, so a subclass may register its own). Usable as a decorator:
    ``@register_card_writer(MyModel)`` above ``def my_card(model, *, code, **options) -> str``.

    The writer returns the material's keyword blocks (without ``*MATERIAL``) for ``code`` (``"abaqus"`` or
    ``"calculix"``), and raises ``ValueError`` for a model or code it cannot write exactly. Options that
    :func:`abaqus_card` passes: ``elastic_type``, ``tolerance``, ``max_plastic_strain``; a writer takes
    ``**options`` and ignores those it does not use."""
    if not isinstance(model_class, type):
        raise TypeError(f"register_card_writer needs a class, got {model_class!r}")

    def add(fn: CardWriter) -> CardWriter:
        if not callable(fn):
            raise TypeError(f"a card writer must be callable, got {fn!r}")
        _CARD_WRITERS[model_class] = fn
        return fn

    return add if writer is None else add(writer)


def _is_class_of(model: Any) -> bool:
    return hasattr(model, "parameters") and hasattr(model, "options")


def _lookup(cls: type, table: dict[type, Any]) -> type | None:
    for base in cls.__mro__:
        if base in table:
            return base
    return None


def card_kinds() -> list[str]:
    """Names of the model classes with a card writer (registered ones, subclasses included by lookup)."""
    return sorted(c.__name__ for c in _CARD_WRITERS)


def card_writer_for(model: Any) -> CardWriter:
    """The card writer registered for ``type(model)`` or its nearest registered base class. ``TypeError`` if
    ``model`` is not a material model; ``ValueError`` naming the model and the kinds that have cards if none."""
    if not _is_class_of(model):
        raise TypeError(
            f"material cards are written for material models (with .parameters and .options), got "
            f"{type(model).__name__}: {model!r:.80}"
        )
    cls = _lookup(type(model), _CARD_WRITERS)
    if cls is not None:
        return _CARD_WRITERS[cls]
    strain = getattr(model, "strain_measure", "")
    if "small strain" in strain and not is_path_dependent(model):
        return _elastic_writer  # a small-strain model of any class: exact if it is linear elastic (checked)
    raise ValueError(
        f"no material card for {type(model).__name__}: cards exist for {', '.join(card_kinds())} (and linear "
        "elastic small-strain models); register one with register_card_writer(model_class, writer)"
    )


def _elastic_writer(model: Any, *, code: str = "abaqus", elastic_type: str | None = None, **_: Any) -> str:
    _check_code(code)
    return abaqus_elastic_card(model, elastic_type)


def _hyperelastic_writer(model: Any, *, code: str = "abaqus", **_: Any) -> str:
    return abaqus_hyperelastic_card(model, code)


def _plastic_writer(
    model: Any, *, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0, **_: Any
) -> str:
    return abaqus_plastic_card(model, code, tolerance, max_plastic_strain)


def _rate_dependent_writer(
    model: Any, *, code: str = "abaqus", tolerance: float | None = None, max_plastic_strain: float = 1.0, **_: Any
) -> str:
    return abaqus_rate_dependent_card(model, code, tolerance=tolerance, max_plastic_strain=max_plastic_strain)


def _viscoelastic_writer(model: Any, *, code: str = "abaqus", **_: Any) -> str:
    return abaqus_viscoelastic_card(model, code)


def _register_builtin_writers() -> None:
    from ..models import elastic, hyperelastic, plasticity, viscoelastic

    linear: tuple[type, ...] = (elastic.LinearElastic, elastic.TransverselyIsotropic, elastic.Orthotropic)
    for cls in (*linear, elastic.Cubic, elastic.Anisotropic):
        register_card_writer(cls, _elastic_writer)
    forms: dict[type, Callable[[Any, str], str]] = {
        hyperelastic.NeoHookean: _neo_hooke_card,
        hyperelastic.MooneyRivlin: _mooney_rivlin_card,
        hyperelastic.Yeoh: _yeoh_card,
        hyperelastic.Ogden: _ogden_card,
        hyperelastic.ArrudaBoyce: _arruda_boyce_card,
    }
    for cls, form in forms.items():
        _HYPERELASTIC_FORMS[cls] = form
        register_card_writer(cls, _hyperelastic_writer)
    register_card_writer(plasticity.J2Plasticity, _plastic_writer)
    register_card_writer(plasticity.Perzyna, _rate_dependent_writer)
    register_card_writer(viscoelastic.GeneralizedMaxwell, _viscoelastic_writer)


_register_builtin_writers()


def abaqus_card(
    model: Any,
    *,
    name: str | None = None,
    elastic_type: str | None = None,
    code: str = "abaqus",
    tolerance: float | None = None,
    max_plastic_strain: float = 1.0,
) -> str:
    """A complete ``*MATERIAL`` block for ``model`` in Abaqus keyword syntax (``code="calculix"``: the variant
    CalculiX reads identically, or a ``ValueError`` where it cannot).

    The writer comes from the registry (:func:`register_card_writer`, lookup along the MRO): ``*ELASTIC`` for linear
    elastic models (:func:`abaqus_elastic_card`), ``*HYPERELASTIC`` (:func:`abaqus_hyperelastic_card`),
    ``*PLASTIC``/``*CYCLIC HARDENING`` for J2 plasticity (:func:`abaqus_plastic_card`; ``tolerance`` and
    ``max_plastic_strain`` shape the table), ``*RATE DEPENDENT`` for Perzyna, ``*VISCOELASTIC`` for the generalized
    Maxwell model (:func:`abaqus_viscoelastic_card`). The first line is a ``**`` comment with the model's
    ``to_dict()`` (when it has one). ``TypeError`` for a non-model; ``ValueError`` for a model without a card.

    Parameters
    ----------
    model:
        The material model.
    name:
        The ``*MATERIAL, NAME=`` label (a letter, then letters, digits, ``_`` or ``-``; at most 80 characters);
        default: the model's class name in upper case.
    elastic_type:
        The ``*ELASTIC`` type of a linear elastic model (:func:`abaqus_elastic_card`; default: the most specific
        that is exact).
    code:
        ``"abaqus"`` (default) or ``"calculix"``.
    tolerance, max_plastic_strain:
        Shape the ``*PLASTIC`` table of J2 plasticity (:func:`abaqus_plastic_card`).
    """
    _check_code(code)
    writer = card_writer_for(model)
    label = name or type(model).__name__.upper()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]{0,79}", label):
        raise ValueError(f"Abaqus material names start with a letter and hold letters, digits, _ or -: {label!r}")
    body = writer(
        model, code=code, elastic_type=elastic_type, tolerance=tolerance, max_plastic_strain=max_plastic_strain
    )
    if not body.endswith("\n"):
        body += "\n"
    try:
        src = json.dumps(model.to_dict())
    except (TypeError, ValueError, AttributeError):  # e.g. a user hardening callable: name the class only
        src = type(model).__name__
    return f"** written by constitutive.export from {src}\n*MATERIAL, NAME={label}\n{body}"
