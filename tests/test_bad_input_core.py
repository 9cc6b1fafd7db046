"""Bad input to the core layers (tensors, notation, parameter files, CSV data) raises an error naming the problem;
valid edge cases (integer tensors, empty batches) give the right answer."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from constitutive import tensor as T
from constitutive.data import read_csv
from constitutive.models import load, save
from constitutive.models.base import read_toml
from constitutive.notation import plane_stress_condense, reduce, to_voigt
from constitutive.resources import material_file
from constitutive.tangent import hessian, jacobian

STEEL_E, STEEL_NU = 210000.0, 0.3


def steel_stress(eps: torch.Tensor) -> torch.Tensor:
    lam = STEEL_E * STEEL_NU / ((1 + STEEL_NU) * (1 - 2 * STEEL_NU))
    mu = STEEL_E / (2 * (1 + STEEL_NU))
    return lam * T.trace(eps)[..., None, None] * torch.eye(3, dtype=torch.float64) + 2 * mu * eps


# ------------------------------------------------------------------------------------------------ tensors


def test_complex_strain_is_refused_not_truncated() -> None:
    steel, rubber = load("steel_s355"), load("natural_rubber_ogden_treloar")
    eps = torch.zeros(3, 3, dtype=torch.complex128)
    eps[0, 0] = 1e-3 + 1e-20j
    for model in (steel, rubber):
        with pytest.raises(ValueError, match=r"is complex \(torch.complex128\).*x\.real"):
            model.stress(eps)
    with pytest.raises(ValueError, match="complex"):
        jacobian(lambda x: x @ x, eps)
    with pytest.raises(ValueError, match="complex"):
        to_voigt(eps, "strain")


def test_allow_complex_lets_the_complex_step_through() -> None:
    x = T.sym(torch.randn(2, 3, 3, dtype=torch.float64)) + 1j * T.sym(torch.randn(2, 3, 3, dtype=torch.float64))
    with T.allow_complex():
        T.check_symmetric(x, "strain")
        v = to_voigt(x, "strain")  # a real-linear map: real and imaginary parts convert separately
    torch.testing.assert_close(v, to_voigt(x.real, "strain") + 1j * to_voigt(x.imag, "strain"))
    with pytest.raises(ValueError, match="complex"):  # the allowance ends with the block
        T.check_symmetric(x, "strain")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_refused(dtype: torch.dtype) -> None:
    eps = torch.zeros(3, 3, dtype=dtype)
    with pytest.raises(ValueError, match=f"strain is {dtype}: half precision"):
        load("steel_s355").stress(eps)
    with pytest.raises(ValueError, match="half precision"):
        jacobian(lambda x: x @ x, eps)


def test_meta_tensor_is_refused() -> None:
    eps = torch.zeros(4, 3, 3, device="meta")
    with pytest.raises(ValueError, match="meta tensor"):
        load("steel_s355").stress(eps)
    with pytest.raises(ValueError, match="meta tensor"):
        hessian(lambda x: (x * x).sum(), eps)
    with pytest.raises(ValueError, match="meta tensor"):
        T.check_finite(eps, "x")


def test_integer_and_list_strains_are_converted() -> None:
    steel = load("steel_s355")
    eps = torch.diag(torch.tensor([1, 0, 0]))  # int64: exact strain 1 (a test value, not a physical one)
    expected = steel_stress(eps.double())
    torch.testing.assert_close(steel.stress(eps), expected)
    torch.testing.assert_close(steel.stress(eps.tolist()), expected)
    assert T.as_tensor(torch.tensor([True, False])).dtype == torch.float64


@pytest.mark.parametrize(
    "bad,error,match",
    [
        (None, TypeError, "NoneType"),
        ("0.001", TypeError, "str"),
        ({"xx": 1.0}, TypeError, "dict"),
        ([[1.0, 2.0], [3.0]], ValueError, "ragged"),
        ([["a", "b", "c"]] * 3, ValueError, "non-numeric"),
    ],
)
def test_non_numeric_input_is_refused(bad: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        T.as_tensor(bad)
    with pytest.raises(error, match=match):
        load("steel_s355").stress(bad)


def test_zero_dimensional_and_wrong_shape_inputs() -> None:
    steel = load("steel_s355")
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3, 3\), got \(\)"):
        steel.stress(torch.tensor(1.0, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"got \(2, 2\)"):
        jacobian(lambda x: x @ x, torch.eye(2, dtype=torch.float64))


def test_empty_batches_give_empty_results() -> None:
    empty = torch.zeros(0, 3, 3, dtype=torch.float64)
    assert load("steel_s355").stress(empty).shape == (0, 3, 3)
    assert jacobian(lambda x: x @ x, empty).shape == (0, 3, 3, 3, 3)
    s, C = hessian(lambda x: (x * x).sum(), empty)
    assert s.shape == (0, 3, 3) and C.shape == (0, 3, 3, 3, 3)


def test_nan_strain_is_named() -> None:
    eps = torch.zeros(2, 3, 3, dtype=torch.float64)
    eps[1, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="strain contains NaN"):
        load("steel_s355").stress(eps)
    eps[1, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="x contains infinite values"):
        jacobian(lambda x: x @ x, eps)


# ------------------------------------------------------------------------------------------------ notation


def test_reduce_of_singular_c33_names_the_problem() -> None:
    C = load("steel_s355").tangent(torch.zeros(2, 3, 3, dtype=torch.float64)).clone()
    C[1, 2, 2] = 0.0  # second point: the 33 row, so C3333 and C33kl vanish
    with pytest.raises(ValueError, match=r"singular at batch entry \(1,\).*C3333 = 0"):
        reduce(C, "stiffness", "plane_stress")
    with pytest.raises(ValueError, match="singular"):
        reduce(torch.zeros(3, 3, 3, 3, dtype=torch.float64), "stiffness", "shell")
    # the regular point still condenses: plane-stress stiffness E/(1 - nu^2) [[1, nu, 0], [nu, 1, 0], [0, 0, (1-nu)/2]]
    Cps = reduce(C[0], "stiffness", "plane_stress")
    f = STEEL_E / (1 - STEEL_NU**2)
    expected = f * torch.tensor([[1, STEEL_NU, 0], [STEEL_NU, 1, 0], [0, 0, (1 - STEEL_NU) / 2]], dtype=torch.float64)
    torch.testing.assert_close(Cps, expected, rtol=1e-12, atol=1e-6)


def test_plane_stress_condense_checks_its_slots() -> None:
    with pytest.raises(ValueError, match="square"):
        plane_stress_condense(torch.zeros(6, 5, dtype=torch.float64), [0], [1])
    with pytest.raises(ValueError, match="distinct indices below n = 6"):
        plane_stress_condense(torch.eye(6, dtype=torch.float64), [0, 1], [1])
    with pytest.raises(ValueError, match="distinct indices below n = 6"):
        plane_stress_condense(torch.eye(6, dtype=torch.float64), [0, 1], [6])


# ------------------------------------------------------------------------------------------------ TOML


def test_binary_garbage_is_not_a_toml_file(tmp_path: Path) -> None:
    p = tmp_path / "garbage.toml"
    p.write_bytes(bytes(range(256)))
    with pytest.raises(ValueError, match=r"garbage\.toml: not a TOML file: not UTF-8"):
        read_toml(p)
    with pytest.raises(ValueError, match="not UTF-8"):
        load(p)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "broken.toml"
    p.write_text('[material]\nmodel = "LinearElastic\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.toml: not a valid TOML file.*line 2"):
        read_toml(p)


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    p = tmp_path / "bom.toml"
    p.write_text('\ufeff[material]\nmodel = "LinearElastic"\n[parameters]\nE = 1.0\nnu = 0.25\n', encoding="utf-8")
    assert float(load(p).E) == 1.0


def test_misspelt_table_is_named(tmp_path: Path) -> None:
    p = tmp_path / "typo.toml"
    p.write_text('[material]\nmodel = "LinearElastic"\n[parameter]\nE = 1.0\nnu = 0.25\n', encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"unknown table\(s\) or key\(s\) \['parameter'\].*\[material\], \[parameters\]"
    ):
        load(p)
    p.write_text('model = "LinearElastic"\n[parameters]\nE = 1.0\nnu = 0.25\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\['model'\]"):
        load(p)
    p.write_text('material = "LinearElastic"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"material must be a table"):
        load(p)


def test_every_shipped_file_and_a_saved_file_load(tmp_path: Path) -> None:
    from constitutive.resources import list_materials

    for stem, model, _, _ in list_materials():
        loaded = load(stem)  # a material file with a [temperature] table loads as ThermoMechanical(model)
        assert type(getattr(loaded, "mechanical", loaded)).__name__ == model
        assert ("temperature" in read_toml(material_file(stem))) == (type(loaded).__name__ == "ThermoMechanical")
    steel = load("steel_s355")
    path = save(steel, tmp_path / "copy.toml", name="copy")
    assert float(load(path).E) == STEEL_E
    assert float(load("steel_s355.toml").E) == STEEL_E  # a shipped file by its file name, from any directory


def test_unknown_material_lists_the_shipped_ones() -> None:
    with pytest.raises(FileNotFoundError, match=r"no parameter file steel_s999.*steel_s355"):
        load("steel_s999")
    with pytest.raises(FileNotFoundError, match="no parameter file"):
        load("some/dir/file.txt")


# ------------------------------------------------------------------------------------------------ CSV


def test_cells_beyond_the_header_name_the_line(tmp_path: Path) -> None:
    p = tmp_path / "extra.csv"
    p.write_text("stretch,stress\n1.0,0.0\n1,5,2,3\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"extra\.csv, line 3: 4 cells but the header names 2 columns.*decimal commas"):
        read_csv(p)
    p.write_text("stretch,stress,\n1.0,0.0,\n1.5,2.5,,\n", encoding="utf-8")  # trailing empty cells are fine
    t = read_csv(p)
    assert t.column("stress").tolist() == [0.0, 2.5]


def test_semicolon_separated_decimal_comma_files_read_correctly(tmp_path: Path) -> None:
    p = tmp_path / "eu.csv"
    p.write_text("stretch;stress\n(-);(MPa)\n1,0;0,0\n1,5;2,25\n2;3,5\n", encoding="utf-8")
    t = read_csv(p)
    assert t.column("stretch").tolist() == [1.0, 1.5, 2.0]
    assert t.column("stress").tolist() == [0.0, 2.25, 3.5]
    assert t.units == {"stretch": "-", "stress": "MPa"}
    p.write_text("stretch;stress\n1,0;0,0;7\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: 3 cells"):
        read_csv(p)
    p.write_text("stretch;stress\n1.000,5;2\n", encoding="utf-8")  # thousands separators are not guessed at
    with pytest.raises(ValueError, match=r"line 2: column 'stretch' holds '1\.000,5', not a number"):
        read_csv(p)


# ------------------------------------------------------------------------------------------------ kinematics, algebra


def test_kinematics_refuses_complex_meta_half_and_mixed_dtypes() -> None:
    from constitutive import kinematics as K

    F = torch.eye(3, dtype=torch.float64) + 0.01 * torch.arange(9, dtype=torch.float64).reshape(3, 3)
    S = T.sym(torch.arange(9, dtype=torch.float64).reshape(3, 3))
    with pytest.raises(ValueError, match=r"F is complex"):
        K.green_lagrange(F.to(torch.complex128))
    with pytest.raises(ValueError, match=r"S is complex"):
        K.pk2_to_cauchy(S.to(torch.complex128), F)
    with pytest.raises(ValueError, match="meta tensor"):
        K.right_cauchy_green(torch.empty(3, 3, device="meta"))
    with pytest.raises(ValueError, match="half precision"):
        K.pk2_to_pk1(S.half(), F)
    with pytest.raises(ValueError, match=r"S is torch.float32 on cpu but F is torch.float64"):
        K.pk2_to_cauchy(S.float(), F)
    c = K.push_forward_tangent(T.identity4_sym(), F)
    with pytest.raises(ValueError, match=r"sigma is torch.float32 on cpu but the tangent c is torch.float64"):
        K.spatial_to_jaumann_tangent(c, S.float())
    # matching dtypes still work, and an integer stress converts like every input: P = F S
    torch.testing.assert_close(K.pk2_to_pk1(S.round().long(), F), F @ S.round())


def test_algebra_operands_are_checked() -> None:
    with pytest.raises(TypeError, match="must be a torch tensor"):
        T.det([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3, 3\), got \(\)"):
        T.trace(torch.tensor(1.0))
    with pytest.raises(ValueError, match=r"got \(3, 2\)"):
        T.cofactor(torch.zeros(3, 2))
    A = torch.eye(3, dtype=torch.float64).repeat(2, 1, 1)
    A[1, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="the tensor to diagonalise contains NaN"):
        T.eigh_sym(A)
    with pytest.raises(ValueError, match="floating dtype"):
        T.eigh_sym(torch.eye(3, dtype=torch.int64))
    lam, _ = T.eigh_sym(A[:1])
    torch.testing.assert_close(lam, torch.ones(1, 3, dtype=torch.float64))
    assert T.inv(torch.empty(2, 3, 3, device="meta")).shape == (2, 3, 3)  # meta propagates through the algebra
