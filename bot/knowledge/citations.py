"""Check that every entry's evidence span really stands in the paragraph it cites.

The source document is curation input, not part of the product, so this check runs in
the tests and on demand (``briefbot kb check --source FILE``), never at start-up.
"""

from __future__ import annotations

from pathlib import Path

from bot.errors import Problem
from bot.knowledge.base import KnowledgeBase
from bot.text import fold_typography

__all__ = ["read_paragraphs", "uncited_paragraphs", "verify_evidence"]


def read_paragraphs(path: Path | str) -> dict[int, str]:
    """Paragraph number (line number, from 1) to its typography-folded text."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return {number: fold_typography(line) for number, line in enumerate(lines, start=1)}


def verify_evidence(kb: KnowledgeBase, paragraphs: dict[int, str]) -> list[Problem]:
    """Problems for every evidence span not found verbatim in one of its cited paragraphs."""
    problems = []
    for entry in kb.entries:
        span = fold_typography(entry.source.evidence).casefold()
        cited = [paragraphs.get(p, "").casefold() for p in entry.source.paragraphs]
        missing = [p for p in entry.source.paragraphs if p not in paragraphs]
        if missing:
            message = f"cites paragraph {missing[0]}, which the document does not have"
            problems.append(Problem(entry.file, entry.line, entry.id, "source.paragraphs", message))
        elif not any(span in text for text in cited):
            where = entry.source.paragraph_label()
            message = f"evidence is not found verbatim in {where}: {entry.source.evidence!r}"
            problems.append(Problem(entry.file, entry.line, entry.id, "source.evidence", message))
    return problems


def uncited_paragraphs(kb: KnowledgeBase, wanted: set[int]) -> list[int]:
    cited = {p for entry in kb.entries for p in entry.source.paragraphs}
    return sorted(wanted - cited)
