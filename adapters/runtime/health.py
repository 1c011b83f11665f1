"""The runtime's web server: ``GET /healthz`` and ``GET /metrics`` (and, in Slack's HTTP
mode, ``POST /slack/events``, which the Slack adapter mounts on the same server).

The server binds loopback unless told otherwise (``health.host``; the runtime widens it only
for Slack's HTTP mode, and logs that it did), so neither route is public by default.

``/metrics`` wants ``Authorization: Bearer <token>`` when ``BRIEFBOT_METRICS_TOKEN`` is set
(Prometheus: ``authorization: {credentials: ...}``). Without a token it answers only
requests from this machine (a loopback peer): a server that listens more widely must not
hand its counters to anyone who asks, so scraping from elsewhere means setting the token.

``/healthz`` answers 200 only while every started adapter is connected (or, for Discord,
standing by while another replica holds the gateway) and the process is not shutting down,
else 503. Its body says only ok / not ok per component; with the metrics token it also says
the knowledge base's version and size, the last reload's problems (file paths, entry ids),
for an operator or ``briefbot kb reload``, and whether this replica holds each gateway
(``gateway``). Neither route shows a secret, a user or a question.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from adapters.healthcheck import HEALTH_PATH  # one route for the server and its probe
from bot.errors import ConfigError
from bot.ops.metrics import CONTENT_TYPE, Metrics

__all__ = ["HEALTH_PATH", "METRICS_PATH", "HealthServer", "is_loopback"]

_log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"

# (detail) -> (healthy, body); with detail False the body says only ok / not ok per component.
Status = Callable[[bool], Awaitable[tuple[bool, dict[str, Any]]]]
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def is_loopback(host: str) -> bool:
    """Whether listening on ``host`` keeps the server to this machine."""
    return host in _LOOPBACK or host.startswith("127.")


class HealthServer:
    """Routes can be added to ``application`` until ``start()``."""

    def __init__(
        self, host: str, port: int, status: Status, metrics: Metrics, metrics_token: str | None = None
    ) -> None:
        self.host = host
        self.port = port
        self._status = status
        self._metrics = metrics
        self._expected_auth = f"Bearer {metrics_token}".encode() if metrics_token else None
        self.application = web.Application()
        self.application.router.add_get(HEALTH_PATH, self._health)
        self.application.router.add_get(METRICS_PATH, self._metrics_page)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        # shutdown_timeout: how long stop() lets requests in progress (a Slack delivery
        # being acknowledged) finish.
        runner = web.AppRunner(self.application, access_log=None, shutdown_timeout=10.0, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"cannot listen on {self.host}:{self.port} for /healthz ({exc.strerror or exc}); "
                "set health.port / BRIEFBOT_HEALTH_PORT to a free port"
            ) from None
        self._runner = runner
        if self.port == 0:  # a free port was asked for (tests): report the one chosen
            self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def _authorized(self, request: web.Request) -> bool:
        if self._expected_auth is None:
            return False
        given = request.headers.get("Authorization", "").encode()
        return hmac.compare_digest(given, self._expected_auth)  # constant time

    async def _health(self, request: web.Request) -> web.Response:
        ok, body = await self._status(self._authorized(request))
        return web.json_response(body, status=200 if ok else 503)

    async def _metrics_page(self, request: web.Request) -> web.Response:
        if self._expected_auth is not None and not self._authorized(request):
            return web.Response(
                status=401,
                text="/metrics needs the bearer token set in BRIEFBOT_METRICS_TOKEN\n",
                headers={"WWW-Authenticate": 'Bearer realm="briefbot metrics"'},
            )
        if self._expected_auth is None and not is_loopback(request.remote or ""):
            return web.Response(
                status=403,
                text="/metrics answers other machines only with a token: set BRIEFBOT_METRICS_TOKEN\n",
            )
        await self._status(False)  # refreshes the connection gauges
        response = web.Response(body=self._metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response
