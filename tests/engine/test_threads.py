"""Conversations through ``Bot.dispatch``: a request with a thread is read against the
thread's recent turns and becomes its newest; one without a thread stands alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.conversation import ThreadKey, Turn
from bot.dispatch import Bot
from bot.errors import StoreError
from bot.messages import Reply, Request
from bot.store.recent import RecentTurns
from bot.store.sqlite import SQLiteStore
from tests.fixtures import bundled_engine

VISIT = "stoltenbergs visit to tokio"
WHEN = "and when was that?"
NOW = datetime(2024, 3, 1, 9, tzinfo=UTC)


def ask(
    bot: Bot, text: str, thread: str | None = "1700000000.000100", user: str = "U1", channel: str = "C1"
) -> Reply:
    return bot.dispatch(Request("slack", user, channel, text, workspace="T1", thread=thread))


def test_a_follow_up_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with SQLiteStore(path) as store:
        first = ask(Bot(bundled_engine(), store=store), VISIT)
    assert first.entry_ids == ("stoltenberg-tokyo-visit-2023",)
    # A new process: a new Bot on the same database file.
    with SQLiteStore(path) as store:
        again = ask(Bot(bundled_engine(), store=store), WHEN)
    assert again.kind == "answer" and again.entry_ids == first.entry_ids
    assert "February 2023" in again.text


def test_two_threads_interleaved_keep_their_own_context() -> None:
    bot = Bot(bundled_engine())
    ask(bot, VISIT, thread="T-visit")
    ask(bot, "what was called a historic first for japan and nato?", thread="T-quote")
    who = ask(bot, "who said that?", thread="T-quote")
    when = ask(bot, WHEN, thread="T-visit")
    assert "Lungescu" in who.text
    assert when.entry_ids == ("stoltenberg-tokyo-visit-2023",) and "February 2023" in when.text
    # The same thread id in another channel is another conversation.
    elsewhere = ask(bot, WHEN, thread="T-visit", channel="C2")
    assert elsewhere.entry_ids != ("stoltenberg-tokyo-visit-2023",)


def test_a_follow_up_from_another_user_in_the_same_thread_shares_its_context() -> None:
    bot = Bot(bundled_engine())
    ask(bot, "what do you know about the proposed nato liaison office in tokyo?", user="U-asker")
    reply = ask(bot, "what did russia say about it?", user="U-colleague")
    assert reply.kind == "answer" and "Zakharova" in reply.text


def test_an_expired_context_is_not_resolved() -> None:
    now = [0.0]
    bot = Bot(bundled_engine(), threads=RecentTurns(clock=lambda: now[0]), context_ttl=timedelta(hours=24))
    ask(bot, VISIT)
    now[0] = timedelta(hours=23).total_seconds()
    assert ask(bot, WHEN).entry_ids == ("stoltenberg-tokyo-visit-2023",)
    now[0] = timedelta(hours=47, minutes=1).total_seconds()  # a day after the last turn
    assert ask(bot, WHEN).entry_ids != ("stoltenberg-tokyo-visit-2023",)


def test_an_expired_context_in_the_store_is_not_resolved(tmp_path: Path) -> None:
    now = [NOW]
    with SQLiteStore(tmp_path / "bot.sqlite3", clock=lambda: now[0]) as store:
        bot = Bot(bundled_engine(), store=store)
        ask(bot, VISIT)
        now[0] = NOW + timedelta(hours=24, seconds=1)
        assert ask(bot, WHEN).entry_ids != ("stoltenberg-tokyo-visit-2023",)


def test_a_request_without_a_thread_stands_alone() -> None:
    bot = Bot(bundled_engine())
    ask(bot, VISIT, thread=None)
    alone = ask(bot, WHEN, thread=None)
    assert alone == bundled_bot_reply(WHEN)


def bundled_bot_reply(text: str) -> Reply:
    return Bot(bundled_engine()).dispatch(Request("slack", "U1", "C1", text, workspace="T1"))


@pytest.mark.parametrize(
    "text",
    [
        "when did japan join the nato cyber centre?",
        "who is oana lungescu?",
        "/nato who Oana Lungescu",
        "/nato timeline 2022",
        "thanks!",
        "what did zakharova say about the tokyo office?",
    ],
)
def test_a_message_that_is_not_a_follow_up_gets_the_reply_it_gets_alone(text: str) -> None:
    bot = Bot(bundled_engine())
    ask(bot, VISIT)
    in_thread = bot.dispatch(
        Request("slack", "U1", "C1", text, workspace="T1", is_command=text.startswith("/"), thread="1")
    )
    alone = Bot(bundled_engine()).dispatch(
        Request("slack", "U1", "C1", text, workspace="T1", is_command=text.startswith("/"))
    )
    assert in_thread == alone


def test_a_command_answer_is_a_turn_too() -> None:
    bot = Bot(bundled_engine())
    bot.dispatch(Request("console", "u", "console", "/nato who Oana Lungescu", is_command=True, thread="s"))
    reply = bot.dispatch(Request("console", "u", "console", "what did she say about japan?", thread="s"))
    assert reply.kind == "answer" and "historic first" in reply.text


@pytest.mark.parametrize(
    "text",
    [
        "it " * 400,
        "who said it? " * 60,
        "\x00\u202e<script>alert(1)</script> and when was that?",
        "what about " + "🇫🇷 " * 300,
        "' OR 1=1; DROP TABLE thread_turns; --",
        "tell me more " * 80,
    ],
)
def test_hostile_input_as_a_follow_up_is_answered_and_remembered_safely(tmp_path: Path, text: str) -> None:
    with SQLiteStore(tmp_path / "bot.sqlite3") as store:
        bot = Bot(bundled_engine(), store=store)
        ask(bot, VISIT)
        reply = ask(bot, text)
        assert reply.text
        turns = store.recent_turns(ThreadKey("slack", "C1", "1700000000.000100"), limit=10)
        assert turns and all(len(t.question) <= 300 for t in turns)
        assert all("<script>" not in t.question and "DROP" not in t.question for t in turns)
        assert ask(bot, WHEN).text  # the thread still works


def test_an_unanswered_follow_up_is_recorded_as_it_was_read(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "bot.sqlite3") as store:
        bot = Bot(bundled_engine(), store=store)
        ask(bot, "tell me about the planned nato office in tokyo")
        reply = ask(bot, "how much will it cost?")
        assert reply.kind == "abstain"
        (recorded,) = store.unanswered(limit=5)
    assert recorded.question.startswith("how much will it cost? → ")
    assert "tokyo" in recorded.question.split("→")[1]


class _BrokenThreads:
    def remember_turn(self, key: ThreadKey, turn: Turn, ttl: timedelta) -> None:
        raise StoreError("writing the database failed: disk full")

    def recent_turns(self, key: ThreadKey, limit: int = 3) -> tuple[Turn, ...]:
        raise StoreError("reading the database failed: locked")


def test_a_failing_thread_memory_costs_the_context_not_the_answer(caplog: pytest.LogCaptureFixture) -> None:
    bot = Bot(bundled_engine(), threads=_BrokenThreads())
    first = ask(bot, VISIT)
    assert first.entry_ids == ("stoltenberg-tokyo-visit-2023",)
    assert ask(bot, "when did japan join the nato cyber centre?").kind == "answer"
    assert "could not remember the conversation's turn" in caplog.text
    assert "could not read the conversation's recent turns" in caplog.text
