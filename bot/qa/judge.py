"""The judge: how likely a retrieved entry answers what was asked, learned from examples.

Similarity alone cannot decide: a near miss ("what did the dutch government say about the
chip export deal") scores as high against its entry as a true paraphrase. The judge
weighs several kinds of evidence at once — the lexical match after the shape checks, the
semantic similarity, how close the question is to a curated near miss of the entry, the
ranks of each retriever, how much of the question the base does not know — with weights
fitted from labelled questions (``bot.qa.training``): the curated phrasings of every
entry, its near misses, and the dev set.

The model is an L2-regularised logistic regression fitted by Newton's method: a dozen
features and a few thousand examples need nothing larger, it is deterministic (no random
start, no sampling), and predicting is a dot product. scikit-learn would bring ~150 MB
(scipy included) and ~0.5 s of import to every cache-miss start for the same estimator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["FEATURES", "GATE_FEATURES", "CrossValidation", "Judge", "cross_validate"]

# What the judge reads about one (question, entry) pair; ``bot.qa.training`` and the
# engine compute them the same way (``bot.qa.retrieve.Evidence.features``).
FEATURES: tuple[str, ...] = (
    "lexical",  # the matcher's score after the shape checks (0 when not retrieved lexically)
    "lexical_match",  # the matcher's score before them
    "lexical_rank",  # 1 / rank among the lexical candidates, 0 when absent
    "lexical_gap",  # lead over the best other entry lexically (negative unless first)
    "fuzzy",  # the closest curated phrasing's fuzzy similarity
    "coverage",  # rarity-weighted share of the question's words the entry holds
    "missing",  # rarity-weighted share of the question's words the entry lacks entirely
    "missing_rarest",  # the rarest such word's weight, over the rarest word's of the base
    "semantic",  # cosine of the question to the entry's closest phrasing
    "semantic_rank",  # 1 / rank among the semantic candidates
    "semantic_gap",  # how far ahead of the next entry semantically (0 unless first)
    "near_miss",  # cosine to the entry's closest curated near miss (0 when it has none)
    "near_miss_margin",  # semantic - near_miss: above 0, closer to a phrasing than a near miss
    "near_miss_lexical",  # the same closeness by content words
    "penalties",  # the shape checks' total penalty (what the question asks that the entry lacks)
    "unknown",  # share of the question's terms the base does not know
    "agreement",  # 1 when both retrievers put this entry first
)

Matrix = npt.NDArray[np.float64]


# What the gate reads about a question's best-ranked candidate: its features, and how
# sure the ranker was of it and of its lead over the runner-up.
GATE_FEATURES: tuple[str, ...] = (*FEATURES, "ranker", "ranker_lead")


@dataclass(frozen=True)
class Judge:
    """A fitted logistic regression over named features; ``probability`` is all a question costs."""

    features: tuple[str, ...]
    weights: tuple[float, ...]  # per feature, on standardised values
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    examples: int = 0  # how many labelled pairs it was fitted on

    def probability(self, values: Sequence[float]) -> float:
        z = self.bias
        for value, weight, mean, scale in zip(values, self.weights, self.mean, self.scale, strict=True):
            z += weight * (value - mean) / scale
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def strongest(self, values: Sequence[float], count: int = 3) -> tuple[tuple[str, float], ...]:
        """The features that moved this pair's score most, for ``--explain``."""
        pulls = [
            (name, weight * (value - mean) / scale)
            for name, value, weight, mean, scale in zip(
                self.features, values, self.weights, self.mean, self.scale, strict=True
            )
        ]
        pulls.sort(key=lambda item: -abs(item[1]))
        return tuple((name, round(pull, 2)) for name, pull in pulls[:count])

    @classmethod
    def fit(
        cls,
        x: Matrix,
        y: npt.NDArray[np.float64],
        features: tuple[str, ...] = FEATURES,
        l2: float = 1.0,
        iterations: int = 50,
        weight: npt.NDArray[np.float64] | None = None,
    ) -> Judge:
        """Newton's method on the penalised, weighted log-likelihood; the bias is not penalised."""
        if x.ndim != 2 or x.shape[1] != len(features) or len(y) != len(x):
            raise ValueError(f"expected an (n, {len(features)}) matrix and n labels")
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-9] = 1.0  # a constant feature carries nothing; keep it harmless
        design = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
        theta = np.zeros(design.shape[1])
        penalty = np.full(design.shape[1], l2)
        penalty[0] = 0.0
        w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
        for _ in range(iterations):
            p = 1.0 / (1.0 + np.exp(-np.clip(design @ theta, -30, 30)))
            gradient = design.T @ (w * (p - y)) + penalty * theta
            # einsum, not @: a multi-threaded BLAS on a busy two-core machine made this
            # product several times slower than numpy's own single-threaded loop.
            curvature = np.einsum("ni,nj->ij", design * (w * p * (1 - p))[:, None], design)
            hessian = curvature + np.diag(penalty + 1e-9)
            step = np.linalg.solve(hessian, gradient)
            theta -= step
            if float(np.max(np.abs(step))) < 1e-8:  # Newton converges in about ten steps
                break
        return cls(
            features=features,
            weights=tuple(float(w) for w in theta[1:]),
            bias=float(theta[0]),
            mean=tuple(float(m) for m in mean),
            scale=tuple(float(s) for s in scale),
            examples=len(y),
        )


@dataclass(frozen=True)
class CrossValidation:
    """k-fold scores of the judge on the data it is fitted from, folds grouped by question."""

    folds: int
    log_loss: float
    accuracy: float  # of the pair labels at p = 0.5
    first_choice: float  # questions whose best-judged entry is a right one, among answerable
    declined: float  # questions with no right entry whose best pair is under 0.5


def cross_validate(
    x: Matrix,
    y: npt.NDArray[np.float64],
    groups: Sequence[int],
    folds: int = 5,
    l2: float = 1.0,
    features: tuple[str, ...] = FEATURES,
    weight: npt.NDArray[np.float64] | None = None,
) -> CrossValidation:
    """Every question is scored by a judge fitted without it (deterministic folds)."""
    group_array = np.asarray(groups)
    unique = np.unique(group_array)
    fold_of = {int(g): i % folds for i, g in enumerate(unique)}
    assignment = np.array([fold_of[int(g)] for g in group_array])
    predicted = np.zeros(len(y))
    for fold in range(folds):
        held = assignment == fold
        if not held.any() or held.all():
            continue
        judge = Judge.fit(
            x[~held], y[~held], features, l2=l2, weight=None if weight is None else weight[~held]
        )
        predicted[held] = [judge.probability(row) for row in x[held]]
    clipped = np.clip(predicted, 1e-6, 1 - 1e-6)
    log_loss = float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)))
    accuracy = float(np.mean((predicted >= 0.5) == (y == 1)))
    answerable = right = unanswerable = declined = 0
    for group in unique:
        rows = group_array == group
        best = int(np.argmax(predicted[rows]))
        if y[rows].any():
            answerable += 1
            right += bool(y[rows][best] == 1 and predicted[rows][best] >= 0.5)
        else:
            unanswerable += 1
            declined += bool(predicted[rows][best] < 0.5)
    return CrossValidation(
        folds=folds,
        log_loss=round(log_loss, 4),
        accuracy=round(accuracy, 4),
        first_choice=round(right / answerable, 4) if answerable else 0.0,
        declined=round(declined / unanswerable, 4) if unanswerable else 0.0,
    )
