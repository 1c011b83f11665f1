"""The server's allow-list through the real discord.py client (#13): outside it a slash
question gets one private line (tests/adapters/discord/test_settings.py) and a plain
message (a mention, a reply to the bot) nothing; DMs are answered, settings always work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord import BriefbotClient
from bot.dispatch import Bot
from bot.store.sqlite import SQLiteStore
from tests.adapters.discord.emulator import DiscordEmulator
from tests.adapters.discord.harness import fixture_engine, running_bot

QUESTION = "when did japan join the nato cyber centre?"
ANSWERED = "Japan joins NATO's cyber centre in Estonia"

Discord = tuple[DiscordEmulator, BriefbotClient]


@pytest.fixture
async def discord(tmp_path: Path) -> AsyncIterator[Discord]:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as store:
        async with (
            DiscordEmulator() as emulator,
            running_bot(emulator, Bot(fixture_engine(), store=store)) as c,
        ):
            yield emulator, c


async def test_a_reply_to_the_bot_outside_the_list_gets_nothing(discord: Discord) -> None:
    emulator, _ = discord
    await emulator.mention(QUESTION)
    [answer] = await emulator.wait_for_message(emulator.channel_id)  # answered before the list
    allowed = await emulator.slash("settings", {"allow": "#briefings"}, manager=True)
    [saved] = await emulator.wait_for_reply(allowed)
    assert "`allow` #briefings" in saved.text
    await emulator.reply(answer, "and when was that?")
    dm = await emulator.dm(QUESTION)  # taken up after the reply, on the one core thread
    [in_dm] = await emulator.wait_for_message(dm["channel_id"])
    assert ANSWERED in in_dm.text
    assert (
        len([p for p in emulator.posted if p.channel_id == emulator.channel_id and p.via == "channel"]) == 1
    )


async def test_a_slash_question_in_a_dm_is_answered_whatever_the_list(discord: Discord) -> None:
    emulator, _ = discord
    await emulator.wait_for_reply(await emulator.slash("settings", {"allow": "#briefings"}, manager=True))
    [reply] = await emulator.wait_for_reply(await emulator.slash("ask", {"question": QUESTION}, in_dm=True))
    assert ANSWERED in reply.text
    # In a DM, settings point to a channel instead.
    [refused] = await emulator.wait_for_reply(await emulator.slash("settings", {"allow": "all"}, in_dm=True))
    assert "run `/nato settings` in the channel" in refused.text
