"""The values every layer shares: what a user said (``Request``), what the bot says back
(``Reply``) and the sinks the core writes to.

They sit at the bottom of ``bot/`` (as bolt-python keeps ``BoltRequest``/``BoltResponse``
below its dispatch), above only the values they carry (``bot.grammar.intents``): the store,
the digests and the adapters import them from here, so nothing durable depends on request
routing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.conversation import ThreadKey
from bot.grammar.intents import Intent

__all__ = ["DigestHandler", "FeedbackSink", "Reply", "Request", "Suggestion"]


@dataclass(frozen=True)
class Suggestion:
    """A related entry offered as a follow-up question (a button on chat platforms)."""

    entry_id: str
    title: str
    question: str


@dataclass(frozen=True)
class Request:
    """What a user said, wherever they said it."""

    platform: str  # "slack" | "discord" | "console"
    user: str
    channel: str
    text: str
    is_command: bool = False  # arrived as `/nato …` rather than a mention or DM
    workspace: str = ""  # Slack team or Discord guild; "" for DMs and the console
    user_is_manager: bool = False  # the adapter's verdict: may manage channel subscriptions
    # What it asks, when the adapter already knows (Discord's typed options) or has read it
    # once (``Bot.read``); None: ``Bot.dispatch`` reads ``text``.
    intent: Intent | None = None
    # The conversation it belongs to (a Slack thread's ts, a Discord reply chain, a DM, a
    # console session): with one, a follow-up is read against the thread's recent turns
    # and the answer becomes its newest. None: the message stands alone.
    thread: str | None = None
    # A direct message with the bot, not a channel: no channel settings or allow-list apply.
    direct: bool = False

    @property
    def thread_key(self) -> ThreadKey | None:
        """Where its conversation is remembered: per platform, channel and thread."""
        return None if self.thread is None else ThreadKey(self.platform, self.channel, self.thread)


@dataclass(frozen=True)
class Reply:
    """What the bot says back; adapters render it (Block Kit, embeds, plain text)."""

    text: str
    title: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    source_line: str | None = None
    suggestions: tuple[Suggestion, ...] = ()
    ephemeral: bool = False
    # answer | abstain | usage | help | refusal | digest | info | elsewhere (the channel is
    # not on the workspace's allow-list: said privately to a slash command, else not at all)
    # | silence (nothing to say: an auto-answer the notes could not give with confidence)
    kind: str = "answer"
    entry_ids: tuple[str, ...] = ()
    question: str = ""
    feedback: bool = False  # offer helpful / not helpful buttons
    parts: tuple[str, ...] = field(default=(), compare=False)  # long text pre-split by the caller
    confidence: float | None = field(default=None, compare=False)  # the engine's, for the logs


DigestHandler = Callable[[Request, str], Reply]


class FeedbackSink(Protocol):
    """Where feedback and unanswered questions go (the store implements this)."""

    def record_feedback(
        self,
        *,
        platform: str,
        workspace: str,
        channel: str,
        user: str,
        question: str,
        entry_ids: tuple[str, ...],
        helpful: bool,
    ) -> None: ...

    def record_feedback_reason(
        self,
        *,
        platform: str,
        workspace: str,
        channel: str,
        user: str,
        entry_ids: tuple[str, ...],
        reason: str,
        note: str,
    ) -> bool:
        """Give the user's 👎 on the answer with ``entry_ids`` in ``channel`` its reason (a
        key of ``bot.votes.REASONS``; any other is a ``ValueError``) and note (kept cleaned
        and bounded, ``bot.votes.clean_note``). False if there is no such vote still
        without a reason: none was recorded, it was a 👍, or it has its reason already
        (the first one given stays)."""
        ...

    def record_unanswered(
        self, *, platform: str, workspace: str, channel: str, question: str, confidence: float
    ) -> None: ...
