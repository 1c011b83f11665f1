"""Votes on answers (#13), the same on every platform: one per user per answer, and the
reasons a 👎 may give.

A vote's key is the answer (workspace, channel, message, question, entries) and the voter,
remembered in an ``EventMemory`` (the store's, else ``RecentEvents``) for ``VOTE_MEMORY``:
atomic on both store backends, so a double click, a second replica or a retry still counts
one vote.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import timedelta

__all__ = ["REASONS", "VOTE_MEMORY", "vote_key"]

VOTE_MEMORY = timedelta(days=365)
# What a 👎 may say was wrong: value -> label. Anything else a platform receives is forged.
REASONS = {
    "wrong": "Wrong",
    "outdated": "Outdated",
    "not_asked": "Not what I asked",
    "other": "Other",
}


def vote_key(
    workspace: str, channel: str, message_id: str | None, question: str, entry_ids: Sequence[str], user: str
) -> str:
    """One key per user and answer; hashed, so the store holds no question text or user id."""
    parts = json.dumps([workspace, channel, message_id or "", question, list(entry_ids), user])
    return hashlib.sha256(parts.encode()).hexdigest()
