r"""J2 plasticity fitted to a steel tension test
============================================

``examples/calibrate_steel.py``: J2 plasticity with Voce and with Swift isotropic hardening fitted to the true
stress-strain curve of a steel tension test (St1594), with the closed-form monotonic response checked against the
incremental (mixed-control Newton) route. This page runs the program's ``quick`` setting; the full run also writes
the parameter files ``materials/steel_st1594_j2_*_fit.toml``.
"""

# Gallery wrapper of examples/calibrate_steel.py (see docs/gallery/README.rst).
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
example = load_example("calibrate_steel")
numbers = example.main(OUTDIR, quick=True)
print("rms error per hardening law (MPa):", {law: round(v, 3) for law, v in numbers["rms"].items()})
print("closed form vs incremental route, largest difference (MPa):", numbers["route_difference"])

# %%
# The fitted curves against the data:
show(numbers["figure"])
