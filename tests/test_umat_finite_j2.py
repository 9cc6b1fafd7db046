"""The generated NLGEOM UMAT of finite-strain J2 (constitutive.export.umat_finite_j2): it compiles under gfortran
-Wall -Werror in 72-column fixed form, and, driven through the UMAT bridge (``finite_strain=True``: DFGRD1, JSTEP(3)
= 1), agrees with FiniteStrainJ2.update increment by increment -- Cauchy stress, the Jaumann DDSDDE and the state
(Cp^-1 = I + STATEV(1:6), alpha = STATEV(7)) to 1e-10 relative -- along large simple shear (gamma to 2), uniaxial
tension to 50 % stretch and a non-proportional F path with reversal, elastic unloading and growing rotations, with a
linear (closed-form) and two nonlinear (Newton) hardening laws; det Cp^-1 = 1 to round-off; the bridge's
finite-difference tangent check passes; wrong NPROPS/NSTATV, a step without NLGEOM and a corrupt state stop it; a
failed local Newton asks for a cutback with the state untouched; the CLI writes it for a material file. Needs
gfortran (skips, saying so, only where it is absent). Each source is compiled once per module."""

from __future__ import annotations

import math
import shutil
import tempfile

import pytest
import torch

from constitutive.export import generate_umat, umat_source
from constitutive.export.umat_finite_j2 import STATEV_LAYOUT
from constitutive.export.umat_generator import JACOBI_FORTRAN, LINE_LENGTH, UMATGenerationError
from constitutive.models import FiniteStrainJ2, Ogden
from constitutive.umat import UMAT, UMATCutback, UMATError
from constitutive.umat.check import check_umat

pytestmark = [
    pytest.mark.skipif(
        shutil.which("gfortran") is None, reason="gfortran is not installed (apt-get install -y gfortran)"
    ),
    pytest.mark.usefixtures("umat_cache"),  # a fresh compiled-UMAT cache for the module (conftest)
]
TOL = 1e-10
STRICT_FLAGS = ("-O2", "-fPIC", "-Wall", "-Werror")
I3 = torch.eye(3, dtype=torch.float64)
ORDER = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))

MODELS = {
    "linear": FiniteStrainJ2(200e3, 0.3, 300.0, 2e3),
    "voce": FiniteStrainJ2(200e3, 0.3, 300.0, 1e3, hardening="voce", Q=150.0, b=12.0),
    "swift": FiniteStrainJ2(200e3, 0.3, None, hardening="swift", K=600.0, eps0=0.01, n=0.2),
}
GENERATED = {name: generate_umat(model) for name, model in MODELS.items()}


_FILES: dict[str, str] = {}


def _source_file(name: str, source: str | None = None) -> str:
    if name not in _FILES:
        path = f"{tempfile.mkdtemp(prefix='umatfj2-')}/{name}.f"
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(GENERATED[name].source if source is None else source)
        _FILES[name] = path
    return _FILES[name]


def _umat(name: str, hypothesis: str = "3d", **kw: object) -> UMAT:
    g = GENERATED[name]
    kw = {"nstatv": g.nstatv, "finite_strain": True, **kw}
    return UMAT(_source_file(name), kw.pop("props", g.props), hypothesis=hypothesis, flags=STRICT_FLAGS, **kw)


def _cp_inv(statev: torch.Tensor) -> torch.Tensor:
    """Cp^-1 = I + STATEV(1:6) (11 22 33 12 13 23), the header's layout."""
    C = I3.clone()
    for k, (i, j) in enumerate(ORDER):
        C[i, j] = C[j, i] = C[i, j] + statev[k]
    return C


def _rotation(angle: float, axis: tuple[float, float, float]) -> torch.Tensor:
    a = torch.tensor(axis, dtype=torch.float64)
    a = a / torch.linalg.vector_norm(a)
    W = torch.zeros(3, 3, dtype=torch.float64)
    W[0, 1], W[0, 2], W[1, 2] = -a[2], a[1], -a[0]
    return torch.linalg.matrix_exp(angle * (W - W.T))


