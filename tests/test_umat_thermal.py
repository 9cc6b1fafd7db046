"""Temperature through the UMAT bridge (TEMP, DTEMP, DDSDDT), DDSDDT in the FE-code layouts, and the generated
thermo-elastoplastic J2 UMAT (constitutive.export.umat_thermal), compared through the bridge with an independent
Python thermo-J2 test double (stress, DDSDDE, DDSDDT, STATEV to 1e-10) along a path whose temperature ramp crosses
the yield onset and table breakpoints; DDSDDT also against finite differences in TEMP + DTEMP (check_umat).

The test doubles follow the temperature contract of constitutive.models.thermal (not on this branch yet): a
thermoelastic UMAT written here in Fortran, and ``ThermoJ2``, a radial return with parameters at T_{n+1} written
here in torch (tangents by autograd through one final Newton step). Needs gfortran; one compile per UMAT."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from constitutive.export import CODES, export_state
from constitutive.export.layouts import THERMAL_TANGENT_QUANTITY, thermal_tangent_tensor, thermal_tangent_vector
from constitutive.export.umat_generator import LINE_LENGTH, UMATGenerationError
from constitutive.export.umat_thermal import thermal_j2_umat
from constitutive.models import ArmstrongFrederick, J2Plasticity, Linear, LinearElastic, Swift, Voce
from constitutive.models.base import PathDependentMaterial
from constitutive.notation import to_notation
from constitutive.paths import LoadPath, Segment
from constitutive.umat import UMAT, UMATError
from constitutive.umat.check import check_umat, compare_umat

pytestmark = [
    pytest.mark.skipif(
        shutil.which("gfortran") is None, reason="gfortran is not installed (apt-get install -y gfortran)"
    ),
    pytest.mark.usefixtures("umat_cache"),  # a fresh compiled-UMAT cache for the module (conftest)
]
STRICT_FLAGS = ("-O2", "-fPIC", "-Wall", "-Werror")
E, NU, ALPHA, TREF = 200e3, 0.3, 1.2e-5, 20.0
K = E / (3 * (1 - 2 * NU))
I3 = torch.eye(3, dtype=torch.float64)

# Isotropic thermoelasticity, total strain: sigma = C : (eps - alpha (T - T_ref) I), DDSDDT = -(NDI lam + 2G) alpha
# on the direct slots (plane stress: the condensed lam). PROPS: E, NU, ALPHA, T_REF, WRONG (1: DDSDDT left zero).
# STATEV(1), STATEV(2): the TEMP and DTEMP it was called with.
THERMOELASTIC_F = """\
      SUBROUTINE UMAT(STRESS,STATEV,DDSDDE,SSE,SPD,SCD,
     1 RPL,DDSDDT,DRPLDE,DRPLDT,
     2 STRAN,DSTRAN,TIME,DTIME,TEMP,DTEMP,PREDEF,DPRED,CMNAME,
     3 NDI,NSHR,NTENS,NSTATV,PROPS,NPROPS,COORDS,DROT,PNEWDT,
     4 CELENT,DFGRD0,DFGRD1,NOEL,NPT,LAYER,KSPT,KSTEP,KINC)
      INCLUDE 'ABA_PARAM.INC'
      CHARACTER*80 CMNAME
      DIMENSION STRESS(NTENS),STATEV(NSTATV),
     1 DDSDDE(NTENS,NTENS),DDSDDT(NTENS),DRPLDE(NTENS),
     2 STRAN(NTENS),DSTRAN(NTENS),TIME(2),PREDEF(1),DPRED(1),
     3 PROPS(NPROPS),COORDS(3),DROT(3,3),DFGRD0(3,3),DFGRD1(3,3)
      E = PROPS(1)
      ANU = PROPS(2)
      TH = PROPS(3)*(TEMP + DTEMP - PROPS(4))
      G = E/(2.0D0*(1.0D0+ANU))
      IF (NDI.EQ.3) THEN
         ALAM = E*ANU/((1.0D0+ANU)*(1.0D0-2.0D0*ANU))
      ELSE
         ALAM = E*ANU/(1.0D0-ANU*ANU)
      END IF
      DO I = 1, NTENS
         DO J = 1, NTENS
            DDSDDE(I,J) = 0.0D0
         END DO
      END DO
      DO I = 1, NDI
         DO J = 1, NDI
            DDSDDE(I,J) = ALAM
         END DO
         DDSDDE(I,I) = ALAM + 2.0D0*G
      END DO
      DO I = NDI+1, NTENS
         DDSDDE(I,I) = G
      END DO
      DO I = 1, NTENS
         STRESS(I) = 0.0D0
         DO J = 1, NTENS
            STRESS(I) = STRESS(I) + DDSDDE(I,J)*(STRAN(J)+DSTRAN(J))
         END DO
      END DO
      DO I = 1, NDI
         STRESS(I) = STRESS(I) - (NDI*ALAM + 2.0D0*G)*TH
         IF (PROPS(5) .EQ. 0.0D0) THEN
            DDSDDT(I) = -(NDI*ALAM + 2.0D0*G)*PROPS(3)
         END IF
      END DO
      STATEV(1) = TEMP
      STATEV(2) = DTEMP
      RETURN
      END
