"""Generated UMATs (constitutive.export.umat_source, in constitutive.export.umat_generator): every generated source
compiles under gfortran -Wall -Werror in 72-column fixed form, and, driven through the UMAT bridge, agrees with the
Python model along cyclic multiaxial paths (stress, state, DDSDDE to 1e-12 relative) in 3-D, plane strain and
axisymmetry; the bridge's finite-difference tangent check passes. Needs gfortran; the tests skip, saying so, only
where it is absent."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
import torch

from constitutive import __version__
from constitutive.export import umat_source
from constitutive.export.umat_generator import (
    LINE_LENGTH,
    UMATGenerationError,
    generate_umat,
    register_umat_generator,
    umat_generator,
)
from constitutive.models import (
    Anisotropic,
    ArmstrongFrederick,
    ArrudaBoyce,
    Chaboche,
    Cubic,
    GeneralizedMaxwell,
    Gent,
    J2Plasticity,
    LinearElastic,
    MooneyRivlin,
    NeoHookean,
    Ogden,
    Orthotropic,
    Perzyna,
    Prager,
    SaintVenantKirchhoff,
    Swift,
    TransverselyIsotropic,
    Voce,
    Yeoh,
    from_stress,
)
from constitutive.umat import UMAT, CompileError, UMATError, compile_umat
from constitutive.umat.check import check_umat, compare_umat

pytestmark = [
    pytest.mark.skipif(
        shutil.which("gfortran") is None, reason="gfortran is not installed (apt-get install -y gfortran)"
    ),
    pytest.mark.usefixtures("umat_cache"),  # a fresh compiled-UMAT cache for the module (conftest)
]
TOL = 1e-12
#: Every UMAT is compiled as gfortran's default fixed form (72 columns: no line-length flag), warnings as errors.
STRICT_FLAGS = ("-O2", "-fPIC", "-Wall", "-Werror")


def _rotation() -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.tensor([[1.0, 2.0, 0.0], [0.3, 1.0, 0.5], [0.2, 0.1, 1.0]], dtype=torch.float64))
    return q.T


def _anisotropic_matrix() -> torch.Tensor:
    A = torch.tensor(
        [[3.0, 1, 0.5, 0.1, 0.2, 0.05], [1, 2.5, 0.7, 0.0, 0.1, 0.2], [0.5, 0.7, 2.0, 0.15, 0.0, 0.1],
         [0.1, 0.0, 0.15, 0.9, 0.1, 0.05], [0.2, 0.1, 0.0, 0.1, 0.8, 0.02], [0.05, 0.2, 0.1, 0.05, 0.02, 0.7]],
        dtype=torch.float64,
    )  # fmt: skip
    return 1e4 * A


ELASTIC = {
    "LinearElastic": LinearElastic(210e3, 0.3),
    "TransverselyIsotropic": TransverselyIsotropic(
        E_p=10e3, E_t=150e3, nu_p=0.35, nu_pt=0.02, G_t=5e3, axis=torch.tensor([0.2, 0.3, 1.0])
    ),
    "Orthotropic": Orthotropic(
        E1=150e3, E2=10e3, E3=12e3, nu12=0.3, nu13=0.25, nu23=0.4, G12=5e3, G13=6e3, G23=3e3, axes=_rotation()
    ),
    "Cubic": Cubic(C11=168e3, C12=121e3, C44=75e3, axes=_rotation()),
    "Anisotropic": Anisotropic(_anisotropic_matrix()),
}
HYPERELASTIC = {
    "NeoHookean": NeoHookean(1.0, 3.0),
    "NeoHookean-cg": NeoHookean(1.0, 3.0, form="ciarlet_geymonat"),
    "NeoHookean-iso-log": NeoHookean(1.0, 3.0, form="isochoric", volumetric="log"),
    "SaintVenantKirchhoff": SaintVenantKirchhoff(2.0, 1.0),
    "MooneyRivlin": MooneyRivlin(0.4, 0.1, K=5.0),
    "Yeoh-simo_taylor": Yeoh(0.5, -0.05, 0.01, K=10.0, volumetric="simo_taylor"),
    "ArrudaBoyce": ArrudaBoyce(1.0, 8.0, K=10.0),
    "Gent": Gent(1.0, 20.0, K=10.0),
    "Ogden": Ogden([1.0, 0.2, -0.1], [2.0, 4.0, -2.0], K=5.0),
    "Ogden-log": Ogden([0.8], [3.0], K=4.0, volumetric="log"),
}
PATH_DEPENDENT = {
    "J2-linear": J2Plasticity(210e3, 0.3, 250.0, 1e3),
    "J2-voce-prager": J2Plasticity(210e3, 0.3, 250.0, 1e3, hardening=Voce(100.0, 20.0), kinematic=Prager(2e3)),
    "J2-swift": J2Plasticity(210e3, 0.3, None, hardening=Swift(600.0, 0.01, 0.2)),
    "J2-armstrong-frederick": J2Plasticity(210e3, 0.3, 250.0, kinematic=ArmstrongFrederick(2e4, 100.0)),
    "J2-voce-chaboche": J2Plasticity(
        210e3, 0.3, 250.0, 500.0, hardening=Voce(100.0, 20.0), kinematic=Chaboche([2e4, 3e3], [200.0, 10.0])
    ),
    "Perzyna-linear": Perzyna(210e3, 0.3, 250.0, 1e3, eta=0.5, m=1.0),
    "Perzyna-swift-af": Perzyna(
        210e3, 0.3, None, eta=0.2, m=2.0, hardening=Swift(600.0, 0.01, 0.2), kinematic=ArmstrongFrederick(5e3, 50.0)
    ),
    "GeneralizedMaxwell": GeneralizedMaxwell(
        K_inf=1e3, G_inf=300.0, prony_shear=[(200.0, 0.5), (100.0, 5.0)], prony_bulk=[(300.0, 0.2)]
    ),
}
ALL = {**ELASTIC, **HYPERELASTIC, **PATH_DEPENDENT}
GENERATED = {name: generate_umat(model) for name, model in ALL.items()}


def _umat(name: str, hypothesis: str = "3d") -> UMAT:
    g = GENERATED[name]
    return UMAT(
        _source_file(name), g.props, nstatv=g.nstatv, hypothesis=hypothesis, finite_strain=g.finite_strain,
        flags=STRICT_FLAGS,
    )  # fmt: skip


_FILES: dict[str, str] = {}


def _source_file(name: str) -> str:
    if name not in _FILES:
        import tempfile

        d = tempfile.mkdtemp(prefix="umatgen-")
        path = f"{d}/{name.replace('-', '_')}.f"
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(GENERATED[name].source)
        _FILES[name] = path
    return _FILES[name]


# ------------------------------------------------------------------------------------------ compilation, header
def test_every_source_compiles_wall_werror_in_72_columns():
    """Every source compiles in gfortran's default fixed form (72 columns) with -Wall -Werror (the flags every
    UMAT of these tests is built with), and no line is longer than 72 characters."""
    for name, g in GENERATED.items():
        assert max(len(line) for line in g.source.splitlines()) <= LINE_LENGTH, name
        try:
            compile_umat(_source_file(name), STRICT_FLAGS)
        except CompileError as exc:  # pragma: no cover - the message is the compiler's
            pytest.fail(f"{name}: {exc}")
    broken = GENERATED["LinearElastic"].source.replace("      DIMENSION E6(6)", "      DIMENSION E6(6), UNUSED(2)")
    with pytest.raises(CompileError, match="Werror"):  # the flags do turn a warning into a failure
        import tempfile

        d = tempfile.mkdtemp(prefix="umatgen-")
        with open(f"{d}/broken.f", "w", encoding="utf-8") as fh:
            fh.write(broken)
        compile_umat(f"{d}/broken.f", STRICT_FLAGS)


def test_header_states_model_props_statev_units_version():
    g = GENERATED["J2-voce-chaboche"]
    head = g.source.split("SUBROUTINE UMAT")[0]
    assert f"constitutive {__version__}" in head
    assert "Model: J2Plasticity(E=210000" in head
    assert g.nprops == 10 and g.nstatv == 7 + 12
    for k, line in enumerate(
        [
            "PROPS(1) E = 210000.0: Young's modulus [stress]",
            "PROPS(2) nu = 0.3: Poisson's ratio [1]",
            "PROPS(5) Q = 100.0: Voce saturation stress increase [stress]",
            "PROPS(7) C(1) = 20000.0",
            "PROPS(10) gamma(2) = 10.0",
        ]  # fmt: skip
    ):
        assert line in head, (k, line)
    assert "STATEV(7) alpha: equivalent plastic strain" in head
    assert "STATEV(19) X2 23: back stress 2" in head
    assert "*USER MATERIAL, CONSTANTS=10" in head and "*DEPVAR with 19" in head
    assert "UNSYMM" in head  # Armstrong-Frederick terms make DDSDDE unsymmetric
    assert "72 columns" in head
    assert "finite strain" not in head.lower() or "NLGEOM" not in head
    hyper = GENERATED["MooneyRivlin"].source.split("SUBROUTINE UMAT")[0]
    assert "NLGEOM=YES" in hyper and "complex step" in hyper and "PROPS(3) K = 5.0" in hyper
    assert umat_source(ALL["LinearElastic"]) == GENERATED["LinearElastic"].source
    assert "Units: unspecified (any consistent system)" in head
    assert "Units: N, mm, s" in umat_source(ALL["J2-linear"], units="N, mm, s")
    with pytest.raises(ValueError, match="units"):
        umat_source(ALL["J2-linear"], units=" ")


# -------------------------------------------------------------------------------------------- elastic models
def _strain_path(n: int, a: float) -> torch.Tensor:
    """A cyclic multiaxial strain path ``(n, 3, 3)`` (every component, 1.5 cycles, non-proportional)."""
    t = torch.arange(1, n + 1, dtype=torch.float64) * (3.0 * math.pi / n)
    comps = [
        torch.sin(t), -0.5 * torch.sin(t) + 0.3 * torch.sin(2 * t), 0.2 * torch.cos(t) - 0.2,
        0.4 * torch.sin(t + 1.0) - 0.4 * math.sin(1.0), 0.3 * torch.sin(2 * t), 0.25 * torch.cos(3 * t) - 0.25,
    ]  # fmt: skip
    eps = torch.zeros(n, 3, 3, dtype=torch.float64)
    for c, (i, j) in zip(comps, [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]):
        eps[:, i, j] = eps[:, j, i] = a * c
    return eps


def _planar(x: torch.Tensor, hypothesis: str) -> torch.Tensor:
    """Zero the components a 2-D element does not have (13 and 23)."""
    if hypothesis == "3d":
        return x
    x = x.clone()
    x[..., 0, 2] = x[..., 2, 0] = x[..., 1, 2] = x[..., 2, 1] = 0.0
    return x


def _close(a: torch.Tensor, b: torch.Tensor, scale: float, what: str) -> None:
    err = float((a - b).abs().max()) / scale
    assert err <= TOL, f"{what}: relative difference {err:.2e}"


def _slots(umat: UMAT, sigma: torch.Tensor, C: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    n = umat.ntens
    return umat.to_vector(sigma, "stress")[..., :n], umat.tangent_to_matrix(C)


@pytest.mark.parametrize("name", list(ELASTIC))
@pytest.mark.parametrize("hypothesis", ["3d", "plane_strain", "axisymmetric"])
def test_elastic_matches_model(name, hypothesis):
    model, umat = ALL[name], _umat(name, hypothesis)
    eps = _planar(_strain_path(12, 2e-3), hypothesis)
    sigma_u, _, C_u = umat.update(eps, umat.initial_state((12,)), 1.0)
    s_m, C_m = model.stress_and_tangent(eps)
    (su, Du), (sm, Dm) = _slots(umat, sigma_u, C_u), _slots(umat, s_m, C_m)
    _close(su, sm, float(sm.abs().max()), f"{name} {hypothesis} stress")
    _close(Du, Dm, float(Dm.abs().max()), f"{name} {hypothesis} DDSDDE")


# ------------------------------------------------------------------------------------------- hyperelasticity
def _F_path(n: int, a: float, hypothesis: str) -> torch.Tensor:
    t = torch.arange(1, n + 1, dtype=torch.float64) * (3.0 * math.pi / n)
    G = torch.stack(
        [torch.stack([torch.sin(t), 0.6 * torch.sin(2 * t), 0.3 * torch.cos(t) - 0.3], -1),
         torch.stack([-0.4 * torch.sin(t), -0.5 * torch.sin(t), 0.2 * torch.sin(t + 1)], -1),
         torch.stack([0.25 * torch.sin(3 * t), -0.3 * torch.sin(t), 0.3 * torch.cos(2 * t) - 0.3], -1)], -2,
    )  # fmt: skip
    F = torch.eye(3, dtype=torch.float64) + a * G
    if hypothesis != "3d":
        F[..., 0, 2] = F[..., 1, 2] = F[..., 2, 0] = F[..., 2, 1] = 0.0
        if hypothesis == "plane_strain":
            F[..., 2, 2] = 1.0
    return F


@pytest.mark.parametrize("name", list(HYPERELASTIC))
def test_hyperelastic_matches_cauchy_and_abaqus_tangent(name):
    """Cauchy stress and the Jaumann DDSDDE from DFGRD1 against the model's cauchy_and_abaqus_tangent, along a
    cyclic F path (stretch, compression, shear; J between about 0.7 and 1.4) in every hypothesis; F = I included."""
    model = ALL[name]
    for hypothesis in ("3d", "plane_strain", "axisymmetric"):
        umat = _umat(name, hypothesis)
        F = torch.cat([torch.eye(3, dtype=torch.float64)[None], _F_path(10, 0.25, hypothesis)])
        sigma_u, _, C_u = umat.update(F, umat.initial_state((F.shape[0],)), 1.0)
        s_m, C_m = model.cauchy_and_abaqus_tangent(F)
        (su, Du), (sm, Dm) = _slots(umat, sigma_u, C_u), _slots(umat, s_m, C_m)
        _close(su, sm, float(sm.abs().max()), f"{name} {hypothesis} Cauchy stress")
        _close(Du, Dm, float(Dm.abs().max()), f"{name} {hypothesis} Jaumann DDSDDE")


def test_ogden_at_equal_and_nearly_equal_stretches():
    """Equal stretches (F = I, equibiaxial, a rotated uniaxial state with two equal lateral stretches) use the
    Daleckii-Krein limit in both codes: 1e-12. Nearly equal ones (relative gap 1e-5 in the stretches, just above the
    coincidence threshold eps^(1/3) in C's eigenvalues) lose digits in the divided difference (y_a - y_b)/(c_a -
    c_b) in both codes alike: agreement 1e-10 there (the documented tolerance)."""
    model, umat = ALL["Ogden"], _umat("Ogden")
    R = torch.linalg.qr(torch.tensor([[1.0, 0.4, -0.3], [0.2, 1.0, 0.1], [0.5, -0.2, 1.0]], dtype=torch.float64))[0]
    diag = lambda *v: torch.diag(torch.tensor(v, dtype=torch.float64))  # noqa: E731
    for F, tol in (
        (torch.stack([torch.eye(3, dtype=torch.float64), diag(1.2, 1.2, 0.8), diag(1.1, 1.1, 1.1) @ R,
                      diag(1.3, 0.9, 0.9) @ R, R @ diag(0.8, 1.25, 0.8)]), TOL),
        (torch.stack([diag(1.2, 1.2 * (1 + 1e-5), 0.8) @ R, diag(1.2, 1.2 * (1 + 1e-6), 0.8) @ R]), 1e-10),
    ):  # fmt: skip
        sigma_u, _, C_u = umat.update(F, umat.initial_state((F.shape[0],)), 1.0)
        s_m, C_m = model.cauchy_and_abaqus_tangent(F)
        for k in range(F.shape[0]):
            assert float((sigma_u[k] - s_m[k]).abs().max()) <= TOL * float(s_m[k].abs().max()) + 1e-15
            assert float((C_u[k] - C_m[k]).abs().max()) <= tol * float(C_m[k].abs().max())


# ---------------------------------------------------------------------------------------- path-dependent models
def _model_state_from_statev(name: str, statev: torch.Tensor) -> dict[str, torch.Tensor]:
    """The model's state from the STATEV layout of the header (tensor components in Abaqus order)."""
    order = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]

    def tensor(v: torch.Tensor, shear: float) -> torch.Tensor:
        T = torch.zeros(3, 3, dtype=torch.float64)
        for k, (i, j) in enumerate(order):
            T[i, j] = T[j, i] = v[k] * (shear if i != j else 1.0)
        return T

    if name == "GeneralizedMaxwell":
        model = ALL[name]
        ns = model.n_shear
        h = torch.stack([tensor(statev[6 * k : 6 * k + 6], 1.0) for k in range(ns)])
        return {"shear_stress": h, "bulk_stress": statev[6 * ns :]}
    nb = (statev.numel() - 7) // 6
    X = [tensor(statev[7 + 6 * k : 13 + 6 * k], 1.0) for k in range(nb)]
    return {
        "eps_p": tensor(statev[:6], 0.5),
        "alpha": statev[6],
        "backstress": torch.stack(X) if X else torch.zeros(0, 3, 3, dtype=torch.float64),
    }


