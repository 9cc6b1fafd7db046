"""Material cards with temperature columns (issue 16): ``*ELASTIC`` rows ``E, ν, T``, ``*PLASTIC`` rows
``σ, ε̄^pl, T``, ``*EXPANSION, ZERO=T_ref`` rows ``α, T``; the reader; and CalculiX (``ccx``) on a heated bar.

The writer is duck-typed on the temperature contract (``ThermoMechanical``, built by another helper); these tests
use :class:`ThermoDouble`, a small independent stand-in written here that follows the contract (thermoelastic
response σ = λ tr(ε − ε_th) I + 2μ(ε − ε_th), ε_th = [α(T)(T − T_ref) − α(T_I)(T_I − T_ref)] I). The CalculiX
checks compare ccx with closed forms written in the tests, so they depend on neither class.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from constitutive import export as ex
from constitutive.export import cards_thermal
from constitutive.models import elastic, plasticity

CCX = shutil.which("ccx")
PRINTED = 5e-7  # CalculiX prints 7 significant digits


# ------------------------------------------------------------------------------------------------ test doubles


class TableDouble:
    """A ``TemperatureTable`` stand-in: piecewise linear through (T_k, v_k), constant outside."""

    def __init__(self, temperatures, values) -> None:
        self.temperatures = torch.as_tensor(temperatures, dtype=torch.float64)
        self.values = torch.as_tensor(values, dtype=torch.float64)

    def __call__(self, T: torch.Tensor) -> torch.Tensor:
        t, v = self.temperatures, self.values
        if t.numel() == 1:
            return v[0] * torch.ones_like(T)
        Tc = torch.clamp(T, t[0], t[-1])
        k = torch.clamp(torch.searchsorted(t, Tc.detach().reshape(-1), right=True) - 1, 0, t.numel() - 2)
        k = k.reshape(T.shape)
        return v[k] + (v[k + 1] - v[k]) * (Tc - t[k]) / (t[k + 1] - t[k])

    def to_dict(self) -> dict:
        return {"temperature": self.temperatures.tolist(), "value": self.values.tolist()}


class ThermoDouble:
    """A stand-in for ``ThermoMechanical`` with the contract's attributes (no update: the cards need none)."""

    temperature_dependent = True

    def __init__(self, model, *, parameters=None, expansion=None, reference_temperature=0.0, initial_temperature=None):
        self.mechanical = model
        self.dependencies = {
            n: TableDouble(d["temperature"], d["value"]) if isinstance(d, dict) else d
            for n, d in (parameters or {}).items()
        }
        if isinstance(expansion, dict):
            expansion = TableDouble(expansion["temperature"], expansion["value"])
        self.expansion = expansion
        self.reference_temperature = float(reference_temperature)
        self.initial_temperature = self.reference_temperature if initial_temperature is None else initial_temperature
        self.parameters = model.parameters
        self.options: dict = {}

    def model_at(self, T: float):
        t = torch.tensor(float(T), dtype=torch.float64)
        return self.mechanical.with_parameters(**{n: d(t) for n, d in self.dependencies.items()})

    def alpha(self, T: float) -> float:
        a = self.expansion
        return float(a) if isinstance(a, (int, float)) else float(a(torch.tensor(float(T), dtype=torch.float64)))

    def thermal_strain(self, T: float) -> float:
        T0, TI = self.reference_temperature, self.initial_temperature
        return self.alpha(T) * (T - T0) - self.alpha(TI) * (TI - T0)

    def stress(self, strain: torch.Tensor, T: float) -> torch.Tensor:
        m = self.model_at(T)
        E, nu = m.parameters["E"], m.parameters["nu"]
        lam, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
        e = strain - self.thermal_strain(T) * torch.eye(3, dtype=torch.float64)
        return lam * torch.diagonal(e, dim1=-2, dim2=-1).sum(-1)[..., None, None] * torch.eye(3) + 2 * mu * e


@pytest.fixture
def registered():
    """The registry's writer for the double (the real ThermoMechanical is registered by the package itself)."""
    from constitutive.export import cards

    ex.register_card_writer(ThermoDouble, cards_thermal._thermal_writer)
    yield
    cards._CARD_WRITERS.pop(ThermoDouble, None)


