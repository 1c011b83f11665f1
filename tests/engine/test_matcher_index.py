"""The matcher's index gives exactly what the plain, slow computation gives.

The matcher precomputes (alias folding through a word index, idf weights per phrasing,
an inverted term index) and skips work it can prove cannot change the result. These
tests keep the straightforward computation here, as the definition, and check that the
fast path agrees with it to the last bit: the same entries, in the same order, with the
same scores, on every dev question, on the bundled base and on a larger synthetic one.

When the scoring itself changes (a new signal, different weights), change the reference
below in the same commit: it is the specification the index has to reproduce.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import replace
from functools import cache

import pytest
from rapidfuzz import fuzz, process

from bot.knowledge.base import KINDS, KnowledgeBase
from bot.qa import matcher as matcher_module
from bot.qa.answer import Candidate
from bot.qa.devset import default_dev_set, load_dev_set
from bot.qa.matcher import (
    BODY_WEIGHT,
    COMMON_MIN,
    COMMON_SHARE,
    COVERAGE_SHARE,
    FUZZY_SHARE,
    FUZZY_SHORTLIST,
    Matcher,
    Query,
)
from bot.qa.vocabulary import content_terms
from bot.text import normalise, tokens
from tests.fixtures import bundled_kb

# -- the reference: the plain computation, no index --------------------------------------


def reference_terms(kb: KnowledgeBase) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Key and body terms per entry, aliases folded by scanning every entry for every alias."""
    groups = []
    for entry in kb.entries:
        if not entry.aliases:
            continue
        phrases = tuple(p for p in {normalise(a) for a in entry.aliases} if p)
        group_terms = frozenset(t for p in phrases for t in content_terms(tokens(p)))
        if phrases and group_terms:
            groups.append((phrases, group_terms))
    result = []
    for entry in kb.entries:
        key_text = normalise(" ".join([entry.title, *entry.questions, *entry.aliases]))
        body_text = normalise(
            " ".join(filter(None, [entry.answer, entry.role, entry.speaker, entry.quote, entry.occasion]))
        )
        key = set(content_terms(tokens(key_text)))
        body = set(content_terms(tokens(body_text)))
        for phrases, group_terms in groups:
            if any(f" {p} " in f" {key_text} " for p in phrases):
                key |= group_terms
            elif any(f" {p} " in f" {body_text} " for p in phrases):
                body |= group_terms
        result.append((frozenset(key), frozenset(body - key)))
    return result


def reference_precision(matcher: Matcher, position: int, query: Query) -> float:
    """The best share, over the entry's phrasings, of a phrasing's idf that the question holds.

    The hit adds the idf of each asked word once per time the phrasing holds it, in the
    question's word order (floating-point sums depend on order; this is the definition).
    """
    best = 0.0
    for choice in matcher._entry_choices[position]:
        terms = matcher._choice_terms[choice]
        total = sum(matcher.idf(t) for t in terms)
        if total:
            hit = 0.0
            for asked in query.terms:
                for term in terms:
                    if term == asked:
                        hit += matcher.idf(asked)
            best = max(best, hit / total)
    return best


