"""The runtime's web server: ``GET /healthz`` and ``GET /metrics`` (and, in Slack's HTTP
mode, ``POST /slack/events``, which the Slack adapter mounts on the same server).

``/metrics`` is open unless ``BRIEFBOT_METRICS_TOKEN`` is set; then it wants
``Authorization: Bearer <token>`` (Prometheus: ``authorization: {credentials: ...}``), so
the counters need not be public when Slack's HTTP mode puts this server on the internet.

``/healthz`` answers 200 only while every started adapter is connected and the process is
not shutting down, else 503; its JSON body says each adapter's state, the knowledge
base's version and size, and the last reload's result, so an operator (or ``briefbot kb
reload``) can read what happened. Neither route shows a secret, a user or a question.
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

__all__ = ["HEALTH_PATH", "METRICS_PATH", "HealthServer"]

_log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"

Status = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]


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

    async def _health(self, request: web.Request) -> web.Response:
        ok, body = await self._status()
        return web.json_response(body, status=200 if ok else 503)

    async def _metrics_page(self, request: web.Request) -> web.Response:
        if self._expected_auth is not None:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, self._expected_auth):  # constant time
                return web.Response(
                    status=401,
                    text="/metrics needs the bearer token set in BRIEFBOT_METRICS_TOKEN\n",
                    headers={"WWW-Authenticate": 'Bearer realm="briefbot metrics"'},
                )
        await self._status()  # refreshes the connection gauges
        response = web.Response(body=self._metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response
