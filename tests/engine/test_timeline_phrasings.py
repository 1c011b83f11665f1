"""Timelines asked for in the many ways people ask for a history, not only 'timeline 2022'."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.intents import AfterNotes, TimelineQuery, parse_intent
from bot.timeline import select_milestones
from tests.fixtures import bundled_engine


@pytest.fixture(scope="module")
def engine() -> Engine:
    return bundled_engine()


@pytest.mark.parametrize(
    "question",
    [
        "key dates in the partnership",
        "chronology of nato japan ties",
        "nato japan history",
        "brief history of japan nato relations",
        "timeline of japan's involvement with nato",
        "give me a rundown of nato japan relations over the years",
        "what were the turning points in nato japan relations",
        "walk me through the main steps in the partnership",
        "the story so far between nato and japan",
        "nato japan relations since the 1990s",
    ],
)
def test_a_request_for_the_whole_history_lists_every_milestone(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.intent == "timeline" and not answer.abstained
    assert len(answer.entry_ids) == len(engine.kb.milestones())


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("what happened between 2007 and 2014", 2007, 2014),
        ("timeline from 2010 to 2020", 2010, 2020),
        ("list the milestones since 2020", 2020, None),
        ("what has happened since the 2014 partnership programme", 2014, None),
        ("events of 2022", 2022, 2022),
        ("which events took place in 2023", 2023, 2023),
        ("main milestones in the 2010s", 2010, 2019),
        ("what happened before 2014", None, 2013),
    ],
)
def test_a_span_of_years_lists_the_milestones_in_it(
    engine: Engine, question: str, start: int | None, end: int | None
) -> None:
    answer = engine.ask(question)
    assert answer.intent == "timeline" and not answer.abstained
    expected = select_milestones(engine.kb, TimelineQuery(start, end))
    assert answer.entry_ids == tuple(e.id for e in expected)


def test_last_year_is_relative_to_today_so_past_the_notes() -> None:
    # The notes end in July 2023; "last year" asked today is later than that.
    assert isinstance(parse_intent("what happened last year"), AfterNotes)


def test_what_happened_at_a_place_is_still_an_ordinary_question() -> None:
    assert parse_intent("what happened in vilnius") is None
