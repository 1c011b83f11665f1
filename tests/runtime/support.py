"""A writable copy of the Slack fixture knowledge base, and edits a curator might make."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.adapters.slack.harness import KB_DIR

__all__ = [
    "BROKEN_TOPIC",
    "EDITED",
    "ORIGINAL",
    "break_topics",
    "copy_kb",
    "edit_kishida",
    "fix_topics",
    "impossible_date",
]

ORIGINAL = "Fumio Kishida was Japan's Prime Minister as of July 2023."
EDITED = "Fumio Kishida led Japan's government as of July 2023."
BROKEN_TOPIC = "astrology"


def copy_kb(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KB_DIR, target)
    return target


def _rewrite(kb_dir: Path, old: str, new: str) -> None:
    path = kb_dir / "entries.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def edit_kishida(kb_dir: Path, *, back: bool = False) -> None:
    """Rewrite Kishida's answer (or put it back)."""
    _rewrite(
        kb_dir,
        "Fumio Kishida led Japan's government" if back else "Fumio Kishida was Japan's Prime Minister",
        "Fumio Kishida was Japan's Prime Minister" if back else "Fumio Kishida led Japan's government",
    )


def break_topics(kb_dir: Path) -> int:
    """Give Kishida a topic outside the vocabulary; returns the line of that field."""
    _rewrite(kb_dir, "topics: [people, diplomacy]", f"topics: [people, {BROKEN_TOPIC}]")
    lines = (kb_dir / "entries.yaml").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if BROKEN_TOPIC in line)


def fix_topics(kb_dir: Path) -> None:
    _rewrite(kb_dir, f"topics: [people, {BROKEN_TOPIC}]", "topics: [people, diplomacy]")


def impossible_date(kb_dir: Path, written: str) -> int:
    """Date the Madrid summit ``written`` (say 2022-06-31); returns the line of that field."""
    _rewrite(kb_dir, "date: 2022-06\n", f"date: {written}\n")
    lines = (kb_dir / "entries.yaml").read_text().splitlines()
    return lines.index(f"    date: {written}") + 1
