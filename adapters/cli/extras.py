"""Which optional extra a command needs, checked before it starts: the core install (`make
run`, `pip install briefbot`) has no web server and no platform library, and a command
that needs one says which extra to install instead of failing with a traceback."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from adapters.registry import configured_platforms

__all__ = ["EXTRAS", "missing_extras"]

# platform -> (the extra that brings it, the modules it imports). aiohttp is the runtime's
# web server (/healthz, /metrics); both extras bring it (discord.py depends on it).
EXTRAS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "slack": ("slack", ("slack_bolt", "slack_sdk", "aiohttp")),
    "discord": ("discord", ("discord", "aiohttp")),
}


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def missing_extras(command: str, env: Mapping[str, str]) -> str | None:
    """None when `briefbot <command>` has every library it needs, else what to install.

    ``command`` is ``run`` (every platform whose credentials ``env`` holds), ``slack`` or
    ``discord``."""
    platforms = configured_platforms(env) if command == "run" else (command,)
    if not platforms:  # `run` with no credentials: it will say so, once it has a web server
        if _importable("aiohttp"):
            return None
        return (
            "`briefbot run` needs a platform's libraries, which the core install leaves out: "
            "pip install 'briefbot[slack]' or 'briefbot[discord]' (both: 'briefbot[slack,discord]')"
        )
    missing = sorted(name for name in platforms if not all(map(_importable, EXTRAS[name][1])))
    if not missing:
        return None
    extras = ",".join(EXTRAS[name][0] for name in missing)
    return (
        f"`briefbot {command}` needs the {' and '.join(n.capitalize() for n in missing)} libraries, "
        f"which the core install leaves out: pip install 'briefbot[{extras}]'"
    )
