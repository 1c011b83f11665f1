"""``SQLiteStore``: the default ``Store``, one SQLite file shared safely by several processes.

WAL mode, migrations (``bot.store.migrations``) applied on open in one IMMEDIATE
transaction, and every write in its own IMMEDIATE transaction, so two processes
serialise instead of failing halfway. The delivery ledger's "once" is
``UNIQUE(subscription_id, period_key)`` with ``INSERT OR IGNORE``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Literal

from bot.conversation import TURNS_KEPT, ThreadKey, Turn
from bot.errors import StoreError
from bot.store.copying import TableRows
from bot.store.encoding import DELIVERY_COLUMNS as _DELIVERY_COLUMNS
from bot.store.encoding import SUBSCRIPTION_COLUMNS as _SUBSCRIPTION_COLUMNS
from bot.store.encoding import attach_reason_sql, checked_reason, encode_turn, turn_from_row
from bot.store.encoding import delivery_from_row as _delivery
from bot.store.encoding import dt as _dt
from bot.store.encoding import json_map as _json_map
from bot.store.encoding import opt_dt as _opt_dt
from bot.store.encoding import subscription_from_row as _subscription
from bot.store.encoding import ts as _ts
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

__all__ = ["SQLiteStore", "migrate"]

_log = logging.getLogger(__name__)

_ATTACH_REASON = attach_reason_sql("?")


def _current_version(conn: sqlite3.Connection) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION, *, now: datetime | None = None) -> int:
    """Bring the schema of ``conn`` (autocommit mode) up to ``target``; return the old version.

    All pending migrations run in one IMMEDIATE transaction, so two processes starting
    together cannot both migrate, and a failed migration leaves the old schema intact.
    """
    stamp = _ts(now or datetime.now(UTC))
    # Foreign keys must be off while a referenced table is rebuilt; this pragma is a
    # no-op inside a transaction, hence before BEGIN.
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = _current_version(conn)
        for migration in pending(current, target):
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (migration.version, stamp)
            )
            _log.info("database migrated to version %d: %s", migration.version, migration.purpose)
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise StoreError(
                f"the migrated database breaks {len(problems)} foreign key(s); nothing was changed"
            )
        conn.execute("COMMIT")
    except BaseException:
        _roll_back(conn)
        raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    return current


def _roll_back(conn: sqlite3.Connection) -> None:
    """Undo the transaction in progress, if SQLite has not already undone it.

    After some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM) SQLite rolls the
    transaction back by itself, and an explicit ROLLBACK then raises "cannot rollback -
    no transaction is active", which would replace the error that says what happened
    (a full disk would read as a damaged database). So roll back only what is still
    open, and never let the rollback's own failure hide the first error.
    """
    if not conn.in_transaction:
        return
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error:
        _log.debug("rollback after a failed transaction failed too", exc_info=True)


# -- helpers ---------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _check_writable(conn: sqlite3.Connection) -> None:
    """Fail at start-up, not on the first subscription, when the file is read-only.

    SQLite opens a file it may not write read-only without complaint, and with nothing
    to migrate no write happens on open; a rewrite of one row, rolled back, is the
    cheapest write that proves the file (and its -wal beside it) can take one.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("UPDATE meta SET value = value WHERE key = 'user_salt'")
    finally:
        _roll_back(conn)


