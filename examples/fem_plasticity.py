r"""A small-strain elastoplastic beam in scikit-fem with ``J2Plasticity.update`` at all quadrature points at once.

A short cantilever 4 x 1 x 1 (mm; trilinear hexahedra, 2x2x2 Gauss points) is clamped at x = 0 and its end face
x = 4 is moved down by ``deflection`` in load steps: plastic zones grow from the root's top and bottom fibres.
Steel-like J2 plasticity with Voce isotropic hardening (MPa). Each Newton iteration calls

    stress, trial_state, C = model.update(eps, state_at_step_start)

batched over ``(n_elements, n_points)`` -- never mutating the converged state, which is replaced only when the step
has converged.

``tangent`` selects the matrix of the linear solve:

* ``"consistent"``: C from ``update`` (algorithmic tangent, quadratic convergence);
* ``"continuum"``: ``model.continuum_tangent`` (the rate tangent: linear convergence);
* ``"elastic"``: the elastic stiffness (modified Newton: slow linear convergence).

Run ``python examples/fem_plasticity.py`` for the residual table.
"""

from __future__ import annotations

import numpy as np
import torch

from constitutive.fem import convergence_orders, newton, plot_convergence, require_skfem
from constitutive.models.plasticity import J2Plasticity

TANGENTS = ("consistent", "continuum", "elastic")


def default_model() -> J2Plasticity:
    """E = 210 GPa, ν = 0.3, σ_y = 355 MPa, linear H = 1000 MPa plus Voce Q = 150 MPa, b = 20."""
    return J2Plasticity(E=210000.0, nu=0.3, sigma_y=355.0, H=1000.0, hardening="voce", Q=150.0, b=20.0)


def make_problem(nx: int = 8, ny: int = 2, nz: int = 2, length: float = 4.0):
    """Beam mesh, vector basis, the clamped dofs (x = 0) and the end-face dofs (x = length)."""
    skfem = require_skfem()
    mesh = skfem.MeshHex.init_tensor(
        np.linspace(0.0, length, nx + 1), np.linspace(0.0, 1.0, ny + 1), np.linspace(0.0, 1.0, nz + 1)
    )
    basis = skfem.Basis(mesh, skfem.ElementVector(skfem.ElementHex1()), intorder=3)
    root = basis.get_dofs(lambda X: np.isclose(X[0], 0.0))
    end = basis.get_dofs(lambda X: np.isclose(X[0], length))
    return basis, root, end


class PlasticityRoutine:
    """``H -> (σ, C)`` for :func:`constitutive.fem.newton`, holding the converged state of every quadrature point.

    ``trial_state`` is the state of the last evaluation; :meth:`commit` makes it the converged one.
    """

    def __init__(self, model: J2Plasticity, batch_shape: tuple[int, int], tangent: str = "consistent") -> None:
        if tangent not in TANGENTS:
            raise ValueError(f"unknown tangent {tangent!r}; choose one of {TANGENTS}")
        self.model = model
        self.tangent = tangent
        self.state = model.initial_state(batch_shape)
        self.trial_state = self.state

    def __call__(self, H: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        eps = 0.5 * (H + H.transpose(-1, -2))
        stress, self.trial_state, C = self.model.update(eps, self.state)
        if self.tangent == "continuum":
            C = self.model.continuum_tangent(eps, self.state)
        elif self.tangent == "elastic":
            C = self.model.elastic_tangent(eps.shape[:-2])
        return stress, C

    def commit(self) -> None:
        self.state = self.trial_state


def solve(
    steps: int = 4,
    deflection: float = 0.08,
    tangent: str = "consistent",
    model: J2Plasticity | None = None,
    *,
    mesh: tuple[int, int, int] = (8, 2, 2),
    rtol: float = 1e-11,
    max_iter: int = 40,
    strict: bool = True,
    verbose: bool = False,
) -> dict:
    """Solve the beam in ``steps`` load steps: ``{"residuals": [‖R_k‖ per step], "u": displacement dofs,
    "basis": the scikit-fem basis, "state": the converged material state, "converged": all steps converged}``.

    A step that does not converge in ``max_iter`` iterations raises ``RuntimeError`` when ``strict``; otherwise its
    history is returned and the load stepping stops there.
    """
    model = model if model is not None else default_model()
    basis, root, end = make_problem(*mesh)
    fixed = np.concatenate([root.all(), end.nodal["u^3"]])
    routine = PlasticityRoutine(model, (basis.mesh.nelements, basis.X.shape[-1]), tangent)
    u = np.zeros(basis.N)
    histories = []
    converged = True
    for step in range(1, steps + 1):
        values = np.zeros(basis.N)
        values[end.nodal["u^3"]] = -deflection * step / steps
        result = newton(basis, u, fixed, values[fixed], routine, rtol=rtol, max_iter=max_iter)
        histories.append(result.residuals)
        if verbose:
            plastic = int((routine.trial_state["alpha"] > 0).sum())
            rel = " ".join(f"{r:.1e}" for r in result.relative)
            its = len(result.residuals) - 1
            print(f"step {step}: {its:2d} iterations, {plastic} plastic points, |R_k|/|f_int| = {rel}")
        if not result.converged:
            converged = False
            if not strict:
                break
            raise RuntimeError(f"step {step} did not converge with the {tangent} tangent: {result.residuals}")
        routine.commit()
        u = result.u
    return {"residuals": histories, "u": u, "basis": basis, "state": routine.state, "converged": converged}


def main(steps: int = 4, tangent: str = "consistent", **kwargs) -> list[list[float]]:
    """The residual history ``‖R_k‖`` (free dofs) of each load step (see :func:`solve` for the options)."""
    return solve(steps=steps, tangent=tangent, **kwargs)["residuals"]


def figure(outdir, steps: int = 4, *, overwrite: bool = False):
    """Write ``fem_plasticity_convergence.png`` into the folder ``outdir``; an existing file only with ``overwrite``.
    Returns its path."""
    from pathlib import Path

    path = Path(outdir) / "fem_plasticity_convergence.png"
    _curves(path, steps, overwrite)
    return path


def _curves(path, steps: int, overwrite: bool) -> None:
    """Residual histories of the last load step for the consistent, continuum and elastic tangents."""
    curves = {
        "consistent (update)": main(steps=steps)[-1],
        "continuum tangent": main(steps=steps, tangent="continuum", max_iter=60)[-1],
        "elastic (modified Newton)": main(steps=steps, tangent="elastic", max_iter=25, strict=False)[-1],
    }
    plot_convergence(curves, path, "J2 cantilever, last load step", overwrite=overwrite)


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
