"""`/nato settings` through the real bolt app (#13): managers only, each setting's effect,
the workspace's allow-list, hostile values, and settings that outlive a restart."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.values import AllowedChannel, AnswerChannels, ChannelSettings
from tests.adapters.slack.emulator import TEAM, Call
from tests.adapters.slack.harness import ADMIN, ALLOWED, BRIEFINGS, CHANNEL, DM, MEMBER, SlackHarness

QUESTION = "when did japan join the nato cyber centre?"
ANSWERED = "formally joined the NATO Cooperative Cyber Defence Centre"
ELSEWHERE = "I don't answer in this channel. Ask me in #briefings, or in a direct message."


@pytest.fixture(params=["http", "socket"])
async def slack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackHarness.running(request.param, tmp_path / "briefbot.sqlite3") as harness:
        yield harness


async def answer_to(slack: SlackHarness, response_url: str) -> Call:
    [call] = await slack.emulator.wait_for("response_url", lambda c: c.args["url"] == response_url)
    return call


async def run(slack: SlackHarness, text: str, *, user: str = ADMIN, channel: str = CHANNEL) -> Call:
    return await answer_to(slack, await slack.command(text, user=user, channel=channel))


async def test_a_member_is_refused_and_a_manager_sees_one_line_per_setting(slack: SlackHarness) -> None:
    refused = await run(slack, "settings answers public", user=MEMBER)
    assert refused.args["response_type"] == "ephemeral" and "manage this channel" in refused.args["text"]
    assert slack.store.channel_settings("slack", CHANNEL) == ChannelSettings()
    shown = await run(slack, "settings")
    assert shown.args["response_type"] == "ephemeral"
    text = shown.text()
    assert "• `answers` private" in text and "• `auto-answer` off" in text and "• `allow` all" in text
    # Someone on the admin list may too, though not a workspace admin.
    listed = await run(slack, "settings", user=ALLOWED)
    assert "• `answers` private" in listed.text()


async def test_public_answers_are_posted_in_the_channel_with_who_asked(slack: SlackHarness) -> None:
    saved = await run(slack, "settings answers public")
    assert "Saved." in saved.text() and "`answers` public" in saved.text()
    answer = await run(slack, QUESTION, user=MEMBER)
    assert answer.args["response_type"] == "in_channel" and ANSWERED in answer.args["text"]
    assert f"<@{MEMBER}> asked" in answer.text() and "briefbot_share" not in answer.text()
    decline = await run(slack, "what is the weather on mars?", user=MEMBER)
    assert decline.args["response_type"] == "ephemeral"
    # Another channel keeps the default.
    private = await run(slack, QUESTION, user=MEMBER, channel=BRIEFINGS)
    assert private.args["response_type"] == "ephemeral" and "briefbot_share" in private.text()
    await run(slack, "settings answers private")
    again = await run(slack, QUESTION, user=MEMBER)
    assert again.args["response_type"] == "ephemeral"


async def test_the_allow_list_keeps_other_channels_quiet_but_not_dms_or_settings(slack: SlackHarness) -> None:
    saved = await run(slack, "settings allow <#C0BRIEFINGS|briefings>")
    assert "`allow` #briefings" in saved.text() and "not this one" in saved.text()
    assert slack.store.answer_channels("slack", TEAM) == AnswerChannels(
        (AllowedChannel(BRIEFINGS, "briefings"),)
    )

    here = await run(slack, QUESTION, user=MEMBER)
    assert here.args["response_type"] == "ephemeral" and here.args["text"] == ELSEWHERE
    await slack.event(slack.mention_event(QUESTION, user=MEMBER))
    [line] = await slack.emulator.wait_for("chat.postEphemeral")
    assert line.args["text"] == ELSEWHERE and line.args["user"] == MEMBER
    assert slack.emulator.calls_to("chat.postMessage") == []

    there = await run(slack, QUESTION, user=MEMBER, channel=BRIEFINGS)
    assert ANSWERED in there.args["text"]
    dm = await run(slack, QUESTION, user=MEMBER, channel=DM)
    assert ANSWERED in dm.args["text"]

    undone = await run(slack, "settings allow all")
    assert "`allow` all" in undone.text()
    assert ANSWERED in (await run(slack, QUESTION, user=MEMBER)).args["text"]


async def test_a_channel_typed_by_name_is_found_in_the_workspace(slack: SlackHarness) -> None:
    saved = await run(slack, "settings allow #briefings, #general")
    assert "`allow` #briefings, #general" in saved.text()
    assert [c.id for c in slack.store.answer_channels("slack", TEAM).channels] == [BRIEFINGS, CHANNEL]


def many_channels(slack: SlackHarness, count: int) -> None:
    """``count`` more public channels, listed before the fixture's own (as a big, old
    workspace lists them)."""
    public = {"is_channel": True, "is_private": False}
    filler = {f"C{n:08d}": {"name": f"team-{n}", **public} for n in range(count)}
    slack.emulator.channels = filler | slack.emulator.channels


async def test_a_channel_typed_by_name_is_found_beyond_the_first_thousand(slack: SlackHarness) -> None:
    many_channels(slack, 2_500)
    saved = await run(slack, "settings allow #briefings")
    assert "`allow` #briefings" in saved.text()
    assert [c.id for c in slack.store.answer_channels("slack", TEAM).channels] == [BRIEFINGS]
    # Page after page, each from the cursor the last one gave (the emulator refuses others).
    pages = slack.emulator.calls_to("conversations.list")
    assert len(pages) == 3 and "cursor" not in pages[0].args
    assert len({p.args["cursor"] for p in pages[1:]}) == 2


async def test_a_channel_not_found_within_the_bound_says_how_far_it_looked(slack: SlackHarness) -> None:
    many_channels(slack, 10_000)
    refused = await run(slack, "settings allow #briefings")
    assert refused.args["response_type"] == "ephemeral"
    assert refused.args["text"].startswith(
        "I looked through the first 9,990 channels of this workspace and did not find #briefings, "
        "so nothing was changed. Pick it from the list as you type #"
    )
    assert len(slack.emulator.calls_to("conversations.list")) == 10
    assert slack.store.answer_channels("slack", TEAM).channels == ()
    # Picked from Slack's list, it comes linked and needs no search.
    saved = await run(slack, "settings allow <#C0BRIEFINGS|briefings>")
    assert "`allow` #briefings" in saved.text()
    assert len(slack.emulator.calls_to("conversations.list")) == 10


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("#nowhere", "can't find the channel #nowhere"),
        ("<#G0NOPE|secret>", "can't find the channel #secret"),
        ("<!channel>", "“@channel” is not a channel"),
        ("#ok \x00\x07\x1b[2J\u202e", "“[2J” is not a channel"),
        ("#ok\x07", "can't find the channel #ok"),
        ("@everyone " + "x" * 50_000, "“@everyone” is not a channel"),
        ("#" + "y" * 50_000, "is not a channel"),
    ],
)
async def test_hostile_or_unknown_channels_are_refused_and_change_nothing(
    slack: SlackHarness, value: str, said: str
) -> None:
    refused = await run(slack, f"settings answers public allow {value}")
    assert said in refused.args["text"] and refused.args["response_type"] == "ephemeral"
    assert len(refused.args["text"]) < 500 and "\x00" not in refused.args["text"]
    assert slack.store.channel_settings("slack", CHANNEL) == ChannelSettings()
    assert slack.store.answer_channels("slack", TEAM).everywhere
    # Nothing the user typed comes back as markup: the harness checks every message sent.
    assert "<!channel>" not in json.dumps(refused.args)


async def test_settings_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "briefbot.sqlite3"
    async with SlackHarness.running("http", db) as first:
        await run(first, "settings answers public auto-answer on allow <#C0GENERAL|general>")
    async with SlackHarness.running("http", db) as again:
        shown = (await run(again, "settings")).text()
        assert "`answers` public" in shown and "`auto-answer` on" in shown and "`allow` #general" in shown
        answer = await run(again, QUESTION, user=MEMBER)
        assert answer.args["response_type"] == "in_channel"
