"""`briefbot chat [--db PATH]`: the console harness on the terminal."""

from __future__ import annotations

import argparse
import sys

from adapters.cli.options import Subcommands, at_threshold, chosen_database, config_for, database
from adapters.console import PLATFORM, ConsolePoster, run_chat
from adapters.console.chat import PROMPT
from bot.dispatch import Bot
from bot.qa.engine import Engine

__all__ = ["register"]


def register(sub: Subcommands) -> None:
    chat = sub.add_parser("chat", help="interactive session in the terminal")
    chat.add_argument("--prompt", action="store_true", help="show the prompt even when not a TTY")
    chat.add_argument("--threshold", type=float, default=None)
    chat.add_argument(
        "--db",
        type=database,
        default=None,
        help="database (a SQLite file or postgresql:// URL): store feedback and enable /nato digest",
    )
    chat.set_defaults(handler=_cmd_chat)


def _cmd_chat(args: argparse.Namespace, engine: Engine) -> int:
    engine = at_threshold(engine, args)
    location = chosen_database(args)  # --db, BRIEFBOT_DB or the file; none: nothing stored
    ttl = config_for(args).context_ttl  # how long the session's context is kept
    if location is None:
        return _chat(Bot(engine, context_ttl=ttl), args)
    # Feedback, unanswered questions and digest commands stored.
    from bot.digests.commands import DigestCommands
    from bot.store.opening import open_store

    kb = engine.kb
    with open_store(location) as store:
        commands = DigestCommands(store, lambda: kb, message_limits={PLATFORM: ConsolePoster.message_limit})
        return _chat(Bot(engine, store=store, digest_handler=commands, context_ttl=ttl), args)


def _chat(bot: Bot, args: argparse.Namespace) -> int:
    """At a terminal: line editing and history; piped: the lines as they come, no history."""
    if sys.stdin.isatty():
        from adapters.console.line_editing import edited_lines, history_file

        lines = edited_lines(PROMPT, history_file())
        return run_chat(bot, lines, sys.stdout, prompt=True, lines_prompt=True)
    return run_chat(bot, sys.stdin, sys.stdout, prompt=args.prompt)
