"""A long rate limit (discord.py's ``RateLimited``, not an ``HTTPException``) met by the
apology or the "restarting" decline is a warning of one line, never an exception that
reaches discord.py's "Ignoring exception in …" handler (#14.9).

Interaction responses go through discord.py's webhook code, which waits out any rate limit
instead of raising; channel messages (mentions, DMs) are where ``RateLimited`` arises."""

from __future__ import annotations

import logging

import pytest

from bot.dispatch import Bot
from bot.messages import Reply, Request
from tests.adapters.discord.emulator import DiscordEmulator
from tests.adapters.discord.harness import fixture_engine, running_bot

LONG = 120.0  # over the client's MAX_RATELIMIT_WAIT, so discord.py raises RateLimited


class _Failing(Bot):
    def dispatch(self, request: Request) -> Reply:
        raise RuntimeError("the core broke")


def _escaped(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if (r.name.startswith("discord") and r.levelno >= logging.ERROR)
        or "Ignoring exception" in r.getMessage()
        or "never retrieved" in r.getMessage()
        or "could not send the apology" in r.getMessage()
    ]


async def test_a_rate_limited_apology_for_a_mention_is_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    async with DiscordEmulator() as emulator, running_bot(emulator, _Failing(fixture_engine())):
        emulator.rate_limit("POST", r"/channels/\d+/messages", retry_after=LONG)
        with caplog.at_level(logging.WARNING):
            await emulator.mention("who is kishida?")
            await emulator.wait_for_call("POST", r"/channels/\d+/messages")
            await emulator.wait_for(
                lambda: "could not deliver the apology" in caplog.text, "the apology's warning"
            )
        assert not _escaped(caplog)
        assert "rate limited for 120s" in caplog.text
