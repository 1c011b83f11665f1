"""Milestone digests, composed from the knowledge base and never hand-written.

Four kinds:

- ``month``: this month in NATO–Japan relations, across the years, newest first;
- ``period``: milestones inside a date range (``week``, ``month``, ``year`` before the
  run date, or given dates such as ``2022`` or ``2019-06..2021-12``), oldest first;
- ``topic``: the milestones and key facts of one topic, in date order;
- ``new``: entries added or changed since a baseline of content hashes, so subscribers
  learn what curators have added.

A subscription's digest leaves out what that subscription has already delivered
(``delivered``: entry id -> the content hash it had then) unless the entry has changed
since, which is marked "updated"; the notes change rarely, and the same five lines every
day are noise. ``new`` is the same rule with everything known at subscription time
counted as delivered. Nothing left is an empty digest, which is not posted, or posted as
its one ``nothing`` line when the subscriber asked for that.

A ``Digest`` is a value: title, items (date, one line, source paragraph) and an as-of
line. ``split_for`` cuts it into numbered parts of at most a given length, the limit the
platform's ``Poster`` declares (``Poster.message_limit``); nothing is ever dropped to
make it fit. This module knows no platform.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bot.errors import BriefbotError
from bot.grammar.lexer import ISO_PERIOD, topic_named
from bot.knowledge.base import TOPICS, Entry, KnowledgeBase, PartialDate
from bot.messages import Reply

__all__ = [
    "DIGEST_KINDS",
    "DIGEST_USAGE",
    "TITLE_MAX",
    "Digest",
    "DigestError",
    "DigestItem",
    "DigestSpec",
    "compose",
    "parse_spec",
    "snapshot",
    "topics_with_content",
]

DIGEST_KINDS: tuple[str, ...] = ("month", "period", "topic", "new")

# A digest title is a heading: short enough for every poster to show it whole, and for
# a poster that puts it in the same message as a part to reserve room for it.
TITLE_MAX = 150

_PERIOD_WORDS = ("week", "month", "year")
_PLANNED_SUFFIX = re.compile(r"\s*\((?:planned|plan)\)\s*$", re.IGNORECASE)

DIGEST_USAGE = (
    "Digest kinds: `month` (this month across the years), "
    "`period <week | month | year | YYYY[-MM[-DD]] | FROM..TO>` (milestones in a date range), "
    "`topic <topic>` (a topic's milestones and key facts), "
    "`new` (what curators added since the channel's last digest)."
)


class DigestError(BriefbotError, ValueError):
    """A digest kind or argument is invalid; the message lists what is valid."""


# -- values ------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestSpec:
    """What to compose: a kind and its argument (normalised, e.g. a canonical topic)."""

    kind: str
    arg: str = ""

    def describe(self) -> str:
        return f"{self.kind} {self.arg}".strip()


@dataclass(frozen=True)
class DigestItem:
    """One line of a digest: date, one line of text, the source paragraph."""

    entry_id: str
    date: PartialDate | None
    line: str
    source: str
    planned_as_of: PartialDate | None = None  # a plan, as of this date; None: not a plan
    change: str = ""  # "new" or "updated", in `new` digests only

    @property
    def planned(self) -> bool:
        return self.planned_as_of is not None

    def render(self) -> str:
        parts = ["•"]
        if self.change:
            parts.append(f"[{self.change}]")
        if self.date is not None:
            parts.append(f"{self.date.human()} —")
        if self.planned_as_of is not None:
            parts.append(f"[planned as of {self.planned_as_of.human()}]")
        parts.append(f"{self.line} ({self.source})")
        return " ".join(parts)


@dataclass(frozen=True)
class Digest:
    """A composed digest. ``delivers`` (entry id, content hash) is what posting it delivers,
    for the subscription's record; for a `new` digest without a baseline, every entry."""

    spec: DigestSpec
    title: str
    items: tuple[DigestItem, ...]
    as_of: str
    nothing: str  # said instead of items when there are none
    delivers: tuple[tuple[str, str], ...] = ()

    @property
    def empty(self) -> bool:
        return not self.items

    @property
    def entry_ids(self) -> tuple[str, ...]:
        return tuple(item.entry_id for item in self.items)

    def lines(self) -> list[str]:
        body = [item.render() for item in self.items] or [self.nothing]
        return [*body, "", self.as_of]

    def text(self) -> str:
        return "\n".join(self.lines())

    def split_for(self, limit_chars: int) -> tuple[str, ...]:
        """The text in parts of at most ``limit_chars``, numbered "(1/3)" when split.

        Parts break between items; an item longer than a whole part is broken between
        words. Joined without their numbers, the parts hold every line.
        """
        return split_lines(self.lines(), limit_chars)

    def to_reply(self, limit_chars: int | None = None) -> Reply:
        """One reply (e.g. a preview); ``parts`` holds the text split at ``limit_chars`` when it
        is longer. With no limit (a platform that declared none) the text is one part, and
        the adapter's renderer splits it as it splits any long reply."""
        parts = self.split_for(limit_chars) if limit_chars is not None else (self.text(),)
        return Reply(
            text=self.text(),
            title=self.title,
            kind="digest",
            entry_ids=self.entry_ids,
            parts=parts if len(parts) > 1 else (),
        )

    def replies(self, limit_chars: int) -> tuple[Reply, ...]:
        """One reply per part: what the scheduler posts, one message each."""
        return tuple(
            Reply(text=part, title=self.title, kind="digest") for part in self.split_for(limit_chars)
        )


