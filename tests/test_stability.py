"""Drucker stability of hyperelastic models (constitutive.calibrate.drucker) and stable fits.

Independent routes: closed forms (Mooney-Rivlin, Yeoh, the quadratic volumetric term, Gent's domain), central
differences of the model's Kirchhoff stress against the logarithmic strain, the principal block of the model's
Abaqus (Jaumann) tangent, and the Mandel eigenvalues of the assembled fourth-order tangent.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import torch
from scipy.optimize import brentq

from constitutive.calibrate import (
    calibrate,
    drucker_margin,
    drucker_moduli,
    drucker_stable,
    logarithmic_tangent,
    stability,
)
from constitutive.calibrate.drucker import mode_stretches, principal_drucker_moduli
from constitutive.data import load_treloar
from constitutive.models.hyperelastic import Gent, MooneyRivlin, NeoHookean, Ogden, Yeoh
from constitutive.notation import to_mandel
from constitutive.tensor import sym_exp

DT = torch.float64


def _random_F(n: int, seed: int, spread: float = 0.35) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.eye(3, dtype=DT) + spread * torch.randn(n, 3, 3, generator=g, dtype=DT)


COMPRESSIBLE = [
    NeoHookean(0.5, 2.0),
    MooneyRivlin(0.3, -0.04, K=3.0),
    Ogden([0.618, 0.00118, -0.00981], [1.3, 5.0, -2.0], K=2.0),
    Yeoh(0.2, -0.01, 0.001, K=5.0, volumetric="log"),
]


# ------------------------------------------------------------------------------------------------ closed forms
def test_neo_hookean_and_mooney_rivlin_with_positive_constants_are_stable_everywhere() -> None:
    for model in (NeoHookean(0.4), MooneyRivlin(0.3, 0.05), NeoHookean(0.4, 10.0, form="isochoric", volumetric="log")):
        rep = stability(model, stretches=(0.02, 50.0), points=120)
        assert rep.stable, str(rep)
    # in the undeformed state every Drucker modulus is 2 mu0 (and 3K for the volume)
    m = drucker_moduli(NeoHookean(0.4, 10.0, form="isochoric"), torch.eye(3, dtype=DT))
    assert torch.allclose(m.sort().values, torch.tensor([0.8] * 5 + [3 * (10.0 + 0.8 / 3)], dtype=DT))


def test_mooney_rivlin_negative_c01_loses_stability_where_the_hand_derivation_says() -> None:
    # psi = C10 (I1 - 3) + C01 (I2 - 3) with I1 = sum exp(2 eps_a), I2 = sum exp(-2 eps_a) (J = 1): the Hessian in
    # eps is diagonal, 4 C10 lam_a^2 + 4 C01 lam_a^-2; the lateral mode (0, 1, -1) of uniaxial tension, lam_2 =
    # lam^-1/2, has modulus 4 (C10/lam + C01 lam): lost at lam = sqrt(-C10/C01).
    C10, C01 = 0.2, -0.05
    rep = stability(MooneyRivlin(C10, C01), stretches=(0.01, 10.0))
    lam_u = rep.limits["uniaxial"]["tension"]
    assert lam_u == pytest.approx(math.sqrt(-C10 / C01), rel=1e-9)
    # incompressible equivalences: uniaxial tension = equibiaxial compression at lam_b = lam_u^-1/2, and back
    assert rep.limits["equibiaxial"]["compression"] == pytest.approx(lam_u**-0.5, rel=1e-9)
    assert rep.limits["equibiaxial"]["tension"] == pytest.approx(
        rep.limits["uniaxial"]["compression"] ** -0.5, rel=1e-9
    )
    # the shipped Treloar Mooney-Rivlin fit (C01 < 0): equibiaxial tension lam_b with lam_b^-2 = -2 C01/C10 ...
    mr = MooneyRivlin(0.2675, -0.001865)
    rep = stability(mr)
    # ... uniaxial compression: d tau/d ln lam = 2 (2 C10 lam^2 + C01 lam + C10/lam + 2 C01/lam^2) changes sign
    root = brentq(lambda x: 2 * 0.2675 * x**2 - 0.001865 * x + 0.2675 / x - 2 * 0.001865 / x**2, 1e-3, 0.5)
    assert rep.limits["equibiaxial"]["tension"] == pytest.approx(root**-0.5, rel=1e-8)
    assert rep.limits["uniaxial"]["tension"] is None and not rep.stable


def test_yeoh_uniaxial_limit_is_the_sign_change_of_dtau_dln_lambda() -> None:
    C10, C20 = 0.5, -0.05
    rep = stability(Yeoh(C10, C20, 0.0), stretches=(0.5, 10.0))

    def dtau_dln(lam: float) -> float:  # tau = 2 (lam^2 - 1/lam) W1, W1 = C10 + 2 C20 (I1 - 3), by hand
        x = lam**2 + 2 / lam - 3
        W1 = C10 + 2 * C20 * x
        return lam * (2 * (2 * lam + lam**-2) * W1 + 2 * (lam**2 - 1 / lam) * 2 * C20 * (2 * lam - 2 / lam**2))

    root = brentq(dtau_dln, 1.01, 10.0)
    assert rep.limits["uniaxial"]["tension"] == pytest.approx(root, rel=1e-8)
    # and the uniaxial Kirchhoff stress itself (finite differences of nominal_stress) turns there
    lam = torch.tensor([root * 0.99, root * 1.01], dtype=DT)
    tau = Yeoh(C10, C20, 0.0).nominal_stress(lam) * lam
    h = 1e-6
    tau_h = Yeoh(C10, C20, 0.0).nominal_stress(lam * math.exp(h)) * lam * math.exp(h)
    slope = (tau_h - tau) / h
    assert float(slope[0]) > 0 > float(slope[1])


def test_volumetric_quadratic_term_and_gent_domain() -> None:
    # U = K/2 (J - 1)^2: d2U/d(ln J)^2 = K J (2J - 1) < 0 below J = 1/2, i.e. lam = 2^(-1/3)
    rep = stability(NeoHookean(0.4, 10.0, form="isochoric"))
    assert rep.limits["volumetric"]["compression"] == pytest.approx(0.5 ** (1 / 3), rel=1e-9)
    assert rep.limits["uniaxial"] == {"tension": None, "compression": None}
    # nearly incompressible and incompressible Ogden: the same limits in the isochoric modes (D_iso 1 = 0)
    params = {"mu": [0.618, 0.00118, -0.00981], "alpha": [1.3, 5.0, -2.0]}
    a = stability(Ogden(**params), stretches=(0.01, 30.0))
    b = stability(Ogden(**params, K=2000.0), stretches=(0.01, 30.0))
    for mode in a.modes:
        for d in ("tension", "compression"):
            x, y = a.limits[mode][d], b.limits[mode][d]
            assert (x is None and y is None) or x == pytest.approx(y, rel=1e-9), (mode, d, x, y)
    # Gent: the domain ends at I1bar - 3 = Jm (uniaxial: lam^2 + 2/lam - 3 = Jm); that is not an instability
    Jm = 20.0
    rep = stability(Gent(0.3, Jm))
    end = brentq(lambda x: x**2 + 2 / x - 3 - Jm, 1.1, 10.0)
    assert rep.domain_limits["uniaxial"]["tension"] == pytest.approx(end, rel=1e-6)
    assert rep.limits["uniaxial"]["tension"] is None and rep.stable
    assert "end of the model's domain" in rep.table() and "domain ends at uniaxial tension" in rep.summary()


# ------------------------------------------------------------------------------------------- second routes
@pytest.mark.parametrize("model", COMPRESSIBLE, ids=lambda m: type(m).__name__)
def test_logarithmic_tangent_against_finite_differences_of_kirchhoff(model) -> None:
    F = _random_F(4, 1)
    F = torch.where(torch.det(F)[:, None, None] > 0, F, -F)
    tau, D = logarithmic_tangent(model, F)
    assert torch.allclose(tau, model.kirchhoff(F), rtol=1e-12, atol=1e-12)
    # tau depends on V = exp(eps) only: differentiate tau(exp(eps)) along the six symmetric directions
    b = F @ F.transpose(-1, -2)
    lam, Q = torch.linalg.eigh(b)
    eps = (Q * (0.5 * torch.log(lam))[..., None, :]) @ Q.transpose(-1, -2)
    h = 1e-5
    for i, j in ((0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (0, 2)):
        S = torch.zeros(3, 3, dtype=DT)
        S[i, j] = S[j, i] = 1.0
        fd = (model.kirchhoff(sym_exp(eps + h * S)) - model.kirchhoff(sym_exp(eps - h * S))) / (2 * h)
        exact = torch.einsum("...ijkl,kl->...ij", D, S)
        assert torch.allclose(fd, exact, rtol=1e-6, atol=1e-7 * float(exact.abs().max())), (i, j)
    # the assembled D: symmetric, and its Mandel eigenvalues are the Drucker moduli
    scale = float(D.abs().max())
    assert torch.allclose(D, D.permute(0, 3, 4, 1, 2), atol=1e-12 * scale)  # major symmetry
    assert torch.allclose(D, D.transpose(-1, -2), atol=1e-12 * scale)  # minor symmetry
    M = to_mandel(D, "stiffness")
    assert torch.allclose(M, M.transpose(-1, -2), atol=1e-10 * float(M.abs().max()))
    eig = torch.linalg.eigvalsh(M)
    assert torch.allclose(eig, drucker_moduli(model, F).sort(-1).values, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("model", COMPRESSIBLE, ids=lambda m: type(m).__name__)
def test_principal_block_equals_the_jaumann_tangent_and_stability_agrees(model) -> None:
    # J C^{tau J} in the eigenbasis of b: principal block = D_ab exactly; shear entries = G_ab (r + 1) ln r /
    # (2 (r - 1)) with r = lam_a^2 / lam_b^2 (a positive factor), so both are positive definite together.
    F = torch.cat([_random_F(6, 2, 0.5), 0.55 * _random_F(3, 3, 0.1), 1.6 * _random_F(3, 4, 0.1)])
    F = torch.where(torch.det(F)[:, None, None] > 0, F, -F)
    J = torch.det(F)
    _, CJ = model.cauchy_and_abaqus_tangent(F)
    CJ = J[:, None, None, None, None] * CJ
    c, Q = torch.linalg.eigh(F @ F.transpose(-1, -2))
    R = torch.einsum("nia,njb,nkc,nld,nijkl->nabcd", Q, Q, Q, Q, CJ)
    eps = 0.5 * torch.log(c)
    tau, D = logarithmic_tangent(model, F)
    Dp = torch.einsum("nia,njb,nkc,nld,nijkl->nabcd", Q, Q, Q, Q, D)
    idx = torch.arange(3)
    block_J = R[:, idx[:, None], idx[:, None], idx[None, :], idx[None, :]]
    block_D = Dp[:, idx[:, None], idx[:, None], idx[None, :], idx[None, :]]
    assert torch.allclose(block_J, block_D, rtol=1e-10, atol=1e-10 * float(block_D.abs().max()))
    for a, b in ((0, 1), (1, 2), (0, 2)):
        r = c[:, a] / c[:, b]
        factor = torch.where((r - 1).abs() < 1e-8, torch.ones_like(r), (r + 1) * torch.log(r) / (2 * (r - 1)))
        assert torch.allclose(R[:, a, b, a, b], factor * Dp[:, a, b, a, b], rtol=1e-8, atol=1e-9)
    jaumann_pd = torch.linalg.eigvalsh(to_mandel(0.5 * (CJ + CJ.permute(0, 3, 4, 1, 2)), "stiffness"))[:, 0] > 0
    assert torch.equal(jaumann_pd, drucker_stable(model, F))
    assert not bool(eps.isnan().any())


def test_incompressible_moduli_on_the_deviatoric_plane() -> None:
    # the incompressible criterion = the compressible one restricted to traceless increments: for MR in the
    # uniaxial state the deviatoric 2x2 block's eigenvalues are the axial mode (1, -1/2, -1/2)/sqrt(3/2), with
    # modulus (2/3) d tau/d ln lam, and the lateral mode 4 (C10/lam + C01 lam) (see above)
    C10, C01, lam = 0.3, 0.02, 2.5
    m = principal_drucker_moduli(MooneyRivlin(C10, C01), mode_stretches(torch.tensor(lam, dtype=DT), "uniaxial"))
    axial = (2 / 3) * 2 * (2 * C10 * lam**2 + C01 * lam + C10 / lam + 2 * C01 / lam**2)
    lateral = 4 * (C10 / lam + C01 * lam)
    assert torch.allclose(m[:2].sort().values, torch.tensor(sorted([axial, lateral]), dtype=DT), rtol=1e-12)
    # the shear moduli (tau_a - tau_b)/(eps_a - eps_b): G_23 at coincident lateral stretches is the limit
    tau_uni = 2 * (lam**2 - 1 / lam) * (C10 + C01 / lam)
    assert float(m[2]) == pytest.approx(tau_uni / (1.5 * math.log(lam)), rel=1e-12)
    assert float(m[3]) == pytest.approx(lateral, rel=1e-8)


def test_bad_input() -> None:
    from constitutive.models import J2Plasticity

    with pytest.raises(ValueError, match="hyperelastic"):
        stability(J2Plasticity(E=200e3, nu=0.3, sigma_y=250.0))
    with pytest.raises(ValueError, match="lambda_min < 1 < lambda_max"):
        stability(NeoHookean(1.0), stretches=(1.2, 5.0))
    with pytest.raises(ValueError, match="det F must be 1"):
        drucker_stable(NeoHookean(1.0), 1.1 * torch.eye(3, dtype=DT))
    with pytest.raises(ValueError, match="unknown stability test mode|modes must be"):
        stability(NeoHookean(1.0), modes=["shear"])
    with pytest.raises(ValueError, match="limiting chain extensibility"):
        drucker_margin(Gent(0.3, 2.0), torch.diag(torch.tensor([4.0, 0.5, 0.5], dtype=DT)))


# ---------------------------------------------------------------------------------------------- stable fits
def _example():
    spec = importlib.util.spec_from_file_location(
        "_stability_treloar", Path(__file__).resolve().parents[1] / "examples" / "calibration" / "stability_treloar.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_unconstrained_ogden_fit_to_treloar_pure_shear_is_unstable_and_the_constrained_one_is_not(tmp_path) -> None:
    # the example's fits (examples/calibration/stability_treloar.py): Ogden, 3 terms, Treloar pure shear, exponent
    # bounds only (the mu_p alpha_p > 0 sign bounds of calibrate_treloar.py make every term stable by itself)
    example = _example()
    out = example.main(tmp_path)
    exp = load_treloar("pure_shear").experiment()
    free, stable = out["free"], out["stable"]
    rep = free.stability
    # unstable in planar tension inside the range of the very data it was fitted to (lam up to 4.9)
    lam_planar = rep.limits["planar"]["tension"]
    assert lam_planar is not None and 1.5 < lam_planar < float(exp.x.max()), str(rep)
    assert not rep.stable and "UNSTABLE" in free.summary() and "## Drucker stability" in free.report()
    # the penalty fit is stable over the whole range, with a slightly larger error, reported beside
    assert stable.stable_range == (0.1, 10.0)
    assert stable.stability.stable, str(stable.stability)
    assert bool(
        drucker_stable(stable.model, mode_stretches(torch.tensor([2.0, 4.9], dtype=DT), "planar").diag_embed()).all()
    )
    # both converged: the unconstrained minimum is unstable, so the penalty was active on the way (while it is zero
    # the two fits take the same steps); stability costs a little error
    assert free.success and stable.success
    e_free, e_stable = free.rms["treloar_pure_shear"], stable.rms["treloar_pure_shear"]
    assert e_free < e_stable < 1.05 * e_free
    assert "stability penalty (`stable_range`)" in stable.report()
    # the statistics use the data rows only
    assert stable.jacobian.shape == (len(exp), 6)
    # the example's table: the shipped fits' limits (Mooney-Rivlin's C01 < 0 loses equibiaxial stability; Ogden's
    # published constants with K = 2000 fail in volumetric compression at J = 1/2 (quadratic U); the joint Ogden
    # fit with sign-bounded terms is stable)
    reps = out["reports"]
    assert reps["natural_rubber_mooneyrivlin_treloar_fit"].limits["equibiaxial"]["tension"] == pytest.approx(
        8.47, rel=2e-3
    )
    assert reps["natural_rubber_ogden_treloar"].limits["volumetric"]["compression"] == pytest.approx(0.5 ** (1 / 3))
    assert reps["natural_rubber_ogden_treloar_fit"].stable and reps["natural_rubber_neohookean_treloar_fit"].stable
    assert out["free_rms"] == free.rms[exp.name] and out["stable_rms"] == stable.rms[exp.name]
    assert "**2.31**" in out["table"] and out["figure"].exists()


def test_stable_range_in_configs_and_its_errors(tmp_path) -> None:
    from constitutive.calibrate import Experiment, run_config
    from constitutive.models import J2Plasticity

    cfg = {
        "model": "NeoHookean",
        "name": "nh",
        "initial": {"mu": 0.5},
        "stable_range": [0.2, 5.0],
        "experiments": [
            {"file": "treloar_uniaxial.csv", "mode": "uniaxial", "x": "stretch", "y": "nominal_stress_kgf_per_cm2"}
        ],
    }
    res, paths = run_config(cfg, tmp_path, verbose=0)
    assert res.stable_range == (0.2, 5.0) and res.stability.stable
    assert "## Drucker stability" in paths["report"].read_text()
    with pytest.raises(ValueError, match="stable_range must be"):
        run_config({**cfg, "stable_range": 3.0}, tmp_path / "b", verbose=0)
    exp = Experiment.uniaxial_stress([0.001, 0.002, 0.003], [200.0, 300.0, 320.0])
    with pytest.raises(ValueError, match="stable_range applies to isotropic hyperelastic"):
        calibrate(J2Plasticity, exp, {"sigma_y": 250.0}, fixed={"E": 2e5, "nu": 0.3}, stable_range=(0.5, 2.0))
    with pytest.raises(ValueError, match="lambda_min < 1 < lambda_max"):
        calibrate(
            NeoHookean, Experiment.rubber("uniaxial", [1.5, 2.0], [0.3, 0.5]), {"mu": 0.4}, stable_range=(0.5, 0.9)
        )


def test_a_penalty_that_cannot_succeed_warns() -> None:
    # C01 held at -0.05 and C10 <= 0.2: uniaxial tension is lost at sqrt(C10/0.05) <= 2, inside (0.5, 4)
    exp = load_treloar("uniaxial").experiment()
    with pytest.warns(UserWarning, match="did not make the fit Drucker stable"):
        res = calibrate(
            MooneyRivlin,
            exp,
            {"C10": 0.15, "C01": -0.05},
            fixed=["C01"],
            bounds={"C10": (0.06, 0.2)},
            stable_range=(0.5, 4.0),
        )
    assert not res.stability.stable and "did not make the fit Drucker stable" in res.report()
    assert res.stability.limits["uniaxial"]["tension"] == pytest.approx(math.sqrt(res.parameters["C10"] / 0.05))


def test_penalty_residuals_and_their_parameter_derivatives() -> None:
    from constitutive.calibrate import StabilityPenalty

    penalty = StabilityPenalty((0.1, 10.0), scale=1.0, points=12)
    # the unconstrained pure-shear Ogden fit (unstable): active penalty rows; a stable model: all zero
    theta0 = torch.tensor([-0.2672, 0.00208, -0.7846, 1.479, 4.622, -1.479], dtype=DT)

    def residuals(theta: torch.Tensor) -> torch.Tensor:
        return penalty.residuals(Ogden(theta[:3], theta[3:]))

    r = residuals(theta0)
    assert r.shape == (penalty.size(Ogden(theta0[:3], theta0[3:])),) == (6,) and bool((r > 0).any())
    assert penalty.violated(Ogden(theta0[:3], theta0[3:]))
    assert not bool(penalty.residuals(Ogden([0.5, 0.01], [2.0, 5.0])).any())
    J = torch.autograd.functional.jacobian(residuals, theta0)
    h = 1e-6
    # the worst stretches move with theta, the derivative holds them (envelope theorem: exact at the minimiser;
    # they come from a grid and a parabola, hence 1e-3 below); with them frozen, to round-off
    fd_moving = torch.stack(
        [(residuals(theta0 + h * e) - residuals(theta0 - h * e)) / (2 * h) for e in torch.eye(6, dtype=DT)], -1
    )
    assert torch.allclose(J, fd_moving, rtol=1e-3, atol=1e-4 * float(fd_moving.abs().max()))
    frozen = penalty.worst_stretches(Ogden(theta0[:3], theta0[3:]))
    penalty.worst_stretches = lambda model, fine=200: frozen  # type: ignore[method-assign]
    fd = torch.stack(
        [(residuals(theta0 + h * e) - residuals(theta0 - h * e)) / (2 * h) for e in torch.eye(6, dtype=DT)], -1
    )
    assert torch.allclose(J, fd, rtol=1e-5, atol=1e-6 * float(fd.abs().max()))
