"""The PostgreSQL store where a server differs from a file: connections, locks, restarts.

Everything here runs on the tests' own throwaway server (``postgres_server``), never on
a mock: a backend killed mid-transaction with ``pg_terminate_backend``, the server
stopped and started again, every pooled connection busy, a statement held past the
statement timeout by a lock, several replicas migrating one database at once. What an
operator must be able to rely on: a clear StoreError (never a hang), nothing half
written, the store working again by itself once the cause is gone, and the password in
no message and no log line.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from bot.errors import StoreError
from bot.store.encoding import dt
from bot.store.migrations import MIGRATIONS, SCHEMA_VERSION
from bot.store.postgres import PostgresStore, migrate
from bot.store.values import NewSubscription
from tests.digest.support import utc
from tests.store.postgres_server import PostgresServer, PostgresUnavailable, start_server, unavailable

NOW = utc(2024, 3, 1, 9)
KEY = "2024-03-01T09:00"


def sub(channel: str = "C1", **overrides: Any) -> NewSubscription:
    fields: dict[str, Any] = {
        "platform": "slack",
        "workspace": "T1",
        "channel": channel,
        "kind": "month",
        "arg": "",
        "schedule": "daily 09:00",
        "tz": "UTC",
        "created_by": "U1",
    }
    fields.update(overrides)
    return NewSubscription(**fields)


@pytest.fixture
def database(postgres_server: PostgresServer) -> Iterator[str]:
    name = postgres_server.create_database()
    yield name
    postgres_server.drop_database(name)


@pytest.fixture
def url(postgres_server: PostgresServer, database: str) -> str:
    return postgres_server.url(database)


@contextmanager
def table_locked(server: PostgresServer, database: str, statement: str) -> Iterator[None]:
    """Another session holding a table lock (``LOCK TABLE …``) until the block ends."""
    with server.admin(database) as other:
        other.autocommit = False
        other.execute(statement)
        try:
            yield
        finally:
            other.rollback()


def in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[BaseException | object]]:
    """Run ``call`` in a thread; the list gets its result or its exception."""
    outcome: list[BaseException | object] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def waiting_on_a_lock(server: PostgresServer, database: str) -> int:
    """The pid of the backend that is blocked on a lock in ``database``."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with server.admin() as conn:
            row = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                (database,),
            ).fetchone()
        if row is not None:
            return int(str(row[0]))
        time.sleep(0.02)
    raise AssertionError("no connection of the store ever waited on the lock")


def channels(store: PostgresStore) -> list[str]:
    return [s.channel for s in store.subscriptions()]


# -- migrations ------------------------------------------------------------------------


def test_replicas_starting_together_migrate_the_database_exactly_once(
    postgres_server: PostgresServer, database: str, url: str
) -> None:
    start = threading.Barrier(4)

    def replica(_: int) -> str:
        start.wait()
        with PostgresStore(url, pool_size=1) as store:
            assert store.schema_version() == SCHEMA_VERSION
            return store.user_hash("slack", "T1", "U1")

    with ThreadPoolExecutor(4) as pool:
        hashes = set(pool.map(replica, range(4)))
    assert len(hashes) == 1  # one salt, so every replica hashes a user alike
    with postgres_server.admin(database) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        salts = conn.execute("SELECT count(*) FROM meta WHERE key = 'user_salt'").fetchone()
    assert versions == [m.version for m in MIGRATIONS] and salts == (1,)


