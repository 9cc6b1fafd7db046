r"""Material cards with temperature columns (issue 16): ``*ELASTIC`` rows ``E, ν, T``, ``*PLASTIC`` rows
``σ, ε̄^pl, T`` and ``*EXPANSION, ZERO=T_ref`` rows ``α, T`` for a temperature-dependent model, and their reader.

The model is duck-typed on the temperature contract (``constitutive.models.thermal.ThermoMechanical``): it has
``mechanical`` (the wrapped small-strain model), ``dependencies`` (``{parameter name: table | function}``; a table
has 1-d ``temperatures`` and ``values``, or is a ``{"temperature": [...], "value": [...]}`` dict; a function is a
callable ``value(T)``), ``expansion`` (``None``, a number, a table or a function: the SECANT coefficient α(T)),
``reference_temperature`` (T_ref), ``initial_temperature`` (T_I; ``None`` means T_ref) and ``model_at(T)`` (the
wrapped model with its parameters at the scalar temperature T).

Conventions (Abaqus Analysis User's Guide, 'Specifying material data as functions of temperature' and 'Thermal
expansion'; the CalculiX manual, ``*ELASTIC``, ``*PLASTIC``, ``*EXPANSION``; both codes, and the package's
``TemperatureTable``, interpolate linearly in T between rows and hold the end rows' values outside them):

* ``*ELASTIC, TYPE=ISOTROPIC``: rows ``E, ν, T`` at the union of the breakpoints of E(T) and ν(T): both are
  piecewise linear between the union's temperatures, so the FE code's interpolation is the model's, exactly.
* ``*PLASTIC``: for each temperature T_j of the union of the breakpoints of the T-dependent plastic parameters
  (``sigma_y``, ``H`` and the hardening law's), the isothermal table of :func:`~.cards.plastic_table` with the
  parameters at T_j. All temperatures share the same plastic-strain points (the union of the isothermal tables'
  points), so "linear in T at fixed ε̄^pl" -- what Abaqus does and what CalculiX's ``plmix`` does on the union of
  the points -- is one interpolation. Between the T_j it equals the model exactly when the flow stress is affine in
  the T-dependent parameters (``sigma_y``, ``H``, Voce ``Q``, Swift ``K``); otherwise (Voce ``b``, Swift ``eps0``,
  ``n``) the card approximates the model between the rows, and a ``**`` comment says so.
* ``*EXPANSION, ZERO=T_ref``: rows ``α, T`` (one row ``α`` without T for a constant). Abaqus and CalculiX read α as
  the secant coefficient: :math:`\varepsilon_{th} = \alpha(T)(T - T_{ref}) - \alpha(T_I)(T_I - T_{ref})` with
  T_I the initial temperature -- the contract's convention. T_I is not material data: it is the node temperature
  of ``*INITIAL CONDITIONS, TYPE=TEMPERATURE``; the card states it in a ``**`` comment (read back by
  :func:`read_thermal_card`) and the deck must set it.

A user function (``TemperatureFunction``) has no exact table: :func:`abaqus_thermal_card` refuses it unless
``temperatures=`` is given; then the function is sampled there and a ``**`` comment says that the card is sampled
(exact at those temperatures, linear in between). Dependencies a card cannot carry raise ``ValueError`` naming the
parameter: a T-dependent parameter of a model other than ``LinearElastic``/``J2Plasticity`` (isotropic hardening),
any T-dependent parameter of J2 plasticity with kinematic hardening (Abaqus would need ``*PLASTIC,
HARDENING=COMBINED`` and ``*CYCLIC HARDENING`` with temperature columns), rate-dependence parameters.
A model whose parameters do not depend on T (only α does) is written with its own isothermal cards.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .cards import (
    _check_code,
    _data_lines,
    _flow_stress,
    _fmt,
    card_writer_for,
    choose_material,
    plastic_table,
    register_card_writer,
)

__all__ = ["abaqus_thermal_card", "thermal_card_data", "format_thermal_card", "read_thermal_card"]

#: The parameters of J2 plasticity that enter its flow stress affinely (so linear interpolation in T between rows
#: at fixed plastic strain is exact when only these depend on T).
_AFFINE_FLOW = ("sigma_y", "H", "Q", "K")
#: CalculiX merges the plastic-strain points of two temperatures into at most 200 (``plmix``).
CALCULIX_MAX_PLASTIC_POINTS = 200
_T_I_COMMENT = "** initial temperature T_I = "


# ---------------------------------------------------------------------------------------------- dependencies


def _table(dep: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(temperatures, values) of a table-like dependence, ``None`` for a function."""
    if isinstance(dep, Mapping):
        if set(dep) != {"temperature", "value"}:
            raise ValueError(f"a temperature table is {{'temperature': [...], 'value': [...]}}, got keys {set(dep)}")
        t, v = dep["temperature"], dep["value"]
    elif hasattr(dep, "temperatures") and hasattr(dep, "values"):
        t, v = dep.temperatures, dep.values
    else:
        return None
    t = np.asarray(torch.as_tensor(t).detach().cpu(), dtype=np.float64).reshape(-1)
    v = np.asarray(torch.as_tensor(v).detach().cpu(), dtype=np.float64).reshape(-1)
    if t.shape != v.shape or t.size == 0 or np.any(np.diff(t) <= 0):
        raise ValueError("a temperature table needs as many values as temperatures, the temperatures increasing")
    return t, v


