"""Material models. Every model class is registered by name in :data:`MODELS` (see :mod:`.base`)."""

from .base import (
    MODELS,
    ConvergenceError,
    Material,
    PathDependentMaterial,
    get_model,
    load,
    read_toml,
    register,
    save,
    write_toml,
)

__all__ = [
    "MODELS",
    "ConvergenceError",
    "Material",
    "PathDependentMaterial",
    "get_model",
    "load",
    "read_toml",
    "register",
    "save",
    "write_toml",
]
