"""Suggestion and feedback buttons: clicks answer the entry or land in the SQLite store."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.cli import main
from adapters.slack.app import REASON_NOT_KEPT, REASON_PENDING
from bot.dispatch import NO_VOTE_FOR_REASON, NOT_A_REASON
from bot.votes import ALREADY_GAVE_REASON
from tests.adapters.slack.emulator import Call, block_actions
from tests.adapters.slack.harness import ADMIN, CHANNEL, DM, MEMBER, Ack, SlackHarness


@pytest.fixture(params=["http", "socket"])
async def slack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackHarness.running(request.param, tmp_path / "briefbot.sqlite3") as harness:
        yield harness


async def response(slack: SlackHarness, url: str) -> Call:
    [call] = await slack.emulator.wait_for("response_url", lambda c: c.args["url"] == url)
    return call


def as_message(slack: SlackHarness, call: Call, thread_ts: str | None = None) -> dict[str, Any]:
    """The message Slack shows for a recorded post, as a click payload carries it."""
    message = {
        "type": "message",
        "ts": slack.next_ts(),
        "text": call.args["text"],
        "blocks": call.args["blocks"],
    }
    if thread_ts:
        message["thread_ts"] = thread_ts
    return message


async def test_suggestion_button_answers_that_entry_in_a_thread_under_the_answer(slack: SlackHarness) -> None:
    answer = await response(slack, await slack.command("when did japan join the nato cyber centre?"))
    message = as_message(slack, answer)
    button = answer.button("briefbot_suggest_0")
    assert button["text"]["text"] == "NATO and Japan sign their first partnership programme"

    followup = await response(slack, await slack.click(button, user=ADMIN, message=message))
    assert followup.args["response_type"] == "in_channel"
    assert followup.args["replace_original"] is False
    assert followup.args["thread_ts"] == message["ts"]
    assert "In May 2014 NATO and Japan signed an Individual Partnership" in followup.args["text"]
    assert f"<@{ADMIN}> asked: NATO and Japan sign their first partnership programme" in followup.text()


async def test_suggestion_under_a_threaded_answer_stays_in_that_thread(slack: SlackHarness) -> None:
    question = slack.mention_event("when did stoltenberg visit tokyo", user=MEMBER)
    await slack.event(question)
    [post] = await slack.emulator.wait_for("chat.postMessage")
    message = as_message(slack, post, thread_ts=question["ts"])
    followup = await response(
        slack, await slack.click(post.button("briefbot_suggest"), user=MEMBER, message=message)
    )
    assert followup.args["thread_ts"] == question["ts"]


async def test_suggestion_in_a_direct_message_is_answered_there_without_a_thread(slack: SlackHarness) -> None:
    await slack.event(slack.dm_event("who is kishida", user=MEMBER))
    [post] = await slack.emulator.wait_for("chat.postMessage")
    click = await slack.click(
        post.button("briefbot_suggest"), user=MEMBER, channel=DM, message=as_message(slack, post)
    )
    followup = await response(slack, click)
    assert followup.args.get("thread_ts") is None
    assert "first Japanese prime minister to attend a NATO summit" in followup.args["text"]


async def test_suggestion_on_a_message_only_the_clicker_sees_answers_only_them(slack: SlackHarness) -> None:
    not_found = await response(slack, await slack.command("who Fumio Tanaka"))
    assert not_found.args["response_type"] == "ephemeral"
    button = not_found.button("briefbot_suggest")
    followup = await response(slack, await slack.click(button, user=MEMBER, message=None))
    assert followup.args["response_type"] == "ephemeral"
    assert "Fumio Kishida was Japan's Prime Minister" in followup.args["text"]


async def test_suggestion_for_an_entry_gone_from_the_notes_says_so_privately(slack: SlackHarness) -> None:
    answer = await response(slack, await slack.command("who is kishida"))
    stale = answer.button("briefbot_suggest") | {"value": "entry-removed-since"}
    followup = await response(slack, await slack.click(stale, user=MEMBER, message=as_message(slack, answer)))
    assert followup.args["response_type"] == "ephemeral"
    assert followup.args["text"] == "That item is no longer in my notes."


async def test_feedback_buttons_are_recorded_in_the_store(slack: SlackHarness) -> None:
    answer = await response(slack, await slack.command("when did japan join the nato cyber centre?"))
    message = as_message(slack, answer)

    thanks = await response(slack, await slack.click(answer.feedback(True), user=MEMBER, message=message))
    assert thanks.args["response_type"] == "ephemeral"
    assert thanks.args["text"] == "Thanks — your 👍 was recorded."
    noted = await response(slack, await slack.click(answer.feedback(False), user=ADMIN, message=message))
    assert noted.args["text"] == "Thanks — your 👎 was recorded."

    not_helpful, helpful = slack.store.feedback()  # newest first
    assert (helpful.helpful, not_helpful.helpful) == (True, False)
    for record in (helpful, not_helpful):
        assert (record.platform, record.workspace, record.channel) == ("slack", "T0EMULATED", CHANNEL)
        assert record.question == "when did japan join the nato cyber centre?"
        assert record.entry_ids == ("ccdcoe-joined-2022",)
    assert helpful.user_hash != not_helpful.user_hash
    assert MEMBER not in helpful.user_hash


async def test_feedback_on_a_direct_message_answer_is_recorded(slack: SlackHarness) -> None:
    await slack.event(slack.dm_event("what does ccdcoe stand for", user=MEMBER))
    [post] = await slack.emulator.wait_for("chat.postMessage")
    click = await slack.click(post.feedback(True), user=MEMBER, channel=DM, message=as_message(slack, post))
    await response(slack, click)
    [record] = slack.store.feedback()
    assert (record.channel, record.question, record.entry_ids) == (
        DM,
        "what does ccdcoe stand for",
        ("term-ccdcoe",),
    )


# -- one vote each, and the 👎 reasons (#13) ---------------------------------------------


async def test_one_vote_per_user_per_answer(slack: SlackHarness) -> None:
    answer = await response(slack, await slack.command("when did japan join the nato cyber centre?"))
    message = as_message(slack, answer)
    first = await response(slack, await slack.click(answer.feedback(True), user=MEMBER, message=message))
    assert first.args["text"] == "Thanks — your 👍 was recorded."
    for helpful in (True, False):
        again = await response(
            slack, await slack.click(answer.feedback(helpful), user=MEMBER, message=message)
        )
        assert again.args["response_type"] == "ephemeral"
        assert again.args["text"] == "You already voted on this answer."
    # Someone other than the asker may vote too, once.
    await response(slack, await slack.click(answer.feedback(False), user=ADMIN, message=message))
    assert [f.helpful for f in slack.store.feedback()] == [False, True]
    # Another answer is another vote.
    other = await response(slack, await slack.command("who is kishida"))
    await response(
        slack,
        await slack.click(other.feedback(True), user=MEMBER, message=as_message(slack, other)),
    )
    assert len(slack.store.feedback()) == 3


async def test_not_helpful_opens_the_reasons_modal(slack: SlackHarness) -> None:
    answer = await response(slack, await slack.command("when did japan join the nato cyber centre?"))
    await response(
        slack,
        await slack.click(answer.feedback(False), user=MEMBER, message=as_message(slack, answer)),
    )
    [opened] = slack.emulator.calls_to("views.open")
    assert opened.args["trigger_id"].startswith(f"trigger.{MEMBER}.")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "briefbot_not_helpful_reason"
    options = view["blocks"][0]["element"]["options"]
    assert [o["value"] for o in options] == ["wrong", "outdated", "not_asked", "other"]


def submission(
    reason: object,
    note: object,
    metadata: str = '{"q": "q", "e": ["term-ccdcoe"], "c": "C0GENERAL"}',
    *,
    user: str = MEMBER,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "reason": {"reason": {"type": "radio_buttons", "selected_option": {"value": reason}}},
        "note": {"note": {"type": "plain_text_input", "value": note}},
    }
    return {
        "type": "view_submission",
        "team": {"id": "T0EMULATED", "domain": "emulated"},
        "user": {"id": user, "team_id": "T0EMULATED"},
        "api_app_id": "A0BRIEFBOT",
        "token": "deprecated-verification-token",
        "trigger_id": "trigger.submit",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "briefbot_not_helpful_reason",
            "private_metadata": metadata,
            "state": {"values": values},
        },
    }


async def vote_down(slack: SlackHarness, *, user: str) -> str:
    """An answer voted 👎 by ``user``; the private_metadata of the reasons modal it opened."""
    answer = await response(slack, await slack.command("when did japan join the nato cyber centre?"))
    await response(
        slack, await slack.click(answer.feedback(False), user=user, message=as_message(slack, answer))
    )
    [opened] = [
        c
        for c in slack.emulator.calls_to("views.open")
        if c.args["trigger_id"].startswith(f"trigger.{user}.")
    ]
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    return str(view["private_metadata"])


HOSTILE_NOTES = [
    "",
    None,
    "x" * 50_000,
    "line one\nERROR forged line\r\x1b[31m\u202e",
    "<!channel> <@U0ADMIN> &lt;!here&gt;",
]


@pytest.mark.parametrize("note", HOSTILE_NOTES, ids=["empty", "missing", "50kB", "control", "mentions"])
async def test_a_reason_note_is_hostile_input(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture, note: str | None
) -> None:
    metadata = await vote_down(slack, user=MEMBER)
    slack.emulator.calls.clear()
    caplog.set_level(logging.INFO)
    ack = await slack._deliver("interactive", submission("outdated", note, metadata))
    assert ack.status == 200
    await slack.app.wait_idle()
    [record] = slack.store.feedback()
    assert record.reason == "outdated"
    assert len(record.note) <= 300 and record.note.isprintable()
    if note:
        assert record.note[:8] == note[:8]  # what the curator reads is what was typed, cleaned
    [logged] = [r for r in caplog.records if getattr(r, "event", None) == "feedback_reason"]
    assert logged.reason == "outdated"  # type: ignore[attr-defined]
    assert logged.kept is True  # type: ignore[attr-defined]
    # The note is the curators' (in the store), never the log's: it may hold anything.
    assert not hasattr(logged, "note") and not hasattr(logged, "question")
    if note:
        assert not any(note[:20] in r.getMessage() or note[:20] in str(r.__dict__) for r in caplog.records)
    # Nothing of it goes back to Slack (where a mention would ping).
    sent = {"chat.postMessage", "chat.postEphemeral", "response_url", "views.open", "views.update"}
    assert [c for c in slack.emulator.calls if c.method in sent] == []


async def test_a_reason_is_kept_on_the_submitters_own_vote_only(slack: SlackHarness) -> None:
    # ADMIN voted 👎, MEMBER voted 👍; MEMBER submits ADMIN's modal (a forged submission).
    metadata = await vote_down(slack, user=ADMIN)
    answer = await response(slack, await slack.command("when did japan join the nato cyber centre?"))
    await response(
        slack, await slack.click(answer.feedback(True), user=MEMBER, message=as_message(slack, answer))
    )
    await slack._deliver("interactive", submission("wrong", "not mine to say", metadata, user=MEMBER))
    await slack.app.wait_idle()
    assert [(f.helpful, f.reason) for f in slack.store.feedback()] == [(True, None), (False, None)]
    # ADMIN's own submission is kept on ADMIN's vote.
    await slack._deliver("interactive", submission("wrong", "it was 2022", metadata, user=ADMIN))
    await slack.app.wait_idle()
    assert [(f.helpful, f.reason, f.note) for f in slack.store.feedback()] == [
        (True, None, ""),
        (False, "wrong", "it was 2022"),
    ]


@pytest.mark.parametrize("reason", ["", "dropped-table", None, 7])
async def test_a_forged_reason_is_ignored(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture, reason: object
) -> None:
    metadata = await vote_down(slack, user=MEMBER)
    caplog.set_level(logging.INFO)
    ack = await slack._deliver("interactive", submission(reason, "hi", metadata))
    assert ack.status == 200
    ack = await slack._deliver("interactive", submission("wrong", "hi", metadata="not json"))
    assert ack.status == 200
    await slack.app.wait_idle()
    reasons = [r for r in caplog.records if getattr(r, "event", None) == "feedback_reason"]
    assert not [r for r in reasons if getattr(r, "kept", None)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [f.reason for f in slack.store.feedback()] == [None]


def modal_says(ack: Ack) -> str:
    """The one line a sent reasons modal turned into (``response_action: "update"``)."""
    assert ack.status == 200, ack
    assert isinstance(ack.payload, dict), ack
    assert ack.payload["response_action"] == "update"
    view = ack.payload["view"]
    # What Slack accepts as a modal: a title of at most 24 characters; no form left to send.
    assert view["type"] == "modal" and len(view["title"]["text"]) <= 24 and "submit" not in view
    [block] = view["blocks"]
    return str(block["text"]["text"])


async def test_a_sent_reason_turns_the_modal_into_a_thank_you(slack: SlackHarness) -> None:
    metadata = await vote_down(slack, user=MEMBER)
    ack = await slack._deliver("interactive", submission("not_asked", "<!channel> it was 2022", metadata))
    assert modal_says(ack) == "Thanks — noted: not what I asked."
    assert "2022" not in json.dumps(ack.payload)  # the note is never shown back
    # The same modal sent again (a replay): refused in words, the first reason stands.
    again = await slack._deliver("interactive", submission("wrong", "second thoughts", metadata))
    assert modal_says(again) == ALREADY_GAVE_REASON
    await slack.app.wait_idle()
    [record] = slack.store.feedback()
    assert (record.reason, record.note) == ("not_asked", "<!channel> it was 2022")


async def test_a_reason_the_store_is_slow_to_keep_is_said_to_be_saving_and_then_kept(
    slack: SlackHarness,
) -> None:
    # Another connection holds the database for longer than Slack's modal may wait (the
    # answer must leave within three seconds): the voter is told the reason is being
    # saved, and it is kept once the database is free.
    metadata = await vote_down(slack, user=MEMBER)
    holder = sqlite3.connect(slack.store.path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        ack = await slack._deliver("interactive", submission("outdated", "it changed", metadata))
        assert modal_says(ack) == REASON_PENDING
    finally:
        holder.execute("COMMIT")
        holder.close()
    await slack.app.wait_idle()
    [record] = slack.store.feedback()
    assert (record.reason, record.note) == ("outdated", "it changed")


async def test_a_reason_the_store_fails_to_keep_is_said_so_and_logged(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # The store fails at once (its table gone, as after a botched migration): the voter is
    # told it was not saved, the failure is logged without the note, and nothing is lost.
    metadata = await vote_down(slack, user=MEMBER)
    with sqlite3.connect(slack.store.path, isolation_level=None) as db:
        db.execute("ALTER TABLE feedback RENAME TO feedback_away")
    try:
        ack = await slack._deliver("interactive", submission("wrong", "secret note", metadata))
        assert modal_says(ack) == REASON_NOT_KEPT
    finally:
        with sqlite3.connect(slack.store.path, isolation_level=None) as db:
            db.execute("ALTER TABLE feedback_away RENAME TO feedback")
    await slack.app.wait_idle()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR]
    logged = [f"{r.getMessage()} {r.__dict__}" for r in caplog.records]
    assert not any("secret note" in line for line in logged)
    assert [(f.helpful, f.reason) for f in slack.store.feedback()] == [(False, None)]  # the vote stands


async def test_a_reason_for_a_vote_that_is_not_the_senders_says_it_was_not_kept(slack: SlackHarness) -> None:
    metadata = await vote_down(slack, user=ADMIN)
    ack = await slack._deliver("interactive", submission("wrong", "not mine", metadata, user=MEMBER))
    assert modal_says(ack) == NO_VOTE_FOR_REASON
    forged = await slack._deliver("interactive", submission("dropped-table", "", metadata, user=ADMIN))
    assert modal_says(forged) == NOT_A_REASON
    await slack.app.wait_idle()
    assert [f.reason for f in slack.store.feedback()] == [None]


async def test_the_ordinary_feedback_buttons_of_earlier_answers_still_count(slack: SlackHarness) -> None:
    value = '{"q":"what is the ccdcoe","e":["term-ccdcoe"]}'
    button = {"type": "button", "action_id": "briefbot_helpful", "text": {"type": "plain_text", "text": "👍"}}
    thanks = await response(slack, await slack.click(button | {"value": value}, user=MEMBER, message=None))
    assert thanks.args["text"] == "Thanks — your 👍 was recorded."
    [record] = slack.store.feedback()
    assert (record.helpful, record.entry_ids) == (True, ("term-ccdcoe",))


# -- the voter is told, in words, whether the vote counted (#13) -----------------------------


async def test_a_vote_by_someone_other_than_the_asker_is_confirmed_to_them_alone(
    slack: SlackHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    question = slack.mention_event("when did japan join the nato cyber centre?", user=MEMBER)
    await slack.event(question)
    [post] = await slack.emulator.wait_for("chat.postMessage")
    message = as_message(slack, post, thread_ts=question["ts"])

    # ADMIN did not ask; their 👍 counts and only they are told.
    thanks = await response(slack, await slack.click(post.feedback(True), user=ADMIN, message=message))
    assert thanks.args["response_type"] == "ephemeral" and thanks.args["replace_original"] is False
    assert thanks.args["text"] == "Thanks — your 👍 was recorded."
    # Clicking 👍 again clears Slack's toggle, 👎 switches it: the first vote stands, and
    # ADMIN is told so in words (no reasons form for a vote that did not count).
    for helpful in (True, False):
        again = await response(slack, await slack.click(post.feedback(helpful), user=ADMIN, message=message))
        assert again.args["response_type"] == "ephemeral"
        assert again.args["text"] == "You already voted on this answer."
    assert slack.emulator.calls_to("views.open") == []

    # The asker's own 👎: thanked, and the form asks why; a hostile note is kept cleaned.
    noted = await response(slack, await slack.click(post.feedback(False), user=MEMBER, message=message))
    assert noted.args["response_type"] == "ephemeral"
    assert noted.args["text"] == "Thanks — your 👎 was recorded."
    [opened] = slack.emulator.calls_to("views.open")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    hostile = "<!channel> @everyone it was 2022\x1b[2J\u202e" + "!" * 5_000
    await slack._deliver("interactive", submission("wrong", hostile, str(view["private_metadata"])))
    await slack.app.wait_idle()

    down, up = slack.store.feedback()
    assert (up.helpful, up.reason) == (True, None)
    assert (down.helpful, down.reason) == (False, "wrong")
    assert down.note.startswith("<!channel> @everyone it was 2022") and len(down.note) <= 300
    assert down.note.isprintable()
    # Nothing typed went back to Slack; the curators' queue shows it defused.
    assert not [c for c in slack.emulator.calls if "everyone it was" in json.dumps(c.args)]
    assert main(["curate", "--db", str(slack.store.path), "--json"]) == 0
    [item] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert item["reasons"] == {"wrong": 1}
    [note] = item["notes"]
    assert note.startswith("‹!channel› ＠everyone it was 2022") and "<!" not in note


def saying(text: str) -> Callable[[Call], bool]:
    return lambda call: call.args.get("text") == text


async def test_a_vote_without_a_response_url_is_confirmed_by_an_ephemeral_message(
    slack: SlackHarness,
) -> None:
    await slack.event(slack.mention_event("who is kishida", user=MEMBER))
    [post] = await slack.emulator.wait_for("chat.postMessage")
    message = as_message(slack, post)
    for expected in ("Thanks — your 👍 was recorded.", "You already voted on this answer."):
        payload = block_actions(
            post.feedback(True), user=ADMIN, channel=CHANNEL, response_url="", message=message
        )
        del payload["response_url"]
        assert (await slack._deliver("interactive", payload)).status == 200
        [told] = await slack.emulator.wait_for("chat.postEphemeral", saying(expected))
        assert told.args["user"] == ADMIN and told.args["channel"] == CHANNEL
    assert [f.helpful for f in slack.store.feedback()] == [True]