"""


@pytest.fixture(scope="module")
def thermoelastic_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("thermoelastic") / "thermoelastic.f"
    path.write_text(THERMOELASTIC_F)
    return path


def _thermoelastic(source: Path, wrong: bool = False, hypothesis: str = "3d", temp: float = TREF) -> UMAT:
    return UMAT(source, [E, NU, ALPHA, TREF, 1.0 if wrong else 0.0], nstatv=2, hypothesis=hypothesis, temp=temp)


def _sym(a: torch.Tensor) -> torch.Tensor:
    return 0.5 * (a + a.mT)


# ------------------------------------------------------------------------------------------------ the bridge
def test_bridge_passes_temp_dtemp_and_keeps_the_temperature_in_the_state(thermoelastic_source: Path) -> None:
    u = _thermoelastic(thermoelastic_source, temp=50.0)
    assert u.temperature_dependent is True
    st = u.initial_state((2,))
    assert st["temperature"].tolist() == [50.0, 50.0]
    eps = 1e-3 * _sym(torch.tensor([[1.0, 0.3, 0.0], [0.0, -0.5, 0.2], [0.0, 0.0, 0.4]], dtype=torch.float64))
    # temperature=None: TEMP = the state's, DTEMP = 0 exactly (today's calls), the temperature stays.
    s0, st0, C0 = u.update(eps, st)
    assert st0["statev"][:, 0].tolist() == [50.0, 50.0] and st0["statev"][:, 1].tolist() == [0.0, 0.0]
    assert st0["temperature"].tolist() == [50.0, 50.0]
    # A temperature per point: TEMP = T_n, DTEMP = T_{n+1} - T_n, the new state holds T_{n+1}.
    T1 = torch.tensor([80.0, 130.0], dtype=torch.float64)
    s1, st1, C1 = u.update(eps, st0, temperature=T1)
    assert st1["statev"][:, 0].tolist() == [50.0, 50.0] and st1["statev"][:, 1].tolist() == [30.0, 80.0]
    assert st1["temperature"].tolist() == [80.0, 130.0]
    _, st2, _ = u.update(eps, st1, temperature=100.0)  # 0-d broadcasts; the next increment starts at T_{n+1}
    assert st2["statev"][:, 0].tolist() == [80.0, 130.0] and st2["statev"][:, 1].tolist() == [20.0, -30.0]
    assert st1["temperature"].tolist() == [80.0, 130.0]  # the state passed in is untouched
    # sigma = C : (eps - alpha (T - T_ref) I), closed form.
    lam, mu = E * NU / ((1 + NU) * (1 - 2 * NU)), E / (2 * (1 + NU))
    for k, T in enumerate(T1.tolist()):
        em = eps - ALPHA * (T - TREF) * I3
        ref = lam * torch.trace(em) * I3 + 2 * mu * em
        assert torch.allclose(s1[k], ref, rtol=1e-14, atol=1e-10)
    assert torch.equal(C0, C1)
    sig, _, C, dT = u.update_thermal(eps, st0, temperature=T1)
    assert torch.equal(sig, s1) and torch.equal(C, C1)
    assert torch.allclose(dT, (-3 * K * ALPHA * I3).expand(2, 3, 3), rtol=1e-14, atol=0)
    with pytest.raises(ValueError, match="does not broadcast"):
        u.update(eps, st0, temperature=torch.zeros(3))
    with pytest.raises(ValueError, match="temperature"):
        u.update(eps, st0, temperature=float("nan"))


def test_check_umat_checks_ddsddt_against_differences_in_temperature(thermoelastic_source: Path) -> None:
    good = _thermoelastic(thermoelastic_source)
    rep = check_umat(good, increments=2, temperature=(20.0, 220.0))
    assert rep.passed and all(r.ddsddt_error is not None and r.ddsddt_error < 1e-8 for r in rep.increments)
    assert "DDSDDE and DDSDDT" in str(rep)
    wrong = _thermoelastic(thermoelastic_source, wrong=True)
    assert check_umat(wrong, increments=2).passed  # without the option DDSDDT is not looked at
    bad = check_umat(wrong, increments=2, temperature=(20.0, 220.0))
    first = bad.first_failure
    assert not bad.passed and first is not None and not first.ddsddt_passed
    assert first.ddsddt_value == 0.0 and first.ddsddt_reference == pytest.approx(-3 * K * ALPHA, rel=1e-8)
    assert "DDSDDT" in str(bad) and "finite differences in TEMP + DTEMP" in str(bad)
    with pytest.raises(ValueError, match="pair"):
        check_umat(good, increments=1, temperature=20.0)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------- layouts
def test_ddsddt_is_laid_out_as_the_stress_in_every_code() -> None:
    assert THERMAL_TANGENT_QUANTITY == "stress"
    d = _sym(torch.tensor([[1.0, 2.0, 3.0], [0.5, -4.0, 5.0], [0.7, 0.1, 6.0]], dtype=torch.float64))
    C = LinearElastic(E, NU).tangent(torch.zeros(3, 3, dtype=torch.float64))
    for code, lay in CODES.items():
        v = thermal_tangent_vector(d, code)
        assert np.array_equal(v, export_state(d, C, code).stress), code
        assert np.array_equal(v, to_notation(d, "stress", lay.notation, lay.order).numpy()), code
        assert torch.allclose(thermal_tangent_tensor(v, code), d, rtol=1e-15, atol=1e-15), code
    for hyp in ("plane_strain", "axisymmetric"):
        v = thermal_tangent_vector(d, "abaqus", hyp)
        assert np.array_equal(v, export_state(d, C, "abaqus", hyp).stress)
        back = thermal_tangent_tensor(v, "abaqus", hyp)
        assert torch.equal(back[[0, 0, 1, 1, 2, 2], [2, 1, 2, 0, 1, 0]][[0, 2, 4, 5]], torch.zeros(4, dtype=back.dtype))
    with pytest.raises(ValueError, match="tangent"):
        thermal_tangent_vector(d, "abaqus", "plane_stress")
    with pytest.raises(ValueError, match="hypothesis"):
        thermal_tangent_vector(d, "ansys", "plane_strain")
    with pytest.raises(ValueError, match="3 entries"):
        thermal_tangent_tensor(np.zeros(4), "abaqus", "plane_stress")


def test_plane_stress_ddsddt_is_condensed_like_the_umat_does_it(thermoelastic_source: Path) -> None:
    """Plane stress holds σ33 = 0 as T changes: the condensed DDSDDT of the layout equals the closed form
    -E α/(1 - ν) and what a plane-stress UMAT (NDI = 2) returns through the bridge."""
    C = LinearElastic(E, NU).tangent(torch.zeros(3, 3, dtype=torch.float64))
    v = thermal_tangent_vector(-3 * K * ALPHA * I3, "abaqus", "plane_stress", tangent=C)
    assert np.allclose(v, [-E * ALPHA / (1 - NU)] * 2 + [0.0], rtol=1e-14, atol=0)
    u = _thermoelastic(thermoelastic_source, hypothesis="plane_stress")
    _, _, _, dT = u.update_thermal_voigt(torch.tensor([1e-3, 0.0, 0.0]), u.initial_state(), temperature=70.0)
    assert np.allclose(dT.numpy(), v, rtol=1e-14, atol=0)


class ThermoElastic(PathDependentMaterial, abstract=True):
    """The contract's thermoelastic test double: σ = λ tr(ε - ε_th) I + 2μ(ε - ε_th), ε_th = α(T - T_ref) I."""

    temperature_dependent = True

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"temperature": ()}

    def initial_state(self, batch_shape: tuple[int, ...] | torch.Size = ()) -> dict[str, torch.Tensor]:
        return {"temperature": torch.full(tuple(batch_shape), TREF, dtype=torch.float64)}

    def update_thermal(self, strain, state, dt=None, *, temperature=None):  # type: ignore[no-untyped-def]
        T = torch.as_tensor(state["temperature"] if temperature is None else temperature, dtype=torch.float64)
        C = LinearElastic(E, NU).tangent(torch.zeros(3, 3, dtype=torch.float64))
        em = torch.as_tensor(strain, dtype=torch.float64) - ALPHA * (T - TREF) * I3
        sigma = torch.einsum("ijkl,kl->ij", C, em)
        return sigma, {"temperature": T.clone()}, C, -3 * K * ALPHA * I3

    def _update(self, strain, state, dt, need_tangent):  # type: ignore[no-untyped-def]
        return self.update_thermal(strain, state, dt)[:3]


