"""Recognise structured questions before any fuzzy matching.

Timelines, who-is, what-is and help have a shape people type the same way every time;
catching them with a few patterns is both faster and more predictable than hoping the
fuzzy matcher lands on the right entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.knowledge.base import MONTH_NAMES, PartialDate
from bot.qa.vocabulary import content_terms
from bot.text import normalise

__all__ = [
    "TOPIC_WORDS",
    "AfterNotes",
    "Compare",
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
    # Date bounds, both exclusive, for "early 2023", "since February 2023" and events.
    after: PartialDate | None = None
    before: PartialDate | None = None
    # "since Madrid", "leading up to Vilnius": words naming the milestone the timeline
    # starts after or ends before; the engine finds it and sets ``after``/``before``.
    since_event: tuple[str, ...] = ()
    until_event: tuple[str, ...] = ()
    period: str = ""  # how the bounds read when the user named them: "since madrid (June 2022)"

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
        if self.period:
            parts.append(self.period)
            return " ".join(parts)
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

    def admits(self, date: PartialDate) -> bool:
        """Whether a milestone on ``date`` is inside the bounds, for certain.

        A date known only to the year is inside "after June 2022" only from 2023 on.
        """
        if self.after is not None and not self.after.surely_before(date):
            return False
        return self.before is None or date.surely_before(self.before)


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
class Compare:
    """"which came first, the IPCP or the cyber centre membership": two events to order."""

    first: str
    second: str


@dataclass(frozen=True)
class AfterNotes:
    """The question is about a time after the notes end; ``rest`` is what it asks."""

    reason: str


_MONTH = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+((?:19|20)\d{2})\b")

Intent = TimelineQuery | WhoIs | Define | Help | AfterNotes | Compare | None

_COMPARE = (
    re.compile(
        r"^(?:which|what) (?:came|comes|happened|was|occurred|one was) (?:first|earlier|before)\s+"
        r"(?:the\s+)?(?P<a>.+?) or (?:the\s+)?(?P<b>.+)$"
    ),
    re.compile(
        r"^(?:the\s+)?(?P<a>.+?) or (?:the\s+)?(?P<b>.+?) "
        r"(?:which|what) (?:came|happened|was) (?:first|earlier)$"
    ),
    re.compile(
        r"^(?:did|was) (?:the\s+)?(?P<a>.+?) (?:come |happen )?(?:before|after) (?:the\s+)?(?P<b>.+)$"
    ),
)

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
    r"what has happened|what s happened|whats happened|what had happened|anything happen\w*|"
    r"what did (?:nato|japan|they|the two|both)(?: and (?:nato|japan))? do|"
    r"chronologically|so far|month by month|year by year|over the (?:past|last) (?:decade|years))\b"
)
# "since Madrid", "in the run-up to Vilnius": a timeline bounded by an event, not a year.
_EVENT_BOUND = re.compile(
    r"\b(?P<side>since|after|following|before|prior to|leading up to|lead up to|led up to|"
    r"in the run up to|run up to|ahead of|until|till|up to)\s+(?:the\s+)?+"
    r"(?P<event>(?!(?:19|20)\d\ds?\b|now\b|then\b|today\b|that\b|this\b|(?:early|mid|late) |"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? (?:19|20)\d\d\b)[a-z][a-z0-9 ]*)$"
)
_AFTER_SIDE = frozenset({"since", "after", "following"})
# "early 2023": the year's first, middle or last third.
_PART_OF_YEAR = re.compile(rf"\b(early|mid|middle of|late|end of|start of|beginning of)\s+({_YEAR})\b")
_THIRDS = {"early": (0, 5), "start of": (0, 5), "beginning of": (0, 5), "mid": (4, 9), "middle of": (4, 9)}
# "since February 2023" / "before May 2023": a month, inclusive with since, exclusive with after.
_MONTH_BOUND = re.compile(
    rf"\b(since|from|after|before|until|till|up to)\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    rf"[a-z]*\.?\s+({_YEAR})\b"
)
# Recent, as the notes see it: their last twelve months.
_RECENT = re.compile(r"\b(recent|recently|lately)\b")
_FIRSTS = re.compile(r"\b(firsts|first[- ]ever|first times?|historic firsts?)\b")
_WHO = re.compile(r"^(?:who\s+(?:is|was|are|were|s)|whos|who is)\s+(?:the\s+)?(?P<name>.+)$")
_WHO_LEADS = re.compile(
    r"^who (?:leads|heads|runs|chairs|is in charge of|is the boss of) (?:the\s+)?(?P<body>.+)$"
)
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


def _without_bounds(text: str) -> str:
    """The request without the words that bound it in time ("since madrid", "early 2023")."""
    for pattern in (_EVENT_BOUND, _MONTH_BOUND, _PART_OF_YEAR, _RECENT):
        text = pattern.sub(" ", text)
    return text


def _topics(text: str) -> list[str]:
    found: list[str] = []
    for word in text.split():
        topic = TOPIC_WORDS.get(word)
        if topic and topic not in found:
            found.append(topic)
    return found


def parse_timeline_args(text: str) -> TimelineQuery:
    """The filters of a timeline request: '2022', '2013-2019', 'since 2021', 'maritime',
    'early 2023', 'since february 2023', 'since madrid', 'recent'."""
    norm = normalise(_YEAR_DASH.sub(r"\1 to \2", text))
    if match := _EVENT_BOUND.search(norm):
        words = tuple(w for w in match.group("event").split() if w not in _TIMELINE_FILLER)
        if words:
            rest = parse_timeline_args(norm[: match.start()])
            if match.group("side") in _AFTER_SIDE:
                return replace(rest, since_event=words)
            return replace(rest, until_event=words)
    topics = _topics(norm)
    query = TimelineQuery(
        topic=topics[0] if topics else None, firsts=bool(_FIRSTS.search(norm)), also_topics=tuple(topics[1:])
    )
    if match := _MONTH_BOUND.search(norm):
        side, number, year = match.group(1), _month_number(match.group(2)), int(match.group(3))
        named = PartialDate(year, number)
        if side in ("since", "from"):  # inclusive: after the month before
            after = PartialDate(year, number - 1) if number > 1 else PartialDate(year - 1, 12)
            return replace(query, start=year, after=after, period=f"since {named.human()}")
        if side == "after":
            return replace(query, start=year, after=named, period=f"after {named.human()}")
        return replace(query, end=year, before=named, period=f"before {named.human()}")
    if match := _PART_OF_YEAR.search(norm):
        part, year = match.group(1), int(match.group(2))
        low, high = _THIRDS.get(part, (8, 13))
        return replace(
            query,
            start=year,
            end=year,
            after=PartialDate(year, low) if low else None,
            before=PartialDate(year, high) if high <= 12 else None,
            period=f"{part} {year}",
        )
    start, end = _year_bounds(norm)
    month: int | None = None
    if (match := _MONTH.search(norm)) and start == end:
        month = _month_number(match.group(1))
    if start is None and end is None and _RECENT.search(norm):
        first = NOTES_END_YEAR - 1
        period = f"July {first} – July {NOTES_END_YEAR}"
        return replace(query, start=first, after=PartialDate(first, 6), period=period)
    return replace(query, start=start, end=end, month=month)


def _month_number(name: str) -> int:
    return [m[:3].casefold() for m in MONTH_NAMES].index(name[:3]) + 1


def parse_intent(question: str) -> Intent:
    """The structured intent of a chat question, or None for an ordinary question."""
    norm = normalise(_YEAR_DASH.sub(r"\1 to \2", question))
    if not norm or _HELP.match(norm):
        return Help()
    for pattern in _COMPARE:
        if match := pattern.match(norm):
            return Compare(match.group("a"), match.group("b"))
    if _RANGE.search(norm) or _SINCE.search(norm):
        # "between 2013 and 2019", "since 2021": a span of years asks for a timeline.
        return parse_timeline_args(norm)

    years = [int(y) for y in _YEARS.findall(norm)]
    if _TIMELINE_WORDS.search(norm) or re.fullmatch(rf"(?:in\s+)?{_YEAR}s?", norm):
        query = parse_timeline_args(norm)
        # "what happened in Oslo" is a question about Oslo, not a timeline; a timeline
        # needs a timeline word plus something to filter by, or an explicit word.
        explicit = re.search(rf"\b(?:{_EXPLICIT_TIMELINE})\b", norm)
        bounded = query.since_event or query.until_event or query.after or query.before
        if explicit or bounded or query.start is not None or query.end is not None or query.firsts:
            # A topic already narrows it; other words then only describe ("joint exercises").
            if query.topics:
                return query
            words = _about(_without_bounds(norm))
            return replace(query, about=words)

    if any(y > NOTES_END_YEAR for y in years):
        return AfterNotes(f"asks about {max(years)}")
    if _NOW.search(norm):
        return AfterNotes("asks about the present")

    if match := _WHO.match(norm):
        return WhoIs(match.group("name"))
    if match := _WHO_LEADS.match(norm):
        # "who leads nato" asks for a role holder as "who is the head of nato" does.
        return WhoIs(f"head of {match.group('body')}")
    if match := _DEFINE.match(norm):
        term = match.group("term")
        if len(term.split()) <= 6:
            return Define(term)
    return None
