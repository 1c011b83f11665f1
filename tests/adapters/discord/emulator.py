"""A local Discord on 127.0.0.1 for end-to-end tests of the Discord adapter.

One aiohttp server plays both halves of Discord that discord.py talks to:

* REST under ``/api/v10``: ``users/@me``, ``oauth2/applications/@me``, ``gateway/bot``,
  application command sync, interaction callbacks, webhook follow-ups and channel
  messages. Every JSON answer carries ``Content-Type: application/json`` exactly (discord.py
  only decodes that), and rate limits answer 429 the way Discord does (``Retry-After``,
  ``X-RateLimit-*``, ``Via``, a JSON ``retry_after``).
* A gateway websocket at ``/gateway``: HELLO, heartbeat ACKs, IDENTIFY -> READY and
  GUILD_CREATE, dispatched events with sequence numbers, RESUME -> replay + RESUMED,
  RECONNECT on request, zlib-stream transport compression when asked for. Like Discord
  for a bot without shards, it takes several connections at once, each its own session,
  and delivers every event to each of them (so two replicas both connected would both
  answer). ``/gateway/<label>`` is the same gateway under a name (``gateway_url_for``), so
  a test can give each client its own and see which are connected (``connected``).
  Likewise ``api_base_for(label)`` is the REST API under a name, recorded in each call's
  ``via``, so a test running several processes sees whose calls are whose.

It records every call, and keeps Discord's own rules where a bot can break them: an
interaction must be acknowledged within three seconds and only once, who a message
pings follows its ``allowed_mentions``, and a channel message created with a ``nonce`` and
``enforce_nonce`` is created once within ``nonce_window`` (a repeat returns the first).
Tests drive it (``slash``, ``mention``, ``dm``, ``click``, ``select``, ``submit`` of a modal
the bot opened), make it misbehave (``rate_limit``, ``lose_responses``, ``slow``,
``delete_message``) and wait on what it recorded (``wait_for``), never on fixed sleeps.

discord.py runs unmodified, pointed here with ``adapters.discord.discord_endpoints``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import re
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

__all__ = [
    "ALICE",
    "MODERATOR",
    "Call",
    "DiscordEmulator",
    "Pings",
    "Posted",
]

T = TypeVar("T")

DISCORD_EPOCH_MS = 1_420_070_400_000
INTERACTION_DEADLINE = 3.0

# Permission bits used here.
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
MANAGE_CHANNELS = 1 << 4
# Gateway intents: the privileged one that delivers the text of every message.
MESSAGE_CONTENT_INTENT = 1 << 15
MEMBER_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY

EPHEMERAL = 1 << 6
LOADING = 1 << 7
# Interaction callback types: a message, a deferred message, a deferred update, a modal.
MODAL = 9

# Create Message: "nonce? integer or string: can be used to verify a message was sent (up
# to 25 characters)"; "enforce_nonce? boolean: if true and nonce is present, it will be
# checked for uniqueness in the past few minutes. If another message was created by the
# same author with the same nonce, that message will be returned and no new message will
# be created." (discord.com/developers/docs/resources/message#create-message). Discord
# publishes no exact window; the emulator keeps two minutes, what briefbot counts on.
NONCE_LIMIT = 25
NONCE_WINDOW = 120.0

_counter = itertools.count(1)


def snowflake() -> str:
    """A unique, time-ordered Discord id."""
    millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((millis << 22) | (next(_counter) & 0x3FFFFF))


def _user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


ALICE = _user(snowflake(), "alice")
MODERATOR = _user(snowflake(), "mod")


@dataclass(frozen=True)
class Call:
    """One REST request the bot made."""

    method: str
    path: str  # after /api/v10, e.g. "/channels/123/messages"
    query: dict[str, str]
    body: Any
    status: int
    at: float  # event-loop time
    via: str = ""  # the label of the API base the call came through (``api_base_for``)


@dataclass(frozen=True)
class Pings:
    """Who a message would notify, by Discord's allowed_mentions rules."""

    everyone: bool = False
    users: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    replied_user: bool = False

    @property
    def anyone(self) -> bool:
        return self.everyone or bool(self.users) or bool(self.roles) or self.replied_user


@dataclass
class Posted:
    """A message the bot created, however it created it."""

    payload: dict[str, Any]  # the message object Discord returned
    sent: dict[str, Any]  # the JSON body the bot sent
    via: str  # "channel" | "callback" | "followup" | "edit"
    pings: Pings
    interaction_id: str | None = None

    @property
    def id(self) -> str:
        return str(self.payload["id"])

    @property
    def channel_id(self) -> str:
        return str(self.payload["channel_id"])

    @property
    def content(self) -> str:
        return str(self.payload.get("content") or "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.payload.get("embeds") or [])

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.payload.get("flags") or 0) & EPHEMERAL)

    @property
    def custom_ids(self) -> list[str]:
        return [
            str(button["custom_id"])
            for row in self.payload.get("components") or []
            for button in row.get("components") or []
            if "custom_id" in button
        ]

    @property
    def button_labels(self) -> list[str]:
        return [
            str(button.get("label"))
            for row in self.payload.get("components") or []
            for button in row.get("components") or []
        ]

    @property
    def text(self) -> str:
        """Everything a reader sees: content, embed titles, descriptions, fields, footers."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [
                (embed.get("author") or {}).get("name", ""),
                embed.get("title", ""),
                embed.get("description", ""),
                *(f"{f['name']}: {f['value']}" for f in embed.get("fields") or []),
                (embed.get("footer") or {}).get("text", ""),
            ]
        return "\n".join(p for p in parts if p)


@dataclass
class Interaction:
    """An interaction the emulator dispatched, and what became of it."""

    id: str
    token: str
    payload: dict[str, Any]
    created: float
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    late: bool = False

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot answered with (callback type 9), as it sent it; else None."""
        for callback in self.callbacks:
            if callback.get("type") == MODAL:
                return dict(callback.get("data") or {})
        return None


