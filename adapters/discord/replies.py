"""Where a reply goes back on Discord: the ``Outlet`` of an interaction and of a message.

An interaction (a slash command or a button) is answered by its first response and then
follow-ups, deferred first if the core is slow, and declined politely while the bot is
restarting; a mention or DM is answered in the channel, the first message as a reply to
it. Every message pings nobody.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from adapters.discord.buttons import message_kwargs
from adapters.discord.library import discord
from adapters.discord.rendering import (
    COLOUR_QUIET,
    EMBED_AUTHOR_LIMIT,
    ButtonSpec,
    Outgoing,
    clip,
    render_reply,
)
from adapters.lifecycle import Outlet
from bot.messages import Reply

__all__ = [
    "APOLOGY",
    "RESTARTING",
    "THANKS_HELPFUL",
    "THANKS_NOT_HELPFUL",
    "UNDELIVERABLE",
    "ChannelReply",
    "InteractionReply",
    "VoteReply",
    "apologise",
]

_log = logging.getLogger("adapters.discord")

APOLOGY = "Sorry, something went wrong on my side answering that. It has been logged."
RESTARTING = "briefbot is restarting; please ask again in a minute."
THANKS_HELPFUL = "Thanks — your 👍 is noted."
THANKS_NOT_HELPFUL = "Thanks — noted; what was wrong?"
# Which replies repeat the question above them (as the embed's author line).
_ECHOED = ("answer", "abstain")
# What a courtesy message (an apology, "restarting") may meet and must never let escape:
# discord.py raises ``RateLimited`` (not an ``HTTPException``) when Discord asks for a
# longer wait than ``max_ratelimit_timeout``; escaping, it reaches discord.py's
# "Ignoring exception in …" handler with a traceback.
UNDELIVERABLE = (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError)


class InteractionReply(Outlet[list[Outgoing]]):
    """A slash command's or a button's reply. If the answer outlasts ``patience`` seconds
    the interaction is deferred meanwhile, ``private``-ly or for the channel to see."""

    def __init__(
        self,
        interaction: discord.Interaction[Any],
        *,
        patience: float,
        private: bool,
        echo: str | None = None,
        shareable: bool = False,
    ) -> None:
        self.interaction = interaction
        self.patience = patience
        self.private = private
        self.echo = echo
        # A question's reply (`/nato ask`): shown to the asker alone when ``private``, an
        # answer then with "Share in channel"; a decline is private whatever was chosen.
        self.shareable = shareable

    def render(self, reply: Reply) -> list[Outgoing]:
        rendered = render_reply(reply, echo=self.echo if reply.kind in _ECHOED else None)
        if self.shareable and self.private and reply.kind == "answer" and rendered:
            last = rendered[-1]
            share = ButtonSpec("share", "Share in channel", ())
            rendered[-1] = Outgoing(last.content, last.embed, (*last.buttons, share))
        return rendered

    def _ephemeral(self, reply: Reply) -> bool:
        if self.shareable:
            return self.private or reply.kind != "answer"
        return reply.ephemeral

    async def send(self, message: list[Outgoing], reply: Reply) -> None:
        response = self.interaction.response
        ephemeral = self._ephemeral(reply)
        for outgoing in message:
            kwargs = message_kwargs(outgoing)
            if not response.is_done():
                await response.send_message(ephemeral=ephemeral, **kwargs)
            else:
                await self.interaction.followup.send(ephemeral=ephemeral, **kwargs)

    async def hold(self) -> None:
        # Discord drops an interaction not acknowledged within three seconds. Answers take
        # milliseconds; only a busy store or a large digest ever gets here.
        await self.interaction.response.defer(thinking=True, ephemeral=self.private)

    async def apologise(self) -> None:
        await apologise(self.interaction)

    async def decline(self) -> None:
        try:
            await self.interaction.response.send_message(
                RESTARTING, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
        except UNDELIVERABLE as exc:
            _log.warning("could not tell a user briefbot is restarting (%s)", _why(exc))


class VoteReply(InteractionReply):
    """A vote's thanks, for the voter alone. After a 👎 it offers the reasons to choose
    from, above the question it is about (read back from there when one is chosen, as the
    vote buttons read theirs: nothing is kept in memory)."""

    def __init__(
        self,
        interaction: discord.Interaction[Any],
        *,
        patience: float,
        helpful: bool,
        question: str,
        entry_ids: tuple[str, ...],
    ) -> None:
        super().__init__(interaction, patience=patience, private=True)
        self.helpful = helpful
        self.question = question
        self.entry_ids = entry_ids

    def render(self, reply: Reply) -> list[Outgoing]:
        # The core's reply says the vote was saved; what the voter reads is said here.
        if self.helpful:
            return [Outgoing(content=THANKS_HELPFUL)]
        about = None
        if self.question:
            about = discord.Embed(colour=COLOUR_QUIET)
            about.set_author(name=clip(f"“{self.question}”", EMBED_AUTHOR_LIMIT))
        reasons = ButtonSpec("reasons", "", self.entry_ids)
        return [Outgoing(content=THANKS_NOT_HELPFUL, embed=about, buttons=(reasons,))]


class ChannelReply(Outlet[list[Outgoing]]):
    """A mention's or a DM's reply, in its channel. While shutting down a message is simply
    not taken up (the default ``decline``)."""

    def __init__(
        self,
        message: discord.Message,
        *,
        echo: str,
        on_sent: Callable[[discord.Message], None] | None = None,
        unasked: bool = False,
    ) -> None:
        self.message = message
        self.echo = echo
        self.on_sent = on_sent  # told of each message sent (the conversation's threads)
        # An auto-answer: nobody addressed the bot, so only an answer is sent; silence
        # covers the rest, failures included (they are logged).
        self.unasked = unasked

    def render(self, reply: Reply) -> list[Outgoing]:
        return render_reply(reply, echo=self.echo if reply.kind in _ECHOED else None)

    async def send(self, message: list[Outgoing], reply: Reply) -> None:
        if reply.kind == "elsewhere":
            # A channel the server's allow-list leaves out: a message cannot be answered
            # privately on Discord, and a public "not here" is the noise the list prevents.
            _log.debug("not answering in channel %s: not on the server's allow-list", self.message.channel.id)
            return
        if self.unasked and reply.kind != "answer":
            return
        asked = self.message
        reference = asked.to_reference(fail_if_not_exists=False) if asked.guild else None
        for index, outgoing in enumerate(message):
            kwargs = message_kwargs(outgoing)
            if index == 0 and reference is not None:
                kwargs["reference"] = reference
                kwargs["mention_author"] = False
            sent = await asked.channel.send(**kwargs)
            if self.on_sent is not None:
                self.on_sent(sent)

    async def apologise(self) -> None:
        if self.unasked:
            return
        try:
            await self.message.channel.send(
                APOLOGY,
                reference=self.message.to_reference(fail_if_not_exists=False),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except UNDELIVERABLE as exc:
            _log.warning("could not deliver the apology either (%s)", _why(exc))


async def apologise(interaction: discord.Interaction[Any]) -> None:
    """The apology for an interaction, as a follow-up if it was already answered or deferred."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(
                APOLOGY, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
        else:
            await interaction.response.send_message(
                APOLOGY, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
    except UNDELIVERABLE as exc:
        _log.warning("could not deliver the apology either (%s)", _why(exc))


def _why(error: BaseException) -> str:
    """One line, no traceback: the failure is Discord's, and the answer's error is logged."""
    if isinstance(error, discord.RateLimited):
        return f"rate limited for {error.retry_after:.0f}s"
    return f"{type(error).__name__}: {error}"[:200]
