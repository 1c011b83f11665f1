"""The `briefbot` command line: a chat console, one-shot and batch answers, tooling.

Like every adapter it only translates: lines of text become ``Request`` values for
``Bot.dispatch`` and ``Reply`` values become printed text. It is also the end-to-end
harness the tests drive (``run_chat`` takes any input and output stream).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from bot.dispatch import Bot, reply_from_answer
from bot.errors import BriefbotError, KnowledgeError
from bot.knowledge.base import KINDS
from bot.knowledge.citations import read_paragraphs, uncited_paragraphs, verify_evidence
from bot.messages import Reply, Request
from bot.ops.prepared import prepare
from bot.qa.answer import Answer
from bot.qa.engine import Engine
from bot.qa.evaluation import default_dev_set, evaluate, load_dev_set, sweep
from bot.qa.matcher import COVERAGE_SHARE, FUZZY_SHARE
from bot.store.location import StoreLocation, parse_location

__all__ = ["main", "render_reply", "run_chat"]

# Read from the matcher's own weights, so the explanation cannot drift from the scoring.
SCORE_FORMULA = (
    "score = the ranker's belief that it answers; under it the lexical match "
    f"({FUZZY_SHARE:.2f}·fuzzy + {COVERAGE_SHARE:.2f}·coverage + "
    f"{1 - FUZZY_SHARE - COVERAGE_SHARE:.2f}·precision), the shape checks' changes, and each stage's evidence"
)

_log = logging.getLogger(__name__)

PROMPT = "you> "
CONTENT_PARAGRAPHS = set(range(1, 27)) - {7, 13, 21}


def render_reply(reply: Reply) -> str:
    """A reply as plain text for a terminal."""
    lines = []
    if reply.title and reply.kind not in ("answer",):
        lines.append(f"== {reply.title} ==")
    lines.append(reply.text)
    for name, value in reply.fields:
        lines.append(f"{name}: {value}")
    if reply.source_line:
        lines.append(f"  — {reply.source_line}")
    if reply.suggestions:
        lines.append("  Related: " + " · ".join(s.title for s in reply.suggestions))
    return "\n".join(lines)


def run_chat(bot: Bot, lines: Iterable[str], out: TextIO, prompt: bool = True) -> int:
    """Answer each line until EOF or `quit`; `/nato …` lines are commands."""
    if prompt:
        out.write(
            f"briefbot: NATO–Japan briefing notes (to {bot.engine.kb.notes_end.human()}). Ask a question, "
            "or type /nato help. Ctrl-D or 'quit' to leave.\n"
        )
        out.write(PROMPT)
        out.flush()
    for line in lines:
        text = line.rstrip("\n")
        if text.strip().casefold() in ("quit", "exit", ":q"):
            break
        if text.strip():
            is_command = text.lstrip().startswith("/")
            request = Request(
                "console", "console-user", "console", text, is_command=is_command, user_is_manager=True
            )
            try:
                reply = bot.dispatch(request)
                out.write(render_reply(reply) + "\n")
            except Exception:  # the console keeps going whatever one line does
                _log.exception("failed to answer %r", text[:80])
                out.write("Sorry, something went wrong answering that. It has been logged.\n")
        if prompt:
            out.write(PROMPT)
        out.flush()
    if prompt:
        out.write("\n")
    return 0


def _explain(engine: Engine, question: str, answer: Answer) -> str:
    message = engine.reader.read(question)
    query = engine.matcher.analyse(message.question)
    lines = [
        f"intent: {answer.intent}  abstained: {answer.abstained}  "
        f"confidence: {answer.confidence:.3f}  threshold: {engine.threshold:.2f}",
        f"read as: “{message.question}”"
        + (f"  (dropped: {' | '.join(message.dropped)})" if message.dropped else "")
        + (f"  (wants: {message.wants})" if message.wants else ""),
        f"understood as: {' '.join(query.terms) or '(nothing)'}",
    ]
    if query.corrected:
        lines.append("spelling: " + ", ".join(f"{a}→{b}" for a, b in query.corrected))
    if query.unknown:
        lines.append("unknown words: " + ", ".join(query.unknown))
    if answer.entry_ids:
        lines.append(f"matched: {', '.join(answer.entry_ids[:5])}")
    if answer.candidates:
        lines.append(f"candidates ({SCORE_FORMULA}):")
        for c in answer.candidates:
            lines.append(
                f"  {c.score:.3f}  {c.entry_id:<44} fuzzy {c.fuzzy:5.1f}  "
                f"coverage {c.coverage:.2f}  via “{c.phrasing}”"
            )
            if c.adjustments and c.match is not None:
                changes = "  ".join(f"{amount:+.2f} {reason}" for reason, amount in c.adjustments)
                lines.append(f"         match {c.match:.3f}  {changes}")
            if c.stages:
                lines.append("         " + "  ".join(f"{name} {value:g}" for name, value in c.stages))
    return "\n".join(lines)


def _answer_json(answer: Answer) -> dict[str, object]:
    return {
        "answer": answer.text,
        "abstained": answer.abstained,
        "confidence": answer.confidence,
        "entry_ids": list(answer.entry_ids),
        "intent": answer.intent,
        "sources": [
            {"doc": s.doc, "paragraphs": list(s.paragraphs), "as_of": s.as_of} for s in answer.sources
        ],
        "suggestions": [s.entry_id for s in answer.suggestions],
    }


# -- subcommands ---------------------------------------------------------------


def _cmd_chat(args: argparse.Namespace, engine: Engine) -> int:
    bot = Bot(_at_threshold(engine, args))
    interactive = sys.stdin.isatty()
    return run_chat(bot, sys.stdin, sys.stdout, prompt=interactive or args.prompt)


def _cmd_ask(args: argparse.Namespace, engine: Engine) -> int:
    engine = _at_threshold(engine, args)
    if args.json:
        source = sys.stdin if args.question in (None, "-") else [args.question]
        for line in source:
            question = line.rstrip("\n")
            try:
                payload = _answer_json(engine.ask(question))
            except Exception as exc:  # one bad line must not break the one-line-per-input contract
                _log.exception("failed to answer a batch line")
                payload = {
                    "answer": "",
                    "abstained": True,
                    "confidence": 0.0,
                    "entry_ids": [],
                    "error": type(exc).__name__,
                }
            sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return 0
    if not args.question or args.question == "-":
        print(
            'Give a question, e.g. briefbot ask "who is Oana Lungescu?" (or --json - for batch).',
            file=sys.stderr,
        )
        return 2
    answer = engine.ask(args.question)
    print(render_reply(reply_from_answer(answer, args.question)))
    if args.explain:
        print(_explain(engine, args.question, answer))
    return 0


def _cmd_eval(args: argparse.Namespace, engine: Engine) -> int:
    engine = _at_threshold(engine, args)
    cases = load_dev_set(args.dev_set)
    report = evaluate(engine, cases)
    print(
        f"dev set: {args.dev_set} ({len(report.in_scope)} in scope, {len(report.out_of_scope)} out of scope)"
    )
    print(
        f"threshold {engine.threshold:.2f}: in-scope accuracy {report.in_scope_accuracy:.1%}, "
        f"out-of-scope abstention {report.abstention_rate:.1%}"
    )
    print("\nby kind:")
    for kind, (right, total) in report.by_kind().items():
        print(f"  {kind:<14} {right:>4}/{total:<4} {right / total:.1%}")
    print("\nthreshold sweep:")
    print("  threshold  in-scope  abstention")
    steps = [round(0.04 + 0.02 * i, 2) for i in range(24)]
    for item in sweep(engine, cases, steps):
        mark = "  <- current" if abs(item.threshold - engine.threshold) < 1e-9 else ""
        print(f"  {item.threshold:9.2f}  {item.in_scope_accuracy:8.1%}  {item.abstention_rate:10.1%}{mark}")
    if args.failures:
        print("\nfailures:")
        for outcome in report.failures():
            c = outcome.answer.candidates[0] if outcome.answer.candidates else None
            top = f"{c.entry_id} {c.score:.3f}" if c else "-"
            print(
                f"  [{outcome.case.kind}] {outcome.case.question!r} -> "
                f"{'ABSTAIN' if outcome.answer.abstained else ','.join(outcome.answer.entry_ids[:2])}"
                f" (top {top}) missing {list(outcome.missing)}"
            )
    return 0


def _cmd_kb(args: argparse.Namespace, engine: Engine) -> int:
    kb = engine.kb
    if args.kb_command == "export":
        print(json.dumps([e.to_json() for e in kb.entries], ensure_ascii=False, indent=2))
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


def _cmd_run(args: argparse.Namespace, engine: Engine) -> int:
    from adapters.runtime import config_for, run

    return run(config_for(args), engine.kb, engine=engine)


def _cmd_kb_reload(args: argparse.Namespace, engine: Engine) -> int:
    # main() has just validated the same directory the running bot reads, so a broken edit
    # is reported here, in full, and the running bot is not even asked.
    from adapters.runtime import config_for, reload_running

    return reload_running(config_for(args))


def _cmd_config_show(args: argparse.Namespace) -> int:
    from adapters.console_config import show_config
    from adapters.runtime import config_for

    print(show_config(config_for(args), os.environ))
    return 0


def _cmd_slack(args: argparse.Namespace, engine: Engine) -> int:
    # Imported here so the console runs without the optional Slack dependencies.
    from adapters.slack import run_slack

    return run_slack(args, engine.kb, engine=engine)


def _cmd_discord(args: argparse.Namespace, engine: Engine) -> int:
    from adapters.discord import run_discord

    return run_discord(args, engine.kb, engine=engine)


def _cmd_chat_maybe_store(args: argparse.Namespace, engine: Engine) -> int:
    if args.db is None:
        return _cmd_chat(args, engine)
    from adapters.console_digests import chat_with_store

    return chat_with_store(args, _at_threshold(engine, args))


def _cmd_digest(args: argparse.Namespace, engine: Engine) -> int:
    from adapters.console_digests import digest_preview, digest_run_due

    kb = engine.kb
    return digest_preview(args, kb) if args.digest_command == "preview" else digest_run_due(args, kb)


def _cmd_feedback(args: argparse.Namespace, engine: Engine) -> int:
    from adapters.console_digests import list_feedback

    return list_feedback(args, engine.kb)


def _cmd_kb_unanswered(args: argparse.Namespace, engine: Engine) -> int:
    from adapters.console_digests import list_unanswered

    return list_unanswered(args, engine.kb)


def _at_threshold(engine: Engine, args: argparse.Namespace) -> Engine:
    """The prepared engine (built at the default threshold) at the one ``--threshold`` asks for."""
    threshold = getattr(args, "threshold", None)
    return engine if threshold is None else engine.with_threshold(threshold)


def _database(text: str) -> StoreLocation:
    """argparse type: a SQLite path, sqlite:///path or postgresql:// URL, without a password."""
    try:
        location = parse_location(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"the database {exc}") from None
    if location.has_password:
        raise argparse.ArgumentTypeError(
            "a password on the command line is visible to every user of the machine: set PGPASSWORD "
            "(or use a ~/.pgpass file), or give the whole URL in BRIEFBOT_DB"
        )
    return location


