"""Post digests on schedule, each period once, across restarts, crashes and processes.

For every subscription whose latest scheduled run is due and not yet delivered:

1. compose the digest (pure, from the knowledge base);
2. **claim** the period: insert its delivery row, with the text to post and a lease.
   ``UNIQUE(subscription_id, period_key)`` lets exactly one process win;
3. post the parts through the platform's ``Poster``, recording each part as it goes
   and pacing each channel to one message a second;
4. mark the period done, and record the entries it delivered, in one transaction: the
   next period leaves out whatever this one delivered unless it has changed since.

A claim whose lease runs out without being done belonged to a process that died; it
is taken over, and posting resumes after the last part recorded, so a crash never
loses a period. The one message that may have been in flight is posted again only if the
platform's channel does not already hold it (a ``FindingPoster`` labels each part and can
look for it), or posted with its mark so that the platform keeps the message it has (a
``MarkingPoster``: Discord's nonce, within Discord's window); a platform that cannot tell
repeats at most that one message. A process shut down while posting gives its claim back
(``Store.release``) rather than dying on it.
Only a subscription's *latest* run is ever considered, so after downtime each
subscription catches up at most one missed period.

A pass claims in bounded batches: at most ``batch`` periods (``CLAIM_BATCH``, 25) are claimed
and not yet done at any moment, each claimed just before it is posted, and the channels are
served in a random order. So replicas sharing a database share a large run (each takes what
the others have not claimed yet, rather than the first to start claiming all of it), and a
replica that dies mid-run strands at most one batch until its leases run out.

A period is retried until it is posted or the next period supersedes it: failed posts
with backoff (or when the platform's ``retry_after`` says), and a period whose process
died on it more than once after a growing pause too, in case the period itself is what
kills it. A period given up, superseded unposted or refused for good by the platform
(the channel is gone), is logged at ERROR and handed to ``on_given_up``, which the
runtime counts on /healthz and tells the platform's digest admins about.

Every store call (and every reading of the clock, which is the database's in the runtime)
runs on the scheduler's own worker thread, never on the event loop: the loop also
acknowledges the platform's requests, and Slack gives up on one after 3 s. One thread
keeps the scheduler's calls in order (a release at shutdown comes after the call it
interrupted) and holds at most one of the store's connections; ``on_given_up`` and
``on_outcome`` are called on the loop, so they may start tasks there.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, ParamSpec, Protocol, TypeVar

from bot.digests.compose import DigestError, DigestSpec, compose
from bot.digests.poster import ChannelRef, FindingPoster, MarkingPoster, PartMark, Poster, PostError
from bot.digests.schedule import Schedule, ScheduleError, Slot, parse_schedule_words
from bot.errors import BriefbotError, StoreError
from bot.knowledge.base import KnowledgeBase
from bot.messages import Reply
from bot.store.protocol import Store
from bot.store.values import Delivery, Subscription

__all__ = [
    "CLAIM_BATCH",
    "Clock",
    "DatabaseClock",
    "GivenUp",
    "Outcome",
    "Scheduler",
    "SystemClock",
    "schedule_of",
]

_log = logging.getLogger(__name__)

_P = ParamSpec("_P")
_T = TypeVar("_T")

# How far the platform's clock may run behind the database's when looking for a part
# posted since a claim.
_CLOCK_MARGIN = timedelta(minutes=5)

# Periods one pass holds claimed and unfinished at once: what a replica dying mid-run leaves
# to wait for its leases, and how much of a run one replica takes before others may join in.
# Posting 25 channels at a time still keeps a platform's rate limit the bottleneck.
CLAIM_BATCH = 25


class Clock(Protocol):
    """Time for the scheduler; tests inject one that moves only when told."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class DatabaseClock:
    """The store's time (``Store.now``) with real sleeps: replicas sharing a database
    server then measure every lease by the server's clock, not by their own, so one whose
    clock runs fast cannot take over a claim another is still posting."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def now(self) -> datetime:
        return self.store.now()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class Outcome:
    """What one pass did for one subscription's period."""

    subscription_id: int
    period_key: str
    status: Literal["posted", "empty", "retry", "failed", "busy", "error"]
    parts: int = 0
    detail: str = ""


