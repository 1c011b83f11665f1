"""The load benchmark still runs: a tiny round of it, so it cannot rot unnoticed.

Only what the benchmark counts is checked (every command acknowledged and answered,
nothing unescaped), never a timing: timings belong to the benchmark's own output.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_load_runs_end_to_end_with_tiny_counts() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/bench_load.py",
            *("--commands", "20", "--concurrency", "5", "--questions", "200", "--rounds", "1"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.count("acknowledged (HTTP 200)     20/20") == 1
    assert out.count("delayed responses           20/20") == 1
    assert out.count("unescaped markup sent       0") == 1
    assert "Engine: 200 questions" in out and out.count("per question p50 / p99") == 1
    assert out.count("RSS before / after") == 2
