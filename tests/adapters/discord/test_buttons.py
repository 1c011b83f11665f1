"""Suggestion and feedback buttons: persistent custom ids, feedback in a real SQLite store."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.dispatch import Bot
from bot.store.sqlite import SQLiteStore
from tests.adapters.discord.emulator import MODERATOR, DiscordEmulator, Posted
from tests.adapters.discord.harness import fixture_engine, running_bot

QUESTION = "when did japan join the nato cyber centre?"


def _button(message: Posted, label: str) -> str:
    return message.custom_ids[message.button_labels.index(label)]


async def test_a_helpful_click_is_stored_with_the_question_and_entry(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as store:
        core = Bot(fixture_engine(), store=store)
        async with DiscordEmulator() as emulator, running_bot(emulator, core):
            asked = await emulator.slash("ask", {"question": QUESTION})
            [answer] = await emulator.wait_for_reply(asked)
            click = await emulator.click(answer, _button(answer, "Helpful"), user=MODERATOR)
            [thanks] = await emulator.wait_for_reply(click)
        assert thanks.ephemeral and thanks.content == "Thanks, glad it helped."
        [record] = store.feedback()
        assert record.helpful is True
        assert record.question == QUESTION
        assert record.entry_ids == ("japan-joins-nato-cyber-centre-2022",)
        assert (record.platform, record.workspace, record.channel) == (
            "discord",
            emulator.guild_id,
            emulator.channel_id,
        )


async def test_a_not_helpful_click_on_a_mention_reply_is_stored(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as store:
        core = Bot(fixture_engine(), store=store)
        async with DiscordEmulator() as emulator, running_bot(emulator, core):
            await emulator.mention("who is kishida?")
            [answer] = await emulator.wait_for_message(emulator.channel_id)
            click = await emulator.click(answer, _button(answer, "Not helpful"))
            [thanks] = await emulator.wait_for_reply(click)
        assert "a curator will look at it" in thanks.content
        [record] = store.feedback()
        assert (record.helpful, record.question, record.entry_ids) == (
            False,
            "who is kishida?",
            ("fumio-kishida",),
        )


async def test_a_suggestion_button_answers_with_that_entry_for_the_clicker() -> None:
    async with DiscordEmulator() as emulator, running_bot(emulator, Bot(fixture_engine())):
        asked = await emulator.slash("ask", {"question": QUESTION})
        [answer] = await emulator.wait_for_reply(asked)
        suggestion = next(cid for cid in answer.custom_ids if cid.startswith("briefbot:sg:"))
        click = await emulator.click(answer, suggestion)
        [followup] = await emulator.wait_for_reply(click)
    entry = fixture_engine().kb.by_id[suggestion.removeprefix("briefbot:sg:")]
    assert followup.ephemeral
    assert followup.embeds[0]["title"] == entry.title
    assert "Helpful" in followup.button_labels  # and it can be rated in turn


async def test_buttons_keep_working_after_the_bot_restarts(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as store:
        async with DiscordEmulator() as emulator:
            async with running_bot(emulator, Bot(fixture_engine(), store=store)):
                asked = await emulator.slash("ask", {"question": QUESTION})
                [answer] = await emulator.wait_for_reply(asked)
            # A new process: nothing in memory knows about the old message.
            async with running_bot(emulator, Bot(fixture_engine(), store=store)):
                click = await emulator.click(answer, _button(answer, "Helpful"))
                [thanks] = await emulator.wait_for_reply(click)
                suggestion = next(cid for cid in answer.custom_ids if cid.startswith("briefbot:sg:"))
                follow = await emulator.click(answer, suggestion)
                [followup] = await emulator.wait_for_reply(follow)
        assert thanks.content == "Thanks, glad it helped."
        assert len(store.feedback()) == 1
        assert followup.embeds


async def test_a_broken_store_gets_an_apology_not_silence(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLiteStore(tmp_path / "briefbot.sqlite3")
    async with DiscordEmulator() as emulator, running_bot(emulator, Bot(fixture_engine(), store=store)):
        asked = await emulator.slash("ask", {"question": QUESTION})
        [answer] = await emulator.wait_for_reply(asked)
        store.close()  # the database goes away under the running bot
        with caplog.at_level(logging.ERROR, logger="adapters.discord"):
            click = await emulator.click(answer, _button(answer, "Helpful"))
            [apology] = await emulator.wait_for_reply(click)
    assert apology.ephemeral and apology.content.startswith("Sorry, something went wrong")
    assert any(r.exc_info for r in caplog.records if r.name == "adapters.discord")
