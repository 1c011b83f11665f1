"""`/nato settings` and the workspace's allow-list through ``Bot.dispatch`` (#13), on a real
SQLite store: only managers see or change settings, a change is whole or nothing, and a
channel left off the list gets one polite line while direct messages and the settings
command itself still work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.dispatch import Bot
from bot.grammar.intents import ChannelRef, Settings
from bot.messages import Reply, Request
from bot.store.sqlite import SQLiteStore
from bot.store.values import AllowedChannel, AnswerChannels, ChannelSettings
from tests.fixtures import bundled_engine

QUESTION = "when did japan join the nato cyber centre?"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "bot.sqlite3") as opened:
        yield opened


def command(
    bot: Bot, text: str, *, manager: bool = True, channel: str = "C1", direct: bool = False, **intent: object
) -> Reply:
    request = Request(
        "slack",
        "U1",
        channel,
        text,
        is_command=True,
        workspace="T1",
        user_is_manager=manager,
        direct=direct,
        intent=Settings(**intent) if intent else None,  # type: ignore[arg-type]
    )
    return bot.dispatch(request)


def test_settings_show_one_line_each_with_its_value(store: SQLiteStore) -> None:
    reply = command(Bot(bundled_engine(), store=store), "settings")
    assert reply.ephemeral and reply.title == "Settings in this channel"
    lines = reply.text.splitlines()
    assert lines[0].startswith("• `answers` private")
    assert lines[1].startswith("• `auto-answer` off")
    assert lines[2].startswith("• `allow` all")


def test_a_member_is_refused_and_nothing_changes(store: SQLiteStore) -> None:
    bot = Bot(bundled_engine(), store=store)
    for text in ("settings", "settings answers public auto-answer on"):
        reply = command(bot, text, manager=False)
        assert reply.kind == "refusal" and "manage this channel" in reply.text
    assert store.channel_settings("slack", "C1") == ChannelSettings()


def test_a_manager_changes_several_settings_at_once(store: SQLiteStore) -> None:
    bot = Bot(bundled_engine(), store=store)
    reply = command(bot, "settings answers public auto-answer on")
    assert (
        reply.text.startswith("Saved.\n")
        and "`answers` public" in reply.text
        and "`auto-answer` on" in reply.text
    )
    assert store.channel_settings("slack", "C1") == ChannelSettings(private_answers=False, auto_answer=True)
    assert store.channel_settings("slack", "C2") == ChannelSettings()


def test_a_malformed_command_changes_nothing(store: SQLiteStore) -> None:
    bot = Bot(bundled_engine(), store=store)
    reply = command(bot, "settings answers public auto-answer sometimes")
    assert reply.kind == "usage" and "`auto-answer` is `on` or `off`" in reply.text
    assert store.channel_settings("slack", "C1") == ChannelSettings()


def test_an_unknown_channel_changes_nothing(store: SQLiteStore) -> None:
    bot = Bot(bundled_engine(), store=store)
    # The adapter found one channel and not the other (its id left empty).
    reply = command(
        bot,
        "settings",
        private_answers=False,
        allow=(ChannelRef("C2", "briefings"), ChannelRef("", "nowhere")),
    )
    assert reply.kind == "usage" and "can't find the channel #nowhere" in reply.text
    assert store.answer_channels("slack", "T1").everywhere
    assert store.channel_settings("slack", "C1") == ChannelSettings()


def test_settings_in_a_direct_message_point_to_a_channel(store: SQLiteStore) -> None:
    reply = command(Bot(bundled_engine(), store=store), "settings answers public", channel="D1", direct=True)
    assert "run `/nato settings` in the channel" in reply.text
    assert store.channel_settings("slack", "D1") == ChannelSettings()


def test_outside_the_allow_list_one_polite_line_and_settings_still_work(store: SQLiteStore) -> None:
    bot = Bot(bundled_engine(), store=store)
    reply = command(bot, "settings", allow=(ChannelRef("C2", "briefings"),))
    assert "`allow` #briefings" in reply.text and "not this one" in reply.text
    assert store.answer_channels("slack", "T1") == AnswerChannels((AllowedChannel("C2", "briefings"),))

    here = bot.dispatch(Request("slack", "U1", "C1", QUESTION, workspace="T1"))
    assert here.kind == "elsewhere" and here.ephemeral
    assert here.text == "I don't answer in this channel. Ask me in #briefings, or in a direct message."
    there = bot.dispatch(Request("slack", "U1", "C2", QUESTION, workspace="T1"))
    assert there.kind == "answer"
    dm = bot.dispatch(Request("slack", "U1", "D1", QUESTION, workspace="T1", direct=True))
    assert dm.kind == "answer"
    other_workspace = bot.dispatch(Request("slack", "U1", "C1", QUESTION, workspace="T2"))
    assert other_workspace.kind == "answer"

    undone = command(bot, "settings allow all")
    assert "`allow` all" in undone.text
    assert bot.dispatch(Request("slack", "U1", "C1", QUESTION, workspace="T1")).kind == "answer"


def test_without_a_store_settings_say_they_are_not_kept() -> None:
    reply = command(Bot(bundled_engine()), "settings answers public")
    assert "aren't kept" in reply.text
