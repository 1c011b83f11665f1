"""The `/nato` grammar, identical on every platform, parsed into intent values.

Parsing never raises: malformed arguments become a ``Usage`` value that carries the
precise message the user sees. Platforms with typed options (Discord) build the same
values from the options through ``ask``, ``who``, ``define``, ``digest`` and ``timeline_options``,
without writing them out as text first.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import replace

from bot.grammar.after_notes import after_notes
from bot.grammar.intents import (
    AfterNotes,
    Ask,
    Define,
    Digest,
    Help,
    Intent,
    Settings,
    Timeline,
    TimelineQuery,
    Topics,
    Usage,
    Who,
)
from bot.grammar.lexer import YEAR, YEAR_IN_TEXT, topic_named
from bot.grammar.settings import parse_settings, settings_help
from bot.grammar.timeline import parse_timeline_args
from bot.knowledge.base import TOPICS, PartialDate
from bot.text import clean_user_text, normalise, quote_user_text

__all__ = [
    "SUBCOMMANDS",
    "ask",
    "command_help",
    "define",
    "digest",
    "parse_command",
    "settings",
    "subcommand_like",
    "timeline_options",
    "timeline_usage",
    "who",
]

SUBCOMMANDS = ("ask", "timeline", "who", "define", "topics", "help", "digest", "settings")
# A first word this close to a subcommand is taken as a typo of it ("timline"), not as the
# start of a question. Only the long subcommands: a near miss of "who", "ask" or "help" is
# too often a word of a question ("whos kishida", "asks", "helps").
_TYPO_CUTOFF = 0.8
_TYPO_MIN_LENGTH = 5
_TYPO_TARGETS = tuple(c for c in SUBCOMMANDS if len(c) >= _TYPO_MIN_LENGTH)
# The parts of a year `/nato timeline early 2022` reads (``bot.grammar.lexer.PART_OF_YEAR``).
_PARTS = ("early", "mid", "late")
_NATO = re.compile(r"^/?nato\b\s*", re.IGNORECASE)
# "/nato who is Kishida" reads naturally; the name is what follows "is".
_IS = re.compile(r"^(?:is|was|are)\s+", re.IGNORECASE)
# Every word `/nato timeline` accepts besides topics.
_TIMELINE_TOKEN = re.compile(
    rf"^(?:since|after|from|before|until|to|between|and|in|firsts?|first-ever|-|–|{YEAR}(?:\s*[-–]\s*{YEAR})?)$"
)
_RANGE = re.compile(rf"({YEAR})\s*(?:-|to|and)\s*({YEAR})")


def command_help(notes_end: PartialDate, command: str = "") -> str:
    """The `/nato help` text; ``notes_end`` is the knowledge base's (``KnowledgeBase.notes_end``).
    With a ``command``, that one command explained with examples."""
    if command:
        return _one_command_help(command, notes_end)
    end = notes_end.human()
    return (
        "*Commands* (the same on Slack, Discord and the console):\n"
        "• `/nato <question>` or `/nato ask <question>`: answer a question, with its source\n"
        "• `/nato timeline [year | from-to | since year | topic | firsts]`: dated milestones\n"
        f"• `/nato who <name>`: who someone is, as of {end}\n"
        "• `/nato define <term>`: an organisation, programme or acronym\n"
        "• `/nato topics`: the topics I can brief on\n"
        "• `/nato digest subscribe|list|unsubscribe|now …`: scheduled milestone digests\n"
        "• `/nato settings [answers …] [auto-answer …] [allow …]`: this channel's settings (managers)\n"
        "• `/nato help [command]`: this list, or one command explained with examples\n"
        f"My notes come from one analysis written in early {end}, "
        "so I can't say what has happened since then."
    )


def _one_command_help(command: str, notes_end: PartialDate) -> str:
    end, year = notes_end.human(), notes_end.year
    texts = {
        "ask": (
            "`/nato ask <question>` (or just `/nato <question>`): answers from the briefing notes, "
            "citing the source paragraph.\nExamples: `/nato ask when did Japan join the NATO cyber "
            "centre?`, `/nato what did Kishida say at Vilnius?`"
        ),
        "timeline": (
            "`/nato timeline [year | from-to | since year | since/before event | early/mid/late year | "
            "topic | firsts | recent]`: dated milestones, oldest first.\nExamples: "
            "`/nato timeline 2022`, `/nato timeline 2013-2019`, `/nato timeline since madrid`, "
            f"`/nato timeline before vilnius`, `/nato timeline early {year}`, "
            "`/nato timeline cyber firsts`, `/nato timeline recent`"
        ),
        "who": (
            f"`/nato who <name>`: who someone is, as of {end}.\nExamples: `/nato who Kishida`, "
            "`/nato who Oana Lungescu`"
        ),
        "define": (
            "`/nato define <term>`: an organisation, programme or acronym.\nExamples: "
            "`/nato define ITPP`, `/nato define IP4`"
        ),
        "topics": "`/nato topics`: the topics I can brief on, for `/nato timeline <topic>`.",
        "help": "`/nato help [command]`: every command, or one explained with examples, "
        "e.g. `/nato help timeline`.",
        "digest": (
            "`/nato digest subscribe|list|unsubscribe|now …`: scheduled milestone digests in this "
            "channel (subscribing needs a channel manager).\nExamples: `/nato digest subscribe "
            "topic cyber weekly mon 09:00 Europe/Brussels`, `/nato digest list`, "
            "`/nato digest unsubscribe 3`, `/nato digest now month`"
        ),
        "settings": settings_help(),
    }
    name = command.casefold().strip().removeprefix("/").removeprefix("nato").strip()
    if name in texts:
        return texts[name]
    known = ", ".join(f"`{c}`" for c in SUBCOMMANDS)
    guess = subcommand_like(name)
    hint = f"Did you mean `/nato help {guess}`? " if guess else ""
    return f"{hint}There is no command “{quote_user_text(command, 30)}”; the commands are {known}."


def subcommand_like(word: str) -> str | None:
    """The subcommand ``word`` is a typo of ("timline" → "timeline"), if any."""
    folded = word.casefold()
    if len(folded) < _TYPO_MIN_LENGTH or folded in SUBCOMMANDS:
        return None
    close = difflib.get_close_matches(folded, _TYPO_TARGETS, n=1, cutoff=_TYPO_CUTOFF)
    return close[0] if close else None


def timeline_usage(notes_end: PartialDate) -> str:
    """How `/nato timeline` is used, with examples inside the notes."""
    return (
        "Usage: `/nato timeline [year | from-to | since year | since/before event | early/mid/late year | "
        "topic | firsts | recent]`, e.g. `/nato timeline 2022`, `/nato timeline 2013-2019`, "
        f"`/nato timeline since madrid`, `/nato timeline early {notes_end.year}`, `/nato timeline maritime`."
    )


def parse_command(text: str, notes_end: PartialDate, topic_words: Mapping[str, str]) -> Intent:
    """Parse the text after ``/nato`` (with or without the leading ``/nato``); ``notes_end``
    and ``topic_words`` are the knowledge base's."""
    text = _NATO.sub("", clean_user_text(text))
    if not text:
        return Help()
    word, _, rest = text.partition(" ")
    sub = word.casefold()
    rest = rest.strip()
    if sub not in SUBCOMMANDS:
        if (typo := subcommand_like(sub)) is not None:
            return Usage(f"Did you mean `/nato {typo}`? `/nato help {typo}` explains it.")
        return Ask(text)
    if sub == "ask":
        return ask(rest)
    if sub == "timeline":
        return _timeline(rest, notes_end, topic_words)
    if sub == "who":
        return who(rest, notes_end)
    if sub == "define":
        return define(rest, notes_end)
    if sub == "topics":
        return Topics() if not rest else Usage("`/nato topics` takes no arguments.")
    if sub == "help":
        return Help(rest.split()[0].casefold()[:40] if rest else "")
    if sub == "settings":
        return settings(rest)
    return digest(rest)


