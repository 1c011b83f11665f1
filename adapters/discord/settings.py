"""What the Discord adapter reads from the environment, checked at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.errors import ConfigError

__all__ = ["DiscordSettings"]


def _endpoint_from_env(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ConfigError(f"{name} must be a {' or '.join(schemes)} URL")
    return value


def _token_from_env(env: Mapping[str, str]) -> str:
    token = env.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise ConfigError(
            "DISCORD_TOKEN is not set: copy the bot token from the Discord developer portal "
            "(Application > Bot > Reset Token) into the DISCORD_TOKEN environment variable"
        )
    return token


@dataclass(frozen=True)
class DiscordSettings:
    """What the Discord adapter reads from the environment; the token never appears in repr."""

    token: str = field(repr=False)
    api_base: str | None = None
    gateway: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DiscordSettings:
        """Read and check the settings (from ``os.environ`` unless given); a missing or
        malformed one raises ConfigError naming it."""
        env = os.environ if env is None else env
        return cls(
            _token_from_env(env),
            _endpoint_from_env(env, "DISCORD_API_BASE", ("http", "https")),
            _endpoint_from_env(env, "DISCORD_GATEWAY_URL", ("ws", "wss")),
        )
