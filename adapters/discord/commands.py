"""The `/nato` command group: the shared grammar as Discord subcommands.

Like a discord.py ``GroupCog``, the group keeps its commands, their options and
autocompletes together; the docstring of each command is its description in Discord. A
command builds its intent from the typed options and hands it to the client
(``CommandAnswerer``), which answers through the core.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Mapping
from typing import Any, Protocol

from adapters.discord.library import app_commands, discord
from adapters.discord.rendering import CHOICE_LIMIT, CHOICES_MAX
from bot.digests.compose import DIGEST_KINDS
from bot.dispatch import Bot
from bot.grammar import commands as grammar
from bot.grammar.intents import Help, Intent, Topics
from bot.knowledge.base import TOPICS, Entry, PartialDate

__all__ = [
    "ANSWERS_CHOICES",
    "DIGEST_KIND_CHOICES",
    "HELP_CHOICES",
    "PART_CHOICES",
    "SWITCH_CHOICES",
    "TOPIC_CHOICES",
    "CommandAnswerer",
    "NatoCommands",
    "as_typed",
    "choice_value",
    "digest_arg_choices",
    "zone_choices",
]


class CommandAnswerer(Protocol):
    """What the commands hand their intents to (``BriefbotClient``)."""

    @property
    def core(self) -> Bot: ...

    async def answer_command(
        self,
        interaction: discord.Interaction[Any],
        intent: Intent,
        text: str,
        echo: str | None = None,
        private: bool | None = None,
    ) -> None: ...
    async def suggest(self, current: str, kinds: tuple[str, ...]) -> list[app_commands.Choice[str]]: ...


TOPIC_CHOICES = [app_commands.Choice(name=topic.replace("-", " "), value=topic) for topic in TOPICS]
ANSWERS_CHOICES = [app_commands.Choice(name=v, value=v) for v in ("private", "public")]
SWITCH_CHOICES = [app_commands.Choice(name=v, value=v) for v in ("on", "off")]
PART_CHOICES = [app_commands.Choice(name=part, value=part) for part in ("early", "mid", "late")]
HELP_CHOICES = [app_commands.Choice(name=name, value=name) for name in grammar.SUBCOMMANDS]

# Years the timeline options accept; the grammar only reads 19xx and 20xx.
_FIRST_YEAR = 1950
_LAST_YEAR = 2098


def as_typed(command: str, options: Mapping[str, object]) -> str:
    """How a command with typed options reads in the record: `timeline year:2022 firsts:True`."""
    given = [f"{name}:{value}" for name, value in options.items() if value is not None and value is not False]
    return " ".join([command, *given])


def choice_value(entry: Entry) -> str:
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

    def __init__(self, adapter: CommandAnswerer) -> None:
        # The notes' end comes from the knowledge base, as of when the commands are built.
        end = adapter.core.engine.kb.notes_end.human()
        super().__init__(description=f"NATO–Japan briefing notes (to {end})")
        self.who.description = f"Who someone is, as of {end}."
        self.adapter = adapter

    def _notes_end(self) -> PartialDate:
        return self.adapter.core.engine.kb.notes_end

    @app_commands.command()
    @app_commands.describe(
        question="Your question, e.g. when did Japan join the NATO cyber centre?",
        private="Show the answer only to you (default: this channel's setting, private unless changed)",
    )
    async def ask(
        self,
        interaction: discord.Interaction[Any],
        question: app_commands.Range[str, 1, 500],
        private: bool | None = None,
    ) -> None:
        """Ask a question; the answer cites its source paragraph."""
        intent = grammar.ask(question)
        await self.adapter.answer_command(
            interaction, intent, f"ask {question}", echo=question, private=private
        )

    @app_commands.command()
    @app_commands.describe(
        answers="Answers to /nato ask: private (with a share button) or public",
        auto_answer="Answer questions posted here without a mention (confident answers only)",
        allow="The only channels I answer in on this server: #channel #channel…, or all",
    )
    @app_commands.rename(auto_answer="auto-answer")
    @app_commands.choices(answers=ANSWERS_CHOICES, auto_answer=SWITCH_CHOICES)
    async def settings(
        self,
        interaction: discord.Interaction[Any],
        answers: app_commands.Choice[str] | None = None,
        auto_answer: app_commands.Choice[str] | None = None,
        allow: app_commands.Range[str, 1, 2000] | None = None,
    ) -> None:
        """This channel's settings: shown, or changed with the options (needs Manage Channels)."""
        # Written out as the words `/nato settings …` takes, and read by the same grammar.
        words = [
            f"{name} {value}"
            for name, value in (
                ("answers", answers.value if answers else None),
                ("auto-answer", auto_answer.value if auto_answer else None),
                ("allow", allow),
            )
            if value is not None
        ]
        text = " ".join(["settings", *words])
        await self.adapter.answer_command(interaction, grammar.settings(" ".join(words)), text)

    @app_commands.command()
    @app_commands.describe(
        year="Only this year",
        start="First year of a range",
        end="Last year of a range",
        topic="Only milestones on this topic",
        firsts="Only the historic firsts",
        since="Since an event, a month or a year, e.g. madrid, february 2022, 2021",
        before="Before an event, a month or a year, e.g. vilnius, june 2023, 2014",
        part="Early, mid or late in the year given as year",
        recent="Only the notes' last twelve months",
    )
    @app_commands.rename(start="from", end="to")
    @app_commands.choices(topic=TOPIC_CHOICES, part=PART_CHOICES)
    async def timeline(
        self,
        interaction: discord.Interaction[Any],
        year: app_commands.Range[int, _FIRST_YEAR, _LAST_YEAR] | None = None,
        start: app_commands.Range[int, _FIRST_YEAR, _LAST_YEAR] | None = None,
        end: app_commands.Range[int, _FIRST_YEAR, _LAST_YEAR] | None = None,
        topic: app_commands.Choice[str] | None = None,
        firsts: bool = False,
        since: app_commands.Range[str, 1, 100] | None = None,
        before: app_commands.Range[str, 1, 100] | None = None,
        part: app_commands.Choice[str] | None = None,
        recent: bool = False,
    ) -> None:
        """Dated milestones: by year, range, topic, since or before an event, part of a year."""
        chosen = topic.value if topic else None
        within = part.value if part else None
        intent = grammar.timeline_options(
            self._notes_end(),
            self.adapter.core.engine.kb.lexicon.topic_words,
            year=year,
            start=start,
            end=end,
            topic=chosen,
            firsts=firsts,
            since=since,
            before=before,
            part=within,
            recent=recent,
        )
        options = {
            "year": year,
            "from": start,
            "to": end,
            "topic": chosen,
            "firsts": firsts,
            "since": since,
            "before": before,
            "part": within,
            "recent": recent,
        }
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
    @app_commands.describe(command="One command to explain, with examples")
    @app_commands.choices(command=HELP_CHOICES)
    async def help_(
        self, interaction: discord.Interaction[Any], command: app_commands.Choice[str] | None = None
    ) -> None:
        """How to use briefbot, or one command explained with examples."""
        name = command.value if command else ""
        await self.adapter.answer_command(interaction, Help(name), f"help {name}".strip())

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