def settings(args: str) -> Settings | Usage:
    """`/nato settings …` (``bot.grammar.settings``); Discord writes its typed options as these words."""
    return parse_settings(args)


def digest(args: str) -> Digest:
    """`/nato digest …`: the arguments, read further by ``bot.digests.commands``."""
    return Digest(clean_user_text(args))


def ask(question: str) -> Ask | Usage:
    """`/nato ask <question>`."""
    question = clean_user_text(question)
    if not question:
        return Usage(
            "Usage: `/nato ask <question>`, e.g. `/nato ask when did Japan join the NATO cyber centre?`"
        )
    return Ask(question)


def who(name: str, notes_end: PartialDate) -> Who | AfterNotes | Usage:
    """`/nato who <name>`; "who is the current …" is past the notes, as the question is."""
    name = _IS.sub("", clean_user_text(name))
    if not name:
        return Usage("Usage: `/nato who <name>`, e.g. `/nato who Oana Lungescu`.")
    intent = Who(name)
    reason = after_notes(normalise(name), notes_end)
    return AfterNotes(reason, intent.question) if reason else intent


def define(term: str, notes_end: PartialDate) -> Define | AfterNotes | Usage:
    """`/nato define <term>`; a term asked about after the notes is past them, as the question is."""
    term = clean_user_text(term)
    if not term:
        return Usage("Usage: `/nato define <term>`, e.g. `/nato define ITPP`.")
    intent = Define(term)
    reason = after_notes(normalise(term), notes_end)
    return AfterNotes(reason, intent.question) if reason else intent


