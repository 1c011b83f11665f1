"""briefbot.toml, the environment and flags: precedence, errors that name the key, redaction."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from adapters.cli import main
from adapters.discord.service import service_factory
from bot.digests.commands import DigestCommands
from bot.errors import ConfigError
from bot.messages import Request
from bot.ops.config import Config, load_config
from bot.store.sqlite import SQLiteStore
from tests.adapters.discord.harness import fixture_core
from tests.adapters.slack.harness import fixture_kb

FULL = """
knowledge_dir = "/srv/kb"
database = "/data/b.sqlite3"
threshold = 0.7
default_timezone = "europe/brussels"
reload_poll_seconds = 2
context_ttl_hours = 6

[log]
format = "json"
level = "debug"

[health]
host = "127.0.0.1"
port = 8080

[slack]
digest_admins = ["U1", "U2"]

[discord]
lease_seconds = 6
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "briefbot.toml"
    path.write_text(text)
    return path


def test_defaults_need_no_file_and_no_environment() -> None:
    config = load_config(None, {})
    assert config == Config()
    assert {origin for _, _, origin in config.items()} == {"default"}
    assert config.effective_pid_file == Path("briefbot.pid")


def test_the_file_sets_every_key_and_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    config = load_config(path, {})
    assert config.knowledge_dir == Path("/srv/kb")
    assert config.database.path == Path("/data/b.sqlite3")
    assert (config.threshold, config.default_timezone, config.reload_poll_seconds) == (
        0.7,
        "Europe/Brussels",
        2,
    )
    assert (config.log_format, config.log_level) == ("json", "debug")
    assert config.context_ttl_hours == 6 and config.context_ttl == timedelta(hours=6)
    assert (config.health_host, config.health_port) == ("127.0.0.1", 8080)
    assert config.slack_digest_admins == {"U1", "U2"}
    assert config.discord_lease_seconds == 6
    assert config.effective_pid_file == Path("/data/briefbot.pid")
    assert config.origins["log.format"] == f"file {path}"


def test_environment_overrides_the_file_and_flags_override_both(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    env = {"BRIEFBOT_THRESHOLD": "0.5", "BRIEFBOT_LOG_FORMAT": "plain", "SLACK_DIGEST_ADMINS": "U9, U8"}
    config = load_config(path, env, {"threshold": 0.9, "database": Path("x.sqlite3")})
    assert config.threshold == 0.9 and config.origins["threshold"] == "flag --threshold"
    assert config.database.path == Path("x.sqlite3") and config.origins["database"] == "flag --db"
    assert config.log_format == "plain" and config.origins["log.format"] == "env BRIEFBOT_LOG_FORMAT"
    assert config.slack_digest_admins == {"U8", "U9"}
    assert config.log_level == "debug" and config.origins["log.level"] == f"file {path}"


def test_the_file_is_found_by_variable_and_a_named_file_must_exist(tmp_path: Path) -> None:
    path = write(tmp_path, "threshold = 0.4\n")
    assert load_config(None, {"BRIEFBOT_CONFIG": str(path)}).threshold == 0.4
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml", {})


def test_unknown_keys_are_named_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'threshhold = 0.5\n[log]\nfromat = "json"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path, {})
    message = str(raised.value)
    assert f"{path}: unknown key 'threshhold'" in message
    assert f"{path}: unknown key 'log.fromat'" in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("threshold = 1.5", "'threshold' must be a number from 0 to 1"),
        ('threshold = "high"', "'threshold' must be a number"),
        ("[health]\nport = 70000", "'health.port' must be a whole number from 0 to 65535"),
        ('[log]\nformat = "xml"', "'log.format' must be one of plain, json"),
        ('default_timezone = "Mars/Olympus"', "'default_timezone' must be an IANA time zone"),
        ('[slack]\ndigest_admins = "U1"', "'slack.digest_admins' must be a list of user ids"),
        ("context_ttl_hours = -1", "'context_ttl_hours' must be a number from 0 to 720"),
        ("context_ttl_hours = 1000", "'context_ttl_hours' must be a number from 0 to 720"),
        ('context_ttl_hours = "a day"', "'context_ttl_hours' must be a number"),
        ("context_ttl_hours = true", "'context_ttl_hours' must be a number"),
        ("context_ttl_hours = nan", "'context_ttl_hours' must be a number"),
        ("[discord]\nlease_seconds = 1", "'discord.lease_seconds' must be a number from 2 to 600"),
        ("threshold = ", "is not valid TOML"),
    ],
)
def test_bad_values_in_the_file_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        load_config(write(tmp_path, text), {})


