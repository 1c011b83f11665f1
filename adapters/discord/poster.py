"""Scheduled digests into Discord: the scheduler's ``Poster``."""

from __future__ import annotations

import aiohttp

from adapters.discord.buttons import message_kwargs
from adapters.discord.library import discord
from adapters.discord.rendering import CONTENT_LIMIT, render_reply
from bot.digests.compose import TITLE_MAX
from bot.digests.poster import ChannelRef, PostError
from bot.messages import Reply

__all__ = ["DiscordPoster"]


class DiscordPoster:
    """Posts a reply to a channel as the bot; failures become ``PostError``."""

    platform = "discord"
    # A message may carry the title as a bold first line in the same 2000 characters of
    # content, so the title's room is kept free.
    message_limit = CONTENT_LIMIT - TITLE_MAX - len("**\n**")

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        try:
            channel_id = int(channel.channel)
        except ValueError:
            raise PostError(f"{channel.channel!r} is not a Discord channel id", permanent=True) from None
        if self.client.user is None or self.client.is_closed():
            raise PostError("not logged in to Discord (yet)")
        guild_id = int(channel.workspace) if channel.workspace.isdigit() else None
        target = self.client.get_partial_messageable(channel_id, guild_id=guild_id)
        for outgoing in render_reply(reply):
            try:
                await target.send(**message_kwargs(outgoing))
            except discord.RateLimited as exc:
                raise PostError("Discord asked us to slow down", retry_after=exc.retry_after) from exc
            except (discord.Forbidden, discord.NotFound) as exc:
                raise PostError(
                    f"channel {channel_id} refused the post ({exc.status}): gone, or the bot lost access",
                    permanent=True,
                ) from exc
            except discord.HTTPException as exc:
                raise PostError(f"Discord failed the post ({exc.status})") from exc
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise PostError(f"could not reach Discord: {type(exc).__name__}") from exc
