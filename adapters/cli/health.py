"""`briefbot health`: whether the briefbot running here answers /healthz (Docker's HEALTHCHECK).

It reads the settings as `run` does and needs no knowledge base and no web framework.
"""

from __future__ import annotations

import argparse
import os
import sys

from adapters.cli.options import Subcommands

__all__ = ["register"]


def register(sub: Subcommands) -> None:
    health = sub.add_parser(
        "health",
        help="exit 0 if the briefbot running here answers /healthz with 200 (the port `run` serves on)",
    )
    health.set_defaults(before_engine=_cmd_health)


def _cmd_health(args: argparse.Namespace) -> int:
    from adapters.healthcheck import check_health
    from bot.ops.config import load_config

    return check_health(load_config(args.config, os.environ), sys.stdout)
