"""The SQLite store when its file is damaged, locked, read-only or its writer dies.

Every case runs on a real file (and real processes where one holds a lock or crashes).
What an operator must be able to rely on: a clear StoreError naming the file, with advice
that fits the cause (a locked database must never be "restored from a backup"); the file
left exactly as it was; and nothing half-written. What a chat user must see: a polite
reply, never a traceback.
"""

from __future__ import annotations

import functools
import logging
import random
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.digests.commands import DigestCommands
from bot.dispatch import Bot
from bot.errors import StoreError
from bot.messages import Request
from bot.store.migrations import SCHEMA_VERSION
from bot.store.sqlite import SQLiteStore, migrate
from bot.store.values import NewSubscription
from tests.digest.support import REPO, utc
from tests.fixtures import bundled_engine, bundled_kb

NOW = utc(2024, 3, 1, 9)
CRASH_EXIT = 17


def sub(channel: str = "C1") -> NewSubscription:
    return NewSubscription("slack", "T1", channel, "month", "", "daily 09:00", "UTC", "U1")


def populated(path: Path, count: int = 40) -> bytes:
    """A real briefbot database with ``count`` subscriptions, checkpointed into one file."""
    with SQLiteStore(path) as store:
        for i in range(count):
            store.add_subscription(sub(f"C{i}"), now=NOW)
    return path.read_bytes()


def channels(path: Path) -> list[str]:
    with SQLiteStore(path) as store:
        return [s.channel for s in store.subscriptions()]


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


# -- damaged files -----------------------------------------------------------------------

_RNG = random.Random(7)  # fixed: the same garbage on every run


def _garbage(size: int) -> bytes:
    return bytes(_RNG.getrandbits(8) for _ in range(size))


CORRUPTIONS = {
    "random bytes over the header": lambda good: _garbage(100) + good[100:],
    "random bytes over a table page": lambda good: good[:4096] + _garbage(4096) + good[8192:],
    "truncated to half": lambda good: good[: len(good) // 2],
    "truncated inside the header": lambda good: good[:60],
    "zeroed after the header": lambda good: good[:100] + bytes(len(good) - 100),
}


@pytest.mark.parametrize("damage", list(CORRUPTIONS))
def test_a_damaged_database_is_refused_by_name_and_left_exactly_as_it_was(
    tmp_path: Path, damage: str
) -> None:
    path = tmp_path / "bot.sqlite3"
    good = populated(path)
    broken = CORRUPTIONS[damage](good)
    path.write_bytes(broken)
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path)
    message = str(caught.value)
    assert str(path) in message and "restore it from a backup or move it aside" in message
    # Never silently recreated: the bytes an operator would try to salvage are untouched.
    assert path.read_bytes() == broken
    # And once the operator restores the backup, every subscription is still there.
    path.write_bytes(good)
    assert channels(path) == [f"C{i}" for i in range(40)]


# -- locks -------------------------------------------------------------------------------


@contextmanager
def write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """A second connection holding the database's write lock until released or the block ends."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


def test_a_write_waits_for_another_connections_lock_and_then_succeeds(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    populated(path, count=1)
    with SQLiteStore(path, busy_timeout=30) as store, write_lock(path) as other:
        released = threading.Event()

        def release() -> None:
            other.execute("COMMIT")
            released.set()

        timer = threading.Timer(0.3, release)
        timer.start()
        try:
            store.add_subscription(sub("C-after-wait"), now=NOW)
        finally:
            timer.join()
        # It could only have gone in once the other connection let go.
        assert released.is_set()
    assert channels(path) == ["C0", "C-after-wait"]


def test_a_write_blocked_past_the_busy_timeout_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    populated(path, count=1)
    with SQLiteStore(path, busy_timeout=0.2) as store:
        with write_lock(path) as other:
            with pytest.raises(StoreError) as caught:
                store.add_subscription(sub("C-blocked"), now=NOW)
            message = str(caught.value)
            assert str(path) in message and "locked" in message and "another process" in message
            assert "backup" not in message  # nothing is wrong with the file itself
            assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
            other.execute("ROLLBACK")
        assert [s.channel for s in store.subscriptions()] == ["C0"]  # no half-written row
        store.add_subscription(sub("C-retried"), now=NOW)  # the same store recovers by itself
    assert channels(path) == ["C0", "C-retried"]


def test_opening_a_database_locked_past_the_busy_timeout_says_locked_not_damaged(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    populated(path, count=1)
    with write_lock(path), pytest.raises(StoreError) as caught:
        SQLiteStore(path, busy_timeout=0.2)
    message = str(caught.value)
    assert str(path) in message and "locked" in message
    # Telling an operator to "move it aside" here would lose every subscription.
    assert "backup" not in message and "move it aside" not in message
    assert channels(path) == ["C0"]


# A process that takes the write lock, writes half a subscription and is killed holding
# it: os._exit, the way SIGKILL or a power cut ends a process, with no rollback or close.
_HOLDER = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
conn.execute(
    "INSERT INTO subscriptions (platform, workspace, channel, kind, arg, schedule, tz, created_by,"
    " created_at) VALUES ('slack', 'T1', 'C-half-written', 'month', '', 'daily 09:00', 'UTC', 'U1',"
    " '2024-03-01T09:00:00.000000Z')"
)
print("holding", flush=True)
sys.stdin.read()  # until the test closes our stdin
os._exit(17)
"""


