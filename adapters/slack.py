"""Slack adapter: slack-bolt (AsyncApp) in Socket Mode or over HTTP.

Like every adapter it only translates. A slash command, a mention, a direct message or a
button click becomes a ``bot.dispatch.Request``; the ``Reply`` goes back as Block Kit
(``adapters.slack_blocks``). Behaviour a Slack user relies on lives here:

- every request is acknowledged first, so Slack's 3-second deadline is always met;
- plain answers to ``/nato`` are posted to the channel, errors and previews only to the asker;
- a mention is answered in a thread, a direct message directly;
- an event Slack delivers twice (a retry, or the same ``event_id`` again) is answered once,
  even across a restart or by another replica (the store remembers event ids), and a
  signed request replayed within its five minutes is refused;
- 429 responses are retried after the ``Retry-After`` Slack asks for;
- anything that goes wrong is logged with its traceback at this boundary and the user gets
  one short apology.

``build_app`` is the factory the tests and ``SlackService`` share. ``SlackService`` is Slack
as ``briefbot run`` drives it (``adapters.runtime``): check the token, connect in Socket
Mode or mount ``POST /slack/events`` on the runtime's web server, stop taking events, wait
for answers in flight. ``briefbot slack`` is that runtime with Slack alone.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncBoltRequest, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.core_thread import CoreThread
from adapters.in_flight import InFlight
from adapters.slack_blocks import (
    ACTION_HELPFUL,
    ACTION_NOT_HELPFUL,
    ACTION_SUGGEST,
    SlackMessage,
    decode_feedback,
    from_slack,
    home_view,
    render_reply,
)
from bot.digests.poster import ChannelRef, PostError
from bot.dispatch import Bot
from bot.errors import ConfigError, StoreError
from bot.knowledge.base import KnowledgeBase
from bot.messages import Reply, Request
from bot.ops.config import Config
from bot.store.protocol import EventMemory
from bot.store.recent import RecentEvents

__all__ = [
    "DEFAULT_API_URL",
    "SlackApp",
    "SlackPoster",
    "SlackService",
    "SlackSettings",
    "build_app",
    "connect_socket_mode",
    "serve_http",
]

_log = logging.getLogger(__name__)

# Slack retries an event up to three times within about five minutes; an hour is ample.
_EVENT_MEMORY = timedelta(hours=1)
# bolt accepts a signed request whose timestamp is up to five minutes off either way, so a
# signature can be replayed for ten minutes at most.
_SIGNATURE_MEMORY = timedelta(minutes=10)
_SEEN_WAIT = 1.0  # seconds the acknowledgement may wait for the store's verdict

DEFAULT_API_URL = "https://slack.com/api/"
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
SORRY = "Sorry, something went wrong answering that. It has been logged."

# Errors after which posting to the same channel again cannot succeed until a person acts.
_PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "restricted_action",
        "team_access_not_granted",
    }
)
_DM_CHANNEL = re.compile(r"^D[A-Z0-9]+$")
_P = ParamSpec("_P")
_T = TypeVar("_T")


# -- configuration ---------------------------------------------------------------------


@dataclass(frozen=True)
class SlackSettings:
    """What ``briefbot slack`` reads from the environment. Secrets never appear in repr."""

    bot_token: str = field(repr=False)
    signing_secret: str | None = field(repr=False)
    app_token: str | None = field(repr=False)
    api_url: str = DEFAULT_API_URL
    digest_admins: frozenset[str] = frozenset()

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackSettings:
        """Read and check the settings; a missing one raises ConfigError naming it."""
        bot_token = env.get("SLACK_BOT_TOKEN", "").strip()
        if not bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: give the app's Bot User OAuth Token (xoxb-…), "
                "from 'OAuth & Permissions' on the app's settings page."
            )
        app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
        if app_token is not None and not app_token.startswith("xapp-"):
            raise ConfigError(
                "SLACK_APP_TOKEN is not an app-level token (they start with xapp-): create one "
                "with the connections:write scope under 'Basic Information'."
            )
        signing_secret = env.get("SLACK_SIGNING_SECRET", "").strip() or None
        if app_token is None and signing_secret is None:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs the app's Signing Secret "
                "('Basic Information'), or set SLACK_APP_TOKEN to use Socket Mode instead."
            )
        api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL
        if not re.match(r"^https?://[^/\s]+", api_url):
            raise ConfigError("SLACK_API_URL must be an http(s) URL, e.g. https://slack.com/api/")
        admins = frozenset(u.strip() for u in env.get("SLACK_DIGEST_ADMINS", "").split(",") if u.strip())
        return cls(bot_token, signing_secret, app_token, api_base(api_url), admins)


def api_base(url: str) -> str:
    """The Web API base as slack_sdk wants it: ending in a slash."""
    return url if url.endswith("/") else url + "/"


# -- small state the adapter keeps -------------------------------------------------------


class _Managers:
    """Who may manage digest subscriptions: the allow-list, else workspace admins and owners."""

    def __init__(
        self,
        client: AsyncWebClient,
        allow: Iterable[str],
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._allow = frozenset(allow)
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[bool, float]] = {}

    async def is_manager(self, user: str) -> bool:
        if user in self._allow:
            return True
        cached = self._cache.get(user)
        if cached is not None and cached[1] > self._clock():
            return cached[0]
        try:
            response = await self._client.users_info(user=user)
        except SlackApiError as exc:
            # Fail closed: without users.info (e.g. the users:read scope is missing) only
            # the allow-list can grant digest management.
            _log.warning("users.info failed (%s); treating the user as not an admin", _error_code(exc))
            return False
        except (aiohttp.ClientError, TimeoutError) as exc:
            _log.warning("users.info failed (%s); treating the user as not an admin", type(exc).__name__)
            return False
        info = response.get("user") or {}
        verdict = bool(info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner"))
        self._cache[user] = (verdict, self._clock() + self._ttl)
        return verdict


def _error_code(exc: SlackApiError) -> str:
    try:
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    except Exception:  # a malformed response must not hide the original error
        return "unknown error"


def _retry_after(exc: SlackApiError, default: float = 30.0) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return default


# -- digests ----------------------------------------------------------------------------


class SlackPoster:
    """The scheduler's way into Slack: ``chat.postMessage`` with the app's client.

    The client already retries once a 429's ``Retry-After`` has passed; a 429 that
    persists becomes ``PostError(retry_after=…)`` so the scheduler tries again later.
    """

    platform = "slack"
    # The title goes in a header block and the text in one Block Kit section, which
    # holds 3000 characters.
    message_limit = 3000

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        message = render_reply(reply)
        try:
            await self._client.chat_postMessage(
                channel=channel.channel, unfurl_links=False, unfurl_media=False, **message.as_kwargs()
            )
        except SlackApiError as exc:
            code = _error_code(exc)
            if exc.response.status_code == 429 or code == "ratelimited":
                raise PostError(
                    f"Slack rate-limited the post to {channel.channel}", retry_after=_retry_after(exc)
                ) from exc
            raise PostError(
                f"Slack refused the post to {channel.channel}: {code}", permanent=code in _PERMANENT_ERRORS
            ) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PostError(
                f"could not reach Slack to post to {channel.channel}: {type(exc).__name__}"
            ) from exc


# -- the app ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _ActionPlace:
    """Where a button was clicked, read from a block_actions payload."""

    user: str
    channel: str
    workspace: str
    ephemeral: bool
    message_ts: str | None
    thread_ts: str | None
    has_response_url: bool

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> _ActionPlace:
        container = body.get("container") or {}
        message = body.get("message") or {}
        return cls(
            user=str((body.get("user") or {}).get("id", "")),
            channel=str((body.get("channel") or {}).get("id") or container.get("channel_id") or ""),
            workspace=str(
                (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or ""
            ),
            ephemeral=bool(container.get("is_ephemeral")),
            message_ts=message.get("ts") or container.get("message_ts"),
            thread_ts=message.get("thread_ts") or container.get("thread_ts"),
            has_response_url=bool(body.get("response_url")),
        )

    def reply_thread(self) -> str | None:
        """Answers to a click go under the clicked message: in its thread, or starting one
        (except in a direct message with the bot, where a thread would only hide them)."""
        if self.thread_ts:
            return self.thread_ts
        if _DM_CHANNEL.match(self.channel):
            return None
        return self.message_ts


class SlackApp:
    """The bolt ``AsyncApp`` wired to a ``Bot``, plus what it needs to run and shut down."""

    def __init__(
        self,
        bot: Bot,
        *,
        token: str,
        signing_secret: str | None,
        api_url: str = DEFAULT_API_URL,
        digest_admins: Iterable[str] = (),
        rate_limit_retries: int = 2,
        home_milestones: int = 5,
    ) -> None:
        self.bot = bot
        handlers: list[AsyncRetryHandler] = [
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        ]
        self.client = AsyncWebClient(token=token, base_url=api_base(api_url), retry_handlers=handlers)
        self.bolt = AsyncApp(
            name="briefbot",
            client=self.client,
            # Socket Mode requests are not signed; bolt skips verification for them.
            signing_secret=signing_secret or "",
        )
        self.poster = SlackPoster(self.client)
        self._managers = _Managers(self.client, digest_admins)
        # In the bot's store when it has one, so a retry that arrives after a restart, or at
        # another replica, is still recognised; else in memory.
        self._seen: EventMemory = bot.store if isinstance(bot.store, EventMemory) else RecentEvents()
        self._home_milestones = home_milestones
        self._home: tuple[KnowledgeBase, dict[str, Any]] | None = None
        self._in_flight = InFlight()
        self._core_thread = CoreThread()  # acks never wait for the core (see core_thread.py)
        self._register()

    # -- wiring --------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.bolt
        app.middleware(self._drop_duplicates)
        # Each listener is counted from its listener middleware, which bolt runs before it
        # acknowledges the request, to the listener's end: wait_idle() then knows about
        # work Slack has already been told was received but that has not started yet.
        track = [self._begin]
        app.command("/nato", middleware=track)(self._counted(self._on_command))
        app.event("app_mention", middleware=track)(self._counted(self._on_mention))
        app.event("message", middleware=track)(self._counted(self._on_message))
        app.event("app_home_opened", middleware=track)(self._counted(self._on_home_opened))
        app.action(re.compile(rf"^{ACTION_SUGGEST}_\d+$"), middleware=track)(
            self._counted(self._on_suggestion)
        )
        app.action(ACTION_HELPFUL, middleware=track)(self._counted(self._on_feedback))
        app.action(ACTION_NOT_HELPFUL, middleware=track)(self._counted(self._on_feedback))
        app.error(self._on_error)

    async def run_core(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run a synchronous core call on the core thread."""
        return await self._core_thread.run(fn, *args, **kwargs)

    def close_core(self) -> None:
        """Stop the core thread once the work in flight has drained."""
        self._core_thread.close()

    async def _begin(self, next: Callable[[], Awaitable[None]]) -> None:
        self._in_flight.begin()
        await next()

    def _counted(self, listener: Callable[_P, Awaitable[None]]) -> Callable[_P, Awaitable[None]]:
        # functools.wraps keeps the signature bolt reads to decide which arguments to pass.
        @functools.wraps(listener)
        async def counted(*args: _P.args, **kwargs: _P.kwargs) -> None:
            try:
                await listener(*args, **kwargs)
            finally:
                self._in_flight.end()

        return counted

    async def _drop_duplicates(
        self, body: dict[str, Any], request: AsyncBoltRequest, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and not await self._first_time("slack-event", event_id, _EVENT_MEMORY):
            retry = (request.headers.get("x-slack-retry-num") or ["-"])[0]
            _log.info("event %s delivered again (retry %s); already answered", event_id, retry)
            return BoltResponse(status=200, body="")
        # Over HTTP bolt has checked the signature, and that its timestamp is within five
        # minutes of now; the same signature a second time is that request replayed.
        signature = (request.headers.get("x-slack-signature") or [""])[0] if request.mode == "http" else ""
        if signature and not await self._first_time("slack-signature", signature, _SIGNATURE_MEMORY):
            _log.warning("refused a replayed Slack request: its signature was used before")
            return BoltResponse(status=401, body="")
        await next()
        return None

    async def _first_time(self, namespace: str, key: str, ttl: timedelta) -> bool:
        """Is this delivery new? A store that cannot say within a second (locked, full) must
        not hold up Slack's 3-second acknowledgement: then it counts as new, and is logged."""
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self._seen.remember_event, namespace, key, ttl), timeout=_SEEN_WAIT
            )
        except (StoreError, TimeoutError) as exc:
            why = str(exc) or "no answer within a second"
            _log.warning("could not check whether a %s was seen before (%s); handling it", namespace, why)
            return True

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        # Only reached for failures outside the handlers below, which catch their own.
        _log.error("Slack request of type %s failed", body.get("type", "?"), exc_info=error)

    # -- running -------------------------------------------------------------------------

    def web_application(self) -> web.Application:
        """The HTTP-mode server: ``POST /slack/events`` for Slack, ``GET /healthz`` for probes."""
        application = web.Application()
        application.router.add_post(EVENTS_PATH, self._http_events)
        application.router.add_get(HEALTH_PATH, self._http_health)
        return application

    async def http_events(self, request: web.Request) -> web.Response:
        """``POST /slack/events``: a signed delivery from Slack, handed to bolt."""
        return await self._http_events(request)

    async def _http_events(self, request: web.Request) -> web.Response:
        bolt_response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def _http_health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def check_auth(self) -> str:
        """Fail fast on a rejected token; returns the workspace name for the start-up line."""
        try:
            response = await self.client.auth_test()
        except SlackApiError as exc:
            raise ConfigError(f"SLACK_BOT_TOKEN was rejected by Slack ({_error_code(exc)})") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ConfigError(
                f"cannot reach the Slack API ({type(exc).__name__}); check SLACK_API_URL"
            ) from exc
        return str(response.get("team") or response.get("team_id") or "?")

    async def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait for the requests being answered to finish; False if some still were."""
        return await self._in_flight.wait_idle(timeout)

    # -- the boundary --------------------------------------------------------------------

    async def _guarded(
        self,
        what: str,
        work: Callable[[], Awaitable[None]],
        apologise: Callable[[], Awaitable[object]] | None,
    ) -> None:
        try:
            await work()
        except Exception:
            _log.exception("failed to handle a Slack %s", what)
            if apologise is not None:
                try:
                    await apologise()
                except Exception:
                    _log.exception("could not send the apology for a failed Slack %s", what)

    async def _with_manager(self, request: Request) -> Request:
        """The request with its intent read once; one that changes a channel's digests also
        learns whether the user may manage them."""
        request = self.bot.read(request)
        if request.intent is None or not request.intent.needs_manager:
            return request
        return replace(request, user_is_manager=await self._managers.is_manager(request.user))

    # -- /nato -----------------------------------------------------------------------------

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()  # first, always: Slack shows an error if this takes over 3 seconds

        async def work() -> None:
            text = from_slack(str(body.get("text", "")))
            request = Request(
                platform="slack",
                user=str(body.get("user_id", "")),
                channel=str(body.get("channel_id", "")),
                text=text,
                is_command=True,
                workspace=str(body.get("team_id", "")),
            )
            reply = await self.run_core(self.bot.dispatch, await self._with_manager(request))
            if reply.ephemeral:
                message = render_reply(reply)
            else:
                message = render_reply(reply, asked_by=request.user, asked=f"/nato {text}".strip())
            await _respond(respond, message, ephemeral=reply.ephemeral)

        await self._guarded("slash command", work, lambda: respond(text=SORRY, response_type="ephemeral"))

    # -- mentions and direct messages ----------------------------------------------------

    async def _on_mention(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        channel = str(event.get("channel", ""))
        user = event.get("user")
        if not user or event.get("channel_type") == "im" or _DM_CHANNEL.match(channel):
            return  # direct messages arrive as message.im and are answered there
        thread_ts = event.get("thread_ts") or event.get("ts")
        await self._answer_message(event, body, context, thread_ts=thread_ts, what="mention")

    async def _on_message(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("channel_type") != "im":
            return
        # Edits, deletions, joins and other bots' posts are not questions.
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return
        if event.get("user") == context.bot_user_id:
            return
        await self._answer_message(
            event, body, context, thread_ts=event.get("thread_ts"), what="direct message"
        )

    async def _answer_message(
        self,
        event: Mapping[str, Any],
        body: Mapping[str, Any],
        context: AsyncBoltContext,
        *,
        thread_ts: str | None,
        what: str,
    ) -> None:
        channel = str(event.get("channel", ""))
        user = str(event.get("user", ""))

        async def work() -> None:
            text = from_slack(str(event.get("text", "")), bot_user_id=context.bot_user_id)
            request = Request(
                platform="slack",
                user=user,
                channel=channel,
                text=text,
                # As in the console, a message starting with "/" uses the command grammar.
                is_command=text.startswith("/"),
                workspace=str(body.get("team_id") or event.get("team") or ""),
            )
            reply = await self.run_core(self.bot.dispatch, await self._with_manager(request))
            await self._post(
                channel, user, render_reply(reply), ephemeral=reply.ephemeral, thread_ts=thread_ts
            )

        async def apologise() -> None:
            await self.client.chat_postMessage(channel=channel, text=SORRY, thread_ts=thread_ts)

        await self._guarded(what, work, apologise)

    async def _post(
        self, channel: str, user: str, message: SlackMessage, *, ephemeral: bool, thread_ts: str | None
    ) -> None:
        if ephemeral and not _DM_CHANNEL.match(channel):
            await self.client.chat_postEphemeral(
                channel=channel, user=user, thread_ts=thread_ts, **message.as_kwargs()
            )
        else:
            await self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                **message.as_kwargs(),
            )

    # -- App Home --------------------------------------------------------------------------

    async def _on_home_opened(self, event: dict[str, Any]) -> None:
        if event.get("tab") != "home" or not event.get("user"):
            return
        user = str(event["user"])

        async def work() -> None:
            await self.client.views_publish(user_id=user, view=self._home_view())

        await self._guarded("App Home", work, None)

    def _home_view(self) -> dict[str, Any]:
        # Rebuilt only when the knowledge base has been replaced (a live reload).
        kb = self.bot.engine.kb
        if self._home is None or self._home[0] is not kb:
            self._home = (kb, home_view(kb, latest=self._home_milestones))
        return self._home[1]

    # -- buttons -------------------------------------------------------------------------

    async def _on_suggestion(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        place = _ActionPlace.of(body)

        async def work() -> None:
            reply = await self.run_core(self.bot.answer_entry, str(action.get("value", "")))
            if place.ephemeral or reply.ephemeral:
                await self._answer_click(respond, place, render_reply(reply), ephemeral=True)
                return
            message = render_reply(reply, asked_by=place.user, asked=reply.title or None)
            await self._answer_click(respond, place, message, ephemeral=False)

        await self._guarded("suggestion button", work, lambda: self._apologise_click(respond, place))

    async def _on_feedback(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        place = _ActionPlace.of(body)

        async def work() -> None:
            question, entry_ids = decode_feedback(str(action.get("value", "")))
            request = Request("slack", place.user, place.channel, question, workspace=place.workspace)
            helpful = action.get("action_id") == ACTION_HELPFUL
            reply = await self.run_core(
                functools.partial(self.bot.feedback, request, entry_ids, question, helpful=helpful)
            )
            await self._answer_click(respond, place, render_reply(reply), ephemeral=True)

        await self._guarded("feedback button", work, lambda: self._apologise_click(respond, place))

    async def _answer_click(
        self, respond: AsyncRespond, place: _ActionPlace, message: SlackMessage, *, ephemeral: bool
    ) -> None:
        # response_url works wherever the button was, even in channels the bot isn't in.
        if place.has_response_url:
            if ephemeral:
                await _respond(respond, message, ephemeral=True)
            else:
                await _respond(respond, message, ephemeral=False, thread_ts=place.reply_thread())
            return
        await self._post(
            place.channel, place.user, message, ephemeral=ephemeral, thread_ts=place.reply_thread()
        )

    async def _apologise_click(self, respond: AsyncRespond, place: _ActionPlace) -> None:
        await self._answer_click(respond, place, SlackMessage(text=SORRY, blocks=()), ephemeral=True)


async def _respond(
    respond: AsyncRespond, message: SlackMessage, *, ephemeral: bool, thread_ts: str | None = None
) -> None:
    """Answer through the response_url; replace_original=False keeps the message clicked or
    typed into, and a failure (an expired URL, say) is raised, not silently dropped."""
    kwargs: dict[str, Any] = {"blocks": list(message.blocks)} if message.blocks else {}
    response = await respond(
        text=message.text,
        response_type="ephemeral" if ephemeral else "in_channel",
        replace_original=False,
        thread_ts=thread_ts,
        **kwargs,
    )
    if response.status_code != 200:
        raise RuntimeError(f"response_url answered HTTP {response.status_code}: {response.body[:200]!r}")


def build_app(
    bot: Bot,
    *,
    token: str,
    signing_secret: str | None,
    api_url: str = DEFAULT_API_URL,
    digest_admins: Iterable[str] = (),
    rate_limit_retries: int = 2,
) -> SlackApp:
    """The Slack app for ``bot``: ``.bolt`` is the AsyncApp, ``.poster`` posts digests."""
    return SlackApp(
        bot,
        token=token,
        signing_secret=signing_secret,
        api_url=api_url,
        digest_admins=digest_admins,
        rate_limit_retries=rate_limit_retries,
    )


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
        raise ConfigError(f"SLACK_APP_TOKEN was rejected by Slack ({_error_code(exc)})") from exc
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
        await asyncio.to_thread(self.app.close_core)

    async def notify_admins(self, text: str) -> None:
        """A direct message to each user on the digest admin list (SLACK_DIGEST_ADMINS)."""
        for user in sorted(self.settings.digest_admins):
            try:
                await self.app.client.chat_postMessage(channel=user, text=text, unfurl_links=False)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                code = _error_code(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
                _log.warning("could not tell a digest admin about it (%s)", code)


def service_factory(config: Config, env: Mapping[str, str]) -> Callable[[Bot], SlackService]:
    """Slack's entry in ``adapters.registry``: the settings are read and checked now, before
    anything is opened (a missing or malformed one raises ConfigError naming it)."""
    settings = replace(SlackSettings.from_env(env), digest_admins=config.slack_digest_admins)
    return lambda bot: SlackService(bot, settings)
