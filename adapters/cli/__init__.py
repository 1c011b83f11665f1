"""The `briefbot` command: a chat console, one-shot and batch answers, digests, the
knowledge base's tooling and the chat platforms' runtime.

``parser.py`` assembles the commands; each group lives in its own module (``ask``,
``chat``, ``kb``, ``digests``, ``platforms``, ``config``) and registers its own
sub-commands. ``main.py`` turns a command line into one handler call. Like every adapter
it only translates: the work is done by ``bot`` and, for the long-running commands, by
``adapters.runtime``.
"""

from __future__ import annotations

from adapters.cli.main import main

__all__ = ["main"]
