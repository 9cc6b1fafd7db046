"""constitutive: continuum-mechanics constitutive modelling on PyTorch, with every convention named and tested.

Modules, from the bottom layer up (docs/architecture.md): :mod:`.tensor` (batched tensor algebra),
:mod:`.notation` (Voigt/Mandel in every FE order), :mod:`.symmetry`, :mod:`.tangent` (derivatives on symmetric
tensors), :mod:`.kinematics`, :mod:`.check` (tangent verification), :mod:`.models` (material models),
:mod:`.paths` and :mod:`.driver` (material-point driver), :mod:`.experiments`, :mod:`.data` and :mod:`.calibrate`
(fitting to test data), :mod:`.export` (FE-code layouts and cards); the command line is :mod:`.cli` (not imported
here).
"""

from . import check, kinematics, models, notation, symmetry, tangent, tensor
from ._version import __version__
from .check import check_tangent
from .notation import from_mandel, from_voigt, to_mandel, to_voigt

__all__ = [
    "__version__",
    "check",
    "check_tangent",
    "kinematics",
    "models",
    "notation",
    "symmetry",
    "tangent",
    "tensor",
    "to_voigt",
    "from_voigt",
    "to_mandel",
    "from_mandel",
]
