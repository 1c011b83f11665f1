"""Discord with several `briefbot run` replicas: one holds the gateway, the others stand by.

Discord delivers every message and interaction to every gateway connection of a bot, so two
connected replicas would both answer. The emulator behaves the same way (every live
session gets every event); each replica connects to it under its own label, so the test
sees which one is connected, which received each event and whose each REST call was. The
lease is short here (BRIEFBOT_DISCORD_LEASE_SECONDS) so a takeover happens within the test's
patience.

Digests go over Discord's REST API from whichever replica claims a period, connected to the
gateway or not; a part in flight when its replica is killed is posted again by the one that
takes the period over, with the same nonce, and Discord keeps the message it has.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store.opening import open_store
from bot.store.values import NewSubscription
from tests.adapters.discord.emulator import DiscordEmulator, Interaction
from tests.adapters.discord.harness import KB_DIR
from tests.runtime.process import BriefbotProcess, clean_env, free_port
from tests.store.postgres_server import PostgresServer

DISCORD_TOKEN = "MTIz.replica-test-discord-token"
LEASE_SECONDS = 3.0
# How long a standby may take to connect after the holder died: the lease running out,
# one poll (a third of the lease), then logging in to the gateway (slack for a busy machine).
TAKEOVER_LIMIT = LEASE_SECONDS + LEASE_SECONDS / 3 + 10


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> Iterator[str]:
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


def replica(
    discord: DiscordEmulator, label: str, database: str, tmp_path: Path, **settings: str
) -> BriefbotProcess:
    env = clean_env(
        DISCORD_TOKEN=DISCORD_TOKEN,
        DISCORD_API_BASE=discord.api_base_for(label),  # its REST calls say whose they are
        DISCORD_GATEWAY_URL=discord.gateway_url_for(label),
        BRIEFBOT_KNOWLEDGE_DIR=str(KB_DIR),
        BRIEFBOT_DB=database,
        BRIEFBOT_DISCORD_LEASE_SECONDS=str(LEASE_SECONDS),
        BRIEFBOT_METRICS_TOKEN="metrics-token-for-details",
        BRIEFBOT_PID_FILE=str(tmp_path / f"{label}.pid"),
        **settings,
    )
    return BriefbotProcess(env, port=free_port())


async def ask_once(discord: DiscordEmulator, question: str) -> Interaction:
    """``/nato ask``, answered; every interaction callback the bot made for it."""
    interaction = await discord.slash("ask", {"question": question})
    await discord.wait_for_reply(interaction, timeout=15)
    return interaction


def callbacks_to(discord: DiscordEmulator, interaction: Interaction) -> int:
    """Attempts to answer the interaction, accepted or refused as already acknowledged."""
    return len([c for c in discord.calls if c.path.startswith(f"/interactions/{interaction.id}/")])


async def test_two_replicas_connect_one_at_a_time_and_the_other_takes_over_when_it_is_killed(
    tmp_path: Path, database_url: str, postgres_server: PostgresServer
) -> None:
    async with DiscordEmulator(DISCORD_TOKEN) as discord:
        replicas = {label: replica(discord, label, database_url, tmp_path) for label in ("one", "two")}
        async with replicas["one"] as one, replicas["two"] as two:
            bodies = {"one": await one.wait_health(200), "two": await two.wait_health(200)}
            # Both healthy; exactly one of them on the gateway, the other standing by.
            assert discord.connected in (["one"], ["two"]) and discord.identified == discord.connected
            [leader_label] = discord.connected
            standby_label = "two" if leader_label == "one" else "one"
            leader, standby = replicas[leader_label], replicas[standby_label]
            assert bodies[leader_label]["adapters"] == {"discord": "connected"}
            assert bodies[standby_label]["adapters"] == {"discord": "standby"}
            assert bodies[leader_label]["gateway"] == {"discord": {"held": True}}
            assert bodies[standby_label]["gateway"] == {"discord": {"held": False}}
            assert 'briefbot_gateway_leader{platform="discord"} 1.0' in await leader.metrics()
            assert 'briefbot_gateway_leader{platform="discord"} 0.0' in await standby.metrics()
            assert "this replica holds the gateway now" in leader.log
            assert "Discord: standing by" in standby.log

            # A message and an interaction each reach one replica and are answered once.
            question = await discord.mention("who is kishida?")
            [reply] = await discord.wait_for_message(discord.channel_id, timeout=15)
            assert str(reply.sent["message_reference"]["message_id"]) == question["id"]
            interaction = await ask_once(discord, "when did japan join the nato cyber centre?")
            assert discord.receivers(question["id"]) == [leader_label]
            assert discord.receivers(interaction.id) == [leader_label]
            assert callbacks_to(discord, interaction) == 1 and len(interaction.callbacks) == 1

            # The holder dies without a word; the standby connects once the lease runs out.
            leader.signal(signal.SIGKILL)
            started = asyncio.get_running_loop().time()
            await discord.wait_for(
                lambda: discord.connected == [standby_label], "the standby to connect", TAKEOVER_LIMIT
            )
            failover = asyncio.get_running_loop().time() - started
            body = await standby.wait_health(200, adapters={"discord": "connected"})
            assert body["gateway"] == {"discord": {"held": True}}
            assert discord.identified == [leader_label, standby_label]

            after = await ask_once(discord, "who is fumio kishida")
            assert discord.receivers(after.id) == [standby_label]
            assert callbacks_to(discord, after) == 1 and len(after.callbacks) == 1
            assert "Kishida" in (await discord.wait_for_reply(after))[0].text
            assert await standby.stop() == 0
    print(f"failover after kill -9: {failover:.1f} s (lease {LEASE_SECONDS:g} s)")
    assert postgres_server.password not in one.log + two.log
    assert DISCORD_TOKEN not in one.log + two.log


async def test_a_replica_that_stops_hands_the_gateway_over_without_waiting_for_the_lease(
    tmp_path: Path, database_url: str
) -> None:
    async with DiscordEmulator(DISCORD_TOKEN) as discord:
        first = replica(discord, "first", database_url, tmp_path)
        second = replica(discord, "second", database_url, tmp_path)
        async with first:
            await first.wait_health(200, adapters={"discord": "connected"})
            async with second:
                await second.wait_health(200, adapters={"discord": "standby"})
                assert await first.stop() == 0  # a rolling deploy: the lease is released
                await discord.wait_for(
                    lambda: discord.connected == ["second"], "the standby to connect", TAKEOVER_LIMIT
                )
                interaction = await ask_once(discord, "who is fumio kishida")
                assert discord.receivers(interaction.id) == ["second"]
                assert callbacks_to(discord, interaction) == 1
                assert await second.stop() == 0
        assert "Discord: this replica holds the gateway now" in second.log


async def test_a_holder_that_cannot_renew_its_lease_leaves_the_gateway_at_once(
    tmp_path: Path, database_url: str, postgres_server: PostgresServer
) -> None:
    database = database_url.rsplit("/", 1)[-1]
    emulator = DiscordEmulator(DISCORD_TOKEN)
    async with emulator as discord, replica(discord, "only", database_url, tmp_path) as bot:
        await bot.wait_health(200, adapters={"discord": "connected"})
        with postgres_server.admin(database) as db:
            # The database stops answering (a lock held elsewhere): renewals time out, and
            # the holder must not stay connected past the lease it last renewed.
            db.execute("BEGIN")
            db.execute("LOCK TABLE leases IN ACCESS EXCLUSIVE MODE")
            await discord.wait_for(lambda: discord.connected == [], "a disconnect", TAKEOVER_LIMIT)
            await bot.wait_health(200, adapters={"discord": "standby"})
            db.execute("ROLLBACK")
            await discord.wait_for(lambda: discord.connected == ["only"], "to reconnect", TAKEOVER_LIMIT)
            # Taken by another holder (however that came about): let go at the next renewal.
            forever = "9999-12-31T00:00:00.000000Z"
            db.execute("UPDATE leases SET holder = 'another-replica', expires_at = %s", (forever,))
            await discord.wait_for(lambda: discord.connected == [], "a disconnect", TAKEOVER_LIMIT)
            body = await bot.wait_health(200, adapters={"discord": "standby"})
            assert body["gateway"] == {"discord": {"held": False}}
        assert await bot.stop() == 0
    assert "could not renew the lease" in bot.log and "another replica holds the lease" in bot.log


async def test_one_process_on_sqlite_holds_the_gateway_and_answers_as_before(tmp_path: Path) -> None:
    async with DiscordEmulator(DISCORD_TOKEN) as discord:
        database = str(tmp_path / "briefbot.sqlite3")
        async with replica(discord, "only", database, tmp_path) as bot:
            body = await bot.wait_health(200, adapters={"discord": "connected"})
            assert body["gateway"] == {"discord": {"held": True}}
            assert discord.connected == ["only"]
            question = await discord.mention("who is kishida?")
            [reply] = await discord.wait_for_message(discord.channel_id, timeout=15)
            assert str(reply.sent["message_reference"]["message_id"]) == question["id"]
            interaction = await ask_once(discord, "when did japan join the nato cyber centre?")
            assert callbacks_to(discord, interaction) == 1
            assert await bot.stop() == 0
        # Released on the way out: the next start (a restart) connects at once.
        async with replica(discord, "again", database, tmp_path) as again:
            await again.wait_health(200, adapters={"discord": "connected"})
            assert await again.stop() == 0


# -- digests: each part once, even when its replica is killed with the post in flight ------------


def subscribe_channels(url: str, guild: str, channels: list[str]) -> None:
    with open_store(url) as store:
        for channel in channels:  # due since midnight, at both replicas' first pass
            store.add_subscription(
                NewSubscription("discord", guild, channel, "topic", "maritime", "daily 00:00", "UTC", "u1"),
                now=datetime.now(UTC) - timedelta(days=3),
            )


def parts_by_channel(url: str) -> dict[str, int] | None:
    """Each subscribed channel's number of digest parts, once every period is done; else None."""
    with open_store(url) as store:
        latest = {s.channel: store.last_delivery(s.id) for s in store.subscriptions()}
    if not all(d is not None and d.status == "done" for d in latest.values()):
        return None
    return {channel: len(d.parts) for channel, d in latest.items() if d is not None}


