"""The curator-facing schema of ``lexicon:`` (see ``bot.knowledge.lexicon``), checked like entries.

Imported only while a knowledge base is validated, with the rest of the schema.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from bot.knowledge.base import TOPICS
from bot.knowledge.lexicon import (
    Domain,
    FollowupAsk,
    FollowupWords,
    FormRequest,
    Language,
    Lexicon,
    Smalltalk,
)

__all__ = ["LexiconModel"]

_Phrase = str
_SCRIPTS = Literal[
    "latin", "hiragana", "katakana", "cjk", "hangul", "cyrillic", "arabic", "hebrew", "greek", "thai"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _distinct(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        key = " ".join(value.casefold().split())
        if not key:
            raise ValueError("holds an empty phrase")
        if len(value) > 80:
            raise ValueError(f"“{value[:40]}…” is longer than 80 characters")
        if key in seen:
            raise ValueError(f"lists “{value}” twice")
        seen.add(key)
    return values


def _known_topic(value: str) -> str:
    if value not in TOPICS:
        raise ValueError(f"“{value[:40]}” is not a topic; the topics are {', '.join(TOPICS)}")
    return value


def _lowercase_word(value: str) -> str:
    if value != value.casefold() or not value or any(c.isspace() for c in value):
        raise ValueError(f"“{value[:40]}” must be one lower-case word, as questions are read")
    return value


# A topic's words, under the topic they name: read as word → topic once validated.
_TopicWords = dict[
    Annotated[str, AfterValidator(_known_topic)], list[Annotated[str, AfterValidator(_lowercase_word)]]
]


def _one_topic_each(value: _TopicWords) -> _TopicWords:
    named: dict[str, str] = {}
    for topic, words in value.items():
        for word in words:
            if word in named and named[word] == topic:
                raise ValueError(f"{topic}: lists “{word}” twice")
            if word in named:
                raise ValueError(f"“{word}” is listed under both '{named[word]}' and '{topic}'")
            named[word] = topic
    return value


_Word = Annotated[str, AfterValidator(_lowercase_word)]


class _DomainModel(_Strict):
    countries: list[_Word] = []
    roles: list[_Word] = []
    same_roles: list[list[_Word]] = []
    bodies: list[_Word] = []
    person_nouns: list[_Word] = []
    regions: list[_Word] = []

    _lists = field_validator("countries", "roles", "bodies", "person_nouns", "regions")(_distinct)

    @field_validator("same_roles")
    @classmethod
    def _one_group_each(cls, value: list[list[str]]) -> list[list[str]]:
        seen: set[str] = set()
        for group in value:
            if len(group) < 2:
                raise ValueError(f"{group}: a group of the same role needs two words or more")
            for word in group:
                if word in seen:
                    raise ValueError(f"“{word}” is in two groups, or twice in one")
                seen.add(word)
        return value

    def freeze(self) -> Domain:
        return Domain(
            countries=tuple(self.countries),
            roles=tuple(self.roles),
            same_roles=tuple(tuple(group) for group in self.same_roles),
            bodies=tuple(self.bodies),
            person_nouns=tuple(self.person_nouns),
            regions=tuple(self.regions),
        )


class _SmalltalkModel(_Strict):
    kind: str = Field(pattern=r"^[a-z][a-z-]*$")
    reply: str = Field(min_length=2, max_length=300)
    phrases: list[_Phrase] = Field(min_length=1)

    _phrases = field_validator("phrases")(_distinct)


class _FormRequestModel(_Strict):
    wants: Literal["date", "day", "quote", "number", "name", "short", "simple", "list", "place"]
    ask_as: str = Field(default="", max_length=20)
    phrases: list[_Phrase] = Field(min_length=1)

    _phrases = field_validator("phrases")(_distinct)


class _LanguageModel(_Strict):
    code: str = Field(pattern=r"^[a-z]{2,3}$")
    name: str = Field(min_length=2, max_length=40)
    notice: str = Field(min_length=10, max_length=300)
    scripts: list[_SCRIPTS] = []
    marks: list[_SCRIPTS] = []
    words: list[_Phrase] = []

    _words = field_validator("words")(_distinct)


class _FollowupAskModel(_Strict):
    ask: str = Field(pattern=r"^[a-z]+( [a-z]+)?$")
    phrases: list[_Phrase] = Field(min_length=1)

    _phrases = field_validator("phrases")(_distinct)


class _ReferencesModel(_Strict):
    thing: list[_Phrase] = []
    person: list[_Phrase] = []
    group: list[_Phrase] = []
    place: list[_Phrase] = []
    time: list[_Phrase] = []
    year_after: list[_Phrase] = []
    year_before: list[_Phrase] = []

    _words = field_validator("thing", "person", "group", "place", "time", "year_after", "year_before")(
        _distinct
    )


class _FollowupsModel(_Strict):
    references: _ReferencesModel = _ReferencesModel()
    asks: list[_FollowupAskModel] = []
    more: list[_Phrase] = []
    before: list[_Phrase] = []
    after: list[_Phrase] = []
    earlier: list[_Phrase] = []
    later: list[_Phrase] = []
    day: list[_Phrase] = []
    month: list[_Phrase] = []
    advice: list[_Phrase] = []
    voice: list[_Phrase] = []
    naming: list[_Phrase] = []
    not_names: list[_Phrase] = []
    sides: list[_Phrase] = []
    swap: list[_Phrase] = []
    frame_words: list[_Phrase] = []
    joiners: list[_Phrase] = []
    standalone: list[_Phrase] = []
    dangling: list[_Phrase] = []
    asides: list[_Phrase] = []
    citing: list[_Phrase] = []
    new_topic: list[_Phrase] = []
    excepting: list[_Phrase] = []
    portion: list[_Phrase] = []

    _lists = field_validator(
        "more",
        "before",
        "after",
        "earlier",
        "later",
        "day",
        "month",
        "advice",
        "voice",
        "naming",
        "not_names",
        "sides",
        "swap",
        "frame_words",
        "joiners",
        "standalone",
        "dangling",
        "asides",
        "citing",
        "new_topic",
        "excepting",
        "portion",
    )(_distinct)

    @field_validator("asks")
    @classmethod
    def _one_reading(cls, value: list[_FollowupAskModel]) -> list[_FollowupAskModel]:
        seen: dict[str, str] = {}
        for item in value:
            for phrase in item.phrases:
                key = " ".join(phrase.casefold().split())
                if key in seen and seen[key] != item.ask:
                    raise ValueError(f"“{phrase}” asks both '{seen[key]}' and '{item.ask}'")
                seen[key] = item.ask
        return value

    def freeze(self) -> FollowupWords:
        refs = self.references
        return FollowupWords(
            thing=tuple(refs.thing),
            person=tuple(refs.person),
            group=tuple(refs.group),
            place=tuple(refs.place),
            time=tuple(refs.time),
            year_after=tuple(refs.year_after),
            year_before=tuple(refs.year_before),
            dangling=tuple(self.dangling),
            asks=tuple(FollowupAsk(a.ask, tuple(a.phrases)) for a in self.asks),
            more=tuple(self.more),
            before=tuple(self.before),
            after=tuple(self.after),
            earlier=tuple(self.earlier),
            later=tuple(self.later),
            day=tuple(self.day),
            month=tuple(self.month),
            advice=tuple(self.advice),
            voice=tuple(self.voice),
            naming=tuple(self.naming),
            not_names=tuple(self.not_names),
            sides=tuple(self.sides),
            swap=tuple(self.swap),
            frame_words=tuple(self.frame_words),
            joiners=tuple(self.joiners),
            standalone=tuple(self.standalone),
            asides=tuple(self.asides),
            citing=tuple(self.citing),
            new_topic=tuple(self.new_topic),
            excepting=tuple(self.excepting),
            portion=tuple(self.portion),
        )


class LexiconModel(_Strict):
    smalltalk: list[_SmalltalkModel] = []
    chatter: list[_Phrase] = []
    form_requests: list[_FormRequestModel] = []
    english_words: list[_Phrase] = []
    languages: list[_LanguageModel] = []
    followups: _FollowupsModel = _FollowupsModel()
    document_words: list[_Phrase] = []
    size_words: list[_Phrase] = []
    profile_words: list[_Phrase] = []
    topic_words: _TopicWords = {}
    domain: _DomainModel = _DomainModel()

    _chatter = field_validator("chatter", "english_words", "document_words", "size_words", "profile_words")(
        _distinct
    )
    _topic_words = field_validator("topic_words")(_one_topic_each)

    @field_validator("languages")
    @classmethod
    def _recognisable(cls, value: list[_LanguageModel]) -> list[_LanguageModel]:
        for language in value:
            if not language.scripts and not language.words:
                raise ValueError(f"{language.code}: give its scripts or its common words, or both")
            if language.code == "en":
                raise ValueError("en is the language the bot reads; list only the others")
        return value

    def freeze(self, file: str) -> Lexicon:
        return Lexicon(
            smalltalk=tuple(Smalltalk(s.kind, s.reply, tuple(s.phrases)) for s in self.smalltalk),
            chatter=tuple(self.chatter),
            form_requests=tuple(FormRequest(f.wants, tuple(f.phrases), f.ask_as) for f in self.form_requests),
            english_words=tuple(self.english_words),
            languages=tuple(_language(lang) for lang in self.languages),
            followups=self.followups.freeze(),
            document_words=tuple(self.document_words),
            size_words=tuple(self.size_words),
            profile_words=tuple(self.profile_words),
            topic_words={word: topic for topic, words in self.topic_words.items() for word in words},
            domain=self.domain.freeze(),
            file=file,
        )


def _language(model: _LanguageModel) -> Language:
    return Language(
        model.code, model.name, model.notice, tuple(model.scripts), tuple(model.marks), tuple(model.words)
    )
