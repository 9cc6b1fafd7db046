r"""Small-strain linear viscoelasticity: the generalized Maxwell model with Prony series in shear and bulk.

Relaxation moduli (moduli in stress units, relaxation times in time units, long-term moduli first):

.. math::
    G(t) = G_\infty + \sum_{i} g_i\, e^{-t/\tau^G_i}, \qquad K(t) = K_\infty + \sum_{j} k_j\, e^{-t/\tau^K_j},

.. math::
    \sigma(t) = \int_{-\infty}^{t} \Big[ 2 G(t - s)\, \operatorname{dev}\dot\varepsilon(s)
              + K(t - s)\, \operatorname{tr}\dot\varepsilon(s)\, I \Big]\, \mathrm{d}s .

So the instantaneous moduli are :math:`G_0 = G_\infty + \sum g_i`, :math:`K_0 = K_\infty + \sum k_j`. (The ``g_i``
are absolute moduli, not the fractions :math:`g_i/G_0` some FE codes ask for.)

Integration: each exponential term carries an internal stress, :math:`h_i` (deviatoric, ``(3, 3)``) in shear and
:math:`p_j` (a mean stress, contributing :math:`p_j I`) in bulk, obeying
:math:`\dot h_i + h_i/\tau_i = 2 g_i \operatorname{dev}\dot\varepsilon`. For a strain that is linear in time over the
step (the only assumption) the recursive hereditary integral is exact:

.. math::
    h_{i,n+1} = e^{-\Delta t/\tau_i} h_{i,n} + 2 g_i\, \phi_i\, \operatorname{dev}\Delta\varepsilon, \qquad
    \phi_i = \frac{\tau_i}{\Delta t}\left(1 - e^{-\Delta t/\tau_i}\right),

and the same for :math:`p_j` with :math:`k_j \operatorname{tr}\Delta\varepsilon`. The consistent tangent is constant
for a given Δt: :math:`(K_\infty + \sum k_j\phi_j)\, I \otimes I + 2(G_\infty + \sum g_i\phi_i)\, \mathbb{I}^{dev}`;
it tends to the instantaneous moduli as Δt → 0 (φ → 1) and to the long-term ones as Δt → ∞ (φ → 0).

State (batch shape ``B`` in front):

* ``"strain"`` ``(*B, 3, 3)`` -- the total strain at the end of the previous step;
* ``"shear_stress"`` ``(*B, n_shear, 3, 3)`` -- the deviatoric branch stresses :math:`h_i`;
* ``"bulk_stress"`` ``(*B, n_bulk)`` -- the branch mean stresses :math:`p_j`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ..tensor import DEFAULT_DTYPE, Tensor, TensorLike, as_tensor, dev, eye, trace
from .base import PathDependentMaterial, check_state_values
from .parameters import Parameter
from .plasticity import _check_dt, isotropic_rank_one_tangent

__all__ = ["GeneralizedMaxwell"]

#: Prony series: 1-d, absent when the model has no term of that kind.
_SERIES: dict[str, Any] = {"shape": "series", "required": False}


def _series(
    pairs: Sequence[Sequence[float]] | None, moduli: TensorLike | None, times: TensorLike | None, what: str
) -> tuple[Any, Any]:
    """Normalise a Prony series given as ``[(modulus, tau), ...]`` or as two 1-d arrays to ``(moduli, times)``."""
    if pairs is not None and (moduli is not None or times is not None):
        raise ValueError(f"give the {what} Prony series once: either prony_{what}=[(modulus, tau), ...] or arrays")
    if pairs is not None:
        try:
            rows = [tuple(p) for p in pairs]
        except TypeError:
            raise ValueError(f"prony_{what} must be a list of (modulus, tau) pairs, got {pairs!r}") from None
        if any(len(r) != 2 for r in rows):
            raise ValueError(f"prony_{what} must be a list of (modulus, tau) pairs, got {pairs!r}")
        return [r[0] for r in rows], [r[1] for r in rows]
    if (moduli is None) != (times is None):
        raise ValueError(f"the {what} Prony series needs both {what}_moduli and {what}_times")
    return moduli, times


class GeneralizedMaxwell(PathDependentMaterial):
    r"""Generalized Maxwell (Prony series) linear viscoelasticity, small strain; ``update`` needs ``dt > 0``.

    Parameters
    ----------
    E_inf, nu_inf:
        Long-term Young's modulus and Poisson's ratio, or else
    K_inf, G_inf:
        long-term bulk (> 0) and shear (≥ 0) moduli.
    prony_shear, prony_bulk:
        ``[(g_i, tau_i), ...]`` and ``[(k_j, tau_j), ...]``: moduli (> 0, stress units) and relaxation times (> 0);
        equivalently
    shear_moduli, shear_times, bulk_moduli, bulk_times:
        the 1-d arrays of the same moduli and relaxation times (the stored parameters).
    dtype, device:
        Floating-point dtype of the parameters and computations (default float64) and their device (default CPU).
    """

    K_inf = Parameter("long-term bulk modulus", unit="stress", lower=0.0, lower_open=True, shape=None)
    G_inf = Parameter("long-term shear modulus", unit="stress", lower=0.0, shape=None)
    shear_moduli = Parameter("shear Prony moduli g_i", unit="stress", lower=0.0, lower_open=True, **_SERIES)
    shear_times = Parameter("shear relaxation times", unit="time", lower=0.0, lower_open=True, **_SERIES)
    bulk_moduli = Parameter("bulk Prony moduli k_j", unit="stress", lower=0.0, lower_open=True, **_SERIES)
    bulk_times = Parameter("bulk relaxation times", unit="time", lower=0.0, lower_open=True, **_SERIES)

    def __init__(
        self,
        E_inf: TensorLike | None = None,
        nu_inf: TensorLike | None = None,
        *,
        K_inf: TensorLike | None = None,
        G_inf: TensorLike | None = None,
        prony_shear: Sequence[Sequence[float]] | None = None,
        prony_bulk: Sequence[Sequence[float]] | None = None,
        shear_moduli: TensorLike | None = None,
        shear_times: TensorLike | None = None,
        bulk_moduli: TensorLike | None = None,
        bulk_times: TensorLike | None = None,
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__(dtype=dtype, device=device)
        if E_inf is not None or nu_inf is not None:
            if K_inf is not None or G_inf is not None:
                raise ValueError("give the long-term elasticity once: (E_inf, nu_inf) or (K_inf, G_inf)")
            if E_inf is None or nu_inf is None:
                raise ValueError("parameters 'E_inf' and 'nu_inf' go together")
            E = as_tensor(E_inf, dtype=self.dtype) if not isinstance(E_inf, Tensor) else E_inf
            nu = as_tensor(nu_inf, dtype=self.dtype) if not isinstance(nu_inf, Tensor) else nu_inf
            if not bool(torch.isfinite(E)) or float(E) <= 0:
                raise ValueError(f"parameter 'E_inf' must be positive, got {float(E)}")
            if not (-1.0 < float(nu) < 0.5):
                raise ValueError(f"parameter 'nu_inf' must be in (-1, 0.5), got {float(nu)}")
            K_inf, G_inf = E / (3.0 * (1.0 - 2.0 * nu)), E / (2.0 * (1.0 + nu))
        if K_inf is None or G_inf is None:
            raise ValueError("the long-term moduli are required: (E_inf, nu_inf) or (K_inf, G_inf)")
        self._param("K_inf", K_inf)
        self._param("G_inf", G_inf)
        for what, pairs, mod, tau in (
            ("shear", prony_shear, shear_moduli, shear_times),
            ("bulk", prony_bulk, bulk_moduli, bulk_times),
        ):
            mod, tau = _series(pairs, mod, tau, what)
            if mod is None:
                continue
            m = (as_tensor(mod, dtype=self.dtype) if not isinstance(mod, Tensor) else mod).reshape(-1)
            t = (as_tensor(tau, dtype=self.dtype) if not isinstance(tau, Tensor) else tau).reshape(-1)
            if m.shape != t.shape:
                raise ValueError(
                    f"{what}_moduli and {what}_times must have the same length, got {m.numel()}, {t.numel()}"
                )
            if m.numel():
                self._param(f"{what}_moduli", m)
                self._param(f"{what}_times", t)

    @classmethod
    def from_prony(
        cls,
        K_inf: TensorLike,
        G_inf: TensorLike,
        shear: Sequence[Sequence[float]] = (),
        bulk: Sequence[Sequence[float]] = (),
        **kwargs: Any,
    ) -> GeneralizedMaxwell:
        """From the long-term moduli and Prony pairs ``[(modulus, tau), ...]`` (the constructor's
        ``prony_shear``/``prony_bulk``; an empty list: no term of that kind)."""
        return cls(K_inf=K_inf, G_inf=G_inf, prony_shear=list(shear) or None, prony_bulk=list(bulk) or None, **kwargs)

    @property
    def n_shear(self) -> int:
        """Number of shear Prony terms."""
        return int(self.shear_moduli.numel()) if "shear_moduli" in self._params else 0

    @property
    def n_bulk(self) -> int:
        """Number of bulk Prony terms."""
        return int(self.bulk_moduli.numel()) if "bulk_moduli" in self._params else 0

    def relaxation_moduli(self, t: TensorLike) -> tuple[Tensor, Tensor]:
        """``(K(t), G(t))`` at times ``t`` ``(...)`` (the Prony series)."""
        t = as_tensor(t, dtype=self.dtype, device=self.device)
        K, G = self.K_inf + 0.0 * t, self.G_inf + 0.0 * t
        if self.n_shear:
            G = G + (self.shear_moduli * torch.exp(-t[..., None] / self.shear_times)).sum(-1)
        if self.n_bulk:
            K = K + (self.bulk_moduli * torch.exp(-t[..., None] / self.bulk_times)).sum(-1)
        return K, G

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """``strain`` ``(*B, 3, 3)`` at the end of the last step, ``shear_stress`` ``(*B, n_shear, 3, 3)`` and
        ``bulk_stress`` ``(*B, n_bulk)`` the Maxwell branches' stresses (virgin state: unstrained, relaxed, zero)."""
        return {"strain": (3, 3), "shear_stress": (self.n_shear, 3, 3), "bulk_stress": (self.n_bulk,)}

    def _factors(self, dt: Tensor, times: Tensor) -> tuple[Tensor, Tensor]:
        """``exp(-dt/tau)`` and ``phi = tau/dt (1 - exp(-dt/tau))`` ``(..., n)`` (expm1: accurate for dt << tau)."""
        x = dt[..., None] / times
        safe = torch.where(x > 0, x, torch.ones_like(x))  # x underflows to 0 for dt -> 0: phi -> 1
        return torch.exp(-x), torch.where(x > 0, -torch.expm1(-safe) / safe, torch.ones_like(x))

    def _update(
        self, strain: TensorLike, state: Mapping[str, Tensor], dt: float | Tensor | None, need_tangent: bool
    ) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        """One step of length ``dt`` (scalar or ``(...)``) to total strain ``strain`` ``(..., 3, 3)``, the strain
        varying linearly in time over the step: ``(stress, new_state, tangent)`` (see the module docstring)."""
        eps = self.check_strain(strain).to(dtype=self.dtype, device=self.device)
        dtt = _check_dt(dt, self.dtype, self.device, type(self).__name__)
        st, batch = self.check_state(state, eps.shape[:-2])
        check_state_values(
            (st["strain"], "state['strain']", "symmetric"),
            (st["shear_stress"], "state['shear_stress'] (shear branch stresses)", "deviatoric"),
        )
        try:  # a per-point dt may carry batch axes of its own
            batch = torch.broadcast_shapes(batch, dtt.shape)
        except RuntimeError:
            raise ValueError(
                f"the time increment dt of shape {tuple(dtt.shape)} does not broadcast with the batch shape "
                f"{tuple(batch)}"
            ) from None
        eps = eps.expand(*batch, 3, 3)
        dtt = dtt.expand(batch)
        d_eps = eps - st["strain"]
        zeros = torch.zeros(batch, dtype=self.dtype, device=self.device)
        G_alg, K_alg = self.G_inf + zeros, self.K_inf + zeros
        s = 2.0 * self.G_inf * dev(eps)
        mean = self.K_inf * trace(eps)
        new_state: dict[str, Tensor] = {"strain": eps.clone()}
        if self.n_shear:
            a, phi = self._factors(dtt, self.shear_times)
            h = (
                a[..., None, None] * st["shear_stress"]
                + (2.0 * self.shear_moduli * phi)[..., None, None] * dev(d_eps)[..., None, :, :]
            )
            s = s + h.sum(-3)
            G_alg = G_alg + (self.shear_moduli * phi).sum(-1)
            new_state["shear_stress"] = h
        else:
            new_state["shear_stress"] = st["shear_stress"].expand(*batch, 0, 3, 3).clone()
        if self.n_bulk:
            a, phi = self._factors(dtt, self.bulk_times)
            p = a * st["bulk_stress"] + self.bulk_moduli * phi * trace(d_eps)[..., None]
            mean = mean + p.sum(-1)
            K_alg = K_alg + (self.bulk_moduli * phi).sum(-1)
            new_state["bulk_stress"] = p
        else:
            new_state["bulk_stress"] = st["bulk_stress"].expand(*batch, 0).clone()
        stress = mean[..., None, None] * eye(self.dtype, self.device) + s
        if not need_tangent:
            return stress, new_state, None
        zero = torch.zeros((*batch, 3, 3), dtype=self.dtype, device=self.device)
        tangent = isotropic_rank_one_tangent(K_alg - 2.0 * G_alg / 3.0, 2.0 * G_alg, torch.zeros_like(G_alg), zero)
        return stress, new_state, tangent

    def stress(self, strain: TensorLike) -> Tensor:
        """The instantaneous response from the relaxed state (a step of vanishing length)."""
        strain = self.check_strain(strain)
        return self.update(strain, self.initial_state(strain.shape[:-2]), dt=torch.finfo(self.dtype).tiny)[0]

    def tangent(self, strain: TensorLike) -> Tensor:
        """The instantaneous tangent (moduli K_0, G_0)."""
        strain = self.check_strain(strain)
        return self.update(strain, self.initial_state(strain.shape[:-2]), dt=torch.finfo(self.dtype).tiny)[2]