def split_lines(lines: list[str], limit_chars: int) -> tuple[str, ...]:
    whole = "\n".join(lines)
    if len(whole) <= limit_chars:
        return (whole,)
    digits = 1
    while True:
        # The marker is "(i/n)\n"; reserve room for the widest one this many parts can have.
        budget = limit_chars - len(f"({'9' * digits}/{'9' * digits})\n")
        if budget < 40:
            raise ValueError(f"a limit of {limit_chars} characters is too small to split a digest into")
        chunks = _pack(lines, budget)
        if len(str(len(chunks))) <= digits:
            break
        digits += 1
    total = len(chunks)
    return tuple(f"({i}/{total})\n" + "\n".join(chunk) for i, chunk in enumerate(chunks, 1))


def _pack(lines: Iterable[str], budget: int) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        for piece in _pieces(line, budget):
            added = len(piece) + (1 if chunks[-1] else 0)
            if chunks[-1] and size + added > budget:
                chunks.append([])
                added = len(piece)
                size = 0
            if not chunks[-1] and not piece:
                continue  # never open a part with a blank line
            chunks[-1].append(piece)
            size += added
    for chunk in chunks:
        while chunk and not chunk[-1]:
            chunk.pop()  # nor end one with a blank line
    return [chunk for chunk in chunks if chunk]


def _pieces(line: str, budget: int) -> list[str]:
    """A line cut between words into pieces of at most ``budget`` characters."""
    if len(line) <= budget:
        return [line]
    pieces: list[str] = []
    rest = line
    while len(rest) > budget:
        cut = rest.rfind(" ", 0, budget + 1)
        if cut <= 0:
            cut = budget  # one unbroken word longer than a part: cut inside it
        pieces.append(rest[:cut].rstrip())
        rest = "  " + rest[cut:].lstrip()  # indented, so the reader sees it continues
    pieces.append(rest)
    return pieces


# -- specs -------------------------------------------------------------------------


def topics_with_content(kb: KnowledgeBase) -> dict[str, int]:
    """Topics that have milestones or facts to digest, with how many."""
    counts: dict[str, int] = {}
    for entry in kb.entries:
        if entry.kind in ("milestone", "fact"):
            for topic in entry.topics:
                counts[topic] = counts.get(topic, 0) + 1
    return {topic: counts[topic] for topic in TOPICS if topic in counts}