def reference_rank(
    matcher: Matcher, query: Query, limit: int = 8, kinds: Iterable[str] | None = None
) -> list[Candidate]:
    """Every entry considered, every weight looked up when it is needed."""
    if not query.terms:
        return []
    allowed = frozenset(kinds) if kinds is not None else None
    fuzzy_best: dict[int, tuple[float, int]] = {}
    # Fuzzy-matched: the phrasings sharing a word with the question, leaving out words
    # most phrasings hold unless the question has no other known word.
    phrasing_sets = [set(terms) for terms in matcher._choice_terms]
    holders = {t: sum(t in terms for terms in phrasing_sets) for t in query.terms}
    common = max(COMMON_MIN, int(COMMON_SHARE * len(phrasing_sets)))
    picking = {t for t, n in holders.items() if 0 < n <= common} or {t for t, n in holders.items() if n}
    sharing = [i for i, terms in enumerate(phrasing_sets) if picking & terms]
    for _, score, at in process.extract(
        query.sorted_terms,
        [matcher._choices[i] for i in sharing],
        scorer=fuzz.ratio,
        processor=None,
        limit=FUZZY_SHORTLIST,
        score_cutoff=25,
    ):
        index = sharing[at]
        owner = matcher._choice_owner[index]
        if owner not in fuzzy_best or score > fuzzy_best[owner][0]:
            fuzzy_best[owner] = (score, index)
    weights = [matcher.idf(t) for t in query.terms]
    total = sum(weights) or 1.0
    rare = {t for t, w in zip(query.terms, weights, strict=True) if w >= 2.5}
    entries = matcher.kb.entries
    shortlist = set(fuzzy_best)
    if rare:
        shortlist.update(
            i for i, entry in enumerate(entries) if rare & frozenset().union(*matcher.terms_of(entry.id))
        )
    candidates = []
    for position in shortlist:
        entry = entries[position]
        if allowed is not None and entry.kind not in allowed:
            continue
        key_terms, body_terms = matcher.terms_of(entry.id)
        covered = sum(
            w * (1.0 if t in key_terms else BODY_WEIGHT if t in body_terms else 0.0)
            for t, w in zip(query.terms, weights, strict=True)
        )
        coverage = covered / total
        fuzzy_score, choice = fuzzy_best.get(position, (0.0, -1))
        precision = reference_precision(matcher, position, query)
        score = (
            FUZZY_SHARE * fuzzy_score / 100
            + COVERAGE_SHARE * coverage
            + (1 - FUZZY_SHARE - COVERAGE_SHARE) * precision
        )
        phrasing = matcher._choice_text[choice] if choice >= 0 else entry.title
        candidates.append(
            Candidate(entry.id, round(score, 4), phrasing, round(fuzzy_score, 1), round(coverage, 3))
        )
    candidates.sort(key=lambda c: (-c.score, c.entry_id))
    return candidates[:limit]


def reference_idf(kb: KnowledgeBase, terms: list[tuple[frozenset[str], frozenset[str]]]) -> dict[str, float]:
    frequency: dict[str, int] = {}
    for key, body in terms:
        for term in key | body:
            frequency[term] = frequency.get(term, 0) + 1
    return {t: math.log((len(kb.entries) + 1) / (df + 0.5)) for t, df in frequency.items()}


# -- the bases and questions ------------------------------------------------------------

FILLER = (
    "alliance maritime patrol summit declaration exercise cyber liaison office partnership "
    "ministers dialogue security strategy relief airlift semiconductor subsea cables observer"
).split()


def synthetic_kb(copies: int, seed: int = 11) -> KnowledgeBase:
    """The bundled base several times over, each copy's phrasings and aliases varied.

    Aliases are kept (and sometimes grown into multi-word phrases) so that alias folding
    has many overlapping groups to get right, not only the bundled base's.
    """
    rng = random.Random(seed)
    kb = bundled_kb()
    entries = []
    for copy in range(copies):
        for entry in kb.entries:
            extra = " ".join(rng.sample(FILLER, 2))
            questions = tuple(f"{q} {extra}" if rng.random() < 0.5 else q for q in entry.questions)
            aliases = tuple(f"{a} {rng.choice(FILLER)}" if rng.random() < 0.3 else a for a in entry.aliases)
            entries.append(
                replace(entry, id=f"{entry.id}-{copy}", questions=questions, aliases=aliases, related=())
            )
    return KnowledgeBase(tuple(entries), kb.documents, kb.directory)


@cache
def dev_questions() -> tuple[str, ...]:
    return tuple(case.question for case in load_dev_set(default_dev_set()))


@cache
def bundled_matcher() -> Matcher:
    return Matcher(bundled_kb())


