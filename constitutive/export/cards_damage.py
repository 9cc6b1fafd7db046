"""Export of :class:`~constitutive.models.damage.LemaitreDamage`: Abaqus has no Lemaitre card, and the writer
registered here says so (instead of the registry's generic "no material card")."""

from __future__ import annotations

from typing import Any

from ..models.damage import LemaitreDamage
from .cards import register_card_writer

__all__ = ["NO_LEMAITRE_CARD"]

#: Why no card is written (the message of the ``ValueError``).
NO_LEMAITRE_CARD = (
    "Abaqus has no Lemaitre ductile damage card: its ductile damage (*DAMAGE INITIATION, CRITERION=DUCTILE with "
    "*DAMAGE EVOLUTION) is a different model (an initiation locus in stress triaxiality, then a displacement- or "
    "energy-based softening regularised by the element length), so no card reproduces LemaitreDamage; run it in "
    "the material-point driver (constitutive drive) or through a user subroutine"
)


@register_card_writer(LemaitreDamage)
def _lemaitre_card(model: Any, *, code: str = "abaqus", **_: Any) -> str:
    raise ValueError(f"{type(model).__name__}: {NO_LEMAITRE_CARD}")
