"""`briefbot digest preview|run-due`: a digest printed, or one scheduler pass.

``run-due`` posts through the console's poster, which prints what the scheduler posts, so
the whole digest path (store, claim, post, done) runs without a chat platform.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import UTC, date, datetime

from adapters.cli.options import (
    DB_GIVEN,
    Subcommands,
    configured_database,
    database,
    existing,
    iso_date,
    iso_instant,
)
from bot.qa.engine import Engine

__all__ = ["register"]


# The digest machinery (store, scheduler, schedules, asyncio) is imported by the handlers, so
# that `briefbot ask` does not load it at start-up.


def register(sub: Subcommands) -> None:
    digest = sub.add_parser("digest", help="preview a digest, or run one scheduler pass")
    digest_sub = digest.add_subparsers(dest="digest_command", required=True)
    preview = digest_sub.add_parser("preview", help="print a digest: month | period ARG | topic ARG")
    preview.add_argument("kind", help="month, period, topic or new")
    preview.add_argument("arg", nargs="*", help="the period or topic")
    preview.add_argument("--date", type=iso_date, default=None, help="compose as on this day (YYYY-MM-DD)")
    run_due = digest_sub.add_parser("run-due", help="one scheduler pass; console digests are printed")
    run_due.add_argument("--db", type=database, default=None, help=DB_GIVEN)
    run_due.add_argument(
        "--now", type=iso_instant, default=None, help="act as at this ISO date-time (naive means UTC)"
    )
    digest.set_defaults(handler=_cmd_digest)


def _cmd_digest(args: argparse.Namespace, engine: Engine) -> int:
    return _preview(args, engine) if args.digest_command == "preview" else _run_due(args, engine)


def _preview(args: argparse.Namespace, engine: Engine) -> int:
    from adapters.console import ConsolePoster, render_reply
    from bot.digests.compose import DigestError, compose, parse_spec

    kb = engine.kb
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
    sys.stdout.write(render_reply(compose(spec, kb, on=on).to_reply(ConsolePoster.message_limit)) + "\n")
    return 0


def _run_due(args: argparse.Namespace, engine: Engine) -> int:
    import asyncio

    from adapters.console import PLATFORM, ConsolePoster
    from bot.digests.scheduler import DatabaseClock, Scheduler
    from bot.store.opening import open_store

    kb = engine.kb
    out = sys.stdout  # looked up per call: tests and pipes replace it
    # A scheduler pass on a mistyped path would create an empty database and report "nothing due".
    with open_store(existing(configured_database(args))) as store:
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
