"""Which conversation a Discord message belongs to: the key ``Request.thread`` carries.

A conversation on Discord is a DM channel, or a chain of replies in a server channel: a
mention starts one (keyed by the mention's id), and a reply to one of the bot's answers
continues it. Discord's payload holds the replied-to message but not its ancestors, so the
bot remembers which conversation each of its recent answers belongs to; an answer it no
longer remembers (after a restart) is placed by the message it answered, which is the
conversation's start for the first answer of every conversation.
"""

from __future__ import annotations

from collections import OrderedDict

from adapters.discord.library import discord

__all__ = ["REMEMBERED", "Threads"]

# How many of the bot's answers it remembers the conversation of; the oldest go first.
REMEMBERED = 10_000


class Threads:
    """The conversation of each message the bot is asked and of each answer it sends."""

    def __init__(self, remembered: int = REMEMBERED) -> None:
        self._of_answer: OrderedDict[int, str] = OrderedDict()
        self._remembered = remembered

    def of(self, message: discord.Message, me: int) -> str:
        """The conversation ``message`` (a DM, a mention, a reply to the bot) belongs to."""
        if message.guild is None:
            return f"dm:{message.channel.id}"
        replied = replied_to(message, me)
        if replied is None:
            return str(message.id)  # a new question starts a conversation of its own
        known = self._of_answer.get(replied.id)
        if known is not None:
            return known
        reference = replied.reference
        if reference is not None and reference.message_id is not None:
            return str(reference.message_id)
        return str(replied.id)  # an answer to a slash command: the conversation starts there

    def answered(self, answer: discord.Message, thread: str) -> None:
        """``answer`` was sent in ``thread``: a reply to it continues that conversation."""
        self._of_answer[answer.id] = thread
        self._of_answer.move_to_end(answer.id)
        while len(self._of_answer) > self._remembered:
            self._of_answer.popitem(last=False)


def replied_to(message: discord.Message, me: int) -> discord.Message | None:
    """The bot's message ``message`` replies to, if it replies to one of the bot's."""
    reference = message.reference
    if reference is None:
        return None
    resolved = reference.resolved
    if isinstance(resolved, discord.Message) and resolved.author.id == me:
        return resolved
    return None