def _rows(card: str, keyword: str) -> list[list[float]]:
    """The data lines of ``*keyword`` as rows of numbers (line by line)."""
    out: list[list[float]] | None = None
    rows: list[list[float]] = []
    for line in card.splitlines():
        if line.startswith("**"):
            continue
        if line.startswith("*"):
            out = rows if line[1:].split(",")[0].strip().upper() == keyword else None
        elif out is not None:
            out.append([float(v) for v in line.split(",")])
    return rows


def _content(card: str) -> list[str]:
    """Keyword and data lines, and the initial-temperature comment (the other comments report, not define)."""
    return [ln for ln in card.splitlines() if not ln.startswith("**") or ln.startswith("** initial temperature")]


STEEL_E = {"temperature": [20.0, 200.0, 400.0], "value": [210000.0, 190000.0, 150000.0]}
STEEL_NU = {"temperature": [20.0, 300.0], "value": [0.3, 0.32]}
STEEL_ALPHA = {"temperature": [20.0, 400.0], "value": [1.2e-5, 1.6e-5]}


# ------------------------------------------------------------------------------------------------- the writer


def test_elastic_rows_at_the_union_of_breakpoints_and_expansion(registered):
    model = ThermoDouble(elastic.LinearElastic(210000.0, 0.3), parameters={"E": STEEL_E, "nu": STEEL_NU},
                         expansion=STEEL_ALPHA, reference_temperature=0.0, initial_temperature=20.0)  # fmt: skip
    card = ex.abaqus_card(model, name="STEEL", code="calculix")
    rows = np.array(_rows(card, "ELASTIC"))
    np.testing.assert_array_equal(rows[:, 2], [20.0, 200.0, 300.0, 400.0])  # the union
    # Each table's own breakpoints carry its own values exactly; the others' are its linear interpolation.
    assert rows[[0, 1, 3], 0].tolist() == STEEL_E["value"] and rows[[0, 2], 1].tolist() == STEEL_NU["value"]
    assert rows[2, 0] == pytest.approx(np.interp(300.0, STEEL_E["temperature"], STEEL_E["value"]), rel=1e-15)
    assert rows[1, 1] == pytest.approx(np.interp(200.0, STEEL_NU["temperature"], STEEL_NU["value"]), rel=1e-15)
    assert rows[3, 1] == 0.32  # constant beyond the last breakpoint, as the FE codes hold it
    # Exact: the FE code's interpolation between the rows is the model's E(T), ν(T) at any temperature.
    for T in (-50.0, 20.0, 111.0, 250.0, 333.0, 500.0):
        m = model.model_at(T)
        assert np.interp(T, rows[:, 2], rows[:, 0]) == pytest.approx(float(m.parameters["E"]), rel=1e-14)
        assert np.interp(T, rows[:, 2], rows[:, 1]) == pytest.approx(float(m.parameters["nu"]), rel=1e-14)
    assert "*EXPANSION, ZERO=0.0" in card and _rows(card, "EXPANSION") == [[1.2e-5, 20.0], [1.6e-5, 400.0]]
    assert "** initial temperature T_I = 20.0: set it with *INITIAL CONDITIONS, TYPE=TEMPERATURE" in card
    constant = ThermoDouble(elastic.LinearElastic(1000.0, 0.25), expansion=1e-5, reference_temperature=20.0)
    body = ex.abaqus_thermal_card(constant)
    assert _rows(body, "ELASTIC") == [[1000.0, 0.25]] and _rows(body, "EXPANSION") == [[1e-5]]
    assert "*EXPANSION, ZERO=20.0" in body and "T_I = 20.0" in body  # T_I defaults to T_ref


def _voce(T_sy, sy, T_Q, Q, b=20.0):
    j2 = plasticity.J2Plasticity(E=200000.0, nu=0.3, sigma_y=300.0, H=50.0, hardening=plasticity.Voce(100.0, b))
    deps = {"sigma_y": {"temperature": T_sy, "value": sy}, "Q": {"temperature": T_Q, "value": Q}}
    return ThermoDouble(j2, parameters=deps, expansion=1.2e-5)


