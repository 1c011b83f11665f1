""""Closest: …" after a name or term the notes lack shows only relevant entries (#14.15)."""

from __future__ import annotations

import pytest

from bot.dispatch import Bot
from bot.messages import Request
from bot.ops.prepared import prepare


@pytest.fixture(scope="module")
def bot() -> Bot:
    return Bot(prepare(None))  # the bundled base: the one the complaints were about


def _slash(text: str) -> Request:
    return Request(platform="console", user="U1", channel="C1", text=text, is_command=True)


@pytest.mark.parametrize("text", ["who Macron", "define AUKUS", "who Olaf Scholz", "define BRICS"])
def test_a_stranger_gets_no_unrelated_suggestion(bot: Bot, text: str) -> None:
    reply = bot.dispatch(_slash(text))
    assert reply.kind == "abstain" and "Closest" not in reply.text
    assert "/nato topics" in reply.text  # where to look instead
    assert reply.suggestions == ()
    assert "Zakharova" not in reply.text and "Article 9" not in reply.text


@pytest.mark.parametrize(
    ("text", "entry"),
    [("who Kishida Fumio", "fumio-kishida"), ("define ccdcoe tallinn", "term-nato-cyber-centre-estonia")],
)
def test_a_near_name_is_still_suggested(bot: Bot, text: str, entry: str) -> None:
    reply = bot.dispatch(_slash(text))
    assert reply.kind == "abstain" and entry in [s.entry_id for s in reply.suggestions]


def test_autocomplete_keeps_its_looser_floor(bot: Bot) -> None:
    # A prefix still being typed scores low; autocomplete must still offer something.
    assert bot.engine.suggest("kish", ("person",), 5)
