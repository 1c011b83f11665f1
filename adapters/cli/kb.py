"""`briefbot kb check|export|unanswered|reload` and `briefbot feedback`: the curators' tools."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from adapters.cli.options import DB_GIVEN, Subcommands, configured_database, database, existing
from bot.knowledge.base import KINDS
from bot.knowledge.citations import read_paragraphs, uncited_paragraphs, verify_evidence
from bot.qa.engine import Engine

if TYPE_CHECKING:  # the store is imported when a command reads it
    from bot.store.protocol import Store
    from bot.store.values import FeedbackRecord

__all__ = ["register", "register_feedback"]

_T = TypeVar("_T")

CONTENT_PARAGRAPHS = set(range(1, 27)) - {7, 13, 21}


def register(sub: Subcommands) -> None:
    kb = sub.add_parser("kb", help="check or export the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    check = kb_sub.add_parser("check", help="validate; print counts per kind and topic")
    check.set_defaults(validate_afresh=True)  # a check validates for real, never from the cache
    check.add_argument(
        "--source", type=Path, default=None, help="also verify evidence spans against this source document"
    )
    export = kb_sub.add_parser("export", help="every entry: one line each (id, kind, title), or --json")
    export.add_argument("--json", action="store_true", help="every entry in full, as one JSON array")
    unanswered = kb_sub.add_parser("unanswered", help="questions the bot abstained on, for curators")
    unanswered.add_argument("--db", type=database, default=None, help=DB_GIVEN)
    unanswered.add_argument("--limit", type=int, default=50)
    unanswered.set_defaults(handler=_cmd_unanswered)
    reload = kb_sub.add_parser("reload", help="validate, then make the running bot (briefbot run) reload")
    reload.set_defaults(handler=_cmd_reload)
    kb.set_defaults(handler=_cmd_kb)


def register_feedback(sub: Subcommands) -> None:
    feedback = sub.add_parser("feedback", help="what users said about answers (helpful / not)")
    feedback.add_argument("--db", type=database, default=None, help=DB_GIVEN)
    feedback.add_argument("--limit", type=int, default=50)
    feedback.set_defaults(handler=_cmd_feedback)


def _cmd_kb(args: argparse.Namespace, engine: Engine) -> int:
    kb = engine.kb
    if args.kb_command == "export":
        if args.json:
            print(json.dumps([e.to_json() for e in kb.entries], ensure_ascii=False, indent=2))
            return 0
        width = max(len(e.id) for e in kb.entries)
        for e in kb.entries:
            print(f"{e.id:<{width}}  {e.kind:<14}  {e.title}")
        return 0
    problems = []
    if args.source:
        paragraphs = read_paragraphs(args.source)
        problems = verify_evidence(kb, paragraphs)
        for missing in uncited_paragraphs(kb, CONTENT_PARAGRAPHS & set(paragraphs)):
            print(f"warning: paragraph {missing} is cited by no entry")
    print(f"{kb.directory}: {len(kb)} entries, {len(kb.documents)} source document(s)")
    print("by kind:  " + ", ".join(f"{k} {kb.count_by('kind').get(k, 0)}" for k in KINDS))
    print("by topic: " + ", ".join(f"{k} {v}" for k, v in kb.count_by("topics").items()))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} evidence problem(s)", file=sys.stderr)
        return 1
    print("ok" + (" (evidence checked against the source)" if args.source else ""))
    return 0


def _cmd_reload(args: argparse.Namespace, engine: Engine) -> int:
    # main() has just validated the same directory the running bot reads, so a broken edit
    # is reported here, in full, and the running bot is not even asked.
    # adapters.runtime.reload needs only the standard library (the core install has no aiohttp).
    from adapters.cli.config import config_for
    from adapters.runtime.reload import reload_running

    return reload_running(config_for(args))


def _print_recent(
    args: argparse.Namespace,
    read: Callable[[Store], tuple[_T, ...]],
    *,
    none: str,
    heading: Callable[[tuple[_T, ...]], str],
    line: Callable[[_T], str],
) -> int:
    """Print what ``read`` finds in the existing database ``--db``: a heading, then a line each."""
    from bot.store.opening import open_store

    out = sys.stdout  # looked up per call: tests and pipes replace it
    with open_store(existing(configured_database(args))) as store:
        rows = read(store)
    out.write((heading(rows) if rows else none) + "\n")
    for row in rows:
        out.write(line(row) + "\n")
    return 0


def _cmd_feedback(args: argparse.Namespace, engine: Engine) -> int:
    def heading(records: tuple[FeedbackRecord, ...]) -> str:
        helpful = sum(r.helpful for r in records)
        return f"{len(records)} most recent: {helpful} helpful, {len(records) - helpful} not helpful"

    def line(r: FeedbackRecord) -> str:
        verdict = "helpful    " if r.helpful else "not helpful"
        entries = ", ".join(r.entry_ids) or "-"
        return f"{r.at:%Y-%m-%d %H:%M} {verdict} {r.platform}:{r.channel} “{r.question}” -> {entries}"

    return _print_recent(
        args,
        lambda store: store.feedback(limit=args.limit),
        none="No feedback yet.",
        heading=heading,
        line=line,
    )


def _cmd_unanswered(args: argparse.Namespace, engine: Engine) -> int:
    return _print_recent(
        args,
        lambda store: store.unanswered(limit=args.limit),
        none="No unanswered questions recorded.",
        heading=lambda questions: (
            f"{len(questions)} most recent questions the bot abstained on (confidence in brackets):"
        ),
        line=lambda q: f"{q.at:%Y-%m-%d %H:%M} [{q.confidence:.2f}] {q.platform}:{q.channel} “{q.question}”",
    )
