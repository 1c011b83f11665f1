"""The same grammar on Discord as in the free text (#13): `/nato timeline`'s bounds, `/nato
help <command>`, and "did you mean" for a mistyped subcommand."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.discord import BriefbotClient
from tests.adapters.discord.emulator import DiscordEmulator, Posted
from tests.adapters.discord.harness import fixture_core, running_bot

Discord = tuple[DiscordEmulator, BriefbotClient]


@pytest.fixture
async def discord() -> AsyncIterator[Discord]:
    async with DiscordEmulator() as emulator, running_bot(emulator, fixture_core()) as client:
        yield emulator, client


async def _said(emulator: DiscordEmulator, words: str) -> Posted:
    """What the bot answers to `@briefbot /nato <words>`, the free text's grammar."""
    before = len(emulator.posted)
    await emulator.mention(f"/nato {words}")
    posted = await emulator.wait_for(lambda: emulator.posted[before:], "the mention's answer")
    return posted[0]


def _body(posted: Posted) -> list[tuple[object, object]]:
    """An answer without the line that echoes how it was asked."""
    return [(e.get("title"), e.get("description")) for e in posted.embeds] or [(None, posted.content)]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"since": "2022"}, "timeline since 2022"),
        ({"before": "2014"}, "timeline before 2014"),
        ({"part": "early", "year": 2022}, "timeline early 2022"),
        ({"recent": True}, "timeline recent"),
        ({"since": "february 2022", "topic": "cyber"}, "timeline cyber since february 2022"),
    ],
)
async def test_typed_timeline_bounds_answer_as_the_same_words_do(
    discord: Discord, options: dict[str, object], words: str
) -> None:
    emulator, _ = discord
    interaction = await emulator.slash("timeline", options)
    [typed] = await emulator.wait_for_reply(interaction)
    assert _body(typed) == _body(await _said(emulator, words))
    assert _body(typed)[0][0]  # a timeline, not a usage message


async def test_help_with_a_command_explains_it(discord: Discord) -> None:
    emulator, _ = discord
    interaction = await emulator.slash("help", {"command": "timeline"})
    [reply] = await emulator.wait_for_reply(interaction)
    assert reply.ephemeral
    assert "`/nato timeline since madrid`" in reply.text


async def test_a_mistyped_subcommand_gets_did_you_mean(discord: Discord) -> None:
    emulator, _ = discord
    assert "Did you mean `/nato timeline`?" in (await _said(emulator, "timline 2022")).text


@pytest.mark.parametrize("hostile", ["x" * 100, "\x00\x1b[2J\u202e", "@everyone", "<@123> <@&456>"])
async def test_hostile_bounds_are_answered_without_pinging_anyone(discord: Discord, hostile: str) -> None:
    emulator, _ = discord
    for side in ("since", "before"):
        interaction = await emulator.slash("timeline", {side: hostile})
        [reply] = await emulator.wait_for_reply(interaction)
        assert not reply.pings.anyone
        assert "\x00" not in reply.text and "\x1b" not in reply.text