@pytest.mark.parametrize("hypothesis", ["3d", "plane_stress"])
def test_compare_umat_along_a_temperature_ramp_condenses_plane_stress(thermoelastic_source: Path, hypothesis: str):
    u = _thermoelastic(thermoelastic_source, hypothesis=hypothesis)
    rep = compare_umat(u, ThermoElastic(), increments=2, temperature=(20.0, 220.0))
    assert all("ddsddt" in r for r in rep.rows) and rep.rows[-1]["temperature"] == 220.0
    assert max(rep.max_stress_difference, rep.max_tangent_difference, rep.max_ddsddt_difference) <= 1e-12, str(rep)
    wrong = compare_umat(_thermoelastic(thermoelastic_source, True, hypothesis), ThermoElastic(), increments=1,
                         temperature=(20.0, 220.0))  # fmt: skip
    assert wrong.max_ddsddt_difference == pytest.approx(1.0)
    with pytest.raises(ValueError, match="temperature-dependent model"):
        compare_umat(u, LinearElastic(E, NU), increments=1, temperature=(20.0, 220.0))


# ------------------------------------------------------------------------------------ the thermo-J2 test double
class Table:
    """Piecewise linear through (T_k, v_k), constant outside (the contract's TemperatureTable), written here."""

    def __init__(self, temperatures: list[float], values: list[float]) -> None:
        self.temperatures = torch.tensor(temperatures, dtype=torch.float64)
        self.values = torch.tensor(values, dtype=torch.float64)

    def __call__(self, T: torch.Tensor) -> torch.Tensor:
        t, v = self.temperatures, self.values
        if float(T.detach()) < float(t[0]):
            return v[0] + 0.0 * T
        if float(T.detach()) >= float(t[-1]):
            return v[-1] + 0.0 * T
        k = int(torch.searchsorted(t, T.detach().reshape(1), right=True)) - 1  # right-sided at a breakpoint
        return v[k] + (T - t[k]) * (v[k + 1] - v[k]) / (t[k + 1] - t[k])


