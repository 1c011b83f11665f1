"""What every ``Store`` backend promises: the delivery ledger's guarantees, feedback, ids.

Each test runs once per backend in ``tests.store.backends.BACKENDS`` (SQLite, and
PostgreSQL on the tests' throwaway server), so every backend is held to exactly what the
scheduler and the commands rely on.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.conversation import TURNS_KEPT, ThreadKey, Turn
from bot.store.migrations import SCHEMA_VERSION
from bot.store.protocol import Store
from bot.store.values import NewSubscription
from tests.digest.support import utc
from tests.store.backends import Backend, backend, store

__all__ = ["backend", "store"]  # the fixtures, imported for pytest to see

NOW = utc(2024, 3, 1, 9)


def new_sub(**overrides: object) -> NewSubscription:
    fields: dict[str, object] = {
        "platform": "slack",
        "workspace": "T1",
        "channel": "C1",
        "kind": "month",
        "arg": "",
        "schedule": "daily 09:00",
        "tz": "UTC",
        "created_by": "U1",
    }
    fields.update(overrides)
    return NewSubscription(**fields)  # type: ignore[arg-type]


def test_a_new_database_is_at_the_current_schema_and_reopening_changes_nothing(backend: Backend) -> None:
    with backend.open() as store:
        assert store.schema_version() == SCHEMA_VERSION
        sub = store.add_subscription(new_sub(), now=NOW)
    with backend.open() as again:
        assert again.schema_version() == SCHEMA_VERSION
        assert again.subscriptions() == (sub,)


def test_feedback_keeps_a_salted_hash_of_the_user_never_the_id(backend: Backend) -> None:
    with backend.open(clock=lambda: NOW) as store:
        for user, helpful in (("U-SECRET-1", True), ("U-SECRET-1", False), ("U-SECRET-2", True)):
            store.record_feedback(
                platform="slack",
                workspace="T1",
                channel="C1",
                user=user,
                question="when did japan join the cyber centre?",
                entry_ids=("ccdcoe-2022",),
                helpful=helpful,
            )
        records = store.feedback(limit=10)
    assert [r.helpful for r in records] == [True, False, True]  # newest first
    assert records[0].entry_ids == ("ccdcoe-2022",) and records[0].at == NOW
    assert records[1].user_hash == records[2].user_hash != records[0].user_hash
    raw = backend.raw()
    assert b"when did japan join the cyber centre?" in raw  # raw() does see what is stored...
    assert b"U-SECRET" not in raw  # ...and the user id is not among it


def test_unanswered_questions_are_listed_newest_first_within_the_limit(store: Store) -> None:
    for i in range(5):
        store.record_unanswered(
            platform="discord", workspace="G1", channel="C1", question=f"q{i}", confidence=i / 10
        )
    listed = store.unanswered(limit=3)
    assert [q.question for q in listed] == ["q4", "q3", "q2"]
    assert listed[0].confidence == pytest.approx(0.4)


def test_a_period_can_be_claimed_once_even_by_two_connections(backend: Backend) -> None:
    with backend.open() as first, backend.open() as second:
        sub = first.add_subscription(new_sub(), now=NOW)
        args = {"now": NOW, "lease_until": NOW + timedelta(minutes=10), "title": "t", "parts": ("a",)}
        assert first.claim(sub.id, "2024-03-01T09:00", **args) is not None  # type: ignore[arg-type]
        assert second.claim(sub.id, "2024-03-01T09:00", **args) is None  # type: ignore[arg-type]
        assert second.claim(sub.id, "2024-03-02T09:00", **args) is not None  # type: ignore[arg-type]


def test_an_abandoned_claim_is_taken_over_every_time_its_lease_runs_out(store: Store) -> None:
    sub = store.add_subscription(new_sub(), now=NOW)
    key, lease = "2024-03-01T09:00", timedelta(minutes=10)
    store.claim(sub.id, key, now=NOW, lease_until=NOW + lease, title="t", parts=("a",))
    assert store.take_over(sub.id, key, now=NOW + lease / 2, lease_until=NOW + lease) is None
    taken = store.take_over(sub.id, key, now=NOW + lease, lease_until=NOW + 2 * lease)
    assert taken is not None and (taken.attempts, taken.recovered) == (2, 1)
    # Its taker died too: taken over again, never given up for it.
    again = store.take_over(sub.id, key, now=NOW + 2 * lease, lease_until=NOW + 3 * lease)
    assert again is not None and (again.attempts, again.recovered, again.status) == (3, 2, "claimed")
    # A booked retry is taken when it is due, and is no abandonment.
    store.retry_later(sub.id, key, retry_at=NOW + 4 * lease, error="platform down")
    assert store.take_over(sub.id, key, now=NOW + 3 * lease, lease_until=NOW + 4 * lease) is None
    retried = store.take_over(sub.id, key, now=NOW + 4 * lease, lease_until=NOW + 5 * lease)
    assert retried is not None and (retried.attempts, retried.recovered, retried.retry_at) == (4, 2, None)


def test_a_released_claim_is_taken_at_once_and_never_counts_as_abandoned(store: Store) -> None:
    sub = store.add_subscription(new_sub(), now=NOW)
    key, lease = "2024-03-01T09:00", timedelta(minutes=10)
    store.claim(sub.id, key, now=NOW, lease_until=NOW + lease, title="t", parts=("a", "b"))
    store.record_part(sub.id, key, parts_done=1, lease_until=NOW + lease)
    shutdown = NOW + timedelta(minutes=1)
    store.release(sub.id, key, now=shutdown)
    released = store.delivery(sub.id, key)
    assert released is not None and released.status == "claimed" and released.lease_until == shutdown
    assert store.next_lease_expiry() == shutdown  # the next pass comes for it at once
    taken = store.take_over(sub.id, key, now=shutdown, lease_until=shutdown + lease)
    assert taken is not None and (taken.recovered, taken.parts_done) == (0, 1)


def test_a_newer_period_supersedes_an_older_claim_only_once_its_lease_has_run_out(store: Store) -> None:
    sub = store.add_subscription(new_sub(), now=NOW)
    lease = timedelta(minutes=10)
    old, new = "2024-03-01T09:00", "2024-03-01T10:00"
    store.claim(sub.id, old, now=NOW, lease_until=NOW + lease, title="t", parts=("a",))
    # Another process is still posting the old period: it must be able to finish it.
    assert store.supersede(sub.id, new, now=NOW + lease / 2) == ()
    store.claim(sub.id, new, now=NOW, lease_until=NOW + 3 * lease, title="t", parts=("b",))
    # Only the latest period drives the wake-up time, so a dead process's older
    # claim cannot make the scheduler spin on something it will never pick up.
    assert store.next_lease_expiry() == NOW + 3 * lease
    store.finish(sub.id, old, status="done", now=NOW + lease / 2)
    assert [d.status for d in store.deliveries(sub.id)] == ["done", "claimed"]
    # Had its process died instead, the next period's claim gives it up.
    third = "2024-03-01T11:00"
    store.claim(sub.id, third, now=NOW, lease_until=NOW + lease, title="t", parts=("c",))
    assert store.supersede(sub.id, "2024-03-01T12:00", now=NOW + 4 * lease) == (new, third)
    assert [d.status for d in store.deliveries(sub.id)] == ["done", "failed", "failed"]
    assert "superseded by 2024-03-01T12:00" in (store.deliveries(sub.id)[1].last_error or "")


def test_a_booked_retry_is_superseded_at_once_by_a_newer_period(store: Store) -> None:
    # A retry waiting for its time is nobody's work in progress: a newer period need not
    # wait for it, nor leave it claimed and unreported.
    sub = store.add_subscription(new_sub(), now=NOW)
    old, lease = "2024-03-01T09:00", timedelta(minutes=10)
    store.claim(sub.id, old, now=NOW, lease_until=NOW + lease, title="t", parts=("a",))
    store.retry_later(sub.id, old, retry_at=NOW + timedelta(hours=1), error="platform down")
    assert store.supersede(sub.id, "2024-03-01T10:00", now=NOW + timedelta(minutes=1)) == (old,)
    gone = store.delivery(sub.id, old)
    assert gone is not None and gone.status == "failed" and gone.retry_at is None


def test_finishing_a_period_records_what_it_delivered_in_the_same_step(store: Store) -> None:
    sub = store.add_subscription(new_sub(kind="new", baseline={"a": "1"}), now=NOW)
    first, second, third = "2024-03-01T09:00", "2024-03-02T09:00", "2024-03-03T09:00"
    delivers = {"a": "2", "b": "1"}
    store.claim(sub.id, first, now=NOW, lease_until=NOW, title="t", parts=("x",), delivers=delivers)
    assert store.delivered(sub.id) == {}  # not before it is posted
    store.finish(sub.id, first, status="done", now=NOW)
    assert store.delivered(sub.id) == {"a": "2", "b": "1"}
    # An entry delivered again (it changed) keeps its latest hash; the rest stay.
    store.claim(sub.id, second, now=NOW, lease_until=NOW, title="t", parts=("y",), delivers={"a": "3"})
    store.finish(sub.id, second, status="done", now=NOW)
    assert store.delivered(sub.id) == {"a": "3", "b": "1"}
    assert store.subscriptions()[0].baseline == {"a": "1"}  # the first baseline stays as it was
    # A period given up delivered nothing.
    store.claim(sub.id, third, now=NOW, lease_until=NOW, title="t", parts=("z",), delivers={"c": "1"})
    store.fail(sub.id, third, error="channel_not_found")
    assert "c" not in store.delivered(sub.id)


def test_a_subscription_keeps_whether_to_say_when_there_is_nothing_new(store: Store) -> None:
    quiet = store.add_subscription(new_sub(), now=NOW)
    told = store.add_subscription(new_sub(say_when_empty=True), now=NOW)
    assert (quiet.say_when_empty, told.say_when_empty) == (False, True)
    assert [s.say_when_empty for s in store.subscriptions()] == [False, True]


def test_unsubscribing_removes_the_deliveries_and_ids_are_never_reused(store: Store) -> None:
    sub = store.add_subscription(new_sub(), now=NOW)
    store.claim(sub.id, "k", now=NOW, lease_until=NOW, title="t", parts=("x",), delivers={"a": "1"})
    store.finish(sub.id, "k", status="done", now=NOW)
    assert store.delivered(sub.id) == {"a": "1"}
    assert store.remove_subscription(sub.id)
    assert not store.remove_subscription(sub.id)
    assert store.deliveries(sub.id) == ()
    assert store.delivered(sub.id) == {}
    assert store.add_subscription(new_sub(), now=NOW).id == sub.id + 1
    # A claim for a subscription that no longer exists is refused, not orphaned.
    assert store.claim(sub.id, "k2", now=NOW, lease_until=NOW, title="t", parts=()) is None


# -- platform deliveries already handled ----------------------------------------------------


def test_an_event_is_new_once_until_it_expires_and_namespaces_never_collide(backend: Backend) -> None:
    now = [NOW]
    ttl = timedelta(minutes=10)
    with backend.open(clock=lambda: now[0]) as store:
        assert store.remember_event("slack-event", "Ev1", ttl)
        assert not store.remember_event("slack-event", "Ev1", ttl)
        assert store.remember_event("slack-signature", "Ev1", ttl)  # another namespace
        assert store.remember_event("slack-event", "Ev2", ttl)
        now[0] = NOW + ttl - timedelta(seconds=1)
        assert not store.remember_event("slack-event", "Ev1", ttl)
    # Remembered in the database: a restarted process (a new connection) knows it too.
    with backend.open(clock=lambda: now[0]) as restarted:
        assert not restarted.remember_event("slack-event", "Ev2", ttl)
        now[0] = NOW + ttl
        assert restarted.remember_event("slack-event", "Ev1", ttl)  # forgotten once expired


def test_two_connections_remembering_the_same_events_at_once_get_one_true_each(backend: Backend) -> None:
    keys = [f"Ev{i}" for i in range(200)]
    firsts: list[list[str]] = [[], []]
    barrier = threading.Barrier(2, timeout=30)
    backend.open().close()  # created and migrated first: the race under test is the remembering

    def remember(index: int) -> None:
        with backend.open() as store:
            barrier.wait()
            for key in keys:
                if store.remember_event("slack-event", key, timedelta(hours=1)):
                    firsts[index].append(key)

    threads = [threading.Thread(target=remember, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(firsts[0] + firsts[1]) == sorted(keys)  # every key exactly once


# -- conversation threads ------------------------------------------------------------------


def _turn(n: int, entry: str = "stoltenberg-tokyo-visit-2023") -> Turn:
    return Turn((f"{entry}-{n}",), "milestone", f"question {n}")


def test_a_thread_gives_its_newest_turns_oldest_first_and_threads_never_mix(store: Store) -> None:
    thread = ThreadKey("slack", "C1", "1700000000.000100")
    for n in range(1, 5):
        store.remember_turn(thread, _turn(n), timedelta(hours=24))
    # Another thread id, channel or platform is another conversation.
    store.remember_turn(ThreadKey("slack", "C1", "1700000000.000200"), _turn(90), timedelta(hours=24))
    store.remember_turn(ThreadKey("slack", "C2", "1700000000.000100"), _turn(91), timedelta(hours=24))
    store.remember_turn(ThreadKey("discord", "C1", "1700000000.000100"), _turn(92), timedelta(hours=24))
    assert store.recent_turns(thread, limit=3) == (_turn(2), _turn(3), _turn(4))
    assert store.recent_turns(thread, limit=10) == tuple(_turn(n) for n in range(1, 5))
    assert store.recent_turns(ThreadKey("slack", "C9", "1"), limit=3) == ()
    assert store.recent_turns(thread, limit=0) == ()


def test_a_turn_keeps_its_entries_kind_and_question_exactly(store: Store) -> None:
    thread = ThreadKey("console", "console", "session-1")
    turns = (
        Turn((), "abstain", "when did sweden join nato"),
        Turn(("a", "b", "c"), "timeline", "milestones since 2021"),
        Turn(("quote-lungescu-historic-first",), "quote", "who called it “a historic first” — ¶11?"),
    )
    for turn in turns:
        store.remember_turn(thread, turn, timedelta(hours=1))
    assert store.recent_turns(thread, limit=3) == turns


def test_a_thread_survives_a_restart_and_expires_after_its_ttl(backend: Backend) -> None:
    now = [NOW]
    thread = ThreadKey("slack", "C1", "1700000000.000100")
    with backend.open(clock=lambda: now[0]) as store:
        store.remember_turn(thread, _turn(1), timedelta(hours=24))
        now[0] = NOW + timedelta(hours=1)
        store.remember_turn(thread, _turn(2), timedelta(hours=24))
    with backend.open(clock=lambda: now[0]) as restarted:
        assert restarted.recent_turns(thread) == (_turn(1), _turn(2))
        now[0] = NOW + timedelta(hours=24)  # the first has expired, the second not yet
        assert restarted.recent_turns(thread) == (_turn(2),)
        now[0] = NOW + timedelta(hours=25)
        assert restarted.recent_turns(thread) == ()
        # A thread whose context expired starts afresh, numbering and all.
        restarted.remember_turn(thread, _turn(3), timedelta(hours=24))
        assert restarted.recent_turns(thread) == (_turn(3),)


def test_a_long_thread_keeps_only_its_newest_turns(backend: Backend) -> None:
    thread = ThreadKey("discord", "123", "456")
    with backend.open() as store:
        for n in range(TURNS_KEPT + 5):
            store.remember_turn(thread, _turn(n), timedelta(hours=1))
        assert store.recent_turns(thread, limit=100) == tuple(_turn(n) for n in range(5, TURNS_KEPT + 5))


def test_two_connections_adding_turns_to_one_thread_at_once_keep_every_turn(backend: Backend) -> None:
    thread = ThreadKey("slack", "C1", "T1")
    barrier = threading.Barrier(2, timeout=30)
    backend.open().close()
    per_connection = TURNS_KEPT // 2

    def add(index: int) -> None:
        with backend.open() as store:
            barrier.wait()
            for n in range(per_connection):
                store.remember_turn(thread, _turn(n, entry=f"replica{index}"), timedelta(hours=1))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with backend.open() as store:
        kept = store.recent_turns(thread, limit=TURNS_KEPT)
    assert sorted(t.entry_ids[0] for t in kept) == sorted(
        f"replica{i}-{n}" for i in range(2) for n in range(per_connection)
    )
    for index in range(2):  # each connection's turns in the order it added them
        mine = [t.entry_ids[0] for t in kept if t.entry_ids[0].startswith(f"replica{index}")]
        assert mine == [f"replica{index}-{n}" for n in range(per_connection)]


# -- the curators' queue (#13) ------------------------------------------------------------------


def test_queue_items_marked_handled_are_remembered_with_the_latest_time(store: Store) -> None:
    assert store.handled() == {}
    store.mark_handled("declined:who macron", at=NOW)
    store.mark_handled("thumbs-down:what is itpp", at=NOW)
    store.mark_handled("declined:who macron", at=NOW + timedelta(days=2))  # handled again
    assert store.handled() == {
        "declined:who macron": NOW + timedelta(days=2),
        "thumbs-down:what is itpp": NOW,
    }


# -- what a 👎 said was wrong (#13) -------------------------------------------------------------

CYBER = ("ccdcoe-2022",)


def _vote(store: Store, *, user: str = "U1", helpful: bool = False, entries: tuple[str, ...] = CYBER) -> None:
    store.record_feedback(
        platform="slack",
        workspace="T1",
        channel="C1",
        user=user,
        question="when did japan join the cyber centre?",
        entry_ids=entries,
        helpful=helpful,
    )


def _reason(
    store: Store,
    reason: str = "outdated",
    note: str = "",
    *,
    user: str = "U1",
    platform: str = "slack",
    workspace: str = "T1",
    channel: str = "C1",
) -> bool:
    return store.record_feedback_reason(
        platform=platform,
        workspace=workspace,
        channel=channel,
        user=user,
        entry_ids=CYBER,
        reason=reason,
        note=note,
    )


def test_a_thumbs_down_keeps_its_reason_and_note_on_the_vote(store: Store) -> None:
    _vote(store, user="U1", helpful=True)
    _vote(store, user="U2")
    assert _reason(store, "wrong", "It was 2022, not 2021.", user="U2")
    helpful, unhelpful = reversed(store.feedback())
    assert (unhelpful.reason, unhelpful.note) == ("wrong", "It was 2022, not 2021.")
    assert (helpful.reason, helpful.note) == (None, "")  # a 👍 has none
    assert len(store.feedback()) == 2  # no new row: the reason is the vote's


def test_a_reason_needs_the_voters_own_thumbs_down_on_that_answer(store: Store) -> None:
    _vote(store, user="U1", helpful=True)
    _vote(store, user="U2")
    assert not _reason(store, user="U1")  # a 👍 takes no reason
    assert not _reason(store, user="U3")  # no vote at all
    assert not _reason(store, user="U2", channel="C2")  # a vote elsewhere
    assert not _reason(store, user="U2", workspace="T2")
    assert not _reason(store, user="U2", platform="discord")
    assert not store.record_feedback_reason(
        platform="slack",
        workspace="T1",
        channel="C1",
        user="U2",
        entry_ids=("other",),
        reason="wrong",
        note="",
    )
    assert [f.reason for f in store.feedback()] == [None, None]


def test_the_first_reason_given_stays_and_each_voted_down_answer_keeps_its_own(store: Store) -> None:
    _vote(store)
    assert _reason(store, "wrong", "first")
    assert not _reason(store, "other", "second thoughts")  # not replaced
    _vote(store)  # a later answer with the same entries, voted down too
    assert _reason(store, "not_asked", "later")
    assert [(f.reason, f.note) for f in store.feedback()] == [("not_asked", "later"), ("wrong", "first")]


def test_a_reason_given_twice_at_once_is_kept_once(backend: Backend) -> None:
    with backend.open() as store:
        _vote(store)
    barrier = threading.Barrier(2, timeout=30)
    kept: list[bool] = []

    def give(note: str) -> None:
        with backend.open() as store:
            barrier.wait()
            kept.append(_reason(store, "other", note))

    threads = [threading.Thread(target=give, args=(note,)) for note in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(kept) == [False, True]
    with backend.open() as store:
        [record] = store.feedback()
    assert record.note in ("one", "two")


@pytest.mark.parametrize(
    ("note", "kept"),
    [
        ("x" * 50_000, "x" * 300),
        ("line one\nERROR forged line\r\x1b[31m\u202e end", "line one ERROR forged line [31m end"),
        ("<!channel> @everyone <@U0ADMIN>", "<!channel> @everyone <@U0ADMIN>"),  # defused when shown
        ("   ", ""),
    ],
    ids=["50kB", "control", "mentions", "blank"],
)
def test_a_note_is_kept_cleaned_and_bounded(store: Store, note: str, kept: str) -> None:
    _vote(store)
    assert _reason(store, "other", note)
    [record] = store.feedback()
    assert record.note == kept
    assert record.note.isprintable() and len(record.note) <= 300


def test_a_reason_briefbot_does_not_offer_is_refused(store: Store) -> None:
    _vote(store)
    with pytest.raises(ValueError, match="not a reason"):
        _reason(store, "dropped-table")
    assert store.feedback()[0].reason is None


# -- leases --------------------------------------------------------------------------------

LEASE = "discord-gateway:1234"


def test_of_two_replicas_contending_for_a_lease_only_one_holds_it(backend: Backend) -> None:
    now = [NOW]
    ttl = timedelta(seconds=15)
    with backend.open(clock=lambda: now[0]) as first, backend.open(clock=lambda: now[0]) as second:
        assert first.acquire_lease(LEASE, "replica-a", ttl)
        assert not second.acquire_lease(LEASE, "replica-b", ttl)
        now[0] = NOW + timedelta(seconds=5)
        assert first.acquire_lease(LEASE, "replica-a", ttl)  # its holder renews it
        assert not second.acquire_lease(LEASE, "replica-b", ttl)
        # Another name is another lease.
        assert second.acquire_lease("another-lease", "replica-b", ttl)


def test_an_expired_lease_is_taken_by_another_and_its_old_holder_cannot_renew_it(backend: Backend) -> None:
    now = [NOW]
    ttl = timedelta(seconds=15)
    with backend.open(clock=lambda: now[0]) as first, backend.open(clock=lambda: now[0]) as second:
        assert first.acquire_lease(LEASE, "replica-a", ttl)
        now[0] = NOW + ttl - timedelta(microseconds=1)
        assert not second.acquire_lease(LEASE, "replica-b", ttl)  # still running
        now[0] = NOW + ttl
        assert second.acquire_lease(LEASE, "replica-b", ttl)  # its holder died: taken over
        assert not first.acquire_lease(LEASE, "replica-a", ttl)  # the old holder finds it gone


def test_renewing_a_lease_runs_it_for_its_ttl_from_the_renewal(backend: Backend) -> None:
    now = [NOW]
    ttl = timedelta(seconds=15)
    with backend.open(clock=lambda: now[0]) as first, backend.open(clock=lambda: now[0]) as second:
        assert first.acquire_lease(LEASE, "replica-a", ttl)
        now[0] = NOW + timedelta(seconds=10)
        assert first.acquire_lease(LEASE, "replica-a", ttl)  # now runs to NOW + 25 s
        now[0] = NOW + timedelta(seconds=20)
        assert not second.acquire_lease(LEASE, "replica-b", ttl)
        now[0] = NOW + timedelta(seconds=25)
        assert second.acquire_lease(LEASE, "replica-b", ttl)


def test_a_released_lease_is_free_at_once_but_only_its_holder_can_release_it(backend: Backend) -> None:
    ttl = timedelta(seconds=15)
    with backend.open(clock=lambda: NOW) as first, backend.open(clock=lambda: NOW) as second:
        assert first.acquire_lease(LEASE, "replica-a", ttl)
        second.release_lease(LEASE, "replica-b")  # not its lease: nothing happens
        assert not second.acquire_lease(LEASE, "replica-b", ttl)
        first.release_lease(LEASE, "replica-a")
        assert second.acquire_lease(LEASE, "replica-b", ttl)  # without waiting for the ttl
        assert not first.acquire_lease(LEASE, "replica-a", ttl)


def test_of_many_connections_asking_for_a_free_lease_at_once_exactly_one_gets_it(backend: Backend) -> None:
    contenders, rounds = 4, 20
    backend.open().close()  # created and migrated first: the race under test is the leasing
    won: list[list[int]] = [[] for _ in range(contenders)]
    barrier = threading.Barrier(contenders, timeout=30)

    def contend(index: int) -> None:
        with backend.open() as store:
            for round_ in range(rounds):
                barrier.wait()
                if store.acquire_lease(f"lease-{round_}", f"replica-{index}", timedelta(minutes=5)):
                    won[index].append(round_)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r for rounds_won in won for r in rounds_won) == list(range(rounds))  # one winner each