def test_plastic_rows_per_temperature_share_the_plastic_strains():
    model = _voce([20.0, 400.0], [300.0, 200.0], [20.0, 200.0, 400.0], [100.0, 80.0, 40.0])
    card = ex.abaqus_thermal_card(model, tolerance=0.05, max_plastic_strain=0.2)
    rows = np.array(_rows(card, "PLASTIC"))
    temps = sorted(set(rows[:, 2]))
    assert temps == [20.0, 200.0, 400.0]  # union of the sigma_y and Q breakpoints
    strain = [rows[rows[:, 2] == T, 1] for T in temps]
    assert all(np.array_equal(s, strain[0]) for s in strain) and strain[0][0] == 0.0 and strain[0][-1] == 0.2
    for T in temps:  # the law written out by hand: sigma_y + H a + Q (1 - exp(-b a)), parameters at T
        a, s = rows[rows[:, 2] == T, 1], rows[rows[:, 2] == T, 0]
        sy, Q = np.interp(T, [20.0, 400.0], [300.0, 200.0]), np.interp(T, [20.0, 200.0, 400.0], [100.0, 80.0, 40.0])
        np.testing.assert_allclose(s, sy + 50.0 * a + Q * (1 - np.exp(-20.0 * a)), rtol=1e-14)
        fine = np.linspace(0.0, 0.2, 2001)  # the table's interpolation error within the tolerance
        assert np.abs(np.interp(fine, a, s) - (sy + 50.0 * fine + Q * (1 - np.exp(-20.0 * fine)))).max() <= 0.05
    assert "at each of 3 temperatures" in card and "nonlinearly" not in card  # sigma_y, Q enter affinely
    # Between the rows, linear interpolation in T at fixed plastic strain is the model's flow stress, exactly.
    T = 290.0
    lo, hi = rows[rows[:, 2] == 200.0], rows[rows[:, 2] == 400.0]
    w = (T - 200.0) / 200.0
    mixed = (1 - w) * lo[:, 0] + w * hi[:, 0]
    sy, Q = np.interp(T, [20.0, 400.0], [300.0, 200.0]), np.interp(T, [20.0, 200.0, 400.0], [100.0, 80.0, 40.0])
    np.testing.assert_allclose(mixed, sy + 50.0 * lo[:, 1] + Q * (1 - np.exp(-20.0 * lo[:, 1])), rtol=1e-13)
    # A T-dependent b enters the flow stress nonlinearly: the card says it approximates the model between rows.
    j2 = plasticity.J2Plasticity(E=200000.0, nu=0.3, sigma_y=300.0, hardening=plasticity.Voce(100.0, 20.0))
    bT = ThermoDouble(j2, parameters={"b": {"temperature": [20.0, 400.0], "value": [20.0, 10.0]}})
    assert "b enter(s) it nonlinearly" in ex.abaqus_thermal_card(bT, tolerance=0.5, max_plastic_strain=0.1)