@pytest.mark.parametrize("name", list(PATH_DEPENDENT))
def test_path_dependent_matches_model_along_cyclic_path(name):
    """Stress, every state variable and DDSDDE, increment by increment, along a cyclic non-proportional path with
    all six strain components (several reversals, deep in the plastic range), 3-D."""
    model = ALL[name]
    umat = _umat(name)
    a = 6e-3 if name != "GeneralizedMaxwell" else 1e-2
    path = _strain_path(30, a)
    us, ms = umat.initial_state(), model.initial_state()
    scale_s = scale_c = 0.0
    rows = []
    for eps in path:
        su, us, Cu = umat.update(eps, us, 0.05)
        sm, ms, Cm = model.update(eps, ms, 0.05)
        rows.append((su, sm, Cu, Cm, _model_state_from_statev(name, us["statev"]), ms))
        scale_s = max(scale_s, float(sm.abs().max()))
        scale_c = max(scale_c, float(Cm.abs().max()))
    state_scale = {k: max(float(r[5][k].abs().max()) if r[5][k].numel() else 0.0 for r in rows) for k in rows[0][5]}
    plastic = 0
    for su, sm, Cu, Cm, st_u, st_m in rows:
        _close(su, sm, scale_s, f"{name} stress")
        _close(Cu, Cm, scale_c, f"{name} DDSDDE")
        for key, vm in st_m.items():
            if key != "strain" and vm.numel():  # the total strain is STRAN, not a state variable of the UMAT
                _close(st_u[key], vm, state_scale[key], f"{name} state {key!r}")
        plastic += int("alpha" in st_m and float(st_m["alpha"]) > 0)
    if "alpha" in rows[-1][5]:
        assert plastic > 20 and float(rows[-1][5]["alpha"]) > 5e-3  # the path is plastic, not a trivial check


