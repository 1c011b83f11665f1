"""Discord: the `/nato` slash commands, @mentions and DMs, buttons and scheduled digests.

Like every adapter it only translates. A slash command, a mention or a DM becomes a
``Request`` for ``Bot.dispatch``; the ``Reply`` becomes embeds (answer, source and "as of"
footer) or plain text, split within Discord's limits, with persistent buttons for
suggestions and helpful / not-helpful feedback. Every message pings nobody.

Running it needs only the default gateway intents: Discord delivers the content of DMs
and of messages that mention the bot without the privileged message-content intent.

Core calls (``Bot.dispatch``, ``Bot.feedback``, ``Bot.answer_entry``) run in order on one
worker thread, so the event loop keeps heartbeating, and an interaction whose answer takes
longer than ``DEFER_AFTER`` seconds is deferred before Discord's three-second deadline.
Autocomplete runs beside them, so a keystroke never waits behind a slow command.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import warnings
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlencode, urlsplit

import aiohttp
import yarl

from adapters.core_thread import CoreThread
from adapters.in_flight import InFlight
from bot.digests.compose import DIGEST_KINDS, TITLE_MAX
from bot.digests.poster import ChannelRef, PostError
from bot.digests.scheduler import Scheduler
from bot.dispatch import Bot
from bot.errors import ConfigError
from bot.grammar import commands as grammar
from bot.grammar.intents import Help, Intent, Topics
from bot.knowledge.base import TOPICS, Entry, PartialDate
from bot.messages import Reply, Request
from bot.ops.config import Config

with warnings.catch_warnings():
    # discord.py imports the standard library's audioop for voice, which we never use;
    # it is deprecated since Python 3.11 and must not turn into an error under -W error.
    warnings.filterwarnings("ignore", message="'audioop' is deprecated", category=DeprecationWarning)
    import discord
    from discord import app_commands

# briefbot has no voice; discord.py's start-up warnings about voice libraries are noise.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

__all__ = [
    "DEFER_AFTER",
    "INVITE_PERMISSIONS",
    "BriefbotClient",
    "DiscordPoster",
    "DiscordService",
    "DiscordSettings",
    "FeedbackButton",
    "Outgoing",
    "SuggestionButton",
    "discord_endpoints",
    "invite_url",
    "render_reply",
    "serve",
    "split_text",
    "sync_commands",
]

_log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

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
# Discord allows three seconds to answer an interaction; defer well before that.
DEFER_AFTER = 2.0
# A REST call asked to wait longer than this raises instead of sleeping (posters retry later).
MAX_RATELIMIT_WAIT = 30.0
# How long closing waits for a digest post in flight.
SCHEDULER_STOP_WAIT = 10.0

# View Channels, Send Messages, Send Messages in Threads, Embed Links, Read Message History.
INVITE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 38) | (1 << 14) | (1 << 16)

APOLOGY = "Sorry, something went wrong on my side answering that. It has been logged."
RESTARTING = "briefbot is restarting; please ask again in a minute."
COLOUR_ANSWER = discord.Colour(0x1F4E99)
COLOUR_QUIET = discord.Colour(0x99AAB5)

_FEEDBACK_PREFIX = "briefbot:fb:"
_SUGGESTION_PREFIX = "briefbot:sg:"
_ENTRY_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"


# ---------------------------------------------------------------------------
# Rendering: Reply -> Discord messages (pure, no network)
# ---------------------------------------------------------------------------


def _units(text: str) -> int:
    """Length as Discord may count it (UTF-16 code units); never less than ``len``."""
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` units (a binary search)."""
    low, high = 0, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if _units(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _clip(text: str, limit: int) -> str:
    if _units(text) <= limit:
        return text
    return text[: _fitting(text, limit - 1)].rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, broken at line ends, else between words.

    A single word longer than the limit (a URL, say) is the only thing ever cut mid-way.
    """
    pieces: list[str] = []
    rest = text.strip()
    while _units(rest) > limit:
        end = _fitting(rest, limit)
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

    kind: str  # "suggestion" | "helpful" | "not-helpful"
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
    return _clip(f"“{' '.join(echo.split())}”", EMBED_AUTHOR_LIMIT)


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

    title = _clip(reply.title, EMBED_TITLE_LIMIT) if reply.title else None
    author = _echo_line(echo) if echo and echo.strip() else None
    footer = _clip(reply.source_line, EMBED_FOOTER_LIMIT) if reply.source_line else None
    fields, overflow = _fit_fields(reply.fields)
    if overflow:
        texts[-1] = texts[-1] + "\n\n" + "\n".join(overflow)
    overhead = sum(_units(x) for x in (title or "", author or "", footer or ""))
    overhead += sum(_units(name) + _units(value) for name, value, _ in fields)
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
        name = _clip(name or "·", EMBED_FIELD_NAME_LIMIT)
        value = value or "·"
        size = _units(name) + _units(value)
        if (
            len(kept) < EMBED_FIELDS_MAX
            and _units(value) <= EMBED_FIELD_VALUE_LIMIT
            and used + size <= FIELDS_BUDGET
        ):
            kept.append((name, value, _units(value) <= 40))
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
    kept[-1] = _clip(kept[-1], limit - _units(note)) + note
    return kept


# ---------------------------------------------------------------------------
# Persistent buttons: custom ids carry everything, so they work after a restart
# ---------------------------------------------------------------------------


def _ids_that_fit(prefix: str, entry_ids: Sequence[str]) -> str:
    chosen: list[str] = []
    for entry_id in entry_ids:
        candidate = ",".join([*chosen, entry_id])
        if len(prefix) + len(candidate) > CUSTOM_ID_LIMIT:
            break
        chosen.append(entry_id)
    return ",".join(chosen)


def _client_of(interaction: discord.Interaction[Any]) -> BriefbotClient:
    client = interaction.client
    if not isinstance(client, BriefbotClient):  # pragma: no cover - wiring error
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
                label=_clip(label, BUTTON_LABEL_LIMIT),
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


def _view(specs: Sequence[ButtonSpec]) -> discord.ui.View | None:
    if not specs:
        return None
    view = discord.ui.View(timeout=None)
    for spec in specs:
        if spec.kind == "suggestion":
            view.add_item(SuggestionButton(spec.entry_ids[0], spec.label))
        else:
            view.add_item(FeedbackButton(spec.kind == "helpful", spec.entry_ids))
    return view


def _message_kwargs(message: Outgoing) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none()}
    if message.content is not None:
        kwargs["content"] = message.content
    if message.embed is not None:
        kwargs["embed"] = message.embed
    view = _view(message.buttons)
    if view is not None:
        kwargs["view"] = view
    return kwargs


def _question_from(message: discord.Message | None) -> str:
    """What was asked, read back from the embed the buttons sit under."""
    if message is None or not message.embeds:
        return ""
    embed = message.embeds[0]
    if embed.author and embed.author.name:
        return embed.author.name.strip("“”")
    return embed.title or ""


# ---------------------------------------------------------------------------
# The /nato command group
# ---------------------------------------------------------------------------

TOPIC_CHOICES = [app_commands.Choice(name=topic.replace("-", " "), value=topic) for topic in TOPICS]

# Years the timeline options accept; the grammar only reads 19xx and 20xx.
_FIRST_YEAR = 1950
_LAST_YEAR = 2098


def as_typed(command: str, options: Mapping[str, object]) -> str:
    """How a command with typed options reads in the record: `timeline year:2022 firsts:True`."""
    given = [f"{name}:{value}" for name, value in options.items() if value is not None and value is not False]
    return " ".join([command, *given])


def _choice_value(entry: Entry) -> str:
    """The shortest name that still identifies the entry, within Discord's 100 characters."""
    for name in (entry.title, *entry.aliases):
        if len(name) <= CHOICE_LIMIT:
            return name
    return entry.title[:CHOICE_LIMIT]


DIGEST_KIND_CHOICES = [app_commands.Choice(name=kind, value=kind) for kind in DIGEST_KINDS]
_PERIOD_CHOICES = ("week", "month", "year")


def digest_arg_choices(kind: str, current: str) -> list[app_commands.Choice[str]]:
    """Suggestions for a digest's argument: topics for `topic`, ranges for `period`."""
    typed = current.strip().casefold()
    if kind == "topic":
        names = [t for t in TOPICS if typed in t]
    elif kind == "period":
        names = [p for p in _PERIOD_CHOICES if p.startswith(typed)] or ([current.strip()] if typed else [])
    else:
        names = []
    return [app_commands.Choice(name=n, value=n) for n in names[:CHOICES_MAX]]


@functools.cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def zone_choices(current: str) -> list[app_commands.Choice[str]]:
    """IANA zones matching what was typed; city names count ("tokyo" finds Asia/Tokyo)."""
    typed = current.strip().casefold().replace(" ", "_")
    if not typed:
        names = ["UTC", "Europe/Brussels", "Asia/Tokyo", "America/New_York", "Europe/London"]
    else:
        zones = _zones()
        starts = [
            z
            for z in zones
            if z.casefold().startswith(typed) or z.rsplit("/", 1)[-1].casefold().startswith(typed)
        ]
        contains = [z for z in zones if typed in z.casefold() and z not in starts]
        names = (starts + contains)[:CHOICES_MAX]
    return [app_commands.Choice(name=z, value=z) for z in names]


@app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
@app_commands.allowed_installs(guilds=True, users=False)
class NatoCommands(app_commands.Group, name="nato"):
    """The shared `/nato` grammar as Discord subcommands; typed options build its intents."""

    digest = app_commands.Group(name="digest", description="Scheduled digests of milestones in this channel")

    def __init__(self, adapter: BriefbotClient) -> None:
        # The notes' end comes from the knowledge base, as of when the commands are built.
        end = adapter.core.engine.kb.notes_end.human()
        super().__init__(description=f"NATO–Japan briefing notes (to {end})")
        self.who.description = f"Who someone is, as of {end}."
        self.adapter = adapter

    def _notes_end(self) -> PartialDate:
        return self.adapter.core.engine.kb.notes_end

    @app_commands.command()
    @app_commands.describe(question="Your question, e.g. when did Japan join the NATO cyber centre?")
    async def ask(
        self, interaction: discord.Interaction[Any], question: app_commands.Range[str, 1, 500]
    ) -> None:
        """Ask a question; the answer cites its source paragraph."""
        intent = grammar.ask(question)
        await self.adapter.answer_command(interaction, intent, f"ask {question}", echo=question)

    @app_commands.command()
    @app_commands.describe(
        year="Only this year",
        start="First year of a range",
        end="Last year of a range",
        topic="Only milestones on this topic",
        firsts="Only the historic firsts",
    )
    @app_commands.rename(start="from", end="to")
    @app_commands.choices(topic=TOPIC_CHOICES)
    async def timeline(
        self,
        interaction: discord.Interaction[Any],
        year: app_commands.Range[int, _FIRST_YEAR, _LAST_YEAR] | None = None,
        start: app_commands.Range[int, _FIRST_YEAR, _LAST_YEAR] | None = None,
        end: app_commands.Range[int, _FIRST_YEAR, _LAST_YEAR] | None = None,
        topic: app_commands.Choice[str] | None = None,
        firsts: bool = False,
    ) -> None:
        """Dated milestones, by year, range or topic."""
        chosen = topic.value if topic else None
        intent = grammar.timeline_options(
            self._notes_end(), year=year, start=start, end=end, topic=chosen, firsts=firsts
        )
        options = {"year": year, "from": start, "to": end, "topic": chosen, "firsts": firsts}
        await self.adapter.answer_command(interaction, intent, as_typed("timeline", options))

    @app_commands.command()
    @app_commands.describe(name="A person named in the notes")
    async def who(self, interaction: discord.Interaction[Any], name: app_commands.Range[str, 1, 100]) -> None:
        """Who someone is, as of the notes' end (set from the knowledge base in ``__init__``)."""
        intent = grammar.who(name, self._notes_end())
        await self.adapter.answer_command(interaction, intent, f"who {name}", echo=f"/nato who {name}")

    @who.autocomplete("name")
    async def _who_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.adapter.suggest(current, ("person",))

    @app_commands.command()
    @app_commands.describe(term="An organisation, programme or acronym")
    async def define(
        self, interaction: discord.Interaction[Any], term: app_commands.Range[str, 1, 100]
    ) -> None:
        """What an organisation, programme or acronym is."""
        intent = grammar.define(term, self._notes_end())
        await self.adapter.answer_command(interaction, intent, f"define {term}", echo=f"/nato define {term}")

    @define.autocomplete("term")
    async def _define_terms(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.adapter.suggest(current, ("term",))

    @app_commands.command()
    async def topics(self, interaction: discord.Interaction[Any]) -> None:
        """The topics I can brief on."""
        await self.adapter.answer_command(interaction, Topics(), "topics")

    @app_commands.command(name="help")
    async def help_(self, interaction: discord.Interaction[Any]) -> None:
        """How to use briefbot."""
        await self.adapter.answer_command(interaction, Help(), "help")

    @digest.command()
    @app_commands.describe(
        kind="month: this month across the years; period: a date range; topic: one topic; new: additions",
        schedule="daily 09:00, weekly mon 09:00, monthly 1 09:00, or cron such as 0 9 * * mon-fri",
        arg="For topic: which topic. For period: week, month, year, 2022 or 2019-06..2021-12",
        timezone="An IANA time zone such as Europe/Brussels or Asia/Tokyo (default UTC)",
    )
    @app_commands.choices(kind=DIGEST_KIND_CHOICES)
    async def subscribe(
        self,
        interaction: discord.Interaction[Any],
        kind: app_commands.Choice[str],
        schedule: app_commands.Range[str, 1, 100],
        arg: app_commands.Range[str, 1, 60] | None = None,
        timezone: app_commands.Range[str, 1, 60] | None = None,
    ) -> None:
        """Post milestone digests in this channel (needs Manage Channels)."""
        args = " ".join(w for w in ["subscribe", kind.value, arg or "", schedule, timezone or ""] if w)
        await self.adapter.answer_command(interaction, grammar.digest(args), f"digest {args}")

    @subscribe.autocomplete("arg")
    async def _subscribe_arg(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return digest_arg_choices(str(interaction.namespace.kind or ""), current)

    @subscribe.autocomplete("timezone")
    async def _subscribe_zone(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return zone_choices(current)

    @digest.command(name="list")
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        """This channel's digest subscriptions, with their ids."""
        await self.adapter.answer_command(interaction, grammar.digest("list"), "digest list")

    @digest.command()
    @app_commands.describe(subscription="The id from /nato digest list")
    @app_commands.rename(subscription="id")
    async def unsubscribe(
        self, interaction: discord.Interaction[Any], subscription: app_commands.Range[int, 1]
    ) -> None:
        """Stop one of this channel's digests (needs Manage Channels)."""
        args = f"unsubscribe {subscription}"
        await self.adapter.answer_command(interaction, grammar.digest(args), f"digest {args}")

    @digest.command()
    @app_commands.describe(
        kind="Which digest to preview", arg="For topic: which topic. For period: the range"
    )
    @app_commands.choices(kind=DIGEST_KIND_CHOICES)
    async def now(
        self,
        interaction: discord.Interaction[Any],
        kind: app_commands.Choice[str],
        arg: app_commands.Range[str, 1, 60] | None = None,
    ) -> None:
        """A private preview of a digest, right now."""
        args = f"now {kind.value} {arg or ''}".strip()
        await self.adapter.answer_command(interaction, grammar.digest(args), f"digest {args}")

    @now.autocomplete("arg")
    async def _now_arg(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return digest_arg_choices(str(interaction.namespace.kind or ""), current)


class BriefbotTree(app_commands.CommandTree["BriefbotClient"]):
    """The command tree; its error hook is the boundary every command failure stops at."""

    async def on_error(
        self, interaction: discord.Interaction[BriefbotClient], error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            _log.warning("Discord sent an out-of-date command (%s); run `briefbot discord sync`", error)
        else:
            cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
            command = interaction.command.qualified_name if interaction.command else "?"
            _log.error("/%s failed", command, exc_info=cause)
        await _apologise(interaction)


async def _apologise(interaction: discord.Interaction[Any]) -> None:
    try:
        if interaction.response.is_done():
            await interaction.followup.send(
                APOLOGY, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
        else:
            await interaction.response.send_message(
                APOLOGY, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
    except (discord.HTTPException, aiohttp.ClientError, OSError):
        _log.warning("could not deliver the apology either", exc_info=True)


# ---------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------


class BriefbotClient(discord.Client):
    """discord.py client translating between Discord and one ``Bot``."""

    def __init__(self, core: Bot, *, defer_after: float = DEFER_AFTER, **options: Any) -> None:
        options.setdefault("max_ratelimit_timeout", MAX_RATELIMIT_WAIT)
        super().__init__(
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.core = core
        self.tree = BriefbotTree(self)
        self.tree.add_command(NatoCommands(self))
        self.poster = DiscordPoster(self)
        # Set before start to post scheduled digests (it needs ``self.poster``).
        self.scheduler: Scheduler | None = None
        self.defer_after = defer_after
        self._scheduler_task: asyncio.Task[None] | None = None
        # One thread: the core is sync, and one worker keeps its calls in order.
        self._core_thread = CoreThread()
        # Shutting down: answers in flight finish, new requests get a polite "restarting".
        self.draining = False
        self._in_flight = InFlight()

    async def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait for the requests being answered to finish; False if some still were."""
        return await self._in_flight.wait_idle(timeout)

    async def _decline(self, interaction: discord.Interaction[Any]) -> None:
        with contextlib.suppress(discord.HTTPException, aiohttp.ClientError, OSError):
            await interaction.response.send_message(
                RESTARTING, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )

    # -- lifecycle -------------------------------------------------------------

    async def setup_hook(self) -> None:
        self.add_dynamic_items(SuggestionButton, FeedbackButton)
        if self.scheduler is not None:
            self._scheduler_task = asyncio.create_task(
                self._run_scheduler(self.scheduler), name="briefbot-digests"
            )

    async def close(self) -> None:
        task, self._scheduler_task = self._scheduler_task, None
        if task is not None:
            await self._stop_scheduler(task)
        await super().close()
        self._core_thread.close()

    async def _stop_scheduler(self, task: asyncio.Task[None]) -> None:
        if self.scheduler is not None and self.is_ready():
            # Let a post in flight finish (the scheduler never cuts one midway), within reason.
            self.scheduler.stop()
            await asyncio.wait({task}, timeout=SCHEDULER_STOP_WAIT)
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
        error = None if task.cancelled() else task.exception()
        if error is not None:
            _log.error("the digest scheduler failed", exc_info=error)

    async def on_ready(self) -> None:
        _log.info("connected as %s to %d server(s)", self.user, len(self.guilds))

    async def run_core(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a sync core call on the core thread."""
        return await self._core_thread.run(fn, *args, **kwargs)

    async def _run_scheduler(self, scheduler: Scheduler) -> None:
        # Posts need a logged-in client; waiting for READY also avoids a burst at start-up.
        await self.wait_until_ready()
        await scheduler.run_forever()

    # -- slash commands --------------------------------------------------------

    def request_for(
        self, interaction: discord.Interaction[Any], text: str, intent: Intent | None = None
    ) -> Request:
        in_guild = interaction.guild_id is not None
        return Request(
            platform="discord",
            user=str(interaction.user.id),
            channel=str(interaction.channel_id or ""),
            text=text,
            is_command=True,
            intent=intent,
            workspace=str(interaction.guild_id) if in_guild else "",
            # In a DM the user is the only member of the channel they would manage.
            user_is_manager=_may_manage(interaction.permissions) if in_guild else True,
        )

    async def answer_command(
        self, interaction: discord.Interaction[Any], intent: Intent, text: str, echo: str | None = None
    ) -> None:
        """Dispatch a `/nato …` command, ``intent`` built from its typed options (``text`` is how
        it reads, for the record), and send the reply (deferred first if the core is slow)."""
        if self.draining:
            await self._decline(interaction)
            return
        with self._in_flight.working():
            request = self.request_for(interaction, text, intent)
            # If it comes to deferring, the visibility must be chosen before the reply exists:
            # commands that usually answer privately defer privately.
            reply = await self.within_deadline(interaction, intent.private, self.core.dispatch, request)
            await self.send_to_interaction(
                interaction, reply, echo=echo if reply.kind in ("answer", "abstain") else None
            )

    async def within_deadline(
        self,
        interaction: discord.Interaction[Any],
        private: bool,
        fn: Callable[P, Reply],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Reply:
        """Run a core call; if it outlasts ``defer_after``, defer the interaction meanwhile.

        Discord drops an interaction not acknowledged within three seconds. Answers take
        milliseconds; only a busy store or a large digest ever gets here.
        """
        pending = asyncio.ensure_future(self.run_core(fn, *args, **kwargs))
        done, _ = await asyncio.wait({pending}, timeout=self.defer_after)
        if not done:
            await interaction.response.defer(thinking=True, ephemeral=private)
        return await pending

    async def send_to_interaction(
        self, interaction: discord.Interaction[Any], reply: Reply, echo: str | None = None
    ) -> None:
        ephemeral = reply.ephemeral
        for message in render_reply(reply, echo=echo):
            kwargs = _message_kwargs(message)
            if not interaction.response.is_done():
                await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
            else:
                await interaction.followup.send(ephemeral=ephemeral, **kwargs)

    async def suggest(self, current: str, kinds: tuple[str, ...]) -> list[app_commands.Choice[str]]:
        """Autocomplete choices, ranked by the engine; a failure offers none rather than an error."""
        try:
            # Not on the core thread: a keystroke must never queue behind a slow command.
            entries = await asyncio.to_thread(self.core.engine.suggest, current, kinds, CHOICES_MAX)
        except Exception:
            _log.exception("autocomplete failed for %r", current[:40])
            return []
        return [
            app_commands.Choice(name=_clip(e.title, CHOICE_LIMIT), value=_choice_value(e))
            for e in entries[:CHOICES_MAX]
        ]

    # -- buttons ---------------------------------------------------------------

    async def on_suggestion(self, interaction: discord.Interaction[Any], entry_id: str) -> None:
        if self.draining:
            await self._decline(interaction)
            return
        with self._in_flight.working():
            try:
                reply = await self.within_deadline(interaction, True, self.core.answer_entry, entry_id)
                # The answer is for whoever clicked; the channel already saw the question.
                await self.send_to_interaction(interaction, replace(reply, ephemeral=True))
            except Exception:
                _log.exception("suggestion button %r failed", entry_id)
                await _apologise(interaction)

    async def on_feedback(
        self, interaction: discord.Interaction[Any], entry_ids: tuple[str, ...], helpful: bool
    ) -> None:
        if self.draining:
            await self._decline(interaction)
            return
        with self._in_flight.working():
            try:
                request = self.request_for(interaction, "")
                question = _question_from(interaction.message)
                reply = await self.within_deadline(
                    interaction, True, self.core.feedback, request, entry_ids, question, helpful
                )
                await self.send_to_interaction(interaction, reply)
            except Exception:
                _log.exception("feedback button failed")
                await _apologise(interaction)

    # -- mentions and DMs ------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if self.draining:
            return  # shutting down: a mention or DM is simply not taken up
        with self._in_flight.working():
            if message.author.bot or self.user is None or message.type not in _CONVERSATION:
                return
            text = self.addressed_text(message)
            if text is None:
                return
            try:
                request = Request(
                    platform="discord",
                    user=str(message.author.id),
                    channel=str(message.channel.id),
                    text=text,
                    is_command=text.startswith("/"),
                    workspace=str(message.guild.id) if message.guild else "",
                    user_is_manager=_manages_channel(message),
                )
                reply = await self.run_core(self.core.dispatch, request)
                echo = text if reply.kind in ("answer", "abstain") else None
                await self.send_to_channel(message, reply, echo=echo)
            except Exception:
                _log.exception("failed to answer a message in channel %s", message.channel.id)
                with contextlib.suppress(discord.HTTPException, aiohttp.ClientError, OSError):
                    await message.channel.send(
                        APOLOGY,
                        reference=message.to_reference(fail_if_not_exists=False),
                        allowed_mentions=discord.AllowedMentions.none(),
                    )

    def addressed_text(self, message: discord.Message) -> str | None:
        """The text meant for the bot: any DM, or a channel message that mentions it."""
        assert self.user is not None
        me = self.user.id
        role = message.guild.self_role if message.guild else None
        mentioned = any(user.id == me for user in message.mentions) or (
            role is not None and any(r.id == role.id for r in message.role_mentions)
        )
        if message.guild is not None and not mentioned:
            return None
        text = re.sub(rf"<@!?{me}>", " ", message.content)
        if role is not None:
            text = text.replace(f"<@&{role.id}>", " ")
        return " ".join(text.split())

    async def send_to_channel(self, message: discord.Message, reply: Reply, echo: str | None = None) -> None:
        reference = message.to_reference(fail_if_not_exists=False) if message.guild else None
        for index, outgoing in enumerate(render_reply(reply, echo=echo)):
            kwargs = _message_kwargs(outgoing)
            if index == 0 and reference is not None:
                kwargs["reference"] = reference
                kwargs["mention_author"] = False
            await message.channel.send(**kwargs)


_CONVERSATION = (discord.MessageType.default, discord.MessageType.reply)


def _may_manage(permissions: discord.Permissions) -> bool:
    return permissions.manage_channels or permissions.administrator


def _manages_channel(message: discord.Message) -> bool:
    if message.guild is None:
        return True
    author = message.author
    if not isinstance(author, discord.Member):
        return False
    permissions_for = getattr(message.channel, "permissions_for", None)
    if permissions_for is None:
        return _may_manage(author.guild_permissions)
    return _may_manage(permissions_for(author))


# ---------------------------------------------------------------------------
# Scheduled digests: the Poster the scheduler hands replies to
# ---------------------------------------------------------------------------


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
                await target.send(**_message_kwargs(outgoing))
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


# ---------------------------------------------------------------------------
# Start-up: endpoints, token, sync and serve
# ---------------------------------------------------------------------------


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


def _endpoint_from_env(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ConfigError(f"{name} must be a {' or '.join(schemes)} URL")
    return value


def _token_from_env(env: Mapping[str, str]) -> str:
    token = env.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise ConfigError(
            "DISCORD_TOKEN is not set: copy the bot token from the Discord developer portal "
            "(Application > Bot > Reset Token) into the DISCORD_TOKEN environment variable"
        )
    return token


def invite_url(application_id: int, permissions: int = INVITE_PERMISSIONS) -> str:
    """The link a server admin opens to add the bot, with the scopes and permissions it needs."""
    query = urlencode(
        {"client_id": application_id, "scope": "bot applications.commands", "permissions": permissions}
    )
    return f"https://discord.com/oauth2/authorize?{query}"


async def _login(client: BriefbotClient, token: str) -> None:
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
        await _login(client, token)
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
        await _login(client, token)
        await client.connect(reconnect=True)


@dataclass(frozen=True)
class DiscordSettings:
    """What the Discord adapter reads from the environment; the token never appears in repr."""

    token: str = field(repr=False)
    api_base: str | None = None
    gateway: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DiscordSettings:
        """Read and check the settings (from ``os.environ`` unless given); a missing or
        malformed one raises ConfigError naming it."""
        env = os.environ if env is None else env
        return cls(
            _token_from_env(env),
            _endpoint_from_env(env, "DISCORD_API_BASE", ("http", "https")),
            _endpoint_from_env(env, "DISCORD_GATEWAY_URL", ("ws", "wss")),
        )


class DiscordService:
    """Discord for ``adapters.runtime``: log in, keep the gateway connected, drain, close."""

    platform = "discord"

    def __init__(self, core: Bot, settings: DiscordSettings, *, ready_timeout: float = 30.0) -> None:
        self.settings = settings
        self.client = BriefbotClient(core)
        self.poster = self.client.poster
        self.ready_timeout = ready_timeout
        self._endpoints = contextlib.ExitStack()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in (a rejected token raises ConfigError) and connect; returns once READY
        or after ``ready_timeout`` (``/healthz`` says "connecting" until then)."""
        self._endpoints.enter_context(discord_endpoints(self.settings.api_base, self.settings.gateway))
        await _login(self.client, self.settings.token)
        self._task = asyncio.create_task(self.client.connect(reconnect=True), name="briefbot-discord")
        ready = asyncio.ensure_future(self.client.wait_until_ready())
        try:
            await asyncio.wait(
                {ready, self._task}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            ready.cancel()
        if self._task.done():
            self._task.result()  # the gateway refused us: raise why

    def mount(self, application: object) -> None:
        """Discord needs no route on the web server: the bot connects out to the gateway."""

    def describe(self, port: int) -> str:
        client = self.client
        line = f"answering on Discord as {client.user} in {len(client.guilds)} server(s)"
        if client.application_id is not None:
            line += f"; invite: {invite_url(client.application_id)}"
        return line

    async def connected(self) -> bool:
        client = self.client
        if not client.is_ready() or client.is_closed():
            return False
        socket = client.ws
        return socket is not None and bool(socket.open)

    async def stop_intake(self) -> None:
        self.client.draining = True

    async def drain(self, timeout: float) -> bool:
        return await self.client.wait_idle(timeout)

    async def close(self) -> None:
        try:
            await self.client.close()
            if self._task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(self._task, 10)
        finally:
            self._endpoints.close()

    async def notify_admins(self, text: str) -> None:
        """No admin list on Discord yet; the log and /healthz carry the news."""


def service_factory(config: Config, env: Mapping[str, str]) -> Callable[[Bot], DiscordService]:
    """Discord's entry in ``adapters.registry``: the settings are read and checked now, before
    anything is opened (a missing or malformed one raises ConfigError naming it)."""
    settings = DiscordSettings.from_env(env)
    return lambda bot: DiscordService(bot, settings)
