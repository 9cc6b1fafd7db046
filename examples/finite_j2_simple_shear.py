r"""Finite-strain J2 plasticity in large simple shear, with the small-strain J2 model beside it.

A steel-like material (MPa; Voce + linear isotropic hardening) is driven in simple shear
:math:`F = I + \gamma\, e_1 \otimes e_2` to :math:`\gamma = 4` by the driver's finite-strain path (F prescribed,
the state ``Cp_inv``, ``alpha`` carried from step to step, the consistent tangent
:math:`\mathbb A = \partial P/\partial F` checked by finite differences at every step), and the small-strain
:class:`~constitutive.models.J2Plasticity` with the same parameters along :math:`\varepsilon_{12} = \gamma/2`.

What the figure shows: the two agree while :math:`\gamma` is small (the finite-strain model reduces to the
small-strain one to O(γ)). At large shear the finite-strain shear stress :math:`\sigma_{12}` grows monotonically
(no spurious oscillation: the Hencky/exponential-map formulation has none, unlike hypoelastic Jaumann-rate
models with kinematic hardening) and stays within a fraction of a percent of the small-strain curve, slightly
below it: in simple shear the rate of deformation :math:`d = \dot\gamma\,\operatorname{sym}(e_1\otimes e_2)` is
constant, so the equivalent plastic strain accumulates as :math:`\alpha \approx \gamma/\sqrt3` in both models
(isotropic hardening then gives the same flow stress); what differs is the orientation of the stress, and normal
stresses :math:`\sigma_{11} > 0 > \sigma_{22}` develop (second order in the elastic strain, absent at small
strain). The von Mises equivalent of the Kirchhoff stress equals the flow stress :math:`\sigma_f(\alpha)` at
every plastic step.

Run ``python examples/finite_j2_simple_shear.py [--out DIR] [--force]`` to write ``finite_j2_simple_shear.png``
into ``DIR`` (default ``out/``, git-ignored); the copy in ``docs/figures`` is redrawn by
``python examples/regenerate_figures.py``.
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
from constitutive.models import FiniteStrainJ2, J2Plasticity  # noqa: E402

E, NU, SIGMA_Y, H, Q, B = 200000.0, 0.3, 250.0, 300.0, 200.0, 8.0


def models() -> tuple[FiniteStrainJ2, J2Plasticity]:
    """The finite-strain model and its small-strain counterpart, same parameters."""
    law = {"hardening": "voce", "Q": Q, "b": B}
    return FiniteStrainJ2(E, NU, SIGMA_Y, H, **law), J2Plasticity(E, NU, SIGMA_Y, H, **law)


def main(
    outdir: str | Path | None = None,
    *,
    gamma: float = 4.0,
    increments: int = 40,
    check_tangent: bool = True,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Drive both models to shear ``gamma``; return the key numbers and write the figure into ``outdir``."""
    finite, small = models()
    # a finely resolved start (γ ≤ 0.02 in 5 steps; yield at γ ≈ 0.0019) for the small-strain comparison, then to γ
    kw: dict[str, Any] = {"increments": [5, increments]}
    res_f = drive(finite, paths.simple_shear([0.02, gamma], kinematics="finite", **kw), check_tangent=check_tangent)
    res_s = drive(small, paths.simple_shear([0.02, gamma], **kw))
    F, P = res_f.strain, res_f.stress
    J = torch.linalg.det(F)
    tau = P @ F.transpose(-1, -2)
    sigma = tau / J[..., None, None]
    g = F[:, 0, 1]
    s12_small = res_s.stress[:, 0, 1]
    # von Mises equivalent of the Kirchhoff stress against the flow stress at the end of each step
    dev = tau - tau.diagonal(dim1=-2, dim2=-1).sum(-1)[..., None, None] / 3.0 * torch.eye(3, dtype=tau.dtype)
    q = torch.sqrt(1.5 * (dev * dev).sum((-1, -2)))
    alpha = res_f.state["alpha"]
    sf = SIGMA_Y + H * alpha + Q * (1.0 - torch.exp(-B * alpha))
    plastic = alpha[1:] > alpha[:-1]
    detcp = torch.linalg.det(res_f.state["Cp_inv"])
    early = (g > 0) & (g <= 0.02 + 1e-12)
    out: dict[str, Any] = {
        "gamma": g,
        "sigma12_finite": sigma[:, 0, 1],
        "sigma12_small": s12_small,
        "sigma11_finite": sigma[:, 0, 0],
        "sigma22_finite": sigma[:, 1, 1],
        "small_gamma_rel_difference": float(
            (sigma[early, 0, 1] - s12_small[early]).abs().max() / s12_small[early].abs().max()
        ),
        "final_sigma12_finite": float(sigma[-1, 0, 1]),
        "final_sigma12_small": float(s12_small[-1]),
        "monotone_shear_stress": bool((sigma[1:, 0, 1] >= sigma[:-1, 0, 1]).all()),
        "yield_consistency": float(((q[1:] - sf[1:]).abs() / sf[1:])[plastic].max()),
        "det_Cp_inv_error": float((detcp - 1.0).abs().max()),
        "tangent_max_rel_error": float(res_f.tangent_error.max()) if check_tangent else math.nan,
        "newton_max_iterations": int(res_f.iterations.max()),
        "summary": res_f.summary(),
    }
    if outdir is not None:
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        fig, axes = plt.subplots(1, 2, figsize=(10.0, 4.2), dpi=130)
        ax = axes[0]
        ax.plot(g, sigma[:, 0, 1], "-", label="finite-strain J2 (Hencky, exponential map): σ12")
        ax.plot(g, s12_small, "--", label="small-strain J2 (ε12 = γ/2): σ12")
        ax.set_xlabel("shear γ = F12")
        ax.set_ylabel("shear stress (MPa)")
        ax.set_title("simple shear: shear stress")
        ax.legend(loc="lower right", fontsize=8)
        ax = axes[1]
        ax.plot(g, sigma[:, 0, 0], "-", label="σ11")
        ax.plot(g, sigma[:, 1, 1], "-", label="σ22")
        ax.plot(g, sigma[:, 2, 2], "-", label="σ33")
        ax.axhline(0.0, color="0.6", lw=0.8)
        ax.set_xlabel("shear γ = F12")
        ax.set_ylabel("Cauchy stress (MPa)")
        ax.set_title("finite-strain J2: normal stresses (none at small strain)")
        ax.legend(loc="lower left", fontsize=8)
        fig.suptitle(f"J2, E = {E:g} MPa, σy = {SIGMA_Y:g} MPa, H = {H:g} MPa, Voce Q = {Q:g} MPa, b = {B:g}")
        fig.tight_layout()
        out["figure"] = str(outdir / "finite_j2_simple_shear.png")
        with atomic_path(out["figure"], overwrite=overwrite) as tmp:  # an existing file only with overwrite
            fig.savefig(tmp)
        plt.close(fig)
    return out


if __name__ == "__main__":
    args = example_parser(__doc__, __file__).parse_args()
    numbers = main(args.out, overwrite=args.force)
    print(numbers.pop("summary"))
    for key in ("gamma", "sigma12_finite", "sigma12_small", "sigma11_finite", "sigma22_finite"):
        numbers.pop(key)
    for key, value in numbers.items():
        print(f"{key}: {value}")
