"""Requests an adapter is answering, so that a graceful stop can wait for them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator


class InFlight:
    """A count of requests in progress, and an event set whenever it is back to zero."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def begin(self) -> None:
        self._count += 1
        self._idle.clear()

    def end(self) -> None:
        self._count = max(0, self._count - 1)
        if self._count == 0:
            self._idle.set()

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        """Counted from entering to leaving the block, however it is left."""
        self.begin()
        try:
            yield
        finally:
            self.end()

    async def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait for the requests being answered to finish; False if some still were."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
