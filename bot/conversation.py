"""A thread's memory: the turns the bot answered there, kept so a follow-up can be read.

"and when was that?" means nothing alone; after "stoltenbergs visit to tokio" it asks
the date of the entry just given. The core reads a follow-up against the thread's recent
turns (``bot.qa.followup``); ``bot.dispatch.Bot`` reads them before answering and records
the new turn after. They live in a ``ThreadMemory``: the ``Store`` (the database, so a
restart or another replica reads the same thread) or ``bot.store.recent.RecentTurns``
(in memory, for a bot without a database).

A turn holds no more than resolution needs: the entries the answer gave, what kind of
answer it was, and the question it answered in the knowledge base's own words (any word
the base does not know is left out, so names, addresses and chatter are never kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, runtime_checkable

__all__ = ["DEFAULT_CONTEXT_TTL", "MAX_QUESTION_CHARS", "TURNS_KEPT", "ThreadKey", "ThreadMemory", "Turn"]

# How long a thread's context is remembered after its last turn: a follow-up the next
# morning still reads, one next week starts afresh.
DEFAULT_CONTEXT_TTL = timedelta(hours=24)
# Turns kept per thread: resolution reads the last few, so a long thread keeps no more.
TURNS_KEPT = 10
# The longest question a turn keeps (the engine reads no more than 500 characters).
MAX_QUESTION_CHARS = 300


@dataclass(frozen=True)
class ThreadKey:
    """Where a conversation happens: a Slack thread, a Discord reply chain, a DM, a console session."""

    platform: str
    channel: str
    thread: str


@dataclass(frozen=True)
class Turn:
    """One answered message of a thread, as much of it as a follow-up needs."""

    entry_ids: tuple[str, ...]  # what the answer gave, its subject first; () for a decline
    kind: str  # the answer's intent: "milestone", "quote", "who", "timeline", "abstain", …
    question: str  # the question answered, standalone, in the base's words only


@runtime_checkable
class ThreadMemory(Protocol):
    """Remembers the recent turns of each thread until they expire."""

    def remember_turn(self, key: ThreadKey, turn: Turn, ttl: timedelta) -> None:
        """Add ``turn`` as the newest of ``key``'s thread, remembered for ``ttl`` from now
        (the memory's clock). Only the newest ``TURNS_KEPT`` of a thread are kept. Two
        turns remembered at once in one thread (two replicas) are both kept, in some order.
        """
        ...

    def recent_turns(self, key: ThreadKey, limit: int = 3) -> tuple[Turn, ...]:
        """The newest ``limit`` turns of ``key``'s thread not yet expired, oldest first
        (the last is the latest); () for a thread never seen, or forgotten. Threads never
        mix: another channel, platform or thread id is another conversation.
        """
        ...
