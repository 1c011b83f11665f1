"""The engine on the dev set: in-scope accuracy and out-of-scope abstention, both ≥ 90%."""

from __future__ import annotations

import pytest

from bot.evaluation import EvalReport, default_dev_set, evaluate, load_dev_set
from tests.fixtures import bundled_engine, bundled_kb


@pytest.fixture(scope="module")
def report() -> EvalReport:
    return evaluate(bundled_engine(), load_dev_set(default_dev_set()))


def test_dev_set_is_large_enough(report: EvalReport) -> None:
    assert len(report.in_scope) >= 200
    assert len(report.out_of_scope) >= 60


def test_dev_questions_are_not_copies_of_the_knowledge_base_questions() -> None:
    curated = {q.casefold().strip(" ?") for e in bundled_kb() for q in e.questions}
    copied = [
        c.question for c in load_dev_set(default_dev_set()) if c.question.casefold().strip(" ?") in curated
    ]
    assert len(copied) <= 5, copied


def _failures(report: EvalReport, in_scope: bool) -> str:
    return "\n".join(
        f"{o.case.question!r} -> {o.answer.entry_ids[:1]} missing {o.missing}"
        for o in report.failures()
        if o.case.in_scope == in_scope
    )


def test_in_scope_accuracy_is_at_least_90_percent(report: EvalReport) -> None:
    assert report.in_scope_accuracy >= 0.90, _failures(report, True)


def test_out_of_scope_abstention_is_at_least_90_percent(report: EvalReport) -> None:
    assert report.abstention_rate >= 0.90, _failures(report, False)
