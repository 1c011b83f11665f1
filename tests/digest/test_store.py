"""The SQLite store: migrations, the delivery ledger's guarantees, feedback, failures."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.errors import StoreError
from bot.store.sqlite import SCHEMA_VERSION, NewSubscription, SQLiteStore, migrate
from tests.digest.support import utc

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


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def test_an_empty_file_is_migrated_to_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with SQLiteStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == 2
        assert store.journal_mode() == "wal"
    assert {"schema_version", "subscriptions", "deliveries", "feedback", "unanswered"} <= tables(path)
    with SQLiteStore(path) as again:  # reopening applies nothing twice
        assert again.schema_version() == SCHEMA_VERSION


def test_a_version_1_database_is_upgraded_with_its_data_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert migrate(conn, target=1) == 0
        conn.execute(
            "INSERT INTO subscriptions (platform, workspace, channel, kind, arg, schedule, tz, created_by,"
            " created_at) VALUES ('slack', 'T1', 'C1', 'topic', 'cyber', 'daily 09:00', 'UTC', 'U1',"
            " '2024-01-01T00:00:00.000000Z')"
        )
        conn.executemany(
            "INSERT INTO deliveries (subscription_id, period_key, status, claimed_at, posted_at, attempts)"
            " VALUES (1, ?, ?, '2024-01-02T09:00:00.000000Z', ?, 1)",
            [
                ("2024-01-02T09:00", "done", "2024-01-02T09:00:01.000000Z"),
                ("2024-01-03T09:00", "claimed", None),
            ],
        )
        conn.execute(
            "INSERT INTO feedback (at, platform, workspace, channel, user_hash, question, entry_ids, helpful)"
            " VALUES ('2024-01-02T10:00:00.000000Z', 'slack', 'T1', 'C1', 'h', 'q?', '[\"a\"]', 1)"
        )
        with pytest.raises(sqlite3.IntegrityError):  # version 1 has no 'empty' status
            conn.execute(
                "INSERT INTO deliveries (subscription_id, period_key, status, claimed_at)"
                " VALUES (1, 'x', 'empty', '2024-01-01T00:00:00.000000Z')"
            )
    finally:
        conn.close()

    with SQLiteStore(path) as store:
        assert store.schema_version() == 2
        (sub,) = store.subscriptions()
        assert (sub.kind, sub.arg, sub.baseline) == ("topic", "cyber", None)
        done, unfinished = store.deliveries(sub.id)
        assert done.status == "done" and done.posted_at is not None
        # A version-1 claim holds no text to re-post: it is closed, visibly, not re-posted blind.
        assert unfinished.status == "failed" and "upgraded" in (unfinished.last_error or "")
        assert store.feedback()[0].question == "q?"
        claimed = store.claim(
            sub.id, "2024-01-04T09:00", now=NOW, lease_until=NOW, title="t", parts=(), baseline=None
        )
        assert claimed is not None
        store.finish(sub.id, "2024-01-04T09:00", status="empty", now=NOW)
        assert store.last_delivery(sub.id).status == "empty"  # type: ignore[union-attr]


def test_a_database_from_a_newer_briefbot_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (99, 'later')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema version 99, newer than this briefbot"):
        SQLiteStore(path)


def test_a_file_that_is_not_a_database_raises_a_clear_error_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    garbage = b"this is a text file, not SQLite\n" * 200
    path.write_bytes(garbage)
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path)
    message = str(caught.value)
    assert str(path) in message and "not a database" in message and "backup" in message
    assert path.read_bytes() == garbage


def test_a_missing_directory_raises_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does its directory exist"):
        SQLiteStore(tmp_path / "no" / "such" / "dir" / "bot.sqlite3")


def test_feedback_keeps_a_salted_hash_of_the_user_never_the_id(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with SQLiteStore(path, clock=lambda: NOW) as store:
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
    assert b"U-SECRET" not in path.read_bytes()


def test_unanswered_questions_are_listed_newest_first_within_the_limit(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "bot.sqlite3") as store:
        for i in range(5):
            store.record_unanswered(
                platform="discord", workspace="G1", channel="C1", question=f"q{i}", confidence=i / 10
            )
        listed = store.unanswered(limit=3)
    assert [q.question for q in listed] == ["q4", "q3", "q2"]
    assert listed[0].confidence == pytest.approx(0.4)


def test_a_period_can_be_claimed_once_even_by_two_connections(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with SQLiteStore(path) as first, SQLiteStore(path) as second:
        sub = first.add_subscription(new_sub(), now=NOW)
        args = {"now": NOW, "lease_until": NOW + timedelta(minutes=10), "title": "t", "parts": ("a",)}
        assert first.claim(sub.id, "2024-03-01T09:00", baseline=None, **args) is not None  # type: ignore[arg-type]
        assert second.claim(sub.id, "2024-03-01T09:00", baseline=None, **args) is None  # type: ignore[arg-type]
        assert second.claim(sub.id, "2024-03-02T09:00", baseline=None, **args) is not None  # type: ignore[arg-type]


def test_an_abandoned_claim_is_taken_over_once_then_marked_failed(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "bot.sqlite3") as store:
        sub = store.add_subscription(new_sub(), now=NOW)
        key, lease = "2024-03-01T09:00", timedelta(minutes=10)
        store.claim(sub.id, key, now=NOW, lease_until=NOW + lease, title="t", parts=("a",), baseline=None)
        assert (
            store.take_over(sub.id, key, now=NOW + lease / 2, lease_until=NOW + lease, max_attempts=5) is None
        )
        taken = store.take_over(sub.id, key, now=NOW + lease, lease_until=NOW + 2 * lease, max_attempts=5)
        assert taken is not None and taken.attempts == 2 and taken.recovered
        assert (
            store.take_over(sub.id, key, now=NOW + 3 * lease, lease_until=NOW + 4 * lease, max_attempts=5)
            is None
        )
        gone = store.delivery(sub.id, key)
        assert gone is not None and gone.status == "failed" and "stopped twice" in (gone.last_error or "")


def test_a_newer_period_supersedes_an_older_claim_only_once_its_lease_has_run_out(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "bot.sqlite3") as store:
        sub = store.add_subscription(new_sub(), now=NOW)
        lease = timedelta(minutes=10)
        old, new = "2024-03-01T09:00", "2024-03-01T10:00"
        store.claim(sub.id, old, now=NOW, lease_until=NOW + lease, title="t", parts=("a",), baseline=None)
        # Another process is still posting the old period: it must be able to finish it.
        assert store.supersede(sub.id, new, now=NOW + lease / 2) == 0
        store.claim(sub.id, new, now=NOW, lease_until=NOW + 3 * lease, title="t", parts=("b",), baseline=None)
        # Only the latest period drives the wake-up time, so a dead process's older
        # claim cannot make the scheduler spin on something it will never pick up.
        assert store.next_lease_expiry() == NOW + 3 * lease
        store.finish(sub.id, old, status="done", now=NOW + lease / 2)
        assert [d.status for d in store.deliveries(sub.id)] == ["done", "claimed"]
        # Had its process died instead, the next period's claim gives it up.
        third = "2024-03-01T11:00"
        store.claim(sub.id, third, now=NOW, lease_until=NOW + lease, title="t", parts=("c",), baseline=None)
        assert store.supersede(sub.id, "2024-03-01T12:00", now=NOW + 4 * lease) == 2


def test_finishing_a_new_digest_moves_the_baseline_in_the_same_step(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "bot.sqlite3") as store:
        sub = store.add_subscription(new_sub(kind="new", baseline={"a": "1"}), now=NOW)
        key = "2024-03-01T09:00"
        store.claim(
            sub.id, key, now=NOW, lease_until=NOW, title="t", parts=("x",), baseline={"a": "2", "b": "1"}
        )
        assert store.subscriptions()[0].baseline == {"a": "1"}  # not before it is posted
        store.finish(sub.id, key, status="done", now=NOW)
        assert store.subscriptions()[0].baseline == {"a": "2", "b": "1"}


def test_unsubscribing_removes_the_deliveries_and_ids_are_never_reused(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "bot.sqlite3") as store:
        sub = store.add_subscription(new_sub(), now=NOW)
        store.claim(sub.id, "k", now=NOW, lease_until=NOW, title="t", parts=(), baseline=None)
        assert store.remove_subscription(sub.id)
        assert not store.remove_subscription(sub.id)
        assert store.deliveries(sub.id) == ()
        assert store.add_subscription(new_sub(), now=NOW).id == sub.id + 1
        # A claim for a subscription that no longer exists is refused, not orphaned.
        assert store.claim(sub.id, "k2", now=NOW, lease_until=NOW, title="t", parts=(), baseline=None) is None
