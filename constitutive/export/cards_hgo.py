r"""Abaqus cards of the Holzapfel--Gasser--Ogden model: ``*ANISOTROPIC HYPERELASTIC, HOLZAPFEL`` with the fibre
directions in an ``*ORIENTATION`` with ``LOCAL DIRECTIONS``, and the way back (:func:`read_hgo_card`, used by
:func:`~.card_reader.read_card`).

Abaqus (Analysis User's Guide, 'Anisotropic hyperelastic behavior', Holzapfel--Gasser--Ogden form):

.. math::

    U = C_{10}(\bar I_1 - 3) + \frac1D\left(\frac{J^2 - 1}{2} - \ln J\right) + \frac{k_1}{2k_2}\sum_{\alpha=1}^{N}
    \left[e^{k_2\langle\bar E_\alpha\rangle^2} - 1\right],\quad
    \bar E_\alpha = \kappa(\bar I_1 - 3) + (1 - 3\kappa)(\bar I_{4(\alpha\alpha)} - 1),

data line ``C10, D, k1, k2, kappa``; the N fibre families are the local directions of the section's orientation.
It is exactly :class:`~constitutive.models.anisotropic.HolzapfelGasserOgden` with the ``"simo_taylor"`` volumetric
function :math:`\tfrac K4(J^2 - 1 - 2\ln J)`: same C10, k1, k2, κ and :math:`D = 2/K`.

The writer emits, after the material's keyword::

    *ANISOTROPIC HYPERELASTIC, HOLZAPFEL, LOCAL DIRECTIONS=N
    C10, D, k1, k2, kappa
    *ORIENTATION, NAME=HGO_FIBRES, LOCAL DIRECTIONS=N
    1.0, 0.0, 0.0, 0.0, 1.0, 0.0          (the local system = the global axes)
    3, 0.0                                (no additional rotation)
    a1x, a1y, a1z                          (one line per fibre family, reference configuration)
    ...

``*ORIENTATION`` is model data, not a material option: it ends the ``*MATERIAL`` block, and the section that uses the
material must name it (``*SOLID SECTION, ELSET=..., MATERIAL=..., ORIENTATION=HGO_FIBRES``). CalculiX (2.20) reads
neither ``*ANISOTROPIC HYPERELASTIC`` nor ``LOCAL DIRECTIONS`` (it skips both with "card image cannot be
interpreted", checked in tests/test_hgo.py), so ``code="calculix"`` raises ``ValueError``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..models.anisotropic import HolzapfelGasserOgden
from .cards import _check_code, _scalar, register_card_writer

__all__ = ["abaqus_hgo_card", "read_hgo_card", "orientation_directions"]

#: The default ``*ORIENTATION`` name of the fibre directions.
HGO_ORIENTATION = "HGO_FIBRES"


def abaqus_hgo_card(model: Any, code: str = "abaqus", orientation: str = HGO_ORIENTATION) -> str:
    """``*ANISOTROPIC HYPERELASTIC, HOLZAPFEL`` and the ``*ORIENTATION`` (named ``orientation``) holding the fibre
    directions of a :class:`HolzapfelGasserOgden` model (module docstring); ``ValueError`` for another volumetric
    function than ``"simo_taylor"`` (no exact Abaqus form) and for ``code="calculix"``."""
    _check_code(code)
    if code == "calculix":
        raise ValueError(
            "CalculiX has no *ANISOTROPIC HYPERELASTIC (and no LOCAL DIRECTIONS on *ORIENTATION): it skips the card, "
            f"so no CalculiX card reproduces {type(model).__name__}; write code='abaqus', or use the UMAT"
        )
    vol = model.options.get("volumetric", "simo_taylor")
    if vol != "simo_taylor":
        raise ValueError(
            f"{type(model).__name__} uses the {vol!r} volumetric function; Abaqus's HOLZAPFEL form has "
            "(1/D)((J^2 - 1)/2 - ln J) = K/4 (J^2 - 1 - 2 ln J) only ('simo_taylor'), so no exact card exists"
        )
    d = torch.as_tensor(model.parameters["directions"]).detach().cpu().to(torch.float64).numpy()
    n = d.shape[0]
    values = [_scalar(model, "C10"), 2.0 / _scalar(model, "K"), _scalar(model, "k1"), _scalar(model, "k2")]
    values.append(_scalar(model, "kappa"))
    # repr: the shortest text that reads back as the same double (no 20-character field limit here: that one is
    # CalculiX's, and CalculiX does not read this card), so D = 2/K and the directions are exact.
    lines = [f"*ANISOTROPIC HYPERELASTIC, HOLZAPFEL, LOCAL DIRECTIONS={n}", ", ".join(_exact(v) for v in values)]
    lines += [
        f"** fibre directions: name ORIENTATION={orientation} on the section that uses this material",
        f"*ORIENTATION, NAME={orientation}, LOCAL DIRECTIONS={n}",
        "1.0, 0.0, 0.0, 0.0, 1.0, 0.0",
        "3, 0.0",
        *(", ".join(_exact(x) for x in row) for row in d),
    ]
    return "\n".join(lines) + "\n"


def _exact(x: float) -> str:
    text = repr(float(x))
    return text if any(c in text for c in ".en") else text + ".0"


def _hgo_writer(model: Any, *, code: str = "abaqus", **_: Any) -> str:
    return abaqus_hgo_card(model, code)


register_card_writer(HolzapfelGasserOgden, _hgo_writer)


def _axis_rotation(axis: int, degrees: float) -> np.ndarray:
    """Rotation by ``degrees`` (right-handed) about the local axis 1, 2 or 3."""
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    i, j = [(1, 2), (2, 0), (0, 1)][axis - 1]
    R = np.eye(3)
    R[i, i], R[i, j], R[j, i], R[j, j] = c, -s, s, c
    return R


def orientation_directions(block: dict[str, Any], n: int) -> np.ndarray:
    """The ``n`` local directions ``(n, 3)`` of a parsed ``*ORIENTATION`` block (``SYSTEM=RECTANGULAR``,
    ``DEFINITION=COORDINATES``: points a, b (and the origin c), an additional rotation (axis, angle in degrees),
    then one line per local direction in the local system), in global components."""
    opts = block["options"]
    system = (opts.get("SYSTEM") or "RECTANGULAR").upper()
    definition = (opts.get("DEFINITION") or "COORDINATES").upper()
    if system != "RECTANGULAR" or definition != "COORDINATES":
        raise ValueError(
            f"*ORIENTATION, SYSTEM={system}, DEFINITION={definition} is not read; read is the rectangular system "
            "defined by coordinates"
        )
    data = block["data"]
    head = len(data) - 2 - 3 * n
    if head not in (6, 9):
        raise ValueError(
            f"*ORIENTATION with LOCAL DIRECTIONS={n} needs the points a, b (c), the line 'axis, angle' and {n} "
            f"direction lines; got {len(data)} values"
        )
    a, b = np.array(data[0:3]), np.array(data[3:6])
    c = np.array(data[6:9]) if head == 9 else np.zeros(3)
    e1 = a - c
    e3 = np.cross(e1, b - c)
    if np.linalg.norm(e1) == 0 or np.linalg.norm(e3) == 0:
        raise ValueError("*ORIENTATION: the points a, b do not define a coordinate system")
    e1, e3 = e1 / np.linalg.norm(e1), e3 / np.linalg.norm(e3)
    R = np.stack([e1, np.cross(e3, e1), e3], axis=1)  # columns: the local axes
    axis, angle = int(data[head]), float(data[head + 1])
    if axis not in (1, 2, 3):
        raise ValueError(f"*ORIENTATION: the additional rotation axis must be 1, 2 or 3, got {axis}")
    if angle != 0.0:
        R = R @ _axis_rotation(axis, angle)
    local = np.asarray(data[head + 2 :], dtype=np.float64).reshape(n, 3)
    if np.array_equal(R, np.eye(3)):
        return local  # the global axes: exactly the written directions
    return local @ R.T


def read_hgo_card(block: dict[str, Any], orientations: list[dict[str, Any]], section: str | None = None) -> Any:
    """The :class:`HolzapfelGasserOgden` of a parsed ``*ANISOTROPIC HYPERELASTIC, HOLZAPFEL`` block, the fibre
    directions taken from the ``*ORIENTATION`` named ``section`` (the section's ``ORIENTATION=``), or from the
    only orientation with the card's number of local directions. K = 2/D; D = 0 (incompressible) is refused."""
    opts = block["options"]
    if "HOLZAPFEL" not in opts:
        kinds = [k for k, v in opts.items() if v is None]
        raise ValueError(f"*ANISOTROPIC HYPERELASTIC, {', '.join(kinds) or '?'} is not read; read is HOLZAPFEL")
    n = int(opts.get("LOCALDIRECTIONS", opts.get("LOCAL DIRECTIONS", opts.get("LOCAL DIRECTION", "0"))))
    if n < 1:
        raise ValueError("*ANISOTROPIC HYPERELASTIC, HOLZAPFEL needs LOCAL DIRECTIONS=N >= 1 (the fibre families)")
    data = block["data"]
    if len(data) != 5:
        raise ValueError(
            f"*ANISOTROPIC HYPERELASTIC, HOLZAPFEL needs C10, D, k1, k2, kappa (5 values), got {len(data)}"
        )
    C10, D, k1, k2, kappa = data
    if D == 0.0:
        raise ValueError("D = 0 (incompressible): HolzapfelGasserOgden needs a bulk modulus K = 2/D > 0")
    candidates = [o for o in orientations if _local_directions(o) == n]
    if section is not None:
        candidates = [o for o in orientations if (o["options"].get("NAME") or "").upper() == section.upper()]
    if len(candidates) != 1:
        raise ValueError(
            f"cannot tell the fibre directions: {len(candidates)} *ORIENTATION blocks with LOCAL DIRECTIONS={n}"
            + (f" named {section!r}" if section else "")
            + " (one is needed; name it on the section with ORIENTATION=)"
        )
    directions = orientation_directions(candidates[0], n)
    return HolzapfelGasserOgden(C10, _bulk_from_D(D), k1, k2, kappa, torch.as_tensor(directions, dtype=torch.float64))


def _bulk_from_D(D: float) -> float:
    """K = 2/D, as the shortest decimal whose 2/K is D again (so that card -> model -> card is exact: 2/(2/D) may
    differ from D in the last bit)."""
    for digits in range(1, 18):
        K = float(f"{2.0 / D:.{digits}g}")
        if 2.0 / K == D:
            return K
    return 2.0 / D


def _local_directions(block: dict[str, Any]) -> int:
    opts = block["options"]
    return int(opts.get("LOCAL DIRECTIONS", opts.get("LOCALDIRECTIONS", "0")) or 0)
