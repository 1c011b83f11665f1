"""`/nato digest …` on Discord, and scheduled digests posted through the Discord poster."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.discord import DiscordPoster
from bot.digests.commands import DigestCommands
from bot.digests.poster import ChannelRef, PostError
from bot.digests.scheduler import Scheduler
from bot.dispatch import Bot
from bot.messages import Reply
from bot.store.sqlite import SQLiteStore
from tests.adapters.discord.emulator import MODERATOR, DiscordEmulator
from tests.adapters.discord.harness import SteppingClock, fixture_engine, fixture_kb, running_bot

SUBSCRIBE: dict[str, object] = {
    "kind": "topic",
    "arg": "maritime",
    "schedule": "daily 09:00",
    "timezone": "Europe/Brussels",
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as opened:
        yield opened


def digest_core(store: SQLiteStore) -> Bot:
    limits = {DiscordPoster.platform: DiscordPoster.message_limit}  # as the runtime passes them
    commands = DigestCommands(store, fixture_kb, message_limits=limits)
    return Bot(fixture_engine(), store=store, digest_handler=commands)


@pytest.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as running:
        yield running


async def test_subscribing_without_manage_channels_is_refused_privately(
    emulator: DiscordEmulator, store: SQLiteStore
) -> None:
    async with running_bot(emulator, digest_core(store)):
        interaction = await emulator.slash("digest subscribe", SUBSCRIBE, manager=False)
        [reply] = await emulator.wait_for_reply(interaction)
    assert reply.ephemeral
    assert "only members with the Manage Channels permission" in reply.content
    assert store.subscriptions() == ()


async def test_a_channel_manager_subscribes_the_channel(
    emulator: DiscordEmulator, store: SQLiteStore
) -> None:
    async with running_bot(emulator, digest_core(store)):
        interaction = await emulator.slash("digest subscribe", SUBSCRIBE, user=MODERATOR, manager=True)
        [reply] = await emulator.wait_for_reply(interaction)
        listing = await emulator.slash("digest list")
        [listed] = await emulator.wait_for_reply(listing)
    assert not reply.ephemeral  # the channel sees that it now gets digests
    assert reply.embeds[0]["title"] == "Digest subscribed"
    [sub] = store.subscriptions()
    assert (sub.platform, sub.workspace, sub.channel) == ("discord", emulator.guild_id, emulator.channel_id)
    assert (sub.kind, sub.arg, sub.tz) == ("topic", "maritime", "Europe/Brussels")
    assert sub.created_by == MODERATOR["id"]
    assert listed.ephemeral and f"#{sub.id}" in listed.text


async def test_unsubscribing_needs_manage_channels_too(emulator: DiscordEmulator, store: SQLiteStore) -> None:
    async with running_bot(emulator, digest_core(store)):
        subscribe = await emulator.slash("digest subscribe", SUBSCRIBE, manager=True)
        await emulator.wait_for_reply(subscribe)
        [sub] = store.subscriptions()
        refused = await emulator.slash("digest unsubscribe", {"id": sub.id}, manager=False)
        [refusal] = await emulator.wait_for_reply(refused)
        assert refusal.ephemeral and store.subscriptions() == (sub,)
        accepted = await emulator.slash("digest unsubscribe", {"id": sub.id}, manager=True)
        [done] = await emulator.wait_for_reply(accepted)
    assert f"#{sub.id}" in done.content
    assert store.subscriptions() == ()


async def test_digest_arguments_and_time_zones_autocomplete(
    emulator: DiscordEmulator, store: SQLiteStore
) -> None:
    async with running_bot(emulator, digest_core(store)):
        topics = await emulator.autocomplete("digest subscribe", "arg", "mari", {"kind": "topic"})
        zones = await emulator.autocomplete("digest subscribe", "timezone", "tokyo", {"kind": "month"})
        await emulator.wait_for(lambda: topics.callbacks and zones.callbacks, "both autocomplete answers")
    assert [c["value"] for c in topics.callbacks[0]["data"]["choices"]] == ["maritime"]
    assert [c["value"] for c in zones.callbacks[0]["data"]["choices"]] == ["Asia/Tokyo"]


async def test_a_digest_preview_is_private(emulator: DiscordEmulator, store: SQLiteStore) -> None:
    async with running_bot(emulator, digest_core(store)):
        interaction = await emulator.slash("digest now", {"kind": "topic", "arg": "maritime"})
        replies = await emulator.wait_for_reply(interaction)
    assert all(reply.ephemeral for reply in replies)
    assert replies[0].embeds[0]["title"].startswith("Preview: NATO–Japan: maritime")
    assert "MARCOM" in "\n".join(reply.text for reply in replies)


async def test_a_scheduled_digest_is_posted_to_the_subscribed_channel(
    emulator: DiscordEmulator, store: SQLiteStore
) -> None:
    clock = SteppingClock(datetime.now(UTC) + timedelta(days=2))  # past the first 09:00 run

    def scheduler(poster: DiscordPoster) -> Scheduler:
        return Scheduler(store, fixture_kb, {"discord": poster}, clock, pace=0)

    async with running_bot(emulator, digest_core(store), scheduler=scheduler):
        subscribe = await emulator.slash("digest subscribe", SUBSCRIBE, manager=True)
        await emulator.wait_for_reply(subscribe)
        [digest] = await emulator.wait_for_message(emulator.channel_id)
    [embed] = digest.embeds
    assert embed["title"] == "NATO–Japan: maritime, milestones and key facts"
    assert "MARCOM" in embed["description"]
    assert digest.sent["allowed_mentions"]["parse"] == []
    [sub] = store.subscriptions()
    delivery = store.last_delivery(sub.id)
    assert delivery is not None and delivery.status == "done"


async def test_the_poster_reports_a_lost_channel_as_permanent(emulator: DiscordEmulator) -> None:
    emulator.forbidden_channels.add(emulator.other_channel_id)
    async with running_bot(emulator, Bot(fixture_engine())) as client:
        reply = Reply("A digest.", title="Digest", kind="digest")
        with pytest.raises(PostError) as forbidden:
            await client.poster.post(
                ChannelRef("discord", emulator.guild_id, emulator.other_channel_id), reply
            )
        with pytest.raises(PostError) as unknown:
            await client.poster.post(ChannelRef("discord", emulator.guild_id, "4242"), reply)
        with pytest.raises(PostError) as nonsense:
            await client.poster.post(ChannelRef("discord", emulator.guild_id, "#general"), reply)
    assert forbidden.value.permanent and unknown.value.permanent and nonsense.value.permanent


async def test_the_poster_hands_a_long_rate_limit_back_to_the_scheduler(emulator: DiscordEmulator) -> None:
    emulator.rate_limit("POST", rf"/channels/{emulator.channel_id}/messages", retry_after=120)
    async with running_bot(emulator, Bot(fixture_engine())) as client:
        with pytest.raises(PostError) as limited:
            await client.poster.post(
                ChannelRef("discord", emulator.guild_id, emulator.channel_id), Reply("Digest.", kind="digest")
            )
    assert limited.value.retry_after == 120 and not limited.value.permanent


async def test_a_mention_subscribes_only_for_members_whose_roles_allow_managing_the_channel(
    emulator: DiscordEmulator, store: SQLiteStore
) -> None:
    command = "/nato digest subscribe topic maritime daily 09:00"
    async with running_bot(emulator, digest_core(store)):
        await emulator.mention(command, manager=False)
        [refusal] = await emulator.wait_for_message(emulator.channel_id)
        assert "only members with the Manage Channels permission" in refusal.text
        assert store.subscriptions() == ()
        await emulator.mention(command, user=MODERATOR, manager=True)  # has the Moderators role
        [_, accepted] = await emulator.wait_for_message(emulator.channel_id, count=2)
    assert accepted.embeds[0]["title"] == "Digest subscribed"
    [sub] = store.subscriptions()
    assert sub.created_by == MODERATOR["id"]
