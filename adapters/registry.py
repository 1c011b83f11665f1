"""The chat platforms ``briefbot run`` can start: a name, the credentials that switch it on,
and where its service comes from. A new platform is one package under ``adapters/`` and one
line in ``PLATFORMS``.

The runtime finds each platform's service here, by module name, so the adapters never
import the runtime, and a platform's library (slack-bolt, discord.py) is imported only when
that platform is started. Each ``service`` names a ``ServiceMaker``: it reads and checks the
platform's settings at once (a missing or malformed one raises ``ConfigError`` naming it,
before anything is opened) and returns the ``ServiceFactory`` the runtime later calls with
the one ``Bot`` every platform shares.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias, runtime_checkable

if TYPE_CHECKING:
    from aiohttp import web

    from bot.digests.poster import Poster
    from bot.dispatch import Bot
    from bot.ops.config import Config

__all__ = [
    "PLATFORMS",
    "Leased",
    "Losable",
    "Platform",
    "Service",
    "ServiceFactory",
    "ServiceMaker",
    "configured_platforms",
]


class Service(Protocol):
    """One platform as the runtime drives it (``SlackService``, ``DiscordService``)."""

    # Read-only here, so each adapter may name its own poster class.
    @property
    def platform(self) -> str: ...
    @property
    def poster(self) -> Poster: ...

    async def start(self) -> None: ...
    def mount(self, application: web.Application) -> None: ...
    def describe(self, port: int) -> str: ...
    async def connected(self) -> bool: ...
    async def stop_intake(self) -> None: ...
    async def drain(self, timeout: float) -> bool: ...
    async def close(self) -> None: ...
    async def notify_admins(self, text: str) -> None: ...


@runtime_checkable
class Losable(Protocol):
    """A service whose connection can end for good while the process runs (Discord, after a
    close it may not resume): ``lost`` returns then, with why; the runtime exits when no
    platform is left serving. A service without it is taken to keep itself connected."""

    async def lost(self) -> str: ...


@runtime_checkable
class Leased(Protocol):
    """A service that only one replica may connect at a time (Discord's gateway), and so
    connects only while this replica holds its lease in the store; the others stand by,
    healthy, ready to take over. ``leader`` says whether this replica holds it now."""

    @property
    def leader(self) -> bool: ...


ServiceFactory: TypeAlias = "Callable[[Bot], Service]"
ServiceMaker: TypeAlias = "Callable[[Config, Mapping[str, str]], ServiceFactory]"


@dataclass(frozen=True)
class Platform:
    """A platform is started when any of its ``variables`` is set; a half-configured one is
    then an error naming what is missing."""

    title: str
    variables: tuple[str, ...]
    needs: str  # what to set, for the message when nothing is configured
    service: str  # "module:function", a ServiceMaker

    def configured(self, env: Mapping[str, str]) -> bool:
        return any(env.get(name, "").strip() for name in self.variables)

    def maker(self) -> ServiceMaker:
        module, _, name = self.service.partition(":")
        maker: ServiceMaker = getattr(importlib.import_module(module), name)
        return maker


PLATFORMS: Mapping[str, Platform] = {
    "slack": Platform(
        "Slack",
        ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"),
        "SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)",
        "adapters.slack.service:service_factory",
    ),
    "discord": Platform(
        "Discord", ("DISCORD_TOKEN",), "DISCORD_TOKEN", "adapters.discord.service:service_factory"
    ),
}


def configured_platforms(
    env: Mapping[str, str], platforms: Mapping[str, Platform] = PLATFORMS
) -> tuple[str, ...]:
    """The platforms whose credentials ``env`` holds, in registry order."""
    return tuple(name for name, platform in platforms.items() if platform.configured(env))