def _paths() -> dict[str, torch.Tensor]:
    """F histories ``(n, 3, 3)``: simple shear to gamma = 2 (from F = I), uniaxial tension to a 50 % stretch
    (isochoric guess for the lateral stretches: two equal eigenvalues of b_e), and a non-proportional path -- stretch
    and shear, a reversal through elastic unloading into reverse yielding, a turn to another direction -- with a
    rotation growing to 1.2 rad superposed."""
    shear = I3.repeat(13, 1, 1)
    shear[:, 0, 1] = torch.linspace(0.0, 2.0, 13, dtype=torch.float64)
    lam = torch.linspace(1.0, 1.5, 11, dtype=torch.float64)[1:]
    uni = torch.diag_embed(torch.stack([lam, lam**-0.5, lam**-0.5], -1))
    d1 = torch.tensor([[0.10, 0.15, 0.0], [0.05, -0.04, 0.02], [0.0, 0.03, -0.05]], dtype=torch.float64)
    d2 = torch.tensor([[-0.03, 0.0, 0.12], [0.0, 0.08, -0.06], [0.1, 0.0, -0.02]], dtype=torch.float64)
    amounts = [0.25, 0.5, 0.75, 1.0, 0.98, 0.9, 0.5, 0.0, -0.5, -1.0]
    Fs = [I3 + a * d1 for a in amounts] + [I3 - d1 + b * d2 for b in (0.5, 1.0, 1.5, 2.0)]
    rot = [_rotation(1.2 * k / len(Fs), (1.0, 2.0, 0.5)) for k in range(1, len(Fs) + 1)]
    return {"simple shear": shear, "uniaxial": uni, "non-proportional": torch.stack([R @ F for R, F in zip(rot, Fs)])}


PATHS = _paths()


def _rel(a: torch.Tensor, b: torch.Tensor, scale: float) -> float:
    return float((a - b).abs().max()) / scale


# --------------------------------------------------------------------------------------- source and header
def test_sources_compile_wall_werror_in_72_columns_with_one_jacobi_routine():
    for name, g in GENERATED.items():
        assert max(len(line) for line in g.source.splitlines()) <= LINE_LENGTH, name
        UMAT(_source_file(name), g.props, nstatv=g.nstatv, finite_strain=True, flags=STRICT_FLAGS)  # compiles
        assert g.finite_strain and g.nstatv == 7 and g.source.count("SUBROUTINE UGEIG") == 1
        assert JACOBI_FORTRAN.strip() in g.source  # the shared routine, verbatim
    ogden = umat_source(Ogden([1.0, 0.2], [2.0, -2.0], K=5.0))
    assert ogden.count("SUBROUTINE UGEIG") == 1 and JACOBI_FORTRAN.strip() in ogden
    head = GENERATED["voce"].source.split("SUBROUTINE UMAT")[0]
    for line in (
        "Model: FiniteStrainJ2(E=200000, nu=0.3, sigma_y=300, H=1000",
        "PROPS(1) E = 200000.0: Young's modulus [stress]",
        "PROPS(5) Q = 150.0",
        "PROPS(6) b = 12.0",
        "STATEV(1) Cp_inv 11 - I",
        "STATEV(6) Cp_inv 23 - I",
        "STATEV(7) alpha: equivalent plastic strain",
        "*USER MATERIAL, CONSTANTS=6",
        "*DEPVAR with 7",
        "needs NLGEOM=YES",
    ):
        assert line in " ".join(head.replace("C     ", "").split("\n")), line
    assert "complex step" not in head and "Voce" in head
    assert [n for n, _ in STATEV_LAYOUT] == [f"Cp_inv {lab} - I" for lab in ("11", "22", "33", "12", "13", "23")] + [
        "alpha"
    ]
    with pytest.raises(UMATGenerationError, match="Python callable"):
        generate_umat(FiniteStrainJ2(200e3, 0.3, 300.0, hardening=lambda a: 100.0 * a**2))


