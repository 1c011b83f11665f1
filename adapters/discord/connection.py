"""Reaching Discord: the endpoints, logging in, registering the commands, serving.

Running needs only the default gateway intents: Discord delivers the content of DMs and of
messages that mention the bot without the privileged message-content intent. Only
auto-answer needs that one, asked for when the operator configures it
(``discord.message_content``; ``BriefbotClient(message_content=True)``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from urllib.parse import urlencode

import aiohttp
import yarl

from adapters.discord.client import BriefbotClient
from adapters.discord.library import discord
from bot.errors import ConfigError

__all__ = [
    "FATAL_CLOSE_CODES",
    "INVITE_PERMISSIONS",
    "discord_endpoints",
    "invite_url",
    "login",
    "serve",
    "sync_commands",
    "why_disconnected",
]

# View Channels, Send Messages, Send Messages in Threads, Embed Links, Read Message History.
INVITE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 38) | (1 << 14) | (1 << 16)

# The gateway close codes after which Discord forbids reconnecting (discord.py then stops
# for good), each with what an operator should read: Discord's "Gateway Close Event Codes".
FATAL_CLOSE_CODES: Mapping[int, str] = {
    4004: "token rejected (authentication failed): reset the bot's token in the developer portal "
    "and update DISCORD_TOKEN",
    4010: "invalid shard sent when identifying",
    4011: "sharding required: the bot is in too many servers for one gateway connection",
    4012: "invalid gateway API version",
    4013: "invalid intents sent when identifying",
    4014: "disallowed intents: a privileged intent is not enabled for the application in the "
    "developer portal",
}


def why_disconnected(error: BaseException | None) -> str:
    """Why the gateway connection ended for good, in words an operator can act on."""
    if error is None:
        return "the gateway connection ended"
    if isinstance(error, discord.PrivilegedIntentsRequired):
        code: int | None = 4014
    else:
        code = getattr(error, "code", None) if isinstance(error, discord.ConnectionClosed) else None
    if code is not None and code in FATAL_CLOSE_CODES:
        return f"Discord closed the gateway with {code}, {FATAL_CLOSE_CODES[code]}"
    if code is not None:
        return f"Discord closed the gateway with {code}"
    return f"the gateway connection failed ({type(error).__name__}: {error})"


@contextlib.contextmanager
def discord_endpoints(api_base: str | None = None, gateway: str | None = None) -> Iterator[None]:
    """Point discord.py at a REST proxy and/or gateway (a proxy, or a test emulator).

    discord.py 2.x has no per-client setting for either: every REST route, webhook and
    interaction callback builds its URL from ``discord.http.Route.BASE``, and the first
    gateway connection (and any after an invalidated session) uses
    ``DiscordWebSocket.DEFAULT_GATEWAY``. Resumes use READY's ``resume_gateway_url``,
    which a gateway proxy reports as itself. Both are restored on exit.
    """
    route_base = discord.http.Route.BASE
    default_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        if api_base:
            discord.http.Route.BASE = api_base.rstrip("/")
        if gateway:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
        yield
    finally:
        discord.http.Route.BASE = route_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = default_gateway


def invite_url(application_id: int, permissions: int = INVITE_PERMISSIONS) -> str:
    """The link a server admin opens to add the bot, with the scopes and permissions it needs."""
    query = urlencode(
        {"client_id": application_id, "scope": "bot applications.commands", "permissions": permissions}
    )
    return f"https://discord.com/oauth2/authorize?{query}"


async def login(client: BriefbotClient, token: str) -> None:
    try:
        await client.login(token)
    except discord.LoginFailure:
        raise ConfigError(
            "Discord rejected DISCORD_TOKEN (401 Unauthorized): reset the token in the developer "
            "portal and update the DISCORD_TOKEN environment variable"
        ) from None
    except (aiohttp.ClientConnectionError, OSError) as exc:
        raise ConfigError(
            f"cannot reach Discord's API at {discord.http.Route.BASE} ({type(exc).__name__}); "
            "check the network, or DISCORD_API_BASE if it is set"
        ) from None


async def sync_commands(client: BriefbotClient, token: str, guild_id: int | None = None) -> int:
    """Register `/nato` with Discord (globally, or in one guild at once); the command count."""
    try:
        await login(client, token)
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            client.tree.copy_global_to(guild=guild)
            synced = await client.tree.sync(guild=guild)
        else:
            synced = await client.tree.sync()
        return len(synced)
    finally:
        await client.close()


async def serve(client: BriefbotClient, token: str) -> None:
    """Log in, connect and run until closed. Commands are not re-synced here, on purpose:
    syncing on every start is a common way to get rate limited; use `briefbot discord sync`."""
    async with client:
        await login(client, token)
        await client.connect(reconnect=True)
