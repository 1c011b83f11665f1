"""/nato through the real bolt app, over signed HTTP and over Socket Mode."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.messages import Reply, Request
from tests.adapters.slack.emulator import Call
from tests.adapters.slack.harness import ADMIN, ALLOWED, CHANNEL, DM, HIDDEN, MEMBER, PRIVATE, SlackHarness


@pytest.fixture(params=["http", "socket"])
async def slack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackHarness.running(request.param, tmp_path / "briefbot.sqlite3") as harness:
        yield harness


async def answer_to(slack: SlackHarness, response_url: str) -> Call:
    [call] = await slack.emulator.wait_for("response_url", lambda c: c.args["url"] == response_url)
    return call


def block_types(call: Call) -> list[str]:
    return [b["type"] for b in call.args["blocks"]]


async def test_question_is_answered_privately_with_source_and_buttons(slack: SlackHarness) -> None:
    url = await slack.command("when did japan join the nato cyber centre?")
    answer = await answer_to(slack, url)
    assert answer.args["response_type"] == "ephemeral"
    assert answer.args["replace_original"] is False
    assert "formally joined the NATO Cooperative Cyber Defence Centre" in answer.args["text"]
    assert block_types(answer) == ["header", "section", "context", "actions", "context_actions", "actions"]
    header, _, source, suggestions, feedback, share = answer.args["blocks"]
    assert header["text"]["text"] == "Japan joins NATO's cyber defence centre in Estonia"
    assert "¶12 · as of July 2023" in source["elements"][0]["text"]
    assert [b["value"] for b in suggestions["elements"]] == ["ipcp-signed-2014", "term-ccdcoe"]
    assert [(b["type"], b["action_id"]) for b in feedback["elements"]] == [
        ("feedback_buttons", "briefbot_feedback")
    ]
    assert [b["action_id"] for b in share["elements"]] == ["briefbot_share"]


async def share(slack: SlackHarness, answer: Call, *, user: str = MEMBER) -> Call:
    [button] = [
        b
        for block in answer.args["blocks"]
        if block["type"] == "actions"
        for b in block["elements"]
        if b["action_id"] == "briefbot_share"
    ]
    return await answer_to(slack, await slack.click(button, user=user, message=None))


async def test_share_in_channel_posts_the_answer_attributed_to_who_shared_it(slack: SlackHarness) -> None:
    answer = await answer_to(slack, await slack.command("when did japan join the nato cyber centre?"))
    shared = await share(slack, answer, user=ADMIN)
    assert shared.args["response_type"] == "in_channel"
    assert shared.args["blocks"][0]["elements"][0]["text"] == (
        f"<@{ADMIN}> shared: /nato when did japan join the nato cyber centre?"
    )
    assert shared.args["text"] == answer.args["text"]
    assert "briefbot_share" not in json.dumps(shared.args["blocks"])


async def test_a_decline_is_private_and_cannot_be_shared(slack: SlackHarness) -> None:
    answer = await answer_to(slack, await slack.command("what is the weather on mars?"))
    assert answer.args["response_type"] == "ephemeral"
    assert "briefbot_share" not in json.dumps(answer.args["blocks"])


async def test_ask_subcommand_and_who_and_define_answer_privately(slack: SlackHarness) -> None:
    for text, expected in [
        ("ask who is the japanese prime minister?", "Fumio Kishida was Japan's Prime Minister"),
        ("who Kishida", "Fumio Kishida was Japan's Prime Minister"),
        ("define CCDCOE", "Cooperative Cyber Defence Centre of Excellence in Tallinn"),
    ]:
        answer = await answer_to(slack, await slack.command(text))
        assert answer.args["response_type"] == "ephemeral", text
        assert expected in answer.args["text"], text
        assert "briefbot_share" in json.dumps(answer.args["blocks"]), text


async def test_timeline_lists_dated_milestones_without_feedback_buttons(slack: SlackHarness) -> None:
    answer = await answer_to(slack, await slack.command("timeline 2022"))
    assert answer.args["response_type"] == "ephemeral"
    text = answer.args["blocks"][1]["text"]["text"]
    assert "June 2022 — Kishida attends the NATO summit in Madrid (¶5)" in text
    assert "November 2022 — Japan joins NATO's cyber defence centre in Estonia (¶12)" in text
    assert "2014" not in text
    assert "feedback_buttons" not in json.dumps(answer.args["blocks"])


async def test_usage_errors_help_and_topics_are_shown_only_to_the_asker(slack: SlackHarness) -> None:
    usage = await answer_to(slack, await slack.command("timeline someday"))
    assert usage.args["response_type"] == "ephemeral"
    assert "I couldn't read “someday” as a year, range or topic" in usage.args["text"]
    for text in ("", "help", "topics", "who Nobody Atall"):
        reply = await answer_to(slack, await slack.command(text))
        assert reply.args["response_type"] == "ephemeral", text
        assert "asked" not in json.dumps(reply.args["blocks"]), text


async def test_digest_subscribe_is_allowed_for_workspace_admins(slack: SlackHarness) -> None:
    answer = await answer_to(
        slack, await slack.command("digest subscribe topic cyber weekly mon 09:00", user=ADMIN)
    )
    assert answer.args["response_type"] == "in_channel"
    assert answer.args["text"].startswith("Digest subscribed: Subscribed this channel to the")
    [lookup] = slack.emulator.calls_to("users.info")
    assert lookup.args["user"] == ADMIN
    [subscription] = slack.store.subscriptions()
    assert (subscription.platform, subscription.workspace, subscription.channel) == (
        "slack",
        "T0EMULATED",
        CHANNEL,
    )
    assert (subscription.kind, subscription.arg, subscription.created_by) == ("topic", "cyber", ADMIN)


async def test_digest_subscribe_is_allowed_for_the_allow_list_without_asking_slack(
    slack: SlackHarness,
) -> None:
    answer = await answer_to(
        slack, await slack.command("digest subscribe period year daily 08:00", user=ALLOWED)
    )
    assert "Subscribed this channel" in answer.args["text"]
    assert slack.emulator.calls_to("users.info") == []
    assert len(slack.store.subscriptions()) == 1


async def test_digest_subscribe_is_refused_for_ordinary_members(slack: SlackHarness) -> None:
    answer = await answer_to(
        slack, await slack.command("digest subscribe topic cyber daily 08:00", user=MEMBER)
    )
    assert answer.args["response_type"] == "ephemeral"
    assert answer.args["text"].startswith(
        "Sorry, only workspace admins and the people on this bot's digest admin list can subscribe"
    )
    assert slack.store.subscriptions() == ()


async def test_admin_lookup_failure_refuses_rather_than_grants(slack: SlackHarness) -> None:
    slack.emulator.fail_next("users.info", error="missing_scope")
    answer = await answer_to(
        slack, await slack.command("digest subscribe topic cyber daily 08:00", user=ADMIN)
    )
    assert answer.args["text"].startswith("Sorry, only workspace admins")
    assert slack.store.subscriptions() == ()


async def test_digest_preview_is_shown_only_to_the_asker(slack: SlackHarness) -> None:
    preview = await answer_to(slack, await slack.command("digest now topic cyber", user=MEMBER))
    assert preview.args["response_type"] == "ephemeral"
    assert "Japan joins NATO's cyber defence centre in Estonia" in preview.text()


async def test_command_is_acknowledged_before_slow_work_finishes(slack: SlackHarness) -> None:
    # Unsubscribing needs a manager: the admin lookup (users.info) is the slow work.
    held = slack.emulator.hold("users.info")
    url = await slack.command("digest unsubscribe 99", user=ADMIN)  # returns once Slack has the ack
    assert slack.emulator.calls_to("response_url") == []
    held.set()
    answer = await answer_to(slack, url)
    assert answer.args["text"].startswith("This channel has no digest #99")


async def test_only_commands_that_change_subscriptions_look_up_the_users_role(slack: SlackHarness) -> None:
    for text in ("digest list", "digest now topic cyber", "digest help", "who kishida"):
        await answer_to(slack, await slack.command(text, user=ADMIN))
    assert slack.emulator.calls_to("users.info") == []
    await answer_to(slack, await slack.command("digest unsubscribe 99", user=ADMIN))
    assert len(slack.emulator.calls_to("users.info")) == 1


async def test_channel_and_user_pings_typed_by_a_user_are_never_echoed_as_pings(slack: SlackHarness) -> None:
    for text in ("who <!channel>", "who &lt;!channel&gt; &lt;@U0ADMIN&gt;", "timeline <!here|here>"):
        reply = await answer_to(slack, await slack.command(text))
        seen = reply.text()
        assert "<!" not in seen and "<@U0ADMIN" not in seen, seen
    reply = await answer_to(slack, await slack.command("who <!channel> & co"))
    assert "“@channel &amp; co”" in reply.args["text"]


async def test_failure_inside_the_bot_gets_one_apology_and_a_logged_traceback(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: Request) -> Reply:
        raise RuntimeError("engine exploded")

    slack.app.bot.dispatch = broken  # type: ignore[method-assign]
    reply = await answer_to(slack, await slack.command("when did japan join the nato cyber centre?"))
    assert reply.args["response_type"] == "ephemeral"
    assert reply.args["text"] == "Sorry, something went wrong answering that. It has been logged."
    [record] = [r for r in caplog.records if r.name == "adapters.slack" and r.exc_info]
    assert "slash command" in record.getMessage()
    assert "engine exploded" in str(record.exc_info[1])  # type: ignore[index]


async def test_bidi_and_zero_width_characters_are_not_echoed_into_the_shared_line(
    slack: SlackHarness,
) -> None:
    # #14.8: a right-to-left override would show "who asked what" reversed or disguised.
    url = await slack.command("who is \u202ekishida\u202c\u200b fumio\u2066\u2069\ufeff")
    shared = await share(slack, await answer_to(slack, url))
    line = json.dumps(shared.args, ensure_ascii=False)
    assert not any(ch in line for ch in "\u202e\u202c\u200b\u2066\u2069\ufeff")
    assert f"<@{MEMBER}> shared: /nato who is kishida fumio" in line


async def test_a_failed_admin_lookup_is_remembered_briefly(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # #14.10: a user Slack does not know, subscribing again and again: one call, one warning.
    for _ in range(4):
        answer = await answer_to(
            slack, await slack.command("digest subscribe topic cyber daily 08:00", user="U0NOBODY")
        )
        assert answer.args["text"].startswith("Sorry, only workspace admins")
    assert len(slack.emulator.calls_to("users.info")) == 1
    warnings = [
        r for r in caplog.records if "users.info failed" in r.getMessage() and r.levelname == "WARNING"
    ]
    assert len(warnings) == 1


@pytest.mark.parametrize("channel", [HIDDEN, "G0ARCHIVED"])
async def test_subscribing_a_channel_the_bot_cannot_post_to_is_refused_at_once(
    slack: SlackHarness, channel: str
) -> None:
    # #14.17: was accepted, and the first digest failed days later.
    slack.emulator.channels["G0ARCHIVED"] = {"is_private": True, "is_member": True, "is_archived": True}
    url = await slack.command("digest subscribe topic cyber daily 08:00", user=ADMIN, channel=channel)
    answer = await answer_to(slack, url)
    assert answer.args["response_type"] == "ephemeral"
    assert answer.args["text"].startswith("I can't post digests here")
    assert slack.store.subscriptions() == ()


@pytest.mark.parametrize("channel", [PRIVATE, CHANNEL, "C0UNINVITED", DM])
async def test_subscribing_a_channel_the_bot_can_post_to_goes_through(
    slack: SlackHarness, channel: str
) -> None:
    url = await slack.command("digest subscribe topic cyber daily 08:00", user=ADMIN, channel=channel)
    assert "Subscribed this channel" in (await answer_to(slack, url)).args["text"]
    [lookup] = slack.emulator.calls_to("conversations.info")
    assert lookup.args["channel"] == channel


async def test_when_slack_cannot_say_the_subscription_goes_ahead(slack: SlackHarness) -> None:
    slack.emulator.fail_next("conversations.info", error="missing_scope")
    url = await slack.command("digest subscribe topic cyber daily 08:00", user=ADMIN, channel=HIDDEN)
    assert "Subscribed this channel" in (await answer_to(slack, url)).args["text"]
