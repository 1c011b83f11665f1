"""Can the bot post digests to a channel? Asked when a channel subscribes, not when the
first digest fails days later (#14.17)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api_errors import error_code
from bot.grammar.intents import ChannelRef
from bot.messages import Reply

__all__ = ["LIST_LIMIT", "LIST_PAGES", "ChannelAccess", "Lookup"]

# A Slack conversation id typed or linked without a name: public (C) or private (G) channel.
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
# conversations.list pages looked through for a channel named by its name alone: Slack
# takes a limit under 1000 a page, so up to 9,990 channels in ten calls of a Tier 2
# method (20 a minute), which a manager's one command can afford. A bigger workspace is
# told the bound (``Lookup.cut_short``): a channel picked from Slack's list as you type `#`
# comes linked, with its id, and is never looked up by name.
LIST_PAGES = 10
LIST_LIMIT = 999

_log = logging.getLogger(__name__)

NOT_A_MEMBER = (
    "I can't post digests here: this is a private conversation I'm not a member of. "
    "Invite me first (`/invite @briefbot`), then subscribe again."
)
ARCHIVED = "I can't post digests here: this channel is archived."


@dataclass(frozen=True)
class Lookup:
    """A channel named in a command, as found: ``ref`` with its id (empty if not found), and
    ``looked_through`` channels when the search stopped at its bound without finding it."""

    ref: ChannelRef
    looked_through: int = 0

    def cut_short(self) -> Reply | None:
        """What to tell the manager when the bound, not the workspace, ended the search."""
        if not self.looked_through:
            return None
        return Reply(
            f"I looked through the first {self.looked_through:,} channels of this workspace and "
            f"did not find {self.ref.shown()}, so nothing was changed. Pick it from the list as "
            "you type # (Slack then links it, and I need not look for it), e.g. "
            "`/nato settings allow #briefings`.",
            ephemeral=True,
            kind="usage",
        )


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


    async def find(self, ref: ChannelRef, linked: Mapping[str, str]) -> Lookup:
        """The channel ``ref`` names, with its id and current name; the id left empty when
        the workspace has no such channel the bot can see (the core then says so), or when
        it is not among the first ``LIST_PAGES`` pages (``Lookup.cut_short`` says so).

        ``linked`` maps the words of channels Slack linked in the command to their ids
        (``rendering.channel_entities``); a name typed as plain text is looked up.
        """
        channel_id = ref.id or linked.get(ref.name, "")
        if not channel_id and _CHANNEL_ID.match(ref.name):
            channel_id = ref.name
        if channel_id:
            return Lookup(await self._by_id(channel_id, ref.name))
        return await self._by_name(ref.name)

    async def _by_id(self, channel_id: str, label: str) -> ChannelRef:
        try:
            response = await self._client.conversations_info(channel=channel_id)
        except SlackApiError as exc:
            if error_code(exc) == "channel_not_found":
                return ChannelRef(id="", name=label or channel_id)
            # Slack linked it, so it exists; only its name is unknown for now.
            _log.warning("conversations.info failed (%s); allowing the channel as linked", error_code(exc))
            return ChannelRef(id=channel_id, name=label)
        except (aiohttp.ClientError, TimeoutError) as exc:
            _log.warning("conversations.info failed (%s); allowing the channel as linked", type(exc).__name__)
            return ChannelRef(id=channel_id, name=label)
        info: Mapping[str, Any] = response.get("channel") or {}
        if info.get("is_im") or info.get("is_mpim"):
            return ChannelRef(id="", name=label or channel_id)  # not a channel of the workspace
        return ChannelRef(id=channel_id, name=str(info.get("name") or label))

    async def _by_name(self, name: str) -> Lookup:
        """conversations.list, page after page by its cursor, until the name or the end of
        the list is found, or ``LIST_PAGES`` pages have been read."""
        wanted = name.casefold()
        cursor = ""
        seen = 0
        try:
            for _ in range(LIST_PAGES):
                response = await self._client.conversations_list(
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=LIST_LIMIT,
                    cursor=cursor or None,
                )
                channels = response.get("channels") or []
                for channel in channels:
                    if str(channel.get("name", "")).casefold() == wanted:
                        return Lookup(ChannelRef(id=str(channel["id"]), name=str(channel["name"])))
                seen += len(channels)
                cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
                if not cursor:
                    return Lookup(ChannelRef(id="", name=name))
        except SlackApiError as exc:
            _log.warning("conversations.list failed (%s); cannot find #%s", error_code(exc), name[:80])
            return Lookup(ChannelRef(id="", name=name))
        except (aiohttp.ClientError, TimeoutError) as exc:
            _log.warning("conversations.list failed (%s); cannot find #%s", type(exc).__name__, name[:80])
            return Lookup(ChannelRef(id="", name=name))
        _log.info("#%s is not among the first %d channels listed; not looking further", name[:80], seen)
        return Lookup(ChannelRef(id="", name=name), looked_through=seen)


def _refused(text: str) -> Reply:
    return Reply(text, ephemeral=True, kind="refusal")
