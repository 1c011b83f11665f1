"""Score a question against every entry: fuzzy phrasing similarity plus weighted coverage.

Two signals, because each fails alone:

* **fuzzy** — RapidFuzz ``token_sort_ratio`` between the question's content words and
  each curated phrasing (questions, title, aliases) that shares a distinctive word with
  it, all preprocessed once at load. It rewards questions worded like a known phrasing,
  typos included (they are spell-corrected to the base's words first).
* **coverage** — the share of the question's meaning found in the entry, each word
  weighted by its rarity (IDF) across the base, so "Oslo" or "Yokota" outweigh "NATO"
  and "Japan", and a word the base has never seen ("troops") counts as heavily as the
  rarest known word. This is what makes near misses ("when did *South Korea* open a
  NATO office") fall below the abstention threshold.

Acronyms and aliases from ``term`` and ``person`` entries are folded into every entry
that mentions them at load time, so "ITPP" finds an entry that only spells it out and
vice versa, at no cost per question.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter

from rapidfuzz import fuzz, process

from bot.knowledge.base import Entry, KnowledgeBase
from bot.qa.answer import Candidate
from bot.qa.vocabulary import content_terms
from bot.text import normalise, tokens

__all__ = ["Matcher", "Query"]

# How much a word found only in an entry's answer (not in its title, phrasings or
# aliases) counts towards coverage: it is evidence, but weaker evidence.
BODY_WEIGHT = 0.3
FUZZY_SHARE = 0.4
COVERAGE_SHARE = 0.5
# A word the base has never seen is strong evidence the question is about something
# the notes do not cover ("troops", "budget", "Macron"), so it weighs more than the
# rarest known word.
UNKNOWN_WEIGHT = 2.5
SPELLING_CUTOFF = 80.0
FUZZY_SHORTLIST = 40
# A word held by more than this share of the phrasings (and by more than COMMON_MIN of
# them) does not pick phrasings for fuzzy matching on its own; see Matcher._sharing.
COMMON_SHARE = 0.25
COMMON_MIN = 50
# Selections made only of common words that are kept (a bound on memory: such words are
# few, so their combinations are too).
COMMON_SELECTIONS = 64
# Distinct unknown words whose correction is remembered (a bound on memory, not a tuning knob).
SPELLING_CACHE = 4096
# Headroom on rank's upper bound, so float rounding can never skip an entry that belongs.
_BOUND_SLACK = 1e-9


@dataclass(frozen=True)
class Query:
    """A question as the matcher sees it."""

    text: str
    normalised: str
    terms: tuple[str, ...]
    corrected: tuple[tuple[str, str], ...]  # (typed, understood-as) pairs
    unknown: tuple[str, ...]

    @property
    def sorted_terms(self) -> str:
        return " ".join(sorted(self.terms))


@dataclass(frozen=True)
class _Indexed:
    entry: Entry
    key_terms: frozenset[str]
    body_terms: frozenset[str]


class Matcher:
    """Built once per knowledge base; ``rank`` does no I/O and allocates little."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        aliases = _AliasIndex(_alias_groups(kb.entries))
        self._indexed: list[_Indexed] = []
        for entry in kb.entries:
            key_text = normalise(" ".join([entry.title, *entry.questions, *entry.aliases]))
            body_text = normalise(
                " ".join(filter(None, [entry.answer, entry.role, entry.speaker, entry.quote, entry.occasion]))
            )
            key = set(content_terms(tokens(key_text)))
            body = set(content_terms(tokens(body_text)))
            in_key = aliases.mentioned(key_text)
            for group in in_key:
                key |= aliases.terms[group]
            for group in aliases.mentioned(body_text) - in_key:
                body |= aliases.terms[group]
            self._indexed.append(_Indexed(entry, frozenset(key), frozenset(body - key)))

        count = len(self._indexed)
        frequency: dict[str, int] = {}
        # Which entries hold each term, so a rare word finds its entries without a scan.
        self._postings: dict[str, list[int]] = {}
        for position, item in enumerate(self._indexed):
            for term in item.key_terms | item.body_terms:
                frequency[term] = frequency.get(term, 0) + 1
                self._postings.setdefault(term, []).append(position)
        self._idf = {t: math.log((count + 1) / (df + 0.5)) for t, df in frequency.items()}
        self._unknown_idf = UNKNOWN_WEIGHT * math.log((count + 1) / 0.5)
        self._position = {item.entry.id: i for i, item in enumerate(self._indexed)}
        self._ids = [item.entry.id for item in self._indexed]
        self._kinds = [item.entry.kind for item in self._indexed]
        # How much each of an entry's terms counts towards coverage, in one lookup.
        self._term_factor: list[dict[str, float]] = [
            {**dict.fromkeys(item.body_terms, BODY_WEIGHT), **dict.fromkeys(item.key_terms, 1.0)}
            for item in self._indexed
        ]
        self._vocabulary = sorted(frequency)
        self._vocabulary_set = frozenset(frequency)
        self._spell = _Speller(self._vocabulary)

        # Phrasings preprocessed once: sorted content terms, so token_sort_ratio's work
        # is done here and the per-question scorer is a plain ratio on short strings.
        self._choice_owner: list[int] = []
        self._choice_text: list[str] = []
        self._choice_terms: list[tuple[str, ...]] = []
        self._entry_choices: list[list[int]] = [[] for _ in self._indexed]
        for position, item in enumerate(self._indexed):
            entry = item.entry
            for phrasing in (entry.title, *entry.questions, *entry.aliases):
                terms = content_terms(tokens(normalise(phrasing)))
                if terms:
                    self._entry_choices[position].append(len(self._choice_terms))
                    self._choice_owner.append(position)
                    self._choice_text.append(phrasing)
                    self._choice_terms.append(tuple(terms))
        # Built in a pass of their own so that the strings lie together in memory:
        # rapidfuzz reads every one for every question, and at 100k phrasings strings
        # scattered among the rest of the index made that scan 2-3x slower.
        self._choices: list[str] = [" ".join(sorted(terms)) for terms in self._choice_terms]
        # Which phrasings hold each term: only phrasings sharing a word with the question
        # are fuzzy-matched (see _sharing).
        choice_postings: dict[str, list[int]] = {}
        for choice, choice_terms in enumerate(self._choice_terms):
            for term in set(choice_terms):
                choice_postings.setdefault(term, []).append(choice)
        self._choice_postings = choice_postings
        self._common_posting = max(COMMON_MIN, int(COMMON_SHARE * len(self._choice_terms)))
        self._common_selections: dict[tuple[str, ...], tuple[list[int], list[str]]] = {}
        # For _precision: each entry's phrasings' idf totals, and for each term the
        # phrasings (by position among the entry's) holding it, once per occurrence; and
        # every term of an entry's phrasings, to skip entries no asked word is in.
        idf, known = self.idf, self._idf
        self._choice_total: list[float] = [
            sum([known[t] if t in known else idf(t) for t in terms]) for terms in self._choice_terms
        ]
        self._entry_totals: list[tuple[float, ...]] = [
            tuple(self._choice_total[c] for c in choices) for choices in self._entry_choices
        ]
        self._entry_holders: list[dict[str, list[int]]] = []
        for choices in self._entry_choices:
            holders: dict[str, list[int]] = {}
            for local, choice in enumerate(choices):
                for term in self._choice_terms[choice]:
                    holders.setdefault(term, []).append(local)
            self._entry_holders.append(holders)
        self._phrasing_terms: list[frozenset[str]] = [frozenset(h) for h in self._entry_holders]
        # The smallest idf total among an entry's phrasings (1.0 when it has none: then
        # no asked word is among its phrasing terms and the value is never used).
        self._lightest = [min(totals, default=1.0) for totals in self._entry_totals]

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every term of the base, stemmed as ``analyse`` stems a question's."""
        return self._vocabulary_set

    @property
    def phrasing_count(self) -> int:
        return len(self._choices)

    def terms_of(self, entry_id: str) -> tuple[frozenset[str], frozenset[str]]:
        """An entry's key terms (title, phrasings, aliases) and its other terms (answer)."""
        item = self._indexed[self._position[entry_id]]
        return item.key_terms, item.body_terms

    def idf(self, term: str) -> float:
        if term in self._idf:
            return self._idf[term]
        # Short unknown tokens are mostly noise ("cy", "xx"), not a missing subject.
        return self._unknown_idf if len(term) >= 4 else self._unknown_idf / UNKNOWN_WEIGHT

    def analyse(self, text: str) -> Query:
        """Normalise, stem and spell-correct a question against the base's vocabulary."""
        normalised = normalise(text)
        terms: list[str] = []
        corrected: list[tuple[str, str]] = []
        unknown: list[str] = []
        for term in content_terms(tokens(normalised)):
            if term in self._vocabulary_set or len(term) < 4 or not term.isalpha():
                terms.append(term)
                if term not in self._vocabulary_set:
                    unknown.append(term)
                continue
            best = self._spell(term)
            if best is None:
                terms.append(term)
                unknown.append(term)
            else:
                terms.append(best)
                corrected.append((term, best))
        unique = tuple(dict.fromkeys(terms))
        return Query(text, normalised, unique, tuple(corrected), tuple(unknown))

    def rank(self, query: Query, limit: int = 8, kinds: Iterable[str] | None = None) -> list[Candidate]:
        """Entries best first, each with its combined score in 0..1."""
        if not query.terms:
            return []
        allowed = frozenset(kinds) if kinds is not None else None
        fuzzy_best: dict[int, tuple[float, int]] = {}
        sharing, texts = self._sharing(query)
        for _, score, at in process.extract(
            query.sorted_terms,
            texts,
            scorer=fuzz.ratio,
            processor=None,
            limit=FUZZY_SHORTLIST,
            score_cutoff=25,
        ):
            index = sharing[at]
            owner = self._choice_owner[index]
            if owner not in fuzzy_best or score > fuzzy_best[owner][0]:
                fuzzy_best[owner] = (score, index)

        weights = [self.idf(t) for t in query.terms]
        asked = frozenset(query.terms)
        total = sum(weights) or 1.0
        rare = {t for t, w in zip(query.terms, weights, strict=True) if w >= 2.5}
        # Entries only a rare word brings in (no phrasing in the fuzzy shortlist); at
        # 100k phrasings there can be thousands.
        rare_only: set[int] = set()
        for term in rare:
            rare_only.update(self._postings.get(term, ()))
        rare_only.difference_update(fuzzy_best)

        # Fuzzy and coverage are cheap; precision is not. Entries are taken best first
        # by their score at precision 1, and once that cannot reach the limit-th best
        # rounded score so far, no later entry can. An entry that can still get there
        # gets a tighter bound (the idf of the asked words its phrasings hold, over its
        # lightest phrasing) before its precision is worked out. Entries with fuzzy 0
        # can score at most _combine(0, 1, 1), so once the fuzzy shortlist has filled
        # the result above that, the rare-only entries are not looked at one by one.
        asked_weights = list(zip(query.terms, weights, strict=True))
        asked_idf = dict(asked_weights)
        scored: list[tuple[float, str, float, int, float, int, float]] = []
        kept: list[float] = []  # the best `limit` rounded scores so far, a min-heap

        def below(score: float) -> bool:
            """Whether an entry that can score at most ``score`` cannot enter the result."""
            return 0 < limit == len(kept) and round(score + _BOUND_SLACK, 4) < kept[0]

        def take(positions: Iterable[int]) -> None:
            bounded = []
            for position in positions:
                if allowed is not None and self._kinds[position] not in allowed:
                    continue
                found = self._term_factor[position]
                coverage = sum([w * found.get(t, 0.0) for t, w in asked_weights]) / total
                fuzzy_score, choice = fuzzy_best.get(position, (0.0, -1))
                bounded.append(
                    (_combine(fuzzy_score, coverage, 1.0), position, fuzzy_score, choice, coverage)
                )
            bounded.sort(key=itemgetter(0), reverse=True)
            for bound, position, fuzzy_score, choice, coverage in bounded:
                if below(bound):
                    break
                shared = asked & self._phrasing_terms[position]
                if shared:
                    most = min(1.0, sum([asked_idf[t] for t in shared]) / self._lightest[position])
                    if below(_combine(fuzzy_score, coverage, most)):
                        continue
                    precision = self._precision(position, asked_weights, shared)
                else:
                    precision = 0.0
                score = round(_combine(fuzzy_score, coverage, precision), 4)
                scored.append((-score, self._ids[position], score, position, fuzzy_score, choice, coverage))
                if limit > 0:
                    if len(kept) < limit:
                        heapq.heappush(kept, score)
                    elif score > kept[0]:
                        heapq.heapreplace(kept, score)

        take(fuzzy_best)
        if rare_only and not below(_combine(0.0, 1.0, 1.0)):
            take(rare_only)
        scored.sort()  # score, then entry id: ids are unique, so nothing further is compared
        return [
            Candidate(
                entry_id,
                score,
                self._choice_text[choice] if choice >= 0 else self._indexed[position].entry.title,
                round(fuzzy_score, 1),
                round(coverage, 3),
            )
            for _, entry_id, score, position, fuzzy_score, choice, coverage in scored[:limit]
        ]

    def _sharing(self, query: Query) -> tuple[list[int], list[str]]:
        """The phrasings worth fuzzy-matching, and their texts: those sharing a distinctive
        word with the question.

        A phrasing with no word in common can only resemble the question letter by
        letter, which is noise, not meaning; and skipping them is what keeps a large
        base fast (100k phrasings: the full scan alone took 11 ms). Words most phrasings
        hold ("NATO", "Japan") select nothing, so they count only when the question has
        no other word the base knows. Then the selection is large but one of few (those
        words are few), so it is built once and kept.
        """
        postings = self._choice_postings
        held = [t for t in query.terms if t in postings]
        distinctive = [t for t in held if len(postings[t]) <= self._common_posting]
        if distinctive:
            return self._phrasings_holding(distinctive)
        key = tuple(sorted(held))
        found = self._common_selections.get(key)
        if found is None:
            found = self._phrasings_holding(held)
            if len(self._common_selections) < COMMON_SELECTIONS:
                self._common_selections[key] = found
        return found

    def _phrasings_holding(self, terms: Iterable[str]) -> tuple[list[int], list[str]]:
        postings, choices = self._choice_postings, self._choices
        indices = sorted(set().union(*[postings[t] for t in terms]))
        return indices, [choices[i] for i in indices]

    def _precision(
        self, position: int, asked_weights: list[tuple[str, float]], shared: frozenset[str]
    ) -> float:
        """How much of the entry's best phrasing the question covers, rare words weighing most.

        Coverage alone cannot tell "when did Japan join NATO" from "when did Japan join
        the NATO cyber centre": the question's words are all in the entry. What is
        missing is on the entry's side: "cyber centre", the distinctive part.

        ``shared`` holds the asked words the entry's phrasings hold; each phrasing's hit
        is the idf of those it holds, summed in the question's order.
        """
        totals = self._entry_totals[position]
        holders = self._entry_holders[position]
        hits = [0.0] * len(totals)
        for term, weight in asked_weights:
            if term in shared:
                for local in holders[term]:
                    hits[local] += weight
        return max([hit / total for hit, total in zip(hits, totals, strict=True) if total], default=0.0)


