"""Replicas benchmark: SQLite with one replica, PostgreSQL with one and with two, in one run.

Run with ``make bench-replicas`` (or ``.venv/bin/python benchmarks/bench_replicas.py``); no
tokens needed, but the PostgreSQL server binaries must be on this machine (``initdb``,
``postgres``; Debian: ``apt-get install postgresql``). It prints numbers and asserts nothing
timed. It exits 1 only if something was *lost* or doubled: a command not acknowledged with
200, an answer that never reached its response_url, a digest not posted exactly once, or a
replica that did not stop cleanly.

For each setup, real ``briefbot run`` processes (``python -m adapters.cli run``, as an operator
starts them) serve Slack in HTTP mode on 127.0.0.1, with the project's Slack emulator as
Slack's Web API and response_url endpoints. Each setup gets a fresh database: a SQLite file,
or a new database on one throwaway PostgreSQL cluster started for this run. That cluster,
the processes, the emulator and the signing come from the tests (``tests/store/
postgres_server.py``, ``tests/runtime/process.py``, ``tests/adapters/slack/emulator.py``):
the benchmark imports them, so it measures what the replica tests exercise.

1. Digests. ``--digests`` subscriptions (``topic cyber daily 00:00``, one message each, one
   channel each so the one-post-a-second channel pacing never waits) are inserted, due
   since midnight, before the replicas start. "digests/s" is their number over the posting
   window the store records (the first claim to the last post, by the store's clock);
   "done s" is from launching the replicas until the store says every period is done
   (polled every 0.5 s from a thread of its own). Posts are counted on the emulator: each
   channel must get exactly one. With two replicas, "by replica" is what each one's
   /metrics says it posted. Meanwhile one command every 0.25 s goes to each replica (from
   its launch, once it listens, until every digest is done): "posting: ack max" is the
   longest a user waited for an ack while the digests were being posted, "late" how many
   waited longer than 3 s.
2. Acknowledgements. ``--requests`` correctly signed ``/nato`` slash commands (dev-set
   questions and other commands, cycled) from ``--concurrency`` concurrent clients; with two
   replicas, request *i* goes to replica *i* mod 2, as a round-robin load balancer sends
   them. The ack latency is from sending a request to reading its HTTP response (Slack
   shows the user an error after 3 s); the answer then follows on the response_url.
   Throughput is requests over the time to send them all.

The client, the emulator and the store poller share this process (one event loop and a
thread), and everything shares the machine: the latencies are upper bounds and the rates
lower bounds of what the replicas would do alone. The load average is printed at the start
and the end: on a busy machine the numbers say so. One ``briefbot ask`` runs first, so the
prepared-base cache is warm and no setup pays for writing it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from adapters.slack import EVENTS_PATH  # noqa: E402
from bot.qa.devset import default_dev_set, load_dev_set  # noqa: E402
from bot.store.opening import open_store  # noqa: E402
from bot.store.values import NewSubscription  # noqa: E402
from tests.adapters.slack.emulator import TEAM, Call, SlackEmulator, sign, slash_command  # noqa: E402
from tests.runtime.process import BriefbotProcess, clean_env, free_port  # noqa: E402
from tests.store.postgres_server import PostgresServer, PostgresUnavailable, start_server  # noqa: E402

_log = logging.getLogger("bench_replicas")

SIGNING_SECRET = "bench-replicas-signing-secret"
METRICS_TOKEN = "bench-replicas-metrics-token"
ACK_DEADLINE = 3.0  # seconds: Slack shows the user an error after this
DELIVERY_TIMEOUT = 300.0  # seconds to wait for the last answer or digest before calling it lost
START_TIMEOUT = 180.0  # seconds for a replica's /healthz to say 200 on a busy machine
POLL_SECONDS = 0.5
PROBE_SECONDS = 0.25  # between one replica's probe commands while the digests are posted
DIGEST = ("topic", "cyber")  # one message on Slack, so no channel pacing inside a digest
USERS = [f"U0BENCH{i:02d}" for i in range(20)]
CHANNELS = [f"C0BENCH{i:02d}" for i in range(5)]
COMMANDS = ["timeline 2022", "timeline maritime", "who kishida", "define itpp", "topics", "help"]
_POSTED = re.compile(r'^briefbot_digest_deliveries_total\{platform="slack",status="posted"\} (\S+)$', re.M)


@dataclass(frozen=True)
class Setup:
    name: str
    backend: str  # "sqlite" or "postgresql"
    replicas: int


SETUPS = (
    Setup("SQLite ×1", "sqlite", 1),
    Setup("PostgreSQL ×1", "postgresql", 1),
    Setup("PostgreSQL ×2", "postgresql", 2),
)


@dataclass(frozen=True)
class Result:
    setup: str
    replicas: int
    ready_s: float  # launch to every replica's /healthz 200
    requests: int
    acked: int  # HTTP 200
    acked_in_time: int  # HTTP 200 within ACK_DEADLINE
    ack_p50_ms: float
    ack_p99_ms: float
    ack_max_ms: float
    requests_per_s: float
    answered: int  # answers that reached their response_url
    digests: int
    digests_done: int  # periods the store has as done
    channels_posted_once: int  # bench channels with exactly one digest post
    duplicate_posts: int  # posts beyond the first in a channel
    digests_per_s: float  # over the store's posting window
    digest_window_s: float  # first claim to last post, by the store's clock
    digests_all_done_s: float  # launch to the store saying every period is done
    posted_by_replica: tuple[int, ...]  # from each replica's /metrics
    posting_probes: int  # commands acknowledged from launch until every digest was done
    posting_ack_max_ms: float  # the longest of their acks
    posting_acks_late: int  # how many of them took longer than ACK_DEADLINE
    exit_codes: tuple[int, ...]

    @property
    def whole(self) -> bool:
        """Nothing lost or doubled, every replica stopped cleanly (timings aside)."""
        return (
            self.acked == self.answered == self.requests
            and self.digests_done == self.channels_posted_once == self.digests
            and self.duplicate_posts == 0
            and set(self.exit_codes) == {0}
        )


# -- inputs ---------------------------------------------------------------------------------


def command_texts(count: int) -> list[str]:
    """The dev-set questions with a command every fourth, cycled to ``count``."""
    questions = [case.question for case in load_dev_set(default_dev_set())]
    mixed = [q if i % 4 else COMMANDS[(i // 4) % len(COMMANDS)] for i, q in enumerate(questions)]
    return [text for text, _ in zip(itertools.cycle(mixed), range(count), strict=False)]


def digest_channel(index: int) -> str:
    return f"C0DIGEST{index:05d}"


def insert_due_subscriptions(location: str, count: int) -> None:
    """``count`` subscriptions, each in a channel of its own, due since midnight (UTC)."""
    created = datetime.now(UTC) - timedelta(days=3)
    with open_store(location) as store:
        for index in range(count):
            store.add_subscription(
                NewSubscription(
                    "slack", TEAM, digest_channel(index), *DIGEST, "daily 00:00", "UTC", "U0BENCHADMIN"
                ),
                now=created,
            )


# -- measuring ------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True)
class DigestLedger:
    done: int
    window_s: float  # the store's first claim to its last post


def wait_until_digests_done(location: str, timeout: float, stop: threading.Event) -> DigestLedger:
    """Poll the store (in a thread of its own, with a connection of its own) until every
    subscription's period is done, or ``timeout`` passes; then read the posting window."""
    deadline = time.monotonic() + timeout
    with open_store(location) as store:
        pending = {s.id for s in store.subscriptions()}
        while pending and time.monotonic() < deadline and not stop.is_set():
            for sub_id in list(pending):
                latest = store.last_delivery(sub_id)
                if latest is not None and latest.status == "done":
                    pending.discard(sub_id)
            if pending:
                time.sleep(POLL_SECONDS)
        latest_all = [store.last_delivery(s.id) for s in store.subscriptions()]
    done = [d for d in latest_all if d is not None and d.status == "done"]
    if not done:
        return DigestLedger(0, float("nan"))
    first_claim = min(d.claimed_at for d in done)
    last_post = max(d.posted_at or d.claimed_at for d in done)
    return DigestLedger(len(done), (last_post - first_claim).total_seconds())


