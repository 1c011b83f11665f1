"""Votes on answers (#13): one per user per answer, and the 👎 reasons modal.

A vote's key and the reasons are every platform's (``bot.votes``); remembered in the
store's event memory for a year, a double click, a second replica or a retry still counts
one vote. The reasons modal's free text is hostile input: it is cleaned of control and
invisible characters, cut to a few hundred characters (``bot.votes.clean_note``), kept on
the vote for curators, and never echoed back into Slack. Sending the modal turns it into
one line saying whether the reason was kept (``reason_outcome``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.votes import NOTE_CHARS, REASONS, VOTE_MEMORY, clean_note, vote_key

__all__ = [
    "REASONS",
    "REASON_CALLBACK",
    "VOTE_MEMORY",
    "Reason",
    "read_reason",
    "reason_modal",
    "reason_outcome",
    "vote_key",
]

REASON_CALLBACK = "briefbot_not_helpful_reason"
REASON_DONE_CALLBACK = "briefbot_not_helpful_reason_done"
_METADATA_CHARS = 3000  # Slack's limit for a view's private_metadata


def reason_modal(question: str, entry_ids: Sequence[str], channel: str) -> dict[str, Any]:
    """The modal a 👎 opens: a reason and, optionally, a short note."""
    metadata = json.dumps({"q": question[:500], "e": list(entry_ids)[:10], "c": channel}, ensure_ascii=False)
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": value} for value, label in REASONS.items()
    ]
    return {
        "type": "modal",
        "callback_id": REASON_CALLBACK,
        "private_metadata": metadata[:_METADATA_CHARS],
        "title": {"type": "plain_text", "text": "What was wrong?"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Skip"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "The answer was…"},
                "element": {"type": "radio_buttons", "action_id": "reason", "options": options},
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": {"type": "plain_text", "text": "Anything a curator should know? (optional)"},
                "element": {"type": "plain_text_input", "action_id": "note", "max_length": NOTE_CHARS},
            },
        ],
    }


def reason_outcome(text: str) -> dict[str, Any]:
    """What the reasons modal turns into once sent (``response_action: "update"``): one
    line saying whether the reason was kept, and a button to close it. ``text`` is the
    bot's own words, never the note: nothing typed is shown back."""
    return {
        "type": "modal",
        "callback_id": REASON_DONE_CALLBACK,
        "title": {"type": "plain_text", "text": "What was wrong?"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "plain_text", "text": text}}],
    }


@dataclass(frozen=True)
class Reason:
    reason: str  # a key of REASONS
    note: str  # cleaned, at most NOTE_CHARS
    question: str
    entry_ids: tuple[str, ...]
    channel: str


def read_reason(view: Mapping[str, Any]) -> Reason | None:
    """The submitted modal's answer; None if it is not one (a forged or broken payload)."""
    values = (view.get("state") or {}).get("values") or {}
    if not isinstance(values, Mapping):
        return None
    chosen = ((values.get("reason") or {}).get("reason") or {}).get("selected_option") or {}
    reason = chosen.get("value") if isinstance(chosen, Mapping) else None
    if reason not in REASONS:
        return None
    raw_note = ((values.get("note") or {}).get("note") or {}).get("value")
    note = clean_note(raw_note) if isinstance(raw_note, str) else ""
    try:
        metadata = json.loads(str(view.get("private_metadata") or "{}"))
    except ValueError:
        metadata = {}
    if not isinstance(metadata, dict):
        metadata = {}
    question = metadata.get("q")
    ids = metadata.get("e")
    channel = metadata.get("c")
    return Reason(
        reason=str(reason),
        note=note,
        question=question[:500] if isinstance(question, str) else "",
        entry_ids=tuple(str(i) for i in ids[:10]) if isinstance(ids, list) else (),
        channel=channel if isinstance(channel, str) else "",
    )
