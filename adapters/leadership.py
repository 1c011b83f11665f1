"""``Leadership``: one replica at a time does something, by holding a named lease in the store.

What it is for: the Discord gateway delivers every message and interaction to every
connection of the bot, so with two replicas connected both would answer. Each replica runs
a ``Leadership`` on the lease ``discord-gateway:<application id>``; the one that holds it
connects, the others stand by and ask again every third of the lease, so one takes over
at most ``ttl`` plus a third of it after the holder died (``kill -9``), and within a third
of it after the holder stopped and released it.

Never two at once: the holder renews every third of ``ttl``, and gives the lease up
(``on_standby``, which disconnects) as soon as a renewal fails, whether the lease was taken
or the database did not answer in time. A renewal that hangs is abandoned after a third
of ``ttl``, so the holder has let go before the lease it last renewed can expire: the lease
ran from when that renewal was sent, by the database's clock, and a standby can take it
only after that. ``on_leader`` and ``on_standby`` must return quickly (start or stop a task):
the renewals go on while they run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.errors import StoreError
from bot.store.protocol import Leases

__all__ = ["Leadership", "replica_id"]

_log = logging.getLogger(__name__)


def replica_id() -> str:
    """Who this process is, as a lease holder: host, pid, and a random part, so a restarted
    process reusing a pid (in a container, pid 1 every time) is never taken for its predecessor."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Leadership:
    """Holds the lease ``name`` whenever it can, renewing it: ``on_leader`` is called when it
    gets the lease, ``on_standby`` (with why) when the first try finds it held by another
    and whenever it is lost."""

    def __init__(
        self,
        leases: Leases,
        name: str,
        *,
        ttl: float,
        on_leader: Callable[[], Awaitable[None]],
        on_standby: Callable[[str], Awaitable[None]],
        holder: str | None = None,
    ) -> None:
        self.leases = leases
        self.name = name
        self.ttl = ttl
        self.holder = holder or replica_id()
        self.interval = ttl / 3  # renewing, and polling while standing by
        self.held = False
        self._on_leader = on_leader
        self._on_standby = on_standby
        self._decided = asyncio.Event()  # set after the first answer: held or not
        self._unreachable = False

    async def wait_decided(self) -> bool:
        """Wait for the first attempt's outcome; whether the lease is held."""
        await self._decided.wait()
        return self.held

    async def run(self) -> None:
        """Hold the lease, or stand by for it, until cancelled."""
        while True:
            await self.attempt()
            await asyncio.sleep(self.interval)

    async def attempt(self) -> None:
        """One renewal (or, standing by, one try); a verdict within a third of ``ttl``."""
        ttl = timedelta(seconds=self.ttl)
        try:
            held = await asyncio.wait_for(
                asyncio.to_thread(self.leases.acquire_lease, self.name, self.holder, ttl), self.interval
            )
        except (StoreError, TimeoutError) as exc:
            why = "the database did not answer in time" if isinstance(exc, TimeoutError) else str(exc)
            if not self._unreachable:
                _log.warning("lease %s: cannot reach the database (%s)", self.name, why)
            self._unreachable = True
            await self._lose(f"could not renew the lease: {why}")
            return
        if self._unreachable:
            _log.info("lease %s: the database answers again", self.name)
            self._unreachable = False
        if held and not self.held:
            self.held = True
            self._decided.set()
            await self._on_leader()
        elif not held:
            await self._lose("another replica holds the lease")

    async def _lose(self, why: str) -> None:
        was_held, self.held = self.held, False
        first = not self._decided.is_set()
        self._decided.set()
        if was_held or first:
            await self._on_standby(why)

    async def release(self) -> None:
        """Give the lease up (stopping, or no longer able to use it), so a standby takes it at
        its next try instead of waiting for the lease to run out."""
        if not self.held:
            return
        self.held = False
        with contextlib.suppress(StoreError, TimeoutError):
            # A release that fails only means the standby waits for the lease to expire.
            await asyncio.wait_for(
                asyncio.to_thread(self.leases.release_lease, self.name, self.holder), self.interval
            )
