"""The words of dates and topics, lexed one way for every reader.

The command parser, the question recogniser, timeline bounds, digest periods and the
answer checks all read years, year ranges, months, parts of a year and topic words. Each
pattern is written here once; ``YEAR`` is the only place a year's shape is spelled out, and
every pattern with a year in it is built from it. The topic words are data, the knowledge
base's (``knowledge/lexicon.yaml``, ``kb.lexicon.topic_words``), passed in by whoever
holds the base, as its ``notes_end`` is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.knowledge.base import MONTH_NAMES, TOPICS, PartialDate

__all__ = [
    "BEFORE_YEAR",
    "DECADE",
    "ISO_PERIOD",
    "MONTH",
    "MONTH_BOUND",
    "MONTH_YEAR",
    "PART_OF_YEAR",
    "SINCE_YEAR",
    "YEAR",
    "YEARS",
    "YEAR_DASH",
    "YEAR_IN_TEXT",
    "YEAR_RANGE",
    "is_year",
    "looks_like_a_month",
    "month_number",
    "part_of_year",
    "topic_named",
    "topic_word",
    "topics_in",
]

# The years people ask about, 1900-2099: a bare "1848" or "2150" is a number, not a year.
YEAR = r"(?:19|20)\d{2}"
# A month by its first three letters ("feb", "february", "sept."); patterns add [a-z]*\.?
MONTH = "|".join(name[:3].casefold() for name in MONTH_NAMES)

_YEAR_WORD = re.compile(YEAR)
# Years named in text ("in 2022", "2013-2019"): what a question or an entry mentions.
YEAR_IN_TEXT = re.compile(rf"\b({YEAR})\b")
# The same, with "the 2010s" read as its first year.
YEARS = re.compile(rf"\b({YEAR})s?\b")
# "the 2010s": a decade, read as its ten years.
DECADE = re.compile(rf"\b(?=(?:{YEAR})s\b)(\d{{3}}0)s\b")
# "between 2013 and 2019", "2013 to 2019", "from 2010 till 2020".
YEAR_RANGE = re.compile(rf"\b(?:between|from)?\s*({YEAR})\s*(?:and|to|until|till|through|-|–)\s*({YEAR})\b")
# "2013-2019" with any dash; normalising drops hyphens, so it is made "2013 to 2019" first.
YEAR_DASH = re.compile(rf"({YEAR})\s*[-–—]\s*({YEAR})")
SINCE_YEAR = re.compile(rf"\b(?:since|after|from|starting|post)\s+(?:the\s+)?({YEAR})s?\b")
BEFORE_YEAR = re.compile(rf"\b(?:before|until|till|up to|prior to|pre)\s+({YEAR})\b")
# "feb 2022", "September 2022".
MONTH_YEAR = re.compile(rf"\b({MONTH})[a-z]*\.?\s+({YEAR})\b")
# "since February 2022" / "before May 2022": a month, inclusive with since, exclusive with after.
MONTH_BOUND = re.compile(rf"\b(since|from|after|before|until|till|up to)\s+({MONTH})[a-z]*\.?\s+({YEAR})\b")
# "early 2022": the year's first, middle or last third.
PART_OF_YEAR = re.compile(rf"\b(early|mid|middle of|late|end of|start of|beginning of)\s+({YEAR})\b")
# The months each part lies strictly between; any other part ("late", "end of") is the last third.
_THIRDS = {"early": (0, 5), "start of": (0, 5), "beginning of": (0, 5), "mid": (4, 9), "middle of": (4, 9)}
_LAST_THIRD = (8, 13)

# A digest period given as dates: "2022", "2019-06", "2019-06..2021-12". Any four digits
# here: PartialDate checks the date, and a period before 1900 is merely empty.
_ISO_DATE = r"\d{4}(?:-\d{2}(?:-\d{2})?)?"
ISO_PERIOD = re.compile(rf"^({_ISO_DATE})(?:\s*\.\.\s*({_ISO_DATE}))?$")


def is_year(word: str) -> bool:
    """Whether ``word`` is a year and nothing else: "2022", not "20x8" or "2022s"."""
    return _YEAR_WORD.fullmatch(word) is not None


def month_number(name: str) -> int:
    """1-12 for a month's name or its first three letters ("feb", "February")."""
    return MONTH.split("|").index(name[:3].casefold()) + 1


def looks_like_a_month(word: str) -> bool:
    """Whether a (normalised) word starts as a month's name does ("feb", "march", "mayor")."""
    return any(word.startswith(prefix) for prefix in MONTH.split("|"))


def part_of_year(part: str, year: int) -> tuple[PartialDate | None, PartialDate | None]:
    """The exclusive bounds of "early 2022", "mid 2022" or "late 2022"; None where the
    part reaches the year's end."""
    low, high = _THIRDS.get(part, _LAST_THIRD)
    return (PartialDate(year, low) if low else None, PartialDate(year, high) if high <= 12 else None)


def topic_word(word: str, topic_words: Mapping[str, str]) -> str | None:
    """The topic a word people use for one names ("naval": maritime); None if it names none.

    ``topic_words`` is the knowledge base's (``kb.lexicon.topic_words``). Free text reads
    only these: "people" and "sources" are topics, but too common as words.
    """
    return topic_words.get(word)


def topic_named(word: str, topic_words: Mapping[str, str]) -> str | None:
    """The topic a command argument names: a topic's own name, or a word for one."""
    return word if word in TOPICS else topic_words.get(word)


def topics_in(text: str, topic_words: Mapping[str, str]) -> list[str]:
    """The topics the words of (normalised) ``text`` name, once each, in order."""
    found: list[str] = []
    for word in text.split():
        topic = topic_words.get(word)
        if topic and topic not in found:
            found.append(topic)
    return found
