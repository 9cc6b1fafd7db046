"""The forum question, answered with numbers.

    "torch.autograd.functional.jacobian of Y = X∘X with respect to a symmetric X gives dY[1,2]/dX[2,1] = 0.
    How do I tell autograd that X is symmetric? And when I symmetrize inside the function, why do I get 0.5 on
    the off-diagonal positions instead of 1?"

Run ``python examples/forum_question.py``. Indices are Python's (zero-based), as in the question: [1, 2] is the
entry 23 of the tensor. See docs/symmetric-derivatives.md for the explanation of every number printed here.
"""

from __future__ import annotations

from typing import Any

import torch

from constitutive import tensor as T
from constitutive.check import check_tangent
from constitutive.notation import component_labels
from constitutive.tangent import jacobian, parameter_jacobian, symmetric_from_lower

X_FORUM = [[1.0, 3.0, 5.0], [3.0, 1.0, 7.0], [5.0, 7.0, 1.0]]
ENTRIES = ((1, 2, 1, 2), (1, 2, 2, 1))


def square(X: torch.Tensor) -> torch.Tensor:
    """Y = X∘X, the matrix product X @ X."""
    return X @ X


def _entries(J: torch.Tensor) -> dict[str, float]:
    return {str(list(e)): float(J[e]) for e in ENTRIES}


def main() -> dict[str, Any]:
    """Print the answers and return them as a dict (the test checks them against the closed form)."""
    X = torch.tensor(X_FORUM, dtype=torch.float64)
    out: dict[str, Any] = {"X": X.tolist(), "Y": square(X).tolist()}

    # 1. What the forum user saw: autograd treats the nine entries as independent ('full' convention).
    raw = torch.autograd.functional.jacobian(square, X)
    out["autograd_raw"] = _entries(raw)
    # 2. Symmetrizing inside the function: autograd now returns J : I^s, the derivative on Sym ('symmetric').
    sym_inside = torch.autograd.functional.jacobian(lambda A: square(T.sym(A)), X)
    out["autograd_symmetrized_inside"] = _entries(sym_inside)
    # ... and for the identity map the same trick gives I^s itself: 0.5 where the user expected 1.
    ident = torch.autograd.functional.jacobian(T.sym, X)
    out["identity_symmetrized"] = {"[0, 1, 0, 1]": float(ident[0, 1, 0, 1]), "[0, 1, 1, 0]": float(ident[0, 1, 1, 0])}

    # 3. The three named conventions of constitutive.tangent.
    for convention in ("full", "symmetric", "components"):
        out[convention] = _entries(jacobian(square, X, convention))

    # 4. The lower-triangular (six-parameter) representation: X built from the lower triangle of L.
    L = torch.tril(X)
    lower = torch.autograd.functional.jacobian(lambda A: square(symmetric_from_lower(A)), L)
    out["lower_triangular"] = {"[1, 2, 2, 1]": float(lower[1, 2, 2, 1]), "[1, 2, 1, 2]": float(lower[1, 2, 1, 2])}

    # 5. Matrices: Voigt stiffness (engineering shear), the six-component matrix, Mandel.
    out["voigt"] = jacobian(square, X, notation="voigt").tolist()
    out["components_voigt"] = jacobian(square, X, "components", notation="voigt").tolist()
    out["six_parameter"] = parameter_jacobian(square, X).tolist()
    out["mandel"] = jacobian(square, X, notation="mandel").tolist()

    # 6. Which one is the tangent? The one that predicts dY for a symmetric increment: check it by finite
    #    differences (the 'components' matrix fails the same check: it double-counts shear).
    out["check_symmetric_passed"] = check_tangent(square, X, jacobian(square, X), rtol=1e-8).passed
    out["check_components_as_tangent_passed"] = check_tangent(square, X, jacobian(square, X, "components")).passed

    labels = component_labels("voigt")
    print("X =", X.tolist())
    print("Y = X @ X =", out["Y"])
    print("\ndY[1,2]/dX[1,2] and dY[1,2]/dX[2,1] (zero-based):")
    rows = [
        ("autograd, nine independent entries", out["autograd_raw"]),
        ("autograd, symmetrized inside", out["autograd_symmetrized_inside"]),
        ("convention 'full'", out["full"]),
        ("convention 'symmetric' (the tangent)", out["symmetric"]),
        ("convention 'components'", out["components"]),
    ]
    for name, values in rows:
        print(f"  {name:40s} {values['[1, 2, 1, 2]']:6.2f} {values['[1, 2, 2, 1]']:6.2f}")
    print(f"  {'lower triangle L[2,1] (L[1,2] unused)':40s} {out['lower_triangular']['[1, 2, 2, 1]']:6.2f}")
    print(f"\nidentity map, symmetrized inside: dX[0,1]/dX[0,1] = {out['identity_symmetrized']['[0, 1, 0, 1]']}")
    for key, title in (
        ("voigt", "Voigt stiffness (pairs with engineering shear strain)"),
        ("components_voigt", "six-component matrix dY_I/dX_J = Voigt x diag(1,1,1,2,2,2)"),
        ("mandel", "Mandel matrix (orthonormal basis)"),
    ):
        print(f"\n{title}; rows/columns {' '.join(labels)}")
        for row in out[key]:
            print("  " + " ".join(f"{v:8.3f}" for v in row))
    print(f"\nfinite-difference check of the 'symmetric' tangent: passed = {out['check_symmetric_passed']}")
    print(f"the 'components' result used as a tangent:           passed = {out['check_components_as_tangent_passed']}")
    return out


if __name__ == "__main__":
    main()
