"""What a bot without a database remembers in memory: platform events it has handled
(``RecentEvents``, an ``EventMemory``) and the recent turns of conversation threads
(``RecentTurns``, a ``ThreadMemory``).

Both forget on restart and are not shared between processes; a ``Store`` remembers in the
database instead. Both are bounded, so a flood of distinct keys or threads cannot grow
them without limit: past their size the oldest are forgotten early.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta

from bot.conversation import TURNS_KEPT, ThreadKey, Turn

__all__ = ["RecentEvents", "RecentTurns"]


class RecentEvents:
    def __init__(self, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._size = size
        self._clock = clock
        self._lock = threading.Lock()
        # (namespace, key) -> when it is forgotten, oldest first.
        self._expiry: OrderedDict[tuple[str, str], float] = OrderedDict()

    def remember_event(self, namespace: str, key: str, ttl: timedelta) -> bool:
        now = self._clock()
        with self._lock:
            until = self._expiry.pop((namespace, key), None)
            if until is not None and until > now:
                self._expiry[(namespace, key)] = until
                return False
            # Oldest first: forget what expired at the front, and the oldest past the bound.
            while self._expiry and (
                len(self._expiry) >= self._size or next(iter(self._expiry.values())) <= now
            ):
                self._expiry.popitem(last=False)
            self._expiry[(namespace, key)] = now + ttl.total_seconds()
            return True


class RecentTurns:
    """The recent turns of up to ``size`` threads; the thread written least recently is
    forgotten first."""

    def __init__(self, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._size = size
        self._clock = clock
        self._lock = threading.Lock()
        # thread -> its turns, oldest first, each with when it is forgotten; threads in
        # the order they were last written.
        self._threads: OrderedDict[ThreadKey, list[tuple[float, Turn]]] = OrderedDict()

    def remember_turn(self, key: ThreadKey, turn: Turn, ttl: timedelta) -> None:
        now = self._clock()
        with self._lock:
            turns = [(until, t) for until, t in self._threads.pop(key, []) if until > now]
            turns.append((now + ttl.total_seconds(), turn))
            while len(self._threads) >= self._size:
                self._threads.popitem(last=False)
            self._threads[key] = turns[-TURNS_KEPT:]

    def recent_turns(self, key: ThreadKey, limit: int = 3) -> tuple[Turn, ...]:
        now = self._clock()
        with self._lock:
            live = [turn for until, turn in self._threads.get(key, []) if until > now]
        return tuple(live[-limit:]) if limit > 0 else ()
