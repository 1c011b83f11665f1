"""Questions in, short cited answers out; an honest "not in my notes" below the threshold.

``Engine.ask`` is sync, pure and deterministic: everything it needs is built once in
``__init__`` from a validated knowledge base, and a question costs only matching.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from bot.answer import Answer, Candidate, Source, Suggestion
from bot.intents import AfterNotes, Compare, Define, Help, TimelineQuery, WhoIs, parse_intent
from bot.knowledge import MONTH_NAMES, Entry, KnowledgeBase, PartialDate
from bot.matcher import Matcher, Query
from bot.text import clean_user_text, fold_typography, normalise, quote_user_text, tokens
from bot.timeline import select_milestones, timeline_text
from bot.vocabulary import COUNTRIES, STOP_WORDS, content_terms

__all__ = ["DEFAULT_THRESHOLD", "MAX_QUESTION_CHARS", "Engine"]

# Tuned on tests/eval/dev.yaml with `briefbot eval` (see its threshold sweep).
DEFAULT_THRESHOLD = 0.60
# Longer input is matched on its start: nobody's real question is 2,000 characters,
# and the cap bounds the matcher's work whatever arrives.
MAX_QUESTION_CHARS = 500

NOT_IN_NOTES = "That isn't in my briefing notes on NATO–Japan relations (which run to July 2023)."
NOTES_END = "My briefing notes stop in July 2023, so I can't say what has happened since."

HELP_TEXT = (
    "I answer questions on NATO–Japan security relations from briefing notes that run to "
    "July 2023, with the source paragraph for every answer. Try:\n"
    "• when did japan join the nato cyber centre?\n"
    "• what happened in 2022 · milestones since 2021 · maritime timeline\n"
    "• who is oana lungescu? · what does ITPP stand for?"
)

# Question words that tell which kind of entry is wanted; a small nudge, not a filter.
_KIND_HINTS: tuple[tuple[re.Pattern[str], str, float], ...] = (
    (re.compile(r"^(who|whos)\b|\bwho (is|was)\b"), "person", 0.06),
    (re.compile(r"\b(say|said|quote|quoted|words|remark\w*|call(ed)?|describ\w*)\b"), "quote", 0.06),
    (
        re.compile(r"\b(should|recommend\w*|urge\w*|propos\w*|advice|advise|suggest\w*)\b"),
        "recommendation",
        0.06,
    ),
    (re.compile(r"\b(react\w*|respon\w*|criticis\w*|criticiz\w*|object\w*|view of)\b"), "reaction", 0.05),
    (
        re.compile(
            r"\b(obstacle\w*|hurdle\w*|barrier\w*|limit\w*|constrain\w*|prevent\w*|block\w*|slow\w*)\b"
        ),
        "obstacle",
        0.05,
    ),
    (re.compile(r"^(what (is|are|does)|whats|define|meaning)\b"), "term", 0.04),
)
_WHEN = re.compile(r"^(when|what year|which year|in what year|what date)\b|\bwhen (did|was|were|is|will)\b")
_HOW_MANY = re.compile(
    r"\bhow (many|much|large|big|long)\b|\bwhat (percentage|share|proportion|amount|number|sum)\b"
)
_QUANTITY = re.compile(
    r"[$%]|\b(?!(?:19|20)\d\d\b)\d+(?:\.\d+)?\b|\b(one|two|three|four|five|six|seven|eight|nine|"
    r"ten|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|dozen|million|billion|"
    r"half|several|few)\b",
    re.IGNORECASE,
)
_YEAR_IN_TEXT = re.compile(r"\b((?:19|20)\d\d)\b")
_AS_OF = re.compile(r"\bas of (?:early |mid-?|late )?(?:july )?2023\b", re.IGNORECASE)
_MODAL = re.compile(r"\b(should|could|would|might|can|ought|must|shall)\b")
_PLAN_WORDS = re.compile(r"\b(expect\w*|plan\w*|supposed|going to|will|would|intend\w*|propos\w*)\b")

# How many of the matcher's best the shape checks re-rank (dev and holdout results are the
# same with 8, 10 and 12; fewer candidates let rank prune harder).
CANDIDATES = 8
# How surely a few words must match a milestone to bound a timeline ("since Madrid").
MILESTONE_NAME_SCORE = 0.5

# Penalties for answers of the wrong shape; tuned with `briefbot eval`'s sweep.
# "when" answered by an entry that mentions no year at all, "how many" by one that
# gives no number: such an answer cannot hold what was asked, whatever the wording.
NO_YEAR_PENALTY = 0.4
NO_NUMBER_PENALTY = 0.4
PLURAL_NO_PERSON_PENALTY = 0.1  # "who are ..." answered by an entry that names nobody else
YEAR_MISMATCH_PENALTY = 0.3  # the question names a year the entry never mentions
# "who hosted the Vilnius summit" answered by an entry where nobody hosts anything.
WHO_VERB_PENALTY = 0.2
# "how did China react" answered by an entry where no Chinese voice reacts or speaks.
REACTOR_PENALTY = 0.3
# Japan is in nearly every question and answer, and "Tokyo" speaks for it as often as
# "Japan" does; it tells no entry from another.
_EVERYWHERE = frozenset({"japan"})
SELF_ANSWER_PENALTY = 0.3  # "who replaced Stoltenberg" answered with Stoltenberg
ENTITY_PENALTY = 0.3  # the question names someone or something the entry is not about
SUBJECT_PENALTY = 0.3  # "when did Sweden join NATO" answered by an entry about Japan joining
NO_PERSON_PENALTY = 0.3  # "who ..." answered by an entry that names nobody else
ROLE_PENALTY = 0.3  # "who is Japan's defense minister" answered with China's
COUNT_PENALTY = 0.4  # "how many planes" answered by an entry that counts no planes
UNDATED_PENALTY = 0.15  # "when did X happen" answered by an entry with no date of its own
UNSAID_PENALTY = 0.3  # "what did X say" answered by an entry that reports nobody saying anything
# "what did Putin say" answered by an entry that does not have Putin saying anything
# (his biography included): the one thing asked for is missing.
UNSAID_BY_THEM_PENALTY = 0.4
# A question word is a name worth insisting on when it belongs to a named thing (a term
# or person alias, a country) that few entries mention; "NATO" and "Japan" are everywhere.
ENTITY_MAX_SHARE = 0.2
# Words for the holders of a role; "who is Japan's <role>" must be answered by a person
# whose role has them.
_ROLE_WORDS = frozenset(
    content_terms(
        """president minister prime premier ambassador spokesperson spokeswoman spokesman
        secretary chief leader head commander director envoy chancellor king emperor general
        author professor fellow researcher foreign defense""".split()
    )
)
# Words for the same role, folded to the first: "head of NATO" is its chief.
_ROLE_SYNONYMS = {
    term: group[0]
    for group in (("head", "chief", "leader", "boss"), ("spokesperson", "spokeswoman", "spokesman"))
    for term in content_terms(list(group))
}


def _role_word(term: str) -> str:
    return _ROLE_SYNONYMS.get(term, term)


_SINGULAR_WHO = re.compile(
    r"^(who (is|was|s|did|has|had)|whos) |^who (?!are |were )\w+|^which (?:\w+ ){0,2}(?:minister|president|"
    r"secretary|spokes\w+|leader|official|ambassador|chief|politician|person)\b"
)
# "which Japanese prime minister ..." asks for a person as "who" does.
_WHICH_PERSON = re.compile(
    r"^which (?:\w+ ){0,2}(?:ministers?|presidents?|secretar(?:y|ies)|spokes\w+|leaders?|officials?|"
    r"ambassadors?|chiefs?|politicians?|person|people)\b"
)
_SAY = re.compile(r"\b(say|says|said|saying|tell|told|state|stated|remark\w*|comment\w*)\b")
_SPEECH = re.compile(
    r"\b(say|says|said|saying|told|tells|stated|states that|warned|called|calls|described|describes|"
    r"remark\w*|declared|accus\w*|condemn\w*|criticis\w*|criticiz\w*|argu\w*|quote\w*|words|"
    r"insist\w*|stress\w*|pledg\w*|vow\w*|claim\w*|blast\w*|slam\w*|denounc\w*|lambast\w*|"
    r"reaffirm\w*|affirm\w*|promis\w*|announc\w*|emphasi[sz]\w*|underlin\w*|attacked)\b"
)
_REACTING = re.compile(
    _SPEECH.pattern + r"|\b(object\w*|oppos\w*|protest\w*|attack\w*|react\w*|respon\w*|reject\w*|welcom\w*)\b"
)
# Reacting in words or stance, for who reacted (not "attack": Russia attacks, Kishida speaks).
_REACTION = re.compile(
    _SPEECH.pattern + r"|\b(call|object\w*|oppos\w*|protest\w*|react\w*|respon\w*|reject\w*|welcom\w*)\b"
)
# Organisations whose officials a role can belong to ("NATO spokesperson").
_BODIES = frozenset({"nato", "eu", "un", "g7"})
# Who-questions about the analysis itself ("who proposed...") may be answered with its authors.
_AUTHORSHIP = re.compile(
    r"\b(recommend\w*|propos\w*|suggest\w*|argu\w*|writ\w*|wrote|author\w*|think|thinks|believ\w*|"
    r"view|call\w*|describ\w*|analys\w*|conclud\w*)\b"
)
_HOW_MANY_WHAT = re.compile(r"\bhow many (\w+)(?: (\w+))?")
_HOW_MANY_OWNED = re.compile(r"\bhow many \w+ (?:does|do|did|has|had) (?:the )?(\w+) ha(?:ve|d)\b")
# Counted things that stand for one another ("how many countries" / "23 NATO members").
_COUNT_SYNONYMS = frozenset({"country", "nation", "member", "state", "ally", "partner"})
# A year is a date, not a count: "Estonia in 2022 and assigned experts" counts no experts.
_NUMBER_WORD = re.compile(
    r"^(?!(?:19|20)\d\d$)(?:\d[\d.,]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"thirty|forty|fifty|hundred|thousand|dozen|million|billion)$"
)
# What became of a plan: asked about the plan, but only the outcome can answer it.
_FATE = re.compile(
    r"\b(drop|dropped|cancel|cancell?ed|scrap|scrapped|shelve|shelved|abandon|abandoned|"
    r"go ahead|went ahead|gone ahead|materiali[sz]e|materiali[sz]ed)\b"
)
_OUTCOME = re.compile(
    r"\b(did|has|have|was|were|is)\b.*\b(open|opened|agree|agreed|sign|signed|happen|"
    r"established|unveil|unveiled|launch|launched|decided|adopted|outcome|result|say|said|"
    r"announce|announced|attend|attended|approve|approved|complete|completed|finish|finished)\b|"
    r"\b(outcome|result|results|what happened at)\b"
)
_SUBJECT = re.compile(r"^(?:when|why|how|where|what year) (?:did|does|do|has|have|was|were|will|would) (\w+)")
_COMPANY = re.compile(r" (?:with|alongside|including|like|among|such as) ")
_WHO_IS = re.compile(r"^(who (is|was|are|s)|whos) ")


_MONTHS = frozenset(content_terms([m.casefold() for m in MONTH_NAMES]))
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")
_LETTER_WORD = re.compile(r"[A-Za-z]\w*")


def _capitalisation(texts: Iterable[str]) -> tuple[set[str], set[str]]:
    """Terms written capitalised inside a sentence, and terms written in lower case."""
    capitalised: set[str] = set()
    lowercase: set[str] = set()
    for text in texts:
        for sentence in _SENTENCE_END.split(fold_typography(text)):
            for position, word in enumerate(_LETTER_WORD.findall(sentence)):
                terms = content_terms(tokens(normalise(word)))
                if word[0].islower():
                    lowercase.update(terms)
                elif position > 0:
                    capitalised.update(terms)
    return capitalised, lowercase


# "who hosted ...", "which country hosted ...": what the one asked for did.
# "when did Kishida *become* prime minister": a change of role, which an entry that only
# names the role holder does not date.
# How far before its verb a reacting country is looked for ("China's foreign ministry
# spokesperson said": three words; a whole sentence would catch its objects too).
_REACTOR_REACH = 6
_WHO_VERB = re.compile(r"^who (\w+)|^which (?:\w+ ){1,3}?(\w+ed)\b|^when (?:did|was|were) .*\b(become)\b")
# Ways of saying something that the who-checks for speech already cover.
_TALK = re.compile(r"talk\w*|spoke|speak\w*|mention\w*|discuss\w*|warn\w*|wr[io]te\w*|express\w*|voic\w*")
_AUXILIARIES = frozenset(
    "is was are were s did does do has have had will would could should can may might must".split()
)


# Verbs that stand for one another in "who hosted / organised / ran it".
_VERB_KIN: dict[str, frozenset[str]] = {
    term: group
    for group in (
        frozenset(content_terms("host cohost organise organize run ran stage convene".split())),
        frozenset(content_terms("lead head chair command run ran direct".split())),
    )
    for term in group
}


def _who_verb(text: str) -> str | None:
    """The verb of "who leads the cell" or "which country hosted it" as a term ("lead",
    "host"); None for "who is", "who said"."""
    match = _WHO_VERB.match(text)
    verb = (match.group(1) or match.group(2) or match.group(3)) if match else ""
    if not verb or verb in _AUXILIARIES or _REACTION.fullmatch(verb) or _TALK.fullmatch(verb):
        return None
    terms = content_terms([verb])
    return terms[0] if terms else None


def _reactors(
    text: str, keep: frozenset[str] = COUNTRIES - _EVERYWHERE, first: bool = True
) -> frozenset[str]:
    """The countries named in the few words before a verb of reacting or saying in
    normalised ``text``: before the first such verb, or with ``first=False`` before each
    ("at the dialogue, which the authors call Asia's top summit, China's minister attacked")."""
    found: set[str] = set()
    for verb in _REACTION.finditer(text):
        found.update(content_terms(tokens(text[: verb.start()])[-_REACTOR_REACH:]))
        if first:
            break
    return frozenset(found) & keep


def _before(date: PartialDate, other: PartialDate) -> bool:
    """Whether ``date`` is surely earlier than ``other`` (unknown months and days are 0)."""
    if date.year != other.year:
        return date.year < other.year
    if not (date.month and other.month):
        return False
    if date.month != other.month:
        return date.month < other.month
    return bool(date.day and other.day and date.day < other.day)


def _count_windows(words: tuple[str, ...]) -> tuple[tuple[frozenset[str], tuple[str, ...]], ...]:
    """For each number in ``words``: the terms within two words before or three after it,
    and the terms of the three words after it in order ("six G7 members": g7, member)."""
    return tuple(
        (
            frozenset(content_terms(list(words[max(0, position - 2) : position + 4]))),
            tuple(content_terms(list(words[position + 1 : position + 4]))),
        )
        for position, word in enumerate(words)
        if _NUMBER_WORD.match(word)
    )


@dataclass(frozen=True)
class _Shape:
    """What a question asks for, as the shape checks see it."""

    asks_when: bool
    asks_said: bool  # "what did X say", but not "who said"
    speakers: frozenset[str]  # the people whose words are asked for
    asks_how_many: bool
    asks_who: bool
    years: frozenset[int]
    entities: frozenset[str]  # names in the question an answer must be about
    subject: str | None  # the name doing what is asked about ("when did *Sweden* join")
    reactors: frozenset[str]  # "how did *China* react": an entry where Russia reacts is not it
    who_verb: str | None  # "who / which country *hosted* the summit": what the one wanted did
    counted: frozenset[str]  # "how many planes": planes
    count_of: str | None  # "how many NATO members": NATO, which must be by the number too


@dataclass(frozen=True)
class _Scored:
    entry: Entry
    candidate: Candidate  # its score is the fit: the match less the shape penalties
    relevance: float  # the match alone: how close the topic is, for suggestions


class Engine:
    """The question-answering core shared by every adapter."""

    def __init__(self, kb: KnowledgeBase, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.kb = kb
        self.threshold = threshold
        self.matcher = Matcher(kb)
        self._suggestion_pools: dict[tuple[str, ...], tuple[list[Entry], dict[int, str]]] = {}
        self._people = [e for e in kb.entries if e.kind == "person"]
        self._terms = [e for e in kb.entries if e.kind == "term"]
        self._alias_owner: dict[str, Entry] = {}
        for entry in (*self._people, *self._terms):
            for name in (entry.title, *entry.aliases):
                key = normalise(name)
                if key:
                    self._alias_owner.setdefault(key, entry)
        self._alias_keys = list(self._alias_owner)
        self._years: dict[str, frozenset[int]] = {}
        self._has_quantity: dict[str, bool] = {}
        for entry in kb.entries:
            text = _AS_OF.sub(" ", " ".join([entry.title, entry.answer, *entry.questions]))
            years = {int(y) for y in _YEAR_IN_TEXT.findall(text)}
            if entry.date is not None:
                years.add(entry.date.year)
            self._years[entry.id] = frozenset(years)
            self._has_quantity[entry.id] = bool(_QUANTITY.search(_YEAR_IN_TEXT.sub(" ", text)))
        # Who each entry names: the people a who-question could be answered with.
        self._person_names: dict[str, frozenset[str]] = {
            person.id: frozenset(
                n for n in (normalise(x) for x in (person.title.split(",")[0], *person.aliases)) if len(n) > 3
            )
            for person in self._people
        }
        # Every candidate of a who-question asks which people the question names.
        self._people_named = functools.lru_cache(maxsize=256)(self._find_people_named)
        self._person_roles: dict[str, frozenset[str]] = {
            person.id: frozenset(
                _role_word(t)
                for t in content_terms(
                    tokens(normalise(" ".join([person.title, person.role or "", *person.aliases])))
                )
            )
            for person in self._people
        }
        self._named: dict[str, frozenset[str]] = {}
        for entry in kb.entries:
            text = f" {normalise(' '.join(filter(None, [entry.answer, entry.speaker])))} "
            named = {p for p, names in self._person_names.items() if any(f" {n} " in text for n in names)}
            if entry.kind == "person":
                named.add(entry.id)
            self._named[entry.id] = frozenset(named)
        # The people each entry reports as saying something: its speaker, or a person
        # named before a verb of saying in a sentence of its answer ("Kishida said", but
        # not "the authors argue that ... Putin's war machine").
        self._speakers: dict[str, frozenset[str]] = {}
        for entry in kb.entries:
            said: set[str] = set()
            for sentence in _SENTENCE_END.split(fold_typography(entry.answer)):
                verb = _SPEECH.search(normalise(sentence))
                if verb is not None:
                    said |= self._find_people_named(f" {normalise(sentence)[: verb.start()]} ")
            said |= self._find_people_named(f" {normalise(entry.speaker or '')} ")
            self._speakers[entry.id] = frozenset(said)
        # The countries each entry has reacting or speaking: named in its speaker, or
        # before the verb of a sentence that reports a reaction ("Russian Foreign Ministry
        # spokeswoman Maria Zakharova said", "China's foreign ministry called").
        self._actors: dict[str, frozenset[str]] = {}
        for entry in kb.entries:
            actors = set(content_terms(tokens(normalise(entry.speaker or "")))) & COUNTRIES
            for sentence in _SENTENCE_END.split(fold_typography(entry.answer)):
                actors |= _reactors(normalise(sentence), keep=COUNTRIES, first=False)
            self._actors[entry.id] = frozenset(actors)
        self._reports_speech: dict[str, bool] = {
            entry.id: entry.kind in ("quote", "reaction") or bool(_SPEECH.search(normalise(entry.answer)))
            for entry in kb.entries
        }
        author_names = {normalise(a) for d in kb.documents.values() for a in d.authors}
        self._authors = frozenset(
            p.id for p in self._people if normalise(p.title.split(",")[0]) in author_names
        )
        # The things each answer counts: words next to a number ("23 NATO members").
        self._count_windows: dict[str, tuple[tuple[frozenset[str], tuple[str, ...]], ...]] = {
            entry.id: _count_windows(tuple(tokens(normalise(entry.answer)))) for entry in kb.entries
        }
        # Names (people, places, countries, bodies): words the answers always capitalise
        # mid-sentence, and rare enough that an entry about them says them.
        frequency: dict[str, int] = {}
        for entry in kb.entries:
            key_terms, body_terms = self.matcher.terms_of(entry.id)
            for term in key_terms | body_terms:
                frequency[term] = frequency.get(term, 0) + 1
        capitalised, lowercase = _capitalisation(entry.answer for entry in kb.entries)
        limit = ENTITY_MAX_SHARE * len(kb.entries)
        self._entity_words = frozenset(
            w
            for w in (capitalised - lowercase) | COUNTRIES
            if 0 < frequency.get(w, 0) <= limit and len(w) > 1 and w not in _ROLE_WORDS | _MONTHS
        )
        # Who or what each entry's story is about, as its title says it, leaving out the
        # company ("Japan joins Air Defender *with 23 allies and Sweden*").
        self._title_terms: dict[str, frozenset[str]] = {
            entry.id: frozenset(content_terms(tokens(_COMPANY.split(normalise(entry.title))[0])))
            for entry in kb.entries
        }

    # -- public API -----------------------------------------------------------

    def with_threshold(self, threshold: float) -> Engine:
        """A copy sharing the built index, for threshold sweeps."""
        clone = copy.copy(self)
        clone.threshold = threshold
        return clone

    def ask(self, question: str) -> Answer:
        text = clean_user_text(question)
        if len(text) > MAX_QUESTION_CHARS:
            # Cut at a word boundary so a half word is not read as an unknown word.
            text = text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0]
        if not normalise(text):
            return Answer(
                "Ask me something about NATO–Japan security relations. " + HELP_TEXT,
                intent="empty",
                confidence=0.0,
                abstained=True,
            )
        intent = parse_intent(text)
        if isinstance(intent, Help):
            return Answer(HELP_TEXT, intent="help", confidence=1.0, abstained=False)
        if isinstance(intent, TimelineQuery):
            return self.timeline(intent)
        if isinstance(intent, Compare):
            return self._compare(intent)
        query = self.matcher.analyse(text)
        if isinstance(intent, AfterNotes):
            return self._after_notes(query)
        if isinstance(intent, WhoIs | Define):
            direct = self._lookup(intent, query)
            if direct is not None:
                return direct
        return self._general(query)

    def answer_entry(self, entry_id: str) -> Answer | None:
        """The answer of one entry, e.g. when a user clicks a suggestion button."""
        entry = self.kb.by_id.get(entry_id)
        if entry is None:
            return None
        return self._answer(entry, confidence=1.0, intent=entry.kind)

    def timeline(self, query: TimelineQuery) -> Answer:
        if query.past_notes:
            return Answer(NOTES_END, intent="timeline", confidence=1.0, abstained=True)
        if query.since_event or query.until_event:
            words = query.since_event or query.until_event
            anchor = self._milestone_named(" ".join(words))
            if anchor is None or anchor.date is None:
                text = (
                    f"I couldn't find “{quote_user_text(' '.join(words), 60)}” among the dated milestones "
                    "in my notes. Try a year instead, e.g. `/nato timeline since 2021`."
                )
                return Answer(text, intent="timeline", confidence=0.0, abstained=True)
            side = "since" if query.since_event else "before"
            period = f"{side} {' '.join(words)} ({anchor.date.human()})"
            if query.since_event:
                query = replace(query, after=anchor.date, start=anchor.date.year, period=period)
            else:
                query = replace(query, before=anchor.date, end=anchor.date.year, period=period)
        entries = select_milestones(self.kb, query)
        if query.about:
            narrowed = self._about(entries, query.about)
            if narrowed is None:
                query = replace(query, about=())  # nothing mentions it: the whole timeline
            else:
                entries = narrowed
        title = f"Timeline: {query.describe()}"
        if not entries:
            first, last = self._span()
            text = (
                f"No milestones in my notes match that ({query.describe()}). "
                f"They cover {first}–{last}; try `/nato timeline` for all of them."
            )
            return Answer(text, intent="timeline", confidence=1.0, abstained=True, title=title)
        header = f"{len(entries)} milestone{'s' if len(entries) != 1 else ''} ({query.describe()}):"
        return Answer(
            f"{header}\n{timeline_text(entries, latest=bool(query.before and not query.after))}",
            intent="timeline",
            confidence=1.0,
            abstained=False,
            entry_ids=tuple(e.id for e in entries),
            sources=tuple(self._source(e) for e in entries),
            title=title,
        )

    def _compare(self, intent: Compare) -> Answer:
        """Which of two milestones came first, by their dates in the notes."""
        found = [(name, self._milestone_named(name)) for name in (intent.first, intent.second)]
        missing = [name for name, entry in found if entry is None]
        if missing:
            text = (
                f"I couldn't find “{quote_user_text(missing[0], 60)}” among the dated milestones in my "
                "notes, so I can't say which came first. `/nato timeline` lists them all."
            )
            return Answer(text, intent="compare", confidence=0.0, abstained=True)
        (_, one), (_, other) = found
        assert one is not None and other is not None and one.date is not None and other.date is not None
        if one.id == other.id:
            text = f"Both name the same milestone in my notes: {one.date.human()} — {one.title}."
        elif _before(one.date, other.date) or _before(other.date, one.date):
            early, late = (one, other) if _before(one.date, other.date) else (other, one)
            assert early.date is not None and late.date is not None
            first = f"First, in {early.date.human()}: {early.title}."
            text = f"{first}\nThen, in {late.date.human()}: {late.title}."
        else:
            text = (
                "My notes give no order between these two:\n"
                f"• {one.date.human()} — {one.title}\n• {other.date.human()} — {other.title}"
            )
        return Answer(
            text,
            intent="compare",
            confidence=1.0,
            abstained=False,
            entry_ids=tuple(dict.fromkeys((one.id, other.id))),
            sources=tuple(self._source(e) for e in dict.fromkeys((one, other))),
            title="Which came first",
        )

    def _milestone_named(self, name: str) -> Entry | None:
        """The dated milestone ``name`` ("madrid", "the cyber centre membership") most plainly names."""
        query = self.matcher.analyse(name)
        for candidate in self.matcher.rank(query, limit=3, kinds=("milestone",)):
            entry = self.kb.by_id[candidate.entry_id]
            if entry.date is not None and candidate.score >= MILESTONE_NAME_SCORE:
                return entry
        return None

    def _about(self, entries: list[Entry], about: tuple[str, ...]) -> list[Entry] | None:
        """The milestones mentioning every word of ``about``, else its rarest word; None if none do."""

        def mentions(entry: Entry, words: set[str]) -> bool:
            key, body = self.matcher.terms_of(entry.id)
            return words <= key | body

        words = set(self.matcher.analyse(" ".join(about)).terms)
        if not words:
            return None
        chosen = [e for e in entries if mentions(e, words)]
        for word in sorted(words, key=self.matcher.idf, reverse=True):
            if chosen:
                break
            chosen = [e for e in entries if mentions(e, {word})]
        return chosen or None

    def suggest(self, prefix: str, kinds: tuple[str, ...] = (), limit: int = 25) -> list[Entry]:
        """Entries ranked for autocomplete of a partial name or term."""
        pool, labels = self._suggestion_pool(kinds)
        key = normalise(prefix)
        if not key:
            return pool[:limit]
        ranked = process.extract(
            key, labels, scorer=fuzz.WRatio, processor=None, limit=limit, score_cutoff=40
        )
        return [pool[index] for _, _, index in ranked]

    def _suggestion_pool(self, kinds: tuple[str, ...]) -> tuple[list[Entry], dict[int, str]]:
        """The entries autocomplete offers for ``kinds`` and their normalised labels.

        Built on first use per kinds and kept: suggest runs on every keystroke.
        """
        cached = self._suggestion_pools.get(kinds)
        if cached is None:
            pool = [e for e in self.kb.entries if not kinds or e.kind in kinds]
            labels = {i: normalise(" ".join([e.title, *e.aliases])) for i, e in enumerate(pool)}
            cached = self._suggestion_pools[kinds] = (pool, labels)
        return cached

    # -- the pieces -----------------------------------------------------------

    def _span(self) -> tuple[int, int]:
        years = [e.date.year for e in self.kb.milestones() if e.date]
        return (min(years), max(years)) if years else (0, 0)

    def _lookup(self, intent: WhoIs | Define, query: Query) -> Answer | None:
        """A name or term that is an alias of a person or term entry answers directly.

        "who is <role>" is answered by the one person holding that role in the notes, and
        declined when nobody there holds it ("who is Japan's defense minister").
        """
        wanted = intent.name if isinstance(intent, WhoIs) else intent.term
        key = normalise(wanted)
        pool = self._people if isinstance(intent, WhoIs) else self._terms
        entry = self._alias_owner.get(key)
        if entry is None:
            best = process.extractOne(key, self._alias_keys, scorer=fuzz.ratio, score_cutoff=88)
            if best is not None:
                entry = self._alias_owner[best[0]]
        if isinstance(intent, WhoIs) and (entry is None or entry not in pool):
            entry = self._person_within(key)
            if entry is None:
                return self._by_role(key, query)
        if entry is None or entry not in pool:
            return None
        return self._answer(entry, confidence=0.95, intent="who" if isinstance(intent, WhoIs) else "define")

    def _person_within(self, text: str) -> Entry | None:
        """The one person named in ``text`` when nothing else in it carries meaning.

        "joseph biden in this story" is Biden; "stoltenberg successor" is not Stoltenberg.
        """
        padded = f" {text} "
        found = [p for p, names in self._person_names.items() if any(f" {n} " in padded for n in names)]
        if len(found) != 1:
            return None
        rest = padded
        for name in sorted(self._person_names[found[0]], key=len, reverse=True):
            rest = rest.replace(f" {name} ", " ")
        if content_terms(tokens(rest)):
            return None
        return self.kb.by_id[found[0]]

    def _by_role(self, text: str, query: Query) -> Answer | None:
        terms = {_role_word(t) for t in content_terms(tokens(text))}
        if not terms & _ROLE_WORDS:
            return None  # not a role: "who are the hedging countries" is an ordinary question
        holders = [p for p in self._people if terms <= self._person_roles[p.id]]
        countries = terms & COUNTRIES
        if not holders and terms - countries == {_role_word("head")} and len(countries) == 1:
            # "who runs japan": a country's head is its prime minister or its president.
            holders = [
                p
                for p in self._people
                for top in content_terms(["prime", "president"])
                if countries | {top} <= self._person_roles[p.id]
            ]
        if len(holders) == 1:
            return self._answer(holders[0], confidence=0.9, intent="who")
        if holders or terms - _ROLE_WORDS - COUNTRIES - _BODIES:
            # Several ("who is the author"), or more than a role ("... when the 2013
            # declaration was signed"): the ordinary match, with its who-checks, decides.
            return None
        scored = self._scored(query)  # a plain role nobody in the notes holds
        return self._abstain(NOT_IN_NOTES, scored, tuple(s.candidate for s in scored[:5]))

    def _shape_penalties(self, entry: Entry, query: Query, shape: _Shape) -> tuple[tuple[str, float], ...]:
        """How badly an entry's shape fits what the question asks for, check by check."""
        found: list[tuple[str, float]] = []
        if shape.asks_when:
            if not self._years[entry.id]:
                found.append(("when, but no year", NO_YEAR_PENALTY))
            elif entry.date is None:
                found.append(("when, but undated", UNDATED_PENALTY))
        if shape.asks_said:
            if shape.speakers and shape.speakers.isdisjoint(self._speakers[entry.id]):
                found.append(("not said by them", UNSAID_BY_THEM_PENALTY))
            elif not self._reports_speech[entry.id]:
                found.append(("nobody says anything", UNSAID_PENALTY))
        if shape.asks_how_many and not self._has_quantity[entry.id]:
            found.append(("how many, but no number", NO_NUMBER_PENALTY))
        if shape.years and not shape.years & self._years[entry.id]:
            found.append(("year not mentioned", YEAR_MISMATCH_PENALTY))
        key, body = self.matcher.terms_of(entry.id)
        entity_penalty = 0.0
        for word in shape.entities:
            if word not in key:
                entity_penalty = max(entity_penalty, ENTITY_PENALTY * (0.25 if word in body else 1.0))
        if entity_penalty:
            found.append(("name not its subject", entity_penalty))
        if shape.subject is not None and shape.subject not in self._title_terms[entry.id]:
            found.append((f"{shape.subject} is not what it is about", SUBJECT_PENALTY))
        if shape.reactors and shape.reactors.isdisjoint(self._actors[entry.id]):
            found.append(("another country reacts", REACTOR_PENALTY))
        if shape.asks_who and (who := self._who_penalty(entry, query)):
            found.append(("not the person asked for", who))
        if shape.who_verb:
            kin = _VERB_KIN.get(shape.who_verb, frozenset({shape.who_verb}))
            if kin.isdisjoint(key) and kin.isdisjoint(body):
                found.append((f"nobody does '{shape.who_verb}'", WHO_VERB_PENALTY))
        if shape.counted and not self._counts(entry.id, shape.counted, shape.count_of):
            found.append(("counts something else", COUNT_PENALTY))
        return tuple(found)

    def _subject(self, text: str) -> str | None:
        """The country doing what "when did Sweden join NATO" asks about: the name right
        after the auxiliary. Only countries: titles name the country an event is about,
        but often not the person ("A Japanese prime minister attends a NATO summit")."""
        match = _SUBJECT.search(text)
        if match is None:
            return None
        terms = content_terms([match.group(1)])
        return terms[0] if terms and terms[0] in self._entity_words & COUNTRIES else None

    def _shape(self, query: Query) -> _Shape:
        """What the question asks for, worked out once for all its candidates."""
        text = query.normalised
        asks_who = text.startswith(("who ", "whos ")) or _WHICH_PERSON.search(text) is not None
        asks_said = bool(_SAY.search(text)) and not asks_who
        counted: frozenset[str] = frozenset()
        count_of: str | None = None
        if match := _HOW_MANY_WHAT.search(text):
            first, second = match.groups()
            if second and second.endswith("s") and not first.endswith("s") and second not in STOP_WORDS:
                # "how many NATO members": members, and of NATO (a country is not
                # insisted on: Japan is in nearly every answer, and "Japanese" in few).
                counted = frozenset(content_terms([second]))
                of = content_terms([first])
                count_of = of[0] if of and of[0] not in COUNTRIES else None
            else:
                counted = frozenset(content_terms([w for w in match.groups() if w])) - COUNTRIES
                if owner := _HOW_MANY_OWNED.search(text):  # "how many members does NATO have"
                    of = content_terms([owner.group(1)])
                    count_of = of[0] if of and of[0] not in COUNTRIES else None
        return _Shape(
            asks_when=bool(_WHEN.search(text)),
            asks_said=asks_said,
            speakers=self._people_named(f" {text} ") if asks_said else frozenset(),
            asks_how_many=bool(_HOW_MANY.search(text)),
            asks_who=asks_who,
            years=frozenset(int(y) for y in _YEAR_IN_TEXT.findall(text)),
            entities=frozenset(query.terms) & self._entity_words,
            subject=self._subject(text),
            reactors=_reactors(text),
            who_verb=_who_verb(text),
            counted=counted,
            count_of=count_of,
        )

    def _find_people_named(self, padded: str) -> frozenset[str]:
        """The people whose names ``padded`` (normalised text with a space each side) contains."""
        return frozenset(
            p for p, names in self._person_names.items() if any(f" {n} " in padded for n in names)
        )

    def _who_penalty(self, entry: Entry, query: Query) -> float:
        """A who-question wants a person other than the ones it names, in the role it names."""
        text = f" {query.normalised} "
        asked = self._people_named(text)
        if entry.kind == "person" and entry.id in asked:
            # A who-question that reached here was not "who is <this name>".
            return SELF_ANSWER_PENALTY
        speaks = entry.speaker or entry.kind in ("quote", "reaction")
        if not self._named[entry.id] and speaks and _REACTING.search(query.normalised):
            return 0.0  # "who objected": someone not in the people list, e.g. a ministry
        others = self._named[entry.id] - asked
        if not _AUTHORSHIP.search(query.normalised):
            others -= self._authors  # "who leads the cell" is not answered by who recommends it
        if not others:
            singular = _SINGULAR_WHO.search(query.normalised) is not None
            return NO_PERSON_PENALTY if singular else PLURAL_NO_PERSON_PENALTY
        wanted = {_role_word(t) for t in query.terms if t in _ROLE_WORDS or t in COUNTRIES}
        if any(t in _ROLE_WORDS for t in wanted) and not any(wanted <= self._person_roles[p] for p in others):
            return ROLE_PENALTY
        return 0.0

    def _counts(self, entry_id: str, counted: frozenset[str], of: str | None = None) -> bool:
        """Whether the entry's answer puts a number next to one of the ``counted`` things,
        and, when they are ``of`` something, not a number of someone else's: "six G7
        members" are not NATO's members, "four such partners" may be the STO's."""
        wanted = counted | _COUNT_SYNONYMS if counted & _COUNT_SYNONYMS else counted
        for window, after in self._count_windows[entry_id]:
            if wanted.isdisjoint(window):
                continue
            if of is None:
                return True
            noun = next((i for i, term in enumerate(after) if term in wanted), None)
            owners = set(after[:noun]) & (self._entity_words | _BODIES) if noun is not None else set()
            if noun is not None and owners <= {of}:
                return True
        return False

    def _scored(self, query: Query) -> list[_Scored]:
        candidates = self.matcher.rank(query, limit=CANDIDATES)
        text = query.normalised
        hinted = {kind: bonus for pattern, kind, bonus in _KIND_HINTS if pattern.search(text)}
        shape = self._shape(query)
        scored = []
        for candidate in candidates:
            entry = self.kb.by_id[candidate.entry_id]
            bonus = hinted.get(entry.kind, 0.0)
            if shape.asks_when and entry.date is not None:
                bonus += 0.04
            penalties = self._shape_penalties(entry, query, shape)
            score = max(0.0, min(1.0, candidate.score + bonus) - sum(amount for _, amount in penalties))
            adjustments = ((("kind or date fits", bonus),) if bonus else ()) + tuple(
                (reason, -amount) for reason, amount in penalties
            )
            scored.append(
                _Scored(
                    entry,
                    Candidate(  # not dataclasses.replace: this runs for every candidate
                        entry.id,
                        round(score, 4),
                        candidate.phrasing,
                        candidate.fuzzy,
                        candidate.coverage,
                        candidate.score,
                        adjustments,
                    ),
                    candidate.score,
                )
            )
        scored.sort(key=lambda s: (-s.candidate.score, s.entry.id))
        return scored

    def _general(self, query: Query) -> Answer:
        scored = self._scored(query)
        candidates = tuple(s.candidate for s in scored[:5])
        if not scored or scored[0].candidate.score < self.threshold:
            return self._abstain(NOT_IN_NOTES, scored, candidates)
        best = scored[0]
        text = query.normalised
        # "did the plan go ahead" asks what became of it; "should it go ahead" asks for advice.
        fate = _FATE.search(text) and not _MODAL.search(text)
        asks_outcome = fate or (_OUTCOME.search(text) and not _PLAN_WORDS.search(text))
        if best.entry.planned and asks_outcome:
            return self._after_notes(query, scored)
        answer = self._answer(best.entry, best.candidate.score, intent=best.entry.kind, runners=scored[1:])
        return replace(answer, candidates=candidates)

    def _after_notes(self, query: Query, scored: list[_Scored] | None = None) -> Answer:
        scored = scored if scored is not None else self._scored(query)
        candidates = tuple(s.candidate for s in scored[:5])
        if scored and scored[0].candidate.score >= self.threshold:
            entry = scored[0].entry
            as_of = "" if _AS_OF.match(entry.answer) else "As of July 2023: "
            text = f"{NOTES_END} {as_of}{entry.answer}"
            return Answer(
                text,
                intent="after-notes",
                confidence=scored[0].candidate.score,
                abstained=True,
                entry_ids=(entry.id,),
                sources=(self._source(entry),),
                suggestions=self._suggestions(scored[1:], exclude={entry.id}),
                candidates=candidates,
            )
        return self._abstain(NOTES_END, scored, candidates)

    def _abstain(self, text: str, scored: list[_Scored], candidates: tuple[Candidate, ...]) -> Answer:
        suggestions = self._suggestions(scored, exclude=set())
        if suggestions:
            text += " Closest things I do know about are below."
        return Answer(
            text,
            intent="abstain",
            confidence=scored[0].candidate.score if scored else 0.0,
            abstained=True,
            suggestions=suggestions,
            candidates=candidates,
        )

    def _answer(
        self, entry: Entry, confidence: float, intent: str, runners: list[_Scored] | None = None
    ) -> Answer:
        text = entry.answer
        if entry.kind == "quote" and entry.quote and normalise(entry.quote) not in normalise(text):
            text = f"{text} In their words: “{entry.quote}”"
        return Answer(
            text,
            intent=intent,
            confidence=round(confidence, 4),
            abstained=False,
            entry_ids=(entry.id,),
            sources=(self._source(entry),),
            suggestions=self._suggestions(runners or [], exclude={entry.id}, related=entry.related),
            title=entry.title,
        )

    def _suggestions(
        self, scored: list[_Scored], exclude: set[str], related: tuple[str, ...] = ()
    ) -> tuple[Suggestion, ...]:
        chosen: list[Entry] = []
        for entry_id in related:
            if entry_id not in exclude and entry_id in self.kb.by_id:
                chosen.append(self.kb.by_id[entry_id])
        # Close in topic, even if it does not answer this question: "when did South Korea
        # open a NATO office" is not answered by the Tokyo office, but it is what is near.
        for item in scored:
            if item.relevance >= self.threshold * 0.6:
                chosen.append(item.entry)
        unique: dict[str, Entry] = {}
        for entry in chosen:
            if entry.id not in exclude:
                unique.setdefault(entry.id, entry)
        return tuple(Suggestion(e.id, e.title, e.questions[0]) for e in list(unique.values())[:3])

    def _source(self, entry: Entry) -> Source:
        document = self.kb.documents[entry.source.doc]
        return Source(entry.source.doc, document.citation(), entry.source.paragraphs, entry.as_of.human())

    # -- pickling: bot.prepared caches a built engine between starts ---------------------

    def __getstate__(self) -> dict[str, object]:
        """The built tables, without the memo of named people (an lru_cache does not pickle)."""
        state = self.__dict__.copy()
        state.pop("_people_named", None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._people_named = functools.lru_cache(maxsize=256)(self._find_people_named)
