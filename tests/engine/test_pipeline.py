"""The question-answering stages, each on its own and together, as a user would notice them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.dispatch import Bot
from bot.knowledge.loading import load_knowledge
from bot.messages import Request
from bot.qa import training
from bot.qa.engine import Engine
from bot.qa.judge import FEATURES, GATE_FEATURES, SIGNS, Judge, cross_validate
from bot.qa.retrieve import fuse
from bot.qa.training import FOLDS, _held_out, train
from bot.store.sqlite import SQLiteStore
from tests.fixtures import bundled_engine, bundled_kb


@pytest.fixture(scope="module")
def engine() -> Engine:
    return bundled_engine()


# -- retrieve ---------------------------------------------------------------------------


def test_fusion_puts_what_both_retrievers_found_first() -> None:
    fused = fuse([["a", "b", "c"], ["c", "d", "a"]])
    assert sorted(fused, key=lambda e: -fused[e])[:2] == ["a", "c"]
    assert fused["b"] < fused["a"] and fused["d"] < fused["c"]


def test_every_candidate_carries_the_judges_features(engine: Engine) -> None:
    query = engine.matcher.analyse("when did japan join the nato cyber centre")
    retrieval = engine.retriever.retrieve(query)
    assert retrieval.evidence
    assert all(len(ev.features()) == len(FEATURES) for ev in retrieval.evidence)
    assert "japan-joins-nato-cyber-centre-2022" in [ev.entry_id for ev in retrieval.evidence[:3]]


def test_the_semantic_retriever_finds_what_shares_no_word_with_any_phrasing(engine: Engine) -> None:
    query = engine.matcher.analyse("japanese digital defence experts posted to tallinn")
    retrieval = engine.retriever.retrieve(query)
    semantic_only = [ev for ev in retrieval.evidence if ev.lexical_rank == 0]
    assert semantic_only, "every candidate came from the lexical retriever"
    assert all(ev.semantic_rank > 0 for ev in semantic_only)


# -- judge ------------------------------------------------------------------------------


def test_the_judge_learns_which_way_evidence_points() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(600, len(FEATURES)))
    y = (x[:, 0] - x[:, 1] + rng.normal(scale=0.5, size=600) > 0).astype(float)
    judge = Judge.fit(x, y)
    assert judge.weights[0] > 1.0 and judge.weights[1] < -1.0
    assert abs(judge.weights[2]) < 0.3
    assert Judge.fit(x, y) == judge  # deterministic: no random start
    high = judge.probability([5.0, -5.0, *([0.0] * (len(FEATURES) - 2))])
    assert 0.99 < high <= 1.0
    validation = cross_validate(x, y, tuple(range(600)))
    assert validation.accuracy > 0.8


def test_extreme_features_never_overflow() -> None:
    judge = Judge.fit(np.eye(len(FEATURES)).repeat(3, axis=0), np.tile([0.0, 1.0, 1.0], len(FEATURES)))
    assert 0.0 <= judge.probability([1e9] * len(FEATURES)) <= 1.0
    assert 0.0 <= judge.probability([-1e9] * len(FEATURES)) <= 1.0


def _collinear() -> tuple[np.ndarray, np.ndarray]:
    """Two features that say the same thing, the second a little noisier: free, the fit
    leans on their difference and gives the second a negative weight."""
    rng = np.random.default_rng(11)
    signal = rng.normal(size=800)
    x = np.zeros((800, 3))
    x[:, 0] = signal + rng.normal(scale=0.1, size=800)
    x[:, 1] = signal + rng.normal(scale=0.3, size=800)
    x[:, 2] = rng.normal(size=800)  # noise, unconstrained
    y = (2.0 * x[:, 0] - 0.8 * x[:, 1] + rng.normal(scale=0.3, size=800) > 0).astype(float)
    return x, y


def test_a_collinear_feature_keeps_the_sign_its_meaning_gives_it() -> None:
    x, y = _collinear()
    names = ("match", "also_match", "noise")
    free = Judge.fit(x, y, names)
    assert free.weights[1] < -0.5  # the wrong sign, through collinearity
    signed = Judge.fit(x, y, names, signs={"match": 1, "also_match": 1})
    assert signed.weights[0] > 1.0 and signed.weights[1] == 0.0
    # The constrained optimum: the same as fitting without the held feature at all.
    without = Judge.fit(np.column_stack([x[:, 0], np.zeros(800), x[:, 2]]), y, names)
    assert np.allclose(signed.weights, without.weights, atol=1e-6)
    assert abs(signed.bias - without.bias) < 1e-6
    assert Judge.fit(x, y, names, signs={"match": 1, "also_match": 1}) == signed  # deterministic


def test_a_fit_that_already_keeps_its_signs_is_unchanged_by_them() -> None:
    x, y = _collinear()
    names = ("match", "also_match", "noise")
    free = Judge.fit(x, y, names)
    signed = Judge.fit(x, y, names, signs={"match": 1, "also_match": -1})
    assert np.allclose(signed.weights, free.weights, atol=1e-6)


def test_a_weight_held_at_zero_is_released_when_the_others_no_longer_need_it() -> None:
    # Free, "b" and "c" are wrong-signed; both are held at 0 at first, and then "c" is
    # wanted again: the active set must free it, or the fit stops short of the optimum.
    rng = np.random.default_rng(10)
    base = rng.normal(size=(1000, 3))
    x = np.column_stack([base[:, 0] + base[:, 1], base[:, 1] - base[:, 0], base[:, 2] + 0.8 * base[:, 0]])
    y = (base @ rng.normal(size=3) + rng.normal(scale=0.5, size=1000) > 0).astype(float)
    names = ("a", "b", "c")
    signs = {"a": 1, "b": 1, "c": 1}
    free = Judge.fit(x, y, names)
    assert free.weights[1] < 0.0 and free.weights[2] < 0.0
    signed = Judge.fit(x, y, names, signs=signs)
    assert signed.weights[1] == 0.0 and signed.weights[2] > 0.01
    assert np.allclose(signed.weights, _projected_gradient(x, y, signs, names), atol=1e-4)


def _projected_gradient(
    x: np.ndarray, y: np.ndarray, signs: dict[str, int], names: tuple[str, ...]
) -> np.ndarray:
    """The same constrained optimum by plain projected gradient descent (slow, simple)."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    design = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    sign = np.array([0.0, *(signs[n] for n in names)])
    penalty = np.array([0.0, *([1.0] * len(names))])
    step = 1.0 / (0.25 * np.linalg.norm(design, 2) ** 2 + 1.0)
    theta = np.zeros(design.shape[1])
    for _ in range(20_000):
        p = 1.0 / (1.0 + np.exp(-(design @ theta)))
        theta -= step * (design.T @ (p - y) + penalty * theta)
        theta[sign * theta < 0] = 0.0
    return theta[1:]