def test_a_version_1_database_is_upgraded_with_its_data_kept(
    postgres_server: PostgresServer, database: str, url: str
) -> None:
    with psycopg.connect(url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        assert migrate(conn, target=1) == 0
        conn.execute(
            "INSERT INTO subscriptions (platform, workspace, channel, kind, arg, schedule, tz, created_by,"
            " created_at) VALUES ('slack', 'T1', 'C1', 'topic', 'cyber', 'daily 09:00', 'UTC', 'U1',"
            " '2024-01-01T00:00:00.000000Z')"
        )
        conn.execute(
            "INSERT INTO deliveries (subscription_id, period_key, status, claimed_at, posted_at, attempts)"
            " VALUES (1, '2024-01-02T09:00', 'done', '2024-01-02T09:00:00.000000Z',"
            " '2024-01-02T09:00:01.000000Z', 1), (1, '2024-01-03T09:00', 'claimed',"
            " '2024-01-03T09:00:00.000000Z', NULL, 1)"
        )
    with PostgresStore(url) as store:
        assert store.schema_version() == SCHEMA_VERSION
        (old,) = store.subscriptions()
        done, unfinished = store.deliveries(old.id)
        assert done.status == "done" and unfinished.status == "failed"
        assert "upgraded" in (unfinished.last_error or "")
        # The id sequence of the rebuilt schema carries on after the copied rows.
        assert store.add_subscription(sub("C2"), now=NOW).id == old.id + 1


def test_a_migration_that_fails_halfway_leaves_the_old_schema_and_its_data(
    postgres_server: PostgresServer, database: str, url: str
) -> None:
    with psycopg.connect(url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        migrate(conn, target=1)
        conn.execute(
            "INSERT INTO subscriptions (platform, workspace, channel, kind, arg, schedule, tz, created_by,"
            " created_at) VALUES ('slack', 'T1', 'C-old', 'month', '', 'daily 09:00', 'UTC', 'U1',"
            " '2024-01-01T00:00:00.000000Z')"
        )
        # Something in the way of migration 2's third statement (it creates deliveries_v2).
        conn.execute("CREATE TABLE deliveries_v2 (x INTEGER)")
    with pytest.raises(StoreError, match="cannot be used") as caught:
        PostgresStore(url)
    assert "deliveries_v2" in str(caught.value)
    with postgres_server.admin(database) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (1,)
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'subscriptions'"
            )
        }
        assert "baseline" not in columns  # migration 2's first statement was rolled back too
        conn.execute("DROP TABLE deliveries_v2")
    with PostgresStore(url) as store:  # once the obstacle is gone, the next start migrates
        assert store.schema_version() == SCHEMA_VERSION and channels(store) == ["C-old"]


# -- connections -------------------------------------------------------------------------


def test_a_connection_killed_mid_transaction_keeps_nothing_of_it_and_the_store_recovers(
    postgres_server: PostgresServer, database: str, url: str
) -> None:
    with PostgresStore(url) as store:
        s = store.add_subscription(sub(kind="new", baseline={"a": "1"}), now=NOW)
        store.claim(s.id, KEY, now=NOW, lease_until=NOW, title="t", parts=("x",), delivers={"a": "2"})
        # finish() records what the period delivered, then marks it done: let the first
        # statements through and hold the last, then kill the connection between them.
        with table_locked(postgres_server, database, "LOCK TABLE deliveries IN EXCLUSIVE MODE"):
            thread, outcome = in_thread(lambda: store.finish(s.id, KEY, status="done", now=NOW))
            postgres_server.terminate(waiting_on_a_lock(postgres_server, database))
            thread.join(timeout=30)
        (error,) = outcome
        assert isinstance(error, StoreError)
        assert "connection to the server was lost" in str(error) and "whole or not at all" in str(error)
        # Recorded inside the transaction that died: it is not recorded.
        assert store.delivered(s.id) == {}
        assert store.delivery(s.id, KEY).status == "claimed"  # type: ignore[union-attr]
        store.finish(s.id, KEY, status="done", now=NOW)  # the same store, a new connection
        assert store.delivered(s.id) == {"a": "2"}


def test_after_a_server_restart_the_store_reconnects_by_itself(
    postgres_server: PostgresServer, database: str, url: str
) -> None:
    with PostgresStore(url, pool_size=2, pool_timeout=2, connect_timeout=2) as store:
        store.add_subscription(sub("C-before"), now=NOW)
        postgres_server.restart()  # every pooled connection is cut
        assert channels(store) == ["C-before"]
        store.add_subscription(sub("C-after"), now=NOW)

        postgres_server.stop()
        try:
            with pytest.raises(StoreError) as caught:
                store.subscriptions()  # a clear error while it is down, not a hang
        finally:
            postgres_server.start(postgres_server.port)
        assert "cannot reach the server" in str(caught.value)
        assert channels(store) == ["C-before", "C-after"]


