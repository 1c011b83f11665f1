"""`/nato` slash commands, answered through discord.py's real interaction code."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.discord import BriefbotClient
from bot.dispatch import Bot
from bot.grammar.commands import parse_command
from bot.messages import Reply, Request
from tests.adapters.discord.emulator import EPHEMERAL, DiscordEmulator
from tests.adapters.discord.harness import fixture_core, fixture_engine, running_bot

Discord = tuple[DiscordEmulator, BriefbotClient]


@pytest.fixture
async def discord() -> AsyncIterator[Discord]:
    async with DiscordEmulator() as emulator, running_bot(emulator, fixture_core()) as client:
        yield emulator, client


async def test_slash_ask_is_answered_through_the_interaction_callback(discord: Discord) -> None:
    emulator, _ = discord
    interaction = await emulator.slash("ask", {"question": "when did japan join the nato cyber centre?"})
    [reply] = await emulator.wait_for_reply(interaction)
    assert reply.via == "callback" and interaction.callbacks[0]["type"] == 4
    [embed] = reply.embeds
    assert embed["title"] == "Japan joins NATO's cyber centre in Estonia"
    assert "In 2022 Japan formally became a member" in embed["description"]
    assert "¶12" in embed["footer"]["text"] and "as of July 2023" in embed["footer"]["text"]
    assert embed["author"]["name"] == "“when did japan join the nato cyber centre?”"
    assert reply.ephemeral  # private by default (#13), with a button to share it
    assert reply.button_labels[-3:] == ["Helpful", "Not helpful", "Share in channel"]
    assert reply.sent["allowed_mentions"]["parse"] == []


async def test_a_question_outside_the_notes_says_so_and_offers_no_feedback(discord: Discord) -> None:
    emulator, _ = discord
    interaction = await emulator.slash("ask", {"question": "what is the population of Lisbon?"})
    [reply] = await emulator.wait_for_reply(interaction)
    assert "isn't in my briefing notes" in reply.text
    assert "Helpful" not in reply.button_labels


async def test_autocomplete_offers_names_ranked_by_the_engine(discord: Discord) -> None:
    emulator, _ = discord
    interaction = await emulator.autocomplete("who", "name", "kishi")
    await emulator.wait_for(lambda: interaction.callbacks, "the autocomplete answer")
    [callback] = interaction.callbacks
    assert callback["type"] == 8
    choices = callback["data"]["choices"]
    expected = [e.title for e in fixture_engine().suggest("kishi", kinds=("person",), limit=25)]
    assert [c["name"] for c in choices] == expected
    assert choices[0]["name"] == "Fumio Kishida, Prime Minister of Japan"


async def test_autocomplete_never_offers_more_than_discord_allows(discord: Discord) -> None:
    emulator, _ = discord
    interaction = await emulator.autocomplete("define", "term", "")
    await emulator.wait_for(lambda: interaction.callbacks, "the autocomplete answer")
    choices = interaction.callbacks[0]["data"]["choices"]
    assert 0 < len(choices) <= 25
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)


async def test_an_autocompleted_name_is_answered(discord: Discord) -> None:
    emulator, _ = discord
    complete = await emulator.autocomplete("who", "name", "stoltenb")
    await emulator.wait_for(lambda: complete.callbacks, "the autocomplete answer")
    chosen = complete.callbacks[0]["data"]["choices"][0]["value"]
    interaction = await emulator.slash("who", {"name": chosen})
    [reply] = await emulator.wait_for_reply(interaction)
    assert reply.embeds[0]["title"] == "Jens Stoltenberg, NATO Secretary General"
    assert "Secretary General" in reply.embeds[0]["description"]


async def test_timeline_with_a_topic_lists_only_that_topic(discord: Discord) -> None:
    emulator, _ = discord
    interaction = await emulator.slash("timeline", {"topic": "maritime"})
    [reply] = await emulator.wait_for_reply(interaction)
    [embed] = reply.embeds
    assert embed["title"] == "Timeline: maritime"
    lines = [line for line in embed["description"].splitlines() if line.startswith("•")]
    assert len(lines) == 3
    assert "Maritime Command (MARCOM)" in embed["description"]
    assert "cyber" not in embed["description"].casefold()


async def test_timeline_range_options_are_read_as_a_range(discord: Discord) -> None:
    emulator, _ = discord
    interaction = await emulator.slash("timeline", {"from": 2018, "to": 2021})
    [reply] = await emulator.wait_for_reply(interaction)
    assert reply.embeds[0]["title"] == "Timeline: 2018–2021"
    years = {line.split()[1] for line in reply.embeds[0]["description"].splitlines() if line.startswith("•")}
    assert years == {"2018", "2021"}


async def test_a_backwards_range_gets_a_private_usage_message(discord: Discord) -> None:
    emulator, _ = discord
    interaction = await emulator.slash("timeline", {"from": 2022, "to": 2018})
    [reply] = await emulator.wait_for_reply(interaction)
    assert reply.ephemeral
    assert "runs backwards" in reply.content


async def test_help_and_topics_are_private(discord: Discord) -> None:
    emulator, _ = discord
    help_ = await emulator.slash("help")
    topics = await emulator.slash("topics")
    [help_reply] = await emulator.wait_for_reply(help_)
    [topics_reply] = await emulator.wait_for_reply(topics)
    assert help_reply.ephemeral and "/nato timeline" in help_reply.text
    assert topics_reply.ephemeral and "maritime (4)" in topics_reply.text


async def test_slash_commands_work_in_a_dm(discord: Discord) -> None:
    emulator, _ = discord
    interaction = await emulator.slash("define", {"term": "ITPP"}, in_dm=True)
    [reply] = await emulator.wait_for_reply(interaction)
    assert "Individually Tailored Partnership Program" in reply.text


async def test_everyone_in_a_question_pings_nobody(discord: Discord) -> None:
    emulator, _ = discord
    alice = "<@123456789012345678>"
    interaction = await emulator.slash("who", {"name": f"@everyone @here {alice}"})
    [reply] = await emulator.wait_for_reply(interaction)
    assert "@everyone" in reply.text  # the user's words are quoted back, harmlessly
    assert reply.sent["allowed_mentions"] == {"parse": []}
    assert not reply.pings.anyone


class _Failing(Bot):
    def dispatch(self, request: Request) -> Reply:
        if "explode" in request.text:
            raise RuntimeError("the core broke")
        return super().dispatch(request)


async def test_an_error_in_a_command_is_logged_and_apologised_for(caplog: pytest.LogCaptureFixture) -> None:
    async with DiscordEmulator() as emulator, running_bot(emulator, _Failing(fixture_engine())):
        with caplog.at_level(logging.ERROR, logger="adapters.discord"):
            broken = await emulator.slash("ask", {"question": "please explode"})
            [apology] = await emulator.wait_for_reply(broken)
        assert apology.ephemeral and apology.content.startswith("Sorry, something went wrong")
        [record] = [r for r in caplog.records if r.name == "adapters.discord"]
        assert record.exc_info is not None and "the core broke" in str(record.exc_info[1])
        # …and the bot keeps answering.
        fine = await emulator.slash("ask", {"question": "who is kishida"})
        [reply] = await emulator.wait_for_reply(fine)
        assert "Kishida" in reply.embeds[0]["title"]


class _Slow(Bot):
    """A core that stalls until the test lets it go (a busy database, say)."""

    def __init__(self) -> None:
        super().__init__(fixture_engine())
        self.release = threading.Event()

    def dispatch(self, request: Request) -> Reply:
        self.release.wait(10)
        return super().dispatch(request)


async def test_a_slow_answer_is_deferred_before_discords_deadline_then_delivered() -> None:
    core = _Slow()
    async with DiscordEmulator() as emulator, running_bot(emulator, core, defer_after=0.05):
        interaction = await emulator.slash("ask", {"question": "who is kishida"})
        await emulator.wait_for(lambda: interaction.callbacks, "the deferral")
        assert interaction.callbacks[0]["type"] == 5  # "briefbot is thinking…"
        core.release.set()
        [reply] = await emulator.wait_for_reply(interaction)
        assert reply.via == "followup" and "Kishida" in reply.embeds[0]["title"]
        assert not interaction.late


async def _deferral(emulator: DiscordEmulator, name: str, options: dict[str, Any]) -> dict[str, Any]:
    interaction = await emulator.slash(name, options)
    await emulator.wait_for(lambda: interaction.callbacks, "the deferral")
    [deferral] = interaction.callbacks
    return deferral


async def test_a_slow_private_command_is_deferred_privately() -> None:
    # The visibility of a deferral is chosen before the reply exists: the intent says it.
    core = _Slow()
    async with DiscordEmulator() as emulator, running_bot(emulator, core, defer_after=0.05):
        for name, options in [("topics", {}), ("timeline", {"from": 2022, "to": 2018})]:
            deferral = await _deferral(emulator, name, options)
            assert deferral["type"] == 5 and deferral["data"]["flags"] & EPHEMERAL, name
        core.release.set()


class _Recording(Bot):
    """The real core, keeping every request it is given."""

    def __init__(self) -> None:
        super().__init__(fixture_engine())
        self.requests: list[Request] = []

    def dispatch(self, request: Request) -> Reply:
        self.requests.append(request)
        return super().dispatch(request)


async def test_typed_options_arrive_as_the_intent_their_words_would_give() -> None:
    core = _Recording()
    end, words_for_topics = fixture_engine().kb.notes_end, fixture_engine().kb.lexicon.topic_words
    async with DiscordEmulator() as emulator, running_bot(emulator, core):
        cases: list[tuple[str, dict[str, Any], str]] = [
            ("timeline", {"from": 2018, "to": 2021, "topic": "maritime"}, "timeline 2018 to 2021 maritime"),
            ("timeline", {"year": 2022, "firsts": True}, "timeline 2022 firsts"),
            ("who", {"name": "is Kishida"}, "who is Kishida"),
            ("define", {"term": "ITPP"}, "define ITPP"),
            ("ask", {"question": "when did japan join nato ccdcoe"}, "when did japan join nato ccdcoe"),
            ("help", {}, "help"),
            ("digest now", {"kind": "topic", "arg": "cyber\u200b"}, "digest now topic cyber"),
            ("digest unsubscribe", {"id": 7}, "digest unsubscribe 7"),
        ]
        for name, options, words in cases:
            interaction = await emulator.slash(name, options)
            await emulator.wait_for_reply(interaction)
            assert core.requests[-1].intent == parse_command(words, end, words_for_topics), name
