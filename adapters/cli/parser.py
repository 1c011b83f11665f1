"""The `briefbot` command line's grammar: the global options, then each command group's own."""

from __future__ import annotations

import argparse
from pathlib import Path

from adapters.cli import ask, chat, config, curate, db, digests, health, kb, platforms

__all__ = ["build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefbot", description="NATO–Japan briefing bot.")
    parser.add_argument(
        "--knowledge", type=Path, default=None, help="knowledge directory (default: the bundled one)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="settings file (default: $BRIEFBOT_CONFIG, else ./briefbot.toml if present)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    # In the order `briefbot --help` lists them.
    for register in (
        platforms.register_run,
        config.register,
        health.register,
        chat.register,
        ask.register,  # and eval
        kb.register,
        platforms.register_platforms,  # slack, discord
        digests.register,
        db.register,
        kb.register_feedback,
        curate.register,
    ):
        register(sub)
    return parser
