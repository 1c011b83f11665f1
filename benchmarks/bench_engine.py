"""Engine benchmark: cold start, per-question latency, memory, and scaling.

Run with ``make bench`` (or ``python benchmarks/bench_engine.py [--repeat N]``). It prints
numbers; it asserts nothing. Targets (#12): p99 ≤ 5 ms per question on the real
base, ≤ 10 ms median at 100k phrasings, cold start ≤ 0.5 s (≤ 3 s after a knowledge
change), peak RSS ≤ 150 MB.

Every measurement runs in a fresh Python process, ``--repeat`` times (default 3), and is
reported as best and median of those runs: the numbers are for a busy two-core machine
where other work comes and goes, so a single run says little.

- cold start: the product path, ``python -m adapters.cli ask "<question>"``, from
  spawning it to the first answer line printed, timed by the parent, with its peak memory.
  Twice: with a warm prepared-base cache (``bot.ops.prepared``; the normal start) and with a
  cache miss (the first start after a knowledge or code change: a fresh, empty
  ``BRIEFBOT_CACHE_DIR``, so the base is validated, indexed and written to the cache).
  Then the split of the same work inside a child (imports, prepare, first answer).
- per question: every dev-set question once, in a process that has answered nothing yet
  (first pass: the caches of recent spellings, words and strings hold only what loading
  put there), then twice more (repeat passes: everything asked is cached). The first pass
  is what a new question costs; the repeat passes are what a repeated one costs.
- CPU time: beside each wall-clock time, the CPU time the asking thread used
  (``time.thread_time``): on a machine where other work holds the cores, wall time
  includes the wait for one, and CPU time is what the work itself costs.
- peak memory: the child's maximum resident set size after its work.
- synthetic bases of 10k and 100k phrasings: the real entries copied with varied
  phrasings, the first 120 dev questions once each, in a process of their own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.knowledge.base import KnowledgeBase  # noqa: E402

FIRST_QUESTION = "when did japan join the nato cyber centre"

# The real start: the console's `ask`, as a user or a script runs it.
COLD_START = [sys.executable, "-m", "adapters.cli", "ask", FIRST_QUESTION]
# The same work in a child that times its own parts: what `ask` imports, then prepare()
# (the cache, or load + validate + index + write), then the first answer.
COLD_START_SPLIT = f"""
import time
t0 = time.perf_counter()
import adapters.cli
from bot.ops.prepared import prepare
t1 = time.perf_counter()
engine = prepare()
t2 = time.perf_counter()
engine.ask({FIRST_QUESTION!r})
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, flush=True)
"""

WORDS = (
    "alliance maritime patrol summit declaration exercise cyber centre liaison office "
    "partnership programme ministers dialogue security strategy relief airlift trust fund "
    "semiconductor export controls subsea cables observer council interoperability training"
).split()

SYNTHETIC_QUESTIONS = 120


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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


# -- what each child process measures --------------------------------------------------


def _timed(ask: Callable[[str], object], questions: list[str], cpu: list[float] | None = None) -> list[float]:
    """Wall seconds per question; with ``cpu``, the thread's CPU seconds appended to it."""
    samples = []
    for question in questions:
        start, used = time.perf_counter(), time.thread_time()
        ask(question)
        samples.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.thread_time() - used)
    return samples


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_real() -> dict[str, Any]:
    from bot.knowledge.loading import load_knowledge
    from bot.qa.devset import default_dev_set, load_dev_set
    from bot.qa.engine import Engine

    engine = Engine(load_knowledge())
    questions = [case.question for case in load_dev_set(default_dev_set())]
    first_cpu: list[float] = []
    repeat_cpu: list[float] = []
    first = _timed(engine.ask, questions, first_cpu)
    repeat = _timed(engine.ask, questions, repeat_cpu) + _timed(engine.ask, questions, repeat_cpu)
    return {
        "entries": len(engine.kb),
        "phrasings": engine.matcher.phrasing_count,
        "first": first,
        "repeat": repeat,
        "first_cpu": first_cpu,
        "repeat_cpu": repeat_cpu,
        "peak_mib": _peak_mib(),
    }


def child_synthetic(size: int) -> dict[str, Any]:
    from bot.knowledge.loading import load_knowledge
    from bot.qa.devset import default_dev_set, load_dev_set
    from bot.qa.engine import Engine

    kb = synthetic(load_knowledge(), size)
    start, used = time.perf_counter(), time.process_time()
    engine = Engine(kb)
    built, built_cpu = time.perf_counter() - start, time.process_time() - used
    questions = [case.question for case in load_dev_set(default_dev_set())][:SYNTHETIC_QUESTIONS]
    cpu: list[float] = []
    return {
        "phrasings": engine.matcher.phrasing_count,
        "built": built,
        "built_cpu": built_cpu,
        "first": _timed(engine.ask, questions, cpu),
        "first_cpu": cpu,
        "peak_mib": _peak_mib(),
    }


# -- the parent: spawn, repeat, summarise ------------------------------------------------


def _run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=REPO, check=True
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def _best_typical(values: list[float], unit: str = "ms", scale: float = 1e3, digits: int = 2) -> str:
    best, typical = min(values) * scale, statistics.median(values) * scale
    return f"best {best:.{digits}f} {unit}, median {typical:.{digits}f} {unit}"


