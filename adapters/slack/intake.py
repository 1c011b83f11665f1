"""The gate in front of bolt in HTTP mode: a request reaches bolt only if it is signed by
Slack, fresh, of a sane size, UTF-8, and parses as what it claims to be.

bolt checks the signature itself, but it reads and decodes the whole body first and, on a
bad signature, logs that body at INFO; a non-numeric timestamp, a non-UTF-8 body or ``{``
sent as JSON make it raise (a 500 with a traceback). Here every refusal is a 4xx with one
short log line that never contains the body, and a request without a well-formed signature
and a fresh timestamp is refused from its headers alone, before any of its body is read.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

__all__ = ["MAX_BODY", "Refusal", "admit"]

_log = logging.getLogger("adapters.slack")

# Slack's largest deliveries are message events: at most 40,000 characters of text, carried
# twice (``text`` and the rich-text ``blocks``), 3 bytes each in the worst case, is about
# 240 kB. A form-encoded slash command or button click is a few kB.
MAX_BODY = 256 * 1024
# bolt's own window (slack_sdk's SignatureVerifier): five minutes either way.
_WINDOW = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_CHUNK = 16 * 1024


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str

    def response(self) -> web.Response:
        return web.json_response({"error": self.reason}, status=self.status)


async def admit(request: web.Request, signing_secret: str) -> AsyncBoltRequest | Refusal:
    """The request as bolt wants it, or why it is refused (logged here, once, briefly)."""
    refusal = _check_headers(request)
    if refusal is None:
        raw = await _read_bounded(request)
        if raw is None:
            refusal = Refusal(413, "body too large")
        else:
            refusal = _check_body(request, raw, signing_secret)
            if refusal is None:
                return AsyncBoltRequest(
                    body=raw.decode("utf-8"),
                    query=request.query_string,
                    headers=request.headers,  # type: ignore[arg-type]  # a multidict bolt reads as a mapping
                )
    _log.info(
        "refused a Slack request: %s",
        refusal.reason,
        extra={
            "status": refusal.status,
            "peer": request.remote or "-",
            "length": request.content_length or 0,
        },
    )
    return refusal


def _check_headers(request: web.Request) -> Refusal | None:
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if not _SIGNATURE.fullmatch(signature):
        return Refusal(401, "no valid signature header")
    if not _TIMESTAMP.fullmatch(timestamp):
        return Refusal(401, "malformed timestamp")
    if abs(time.time() - int(timestamp)) > _WINDOW:
        return Refusal(401, "stale timestamp")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return Refusal(413, "body too large")
    return None


async def _read_bounded(request: web.Request) -> bytes | None:
    """The body, or None as soon as it grows past MAX_BODY (a chunked body has no length)."""
    parts: list[bytes] = []
    size = 0
    while chunk := await request.content.read(_CHUNK):
        size += len(chunk)
        if size > MAX_BODY:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _check_body(request: web.Request, raw: bytes, signing_secret: str) -> Refusal | None:
    timestamp = request.headers["X-Slack-Request-Timestamp"]
    signature = request.headers["X-Slack-Signature"]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # Slack sends UTF-8 only (and slack_sdk's verifier would raise decoding it).
        return Refusal(400, "body is not UTF-8")
    if not SignatureVerifier(signing_secret).is_valid(text, timestamp, signature):
        return Refusal(401, "bad signature")
    try:
        payload: Any = parse_body(text, request.content_type)
    except (ValueError, json.JSONDecodeError):
        return Refusal(400, "body does not parse")
    if not isinstance(payload, dict):
        return Refusal(400, "body is not an object")
    return None
