"""Recognise structured questions before any fuzzy matching.

Timelines, who-is, what-is and help have a shape people type the same way every time;
catching them with a few patterns is both faster and more predictable than hoping the
fuzzy matcher lands on the right entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.knowledge import MONTH_NAMES
from bot.text import normalise
from bot.vocabulary import content_terms

__all__ = [
    "TOPIC_WORDS",
    "AfterNotes",
    "Define",
    "Help",
    "Intent",
    "TimelineQuery",
    "WhoIs",
    "parse_intent",
    "parse_timeline_args",
]

# The source's "now": questions past it are answered with that fact, not a guess.
NOTES_END_YEAR = 2023

TOPIC_WORDS: dict[str, str] = {
    "maritime": "maritime",
    "naval": "maritime",
    "navy": "maritime",
    "sea": "maritime",
    "ships": "maritime",
    "exercise": "exercises",
    "exercises": "exercises",
    "drills": "exercises",
    "training": "exercises",
    "military": "exercises",
    "cyber": "cyber",
    "cybersecurity": "cyber",
    "technology": "technology",
    "tech": "technology",
    "science": "technology",
    "space": "space",
    "diplomacy": "diplomacy",
    "diplomatic": "diplomacy",
    "political": "diplomacy",
    "summit": "summits",
    "summits": "summits",
    "institutions": "institutions",
    "institutional": "institutions",
    "ukraine": "ukraine",
    "relief": "relief",
    "humanitarian": "relief",
    "disaster": "relief",
    "china": "china",
    "russia": "russia",
    "economic": "economic-security",
    "economic-security": "economic-security",
    "semiconductors": "semiconductors",
    "semiconductor": "semiconductors",
    "chips": "semiconductors",
    "subsea": "subsea-cables",
    "undersea": "subsea-cables",
    "cables": "subsea-cables",
    "subsea-cables": "subsea-cables",
    "peacekeeping": "peacekeeping",
    "reconstruction": "reconstruction",
    "nonproliferation": "nonproliferation",
    "obstacles": "obstacles",
}


@dataclass(frozen=True)
class TimelineQuery:
    """Which milestones a timeline lists; every filter is optional."""

    start: int | None = None
    end: int | None = None
    topic: str | None = None
    firsts: bool = False
    month: int | None = None  # with start == end: one month of one year
    also_topics: tuple[str, ...] = ()  # "china and russia timeline": either topic
    about: tuple[str, ...] = ()  # other words that narrow it: "liaison office timeline"

    @property
    def topics(self) -> tuple[str, ...]:
        return ((self.topic,) if self.topic else ()) + self.also_topics

    def describe(self) -> str:
        parts = []
        if self.firsts:
            parts.append("firsts")
        if self.topics:
            parts.append(" or ".join(self.topics))
        if self.about:
            parts.append(f"on {' '.join(self.about)}")
        if self.month and self.start is not None:
            parts.append(f"in {MONTH_NAMES[self.month - 1]} {self.start}")
            return " ".join(parts)
        if self.start is not None and self.start == self.end:
            parts.append(f"in {self.start}")
        elif self.start is not None and self.end is not None:
            parts.append(f"{self.start}–{self.end}")
        elif self.start is not None:
            parts.append(f"since {self.start}")
        elif self.end is not None:
            parts.append(f"up to {self.end}")
        return " ".join(parts) if parts else "all milestones"

    @property
    def past_notes(self) -> bool:
        return self.start is not None and self.start > NOTES_END_YEAR


@dataclass(frozen=True)
class WhoIs:
    name: str


@dataclass(frozen=True)
class Define:
    term: str


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class AfterNotes:
    """The question is about a time after the notes end; ``rest`` is what it asks."""

    reason: str


_MONTH = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+((?:19|20)\d{2})\b")

Intent = TimelineQuery | WhoIs | Define | Help | AfterNotes | None

_YEAR = r"(?:19|20)\d{2}"
_RANGE = re.compile(rf"\b(?:between|from)?\s*({_YEAR})\s*(?:and|to|until|till|through|-|–)\s*({_YEAR})\b")
# Normalising drops hyphens, so "2013-2019" is made "2013 to 2019" first.
_YEAR_DASH = re.compile(rf"({_YEAR})\s*[-–—]\s*({_YEAR})")
_SINCE = re.compile(rf"\b(?:since|after|from|starting|post)\s+(?:the\s+)?({_YEAR})s?\b")
_BEFORE = re.compile(rf"\b(?:before|until|till|up to|prior to|pre)\s+({_YEAR})\b")
_YEARS = re.compile(rf"\b({_YEAR})s?\b")
# "the 2010s": a decade, read as its ten years.
_DECADE = re.compile(r"\b((?:19|20)\d0)s\b")

# Asking for a history in so many words: a timeline even with nothing to filter by.
_EXPLICIT_TIMELINE = (
    r"timeline|time line|evolv\w*|evolution|milestones?|chronolog\w*|firsts|history|over time|"
    r"in order|sequence|so far|month by month|year by year|over the (?:past|last) (?:decade|years)|"
    r"over the years|turning points?|landmarks?|rundown|"
    r"(?:key|main|major|big|important) (?:dates|events|moments|steps|developments)"
)
_TIMELINE_WORDS = re.compile(
    rf"\b({_EXPLICIT_TIMELINE}|"
    r"timeline|time line|evolv\w*|evolution|milestones?|chronolog\w*|key dates|key events|history|"
    r"firsts|first[- ]ever|first times?|what happened|what happend|what happen|events|"
    r"what went on|what occurred|developments|highlights|over time|in order|sequence|"
    r"chronologically|so far|month by month|year by year|over the (?:past|last) (?:decade|years))\b"
)
_FIRSTS = re.compile(r"\b(firsts|first[- ]ever|first times?|historic firsts?)\b")
_WHO = re.compile(r"^(?:who\s+(?:is|was|are|were|s)|whos|who is)\s+(?:the\s+)?(?P<name>.+)$")
_DEFINE = re.compile(
    r"^(?:what\s+(?:is|are|was|were|does|do)|whats|define|definition of|meaning of|"
    r"explain|expand)\s+(?:the\s+|an?\s+)?(?P<term>.+?)"
    r"(?:\s+(?:stand for|stands for|mean|means|short for|acronym|abbreviation))?$"
)
_HELP = re.compile(
    r"^(?:help|commands|usage|what can you do|what do you know|how do i use (?:this|you)|"
    r"how does this work|hi|hello|hey|start|menu)$"
)
_NOW = re.compile(
    r"\b(now|currently|current|today|nowadays|at present|these days|right now|"
    r"as of today|latest|this year|this week|present day|present-day|"
    # Asked today, "last year" is later than notes that end in July 2023.
    r"last year|past year|this month|last month)\b"
)


def _year_bounds(text: str) -> tuple[int | None, int | None]:
    if match := _RANGE.search(text):
        first, second = int(match.group(1)), int(match.group(2))
        return min(first, second), max(first, second)
    if match := _SINCE.search(text):
        return int(match.group(1)), None
    if match := _BEFORE.search(text):
        return None, int(match.group(1)) - 1
    years = [int(y) for y in _YEARS.findall(text)]
    if len(years) == 1 and (decade := _DECADE.search(text)):
        return int(decade.group(1)), int(decade.group(1)) + 9
    if len(years) == 1:
        return years[0], years[0]
    return None, None


# Words of a timeline request that narrow nothing: the relationship itself, and asking.
_TIMELINE_FILLER = frozenset(
    """nato japan japanese nato-japan relations relation relationship ties tie cooperation key main
    major important big show list all full complete entire whole order events event timeline over
    time years year decade past last first half month months so far sequence history historic
    chronology chronological chronologically milestones milestone developments development
    highlights firsts ever times date dates evolved evolve evolution evolving happened happen
    occurred went on by partnership partners partner involvement engagement story rundown steps step
    turning points point landmark landmarks moments moment took take place brief overview summary walk
    through main give tell between far""".split()
)


def _about(text: str) -> tuple[str, ...]:
    """Words left once timeline words, topics, dates and filler are gone."""
    words = [
        w
        for w in text.split()
        if w not in _TIMELINE_FILLER
        and w not in TOPIC_WORDS
        and not _YEARS.fullmatch(w)
        and not any(w.startswith(m[:3].casefold()) for m in MONTH_NAMES)
    ]
    return tuple(w for w in words if content_terms([w]))


def _topics(text: str) -> list[str]:
    found: list[str] = []
    for word in text.split():
        topic = TOPIC_WORDS.get(word)
        if topic and topic not in found:
            found.append(topic)
    return found


def parse_timeline_args(text: str) -> TimelineQuery:
    """The filters of a timeline request: '2022', '2013-2019', 'since 2021', 'maritime'."""
    norm = normalise(_YEAR_DASH.sub(r"\1 to \2", text))
    start, end = _year_bounds(norm)
    topics = _topics(norm)
    month = None
    if (match := _MONTH.search(norm)) and start == end:
        month = [m[:3].casefold() for m in MONTH_NAMES].index(match.group(1)[:3]) + 1
    return TimelineQuery(
        start, end, topics[0] if topics else None, bool(_FIRSTS.search(norm)), month, tuple(topics[1:])
    )


def parse_intent(question: str) -> Intent:
    """The structured intent of a chat question, or None for an ordinary question."""
    norm = normalise(_YEAR_DASH.sub(r"\1 to \2", question))
    if not norm or _HELP.match(norm):
        return Help()
    if _RANGE.search(norm) or _SINCE.search(norm):
        # "between 2013 and 2019", "since 2021": a span of years asks for a timeline.
        return parse_timeline_args(norm)

    years = [int(y) for y in _YEARS.findall(norm)]
    if _TIMELINE_WORDS.search(norm) or re.fullmatch(rf"(?:in\s+)?{_YEAR}s?", norm):
        query = parse_timeline_args(norm)
        # "what happened in Oslo" is a question about Oslo, not a timeline; a timeline
        # needs a timeline word plus something to filter by, or an explicit word.
        explicit = re.search(rf"\b(?:{_EXPLICIT_TIMELINE})\b", norm)
        if explicit or query.start is not None or query.end is not None or query.firsts:
            # A topic already narrows it; other words then only describe ("joint exercises").
            return query if query.topics else replace(query, about=_about(norm))

    if any(y > NOTES_END_YEAR for y in years):
        return AfterNotes(f"asks about {max(years)}")
    if _NOW.search(norm):
        return AfterNotes("asks about the present")

    if match := _WHO.match(norm):
        return WhoIs(match.group("name"))
    if match := _DEFINE.match(norm):
        term = match.group("term")
        if len(term.split()) <= 6:
            return Define(term)
    return None
