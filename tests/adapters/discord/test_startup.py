"""`briefbot discord [sync]`: the token, the endpoints, and registering the commands."""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from discord import app_commands

from adapters.cli import main
from adapters.cli.platforms import run_discord
from adapters.discord import (
    INVITE_PERMISSIONS,
    BriefbotClient,
    discord_endpoints,
    invite_url,
    serve,
)
from bot.dispatch import Bot
from bot.errors import ConfigError
from bot.qa.engine import Engine
from tests.adapters.discord.emulator import DiscordEmulator, emulator_in_thread
from tests.adapters.discord.harness import KB_DIR, fixture_core, fixture_kb
from tests.fixtures import knowledge_as_of

TOKEN = "MTIz.secret-token-value"


def args(tmp_path: Path, command: str | None = None, guild: int | None = None) -> argparse.Namespace:
    return argparse.Namespace(
        db=tmp_path / "briefbot.sqlite3", threshold=None, discord_command=command, guild=guild
    )


def point_at(monkeypatch: pytest.MonkeyPatch, emulator: DiscordEmulator, token: str) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", token)
    monkeypatch.setenv("DISCORD_API_BASE", emulator.api_base)
    monkeypatch.setenv("DISCORD_GATEWAY_URL", emulator.gateway_url)


def test_sync_registers_the_nato_command_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with emulator_in_thread(TOKEN) as emulator:
        point_at(monkeypatch, emulator, TOKEN)
        assert run_discord(args(tmp_path, "sync"), fixture_kb()) == 0
    [put] = [c for c in emulator.calls if c.method == "PUT"]
    assert put.path == f"/applications/{emulator.application_id}/commands"
    [nato] = put.body
    subcommands = {option["name"]: option for option in nato["options"]}
    assert set(subcommands) == {"ask", "timeline", "who", "define", "topics", "help", "digest", "settings"}
    assert {o["name"] for o in subcommands["digest"]["options"]} == {
        "subscribe",
        "list",
        "unsubscribe",
        "now",
    }
    who_name = subcommands["who"]["options"][0]
    assert who_name["autocomplete"] is True
    timeline = {o["name"]: o for o in subcommands["timeline"]["options"]}
    assert set(timeline) == {"year", "from", "to", "topic", "firsts", "since", "before", "part", "recent"}
    assert [c["value"] for c in timeline["part"]["choices"]] == ["early", "mid", "late"]
    help_command = {o["name"]: o for o in subcommands["help"]["options"]}
    assert {c["value"] for c in help_command["command"]["choices"]} == set(subcommands)
    settings = {o["name"]: o for o in subcommands["settings"]["options"]}
    assert set(settings) == {"answers", "auto-answer", "allow"}
    assert not any(o.get("required") for o in settings.values())
    assert (
        len(timeline["topic"]["choices"]) <= 25
        and {"name": "maritime", "value": "maritime"} in (timeline["topic"]["choices"])
    )
    assert all(len(o["description"]) <= 100 for o in _options(nato))
    assert "every server" in capsys.readouterr().out
    assert not (tmp_path / "briefbot.sqlite3").exists()  # syncing needs no database


def _options(command: dict[str, Any]) -> list[dict[str, Any]]:
    """Every option and subcommand under ``command``, however deep."""
    found: list[dict[str, Any]] = []
    for option in command.get("options", []):
        found += [option, *_options(option)]
    return found


def test_sync_to_one_guild_uses_the_guild_route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with emulator_in_thread(TOKEN) as emulator:
        point_at(monkeypatch, emulator, TOKEN)
        assert run_discord(args(tmp_path, "sync", guild=int(emulator.guild_id)), fixture_kb()) == 0
    [put] = [c for c in emulator.calls if c.method == "PUT"]
    assert put.path == f"/applications/{emulator.application_id}/guilds/{emulator.guild_id}/commands"


def test_a_missing_token_stops_start_up_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert main(["--knowledge", str(KB_DIR), "discord"]) == 1
    assert "DISCORD_TOKEN is not set" in capsys.readouterr().err


def test_a_rejected_token_is_named_but_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "MTIz.this-token-was-revoked"
    with emulator_in_thread(TOKEN) as emulator, caplog.at_level(logging.DEBUG):
        point_at(monkeypatch, emulator, wrong)
        with pytest.raises(ConfigError) as rejected:
            run_discord(args(tmp_path), fixture_kb())
    assert "Discord rejected DISCORD_TOKEN" in str(rejected.value)
    assert wrong not in str(rejected.value) and wrong not in caplog.text


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DISCORD_API_BASE", "discord.example/api"), ("DISCORD_GATEWAY_URL", "https://gateway.example")],
)
def test_a_malformed_endpoint_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        run_discord(args(tmp_path), fixture_kb())


async def test_serve_reports_a_rejected_token_as_configuration() -> None:
    async with DiscordEmulator(TOKEN) as emulator:
        with discord_endpoints(emulator.api_base, emulator.gateway_url), pytest.raises(ConfigError):
            await serve(BriefbotClient(fixture_core()), "not-the-token")


def test_an_unreachable_api_is_reported_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("DISCORD_API_BASE", "http://127.0.0.1:9/api/v10")  # nothing listens on "discard"
    with pytest.raises(
        ConfigError, match=re.escape("cannot reach Discord's API at http://127.0.0.1:9/api/v10")
    ):
        run_discord(args(tmp_path, "sync"), fixture_kb())


def test_the_invite_url_asks_for_both_scopes_and_only_the_permissions_used() -> None:
    url = urlsplit(invite_url(1234))
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    assert query["client_id"] == ["1234"]
    assert query["scope"] == ["bot applications.commands"]
    assert query["permissions"] == [str(INVITE_PERMISSIONS)]
    assert INVITE_PERMISSIONS == 274877991936  # the value docs/discord.md quotes


async def test_the_command_descriptions_say_where_the_notes_end(tmp_path: Path) -> None:
    client = BriefbotClient(Bot(Engine(knowledge_as_of(tmp_path, "2024-03"))))
    try:
        nato = client.tree.get_command("nato")
        assert isinstance(nato, app_commands.Group)
        assert nato.description == "NATO–Japan briefing notes (to March 2024)"
        who = nato.get_command("who")
        assert who is not None and who.description == "Who someone is, as of March 2024."
    finally:
        await client.close()
