"""Discord as ``briefbot run`` drives it: log in, keep the gateway connected, drain, close.
``service_factory`` is Discord's entry in ``adapters.registry``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping

from adapters.discord.client import BriefbotClient
from adapters.discord.connection import discord_endpoints, invite_url, login, why_disconnected
from adapters.discord.settings import DiscordSettings
from bot.dispatch import Bot
from bot.errors import ConfigError
from bot.ops.config import Config

__all__ = ["DiscordService", "service_factory"]

# The platform's logger: the runtime counts its errors as Discord's (``adapters.registry``).
_log = logging.getLogger("adapters.discord")


class DiscordService:
    """Discord for ``adapters.runtime``: log in, keep the gateway connected, drain, close."""

    platform = "discord"

    def __init__(
        self,
        core: Bot,
        settings: DiscordSettings,
        *,
        ready_timeout: float = 30.0,
        message_content: bool = False,
    ) -> None:
        self.settings = settings
        self.client = BriefbotClient(core, message_content=message_content)
        self.poster = self.client.poster
        self.ready_timeout = ready_timeout
        self._endpoints = contextlib.ExitStack()
        self._task: asyncio.Task[None] | None = None
        # Set when the gateway connection ended for good while we were not closing it
        # (a close Discord forbids resuming: 4004 token rejected, 4010-4014).
        self._lost = asyncio.Event()
        self._lost_reason = ""
        self._started = False
        self._closing = False

    async def start(self) -> None:
        """Log in (a rejected token raises ConfigError) and connect; returns once READY
        or after ``ready_timeout`` (``/healthz`` says "connecting" until then)."""
        self._endpoints.enter_context(discord_endpoints(self.settings.api_base, self.settings.gateway))
        await login(self.client, self.settings.token)
        self._task = asyncio.create_task(self.client.connect(reconnect=True), name="briefbot-discord")
        self._task.add_done_callback(self._connection_ended)
        ready = asyncio.ensure_future(self.client.wait_until_ready())
        try:
            await asyncio.wait(
                {ready, self._task}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            ready.cancel()
        self._started = True
        if self._task.done():  # the gateway refused us: say why, and start-up fails
            raise ConfigError(f"cannot connect to Discord: {self._lost_reason}")

    def _connection_ended(self, task: asyncio.Task[None]) -> None:
        """discord.py reconnects by itself after every close it may resume; the gateway task
        ends only after one it may not, and then nothing else would say so."""
        if self._closing or task.cancelled():
            return
        self._lost_reason = why_disconnected(task.exception())
        self._lost.set()
        if self._started:  # during start-up, start() raises it instead
            _log.error("Discord: %s; not reconnecting, Discord is no longer served", self._lost_reason)

    async def lost(self) -> str:
        """Wait until the gateway connection has ended for good (never after ``close``);
        why, for the runtime, which stops the process when no platform is left serving."""
        await self._lost.wait()
        return self._lost_reason

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
        self._closing = True
        try:
            await self.client.close()
            if self._task is not None:
                # A connection already lost has been reported; its error is not news now.
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(self._task, 10)
        finally:
            self._endpoints.close()

    async def notify_admins(self, text: str) -> None:
        """No admin list on Discord yet; the log and /healthz carry the news."""


def service_factory(config: Config, env: Mapping[str, str]) -> Callable[[Bot], DiscordService]:
    """Discord's entry in ``adapters.registry``: the settings are read and checked now, before
    anything is opened (a missing or malformed one raises ConfigError naming it)."""
    settings = DiscordSettings.from_env(env)
    content = config.discord_message_content
    return lambda bot: DiscordService(bot, settings, message_content=content)
