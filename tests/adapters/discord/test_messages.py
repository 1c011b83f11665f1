"""@mentions and DMs: the messages Discord delivers without the message-content intent."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.discord import BriefbotClient
from tests.adapters.discord.emulator import ALICE, MODERATOR, DiscordEmulator
from tests.adapters.discord.harness import fixture_core, running_bot

Discord = tuple[DiscordEmulator, BriefbotClient]


@pytest.fixture
async def discord() -> AsyncIterator[Discord]:
    async with DiscordEmulator() as emulator, running_bot(emulator, fixture_core()) as client:
        yield emulator, client


async def test_a_mention_is_answered_as_a_reply_to_the_question(discord: Discord) -> None:
    emulator, _ = discord
    question = await emulator.mention("who is kishida?")
    [reply] = await emulator.wait_for_message(emulator.channel_id)
    assert str(reply.sent["message_reference"]["message_id"]) == question["id"]
    assert reply.sent["message_reference"]["fail_if_not_exists"] is False
    [embed] = reply.embeds
    assert embed["title"] == "Fumio Kishida, Prime Minister of Japan"
    assert "as of July 2023" in embed["footer"]["text"]
    assert embed["author"]["name"] == "“who is kishida?”"
    assert not reply.pings.anyone  # not even the asker: replies do not ping


async def test_a_direct_message_is_answered_in_the_dm(discord: Discord) -> None:
    emulator, _ = discord
    await emulator.dm("what does ITPP stand for?")
    dm_channel = emulator.dm_channels[ALICE["id"]]
    [reply] = await emulator.wait_for_message(dm_channel)
    assert "Individually Tailored Partnership Program" in reply.text
    assert "message_reference" not in reply.sent


async def test_channel_messages_that_do_not_mention_the_bot_are_left_alone(discord: Discord) -> None:
    emulator, _ = discord
    await emulator.say("who is kishida?")  # delivered with empty content, as without the intent
    question = await emulator.mention("who is stoltenberg?")
    await emulator.wait_for_message(emulator.channel_id)
    [only] = [p for p in emulator.posted if p.via == "channel"]
    assert str(only.sent["message_reference"]["message_id"]) == question["id"]


async def test_everyone_written_into_a_mention_pings_nobody(discord: Discord) -> None:
    emulator, _ = discord
    await emulator.mention(f"/nato timeline @everyone @here <@{MODERATOR['id']}>")
    [reply] = await emulator.wait_for_message(emulator.channel_id)
    assert "@everyone" in reply.content  # quoted back in plain text…
    assert reply.sent["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert not reply.pings.anyone  # …and still nobody is notified
    assert not reply.payload["mention_everyone"]


async def test_a_rate_limited_reply_waits_as_discord_asks_then_goes_out_once(discord: Discord) -> None:
    emulator, _ = discord
    emulator.rate_limit("POST", r"/channels/\d+/messages", retry_after=0.25)
    await emulator.mention("who is stoltenberg?")
    limited, retried = await emulator.wait_for_call("POST", r"/channels/\d+/messages", count=2)
    assert (limited.status, retried.status) == (429, 200)
    assert retried.at - limited.at >= 0.25
    [reply] = await emulator.wait_for_message(emulator.channel_id)
    assert "Stoltenberg" in reply.embeds[0]["title"]


async def test_text_commands_in_a_mention_use_the_shared_grammar(discord: Discord) -> None:
    emulator, _ = discord
    await emulator.mention("/nato timeline 2022 cyber")
    [reply] = await emulator.wait_for_message(emulator.channel_id)
    assert reply.embeds[0]["title"] == "Timeline: cyber in 2022"
