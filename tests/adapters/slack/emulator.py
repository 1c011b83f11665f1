"""A local Slack on 127.0.0.1 for the adapter tests, and the Slack side of a conversation.

``SlackEmulator`` serves what the app calls: the Web API methods (``/api/<method>``, or
``/via/<name>/api/<method>`` so that a test running several apps can tell whose call it
was), the Socket Mode websocket (handed out by ``apps.connections.open``) and
``response_url`` endpoints. It records every call, can fail, hold or slow a method to order,
and lets a test wait for a call with a timeout instead of sleeping. A message posted with
``chat.postMessage`` is in its channel from the moment the call arrives, as on Slack: an
app that dies before reading the answer has still posted it (``conversations.history``
shows it, with its metadata).

``SignedSender`` is Slack delivering to an HTTP-mode app: correctly signed requests (or
deliberately badly signed ones). The payload builders produce what Slack sends for a slash
command, an Events API callback and a button click.

The bolt app under test runs unmodified; only its Web API base URL points here.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

__all__ = [
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USER",
    "TEAM",
    "Call",
    "SignedSender",
    "SlackEmulator",
    "block_actions",
    "event_callback",
    "slash_command",
]

BOT_TOKEN = "xoxb-emulated-bot-token"
APP_TOKEN = "xapp-emulated-app-token"
TEAM = "T0EMULATED"
BOT_USER = "UBRIEFBOT"
BOT_ID = "BBRIEFBOT"
APP_ID = "A0BRIEFBOT"

_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
_MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "views.publish", "response_url"})
# Markup the app may send: a mention of the user who asked. Anything else in <…> would be
# a ping, a link or a broken escape.
_MARKUP = re.compile(r"<(?!@[UW][A-Z0-9]+>)[^>]*>?|&(?!amp;|lt;|gt;)")


def unescaped_markup(payload: Mapping[str, Any]) -> list[str]:
    """Slack markup in a message's mrkdwn text that the app should have escaped."""
    texts: list[str] = []

    def walk(node: object, mrkdwn: bool) -> None:
        if isinstance(node, dict):
            if node.get("type") == "plain_text":
                return  # never parsed for markup
            for key, value in node.items():
                if key == "text" and isinstance(value, str) and (mrkdwn or node.get("type") == "mrkdwn"):
                    texts.append(value)
                else:
                    walk(value, mrkdwn=False)
        elif isinstance(node, list):
            for item in node:
                walk(item, mrkdwn=False)

    walk(dict(payload), mrkdwn=True)
    return [match.group(0) for text in texts for match in _MARKUP.finditer(text)]


@dataclass(frozen=True)
class Call:
    """One request the app made: a Web API method, a response_url post or a socket ack."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: float  # monotonic seconds
    status: int = 200  # what the emulator answered
    via: str = ""  # the <name> of a /via/<name>/api/ base URL: which of several apps called

    def text(self) -> str:
        """Everything visible in the message, for assertions: fallback text plus blocks."""
        return (
            str(self.args.get("text", ""))
            + "\n"
            + json.dumps(self.args.get("blocks", []), ensure_ascii=False)
        )

    def buttons(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for block in self.args.get("blocks") or []:
            if block.get("type") == "actions":
                found.extend(e for e in block.get("elements", []) if e.get("type") == "button")
        return found

    def feedback(self, helpful: bool) -> dict[str, Any]:
        """One of the native feedback buttons, as the click's action carries it."""
        for block in self.args.get("blocks") or []:
            if block.get("type") != "context_actions":
                continue
            for element in block.get("elements", []):
                if element.get("type") == "feedback_buttons":
                    chosen = element["positive_button" if helpful else "negative_button"]
                    return {
                        "type": "feedback_buttons",
                        "action_id": element["action_id"],
                        "text": chosen["text"],
                        "value": chosen["value"],
                    }
        raise AssertionError(f"no feedback buttons in {self.text()[:500]}")

    def button(self, action_id_prefix: str) -> dict[str, Any]:
        for button in self.buttons():
            if str(button.get("action_id", "")).startswith(action_id_prefix):
                return button
        raise AssertionError(f"no button {action_id_prefix!r} in {self.text()[:500]}")


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None
    times: int


@dataclass
class _Socket:
    ws: web.WebSocketResponse
    ticket: str
    acks: list[dict[str, Any]] = field(default_factory=list)


