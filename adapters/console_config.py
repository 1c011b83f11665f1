"""`briefbot config show`: the effective configuration, each value with where it came from.

Secrets are never printed: for each secret variable only whether it is set. The list of
platforms that `briefbot run` would start follows from the same rule the runtime uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from adapters.runtime import PLATFORMS, configured_platforms
from bot.knowledge.base import default_knowledge_dir
from bot.ops.config import SECRET_VARIABLES, Config

__all__ = ["show_config"]


def _value(config: Config, key: str, value: object) -> str:
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
        wanted = "; ".join(f"{p}: {' / '.join(names)}" for p, names in PLATFORMS.items())
        lines.append(f"# `briefbot run` would start nothing: no credentials set ({wanted})")
    return "\n".join(lines)
