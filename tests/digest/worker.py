"""A scheduler in its own process, for the crash and two-process tests.

    python -m tests.digest.worker --db DB --kb DIR --log FILE --now ISO [--now ISO ...]
        [--crash before-post | after-post | before-part N] [--start-file PATH]

Each post is appended to FILE as one JSON line (O_APPEND, so lines from two processes
never interleave). ``--crash`` ends the process with os._exit, the way a kill does: no
cleanup, no closing of the database.
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

from bot.dispatch import Reply
from bot.knowledge import load_knowledge
from bot.poster import ChannelRef
from bot.scheduler import Scheduler
from bot.store import SQLiteStore
from tests.digest.support import FakeClock

CRASH_EXIT = 17


class FilePoster:
    platform = "slack"

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


def wait_for(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            sys.exit("start file never appeared")
        time.sleep(0.001)


async def run(args: argparse.Namespace) -> None:
    kb = load_knowledge(args.kb)
    instants = [datetime.fromisoformat(n) for n in args.now]
    clock = FakeClock(instants[0])
    poster = FilePoster(args.log, args.crash, args.part)
    with SQLiteStore(args.db) as store:
        scheduler = Scheduler(store, lambda: kb, {"slack": poster}, clock)
        if args.start_file:
            wait_for(args.start_file, timeout=20)
        for instant in instants:
            clock.current = max(clock.current, instant)
            await scheduler.run_due()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--kb", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--now", action="append", required=True)
    parser.add_argument("--crash", choices=["before-post", "after-post", "before-part"], default=None)
    parser.add_argument("--part", type=int, default=0)
    parser.add_argument("--start-file", type=Path, default=None)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
