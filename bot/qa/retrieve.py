"""The retrieve stage: candidate entries for a question, from two retrievers, fused by rank.

* **lexical** — the matcher's fuzzy phrasing similarity and rarity-weighted coverage,
  after the shape checks (``bot.qa.fit``: a year for "when", the named speaker for "what
  did X say"…), which say what the question asks for that an entry lacks;
* **semantic** — the cosine of the question to every curated phrasing, title and answer
  in an embedding space (``bot.qa.semantic``), which finds paraphrases that share no
  word with any phrasing.

Their scores live on different scales, so they are joined by reciprocal rank fusion: an
entry's fused score is the sum of 1 / (k + rank) over the retrievers that found it. Each
candidate keeps every retriever's evidence for the judge, and so does the nearest curated
near miss and false premise (``Declined``): a question closer to a near miss of an entry
than to any of its phrasings asks for what the entry does not hold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bot.knowledge.base import Entry, KnowledgeBase
from bot.qa.answer import Candidate
from bot.qa.fit import Fit, Shape
from bot.qa.matcher import Matcher, Query
from bot.qa.semantic import EntryScores, SemanticIndex, SemanticModel, Vectors, dot
from bot.qa.vocabulary import content_terms
from bot.text import normalise, tokens

__all__ = [
    "CANDIDATES",
    "Declined",
    "DeclinedIndex",
    "Evidence",
    "LexicalRetriever",
    "NearestDeclined",
    "Retrieval",
    "Retriever",
    "Scored",
    "fuse",
]

# How many of the matcher's best the shape checks re-rank, and how many each retriever
# hands to fusion.
CANDIDATES = 8
# Reciprocal rank fusion's constant: 60 is the value of the original paper (Cormack et
# al., 2009); with 8 candidates a side it only orders ties between the two lists.
RRF_K = 60

# Question words that tell which kind of entry is wanted; a small nudge, not a filter.
_KIND_HINTS: tuple[tuple[re.Pattern[str], str, float], ...] = (
    (re.compile(r"^(who|whos)\b|\bwho (is|was)\b"), "person", 0.06),
    (re.compile(r"\b(say|said|quote|quoted|words|remark\w*|call(ed)?|describ\w*)\b"), "quote", 0.06),
    (
        re.compile(r"\b(should|recommend\w*|urge\w*|propos\w*|advice|advise|suggest\w*)\b"),
        "recommendation",
        0.06,
    ),
    (re.compile(r"\b(react\w*|respon\w*|criticis\w*|criticiz\w*|object\w*|view of)\b"), "reaction", 0.05),
    (
        re.compile(
            r"\b(obstacle\w*|hurdle\w*|barrier\w*|limit\w*|constrain\w*|prevent\w*|block\w*|slow\w*)\b"
        ),
        "obstacle",
        0.05,
    ),
    (re.compile(r"^(what (is|are|does)|whats|define|meaning)\b"), "term", 0.04),
)


@dataclass(frozen=True)
class Scored:
    """One entry as the lexical retriever and the shape checks see it."""

    entry: Entry
    candidate: Candidate  # its score is the fit: the match less the shape penalties
    relevance: float  # the match alone: how close the topic is, for suggestions


@dataclass(frozen=True)
class Evidence:
    """Everything the retrievers found about one candidate entry: what the judge reads."""

    entry: Entry
    lexical: Scored | None  # None when only the semantic retriever found it
    lexical_rank: int  # 1-based; 0 when absent
    lexical_gap: float  # lead over the best other entry (negative unless first)
    semantic: float  # cosine to the entry's closest phrasing, title or answer
    semantic_rank: int  # 1-based; 0 when absent
    semantic_gap: float  # lead over the best other entry (negative unless first)
    near_miss: float  # cosine to the entry's closest near miss or false premise
    near_miss_lexical: float  # the same, by content words (0..1)
    penalties: float  # the shape checks' total for this entry
    missing: float  # rarity-weighted share of the question's terms the entry lacks
    missing_rarest: float  # the rarest lacking term's weight, relative to the rarest possible
    unknown: float  # share of the question's terms the base does not know
    fused: float  # reciprocal rank fusion of both retrievers

    @property
    def entry_id(self) -> str:
        return self.entry.id

    def features(self) -> tuple[float, ...]:
        """The judge's view of this pair, in ``bot.qa.judge.FEATURES`` order."""
        lexical = self.lexical
        score = lexical.candidate.score if lexical else 0.0
        return (
            score,
            lexical.relevance if lexical else 0.0,
            1.0 / self.lexical_rank if self.lexical_rank else 0.0,
            self.lexical_gap,
            lexical.candidate.fuzzy if lexical else 0.0,
            lexical.candidate.coverage if lexical else 0.0,
            self.missing,
            self.missing_rarest,
            self.semantic,
            1.0 / self.semantic_rank if self.semantic_rank else 0.0,
            self.semantic_gap,
            self.near_miss,
            self.semantic - self.near_miss,
            self.near_miss_lexical,
            self.penalties,
            self.unknown,
            1.0 if self.lexical_rank == 1 and self.semantic_rank == 1 else 0.0,
            max(score, self.semantic),
        )


