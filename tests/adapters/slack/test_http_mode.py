"""HTTP mode: Slack's request signing is enforced by the adapter's real aiohttp server."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.adapters.slack.emulator import SignedSender, event_callback, slash_command
from tests.adapters.slack.harness import ALLOWED, CHANNEL, MEMBER, SlackHarness


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackHarness.running("http", tmp_path / "briefbot.sqlite3") as harness:
        yield harness


def sender(slack: SlackHarness) -> SignedSender:
    assert slack.sender is not None
    return slack.sender


def a_command(slack: SlackHarness) -> dict[str, str]:
    return slash_command(
        "who is kishida", user=MEMBER, channel=CHANNEL, response_url=slack.emulator.response_url()
    )


async def test_request_with_a_bad_signature_is_rejected_with_401(slack: SlackHarness) -> None:
    delivered = await sender(slack).form(a_command(slack), secret="not-the-signing-secret")
    assert delivered.status == 401
    await slack.app.wait_idle()
    assert slack.emulator.calls == []


async def test_request_with_a_stale_timestamp_is_rejected_with_401(slack: SlackHarness) -> None:
    # Correctly signed, but six minutes old: a replayed request.
    delivered = await sender(slack).form(a_command(slack), timestamp=int(time.time()) - 360)
    assert delivered.status == 401
    event = slack.mention_event("who is kishida", user=MEMBER)
    replayed = await sender(slack).json(
        event_callback(event, event_id="Ev0OLD"), timestamp=int(time.time()) - 3600
    )
    assert replayed.status == 401
    await slack.app.wait_idle()
    assert slack.emulator.calls == []


async def test_correctly_signed_request_is_answered(slack: SlackHarness) -> None:
    command = a_command(slack)
    delivered = await sender(slack).form(command)
    assert (delivered.status, delivered.body) == (200, "")
    [answer] = await slack.emulator.wait_for("response_url")
    assert answer.args["url"] == command["response_url"]


async def test_url_verification_challenge_is_echoed(slack: SlackHarness) -> None:
    delivered = await sender(slack).json({"type": "url_verification", "token": "t", "challenge": "c-123"})
    assert delivered.status == 200
    assert "c-123" in delivered.body


async def test_health_check_answers_without_a_signature(slack: SlackHarness) -> None:
    url = sender(slack).url.replace("/slack/events", "/healthz")
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert await response.json() == {"ok": True}


async def test_a_command_waiting_on_a_locked_database_holds_up_no_acknowledgement(
    slack: SlackHarness, tmp_path: Path
) -> None:
    # Another process holds the database's write lock. The subscription waits for it
    # off the event loop, so the next command is still acknowledged at once, and the
    # subscription goes through when the lock is released, well within the busy timeout.
    holder = sqlite3.connect(tmp_path / "briefbot.sqlite3", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        waiting = await slack.command("digest subscribe period year daily 08:00", user=ALLOWED)
        answered = await slack.command("who is kishida")  # acknowledged while the lock is held
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    [subscribed] = await slack.emulator.wait_for("response_url", lambda c: c.args["url"] == waiting)
    assert "Subscribed this channel" in subscribed.args["text"]
    assert len(slack.store.subscriptions()) == 1
    await slack.emulator.wait_for("response_url", lambda c: c.args["url"] == answered)