def test_a_process_killed_while_holding_the_lock_mid_write_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    populated(path, count=1)
    with (
        SQLiteStore(path, busy_timeout=0.2) as store,
        subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as holder,
    ):
        assert holder.stdin is not None and holder.stdout is not None
        try:
            assert holder.stdout.readline() == "holding\n"
            with pytest.raises(StoreError, match="locked"):
                store.add_subscription(sub("C-mine"), now=NOW)
            assert [s.channel for s in store.subscriptions()] == ["C0"]
        finally:
            holder.stdin.close()
            assert holder.wait(timeout=30) == CRASH_EXIT
    # The dead process's uncommitted row is gone, the file is sound and writable again.
    assert integrity(path) == "ok"
    with SQLiteStore(path, busy_timeout=5) as store:
        store.add_subscription(sub("C-mine"), now=NOW)
    assert channels(path) == ["C0", "C-mine"]


# -- crashes inside briefbot's own transactions -------------------------------------------

# Runs briefbot's store in a child that dies (os._exit) the moment SQLite starts the
# statement named on the command line: the trace callback fires before the statement
# runs, so the transaction is cut off exactly there.
_CRASHER = """
import os, sqlite3, sys
from datetime import UTC, datetime

db, fatal = sys.argv[1], sys.argv[2]
real_connect = sqlite3.connect

def connect(*args, **kwargs):
    conn = real_connect(*args, **kwargs)
    conn.set_trace_callback(lambda sql: os._exit(17) if sql.lstrip().startswith(fatal) else None)
    return conn

sqlite3.connect = connect
from bot.store.sqlite import SQLiteStore
from bot.store.values import NewSubscription

store = SQLiteStore(db)
store.add_subscription(
    NewSubscription("slack", "T1", "C-crashed", "month", "", "daily 09:00", "UTC", "U1"),
    now=datetime(2024, 3, 1, tzinfo=UTC),
)
"""


def crash_at(path: Path, statement: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _CRASHER, str(path), statement],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode


