"""`briefbot curate`: the curators' queue (``bot.ops.curation``), or `--handled KEY` to mark
an item dealt with; `--json` for tooling (one object per item, one per line). A 👎 item says
what its voters gave as reasons, and their latest notes."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from adapters.cli.options import (
    DB_GIVEN,
    Subcommands,
    at_threshold,
    configured_database,
    database,
    existing,
    iso_date,
)
from bot.qa.engine import Engine
from bot.votes import REASONS

__all__ = ["register"]


def register(sub: Subcommands) -> None:
    curate = sub.add_parser(
        "curate",
        help="the curators' queue: declined questions, near misses and 👎, grouped, most frequent first",
    )
    curate.add_argument("--db", type=database, default=None, help=DB_GIVEN)
    curate.add_argument(
        "--since", type=iso_date, default=None, help="only what was seen on or after YYYY-MM-DD"
    )
    curate.add_argument("--limit", type=int, default=30, help="at most this many items (default 30)")
    curate.add_argument("--all", action="store_true", help="include items marked handled")
    curate.add_argument("--json", action="store_true", help="one JSON object per item, per line")
    curate.add_argument("--handled", metavar="KEY", default=None, help="mark the item KEY handled, then exit")
    curate.set_defaults(handler=_cmd_curate)


def _cmd_curate(args: argparse.Namespace, engine: Engine) -> int:
    from bot.ops.curation import build_queue
    from bot.store.opening import open_store

    engine = at_threshold(engine, args)
    out = sys.stdout  # looked up per call: tests and pipes replace it
    since = (
        None
        if args.since is None
        else datetime(args.since.year, args.since.month, args.since.day, tzinfo=UTC)
    )

    def involved(question: str) -> tuple[str, ...]:
        return tuple(c.entry_id for c in engine.ask(question).candidates[:3])

    with open_store(existing(configured_database(args))) as store:
        if args.handled is not None:
            keys = {
                item.key
                for item in build_queue(
                    store, threshold=engine.threshold, involved=lambda q: (), include_handled=True
                )
            }
            if args.handled not in keys:
                print(
                    f"briefbot: no queue item {args.handled!r}; `briefbot curate --all` lists the keys",
                    file=sys.stderr,
                )
                return 1
            store.mark_handled(args.handled, at=datetime.now(UTC))
            out.write(f"Marked {args.handled} handled; it returns if it is asked again.\n")
            return 0
        items = build_queue(
            store, threshold=engine.threshold, involved=involved, since=since, include_handled=args.all
        )[: max(args.limit, 0)]
    if args.json:
        for item in items:
            out.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
        return 0
    if not items:
        out.write(
            "The queue is empty: nothing declined, missed or voted down"
            + (" since then.\n" if since else ".\n")
        )
        return 0
    for item in items:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(item.kinds.items()))
        out.write(
            f"[{item.key}] ×{item.count} “{item.question}”  ({kinds}; last {item.last_seen:%Y-%m-%d %H:%M})\n"
        )
        if item.variants:
            out.write("    also: " + " | ".join(f"“{v}”" for v in item.variants) + "\n")
        if item.entry_ids:
            out.write("    entries: " + ", ".join(item.entry_ids[:5]) + "\n")
        if item.reasons:
            said = ", ".join(f"{REASONS.get(code, code)} {n}" for code, n in item.reasons.items())
            out.write(f"    👎 because: {said}\n")
        if item.notes:
            out.write("    notes: " + " | ".join(f"“{note}”" for note in item.notes) + "\n")
    out.write("Mark one handled: briefbot curate --handled KEY\n")
    return 0