def _first_line(command: list[str], cache: str) -> tuple[float, str, float]:
    """Spawn ``command`` with ``cache`` as its cache directory: seconds to its first line of
    output, that line, and the process's peak memory (MiB) once it has finished."""
    env = {**os.environ, "BRIEFBOT_CACHE_DIR": cache}
    env.pop("BRIEFBOT_KNOWLEDGE_DIR", None)  # the bundled base, as an unconfigured user has it
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO, env=env)
    assert child.stdout is not None
    line = child.stdout.readline()  # the answer's first line
    wall = time.perf_counter() - start
    child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0 or not line.strip():
        raise SystemExit(f"{' '.join(command[:4])} failed (exit {child.returncode})")
    return wall, line, usage.ru_maxrss / 1024


def cold_start(repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="briefbot-bench-") as scratch:
        warm = os.path.join(scratch, "warm")
        _first_line(COLD_START, warm)  # fills the cache the warm runs read
        for label, reused in (("warm cache", warm), ("cache miss", None)):
            # A miss starts each process with a new, empty cache directory of its own.
            runs = [_first_line(COLD_START, reused or tempfile.mkdtemp(dir=scratch)) for _ in range(repeat)]
            split = [
                _first_line([sys.executable, "-c", COLD_START_SPLIT], reused or tempfile.mkdtemp(dir=scratch))
                for _ in range(repeat)
            ]
            walls = [wall for wall, _, _ in runs]
            print(
                f"cold start, {label}, `briefbot ask` spawn to first answer line ({repeat} runs): "
                f"{_best_typical(walls, digits=0)}"
            )
            prepared = "prepare (cache read)" if reused else "prepare (load, index, write)"
            splits = [[float(x) * 1e3 for x in line.split()] for _, line, _ in split]
            parts = ", ".join(
                f"{name} {min(column):.0f}/{statistics.median(column):.0f}"
                for name, column in zip(
                    ("imports", prepared, "first answer"), zip(*splits, strict=True), strict=True
                )
            )
            peak = statistics.median(p for _, _, p in runs)
            print(f"  in a child doing the same, best/median ms: {parts}")
            print(f"  peak memory of that process (max RSS): {peak:.0f} MiB")
        size = sum(os.path.getsize(os.path.join(warm, n)) for n in os.listdir(warm) if n.endswith(".pickle"))
        print(f"  prepared-base cache file: {size / 2**20:.2f} MiB")


def real_base(repeat: int) -> None:
    runs = [_run_child("real") for _ in range(repeat)]
    first = runs[0]
    print(
        f"real base ({first['entries']} entries, {first['phrasings']} phrasings), "
        f"{len(first['first'])} dev questions, {repeat} processes:"
    )
    for label, key in (("first pass (cold caches)", "first"), ("repeat passes (warm caches)", "repeat")):
        medians = [statistics.median(r[key]) for r in runs]
        p99s = [percentile(r[key], 0.99) for r in runs]
        maxes = [max(r[key]) for r in runs]
        print(
            f"  {label}: median {_ms(min(medians))}/{_ms(statistics.median(medians))} ms, "
            f"p99 {_ms(min(p99s))}/{_ms(statistics.median(p99s))} ms, "
            f"max {_ms(min(maxes))}/{_ms(statistics.median(maxes))} ms  (best/median of processes)"
        )
        print(f"    CPU time of the same: {_cpu(runs, key + '_cpu')}")
    peaks = [float(r["peak_mib"]) for r in runs]
    print(f"  peak memory after the dev set (max RSS): {statistics.median(peaks):.0f} MiB")


def synthetic_bases(repeat: int, sizes: list[int]) -> None:
    for size in sizes:
        runs = [_run_child("synthetic", str(size)) for _ in range(repeat)]
        medians = [statistics.median(r["first"]) for r in runs]
        p99s = [percentile(r["first"], 0.99) for r in runs]
        built = [float(r["built"]) for r in runs]
        built_cpu = [float(r["built_cpu"]) for r in runs]
        peaks = [float(r["peak_mib"]) for r in runs]
        print(
            f"synthetic {runs[0]['phrasings']:,} phrasings, {SYNTHETIC_QUESTIONS} questions, "
            f"{repeat} processes: "
            f"median {_ms(min(medians))}/{_ms(statistics.median(medians))} ms, "
            f"p99 {_ms(min(p99s))}/{_ms(statistics.median(p99s))} ms (best/median); "
            f"index built in {min(built):.1f}/{statistics.median(built):.1f} s "
            f"(CPU {min(built_cpu):.1f}/{statistics.median(built_cpu):.1f} s); "
            f"peak memory {statistics.median(peaks):.0f} MiB"
        )
        print(f"  CPU time per question: {_cpu(runs, 'first_cpu')}")


def _cpu(runs: list[dict[str, Any]], key: str) -> str:
    """Median and p99 of the CPU time the asking thread used, best/median of processes:
    what the work costs, without the time spent waiting for a core on a busy machine."""
    medians = [statistics.median(r[key]) for r in runs]
    p99s = [percentile(r[key], 0.99) for r in runs]
    return (
        f"median {_ms(min(medians))}/{_ms(statistics.median(medians))} ms, "
        f"p99 {_ms(min(p99s))}/{_ms(statistics.median(p99s))} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per measurement (default 3)")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=[10_000, 100_000],
        help="synthetic base sizes in phrasings (default 10000 100000; none: skip them)",
    )
    parser.add_argument(
        "--only", choices=("cold", "real", "synthetic"), help="run one part only (default: all three)"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = child_real() if kind == "real" else child_synthetic(int(rest[0]))
        print(json.dumps(result))
        return
    repeat = max(1, args.repeat)
    if args.only in (None, "cold"):
        cold_start(max(repeat, 5))
    if args.only in (None, "real"):
        real_base(repeat)
    if args.only in (None, "synthetic"):
        synthetic_bases(repeat, args.sizes)


if __name__ == "__main__":
    main()
