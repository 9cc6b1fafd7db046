"""Tests of the tangent verification driver ``constitutive.check``: correct tangents pass at 1e-8, wrong ones fail
and are located, Taylor orders, models (path-independent and path-dependent), errors, report and CLI."""

from __future__ import annotations

import json
import math

import pytest
import torch

from constitutive import tensor as T
from constitutive.check import (
    TangentCheckReport,
    check_tangent,
    expression_function,
    finite_difference_tangent,
    taylor_remainder,
)
from constitutive.cli import main as cli_main
from constitutive.models.base import MODELS, Material, PathDependentMaterial
from constitutive.notation import to_voigt
from constitutive.tangent import jacobian

LAM, MU = 1.7, 0.9


def random_sym(*batch: int, scale: float = 1.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return scale * T.sym(torch.randn(*batch, 3, 3, dtype=dtype))


def elastic_tangent(lam: float = LAM, mu: float = MU, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Closed form λ I⊗I + 2μ I^s."""
    I = T.eye(dtype)
    return lam * T.dyad(I, I) + 2 * mu * T.identity4_sym(dtype)


def elastic_stress(eps: torch.Tensor) -> torch.Tensor:
    I = torch.eye(3, dtype=eps.dtype)
    return LAM * T.trace(eps)[..., None, None] * I + 2 * MU * eps


def nonsym_fn(X: torch.Tensor) -> torch.Tensor:
    """A map whose tangent is not major-symmetric (no potential): tr(X) X + X X."""
    return T.trace(X)[..., None, None] * X + X @ X


def nonsym_tangent(X: torch.Tensor) -> torch.Tensor:
    """Closed form: X ⊗ I + tr(X) I^s + sym_kl(I ⊠ X + X ⊠ I)."""
    I = torch.eye(3, dtype=X.dtype).expand_as(X)
    J = T.dyad(X, I) + T.trace(X)[..., None, None, None, None] * T.identity4(X.dtype)
    J = J + T.dyad_ikjl(I, X) + T.dyad_ikjl(X, I)
    return 0.5 * (J + J.transpose(-1, -2))


# ---------------------------------------------------------------------------------------------- correct tangents


@pytest.mark.parametrize("method", ["central", "forward", "complex"])
def test_linear_elasticity_closed_form_passes(method: str) -> None:
    eps = random_sym(7, scale=1e-3)
    rtol = 1e-8 if method != "forward" else 1e-7
    report = check_tangent(elastic_stress, eps, elastic_tangent(), method, rtol=rtol)
    assert report.passed, str(report)
    assert report.max_rel_error < rtol
    assert report.n_points == 7


def test_nonsymmetric_map_closed_form_passes_at_1e8() -> None:
    X = random_sym(4, 5)
    C = nonsym_tangent(X)
    # The closed form and AD agree, and both pass against central differences at 1e-8.
    torch.testing.assert_close(C, jacobian(nonsym_fn, X), rtol=1e-12, atol=1e-12)
    report = check_tangent(nonsym_fn, X, C, rtol=1e-8)
    assert report.passed, str(report)
    assert report.asymmetry["major"] > 0.05 and report.asymmetry["minor"] < 1e-14
    # Default tangent for a callable is the AD one.
    assert check_tangent(nonsym_fn, X, rtol=1e-8).passed


def test_spectral_functions_pass_at_1e8_including_repeated_eigenvalues() -> None:
    Q = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))[0]
    lams = torch.tensor([[0.3, 0.3, -0.8], [0.5, 0.5, 0.5], [0.1, 0.4, 1.2]], dtype=torch.float64)
    X = Q @ torch.diag_embed(lams) @ Q.T
    C = T.sym_function_derivative(X, torch.exp, torch.exp)
    assert check_tangent(T.sym_exp, X, C, rtol=1e-8).passed
    Y = T.sym_exp(X)  # positive definite, eigenvalues repeated where X's are
    Clog = T.sym_function_derivative(Y, torch.log, torch.reciprocal)
    report = check_tangent(T.sym_log, Y, Clog, rtol=1e-8)
    assert report.passed, str(report)


def test_float32_passes_with_float32_tolerance() -> None:
    eps = random_sym(6, scale=0.3, dtype=torch.float32)
    C = nonsym_tangent(eps)
    report = check_tangent(nonsym_fn, eps, C, rtol=1e-3)
    assert report.passed, str(report)
    assert report.max_rel_error > 1e-9  # float32 round-off is visible: the comparison ran in float32


def test_pointwise_function_is_vmapped() -> None:
    def pointwise(X: torch.Tensor) -> torch.Tensor:
        assert X.shape[-2:] == (3, 3)
        return torch.trace(X) * X  # torch.trace only accepts a 2-D matrix

    X = random_sym(3, 2)
    report = check_tangent(pointwise, X, rtol=1e-8)
    assert report.passed and report.n_points == 6


# ---------------------------------------------------------------------------------------------- wrong tangents


def test_transposed_tangent_fails_and_names_worst_component() -> None:
    X = random_sym(5)
    C = nonsym_tangent(X)
    wrong = T.major_transpose(C)
    report = check_tangent(nonsym_fn, X, wrong)
    assert not report.passed
    b = report.worst_batch_index
    diff = (wrong - C)[b].abs()
    assert diff[report.worst_component] == pytest.approx(float(diff.max()), rel=1e-6)
    assert report.max_abs_error == pytest.approx(float((wrong - C).abs().max()), rel=1e-6)
    assert "FAILED" in str(report) and report.worst_label in str(report)


def test_engineering_shear_doubled_tangent_fails_on_a_shear_column() -> None:
    eps = random_sym(4, scale=1e-3)
    doubled = elastic_tangent() * (2.0 - torch.eye(3, dtype=torch.float64))  # shear columns kl (k != l) doubled
    report = check_tangent(elastic_stress, eps, doubled)
    assert not report.passed
    i, j, k, l = report.worst_component
    assert k != l  # a shear column
    assert report.worst_voigt[1] >= 3  # Voigt slots 23, 13, 12
    assert report.worst_tangent_value == pytest.approx(2 * report.worst_reference_value, rel=1e-8)
    # The same matrix is the correct answer in the 'components' convention.
    assert check_tangent(elastic_stress, eps, doubled, convention="components", rtol=1e-8).passed


def test_single_bad_point_is_located_in_the_batch() -> None:
    X = random_sym(3, 4)
    C = nonsym_tangent(X).clone()
    C[2, 1, 0, 2, 1, 1] += 0.05  # one component of one point
    report = check_tangent(nonsym_fn, X, C, rtol=1e-8)
    assert not report.passed
    assert report.worst_batch_index == (2, 1)
    assert report.worst_component == (0, 2, 1, 1)
    assert report.worst_voigt == (4, 1)  # textbook Voigt: 13 -> slot 4 (0-based), 22 -> slot 1


def test_full_convention_on_nonsymmetric_points() -> None:
    A = torch.randn(4, 3, 3, dtype=torch.float64)  # non-symmetric is allowed in 'full'
    J = jacobian(lambda X: X @ X, A, "full")
    assert check_tangent(lambda X: X @ X, A, J, convention="full", rtol=1e-8).passed
    assert not check_tangent(lambda X: X @ X, A, T.major_transpose(J), convention="full").passed


# ---------------------------------------------------------------------------------------------- Taylor test


def test_taylor_orders_correct_and_wrong() -> None:
    X = random_sym(6, scale=0.5)
    C = nonsym_tangent(X)
    good = check_tangent(nonsym_fn, X, C, "taylor")
    assert good.passed and abs(good.taylor_order - 2.0) < 0.1, str(good)
    bad = check_tangent(nonsym_fn, X, T.major_transpose(C), "taylor")
    assert not bad.passed and abs(bad.taylor_order - 1.0) < 0.1, str(bad)
    Cexp = T.sym_function_derivative(X, torch.exp, torch.exp)
    good_exp = check_tangent(T.sym_exp, X, Cexp, "taylor")
    assert abs(good_exp.taylor_order - 2.0) < 0.1
    halved = Cexp * (1.0 - 0.5 * (1 - torch.eye(3, dtype=torch.float64)))
    assert abs(check_tangent(T.sym_exp, X, halved, "taylor").taylor_order - 1.0) < 0.1


def test_taylor_affine_function_is_round_off_and_passes() -> None:
    report = check_tangent(elastic_stress, random_sym(3), elastic_tangent(), "taylor")
    assert report.passed and math.isnan(report.taylor_order)


def test_taylor_remainder_matches_closed_form_for_quadratic() -> None:
    # f = X X: remainder is exactly h^2 |D D| for the exact tangent.
    X = random_sym(2)
    h, r, _ = taylor_remainder(lambda Y: Y @ Y, X, jacobian(lambda Y: Y @ Y, X), hs=[1e-1, 1e-2, 1e-3])
    gen = torch.Generator().manual_seed(0)
    D = T.sym(torch.randn(2, 3, 3, generator=gen, dtype=torch.float64))
    D = D / T.norm(D)[..., None, None]
    torch.testing.assert_close(r, h**2 * T.norm(D @ D)[..., None], rtol=1e-6, atol=1e-15)


# ---------------------------------------------------------------------------------------------- models


class _LinearElastic(Material):
    def __init__(self, lmbda: float, mu: float, *, shear_factor: float = 1.0, dtype=torch.float64, device=None):
        super().__init__(dtype=dtype, device=device)
        self._param("lmbda", lmbda)
        self._param("mu", mu, positive=True)
        self._option("shear_factor", shear_factor)

    def stress(self, strain):
        eps = self.check_strain(strain)
        return self.lmbda * T.trace(eps)[..., None, None] * T.eye(eps.dtype) + 2 * self.mu * eps

    def tangent(self, strain):
        eps = self.check_strain(strain)
        C = elastic_tangent(float(self.lmbda), float(self.mu))
        C = C * (1 + (self.shear_factor - 1) * (1 - torch.eye(3, dtype=C.dtype)))  # deliberately wrong if != 1
        return C.expand(*eps.shape[:-2], 3, 3, 3, 3)


class _Maxwell(PathDependentMaterial):
    """Bulk modulus K, deviatoric Maxwell element (μ, τ), backward Euler; consistent tangent in closed form."""

    def __init__(self, K: float, mu: float, tau: float, *, consistent: bool = True, dtype=torch.float64, device=None):
        super().__init__(dtype=dtype, device=device)
        self._param("K", K, positive=True)
        self._param("mu", mu, positive=True)
        self._param("tau", tau, positive=True)
        self._option("consistent", consistent)

    def initial_state(self, batch_shape=()):
        return {"viscous_strain": torch.zeros(*batch_shape, 3, 3, dtype=self.dtype)}

    def update(self, strain, state, dt=None):
        eps = self.check_strain(strain)
        a = float(dt) / float(self.tau)
        ev = (state["viscous_strain"] + a * T.dev(eps)) / (1 + a)
        I = T.eye(eps.dtype)
        sigma = self.K * T.trace(eps)[..., None, None] * I + 2 * self.mu * (T.dev(eps) - ev)
        g = 1 / (1 + a) if self.consistent else 1.0  # the non-consistent variant uses the elastic tangent
        C = self.K * T.dyad(I, I) + 2 * self.mu * g * T.identity4_dev(eps.dtype)
        return sigma, {"viscous_strain": ev}, C.expand(*eps.shape[:-2], 3, 3, 3, 3)


def test_material_tangent_checked_and_wrong_one_caught() -> None:
    eps = random_sym(5, scale=1e-3)
    assert check_tangent(_LinearElastic(LAM, MU), eps, rtol=1e-8).passed
    assert check_tangent(_LinearElastic(LAM, MU), eps, convention="components", rtol=1e-8).passed
    report = check_tangent(_LinearElastic(LAM, MU, shear_factor=2.0), eps)
    assert not report.passed and report.worst_component[2] != report.worst_component[3]
    # The asymmetry is that of the tangent proper: a correct 'components' check reports no major asymmetry.
    assert check_tangent(_LinearElastic(LAM, MU), eps, convention="components").asymmetry["major"] < 1e-14


class _NotMinorSymmetric(_LinearElastic):
    """A model whose tangent puts all shear into C_ijkl with k < l and nothing into C_ijlk (sum is right)."""

    def tangent(self, strain):
        C = super().tangent(strain).clone()
        upper = torch.triu(torch.ones(3, 3, dtype=torch.bool), 1)
        C[..., upper] *= 2.0
        C[..., upper.T] = 0.0
        return C


def test_model_tangent_without_minor_symmetry_is_not_projected_away() -> None:
    eps = random_sym(3, scale=1e-3)
    report = check_tangent(_NotMinorSymmetric(LAM, MU), eps)
    assert not report.passed and report.asymmetry["minor"] > 0.1


def test_path_dependent_consistent_tangent_with_history_at_start_of_step() -> None:
    eps = random_sym(4, scale=1e-3)
    state = {"viscous_strain": T.dev(random_sym(4, scale=5e-4))}
    model = _Maxwell(2.0, 1.0, 0.5)
    report = check_tangent(model, eps, state=state, dt=0.2, rtol=1e-8)
    assert report.passed, str(report)
    assert check_tangent(model, eps, dt=0.2, method="taylor").passed
    wrong = check_tangent(_Maxwell(2.0, 1.0, 0.5, consistent=False), eps, state=state, dt=0.2)
    assert not wrong.passed
    # The check did not touch the caller's state.
    assert state["viscous_strain"].abs().max() > 0


def test_voigt_matrix_tangent_with_notation() -> None:
    eps = random_sym(3, scale=1e-3)
    M = to_voigt(elastic_tangent(), "stiffness", order="abaqus")
    assert check_tangent(elastic_stress, eps, M, notation="voigt", order="abaqus", rtol=1e-8).passed
    with pytest.raises(ValueError, match="notation"):
        check_tangent(elastic_stress, eps, M)


# ---------------------------------------------------------------------------------------------- bad input


def test_bad_input_raises_clear_errors() -> None:
    X = random_sym(2)
    with pytest.raises(ValueError, match="symmetric"):
        check_tangent(nonsym_fn, torch.randn(2, 3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="NaN"):
        check_tangent(nonsym_fn, torch.full((3, 3), float("nan"), dtype=torch.float64))
    with pytest.raises(ValueError, match="NaN"):
        check_tangent(lambda Y: Y * float("nan"), X, nonsym_tangent(X))
    with pytest.raises(ValueError, match="shape"):
        check_tangent(nonsym_fn, torch.zeros(3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="does not match"):
        check_tangent(nonsym_fn, X, torch.zeros(5, 3, 3, 3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="shape"):
        check_tangent(nonsym_fn, X, torch.zeros(2, 3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="method"):
        check_tangent(nonsym_fn, X, method="backward")
    with pytest.raises(ValueError, match="convention"):
        check_tangent(nonsym_fn, X, convention="engineering")
    with pytest.raises(ValueError, match="complex"):
        check_tangent(lambda Y: (Y @ Y).real, X, nonsym_tangent(X), "complex")
    with pytest.raises(ValueError, match="full"):
        check_tangent(_LinearElastic(LAM, MU), X, convention="full")


def test_finite_difference_tangent_exact_for_quadratic_any_step() -> None:
    X = random_sym(3)
    exact = jacobian(lambda Y: Y @ Y, X)
    for method in ("central", "forward"):
        C, h = finite_difference_tangent(lambda Y: Y @ Y, X, method, step=1e-3)
        torch.testing.assert_close(C, exact, rtol=1e-9, atol=1e-9)  # Richardson is exact for quadratics
        assert torch.all(h == 1e-3)


# ---------------------------------------------------------------------------------------------- report


def test_report_dict_json_str_and_plot(tmp_path) -> None:
    X = random_sym(2, scale=0.5)
    report = check_tangent(nonsym_fn, X, T.major_transpose(nonsym_tangent(X)), "taylor")
    assert isinstance(report, TangentCheckReport) and not bool(report)
    d = json.loads(report.to_json())
    assert d["passed"] is False and d["method"] == "taylor" and len(d["worst_component"]) == 4
    assert d["taylor_order"] == pytest.approx(report.taylor_order)
    assert set(d["asymmetry"]) == {"minor", "major"}
    assert "Taylor remainder order" in str(report)
    fig = report.plot(tmp_path / "taylor.png")
    assert (tmp_path / "taylor.png").stat().st_size > 1000
    assert len(fig.axes[0].lines) == 3
    with pytest.raises(ValueError, match="taylor"):
        check_tangent(nonsym_fn, X).plot()


# ---------------------------------------------------------------------------------------------- CLI


def test_cli_expression(capsys) -> None:
    expr = "X @ X + tr(X)[..., None, None] * X"
    assert cli_main(["check", "--expr", expr, "--strain", "1", "2", "3", "4", "5", "6", "--order", "abaqus"]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out
    assert cli_main(["check", "--expr", "expm(X)", "--strain", "0.1", "0.1", "0.1", "0", "0", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passed"] is True


def test_cli_model_pass_and_fail(monkeypatch, capsys) -> None:
    monkeypatch.setitem(MODELS, "CheckTestElastic", _LinearElastic)
    args = ["check", "--model", "CheckTestElastic", "--param", "lmbda=1.5", "--param", "mu=0.7"]
    args += ["--strain", "1e-3", "0", "0", "2e-4", "0", "0"]
    assert cli_main(args + ["--rtol", "1e-8"]) == 0
    assert "PASSED" in capsys.readouterr().out
    assert cli_main(args + ["--param", "shear_factor=2"]) == 1
    assert "FAILED" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "params", "strain"),
    [
        ("LinearElastic", ["E=200", "nu=0.3"], ["--strain=1e-3,-2e-4,0,3e-4,0,1e-4"]),
        ("NeoHookean", ["mu=1", "lmbda=10"], ["--strain", "0.01", "0.02", "-0.01", "0.005", "0", "0.003"]),
    ],
)
def test_cli_registered_models_if_available(name: str, params: list[str], strain: list[str], capsys) -> None:
    import constitutive.models as models

    try:  # models are written in parallel; check the registered ones that exist
        models.get_model(name)
    except ValueError:
        pytest.skip(f"no {name} model registered")
    args = ["check", "--model", name] + [a for p in params for a in ("--param", p)]
    assert cli_main(args + [*strain, "--rtol", "1e-7"]) == 0, capsys.readouterr().out


def test_expression_namespace_is_restricted() -> None:
    for bad in (
        "__import__('os')",
        "X.__class__",
        "open('f')",
        "[x for x in X]",
        "(lambda: 1)()",
        "torch.load('x')",
        "torch.hub",
    ):
        with pytest.raises(ValueError):
            expression_function(bad)
    assert expression_function("torch.linalg.matrix_exp(X) + torch.exp(X)")(torch.zeros(3, 3)).shape == (3, 3)
    f = expression_function("dev(X) @ dev(X)")
    X = random_sym(2)
    torch.testing.assert_close(f(X), T.dev(X) @ T.dev(X))


def test_taylor_with_user_steps() -> None:
    X = random_sym(2, scale=0.5)
    report = check_tangent(nonsym_fn, X, nonsym_tangent(X), "taylor", hs=[1e-2, 5e-3, 2.5e-3, 1.25e-3])
    assert report.taylor_steps == pytest.approx([1e-2, 5e-3, 2.5e-3, 1.25e-3])
    assert abs(report.taylor_order - 2.0) < 0.1
    with pytest.raises(ValueError, match="three"):
        check_tangent(nonsym_fn, X, method="taylor", hs=[1e-2, 1e-3])


def test_empty_batch_is_a_value_error() -> None:
    # Review fix: an empty batch crashed with torch's "max(): Expected reduction dim" RuntimeError.
    with pytest.raises(ValueError, match="empty"):
        check_tangent(nonsym_fn, torch.zeros(0, 3, 3, dtype=torch.float64))


def test_taylor_remainder_user_scale_keeps_dtype() -> None:
    # Review fix: a float scale became a float64 CPU tensor, promoting float32 strains (and breaking CUDA ones).
    X = random_sym(3, dtype=torch.float32)
    h, r, _ = taylor_remainder(nonsym_fn, X, nonsym_tangent(X), scale=2.0)
    assert h.dtype == torch.float32 and r.dtype == torch.float32
    assert torch.allclose(h[..., 0], torch.full((3,), 2.0 * 1e-1))  # float32: h0 = 1e-1 times the scale


def test_taylor_order_at_round_off_is_not_reported_as_affine_when_failing() -> None:
    # A wrong float32 tangent whose remainders are mostly round-off: the order is undetermined, and str() must not
    # call that "round-off (affine)" (which describes a pass). The explicit steps make this happen in every run (the
    # default float32 steps now rise above round-off, so the order is fitted): two steps (3e-2, 1e-2) give
    # remainders far above float32 round-off, the three tiny ones sink below it, and < 3 points leave no slope.
    X = random_sym(2, scale=0.3, dtype=torch.float32)
    hs = [3e-2, 1e-2, 1e-7, 1e-8, 1e-9]
    report = check_tangent(nonsym_fn, X, 1.05 * nonsym_tangent(X), "taylor", hs=hs)
    assert math.isnan(report.taylor_order), str(report)
    assert min(report.taylor_remainders[:2]) > 1e-4  # not affine: the large steps see the wrong tangent
    assert not report.passed
    assert "affine" not in str(report)
    assert "undetermined" in str(report)


def test_taylor_orders_in_float32() -> None:
    # Review fix: with the float64 steps (h0 = 1e-2 s) and a 1e3·eps noise floor, every float32 remainder was
    # "round-off", so a correct nonlinear tangent passed vacuously with order NaN ("affine").
    gen = torch.Generator().manual_seed(5)
    X = (0.5 * T.sym(torch.randn(6, 3, 3, generator=gen, dtype=torch.float64))).to(torch.float32)
    C = nonsym_tangent(X)
    good = check_tangent(nonsym_fn, X, C, "taylor")
    assert good.passed and abs(good.taylor_order - 2.0) < 0.1, str(good)
    bad = check_tangent(nonsym_fn, X, T.major_transpose(C), "taylor")
    assert not bad.passed and abs(bad.taylor_order - 1.0) < 0.15, str(bad)
    # an affine map stays at round-off in float32 too, and passes as such
    affine = check_tangent(elastic_stress, X, elastic_tangent(dtype=torch.float32), "taylor")
    assert affine.passed and math.isnan(affine.taylor_order)


def test_cli_bad_plot_and_nan_strain_are_exit_2_with_message(tmp_path, capsys) -> None:
    # Review fix: --plot without --method taylor ended in a traceback after the check had run; a NaN --strain was
    # reported as "stress vector contains NaN".
    assert cli_main(["check", "--expr", "X @ X", "--plot", str(tmp_path / "t.png")]) == 2
    err = capsys.readouterr().err
    assert "--plot" in err and "taylor" in err
    assert not (tmp_path / "t.png").exists()
    assert cli_main(["check", "--expr", "X @ X", "--strain=1,2,3,4,5,nan"]) == 2
    assert "--strain contains NaN" in capsys.readouterr().err
    assert cli_main(["check", "--expr", "X @ X", "--method", "taylor", "--plot", str(tmp_path / "t.png")]) == 0
    assert (tmp_path / "t.png").stat().st_size > 1000


def test_pointwise_function_that_runs_on_a_batch_with_another_meaning_is_vmapped() -> None:
    # Review fix: batch auto-detection only compared shapes. ``X @ X.transpose(0, 1)`` is X X^T on one point, but on
    # a (3, 3, 3) batch it runs, keeps the shape and mixes points; the check then failed a correct tangent.
    f = lambda X: X @ X.transpose(0, 1)  # noqa: E731 - a point-wise function, as a user would write it
    X = random_sym(3)
    C = jacobian(lambda A: A @ A.transpose(-1, -2), X)
    report = check_tangent(f, X, C, rtol=1e-8)
    assert report.passed, str(report)


def test_cli_expression_that_torch_rejects_is_exit_2(capsys) -> None:
    # Review fix: a torch error inside --expr (a user's typo) ended in a traceback instead of the exit-2 message.
    assert cli_main(["check", "--expr", "X @ torch.ones(2, 2)"]) == 2
    err = capsys.readouterr().err
    assert "constitutive check: error:" in err and "--expr" in err


# --------------------------------------------------------------------------------------------------------------
# Default tolerances from the dtype (issue 9)
# --------------------------------------------------------------------------------------------------------------


def _harness_float32_checks() -> list[tuple[str, object, torch.Tensor, dict]]:
    """(id, float32 model, strains, check_tangent keywords) for every model of the two harnesses."""
    import sys
    from pathlib import Path

    tests = str(Path(__file__).resolve().parent)
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from test_model_harness import CASES  # the harness's own collection of tests/cases
    from test_path_dependent_harness import PATH_CASES, _all_steps

    out: list[tuple[str, object, torch.Tensor, dict]] = []
    for case in CASES:
        model = case.make()
        out.append((case.id, type(model).from_dict(model.to_dict(), dtype=torch.float32), case.strains.float(), {}))
    for pcase in PATH_CASES:
        model32 = pcase.make(torch.float32)
        eps, state, dt, _ = _all_steps(model32, pcase, pcase.strains.to(torch.float32))
        # every third point of the history (all phases still occur; keeps the test fast)
        state = {k: v[::3] for k, v in state.items()}
        dt = dt[::3] if isinstance(dt, torch.Tensor) and dt.ndim else dt
        out.append((pcase.id, model32, eps[::3], {"state": state, "dt": dt}))
    return out


def test_default_rtol_per_dtype() -> None:
    from constitutive.check import default_rtol

    assert default_rtol(torch.float64) == 1e-6 and default_rtol(torch.float32) == 1e-3
    with pytest.raises(ValueError, match="dtype"):
        default_rtol(torch.int64)
    eps = random_sym(4, scale=0.3)
    assert check_tangent(elastic_stress, eps, elastic_tangent()).rtol == 1e-6  # float64 as before
    assert check_tangent(elastic_stress, eps.float(), elastic_tangent(dtype=torch.float32)).rtol == 1e-3


def test_float32_models_pass_with_default_tolerances_and_doubled_shear_fails() -> None:
    # Every model of the harnesses, in float32, passes check_tangent without a tolerance argument; the same tangent
    # with doubled shear columns (the classic Voigt mistake) fails at the same defaults.
    doubled_shear = 2.0 - torch.eye(3)  # factor 2 on kl with k != l
    checked = 0
    for case_id, model, eps, kw in _harness_float32_checks():
        report = check_tangent(model, eps, **kw)
        assert report.passed, (case_id, str(report))
        assert report.rtol == 1e-3
        if "state" in kw:
            C = model.update(eps, kw["state"], kw["dt"])[2]
        else:
            C = model.tangent(eps)
        wrong = check_tangent(model, eps, C * doubled_shear, **kw)
        assert not wrong.passed, case_id
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    "kwargs,phrase",
    [
        ({"rtol": -1}, "rtol must be a positive finite number"),
        ({"rtol": 0.0}, "rtol must be a positive finite number"),
        ({"rtol": float("nan")}, "rtol must be a positive finite number"),
        ({"rtol": "tight"}, "rtol must be a positive number"),
        ({"atol": -1e-3}, "atol must be a positive finite number"),
        ({"atol": float("inf")}, "atol must be a positive finite number"),
        ({"step": 0.0}, "step must be positive and finite"),
        ({"step": -1e-6}, "step must be positive and finite"),
        ({"step": float("nan")}, "step must be positive and finite"),
    ],
)
def test_bad_tolerances_are_refused(kwargs: dict, phrase: str) -> None:
    with pytest.raises(ValueError, match=phrase):
        check_tangent(elastic_stress, random_sym(2), elastic_tangent(), **kwargs)
