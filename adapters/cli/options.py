"""What several commands share: the option types, the engine at ``--threshold``, and the
signature every command handler has."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from bot.errors import StoreError
from bot.qa.engine import Engine
from bot.store.location import StoreLocation, parse_location

if TYPE_CHECKING:  # imported when used: `briefbot ask` loads no settings machinery early
    from bot.ops.config import Config

__all__ = [
    "DB_GIVEN",
    "DB_HELP",
    "Handler",
    "Subcommands",
    "at_threshold",
    "chosen_database",
    "config_for",
    "configured_database",
    "database",
    "existing",
    "iso_date",
    "iso_instant",
]

DB_HELP = "database: a SQLite file (default: briefbot.sqlite3) or a postgresql:// URL"
DB_GIVEN = (
    "database: a SQLite file or a postgresql:// URL (default: BRIEFBOT_DB, else `database` in briefbot.toml)"
)

# Every handler gets the prepared engine; ``engine.kb`` is the validated base.
Handler: TypeAlias = Callable[[argparse.Namespace, Engine], int]
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def config_for(args: argparse.Namespace) -> Config:
    """The effective configuration for a command line: its flags over the environment over
    the file (``--config``, else BRIEFBOT_CONFIG, else ./briefbot.toml if present)."""
    from bot.ops.config import Config, load_config

    loaded = getattr(args, "loaded_config", None)
    if isinstance(loaded, Config):
        return loaded
    flags = {
        "database": getattr(args, "db", None),
        "threshold": getattr(args, "threshold", None),
        "health_port": getattr(args, "port", None),
        "knowledge_dir": getattr(args, "knowledge", None),
    }
    config = load_config(getattr(args, "config", None), os.environ, flags)
    args.loaded_config = config
    return config


def at_threshold(engine: Engine, args: argparse.Namespace) -> Engine:
    """The prepared engine (built at the default threshold) at the configured threshold:
    ``--threshold``, else BRIEFBOT_THRESHOLD, else the settings file's ``threshold``."""

    threshold = config_for(args).threshold
    return engine if threshold == engine.threshold else engine.with_threshold(threshold)


def configured_database(args: argparse.Namespace) -> StoreLocation:
    """``--db``, else BRIEFBOT_DB, else the settings file's ``database``, else the default file."""

    return config_for(args).database


def chosen_database(args: argparse.Namespace) -> StoreLocation | None:
    """The database if one was named anywhere (flag, environment or file), else None."""

    config = config_for(args)
    return None if config.origins.get("database", "default") == "default" else config.database


def existing(db: str | Path | StoreLocation) -> StoreLocation:
    """A database to read: it must be there already."""
    # A reader must not create an empty database at a mistyped path and report "nothing".
    location = parse_location(db)
    if location.path is not None and not location.path.is_file():
        raise StoreError(f"there is no database at {location.path}")
    return location


def database(text: str) -> StoreLocation:
    """argparse type: a SQLite path, sqlite:///path or postgresql:// URL, without a password."""
    try:
        location = parse_location(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"the database {exc}") from None
    if location.has_password:
        raise argparse.ArgumentTypeError(
            "a password on the command line is visible to every user of the machine: set PGPASSWORD "
            "(or use a ~/.pgpass file), or give the whole URL in BRIEFBOT_DB"
        )
    return location


def iso_date(text: str) -> date:
    """argparse type: YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD") from None


def iso_instant(text: str) -> datetime:
    """argparse type: an ISO 8601 date-time; without an offset it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date-time; use ISO 8601, e.g. 2024-07-01T09:00 or 2024-07-01T09:00+02:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
