"""The model contracts (constitutive.contracts): which models satisfy which protocol, the errors of ``require``, the
engines recognising models by protocol (driver, tangent check, export, calibration), and calibration's default
bounds from the declared parameter ranges."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from constitutive import paths
from constitutive.calibrate import Experiment, calibrate
from constitutive.calibrate.parameters import _ParameterSpace
from constitutive.check import check_tangent
from constitutive.contracts import (
    FiniteStrainModel,
    FirstPiolaModel,
    NominalStressModel,
    PathDependentModel,
    SmallStrainModel,
    StressTangentMap,
    is_finite_strain,
    is_path_dependent,
    missing_members,
    require,
)
from constitutive.driver import drive
from constitutive.experiments.responses import _rubber_response
from constitutive.export import export_finite_strain, export_model
from constitutive.models import (
    GeneralizedMaxwell,
    J2Plasticity,
    LinearElastic,
    Material,
    MooneyRivlin,
    NeoHookean,
    Ogden,
    Perzyna,
    SaintVenantKirchhoff,
    from_energy,
    from_stress,
)
from constitutive.tensor import trace

DT = torch.float64
E_, NU, SY = 210e3, 0.3, 250.0


def _models() -> dict[str, Material]:
    return {
        "elastic": LinearElastic(E_, NU),
        "j2": J2Plasticity(E_, NU, SY),
        "perzyna": Perzyna(E_, NU, SY, eta=10.0, m=1.0),
        "maxwell": GeneralizedMaxwell(E_inf=1000.0, nu_inf=0.3, prony_shear=[(200.0, 1.0)]),
        "neo": NeoHookean(1.0, 5.0),
        "mr_incompressible": MooneyRivlin(0.3, 0.05),
        "ogden": Ogden([0.6, -0.01], [1.3, -2.0], 10.0),
        "svk": SaintVenantKirchhoff(5.0, 1.0),
        "user_energy": from_energy(lambda e, mu: mu * (e * e).sum(), {"mu": 1.0}, name="ContractEnergy"),
        "user_stress": from_stress(lambda e, mu: 2 * mu * e, {"mu": 1.0}, name="ContractStress"),
        "user_finite": from_energy(
            lambda C, mu: 0.5 * mu * (trace(C) - 3), {"mu": 1.0}, kinematics="finite", name="ContractFinite"
        ),
    }


PATH_DEPENDENT = {"j2", "perzyna", "maxwell"}
FINITE = {"neo", "mr_incompressible", "ogden", "svk", "user_finite"}


def test_every_model_satisfies_the_protocols_of_its_kind() -> None:
    for key, model in _models().items():
        assert isinstance(model, StressTangentMap) and isinstance(model, SmallStrainModel), key
        assert missing_members(model, SmallStrainModel) == [], key
        assert is_path_dependent(model) == (key in PATH_DEPENDENT), key
        assert isinstance(model, PathDependentModel) == (key in PATH_DEPENDENT), key
        assert is_finite_strain(model) == (key in FINITE), key
        assert isinstance(model, NominalStressModel) == (key in FINITE), key
        assert isinstance(model, FirstPiolaModel) == (key in FINITE), key


def test_require_names_the_model_the_missing_members_and_the_purpose() -> None:
    model = LinearElastic(E_, NU)
    require(model, SmallStrainModel, "anything")  # satisfied: no error
    with pytest.raises(TypeError) as info:
        require(model, PathDependentModel, "a history test")
    msg = str(info.value)
    assert msg.startswith("LinearElastic has no state_shapes, initial_state, check_state, update: a history test")
    assert "PathDependentModel interface" in msg
    with pytest.raises(ValueError, match="LinearElastic has no first_piola, first_elasticity"):
        require(model, FiniteStrainModel, "a finite-strain path", ValueError)
    assert missing_members(object(), StressTangentMap) == ["stress", "tangent"]


class _DuckElastic:
    """Neither a Material nor one of its subclasses: stress and tangent only (isotropic linear elasticity)."""

    def __init__(self) -> None:
        self.lam, self.mu = E_ * NU / ((1 + NU) * (1 - 2 * NU)), E_ / (2 * (1 + NU))

    def stress(self, eps: torch.Tensor) -> torch.Tensor:
        return self.lam * trace(eps)[..., None, None] * torch.eye(3, dtype=DT) + 2 * self.mu * eps

    def tangent(self, eps: torch.Tensor) -> torch.Tensor:
        return LinearElastic(E_, NU).tangent(eps)


class _DuckViscous:
    """A path-dependent model by its interface alone (no PathDependentMaterial): a 1-D-like viscous overstress
    on the deviator, σ = λ tr ε I + 2μ (ε - ε_v), ε_v' = (ε - ε_v)/τ, backward Euler."""

    strain_measure, stress_measure = "small strain ε", "Cauchy stress σ"
    dtype, device = DT, torch.device("cpu")

    def __init__(self, tau: float = 0.5) -> None:
        self.inner, self.tau = LinearElastic(E_, NU), tau

    def check_strain(self, strain, name="strain"):
        return self.inner.check_strain(strain, name)

    def to_dict(self):
        return {"model": "DuckViscous", "parameters": {"tau": self.tau}}

    def state_shapes(self):
        return {"ev": (3, 3)}

    def initial_state(self, batch_shape=()):
        return {"ev": torch.zeros(*batch_shape, 3, 3, dtype=DT)}

    def check_state(self, state, batch):
        return dict(state), torch.Size(batch)

    def update(self, strain, state, dt=None):
        h = 0.1 if dt is None else float(dt)
        a = h / (self.tau + h)
        ev = (1 - a) * state["ev"] + a * strain  # backward Euler of ev' = (eps - ev)/tau
        sig = self.inner.stress(strain - ev)
        return sig, {"ev": ev}, (1 - a) * self.inner.tangent(strain)

    def stress(self, strain):
        return self.update(strain, self.initial_state(strain.shape[:-2]))[0]

    def tangent(self, strain):
        return self.update(strain, self.initial_state(strain.shape[:-2]))[2]

    def stress_and_tangent(self, strain):
        s, _, C = self.update(strain, self.initial_state(strain.shape[:-2]))
        return s, C


