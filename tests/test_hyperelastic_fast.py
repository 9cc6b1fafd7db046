"""The fast hyperelastic routes (issue 13) against the reference routes they replace: closed-form invariant and
principal derivatives, the components-first chunked kernels for S + dS/dE and P + A, and the vectorised Jacobi
eigen-solver -- at random states, near the identity, at the identity and at repeated stretches (uniaxial,
equibiaxial), batched and unbatched, in float64 and float32, through autograd and inside torch.func transforms.

The reference routes (``_invariant_response_reference``, ``_spectral_response_reference``) differentiate the energy
by ``torch.func`` and build the tangent in the ``(..., 3, 3)`` layout with :func:`constitutive.tensor.
spectral_derivative`; :func:`constitutive.kinematics.material_to_first_elasticity` converts them to P and A."""

from __future__ import annotations

import pytest
import torch

from constitutive.kinematics import material_to_first_elasticity
from constitutive.models import (
    BULK_MODULUS,
    InvariantHyperelastic,
    Parameter,
    StretchHyperelastic,
    isochoric_stretches,
)
from constitutive.models import _hyperfast as hf
from constitutive.models.base import MODELS
from constitutive.models.hyperelastic import (
    ArrudaBoyce,
    Gent,
    HyperelasticMaterial,
    MooneyRivlin,
    NeoHookean,
    Ogden,
    Yeoh,
)

D = torch.float64
TRELOAR_MU, TRELOAR_ALPHA = [0.618, 0.00118, -0.00981], [1.3, 5.0, -2.0]


class FastHookGent(InvariantHyperelastic):
    """A user model without closed-form derivatives: the fast kernels with torch.func scalar derivatives."""

    mu = Parameter("shear modulus", unit="stress")
    Jm = Parameter("locking", unit="1")
    K = BULK_MODULUS

    def psi_isochoric(self, I1bar, I2bar, J):
        return -0.5 * self.mu * self.Jm * torch.log1p(-(I1bar - 3) / self.Jm) + self.volumetric_term(J)


class FastHookOgden(StretchHyperelastic):
    """A user principal-stretch model (torch.func principal derivatives, Jacobi eigenvectors)."""

    mu = Parameter("modulus", unit="stress")
    alpha = Parameter("exponent", unit="1")
    K = BULK_MODULUS

    def psi_stretches(self, lam):
        lam_bar, J = isochoric_stretches(lam)
        return self.mu / self.alpha * ((lam_bar**self.alpha).sum(-1) - 3) + self.volumetric_term(J)


@pytest.fixture(scope="module", autouse=True)
def _unregister():
    yield
    for name in ("FastHookGent", "FastHookOgden"):
        MODELS.pop(name, None)


MODELS_UNDER_TEST = [
    NeoHookean(0.8, 1.2),
    NeoHookean(0.8, 1.2, form="ciarlet_geymonat"),
    NeoHookean(0.8, 1.2, form="isochoric", volumetric="log"),
    MooneyRivlin(0.3, 0.08, K=5.0),
    MooneyRivlin(0.3, 0.08, K=5.0, volumetric="simo_taylor"),
    Yeoh(0.4, -0.01, 0.002, K=3.0),
    ArrudaBoyce(0.3, 6.0, K=2.0, volumetric="log"),
    Gent(0.5, 20.0, K=4.0),
    Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=2.0),
    Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=2.0, volumetric="simo_taylor"),
    FastHookGent(0.5, 20.0, K=4.0),
    FastHookOgden(0.7, 2.5, K=3.0),
]


def _ids(m: HyperelasticMaterial) -> str:
    return f"{type(m).__name__}-{m.to_dict().get('options', {})}"


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))


def _rotation(seed: int) -> torch.Tensor:
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(seed), dtype=D))
    q = q * torch.sign(torch.diagonal(r))
    return q * torch.linalg.det(q)


def _states() -> torch.Tensor:
    """F (9, 3, 3): random, near the identity (1e-7), the identity, rotated uniaxial and equibiaxial stretches
    (two equal principal stretches), rotated pure shear (distinct) and a nearly repeated pair (gap 1e-9)."""
    g = torch.Generator().manual_seed(7)
    rand = torch.eye(3, dtype=D) + 0.25 * torch.randn(3, 3, 3, generator=g, dtype=D)
    near = torch.eye(3, dtype=D) + 1e-7 * torch.randn(1, 3, 3, generator=g, dtype=D)
    Q, R = _rotation(1), _rotation(2)
    stretches = torch.tensor(
        [[1.3, 1.3**-0.5, 1.3**-0.5], [1.2, 1.2, 1.2**-2], [1.4, 1.0, 1.4**-1], [1.1, 1.1 + 1e-9, 0.9]], dtype=D
    )
    U = Q @ torch.diag_embed(stretches) @ Q.T
    return torch.cat([rand, near, torch.eye(3, dtype=D)[None], R @ U])


