"""The `/nato` grammar through the one dispatch every adapter uses (parsing alone:
tests/grammar/test_commands.py)."""

from __future__ import annotations

import pytest

from bot.dispatch import Bot
from bot.grammar.intents import Ask, Digest, Who
from bot.messages import Request
from tests.fixtures import bundled_bot


def slash(text: str) -> Request:
    return Request("console", "u1", "c1", text, is_command=True)


@pytest.fixture(scope="module")
def bot() -> Bot:
    return bundled_bot()


def test_usage_replies_are_private(bot: Bot) -> None:
    reply = bot.dispatch(slash("timeline 20x8"))
    assert reply.kind == "usage" and reply.ephemeral


def test_plain_answers_are_public_with_source_and_feedback(bot: Bot) -> None:
    reply = bot.dispatch(slash("when did japan join the nato cyber centre"))
    assert not reply.ephemeral and reply.kind == "answer"
    assert reply.source_line and "¶12" in reply.source_line
    assert reply.feedback and reply.entry_ids


def test_who_finds_a_person_and_refuses_a_stranger(bot: Bot) -> None:
    reply = bot.dispatch(slash("who lungescu"))
    assert "Lungescu" in reply.text and not reply.ephemeral
    stranger = bot.dispatch(slash("who Angela Merkel"))
    assert stranger.ephemeral and "no one called" in stranger.text
    assert "Angela Merkel" in stranger.text and "/nato topics" in stranger.text  # nobody close: where to look


def test_define_finds_a_term_by_acronym(bot: Bot) -> None:
    reply = bot.dispatch(slash("define IUU"))
    assert "unreported" in reply.text.casefold()


def test_topics_lists_the_vocabulary_with_counts(bot: Bot) -> None:
    reply = bot.dispatch(slash("topics"))
    assert "maritime (" in reply.text and "cyber (" in reply.text


def test_help_lists_every_command(bot: Bot) -> None:
    reply = bot.dispatch(slash("help"))
    for word in ("ask", "timeline", "who", "define", "topics", "digest"):
        assert f"/nato {word}" in reply.text


def test_suggestion_click_answers_that_entry(bot: Bot) -> None:
    reply = bot.dispatch(slash("when did japan join the nato cyber centre"))
    target = reply.suggestions[0] if reply.suggestions else None
    assert target is not None
    clicked = bot.answer_entry(target.entry_id)
    assert clicked.entry_ids == (target.entry_id,)
    assert bot.answer_entry("no-such-entry").ephemeral


def test_an_intent_the_adapter_built_is_dispatched_as_it_is(bot: Bot) -> None:
    # Discord's typed options arrive as an intent: the text is only the record of them.
    request = Request(
        "discord", "u1", "c1", "who name:Oana Lungescu", is_command=True, intent=Who("Oana Lungescu")
    )
    reply = bot.dispatch(request)
    assert "Lungescu" in reply.text and not reply.ephemeral


def test_reading_a_request_once_gives_dispatch_the_same_intent(bot: Bot) -> None:
    request = slash("digest subscribe topic cyber weekly mon 09:00")
    read = bot.read(request)
    assert read.intent == Digest("subscribe topic cyber weekly mon 09:00")
    assert read.intent is not None and read.intent.needs_manager
    assert bot.read(read) is read
    assert bot.read(Request("slack", "u1", "c1", "who is kishida")).intent == Ask("who is kishida")


def test_who_someone_is_now_is_past_the_notes_as_the_question_is(bot: Bot) -> None:
    command = bot.dispatch(slash("who is the current NATO secretary general"))
    question = bot.dispatch(Request("console", "u1", "c1", "who is the current NATO secretary general"))
    assert command.text.startswith("My briefing notes stop in July 2023")
    assert command.text == question.text