EP = ("ep11", "ep22", "ep33", "ep12", "ep13", "ep23")  # STATEV 1-6 (engineering shear), alpha STATEV 7
SLOT = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))


class ThermoJ2(PathDependentMaterial, abstract=True):
    """Test double of ThermoMechanical(J2Plasticity(...)): radial return with every parameter at T_{n+1}, on the
    mechanical strain ε - ε_th(T_{n+1}); C and ∂σ/∂T by autograd through one final Newton step (exact at the
    root). One point at a time (the bridge comparison drives single points)."""

    temperature_dependent = True

    def __init__(self, mechanical: J2Plasticity, dependencies: dict, expansion: object, t_ref: float, t_ini: float):
        super().__init__()
        self.mechanical, self.dependencies, self.expansion = mechanical, dependencies, expansion
        self.reference_temperature, self.initial_temperature = t_ref, t_ini

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        return {**{k: () for k in EP}, "alpha": (), "temperature": ()}

    def initial_state(self, batch_shape: tuple[int, ...] | torch.Size = ()) -> dict[str, torch.Tensor]:
        st = super().initial_state(batch_shape)
        st["temperature"] = st["temperature"] + self.initial_temperature
        return st

    def _p(self, name: str, T: torch.Tensor) -> torch.Tensor:
        if name in self.dependencies:
            return self.dependencies[name](T)
        return self.mechanical.parameters[name].detach() + 0.0 * T

    def _alpha(self, T: torch.Tensor) -> torch.Tensor:
        return (
            self.expansion(T)
            if callable(self.expansion)
            else torch.tensor(float(self.expansion), dtype=torch.float64) + 0.0 * T
        )

    def _flow(self, T: torch.Tensor, a: torch.Tensor | float) -> torch.Tensor:
        sf = self._p("sigma_y", T) + self._p("H", T) * a
        if isinstance(self.mechanical.law, Voce):
            sf = sf + self._p("Q", T) * (1.0 - torch.exp(-self._p("b", T) * a))
        if isinstance(self.mechanical.law, Swift):
            K_, e0, n = self._p("K", T), self._p("eps0", T), self._p("n", T)
            sf = sf + K_ * ((e0 + a) ** n - e0**n)
        return sf

    def _response(self, eps: torch.Tensor, T: torch.Tensor, state: dict) -> tuple[torch.Tensor, float]:
        eps = 0.5 * (eps + eps.mT)
        E_, nu = self._p("E", T), self._p("nu", T)
        Kb, G = E_ / (3 * (1 - 2 * nu)), E_ / (2 * (1 + nu))
        t_ref, t_ini = self.reference_temperature, torch.tensor(self.initial_temperature, dtype=torch.float64)
        th = self._alpha(T) * (T - t_ref) - self._alpha(t_ini) * (t_ini - t_ref)
        em = eps - th * I3
        ep = torch.zeros(3, 3, dtype=torch.float64)
        for key, (i, j) in zip(EP, SLOT):
            w = 1.0 if i == j else 0.5
            ep[i, j] = ep[j, i] = w * float(state[key])
        a0 = float(state["alpha"])
        s_tr = 2 * G * (em - torch.trace(em) / 3 * I3 - ep)
        nrm = torch.sqrt((s_tr * s_tr).sum())
        q = math.sqrt(1.5) * nrm
        x: torch.Tensor | float = 0.0
        if float((q - self._flow(T, a0)).detach()) > 0:
            Td, qd, Gd = T.detach(), q.detach(), G.detach()

            def res(z: float | torch.Tensor, T_: torch.Tensor, q_: torch.Tensor, G_: torch.Tensor) -> torch.Tensor:
                return q_ - 3 * G_ * z - self._flow(T_, a0 + z)

            z = 0.0
            for _ in range(60):
                zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
                r = res(zt, Td, qd, Gd)
                (dr,) = torch.autograd.grad(r, zt)
                z_new = z - float(r.detach()) / float(dr)
                if abs(z_new - z) <= 1e-16 * max(z_new, 1e-300):
                    z = z_new
                    break
                z = z_new
            zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
            r0 = res(zt, Td, qd, Gd)
            (dr,) = torch.autograd.grad(r0, zt)
            x = z - res(z, T, q, G) / float(dr)  # exact derivatives at the root
        s = s_tr if isinstance(x, float) else s_tr - 2 * G * math.sqrt(1.5) * x * s_tr / nrm
        sigma = Kb * torch.trace(em) * I3 + s
        return sigma, float(x.detach()) if isinstance(x, torch.Tensor) else x

    def update_thermal(self, strain, state, dt=None, *, temperature=None):  # type: ignore[no-untyped-def]
        T = torch.as_tensor(state["temperature"] if temperature is None else temperature, dtype=torch.float64)
        eps = torch.as_tensor(strain, dtype=torch.float64)
        sigma, x = self._response(eps, T, state)
        C = torch.autograd.functional.jacobian(lambda e: self._response(e, T, state)[0], eps)
        dT = torch.autograd.functional.jacobian(lambda t: self._response(eps, t, state)[0], T)
        new = dict(state)
        s_tr_dir = sigma - torch.trace(sigma) / 3 * I3
        n = s_tr_dir / torch.sqrt((s_tr_dir * s_tr_dir).sum()).clamp_min(1e-300)
        dep = math.sqrt(1.5) * float(x) * n
        for key, (i, j) in zip(EP, SLOT):
            new[key] = state[key] + (1.0 if i == j else 2.0) * dep[i, j].detach()
        new["alpha"] = state["alpha"] + float(x)
        new["temperature"] = T.detach().clone()
        return sigma.detach(), new, C.detach(), dT.detach()

    def update(self, strain, state, dt=None, need_tangent=True, *, temperature=None):  # type: ignore[override]
        sigma, new, C, _ = self.update_thermal(strain, state, dt, temperature=temperature)
        return sigma, new, C

    def _update(self, strain, state, dt, need_tangent):  # type: ignore[no-untyped-def]
        return self.update(strain, state, dt, need_tangent)


