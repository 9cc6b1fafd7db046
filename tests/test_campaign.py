"""Campaigns (constitutive.calibrate.campaign): the manifest, per-specimen fits equal plain fits, the joint fit of
identical copies equals the single fit, the scatter statistics, outputs and bad input. (Parallel == serial on a
Dask LocalCluster: tests/test_parallel.py.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from constitutive.calibrate import calibrate
from constitutive.calibrate.campaign import Campaign, CampaignResult, Specimen
from constitutive.data import load_tension_test
from constitutive.models import load

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "calibration" / "campaign_steel"
SWIFT = dict(
    initial={"K": 800.0, "eps0": 0.01, "n": 0.2},
    fixed={"E": 210e3, "nu": 0.3, "H": 0.0},
    options={"hardening": "swift"},
    bounds={"K": (1.0, 1e4), "eps0": (1e-6, 1.0), "n": (1e-3, 1.0)},
)


def _kw() -> dict:
    return {k: v for k, v in SWIFT.items() if k != "initial"}


@pytest.fixture(scope="module")
def steel() -> Campaign:
    return Campaign.from_files(
        ["tension_St1594.csv", "tension_St1595.csv"], material="steel", E=210e3, points=30, monotonic="drop"
    )


@pytest.fixture(scope="module")
def fitted(steel: Campaign) -> CampaignResult:
    return steel.fit("J2Plasticity", SWIFT["initial"], scheduler="serial", **_kw())


def test_each_specimen_fit_is_the_plain_calibrate_of_that_specimen(steel: Campaign, fitted: CampaignResult) -> None:
    assert [s.name for s in steel.specimens] == ["St1594", "St1595"]
    for s, r in zip(steel.specimens, fitted.each):
        plain = calibrate("J2Plasticity", s.experiments, SWIFT["initial"], **_kw())
        np.testing.assert_array_equal(r.x, plain.x)
        assert r.success
    each = steel.fit_each("J2Plasticity", SWIFT["initial"], scheduler="serial", **_kw())
    np.testing.assert_array_equal(each[1].x, fitted.each[1].x)
    np.testing.assert_array_equal(fitted.joint.x, steel.fit_joint("J2Plasticity", SWIFT["initial"], **_kw()).x)
    # the joint fit sees both specimens' points
    assert sum(len(e) for e in fitted.joint.experiments) == 60


def test_the_joint_fit_of_identical_copies_is_the_single_fit(steel: Campaign) -> None:
    exp = steel.specimens[0].experiments[0]
    copies = Campaign([Specimen("a", [exp], material="steel"), Specimen("b", [exp], material="steel")])
    joint = copies.fit_joint("J2Plasticity", SWIFT["initial"], **_kw())
    single = calibrate("J2Plasticity", exp, SWIFT["initial"], **_kw())
    np.testing.assert_allclose(joint.x, single.x, rtol=1e-8)
    assert joint.cost == pytest.approx(2 * single.cost, rel=1e-10)
    assert [e.name for e in copies.joint_experiments()] == ["a/St1594", "b/St1594"]  # renamed: names stay unique


def test_scatter_statistics_and_table(fitted: CampaignResult) -> None:
    v = np.array([[r.parameters[k] for k in ("K", "eps0", "n")] for r in fitted.each])
    np.testing.assert_array_equal(fitted.values(), v)
    stats = fitted.statistics()
    for j, lab in enumerate(fitted.labels):
        mean = (v[0, j] + v[1, j]) / 2
        std = abs(v[0, j] - v[1, j]) / np.sqrt(2)  # the n - 1 standard deviation of two values
        assert stats[lab]["mean"] == pytest.approx(mean, rel=1e-14)
        assert stats[lab]["std"] == pytest.approx(std, rel=1e-12)
        assert stats[lab]["cv"] == pytest.approx(std / abs(mean), rel=1e-12)
    # two steel grades (UTS 497 and 266 MPa): K differs by a third, and no joint parameter set fits both
    assert stats["K"]["cv"] > 0.2
    own, joint = [r.total_rms for r in fitted.each], fitted.joint_rms()
    assert max(own) < 6.0 and min(joint) > 10 * max(own)
    table = fitted.table()
    assert "| specimen | lot | T (°C) | K | eps0 | n |" in table
    assert "| CV |" in table and "| joint fit |" in table and table.count("| yes |") == 3


def test_the_manifest(tmp_path: Path) -> None:
    campaign = Campaign.from_folder(EXAMPLE)
    assert campaign.name == "bezborodov_tension"
    assert [s.name for s in campaign.specimens] == ["St1594", "St1595", "Al5005"]
    assert campaign.materials == ["steel", "aluminium 5005"]
    assert {s.test for s in campaign.specimens} == {"tension"} and campaign.specimens[0].temperature is None
    assert sorted(campaign.models) == ["aluminium 5005", "steel"]
    groups = campaign.by_material()
    assert [len(g) for g in groups.values()] == [2, 1]
    assert groups["aluminium 5005"].name == "bezborodov_tension_aluminium_5005"
    # the specimen's experiment: the compliance-corrected true curve up to the UTS, as the loader gives it
    exp = campaign.specimens[2].experiments[0]
    ref = load_tension_test("tension_Al5005.csv").experiment(E=70e3, points=100, monotonic="drop", name="Al5005")
    np.testing.assert_array_equal(exp.x.numpy(), ref.x.numpy())
    np.testing.assert_array_equal(exp.y.numpy(), ref.y.numpy())
    with pytest.raises(ValueError, match="several materials"):
        campaign.fit("J2Plasticity", SWIFT["initial"], **_kw())
    # several experiments per specimen, metadata, defaults
    (tmp_path / "campaign.toml").write_text(
        'name = "two"\n[defaults]\nmode = "tension_test"\nmaterial = "steel"\n'
        '[[specimens]]\nname = "s1"\nlot = "L1"\ntemperature = 23.0\n'
        '[[specimens.experiments]]\nname = "a"\nfile = "tension_St1594.csv"\npoints = 10\n'
        '[[specimens.experiments]]\nname = "b"\nfile = "tension_St1594.csv"\npoints = 12\n'
    )
    two = Campaign.from_folder(tmp_path)
    s1 = two.specimens[0]
    assert (s1.lot, s1.temperature, s1.material, [len(e) for e in s1.experiments]) == ("L1", 23.0, "steel", [10, 12])
    with pytest.raises(ValueError, match="no fit settings for material"):
        two.fit_materials()


def test_outputs(fitted: CampaignResult, tmp_path: Path) -> None:
    paths = fitted.save(tmp_path)
    assert sorted(paths) == ["figure", "parameters", "report"]
    assert paths["report"].name == "campaign.md" and paths["figure"].stat().st_size > 20_000
    model = load(paths["parameters"])
    assert float(model.K) == fitted.joint.parameters["K"]
    assert "| CV |" in paths["report"].read_text() and "St1595" in paths["parameters"].read_text()
    with pytest.raises(FileExistsError):
        fitted.save(tmp_path)


def test_bad_input(steel: Campaign, tmp_path: Path) -> None:
    exp = steel.specimens[0].experiments[0]
    with pytest.raises(ValueError, match="non-empty name"):
        Specimen("", [exp])
    with pytest.raises(ValueError, match="non-empty list of Experiment"):
        Specimen("a", [])
    with pytest.raises(ValueError, match="temperature"):
        Specimen("a", [exp], temperature=float("nan"))
    with pytest.raises(ValueError, match="repeated"):
        Campaign([Specimen("a", [exp]), Specimen("a", [exp])])
    with pytest.raises(ValueError, match="at least one specimen"):
        Campaign([])
    with pytest.raises(ValueError, match="unknown keyword"):
        Campaign.from_files(["tension_St1594.csv"], strain=0.1)
    with pytest.raises(FileNotFoundError, match="no campaign.toml"):
        Campaign.from_folder(tmp_path)
    one = '[[specimens]]\nname = "a"\nfile = "tension_St1594.csv"\nmode = "tension_test"\n'
    cases = {
        'colour = "red"\n[[specimens]]\nname = "a"\nfile = "tension_St1594.csv"\nmode = "tension_test"\n': "colour",
        '[[specimens]]\nname = "a"\nmode = "tension_test"\n': "names no data",
        '[[specimens]]\nfile = "tension_St1594.csv"\nmode = "tension_test"\n': "needs a name",
        one + "colour = 1\n": "colour",
        one + '[models.steel]\nmodel = "X"\n': "missing 'initial'",
    }
    for k, (text, match) in enumerate(cases.items()):
        (tmp_path / f"c{k}").mkdir()
        (tmp_path / f"c{k}" / "campaign.toml").write_text(text)
        with pytest.raises(ValueError, match=match):
            Campaign.from_folder(tmp_path / f"c{k}")
    with pytest.raises(ValueError, match="unknown fit setting"):
        Campaign.from_folder(EXAMPLE).fit_materials(tolerance=1)


def test_the_campaign_through_the_command_line(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from constitutive.cli import main

    folder = tmp_path / "steel"
    folder.mkdir()
    swift = SWIFT
    (folder / "campaign.toml").write_text(
        'name = "steel"\n[defaults]\nmode = "tension_test"\nmaterial = "steel"\nE = 210000.0\npoints = 20\n'
        'monotonic = "drop"\n'
        '[[specimens]]\nname = "St1594"\nfile = "tension_St1594.csv"\n'
        '[[specimens]]\nname = "St1595"\nfile = "tension_St1595.csv"\n'
        '[models.steel]\nmodel = "J2Plasticity"\n[models.steel.options]\nhardening = "swift"\n'
        f"[models.steel.initial]\nK = {swift['initial']['K']}\neps0 = {swift['initial']['eps0']}\n"
        f"n = {swift['initial']['n']}\n"
        "[models.steel.fixed]\nE = 210000.0\nnu = 0.3\nH = 0.0\n"
        "[models.steel.bounds]\nK = [1.0, 1e4]\neps0 = [1e-6, 1.0]\nn = [1e-3, 1.0]\n"
    )
    out = tmp_path / "out"
    args = ["calibrate", "--campaign", str(folder), "--out", str(out), "--quiet", "--scheduler", "serial"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "| CV |" in text and "wrote figure" in text
    assert sorted(p.name for p in out.iterdir()) == ["steel_steel.md", "steel_steel.png", "steel_steel_joint.toml"]
    # the per-specimen fits are the plain fits of the same experiments
    campaign = Campaign.from_folder(folder)
    plain = calibrate("J2Plasticity", campaign.specimens[1].experiments, SWIFT["initial"], **_kw())
    assert f"{plain.parameters['K']:.5g}" in (out / "steel_steel.md").read_text()
    assert main(args) == 2  # outputs exist: refused before the fit
    assert "--force" in capsys.readouterr().err
    assert main(["calibrate", str(folder / "campaign.toml"), "--campaign", str(folder)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["calibrate"]) == 2
    assert "--campaign FOLDER" in capsys.readouterr().err
    assert main(["calibrate", "--campaign", str(folder), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err


def test_the_campaign_example_fits_steel_and_aluminium_separately(tmp_path: Path) -> None:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "examples" / "calibration" / "campaign_steel.py"
    spec = importlib.util.spec_from_file_location("_example_campaign_steel", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    numbers = module.main(tmp_path, quick=True, scheduler="serial")
    assert numbers["success"] == {"steel": True, "aluminium 5005": True}
    steel, al = numbers["parameters"]["steel"], numbers["parameters"]["aluminium 5005"]
    # Swift for steel: St1594 as in the steel example (K 829 MPa, n 0.20 with 150 points), St1595 a softer grade
    assert 780 < steel["St1594"]["K"] < 880 and 0.18 < steel["St1594"]["n"] < 0.23
    assert 450 < steel["St1595"]["K"] < 550 and steel["St1595"]["n"] > steel["St1594"]["n"]
    # Voce for the aluminium: yield about 140 MPa, saturating
    assert 120 < al["Al5005"]["sigma_y"] < 160 and al["Al5005"]["Q"] > 0
    for material in ("steel", "aluminium 5005"):
        for name, rms in numbers["rms"][material].items():
            assert rms < 5.0, (material, name)  # MPa: within about 2 % of the stresses
    # one specimen: its joint fit is its own fit, and there is no scatter to report
    assert numbers["joint_rms"]["aluminium 5005"]["Al5005"] == pytest.approx(numbers["rms"]["aluminium 5005"]["Al5005"])
    assert "| CV | | | – | – | – |" in numbers["tables"]["aluminium 5005"]
    assert min(numbers["joint_rms"]["steel"].values()) > 10 * max(numbers["rms"]["steel"].values())
    files = sorted(p.name for p in tmp_path.iterdir())
    assert "campaign_bezborodov_tension_steel.png" in files
    assert "campaign_bezborodov_tension_aluminium_5005_joint.toml" in files
