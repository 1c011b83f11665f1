"""The console harness: a line in, the reply as the terminal prints it out."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from adapters.console import APOLOGY, Console, render_reply, run_chat
from bot.dispatch import Bot
from bot.messages import Reply, Request
from bot.store.sqlite import SQLiteStore
from tests.fixtures import bundled_bot, bundled_engine


def test_a_question_gets_its_answer_with_the_source_line() -> None:
    text = Console(bundled_bot()).reply_to("who is Oana Lungescu?")
    assert "Lungescu" in text
    assert "  — " in text  # the source line, as the terminal shows it


def test_a_line_starting_with_a_slash_is_a_command() -> None:
    console = Console(bundled_bot())
    assert console.request("/nato timeline 2018").is_command
    assert not console.request("timeline 2018").is_command
    assert "couldn't read “20x8”" in console.reply_to("/nato timeline 20x8")


def test_the_person_at_the_terminal_manages_its_channel() -> None:
    request = Console(bundled_bot()).request("/nato digest list")
    assert (request.platform, request.user, request.channel) == ("console", "console-user", "console")
    assert request.user_is_manager


class _Exploding(Bot):
    def dispatch(self, request: Request) -> Reply:
        if "explode" in request.text:
            raise RuntimeError("the core broke")
        return super().dispatch(request)


def test_a_failure_is_logged_and_apologised_for_and_the_console_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    console = Console(_Exploding(bundled_engine()))
    with caplog.at_level(logging.ERROR):
        assert console.reply_to("please explode") == APOLOGY
    [record] = [r for r in caplog.records if r.exc_info]
    assert "the core broke" in str(record.exc_info[1])  # type: ignore[index]
    assert "Kishida" in console.reply_to("who is kishida")


def test_the_chat_loop_prints_each_reply_and_stops_at_quit() -> None:
    out = io.StringIO()
    lines = ["who is kishida\n", "\n", "quit\n", "who is lungescu\n"]
    assert run_chat(bundled_bot(), lines, out, prompt=False) == 0
    printed = out.getvalue()
    assert "Kishida" in printed and "Lungescu" not in printed


def test_each_line_of_a_session_may_follow_up_the_ones_before() -> None:
    console = Console(bundled_bot())
    assert "February 2023" in console.reply_to("stoltenbergs visit to tokio")
    assert "February 2023" in console.reply_to("and when was that?")
    assert "Kishida" in console.reply_to("who did he meet there?")
    # Another session, even of the same bot, starts afresh: as if nothing came before.
    other = Console(console.bot)
    assert other.session != console.session
    alone = render_reply(bundled_bot().dispatch(Request("console", "u", "console", "and when was that?")))
    assert other.reply_to("and when was that?") == alone


def test_a_session_over_a_database_remembers_its_context_there(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "bot.sqlite3") as store:
        console = Console(Bot(bundled_engine(), store=store), session="s1")
        console.reply_to("what was called a historic first for japan and nato?")
    with SQLiteStore(tmp_path / "bot.sqlite3") as store:
        again = Console(Bot(bundled_engine(), store=store), session="s1")
        assert "Lungescu" in again.reply_to("who said that?")


def test_the_chat_loop_reads_follow_ups_in_context() -> None:
    out = io.StringIO()
    lines = ["what did russia say about the nato office in tokyo?\n", "what about france?\n"]
    assert run_chat(bundled_bot(), lines, out, prompt=False) == 0
    first, second = [line for line in out.getvalue().splitlines() if not line.startswith("  ")]
    assert "Zakharova" in first and "France" in second
