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
for kind, max_iter in (("consistent", 25), ("continuum", 60)):
    history = example.main(tangent=kind, max_iter=max_iter)[-1]
    orders = [round(o, 2) for o in example.convergence_orders(history)]
    print(f"{kind:10s} tangent: {len(history) - 1} iterations in the last step; observed orders {orders}")

# %%
# Residual histories of the last load step, three Newton matrices:
example.figure(OUTDIR / "fem_plasticity_convergence.png")
show(OUTDIR / "fem_plasticity_convergence.png")
