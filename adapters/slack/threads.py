"""Which channel threads the bot is part of: it answered there, or was mentioned there.

Only in those is a reply without a mention a follow-up for the bot (#13); every other
channel message is none of its business. Threads it joins are remembered here at once; a
thread it does not remember (after a restart, or joined by another replica) is looked up
once with ``conversations.replies`` and the verdict remembered for a while.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api_errors import error_code

__all__ = ["BotThreads"]

_log = logging.getLogger(__name__)

# As long as the core keeps a thread's turns: after that a follow-up has no context anyway.
_JOINED_FOR = 24 * 3600.0
# A thread the bot is not in can become one (a mention in it), and that is remembered at
# once; a replica that answered the mention is only learnt of by asking Slack again.
_NOT_JOINED_FOR = 300.0
_MAX_REMEMBERED = 10_000
_REPLIES_LIMIT = 200


class BotThreads:
    def __init__(self, client: AsyncWebClient, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._known: dict[tuple[str, str], tuple[bool, float]] = {}

    def joined(self, channel: str, thread_ts: str) -> None:
        """The bot answered, or was mentioned, in this thread."""
        self._remember(channel, thread_ts, True)

    async def includes_bot(self, channel: str, thread_ts: str, bot_user_id: str | None) -> bool:
        known = self._known.get((channel, thread_ts))
        if known is not None and known[1] > self._clock():
            return known[0]
        try:
            response = await self._client.conversations_replies(
                channel=channel, ts=thread_ts, limit=_REPLIES_LIMIT
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            reason = error_code(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
            _log.warning("conversations.replies failed (%s); not answering the thread reply", reason)
            return False
        messages = response.get("messages") or []
        verdict = bot_user_id is not None and any(_involves(m, bot_user_id) for m in messages)
        self._remember(channel, thread_ts, verdict)
        return verdict

    def _remember(self, channel: str, thread_ts: str, verdict: bool) -> None:
        if len(self._known) >= _MAX_REMEMBERED:
            now = self._clock()
            self._known = {k: v for k, v in self._known.items() if v[1] > now}
            if len(self._known) >= _MAX_REMEMBERED:
                self._known.clear()  # a burst of threads: forgetting costs one lookup each
        ttl = _JOINED_FOR if verdict else _NOT_JOINED_FOR
        self._known[(channel, thread_ts)] = (verdict, self._clock() + ttl)


def _involves(message: Mapping[str, Any], bot_user_id: str) -> bool:
    return message.get("user") == bot_user_id or f"<@{bot_user_id}>" in str(message.get("text", ""))
