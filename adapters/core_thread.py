"""The thread every adapter runs the synchronous core on.

The core may wait on SQLite's busy timeout; on its own thread the event loop keeps
acknowledging and answering meanwhile. One thread keeps the core's calls in arrival order.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


class CoreThread:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="briefbot-core")

    async def run(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run a synchronous core call on the core thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Stop once the call in progress has finished; calls still queued are dropped."""
        self._executor.shutdown(wait=True, cancel_futures=True)
