"""Timelines asked for in the many ways people ask for a history, not only 'timeline 2022'."""

from __future__ import annotations

import pytest

from bot.grammar.intents import AfterNotes, Ask, TimelineQuery
from bot.knowledge.base import PartialDate
from bot.qa.engine import Engine
from bot.qa.timeline import select_milestones
from bot.qa.understand import recognise
from tests.fixtures import bundled_engine, bundled_topic_words


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
        # Filler between "what" and "happened": chat words for the events themselves.
        ("what nato-japan stuff happened in 2021?", 2021, 2021),
        ("what else happened in 2022", 2022, 2022),
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
    assert isinstance(
        recognise("what happened last year", PartialDate(2023, 7), bundled_topic_words()), AfterNotes
    )


def test_what_happened_at_a_place_is_still_an_ordinary_question() -> None:
    assert recognise("what happened in vilnius", PartialDate(2023, 7), bundled_topic_words()) == Ask(
        "what happened in vilnius"
    )


# -- bounded by an event or part of a year, and which came first ---------------------------


def _dates(engine: Engine, entry_ids: tuple[str, ...]) -> list[PartialDate]:
    dates = [engine.kb.by_id[e].date for e in entry_ids]
    assert all(d is not None for d in dates)
    return [d for d in dates if d is not None]


def test_since_an_event_lists_only_what_is_surely_later(engine: Engine) -> None:
    anchor = engine.kb.by_id["cyber-war-game-2021"].date
    assert anchor is not None
    answer = engine.ask("what has happened since the cyber war game")
    assert answer.intent == "timeline" and not answer.abstained
    assert "cyber-war-game-2021" not in answer.entry_ids
    assert answer.entry_ids and all(d.year > anchor.year for d in _dates(engine, answer.entry_ids))
    assert "since cyber war game (2021)" in answer.text


def test_leading_up_to_an_event_lists_only_what_is_surely_earlier(engine: Engine) -> None:
    answer = engine.ask("events leading up to the vilnius summit")
    assert not answer.abstained
    vilnius = [e for e in engine.kb.milestones() if "vilnius" in e.id]
    assert vilnius and not set(answer.entry_ids) & {e.id for e in vilnius}
    dates = _dates(engine, answer.entry_ids)
    assert all((d.year, d.month) < (2023, 7) for d in dates)
    assert dates[0].year == 2013  # the whole history before it, from the start
    # Too many to show: what is shown is the run-up, the latest ones, not 2013.
    lines = answer.text.splitlines()
    assert lines[1].startswith(f"…{len(dates) - 20} earlier")
    assert lines[-1].endswith(f"({engine.kb.by_id[answer.entry_ids[-1]].source.paragraph_label()})")
    assert engine.kb.by_id[answer.entry_ids[-1]].title in lines[-1]


@pytest.mark.parametrize(
    ("question", "months"),
    [("what happened in early 2023", range(1, 5)), ("milestones since february 2023", range(2, 13))],
)
def test_part_of_a_year_keeps_to_its_months(engine: Engine, question: str, months: range) -> None:
    answer = engine.ask(question)
    assert not answer.abstained
    assert all(d.year == 2023 and d.month in months for d in _dates(engine, answer.entry_ids))


def test_recent_means_the_last_year_of_the_notes(engine: Engine) -> None:
    answer = engine.ask("recent developments in nato japan ties")
    assert answer.intent == "timeline" and not answer.abstained
    assert all((d.year, d.month) > (2022, 6) for d in _dates(engine, answer.entry_ids))


def test_an_event_the_notes_do_not_have_is_named_back(engine: Engine) -> None:
    answer = engine.ask("what happened after the zorblax summit")
    assert answer.abstained
    assert "zorblax summit" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "which came first, the ipcp or the cyber centre membership",
        "the cyber centre membership or the ipcp, which came first",
        "did the ipcp come before japan joining the cyber centre",
    ],
)
def test_which_came_first_orders_two_milestones_by_date(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert not answer.abstained
    assert set(answer.entry_ids) == {"ipcp-2014", "japan-joins-nato-cyber-centre-2022"}
    first, then = answer.text.splitlines()
    assert first.startswith("First, in 2014:") and then.startswith("Then, in 2022:")
    assert len(answer.sources) == 2


def test_which_came_first_says_when_the_notes_cannot_tell(engine: Engine) -> None:
    answer = engine.ask("which came first, stoltenberg's tokyo visit or the joint declaration")
    assert not answer.abstained
    assert answer.text.startswith("My notes give no order")


def test_which_came_first_with_an_unknown_event_names_it(engine: Engine) -> None:
    answer = engine.ask("which came first, the tokyo visit or the zorblax treaty")
    assert answer.abstained
    assert "zorblax treaty" in answer.text


@pytest.mark.parametrize(
    ("first", "second", "before"),
    [
        ("2021", "2022-06", True),
        ("2022", "2022-06", False),  # the year alone could be July 2022
        ("2023-02", "2023-02", False),
        ("2023-02", "2023-03", True),
        ("2023-07-10", "2023-07-11", True),
        ("2023-07", "2023-07-11", False),
    ],
)
def test_a_date_is_before_another_only_whatever_its_unknown_parts_are(
    first: str, second: str, before: bool
) -> None:
    one, other = PartialDate.parse(first), PartialDate.parse(second)
    assert one.surely_before(other) is before
    assert not other.surely_before(one)  # never both ways


@pytest.mark.parametrize(
    "question",
    [
        "which field do the authors say nato and japan have barely any joint projects in so far?",
        "which countries have signed an itpp so far",
    ],
)
def test_so_far_in_a_question_about_something_else_is_not_a_timeline(engine: Engine, question: str) -> None:
    # "so far" says "until now"; the question asks about a domain, or who signed.
    assert engine.ask(question).intent != "timeline"


def test_the_domain_with_few_joint_initiatives_so_far_is_space(engine: Engine) -> None:
    answer = engine.ask("in which field do nato and japan have few joint initiatives so far?")
    assert not answer.abstained and "space" in answer.text


def test_what_the_authors_say_is_not_asking_for_someones_words(engine: Engine) -> None:
    # "do the authors say" reports the document, which every entry does: an entry that
    # quotes no one answers it (the shape checks had marked it "nobody says anything").
    for question in (
        "what domain do the authors say lacks joint nato japan initiatives?",
        "which field does the paper say has few concerted nato-japan initiatives?",
    ):
        answer = engine.ask(question)
        assert not answer.abstained and "space" in answer.text, question