def test_a_crash_just_before_commit_loses_only_the_unfinished_subscription(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    populated(path, count=3)
    assert crash_at(path, "COMMIT") == CRASH_EXIT
    assert integrity(path) == "ok"
    assert channels(path) == ["C0", "C1", "C2"]


def test_a_crash_halfway_through_a_schema_migration_keeps_the_old_schema_and_its_data(
    tmp_path: Path,
) -> None:
    # Migration 2 rebuilds the deliveries table (create, copy, drop, rename): the riskiest
    # transaction briefbot runs. Killed between the drop and the rename, nothing may be lost.
    path = tmp_path / "bot.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, target=1)
        conn.execute(
            "INSERT INTO subscriptions (platform, workspace, channel, kind, arg, schedule, tz, created_by,"
            " created_at) VALUES ('slack', 'T1', 'C-old', 'month', '', 'daily 09:00', 'UTC', 'U1',"
            " '2024-01-01T00:00:00.000000Z')"
        )
        conn.execute(
            "INSERT INTO deliveries (subscription_id, period_key, status, claimed_at, posted_at)"
            " VALUES (1, '2024-01-02T09:00', 'done', '2024-01-02T09:00:00.000000Z',"
            " '2024-01-02T09:00:01.000000Z')"
        )
    finally:
        conn.close()
    assert crash_at(path, "ALTER TABLE deliveries_v2 RENAME") == CRASH_EXIT
    assert integrity(path) == "ok"
    with SQLiteStore(path) as store:  # the next start migrates from scratch
        assert store.schema_version() == SCHEMA_VERSION
        (old,) = store.subscriptions()
        assert old.channel == "C-old"
        assert [(d.period_key, d.status) for d in store.deliveries(old.id)] == [("2024-01-02T09:00", "done")]


# -- read-only files -----------------------------------------------------------------------


def _writable(path: Path) -> bool:
    target = path / ".probe" if path.is_dir() else path
    try:
        with open(target, "ab"):  # appends nothing: the file stays as it was
            pass
    except PermissionError:
        return False
    if target != path:
        target.unlink()
    return True


def _make_read_only(path: Path) -> list[Path]:
    """Take write access away; as root, where modes don't bind, set the immutable flag.

    Returns what was flagged immutable, for ``_undo``; skips if neither works here.
    """
    path.chmod(0o555 if path.is_dir() else 0o444)
    if not _writable(path):
        return []
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("root, and no immutable flag on this file system: cannot make a file read-only")
    return [path]


def _undo(flagged: list[Path]) -> None:
    for path in flagged:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize("what", ["file", "directory"])
def test_a_read_only_database_is_refused_at_start_up_with_what_to_fix(tmp_path: Path, what: str) -> None:
    # Refused when it opens, not accepted and then failing on the first subscription.
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "bot.sqlite3"
    before = populated(path, count=2)
    flagged = _make_read_only(path if what == "file" else folder)
    try:
        with pytest.raises(StoreError) as caught:
            SQLiteStore(path)
    finally:
        _undo(flagged)
        path.chmod(0o644)
        folder.chmod(0o755)
    message = str(caught.value)
    assert str(path) in message and "write" in message and "backup" not in message
    assert path.read_bytes() == before
    assert channels(path) == ["C0", "C1"]


# -- a full disk ---------------------------------------------------------------------------

# SQLite reports a file system that refuses to grow the database (or its -wal) as
# SQLITE_FULL. A connection's page limit makes the real SQLite library take that very path
# without filling a real disk: every connection briefbot opens here gets the limit, and
# everything else about it is untouched.


@contextmanager
def disk_full_at(monkeypatch: pytest.MonkeyPatch, path: Path) -> Iterator[None]:
    """Every connection opened in the block may not grow ``path`` past its current size."""
    pages = max(1, page_count(path))
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = real_connect(*args, **kwargs)
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    with monkeypatch.context() as patched:
        patched.setattr(sqlite3, "connect", connect)
        yield


def page_count(path: Path) -> int:
    if not path.exists():
        return 0
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA page_count").fetchone()[0])
    finally:
        conn.close()


def fill(write: Callable[[], object]) -> StoreError:
    """Write until the disk is full; the error that says so."""
    for _ in range(10_000):
        try:
            write()
        except StoreError as exc:
            return exc
    raise AssertionError("the disk never filled up")


def assert_says_the_disk_is_full(error: StoreError, path: Path) -> None:
    message = str(error)
    assert f"the disk holding {path} is full" in message, message
    # A full disk says nothing about the file: restoring over it would lose data.
    assert "backup" not in message and "move it aside" not in message and "damaged" not in message
    assert "cannot rollback" not in message


def test_starting_on_a_full_disk_says_the_disk_is_full_not_that_the_file_is_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = tmp_path / "new.sqlite3"
    with disk_full_at(monkeypatch, new), pytest.raises(StoreError) as caught:
        SQLiteStore(new)  # the schema cannot be written
    assert_says_the_disk_is_full(caught.value, new)

    # An older database whose migration needs room the disk does not have keeps its data.
    old = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(old, isolation_level=None)
    try:
        migrate(conn, target=1)
        conn.execute(
            "INSERT INTO subscriptions (platform, workspace, channel, kind, arg, schedule, tz, created_by,"
            " created_at) VALUES ('slack', 'T1', 'C-old', 'month', '', 'daily 09:00', 'UTC', 'U1',"
            " '2024-01-01T00:00:00.000000Z')"
        )
    finally:
        conn.close()
    with disk_full_at(monkeypatch, old), pytest.raises(StoreError) as caught:
        SQLiteStore(old)
    assert_says_the_disk_is_full(caught.value, old)
    assert integrity(old) == "ok"
    assert channels(old) == ["C-old"]  # once there is room, it migrates with its data


def test_on_a_full_disk_users_still_get_answers_and_the_error_names_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bot.sqlite3"
    populated(path, count=1)
    with disk_full_at(monkeypatch, path), SQLiteStore(path) as store:
        # Fill every table a user's request writes to, with rows smaller than theirs.
        unanswered = functools.partial(
            store.record_unanswered, platform="", workspace="", channel="", question="", confidence=0
        )
        assert_says_the_disk_is_full(fill(unanswered), path)
        fill(lambda: store.add_subscription(NewSubscription("", "", "", "", "", "", "", ""), now=NOW))
        fill(
            lambda: store.record_feedback(
                platform="", workspace="", channel="", user="", question="", entry_ids=(), helpful=True
            )
        )
        recorded = len(store.unanswered(limit=10_000))
        bot = Bot(bundled_engine(), store=store, digest_handler=DigestCommands(store, bundled_kb))
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            # The curators' record of an unanswered question is lost; the answer is not.
            assert "isn't in my briefing notes" in ask(bot, "qwzx vbnm plk", command=False)
            refused = ask(bot, "digest subscribe topic maritime weekly mon 09:00")
            assert refused.startswith("Sorry, I couldn't reach the subscription store")
            assert "nothing was changed" in refused
        logged = [r for r in caplog.records if r.exc_info is not None]
        assert len(logged) == 2
        for record in logged:
            assert record.exc_info is not None and isinstance(record.exc_info[1], StoreError)
            assert_says_the_disk_is_full(record.exc_info[1], path)
        # A vote has no answer to deliver: the adapter apologises for it, and logs this.
        request = Request("slack", "U1", "C0", "who is kishida", workspace="T1")
        with pytest.raises(StoreError) as caught:
            bot.feedback(request, ("kishida",), "who is kishida", helpful=True)
        assert_says_the_disk_is_full(caught.value, path)
        assert len(store.unanswered(limit=10_000)) == recorded  # reading still works
        assert store.subscriptions()[0].channel == "C0"
    assert integrity(path) == "ok"
    with SQLiteStore(path) as store:  # room again: the same file takes writes at once
        store.add_subscription(sub("C-later"), now=NOW)
        assert store.subscriptions()[-1].channel == "C-later"


# -- what a chat user sees -------------------------------------------------------------------


def ask(bot: Bot, text: str, *, command: bool = True) -> str:
    request = Request("slack", "U1", "C0", text, is_command=command, workspace="T1", user_is_manager=True)
    reply = bot.dispatch(request)
    assert reply.text.strip()
    return reply.text


def test_while_another_process_holds_the_lock_users_get_answers_and_polite_refusals(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    populated(path, count=1)
    with SQLiteStore(path, busy_timeout=0.2) as store:
        bot = Bot(bundled_engine(), store=store, digest_handler=DigestCommands(store, bundled_kb))
        with write_lock(path):
            # Reading still works: WAL lets readers past a writer.
            assert ask(bot, "digest list").startswith("• #1 ")
            refused = ask(bot, "digest subscribe topic maritime weekly mon 09:00")
            assert refused.startswith("Sorry, I couldn't reach the subscription store")
            assert "nothing was changed" in refused
            # A question the notes can't answer is recorded for curators as a side effect;
            # the record is lost to the lock, the user's answer is not.
            assert "isn't in my briefing notes" in ask(bot, "qwzx vbnm plk", command=False)
        assert [s.channel for s in store.subscriptions()] == ["C0"]
        assert store.unanswered() == ()


def test_an_empty_file_becomes_a_new_database_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 0-byte file may be a deliberate `touch` or a truncated copy: go on, but say so."""
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="bot.store.sqlite"), SQLiteStore(path):
        pass
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(str(path) in w and "empty file" in w and "backup" in w for w in warnings), warnings
    assert channels(path) == []  # a working, empty database


def test_a_new_database_file_is_created_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.store.sqlite"), SQLiteStore(tmp_path / "new.sqlite3"):
        pass
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
