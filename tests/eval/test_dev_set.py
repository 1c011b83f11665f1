"""The engine on the dev set and the blind holdout: in-scope accuracy and abstention.

The engine issue's target is 90% for both on the dev set, and these tests assert it.
The judge is fitted on the dev set too (bot.qa.training), so the numbers measured on it
here are in-sample: 92.3% in scope and 92.8% abstention at the default threshold; the
honest estimate is the 5-fold cross-validation (benchmarks/cv_judge.py: 92.3% and 92.8%).
The holdout (tests/eval/holdout.yaml, written blind by someone else and never read while
tuning; only its aggregate numbers are looked at) gives 90.0% and 91.7%. See `briefbot eval` and
`briefbot eval --dev-set tests/eval/holdout.yaml`. The fresh blind sets
(tests/eval/fresh*.yaml, conversations*.yaml; the newest are fresh10 and conversations11) are
scored once per release, never here (docs/answering.md has their numbers).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge.base import phrasing_key
from bot.qa.devset import default_dev_set, load_dev_set
from bot.qa.evaluation import EvalReport, evaluate
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


def test_near_misses_are_not_copies_of_dev_questions() -> None:
    # Near misses are data the answerability judge is fitted on; the dev set measures it.
    curated = {phrasing_key(q) for e in bundled_kb() for q in e.near_misses}
    copied = [c.question for c in load_dev_set(default_dev_set()) if phrasing_key(c.question) in curated]
    assert copied == []


BLIND_SETS = (
    "holdout.yaml",
    "fresh.yaml",
    "fresh2.yaml",
    "fresh3.yaml",
    "fresh4.yaml",
    "fresh5.yaml",
    "fresh6.yaml",
    "fresh7.yaml",
    "fresh8.yaml",
    "fresh9.yaml",
    "fresh10.yaml",
)


@pytest.mark.parametrize("name", BLIND_SETS)
def test_nothing_the_judge_is_fitted_on_copies_a_blind_question(name: str) -> None:
    # Phrasings, near misses, false premises and the dev set are all fitted on; a blind
    # question among them leaks into the measurement. Checked by machine, never read.
    # Near misses and false premises are curated for the judge: none may match. Curated
    # phrasings and dev questions were written before the blind sets, and the plainest
    # questions ("who is kishida") are bound to coincide: a few may (7.6% of the holdout,
    # 4.8% of the fresh set).
    path = Path(__file__).resolve().parent / name
    if not path.exists():
        pytest.skip(f"no {name}")
    blind = [phrasing_key(c.question) for c in load_dev_set(path)]
    declined = {phrasing_key(q) for e in bundled_kb() for q in (*e.near_misses, *e.false_premises)}
    assert sum(q in declined for q in blind) == 0
    fitted = {phrasing_key(q) for e in bundled_kb() for q in e.questions}
    fitted |= {phrasing_key(c.question) for c in load_dev_set(default_dev_set())}
    assert sum(q in fitted for q in blind) <= 0.08 * len(blind)


def _failures(report: EvalReport, in_scope: bool) -> str:
    return "\n".join(
        f"{o.case.question!r} -> {o.answer.entry_ids[:1]} missing {o.missing}"
        for o in report.failures()
        if o.case.in_scope == in_scope
    )


IN_SCOPE_FLOOR = 0.90
ABSTENTION_FLOOR = 0.90
# Measured 85.3% and 88.3% with the staged pipeline (the lexical engine before it: 87.3%
# and 86.7%): one in-scope question fewer answered, and near misses declined more often.
# The floors sit just below, as before; the in-scope one is a point lower than the old
# engine's, a trade made on purpose for the abstention floor three points higher.
# Raised after the release that measured 88.0% and 90.0%: one question's margin each.
HOLDOUT_IN_SCOPE_FLOOR = 0.87
HOLDOUT_ABSTENTION_FLOOR = 0.88
HOLDOUT = Path(__file__).resolve().parent / "holdout.yaml"
# The chat-style dev set (tuned on): 83.8% and 92.9% when its floors were set.
CHAT_DEV = Path(__file__).resolve().parents[2] / "knowledge" / "eval" / "chat-dev.yaml"
CHAT_IN_SCOPE_FLOOR = 0.82
CHAT_ABSTENTION_FLOOR = 0.91


def test_in_scope_accuracy_does_not_regress(report: EvalReport) -> None:
    assert report.in_scope_accuracy >= IN_SCOPE_FLOOR, _failures(report, True)


def test_out_of_scope_abstention_does_not_regress(report: EvalReport) -> None:
    assert report.abstention_rate >= ABSTENTION_FLOOR, _failures(report, False)


def test_low_thresholds_show_the_ranking_finds_the_right_entry(report: EvalReport) -> None:
    # With abstention out of the way, nine in ten in-scope questions get the right
    # facts: what remains is telling paraphrases from near misses, not ranking.
    lenient = evaluate(bundled_engine().with_threshold(0.0), load_dev_set(default_dev_set()))
    assert lenient.in_scope_accuracy >= 0.88


def test_holdout_accuracy_does_not_regress() -> None:
    # Only the aggregate is looked at: its questions are never read while tuning.
    if not HOLDOUT.exists():
        pytest.skip("no holdout set")
    holdout = evaluate(bundled_engine(), load_dev_set(HOLDOUT))
    assert holdout.in_scope_accuracy >= HOLDOUT_IN_SCOPE_FLOOR
    assert holdout.abstention_rate >= HOLDOUT_ABSTENTION_FLOOR


def test_chat_style_questions_do_not_regress() -> None:
    # Questions as people post them in chat: mentions, context clauses, form requests.
    chat = evaluate(bundled_engine(), load_dev_set(CHAT_DEV))
    assert chat.in_scope_accuracy >= CHAT_IN_SCOPE_FLOOR, _failures(chat, True)
    assert chat.abstention_rate >= CHAT_ABSTENTION_FLOOR, _failures(chat, False)
