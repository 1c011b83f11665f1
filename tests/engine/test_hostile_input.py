"""Whatever arrives, the user gets a polite answer and nothing crashes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import parse_command
from bot.dispatch import Request
from bot.engine import MAX_QUESTION_CHARS
from tests.fixtures import bundled_bot, bundled_engine

HOSTILE = [
    "",
    "   \t\n ",
    "a" * 50_000,
    "when did japan join the nato cyber centre " * 1200,
    "\x00\x01\x02 what is itpp \x7f\x1b[31m",
    "wh\u200bo is lun\u200dgescu\u2060?",
    "🇯🇵🤝🇪🇺 ??? 🚀",
    "ما هو الناتو",
    "\u202eorez\u202c",
    "<!channel> @everyone @here who is kishida",
    "/nato timeline \x00",
    "'; DROP TABLE subscriptions; --",
    "%s %n {0} ${jndi:ldap://x}",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_questions_get_a_bounded_polite_answer(text: str) -> None:
    answer = bundled_engine().ask(text)
    assert answer.text.strip()
    assert len(answer.text) < 3000


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_commands_never_raise(text: str) -> None:
    reply = bundled_bot().dispatch(Request("console", "u", "c", text, is_command=True))
    assert reply.text.strip()


def test_invisible_characters_do_not_hide_a_known_name() -> None:
    answer = bundled_engine().ask("wh\u200bo is lun\u200dgescu\u2060?")
    assert not answer.abstained and "Lungescu" in answer.text


def test_very_long_input_is_matched_on_its_start() -> None:
    answer = bundled_engine().ask("when did japan join the nato cyber centre " * 1200)
    assert not answer.abstained and "2022" in answer.text
    assert MAX_QUESTION_CHARS <= 1000


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_an_answer_not_an_exception(text: str) -> None:
    answer = bundled_engine().ask(text)
    assert answer.text and 0.0 <= answer.confidence <= 1.0
    assert len(answer.text) < 3000


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_command_text_parses(text: str) -> None:
    parse_command(text)
    assert bundled_bot().dispatch(Request("console", "u", "c", text, is_command=True)).text
