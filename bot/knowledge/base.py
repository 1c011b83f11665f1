"""The curated knowledge base as frozen values, and where its files are.

Validation (pydantic v2, ``extra="forbid"``) happens only at the boundary where a
curator's YAML enters the program, in ``bot.knowledge.schema``, which builds these
values; ``bot.knowledge.loading.load_knowledge`` imports it (and with it pydantic and
PyYAML) on first use, so a process answering from a prepared base (``bot.ops.prepared``)
never pays for either. This module imports neither of them, nor the schema. Every
problem found is reported with file, line, entry id and field, all of them at once, and
nothing is returned unless the whole base is valid: there is no half-loaded knowledge base.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from bot.knowledge.lexicon import Lexicon

__all__ = [
    "KINDS",
    "TOPICS",
    "Document",
    "Entry",
    "KnowledgeBase",
    "PartialDate",
    "SourceRef",
    "count_sentences",
    "default_knowledge_dir",
    "dev_set_of",
    "knowledge_files",
    "phrasing_key",
]

KINDS: tuple[str, ...] = (
    "milestone",
    "person",
    "term",
    "quote",
    "fact",
    "recommendation",
    "reaction",
    "obstacle",
)

TOPICS: tuple[str, ...] = (
    "diplomacy",
    "summits",
    "institutions",
    "maritime",
    "exercises",
    "cyber",
    "technology",
    "space",
    "ukraine",
    "relief",
    "china",
    "russia",
    "economic-security",
    "semiconductors",
    "subsea-cables",
    "peacekeeping",
    "reconstruction",
    "nonproliferation",
    "obstacles",
    "people",
    "sources",
)

MAX_ANSWER_CHARS = 500
MAX_ANSWER_SENTENCES = 3
MAX_EVIDENCE_CHARS = 200
MIN_QUESTIONS = 3

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


# ---------------------------------------------------------------------------
# Values the rest of the program uses
# ---------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date at the precision the source gives it: a year, a month or a day."""

    year: int
    month: int = 0
    day: int = 0

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        match = _DATE.match(text.strip())
        if match is None:
            raise ValueError(f"'{text}' is not a date; use YYYY, YYYY-MM or YYYY-MM-DD")
        year, month, day = (int(g) if g else 0 for g in match.groups())
        if match.group(2) and not 1 <= month <= 12:
            raise ValueError(f"'{text}' has month {month}; months run 01-12")
        if match.group(3):
            import datetime as _dt

            try:
                _dt.date(year, month, day)
            except ValueError:
                raise ValueError(f"'{text}' is not a day of the calendar") from None
        return cls(year, month, day)

    def iso(self) -> str:
        if not self.month:
            return f"{self.year:04d}"
        if not self.day:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def human(self) -> str:
        """'2019', 'February 2022' or '11 July 2022'."""
        if not self.month:
            return str(self.year)
        if not self.day:
            return f"{MONTH_NAMES[self.month - 1]} {self.year}"
        return f"{self.day} {MONTH_NAMES[self.month - 1]} {self.year}"

    def surely_before(self, other: PartialDate) -> bool:
        """Whether this date is earlier than ``other`` whatever the unknown parts are.

        "2022" is not surely before "June 2022", nor "February 2022" before "February 2022".
        """
        if self.year != other.year:
            return self.year < other.year
        if not (self.month and other.month):
            return False
        if self.month != other.month:
            return self.month < other.month
        return bool(self.day and other.day and self.day < other.day)

    def __str__(self) -> str:
        return self.iso()


@dataclass(frozen=True)
class SourceRef:
    """Where a statement comes from: document, paragraph(s) and a short verbatim span."""

    doc: str
    paragraphs: tuple[int, ...]
    evidence: str

    def paragraph_label(self) -> str:
        return ", ".join(f"¶{p}" for p in self.paragraphs)


@dataclass(frozen=True)
class Document:
    """A source document the knowledge base cites."""

    id: str
    title: str
    authors: tuple[str, ...]
    affiliations: tuple[str, ...]
    published: PartialDate
    as_of: PartialDate
    paragraphs: int
    note: str = ""
    # (paragraph, heading) of each section, in order: the heading stands at that paragraph.
    sections: tuple[tuple[int, str], ...] = ()

    def section_of(self, paragraph: int) -> str:
        """The heading of the section ``paragraph`` is in; "" before the first heading."""
        return next((heading for at, heading in reversed(self.sections) if at <= paragraph), "")

    def citation(self) -> str:
        """'Brummer & Lindgren, "Title" (July 2019)'."""
        surnames = [a.split()[-1] for a in self.authors]
        who = " & ".join(surnames) if len(surnames) <= 2 else f"{surnames[0]} et al."
        return f"{who}, “{self.title}” ({self.published.human()})"