def _combine(fuzzy: float, coverage: float, precision: float) -> float:
    """The combined score in 0..1 (fuzzy in 0..100).

    ``rank`` relies on it never decreasing as precision grows, to skip entries that
    cannot make the result even at the highest precision they could have.
    """
    return (
        FUZZY_SHARE * fuzzy / 100 + COVERAGE_SHARE * coverage + (1 - FUZZY_SHARE - COVERAGE_SHARE) * precision
    )


def _spelling(term: str, vocabulary: list[str]) -> str | None:
    """The known word ``term`` is a typo of, if it plausibly is one.

    Typos keep the first letter and mostly drop letters, so only words with the same
    first letter are candidates, and a short word is only corrected to one at least as
    long: "tokio" is "tokyo" and "cybr" is "cyber", but "tall" is not "all", "stock" is
    not "stok" and "reset" is not "rest".
    """
    candidates = [known for known in vocabulary if known[:1] == term[:1]]
    near = process.extract(term, candidates, scorer=fuzz.ratio, limit=3, score_cutoff=SPELLING_CUTOFF)
    for known, _, _ in near:
        if len(term) > 5 or len(known) >= len(term):
            return known
    return None


class _Speller:
    """``_spelling`` against one vocabulary, remembered: typos repeat.

    The vocabulary is split by first letter once, so a correction compares the word
    with a twentieth of it.
    """

    def __init__(self, vocabulary: list[str]) -> None:
        self._by_initial: dict[str, list[str]] = {}
        for known in vocabulary:
            self._by_initial.setdefault(known[:1], []).append(known)
        self._setup()

    def _setup(self) -> None:
        self._cached = functools.lru_cache(maxsize=SPELLING_CACHE)(self._correct)

    def _correct(self, term: str) -> str | None:
        return _spelling(term, self._by_initial.get(term[:1], []))

    def __call__(self, term: str) -> str | None:
        return self._cached(term)

    # The cache is a function wrapper, which pickle cannot store; it starts empty again.
    def __getstate__(self) -> dict[str, object]:
        return {"by_initial": self._by_initial}

    def __setstate__(self, state: dict[str, object]) -> None:
        self._by_initial = state["by_initial"]  # type: ignore[assignment]
        self._setup()