def test_bad_values_in_the_environment_name_the_variable() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(
            None,
            {
                "BRIEFBOT_HEALTH_PORT": "eighty",
                "BRIEFBOT_LOG_LEVEL": "loud",
                "BRIEFBOT_CONTEXT_TTL_HOURS": "1d",
                "BRIEFBOT_DISCORD_LEASE_SECONDS": "forever",
            },
        )
    message = str(raised.value)
    assert "BRIEFBOT_CONTEXT_TTL_HOURS (the 'context_ttl_hours' setting) must be a number" in message
    assert "BRIEFBOT_DISCORD_LEASE_SECONDS (the 'discord.lease_seconds' setting) must be a number" in message
    assert "BRIEFBOT_HEALTH_PORT (the 'health.port' setting) must be a whole number" in message
    assert "BRIEFBOT_LOG_LEVEL (the 'log.level' setting) must be one of" in message


@pytest.mark.parametrize(
    "text", ['[slack]\nbot_token = "xoxb-in-a-file"', 'discord_token = "xoxb-in-a-file"']
)
def test_secrets_in_the_file_are_refused_without_repeating_them(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="looks like a secret") as raised:
        load_config(write(tmp_path, text), {})
    assert "xoxb-in-a-file" not in str(raised.value)
    assert "environment" in str(raised.value)


def test_config_show_gives_origins_and_never_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "threshold = 0.7\n")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret-value")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-very-secret")
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.setenv("BRIEFBOT_DB", str(tmp_path / "env.sqlite3"))
    assert main(["--config", str(path), "config", "show"]) == 0
    out = capsys.readouterr().out
    assert "xoxb-very-secret-value" not in out and "signing-very-secret" not in out
    lines = {line.split("=")[0].strip(): line for line in out.splitlines() if "=" in line}
    assert "0.7" in lines["threshold"] and f"(file {path})" in lines["threshold"]
    assert "(env BRIEFBOT_DB)" in lines["database"]
    assert "(default)" in lines["log.format"]
    assert "24" in lines["context_ttl_hours"] and "(default)" in lines["context_ttl_hours"]
    assert "15.0" in lines["discord.lease_seconds"] and "(default)" in lines["discord.lease_seconds"]
    assert "set (redacted)" in lines["SLACK_BOT_TOKEN"]
    assert "not set" in lines["DISCORD_TOKEN"]
    assert "would start: slack" in out


def test_a_postgresql_url_from_the_environment_is_used_and_shown_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BRIEFBOT_DB", "postgresql://briefbot:hunter2-secret@db:5432/briefbot")
    config = load_config(None)
    assert config.database.is_server and config.database.url.endswith("@db:5432/briefbot")
    assert config.effective_pid_file == Path("briefbot.pid")  # no database directory to put it in
    assert "hunter2" not in repr(config) and "hunter2" not in str(config.items())
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert "postgresql://briefbot:***@db:5432/briefbot" in out and "hunter2" not in out


def test_a_password_in_the_file_or_on_the_command_line_is_refused_without_repeating_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, 'database = "postgresql://briefbot:hunter2-secret@db/briefbot"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path, {})
    message = str(raised.value)
    assert "'database' holds a password" in message and "BRIEFBOT_DB" in message and "PGPASSWORD" in message
    assert "hunter2" not in message and "briefbot:***@db" in message
    # A URL without the password is fine in the file: PGPASSWORD or ~/.pgpass supplies it.
    fine = write(tmp_path, 'database = "postgresql://briefbot@db/briefbot"\n')
    assert load_config(fine, {}).database.is_server
    with pytest.raises(SystemExit):
        main(["feedback", "--db", "postgresql://briefbot:hunter2-secret@db/briefbot"])
    err = capsys.readouterr().err
    assert "password on the command line" in err and "hunter2" not in err


