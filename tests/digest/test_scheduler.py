"""The scheduler in one process, with a fake clock: timing, catch-up, retries, pacing."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.digests.compose import DigestSpec, compose, snapshot
from bot.digests.poster import ChannelRef, PostError
from bot.digests.scheduler import GivenUp, Scheduler, SystemClock
from bot.knowledge.base import KnowledgeBase
from bot.messages import Reply
from bot.store.protocol import Store
from bot.store.values import NewSubscription
from tests.digest.support import (
    MILESTONES,
    FakeClock,
    RecordingPoster,
    channel_gone,
    entry,
    make_kb,
    rate_limited,
    utc,
)
from tests.store.backends import Backend, backend, store

# Every test runs on each store backend (SQLite, and PostgreSQL on the tests' own server).
__all__ = ["backend", "store"]

CREATED = utc(2024, 7, 1, 8)
NINE = utc(2024, 7, 1, 9, 0, 30)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return make_kb(tmp_path_factory.mktemp("kb"))  # a frozen value: safe to share


def subscribe(store: Store, channel: str = "C1", **fields: object) -> int:
    values: dict[str, object] = {
        "platform": "slack",
        "workspace": "T1",
        "channel": channel,
        "kind": "month",
        "arg": "",
        "schedule": "daily 09:00",
        "tz": "UTC",
        "created_by": "U1",
    }
    values.update(fields)
    return store.add_subscription(NewSubscription(**values), now=CREATED).id  # type: ignore[arg-type]


def rig(
    store: Store,
    kb: KnowledgeBase,
    start: datetime = NINE,
    on_given_up: Callable[[GivenUp], None] | None = None,
) -> tuple[Scheduler, RecordingPoster]:
    clock = FakeClock(start)
    poster = RecordingPoster(clock)
    return Scheduler(store, lambda: kb, {"slack": poster}, clock, on_given_up=on_given_up), poster


async def test_a_due_period_is_posted_once_and_never_again(store: Store, kb: KnowledgeBase) -> None:
    sub = subscribe(store)
    scheduler, poster = rig(store, kb)
    first = await scheduler.run_due()
    assert [(o.period_key, o.status) for o in first] == [("2024-07-01T09:00", "posted")]
    assert await scheduler.run_due() == ()
    assert await scheduler.run_due(NINE + timedelta(hours=5)) == ()
    (posted,) = poster.posted
    assert posted.channel == ChannelRef("slack", "T1", "C1")
    assert posted.reply.kind == "digest" and posted.reply.title is not None and "July" in posted.reply.title
    assert store.delivery(sub, "2024-07-01T09:00").status == "done"  # type: ignore[union-attr]


async def test_nothing_is_posted_for_a_run_before_the_subscription_existed(
    store: Store, kb: KnowledgeBase
) -> None:
    subscribe(store, schedule="daily 07:00")  # created at 08:00, after today's 07:00
    scheduler, _poster = rig(store, kb)
    assert await scheduler.run_due() == ()
    assert [o.period_key for o in await scheduler.run_due(utc(2024, 7, 2, 7, 1))] == ["2024-07-02T07:00"]


async def test_after_downtime_only_the_latest_missed_period_is_caught_up(
    store: Store, kb: KnowledgeBase
) -> None:
    subscribe(store)
    subscribe(store, channel="C2", schedule="weekly mon 09:00")
    scheduler, poster = rig(store, kb)
    outcomes = await scheduler.run_due(utc(2024, 7, 20, 15))  # down since before 1 July
    assert sorted((o.subscription_id, o.period_key) for o in outcomes) == [
        (1, "2024-07-20T09:00"),
        (2, "2024-07-15T09:00"),
    ]
    assert len(poster.posted) == 2


async def test_a_rate_limit_is_honoured_then_the_period_is_posted_once(
    store: Store, kb: KnowledgeBase
) -> None:
    sub = subscribe(store)
    scheduler, poster = rig(store, kb)
    poster.failures = [rate_limited(45)]
    (outcome,) = await scheduler.run_due()
    assert outcome.status == "retry"
    delivery = store.delivery(sub, "2024-07-01T09:00")
    assert delivery is not None and delivery.retry_at == NINE + timedelta(seconds=45)
    assert scheduler.next_wake(NINE) == NINE + timedelta(seconds=45)
    assert await scheduler.run_due(NINE + timedelta(seconds=44)) == ()  # not before it was asked to
    (retried,) = await scheduler.run_due(NINE + timedelta(seconds=45))
    assert retried.status == "posted" and len(poster.posted) == 1


async def test_failures_back_off_exponentially_until_the_next_period_gives_the_period_up(
    store: Store, kb: KnowledgeBase
) -> None:
    sub = subscribe(store)
    given_up: list[GivenUp] = []
    scheduler, poster = rig(store, kb, on_given_up=given_up.append)
    poster.failures = [PostError("platform down") for _ in range(9)]
    now, waits = NINE, []
    for _ in range(9):
        (outcome,) = await scheduler.run_due(now)
        assert outcome.status == "retry"
        delivery = store.delivery(sub, "2024-07-01T09:00")
        assert delivery is not None and delivery.retry_at is not None
        waits.append((delivery.retry_at - now).total_seconds())
        now = delivery.retry_at
    # Doubling, then at most an hour apart: never given up for the number of attempts.
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert given_up == []
    # The next day's period supersedes it: that one is posted, this one given up and reported.
    outcomes = await scheduler.run_due(NINE + timedelta(days=1))
    assert [(o.period_key, o.status) for o in outcomes] == [("2024-07-02T09:00", "posted")]
    old = store.delivery(sub, "2024-07-01T09:00")
    assert old is not None and old.status == "failed"
    assert "superseded by 2024-07-02T09:00" in (old.last_error or "")
    assert [(g.subscription.id, g.period_key) for g in given_up] == [(sub, "2024-07-01T09:00")]
    assert "2024-07-02T09:00" in given_up[0].reason
    assert poster.calls == 10 and len(poster.posted) == 1


async def test_a_permanent_failure_is_recorded_and_not_retried(store: Store, kb: KnowledgeBase) -> None:
    sub = subscribe(store)
    scheduler, poster = rig(store, kb)
    poster.failures = [channel_gone()]
    (outcome,) = await scheduler.run_due()
    assert outcome.status == "failed"
    delivery = store.delivery(sub, "2024-07-01T09:00")
    assert delivery is not None and delivery.status == "failed" and delivery.last_error == "channel_not_found"
    assert await scheduler.run_due(NINE + timedelta(hours=1)) == ()
    # The next day is a new period and is tried afresh.
    assert [o.status for o in await scheduler.run_due(NINE + timedelta(days=1))] == ["posted"]


async def test_a_permanent_failure_is_given_up_and_reported_once(
    store: Store, kb: KnowledgeBase
) -> None:
    sub = subscribe(store)
    given_up: list[GivenUp] = []
    scheduler, poster = rig(store, kb, on_given_up=given_up.append)
    poster.failures = [channel_gone()]
    await scheduler.run_due()
    await scheduler.run_due(NINE + timedelta(hours=1))
    await scheduler.run_due(NINE + timedelta(days=1))  # the next period: nothing more to give up
    assert [(g.subscription.id, g.period_key) for g in given_up] == [(sub, "2024-07-01T09:00")]
    assert "channel_not_found" in given_up[0].reason


async def test_an_adapter_bug_is_retried_like_an_outage(store: Store, kb: KnowledgeBase) -> None:
    subscribe(store)
    scheduler, poster = rig(store, kb)
    poster.failures = [RuntimeError("adapter bug")]
    (outcome,) = await scheduler.run_due()
    assert outcome.status == "retry" and "RuntimeError" in outcome.detail
    assert [o.status for o in await scheduler.run_due(NINE + timedelta(seconds=30))] == ["posted"]


def many_milestones(count: int = 40) -> list[dict[str, object]]:
    title = "Japan and NATO hold another round of staff talks on maritime security cooperation no. {}"
    return [
        entry(f"talks-{i:02d}", date=f"{1980 + i}-07-0{1 + i % 9}", title=title.format(i))
        for i in range(count)
    ]


async def test_digests_are_split_to_the_limit_the_platforms_poster_declares(
    tmp_path: Path, store: Store
) -> None:
    subscribe(store)
    clock = FakeClock(NINE)
    poster = RecordingPoster(clock, message_limit=500)
    kb = make_kb(tmp_path, many_milestones(), name="many")
    scheduler = Scheduler(store, lambda: kb, {"slack": poster}, clock)
    (outcome,) = await scheduler.run_due()
    texts = [p.reply.text for p in poster.posted]
    assert outcome.status == "posted" and outcome.parts == len(texts) > 2
    assert all(len(text) <= 500 for text in texts)


async def test_a_failed_part_is_retried_without_repeating_the_parts_before_it(
    tmp_path: Path, store: Store
) -> None:
    subscribe(store)
    scheduler, poster = rig(store, make_kb(tmp_path, many_milestones(), name="many"))
    poster.failures = []
    original = poster.post
    calls = 0

    async def fail_second(channel: ChannelRef, reply: Reply) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise rate_limited(5)
        await original(channel, reply)

    poster.post = fail_second  # type: ignore[method-assign]
    (outcome,) = await scheduler.run_due()
    assert outcome.status == "retry" and outcome.parts == 1
    await scheduler.run_due(NINE + timedelta(seconds=10))
    assert [p.reply.text.splitlines()[0] for p in poster.posted] == ["(1/2)", "(2/2)"]


async def test_posts_to_one_channel_are_paced_to_one_a_second(tmp_path: Path, store: Store) -> None:
    subscribe(store)
    subscribe(store, kind="topic", arg="maritime")
    scheduler, poster = rig(store, make_kb(tmp_path, [*MILESTONES, *many_milestones()], name="many"))
    await scheduler.run_due()
    times = [p.at for p in poster.posted]
    assert len(times) == 3  # two parts of `month`, one of `topic`
    assert all(later - earlier >= timedelta(seconds=1) for earlier, later in itertools.pairwise(times))


async def test_empty_digests_are_recorded_but_not_posted(store: Store, kb: KnowledgeBase) -> None:
    sub = subscribe(store, schedule="monthly 1 09:00")
    scheduler, poster = rig(store, kb)
    (outcome,) = await scheduler.run_due(utc(2024, 8, 1, 9, 1))  # no milestone in August
    assert outcome.status == "empty" and poster.posted == []
    assert store.delivery(sub, "2024-08-01T09:00").status == "empty"  # type: ignore[union-attr]


async def test_new_digests_post_only_what_curators_added_since_the_last_one(
    tmp_path: Path, store: Store, kb: KnowledgeBase
) -> None:
    subscribe(store, kind="new", baseline=snapshot(kb))
    current = {"kb": kb}
    clock = FakeClock(NINE)
    poster = RecordingPoster(clock)
    scheduler = Scheduler(store, lambda: current["kb"], {"slack": poster}, clock)
    assert [o.status for o in await scheduler.run_due()] == ["empty"]
    added = entry("space-dialogue-2023", date="2023-03", topics=["space"], title="First space dialogue")
    current["kb"] = make_kb(tmp_path, [*MILESTONES, added], name="later")
    assert [o.status for o in await scheduler.run_due(NINE + timedelta(days=1))] == ["posted"]
    assert "[new] March 2023 — First space dialogue" in poster.posted[0].reply.text
    assert [o.status for o in await scheduler.run_due(NINE + timedelta(days=2))] == ["empty"]


async def test_a_digest_never_repeats_an_entry_it_delivered_unless_the_entry_changed(
    tmp_path: Path, store: Store, kb: KnowledgeBase
) -> None:
    # A weekday topic digest used to post the same lines every day.
    subscribe(store, kind="topic", arg="maritime")
    current = {"kb": kb}
    clock = FakeClock(NINE)
    poster = RecordingPoster(clock)
    scheduler = Scheduler(store, lambda: current["kb"], {"slack": poster}, clock)
    assert [o.status for o in await scheduler.run_due()] == ["posted"]
    first = poster.posted[0].reply.text
    assert "First joint counter-piracy exercise" in first and "Sea lanes matter to both" in first
    # The next day nothing has changed: nothing is posted.
    assert [o.status for o in await scheduler.run_due(NINE + timedelta(days=1))] == ["empty"]
    assert len(poster.posted) == 1
    # A curator rewords one entry and adds another: only those two go out.
    drill = "First joint counter-piracy drill off Somalia"
    reworded = [e if e["id"] != "gulf-of-aden-2014" else {**e, "title": drill} for e in MILESTONES]
    added = entry("port-visit-2023", date="2023-05", topics=["maritime"], title="Destroyer visits Tokyo")
    current["kb"] = make_kb(tmp_path, [*reworded, added], name="edited")
    assert [o.status for o in await scheduler.run_due(NINE + timedelta(days=2))] == ["posted"]
    lines = [line for line in poster.posted[1].reply.text.splitlines() if line.startswith("•")]
    assert lines == [
        "• [updated] September 2014 — First joint counter-piracy drill off Somalia (¶3)",
        "• May 2023 — Destroyer visits Tokyo (¶3)",
    ]
    assert [o.status for o in await scheduler.run_due(NINE + timedelta(days=3))] == ["empty"]
    # A preview still shows the whole digest.
    assert compose(DigestSpec("topic", "maritime"), current["kb"], on=NINE.date()).entry_ids == (
        "gulf-of-aden-2014",
        "port-visit-2023",
        "fact-maritime-interest",
    )


async def test_a_subscriber_who_asked_hears_in_one_line_that_there_is_nothing_new(
    store: Store, kb: KnowledgeBase
) -> None:
    sub = subscribe(store, kind="topic", arg="maritime", say_when_empty=True)
    scheduler, poster = rig(store, kb)
    await scheduler.run_due()
    (outcome,) = await scheduler.run_due(NINE + timedelta(days=1))
    assert outcome.status == "posted"
    said = poster.posted[1].reply
    assert said.text == "Nothing new in my notes on maritime since the last digest."
    assert said.title == "NATO–Japan: maritime, milestones and key facts"
    assert store.delivery(sub, "2024-07-02T09:00").status == "done"  # type: ignore[union-attr]


async def test_two_schedulers_in_one_loop_post_a_period_once(backend: Backend, kb: KnowledgeBase) -> None:
    with backend.open() as one, backend.open() as two:
        subscribe(one)
        clock = FakeClock(NINE)
        poster = RecordingPoster(clock)
        first = Scheduler(one, lambda: kb, {"slack": poster}, clock)
        second = Scheduler(two, lambda: kb, {"slack": poster}, clock)
        results = await asyncio.gather(first.run_due(), second.run_due())
    statuses = sorted(o.status for outcomes in results for o in outcomes)
    assert len(poster.posted) == 1 and statuses in (["busy", "posted"], ["posted"])


async def test_subscriptions_of_platforms_without_a_poster_are_left_alone(
    store: Store, kb: KnowledgeBase
) -> None:
    sub = subscribe(store, platform="discord")
    scheduler, _poster = rig(store, kb)
    assert await scheduler.run_due() == ()
    assert store.delivery(sub, "2024-07-01T09:00") is None  # not claimed: the Discord process will post it


async def test_run_forever_wakes_for_the_next_run_and_stops_cleanly(
    store: Store, kb: KnowledgeBase
) -> None:
    subscribe(store)
    clock = FakeClock(utc(2024, 7, 1, 8, 30))
    scheduler: Scheduler

    class StopAfterPost(RecordingPoster):
        async def post(self, channel: ChannelRef, reply: Reply) -> None:
            await super().post(channel, reply)
            scheduler.stop()

    poster = StopAfterPost(clock)
    scheduler = Scheduler(store, lambda: kb, {"slack": poster}, clock)
    await asyncio.wait_for(scheduler.run_forever(), timeout=5)
    assert [p.at for p in poster.posted] == [utc(2024, 7, 1, 9)]
    assert max(clock.sleeps) <= 60  # never sleeps past max_idle, so new subscriptions are seen


async def test_stop_interrupts_a_long_wait_on_the_real_clock(store: Store, kb: KnowledgeBase) -> None:
    scheduler = Scheduler(store, lambda: kb, {}, SystemClock(), max_idle=3600)
    task = asyncio.create_task(scheduler.run_forever())
    await asyncio.sleep(0)
    scheduler.stop()
    await asyncio.wait_for(task, timeout=5)
    assert task.done() and task.exception() is None


async def test_a_period_whose_process_keeps_dying_is_retried_after_growing_pauses(
    store: Store, kb: KnowledgeBase
) -> None:
    sub = subscribe(store)
    lease = timedelta(minutes=10)
    key = "2024-07-01T09:00"
    # Two processes claimed this period and died before posting (no retry booked).
    store.claim(sub, key, now=NINE, lease_until=NINE + lease, title="t", parts=("x",))
    store.take_over(sub, key, now=NINE + lease, lease_until=NINE + 2 * lease)
    scheduler, poster = rig(store, kb)
    # The third try waits a backoff first, in case the period is what kills them.
    (outcome,) = await scheduler.run_due(NINE + 2 * lease)
    assert outcome.status == "retry" and "stopped 2 times" in outcome.detail
    assert poster.calls == 0
    delivery = store.delivery(sub, key)
    assert delivery is not None and delivery.retry_at == NINE + 2 * lease + timedelta(seconds=30)
    assert scheduler.next_wake(NINE + 2 * lease) == delivery.retry_at
    assert await scheduler.run_due(NINE + 2 * lease + timedelta(seconds=29)) == ()
    (posted,) = await scheduler.run_due(delivery.retry_at)
    assert posted.status == "posted" and len(poster.posted) == 1


async def test_a_post_cut_short_by_shutdown_is_released_and_posted_at_once_by_the_next_start(
    store: Store, kb: KnowledgeBase
) -> None:
    sub = subscribe(store)
    key = "2024-07-01T09:00"
    clock = FakeClock(NINE)
    hanging = HangingPoster()
    scheduler = Scheduler(store, lambda: kb, {"slack": hanging}, clock)
    # What the runtime does when the post in progress outlasts its shutdown wait.
    task = asyncio.create_task(scheduler.run_forever())
    await asyncio.wait_for(hanging.started.wait(), timeout=5)
    scheduler.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    released = store.delivery(sub, key)
    assert released is not None and released.status == "claimed"
    assert released.lease_until == NINE and released.recovered == 0  # not a death
    # The next start takes it up at once, as a retry, not after the lease nor as a recovery.
    restarted, poster = rig(store, kb)
    (outcome,) = await restarted.run_due(NINE + timedelta(seconds=1))
    assert outcome.status == "posted" and len(poster.posted) == 1
    done = store.delivery(sub, key)
    assert done is not None and (done.status, done.recovered) == ("done", 0)


class HangingPoster:
    """A post that never returns, as a platform that stopped answering mid-request."""

    platform = "slack"
    message_limit = 3000

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        self.started.set()
        await asyncio.Event().wait()


# -- claims in bounded batches (#15) ---------------------------------------------------------


class HeldPoster:
    """Posts that wait until ``release``: a process busy posting a large run."""

    platform = "slack"
    message_limit = 3000

    def __init__(self) -> None:
        self.posting: list[ChannelRef] = []
        self.released = asyncio.Event()

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        self.posting.append(channel)
        await self.released.wait()


async def test_a_pass_holds_one_batch_of_claims_so_another_process_posts_the_rest(
    store: Store, kb: KnowledgeBase
) -> None:
    channels = [f"C{n:03d}" for n in range(40)]
    subs = [subscribe(store, channel=c) for c in channels]
    key = "2024-07-01T09:00"
    held = HeldPoster()
    first = Scheduler(store, lambda: kb, {"slack": held}, FakeClock(NINE), batch=5)
    busy = asyncio.create_task(first.run_due())
    async with asyncio.timeout(10):
        while len(held.posting) < 5:
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)  # room for claims beyond the batch, were any to be made
    claimed = [s for s in subs if (d := store.delivery(s, key)) is not None and d.status == "claimed"]
    # If this process died now, only these would wait for their leases to run out.
    assert len(claimed) == 5 and len(held.posting) == 5

    # Another replica's pass meanwhile takes everything not claimed, and nothing that is.
    second, poster = rig(store, kb)
    outcomes = await second.run_due()
    assert sorted(o.subscription_id for o in outcomes if o.status == "posted") == sorted(
        set(subs) - set(claimed)
    )
    held.released.set()
    await asyncio.wait_for(busy, timeout=10)
    posted = [p.channel.channel for p in poster.posted] + [c.channel for c in held.posting]
    assert sorted(posted) == channels  # each period once, by one process or the other
    assert all(store.delivery(s, key).status == "done" for s in subs)  # type: ignore[union-attr]
