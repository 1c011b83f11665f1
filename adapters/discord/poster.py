"""Scheduled digests into Discord: the scheduler's ``Poster``.

Each digest part goes out with a nonce derived from its ``PartMark`` (``digest_nonce``): the
same on every replica and on every retry. discord.py sends ``enforce_nonce: true`` with any
nonce, and Discord then de-duplicates: a create carrying a nonce this bot used in the past
few minutes posts nothing and returns the message already created. So a part whose post was
in flight when its attempt ended (the response lost, the post timed out, the replica killed)
and which is posted again within that window appears once.

The window is Discord's, and Discord documents it only as "a few minutes"; we count on two.
What falls inside it:

* a retry by the scheduler after a lost or timed-out response: the post's timeout
  (``digest_post_timeout_seconds``, 60 s by default) plus the first backoff (30 s), about
  90 s after the first attempt;
* a replica shut down before its post in progress could finish: it releases its claim, and
  the next pass posts at once;
* a takeover after a replica died (``kill -9``), which comes when the period's lease runs
  out: at most ``digest_lease_seconds`` after the in-flight part began, and a little more if
  the surviving replica is busy with a long pass. The default lease is 600 s and the
  accepted range runs from just over the post timeout plus the pacing pause (61 s by
  default) to 86,400 s, so with the default the takeover comes after the window and the
  in-flight part may appear twice, as before nonces. A lease of 90 s or less keeps it
  inside (docs/deploy.md says so).

Discord also refuses to re-create a message whose nonce belongs to one deleted since
(404, Unknown Message): the part went out and someone removed it, so it counts as posted.
"""

from __future__ import annotations

import hashlib
import logging

import aiohttp

from adapters.discord.buttons import message_kwargs
from adapters.discord.library import discord
from adapters.discord.rendering import CONTENT_LIMIT, render_reply
from bot.digests.compose import TITLE_MAX
from bot.digests.poster import ChannelRef, PartMark, PostError
from bot.messages import Reply

__all__ = ["NONCE_LIMIT", "DiscordPoster", "digest_nonce"]

_log = logging.getLogger("adapters.discord")

# Discord's limit on a message nonce (an integer or a string of up to 25 characters).
NONCE_LIMIT = 25
# Discord's error code for a create whose enforced nonce names a message deleted since.
_UNKNOWN_MESSAGE = 10008


def digest_nonce(channel: ChannelRef, mark: PartMark, piece: int) -> str:
    """The nonce of message ``piece`` (0-based) of a digest part, in 25 characters.

    A hash of where the part goes and which part it is, so every replica and every retry
    derives the same one. Discord documents the de-duplication per author (our bot, in every
    guild it serves): the guild and channel are hashed in so that two subscriptions can
    never share a nonce, even in two deployments posting as one bot. A leading letter keeps
    it from reading as a number; 96 bits of hash make a collision negligible.
    """
    key = "\x1f".join(
        (
            "briefbot-digest",
            channel.workspace,
            channel.channel,
            str(mark.subscription_id),
            mark.period_key,
            str(mark.part),
            str(piece),
        )
    )
    return "d" + hashlib.sha256(key.encode()).hexdigest()[: NONCE_LIMIT - 1]


class DiscordPoster:
    """Posts a reply to a channel as the bot; failures become ``PostError``.

    A ``MarkingPoster``: digest parts carry a deterministic nonce (see the module's
    docstring). It cannot look for a part in the channel (a message read back from Discord
    does not carry its nonce), so it is no ``FindingPoster``.
    """

    platform = "discord"
    # A message may carry the title as a bold first line in the same 2000 characters of
    # content, so the title's room is kept free.
    message_limit = CONTENT_LIMIT - TITLE_MAX - len("**\n**")

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        await self._post(channel, reply, None)

    async def post_marked(self, channel: ChannelRef, reply: Reply, mark: PartMark) -> None:
        await self._post(channel, reply, mark)

    async def _post(self, channel: ChannelRef, reply: Reply, mark: PartMark | None) -> None:
        try:
            channel_id = int(channel.channel)
        except ValueError:
            raise PostError(f"{channel.channel!r} is not a Discord channel id", permanent=True) from None
        if self.client.user is None or self.client.is_closed():
            raise PostError("not logged in to Discord (yet)")
        guild_id = int(channel.workspace) if channel.workspace.isdigit() else None
        target = self.client.get_partial_messageable(channel_id, guild_id=guild_id)
        for piece, outgoing in enumerate(render_reply(reply)):
            kwargs = message_kwargs(outgoing)
            if mark is not None:
                kwargs["nonce"] = digest_nonce(channel, mark, piece)
            try:
                await target.send(**kwargs)
            except discord.RateLimited as exc:
                raise PostError("Discord asked us to slow down", retry_after=exc.retry_after) from exc
            except discord.NotFound as exc:
                if mark is not None and exc.code == _UNKNOWN_MESSAGE:
                    _log.info(
                        "digest %s part %d for subscription %d went out earlier and was deleted since;"
                        " not posting it again",
                        mark.period_key,
                        mark.part + 1,
                        mark.subscription_id,
                    )
                    continue
                raise PostError(
                    f"channel {channel_id} refused the post ({exc.status}): gone, or the bot lost access",
                    permanent=True,
                ) from exc
            except discord.Forbidden as exc:
                raise PostError(
                    f"channel {channel_id} refused the post ({exc.status}): gone, or the bot lost access",
                    permanent=True,
                ) from exc
            except discord.HTTPException as exc:
                raise PostError(f"Discord failed the post ({exc.status})") from exc
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise PostError(f"could not reach Discord: {type(exc).__name__}") from exc