@pytest.mark.parametrize("name", ["J2-voce-chaboche", "Perzyna-swift-af", "GeneralizedMaxwell"])
@pytest.mark.parametrize("hypothesis", ["plane_strain", "axisymmetric"])
def test_path_dependent_two_dimensional_via_compare_umat(name, hypothesis):
    """NTENS 4: the bridge's compare_umat (mixed stress/strain control on the default paths), with alpha in
    STATEV(7) for the plasticity models."""
    umat = _umat(name, hypothesis)
    state_map = {} if name == "GeneralizedMaxwell" else {"alpha": 6}
    rep = compare_umat(umat, ALL[name], state_map=state_map, increments=4)
    assert rep.max_tangent_difference <= TOL
    for row in rep.rows:  # relative to the stress of the increment; reversals through zero stress excepted
        assert row["stress"] <= TOL or name == "GeneralizedMaxwell", row
        for v in row["state"].values():
            assert v <= TOL or row["state_values"]["alpha"] == 0.0


@pytest.mark.parametrize(
    "name", ["J2-voce-chaboche", "Perzyna-swift-af", "GeneralizedMaxwell", "Orthotropic", "Gent", "Ogden"]
)
def test_bridge_tangent_check_passes(name):
    report = check_umat(_umat(name), increments=3)
    assert report.passed, str(report)


