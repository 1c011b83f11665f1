"""Where the notes end is data: the sources' ``as_of`` drives every phrase built on it."""

from __future__ import annotations

import io

import pytest

from adapters.console import run_chat
from adapters.slack.rendering import home_view
from bot.dispatch import Bot
from bot.grammar.intents import AfterNotes, Timeline
from bot.knowledge.base import KnowledgeBase, PartialDate
from bot.messages import Request
from bot.qa.engine import Engine
from bot.qa.understand import recognise
from tests.fixtures import bundled_kb, bundled_topic_words, knowledge_as_of


@pytest.fixture(scope="module")
def later_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return knowledge_as_of(tmp_path_factory.mktemp("kb"), "2024-03")


@pytest.fixture(scope="module")
def later(later_kb: KnowledgeBase) -> Bot:
    return Bot(Engine(later_kb))


def slash(text: str) -> Request:
    return Request("console", "u1", "c1", text, is_command=True)


def test_the_notes_end_is_the_latest_as_of_of_the_sources(later_kb: KnowledgeBase) -> None:
    assert bundled_kb().notes_end == PartialDate(2023, 7)
    assert later_kb.notes_end == PartialDate(2024, 3)


def test_a_later_source_moves_the_after_the_notes_reply(later: Bot) -> None:
    answer = later.engine.ask("what is nato doing now")
    assert answer.abstained
    assert answer.text.startswith(
        "My briefing notes stop in March 2024, so I can't say what has happened since."
    )
    assert "stop in July 2023" not in answer.text
    assert "(which run to March 2024)" in later.engine.ask("what is the population of lisbon").text


def test_a_later_source_moves_the_help_texts(later: Bot) -> None:
    question_help = later.engine.ask("help").text
    command_help = later.dispatch(slash("help")).text
    assert "briefing notes that run to March 2024" in question_help
    assert "who someone is, as of March 2024" in command_help
    assert "written in early March 2024" in command_help
    assert "July 2023" not in question_help + command_help


def test_a_later_source_moves_what_counts_as_after_the_notes(later: Bot, later_kb: KnowledgeBase) -> None:
    end = later_kb.notes_end
    question = "who was the secretary general in 2024"
    assert isinstance(recognise(question, bundled_kb().notes_end, bundled_topic_words()), AfterNotes)
    assert not isinstance(recognise(question, end, later_kb.lexicon.topic_words), AfterNotes)
    assert isinstance(
        recognise("who was the secretary general in 2025", end, later_kb.lexicon.topic_words), AfterNotes
    )
    # A timeline of 2024 is past the bundled notes, and merely empty in the later ones.
    assert (
        Engine(bundled_kb())
        .ask("what happened in 2024")
        .text.startswith("My briefing notes stop in July 2023")
    )
    assert later.engine.ask("what happened in 2024").text.startswith("No milestones in my notes match that")
    recent = recognise("recent milestones", end, later_kb.lexicon.topic_words)
    assert isinstance(recent, Timeline) and recent.query.period == "March 2023 – March 2024"


def test_a_later_source_moves_the_console_banner_and_the_slack_home(
    later: Bot, later_kb: KnowledgeBase
) -> None:
    out = io.StringIO()
    run_chat(later, [], out)
    assert "briefing notes (to March 2024)" in out.getvalue()
    guide = str(home_view(later_kb)["blocks"])
    # (Its milestones still cite the source published in July 2023, as they should.)
    assert "My notes run to March 2024." in guide and "run to July 2023" not in guide


def test_entries_keep_the_date_they_hold_at(later: Bot) -> None:
    # The entries still say what held in July 2023: only the notes' end moved.
    answer = later.engine.ask("when did japan join the nato cyber centre")
    assert answer.source_line() is not None and "as of July 2023" in (answer.source_line() or "")


def test_the_bundled_base_reads_as_it_always_has() -> None:
    bot = Bot(Engine(bundled_kb()))
    assert bot.engine.ask("what is nato doing now").text.startswith("My briefing notes stop in July 2023")
    assert "written in early July 2023" in bot.dispatch(slash("help")).text
