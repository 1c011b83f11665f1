"""One request's way through an adapter, the same on every chat platform.

::

    shutdown check -> in-flight count -> the core, on its thread -> render -> send
                                           (held if it is slow)
    any exception on the way: logged with its traceback, then one short apology

A platform supplies only its ``Outlet`` for each kind of event: how a ``Reply`` is rendered
and sent back where the request came from, and how to apologise; if it has them, how to
decline while shutting down and how to hold a request whose answer is slow (Discord
defers an interaction before its three-second deadline). The platform's ``ask`` turns the
event into the core call, building the ``Request`` with its one constructor, and runs it
with ``Lifecycle.core``, on the one thread that keeps the core's calls in arrival order.

Failures are logged on the platform's logger (``adapters.<name>``), which the runtime
counts as that platform's errors. The console needs none of this: it has no event loop to
keep free and no shutdown to drain, so ``adapters.console.Console`` calls the core inline.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Generic, ParamSpec, TypeVar

from adapters.core_thread import CoreThread
from adapters.in_flight import InFlight
from bot.messages import Reply

__all__ = ["Lifecycle", "Outlet"]

_P = ParamSpec("_P")
_T = TypeVar("_T")
M = TypeVar("M")  # a platform's rendered message(s)


class Outlet(ABC, Generic[M]):
    """Where one request's reply goes: the platform's half of the lifecycle."""

    # Seconds the answer may take before ``hold``; None: as long as it takes.
    patience: float | None = None

    @abstractmethod
    def render(self, reply: Reply) -> M:
        """The reply as the platform shows it here."""

    @abstractmethod
    async def send(self, message: M, reply: Reply) -> None:
        """Send the rendered reply (``reply`` says, for one, whether only the asker sees it)."""

    @abstractmethod
    async def apologise(self) -> None:
        """The one short apology when anything failed."""

    async def decline(self) -> None:
        """Shutting down: by default the request is simply not taken up."""

    async def hold(self) -> None:
        """The answer is taking longer than ``patience``: acknowledge meanwhile."""


class Lifecycle:
    """The core thread, the count of requests in flight and the shutdown flag of one
    adapter, and the one way every request it takes goes through them."""

    def __init__(self, platform: str, log: logging.Logger) -> None:
        self.platform = platform  # as log lines name it: "Slack", "Discord"
        self.log = log
        self.in_flight = InFlight()
        # Shutting down: requests in flight finish, new ones are declined.
        self.draining = False
        self._core_thread = CoreThread()  # the event loop never waits for the core

    async def core(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run a synchronous core call on the core thread."""
        return await self._core_thread.run(fn, *args, **kwargs)

    def close(self) -> None:
        """Stop the core thread once the work in flight has drained."""
        self._core_thread.close()

    async def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait for the requests being answered to finish; False if some still were."""
        return await self.in_flight.wait_idle(timeout)

    async def answer(self, what: str, outlet: Outlet[M], ask: Callable[[], Awaitable[Reply]]) -> None:
        """Take one request (``what`` names it in the log) through every step."""
        if self.draining:
            await outlet.decline()
            return

        async def work() -> None:
            reply = await self._patiently(ask(), outlet)
            await outlet.send(outlet.render(reply), reply)

        with self.in_flight.working():
            await self.guarded(what, work, outlet.apologise)

    async def guarded(
        self,
        what: str,
        work: Callable[[], Awaitable[None]],
        apologise: Callable[[], Awaitable[object]] | None,
    ) -> None:
        """The boundary: whatever ``work`` raises is logged with its traceback and
        apologised for once; nothing gets past it."""
        try:
            await work()
        except Exception:
            self.log.exception("failed to handle a %s %s", self.platform, what)
            if apologise is not None:
                try:
                    await apologise()
                except Exception:
                    self.log.exception("could not send the apology for a failed %s %s", self.platform, what)

    @staticmethod
    async def _patiently(answer: Awaitable[Reply], outlet: Outlet[M]) -> Reply:
        if outlet.patience is None:
            return await answer
        pending = asyncio.ensure_future(answer)
        done, _ = await asyncio.wait({pending}, timeout=outlet.patience)
        if not done:
            await outlet.hold()
        return await pending