def _diagnose(exc: sqlite3.Error, busy_timeout: float, path: str) -> str:
    """What went wrong and what the operator should do, by SQLite's error code.

    The advice differs in a way that matters: a locked, read-only or full database is
    fine and must not be moved aside or restored over; only a damaged one needs that.
    """
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith("SQLITE_FULL"):
        # SQLite says SQLITE_FULL when the file system refuses to grow the file or its
        # -wal (or the file reached the page limit a connection set).
        return (
            f"the disk holding {path} is full ({exc}). Free space on that disk, then try again; "
            "the file itself is intact and briefbot has not changed it"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return (
            f"{exc}: another process or connection held it for more than {busy_timeout:g} s. "
            "Try again once that process is done; briefbot has not changed it"
        )
    if name.startswith("SQLITE_READONLY"):
        return (
            f"{exc}. briefbot needs write access to the file and to its directory (SQLite keeps "
            "-wal and -shm files beside it); briefbot has not changed it"
        )
    if name.startswith("SQLITE_CANTOPEN"):
        return (
            f"{exc}. Does its directory exist, and may briefbot write there (SQLite keeps -wal and "
            "-shm files beside it)? briefbot has not changed it"
        )
    return (
        f"{exc}. If it is not a briefbot database or is damaged, "
        "restore it from a backup or move it aside; briefbot has not changed it"
    )


# -- SQLite ----------------------------------------------------------------------


class SQLiteStore:
    """The default ``Store``: one SQLite file shared safely by several processes.

    One connection, guarded by a lock so the adapters' core thread and the digest
    scheduler's thread (and any other) can share it; every statement is short, so holding
    the lock costs microseconds.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Callable[[], datetime] = _utcnow,
        busy_timeout: float = 5.0,
    ) -> None:
        self.path = str(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._busy_timeout = busy_timeout
        self._salt: str | None = None  # read once: the migration sets it and nothing changes it
        self._conn = self._open(busy_timeout)

    def _open(self, busy_timeout: float) -> sqlite3.Connection:
        where = f"the database {self.path}"
        try:
            empty = os.path.getsize(self.path) == 0
        except OSError:
            empty = False  # not there yet (or unreadable, which connecting reports)
        if empty:
            # SQLite takes an empty file for a new database. A deliberate `touch` is fine,
            # but a database truncated by a failed copy looks the same: say so.
            _log.warning(
                "%s is an empty file; starting a new database in it. If it should have held "
                "subscriptions, stop briefbot and restore it from a backup.",
                where,
            )
        try:
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE), never implied.
            conn = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot open {where}: {exc} (does its directory exist, and may briefbot write there?)"
            ) from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            # WAL lets the scheduler write while commands read; synchronous stays at
            # its FULL default so a committed claim survives a power cut too.
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise StoreError(
                    f"{where} is damaged (integrity check: {str(verdict)[:200]}); "
                    "restore it from a backup or move it aside. briefbot has not changed it"
                )
            migrate(conn, now=self._clock())
            _check_writable(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{where} cannot be used: {_diagnose(exc, busy_timeout, self.path)}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    # -- plumbing --

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise StoreError(f"reading the database {self.path} failed: {exc}") from exc

    @contextmanager
    def _write(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: it takes the write lock up front, so two processes
        serialise here instead of failing with 'database is locked' halfway through.

        ``durable=False`` commits without waiting for the disk (WAL with synchronous
        NORMAL): the commit survives the process being killed, since it is in the -wal
        file, but a power cut may lose it. Worth it only where losing a commit is harmless
        and waiting milliseconds for the disk on every request is not.
        """
        with self._lock:
            if not durable:
                self._conn.execute("PRAGMA synchronous = NORMAL")
            try:
                try:
                    self._conn.execute("BEGIN IMMEDIATE")
                except sqlite3.Error as exc:
                    raise self._write_failed(exc) from exc
                try:
                    yield self._conn
                    self._conn.execute("COMMIT")
                except BaseException as exc:
                    _roll_back(self._conn)
                    if isinstance(exc, sqlite3.Error):
                        raise self._write_failed(exc) from exc
                    raise
            finally:
                if not durable:
                    self._conn.execute("PRAGMA synchronous = FULL")

    def now(self) -> datetime:
        # One file, one machine: its clock is the only one the leases meet.
        return self._clock()

    def _write_failed(self, exc: sqlite3.Error) -> StoreError:
        advice = _diagnose(exc, self._busy_timeout, self.path)
        return StoreError(f"writing the database {self.path} failed: {advice}")

    def schema_version(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0])

    def journal_mode(self) -> str:
        with self._read() as conn:
            return str(conn.execute("PRAGMA journal_mode").fetchone()[0])

    # -- feedback --

    def _user_hash(self, conn: sqlite3.Connection, platform: str, workspace: str, user: str) -> str:
        if self._salt is None:
            self._salt = str(conn.execute("SELECT value FROM meta WHERE key = 'user_salt'").fetchone()[0])
        return self._hash_with_salt(self._salt, platform, workspace, user)

    @staticmethod
    def _hash_with_salt(salt: str, platform: str, workspace: str, user: str) -> str:
        raw = f"{salt}\x1f{platform}\x1f{workspace}\x1f{user}".encode()
        return hashlib.sha256(raw).hexdigest()[:24]

    def user_hash(self, platform: str, workspace: str, user: str) -> str:
        if self._salt is None:
            with self._read() as conn:
                return self._user_hash(conn, platform, workspace, user)
        # Once the salt is known, no lock: logging a question never waits on a writer.
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
        with self._write() as conn:
            conn.execute(
                "INSERT INTO feedback (at, platform, workspace, channel, user_hash, question, entry_ids,"
                " helpful) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _ts(self._clock()),
                    platform,
                    workspace,
                    channel,
                    self._user_hash(conn, platform, workspace, user),
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
        with self._write() as conn:
            user_hash = self._user_hash(conn, platform, workspace, user)
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
                " VALUES (?, ?, ?, ?, ?, ?)",
                (_ts(self._clock()), platform, workspace, channel, question, float(confidence)),
            )

    def feedback(self, limit: int = 100) -> tuple[FeedbackRecord, ...]:
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM feedback ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return tuple(
            FeedbackRecord(
                at=_dt(r["at"]),
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
            rows = conn.execute("SELECT * FROM unanswered ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return tuple(
            UnansweredQuestion(
                at=_dt(r["at"]),
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
                "INSERT INTO curation_handled (item_key, handled_at) VALUES (?, ?)"
                " ON CONFLICT (item_key) DO UPDATE SET handled_at = excluded.handled_at",
                (key, _ts(at)),
            )

    def handled(self) -> Mapping[str, datetime]:
        with self._read() as conn:
            rows = conn.execute("SELECT item_key, handled_at FROM curation_handled").fetchall()
        return {r["item_key"]: _dt(r["handled_at"]) for r in rows}

    # -- platform deliveries already handled --

    def remember_event(self, namespace: str, key: str, ttl: timedelta) -> bool:
        now = self._clock()
        # Not durable: a key a power cut forgets costs at worst one duplicate answer, while
        # waiting for the disk would cost every Slack request milliseconds, one at a time.
        with self._write(durable=False) as conn:
            # Forgetting what expired keeps the table as small as the traffic of one ttl;
            # the expiry index makes it one range delete.
            conn.execute("DELETE FROM remembered_events WHERE expires_at <= ?", (_ts(now),))
            # INSERT OR IGNORE: the primary key lets exactly one insert of a key in.
            cursor = conn.execute(
                "INSERT OR IGNORE INTO remembered_events (namespace, event_key, expires_at) VALUES (?, ?, ?)",
                (namespace, key, _ts(now + ttl)),
            )
        return cursor.rowcount == 1

    # -- leases --

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        now = self._clock()
        # Durable, unlike remember_event: it runs every few seconds, not per request, and a
        # lease forgotten while its holder lives would let a second holder in.
        with self._write() as conn:
            # The write lock is held, so the WHERE sees the lease as it is: taken or renewed
            # only when free, expired, or already this holder's.
            cursor = conn.execute(
                "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
                " acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at"
                " ELSE excluded.acquired_at END, expires_at = excluded.expires_at"
                " WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.acquired_at",
                (name, holder, _ts(now), _ts(now + ttl)),
            )
        return cursor.rowcount == 1

    def release_lease(self, name: str, holder: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    # -- conversation threads --

    def remember_turn(self, key: ThreadKey, turn: Turn, ttl: timedelta) -> None:
        now = self._clock()
        # Not durable, like remember_event: a turn a power cut forgets costs one follow-up
        # read without its context, while every answer in a thread writes one.
        with self._write(durable=False) as conn:
            conn.execute("DELETE FROM thread_turns WHERE expires_at <= ?", (_ts(now),))
            where = (key.platform, key.channel, key.thread)
            # The write lock is held (BEGIN IMMEDIATE), so the next number is ours alone.
            row = conn.execute(
                "SELECT coalesce(max(turn), 0) + 1 FROM thread_turns"
                " WHERE platform = ? AND channel = ? AND thread = ?",
                where,
            ).fetchone()
            number = int(row[0])
            conn.execute(
                "INSERT INTO thread_turns (platform, channel, thread, turn, expires_at, entry_ids, kind,"
                " question) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*where, number, _ts(now + ttl), *encode_turn(turn)),
            )
            conn.execute(
                "DELETE FROM thread_turns WHERE platform = ? AND channel = ? AND thread = ? AND turn <= ?",
                (*where, number - TURNS_KEPT),
            )

    def recent_turns(self, key: ThreadKey, limit: int = 3) -> tuple[Turn, ...]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT entry_ids, kind, question FROM thread_turns"
                " WHERE platform = ? AND channel = ? AND thread = ? AND expires_at > ?"
                " ORDER BY turn DESC LIMIT ?",
                (key.platform, key.channel, key.thread, _ts(self._clock()), max(0, limit)),
            ).fetchall()
        return tuple(turn_from_row(r) for r in reversed(rows))

    # -- channel settings --

    def channel_settings(self, platform: str, channel: str) -> ChannelSettings:
        with self._read() as conn:
            row = conn.execute(
                "SELECT private_answers, auto_answer FROM channel_settings"
                " WHERE platform = ? AND channel = ?",
                (platform, channel),
            ).fetchone()
        if row is None:
            return ChannelSettings()
        return ChannelSettings(private_answers=bool(row[0]), auto_answer=bool(row[1]))

    def set_channel_settings(
        self, platform: str, channel: str, settings: ChannelSettings, *, now: datetime
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO channel_settings (platform, channel, private_answers, auto_answer, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, channel) DO UPDATE SET"
                " private_answers = excluded.private_answers, auto_answer = excluded.auto_answer,"
                " updated_at = excluded.updated_at",
                (platform, channel, int(settings.private_answers), int(settings.auto_answer), _ts(now)),
            )

    def answer_channels(self, platform: str, workspace: str) -> AnswerChannels:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT channel, name FROM answer_channels WHERE platform = ? AND workspace = ?"
                " ORDER BY position",
                (platform, workspace),
            ).fetchall()
        return AnswerChannels(tuple(AllowedChannel(row[0], row[1]) for row in rows))

    def set_answer_channels(
        self, platform: str, workspace: str, channels: AnswerChannels, *, now: datetime
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "DELETE FROM answer_channels WHERE platform = ? AND workspace = ?", (platform, workspace)
            )
            # A channel given twice is allowed once, where it was first given.
            seen: set[str] = set()
            for position, allowed in enumerate(channels.channels):
                if allowed.id in seen:
                    continue
                seen.add(allowed.id)
                conn.execute(
                    "INSERT INTO answer_channels (platform, workspace, channel, name, position, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (platform, workspace, allowed.id, allowed.name, position, _ts(now)),
                )

    # -- subscriptions --

    def add_subscription(self, new: NewSubscription, *, now: datetime) -> Subscription:
        baseline = None if new.baseline is None else json.dumps(dict(new.baseline), sort_keys=True)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO subscriptions (platform, workspace, channel, kind, arg, schedule, tz,"
                " created_by, created_at, baseline, say_when_empty) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.platform,
                    new.workspace,
                    new.channel,
                    new.kind,
                    new.arg,
                    new.schedule,
                    new.tz,
                    new.created_by,
                    _ts(now),
                    baseline,
                    int(new.say_when_empty),
                ),
            )
            row = conn.execute(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
        return _subscription(row)

    def subscriptions(
        self, *, platform: str | None = None, workspace: str | None = None, channel: str | None = None
    ) -> tuple[Subscription, ...]:
        clauses, params = [], []
        for column, value in (("platform", platform), ("workspace", workspace), ("channel", channel)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions{where} ORDER BY id", params
            ).fetchall()
        return tuple(_subscription(r) for r in rows)

    def remove_subscription(self, subscription_id: int) -> bool:
        with self._write() as conn:
            cursor = conn.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))
        return cursor.rowcount == 1

    # -- deliveries --

    def delivery(self, subscription_id: int, period_key: str) -> Delivery | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = ? AND period_key = ?",
                (subscription_id, period_key),
            ).fetchone()
        return None if row is None else _delivery(row)

    def deliveries(self, subscription_id: int) -> tuple[Delivery, ...]:
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = ? ORDER BY period_key",
                (subscription_id,),
            ).fetchall()
        return tuple(_delivery(r) for r in rows)

    def last_delivery(self, subscription_id: int) -> Delivery | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = ?"
                " ORDER BY period_key DESC LIMIT 1",
                (subscription_id,),
            ).fetchone()
        return None if row is None else _delivery(row)

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
        # INSERT OR IGNORE: UNIQUE (subscription_id, period_key) lets exactly one insert in.
        # pending_baseline holds ``delivers`` until ``finish`` records it.
        pending = json.dumps(dict(delivers), sort_keys=True) if delivers else None
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO deliveries (subscription_id, period_key, status, claimed_at, attempts,"
                " lease_until, title, parts, pending_baseline)"
                " SELECT ?, ?, 'claimed', ?, 1, ?, ?, ?, ?"
                " WHERE EXISTS (SELECT 1 FROM subscriptions WHERE id = ?)",
                (
                    subscription_id,
                    period_key,
                    _ts(now),
                    _ts(lease_until),
                    title,
                    json.dumps(list(parts), ensure_ascii=False),
                    pending,
                    subscription_id,
                ),
            )
            if cursor.rowcount != 1:
                return None
            row = conn.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = ? AND period_key = ?",
                (subscription_id, period_key),
            ).fetchone()
        return _delivery(row)

    def take_over(
        self,
        subscription_id: int,
        period_key: str,
        *,
        now: datetime,
        lease_until: datetime,
    ) -> Delivery | None:
        stamp = _ts(now)
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, claimed_at = ?, lease_until = ?,"
                " recovered = recovered + (CASE WHEN retry_at IS NULL THEN 1 ELSE 0 END), retry_at = NULL"
                " WHERE subscription_id = ? AND period_key = ? AND status = 'claimed' AND lease_until <= ?",
                (stamp, _ts(lease_until), subscription_id, period_key, stamp),
            )
            if cursor.rowcount != 1:
                return None
            row = conn.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = ? AND period_key = ?",
                (subscription_id, period_key),
            ).fetchone()
        return _delivery(row)

    def record_part(
        self, subscription_id: int, period_key: str, *, parts_done: int, lease_until: datetime
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE deliveries SET parts_done = ?, lease_until = ?"
                " WHERE subscription_id = ? AND period_key = ? AND status = 'claimed'",
                (parts_done, _ts(lease_until), subscription_id, period_key),
            )

    def finish(
        self, subscription_id: int, period_key: str, *, status: Literal["done", "empty"], now: datetime
    ) -> None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT pending_baseline FROM deliveries"
                " WHERE subscription_id = ? AND period_key = ? AND status = 'claimed'",
                (subscription_id, period_key),
            ).fetchone()
            if row is None:
                return  # finished, given up or gone already
            delivers = _json_map(row["pending_baseline"]) or {}
            # An upsert: an entry delivered again (it changed) keeps only its latest hash.
            conn.executemany(
                "INSERT INTO delivered_entries (subscription_id, entry_id, content_hash) VALUES (?, ?, ?)"
                " ON CONFLICT (subscription_id, entry_id) DO UPDATE SET content_hash = excluded.content_hash",
                [(subscription_id, entry_id, digest) for entry_id, digest in sorted(delivers.items())],
            )
            conn.execute(
                "UPDATE deliveries SET status = ?, posted_at = ?, retry_at = NULL, pending_baseline = NULL"
                " WHERE subscription_id = ? AND period_key = ? AND status = 'claimed'",
                (status, _ts(now), subscription_id, period_key),
            )

    def delivered(self, subscription_id: int) -> Mapping[str, str]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT entry_id, content_hash FROM delivered_entries WHERE subscription_id = ?",
                (subscription_id,),
            ).fetchall()
        return {str(r["entry_id"]): str(r["content_hash"]) for r in rows}

    def retry_later(self, subscription_id: int, period_key: str, *, retry_at: datetime, error: str) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE deliveries SET retry_at = ?, lease_until = ?, last_error = ?"
                " WHERE subscription_id = ? AND period_key = ? AND status = 'claimed'",
                (_ts(retry_at), _ts(retry_at), error[:500], subscription_id, period_key),
            )

    def release(self, subscription_id: int, period_key: str, *, now: datetime) -> None:
        stamp = _ts(now)
        with self._write() as conn:
            conn.execute(
                "UPDATE deliveries SET retry_at = ?, lease_until = ?"
                " WHERE subscription_id = ? AND period_key = ? AND status = 'claimed'",
                (stamp, stamp, subscription_id, period_key),
            )

    def fail(self, subscription_id: int, period_key: str, *, error: str) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE deliveries SET status = 'failed', retry_at = NULL, last_error = ?"
                " WHERE subscription_id = ? AND period_key = ? AND status = 'claimed'",
                (error[:500], subscription_id, period_key),
            )

    def supersede(self, subscription_id: int, period_key: str, *, now: datetime) -> tuple[str, ...]:
        # Unfinished: claimed, and either its lease ran out or only a booked retry holds it.
        where = (
            " WHERE subscription_id = ? AND period_key < ? AND status = 'claimed'"
            " AND (lease_until <= ? OR retry_at IS NOT NULL)"
        )
        params = (subscription_id, period_key, _ts(now))
        with self._write() as conn:
            rows = conn.execute(f"SELECT period_key FROM deliveries{where} ORDER BY period_key", params)
            keys = tuple(str(row[0]) for row in rows.fetchall())
            conn.execute(
                "UPDATE deliveries SET status = 'failed', retry_at = NULL,"
                " last_error = coalesce(last_error || '; then ', '') || 'superseded by ' || ?" + where,
                (period_key, *params),
            )
        return keys

    def next_lease_expiry(self) -> datetime | None:
        with self._read() as conn:
            # Only each subscription's latest period counts (see Store.next_lease_expiry).
            row = conn.execute(
                "SELECT MIN(lease_until) FROM deliveries AS d WHERE status = 'claimed' AND period_key ="
                " (SELECT MAX(period_key) FROM deliveries WHERE subscription_id = d.subscription_id)"
            ).fetchone()
        return _opt_dt(row[0])

    # -- every table as rows, for `briefbot db copy` (bot.store.copying) --

    def table_references(self) -> Mapping[str, frozenset[str]]:
        with self._read() as conn:
            names = [
                str(row[0])
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite%' AND name <> 'schema_version'"
                )
            ]
            return {
                name: frozenset(
                    str(ref["table"]) for ref in conn.execute(f"PRAGMA foreign_key_list({_quoted(name)})")
                )
                for name in names
            }

    def read_table(self, table: str, limit: int | None = None) -> TableRows:
        with self._read() as conn:
            cursor = conn.execute(
                f"SELECT * FROM {_quoted(table)} LIMIT ?", (-1 if limit is None else limit,)
            )
            rows = tuple(tuple(row) for row in cursor.fetchall())
            columns = tuple(str(d[0]) for d in cursor.description)
        return TableRows(table, columns, rows)

    def id_counters(self) -> Mapping[str, int]:
        # AUTOINCREMENT keeps the highest id ever used in sqlite_sequence; plain rowid
        # tables have no counter beyond their rows.
        with self._read() as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone() is None:
                return {}
            return {str(r[0]): int(r[1]) for r in conn.execute("SELECT name, seq FROM sqlite_sequence")}

    def replace_tables(self, tables: Sequence[TableRows], counters: Mapping[str, int]) -> None:
        with self._write() as conn:
            for table in reversed(tables):
                conn.execute(f"DELETE FROM {_quoted(table.name)}")
            for table in tables:
                columns = ", ".join(_quoted(c) for c in table.columns)
                marks = ", ".join("?" for _ in table.columns)
                conn.executemany(
                    f"INSERT INTO {_quoted(table.name)} ({columns}) VALUES ({marks})", table.rows
                )
            counted = {
                str(r[0])
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'"
                )
            }
            for name, highest in counters.items():
                if name not in counted:
                    continue
                cursor = conn.execute(
                    "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (highest, name)
                )
                if cursor.rowcount == 0:
                    conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, highest))
        self._salt = None  # the copy brought the source's salt


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
