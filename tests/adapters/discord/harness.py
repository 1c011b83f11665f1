"""Running the real Discord adapter against the emulator, for the tests in this folder."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from adapters.discord import BriefbotClient, DiscordPoster, discord_endpoints, serve
from bot.digests.scheduler import Scheduler
from bot.dispatch import Bot
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.loading import load_knowledge
from bot.qa.engine import Engine
from tests.adapters.discord.emulator import DiscordEmulator

KB_DIR = Path(__file__).parent / "kb"


@cache
def fixture_kb() -> KnowledgeBase:
    """A small copy of the knowledge base that does not move while the real one is curated."""
    return load_knowledge(KB_DIR)


@cache
def fixture_engine() -> Engine:
    return Engine(fixture_kb())


def fixture_core(**options: Any) -> Bot:
    return Bot(fixture_engine(), **options)


class SteppingClock:
    """The scheduler's clock: fixed at ``at``; each of its sleeps is a short real pause,
    so passes repeat quickly and notice subscriptions made while the bot runs."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at.astimezone(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running_bot(
    emulator: DiscordEmulator,
    core: Bot,
    *,
    scheduler: Callable[[DiscordPoster], Scheduler] | None = None,
    **options: Any,
) -> AsyncIterator[BriefbotClient]:
    """A connected, ready ``BriefbotClient``; closed (sessions and all) on exit."""
    options.setdefault("guild_ready_timeout", 0.05)
    with discord_endpoints(emulator.api_base, emulator.gateway_url):
        client = BriefbotClient(core, **options)
        if scheduler is not None:
            client.scheduler = scheduler(client.poster)
        identified = len([f for f in emulator.gateway_frames if f.get("op") == 2])
        task = asyncio.create_task(serve(client, emulator.token))
        task.add_done_callback(lambda _: asyncio.ensure_future(emulator.notify()))
        try:
            await emulator.wait_for(
                lambda: (
                    task.done() or len([f for f in emulator.gateway_frames if f.get("op") == 2]) > identified
                ),
                "the bot to identify",
            )
            if task.done():
                task.result()  # start-up failed: raise its error here
            await asyncio.wait_for(client.wait_until_ready(), 5)
            yield client
        finally:
            await client.close()
            await asyncio.wait_for(task, 5)
