"""Plane-stress export (``export_model(..., hypothesis="plane_stress")``): the out-of-plane strains are solved for
σ33 = σ13 = σ23 = 0 and the tangent is the condensed consistent one.

Independent routes: the closed-form plane-stress stiffness of isotropic elasticity; for J2 in a plastic state,
neo-Hookean and a general anisotropic elasticity, central differences of the *re-solved* in-plane response (the
in-plane strain perturbed, the out-of-plane strains solved again, the in-plane stress differenced).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from constitutive.cli import main as cli_main
from constitutive.export import export_model, plane_stress_strain, read, write
from constitutive.models import Anisotropic, J2Plasticity, LinearElastic, NeoHookean

E, NU = 200e3, 0.3


def _fd_plane_stress_tangent(model, eps_vec: np.ndarray, h: float, **kw) -> np.ndarray:
    """Central differences of the re-solved in-plane stress (Abaqus order 11 22 12) with respect to the Abaqus
    in-plane strain vector (ε11, ε22, γ12 = 2 ε12): column j from perturbing the tensor component by h
    (γ12 by 2h)."""
    D = np.zeros((3, 3))
    for j in range(3):
        d = np.zeros(3)
        d[j] = h
        sp = export_model(model, eps_vec + d, hypothesis="plane_stress", **kw).stress
        sm = export_model(model, eps_vec - d, hypothesis="plane_stress", **kw).stress
        D[:, j] = (sp - sm) / (2 * h) / (2.0 if j == 2 else 1.0)
    return D


def test_linear_elastic_closed_form() -> None:
    model = LinearElastic(E=E, nu=NU)
    eps = np.array([1e-3, -2e-4, 3e-4])  # ε11, ε22, ε12 (tensor shear)
    ex = export_model(model, eps, hypothesis="plane_stress")
    D = E / (1 - NU**2) * np.array([[1, NU, 0], [NU, 1, 0], [0, 0, (1 - NU) / 2]])
    assert np.allclose(ex.tangent, D, rtol=1e-13, atol=1e-9)
    assert np.allclose(ex.stress, D @ np.array([eps[0], eps[1], 2 * eps[2]]), rtol=1e-13)
    oop = ex.metadata["plane_stress"]["out_of_plane_strain"]
    assert oop[0] == pytest.approx(-NU / (1 - NU) * (eps[0] + eps[1]), rel=1e-13)
    assert oop[1] == oop[2] == 0.0
    assert ex.labels == ["11", "22", "12"] and ex.ntens == 3
    # ε12 enters as a tensor component, the exported strain vector carries γ12
    assert np.allclose(ex.strain, [eps[0], eps[1], 2 * eps[2]], rtol=1e-15)


def test_input_forms_agree_and_full_tensor_out_of_plane_ignored() -> None:
    model = LinearElastic(E=E, nu=NU)
    vec = export_model(model, [1e-3, 5e-4, 2e-4], hypothesis="plane_stress")
    t22 = export_model(model, [[1e-3, 2e-4], [2e-4, 5e-4]], hypothesis="plane_stress")
    full = [[1e-3, 2e-4, 7e-4], [2e-4, 5e-4, -3e-4], [7e-4, -3e-4, 0.123]]  # 33, 13, 23 ignored
    t33 = export_model(model, full, hypothesis="plane_stress")
    for other in (t22, t33):
        assert np.allclose(other.stress, vec.stress, rtol=1e-14) and np.allclose(other.tangent, vec.tangent)
    with pytest.raises(ValueError, match="plane-stress strain"):
        export_model(model, [1e-3, 0.0], hypothesis="plane_stress")


def test_j2_plastic_state_against_resolved_differences() -> None:
    model = J2Plasticity(E=E, nu=NU, sigma_y=250.0, H=1000.0)
    eps = np.array([3e-3, -1e-3, 1e-3])
    ex = export_model(model, eps, hypothesis="plane_stress")
    meta = ex.metadata["plane_stress"]
    assert meta["residual_stress"] <= 1e-10 * np.abs(ex.stress).max()
    # plastic: the von Mises stress sits on the hardened yield surface, above sigma_y
    s11, s22, s12 = ex.stress
    vm = np.sqrt(s11**2 - s11 * s22 + s22**2 + 3 * s12**2)
    assert vm > 250.0
    D_fd = _fd_plane_stress_tangent(model, eps, 1e-8)
    assert np.abs(ex.tangent - D_fd).max() <= 1e-6 * np.abs(D_fd).max()
    # elastic-plastic: the condensed tangent is far below the elastic plane-stress stiffness
    assert ex.tangent[0, 0] < 0.9 * E / (1 - NU**2)


def test_j2_from_a_given_state() -> None:
    model = J2Plasticity(E=E, nu=NU, sigma_y=250.0, H=1000.0)
    ex1 = export_model(model, [3e-3, 0.0, 0.0], hypothesis="plane_stress")
    eps3 = torch.from_numpy(plane_stress_strain(ex1))
    _, state, _ = model.update(eps3, model.initial_state())
    # unloading from the plastic state: elastic, the plane-stress elastic stiffness
    ex2 = export_model(model, [2.5e-3, 0.0, 0.0], hypothesis="plane_stress", state=state)
    D = E / (1 - NU**2) * np.array([[1, NU, 0], [NU, 1, 0], [0, 0, (1 - NU) / 2]])
    assert np.allclose(ex2.tangent, D, rtol=1e-12)
    assert ex2.stress[0] < ex1.stress[0]
    D_fd = _fd_plane_stress_tangent(model, np.array([2.5e-3, 0.0, 0.0]), 1e-8, state=state)
    assert np.abs(ex2.tangent - D_fd).max() <= 1e-6 * np.abs(D_fd).max()


def test_neo_hookean_against_resolved_differences_batched() -> None:
    model = NeoHookean(mu=1.0, lmbda=10.0)
    eps = np.array([[0.1, 0.02, 0.05], [0.2, -0.05, 0.01]])  # Green-Lagrange E11, E22, E12
    ex = export_model(model, eps, hypothesis="plane_stress")
    assert ex.stress.shape == (2, 3) and ex.tangent.shape == (2, 3, 3)
    assert ex.metadata["plane_stress"]["residual_stress"] <= 1e-13
    for k in range(2):
        D_fd = _fd_plane_stress_tangent(model, eps[k], 1e-6)
        assert np.abs(ex.tangent[k] - D_fd).max() <= 1e-7 * np.abs(D_fd).max()
    # the solved 3D state is stress-free out of plane (S33 = S13 = S23 = 0)
    S = model.stress(torch.from_numpy(plane_stress_strain(ex)))
    assert float(S[..., 2, :].abs().max()) <= 1e-13


def test_anisotropic_condenses_all_three_out_of_plane_slots() -> None:
    # A general anisotropy couples 13/23 to the in-plane slots: the exact tangent is the Schur complement over
    # 33, 13, 23 (not the 33-only condensation), and the solved ε13, ε23 are non-zero.
    gen = torch.Generator().manual_seed(3)
    A = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    C = A @ A.T + 6 * torch.eye(6, dtype=torch.float64)
    model = Anisotropic(C, notation="voigt", order="abaqus")
    ex = export_model(model, [1e-3, 2e-3, -1e-3], hypothesis="plane_stress")
    Cn = C.numpy()
    a, c = [0, 1, 3], [2, 4, 5]
    D = Cn[np.ix_(a, a)] - Cn[np.ix_(a, c)] @ np.linalg.solve(Cn[np.ix_(c, c)], Cn[np.ix_(c, a)])
    assert np.allclose(ex.tangent, D, rtol=1e-12)
    assert min(abs(v) for v in ex.metadata["plane_stress"]["out_of_plane_strain"][1:]) > 0


def test_float32_plane_stress() -> None:
    model = J2Plasticity(E=E, nu=NU, sigma_y=250.0, H=1000.0, dtype=torch.float32)
    ex = export_model(model, [3e-3, -1e-3, 1e-3], hypothesis="plane_stress")
    ref = export_model(
        J2Plasticity(E=E, nu=NU, sigma_y=250.0, H=1000.0), [3e-3, -1e-3, 1e-3], hypothesis="plane_stress"
    )
    # float32 round-off of the return map: 1e-4 of the yield stress
    assert ex.metadata["plane_stress"]["residual_stress"] <= 1e-4 * 250.0
    assert np.allclose(ex.stress, ref.stress, rtol=1e-4, atol=0.025) and np.allclose(
        ex.tangent, ref.tangent, rtol=1e-3, atol=1.0
    )


def test_header_units_and_round_trip(tmp_path) -> None:
    ex = export_model(LinearElastic(E=E, nu=NU), [1e-3, 0, 0], hypothesis="plane_stress", units="MPa, mm, s")
    assert ex.header()["units"] == "MPa, mm, s"
    assert export_model(LinearElastic(E=E, nu=NU), [1e-3, 0, 0], hypothesis="plane_stress").units == "unspecified"
    path = write(ex, tmp_path / "ps.json")
    back = read(path)
    assert np.allclose(back.tangent, ex.tangent)
    assert back.metadata["plane_stress"]["out_of_plane_strain"] == ex.metadata["plane_stress"]["out_of_plane_strain"]


def test_cli_hypothesis_plane_stress(tmp_path) -> None:
    out = tmp_path / "ps.json"
    rc = cli_main(
        ["export", "steel_s355", "--strain", "0.001,0,0.5,0,0,0", "--hypothesis", "plane_stress", "-o", str(out)]
    )
    assert rc == 0
    data = json.loads(out.read_text())
    assert data["header"]["hypothesis"] == "plane_stress" and data["header"]["NTENS"] == 3
    # ε33 = 0.5 given on the command line is ignored and solved for: σ33 = 0 needs ε33 ≈ -ν/(1-ν) ε11 (elastic)
    oop = data["header"]["metadata"]["plane_stress"]["out_of_plane_strain"]
    assert -1e-3 < oop[0] < 0.0


def test_material_units_from_parameter_files(tmp_path) -> None:
    from constitutive.export import material_units

    assert material_units("steel_s355") == "MPa"  # the shipped files say "MPa"
    assert material_units("no_such_material") == "unspecified"
    f = tmp_path / "mine.toml"
    f.write_text('[material]\nmodel = "LinearElastic"\nunits = "MPa, mm, s"\n[parameters]\nE = 1.0\nnu = 0.3\n')
    assert material_units(f) == "MPa, mm, s"
    assert (
        export_model(
            LinearElastic(E=E, nu=NU), [1e-3, 0, 0], "abaqus", "plane_stress", units=material_units(f)
        ).header()["units"]
        == "MPa, mm, s"
    )