@dataclass(frozen=True)
class Command:
    """One signed ``/nato`` slash command, as Slack delivers it, and where its answer goes."""

    body: bytes
    headers: dict[str, str]
    response_url: str


def signed_command(emulator: SlackEmulator, index: int, text: str) -> Command:
    response_url = emulator.response_url()
    fields = slash_command(
        text,
        user=USERS[index % len(USERS)],
        channel=CHANNELS[index % len(CHANNELS)],
        response_url=response_url,
    )
    body = urllib.parse.urlencode(fields).encode()
    stamp = str(int(time.time()))  # signed when sent: Slack's requests are at most 5 minutes old
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign(SIGNING_SECRET, stamp, body),
    }
    return Command(body, headers, response_url)


async def deliver(session: aiohttp.ClientSession, url: str, command: Command) -> tuple[int, float]:
    """POST the command; its HTTP status (0: no answer) and the seconds until the ack was read."""
    started = time.perf_counter()
    try:
        async with session.post(url, data=command.body, headers=command.headers) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError):
        status = 0
    return status, time.perf_counter() - started


@dataclass(frozen=True)
class AckRound:
    latencies: tuple[float, ...]
    statuses: tuple[int, ...]
    send_s: float
    response_urls: frozenset[str]


async def send_commands(
    emulator: SlackEmulator, urls: Sequence[str], texts: Sequence[str], concurrency: int
) -> AckRound:
    """Each text as a signed slash command; command ``i`` to ``urls[i % len(urls)]``."""
    latencies: list[float] = []
    statuses: list[int] = []
    response_urls: set[str] = set()
    queue: Iterator[tuple[int, str]] = iter(enumerate(texts))

    async def client(session: aiohttp.ClientSession) -> None:
        for index, text in queue:  # the shared iterator hands each command to one client
            command = signed_command(emulator, index, text)
            response_urls.add(command.response_url)
            status, seconds = await deliver(session, urls[index % len(urls)], command)
            latencies.append(seconds)
            statuses.append(status)

    start = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return AckRound(tuple(latencies), tuple(statuses), time.perf_counter() - start, frozenset(response_urls))


