"""The reusable model harness: every ``CASES`` entry of every module in ``tests/cases/`` gets the same checks.

Per :class:`cases.ModelCase` (parametrised by ``case.id``):

* the tangent passes :func:`constitutive.check.check_tangent` (central differences) at ``case.strains``;
* the tangent is minor-symmetric, and major-symmetric when ``case.major_symmetric``;
* an analytic tangent (``case.analytic``) equals the automatic-differentiation one (``ad_tangent``);
* a model with an energy has stress = ∂ψ/∂strain on Sym (:func:`constitutive.tangent.hessian` of ``energy``);
* the stress vanishes at zero strain (``case.zero_stress_at_zero_strain``);
* the tangent at zero strain equals ``case.linear_limit`` (the small-strain limit), and so does the model's own
  ``initial_tangent()`` where it has one (hyperelastic models: from their initial shear and bulk moduli);
* isotropic models (``case.isotropic``) are objective: stress(Qᵀ E Q) = Qᵀ stress(E) Q for random rotations Q;
* a batch equals point-by-point evaluation, for ``(N,)``, ``(2, N/2)`` and unbatched shapes;
* the same model in float32 (``from_dict(to_dict(), dtype=float32)``) gives float32 results close to float64;
* ``to_dict``/``from_dict`` reproduces the stress;
* bad strain input (NaN, wrong shape, non-symmetric) raises ``ValueError`` from ``stress`` and ``tangent``.

Optional ``case.extra`` keys: ``"limit_rtol"`` (default 1e-9), ``"ad_rtol"`` (1e-9), ``"symmetry_tol"`` (1e-10),
``"float32_rtol"`` (2e-3), ``"float32_fd_rtol"`` (1e-3), ``"objectivity_rtol"`` (1e-10).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import pytest
import torch

_TESTS = Path(__file__).resolve().parent
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

import cases  # noqa: E402
from cases import ModelCase  # noqa: E402

from constitutive.check import check_tangent  # noqa: E402
from constitutive.models import Material  # noqa: E402
from constitutive.symmetry import asymmetry  # noqa: E402
from constitutive.tangent import hessian  # noqa: E402


def _collect() -> list[ModelCase]:
    found: list[ModelCase] = []
    for info in sorted(pkgutil.iter_modules(cases.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"cases.{info.name}")
        entries = getattr(module, "CASES", None)
        if entries is None:
            continue
        for entry in entries:
            if not isinstance(entry, ModelCase):
                raise TypeError(f"cases.{info.name}.CASES holds a {type(entry).__name__}, not a ModelCase")
            found.append(entry)
    ids = [c.id for c in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate ModelCase ids: {duplicates}")
    return found


CASES = _collect()
_params = pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """max|a - b| / max|b| (absolute when b vanishes)."""
    scale = float(b.abs().max())
    return float((a - b).abs().max()) / (scale if scale > 0 else 1.0)


def _rotations(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    q, r = torch.linalg.qr(torch.randn(n, 3, 3, dtype=dtype))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))[..., None, :]
    det = torch.linalg.det(q)
    q[..., :, 0] *= det[..., None]  # proper rotations (det +1)
    return q


def _extra(case: ModelCase, key: str, default: float) -> float:
    return float(case.extra.get(key, default))


def test_cases_collected() -> None:
    assert any(c.id.startswith("LinearElastic") for c in CASES)


@_params
def test_tangent_matches_finite_differences(case: ModelCase) -> None:
    model = case.make()
    report = check_tangent(model, case.strains, rtol=case.rtol)
    assert report.passed, str(report)


@_params
def test_tangent_symmetries(case: ModelCase) -> None:
    model = case.make()
    C = model.tangent(case.strains)
    asym = asymmetry(C)
    tol = _extra(case, "symmetry_tol", 1e-10)
    assert float(asym["minor"].max()) < tol
    if case.major_symmetric:
        assert float(asym["major"].max()) < tol
    else:
        # The case says the tangent is not major-symmetric: make sure the harness would notice if it were.
        assert float(asym["major"].max()) > tol


@_params
def test_analytic_tangent_equals_ad(case: ModelCase) -> None:
    model = case.make()
    if not case.analytic:
        pytest.skip("the tangent is the automatic-differentiation one (checked against finite differences)")
    C = model.tangent(case.strains)
    C_ad = model.ad_tangent(case.strains)
    assert _rel(C, C_ad) < _extra(case, "ad_rtol", 1e-9)


@_params
def test_stress_is_energy_gradient(case: ModelCase) -> None:
    model = case.make()
    if not model.has_energy():
        pytest.skip("the model has no energy")

    def psi(e: torch.Tensor) -> torch.Tensor:
        return model.energy(e)

    grad_psi, _ = hessian(psi, case.strains)
    assert _rel(model.stress(case.strains), grad_psi) < _extra(case, "ad_rtol", 1e-9)


@_params
def test_zero_stress_at_zero_strain(case: ModelCase) -> None:
    if not case.zero_stress_at_zero_strain:
        pytest.skip("the case has a residual stress")
    model = case.make()
    zero = torch.zeros(2, 3, 3, dtype=model.dtype)
    stress = model.stress(zero)
    scale = float(model.tangent(case.strains).abs().max()) * float(case.strains.abs().max())
    assert float(stress.abs().max()) <= 1e-12 * scale


@_params
def test_small_strain_limit(case: ModelCase) -> None:
    if case.linear_limit is None:
        pytest.skip("no linear limit given")
    model = case.make()
    C0 = model.tangent(torch.zeros(3, 3, dtype=model.dtype))
    assert C0.shape == (3, 3, 3, 3)
    assert _rel(C0, case.linear_limit.to(C0.dtype)) < _extra(case, "limit_rtol", 1e-9)
    # models that report their initial moduli (hyperelastic: initial_tangent from initial_shear/bulk_modulus)
    # must report the same linearisation
    if hasattr(model, "initial_tangent"):
        assert _rel(model.initial_tangent(), case.linear_limit.to(C0.dtype)) < _extra(case, "limit_rtol", 1e-9)


@_params
def test_objectivity(case: ModelCase) -> None:
    if not case.isotropic:
        pytest.skip("anisotropic model")
    model = case.make()
    E = case.strains
    Q = _rotations(E.shape[0], E.dtype)
    rotated = model.stress(Q.transpose(-1, -2) @ E @ Q)
    expected = Q.transpose(-1, -2) @ model.stress(E) @ Q
    assert _rel(rotated, expected) < _extra(case, "objectivity_rtol", 1e-10)
    # The tangent rotates as a fourth-order tensor: C(QᵀEQ)_ijkl = Q_ai Q_bj Q_ck Q_dl C(E)_abcd.
    C_rot = model.tangent(Q.transpose(-1, -2) @ E @ Q)
    C_exp = torch.einsum("nai,nbj,nck,ndl,nabcd->nijkl", Q, Q, Q, Q, model.tangent(E))
    assert _rel(C_rot, C_exp) < _extra(case, "objectivity_rtol", 1e-10)


@_params
def test_batch_equals_pointwise(case: ModelCase) -> None:
    model = case.make()
    E = case.strains
    S, C = model.stress(E), model.tangent(E)
    assert S.shape == E.shape and C.shape == (*E.shape[:-2], 3, 3, 3, 3)
    for n in range(E.shape[0]):
        assert _rel(model.stress(E[n]), S[n]) < 1e-13
        assert _rel(model.tangent(E[n]), C[n]) < 1e-13
        assert model.stress(E[n]).shape == (3, 3)
    if E.shape[0] % 2 == 0:
        E2 = E.reshape(2, E.shape[0] // 2, 3, 3)
        assert _rel(model.stress(E2), S.reshape(E2.shape)) < 1e-13
        assert _rel(model.tangent(E2), C.reshape(*E2.shape[:-2], 3, 3, 3, 3)) < 1e-13
    S2, C2 = model.stress_and_tangent(E)
    assert _rel(S2, S) < 1e-13 and _rel(C2, C) < 1e-13


@_params
def test_float32(case: ModelCase) -> None:
    model = case.make()
    model32 = type(model).from_dict(model.to_dict(), dtype=torch.float32)
    E32 = case.strains.to(torch.float32)
    S32, C32 = model32.stress(E32), model32.tangent(E32)
    assert S32.dtype == torch.float32 and C32.dtype == torch.float32
    S64, C64 = model.stress(case.strains), model.tangent(case.strains)
    tol = _extra(case, "float32_rtol", 2e-3)
    assert _rel(S32.double(), S64) < tol
    assert _rel(C32.double(), C64) < tol
    report = check_tangent(model32, E32, rtol=_extra(case, "float32_fd_rtol", 1e-3))
    assert report.passed, str(report)


@_params
def test_dict_round_trip(case: ModelCase) -> None:
    model = case.make()
    again = Material.from_dict(model.to_dict())
    assert type(again) is type(model)
    assert _rel(again.stress(case.strains), model.stress(case.strains)) < 1e-14
    assert again.to_dict() == model.to_dict()


@_params
@pytest.mark.parametrize("method", ["stress", "tangent"])
def test_bad_strain_input(case: ModelCase, method: str) -> None:
    model = case.make()
    f = getattr(model, method)
    nan = case.strains.clone()
    nan[0, 1, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        f(nan)
    with pytest.raises(ValueError, match="shape"):
        f(torch.zeros(2, 3, 2, dtype=model.dtype))
    with pytest.raises(ValueError, match="shape"):
        f(torch.zeros(6, dtype=model.dtype))
    skew = case.strains.clone()
    skew[..., 0, 1] += 1e-2 * (1.0 + skew.abs().max())
    with pytest.raises(ValueError, match="symmetric"):
        f(skew)
