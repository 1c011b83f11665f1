"""The briefbot Slack app running against the emulator, in HTTP mode or Socket Mode.

``SlackHarness.running(mode, db)`` starts the emulator, a real SQLite store, the bot on a
small fixture knowledge base and the adapter (its aiohttp server, or its Socket Mode
connection), and tears all of it down again, waiting for answers still in flight so no
session or connection is left open. Its methods are what a Slack user does: run a
command, mention the bot, send it a direct message, click a button. They return once
Slack's side has the acknowledgement; tests then wait on the emulator's recorded calls.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from adapters.slack import EVENTS_PATH, SlackApp, SlackPoster, build_app, connect_socket_mode, serve_http
from bot.digests.commands import DigestCommands
from bot.dispatch import Bot
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.loading import load_knowledge
from bot.qa.engine import Engine
from bot.store.sqlite import SQLiteStore
from tests.adapters.slack.emulator import (
    BOT_USER,
    TEAM,
    SignedSender,
    SlackEmulator,
    block_actions,
    event_callback,
    slash_command,
)

__all__ = [
    "ADMIN",
    "ALLOWED",
    "BRIEFINGS",
    "CHANNEL",
    "DM",
    "MEMBER",
    "SIGNING_SECRET",
    "Ack",
    "SlackHarness",
    "fixture_kb",
]

KB_DIR = Path(__file__).parent / "kb"
SIGNING_SECRET = "emulated-signing-secret"
CHANNEL = "C0GENERAL"
BRIEFINGS = "C0BRIEFINGS"  # another public channel the bot is in
DM = "D0MEMBER"
ADMIN = "U0ADMIN"  # a workspace admin according to users.info
MEMBER = "U0MEMBER"  # an ordinary member
ALLOWED = "U0ALLOWED"  # an ordinary member on the SLACK_DIGEST_ADMINS allow-list

USERS: dict[str, dict[str, Any]] = {
    ADMIN: {"name": "admin", "is_admin": True, "is_owner": False},
    MEMBER: {"name": "member", "is_admin": False, "is_owner": False},
    ALLOWED: {"name": "allowed", "is_admin": False, "is_owner": False},
}
PRIVATE = "G0PRIVATE"  # a private channel the bot was invited to
HIDDEN = "G0HIDDEN"  # a private channel the bot is not in: Slack does not show it to the bot
CHANNELS: dict[str, dict[str, Any]] = {
    CHANNEL: {"name": "general", "is_channel": True, "is_private": False, "is_member": True},
    BRIEFINGS: {"name": "briefings", "is_channel": True, "is_private": False, "is_member": True},
    PRIVATE: {"name": "secret-plans", "is_channel": True, "is_private": True, "is_member": True},
    DM: {"is_im": True, "user": MEMBER},
}


@cache
def fixture_kb() -> KnowledgeBase:
    return load_knowledge(KB_DIR)


@dataclass(frozen=True)
class Ack:
    """How the app acknowledged a delivery: an HTTP response or a Socket Mode ack."""

    status: int
    body: str
    payload: Any = None  # what the acknowledgement said, as Slack reads it (a view, errors)


class SlackHarness:
    def __init__(self, mode: str, emulator: SlackEmulator, app: SlackApp, store: SQLiteStore) -> None:
        self.mode = mode
        self.emulator = emulator
        self.app = app
        self.store = store
        self.sender: SignedSender | None = None
        self.socket: AsyncSocketModeHandler | None = None
        self._ids = itertools.count(1)

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        mode: str,
        db: Path,
        *,
        rate_limit_retries: int = 2,
        clock: Callable[[], datetime] | None = None,
    ) -> AsyncIterator[SlackHarness]:
        async with AsyncExitStack() as stack:
            emulator = await stack.enter_async_context(SlackEmulator(users=USERS, channels=CHANNELS))
            store = SQLiteStore(db)
            stack.callback(store.close)
            limits = {SlackPoster.platform: SlackPoster.message_limit}  # as the runtime passes them
            # A fixed clock keeps subscriptions' first runs where the tests expect them,
            # whatever the time of day the suite runs at (a run across 00:00 UTC included).
            commands = DigestCommands(
                store, fixture_kb, message_limits=limits, clock=clock or (lambda: datetime.now(UTC))
            )
            bot = Bot(Engine(fixture_kb()), store=store, digest_handler=commands)
            app = build_app(
                bot,
                token=emulator.bot_token,
                signing_secret=SIGNING_SECRET,
                api_url=emulator.api_url,
                digest_admins=[ALLOWED],
                rate_limit_retries=rate_limit_retries,
            )
            harness = cls(mode, emulator, app, store)
            if mode == "http":
                runner = await serve_http(app, "127.0.0.1", 0)
                stack.push_async_callback(runner.cleanup)
                host, port = runner.addresses[0][:2]
                harness.sender = await stack.enter_async_context(
                    SignedSender(f"http://{host}:{port}{EVENTS_PATH}", SIGNING_SECRET)
                )
            elif mode == "socket":
                harness.socket = await connect_socket_mode(app, emulator.app_token)
                stack.push_async_callback(harness.socket.close_async)
                await emulator.wait_for("socket.connected")
            else:
                raise ValueError(mode)
            # Registered last, so it runs first: answers still in flight finish while the
            # emulator they talk to and the store they write to are still there.
            stack.push_async_callback(app.wait_idle)
            yield harness
        # Whatever the test did, nothing the app sent may ping, link or break an escape.
        assert emulator.markup_problems == [], emulator.markup_problems

    # -- deliveries ----------------------------------------------------------------------

    def next_ts(self) -> str:
        n = next(self._ids)
        return f"1690000000.{n:06d}"

    async def _deliver(self, kind: str, payload: Mapping[str, Any], *, retry: int = 0) -> Ack:
        if self.sender is not None:
            if kind == "slash_commands":
                delivered = await self.sender.form(payload)
            elif kind == "interactive":
                delivered = await self.sender.interactive(payload)
            else:
                delivered = await self.sender.json(payload, retry_num=retry or None)
            body = delivered.body
            said = json.loads(body) if body.startswith("{") else body or None
            return Ack(delivered.status, body, said)
        envelope_id = await self.emulator.send_envelope(
            kind, payload, retry_attempt=retry, retry_reason="timeout" if retry else ""
        )
        ack = await self.emulator.wait_ack(envelope_id)
        return Ack(200, str(ack.get("payload", "")), ack.get("payload"))

    async def command(self, text: str, *, user: str = MEMBER, channel: str = CHANNEL) -> str:
        """``/nato <text>``; returns the response_url the answer must arrive on."""
        response_url = self.emulator.response_url()
        ack = await self._deliver(
            "slash_commands", slash_command(text, user=user, channel=channel, response_url=response_url)
        )
        assert ack.status == 200, ack
        return response_url

    async def event(self, event: Mapping[str, Any], *, event_id: str | None = None, retry: int = 0) -> Ack:
        event_id = event_id or f"Ev{next(self._ids):08d}"
        return await self._deliver("events_api", event_callback(event, event_id=event_id), retry=retry)

    def mention_event(
        self, text: str, *, user: str, channel: str = CHANNEL, thread_ts: str | None = None
    ) -> dict[str, Any]:
        ts = self.next_ts()
        event = {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER}> {text}",
            "ts": ts,
            "event_ts": ts,
            "channel": channel,
            "team": TEAM,
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return event

    def dm_event(self, text: str, *, user: str, channel: str = DM) -> dict[str, Any]:
        ts = self.next_ts()
        return {
            "type": "message",
            "channel": channel,
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "team": TEAM,
        }

    def thread_reply_event(
        self, text: str, *, user: str, thread_ts: str, channel: str = CHANNEL, channel_type: str = "channel"
    ) -> dict[str, Any]:
        """A reply in a channel thread, as message.channels / message.groups deliver it."""
        ts = self.next_ts()
        return {
            "type": "message",
            "channel": channel,
            "channel_type": channel_type,
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "thread_ts": thread_ts,
            "team": TEAM,
        }

    async def click(
        self,
        button: Mapping[str, Any],
        *,
        user: str,
        channel: str = CHANNEL,
        message: Mapping[str, Any] | None,
    ) -> str:
        """Click a button the app rendered; returns the click's response_url."""
        response_url = self.emulator.response_url()
        payload = block_actions(
            button, user=user, channel=channel, response_url=response_url, message=message
        )
        ack = await self._deliver("interactive", payload)
        assert ack.status == 200, ack
        return response_url
