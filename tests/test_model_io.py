"""Parameter files and serialisation of the elastic and user-defined models: materials/*.toml, save/load round
trips, to_dict/from_dict."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from constitutive.models import (
    Anisotropic,
    Cubic,
    LinearElastic,
    Material,
    Orthotropic,
    TransverselyIsotropic,
    from_energy,
    load,
    read_toml,
    save,
)
from constitutive.notation import to_voigt
from constitutive.tensor import ddot, trace

MATERIALS = Path(__file__).resolve().parents[1] / "materials"
F64 = torch.float64


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-13) -> bool:
    return float((a - b).abs().max()) <= rtol * float(b.abs().max())


def _eps(n: int = 3) -> torch.Tensor:
    a = torch.randn(n, 3, 3, dtype=F64)
    return 1e-3 * (a + a.transpose(-1, -2))


@pytest.mark.parametrize(
    ("stem", "E", "nu", "G_code", "clause"),
    [
        ("steel_s355", 210000.0, 0.3, 81000.0, "EN 1993-1-1"),
        ("aluminium_5005", 70000.0, 0.3, 27000.0, "EN 1999-1-1"),
    ],
)
def test_structural_metal_files(stem: str, E: float, nu: float, G_code: float, clause: str) -> None:
    path = MATERIALS / f"{stem}.toml"
    for model in (load(path), load(stem), LinearElastic.load(path)):
        assert type(model) is LinearElastic
        assert float(model.E) == E and float(model.nu) == nu
        # the code's rounded shear modulus agrees with E / (2 (1 + nu)) to its rounding
        assert math.isclose(float(model.G), G_code, rel_tol=5e-3)
    meta = read_toml(path)["material"]
    assert meta["model"] == "LinearElastic" and meta["units"] == "MPa"
    assert clause in meta["source"] and "3.2." in meta["source"]
    assert f"{int(E):,}".replace(",", " ") in meta["source_lines"]  # "210 000" as printed in the code
    with pytest.raises(ValueError, match="not a Cubic"):
        Cubic.load(path)


def test_loaded_file_in_float32() -> None:
    model = load("steel_s355", dtype=torch.float32)
    assert model.E.dtype == torch.float32
    assert model.stress(_eps().float()).dtype == torch.float32


def _all_models() -> list[Material]:
    q, _ = torch.linalg.qr(torch.randn(3, 3, dtype=F64, generator=torch.Generator().manual_seed(5)))
    return [
        LinearElastic(K=175000.0, G=80000.0),
        TransverselyIsotropic(12e3, 70e3, 0.4, 0.05, 4e3, axis=(0.2, 0.3, 1.0)),
        Orthotropic(140e3, 10e3, 9e3, 0.3, 0.28, 0.45, 5e3, 4.8e3, 3.5e3, axes=q),
        Cubic(168.4, 121.4, 75.4, axes=q),
        Anisotropic(to_voigt(Cubic(168.4, 121.4, 75.4, axes=q).stiffness(), "stiffness", "abaqus"), order="abaqus"),
    ]


@pytest.mark.parametrize("model", _all_models(), ids=lambda m: type(m).__name__)
def test_save_load_round_trip(model: Material, tmp_path: Path) -> None:
    path = save(model, tmp_path / "m.toml", name="test material", units="MPa", source="unit test")
    text = path.read_text(encoding="utf-8")
    assert "[material]" in text and "[parameters]" in text
    again = load(path)
    assert type(again) is type(model)
    assert again.to_dict() == model.to_dict()
    eps = _eps()
    # repr() of floats round-trips exactly; the stresses agree to round-off (memory layouts may differ)
    assert _close(again.stress(eps), model.stress(eps))
    assert read_toml(path)["material"]["source"] == "unit test"
    # the method form and to_dict/from_dict
    model.save(tmp_path / "n.toml")
    assert type(model).load(tmp_path / "n.toml").to_dict() == model.to_dict()
    d = model.to_dict()
    assert Material.from_dict(d).to_dict() == d and type(model).from_dict(d).to_dict() == d
    rebuilt = model.with_parameters()
    assert _close(rebuilt.stress(eps), model.stress(eps))


def test_options_are_saved(tmp_path: Path) -> None:
    m = _all_models()[-1]
    path = save(m, tmp_path / "a.toml")
    data = read_toml(path)
    assert data["options"] == {"notation": "voigt", "order": "abaqus"}
    assert len(data["parameters"]["stiffness_matrix"]) == 6


def test_bad_files_and_dicts(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.toml")
    p = tmp_path / "no_model.toml"
    p.write_text("[parameters]\nE = 1.0\nnu = 0.3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="must name the model"):
        load(p)
    p.write_text('[material]\nmodel = "LinearElastic"\n[parameters]\nE = 1.0\nnu = 0.5\n', encoding="utf-8")
    with pytest.raises(ValueError, match="'nu'"):
        load(p)
    with pytest.raises(ValueError, match="unknown model"):
        Material.from_dict({"model": "Linear", "parameters": {}})
    with pytest.raises(ValueError, match="not a LinearElastic"):
        LinearElastic.from_dict(Cubic(168.4, 121.4, 75.4).to_dict())


def test_user_model_round_trip_in_session(tmp_path: Path) -> None:
    def psi(eps: torch.Tensor, lmbda: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
        return 0.5 * lmbda * trace(eps) ** 2 + mu * ddot(eps, eps)

    model = from_energy(psi, {"lmbda": 2.0, "mu": 3.0}, name="IoUserLinear")
    path = save(model, tmp_path / "u.toml", note="user-defined")
    again = load(path)
    assert type(again) is type(model) and again.to_dict() == model.to_dict()
    eps = _eps()
    assert torch.equal(again.stress(eps), model.stress(eps))


def test_misspelled_or_missing_parameters_in_files_and_dicts(tmp_path: Path) -> None:
    """A parameter file with a typo names the offending key and the model's parameters (ValueError, not the
    constructor's TypeError)."""
    p = tmp_path / "typo.toml"
    p.write_text('[material]\nmodel = "LinearElastic"\n[parameters]\nE = 1.0\nnuu = 0.3\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"LinearElastic.*'nuu'"):
        load(p)
    with pytest.raises(ValueError, match=r"Cubic.*C44"):
        Material.from_dict({"model": "Cubic", "parameters": {"C11": 168.4, "C12": 121.4}})
    with pytest.raises(ValueError, match=r"Orthotropic.*'E4'"):
        Material.from_dict({"model": "Orthotropic", "parameters": {"E4": 1.0}})


def test_registry_holds_concrete_models_only() -> None:
    from constitutive.models import MODELS, get_model

    assert "PathDependentMaterial" not in MODELS and "HyperelasticMaterial" not in MODELS and "Material" not in MODELS
    for name in ("LinearElastic", "NeoHookean", "Ogden", "J2Plasticity", "GeneralizedMaxwell", "Perzyna"):
        assert get_model(name).__name__ == name
    with pytest.raises(ValueError, match="known models"):
        get_model("PathDependentMaterial")


def test_misspelled_j2_parameter_in_a_file_is_named():
    """J2 takes the flat parameters of any registered hardening law: a key that is neither the model's nor the
    law's is still a ValueError naming it."""
    from constitutive.models import J2Plasticity

    data = {"model": "J2Plasticity", "parameters": {"E": 2e5, "nu": 0.3, "sigma_yy": 250.0}}
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['sigma_yy'\]"):
        Material.from_dict(data)
    data = {"model": "J2Plasticity", "parameters": {"E": 2e5, "nu": 0.3, "sigma_y": 250.0, "Q": 1.0, "bb": 2.0}}
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['bb'\].*Voce"):
        Material.from_dict({**data, "options": {"hardening": "voce"}})
    good = {**data["parameters"], "b": 2.0}
    del good["bb"]
    model = Material.from_dict({**data, "parameters": good, "options": {"hardening": "voce"}})
    assert isinstance(model, J2Plasticity) and model.hardening == "voce" and float(model.b) == 2.0
