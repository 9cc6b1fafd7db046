r"""An artery layer: Holzapfel--Gasser--Ogden
==========================================

``examples/artery_hgo.py``: the adventitia of Gasser, Ogden & Holzapfel (2006), two fibre families at ±49.98° from
the circumferential axis, in uniaxial tension (circumferential, axial) and equibiaxial tension with the other normal
stresses free. This page draws 21 stretches per curve (the program: 41).
"""

# Gallery wrapper of examples/artery_hgo.py (see docs/gallery/README.rst).
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
example = load_example("artery_hgo")
figure = example.main(OUTDIR, n=21)

# %%
show(figure)
