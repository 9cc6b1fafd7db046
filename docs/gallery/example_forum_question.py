r"""The forum question, answered with numbers
=========================================

``examples/forum_question.py``: "autograd of :math:`Y = XX` with respect to a symmetric :math:`X` gives
:math:`\partial Y_{12}/\partial X_{21} = 0`; symmetrising inside gives 0.5 -- which is right?" The program prints
every convention's answer; the figure shows the three 9 x 9 matrices :math:`\partial Y_{ij}/\partial X_{kl}`.
See :doc:`/symmetric-derivatives` for the explanation.
"""

# Gallery wrapper of examples/forum_question.py (see docs/gallery/README.rst).
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
example = load_example("forum_question")
numbers = example.main()

# %%
# The three conventions as 9 x 9 matrices (rows ij, columns kl):
import torch  # noqa: E402

from constitutive.tangent import jacobian  # noqa: E402

X = torch.tensor(example.X_FORUM, dtype=torch.float64)
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
for ax, convention in zip(axes, ("full", "symmetric", "components")):
    D = jacobian(example.square, X, convention).reshape(9, 9)
    image = ax.imshow(D.numpy(), cmap="RdBu_r", vmin=-16, vmax=16)
    ax.set_title(f"convention {convention!r}")
    ax.set_xlabel("kl")
    ax.set_ylabel("ij")
fig.colorbar(image, ax=axes, shrink=0.8)
