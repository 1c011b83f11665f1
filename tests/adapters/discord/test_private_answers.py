"""Private by default, shared on purpose (#13): `/nato ask` answers only the asker unless
asked otherwise or the channel's managers chose public; "Share in channel" posts the answer
for everyone, attributed to the sharer; declines are always private."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord import BriefbotClient
from bot.dispatch import Bot
from bot.store.sqlite import SQLiteStore
from tests.adapters.discord.emulator import ALICE, DiscordEmulator
from tests.adapters.discord.harness import fixture_engine, running_bot

SHARE = "briefbot:share"
QUESTION = "when did japan join the nato cyber centre?"

Discord = tuple[DiscordEmulator, BriefbotClient]


@pytest.fixture
async def discord(tmp_path: Path) -> AsyncIterator[Discord]:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as store:
        core = Bot(fixture_engine(), store=store)
        async with DiscordEmulator() as emulator, running_bot(emulator, core) as client:
            yield emulator, client


async def test_an_answer_is_private_with_a_share_button_that_posts_it_attributed(discord: Discord) -> None:
    emulator, _ = discord
    interaction = await emulator.slash("ask", {"question": QUESTION})
    [private] = await emulator.wait_for_reply(interaction)
    assert private.ephemeral and SHARE in private.custom_ids
    click = await emulator.click(private, SHARE)
    [shared] = await emulator.wait_for_reply(click)
    assert not shared.ephemeral
    assert shared.content == f"<@{ALICE['id']}> shared this answer:"
    assert shared.embeds == private.embeds
    assert not shared.pings.anyone  # named, never pinged


async def test_private_false_answers_in_the_channel(discord: Discord) -> None:
    emulator, _ = discord
    interaction = await emulator.slash("ask", {"question": QUESTION, "private": False})
    [reply] = await emulator.wait_for_reply(interaction)
    assert not reply.ephemeral and SHARE not in reply.custom_ids


async def test_a_decline_is_private_even_when_asked_in_public(discord: Discord) -> None:
    emulator, _ = discord
    interaction = await emulator.slash(
        "ask", {"question": "what is the population of Lisbon?", "private": False}
    )
    [reply] = await emulator.wait_for_reply(interaction)
    assert "isn't in my briefing notes" in reply.text
    assert reply.ephemeral and SHARE not in reply.custom_ids


async def test_a_manager_can_make_the_channel_public_and_a_member_cannot(discord: Discord) -> None:
    emulator, _ = discord
    refused = await emulator.slash("settings", {"answers": "public"})
    [no] = await emulator.wait_for_reply(refused)
    assert no.ephemeral and "manage this channel" in no.text
    interaction = await emulator.slash("ask", {"question": QUESTION})
    [still_private] = await emulator.wait_for_reply(interaction)
    assert still_private.ephemeral

    changed = await emulator.slash("settings", {"answers": "public"}, manager=True)
    [ok] = await emulator.wait_for_reply(changed)
    assert ok.ephemeral and "public" in ok.text
    interaction = await emulator.slash("ask", {"question": QUESTION})
    [public] = await emulator.wait_for_reply(interaction)
    assert not public.ephemeral and SHARE not in public.custom_ids
    interaction = await emulator.slash("ask", {"question": QUESTION, "private": True})
    [chosen] = await emulator.wait_for_reply(interaction)
    assert chosen.ephemeral and SHARE in chosen.custom_ids


async def test_in_a_dm_there_is_nothing_to_share_with(discord: Discord) -> None:
    emulator, _ = discord
    interaction = await emulator.slash("ask", {"question": QUESTION}, in_dm=True)
    [reply] = await emulator.wait_for_reply(interaction)
    assert SHARE not in reply.custom_ids


@pytest.mark.parametrize(
    "hostile", ["@everyone who is kishida", "who is kishida \x00\x1b[2J\u202e", "x" * 500]
)
async def test_hostile_questions_share_without_pinging_anyone(discord: Discord, hostile: str) -> None:
    emulator, _ = discord
    interaction = await emulator.slash("ask", {"question": hostile})
    [private] = await emulator.wait_for_reply(interaction)
    assert private.ephemeral
    if SHARE in private.custom_ids:
        click = await emulator.click(private, SHARE)
        [shared] = await emulator.wait_for_reply(click)
        assert not shared.pings.anyone and "\x00" not in shared.text
