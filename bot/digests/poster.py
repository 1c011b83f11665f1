"""The one thing an adapter implements for scheduled digests: post a reply to a channel.

The scheduler knows no platform; it asks each adapter's ``Poster`` how long one part
may be (``message_limit``), hands it a ``ChannelRef`` and a ``Reply`` per part and reads
the outcome from the exception, if any.

A process killed while a part was in flight may or may not have posted it, and the one
taking the period over posts that part again unless it can tell. Two ways to tell:

* a ``FindingPoster`` (Slack) labels each message with its ``PartMark`` and looks for the
  label in the channel before the part is posted again;
* a ``MarkingPoster`` that cannot look (Discord) sends the mark along so that the platform
  itself recognises a repeat of the same part and keeps the message it already has
  (Discord's message nonce), within the platform's window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.errors import BriefbotError
from bot.messages import Reply

__all__ = ["ChannelRef", "FindingPoster", "MarkingPoster", "PartMark", "PostError", "Poster"]


@dataclass(frozen=True)
class ChannelRef:
    """Where a digest goes: platform, workspace (Slack team / Discord guild) and channel."""

    platform: str
    workspace: str
    channel: str


class PostError(BriefbotError):
    """A post failed. ``retry_after`` (seconds) when the platform asked us to slow down;
    ``permanent`` when retrying cannot help (channel gone, bot removed)."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Poster(Protocol):
    """Implemented by each adapter, which knows its platform's limits."""

    platform: str
    # The longest text, in characters, of one digest part this poster can post as one
    # message (with the reply's title, at most ``compose.TITLE_MAX``, beside it). The
    # scheduler splits digests to it, and the digest commands split previews to it.
    message_limit: int

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        """Post one message; raise PostError on failure."""
        ...


@dataclass(frozen=True)
class PartMark:
    """Which part (0-based) of which subscription's period a digest message is."""

    subscription_id: int
    period_key: str
    part: int


@runtime_checkable
class MarkingPoster(Poster, Protocol):
    """A poster that sends each digest part with its ``PartMark``, the same on every replica
    and every retry, so that a repeat of the part can be recognised."""

    async def post_marked(self, channel: ChannelRef, reply: Reply, mark: PartMark) -> None:
        """``post``, with the mark attached where the platform keeps it (not in the text)."""
        ...


@runtime_checkable
class FindingPoster(MarkingPoster, Protocol):
    """A ``MarkingPoster`` that can also look for a mark in the channel."""

    async def was_posted(self, channel: ChannelRef, mark: PartMark, since: datetime) -> bool | None:
        """Is a message with ``mark``, posted at or after ``since``, in the channel? None when
        the platform cannot say (no access to the channel's history, too many messages since):
        the part is then posted again, and at worst repeated."""
        ...
