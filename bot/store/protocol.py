"""The ``Store`` protocol: everything briefbot asks of its database, and what it promises.

The bot records feedback and unanswered questions, the digest commands keep
subscriptions, the scheduler keeps the delivery ledger, and the console and the runtime
read them back. They all type against ``Store``; ``bot.store.sqlite.SQLiteStore`` is
the default implementation, and a server database is another class with these methods
(tests/store/test_contract.py runs the same tests against every backend).

The delivery ledger is what makes a digest go out once: a period is *claimed* by
inserting its row, and only one claim per ``(subscription_id, period_key)`` can succeed,
whichever process (or pass) makes it. A claim carries a lease; a claim whose lease ran
out with no retry booked was abandoned by a process that died, and is taken over; a
claim is retried, whatever stopped it, until it is posted or a newer period supersedes it.
Leases are measured by ``now()``: the database server's clock where several machines
share one.

Every timestamp given or returned is an aware datetime; every failure of the database
itself is raised as ``bot.errors.StoreError``. ``bot.store.location.open_store`` opens the
backend a URL names (a path or ``sqlite:///…``: SQLite; ``postgresql://…``: PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Literal, Protocol, Self, runtime_checkable

from bot.conversation import ThreadMemory
from bot.messages import FeedbackSink
from bot.store.values import (
    AnswerChannels,
    ChannelSettings,
    Delivery,
    FeedbackRecord,
    NewSubscription,
    Subscription,
    UnansweredQuestion,
)

__all__ = ["ChannelSettingsStore", "EventMemory", "Leases", "Store"]


@runtime_checkable
class ChannelSettingsStore(Protocol):
    """Each channel's settings, per platform, and each workspace's list of the channels the
    bot answers in; a channel or workspace nobody configured has the defaults."""

    def channel_settings(self, platform: str, channel: str) -> ChannelSettings:
        """The channel's settings (``ChannelSettings()`` if none were saved)."""
        ...

    def set_channel_settings(
        self, platform: str, channel: str, settings: ChannelSettings, *, now: datetime
    ) -> None:
        """Save the channel's settings, replacing any saved before."""
        ...

    def answer_channels(self, platform: str, workspace: str) -> AnswerChannels:
        """The channels of the workspace the bot answers in, in the order they were given
        (``AnswerChannels()``, every channel, if none were)."""
        ...

    def set_answer_channels(
        self, platform: str, workspace: str, channels: AnswerChannels, *, now: datetime
    ) -> None:
        """Replace the workspace's list whole; an empty one means every channel again."""
        ...


@runtime_checkable
class EventMemory(Protocol):
    """Remembers what a platform delivered, so a repeat is recognised.

    ``bot.store.recent.RecentEvents`` keeps it in memory; a ``Store`` keeps it in the
    database, so it survives a restart and is shared by every process on that database.
    """

    def remember_event(self, namespace: str, key: str, ttl: timedelta) -> bool:
        """True the first time ``key`` is seen in ``namespace``; False while it is remembered.

        It is remembered for ``ttl`` from now (the store's clock) and then forgotten, so
        the same key is new again. Atomic: of two processes (or threads) remembering the
        same key at once, exactly one gets True. A namespace says what the key is, e.g.
        ``slack-event`` for Slack's event ids or ``slack-signature`` for request
        signatures; keys of different namespaces never collide. It is called on every
        delivery, before it is acknowledged, so it must be quick: a backend may trade
        durability for speed here (a key lost to a power cut costs at most one duplicate
        answer), but never lose one to the process being killed.
        """
        ...


