r"""Hill48 yield surface of a sheet beside von Mises
=================================================

``examples/hill48_yield_surface.py``: the Hill48 yield surface of a deep-drawing sheet given by its Lankford
coefficients (synthetic, DC04-like), in the π-plane, the meridian and the sheet's plane-stress σ11–σ22 locus,
beside von Mises; the uniaxial yield stresses at 0°, 45° and 90° from the rolling direction are obtained by driving
the model and compared with the closed form.
"""

# Gallery wrapper of examples/hill48_yield_surface.py (see docs/gallery/README.rst).
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
example = load_example("hill48_yield_surface")
numbers = example.main(OUTDIR)
for key, value in numbers.items():
    if key != "figure":
        print(f"{key}: {value}")

# %%
show(numbers["figure"])
