"""The values a ``Store`` takes and returns, whatever database holds them.

Frozen, and free of any database type: timestamps are aware UTC datetimes, baselines
plain mappings, so a second backend returns exactly what the first one does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = [
    "AllowedChannel",
    "AnswerChannels",
    "ChannelSettings",
    "Delivery",
    "DeliveryStatus",
    "FeedbackRecord",
    "NewSubscription",
    "Subscription",
    "UnansweredQuestion",
]

DeliveryStatus = Literal["claimed", "done", "empty", "failed"]


@dataclass(frozen=True)
class NewSubscription:
    """What a `digest subscribe` command asks for."""

    platform: str
    workspace: str
    channel: str
    kind: str
    arg: str
    schedule: str
    tz: str
    created_by: str
    # For `new` digests: entry id -> content hash at subscription time, the first baseline.
    baseline: Mapping[str, str] | None = None
    # With nothing new to post, post one line saying so (else nothing).
    say_when_empty: bool = False


@dataclass(frozen=True)
class Subscription:
    id: int
    platform: str
    workspace: str
    channel: str
    kind: str
    arg: str
    schedule: str
    tz: str
    created_by: str
    created_at: datetime
    # For `new` digests: the notes as they were when it subscribed (entry id -> content
    # hash); what it has posted since is ``Store.delivered``.
    baseline: Mapping[str, str] | None = None
    say_when_empty: bool = False


@dataclass(frozen=True)
class Delivery:
    """One period of one subscription: claimed, then done (or empty, or failed)."""

    subscription_id: int
    period_key: str
    status: DeliveryStatus
    claimed_at: datetime
    posted_at: datetime | None
    attempts: int
    lease_until: datetime
    retry_at: datetime | None = None
    recovered: int = 0  # times taken over from a process that died holding it
    title: str = ""
    parts: tuple[str, ...] = ()
    parts_done: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class FeedbackRecord:
    at: datetime
    platform: str
    workspace: str
    channel: str
    user_hash: str
    question: str
    entry_ids: tuple[str, ...]
    helpful: bool
    # What a 👎 said was wrong (a key of ``bot.votes.REASONS``; None: no reason given) and
    # the voter's note, cleaned and bounded (``bot.votes.clean_note``) but not defused:
    # whoever shows it defuses its mentions (``bot.text.defuse_mentions``).
    reason: str | None = None
    note: str = ""


@dataclass(frozen=True)
class UnansweredQuestion:
    at: datetime
    platform: str
    workspace: str
    channel: str
    question: str
    confidence: float


@dataclass(frozen=True)
class ChannelSettings:
    """How briefbot behaves in one channel, as its managers chose (the defaults otherwise)."""

    # Answers to slash commands are shown only to the asker, with a button to share them;
    # False: posted in the channel for everyone. Declines are private either way.
    private_answers: bool = True
    # Questions posted in the channel without a mention are answered (in a thread), but
    # only with a confident answer; anything else gets silence. Off unless a manager asks.
    auto_answer: bool = False


@dataclass(frozen=True)
class AllowedChannel:
    """One channel on a workspace's allow-list: its id, and its name when it was allowed
    (for showing the list; the id is what counts, so a rename changes nothing but the label)."""

    id: str
    name: str = ""


@dataclass(frozen=True)
class AnswerChannels:
    """The channels of one workspace (a Slack team, a Discord server) the bot answers in.

    Empty, the default: every channel it is in. Direct messages are never on the list and
    never refused by it.
    """

    channels: tuple[AllowedChannel, ...] = ()

    @property
    def everywhere(self) -> bool:
        return not self.channels

    def admits(self, channel: str) -> bool:
        """Whether the bot answers in ``channel`` (a channel id)."""
        return self.everywhere or any(c.id == channel for c in self.channels)
