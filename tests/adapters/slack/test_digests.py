"""Scheduled digests reach Slack through the adapter's Poster (chat.postMessage)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.slack.poster import DIGEST_PART_EVENT
from bot.digests.poster import ChannelRef, PostError
from bot.digests.scheduler import Scheduler
from bot.messages import Reply
from bot.store.values import NewSubscription
from tests.adapters.slack.emulator import TEAM
from tests.adapters.slack.harness import ADMIN, CHANNEL, SlackHarness, fixture_kb

# Every time in these tests is taken from one fixed instant, never the wall clock: with the
# wall clock, a run that crossed 00:00 UTC moved a daily period between two steps of a test.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["http", "socket"])
async def slack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackHarness.running(
        request.param, tmp_path / "briefbot.sqlite3", rate_limit_retries=0, clock=lambda: NOW
    ) as harness:
        yield harness


def scheduler_for(slack: SlackHarness) -> Scheduler:
    return Scheduler(slack.store, fixture_kb, {"slack": slack.app.poster})


def tomorrow_at(hour: int) -> datetime:
    day = NOW.date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def subscribe(slack: SlackHarness, what: str) -> None:
    url = await slack.command(f"digest subscribe {what}", user=ADMIN)
    [answer] = await slack.emulator.wait_for("response_url", lambda c: c.args["url"] == url)
    assert "Subscribed this channel" in answer.args["text"], answer.args["text"]


async def test_subscribed_digest_is_posted_to_the_channel_when_due(slack: SlackHarness) -> None:
    await subscribe(slack, "topic cyber daily 09:00")
    [outcome] = await scheduler_for(slack).run_due(now=tomorrow_at(10))
    assert outcome.status == "posted"
    [post] = await slack.emulator.wait_for("chat.postMessage")
    assert post.args["channel"] == CHANNEL
    assert post.token == slack.emulator.bot_token
    assert post.args["blocks"][0]["type"] == "header"
    assert "Japan joins NATO's cyber defence centre in Estonia" in post.text()
    # A second pass for the same period posts nothing more.
    assert await scheduler_for(slack).run_due(now=tomorrow_at(11)) == ()
    assert len(slack.emulator.calls_to("chat.postMessage")) == 1


async def test_rate_limited_digest_is_booked_for_retry_after_slacks_delay(slack: SlackHarness) -> None:
    await subscribe(slack, "topic cyber daily 09:00")
    slack.emulator.fail_next("chat.postMessage", status=429, retry_after=120)
    now = tomorrow_at(10)
    [outcome] = await scheduler_for(slack).run_due(now=now)
    assert outcome.status == "retry"
    [subscription] = slack.store.subscriptions()
    delivery = slack.store.delivery(subscription.id, outcome.period_key)
    assert delivery is not None and delivery.retry_at is not None
    assert timedelta(seconds=119) <= delivery.retry_at - now <= timedelta(seconds=125)
    [retried] = await scheduler_for(slack).run_due(now=now + timedelta(seconds=121))
    assert retried.status == "posted"
    assert [c.status for c in slack.emulator.calls_to("chat.postMessage")] == [429, 200]


async def test_post_to_a_channel_the_bot_was_removed_from_fails_for_good(slack: SlackHarness) -> None:
    slack.emulator.fail_next("chat.postMessage", error="not_in_channel")
    with pytest.raises(PostError) as raised:
        await slack.app.poster.post(ChannelRef("slack", TEAM, CHANNEL), Reply("A digest", kind="digest"))
    assert raised.value.permanent
    assert "not_in_channel" in str(raised.value)


async def test_post_that_slack_fails_transiently_can_be_retried(slack: SlackHarness) -> None:
    slack.emulator.fail_next("chat.postMessage", status=200, error="internal_error")
    with pytest.raises(PostError) as raised:
        await slack.app.poster.post(ChannelRef("slack", TEAM, CHANNEL), Reply("A digest", kind="digest"))
    assert not raised.value.permanent
    assert raised.value.retry_after is None


async def _post_times_out_after_reaching_slack(slack: SlackHarness) -> tuple[Scheduler, int, str]:
    """A digest whose post reached Slack but whose answer never came back (as when the
    posting process is killed mid-post): booked for a retry, and in the channel."""
    sub = slack.store.add_subscription(
        NewSubscription("slack", TEAM, CHANNEL, "topic", "cyber", "daily 00:00", "UTC", ADMIN),
        now=NOW - timedelta(days=3),
    )
    scheduler = Scheduler(
        slack.store, fixture_kb, {"slack": slack.app.poster}, post_timeout=1.0, lease=timedelta(seconds=5)
    )
    answered = slack.emulator.hold("chat.postMessage")
    [outcome] = await scheduler.run_due(now=NOW)
    answered.set()
    assert outcome.status == "retry" and "TimeoutError" in outcome.detail
    assert [m["channel"] for m in slack.emulator.messages] == [CHANNEL]
    return scheduler, sub.id, outcome.period_key


async def test_a_part_that_went_out_before_its_post_failed_is_not_posted_again(slack: SlackHarness) -> None:
    scheduler, sub_id, key = await _post_times_out_after_reaching_slack(slack)
    [retried] = await scheduler.run_due(now=NOW + timedelta(minutes=2))
    assert retried.status == "posted"
    [message] = slack.emulator.messages  # found in the channel's history by its metadata
    assert message["metadata"] == {
        "event_type": DIGEST_PART_EVENT,
        "event_payload": {"subscription": sub_id, "period": key, "part": 0},
    }
    delivery = slack.store.delivery(sub_id, key)
    assert delivery is not None and delivery.status == "done" and delivery.parts_done == 1


async def test_a_part_is_posted_again_when_the_channel_history_cannot_be_read(slack: SlackHarness) -> None:
    scheduler, sub_id, key = await _post_times_out_after_reaching_slack(slack)
    slack.emulator.fail_next("conversations.history", error="not_in_channel")
    [retried] = await scheduler.run_due(now=NOW + timedelta(minutes=2))
    assert retried.status == "posted"  # at worst a repeat, never a lost digest
    assert [m["channel"] for m in slack.emulator.messages] == [CHANNEL, CHANNEL]
    delivery = slack.store.delivery(sub_id, key)
    assert delivery is not None and delivery.status == "done"
