"""Every ``Store`` backend, opened the same way, for the contract tests.

A backend here is a database in a temporary place and a way to open connections to
it: ``open()`` may be called more than once, and each call is another connection to the
same data (as two briefbot processes would have). ``raw()`` is everything the backend
holds, as bytes, so a test can show what never reaches it.

A backend is made by a function of the test's ``tmp_path`` and its pytest ``request``
(through which a server backend reaches the session's server fixture); one more
function and one more line in ``BACKENDS`` add a backend to every test that takes the
``backend`` or ``store`` fixture: the contract tests, and the scheduler's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from bot.store.postgres import PostgresStore
from bot.store.protocol import Store
from bot.store.sqlite import SQLiteStore
from tests.store.postgres_server import PostgresServer

__all__ = ["BACKENDS", "Backend", "backend", "postgres_backend", "sqlite_backend", "store"]

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Backend:
    name: str
    opener: Callable[[Clock | None], Store]
    raw: Callable[[], bytes]
    url: str = ""  # what open_store / BRIEFBOT_DB would be given for this database

    def open(self, clock: Clock | None = None) -> Store:
        """A new connection to this backend's database (``clock`` stamps what it records)."""
        return self.opener(clock)


def sqlite_backend(tmp_path: Path, request: pytest.FixtureRequest) -> Backend:
    path = tmp_path / "bot.sqlite3"

    def open_store(clock: Clock | None) -> Store:
        return SQLiteStore(path) if clock is None else SQLiteStore(path, clock=clock)

    def raw() -> bytes:
        # The write-ahead log holds what is not checkpointed into the file yet.
        files = (path, path.with_name(path.name + "-wal"))
        return b"".join(f.read_bytes() for f in files if f.exists())

    return Backend("sqlite", open_store, raw, str(path))


def postgres_backend(tmp_path: Path, request: pytest.FixtureRequest) -> Backend:
    """A fresh database on the session's throwaway server, dropped after the test."""
    server: PostgresServer = request.getfixturevalue("postgres_server")
    database = server.create_database()
    request.addfinalizer(lambda: server.drop_database(database))
    url = server.url(database)

    def open_store(clock: Clock | None) -> Store:
        return PostgresStore(url, clock=clock, pool_size=4)

    return Backend("postgres", open_store, lambda: server.raw(database), url)


BACKENDS: tuple[Callable[[Path, pytest.FixtureRequest], Backend], ...] = (sqlite_backend, postgres_backend)


@pytest.fixture(params=BACKENDS, ids=lambda make: make.__name__.removesuffix("_backend"))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each backend in turn (import this fixture into a test module)."""
    make = request.param
    return make(tmp_path, request)  # type: ignore[no-any-return]


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    """A store on each backend in turn."""
    with backend.open() as opened:
        yield opened
