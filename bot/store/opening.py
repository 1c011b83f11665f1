"""Opening a store: the only place that chooses a backend for a location.

Apart from ``bot.store.location`` (which only reads and redacts locations) so that the
PostgreSQL backend can use the location's helpers without the two importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.errors import StoreError
from bot.store.location import StoreLocation, parse_location
from bot.store.protocol import Store

__all__ = ["open_store"]


def open_store(location: StoreLocation | str | Path, *, clock: Callable[[], datetime] | None = None) -> Store:
    """The store at ``location``: the only place that chooses a backend."""
    where = parse_location(location)
    if where.is_server:
        try:
            from bot.store.postgres import PostgresStore
        except ImportError as exc:
            raise StoreError(
                f"{where} is a PostgreSQL database, and the PostgreSQL driver is not installed: "
                "pip install 'briefbot[postgres]'"
            ) from exc
        return PostgresStore(where.url, clock=clock)
    from bot.store.sqlite import SQLiteStore

    assert where.path is not None
    return SQLiteStore(where.path) if clock is None else SQLiteStore(where.path, clock=clock)
