"""Engine benchmark: cold start, per-question latency, memory, and scaling.

Run with ``make bench`` (or ``python benchmarks/bench_engine.py``). It prints numbers;
it asserts nothing. Targets from the engine issue: p99 ≤ 1 ms per question on the real
base, ≤ 10 ms median at 100k phrasings, cold start ≤ 0.5 s.
"""

from __future__ import annotations

import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.engine import Engine  # noqa: E402
from bot.evaluation import default_dev_set, load_dev_set  # noqa: E402
from bot.knowledge import KnowledgeBase, load_knowledge  # noqa: E402

COLD_START = """
import time
t0 = time.perf_counter()
from bot.engine import Engine
from bot.knowledge import load_knowledge
engine = Engine(load_knowledge())
engine.ask("when did japan join the nato cyber centre")
print(time.perf_counter() - t0)
"""

WORDS = (
    "alliance maritime patrol summit declaration exercise cyber centre liaison office "
    "partnership programme ministers dialogue security strategy relief airlift trust fund "
    "semiconductor export controls subsea cables observer council interoperability training"
).split()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def time_questions(engine: Engine, questions: list[str], rounds: int = 3) -> list[float]:
    samples = []
    for _ in range(rounds):
        for question in questions:
            start = time.perf_counter()
            engine.ask(question)
            samples.append(time.perf_counter() - start)
    return samples


def synthetic(kb: KnowledgeBase, phrasings: int, seed: int = 7) -> KnowledgeBase:
    """Copies of the real entries with varied ids and questions, up to ``phrasings``."""
    rng = random.Random(seed)
    entries = []
    count = 0
    index = 0
    while count < phrasings:
        base = kb.entries[index % len(kb.entries)]
        extra = " ".join(rng.sample(WORDS, 3))
        questions = tuple(f"{q} {extra} {index}" for q in base.questions)
        entries.append(replace(base, id=f"{base.id}-{index}", questions=questions, related=(), aliases=()))
        count += len(questions) + 1
        index += 1
    return KnowledgeBase(tuple(entries), kb.documents, kb.directory)


def main() -> None:
    walls, insides = [], []
    for _ in range(5):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", COLD_START], capture_output=True, text=True, cwd=REPO, check=True
        )
        walls.append(time.perf_counter() - start)
        insides.append(float(out.stdout.strip()))
    print(
        f"cold start, process spawn to first answer (median of 5): {statistics.median(walls) * 1000:.0f} ms"
        f" (of which imports + load + index + answer: {statistics.median(insides) * 1000:.0f} ms)"
    )

    process_start = time.perf_counter()
    kb = load_knowledge()
    engine = Engine(kb)
    print(
        f"in-process load + index: {(time.perf_counter() - process_start) * 1000:.0f} ms "
        f"({len(kb)} entries, {engine.matcher.phrasing_count} phrasings)"
    )

    questions = [case.question for case in load_dev_set(default_dev_set())]
    samples = time_questions(engine, questions)
    print(
        f"real base, {len(samples)} questions: median {statistics.median(samples) * 1e3:.3f} ms, "
        f"p99 {percentile(samples, 0.99) * 1e3:.3f} ms, max {max(samples) * 1e3:.3f} ms"
    )

    for size in (10_000, 100_000):
        start = time.perf_counter()
        big = Engine(synthetic(kb, size))
        built = time.perf_counter() - start
        sample = time_questions(big, questions[:120], rounds=1)
        print(
            f"synthetic {big.matcher.phrasing_count:,} phrasings (built in {built:.1f} s): "
            f"median {statistics.median(sample) * 1e3:.2f} ms, p99 {percentile(sample, 0.99) * 1e3:.2f} ms"
        )

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak memory (max RSS, including the 100k base): {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