def _value_at(dep: Any, T: float) -> float:
    """dep(T): a table's own value at its own breakpoints (no interpolation round-off), else the object's."""
    tab = _table(dep)
    if tab is not None:
        hit = np.nonzero(tab[0] == T)[0]
        if hit.size:
            return float(tab[1][hit[0]])
        if not callable(dep):  # a plain dict: the contract's interpolation, constant outside
            return float(np.interp(T, tab[0], tab[1]))
    return float(torch.as_tensor(dep(torch.tensor(T, dtype=torch.float64))).detach().cpu())


def _breakpoints(name: str, dep: Any, temperatures: np.ndarray | None) -> np.ndarray:
    tab = _table(dep)
    if tab is not None:
        return tab[0]
    if temperatures is None:
        raise ValueError(
            f"{name}(T) is a user function, which no card row set reproduces exactly: give temperatures=[...] to "
            "abaqus_thermal_card to sample it there (the card then says it is sampled), or give a table"
        )
    return temperatures


def _union(arrays: Sequence[np.ndarray]) -> list[float]:
    return sorted({float(t) for a in arrays for t in a})


def _is_function(dep: Any) -> bool:
    return _table(dep) is None


def _contract(model: Any) -> None:
    missing = [
        a
        for a in ("mechanical", "dependencies", "expansion", "reference_temperature", "initial_temperature")
        if not hasattr(model, a)
    ]
    if missing:
        raise TypeError(
            f"{type(model).__name__} is not a temperature-dependent model (no {', '.join(missing)}); thermal cards "
            "are written for ThermoMechanical models"
        )


# ------------------------------------------------------------------------------------------------- the writer


def _plastic_kind(mech: Any) -> str:
    """The family of the wrapped model: ``"j2"`` (isotropic-hardening J2 plasticity, the ``*PLASTIC`` writer's),
    ``"j2_kinematic"`` (the same with back stresses), ``"linear_elastic"`` (``LinearElastic``) or ``"other"``."""
    from ..models.elastic import LinearElastic
    from . import cards

    writer = card_writer_for(mech)
    if writer is cards._plastic_writer:
        return "j2_kinematic" if "C" in mech.parameters else "j2"
    if isinstance(mech, LinearElastic):
        return "linear_elastic"
    return "other"


