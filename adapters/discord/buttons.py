"""Persistent buttons: custom ids carry everything, so they work after a restart.

A click is handed to the client (``ButtonAnswerer``): the suggestion's entry, the vote
with the entries it is about, or the reason a 👎 chose (``ReasonSelect``, offered to the
voter alone after the vote; it opens ``note_form.NoteForm`` for an optional note).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from adapters.discord.library import discord
from adapters.discord.rendering import BUTTON_LABEL_LIMIT, CUSTOM_ID_LIMIT, ButtonSpec, Outgoing, clip
from bot.votes import REASONS

__all__ = [
    "SHARE_ID",
    "ButtonAnswerer",
    "FeedbackButton",
    "ReasonSelect",
    "ShareButton",
    "SuggestionButton",
    "message_kwargs",
    "question_from",
]

_FEEDBACK_PREFIX = "briefbot:fb:"
_SUGGESTION_PREFIX = "briefbot:sg:"
_REASON_PREFIX = "briefbot:why:"
SHARE_ID = "briefbot:share"
_ENTRY_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"


@runtime_checkable
class ButtonAnswerer(Protocol):
    """What a click is handed to (``BriefbotClient``)."""

    async def on_suggestion(self, interaction: discord.Interaction[Any], entry_id: str) -> None: ...
    async def on_feedback(
        self, interaction: discord.Interaction[Any], entry_ids: tuple[str, ...], helpful: bool
    ) -> None: ...
    async def on_share(self, interaction: discord.Interaction[Any]) -> None: ...
    async def on_reason(self, interaction: discord.Interaction[Any], entry_ids: tuple[str, ...]) -> None: ...


def _ids_that_fit(prefix: str, entry_ids: Sequence[str]) -> str:
    chosen: list[str] = []
    for entry_id in entry_ids:
        candidate = ",".join([*chosen, entry_id])
        if len(prefix) + len(candidate) > CUSTOM_ID_LIMIT:
            break
        chosen.append(entry_id)
    return ",".join(chosen)


def _client_of(interaction: discord.Interaction[Any]) -> ButtonAnswerer:
    client = interaction.client
    if not isinstance(client, ButtonAnswerer):  # pragma: no cover - wiring error
        raise TypeError(f"briefbot buttons need a BriefbotClient, not {type(client).__name__}")
    return client


class SuggestionButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"^{_SUGGESTION_PREFIX}(?P<entry>{_ENTRY_ID})$",
):
    """A related entry or closest match; clicking it answers with that entry."""

    def __init__(self, entry_id: str, label: str = "More") -> None:
        super().__init__(
            discord.ui.Button(
                label=clip(label, BUTTON_LABEL_LIMIT),
                style=discord.ButtonStyle.secondary,
                custom_id=f"{_SUGGESTION_PREFIX}{entry_id}",
                row=0,
            )
        )
        self.entry_id = entry_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SuggestionButton:
        label = item.label if isinstance(item, discord.ui.Button) and item.label else "More"
        return cls(match["entry"], label)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _client_of(interaction).on_suggestion(interaction, self.entry_id)


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"^{_FEEDBACK_PREFIX}(?P<vote>[yn]):(?P<ids>{_ENTRY_ID}(?:,{_ENTRY_ID})*)$",
):
    """Helpful / not helpful; the vote is stored through ``Bot.feedback``."""

    def __init__(self, helpful: bool, entry_ids: Sequence[str]) -> None:
        prefix = f"{_FEEDBACK_PREFIX}{'y' if helpful else 'n'}:"
        super().__init__(
            discord.ui.Button(
                label="Helpful" if helpful else "Not helpful",
                emoji="👍" if helpful else "👎",
                style=discord.ButtonStyle.success if helpful else discord.ButtonStyle.secondary,
                custom_id=prefix + _ids_that_fit(prefix, entry_ids),
                row=1,
            )
        )
        self.helpful = helpful
        self.entry_ids = tuple(entry_ids)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> FeedbackButton:
        return cls(match["vote"] == "y", match["ids"].split(","))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _client_of(interaction).on_feedback(interaction, self.entry_ids, self.helpful)


class ReasonSelect(
    discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]],
    template=rf"^{_REASON_PREFIX}(?P<ids>{_ENTRY_ID}(?:,{_ENTRY_ID})*)$",
):
    """What was wrong with an answer voted 👎: one of ``bot.votes.REASONS``. The chosen
    value arrives in the interaction's data, hostile like any input: the client checks it."""

    def __init__(self, entry_ids: Sequence[str]) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=_REASON_PREFIX + _ids_that_fit(_REASON_PREFIX, entry_ids),
                placeholder="The answer was…",
                options=[discord.SelectOption(label=label, value=value) for value, label in REASONS.items()],
                min_values=1,
                max_values=1,
                row=0,
            )
        )
        self.entry_ids = tuple(entry_ids)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ReasonSelect:
        return cls(match["ids"].split(","))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _client_of(interaction).on_reason(interaction, self.entry_ids)


class ShareButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=rf"^{SHARE_ID}$"):
    """ "Share in channel" under a private answer: posts it for everyone, attributed to the
    sharer. Everything it shares is the message it sits on, so it needs no state."""

    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="Share in channel",
                emoji="📣",
                style=discord.ButtonStyle.primary,
                custom_id=SHARE_ID,
                row=2,
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ShareButton:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _client_of(interaction).on_share(interaction)


def _view(specs: Sequence[ButtonSpec]) -> discord.ui.View | None:
    if not specs:
        return None
    view = discord.ui.View(timeout=None)
    for spec in specs:
        if spec.kind == "suggestion":
            view.add_item(SuggestionButton(spec.entry_ids[0], spec.label))
        elif spec.kind == "share":
            view.add_item(ShareButton())
        elif spec.kind == "reasons":
            view.add_item(ReasonSelect(spec.entry_ids))
        else:
            view.add_item(FeedbackButton(spec.kind == "helpful", spec.entry_ids))
    return view


def message_kwargs(message: Outgoing) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none()}
    if message.content is not None:
        kwargs["content"] = message.content
    if message.embed is not None:
        kwargs["embed"] = message.embed
    view = _view(message.buttons)
    if view is not None:
        kwargs["view"] = view
    return kwargs


def question_from(message: discord.Message | None) -> str:
    """What was asked, read back from the embed the buttons sit under."""
    if message is None or not message.embeds:
        return ""
    embed = message.embeds[0]
    if embed.author and embed.author.name:
        return embed.author.name.strip("“”")
    return embed.title or ""
