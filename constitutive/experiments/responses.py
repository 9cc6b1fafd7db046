"""Model responses along experimental load paths: ``fn(model, x) -> y`` per experiment mode (rubber modes,
uniaxial stress by closed form or by the driver)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import torch

from ..contracts import NominalStressModel, is_path_dependent, require
from ..driver import DriverError, drive
from ..models.base import ConvergenceError, Material
from ..paths import uniaxial_stress as uniaxial_stress_path
from ..tensor import Tensor
from .columns import RUBBER_MODES

ResponseFn = Callable[[Material, Tensor], Tensor]


# --------------------------------------------------------------------------------------------------------------
# Model responses along experimental load paths
# --------------------------------------------------------------------------------------------------------------


def _rubber_response(mode: str) -> ResponseFn:
    def response(model: Material, stretch: Tensor) -> Tensor:
        require(model, NominalStressModel, f"fitting to {mode} rubber data (nominal_stress(stretch, mode))")
        return cast(NominalStressModel, model).nominal_stress(stretch, mode)

    response.__doc__ = f"Nominal stress in {mode} tension, ``model.nominal_stress(stretch, {mode!r})``."
    return response


UNIAXIAL_ROUTES = ("auto", "flow_stress", "incremental")


def has_uniaxial_closed_form(model: Material) -> bool:
    """Whether :func:`uniaxial_stress_response` can use the ``"flow_stress"`` route for ``model``: rate-independent
    J2 plasticity with isotropic hardening only (a ``flow_stress(alpha)`` method, Young's modulus ``E``, no back
    stresses, no viscosity parameter ``eta``)."""
    params = model.parameters
    return (
        callable(getattr(model, "flow_stress", None))
        and "E" in params
        and getattr(model, "n_backstress", 1) == 0
        and "eta" not in params
    )


def uniaxial_stress_response(
    model: Material,
    strain: Tensor,
    *,
    route: str = "auto",
    tol: float = 1e-10,
    max_iter: int = 50,
    dt: float | Tensor | None = None,
) -> Tensor:
    r"""Axial stress ``(n,)`` along an axial-strain history ``strain`` ``(n,)`` under uniaxial stress:
    :math:`\varepsilon_{11}` prescribed, the other five stress components zero.

    Parameters
    ----------
    model:
        Any small-strain model; path-dependent ones go through ``update(strain, state, dt)``, others through
        ``stress_and_tangent``.
    strain:
        ``(n,)`` axial strain history ε11.
    route:
        ``"auto"`` (default), ``"flow_stress"`` or ``"incremental"`` (below).
    tol, max_iter:
        Incremental route: the driver's relative Newton tolerance (default 1e-10) and the most iterations per step
        (default 50); the flow-stress route's scalar Newton uses them likewise.
    dt:
        The time increment of every step (a number) or of each step (``(n,)``), for rate-dependent models;
        ``None`` (default) gives rate-independent models a unit increment and a rate-dependent model's own
        ``ValueError``.

    Routes:

    * ``"flow_stress"`` -- closed form for rate-independent J2 plasticity with isotropic hardening under monotonic
      loading (:func:`has_uniaxial_closed_form`): with :math:`\alpha = \varepsilon^p_{11}`,
      :math:`\sigma = E\varepsilon` while :math:`E\varepsilon \le \sigma_y`, else :math:`\sigma = E(\varepsilon -
      \alpha)` with :math:`E(\varepsilon - \alpha) = \sigma_f(\alpha)` solved for all points at once by a
      vectorised scalar Newton iteration (``model.flow_stress``). Differentiated by one extra Newton step taken
      with the graph from the converged :math:`\alpha` (implicit-function derivative, exact at convergence).
    * ``"incremental"`` -- any model, any history (below).
    * ``"auto"`` -- ``"flow_stress"`` when it applies and the history is non-decreasing, else ``"incremental"``.

    Incremental route: :func:`constitutive.driver.drive` along the uniaxial-stress path
    (:func:`constitutive.paths.uniaxial_stress`) with one segment of one increment ending at each point, from the
    unloaded virgin state: :math:`\varepsilon_{11}` prescribed, Newton on the five other strain components
    (Mandel notation, the model's consistent tangent) until :math:`\sigma_K = 0` (K = 22, 33, 23, 13, 12) to the
    driver's relative tolerance ``tol``, at most ``max_iter`` iterations per step. A step that does not converge raises
    :class:`constitutive.models.ConvergenceError` (the driver's diagnostics, the point and its axial strain); a
    model that rejects its input, ``ValueError``.

    Differentiation: ``drive(..., differentiable=True)`` -- Newton without a graph, then one Newton correction
    *with* the graph from the converged lateral strains; its derivative is the implicit-function derivative,
    exact at convergence (differentiating the unrolled iterations is not). That holds for reverse mode
    (``jacobian="reverse"`` in :func:`calibrate`); forward mode (``torch.func.jacfwd``) is not stopped by
    ``no_grad`` and differentiates the Newton iterations themselves, which agrees once they have converged.
    """
    if not isinstance(model, Material):
        raise TypeError(f"model must be a constitutive Material, got {type(model).__name__}")
    strain = torch.as_tensor(strain, dtype=model.dtype, device=model.device)
    if strain.ndim != 1:
        raise ValueError(f"strain must be a 1-d history (n,), got shape {tuple(strain.shape)}")
    if strain.numel() == 0:
        raise ValueError("strain history is empty")
    if not bool(torch.isfinite(strain.detach()).all()):
        raise ValueError("strain history holds NaN or Inf")
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive finite number, got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if route not in UNIAXIAL_ROUTES:
        raise ValueError(f"unknown uniaxial-stress route {route!r}; choose one of {UNIAXIAL_ROUTES}")
    monotonic = bool((strain >= 0).all()) and bool((torch.diff(strain.detach()) >= 0).all())
    if route == "auto":
        route = "flow_stress" if has_uniaxial_closed_form(model) and monotonic else "incremental"
    if route == "flow_stress":
        if not has_uniaxial_closed_form(model):
            raise ValueError(
                f"the flow_stress route needs rate-independent J2 plasticity with isotropic hardening only; "
                f"{type(model).__name__} is not (use route='incremental')"
            )
        if not monotonic:
            raise ValueError("the flow_stress route needs a monotonic, non-negative strain history")
        return _uniaxial_flow_stress(model, strain, tol, max_iter)
    return _uniaxial_driven(model, strain, tol, max_iter, dt)


def _uniaxial_driven(model: Any, strain: Tensor, tol: float, max_iter: int, dt: float | Tensor | None) -> Tensor:
    """The incremental route of :func:`uniaxial_stress_response`: the driver, differentiably, one step per point."""
    n = strain.shape[0]
    if dt is None:
        # A rate-dependent model must say so (its own ValueError) rather than be run at an invented time step.
        if is_path_dependent(model):
            with torch.no_grad():
                model.update(torch.zeros(3, 3, dtype=model.dtype, device=model.device), model.initial_state(()), None)
        durations: float | list[float] = 1.0
    else:
        dts = torch.as_tensor(dt, dtype=torch.float64).detach().cpu().reshape(-1)
        if not bool(torch.isfinite(dts).all()) or bool((dts < 0).any()):
            raise ValueError(f"dt must hold finite non-negative time increments, got {dt!r}")
        if dts.numel() not in (1, n):
            raise ValueError(f"dt must be one time increment or one per point ({n}), got {dts.numel()}")
        durations = [float(v) for v in dts.expand(n)]
    path = uniaxial_stress_path(strain.detach().cpu(), increments=1, duration=durations)
    try:
        result = drive(model, path, max_iter=max_iter, rtol=tol, differentiable=True)
    except DriverError as err:
        k = err.result.n_steps  # the failing data point (steps converged before it)
        where = f"uniaxial stress at point {k} (axial strain {float(strain[k]):g})"
        if isinstance(err.__cause__, ValueError):  # the model rejected its input or parameters
            raise ValueError(f"{where}: {err.__cause__}") from err
        raise ConvergenceError(f"{where}: {err}", **{**err.diagnostics, "point": k}) from err
    return result.stress[1:, 0, 0]


def _uniaxial_flow_stress(model: Any, strain: Tensor, tol: float, max_iter: int) -> Tensor:
    """Closed-form monotonic uniaxial response of isotropic J2 plasticity (see :func:`uniaxial_stress_response`)."""
    E = model.E

    def g(alpha: Tensor) -> tuple[Tensor, Tensor]:
        sf, dsf = model.flow_stress(alpha, slope=True)
        return E * (strain - alpha) - sf, -E - dsf

    with torch.no_grad():
        alpha = torch.zeros_like(strain)
        scale = torch.clamp(E * strain.abs(), min=1.0)
        plastic = E * strain > model.flow_stress(torch.zeros_like(strain), slope=False)[0]  # beyond first yield
        for it in range(max_iter + 1):
            r, dr = g(alpha)
            r = torch.where(plastic, r, torch.zeros_like(r))
            size = float((r.abs() / scale).max())
            if size <= tol:
                break
            if it == max_iter:
                raise ConvergenceError(
                    f"uniaxial flow-stress solve did not converge in {max_iter} iterations; max relative residual "
                    f"{size:.3e}",
                    residual=size,
                )
            # g is decreasing in alpha; from alpha = 0 the iterates stay feasible (clamped at 0)
            alpha = torch.clamp(alpha - r / dr, min=0.0)
    r, dr = g(alpha)
    alpha_corrected = alpha - r / dr  # graph-carrying step: d(alpha)/dθ = -dg/dθ / g' at convergence
    return torch.where(plastic, E * (strain - alpha_corrected), E * strain)


#: Built-in responses by experiment ``mode``: ``fn(model, x) -> y``.
RESPONSES: dict[str, ResponseFn] = {mode: _rubber_response(mode) for mode in RUBBER_MODES}
RESPONSES["uniaxial_stress"] = uniaxial_stress_response

AXIS_LABELS = {
    "uniaxial": ("stretch λ", "nominal stress (MPa)"),
    "equibiaxial": ("stretch λ", "nominal stress (MPa)"),
    "pure_shear": ("stretch λ", "nominal stress (MPa)"),
    "uniaxial_stress": ("true strain", "true stress (MPa)"),
}
