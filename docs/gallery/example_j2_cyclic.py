r"""Cyclic J2 plasticity at a material point
========================================

``examples/j2_cyclic.py``: hysteresis loops under cyclic uniaxial stress (mixed control), linear kinematic
(Prager) hardening against its closed-form loop, and Voce + Chaboche hardening with the consistent tangent checked
by finite differences at every step. This page runs two cycles of 20 increments per quarter (the program: three
cycles of 40).
"""

# Gallery wrapper of examples/j2_cyclic.py (see docs/gallery/README.rst).
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
example = load_example("j2_cyclic")
numbers = example.main(OUTDIR, cycles=2, increments=20)
print(numbers.pop("summary"))
for key, value in numbers.items():
    if key != "figure":
        print(f"{key}: {value}")

# %%
show(numbers["figure"])
