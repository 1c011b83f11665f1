"""The gateway session: identify with default intents, reconnect and RESUME, no re-sync."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.discord import BriefbotClient
from tests.adapters.discord.emulator import DiscordEmulator
from tests.adapters.discord.harness import fixture_core, running_bot

Discord = tuple[DiscordEmulator, BriefbotClient]

MESSAGE_CONTENT_INTENT = 1 << 15


@pytest.fixture
async def discord() -> AsyncIterator[Discord]:
    async with DiscordEmulator() as emulator, running_bot(emulator, fixture_core()) as client:
        yield emulator, client


async def test_the_bot_identifies_without_privileged_intents(discord: Discord) -> None:
    emulator, _ = discord
    [identify] = await emulator.wait_for_gateway(2)
    intents = identify["d"]["intents"]
    assert not intents & MESSAGE_CONTENT_INTENT
    assert not intents & (1 << 1) and not intents & (1 << 8)  # members, presences
    assert identify["d"]["token_ok"]


async def test_start_up_does_not_register_commands(discord: Discord) -> None:
    emulator, _ = discord
    assert [c.path for c in emulator.calls] == ["/users/@me", "/oauth2/applications/@me"]


async def test_after_a_reconnect_request_the_bot_resumes_and_still_answers(discord: Discord) -> None:
    emulator, client = discord
    await emulator.wait_for_gateway(2)
    await emulator.request_reconnect()
    [resume] = await emulator.wait_for_gateway(6)
    assert resume["d"]["session_id"] == client.ws.session_id
    await emulator.mention("who is stoltenberg?")
    [reply] = await emulator.wait_for_message(emulator.channel_id)
    assert "Stoltenberg" in reply.embeds[0]["title"]
    assert len([f for f in emulator.gateway_frames if f.get("op") == 2]) == 1  # resumed, not re-identified


async def test_events_missed_while_disconnected_are_answered_after_the_resume(discord: Discord) -> None:
    emulator, _ = discord
    await emulator.drop_connection()
    question = await emulator.mention("who is kishida?")  # sent while the bot is away
    await emulator.wait_for_gateway(6)
    [reply] = await emulator.wait_for_message(emulator.channel_id)
    assert str(reply.sent["message_reference"]["message_id"]) == question["id"]
    assert len([p for p in emulator.posted if p.via == "channel"]) == 1  # answered once
    assert [frame["d"]["id"] for frame in emulator.replayed] == [question["id"]]