def timeline_options(
    notes_end: PartialDate,
    topic_words: Mapping[str, str],
    *,
    year: int | None = None,
    start: int | None = None,
    end: int | None = None,
    topic: str | None = None,
    firsts: bool = False,
    since: str | None = None,
    before: str | None = None,
    part: str | None = None,
    recent: bool = False,
) -> Timeline | Usage:
    """`/nato timeline` from typed options (one year, a range from/to, a topic, firsts; since
    or before an event, a month or a year; early/mid/late of ``year``; recent), judged as the
    same request typed as words would be: the bounds are read by the free text's grammar."""
    if start is not None and end is not None and start > end:
        return Usage(_backwards(start, end))
    if year is not None and (start is not None or end is not None):
        return Usage(f"Give one year or one range. {timeline_usage(notes_end)}")
    named = topic_named(topic.casefold(), topic_words) if topic else None
    if topic and named is None:
        return _unreadable(topic, notes_end)
    since, before = clean_user_text(since or ""), clean_user_text(before or "")
    if since or before or part or recent:
        return _bounded_options(
            notes_end, topic_words, year, start, end, named, firsts, since, before, part, recent
        )
    first, last = (year, year) if year is not None else (start, end)
    return Timeline(TimelineQuery(first, last, named, firsts))


def _bounded_options(
    notes_end: PartialDate,
    topic_words: Mapping[str, str],
    year: int | None,
    start: int | None,
    end: int | None,
    topic: str | None,
    firsts: bool,
    since: str,
    before: str,
    part: str | None,
    recent: bool,
) -> Timeline | Usage:
    """The typed bounds written as the words the free text accepts, and read as those are."""
    if part is not None:
        if part not in _PARTS or year is None:
            return Usage(f"Early, mid or late needs a year. {timeline_usage(notes_end)}")
        if since or before or recent or start is not None or end is not None:
            return Usage(f"Give one bound at a time. {timeline_usage(notes_end)}")
        words = [f"{part} {year}"]
    else:
        bounds = [b for b in (since and f"since {since}", before and f"before {before}") if b]
        if len(bounds) > 1 or (
            bounds and (recent or year is not None or start is not None or end is not None)
        ):
            return Usage(f"Give one bound at a time. {timeline_usage(notes_end)}")
        if recent and (year is not None or start is not None or end is not None):
            return Usage(f"Give one bound at a time. {timeline_usage(notes_end)}")
        words = bounds or ["recent"]
    if firsts:
        words.insert(0, "firsts")
    query = parse_timeline_args(" ".join(words), notes_end, topic_words)
    if not (query.since_event or query.until_event or query.period or query.start or query.end):
        return _unreadable(since or before, notes_end)
    if topic is not None:
        query = replace(query, topic=topic)
    return Timeline(query)


def _timeline(rest: str, notes_end: PartialDate, topic_words: Mapping[str, str]) -> Timeline | Usage:
    if not rest:
        return Timeline(TimelineQuery())
    bounded = parse_timeline_args(rest, notes_end, topic_words)
    if bounded.since_event or bounded.until_event or bounded.period:
        # Bounded by an event ("since madrid"), a month or part of a year, or "recent":
        # the engine finds the event and says so when it cannot.
        return Timeline(bounded)
    folded = rest.casefold()
    words = folded.replace("–", "-").split()
    named = [w for w in words if topic_named(w, topic_words) is not None]
    leftovers = [w for w in words if w not in named and not _TIMELINE_TOKEN.match(w)]
    if leftovers:
        return _unreadable(leftovers[0], notes_end)
    if len(named) > 1:
        return Usage(f"One topic at a time, please. {timeline_usage(notes_end)}")
    range_match = _RANGE.search(folded.replace("–", "-"))
    if range_match and int(range_match.group(1)) > int(range_match.group(2)):
        return Usage(_backwards(int(range_match.group(1)), int(range_match.group(2))))
    query = parse_timeline_args(rest, notes_end, topic_words)
    if named and query.topic is None:
        query = TimelineQuery(query.start, query.end, topic_named(named[0], topic_words), query.firsts)
    # Every word is a keyword, a topic or a year (range) by now: the years are all there is.
    years = YEAR_IN_TEXT.findall(folded)
    if len(years) > 2 or (len(years) == 2 and range_match is None):
        return Usage(f"Give one year or one range. {timeline_usage(notes_end)}")
    return Timeline(query)


def _unreadable(word: str, notes_end: PartialDate) -> Usage:
    return Usage(
        f"I couldn't read “{quote_user_text(word, 30)}” as a year, range or topic. "
        f"{timeline_usage(notes_end)} Topics: {', '.join(TOPICS)}."
    )


def _backwards(first: int, second: int) -> str:
    return f"The range {first}-{second} runs backwards; did you mean `/nato timeline {second}-{first}`?"
