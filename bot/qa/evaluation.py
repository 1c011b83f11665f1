"""Measure the engine on a dev set: accuracy per question kind and a threshold sweep.

A question in scope counts as right when the engine answers (does not abstain) and the
answer contains every expected fact; out of scope counts as right when it abstains.

A conversation set (``bot.qa.devset.load_conversations``) is scored the same way on each
conversation's last turn, asked in a thread of its own after the earlier turns, so the
last turn is read in their context (``Engine.ask_in_thread``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.conversation import ThreadKey
from bot.qa.answer import Answer
from bot.qa.devset import Conversation, EvalCase
from bot.qa.engine import Engine
from bot.store.recent import RecentTurns
from bot.text import normalise

__all__ = ["EvalReport", "evaluate", "evaluate_conversations", "sweep"]


@dataclass(frozen=True)
class Outcome:
    case: EvalCase
    answer: Answer
    correct: bool
    missing: tuple[str, ...]


@dataclass(frozen=True)
class EvalReport:
    outcomes: tuple[Outcome, ...]
    threshold: float

    def _rate(self, items: Sequence[Outcome]) -> float:
        return sum(o.correct for o in items) / len(items) if items else 0.0

    @property
    def in_scope(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.case.in_scope)

    @property
    def out_of_scope(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.case.in_scope)

    @property
    def in_scope_accuracy(self) -> float:
        return self._rate(self.in_scope)

    @property
    def abstention_rate(self) -> float:
        return self._rate(self.out_of_scope)

    def by_kind(self) -> dict[str, tuple[int, int]]:
        table: dict[str, tuple[int, int]] = {}
        for outcome in self.outcomes:
            right, total = table.get(outcome.case.kind, (0, 0))
            table[outcome.case.kind] = (right + outcome.correct, total + 1)
        return dict(sorted(table.items()))

    def failures(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.correct)


def _grade(case: EvalCase, answer: Answer) -> Outcome:
    if not case.in_scope:
        return Outcome(case, answer, answer.abstained, ())
    if answer.abstained:
        return Outcome(case, answer, False, ("(abstained)",))
    text = normalise(answer.text)
    missing = tuple(
        " | ".join(group) for group in case.expect if not any(normalise(x) in text for x in group)
    )
    return Outcome(case, answer, not missing, missing)


def evaluate(engine: Engine, cases: Sequence[EvalCase]) -> EvalReport:
    return EvalReport(tuple(_grade(c, engine.ask(c.question)) for c in cases), engine.threshold)


def sweep(engine: Engine, cases: Sequence[EvalCase], thresholds: Sequence[float]) -> list[EvalReport]:
    """The same dev set at several thresholds (the engine is copied, never mutated)."""
    return [evaluate(engine.with_threshold(t), cases) for t in thresholds]


def evaluate_conversations(engine: Engine, conversations: Sequence[Conversation]) -> EvalReport:
    """Each conversation in a thread of its own; its last turn graded as a single question is."""
    memory = RecentTurns()
    outcomes = []
    for conversation in conversations:
        key = ThreadKey("eval", "conversations", conversation.id)
        for turn in conversation.earlier:
            engine.ask_in_thread(turn, memory, key)
        answer = engine.ask_in_thread(conversation.case.question, memory, key)
        outcomes.append(_grade(conversation.case, answer))
    return EvalReport(tuple(outcomes), engine.threshold)
