"""One intent type: slash commands and free text give the same values, and each value says
whether its reply is private and whether it needs a channel manager."""

from __future__ import annotations

import pytest

from bot.grammar.commands import parse_command
from bot.grammar.intents import (
    AfterNotes,
    Ask,
    Define,
    Digest,
    Help,
    Intent,
    Timeline,
    TimelineQuery,
    Topics,
    Usage,
    Who,
)
from bot.knowledge.base import PartialDate
from bot.qa.understand import recognise
from tests.fixtures import bundled_topic_words

JULY_2023 = PartialDate(2023, 7)
WORDS = bundled_topic_words()


@pytest.mark.parametrize(
    ("question", "command"),
    [
        ("who is Oana Lungescu?", "/nato who Oana Lungescu"),
        ("who's oana lungescu", "/nato who is Oana Lungescu"),
        ("who is the pope", "/nato who the Pope"),
        ("what is ITPP?", "/nato define ITPP"),
        ("what does IUU stand for", "/nato define IUU"),
        ("what is an ITPP", "/nato define ITPP"),
        ("timeline 2022", "/nato timeline 2022"),
        ("timeline 2013-2019", "/nato timeline 2013-2019"),
        ("maritime timeline", "/nato timeline maritime"),
        ("timeline since madrid", "/nato timeline since madrid"),
        ("timeline early 2023", "/nato timeline early 2023"),
        ("recent milestones", "/nato timeline recent"),
        ("help", "/nato help"),
    ],
)
def test_free_text_and_the_slash_command_give_the_same_intent(question: str, command: str) -> None:
    assert recognise(question, JULY_2023, WORDS) == parse_command(command, JULY_2023, WORDS)


def test_an_ordinary_question_is_an_ask_either_way() -> None:
    assert recognise("when did japan join the cyber centre", JULY_2023, WORDS) == Ask(
        "when did japan join the cyber centre"
    )
    assert parse_command("when did japan join the cyber centre", JULY_2023, WORDS) == Ask(
        "when did japan join the cyber centre"
    )


@pytest.mark.parametrize(
    ("intent", "private", "needs_manager"),
    [
        (Ask("when did japan join"), False, False),
        (Timeline(TimelineQuery(2022, 2022)), False, False),
        (Who("Kishida"), False, False),
        (Define("ITPP"), False, False),
        (AfterNotes("asks about the present", "who is the current pm"), False, False),
        (Topics(), True, False),
        (Help(), True, False),
        (Usage("Usage: `/nato who <name>`"), True, False),
        (Digest("list"), True, False),
        (Digest("now topic cyber"), True, False),
        (Digest("help"), True, False),
        (Digest(""), True, False),
        (Digest("subscribe topic cyber weekly mon 09:00"), True, True),
        (Digest("Subscribe month daily 09:00"), True, True),
        (Digest("unsubscribe 3"), True, True),
        (Digest("cancel 3"), True, True),
        (Digest("remove 3"), True, True),
    ],
)
def test_each_intent_says_whether_its_reply_is_private_and_whether_it_needs_a_manager(
    intent: Intent, private: bool, needs_manager: bool
) -> None:
    assert (intent.private, intent.needs_manager) == (private, needs_manager)


def test_the_same_name_however_written_is_the_same_request() -> None:
    assert Who("Oana Lungescu?") == Who("the oana lungescu") == Who("OANA  LUNGESCU")
    assert Who("Oana Lungescu") != Who("Jens Stoltenberg")
    assert Define("ITPP acronym") == Define("the itpp")
    assert len({Who("Kishida"), Who("kishida!")}) == 1