def _voce_double() -> ThermoJ2:
    mech = J2Plasticity(E, NU, 300.0, 1e3, hardening=Voce(100.0, 20.0))
    deps = {
        "E": Table([20.0, 300.0, 600.0], [200e3, 180e3, 120e3]),
        "nu": Table([20.0, 600.0], [0.3, 0.33]),
        "sigma_y": Table([20.0, 300.0, 500.0], [300.0, 240.0, 150.0]),
        "H": Table([100.0, 400.0], [1e3, 4e2]),
        "Q": Table([20.0, 500.0], [100.0, 60.0]),
        "b": Table([20.0, 500.0], [20.0, 30.0]),
    }
    return ThermoJ2(mech, deps, Table([20.0, 500.0], [1.2e-5, 1.5e-5]), TREF, 25.0)


def _ramp_path() -> LoadPath:
    z = {"11": 0.0, "22": 0.0, "33": 0.0, "23": 0.0, "13": 0.0, "12": 0.0}
    return LoadPath(
        [
            Segment({**z, "11": 0.004, "22": -0.001}, increments=6),
            Segment({**z, "11": 0.002, "22": -0.001, "12": 0.003}, increments=6),
            Segment(z, increments=6),
        ],
        "small",
        "loading, shear, unloading",
    )


# Temperatures 48.3, 81.7, ..., 615 (18 increments): below, across and beyond the breakpoints, never on one.
RAMP = (15.0, 615.0)