F_STATES = _states()
E_STATES = 0.5 * (F_STATES.transpose(-1, -2) @ F_STATES - torch.eye(3, dtype=D))


def _reference(model: HyperelasticMaterial, E: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    route = model._spectral_response_reference if model._principal_model else model._invariant_response_reference
    S, CC = route(E, True)
    assert CC is not None
    return S, CC


@pytest.mark.parametrize("model", MODELS_UNDER_TEST, ids=_ids)
def test_fast_routes_equal_reference(model: HyperelasticMaterial) -> None:
    S0, C0 = _reference(model, E_STATES)
    S, CC = model.stress_and_tangent(E_STATES)
    assert _rel(S, S0) < 1e-13 and _rel(CC, C0) < 1e-13
    assert _rel(model.stress(E_STATES), S0) < 1e-13
    P, A = model.first_piola_and_elasticity(F_STATES)
    assert _rel(P, F_STATES @ S0) < 1e-13
    assert _rel(A, material_to_first_elasticity(C0, S0, F_STATES)) < 1e-13
    assert torch.equal(model.first_piola(F_STATES), P) and torch.equal(model.first_elasticity(F_STATES), A)
    # batch shapes: (3, 3) unbatched, (3, 3, 3, 3) from a (3, 3)-batch of points; the layout is contiguous
    S1, C1 = model.stress_and_tangent(E_STATES[0])
    assert S1.shape == (3, 3) and C1.shape == (3, 3, 3, 3) and _rel(C1, C0[0]) < 1e-13
    P2, A2 = model.first_piola_and_elasticity(F_STATES[:6].reshape(2, 3, 3, 3))
    assert A2.shape == (2, 3, 3, 3, 3, 3) and A2.is_contiguous() and _rel(A2.reshape(6, 3, 3, 3, 3), A[:6]) < 1e-15


@pytest.mark.parametrize("model", [MODELS_UNDER_TEST[2], MODELS_UNDER_TEST[8]], ids=_ids)
def test_chunks_equal_one_pass(model: HyperelasticMaterial, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches larger than a chunk: the chunk loop writes the same values as one pass."""
    S, CC = model.stress_and_tangent(E_STATES)
    P, A = model.first_piola_and_elasticity(F_STATES)
    monkeypatch.setattr(hf, "CHUNK", 4)
    S4, C4 = model.stress_and_tangent(E_STATES)
    P4, A4 = model.first_piola_and_elasticity(F_STATES)
    assert _rel(S4, S) < 1e-15 and _rel(C4, CC) < 1e-15 and _rel(P4, P) < 1e-15 and _rel(A4, A) < 1e-15


@pytest.mark.parametrize("model", [MODELS_UNDER_TEST[0], MODELS_UNDER_TEST[4], MODELS_UNDER_TEST[8]], ids=_ids)
def test_float32(model: HyperelasticMaterial) -> None:
    m32 = type(model).from_dict(model.to_dict(), dtype=torch.float32)
    assert isinstance(m32, HyperelasticMaterial)
    S0, C0 = _reference(model, E_STATES)
    S, CC = m32.stress_and_tangent(E_STATES.float())
    P, A = m32.first_piola_and_elasticity(F_STATES.float())
    assert S.dtype == CC.dtype == P.dtype == A.dtype == torch.float32
    assert _rel(S.double(), S0) < 2e-5 and _rel(CC.double(), C0) < 2e-5
    assert _rel(A.double(), material_to_first_elasticity(C0, S0, F_STATES)) < 2e-5


def test_ogden_exact_at_identity_and_linear_limit() -> None:
    """At F = I (three equal stretches) the fast Ogden tangent is the linear limit to round-off."""
    K = 2000.0
    model = Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=K)
    mu0 = 0.5 * sum(m * a for m, a in zip(TRELOAR_MU, TRELOAR_ALPHA))
    I = torch.eye(3, dtype=D)
    lin = (K - 2 * mu0 / 3) * torch.einsum("ij,kl->ijkl", I, I) + mu0 * (
        torch.einsum("ik,jl->ijkl", I, I) + torch.einsum("il,jk->ijkl", I, I)
    )
    S, CC = model.stress_and_tangent(torch.zeros(2, 3, 3, dtype=D))
    assert float(S.abs().max()) < 1e-12 and _rel(CC, lin.expand(2, 3, 3, 3, 3)) < 1e-13
    assert _rel(model.first_elasticity(I), lin) < 1e-13  # S = 0: A = C at F = I


def test_jacobi_eigensolver() -> None:
    """Reconstruction and orthogonality to round-off for random, repeated (2 and 3 equal), nearly repeated and
    widely spread spectra; eigenvalues equal LAPACK's."""
    g = torch.Generator().manual_seed(3)
    X = torch.randn(6, 3, 3, generator=g, dtype=D)
    Q = torch.linalg.qr(torch.randn(6, 3, 3, generator=g, dtype=D))[0]
    lam = torch.tensor([[1, 1, 1], [2, 1, 1], [1, 1, 3], [1, 1 + 1e-12, 2], [1e-4, 1, 1e4], [-1, 0, 1]], dtype=D)
    A = torch.cat([X + X.transpose(-1, -2), Q @ torch.diag_embed(lam) @ Q.transpose(-1, -2), torch.zeros(1, 3, 3)])
    A = 0.5 * (A + A.transpose(-1, -2))
    w, V = hf.eigh_cf(hf.to_cf(A))
    Vm, wm = V.permute(2, 0, 1), w.t()
    scale = A.abs().amax((-1, -2)).clamp_min(1e-300)
    assert float(((Vm @ torch.diag_embed(wm) @ Vm.transpose(-1, -2) - A).abs().amax((-1, -2)) / scale).max()) < 1e-14
    assert float((Vm.transpose(-1, -2) @ Vm - torch.eye(3, dtype=D)).abs().max()) < 1e-14
    assert float(((wm.sort(-1).values - torch.linalg.eigvalsh(A)).abs().amax(-1) / scale).max()) < 1e-14


def test_autograd_through_fast_routes() -> None:
    """Gradients with respect to a parameter and to the strain equal the reference route's."""
    for make in (
        lambda mu: MooneyRivlin(mu, 0.08, K=5.0),
        lambda mu: Ogden(torch.stack([mu, mu / 10]), [1.3, 4.0], K=2.0),
    ):
        grads = []
        for fast in (True, False):
            mu = torch.tensor(0.3, dtype=D, requires_grad=True)
            E = E_STATES[:3].clone().requires_grad_()  # distinct stretches: eigenvector gradients are defined
            model = make(mu)
            if fast:
                S, CC = model.stress_and_tangent(E)
            else:
                S, CC = _reference(model, E)
            (S.square().sum() + CC.square().sum()).backward()
            assert mu.grad is not None and E.grad is not None
            grads.append((mu.grad.clone(), E.grad.clone()))
        assert _rel(grads[0][0], grads[1][0]) < 1e-12 and _rel(grads[0][1], grads[1][1]) < 1e-12


def test_torch_func_uses_reference_and_agrees() -> None:
    """Inside torch.func transforms the reference route runs; its jacobian of S is the fast tangent."""
    for model in (NeoHookean(0.8, 1.2, form="isochoric"), Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=2.0)):
        E = E_STATES[0]
        jac = torch.func.jacrev(model.stress)(E)
        CC = model.tangent(E)
        assert _rel(0.5 * (jac + jac.transpose(-1, -2)), CC) < 1e-12


def test_domain_checks_and_empty_batches() -> None:
    with pytest.raises(ValueError, match="limiting chain extensibility"):
        Gent(0.5, 0.1, K=4.0).first_piola_and_elasticity(torch.diag(torch.tensor([2.0, 1.0, 1.0], dtype=D)))
    for model in (NeoHookean(0.8, 1.2), Ogden(TRELOAR_MU, TRELOAR_ALPHA, K=2.0)):
        P, A = model.first_piola_and_elasticity(torch.zeros(0, 3, 3, dtype=D))
        assert P.shape == (0, 3, 3) and A.shape == (0, 3, 3, 3, 3)


def test_felupe_neo_hooke_if_installed() -> None:
    """felupe's analytic NeoHooke (the benchmark's peer, optional) gives the same P and A."""
    felupe = pytest.importorskip("felupe", reason="felupe not installed (optional peer of benchmarks/)")
    mu, K = 0.8, 40.0
    model = NeoHookean(mu, K - 2 * mu / 3, form="isochoric")
    P, A = model.first_piola_and_elasticity(F_STATES)
    Fn = F_STATES.permute(1, 2, 0).contiguous().numpy()[:, :, None, :]
    umat = felupe.NeoHooke(mu=mu, bulk=K)
    Pf = torch.from_numpy(umat.gradient([Fn, None])[0][..., 0, :]).permute(2, 0, 1)
    Af = torch.from_numpy(umat.hessian([Fn, None])[0][..., 0, :]).permute(4, 0, 1, 2, 3)
    assert _rel(P, Pf) < 1e-13 and _rel(A, Af) < 1e-13
