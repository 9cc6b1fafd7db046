r"""Lemaitre ductile damage coupled to J2: a uniaxial tension test to failure and the yield surface for a few D.

Three panels (``lemaitre_yield_surface.png``):

* uniaxial stress (σ22 = σ33 = 0 solved by the driver) in monotonic tension: nominal stress σ11 and damage D against
  ε11, with the closed form of the linear-hardening model (``constitutive.models.damage.uniaxial_damage``;
  σ11 = (1 − D(κ))(σ_y + Hκ), ε11 = (σ_y + Hκ)/E + p(κ), p(κ) = p_D + ∫ dκ/(1 − D) by quadrature) and the failure
  (D = D_c) that the driver reports in ``DriveResult.failure``;
* the π-plane of the nominal yield surface Φ(σ) = q(σ)/(1 − D) − σ_y = 0 for D = 0, 0.2, 0.4: circles of radius
  √(2/3)(1 − D)σ_y (each point found from the model's ``yield_function`` along its direction);
* the meridian plane (mean stress, von Mises stress): the same surfaces (pressure independent), over contours of the
  damage driving force −Y = q̃²/(6G) + p̃²/(2K), which grows with the triaxiality.

Run ``python examples/lemaitre_yield_surface.py [--out DIR] [--force]`` (default ``out/``, git-ignored); the copy in
``docs/figures`` is redrawn by ``python examples/regenerate_figures.py``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from scipy.integrate import quad  # noqa: E402

from constitutive import paths  # noqa: E402
from constitutive.cli.args import example_parser
from constitutive.driver import drive  # noqa: E402
from constitutive.fileio import atomic_path  # noqa: E402
from constitutive.models import LemaitreDamage  # noqa: E402
from constitutive.models.damage import uniaxial_critical_kappa, uniaxial_damage  # noqa: E402

#: The example's material (MPa): a steel-like J2 model with linear hardening and a fast-damaging Lemaitre law.
PARAMETERS: dict[str, float] = {"E": 200e3, "nu": 0.3, "sigma_y": 250.0, "H": 1000.0, "S": 0.1, "s": 1.0,
                                "D_c": 0.3, "p_D": 0.02}  # fmt: skip
DAMAGES = (0.0, 0.2, 0.4)


def model() -> LemaitreDamage:
    """The example's :class:`LemaitreDamage`."""
    return LemaitreDamage(**PARAMETERS)


