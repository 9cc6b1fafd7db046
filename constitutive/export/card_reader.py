r"""Abaqus material cards back into package models: :func:`read_card`.

The inverse of :func:`~constitutive.export.cards.abaqus_card`, conversion by conversion (the formulas are stated
there); card → model → card gives the same card. Read:

* ``*ELASTIC`` ISOTROPIC (E, ν) → ``LinearElastic(E, nu)``; ENGINEERING CONSTANTS → ``Orthotropic(E1, E2, E3,
  nu12, nu13, nu23, G12, G13, G23)``; ORTHOTROPIC / ANISOTROPIC → ``Anisotropic(D, notation="voigt",
  order="abaqus")``;
* ``*HYPERELASTIC`` NEO HOOKE (C10, D1) and REDUCED POLYNOMIAL N=1 → ``NeoHookean(2 C10, 2/D1 - 4 C10/3,
  form="isochoric")``; MOONEY-RIVLIN and POLYNOMIAL N=1 → ``MooneyRivlin(C10, C01, K=2/D1)``; YEOH and REDUCED
  POLYNOMIAL N=3 → ``Yeoh(C10, C20, C30, K=2/D1)``; OGDEN, N → ``Ogden(mu=[2 μ_i/α_i], alpha=[α_i], K=2/D1)``;
  ARRUDA-BOYCE (μ, λ_m, D) → ``ArrudaBoyce(μ, λ_m², K=2/D, volumetric="simo_taylor")``;
* ``*ELASTIC`` + ``*PLASTIC`` table → ``J2Plasticity(E, nu, σ_0, hardening=TabulatedHardening(...))`` (one line:
  perfect plasticity);
* ``*PLASTIC, HARDENING=COMBINED, DATATYPE=PARAMETERS`` (+ ``*CYCLIC HARDENING``, ``PARAMETERS`` or a table) →
  ``J2Plasticity(..., C=[C_k], gamma=[γ_k])`` with ``Voce(Q∞, b)`` or a table as the isotropic part;
* ``*RATE DEPENDENT, TYPE=POWER LAW`` (D, n) → ``Perzyna(..., eta=1/D, m=n)``;
* ``*ELASTIC`` + ``*VISCOELASTIC, TIME=PRONY`` → ``GeneralizedMaxwell(K_inf, G_inf, prony_shear, prony_bulk)``
  (``MODULI=INSTANTANEOUS`` or ``LONG TERM``, the Abaqus default).

D = 0 (Abaqus: incompressible) gives a model without K. Compressibility terms D2, D3, ... must be 0 (Abaqus: no
term) or at least 1e290 (the CalculiX variant's "no term"): the package has no (J - 1)^4 terms. A card that no
package model reproduces exactly (a softening table, a first plastic strain ≠ 0, ...) raises ``ValueError`` naming
the line.

Temperature columns (``*ELASTIC`` rows ``E, ν, T``, ``*PLASTIC`` rows ``σ, ε̄^pl, T``, ``*EXPANSION, ZERO=`` rows
``α, T``) are read by :mod:`.cards_thermal` into a ``ThermoMechanical`` (the temperature contract), and so is an
``*EXPANSION`` card once ``constitutive.models.thermal`` exists (before, ``*EXPANSION`` without temperature
columns is ignored, as it always was); without that module a card with temperature columns raises ``ValueError``
pointing to :func:`~.cards_thermal.read_thermal_card`, which returns the pieces.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..models import elastic, hyperelastic, plasticity, viscoelastic
from ..tensor import Tensor
from .cards import choose_material, parse_abaqus_card
from .cards_thermal import thermal_available, thermal_content, thermal_model

__all__ = ["read_card", "TabulatedHardening"]

_NO_TERM = 1e290  # CalculiX cards write 1e300 for an absent D_i


class TabulatedHardening:
    r"""The isotropic hardening of a ``*PLASTIC`` table as the package's user law
    :math:`R(\alpha) = \sigma_f(\alpha) - \sigma_0`: linear interpolation between the points, constant beyond the
    last one (as Abaqus and CalculiX interpolate). ``strain`` and ``stress`` are the table's columns (``(n,)``,
    ``strain[0] = 0``, both nondecreasing). Callable on a tensor of α of any shape (differentiable in α)."""

    def __init__(self, strain: Any, stress: Any) -> None:
        e = np.asarray(strain, dtype=np.float64).reshape(-1)
        s = np.asarray(stress, dtype=np.float64).reshape(-1)
        if e.shape != s.shape or e.size < 2:
            raise ValueError("a hardening table needs at least two (stress, plastic strain) points of equal count")
        if e[0] != 0.0:
            raise ValueError(f"the first plastic strain of a *PLASTIC table must be 0, got {e[0]}")
        if np.any(np.diff(e) <= 0):
            raise ValueError("the plastic strains of a *PLASTIC table must increase")
        if np.any(np.diff(s) < 0):
            raise ValueError("the flow stress of a *PLASTIC table decreases; J2Plasticity needs a hardening law")
        self.strain, self.stress = e, s

    def __call__(self, alpha: Tensor) -> Tensor:
        e = torch.as_tensor(self.strain, dtype=alpha.dtype, device=alpha.device).contiguous()
        s = torch.as_tensor(self.stress, dtype=alpha.dtype, device=alpha.device)
        a = torch.minimum(alpha, e[-1])  # constant beyond the last point
        k = torch.clamp(torch.searchsorted(e, a.detach().contiguous(), right=True) - 1, 0, e.numel() - 2)
        e0, e1, s0, s1 = e[k], e[k + 1], s[k], s[k + 1]
        return s0 + (s1 - s0) * (a - e0) / (e1 - e0) - s[0]

    def __repr__(self) -> str:
        return f"TabulatedHardening({len(self.strain)} points up to eps_p = {self.strain[-1]})"


def _one(blocks: list[dict[str, Any]], keyword: str) -> dict[str, Any] | None:
    found = [b for b in blocks if b["keyword"] == keyword]
    if len(found) > 1:
        raise ValueError(f"the material has {len(found)} *{keyword} cards; one is expected")
    return found[0] if found else None


def _count(block: dict[str, Any], n: int, what: str) -> list[float]:
    data = block["data"]
    if len(data) != n:
        raise ValueError(f"*{block['keyword']} {what} needs {n} values (no temperature columns), got {len(data)}")
    return data


def _no_more_terms(D: list[float], what: str) -> float:
    for i, d in enumerate(D[1:], start=2):
        if d != 0.0 and abs(d) < _NO_TERM:
            raise ValueError(
                f"{what}: D{i} = {d} adds (J - 1)^{2 * i}/D{i}, which no package model has; only D1 is read"
            )
    return D[0]


def _K(D1: float) -> float | None:
    """K = 2/D1; D1 = 0 is incompressible (no K)."""
    return None if D1 == 0.0 else 2.0 / D1


def _hyperelastic(block: dict[str, Any]) -> Any:
    opts = block["options"]
    kinds = [k for k, v in opts.items() if v is None]
    kind = kinds[0] if kinds else "POLYNOMIAL"
    n = int(opts.get("N", "1"))
    if kind in ("NEO HOOKE", "NEOHOOKE") or (kind == "REDUCED POLYNOMIAL" and n == 1):
        C10, D1 = _count(block, 2, "NEO HOOKE")
        mu = 2.0 * C10
        if D1 == 0.0:
            return hyperelastic.NeoHookean(mu)
        return hyperelastic.NeoHookean(mu, 2.0 / D1 - 2.0 * mu / 3.0, form="isochoric")
    if kind in ("MOONEY-RIVLIN", "MOONEY RIVLIN") or (kind == "POLYNOMIAL" and n == 1):
        C10, C01, D1 = _count(block, 3, kind)
        return hyperelastic.MooneyRivlin(C10, C01, K=_K(D1))
    if kind == "YEOH" or (kind == "REDUCED POLYNOMIAL" and n == 3):
        vals = _count(block, 6, kind)
        D1 = _no_more_terms(vals[3:], kind)
        return hyperelastic.Yeoh(vals[0], vals[1], vals[2], K=_K(D1))
    if kind == "OGDEN":
        vals = _count(block, 3 * n, f"OGDEN, N={n}")
        mu_i, alpha = vals[0 : 2 * n : 2], vals[1 : 2 * n : 2]
        D1 = _no_more_terms(vals[2 * n :], "OGDEN")
        return hyperelastic.Ogden(mu=[2.0 * m / a for m, a in zip(mu_i, alpha)], alpha=alpha, K=_K(D1))
    if kind in ("ARRUDA-BOYCE", "ARRUDA BOYCE"):
        mu, lam_m, D = _count(block, 3, kind)
        vol = "quadratic" if D == 0.0 else "simo_taylor"  # incompressible: no volumetric term at all
        return hyperelastic.ArrudaBoyce(mu, lam_m * lam_m, K=_K(D), volumetric=vol)
    raise ValueError(
        f"*HYPERELASTIC, {kind}{'' if 'N' not in opts else f', N={n}'} has no package model here; read are NEO HOOKE, "
        "MOONEY-RIVLIN (POLYNOMIAL N=1), YEOH (REDUCED POLYNOMIAL N=3), OGDEN, ARRUDA-BOYCE"
    )


def _elastic(block: dict[str, Any]) -> tuple[str, list[float], str]:
    kind = (block["options"].get("TYPE") or "ISOTROPIC").upper()
    kind = {"ISO": "ISOTROPIC", "ORTHO": "ORTHOTROPIC", "ANISO": "ANISOTROPIC"}.get(kind, kind)
    n = {"ISOTROPIC": 2, "ENGINEERING CONSTANTS": 9, "ORTHOTROPIC": 9, "ANISOTROPIC": 21}.get(kind)
    if n is None:
        raise ValueError(f"*ELASTIC, TYPE={kind} is not read; read are ISOTROPIC, ENGINEERING CONSTANTS, ORTHOTROPIC, "
                         "ANISOTROPIC")  # fmt: skip
    return kind, _count(block, n, f"TYPE={kind}"), (block["options"].get("MODULI") or "LONG TERM").upper()


def _elastic_model(kind: str, vals: list[float]) -> Any:
    from .layouts import ORTHOTROPIC_ORDER, unpack_upper

    if kind == "ISOTROPIC":
        return elastic.LinearElastic(*vals)
    if kind == "ENGINEERING CONSTANTS":
        return elastic.Orthotropic(*vals)
    if kind == "ORTHOTROPIC":
        D = np.zeros((6, 6))
        for v, (i, j) in zip(vals, ORTHOTROPIC_ORDER):
            D[i, j] = D[j, i] = v
    else:
        D = np.asarray(unpack_upper(np.asarray(vals)), dtype=np.float64)
    return elastic.Anisotropic(torch.as_tensor(D, dtype=torch.float64), notation="voigt", order="abaqus")


def _table(block: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    data = block["data"]
    if len(data) % 2:
        raise ValueError(f"*{block['keyword']} table lines hold (stress, plastic strain) pairs; got {len(data)} values")
    pairs = np.asarray(data, dtype=np.float64).reshape(-1, 2)
    return pairs[:, 1], pairs[:, 0]


def _isotropic_law(strain: np.ndarray, stress: np.ndarray) -> dict[str, Any]:
    if strain[0] != 0.0:
        raise ValueError(f"the first plastic strain of a hardening table must be 0, got {strain[0]}")
    if len(strain) == 1:
        return {"sigma_y": float(stress[0])}
    return {"sigma_y": float(stress[0]), "hardening": TabulatedHardening(strain, stress)}


def _plastic(blocks: list[dict[str, Any]], E: float, nu: float) -> Any:
    plastic = _one(blocks, "PLASTIC")
    assert plastic is not None
    opts = {k.replace(" ", ""): v for k, v in plastic["options"].items()}  # Abaqus ignores blanks: DATA TYPE
    hardening = (opts.get("HARDENING") or "ISOTROPIC").upper()
    kwargs: dict[str, Any] = {}
    if hardening == "ISOTROPIC":
        if _one(blocks, "CYCLIC HARDENING") is not None:
            raise ValueError("*CYCLIC HARDENING goes with *PLASTIC, HARDENING=COMBINED")
        kwargs.update(_isotropic_law(*_table(plastic)))
    elif hardening == "COMBINED" and (opts.get("DATATYPE") or "").upper() == "PARAMETERS":
        n = int(opts.get("NUMBERBACKSTRESSES", "1"))
        vals = _count(plastic, 1 + 2 * n, f"HARDENING=COMBINED with {n} back stresses")
        sy, C, gamma = vals[0], vals[1::2], vals[2::2]
        kwargs.update(sigma_y=sy, C=C, gamma=gamma)
        cyclic = _one(blocks, "CYCLIC HARDENING")
        if cyclic is not None and "PARAMETERS" in cyclic["options"]:
            s0, Q, b = _count(cyclic, 3, "PARAMETERS")
            if s0 != sy:
                raise ValueError(f"*CYCLIC HARDENING's σ|0 = {s0} differs from *PLASTIC's σ|0 = {sy}")
            kwargs.update(hardening=plasticity.Voce(Q, b))
        elif cyclic is not None:
            law = _isotropic_law(*_table(cyclic))
            if law["sigma_y"] != sy:
                raise ValueError(f"*CYCLIC HARDENING starts at {law['sigma_y']}, *PLASTIC's σ|0 is {sy}")
            kwargs.update(law)
    else:
        raise ValueError(
            f"*PLASTIC, HARDENING={hardening}{', DATATYPE=' + opts['DATATYPE'] if opts.get('DATATYPE') else ''} is "
            "not read; read are isotropic tables and HARDENING=COMBINED, DATATYPE=PARAMETERS"
        )
    rate = _one(blocks, "RATE DEPENDENT")
    if rate is not None:
        if (rate["options"].get("TYPE") or "POWER LAW").upper() != "POWER LAW":
            raise ValueError("*RATE DEPENDENT: only TYPE=POWER LAW (the Perzyna form) is read")
        D, m = _count(rate, 2, "TYPE=POWER LAW")
        return plasticity.Perzyna(E, nu, eta=1.0 / D, m=m, **kwargs)
    return plasticity.J2Plasticity(E, nu, **kwargs)


def _viscoelastic(block: dict[str, Any], E: float, nu: float, moduli: str) -> Any:
    if (block["options"].get("TIME") or "").upper() != "PRONY":
        raise ValueError("*VISCOELASTIC: only TIME=PRONY is read")
    data = block["data"]
    if len(data) % 3:
        raise ValueError(f"*VISCOELASTIC, TIME=PRONY lines hold g_i, k_i, tau_i; got {len(data)} values")
    rows = np.asarray(data, dtype=np.float64).reshape(-1, 3)
    K_e, G_e = E / (3.0 * (1.0 - 2.0 * nu)), E / (2.0 * (1.0 + nu))
    gs, ks = rows[:, 0].sum(), rows[:, 1].sum()
    if moduli == "INSTANTANEOUS":
        G0, K0 = G_e, K_e
    else:  # long-term moduli given: G∞ = G0 (1 - Σ g_i)
        G0, K0 = G_e / (1.0 - gs), K_e / (1.0 - ks)
    shear = [(g * G0, t) for g, _, t in rows if g != 0.0]
    bulk = [(k * K0, t) for _, k, t in rows if k != 0.0]
    G_inf = G0 - sum(g for g, _ in shear) if moduli == "INSTANTANEOUS" else G_e
    K_inf = K0 - sum(k for k, _ in bulk) if moduli == "INSTANTANEOUS" else K_e
    return viscoelastic.GeneralizedMaxwell(K_inf=K_inf, G_inf=G_inf, prony_shear=shear or None, prony_bulk=bulk or None)


def read_card(text: str, name: str | None = None) -> Any:
    """The package model of an Abaqus material card (``*MATERIAL`` block or bare keyword blocks).

    ``text`` may hold several materials; then ``name`` picks one (``*MATERIAL, NAME=...``, case-insensitive).
    Keywords outside a material (``*NODE``, ``*STEP``, ...) are ignored, so a whole input deck can be read.
    ``ValueError`` for a card the package cannot reproduce exactly (see the module docstring)."""
    blocks = parse_abaqus_card(text) if "*" in text else []
    mat, mat_name = choose_material(blocks, name)
    # the keywords read here (density, conductivity, ... are ignored; *EXPANSION goes to cards_thermal below)
    known = {"ELASTIC", "HYPERELASTIC", "PLASTIC", "CYCLIC HARDENING", "RATE DEPENDENT", "VISCOELASTIC"}
    known.add("ANISOTROPIC HYPERELASTIC")  # HolzapfelGasserOgden (cards_hgo), fibres in an *ORIENTATION
    # Temperature columns (or *EXPANSION, once ThermoMechanical exists): a ThermoMechanical (cards_thermal).
    thermal = thermal_content(text, name)
    if thermal == "columns" or (thermal == "expansion" and thermal_available()):
        return thermal_model(text, name)
    mat = [b for b in mat if b["keyword"] in known]
    aniso = _one(mat, "ANISOTROPIC HYPERELASTIC")
    if aniso is not None:
        return _anisotropic_hyperelastic(aniso, mat, blocks, mat_name)
    hyper, el = _one(mat, "HYPERELASTIC"), _one(mat, "ELASTIC")
    if hyper is not None:
        if len(mat) > 1:
            raise ValueError(f"*HYPERELASTIC with {[b['keyword'] for b in mat if b is not hyper]}: not read")
        return _hyperelastic(hyper)
    if el is None:
        raise ValueError("the material has neither *ELASTIC nor *HYPERELASTIC")
    kind, vals, moduli = _elastic(el)
    rest = {b["keyword"] for b in mat} - {"ELASTIC"}
    if not rest:
        return _elastic_model(kind, vals)
    if kind != "ISOTROPIC":
        raise ValueError(f"*ELASTIC, TYPE={kind} with {sorted(rest)}: the package's plasticity is isotropic elastic")
    E, nu = vals
    if "VISCOELASTIC" in rest:
        if rest != {"VISCOELASTIC"}:
            raise ValueError(f"*VISCOELASTIC with {sorted(rest - {'VISCOELASTIC'})}: not read")
        return _viscoelastic(_one(mat, "VISCOELASTIC"), E, nu, moduli)  # type: ignore[arg-type]
    if "PLASTIC" not in rest:
        raise ValueError(f"{sorted(rest)} without *PLASTIC")
    return _plastic(mat, E, nu)


def _anisotropic_hyperelastic(
    block: dict[str, Any], mat: list[dict[str, Any]], blocks: list[dict[str, Any]], name: str | None
) -> Any:
    """``*ANISOTROPIC HYPERELASTIC, HOLZAPFEL`` → ``HolzapfelGasserOgden`` (:mod:`.cards_hgo`): the fibre directions
    from the ``*ORIENTATION`` that the material's ``*SOLID SECTION`` names, or from the only one with as many local
    directions."""
    from .cards_hgo import read_hgo_card

    if len(mat) > 1:
        raise ValueError(f"*ANISOTROPIC HYPERELASTIC with {[b['keyword'] for b in mat if b is not block]}: not read")
    sections = [
        b["options"].get("ORIENTATION")
        for b in blocks
        if b["keyword"] == "SOLID SECTION"
        and name is not None
        and (b["options"].get("MATERIAL") or "").upper() == name.upper()
    ]
    orientation = next((o for o in sections if o), None)
    return read_hgo_card(block, [b for b in blocks if b["keyword"] == "ORIENTATION"], orientation)