@pytest.fixture(scope="module")
def thermal_j2(tmp_path_factory: pytest.TempPathFactory) -> tuple[ThermoJ2, object, Path]:
    model = _voce_double()
    g = thermal_j2_umat(model)
    path = tmp_path_factory.mktemp("thermal_j2") / "thermal_j2.f"
    path.write_text(g.source)
    return model, g, path


def test_generated_thermal_j2_source_and_props_layout(thermal_j2: tuple) -> None:
    model, g, _ = thermal_j2
    assert max(len(line) for line in g.source.splitlines()) <= LINE_LENGTH
    assert g.thermal and g.nstatv == 7 and g.props[:2] == [TREF, 25.0]
    # PROPS: T_ref, T_I, then per parameter (E nu sigma_y H Q b) and alpha: N, T_1, p_1, ..., T_N, p_N.
    k, layout = 2, {}
    for name in [*model.mechanical.parameters, "alpha"]:
        n = int(g.props[k])
        layout[name] = (g.props[k + 1 : k + 1 + 2 * n : 2], g.props[k + 2 : k + 2 + 2 * n : 2])
        k += 1 + 2 * n
    assert k == g.nprops
    assert layout["E"] == ([20.0, 300.0, 600.0], [200e3, 180e3, 120e3])
    assert layout["alpha"] == ([20.0, 500.0], [1.2e-5, 1.5e-5])
    assert "PROPS(3) N_E = 3.0" in g.source and "DDSDDT = dsigma/dT at fixed total strain" in g.source
    assert "Not coupled to temperature" not in g.source and "TEMP + DTEMP" in g.source


