"""`briefbot ask` (one answer, or a batch as JSON lines) and `briefbot eval` (the dev set)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import timedelta
from pathlib import Path

from adapters.cli.batch import BATCH, BatchLineError, batch_line
from adapters.cli.options import Subcommands, at_threshold, config_for
from adapters.console import render_reply
from bot.conversation import ThreadKey
from bot.dispatch import reply_from_answer
from bot.qa.answer import Answer
from bot.qa.devset import default_dev_set, load_conversations, load_dev_set
from bot.qa.engine import Engine
from bot.qa.evaluation import evaluate, evaluate_conversations, sweep
from bot.qa.matcher import COVERAGE_SHARE, FUZZY_SHARE
from bot.store.recent import RecentTurns

__all__ = ["SCORE_FORMULA", "register"]

_log = logging.getLogger(__name__)

# Read from the matcher's own weights, so the explanation cannot drift from the scoring.
SCORE_FORMULA = (
    "score = the ranker's belief that it answers; under it the lexical match "
    f"({FUZZY_SHARE:.2f}·fuzzy + {COVERAGE_SHARE:.2f}·coverage + "
    f"{1 - FUZZY_SHARE - COVERAGE_SHARE:.2f}·precision), the shape checks' changes, and each stage's evidence"
)


def register(sub: Subcommands) -> None:
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
    ev.add_argument(
        "--conversations",
        type=Path,
        default=None,
        metavar="FILE",
        help="score a conversation set instead: each conversation's last turn, in context",
    )
    ev.set_defaults(handler=_cmd_eval)


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


def _cmd_ask(args: argparse.Namespace, engine: Engine) -> int:
    engine = at_threshold(engine, args)
    if args.json:
        source = sys.stdin if args.question in (None, "-") else [args.question]
        # Conversations by thread id, for this run: {"thread": "t1", "q": "and when was that?"},
        # each kept as long as the configured context_ttl_hours says, as the bot would.
        memory = RecentTurns()
        ttl = config_for(args).context_ttl
        for number, line in enumerate(source, start=1):
            sys.stdout.write(
                json.dumps(_batch_answer(engine, memory, ttl, line, number), ensure_ascii=False) + "\n"
            )
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


def _batch_answer(
    engine: Engine, memory: RecentTurns, ttl: timedelta, line: str, number: int
) -> dict[str, object]:
    """One batch line answered: a plain question, or ``{"thread": id, "q": text}``, whose
    question is read in the context of the earlier lines of the same thread."""
    try:
        request = batch_line(line.rstrip("\n"))
    except BatchLineError as exc:
        return _error_json("bad-line", f"line {number}: {exc}")
    try:
        if request.thread is None:
            return _answer_json(engine.ask(request.question))
        key = ThreadKey(BATCH, BATCH, request.thread)
        answer = engine.ask_in_thread(request.question, memory, key, ttl)
        return {**_answer_json(answer), "thread": request.thread}
    except Exception as exc:  # one bad line must not break the one-line-per-input contract
        _log.exception("failed to answer a batch line")
        return _error_json(type(exc).__name__)


def _error_json(error: str, message: str = "") -> dict[str, object]:
    payload: dict[str, object] = {
        "answer": "",
        "abstained": True,
        "confidence": 0.0,
        "entry_ids": [],
        "error": error,
    }
    if message:
        payload["message"] = message
    return payload


def _cmd_eval_conversations(args: argparse.Namespace, engine: Engine) -> int:
    conversations = load_conversations(args.conversations)
    report = evaluate_conversations(engine, conversations)
    answerable, declinable = report.in_scope, report.out_of_scope
    print(
        f"conversations: {args.conversations} ({len(answerable)} to answer, {len(declinable)} to decline; "
        "the last turn of each is scored, in the context of the earlier ones)"
    )
    answered = f"{sum(o.correct for o in answerable)}/{len(answerable)} ({report.in_scope_accuracy:.1%})"
    declined = f"{sum(o.correct for o in declinable)}/{len(declinable)} ({report.abstention_rate:.1%})"
    print(
        f"threshold {engine.threshold:.2f}: last turns answered right {answered}, declined right {declined}"
    )
    print("\nby kind:")
    for kind, (right, total) in report.by_kind().items():
        print(f"  {kind:<14} {right:>4}/{total:<4} {right / total:.1%}")
    if args.failures:
        print("\nfailures:")
        for conversation, outcome in zip(conversations, report.outcomes, strict=True):
            if outcome.correct:
                continue
            answer = outcome.answer
            said = "ABSTAIN" if answer.abstained else ",".join(answer.entry_ids[:2])
            turns = " / ".join((*conversation.earlier, outcome.case.question))
            print(f"  [{outcome.case.kind}] {conversation.id}: {turns}")
            print(f"      read as {answer.asked!r} -> {said} missing {list(outcome.missing)}")
    return 0


def _cmd_eval(args: argparse.Namespace, engine: Engine) -> int:
    engine = at_threshold(engine, args)
    if args.conversations is not None:
        return _cmd_eval_conversations(args, engine)
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