def test_engines_recognise_models_by_their_interface() -> None:
    eps = torch.diag(torch.tensor([1e-3, -2e-4, 3e-4], dtype=DT))
    # driver: a duck-typed elastic map drives like the Material it imitates
    res = drive(_DuckElastic(), paths.uniaxial_stress([2e-3], increments=2))
    ref = drive(LinearElastic(E_, NU), paths.uniaxial_stress([2e-3], increments=2))
    assert torch.allclose(res.stress, ref.stress, rtol=0, atol=1e-9)
    # driver, check and export: a path-dependent model by protocol keeps its history
    duck = _DuckViscous()
    assert is_path_dependent(duck)
    res = drive(duck, paths.uniaxial_strain([2e-3], increments=4, duration=0.4))
    # backward Euler with h = 0.1, tau = 0.5 on the ramp: ev_n = (1 - a) ev_{n-1} + a eps_n, a = 1/6
    ev, a = 0.0, 0.1 / 0.6
    for n in range(1, 5):
        ev = (1 - a) * ev + a * 5e-4 * n
    assert float(res.state["ev"][-1, 0, 0]) == pytest.approx(ev, rel=1e-12)
    state = duck.initial_state(())
    state["ev"] = 0.5 * eps
    report = check_tangent(duck, eps, state=state, dt=0.2)
    assert report.passed, report
    exported = export_model(duck, eps, state=state, dt=0.2)
    sig = duck.update(eps, state, 0.2)[0]
    assert torch.allclose(torch.as_tensor(exported.stress[:3]), sig.diagonal(), rtol=1e-12)
    # finite-strain paths and export need the F-based maps: a clear error naming what is missing
    with pytest.raises(ValueError, match="J2Plasticity has no first_piola.*a finite-strain path needs a model with"):
        drive(J2Plasticity(E_, NU, SY), paths.uniaxial_stress([1.1], kinematics="finite"))
    with pytest.raises(ValueError, match="LinearElastic lacks cauchy, abaqus_tangent"):
        export_finite_strain(LinearElastic(E_, NU), torch.eye(3, dtype=DT))
    # calibration's rubber responses need nominal_stress
    with pytest.raises(TypeError, match="LinearElastic has no nominal_stress: fitting to uniaxial rubber data"):
        _rubber_response("uniaxial")(LinearElastic(E_, NU), torch.tensor([1.1], dtype=DT))


