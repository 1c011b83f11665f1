"""Semantic retrieval benchmark: load time, encode + search latency, memory.

Run with ``python benchmarks/bench_semantic.py [--repeat N] [--synthetic]``. It prints
numbers; it asserts nothing. Budgets from issue #12: the whole answer's p99 ≤ 5 ms (so
encoding + search should stay well under 1 ms), cold start ≤ 0.5 s with a warm cache,
peak RSS ≤ 150 MB for the whole bot.

Each measurement runs in a fresh Python process, ``--repeat`` times (default 3), reported
as best and median of the runs (a busy two-core machine: one run says little).

- load: importing numpy and ``bot.qa.semantic``, then ``SemanticModel.load`` of the
  bundled model, with the resident memory each adds.
- index: ``SemanticIndex.build`` over the bundled knowledge base (every phrasing, title
  and answer), its matrix size, and the pickle the prepared-base cache would store.
- per question: every dev-set question (in scope and out of scope) encoded and searched
  (k=10) once, median and p99; encode and search apart; then a 50 kB message.
- peak memory: the process's maximum resident set, after the engine over the same base
  was built and answered too (what the whole bot holds, less its chat adapters).
- ``--synthetic``: search alone over 10k and 100k synthetic rows (a stand-in for a
  grown base; the rows' vectors are random unit vectors, encoding them is not timed).
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_real() -> dict[str, Any]:
    base_rss = _rss_mib()
    t0 = time.perf_counter()
    import numpy as np

    from bot.qa.semantic import SemanticIndex, SemanticModel

    t1 = time.perf_counter()
    after_import = _rss_mib()
    model = SemanticModel.load()
    t2 = time.perf_counter()
    after_load = _rss_mib()

    from bot.knowledge.loading import load_knowledge
    from bot.qa.devset import default_dev_set, load_dev_set

    kb = load_knowledge()
    before_index = _rss_mib()
    t3 = time.perf_counter()
    index = SemanticIndex.build(model, kb)
    t4 = time.perf_counter()
    after_index = _rss_mib()
    blob = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
    t5 = time.perf_counter()
    pickle.loads(blob)
    t6 = time.perf_counter()

    questions = [case.question for case in load_dev_set(default_dev_set())]
    both: list[float] = []
    encode: list[float] = []
    search: list[float] = []
    for question in questions:
        s = time.perf_counter()
        vector = model.encode([question])[0]
        m = time.perf_counter()
        index.search(vector, k=10)
        e = time.perf_counter()
        both.append(e - s)
        encode.append(m - s)
        search.append(e - m)
    big = "why did nato and japan get closer " * 1500  # ~50 kB
    s = time.perf_counter()
    index.search(model.encode([big])[0], k=10)
    hostile = time.perf_counter() - s
    # The whole bot's memory: the engine over the same base, answering a question too.
    from bot.qa.engine import Engine

    engine = Engine(kb)
    engine.ask(questions[0])
    del np
    return {
        "import": t1 - t0,
        "load": t2 - t1,
        "rss_import": after_import - base_rss,
        "rss_model": after_load - after_import,
        "build": t4 - t3,
        "rows": int(index.matrix.shape[0]),
        "entries": len(index),
        "matrix_mib": index.matrix.nbytes / 2**20,
        "rss_index": after_index - before_index,
        "pickle_mib": len(blob) / 2**20,
        "unpickle": t6 - t5,
        "questions": len(questions),
        "median": statistics.median(both),
        "p99": percentile(both, 0.99),
        "encode_median": statistics.median(encode),
        "encode_p99": percentile(encode, 0.99),
        "search_median": statistics.median(search),
        "search_p99": percentile(search, 0.99),
        "hostile_50kb": hostile,
        "peak": _peak_mib(),
    }


def child_synthetic(rows: int) -> dict[str, Any]:
    import numpy as np

    from bot.qa.semantic import SemanticIndex, SemanticModel

    model = SemanticModel.load()
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((rows, model.dim), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    entries = rows // 11  # about as many rows per entry as the real base
    starts = np.linspace(0, rows, entries, endpoint=False).astype(np.intp)
    ids = tuple(f"e{i}" for i in range(entries))
    index = SemanticIndex(ids, starts, matrix, ("",) * rows, model.fingerprint)
    vectors = model.encode([f"question {i} about nato and japan" for i in range(200)])
    times = []
    for vector in vectors:
        s = time.perf_counter()
        index.search(vector, k=10)
        times.append(time.perf_counter() - s)
    return {
        "median": statistics.median(times),
        "p99": percentile(times, 0.99),
        "matrix_mib": matrix.nbytes / 2**20,
        "peak": _peak_mib(),
    }


def _run(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True, cwd=REPO
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _summary(runs: list[dict[str, Any]], key: str, scale: float = 1e3, unit: str = "ms") -> str:
    values = [r[key] * scale for r in runs]
    return f"best {min(values):.3f} {unit}, median {statistics.median(values):.3f} {unit}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--synthetic", action="store_true", help="search 10k and 100k synthetic rows too")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "real":
        print(json.dumps(child_real()))
        return
    if args.child:
        print(json.dumps(child_synthetic(int(args.child))))
        return

    runs = [_run("--child", "real") for _ in range(args.repeat)]
    first = runs[0]
    print(f"semantic retrieval, {args.repeat} fresh processes each")
    print(f"  import numpy + bot.qa.semantic: {_summary(runs, 'import')}")
    print(f"  SemanticModel.load:             {_summary(runs, 'load')}")
    print(
        f"  resident memory added: imports {statistics.median(r['rss_import'] for r in runs):.1f} MiB, "
        f"model {statistics.median(r['rss_model'] for r in runs):.1f} MiB, "
        f"index {statistics.median(r['rss_index'] for r in runs):.1f} MiB"
    )
    print(
        f"  index: {first['entries']} entries, {first['rows']} rows, matrix {first['matrix_mib']:.1f} MiB, "
        f"pickled {first['pickle_mib']:.1f} MiB"
    )
    print(f"  SemanticIndex.build:            {_summary(runs, 'build')}")
    print(f"  unpickle the index:             {_summary(runs, 'unpickle')}")
    print(f"  per question ({first['questions']} dev questions, encode + search k=10):")
    print(f"    median {_summary(runs, 'median')}")
    print(f"    p99    {_summary(runs, 'p99')}")
    print(f"    encode median {_summary(runs, 'encode_median')}; p99 {_summary(runs, 'encode_p99')}")
    print(f"    search median {_summary(runs, 'search_median')}; p99 {_summary(runs, 'search_p99')}")
    print(f"  a 50 kB message, encode + search: {_summary(runs, 'hostile_50kb')}")
    print(f"  peak RSS with the engine built and answering too: {_summary(runs, 'peak', 1, 'MiB')}")
    if args.synthetic:
        for rows in (10_000, 100_000):
            synthetic = [_run("--child", str(rows)) for _ in range(args.repeat)]
            print(
                f"  search over {rows:,} synthetic rows (matrix {synthetic[0]['matrix_mib']:.0f} MiB): "
                f"median {_summary(synthetic, 'median')}, p99 {_summary(synthetic, 'p99')}, "
                f"peak RSS {_summary(synthetic, 'peak', 1, 'MiB')}"
            )


if __name__ == "__main__":
    main()
