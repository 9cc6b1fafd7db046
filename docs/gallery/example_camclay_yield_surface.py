r"""Modified Cam-clay: yield ellipse and triaxial paths
===================================================

``examples/camclay_yield_surface.py``: a normally consolidated clay sheared drained (the driver's mixed control at
constant cell pressure) and undrained (no volume change), against the critical-state closed forms; the p–q plane
with the ellipses and the critical-state line, and the π-plane section. This page runs 12 increments per segment
(the program: 20).
"""

# Gallery wrapper of examples/camclay_yield_surface.py (see docs/gallery/README.rst).
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
example = load_example("camclay_yield_surface")
numbers = example.main(OUTDIR, increments=12)
for key, value in numbers.items():
    if key != "figure":
        print(f"{key}: {value}")

# %%
show(numbers["figure"])
