"""``PostgresStore``: the ``Store`` on a PostgreSQL server, shared by several replicas.

psycopg 3 with ``psycopg_pool``: the maintained PostgreSQL driver (the successor of
psycopg2, by its authors), shipped as binary wheels with libpq inside (``psycopg[binary]``),
with a real thread-safe connection pool. The bot's core is synchronous and called from
worker threads and the event loop alike, so the synchronous pool fits it as it is.

- **Migrations**: the same numbered list as SQLite (``bot.store.migrations``), with the
  statements its docstring marks as SQLite's dialect spelt for PostgreSQL here
  (``_SPELLING``). They run in one transaction under an advisory lock, so replicas
  starting together migrate once: the others wait for the lock, then find nothing to do.
  PostgreSQL's DDL is transactional, so a migration cut off halfway leaves the old schema.
- **Exactly once**: a period is claimed by ``INSERT … ON CONFLICT DO NOTHING`` on
  ``UNIQUE (subscription_id, period_key)``; taking over an expired claim first locks its
  row with ``SELECT … FOR UPDATE SKIP LOCKED``, so of two replicas racing for it one gets
  it and the other moves on at once instead of queueing behind it.
- **One clock**: ``now()`` is the server's ``statement_timestamp()``, which the scheduler
  measures leases by (``bot.digests.scheduler.DatabaseClock``), and feedback is stamped by
  the server too, so replicas with skewed clocks agree on when a lease ends.
- **Failures** surface as ``StoreError`` saying what happened and what to do, with the
  URL's password replaced by ``***``: a server down or refusing the login, a statement
  past the statement timeout, every pooled connection busy past the pool timeout, the
  server's disk full (SQLSTATE 53100; the data is intact), or a connection cut
  mid-transaction (nothing of that transaction is kept; the pool replaces the connection,
  and the next call works once the server is back).

Timestamps are the same fixed-width UTC text as on SQLite; comparing and ordering them
(and period keys) uses ``COLLATE "C"``, byte order, whatever collation the database was
created with.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.conversation import TURNS_KEPT, ThreadKey, Turn
from bot.errors import StoreError
from bot.store.copying import TableRows
from bot.store.encoding import (
    DELIVERY_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    attach_reason_sql,
    checked_reason,
    delivery_from_row,
    dt,
    encode_turn,
    json_map,
    opt_dt,
    subscription_from_row,
    ts,
    turn_from_row,
)
from bot.store.location import password_of, redact
from bot.store.migrations import SCHEMA_VERSION, pending
from bot.store.values import (
    AllowedChannel,
    AnswerChannels,
    ChannelSettings,
    Delivery,
    FeedbackRecord,
    NewSubscription,
    Subscription,
    UnansweredQuestion,
)

__all__ = ["PostgresStore", "migrate"]

_log = logging.getLogger(__name__)

Connection = psycopg.Connection[dict[str, Any]]

# pg_advisory_xact_lock key for migrating: any constant briefbot alone uses ("brfbot\0\1").
_MIGRATION_LOCK = 0x6272_6662_6F74_0001

# The statements of bot.store.migrations written in SQLite's dialect, by (version, index).
_SPELLING: Mapping[tuple[int, int], str] = {
    (1, 1): "INSERT INTO meta (key, value) VALUES ('user_salt', replace(gen_random_uuid()::text, '-', ''))",
    (1, 2): """CREATE TABLE subscriptions (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                platform TEXT NOT NULL,
                workspace TEXT NOT NULL,
                channel TEXT NOT NULL,
                kind TEXT NOT NULL,
                arg TEXT NOT NULL DEFAULT '',
                schedule TEXT NOT NULL,
                tz TEXT NOT NULL,
                created_by TEXT NOT NULL,
                created_at TEXT NOT NULL
            )""",
    (1, 5): """CREATE TABLE feedback (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at TEXT NOT NULL,
                platform TEXT NOT NULL,
                workspace TEXT NOT NULL,
                channel TEXT NOT NULL,
                user_hash TEXT NOT NULL,
                question TEXT NOT NULL,
                entry_ids TEXT NOT NULL,
                helpful INTEGER NOT NULL CHECK (helpful IN (0, 1))
            )""",
    # REAL is a double in SQLite but a 4-byte float in PostgreSQL.
    (1, 6): """CREATE TABLE unanswered (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at TEXT NOT NULL,
                platform TEXT NOT NULL,
                workspace TEXT NOT NULL,
                channel TEXT NOT NULL,
                question TEXT NOT NULL,
                confidence DOUBLE PRECISION NOT NULL
            )""",
}

_ATTACH_REASON = attach_reason_sql("%s")

# How often a turn is numbered again when replicas add turns to one thread at once.
_TURN_ATTEMPTS = 5

# The server's clock as the store's timestamp text.
_DB_NOW = "to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
# The server's clock plus %s seconds, likewise.
_DB_LATER = (
    "to_char((statement_timestamp() + make_interval(secs => %s)) AT TIME ZONE 'UTC',"
    ' \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')'
)


def spelt_for_postgres(version: int, index: int, statement: str) -> str:
    """A migration statement as PostgreSQL runs it."""
    return _SPELLING.get((version, index), statement)


def migrate(conn: Connection, target: int = SCHEMA_VERSION, *, now: datetime | None = None) -> int:
    """Bring the schema up to ``target`` in one transaction under the migration lock;
    return the version it was at. ``conn`` is in autocommit mode."""
    with conn.transaction():
        # Held until the transaction ends: a replica starting at the same moment waits
        # here, then reads the version this one wrote and has nothing left to do.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version"
            " (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        row = conn.execute("SELECT MAX(version) AS v FROM schema_version").fetchone()
        current = int(row["v"] or 0) if row is not None else 0
        stamp = ts(now) if now is not None else None
        for migration in pending(current, target):
            for index, statement in enumerate(migration.statements):
                conn.execute(spelt_for_postgres(migration.version, index, statement))
            conn.execute(
                f"INSERT INTO schema_version (version, applied_at) VALUES (%s, coalesce(%s, {_DB_NOW}))",
                (migration.version, stamp),
            )
            _log.info("database migrated to version %d: %s", migration.version, migration.purpose)
    return current


def _lost(exc: BaseException) -> bool:
    return isinstance(exc, pg_errors.AdminShutdown | pg_errors.CrashShutdown) or (
        isinstance(exc, psycopg.OperationalError) and not isinstance(exc, pg_errors.QueryCanceled)
    )


class PostgresStore:
    """The ``Store`` on a PostgreSQL server: a pool of connections, every write one transaction.

    ``clock`` is for tests that need fixed feedback stamps and a fixed ``now()``; by
    default both are the server's. ``pool_size`` connections at most; a call that finds
    them all busy for ``pool_timeout`` seconds fails with a StoreError rather than
    queueing for ever, and so does a statement running past ``statement_timeout``.
    """

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], datetime] | None = None,
        pool_size: int = 8,
        pool_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        statement_timeout: float = 30.0,
        application_name: str = "briefbot",
    ) -> None:
        self._url = url
        self.where = f"the database {redact(url)}"
        parts = urlsplit(url)
        # host:port as the URL gives them (never its user or password); libpq's defaults else.
        self._server = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
        self._clock = clock
        self._pool_size = pool_size
        self._pool_timeout = pool_timeout
        self._statement_timeout = statement_timeout
        self._salt: str | None = None
        settings = {
            "statement_timeout": f"{int(statement_timeout * 1000)}",
            # A replica stuck mid-transaction must not hold row locks for ever.
            "idle_in_transaction_session_timeout": f"{int(max(statement_timeout, 60) * 1000)}",
            "TimeZone": "UTC",
        }
        self._connect_args: dict[str, Any] = {
            "autocommit": True,
            "row_factory": dict_row,
            "connect_timeout": max(1, round(connect_timeout)),
            "application_name": application_name,
            "options": " ".join(f"-c {name}={value}" for name, value in settings.items()),
        }
        self._migrate_and_check()
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            kwargs=self._connect_args,
            connection_class=psycopg.Connection[dict[str, Any]],
            min_size=1,
            max_size=pool_size,
            timeout=pool_timeout,
            # A connection the server dropped while it sat idle (a restart, a
            # pg_terminate_backend) is found and replaced before a caller gets it.
            check=ConnectionPool.check_connection,
            name="briefbot",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreError(
                f"cannot connect to {self.where}: no connection within {connect_timeout:g} s"
            ) from exc

    def _migrate_and_check(self) -> None:
        """Connect once on our own, so a wrong password or a server that is down is reported
        as the server said it, before any pool starts retrying in the background."""
        try:
            conn: Connection = psycopg.connect(self._url, **self._connect_args)
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to {self.where}: {self._scrub(exc)}. Is the server up, and are the host, "
                "port, database, user and password (in BRIEFBOT_DB or PGPASSWORD) right?"
            ) from exc
        try:
            with conn:
                row = conn.execute("SELECT pg_is_in_recovery() AS standby").fetchone()
                if row is not None and row["standby"]:
                    raise StoreError(
                        f"{self.where} is a read-only standby; briefbot needs the primary server"
                    )
                migrate(conn, now=self._clock() if self._clock is not None else None)
        except psycopg.Error as exc:
            raise StoreError(f"{self.where} cannot be used: {self._diagnose(exc)}") from exc

    # -- plumbing --

    def _scrub(self, exc: BaseException) -> str:
        """The driver's message, with the password out of it should it ever appear there."""
        text = str(exc).strip()
        password = password_of(self._url)
        return text.replace(password, "***") if password else text

    def _diagnose(self, exc: BaseException) -> str:
        message = self._scrub(exc)
        if isinstance(exc, pg_errors.DiskFull):
            # SQLSTATE 53100: the server could not grow a table, an index or its log. Like
            # SQLite's SQLITE_FULL, it says nothing about the data: restoring over it would
            # lose what is there.
            return (
                f"the disk of the database server {self._server} is full ({message}). Free space "
                "on the server (its data directory, or the tablespace), then try again; the data "
                "already stored is intact, and this transaction was rolled back, nothing of it kept"
            )
        if isinstance(exc, PoolTimeout):
            return (
                f"all {self._pool_size} connections to it were busy for {self._pool_timeout:g} s. "
                "Other calls are holding them (or waiting on a lock); nothing was changed"
            )
        if isinstance(exc, pg_errors.QueryCanceled):
            return (
                f"{message}: a statement ran past the statement timeout of {self._statement_timeout:g} s "
                "(is another connection holding a lock it needs?); it was rolled back, nothing was changed"
            )
        if isinstance(exc, pg_errors.ReadOnlySqlTransaction):
            return f"{message}: the server is read-only (a standby?); briefbot needs the primary"
        if _lost(exc):
            return (
                f"{message}: the connection to the server was lost (a restart, or the connection was "
                "cut). A transaction is kept whole or not at all; the next call reconnects"
            )
        return message

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _connection(self, doing: str) -> Iterator[Connection]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            unreachable = self._unreachable()
            if unreachable is not None:
                raise StoreError(f"{doing} {self.where} failed: {unreachable}") from exc
            raise StoreError(f"{doing} {self.where} failed: {self._diagnose(exc)}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"{doing} {self.where} failed: {self._diagnose(exc)}") from exc

    def _unreachable(self) -> str | None:
        """Why no connection could be had, if the server is the reason: the pool only
        times out, whether its connections are busy or the server is down."""
        try:
            psycopg.connect(self._url, **{**self._connect_args, "connect_timeout": 2}).close()
        except psycopg.Error as exc:
            return (
                f"cannot reach the server ({self._scrub(exc)}); nothing was changed. "
                "briefbot reconnects by itself once it is back"
            )
        return None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._connection("reading") as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._connection("writing") as conn, conn.transaction():
            yield conn

    def now(self) -> datetime:
        if self._clock is not None:
            return self._clock()
        with self._read() as conn:
            row = conn.execute("SELECT statement_timestamp() AS now").fetchone()
        assert row is not None
        moment: datetime = row["now"]
        return moment.astimezone(UTC)

    def _stamp(self) -> str | None:
        """A test clock's time, or None for the server's (``coalesce(%s, _DB_NOW)``)."""
        return ts(self._clock()) if self._clock is not None else None

    def schema_version(self) -> int:
        with self._read() as conn:
            row = conn.execute("SELECT MAX(version) AS v FROM schema_version").fetchone()
        assert row is not None
        return int(row["v"])

    # -- feedback --

    def _salt_of(self, conn: Connection) -> str:
        if self._salt is None:
            row = conn.execute("SELECT value FROM meta WHERE key = 'user_salt'").fetchone()
            assert row is not None
            self._salt = str(row["value"])
        return self._salt

    @staticmethod
    def _hash_with_salt(salt: str, platform: str, workspace: str, user: str) -> str:
        raw = f"{salt}\x1f{platform}\x1f{workspace}\x1f{user}".encode()
        return hashlib.sha256(raw).hexdigest()[:24]

    def user_hash(self, platform: str, workspace: str, user: str) -> str:
        if self._salt is None:
            with self._read() as conn:
                self._salt_of(conn)
        assert self._salt is not None
        return self._hash_with_salt(self._salt, platform, workspace, user)

    def record_feedback(
        self,
        *,
        platform: str,
        workspace: str,
        channel: str,
        user: str,
        question: str,
        entry_ids: tuple[str, ...],
        helpful: bool,
    ) -> None:
        user_hash = self.user_hash(platform, workspace, user)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO feedback (at, platform, workspace, channel, user_hash, question, entry_ids,"
                f" helpful) VALUES (coalesce(%s, {_DB_NOW}), %s, %s, %s, %s, %s, %s, %s)",
                (
                    self._stamp(),
                    platform,
                    workspace,
                    channel,
                    user_hash,
                    question,
                    json.dumps(list(entry_ids)),
                    int(helpful),
                ),
            )

    def record_feedback_reason(
        self,
        *,
        platform: str,
        workspace: str,
        channel: str,
        user: str,
        entry_ids: tuple[str, ...],
        reason: str,
        note: str,
    ) -> bool:
        reason, note = checked_reason(reason, note)
        user_hash = self.user_hash(platform, workspace, user)
        with self._write() as conn:
            cursor = conn.execute(
                _ATTACH_REASON,
                (reason, note, user_hash, platform, workspace, channel, json.dumps(list(entry_ids))),
            )
            return cursor.rowcount == 1

    def record_unanswered(
        self, *, platform: str, workspace: str, channel: str, question: str, confidence: float
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO unanswered (at, platform, workspace, channel, question, confidence)"
                f" VALUES (coalesce(%s, {_DB_NOW}), %s, %s, %s, %s, %s)",
                (self._stamp(), platform, workspace, channel, question, float(confidence)),
            )

    def feedback(self, limit: int = 100) -> tuple[FeedbackRecord, ...]:
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM feedback ORDER BY id DESC LIMIT %s", (limit,)).fetchall()
        return tuple(
            FeedbackRecord(
                at=dt(r["at"]),
                platform=r["platform"],
                workspace=r["workspace"],
                channel=r["channel"],
                user_hash=r["user_hash"],
                question=r["question"],
                entry_ids=tuple(json.loads(r["entry_ids"])),
                helpful=bool(r["helpful"]),
                reason=r["reason"],
                note=r["note"],
            )
            for r in rows
        )

    def unanswered(self, limit: int = 100) -> tuple[UnansweredQuestion, ...]:
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM unanswered ORDER BY id DESC LIMIT %s", (limit,)).fetchall()
        return tuple(
            UnansweredQuestion(
                at=dt(r["at"]),
                platform=r["platform"],
                workspace=r["workspace"],
                channel=r["channel"],
                question=r["question"],
                confidence=float(r["confidence"]),
            )
            for r in rows
        )

    # -- the curators' queue --

    def mark_handled(self, key: str, *, at: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO curation_handled (item_key, handled_at) VALUES (%s, %s)"
                " ON CONFLICT (item_key) DO UPDATE SET handled_at = excluded.handled_at",
                (key, ts(at)),
            )

    def handled(self) -> Mapping[str, datetime]:
        with self._read() as conn:
            rows = conn.execute("SELECT item_key, handled_at FROM curation_handled").fetchall()
        return {r["item_key"]: dt(r["handled_at"]) for r in rows}

    # -- platform deliveries already handled --

    def remember_event(self, namespace: str, key: str, ttl: timedelta) -> bool:
        now = self._clock() if self._clock is not None else None
        stamp, until = (ts(now), ts(now + ttl)) if now is not None else (None, None)
        with self._write() as conn:
            # Not waiting for the disk: a key a crash of the server forgets costs at worst one
            # duplicate answer, while this runs before every acknowledgement.
            conn.execute("SET LOCAL synchronous_commit = off")
            conn.execute(
                f'DELETE FROM remembered_events WHERE expires_at COLLATE "C" <= coalesce(%s, {_DB_NOW})',
                (stamp,),
            )
            # The primary key lets one insert of a key in; a racing one waits for it, then
            # does nothing.
            row = conn.execute(
                "INSERT INTO remembered_events (namespace, event_key, expires_at)"
                f" VALUES (%s, %s, coalesce(%s, {_DB_LATER}))"
                " ON CONFLICT (namespace, event_key) DO NOTHING RETURNING 1 AS new",
                (namespace, key, until, ttl.total_seconds()),
            ).fetchone()
        return row is not None

    # -- leases --

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        now = self._clock() if self._clock is not None else None
        stamp, until = (ts(now), ts(now + ttl)) if now is not None else (None, None)
        with self._write() as conn:
            # An upsert locks the row, and its WHERE is checked against the row as the last
            # committed transaction left it: of replicas racing for a free lease one takes it,
            # and the others (having waited for that one) find it held. Committed durably: a
            # lease a server crash forgot while its holder lives would let a second one in.
            row = conn.execute(
                "INSERT INTO leases (name, holder, acquired_at, expires_at)"
                f" VALUES (%s, %s, coalesce(%s, {_DB_NOW}), coalesce(%s, {_DB_LATER}))"
                " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
                " acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at"
                " ELSE excluded.acquired_at END, expires_at = excluded.expires_at"
                " WHERE leases.holder = excluded.holder"
                ' OR leases.expires_at COLLATE "C" <= excluded.acquired_at'
                " RETURNING 1 AS held",
                (name, holder, stamp, until, ttl.total_seconds()),
            ).fetchone()
        return row is not None

    def release_lease(self, name: str, holder: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM leases WHERE name = %s AND holder = %s", (name, holder))

    # -- conversation threads --

    def remember_turn(self, key: ThreadKey, turn: Turn, ttl: timedelta) -> None:
        now = self._clock() if self._clock is not None else None
        stamp, until = (ts(now), ts(now + ttl)) if now is not None else (None, None)
        where = (key.platform, key.channel, key.thread)
        with self._write() as conn:
            # A turn lost to a crash of the server costs one follow-up read without context.
            conn.execute("SET LOCAL synchronous_commit = off")
            conn.execute(
                f'DELETE FROM thread_turns WHERE expires_at COLLATE "C" <= coalesce(%s, {_DB_NOW})',
                (stamp,),
            )
            # The next number of the thread; a replica adding a turn to the same thread at
            # the same moment may take it first (the insert then does nothing, after waiting
            # for it), and each statement sees what the other committed, so the next try
            # takes the number after.
            number = None
            for _ in range(_TURN_ATTEMPTS):
                row = conn.execute(
                    "INSERT INTO thread_turns (platform, channel, thread, turn, expires_at, entry_ids, kind,"
                    f" question) SELECT %s, %s, %s, coalesce(max(turn), 0) + 1, coalesce(%s, {_DB_LATER}),"
                    " %s, %s, %s FROM thread_turns WHERE platform = %s AND channel = %s AND thread = %s"
                    " ON CONFLICT (platform, channel, thread, turn) DO NOTHING RETURNING turn",
                    (*where, until, ttl.total_seconds(), *encode_turn(turn), *where),
                ).fetchone()
                if row is not None:
                    number = int(row["turn"])
                    break
            if number is None:
                raise StoreError(f"writing {self.where} failed: a thread too busy to add a turn to")
            conn.execute(
                "DELETE FROM thread_turns"
                " WHERE platform = %s AND channel = %s AND thread = %s AND turn <= %s",
                (*where, number - TURNS_KEPT),
            )

    def recent_turns(self, key: ThreadKey, limit: int = 3) -> tuple[Turn, ...]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT entry_ids, kind, question FROM thread_turns"
                " WHERE platform = %s AND channel = %s AND thread = %s"
                f' AND expires_at COLLATE "C" > coalesce(%s, {_DB_NOW})'
                " ORDER BY turn DESC LIMIT %s",
                (key.platform, key.channel, key.thread, self._stamp(), max(0, limit)),
            ).fetchall()
        return tuple(turn_from_row(r) for r in reversed(rows))

    # -- channel settings --

    def channel_settings(self, platform: str, channel: str) -> ChannelSettings:
        with self._read() as conn:
            row = conn.execute(
                "SELECT private_answers, auto_answer FROM channel_settings"
                " WHERE platform = %s AND channel = %s",
                (platform, channel),
            ).fetchone()
        if row is None:
            return ChannelSettings()
        return ChannelSettings(
            private_answers=bool(row["private_answers"]), auto_answer=bool(row["auto_answer"])
        )

    def set_channel_settings(
        self, platform: str, channel: str, settings: ChannelSettings, *, now: datetime
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO channel_settings (platform, channel, private_answers, auto_answer, updated_at)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (platform, channel) DO UPDATE SET"
                " private_answers = excluded.private_answers, auto_answer = excluded.auto_answer,"
                " updated_at = excluded.updated_at",
                (platform, channel, int(settings.private_answers), int(settings.auto_answer), ts(now)),
            )

    def answer_channels(self, platform: str, workspace: str) -> AnswerChannels:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT channel, name FROM answer_channels WHERE platform = %s AND workspace = %s"
                " ORDER BY position",
                (platform, workspace),
            ).fetchall()
        return AnswerChannels(tuple(AllowedChannel(row["channel"], row["name"]) for row in rows))

    def set_answer_channels(
        self, platform: str, workspace: str, channels: AnswerChannels, *, now: datetime
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "DELETE FROM answer_channels WHERE platform = %s AND workspace = %s", (platform, workspace)
            )
            # A channel given twice is allowed once, where it was first given.
            seen: set[str] = set()
            for position, allowed in enumerate(channels.channels):
                if allowed.id in seen:
                    continue
                seen.add(allowed.id)
                conn.execute(
                    "INSERT INTO answer_channels (platform, workspace, channel, name, position, updated_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (platform, workspace, allowed.id, allowed.name, position, ts(now)),
                )

    # -- subscriptions --

    def add_subscription(self, new: NewSubscription, *, now: datetime) -> Subscription:
        baseline = None if new.baseline is None else json.dumps(dict(new.baseline), sort_keys=True)
        with self._write() as conn:
            row = conn.execute(
                "INSERT INTO subscriptions (platform, workspace, channel, kind, arg, schedule, tz,"
                " created_by, created_at, baseline, say_when_empty)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                f" RETURNING {SUBSCRIPTION_COLUMNS}",
                (
                    new.platform,
                    new.workspace,
                    new.channel,
                    new.kind,
                    new.arg,
                    new.schedule,
                    new.tz,
                    new.created_by,
                    ts(now),
                    baseline,
                    int(new.say_when_empty),
                ),
            ).fetchone()
        assert row is not None
        return subscription_from_row(row)

    def subscriptions(
        self, *, platform: str | None = None, workspace: str | None = None, channel: str | None = None
    ) -> tuple[Subscription, ...]:
        clauses, params = [], []
        for column, value in (("platform", platform), ("workspace", workspace), ("channel", channel)):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions{where} ORDER BY id", params
            ).fetchall()
        return tuple(subscription_from_row(r) for r in rows)

    def remove_subscription(self, subscription_id: int) -> bool:
        with self._write() as conn:
            cursor = conn.execute("DELETE FROM subscriptions WHERE id = %s", (subscription_id,))
        return cursor.rowcount == 1

    # -- deliveries --

    def delivery(self, subscription_id: int, period_key: str) -> Delivery | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = %s AND period_key = %s",
                (subscription_id, period_key),
            ).fetchone()
        return None if row is None else delivery_from_row(row)

    def deliveries(self, subscription_id: int) -> tuple[Delivery, ...]:
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = %s"
                ' ORDER BY period_key COLLATE "C"',
                (subscription_id,),
            ).fetchall()
        return tuple(delivery_from_row(r) for r in rows)

    def last_delivery(self, subscription_id: int) -> Delivery | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = %s"
                ' ORDER BY period_key COLLATE "C" DESC LIMIT 1',
                (subscription_id,),
            ).fetchone()
        return None if row is None else delivery_from_row(row)

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
        # pending_baseline holds ``delivers`` until ``finish`` records it.
        pending = json.dumps(dict(delivers), sort_keys=True) if delivers else None
        try:
            with self._write() as conn:
                # The unique constraint lets exactly one insert in, whichever replica makes it.
                row = conn.execute(
                    "INSERT INTO deliveries (subscription_id, period_key, status, claimed_at, attempts,"
                    " lease_until, title, parts, pending_baseline)"
                    " SELECT %s, %s, 'claimed', %s, 1, %s, %s, %s, %s"
                    " WHERE EXISTS (SELECT 1 FROM subscriptions WHERE id = %s)"
                    " ON CONFLICT (subscription_id, period_key) DO NOTHING"
                    f" RETURNING {DELIVERY_COLUMNS}",
                    (
                        subscription_id,
                        period_key,
                        ts(now),
                        ts(lease_until),
                        title,
                        json.dumps(list(parts), ensure_ascii=False),
                        pending,
                        subscription_id,
                    ),
                ).fetchone()
        except StoreError as exc:
            # Unsubscribed between the EXISTS and the insert, by another replica.
            if isinstance(exc.__cause__, pg_errors.ForeignKeyViolation):
                return None
            raise
        return None if row is None else delivery_from_row(row)

    def take_over(
        self,
        subscription_id: int,
        period_key: str,
        *,
        now: datetime,
        lease_until: datetime,
    ) -> Delivery | None:
        stamp = ts(now)
        with self._write() as conn:
            # SKIP LOCKED: if another replica is taking this period over right now, it is
            # theirs; this one does not wait to find that out.
            row = conn.execute(
                "SELECT 1 FROM deliveries"
                " WHERE subscription_id = %s AND period_key = %s AND status = 'claimed'"
                ' AND lease_until COLLATE "C" <= %s FOR UPDATE SKIP LOCKED',
                (subscription_id, period_key, stamp),
            ).fetchone()
            if row is None:
                return None
            taken = conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, claimed_at = %s, lease_until = %s,"
                " recovered = recovered + CASE WHEN retry_at IS NULL THEN 1 ELSE 0 END, retry_at = NULL"
                f" WHERE subscription_id = %s AND period_key = %s RETURNING {DELIVERY_COLUMNS}",
                (stamp, ts(lease_until), subscription_id, period_key),
            ).fetchone()
        assert taken is not None
        return delivery_from_row(taken)

    def record_part(
        self, subscription_id: int, period_key: str, *, parts_done: int, lease_until: datetime
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE deliveries SET parts_done = %s, lease_until = %s"
                " WHERE subscription_id = %s AND period_key = %s AND status = 'claimed'",
                (parts_done, ts(lease_until), subscription_id, period_key),
            )

    def finish(
        self, subscription_id: int, period_key: str, *, status: Literal["done", "empty"], now: datetime
    ) -> None:
        with self._write() as conn:
            # No row lock needed: only the claim's holder finishes it, and the upsert below
            # is the same whoever runs it.
            row = conn.execute(
                "SELECT pending_baseline FROM deliveries"
                " WHERE subscription_id = %s AND period_key = %s AND status = 'claimed'",
                (subscription_id, period_key),
            ).fetchone()
            if row is None:
                return  # finished, given up or gone already
            delivers = json_map(row["pending_baseline"]) or {}
            if delivers:
                # An upsert: an entry delivered again (it changed) keeps only its latest hash.
                with conn.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO delivered_entries (subscription_id, entry_id, content_hash)"
                        " VALUES (%s, %s, %s) ON CONFLICT (subscription_id, entry_id)"
                        " DO UPDATE SET content_hash = excluded.content_hash",
                        [(subscription_id, entry, digest) for entry, digest in sorted(delivers.items())],
                    )
            conn.execute(
                "UPDATE deliveries SET status = %s, posted_at = %s, retry_at = NULL, pending_baseline = NULL"
                " WHERE subscription_id = %s AND period_key = %s AND status = 'claimed'",
                (status, ts(now), subscription_id, period_key),
            )

    def delivered(self, subscription_id: int) -> Mapping[str, str]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT entry_id, content_hash FROM delivered_entries WHERE subscription_id = %s",
                (subscription_id,),
            ).fetchall()
        return {str(r["entry_id"]): str(r["content_hash"]) for r in rows}

    def retry_later(self, subscription_id: int, period_key: str, *, retry_at: datetime, error: str) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE deliveries SET retry_at = %s, lease_until = %s, last_error = %s"
                " WHERE subscription_id = %s AND period_key = %s AND status = 'claimed'",
                (ts(retry_at), ts(retry_at), error[:500], subscription_id, period_key),
            )

    def release(self, subscription_id: int, period_key: str, *, now: datetime) -> None:
        stamp = ts(now)
        with self._write() as conn:
            conn.execute(
                "UPDATE deliveries SET retry_at = %s, lease_until = %s"
                " WHERE subscription_id = %s AND period_key = %s AND status = 'claimed'",
                (stamp, stamp, subscription_id, period_key),
            )

    def fail(self, subscription_id: int, period_key: str, *, error: str) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE deliveries SET status = 'failed', retry_at = NULL, last_error = %s"
                " WHERE subscription_id = %s AND period_key = %s AND status = 'claimed'",
                (error[:500], subscription_id, period_key),
            )

    def supersede(self, subscription_id: int, period_key: str, *, now: datetime) -> tuple[str, ...]:
        with self._write() as conn:
            # Unfinished: claimed, and either its lease ran out or only a booked retry holds it.
            rows = conn.execute(
                "UPDATE deliveries SET status = 'failed', retry_at = NULL,"
                " last_error = coalesce(last_error || '; then ', '') || 'superseded by ' || %s"
                " WHERE subscription_id = %s AND period_key COLLATE \"C\" < %s AND status = 'claimed'"
                ' AND (lease_until COLLATE "C" <= %s OR retry_at IS NOT NULL) RETURNING period_key',
                (period_key, subscription_id, period_key, ts(now)),
            ).fetchall()
        return tuple(sorted((str(r["period_key"]) for r in rows), key=str.encode))

    def next_lease_expiry(self) -> datetime | None:
        with self._read() as conn:
            # Only each subscription's latest period counts (see Store.next_lease_expiry).
            row = conn.execute(
                'SELECT MIN(lease_until COLLATE "C") AS expiry FROM deliveries AS d'
                " WHERE status = 'claimed' AND period_key = (SELECT MAX(period_key COLLATE \"C\")"
                " FROM deliveries WHERE subscription_id = d.subscription_id)"
            ).fetchone()
        return None if row is None else opt_dt(row["expiry"])

    # -- every table as rows, for `briefbot db copy` (bot.store.copying) --

    def table_references(self) -> Mapping[str, frozenset[str]]:
        with self._read() as conn:
            names = [
                str(r["relname"])
                for r in conn.execute(
                    "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
                    " AND relkind = 'r' AND relname <> 'schema_version'"
                )
            ]
            refs = conn.execute(
                "SELECT t.relname AS source, r.relname AS target FROM pg_constraint c"
                " JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid"
                " WHERE c.contype = 'f' AND t.relnamespace = current_schema()::regnamespace"
            ).fetchall()
        return {name: frozenset(str(r["target"]) for r in refs if r["source"] == name) for name in names}

    def read_table(self, table: str, limit: int | None = None) -> TableRows:
        with self._read() as conn, conn.cursor(row_factory=psycopg.rows.tuple_row) as cursor:
            cursor.execute(sql.SQL("SELECT * FROM {} LIMIT %s").format(sql.Identifier(table)), (limit,))
            rows = tuple(tuple(row) for row in cursor.fetchall())
            columns = tuple(d.name for d in cursor.description or ())
        return TableRows(table, columns, rows)

    def _identities(self, conn: Connection) -> list[tuple[str, str, str]]:
        """(table, column, sequence) of every identity column."""
        rows = conn.execute(
            "SELECT table_name, column_name,"
            " pg_get_serial_sequence(quote_ident(table_name), column_name) AS seq"
            " FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'"
        ).fetchall()
        return [(str(r["table_name"]), str(r["column_name"]), str(r["seq"])) for r in rows]

    def id_counters(self) -> Mapping[str, int]:
        with self._read() as conn:
            counters = {}
            for table, _column, sequence in self._identities(conn):
                row = conn.execute(
                    "SELECT pg_sequence_last_value(%s::regclass) AS last", (sequence,)
                ).fetchone()
                counters[table] = int(row["last"] or 0) if row is not None else 0
        return counters

    def replace_tables(self, tables: Sequence[TableRows], counters: Mapping[str, int]) -> None:
        with self._write() as conn:
            for table in reversed(tables):
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table.name)))
            for table in tables:
                insert = sql.SQL("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES ({})").format(
                    sql.Identifier(table.name),
                    sql.SQL(", ").join(sql.Identifier(c) for c in table.columns),
                    sql.SQL(", ").join(sql.Placeholder() for _ in table.columns),
                )
                with conn.cursor() as cursor:
                    cursor.executemany(insert, table.rows)
            by_name = {table.name: table for table in tables}
            for table_name, column, sequence in self._identities(conn):
                # Past both the highest id copied and the highest the source ever handed out.
                copied = by_name.get(table_name)
                ids = [] if copied is None else [row[copied.columns.index(column)] for row in copied.rows]
                highest = max([counters.get(table_name, 0), *(int(str(i)) for i in ids)])
                conn.execute("SELECT setval(%s::regclass, %s, %s)", (sequence, max(highest, 1), highest > 0))
        self._salt = None  # the copy brought the source's salt
