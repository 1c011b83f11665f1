"""How well an entry fits what a question asks for, beyond the words they share.

The matcher scores shared words; these checks read the question's shape. A "when"
question wants an entry with a year, "how many planes" a number of planes, "what did
Putin say" an entry where Putin speaks, "how did China react" one where China reacts,
"who hosted the summit" one where someone hosts. Each mismatch lowers the entry's score
by a penalty tuned with ``briefbot eval``'s sweep, and ``briefbot ask --explain`` lists
them. The tables behind the checks are built once per knowledge base.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.grammar.lexer import YEAR, YEAR_IN_TEXT
from bot.knowledge.base import MONTH_NAMES, Entry, KnowledgeBase, PartialDate
from bot.qa.matcher import Matcher, Query
from bot.qa.vocabulary import STOP_WORDS, content_terms, stem
from bot.text import fold_typography, normalise, tokens

__all__ = ["EVERYWHERE_ACTORS", "WHEN", "WHO_CHECK", "Fit", "Shape", "as_of_phrase"]

WHEN = re.compile(r"^(when|what year|which year|in what year|what date)\b|\bwhen (did|was|were|is|will)\b")
_HOW_MANY = re.compile(
    r"\bhow (many|much|large|big|long)\b|\bwhat (percentage|share|proportion|amount|number|sum)\b|"
    r"\btotal\b"  # "japan's total ukraine aid": a sum
)
# A sum of money in an answer, and the terms asking for one.
_MONEY = re.compile(r"[$€¥£]\s?\d|\b\d[\d.,]*\s*(?:million|billion|trillion)?\s*(?:dollars|yen|euros?)\b")
_MONEY_TERMS = frozenset(content_terms(["money", "cash", "funding", "fund", "funds"]))
_QUANTITY = re.compile(
    rf"[$%]|\b(?!{YEAR}\b)\d+(?:\.\d+)?\b|\b(one|two|three|four|five|six|seven|eight|nine|"
    r"ten|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|dozen|million|billion|"
    r"half|several|few)\b",
    re.IGNORECASE,
)


@functools.cache
def as_of_phrase(as_of: PartialDate) -> re.Pattern[str]:
    """How an answer says the date it holds at: "as of July 2019", "as of early 2019"."""
    month = f"(?:{MONTH_NAMES[as_of.month - 1].casefold()} )?" if as_of.month else ""
    day = f"(?:{as_of.day} )?" if as_of.day else ""
    return re.compile(rf"\bas of (?:early |mid-?|late )?{day}{month}{as_of.year}\b", re.IGNORECASE)


# Penalties for answers of the wrong shape; tuned with `briefbot eval`'s sweep.
# "when" answered by an entry that mentions no year at all, "how many" by one that
# gives no number: such an answer cannot hold what was asked, whatever the wording.
NO_YEAR_PENALTY = 0.4
NO_NUMBER_PENALTY = 0.4
PLURAL_NO_PERSON_PENALTY = 0.1  # "who are ..." answered by an entry that names nobody else
YEAR_MISMATCH_PENALTY = 0.3  # the question names a year the entry never mentions
# "who hosted the Vilnius summit" answered by an entry where nobody hosts anything.
WHO_VERB_PENALTY = 0.2
# How many words from a role word a country may be and still say whose role it is
# ("japan s defense minister": two).
ROLE_COUNTRY_REACH = 2
# "how did China react" answered by an entry where no Chinese voice reacts or speaks.
REACTOR_PENALTY = 0.3
# Japan is in nearly every question and answer, and "Tokyo" speaks for it as often as
# "Japan" does; it tells no entry from another.
_EVERYWHERE = frozenset({"japan"})
# The reason the who-check gives, as --explain shows it.
WHO_CHECK = "not the person asked for"
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


def _singular_who(person_nouns: tuple[str, ...]) -> re.Pattern[str]:
    """A who-question about one person: "who is …", "which (Japanese prime) minister …"."""
    one_person = "|".join([*person_nouns, "secretary", r"spokes\w+", "person"])
    return re.compile(
        rf"^(who (is|was|s|did|has|had)|whos) |^who (?!are |were )\w+|"
        rf"^which (?:\w+ ){{0,2}}(?:{one_person})\b|"
        # "the name of japan's ambassador", "the defense minister's name": one person's name
        rf"\bname\b"
    )


def _which_person(person_nouns: tuple[str, ...]) -> re.Pattern[str]:
    """ "which Japanese prime minister(s) ..." asks for a person, or people, as "who" does."""
    any_people = "|".join(
        [*(f"{noun}s?" for noun in person_nouns), "secretar(?:y|ies)", r"spokes\w+", "person", "people"]
    )
    return re.compile(rf"^which (?:\w+ ){{0,2}}(?:{any_people})\b")


_SAY = re.compile(r"\b(say|says|said|saying|tell|told|state|stated|remark\w*|comment\w*)\b")
_SPEECH = re.compile(
    r"\b(say|says|said|saying|told|tells|stated|states that|warned|called|calls|describ\w*|characteri[sz]\w*|"
    r"remark\w*|declared|accus\w*|condemn\w*|criticis\w*|criticiz\w*|argu\w*|quote\w*|words|"
    r"insist\w*|stress\w*|pledg\w*|vow\w*|claim\w*|blast\w*|slam\w*|denounc\w*|lambast\w*|"
    r"reaffirm\w*|affirm\w*|promis\w*|announc\w*|emphasi[sz]\w*|underlin\w*|attacked)\b"
)
# A place: a capitalised name after "in", "at", "within" and a few lower-case words.
_PLACE_NAME = re.compile(
    r"\b(?i:in|at|within|near|inside|visit(?:ed|s|ing)?)\s+\"?(?:the\s+(?:\d{4}\s+)?|(?:a|an|[a-z]+)\s+){0,2}?"
    r"(?P<name>[A-Z][\w.'-]*(?:\s+(?:[A-Z][\w.'-]*|of|the))*)"
)
_REACTING = re.compile(
    _SPEECH.pattern + r"|\b(object\w*|oppos\w*|protest\w*|attack\w*|react\w*|respon\w*|reject\w*|welcom\w*)\b"
    r"|\bpush\w* back\b|\bpushback\b|\bagainst\b"
)
# Named by nearly every entry: naming them answers no "who else?" and no "who objected?".
EVERYWHERE_ACTORS = frozenset({"japan", "nato"})
# Reacting in words or stance, for who reacted (not "attack": Russia attacks, Kishida speaks).
_REACTION = re.compile(
    _SPEECH.pattern + r"|\b(call|object\w*|oppos\w*|protest\w*|react\w*|respon\w*|reject\w*|welcom\w*)\b"
)
# Who-questions about the analysis itself ("who proposed...") may be answered with its authors.
_AUTHORSHIP = re.compile(
    r"\b(recommend\w*|propos\w*|suggest\w*|argu\w*|writ\w*|wrote|author\w*|think|thinks|believ\w*|"
    r"view|call\w*|describ\w*|analys\w*|conclud\w*)\b"
)
_NAME = re.compile(r"\bnames?\b")
_HOW_MANY_WHAT = re.compile(r"\bhow many (\w+)(?: (\w+))?")
_HOW_MANY_OWNED = re.compile(r"\bhow many \w+ (?:does|do|did|has|had) (?:the )?(\w+) ha(?:ve|d)\b")
# Counted things that stand for one another ("how many countries" / "23 NATO members"), as
# terms: the words as written never matched a stem such as "stat".
_COUNT_SYNONYMS = frozenset(content_terms("country nation member state ally partner".split()))
# A year is a date, not a count: "Estonia in 2022 and assigned experts" counts no experts.
_NUMBER_WORD = re.compile(
    rf"^(?!{YEAR}$)(?:\d[\d.,]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"thirty|forty|fifty|hundred|thousand|dozen|million|billion)$"
)
_SUBJECT = re.compile(r"^(?:when|why|how|where|what year) (?:did|does|do|has|have|was|were|will|would) (\w+)")
_COMPANY = re.compile(r" (?:with|alongside|including|like|among|such as) ")


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
# A question that opens with its verb of reacting ("how reacted beijing …") names who
# reacts in this many words after it.
_SUBJECT_AFTER_VERB = 2
_WH_OPENERS = frozenset({"how", "what", "why", "when", "where", "which"})
# Ways of saying something that the who-checks for speech already cover.
_TALK = re.compile(r"talk\w*|spoke|speak\w*|mention\w*|discuss\w*|warn\w*|wr[io]te\w*|express\w*|voic\w*")
_AUXILIARIES = frozenset(
    "is was are were s did does do has have had will would could should can may might must".split()
)
_BE_FORMS = frozenset({"is", "was", "are", "were", "be", "been", "being"})
# What the document does to what it mentions ("which law is *cited*").
_CITING = re.compile(r"cited|mentioned|named|described|quoted|listed|referenced|highlighted|given")


# Verbs that stand for one another in "who hosted / organised / ran it".
_VERB_KIN: dict[str, frozenset[str]] = {
    term: group
    for group in (
        frozenset(content_terms("host cohost organise organize run ran stage convene".split())),
        frozenset(content_terms("lead head chair command run ran direct".split())),
        # "when did the mission become permanent?": it was upgraded to one.
        frozenset(content_terms("become became upgrade upgraded elevate elevated".split())),
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
    assert match is not None
    if match.group(2) and text[: match.start(2)].split()[-1] in _BE_FORMS and _CITING.fullmatch(verb):
        return None  # "which us law is cited as …": the document cites it, no one in it does
    if text[match.end() :].startswith(" back"):
        return None  # "which country pushed back on it?": reacting, which the who-checks read
    terms = content_terms([verb])
    return terms[0] if terms else None


def _reactors(
    text: str, keep: frozenset[str], first: bool = True, document: frozenset[str] = frozenset()
) -> frozenset[str]:
    """The countries named in the few words before a verb of reacting or saying in
    normalised ``text``: before the first such verb, or with ``first=False`` before each
    ("at the dialogue, which the authors call Asia's top summit, China's minister attacked").
    A verb whose subject is the document ("which chinese initiative does *the article say*
    expanded…", ``document``: its words) reports, and makes no one a reactor."""
    found: set[str] = set()
    for verb in _REACTION.finditer(text):
        before = tokens(text[: verb.start()])
        if before and before[-1] in document:
            continue
        if before and all(w in _WH_OPENERS for w in before):
            # "how reacted beijing on the office?", "what said china": the question word,
            # then the verb, then who (the order of German, Spanish, Polish questions).
            found.update(content_terms(tokens(text[verb.end() :])[:_SUBJECT_AFTER_VERB]))
        else:
            found.update(content_terms(before[-_REACTOR_REACH:]))
        if first:
            break
    return frozenset(found) & keep


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
class Shape:
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
    asks_size: bool = False  # "how big": a size word answers it as well as a number
    precision: str = ""  # "day" ("what day"), "month" ("the exact date"), "" (a year will do)
    # The role a who-question names, with the country named beside it ("the chinese
    # defense minister": china, defense, minister); empty unless it asks who.
    role: frozenset[str] = frozenset()


class Fit:
    """The question-shape checks over one knowledge base; built once, then read only."""

    def __init__(self, kb: KnowledgeBase, matcher: Matcher) -> None:
        self.kb = kb
        self.matcher = matcher
        # The domain's words (the lexicon's ``domain:``), stemmed as questions are, so that
        # "the Netherlands" and "the Dutch" (both "netherland") are one country to the checks.
        domain = kb.lexicon.domain
        self.countries = frozenset(stem(word) for word in domain.countries)
        self.role_words = frozenset(content_terms(list(domain.roles)))
        self._same_role = {
            term: group[0] for group in domain.same_roles for term in content_terms(list(group))
        }
        self.bodies = frozenset(domain.bodies)
        # Who can act or be named as a side: every follow-up check that asks "a country or
        # a body?" reads this one set.
        self.parties = self.countries | self.bodies
        self._reacting = self.countries - _EVERYWHERE  # the countries whose reaction tells entries apart
        self._singular_who = _singular_who(domain.person_nouns)
        self._which_person = _which_person(domain.person_nouns)
        self._person_terms = self.role_words | frozenset(content_terms(list(domain.person_nouns)))
        self._people = kb.of_kind("person")
        self._years: dict[str, frozenset[int]] = {}
        self._has_quantity: dict[str, bool] = {}
        # "how big would the office be?" asks a size, which words answer as well as a
        # number ("would start small", "historically massive").
        self._size_words = frozenset(normalise(w) for w in kb.lexicon.size_words)
        # The words naming the briefing itself ("the *article* says"), normalised.
        self.document_words = frozenset(normalise(w) for w in kb.lexicon.document_words)
        self._has_size: dict[str, bool] = {}
        # Phrases asking a date more precise than its year (the lexicon's follow-up words),
        # for single questions ("what's the exact date of the oslo meeting") and follow-ups
        # alike (``precision``).
        followup_words = kb.lexicon.followups
        # The words of the phrases asking a number ("the *total*", "how much *money*"):
        # they ask the number, not something an entry must name besides; those asking a
        # sum of money are held only by an entry giving one.
        asking_numbers = " ".join(
            normalise(p) for a in followup_words.asks if a.ask == "how many" for p in a.phrases
        )
        self.quantity_words = frozenset(content_terms(tokens(asking_numbers))) - _MONEY_TERMS
        self._has_money: dict[str, bool] = {}
        self._precise = tuple(
            (tuple(normalise(phrase).split()), level)
            for level, phrases in (("day", followup_words.day), ("month", followup_words.month))
            for phrase in phrases
        )
        for entry in kb.entries:
            written = " ".join([entry.title, entry.answer, *entry.questions])
            text = as_of_phrase(entry.as_of).sub(" ", written)
            years = {int(y) for y in YEAR_IN_TEXT.findall(text)}
            if entry.date is not None:
                years.add(entry.date.year)
            self._years[entry.id] = frozenset(years)
            self._has_quantity[entry.id] = bool(_QUANTITY.search(YEAR_IN_TEXT.sub(" ", text)))
            self._has_money[entry.id] = bool(_MONEY.search(entry.answer))
            self._has_size[entry.id] = not self._size_words.isdisjoint(normalise(entry.answer).split())
        # Who each entry names: the people a who-question could be answered with.
        self.person_names: dict[str, frozenset[str]] = {
            person.id: frozenset(
                n for n in (normalise(x) for x in (person.title.split(",")[0], *person.aliases)) if len(n) > 3
            )
            for person in self._people
        }
        # Each name by its first word, so that finding the people a text names looks up
        # the text's words instead of searching it for every name (at load that was
        # every entry times every name: 40 s of a 100k-phrasing build).
        self._person_ids = tuple(self.person_names)
        self._names_by_first: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        for position, names in enumerate(self.person_names.values()):
            for name in names:
                words = tuple(name.split(" "))
                self._names_by_first.setdefault(words[0], []).append((position, words))
        # Every candidate of a who-question asks which people the question names.
        self._people_named = functools.lru_cache(maxsize=256)(self._find_people_named)
        self.person_roles: dict[str, frozenset[str]] = {
            person.id: frozenset(
                self.role_word(t)
                for t in content_terms(
                    tokens(normalise(" ".join([person.title, person.role or "", *person.aliases])))
                )
            )
            for person in self._people
        }
        self._named: dict[str, frozenset[str]] = {}
        for entry in kb.entries:
            text = f" {normalise(' '.join(filter(None, [entry.answer, entry.speaker])))} "
            named = {self._person_ids[i] for i in self._naming(text)}
            if entry.kind == "person":
                named.add(entry.id)
            self._named[entry.id] = frozenset(named)
        # The people each entry reports as saying something: its speaker, or a person
        # named before a verb of saying in a sentence of its answer ("Kishida said", but
        # not "the authors argue that ... Putin's war machine"), after the verb before it
        # ("Stoltenberg said …, echoing Kishida …, who said …" reports both).
        self._speakers: dict[str, frozenset[str]] = {}
        for entry in kb.entries:
            said: set[str] = set()
            for sentence in _SENTENCE_END.split(fold_typography(entry.answer)):
                plain = normalise(sentence)
                start = 0
                for verb in _SPEECH.finditer(plain):
                    said |= self._find_people_named(f" {plain[start : verb.start()]} ")
                    start = verb.end()
            said |= self._find_people_named(f" {normalise(entry.speaker or '')} ")
            self._speakers[entry.id] = frozenset(said)
        # The countries each entry has reacting or speaking: named in its speaker, or
        # before the verb of a sentence that reports a reaction ("Russian Foreign Ministry
        # spokeswoman Maria Zakharova said", "China's foreign ministry called").
        self._actors: dict[str, frozenset[str]] = {}
        for entry in kb.entries:
            actors = set(content_terms(tokens(normalise(entry.speaker or "")))) & self.countries
            for sentence in _SENTENCE_END.split(fold_typography(entry.answer)):
                actors |= _reactors(normalise(sentence), keep=self.countries, first=False)
            self._actors[entry.id] = frozenset(actors)
        # The places each answer puts something in or at ("in Oslo", "at the Shangri-La
        # Dialogue", "within the sprawling U.S. Yokota Air Base"): what "where?" asks for.
        regions = frozenset(content_terms(tokens(normalise(" ".join(domain.regions)))))
        self._places: dict[str, frozenset[str]] = {
            entry.id: frozenset(
                t
                for match in _PLACE_NAME.finditer(fold_typography(entry.answer))
                for t in content_terms(tokens(normalise(match.group("name"))))
                if t not in _MONTHS and t not in regions and t not in self.bodies  # "within NATO"
            )
            for entry in kb.entries
        }
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
            for w in (capitalised - lowercase) | self.countries
            if 0 < frequency.get(w, 0) <= limit and len(w) > 1 and w not in self.role_words | _MONTHS
        )
        # Who or what each entry's story is about, as its title says it, leaving out the
        # company ("Japan joins Air Defender *with 23 allies and Sweden*").
        self._title_terms: dict[str, frozenset[str]] = {
            entry.id: frozenset(content_terms(tokens(_COMPANY.split(normalise(entry.title))[0])))
            for entry in kb.entries
        }

    def precision(self, text: str) -> str:
        """How precise a date ``text`` (normalised) asks for: "day" ("what day?"), "month"
        ("the exact date?"), or "" when a year will do."""
        words = text.split()
        found = {
            level
            for phrase, level in self._precise
            if any(tuple(words[i : i + len(phrase)]) == phrase for i in range(len(words)))
        }
        return "day" if "day" in found else "month" if found else ""

    def penalties(self, entry: Entry, query: Query, shape: Shape) -> tuple[tuple[str, float], ...]:
        """How badly an entry's shape fits what the question asks for, check by check."""
        found: list[tuple[str, float]] = []
        if shape.asks_when:
            if not self._years[entry.id]:
                found.append(("when, but no year", NO_YEAR_PENALTY))
            elif entry.date is None:
                found.append(("when, but undated", UNDATED_PENALTY))
            elif (shape.precision == "day" and not entry.date.day) or (
                shape.precision == "month" and not entry.date.month
            ):
                # "the exact date" of an entry dated by its year alone: as good as no date.
                found.append(("when, but not that precise", NO_YEAR_PENALTY))
        if shape.asks_said:
            if shape.speakers and shape.speakers.isdisjoint(self._speakers[entry.id]):
                found.append(("not said by them", UNSAID_BY_THEM_PENALTY))
            elif not self._reports_speech[entry.id]:
                found.append(("nobody says anything", UNSAID_PENALTY))
        if (
            shape.asks_how_many
            and not self._has_quantity[entry.id]
            and not (shape.asks_size and self._has_size[entry.id])
        ):
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
        if shape.asks_who and (who := self._who_penalty(entry, query, shape.role)):
            found.append((WHO_CHECK, who))
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
        return terms[0] if terms and terms[0] in self._entity_words & self.countries else None

    def about_another(self, entry: Entry, shape: Shape) -> bool:
        """Whether the question is about another subject than ``entry`` ("when did
        *finland* become an sto partner" of Japan's entry, "how did *russia* react" where
        China reacts): a lexical match, however close, does not make it the entry's."""
        if shape.subject is not None and shape.subject not in self._title_terms[entry.id]:
            return True
        return bool(shape.reactors) and shape.reactors.isdisjoint(self._actors[entry.id])

    def shape(self, query: Query) -> Shape:
        """What the question asks for, worked out once for all its candidates."""
        text = query.normalised
        asks_who = (
            text.startswith(("who ", "whos "))
            or self._which_person.search(text) is not None
            # "what's the japanese defense minister's name": a person, asked by role.
            or (_NAME.search(text) is not None and not self._person_terms.isdisjoint(query.terms))
        )
        asks_said = bool(said := _SAY.search(text)) and not asks_who
        before = tokens(text[: said.start()]) if said is not None else []
        if before and before[-1] in self.document_words:
            # "what area do the authors say has few joint initiatives": what the document
            # holds, which every entry reports, not someone's words.
            asks_said = False
        counted: frozenset[str] = frozenset()
        count_of: str | None = None
        if match := _HOW_MANY_WHAT.search(text):
            first, second = match.groups()
            if first in _AUXILIARIES and second:
                # "how many are nato members": what they are counted as, whoever's they are
                # ("the other six G7 nations are NATO members").
                counted = frozenset(content_terms(text[match.start(2) :].split()[:2])) - self.countries
            elif second and second.endswith("s") and not first.endswith("s") and second not in STOP_WORDS:
                # "how many NATO members": members, and of NATO (a country is not
                # insisted on: Japan is in nearly every answer, and "Japanese" in few).
                counted = frozenset(content_terms([second]))
                of = content_terms([first])
                count_of = of[0] if of and of[0] not in self.countries else None
            else:
                counted = frozenset(content_terms([w for w in match.groups() if w])) - self.countries
                if owner := _HOW_MANY_OWNED.search(text):  # "how many members does NATO have"
                    of = content_terms([owner.group(1)])
                    count_of = of[0] if of and of[0] not in self.countries else None
        precision = self.precision(text)
        return Shape(
            asks_when=bool(WHEN.search(text)) or bool(precision),  # "the exact date of …"
            asks_said=asks_said,
            speakers=self._people_named(f" {text} ") if asks_said else frozenset(),
            asks_how_many=bool(_HOW_MANY.search(text)),
            asks_who=asks_who,
            years=frozenset(int(y) for y in YEAR_IN_TEXT.findall(text)),
            entities=frozenset(query.terms) & self._entity_words,
            subject=self._subject(text),
            reactors=_reactors(text, keep=self._reacting, document=self.document_words),
            who_verb=_who_verb(text),
            counted=counted,
            count_of=count_of,
            precision=precision,
            asks_size=any(
                first == "how" and second in self._size_words
                for first, second in itertools.pairwise(text.split())
            ),
            role=self._role_asked(query) if asks_who else frozenset(),
        )

    @property
    def entity_words(self) -> frozenset[str]:
        """Terms that name someone or something (capitalised in the answers, and rare)."""
        return self._entity_words

    def role_word(self, term: str) -> str:
        """A role's term, with words for the same role folded to one ("head" for "chief")."""
        return self._same_role.get(term, term)

    def people_in(self, text: str) -> frozenset[str]:
        """The ids of the people whose names normalised ``text`` contains."""
        return self._people_named(f" {text} ")

    @property
    def person_terms(self) -> frozenset[str]:
        """The terms of roles and nouns for people ("spokesperson", "minister", "official")."""
        return self._person_terms

    def asks_person(self, query: Query) -> bool:
        """Whether a question names the role or kind of person it asks for ("which
        spokesperson", "which official"): a ministry or a country does not answer it."""
        return bool(set(query.terms) & self._person_terms)

    def named_people(self, entry_id: str) -> frozenset[str]:
        """The people an entry gives a name for: a person entry its own person (so "what's
        his name?" after it is answered by it), any other entry those it names."""
        entry = self.kb.by_id[entry_id]
        if entry.kind == "person":
            return frozenset({entry_id})
        return self._named[entry_id] - {entry_id}

    def speakers_of(self, entry_id: str) -> frozenset[str]:
        """The people (person ids) an entry reports as saying something."""
        return self._speakers[entry_id]

    def places(self, entry_id: str) -> frozenset[str]:
        """The terms of the places an entry's answer puts something in or at."""
        return self._places[entry_id]

    def has_quantity(self, entry_id: str) -> bool:
        """Whether the entry gives a number other than a year ("two-week", "$7.1 billion")."""
        return self._has_quantity[entry_id]

    def gives_money(self, entry_id: str, terms: Iterable[str]) -> bool:
        """Whether ``terms`` ask a sum of money ("how much money", "how much funding")
        and the entry's answer gives one ("$7.1 billion")."""
        return bool(_MONEY_TERMS.intersection(terms)) and self._has_money[entry_id]

    def who_can_answer(self, entry_id: str, query: Query) -> frozenset[str]:
        """The countries and bodies (terms) that answer a who-question of an entry: those
        it reports reacting or speaking when the question asks who reacted ("who objected
        to it?" is not answered by the U.S. base an office would sit in), else all it names."""
        if _REACTING.search(query.normalised):
            return self._actors[entry_id]
        return self.actors_in(entry_id)

    def actors_in(self, entry_id: str) -> frozenset[str]:
        """The countries and bodies (terms) an entry names: in its title, phrasings or answer."""
        key, body = self.matcher.terms_of(entry_id)
        return frozenset((key | body) & self.parties)

    def named(self, entry_id: str) -> frozenset[str]:
        """The people an entry names (its answer and speaker; a person entry names itself)."""
        return self._named[entry_id]

    def _find_people_named(self, padded: str) -> frozenset[str]:
        """The people whose names ``padded`` (normalised text with a space each side) contains."""
        return frozenset(self._person_ids[i] for i in self._naming(padded))

    def _naming(self, padded: str) -> list[int]:
        """The positions (in ``person_names`` order) of the people with a name `` {n} ``
        in ``padded``.

        A name is single-spaced non-empty words, so it occurs with a space each side
        exactly where its words are consecutive pieces of ``padded.split(" ")`` with a
        piece before them and one after (the spaces either side). The order is
        ``person_names``'s, as the search over every name gave it, so the sets built
        from it iterate as before.
        """
        pieces = padded.split(" ")
        found: set[int] = set()
        for start in range(1, len(pieces) - 1):
            for person, words in self._names_by_first.get(pieces[start], ()):
                end = start + len(words)
                if person not in found and end < len(pieces) and tuple(pieces[start:end]) == words:
                    found.add(person)
        return sorted(found)

    def _who_penalty(self, entry: Entry, query: Query, wanted: frozenset[str]) -> float:
        """A who-question wants a person other than the ones it names, in the role it names."""
        text = f" {query.normalised} "
        asked = self._people_named(text)
        if entry.kind == "person" and entry.id in asked:
            # A who-question that reached here was not "who is <this name>".
            return SELF_ANSWER_PENALTY
        speaks = entry.speaker or entry.kind in ("quote", "reaction")
        reacting = _REACTING.search(query.normalised) is not None
        if not self._named[entry.id] and speaks and reacting:
            return 0.0  # "who objected": someone not in the people list, e.g. a ministry
        if (
            reacting
            and self._person_terms.isdisjoint(query.terms)  # "which official said it?": a person
            and self._actors[entry.id] - set(query.terms) - EVERYWHERE_ACTORS
        ):
            return 0.0  # "who protested against the office?": France, which the entry reports
        others = self._named[entry.id] - asked
        if not _AUTHORSHIP.search(query.normalised):
            others -= self._authors  # "who leads the cell" is not answered by who recommends it
        if not others:
            singular = self._singular_who.search(query.normalised) is not None
            return NO_PERSON_PENALTY if singular else PLURAL_NO_PERSON_PENALTY
        if any(t in self.role_words for t in wanted) and not any(
            wanted <= self.person_roles[p] for p in others
        ):
            return ROLE_PENALTY
        return 0.0

    def _role_asked(self, query: Query) -> frozenset[str]:
        """The role a who-question names, with the country it is of when that is named
        beside it ("japan s defense minister", "the chinese defense minister"), not a country
        the question names elsewhere ("… blasting nato jp ties": not Japan's minister)."""
        terms = [
            (position, t)
            for position, word in enumerate(query.normalised.split())
            for t in content_terms([word])
        ]
        roles = [position for position, t in terms if t in self.role_words]
        return frozenset(
            self.role_word(t)
            for position, t in terms
            if t in self.role_words
            or (t in self.countries and any(abs(position - r) <= ROLE_COUNTRY_REACH for r in roles))
        )

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
            owners = set(after[:noun]) & (self._entity_words | self.bodies) if noun is not None else set()
            if noun is not None and owners <= {of}:
                return True
        return False

    # -- pickling: bot.ops.prepared caches a built engine between starts ---------------------

    def __getstate__(self) -> dict[str, object]:
        """The built tables, without the memo of named people (an lru_cache does not pickle)."""
        state = self.__dict__.copy()
        state.pop("_people_named", None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._people_named = functools.lru_cache(maxsize=256)(self._find_people_named)