def test_every_pooled_connection_busy_is_a_clear_error_not_a_hang(
    postgres_server: PostgresServer, database: str, url: str
) -> None:
    with PostgresStore(url, pool_size=1, pool_timeout=0.5) as store:
        with table_locked(postgres_server, database, "LOCK TABLE subscriptions IN ACCESS EXCLUSIVE MODE"):
            # The only connection waits on the lock inside add_subscription...
            thread, outcome = in_thread(lambda: store.add_subscription(sub("C-waiting"), now=NOW))
            waiting_on_a_lock(postgres_server, database)
            # ...so another call finds the pool empty and says so.
            with pytest.raises(StoreError) as caught:
                store.unanswered()
        thread.join(timeout=30)
        message = str(caught.value)
        assert "all 1 connections" in message and "busy for 0.5 s" in message
        assert "nothing was changed" in message
        assert [getattr(o, "channel", o) for o in outcome] == ["C-waiting"]  # it went in once released
        assert store.unanswered() == ()


def test_a_statement_past_the_statement_timeout_is_rolled_back_with_a_clear_error(
    postgres_server: PostgresServer, database: str, url: str
) -> None:
    with PostgresStore(url, statement_timeout=0.3) as store:
        with (
            table_locked(postgres_server, database, "LOCK TABLE subscriptions IN ACCESS EXCLUSIVE MODE"),
            pytest.raises(StoreError) as caught,
        ):
            store.add_subscription(sub("C-late"), now=NOW)
        message = str(caught.value)
        assert "statement timeout of 0.3 s" in message and "nothing was changed" in message
        assert isinstance(caught.value.__cause__, psycopg.errors.QueryCanceled)
        assert channels(store) == []
        store.add_subscription(sub("C-later"), now=NOW)
        assert channels(store) == ["C-later"]


# -- a full disk -------------------------------------------------------------------------

# A server of its own whose files may not grow past 24 MB (RLIMIT_FSIZE): a table that
# cannot grow fails exactly as on a full disk, with the server's own SQLSTATE 53100.
SMALL_DISK = 24 * 1024 * 1024 + 4096


@pytest.fixture(scope="module")
def small_disk_server() -> Iterator[PostgresServer]:
    try:
        server = start_server(file_size_limit=SMALL_DISK)
    except PostgresUnavailable as exc:
        unavailable(str(exc))
        raise AssertionError("unreachable") from exc
    try:
        yield server
    finally:
        server.remove()


def test_a_full_server_disk_is_a_clear_error_naming_the_server_and_the_data_is_intact(
    small_disk_server: PostgresServer,
) -> None:
    server = small_disk_server
    database = server.create_database()
    with PostgresStore(server.url(database)) as store:
        store.add_subscription(sub("C-kept"), now=NOW)
        kept = 0
        with pytest.raises(StoreError) as caught:
            for _ in range(1000):  # 200 kB of text that does not compress, until the disk is full
                question = secrets.token_hex(100_000)
                store.record_unanswered(
                    platform="slack", workspace="T1", channel="C1", question=question, confidence=0.1
                )
                kept += 1
        message = str(caught.value)
        assert isinstance(caught.value.__cause__, psycopg.errors.DiskFull)
        assert f"the disk of the database server 127.0.0.1:{server.port} is full" in message, message
        assert "the data already stored is intact" in message and "nothing of it kept" in message
        assert server.password not in message and "***" in message
        # A full disk says nothing about the data: never advice to restore over it.
        assert "backup" not in message.casefold() and "restore" not in message.casefold()
        # Everything written before is there, nothing of the failed write, and reading works.
        assert channels(store) == ["C-kept"]
        assert len(store.unanswered(limit=2000)) == kept > 0
        # Space freed on the server: the next write goes through.
        with server.admin(database) as admin:
            admin.execute("TRUNCATE unanswered")
        store.record_unanswered(platform="slack", workspace="T1", channel="C1", question="q", confidence=0.1)
        assert [q.question for q in store.unanswered()] == ["q"]


