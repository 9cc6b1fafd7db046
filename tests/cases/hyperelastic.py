"""Harness entries for the hyperelastic models (compressible configurations: the harness needs a 3-D stress).

Strains are Green--Lagrange strains of moderate size (|E| ~ 0.1), random, with distinct principal values (the
automatic-differentiation tangent of the principal-stretch models is taken through ``eigh``, singular at repeated
eigenvalues; exactness there is tested in tests/test_hyperelastic.py). Each ``linear_limit`` is
λ0 I⊗I + 2 μ0 I^s written here with numpy from the initial moduli computed by hand from the parameters, never from
the model's own code.
"""

from __future__ import annotations

import torch

from constitutive.models.hyperelastic import (
    ArrudaBoyce,
    Gent,
    MooneyRivlin,
    NeoHookean,
    Ogden,
    SaintVenantKirchhoff,
    Yeoh,
)

from . import ModelCase, isotropic_stiffness, random_strains

_gen = torch.Generator().manual_seed(4042)


def _strains(n: int, scale: float) -> torch.Tensor:
    return random_strains(n, scale, _gen)


def _isotropic(K: float, mu: float) -> torch.Tensor:
    return isotropic_stiffness(K - 2.0 * mu / 3.0, mu)


# Ogden's Treloar fit (MPa) with an assumed bulk modulus.
_OGDEN_MU = [0.618, 0.00118, -0.00981]
_OGDEN_ALPHA = [1.3, 5.0, -2.0]
_OGDEN_MU0 = 0.5 * (0.618 * 1.3 + 0.00118 * 5.0 + 0.00981 * 2.0)

# Arruda-Boyce: mu0 = mu (1 + 3/(5N) + 99/(175N^2) + 513/(875N^3) + 42039/(67375N^4)).
_AB_N = 6.0
_AB_MU0 = 0.3 * (1 + 3 / (5 * _AB_N) + 99 / (175 * _AB_N**2) + 513 / (875 * _AB_N**3) + 42039 / (67375 * _AB_N**4))

_E = _strains(4, 0.08)

CASES: list[ModelCase] = [
    ModelCase(
        id="SaintVenantKirchhoff",
        make=lambda: SaintVenantKirchhoff(lmbda=1.2, mu=0.8),
        strains=_E,
        linear_limit=_isotropic(1.2 + 2 * 0.8 / 3, 0.8),
        analytic=True,
    ),
    ModelCase(
        id="NeoHookean-ciarlet",
        make=lambda: NeoHookean(mu=0.8, lmbda=1.2),
        strains=_E,
        linear_limit=_isotropic(1.2 + 2 * 0.8 / 3, 0.8),
        analytic=True,
    ),
    ModelCase(
        id="NeoHookean-ciarlet_geymonat",
        make=lambda: NeoHookean(mu=0.8, lmbda=1.2, form="ciarlet_geymonat"),
        strains=_E,
        linear_limit=_isotropic(1.2 + 2 * 0.8 / 3, 0.8),
        analytic=True,
    ),
    ModelCase(
        id="NeoHookean-isochoric-simo_taylor",
        make=lambda: NeoHookean(mu=0.8, lmbda=1.2, form="isochoric", volumetric="simo_taylor"),
        strains=_E,
        linear_limit=_isotropic(1.2 + 2 * 0.8 / 3, 0.8),
        analytic=True,
    ),
    ModelCase(
        id="MooneyRivlin",
        make=lambda: MooneyRivlin(C10=0.3, C01=0.05, K=3.0),
        strains=_E,
        linear_limit=_isotropic(3.0, 2 * (0.3 + 0.05)),
        analytic=True,
    ),
    ModelCase(
        id="Yeoh-log",
        make=lambda: Yeoh(C10=0.4, C20=-0.02, C30=0.005, K=2.5, volumetric="log"),
        strains=_E,
        linear_limit=_isotropic(2.5, 2 * 0.4),
        analytic=True,
    ),
    ModelCase(
        id="Ogden-treloar",
        make=lambda: Ogden(mu=_OGDEN_MU, alpha=_OGDEN_ALPHA, K=2.0),
        strains=_E,
        linear_limit=_isotropic(2.0, _OGDEN_MU0),
        analytic=True,
    ),
    ModelCase(
        id="ArrudaBoyce",
        make=lambda: ArrudaBoyce(mu=0.3, N=_AB_N, K=2.0),
        strains=_E,
        linear_limit=_isotropic(2.0, _AB_MU0),
        analytic=True,
    ),
    ModelCase(
        id="Gent-simo_taylor",
        make=lambda: Gent(mu=0.5, Jm=20.0, K=4.0, volumetric="simo_taylor"),
        strains=_E,
        linear_limit=_isotropic(4.0, 0.5),
        analytic=True,
    ),
]

# Holzapfel-Gasser-Ogden (anisotropic: the harness skips its isotropic objectivity check; tests/test_hgo.py checks
# objectivity with the fibres). At these strains every fibre family is clearly on or off (|E_alpha| > 1e-3, away
# from the kink of the tangent at E_alpha = 0); at E = 0 the fibres are off, so the linear limit is the matrix's.
from constitutive.models.anisotropic import HolzapfelGasserOgden  # noqa: E402

_HGO_DIRECTIONS = [[0.8, 0.6, 0.0], [0.8, -0.6, 0.0], [0.0, 0.6, 0.8]]

CASES.append(
    ModelCase(
        id="HolzapfelGasserOgden",
        make=lambda: HolzapfelGasserOgden(C10=0.3, K=5.0, k1=2.0, k2=1.5, kappa=0.1, directions=_HGO_DIRECTIONS),
        strains=_strains(4, 0.08),
        linear_limit=_isotropic(5.0, 2 * 0.3),
        analytic=True,
        isotropic=False,
    )
)
