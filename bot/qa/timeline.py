"""Select and lay out dated milestones: used by timeline answers and by digests."""

from __future__ import annotations

from collections.abc import Iterable

from bot.grammar.intents import TimelineQuery
from bot.knowledge.base import Entry, KnowledgeBase

__all__ = ["TIMELINE_CAP", "format_milestone", "select_milestones", "timeline_text"]

# Enough to answer "what happened in <the busiest year>" whole, short enough to read in a channel
# (20 short lines fit one Discord message and one Slack section).
TIMELINE_CAP = 20


def select_milestones(kb: KnowledgeBase, query: TimelineQuery) -> list[Entry]:
    """Milestones matching every filter of ``query``, in date order."""
    chosen = []
    for entry in kb.milestones():
        assert entry.date is not None  # milestones() returns dated entries only
        if query.start is not None and entry.date.year < query.start:
            continue
        if query.end is not None and entry.date.year > query.end:
            continue
        if query.topics and not set(query.topics) & set(entry.topics):
            continue
        if query.month is not None and entry.date.month != query.month:
            continue
        if query.firsts and not entry.first:
            continue
        if not query.admits(entry.date):
            continue
        chosen.append(entry)
    return chosen


def format_milestone(entry: Entry) -> str:
    """One line: date, headline, paragraph; planned items say so, and as of when."""
    date = entry.date.human() if entry.date else "undated"
    planned = ""
    if entry.planned and "plan" not in entry.title.lower():
        planned = f" (planned as of {entry.as_of.human()})"
    return f"• {date} — {entry.title}{planned} ({entry.source.paragraph_label()})"


def timeline_text(entries: Iterable[Entry], cap: int = TIMELINE_CAP, latest: bool = False) -> str:
    """One line per milestone, at most ``cap``: the first ones, or with ``latest`` the last
    ones ("what led up to Vilnius" is about the months before it, not 2013)."""
    items = list(entries)
    if len(items) <= cap:
        return "\n".join(format_milestone(e) for e in items)
    hidden = len(items) - cap
    if latest:
        lines = [f"…{hidden} earlier (narrow it with a year range or a topic)"]
        return "\n".join(lines + [format_milestone(e) for e in items[-cap:]])
    lines = [format_milestone(e) for e in items[:cap]]
    lines.append(f"…and {hidden} more (narrow it with a year range or a topic)")
    return "\n".join(lines)