class SlackEmulator:
    """Slack's Web API, Socket Mode and response_url endpoints, recording every call."""

    def __init__(
        self,
        users: Mapping[str, Mapping[str, Any]] | None = None,
        channels: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.bot_token = BOT_TOKEN
        self.app_token = APP_TOKEN
        self.users: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (users or {}).items()}
        # conversations.info: these, and any other C… id as a public channel the bot is not
        # in; anything else is hidden from the bot (channel_not_found), as Slack does.
        self.channels: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (channels or {}).items()}
        self.thread_messages: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (channel, ts)
        self.calls: list[Call] = []
        self.markup_problems: list[tuple[str, str]] = []  # (method, the unescaped markup)
        self._changed = asyncio.Condition()
        self._failures: dict[str, list[_Failure]] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self._delays: dict[str, float] = {}
        # Every message posted with chat.postMessage, in order: what conversations.history reads.
        self.messages: list[dict[str, Any]] = []
        self._sockets: list[_Socket] = []
        self._counter = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> SlackEmulator:
        application = web.Application()
        application.router.add_post("/api/{method}", self._api)
        application.router.add_get("/api/{method}", self._api)
        application.router.add_post("/via/{via}/api/{method}", self._api)
        application.router.add_get("/via/{via}/api/{method}", self._api)
        application.router.add_get("/socket", self._socket)
        application.router.add_post("/response/{id}", self._response_url)
        self._runner = web.AppRunner(application, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def close(self) -> None:
        for hold in self._holds.values():
            hold.set()
        for socket in self._sockets:
            if not socket.ws.closed:
                await socket.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What the app's SLACK_API_URL (AsyncWebClient base_url) is set to."""
        return f"{self.base_url}/api/"

    def api_url_for(self, name: str) -> str:
        """A SLACK_API_URL whose calls are recorded with ``via=name``."""
        return f"{self.base_url}/via/{name}/api/"

    def response_url(self) -> str:
        """A fresh response_url, as Slack puts in each slash command and button click."""
        return f"{self.base_url}/response/{next(self._counter)}"

    # -- steering ------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str = "",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error (429 + Retry-After, say)."""
        code = error or ("ratelimited" if status == 429 else "internal_error")
        self._failures.setdefault(method, []).append(_Failure(status, code, retry_after, times))

    def hold(self, method: str) -> asyncio.Event:
        """Keep calls of ``method`` waiting (after recording them) until the event is set."""
        event = asyncio.Event()
        self._holds[method] = event
        return event

    def slow(self, method: str, seconds: float) -> None:
        """Answer each call of ``method`` ``seconds`` after it arrives (it takes effect at once)."""
        self._delays[method] = seconds

    # -- waiting -------------------------------------------------------------------------

    def calls_to(self, method: str, where: Callable[[Call], bool] | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (where is None or where(c))]

    async def wait_for(
        self,
        method: str,
        where: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """The calls of ``method`` (matching ``where``) once there are ``count`` of them."""
        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(lambda: len(self.calls_to(method, where)) >= count)
        except TimeoutError:
            seen = "\n".join(f"  {c.method} {json.dumps(c.args)[:300]}" for c in self.calls) or "  (none)"
            raise AssertionError(
                f"waited {timeout}s for {count} call(s) to {method}; got {len(self.calls_to(method, where))}."
                f" Calls recorded:\n{seen}"
            ) from None
        return self.calls_to(method, where)

    async def _record(self, call: Call) -> None:
        if call.method in _MESSAGE_METHODS:
            self.markup_problems.extend((call.method, found) for found in unescaped_markup(call.args))
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # -- the Web API ---------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(await request.post())
        for key in ("blocks", "view", "attachments"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.pop("token", None)

        failure = self._take_failure(method)
        status = failure.status if failure else 200
        await self._record(
            Call(method, args, token, time.monotonic(), status, request.match_info.get("via", ""))
        )
        expected = self.app_token if method in _APP_TOKEN_METHODS else self.bot_token
        # Posted on arrival: however long the answer takes, or if nobody reads it.
        posted = (
            self._post(args)
            if method == "chat.postMessage" and failure is None and token == expected
            else None
        )
        hold = self._holds.get(method)
        if hold is not None:
            await hold.wait()
        if self._delays.get(method):
            await asyncio.sleep(self._delays[method])
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )
        if token != expected:
            return web.json_response({"ok": False, "error": "invalid_auth" if token else "not_authed"})
        if posted is not None:
            return web.json_response(
                {"ok": True, "channel": posted["channel"], "ts": posted["ts"], "message": posted}
            )
        return web.json_response(self._answer(method, args))

    def _post(self, args: Mapping[str, Any]) -> dict[str, Any]:
        n = next(self._counter)
        ts = f"{int(time.time())}.{n:06d}"  # Slack's own clock, unique per message
        message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": ts, **args}
        if isinstance(message.get("metadata"), str):
            message["metadata"] = json.loads(message["metadata"])
        self.messages.append(message)
        return message

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _answer(self, method: str, args: Mapping[str, Any]) -> dict[str, Any]:
        n = next(self._counter)
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://emulated.slack.test/",
                "team": "Emulated Team",
                "user": "briefbot",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket?ticket=t{n}"}
        if method == "conversations.history":
            # The channel's messages newest first, after ``oldest``; metadata only when asked.
            channel, oldest = str(args.get("channel")), float(args.get("oldest") or 0)
            limit = int(args.get("limit") or 100)
            with_metadata = str(args.get("include_all_metadata", "")).lower() in ("true", "1")
            found = [
                {k: v for k, v in m.items() if k != "metadata" or with_metadata}
                for m in reversed(self.messages)
                if m.get("channel") == channel and float(m["ts"]) > oldest
            ]
            return {"ok": True, "messages": found[:limit], "has_more": len(found) > limit}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1_700_000_000 + n}.{n:06d}"}
        if method.startswith("assistant.threads."):
            return {"ok": True}
        if method == "views.open":
            return {"ok": True, "view": {"id": f"V{n}", **(args.get("view") or {})}}
        if method == "views.publish":
            return {"ok": True, "view": {"id": f"V{n}", **(args.get("view") or {})}}
        if method == "conversations.replies":
            # The thread's messages the emulator knows of: the ones the app posted in it,
            # and any a test put in ``thread_messages``.
            channel, parent = str(args.get("channel")), str(args.get("ts"))
            posted = [
                {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "text": c.args.get("text", "")}
                for c in self.calls
                if c.method == "chat.postMessage"
                and c.args.get("channel") == channel
                and c.args.get("thread_ts") == parent
            ]
            return {"ok": True, "messages": self.thread_messages.get((channel, parent), []) + posted}
        if method == "conversations.info":
            channel_id = str(args.get("channel"))
            info = self.channels.get(channel_id)
            if info is None and channel_id.startswith("C"):
                info = {"is_channel": True, "is_private": False, "is_member": False}
            if info is None:
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": {"id": channel_id, **info}}
        if method == "conversations.list":
            # The channels the test gave (with a name), archived ones left out, a page at a
            # time as Slack pages them: ``limit`` (default 100, under 1000) a page, and an
            # opaque ``next_cursor`` for the next one, empty after the last.
            limit = int(args.get("limit") or 100)
            if not 1 <= limit < 1000:
                return {"ok": False, "error": "invalid_limit"}
            try:
                offset = _cursor_offset(str(args.get("cursor") or ""))
            except ValueError:
                return {"ok": False, "error": "invalid_cursor"}
            listed = [
                {"id": channel_id, **info}
                for channel_id, info in self.channels.items()
                if info.get("is_channel") and info.get("name") and not info.get("is_archived")
            ]
            page = listed[offset : offset + limit]
            more = offset + limit < len(listed)
            following = _cursor(offset + limit) if more else ""
            return {"ok": True, "channels": page, "response_metadata": {"next_cursor": following}}
        if method == "users.info":
            user = self.users.get(str(args.get("user")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {"id": args.get("user"), "team_id": TEAM, **user}}
        return {"ok": False, "error": "unknown_method"}

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        await self._record(Call("response_url", {"url": str(request.url), **body}, None, time.monotonic()))
        return web.Response(text="ok")

    # -- Socket Mode ---------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        socket = _Socket(ws, request.query.get("ticket", ""))
        self._sockets.append(socket)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": sum(1 for s in self._sockets if not s.ws.closed),
                "connection_info": {"app_id": APP_ID},
                "debug_info": {"host": "emulator", "approximate_connection_time": 18060},
            }
        )
        await self._record(Call("socket.connected", {"ticket": socket.ticket}, None, time.monotonic()))
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(message.data)
                socket.acks.append(data)
                await self._record(Call("socket.ack", data, None, time.monotonic()))
        await self._record(Call("socket.closed", {"ticket": socket.ticket}, None, time.monotonic()))
        return ws

    def _live_socket(self) -> _Socket:
        for socket in reversed(self._sockets):
            if not socket.ws.closed:
                return socket
        raise AssertionError("no Socket Mode connection is open")

    async def send_envelope(
        self,
        kind: str,
        payload: Mapping[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        envelope_id: str | None = None,
    ) -> str:
        """Push an envelope (``events_api``, ``slash_commands``, ``interactive``) to the app."""
        envelope_id = envelope_id or f"env-{next(self._counter)}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": dict(payload),
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        await self._live_socket().ws.send_json(envelope)
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        calls = await self.wait_for(
            "socket.ack", lambda c: c.args.get("envelope_id") == envelope_id, timeout=timeout
        )
        return calls[0].args

    async def ask_to_reconnect(self) -> None:
        """What Slack does before it recycles a connection: a ``disconnect`` message."""
        await self._live_socket().ws.send_json(
            {"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "emulator"}}
        )

    async def drop_connection(self) -> None:
        """Close the live websocket from Slack's side without warning."""
        await self._live_socket().ws.close()

    def connections(self) -> int:
        return len(self._sockets)


# -- Slack delivering to an HTTP-mode app ----------------------------------------------


def _cursor(offset: int) -> str:
    """An opaque cursor, as Slack's look (base64 of where the next page starts)."""
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _cursor_offset(cursor: str) -> int:
    if not cursor:
        return 0
    kind, _, offset = base64.b64decode(cursor, validate=True).decode().partition(":")
    if kind != "offset" or not offset.isdigit():
        raise ValueError(cursor)
    return int(offset)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Delivered:
    status: int
    body: str


class SignedSender:
    """POSTs to the app's /slack/events the way Slack does, signed with the signing secret."""

    def __init__(self, url: str, signing_secret: str) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SignedSender:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        retry_num: int | None = None,
    ) -> Delivered:
        assert self._session is not None, "use SignedSender as an async context manager"
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(self.signing_secret if secret is None else secret, stamp, body),
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        async with self._session.post(self.url, data=body, headers=headers) as response:
            return Delivered(response.status, await response.text())

    async def form(self, fields: Mapping[str, str], **options: Any) -> Delivered:
        body = urllib.parse.urlencode(fields).encode()
        return await self.post(body, "application/x-www-form-urlencoded", **options)

    async def json(self, payload: Mapping[str, Any], **options: Any) -> Delivered:
        return await self.post(json.dumps(payload).encode(), "application/json", **options)

    async def interactive(self, payload: Mapping[str, Any], **options: Any) -> Delivered:
        return await self.form({"payload": json.dumps(payload)}, **options)


# -- what Slack sends ------------------------------------------------------------------


def slash_command(text: str, *, user: str, channel: str, response_url: str) -> dict[str, str]:
    return {
        "token": "deprecated-verification-token",
        "team_id": TEAM,
        "team_domain": "emulated",
        "channel_id": channel,
        "channel_name": "directmessage" if channel.startswith("D") else "general",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/nato",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"trigger.{user}.{time.monotonic_ns()}",
    }


def event_callback(event: Mapping[str, Any], *, event_id: str) -> dict[str, Any]:
    return {
        "token": "deprecated-verification-token",
        "team_id": TEAM,
        "api_app_id": APP_ID,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": TEAM, "user_id": BOT_USER, "is_bot": True, "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
        "event_context": f"ctx-{event_id}",
    }


def block_actions(
    button: Mapping[str, Any],
    *,
    user: str,
    channel: str,
    response_url: str,
    message: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A click on ``button`` (as the app rendered it) in ``message``; None for an ephemeral one."""
    ephemeral = message is None
    container: dict[str, Any] = {"type": "message", "channel_id": channel, "is_ephemeral": ephemeral}
    if message is not None:
        container["message_ts"] = message["ts"]
        if message.get("thread_ts"):
            container["thread_ts"] = message["thread_ts"]
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": APP_ID,
        "token": "deprecated-verification-token",
        "container": container,
        "trigger_id": f"trigger.{user}.{time.monotonic_ns()}",
        "team": {"id": TEAM, "domain": "emulated"},
        "channel": {"id": channel, "name": "general"},
        "response_url": response_url,
        "actions": [
            {
                "type": button.get("type", "button"),
                "action_id": button["action_id"],
                "block_id": "b",
                "text": button["text"],
                "value": button.get("value", ""),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if message is not None:
        payload["message"] = dict(message)
    return payload
