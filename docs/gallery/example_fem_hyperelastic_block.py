r"""A hyperelastic block in scikit-fem
==================================

``examples/fem_hyperelastic_block.py``: a 3D neo-Hookean block clamped at its base, stretched and sheared at its
top, solved by Newton's method with :math:`P` and :math:`\mathbb{A} = \partial P/\partial F` of a
``constitutive`` model at every quadrature point. The consistent tangent converges quadratically; a tangent without
its geometric part does not converge at these strains; a scaled tangent converges linearly.
"""

# Gallery wrapper of examples/fem_hyperelastic_block.py (see docs/gallery/README.rst).
import importlib.util
import sys
import tempfile
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt

import constitutive

EXAMPLES = Path(constitutive.__file__).resolve().parents[1] / "examples"
OUTDIR = Path(tempfile.mkdtemp(prefix="constitutive-gallery-"))  # never docs/figures


def load_example(name: str):
    """Import ``examples/<name>.py`` as a module (it selects the Agg backend; the current one is restored)."""
    backend = matplotlib.get_backend()
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    plt.switch_backend(backend)
    return module


def show(png) -> None:
    """Display a figure the example wrote, pixel for pixel."""
    image = plt.imread(png)
    fig = plt.figure(figsize=(image.shape[1] / 100, image.shape[0] / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(image)
    ax.set_axis_off()


# %%
example = load_example("fem_hyperelastic_block")
# The residual histories of the last load step, with the two tangents of the program's figure().
curves = {
    "consistent A = dP/dF": example.main()[-1],
    "perturbed 1.3 A": example.main(tangent="scaled", max_iter=60)[-1],
}
for label, history in curves.items():
    orders = [round(o, 2) for o in example.convergence_orders(history)]
    print(f"{label:22s}: {len(history) - 1} iterations in the last step; observed orders {orders}")

# %%
# Residual histories of the last load step (the program's figure):
example.plot_convergence(
    curves, OUTDIR / "fem_hyperelastic_convergence.png", "hyperelastic block (NeoHookean), last load step"
)
show(OUTDIR / "fem_hyperelastic_convergence.png")
