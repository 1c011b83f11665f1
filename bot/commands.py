"""The `/nato` grammar, identical on every platform, parsed into command values.

Parsing never raises: malformed arguments become a ``Usage`` value that carries the
precise message the user sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge.base import TOPICS
from bot.qa.intents import TOPIC_WORDS, TimelineQuery, parse_timeline_args
from bot.text import clean_user_text, quote_user_text

__all__ = [
    "COMMAND_HELP",
    "Ask",
    "Command",
    "DefineCmd",
    "DigestCmd",
    "HelpCmd",
    "Timeline",
    "Topics",
    "Usage",
    "WhoCmd",
    "parse_command",
    "quote_user_text",
]

COMMAND_HELP = (
    "*Commands* (the same on Slack, Discord and the console):\n"
    "• `/nato <question>` or `/nato ask <question>`: answer a question, with its source\n"
    "• `/nato timeline [year | from-to | since year | topic | firsts]`: dated milestones\n"
    "• `/nato who <name>`: who someone is, as of July 2023\n"
    "• `/nato define <term>`: an organisation, programme or acronym\n"
    "• `/nato topics`: the topics I can brief on\n"
    "• `/nato digest subscribe|list|unsubscribe|now …`: scheduled milestone digests\n"
    "• `/nato help`: this list\n"
    "My notes come from one analysis written in early July 2023, so I can't say what has happened since then."
)

TIMELINE_USAGE = (
    "Usage: `/nato timeline [year | from-to | since year | since/before event | early/mid/late year | "
    "topic | firsts | recent]`, e.g. `/nato timeline 2022`, `/nato timeline 2013-2019`, "
    "`/nato timeline since madrid`, `/nato timeline early 2023`, `/nato timeline maritime`."
)


@dataclass(frozen=True)
class Ask:
    question: str


@dataclass(frozen=True)
class Timeline:
    query: TimelineQuery


@dataclass(frozen=True)
class WhoCmd:
    name: str


@dataclass(frozen=True)
class DefineCmd:
    term: str


@dataclass(frozen=True)
class Topics:
    pass


@dataclass(frozen=True)
class HelpCmd:
    pass


@dataclass(frozen=True)
class DigestCmd:
    """``/nato digest …``: parsed further by the digest commands."""

    args: str


@dataclass(frozen=True)
class Usage:
    """A malformed command: the message says what was wrong and what is valid."""

    message: str


Command = Ask | Timeline | WhoCmd | DefineCmd | Topics | HelpCmd | DigestCmd | Usage

_SUBCOMMANDS = ("ask", "timeline", "who", "define", "topics", "help", "digest")
_YEAR_TOKEN = re.compile(r"^(?:19|20)\d{2}$")
_TIMELINE_TOKENS = re.compile(
    r"^(?:since|after|from|before|until|to|between|and|in|firsts?|first-ever|"
    r"-|–|(?:19|20)\d{2}(?:\s*[-–]\s*(?:19|20)\d{2})?)$"
)


def parse_command(text: str) -> Command:
    """Parse the text after ``/nato`` (with or without the leading ``/nato``)."""
    text = clean_user_text(text)
    text = re.sub(r"^/?nato\b\s*", "", text, flags=re.IGNORECASE)
    if not text:
        return HelpCmd()
    word, _, rest = text.partition(" ")
    sub = word.casefold()
    rest = rest.strip()
    if sub not in _SUBCOMMANDS:
        return Ask(text)
    if sub == "ask":
        return (
            Ask(rest)
            if rest
            else Usage(
                "Usage: `/nato ask <question>`, e.g. `/nato ask when did Japan join the NATO cyber centre?`"
            )
        )
    if sub == "timeline":
        return _parse_timeline(rest)
    if sub == "who":
        # "/nato who is Kishida" reads naturally; the name is what follows "is".
        rest = re.sub(r"^(?:is|was|are)\s+", "", rest, flags=re.IGNORECASE)
        return WhoCmd(rest) if rest else Usage("Usage: `/nato who <name>`, e.g. `/nato who Oana Lungescu`.")
    if sub == "define":
        return DefineCmd(rest) if rest else Usage("Usage: `/nato define <term>`, e.g. `/nato define ITPP`.")
    if sub == "topics":
        return Topics() if not rest else Usage("`/nato topics` takes no arguments.")
    if sub == "help":
        return HelpCmd()
    return DigestCmd(rest)


def _parse_timeline(rest: str) -> Command:
    if not rest:
        return Timeline(TimelineQuery())
    bounded = parse_timeline_args(rest)
    if bounded.since_event or bounded.until_event or bounded.period:
        # Bounded by an event ("since madrid"), a month or part of a year, or "recent":
        # the engine finds the event and says so when it cannot.
        return Timeline(bounded)
    folded = rest.casefold()
    words = folded.replace("–", "-").split()
    topic_words = [w for w in words if w in TOPIC_WORDS or w in TOPICS]
    leftovers = [w for w in words if w not in topic_words and not _TIMELINE_TOKENS.match(w)]
    if leftovers:
        return Usage(
            f"I couldn't read “{quote_user_text(leftovers[0], 30)}” as a year, range or topic. "
            f"{TIMELINE_USAGE} Topics: {', '.join(TOPICS)}."
        )
    if len(topic_words) > 1:
        return Usage(f"One topic at a time, please. {TIMELINE_USAGE}")
    range_match = re.search(r"((?:19|20)\d{2})\s*(?:-|to|and)\s*((?:19|20)\d{2})", folded.replace("–", "-"))
    if range_match and int(range_match.group(1)) > int(range_match.group(2)):
        first, second = range_match.group(1), range_match.group(2)
        return Usage(
            f"The range {first}-{second} runs backwards; did you mean `/nato timeline {second}-{first}`?"
        )
    query = parse_timeline_args(rest)
    if topic_words and query.topic is None:
        word = topic_words[0]
        query = TimelineQuery(query.start, query.end, TOPIC_WORDS.get(word, word), query.firsts)
    years = [w for w in re.findall(r"\d{4}", folded) if _YEAR_TOKEN.match(w)]
    if len(years) > 2 or (len(years) == 2 and range_match is None):
        return Usage(f"Give one year or one range. {TIMELINE_USAGE}")
    return Timeline(query)
