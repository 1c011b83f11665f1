"""Every ``Store`` backend, opened the same way, for the contract tests.

A backend here is a database in a temporary place and a way to open connections to
it: ``open()`` may be called more than once, and each call is another connection to the
same data (as two briefbot processes would have). ``raw()`` is everything the backend
holds, as bytes, so a test can show what never reaches it. A second backend (PostgreSQL)
is one more function and one more line in ``BACKENDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.store.protocol import Store
from bot.store.sqlite import SQLiteStore

__all__ = ["BACKENDS", "Backend", "sqlite_backend"]

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Backend:
    name: str
    opener: Callable[[Clock | None], Store]
    raw: Callable[[], bytes]

    def open(self, clock: Clock | None = None) -> Store:
        """A new connection to this backend's database (``clock`` stamps what it records)."""
        return self.opener(clock)


def sqlite_backend(tmp_path: Path) -> Backend:
    path = tmp_path / "bot.sqlite3"

    def open_store(clock: Clock | None) -> Store:
        return SQLiteStore(path) if clock is None else SQLiteStore(path, clock=clock)

    def raw() -> bytes:
        # The write-ahead log holds what is not checkpointed into the file yet.
        files = (path, path.with_name(path.name + "-wal"))
        return b"".join(f.read_bytes() for f in files if f.exists())

    return Backend("sqlite", open_store, raw)


BACKENDS: tuple[Callable[[Path], Backend], ...] = (sqlite_backend,)
