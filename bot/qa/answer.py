"""The values the engine hands back: an answer, where it comes from, what else to ask."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.messages import Suggestion

__all__ = ["Answer", "Candidate", "Source", "Suggestion"]


@dataclass(frozen=True)
class Source:
    """A citation a reader can check: document, paragraph(s) and the date it holds at."""

    doc: str
    citation: str
    paragraphs: tuple[int, ...]
    as_of: str  # human form, e.g. "July 2019"

    def line(self) -> str:
        paras = ", ".join(f"¶{p}" for p in self.paragraphs)
        return f"Source: {self.citation}, {paras} · as of {self.as_of}"


@dataclass(frozen=True)
class Candidate:
    """One scored entry, kept for ``--explain`` and for suggestions."""

    entry_id: str
    score: float
    phrasing: str
    fuzzy: float
    coverage: float
    # For answers: the matcher's score before the engine's checks, and what each check
    # added or took away ("when, but no year", -0.4), for --explain.
    match: float | None = None
    adjustments: tuple[tuple[str, float], ...] = ()
    # What each stage said of it, for --explain: ranks, similarities, the judge's belief.
    stages: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Answer:
    """What the engine says to one question. Abstaining is an answer, not an error."""

    text: str
    intent: str
    confidence: float
    abstained: bool
    entry_ids: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    title: str | None = None
    candidates: tuple[Candidate, ...] = field(default=(), compare=False)
    # The question this answers, standalone: a follow-up as rewritten from its thread
    # (``bot.qa.followup``), else the message as read; what a thread remembers of it.
    asked: str = field(default="", compare=False)
    followup: bool = field(default=False, compare=False)  # read against its thread's turns

    def source_line(self) -> str | None:
        if not self.sources:
            return None
        if len(self.sources) == 1:
            return self.sources[0].line()
        first = self.sources[0]
        paras = sorted({p for s in self.sources for p in s.paragraphs})
        shown = ", ".join(f"¶{p}" for p in paras[:12]) + (" …" if len(paras) > 12 else "")
        return f"Source: {first.citation}, {shown} · as of {first.as_of}"
