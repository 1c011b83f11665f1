"""Understand a free-text question: its structure, before any fuzzy matching.

Timelines, which-came-first, who-is, what-is and help have a shape people type the same
way every time; catching them with a few patterns is both faster and more predictable than
hoping the fuzzy matcher lands on the right entry. A question with none of these shapes is
an ``Ask`` for the matcher. The values are the grammar's (``bot.grammar.intents``), the same
that `/nato …` commands parse into; the dates, ranges and topics are the grammar's lexer's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from bot.grammar.after_notes import after_notes
from bot.grammar.intents import AfterNotes, Ask, Compare, Define, Help, Question, Timeline, Who
from bot.grammar.lexer import (
    MONTH_BOUND,
    PART_OF_YEAR,
    SINCE_YEAR,
    YEAR,
    YEAR_DASH,
    YEAR_RANGE,
    YEARS,
    looks_like_a_month,
    topic_word,
)
from bot.grammar.timeline import EVENT_BOUND, RECENT, TIMELINE_FILLER, parse_timeline_args
from bot.knowledge.base import PartialDate
from bot.qa.vocabulary import content_terms
from bot.text import normalise

__all__ = ["recognise"]

_COMPARE = (
    re.compile(
        r"^(?:which|what) (?:came|comes|happened|was|occurred|one was) (?:first|earlier|before)\s+"
        r"(?:the\s+)?(?P<a>.+?) or (?:the\s+)?(?P<b>.+)$"
    ),
    re.compile(
        r"^(?:the\s+)?(?P<a>.+?) or (?:the\s+)?(?P<b>.+?) "
        r"(?:which|what) (?:came|happened|was) (?:first|earlier)$"
    ),
    # "did the madrid summit come before the tokyo declaration"; without "come" or
    # "happen", only two short names: "did france drop its objection after vilnius"
    # asks what France did, not which came first.
    re.compile(r"^(?:did|was) (?:the\s+)?(?P<a>.+?) (?:come|happen) (?:before|after) (?:the\s+)?(?P<b>.+)$"),
    re.compile(
        r"^(?:did|was) (?:the\s+)?(?!(?:he|she|they|it|we|you|i)\b)"
        r"(?P<a>(?!(?:\S+ ){0,3}(?:anything|something)\b)(?:\S+ ){0,3}\S+) (?:before|after) "
        r"(?:the\s+)?(?P<b>(?:\S+ ){0,3}\S+)$"
    ),
)

# Asking for a history in so many words: a timeline even with nothing to filter by.
_EXPLICIT_TIMELINE = (
    r"timeline|time line|evolv\w*|evolution|milestones?|chronolog\w*|firsts|history|over time|"
    r"in order|sequence|so far|month by month|year by year|over the (?:past|last) (?:decade|years)|"
    r"over the years|turning points?|landmarks?|rundown|"
    r"(?:key|main|major|big|important) (?:dates|events|moments|steps|developments)"
)
_EXPLICIT = re.compile(rf"\b(?:{_EXPLICIT_TIMELINE})\b")
_TIMELINE_WORDS = re.compile(
    rf"\b({_EXPLICIT_TIMELINE}|"
    r"timeline|time line|evolv\w*|evolution|milestones?|chronolog\w*|key dates|key events|history|"
    r"firsts|first[- ]ever|first times?|what happened|what happend|what happen|events|"
    r"what (?:nato japan |nato |japan )?(?:stuff|things|else) happened|"
    r"what went on|what occurred|developments|highlights|over time|in order|sequence|"
    r"what has happened|what s happened|whats happened|what had happened|anything happen\w*|"
    r"what did (?:nato|japan|they|the two|both)(?: and (?:nato|japan))? do|"
    r"chronologically|so far|month by month|year by year|over the (?:past|last) (?:decade|years))\b"
)
_AMOUNT = re.compile(r"(?:how much|how many)\b")
# Words of its own beyond which "so far" only says "until now" of a question about
# something else, not "give me the history".
SO_FAR_OWN_WORDS = 2
# A year alone, or "in 2022": a timeline of that year.
_JUST_A_YEAR = re.compile(rf"(?:in\s+)?{YEAR}s?")
_WHO = re.compile(r"^(?:who\s+(?:is|was|are|were|s)|whos|who is)\s+(?P<rest>.+)$")
_WHO_LEADS = re.compile(
    r"^who (?:leads|heads|runs|chairs|is in charge of|is the boss of) (?:the\s+)?(?P<body>.+)$"
)
_DEFINE = re.compile(
    r"^(?:what\s+(?:is|are|was|were|does|do)|whats|define|definition of|meaning of|"
    r"explain|expand)\s+(?P<rest>.+)$"
)
# Where in the briefing a term was read ("what does iuu stand for *in the maritime
# section*"): not part of the term.
_IN_THE_DOCUMENT = re.compile(
    r"\s+(?:in|from) (?:the|this|that) (?:\w+ ){0,2}"
    r"(?:section|part|paragraph|para|chapter|article|piece|paper|report|doc|document|text|analysis)$"
)
_HELP = re.compile(
    r"^(?:help|commands|usage|what can you do|what do you know|how do i use (?:this|you)|"
    r"how does this work|hi|hello|hey|start|menu)$"
)


def _about(text: str, topic_words: Mapping[str, str]) -> tuple[str, ...]:
    """Words left once timeline words, topics, dates and filler are gone."""
    words = [
        w
        for w in text.split()
        if w not in TIMELINE_FILLER
        and topic_word(w, topic_words) is None
        and not YEARS.fullmatch(w)
        and not looks_like_a_month(w)
    ]
    return tuple(w for w in words if content_terms([w]))


def _without_bounds(text: str) -> str:
    """The request without the words that bound it in time ("since madrid", "early 2022")."""
    for pattern in (EVENT_BOUND, MONTH_BOUND, PART_OF_YEAR, RECENT):
        text = pattern.sub(" ", text)
    return text


def recognise(question: str, notes_end: PartialDate, topic_words: Mapping[str, str]) -> Question:
    """The structured intent of a chat question; ``Ask(question)`` for an ordinary one.
    ``notes_end`` and ``topic_words`` are the knowledge base's."""
    norm = normalise(YEAR_DASH.sub(r"\1 to \2", question))
    if not norm or _HELP.match(norm):
        return Help()
    for pattern in _COMPARE:
        if match := pattern.match(norm):
            return Compare(match.group("a"), match.group("b"))
    if YEAR_RANGE.search(norm) or SINCE_YEAR.search(norm):
        # "between 2013 and 2019", "since 2021": a span of years asks for a timeline.
        return Timeline(parse_timeline_args(norm, notes_end, topic_words))

    # "how much has japan committed so far" asks for an amount, not for a history.
    if (_TIMELINE_WORDS.search(norm) and not _AMOUNT.match(norm)) or _JUST_A_YEAR.fullmatch(norm):
        query = parse_timeline_args(norm, notes_end, topic_words)
        # "what happened in Oslo" is a question about Oslo, not a timeline; a timeline
        # needs a timeline word plus something to filter by, or an explicit word.
        explicit = _EXPLICIT.search(norm)
        if {m.group(0) for m in _EXPLICIT.finditer(norm)} == {"so far"} and len(
            _about(norm, topic_words)
        ) > SO_FAR_OWN_WORDS:
            # "which domain has few joint initiatives so far?" asks about the domain; "the
            # story so far" and "what has nato done so far" ask for the history.
            explicit = None
        bounded = query.since_event or query.until_event or query.after or query.before
        if explicit or bounded or query.start is not None or query.end is not None or query.firsts:
            # A topic already narrows it; other words then only describe ("joint exercises").
            if query.topics:
                return Timeline(query)
            return Timeline(replace(query, about=_about(_without_bounds(norm), topic_words)))

    if reason := after_notes(norm, notes_end):
        return AfterNotes(reason, question)

    if match := _WHO.match(norm):
        return Who(match.group("rest"))
    if match := _WHO_LEADS.match(norm):
        # "who leads nato" asks for a role holder as "who is the head of nato" does.
        return Who(f"head of {match.group('body')}")
    if match := _DEFINE.match(_IN_THE_DOCUMENT.sub("", norm)):
        define = Define(match.group("rest"))
        if len(define.key.split()) <= 6:
            return define
    return Ask(question)
