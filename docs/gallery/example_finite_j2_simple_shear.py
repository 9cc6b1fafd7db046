r"""Finite-strain J2 plasticity in large simple shear
==================================================

``examples/finite_j2_simple_shear.py``: finite-strain J2 plasticity (multiplicative split, Hencky elasticity,
exponential-map return) driven in simple shear to γ = 4 on the driver's finite-strain path, with its consistent
tangent checked at every step, beside the small-strain J2 model: the shear stress against γ, and the normal stresses
that only the finite-strain model develops.
"""

# Gallery wrapper of examples/finite_j2_simple_shear.py (see docs/gallery/README.rst).
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
example = load_example("finite_j2_simple_shear")
numbers = example.main(OUTDIR)
print(numbers["summary"])
for key, value in numbers.items():
    if key not in ("figure", "summary") and not hasattr(value, "shape"):  # the curves themselves are tensors
        print(f"{key}: {value}")

# %%
show(numbers["figure"])
