"""The lexicon: the words that steer how a message is read, kept as curated data.

``knowledge/lexicon.yaml`` holds them beside the entries: pleasantries and their
replies, the chatter people wrap a question in ("hey bot", "need it for a brief"),
requests about the answer's form ("need month + year"), the languages the bot can
recognise but not yet read, the words that make a message a follow-up ("it", "tell
me more", "what about …"), and the words people use for a topic ("naval": maritime).
Adding a pleasantry, a phrase of chatter or a language is an edit there, validated like
the rest of the knowledge base, never a new regex.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Domain", "FollowupAsk", "FollowupWords", "FormRequest", "Language", "Lexicon", "Smalltalk"]


@dataclass(frozen=True)
class Smalltalk:
    """One kind of pleasantry ("thanks", "greeting") and the short reply it gets."""

    kind: str
    reply: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class FormRequest:
    """A request about the answer's form, and what it tells about the question."""

    wants: str  # "date" | "day" | "quote" | "number" | "name" | "short" | "simple" | "list" | "place"
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
class FollowupAsk:
    """A message that is only a question word or two ("why?", "how come?"): it asks
    ``ask`` of the previous turn's subject."""

    ask: str  # the question words it stands for: "why", "when", "how many"
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class FollowupWords:
    """The words that make a message a follow-up of the previous turn (``bot.qa.followup``)."""

    # Words that point back, by what they stand for: the previous subject (``thing``),
    # the person in it, the countries or people in it (``group``), its place, its time.
    thing: tuple[str, ...] = ()
    person: tuple[str, ...] = ()
    group: tuple[str, ...] = ()
    place: tuple[str, ...] = ()
    time: tuple[str, ...] = ()
    # The year after (before) the previous subject's: "what did he say *a year later*?"
    year_after: tuple[str, ...] = ()
    year_before: tuple[str, ...] = ()
    # Words that end a message with their object left out ("what was the policy *before*?").
    dangling: tuple[str, ...] = ()
    asks: tuple[FollowupAsk, ...] = ()
    more: tuple[str, ...] = ()  # "tell me more": what is related to the previous answer
    before: tuple[str, ...] = ()  # "and before that?": the milestone before the previous
    after: tuple[str, ...] = ()  # "what happened next?": the milestone after it
    # Words that place a message before (``earlier``) or after (``later``) the previous
    # subject: a message of one of these and nothing of its own ("what came the year
    # *after*?") asks for the milestone on that side, as ``before`` and ``after`` do.
    earlier: tuple[str, ...] = ()
    later: tuple[str, ...] = ()
    # Phrases asking a date more precise than a year: its ``day`` ("what day?") or at
    # least its ``month`` ("the exact date?"); an entry dated less precisely does not hold it.
    day: tuple[str, ...] = ()
    month: tuple[str, ...] = ()
    # Words asking what something is called ("what was it *called*?"), and capitalised
    # words that are not a name for it (regions, titles of office): an entry whose title
    # and aliases hold no other capitalised word than these, countries, bodies and people
    # gives no name ("the world's largest cyber defence war game").
    # Words asking what should be done ("should that change?", "what do they recommend?"):
    # with nothing else of its own, the previous subject's recommendation answers it.
    advice: tuple[str, ...] = ()
    # Words asking what someone said or how they reacted ("how did japan *respond*?"):
    # not answered by the words of someone else.
    voice: tuple[str, ...] = ()
    naming: tuple[str, ...] = ()
    not_names: tuple[str, ...] = ()
    swap: tuple[str, ...] = ()  # "what about …": the previous question asked of something else
    # Words around a name swapped in that say whose part is asked ("and on *nato's side*?",
    # "from russia's *perspective*?"): left out, leaving the name.
    sides: tuple[str, ...] = ()
    # Words that ask something of a subject without naming one ("the *reaction* to it",
    # "their *stance*"): a message of these and a pointing word is still a follow-up.
    frame_words: tuple[str, ...] = ()
    joiners: tuple[str, ...] = ()  # words a follow-up may open with ("and", "so", "but")
    # Messages that look like follow-ups but are about the notes themselves ("who wrote this?").
    standalone: tuple[str, ...] = ()
    # Words asking where in the document the previous answer is ("source?", "which
    # paragraph is that in?"): the previous entry again, with its paragraphs and section.
    citing: tuple[str, ...] = ()
    # Words opening a new subject ("unrelated but …"): the message stands alone.
    new_topic: tuple[str, ...] = ()
    # Words leaving something out of a bare question ("any others *besides* the uk?").
    excepting: tuple[str, ...] = ()
    # Words asking for a part of the previous number ("how much *of that* was equipment?").
    portion: tuple[str, ...] = ()
    # Words only a follow-up says ("what *else* happened that year"), left out of its rewrite.
    asides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Domain:
    """The domain's own words the answer checks read (``bot.qa.fit``): who and what a
    question can be about, as the words are written; the checks stem them as questions are."""

    # Countries a question can be *about*: "when did Sweden join NATO" landing on an entry
    # about Japan that merely lists Sweden is the wrong answer.
    countries: tuple[str, ...] = ()
    # Words for the holders of a role: "who is Japan's <role>" is answered by a person whose
    # role has them.
    roles: tuple[str, ...] = ()
    # Words for the same role, each group read as its first word ("head of NATO" is its chief).
    same_roles: tuple[tuple[str, ...], ...] = ()
    # Organisations whose officials a role can belong to ("NATO spokesperson").
    bodies: tuple[str, ...] = ()
    # Nouns for people: "which (Japanese prime) minister(s) …" asks for one person, or more.
    person_nouns: tuple[str, ...] = ()
    # Regions too wide to answer "where?" ("the only one of its kind in Asia").
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lexicon:
    """Everything ``bot.qa.message`` reads a message with; empty reads it as it is."""

    smalltalk: tuple[Smalltalk, ...] = ()
    chatter: tuple[str, ...] = ()
    form_requests: tuple[FormRequest, ...] = ()
    english_words: tuple[str, ...] = ()
    languages: tuple[Language, ...] = ()
    followups: FollowupWords = FollowupWords()
    # Words that name the briefing's source ("per the *article*", "do the *authors* …"): a
    # question that says whose view it asks for asks about the document's own present, so
    # "now" in it is July 2023, not today.
    document_words: tuple[str, ...] = ()
    # Words for a size ("small", "massive"): "how big would the office be?" is answered by
    # "would start small" as well as by a number.
    size_words: tuple[str, ...] = ()
    # Words asking about anyone as a whole ("kishida's *background*", "lungescu *bio*"): with
    # a person's name they ask who that is, not something their entry may not hold.
    profile_words: tuple[str, ...] = ()
    # The words people use for a topic, each to the topic it names ("naval": maritime), read
    # by the grammar (``bot.grammar.lexer``) in timelines, `/nato timeline` and digest topics.
    topic_words: Mapping[str, str] = field(default_factory=dict)
    domain: Domain = Domain()
    file: str = ""