def parse_spec(kind: str, arg: str, kb: KnowledgeBase, *, today: date | None = None) -> DigestSpec:
    """Check a kind and its argument; raise DigestError saying precisely what is valid."""
    kind = kind.strip().casefold()
    arg = " ".join(arg.split())
    if kind not in DIGEST_KINDS:
        raise DigestError(f"“{kind[:30]}” is not a digest kind. {DIGEST_USAGE}")
    if kind in ("month", "new"):
        if arg:
            raise DigestError(f"`{kind}` takes no argument (got “{arg[:30]}”). {DIGEST_USAGE}")
        return DigestSpec(kind)
    if kind == "period":
        if not arg:
            raise DigestError(f"`period` needs a range. {DIGEST_USAGE}")
        _period_range(arg.casefold(), today or date.today())
        return DigestSpec(kind, arg.casefold())
    valid = topics_with_content(kb)
    listing = ", ".join(valid)
    if not arg:
        raise DigestError(f"`topic` needs a topic. Topics: {listing}.")
    folded = arg.casefold()
    topic = topic_named(folded, kb.lexicon.topic_words)
    if topic is None or topic not in valid:
        known = "has nothing to digest yet" if topic in TOPICS else "is not a topic I know"
        raise DigestError(f"“{arg[:30]}” {known}. Topics: {listing}.")
    return DigestSpec(kind, topic)


def _span(text: str) -> tuple[date, date]:
    partial = PartialDate.parse(text)
    if not partial.month:
        return date(partial.year, 1, 1), date(partial.year, 12, 31)
    last = calendar.monthrange(partial.year, partial.month)[1]
    if not partial.day:
        return date(partial.year, partial.month, 1), date(partial.year, partial.month, last)
    day = date(partial.year, partial.month, partial.day)
    return day, day


def _period_range(arg: str, today: date) -> tuple[date, date]:
    """The first and last day a `period` argument covers, relative to ``today``."""
    # "last-week" is how people say it; the period is the same.
    arg = arg.removeprefix("last-")
    if arg == "week":
        return today - timedelta(days=7), today - timedelta(days=1)
    if arg == "month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if arg == "year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    match = ISO_PERIOD.match(arg)
    if match is None:
        raise DigestError(
            f"“{arg[:30]}” is not a period. Use one of {', '.join(_PERIOD_WORDS)}, a date "
            "(YYYY, YYYY-MM or YYYY-MM-DD) or a range FROM..TO such as 2019-06..2021-12."
        )
    try:
        start = _span(match.group(1))[0]
        end = _span(match.group(2) or match.group(1))[1]
    except ValueError as exc:
        raise DigestError(f"{exc}.") from None
    if end < start:
        raise DigestError(f"The range {arg} runs backwards; did you mean {match.group(2)}..{match.group(1)}?")
    return start, end


# -- composing ---------------------------------------------------------------------


def snapshot(kb: KnowledgeBase) -> dict[str, str]:
    """Every entry's content hash: the baseline a `new` digest compares against."""
    return {entry.id: entry.content_hash for entry in kb.entries}


def _item(entry: Entry, kb: KnowledgeBase, change: str = "") -> DigestItem:
    source = entry.source.paragraph_label()
    if len(kb.documents) > 1:
        source = f"{entry.source.doc} {source}"
    line = _PLANNED_SUFFIX.sub("", entry.title) if entry.planned else entry.title
    return DigestItem(entry.id, entry.date, line, source, entry.as_of if entry.planned else None, change)


def _as_of(kb: KnowledgeBase, on: date, items: Iterable[DigestItem]) -> str:
    docs = sorted(kb.documents.values(), key=lambda d: d.id)
    notes = max((d.as_of for d in docs), default=None)
    cited = "; ".join(d.citation() for d in docs)
    line = f"As of {on.day} {calendar.month_name[on.month]} {on.year}."
    if notes is not None:
        line += f" My notes run to {notes.human()} ({cited})."
    plans = {item.planned_as_of for item in items if item.planned_as_of is not None}
    if len(plans) == 1:
        line += f" Planned items were plans as of {plans.pop().human()}, not outcomes."
    elif plans:
        line += " Planned items were plans as of the date in their label, not outcomes."
    return line


