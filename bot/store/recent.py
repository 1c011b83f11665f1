"""``RecentEvents``: an ``EventMemory`` in memory, for a bot that runs without a database.

It forgets on restart and is not shared between processes; a ``Store`` remembers in the
database instead. Bounded, so a flood of distinct keys cannot grow it without limit: past
``size`` keys the oldest are forgotten early.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta

__all__ = ["RecentEvents"]


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
