"""The bolt ``AsyncApp`` wired to a ``Bot``: slash commands, mentions, direct messages,
App Home and buttons, each acknowledged first and answered on the core thread."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any, ParamSpec

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncBoltRequest, AsyncRespond
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.lifecycle import Lifecycle
from adapters.slack.api_errors import error_code
from adapters.slack.assistant import build_assistant
from adapters.slack.channels import ChannelAccess
from adapters.slack.events import DM_CHANNEL, PLATFORM, ActionPlace, Asker
from adapters.slack.feedback import (
    REASON_CALLBACK,
    VOTE_MEMORY,
    read_reason,
    reason_modal,
    reason_outcome,
    vote_key,
)
from adapters.slack.intake import Refusal, admit
from adapters.slack.managers import Managers
from adapters.slack.poster import SlackPoster
from adapters.slack.rendering import (
    ACTION_FEEDBACK,
    ACTION_HELPFUL,
    ACTION_HOME_ASK,
    ACTION_NOT_HELPFUL,
    ACTION_OPEN_ASK,
    ACTION_SHARE,
    ACTION_SUGGEST,
    ASK_CALLBACK,
    ASK_CHARS,
    HOME_SUGGESTIONS,
    ask_modal,
    channel_entities,
    decode_feedback,
    decode_share,
    decode_vote,
    from_slack,
    home_view,
)
from adapters.slack.replies import AutoReply, ClickReply, CommandReply, PostedReply, SharedReply
from adapters.slack.settings import DEFAULT_API_URL, api_base
from adapters.slack.threads import BotThreads
from bot.auto_answer import looks_like_question
from bot.dispatch import NOT_A_REASON, Bot
from bot.errors import ConfigError, StoreError
from bot.grammar.intents import Digest, Settings
from bot.knowledge.base import KnowledgeBase
from bot.messages import Reply, Request
from bot.store.protocol import EventMemory
from bot.store.recent import RecentEvents
from bot.votes import ALREADY_GAVE_REASON, ALREADY_VOTED

__all__ = ["EVENTS_PATH", "SlackApp", "build_app"]

# Failures at the boundary are logged on the platform's logger, the one the runtime counts
# Slack's errors on (``adapters.registry``: each platform logs under ``adapters.<name>``).
_log = logging.getLogger("adapters.slack")

# Slack retries an event up to three times within about five minutes; an hour is ample.
_EVENT_MEMORY = timedelta(hours=1)
# bolt accepts a signed request whose timestamp is up to five minutes off either way, so a
# signature can be replayed for ten minutes at most.
_SIGNATURE_MEMORY = timedelta(minutes=10)
_SEEN_WAIT = 1.0  # seconds the acknowledgement may wait for the store's verdict
# Seconds a submitted reasons modal may wait for its reason to be kept: with the check for
# a replay (``_SEEN_WAIT``) it must leave the answer inside Slack's three seconds.
_REASON_WAIT = 1.5
REASON_PENDING = "Thanks — your reason is being saved for the curators."
REASON_NOT_KEPT = "Sorry, your reason could not be saved. It has been logged."


class _TokenFromEnvironment(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment even when given a client, then warns
    on every start that the token will be unused (#14.18): the client holds that same
    token, so the warning says nothing an operator can act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


logging.getLogger("slack_bolt.AsyncApp").addFilter(_TokenFromEnvironment())

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
_P = ParamSpec("_P")


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
        self._signing_secret = signing_secret or ""
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
        self._managers = Managers(self.client, digest_admins)
        self._channels = ChannelAccess(self.client)
        self._threads = BotThreads(self.client)
        # In the bot's store when it has one, so a retry that arrives after a restart, or at
        # another replica, is still recognised; else in memory.
        self._seen: EventMemory = bot.store if isinstance(bot.store, EventMemory) else RecentEvents()
        self._home_milestones = home_milestones
        self._home: tuple[KnowledgeBase, dict[str, Any]] | None = None
        # Acks never wait for the core: answers are worked out on the lifecycle's core thread.
        self.lifecycle = Lifecycle("Slack", _log)
        self._register()

    # -- wiring --------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.bolt
        app.middleware(self._drop_duplicates)
        app.assistant(
            build_assistant(
                prompts=self._suggested_prompts,
                answer=self._answer_in_pane,
                wrap=self._counted,
                begin=self._begin,
            )
        )
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
        app.action(re.compile(rf"^{ACTION_HOME_ASK}_\d+$"), middleware=track)(
            self._counted(self._on_home_question)
        )
        app.action(ACTION_OPEN_ASK, middleware=track)(self._counted(self._on_open_ask))
        app.view(ASK_CALLBACK, middleware=track)(self._counted(self._on_ask_submitted))
        app.action(ACTION_SHARE, middleware=track)(self._counted(self._on_share))
        app.action(ACTION_FEEDBACK, middleware=track)(self._counted(self._on_feedback))
        app.action(ACTION_HELPFUL, middleware=track)(self._counted(self._on_feedback))
        app.action(ACTION_NOT_HELPFUL, middleware=track)(self._counted(self._on_feedback))
        app.view(REASON_CALLBACK, middleware=track)(self._counted(self._on_reason))
        app.error(self._on_error)

    async def _begin(self, next: Callable[[], Awaitable[None]]) -> None:
        self.lifecycle.in_flight.begin()
        await next()

    def _counted(self, listener: Callable[_P, Awaitable[None]]) -> Callable[_P, Awaitable[None]]:
        # functools.wraps keeps the signature bolt reads to decide which arguments to pass.
        @functools.wraps(listener)
        async def counted(*args: _P.args, **kwargs: _P.kwargs) -> None:
            try:
                await listener(*args, **kwargs)
            finally:
                self.lifecycle.in_flight.end()

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
        admitted = await admit(request, self._signing_secret)
        if isinstance(admitted, Refusal):
            return admitted.response()
        return await to_aiohttp_response(await self.bolt.async_dispatch(admitted))

    async def _http_health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def check_auth(self) -> str:
        """Fail fast on a rejected token; returns the workspace name for the start-up line."""
        try:
            response = await self.client.auth_test()
        except SlackApiError as exc:
            raise ConfigError(f"SLACK_BOT_TOKEN was rejected by Slack ({error_code(exc)})") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ConfigError(
                f"cannot reach the Slack API ({type(exc).__name__}); check SLACK_API_URL"
            ) from exc
        return str(response.get("team") or response.get("team_id") or "?")

    async def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait for the requests being answered to finish; False if some still were."""
        return await self.lifecycle.wait_idle(timeout)

    async def _with_manager(self, request: Request) -> Request:
        """The request with its intent read once; one that changes a channel's digests also
        learns whether the user may manage them."""
        request = self.bot.read(request)
        if request.intent is None or not request.intent.needs_manager:
            return request
        return replace(request, user_is_manager=await self._managers.is_manager(request.user))

    async def _dispatch(self, request: Request, linked: Mapping[str, str] | None = None) -> Reply:
        """``Bot.dispatch`` on the core thread, once the manager check is done; a manager
        subscribing a channel the bot cannot post to is told so now (#14.17), and the
        channels a manager's `/nato settings allow …` names are found in the workspace
        (``linked``: the ids of those Slack linked in the command)."""
        request = await self._with_manager(request)
        if request.user_is_manager and _subscribes(request):
            refusal = await self._channels.digest_refusal(request.channel)
            if refusal is not None:
                return refusal
        intent = request.intent
        if request.user_is_manager and isinstance(intent, Settings) and intent.allow:
            found = [await self._channels.find(ref, linked or {}) for ref in intent.allow]
            for lookup in found:
                if (cut_short := lookup.cut_short()) is not None:
                    return cut_short
            request = replace(request, intent=replace(intent, allow=tuple(f.ref for f in found)))
        return await self.lifecycle.core(self.bot.dispatch, request)

    async def _answers_public(self, channel: str) -> bool:
        """Whether the channel's managers made `/nato` answers public; private (the safe
        side) when the store cannot say."""
        try:
            settings = await self.lifecycle.core(self.bot.channel_settings, PLATFORM, channel)
        except Exception:
            _log.warning("could not read the channel's settings; answering privately", exc_info=True)
            return False
        return not settings.private_answers

    # -- /nato -----------------------------------------------------------------------------

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()  # first, always: Slack shows an error if this takes over 3 seconds
        asker = Asker.of_command(body)
        raw = str(body.get("text", ""))
        text = from_slack(raw)
        public = not DM_CHANNEL.match(asker.channel) and await self._answers_public(asker.channel)
        outlet = CommandReply(
            respond,
            asked_by=asker.user,
            asked=f"/nato {text}".strip(),
            command_text=text,
            public_answers=public,
        )
        await self.lifecycle.answer(
            "slash command",
            outlet,
            lambda: self._dispatch(asker.request(text, is_command=True), channel_entities(raw)),
        )

    # -- mentions and direct messages ----------------------------------------------------

    async def _on_mention(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        channel = str(event.get("channel", ""))
        user = event.get("user")
        if not user or event.get("channel_type") == "im" or DM_CHANNEL.match(channel):
            return  # direct messages arrive as message.im and are answered there
        thread_ts = str(event.get("thread_ts") or event.get("ts") or "")
        if thread_ts:
            self._threads.joined(channel, thread_ts)
        await self._answer_message(
            event, body, context, thread_ts=thread_ts or None, thread=thread_ts or None, what="mention"
        )

    async def _on_message(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        # Edits, deletions, joins and bots' posts (the bot's own too) are not questions; a
        # thread reply also sent to the channel is.
        if event.get("subtype") not in (None, "thread_broadcast") or event.get("bot_id"):
            return
        user = event.get("user")
        if not user or user == context.bot_user_id:
            return
        if event.get("channel_type") == "im":
            # A direct message is one conversation with the bot: the channel is its thread.
            channel = str(event.get("channel", ""))
            await self._answer_message(
                event, body, context, thread_ts=event.get("thread_ts"), thread=channel, what="direct message"
            )
            return
        await self._on_thread_reply(event, body, context)

    async def _on_thread_reply(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """A channel message: answered as a reply in a thread the bot is part of, or, outside
        threads, as a question where the channel's managers turned auto-answer on."""
        channel = str(event.get("channel", ""))
        thread_ts = str(event.get("thread_ts") or "")
        bot_user_id = context.bot_user_id
        if bot_user_id and f"<@{bot_user_id}>" in str(event.get("text", "")):
            return  # a mention: app_mention delivers it too, and it is answered there
        if not thread_ts or thread_ts == event.get("ts"):
            await self._auto_answer(event, body, context)
            return
        if not await self._threads.includes_bot(channel, thread_ts, bot_user_id):
            return
        await self._answer_message(
            event,
            body,
            context,
            thread_ts=thread_ts,
            thread=thread_ts,
            what="thread reply",
            quiet_elsewhere=True,
        )

    async def _auto_answer(
        self, event: Mapping[str, Any], body: Mapping[str, Any], context: AsyncBoltContext
    ) -> None:
        """A channel message outside any thread: answered in a thread under it only where
        auto-answer is on and the notes answer it with confidence (``Bot.auto_answer``);
        every other message, most of a channel's, costs no more than this look."""
        text = from_slack(str(event.get("text", "")), bot_user_id=context.bot_user_id)
        ts = str(event.get("ts") or "")
        if not ts or not looks_like_question(text):
            return
        asker = Asker.of_message(event, body)

        async def ask() -> Reply:
            reply = await self.lifecycle.core(
                self.bot.auto_answer, asker.request(text, is_command=False, thread=ts)
            )
            return reply if reply is not None else Reply("", kind="silence")

        outlet = AutoReply(
            self.client,
            channel=asker.channel,
            user=asker.user,
            thread_ts=ts,
            on_sent=lambda: self._threads.joined(asker.channel, ts),
        )
        await self.lifecycle.answer("auto-answer", outlet, ask)

    async def _answer_message(
        self,
        event: Mapping[str, Any],
        body: Mapping[str, Any],
        context: AsyncBoltContext,
        *,
        thread_ts: str | None,
        thread: str | None,
        what: str,
        quiet_elsewhere: bool = False,
    ) -> None:
        asker = Asker.of_message(event, body)

        async def ask() -> Reply:
            text = from_slack(str(event.get("text", "")), bot_user_id=context.bot_user_id)
            # As in the console, a message starting with "/" uses the command grammar.
            request = asker.request(text, is_command=text.startswith("/"), thread=thread)
            return await self._dispatch(request, channel_entities(str(event.get("text", ""))))

        outlet = PostedReply(
            self.client,
            channel=asker.channel,
            user=asker.user,
            thread_ts=thread_ts,
            quiet_elsewhere=quiet_elsewhere,
        )
        await self.lifecycle.answer(what, outlet, ask)

    # -- the assistant pane ----------------------------------------------------------------

    def _suggested_prompts(self) -> list[str]:
        newest = list(reversed(self.bot.engine.kb.milestones()))[:HOME_SUGGESTIONS]
        return [e.questions[0] for e in newest]

    async def _answer_in_pane(self, event: dict[str, Any], body: dict[str, Any], thread_ts: str) -> None:
        # No bot mention to strip: the pane's messages are addressed to the bot already.
        asker = Asker.of_message(event, body)
        text = from_slack(str(event.get("text", "")))
        outlet = PostedReply(self.client, channel=asker.channel, user=asker.user, thread_ts=thread_ts)
        request = asker.request(text, is_command=text.startswith("/"), thread=thread_ts)
        await self.lifecycle.answer("assistant message", outlet, lambda: self._dispatch(request))

    # -- App Home --------------------------------------------------------------------------

    async def _on_home_opened(self, event: dict[str, Any]) -> None:
        if event.get("tab") != "home" or not event.get("user"):
            return
        user = str(event["user"])

        async def work() -> None:
            await self.client.views_publish(user_id=user, view=self._home_view())

        await self.lifecycle.guarded("App Home", work, None)

    def _home_view(self) -> dict[str, Any]:
        # Rebuilt only when the knowledge base has been replaced (a live reload).
        kb = self.bot.engine.kb
        if self._home is None or self._home[0] is not kb:
            self._home = (kb, home_view(kb, latest=self._home_milestones))
        return self._home[1]

    async def _on_home_question(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A suggested question in App Home: answered in the user's direct messages."""
        await ack()
        user = str((body.get("user") or {}).get("id", ""))
        if not user:
            return
        entry_id = str(action.get("value", ""))
        outlet = PostedReply(self.client, channel=user, user=user, thread_ts=None)
        await self.lifecycle.answer(
            "App Home question", outlet, lambda: self.lifecycle.core(self.bot.answer_entry, entry_id)
        )

    async def _on_open_ask(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        trigger_id = body.get("trigger_id")
        if not isinstance(trigger_id, str):
            return

        async def work() -> None:
            await self.client.views_open(trigger_id=trigger_id, view=ask_modal())

        await self.lifecycle.guarded("ask modal", work, None)

    async def _on_ask_submitted(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The "Ask a question" modal: answered in the user's direct messages, as if sent
        there (so the next message there is a follow-up)."""
        raw = (((view.get("state") or {}).get("values") or {}).get("question") or {}).get("question") or {}
        value = raw.get("value") if isinstance(raw, dict) else None
        text = from_slack(value[: ASK_CHARS * 4])[:ASK_CHARS] if isinstance(value, str) else ""
        if not text:
            await ack(response_action="errors", errors={"question": "Type a question first."})
            return
        await ack()
        user = str((body.get("user") or {}).get("id", ""))
        if not user:
            return
        asker = Asker(user=user, channel=user, workspace=str((body.get("team") or {}).get("id", "")))
        outlet = PostedReply(self.client, channel=user, user=user, thread_ts=None)
        await self.lifecycle.answer(
            "App Home question", outlet, lambda: self._dispatch(asker.request(text, is_command=False))
        )

    # -- buttons -------------------------------------------------------------------------

    async def _on_suggestion(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        place = ActionPlace.of(body)
        # Clicked in a message only the clicker sees: the answer is for them alone too.
        outlet = ClickReply(self.client, respond, place, private=place.ephemeral)
        entry_id = str(action.get("value", ""))
        await self.lifecycle.answer(
            "suggestion button",
            outlet,
            lambda: self.lifecycle.core(
                self.bot.answer_entry, entry_id, request=place.asker.request("", is_command=False)
            ),
        )

    async def _on_share(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """ "Share in channel" under a private answer: the command is answered again (the
        answer is the notes', not the asker's, so it comes out the same) and posted to the
        channel, saying who shared it."""
        await ack()
        place = ActionPlace.of(body)
        text = decode_share(str(action.get("value", "")))
        outlet = SharedReply(respond, shared_by=place.user, asked=f"/nato {text}".strip())
        await self.lifecycle.answer(
            "share button", outlet, lambda: self._dispatch(place.asker.request(text, is_command=True))
        )

    async def _on_feedback(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        place = ActionPlace.of(body)
        question, entry_ids = decode_feedback(str(action.get("value", "")))
        if action.get("action_id") == ACTION_FEEDBACK:
            vote = decode_vote(str(action.get("value", "")))
            if vote is None:
                return  # not a value this app rendered
            helpful = vote
        else:
            helpful = action.get("action_id") == ACTION_HELPFUL
        key = vote_key(place.workspace, place.channel, place.message_ts, question, entry_ids, place.user)
        # The voter alone is told, in words, whether the vote counted: the native buttons
        # are a toggle each viewer sees their own way (a second click clears or switches
        # them while the first vote stands), and not every client draws them. Through the
        # click's response_url, else chat.postEphemeral (ClickReply).
        outlet = ClickReply(self.client, respond, place, private=True)
        if not await self._first_time("slack-vote", key, VOTE_MEMORY):
            await self.lifecycle.answer("repeated vote", outlet, _notice(ALREADY_VOTED))
            return
        trigger_id = body.get("trigger_id")
        if not helpful and isinstance(trigger_id, str):
            # First: a trigger_id expires three seconds after the click.
            modal = reason_modal(question, entry_ids, place.channel)

            async def open_modal() -> None:
                await self.client.views_open(trigger_id=trigger_id, view=modal)

            await self.lifecycle.guarded("reasons modal", open_modal, None)

        async def ask() -> Reply:
            request = place.asker.request(question, is_command=False)
            return await self.lifecycle.core(self.bot.feedback, request, entry_ids, question, helpful=helpful)

        await self.lifecycle.answer("feedback button", outlet, ask)

    async def _on_reason(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The 👎 modal submitted: the reason and note are kept on the voter's vote for the
        curators' queue (the vote itself was recorded on the click), and the modal turns into
        one line saying whether they were (``response_action: "update"``), so the voter sees
        the form was taken. The voter is the one Slack says submitted it, so a forged
        submission can only annotate one's own 👎. Nothing of the note is echoed back."""
        reason = read_reason(view)
        if reason is None:
            _log.info("refused a reasons modal without a valid reason")
            await ack(response_action="update", view=reason_outcome(NOT_A_REASON))
            return
        user = body.get("user") or {}
        voter = Asker(
            user=str(user.get("id", "")),
            channel=reason.channel,
            workspace=str((body.get("team") or {}).get("id") or user.get("team_id") or ""),
        )
        # Slack sends each modal once; the same one again is a replay, refused in words.
        opened = str(view.get("id") or view.get("private_metadata") or "")
        if not await self._first_time("slack-vote-reason", f"{opened}:{voter.user}", VOTE_MEMORY):
            await ack(response_action="update", view=reason_outcome(ALREADY_GAVE_REASON))
            return
        request = voter.request("", is_command=False)
        # The core logs whether it found the vote; the voter is told in the modal, which
        # must be answered within Slack's three seconds, so a core busy for longer gets
        # "being saved" and the reason is kept (or its failure logged) after the answer.
        keeping = asyncio.ensure_future(
            self.lifecycle.core(
                self.bot.feedback_reason, request, reason.entry_ids, reason.reason, reason.note
            )
        )
        try:
            outcome = (await asyncio.wait_for(asyncio.shield(keeping), _REASON_WAIT)).text
        except TimeoutError:
            outcome = REASON_PENDING
        except Exception:
            _log.exception("reasons modal failed")
            outcome = REASON_NOT_KEPT
        await ack(response_action="update", view=reason_outcome(outcome))
        if not keeping.done():
            try:
                await keeping
            except Exception:
                _log.exception("reasons modal failed")


def _notice(text: str) -> Callable[[], Awaitable[Reply]]:
    """A fixed private notice, as the lifecycle's ``ask`` takes one."""

    async def said() -> Reply:
        return Reply(text, ephemeral=True, kind="info")

    return said


def _subscribes(request: Request) -> bool:
    return isinstance(request.intent, Digest) and request.intent.subcommand == "subscribe"


# The factory the tests, the benchmarks and ``SlackService`` share: ``.bolt`` is the
# AsyncApp, ``.poster`` posts digests.
build_app = SlackApp