def thermal_card_data(
    model: Any,
    *,
    temperatures: Sequence[float] | None = None,
    tolerance: float | None = None,
    max_plastic_strain: float = 1.0,
    code: str = "abaqus",
) -> dict[str, Any]:
    """The data of a temperature-dependent model's cards (the schema :func:`read_thermal_card` returns):
    ``{"model", "elastic", "plastic", "expansion", "reference_temperature", "initial_temperature", "notes"}``
    (``"notes"``: the ``**`` comment lines); :func:`format_thermal_card` writes the text.

    Parameters
    ----------
    model:
        A model following the temperature contract (see the module docstring).
    temperatures:
        Where to sample user functions of T (``None``: a function raises ``ValueError``).
    tolerance, max_plastic_strain:
        The isothermal ``*PLASTIC`` table's tolerance and range (:func:`~.cards.plastic_table`), per temperature.
    code:
        ``"abaqus"`` or ``"calculix"``.
    """
    _check_code(code)
    _contract(model)
    mech = model.mechanical
    deps: dict[str, Any] = dict(model.dependencies or {})
    grid = None if temperatures is None else np.asarray(sorted({float(t) for t in temperatures}), dtype=np.float64)
    if grid is not None and (grid.size == 0 or not np.all(np.isfinite(grid))):
        raise ValueError(f"temperatures must be finite numbers (at least one), got {temperatures!r}")
    for name in deps:
        if name not in mech.parameters:
            raise ValueError(
                f"{name!r} is not a parameter of {type(mech).__name__} ({', '.join(mech.parameters)}); no card "
                "column for it"
            )
    notes: list[str] = []
    sampled = sorted(n for n, d in deps.items() if _is_function(d))
    kind = _plastic_kind(mech)
    data: dict[str, Any] = {
        "model": mech,
        "elastic": None,
        "plastic": None,
        "expansion": None,
        "reference_temperature": float(model.reference_temperature),
        "initial_temperature": None if model.initial_temperature is None else float(model.initial_temperature),
        "notes": notes,
    }
    if deps and kind in ("other", "j2_kinematic"):
        name = sorted(deps)[0]
        if kind == "j2_kinematic":
            why = (
                "J2 plasticity with kinematic hardening would need *PLASTIC, HARDENING=COMBINED and *CYCLIC HARDENING "
                "with temperature columns, which are not written"
            )
        else:
            why = (
                f"temperature columns are written for LinearElastic and isotropic-hardening J2Plasticity, not "
                f"{type(mech).__name__} (its keyword has no temperature column written here)"
            )
        raise ValueError(f"the T-dependent parameter {name!r} has no card: {why}")
    if kind in ("linear_elastic", "j2"):
        elastic_deps = {n: deps[n] for n in ("E", "nu") if n in deps}
        T_el = _union([_breakpoints(n, d, grid) for n, d in elastic_deps.items()])
        if T_el:
            rows = [[_value_at(elastic_deps[n], T) if n in elastic_deps else _param(mech, n) for n in ("E", "nu")]
                    for T in T_el]  # fmt: skip
            data["elastic"] = {"temperature": T_el, "E": [r[0] for r in rows], "nu": [r[1] for r in rows]}
        else:
            data["elastic"] = {"temperature": [], "E": [_param(mech, "E")], "nu": [_param(mech, "nu")]}
    if kind == "j2":
        data["plastic"] = _plastic_rows(model, deps, grid, tolerance, max_plastic_strain, code, notes)
    if sampled:
        notes.append(
            f"** sampled: {', '.join(sampled)} (user functions of T) at the card's temperatures; exact there, "
            "linear in T between them"
        )
    data["expansion"] = _expansion(model.expansion, grid, notes)
    return data


def _param(model: Any, name: str) -> float:
    return float(torch.as_tensor(model.parameters[name]).detach().cpu())


def _plastic_rows(
    model: Any,
    deps: dict[str, Any],
    grid: np.ndarray | None,
    tolerance: float | None,
    max_plastic_strain: float,
    code: str,
    notes: list[str],
) -> dict[str, Any]:
    mech = model.mechanical
    plastic_deps = {n: d for n, d in deps.items() if n not in ("E", "nu")}
    T_pl = _union([_breakpoints(n, d, grid) for n, d in plastic_deps.items()])
    models = [model.model_at(T) for T in T_pl] if T_pl else [mech]
    tables = [plastic_table(m, tolerance, max_plastic_strain) for m in models]
    knots = np.asarray(_union([t.strain for t in tables]), dtype=np.float64)
    if code == "calculix" and T_pl and knots.size > CALCULIX_MAX_PLASTIC_POINTS:
        raise ValueError(
            f"the *PLASTIC tables share {knots.size} plastic-strain points; CalculiX merges at most "
            f"{CALCULIX_MAX_PLASTIC_POINTS} (plmix): raise the tolerance or lower max_plastic_strain"
        )
    stress = [[float(_fmt(s)) for s in _flow_stress(m, knots)] for m in models]
    error = max(_interpolation_error(m, knots, s) for m, s in zip(models, stress))
    labels: list[float | None] = list(T_pl) or [None]
    for T, s in zip(labels, stress):
        if np.any(np.diff(s) < -1e-12 * max(abs(v) for v in s)):
            raise ValueError(
                f"the flow stress decreases with plastic strain at T = {T}; *PLASTIC tables are for hardening"
            )
    where = f" at each of {len(T_pl)} temperatures" if T_pl else ""
    notes.append(
        f"** *PLASTIC table: {knots.size} points{where} on 0 <= eps_p <= {_fmt(knots[-1])}; max |sigma_f - table| = "
        f"{error:.3g}; constant beyond the last point"
    )
    nonaffine = sorted(n for n in plastic_deps if n not in _AFFINE_FLOW)
    if T_pl and nonaffine:
        notes.append(
            f"** between the *PLASTIC temperatures the FE code interpolates the flow stress linearly in T; "
            f"{', '.join(nonaffine)} enter(s) it nonlinearly, so there the card approximates the model"
        )
    return {"temperature": T_pl, "strain": [knots.tolist()] * len(stress), "stress": stress}