def _human_range(start: date, end: date) -> str:
    def human(day: date) -> str:
        return f"{day.day} {calendar.month_name[day.month]} {day.year}"

    if start == end:
        return human(start)
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
        return str(start.year) if start.year == end.year else f"{start.year}–{end.year}"
    whole_month = start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]
    if whole_month and (start.year, start.month) == (end.year, end.month):
        return f"{calendar.month_name[start.month]} {start.year}"
    return f"{human(start)} – {human(end)}"


def _dated_first(entry: Entry) -> tuple[int, PartialDate, str]:
    return (entry.date is None, entry.date or PartialDate(0), entry.title)


def compose(
    spec: DigestSpec,
    kb: KnowledgeBase,
    *,
    on: date,
    baseline: Mapping[str, str] | None = None,
    delivered: Mapping[str, str] | None = None,
) -> Digest:
    """Compose the digest ``spec`` describes, as it reads on day ``on``.

    ``delivered`` is what the subscription has posted before (entry id -> content hash
    then): those entries are left out unless they changed. Without it (a preview) the
    digest holds everything. For `new`, ``baseline`` is the notes as they were when the
    channel subscribed, counted as delivered; with neither, the digest is empty and
    ``delivers`` starts the record with every entry.
    """
    entries: list[Entry]
    known = dict(delivered or {})
    nothing_new = ""
    if spec.kind == "month":
        month = calendar.month_name[on.month]
        entries = [e for e in kb.milestones() if e.date is not None and e.date.month == on.month]
        entries.sort(key=lambda e: e.date or PartialDate(0), reverse=True)
        title = f"This month in NATO–Japan relations: {month}, across the years"
        nothing = f"No milestone in my notes falls in {month}."
        nothing_new = f"Nothing new in my notes for {month} since the last digest."
    elif spec.kind == "period":
        start, end = _period_range(spec.arg, on)
        entries = [e for e in kb.milestones() if e.date is not None and _within(e.date, start, end)]
        title = f"NATO–Japan milestones, {_human_range(start, end)}"
        nothing = f"No milestone in my notes falls within {_human_range(start, end)}."
        nothing_new = f"Nothing new in my notes within {_human_range(start, end)} since the last digest."
    elif spec.kind == "topic":
        entries = [e for e in kb.entries if e.kind in ("milestone", "fact") and spec.arg in e.topics]
        entries.sort(key=_dated_first)
        title = f"NATO–Japan: {spec.arg.replace('-', ' ')}, milestones and key facts"
        nothing = f"My notes have no milestones or facts on {spec.arg} yet."
        nothing_new = f"Nothing new in my notes on {spec.arg} since the last digest."
    elif spec.kind == "new":
        title = "New in the NATO–Japan notes"
        nothing = "Nothing has been added or changed in my notes since the last digest."
        if baseline is None and not delivered:
            # No baseline to compare with: nothing to report, and every entry is known now.
            return Digest(spec, title, (), _as_of(kb, on, ()), nothing, tuple(sorted(snapshot(kb).items())))
        known = {**(baseline or {}), **known}
        entries = sorted(kb.entries, key=_dated_first)
    else:
        raise DigestError(f"“{spec.kind}” is not a digest kind. {DIGEST_USAGE}")
    fresh = [e for e in entries if known.get(e.id) != e.content_hash]
    if entries and not fresh and nothing_new:
        nothing = nothing_new  # there was something, all of it posted before
    # "updated": posted before and changed since. In a `new` digest the rest are "new"; in
    # the others they are simply the digest's content.
    unseen = "new" if spec.kind == "new" else ""
    items = tuple(_item(e, kb, "updated" if e.id in known else unseen) for e in fresh)
    return Digest(
        spec=spec,
        title=title[:TITLE_MAX],
        items=items,
        as_of=_as_of(kb, on, items),
        nothing=nothing,
        delivers=tuple(sorted((e.id, e.content_hash) for e in fresh)),
    )


def _within(when: PartialDate, start: date, end: date) -> bool:
    """The whole of a (partial) date lies inside the range: a milestone dated only
    '2022' is not claimed for a July 2022 digest, since it may not have been in July."""
    first, last = _span(when.iso())
    return start <= first and last <= end
