"""The lines `briefbot ask --json -` reads: a plain question, or a question in a thread.

Tooling measures conversations this way: ``{"thread": "t1", "q": "stoltenbergs visit to
tokio"}`` and then ``{"thread": "t1", "q": "and when was that?"}`` ask the second in the
context of the first, as a reply in a Slack thread would be. A line that is not JSON is
a plain question, exactly as before; a line that opens like a JSON object (``{``) but is
not a thread's question is an error, reported on that line's output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.errors import BriefbotError

__all__ = ["BATCH", "MAX_THREAD_CHARS", "BatchLine", "BatchLineError", "batch_line"]

# The platform and channel of batch threads (thread ids are the caller's).
BATCH = "batch"
# Thread ids are the caller's names; a longer one is a mistake, not a name.
MAX_THREAD_CHARS = 200
_EXPECTED = 'expected a question, or {"thread": "<id>", "q": "<question>"}'


class BatchLineError(BriefbotError, ValueError):
    """A line that looks like JSON but is not a question in a thread; says what was expected."""


@dataclass(frozen=True)
class BatchLine:
    question: str
    thread: str | None = None  # None: the question stands alone


def batch_line(line: str) -> BatchLine:
    """What one input line asks."""
    stripped = line.strip()
    if not stripped.startswith("{"):
        return BatchLine(line)
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise BatchLineError(f"not valid JSON ({exc.msg} at column {exc.colno}); {_EXPECTED}") from None
    if not isinstance(data, dict):
        raise BatchLineError(_EXPECTED)
    unknown = sorted(set(data) - {"thread", "q"})
    if unknown:
        raise BatchLineError(f"unknown field {unknown[0]!r}; {_EXPECTED}")
    question = data.get("q")
    if not isinstance(question, str):
        raise BatchLineError(f'"q" must be the question, a string; {_EXPECTED}')
    thread = data.get("thread")
    if thread is None:
        return BatchLine(question)
    if isinstance(thread, bool) or not isinstance(thread, str | int):
        raise BatchLineError(f'"thread" must be a string or a number; {_EXPECTED}')
    thread_id = str(thread)
    if not thread_id or len(thread_id) > MAX_THREAD_CHARS:
        raise BatchLineError(f'"thread" must be 1 to {MAX_THREAD_CHARS} characters; {_EXPECTED}')
    return BatchLine(question, thread_id)
