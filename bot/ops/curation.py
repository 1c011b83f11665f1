"""The curators' queue (`briefbot curate`): what users asked that the notes did not serve.

Three kinds of occurrence feed it: a question declined (the store's unanswered list, which
also holds `/nato who|define` misses; pleasantries, help and answered "my notes stop in
July 2023" replies are never recorded there, see ``bot.dispatch.NOT_UNANSWERED``), a near
miss (declined, though the best entry came within reach of the threshold: the notes may
hold it under other words), and a 👎 on an answer. Similar questions (rapidfuzz) are one
item, with counts per kind, when last seen and the entries involved; most frequent first.
A 👎 brings what its voter said was wrong: an item counts its reasons per code and shows
the latest few notes, their mentions defused (a note is user text, and a curator may paste
the queue into a chat).

An item marked handled (``Store.mark_handled``, by its ``key``) stays out of the queue until
it is seen again after that.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz

from bot.store.protocol import Store
from bot.text import defuse_mentions, normalise

__all__ = ["DECLINED", "NEAR_MISS", "THUMBS_DOWN", "Occurrence", "QueueItem", "build_queue", "group"]

DECLINED = "declined"
NEAR_MISS = "near miss"
THUMBS_DOWN = "thumbs down"
# Two questions are one item at this token-set similarity (0-100): word order and repeated
# words do not matter ("who is macron" / "macron who is he"), one different name does.
SIMILAR = 85.0
# A decline is a near miss when the best entry's confidence reached this share of the
# threshold, yet a later check declined it: the notes likely hold something close ("when did
# japan join the nato cyber centre officially as a sponsor" scores 0.56 at a threshold of
# 0.20), while out-of-scope questions stay under it ("who won the world cup in 2022" 0.16).
NEAR_SHARE = 1.0
# The store is read in full for the queue (its lists are bounded by what users typed).
_READ_ALL = 1_000_000
# Notes shown per item: the latest few say what is wrong; the counts say how often.
NOTES_SHOWN = 3


@dataclass(frozen=True)
class Occurrence:
    kind: str
    question: str
    at: datetime
    entry_ids: tuple[str, ...] = ()
    reason: str | None = None  # a 👎's reason code, if its voter gave one
    note: str = ""  # and its note, as stored (cleaned, bounded, not yet defused)


@dataclass(frozen=True)
class QueueItem:
    key: str  # stable id for `briefbot curate --handled KEY`
    question: str  # the first seen of the group's questions
    count: int
    kinds: Mapping[str, int]
    first_seen: datetime
    last_seen: datetime
    entry_ids: tuple[str, ...]  # most often involved first
    variants: tuple[str, ...]  # other wordings, most frequent first
    # 👎 reason code -> how many gave it, most frequent first (votes with none not counted)
    reasons: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # the latest NOTES_SHOWN notes, newest first, mentions defused

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "question": self.question,
            "count": self.count,
            "kinds": dict(self.kinds),
            "first_seen": self.first_seen.isoformat(timespec="seconds"),
            "last_seen": self.last_seen.isoformat(timespec="seconds"),
            "entry_ids": list(self.entry_ids),
            "variants": list(self.variants),
            "reasons": dict(self.reasons),
            "notes": list(self.notes),
        }


def item_key(question: str) -> str:
    return hashlib.sha256(normalise(question).encode()).hexdigest()[:10]


def group(occurrences: Iterable[Occurrence]) -> list[QueueItem]:
    """Similar questions as one item each, most frequent first (then most recent)."""
    groups: list[tuple[str, list[Occurrence]]] = []  # (normalised representative, members)
    for occurrence in sorted(occurrences, key=lambda o: o.at):  # the earliest names the group
        text = normalise(occurrence.question)
        for representative, members in groups:
            if fuzz.token_set_ratio(text, representative) >= SIMILAR:
                members.append(occurrence)
                break
        else:
            groups.append((text, [occurrence]))
    items = []
    for _, members in groups:
        wordings = Counter(m.question for m in members)
        entries = Counter(e for m in members for e in m.entry_ids)
        reasons = Counter(m.reason for m in members if m.reason)
        notes = [defuse_mentions(m.note) for m in reversed(members) if m.note]  # newest first
        first = members[0]
        items.append(
            QueueItem(
                key=item_key(first.question),
                question=first.question,
                count=len(members),
                kinds=dict(Counter(m.kind for m in members)),
                first_seen=first.at,
                last_seen=max(m.at for m in members),
                entry_ids=tuple(e for e, _ in entries.most_common()),
                variants=tuple(q for q, _ in wordings.most_common() if q != first.question)[:5],
                reasons=dict(reasons.most_common()),
                notes=tuple(notes[:NOTES_SHOWN]),
            )
        )
    items.sort(key=lambda i: (-i.count, -i.last_seen.timestamp()))
    return items


def build_queue(
    store: Store,
    *,
    threshold: float,
    involved: Callable[[str], tuple[str, ...]],
    since: datetime | None = None,
    include_handled: bool = False,
) -> list[QueueItem]:
    """The queue from ``store``: ``involved(question)`` names the entries a declined question
    came closest to (the engine's candidates); ``since`` drops older occurrences."""
    occurrences: list[Occurrence] = []
    for q in reversed(store.unanswered(limit=_READ_ALL)):  # oldest first: it names its group
        if since is None or q.at >= since:
            kind = NEAR_MISS if q.confidence >= NEAR_SHARE * threshold else DECLINED
            occurrences.append(Occurrence(kind, q.question, q.at, involved(q.question)))
    for f in reversed(store.feedback(limit=_READ_ALL)):
        if not f.helpful and (since is None or f.at >= since):
            occurrences.append(Occurrence(THUMBS_DOWN, f.question, f.at, f.entry_ids, f.reason, f.note))
    items = group(occurrences)
    if include_handled:
        return items
    handled = store.handled()
    return [i for i in items if i.key not in handled or i.last_seen > handled[i.key]]
