"""Console tooling for digests, feedback and unanswered questions.

`briefbot digest preview|run-due`, `briefbot feedback`, `briefbot kb unanswered` and
`briefbot chat --db`. ``ConsolePoster`` is the console's ``Poster``: it prints what the
scheduler posts, so the whole digest path (store, claim, post, done) runs without a chat
platform.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from bot.digests.commands import DigestCommands
from bot.digests.compose import DigestError, compose, parse_spec
from bot.digests.poster import ChannelRef
from bot.digests.scheduler import DatabaseClock, Scheduler
from bot.dispatch import Bot
from bot.errors import StoreError
from bot.knowledge.base import KnowledgeBase
from bot.messages import Reply
from bot.qa.engine import Engine
from bot.store.location import StoreLocation, open_store, parse_location

__all__ = [
    "ConsolePoster",
    "chat_with_store",
    "digest_preview",
    "digest_run_due",
    "list_feedback",
    "list_unanswered",
]

PLATFORM = "console"


class ConsolePoster:
    """Prints each post with the channel it was meant for."""

    platform = PLATFORM
    # A terminal takes any length; parts this long keep a long digest in pieces a
    # screen can show, numbered as on the chat platforms.
    message_limit = 3000

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        from adapters.console import render_reply  # the console's one renderer

        self.out.write(f"--> {channel.platform}:{channel.channel}\n{render_reply(reply)}\n\n")
        self.out.flush()


def _existing(db: str | Path | StoreLocation) -> StoreLocation:
    # A reader must not create an empty database at a mistyped path and report "nothing".
    location = parse_location(db)
    if location.path is not None and not location.path.is_file():
        raise StoreError(f"there is no database at {location.path}")
    return location


def digest_preview(args: argparse.Namespace, kb: KnowledgeBase, out: TextIO | None = None) -> int:
    out = out or sys.stdout  # looked up per call: tests and pipes replace it
    from adapters.console import render_reply

    on: date = args.date or datetime.now(UTC).date()
    try:
        spec = parse_spec(args.kind, " ".join(args.arg), kb, today=on)
    except DigestError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 2
    if spec.kind == "new":
        print(
            "briefbot: a `new` digest lists what changed since a channel's last digest, so it needs a "
            "subscription: subscribe in `briefbot chat --db PATH`, then run `briefbot digest run-due`.",
            file=sys.stderr,
        )
        return 2
    out.write(render_reply(compose(spec, kb, on=on).to_reply(ConsolePoster.message_limit)) + "\n")
    return 0


def digest_run_due(args: argparse.Namespace, kb: KnowledgeBase, out: TextIO | None = None) -> int:
    out = out or sys.stdout  # looked up per call: tests and pipes replace it
    with open_store(args.db) as store:
        scheduler = Scheduler(store, lambda: kb, {PLATFORM: ConsolePoster(out)}, DatabaseClock(store))
        outcomes = asyncio.run(scheduler.run_due(args.now))
        elsewhere = Counter(s.platform for s in store.subscriptions() if s.platform != PLATFORM)
    for outcome in outcomes:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        out.write(f"#{outcome.subscription_id} {outcome.period_key}: {outcome.status}{detail}\n")
    if not outcomes:
        out.write("Nothing is due.\n")
    if elsewhere:
        # Claiming them here would mark them delivered without reaching their channel.
        counts = ", ".join(f"{n} on {platform}" for platform, n in sorted(elsewhere.items()))
        out.write(f"Left to their own adapters: {counts}.\n")
    return 1 if any(o.status in ("failed", "error") for o in outcomes) else 0


def list_feedback(args: argparse.Namespace, kb: KnowledgeBase, out: TextIO | None = None) -> int:
    out = out or sys.stdout  # looked up per call: tests and pipes replace it
    with open_store(_existing(args.db)) as store:
        records = store.feedback(limit=args.limit)
    if not records:
        out.write("No feedback yet.\n")
        return 0
    helpful = sum(r.helpful for r in records)
    out.write(f"{len(records)} most recent: {helpful} helpful, {len(records) - helpful} not helpful\n")
    for r in records:
        verdict = "helpful    " if r.helpful else "not helpful"
        entries = ", ".join(r.entry_ids) or "-"
        out.write(f"{r.at:%Y-%m-%d %H:%M} {verdict} {r.platform}:{r.channel} “{r.question}” -> {entries}\n")
    return 0


def list_unanswered(args: argparse.Namespace, kb: KnowledgeBase, out: TextIO | None = None) -> int:
    out = out or sys.stdout  # looked up per call: tests and pipes replace it
    with open_store(_existing(args.db)) as store:
        questions = store.unanswered(limit=args.limit)
    if not questions:
        out.write("No unanswered questions recorded.\n")
        return 0
    out.write(f"{len(questions)} most recent questions the bot abstained on (confidence in brackets):\n")
    for q in questions:
        out.write(f"{q.at:%Y-%m-%d %H:%M} [{q.confidence:.2f}] {q.platform}:{q.channel} “{q.question}”\n")
    return 0


def chat_with_store(args: argparse.Namespace, engine: Engine) -> int:
    """`briefbot chat --db PATH`: feedback, unanswered questions and digest commands stored."""
    from adapters.console import run_chat

    kb = engine.kb
    with open_store(args.db) as store:
        commands = DigestCommands(store, lambda: kb, message_limits={PLATFORM: ConsolePoster.message_limit})
        bot = Bot(engine, store=store, digest_handler=commands)
        return run_chat(bot, sys.stdin, sys.stdout, prompt=sys.stdin.isatty() or args.prompt)
