"""Scheduled digests into Slack: the scheduler's ``Poster``."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api_errors import error_code, retry_after
from adapters.slack.rendering import render_reply
from bot.digests.poster import ChannelRef, PostError
from bot.messages import Reply

__all__ = ["SlackPoster"]

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
