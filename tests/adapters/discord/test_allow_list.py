"""The server's allow-list through the real discord.py client (#13): outside it a slash
question gets one private line (tests/adapters/discord/test_settings.py), and so does a
suggestion button clicked there; a plain
message (a mention, a reply to the bot) nothing; DMs are answered, settings always work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord import BriefbotClient
from bot.dispatch import Bot
from bot.store.sqlite import SQLiteStore
from tests.adapters.discord.emulator import DiscordEmulator, Posted
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


ELSEWHERE = "I don't answer in this channel. Ask me in #briefings, or in a direct message."


def _suggestion(message: Posted) -> str:
    return next(cid for cid in message.custom_ids if cid.startswith("briefbot:sg:"))


async def test_a_suggestion_clicked_outside_the_list_gets_the_one_private_line(discord: Discord) -> None:
    # "Closest: …" and related-entry buttons ask a question: held to the list as /nato is.
    emulator, _ = discord
    [answer] = await emulator.wait_for_reply(await emulator.slash("ask", {"question": QUESTION}))
    await emulator.wait_for_reply(await emulator.slash("settings", {"allow": "#briefings"}, manager=True))

    [refused] = await emulator.wait_for_reply(await emulator.click(answer, _suggestion(answer)))
    assert refused.ephemeral and refused.text.strip() == ELSEWHERE and not refused.custom_ids

    # The same kind of button in a channel on the list is answered.
    asked = await emulator.slash("ask", {"question": QUESTION}, channel_id=emulator.other_channel_id)
    [there] = await emulator.wait_for_reply(asked)
    [answered] = await emulator.wait_for_reply(await emulator.click(there, _suggestion(there)))
    assert answered.ephemeral and answered.embeds and answered.channel_id == emulator.other_channel_id


async def test_sharing_outside_the_list_gets_the_one_private_line(discord: Discord) -> None:
    emulator, _ = discord
    [private] = await emulator.wait_for_reply(await emulator.slash("ask", {"question": QUESTION}))
    await emulator.wait_for_reply(await emulator.slash("settings", {"allow": "#briefings"}, manager=True))
    [refused] = await emulator.wait_for_reply(await emulator.click(private, "briefbot:share"))
    assert refused.ephemeral and refused.text.strip() == ELSEWHERE and not refused.embeds
