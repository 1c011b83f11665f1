"""A gateway close Discord forbids resuming (4004, 4010-4014): said at once, at ERROR, with
its cause; the service reports itself lost so the runtime can stop serving nothing."""

from __future__ import annotations

import asyncio
import logging

import pytest

from adapters.discord.connection import FATAL_CLOSE_CODES
from adapters.discord.service import DiscordService
from adapters.discord.settings import DiscordSettings
from tests.adapters.discord.emulator import DiscordEmulator
from tests.adapters.discord.harness import fixture_core


@pytest.mark.parametrize("code", sorted(FATAL_CLOSE_CODES))
async def test_a_close_that_cannot_be_resumed_is_logged_at_once_and_reported_lost(
    code: int, caplog: pytest.LogCaptureFixture
) -> None:
    async with DiscordEmulator() as emulator:
        settings = DiscordSettings(emulator.token, emulator.api_base, emulator.gateway_url)
        service = DiscordService(fixture_core(), settings, ready_timeout=5)
        try:
            await service.start()
            assert await service.connected()
            with caplog.at_level(logging.ERROR, logger="adapters.discord"):
                await emulator.close_gateway(code)
                reason = await asyncio.wait_for(service.lost(), 5)
            assert str(code) in reason
            assert FATAL_CLOSE_CODES[code] in reason
            [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
            assert str(code) in record.getMessage() and "not reconnecting" in record.getMessage()
            assert not await service.connected()
            # No second identify: discord.py must not hammer Discord with a rejected session.
            assert len([f for f in emulator.gateway_frames if f.get("op") == 2]) == 1
        finally:
            await service.close()


async def test_the_rejected_token_close_says_token_rejected(caplog: pytest.LogCaptureFixture) -> None:
    async with DiscordEmulator() as emulator:
        settings = DiscordSettings(emulator.token, emulator.api_base, emulator.gateway_url)
        service = DiscordService(fixture_core(), settings, ready_timeout=5)
        try:
            await service.start()
            with caplog.at_level(logging.ERROR, logger="adapters.discord"):
                await emulator.close_gateway(4004, "Authentication failed.")
                await asyncio.wait_for(service.lost(), 5)
            assert "token rejected" in caplog.text
            assert emulator.token not in caplog.text
        finally:
            await service.close()


async def test_a_resumable_close_is_not_reported_lost() -> None:
    async with DiscordEmulator() as emulator:
        settings = DiscordSettings(emulator.token, emulator.api_base, emulator.gateway_url)
        service = DiscordService(fixture_core(), settings, ready_timeout=5)
        try:
            await service.start()
            await emulator.drop_connection()
            await emulator.wait_for_gateway(6)
            lost = asyncio.ensure_future(service.lost())
            await asyncio.sleep(0)
            assert not lost.done()
            lost.cancel()
        finally:
            await service.close()


async def test_closing_the_service_is_not_a_loss(caplog: pytest.LogCaptureFixture) -> None:
    async with DiscordEmulator() as emulator:
        settings = DiscordSettings(emulator.token, emulator.api_base, emulator.gateway_url)
        service = DiscordService(fixture_core(), settings, ready_timeout=5)
        await service.start()
        with caplog.at_level(logging.ERROR, logger="adapters.discord"):
            await service.close()
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
