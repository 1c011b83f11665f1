"""Cross-validation of the answering pipeline on the dev set: the honest estimate.

The judge (``bot.qa.training``) is fitted on the dev set among its data, so the dev set
can no longer score the bot it trained: this fits the judge k times, each time without one
fold of the dev questions, and scores the whole pipeline (read, retrieve, judge, decide)
on the fold left out, at several thresholds. It also prints the k-fold cross-validation of
the two fitted models on all their examples. It prints numbers; it asserts nothing.

Run with ``python benchmarks/cv_judge.py [--folds 5] [--l2 1.0] [--constrained gate]``
(under a minute). ``--constrained`` fits the named models (ranker, gate, both or none)
with each weight held to the sign its feature's meaning gives it (``judge.SIGNS``).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.knowledge.loading import load_knowledge  # noqa: E402
from bot.qa import training  # noqa: E402
from bot.qa.devset import default_dev_set, load_dev_set  # noqa: E402
from bot.qa.engine import DEFAULT_THRESHOLD, Engine  # noqa: E402
from bot.qa.evaluation import evaluate  # noqa: E402
from bot.qa.training import train  # noqa: E402

THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--l2", type=float, default=training.L2, help="the judge's L2 penalty")
    parser.add_argument(
        "--constrained",
        default=None,
        help="which models hold each weight to its feature's sign: ranker,gate | ranker | gate | none"
        f" (default {','.join(sorted(training.CONSTRAINED)) or 'none'})",
    )
    args = parser.parse_args()
    training.L2 = args.l2
    if args.constrained is not None:
        chosen = frozenset(args.constrained.split(",")) - {"none", ""}
        if not chosen <= {"ranker", "gate"}:
            parser.error(f"--constrained: ranker, gate or none, not {args.constrained!r}")
        training.CONSTRAINED = chosen
    signed = ", ".join(sorted(training.CONSTRAINED)) or "neither"
    print(f"L2 {training.L2}; weights held to their signs in: {signed}")
    kb = load_knowledge()
    engine = Engine(kb)
    models = train(kb, engine.retriever, engine.model, validate=True)
    print(f"ranker, {models.ranker.examples} (question, entry) pairs: {models.ranker_validation}")
    print(f"gate, {models.gate.examples} questions: {models.gate_validation}")
    cases = load_dev_set(default_dev_set())
    totals = {t: [0, 0, 0, 0] for t in THRESHOLDS}
    for fold in range(args.folds):
        fitted = [c for i, c in enumerate(cases) if i % args.folds != fold]
        scored = [c for i, c in enumerate(cases) if i % args.folds == fold]
        held_out = copy.copy(engine)
        held_out.judge = train(kb, engine.retriever, engine.model, dev=fitted)
        for threshold in THRESHOLDS:
            report = evaluate(held_out.with_threshold(threshold), scored)
            total = totals[threshold]
            total[0] += sum(o.correct for o in report.in_scope)
            total[1] += len(report.in_scope)
            total[2] += sum(o.correct for o in report.out_of_scope)
            total[3] += len(report.out_of_scope)
    print(f"\n{args.folds}-fold cross-validation of the pipeline on {len(cases)} dev questions:")
    print("  threshold  in-scope  abstention")
    for threshold, (right, answerable, declined, unanswerable) in totals.items():
        mark = "  <- default" if abs(threshold - DEFAULT_THRESHOLD) < 1e-9 else ""
        print(f"  {threshold:9.2f}  {right / answerable:8.1%}  {declined / unanswerable:10.1%}{mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
