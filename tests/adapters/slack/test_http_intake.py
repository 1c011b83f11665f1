"""HTTP mode's gate (#14.1): whatever an unsigned or malformed request holds, it gets a 4xx
and one short log line without its body, and bolt never sees it."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from adapters.slack.intake import MAX_BODY
from tests.adapters.slack.emulator import sign
from tests.adapters.slack.harness import SIGNING_SECRET, SlackHarness

FORGED = "2026-01-01T00:00:00Z ERROR bot.forged: the database was deleted"


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackHarness.running("http", tmp_path / "briefbot.sqlite3") as harness:
        yield harness


def url(slack: SlackHarness) -> str:
    assert slack.sender is not None
    return slack.sender.url


async def post(slack: SlackHarness, body: bytes, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url(slack), data=io.BytesIO(body), headers=headers) as r,
    ):
        return r.status


def signed(
    body: bytes, *, content_type: str = "application/json", stamp: str | None = None
) -> dict[str, str]:
    stamp = stamp or str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign(SIGNING_SECRET, stamp, body),
    }


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith("refused a Slack request")]


async def test_an_unsigned_megabyte_is_refused_unread_and_logged_in_one_short_line(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = (b"x" * 1000 + b"\n" + FORGED.encode()) * 1000
    for _ in range(5):
        assert await post(slack, body, {"Content-Type": "application/json"}) == 401
    assert len(refusals(caplog)) == 5
    assert all(len(r.getMessage()) < 100 for r in refusals(caplog))
    assert "xxxxxxxx" not in caplog.text and "forged" not in caplog.text
    assert slack.emulator.calls == []


async def test_a_badly_signed_request_logs_no_body(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = b'{"type": "event_callback", "secret-body": "' + FORGED.encode() + b'"}'
    headers = signed(body) | {"X-Slack-Signature": "v0=" + "0" * 64}
    assert await post(slack, body, headers) == 401
    [refused] = refusals(caplog)
    assert "bad signature" in refused.getMessage()
    assert "secret-body" not in caplog.text


@pytest.mark.parametrize("stamp", ["abc", "1.5", "0x10", "-5", "", "9" * 40])
async def test_a_malformed_timestamp_is_a_401_not_a_500(slack: SlackHarness, stamp: str) -> None:
    body = b'{"type": "url_verification", "challenge": "c"}'
    headers = signed(body, stamp=stamp) if stamp else signed(body) | {"X-Slack-Request-Timestamp": ""}
    assert await post(slack, body, headers) == 401


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{", "application/json"),
        (b"\xff\xfe{not utf-8}", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"payload=%7Bbroken", "application/x-www-form-urlencoded"),
        (b"\xff\xfe", "application/x-www-form-urlencoded"),
    ],
)
async def test_a_malformed_body_is_a_400_even_when_signed(
    slack: SlackHarness, body: bytes, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for headers in (signed(body, content_type=content_type), {"Content-Type": content_type}):
        status = await post(slack, body, headers)
        assert status in (400, 401)
    assert await post(slack, body, signed(body, content_type=content_type)) == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


async def test_a_body_over_the_limit_is_refused(slack: SlackHarness) -> None:
    body = b'{"a": "' + b"x" * MAX_BODY + b'"}'
    assert await post(slack, body, signed(body)) == 413
    # Without a length (chunked), it is refused once it has grown past the limit.

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY // 1024 + 10):
            yield b"x" * 1024

    headers = signed(b"whatever")
    async with (
        aiohttp.ClientSession() as session,
        session.post(url(slack), data=chunks(), headers=headers) as r,
    ):
        assert r.status == 413


async def test_signed_requests_still_pass(slack: SlackHarness) -> None:
    assert slack.sender is not None
    delivered = await slack.sender.json({"type": "url_verification", "token": "t", "challenge": "c-9"})
    assert delivered.status == 200 and "c-9" in delivered.body
