"""Follow-ups: a message that only makes sense after the previous turn of its thread.

"stoltenbergs visit to tokio" is answered; the next message, "and when was that?", has
no subject of its own. This stage reads such a message against the thread's recent turns
(``bot.conversation.Turn``) and rewrites it into standalone questions, which the usual
pipeline answers (``Engine.ask`` with ``context``). A message that is not a follow-up is
answered exactly as it would be alone.

**Reading** (``Followups.read``) decides whether a message is a follow-up at all:

- the whole message is a phrase of the lexicon's ``more``, ``before``, ``after`` or
  ``asks`` lists ("tell me more", "and before that?", "why?", "how many?", "year?"), a
  question word and a noun without a verb ("at which summit?"), a few frame words
  with the question word left out ("exact words?"), or a question word and only a role
  or only names ("who was the spokesperson?", "why japan?");
- it only asks where the previous answer is in the document (a ``citing`` word and
  nothing else: "source?", "which paragraph is that in?");
- it opens with a ``swap`` phrase ("what about france?"), or is "and" and a name: the
  previous question asked again of what follows;
- it holds a word pointing back ("it", "that year", "he", "they", "there", a dangling
  "before") that nothing earlier in the message can stand for: no name of a thing (the
  glossary's terms, the names the answers capitalise; not countries, people or the
  lexicon's frame words, as in "what was the *reaction* to it") and fewer than
  ``ANTECEDENT_WORDS`` words of content. "ITPP what is it" and "does the japanese
  constitution let it use force" stand alone; "what did russia say about it" does not.
  A message with a subject of its own and "he" or "they" ("when did they join the cyber
  centre") keeps its subject, and only the people are the thread's.

**Resolving** (``Followups.rewrites``): the previous turn's subject is its answer's first
entry and its question (kept in the base's words). A pointing word is replaced by what
it stands for: the subject (the entry's title, and, as a second reading, the previous
question without its question words), the person named there, its countries, its date. A
bare question word is asked of the subject; "what about X" replaces the country or person
of the previous question with X, or asks its question words of X. The rewrites are then
answered by the pipeline, and the engine prefers the previous entry when a rewrite asks
what the shape checks can verify it holds (``bot.qa.fit``): "and when was that?" is
answered by the visit's entry, which has its date. "tell me more" gives the previous
entry's related entries not yet given in the thread, and "and before that?" the milestone
before it. Every word list is the lexicon's (``knowledge/lexicon.yaml``, ``followups:``).

Some follow-ups are read for more than their subject (``docs/answering.md``): a side of
it ("what came the year after?"), the n-th person it named ("the first one"), a year
from its date ("a year later"), a name for it ("what was it called?": declined when its
entry names nothing), the authors' advice on it ("should that change?"), a date as
precise as asked ("the exact date?"), and whose words are asked ("how did japan
respond?": not answered by someone else's).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.conversation import MAX_QUESTION_CHARS, Turn
from bot.knowledge.base import Entry, KnowledgeBase
from bot.knowledge.lexicon import FollowupWords
from bot.qa.fit import Fit
from bot.qa.matcher import Matcher
from bot.qa.message import QUESTION_WORDS
from bot.qa.vocabulary import STOP_WORDS, content_terms
from bot.text import normalise, tokens

__all__ = ["Context", "Followups", "Reading"]

# Content words before a pointing word that are enough to be what it points at, whatever
# they are: "russia used to be a reason japan kept away from nato, is that still the case".
ANTECEDENT_WORDS = 3
# A message this short that opens with a question word ("which ones?", "at which
# summit?") is the end of the previous question, not a question of its own.
ELLIPSIS_WORDS = 3
_WH = frozenset({"which", "what", "whose", "who", "whom", "where", "when", "why", "how"})
_PREPOSITIONS = frozenset(
    {"at", "in", "on", "for", "by", "with", "from", "to", "of", "since", "until", "during"}
)
# Words of a name that are not names by themselves: "south korea", "east asia".
_COMPASS = frozenset(content_terms("north south east west northern southern eastern western".split()))
# Words a glossary name may hold that name nothing by themselves: "any others like it"
# has no subject of its own, whatever "Other NATO partners" is called.
_GENERIC = frozenset(content_terms("other others another such same".split()))
# A word in more than this share of the titles names nothing in particular ("security").
TOPIC_MAX_SHARE = 0.08
# Words before which "there" is "there is/are", not a place.
_BE = frozenset({"is", "are", "was", "were", "s", "be", "been"})
_DEMONSTRATIVES = frozenset({"this", "that", "these", "those"})
# An article of a charter or constitution, by its number ("article nine", "article 5").
_ARTICLE_NUMBER = re.compile(r"\d+|one|two|three|four|five|six|seven|eight|nine|ten")
_ARTICLE_NAMED = re.compile(rf"\barticle (?:{_ARTICLE_NUMBER.pattern})\b")
# "up to today", "as of today": the present asked about, not chatter about the asker.
_UP_TO = frozenset({"to", "of", "until", "till"})
_TODAY = frozenset({"today", "tonight"})
# Nouns for the briefing itself: "this article" is the document, not the previous subject.
_META = frozenset({"article", "story", "paper", "piece", "document", "text", "analysis", "report"})
_POSSESSIVES = frozenset({"his", "her", "its", "their", "theirs", "hers"})
# A verb's particle after "that" ("which articles set *that out*?"): not a noun it determines.
_PARTICLES = frozenset({"out", "up", "down", "off", "back", "over", "away"})
_YEAR = re.compile(r"(?:19|20)\d\d")
# The years the lexicon's year_after and year_before references stand for, from the previous subject's.
_YEAR_SHIFT = {"year_after": 1, "year_before": -1}
# Which of the people the previous turn names "the first one", "the other one" is.
_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "other": 1, "third": 2, "3rd": 2}
# A question this short of frame words alone asks them of the previous subject.
FRAME_ONLY_WORDS = 6
# Words addressing the bot: "what can you do?" asks about it, not the previous subject.
_ADDRESSEE = frozenset({"you", "your", "u", "yourself"})
# Frame words too slight to ask anything of a subject by themselves ("what did it do").
_WEAK_FRAME = "do did done make made get got know known tell told come came say says"
# Title decorations that say nothing about the subject ("Planned: …", "… (planned)"), and
# words for a plan, which would make "what was agreed there" ask about plans rather than
# what became of them.
_DECORATION = re.compile(
    r"^\s*planned:\s*|\([^)]*\)|[\"“”‘’']|\b(?:planned|expected|proposed)\b", re.IGNORECASE
)
# Words after which "that" or "this" is the subject of a verb ("why did that change"),
# not a determiner ("that office").
_AUXILIARIES = frozenset(
    """did does do will would can could should has have had didnt doesnt dont wont wouldnt
    cant couldnt shouldnt hasnt havent hadnt""".split()
)
# Kinds of answer that leave nothing to follow up on.
_NO_TURN = frozenset({"smalltalk", "empty", "language", "help"})
# Words asking for a person: the answer to such a question is who "he" or "she" is next.
_WHO = frozenset({"who", "whom", "whose"})
# Words for the other author of the notes' document ("her co-author", "the other author").
_CO_AUTHOR = frozenset({"co", "coauthor"})
# Which pronoun a word pointing at a person is of ("her" is "she"'s).
_PRONOUNS = {
    **dict.fromkeys(("he", "him", "his", "hes"), "he"),
    **dict.fromkeys(("she", "her", "hers", "shes"), "she"),
}
# Kinds that name the people they are about.
_PEOPLE_KINDS = frozenset({"person"})


@dataclass(frozen=True)
class Reading:
    """What a follow-up asks, before it is resolved against its thread."""

    kind: str  # "ask" | "more" | "before" | "after" | "swap" | "refer" | "people" | "source"
    text: str  # the question words (ask), what is swapped in (swap), the message (refer)


@dataclass(frozen=True)
class Context:
    """The thread as resolution reads it: its latest turn, and what the thread has given."""

    previous: Entry | None  # the latest turn's subject: its answer's first entry
    entries: tuple[Entry, ...]  # every entry of the latest turn's answer
    question: str  # the latest turn's question, in the base's words
    kind: str  # the latest turn's kind of answer
    given: frozenset[str]  # every entry the thread's recent turns gave


class Followups:
    """Reads and resolves follow-ups over one knowledge base; built once, then read only."""

    def __init__(self, kb: KnowledgeBase, matcher: Matcher, fit: Fit) -> None:
        self.kb = kb
        self.matcher = matcher
        self.fit = fit
        words = kb.lexicon.followups
        self._references = _phrases_by_length(
            (phrase, role)
            for role, phrases in (
                ("thing", words.thing),
                ("person", words.person),
                ("group", words.group),
                ("place", words.place),
                ("time", words.time),
                ("year_after", words.year_after),
                ("year_before", words.year_before),
            )
            for phrase in phrases
        )
        self._asks = {normalise(phrase): item.ask for item in words.asks for phrase in item.phrases}
        self._whole = {
            normalise(phrase): kind
            for kind, phrases in (("more", words.more), ("before", words.before), ("after", words.after))
            for phrase in phrases
        }
        self._weak_frame = frozenset(content_terms(_WEAK_FRAME.split()))
        # "tell me more" and the like of two words or more, which may open a question.
        self._more_openers = sorted(
            (tuple(normalise(p).split()) for p in words.more if len(normalise(p).split()) > 1),
            key=len,
            reverse=True,
        )
        self._sides = frozenset(w for phrase in words.sides for w in normalise(phrase).split())
        self._earlier = frozenset(normalise(w) for w in words.earlier)
        self._later = frozenset(normalise(w) for w in words.later)
        self._side_terms = frozenset(content_terms(sorted(self._earlier | self._later)))
        self._swap = [tuple(p.split()) for p, _ in _phrases_by_length((s, "") for s in words.swap)]
        self._joiners = [tuple(p.split()) for p, _ in _phrases_by_length((j, "") for j in words.joiners)]
        self._standalone = frozenset(normalise(phrase) for phrase in words.standalone)
        self._dangling = frozenset(normalise(phrase) for phrase in words.dangling)
        self._asides = frozenset(normalise(phrase) for phrase in words.asides)
        self._frame = frozenset(content_terms(tokens(normalise(" ".join(words.frame_words)))))
        roles = {w for phrase, _ in self._references for w in phrase.split()}
        # Chatter around a follow-up ("hey bot", "pls"), but never a word that points back,
        # which the reader's trimming of chatter would drop ("what did he say *there*").
        self._chatter = frozenset(w for c in kb.lexicon.chatter for w in normalise(c).split()) - roles
        self._thing_words = frozenset(
            w for phrase, role in self._references if role == "thing" for w in [phrase]
        )
        # The glossary's names ("article 9", "itpp"): what a previous answer names may be
        # what "it" is ("which article slows it down?" answered with Article 9).
        self._term_names = [
            (f" {name} ", e.id) for e in kb.of_kind("term") for name in map(normalise, e.aliases) if name
        ]
        # The words of people's names that name them ("kishida", "oana"), not the words of
        # their roles that some aliases hold ("prime minister", "nato chief").
        self._people_words = frozenset(
            w
            for names in fit.person_names.values()
            for n in names
            for w in n.split()
            if (t := content_terms([w])) and t[0] in fit.entity_words
        )
        self._topics = self._topic_terms(kb, words)
        self._voice = frozenset(normalise(w) for w in words.voice)
        self._advice = frozenset(w for phrase in words.advice for w in normalise(phrase).split())
        self._naming = frozenset(normalise(w) for w in words.naming)
        self._named = self._entries_with_names(kb, words)
        # "this article", "that section": the document and its parts, never the previous subject.
        self._meta = _META | frozenset(normalise(w) for w in kb.lexicon.document_words)
        self._citing = frozenset(normalise(w) for w in words.citing)
        self._new_topic = [tuple(p.split()) for p, _ in _phrases_by_length((t, "") for t in words.new_topic)]
        self._excepting = [tuple(p.split()) for p, _ in _phrases_by_length((t, "") for t in words.excepting)]
        self._portion = [tuple(p.split()) for p, _ in _phrases_by_length((t, "") for t in words.portion)]
        # What a request for the previous answer's place may say besides: frame words, the
        # words for a place in the document, and the document itself ("which paragraph of
        # the article is that?"); "this article's conclusion" asks about something else.
        self._citing_terms = (
            self._frame
            | frozenset(content_terms(sorted(self._citing)))
            | frozenset(content_terms(sorted(_META)))
        )

    @property
    def frame(self) -> frozenset[str]:
        """The terms of the lexicon's frame words: asking something of a subject, naming none."""
        return self._frame

    @property
    def asides(self) -> frozenset[str]:
        """The terms of words only a follow-up says ("else", "too")."""
        return frozenset(content_terms(sorted(self._asides)))

    # -- reading -------------------------------------------------------------------

    def read(self, message: str) -> Reading | None:
        """The follow-up ``message`` is, or None when it stands on its own."""
        words = normalise(message).split()
        if not words:
            return None
        for phrase in self._more_openers:
            rest = words[len(phrase) :]
            if tuple(words[: len(phrase)]) == phrase and len(rest) > 1 and rest[0] in QUESTION_WORDS:
                # "tell me more, what would japan do there": the question after it.
                words = words[len(phrase) :]
                break
        core = self._without_joiners(words)
        while len(core) > 1 and core[-1] in self._chatter and not _asks_up_to_now(core):
            core = core[:-1]
        bare = core[:-1] if len(core) > 1 and core[-1] in self._thing_words else core
        if " ".join(core) in self._standalone:
            return None
        opening = self._without_joiners(words, chatter=False)
        if any(tuple(opening[: len(t)]) == t for t in self._new_topic):
            # "ok unrelated but who wrote it": a new subject, not the thread's.
            return None
        for text in (" ".join(words), " ".join(core), " ".join(bare)):
            if text in self._whole:
                return Reading(self._whole[text], text)
        for text in (
            " ".join(words),
            " ".join(self._without_joiners(words, chatter=False)),
            " ".join(core),
            " ".join(self._before_excepting(core)),
        ):
            # "with whom?": whole, before the chatter "with" is trimmed from it.
            if text in self._asks:
                return Reading("ask", self._asks[text])
        if not core:
            return None
        if self._cites(core):
            # "source?", "which paragraph is that in?": where the previous answer comes from.
            return Reading("source", " ".join(core))
        side = self._side(core)
        if side is not None:
            # "what came the year after?": nothing of its own but a side of the subject.
            return Reading(side, " ".join(core))
        for opener in self._swap:
            if tuple(core[: len(opener)]) == opener and len(core) > len(opener):
                rest = core[len(opener) :]
                if rest[0] in QUESTION_WORDS:
                    break
                if self._pointing(rest):
                    return Reading("refer", " ".join(rest))
                return Reading("swap", " ".join(self._named_side(rest) or rest))
        if core[0] == "and" or "and" in words[: len(words) - len(core)]:
            # "and russia?", "and on nato's side?": a name alone after "and" asks the
            # previous question of it.
            rest = core[1:] if core[0] == "and" else core
            named = self._named_side(rest)
            if named:
                return Reading("swap", " ".join(named))
        pointing = self._pointing(core)
        people = any(role in ("person", "group") for _, _, role in pointing)
        if any(role not in ("person", "group") for _, _, role in pointing) or (
            people and not self._own_subject(core)
        ):
            # "when was that?", "who is he?": what it points at is the thread's.
            return Reading("refer", " ".join(core))
        if people:
            # "when did he visit tokyo": a subject of its own, and someone from the thread.
            return Reading("people", " ".join(core))
        if self._elliptical(core) or self._frame_only(core) or self._role_or_names_only(core):
            # "at which summit?", "which ones?": too short to be a question of its own;
            # "what was the exact date?": asks something of a subject it does not name.
            return Reading("ask", " ".join(core))
        return None

    def _before_excepting(self, words: Sequence[str]) -> list[str]:
        """``words`` up to what they leave out ("any others | besides the uk"); [] when
        they leave nothing out."""
        for i in range(1, len(words)):
            if any(tuple(words[i : i + len(e)]) == e for e in self._excepting):
                return list(words[:i])
        return []

    def _cites(self, words: Sequence[str]) -> bool:
        """Whether ``words`` only ask where in the document the previous answer is: a word
        of the lexicon's ``citing`` and nothing else of content, either alone ("source?",
        "which paragraph?") or pointing back ("which section is that in?")."""
        if not any(w in self._citing for w in words):
            return False
        if any(t not in self._citing_terms for t in content_terms(list(words))):
            return False
        # "does this article have sections" is the document's, not the previous answer's.
        return len(words) <= ELLIPSIS_WORDS or any(
            role == "thing" and not (start + length < len(words) and words[start + length] in self._meta)
            for start, length, role in self._pointing(words)
        )

    def _frame_only(self, words: Sequence[str]) -> bool:
        """A short question whose only words of content are frame words ("what was the
        exact date?", "what was the outcome?"), asked of no one ("what can you do?")."""
        if not words or len(words) > FRAME_ONLY_WORDS:
            return False
        if words[0] not in _WH | _AUXILIARIES | _BE and (
            len(words) > ELLIPSIS_WORDS or any(w in _WH | _AUXILIARIES | _BE for w in words)
        ):
            # "year?", "exact day?": frame words alone, the question word left out; "led by
            # who?" has its question word, and a verb asking it of something named before.
            return False
        if any(w in _ADDRESSEE for w in words):
            return False
        # "what was the reaction from nato?": frame words and the name of who reacts are
        # still no subject; "did japan join nato?" asks a whole question of its names.
        names = self.fit.parties if words[0] in _WH else frozenset[str]()
        terms = [t for t in content_terms(list(words)) if t not in names]
        return bool(terms) and all(t in self._frame for t in terms) and bool(set(terms) - self._weak_frame)

    def _role_or_names_only(self, words: Sequence[str]) -> bool:
        """A question word and only a role ("who was the spokesperson?") or only names of
        countries and bodies ("why japan?"): asked of the previous subject, which the
        message does not name."""
        if not words or words[0] not in _WH or len(words) > ELLIPSIS_WORDS + 1:
            return False
        terms = [t for t in content_terms(list(words)) if t not in self._frame]
        return bool(terms) and (
            all(t in self.fit.person_terms for t in terms) or all(t in self.fit.parties for t in terms)
        )

    def precision(self, message: str) -> str:
        """How precise a date ``message`` asks for: "day" ("what day?"), "month" ("the
        exact date?"), or "" when a year will do (the shape checks read the same phrases)."""
        return self.fit.precision(normalise(message))

    def voiced_by(self, message: str) -> list[str]:
        """Who ``message`` asks the words or reaction of: the countries and people named
        before its first word of saying or reacting ("how did *japan* respond?"), not
        after it ("what did she say about japan?" asks hers); [] when it asks no one's."""
        words = normalise(message).split()
        at = next((i for i, w in enumerate(words) if w in self._voice), None)
        return [] if at is None else self.actors(" ".join(words[:at]))

    def actors(self, text: str) -> list[str]:
        """The countries, bodies and people ``text`` names (terms of countries and bodies,
        words of names): "how did *nato* respond to her?" asks NATO's reaction."""
        words = normalise(text).split()
        return [t for t in content_terms(words) if t in self.fit.parties] + [
            w for w in words if w in self._people_words
        ]

    def without_asides(self, message: str) -> str:
        """``message`` without the words only a follow-up says ("who *else*", "*too*")."""
        return " ".join(w for w in normalise(message).split() if w not in self._asides)

    def adds_content(self, message: str) -> bool:
        """Whether ``message`` says anything beyond pointing back and frame words ("why
        did they?" does not; "why would japan be useful there" does)."""
        return self._content_count(normalise(message).split()) > 0

    def asks_advice(self, message: str) -> bool:
        """Whether ``message`` only asks what should be done ("should that change?",
        "what do the authors recommend?"), about nothing of its own."""
        words = normalise(message).split()
        if not any(w in self._advice for w in words):
            return False
        advice = set(content_terms(sorted(self._advice)))
        return all(t in self._frame or t in advice for t in content_terms(words))

    def asks_if_done(self, reading: Reading) -> bool:
        """Whether ``reading`` asks yes or no whether something was done ("did japan join
        it?", "has that happened?"): not what someone said of it ("did they say why?"),
        nor what should be done ("did they recommend it?")."""
        words = reading.text.split()
        return (
            reading.kind in ("ask", "refer")
            and bool(words)
            and words[0] in ("did", "has", "have", "had")
            and not any(w in self._voice or w in self._advice or w in _WH for w in words)
        )

    def advice(self, context: Context) -> Entry | None:
        """The recommendation that answers "should that change?": the previous entry if
        it is one, else the first recommendation the previous answer's entries relate to."""
        for entry in context.entries[:1]:
            if entry.kind == "recommendation":
                return entry
        for entry in context.entries:
            for entry_id in entry.related:
                related = self.kb.by_id.get(entry_id)
                if related is not None and related.kind == "recommendation":
                    return related
        return None

    def asks_name(self, message: str) -> bool:
        """Whether ``message`` asks only what something is called ("what was it called?",
        "its official name?"), not which things were named ("which countries were named?")."""
        words = normalise(message).split()
        if not any(w in self._naming for w in words):
            return False
        naming = set(content_terms(sorted(self._naming)))
        # "what's that exercise called?": the demonstrative's noun is the subject, not asked.
        asked = [w for i, w in enumerate(words) if not (i and words[i - 1] in _DEMONSTRATIVES)]
        return all(t in self._frame or t in naming for t in content_terms(asked))

    def portion(self, message: str) -> list[str]:
        """The part of the previous answer's number ``message`` asks for ("how much of that
        was defense equipment?": defense equipment, as terms); [] when it asks none."""
        words = normalise(message).split()
        opening = next((p for p in self._portion if tuple(words[: len(p)]) == p), None)
        if opening is None:
            return []
        rest = words[len(opening) :]
        pointing = [(s, n) for s, n, role in self._pointing(rest) if role in ("thing", "group") and n]
        if not pointing or pointing[0][0] != 0:
            return []  # "how much of the aid was equipment": a question of its own
        part = rest[pointing[0][1] :]
        return [t for t in content_terms(part) if t not in self._frame and t not in self.asides]

    def asks_someones_name(self, message: str) -> bool:
        """Whether ``message`` asks the name of someone it points back at ("what's his
        name?", "their names?"): a person's name, which a name for a thing is not."""
        words = normalise(message).split()
        return self.asks_name(message) and any(
            role in ("person", "group") for _, _, role in self._pointing(words)
        )

    def gives_name(self, entry: Entry) -> bool:
        """Whether ``entry`` names its subject: a person, or a capitalised word in its title
        or aliases that is not a country, a body, a person, a region or a title of office."""
        return entry.id in self._named

    def _entries_with_names(self, kb: KnowledgeBase, words: FollowupWords) -> frozenset[str]:
        not_names = set(content_terms(tokens(normalise(" ".join(words.not_names)))))
        not_names |= self.fit.parties | set(content_terms(sorted(self._people_words)))

        def names(text: str) -> bool:
            parts = re.findall(r"[A-Za-z][A-Za-z0-9'’-]*", _DECORATION.sub(" ", text))
            for position, part in enumerate(parts):
                if not part[0].isupper() or (position == 0 and not part.isupper()):
                    continue  # a sentence's first word is capitalised whatever it is
                terms = content_terms(tokens(normalise(part)))
                if terms and not set(terms) <= not_names:
                    return True
            return False

        return frozenset(
            e.id
            for e in kb.entries
            if e.kind in _PEOPLE_KINDS or any(names(t) for t in (e.title, *e.aliases))
        )

    def _elliptical(self, words: Sequence[str]) -> bool:
        """A question word and a noun or two, without a verb: "which summit?", "at which
        meeting?". "what is marcom" has its verb and its subject, and stands alone."""
        if not words or len(words) > ELLIPSIS_WORDS:
            return False
        if len(words) > 1 and words[0] in _PREPOSITIONS and words[1] in _WH:
            return True
        return (
            words[0] in _WH
            and len(words) > 1
            and words[1] not in _AUXILIARIES | _BE
            and not any(w in self._people_words for w in words)
        )

    def _side(self, words: Sequence[str]) -> str | None:
        """ "before" or "after" for a message that only places itself on one side of the
        previous subject ("what came the year after?", "and the following year?"), else None:
        a subject of its own ("what did japan do after"), someone pointed at ("who came
        before him?") or both sides make it something else."""
        sides = {"before" for w in words if w in self._earlier} | {"after" for w in words if w in self._later}
        if len(sides) != 1:
            return None
        if any(role in ("person", "group", "place") for _, _, role in self._pointing(words)):
            return None
        own = [t for t in content_terms(list(words)) if t not in self._frame and t not in self._side_terms]
        return None if own else sides.pop()

    def _without_joiners(self, words: list[str], chatter: bool = True) -> list[str]:
        """``words`` without the "and", "so", "ok" a follow-up opens with (and, with
        ``chatter``, without the chatter it opens with)."""
        changed = True
        while changed and words:
            changed = False
            if chatter and len(words) > 1 and words[0] in self._chatter:
                words = words[1:]
                changed = True
                continue
            for joiner in self._joiners:
                if tuple(words[: len(joiner)]) == joiner and len(words) > len(joiner):
                    words = words[len(joiner) :]
                    changed = True
                    break
        return words

    def _pointing(self, words: Sequence[str]) -> list[tuple[int, int, str]]:
        """The words pointing back outside the message: (start, length, role) each."""
        found: list[tuple[int, int, str]] = []
        position = 0
        while position < len(words):
            match = self._reference_at(words, position)
            if match is None:
                position += 1
                continue
            length, role = match
            word = words[position]
            after = words[position + length] if position + length < len(words) else ""
            before = words[:position]
            if (
                role == "thing"
                and word in _DEMONSTRATIVES
                and after
                and (
                    (_is_content(after) and not self._framing(after) and after not in _PARTICLES)
                    or after in self._meta
                )
                and not (before and before[-1] in _AUXILIARIES)
                and (after in self._meta or not self._only_noun_points(words, position))
            ):
                pass  # "this article", "that office": a determiner, its noun names the subject
            elif role == "place" and (after in _BE or (before and before[-1] in _BE)):
                pass  # "are there", "there is": not a place
            elif not self._object_at_end(words, position, length, role) and (
                (self._stands_for(before, role) and not _asks_a_noun_of_it(before))
                or (
                    word in _POSSESSIVES and after and _is_content(after) and self._owner_before(before, role)
                )
            ):
                pass  # what it points at is earlier in the message: "nato marks *its* anniversary"
            else:
                found.append((position, length, role))
            position += length
        if (
            len(words) > 1
            and not any(start + length == len(words) for start, length, _ in found)  # "a year later"
            and not any(role == "thing" for _, _, role in found)  # "where was *it* signed": its object
            and words[-1] in self._dangling
            and self._content_count(words[:-1]) < ANTECEDENT_WORDS
        ):
            # "and what was its policy before?": before what the thread was about.
            found.append((len(words), 0, "thing"))
        return found

    def _framing(self, word: str) -> bool:
        """Whether ``word`` is a frame word ("that *before*", "that *time*"): after "that",
        no noun naming a subject."""
        return all(t in self._frame for t in content_terms([word]))

    def _only_noun_points(self, words: Sequence[str], position: int) -> bool:
        """Whether "that <noun>" at ``position`` is all the subject the message has ("what's
        that exercise called?", "who else was in that group?"): its noun is then the thread's
        subject by another word, as "it" would be, and the demonstrative points back."""
        rest = [*words[:position], *words[position + 2 :]]
        asides = self.asides
        own = [t for t in content_terms(rest) if t not in self._frame and t not in asides]
        return not own and not any(w in self._people_words for w in rest)

    @staticmethod
    def _object_at_end(words: Sequence[str], position: int, length: int, role: str) -> bool:
        """Whether a pointing word ends a question as the object of its verb or preposition
        ("how many members were *in it*", "how much does japan *give it*"): what it points
        at is then not the question's own subject, which an object never stands for. A
        subject placed before the question ("the itpp, when will japan sign it") still is."""
        return (
            role == "thing"
            and position + length == len(words)
            and position > 1
            and words[position - 1] not in _BE | _AUXILIARIES
            and words[0] in _WH | _AUXILIARIES
            and not any(w in _WH or w == "and" for w in words[1:position])  # one question
        )

    def _reference_at(self, words: Sequence[str], position: int) -> tuple[int, str] | None:
        for phrase, role in self._references:
            parts = phrase.split()
            if tuple(words[position : position + len(parts)]) == tuple(parts):
                return len(parts), role
        return None

    def _content_count(self, words: Sequence[str]) -> int:
        """How many words of ``words`` carry content beyond a follow-up's frame words."""
        return len([t for t in content_terms(list(words)) if t not in self._frame])

    def _stands_for(self, before: Sequence[str], role: str) -> bool:
        """Whether the words before a pointing word can be what it points at."""
        terms = [t for t in content_terms(list(before)) if t not in self._frame]
        if role == "person":
            # Only a person is "he" or "her": "how did japan respond to her" points back.
            return any(w in self._people_words for w in before)
        if any(t in self._topics for t in terms) or len(terms) >= ANTECEDENT_WORDS:
            return True
        if role == "group":
            return self._named_before(before)
        return False

    def _owner_before(self, before: Sequence[str], role: str) -> bool:
        """Whether someone earlier in the message can own what a possessive names."""
        if role == "person":
            return any(w in self._people_words for w in before)
        return self._named_before(before)

    def _named_before(self, before: Sequence[str]) -> bool:
        terms = set(content_terms(list(before)))
        return bool(terms & self.fit.parties) or any(w in self._people_words for w in before)

    def _own_subject(self, words: Sequence[str]) -> bool:
        """Whether the message names a subject of its own (see the module's docstring)."""
        return any(t in self._topics for t in content_terms(list(words)))

    def _names_something(self, words: Sequence[str]) -> bool:
        """Whether the message names a country or a person of its own."""
        terms = content_terms(list(words))
        return any(t in self.fit.countries - {"japan"} for t in terms) or any(
            w in self._people_words for w in words
        )

    def _named_side(self, words: Sequence[str]) -> list[str]:
        """The name ``words`` asks of, without the words saying it is its side ("on
        nato's side", "from russia's perspective"); [] when they are more than a name."""
        rest = list(words)
        while rest and rest[0] in _PREPOSITIONS:
            rest = rest[1:]
        rest = [w for w in rest if w not in self._sides]
        return rest if rest and len(rest) <= 3 and self._only_names(rest) else []

    def _only_names(self, words: Sequence[str]) -> bool:
        # "south korea", "east asia": a compass word is part of the name after it.
        terms = [t for t in content_terms(list(words)) if t not in _COMPASS]
        return bool(terms) and all(t in self.fit.parties or t in self._people_words for t in terms)

    def _topic_terms(self, kb: KnowledgeBase, words: FollowupWords) -> frozenset[str]:
        """Terms that name a thing: the names of the glossary's terms (their titles and
        aliases) and the names the answers capitalise, but not countries, people, bodies,
        frame words, nor words so common in titles that they name nothing in particular."""
        frequency: dict[str, int] = {}
        for entry in kb.entries:
            for term in set(content_terms(tokens(normalise(" ".join([entry.title, *entry.aliases]))))):
                frequency[term] = frequency.get(term, 0) + 1
        named: set[str] = set(self.fit.entity_words)
        for entry in kb.of_kind("term"):
            names = " ".join([_DECORATION.sub(" ", entry.title), *entry.aliases])
            named.update(content_terms(tokens(normalise(names))))
        limit = TOPIC_MAX_SHARE * len(kb.entries)
        people = frozenset(content_terms(sorted(self._people_words)))
        return frozenset(
            term
            for term in named
            if frequency.get(term, 0) <= limit
            and not term.isdigit()
            and term not in self.fit.parties | people | self._frame | _GENERIC
            and len(term) > 1
        )

    # -- resolving -----------------------------------------------------------------

    def context(self, turns: Sequence[Turn]) -> Context | None:
        """The thread as resolution reads it; None with nothing to follow up on."""
        if not turns:
            return None
        latest = turns[-1]
        entries = tuple(self.kb.by_id[e] for e in latest.entry_ids if e in self.kb.by_id)
        if not entries and not latest.question:
            return None
        given = frozenset(e for turn in turns for e in turn.entry_ids)
        return Context(entries[0] if entries else None, entries, latest.question, latest.kind, given)

    def rewrites(self, reading: Reading, context: Context) -> tuple[str, ...]:
        """Standalone questions that ``reading`` asks in ``context``, the likeliest first."""
        subjects = self._subjects(context)
        found: list[str] = []
        if reading.kind == "ask":
            found = [f"{reading.text} {subject}" for subject in subjects]
            if self._names_something(reading.text.split()):
                # "how did china feel?": as it stands, when no answer about the subject is China's.
                found.append(reading.text)
        elif reading.kind == "refer":
            words = reading.text.split()
            pointing = self._pointing(words)
            # "was that before or after the shangri-la dialogue?": the subject and another
            # event, put in order.
            other = self._ordered_against(words, pointing)
            found = [f"which came first {subject} or {other}" for subject in subjects] if other else []
            if any(role in _YEAR_SHIFT for _, _, role in pointing):
                # "stoltenberg's echo a year later": the subject it is later than, first
                # (the subject's words find the echo), then the year alone; the engine
                # keeps only an answer of that year (``Engine._of_year``).
                kept = [p for p in pointing if p[2] not in _YEAR_SHIFT]
                found = [f"{self._replaced(words, kept, context, subject)} {subject}" for subject in subjects]
            found += [self._replaced(words, pointing, context, subject) for subject in subjects]
            article = self._article_named(words, context)
            if article is not None:
                # "what does that article restrict?" after "article nine of Japan's
                # constitution": that article, not the briefing.
                found.insert(0, article)
            if self._names_something(words):
                # "what has beijing said about it": Beijing alone may find what the
                # subject's words, too many or too few, do not.
                found.append(self._replaced(words, pointing, context, ""))
        elif reading.kind == "people":
            # Only "he", "they" and the like are replaced, and only by someone the thread names.
            words = reading.text.split()
            pointing = [p for p in self._pointing(words) if p[2] in ("person", "group")]
            names = {role: self._filler(role, context, "") for _, _, role in pointing}
            if all(names.values()):
                found = [self._replaced(words, pointing, context, "")]
        elif reading.kind == "swap":
            swapped = self._swapped(context.question, reading.text)
            found = [swapped]
            words = swapped.split()
            new = reading.text.split()
            at = next((i for i in range(len(words)) if words[i : i + len(new)] == new), None)
            verb = at + len(new) if at is not None else len(words)
            if verb + 1 < len(words) and words[verb] in self._voice:
                # "what about china?" after "what did russia say about nato moving into
                # asia": if the whole question finds nothing, what China said at all.
                found.append(" ".join(words[: verb + 1]))
        return tuple(dict.fromkeys(q for q in (" ".join(f.split()) for f in found) if q))

    @staticmethod
    def _article_named(words: Sequence[str], context: Context) -> str | None:
        """``words`` with "that article" made the article of a charter or constitution the
        previous answer names ("article nine"); None when either is missing."""
        determiners = _DEMONSTRATIVES | {"the"}
        # "that article", "that constitution article": from the determiner to "article".
        span = next(
            (
                (start, i)
                for i in range(1, len(words))
                if words[i] == "article"
                for start in (i - 1, i - 2)
                if start >= 0 and words[start] in determiners
            ),
            None,
        )
        if span is None or (span[1] + 1 < len(words) and _ARTICLE_NUMBER.fullmatch(words[span[1] + 1])):
            return None
        named = [_ARTICLE_NAMED.search(normalise(e.answer)) for e in context.entries]
        found = next((m.group(0) for m in named if m is not None), None)
        if found is None:
            return None
        return " ".join([*words[: span[0]], found, *words[span[1] + 1 :]])

    def _ordered_against(self, words: Sequence[str], pointing: list[tuple[int, int, str]]) -> str:
        """The event a pointing word is set before or after ("that | before or after | the
        shangri-la dialogue"); "" when the message does not order the subject against one."""
        things = [(start, length) for start, length, role in pointing if role == "thing" and length]
        if not things or (words and words[0] in _WH - {"when"}):
            # "what did she say about it after vilnius?" asks for words said after it, not
            # which came first ("was that before or after …?", "when was it, before …?").
            return ""
        start, length = things[0]
        rest = list(words[start + length :])
        sides = 0
        while rest and rest[0] in self._earlier | self._later | {"or", "than", "the"}:
            sides += rest[0] in self._earlier | self._later
            rest = rest[1:]
        return " ".join(rest) if sides and rest and self._content_count(rest) else ""

    def shifted_year(self, reading: Reading, context: Context) -> int | None:
        """The year "a year later" ("the year before") in ``reading`` means, from the
        previous subject's date; None when it says no such thing or there is no date."""
        if reading.kind != "refer" or context.previous is None or context.previous.date is None:
            return None
        shifts = self._year_shifts(reading.text.split())
        return context.previous.date.year + shifts[0] if shifts else None

    def _year_shifts(self, words: Sequence[str]) -> list[int]:
        """The years the message's "a year later", "the year before" shift by, in order."""
        return [_YEAR_SHIFT[role] for _, _, role in self._pointing(words) if role in _YEAR_SHIFT]

    def year_shifted_question(self, message: str, context: Context) -> tuple[str, int] | None:
        """ "and the one a year later?" after "what was the 2013 agreement called": the
        previous question asked of the year after its own (its one year, shifted), and
        that year; None when the message shifts no year or the question holds no one year."""
        shifts = self._year_shifts(normalise(message).split())
        years = [w for w in context.question.split() if _YEAR.fullmatch(w)]
        if len(shifts) != 1 or len(set(years)) != 1:
            return None
        year = int(years[0]) + shifts[0]
        return " ".join(str(year) if w == years[0] else w for w in context.question.split()), year

    def skeleton(self, reading: Reading, context: Context) -> str:
        """The follow-up rewritten without the previous subject's words: what the message
        itself asks, with the people and dates the thread gives it ("what happened in 2018")."""
        if reading.kind not in ("refer", "people"):
            return reading.text
        words = reading.text.split()
        other = self._ordered_against(words, self._pointing(words))
        if other:
            return f"which came first that or {other}"  # the order is what it asks
        # "that" stands in for the subject: "which came first, that or the madrid summit?"
        # still asks an order with its subject's words gone.
        return self._replaced(words, self._pointing(words), context, "that")

    def _subjects(self, context: Context) -> list[str]:
        """The previous turn's subject in words: its entry's title, then its question
        without the question words."""
        subjects = []
        if context.previous is not None and context.kind != "timeline":
            subjects.append(normalise(_DECORATION.sub(" ", context.previous.title)))
        words = normalise(_DECORATION.sub(" ", context.question)).split()
        start = 0
        while start < len(words) and words[start] in STOP_WORDS:
            start += 1
        if start < len(words):
            subjects.append(" ".join(words[start:]))
        answered = self._term_answered(context)
        if answered is not None:
            subjects.append(normalise(_DECORATION.sub(" ", answered.title)))
        return list(dict.fromkeys(s for s in subjects if s))

    def _term_answered(self, context: Context) -> Entry | None:
        """The glossary entry a "which …?" or "what …?" question was answered with, by
        name ("which article of japan's constitution slows it down?": Article 9), when the
        question did not name it and the answer is not that entry; else None."""
        previous = context.previous
        words = context.question.split()
        if previous is None or previous.kind == "term" or not words or words[0] not in ("which", "what"):
            return None
        asked = f" {context.question} "
        answer = f" {normalise(previous.answer)} "
        found = [
            (answer.find(name), entry_id)
            for name, entry_id in self._term_names
            if name in answer and name not in asked
        ]
        return self.kb.by_id[min(found)[1]] if found else None

    def _replaced(
        self, words: list[str], pointing: list[tuple[int, int, str]], context: Context, subject: str
    ) -> str:
        out: list[str] = []
        position = 0
        for start, length, role in pointing:
            out.extend(words[position:start])
            out.append(self._filler(role, context, subject, " ".join(words[start : start + length])))
            position = start + length
        out.extend(words[position:])
        return " ".join(w for w in out if w not in self._asides)

    def _filler(self, role: str, context: Context, subject: str, phrase: str = "") -> str:
        """What a pointing word of ``role`` stands for in ``context``."""
        if role == "person":
            words = set(phrase.split())
            if words & _CO_AUTHOR:
                # "her co-author": the document's other author.
                return self._co_author(context, phrase) or subject
            if "other" in words and (author := self._co_author(context, phrase)):
                # "the other author", "and the other?" after one of the authors: the other.
                return author
            rank = next((_ORDINALS[w] for w in phrase.split() if w in _ORDINALS), 0)
            if rank and phrase.split()[-1] == "one" and not self._about_people(context):
                # "what's the second one called?" after the document's sections: one of
                # the things the previous answer lists (``nth_of_list``), not a person.
                return subject
            return (self._nth_person(context, rank) if rank else self._person(context, phrase)) or subject
        if role == "group":
            return self._group(context) or self._person(context) or subject
        if role == "place":
            return self._place(context) or subject
        if role in _YEAR_SHIFT and context.previous is not None and context.previous.date is not None:
            return f"in {context.previous.date.year + _YEAR_SHIFT[role]}"
        if role == "time" and context.previous is not None and context.previous.date is not None:
            date = context.previous.date
            when = str(date.year) if "year" in phrase.split() else date.human().casefold()
            return when if phrase in ("then", "back then") else f"in {when}"
        return subject

    def _person(self, context: Context, phrase: str = "") -> str:
        """The person a "he" or "she" (``phrase``) means: named in the previous question,
        else the previous entry's person, speaker, or the first person its answer names;
        after a question asking who, the person answered first. Of these, the first whose
        pronoun is the phrase's ("she" is never a man the notes call "he")."""
        pronoun = next((_PRONOUNS[w] for w in phrase.split() if w in _PRONOUNS), None)
        for person in self._people_pointed_at(context):
            if pronoun is None or self.kb.by_id[person].pronoun in (None, pronoun):
                return self._name(person)
        return ""

    def _co_author(self, context: Context, phrase: str) -> str:
        """Who wrote the notes' document with the person ``phrase`` points at ("her
        co-author" after Lindgren: Brummer); "" when that person wrote none of them."""
        author = self._person(context, phrase)
        for document in self.kb.documents.values():
            names = [normalise(name) for name in document.authors]
            if author in names and len(names) > 1:
                return next(name for name in names if name != author)
        return ""

    def _people_pointed_at(self, context: Context) -> list[str]:
        """The people a "he" or "she" may mean, the likeliest first."""
        asked = self.fit.people_in(context.question)
        previous = context.previous
        found: list[str] = []
        if previous is not None and previous.id not in asked and _WHO & set(context.question.split()):
            # "who co-wrote it with brummer?" answered by Lindgren: "her role" is the
            # answer's, someone the question did not name ("who is stoltenberg?" answered
            # by his own entry, which names Kishida: "he" is Stoltenberg).
            found += self._in_order(self.fit.named(previous.id) - asked, normalise(previous.answer))
        found += self._in_order(asked, context.question)
        if previous is not None:
            if previous.kind in _PEOPLE_KINDS:
                found.append(previous.id)
            speaker = normalise(previous.speaker or "")
            found += self._in_order(self.fit.people_in(speaker), speaker)
            found += self._in_order(self.fit.named(previous.id), normalise(previous.answer))
        return list(dict.fromkeys(found))

    def _in_order(self, people: Iterable[str], text: str) -> list[str]:
        """``people`` (ids) in the order ``text`` names them."""
        return sorted(people, key=lambda p: (self._position(p, text), p))

    def nth_of_list(self, reading: Reading, context: Context) -> bool:
        """Whether ``reading`` points at the n-th of the things the previous answer lists
        ("what's the second one called?" after the document's sections), not at a person."""
        if reading.kind != "refer" or self._about_people(context):
            return False
        words = reading.text.split()
        return any(
            role == "person"
            and words[start + length - 1] == "one"
            and any(w in _ORDINALS for w in words[start : start + length])
            for start, length, role in self._pointing(words)
        )

    def _about_people(self, context: Context) -> bool:
        """Whether the previous turn was about people: it asked who, named someone, or was
        answered by a person's entry."""
        words = context.question.split()
        return (
            bool(words and words[0] in ("who", "whom", "whose"))
            or bool(self.fit.people_in(context.question))
            or (context.previous is not None and context.previous.kind in _PEOPLE_KINDS)
        )

    def _nth_person(self, context: Context, rank: int) -> str:
        """The second (third, …) person the previous question, else the previous answer,
        names: "the other one" after "who wrote this?"."""
        for text, people in (
            (context.question, self.fit.people_in(context.question)),
            (normalise(context.previous.answer), self.fit.named(context.previous.id))
            if context.previous is not None
            else ("", frozenset[str]()),
        ):
            ordered = self._in_order(people, text)
            if len(ordered) > rank:
                return self._name(ordered[rank])
        return ""

    def _group(self, context: Context) -> str:
        """The countries (and alliances) a "they" means: named in the previous question,
        else in the previous entry's title. After a question asking which one ("which nato
        member protested?"), "they" is the answer's, not the question's: France, not NATO."""
        title = normalise(context.previous.title) if context.previous else ""
        named = [self._parties_in(text) for text in (context.question, title)]
        words = context.question.split()
        if context.previous is not None and words and words[0] in ("who", "whos"):
            # "who wrote it?" answered by two people: "they" are those people.
            people = self.fit.named(context.previous.id) - self.fit.people_in(context.question)
            if len(people) > 1 and not named[0]:
                ordered = self._in_order(people, normalise(context.previous.answer))
                return " and ".join(self._name(p) for p in ordered)
        if words and words[0] in ("which", "who", "whos") and named[0]:
            answered = [w for w in named[1] if w not in named[0]]
            if answered:
                return " and ".join(dict.fromkeys(answered))
        return next((" and ".join(dict.fromkeys(names)) for names in named if names), "")

    def _place(self, context: Context) -> str:
        """Where "there" is: a country the previous entry's title puts something in ("…
        supporting NATO in Kosovo": "in kosovo"); "" when its title places nothing."""
        if context.previous is None:
            return ""
        words = normalise(context.previous.title).split()
        for before, word in itertools.pairwise(words):
            terms = content_terms([word])
            if before in ("in", "at") and terms and terms[0] in self.fit.countries:
                return f"{before} {word}"
        return ""

    def _parties_in(self, text: str) -> list[str]:
        """The words of ``text`` that name a country or a body, in order."""
        return [w for w in text.split() if (t := content_terms([w])) and t[0] in self.fit.parties]

    def _position(self, person: str, text: str) -> int:
        """Where ``text`` first names ``person`` (past its end when it does not)."""
        padded = f" {text} "
        found = [padded.find(f" {n} ") for n in self.fit.person_names[person]]
        return min((f for f in found if f >= 0), default=len(padded))

    def _name(self, person_id: str) -> str:
        return normalise(self.kb.by_id[person_id].title.split(",")[0])

    def _swapped(self, question: str, new: str) -> str:
        """``question`` asked of ``new``: its country or person replaced by ``new``'s kind,
        else a name added to its subject, else its question words followed by ``new``."""
        words = question.split()
        new_words = new.split()
        if new_words and _YEAR.fullmatch(new_words[-1]) and all(w in _PREPOSITIONS for w in new_words[:-1]):
            new = new_words[-1]  # "what about in 2019?"
        new_terms = content_terms(new.split())
        if _YEAR.fullmatch(new):
            # "what about 2018?": the question asked of that year instead.
            years = [i for i, w in enumerate(words) if _YEAR.fullmatch(w)]
            if years:
                return " ".join([*words[: years[0]], new, *words[years[0] + 1 :]])
            return f"{question} in {new}"
        if any(t in self.fit.parties for t in new_terms):
            places = [
                i
                for i, w in enumerate(words)
                if (t := content_terms([w])) and t[0] in self.fit.parties and t[0] not in new_terms
            ]
            # A name of the same kind (a country for a country, a body for a body), and the
            # country the question is about rather than Japan, which is in most of them.
            body = any(t in self.fit.bodies for t in new_terms)
            places.sort(
                key=lambda i: (
                    (content_terms([words[i]])[0] in self.fit.bodies) != body,
                    content_terms([words[i]])[0] == "japan",
                )
            )
            if places:
                return " ".join([*words[: places[0]], new, *words[places[0] + 1 :]])
        new_people = self.fit.people_in(normalise(new))
        if new_people:
            for person in self.fit.people_in(question) - new_people:
                for name in sorted(self.fit.person_names[person], key=len, reverse=True):
                    padded = f" {question} "
                    if f" {name} " in padded:
                        return padded.replace(f" {name} ", f" {new} ", 1).strip()
        start = 0
        while start < len(words) and words[start] in STOP_WORDS:
            start += 1
        if self._only_names(new.split()):
            # Nothing of its kind to replace: a name asked of the same subject ("tell me
            # about the tokyo office" -> "and russia?" is Russia and the office).
            return " ".join([*words[:start], new, *words[start:]])
        # "what about materials?": the question asked of something else.
        return " ".join([*words[:start], new])

    def related(self, context: Context) -> list[Entry]:
        """What "tell me more" offers: the previous entries' related entries the thread
        has not given yet, in the order the curators listed them."""
        found: dict[str, Entry] = {}
        for entry in context.entries:
            for entry_id in entry.related:
                if entry_id not in context.given and entry_id in self.kb.by_id:
                    found.setdefault(entry_id, self.kb.by_id[entry_id])
        return list(found.values())

    def without_pointing(self, message: str) -> str:
        """``message`` without its words pointing back ("what does *that* constitutional
        article restrict?" is "what does constitutional article restrict"): what it asks of
        its own words, for the thread to confirm (``connected``)."""
        words = normalise(message).split()
        spans = {i for start, length, _ in self._pointing(words) for i in range(start, start + length)}
        return " ".join(w for i, w in enumerate(words) if i not in spans)

    def points_at_a_thing(self, message: str) -> bool:
        """Whether ``message`` points back only at a thing ("who objected to *it*?"), not at
        a person, a group, a place or a time."""
        pointing = self._pointing(normalise(message).split())
        return bool(pointing) and all(role == "thing" for _, _, role in pointing)

    def points_at_a_person(self, message: str) -> bool:
        """Whether ``message`` points back at a person ("where does *she* work?")."""
        return any(role == "person" for _, _, role in self._pointing(normalise(message).split()))

    def talked_about(self, context: Context) -> list[Entry]:
        """The entries the thread has been talking about, nearest first: those of the
        previous answer, then those the curators relate to them."""
        found = {e.id: e for e in context.entries}
        for entry in context.entries:
            for entry_id in entry.related:
                if entry_id in self.kb.by_id:
                    found.setdefault(entry_id, self.kb.by_id[entry_id])
        return list(found.values())

    def connected(self, entry_id: str, context: Context) -> bool:
        """Whether ``entry_id`` is what the thread has been talking about (``talked_about``),
        or a glossary term the previous answer names by name ("that constitutional article":
        Article 9, which the answer on why ties stay evolutionary names)."""
        if any(entry_id == e.id for e in self.talked_about(context)):
            return True
        said = " ".join(f" {normalise(e.answer)} " for e in context.entries)
        return any(term_id == entry_id and name in said for name, term_id in self._term_names)

    def neighbours(self, context: Context, later: bool) -> list[Entry]:
        """The milestones just before (or after) the previous answer's, not yet given:
        the closest one it is related to, else every milestone of the closest year."""
        dated = [e for e in context.entries if e.date is not None]
        if not dated:
            return []
        anchor = max(e.date for e in dated if e.date) if later else min(e.date for e in dated if e.date)
        milestones = [m for m in self.kb.milestones() if m.id not in context.given and m.date is not None]
        if later:
            side = [m for m in milestones if m.date is not None and anchor.surely_before(m.date)]
        else:
            side = [m for m in milestones if m.date is not None and m.date.surely_before(anchor)]
        if not side:
            return []
        related = {r for e in context.entries for r in e.related}
        close = [m for m in side if m.id in related]
        if close:
            return [close[0] if later else close[-1]]
        nearest = side[0] if later else side[-1]
        assert nearest.date is not None
        return [m for m in side if m.date is not None and m.date.year == nearest.date.year]

    # -- remembering -----------------------------------------------------------------

    def turn_of(self, question: str, entry_ids: tuple[str, ...], kind: str) -> Turn | None:
        """What a thread keeps of an answer to ``question``: None for a pleasantry, an
        empty message or a notice; else its entries and kind, and the question in the
        base's words (a word the base does not know, a name or an address, is left out)."""
        if kind in _NO_TURN:
            return None
        return Turn(entry_ids[:8], kind, self.base_words(question))

    def base_words(self, question: str) -> str:
        kept = []
        for word in normalise(question).split():
            if word in STOP_WORDS:
                kept.append(word)
                continue
            query = self.matcher.analyse(word)
            if query.terms and not query.unknown:
                kept.append(word)
        text = " ".join(kept)
        return text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0] if len(text) > MAX_QUESTION_CHARS else text


def _asks_up_to_now(words: Sequence[str]) -> bool:
    """Whether ``words`` end asking up to the present ("what's it up *to today*?", "as *of
    today*"), which no chatter about the asker ("need it for my brief today") is."""
    return len(words) > 2 and words[-1] in _TODAY and words[-2] in _UP_TO


def _phrases_by_length(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(normalised phrase, value) pairs, the longest phrase first, so "at that time" wins over "that"."""
    found = {normalise(phrase): value for phrase, value in items if normalise(phrase)}
    return sorted(found.items(), key=lambda item: (-len(item[0].split()), item[0]))


def _asks_a_noun_of_it(before: Sequence[str]) -> bool:
    """Whether the words before a pointing word are a question word, the noun it asks for
    and "be" ("*which summit was* that?", "*what exercise is* it?"): that noun is what is
    asked of the thing pointed at, not what the pointing word stands for."""
    return (
        len(before) >= 3
        and before[0] in _WH
        and before[-1] in _BE
        and not any(w in _BE | _AUXILIARIES for w in before[1:-1])
    )


def _is_content(word: str) -> bool:
    return bool(content_terms([word]))
