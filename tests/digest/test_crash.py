"""Real processes: killed between claim and post, and two of them on one database.

Each test runs on each store backend: a SQLite file, and a PostgreSQL database on the
tests' own server, where the processes are replicas sharing the server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from bot.store.values import NewSubscription
from tests.digest.support import REPO, entry, make_kb_dir, utc
from tests.digest.worker import CRASH_EXIT
from tests.store.backends import Backend, backend

__all__ = ["backend"]  # the fixtures, imported for pytest to see

CREATED = utc(2024, 7, 1, 6)  # 08:00 in Brussels
FIRST_RUN = utc(2024, 7, 1, 7, 0, 30)  # just after 09:00 in Brussels
LEASE = timedelta(minutes=10)  # the Scheduler's default


def worker(tmp_path: Path, db: Backend, *nows: datetime, crash: str | None = None, part: int = 0) -> int:
    args = [
        "--db",
        db.url,
        "--kb",
        str(tmp_path / "kb"),
        "--log",
        str(tmp_path / "posts"),
    ]
    args += [a for now in nows for a in ("--now", now.isoformat())]
    if crash:
        args += ["--crash", crash, "--part", str(part)]
    done = subprocess.run(
        [sys.executable, "-m", "tests.digest.worker", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, CRASH_EXIT), done.stderr
    return done.returncode


def posts(tmp_path: Path) -> list[dict[str, str]]:
    log = tmp_path / "posts"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def subscribe(
    tmp_path: Path,
    db: Backend,
    channels: int = 1,
    kb_entries: list[dict[str, object]] | None = None,
    *,
    say_when_empty: bool = False,
) -> None:
    if kb_entries:
        make_kb_dir(tmp_path, kb_entries)
    else:
        make_kb_dir(tmp_path)
    with db.open() as store:
        for i in range(channels):
            store.add_subscription(
                NewSubscription(
                    *("slack", "T1", f"C{i}", "month", "", "daily 09:00", "Europe/Brussels", "U1"),
                    say_when_empty=say_when_empty,
                ),
                now=CREATED,
            )


def statuses(db: Backend) -> list[tuple[str, str, int]]:
    with db.open() as store:
        return [
            (d.period_key, d.status, d.attempts)
            for s in store.subscriptions()
            for d in store.deliveries(s.id)
        ]


def test_a_process_killed_between_claim_and_post_loses_nothing_and_repeats_nothing(
    tmp_path: Path, backend: Backend
) -> None:
    subscribe(tmp_path, backend)
    assert worker(tmp_path, backend, FIRST_RUN, crash="before-post") == CRASH_EXIT
    assert posts(tmp_path) == []
    assert statuses(backend) == [("2024-07-01T09:00", "claimed", 1)]

    # Restarted while the dead process's lease still runs: it waits rather than double up.
    assert worker(tmp_path, backend, FIRST_RUN + LEASE / 2) == 0
    assert posts(tmp_path) == []
    # Once the lease has run out, the period is taken over and posted exactly once.
    assert worker(tmp_path, backend, FIRST_RUN + LEASE, FIRST_RUN + 2 * LEASE) == 0
    assert len(posts(tmp_path)) == 1
    assert statuses(backend) == [("2024-07-01T09:00", "done", 2)]


def open_claim(db: Backend) -> tuple[datetime, datetime | None]:
    """The lease and the booked retry of the one period, as the next process would find them."""
    with db.open() as store:
        (sub,) = store.subscriptions()
        (delivery,) = store.deliveries(sub.id)
    assert delivery.status == "claimed"
    return delivery.lease_until, delivery.retry_at


def test_a_period_whose_poster_is_killed_three_times_is_still_posted_exactly_once(
    tmp_path: Path, backend: Backend
) -> None:
    subscribe(tmp_path, backend)
    assert worker(tmp_path, backend, FIRST_RUN, crash="before-post") == CRASH_EXIT
    deaths, now = 1, FIRST_RUN
    while deaths < 3:
        # Each restart comes once the dead process's lease (or the pause booked after it)
        # has run out, and is killed in turn the moment it posts.
        lease_until, retry_at = open_claim(backend)
        now = max(lease_until, retry_at or lease_until)
        code = worker(tmp_path, backend, now, now + LEASE, now + 3 * LEASE, crash="before-post")
        assert code == CRASH_EXIT
        deaths += 1
    assert posts(tmp_path) == []
    lease_until, retry_at = open_claim(backend)
    # After the second and third deaths it waits longer each time (30 s, then 60 s more).
    assert worker(tmp_path, backend, lease_until) == 0
    assert posts(tmp_path) == []
    assert worker(tmp_path, backend, lease_until, lease_until + timedelta(minutes=2)) == 0
    assert len(posts(tmp_path)) == 1
    ((key, status, attempts),) = statuses(backend)
    assert (key, status) == ("2024-07-01T09:00", "done") and attempts >= 4
    assert worker(tmp_path, backend, lease_until + timedelta(hours=2)) == 0  # and never again
    assert len(posts(tmp_path)) == 1


def test_a_process_killed_midway_through_a_long_digest_resumes_after_the_last_part(
    tmp_path: Path, backend: Backend
) -> None:
    title = "Japan and NATO hold another round of staff talks on maritime security cooperation no. {}"
    many = [
        entry(f"talks-{i:02d}", date=f"{1980 + i}-07-0{1 + i % 9}", title=title.format(i)) for i in range(40)
    ]
    subscribe(tmp_path, backend, kb_entries=many)
    assert worker(tmp_path, backend, FIRST_RUN, crash="before-part", part=2) == CRASH_EXIT
    assert len(posts(tmp_path)) == 1
    assert worker(tmp_path, backend, FIRST_RUN + LEASE) == 0
    texts = [p["text"].splitlines()[0] for p in posts(tmp_path)]
    assert texts == ["(1/2)", "(2/2)"]


def test_a_crash_after_a_post_but_before_it_is_recorded_repeats_only_that_message(
    tmp_path: Path, backend: Backend
) -> None:
    # The one window no ledger can close without the platform's help: the message was
    # sent but the process died before writing that down. The retry repeats that
    # message, once, and nothing else.
    subscribe(tmp_path, backend)
    assert worker(tmp_path, backend, FIRST_RUN, crash="after-post") == CRASH_EXIT
    assert worker(tmp_path, backend, FIRST_RUN + LEASE, FIRST_RUN + 3 * LEASE) == 0
    assert len(posts(tmp_path)) == 2 and posts(tmp_path)[0]["text"] == posts(tmp_path)[1]["text"]
    assert statuses(backend) == [("2024-07-01T09:00", "done", 2)]


def test_two_processes_on_one_database_post_each_period_exactly_once(
    tmp_path: Path, backend: Backend
) -> None:
    # Each says when it has nothing new, so every period is one post: the digest on the
    # first day, then the same month's entries are not news, and a line says so.
    subscribe(tmp_path, backend, channels=4, say_when_empty=True)
    days = [FIRST_RUN + timedelta(days=d) for d in range(12)]
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    args = [
        "--db",
        backend.url,
        "--kb",
        str(tmp_path / "kb"),
        "--log",
        str(tmp_path / "posts"),
    ]
    args += ["--barrier", str(barrier), "--peers", "2"]
    args += [a for day in days for a in ("--now", day.isoformat())]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.digest.worker", *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    sent = posts(tmp_path)
    per_channel = Counter(p["channel"] for p in sent)
    assert per_channel == {f"C{i}": 12 for i in range(4)}  # nothing lost, nothing doubled
    for i in range(4):
        texts = [p["text"] for p in sent if p["channel"] == f"C{i}"]
        assert "Joint political declaration" in texts[0]
        assert texts[1:] == ["Nothing new in my notes for July since the last digest."] * 11
    assert [status for _, status, _ in statuses(backend)] == ["done"] * 4 * 12
