"""A delivery Slack repeats, or someone replays, is answered once: across a restart too.

Event ids and request signatures are remembered in the store, so a new app on the same
database (a restart, or another replica) knows what the last one already answered.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.adapters.slack.emulator import slash_command
from tests.adapters.slack.harness import CHANNEL, DM, MEMBER, SlackHarness


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_an_event_retried_after_a_restart_is_answered_once(tmp_path: Path, mode: str) -> None:
    db = tmp_path / "briefbot.sqlite3"
    async with SlackHarness.running(mode, db) as before:
        event = before.mention_event("who is kishida", user=MEMBER)
        await before.event(event, event_id="Ev0RESTART")
        await before.emulator.wait_for("chat.postMessage")
    async with SlackHarness.running(mode, db) as restarted:
        retry = await restarted.event(event, event_id="Ev0RESTART", retry=1)
        assert retry.status == 200
        # A new event after the retry is answered: the restarted app is not just deaf.
        other = await restarted.event(restarted.dm_event("who is kishida", user=MEMBER))
        assert other.status == 200
        [answered] = await restarted.emulator.wait_for("chat.postMessage")
        await restarted.app.wait_idle()
    assert restarted.emulator.calls_to("chat.postMessage") == [answered]
    assert answered.args["channel"] == DM  # the direct message, not the retried mention


async def test_an_event_retried_to_another_replica_is_answered_once(tmp_path: Path) -> None:
    db = tmp_path / "briefbot.sqlite3"
    async with SlackHarness.running("http", db) as one, SlackHarness.running("http", db) as two:
        event = one.mention_event("who is kishida", user=MEMBER)
        await one.event(event, event_id="Ev0REPLICA")
        await one.emulator.wait_for("chat.postMessage")
        assert (await two.event(event, event_id="Ev0REPLICA", retry=1)).status == 200
        await two.app.wait_idle()
        assert two.emulator.calls_to("chat.postMessage") == []


async def test_a_replayed_signed_command_is_refused_even_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "briefbot.sqlite3"
    async with SlackHarness.running("http", db) as slack:
        assert slack.sender is not None
        command = slash_command(
            "who is kishida", user=MEMBER, channel=CHANNEL, response_url=slack.emulator.response_url()
        )
        stamp = int(time.time())  # signed once, well inside Slack's five minutes
        first = await slack.sender.form(command, timestamp=stamp)
        assert first.status == 200
        await slack.emulator.wait_for("response_url")
        replayed = await slack.sender.form(command, timestamp=stamp)
        assert replayed.status == 401
        # The same command signed afresh is a new request, and is answered.
        fresh = await slack.sender.form(command, timestamp=stamp + 1)
        assert fresh.status == 200
        await slack.emulator.wait_for("response_url", count=2)
        await slack.app.wait_idle()
        assert len(slack.emulator.calls_to("response_url")) == 2
    async with SlackHarness.running("http", db) as restarted:
        assert restarted.sender is not None
        assert (await restarted.sender.form(command, timestamp=stamp)).status == 401
        await restarted.app.wait_idle()
        assert restarted.emulator.calls_to("response_url") == []
