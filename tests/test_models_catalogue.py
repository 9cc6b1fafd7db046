"""docs/models.md's catalogue lists every registered model, and its FE-card and UMAT columns say what the
registries hold (so a new model, card writer or UMAT generator without a catalogue entry fails here)."""

from __future__ import annotations

from pathlib import Path

import constitutive.export  # noqa: F401  (registers every card writer and UMAT generator)
from constitutive.export.cards import _CARD_WRITERS, _lookup
from constitutive.export.umat_generator import _GENERATORS
from constitutive.models.base import MODELS

DOC = Path(__file__).resolve().parents[1] / "docs" / "models.md"


def _rows() -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## The catalogue") : text.index("## The model interface")]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 6:
            rows[cells[0].strip("`")] = cells
    return rows


def _package_models() -> set[str]:
    """The package's own models (tests register classes of their own in the same registry)."""
    return {name for name, cls in MODELS.items() if cls.__module__.startswith("constitutive.")}


def test_every_registered_model_is_in_the_catalogue_and_nothing_else() -> None:
    assert set(_rows()) == _package_models()


def test_the_card_and_umat_columns_match_the_registries() -> None:
    for name, cells in _rows().items():
        cls = MODELS[name]
        card, umat = cells[3], cells[4]
        has_card = _lookup(cls, _CARD_WRITERS) is not None
        has_umat = _lookup(cls, _GENERATORS) is not None
        # a registered writer either writes ("yes ...") or refuses with its reason ("refused ...")
        assert has_card == (card.startswith("yes") or card.startswith("refused")), (name, card)
        assert has_umat == umat.startswith("yes"), (name, umat)
