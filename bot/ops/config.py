"""The effective configuration of a running briefbot: defaults, then ``briefbot.toml``, then
the environment, then command-line flags, each overriding the one before.

``load_config`` returns one frozen ``Config`` and remembers where every value came from,
for ``briefbot config show``. Anything it cannot use is a ``ConfigError`` naming the key
(and the file, or the variable): an unknown key, a value of the wrong kind, or a secret
written into the file. Secrets (the platform tokens and the signing secret) are read only
from the environment, by the adapters, and never pass through here: a token in a toml file
tends to get committed or baked into an image.

The file (every key optional)::

    knowledge_dir = "/srv/briefbot/knowledge"    # BRIEFBOT_KNOWLEDGE_DIR
    database = "/data/briefbot.sqlite3"          # BRIEFBOT_DB: a path, sqlite:///path or postgresql://…
    threshold = 0.66                             # BRIEFBOT_THRESHOLD
    default_timezone = "Europe/Brussels"         # BRIEFBOT_TIMEZONE
    pid_file = "/data/briefbot.pid"              # BRIEFBOT_PID_FILE
    reload_poll_seconds = 5                      # BRIEFBOT_RELOAD_POLL_SECONDS (0: off)
    digest_lease_seconds = 600                   # BRIEFBOT_DIGEST_LEASE_SECONDS
    digest_post_timeout_seconds = 60             # BRIEFBOT_DIGEST_POST_TIMEOUT_SECONDS
    context_ttl_hours = 24                       # BRIEFBOT_CONTEXT_TTL_HOURS (0: no follow-ups)

    [log]
    format = "json"                              # BRIEFBOT_LOG_FORMAT: plain | json
    level = "info"                               # BRIEFBOT_LOG_LEVEL

    [health]
    host = "127.0.0.1"                           # BRIEFBOT_HEALTH_HOST (loopback unless Slack HTTP mode)
    port = 3000                                  # BRIEFBOT_HEALTH_PORT

    [slack]
    digest_admins = ["U0123", "U0456"]           # SLACK_DIGEST_ADMINS (comma-separated)

    [discord]
    message_content = true                       # DISCORD_MESSAGE_CONTENT: the privileged intent
    lease_seconds = 15                           # BRIEFBOT_DISCORD_LEASE_SECONDS: the gateway lease
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.conversation import DEFAULT_CONTEXT_TTL
from bot.digests.schedule import ScheduleError, parse_zone
from bot.errors import ConfigError
from bot.qa.engine import DEFAULT_THRESHOLD
from bot.store.location import StoreLocation, parse_location, redact

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_FILE",
    "DIGEST_PACE_SECONDS",
    "SECRET_VARIABLES",
    "Config",
    "config_path",
    "load_config",
]

CONFIG_ENV = "BRIEFBOT_CONFIG"
DEFAULT_CONFIG_FILE = Path("briefbot.toml")
# What each platform's credentials are called; read from the environment only.
SECRET_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "DISCORD_TOKEN",
    "BRIEFBOT_METRICS_TOKEN",
)
LOG_FORMATS = ("plain", "json")
# The scheduler's pause between two posts to one channel (Slack's one message a second).
DIGEST_PACE_SECONDS = 1.0
LOG_LEVELS = ("debug", "info", "warning", "error")
# A thread's context is kept at most a month after its last turn: longer is no longer a
# conversation, and the store should hold no more than follow-ups need.
MAX_CONTEXT_TTL_HOURS = 24 * 30


_DEFAULT_DATABASE = StoreLocation.sqlite("briefbot.sqlite3")


@dataclass(frozen=True)
class Config:
    """Every setting a running bot reads (secrets excepted), with where each came from."""

    knowledge_dir: Path | None = None  # None: the bundled knowledge base
    database: StoreLocation = _DEFAULT_DATABASE
    threshold: float = DEFAULT_THRESHOLD
    default_timezone: str = "UTC"
    pid_file: Path | None = None  # None: briefbot.pid beside a SQLite database, else here
    reload_poll_seconds: float = 5.0
    # How long a replica's claim on a digest period lasts without news from it: one killed
    # mid-post holds its periods this long before another takes them over. It must outlast
    # one post (the timeout, plus the pause between posts to a channel), or a slow post
    # could be taken over and repeated while it is still running.
    digest_lease_seconds: float = 600.0
    digest_post_timeout_seconds: float = 60.0
    # How long a conversation thread's context is remembered after its last turn; 0: not
    # at all (every message stands alone, and no turn is written).
    context_ttl_hours: float = DEFAULT_CONTEXT_TTL / timedelta(hours=1)
    log_format: str = "plain"
    log_level: str = "info"
    # Loopback: /healthz and /metrics are not public unless someone decides so. Slack's HTTP
    # mode widens an unset host to every interface (the runtime logs it); see docs/deploy.md.
    health_host: str = "127.0.0.1"
    health_port: int = 3000
    slack_digest_admins: frozenset[str] = frozenset()
    # Discord's privileged message-content intent, which auto-answer needs: off unless the
    # operator enabled it in the developer portal too (Discord refuses the login otherwise).
    discord_message_content: bool = False
    # How long the replica holding the Discord gateway keeps it without renewing: a standby
    # takes over this long (plus one poll, a third of it) after the holder dies.
    discord_lease_seconds: float = 15.0
    # key -> "default" | "file <path>" | "env <VARIABLE>" | "flag <--option>"
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    file: Path | None = field(default=None, compare=False)

    @property
    def effective_pid_file(self) -> Path:
        if self.pid_file is not None:
            return self.pid_file
        if self.database.path is not None:
            return self.database.path.parent / "briefbot.pid"
        return Path("briefbot.pid")  # a database server has no directory of ours

    @property
    def context_ttl(self) -> timedelta:
        """``context_ttl_hours`` as the ``Bot`` takes it."""
        return timedelta(hours=self.context_ttl_hours)

    def items(self) -> list[tuple[str, object, str]]:
        """(key, value, origin) for every setting, in the order the file documents them."""
        return [
            (spec.key, getattr(self, spec.attr), self.origins.get(spec.key, "default")) for spec in _SPECS
        ]


# -- parsing one value -----------------------------------------------------------------

Parser = Callable[[object, bool], object]  # (raw value, came from an env string) -> value


def _text(value: object, from_env: bool) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def _path(value: object, from_env: bool) -> Path:
    return Path(_text(value, from_env)).expanduser()


def _database(value: object, from_env: bool) -> StoreLocation:
    if isinstance(value, StoreLocation | Path):
        location = parse_location(value)
    else:
        location = parse_location(_text(value, from_env))
    if location.has_password and not from_env:
        # A settings file gets committed, and a command line is visible to every user.
        raise ValueError(
            "holds a password; give it in the environment instead: the whole URL in BRIEFBOT_DB, "
            "or PGPASSWORD (or a ~/.pgpass file) beside a URL without one"
        )
    return location


def _number(low: float, high: float, *, integer: bool = False) -> Parser:
    def parse(value: object, from_env: bool) -> float | int:
        what = "a whole number" if integer else "a number"
        if from_env and isinstance(value, str):
            try:
                value = int(value) if integer else float(value)
            except ValueError:
                raise ValueError(f"must be {what} from {low:g} to {high:g}") from None
        wrong_kind = not isinstance(value, int | float) or (integer and isinstance(value, float))
        if isinstance(value, bool) or wrong_kind:
            raise ValueError(f"must be {what} from {low:g} to {high:g}")
        assert isinstance(value, int | float)
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(f"must be {what} from {low:g} to {high:g}")
        return int(value) if integer else float(value)

    return parse


def _choice(options: tuple[str, ...]) -> Parser:
    def parse(value: object, from_env: bool) -> str:
        text = value.strip().casefold() if isinstance(value, str) else None
        if text not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return text

    return parse


def _zone(value: object, from_env: bool) -> str:
    try:
        return parse_zone(_text(value, from_env))
    except ScheduleError:
        raise ValueError("must be an IANA time zone such as Europe/Brussels or UTC") from None


def _ids(value: object, from_env: bool) -> frozenset[str]:
    if from_env and isinstance(value, str):
        items: list[object] = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError('must be a list of user ids, e.g. ["U0123", "U0456"]')
    if not all(isinstance(item, str) and item.strip() and " " not in item.strip() for item in items):
        raise ValueError('must be a list of user ids, e.g. ["U0123", "U0456"]')
    return frozenset(str(item).strip() for item in items)


def _switch(value: object, from_env: bool) -> bool:
    if from_env and isinstance(value, str):
        words = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False}
        value = words.get(value.strip().casefold(), value)
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


@dataclass(frozen=True)
class _Spec:
    key: str  # as written in the toml file ("log.format")
    attr: str  # the Config field
    env: str
    parse: Parser


_SPECS = (
    _Spec("knowledge_dir", "knowledge_dir", "BRIEFBOT_KNOWLEDGE_DIR", _path),
    _Spec("database", "database", "BRIEFBOT_DB", _database),
    _Spec("threshold", "threshold", "BRIEFBOT_THRESHOLD", _number(0.0, 1.0)),
    _Spec("default_timezone", "default_timezone", "BRIEFBOT_TIMEZONE", _zone),
    _Spec("pid_file", "pid_file", "BRIEFBOT_PID_FILE", _path),
    _Spec("reload_poll_seconds", "reload_poll_seconds", "BRIEFBOT_RELOAD_POLL_SECONDS", _number(0, 3600)),
    _Spec("digest_lease_seconds", "digest_lease_seconds", "BRIEFBOT_DIGEST_LEASE_SECONDS", _number(1, 86400)),
    _Spec(
        "digest_post_timeout_seconds",
        "digest_post_timeout_seconds",
        "BRIEFBOT_DIGEST_POST_TIMEOUT_SECONDS",
        _number(0.1, 3600),
    ),
    _Spec(
        "context_ttl_hours",
        "context_ttl_hours",
        "BRIEFBOT_CONTEXT_TTL_HOURS",
        _number(0, MAX_CONTEXT_TTL_HOURS),
    ),
    _Spec("log.format", "log_format", "BRIEFBOT_LOG_FORMAT", _choice(LOG_FORMATS)),
    _Spec("log.level", "log_level", "BRIEFBOT_LOG_LEVEL", _choice(LOG_LEVELS)),
    _Spec("health.host", "health_host", "BRIEFBOT_HEALTH_HOST", _text),
    _Spec("health.port", "health_port", "BRIEFBOT_HEALTH_PORT", _number(0, 65535, integer=True)),
    _Spec("slack.digest_admins", "slack_digest_admins", "SLACK_DIGEST_ADMINS", _ids),
    _Spec("discord.message_content", "discord_message_content", "DISCORD_MESSAGE_CONTENT", _switch),
    # Renewed every third of it: below 2 s a busy database could make a healthy holder
    # miss its renewals; above 10 minutes a dead holder leaves Discord unanswered too long.
    _Spec(
        "discord.lease_seconds", "discord_lease_seconds", "BRIEFBOT_DISCORD_LEASE_SECONDS", _number(2, 600)
    ),
)
_BY_KEY = {spec.key: spec for spec in _SPECS}
_BY_ATTR = {spec.attr: spec for spec in _SPECS}
assert set(_BY_ATTR) == {f.name for f in fields(Config)} - {"origins", "file"}


def _shown(value: object) -> str:
    """A bad value, short enough for one line, and without any password a URL holds."""
    text = repr(redact(value) if isinstance(value, str) and "://" in value else value)
    return text if len(text) <= 40 else text[:37] + "..."


# -- the file ------------------------------------------------------------------------------


def _looks_secret(key: str) -> bool:
    leaf = key.rsplit(".", 1)[-1].casefold()
    return any(word in leaf for word in ("token", "secret", "password")) or key.upper() in SECRET_VARIABLES


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and f"{dotted}." in {k[: len(dotted) + 1] for k in _BY_KEY}:
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def _read_file(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: the configuration file does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: is not valid TOML ({exc})") from None
    values: dict[str, object] = {}
    problems: list[str] = []
    for key, raw in _flatten(table).items():
        if _looks_secret(key):
            problems.append(
                f"{path}: '{key}' looks like a secret; tokens and signing secrets are read only from "
                f"the environment ({', '.join(SECRET_VARIABLES)}), never from the file. Remove it"
            )
        elif key not in _BY_KEY:
            problems.append(f"{path}: unknown key '{key}' (known keys: {', '.join(_BY_KEY)})")
        else:
            try:
                values[key] = _BY_KEY[key].parse(raw, False)
            except ValueError as exc:
                problems.append(f"{path}: '{key}' {exc} (got {_shown(raw)})")
    if problems:
        raise ConfigError("\n".join(problems))
    return values


def config_path(explicit: Path | None, env: Mapping[str, str]) -> tuple[Path | None, bool]:
    """Which file to read, and whether someone asked for it (then it must exist)."""
    if explicit is not None:
        return explicit, True
    named = env.get(CONFIG_ENV, "").strip()
    if named:
        return Path(named), True
    return (DEFAULT_CONFIG_FILE, False) if DEFAULT_CONFIG_FILE.is_file() else (None, False)


# -- all together --------------------------------------------------------------------------


def load_config(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, object] | None = None,
) -> Config:
    """Defaults < the file < the environment < ``flags`` ({Config field: value} already typed,
    e.g. from ``--db``; None values are ignored). Raises ConfigError naming every bad key."""
    env = os.environ if env is None else env
    chosen, _ = config_path(path, env)
    values: dict[str, object] = {}
    origins: dict[str, str] = {}
    if chosen is not None:
        for key, value in _read_file(chosen).items():
            values[_BY_KEY[key].attr] = value
            origins[key] = f"file {chosen}"
    problems = []
    for spec in _SPECS:
        raw = env.get(spec.env, "")
        if not raw.strip():
            continue
        try:
            values[spec.attr] = spec.parse(raw, True)
        except ValueError as exc:
            problems.append(f"{spec.env} (the '{spec.key}' setting) {exc} (got {_shown(raw)})")
            continue
        origins[spec.key] = f"env {spec.env}"
    if problems:
        raise ConfigError("\n".join(problems))
    for attr, (value, flag) in _flag_values(flags).items():
        values[attr] = value
        origins[_BY_ATTR[attr].key] = f"flag {flag}"
    config = replace(Config(), **values, origins=origins, file=chosen)  # type: ignore[arg-type]
    _check_lease(config)
    return config


def _check_lease(config: Config) -> None:
    """The lease outlasts one post, else a post still running could be taken over and repeated."""
    lease, timeout = config.digest_lease_seconds, config.digest_post_timeout_seconds
    if lease > timeout + DIGEST_PACE_SECONDS:
        return
    where = {
        key: config.origins.get(key, "default")
        for key in ("digest_lease_seconds", "digest_post_timeout_seconds")
    }
    raise ConfigError(
        f"digest_lease_seconds ({lease:g}, {where['digest_lease_seconds']}) must be longer than "
        f"digest_post_timeout_seconds ({timeout:g}, {where['digest_post_timeout_seconds']}) plus the "
        f"{DIGEST_PACE_SECONDS:g} s pause between posts to one channel: a post still running when its "
        "lease ran out could be taken over by another replica and posted twice"
    )


_FLAGS = {
    "database": "--db",
    "threshold": "--threshold",
    "health_port": "--port",
    "knowledge_dir": "--knowledge",
}


def _flag_values(flags: Mapping[str, object] | None) -> dict[str, tuple[object, str]]:
    chosen: dict[str, tuple[object, str]] = {}
    for attr, value in (flags or {}).items():
        if value is None:
            continue
        if attr not in _BY_ATTR:
            raise ValueError(f"no setting called {attr}")  # a programming error, not a user's
        spec = _BY_ATTR[attr]
        try:
            parsed = spec.parse(str(value) if isinstance(value, Path) else value, isinstance(value, str))
        except ValueError as exc:
            raise ConfigError(f"{_FLAGS.get(attr, attr)} {exc} (got {_shown(value)})") from None
        chosen[attr] = (parsed, _FLAGS.get(attr, attr))
    return chosen
