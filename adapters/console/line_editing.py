"""Line editing and history for `briefbot chat` at a terminal, with the standard library's
``readline``: arrow keys move and recall instead of printing ``^[[D``.

Used only when stdin is a terminal: piped input (``printf … | briefbot chat``) is read
as it comes, with no history written. The history file lives in the cache directory
(``bot.ops.prepared.cache_dir``), holds the last ``HISTORY_LENGTH`` lines and is readable
by its owner alone, since it holds the questions asked.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["HISTORY_LENGTH", "edited_lines", "history_file"]

_log = logging.getLogger(__name__)

HISTORY_LENGTH = 1000


def history_file() -> Path | None:
    """Where the chat history is kept, or None when there is no cache directory."""
    from bot.ops.prepared import cache_dir

    directory = cache_dir()
    return None if directory is None else directory / "chat_history"


def edited_lines(prompt: str, history: Path | None) -> Iterator[str]:
    """Lines typed at the terminal, each read with ``prompt`` and line editing, until EOF
    (Ctrl-D); the history is loaded first and saved when the iteration ends."""
    try:
        import readline  # importing it is what gives input() line editing
    except ImportError:  # a Python built without it: plain input(), still a working chat
        readline = None  # type: ignore[assignment]
    if readline is not None:
        readline.set_history_length(HISTORY_LENGTH)
        if history is not None:
            with contextlib.suppress(FileNotFoundError):
                try:
                    readline.read_history_file(history)
                except OSError as exc:  # unreadable: start afresh rather than refuse to chat
                    _log.warning("cannot read the chat history %s: %s", history, exc)
    try:
        while True:
            try:
                yield input(prompt) + "\n"
            except EOFError:
                return
    finally:
        if readline is not None and history is not None:
            _save(readline, history)


def _save(readline: object, history: Path) -> None:
    try:
        history.parent.mkdir(parents=True, exist_ok=True)
        readline.write_history_file(history)  # type: ignore[attr-defined]
        os.chmod(history, 0o600)  # the questions asked are the user's own
    except OSError as exc:
        _log.warning("cannot save the chat history to %s: %s", history, exc)
