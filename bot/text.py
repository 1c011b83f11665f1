"""Text normalisation shared by the loader, the citation check and the matcher.

Everything that compares text goes through :func:`normalise` so that a question typed
on a phone ("Stoltenberg’s visit — Tokyo") and a curated phrasing ("stoltenberg's visit
to tokyo") meet on the same characters.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = [
    "clean_user_text",
    "defuse_mentions",
    "fold_typography",
    "normalise",
    "quote_user_text",
    "tokens",
]

# Typographic characters that people and word processors use interchangeably with
# their ASCII forms; the source document uses the curly ones.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)

# "U.S." must survive punctuation removal as one word, not as the letters "u" and "s".
_UK = re.compile(r"\bu\.k\.(?!\w)|\bunited kingdom\b|\bgreat britain\b")
_USA = re.compile(r"\bu\.s\.(?:a\.)?(?!\w)|\bunited states\b|\bthe us\b|\bus(?=-\w)")
# Written in capitals, "US" is the country, not the pronoun.
_US_CAPITALS = re.compile(r"\bUS\b")
# "who's" and "what's" are "who is" and "what is", not possessives: the intents read them.
_IS_CONTRACTION = re.compile(r"\b(who|what|where|when|how|why|which|that|there|here|it|she|he)'s\b")
_POSSESSIVE = re.compile(r"(\w)'s\b")
# "$30 million", "$30m", "30 million dollars" and "USD 30 million" are one amount.
_DOLLARS = re.compile(r"\$\s*(\d[\d.,]*)\s*(million|billion|thousand|m|bn|k)?\b")
_USD = re.compile(r"\b(?:usd|us dollars?)\b")
_AMOUNT_UNITS = {"m": "million", "bn": "billion", "k": "thousand"}
_NON_WORD = re.compile(r"[^\w\s%$.]|(?<!\d)\.|\.(?!\d)")
_WORD = re.compile(r"[\w$%.]+")
# "nonmember", "non-member" and "non member" are one idea written three ways: the prefix
# is split off so all three meet ("postwar", "anti-China" likewise).
_PREFIXED = re.compile(r"\b(non|anti|post)(?=(?:[a-z]{5,}|war)\b)")
# Zero-width and bidirectional formatting characters carry no meaning for matching
# but can hide inside otherwise ordinary words.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What a chat platform reads as a mention or a link: Slack's <!channel>, <@U…>, <#C…>,
# <http…|…>, Discord's <@id>, <@&role>; and a bare @everyone, @here (Discord) or @channel
# (Slack, with link_names). Look-alikes keep it readable and make it inert.
_DEFUSED = str.maketrans({"<": "\u2039", ">": "\u203a"})
_AT_WORD = re.compile(r"@(?=\w)")


def fold_typography(text: str) -> str:
    """NFKC, ASCII quotes and dashes, single spaces: the form evidence spans are compared in."""
    if not text.isascii():  # NFKC and the table change only non-ASCII characters
        text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
    return " ".join(text.split())  # runs of whitespace made one space, ends trimmed


def clean_user_text(text: str) -> str:
    """Strip control and invisible characters a chat client may pass through."""
    if not text.isprintable():  # both kinds of character are unprintable
        text = _CONTROL.sub(" ", _INVISIBLE.sub("", text))
    return " ".join(text.split())  # runs of whitespace made one space, ends trimmed


# Loading the base normalises the same strings many times over (every answer, alias and
# word of the answers, in the matcher and the engine), and a question is normalised by
# each step that reads it; the function is pure, so remembering recent results is safe.
@functools.lru_cache(maxsize=16384)
def normalise(text: str) -> str:
    """The matcher's form: folded, casefolded, possessives and punctuation removed.

    Decimal points inside numbers survive ("7.1"), as do ``$`` and ``%``, because
    "$30 million" and "52%" are what people ask about.
    """
    # Each rewrite runs only when its text can be there: loading the base normalises
    # thousands of strings, and most need few of them.
    text = fold_typography(clean_user_text(text))
    if "US" in text:
        text = _US_CAPITALS.sub("USA", text)
    text = text.casefold()
    if "usd" in text or "us dollar" in text:
        text = _USD.sub(" dollars ", text)
    if "$" in text:
        text = _DOLLARS.sub(_spell_dollars, text)
    if "u.s" in text or "united states" in text or "the us" in text or "us-" in text:
        text = _USA.sub(" usa ", text)
    if "u.k" in text or "united kingdom" in text or "great britain" in text:
        text = _UK.sub(" uk ", text)
    if "'" in text:
        text = _POSSESSIVE.sub(r"\1", _IS_CONTRACTION.sub(r"\1 is", text)).replace("'", "")
    text = _NON_WORD.sub(" ", text)
    if "non" in text or "anti" in text or "post" in text:
        text = _PREFIXED.sub(r"\1 ", text)
    return " ".join(text.split())  # runs of whitespace made one space, ends trimmed


def _spell_dollars(match: re.Match[str]) -> str:
    unit = match.group(2) or ""
    return f" {match.group(1)} {_AMOUNT_UNITS.get(unit, unit)} dollars "


def tokens(text: str) -> list[str]:
    """Words of already normalised text."""
    return _WORD.findall(text)


def quote_user_text(text: str, limit: int = 60) -> str:
    """A short, single-line echo of what a user typed, for error messages."""
    text = clean_user_text(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def defuse_mentions(text: str) -> str:
    """User text as it may be shown to people anywhere, pasted into a chat included: no
    ``<…>`` (a Slack or Discord mention or link) and no ``@word`` (``@everyone``,
    ``@channel``) left to ping anyone. ``<`` and ``>`` become ‹ and ›, ``@`` before a word
    the full-width ＠; everything else, and so what was meant, reads the same."""
    return _AT_WORD.sub("\uff20", text.translate(_DEFUSED))
