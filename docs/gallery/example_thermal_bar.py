r"""Temperature: a steel bar held at both ends and heated
=====================================================

``examples/thermal_bar.py``: S355 with the Eurocode 3 fire-part properties (EN 1993-1-2: E(T), f_y(T), secant
thermal expansion) heated from 20 to 800 °C with both ends held -- the thermal stress against -E(T) ε_th(T), the yield
onset computed by hand, the plastic branch against its closed form -- and the free bar's thermal strain.
"""

# Gallery wrapper of examples/thermal_bar.py (see docs/gallery/README.rst).
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
example = load_example("thermal_bar")
numbers = example.main(OUTDIR)
for key, value in numbers.items():
    if key != "figure":
        print(f"{key}: {value}")

# %%
show(numbers["figure"])
