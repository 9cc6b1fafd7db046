r"""Linear viscoelasticity at a material point: shear relaxation, shear creep and rate dependence of the uniaxial
modulus for a generalized Maxwell (Prony series) model, against closed forms.

* **Relaxation** (strain control): γ = 2ε12 ramps to γ0 over :math:`t_r`, then is held. For a Prony series
  :math:`G(t) = G_\infty + \sum_i g_i e^{-t/\tau_i}` the exact response is

  .. math:: \sigma_{12}(t) = \frac{\gamma_0}{t_r}\Big[G_\infty \min(t, t_r)
            + \sum_i g_i\tau_i\big(e^{-\max(t - t_r, 0)/\tau_i} - e^{-t/\tau_i}\big)\Big].

  The model integrates piecewise-linear strain exactly, so the driver reproduces it to round-off, whatever the step.
* **Creep** (stress control, the driver's Newton on σ12): σ12 ramps to τ0 and is held; one Maxwell branch
  (standard linear solid) has the creep compliance :math:`J(t) = 1/G_\infty - (1/G_\infty - 1/G_0)\,
  e^{-t/\tau_r}`, :math:`\tau_r = \tau G_0/G_\infty`, and :math:`\gamma(t) = \frac{\tau_0}{t_r}[\Phi(t) -
  \Phi(\max(t - t_r, 0))]`, :math:`\Phi(u) = u/G_\infty + (1/G_\infty - 1/G_0)\tau_r e^{-u/\tau_r}`. Prescribing
  the stress at step ends makes the strain history piecewise linear, a second-order time discretisation: the error
  falls four-fold when the steps are halved.
* **Rate dependence**: uniaxial stress (mixed control) loaded much faster than the shortest relaxation time gives
  the instantaneous Young's modulus :math:`E_0`, much slower than the longest the long-term :math:`E_\infty`.

Run ``python examples/relaxation.py [--out DIR] [--force]`` to write ``driver_relaxation.png`` into ``DIR`` (default
``out/``, git-ignored); the copy in ``docs/figures`` is redrawn by ``python examples/regenerate_figures.py``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from constitutive import paths  # noqa: E402
from constitutive.cli.args import example_parser
from constitutive.driver import drive  # noqa: E402
from constitutive.fileio import atomic_path  # noqa: E402
from constitutive.models.viscoelastic import GeneralizedMaxwell  # noqa: E402

#: A polymer-like Prony series (MPa, s): long-term shear modulus and three shear branches, one bulk branch.
G_INF, K_INF = 0.5, 20.0
SHEAR = [(3.0, 0.1), (1.5, 1.0), (0.8, 10.0)]
BULK = [(5.0, 1.0)]


def relaxation_closed_form(t: torch.Tensor, gamma0: float, t_ramp: float) -> torch.Tensor:
    """σ12(t) for the ramp-and-hold shear strain (module docstring)."""
    out = G_INF * torch.clamp(t, max=t_ramp)
    for g, tau in SHEAR:
        out = out + g * tau * (torch.exp(-torch.clamp(t - t_ramp, min=0.0) / tau) - torch.exp(-t / tau))
    return gamma0 / t_ramp * out


def creep_closed_form(t: torch.Tensor, tau0: float, t_ramp: float, g_inf: float, g: float, tau: float) -> torch.Tensor:
    """γ(t) = 2 ε12(t) of a standard linear solid under the ramp-and-hold shear stress (module docstring)."""
    g0 = g_inf + g
    tau_r = tau * g0 / g_inf
    a = 1.0 / g_inf - 1.0 / g0

    def phi(u: torch.Tensor) -> torch.Tensor:
        return u / g_inf + a * tau_r * torch.exp(-u / tau_r)

    return tau0 / t_ramp * (phi(t) - phi(torch.clamp(t - t_ramp, min=0.0)))


def geometric_hold(amplitude: float, t_ramp: float, t_end: float, n_segments: int, increments: int, mode: str, by: str):
    """Ramp to ``amplitude`` over ``t_ramp`` then hold until ``t_end`` in segments of geometrically growing length
    (a log-spaced time axis), each split into ``increments`` steps."""
    edges = torch.logspace(math.log10(t_ramp), math.log10(t_end), n_segments + 1, dtype=torch.float64)
    durations = [t_ramp] + (edges[1:] - edges[:-1]).tolist()
    return paths.standard_path(mode, [amplitude] * (n_segments + 1), increments=increments, duration=durations, by=by)


def main(
    outdir: str | Path | None = None, *, increments: int = 8, n_segments: int = 12, overwrite: bool = False
) -> dict[str, Any]:
    """Relaxation, creep (at two step sizes) and fast/slow loading; return the errors, write the figure."""
    model = GeneralizedMaxwell(K_inf=K_INF, G_inf=G_INF, prony_shear=SHEAR, prony_bulk=BULK)
    gamma0, t_ramp, t_end = 0.01, 0.01, 100.0

    # Relaxation: simple shear, amplitude = engineering shear strain γ0.
    res_r = drive(model, geometric_hold(gamma0, t_ramp, t_end, n_segments, increments, "simple_shear", "strain"))
    t = res_r.time
    ref_r = relaxation_closed_form(t, gamma0, t_ramp)
    relax_err = float((res_r.column("stress_12") - ref_r).abs().max() / ref_r.abs().max())

    # Creep: one Maxwell branch, stress-controlled simple shear (σ12 = τ0, all other strains zero).
    (g, tau) = SHEAR[1]
    sls = GeneralizedMaxwell(K_inf=K_INF, G_inf=G_INF, prony_shear=[(g, tau)])
    tau0, t_ramp_c, t_end_c = 0.01, 0.05, 50.0
    creep_errors, creep_results = [], []
    for n in (increments, 2 * increments):
        res_c = drive(sls, geometric_hold(tau0, t_ramp_c, t_end_c, n_segments, n, "simple_shear", "stress"))
        ref_c = creep_closed_form(res_c.time, tau0, t_ramp_c, G_INF, g, tau)
        creep_errors.append(float((2 * res_c.column("strain_12") - ref_c).abs().max() / ref_c.abs().max()))
        creep_results.append((res_c, ref_c))

    # Rate dependence: uniaxial stress to ε11 = 1e-3, very fast and very slow.
    K0 = K_INF + sum(k for k, _ in BULK)
    G0 = G_INF + sum(g for g, _ in SHEAR)
    E0, E_inf = 9 * K0 * G0 / (3 * K0 + G0), 9 * K_INF * G_INF / (3 * K_INF + G_INF)
    fast = drive(model, paths.uniaxial_stress([1e-3], increments=2, duration=1e-7))
    slow = drive(model, paths.uniaxial_stress([1e-3], increments=2, duration=1e7))
    E_fast = float(fast.column("stress_11")[-1] / 1e-3)
    E_slow = float(slow.column("stress_11")[-1] / 1e-3)

    out = {
        "relaxation_max_rel_error": relax_err,
        "creep_max_rel_error": creep_errors[0],
        "creep_max_rel_error_half_step": creep_errors[1],
        "creep_error_ratio": creep_errors[0] / creep_errors[1],
        "creep_newton_max_iterations": int(creep_results[0][0].iterations.max()),
        "E_fast": E_fast,
        "E0": E0,
        "E_slow": E_slow,
        "E_inf": E_inf,
        "fast_rel_error": abs(E_fast - E0) / E0,
        "slow_rel_error": abs(E_slow - E_inf) / E_inf,
    }
    if outdir is not None:
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10.0, 4.2), dpi=130)
        a1.semilogx(t[1:].numpy(), (res_r.column("stress_12")[1:] / gamma0).numpy(), "o", ms=3, label="driver")
        tt = torch.logspace(-3, 2, 400, dtype=torch.float64)
        a1.semilogx(tt.numpy(), (relaxation_closed_form(tt, gamma0, t_ramp) / gamma0).numpy(), "-", label="closed form")
        a1.axhline(G_INF, color="gray", ls=":", lw=1, label="G∞")
        a1.set_xlabel("time t (s)")
        a1.set_ylabel("σ12 / γ0 (MPa)")
        a1.set_title(f"Shear relaxation (ramp {t_ramp:g} s), error {relax_err:.1e}")
        a1.legend()
        res_c, ref_c = creep_results[1]
        a2.semilogx(res_c.time[1:].numpy(), (2 * res_c.column("strain_12")[1:]).numpy(), "o", ms=3, label="driver")
        tt = torch.logspace(-3, math.log10(t_end_c), 400, dtype=torch.float64)
        a2.semilogx(tt.numpy(), creep_closed_form(tt, tau0, t_ramp_c, G_INF, g, tau).numpy(), "-", label="closed form")
        a2.set_xlabel("time t (s)")
        a2.set_ylabel("γ = 2ε12")
        a2.set_title(f"Shear creep under σ12 = {tau0:g} MPa, error {creep_errors[1]:.1e}")
        a2.legend()
        fig.tight_layout()
        out["figure"] = str(outdir / "driver_relaxation.png")
        with atomic_path(out["figure"], overwrite=overwrite) as tmp:  # an existing file only with overwrite
            fig.savefig(tmp)
        plt.close(fig)
    return out


if __name__ == "__main__":
    args = example_parser(__doc__, __file__).parse_args()
    for key, value in main(args.out, overwrite=args.force).items():
        print(f"{key}: {value}")
