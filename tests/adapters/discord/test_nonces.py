"""A digest part posted again (a retry, a takeover) appears once on Discord: Discord's nonce.

First the emulator itself, spoken to in plain HTTP, keeps Discord's documented rule for a
create with ``nonce`` and ``enforce_nonce`` (same nonce in the window: the message already
created, nothing new); then the real poster and scheduler, through discord.py, whose first
post of a part is made but never answered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.adapters.discord.emulator import DiscordEmulator


@pytest.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as running:
        yield running


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