# -------------------------------------------------------------------------------------- against the model
@pytest.mark.parametrize(
    ("law", "path"),
    [("linear", p) for p in PATHS] + [("voce", p) for p in PATHS] + [("swift", "non-proportional")],
)
def test_matches_model_increment_by_increment(law, path):
    """sigma, DDSDDE (Jaumann, over J), Cp^-1 and alpha against FiniteStrainJ2.update at every increment, from the
    same state sequence (each code carries its own); DDSDDE symmetric; det Cp^-1 = 1; plastic and elastic steps
    both occur."""
    model, umat = MODELS[law], _umat(law)
    us, ms = umat.initial_state(), model.initial_state()
    alphas = []
    for F in PATHS[path]:
        su, us, Cu = umat.update(F, us, 1.0)
        sm, ms, Cm = model.update(F, ms)
        assert _rel(su, sm, max(float(sm.abs().max()), 1e-3)) <= TOL, (path, "stress")
        assert _rel(Cu, Cm, float(Cm.abs().max())) <= TOL, (path, "DDSDDE")
        D = umat.tangent_to_matrix(Cu)
        assert _rel(D, D.T, float(D.abs().max())) <= 1e-13
        sv = us["statev"]
        assert _rel(_cp_inv(sv), ms["Cp_inv"], float(ms["Cp_inv"].abs().max())) <= TOL, (path, "Cp_inv")
        assert abs(float(sv[6] - ms["alpha"])) <= TOL * max(float(ms["alpha"]), 1e-12), (path, "alpha")
        assert abs(float(torch.linalg.det(_cp_inv(sv))) - 1.0) <= 1e-13
        alphas.append(float(sv[6]))
    assert alphas[-1] > 0.1  # deep in the plastic range, not a trivial check
    if path == "non-proportional":  # elastic unloading (alpha held) after yielding, then reverse yielding
        held = [k for k in range(1, len(alphas)) if alphas[k] == alphas[k - 1] > 0]
        assert held and alphas[-1] > alphas[held[-1]]


def test_equal_and_nearly_equal_eigenvalues_of_the_trial_strain():
    """One step from the virgin state where b_e trial has equal eigenvalues (F = I, hydrostatic, uniaxial, rotated;
    the Daleckii-Krein limit in both codes) or nearly equal ones (relative gaps 1e-5 and 1e-6 in a stretch: just
    above and below the coincidence threshold eps^(1/3) in b), elastic and plastic: 1e-10 (measured <= 2e-12)."""
    model, umat = MODELS["voce"], _umat("voce")
    R = _rotation(0.7, (1.0, -0.5, 2.0))
    diag = lambda *v: torch.diag(torch.tensor(v, dtype=torch.float64))  # noqa: E731
    F = torch.stack(
        [I3, diag(1.2, 1.2, 0.8), R @ diag(1.01, 1.01, 1.01), R @ diag(1.3, 0.9, 0.9) @ R.T]
        + [R @ diag(1.2, 1.2 * (1 + g), 0.8) for g in (1e-5, 1e-6)]
    )
    su, st_u, Cu = umat.update(F, umat.initial_state((6,)), 1.0)
    sm, st_m, Cm = model.update(F, model.initial_state((6,)))
    for k in range(6):
        assert _rel(su[k], sm[k], max(float(sm[k].abs().max()), 1e-3)) <= TOL, k
        assert _rel(Cu[k], Cm[k], float(Cm[k].abs().max())) <= TOL, k
        assert abs(float(st_u["statev"][k, 6] - st_m["alpha"][k])) <= TOL * max(float(st_m["alpha"][k]), 1e-12)
    assert int((st_m["alpha"] > 0).sum()) == 4  # four plastic points, two elastic