async def test_every_due_discord_digest_part_appears_once_while_a_replica_is_killed_mid_post(
    tmp_path: Path, database_url: str
) -> None:
    async with DiscordEmulator(DISCORD_TOKEN) as discord:
        channels = discord.add_channels(10)
        subscribe_channels(database_url, discord.guild_id, channels)
        # Discord answers each post 1.5 s late, so posts are in flight when the kill lands; a
        # message is in its channel from the moment Discord receives it, answered or not.
        discord.slow("POST", r"/channels/\d+/messages", 1.5)
        replicas = {
            label: replica(
                discord,
                label,
                database_url,
                tmp_path,
                # A dead replica's periods are taken over after 5 s: well within Discord's window.
                BRIEFBOT_DIGEST_LEASE_SECONDS="5",
                BRIEFBOT_DIGEST_POST_TIMEOUT_SECONDS="3",
            )
            for label in ("a", "b")
        }
        async with replicas["a"], replicas["b"]:
            [first] = await discord.wait_for_call("POST", r"/channels/\d+/messages", timeout=60)
            victim = replicas[first.via]
            survivor_label = "b" if first.via == "a" else "a"
            victim.signal(signal.SIGKILL)
            assert victim.process is not None and await victim.process.wait() == -signal.SIGKILL
            posts = [c for c in discord.calls if c.method == "POST" and c.path.endswith("/messages")]
            in_flight = {str(c.body["nonce"]) for c in posts if c.via == first.via}

            async with asyncio.timeout(60):
                while (parts := parts_by_channel(database_url)) is None:
                    await asyncio.sleep(0.2)
            # Every period is done, so nothing more is posted: each part is in its channel once.
            assert {channel: len(discord.in_channel(channel)) for channel in channels} == parts
            # ... though the survivor sent again a part the victim had in flight: the same nonce.
            posts = [c for c in discord.calls if c.method == "POST" and c.path.endswith("/messages")]
            resent = {str(c.body["nonce"]) for c in posts if c.via == survivor_label} & in_flight
            assert resent, "no part in flight at the kill was posted again: the test proved nothing"
            assert await replicas[survivor_label].stop() == 0