@dataclass(frozen=True)
class Entry:
    """One curated, cited statement the bot can give as an answer."""

    id: str
    kind: str
    title: str
    answer: str
    questions: tuple[str, ...]
    topics: tuple[str, ...]
    source: SourceRef
    as_of: PartialDate
    file: str
    line: int
    date: PartialDate | None = None
    status: str = "reported"
    first: bool = False
    related: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    role: str | None = None
    pronoun: str | None = None  # "he", "she" or "they": a person entry's, for follow-ups
    silent_on: tuple[str, ...] = ()  # what the source never says of it: "reasons", "place"
    speaker: str | None = None
    quote: str | None = None
    occasion: str | None = None
    # Questions that look like this entry but ask for what neither it nor any paragraph of
    # the source holds: the bot should decline them and offer this entry instead. Curated
    # data for retrieval and calibration; not part of the answer, so not in content_hash.
    near_misses: tuple[str, ...] = ()
    # Questions resting on something the entry contradicts, and the sentence that says so.
    false_premises: tuple[str, ...] = ()
    correction: str | None = None

    @property
    def planned(self) -> bool:
        return self.status == "planned"

    @cached_property
    def content_hash(self) -> str:
        """Changes whenever anything a reader sees changes; lets digests report edits."""
        visible = {
            "title": self.title,
            "answer": self.answer,
            "date": self.date.iso() if self.date else None,
            "status": self.status,
            "source": [self.source.doc, list(self.source.paragraphs)],
            "quote": self.quote,
        }
        raw = json.dumps(visible, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(raw).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.iso()
        data["date"] = self.date.iso() if self.date else None
        data["source"] = {
            "doc": self.source.doc,
            "paragraphs": list(self.source.paragraphs),
            "evidence": self.source.evidence,
        }
        for key in (
            "questions",
            "near_misses",
            "false_premises",
            "topics",
            "related",
            "aliases",
            "silent_on",
        ):
            data[key] = list(data[key])
        data["content_hash"] = self.content_hash
        return data


@dataclass(frozen=True)
class KnowledgeBase:
    """The whole validated base; lookups are built once here, never per question."""

    entries: tuple[Entry, ...]
    documents: Mapping[str, Document]
    directory: Path
    lexicon: Lexicon = field(default_factory=Lexicon)
    by_id: Mapping[str, Entry] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {e.id: e for e in self.entries})

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Any:
        return iter(self.entries)

    def of_kind(self, kind: str) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.kind == kind)

    def milestones(self) -> tuple[Entry, ...]:
        """Dated milestones in date order (ties keep file order)."""
        dated = [e for e in self.entries if e.kind == "milestone" and e.date is not None]
        return tuple(sorted(dated, key=lambda e: e.date or PartialDate(0)))

    def document(self, doc_id: str) -> Document:
        return self.documents[doc_id]

    @cached_property
    def notes_end(self) -> PartialDate:
        """Where the notes end: the latest ``as_of`` of the sources (``knowledge/sources.yaml``).

        Every phrase built on it ("my notes run to …", "anything after …") follows the data,
        so a curator who adds a later document changes no code.
        """
        return max(d.as_of for d in self.documents.values())

    def count_by(self, attribute: Literal["kind", "topics"]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.entries:
            values = entry.topics if attribute == "topics" else (entry.kind,)
            for value in values:
                counts[value] = counts.get(value, 0) + 1
        return dict(sorted(counts.items()))


# ---------------------------------------------------------------------------
# Limits the schema enforces (bot.knowledge.schema)
# ---------------------------------------------------------------------------

_ABBREVIATIONS = re.compile(r"\b(?:[A-Z]\.){2,}|\b(?:Mr|Ms|Dr|St|No|vs|e\.g|i\.e|approx)\.")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?=\s+[\"“'‘(]?[A-Z0-9$])")


def phrasing_key(text: str) -> str:
    """A question or near miss as the schema compares them: case-folded, no trailing '?', one space."""
    return " ".join(text.casefold().strip(" ?").split())


def count_sentences(text: str) -> int:
    """Sentences in an answer; 'U.S.' and 'e.g.' do not end one."""
    masked = _ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", "_"), text.strip())
    return len(_SENTENCE_END.findall(masked)) + 1


# ---------------------------------------------------------------------------
# Where the files are (bot.knowledge.loading reads them)
# ---------------------------------------------------------------------------


def default_knowledge_dir() -> Path:
    """The bundled base: inside an installed wheel, else beside the checkout."""
    override = os.environ.get("BRIEFBOT_KNOWLEDGE_DIR")
    if override:
        return Path(override)
    package = Path(__file__).resolve().parents[1]  # bot/
    packaged = package / "_knowledge"
    if packaged.is_dir():
        return packaged
    return package.parent / "knowledge"


def dev_set_of(root: Path) -> Path:
    """Where a knowledge base keeps its dev set: questions with what their answers must say."""
    return root / "eval" / "dev.yaml"


def knowledge_files(root: Path) -> list[Path]:
    """The files ``load_knowledge`` reads from ``root``, in the order it reads them."""
    return sorted(root.glob("*.yaml")) + sorted(root.glob("*.yml"))
