"""Structured questions are recognised before fuzzy matching."""

from __future__ import annotations

import pytest

from bot.grammar.intents import AfterNotes, Ask, Define, Help, Question, Timeline, TimelineQuery, Who
from bot.knowledge.base import PartialDate
from bot.qa.engine import Engine
from bot.qa.understand import recognise
from tests.fixtures import bundled_engine, bundled_topic_words

JULY_2023 = PartialDate(2023, 7)


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("what happened in 2018", Timeline(TimelineQuery(2018, 2018))),
        ("milestones since 2021", Timeline(TimelineQuery(2021, None))),
        ("between 2013 and 2019", Timeline(TimelineQuery(2013, 2019))),
        ("timeline 2013-2019", Timeline(TimelineQuery(2013, 2019))),
        ("maritime timeline", Timeline(TimelineQuery(topic="maritime"))),
        ("firsts in nato-japan relations", Timeline(TimelineQuery(firsts=True))),
        ("2022?", Timeline(TimelineQuery(2022, 2022))),
        ("who is oana lungescu?", Who("oana lungescu")),
        # "who's" and "what's" are contractions, not possessives.
        ("who's jens stoltenberg", Who("jens stoltenberg")),
        ("what’s ITPP?", Define("itpp")),
        ("who leads nato", Who("head of nato")),
        ("what does IUU stand for", Define("iuu")),
        # Where in the briefing it was read is not part of the term.
        ("what does IPCP stand for in the cooperation section", Define("ipcp")),
        ("what does ITPP mean in this article", Define("itpp")),
        ("help", Help()),
        ("what is nato doing now", AfterNotes("asks about the present", "what is nato doing now")),
        ("what happened in oslo", Ask("what happened in oslo")),
    ],
)
def test_intent_is_recognised(question: str, intent: Question) -> None:
    assert recognise(question, JULY_2023, bundled_topic_words()) == intent


def test_a_recognised_name_or_term_is_read_as_the_question_names_it() -> None:
    who = recognise("who's jens stoltenberg", JULY_2023, bundled_topic_words())
    define = recognise("what does IUU stand for", JULY_2023, bundled_topic_words())
    assert isinstance(who, Who) and who.key == "jens stoltenberg"
    assert isinstance(define, Define) and define.key == "iuu"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return bundled_engine()


def test_timeline_lists_dated_milestones_in_order_one_per_line(engine: Engine) -> None:
    answer = engine.ask("what happened between 2013 and 2019")
    assert answer.intent == "timeline" and not answer.abstained
    lines = [line for line in answer.text.splitlines() if line.startswith("•")]
    years = [int(line.split("—")[0].split()[-1]) for line in lines]
    assert years == sorted(years)
    assert years[0] >= 2013 and years[-1] <= 2019
    assert len(lines) == len(answer.entry_ids)


def test_long_timelines_are_capped_with_and_n_more(engine: Engine) -> None:
    answer = engine.ask("full timeline")
    lines = answer.text.splitlines()
    assert any(line.startswith("…and ") and " more" in line for line in lines)
    assert sum(line.startswith("•") for line in lines) == 20


def test_topic_timeline_keeps_to_its_topic(engine: Engine) -> None:
    answer = engine.ask("maritime timeline")
    assert not answer.abstained
    for entry_id in answer.entry_ids:
        assert "maritime" in engine.kb.by_id[entry_id].topics


def test_firsts_timeline_lists_only_firsts(engine: Engine) -> None:
    answer = engine.ask("firsts in nato japan relations")
    assert answer.entry_ids
    assert all(engine.kb.by_id[e].first for e in answer.entry_ids)


def test_planned_milestones_are_labelled_in_timelines(engine: Engine) -> None:
    answer = engine.ask("what happened in 2023")
    planned = [e for e in answer.entry_ids if engine.kb.by_id[e].planned]
    assert planned
    for entry_id in planned:
        line = next(x for x in answer.text.splitlines() if engine.kb.by_id[entry_id].title in x)
        assert "plan" in line.casefold() or "expected" in line.casefold()


def test_empty_year_says_what_the_notes_cover(engine: Engine) -> None:
    answer = engine.ask("what happened in 2016")
    assert answer.abstained
    assert "cover" in answer.text


def test_timeline_past_the_notes_says_so(engine: Engine) -> None:
    answer = engine.ask("milestones since 2025")
    assert answer.abstained and "July 2023" in answer.text


def test_a_timeline_of_a_subject_lists_only_its_milestones(engine: Engine) -> None:
    answer = engine.ask("timeline of the tokyo liaison office")
    assert answer.intent == "timeline" and not answer.abstained
    assert answer.entry_ids
    for entry_id in answer.entry_ids:
        assert "office" in engine.kb.by_id[entry_id].title.casefold()
    assert "liaison office" in (answer.title or "")


def test_a_timeline_of_something_no_milestone_mentions_lists_them_all(engine: Engine) -> None:
    answer = engine.ask("timeline of everything")
    assert not answer.abstained
    assert len(answer.entry_ids) == len(engine.kb.milestones())


def test_how_something_evolved_is_a_timeline(engine: Engine) -> None:
    answer = engine.ask("how has japan's cyber cooperation with nato evolved")
    assert answer.intent == "timeline"
    assert all("cyber" in engine.kb.by_id[e].topics for e in answer.entry_ids)


@pytest.mark.parametrize("question", ["30 million dollars nato", "usd 30m trust fund", "$30m for ukraine"])
def test_an_amount_is_found_however_it_is_written(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert not answer.abstained, answer.text
    assert "$30 million" in answer.text