class LexicalRetriever:
    """The matcher's best candidates, re-ranked by the shape checks."""

    def __init__(self, kb: KnowledgeBase, matcher: Matcher, fit: Fit) -> None:
        self.kb = kb
        self.matcher = matcher
        self.fit = fit

    def retrieve(self, query: Query, shape: Shape | None = None, limit: int = CANDIDATES) -> list[Scored]:
        candidates = self.matcher.rank(query, limit=limit)
        text = query.normalised
        hinted = {kind: bonus for pattern, kind, bonus in _KIND_HINTS if pattern.search(text)}
        shape = shape if shape is not None else self.fit.shape(query)
        scored = []
        for candidate in candidates:
            entry = self.kb.by_id[candidate.entry_id]
            bonus = hinted.get(entry.kind, 0.0)
            if shape.asks_when and entry.date is not None:
                bonus += 0.04
            penalties = self.fit.penalties(entry, query, shape)
            score = max(0.0, min(1.0, candidate.score + bonus) - sum(amount for _, amount in penalties))
            adjustments = ((("kind or date fits", bonus),) if bonus else ()) + tuple(
                (reason, -amount) for reason, amount in penalties
            )
            scored.append(
                Scored(
                    entry,
                    Candidate(  # not dataclasses.replace: this runs for every candidate
                        entry.id,
                        round(score, 4),
                        candidate.phrasing,
                        candidate.fuzzy,
                        candidate.coverage,
                        candidate.score,
                        adjustments,
                    ),
                    candidate.score,
                )
            )
        scored.sort(key=lambda s: (-s.candidate.score, s.entry.id))
        return scored

    def penalty(self, entry: Entry, query: Query, shape: Shape) -> float:
        """The shape checks' total for any entry, found by either retriever."""
        return sum(amount for _, amount in self.fit.penalties(entry, query, shape))


@dataclass(frozen=True)
class Declined:
    """A curated question the notes decline: a near miss, or one on a false premise."""

    entry_id: str
    text: str
    false_premise: bool


@dataclass(frozen=True)
class NearestDeclined:
    declined: Declined
    similarity: float  # 0..1, by content words


class DeclinedIndex:
    """Near misses and false-premise questions, matched on their content words.

    The fuzzy scorer compares sorted content terms, as the matcher does for phrasings, so
    "what did the dutch say about the chip deal" meets "what did the dutch government say
    about the chip export deal" whatever the word order.
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self.rows: list[Declined] = []
        # Each distinct string of sorted content terms once, and which one each row has:
        # the same near miss is often curated for several entries (at 100k phrasings
        # 28,428 rows had 980 distinct strings), and each string is scored once.
        choice_of: dict[str, int] = {}
        row_choice: list[int] = []
        for entry in kb.entries:
            for text, false_premise in (
                *((t, False) for t in entry.near_misses),
                *((t, True) for t in entry.false_premises),
            ):
                terms = content_terms(tokens(normalise(text)))
                if terms:
                    self.rows.append(Declined(entry.id, text, false_premise))
                    row_choice.append(choice_of.setdefault(" ".join(sorted(terms)), len(choice_of)))
        self._choices: list[str] = list(choice_of)
        self._row_choice = np.asarray(row_choice, dtype=np.intp)

    def nearest(self, query: Query, limit: int = 8, exclude: str = "") -> list[NearestDeclined]:
        """The closest rows, best first; ``exclude`` leaves out a row's own text (training)."""
        if not query.terms or not self._choices:
            return []
        # What process.extract over every row's string gave, scoring each string once:
        # rows at or above the cutoff by score, then by position (extract's order), the
        # scores in float64 as extract returns them.
        scores = process.cdist(
            [query.sorted_terms],
            self._choices,
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=40,
            dtype=np.float64,
            workers=1,
        )[0][self._row_choice]
        found = np.flatnonzero(scores >= 40)
        if len(found) > limit + 1:
            kth = np.partition(scores[found], len(found) - limit - 1)[len(found) - limit - 1]
            found = found[scores[found] >= kth]
        order = found[np.lexsort((found, -scores[found]))][: limit + 1].tolist()
        rows = [NearestDeclined(self.rows[index], float(scores[index]) / 100.0) for index in order]
        return [r for r in rows if r.declined.text != exclude][:limit]


