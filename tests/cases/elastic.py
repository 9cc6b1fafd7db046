"""Harness entries for linear elasticity (every symmetry class) and user-defined models.

Each ``linear_limit`` is built here by an independent route (closed forms, numpy inverses and numpy rotations, an
explicit index loop for notation), never by calling the model's own stiffness code.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from constitutive.models import (
    Anisotropic,
    Cubic,
    LinearElastic,
    Orthotropic,
    TransverselyIsotropic,
    from_energy,
    from_stress,
)
from constitutive.tensor import ddot, trace

from . import ModelCase, isotropic_stiffness, random_strains

_gen = torch.Generator().manual_seed(20261129)


def _strains(n: int, scale: float) -> torch.Tensor:
    return random_strains(n, scale, _gen)


# Textbook Voigt order 11 22 33 23 13 12, written out here on purpose (independent of constitutive.notation).
_VOIGT_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def _tensor_from_voigt_stiffness(M: np.ndarray, pairs=_VOIGT_PAIRS, weights=(1, 1, 1, 1, 1, 1)) -> torch.Tensor:
    """C_ijkl = M_IJ / (w_I w_J) for every (ij) in slot I, (kl) in slot J, both orders of each pair."""
    C = np.zeros((3, 3, 3, 3))
    for I, (i, j) in enumerate(pairs):
        for J, (k, l) in enumerate(pairs):
            v = M[I, J] / (weights[I] * weights[J])
            for a, b in {(i, j), (j, i)}:
                for c, d in {(k, l), (l, k)}:
                    C[a, b, c, d] = v
    return torch.from_numpy(C)


def _rotate_np(C: torch.Tensor, A: np.ndarray) -> torch.Tensor:
    """C'_ijkl = A_ai A_bj A_ck A_dl C_abcd with A's rows the material axes."""
    return torch.from_numpy(np.einsum("ai,bj,ck,dl,abcd->ijkl", A, A, A, A, C.numpy()))


def _rotation(axis: tuple[float, float, float], angle: float) -> np.ndarray:
    """Rodrigues' rotation matrix about ``axis``."""
    k = np.asarray(axis, dtype=float)
    k = k / np.linalg.norm(k)
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * K + (1 - math.cos(angle)) * K @ K


# ---------------------------------------------------------------------------------------------------- isotropic
_E, _NU = 210000.0, 0.3
_LAM = _E * _NU / ((1 + _NU) * (1 - 2 * _NU))
_MU = _E / (2 * (1 + _NU))

# ------------------------------------------------------------------------------------------------- orthotropic
# Engineering constants of a unidirectional carbon/epoxy-like ply (MPa), material axes rotated about (1, 2, 3).
_ORTHO = dict(E1=140e3, E2=10e3, E3=9e3, nu12=0.3, nu13=0.28, nu23=0.45, G12=5e3, G13=4.8e3, G23=3.5e3)
_ORTHO_AXES = _rotation((1.0, 2.0, 3.0), 0.7).T  # rows = material axes


def _ortho_limit() -> torch.Tensor:
    c = _ORTHO
    S = np.zeros((6, 6))
    S[0, 0], S[1, 1], S[2, 2] = 1 / c["E1"], 1 / c["E2"], 1 / c["E3"]
    S[0, 1] = S[1, 0] = -c["nu12"] / c["E1"]
    S[0, 2] = S[2, 0] = -c["nu13"] / c["E1"]
    S[1, 2] = S[2, 1] = -c["nu23"] / c["E2"]
    S[3, 3], S[4, 4], S[5, 5] = 1 / c["G23"], 1 / c["G13"], 1 / c["G12"]
    return _rotate_np(_tensor_from_voigt_stiffness(np.linalg.inv(S)), _ORTHO_AXES)


# ------------------------------------------------------------------------------------------ transversely isotropic
_TI = dict(E_p=12e3, E_t=70e3, nu_p=0.4, nu_pt=0.05, G_t=4e3)
_TI_AXIS = (1.0, -2.0, 0.5)


def _ti_limit() -> torch.Tensor:
    c = _TI
    S = np.zeros((6, 6))
    S[0, 0] = S[1, 1] = 1 / c["E_p"]
    S[2, 2] = 1 / c["E_t"]
    S[0, 1] = S[1, 0] = -c["nu_p"] / c["E_p"]
    S[0, 2] = S[2, 0] = S[1, 2] = S[2, 1] = -c["nu_pt"] / c["E_p"]
    S[3, 3] = S[4, 4] = 1 / c["G_t"]
    S[5, 5] = 2 * (1 + c["nu_p"]) / c["E_p"]
    C_mat = _tensor_from_voigt_stiffness(np.linalg.inv(S))
    # Any rotation taking e3 to the axis will do (transverse isotropy); use the one about e3 x n.
    n = np.asarray(_TI_AXIS) / np.linalg.norm(_TI_AXIS)
    R = _rotation(tuple(np.cross([0.0, 0.0, 1.0], n)), math.acos(n[2]))  # R e3 = n
    return _rotate_np(C_mat, R.T)


