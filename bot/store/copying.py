"""``briefbot db copy``: every table of one store into another, SQLite and PostgreSQL alike.

Both stores are opened (so both are at the current schema), then every table the source
holds, found in its catalogue rather than listed here, is read whole and written into the
target in one transaction: parents before the tables that reference them, ids kept as
they are (so deliveries still point at their subscriptions), the per-database salt kept
(so the stored user hashes still match), and each id counter moved past the highest id
the source ever handed out (so a deleted subscription's id is not reused). A target that
already holds data is refused unless ``into_nonempty``; then its contents are replaced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.errors import StoreError

__all__ = ["CopyReport", "TableAccess", "TableRows", "copy_tables", "parents_first"]

# Written by every store when it is created (the salt): not "data" for the non-empty check.
_SEEDED = frozenset({"meta"})


@dataclass(frozen=True)
class TableRows:
    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]


@dataclass(frozen=True)
class CopyReport:
    rows: Mapping[str, int]  # table -> rows copied, in the order they were written
    replaced: bool  # the target held data, and it was replaced

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {table}" for table, n in self.rows.items())
        return counts + (" (replacing what the target held)" if self.replaced else "")


@runtime_checkable
class TableAccess(Protocol):
    """What a backend offers ``copy_tables``: its tables as rows, and a way to replace them."""

    def table_references(self) -> Mapping[str, frozenset[str]]:
        """Every table of briefbot's data (not the schema's version), with the tables it references."""
        ...

    def read_table(self, table: str, limit: int | None = None) -> TableRows:
        """The table's columns and (up to ``limit``) rows."""
        ...

    def id_counters(self) -> Mapping[str, int]:
        """Per table with an id counter, the highest id it has handed out (0 if none yet)."""
        ...

    def replace_tables(self, tables: Sequence[TableRows], counters: Mapping[str, int]) -> None:
        """In one transaction: empty every table, write ``tables`` in the order given, and
        move each id counter to at least ``counters[table]``."""
        ...


def parents_first(references: Mapping[str, frozenset[str]]) -> tuple[str, ...]:
    """The tables ordered so each comes after every table it references (by name otherwise)."""
    done: list[str] = []
    remaining = dict(references)
    while remaining:
        ready = sorted(t for t, refs in remaining.items() if all(r in done or r == t for r in refs))
        if not ready:
            raise StoreError(f"the tables {sorted(remaining)} reference each other in a circle")
        done.extend(ready)
        for table in ready:
            del remaining[table]
    return tuple(done)


def copy_tables(source: TableAccess, target: TableAccess, *, into_nonempty: bool = False) -> CopyReport:
    """Copy every table of ``source`` into ``target``; see the module docstring."""
    references = source.table_references()
    theirs = target.table_references()
    if set(references) != set(theirs):
        raise StoreError(
            "the two databases do not hold the same tables "
            f"(only in the source: {sorted(set(references) - set(theirs)) or 'none'}; "
            f"only in the target: {sorted(set(theirs) - set(references)) or 'none'}); "
            "run the same briefbot version on both"
        )
    order = parents_first(references)
    held = [t for t in order if t not in _SEEDED and target.read_table(t, limit=1).rows]
    if held and not into_nonempty:
        raise StoreError(
            f"the target already holds data (in {', '.join(held)}); nothing was copied. "
            "Copy into an empty database, or pass --into-nonempty to replace what it holds"
        )
    tables = [source.read_table(t) for t in order]
    for table in tables:
        wanted = set(target.read_table(table.name, limit=0).columns)
        if set(table.columns) != wanted:
            raise StoreError(f"the table {table.name} has other columns in the target; nothing was copied")
    target.replace_tables(tables, source.id_counters())
    return CopyReport({t.name: len(t.rows) for t in tables}, replaced=bool(held))
