"""Rendering: a ``Reply`` as Discord messages (pure, no network).

Embeds (answer, source and "as of" footer) or plain text, split within Discord's limits,
with the buttons to attach to the last message. Every length is counted as Discord may
count it, in UTF-16 code units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from adapters.discord.library import discord
from bot.messages import Reply

__all__ = [
    "BUTTON_LABEL_LIMIT",
    "CHOICES_MAX",
    "CHOICE_LIMIT",
    "CONTENT_LIMIT",
    "CUSTOM_ID_LIMIT",
    "EMBED_DESCRIPTION_LIMIT",
    "EMBED_TOTAL_LIMIT",
    "MAX_MESSAGES_PER_REPLY",
    "ButtonSpec",
    "Outgoing",
    "clip",
    "render_reply",
    "split_text",
    "units",
]

# Discord's limits (https://discord.com/developers/docs/resources/message).
CONTENT_LIMIT = 2000
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_TITLE_LIMIT = 256
EMBED_AUTHOR_LIMIT = 256
EMBED_FOOTER_LIMIT = 2048
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FIELDS_MAX = 25
EMBED_TOTAL_LIMIT = 6000
BUTTON_LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100
CHOICES_MAX = 25
CHOICE_LIMIT = 100

# Beyond this a reply is cut short rather than flooding a channel.
MAX_MESSAGES_PER_REPLY = 10
# Fields beyond this many characters go into the description instead.
FIELDS_BUDGET = 1500

COLOUR_ANSWER = discord.Colour(0x1F4E99)
COLOUR_QUIET = discord.Colour(0x99AAB5)


def units(text: str) -> int:
    """Length as Discord may count it (UTF-16 code units); never less than ``len``."""
    return len(text.encode("utf-16-le")) // 2


def fitting(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` units (a binary search)."""
    low, high = 0, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if units(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def clip(text: str, limit: int) -> str:
    if units(text) <= limit:
        return text
    return text[: fitting(text, limit - 1)].rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, broken at line ends, else between words.

    A single word longer than the limit (a URL, say) is the only thing ever cut mid-way.
    """
    pieces: list[str] = []
    rest = text.strip()
    while units(rest) > limit:
        end = fitting(rest, limit)
        window = rest[:end]
        cut = window.rfind("\n")
        if cut < end // 3:
            cut = window.rfind(" ")
        if cut < end // 3:
            cut = end
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


@dataclass(frozen=True)
class ButtonSpec:
    """A button to attach; turned into a persistent ``DynamicItem`` when sent."""

    kind: str  # "suggestion" | "helpful" | "not-helpful" | "share" | "reasons" (a select)
    label: str
    entry_ids: tuple[str, ...]


@dataclass(frozen=True)
class Outgoing:
    """One Discord message: plain content or one embed, and buttons (last message only)."""

    content: str | None = None
    embed: discord.Embed | None = None
    buttons: tuple[ButtonSpec, ...] = field(default=())


def _is_plain(reply: Reply) -> bool:
    """Short notices read best as ordinary text; answers, lists and digests as embeds."""
    return (
        reply.kind in ("usage", "refusal", "info")
        and reply.title is None
        and not reply.fields
        and not reply.suggestions
        and not reply.feedback
    )


def _buttons(reply: Reply) -> tuple[ButtonSpec, ...]:
    specs = [ButtonSpec("suggestion", s.title, (s.entry_id,)) for s in reply.suggestions[:5]]
    if reply.feedback and reply.entry_ids:
        specs.append(ButtonSpec("helpful", "Helpful", reply.entry_ids))
        specs.append(ButtonSpec("not-helpful", "Not helpful", reply.entry_ids))
    return tuple(specs)


def _echo_line(echo: str) -> str:
    return clip(f"“{' '.join(echo.split())}”", EMBED_AUTHOR_LIMIT)


def render_reply(reply: Reply, *, echo: str | None = None) -> list[Outgoing]:
    """The messages that carry ``reply``; ``echo`` repeats what the user asked above it."""
    buttons = _buttons(reply)
    texts = [p for p in reply.parts if p.strip()] or [reply.text or "…"]
    if _is_plain(reply):
        pieces = [piece for text in texts for piece in split_text(text, CONTENT_LIMIT)]
        pieces = _cap(pieces, CONTENT_LIMIT)
        messages = [Outgoing(content=piece) for piece in pieces]
        messages[-1] = Outgoing(content=messages[-1].content, buttons=buttons)
        return messages

    title = clip(reply.title, EMBED_TITLE_LIMIT) if reply.title else None
    author = _echo_line(echo) if echo and echo.strip() else None
    footer = clip(reply.source_line, EMBED_FOOTER_LIMIT) if reply.source_line else None
    fields, overflow = _fit_fields(reply.fields)
    if overflow:
        texts[-1] = texts[-1] + "\n\n" + "\n".join(overflow)
    overhead = sum(units(x) for x in (title or "", author or "", footer or ""))
    overhead += sum(units(name) + units(value) for name, value, _ in fields)
    limit = max(500, min(EMBED_DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - overhead - 10))
    pieces = _cap([piece for text in texts for piece in split_text(text, limit)], limit)
    colour = COLOUR_QUIET if reply.kind in ("abstain", "usage", "refusal") else COLOUR_ANSWER

    messages = []
    for index, piece in enumerate(pieces):
        first, last = index == 0, index == len(pieces) - 1
        embed = discord.Embed(description=piece, colour=colour, title=title if first else None)
        if first and author:
            embed.set_author(name=author)
        if last:
            for name, value, inline in fields:
                embed.add_field(name=name, value=value, inline=inline)
            if footer:
                embed.set_footer(text=footer)
        messages.append(Outgoing(embed=embed, buttons=buttons if last else ()))
    return messages


def _fit_fields(
    fields: Sequence[tuple[str, str]],
) -> tuple[list[tuple[str, str, bool]], list[str]]:
    kept: list[tuple[str, str, bool]] = []
    overflow: list[str] = []
    used = 0
    for name, value in fields:
        name = clip(name or "·", EMBED_FIELD_NAME_LIMIT)
        value = value or "·"
        size = units(name) + units(value)
        if (
            len(kept) < EMBED_FIELDS_MAX
            and units(value) <= EMBED_FIELD_VALUE_LIMIT
            and used + size <= FIELDS_BUDGET
        ):
            kept.append((name, value, units(value) <= 40))
            used += size
        else:
            overflow.append(f"**{name}**: {value}")
    return kept, overflow


def _cap(pieces: list[str], limit: int) -> list[str]:
    """At most MAX_MESSAGES_PER_REPLY pieces; the last says that the rest was left out."""
    if not pieces:
        return ["…"]
    if len(pieces) <= MAX_MESSAGES_PER_REPLY:
        return pieces
    note = "\n…(cut short: ask for a narrower range or topic)"
    kept = pieces[:MAX_MESSAGES_PER_REPLY]
    kept[-1] = clip(kept[-1], limit - units(note)) + note
    return kept
