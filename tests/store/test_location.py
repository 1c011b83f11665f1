"""Where the store lives: paths and URLs, one function choosing the backend, passwords hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import StoreError
from bot.store.location import StoreLocation, parse_location, redact
from bot.store.opening import open_store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SQLiteStore
from tests.store.postgres_server import PostgresServer


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("briefbot.sqlite3", Path("briefbot.sqlite3")),
        ("/data/briefbot.sqlite3", Path("/data/briefbot.sqlite3")),
        ("sqlite:///relative/bot.sqlite3", Path("relative/bot.sqlite3")),
        ("sqlite:////data/bot.sqlite3", Path("/data/bot.sqlite3")),
    ],
)
def test_a_path_or_a_sqlite_url_is_a_sqlite_file(text: str, path: Path) -> None:
    location = parse_location(text)
    assert location.kind == "sqlite" and location.path == path and not location.is_server


@pytest.mark.parametrize(
    "url", ["postgresql://briefbot@db:5432/briefbot", "postgres://db/briefbot?sslmode=require"]
)
def test_a_postgresql_url_is_a_server(url: str) -> None:
    location = parse_location(url)
    assert location.is_server and location.path is None and location.url == url


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("mysql://db/briefbot", "unknown scheme 'mysql://'"),
        ("sqlite://host/bot.sqlite3", "sqlite:///relative/path"),
        ("postgresql://u:hunter2@db:port/briefbot", "not a valid postgresql:// URL"),
        ("  ", "must be a file path or a database URL"),
    ],
)
def test_what_names_no_database_is_refused_without_quoting_a_password(text: str, complaint: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_location(text)
    assert complaint in str(caught.value) and "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bot:hunter2@db:5432/briefbot", "postgresql://bot:***@db:5432/briefbot"),
        ("postgresql://bot:p%40ss%3Aw%2Frd@db/briefbot", "postgresql://bot:***@db/briefbot"),
        (
            "postgresql://db/briefbot?password=hunter2&sslmode=require",
            "postgresql://db/briefbot?password=***&sslmode=require",
        ),
        ("postgresql://bot@db/briefbot", "postgresql://bot@db/briefbot"),
        ("postgresql://bot:hunter2@[::1]:5432/briefbot", "postgresql://bot:***@[::1]:5432/briefbot"),
    ],
)
def test_a_url_is_shown_with_its_password_replaced(url: str, shown: str) -> None:
    assert redact(url) == shown
    location = parse_location(url)
    assert str(location) == shown and "hunter2" not in repr(location) and "p%40ss" not in repr(location)


def test_a_password_is_noticed_wherever_the_url_holds_it() -> None:
    assert parse_location("postgresql://bot:x@db/b").has_password
    assert parse_location("postgresql://db/b?password=x").has_password
    assert not parse_location("postgresql://bot@db/b").has_password
    assert not StoreLocation.sqlite("bot.sqlite3").has_password


def test_open_store_picks_the_backend_the_location_names(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    with open_store(tmp_path / "bot.sqlite3") as local:
        assert isinstance(local, SQLiteStore)
    with open_store(f"sqlite:///{tmp_path}/other.sqlite3") as other:
        assert isinstance(other, SQLiteStore) and (tmp_path / "other.sqlite3").is_file()
    database = postgres_server.create_database()
    try:
        with open_store(postgres_server.url(database)) as shared:
            assert isinstance(shared, PostgresStore)
    finally:
        postgres_server.drop_database(database)


def test_a_server_that_is_not_there_is_a_store_error_naming_it_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://bot:hunter2@127.0.0.1:1/briefbot")
    message = str(caught.value)
    assert "postgresql://bot:***@127.0.0.1:1/briefbot" in message and "hunter2" not in message
