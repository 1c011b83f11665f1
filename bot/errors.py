"""The exceptions briefbot raises, every one of them under ``BriefbotError``.

Answers never raise: "no match" is an ``Answer`` with ``abstained=True`` and a
malformed command is a usage ``Reply``. Exceptions are for broken configuration, files
and databases, which fail fast at start-up; for a post a platform refused, which the
scheduler retries or records; and, inside the digest commands, for a value a user
typed, which becomes a usage reply and never leaves dispatch::

    BriefbotError
    ├── KnowledgeError   a knowledge file is unreadable or invalid (lists every Problem)
    ├── ConfigError      a setting or environment variable is missing or invalid
    ├── StoreError       the database cannot be opened, migrated or written
    ├── PostError        a digest post failed; says when to retry, or that retrying cannot help
    │                    (bot.digests.poster, beside the Poster protocol that raises it)
    ├── DigestError      a digest kind or argument is invalid; also a ValueError
    │                    (bot.digests.compose)
    ├── ScheduleError    a schedule or time zone is invalid; also a ValueError
    │                    (bot.digests.schedule)
    └── BatchLineError   a `briefbot ask --json -` line opens like JSON but is not a
                         question in a thread; also a ValueError (adapters.cli.batch)

The last four live beside the code that raises them; tests/test_errors.py checks that
no exception class in ``bot`` or ``adapters`` is left outside this tree.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BriefbotError", "ConfigError", "KnowledgeError", "Problem", "StoreError"]


class BriefbotError(Exception):
    """Root of every error briefbot raises on purpose."""


class ConfigError(BriefbotError):
    """A setting is missing or invalid; the message names the setting, never its value."""


class StoreError(BriefbotError):
    """The database could not be opened, migrated or written."""


@dataclass(frozen=True)
class Problem:
    """One precise complaint about a knowledge file, in the order a curator needs it."""

    file: str
    line: int | None
    entry_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.entry_id:
            parts.append(f"entry '{self.entry_id}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ": ".join([*parts, self.message])


class KnowledgeError(BriefbotError):
    """The knowledge base failed validation; nothing of it was loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the knowledge base"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))
