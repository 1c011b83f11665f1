"""The console: the bot in a terminal, and the end-to-end harness the tests drive.

Like every adapter it only translates: lines of text become ``Request`` values for
``Bot.dispatch`` and ``Reply`` values become printed text (``run_chat`` takes any input and
output stream). ``ConsolePoster`` is the console's ``Poster``: it prints what the scheduler
posts, so the whole digest path runs without a chat platform.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from bot.dispatch import Bot
from bot.messages import Reply, Request

if TYPE_CHECKING:
    from bot.digests.poster import ChannelRef

__all__ = ["PLATFORM", "ConsolePoster", "render_reply", "run_chat"]

_log = logging.getLogger(__name__)

PLATFORM = "console"
PROMPT = "you> "


def render_reply(reply: Reply) -> str:
    """A reply as plain text for a terminal."""
    lines = []
    if reply.title and reply.kind not in ("answer",):
        lines.append(f"== {reply.title} ==")
    lines.append(reply.text)
    for name, value in reply.fields:
        lines.append(f"{name}: {value}")
    if reply.source_line:
        lines.append(f"  — {reply.source_line}")
    if reply.suggestions:
        lines.append("  Related: " + " · ".join(s.title for s in reply.suggestions))
    return "\n".join(lines)


def run_chat(bot: Bot, lines: Iterable[str], out: TextIO, prompt: bool = True) -> int:
    """Answer each line until EOF or `quit`; `/nato …` lines are commands."""
    if prompt:
        out.write(
            f"briefbot: NATO–Japan briefing notes (to {bot.engine.kb.notes_end.human()}). Ask a question, "
            "or type /nato help. Ctrl-D or 'quit' to leave.\n"
        )
        out.write(PROMPT)
        out.flush()
    for line in lines:
        text = line.rstrip("\n")
        if text.strip().casefold() in ("quit", "exit", ":q"):
            break
        if text.strip():
            is_command = text.lstrip().startswith("/")
            request = Request(
                "console", "console-user", "console", text, is_command=is_command, user_is_manager=True
            )
            try:
                reply = bot.dispatch(request)
                out.write(render_reply(reply) + "\n")
            except Exception:  # the console keeps going whatever one line does
                _log.exception("failed to answer %r", text[:80])
                out.write("Sorry, something went wrong answering that. It has been logged.\n")
        if prompt:
            out.write(PROMPT)
        out.flush()
    if prompt:
        out.write("\n")
    return 0


class ConsolePoster:
    """Prints each post with the channel it was meant for."""

    platform = PLATFORM
    # A terminal takes any length; parts this long keep a long digest in pieces a
    # screen can show, numbered as on the chat platforms.
    message_limit = 3000

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        self.out.write(f"--> {channel.platform}:{channel.channel}\n{render_reply(reply)}\n\n")
        self.out.flush()
