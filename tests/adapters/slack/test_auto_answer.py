"""Auto-answer through the real bolt app (#13): where a manager turned it on, a question
posted without a mention gets a confident answer in a thread under it; anything else,
and every channel without it, gets silence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.slack.emulator import Call
from tests.adapters.slack.harness import ADMIN, BRIEFINGS, CHANNEL, MEMBER, SlackHarness

QUESTION = "when did japan join the nato cyber centre?"
ANSWERED = "formally joined the NATO Cooperative Cyber Defence Centre"


@pytest.fixture(params=["http", "socket"])
async def slack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackHarness.running(request.param, tmp_path / "briefbot.sqlite3") as harness:
        yield harness


def posted(slack: SlackHarness, text: str, *, channel: str = CHANNEL, user: str = MEMBER) -> dict[str, Any]:
    """A top-level channel message, as message.channels delivers it."""
    ts = slack.next_ts()
    return {
        "type": "message",
        "channel": channel,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "team": "T0EMULATED",
    }


async def manager_sets(slack: SlackHarness, text: str, channel: str = CHANNEL) -> Call:
    url = await slack.command(text, user=ADMIN, channel=channel)
    [call] = await slack.emulator.wait_for("response_url", lambda c: c.args["url"] == url)
    return call


async def answers_in(slack: SlackHarness, thread_ts: str, count: int = 1) -> list[Call]:
    return await slack.emulator.wait_for(
        "chat.postMessage", lambda c: c.args.get("thread_ts") == thread_ts, count=count
    )


async def test_a_confident_answer_goes_in_a_thread_and_everything_else_is_silent(slack: SlackHarness) -> None:
    saved = await manager_sets(slack, "settings auto-answer on")
    assert "`auto-answer` on" in saved.text()
    quiet = [
        posted(slack, "what is the weather on mars?"),  # a decline
        posted(slack, "thanks?"),  # a pleasantry
        posted(slack, "lunch at noon, anyone"),  # not a question
        posted(slack, "help?"),  # a notice
        posted(slack, QUESTION, channel=BRIEFINGS),  # a channel without auto-answer
    ]
    for event in quiet:
        await slack.event(event)
    asked = posted(slack, QUESTION)
    await slack.event(asked)
    [answer] = await answers_in(slack, asked["ts"])
    assert answer.args["channel"] == CHANNEL and ANSWERED in answer.args["text"]
    # Taken up in order on the one core thread: by now the others were passed over.
    assert [c.args["thread_ts"] for c in slack.emulator.calls_to("chat.postMessage")] == [asked["ts"]]
    assert slack.emulator.calls_to("chat.postEphemeral") == []
    # Chatter the notes could not answer is nobody's question: not on the curators' queue.
    assert slack.store.unanswered() == ()


async def test_the_thread_an_auto_answer_starts_takes_follow_ups(slack: SlackHarness) -> None:
    await manager_sets(slack, "settings auto-answer on")
    asked = posted(slack, "stoltenbergs visit to tokio?")
    await slack.event(asked)
    await answers_in(slack, asked["ts"])
    await slack.event(slack.thread_reply_event("and when was that?", user=MEMBER, thread_ts=asked["ts"]))
    _, follow_up = await answers_in(slack, asked["ts"], count=2)
    assert "2023" in follow_up.args["text"]


async def test_off_by_default_and_off_again(slack: SlackHarness) -> None:
    first = posted(slack, QUESTION)
    await slack.event(first)
    await manager_sets(slack, "settings auto-answer on")
    second = posted(slack, QUESTION)
    await slack.event(second)
    await answers_in(slack, second["ts"])
    await manager_sets(slack, "settings auto-answer off")
    third = posted(slack, QUESTION)
    await slack.event(third)
    await manager_sets(slack, "settings")  # a request behind it on the core thread
    threads = [c.args["thread_ts"] for c in slack.emulator.calls_to("chat.postMessage")]
    assert threads == [second["ts"]]


async def test_a_channel_off_the_allow_list_is_not_auto_answered(slack: SlackHarness) -> None:
    await manager_sets(slack, "settings auto-answer on allow <#C0BRIEFINGS|briefings>")
    ignored = posted(slack, QUESTION)
    await slack.event(ignored)
    await manager_sets(slack, "settings auto-answer on", channel=BRIEFINGS)
    there = posted(slack, QUESTION, channel=BRIEFINGS)
    await slack.event(there)
    await answers_in(slack, there["ts"])
    assert [c.args["thread_ts"] for c in slack.emulator.calls_to("chat.postMessage")] == [there["ts"]]
    assert slack.emulator.calls_to("chat.postEphemeral") == []


async def test_auto_answer_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "briefbot.sqlite3"
    async with SlackHarness.running("http", db) as first:
        await manager_sets(first, "settings auto-answer on")
    async with SlackHarness.running("http", db) as again:
        asked = posted(again, QUESTION)
        await again.event(asked)
        [answer] = await answers_in(again, asked["ts"])
        assert ANSWERED in answer.args["text"]