# ---------------------------------------------------------------------------------------- errors and registry
def test_runtime_checks_of_the_generated_code():
    g = GENERATED["J2-linear"]
    src = _source_file("J2-linear")
    with pytest.raises(UMATError, match="NPROPS"):
        UMAT(src, g.props[:-1], nstatv=g.nstatv).update(torch.zeros(3, 3), UMAT(src, g.props[:-1], nstatv=7)
                                                         .initial_state(), 1.0)  # fmt: skip
    short = UMAT(src, g.props, nstatv=3)
    with pytest.raises(UMATError, match="NSTATV"):
        short.update(torch.zeros(3, 3, dtype=torch.float64), short.initial_state(), 1.0)
    ps = UMAT(src, g.props, nstatv=g.nstatv, hypothesis="plane_stress")
    with pytest.raises(UMATError, match="plane stress"):
        ps.update(torch.zeros(3, 3, dtype=torch.float64), ps.initial_state(), 1.0)
    visc = _umat("Perzyna-linear")
    with pytest.raises(UMATError, match="DTIME"):
        visc.update(torch.zeros(3, 3, dtype=torch.float64), visc.initial_state(), 0.0)


def test_models_that_cannot_be_generated_say_so():
    user = from_stress(lambda eps: 2.0 * eps)
    with pytest.raises(UMATGenerationError, match="Python functions"):
        umat_source(user)
    with pytest.raises(UMATGenerationError, match="incompressible"):
        umat_source(Ogden([1.0, 0.2], [2.0, -2.0]))
    with pytest.raises(UMATGenerationError, match="incompressible"):
        umat_source(MooneyRivlin(0.4, 0.1))
    with pytest.raises(UMATGenerationError, match="Python callable"):
        umat_source(J2Plasticity(210e3, 0.3, 250.0, hardening=lambda a: 100.0 * a**2))
    with pytest.raises(ValueError, match="interface"):
        umat_source(ALL["LinearElastic"], interface="ansys")


