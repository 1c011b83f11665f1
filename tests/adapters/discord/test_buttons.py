"""Suggestion and feedback buttons: persistent custom ids, feedback in a real SQLite store."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from adapters.discord.client import ALREADY_VOTED, NOT_A_REASON
from adapters.discord.replies import THANKS_HELPFUL, THANKS_NOT_HELPFUL
from bot.dispatch import Bot
from bot.store.sqlite import SQLiteStore
from tests.adapters.discord.emulator import ALICE, MODERATOR, DiscordEmulator, Posted
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
        assert thanks.ephemeral and thanks.content == THANKS_HELPFUL
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
        assert thanks.ephemeral and thanks.content == THANKS_NOT_HELPFUL
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
        assert thanks.content == THANKS_HELPFUL
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


# -- one vote per user per answer, and the reasons a 👎 gives (#13) ---------------------


async def test_a_second_vote_by_the_same_user_is_refused_and_not_recorded(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as store:
        core = Bot(fixture_engine(), store=store)
        async with DiscordEmulator() as emulator, running_bot(emulator, core):
            asked = await emulator.slash("ask", {"question": QUESTION})
            [answer] = await emulator.wait_for_reply(asked)
            first = await emulator.click(answer, _button(answer, "Helpful"))
            [thanks] = await emulator.wait_for_reply(first)
            # Changing one's mind is a second vote too.
            again = await emulator.click(answer, _button(answer, "Not helpful"))
            [refused] = await emulator.wait_for_reply(again)
        assert thanks.ephemeral and thanks.content == THANKS_HELPFUL
        assert refused.ephemeral and refused.content == ALREADY_VOTED
        assert [r.helpful for r in store.feedback()] == [True]


async def test_another_users_vote_on_the_same_answer_counts(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as store:
        core = Bot(fixture_engine(), store=store)
        async with DiscordEmulator() as emulator, running_bot(emulator, core):
            asked = await emulator.slash("ask", {"question": QUESTION})
            [answer] = await emulator.wait_for_reply(asked)
            mine = await emulator.click(answer, _button(answer, "Helpful"), user=ALICE)
            await emulator.wait_for_reply(mine)
            theirs = await emulator.click(answer, _button(answer, "Not helpful"), user=MODERATOR)
            [thanks] = await emulator.wait_for_reply(theirs)
        assert thanks.content == THANKS_NOT_HELPFUL
        records = store.feedback()
        assert sorted(r.helpful for r in records) == [False, True]
        assert len({r.user_hash for r in records}) == 2  # two voters, one vote each


async def test_without_a_store_a_repeated_vote_is_refused_from_memory() -> None:
    async with DiscordEmulator() as emulator, running_bot(emulator, Bot(fixture_engine())):
        asked = await emulator.slash("ask", {"question": QUESTION})
        [answer] = await emulator.wait_for_reply(asked)
        await emulator.wait_for_reply(await emulator.click(answer, _button(answer, "Helpful")))
        [refused] = await emulator.wait_for_reply(await emulator.click(answer, _button(answer, "Helpful")))
    assert refused.ephemeral and refused.content == ALREADY_VOTED


def _reasons(message: Posted) -> str:
    return next(cid for cid in message.custom_ids if cid.startswith("briefbot:why:"))


async def test_a_not_helpful_vote_offers_reasons_and_the_chosen_one_is_kept_on_the_vote(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as store:
        core = Bot(fixture_engine(), store=store)
        async with DiscordEmulator() as emulator, running_bot(emulator, core):
            asked = await emulator.slash("ask", {"question": QUESTION})
            [answer] = await emulator.wait_for_reply(asked)
            vote = await emulator.click(answer, _button(answer, "Not helpful"))
            [offer] = await emulator.wait_for_reply(vote)
            [menu] = [c for row in offer.payload["components"] for c in row["components"]]
            with caplog.at_level(logging.INFO):
                chosen = await emulator.select(offer, _reasons(offer), ["outdated"])
                form = await emulator.wait_for_modal(chosen)
                [noted] = await emulator.wait_for_reply(await emulator.submit(chosen, {}))
                twice = await emulator.select(offer, _reasons(offer), ["wrong"])
                await emulator.wait_for_modal(twice)
                [refused] = await emulator.wait_for_reply(await emulator.submit(twice, {"note": "again"}))
        [record] = store.feedback()
    assert offer.ephemeral and offer.content == THANKS_NOT_HELPFUL
    assert menu["type"] == 3
    assert [o["value"] for o in menu["options"]] == ["wrong", "outdated", "not_asked", "other"]
    # Choosing a reason opens a form whose one text input is optional and short.
    assert form["title"] == "Not helpful: Outdated"
    [field] = form["components"]
    assert field["type"] == 18 and field["component"]["type"] == 4
    assert field["component"]["required"] is False and field["component"]["max_length"] == 300
    assert noted.ephemeral and "outdated" in noted.text
    assert refused.ephemeral and "already" in refused.content
    # Kept on the vote for the curators' queue; a second choice changes nothing.
    assert (record.helpful, record.reason, record.note) == (False, "outdated", "")
    assert record.entry_ids == ("japan-joins-nato-cyber-centre-2022",)
    [logged] = [r for r in caplog.records if getattr(r, "event", None) == "feedback_reason"]
    assert logged.__dict__["reason"] == "outdated" and logged.__dict__["kept"] is True
    assert logged.__dict__["entry_ids"] == ("japan-joins-nato-cyber-centre-2022",)
    assert logged.__dict__["channel"] == emulator.channel_id
    assert "question" not in logged.__dict__  # the question's text is never logged


async def _voted_down(emulator: DiscordEmulator) -> Posted:
    """An answer voted 👎 by ALICE: the private thanks that offers the reasons."""
    [answer] = await emulator.wait_for_reply(await emulator.slash("ask", {"question": QUESTION}))
    [offer] = await emulator.wait_for_reply(await emulator.click(answer, _button(answer, "Not helpful")))
    return offer


HOSTILE_NOTES = [
    "x" * 50_000,
    "line one\nERROR forged line\r\x1b[31m\u202e",
    "@everyone <@&123> it was 2022",
]


@pytest.mark.parametrize("note", HOSTILE_NOTES, ids=["50kB", "control", "mentions"])
async def test_the_note_a_reason_form_sends_is_kept_cleaned_and_never_shown_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, note: str
) -> None:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as store:
        core = Bot(fixture_engine(), store=store)
        async with DiscordEmulator() as emulator, running_bot(emulator, core):
            offer = await _voted_down(emulator)
            chosen = await emulator.select(offer, _reasons(offer), ["other"])
            await emulator.wait_for_modal(chosen)
            with caplog.at_level(logging.INFO):
                [noted] = await emulator.wait_for_reply(await emulator.submit(chosen, {"note": note}))
            posted = list(emulator.posted)
        [record] = store.feedback()
    assert noted.ephemeral and noted.content == "Thanks — noted: other."
    assert record.reason == "other"
    # The same cleaning as Slack's note (bot.votes.clean_note): bounded and printable.
    assert len(record.note) <= 300 and record.note.isprintable()
    assert record.note[:8] == note[:8]
    assert not any(note[:20] in p.text for p in posted)  # never echoed into Discord
    assert not any(note[:20] in r.getMessage() or note[:20] in str(r.__dict__) for r in caplog.records)


async def test_only_the_voter_can_send_the_form_their_reason_opened(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "briefbot.sqlite3") as store:
        core = Bot(fixture_engine(), store=store)
        async with DiscordEmulator() as emulator, running_bot(emulator, core):
            offer = await _voted_down(emulator)
            chosen = await emulator.select(offer, _reasons(offer), ["wrong"])
            await emulator.wait_for_modal(chosen)
            # Someone else sends the form (a forged submit): not taken, not answered.
            forged = await emulator.submit(chosen, {"note": "not mine"}, user=MODERATOR)
            [noted] = await emulator.wait_for_reply(await emulator.submit(chosen, {"note": "it was 2022"}))
        [record] = store.feedback()
    assert forged.callbacks == []
    assert noted.ephemeral and "wrong" in noted.text
    assert (record.reason, record.note) == ("wrong", "it was 2022")


@pytest.mark.parametrize(
    "values",
    [["<@everyone> drop table"], ["wrong", "outdated"], [], ["wrong\u202e"]],
)
async def test_a_forged_reason_is_refused_and_not_logged(
    values: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    async with DiscordEmulator() as emulator, running_bot(emulator, Bot(fixture_engine())):
        asked = await emulator.slash("ask", {"question": QUESTION})
        [answer] = await emulator.wait_for_reply(asked)
        [offer] = await emulator.wait_for_reply(await emulator.click(answer, _button(answer, "Not helpful")))
        with caplog.at_level(logging.INFO):
            forged = await emulator.select(offer, _reasons(offer), values)
            [refused] = await emulator.wait_for_reply(forged)
    assert refused.ephemeral and refused.content == NOT_A_REASON
    assert not [r for r in caplog.records if getattr(r, "event", None) == "feedback_reason"]