def test_held_to_their_signs_the_bundled_bases_models_keep_every_sign(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(training, "CONSTRAINED", frozenset({"ranker", "gate"}))
    held = train(engine.kb, engine.retriever, engine.model)
    for judge in (held.ranker, held.gate):
        for name, weight in zip(judge.features, judge.weights, strict=True):
            assert SIGNS[name] * weight >= 0.0, (name, weight)
    # Fitted freely (as the engine is), collinear features take the wrong sign.
    assert any(SIGNS[n] * w < 0.0 for n, w in zip(FEATURES, engine.judge.ranker.weights, strict=True))
    assert set(SIGNS) == set(GATE_FEATURES)


# -- training ---------------------------------------------------------------------------


def test_fitting_is_deterministic(engine: Engine) -> None:
    again = train(engine.kb, engine.retriever, engine.model)
    assert again.ranker == engine.judge.ranker
    assert again.gate == engine.judge.gate


def test_a_held_out_phrasing_is_asked_of_an_index_without_it() -> None:
    entry = next(e for e in bundled_kb().entries if len(e.questions) >= FOLDS + 2)
    asked = {_held_out(entry, fold) for fold in range(FOLDS)}
    assert len(asked) == FOLDS and asked <= set(entry.questions)


# -- decide and render, through the engine ------------------------------------------------


@pytest.mark.parametrize("message", ["thanks!", "hello", "ok cool", "thnaks", "👍"])
def test_a_pleasantry_gets_a_pleasantry_not_a_briefing(engine: Engine, message: str) -> None:
    answer = engine.ask(message)
    assert answer.intent == "smalltalk" and answer.abstained
    assert not answer.entry_ids and not answer.sources


def test_japanese_is_told_in_japanese_that_only_english_is_read(engine: Engine) -> None:
    answer = engine.ask("日本はいつNATOのサイバー防衛センターに参加しましたか？")
    assert answer.intent == "language" and answer.abstained
    assert "English" in answer.text and "英語" in answer.text


def test_a_false_premise_is_corrected_from_the_notes(engine: Engine) -> None:
    answer = engine.ask("when did japan join nato?")
    assert answer.intent == "false-premise" and answer.abstained
    assert answer.text.startswith("Japan is not a NATO member")
    assert answer.sources and answer.sources[0].paragraphs


@pytest.mark.parametrize(
    "question", ["did japan join nato?", "is it true that japan joined nato?", "japan joined nato??"]
)
def test_a_claim_that_japan_joined_nato_is_corrected(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.intent == "false-premise" and answer.text.startswith("Japan is not a NATO member")


@pytest.mark.parametrize(
    "question", ["when did sweden join nato", "did sweden join nato?", "did finland join nato"]
)
def test_another_country_joining_nato_is_not_taken_for_japan(engine: Engine, question: str) -> None:
    # "sweden" is as common in the base as a framing word; a country is a subject all the same.
    answer = engine.ask(question)
    assert answer.intent != "false-premise"


def test_chatter_around_a_question_no_longer_sinks_it(engine: Engine) -> None:
    answer = engine.ask("hey bot, who is jens stoltenberg? saw him in the news")
    assert not answer.abstained and answer.entry_ids == ("jens-stoltenberg",)
    answer = engine.ask("when did stoltenberg visit japan? need month + year pls")
    assert not answer.abstained and "February 2023" in answer.text


def test_a_question_one_retriever_is_sure_of_is_answered(engine: Engine) -> None:
    # Chatter and a request about the form lower both scores, but both retrievers still
    # put the declaration first; the gate, reading the surer of the two
    # (lexical_or_semantic, which a weighted sum of both cannot express), no longer vetoes it.
    answer = engine.ask(
        "morning! prepping a brief — how did the feb 2023 nato/japan declaration describe the two sides?"
        " the exact wording pls"
    )
    assert not answer.abstained and "reliable and natural partners" in answer.text


def test_several_questions_are_answered_one_by_one(engine: Engine) -> None:
    answer = engine.ask("what is the itpp? who is oana lungescu?")
    assert answer.intent == "multi-part" and not answer.abstained
    assert "Individually Tailored" in answer.text and "Lungescu" in answer.text
    assert answer.text.count("•") == 2


def test_a_later_part_that_points_back_is_read_as_a_follow_up_of_the_earlier(engine: Engine) -> None:
    answer = engine.ask("how much aid has japan committed to ukraine? and was any of it lethal?")
    assert answer.intent == "multi-part" and not answer.abstained, answer.text
    second = answer.text.split("•")[2]
    assert "nonlethal" in second, answer.text


def test_asides_between_dashes_are_not_questions_of_their_own(engine: Engine) -> None:
    answer = engine.ask(
        "what keeps nato and japan apart — legally speaking — and what pace of change do the authors"
        " recommend?"
    )
    assert answer.intent == "multi-part" and answer.text.count("•") == 2, answer.text
    assert "incremental" in answer.text


def test_asks_about_one_subject_no_part_can_answer_alone_are_answered_together(engine: Engine) -> None:
    # "who announced that" and "is it open yet" point back at the office the first clause
    # names; alone they are declined, asked together they are the plan's status.
    answer = engine.ask("heard nato wants an office in tokyo, who announced that, and is it open yet?")
    assert answer.intent == "after-notes", answer.text
    assert "May 2023" in answer.text and "plan" in answer.text
    assert "•" not in answer.text


def test_too_many_questions_at_once_are_sent_back(engine: Engine) -> None:
    answer = engine.ask("what is itpp? who is kishida? when was madrid? what is ccdcoe? who is zakharova?")
    assert answer.intent == "multi-part" and answer.abstained
    assert "5 questions" in answer.text and "one at a time" in answer.text


def test_a_curated_near_miss_is_declined_with_its_entry_offered(engine: Engine) -> None:
    answer = engine.ask("how many nato liaison offices exist worldwide")
    assert answer.abstained
    assert "fact-tokyo-office-only-one-in-asia" in {s.entry_id for s in answer.suggestions}


def test_explain_shows_what_each_stage_said(engine: Engine) -> None:
    answer = engine.ask("when did japan join the nato cyber centre")
    stages = dict(answer.candidates[0].stages)
    assert {"lexical rank", "semantic rank", "semantic", "near miss", "fused", "ranker"} <= set(stages)


def test_pleasantries_are_not_recorded_as_unanswered(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "bot.sqlite3") as store:
        bot = Bot(bundled_engine(), store=store)
        for text in ("thanks!", "ok cool", "when did japan join nato", "what is the weather in oslo"):
            bot.dispatch(Request(platform="console", user="u", channel="c", text=text))
        recorded = [item.question for item in store.unanswered()]
    assert recorded == ["what is the weather in oslo"]


def test_near_misses_curated_for_several_entries_are_found_as_a_scan_of_every_row_finds_them() -> None:
    # The declined index scores each distinct near-miss string once; which rows come
    # back, their order (score, then position, ties included) and their similarity must
    # be what scoring every row with process.extract gave, also with a row excluded.
    from dataclasses import replace

    from rapidfuzz import fuzz, process

    from bot.knowledge.base import KnowledgeBase
    from bot.qa.matcher import Matcher
    from bot.qa.retrieve import DeclinedIndex
    from bot.qa.vocabulary import content_terms
    from bot.text import normalise, tokens

    kb = bundled_kb()
    # Every entry with near misses three times over, as a copied base has them.
    with_near_misses = [e for e in kb.entries if e.near_misses]
    copies = tuple(
        replace(e, id=f"{e.id}-{n}", related=(), aliases=()) for n in range(3) for e in with_near_misses
    )
    base = KnowledgeBase(copies, kb.documents, kb.directory, kb.lexicon)
    index = DeclinedIndex(base)
    matcher = Matcher(kb)
    strings = [" ".join(sorted(content_terms(tokens(normalise(row.text))))) for row in index.rows]
    assert len(set(strings)) < len(strings) / 2  # the copies repeat every string
    questions = [row.text for row in index.rows[::40]] + ["what did the dutch say about chips", "thanks"]
    for question in questions:
        query = matcher.analyse(question)
        for exclude in ("", question):
            found = process.extract(
                query.sorted_terms, strings, scorer=fuzz.ratio, processor=None, limit=9, score_cutoff=40
            )
            expected = [(index.rows[i], score / 100.0) for _, score, i in found]
            expected = [(row, s) for row, s in expected if row.text != exclude][:8]
            got = [(n.declined, n.similarity) for n in index.nearest(query, exclude=exclude)]
            assert got == expected, question


def test_a_base_with_nothing_to_decline_does_not_fit_a_gate_that_answers_anything() -> None:
    # A small base (17 entries, no near misses, no dev set) can only learn from its own
    # phrasings, nearly all answered right: a fitted gate there answered "what is the
    # population of Lisbon?" with the nearest entry by meaning.
    small = Engine(load_knowledge(Path(__file__).parents[1] / "adapters" / "discord" / "kb"))
    assert small.ask("what is the population of Lisbon?").abstained
    assert not small.ask("when did japan join the nato cyber centre?").abstained
