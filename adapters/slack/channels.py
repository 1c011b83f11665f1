"""Can the bot post digests to a channel? Asked when a channel subscribes, not when the
first digest fails days later (#14.17)."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api_errors import error_code
from bot.messages import Reply

__all__ = ["ChannelAccess"]

_log = logging.getLogger(__name__)

NOT_A_MEMBER = (
    "I can't post digests here: this is a private conversation I'm not a member of. "
    "Invite me first (`/invite @briefbot`), then subscribe again."
)
ARCHIVED = "I can't post digests here: this channel is archived."


class ChannelAccess:
    """``conversations.info`` read as "may the bot post here?".

    A public channel is fine without an invitation (``chat:write.public``); a private channel
    or group DM needs the bot as a member, and Slack does not even show the bot a private
    conversation it is not in (``channel_not_found``). When Slack cannot say (a missing
    scope, the network), the subscription goes ahead: the check is a courtesy, and posting
    reports its own failures.
    """

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def digest_refusal(self, channel: str) -> Reply | None:
        try:
            response = await self._client.conversations_info(channel=channel)
        except SlackApiError as exc:
            if error_code(exc) == "channel_not_found":
                return _refused(NOT_A_MEMBER)
            _log.warning("conversations.info failed (%s); subscribing without the check", error_code(exc))
            return None
        except (aiohttp.ClientError, TimeoutError) as exc:
            _log.warning("conversations.info failed (%s); subscribing without the check", type(exc).__name__)
            return None
        info = response.get("channel") or {}
        if info.get("is_archived"):
            return _refused(ARCHIVED)
        if info.get("is_im"):
            return None  # Slack shows the bot only its own direct messages
        if (info.get("is_private") or info.get("is_mpim")) and not info.get("is_member"):
            return _refused(NOT_A_MEMBER)
        return None


def _refused(text: str) -> Reply:
    return Reply(text, ephemeral=True, kind="refusal")