def test_registry_lookup_by_mro():
    class Steel(LinearElastic):
        pass

    assert umat_generator(Steel(200e3, 0.3)) is umat_generator(ALL["LinearElastic"])
    g = generate_umat(Steel(200e3, 0.3))
    assert g.props == [200e3, 0.3] and "Model: Steel(" in g.source

    class Scaled(LinearElastic):
        pass

    def gen(model):
        out = umat_generator(ALL["LinearElastic"])(model)
        out.title = "scaled"
        return out

    register_umat_generator(Scaled, gen)
    try:
        assert "scaled" in umat_source(Scaled(1.0, 0.2))
    finally:
        from constitutive.export.umat_generator import _GENERATORS

        _GENERATORS.pop(Scaled)


def test_props_serve_any_parameter_set():
    """One source, other PROPS: the generated J2 code reads every constant from PROPS."""
    other = J2Plasticity(70e3, 0.33, 120.0, 500.0, hardening=Voce(60.0, 30.0), kinematic=Prager(1e3))
    g = generate_umat(other)
    assert g.source.split("SUBROUTINE UMAT")[1] == GENERATED["J2-voce-prager"].source.split("SUBROUTINE UMAT")[1]
    umat = UMAT(_source_file("J2-voce-prager"), g.props, nstatv=g.nstatv)
    eps = _strain_path(6, 4e-3)
    us, ms = umat.initial_state(), other.initial_state()
    for e in eps:
        su, us, _ = umat.update(e, us, 1.0)
        sm, ms, _ = other.update(e, ms, 1.0)
        _close(su, sm, float(sm.abs().max()), "stress")
    assert float(ms["alpha"]) > 0
    assert np.isfinite(g.props).all()