@dataclass
class _RateLimit:
    method: str
    pattern: re.Pattern[str]
    retry_after: float
    times: int
    is_global: bool


@dataclass
class _LostResponses:
    method: str
    pattern: re.Pattern[str]
    times: int


@dataclass(frozen=True)
class _Slow:
    method: str
    pattern: re.Pattern[str]
    seconds: float


@dataclass(frozen=True)
class _Nonce:
    """A message created with an enforced nonce, and when (event-loop time)."""

    message: dict[str, Any]
    at: float


@dataclass
class _Session:
    id: str
    label: str  # which gateway URL the client connected to ("" for the plain one)
    seq: int = 0
    backlog: list[dict[str, Any]] = field(default_factory=list)
    socket: web.WebSocketResponse | None = None  # while connected
    compressor: Any = None

    @property
    def live(self) -> bool:
        return self.socket is not None and not self.socket.closed


class _Route:
    def __init__(
        self,
        method: str,
        pattern: str,
        handler: Callable[..., Awaitable[web.StreamResponse]],
        auth: bool = True,
    ) -> None:
        self.method = method
        self.pattern = re.compile(f"^{pattern}$")
        self.handler = handler
        self.auth = auth


class DiscordEmulator:
    """Discord's REST API and gateway, as far as briefbot uses them."""

    def __init__(self, token: str = "emulator-token.not-a-secret") -> None:
        self.token = token
        self.application_id = snowflake()
        self.bot_user = _user(self.application_id, "briefbot", bot=True)
        self.guild_id = snowflake()
        self.channel_id = snowflake()
        self.other_channel_id = snowflake()
        self.moderator_role_id = snowflake()
        self.bot_role_id = snowflake()
        self.calls: list[Call] = []
        self.posted: list[Posted] = []
        self.interactions: dict[str, Interaction] = {}
        self.gateway_frames: list[dict[str, Any]] = []  # what the bot sent, tokens removed
        self.replayed: list[dict[str, Any]] = []  # events re-sent after a RESUME
        self.commands: dict[str, list[dict[str, Any]]] = {}  # scope ("global" | guild id) -> commands
        self.forbidden_channels: set[str] = set()
        self.dm_channels: dict[str, str] = {}  # user id -> DM channel id
        self._limits: list[_RateLimit] = []
        self._lost: list[_LostResponses] = []
        self._slow: list[_Slow] = []
        self.extra_channels: list[str] = []  # text channels added with ``add_channels``
        # Enforced nonces, by (channel, nonce): the bot is the only author of channel
        # messages here, so this is Discord's (author, nonce), narrowed to a channel.
        self._nonces: dict[tuple[str, str], _Nonce] = {}
        self.nonce_window = NONCE_WINDOW  # seconds; a test sets 0 for "the window has passed"
        self.deleted: set[str] = set()  # ids of messages deleted (by a moderator, say)
        # Every session not ended: live, or dropped and waiting to be resumed.
        self._sessions: list[_Session] = []
        self.identified: list[str] = []  # the label of each IDENTIFY, in order
        self.delivered: list[tuple[str, str, str]] = []  # (label, event, its data's id) sent
        self._sockets: list[web.WebSocketResponse] = []
        self._send_lock = asyncio.Lock()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._routes = self._build_routes()

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/{label}", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_route("*", "/via/{label}/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self._port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def close(self) -> None:
        for socket in list(self._sockets):
            with contextlib.suppress(Exception):
                await socket.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self._port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    def api_base_for(self, label: str) -> str:
        """The REST API under the name ``label``: each call through it records ``via=label``."""
        return f"http://127.0.0.1:{self._port}/via/{label}/api/v10"

    def gateway_url_for(self, label: str) -> str:
        """The gateway under the name ``label``: ``connected`` reports who is on it."""
        return f"{self.gateway_url}/{label}"

    @property
    def connected(self) -> list[str]:
        """The labels of the clients connected and identified now, oldest session first."""
        return [session.label for session in self._sessions if session.live]

    def receivers(self, event_id: str) -> list[str]:
        """The label of every connection an event (an interaction, a message: by id) went to."""
        return [label for label, _, sent_id in self.delivered if sent_id == event_id]

    # -- waiting on what happened ------------------------------------------------

    async def notify(self) -> None:
        """Wake every ``wait_for`` to look again (when something outside changed)."""
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, probe: Callable[[], T], what: str, timeout: float = 5.0) -> T:
        """The first truthy ``probe()``; fails with ``what`` and the recent calls on timeout."""
        async with self._changed:
            try:
                return await asyncio.wait_for(self._changed.wait_for(probe), timeout)
            except TimeoutError:
                recent = "\n  ".join(f"{c.method} {c.path} -> {c.status}" for c in self.calls[-15:])
                raise AssertionError(f"timed out waiting for {what}; recent calls:\n  {recent}") from None

    async def wait_for_call(self, method: str, path: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """The first ``count`` calls whose path matches the regex ``path``."""
        pattern = re.compile(f"^{path}$")

        def probe() -> list[Call]:
            found = [c for c in self.calls if c.method == method and pattern.match(c.path)]
            return found[:count] if len(found) >= count else []

        return await self.wait_for(probe, f"{count} × {method} {path}", timeout)

    async def wait_for_reply(
        self, interaction: Interaction, count: int = 1, timeout: float = 5.0
    ) -> list[Posted]:
        """Messages sent in answer to an interaction (callback, then follow-ups)."""

        def probe() -> list[Posted]:
            found = [p for p in self.posted if p.interaction_id == interaction.id]
            return found[:count] if len(found) >= count else []

        return await self.wait_for(probe, f"{count} reply(ies) to interaction {interaction.id}", timeout)

    async def wait_for_message(
        self, channel_id: str, count: int = 1, after: int = 0, timeout: float = 5.0
    ) -> list[Posted]:
        """Messages posted in a channel with ``POST /channels/{id}/messages``."""

        def probe() -> list[Posted]:
            found = [p for p in self.posted[after:] if p.via == "channel" and p.channel_id == channel_id]
            return found[:count] if len(found) >= count else []

        return await self.wait_for(probe, f"{count} message(s) in channel {channel_id}", timeout)

    async def wait_for_gateway(self, op: int, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        def probe() -> list[dict[str, Any]]:
            found = [f for f in self.gateway_frames if f.get("op") == op]
            return found[:count] if len(found) >= count else []

        return await self.wait_for(probe, f"{count} gateway frame(s) with op {op}", timeout)

    # -- making Discord misbehave ------------------------------------------------

    def rate_limit(
        self, method: str, path: str, *, retry_after: float = 0.3, times: int = 1, is_global: bool = False
    ) -> None:
        """Answer the next ``times`` matching requests with 429 Too Many Requests."""
        self._limits.append(_RateLimit(method, re.compile(f"^{path}$"), retry_after, times, is_global))

    def lose_responses(self, method: str, path: str, *, times: int = 1) -> None:
        """Handle the next ``times`` matching requests, then close the connection instead
        of answering: the request took effect (a message is created) but the bot never hears
        so, as when a response is lost on the way or a client gives up waiting."""
        self._lost.append(_LostResponses(method, re.compile(f"^{path}$"), times))

    def slow(self, method: str, path: str, seconds: float) -> None:
        """Answer every matching request ``seconds`` late, having acted on it at once: a
        message is in its channel from the moment Discord receives it, answered or not."""
        self._slow.append(_Slow(method, re.compile(f"^{path}$"), seconds))

    def add_channels(self, count: int) -> list[str]:
        """``count`` more text channels in the guild that the bot may post to, by id."""
        added = [snowflake() for _ in range(count)]
        self.extra_channels += added
        return added

    def delete_message(self, message_id: str) -> None:
        """Delete a message the bot posted, as a moderator may."""
        self.deleted.add(message_id)

    def in_channel(self, channel_id: str) -> list[Posted]:
        """The messages in a channel now: posted there, and not deleted since."""
        return [
            p
            for p in self.posted
            if p.via == "channel" and p.channel_id == channel_id and p.id not in self.deleted
        ]

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every connection, as Discord does before moving a session."""
        for session in self._sessions:
            if session.live:
                await self._send_raw(session, {"op": 7, "d": None})

    async def drop_connection(self) -> None:
        """Close every websocket abruptly (a resumable close code)."""
        await self._close_live(4000, "emulator dropped the connection")

    async def close_gateway(self, code: int, reason: str = "emulator closed the gateway") -> None:
        """Close every websocket with ``code``: one of Discord's close codes, such as 4004
        (authentication failed) or 4010-4014, after which a client may not reconnect."""
        await self._close_live(code, reason)

    async def _close_live(self, code: int, reason: str) -> None:
        for session in self._sessions:
            socket, session.socket = session.socket, None
            if socket is not None and not socket.closed:
                await socket.close(code=code, message=reason.encode())

    # -- driving the bot ---------------------------------------------------------

    def member(self, user: dict[str, Any], *, manager: bool = False) -> dict[str, Any]:
        return {
            "user": user,
            "roles": [self.moderator_role_id] if manager else [],
            "joined_at": "2023-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "communication_disabled_until": None,
        }

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH event to every session, or keep it for the replay after a RESUME."""
        assert self._sessions, "the bot has not identified yet"
        async with self._send_lock:
            for session in self._sessions:
                session.seq += 1
                frame = {"op": 0, "t": event, "s": session.seq, "d": data}
                session.backlog.append(frame)
                if session.live:
                    self.delivered.append((session.label, event, str(data.get("id", ""))))
                    await self._send_raw(session, frame)

    async def slash(
        self,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: dict[str, Any] = ALICE,
        manager: bool = False,
        in_dm: bool = False,
        focused: str | None = None,
        channel_id: str | None = None,
    ) -> Interaction:
        """Invoke ``/nato <command>`` with ``options`` ("digest subscribe" for a subcommand),
        in the server's ``channel_id`` (default: #general)."""
        leaf_options = [
            {
                "type": _option_type(value),
                "name": name,
                "value": value,
                **({"focused": True} if name == focused else {}),
            }
            for name, value in (options or {}).items()
        ]
        names = command.split()
        tree: list[dict[str, Any]] = [{"type": 1, "name": names[-1], "options": leaf_options}]
        if len(names) == 2:
            tree = [{"type": 2, "name": names[0], "options": tree}]
        data = {"id": snowflake(), "name": "nato", "type": 1, "options": tree}
        kind = 4 if focused else 2
        return await self._interact(
            kind, data, user=user, manager=manager, in_dm=in_dm, channel_id=channel_id
        )

    async def autocomplete(
        self, command: str, option: str, typed: str, others: Mapping[str, Any] | None = None
    ) -> Interaction:
        """Discord asking for suggestions while ``option`` holds ``typed``."""
        return await self.slash(command, {**(others or {}), option: typed}, focused=option)

    async def click(
        self, message: Posted, custom_id: str, *, user: dict[str, Any] = ALICE, manager: bool = False
    ) -> Interaction:
        """Click a button on a message the bot posted, in the channel the message is in."""
        assert custom_id in message.custom_ids, f"{custom_id!r} is not on that message"
        data = {"custom_id": custom_id, "component_type": 2}
        in_dm = message.channel_id in self.dm_channels.values()
        return await self._interact(
            3,
            data,
            user=user,
            manager=manager,
            in_dm=in_dm,
            message=message.payload,
            channel_id=None if in_dm else message.channel_id,
        )

    async def select(
        self,
        message: Posted,
        custom_id: str,
        values: list[str],
        *,
        user: dict[str, Any] = ALICE,
        manager: bool = False,
    ) -> Interaction:
        """Choose ``values`` in a select menu on a message the bot posted. Like a forging
        client, the emulator does not check them against the menu's options."""
        assert custom_id in message.custom_ids, f"{custom_id!r} is not on that message"
        data = {"custom_id": custom_id, "component_type": 3, "values": values}
        in_dm = message.channel_id in self.dm_channels.values()
        return await self._interact(3, data, user=user, manager=manager, in_dm=in_dm, message=message.payload)

    async def wait_for_modal(self, interaction: Interaction, timeout: float = 5.0) -> dict[str, Any]:
        """The modal the bot opened in answer to ``interaction``."""
        return await self.wait_for(
            lambda: interaction.modal or {}, f"a modal for interaction {interaction.id}", timeout
        )

    async def submit(
        self,
        opened_by: Interaction,
        values: Mapping[str, str],
        *,
        user: dict[str, Any] | None = None,
    ) -> Interaction:
        """Send the modal the bot opened in answer to ``opened_by``, its text inputs holding
        ``values`` (custom id -> text; an input left out is sent empty). Like a forging
        client, the emulator does not hold the text to the input's ``max_length``. The
        submit comes from ``opened_by``'s user, in its channel, carrying its message (as
        Discord does for a modal opened from a message component)."""
        modal = opened_by.modal
        assert modal is not None, "the bot opened no modal for that interaction"
        submitted: list[dict[str, Any]] = []
        for row in modal.get("components") or []:
            inputs = [row.get("component")] if row.get("type") == 18 else row.get("components") or []
            sent = [
                {"type": 4, "custom_id": c["custom_id"], "value": values.get(c["custom_id"], "")}
                for c in inputs
                if c and c.get("type") == 4
            ]
            if row.get("type") == 18:
                submitted += [{"type": 18, "component": c} for c in sent]
            else:
                submitted.append({"type": 1, "components": sent})
        data = {"custom_id": modal["custom_id"], "components": submitted}
        payload = opened_by.payload
        who = user or payload.get("user") or (payload.get("member") or {}).get("user") or ALICE
        in_dm = "guild_id" not in payload
        return await self._interact(
            5,
            data,
            user=who,
            manager=False,
            in_dm=in_dm,
            message=payload.get("message"),
            channel_id=None if in_dm else str(payload["channel_id"]),
        )

    async def mention(
        self, text: str, *, user: dict[str, Any] = ALICE, manager: bool = False, channel_id: str | None = None
    ) -> dict[str, Any]:
        """A channel message that @mentions the bot: ``<@bot> text``."""
        return await self.say(
            f"<@{self.application_id}> {text}", user=user, manager=manager, channel_id=channel_id
        )

    @property
    def message_content_intent(self) -> bool:
        """Whether the bot identified with the privileged message-content intent."""
        identified = [f for f in self.gateway_frames if f.get("op") == 2]
        intents = int(identified[-1]["d"].get("intents") or 0) if identified else 0
        return bool(intents & MESSAGE_CONTENT_INTENT)

    async def say(
        self,
        content: str,
        *,
        user: dict[str, Any] = ALICE,
        manager: bool = False,
        channel_id: str | None = None,
    ) -> dict[str, Any]:
        """A guild channel message, delivered as Discord does: without the message-content
        intent only a message that mentions the bot carries its text."""
        mentioned = f"<@{self.application_id}>" in content or f"<@!{self.application_id}>" in content
        message = self._incoming(
            content if mentioned or self.message_content_intent else "",
            user=user,
            channel_id=channel_id or self.channel_id,
            guild=True,
            mentions=[self.bot_user] if mentioned else [],
        )
        message["member"] = {k: v for k, v in self.member(user, manager=manager).items() if k != "user"}
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    async def reply(
        self,
        to: Posted,
        content: str,
        *,
        user: dict[str, Any] = ALICE,
        ping: bool = True,
    ) -> dict[str, Any]:
        """A reply to one of the bot's messages, as Discord delivers it without the content
        intent: with the reply's ping on (Discord's default) the bot is in ``mentions`` and
        the text is delivered; with it off the bot gets an empty ``content``."""
        replied = to.payload
        channel_id = str(replied["channel_id"])
        in_guild = channel_id not in self.dm_channels.values()
        # DMs always carry their text; so does everything with the message-content intent.
        delivered = ping or not in_guild or self.message_content_intent
        message = self._incoming(
            content if delivered else "",
            user=user,
            channel_id=channel_id,
            guild=in_guild,
            mentions=[self.bot_user] if ping else [],
        )
        message["type"] = 19
        message["message_reference"] = {"message_id": replied["id"], "channel_id": channel_id}
        if in_guild:
            message["message_reference"]["guild_id"] = self.guild_id
            message["member"] = {k: v for k, v in self.member(user).items() if k != "user"}
        message["referenced_message"] = replied
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    async def dm(self, content: str, *, user: dict[str, Any] = ALICE) -> dict[str, Any]:
        """A direct message to the bot."""
        channel_id = self.dm_channels.setdefault(str(user["id"]), snowflake())
        message = self._incoming(content, user=user, channel_id=channel_id, guild=False, mentions=[])
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    def _incoming(
        self,
        content: str,
        *,
        user: dict[str, Any],
        channel_id: str,
        guild: bool,
        mentions: list[dict[str, Any]],
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": snowflake(),
            "channel_id": channel_id,
            "author": user,
            "content": content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": mentions,
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        if guild:
            message["guild_id"] = self.guild_id
        return message

    async def _interact(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        user: dict[str, Any],
        manager: bool,
        in_dm: bool,
        message: dict[str, Any] | None = None,
        channel_id: str | None = None,
    ) -> Interaction:
        interaction_id, token = snowflake(), f"interaction-token-{snowflake()}"
        payload: dict[str, Any] = {
            "id": interaction_id,
            "application_id": self.application_id,
            "type": kind,
            "token": token,
            "version": 1,
            "data": data,
            "locale": "en-GB",
            "entitlements": [],
            "app_permissions": str(MEMBER_PERMISSIONS),
            "attachment_size_limit": 10_485_760,
        }
        if in_dm:
            channel_id = self.dm_channels.setdefault(str(user["id"]), snowflake())
            payload.update(
                user=user,
                channel_id=channel_id,
                channel={"id": channel_id, "type": 1, "recipients": [user], "last_message_id": None},
                context=1,
                authorizing_integration_owners={"0": self.guild_id},
            )
        else:
            member = self.member(user, manager=manager)
            member["permissions"] = str(MEMBER_PERMISSIONS | (MANAGE_CHANNELS if manager else 0))
            where = channel_id or self.channel_id
            payload.update(
                guild_id=self.guild_id,
                guild={"id": self.guild_id, "locale": "en-GB", "features": []},
                guild_locale="en-GB",
                member=member,
                channel_id=where,
                channel=self._channel(where, "general" if where == self.channel_id else "briefings"),
                context=0,
                authorizing_integration_owners={"0": self.guild_id},
            )
        if message is not None:
            payload["message"] = message
        record = Interaction(interaction_id, token, payload, asyncio.get_running_loop().time())
        self.interactions[interaction_id] = record
        await self.dispatch("INTERACTION_CREATE", payload)
        return record

    # -- the gateway -------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(max_msg_size=0)
        await socket.prepare(request)
        self._sockets.append(socket)
        label = request.match_info.get("label", "")
        compress = request.query.get("compress") == "zlib-stream"
        compressor = zlib.compressobj() if compress else None
        try:
            hello = {"op": 10, "d": {"heartbeat_interval": 41_250}}
            await self._send_raw(_Session("", label, socket=socket, compressor=compressor), hello)
            async for message in socket:
                if message.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(message.data)
                await self._on_frame(socket, compressor, label, frame)
        finally:
            for session in list(self._sessions):
                if session.socket is socket:
                    session.socket = None
                    if socket.close_code == 1000:  # the client ended its session: no resuming it
                        self._sessions.remove(session)
            self._sockets.remove(socket)
            await self.notify()
        return socket

    async def _on_frame(
        self, socket: web.WebSocketResponse, compressor: Any, label: str, frame: dict[str, Any]
    ) -> None:
        op = frame.get("op")
        raw = frame.get("d")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        shown = dict(frame)
        if "token" in data:
            shown["d"] = {**data, "token": "<redacted>", "token_ok": data["token"] == self.token}
        self.gateway_frames.append(shown)
        await self.notify()
        here = _Session("", label, socket=socket, compressor=compressor)  # for a reply on this socket
        if op == 1:  # heartbeat
            await self._send_raw(here, {"op": 11})
        elif op == 2:  # identify
            if data.get("token") != self.token:
                await socket.close(code=4004, message=b"Authentication failed.")
                return
            session = _Session(id=f"session-{snowflake()}", label=label, socket=socket, compressor=compressor)
            async with self._send_lock:
                self._sessions.append(session)
                self.identified.append(label)
                for event, payload in (("READY", self._ready(session)), ("GUILD_CREATE", self._guild())):
                    session.seq += 1
                    ready = {"op": 0, "t": event, "s": session.seq, "d": payload}
                    await self._send_raw(session, ready)
            await self.notify()
        elif op == 6:  # resume
            current = next((s for s in self._sessions if s.id == data.get("session_id")), None)
            if current is None or data.get("token") != self.token:
                await self._send_raw(here, {"op": 9, "d": False})
                return
            async with self._send_lock:
                current.socket, current.compressor = socket, compressor
                for missed in current.backlog:
                    if missed["s"] > (data.get("seq") or 0):
                        self.replayed.append(missed)
                        self.delivered.append((label, missed["t"], str(missed["d"].get("id", ""))))
                        await self._send_raw(current, missed)
                current.seq += 1
                resumed = {"op": 0, "t": "RESUMED", "s": current.seq, "d": {}}
                await self._send_raw(current, resumed)

    async def _send_raw(self, session: _Session, frame: dict[str, Any]) -> None:
        socket, compressor = session.socket, session.compressor
        assert socket is not None
        text = json.dumps(frame)
        if compressor is not None:
            await socket.send_bytes(compressor.compress(text.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH))
        else:
            await socket.send_str(text)

    def _ready(self, session: _Session) -> dict[str, Any]:
        return {
            "v": 10,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": self.guild_id, "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url_for(session.label) if session.label else self.gateway_url,
            "application": {"id": self.application_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": ["rotterdam"],
            "auth": {},
        }

    def _channel(self, channel_id: str, name: str) -> dict[str, Any]:
        return {
            "id": channel_id,
            "type": 0,
            "guild_id": self.guild_id,
            "name": name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def _role(self, role_id: str, name: str, permissions: int, **extra: Any) -> dict[str, Any]:
        return {
            "id": role_id,
            "name": name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": 0 if role_id == self.guild_id else 1,
            "permissions": str(permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
            **extra,
        }

    def _guild(self) -> dict[str, Any]:
        bot_member = self.member(self.bot_user)
        bot_member["roles"] = [self.bot_role_id]
        return {
            "id": self.guild_id,
            "name": "Briefing Room",
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": MODERATOR["id"],
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [
                self._role(self.guild_id, "@everyone", MEMBER_PERMISSIONS),
                self._role(self.moderator_role_id, "Moderators", MEMBER_PERMISSIONS | MANAGE_CHANNELS),
                self._role(
                    self.bot_role_id,
                    "briefbot",
                    MEMBER_PERMISSIONS,
                    managed=True,
                    tags={"bot_id": self.application_id},
                ),
            ],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-GB",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "unavailable": False,
            "member_count": 3,
            "large": False,
            "joined_at": "2023-01-01T00:00:00+00:00",
            "channels": [
                self._channel(self.channel_id, "general"),
                self._channel(self.other_channel_id, "briefings"),
            ],
            "threads": [],
            "members": [bot_member],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    # -- REST --------------------------------------------------------------------

    def _build_routes(self) -> list[_Route]:
        app = r"\d+"
        return [
            _Route("GET", "/users/@me", self._me),
            _Route("GET", "/oauth2/applications/@me", self._application),
            _Route("GET", "/gateway", self._gateway_info, auth=False),
            _Route("GET", "/gateway/bot", self._gateway_info),
            _Route("PUT", f"/applications/(?P<app>{app})/commands", self._put_commands),
            _Route(
                "PUT", f"/applications/(?P<app>{app})/guilds/(?P<guild>\\d+)/commands", self._put_commands
            ),
            _Route("GET", f"/applications/(?P<app>{app})/commands", self._get_commands),
            _Route(
                "POST", r"/interactions/(?P<id>\d+)/(?P<token>[^/]+)/callback", self._callback, auth=False
            ),
            _Route("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", self._followup, auth=False),
            _Route(
                "PATCH",
                r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/@original",
                self._edit_original,
                auth=False,
            ),
            _Route("POST", r"/channels/(?P<channel>\d+)/messages", self._channel_message),
            _Route("POST", r"/channels/(?P<channel>\d+)/typing", self._typing),
        ]

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body = await _read_body(request)
        limited = self._rate_limited(request.method, path)
        response = limited if limited is not None else await self._route(request, path, body)
        lost = limited is None and self._lose(request.method, path)
        self.calls.append(
            Call(
                request.method,
                path,
                dict(request.query),
                body,
                0 if lost else response.status,  # 0: no answer reached the bot
                asyncio.get_running_loop().time(),
                request.match_info.get("label", ""),
            )
        )
        await self.notify()
        if lost and request.transport is not None:
            request.transport.close()  # the client sees the server disconnect, unanswered
        delay = max(
            (d.seconds for d in self._slow if d.method == request.method and d.pattern.match(path)), default=0
        )
        if delay > 0:
            await asyncio.sleep(delay)
        return response

    def _lose(self, method: str, path: str) -> bool:
        for lost in self._lost:
            if lost.times > 0 and lost.method == method and lost.pattern.match(path):
                lost.times -= 1
                return True
        return False

    async def _route(self, request: web.Request, path: str, body: Any) -> web.StreamResponse:
        for route in self._routes:
            match = route.pattern.match(path)
            if match is None or route.method != request.method:
                continue
            if route.auth and request.headers.get("Authorization") != f"Bot {self.token}":
                return _json({"message": "401: Unauthorized", "code": 0}, 401)
            return await route.handler(request, body, **match.groupdict())
        return _json({"message": "404: Not Found", "code": 0}, 404)

    def _rate_limited(self, method: str, path: str) -> web.Response | None:
        for limit in self._limits:
            if limit.times > 0 and limit.method == method and limit.pattern.match(path):
                limit.times -= 1
                headers = {
                    "Retry-After": str(max(1, round(limit.retry_after))),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + limit.retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{limit.retry_after:.3f}",
                    "X-RateLimit-Bucket": _bucket(method, path),
                    "X-RateLimit-Scope": "shared" if not limit.is_global else "global",
                    "Via": "1.1 google",
                }
                if limit.is_global:
                    headers["X-RateLimit-Global"] = "true"
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": limit.retry_after,
                    "global": limit.is_global,
                }
                return _json(body, 429, headers)
        return None

    async def _me(self, request: web.Request, body: Any) -> web.Response:
        return _json({**self.bot_user, "verified": True, "mfa_enabled": False, "flags": 0})

    async def _application(self, request: web.Request, body: Any) -> web.Response:
        return _json(
            {
                "id": self.application_id,
                "name": "briefbot",
                "icon": None,
                "description": "NATO–Japan briefing notes",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": MODERATOR,
                "verify_key": "0" * 64,
                "team": None,
                "flags": 0,
                "summary": "",
                "rpc_origins": [],
                "interactions_endpoint_url": None,
                "redirect_uris": [],
                "approximate_guild_count": 1,
            }
        )

    async def _gateway_info(self, request: web.Request, body: Any) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _put_commands(
        self, request: web.Request, body: Any, app: str, guild: str | None = None
    ) -> web.Response:
        if app != self.application_id:
            return _json({"message": "Unknown Application", "code": 10002}, 404)
        stored = [
            {
                **command,
                "id": snowflake(),
                "application_id": self.application_id,
                "version": snowflake(),
                "default_member_permissions": command.get("default_member_permissions"),
                **({"guild_id": guild} if guild else {}),
            }
            for command in body
        ]
        self.commands[guild or "global"] = stored
        return _json(stored)

    async def _get_commands(self, request: web.Request, body: Any, app: str) -> web.Response:
        return _json(self.commands.get("global", []))

    async def _callback(self, request: web.Request, body: Any, id: str, token: str) -> web.StreamResponse:
        interaction = self.interactions.get(id)
        if interaction is None or interaction.token != token:
            return _json({"message": "Unknown interaction", "code": 10062}, 404)
        if asyncio.get_running_loop().time() - interaction.created > INTERACTION_DEADLINE:
            interaction.late = True
            return _json({"message": "Unknown interaction", "code": 10062}, 404)
        if interaction.callbacks:
            return _json({"message": "Interaction has already been acknowledged.", "code": 40060}, 400)
        kind = body.get("type")
        data = body.get("data") or {}
        if kind == MODAL and (problem := _modal_problem(interaction.payload, data)):
            return _json({"message": "Invalid Form Body", "code": 50035, "errors": problem}, 400)
        interaction.callbacks.append(body)
        resource: dict[str, Any] | None = None
        if kind in (4, 5):  # channel message, deferred channel message
            flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            message = self._message(interaction.payload["channel_id"], data, flags=flags, webhook=True)
            if kind == 4:
                self._post(message, data, "callback", interaction.id)
            resource = {"type": kind, "message": message}
            interaction.payload["_original"] = message
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        answer: dict[str, Any] = {
            "interaction": {
                "id": interaction.id,
                "type": interaction.payload["type"],
                **(
                    {
                        "response_message_id": resource["message"]["id"],
                        "response_message_loading": kind == 5,
                        "response_message_ephemeral": bool(resource["message"]["flags"] & EPHEMERAL),
                    }
                    if resource
                    else {}
                ),
            }
        }
        if resource is not None:
            answer["resource"] = resource
        return _json(answer)

    def _interaction_by_token(self, token: str) -> Interaction | None:
        return next((i for i in self.interactions.values() if i.token == token), None)

    async def _followup(self, request: web.Request, body: Any, app: str, token: str) -> web.Response:
        interaction = self._interaction_by_token(token)
        if interaction is None or app != self.application_id:
            return _json({"message": "Unknown Webhook", "code": 10015}, 404)
        if not interaction.callbacks:
            return _json({"message": "Unknown Webhook", "code": 10015}, 404)
        original = interaction.payload.get("_original")
        flags = int(body.get("flags") or 0)
        if original is not None and original["flags"] & LOADING and not interaction.payload.get("_filled"):
            # The first follow-up after a deferral replaces the "is thinking…" message.
            interaction.payload["_filled"] = True
            flags = original["flags"] & EPHEMERAL
        message = self._message(interaction.payload["channel_id"], body, flags=flags, webhook=True)
        self._post(message, body, "followup", interaction.id)
        return _json(message)

    async def _edit_original(self, request: web.Request, body: Any, app: str, token: str) -> web.Response:
        interaction = self._interaction_by_token(token)
        if interaction is None or "_original" not in interaction.payload:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        original = interaction.payload["_original"]
        message = self._message(
            original["channel_id"], body, flags=original["flags"] & ~LOADING, webhook=True
        )
        message["id"] = original["id"]
        self._post(message, body, "edit", interaction.id)
        return _json(message)

    async def _channel_message(self, request: web.Request, body: Any, channel: str) -> web.Response:
        known = {self.channel_id, self.other_channel_id, *self.extra_channels, *self.dm_channels.values()}
        if channel not in known:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        if channel in self.forbidden_channels:
            return _json({"message": "Missing Access", "code": 50001}, 403)
        if not (body.get("content") or body.get("embeds")):
            return _json({"message": "Cannot send an empty message", "code": 50006}, 400)
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > NONCE_LIMIT:
            errors = {
                "nonce": {
                    "_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be 25 or fewer in length."}]
                }
            }
            return _json({"message": "Invalid Form Body", "code": 50035, "errors": errors}, 400)
        now = asyncio.get_running_loop().time()
        key = (channel, str(nonce))
        earlier = self._nonces.get(key) if nonce is not None and body.get("enforce_nonce") else None
        if earlier is not None and now - earlier.at <= self.nonce_window:
            if earlier.message["id"] in self.deleted:
                # Discord does not create again a message deleted since: the retry was not lost.
                return _json({"message": "Unknown Message", "code": 10008}, 404)
            return _json(earlier.message)  # the message already created; nothing new posted
        message = self._message(channel, body, flags=int(body.get("flags") or 0))
        if nonce is not None:
            message["nonce"] = nonce  # echoed in the response (and in MESSAGE_CREATE), as sent
            if body.get("enforce_nonce"):
                self._nonces[key] = _Nonce(message, now)
        self._post(message, body, "channel", None)
        return _json(message)

    async def _typing(self, request: web.Request, body: Any, channel: str) -> web.Response:
        return web.Response(status=204)

    # -- messages ----------------------------------------------------------------

    def _post(
        self, message: dict[str, Any], sent: dict[str, Any], via: str, interaction_id: str | None
    ) -> None:
        self.posted.append(Posted(message, sent, via, _pings(message, sent), interaction_id))

    def _message(
        self, channel_id: str, body: dict[str, Any], *, flags: int, webhook: bool = False
    ) -> dict[str, Any]:
        content = str(body.get("content") or "")
        pings = _pings({"content": content}, body)
        message: dict[str, Any] = {
            "id": snowflake(),
            "channel_id": channel_id,
            "author": self.bot_user,
            "content": content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": pings.everyone,
            "mentions": [
                {"id": u, "username": "someone", "discriminator": "0", "avatar": None} for u in pings.users
            ],
            "mention_roles": list(pings.roles),
            "attachments": [],
            "embeds": [_embed(e) for e in body.get("embeds") or []],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 19 if body.get("message_reference") else 0,
            "flags": flags,
        }
        if channel_id not in self.dm_channels.values():
            message["guild_id"] = self.guild_id
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        if webhook:
            message["webhook_id"] = self.application_id
            message["application_id"] = self.application_id
        return message


# -- helpers ---------------------------------------------------------------------


def _modal_problem(interaction: Mapping[str, Any], modal: Mapping[str, Any]) -> str:
    """Why Discord would refuse this modal as the answer to ``interaction``; "" if it would not."""
    if interaction.get("type") in (1, 5):  # a ping or a modal submit cannot open a modal
        return "a modal cannot answer this interaction"
    title, custom_id = str(modal.get("title") or ""), str(modal.get("custom_id") or "")
    if not 1 <= len(title) <= 45 or not 1 <= len(custom_id) <= 100:
        return "a modal needs a title of 1-45 and a custom_id of 1-100 characters"
    rows = modal.get("components") or []
    if not 1 <= len(rows) <= 5:
        return "a modal holds 1-5 rows"
    for row in rows:
        inputs = [row.get("component")] if row.get("type") == 18 else row.get("components") or []
        for text_input in inputs:
            if not text_input or text_input.get("type") != 4:
                continue
            if int(text_input.get("max_length") or 4000) > 4000:
                return "a text input holds at most 4000 characters"
    return ""


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with Content-Type exactly ``application/json``, as discord.py requires."""
    merged = {"Content-Type": "application/json"}
    if status < 400:
        merged.update(
            {
                "X-RateLimit-Limit": "50",
                "X-RateLimit-Remaining": "49",
                "X-RateLimit-Reset-After": "1.000",
                "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            }
        )
    merged.update(headers or {})
    return web.Response(body=json.dumps(payload).encode(), status=status, headers=merged)


async def _read_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    if request.content_type == "multipart/form-data":
        form = await request.post()
        raw = form.get("payload_json")
        return json.loads(str(raw)) if raw is not None else {}
    text = await request.text()
    return json.loads(text) if text else None


def _bucket(method: str, path: str) -> str:
    route = re.sub(r"\d{15,}", "{id}", path)
    return hashlib.md5(f"{method} {route}".encode()).hexdigest()[:16]


def _option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())


def _embed(embed: dict[str, Any]) -> dict[str, Any]:
    return {"type": "rich", **embed}


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def _pings(message: dict[str, Any], sent: dict[str, Any]) -> Pings:
    """Who gets notified, following Discord's allowed_mentions rules.

    Without ``allowed_mentions`` everything written pings; with it, only what ``parse``
    names or the ``users`` / ``roles`` lists allow, and a reply pings its author only
    when ``replied_user`` is true. Embeds never ping.
    """
    content = str(message.get("content") or "")
    allowed = sent.get("allowed_mentions")
    parse = set(allowed.get("parse", [])) if allowed is not None else {"everyone", "users", "roles"}
    allowed_users = set(allowed.get("users", [])) if allowed is not None else set()
    allowed_roles = set(allowed.get("roles", [])) if allowed is not None else set()
    everyone = ("@everyone" in content or "@here" in content) and "everyone" in parse
    users = tuple(u for u in _USER_MENTION.findall(content) if "users" in parse or u in allowed_users)
    roles = tuple(r for r in _ROLE_MENTION.findall(content) if "roles" in parse or r in allowed_roles)
    replied = bool(sent.get("message_reference")) and (allowed is None or bool(allowed.get("replied_user")))
    return Pings(everyone, users, roles, replied)


@contextlib.contextmanager
def emulator_in_thread(token: str = "emulator-token.not-a-secret") -> Iterator[DiscordEmulator]:
    """An emulator on its own event loop in a thread, for code under test that calls
    ``asyncio.run`` itself (``run_discord``). Read its records after the block ends."""
    loop = asyncio.new_event_loop()
    emulator = DiscordEmulator(token)
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(emulator.start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(emulator.close())
        loop.close()

    thread = threading.Thread(target=serve, name="discord-emulator", daemon=True)
    thread.start()
    try:
        assert ready.wait(10), "the emulator did not start"
        yield emulator
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
