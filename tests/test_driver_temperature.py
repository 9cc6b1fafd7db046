"""Temperature as a driver input (issue 16): paths with a temperature column, the driver passing T_{n+1} to
temperature-dependent models, the T column of the result, the dσ/dT finite-difference check, path files.

The model is a small thermoelastic TEST DOUBLE written here against the temperature contract (docs/driver.md,
"Temperature"): σ = C(T):ε_m, ε_m = ε − α(T − T_ref) I, C(T) = E(T)/E0 C0 with E(T) = E0 (1 − k (T − T_ref)),
``update(..., temperature=)``, ``update_thermal`` (dσ/dT in closed form) and ``state["temperature"]``. Independent
references: the closed forms of the constrained bar (σ11 = −E(T) α ΔT, lateral strains (1 + ν) α ΔT) and of the
free bar (ε = α ΔT I, σ = 0).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import torch

from constitutive import paths
from constitutive.driver import drive, load_path_file, run_path_file
from constitutive.models.base import ConvergenceError, PathDependentMaterial
from constitutive.models.elastic import LinearElastic
from constitutive.paths import LoadPath, Segment, path_from_dict

E0, NU, ALPHA, T_REF = 210e3, 0.3, 1.2e-5, 20.0
REPO = Path(__file__).resolve().parents[1]
FREE = {c: 0.0 for c in ("22", "33", "23", "13", "12")}


class _ThermoElastic(PathDependentMaterial):
    """Isotropic thermoelasticity with E linear in T (the contract's names; not the package's ThermoMechanical).

    ``planted``: a factor on the returned dσ/dT (1: exact) to test that the driver's check catches a wrong one;
    ``max_dT``: the update fails (``ConvergenceError``) for a temperature increment above it (cutback tests)."""

    temperature_dependent = True

    def __init__(
        self,
        E: float = E0,
        nu: float = NU,
        alpha: float = ALPHA,
        k: float = 0.0,
        *,
        reference: float = T_REF,
        planted: float = 1.0,
        max_dT: float = float("inf"),
    ) -> None:
        super().__init__()
        self._param("E", E, positive=True)
        self._param("nu", nu, below=0.5, above=-1.0)
        self.alpha, self.k, self.planted, self.max_dT = alpha, k, planted, max_dT
        self.reference_temperature = self.initial_temperature = reference
        self.calls: list[tuple[float, float]] = []  # (T_n, T_{n+1}) of every update

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"temperature": ()}

    def initial_state(self, batch_shape: Any = ()) -> dict[str, torch.Tensor]:
        return {"temperature": torch.full(tuple(batch_shape), self.initial_temperature, dtype=self.dtype)}

    def thermal_strain(self, T: torch.Tensor) -> torch.Tensor:
        return self.alpha * (T - self.reference_temperature)[..., None, None] * torch.eye(3, dtype=self.dtype)

    def _moduli(self, T: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        E = self.E * (1.0 - self.k * (T - self.reference_temperature))
        return E, E * self.nu / ((1 + self.nu) * (1 - 2 * self.nu)), E / (2 * (1 + self.nu))

    def update(  # type: ignore[override]
        self, strain: Any, state: Any, dt: Any = None, need_tangent: bool = True, *, temperature: Any = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        eps = torch.as_tensor(strain, dtype=self.dtype)
        T_n = state["temperature"]
        T = T_n if temperature is None else torch.as_tensor(temperature, dtype=self.dtype)
        batch = torch.broadcast_shapes(eps.shape[:-2], T_n.shape, T.shape)
        T = T.expand(batch)
        dT = float((T - T_n).abs().max()) if T.numel() else 0.0
        self.calls.append(
            (float(T_n.flatten()[0]) if T_n.numel() else 0.0, float(T.flatten()[0]) if T.numel() else 0.0)
        )
        if dT > self.max_dT:
            raise ConvergenceError(f"temperature increment {dT:g} above {self.max_dT:g}")
        em = eps - self.thermal_strain(T)
        _, lam, mu = self._moduli(T)
        I = torch.eye(3, dtype=self.dtype)
        sigma = (
            lam[..., None, None] * em.diagonal(dim1=-2, dim2=-1).sum(-1)[..., None, None] * I
            + 2 * mu[..., None, None] * em
        )
        Id = 0.5 * (torch.einsum("ik,jl->ijkl", I, I) + torch.einsum("il,jk->ijkl", I, I))
        II = torch.einsum("ij,kl->ijkl", I, I)
        C = lam[..., None, None, None, None] * II + 2 * mu[..., None, None, None, None] * Id
        return sigma, {"temperature": T}, C

    def update_thermal(
        self, strain: Any, state: Any, dt: Any = None, *, temperature: Any = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        sigma, new, C = self.update(strain, state, dt, temperature=temperature)
        T = new["temperature"]
        E, _, _ = self._moduli(T)
        I = torch.eye(3, dtype=self.dtype)
        # dσ/dT = (dE/dT / E) σ − C : α I  (σ linear in E at fixed ε_m; ε_m decreases by α dT)
        D = (-self.k * self.E / E)[..., None, None] * sigma - torch.einsum("...ijkl,kl->...ij", C, self.alpha * I)
        return sigma, new, C, self.planted * D


def bar_path(T_end: Any = 600.0, increments: int = 4, constrained: bool = True) -> LoadPath:
    """ε11 = 0 held (constrained) or σ11 = 0 (free), every other stress zero, T from T_REF to T_end."""
    strain, stress = ({"11": 0.0}, dict(FREE)) if constrained else ({}, {"11": 0.0, **FREE})
    return LoadPath([Segment(strain, stress, increments, temperature=T_end)], initial_temperature=T_REF)


def test_constrained_bar_closed_form_at_every_step() -> None:
    model = _ThermoElastic(k=4e-4)
    res = drive(model, bar_path(), check_tangent=True)
    T = res.column("T")
    assert torch.allclose(T, torch.linspace(T_REF, 600.0, 5, dtype=torch.float64), rtol=1e-14)
    dT = T - T_REF
    E_T = E0 * (1 - 4e-4 * dT)
    assert torch.allclose(res.stress[:, 0, 0], -E_T * ALPHA * dT, rtol=1e-12, atol=1e-9)
    assert torch.allclose(res.strain[:, 1, 1], (1 + NU) * ALPHA * dT, rtol=1e-12, atol=1e-18)
    assert float(res.strain[:, 0, 0].abs().max()) == 0.0 and float(res.stress[:, 1:, 1:].abs().max()) < 1e-9
    assert float(res.stress[-1, 0, 0]) < -1000.0  # the test is not vacuous: a large thermal stress
    # every model call of a step saw T_n in the state and T_{n+1} as the argument (backward Euler)
    plain = _ThermoElastic(k=4e-4)
    drive(plain, bar_path())
    assert plain.calls and all(b - a == pytest.approx(145.0) for a, b in plain.calls)
    assert float(res.tangent_error.max()) < 1e-8 and float(res.thermal_tangent_error.max()) < 1e-8
    # the differentiable mode's extra correction sees the same T_{n+1}
    diff = drive(_ThermoElastic(k=4e-4), bar_path(), differentiable=True)
    assert torch.allclose(diff.stress.detach(), res.stress, rtol=1e-12, atol=1e-9)
    text = res.summary()
    assert "temperature: 20 -> 600" in text and "thermal tangent check (dσ/dT): PASS" in text


def test_free_bar_expands_freely_and_batch_temperatures() -> None:
    T_end = torch.tensor([300.0, 600.0], dtype=torch.float64)
    res = drive(_ThermoElastic(k=4e-4), bar_path(T_end, increments=3, constrained=False))
    dT = res.column("T") - T_REF  # (4, 2)
    assert torch.allclose(dT[-1], T_end - T_REF)
    eye = torch.eye(3, dtype=torch.float64)
    assert torch.allclose(res.strain, ALPHA * dT[..., None, None] * eye, rtol=1e-12, atol=1e-18)
    assert float(res.stress.abs().max()) < 1e-9


def test_history_temperature_column_heats_and_cools() -> None:
    # uniaxial stress with ε11 = 0 held: heated to 600 then cooled back, the stress returns to zero
    path = paths.history(
        "uniaxial_stress", [0.0, 0.0], temperatures=[600.0, T_REF], increments=2, initial_temperature=T_REF
    )
    res = drive(_ThermoElastic(), path)
    assert res.column("T").tolist() == [20.0, 310.0, 600.0, 310.0, 20.0]
    assert torch.allclose(res.stress[:, 0, 0], -E0 * ALPHA * (res.column("T") - T_REF), rtol=1e-12, atol=1e-9)
    with pytest.raises(ValueError, match="one temperature per keypoint"):
        paths.history("uniaxial_stress", [0.0, 0.0], temperatures=[600.0])


def test_table_and_csv_carry_the_temperature(tmp_path: Path) -> None:
    res = drive(_ThermoElastic(), bar_path())
    header, rows = res.table()
    assert "T" in header and "temperature" not in header  # the state's copy is not repeated
    assert [r[header.index("T")] for r in rows] == res.column("T").tolist()
    written = res.to_csv(tmp_path / "bar.csv")
    with open(written, newline="") as fh:
        back = list(csv.DictReader(fh))
    assert [float(r["T"]) for r in back] == res.column("T").tolist()


def test_non_thermal_model_and_bad_temperatures_are_refused() -> None:
    with pytest.raises(ValueError, match=r"LinearElastic is not temperature dependent.*ThermoMechanical"):
        drive(LinearElastic(E0, NU), bar_path())
    with pytest.raises(ValueError, match="stress-free initial state"):
        drive(_ThermoElastic(), LoadPath([Segment({"11": 0.0}, FREE, temperature=100.0)], initial_temperature=50.0))
    with pytest.raises(ValueError, match="finite"):
        Segment({"11": 0.0}, FREE, temperature=float("nan")).validated("small")
    with pytest.raises(ValueError, match="small-strain"):
        paths.uniaxial_stress([0.1], kinematics="finite", temperatures=[100.0])
    # a temperature-dependent model on a path without temperature: T held at the model's initial temperature
    res = drive(_ThermoElastic(), paths.uniaxial_stress([1e-3], increments=2))
    assert res.column("T").tolist() == [T_REF] * 3
    assert float(res.stress[-1, 0, 0]) == pytest.approx(E0 * 1e-3, rel=1e-12)


def test_cutbacks_interpolate_the_temperature() -> None:
    # the double refuses temperature increments above 100: one step of 580 is cut (7 halvings) into 8 steps of 72.5
    model = _ThermoElastic(max_dT=100.0)
    res = drive(model, bar_path(increments=1), cutbacks=3)
    T = res.column("T")
    assert res.extra["cutbacks"] == 7 and torch.allclose(T, T_REF + 72.5 * torch.arange(9, dtype=torch.float64))
    assert torch.allclose(res.stress[:, 0, 0], -E0 * ALPHA * (T - T_REF), rtol=1e-12, atol=1e-9)
    with pytest.raises(Exception, match="temperature increment"):
        drive(_ThermoElastic(max_dT=100.0), bar_path(increments=1), cutbacks=2)


def test_dsigma_dT_check_catches_a_planted_error() -> None:
    good = drive(_ThermoElastic(k=4e-4), bar_path(), check_tangent=True)
    bad = drive(_ThermoElastic(k=4e-4, planted=1.01), bar_path(), check_tangent=True)
    assert float(good.thermal_tangent_error.max()) < 1e-8
    assert 5e-3 < float(bad.thermal_tangent_error[1:].min()) and float(bad.thermal_tangent_error.max()) < 2e-2
    assert float(bad.tangent_error.max()) < 1e-8  # the strain tangent is right; only dσ/dT is wrong
    assert "thermal tangent check (dσ/dT): FAIL" in bad.summary()
    header, rows = bad.table()
    assert rows[-1][header.index("thermal_tangent_error")] == pytest.approx(float(bad.thermal_tangent_error[-1]))


def test_path_from_dict_temperature_table() -> None:
    head = {"path": {"mode": "uniaxial_stress", "amplitudes": [0.0, 0.0], "increments": 2}}
    p = path_from_dict({**head, "temperature": {"initial": 20.0, "values": [600.0, 300.0]}})
    assert p.initial_temperature == 20.0 and [s.temperature for s in p.segments] == [600.0, 300.0]
    steps = [{"strain": {"11": 0.0}, "stress": FREE, "temperature": 400.0}]
    p = path_from_dict({"steps": steps, "temperature": {"initial": 20.0}})
    assert p.segments[0].temperature == 400.0 and p.thermal
    for bad, match in (
        ({**head, "temperature": {"values": [600.0]}}, "one temperature per segment"),
        ({**head, "temperature": {"initial": "hot"}}, "finite number"),
        ({**head, "temperature": {"start": 20.0}}, "unknown keys"),
        ({"steps": steps, "temperature": {"values": [1.0]}}, "not both"),
    ):
        with pytest.raises(ValueError, match=match):
            path_from_dict(bad)


@pytest.fixture()
def thermal_module() -> Any:
    """The package's ``ThermoMechanical`` (what ``[model.temperature]`` and the example path file build)."""
    from constitutive.models.thermal import ThermoMechanical

    return ThermoMechanical


