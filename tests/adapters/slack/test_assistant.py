"""The assistant pane (#13) through bolt's AsyncAssistant: prompts, status, title, and
follow-ups in the pane's thread; and nothing lost where the pane is not available."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.messages import Reply, Request
from tests.adapters.slack.emulator import TEAM
from tests.adapters.slack.harness import DM, MEMBER, SlackHarness

THREAD = "1680000000.000100"


@pytest.fixture(params=["http", "socket"])
async def slack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackHarness.running(request.param, tmp_path / "briefbot.sqlite3") as harness:
        yield harness


def pane_message(slack: SlackHarness, text: str) -> dict[str, Any]:
    event = slack.dm_event(text, user=MEMBER) | {"thread_ts": THREAD}
    del event["team"]  # as Slack sends them: the workspace is in the envelope only
    return event


async def test_a_new_thread_gets_suggested_prompts(slack: SlackHarness) -> None:
    started = {
        "type": "assistant_thread_started",
        "assistant_thread": {"user_id": MEMBER, "context": {}, "channel_id": DM, "thread_ts": THREAD},
        "event_ts": "1680000000.000101",
    }
    assert (await slack.event(started)).status == 200
    [prompts] = await slack.emulator.wait_for("assistant.threads.setSuggestedPrompts")
    assert (prompts.args["channel_id"], prompts.args["thread_ts"]) == (DM, THREAD)
    assert prompts.args["title"] == "Try asking"
    assert 1 <= len(prompts.args["prompts"]) <= 3


async def test_a_message_in_the_pane_gets_a_title_a_status_and_an_answer_in_its_thread(
    slack: SlackHarness,
) -> None:
    seen: list[Request] = []
    dispatch = slack.app.bot.dispatch

    def record(request: Request) -> Reply:
        seen.append(request)
        return dispatch(request)

    slack.app.bot.dispatch = record  # type: ignore[method-assign]
    await slack.event(pane_message(slack, "what does ccdcoe stand for?"))
    [post] = await slack.emulator.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == THREAD and post.args["channel"] == DM
    assert "Cooperative Cyber Defence Centre of Excellence" in post.args["text"]
    [title] = slack.emulator.calls_to("assistant.threads.setTitle")
    assert title.args["title"] == "what does ccdcoe stand for?"
    [status] = slack.emulator.calls_to("assistant.threads.setStatus")
    assert status.args["status"] == "is looking through the briefing notes…"
    order = [c.method for c in slack.emulator.calls]
    assert order.index("assistant.threads.setStatus") < order.index("chat.postMessage")
    # The next message is a follow-up in the same thread; the title stays.
    await slack.event(pane_message(slack, "who is kishida?"))
    await slack.emulator.wait_for("chat.postMessage", count=2)
    assert len(slack.emulator.calls_to("assistant.threads.setTitle")) == 1
    assert [r.thread for r in seen] == [THREAD, THREAD]
    assert all(r.workspace == TEAM for r in seen)


async def test_without_the_pane_the_message_is_still_answered(slack: SlackHarness) -> None:
    # A free workspace: the pane's methods are refused; a threaded DM is answered anyway.
    slack.emulator.fail_next("assistant.threads.setTitle", error="not_allowed")
    slack.emulator.fail_next("assistant.threads.setStatus", error="not_allowed")
    await slack.event(pane_message(slack, "what does ccdcoe stand for?"))
    [post] = await slack.emulator.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == THREAD
