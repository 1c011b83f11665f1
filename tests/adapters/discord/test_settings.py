"""`/nato settings` through the real discord.py client (#13): managers only, each option's
effect, the server's allow-list, auto-answer refused without the message-content intent,
hostile values, and settings that outlive a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord import BriefbotClient
from adapters.discord.client import AUTO_ANSWER_NEEDS_CONTENT
from bot.dispatch import Bot
from bot.store.sqlite import SQLiteStore
from bot.store.values import AllowedChannel, AnswerChannels, ChannelSettings
from tests.adapters.discord.emulator import DiscordEmulator, Posted
from tests.adapters.discord.harness import fixture_engine, running_bot

QUESTION = "when did japan join the nato cyber centre?"
ANSWERED = "Japan joins NATO's cyber centre in Estonia"
ELSEWHERE = "I don't answer in this channel. Ask me in #briefings, or in a direct message."

Discord = tuple[DiscordEmulator, BriefbotClient, SQLiteStore]


@pytest.fixture
async def discord(tmp_path: Path) -> AsyncIterator[Discord]:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as store:
        core = Bot(fixture_engine(), store=store)
        async with DiscordEmulator() as emulator, running_bot(emulator, core) as client:
            yield emulator, client, store


async def settings(emulator: DiscordEmulator, manager: bool = True, **options: object) -> Posted:
    named = {"auto-answer" if k == "auto_answer" else k: v for k, v in options.items()}
    [reply] = await emulator.wait_for_reply(await emulator.slash("settings", named, manager=manager))
    assert reply.ephemeral
    return reply


async def test_a_member_is_refused_and_a_manager_sees_one_line_per_setting(discord: Discord) -> None:
    emulator, _, store = discord
    refused = await settings(emulator, manager=False, answers="public")
    assert "manage this channel" in refused.text
    assert store.channel_settings("discord", emulator.channel_id) == ChannelSettings()
    shown = await settings(emulator)
    assert "• `answers` private" in shown.text and "• `auto-answer` off" in shown.text
    assert "• `allow` all" in shown.text


async def test_auto_answer_is_refused_without_the_message_content_intent(discord: Discord) -> None:
    emulator, _, store = discord
    refused = await settings(emulator, answers="public", auto_answer="on")
    assert refused.text == AUTO_ANSWER_NEEDS_CONTENT
    assert store.channel_settings("discord", emulator.channel_id) == ChannelSettings()
    off = await settings(emulator, auto_answer="off")
    assert "Saved." in off.text and "`auto-answer` off" in off.text


async def test_the_allow_list_keeps_other_channels_quiet_but_not_dms_or_settings(discord: Discord) -> None:
    emulator, _, store = discord
    saved = await settings(emulator, allow=f"<#{emulator.other_channel_id}>")
    assert "`allow` #briefings" in saved.text and "not this one" in saved.text
    assert store.answer_channels("discord", emulator.guild_id) == AnswerChannels(
        (AllowedChannel(emulator.other_channel_id, "briefings"),)
    )

    [here] = await emulator.wait_for_reply(await emulator.slash("ask", {"question": QUESTION}))
    assert here.ephemeral and here.text.strip() == ELSEWHERE
    await emulator.mention(QUESTION)
    there = await emulator.slash("ask", {"question": QUESTION}, channel_id=emulator.other_channel_id)
    [answer] = await emulator.wait_for_reply(there)
    assert ANSWERED in answer.text
    dm = await emulator.dm(QUESTION)
    [in_dm] = await emulator.wait_for_message(dm["channel_id"])
    assert ANSWERED in in_dm.text
    # The mention in #general, taken up before the DM, got nothing at all.
    assert [p for p in emulator.posted if p.channel_id == emulator.channel_id and p.via == "channel"] == []

    undone = await settings(emulator, allow="all")
    assert "`allow` all" in undone.text
    [again] = await emulator.wait_for_reply(await emulator.slash("ask", {"question": QUESTION}))
    assert ANSWERED in again.text


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("<#999999>", "can't find the channel #999999"),
        ("#nowhere", "can't find the channel #nowhere"),
        ("@everyone", "“@everyone” is not a channel"),
        ("<!channel>", "“<!channel>” is not a channel"),
        ("#ok \x00\x07\x1b[2J\u202e", "“[2J” is not a channel"),
        ("x" * 2000, "is not a channel"),
    ],
)
async def test_hostile_or_unknown_channels_are_refused_and_change_nothing(
    discord: Discord, value: str, said: str
) -> None:
    emulator, _, store = discord
    refused = await settings(emulator, answers="public", allow=value)
    assert said in refused.text and len(refused.text) < 500 and "\x00" not in refused.text
    assert not refused.pings.anyone
    assert store.channel_settings("discord", emulator.channel_id) == ChannelSettings()
    assert store.answer_channels("discord", emulator.guild_id).everywhere


async def test_settings_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "briefbot.sqlite3"
    async with DiscordEmulator() as emulator:
        with SQLiteStore(path) as store:
            async with running_bot(emulator, Bot(fixture_engine(), store=store)):
                await settings(emulator, answers="public", allow="#general")
        with SQLiteStore(path) as store:
            async with running_bot(emulator, Bot(fixture_engine(), store=store)):
                shown = await settings(emulator)
                assert "`answers` public" in shown.text and "`allow` #general" in shown.text
                [public] = await emulator.wait_for_reply(await emulator.slash("ask", {"question": QUESTION}))
                assert not public.ephemeral and ANSWERED in public.text
