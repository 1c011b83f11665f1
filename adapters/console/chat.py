"""The bot in a terminal: ``Console`` takes a line and returns the reply as printed.

It is errbot's ``testbot`` idea: ``briefbot chat`` loops over it (``run_chat``), and tests
drive it directly, a line in and the rendered text out, through the same dispatch as Slack
and Discord::

    console = Console(Bot(engine))
    assert "Lungescu" in console.reply_to("who is Oana Lungescu?")
    assert "historic first" in console.reply_to("what did she say about japan?")
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import TextIO

from adapters.console.poster import PLATFORM
from adapters.console.rendering import render_reply
from bot.dispatch import Bot
from bot.messages import Request

__all__ = ["APOLOGY", "PROMPT", "Console", "run_chat"]

_log = logging.getLogger(__name__)

PROMPT = "you> "
APOLOGY = "Sorry, something went wrong answering that. It has been logged."
_QUIT = ("quit", "exit", ":q")


class Console:
    """One person at a terminal, talking to ``bot``: one conversation, so each line may be
    a follow-up of the ones before ("and when was that?")."""

    def __init__(
        self, bot: Bot, *, user: str = "console-user", channel: str = "console", session: str | None = None
    ) -> None:
        self.bot = bot
        self.user = user
        self.channel = channel
        # The conversation's thread: a new one per session, so a new `briefbot chat` starts
        # afresh even when its database remembers the last one.
        self.session = session if session is not None else uuid.uuid4().hex

    def request(self, text: str) -> Request:
        """What was typed, as the core's ``Request``; `/nato …` (any leading "/") is a command.

        The person at the terminal manages its one channel's digests."""
        is_command = text.lstrip().startswith("/")
        return Request(
            PLATFORM,
            self.user,
            self.channel,
            text,
            is_command=is_command,
            user_is_manager=True,
            thread=self.session,
        )

    def reply_to(self, text: str) -> str:
        """The reply to one line as the terminal shows it; a failure is logged with its
        traceback and answered with one short apology, and the console keeps going."""
        try:
            return render_reply(self.bot.dispatch(self.request(text)))
        except Exception:
            _log.exception("failed to answer %r", text[:80])
            return APOLOGY


def run_chat(
    bot: Bot, lines: Iterable[str], out: TextIO, prompt: bool = True, *, lines_prompt: bool = False
) -> int:
    """Answer each line until EOF or `quit`; `/nato …` lines are commands.

    ``lines_prompt``: ``lines`` shows the prompt itself as it reads each line (line editing,
    ``line_editing.edited_lines``), so it is not written here."""
    console = Console(bot)
    if prompt:
        out.write(
            f"briefbot: NATO–Japan briefing notes (to {bot.engine.kb.notes_end.human()}). Ask a question, "
            "or type /nato help. Ctrl-D or 'quit' to leave.\n"
        )
        if not lines_prompt:
            out.write(PROMPT)
        out.flush()
    for line in lines:
        text = line.rstrip("\n")
        if text.strip().casefold() in _QUIT:
            break
        if text.strip():
            out.write(console.reply_to(text) + "\n")
        if prompt and not lines_prompt:
            out.write(PROMPT)
        out.flush()
    if prompt:
        out.write("\n")
    return 0
