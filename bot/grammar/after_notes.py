"""Whether a request asks about a time after the notes end ("in 2025", "now", "last year").

The notes' end is the latest ``as_of`` of the knowledge base's sources
(``KnowledgeBase.notes_end``), never a year written in code; the question recogniser and
the `/nato who|define` commands both apply this rule.
"""

from __future__ import annotations

import re

from bot.grammar.lexer import YEARS
from bot.knowledge.base import PartialDate

__all__ = ["CONTINUES", "PRESENT", "after_notes", "without_present"]

# The reason given for a question about the present rather than a later year: the notes
# may still say how things stood when they end (see ``bot.qa.engine``).
PRESENT = "asks about the present"

# Whether a state went on past the notes ("is hayashi *still* foreign minister"): a
# question about the present that only later news can answer, whatever holds it then.
_CONTINUING = r"still|anymore|any more|to this day"
CONTINUES = re.compile(rf"\b({_CONTINUING}|by now)\b")

_NOW = re.compile(
    r"\b(now|currently|current|today|nowadays|at present|these days|right now|"
    rf"as of today|latest|this year|this week|present day|present-day|{_CONTINUING}|"
    r"at the moment|presently|"
    # Asked today, "last year" is later than the notes' end.
    r"last year|past year|this month|last month)\b"
)


def after_notes(norm: str, notes_end: PartialDate) -> str | None:
    """Why (normalised) ``norm`` asks about a time after ``notes_end``; None if it does not."""
    years = [int(y) for y in YEARS.findall(norm)]
    if any(y > notes_end.year for y in years):
        return f"asks about {max(years)}"
    if _NOW.search(norm):
        return PRESENT
    return None


def without_present(norm: str) -> str:
    """(normalised) ``norm`` without its words for the present: what it asks, undated."""
    return " ".join(_NOW.sub(" ", norm).split())
