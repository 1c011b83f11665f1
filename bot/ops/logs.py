"""Log lines for operators: plain text or JSON lines, with secrets scrubbed on the way out.

Structured fields travel in ``extra=`` (``_log.info("question", extra={"question_id": …})``)
and both formatters print them: plain as ``key=value`` after the message, JSON as keys of
the line's object. Whatever the format, every known secret value (the platform tokens and
the signing secret, read from the environment) is replaced by ``[redacted]`` in the final
text, so not even a library's debug line or an exception message can write one out.
Credentials that are not known in advance are scrubbed by their shape: the token in an
interaction's or a webhook's URL (``/interactions/<id>/<token>/…``, ``/webhooks/<id>/<token>``)
and any ``"token": "…"`` field of a logged payload (discord.py logs both at debug level).

A plain line cannot be forged: control characters (a newline above all) in the message, the
logger's name and every field are written as escapes (``\\n``), and the lines of a traceback
are indented, so every line that starts at the margin is the start of a real record. JSON
lines escape them by construction.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = ["JsonFormatter", "PlainFormatter", "configure_logging"]

REDACTED = "[redacted]"
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Secrets shorter than this are not scrubbed: replacing "a" everywhere would wreck the log,
# and a real token is never that short.
_MIN_SECRET = 8
# Per-request credentials, unknown until they arrive: an interaction's token is in its
# callback and follow-up URLs and in the INTERACTION_CREATE event; a webhook's token is in
# the webhook's URL. Whoever holds one can post as the bot for its lifetime.
_SHAPED_SECRETS = (
    re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/\s?#'\"\\]+"),
    # Also as JSON inside a JSON line, where its quotes are escaped (\"token\": \"…\").
    re.compile(r"""(\\?["']token\\?["']\s*:\s*\\?["'])[^"'\\]+"""),
)

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(text: str) -> str:
    """``text`` on one line: each control character as its Python escape (``\\n``, ``\\x1b``)."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def _indented(block: str) -> str:
    """A traceback's lines, each indented and escaped, so none can pass for a record."""
    return "".join("\n    " + _escape(line) for line in block.splitlines())


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class _Scrubbing(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._secrets = tuple(sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for shape in _SHAPED_SECRETS:
            text = shape.sub(rf"\g<1>{REDACTED}", text)
        return text


class PlainFormatter(_Scrubbing):
    """``2024-05-01T09:00:00Z INFO bot.ops.observed: question answered question_id=… outcome=…``"""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        line = f"{when} {record.levelname} {_escape(record.name)}: {_escape(record.getMessage())}"
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{_escape(k)}={_plain(v)}" for k, v in extras.items())
        if record.exc_info:
            line += _indented(self.formatException(record.exc_info))
        if record.stack_info:
            line += _indented(self.formatStack(record.stack_info))
        return self.scrub(line)


def _plain(value: object) -> str:
    if isinstance(value, list | tuple):
        return ",".join(_escape(str(v)) for v in value) or "-"
    text = str(value)
    # A quoted value is JSON-escaped (ASCII only), which escapes its control characters too.
    return json.dumps(text) if (" " in text or not text) else _escape(text)


class JsonFormatter(_Scrubbing):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message``, then the extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            line.setdefault(key, list(value) if isinstance(value, tuple | frozenset | set) else value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return self.scrub(json.dumps(line, ensure_ascii=False, default=str))


def configure_logging(
    fmt: str = "plain", level: str = "info", secrets: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) in ``fmt``; replaces earlier handlers."""
    formatter: logging.Formatter = JsonFormatter(secrets) if fmt == "json" else PlainFormatter(secrets)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        # Replace the plain stream handlers (logging.basicConfig's); subclasses belong to
        # someone else (pytest's capture, when a test runs this in-process).
        if type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
