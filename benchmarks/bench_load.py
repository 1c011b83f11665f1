"""Load benchmark: Slack's HTTP mode under signed slash commands, and the engine under bulk questions.

Run with ``make bench-load`` (or ``.venv/bin/python benchmarks/bench_load.py``); no tokens
needed. It prints numbers and asserts nothing timed. It exits 1 only if something was
*lost*: a command not acknowledged with 200, a delayed answer that never arrived, or
markup that Slack would have turned into a ping.

Part 1, Slack. The real adapter (``adapters.slack.build_app`` + ``serve_http``: slack-bolt,
aiohttp, a real SQLite store, the real knowledge base) on 127.0.0.1, with the local Slack
emulator from the adapter tests receiving the ``response_url`` posts. Concurrent clients
send correctly signed ``/nato`` commands (v0 HMAC-SHA256 of ``v0:{timestamp}:{body}``).
Slack wants the acknowledgement within 3 s; the answer follows on the response_url.
Client, app and emulator share one event loop, so the numbers are a floor, not a ceiling:
every request also pays for the client and the emulator.

Part 2, the engine. ``Engine.ask`` directly, on the dev-set questions and perturbations of
them (typos, case, punctuation, filler, emoji, invisible characters), cycled.

Each part runs ``--rounds`` identical rounds (default 2) and prints the resident memory
before and after each, read from /proc/self/statm: the same work again should not need
more memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from adapters.slack import EVENTS_PATH, build_app, serve_http  # noqa: E402
from bot.digests.commands import DigestCommands  # noqa: E402
from bot.dispatch import Bot  # noqa: E402
from bot.knowledge.base import KnowledgeBase  # noqa: E402
from bot.knowledge.loading import load_knowledge  # noqa: E402
from bot.qa.devset import default_dev_set, load_dev_set  # noqa: E402
from bot.qa.engine import Engine  # noqa: E402
from bot.store.sqlite import SQLiteStore  # noqa: E402
from tests.adapters.slack.emulator import SlackEmulator, sign, slash_command  # noqa: E402

SIGNING_SECRET = "bench-signing-secret"
ACK_DEADLINE = 3.0  # seconds: Slack shows the user an error after this
DELIVERY_TIMEOUT = 120.0  # seconds to wait for the last delayed answer before calling it lost
USERS = [f"U0BENCH{i:02d}" for i in range(20)]
CHANNELS = [f"C0BENCH{i:02d}" for i in range(5)]
# Commands besides questions, roughly as people use them.
COMMANDS = [
    "timeline",
    "timeline 2022",
    "timeline since 2021",
    "timeline maritime",
    "who kishida",
    "define itpp",
    "topics",
    "help",
    "digest list",
    "timeline 20x8",
]


# -- measuring -------------------------------------------------------------------------


def rss_mb() -> float:
    """Resident set size of this process, from /proc/self/statm (Linux)."""
    try:
        fields = Path("/proc/self/statm").read_text().split()
    except OSError:
        return float("nan")
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def settled_rss_mb() -> float:
    gc.collect()
    return rss_mb()


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


# -- inputs ----------------------------------------------------------------------------


def dev_questions() -> list[str]:
    return [case.question for case in load_dev_set(default_dev_set())]


def perturb(question: str, rng: random.Random) -> str:
    """One of the ways people actually mistype or decorate a question."""
    choice = rng.randrange(8)
    if choice == 0 and len(question) > 3:  # swap two neighbouring letters
        i = rng.randrange(len(question) - 1)
        return question[:i] + question[i + 1] + question[i] + question[i + 2 :]
    if choice == 1 and len(question) > 3:  # drop a letter
        i = rng.randrange(len(question))
        return question[:i] + question[i + 1 :]
    if choice == 2:
        return question.upper()
    if choice == 3:
        return f"hey bot, {question}?? thanks"
    if choice == 4:
        return question.replace(" ", " \u200b", 2) + " 🇯🇵"
    if choice == 5:
        return question.rstrip("?") + "!!!"
    if choice == 6:
        return " ".join(reversed(question.split()))
    return question


def question_mix(count: int, seed: int = 7) -> list[str]:
    """``count`` questions: the dev set as written, then perturbed copies, cycled."""
    rng = random.Random(seed)
    base = dev_questions()
    pool = base + [perturb(q, rng) for q in base for _ in range(3)]
    return [q for q, _ in zip(itertools.cycle(pool), range(count), strict=False)]


def command_mix(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    questions = question_mix(max(count, 1), seed)
    return [rng.choice(COMMANDS) if rng.random() < 0.25 else questions[i] for i in range(count)]


# -- part 1: Slack over HTTP ---------------------------------------------------------------


@dataclass(frozen=True)
class SlackRound:
    sent: int
    acked: int  # HTTP 200
    acked_in_time: int  # HTTP 200 within ACK_DEADLINE
    ack_latencies: tuple[float, ...]
    send_seconds: float
    delivered: int
    delivered_after: float | None  # seconds from the first send to the last delayed answer
    markup_problems: int


async def slack_round(
    emulator: SlackEmulator, url: str, texts: Sequence[str], concurrency: int
) -> SlackRound:
    emulator.calls.clear()  # the emulator's own record of the last round is not the app's memory
    emulator.markup_problems.clear()
    latencies: list[float] = []
    statuses: list[int] = []
    queue = iter(enumerate(texts))
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def client(session: aiohttp.ClientSession) -> None:
        for index, text in queue:  # the shared iterator hands each command to one client
            fields = slash_command(
                text,
                user=USERS[index % len(USERS)],
                channel=CHANNELS[index % len(CHANNELS)],
                response_url=emulator.response_url(),
            )
            body = urllib.parse.urlencode(fields).encode()
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": sign(SIGNING_SECRET, stamp, body),
            }
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except aiohttp.ClientError:
                status = 0
            latencies.append(time.perf_counter() - started)
            statuses.append(status)

    start = time.monotonic()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    send_seconds = time.monotonic() - start
    with contextlib.suppress(AssertionError):  # a timeout: what is missing is counted below
        await emulator.wait_for("response_url", count=len(texts), timeout=DELIVERY_TIMEOUT)
    answers = emulator.calls_to("response_url")
    last = max((c.at for c in answers), default=None)
    return SlackRound(
        sent=len(texts),
        acked=sum(s == 200 for s in statuses),
        acked_in_time=sum(s == 200 and t <= ACK_DEADLINE for s, t in zip(statuses, latencies, strict=True)),
        ack_latencies=tuple(latencies),
        send_seconds=send_seconds,
        delivered=len(answers),
        delivered_after=None if last is None else last - start,
        markup_problems=len(emulator.markup_problems),
    )


def print_slack_round(number: int, result: SlackRound, rss_before: float, rss_after: float) -> None:
    lat = result.ack_latencies
    share = 100 * result.acked_in_time / result.sent if result.sent else 0.0
    after = "never" if result.delivered_after is None else f"{result.delivered_after:.2f} s"
    print(f"  round {number}:")
    print(
        f"    acknowledged within {ACK_DEADLINE:g} s    {result.acked_in_time}/{result.sent} ({share:.1f}%)"
    )
    print(f"    acknowledged (HTTP 200)     {result.acked}/{result.sent}")
    print(f"    throughput                  {result.sent / result.send_seconds:.0f} req/s")
    print(f"    ack latency p50 / p99       {ms(percentile(lat, 0.5))} / {ms(percentile(lat, 0.99))}")
    print(f"    delayed responses           {result.delivered}/{result.sent}, the last after {after}")
    print(f"    unescaped markup sent       {result.markup_problems}")
    print(f"    RSS before / after          {rss_before:.1f} MB / {rss_after:.1f} MB")


async def bench_slack(kb: KnowledgeBase, commands: int, concurrency: int, rounds: int) -> bool:
    texts = command_mix(commands)
    print(f"Slack HTTP mode: {commands} signed /nato commands from {concurrency} concurrent clients")
    ok = True
    users = {user: {"name": user.lower(), "is_admin": False, "is_owner": False} for user in USERS}
    with (
        tempfile.TemporaryDirectory(prefix="briefbot-bench-") as folder,
        SQLiteStore(Path(folder) / "bench.sqlite3") as store,
    ):
        bot = Bot(Engine(kb), store=store, digest_handler=DigestCommands(store, lambda: kb))
        async with SlackEmulator(users=users) as emulator:
            app = build_app(
                bot, token=emulator.bot_token, signing_secret=SIGNING_SECRET, api_url=emulator.api_url
            )
            runner = await serve_http(app, "127.0.0.1", 0)
            try:
                host, port = runner.addresses[0][:2]
                url = f"http://{host}:{port}{EVENTS_PATH}"
                for number in range(1, rounds + 1):
                    before = settled_rss_mb()
                    result = await slack_round(emulator, url, texts, concurrency)
                    await app.wait_idle(timeout=DELIVERY_TIMEOUT)
                    print_slack_round(number, result, before, settled_rss_mb())
                    ok = ok and result.acked == result.sent == result.delivered
                    ok = ok and result.markup_problems == 0
            finally:
                await app.wait_idle(timeout=DELIVERY_TIMEOUT)
                await runner.cleanup()
    return ok


# -- part 2: the engine ----------------------------------------------------------------------


def bench_engine(kb: KnowledgeBase, count: int, rounds: int) -> None:
    questions = question_mix(count)
    distinct = len(set(questions))
    print(f"Engine: {count} questions ({distinct} distinct: dev set + perturbations), Engine.ask directly")
    started = time.perf_counter()
    engine = Engine(kb)
    print(f"  engine built in             {ms(time.perf_counter() - started)}")
    engine.ask(questions[0])  # first-call costs (lazy imports, caches) are not per-question costs
    for number in range(1, rounds + 1):
        before = settled_rss_mb()
        samples = []
        abstained = 0
        round_start = time.perf_counter()
        for question in questions:
            start = time.perf_counter()
            answer = engine.ask(question)
            samples.append(time.perf_counter() - start)
            abstained += answer.abstained
        wall = time.perf_counter() - round_start
        after = settled_rss_mb()
        print(f"  round {number}:")
        print(f"    throughput                  {count / wall:.0f} questions/s ({wall:.2f} s)")
        p50, p99 = statistics.median(samples), percentile(samples, 0.99)
        print(f"    per question p50 / p99      {ms(p50)} / {ms(p99)} (max {ms(max(samples))})")
        print(f"    abstained                   {abstained}/{count}")
        print(f"    RSS before / after          {before:.1f} MB / {after:.1f} MB")


# -- main ---------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--commands", type=int, default=1000, help="signed slash commands per round")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent Slack clients")
    parser.add_argument("--questions", type=int, default=100_000, help="engine questions per round")
    parser.add_argument("--rounds", type=int, default=2, help="identical rounds of each part")
    args = parser.parse_args(argv)
    # Warnings from the adapter (a failed post, say) are worth seeing; bolt's INFO is not.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    print(f"RSS at start                  {rss_mb():.1f} MB")
    started = time.perf_counter()
    kb = load_knowledge()
    loaded = time.perf_counter() - started
    print(f"knowledge base                {len(kb.entries)} entries, loaded in {ms(loaded)}")
    print(f"RSS with the knowledge base   {rss_mb():.1f} MB")
    print()
    ok = asyncio.run(bench_slack(kb, args.commands, args.concurrency, args.rounds))
    print()
    bench_engine(kb, args.questions, args.rounds)
    if not ok:
        print(
            "\nFAILED: some commands were not acknowledged, answered, or escaped (see above)", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
