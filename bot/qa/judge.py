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

``Judge.fit`` can also hold each weight to the sign its feature's meaning gives it
(``SIGNS``; an active-set method, still deterministic), since fitted freely collinear
features take the opposite sign (coverage and fuzzy beside the lexical score). Measured
on the pipeline it gains a question or two and costs answers the tests pin, so
``bot.qa.training`` fits freely (``training.CONSTRAINED``; docs/answering.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["FEATURES", "GATE_FEATURES", "SIGNS", "CrossValidation", "Judge", "cross_validate"]

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
    # max(lexical, semantic): as sure as the surer retriever. A sum of weights cannot say
    # "either one sure is enough"; fitted, the gate weighs it positively, and 5-fold
    # cross-validation of the pipeline declines 92.8% of the unanswerable (91.6% without).
    "lexical_or_semantic",
)

Matrix = npt.NDArray[np.float64]


# What the gate reads about a question's best-ranked candidate: its features, and how
# sure the ranker was of it and of its lead over the runner-up.
GATE_FEATURES: tuple[str, ...] = (*FEATURES, "ranker", "ranker_lead")

# The sign each feature's weight must have, from what it means: more of a match, of a
# lead, of agreement can only make an entry likelier to answer (+1); more of what the
# entry lacks, of closeness to what it does not hold, of words the base does not know
# can only make it less likely (-1). Fitted freely, collinear features (coverage and
# fuzzy beside lexical, near_miss_margin beside semantic and near_miss) took the wrong
# sign, which fits the training data and fails on the questions it has not seen.
SIGNS: dict[str, int] = {
    "lexical": 1,
    "lexical_match": 1,
    "lexical_rank": 1,
    "lexical_gap": 1,
    "fuzzy": 1,
    "coverage": 1,
    "missing": -1,
    "missing_rarest": -1,
    "semantic": 1,
    "semantic_rank": 1,
    "semantic_gap": 1,
    "near_miss": -1,
    "near_miss_margin": 1,
    "near_miss_lexical": -1,
    "penalties": -1,
    "unknown": -1,
    "agreement": 1,
    "lexical_or_semantic": 1,
    "ranker": 1,
    "ranker_lead": 1,
}


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
        signs: Mapping[str, int] | None = None,
    ) -> Judge:
        """Newton's method on the penalised, weighted log-likelihood; the bias is not penalised.

        With ``signs`` (feature name to +1 or -1; others are free), each named feature's
        weight keeps that sign or is 0: the constrained optimum, found by an active-set
        method (``_constrained``)."""
        if x.ndim != 2 or x.shape[1] != len(features) or len(y) != len(x):
            raise ValueError(f"expected an (n, {len(features)}) matrix and n labels")
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-9] = 1.0  # a constant feature carries nothing; keep it harmless
        design = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
        penalty = np.full(design.shape[1], l2)
        penalty[0] = 0.0
        w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
        if signs is None:
            theta = _newton(design, y, w, penalty, np.zeros(design.shape[1]), iterations)
        else:
            # The scale is positive, so a standardised weight's sign is the raw one's.
            sign = np.array([0.0, *(float(signs.get(name, 0)) for name in features)])
            theta = _constrained(design, y, w, penalty, sign, iterations)
        return cls(
            features=features,
            weights=tuple(float(w) for w in theta[1:]),
            bias=float(theta[0]),
            mean=tuple(float(m) for m in mean),
            scale=tuple(float(s) for s in scale),
            examples=len(y),
        )


def _newton(
    design: Matrix,
    y: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    penalty: npt.NDArray[np.float64],
    theta: npt.NDArray[np.float64],
    iterations: int,
    free: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.float64]:
    """The penalised optimum from ``theta``, moving only the ``free`` coordinates (all by default)."""
    theta = theta.copy()
    index = np.arange(design.shape[1]) if free is None else np.flatnonzero(free)
    sub = design[:, index]
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ theta, -30, 30)))
        gradient = sub.T @ (w * (p - y)) + penalty[index] * theta[index]
        # einsum, not @: a multi-threaded BLAS on a busy two-core machine made this
        # product several times slower than numpy's own single-threaded loop.
        curvature = np.einsum("ni,nj->ij", sub * (w * p * (1 - p))[:, None], sub)
        hessian = curvature + np.diag(penalty[index] + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta[index] -= step
        if float(np.max(np.abs(step))) < 1e-8:  # Newton converges in about ten steps
            break
    return theta


def _constrained(
    design: Matrix,
    y: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    penalty: npt.NDArray[np.float64],
    sign: npt.NDArray[np.float64],
    iterations: int,
) -> npt.NDArray[np.float64]:
    """The penalised optimum with ``sign[j] * theta[j] >= 0`` wherever ``sign[j]`` is not 0.

    Lawson and Hanson's active-set method (as for non-negative least squares), with a
    Newton fit for each subproblem: weights held at 0 form the active set; the others are
    fitted freely; if that optimum breaks a sign, the step is cut back along the segment
    from the last feasible point to where the first weight reaches 0 (the objective is
    convex, so it falls all along), that weight joins the active set, and the rest are
    refitted; when the free optimum keeps every sign, the held weight whose gradient
    wants it to grow in its allowed direction most is freed, until none does (the KKT
    conditions). It starts from all weights at 0 and none held, so the first subproblem is
    the unconstrained fit. Deterministic, and each step lowers the objective, so it ends
    (the loop's bound is a guard against rounding, never reached in practice).
    """
    constrained = sign != 0
    theta = np.zeros(design.shape[1])  # feasible: the first subproblem is the free fit
    held = np.zeros(design.shape[1], dtype=bool)
    tolerance = 1e-6 * float(w.sum())  # the gradient is a sum over the examples
    for _ in range(4 * design.shape[1] + 4):
        candidate = _newton(design, y, w, penalty, theta, iterations, ~held)
        wrong = constrained & ~held & (sign * candidate < 0)
        if wrong.any():
            # How far towards ``candidate`` each wrong-signed weight can go before 0.
            fractions = np.where(wrong, theta / np.where(wrong, theta - candidate, 1.0), np.inf)
            first = int(np.argmin(fractions))
            theta = theta + float(np.clip(fractions[first], 0.0, 1.0)) * (candidate - theta)
            # Every wrong-signed weight that reached 0 on the way (ties, or all of them
            # from the start) is held there.
            reached = wrong & (sign * theta <= 1e-12)
            reached[first] = True
            theta[reached] = 0.0
            held |= reached
            continue
        theta = candidate
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ theta, -30, 30)))
        gradient = design.T @ (w * (p - y)) + penalty * theta
        # Moving a held weight by -gradient lowers the objective; allowed when that
        # direction is its sign's.
        pull = np.where(held, -sign * gradient, 0.0)
        if float(pull.max()) <= tolerance:
            break
        held[int(np.argmax(pull))] = False
    return theta


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
    signs: Mapping[str, int] | None = None,
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
            x[~held],
            y[~held],
            features,
            l2=l2,
            weight=None if weight is None else weight[~held],
            signs=signs,
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
