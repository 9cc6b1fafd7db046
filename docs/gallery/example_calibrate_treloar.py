r"""Six hyperelastic models fitted to Treloar's rubber data
=======================================================

``examples/calibrate_treloar.py``: Neo-Hookean, Mooney-Rivlin, Yeoh, Ogden (3 terms), Arruda-Boyce and Gent fitted
to Treloar's (1944) uniaxial, equibiaxial and pure-shear data, one mode at a time and jointly. This page runs the
program's ``quick`` setting; the full run also writes the joint-fit parameter files.
"""

# Gallery wrapper of examples/calibrate_treloar.py (see docs/gallery/README.rst).
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
example = load_example("calibrate_treloar")
numbers = example.main(OUTDIR, quick=True)
print(
    "Ogden, uniaxial rms (MPa): fitted",
    round(numbers["ogden_uniaxial_rms_fitted"], 4),
    "published",
    round(numbers["ogden_uniaxial_rms_published"], 4),
)
print()
print(numbers["table"])

# %%
# Joint fits of every model, and Ogden's fit in detail:
for figure in numbers["figures"]:
    show(figure)
