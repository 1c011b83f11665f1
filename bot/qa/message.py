"""The first stage: find the question in a chat message and read what kind of message it is.

People do not type bare questions into Slack: "hey bot, who is jens stoltenberg? saw him
in the news", "when did stoltenberg visit japan? need month + year pls". Read whole, the
greeting and the asker's context are matched as content and sink the match. This stage
splits a message into clauses, keeps those that carry words the knowledge base knows,
drops the chatter around them, and notes what the rest says: a pleasantry, a language
the bot cannot read yet, a request about the answer's form, several questions at once.

Every word list it uses comes from the lexicon (``knowledge/lexicon.yaml``) or from the
knowledge base's own vocabulary, so what counts as chatter is curated data.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.knowledge.lexicon import Lexicon, Smalltalk
from bot.qa.vocabulary import content_terms
from bot.text import clean_user_text, normalise, tokens

__all__ = ["Reader", "Understanding"]

# Where one clause of a chat message ends and another begins. A comma only splits when
# what follows starts a new question or is chatter; see ``_clauses``.
_SENTENCE_END = re.compile(r"(?<=[?!;])\s*|(?<=[.:])\s+|\s+[-–—]+\s+|\n+|\s*\.\.\.\s*")
_COMMA = re.compile(r"\s*,\s*")
# "tl;dr will it …": a request about the form, whose semicolon would split it in two.
_TLDR = re.compile(r"\btl\s*;\s*dr\b[:,]?", re.IGNORECASE)
# "when did japan join ccdcoe and what did china say about the tokyo office": a second
# question joined by "and" without a comma. Split only where both sides carry content, so
# "who signed it and when" stays one question.
_AND_QUESTION = re.compile(r"\s+(?=and\s+(?:who|what|when|where|why|how|which)\s+\S+\s+\S+)", re.IGNORECASE)
# Pictographs and other symbols say something about the mood, never about the question.
_SYMBOLS = {"So", "Sk", "Cs", "Co"}
# Question words that begin a clause that is a question of its own.
QUESTION_WORDS = frozenset(
    "who whom whose what whats when where why how which is are was were did does do can could "
    "will would has have should tell list name explain describe define".split()
)
# Words that join one question to the next: ", and who signed it?".
_JOINERS = frozenset({"and", "also", "plus", "then"})
# A question that points back at the one before ("… cell and when was it announced") is
# one question about one subject, not two.
_REFERS_BACK = frozenset("it its they them their he him his she her that this those these there".split())
_COUNTS = ("one", "two", "three", "four", "five", "couple", "few", "several")
# How many questions one message may hold before the user is asked to split them.
MAX_PARTS = 3


@dataclass(frozen=True)
class Understanding:
    """One message, read once: the question in it and what else it says."""

    text: str  # the message, cleaned of control and invisible characters
    question: str  # the question to answer, chatter removed
    language: str = "en"  # a code from the lexicon when the message is in another language
    smalltalk: Smalltalk | None = None  # the message is only a pleasantry
    # A request about the answer's form: "date", "quote", "number", "name", "short", "list",
    # "place" (the lexicon's form_requests).
    wants: str = ""
    parts: tuple[str, ...] = ()  # several questions in one message, each on its own
    dropped: tuple[str, ...] = ()  # the chatter removed, for --explain

    @property
    def is_question(self) -> bool:
        return self.smalltalk is None and self.language == "en"


class Reader:
    """Reads messages with one lexicon and the knowledge base's vocabulary.

    Built once per knowledge base (and pickled with the engine): each message then costs
    a few set look-ups and, for short messages only, one fuzzy match against the
    pleasantries.
    """

    def __init__(
        self, lexicon: Lexicon, vocabulary: Collection[str], terms: Callable[[str], Collection[str]]
    ) -> None:
        """``terms`` gives the stemmed, spelling-corrected terms of normalised text (the
        matcher's reading), so "tokio" counts as the "tokyo" the base knows."""
        self.lexicon = lexicon
        self._terms = terms
        # A word carries content when the knowledge base uses it and it is not chatter.
        # Words asking about someone as a whole ("lungescu *background*") are chatter too:
        # they ask who the person is, which the name alone asks.
        self._chatter = frozenset(
            w for phrase in (*lexicon.chatter, *lexicon.profile_words) for w in tokens(normalise(phrase))
        )
        chatter_stems = frozenset(content_terms(sorted(self._chatter)))
        self._vocabulary = frozenset(vocabulary)
        # A count alone is no content: "two questions: …" announces questions, it asks none.
        self._content = self._vocabulary - chatter_stems - frozenset(content_terms(list(_COUNTS)))
        self._smalltalk: dict[str, Smalltalk] = {}
        for kind in lexicon.smalltalk:
            for phrase in kind.phrases:
                self._smalltalk.setdefault(normalise(phrase) or phrase.strip(), kind)
        self._smalltalk_keys = list(self._smalltalk)
        self._forms = [(normalise(phrase), form) for form in lexicon.form_requests for phrase in form.phrases]
        self._english = frozenset(lexicon.english_words)
        self._word_languages = [
            (language, frozenset(language.words)) for language in lexicon.languages if language.words
        ]
        self._script_languages = [language for language in lexicon.languages if language.scripts]

    # -- the stage -------------------------------------------------------------

    def read(self, message: str) -> Understanding:
        text = clean_user_text(message)
        language = self._language(text)
        if language != "en":
            return Understanding(text, text, language=language)
        smalltalk = self._pleasantry(text)
        if smalltalk is not None:
            return Understanding(text, text, smalltalk=smalltalk)
        kept: list[str] = []
        dropped: list[str] = []
        wants = ""
        ask_as = ""
        for clause in self._clauses(text):
            folded = normalise(clause)
            form = self._form_request(folded)
            if form is not None:
                wants, ask_as = wants or form.wants, ask_as or form.ask_as
                dropped.append(clause)
            elif self._carries_content(folded):
                kept.append(self._trim(clause))
            elif folded:
                dropped.append(clause)
        if not kept:
            # Nothing the notes know of: read the message as it is, so the later stages
            # decline it with the usual suggestions rather than with an empty question.
            return Understanding(text, self._trim(text), wants=wants, dropped=tuple(dropped))
        questions = [k for k in kept if k]
        question = " ".join(questions)
        parts: tuple[str, ...] = ()
        if len(questions) > 1 and sum(self._asks(q) for q in questions) > 1:
            parts = self._group(questions)
        if ask_as and not self._asks(question):
            question = f"{ask_as} {question}"
        if wants == "day":
            # "exact date? day pls": the day itself, which a month does not give (the answer
            # checks read "which day" as asking it).
            question = f"{question.rstrip(' ?')} which day"
        return Understanding(text, question, wants=wants, parts=parts, dropped=tuple(dropped))

    # -- the pieces ------------------------------------------------------------

    def _clauses(self, text: str) -> list[str]:
        """Sentences, split further at commas where a new question, chatter or a request
        about the answer's form begins ("…, need month + year pls")."""
        clauses: list[str] = []
        for sentence in _SENTENCE_END.split(_TLDR.sub("tldr, ", _without_symbols(text))):
            current = ""
            for piece in self._pieces(sentence):
                if not piece.strip():
                    continue
                folded = normalise(piece)
                words = folded.split()
                while words and words[0] in _JOINERS:
                    words = words[1:]
                separate = (
                    not words
                    or words[0] in QUESTION_WORDS
                    or not self._carries_content(folded)
                    or self._form_request(folded) is not None
                    or not self._carries_content(normalise(current))
                )
                if current and separate:
                    clauses.append(current)
                    current = piece
                else:
                    current = f"{current}, {piece}" if current else piece
            if current:
                clauses.append(current)
        return [c.strip(" ,;:") for c in clauses if c.strip(" ,;:")]

    def _pieces(self, sentence: str) -> list[str]:
        """The sentence split at commas, and at "and" before a question word where what
        comes before and after both carry content and what comes after does not point back."""
        pieces: list[str] = []
        for piece in _COMMA.split(sentence):
            halves = _AND_QUESTION.split(piece)
            if (
                len(halves) > 1
                and all(self._carries_content(normalise(h)) for h in halves)
                and not any(_REFERS_BACK & set(normalise(h).split()) for h in halves[1:])
            ):
                pieces.extend(halves)
            else:
                pieces.append(piece)
        return pieces

    def _group(self, clauses: list[str]) -> tuple[str, ...]:
        """One part per clause that asks, with the clauses that do not ask joined to the
        question before them ("what constraints — legal on both sides — keep …, and what
        pace …?" is two questions, not four); a lead-in joins the first question."""
        parts: list[str] = []
        lead: list[str] = []
        for clause in clauses:
            if self._asks(clause):
                parts.append(" ".join([*lead, clause]))
                lead = []
            elif parts:
                parts[-1] = f"{parts[-1]} {clause}"
            else:
                lead.append(clause)
        return tuple(parts)

    def _carries_content(self, folded: str) -> bool:
        # Chatter goes before the terms are read: spelling correction would otherwise
        # turn "thanks" into "think" and "saw" into "say", words the base knows.
        words = [w for w in folded.split() if w not in self._chatter]
        return bool(words) and any(term in self._content for term in self._terms(" ".join(words)))

    def _trim(self, clause: str) -> str:
        """The clause without chatter words before its first and after its last word of content."""
        words = clause.split()
        start, end = 0, len(words)
        while start < end and (self._is_chatter(words[start]) or normalise(words[start]) in _JOINERS):
            start += 1
        while end > start and self._is_chatter(words[end - 1]):
            end -= 1
        trimmed = " ".join(words[start:end]).strip(" ,;:")
        return trimmed or clause.strip()

    def _is_chatter(self, word: str) -> bool:
        """A word to trim from a question's edges: address and politeness ("hey", "bot",
        "pls"), never a word of English grammar ("what does IUU stand for") nor one the
        base uses ("oslo *meeting*", "*US* chip deal")."""
        folded = normalise(word)
        if not folded:
            return True
        if folded not in self._chatter or folded in self._english or folded in QUESTION_WORDS:
            return False
        return not any(term in self._vocabulary for term in content_terms(folded.split()))

    def _asks(self, clause: str) -> bool:
        folded = normalise(clause)
        if _QUOTED.fullmatch(clause.strip()):
            # "'what happens in asia matters for europe' — where's that line from": a line
            # quoted to ask about, not a question of its own.
            return False
        return bool(folded) and (folded.split()[0] in QUESTION_WORDS or clause.rstrip().endswith("?"))

    def _form_request(self, folded: str) -> _FormRequestMatch | None:
        if not folded:
            return None
        for phrase, form in self._forms:
            if phrase and phrase in folded:
                rest = folded.replace(phrase, " ")
                if not self._carries_content(rest):
                    return _FormRequestMatch(form.wants, form.ask_as)
        return None

    def _pleasantry(self, text: str) -> Smalltalk | None:
        folded = normalise(_without_symbols(text))
        if not folded:
            return None if text.strip() == "" else self._symbol_pleasantry(text)
        exact = self._smalltalk.get(folded)
        if exact is not None or len(folded) > 40:
            return exact
        words = folded.split()
        # "how are you doing today bot": a pleasantry of several words with chatter around it.
        for start in range(len(words)):
            for end in range(len(words), start, -1):
                phrase = self._smalltalk.get(" ".join(words[start:end]))
                if phrase is not None:
                    return phrase
                if words[end - 1] not in self._chatter:
                    break
            if words[start] not in self._chatter:
                break
        # "thanks bot", "ok thanks!": every word is a pleasantry or chatter.
        if all(w in self._smalltalk or w in self._chatter for w in words):
            for word in words:
                if word in self._smalltalk:
                    return self._smalltalk[word]
        # A misspelt pleasantry ("thnaks") is close to one as a whole, and holds no word
        # the base knows as it is written (spelling correction would find "think").
        if any(term in self._content for term in content_terms(words)):
            return None
        best = process.extractOne(
            folded, self._smalltalk_keys, scorer=fuzz.ratio, processor=None, score_cutoff=80
        )
        return self._smalltalk[best[0]] if best is not None else None

    def _symbol_pleasantry(self, text: str) -> Smalltalk | None:
        """A message of emoji alone ("👍", "🙏") is a pleasantry when the lexicon lists it."""
        return self._smalltalk.get(text.strip())

    def _language(self, text: str) -> str:
        letters = [c for c in text if c.isalpha()]
        if not letters:
            return "en"
        scripts = [_script_of(c) for c in letters]
        for language in self._script_languages:
            own = sum(1 for s in scripts if s in language.scripts)
            marked = not language.marks or any(s in language.marks for s in scripts)
            if marked and own * 3 >= len(letters):
                return language.code
        words = tokens(normalise(text))
        english = sum(1 for w in words if w in self._english)
        for language, common in self._word_languages:
            theirs = sum(1 for w in words if w in common and w not in self._english)
            if theirs >= 2 and theirs > english:
                return language.code
        return "en"


@dataclass(frozen=True)
class _FormRequestMatch:
    wants: str
    ask_as: str


# A clause that is all one quotation: straight or curly, single or double quotes.
_QUOTED = re.compile(r"""(["'“‘])[^"“”]*["'”’]""")


def _without_symbols(text: str) -> str:
    if text.isascii():
        return text
    return "".join(" " if unicodedata.category(c) in _SYMBOLS else c for c in text)


def _script_of(char: str) -> str:
    """The script a letter belongs to, from its Unicode name: enough to tell Japanese apart."""
    name = unicodedata.name(char, "")
    for script in ("HIRAGANA", "KATAKANA", "CJK", "HANGUL", "CYRILLIC", "ARABIC", "HEBREW", "GREEK", "THAI"):
        if name.startswith(script):
            return script.lower()
    return "latin"
