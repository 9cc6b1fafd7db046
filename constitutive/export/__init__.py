r"""Export to finite-element codes: stress and tangent in each code's layout, files with a stated convention, and
Abaqus material cards with exact parameter conversions.

Layouts (:data:`CODES`). Every layout is a (notation, component order) pair of :mod:`constitutive.notation`, which
does every conversion; nothing here re-encodes an order or a shear factor.

==========  ========  ===========================  =============================================================
code        notation  order                        arrays in that code
==========  ========  ===========================  =============================================================
abaqus      Voigt     11 22 33 12 13 23            UMAT ``STRESS(NTENS)``, ``DDSDDE(NTENS, NTENS)``
calculix    Voigt     11 22 33 12 13 23            umat ``emec(6)`` (tensor shear), ``stre(6)`` (PK2), ``stiff(21)``
ansys       Voigt     11 22 33 12 23 13            USERMAT ``stress(ncomp)``, ``dsdePl(ncomp, ncomp)``
lsdyna      Voigt     11 22 33 12 23 31            user material ``sig(6)`` (and Abaqus/Explicit VUMAT)
mfront      Mandel    11 22 33 12 13 23 (√2)       TFEL ``StressStensor``, ``StiffnessTensor``
neml2       Mandel    11 22 33 23 13 12 (√2)       NEML2/MOOSE ``SR2`` / ``SSR4`` Mandel vectors
==========  ========  ===========================  =============================================================

Voigt: the stress vector has no factors, the strain vector carries engineering shear γ = 2ε, the tangent matrix is
:math:`D_{IJ} = C_{ijkl}` (no factors; it pairs with engineering shear). CalculiX's umat takes the strain *tensor*
(``emec``: ε_12, not γ_12; :attr:`CodeLayout.tensor_shear_strain`), so its strain vector has no factors either.
Mandel: √2 on every shear slot of stress, strain, and (√2, 2) on the tangent.

Fortran storage. ``DDSDDE(I, J)`` = ∂Δσ_I/∂Δε_J is stored column-major, so the flat array a Fortran reader gets is
``flat[(I-1) + (J-1)*NTENS] = DDSDDE(I, J)`` (1-based I, J); :meth:`ExportedState.fortran_flat` returns it and
:func:`from_fortran_flat` reads it back. (Column-major and row-major coincide only for a symmetric tangent.)

Two-dimensional hypotheses (Abaqus NTENS): ``"3d"`` (6), ``"plane_strain"`` and ``"axisymmetric"`` (4: 11 22 33 12),
``"plane_stress"`` (3: 11 22 12, σ33 = 0 condensed statically by :func:`constitutive.notation.reduce`).
:func:`export_model` with ``hypothesis="plane_stress"`` takes the in-plane strain of any model, solves ε33, ε13, ε23
for σ33 = σ13 = σ23 = 0 with the driver's Newton step and returns the condensed consistent tangent
(:func:`plane_stress_strain` gives the solved 3D strain back). Every header states the ``units``.
"""

from __future__ import annotations

from .card_reader import TabulatedHardening, read_card
from .cards import (
    CARD_CODES,
    PlasticTable,
    abaqus_card,
    abaqus_elastic_card,
    abaqus_hyperelastic_card,
    abaqus_plastic_card,
    abaqus_rate_dependent_card,
    abaqus_viscoelastic_card,
    card_kinds,
    card_writer_for,
    parse_abaqus_card,
    plastic_table,
    register_card_writer,
)
from .cards_camclay import abaqus_camclay_card
from .cards_damage import NO_LEMAITRE_CARD  # registers the LemaitreDamage writer (which refuses)
from .cards_hgo import abaqus_hgo_card, orientation_directions, read_hgo_card
from .cards_hill import abaqus_hill_card
from .files import read, write
from .layouts import (
    ANISOTROPIC_ORDER,
    CODES,
    FORMATS,
    HYPOTHESES,
    ORTHOTROPIC_ORDER,
    CodeLayout,
    from_fortran_flat,
    layout,
    pack_upper,
    unpack_upper,
)
from .state import (
    UNSPECIFIED,
    ExportedState,
    export_finite_strain,
    export_model,
    export_state,
    material_units,
    plane_stress_strain,
)
from .umat_generator import UMATGenerationError, generate_umat, umat_source

__all__ = [
    "CodeLayout",
    "CODES",
    "HYPOTHESES",
    "FORMATS",
    "ExportedState",
    "layout",
    "export_state",
    "export_model",
    "export_finite_strain",
    "plane_stress_strain",
    "material_units",
    "UNSPECIFIED",
    "from_fortran_flat",
    "pack_upper",
    "unpack_upper",
    "ANISOTROPIC_ORDER",
    "ORTHOTROPIC_ORDER",
    "write",
    "read",
    "abaqus_elastic_card",
    "abaqus_hyperelastic_card",
    "abaqus_card",
    "parse_abaqus_card",
    "abaqus_plastic_card",
    "abaqus_rate_dependent_card",
    "abaqus_viscoelastic_card",
    "plastic_table",
    "PlasticTable",
    "register_card_writer",
    "card_writer_for",
    "card_kinds",
    "CARD_CODES",
    "read_card",
    "TabulatedHardening",
    "abaqus_hgo_card",
    "read_hgo_card",
    "orientation_directions",
    "umat_source",
    "generate_umat",
    "UMATGenerationError",
    "abaqus_hill_card",
    "NO_LEMAITRE_CARD",
    "abaqus_camclay_card",
]
from .cards_geomechanics import abaqus_drucker_prager_card, abaqus_mohr_coulomb_card  # noqa: E402

__all__ += ["abaqus_drucker_prager_card", "abaqus_mohr_coulomb_card"]
from . import umat_finite_j2  # noqa: E402,F401  (registers the FiniteStrainJ2 UMAT generator)
from .layouts import THERMAL_TANGENT_QUANTITY, thermal_tangent_tensor, thermal_tangent_vector  # noqa: E402
from .umat_thermal import thermal_j2_umat  # noqa: E402

__all__ += ["THERMAL_TANGENT_QUANTITY", "thermal_tangent_vector", "thermal_tangent_tensor", "thermal_j2_umat"]
# Temperature columns (issue 16): importing the module registers its writer for ThermoMechanical when
# constitutive.models.thermal exists (a find_spec check, not a try/except).
from .cards_thermal import abaqus_thermal_card, format_thermal_card, read_thermal_card, thermal_card_data  # noqa: E402

__all__ += ["abaqus_thermal_card", "thermal_card_data", "format_thermal_card", "read_thermal_card"]