HERE = Path(__file__).resolve().parent / "umat"


_UMAT_CHECK = """
import sys
import torch
from constitutive import paths
from constitutive.check import check_tangent
from constitutive.contracts import FirstPiolaModel, PathDependentModel, is_finite_strain, is_path_dependent
from constitutive.contracts import missing_members
from constitutive.driver import drive
from constitutive.models import LinearElastic, NeoHookean
from constitutive.umat import UMAT

here, E, NU = sys.argv[1], 210e3, 0.3
u = UMAT(here + "/elastic.f", [E, NU])
assert isinstance(u, PathDependentModel) and missing_members(u, PathDependentModel) == []
assert not is_finite_strain(u)
eps = torch.diag(torch.tensor([1e-3, -2e-4, 3e-4], dtype=torch.float64))
# update through the base class's overloads (need_tangent accepted) gives the elastic answer
sig, _, C = u.update(eps, u.initial_state(()), None, need_tangent=False)
assert C is not None  # the UMAT computes DDSDDE on every call
assert torch.allclose(sig, LinearElastic(E, NU).stress(eps), rtol=1e-12, atol=1e-9)
assert check_tangent(u, eps).passed
# with NLGEOM it offers what the driver's finite-strain paths call, not the whole hyperelastic interface
uf = UMAT(here + "/neohooke.f", [0.5, 40.0], finite_strain=True)
assert isinstance(uf, FirstPiolaModel) and is_path_dependent(uf) and not is_finite_strain(uf)
res = drive(uf, paths.uniaxial_stress([0.2], increments=2, kinematics="finite"))
ref = drive(NeoHookean(0.5, 40.0), paths.uniaxial_stress([0.2], increments=2, kinematics="finite"))
assert torch.allclose(res.stress, ref.stress, rtol=1e-10, atol=1e-12)
print("ok")
"""


@pytest.mark.skipif(shutil.which("gfortran") is None, reason="gfortran is needed to build a UMAT")
def test_umat_satisfies_the_path_dependent_protocol(tmp_path) -> None:
    # In a fresh interpreter: UMAT libraries built into two caches in one process share the XIT/STOP handlers
    # of the first one loaded, which would break tests/test_umat.py's abort tests afterwards.
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "CONSTITUTIVE_UMAT_CACHE": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _UMAT_CHECK, str(HERE)], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


# ----------------------------------------------------------------------------- calibration bounds by default
def _uniaxial_j2_data() -> Experiment:
    model = J2Plasticity(E_, NU, SY, H=2000.0)
    res = drive(model, paths.uniaxial_stress([0.004], increments=20))
    return Experiment.uniaxial_stress(res.strain[1:, 0, 0], res.stress[1:, 0, 0], name="synthetic")


