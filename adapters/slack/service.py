"""Slack as ``briefbot run`` drives it: check the token, connect in Socket Mode or mount
``POST /slack/events`` on the runtime's web server, stop taking events, wait for answers
in flight. ``service_factory`` is Slack's entry in ``adapters.registry``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError

from adapters.slack.api_errors import error_code
from adapters.slack.app import EVENTS_PATH, SlackApp, build_app
from adapters.slack.settings import SlackSettings
from bot.dispatch import Bot
from bot.errors import ConfigError
from bot.ops.config import Config

__all__ = ["SlackService", "connect_socket_mode", "serve_http", "service_factory"]

_log = logging.getLogger(__name__)


async def serve_http(app: SlackApp, host: str, port: int) -> web.AppRunner:
    """Start the HTTP-mode server; ``port=0`` picks a free one (see ``runner.addresses``)."""
    runner = web.AppRunner(app.web_application(), access_log=None, shutdown_timeout=10.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner


async def connect_socket_mode(
    app: SlackApp, app_token: str, ping_interval: float = 10
) -> AsyncSocketModeHandler:
    """Open the Socket Mode connection; the handler reconnects by itself when Slack asks.

    The first websocket URL is requested here rather than by slack_sdk, which would retry a
    rejected app token forever: a wrong SLACK_APP_TOKEN stops start-up instead.
    """
    try:
        opened = await app.client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        raise ConfigError(f"SLACK_APP_TOKEN was rejected by Slack ({error_code(exc)})") from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Slack API ({type(exc).__name__}); check SLACK_API_URL") from exc
    handler = AsyncSocketModeHandler(app.bolt, app_token, web_client=app.client, ping_interval=ping_interval)
    handler.client.wss_uri = str(opened["url"])
    await handler.connect_async()  # type: ignore[no-untyped-call]  # slack_bolt leaves it unannotated
    return handler


# -- run by the runtime ---------------------------------------------------------------


class SlackService:
    """Slack for ``adapters.runtime``: one workspace, in Socket Mode or over HTTP."""

    platform = "slack"

    def __init__(self, bot: Bot, settings: SlackSettings) -> None:
        self.settings = settings
        self.app = build_app(
            bot,
            token=settings.bot_token,
            signing_secret=settings.signing_secret,
            api_url=settings.api_url,
            digest_admins=settings.digest_admins,
        )
        self.poster = self.app.poster
        self.team = "?"
        self._socket: AsyncSocketModeHandler | None = None
        self._started = False

    async def start(self) -> None:
        """Check the token and, in Socket Mode, connect; a rejected setting raises ConfigError."""
        self.team = await self.app.check_auth()
        if self.settings.app_token is not None:
            self._socket = await connect_socket_mode(self.app, self.settings.app_token)
        self._started = True

    def mount(self, application: web.Application) -> None:
        """HTTP mode: Slack's deliveries arrive on the runtime's web server."""
        if self.settings.app_token is None:
            application.router.add_post(EVENTS_PATH, self.app.http_events)

    def describe(self, port: int) -> str:
        where = "Socket Mode" if self.settings.socket_mode else f"HTTP on port {port} (POST {EVENTS_PATH})"
        return f"answering in Slack workspace {self.team} via {where}"

    async def connected(self) -> bool:
        if not self._started:
            return False
        if self._socket is None:
            return True  # HTTP mode: Slack connects to us; being up is all there is
        try:
            return bool(await self._socket.client.is_connected())
        except Exception:  # asking must never break /healthz
            _log.warning("could not read the Socket Mode connection state", exc_info=True)
            return False

    async def stop_intake(self) -> None:
        """No new events: close the Socket Mode connection (HTTP stops with the web server)."""
        socket, self._socket = self._socket, None
        self._started = False
        if socket is not None:
            await socket.close_async()  # type: ignore[no-untyped-call]  # slack_bolt leaves it unannotated

    async def drain(self, timeout: float) -> bool:
        return await self.app.wait_idle(timeout)

    async def close(self) -> None:
        """The core thread; the Web API client itself opens a session per call."""
        await asyncio.to_thread(self.app.lifecycle.close)

    async def notify_admins(self, text: str) -> None:
        """A direct message to each user on the digest admin list (SLACK_DIGEST_ADMINS)."""
        for user in sorted(self.settings.digest_admins):
            try:
                await self.app.client.chat_postMessage(channel=user, text=text, unfurl_links=False)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                code = error_code(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
                _log.warning("could not tell a digest admin about it (%s)", code)


def service_factory(config: Config, env: Mapping[str, str]) -> Callable[[Bot], SlackService]:
    """Slack's entry in ``adapters.registry``: the settings are read and checked now, before
    anything is opened (a missing or malformed one raises ConfigError naming it)."""
    settings = replace(SlackSettings.from_env(env), digest_admins=config.slack_digest_admins)
    return lambda bot: SlackService(bot, settings)