@pytest.mark.parametrize("hypothesis", ["3d", "plane_strain"])
def test_generated_thermal_j2_matches_the_python_double_through_the_bridge(thermal_j2: tuple, hypothesis: str):
    """Stress, DDSDDE, DDSDDT and STATEV agree to 1e-10 along loading (yield onset), shear and unloading with the
    temperature ramping across the table breakpoints and beyond the tables; compiled with -Wall -Werror."""
    model, g, path = thermal_j2
    u = UMAT(path, g.props, nstatv=g.nstatv, hypothesis=hypothesis, flags=STRICT_FLAGS)
    state_map = {key: k for k, key in enumerate(EP)} | {"alpha": 6}
    rep = compare_umat(u, model, [_ramp_path()], state_map=state_map, temperature=RAMP)
    assert len(rep.rows) == 18
    alphas = [r["state_values"]["alpha"] for r in rep.rows]
    assert alphas[0] == 0.0 and alphas[-1] > 1e-3  # elastic first, then plastic flow
    assert rep.max_stress_difference <= 1e-10, str(rep)
    assert rep.max_tangent_difference <= 1e-10, str(rep)
    assert rep.max_ddsddt_difference <= 1e-10, str(rep)
    assert rep.max_state_difference <= 1e-10, str(rep)
    if hypothesis == "3d":
        check = check_umat(u, [_ramp_path()], temperature=RAMP)
        assert check.passed, str(check)
        assert max(r.ddsddt_error for r in check.increments) < 1e-6
        # PROPS edited to a negative E(T_1): the UMAT stops the analysis, naming the temperature.
        bad = list(g.props)
        bad[4] = -1.0
        v = UMAT(path, bad, nstatv=g.nstatv, flags=STRICT_FLAGS)
        with pytest.raises(UMATError, match=r"E or nu out of range at T = 10"):
            v.update(torch.zeros(3, 3, dtype=torch.float64), v.initial_state(), temperature=10.0)


