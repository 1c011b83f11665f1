"""A scheduler in its own process, for the crash and two-process tests.

    python -m tests.digest.worker --db PATH-OR-URL --kb DIR --log FILE --now ISO [--now ISO ...]
        [--crash before-post | after-post | before-part N] [--barrier DIR --peers N]

Each post is appended to FILE as one JSON line (O_APPEND, so lines from two processes
never interleave). ``--crash`` ends the process with os._exit, the way a kill does: no
cleanup, no closing of the database.

Each process has its own fake clock. ``--barrier`` keeps several of them in step, the way
one wall clock would: none moves on to the next instant until all have finished the
current one. Without it one process could run days ahead and rightly treat the other's
live lease as long expired.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from bot.digests.poster import ChannelRef
from bot.digests.scheduler import Scheduler
from bot.knowledge.loading import load_knowledge
from bot.messages import Reply
from bot.store.opening import open_store
from tests.digest.support import FakeClock

CRASH_EXIT = 17


class FilePoster:
    platform = "slack"
    message_limit = 3000  # the Slack poster's

    def __init__(self, log: Path, crash: str | None, crash_part: int) -> None:
        self.log = log
        self.crash = crash
        self.crash_part = crash_part
        self.calls = 0

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        self.calls += 1
        if self.crash == "before-post" or (self.crash == "before-part" and self.calls == self.crash_part):
            os._exit(CRASH_EXIT)
        line = json.dumps(
            {"pid": os.getpid(), "channel": channel.channel, "title": reply.title, "text": reply.text}
        )
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        if self.crash == "after-post":
            os._exit(CRASH_EXIT)  # posted, but the store never hears of it


def barrier(directory: Path, step: int, peers: int, timeout: float = 30.0) -> None:
    """Arrive at ``step`` and wait until all ``peers`` processes have arrived too."""
    (directory / f"{step}-{os.getpid()}").touch()
    deadline = time.monotonic() + timeout
    while len(list(directory.glob(f"{step}-*"))) < peers:
        if time.monotonic() > deadline:
            sys.exit(f"the other processes never reached step {step}")
        time.sleep(0.001)


async def run(args: argparse.Namespace) -> None:
    kb = load_knowledge(args.kb)
    instants = [datetime.fromisoformat(n) for n in args.now]
    clock = FakeClock(instants[0])
    poster = FilePoster(args.log, args.crash, args.part)
    with open_store(args.db) as store:
        scheduler = Scheduler(store, lambda: kb, {"slack": poster}, clock)
        for step, instant in enumerate(instants):
            if args.barrier:
                barrier(args.barrier, step, args.peers)
            clock.current = max(clock.current, instant)
            await scheduler.run_due()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, help="a SQLite path or a postgresql:// URL")
    parser.add_argument("--kb", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--now", action="append", required=True)
    parser.add_argument("--crash", choices=["before-post", "after-post", "before-part"], default=None)
    parser.add_argument("--part", type=int, default=0)
    parser.add_argument("--barrier", type=Path, default=None)
    parser.add_argument("--peers", type=int, default=1)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