# -- locking and the clock -----------------------------------------------------------------


def test_a_claim_another_replica_is_taking_over_is_skipped_not_waited_for(
    postgres_server: PostgresServer, database: str, url: str
) -> None:
    lease = timedelta(minutes=10)
    # A statement timeout this short turns any wait for the row lock into an error.
    with PostgresStore(url, statement_timeout=2) as store:
        s = store.add_subscription(sub(), now=NOW)
        store.claim(s.id, KEY, now=NOW, lease_until=NOW + lease, title="t", parts=("x",))
        with postgres_server.admin(database) as other:
            other.autocommit = False
            # The other replica, in the middle of its own take-over, holds the row.
            other.execute("SELECT 1 FROM deliveries WHERE subscription_id = %s FOR UPDATE", (s.id,))
            assert store.take_over(s.id, KEY, now=NOW + lease, lease_until=NOW + 2 * lease) is None
            other.rollback()
        taken = store.take_over(s.id, KEY, now=NOW + lease, lease_until=NOW + 2 * lease)
        assert taken is not None and taken.attempts == 2


def test_the_store_tells_the_time_by_the_server_clock(postgres_server: PostgresServer, url: str) -> None:
    with PostgresStore(url) as store, postgres_server.admin() as conn:
        before = conn.execute("SELECT clock_timestamp()").fetchone()
        now = store.now()
        after = conn.execute("SELECT clock_timestamp()").fetchone()
        store.record_unanswered(platform="slack", workspace="T1", channel="C1", question="q", confidence=0.1)
        stamped = store.unanswered()[0].at
    assert before is not None and after is not None
    assert before[0] <= now <= after[0] <= stamped  # type: ignore[operator]


def test_a_lease_runs_by_the_server_clock(postgres_server: PostgresServer, database: str, url: str) -> None:
    ttl = timedelta(seconds=30)
    with PostgresStore(url) as first, PostgresStore(url) as second, postgres_server.admin() as conn:
        before = conn.execute("SELECT clock_timestamp()").fetchone()
        assert first.acquire_lease("discord-gateway:1", "replica-a", ttl)
        after = conn.execute("SELECT clock_timestamp()").fetchone()
        assert not second.acquire_lease("discord-gateway:1", "replica-b", ttl)
        # Stamped by the server, not by either replica: a replica whose clock runs fast
        # cannot think it expired early.
        with postgres_server.admin(database) as db:
            row = db.execute("SELECT acquired_at, expires_at FROM leases").fetchone()
    assert before is not None and after is not None and row is not None
    acquired, expires = (dt(str(v)) for v in row)
    assert before[0] <= acquired <= after[0]  # type: ignore[operator]
    assert expires - acquired == ttl


# -- the password ------------------------------------------------------------------------


def test_a_wrong_password_is_a_clear_error_that_never_shows_the_password(
    postgres_server: PostgresServer, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-s3cret!"
    with pytest.raises(StoreError) as caught:
        PostgresStore(postgres_server.url(database, password=wrong), connect_timeout=2)
    message = str(caught.value)
    assert "password authentication failed" in message and "PGPASSWORD" in message
    assert ":***@127.0.0.1" in message
    assert wrong not in message and "Wr0ng" not in caplog.text


def test_the_password_reaches_no_log_line(
    postgres_server: PostgresServer, database: str, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with PostgresStore(url) as store:
        store.add_subscription(sub(), now=NOW)
        postgres_server.restart()  # the pool logs its reconnection
        assert channels(store) == ["C1"]
    assert caplog.text  # something was logged (the migration, at least)
    assert postgres_server.password not in caplog.text
