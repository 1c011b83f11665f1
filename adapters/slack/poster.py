"""Scheduled digests into Slack: the scheduler's ``Poster``."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api_errors import error_code, retry_after
from adapters.slack.rendering import render_reply
from bot.digests.poster import ChannelRef, PartMark, PostError
from bot.messages import Reply

__all__ = ["DIGEST_PART_EVENT", "SlackPoster"]

_log = logging.getLogger("adapters.slack")

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
# The message metadata type each digest part carries (invisible in the channel), so a
# replica taking a period over can find a part whose post was in flight when its poster died.
DIGEST_PART_EVENT = "briefbot_digest_part"
# Messages read looking for one part: at most one page of channel history since the claim.
_HISTORY_PAGE = 200


class SlackPoster:
    """The scheduler's way into Slack: ``chat.postMessage`` with the app's client.

    The client already retries once a 429's ``Retry-After`` has passed; a 429 that
    persists becomes ``PostError(retry_after=…)`` so the scheduler tries again later.
    Each part carries its ``PartMark`` as message metadata; ``was_posted`` looks for it in
    ``conversations.history`` (which needs the bot in the channel: in a public channel it
    only posts to, through ``chat:write.public``, it cannot tell, and says so).
    """

    platform = "slack"
    # The title goes in a header block and the text in one Block Kit section, which
    # holds 3000 characters.
    message_limit = 3000

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        await self._post(channel, reply, {})

    async def post_marked(self, channel: ChannelRef, reply: Reply, mark: PartMark) -> None:
        await self._post(
            channel, reply, {"metadata": {"event_type": DIGEST_PART_EVENT, "event_payload": _payload(mark)}}
        )

    async def was_posted(self, channel: ChannelRef, mark: PartMark, since: datetime) -> bool | None:
        try:
            response = await self._client.conversations_history(
                channel=channel.channel,
                oldest=f"{since.timestamp():.6f}",
                limit=_HISTORY_PAGE,
                include_all_metadata=True,
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            reason = error_code(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
            _log.info("cannot read %s's history to find a digest part (%s)", channel.channel, reason)
            return None
        wanted = _payload(mark)
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == DIGEST_PART_EVENT and metadata.get("event_payload") == wanted:
                return True
        return None if response.get("has_more") else False

    async def _post(self, channel: ChannelRef, reply: Reply, extra: dict[str, Any]) -> None:
        message = render_reply(reply)
        try:
            await self._client.chat_postMessage(
                channel=channel.channel,
                unfurl_links=False,
                unfurl_media=False,
                **message.as_kwargs(),
                **extra,
            )
        except SlackApiError as exc:
            code = error_code(exc)
            if exc.response.status_code == 429 or code == "ratelimited":
                raise PostError(
                    f"Slack rate-limited the post to {channel.channel}", retry_after=retry_after(exc)
                ) from exc
            raise PostError(
                f"Slack refused the post to {channel.channel}: {code}", permanent=code in _PERMANENT_ERRORS
            ) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PostError(
                f"could not reach Slack to post to {channel.channel}: {type(exc).__name__}"
            ) from exc


def _payload(mark: PartMark) -> dict[str, Any]:
    return {"subscription": mark.subscription_id, "period": mark.period_key, "part": mark.part}
