"""Slack's assistant pane ("Agents & AI apps", paid workspaces) through bolt's
``AsyncAssistant``: suggested prompts when a thread starts, a status while answering, the
thread titled by its first question, and every message in the thread a follow-up.

Without the feature (a free workspace, or the pane turned off) none of these events arrive
and nothing here runs: direct messages and mentions work as before. A direct-message reply
in a thread reaches ``user_message`` too (bolt cannot tell the two apart); it is answered
the same way, and the pane-only calls (status, title) failing there costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from slack_bolt.context.set_status.async_set_status import AsyncSetStatus
from slack_bolt.context.set_suggested_prompts.async_set_suggested_prompts import AsyncSetSuggestedPrompts
from slack_bolt.context.set_title.async_set_title import AsyncSetTitle
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_bolt.middleware.async_custom_middleware import AsyncCustomMiddleware
from slack_sdk.errors import SlackApiError

from adapters.slack.api_errors import error_code

__all__ = ["STATUS", "build_assistant"]

_log = logging.getLogger(__name__)

STATUS = "is looking through the briefing notes…"
_TITLE_CHARS = 60
_MAX_TITLED = 10_000

# (event, body, thread_ts) -> None: answers the message in its thread.
Answer = Callable[[dict[str, Any], dict[str, Any], str], Awaitable[None]]
Listener = Callable[..., Awaitable[None]]


def build_assistant(
    *,
    prompts: Callable[[], Sequence[str]],
    answer: Answer,
    wrap: Callable[[Listener], Listener],
    begin: Callable[..., Awaitable[None]],
) -> AsyncAssistant:
    assistant = AsyncAssistant()
    titled: set[tuple[str, str]] = set()

    async def thread_started(set_suggested_prompts: AsyncSetSuggestedPrompts) -> None:
        suggested = list(prompts())
        if suggested:
            await _optional("setSuggestedPrompts", set_suggested_prompts(suggested, title="Try asking"))

    async def user_message(
        payload: dict[str, Any], body: dict[str, Any], set_status: AsyncSetStatus, set_title: AsyncSetTitle
    ) -> None:
        if payload.get("subtype") or payload.get("bot_id") or not payload.get("user"):
            return
        channel = str(payload.get("channel", ""))
        thread_ts = str(payload.get("thread_ts", ""))
        if (channel, thread_ts) not in titled:
            if len(titled) >= _MAX_TITLED:
                titled.clear()
            titled.add((channel, thread_ts))
            title = " ".join(str(payload.get("text", "")).split())[:_TITLE_CHARS] or "Question"
            await _optional("setTitle", set_title(title))
        # Cleared by Slack when the answer is posted in the thread.
        await _optional("setStatus", set_status(STATUS))
        await answer(payload, body, thread_ts)

    async def context_changed() -> None:
        """The pane's channel context is not used: nothing to save (bolt's default would
        write it into the thread's first message)."""

    # bolt annotates ``middleware`` as one callable but reads a list of AsyncMiddleware.
    for register, listener in (
        (assistant.thread_started, thread_started),
        (assistant.user_message, user_message),
        (assistant.thread_context_changed, context_changed),
    ):
        counting = AsyncCustomMiddleware(app_name="briefbot", func=begin)
        register(wrap(listener), middleware=[counting])  # type: ignore[arg-type]
    return assistant


async def _optional(what: str, call: Awaitable[Any]) -> None:
    """A pane-only call: where the pane is not there it fails, and the answer goes on."""
    try:
        await call
    except SlackApiError as exc:
        _log.debug("assistant.threads.%s failed (%s)", what, error_code(exc))
    except (aiohttp.ClientError, TimeoutError) as exc:
        _log.debug("assistant.threads.%s failed (%s)", what, type(exc).__name__)
