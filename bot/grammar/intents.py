"""What a user can ask of the bot, as values: the one intent type.

Both readers produce these values: ``bot.grammar.commands.parse_command`` for `/nato …` text
and ``bot.grammar.questions.recognise`` for a free-text question, so "who is Oana Lungescu?"
and `/nato who Oana Lungescu` are the same ``Who``. Adapters ask a value whether its reply
is ``private`` and whether it ``needs_manager`` instead of reading the text again; Discord's
typed options build a value directly. ``bot.dispatch.Bot.dispatch`` is one match over
``Intent``, and the engine answers the ``Question`` values among them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.grammar.after_notes import PRESENT
from bot.knowledge.base import MONTH_NAMES, PartialDate
from bot.text import normalise

__all__ = [
    "AfterNotes",
    "Ask",
    "ChannelRef",
    "Compare",
    "Define",
    "Digest",
    "Help",
    "Intent",
    "Question",
    "Settings",
    "Timeline",
    "TimelineQuery",
    "Topics",
    "Usage",
    "Who",
]

# The digest subcommands that change a channel's subscriptions: managers only.
_MANAGING = frozenset({"subscribe", "unsubscribe", "cancel", "remove"})

# What a name after "who is" and a term after "what is" come to (normalised text): a name
# typed after `/nato who` and one asked in a question are one request however written.
_NAME = re.compile(r"^(?:the\s+)?(?P<name>.+)$")
_TERM = re.compile(
    r"^(?:the\s+|an?\s+)?(?P<term>.+?)"
    r"(?:\s+(?:stand for|stands for|mean|means|short for|acronym|abbreviation))?$"
)


class _Intent:
    """What every intent answers, so that adapters never read the text a second time."""

    __slots__ = ()

    @property
    def private(self) -> bool:
        """Its reply is shown only to the asker (Discord must know before the reply exists)."""
        return False

    @property
    def needs_manager(self) -> bool:
        """Only a channel's managers may do it: the adapter must find out whether the user is one."""
        return False


@dataclass(frozen=True)
class TimelineQuery:
    """Which milestones a timeline lists; every filter is optional."""

    start: int | None = None
    end: int | None = None
    topic: str | None = None
    firsts: bool = False
    month: int | None = None  # with start == end: one month of one year
    also_topics: tuple[str, ...] = ()  # "china and russia timeline": either topic
    about: tuple[str, ...] = ()  # other words that narrow it: "liaison office timeline"
    # Date bounds, both exclusive, for "early 2022", "since February 2022" and events.
    after: PartialDate | None = None
    before: PartialDate | None = None
    # "since Madrid", "leading up to Vilnius": words naming the milestone the timeline
    # starts after or ends before; the engine finds it and sets ``after``/``before``.
    since_event: tuple[str, ...] = ()
    until_event: tuple[str, ...] = ()
    period: str = ""  # how the bounds read when the user named them: "since madrid (June 2022)"

    @property
    def topics(self) -> tuple[str, ...]:
        return ((self.topic,) if self.topic else ()) + self.also_topics

    def describe(self) -> str:
        parts = []
        if self.firsts:
            parts.append("firsts")
        if self.topics:
            parts.append(" or ".join(self.topics))
        if self.about:
            parts.append(f"on {' '.join(self.about)}")
        if self.period:
            parts.append(self.period)
            return " ".join(parts)
        if self.month and self.start is not None:
            parts.append(f"in {MONTH_NAMES[self.month - 1]} {self.start}")
            return " ".join(parts)
        if self.start is not None and self.start == self.end:
            parts.append(f"in {self.start}")
        elif self.start is not None and self.end is not None:
            parts.append(f"{self.start}–{self.end}")
        elif self.start is not None:
            parts.append(f"since {self.start}")
        elif self.end is not None:
            parts.append(f"up to {self.end}")
        return " ".join(parts) if parts else "all milestones"

    def starts_after(self, notes_end: PartialDate) -> bool:
        """Whether every year it asks about is later than the notes' end."""
        return self.start is not None and self.start > notes_end.year

    def admits(self, date: PartialDate) -> bool:
        """Whether a milestone on ``date`` is inside the bounds, for certain.

        A date known only to the year is inside "after June 2022" only from the next year on.
        """
        if self.after is not None and not self.after.surely_before(date):
            return False
        return self.before is None or date.surely_before(self.before)


