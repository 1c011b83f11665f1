"""The lexicon: the words that steer how a message is read, kept as curated data.

``knowledge/lexicon.yaml`` holds them beside the entries: pleasantries and their
replies, the chatter people wrap a question in ("hey bot", "need it for a brief"),
requests about the answer's form ("need month + year"), and the languages the bot can
recognise but not yet read. Adding a pleasantry, a phrase of chatter or a language is
an edit there, validated like the rest of the knowledge base, never a new regex.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FormRequest", "Language", "Lexicon", "Smalltalk"]


@dataclass(frozen=True)
class Smalltalk:
    """One kind of pleasantry ("thanks", "greeting") and the short reply it gets."""

    kind: str
    reply: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class FormRequest:
    """A request about the answer's form, and what it tells about the question."""

    wants: str  # "date" | "quote" | "number" | "short"
    phrases: tuple[str, ...]
    # Read as this question word when the question has none ("stoltenberg visit, need
    # month + year" asks "when"); empty when the request says nothing about the slot.
    ask_as: str = ""


@dataclass(frozen=True)
class Language:
    """A language the bot recognises but does not read yet, and what it says to it."""

    code: str
    name: str
    notice: str
    # Recognised by script (Unicode blocks, for Japanese) or by its common words (for
    # languages written in the Latin alphabet).
    scripts: tuple[str, ...] = ()
    # Scripts of which at least one letter must appear: kana tell Japanese from Chinese,
    # which share the CJK ideographs.
    marks: tuple[str, ...] = ()
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lexicon:
    """Everything ``bot.qa.message`` reads a message with; empty reads it as it is."""

    smalltalk: tuple[Smalltalk, ...] = ()
    chatter: tuple[str, ...] = ()
    form_requests: tuple[FormRequest, ...] = ()
    english_words: tuple[str, ...] = ()
    languages: tuple[Language, ...] = ()
    file: str = ""
