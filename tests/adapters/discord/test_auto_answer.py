"""Auto-answer through the real discord.py client (#13). It needs the privileged
message-content intent: with it (``message_content=True``, as `discord.message_content`
configures), a question posted without a mention where a manager turned auto-answer on
gets a confident answer as a reply; anything else gets silence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord import BriefbotClient
from bot.dispatch import Bot
from bot.store.sqlite import SQLiteStore
from bot.store.values import ChannelSettings
from tests.adapters.discord.emulator import DiscordEmulator, Posted
from tests.adapters.discord.harness import fixture_engine, running_bot

QUESTION = "when did japan join the nato cyber centre?"
ANSWERED = "Japan joins NATO's cyber centre in Estonia"

Discord = tuple[DiscordEmulator, BriefbotClient, SQLiteStore]


@pytest.fixture
async def discord(tmp_path: Path) -> AsyncIterator[Discord]:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as store:
        core = Bot(fixture_engine(), store=store)
        async with DiscordEmulator() as emulator, running_bot(emulator, core, message_content=True) as client:
            yield emulator, client, store


async def settings(emulator: DiscordEmulator, **options: object) -> Posted:
    named = {"auto-answer" if k == "auto_answer" else k: v for k, v in options.items()}
    [reply] = await emulator.wait_for_reply(await emulator.slash("settings", named, manager=True))
    return reply


def in_channel(emulator: DiscordEmulator, channel_id: str) -> list[Posted]:
    return [p for p in emulator.posted if p.via == "channel" and p.channel_id == channel_id]


async def test_the_bot_asks_for_message_content_only_when_configured(tmp_path: Path) -> None:
    async with DiscordEmulator() as emulator:
        async with running_bot(emulator, Bot(fixture_engine())):
            assert not emulator.message_content_intent
        async with running_bot(emulator, Bot(fixture_engine()), message_content=True):
            assert emulator.message_content_intent


async def test_a_confident_answer_is_a_reply_and_everything_else_is_silent(discord: Discord) -> None:
    emulator, _, store = discord
    saved = await settings(emulator, auto_answer="on")
    assert "`auto-answer` on" in saved.text
    assert store.channel_settings("discord", emulator.channel_id) == ChannelSettings(auto_answer=True)
    for quiet in ("what is the weather on mars?", "thanks?", "lunch at noon, anyone", "help?"):
        await emulator.say(quiet)
    await emulator.say(QUESTION, channel_id=emulator.other_channel_id)  # auto-answer is off there
    asked = await emulator.say(QUESTION)
    [answer] = await emulator.wait_for_message(emulator.channel_id)
    assert ANSWERED in answer.text and not answer.pings.anyone
    assert str(answer.payload["message_reference"]["message_id"]) == asked["id"]
    assert in_channel(emulator, emulator.other_channel_id) == []
    assert len(in_channel(emulator, emulator.channel_id)) == 1
    assert store.unanswered() == ()


async def test_a_reply_to_an_auto_answer_is_a_follow_up(discord: Discord) -> None:
    emulator, _, _ = discord
    await settings(emulator, auto_answer="on")
    await emulator.say("stoltenbergs visit to tokio?")
    [answer] = await emulator.wait_for_message(emulator.channel_id)
    await emulator.reply(answer, "and when was that?", ping=False)
    _, follow_up = await emulator.wait_for_message(emulator.channel_id, count=2)
    assert "2023" in follow_up.text


async def test_a_channel_off_the_allow_list_is_not_auto_answered(discord: Discord) -> None:
    emulator, _, _ = discord
    await settings(emulator, auto_answer="on", allow="#briefings")
    await emulator.say(QUESTION)
    [shown] = await emulator.wait_for_reply(await emulator.slash("settings", {}, manager=True))
    assert "`auto-answer` on" in shown.text and "not this one" in shown.text
    assert in_channel(emulator, emulator.channel_id) == []
