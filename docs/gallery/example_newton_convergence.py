r"""Why the consistent tangent matters
==================================

``examples/newton_convergence.py``: the driver's mixed-control Newton on a tension-torsion path of J2 plasticity,
with the consistent (algorithmic) and with the continuum tangent. The stress is the model's in both runs; only the
Newton matrix changes: quadratic against linear convergence.
"""

# Gallery wrapper of examples/newton_convergence.py (see docs/gallery/README.rst).
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
example = load_example("newton_convergence")
numbers = example.main(OUTDIR)
for key in ("step", "consistent_iterations", "continuum_iterations", "consistent_orders", "max_stress_difference"):
    print(f"{key}: {numbers[key]}")
print("continuum orders (first 5):", [round(p, 3) for p in numbers["continuum_orders"][:5]])

# %%
show(numbers["figure"])
