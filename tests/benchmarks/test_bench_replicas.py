"""The replicas benchmark still runs: a tiny round of it, so it cannot rot unnoticed.

Only what the benchmark counts is checked (three setups, every command acknowledged and
answered, every digest posted exactly once, by the replicas that posted it), and that each
timing is a number; never a timing's value: those belong to the benchmark's own output.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

from tests.store.postgres_server import PostgresUnavailable, find_binaries, unavailable

REPO = Path(__file__).resolve().parents[2]
SETUPS = {"SQLite ×1": 1, "PostgreSQL ×1": 1, "PostgreSQL ×2": 2}


def cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_bench_replicas_prints_the_three_setups_side_by_side_with_numbers() -> None:
    try:
        find_binaries()  # the benchmark starts a PostgreSQL server of its own
    except PostgresUnavailable as exc:
        unavailable(str(exc))
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/bench_replicas.py",
            *("--requests", "20", "--concurrency", "5", "--digests", "5"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    [header] = [line for line in lines if line.startswith("setup ")]
    titles = cells(header)
    rows = {
        cells(line)[0]: dict(zip(titles, cells(line), strict=True))
        for line in lines
        if line.startswith(tuple(SETUPS))
    }
    assert list(rows) == list(SETUPS)
    for name, row in rows.items():
        assert row["acked"] == row["in 3 s"] == row["answered"] == "20/20", row
        assert row["digests"] == "5/5", row
        by_replica = [int(n) for n in row["by replica"].split("+")]
        assert len(by_replica) == SETUPS[name] and sum(by_replica) == 5, row
        for title in (
            "ready s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "req/s",
            "dig/s",
            "done s",
            "posting: ack max ms",
        ):
            assert math.isfinite(float(row[title])) and float(row[title]) >= 0, (title, row)
        assert int(row["late"]) >= 0, row
    assert sum("load average at start: " in line for line in lines) == 1
    assert sum("load average at end: " in line for line in lines) == 1