def _interpolation_error(model: Any, knots: np.ndarray, stress: list[float]) -> float:
    if knots.size < 2:
        return 0.0  # one point: perfect plasticity, the table is the law
    t = np.linspace(0.0, 1.0, 66)[1:-1]
    a0, a1 = knots[:-1, None], knots[1:, None]
    s = np.asarray(stress)
    pts = a0 + (a1 - a0) * t
    exact = _flow_stress(model, pts.ravel()).reshape(pts.shape)
    return float(np.abs(exact - (s[:-1, None] + (s[1:, None] - s[:-1, None]) * t)).max())


def _expansion(expansion: Any, grid: np.ndarray | None, notes: list[str]) -> dict[str, Any] | None:
    if expansion is None:
        return None
    if isinstance(expansion, (int, float)) or (isinstance(expansion, torch.Tensor) and expansion.numel() == 1):
        return {"temperature": [], "value": [float(expansion)]}
    tab = _table(expansion)
    if tab is not None:
        return {"temperature": tab[0].tolist(), "value": tab[1].tolist()}
    T = _breakpoints("the expansion coefficient alpha", expansion, grid)
    notes.append("** sampled: alpha (a user function of T) at the *EXPANSION temperatures; linear in T between them")
    return {"temperature": [float(t) for t in T], "value": [_value_at(expansion, float(t)) for t in T]}


def format_thermal_card(data: Mapping[str, Any], code: str = "abaqus", **options: Any) -> str:
    """The keyword blocks (without ``*MATERIAL``) of card data in the schema of :func:`thermal_card_data` and
    :func:`read_thermal_card`; a model without ``"elastic"`` data is written by its own isothermal writer
    (``options`` go to it)."""
    _check_code(code)
    lines: list[str] = []
    notes = list(data.get("notes") or [])
    el = data.get("elastic")
    if el is None:
        mech = data["model"]
        lines.append(card_writer_for(mech)(mech, code=code, **options).rstrip("\n"))
    else:
        lines += [n for n in notes if n.startswith("** sampled") and "alpha" not in n]
        lines.append("*ELASTIC, TYPE=ISOTROPIC")
        if el["temperature"]:
            lines += [", ".join(_fmt(v) for v in row) for row in zip(el["E"], el["nu"], el["temperature"])]
        else:
            lines += _data_lines([el["E"][0], el["nu"][0]])
        pl = data.get("plastic")
        if pl is not None:
            lines += [n for n in notes if n.startswith(("** *PLASTIC", "** between"))]
            lines.append("*PLASTIC")
            temps = pl["temperature"] or [None]
            for T, strain, stress in zip(temps, pl["strain"], pl["stress"]):
                tail = "" if T is None else f", {_fmt(T)}"
                lines += [f"{_fmt(s)}, {_fmt(e)}{tail}" for s, e in zip(stress, strain)]
    T_ref = float(data.get("reference_temperature") or 0.0)
    T_I = data.get("initial_temperature")
    T_I = T_ref if T_I is None else float(T_I)
    lines.append(
        f"{_T_I_COMMENT}{_fmt(T_I)}: set it with *INITIAL CONDITIONS, TYPE=TEMPERATURE (every node at T_I) -- "
        "the thermal strain is measured from it"
    )
    ex = data.get("expansion")
    if ex is not None:
        lines += [n for n in notes if n.startswith("** sampled") and "alpha" in n]
        lines.append(f"*EXPANSION, ZERO={_fmt(T_ref)}")
        if ex["temperature"]:
            lines += [f"{_fmt(a)}, {_fmt(T)}" for a, T in zip(ex["value"], ex["temperature"])]
        else:
            lines.append(_fmt(ex["value"][0]))
    return "\n".join(lines) + "\n"


