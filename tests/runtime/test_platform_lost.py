"""A platform whose connection ends for good (Discord closing the gateway with 4004): the
process says why at once, and exits non-zero when no platform is left serving, so the
supervisor restarts it rather than keeping a process that answers nobody (#14.4)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.adapters.discord.emulator import DiscordEmulator
from tests.adapters.slack.emulator import SlackEmulator
from tests.adapters.slack.harness import KB_DIR, USERS
from tests.runtime.process import BriefbotProcess, clean_env, free_port

DISCORD_TOKEN = "MTIz.runtime-test-discord-token"


async def test_discord_rejecting_the_token_mid_run_stops_a_discord_only_process_non_zero(
    tmp_path: Path,
) -> None:
    async with DiscordEmulator(DISCORD_TOKEN) as discord:
        env = clean_env(
            DISCORD_TOKEN=DISCORD_TOKEN,
            DISCORD_API_BASE=discord.api_base,
            DISCORD_GATEWAY_URL=discord.gateway_url,
            BRIEFBOT_KNOWLEDGE_DIR=str(KB_DIR),
            BRIEFBOT_DB=str(tmp_path / "briefbot.sqlite3"),
        )
        async with BriefbotProcess(env, port=free_port()) as bot:
            await bot.wait_health(200)
            await discord.close_gateway(4004, "Authentication failed.")
            assert bot.process is not None
            code = await asyncio.wait_for(bot.process.wait(), 40)
            assert code != 0, bot.log
            await asyncio.sleep(0)  # let the reader take the last lines
        assert "token rejected" in bot.log
        assert "no platform is left serving" in bot.log
        assert DISCORD_TOKEN not in bot.log


async def test_with_slack_still_serving_the_process_runs_on_and_health_says_discord_is_down(
    tmp_path: Path,
) -> None:
    async with SlackEmulator(users=USERS) as slack, DiscordEmulator(DISCORD_TOKEN) as discord:
        env = clean_env(
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_APP_TOKEN=slack.app_token,
            SLACK_API_URL=slack.api_url,
            DISCORD_TOKEN=DISCORD_TOKEN,
            DISCORD_API_BASE=discord.api_base,
            DISCORD_GATEWAY_URL=discord.gateway_url,
            BRIEFBOT_KNOWLEDGE_DIR=str(KB_DIR),
            BRIEFBOT_DB=str(tmp_path / "briefbot.sqlite3"),
        )
        async with BriefbotProcess(env, port=free_port()) as bot:
            await bot.wait_health(200)
            await discord.close_gateway(4014)
            body = await bot.wait_health(503, adapters={"slack": "connected", "discord": "disconnected"})
            assert not body["ok"]
            assert bot.process is not None and bot.process.returncode is None
            async with asyncio.timeout(15):  # the runtime's line follows the service's
                while "still serving slack" not in bot.log:
                    await asyncio.sleep(0.05)
            assert "disallowed intents" in bot.log
            assert await bot.stop() == 0