async def probe_while_posting(emulator: SlackEmulator, url: str, done: asyncio.Event) -> list[float]:
    """One command every PROBE_SECONDS to ``url`` from its launch until ``done`` (and at least
    one acknowledged): how long a user waits for an ack while the digests are being posted.
    A refused connection (the replica not listening yet) is not a wait, and is not counted."""
    waits: list[float] = []
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for index in itertools.count():
            if done.is_set() and waits:
                break
            command = signed_command(emulator, index, "who kishida")
            started = time.perf_counter()
            try:
                async with session.post(url, data=command.body, headers=command.headers) as response:
                    await response.read()
            except aiohttp.ClientConnectorError:
                await asyncio.sleep(0.05)
                continue
            except (aiohttp.ClientError, TimeoutError):
                pass  # no ack at all: still a wait, as long as it lasted
            waits.append(time.perf_counter() - started)
            await asyncio.sleep(PROBE_SECONDS)
    return waits


def events_url(replica: BriefbotProcess) -> str:
    return f"http://127.0.0.1:{replica.port}{EVENTS_PATH}"


async def posted_by(replica: BriefbotProcess) -> int:
    found = _POSTED.search(await replica.metrics())
    return 0 if found is None else int(float(found.group(1)))


# -- one setup ------------------------------------------------------------------------------------


