"""`briefbot config show`, and the configuration a command line asks for.

Secrets are never printed: for each secret variable only whether it is set. The list of
platforms that `briefbot run` would start follows from the same rule the runtime uses.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.cli.options import Subcommands, config_for
from adapters.registry import PLATFORMS, configured_platforms

if TYPE_CHECKING:  # imported when used: `briefbot ask` never reads a settings file
    from bot.ops.config import Config

__all__ = ["config_for", "register", "show_config"]


def register(sub: Subcommands) -> None:
    config = sub.add_parser("config", help="show the effective configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    config_sub.add_parser("show", help="every setting, its value and where it came from; secrets redacted")
    config.set_defaults(before_engine=_cmd_show)


def _cmd_show(args: argparse.Namespace) -> int:
    print(show_config(config_for(args), os.environ))
    return 0


def _value(config: Config, key: str, value: object) -> str:
    from bot.knowledge.base import default_knowledge_dir

    if key == "knowledge_dir" and value is None:
        return f"{default_knowledge_dir()} (bundled)"
    if key == "pid_file" and value is None:
        return f"{config.effective_pid_file} (beside the database)"
    if isinstance(value, frozenset):
        return ", ".join(sorted(value)) or "(none)"
    if isinstance(value, Path):
        return str(value)
    return str(value)


def show_config(config: Config, env: Mapping[str, str]) -> str:
    from bot.ops.config import SECRET_VARIABLES

    lines = [f"# briefbot configuration; file: {config.file if config.file is not None else 'none'}"]
    rows = [(key, _value(config, key, value), origin) for key, value, origin in config.items()]
    width = max(len(key) for key, _, _ in rows)
    value_width = min(48, max(len(value) for _, value, _ in rows))
    for key, value, origin in rows:
        lines.append(f"{key:<{width}} = {value:<{value_width}}  ({origin})")
    lines.append("# secrets: environment only, never shown")
    for name in SECRET_VARIABLES:
        state = "set (redacted)" if env.get(name, "").strip() else "not set"
        lines.append(f"{name:<{width}} = {state}")
    platforms = configured_platforms(env)
    if platforms:
        lines.append(f"# `briefbot run` would start: {', '.join(platforms)}")
    else:
        wanted = "; ".join(f"{name}: {' / '.join(p.variables)}" for name, p in PLATFORMS.items())
        lines.append(f"# `briefbot run` would start nothing: no credentials set ({wanted})")
    return "\n".join(lines)