def test_refusals_and_sampled_functions():
    def E_of_T(T):
        return 210000.0 - 100.0 * T

    model = ThermoDouble(elastic.LinearElastic(210000.0, 0.3), parameters={"E": E_of_T})
    with pytest.raises(ValueError, match=r"E\(T\) is a user function.*temperatures="):
        ex.abaqus_thermal_card(model)
    card = ex.abaqus_thermal_card(model, temperatures=[300.0, 20.0])
    assert "** sampled: E (user functions of T)" in card
    assert _rows(card, "ELASTIC") == [[208000.0, 0.3, 20.0], [180000.0, 0.3, 300.0]]
    alpha_fn = ThermoDouble(elastic.LinearElastic(1.0, 0.3), expansion=lambda T: 1e-5 + 1e-8 * T)
    with pytest.raises(ValueError, match="alpha.*user function"):
        ex.abaqus_thermal_card(alpha_fn)
    assert _rows(ex.abaqus_thermal_card(alpha_fn, temperatures=[0.0, 100.0]), "EXPANSION")[1] == pytest.approx(
        [1.1e-5, 100.0], rel=1e-15
    )
    kin = plasticity.J2Plasticity(E=200000.0, nu=0.3, sigma_y=300.0, kinematic=plasticity.Prager(1000.0))
    with pytest.raises(ValueError, match=r"'sigma_y' has no card: .*kinematic hardening"):
        ex.abaqus_thermal_card(ThermoDouble(kin, parameters={"sigma_y": STEEL_E}))
    ortho = elastic.Orthotropic(1000.0, 800.0, 900.0, 0.2, 0.25, 0.3, 300.0, 350.0, 320.0)
    with pytest.raises(ValueError, match=r"'E1' has no card: .*not Orthotropic"):
        ex.abaqus_thermal_card(ThermoDouble(ortho, parameters={"E1": STEEL_E}))
    perzyna = plasticity.Perzyna(E=200000.0, nu=0.3, sigma_y=300.0, eta=1.0, m=1.0)
    with pytest.raises(ValueError, match=r"'eta' has no card"):
        ex.abaqus_thermal_card(ThermoDouble(perzyna, parameters={"eta": STEEL_E}))
    with pytest.raises(ValueError, match=r"'G' is not a parameter of LinearElastic"):
        ex.abaqus_thermal_card(ThermoDouble(elastic.LinearElastic(1.0, 0.3), parameters={"G": STEEL_E}))
    with pytest.raises(TypeError, match="not a temperature-dependent model"):
        ex.abaqus_thermal_card(elastic.LinearElastic(1.0, 0.3))
    steep = _voce([20.0, 400.0], [300.0, 200.0], [20.0, 400.0], [100.0, 40.0], b=200.0)
    with pytest.raises(ValueError, match="CalculiX merges at most 200"):  # its plmix limit
        ex.abaqus_thermal_card(steep, tolerance=1e-3, code="calculix")
    assert len(_rows(ex.abaqus_thermal_card(steep, tolerance=1e-3), "PLASTIC")) > 400  # Abaqus: no such limit
    # A model whose parameters do not depend on T is written by its own writer, plus *EXPANSION.
    only_alpha = ThermoDouble(kin, expansion=STEEL_ALPHA, reference_temperature=20.0)
    card = ex.abaqus_thermal_card(only_alpha)
    assert "HARDENING=COMBINED" in card and _rows(card, "EXPANSION")[0] == [1.2e-5, 20.0]


def test_the_package_registers_the_writer_for_thermomechanical():
    """With ``constitutive.models.thermal`` present (after the merge), ``abaqus_card`` finds this writer."""
    from importlib.util import find_spec

    present = find_spec("constitutive.models.thermal") is not None
    assert cards_thermal.thermal_available() is present
    if present:
        from constitutive.models.thermal import ThermoMechanical

        model = ThermoMechanical(elastic.LinearElastic(210000.0, 0.3), parameters={"E": STEEL_E}, expansion=1e-5)
        assert ex.card_writer_for(model) is cards_thermal._thermal_writer
        assert _rows(ex.abaqus_card(model), "ELASTIC")[0] == [210000.0, 0.3, 20.0]


# ------------------------------------------------------------------------------------------------- the reader


