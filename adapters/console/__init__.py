"""The console: the bot in a terminal, and the end-to-end harness the tests drive.

Like every adapter it only translates: a line of text becomes a ``Request`` for
``Bot.dispatch`` and the ``Reply`` becomes plain text (``rendering``). ``Console`` is one
person at a terminal (a line in, the printed reply out; ``chat``), ``run_chat`` is the
`briefbot chat` loop around it, and ``ConsolePoster`` prints what the digest scheduler
posts (``poster``).
"""

from __future__ import annotations

from adapters.console.chat import APOLOGY, Console, run_chat
from adapters.console.poster import PLATFORM, ConsolePoster
from adapters.console.rendering import render_reply

__all__ = ["APOLOGY", "PLATFORM", "Console", "ConsolePoster", "render_reply", "run_chat"]
