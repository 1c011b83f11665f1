"""The filters of a timeline request: years, a month, part of a year, an event, topics.

Read the same way for `/nato timeline …` arguments and for a question that asks for a
history ("what happened since madrid", "maritime milestones in early 2022").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from bot.grammar.intents import TimelineQuery
from bot.grammar.lexer import (
    BEFORE_YEAR,
    DECADE,
    MONTH,
    MONTH_BOUND,
    MONTH_YEAR,
    PART_OF_YEAR,
    SINCE_YEAR,
    YEAR,
    YEAR_DASH,
    YEAR_RANGE,
    YEARS,
    month_number,
    part_of_year,
    topics_in,
)
from bot.knowledge.base import PartialDate
from bot.text import normalise

__all__ = ["EVENT_BOUND", "RECENT", "TIMELINE_FILLER", "parse_timeline_args", "recent", "year_bounds"]

# "since Madrid", "in the run-up to Vilnius": a timeline bounded by an event, not a year.
EVENT_BOUND = re.compile(
    r"\b(?P<side>since|after|following|before|prior to|leading up to|lead up to|led up to|"
    r"in the run up to|run up to|ahead of|until|till|up to)\s+(?:the\s+)?+"
    rf"(?P<event>(?!{YEAR}s?\b|now\b|then\b|today\b|that\b|this\b|(?:early|mid|late) |"
    rf"(?:{MONTH})[a-z]*\.? {YEAR}\b)[a-z][a-z0-9 ]*)$"
)
_AFTER_SIDE = frozenset({"since", "after", "following"})
# Recent, as the notes see it: their last twelve months.
RECENT = re.compile(r"\b(recent|recently|lately)\b")
_FIRSTS = re.compile(r"\b(firsts|first[- ]ever|first times?|historic firsts?)\b")

# Words of a timeline request that narrow nothing: the relationship itself, and asking.
TIMELINE_FILLER = frozenset(
    """nato japan japanese nato-japan relations relation relationship ties tie cooperation key main
    major important big show list all full complete entire whole order events event timeline over
    time years year decade past last first half month months so far sequence history historic
    chronology chronological chronologically milestones milestone developments development
    highlights firsts ever times date dates evolved evolve evolution evolving happened happen
    occurred went on by partnership partners partner involvement engagement story rundown steps step
    turning points point landmark landmarks moments moment took take place brief overview summary walk
    through main give tell between far stuff things thing anything everything""".split()
)


def year_bounds(text: str) -> tuple[int | None, int | None]:
    """The first and last year (normalised) ``text`` names, either open."""
    if match := YEAR_RANGE.search(text):
        first, second = int(match.group(1)), int(match.group(2))
        return min(first, second), max(first, second)
    if match := SINCE_YEAR.search(text):
        return int(match.group(1)), None
    if match := BEFORE_YEAR.search(text):
        return None, int(match.group(1)) - 1
    years = [int(y) for y in YEARS.findall(text)]
    if len(years) == 1 and (decade := DECADE.search(text)):
        return int(decade.group(1)), int(decade.group(1)) + 9
    if len(years) == 1:
        return years[0], years[0]
    return None, None


def recent(query: TimelineQuery, notes_end: PartialDate) -> TimelineQuery:
    """``query`` bounded to the notes' last twelve months ("recent", "lately")."""
    year, month = notes_end.year, notes_end.month
    if not month:  # notes dated to the year only: that year and the one before
        return replace(query, start=year - 1, period=f"{year - 1} – {year}")
    first = year - 1
    after = PartialDate(first, month - 1) if month > 1 else PartialDate(first - 1, 12)
    period = f"{PartialDate(first, month).human()} – {PartialDate(year, month).human()}"
    return replace(query, start=first, after=after, period=period)


def parse_timeline_args(text: str, notes_end: PartialDate, topic_words: Mapping[str, str]) -> TimelineQuery:
    """The filters of a timeline request: '2022', '2013-2019', 'since 2021', 'maritime',
    'early 2022', 'since february 2022', 'since madrid', 'recent'; ``notes_end`` and
    ``topic_words`` are the knowledge base's."""
    norm = normalise(YEAR_DASH.sub(r"\1 to \2", text))
    if match := EVENT_BOUND.search(norm):
        words = tuple(w for w in match.group("event").split() if w not in TIMELINE_FILLER)
        if words:
            rest = parse_timeline_args(norm[: match.start()], notes_end, topic_words)
            if match.group("side") in _AFTER_SIDE:
                return replace(rest, since_event=words)
            return replace(rest, until_event=words)
    topics = topics_in(norm, topic_words)
    query = TimelineQuery(
        topic=topics[0] if topics else None, firsts=bool(_FIRSTS.search(norm)), also_topics=tuple(topics[1:])
    )
    if match := MONTH_BOUND.search(norm):
        side, number, year = match.group(1), month_number(match.group(2)), int(match.group(3))
        named = PartialDate(year, number)
        if side in ("since", "from"):  # inclusive: after the month before
            before_it = PartialDate(year, number - 1) if number > 1 else PartialDate(year - 1, 12)
            return replace(query, start=year, after=before_it, period=f"since {named.human()}")
        if side == "after":
            return replace(query, start=year, after=named, period=f"after {named.human()}")
        return replace(query, end=year, before=named, period=f"before {named.human()}")
    if match := PART_OF_YEAR.search(norm):
        part, year = match.group(1), int(match.group(2))
        after, before = part_of_year(part, year)
        return replace(query, start=year, end=year, after=after, before=before, period=f"{part} {year}")
    start, end = year_bounds(norm)
    month: int | None = None
    if (match := MONTH_YEAR.search(norm)) and start == end:
        month = month_number(match.group(1))
    if start is None and end is None and RECENT.search(norm):
        return recent(query, notes_end)
    return replace(query, start=start, end=end, month=month)