@dataclass(frozen=True)
class Retrieval:
    """What the retrieve stage hands on: the fused candidates and the nearest declined rows."""

    query: Query
    evidence: tuple[Evidence, ...]  # fused order, best first
    declined: tuple[NearestDeclined, ...]  # by content words
    declined_semantic: tuple[tuple[Declined, float], ...]  # by cosine, best first


class Retriever:
    """The lexical and the semantic retriever over one base, with its declined questions."""

    def __init__(
        self,
        kb: KnowledgeBase,
        matcher: Matcher,
        fit: Fit,
        model: SemanticModel | None,
        semantic: SemanticIndex | None = None,
        semantic_declined: SemanticIndex | None = None,
    ) -> None:
        """``semantic``, when given, is the index of ``kb`` already built (training builds
        the folds' indexes from the whole base's, without encoding anything again);
        ``semantic_declined`` likewise for its near misses and false premises, used when
        it holds exactly the texts ``kb``'s would (a fold leaves them all in)."""
        self.kb = kb
        self.matcher = matcher
        self.fit = fit
        self.lexical = LexicalRetriever(kb, matcher, fit)
        self.declined = DeclinedIndex(kb)
        self._rarest = max((matcher.idf(t) for t in matcher.vocabulary), default=1.0) or 1.0
        self.model = model
        self.semantic: SemanticIndex | None = None
        self.semantic_declined: SemanticIndex | None = None
        self._declined_rows: dict[str, list[Declined]] = {}
        self._declined_text_rows: dict[str, list[int]] | None = None
        if model is not None:
            self.semantic = semantic if semantic is not None else SemanticIndex.build(model, kb)
            for row in self.declined.rows:
                self._declined_rows.setdefault(row.entry_id, []).append(row)
            texts = [(entry_id, [r.text for r in rows]) for entry_id, rows in self._declined_rows.items()]
            reusable = semantic_declined is not None and (
                semantic_declined.entry_ids == tuple(entry_id for entry_id, _ in texts)
                and semantic_declined.texts == tuple(text for _, rows in texts for text in rows)
                and semantic_declined.matches(model)
            )
            self.semantic_declined = (
                semantic_declined
                if reusable and semantic_declined is not None
                else SemanticIndex.from_texts(model, texts)
            )
        self._semantic_position = (
            {e: i for i, e in enumerate(self.semantic.entry_ids)} if self.semantic else {}
        )
        self._declined_position = (
            {e: i for i, e in enumerate(self.semantic_declined.entry_ids)} if self.semantic_declined else {}
        )

    def retrieve(self, query: Query, limit: int = CANDIDATES, exclude: str = "") -> Retrieval:
        shape = self.fit.shape(query)
        lexical = self.lexical.retrieve(query, shape, limit)
        lexical_rank = {s.entry.id: rank for rank, s in enumerate(lexical, start=1)}
        lexical_scores = sorted((s.candidate.score for s in lexical), reverse=True)
        by_id = {s.entry.id: s for s in lexical}
        semantic_scores: EntryScores | None = None
        declined_scores: EntryScores | None = None
        semantic_ids: list[str] = []
        declined_semantic: list[tuple[Declined, float]] = []
        if self.model is not None and self.semantic is not None and self.semantic_declined is not None:
            vector = self.model.encode([query.text])[0]
            # Each index's scores are worked out once per question and serve the ranking
            # and every candidate's evidence alike.
            semantic_scores = self.semantic.scorer(vector)
            semantic_ids = [self.semantic.entry_ids[i] for i in semantic_scores.top(limit)]
            declined_scores = self.semantic_declined.scorer(vector, self._declined_excluded(exclude))
            for hit in [self.semantic_declined.entry_ids[i] for i in declined_scores.top(3)]:
                text, cosine = self._closest_declined(vector, hit, exclude)
                if text is not None:
                    declined_semantic.append((text, cosine))
        semantic_rank = {entry_id: rank for rank, entry_id in enumerate(semantic_ids, start=1)}
        fused = fuse([list(lexical_rank), semantic_ids])
        nearest = self.declined.nearest(query, exclude=exclude)
        lexical_near: dict[str, float] = {}
        for row in nearest:
            lexical_near.setdefault(row.declined.entry_id, row.similarity)
        unknown = len(query.unknown) / len(query.terms) if query.terms else 1.0
        best_semantic = (
            sorted((semantic_scores.best(self._semantic_position[e]) for e in fused), reverse=True)
            if semantic_scores is not None
            else []
        )
        evidence = []
        for entry_id, score in sorted(fused.items(), key=lambda item: (-item[1], item[0])):
            entry = self.kb.by_id[entry_id]
            scored = by_id.get(entry_id)
            cosine = (
                semantic_scores.best(self._semantic_position[entry_id])
                if semantic_scores is not None
                else 0.0
            )
            others = [s for s in best_semantic if s != cosine] or [0.0]
            near = 0.0
            if declined_scores is not None and entry_id in self._declined_position:
                near = declined_scores.best(self._declined_position[entry_id])
            penalties = (
                sum(-amount for reason, amount in scored.candidate.adjustments if amount < 0)
                if scored is not None
                else self.lexical.penalty(entry, query, shape)
            )
            missing, rarest = self._missing(entry_id, query)
            evidence.append(
                Evidence(
                    entry=entry,
                    lexical=scored,
                    lexical_rank=lexical_rank.get(entry_id, 0),
                    lexical_gap=_gap(scored.candidate.score if scored else 0.0, lexical_scores),
                    semantic=cosine,
                    semantic_rank=semantic_rank.get(entry_id, 0),
                    semantic_gap=cosine - max(others),
                    near_miss=near,
                    near_miss_lexical=lexical_near.get(entry_id, 0.0),
                    penalties=penalties,
                    missing=missing,
                    missing_rarest=rarest,
                    unknown=unknown,
                    fused=score,
                )
            )
        return Retrieval(query, tuple(evidence), tuple(nearest), tuple(declined_semantic))

    def _missing(self, entry_id: str, query: Query) -> tuple[float, float]:
        """How much of the question, weighted by rarity, the entry does not mention at all:
        a near miss usually adds the one word the entry lacks ("dutch", "cost", "staff")."""
        if not query.terms:
            return 0.0, 0.0
        key, body = self.matcher.terms_of(entry_id)
        weights = [(self.matcher.idf(term), term in key or term in body) for term in query.terms]
        total = sum(w for w, _ in weights) or 1.0
        lacking = [w for w, held in weights if not held]
        return sum(lacking) / total, max(lacking, default=0.0) / self._rarest

    def _declined_excluded(self, exclude: str) -> list[int]:
        """The declined index's rows holding ``exclude``: training reads a near miss as a
        question, and its own row must not answer for it."""
        if not exclude or self.semantic_declined is None:
            return []
        if self._declined_text_rows is None:  # training's first such question
            self._declined_text_rows = {}
            for position, text in enumerate(self.semantic_declined.texts):
                self._declined_text_rows.setdefault(text, []).append(position)
        return self._declined_text_rows.get(exclude, [])

    def _closest_declined(
        self, vector: Vectors, entry_id: str, exclude: str
    ) -> tuple[Declined | None, float]:
        assert self.semantic_declined is not None
        rows = self._declined_rows[entry_id]
        index = self.semantic_declined
        i = self._declined_position[entry_id]
        start = int(index.starts[i])
        scores = dot(index.matrix[start : start + len(rows)], vector)
        best, best_score = None, -1.0
        for row, score in zip(rows, scores, strict=True):
            if row.text != exclude and float(score) > best_score:
                best, best_score = row, float(score)
        return best, best_score


def _gap(score: float, ranked: Sequence[float]) -> float:
    """``score`` less the best score of the others in ``ranked`` (best first)."""
    if not ranked:
        return 0.0
    if score >= ranked[0]:
        return score - (ranked[1] if len(ranked) > 1 else 0.0)
    return score - ranked[0]


def fuse(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion of several rankings of entry ids: id -> fused score."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, entry_id in enumerate(ranking, start=1):
            fused[entry_id] = fused.get(entry_id, 0.0) + 1.0 / (k + rank)
    return fused
