"""The workspace's allow-list through the real bolt app (#13): a slash question outside it
gets one polite private line (tests/adapters/slack/test_settings.py), a plain message
(a thread follow-up, an auto-answer) nothing; direct messages, App Home and the settings
command are never held back by it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.slack.emulator import TEAM
from tests.adapters.slack.harness import ADMIN, MEMBER, SlackHarness
from tests.adapters.slack.test_messages import ask_submission

QUESTION = "when did japan join the nato cyber centre?"
ANSWERED = "formally joined the NATO Cooperative Cyber Defence Centre"


@pytest.fixture(params=["http", "socket"])
async def slack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackHarness.running(request.param, tmp_path / "briefbot.sqlite3") as harness:
        yield harness


async def only_briefings(slack: SlackHarness) -> None:
    url = await slack.command("settings allow <#C0BRIEFINGS|briefings>", user=ADMIN)
    await slack.emulator.wait_for("response_url", lambda c: c.args["url"] == url)


async def test_a_thread_follow_up_outside_the_list_gets_nothing(slack: SlackHarness) -> None:
    mention = slack.mention_event(QUESTION, user=MEMBER)
    await slack.event(mention)
    [answer] = await slack.emulator.wait_for("chat.postMessage")  # answered before the list
    await only_briefings(slack)
    await slack.event(slack.thread_reply_event("and when was that?", user=MEMBER, thread_ts=mention["ts"]))
    dm = slack.dm_event(QUESTION, user=MEMBER)
    await slack.event(dm)  # taken up after the follow-up, on the one core thread
    posts = await slack.emulator.wait_for("chat.postMessage", count=2)
    assert posts[1].args["channel"] == dm["channel"] and ANSWERED in posts[1].args["text"]
    assert slack.emulator.calls_to("chat.postEphemeral") == []
    assert answer.args["thread_ts"] == mention["ts"]


async def test_app_home_questions_are_direct_messages_and_still_answered(slack: SlackHarness) -> None:
    await only_briefings(slack)
    ack = await slack._deliver("interactive", ask_submission(QUESTION))
    assert ack.status == 200
    [post] = await slack.emulator.wait_for("chat.postMessage")
    assert post.args["channel"] == MEMBER and ANSWERED in post.args["text"]
    assert slack.store.answer_channels("slack", TEAM).channels  # the list is still there
