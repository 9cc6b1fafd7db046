r"""A planted DDSDDE error in a Fortran UMAT
========================================

``examples/umat_planted_error.py``: two Fortran UMATs of J2 plasticity, one returning the elastic matrix in plastic
steps (the most common UMAT defect). The checker names the first wrong increment and component; the driver needs
far more Newton iterations with the planted error. Needs ``gfortran``.
"""

# Gallery wrapper of examples/umat_planted_error.py (see docs/gallery/README.rst).
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
example = load_example("umat_planted_error")
numbers = example.main()

# %%
# Newton iterations of the driver along the cyclic path, with each UMAT's DDSDDE:
names = list(numbers["iterations"])
counts = [numbers["iterations"][n] or 0 for n in names]
fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(names, counts, color=["tab:green", "tab:red"])
ax.set_ylabel("Newton iterations (whole path)")
ax.set_title("cyclic uniaxial stress, J2 UMAT")
for i, n in enumerate(counts):
    ax.annotate(str(n), (i, n), ha="center", va="bottom")
