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
from .camclay import ModifiedCamClay
from .catalog import describe_models
from .damage import LemaitreDamage
from .elastic import (
    Anisotropic,
    Cubic,
    LinearElastic,
    Orthotropic,
    TransverselyIsotropic,
    elastic_constants,
    hill_average,
    reuss_average,
    voigt_average,
)
from .finite_plasticity import FiniteStrainJ2
from .hardening import (
    HARDENING_LAWS,
    KINEMATIC_TERMS,
    ArmstrongFrederick,
    Chaboche,
    HardeningLaw,
    KinematicTerm,
    Linear,
    Prager,
    Swift,
    UserLaw,
    Voce,
)
from .hill import Hill48
from .hyperelastic import (
    BULK_MODULUS,
    VOLUMETRIC_TERMS,
    ArrudaBoyce,
    Gent,
    HyperelasticMaterial,
    InvariantHyperelastic,
    MooneyRivlin,
    NeoHookean,
    Ogden,
    SaintVenantKirchhoff,
    StretchHyperelastic,
    VolumetricTerm,
    Yeoh,
    isochoric_stretches,
)
from .parameters import OptionalParameter, Parameter, Parametrised
from .plasticity import J2Plasticity, Perzyna
from .returnmap import ReturnMappingMaterial
from .user import from_energy, from_stress
from .viscoelastic import GeneralizedMaxwell

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
    "describe_models",
    "Parameter",
    "OptionalParameter",
    "Parametrised",
    "HARDENING_LAWS",
    "KINEMATIC_TERMS",
    "HardeningLaw",
    "KinematicTerm",
    "UserLaw",
    "VOLUMETRIC_TERMS",
    "VolumetricTerm",
    "LinearElastic",
    "TransverselyIsotropic",
    "Orthotropic",
    "Cubic",
    "Anisotropic",
    "elastic_constants",
    "voigt_average",
    "reuss_average",
    "hill_average",
    "from_energy",
    "from_stress",
    "J2Plasticity",
    "Perzyna",
    "ReturnMappingMaterial",
    "Linear",
    "Voce",
    "Swift",
    "Prager",
    "ArmstrongFrederick",
    "Chaboche",
    "GeneralizedMaxwell",
    "LemaitreDamage",
    "HyperelasticMaterial",
    "InvariantHyperelastic",
    "StretchHyperelastic",
    "isochoric_stretches",
    "BULK_MODULUS",
    "SaintVenantKirchhoff",
    "NeoHookean",
    "MooneyRivlin",
    "Yeoh",
    "Ogden",
    "ArrudaBoyce",
    "Gent",
    "Hill48",
    "ModifiedCamClay",
    "FiniteStrainJ2",
]
from .geomechanics import DruckerPrager, MohrCoulomb  # noqa: E402

__all__ += ["DruckerPrager", "MohrCoulomb"]
from .anisotropic import FibreInvariants, HolzapfelGasserOgden, fibre_invariants, homogeneous_stretch  # noqa: E402

__all__ += ["HolzapfelGasserOgden", "FibreInvariants", "fibre_invariants", "homogeneous_stretch"]
from .thermal import (  # noqa: E402
    TemperatureFunction,
    TemperatureTable,
    ThermoMechanical,
    as_temperature_dependence,
)

__all__ += ["TemperatureTable", "TemperatureFunction", "ThermoMechanical", "as_temperature_dependence"]
