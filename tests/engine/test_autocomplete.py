"""Autocomplete (Engine.suggest) ranks names and terms the same on every keystroke."""

from __future__ import annotations

import pytest
from rapidfuzz import fuzz, process

from bot.knowledge.base import Entry
from bot.qa.engine import Engine
from bot.text import normalise
from tests.fixtures import bundled_engine

PREFIXES = ["", "k", "kishi", "stol", "lunge", "oana", "itpp", "nato", "ccdcoe", "iuu", "yok", "zzzz"]


def labelled_from_scratch(engine: Engine, prefix: str, kinds: tuple[str, ...], limit: int) -> list[Entry]:
    """The plain computation: filter, label and score every entry for this one keystroke."""
    pool = [e for e in engine.kb.entries if not kinds or e.kind in kinds]
    key = normalise(prefix)
    if not key:
        return pool[:limit]
    labels = {i: normalise(" ".join([e.title, *e.aliases])) for i, e in enumerate(pool)}
    ranked = process.extract(key, labels, scorer=fuzz.WRatio, processor=None, limit=limit, score_cutoff=40)
    return [pool[index] for _, _, index in ranked]


@pytest.mark.parametrize("kinds", [(), ("person",), ("term",), ("person", "term")])
def test_suggestions_match_labelling_every_entry_on_every_keystroke(kinds: tuple[str, ...]) -> None:
    engine = bundled_engine()
    for _ in range(2):  # the second round uses the labels kept from the first
        for prefix in PREFIXES:
            for limit in (5, 25):
                expected = labelled_from_scratch(engine, prefix, kinds, limit)
                assert engine.suggest(prefix, kinds, limit) == expected, (prefix, kinds, limit)


def test_a_suggestion_list_can_be_changed_without_changing_the_next_one() -> None:
    engine = bundled_engine()
    first = engine.suggest("", ("person",), 5)
    first.clear()
    assert len(engine.suggest("", ("person",), 5)) == 5