def test_config_show_reports_a_bad_file_politely(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "colour = 'blue'\n")
    assert main(["--config", str(path), "config", "show"]) == 1
    assert f"{path}: unknown key 'colour'" in capsys.readouterr().err


def test_the_default_time_zone_applies_to_subscriptions_that_name_none(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "b.sqlite3") as store:
        commands = DigestCommands(store, fixture_kb, default_zone="Asia/Tokyo")
        manager = Request("slack", "U1", "C1", "", is_command=True, user_is_manager=True)
        assert "Subscribed" in commands(manager, "subscribe topic cyber daily 09:00").text
        assert "Subscribed" in commands(manager, "subscribe topic cyber daily 10:00 Europe/Brussels").text
        assert [s.tz for s in store.subscriptions()] == ["Asia/Tokyo", "Europe/Brussels"]


# -- every command reads the one configuration (#14.13, #14.14) -----------------------------


def _seeded_db(path: Path) -> Path:
    with SQLiteStore(path) as store:
        store.record_feedback(
            platform="console",
            workspace="",
            channel="C1",
            user="U1",
            question="who is kishida",
            entry_ids=("person-kishida",),
            helpful=True,
        )
    return path


@pytest.mark.parametrize("where", ["env", "file"])
@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["feedback"], "“who is kishida”"),
        (["kb", "unanswered"], "No unanswered questions recorded."),
        (["digest", "run-due"], "Nothing is due."),
    ],
)
def test_the_database_setting_satisfies_every_command_that_reads_one(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
    argv: list[str],
    says: str,
) -> None:
    db = _seeded_db(tmp_path / "kept.sqlite3")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BRIEFBOT_DB", raising=False)
    monkeypatch.delenv("BRIEFBOT_CONFIG", raising=False)
    if where == "env":
        monkeypatch.setenv("BRIEFBOT_DB", str(db))
    else:
        write(tmp_path, f'database = "{db}"\n')
    assert main(argv) == 0, capsys.readouterr().err
    assert says in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["feedback"], ["kb", "unanswered"], ["digest", "run-due"]])
def test_a_missing_database_is_refused_by_name_and_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    typo = tmp_path / "brifbot.sqlite3"
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--db", str(typo)]) == 1
    assert f"there is no database at {typo}" in capsys.readouterr().err
    assert not typo.exists()


def _threshold(capsys: pytest.CaptureFixture[str]) -> str:
    [line] = [line for line in capsys.readouterr().out.splitlines() if "threshold:" in line]
    return line.split("threshold:")[1].split()[0]


@pytest.mark.parametrize("where", ["env", "file"])
def test_ask_reads_the_threshold_from_the_environment_and_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BRIEFBOT_THRESHOLD", raising=False)
    monkeypatch.delenv("BRIEFBOT_CONFIG", raising=False)
    question = ["ask", "--explain", "what is the ccdcoe"]
    if where == "env":
        monkeypatch.setenv("BRIEFBOT_THRESHOLD", "0.91")
    else:
        write(tmp_path, "threshold = 0.91\n")
    assert main(question) == 0
    assert _threshold(capsys) == "0.91"
    assert main([*question, "--threshold", "0.3"]) == 0  # the flag still wins
    assert _threshold(capsys) == "0.30"


@pytest.mark.parametrize("argv", [["ask", "who is oana lungescu"], ["chat"], ["kb", "check"]])
def test_a_bad_settings_file_is_refused_by_every_command_not_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    path = write(tmp_path, "treshold = 0.7\n")
    assert main(["--config", str(path), *argv]) == 1
    assert "unknown key 'treshold'" in capsys.readouterr().err


def test_run_takes_the_port_it_documents() -> None:
    from adapters.cli.config import config_for
    from adapters.cli.parser import build_parser

    args = build_parser().parse_args(["run", "--port", "8081"])
    assert config_for(args).health_port == 8081


