"""Two real `briefbot run` replicas on one PostgreSQL database, against the Slack emulator.

What several replicas promise: every due digest is posted exactly once, whichever replica
gets to it, even when one is killed (``kill -9``) while its posts are in flight; both serve
the same knowledge version; and one stopping leaves the other serving. The server is the
tests' own throwaway PostgreSQL (tests/store/postgres_server.py).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.slack import EVENTS_PATH
from bot.store.opening import open_store
from bot.store.values import NewSubscription
from tests.adapters.slack.emulator import (
    BOT_USER,
    TEAM,
    SignedSender,
    SlackEmulator,
    event_callback,
    slash_command,
)
from tests.adapters.slack.harness import ADMIN, CHANNEL, KB_DIR, MEMBER, USERS
from tests.runtime.process import BriefbotProcess, clean_env, free_port
from tests.runtime.test_process import slack_env, slash
from tests.store.postgres_server import PostgresServer

CHANNELS = [f"C0REPLICA{i:02d}" for i in range(40)]


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> Iterator[str]:
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


def subscribe_every_channel(url: str) -> None:
    with open_store(url) as store:
        for channel in CHANNELS:  # due since midnight, at both replicas' first pass
            store.add_subscription(
                NewSubscription(
                    "slack", "T0EMULATED", channel, "topic", "diplomacy", "daily 00:00", "UTC", ADMIN
                ),
                now=datetime.now(UTC) - timedelta(days=3),
            )


def all_done(url: str) -> bool:
    with open_store(url) as store:
        latest = [store.last_delivery(s.id) for s in store.subscriptions()]
    return all(d is not None and d.status == "done" for d in latest)


async def test_two_replicas_post_every_due_digest_exactly_once_and_serve_one_version(
    tmp_path: Path, postgres_server: PostgresServer, database_url: str
) -> None:
    subscribe_every_channel(database_url)
    async with SlackEmulator(users=USERS) as slack:
        shared = {
            "BRIEFBOT_KNOWLEDGE_DIR": str(KB_DIR),
            "BRIEFBOT_DB": database_url,
            "BRIEFBOT_METRICS_TOKEN": "metrics-token-for-details",  # /healthz with versions
        }
        replicas = [
            BriefbotProcess(
                slack_env(slack, **shared, BRIEFBOT_PID_FILE=str(tmp_path / f"r{i}.pid")), port=free_port()
            )
            for i in range(2)
        ]
        async with replicas[0] as first, replicas[1] as second:
            bodies = [await first.wait_health(200), await second.wait_health(200)]
            # Each replica reports the version it serves; both serve the one mounted.
            assert bodies[0]["knowledge"]["version"] == bodies[1]["knowledge"]["version"]
            version = bodies[0]["knowledge"]["version"]
            for replica in (first, second):
                assert f'briefbot_knowledge_info{{version="{version}"}} 1.0' in await replica.metrics()

            await slack.wait_for(
                "chat.postMessage",
                lambda c: c.args.get("channel") in CHANNELS,
                count=len(CHANNELS),
                timeout=60,
            )
            async with asyncio.timeout(30):
                while not all_done(database_url):
                    await asyncio.sleep(0.2)
            # Every period is done, so nothing more can be posted: count what was.
            posts = slack.calls_to("chat.postMessage", lambda c: c.args.get("channel") in CHANNELS)
            per_channel = Counter(str(c.args["channel"]) for c in posts)
            assert sorted(per_channel) == sorted(CHANNELS) and set(per_channel.values()) == {1}

            # One replica leaves (a rolling deploy); the other keeps answering.
            assert await first.stop() == 0
            assert "Kishida" in await slash(slack, "who is fumio kishida")
            assert await second.stop() == 0
    assert postgres_server.password not in first.log + second.log


async def test_every_due_digest_is_posted_exactly_once_while_a_replica_is_killed_mid_post(
    tmp_path: Path, postgres_server: PostgresServer, database_url: str
) -> None:
    subscribe_every_channel(database_url)
    async with SlackEmulator(users=USERS) as slack:
        # Slack takes 1.5 s to answer each post, so posts are in flight when the kill lands;
        # a post is in the channel from the moment Slack receives it, answered or not.
        slack.slow("chat.postMessage", 1.5)
        shared = {
            "BRIEFBOT_KNOWLEDGE_DIR": str(KB_DIR),
            "BRIEFBOT_DB": database_url,
            # A dead replica's periods are taken over after 5 s, not 10 minutes.
            "BRIEFBOT_DIGEST_LEASE_SECONDS": "5",
            "BRIEFBOT_DIGEST_POST_TIMEOUT_SECONDS": "3",
        }
        names = ("a", "b")
        replicas = {
            name: BriefbotProcess(
                slack_env(slack, **shared, BRIEFBOT_PID_FILE=str(tmp_path / f"{name}.pid"))
                | {"SLACK_API_URL": slack.api_url_for(name)},  # whose calls are whose
                port=free_port(),
            )
            for name in names
        }
        async with replicas["a"], replicas["b"]:
            # The first replica seen posting is killed at once, its posts still unanswered.
            [first, *_] = await slack.wait_for(
                "chat.postMessage", lambda c: c.args.get("channel") in CHANNELS, timeout=60
            )
            victim = replicas[first.via]
            survivor = replicas[next(n for n in names if n != first.via)]
            victim.signal(signal.SIGKILL)
            assert victim.process is not None and await victim.process.wait() == -signal.SIGKILL
            in_flight = {c.args["channel"] for c in slack.calls_to("chat.postMessage") if c.via == first.via}
            await survivor.wait_health(200)

            async with asyncio.timeout(60):
                while not all_done(database_url):
                    await asyncio.sleep(0.2)
            # Every period is done, so nothing more can be posted: count what reached the channels.
            per_channel = Counter(str(m["channel"]) for m in slack.messages if m["channel"] in CHANNELS)
            assert sorted(per_channel) == sorted(CHANNELS)
            assert {c: n for c, n in per_channel.items() if n != 1} == {}
            # The dead replica's claimed periods were the survivor's to finish.
            with open_store(database_url) as store:
                recovered = [store.last_delivery(s.id) for s in store.subscriptions()]
            assert any(d is not None and d.recovered >= 1 for d in recovered)
            assert in_flight and all(
                c.via == first.via
                for c in slack.calls_to("chat.postMessage")
                if c.args["channel"] in in_flight
            ), "a channel whose post was in flight at the kill was posted to again"
            assert await survivor.stop() == 0


# -- Slack's HTTP mode behind a load balancer: any request may reach either replica ----------

SIGNING_SECRET = "signing-secret-shared-by-the-replicas"


@asynccontextmanager
async def http_replicas(
    slack: SlackEmulator, tmp_path: Path, database_url: str, *, knowledge: Path | None = KB_DIR
) -> AsyncIterator[tuple[BriefbotProcess, BriefbotProcess]]:
    """Two replicas in Slack's HTTP mode, each on its own port, on one database; on the
    small test knowledge base unless ``knowledge`` is None (the bundled one)."""
    kb = {} if knowledge is None else {"BRIEFBOT_KNOWLEDGE_DIR": str(knowledge)}
    replicas = [
        BriefbotProcess(
            clean_env(
                **kb,
                SLACK_BOT_TOKEN=slack.bot_token,
                SLACK_SIGNING_SECRET=SIGNING_SECRET,
                SLACK_API_URL=slack.api_url_for(name),
                BRIEFBOT_DB=database_url,
                BRIEFBOT_PID_FILE=str(tmp_path / f"{name}.pid"),
                BRIEFBOT_RELOAD_POLL_SECONDS="0",
            ),
            port=free_port(),
        )
        for name in ("a", "b")
    ]
    # One after the other: the second starts from the engine the first cached (bot.ops.prepared).
    async with replicas[0] as a:
        await a.wait_health(200, timeout=90)  # may build the engine (a cold cache)
        async with replicas[1] as b:
            await b.wait_health(200, timeout=90)
            yield a, b
            assert await a.stop() == 0
            assert await b.stop() == 0


def events_url(replica: BriefbotProcess) -> str:
    return f"http://127.0.0.1:{replica.port}{EVENTS_PATH}"


def channel_message(kind: str, text: str, ts: str, thread_ts: str | None = None) -> dict[str, Any]:
    """An ``app_mention`` or a ``message`` in CHANNEL from MEMBER, as Slack delivers it."""
    event: dict[str, Any] = {
        "type": kind,
        "user": MEMBER,
        "text": f"<@{BOT_USER}> {text}" if kind == "app_mention" else text,
        "ts": ts,
        "event_ts": ts,
        "channel": CHANNEL,
        "channel_type": "channel",
        "team": TEAM,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


async def test_a_slack_retry_delivered_to_the_other_replica_is_answered_once(
    tmp_path: Path, postgres_server: PostgresServer, database_url: str
) -> None:
    async with SlackEmulator(users=USERS) as slack, http_replicas(slack, tmp_path, database_url) as (a, b):
        payload = event_callback(
            channel_message("app_mention", "who is fumio kishida", "1690000000.000100"), event_id="Ev0RETRIED"
        )
        async with (
            SignedSender(events_url(a), SIGNING_SECRET) as to_a,
            SignedSender(events_url(b), SIGNING_SECRET) as to_b,
        ):
            assert (await to_a.json(payload)).status == 200
            # Slack did not see that acknowledgement in time: it retries, later, and the load
            # balancer sends the retry to the other replica.
            retried = await to_b.json(payload, timestamp=int(time.time()) + 1, retry_num=1)
            assert retried.status == 200
        [answer] = await slack.wait_for(
            "chat.postMessage", lambda c: c.args.get("channel") == CHANNEL, timeout=15
        )
        assert answer.via == "a" and "Kishida" in answer.text()
        # b decided before acknowledging that it had been answered: nothing more can come.
        assert "event Ev0RETRIED delivered again (retry 1); already answered" in b.log
        assert len(slack.calls_to("chat.postMessage", lambda c: c.args.get("channel") == CHANNEL)) == 1


async def test_a_thread_started_on_one_replica_continues_in_context_on_the_other(
    tmp_path: Path, postgres_server: PostgresServer, database_url: str
) -> None:
    # The bundled knowledge base: the small test one has no follow-up vocabulary.
    async with (
        SlackEmulator(users=USERS) as slack,
        http_replicas(slack, tmp_path, database_url, knowledge=None) as (a, b),
    ):
        asked = "1690000000.000200"
        async with SignedSender(events_url(a), SIGNING_SECRET) as to_a:
            mention = channel_message("app_mention", "stoltenbergs visit to tokio", asked)
            assert (await to_a.json(event_callback(mention, event_id="Ev0THREAD1"))).status == 200
        [first] = await slack.wait_for(
            "chat.postMessage", lambda c: c.args.get("thread_ts") == asked, timeout=15
        )
        assert first.via == "a" and "Stoltenberg" in first.text()

        async with SignedSender(events_url(b), SIGNING_SECRET) as to_b:
            follow_up = channel_message("message", "and when was that?", "1690000000.000300", thread_ts=asked)
            assert (await to_b.json(event_callback(follow_up, event_id="Ev0THREAD2"))).status == 200
        answers = await slack.wait_for(
            "chat.postMessage", lambda c: c.args.get("thread_ts") == asked, count=2, timeout=15
        )
        second = answers[1]
        assert second.via == "b"
        # Read with the thread's first question: when the visit was, not "when was what?".
        assert "February" in second.text() and "2023" in second.text(), second.text()
        assert len(answers) == 2


COMMANDS = 1000
CONCURRENCY = 50
QUESTIONS = ("who is fumio kishida", "define ITPP", "timeline 2023", "topics")


async def test_a_thousand_slash_commands_over_both_replicas_are_acknowledged_within_3_s_and_answered_once(
    tmp_path: Path, postgres_server: PostgresServer, database_url: str
) -> None:
    async with SlackEmulator(users=USERS) as slack:
        urls = [slack.response_url() for _ in range(COMMANDS)]
        acks: list[float] = []
        async with http_replicas(slack, tmp_path, database_url) as (a, b):
            in_flight = asyncio.Semaphore(CONCURRENCY)
            async with (
                SignedSender(events_url(a), SIGNING_SECRET) as to_a,
                SignedSender(events_url(b), SIGNING_SECRET) as to_b,
            ):

                async def command(i: int) -> None:
                    fields = slash_command(
                        QUESTIONS[i % len(QUESTIONS)], user=MEMBER, channel=CHANNEL, response_url=urls[i]
                    )
                    async with in_flight:
                        sent = time.monotonic()
                        delivered = await (to_a, to_b)[i % 2].form(fields)  # alternately, as a balancer
                        acks.append(time.monotonic() - sent)
                    assert delivered.status == 200, delivered

                await asyncio.gather(*(command(i) for i in range(COMMANDS)))
            # Slack shows the user an error for a command not acknowledged within 3 s.
            assert len(acks) == COMMANDS and max(acks) <= 3.0, sorted(acks)[-10:]
            await slack.wait_for("response_url", count=COMMANDS, timeout=120)
        # Both replicas have stopped, having finished every answer: nothing more can come.
        answered = Counter(str(c.args["url"]) for c in slack.calls_to("response_url"))
        assert answered == dict.fromkeys(urls, 1)
        assert not slack.calls_to("chat.postMessage")  # each answer went to its response_url
