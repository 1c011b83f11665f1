"""The `/nato` grammar parsed into intent values, from text and from typed options."""

from __future__ import annotations

import itertools

import pytest

from bot.grammar.commands import parse_command, timeline_options
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
from bot.knowledge.base import TOPICS, PartialDate
from tests.fixtures import bundled_topic_words

# The notes' end the expectations below are written for (the bundled base's).
JULY_2023 = PartialDate(2023, 7)


def parse(text: str) -> Intent:
    return parse_command(text, JULY_2023, bundled_topic_words())


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("when did japan join air defender", Ask("when did japan join air defender")),
        ("ask who is kishida", Ask("who is kishida")),
        ("timeline", Timeline(TimelineQuery())),
        ("timeline 2022", Timeline(TimelineQuery(2022, 2022))),
        ("timeline 2013-2019", Timeline(TimelineQuery(2013, 2019))),
        ("timeline since 2021", Timeline(TimelineQuery(2021, None))),
        ("timeline maritime", Timeline(TimelineQuery(topic="maritime"))),
        ("timeline naval since 2018", Timeline(TimelineQuery(2018, None, "maritime"))),
        ("who Oana Lungescu", Who("Oana Lungescu")),
        ("who is Kishida", Who("Kishida")),
        ("define ITPP", Define("ITPP")),
        ("topics", Topics()),
        ("help", Help()),
        ("", Help()),
        ("/nato help", Help()),
        ("digest list", Digest("list")),
    ],
)
def test_grammar(text: str, command: Intent) -> None:
    assert parse(text) == command


def test_a_name_keeps_the_users_spelling_for_replies() -> None:
    command = parse("who is Oana Lungescu?")
    assert isinstance(command, Who)
    assert command.name == "Oana Lungescu?" and command.key == "oana lungescu"


@pytest.mark.parametrize(
    ("text", "message_part"),
    [
        ("timeline 20x8", "couldn't read “20x8”"),
        ("timeline 2019-2013", "runs backwards; did you mean `/nato timeline 2013-2019`"),
        ("timeline maritime cyber", "One topic at a time"),
        ("timeline 2013 2015 2019", "Give one year or one range"),
        ("who", "Usage: `/nato who <name>`"),
        ("define", "Usage: `/nato define <term>`"),
        ("ask", "Usage: `/nato ask <question>`"),
        ("topics please", "takes no arguments"),
    ],
)
def test_malformed_arguments_get_a_precise_usage_message(text: str, message_part: str) -> None:
    command = parse(text)
    assert isinstance(command, Usage)
    assert message_part in command.message


@pytest.mark.parametrize(
    ("text", "since_event", "until_event", "period"),
    [
        ("timeline since madrid", ("madrid",), (), ""),
        ("timeline before the vilnius summit", (), ("vilnius", "summit"), ""),
        ("timeline early 2023", (), (), "early 2023"),
        ("timeline since feb 2023", (), (), "since February 2023"),
        ("timeline recent", (), (), "July 2022 – July 2023"),
    ],
)
def test_timeline_can_be_bounded_by_an_event_a_month_or_part_of_a_year(
    text: str, since_event: tuple[str, ...], until_event: tuple[str, ...], period: str
) -> None:
    command = parse(text)
    assert isinstance(command, Timeline)
    assert (command.query.since_event, command.query.until_event, command.query.period) == (
        since_event,
        until_event,
        period,
    )


def test_recent_is_the_last_twelve_months_of_whatever_notes_there_are() -> None:
    command = parse_command("timeline recent", PartialDate(2024, 3), bundled_topic_words())
    assert isinstance(command, Timeline)
    assert command.query.period == "March 2023 – March 2024"
    assert command.query.after == PartialDate(2023, 2) and command.query.start == 2023


@pytest.mark.parametrize(
    "text", ["who is the current secretary general", "who leads nato now", "define 2025 plan"]
)
def test_who_and_define_past_the_notes_are_past_the_notes_as_questions_are(text: str) -> None:
    assert isinstance(parse(text), AfterNotes)


def test_who_and_define_never_become_a_timeline() -> None:
    # Written as a question these read "who is ... since 2014", "what is ... history":
    # the command says what is wanted, and no second reading overrides it.
    assert parse("who was secretary general since 2014") == Who("secretary general since 2014")
    assert parse("define nato japan history") == Define("nato japan history")


# -- Discord's typed options -------------------------------------------------------------


def typed_as_words(
    year: int | None, start: int | None, end: int | None, topic: str | None, firsts: bool
) -> str:
    """The words a user would type for the same options: `/nato timeline 2013 to 2019 maritime`."""
    words: list[str] = []
    if year is not None:
        words.append(str(year))
    if start is not None and end is not None:
        words.append(f"{start} to {end}")
    elif start is not None:
        words.append(f"since {start}")
    elif end is not None:
        words.append(f"before {end + 1}")
    if topic:
        words.append(topic)
    if firsts:
        words.append("firsts")
    return " ".join(["timeline", *words])


YEARS = (None, 1950, 2013, 2022, 2098)


@pytest.mark.parametrize(("year", "start", "end"), list(itertools.product(YEARS, repeat=3)))
def test_typed_timeline_options_build_the_intent_their_words_would(
    year: int | None, start: int | None, end: int | None
) -> None:
    for topic, firsts in [(None, False), ("maritime", True), *((t, False) for t in TOPICS)]:
        typed = timeline_options(
            JULY_2023, bundled_topic_words(), year=year, start=start, end=end, topic=topic, firsts=firsts
        )
        assert typed == parse(typed_as_words(year, start, end, topic, firsts)), (year, start, end, topic)


def test_a_typed_topic_that_is_no_topic_gets_the_same_usage_as_typed_words() -> None:
    assert timeline_options(JULY_2023, bundled_topic_words(), topic="weather") == parse("timeline weather")
