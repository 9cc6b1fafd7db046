"""constitutive: continuum-mechanics constitutive modelling on PyTorch, with every convention named and tested.

Modules: :mod:`.tensor` (batched tensor algebra), :mod:`.notation` (Voigt/Mandel in every FE order),
:mod:`.symmetry`, :mod:`.tangent` (derivatives on symmetric tensors), :mod:`.models`.
"""

from . import notation, symmetry, tangent, tensor
from .notation import from_mandel, from_voigt, to_mandel, to_voigt

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "notation",
    "symmetry",
    "tangent",
    "tensor",
    "to_voigt",
    "from_voigt",
    "to_mandel",
    "from_mandel",
]
