"""A digest part posted again (a retry, a takeover) appears once on Discord: Discord's nonce.

First the emulator itself, spoken to in plain HTTP, keeps Discord's documented rule for a
create with ``nonce`` and ``enforce_nonce`` (same nonce in the window: the message already
created, nothing new); then the real poster and scheduler, through discord.py, whose first
post of a part is made but never answered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.discord.poster import NONCE_LIMIT, digest_nonce
from bot.digests.poster import ChannelRef, FindingPoster, MarkingPoster, PartMark
from bot.digests.scheduler import Scheduler
from bot.dispatch import Bot
from bot.messages import Reply
from bot.store.sqlite import SQLiteStore
from bot.store.values import NewSubscription
from tests.adapters.discord.emulator import DiscordEmulator
from tests.adapters.discord.harness import SteppingClock, fixture_engine, fixture_kb, running_bot


@pytest.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as running:
        yield running


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as opened:
        yield opened


async def create(emulator: DiscordEmulator, channel: str, body: dict[str, Any]) -> tuple[int, Any]:
    """POST /channels/{channel}/messages as a bot would, without discord.py."""
    headers = {"Authorization": f"Bot {emulator.token}"}
    async with aiohttp.ClientSession() as session:
        url = f"{emulator.api_base}/channels/{channel}/messages"
        async with session.post(url, json=body, headers=headers) as response:
            return response.status, await response.json()


# -- the emulator keeps Discord's rule -------------------------------------------------------


async def test_a_repeated_enforced_nonce_returns_the_first_message_and_posts_nothing(
    emulator: DiscordEmulator,
) -> None:
    body = {"content": "Part one.", "nonce": "d0123456789abcdef01234567", "enforce_nonce": True}
    first_status, first = await create(emulator, emulator.channel_id, body)
    again_status, again = await create(emulator, emulator.channel_id, {**body, "content": "Changed."})
    assert (first_status, again_status) == (200, 200)
    assert again["id"] == first["id"] and again["content"] == "Part one."
    assert first["nonce"] == body["nonce"]  # echoed, as Discord does
    assert [p.content for p in emulator.in_channel(emulator.channel_id)] == ["Part one."]


async def test_a_nonce_is_enforced_only_when_asked_for_and_only_for_the_same_nonce(
    emulator: DiscordEmulator,
) -> None:
    channel = emulator.channel_id
    await create(emulator, channel, {"content": "a", "nonce": "n1"})
    await create(emulator, channel, {"content": "b", "nonce": "n1"})  # not enforced: posted
    await create(emulator, channel, {"content": "c", "nonce": "n2", "enforce_nonce": True})
    await create(emulator, channel, {"content": "d", "nonce": "n3", "enforce_nonce": True})
    await create(emulator, emulator.other_channel_id, {"content": "e", "nonce": "n2", "enforce_nonce": True})
    assert [p.content for p in emulator.in_channel(channel)] == ["a", "b", "c", "d"]
    assert [p.content for p in emulator.in_channel(emulator.other_channel_id)] == ["e"]


async def test_after_the_window_the_same_nonce_posts_again(emulator: DiscordEmulator) -> None:
    body = {"content": "Part one.", "nonce": "late", "enforce_nonce": True}
    _, first = await create(emulator, emulator.channel_id, body)
    emulator.nonce_window = 0  # Discord's few minutes have passed
    _, again = await create(emulator, emulator.channel_id, body)
    assert again["id"] != first["id"]
    assert len(emulator.in_channel(emulator.channel_id)) == 2


async def test_a_nonce_whose_message_was_deleted_is_unknown_and_not_posted_again(
    emulator: DiscordEmulator,
) -> None:
    body = {"content": "Part one.", "nonce": "gone", "enforce_nonce": True}
    _, first = await create(emulator, emulator.channel_id, body)
    emulator.delete_message(first["id"])
    status, error = await create(emulator, emulator.channel_id, body)
    assert (status, error["code"]) == (404, 10008)
    assert emulator.in_channel(emulator.channel_id) == []


async def test_a_nonce_longer_than_25_characters_is_refused(emulator: DiscordEmulator) -> None:
    status, error = await create(
        emulator, emulator.channel_id, {"content": "x", "nonce": "n" * 26, "enforce_nonce": True}
    )
    assert (status, error["code"]) == (400, 50035) and "nonce" in error["errors"]
    assert emulator.posted == []


async def test_a_lost_response_leaves_the_message_posted_and_the_bot_unanswered(
    emulator: DiscordEmulator,
) -> None:
    emulator.lose_responses("POST", rf"/channels/{emulator.channel_id}/messages")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await create(emulator, emulator.channel_id, {"content": "Sent, unanswered."})
    assert [p.content for p in emulator.in_channel(emulator.channel_id)] == ["Sent, unanswered."]
    assert [c.status for c in emulator.calls] == [0]
    status, _ = await create(emulator, emulator.channel_id, {"content": "Answered."})
    assert status == 200  # one response lost, not every one


# -- the poster's nonces -------------------------------------------------------------------


def test_a_digest_nonce_is_the_same_for_the_same_part_and_fits_discords_limit() -> None:
    where = ChannelRef("discord", "1111", "2222")
    mark = PartMark(7, "2026-12-07T09:00", 0)
    nonce = digest_nonce(where, mark, 0)
    assert nonce == digest_nonce(ChannelRef("discord", "1111", "2222"), PartMark(7, "2026-12-07T09:00", 0), 0)
    assert len(nonce) <= NONCE_LIMIT and not nonce.isdigit()
    others = {
        digest_nonce(where, PartMark(7, "2026-12-07T09:00", 1), 0),  # the next part
        digest_nonce(where, mark, 1),  # the part's second message
        digest_nonce(where, PartMark(7, "2026-12-08T09:00", 0), 0),  # the next period
        digest_nonce(where, PartMark(8, "2026-12-07T09:00", 0), 0),  # another subscription
        digest_nonce(ChannelRef("discord", "1111", "3333"), mark, 0),  # another channel
    }
    assert nonce not in others and len(others) == 5


async def test_posting_the_same_part_twice_leaves_one_message(emulator: DiscordEmulator) -> None:
    where = ChannelRef("discord", emulator.guild_id, emulator.channel_id)
    part = Reply("Maritime cooperation this week.", title="NATO–Japan: maritime", kind="digest")
    async with running_bot(emulator, Bot(fixture_engine())) as client:
        # It marks its parts, and cannot look for them: the scheduler never asks it to.
        assert isinstance(client.poster, MarkingPoster) and not isinstance(client.poster, FindingPoster)
        await client.poster.post_marked(where, part, PartMark(1, "2026-12-07", 0))
        await client.poster.post_marked(where, part, PartMark(1, "2026-12-07", 0))  # a retry
        await client.poster.post_marked(where, part, PartMark(1, "2026-12-07", 1))  # another part
    sent = [c.body for c in emulator.calls if c.method == "POST" and c.path.endswith("/messages")]
    assert [b["nonce"] for b in sent] == [
        digest_nonce(where, PartMark(1, "2026-12-07", 0), 0),
        digest_nonce(where, PartMark(1, "2026-12-07", 0), 0),
        digest_nonce(where, PartMark(1, "2026-12-07", 1), 0),
    ]
    assert all(b["enforce_nonce"] is True for b in sent)  # discord.py adds it to any nonce
    assert len(emulator.in_channel(emulator.channel_id)) == 2


# -- through the scheduler ---------------------------------------------------------------------


def subscribe(store: SQLiteStore, emulator: DiscordEmulator, now: datetime) -> int:
    new = NewSubscription(
        "discord", emulator.guild_id, emulator.channel_id, "topic", "maritime", "daily 09:00", "UTC", "u1"
    )
    return store.add_subscription(new, now=now - timedelta(days=3)).id


async def test_a_part_whose_response_was_lost_is_retried_and_appears_once(
    emulator: DiscordEmulator, store: SQLiteStore
) -> None:
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    sub_id = subscribe(store, emulator, now)
    clock = SteppingClock(now)
    # Discord creates the first part, but its answer never reaches the bot.
    emulator.lose_responses("POST", rf"/channels/{emulator.channel_id}/messages")
    async with running_bot(emulator, Bot(fixture_engine())) as client:
        scheduler = Scheduler(store, fixture_kb, {"discord": client.poster}, clock, pace=0)
        [first] = await scheduler.run_due()
        assert first.status == "retry" and "could not reach Discord" in first.detail
        assert len(emulator.in_channel(emulator.channel_id)) == 1  # it went out all the same
        clock.at += timedelta(minutes=1)  # past the first backoff (30 s), well within the window
        [second] = await scheduler.run_due()
        scheduler.close()
    assert second.status == "posted"
    delivery = store.last_delivery(sub_id)
    assert delivery is not None and delivery.status == "done"
    messages = emulator.in_channel(emulator.channel_id)
    assert len(messages) == len(delivery.parts)  # each part once, the lost one included
    assert "NATO–Japan: maritime" in messages[0].embeds[0]["title"]
    attempts = [c for c in emulator.calls if c.method == "POST" and c.path.endswith("/messages")]
    assert len(attempts) == len(delivery.parts) + 1 and attempts[0].body["nonce"] == attempts[1].body["nonce"]


async def test_a_part_deleted_before_its_retry_counts_as_posted(
    emulator: DiscordEmulator, store: SQLiteStore
) -> None:
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    sub_id = subscribe(store, emulator, now)
    clock = SteppingClock(now)
    emulator.lose_responses("POST", rf"/channels/{emulator.channel_id}/messages")
    given_up: list[object] = []
    async with running_bot(emulator, Bot(fixture_engine())) as client:
        scheduler = Scheduler(
            store, fixture_kb, {"discord": client.poster}, clock, pace=0, on_given_up=given_up.append
        )
        await scheduler.run_due()
        [lost] = emulator.in_channel(emulator.channel_id)
        emulator.delete_message(lost.id)  # a moderator removes it before the retry
        clock.at += timedelta(minutes=1)
        [retried] = await scheduler.run_due()
        scheduler.close()
    delivery = store.last_delivery(sub_id)
    assert retried.status == "posted" and given_up == []
    assert delivery is not None and delivery.status == "done"
    # The deleted part stays deleted; the rest of the digest follows it.
    assert len(emulator.in_channel(emulator.channel_id)) == len(delivery.parts) - 1
