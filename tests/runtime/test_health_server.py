"""The runtime's web server: /metrics behind an optional bearer token (or loopback only),
/healthz always open but with details only for the token."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from adapters.runtime.health import HEALTH_PATH, METRICS_PATH, HealthServer
from bot.ops.metrics import Metrics


async def _healthy(detail: bool = False) -> tuple[bool, dict[str, Any]]:
    body: dict[str, Any] = {"status": "ok"}
    if detail:
        body["last_reload"] = {"problems": ["/srv/knowledge/people.yaml: entry person-x"]}
    return True, body


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


async def test_healthz_gives_details_only_to_the_token_holder() -> None:
    server = HealthServer("127.0.0.1", 0, _healthy, Metrics(), metrics_token="s3cret-metrics-token")
    await server.start()
    try:
        status, bare = await _get(server.port, HEALTH_PATH)
        assert status == 200 and "people.yaml" not in bare and "person-x" not in bare
        status, wrong = await _get(server.port, HEALTH_PATH, {"Authorization": "Bearer wrong"})
        assert status == 200 and "people.yaml" not in wrong
        status, full = await _get(server.port, HEALTH_PATH, {"Authorization": "Bearer s3cret-metrics-token"})
        assert status == 200 and "people.yaml" in full and "person-x" in full
    finally:
        await server.stop()


async def test_healthz_without_a_token_configured_never_gives_details() -> None:
    server = HealthServer("127.0.0.1", 0, _healthy, Metrics())
    await server.start()
    try:
        _, body = await _get(server.port, HEALTH_PATH, {"Authorization": "Bearer "})
        assert "people.yaml" not in body
    finally:
        await server.stop()


def _own_address() -> str | None:
    """An address of this machine other than loopback, or None (then the test skips)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent on a UDP connect
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


async def test_metrics_without_a_token_answer_only_loopback_peers() -> None:
    address = _own_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    server = HealthServer("0.0.0.0", 0, _healthy, Metrics())
    await server.start()
    try:
        assert (await _get(server.port, METRICS_PATH))[0] == 200  # from 127.0.0.1
        url = f"http://{address}:{server.port}{METRICS_PATH}"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 403
            assert "BRIEFBOT_METRICS_TOKEN" in await response.text()
    finally:
        await server.stop()


def test_the_default_health_host_is_loopback() -> None:
    from bot.ops.config import load_config

    config = load_config(None, {})
    assert config.health_host == "127.0.0.1"
