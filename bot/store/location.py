"""Where the store lives, and ``open_store``, the one place that picks the backend.

``database`` in briefbot.toml, ``BRIEFBOT_DB`` and ``--db`` take one of:

- a path, ``briefbot.sqlite3``, or a ``sqlite:///relative.sqlite3`` /
  ``sqlite:////absolute/path.sqlite3`` URL: SQLite, one file for the processes of one machine;
- ``postgresql://user@host:5432/briefbot`` (or ``postgres://``, with any libpq option as a
  query parameter): PostgreSQL, one server shared by several replicas.

A password may be in the URL only when the URL comes from the environment
(``BRIEFBOT_DB``); otherwise libpq's ``PGPASSWORD`` or a ``~/.pgpass`` file supplies it. A
file gets committed and a command line is visible to every user of the machine. Shown
anywhere (``config show``, a log line, an error), a URL has its password replaced by ``***``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    pass

__all__ = ["StoreLocation", "parse_location", "password_of", "redact"]

_POSTGRES_SCHEMES = ("postgresql", "postgres")
_HIDDEN = "***"


@dataclass(frozen=True)
class StoreLocation:
    """A SQLite file (``path``) or a PostgreSQL server (``url``, never shown as it is)."""

    kind: Literal["sqlite", "postgresql"]
    path: Path | None = None
    url: str = field(default="", repr=False)

    @classmethod
    def sqlite(cls, path: Path | str) -> StoreLocation:
        return cls("sqlite", path=Path(path).expanduser())

    @property
    def is_server(self) -> bool:
        return self.kind == "postgresql"

    @property
    def has_password(self) -> bool:
        return bool(password_of(self.url)) if self.is_server else False

    def __str__(self) -> str:
        return redact(self.url) if self.is_server else str(self.path)

    def __repr__(self) -> str:
        return f"StoreLocation({str(self)!r})"


def parse_location(text: str | Path | StoreLocation) -> StoreLocation:
    """The location ``text`` names; ValueError (never quoting a password) if it names none."""
    if isinstance(text, StoreLocation):
        return text
    if isinstance(text, Path):
        return StoreLocation.sqlite(text)
    raw = text.strip()
    if not raw:
        raise ValueError("must be a file path or a database URL")
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if not scheme:
        return StoreLocation.sqlite(raw)
    if scheme == "sqlite":
        rest = raw.split("://", 1)[1]
        if not rest.startswith("/") or rest == "/":
            raise ValueError("a sqlite URL is sqlite:///relative/path or sqlite:////absolute/path")
        return StoreLocation.sqlite(unquote(rest[1:]))
    if scheme in _POSTGRES_SCHEMES:
        try:
            parts = urlsplit(raw)
            _ = parts.port  # raises on a port that is not a number
        except ValueError:
            raise ValueError("is not a valid postgresql:// URL (check the host and port)") from None
        return StoreLocation("postgresql", url=raw)
    raise ValueError(
        f"has an unknown scheme '{scheme}://': use a file path, sqlite:///path or postgresql://host/db"
    )


def password_of(url: str) -> str:
    """The password in a PostgreSQL URL (user:password@ or ?password=), or ''."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.password:
        return unquote(parts.password)
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "password" and value:
            return value
    return ""


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***``: safe to log, print and show."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return f"{url.split('://', 1)[0]}://(an unparseable URL)"
    netloc = parts.netloc
    if parts.password is not None or parts.username is not None:
        user = quote(unquote(parts.username or ""), safe="")
        secret = f":{_HIDDEN}" if parts.password is not None else ""
        where = f"[{host}]" if ":" in host else host
        netloc = f"{user}{secret}@{where}{'' if port is None else f':{port}'}"
    query = parts.query
    if "password" in query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, _HIDDEN if k == "password" else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