# --------------------------------------------------------------------------------------------------------- cubic
# Copper single crystal, GPa (Simmons & Wang 1971; Kittel, Introduction to Solid State Physics, table 4.3).
_CU = dict(C11=168.4, C12=121.4, C44=75.4)
_CU_AXES = _rotation((0.0, 0.3, 1.0), 0.4).T


def _cubic_limit() -> torch.Tensor:
    a, b, c = _CU["C11"], _CU["C12"], _CU["C44"]
    M = np.array(
        [[a, b, b, 0, 0, 0], [b, a, b, 0, 0, 0], [b, b, a, 0, 0, 0], [0, 0, 0, c, 0, 0], [0, 0, 0, 0, c, 0]]
        + [[0, 0, 0, 0, 0, c]]
    )
    return _rotate_np(_tensor_from_voigt_stiffness(M), _CU_AXES)


# --------------------------------------------------------------------------------------------------- anisotropic
# A random positive-definite Mandel matrix in Abaqus order (11 22 33 12 13 23), shear factor sqrt(2) per index.
_ABAQUS_PAIRS = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
_MANDEL_W = (1.0, 1.0, 1.0, math.sqrt(2.0), math.sqrt(2.0), math.sqrt(2.0))
_rng = np.random.default_rng(7)
_B = _rng.normal(size=(6, 6))
_ANISO_MANDEL = 100.0 * (_B @ _B.T + 2.0 * np.eye(6))


def _aniso_limit() -> torch.Tensor:
    return _tensor_from_voigt_stiffness(_ANISO_MANDEL, _ABAQUS_PAIRS, _MANDEL_W)


# ---------------------------------------------------------------------------------------------- user-defined
_UL, _UM, _UC = 1.5, 2.0, 3.0


def _quartic_energy(eps: torch.Tensor, lmbda: torch.Tensor, mu: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    # Isotropic, nonlinear: ψ = λ/2 (tr ε)² + μ ε:ε + c (tr ε)^4 + c/3 tr(ε³)
    return 0.5 * lmbda * trace(eps) ** 2 + mu * ddot(eps, eps) + c * trace(eps) ** 4 + c / 3 * trace(eps @ eps @ eps)


def _nonassociated_stress(eps: torch.Tensor, lmbda: torch.Tensor, mu: torch.Tensor, beta: torch.Tensor):
    # σ = λ tr(ε) I + 2μ ε + β tr(ε) ε: isotropic, but its tangent β(ε ⊗ I + tr ε I^s) is not major-symmetric.
    eye = torch.eye(3, dtype=eps.dtype, device=eps.device)
    return lmbda * trace(eps) * eye + 2 * mu * eps + beta * trace(eps) * eps


CASES: list[ModelCase] = [
    ModelCase(
        id="LinearElastic-E-nu",
        make=lambda: LinearElastic(E=_E, nu=_NU),
        strains=_strains(4, 1e-3),
        linear_limit=isotropic_stiffness(_LAM, _MU),
        analytic=True,
    ),
    ModelCase(
        id="LinearElastic-K-G-auxetic",
        make=lambda: LinearElastic(K=10.0, G=20.0),  # nu = (30 - 40)/(2 * 50) = -0.1
        strains=_strains(3, 1e-2),
        linear_limit=isotropic_stiffness(10.0 - 2.0 * 20.0 / 3.0, 20.0),
        analytic=True,
    ),
    ModelCase(
        id="TransverselyIsotropic-tilted",
        make=lambda: TransverselyIsotropic(**_TI, axis=_TI_AXIS),
        strains=_strains(3, 1e-3),
        linear_limit=_ti_limit(),
        analytic=True,
        isotropic=False,
    ),
    ModelCase(
        id="Orthotropic-ply-rotated",
        make=lambda: Orthotropic(**_ORTHO, axes=_ORTHO_AXES),
        strains=_strains(3, 1e-3),
        linear_limit=_ortho_limit(),
        analytic=True,
        isotropic=False,
    ),
    ModelCase(
        id="Cubic-copper-rotated",
        make=lambda: Cubic(**_CU, axes=_CU_AXES),
        strains=_strains(3, 1e-3),
        linear_limit=_cubic_limit(),
        analytic=True,
        isotropic=False,
    ),
    ModelCase(
        id="Anisotropic-mandel-abaqus",
        make=lambda: Anisotropic(_ANISO_MANDEL, notation="mandel", order="abaqus"),
        strains=_strains(3, 1e-3),
        linear_limit=_aniso_limit(),
        analytic=True,
        isotropic=False,
    ),
    ModelCase(
        id="from_energy-quartic",
        make=lambda: from_energy(
            _quartic_energy, {"lmbda": _UL, "mu": _UM, "c": _UC}, name="HarnessQuartic", isotropic=True
        ),
        strains=_strains(4, 0.2),
        linear_limit=isotropic_stiffness(_UL, _UM),
    ),
    ModelCase(
        id="from_stress-nonassociated",
        make=lambda: from_stress(
            _nonassociated_stress, {"lmbda": _UL, "mu": _UM, "beta": 5.0}, name="HarnessNonAssociated", isotropic=True
        ),
        strains=_strains(4, 0.2),
        linear_limit=isotropic_stiffness(_UL, _UM),
        major_symmetric=False,
    ),
]