@dataclass(frozen=True)
class GivenUp:
    """A period the scheduler stopped trying to post, and why (said to the channel's managers)."""

    subscription: Subscription
    period_key: str
    reason: str


def schedule_of(subscription: Subscription) -> Schedule:
    return parse_schedule_words([*subscription.schedule.split(), subscription.tz])


@dataclass(frozen=True)
class _Due:
    subscription: Subscription
    slot: Slot
    existing: Delivery | None


@dataclass(frozen=True)
class _Claimed:
    """What claiming a period on the store's thread came to: a delivery to post, or the
    outcome already; and the periods found given up on the way, to report on the loop."""

    outcome: Outcome | None
    delivery: Delivery | None = None
    given_up: tuple[GivenUp, ...] = ()


class Scheduler:
    """Runs due digests: ``run_due`` for one pass, ``run_forever`` until ``stop``."""

    def __init__(
        self,
        store: Store,
        kb_provider: Callable[[], KnowledgeBase],
        posters: Mapping[str, Poster],
        clock: Clock | None = None,
        *,
        lease: timedelta = timedelta(minutes=10),
        backoff: timedelta = timedelta(seconds=30),
        max_backoff: timedelta = timedelta(hours=1),
        pace: float = 1.0,
        post_timeout: float = 60.0,
        max_idle: float = 60.0,
        batch: int = CLAIM_BATCH,
        on_outcome: Callable[[str, Outcome], None] | None = None,
        on_given_up: Callable[[GivenUp], None] | None = None,
    ) -> None:
        if post_timeout + pace >= lease.total_seconds():
            # A post still running when its lease ends could be taken over and repeated.
            raise ValueError("post_timeout plus the pace must be shorter than the lease")
        if batch < 1:
            raise ValueError("the claim batch must be at least 1")
        self.store = store
        self.kb_provider = kb_provider
        self.posters = dict(posters)
        self.clock: Clock = clock or SystemClock()
        self.lease = lease
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.pace = pace
        self.post_timeout = post_timeout
        self.max_idle = max_idle
        self.batch = batch
        self.on_outcome = on_outcome  # e.g. metrics: (platform, outcome) for every period handled
        self.on_given_up = on_given_up  # e.g. the runtime: count it, tell the managers
        self._offset = timedelta(0)
        self._last_post: dict[ChannelRef, datetime] = {}
        self._stopping = asyncio.Event()
        # Threads start on first use; an idle one ends with the scheduler or at exit.
        self._store_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="briefbot-digests")

    def _now(self) -> datetime:
        return self.clock.now() + self._offset

    async def _off_loop(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run a synchronous store (or clock) call on the scheduler's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._store_thread, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Let the scheduler's thread end once the call in progress, if any, has finished."""
        self._store_thread.shutdown(wait=False)

    # -- one pass --

    async def run_due(self, now: datetime | None = None) -> tuple[Outcome, ...]:
        """Deliver everything due at ``now`` (default: the clock's now); one pass."""
        # A pass "at" another time (the console's --now) keeps that offset throughout,
        # so leases and timestamps stay consistent with the decisions.
        self._offset = timedelta(0) if now is None else now - await self._off_loop(self.clock.now)
        try:
            due = await self._off_loop(lambda: self._due(self._now()))
            if not due:
                return ()
            kb = self.kb_provider()
            by_channel: dict[ChannelRef, list[_Due]] = {}
            for item in due:
                sub = item.subscription
                by_channel.setdefault(ChannelRef(sub.platform, sub.workspace, sub.channel), []).append(item)
            # A channel serves its periods one after the other, claiming each just before
            # posting it, so serving at most `batch` channels at once bounds the claims held.
            # In a random order: replicas that found the same periods due start apart.
            channels = list(by_channel.items())
            random.shuffle(channels)
            slots = asyncio.Semaphore(self.batch)

            async def serve(ref: ChannelRef, items: Sequence[_Due]) -> list[Outcome]:
                async with slots:
                    return await self._serve_channel(ref, items, kb)

            results = await asyncio.gather(*(serve(ref, items) for ref, items in channels))
            return tuple(outcome for outcomes in results for outcome in outcomes)
        finally:
            self._offset = timedelta(0)

    def _due(self, now: datetime) -> list[_Due]:
        due = []
        for sub in self.store.subscriptions():
            if sub.platform not in self.posters:
                continue  # another process (another adapter) serves that platform
            try:
                slot = schedule_of(sub).latest_at_or_before(now)
            except ScheduleError as exc:  # e.g. a zone that a tzdata update removed
                _log.warning("subscription %d has an unusable schedule: %s", sub.id, exc)
                continue
            if slot.at < sub.created_at:
                continue
            existing = self.store.delivery(sub.id, slot.key)
            if existing is not None and (existing.status != "claimed" or existing.lease_until > now):
                continue  # delivered, given up, or someone holds a live lease
            due.append(_Due(sub, slot, existing))
        return due

    async def _serve_channel(
        self, ref: ChannelRef, items: Sequence[_Due], kb: KnowledgeBase
    ) -> list[Outcome]:
        outcomes = []
        for item in items:
            try:
                outcome = await self._deliver(ref, item, kb)
            except Exception as exc:  # one broken subscription must not stop the others
                _log.exception("digest for subscription %d failed", item.subscription.id)
                outcome = Outcome(item.subscription.id, item.slot.key, "error", detail=str(exc)[:200])
            outcomes.append(outcome)
            if self.on_outcome is not None:
                self.on_outcome(ref.platform, outcome)
            if outcome.status in ("retry", "error"):
                break  # the channel is throttled or down: the rest wait for a later pass
        return outcomes

    async def _deliver(self, ref: ChannelRef, item: _Due, kb: KnowledgeBase) -> Outcome:
        claimed = await self._off_loop(self._claim, ref, item, kb)
        for given_up in claimed.given_up:
            self._given_up(given_up.subscription, given_up.period_key, given_up.reason)
        if claimed.outcome is not None or claimed.delivery is None:
            return claimed.outcome or Outcome(item.subscription.id, item.slot.key, "busy")
        # A period attempted before may have had its next part in flight when that attempt
        # ended (its process killed, its post timed out): posted, or not, since its claim.
        resumed_since = None if item.existing is None else item.existing.claimed_at
        return await self._post_parts(ref, item.subscription, claimed.delivery, resumed_since)

    def _claim(self, ref: ChannelRef, item: _Due, kb: KnowledgeBase) -> _Claimed:
        """Compose and claim the period, or take it over (on the store's thread)."""
        sub, key = item.subscription, item.slot.key
        now = self._now()
        given_up: list[GivenUp] = []
        if item.existing is None and self.store.delivery(sub.id, key) is not None:
            # Claimed by another process since this pass found it due (the pass may have
            # waited for a batch slot): not worth composing only to lose the claim.
            return _Claimed(Outcome(sub.id, key, "busy"))
        if item.existing is None:
            try:
                digest = compose(
                    DigestSpec(sub.kind, sub.arg),
                    kb,
                    on=item.slot.local.date(),
                    baseline=sub.baseline,
                    delivered=self.store.delivered(sub.id),
                )
            except DigestError as exc:  # e.g. a topic the curators have since removed
                _log.warning("subscription %d cannot be composed: %s", sub.id, exc)
                return _Claimed(Outcome(sub.id, key, "failed", detail=str(exc)))
            if not digest.empty:
                parts = digest.split_for(self.posters[ref.platform].message_limit)
            else:
                # Nothing new: nothing posted, unless the subscriber asked to hear so.
                parts = (digest.nothing,) if sub.say_when_empty else ()
            for old_key in self.store.supersede(sub.id, key, now=now):
                given_up.append(GivenUp(sub, old_key, f"still unposted when the next period ({key}) was due"))
            delivery = self.store.claim(
                sub.id,
                key,
                now=now,
                lease_until=now + self.lease,
                title=digest.title,
                parts=parts,
                delivers=dict(digest.delivers),
            )
        else:
            delivery = self.store.take_over(sub.id, key, now=now, lease_until=now + self.lease)
            if delivery is not None:
                _log.info("retrying %s for subscription %d (attempt %d)", key, sub.id, delivery.attempts)
                if item.existing.retry_at is None and delivery.recovered > 1:
                    # Its process died holding it, and not for the first time: the period
                    # itself may be what kills it, so each death waits longer before a retry.
                    return _Claimed(self._back_off_after_deaths(delivery))
        if delivery is None:
            return _Claimed(Outcome(sub.id, key, "busy"), given_up=tuple(given_up))
        if not delivery.parts:
            self.store.finish(sub.id, key, status="empty", now=self._now())
            return _Claimed(Outcome(sub.id, key, "empty"), given_up=tuple(given_up))
        return _Claimed(None, delivery, tuple(given_up))

    async def _post_parts(
        self, ref: ChannelRef, sub: Subscription, delivery: Delivery, resumed_since: datetime | None = None
    ) -> Outcome:
        sub_id, key = delivery.subscription_id, delivery.period_key
        poster = self.posters[ref.platform]
        total = len(delivery.parts)
        try:
            for index in range(delivery.parts_done, total):
                mark = PartMark(sub_id, key, index)
                since = resumed_since if index == delivery.parts_done else None
                if since is not None and await self._went_out(poster, ref, mark, since):
                    _log.info(
                        "digest %s part %d for subscription %d went out before its process stopped;"
                        " not posting it again",
                        key,
                        index + 1,
                        sub_id,
                    )
                    await self._off_loop(self._record_part, sub_id, key, index + 1)
                    continue
                await self._pace(ref)
                reply = Reply(text=delivery.parts[index], title=delivery.title, kind="digest")
                posting = (
                    poster.post_marked(ref, reply, mark)
                    if isinstance(poster, MarkingPoster)
                    else poster.post(ref, reply)
                )
                try:
                    await asyncio.wait_for(posting, timeout=self.post_timeout)
                except PostError as exc:
                    if exc.permanent:
                        await self._off_loop(self.store.fail, sub_id, key, error=str(exc))
                        self._given_up(sub, key, f"the platform refused it for good: {exc}")
                        return Outcome(sub_id, key, "failed", index, str(exc))
                    return await self._off_loop(self._retry_later, delivery, index, exc.retry_after, str(exc))
                except Exception as exc:  # an adapter bug or a network error it did not wrap
                    _log.exception("posting digest %s for subscription %d raised", key, sub_id)
                    error = f"{type(exc).__name__}: {exc}"
                    return await self._off_loop(self._retry_later, delivery, index, None, error)
                finally:
                    self._last_post[ref] = await self._off_loop(self._now)
                await self._off_loop(self._record_part, sub_id, key, index + 1)
        except asyncio.CancelledError:
            # A shutdown that could not wait for this post any longer. Giving the claim back
            # lets the next start post it at once, where dying on it would count against
            # it as an abandonment. (The part in flight may have gone out: as after a crash,
            # at most that one message repeats.)
            try:
                # On the store's thread too, so after the call this cancellation interrupted.
                await self._off_loop(lambda: self.store.release(sub_id, key, now=self._now()))
                _log.info("digest %s for subscription %d released unfinished at shutdown", key, sub_id)
            except StoreError:
                _log.exception("could not release digest %s for subscription %d", key, sub_id)
            raise
        await self._off_loop(lambda: self.store.finish(sub_id, key, status="done", now=self._now()))
        return Outcome(sub_id, key, "posted", total - delivery.parts_done)

    def _record_part(self, sub_id: int, key: str, parts_done: int) -> None:
        self.store.record_part(sub_id, key, parts_done=parts_done, lease_until=self._now() + self.lease)

    async def _went_out(self, poster: Poster, ref: ChannelRef, mark: PartMark, since: datetime) -> bool:
        """Whether the part is in the channel already; when the poster cannot say, no."""
        if not isinstance(poster, FindingPoster):
            return False
        try:
            # The platform stamps messages by its own clock: allow for it being behind ours.
            found = await asyncio.wait_for(
                poster.was_posted(ref, mark, since - _CLOCK_MARGIN), timeout=self.post_timeout
            )
        except Exception:  # not knowing is no reason to skip the part: post it, maybe twice
            _log.warning(
                "could not tell whether digest %s part %d went out",
                mark.period_key,
                mark.part + 1,
                exc_info=True,
            )
            return False
        return found is True

    def _given_up(self, sub: Subscription, key: str, reason: str) -> None:
        """Log and report a period given up; on the event loop (the report may post)."""
        _log.error("digest %s for subscription %d given up: %s", key, sub.id, reason)
        if self.on_given_up is not None:
            try:
                self.on_given_up(GivenUp(sub, key, reason))
            except Exception:  # telling someone must not stop the digests
                _log.exception("reporting the digest given up failed")

    def _backoff(self, step: int) -> timedelta:
        """The pause before retry ``step`` (1, 2, ...): ``backoff`` doubling, at most ``max_backoff``."""
        doubled: timedelta = self.backoff * 2 ** min(max(step - 1, 0), 30)
        return min(self.max_backoff, doubled)

    def _back_off_after_deaths(self, delivery: Delivery) -> Outcome:
        sub_id, key = delivery.subscription_id, delivery.period_key
        delay = self._backoff(delivery.recovered - 1)
        error = f"its posting process stopped {delivery.recovered} times"
        self.store.retry_later(sub_id, key, retry_at=self._now() + delay, error=error)
        _log.warning("digest %s for subscription %d: %s; next try in %s", key, sub_id, error, delay)
        return Outcome(sub_id, key, "retry", detail=error)

    def _retry_later(self, delivery: Delivery, posted: int, retry_after: float | None, error: str) -> Outcome:
        # No limit on attempts: the period is retried until it is posted or the next
        # period supersedes it (then it is given up, and reported).
        sub_id, key = delivery.subscription_id, delivery.period_key
        if retry_after is not None:
            delay = timedelta(seconds=max(retry_after, 0.0))  # the platform said when
        else:
            delay = self._backoff(delivery.attempts)
        self.store.retry_later(sub_id, key, retry_at=self._now() + delay, error=error)
        _log.info("digest %s for subscription %d will be retried in %s: %s", key, sub_id, delay, error)
        return Outcome(sub_id, key, "retry", posted - delivery.parts_done, error)

    async def _pace(self, ref: ChannelRef) -> None:
        last = self._last_post.get(ref)
        if last is None:
            return
        wait = (last + timedelta(seconds=self.pace) - await self._off_loop(self._now)).total_seconds()
        if wait > 0:
            await self.clock.sleep(wait)

    # -- the loop --

    def next_wake(self, now: datetime) -> datetime:
        """When the next run, retry or lease expiry is due (at most ``max_idle`` away,
        so subscriptions added by another process are noticed)."""
        wake = now + timedelta(seconds=self.max_idle)
        for sub in self.store.subscriptions():
            if sub.platform in self.posters:
                try:
                    wake = min(wake, schedule_of(sub).next_after(now).at)
                except ScheduleError:
                    continue
        expiry = self.store.next_lease_expiry()
        if expiry is not None:
            wake = min(wake, max(expiry, now))
        return wake

    def _seconds_to_wake(self) -> float:
        now = self.clock.now()
        return (self.next_wake(now) - now).total_seconds()

    async def run_forever(self) -> None:
        """Pass after pass until ``stop()``; a failing pass is logged, never fatal."""
        failures = 0
        while not self._stopping.is_set():
            try:
                await self.run_due()
                delay = await self._off_loop(self._seconds_to_wake)
                failures = 0
            except BriefbotError as exc:  # the database or the knowledge base is unusable
                failures += 1
                delay = min(self.max_backoff.total_seconds(), self.backoff.total_seconds() * 2**failures)
                _log.error("digest pass failed (%s); next try in %.0fs", exc, delay)
            except Exception:
                failures += 1
                delay = min(self.max_backoff.total_seconds(), self.backoff.total_seconds() * 2**failures)
                _log.exception("digest pass failed; next try in %.0fs", delay)
            await self._wait(delay)

    async def _wait(self, seconds: float) -> None:
        if seconds <= 0 or self._stopping.is_set():
            await asyncio.sleep(0)  # still yield, so a busy loop cannot starve stop()
            return
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, stopper):
                task.cancel()
            await asyncio.gather(sleeper, stopper, return_exceptions=True)

    def stop(self) -> None:
        """End ``run_forever`` after the pass in progress (posts are never cut midway)."""
        self._stopping.set()
