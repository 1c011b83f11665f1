"""Votes on answers (#13), the same on every platform: one per user per answer, and the
reasons a 👎 may give.

A vote's key is the answer (workspace, channel, message, question, entries) and the voter,
remembered in an ``EventMemory`` (the store's, else ``RecentEvents``) for ``VOTE_MEMORY``:
atomic on both store backends, so a double click, a second replica or a retry still counts
one vote.

A 👎's reason is one of ``REASONS`` and an optional note, which is hostile input: it is
kept cleaned and bounded (``clean_note``), and whoever shows it to people defuses the
mentions it may hold (``bot.text.defuse_mentions``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import timedelta

from bot.text import clean_user_text

__all__ = [
    "ALREADY_GAVE_REASON",
    "ALREADY_VOTED",
    "NOTE_CHARS",
    "REASONS",
    "VOTE_MEMORY",
    "VOTE_RECORDED",
    "clean_note",
    "vote_key",
]

VOTE_MEMORY = timedelta(days=365)
# What the voter alone is told, on every platform. Said in words because a platform's own
# vote display is not enough: Slack's native feedback buttons are a per-viewer toggle that
# a second click clears or switches while the first vote stands, and some clients do not
# draw them at all.
VOTE_RECORDED = {True: "Thanks — your 👍 was recorded.", False: "Thanks — your 👎 was recorded."}
ALREADY_VOTED = "You already voted on this answer."
ALREADY_GAVE_REASON = "You already said what was wrong with this answer."
# What a 👎 may say was wrong: value -> label. Anything else a platform receives is forged.
REASONS = {
    "wrong": "Wrong",
    "outdated": "Outdated",
    "not_asked": "Not what I asked",
    "other": "Other",
}
# The longest note a 👎 keeps: a sentence or two for a curator, not an essay.
NOTE_CHARS = 300


def vote_key(
    workspace: str, channel: str, message_id: str | None, question: str, entry_ids: Sequence[str], user: str
) -> str:
    """One key per user and answer; hashed, so the store holds no question text or user id."""
    parts = json.dumps([workspace, channel, message_id or "", question, list(entry_ids), user])
    return hashlib.sha256(parts.encode()).hexdigest()


def clean_note(raw: str) -> str:
    """A 👎's note as it is kept: control and invisible characters gone, whitespace runs
    made one space, at most ``NOTE_CHARS`` characters. Only a bounded prefix is cleaned, so
    50 kB pasted into the box cost no more than a short note."""
    return clean_user_text(raw[: NOTE_CHARS * 4])[:NOTE_CHARS].rstrip()
