"""Mentions, direct messages, duplicate deliveries, rate limits and App Home."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.messages import Reply, Request
from tests.adapters.slack.emulator import BOT_ID, BOT_USER
from tests.adapters.slack.harness import ADMIN, CHANNEL, DM, MEMBER, SlackHarness


@pytest.fixture(params=["http", "socket"])
async def slack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackHarness.running(request.param, tmp_path / "briefbot.sqlite3") as harness:
        yield harness


async def test_mention_is_answered_in_a_thread_under_the_question(slack: SlackHarness) -> None:
    event = slack.mention_event("who is fumio kishida?", user=MEMBER)
    await slack.event(event)
    [post] = await slack.emulator.wait_for("chat.postMessage")
    assert post.args["channel"] == CHANNEL
    assert post.args["thread_ts"] == event["ts"]
    assert post.args["text"].startswith("Fumio Kishida, Prime Minister of Japan: Fumio Kishida was")
    assert post.token == slack.emulator.bot_token


async def test_mention_inside_a_thread_is_answered_in_that_thread(slack: SlackHarness) -> None:
    event = slack.mention_event(
        "when did stoltenberg visit tokyo", user=MEMBER, thread_ts="1689999999.000100"
    )
    await slack.event(event)
    [post] = await slack.emulator.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == "1689999999.000100"
    assert "Stoltenberg visited Tokyo" in post.args["text"]


async def test_direct_message_is_answered_directly(slack: SlackHarness) -> None:
    await slack.event(slack.dm_event("what does ccdcoe stand for?", user=MEMBER))
    [post] = await slack.emulator.wait_for("chat.postMessage")
    assert post.args["channel"] == DM
    assert post.args.get("thread_ts") is None
    assert "Cooperative Cyber Defence Centre of Excellence" in post.args["text"]


async def test_direct_message_understands_the_command_grammar(slack: SlackHarness) -> None:
    await slack.event(slack.dm_event("/nato timeline since 2023", user=MEMBER))
    [post] = await slack.emulator.wait_for("chat.postMessage")
    assert "February 2023 — Stoltenberg visits Tokyo &amp; signs a joint statement (¶8)" in post.text()


async def test_edits_and_the_bots_own_messages_are_not_answered(slack: SlackHarness) -> None:
    edited = slack.dm_event("who is kishida", user=MEMBER) | {"subtype": "message_changed"}
    own = slack.dm_event("Fumio Kishida was Japan's Prime Minister", user=BOT_USER) | {"bot_id": BOT_ID}
    for event in (edited, own):
        ack = await slack.event(event)
        assert ack.status == 200
    await slack.app.wait_idle()
    assert slack.emulator.calls_to("chat.postMessage") == []


async def test_a_retried_event_is_answered_once(slack: SlackHarness) -> None:
    event = slack.mention_event("who is kishida", user=MEMBER)
    await slack.event(event, event_id="Ev0RETRIED")
    await slack.emulator.wait_for("chat.postMessage")
    retry = await slack.event(event, event_id="Ev0RETRIED", retry=1)
    assert retry.status == 200
    again = await slack.event(event, event_id="Ev0RETRIED")  # the same id, no retry header
    assert again.status == 200
    await slack.app.wait_idle()
    assert len(slack.emulator.calls_to("chat.postMessage")) == 1


async def test_rate_limited_post_is_retried_after_retry_after(slack: SlackHarness) -> None:
    slack.emulator.fail_next("chat.postMessage", status=429, retry_after=1)
    await slack.event(slack.mention_event("who is kishida", user=MEMBER))
    limited, posted = await slack.emulator.wait_for("chat.postMessage", count=2, timeout=10)
    assert (limited.status, posted.status) == (429, 200)
    assert posted.args == limited.args
    assert posted.at - limited.at >= 1.0


async def test_ping_in_a_mention_is_not_echoed_as_a_ping(slack: SlackHarness) -> None:
    # Slack encodes a real @channel as <!channel> and a typed "<" as &lt;.
    await slack.event(slack.mention_event("/nato who <!channel> &lt;!here&gt; <@U0ADMIN>", user=MEMBER))
    # "who" finding no one is an error only the asker sees, still in the thread.
    [post] = await slack.emulator.wait_for("chat.postEphemeral")
    assert (post.args["channel"], post.args["user"]) == (CHANNEL, MEMBER)
    seen = post.text()
    assert "<!" not in seen and "<@" not in seen, seen
    assert "@channel &lt;!here&gt; @U0ADMIN" in seen


async def test_app_home_shows_a_guide_and_the_latest_milestones(slack: SlackHarness) -> None:
    await slack.event({"type": "app_home_opened", "user": ADMIN, "channel": "D0HOME", "tab": "home"})
    [publish] = await slack.emulator.wait_for("views.publish")
    assert publish.args["user_id"] == ADMIN
    view = publish.args["view"]
    assert view["type"] == "home"
    text = "\n".join(b["text"]["text"] for b in view["blocks"] if b["type"] in ("section", "header"))
    assert "/nato when did Japan join the NATO cyber centre?" in text
    assert text.index("February 2023 — Stoltenberg visits Tokyo") < text.index("June 2022 — Kishida attends")
    assert "May 2014" in text


async def test_opening_the_messages_tab_publishes_nothing(slack: SlackHarness) -> None:
    await slack.event({"type": "app_home_opened", "user": ADMIN, "channel": "D0HOME", "tab": "messages"})
    await slack.app.wait_idle()
    assert slack.emulator.calls_to("views.publish") == []


async def test_failure_answering_a_mention_gets_one_apology_in_the_thread(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: Request) -> Reply:
        raise KeyError("index corrupted")

    slack.app.bot.dispatch = broken  # type: ignore[method-assign]
    event = slack.mention_event("who is kishida", user=MEMBER)
    await slack.event(event)
    [post] = await slack.emulator.wait_for("chat.postMessage")
    assert post.args["text"] == "Sorry, something went wrong answering that. It has been logged."
    assert post.args["thread_ts"] == event["ts"]
    assert any(r.exc_info and "mention" in r.getMessage() for r in caplog.records)


async def test_wait_idle_covers_answers_already_acknowledged_but_unfinished(slack: SlackHarness) -> None:
    held = slack.emulator.hold("chat.postMessage")
    ack = await slack.event(slack.mention_event("who is kishida", user=MEMBER))
    assert ack.status == 200
    await slack.emulator.wait_for("chat.postMessage")
    assert await slack.app.wait_idle(timeout=0.05) is False
    held.set()
    assert await slack.app.wait_idle(timeout=5) is True
