"""What only the SQLite store does: WAL, migrating a version-1 file, refusing files it cannot use.

The behaviour every backend shares is in test_contract.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.errors import StoreError
from bot.store.migrations import SCHEMA_VERSION
from bot.store.sqlite import SQLiteStore, migrate
from tests.digest.support import utc

NOW = utc(2024, 3, 1, 9)


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def test_an_empty_file_is_migrated_to_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with SQLiteStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == 10
        assert store.journal_mode() == "wal"
    expected = {"schema_version", "subscriptions", "deliveries", "feedback", "unanswered", "thread_turns"}
    assert expected | {"channel_settings"} <= tables(path)
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
        assert store.schema_version() == SCHEMA_VERSION
        (sub,) = store.subscriptions()
        assert (sub.kind, sub.arg, sub.baseline) == ("topic", "cyber", None)
        done, unfinished = store.deliveries(sub.id)
        assert done.status == "done" and done.posted_at is not None
        # A version-1 claim holds no text to re-post: it is closed, visibly, not re-posted blind.
        assert unfinished.status == "failed" and "upgraded" in (unfinished.last_error or "")
        assert store.feedback()[0].question == "q?"
        assert (store.feedback()[0].reason, store.feedback()[0].note) == (None, "")  # no reason yet
        claimed = store.claim(sub.id, "2024-01-04T09:00", now=NOW, lease_until=NOW, title="t", parts=())
        assert claimed is not None
        store.finish(sub.id, "2024-01-04T09:00", status="empty", now=NOW)
        assert store.last_delivery(sub.id).status == "empty"  # type: ignore[union-attr]


def test_a_new_digest_from_before_the_delivery_record_keeps_its_baseline(tmp_path: Path) -> None:
    # Version 2 moved a `new` subscription's baseline on every delivery, and kept the next
    # one in the claim. Both still mean "known to this channel" after the upgrade.
    path = tmp_path / "v2.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, target=2)
        conn.execute(
            "INSERT INTO subscriptions (platform, workspace, channel, kind, arg, schedule, tz, created_by,"
            " created_at, baseline) VALUES ('slack', 'T1', 'C1', 'new', '', 'daily 09:00', 'UTC', 'U1',"
            ' \'2024-01-01T00:00:00.000000Z\', \'{"a": "1", "b": "1"}\')'
        )
        conn.execute(
            "INSERT INTO deliveries (subscription_id, period_key, status, claimed_at, lease_until, parts,"
            " pending_baseline) VALUES (1, '2024-01-02T09:00', 'claimed', '2024-01-02T09:00:00.000000Z',"
            ' \'2024-01-02T09:10:00.000000Z\', \'["x"]\', \'{"a": "2", "b": "1"}\')'
        )
    finally:
        conn.close()
    with SQLiteStore(path) as store:
        (sub,) = store.subscriptions()
        assert sub.baseline == {"a": "1", "b": "1"} and not sub.say_when_empty
        assert store.delivered(sub.id) == {}
        store.finish(sub.id, "2024-01-02T09:00", status="done", now=NOW)  # the claim in flight
        assert store.delivered(sub.id) == {"a": "2", "b": "1"}


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
