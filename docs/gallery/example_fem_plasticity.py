r"""An elastoplastic cantilever in scikit-fem
=========================================

``examples/fem_plasticity.py``: a J2 (Voce) cantilever whose end is pushed down in load steps, with
``J2Plasticity.update`` evaluated at all quadrature points at once. The consistent tangent converges
quadratically, the continuum tangent linearly, the elastic matrix (modified Newton) slowly.
"""

# Gallery wrapper of examples/fem_plasticity.py (see docs/gallery/README.rst).
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
example = load_example("fem_plasticity")
# The residual histories of the last load step, with the three Newton matrices of the program's figure().
curves = {
    "consistent (update)": example.main()[-1],
    "continuum tangent": example.main(tangent="continuum", max_iter=60)[-1],
    "elastic (modified Newton)": example.main(tangent="elastic", max_iter=25, strict=False)[-1],
}
for label, history in curves.items():
    orders = [round(o, 2) for o in example.convergence_orders(history)]
    print(f"{label:26s}: {len(history) - 1} iterations in the last step; observed orders {orders}")

# %%
# Residual histories of the last load step (the program's figure):
example.plot_convergence(curves, OUTDIR / "fem_plasticity_convergence.png", "J2 cantilever, last load step")
show(OUTDIR / "fem_plasticity_convergence.png")