def _iso_date(text: str) -> date:
    """argparse type: YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD") from None


def _iso_instant(text: str) -> datetime:
    """argparse type: an ISO 8601 date-time; without an offset it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date-time; use ISO 8601, e.g. 2024-07-01T09:00 or 2024-07-01T09:00+02:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_DB_HELP = "database: a SQLite file (default: briefbot.sqlite3) or a postgresql:// URL"
_DB_GIVEN = "database: a SQLite file or a postgresql:// URL"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefbot", description="NATO–Japan briefing bot.")
    parser.add_argument(
        "--knowledge", type=Path, default=None, help="knowledge directory (default: the bundled one)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="settings file (default: $BRIEFBOT_CONFIG, else ./briefbot.toml if present)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run on every platform whose credentials are set (Slack, Discord)")
    run.add_argument("--db", type=_database, default=None, help=_DB_HELP)
    run.add_argument("--threshold", type=float, default=None)
    run.set_defaults(handler=_cmd_run, uses_config=True)

    config = sub.add_parser("config", help="show the effective configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    config_sub.add_parser("show", help="every setting, its value and where it came from; secrets redacted")

    sub.add_parser(
        "health",
        help="exit 0 if the briefbot running here answers /healthz with 200 (the port `run` serves on)",
    )

    chat = sub.add_parser("chat", help="interactive session in the terminal")
    chat.add_argument("--prompt", action="store_true", help="show the prompt even when not a TTY")
    chat.add_argument("--threshold", type=float, default=None)
    chat.add_argument(
        "--db",
        type=_database,
        default=None,
        help="database (a SQLite file or postgresql:// URL): store feedback and enable /nato digest",
    )
    chat.set_defaults(handler=_cmd_chat_maybe_store)

    ask = sub.add_parser("ask", help="answer one question, or a batch with --json -")
    ask.add_argument("question", nargs="?", default=None)
    ask.add_argument("--json", action="store_true", help="JSON lines; with '-' read questions from stdin")
    ask.add_argument("--explain", action="store_true", help="show the match, scores and runner-ups")
    ask.add_argument("--threshold", type=float, default=None)
    ask.set_defaults(handler=_cmd_ask)

    ev = sub.add_parser("eval", help="accuracy on the dev set, per kind, with a threshold sweep")
    ev.add_argument("--dev-set", type=Path, default=default_dev_set())
    ev.add_argument("--threshold", type=float, default=None)
    ev.add_argument("--failures", action="store_true", help="list every question answered wrongly")
    ev.set_defaults(handler=_cmd_eval)

    kb = sub.add_parser("kb", help="check or export the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    check = kb_sub.add_parser("check", help="validate; print counts per kind and topic")
    check.set_defaults(validate_afresh=True)  # a check validates for real, never from the cache
    check.add_argument(
        "--source", type=Path, default=None, help="also verify evidence spans against this source document"
    )
    export = kb_sub.add_parser("export", help="every entry as JSON")
    export.add_argument("--json", action="store_true", default=True)
    unanswered = kb_sub.add_parser("unanswered", help="questions the bot abstained on, for curators")
    unanswered.add_argument("--db", type=_database, required=True, help=_DB_GIVEN)
    unanswered.add_argument("--limit", type=int, default=50)
    unanswered.set_defaults(handler=_cmd_kb_unanswered)
    reload = kb_sub.add_parser("reload", help="validate, then make the running bot (briefbot run) reload")
    reload.set_defaults(handler=_cmd_kb_reload, uses_config=True)
    kb.set_defaults(handler=_cmd_kb)

    slack = sub.add_parser("slack", help="run on Slack (Socket Mode if SLACK_APP_TOKEN is set, else HTTP)")
    slack.add_argument(
        "--port", type=int, default=None, help="HTTP mode and /healthz port (default 3000, or health.port)"
    )
    slack.add_argument("--db", type=_database, default=None, help=_DB_HELP)
    slack.add_argument("--threshold", type=float, default=None)
    slack.set_defaults(handler=_cmd_slack, uses_config=True)

    discord = sub.add_parser("discord", help="run on Discord (DISCORD_TOKEN)")
    discord.add_argument("--db", type=_database, default=None, help=_DB_HELP)
    discord.add_argument("--threshold", type=float, default=None)
    discord_sub = discord.add_subparsers(dest="discord_command")
    discord_sync = discord_sub.add_parser("sync", help="register the /nato slash commands")
    discord_sync.add_argument("--guild", type=int, default=None, help="sync to one guild (instant)")
    discord.set_defaults(handler=_cmd_discord, uses_config=True)

    digest = sub.add_parser("digest", help="preview a digest, or run one scheduler pass")
    digest_sub = digest.add_subparsers(dest="digest_command", required=True)
    preview = digest_sub.add_parser("preview", help="print a digest: month | period ARG | topic ARG")
    preview.add_argument("kind", help="month, period, topic or new")
    preview.add_argument("arg", nargs="*", help="the period or topic")
    preview.add_argument("--date", type=_iso_date, default=None, help="compose as on this day (YYYY-MM-DD)")
    run_due = digest_sub.add_parser("run-due", help="one scheduler pass; console digests are printed")
    run_due.add_argument("--db", type=_database, required=True, help=_DB_GIVEN)
    run_due.add_argument(
        "--now", type=_iso_instant, default=None, help="act as at this ISO date-time (naive means UTC)"
    )
    digest.set_defaults(handler=_cmd_digest)

    db = sub.add_parser("db", help="move the database between SQLite and PostgreSQL")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    copy = db_sub.add_parser(
        "copy", help="copy every table into an empty database (stop briefbot first); passwords via PGPASSWORD"
    )
    copy.add_argument("--from", dest="source", type=_database, required=True, help=_DB_GIVEN)
    copy.add_argument("--to", dest="target", type=_database, required=True, help=_DB_GIVEN)
    copy.add_argument(
        "--into-nonempty",
        "--force",
        dest="into_nonempty",
        action="store_true",
        help="replace whatever the target holds (refused by default)",
    )

    feedback = sub.add_parser("feedback", help="what users said about answers (helpful / not)")
    feedback.add_argument("--db", type=_database, required=True, help=_DB_GIVEN)
    feedback.add_argument("--limit", type=int, default=50)
    feedback.set_defaults(handler=_cmd_feedback)
    return parser


# Every handler gets the prepared engine; ``engine.kb`` is the validated base.
Handler = Callable[[argparse.Namespace, Engine], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    knowledge = args.knowledge
    try:
        if args.command == "config":
            return _cmd_config_show(args)
        if args.command == "health":  # Docker's HEALTHCHECK: no knowledge base, no web framework
            from adapters.healthcheck import check_health
            from bot.ops.config import load_config

            return check_health(load_config(args.config, os.environ), sys.stdout)
        if args.command == "db":  # no knowledge base needed
            from adapters.console_db import copy_database

            return copy_database(args)
        if getattr(args, "uses_config", False):
            from adapters.runtime import config_for

            # The settings file and environment say where the knowledge is (--knowledge wins).
            knowledge = config_for(args).knowledge_dir
    except BriefbotError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1
    try:
        engine = prepare(knowledge, fresh=getattr(args, "validate_afresh", False))
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return 1
    handler: Handler = args.handler
    try:
        return handler(args, engine)
    except BriefbotError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`briefbot ask ... | head -1`): not an error of ours. Point
        # stdout at devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