def uniaxial_closed_form(m: LemaitreDamage, kappa: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(ε11, σ11, D)`` of monotonic uniaxial tension at the hardening variables ``kappa`` (linear hardening):
    D(κ) in closed form, p(κ) = p_D + ∫_{p_D}^κ dk/(1 − D(k)) by adaptive quadrature (κ itself below p_D)."""
    E, sy, H, pD = (float(getattr(m, k)) for k in ("E", "sigma_y", "H", "p_D"))

    def inv_omega(k: float) -> float:
        return 1.0 / (1.0 - float(uniaxial_damage(m, k)))

    p = [k if k <= pD else pD + quad(inv_omega, pD, k, epsabs=1e-13, epsrel=1e-12)[0] for k in kappa.tolist()]
    D = uniaxial_damage(m, kappa)
    sf = sy + H * kappa
    return sf / E + torch.tensor(p, dtype=torch.float64), (1.0 - D) * sf, D


def pi_plane_radius(m: LemaitreDamage, D: float, n_angles: int = 72) -> torch.Tensor:
    """Radius ‖dev σ‖ of the nominal yield surface in the π-plane along ``n_angles`` Lode directions, for damage D
    (virgin hardening): Φ is homogeneous of degree one in the deviatoric stress, so the unit direction's
    Φ₁ = q₁/(1 − D) − σ_y gives the scale σ_y/(Φ₁ + σ_y)."""
    theta = torch.linspace(0.0, 2.0 * math.pi, n_angles + 1, dtype=torch.float64)[:-1]
    # unit deviatoric principal directions (π-plane coordinates x, y -> principal stresses)
    s1 = math.sqrt(2.0 / 3.0) * torch.cos(theta)
    s2 = math.sqrt(2.0 / 3.0) * torch.cos(theta - 2.0 * math.pi / 3.0)
    s3 = math.sqrt(2.0 / 3.0) * torch.cos(theta + 2.0 * math.pi / 3.0)
    sig = torch.diag_embed(torch.stack((s1, s2, s3), -1))
    state = {"D": torch.full(theta.shape, D, dtype=torch.float64), "kappa": torch.zeros_like(theta)}
    phi1 = m.yield_function(sig, state)
    return float(m.sigma_y) / (phi1 + float(m.sigma_y))  # ‖dev σ‖ = 1 along each direction


def main(
    outdir: str | Path | None = None, *, strain: float = 0.16, increments: int = 160, overwrite: bool = False
) -> dict[str, Any]:
    """Drive the uniaxial test, compare with the closed form, and draw the figure into ``outdir``."""
    m = model()
    res = drive(m, paths.uniaxial_stress(strain, increments=increments))
    eps, sig = res.column("strain_11"), res.column("stress_11")
    D, kappa = res.state["D"], res.state["kappa"]
    _, sig_cf, D_cf = uniaxial_closed_form(m, kappa)
    plastic = kappa > 0
    kappa_c = uniaxial_critical_kappa(m)
    eps_c = float(uniaxial_closed_form(m, torch.tensor([kappa_c], dtype=torch.float64))[0][0])
    failure = res.failure
    out: dict[str, Any] = {
        "damage_max_abs_error": float((D - D_cf).abs().max()),
        "stress_max_rel_error": float(((sig - sig_cf).abs() / sig_cf.abs())[plastic].max()),
        "failure_step": None if failure is None else failure.step,
        "failure_strain": None if failure is None else float(eps[failure.step]),
        "failure_strain_closed_form": eps_c,
        "strain_increment": strain / increments,
        "pi_plane_radius": {d: float(pi_plane_radius(m, d).mean()) for d in DAMAGES},
        "pi_plane_radius_closed_form": {d: math.sqrt(2.0 / 3.0) * (1.0 - d) * float(m.sigma_y) for d in DAMAGES},
        "summary": res.summary(),
    }
    if outdir is None:
        return out
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(15.0, 4.6), dpi=120)
    ax = axes[0]
    ax.plot(eps, sig, "C0", label="σ11 (driver)")
    ax.plot(eps[plastic], sig_cf[plastic], "k:", label="σ11 closed form")
    ax.set_xlabel("strain ε11")
    ax.set_ylabel("nominal stress σ11 (MPa)")
    ax2 = ax.twinx()
    ax2.plot(eps, D, "C3", label="D (driver)")
    ax2.plot(eps, D_cf, "k--", lw=0.8, label="D closed form")
    ax2.axhline(float(m.D_c), color="C3", lw=0.6, ls=":")
    ax2.set_ylabel("damage D")
    if failure is not None:
        ax.axvline(float(eps[failure.step]), color="gray", lw=0.8)
        ax.annotate(f"failure, step {failure.step}", (float(eps[failure.step]), 0.1 * float(sig.max())), fontsize=8)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="center right", fontsize=8)
    ax.set_title(f"uniaxial tension, D_c = {float(m.D_c):g}, p_D = {float(m.p_D):g}")

    ax = axes[1]
    theta = torch.linspace(0.0, 2.0 * math.pi, 73, dtype=torch.float64)[:-1]
    for k, d in enumerate(DAMAGES):
        r = pi_plane_radius(m, d)
        x, y = torch.cat((r * torch.cos(theta), r[:1])), torch.cat((r * torch.sin(theta), r[:1] * 0))
        ax.plot(x, y, f"C{k}", label=f"D = {d:g}")
    for a in range(3):  # principal stress axes projected
        phi = 2.0 * math.pi * a / 3.0
        ax.plot([0, 260 * math.cos(phi)], [0, 260 * math.sin(phi)], color="0.7", lw=0.6)
        ax.annotate(f"σ{a + 1}", (270 * math.cos(phi), 270 * math.sin(phi)), fontsize=8)
    ax.set_aspect("equal")
    ax.set_title("π-plane: Φ = q/(1 − D) − σ_y = 0 (nominal stress)")
    ax.set_xlabel("(2σ1 − σ2 − σ3)/√6 (MPa)")
    ax.set_ylabel("(σ2 − σ3)/√2 (MPa)")
    ax.legend(fontsize=8, loc="lower right")

    ax = axes[2]
    Kb, G = (float(v) for v in m.moduli())
    pm = torch.linspace(-400.0, 400.0, 161, dtype=torch.float64)
    qm = torch.linspace(0.0, 320.0, 121, dtype=torch.float64)
    P, Q = torch.meshgrid(pm, qm, indexing="ij")
    Y = Q**2 / (6.0 * G) + P**2 / (2.0 * Kb)
    cs = ax.contourf(P, Q, Y, levels=12, cmap="Greys", alpha=0.6)
    fig.colorbar(cs, ax=ax, label="−Y (MPa), undamaged")
    for k, d in enumerate(DAMAGES):
        ax.plot(pm, torch.full_like(pm, (1.0 - d) * float(m.sigma_y)), f"C{k}", label=f"D = {d:g}")
    ax.set_xlabel("mean stress p = tr σ / 3 (MPa)")
    ax.set_ylabel("von Mises stress q (MPa)")
    ax.set_title("meridian: yield lines q = (1 − D)σ_y over −Y(p, q)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    out["figure"] = str(outdir / "lemaitre_yield_surface.png")
    with atomic_path(out["figure"], overwrite=overwrite) as tmp:
        fig.savefig(tmp)
    plt.close(fig)
    return out


if __name__ == "__main__":
    args = example_parser(__doc__, __file__).parse_args()
    numbers = main(args.out, overwrite=args.force)
    print(numbers.pop("summary"))
    for key, value in numbers.items():
        print(f"{key}: {value}")