@dataclass(frozen=True)
class Ask(_Intent):
    """A question in the user's words, for the engine to recognise and answer
    (``/nato <question>``, ``/nato ask …``, a mention or a DM); from the recogniser, a
    question with no more structure than that."""

    question: str


@dataclass(frozen=True)
class Timeline(_Intent):
    """Dated milestones: ``/nato timeline 2022``, "what happened since madrid"."""

    query: TimelineQuery


@dataclass(frozen=True)
class Who(_Intent):
    """Who someone is: ``/nato who <name>``, "who is <name>?".

    ``name`` is as the user wrote it, for replies; requests are equal when they name the
    same ``key`` ("Oana Lungescu?", "oana lungescu", "the Oana Lungescu").
    """

    name: str = field(compare=False)
    key: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", _read(_NAME, "name", self.name))

    @property
    def question(self) -> str:
        """The request as a question, for the matcher when no alias names the person."""
        return f"who is {self.name}"


@dataclass(frozen=True)
class Define(_Intent):
    """What an organisation, programme or acronym is: ``/nato define <term>``, "what does IUU
    stand for". Equal when they name the same ``key``, as ``Who`` is."""

    term: str = field(compare=False)
    key: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", _read(_TERM, "term", self.term))

    @property
    def question(self) -> str:
        """The request as a question, for the matcher when no alias names the term."""
        return f"what is {self.term}"


@dataclass(frozen=True)
class Compare(_Intent):
    """ "which came first, the IPCP or the cyber centre membership": two events to order."""

    first: str
    second: str


@dataclass(frozen=True)
class AfterNotes(_Intent):
    """The question is about a time after the notes end: ``reason`` says why (for the logs),
    ``question`` is what it asks, for finding what the notes did say."""

    reason: str
    question: str

    @property
    def present(self) -> bool:
        """Asked about the present ("now", "these days"), not about a later year."""
        return self.reason == PRESENT


@dataclass(frozen=True)
class Topics(_Intent):
    """``/nato topics``: the topics and how many entries each has."""

    @property
    def private(self) -> bool:
        return True


@dataclass(frozen=True)
class Help(_Intent):
    """``/nato help``, or "help" / "what can you do" in a question; ``/nato help <command>``
    names the one ``command`` to explain ("" for the list of every command)."""

    command: str = ""

    @property
    def private(self) -> bool:
        return True


@dataclass(frozen=True)
class Digest(_Intent):
    """``/nato digest …``: ``args`` are read further by ``bot.digests.commands``."""

    args: str

    @property
    def subcommand(self) -> str:
        words = self.args.split()
        return words[0].casefold() if words else "help"

    @property
    def private(self) -> bool:
        return True

    @property
    def needs_manager(self) -> bool:
        return self.subcommand in _MANAGING


@dataclass(frozen=True)
class ChannelRef:
    """A channel named in a command: its ``id`` when the platform gave one (``<#C123|name>``
    on Slack, ``<#123>`` on Discord), else only the ``name`` as typed (``#general``), for the
    adapter to look up. An adapter that cannot find it leaves ``id`` empty."""

    id: str = ""
    name: str = ""

    def shown(self) -> str:
        return f"#{self.name or self.id}"


@dataclass(frozen=True)
class Settings(_Intent):
    """``/nato settings``: this channel's settings shown (nothing to change given) or changed.

    ``None`` leaves a setting as it is; ``allow`` is the workspace's list of the channels the
    bot answers in, replaced whole (``()``: every channel). Managers only, shown only to them.
    """

    private_answers: bool | None = None
    auto_answer: bool | None = None
    allow: tuple[ChannelRef, ...] | None = None

    @property
    def changes(self) -> bool:
        return self.private_answers is not None or self.auto_answer is not None or self.allow is not None

    @property
    def private(self) -> bool:
        return True

    @property
    def needs_manager(self) -> bool:
        return True


@dataclass(frozen=True)
class Usage(_Intent):
    """A malformed command: the message says what was wrong and what is valid."""

    message: str

    @property
    def private(self) -> bool:
        return True


Intent = Ask | Timeline | Who | Define | Compare | AfterNotes | Topics | Help | Digest | Settings | Usage
# What the engine answers: the intents that are questions about the notes.
Question = Ask | Timeline | Who | Define | Compare | AfterNotes | Help


def _read(pattern: re.Pattern[str], group: str, text: str) -> str:
    norm = normalise(text)
    match = pattern.match(norm)
    return match.group(group) if match else norm