async def run_setup(
    setup: Setup, location: str, folder: Path, *, requests: int, concurrency: int, digests: int
) -> Result:
    insert_due_subscriptions(location, digests)
    users = {user: {"name": user.lower(), "is_admin": False, "is_owner": False} for user in USERS}
    async with SlackEmulator(users=users) as emulator, contextlib.AsyncExitStack() as stack:
        replicas = []
        launched = time.perf_counter()
        for number in range(setup.replicas):
            env = clean_env(
                SLACK_BOT_TOKEN=emulator.bot_token,
                SLACK_SIGNING_SECRET=SIGNING_SECRET,
                SLACK_API_URL=emulator.api_url,
                BRIEFBOT_DB=location,
                BRIEFBOT_PID_FILE=str(folder / f"{setup.backend}-{setup.replicas}-{number}.pid"),
                BRIEFBOT_METRICS_TOKEN=METRICS_TOKEN,
            )
            replicas.append(await stack.enter_async_context(BriefbotProcess(env, port=free_port())))
        stop_polling = threading.Event()
        ledger_task = asyncio.create_task(
            asyncio.to_thread(wait_until_digests_done, location, DELIVERY_TIMEOUT, stop_polling)
        )
        digests_done = asyncio.Event()
        probes = [
            asyncio.create_task(probe_while_posting(emulator, events_url(r), digests_done)) for r in replicas
        ]
        try:
            for replica in replicas:
                await replica.wait_health(200, timeout=START_TIMEOUT)
            ready = time.perf_counter() - launched
            ledger = await ledger_task
            all_done = time.perf_counter() - launched
        finally:
            stop_polling.set()
            digests_done.set()
            waits = await asyncio.gather(*probes, ledger_task, return_exceptions=True)
        posting_waits = [w for found in waits[:-1] if isinstance(found, list) for w in found]
        posts = Counter(
            str(c.args.get("channel"))
            for c in emulator.calls_to("chat.postMessage")
            if str(c.args.get("channel", "")).startswith("C0DIGEST")
        )
        by_replica = tuple([await posted_by(r) for r in replicas])

        urls = [events_url(r) for r in replicas]
        acks = await send_commands(emulator, urls, command_texts(requests), concurrency)

        def answer(call: Call) -> bool:
            return call.args.get("url") in acks.response_urls

        with contextlib.suppress(AssertionError):  # a timeout: what is missing is counted below
            await emulator.wait_for("response_url", answer, count=requests, timeout=DELIVERY_TIMEOUT)
        answered = len(emulator.calls_to("response_url", answer))
        exit_codes = tuple([await r.stop() for r in replicas])
        for replica, code in zip(replicas, exit_codes, strict=True):
            if code != 0:
                _log.warning(
                    "%s: a replica exited %d; its log ends:\n%s", setup.name, code, replica.log[-3000:]
                )

    ok = [t for s, t in zip(acks.statuses, acks.latencies, strict=True) if s == 200]
    return Result(
        setup=setup.name,
        replicas=setup.replicas,
        ready_s=ready,
        requests=requests,
        acked=len(ok),
        acked_in_time=sum(t <= ACK_DEADLINE for t in ok),
        ack_p50_ms=percentile(acks.latencies, 0.5) * 1000,
        ack_p99_ms=percentile(acks.latencies, 0.99) * 1000,
        ack_max_ms=max(acks.latencies, default=float("nan")) * 1000,
        requests_per_s=requests / acks.send_s if acks.send_s else float("nan"),
        answered=answered,
        digests=digests,
        digests_done=ledger.done,
        channels_posted_once=sum(n == 1 for n in posts.values()),
        duplicate_posts=sum(n - 1 for n in posts.values()),
        digests_per_s=ledger.done / ledger.window_s if ledger.window_s > 0 else float("nan"),
        digest_window_s=ledger.window_s,
        digests_all_done_s=all_done,
        posted_by_replica=by_replica,
        posting_probes=len(posting_waits),
        posting_ack_max_ms=max(posting_waits, default=float("nan")) * 1000,
        posting_acks_late=sum(w > ACK_DEADLINE for w in posting_waits),
        exit_codes=exit_codes,
    )


def warm_cache() -> None:
    """Answer one question the way ``briefbot`` starts, so the prepared-base cache is written
    before the first setup: otherwise the first setup alone would pay for validating and
    indexing the knowledge base at start-up."""
    subprocess.run(
        [sys.executable, "-m", "adapters.cli", "ask", "help"],
        cwd=REPO,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )


async def run_all(
    server: PostgresServer, folder: Path, *, requests: int, concurrency: int, digests: int
) -> list[Result]:
    results = []
    for setup in SETUPS:
        if setup.backend == "sqlite":
            name = ""
            location = str(folder / "bench.sqlite3")
        else:
            name = server.create_database()
            location = server.url(name)
        try:
            print(f"running {setup.name} …", file=sys.stderr, flush=True)
            results.append(
                await run_setup(
                    setup, location, folder, requests=requests, concurrency=concurrency, digests=digests
                )
            )
        finally:
            if name:
                server.drop_database(name)
    return results


# -- output ---------------------------------------------------------------------------------------

COLUMNS = (
    ("setup", 14),
    ("ready s", 7),
    ("acked", 11),
    ("in 3 s", 11),
    ("p50 ms", 8),
    ("p99 ms", 8),
    ("max ms", 8),
    ("req/s", 6),
    ("answered", 11),
    ("digests", 9),
    ("dig/s", 6),
    ("done s", 7),
    ("by replica", 10),
    ("posting: ack max ms", 19),
    ("late", 4),
)


