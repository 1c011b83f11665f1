"""`briefbot run`, `briefbot slack` and `briefbot discord [sync]`: the chat platforms.

``run`` is ``adapters.runtime`` around every platform whose credentials are set; the other
two are the same runtime limited to one platform. The runtime and the platforms' libraries
are imported only here, when one of these commands runs, so the console works without the
optional Slack and Discord dependencies.
"""

from __future__ import annotations

import argparse

from adapters.cli.config import config_for
from adapters.cli.options import DB_HELP, Subcommands, at_threshold, database
from bot.knowledge.base import KnowledgeBase
from bot.qa.engine import Engine

__all__ = ["register_platforms", "register_run", "run_discord", "run_slack"]


def register_run(sub: Subcommands) -> None:
    run = sub.add_parser("run", help="run on every platform whose credentials are set (Slack, Discord)")
    run.add_argument("--db", type=database, default=None, help=DB_HELP)
    run.add_argument("--threshold", type=float, default=None)
    run.add_argument(
        "--port",
        type=int,
        default=None,
        help="/healthz, /metrics and Slack HTTP mode port (default 3000, or health.port)",
    )
    run.set_defaults(handler=_cmd_run, platform_command="run")


def register_platforms(sub: Subcommands) -> None:
    slack = sub.add_parser("slack", help="run on Slack (Socket Mode if SLACK_APP_TOKEN is set, else HTTP)")
    slack.add_argument(
        "--port", type=int, default=None, help="HTTP mode and /healthz port (default 3000, or health.port)"
    )
    slack.add_argument("--db", type=database, default=None, help=DB_HELP)
    slack.add_argument("--threshold", type=float, default=None)
    slack.set_defaults(handler=_cmd_slack, platform_command="slack")

    discord = sub.add_parser("discord", help="run on Discord (DISCORD_TOKEN)")
    discord.add_argument("--db", type=database, default=None, help=DB_HELP)
    discord.add_argument("--threshold", type=float, default=None)
    discord_sub = discord.add_subparsers(dest="discord_command")
    discord_sync = discord_sub.add_parser("sync", help="register the /nato slash commands")
    discord_sync.add_argument("--guild", type=int, default=None, help="sync to one guild (instant)")
    discord.set_defaults(handler=_cmd_discord, platform_command="discord")


def _cmd_run(args: argparse.Namespace, engine: Engine) -> int:
    from adapters.runtime import run

    return run(config_for(args), engine.kb, engine=engine)


def _cmd_slack(args: argparse.Namespace, engine: Engine) -> int:
    return run_slack(args, engine.kb, engine=engine)


def _cmd_discord(args: argparse.Namespace, engine: Engine) -> int:
    return run_discord(args, engine.kb, engine=engine)


def run_slack(args: argparse.Namespace, kb: KnowledgeBase, *, engine: Engine | None = None) -> int:
    """``briefbot slack``: the runtime with Slack alone (``briefbot run`` starts every platform).

    A missing or rejected setting raises ConfigError, which names it (never its value).
    ``engine``, when given, is one already built on ``kb`` (``bot.ops.prepared``).
    """
    from adapters.runtime import run

    return run(config_for(args), kb, only="slack", engine=engine)


def run_discord(args: argparse.Namespace, kb: KnowledgeBase, *, engine: Engine | None = None) -> int:
    """`briefbot discord [sync [--guild ID]]`: register the commands, or the runtime with
    Discord alone (``briefbot run`` starts every configured platform). ``engine``, when
    given, is one already built on ``kb`` (``bot.ops.prepared``)."""
    import asyncio

    from adapters.discord import BriefbotClient, DiscordSettings, discord_endpoints, sync_commands
    from adapters.runtime import run
    from bot.dispatch import Bot

    settings = DiscordSettings.from_env()
    if getattr(args, "discord_command", None) == "sync":
        with discord_endpoints(settings.api_base, settings.gateway):
            guild_id: int | None = getattr(args, "guild", None)
            prepared = engine if engine is not None and engine.kb is kb else Engine(kb)
            client = BriefbotClient(Bot(at_threshold(prepared, args)))
            count = asyncio.run(sync_commands(client, settings.token, guild_id))
        where = f"guild {guild_id}, available now" if guild_id else "every server; may take up to an hour"
        print(f"Registered /nato ({count} command) for {where}.")
        return 0
    return run(config_for(args), kb, only="discord", engine=engine)