def abaqus_thermal_card(
    model: Any,
    code: str = "abaqus",
    *,
    temperatures: Sequence[float] | None = None,
    tolerance: float | None = None,
    max_plastic_strain: float = 1.0,
    elastic_type: str | None = None,
) -> str:
    """``*ELASTIC``/``*PLASTIC``/``*EXPANSION`` cards with temperature columns for a temperature-dependent model
    (the conventions are in the module docstring); the keyword blocks without ``*MATERIAL``
    (:func:`~.cards.abaqus_card` adds it, through the card-writer registry).

    Parameters
    ----------
    model:
        A model following the temperature contract (``ThermoMechanical``: ``mechanical``, ``dependencies``,
        ``expansion``, ``reference_temperature``, ``initial_temperature``, ``model_at``).
    code:
        ``"abaqus"`` or ``"calculix"`` (CalculiX: at most 200 shared plastic-strain points).
    temperatures:
        Where to sample user functions of T (``None``: a function raises ``ValueError``).
    tolerance, max_plastic_strain:
        The isothermal table's tolerance and range (:func:`~.cards.plastic_table`), at each temperature.
    elastic_type:
        Passed to the isothermal writer of a model whose parameters do not depend on T.
    """
    data = thermal_card_data(
        model, temperatures=temperatures, tolerance=tolerance, max_plastic_strain=max_plastic_strain, code=code
    )
    options: dict[str, Any] = {"elastic_type": elastic_type, "tolerance": tolerance}
    options["max_plastic_strain"] = max_plastic_strain
    return format_thermal_card(data, code, **options)


def _thermal_writer(
    model: Any,
    *,
    code: str = "abaqus",
    elastic_type: str | None = None,
    tolerance: float | None = None,
    max_plastic_strain: float = 1.0,
    **_: Any,
) -> str:
    """The registry's writer: :func:`abaqus_thermal_card` without sampling (a user function of T is refused)."""
    return abaqus_thermal_card(
        model, code, tolerance=tolerance, max_plastic_strain=max_plastic_strain, elastic_type=elastic_type
    )


# ------------------------------------------------------------------------------------------------- the reader


def _blocks(text: str) -> list[dict[str, Any]]:
    """Keyword blocks with their data lines kept apart (``"lines"``: one list of numbers per line; lines of other
    keywords, e.g. ``NALL, 20.``, are kept as text in ``"raw"``)."""
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
            blocks.append({"keyword": parts[0].upper(), "options": options, "lines": [], "raw": []})
        elif blocks:
            blocks[-1]["raw"].append([s.strip() for s in line.split(",") if s.strip()])
    return blocks


def _numbers(block: dict[str, Any]) -> list[list[float]]:
    try:
        return [[float(s) for s in row] for row in block["raw"]]
    except ValueError as exc:
        raise ValueError(f"*{block['keyword']}: a data line is not numbers ({exc})") from None


