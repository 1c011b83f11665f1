"""Socket Mode: envelopes are acknowledged, and a dropped or recycled connection comes back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.slack.emulator import event_callback
from tests.adapters.slack.harness import MEMBER, SlackHarness


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackHarness.running("socket", tmp_path / "briefbot.sqlite3") as harness:
        yield harness


async def ask(slack: SlackHarness, question: str) -> str:
    """Mention the bot over the live connection; returns the answer's text."""
    before = len(slack.emulator.calls_to("chat.postMessage"))
    envelope = await slack.emulator.send_envelope(
        "events_api",
        event_callback(slack.mention_event(question, user=MEMBER), event_id=f"Ev{slack.next_ts()}"),
    )
    await slack.emulator.wait_ack(envelope)
    posts = await slack.emulator.wait_for("chat.postMessage", count=before + 1)
    return str(posts[-1].args["text"])


async def test_connection_is_opened_with_the_app_token(slack: SlackHarness) -> None:
    [opened] = slack.emulator.calls_to("apps.connections.open")
    assert opened.token == slack.emulator.app_token


async def test_every_envelope_is_acknowledged_with_its_id(slack: SlackHarness) -> None:
    envelope = await slack.emulator.send_envelope(
        "events_api", event_callback(slack.mention_event("who is kishida", user=MEMBER), event_id="Ev0ACK")
    )
    ack = await slack.emulator.wait_ack(envelope)
    assert ack == {"envelope_id": envelope}


async def test_reconnects_when_slack_asks_and_answers_again(slack: SlackHarness) -> None:
    assert "Fumio Kishida" in await ask(slack, "who is kishida")
    await slack.emulator.ask_to_reconnect()
    await slack.emulator.wait_for("socket.connected", count=2)
    assert len(slack.emulator.calls_to("apps.connections.open")) == 2
    assert "Stoltenberg visited Tokyo" in await ask(slack, "when did stoltenberg visit tokyo")


async def test_reconnects_after_the_connection_drops_and_answers_again(slack: SlackHarness) -> None:
    assert "Fumio Kishida" in await ask(slack, "who is kishida")
    await slack.emulator.drop_connection()
    await slack.emulator.wait_for("socket.connected", count=2)
    assert "Cooperative Cyber Defence Centre" in await ask(slack, "what is the ccdcoe")