def test_round_trip_write_read_write(registered):
    deps = {"E": STEEL_E, "nu": STEEL_NU}
    elastic_model = ThermoDouble(elastic.LinearElastic(210000.0, 0.3), parameters=deps, expansion=STEEL_ALPHA,
                                 reference_temperature=-10.0, initial_temperature=35.5)  # fmt: skip
    card = ex.abaqus_card(elastic_model, name="STEEL")
    data = ex.read_thermal_card(card)
    assert data["reference_temperature"] == -10.0 and data["initial_temperature"] == 35.5
    assert data["expansion"] == STEEL_ALPHA and set(data["parameters"]) == {"E", "nu"}
    assert isinstance(data["model"], elastic.LinearElastic) and float(data["model"].parameters["E"]) == 210000.0
    assert _content(ex.format_thermal_card(data)) == _content(ex.abaqus_thermal_card(elastic_model))
    # ... and through the contract's constructor (the double here, ThermoMechanical after the merge)
    again = ThermoDouble(data["model"], parameters=data["parameters"], expansion=data["expansion"],
                         reference_temperature=data["reference_temperature"],
                         initial_temperature=data["initial_temperature"])  # fmt: skip
    assert _content(ex.abaqus_card(again, name="STEEL")) == _content(card)
    plastic = _voce([20.0, 400.0], [300.0, 200.0], [20.0, 200.0, 400.0], [100.0, 80.0, 40.0])
    card = ex.abaqus_thermal_card(plastic, tolerance=0.5, max_plastic_strain=0.1, code="calculix")
    data = ex.read_thermal_card(card)
    assert data["plastic"]["temperature"] == [20.0, 200.0, 400.0] and isinstance(data["model"], plasticity.J2Plasticity)
    assert _content(ex.format_thermal_card(data)) == _content(card)
    assert float(data["model"].parameters["sigma_y"]) == 300.0  # the first temperature's table
    # A whole deck: *INITIAL CONDITIONS, TYPE=TEMPERATURE gives T_I; other keywords are skipped.
    deck = (
        f"*NODE, NSET=NALL\n1, 0., 0., 0.\n*MATERIAL, NAME=A\n{card}*INITIAL CONDITIONS, TYPE=TEMPERATURE\nNALL, 75.\n"
    )
    assert ex.read_thermal_card(deck.replace("** initial temperature", "** x"))["initial_temperature"] == 75.0
    # perfect plasticity at every temperature: sigma_y(T) is a parameter dependence
    perfect = ThermoDouble(plasticity.J2Plasticity(E=2e5, nu=0.3, sigma_y=300.0), parameters={"sigma_y": STEEL_E})
    data = ex.read_thermal_card(ex.abaqus_thermal_card(perfect))
    assert data["parameters"] == {"sigma_y": STEEL_E}


def test_read_card_with_temperature_columns_and_bad_cards():
    card = "*MATERIAL, NAME=A\n*ELASTIC\n210000., 0.3, 20.\n190000., 0.3, 200.\n"
    if cards_thermal.thermal_available():
        model = ex.read_card(card)
        assert float(model.dependencies["E"](torch.tensor(110.0))) == pytest.approx(200000.0)
    else:
        with pytest.raises(ValueError, match="read_thermal_card"):
            ex.read_card(card)
    # *EXPANSION without temperature columns is ignored before the merge, as it always was
    plain = "*MATERIAL, NAME=A\n*ELASTIC\n1000., 0.3\n*EXPANSION, ZERO=20.\n1e-5\n"
    assert cards_thermal.thermal_content(plain) == "expansion"
    if not cards_thermal.thermal_available():
        assert isinstance(ex.read_card(plain), elastic.LinearElastic)
    with pytest.raises(ValueError, match="temperatures of the rows must increase"):
        ex.read_thermal_card("*ELASTIC\n1., 0.3, 20.\n2., 0.3, 10.\n")
    with pytest.raises(ValueError, match=r"lines hold E, nu\[, T\]"):
        ex.read_thermal_card("*ELASTIC\n1., 0.3, 20.\n2., 0.3\n")
    with pytest.raises(ValueError, match="plastic strains must start at 0"):
        ex.read_thermal_card("*ELASTIC\n1000., 0.3\n*PLASTIC\n10., 0.1, 20.\n")
    with pytest.raises(ValueError, match=r"\*PLASTIC without \*ELASTIC"):
        ex.read_thermal_card("*MATERIAL, NAME=A\n*PLASTIC\n10., 0., 20.\n")
    with pytest.raises(ValueError, match="TYPE=ORTHO is not read"):
        ex.read_thermal_card("*ELASTIC\n1000., 0.3\n*EXPANSION, TYPE=ORTHO\n1e-5, 1e-5, 2e-5\n")


