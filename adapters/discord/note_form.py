"""The form a 👎's reason opens on Discord: one optional line for the curators, as Slack's
reasons modal has.

Choosing a reason in the ``ReasonSelect`` answers with this modal; sending it keeps the
reason and the note on the voter's own 👎 (``Bot.feedback_reason``, which cleans and
bounds the note with ``bot.votes.clean_note``). Closing it keeps nothing, and the select is
still there to choose again. The modal lives in discord.py's view store for ``FORM_WAIT``
seconds, and only in this process: a form opened before a restart is not taken after it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from adapters.discord.library import discord
from adapters.discord.rendering import clip
from bot.votes import NOTE_CHARS, REASONS

__all__ = ["FORM_WAIT", "NOTE_ID", "NoteForm"]

# A form left open longer than this is forgotten (its Send then fails in Discord's client).
FORM_WAIT = 15 * 60.0
NOTE_ID = "note"
_TITLE_CHARS = 45  # Discord's limit for a modal's title

# What sending the form does: (interaction, reason, note as typed).
Sent = Callable[[discord.Interaction[Any], str, str], Awaitable[None]]


class NoteForm(discord.ui.Modal):
    """ "Not helpful: <reason>" with one optional text input for a note."""

    def __init__(self, reason: str, voter: int, sent: Sent) -> None:
        super().__init__(title=clip(f"Not helpful: {REASONS[reason]}", _TITLE_CHARS), timeout=FORM_WAIT)
        self.reason = reason
        self.voter = voter
        self._sent = sent
        # Discord holds the text to max_length in its client; a forged submit is not, so
        # the core cleans and cuts it again.
        self.note: discord.ui.TextInput[NoteForm] = discord.ui.TextInput(
            style=discord.TextStyle.paragraph,
            custom_id=NOTE_ID,
            required=False,
            max_length=NOTE_CHARS,
        )
        self.add_item(
            discord.ui.Label(
                text="Anything a curator should know?",
                description=f"Optional; up to {NOTE_CHARS} characters.",
                component=self.note,
            )
        )

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        # Only the voter was shown this form; nobody else's submit annotates their vote.
        return interaction.user.id == self.voter

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self._sent(interaction, self.reason, self.note.value or "")
