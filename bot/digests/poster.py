"""The one thing an adapter implements for scheduled digests: post a reply to a channel.

The scheduler knows nothing of Slack or Discord; it hands each adapter's ``Poster`` a
``ChannelRef`` and a ``Reply`` and reads the outcome from the exception, if any.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.errors import BriefbotError
from bot.messages import Reply

__all__ = ["ChannelRef", "PostError", "Poster"]


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
    """Implemented by each adapter (console, Slack, Discord)."""

    platform: str

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        """Post one message; raise PostError on failure."""
        ...