@cache
def synthetic_matcher() -> Matcher:
    return Matcher(synthetic_kb(3))


MATCHERS = {"bundled": bundled_matcher, "synthetic": synthetic_matcher}


# -- the checks -------------------------------------------------------------------------


@pytest.mark.parametrize("base", list(MATCHERS))
def test_alias_folding_matches_scanning_every_entry_for_every_alias(base: str) -> None:
    matcher = MATCHERS[base]()
    expected = reference_terms(matcher.kb)
    assert [matcher.terms_of(e.id) for e in matcher.kb.entries] == expected
    assert matcher._idf == reference_idf(matcher.kb, expected)


def test_alias_phrases_are_found_exactly_where_they_occur_as_whole_words() -> None:
    """Texts made only of alias words, in any order and with repeats, against a substring test."""
    groups = matcher_module._alias_groups(bundled_kb().entries)
    index = matcher_module._AliasIndex(groups)
    words = sorted({w for phrases, _ in groups for p in phrases for w in p.split(" ")})
    rng = random.Random(5)
    for _ in range(2000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        if rng.random() < 0.5:  # a whole phrase inside, so long phrases are found too
            phrases = rng.choice(groups)[0]
            text = f"{text} {rng.choice(phrases)} {rng.choice(words)}"
        expected = {
            group
            for group, (phrases, _) in enumerate(groups)
            if any(f" {p} " in f" {text} " for p in phrases)
        }
        assert index.mentioned(text) == expected, text


@pytest.mark.parametrize("base", list(MATCHERS))
def test_precision_matches_weighing_every_phrasing(base: str) -> None:
    matcher = MATCHERS[base]()
    rng = random.Random(3)
    for question in dev_questions()[::3]:
        query = matcher.analyse(question)
        asked_weights = [(t, matcher.idf(t)) for t in query.terms]
        positions = rng.sample(range(len(matcher.kb.entries)), 60)
        for position in positions:
            shared = frozenset(query.terms) & matcher._phrasing_terms[position]
            expected = reference_precision(matcher, position, query)
            assert matcher._precision(position, asked_weights, shared) == expected


@pytest.mark.parametrize("base", list(MATCHERS))
def test_ranking_matches_scoring_every_entry(base: str) -> None:
    matcher = MATCHERS[base]()
    questions = dev_questions() if base == "bundled" else dev_questions()[::2]
    for question in questions:
        query = matcher.analyse(question)
        assert matcher.rank(query, limit=12) == reference_rank(matcher, query, limit=12), question


@pytest.mark.parametrize(("limit", "kinds"), [(1, None), (8, None), (1000, None), (8, ("person", "term"))])
def test_ranking_matches_scoring_every_entry_for_any_limit_and_kinds(
    limit: int, kinds: tuple[str, ...] | None
) -> None:
    matcher = bundled_matcher()
    for question in dev_questions()[::4]:
        query = matcher.analyse(question)
        assert matcher.rank(query, limit, kinds) == reference_rank(matcher, query, limit, kinds), question


def test_every_kind_filter_matches_scoring_every_entry() -> None:
    matcher = bundled_matcher()
    for kind in KINDS:
        for question in dev_questions()[::16]:
            query = matcher.analyse(question)
            assert matcher.rank(query, 5, [kind]) == reference_rank(matcher, query, 5, [kind]), question


def test_spelling_correction_is_the_same_when_asked_again() -> None:
    matcher = Matcher(bundled_kb())
    typed = ["stoltenbrg", "tokio", "lungesku", "cybr", "semiconducters", "kishda", "qwertyuiop"]
    first = [matcher.analyse(f"{word} visit") for word in typed]
    again = [matcher.analyse(f"{word} visit") for word in typed]
    assert first == again
    for word, query in zip(typed, first, strict=True):
        term = content_terms([word])[0]
        assert term not in matcher._vocabulary_set
        assert query.terms[0] == (matcher_module._spelling(term, matcher._vocabulary) or term)