@runtime_checkable
class Leases(Protocol):
    """Named leases: at most one holder of a name at a time, across every process on the database.

    What several replicas use to let exactly one of them do something that must not be done
    twice at once, such as holding the Discord gateway (``adapters.leadership``).
    A lease is held for ``ttl`` from its last renewal by the store's clock (``now()``: the
    server's where several machines share one), so a holder that dies loses it once the
    ttl has run out, and one that stops releases it at once.
    """

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take ``name`` for ``holder`` until ``ttl`` from now, or renew it; True if held.

        True if the lease was free (never taken, released, or expired) or already
        ``holder``'s (then it is renewed); False while another holder's lease runs.
        Atomic: of several processes (or threads) asking at once, at most one gets True.
        """
        ...

    def release_lease(self, name: str, holder: str) -> None:
        """Give ``name`` up if ``holder`` holds it (anyone may take it at once); else nothing."""
        ...


class Store(FeedbackSink, EventMemory, ThreadMemory, ChannelSettingsStore, Leases, Protocol):
    """What the bot, the digest commands, the scheduler and the console need from a database.

    The writers the bot calls (``record_feedback``, ``record_feedback_reason``,
    ``record_unanswered``) come from ``bot.messages.FeedbackSink``, so their signatures are
    declared once; ``remember_event`` comes from ``EventMemory``; ``acquire_lease`` and
    ``release_lease`` from ``Leases``; ``remember_turn`` and ``recent_turns``, a conversation
    thread's context, from ``bot.conversation.ThreadMemory`` (kept in the database, they
    survive a restart and every replica reads the same thread). A user id is never stored:
    feedback keeps ``user_hash`` of it, salted per database, and a thread's
    turns keep no user at all.
    """

    # -- feedback and unanswered questions (the writers are FeedbackSink's) --

    def feedback(self, limit: int = 100) -> tuple[FeedbackRecord, ...]:
        """The most recent feedback, newest first."""
        ...

    def unanswered(self, limit: int = 100) -> tuple[UnansweredQuestion, ...]:
        """The most recent questions the bot abstained on, newest first."""
        ...

    def mark_handled(self, key: str, *, at: datetime) -> None:
        """Record that the curators' queue item ``key`` was dealt with at ``at`` (again: later)."""
        ...

    def handled(self) -> Mapping[str, datetime]:
        """Every queue item marked handled, and when it last was."""
        ...

    def user_hash(self, platform: str, workspace: str, user: str) -> str:
        """The salted hash of a user id that the feedback table stores. Logs use it too, so an
        operator can match a log line to feedback without the raw id ever being written."""
        ...

    # -- subscriptions --

    def add_subscription(self, new: NewSubscription, *, now: datetime) -> Subscription:
        """Store a subscription; ids are never reused, so a new one cannot inherit the
        delivery history of a deleted one."""
        ...

    def subscriptions(
        self, *, platform: str | None = None, workspace: str | None = None, channel: str | None = None
    ) -> tuple[Subscription, ...]:
        """The subscriptions matching every filter given, oldest first."""
        ...

    def remove_subscription(self, subscription_id: int) -> bool:
        """Delete a subscription and its deliveries; False if there was none."""
        ...

    # -- the delivery ledger --

    def delivery(self, subscription_id: int, period_key: str) -> Delivery | None: ...

    def deliveries(self, subscription_id: int) -> tuple[Delivery, ...]:
        """Every period of a subscription, in period order."""
        ...

    def last_delivery(self, subscription_id: int) -> Delivery | None:
        """The latest period of a subscription, whatever its status."""
        ...

    def claim(
        self,
        subscription_id: int,
        period_key: str,
        *,
        now: datetime,
        lease_until: datetime,
        title: str,
        parts: Sequence[str],
        delivers: Mapping[str, str] | None = None,
    ) -> Delivery | None:
        """Claim a period by inserting its row; None if anyone (any process) already has,
        or if the subscription no longer exists.

        The text to post is stored with the claim, so a retry posts exactly what the
        first attempt meant to. So is ``delivers`` (entry id -> content hash of what the
        text holds), which ``finish`` adds to ``delivered`` only once it is posted.
        """
        ...

    def take_over(
        self,
        subscription_id: int,
        period_key: str,
        *,
        now: datetime,
        lease_until: datetime,
    ) -> Delivery | None:
        """Take a claimed period whose lease has run out; None if it is not ours to take
        (done, given up, or its lease still runs: someone holds it, or took it first).

        Whether a retry was booked (``retry_at`` set by a process that failed or shut
        down) or the claim was abandoned by a process that died, it may be taken as often
        as that happens: a period is retried until it is posted or superseded. Taking an
        abandoned claim adds one to ``recovered``, which the scheduler's backoff reads.
        """
        ...

    def record_part(
        self, subscription_id: int, period_key: str, *, parts_done: int, lease_until: datetime
    ) -> None:
        """Note that the first ``parts_done`` parts are posted, and extend the lease."""
        ...

    def finish(
        self, subscription_id: int, period_key: str, *, status: Literal["done", "empty"], now: datetime
    ) -> None:
        """Mark a claimed period done (or empty); in the same transaction, what the claim
        ``delivers`` joins the subscription's ``delivered`` record."""
        ...

    def delivered(self, subscription_id: int) -> Mapping[str, str]:
        """Entry id -> content hash of every entry this subscription's finished periods
        delivered, each with the hash it had the last time. Digests leave out an entry
        delivered with its current hash, so nothing unchanged is posted twice."""
        ...

    def retry_later(self, subscription_id: int, period_key: str, *, retry_at: datetime, error: str) -> None:
        """Book a retry: the lease runs to ``retry_at`` so no other process jumps the queue."""
        ...

    def release(self, subscription_id: int, period_key: str, *, now: datetime) -> None:
        """Give a claim back unfinished, as a process shutting down does: a retry booked for
        ``now``, so the next pass of any process takes it at once, and it never counts as
        abandoned (``recovered``) the way the claim of a process that died does."""
        ...

    def fail(self, subscription_id: int, period_key: str, *, error: str) -> None:
        """Give a claimed period up for good, keeping ``error``."""
        ...

    def supersede(self, subscription_id: int, period_key: str, *, now: datetime) -> tuple[str, ...]:
        """Give up unfinished periods older than ``period_key``: after downtime only the
        latest period is caught up, never a backlog. Returns the keys given up, oldest first.

        A claim whose lease still runs and has no retry booked is left alone: its process
        is posting it right now and will mark it done itself (a later pass supersedes it if
        that process dies). A booked retry is nobody's work in progress and goes at once.
        """
        ...

    def next_lease_expiry(self) -> datetime | None:
        """When the earliest open claim may be retried or taken over.

        Only each subscription's latest period counts: an older claim left by a dead
        process waits for the next supersede, and must not make the scheduler wake in a
        loop for something it will never pick up.
        """
        ...

    # -- the database itself --

    def now(self) -> datetime:
        """The time leases are measured by. Several replicas sharing a database server ask
        the server, so a replica whose clock runs fast cannot take over a live claim; one
        process with a file of its own asks its own clock."""
        ...

    def schema_version(self) -> int:
        """The schema version the database is at (``bot.store.migrations.SCHEMA_VERSION`` once open)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None: ...
