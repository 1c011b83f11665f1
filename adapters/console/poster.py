"""The console's ``Poster``: it prints what the scheduler posts, so the whole digest path
(store, claim, post, done) runs without a chat platform (`briefbot digest run-due`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from adapters.console.rendering import render_reply
from bot.messages import Reply

if TYPE_CHECKING:  # the digest machinery loads only when digests run
    from bot.digests.poster import ChannelRef

__all__ = ["PLATFORM", "ConsolePoster"]

PLATFORM = "console"


class ConsolePoster:
    """Prints each post with the channel it was meant for."""

    platform = PLATFORM
    # A terminal takes any length; parts this long keep a long digest in pieces a
    # screen can show, numbered as on the chat platforms.
    message_limit = 3000

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        self.out.write(f"--> {channel.platform}:{channel.channel}\n{render_reply(reply)}\n\n")
        self.out.flush()
