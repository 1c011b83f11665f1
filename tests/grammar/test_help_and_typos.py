"""`/nato help <command>` and mistyped subcommands, in the grammar both platforms share (#13),
and `/nato timeline`'s typed options reading every bound the free text reads."""

from __future__ import annotations

import pytest

from bot.grammar.commands import SUBCOMMANDS, command_help, parse_command, timeline_options
from bot.grammar.intents import Ask, Help, Intent, Timeline, Usage
from bot.knowledge.base import PartialDate
from tests.fixtures import bundled_topic_words

JULY_2023 = PartialDate(2023, 7)


def parse(text: str) -> Intent:
    return parse_command(text, JULY_2023, bundled_topic_words())


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("timline 2022", "timeline"),
        ("/nato timelne", "timeline"),
        ("defnie ITPP", "define"),
        ("topcs", "topics"),
    ],
)
def test_a_mistyped_subcommand_gets_did_you_mean(typed: str, meant: str) -> None:
    intent = parse(typed)
    assert isinstance(intent, Usage)
    assert f"did you mean `/nato {meant}`?" in intent.message.casefold()


@pytest.mark.parametrize(
    "question",
    ["when did japan join ccdcoe", "who is kishida", "whos kishida", "time line of events", "what"],
)
def test_questions_are_not_taken_for_typos(question: str) -> None:
    assert parse(question) == Ask(question) or not isinstance(parse(question), Usage)


def test_help_with_a_command_explains_that_command_with_examples() -> None:
    assert parse("help timeline") == Help("timeline")
    assert parse("/nato help") == Help()
    text = command_help(JULY_2023, "timeline")
    assert "`/nato timeline since madrid`" in text and "`/nato timeline early 2023`" in text
    for name in SUBCOMMANDS:
        assert f"`/nato {name}" in command_help(JULY_2023, name)


@pytest.mark.parametrize("hostile", ["timelin", "", "x" * 50_000, "\x00\x1b[2J\u202e", "@everyone"])
def test_help_for_an_unknown_command_lists_the_commands_and_quotes_briefly(hostile: str) -> None:
    intent = parse(f"help {hostile}")
    assert isinstance(intent, Help)
    text = command_help(JULY_2023, intent.command)
    assert len(text) < 1500
    assert "\x00" not in text and "\x1b" not in text
    if intent.command:
        assert "`timeline`" in text


def test_help_timelin_suggests_the_command() -> None:
    assert command_help(JULY_2023, "timelin").startswith("Did you mean `/nato help timeline`?")


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"since": "madrid"}, "since madrid"),
        ({"before": "vilnius"}, "before vilnius"),
        ({"since": "february 2022"}, "since february 2022"),
        ({"since": "2021"}, "since 2021"),
        ({"part": "early", "year": 2022}, "early 2022"),
        ({"part": "late", "year": 2022, "topic": "cyber"}, "late 2022 cyber"),
        ({"recent": True}, "recent"),
        ({"recent": True, "firsts": True}, "recent firsts"),
    ],
)
def test_typed_bounds_mean_what_the_same_words_mean(options: dict[str, object], words: str) -> None:
    typed = timeline_options(JULY_2023, bundled_topic_words(), **options)  # type: ignore[arg-type]
    said = parse(f"timeline {words}")
    assert isinstance(typed, Timeline) and isinstance(said, Timeline)
    assert typed.query == said.query


@pytest.mark.parametrize(
    "options",
    [
        {"part": "early"},  # needs a year
        {"since": "madrid", "before": "vilnius"},
        {"since": "madrid", "year": 2022},
        {"recent": True, "start": 2019},
        {"part": "mid", "year": 2022, "since": "madrid"},
    ],
)
def test_conflicting_bounds_are_a_usage_message(options: dict[str, object]) -> None:
    assert isinstance(timeline_options(JULY_2023, bundled_topic_words(), **options), Usage)  # type: ignore[arg-type]


@pytest.mark.parametrize("hostile", ["", "   ", "x" * 50_000, "\x00\x07\u202e", "@everyone", "<@123> <#1>"])
def test_hostile_since_and_before_never_raise(hostile: str) -> None:
    for side in ("since", "before"):
        intent = timeline_options(JULY_2023, bundled_topic_words(), **{side: hostile})  # type: ignore[arg-type]
        assert isinstance(intent, Timeline | Usage)
        if isinstance(intent, Usage):
            assert len(intent.message) < 2000 and "\x00" not in intent.message
