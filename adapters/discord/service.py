"""Discord as ``briefbot run`` drives it: log in, keep the gateway connected, drain, close.
``service_factory`` is Discord's entry in ``adapters.registry``.

Several replicas: Discord delivers every message and interaction to every gateway
connection of a bot, so only the replica holding the lease ``discord-gateway:<application
id>`` in the shared store connects (``adapters.leadership``); the others log in (digests are
posted over REST by whichever replica claims them) and stand by, and one of them connects
when the holder stops or dies. Without a store that keeps leases, it simply connects.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Mapping

from adapters.discord.client import BriefbotClient
from adapters.discord.connection import discord_endpoints, invite_url, login, why_disconnected
from adapters.discord.settings import DiscordSettings
from adapters.leadership import Leadership
from bot.dispatch import Bot
from bot.errors import ConfigError
from bot.ops.config import Config
from bot.store.protocol import Leases

__all__ = ["DiscordService", "gateway_lease_name", "service_factory"]

# The platform's logger: the runtime counts its errors as Discord's (``adapters.registry``).
_log = logging.getLogger("adapters.discord")

DEFAULT_LEASE_SECONDS = 15.0


def gateway_lease_name(client: BriefbotClient, token: str) -> str:
    """One lease per bot: its application id (public), or else a hash of the token, never the
    token itself, which must not reach the store."""
    identity = client.application_id or (client.user.id if client.user is not None else None)
    if identity is not None:
        return f"discord-gateway:{identity}"
    return f"discord-gateway:sha256-{hashlib.sha256(token.encode()).hexdigest()[:16]}"


class DiscordService:
    """Discord for ``adapters.runtime``: log in, hold the gateway (or stand by), drain, close."""

    platform = "discord"

    def __init__(
        self,
        core: Bot,
        settings: DiscordSettings,
        *,
        ready_timeout: float = 30.0,
        message_content: bool = False,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.settings = settings
        self.client = BriefbotClient(core, message_content=message_content)
        self.poster = self.client.poster
        self.ready_timeout = ready_timeout
        self.lease_seconds = lease_seconds
        self._leases = core.store if isinstance(core.store, Leases) else None
        self.leadership: Leadership | None = None
        self._leading: asyncio.Task[None] | None = None
        self._endpoints = contextlib.ExitStack()
        self._task: asyncio.Task[None] | None = None  # the gateway connection, while held
        # Set when the gateway connection ended for good while we were not closing it
        # (a close Discord forbids resuming: 4004 token rejected, 4010-4014).
        self._lost = asyncio.Event()
        self._lost_reason = ""
        self._started = False
        self._closing = False
        self._giving_up: asyncio.Task[None] | None = None

    @property
    def leader(self) -> bool:
        """Whether this replica holds the gateway (always, with no shared store to ask)."""
        return self.leadership is None or self.leadership.held

    async def start(self) -> None:
        """Log in (a rejected token raises ConfigError), then connect if this replica holds the
        gateway lease; returns once READY or after ``ready_timeout`` (``/healthz`` says
        "connecting" until then), or at once when standing by."""
        self._endpoints.enter_context(discord_endpoints(self.settings.api_base, self.settings.gateway))
        await login(self.client, self.settings.token)
        if self._leases is None:
            self._connect()
        else:
            leadership = self.leadership = Leadership(
                self._leases,
                gateway_lease_name(self.client, self.settings.token),
                ttl=self.lease_seconds,
                on_leader=self._lead,
                on_standby=self._stand_by,
            )
            self._leading = asyncio.create_task(leadership.run(), name="briefbot-discord-lease")
            decided = asyncio.ensure_future(leadership.wait_decided())
            try:
                await asyncio.wait({decided, self._leading}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                decided.cancel()
            if self._leading.done():
                self._leading.result()  # it failed: raise why
            if not leadership.held:
                self._started = True
                return
        task = self._task
        assert task is not None
        ready = asyncio.ensure_future(self.client.wait_until_ready())
        try:
            await asyncio.wait({ready, task}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
        self._started = True
        if task.done() and not task.cancelled():  # the gateway refused us: say why, and start-up fails
            raise ConfigError(f"cannot connect to Discord: {self._lost_reason}")

    def _connect(self) -> None:
        self._task = asyncio.create_task(self.client.connect(reconnect=True), name="briefbot-discord")
        self._task.add_done_callback(self._connection_ended)

    async def _lead(self) -> None:
        assert self.leadership is not None
        _log.info(
            "Discord: this replica holds the gateway now (lease %s, renewed every %.0f s); connecting",
            self.leadership.name,
            self.leadership.interval,
        )
        if self._task is None or self._task.done():
            self._connect()

    async def _stand_by(self, why: str) -> None:
        """Not (or no longer) the holder: off the gateway at once, so two never answer."""
        task, self._task = self._task, None
        if task is None:
            _log.info(
                "Discord: standing by (%s); this replica connects to the gateway if the holder "
                "stops or dies",
                why,
            )
            return
        _log.warning("Discord: %s; disconnecting from the gateway and standing by", why)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        socket = self.client.ws
        if socket is not None and socket.open:
            await socket.close(code=1000)  # a clean close: Discord ends the session
        # Not ready until the next READY, so /healthz and a later start wait for it.
        self.client._ready.clear()

    def _connection_ended(self, task: asyncio.Task[None]) -> None:
        """discord.py reconnects by itself after every close it may resume; the gateway task
        ends only after one it may not, and then nothing else would say so."""
        if self._closing or task.cancelled():
            return
        self._lost_reason = why_disconnected(task.exception())
        self._lost.set()
        if self.leadership is not None:
            # Another replica may do better with the gateway than this one now can.
            self._giving_up = asyncio.ensure_future(self._give_up_lease())
        if self._started:  # during start-up, start() raises it instead
            _log.error("Discord: %s; not reconnecting, Discord is no longer served", self._lost_reason)

    async def _give_up_lease(self) -> None:
        leading = self._leading
        if leading is not None:
            leading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await leading
        if self.leadership is not None:
            await self.leadership.release()

    async def lost(self) -> str:
        """Wait until the gateway connection has ended for good (never after ``close``);
        why, for the runtime, which stops the process when no platform is left serving."""
        await self._lost.wait()
        return self._lost_reason

    def mount(self, application: object) -> None:
        """Discord needs no route on the web server: the bot connects out to the gateway."""

    def describe(self, port: int) -> str:
        client = self.client
        if not self.leader:
            return (
                f"standing by on Discord as {client.user}: another replica holds the gateway; "
                "this one connects if it stops or dies"
            )
        line = f"answering on Discord as {client.user} in {len(client.guilds)} server(s)"
        if client.application_id is not None:
            line += f"; invite: {invite_url(client.application_id)}"
        return line

    async def connected(self) -> bool:
        client = self.client
        if not self.leader or not client.is_ready() or client.is_closed():
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
            for task in (self._leading, self._giving_up):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            await self.client.close()
            if self._task is not None:
                # A connection already lost has been reported; its error is not news now.
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(self._task, 10)
            if self.leadership is not None:
                # Off the gateway first, then the lease: a standby takes over at its next try.
                await self.leadership.release()
        finally:
            self._endpoints.close()

    async def notify_admins(self, text: str) -> None:
        """No admin list on Discord yet; the log and /healthz carry the news."""


def service_factory(config: Config, env: Mapping[str, str]) -> Callable[[Bot], DiscordService]:
    """Discord's entry in ``adapters.registry``: the settings are read and checked now, before
    anything is opened (a missing or malformed one raises ConfigError naming it)."""
    settings = DiscordSettings.from_env(env)
    content, lease = config.discord_message_content, config.discord_lease_seconds
    return lambda bot: DiscordService(bot, settings, message_content=content, lease_seconds=lease)
