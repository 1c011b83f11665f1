"""The workspace's allow-list through the real bolt app (#13): a slash question outside it
gets one polite private line (tests/adapters/slack/test_settings.py), and so does a
suggestion button clicked there; a plain message
(a thread follow-up, an auto-answer) nothing; direct messages, App Home and the settings
command are never held back by it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.slack.emulator import TEAM
from tests.adapters.slack.harness import ADMIN, BRIEFINGS, CHANNEL, MEMBER, SlackHarness
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


ELSEWHERE = "I don't answer in this channel. Ask me in #briefings, or in a direct message."


async def test_a_suggestion_clicked_outside_the_list_gets_the_one_private_line(slack: SlackHarness) -> None:
    # "Closest: …" and related-entry buttons ask a question: held to the list as /nato is.
    url = await slack.command(QUESTION, user=MEMBER)
    [answer] = await slack.emulator.wait_for("response_url", lambda c: c.args["url"] == url)
    button = answer.button("briefbot_suggest_0")
    message = {"type": "message", "ts": slack.next_ts(), "text": answer.args["text"]}
    await only_briefings(slack)

    url = await slack.click(button, user=MEMBER, channel=CHANNEL, message=message)
    [refused] = await slack.emulator.wait_for("response_url", lambda c: c.args["url"] == url)
    assert refused.args["response_type"] == "ephemeral" and refused.args["text"] == ELSEWHERE
    assert "blocks" not in refused.args or "Individual Partnership" not in str(refused.args["blocks"])

    # The same button in a channel on the list is answered.
    url = await slack.click(button, user=MEMBER, channel=BRIEFINGS, message=message)
    [answered] = await slack.emulator.wait_for("response_url", lambda c: c.args["url"] == url)
    assert "In May 2014 NATO and Japan signed an Individual Partnership" in answered.args["text"]
