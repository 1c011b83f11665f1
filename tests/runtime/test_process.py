"""`briefbot run` as an operator runs it: real processes, the local Slack and Discord
emulators, a real SQLite file, signals, /healthz and /metrics."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.cli import main
from bot.store.sqlite import SQLiteStore
from bot.store.values import NewSubscription
from tests.adapters.discord.emulator import DiscordEmulator
from tests.adapters.slack.emulator import SlackEmulator, event_callback, slash_command
from tests.adapters.slack.harness import ADMIN, ALLOWED, CHANNEL, DM, KB_DIR, MEMBER, USERS
from tests.runtime.process import REPO, BriefbotProcess, clean_env, free_port
from tests.runtime.support import EDITED, ORIGINAL, break_topics, copy_kb, edit_kishida, fix_topics

DISCORD_TOKEN = "MTIz.runtime-test-discord-token"


def slack_env(slack: SlackEmulator, **extra: str) -> dict[str, str]:
    return clean_env(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_APP_TOKEN=slack.app_token,
        SLACK_API_URL=slack.api_url,
        **extra,
    )


async def slash(slack: SlackEmulator, text: str, *, user: str = MEMBER) -> str:
    """``/nato <text>`` over Socket Mode; the text of the answer on its response_url."""
    url = slack.response_url()
    envelope = await slack.send_envelope(
        "slash_commands", slash_command(text, user=user, channel=CHANNEL, response_url=url)
    )
    await slack.wait_ack(envelope, timeout=15)
    [answer] = await slack.wait_for("response_url", lambda c: c.args["url"] == url, timeout=15)
    return str(answer.args["text"])


async def briefbot_cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.cli",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode()


# -- start-up ---------------------------------------------------------------------------


def test_run_without_credentials_names_the_missing_variables_and_touches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = [k for k in os.environ if k.startswith(("SLACK_", "DISCORD_", "BRIEFBOT_"))]
    for name in [k for k in settings if k != "BRIEFBOT_CACHE_DIR"]:  # the test cache (tests/conftest.py)
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    assert main(["--knowledge", str(KB_DIR), "run"]) == 1
    err = capsys.readouterr().err
    assert "no chat platform is configured" in err
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"):
        assert name in err

    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-half-configured-value")
    assert main(["--knowledge", str(KB_DIR), "run"]) == 1
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN is not set" in err and "xapp-half-configured-value" not in err
    assert list(tmp_path.iterdir()) == []  # no database, no pid file


# -- both platforms, one process -----------------------------------------------------------


async def test_one_process_serves_slack_and_discord_from_one_store_and_scheduler(tmp_path: Path) -> None:
    db = tmp_path / "briefbot.sqlite3"
    async with SlackEmulator(users=USERS) as slack, DiscordEmulator(DISCORD_TOKEN) as discord:
        # A digest on each platform, due since midnight: one scheduler must post both.
        with SQLiteStore(db) as store:
            for platform, workspace, channel in (
                ("slack", "T0EMULATED", CHANNEL),
                ("discord", discord.guild_id, discord.channel_id),
            ):
                store.add_subscription(
                    NewSubscription(
                        platform, workspace, channel, "topic", "diplomacy", "daily 00:00", "UTC", ADMIN
                    ),
                    now=datetime.now(UTC) - timedelta(days=3),
                )
        env = slack_env(
            slack,
            DISCORD_TOKEN=DISCORD_TOKEN,
            DISCORD_API_BASE=discord.api_base,
            DISCORD_GATEWAY_URL=discord.gateway_url,
            BRIEFBOT_KNOWLEDGE_DIR=str(KB_DIR),
            BRIEFBOT_DB=str(db),
        )
        async with BriefbotProcess(env, port=free_port()) as bot:
            body = await bot.wait_health(200)
            assert body["adapters"] == {"slack": "connected", "discord": "connected"}
            [digest] = await slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == CHANNEL)
            assert "diplomacy" in json.dumps(digest.args).casefold()
            [posted] = await discord.wait_for_message(discord.channel_id, timeout=15)
            assert "diplomacy" in posted.text.casefold()

            assert ORIGINAL in await slash(slack, "who is fumio kishida")
            interaction = await discord.slash("ask", {"question": "who is fumio kishida"})
            [reply] = await discord.wait_for_reply(interaction, timeout=15)
            assert ORIGINAL in reply.text

            assert "Subscribed" in await slash(slack, "digest subscribe topic cyber daily 09:00", user=ADMIN)
            listed = await slash(slack, "digest list")
            assert "diplomacy" in listed and "cyber" in listed

            page = await bot.metrics()
            assert 'briefbot_questions_total{outcome="answered",platform="discord"} 1.0' in page
            assert 'briefbot_digest_deliveries_total{platform="discord",status="posted"} 1.0' in page
            assert await bot.stop() == 0
    with SQLiteStore(db) as store:
        subscriptions = store.subscriptions()
        assert sorted((s.platform, s.arg) for s in subscriptions) == [
            ("discord", "diplomacy"),
            ("slack", "cyber"),
            ("slack", "diplomacy"),
        ]
        done = [store.last_delivery(s.id) for s in subscriptions if s.arg == "diplomacy"]
        assert [d.status if d else None for d in done] == ["done", "done"]
    assert "briefbot: stopped." in bot.log
    assert not (tmp_path / "briefbot.pid").exists()


async def test_a_digest_given_up_is_told_to_the_admins_counted_and_shown_on_healthz(tmp_path: Path) -> None:
    db = tmp_path / "briefbot.sqlite3"
    async with SlackEmulator(users=USERS) as slack:
        with SQLiteStore(db) as store:
            store.add_subscription(
                NewSubscription(
                    "slack", "T0EMULATED", CHANNEL, "topic", "diplomacy", "daily 00:00", "UTC", ADMIN
                ),
                now=datetime.now(UTC) - timedelta(days=3),
            )
        slack.fail_next("chat.postMessage", error="channel_not_found")  # the digest's post
        env = slack_env(
            slack,
            SLACK_DIGEST_ADMINS=ALLOWED,
            BRIEFBOT_KNOWLEDGE_DIR=str(KB_DIR),
            BRIEFBOT_DB=str(db),
            BRIEFBOT_METRICS_TOKEN="metrics-token-for-details",
        )
        async with BriefbotProcess(env, port=free_port()) as bot:
            [notice] = await slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == ALLOWED)
            text = notice.args["text"]
            assert "gave up" in text and "topic diplomacy" in text and CHANNEL in text
            assert "channel_not_found" in text
            body = await bot.wait_health(200)
            assert body["digests"] == {"ok": False, "given_up": 1}
            assert CHANNEL not in json.dumps(body)  # a count, never which channel
            assert 'briefbot_digests_given_up_total{platform="slack"} 1.0' in await bot.metrics()
            assert await bot.stop() == 0
    assert any(" ERROR " in line and "given up" in line for line in bot.lines), bot.log


# -- live knowledge ---------------------------------------------------------------------------


async def test_sighup_and_kb_reload_swap_the_base_and_a_broken_edit_keeps_the_old_one(tmp_path: Path) -> None:
    kb_dir = copy_kb(tmp_path)
    async with SlackEmulator(users=USERS) as slack:
        env = slack_env(
            slack,
            SLACK_DIGEST_ADMINS=ALLOWED,
            BRIEFBOT_KNOWLEDGE_DIR=str(kb_dir),
            BRIEFBOT_DB=str(tmp_path / "b.sqlite3"),
            BRIEFBOT_RELOAD_POLL_SECONDS="0",  # only signals reload here
            BRIEFBOT_METRICS_TOKEN="metrics-token-for-details",  # /healthz names the problems
        )
        async with BriefbotProcess(env, port=free_port()) as bot:
            await bot.wait_health(200)
            assert ORIGINAL in await slash(slack, "who is fumio kishida")

            edit_kishida(kb_dir)
            bot.signal(signal.SIGHUP)
            swapped = await bot.wait_reload(after=None)
            assert swapped["ok"] and swapped["changed"] and swapped["trigger"] == "SIGHUP"
            assert EDITED in await slash(slack, "who is fumio kishida")

            # A broken edit: `briefbot kb reload` shows the problem and does not even ask.
            line = break_topics(kb_dir)
            where = f"entries.yaml:{line}: entry 'person-kishida': field 'topics'"
            code, out = await briefbot_cli(bot.env, "kb", "reload")
            assert code == 1 and where in out
            assert await bot.last_reload_at() == swapped["at"]

            # Signalled anyway: the old base keeps answering; /healthz, the log and the admins hear.
            bot.signal(signal.SIGHUP)
            failed = await bot.wait_reload(after=swapped["at"])
            assert not failed["ok"] and not failed["changed"] and where in failed["problems"][0]
            assert failed["version"] == swapped["version"]
            assert EDITED in await slash(slack, "who is fumio kishida")
            [notice] = await slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == ALLOWED)
            assert where in notice.args["text"] and "still" in notice.args["text"]
            assert where in bot.log

            fix_topics(kb_dir)
            edit_kishida(kb_dir, back=True)
            code, out = await briefbot_cli(bot.env, "kb", "reload")
            assert code == 0 and "Reloaded" in out, out
            assert ORIGINAL in await slash(slack, "who is fumio kishida")

            page = await bot.metrics()
            assert 'briefbot_knowledge_reloads_total{result="ok"} 2.0' in page
            assert 'briefbot_knowledge_reloads_total{result="failed"} 1.0' in page
            assert await bot.stop() == 0
    code, out = await briefbot_cli(bot.env, "kb", "reload")
    assert code == 1 and "No running briefbot" in out


# -- operating it: file changes, health, metrics, logs, shutdown -----------------------------


METRICS_TOKEN = "metrics-token-0123456789abcdef"


async def test_file_changes_health_metrics_logs_and_a_graceful_stop(tmp_path: Path) -> None:
    kb_dir = copy_kb(tmp_path)
    async with SlackEmulator(users=USERS) as slack:
        env = slack_env(
            slack,
            BRIEFBOT_KNOWLEDGE_DIR=str(kb_dir),
            BRIEFBOT_DB=str(tmp_path / "b.sqlite3"),
            BRIEFBOT_RELOAD_POLL_SECONDS="0.2",
            BRIEFBOT_LOG_FORMAT="json",
            BRIEFBOT_METRICS_TOKEN=METRICS_TOKEN,
        )
        async with BriefbotProcess(env, port=free_port()) as bot:
            await bot.wait_health(200)
            assert METRICS_TOKEN not in await bot.metrics(authorised=False)  # refused, token unsaid
            assert ORIGINAL in await slash(slack, "who is fumio kishida")

            edit_kishida(kb_dir)  # a curator saves the file; nobody signals anything
            reloaded = await bot.wait_reload(after=None)
            assert reloaded["ok"] and reloaded["trigger"] == "file change"
            assert EDITED in await slash(slack, "who is fumio kishida")
            page = await bot.metrics()
            assert 'briefbot_questions_total{outcome="answered",platform="slack"} 2.0' in page
            assert "briefbot_answer_latency_seconds_bucket" in page

            # Slack drops the connection and, for a while, refuses a new one.
            refusing = slack.hold("apps.connections.open")
            await slack.drop_connection()
            down = await bot.wait_health(503)
            assert down["adapters"] == {"slack": "disconnected"} and down["status"] == "degraded"
            refusing.set()
            up = await bot.wait_health(200)
            assert up["knowledge"]["version"] == reloaded["version"]

            # SIGTERM while an answer is on its way: it is still delivered.
            posting = slack.hold("chat.postMessage")
            event = {"type": "message", "channel": DM, "channel_type": "im", "user": MEMBER}
            event |= {"text": "what is the ccdcoe", "ts": "1690000000.000009", "team": "T0EMULATED"}
            envelope = await slack.send_envelope("events_api", event_callback(event, event_id="Ev0INFLIGHT"))
            await slack.wait_ack(envelope, timeout=15)
            await slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == DM, timeout=15)
            bot.signal(signal.SIGTERM)
            await asyncio.sleep(1.0)
            assert bot.process is not None and bot.process.returncode is None  # waiting for the answer
            posting.set()
            assert await bot.stop() == 0
            [answer] = slack.calls_to("chat.postMessage", lambda c: c.args.get("channel") == DM)
            assert "Cooperative Cyber Defence Centre" in answer.args["text"]

    records = [json.loads(line) for line in bot.lines]  # every line is a JSON object
    questions = [r for r in records if r.get("event") == "question"]
    assert len(questions) == 3 and {q["outcome"] for q in questions} == {"answered"}
    assert all(len(str(q["user_hash"])) == 24 for q in questions)
    assert records[-1]["message"] == "briefbot: stopped."
    for secret_or_id in (slack.bot_token, slack.app_token, METRICS_TOKEN, MEMBER):
        assert secret_or_id not in bot.log


# -- where /healthz and /metrics listen (#14.5) ------------------------------------------------


async def test_health_listens_on_loopback_unless_slack_http_mode_needs_the_port(tmp_path: Path) -> None:
    async with SlackEmulator(users=USERS) as slack:
        port = free_port()
        socket_mode = slack_env(
            slack, BRIEFBOT_DB=str(tmp_path / "a.sqlite3"), BRIEFBOT_HEALTH_PORT=str(port)
        )
        async with BriefbotProcess(socket_mode, port=port, port_in_env=False) as bot:
            body = await bot.wait_health(200)
            assert set(body) == {"ok", "status", "adapters", "digests", "knowledge", "last_reload"}
            assert "version" not in body["knowledge"]  # details are for the metrics token
            assert f"health on http://127.0.0.1:{port}" in bot.log
            assert "all interfaces" not in bot.log
            assert await bot.stop() == 0

        port = free_port()
        http_mode = clean_env(
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET="signing-secret-for-the-test",
            SLACK_API_URL=slack.api_url,
            BRIEFBOT_DB=str(tmp_path / "b.sqlite3"),
            BRIEFBOT_HEALTH_PORT=str(port),
        )
        async with BriefbotProcess(http_mode, port=port, port_in_env=False) as bot:
            await bot.wait_health(200)
            assert f"health on http://0.0.0.0:{port}" in bot.log
            assert "listening on all interfaces" in bot.log and "Slack's HTTP mode" in bot.log
            assert await bot.stop() == 0


# -- the digest lease and post timeout are settings (#15) ---------------------------------------


async def test_run_claims_digests_for_the_configured_lease_and_times_posts_out_as_configured(
    tmp_path: Path,
) -> None:
    db = tmp_path / "briefbot.sqlite3"
    with SQLiteStore(db) as store:
        [sub] = [
            store.add_subscription(
                NewSubscription(
                    "slack", "T0EMULATED", CHANNEL, "topic", "diplomacy", "daily 00:00", "UTC", ADMIN
                ),
                now=datetime.now(UTC) - timedelta(days=3),
            )
        ]
    async with SlackEmulator(users=USERS) as slack:
        slack.hold("chat.postMessage")  # Slack never answers: the post is in flight until it times out
        env = slack_env(
            slack,
            BRIEFBOT_KNOWLEDGE_DIR=str(KB_DIR),
            BRIEFBOT_DB=str(db),
            BRIEFBOT_DIGEST_LEASE_SECONDS="9",
            BRIEFBOT_DIGEST_POST_TIMEOUT_SECONDS="2",
        )
        async with BriefbotProcess(env, port=free_port()) as bot:
            await bot.wait_health(200)
            await slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == CHANNEL, timeout=15)
            with SQLiteStore(db) as store:
                claimed = store.last_delivery(sub.id)
            assert claimed is not None and claimed.status == "claimed"
            assert claimed.lease_until - claimed.claimed_at == timedelta(seconds=9)
            # The post Slack never answers is given up after the configured 2 s, not 60 s.
            async with asyncio.timeout(15):
                while True:
                    with SQLiteStore(db) as store:
                        latest = store.last_delivery(sub.id)
                    if latest is not None and latest.last_error:
                        break
                    await asyncio.sleep(0.2)
            assert "TimeoutError" in latest.last_error and latest.retry_at is not None
            assert await bot.stop() == 0