def _material(text: str, name: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """(the chosen material's blocks, all blocks, the material's text) as :func:`~.card_reader.read_card` picks
    them (one material, or ``name``)."""
    blocks = _blocks(text)
    mat, _ = choose_material(blocks, name)
    return mat, blocks, _block_text(mat)


def _block_text(mat: list[dict[str, Any]], skip: tuple[str, ...] = ()) -> str:
    out = []
    for b in mat:
        if b["keyword"] in skip:
            continue
        opts = "".join(f", {k}" if v is None else f", {k}={v}" for k, v in b["options"].items())
        out.append(f"*{b['keyword']}{opts}")
        out += [", ".join(row) for row in b["raw"]]
    return "\n".join(out) + "\n"


def _one(mat: list[dict[str, Any]], keyword: str) -> dict[str, Any] | None:
    found = [b for b in mat if b["keyword"] == keyword]
    if len(found) > 1:
        raise ValueError(f"the material has {len(found)} *{keyword} cards; one is expected")
    return found[0] if found else None


def _elastic_rows(block: dict[str, Any]) -> dict[str, Any] | None:
    """E, ν and T of ``*ELASTIC, TYPE=ISOTROPIC`` with a temperature column; ``None`` without one (or for another
    type: :func:`~.card_reader.read_card` reads those, and refuses their temperature columns)."""
    if (block["options"].get("TYPE") or "ISOTROPIC").upper() not in ("ISOTROPIC", "ISO"):
        return None
    rows = _numbers(block)
    if len(rows) == 1 and len(rows[0]) == 2:
        return None
    if not all(len(r) == 3 for r in rows):
        raise ValueError(
            f"*ELASTIC, TYPE=ISOTROPIC lines hold E, nu[, T]; got lines of {[len(r) for r in rows]} values"
        )
    T = [r[2] for r in rows]
    _increasing(T, "*ELASTIC")
    return {"temperature": T, "E": [r[0] for r in rows], "nu": [r[1] for r in rows]}


def _increasing(T: list[float], what: str) -> None:
    if any(b <= a for a, b in zip(T, T[1:])):
        raise ValueError(f"{what}: the temperatures of the rows must increase, got {T}")


def _plastic_rows_read(block: dict[str, Any]) -> dict[str, Any] | None:
    """Per-temperature tables of an isotropic ``*PLASTIC`` card with a temperature column; ``None`` without."""
    rows = _numbers(block)
    if all(len(r) == 2 for r in rows):
        return None
    if (block["options"].get("HARDENING") or "ISOTROPIC").upper() != "ISOTROPIC":
        raise ValueError("*PLASTIC with temperature columns is read for HARDENING=ISOTROPIC only")
    if not all(len(r) == 3 for r in rows):
        raise ValueError(
            f"*PLASTIC lines hold stress, plastic strain[, T]; got lines of {[len(r) for r in rows]} values"
        )
    temps: list[float] = []
    strain: list[list[float]] = []
    stress: list[list[float]] = []
    for s, e, T in rows:
        if not temps or T != temps[-1]:
            temps.append(T)
            strain.append([])
            stress.append([])
        strain[-1].append(e)
        stress[-1].append(s)
    _increasing(temps, "*PLASTIC")
    for T, eps in zip(temps, strain):
        if eps[0] != 0.0 or any(b <= a for a, b in zip(eps, eps[1:])):
            raise ValueError(f"*PLASTIC at T = {T}: the plastic strains must start at 0 and increase, got {eps}")
    return {"temperature": temps, "strain": strain, "stress": stress}


def _initial_temperature(text: str, blocks: list[dict[str, Any]]) -> float | None:
    """T_I from an ``*INITIAL CONDITIONS, TYPE=TEMPERATURE`` block (all nodes at one value) or, without one, from
    the cards' ``** initial temperature T_I = ...`` comment."""
    found = [b for b in blocks if b["keyword"] == "INITIAL CONDITIONS"
             and (b["options"].get("TYPE") or "").upper() == "TEMPERATURE"]  # fmt: skip
    values = {float(row[1]) for b in found for row in b["raw"] if len(row) >= 2}
    if len(values) > 1:
        raise ValueError(f"*INITIAL CONDITIONS, TYPE=TEMPERATURE gives several temperatures {sorted(values)}")
    if values:
        return values.pop()
    m = re.search(re.escape(_T_I_COMMENT) + r"([-+0-9.eEinfa]+)", text)
    return float(m.group(1)) if m else None


def read_thermal_card(text: str, name: str | None = None) -> dict[str, Any]:
    """The pieces of a material card with temperature columns, for ``ThermoMechanical``: the schema of
    :func:`thermal_card_data` (``format_thermal_card(read_thermal_card(card))`` gives the card's keyword lines
    back, exactly) plus ``"parameters"``:

    * ``"model"``: the isothermal model of the card's first rows (:func:`~.card_reader.read_card` of the card with
      the rows of its lowest temperature), the wrapped model;
    * ``"parameters"``: ``{"E": {"temperature": [...], "value": [...]}, ...}`` for the elastic constants that vary
      with T, and ``"sigma_y"`` when every temperature's ``*PLASTIC`` table is one point (perfect plasticity);
    * ``"elastic"``: ``{"temperature", "E", "nu"}`` (``"temperature": []``: no column) or ``None`` (not an
      isotropic ``*ELASTIC``: then ``"model"`` is the whole isothermal card's model);
    * ``"plastic"``: ``{"temperature", "strain", "stress"}`` per temperature, or ``None``;
    * ``"expansion"``: ``None`` or ``{"temperature": [...], "value": [...]}`` (``"temperature": []``: constant α);
    * ``"reference_temperature"`` (``ZERO``, default 0) and ``"initial_temperature"`` (``None`` when the text has
      neither ``*INITIAL CONDITIONS, TYPE=TEMPERATURE`` nor the writer's comment).

    ``ValueError`` for temperature columns that are not read (another ``*ELASTIC`` type, ``*PLASTIC,
    HARDENING=COMBINED``, ...), rows whose temperatures do not increase, or an ``*EXPANSION`` other than TYPE=ISO.
    """
    from .card_reader import read_card

    mat, blocks, _ = _material(text, name)
    out: dict[str, Any] = {"model": None, "parameters": {}, "elastic": None, "plastic": None, "expansion": None}
    exp = _one(mat, "EXPANSION")
    out["reference_temperature"] = 0.0
    if exp is not None:
        if (exp["options"].get("TYPE") or "ISO").upper() != "ISO":
            raise ValueError(f"*EXPANSION, TYPE={exp['options']['TYPE']} is not read (the contract's α is isotropic)")
        out["reference_temperature"] = float(exp["options"].get("ZERO") or 0.0)
        rows = _numbers(exp)
        if len(rows) == 1 and len(rows[0]) == 1:
            out["expansion"] = {"temperature": [], "value": [rows[0][0]]}
        elif all(len(r) == 2 for r in rows):
            _increasing([r[1] for r in rows], "*EXPANSION")
            out["expansion"] = {"temperature": [r[1] for r in rows], "value": [r[0] for r in rows]}
        else:
            raise ValueError(f"*EXPANSION lines hold alpha[, T]; got lines of {[len(r) for r in rows]} values")
    out["initial_temperature"] = _initial_temperature(text, blocks)
    el_block, pl_block = _one(mat, "ELASTIC"), _one(mat, "PLASTIC")
    el = _elastic_rows(el_block) if el_block is not None else None
    pl = _plastic_rows_read(pl_block) if pl_block is not None else None
    isotropic_table = (
        pl_block is not None and (pl_block["options"].get("HARDENING") or "ISOTROPIC").upper() == "ISOTROPIC"
    )
    rest = {b["keyword"] for b in mat} - {"ELASTIC", "PLASTIC", "EXPANSION", "DENSITY", "CONDUCTIVITY", "SPECIFIC HEAT"}
    if (el is not None or pl is not None) and rest:
        raise ValueError(f"temperature columns with {sorted(rest)}: not read")
    plain = [b for b in mat if b["keyword"] not in ("EXPANSION",)]
    if el is None and pl is None:
        out["model"] = read_card(_block_text(plain))
        kind = (el_block["options"].get("TYPE") or "ISOTROPIC").upper() if el_block is not None else ""
        if el_block is not None and kind in ("ISOTROPIC", "ISO") and not rest and (pl_block is None or isotropic_table):
            E, nu = _numbers(el_block)[0]
            out["elastic"] = {"temperature": [], "E": [E], "nu": [nu]}
            if pl_block is not None:
                strain = [r[1] for r in _numbers(pl_block)]
                stress = [r[0] for r in _numbers(pl_block)]
                out["plastic"] = {"temperature": [], "strain": [strain], "stress": [stress]}
        return out
    if el_block is None:
        raise ValueError("*PLASTIC without *ELASTIC: the material needs its elastic constants")
    if el is None:  # a *PLASTIC with T and an *ELASTIC without
        E, nu = _numbers(el_block)[0]
        el = {"temperature": [], "E": [E], "nu": [nu]}
    out["elastic"] = el
    first = [f"*ELASTIC, TYPE=ISOTROPIC\n{_fmt(el['E'][0])}, {_fmt(el['nu'][0])}"]
    if el["temperature"]:
        for key in ("E", "nu"):
            if len(set(el[key])) > 1:
                out["parameters"][key] = {"temperature": list(el["temperature"]), "value": list(el[key])}
    if pl_block is not None:
        if pl is None:
            rows = _numbers(pl_block)
            pl = {"temperature": [], "strain": [[r[1] for r in rows]], "stress": [[r[0] for r in rows]]}
        out["plastic"] = pl
        first.append(
            "*PLASTIC\n" + "\n".join(f"{_fmt(s)}, {_fmt(e)}" for s, e in zip(pl["stress"][0], pl["strain"][0]))
        )
        if pl["temperature"] and all(len(e) == 1 for e in pl["strain"]) and len(pl["temperature"]) > 1:
            out["parameters"]["sigma_y"] = {
                "temperature": list(pl["temperature"]),
                "value": [s[0] for s in pl["stress"]],
            }
    out["model"] = read_card("\n".join(first) + "\n")
    return out


def thermal_content(text: str, name: str | None = None) -> str | None:
    """``"columns"`` if the material (as :func:`~.card_reader.read_card` picks it) has temperature columns in an
    isotropic ``*ELASTIC`` or ``*PLASTIC`` card or in ``*EXPANSION``, ``"expansion"`` if it only has an
    ``*EXPANSION`` card, ``None`` otherwise."""
    mat, _, _ = _material(text, name)
    for b in mat:
        isotropic = (b["options"].get("TYPE") or "ISOTROPIC").upper() in ("ISOTROPIC", "ISO")
        if b["keyword"] == "PLASTIC" and any(len(r) == 3 for r in b["raw"]):
            if (b["options"].get("HARDENING") or "ISOTROPIC").upper() == "ISOTROPIC":
                return "columns"
        if b["keyword"] == "ELASTIC" and isotropic and (len(b["raw"]) > 1 or any(len(r) == 3 for r in b["raw"])):
            return "columns"
        if b["keyword"] == "EXPANSION" and any(len(r) == 2 for r in b["raw"]):
            return "columns"
    return "expansion" if _one(mat, "EXPANSION") is not None else None


def thermal_model(text: str, name: str | None = None) -> Any:
    """A ``ThermoMechanical`` from a card with temperature columns (:func:`read_thermal_card`'s pieces through
    the contract's constructor). ``ValueError`` if ``constitutive.models.thermal`` is absent, or if the
    ``*PLASTIC`` tables vary with T in a way no scalar parameter dependence expresses (then
    :func:`read_thermal_card` gives the tables)."""
    data = read_thermal_card(text, name)
    if not thermal_available():
        raise ValueError(
            "the card has temperature columns (or *EXPANSION); without constitutive.models.thermal (ThermoMechanical) "
            "read_card reads no temperature columns: read_thermal_card(text) returns the pieces"
        )
    pl = data["plastic"]
    if pl is not None and pl["temperature"] and "sigma_y" not in data["parameters"]:
        raise ValueError(
            "*PLASTIC tables that change with T have no ThermoMechanical form (its dependencies are scalar "
            "parameters of the wrapped model): read_thermal_card(text) returns the tables"
        )
    from ..models.thermal import (  # type: ignore[import-not-found,unused-ignore]
        TemperatureTable,
        ThermoMechanical,
    )

    def table(d: Mapping[str, Any]) -> Any:
        return TemperatureTable(d["temperature"], d["value"])

    ex = data["expansion"]
    expansion: Any = None
    if ex is not None:
        expansion = ex["value"][0] if not ex["temperature"] else table(ex)
    return ThermoMechanical(
        data["model"],
        parameters={n: table(d) for n, d in data["parameters"].items()} or None,
        expansion=expansion,
        reference_temperature=data["reference_temperature"],
        initial_temperature=data["initial_temperature"],
    )


def thermal_available() -> bool:
    """Whether ``constitutive.models.thermal`` (the contract's ``ThermoMechanical``) exists."""
    # A clean check that the contract's module exists (no try/except around the import: a module that exists but
    # fails to import raises its own error).
    return importlib.util.find_spec("constitutive.models.thermal") is not None


def _register() -> None:
    if thermal_available():
        from ..models.thermal import ThermoMechanical  # type: ignore[import-not-found,unused-ignore]

        register_card_writer(ThermoMechanical, _thermal_writer)


_register()
