"""`briefbot db copy --from URL --to URL`: move a whole database between SQLite and PostgreSQL.

Either side is a SQLite path (or ``sqlite:///…``) or a ``postgresql://`` URL; passwords
come from PGPASSWORD or ~/.pgpass, never the command line. Stop briefbot (every replica)
before copying: a digest claimed during the copy would be missing from the target.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from bot.errors import StoreError
from bot.store.copying import TableAccess, copy_tables
from bot.store.location import StoreLocation, open_store

__all__ = ["copy_database"]


def _tables(store: object, location: StoreLocation) -> TableAccess:
    if not isinstance(store, TableAccess):
        raise StoreError(f"the store at {location} cannot be copied table by table")
    return store


def copy_database(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout  # looked up per call: tests and pipes replace it
    source: StoreLocation = args.source
    target: StoreLocation = args.target
    if source == target:
        raise StoreError("--from and --to name the same database")
    if source.path is not None and not source.path.is_file():
        # Opening it would create an empty database, and copying nothing is no copy.
        raise StoreError(f"there is no database at {source.path}")
    with open_store(source) as reading, open_store(target) as writing:
        report = copy_tables(
            _tables(reading, source), _tables(writing, target), into_nonempty=args.into_nonempty
        )
    out.write(f"Copied {source} to {target}: {report}.\n")
    return 0
