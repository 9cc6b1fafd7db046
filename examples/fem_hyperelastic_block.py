r"""A 3D hyperelastic block in scikit-fem, with the first Piola--Kirchhoff stress and A = ∂P/∂F of a
``constitutive`` model inside Newton's method.

The unit cube (trilinear hexahedra, 2x2x2 Gauss points) is clamped on its bottom face z = 0; the top face z = 1 is
moved by (shear, 0, stretch) in load steps, the lateral faces are traction free. Each Newton iteration evaluates
the model once, batched over every quadrature point: ``P = model.first_piola(F)``, ``A = model.first_elasticity(F)``
with ``F = I + ∇u``.

``tangent`` selects the matrix of the linear solve:

* ``"consistent"``: A, the exact linearisation (quadratic convergence);
* ``"no_geometric"``: A without its initial-stress part :math:`\delta_{ik} S_{LJ}` (a classic error) -- at best
  linear convergence; at these strains it wanders and does not converge;
* ``"scaled"``: 1.3 A (a perturbed tangent) -- linear convergence with rate about 0.3/1.3.

Run ``python examples/fem_hyperelastic_block.py`` for the residual table.
"""

from __future__ import annotations

import numpy as np
import torch

from constitutive.fem import convergence_orders, newton, plot_convergence, require_skfem
from constitutive.models.hyperelastic import NeoHookean

TANGENTS = ("consistent", "no_geometric", "scaled")


def make_problem(n: int = 2):
    """Mesh of the unit cube with ``n`` elements per edge, its vector basis and the boundary dofs."""
    skfem = require_skfem()
    x = np.linspace(0.0, 1.0, n + 1)
    mesh = skfem.MeshHex.init_tensor(x, x, x)
    basis = skfem.Basis(mesh, skfem.ElementVector(skfem.ElementHex1()), intorder=3)
    bottom = basis.get_dofs(lambda X: np.isclose(X[2], 0.0))
    top = basis.get_dofs(lambda X: np.isclose(X[2], 1.0))
    return basis, bottom, top


def material_routine(model, tangent: str = "consistent"):
    """``H (nel, nqp, 3, 3) -> (P, A)`` for :func:`constitutive.fem.newton`."""
    if tangent not in TANGENTS:
        raise ValueError(f"unknown tangent {tangent!r}; choose one of {TANGENTS}")

    def routine(H: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        F = torch.eye(3, dtype=H.dtype) + H
        P = model.first_piola(F)
        A = model.first_elasticity(F)
        if tangent == "no_geometric":
            S = model.second_piola(F)
            A = A - torch.einsum("ik,...LJ->...iJkL", torch.eye(3, dtype=H.dtype), S)
        elif tangent == "scaled":
            A = 1.3 * A
        return P, A

    return routine


def solve(
    n: int = 2,
    steps: int = 3,
    stretch: float = 0.5,
    shear: float = 0.3,
    tangent: str = "consistent",
    model=None,
    *,
    rtol: float = 1e-12,
    max_iter: int = 40,
    strict: bool = True,
    verbose: bool = False,
) -> dict:
    """Solve the block in ``steps`` load steps: ``{"residuals": [‖R_k‖ per step], "u": displacement dofs,
    "basis": the scikit-fem basis, "converged": all steps converged}``.

    A step that does not converge in ``max_iter`` iterations raises ``RuntimeError`` when ``strict``; otherwise its
    history is returned and the load stepping stops there.
    """
    model = model if model is not None else NeoHookean(mu=1.0, lmbda=10.0)
    basis, bottom, top = make_problem(n)
    fixed = np.concatenate([bottom.all(), top.all()])
    u = np.zeros(basis.N)
    routine = material_routine(model, tangent)
    histories = []
    converged = True
    for step in range(1, steps + 1):
        t = step / steps
        values = np.zeros(basis.N)
        values[top.nodal["u^1"]] = shear * t
        values[top.nodal["u^3"]] = stretch * t
        result = newton(basis, u, fixed, values[fixed], routine, rtol=rtol, max_iter=max_iter)
        histories.append(result.residuals)
        if verbose:
            rel = " ".join(f"{r:.1e}" for r in result.relative)
            print(f"step {step}: {len(result.residuals) - 1:2d} iterations, |R_k|/|f_int| = {rel}")
        if not result.converged:
            converged = False
            if not strict:
                break
            raise RuntimeError(f"step {step} did not converge with the {tangent} tangent: {result.residuals}")
        u = result.u
    return {"residuals": histories, "u": u, "basis": basis, "converged": converged}


def main(steps: int = 3, tangent: str = "consistent", **kwargs) -> list[list[float]]:
    """The residual history ``‖R_k‖`` (free dofs) of each load step (see :func:`solve` for the options)."""
    return solve(steps=steps, tangent=tangent, **kwargs)["residuals"]


def figure(outdir, steps: int = 3, *, overwrite: bool = False):
    """Write ``fem_hyperelastic_convergence.png`` into the folder ``outdir``; an existing file only with ``overwrite``.
    Returns its path."""
    from pathlib import Path

    path = Path(outdir) / "fem_hyperelastic_convergence.png"
    _curves(path, steps, overwrite)
    return path


def _curves(path, steps: int, overwrite: bool) -> None:
    """Residual histories of the last load step for the consistent and the perturbed tangent."""
    curves = {
        "consistent A = dP/dF": main(steps=steps)[-1],
        "perturbed 1.3 A": main(steps=steps, tangent="scaled", max_iter=60)[-1],
    }
    plot_convergence(curves, path, "hyperelastic block (NeoHookean), last load step", overwrite=overwrite)


if __name__ == "__main__":
    from constitutive.cli.args import example_parser

    parser = example_parser(__doc__, __file__)
    args = parser.parse_args()

    for kind in TANGENTS:
        print(f"--- {kind} tangent")
        hist = main(tangent=kind, strict=False, max_iter=30, verbose=True)
        print("observed orders log r_(k+1) / log r_k:", [round(o, 2) for o in convergence_orders(hist[-1])])
    out = figure(args.out, overwrite=args.force)
    print(f"wrote {out}")
