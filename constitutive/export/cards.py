"""Abaqus material cards: ``*ELASTIC`` and ``*HYPERELASTIC`` from a model, and a card parser."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .. import notation
from ..tensor import as_tensor, check_shape
from .layouts import ORTHOTROPIC_ORDER, pack_upper
from .state import _np

# --------------------------------------------------------------------------------------------------------------
# Abaqus material cards
# --------------------------------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    # 15 significant digits: exact for every value typed in decimal, without binary noise (0.00295, not
    # 0.0029500000000000004); 17 would round-trip every double but print that noise.
    text = f"{float(x):.15g}"
    return text if any(c in text for c in ".en") else text + ".0"


def _data_lines(values: Sequence[float], per_line: int = 8) -> list[str]:
    """Abaqus data lines hold at most eight entries each."""
    vals = [_fmt(v) for v in values]
    return [", ".join(vals[k : k + per_line]) for k in range(0, len(vals), per_line)] or [""]


def _elastic_stiffness(model_or_stiffness: Any) -> np.ndarray:
    """Abaqus-order Voigt stiffness D ``(6, 6)`` of a linear elastic model (its tangent at zero strain) or of a
    given ``(3, 3, 3, 3)`` stiffness tensor."""
    if hasattr(model_or_stiffness, "tangent"):
        from ..models.base import PathDependentMaterial

        model = model_or_stiffness
        if isinstance(model, PathDependentMaterial):
            raise ValueError(
                f"{type(model).__name__} is path dependent; a *ELASTIC card alone would drop its inelastic part "
                "(no *PLASTIC/*VISCOELASTIC cards are written)"
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

    ``elastic_type`` (default: the most specific that is exact):

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
    iso = _isotropic_moduli(D)
    if iso is not None and type(model_or_stiffness).__name__ == "LinearElastic":
        # The model's own (E, ν) are exact; the ones recovered from D carry round-off.
        iso = (_scalar(model_or_stiffness, "E"), _scalar(model_or_stiffness, "nu"))
    ortho = _is_orthotropic(D)
    if elastic_type is None:
        elastic_type = "isotropic" if iso is not None else ("orthotropic" if ortho else "anisotropic")
    kind = elastic_type.lower().replace(" ", "_")
    if kind == "isotropic":
        if iso is None:
            raise ValueError("the stiffness is not isotropic; use 'orthotropic' or 'anisotropic'")
        return "*ELASTIC, TYPE=ISOTROPIC\n" + "\n".join(_data_lines(iso)) + "\n"
    if kind in ("engineering_constants", "orthotropic") and not ortho:
        raise ValueError(f"TYPE={kind.upper()} needs an orthotropic stiffness in the global axes; use 'anisotropic'")
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
        return "*ELASTIC, TYPE=ANISOTROPIC\n" + "\n".join(_data_lines(pack_upper(D))) + "\n"
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


def abaqus_hyperelastic_card(model: Any) -> str:
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
    """
    name = type(model).__name__
    p = model.parameters
    if name == "NeoHookean":
        form = model.options.get("form", "ciarlet")
        if form != "isochoric" and "lmbda" in p:  # incompressible: every form is μ/2 (Ī1 - 3)
            raise ValueError(
                f"NeoHookean(form={form!r}) has no exact Abaqus NEO HOOKE card (Abaqus splits Ī1 and (J-1)²); "
                "use form='isochoric' with the quadratic volumetric function"
            )
        mu = _scalar(model, "mu")
        D1 = _bulk_term(model, ("quadratic",)) if "K" in p else _neo_hooke_d1(model)
        return "*HYPERELASTIC, NEO HOOKE\n" + "\n".join(_data_lines([mu / 2.0, D1])) + "\n"
    if name == "MooneyRivlin":
        vals = [_scalar(model, "C10"), _scalar(model, "C01"), _bulk_term(model, ("quadratic",))]
        return "*HYPERELASTIC, MOONEY-RIVLIN\n" + "\n".join(_data_lines(vals)) + "\n"
    if name == "Yeoh":
        vals = [_scalar(model, "C10"), _scalar(model, "C20"), _scalar(model, "C30")]
        vals += [_bulk_term(model, ("quadratic",)), 0.0, 0.0]
        return "*HYPERELASTIC, YEOH\n" + "\n".join(_data_lines(vals)) + "\n"
    if name == "Ogden":
        mu = torch.as_tensor(p["mu"]).detach().cpu().reshape(-1).tolist()
        alpha = torch.as_tensor(p["alpha"]).detach().cpu().reshape(-1).tolist()
        n = len(mu)
        vals: list[float] = []
        for m, a in zip(mu, alpha):
            vals += [m * a / 2.0, a]
        vals += [_bulk_term(model, ("quadratic",))] + [0.0] * (n - 1)
        return f"*HYPERELASTIC, OGDEN, N={n}\n" + "\n".join(_data_lines(vals)) + "\n"
    if name == "ArrudaBoyce":
        vals = [_scalar(model, "mu"), math.sqrt(_scalar(model, "N")), _bulk_term(model, ("simo_taylor",))]
        return "*HYPERELASTIC, ARRUDA-BOYCE\n" + "\n".join(_data_lines(vals)) + "\n"
    raise ValueError(f"no Abaqus *HYPERELASTIC card for {name}")


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


def abaqus_card(model: Any, *, name: str | None = None, elastic_type: str | None = None) -> str:
    """A complete ``*MATERIAL`` block: ``*ELASTIC`` for linear elastic models, ``*HYPERELASTIC`` for hyperelastic
    ones (see :func:`abaqus_elastic_card`, :func:`abaqus_hyperelastic_card`)."""
    label = name or type(model).__name__.upper()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]{0,79}", label):
        raise ValueError(f"Abaqus material names start with a letter and hold letters, digits, _ or -: {label!r}")
    if "Green-Lagrange" in getattr(model, "strain_measure", ""):
        body = abaqus_hyperelastic_card(model)
    else:
        body = abaqus_elastic_card(model, elastic_type)
    src = json.dumps(model.to_dict())
    return f"** written by constitutive.export from {src}\n*MATERIAL, NAME={label}\n{body}"


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