def row(result: Result) -> list[str]:
    n = result.requests
    return [
        result.setup,
        f"{result.ready_s:.1f}",
        f"{result.acked}/{n}",
        f"{result.acked_in_time}/{n}",
        f"{result.ack_p50_ms:.1f}",
        f"{result.ack_p99_ms:.1f}",
        f"{result.ack_max_ms:.1f}",
        f"{result.requests_per_s:.0f}",
        f"{result.answered}/{n}",
        f"{result.channels_posted_once}/{result.digests}",
        f"{result.digests_per_s:.1f}",
        f"{result.digests_all_done_s:.1f}",
        "+".join(str(p) for p in result.posted_by_replica),
        f"{result.posting_ack_max_ms:.1f}",
        str(result.posting_acks_late),
    ]


def table(results: Sequence[Result]) -> str:
    """One line per setup; the first column left-aligned, the numbers right-aligned."""

    def line(cells: Sequence[str]) -> str:
        widths = [w for _, w in COLUMNS]
        aligned = [cells[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)
        ]
        return "  ".join(aligned)

    return "\n".join([line([title for title, _ in COLUMNS]), *(line(row(r)) for r in results)])


def finite(values: dict[str, object]) -> dict[str, object]:
    """JSON has no NaN: a measurement that could not be taken is null."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in values.items()}


def load_line(label: str, load: tuple[float, float, float]) -> str:
    cpus = os.cpu_count() or 1
    busy = " (busier than the machine's CPUs: these numbers are under load)" if load[0] > cpus else ""
    return f"load average {label}: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min; {cpus} CPUs){busy}"


def report(
    results: Sequence[Result],
    args: argparse.Namespace,
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
) -> str:
    return "\n".join(
        [
            f"briefbot replicas: {args.requests} signed /nato commands ({args.concurrency} concurrent) and "
            f"{args.digests} due digests per setup, Slack HTTP mode against the emulator",
            load_line("at start", load_start),
            "",
            table(results),
            "",
            load_line("at end", load_end),
            "ready s: launch to every replica's /healthz 200; acked: HTTP 200; in 3 s: acked within "
            "Slack's deadline;",
            "p50/p99/max ms: ack latency; req/s: commands sent per second; answered: answers on the "
            "response_url;",
            "digests: channels posted exactly once; dig/s: digests over the window from the first claim "
            "to the last post (store clock; --json has it);",
            "done s: launch to every period done (start-up included); by replica: what each replica's "
            "/metrics says it posted;",
            f"posting: one command every {PROBE_SECONDS:g} s to each replica from launch until every "
            f"digest was done: its longest ack, and how many took over {ACK_DEADLINE:g} s",
        ]
    )


# -- main ---------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=1000, help="signed slash commands per setup")
    parser.add_argument("--concurrency", type=int, default=20, help="concurrent Slack clients")
    parser.add_argument("--digests", type=int, default=200, help="due subscriptions per setup")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    args = parser.parse_args(argv)
    # Warnings (a replica exiting badly, say) are worth seeing; aiohttp's INFO is not.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    load_start = os.getloadavg()
    warm_cache()
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        print(f"bench_replicas: cannot start PostgreSQL: {exc}", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="briefbot-bench-replicas-") as folder:
            results = asyncio.run(
                run_all(
                    server,
                    Path(folder),
                    requests=args.requests,
                    concurrency=args.concurrency,
                    digests=args.digests,
                )
            )
    finally:
        server.remove()
    load_end = os.getloadavg()

    if args.json:
        print(
            json.dumps(
                {
                    "requests": args.requests,
                    "concurrency": args.concurrency,
                    "digests": args.digests,
                    "cpus": os.cpu_count(),
                    "load_average_start": list(load_start),
                    "load_average_end": list(load_end),
                    "setups": [finite(asdict(r) | {"whole": r.whole}) for r in results],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print(report(results, args, load_start, load_end))
    broken = [r.setup for r in results if not r.whole]
    if broken:
        print(
            f"\nFAILED: lost, doubled or not stopped cleanly in: {', '.join(broken)} (see above)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