def test_read_card_builds_the_contract_class(monkeypatch):
    """With ``constitutive.models.thermal`` present, ``read_card`` builds its ``ThermoMechanical`` from the pieces
    (here a module holding the doubles stands in for it)."""
    import importlib.machinery
    import sys
    import types

    fake = types.ModuleType("constitutive.models.thermal")
    fake.__spec__ = importlib.machinery.ModuleSpec("constitutive.models.thermal", None)
    fake.ThermoMechanical, fake.TemperatureTable = ThermoDouble, TableDouble  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "constitutive.models.thermal", fake)
    assert cards_thermal.thermal_available()
    written = ThermoDouble(elastic.LinearElastic(210000.0, 0.3), parameters={"E": STEEL_E, "nu": STEEL_NU},
                           expansion=STEEL_ALPHA, reference_temperature=5.0, initial_temperature=20.0)  # fmt: skip
    model = ex.read_card("*MATERIAL, NAME=S\n" + ex.abaqus_thermal_card(written))
    assert isinstance(model, ThermoDouble) and isinstance(model.mechanical, elastic.LinearElastic)
    assert (model.reference_temperature, model.initial_temperature) == (5.0, 20.0)
    assert model.expansion.to_dict() == STEEL_ALPHA and set(model.dependencies) == {"E", "nu"}
    for T in (0.0, 150.0, 300.0, 450.0):
        assert model.model_at(T).parameters["E"] == pytest.approx(float(written.model_at(T).parameters["E"]))
        assert model.thermal_strain(T) == pytest.approx(written.thermal_strain(T), rel=1e-14)
    alone = ex.read_card("*ELASTIC\n1000., 0.3\n*EXPANSION, ZERO=20.\n1e-5\n")  # *EXPANSION alone: read now
    assert isinstance(alone, ThermoDouble) and alone.expansion == 1e-5 and not alone.dependencies
    plastic = _voce([20.0, 400.0], [300.0, 200.0], [20.0, 400.0], [100.0, 40.0])
    with pytest.raises(ValueError, match="no ThermoMechanical form.*read_thermal_card"):
        ex.read_card(ex.abaqus_thermal_card(plastic, tolerance=1.0, max_plastic_strain=0.1))


# ---------------------------------------------------------------------------------------- CalculiX: heated bar

BAR_NODES = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]