def test_docs_example_runs(tmp_path, monkeypatch):
    """The python block of the "Generated UMATs" section of docs/export.md runs as written."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "export.md").read_text(encoding="utf-8")
    section = text.split("## Generated UMATs", 1)[1]
    (block,) = re.findall(r"```python\n(.*?)\n```", section, flags=re.S)[:1]
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "docs/export.md", "exec"), {})
    assert (tmp_path / "j2_af.f").is_file()


# ------------------------------------------------------------------------------------------------------ CLI
def test_cli_export_umat_writes_and_refuses_to_overwrite(tmp_path, capsys):
    from constitutive.cli import main
    from constitutive.models import load

    out = tmp_path / "steel.f"
    assert main(["export", "umat", "steel_s355", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == umat_source(load("steel_s355"), units="MPa")
    assert "Units: MPa (the parameter file's)" in out.read_text(encoding="utf-8")
    assert "NPROPS" in capsys.readouterr().out
    out.write_text("keep me", encoding="utf-8")
    assert main(["export", "umat", "steel_s355", "-o", str(out)]) == 2
    assert "exists" in capsys.readouterr().err and out.read_text(encoding="utf-8") == "keep me"
    assert main(["export", "umat", "steel_s355", "-o", str(out), "--force", "--param", "E=200000"]) == 0
    assert "PROPS(1) E = 200000.0" in out.read_text(encoding="utf-8")
    j2 = tmp_path / "j2.f"
    assert main(["export", "umat", "steel_st1594_j2_voce_fit", "--param", "sigma_y=300", "-o", str(j2)]) == 0
    assert "PROPS(3) sigma_y = 300.0" in j2.read_text(encoding="utf-8") and "NSTATV 7" in capsys.readouterr().out
    rubber = tmp_path / "rubber.f"
    assert main(["export", "umat", "NeoHookean", "--param", "mu=1", "--param", "lmbda=100", "-o", str(rubber)]) == 0
    assert "NLGEOM=YES" in capsys.readouterr().out
    for argv, message in (
        (["export", "umat", "steel_s355"], "give -o FILE.f"),
        (["export", "umat", "-o", str(tmp_path / "x.f")], "needs the material"),
        (["export", "umat", "steel_s355", "--strain", "0.001,0,0,0,0,0", "-o", str(tmp_path / "x.f")], "--strain"),
        (["export", "umat", "MooneyRivlin", "--param", "C10=1", "--param", "C01=0.1", "-o", str(tmp_path / "x.f")],
         "incompressible"),
        (["export", "steel_s355", "extra", "--strain", "0.001,0,0,0,0,0"], "unexpected argument"),
    ):  # fmt: skip
        assert main(argv) == 2, argv
        assert message in capsys.readouterr().err, argv
    assert not (tmp_path / "x.f").exists()
