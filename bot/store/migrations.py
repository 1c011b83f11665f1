"""The database schema as data: numbered migrations, applied in order, each exactly once.

A backend records the versions it has applied in a ``schema_version`` table
(``version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL``) and, when it opens a
database, runs ``pending(current)`` in one transaction. ``SQLiteStore`` does so in
``bot.store.sqlite.migrate``; ``PostgresStore`` in ``bot.store.postgres.migrate``, under an
advisory lock, with the statements below spelt its way (``bot.store.postgres._SPELLING``).

The statements are plain SQL, and most of them run unchanged on PostgreSQL. These are
written in SQLite's dialect, and a PostgreSQL backend needs its own spelling of them
(statements are numbered ``version.index``, from 0):

- 1.1 ``lower(hex(randomblob(16)))``: the per-database salt; PostgreSQL has no
  ``randomblob`` (``replace(gen_random_uuid()::text, '-', '')`` is 32 random hex digits).
- 1.2 ``INTEGER PRIMARY KEY AUTOINCREMENT``: ids never reused; PostgreSQL's
  ``BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY`` promises the same.
- 1.5, 1.6 ``id INTEGER PRIMARY KEY``: SQLite's rowid alias numbers rows by itself;
  PostgreSQL needs an identity column for that.
- 1.6 ``confidence REAL``: a double in SQLite, a 4-byte float in PostgreSQL, which
  needs ``DOUBLE PRECISION`` to keep the same value.
- 2.1 to 2.4: SQLite cannot alter a CHECK constraint, so ``deliveries`` is rebuilt
  (create, copy, drop, rename). The statements are valid PostgreSQL too and give the
  same table, but PostgreSQL can instead add the columns and swap the constraint in
  place (``ALTER TABLE … DROP CONSTRAINT …, ADD CHECK …``).

Migrations from 3 on are portable as written: plain CREATE TABLE and CREATE INDEX with
INTEGER, BIGINT and TEXT columns, no AUTOINCREMENT, ``randomblob`` or PRAGMA.

Everything else (types TEXT, INTEGER, REAL; CHECK, UNIQUE, REFERENCES … ON DELETE
CASCADE; CASE, coalesce) is portable. Timestamps are stored as fixed-width UTC text
(``2024-03-01T09:00:00.000000Z``) whose text order is their time order, on any backend.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import StoreError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "pending"]


@dataclass(frozen=True)
class Migration:
    version: int
    purpose: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "subscriptions, deliveries, feedback and unanswered questions",
        (
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            # The salt makes the stored user hashes useless outside this database.
            "INSERT INTO meta (key, value) VALUES ('user_salt', lower(hex(randomblob(16))))",
            # AUTOINCREMENT: an id is never reused, so a new subscription cannot inherit
            # the delivery history of a deleted one.
            """CREATE TABLE subscriptions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
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
            "CREATE INDEX subscriptions_by_channel ON subscriptions (platform, workspace, channel)",
            """CREATE TABLE deliveries (
                subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
                period_key TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('claimed', 'done', 'failed')),
                claimed_at TEXT NOT NULL,
                posted_at TEXT,
                attempts INTEGER NOT NULL DEFAULT 1,
                UNIQUE (subscription_id, period_key)
            )""",
            """CREATE TABLE feedback (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                platform TEXT NOT NULL,
                workspace TEXT NOT NULL,
                channel TEXT NOT NULL,
                user_hash TEXT NOT NULL,
                question TEXT NOT NULL,
                entry_ids TEXT NOT NULL,
                helpful INTEGER NOT NULL CHECK (helpful IN (0, 1))
            )""",
            """CREATE TABLE unanswered (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                platform TEXT NOT NULL,
                workspace TEXT NOT NULL,
                channel TEXT NOT NULL,
                question TEXT NOT NULL,
                confidence REAL NOT NULL
            )""",
        ),
    ),
    Migration(
        2,
        "delivery leases, retries and per-part progress; baselines for `new` digests",
        (
            "ALTER TABLE subscriptions ADD COLUMN baseline TEXT",
            # SQLite cannot alter a CHECK constraint, so the table is rebuilt (the
            # documented create-copy-drop-rename procedure) to admit the 'empty' status.
            """CREATE TABLE deliveries_v2 (
                subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
                period_key TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('claimed', 'done', 'empty', 'failed')),
                claimed_at TEXT NOT NULL,
                posted_at TEXT,
                attempts INTEGER NOT NULL DEFAULT 1,
                lease_until TEXT NOT NULL,
                retry_at TEXT,
                recovered INTEGER NOT NULL DEFAULT 0,
                title TEXT NOT NULL DEFAULT '',
                parts TEXT NOT NULL DEFAULT '[]',
                parts_done INTEGER NOT NULL DEFAULT 0,
                pending_baseline TEXT,
                last_error TEXT,
                UNIQUE (subscription_id, period_key)
            )""",
            # A version-1 claim has no lease and no stored text: it ends as 'failed' rather
            # than being re-posted blind.
            """INSERT INTO deliveries_v2 (subscription_id, period_key, status, claimed_at, posted_at,
                    attempts, lease_until, last_error)
                SELECT subscription_id, period_key,
                    CASE status WHEN 'claimed' THEN 'failed' ELSE status END,
                    claimed_at, posted_at, attempts, claimed_at,
                    CASE status WHEN 'claimed' THEN 'unfinished when the database was upgraded' END
                FROM deliveries""",
            "DROP TABLE deliveries",
            "ALTER TABLE deliveries_v2 RENAME TO deliveries",
            "CREATE INDEX deliveries_open ON deliveries (status, lease_until)",
        ),
    ),
    Migration(
        3,
        "platform deliveries already handled (event ids, request signatures), until they expire",
        (
            # One row per key a platform might deliver twice; the primary key is what lets
            # exactly one of two processes remember it first.
            """CREATE TABLE remembered_events (
                namespace TEXT NOT NULL,
                event_key TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                PRIMARY KEY (namespace, event_key)
            )""",
            "CREATE INDEX remembered_events_expiry ON remembered_events (expires_at)",
        ),
    ),
    Migration(
        4,
        "what each subscription has delivered, so no digest repeats an unchanged entry",
        (
            # The content hash each entry had when the subscription last delivered it. A
            # `new` digest's first baseline stays in subscriptions.baseline (the notes as
            # they were when it subscribed); these rows record everything posted since.
            """CREATE TABLE delivered_entries (
                subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
                entry_id TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                PRIMARY KEY (subscription_id, entry_id)
            )""",
            # 1: post one line saying there is nothing new, rather than nothing at all.
            "ALTER TABLE subscriptions ADD COLUMN say_when_empty INTEGER NOT NULL DEFAULT 0",
        ),
    ),
    Migration(
        5,
        "the recent turns of each conversation thread, so follow-ups are read in context",
        (
            # One row per answered message; ``turn`` numbers a thread's turns from 1, so
            # "the newest few" needs no clock. Only what reading a follow-up needs: the
            # entries given (JSON list), the answer's kind, the question in the base's words.
            """CREATE TABLE thread_turns (
                platform TEXT NOT NULL,
                channel TEXT NOT NULL,
                thread TEXT NOT NULL,
                turn INTEGER NOT NULL,
                expires_at TEXT NOT NULL,
                entry_ids TEXT NOT NULL,
                kind TEXT NOT NULL,
                question TEXT NOT NULL,
                PRIMARY KEY (platform, channel, thread, turn)
            )""",
            "CREATE INDEX thread_turns_expiry ON thread_turns (expires_at)",
        ),
    ),
    Migration(
        6,
        "each channel's settings (answers private or public by default)",
        (
            # One row per channel whose managers changed something; absent: the defaults.
            """CREATE TABLE channel_settings (
                platform TEXT NOT NULL,
                channel TEXT NOT NULL,
                private_answers INTEGER NOT NULL CHECK (private_answers IN (0, 1)),
                updated_at TEXT NOT NULL,
                PRIMARY KEY (platform, channel)
            )""",
        ),
    ),
    Migration(
        7,
        "items of the curators' queue (briefbot curate) marked handled",
        (
            # One row per queue item (a group of similar questions, by its key); the item
            # comes back when it is seen again after handled_at.
            """CREATE TABLE curation_handled (
                item_key TEXT PRIMARY KEY,
                handled_at TEXT NOT NULL
            )""",
        ),
    ),
    Migration(
        8,
        "auto-answer per channel, and each workspace's list of channels the bot answers in",
        (
            # 1: questions posted without a mention are answered when the answer is confident.
            "ALTER TABLE channel_settings ADD COLUMN auto_answer INTEGER NOT NULL DEFAULT 0"
            " CHECK (auto_answer IN (0, 1))",
            # One row per allowed channel; a workspace without rows: every channel. The name
            # is only a label for showing the list, as the channel was called when allowed.
            """CREATE TABLE answer_channels (
                platform TEXT NOT NULL,
                workspace TEXT NOT NULL,
                channel TEXT NOT NULL,
                name TEXT NOT NULL,
                position INTEGER NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (platform, workspace, channel)
            )""",
        ),
    ),
    Migration(
        9,
        "the reason a 👎 gave (a code and a short note), kept on its vote",
        (
            # NULL: no reason given (yet). No CHECK on the codes: SQLite cannot change one
            # later, and the store admits only bot.votes.REASONS anyway.
            "ALTER TABLE feedback ADD COLUMN reason TEXT",
            "ALTER TABLE feedback ADD COLUMN note TEXT NOT NULL DEFAULT ''",
            # A reason finds its vote by the voter, where and on what (Store.record_feedback_reason).
            "CREATE INDEX feedback_by_voter ON feedback (user_hash, channel)",
        ),
    ),
    Migration(
        10,
        "named leases (the Discord gateway: one replica connected at a time)",
        (
            # One row per lease ever taken; the primary key is what lets one holder in. A
            # lease is free once expires_at has passed by the store's clock, or its row is
            # gone (released).
            """CREATE TABLE leases (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                acquired_at TEXT NOT NULL,
                expires_at TEXT NOT NULL
            )""",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def pending(current: int, target: int = SCHEMA_VERSION) -> tuple[Migration, ...]:
    """The migrations that bring a database at version ``current`` to ``target``, in order.

    A database newer than this code is refused rather than used: its data may mean
    something this briefbot does not know.
    """
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"the database has schema version {current}, newer than this briefbot understands "
            f"({SCHEMA_VERSION}); upgrade briefbot rather than risk the data"
        )
    # By version, not position: numbers are handed out per branch, so one may be missing
    # until the branches meet.
    return tuple(m for m in MIGRATIONS if current < m.version <= target)