def test_example_thermal_bar_path_file(tmp_path: Path, thermal_module: Any) -> None:
    source = REPO / "examples" / "paths" / "thermal_bar.toml"
    model, path, settings = load_path_file(source)
    assert getattr(model, "temperature_dependent", False) and path.thermal
    res, written = run_path_file(source, tmp_path)
    T = res.column("T")
    assert float(T[0]) == 20.0 and float(T[-1]) == 600.0
    assert torch.allclose(res.stress[:, 0, 0], -E0 * ALPHA * (T - 20.0), rtol=1e-10, atol=1e-8)
    with open(written["csv"], newline="") as fh:
        back = list(csv.DictReader(fh))
    assert [float(r["T"]) for r in back] == T.tolist()
    assert [float(r["stress_11"]) for r in back] == res.column("stress_11").tolist()
    assert "tangent check: PASS" in res.summary()


def test_path_file_round_trip_and_cli(tmp_path: Path, thermal_module: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from constitutive.cli import main as cli_main

    text = (
        '[model]\nname = "LinearElastic"\n[model.parameters]\nE = 210000.0\nnu = 0.3\n'
        "[model.temperature]\nreference = 20.0\nexpansion = 1.2e-05\n"
        '[path]\nmode = "uniaxial_stress"\namplitudes = [0.0, 0.0]\nincrements = 2\n'
        "[temperature]\ninitial = 20.0\nvalues = [220.0, 120.0]\n"
    )
    src = tmp_path / "bar.toml"
    src.write_text(text)
    assert cli_main(["drive", str(src), "--out", str(tmp_path / "out")]) == 0
    assert "temperature: 20 -> 120" in capsys.readouterr().out
    with open(tmp_path / "out" / "bar.csv", newline="") as fh:
        back = list(csv.DictReader(fh))
    T = [float(r["T"]) for r in back]
    assert T == [20.0, 120.0, 220.0, 170.0, 120.0]
    for r, t in zip(back, T):
        assert float(r["stress_11"]) == pytest.approx(-E0 * ALPHA * (t - 20.0), rel=1e-12, abs=1e-9)
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("[model.temperature]\nreference = 20.0\nexpansion = 1.2e-05\n", ""))
    assert cli_main(["drive", str(bad), "--out", str(tmp_path / "out2")]) != 0
    assert "ThermoMechanical" in capsys.readouterr().err


