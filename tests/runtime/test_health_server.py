"""The runtime's web server: /metrics behind an optional bearer token, /healthz always open."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from adapters.runtime.health import HEALTH_PATH, METRICS_PATH, HealthServer
from bot.ops.metrics import Metrics


async def _healthy() -> tuple[bool, dict[str, Any]]:
    return True, {"status": "ok"}


async def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    url = f"http://127.0.0.1:{port}{path}"
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers or {}) as response:
        return response.status, await response.text()


@pytest.mark.parametrize(
    ("token", "authorization", "status"),
    [
        (None, None, 200),  # no token configured: open, as before
        ("s3cret-metrics-token", None, 401),
        ("s3cret-metrics-token", "Bearer wrong", 401),
        ("s3cret-metrics-token", "s3cret-metrics-token", 401),  # the scheme is required
        ("s3cret-metrics-token", "Bearer s3cret-metrics-token", 200),
    ],
)
async def test_metrics_answer_only_with_the_token_when_one_is_set(
    token: str | None, authorization: str | None, status: int
) -> None:
    server = HealthServer("127.0.0.1", 0, _healthy, Metrics(), metrics_token=token)
    await server.start()
    try:
        headers = {"Authorization": authorization} if authorization else None
        got, body = await _get(server.port, METRICS_PATH, headers)
        assert got == status
        if status == 200:
            assert "briefbot_" in body
        else:
            assert "BRIEFBOT_METRICS_TOKEN" in body and (token or "") not in body
        # The health check never needs the token: orchestrators probe it bare.
        assert (await _get(server.port, HEALTH_PATH))[0] == 200
    finally:
        await server.stop()
