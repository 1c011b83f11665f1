"""HTTP mode: Slack's request signing is enforced by the adapter's real aiohttp server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.adapters.slack.emulator import SignedSender, event_callback, slash_command
from tests.adapters.slack.harness import CHANNEL, MEMBER, SlackHarness


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
