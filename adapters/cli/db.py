"""`briefbot db copy --from URL --to URL`: move a whole database between SQLite and PostgreSQL.

Either side is a SQLite path (or ``sqlite:///…``) or a ``postgresql://`` URL; passwords
come from PGPASSWORD or ~/.pgpass, never the command line. Stop briefbot (every replica)
before copying: a digest claimed during the copy would be missing from the target.
"""

from __future__ import annotations

import argparse
import sys

from adapters.cli.options import DB_GIVEN, Subcommands, database
from bot.errors import StoreError
from bot.store.location import StoreLocation

__all__ = ["register"]


def register(sub: Subcommands) -> None:
    db = sub.add_parser("db", help="move the database between SQLite and PostgreSQL")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    copy = db_sub.add_parser(
        "copy", help="copy every table into an empty database (stop briefbot first); passwords via PGPASSWORD"
    )
    copy.add_argument("--from", dest="source", type=database, required=True, help=DB_GIVEN)
    copy.add_argument("--to", dest="target", type=database, required=True, help=DB_GIVEN)
    copy.add_argument(
        "--into-nonempty",
        "--force",
        dest="into_nonempty",
        action="store_true",
        help="replace whatever the target holds (refused by default)",
    )
    db.set_defaults(before_engine=_cmd_copy)  # no knowledge base needed


def _cmd_copy(args: argparse.Namespace) -> int:
    from bot.store.copying import TableAccess, copy_tables
    from bot.store.opening import open_store

    def tables(store: object, location: StoreLocation) -> TableAccess:
        if not isinstance(store, TableAccess):
            raise StoreError(f"the store at {location} cannot be copied table by table")
        return store

    out = sys.stdout  # looked up per call: tests and pipes replace it
    source: StoreLocation = args.source
    target: StoreLocation = args.target
    if source == target:
        raise StoreError("--from and --to name the same database")
    if source.path is not None and not source.path.is_file():
        # Opening it would create an empty database, and copying nothing is no copy.
        raise StoreError(f"there is no database at {source.path}")
    with open_store(source) as reading, open_store(target) as writing:
        report = copy_tables(
            tables(reading, source), tables(writing, target), into_nonempty=args.into_nonempty
        )
    out.write(f"Copied {source} to {target}: {report}.\n")
    return 0
