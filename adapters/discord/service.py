"""Discord as ``briefbot run`` drives it: log in, keep the gateway connected, drain, close.
``service_factory`` is Discord's entry in ``adapters.registry``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

from adapters.discord.client import BriefbotClient
from adapters.discord.connection import discord_endpoints, invite_url, login
from adapters.discord.settings import DiscordSettings
from bot.dispatch import Bot
from bot.ops.config import Config

__all__ = ["DiscordService", "service_factory"]


class DiscordService:
    """Discord for ``adapters.runtime``: log in, keep the gateway connected, drain, close."""

    platform = "discord"

    def __init__(self, core: Bot, settings: DiscordSettings, *, ready_timeout: float = 30.0) -> None:
        self.settings = settings
        self.client = BriefbotClient(core)
        self.poster = self.client.poster
        self.ready_timeout = ready_timeout
        self._endpoints = contextlib.ExitStack()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in (a rejected token raises ConfigError) and connect; returns once READY
        or after ``ready_timeout`` (``/healthz`` says "connecting" until then)."""
        self._endpoints.enter_context(discord_endpoints(self.settings.api_base, self.settings.gateway))
        await login(self.client, self.settings.token)
        self._task = asyncio.create_task(self.client.connect(reconnect=True), name="briefbot-discord")
        ready = asyncio.ensure_future(self.client.wait_until_ready())
        try:
            await asyncio.wait(
                {ready, self._task}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            ready.cancel()
        if self._task.done():
            self._task.result()  # the gateway refused us: raise why

    def mount(self, application: object) -> None:
        """Discord needs no route on the web server: the bot connects out to the gateway."""

    def describe(self, port: int) -> str:
        client = self.client
        line = f"answering on Discord as {client.user} in {len(client.guilds)} server(s)"
        if client.application_id is not None:
            line += f"; invite: {invite_url(client.application_id)}"
        return line

    async def connected(self) -> bool:
        client = self.client
        if not client.is_ready() or client.is_closed():
            return False
        socket = client.ws
        return socket is not None and bool(socket.open)

    async def stop_intake(self) -> None:
        self.client.lifecycle.draining = True

    async def drain(self, timeout: float) -> bool:
        return await self.client.wait_idle(timeout)

    async def close(self) -> None:
        try:
            await self.client.close()
            if self._task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(self._task, 10)
        finally:
            self._endpoints.close()

    async def notify_admins(self, text: str) -> None:
        """No admin list on Discord yet; the log and /healthz carry the news."""


def service_factory(config: Config, env: Mapping[str, str]) -> Callable[[Bot], DiscordService]:
    """Discord's entry in ``adapters.registry``: the settings are read and checked now, before
    anything is opened (a missing or malformed one raises ConfigError naming it)."""
    settings = DiscordSettings.from_env(env)
    return lambda bot: DiscordService(bot, settings)
