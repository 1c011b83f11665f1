"""`briefbot db copy`: every table, both ways between SQLite and PostgreSQL, on real databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.cli import main
from bot.conversation import ThreadKey, Turn
from bot.store.copying import TableAccess
from bot.store.opening import open_store
from bot.store.protocol import Store
from bot.store.values import AllowedChannel, AnswerChannels, ChannelSettings, NewSubscription
from tests.digest.support import utc
from tests.store.postgres_server import PostgresServer

NOW = utc(2024, 3, 1, 9)
LEASE = timedelta(minutes=10)


def sub(channel: str, **overrides: object) -> NewSubscription:
    fields: dict[str, object] = {
        "platform": "slack",
        "workspace": "T1",
        "channel": channel,
        "kind": "month",
        "arg": "",
        "schedule": "daily 09:00",
        "tz": "Europe/Brussels",
        "created_by": "U1",
    }
    fields.update(overrides)
    return NewSubscription(**fields)  # type: ignore[arg-type]


def fill(store: Store) -> None:
    """A database with something in every table, and an id counter ahead of its rows."""
    a = store.add_subscription(sub("C-a"), now=NOW)
    b = store.add_subscription(sub("C-b", kind="new", baseline={"x": "1"}), now=NOW)
    gone = store.add_subscription(sub("C-gone"), now=NOW)
    store.claim(
        a.id,
        "2024-03-01T09:00",
        now=NOW,
        lease_until=NOW + LEASE,
        title="T",
        parts=("¶ one", "two"),
    )
    store.record_part(a.id, "2024-03-01T09:00", parts_done=1, lease_until=NOW + LEASE)
    store.claim(b.id, "2024-03-01T09:00", now=NOW, lease_until=NOW, title="N", parts=(), delivers={"x": "2"})
    store.finish(b.id, "2024-03-01T09:00", status="empty", now=NOW)
    store.claim(a.id, "2024-02-29T09:00", now=NOW, lease_until=NOW, title="T", parts=("p",))
    store.retry_later(a.id, "2024-02-29T09:00", retry_at=NOW + LEASE, error="ratelimited")
    store.set_channel_settings("discord", "C-a", ChannelSettings(private_answers=False), now=NOW)
    store.set_answer_channels("discord", "G1", AnswerChannels((AllowedChannel("C-a", "general"),)), now=NOW)
    store.remove_subscription(gone.id)  # its id (3) must never be handed out again
    for helpful in (True, False):
        store.record_feedback(
            platform="slack",
            workspace="T1",
            channel="C-a",
            user="U-1",
            question="when?",
            entry_ids=("ccdcoe-2022", "ipcp-2014"),
            helpful=helpful,
        )
    store.record_unanswered(
        platform="discord", workspace="G1", channel="C9", question="what?", confidence=0.123456789
    )
    store.remember_event("slack-event", "Ev0COPIED", timedelta(days=1))
    store.remember_turn(
        ThreadKey("slack", "C-a", "1700000000.000100"),
        Turn(("ccdcoe-2022",), "milestone", "when did japan join the cyber centre"),
        timedelta(days=1),
    )
    store.mark_handled("0123456789", at=NOW)
    store.acquire_lease("discord-gateway:1234", "replica-a", timedelta(seconds=15))


def contents(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every table, every row, in a comparable order."""
    assert isinstance(store, TableAccess)
    return {
        table: sorted(store.read_table(table).rows, key=repr) for table in sorted(store.table_references())
    }


@pytest.fixture
def pg_database(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database's URL without its password; libpq takes that from PGPASSWORD."""
    name = postgres_server.create_database()
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    yield postgres_server.bare_url(name)
    postgres_server.drop_database(name)


def copy(source: str, target: str, *extra: str) -> int:
    return main(["db", "copy", "--from", source, "--to", target, *extra])


def test_every_table_goes_from_sqlite_to_postgresql_and_back_unchanged(
    tmp_path: Path, pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, last = tmp_path / "first.sqlite3", tmp_path / "last.sqlite3"
    with open_store(first) as store:
        fill(store)
        original = contents(store)
        hashed = store.user_hash("slack", "T1", "U-1")
    assert all(original.values())  # something in every table

    assert copy(str(first), pg_database) == 0
    out = capsys.readouterr().out
    assert "2 subscriptions" in out and "3 deliveries" in out and "2 feedback" in out
    with open_store(pg_database) as server:
        assert contents(server) == original
        assert server.user_hash("slack", "T1", "U-1") == hashed  # the salt came along
        assert server.add_subscription(sub("C-new"), now=NOW).id == 4  # not the deleted 3
        server.remove_subscription(4)

    assert copy(pg_database, str(last)) == 0
    with open_store(last) as back:
        assert contents(back) == original
        assert back.user_hash("slack", "T1", "U-1") == hashed
        # The copy is a working ledger: the claimed period is still taken, the lease still runs.
        assert back.claim(1, "2024-03-01T09:00", now=NOW, lease_until=NOW, title="", parts=()) is None
        taken = back.take_over(1, "2024-03-01T09:00", now=NOW + LEASE, lease_until=NOW + 2 * LEASE)
        assert taken is not None and taken.parts == ("¶ one", "two") and taken.parts_done == 1
        assert back.add_subscription(sub("C-new"), now=NOW).id == 5  # past the server's 4 too


def test_a_target_that_holds_data_is_refused_unless_told_to_replace_it(
    tmp_path: Path, pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source.sqlite3"
    with open_store(source) as store:
        fill(store)
        original = contents(store)
    with open_store(pg_database) as server:
        server.add_subscription(sub("C-already-there"), now=NOW)
        before = contents(server)

    assert copy(str(source), pg_database) == 1
    err = capsys.readouterr().err
    assert "already holds data (in subscriptions)" in err and "--into-nonempty" in err
    with open_store(pg_database) as server:
        assert contents(server) == before  # untouched

    assert copy(str(source), pg_database, "--into-nonempty") == 0
    assert "replacing what the target held" in capsys.readouterr().out
    with open_store(pg_database) as server:
        assert contents(server) == original


def test_a_missing_source_file_is_an_error_not_an_empty_copy(
    tmp_path: Path, pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert copy(str(tmp_path / "typo.sqlite3"), pg_database) == 1
    assert "there is no database at" in capsys.readouterr().err
    assert not (tmp_path / "typo.sqlite3").exists()
