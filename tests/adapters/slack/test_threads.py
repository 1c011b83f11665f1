"""Thread follow-ups (#13): replies in threads the bot is part of, and direct messages, are
answered without a mention and carry their thread to the core; other channel messages are
left alone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.messages import Reply, Request
from tests.adapters.slack.emulator import BOT_ID, BOT_USER
from tests.adapters.slack.harness import CHANNEL, DM, MEMBER, PRIVATE, SlackHarness


@pytest.fixture(params=["http", "socket"])
async def slack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackHarness.running(request.param, tmp_path / "briefbot.sqlite3") as harness:
        yield harness


def recording(slack: SlackHarness) -> list[Request]:
    seen: list[Request] = []
    dispatch: Callable[[Request], Reply] = slack.app.bot.dispatch

    def record(request: Request) -> Reply:
        seen.append(request)
        return dispatch(request)

    slack.app.bot.dispatch = record  # type: ignore[method-assign]
    return seen


async def test_a_reply_in_a_thread_the_bot_answered_in_is_a_follow_up(slack: SlackHarness) -> None:
    seen = recording(slack)
    mention = slack.mention_event("who is fumio kishida?", user=MEMBER)
    await slack.event(mention)
    await slack.emulator.wait_for("chat.postMessage")
    await slack.event(slack.thread_reply_event("what is the ccdcoe?", user=MEMBER, thread_ts=mention["ts"]))
    _, second = await slack.emulator.wait_for("chat.postMessage", count=2)
    assert second.args["thread_ts"] == mention["ts"]
    assert "Cooperative Cyber Defence Centre" in second.args["text"]
    assert [r.thread for r in seen] == [mention["ts"], mention["ts"]]


async def test_a_thread_the_bot_is_in_is_recognised_after_a_restart(slack: SlackHarness) -> None:
    # Nothing in memory: Slack's conversations.replies shows the bot's earlier answer.
    slack.emulator.thread_messages[(PRIVATE, "1680000000.000001")] = [
        {"type": "message", "user": MEMBER, "text": "anyone know who kishida is?"},
        {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "text": "Fumio Kishida was …"},
    ]
    reply = slack.thread_reply_event(
        "what is the ccdcoe?",
        user=MEMBER,
        thread_ts="1680000000.000001",
        channel=PRIVATE,
        channel_type="group",
    )
    await slack.event(reply)
    [post] = await slack.emulator.wait_for("chat.postMessage")
    assert post.args["channel"] == PRIVATE and post.args["thread_ts"] == "1680000000.000001"


async def test_other_channel_messages_are_left_alone(slack: SlackHarness) -> None:
    seen = recording(slack)
    slack.emulator.thread_messages[(CHANNEL, "1680000000.000009")] = [
        {"type": "message", "user": MEMBER, "text": "lunch?"},
    ]
    not_ours = slack.thread_reply_event("who is kishida?", user=MEMBER, thread_ts="1680000000.000009")
    top_level = slack.thread_reply_event("who is kishida?", user=MEMBER, thread_ts="x") | {"thread_ts": None}
    for event in (not_ours, top_level, not_ours | {"ts": "1680000000.000010"}):
        assert (await slack.event(event)).status == 200
    await slack.app.wait_idle()
    assert seen == []
    assert slack.emulator.calls_to("chat.postMessage") == []
    # One lookup for the thread, remembered: the second reply in it costs none.
    assert len(slack.emulator.calls_to("conversations.replies")) == 1


async def test_bots_edits_and_the_bots_own_replies_in_its_thread_are_ignored(slack: SlackHarness) -> None:
    mention = slack.mention_event("who is fumio kishida?", user=MEMBER)
    await slack.event(mention)
    await slack.emulator.wait_for("chat.postMessage")
    reply = slack.thread_reply_event("what is the ccdcoe?", user=MEMBER, thread_ts=mention["ts"])
    for event in (
        reply | {"subtype": "message_changed"},
        reply | {"bot_id": "B0OTHER", "user": "U0OTHERBOT"},
        reply | {"user": BOT_USER, "bot_id": BOT_ID},
        reply | {"text": f"<@{BOT_USER}> what is the ccdcoe?"},  # answered as the mention
    ):
        assert (await slack.event(event)).status == 200
    await slack.app.wait_idle()
    assert len(slack.emulator.calls_to("chat.postMessage")) == 1


async def test_a_direct_message_carries_its_channel_as_the_thread(slack: SlackHarness) -> None:
    seen = recording(slack)
    await slack.event(slack.dm_event("what does ccdcoe stand for?", user=MEMBER))
    await slack.emulator.wait_for("chat.postMessage")
    assert [r.thread for r in seen] == [DM]


async def test_a_slash_command_stands_alone(slack: SlackHarness) -> None:
    seen = recording(slack)
    url = await slack.command("who is kishida")
    await slack.emulator.wait_for("response_url", lambda c: c.args["url"] == url)
    assert [r.thread for r in seen] == [None]
