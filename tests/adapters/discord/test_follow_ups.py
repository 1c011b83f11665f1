"""Follow-ups on Discord (#13): a DM and a reply to one of the bot's answers need no new
mention, and each carries a stable key of its conversation in ``Request.thread``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.discord import BriefbotClient
from bot.dispatch import Bot
from bot.messages import Reply, Request
from tests.adapters.discord.emulator import ALICE, MODERATOR, DiscordEmulator
from tests.adapters.discord.harness import fixture_engine, running_bot


class _Recording(Bot):
    """The real bot, remembering each request it was given."""

    def __init__(self) -> None:
        super().__init__(fixture_engine())
        self.requests: list[Request] = []

    def dispatch(self, request: Request) -> Reply:
        self.requests.append(request)
        return super().dispatch(request)


Discord = tuple[DiscordEmulator, BriefbotClient, _Recording]


@pytest.fixture
async def discord() -> AsyncIterator[Discord]:
    core = _Recording()
    async with DiscordEmulator() as emulator, running_bot(emulator, core) as client:
        yield emulator, client, core


async def test_replies_to_the_bots_answers_continue_the_conversation_of_the_first_question(
    discord: Discord,
) -> None:
    emulator, _, core = discord
    question = await emulator.mention("who is kishida?")
    [first] = await emulator.wait_for_message(emulator.channel_id)
    await emulator.reply(first, "when did he visit nato?")
    [_, second] = await emulator.wait_for_message(emulator.channel_id, count=2)
    await emulator.reply(second, "and stoltenberg?", user=MODERATOR)  # someone else, same thread
    await emulator.wait_for_message(emulator.channel_id, count=3)
    assert [r.thread for r in core.requests] == [question["id"]] * 3
    assert core.requests[1].text == "when did he visit nato?"  # no mention needed, none left in


async def test_a_new_mention_starts_a_conversation_of_its_own(discord: Discord) -> None:
    emulator, _, core = discord
    one = await emulator.mention("who is kishida?")
    await emulator.wait_for_message(emulator.channel_id)
    two = await emulator.mention("who is stoltenberg?")
    await emulator.wait_for_message(emulator.channel_id, count=2)
    assert [r.thread for r in core.requests] == [one["id"], two["id"]]


async def test_a_reply_whose_text_discord_withholds_is_not_answered(discord: Discord) -> None:
    emulator, _, core = discord
    await emulator.mention("who is kishida?")
    [first] = await emulator.wait_for_message(emulator.channel_id)
    await emulator.reply(first, "and when?", ping=False)  # ping off: no text without the intent
    await emulator.mention("who is stoltenberg?")
    await emulator.wait_for_message(emulator.channel_id, count=2)
    assert [r.text for r in core.requests] == ["who is kishida?", "who is stoltenberg?"]


async def test_a_dm_is_one_conversation_per_channel(discord: Discord) -> None:
    emulator, _, core = discord
    await emulator.dm("who is kishida?")
    await emulator.dm("and when did he visit nato?")
    channel = emulator.dm_channels[str(ALICE["id"])]
    await emulator.wait_for_message(channel, count=2)
    assert [r.thread for r in core.requests] == [f"dm:{channel}"] * 2


async def test_replies_to_someone_elses_message_are_not_for_the_bot(discord: Discord) -> None:
    emulator, _, core = discord
    other = await emulator.say("lunch?", user=MODERATOR)
    await emulator.dispatch(
        "MESSAGE_CREATE",
        {
            **other,
            "id": "1",
            "author": ALICE,
            "type": 19,
            "content": "",
            "message_reference": {"message_id": other["id"], "channel_id": other["channel_id"]},
            "referenced_message": other,
        },
    )
    await asyncio.sleep(0.05)
    assert core.requests == []


@pytest.mark.parametrize("hostile", ["", "x" * 50_000, "who\x00is\x1b[2Jkishida\u202e?", "@everyone @here"])
async def test_hostile_follow_ups_are_answered_safely(discord: Discord, hostile: str) -> None:
    emulator, _, core = discord
    await emulator.mention("who is kishida?")
    [first] = await emulator.wait_for_message(emulator.channel_id)
    await emulator.reply(first, hostile)
    posted = await emulator.wait_for_message(emulator.channel_id, count=2)
    for reply in posted:
        assert not reply.pings.anyone
    assert all(len(r.sent.get("content") or "") <= 2000 for r in posted)
    assert core.requests[1].thread == core.requests[0].thread