def test_calibration_takes_default_bounds_from_the_declarations() -> None:
    exp = _uniaxial_j2_data()
    res = calibrate(J2Plasticity, exp, {"E": 200e3, "sigma_y": 200.0, "H": 1000.0}, options={"nu": NU})
    decl = J2Plasticity(E_, NU, SY).parameter_declarations()

    space = _ParameterSpace({"E": 200e3, "sigma_y": 200.0, "H": 1000.0, "nu": 0.3}, None, {"H": (0.0, 5e3)})
    space.apply_declared_bounds(J2Plasticity(200e3, 0.3, 200.0, H=1000.0))
    lo, hi = space.bounds()
    got = dict(zip(space.labels, zip(lo.tolist(), hi.tolist())))
    # E > 0 (open): nudged inside by a relative 1e-9 of the initial value; nu in (-1, 0.5) nudged at both ends
    assert decl["E"].lower == 0.0 and decl["E"].lower_open
    assert got["E"] == (pytest.approx(200e3 * 1e-9, rel=1e-12), math.inf)
    assert -1.0 < got["nu"][0] < -1.0 + 1e-8 and 0.5 - 1e-8 < got["nu"][1] < 0.5
    assert got["H"] == (0.0, 5e3)  # user bounds override the declaration
    assert got["sigma_y"][0] == pytest.approx(200.0 * 1e-9) and got["sigma_y"][1] == math.inf
    # the fit itself recovers the synthetic parameters inside those bounds
    assert res.parameters["E"] == pytest.approx(E_, rel=1e-8)
    assert res.parameters["sigma_y"] == pytest.approx(SY, rel=1e-8)
    assert res.parameters["H"] == pytest.approx(2000.0, rel=1e-6)


def test_declared_bounds_keep_the_optimizer_inside_the_admissible_range() -> None:
    """Data that pull a positive parameter towards zero: without bounds the optimizer would try mu <= 0 (refused
    by the model); with the declared mu > 0 it ends at the nudged bound and reports it."""
    stretch = torch.linspace(1.05, 2.0, 8, dtype=DT)
    exp = Experiment.rubber("uniaxial", stretch, torch.zeros_like(stretch) - 1e-3, name="compressive")
    res = calibrate(NeoHookean, exp, {"mu": 0.5})
    assert 0.0 < res.parameters["mu"] < 1e-6
    assert res.at_bounds == ["mu"]


# ----------------------------------------------------------------------------- docs/models.md, executed
DOCS = Path(__file__).resolve().parents[1] / "docs" / "models.md"


def _section_blocks(title: str) -> list[str]:
    """The ```python blocks of the ``## title`` section of docs/models.md."""
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end > 0 else None]
    blocks = section.split("```python\n")[1:]
    return [b.split("```")[0] for b in blocks]


@pytest.mark.parametrize("title", ["Writing a hyperelastic model", "Writing a path-dependent model"])
def test_models_md_writing_sections_run(title: str) -> None:
    from constitutive.models import MODELS, MooneyRivlin

    blocks = _section_blocks(title)
    assert blocks, title
    namespace: dict = {}
    try:
        for code in blocks:
            assert len([line for line in code.splitlines() if line.strip()]) < 30, "keep the example short"
            exec(compile(code, f"{DOCS}:{title}", "exec"), namespace)
        if title.startswith("Writing a hyperelastic"):
            F = namespace["F"]
            ref = MooneyRivlin(0.3, 0.05, K=100.0)
            assert torch.allclose(namespace["P"], ref.first_piola(F), rtol=1e-12, atol=1e-14)
            assert torch.allclose(namespace["C_abaqus"], ref.abaqus_tangent(F), rtol=1e-12, atol=1e-12)
            assert namespace["P_uni"].shape == (9,) and float(namespace["P_uni"][0]) == 0.0
            assert 0.0 < namespace["fit"].parameters["mu"] < 1.0
        else:
            model, result = namespace["model"], namespace["result"]
            assert namespace["report"].passed and is_path_dependent(model)
            # relaxation under held ramp: the axial stress is below the elastic one (K + 4G/3) eps
            assert 0.0 < float(result.stress[-1, 0, 0]) < (160e3 + 4 * 80e3 / 3) * 0.01
    finally:
        for name in ("MyMooneyRivlin", "MyOgden", "MyNH", "ViscousShear"):
            MODELS.pop(name, None)