# ------------------------------------------------------------------------------- tabular paths: a T column
BAR_CSV = """# a bar held axially (strain_11 = 0), lateral faces free, heated and cooled: keypoints
time,T,strain_11,stress_22,stress_33,stress_23,stress_13,stress_12,increments
0,20,0,0,0,0,0,0,
1,320,0,0,0,0,0,0,6
1.5,,0,0,0,0,0,0,2
3,170,0,0,0,0,0,0,3
"""


def test_path_from_table_with_a_temperature_column(tmp_path: Path) -> None:
    """A CSV of keypoints (time, T, mixed control) gives the same path as the equivalent segments: same results
    through the driver with the package's ThermoMechanical; the time-0 row is the start and its T the initial
    temperature; an empty T holds the temperature; [path] table = "..." in a load-path file reads it."""
    from constitutive.models.thermal import ThermoMechanical

    src = tmp_path / "bar.csv"
    src.write_text(BAR_CSV)
    table = paths.path_from_table(src)
    free = {"22": 0.0, "33": 0.0, "23": 0.0, "13": 0.0, "12": 0.0}
    segs = LoadPath(
        [
            Segment({"11": 0.0}, free, 6, 1.0, 320.0),
            Segment({"11": 0.0}, free, 2, 0.5, None),
            Segment({"11": 0.0}, free, 3, 1.5, 170.0),
        ],
        initial_temperature=20.0,
    )
    assert table.initial_temperature == 20.0 and [s.increments for s in table.segments] == [6, 2, 3]
    assert [s.duration for s in table.segments] == [1.0, 0.5, 1.5]
    model = ThermoMechanical(LinearElastic(E0, NU), expansion=ALPHA, reference_temperature=T_REF)
    a, b = drive(model, table), drive(model, segs)
    assert torch.equal(a.stress, b.stress) and torch.equal(a.column("T"), b.column("T"))
    T = a.column("T")
    assert T.tolist()[6:9] == [320.0, 320.0, 320.0] and float(T[-1]) == 170.0
    torch.testing.assert_close(a.stress[:, 0, 0], -E0 * ALPHA * (T - T_REF), rtol=1e-12, atol=1e-8)
    # the same table through a load-path file
    toml = tmp_path / "bar.toml"
    toml.write_text(
        '[model]\nname = "LinearElastic"\n[model.parameters]\nE = 210000.0\nnu = 0.3\n'
        "[model.temperature]\nreference = 20.0\nexpansion = 1.2e-05\n"
        '[path]\ntable = "bar2.csv"\n[temperature]\ninitial = 20.0\n'
    )
    (tmp_path / "bar2.csv").write_text(BAR_CSV.replace("0,20,0,0,0,0,0,0,\n", ""))
    _, from_file, _ = load_path_file(toml)
    assert [s.temperature for s in from_file.segments] == [320.0, None, 170.0]
    assert torch.equal(drive(model, from_file).stress, a.stress)


@pytest.mark.parametrize(
    "text, match",
    [
        ("time,strain_11\n1,0.1\n", r"component 22 needs exactly one of strain_22 and stress_22, got neither"),
        ("strain_11,stress_11,stress_22,stress_33,stress_23,stress_13,stress_12\n0.1,1,0,0,0,0,0\n", r"got both"),
        (BAR_CSV.replace("1.5,,", "0.5,,"), r"row 3: time must increase, got 0.5 after 1"),
        (BAR_CSV.replace("3,170,0", "3,hot,0"), r"row 4, column 'T': not a number: 'hot'"),
        (
            BAR_CSV.replace("time,T,", "time,T,pressure,").replace("0,20,", "0,20,1,"),
            r"unknown column\(s\) \['pressure'\]",
        ),
        (BAR_CSV.replace("0,20,0,0", "0,20,0.1,0"), r"row 1 \(time 0\) is the starting point.*\['11'\]"),
    ],
)
def test_path_table_errors_name_row_and_column(tmp_path: Path, text: str, match: str) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(text)
    with pytest.raises(ValueError, match=match):
        paths.path_from_table(src)