# -- the digest lease (#15) ------------------------------------------------------------------


def test_the_digest_lease_and_post_timeout_come_from_the_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (Config().digest_lease_seconds, Config().digest_post_timeout_seconds) == (600, 60)
    path = write(tmp_path, "digest_lease_seconds = 120\ndigest_post_timeout_seconds = 30\n")
    config = load_config(path, {"BRIEFBOT_DIGEST_LEASE_SECONDS": "45"})
    assert (config.digest_lease_seconds, config.digest_post_timeout_seconds) == (45, 30)
    assert config.origins["digest_lease_seconds"] == "env BRIEFBOT_DIGEST_LEASE_SECONDS"
    assert config.origins["digest_post_timeout_seconds"] == f"file {path}"

    monkeypatch.setenv("BRIEFBOT_DIGEST_LEASE_SECONDS", "45")
    assert main(["--config", str(path), "config", "show"]) == 0
    lines = {line.split("=")[0].strip(): line for line in capsys.readouterr().out.splitlines() if "=" in line}
    assert (
        "45" in lines["digest_lease_seconds"]
        and "(env BRIEFBOT_DIGEST_LEASE_SECONDS)" in lines["digest_lease_seconds"]
    )
    assert (
        "30" in lines["digest_post_timeout_seconds"]
        and f"(file {path})" in lines["digest_post_timeout_seconds"]
    )


@pytest.mark.parametrize(
    ("text", "env"),
    [
        ("", {"BRIEFBOT_DIGEST_LEASE_SECONDS": "30"}),  # shorter than the default 60 s post timeout
        ("digest_lease_seconds = 10\ndigest_post_timeout_seconds = 9.5\n", {}),  # no room for the pause
        ("digest_lease_seconds = 10\n", {"BRIEFBOT_DIGEST_POST_TIMEOUT_SECONDS": "20"}),
    ],
)
def test_a_digest_lease_no_longer_than_one_post_is_refused_with_the_reason(
    tmp_path: Path, text: str, env: dict[str, str]
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text), env)
    message = str(raised.value)
    assert "digest_lease_seconds" in message and "must be longer than digest_post_timeout_seconds" in message
    assert "posted twice" in message


def test_a_digest_lease_that_is_not_a_positive_number_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"BRIEFBOT_DIGEST_LEASE_SECONDS .* must be a number"):
        load_config(None, {"BRIEFBOT_DIGEST_LEASE_SECONDS": "ten minutes"})
    with pytest.raises(ConfigError, match="'digest_post_timeout_seconds' must be a number"):
        load_config(write(tmp_path, "digest_post_timeout_seconds = 0\n"), {})


def test_discord_message_content_is_off_unless_the_operator_turns_it_on(tmp_path: Path) -> None:
    assert load_config(None, {}).discord_message_content is False
    on = load_config(write(tmp_path, "[discord]\nmessage_content = true\n"), {})
    assert on.discord_message_content is True and on.origins["discord.message_content"].startswith("file")
    assert load_config(None, {"DISCORD_MESSAGE_CONTENT": "yes"}).discord_message_content is True
    assert load_config(None, {"DISCORD_MESSAGE_CONTENT": "0"}).discord_message_content is False
    with pytest.raises(ConfigError, match=r"'discord\.message_content' must be true or false"):
        load_config(write(tmp_path, '[discord]\nmessage_content = "maybe"\n'), {})
    with pytest.raises(ConfigError, match="DISCORD_MESSAGE_CONTENT"):
        load_config(None, {"DISCORD_MESSAGE_CONTENT": "maybe"})
    # The service hands it to the client, which asks Discord for the intent.
    service = service_factory(on, {"DISCORD_TOKEN": "t.not-a-secret"})(fixture_core())
    assert service.client.message_content and service.client.intents.message_content
    plain = service_factory(Config(), {"DISCORD_TOKEN": "t.not-a-secret"})(fixture_core())
    assert not plain.client.intents.message_content
