"""Mentions, direct messages, duplicate deliveries, rate limits and App Home."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.messages import Reply, Request
from tests.adapters.slack.emulator import BOT_ID, BOT_USER, TEAM
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


# -- App Home: suggested questions and "Ask a question" (#13) ------------------------------


def home_buttons(publish: Any) -> list[dict[str, Any]]:
    view = publish.args["view"]
    blocks = (json.loads(view) if isinstance(view, str) else view)["blocks"]
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def ask_submission(value: object) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "emulated"},
        "user": {"id": MEMBER, "team_id": TEAM},
        "api_app_id": "A0BRIEFBOT",
        "token": "deprecated-verification-token",
        "trigger_id": "trigger.submit",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "briefbot_ask",
            "state": {"values": {"question": {"question": {"type": "plain_text_input", "value": value}}}},
        },
    }


async def test_app_home_offers_questions_that_are_answered_in_direct_messages(slack: SlackHarness) -> None:
    await slack.event({"type": "app_home_opened", "user": MEMBER, "channel": "D0HOME", "tab": "home"})
    [publish] = await slack.emulator.wait_for("views.publish")
    [ask, first, *_] = home_buttons(publish)
    assert ask["action_id"] == "briefbot_open_ask"
    assert first["action_id"] == "briefbot_home_ask_0"
    await slack.click(first, user=MEMBER, message=None)
    [post] = await slack.emulator.wait_for("chat.postMessage")
    assert post.args["channel"] == MEMBER  # Slack delivers a post to a user id to their DM
    assert "Stoltenberg" in post.args["text"]


async def test_ask_a_question_opens_a_modal_whose_question_is_answered_in_direct_messages(
    slack: SlackHarness,
) -> None:
    await slack.event({"type": "app_home_opened", "user": MEMBER, "channel": "D0HOME", "tab": "home"})
    [publish] = await slack.emulator.wait_for("views.publish")
    await slack.click(home_buttons(publish)[0], user=MEMBER, message=None)
    [opened] = await slack.emulator.wait_for("views.open")
    view = opened.args["view"]
    assert (json.loads(view) if isinstance(view, str) else view)["callback_id"] == "briefbot_ask"
    ack = await slack._deliver("interactive", ask_submission("what does ccdcoe stand for?"))
    assert ack.status == 200
    [post] = await slack.emulator.wait_for("chat.postMessage")
    assert post.args["channel"] == MEMBER
    assert "Cooperative Cyber Defence Centre of Excellence" in post.args["text"]


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        "   \u200b ",
        "x" * 50_000,
        "who is kishida\n\x1b[31m\u202e\r",
        "<!channel> who is <@U0ADMIN>?",
    ],
    ids=["empty", "missing", "invisible", "50kB", "control", "mentions"],
)
async def test_the_ask_modal_question_is_hostile_input(slack: SlackHarness, value: str | None) -> None:
    ack = await slack._deliver("interactive", ask_submission(value))
    assert ack.status == 200
    await slack.app.wait_idle()
    posts = slack.emulator.calls_to("chat.postMessage")
    if value is None or not value.strip(" \u200b"):
        assert "Type a question first." in ack.body
        assert posts == []
        return
    [post] = posts
    assert len(post.args["text"]) <= 3000
    assert "\x1b" not in post.text() and "\u202e" not in post.text()
    # The harness checks that nothing sent pings anyone (<!channel> comes back escaped).