def test_generated_thermal_j2_with_swift_hardening_matches_the_double(tmp_path: Path) -> None:
    """Swift's K, eps0, n temperature-dependent (their DDSDDT terms), constant expansion, T_I != T_ref."""
    mech = J2Plasticity(E, NU, 250.0, 500.0, hardening=Swift(600.0, 0.01, 0.2))
    deps = {
        "K": Table([20.0, 400.0], [600.0, 420.0]),
        "eps0": Table([20.0, 400.0], [0.01, 0.02]),
        "n": Table([50.0, 350.0], [0.2, 0.12]),
        "H": Table([20.0, 400.0], [500.0, 100.0]),
    }
    model = ThermoJ2(mech, deps, 1.1e-5, TREF, 40.0)
    g = thermal_j2_umat(model, units="MPa, mm, s")
    assert "Units: MPa, mm, s" in g.source
    path = tmp_path / "thermal_swift.f"
    path.write_text(g.source)
    u = UMAT(path, g.props, nstatv=g.nstatv, flags=STRICT_FLAGS, temp=40.0)
    rep = compare_umat(u, model, [_ramp_path()], state_map={"alpha": 6}, temperature=(45.0, 465.0))
    assert rep.rows[-1]["state_values"]["alpha"] > 1e-3
    assert max(rep.max_stress_difference, rep.max_tangent_difference, rep.max_ddsddt_difference) <= 1e-10, str(rep)
    assert rep.max_state_difference <= 1e-10, str(rep)


def test_thermal_j2_generation_refuses_what_it_does_not_cover() -> None:
    m = _voce_double()
    m.dependencies["E"] = lambda T: 200e3 - 10.0 * T  # a Python function: no Fortran translation
    with pytest.raises(UMATGenerationError, match="not a piecewise-linear table"):
        thermal_j2_umat(m)
    kin = J2Plasticity(E, NU, 300.0, kinematic=ArmstrongFrederick(2e4, 100.0))
    with pytest.raises(UMATGenerationError, match="isotropic hardening only"):
        thermal_j2_umat(ThermoJ2(kin, {}, 0.0, TREF, TREF))
    with pytest.raises(UMATGenerationError, match="J2Plasticity only"):
        thermal_j2_umat(ThermoJ2(LinearElastic(E, NU), {}, 0.0, TREF, TREF))  # type: ignore[arg-type]
    with pytest.raises(UMATGenerationError, match="unknown parameter"):
        thermal_j2_umat(ThermoJ2(J2Plasticity(E, NU, 300.0, hardening=Linear(1e3)), {"Q": Table([0.0], [1.0])},
                                 0.0, TREF, TREF))  # fmt: skip
    with pytest.raises(ValueError, match="nu"):
        thermal_j2_umat(ThermoJ2(J2Plasticity(E, NU, 300.0), {"nu": Table([0.0, 100.0], [0.3, 0.5])}, 0.0, 0, 0))
    with pytest.raises(UMATGenerationError, match="ThermoMechanical"):
        thermal_j2_umat(J2Plasticity(E, NU, 300.0))


def test_generate_umat_of_the_real_thermomechanical_matches_it_through_the_bridge(thermal_j2: tuple) -> None:
    """The package's ThermoMechanical with the double's tables: ``generate_umat`` finds the registered generator,
    the PROPS equal the double's, and the compiled UMAT matches ThermoMechanical.update_thermal (stress, DDSDDE,
    DDSDDT, STATEV) along the temperature ramp to 1e-10 — the model, the double and the UMAT are three routes."""
    from constitutive.export import generate_umat
    from constitutive.models import TemperatureTable, ThermoMechanical

    double, g_double, path = thermal_j2
    real = ThermoMechanical(
        double.mechanical,
        parameters={k: TemperatureTable(t.temperatures, t.values) for k, t in double.dependencies.items()},
        expansion=TemperatureTable(double.expansion.temperatures, double.expansion.values),
        reference_temperature=TREF,
        initial_temperature=25.0,
    )
    g = generate_umat(real)
    assert g.props == g_double.props and g.thermal
    u = UMAT(path, g.props, nstatv=g.nstatv, flags=STRICT_FLAGS, temp=25.0)
    rep = compare_umat(u, real, [_ramp_path()], state_map={"alpha": 6}, temperature=RAMP)
    assert rep.rows[-1]["state_values"]["alpha"] > 1e-3
    assert max(rep.max_stress_difference, rep.max_tangent_difference, rep.max_ddsddt_difference) <= 1e-10, str(rep)
    assert rep.max_state_difference <= 1e-10, str(rep)
