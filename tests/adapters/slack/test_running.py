"""`briefbot slack` as an operator runs it: settings from the environment, a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from adapters.cli import main
from adapters.slack import DEFAULT_API_URL, SlackSettings, build_app, connect_socket_mode
from bot.dispatch import Bot
from bot.errors import ConfigError
from bot.qa.engine import Engine
from tests.adapters.slack.emulator import SignedSender, SlackEmulator, event_callback, slash_command
from tests.adapters.slack.harness import KB_DIR, MEMBER, SIGNING_SECRET, fixture_kb

REPO = Path(__file__).resolve().parents[3]
READY = "answering in Slack workspace"


# -- settings ---------------------------------------------------------------------------


def test_missing_bot_token_is_named() -> None:
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is not set"):
        SlackSettings.from_env({"SLACK_SIGNING_SECRET": "s"})


def test_http_mode_without_a_signing_secret_is_named() -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set") as raised:
        SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-secret-value"})
    assert "xoxb-secret-value" not in str(raised.value)


def test_socket_mode_needs_no_signing_secret_but_an_app_level_token() -> None:
    settings = SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert settings.socket_mode and settings.signing_secret is None
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN is not an app-level token") as raised:
        SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-wrong-one"})
    assert "xoxb-wrong-one" not in str(raised.value)


def test_api_url_and_digest_admins_are_read_and_secrets_stay_out_of_repr() -> None:
    settings = SlackSettings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-hidden",
            "SLACK_SIGNING_SECRET": "hidden-secret",
            "SLACK_API_URL": "https://slack-gov.com/api",
            "SLACK_DIGEST_ADMINS": " U1, U2 ,,",
        }
    )
    assert settings.api_url == "https://slack-gov.com/api/"
    assert settings.digest_admins == {"U1", "U2"}
    assert "hidden" not in repr(settings)
    assert (
        SlackSettings.from_env({"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y"}).api_url
        == DEFAULT_API_URL
    )
    with pytest.raises(ConfigError, match="SLACK_API_URL"):
        SlackSettings.from_env(
            {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y", "SLACK_API_URL": "slack.com"}
        )


# -- the process -------------------------------------------------------------------------


def clean_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return env | settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def briefbot_slack(
    env: Mapping[str, str], db: Path, *extra: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.cli",
        "--knowledge",
        str(KB_DIR),
        "slack",
        "--db",
        str(db),
        *extra,
        cwd=REPO,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()


async def wait_ready(process: asyncio.subprocess.Process) -> str:
    assert process.stderr is not None
    async with asyncio.timeout(30):
        while True:
            line = (await process.stderr.readline()).decode()
            assert line, "briefbot slack exited before it was ready"
            if READY in line:
                return line


async def stop(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        _, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, err.decode()


def test_missing_settings_stop_start_up_naming_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in [k for k in os.environ if k.startswith("SLACK_")]:
        monkeypatch.delenv(name)
    args = ["--knowledge", str(KB_DIR), "slack", "--db", str(tmp_path / "b.sqlite3")]
    assert main(args) == 1
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-do-not-print")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "SLACK_SIGNING_SECRET is not set" in err
    assert "xoxb-do-not-print" not in err
    assert not (tmp_path / "b.sqlite3").exists()


def test_no_warning_that_the_token_from_the_environment_is_unused(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # #14.18: bolt reads SLACK_BOT_TOKEN itself and warned on every start.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    build_app(Bot(Engine(fixture_kb())), token="xoxb-from-the-environment", signing_secret="s")
    assert "will be unused" not in caplog.text


async def test_rejected_token_stops_start_up_without_naming_its_value() -> None:
    async with SlackEmulator() as emulator:
        app = build_app(
            Bot(Engine(fixture_kb())),
            token="xoxb-revoked-token",
            signing_secret=None,
            api_url=emulator.api_url,
        )
        with pytest.raises(ConfigError) as raised:
            await app.check_auth()
    assert str(raised.value) == "SLACK_BOT_TOKEN was rejected by Slack (invalid_auth)"


async def test_rejected_app_token_stops_start_up_instead_of_retrying_forever() -> None:
    async with SlackEmulator() as emulator:
        app = build_app(
            Bot(Engine(fixture_kb())), token=emulator.bot_token, signing_secret=None, api_url=emulator.api_url
        )
        with pytest.raises(ConfigError) as raised:
            await connect_socket_mode(app, "xapp-revoked-token")
    assert str(raised.value) == "SLACK_APP_TOKEN was rejected by Slack (invalid_auth)"
    assert emulator.calls_to("socket.connected") == []


async def test_http_mode_serves_signed_requests_until_terminated(tmp_path: Path) -> None:
    port = free_port()
    async with SlackEmulator() as emulator:
        env = clean_env(
            SLACK_BOT_TOKEN=emulator.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=emulator.api_url,
        )
        async with briefbot_slack(env, tmp_path / "b.sqlite3", "--port", str(port)) as process:
            assert f"HTTP on port {port}" in await wait_ready(process)
            async with SignedSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET) as sender:
                url = emulator.response_url()
                delivered = await sender.form(
                    slash_command("who Kishida", user=MEMBER, channel="C0GENERAL", response_url=url)
                )
                assert delivered.status == 200
                [answer] = await emulator.wait_for("response_url", timeout=15)
                assert "Fumio Kishida was Japan's Prime Minister" in answer.args["text"]
            code, err = await stop(process)
    assert code == 0, err
    assert "briefbot: stopped." in err
    assert "will be unused" not in err  # #14.18: bolt's start-up warning about the token
    assert (tmp_path / "b.sqlite3").exists()


async def test_socket_mode_connects_with_the_app_token_and_answers(tmp_path: Path) -> None:
    async with SlackEmulator() as emulator:
        env = clean_env(
            SLACK_BOT_TOKEN=emulator.bot_token,
            SLACK_APP_TOKEN=emulator.app_token,
            SLACK_API_URL=emulator.api_url,
        )
        async with briefbot_slack(env, tmp_path / "b.sqlite3") as process:
            assert "Socket Mode" in await wait_ready(process)
            await emulator.wait_for("socket.connected", timeout=15)
            event = {
                "type": "message",
                "channel": "D0MEMBER",
                "channel_type": "im",
                "user": MEMBER,
                "text": "what is the ccdcoe",
                "ts": "1690000000.000001",
            }
            envelope = await emulator.send_envelope(
                "events_api", event_callback(event, event_id="Ev0PROCESS")
            )
            await emulator.wait_ack(envelope, timeout=15)
            [post] = await emulator.wait_for("chat.postMessage", timeout=15)
            assert "Cooperative Cyber Defence Centre of Excellence" in post.args["text"]
            code, err = await stop(process)
    assert code == 0, err
