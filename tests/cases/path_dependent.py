"""Path-dependent entries for the harness ``tests/test_path_dependent_harness.py``.

Each :class:`PathDependentCase` names a model factory (built in a requested dtype), a strain history ``(S, N, 3, 3)``
of ``S`` steps for ``N`` material points, the time increments of a rate-dependent model, and tolerances. The list is
``PATH_CASES`` (not ``CASES``: ``tests/test_model_harness.py`` collects that name for its elastic-type
``ModelCase`` entries).

The plasticity history (:func:`cyclic_history`) starts with the load cycle the plasticity tests used (multiples of
``amp`` along four fixed deviatoric directions, point 0 uniaxial: loading, further yielding, elastic unloading,
reverse yielding, reloading) and ends with non-proportional steps whose direction turns away from the first one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from constitutive.models import (
    ArmstrongFrederick,
    Chaboche,
    GeneralizedMaxwell,
    J2Plasticity,
    LemaitreDamage,
    PathDependentMaterial,
    Perzyna,
    Prager,
    Swift,
    Voce,
)
from constitutive.tensor import dev


@dataclass
class PathDependentCase:
    """One path-dependent model configuration and the history along which the harness checks it.

    ``make(dtype)`` builds the model in ``dtype``. ``strains`` ``(S, N, 3, 3)`` float64: the total strain at the end
    of each of ``S`` steps for ``N`` points. ``dt``: ``None`` (rate-independent), one float for every step, or a
    float64 tensor ``(S,)`` or ``(S, N)`` (per step, per point). ``rtol``: finite-difference check of the consistent
    tangent (``check_tangent``, central differences with Richardson extrapolation) at every step.
    ``elastoplastic``: the history must contain steps where ``alpha`` grows and steps where it does not anywhere.
    ``converges_iteratively``: ``with_parameters(max_iter=1)`` must raise ``ConvergenceError`` at some step (the
    return map has a Newton iteration; linear hardening with Prager is solved in closed form).
    ``serialisable``: ``to_dict``/``save`` describe the model fully (not so for a user callable hardening).
    ``batch_tol``: ``(rtol, atol)`` for stress, tangent and state of a batch against point-by-point updates.
    ``float32_stress_tol``: ``(rtol, atol)`` of the float32 history's stress against the float64 one;
    ``float32_fd_rtol``: the finite-difference check of the float32 tangent.
    """

    id: str
    make: Callable[[torch.dtype], PathDependentMaterial]
    strains: torch.Tensor
    dt: float | torch.Tensor | None = None
    rtol: float = 1e-6
    elastoplastic: bool = True
    converges_iteratively: bool = True
    serialisable: bool = True
    batch_tol: tuple[tuple[float, float], tuple[float, float], tuple[float, float]] = (
        (1e-13, 1e-9),
        (1e-11, 1e-6),
        (1e-12, 1e-15),
    )
    float32_stress_tol: tuple[float, float] = (1e-4, 1e-2)
    float32_fd_rtol: float = 1e-3

    def step_dt(self, k: int) -> float | torch.Tensor | None:
        """The time increment of step ``k`` (``None``, a float, a 0-d or an ``(N,)`` tensor)."""
        if self.dt is None or isinstance(self.dt, float):
            return self.dt
        return self.dt[k]

    def point_dt(self, k: int, i: int) -> float | None:
        """The time increment of step ``k`` at point ``i`` as a float."""
        d = self.step_dt(k)
        if d is None or isinstance(d, float):
            return d
        return float(d) if d.ndim == 0 else float(d[i])


def _unit_deviatoric(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(4, 3, 3, generator=g, dtype=torch.float64)
    A = 0.5 * (A + A.transpose(-1, -2))
    if seed == 7:
        A[0] = torch.diag(torch.tensor([1.0, -0.3, -0.3], dtype=torch.float64))  # a uniaxial direction at point 0
    return A / dev(A).norm(dim=(-1, -2), keepdim=True)


#: Multiples of the amplitude along the first direction: load, yield further, unload elastically, reverse-yield,
#: unload, reload.
CYCLE = (0.5, 1.0, 1.7, 1.5, 0.3, -0.8, -1.6, -0.5, 1.2)


def cyclic_history(amp: float) -> torch.Tensor:
    """``(12, 4, 3, 3)``: ``amp · t · A`` for t in :data:`CYCLE` (A: four unit deviatoric directions plus a volumetric
    part, point 0 uniaxial), then three non-proportional steps ``amp (1.2 A + s B)`` turning towards a second set of
    directions B and back (s = 0.8, 1.6, -1.0)."""
    A, B = _unit_deviatoric(7), _unit_deviatoric(8)
    steps = [amp * t * A for t in CYCLE] + [amp * (1.2 * A + s * B) for s in (0.8, 1.6, -1.0)]
    return torch.stack(steps)


_E, _NU, _SY = 200e3, 0.3, 250.0
_J2 = cyclic_history(0.006)


def _user_R(a: torch.Tensor) -> torch.Tensor:
    return 100.0 * torch.sqrt(a + 1e-3) - 100.0 * 1e-3**0.5


def _j2(id: str, make: Callable[[torch.dtype], PathDependentMaterial], **kw) -> PathDependentCase:
    return PathDependentCase(id=id, make=make, strains=_J2, **kw)


# Viscoelastic history: random (non-proportional, with volumetric parts) strains of size 1e-2 on the same cycle,
# and per-point, per-step time increments from much shorter to much longer than the relaxation times.
_g = torch.Generator().manual_seed(3)
_VA = torch.randn(4, 3, 3, generator=_g, dtype=torch.float64) * 1e-2
_VB = torch.randn(4, 3, 3, generator=_g, dtype=torch.float64) * 1e-2
_VA, _VB = 0.5 * (_VA + _VA.transpose(-1, -2)), 0.5 * (_VB + _VB.transpose(-1, -2))
_VISCO = torch.stack([t * _VA for t in CYCLE] + [1.2 * _VA + s * _VB for s in (0.8, 1.6, -1.0)])
_DTS = (1e-3, 0.7, 40.0, 0.01, 0.5, 3.0, 100.0, 0.3)
_VISCO_DT = torch.tensor(
    [[_DTS[(k + 2 * i) % len(_DTS)] for i in range(4)] for k in range(_VISCO.shape[0])], dtype=torch.float64
)

PATH_CASES: list[PathDependentCase] = [
    _j2("J2-linear", lambda d: J2Plasticity(_E, _NU, _SY, 1000.0, dtype=d), converges_iteratively=False),
    _j2("J2-perfect", lambda d: J2Plasticity(_E, _NU, _SY, dtype=d), converges_iteratively=False),
    _j2("J2-voce", lambda d: J2Plasticity(_E, _NU, _SY, hardening=Voce(300.0, 20.0), dtype=d)),
    _j2("J2-swift", lambda d: J2Plasticity(_E, _NU, None, hardening=Swift(600.0, 0.004, 0.18), dtype=d)),
    _j2("J2-user", lambda d: J2Plasticity(_E, _NU, _SY, hardening=_user_R, dtype=d), serialisable=False),
    _j2(
        "J2-prager",
        lambda d: J2Plasticity(_E, _NU, _SY, 500.0, kinematic=Prager(5e3), dtype=d),
        converges_iteratively=False,
    ),
    _j2(
        "J2-voce+prager",
        lambda d: J2Plasticity(_E, _NU, _SY, hardening=Voce(200.0, 10.0), kinematic=Prager(5e3), dtype=d),
    ),
    _j2("J2-af", lambda d: J2Plasticity(_E, _NU, _SY, kinematic=ArmstrongFrederick(30e3, 200.0), dtype=d)),
    _j2(
        "J2-chaboche+swift",
        lambda d: J2Plasticity(
            _E,
            _NU,
            None,
            hardening=Swift(500.0, 0.01, 0.2),
            kinematic=Chaboche([40e3, 5e3, 1e3], [400.0, 50.0, 0.0]),
            dtype=d,
        ),
    ),
    _j2(
        "J2-chaboche+voce",
        lambda d: J2Plasticity(
            _E, _NU, _SY, 200.0, hardening=Voce(100.0, 30.0), kinematic=Chaboche([20e3, 3e3], [200.0, 20.0]), dtype=d
        ),
    ),
    _j2("Perzyna-linear", lambda d: Perzyna(_E, _NU, _SY, 1000.0, eta=0.5, m=1.0, dtype=d), dt=0.01),
    _j2(
        "Perzyna-voce-m3",
        lambda d: Perzyna(_E, _NU, _SY, hardening=Voce(300.0, 20.0), eta=0.2, m=3.0, dtype=d),
        dt=0.05,
    ),
    _j2(
        "Perzyna-prager",
        lambda d: Perzyna(_E, _NU, _SY, 300.0, eta=0.5, m=2.0, kinematic=Prager(5e3), dtype=d),
        dt=0.02,
    ),
    _j2(
        "Perzyna-chaboche",
        lambda d: Perzyna(
            _E,
            _NU,
            _SY,
            hardening=Voce(100.0, 20.0),
            eta=0.5,
            m=1.5,
            kinematic=Chaboche([20e3, 2e3], [200.0, 10.0]),
            dtype=d,
        ),
        dt=0.02,
    ),
    PathDependentCase(
        id="GeneralizedMaxwell",
        make=lambda d: GeneralizedMaxwell(
            K_inf=2000.0,
            G_inf=100.0,
            prony_shear=[(300.0, 0.5), (150.0, 5.0), (60.0, 50.0)],
            prony_bulk=[(800.0, 0.2), (400.0, 8.0)],
            dtype=d,
        ),  # fmt: skip
        strains=_VISCO,
        dt=_VISCO_DT,
        rtol=1e-8,
        elastoplastic=False,
        converges_iteratively=False,
        batch_tol=((1e-14, 1e-14), (1e-14, 0.0), (1e-14, 1e-16)),
        float32_stress_tol=(1e-5, 1e-4),
    ),
]

# Hill48 (appended): the J2 history in rotated material axes, with Voce/Swift hardening; von Mises constants with
# linear hardening reduce to J2 (solved by the same scalar Newton, so it still iterates).
from constitutive.models import Hill48  # noqa: E402

_HILL_EULER = (30.0, 20.0, 10.0)
PATH_CASES += [
    _j2(
        "Hill48-lankford-voce",
        lambda d: Hill48.from_lankford(
            1.9, 1.4, 2.3, E=_E, nu=_NU, sigma_y=_SY, hardening=Voce(300.0, 20.0), euler=_HILL_EULER, dtype=d
        ),
    ),
    _j2(
        "Hill48-ratios-swift",
        lambda d: Hill48.from_yield_ratios(
            1.0,
            0.9,
            1.1,
            0.95,
            1.05,
            1.0,
            E=_E,
            nu=_NU,
            sigma_y=None,
            hardening=Swift(600.0, 0.004, 0.18),
            euler=_HILL_EULER,
            dtype=d,
        ),  # fmt: skip
    ),
]

# ---------------------------------------------------------------------------------------------------------------
# Frictional plasticity (constitutive.models.geomechanics): Drucker--Prager and Mohr--Coulomb
# ---------------------------------------------------------------------------------------------------------------
from constitutive.models import DruckerPrager, MohrCoulomb  # noqa: E402


def geo_history(amp: float = 1.5e-3) -> torch.Tensor:
    """``(10, 4, 3, 3)``: four random directions A (distinct eigenvalues) with volumetric compression, loaded,
    unloaded and reversed (smooth cone/plane returns, elastic steps), then turned towards a second direction B with
    growing volumetric tension (Mohr--Coulomb edge returns, then apex returns at every point)."""
    g = torch.Generator().manual_seed(11)
    A = torch.randn(4, 3, 3, generator=g, dtype=torch.float64)
    A = 0.5 * (A + A.transpose(-1, -2))
    A = A / A.norm(dim=(-1, -2), keepdim=True)
    B = torch.randn(4, 3, 3, generator=g, dtype=torch.float64)
    B = 0.5 * (B + B.transpose(-1, -2))
    B = B / B.norm(dim=(-1, -2), keepdim=True)
    I = torch.eye(3, dtype=torch.float64)
    steps = [amp * (t * A - 0.4 * abs(t) * I) for t in (0.5, 1.0, 1.8, 1.4, 0.3, -0.7, -1.5)]
    steps += [amp * (-1.5 * A + s * B + v * I) for s, v in ((0.8, 0.4), (0.3, 1.8), (0.1, 3.0))]
    return torch.stack(steps)


_GEO = geo_history()
# hardening everywhere: at a perfectly plastic apex the tangent is exactly zero, which a finite-difference check
# cannot confirm to a relative tolerance
PATH_CASES += [
    PathDependentCase(
        "DruckerPrager-nonassociated",
        lambda d: DruckerPrager(20e3, 0.25, 30.0, 30.0, 2000.0, psi=10.0, dtype=d),
        _GEO,
        converges_iteratively=False,
    ),
    PathDependentCase(
        "DruckerPrager-voce",
        lambda d: DruckerPrager(20e3, 0.25, 35.0, 30.0, 500.0, psi=35.0, hardening=Voce(10.0, 100.0), dtype=d),
        _GEO,
    ),
    PathDependentCase(
        "MohrCoulomb-nonassociated",
        lambda d: MohrCoulomb(20e3, 0.25, 30.0, 10.0, 2000.0, psi=10.0, dtype=d),
        _GEO,
        converges_iteratively=False,
    ),
    PathDependentCase(
        "MohrCoulomb-voce",
        lambda d: MohrCoulomb(20e3, 0.25, 30.0, 10.0, 500.0, psi=15.0, hardening=Voce(5.0, 200.0), dtype=d),
        _GEO,
    ),
]

# Lemaitre ductile damage coupled to J2 (tests/test_damage.py): fast damage (small S) so that D grows (to 19-46 % at
# the most damaged point) along the cyclic and non-proportional history; a threshold p_D crossed in the Voce case.
PATH_CASES += [
    _j2("Lemaitre-linear", lambda d: LemaitreDamage(_E, _NU, _SY, 1000.0, S=2.0, s=1.0, dtype=d)),
    _j2(
        "Lemaitre-voce-threshold",
        lambda d: LemaitreDamage(_E, _NU, _SY, hardening=Voce(300.0, 20.0), S=3.0, s=2.0, p_D=0.004, D_c=0.5, dtype=d),
    ),
]

# Modified Cam-clay (constitutive.models.camclay): the deviatoric part of the plasticity cycle plus a small constant
# compression, from the isotropic state p0 = 100 (stress -p0 I at zero strain); lightly overconsolidated with the
# pressure-dependent shear modulus, normally consolidated with a constant G and a tensile limit.
_CAM = torch.stack([dev(h) for h in cyclic_history(0.02)]) - 0.002 * torch.eye(3, dtype=torch.float64)


def _camclay(id: str, **kw) -> PathDependentCase:
    from constitutive.models import ModifiedCamClay

    return PathDependentCase(
        id=id,
        make=lambda d: ModifiedCamClay(kappa=0.05, lmbda=0.2, M=1.2, e0=1.0, p0=100.0, dtype=d, **kw),
        strains=_CAM,
        batch_tol=((1e-12, 1e-9), (1e-10, 1e-6), (1e-12, 1e-15)),
    )


PATH_CASES += [_camclay("CamClay-nu-OC", pc0=150.0, nu=0.3), _camclay("CamClay-G-NC", pc0=100.0, G=2000.0, p_t=5.0)]


# ThermoMechanical (constitutive.models.thermal, tests/test_thermal.py): J2 with Voce hardening wrapped with
# temperature-dependent E, sigma_y and Q and a thermal expansion; the harness drives no temperature, so every step
# stays at the initial temperature (parameters from the tables there): the wrapper's state, checks, tangent,
# serialisation and failed updates.
def _thermo_j2(d: torch.dtype) -> PathDependentMaterial:
    from constitutive.models import TemperatureTable, ThermoMechanical

    return ThermoMechanical(
        J2Plasticity(_E, _NU, _SY, hardening=Voce(300.0, 20.0), dtype=d),
        parameters={
            "E": TemperatureTable([20.0, 600.0], [_E, 0.5 * _E]),
            "sigma_y": {"temperature": [20.0, 300.0, 600.0], "value": [_SY, 0.9 * _SY, 0.4 * _SY]},
            "Q": TemperatureTable([20.0, 600.0], [300.0, 150.0]),
        },
        expansion=TemperatureTable([20.0, 600.0], [1.2e-5, 1.5e-5]),
        reference_temperature=20.0,
        initial_temperature=250.0,
    )


PATH_CASES += [_j2("ThermoMechanical-J2-voce", _thermo_j2)]