@pytest.mark.parametrize("hypothesis", ["plane_strain", "axisymmetric"])
def test_two_dimensional_elements(hypothesis):
    """NTENS 4: the 11 22 33 12 slots of the 3-D response along an in-plane F path (F33 = 1 in plane strain, a
    hoop stretch in axisymmetry)."""
    model, umat = MODELS["voce"], _umat("voce", hypothesis)
    us, ms = umat.initial_state(), model.initial_state()
    for k in range(1, 6):
        F = I3.clone()
        F[0, 0], F[0, 1], F[1, 0] = 1.0 + 0.06 * k, 0.12 * k, -0.03 * k
        F[2, 2] = 1.0 if hypothesis == "plane_strain" else 1.0 - 0.02 * k
        su, us, Cu = umat.update(F, us, 1.0)
        sm, ms, Cm = model.update(F, ms)
        assert _rel(umat.to_vector(su, "stress"), umat.to_vector(sm, "stress")[:4], float(sm.abs().max())) <= TOL
        Dm = umat.tangent_to_matrix(Cm)
        assert _rel(umat.tangent_to_matrix(Cu), Dm, float(Dm.abs().max())) <= TOL
    assert float(ms["alpha"]) > 0.05 and _rel(_cp_inv(us["statev"]), ms["Cp_inv"], 1.0) <= TOL


def test_bridge_tangent_check_passes():
    report = check_umat(_umat("voce"), increments=3)
    assert report.passed, str(report)


# ------------------------------------------------------------------------------------------ refusals
def test_runtime_checks_of_the_generated_code():
    g = GENERATED["voce"]
    F = I3.clone()
    F[0, 1] = 0.3
    for kw, message in (
        ({"props": g.props[:-1]}, "NPROPS 5"),
        ({"nstatv": 6}, "NSTATV 6"),
        ({"finite_strain": False}, "NLGEOM=YES"),
    ):
        umat = _umat("voce", **kw)
        with pytest.raises(UMATError, match=message):
            umat.update(F if umat.finite_strain else torch.zeros(3, 3, dtype=torch.float64), umat.initial_state(), 1.0)
    umat = _umat("voce")
    bad = umat.initial_state()
    bad["statev"] = bad["statev"].clone()
    bad["statev"][0] = -2.0  # Cp^-1 11 = -1
    with pytest.raises(UMATError, match="not positive definite"):
        umat.update(F, bad, 1.0)


def test_failed_local_newton_asks_for_a_cutback_and_keeps_the_state():
    """max_iter = 1: the model raises ConvergenceError, the UMAT sets PNEWDT = 0.5 before touching STATEV."""
    from constitutive.models import ConvergenceError

    model = MODELS["voce"].with_parameters(max_iter=1)
    g = generate_umat(model)
    GENERATED["voce-1"] = g
    umat = UMAT(_source_file("voce-1"), g.props, nstatv=7, finite_strain=True, flags=STRICT_FLAGS)
    F = I3.clone()
    F[0, 1] = 0.3
    state = umat.initial_state()
    state["statev"] = state["statev"].clone()
    state["statev"][6] = 0.01
    before = {k: v.clone() for k, v in state.items()}
    with pytest.raises(UMATCutback, match="PNEWDT"):
        umat.update(F, state, 1.0)
    assert all(torch.equal(before[k], state[k]) for k in state)
    with pytest.raises(ConvergenceError):
        model.update(F, model.initial_state())


# ------------------------------------------------------------------------------------------------------ CLI
def test_cli_export_umat_for_a_material_file(tmp_path, capsys):
    from constitutive.cli import main
    from constitutive.models import load

    toml = tmp_path / "fj2.toml"
    toml.write_text(
        '[material]\nmodel = "FiniteStrainJ2"\nname = "test steel"\nunits = "MPa"\n\n'
        "[parameters]\nE = 200000.0\nnu = 0.3\nsigma_y = 300.0\nH = 1000.0\nQ = 150.0\nb = 12.0\n\n"
        '[options]\nhardening = "voce"\n',
        encoding="utf-8",
    )
    out = tmp_path / "fj2.f"
    assert main(["export", "umat", str(toml), "-o", str(out)]) == 0
    assert "NPROPS 6, NSTATV 7, NLGEOM=YES" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert text == umat_source(load(str(toml)), units="MPa") and "Units: MPa" in text
    assert text.split("SUBROUTINE UMAT")[1] == GENERATED["voce"].source.split("SUBROUTINE UMAT")[1]
    assert math.isclose(GENERATED["voce"].props[4], 150.0)