def run_bar(tmp_path: Path, card: str, T_I: float, temperatures: list[float]) -> np.ndarray:
    """One C3D8 unit cube, u1 = 0 on x = 0 and x = 1 (the bar is held axially), u2 = 0 on y = 0 and u3 = 0 on
    z = 0 (lateral faces free), all nodes at T_I (*INITIAL CONDITIONS), then one step of one increment per
    temperature (*TEMPERATURE). S11 at the 8 integration points at the end of each step ``(steps, 8)``."""
    lines = ["*NODE, NSET=NALL"] + [f"{i + 1}, {x}., {y}., {z}." for i, (x, y, z) in enumerate(BAR_NODES)]
    lines += ["*ELEMENT, TYPE=C3D8, ELSET=EALL", "1, 1, 2, 3, 4, 5, 6, 7, 8", card.strip()]
    lines += ["*SOLID SECTION, ELSET=EALL, MATERIAL=BAR", "*INITIAL CONDITIONS, TYPE=TEMPERATURE", f"NALL, {T_I!r}"]
    fixed = [f"{i + 1}, 1, 1, 0." for i in range(8)]
    fixed += [f"{i + 1}, 2, 2, 0." for i, X in enumerate(BAR_NODES) if X[1] == 0]
    fixed += [f"{i + 1}, 3, 3, 0." for i, X in enumerate(BAR_NODES) if X[2] == 0]
    for T in temperatures:
        lines += ["*STEP, INC=100", "*STATIC, DIRECT", "1.0, 1.0", "*CONTROLS, PARAMETERS=FIELD", "1e-9, 1e-9"]
        lines += ["*BOUNDARY", *fixed, "*TEMPERATURE", f"NALL, {T!r}", "*EL PRINT, ELSET=EALL", "S", "*END STEP"]
    (tmp_path / "bar.inp").write_text("\n".join(lines) + "\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CCX_NPROC_EQUATION_SOLVER": "1"}
    proc = subprocess.run([CCX, "-i", "bar"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "*ERROR" not in log, log[-3000:]
    out, current = [], None
    for line in (tmp_path / "bar.dat").read_text().splitlines():
        if line.strip().startswith("stresses"):
            current = []
            out.append(current)
        elif line.strip() and current is not None:
            current.append(float(line.split()[2]))
    assert len(out) == len(temperatures)
    return np.array(out)


needs_ccx = pytest.mark.skipif(CCX is None, reason="CalculiX is not installed (ccx; Debian package calculix-ccx)")


@needs_ccx
@pytest.mark.calculix
def test_calculix_reads_the_secant_expansion_with_zero_and_T_dependent_E(tmp_path, registered):
    """ccx's S11 in the axially held bar is -E(T) [α(T)(T - T_ref) - α(T_I)(T_I - T_ref)]: CalculiX reads
    *EXPANSION, ZERO= as the secant coefficient from T_ref with the initial temperature's strain removed (as its
    manual, and Abaqus, state), and interpolates E(T), α(T) between the card's rows."""
    model = ThermoDouble(elastic.LinearElastic(210000.0, 0.3), parameters={"E": STEEL_E, "nu": STEEL_NU},
                         expansion=STEEL_ALPHA, reference_temperature=0.0, initial_temperature=50.0)  # fmt: skip
    card = ex.abaqus_card(model, name="BAR", code="calculix")
    temps = [110.0, 250.0, 420.0]  # between rows, on a row's far side of ν's table, beyond the last row
    S11 = run_bar(tmp_path, card, 50.0, temps)
    for k, T in enumerate(temps):
        E = np.interp(T, STEEL_E["temperature"], STEEL_E["value"])
        alpha = np.interp([T, 50.0], STEEL_ALPHA["temperature"], STEEL_ALPHA["value"])
        closed = -E * (alpha[0] * (T - 0.0) - alpha[1] * (50.0 - 0.0))
        np.testing.assert_allclose(S11[k], closed, rtol=2 * PRINTED)
        # ... which is the contract double's stress in the held bar: ε11 = 0, lateral ε = (1 + ν(T)) ε_th
        lateral = (1.0 + float(model.model_at(T).parameters["nu"])) * model.thermal_strain(T)
        sigma = model.stress(torch.diag(torch.tensor([0.0, lateral, lateral], dtype=torch.float64)), T)
        np.testing.assert_allclose(sigma.diagonal().numpy(), [closed, 0.0, 0.0], atol=1e-12 * abs(closed))


@needs_ccx
@pytest.mark.calculix
def test_calculix_T_dependent_plastic_card_in_a_heated_bar(tmp_path):
    """E(T), α(T), σ_y(T), H(T) tables; the bar yields in compression as it is heated. Closed form: elastic while
    E ε_th < σ_y(T); then α_p = (E ε_th - σ_y)/(E + H) and S11 = -(σ_y + H α_p), parameters at T (each one-increment
    step is a backward-Euler step; in 1D with linear hardening its result does not depend on the previous α_p)."""
    T_sy = {"temperature": [20.0, 200.0, 400.0], "value": [300.0, 250.0, 150.0]}
    T_H = {"temperature": [20.0, 400.0], "value": [2000.0, 1000.0]}
    E_T = {"temperature": [20.0, 400.0], "value": [200000.0, 150000.0]}
    j2 = plasticity.J2Plasticity(E=200000.0, nu=0.3, sigma_y=300.0, H=2000.0)
    model = ThermoDouble(j2, parameters={"E": E_T, "sigma_y": T_sy, "H": T_H}, expansion=STEEL_ALPHA,
                         reference_temperature=0.0, initial_temperature=20.0)  # fmt: skip
    body = ex.abaqus_thermal_card(model, code="calculix", max_plastic_strain=0.1)
    assert sorted({r[2] for r in _rows(body, "PLASTIC")}) == [20.0, 200.0, 400.0]
    temps = [100.0, 150.0, 200.0, 300.0, 400.0, 450.0]
    S11 = run_bar(tmp_path, "*MATERIAL, NAME=BAR\n" + body, 20.0, temps)
    yielded = []
    for k, T in enumerate(temps):
        E, sy = np.interp(T, E_T["temperature"], E_T["value"]), np.interp(T, T_sy["temperature"], T_sy["value"])
        H = np.interp(T, T_H["temperature"], T_H["value"])
        alpha = np.interp([T, 20.0], STEEL_ALPHA["temperature"], STEEL_ALPHA["value"])
        eth = alpha[0] * T - alpha[1] * 20.0
        closed = -E * eth if E * eth <= sy else -(sy + H * (E * eth - sy) / (E + H))
        yielded.append(E * eth > sy)
        np.testing.assert_allclose(S11[k], closed, rtol=2 * PRINTED)
    assert yielded == [False, True, True, True, True, True]