def _alias_groups(entries: Iterable[Entry]) -> list[tuple[tuple[str, ...], frozenset[str]]]:
    """For each term/person: its normalised alias phrases and the union of their terms."""
    groups = []
    for entry in entries:
        if not entry.aliases:
            continue
        phrases = tuple(p for p in {normalise(a) for a in entry.aliases} if p)
        terms = frozenset(t for p in phrases for t in content_terms(tokens(p)))
        if phrases and terms:
            groups.append((phrases, terms))
    return groups


class _AliasIndex:
    """Alias phrases by their first one or two words, to find which groups a text mentions.

    Normalised text is single-spaced words, so "the phrase occurs as whole words" and
    "its words occur consecutively" are the same test: a one-word phrase is one of the
    text's words, a two-word phrase one of its adjacent pairs, and a longer phrase is
    looked for only where its first two words are adjacent.
    """

    def __init__(self, groups: list[tuple[tuple[str, ...], frozenset[str]]]) -> None:
        self.terms = [terms for _, terms in groups]
        self._by_word: dict[str, list[int]] = {}
        self._by_pair: dict[tuple[str, str], list[tuple[int, list[str]]]] = {}
        for group, (phrases, _) in enumerate(groups):
            for phrase in phrases:
                words = phrase.split(" ")
                if len(words) == 1:
                    self._by_word.setdefault(words[0], []).append(group)
                else:
                    self._by_pair.setdefault((words[0], words[1]), []).append((group, words))

    def mentioned(self, text: str) -> set[int]:
        """Groups with a phrase in normalised ``text`` as whole words."""
        words = text.split(" ")
        found: set[int] = set()
        for word in self._by_word.keys() & words:
            found.update(self._by_word[word])
        for pair in self._by_pair.keys() & set(itertools.pairwise(words)):
            for group, phrase in self._by_pair[pair]:
                if group in found:
                    continue
                size = len(phrase)
                if size == 2 or any(
                    words[start : start + size] == phrase
                    for start in range(len(words) - size + 1)
                    if words[start] == phrase[0]
                ):
                    found.add(group)
        return found
