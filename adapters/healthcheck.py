"""`briefbot health`: whether the briefbot running on this machine says it is healthy.

The Docker image's HEALTHCHECK runs it. It reads the settings exactly as `briefbot run`
does (``briefbot.toml`` or ``--config``, then ``BRIEFBOT_*``), so it asks the port the bot
serves on, wherever that was set. It needs only the standard library: a check every 30 s
should not load the bot's web server, knowledge base or platform libraries.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import TextIO

from bot.ops.config import Config

__all__ = ["HEALTH_PATH", "check_health", "health_url"]

HEALTH_PATH = "/healthz"  # the route adapters.runtime.health serves


def health_url(config: Config) -> str:
    """Where this machine reaches the health server ``config`` describes."""
    host = config.health_host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"  # listening everywhere includes here
    elif ":" in host:
        host = f"[{host}]"  # an IPv6 address in a URL
    return f"http://{host}:{config.health_port}{HEALTH_PATH}"


def check_health(config: Config, out: TextIO, timeout: float = 4.0) -> int:
    """0 when /healthz answers 200, else 1; one line on ``out`` says which and why."""
    url = health_url(config)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:  # 503: running, but a platform is down or it is stopping
        status = exc.code
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        print(f"unhealthy: nothing answers at {url} ({reason})", file=out)
        return 1
    if status == 200:
        print(f"healthy: {url} answers 200", file=out)
        return 0
    print(f"unhealthy: {url} answers {status}", file=out)
    return 1
