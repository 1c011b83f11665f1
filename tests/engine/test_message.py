"""The understand stage finds the question in a chat message, as a user would read it."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.qa.message import Reader
from tests.fixtures import bundled_engine


@cache
def reader() -> Reader:
    engine = bundled_engine()
    matcher = engine.matcher
    return Reader(engine.kb.lexicon, matcher.vocabulary, lambda text: matcher.analyse(text).terms)


@pytest.mark.parametrize(
    ("message", "question"),
    [
        ("hey bot, who is jens stoltenberg? saw him in the news", "who is jens stoltenberg?"),
        (
            "@briefbot how did moscow react to the tokyo office plan, need it for a brief 🙏",
            "how did moscow react to the tokyo office plan",
        ),
        ("tell me about the tokyo office, for my slides", "tell me about the tokyo office"),
        ("yo quick q: wen did japan join the cyber center", "wen did japan join the cyber center"),
        # Words of grammar stay, even when chatter could be read into them.
        ("what does IUU stand for", "what does IUU stand for"),
        ("itpp?", "itpp?"),
    ],
)
def test_chatter_around_a_question_is_dropped(message: str, question: str) -> None:
    assert reader().read(message).question == question


def test_a_request_about_the_form_is_remembered_not_matched() -> None:
    understood = reader().read("when did stoltenberg visit japan? need month + year pls")
    assert understood.question == "when did stoltenberg visit japan?"
    assert understood.wants == "date"


@pytest.mark.parametrize(
    ("message", "question", "wants"),
    [
        (
            "when did stoltenberg visit japan? just month n year pls",
            "when did stoltenberg visit japan?",
            "date",
        ),
        ("how much has japan given ukraine? number only", "how much has japan given ukraine?", "number"),
        ("what is interoperability? short definition", "what is interoperability?", "short"),
        ("what is ITPP? kindly spell it out", "what is ITPP?", "name"),
        (
            "who wrote this analysis? names + affiliations, need it for attribution",
            "who wrote this analysis?",
            "name",
        ),
        ("what should the nexus undertake? bullet list ok", "what should the nexus undertake?", "list"),
        (
            "at which summit did kishida pledge ukraine support? city only",
            "at which summit did kishida pledge ukraine support?",
            "place",
        ),
        (
            "what obstacles could slow it down? need the list for my brief",
            "what obstacles could slow it down?",
            "list",
        ),
        ("what is article 9? eli5", "what is article 9?", "simple"),
        ("when did japan join the cyber centre? month + yr", "when did japan join the cyber centre?", "date"),
        ("tl;dr why does japan want a nato office?", "why does japan want a nato office?", "short"),
        ("TL;DR: who wrote the piece", "who wrote the piece", "short"),
        ("main takeaways: what do the authors recommend?", "what do the authors recommend?", "short"),
        (
            "how much did tokyo pledge to kyiv? need the dollar figure for my memo",
            "how much did tokyo pledge to kyiv?",
            "number",
        ),
        ("exact date of the declaration? day pls", "exact date of the declaration which day", "day"),
        (
            "why does japan want a nato office? in plain english pls",
            "why does japan want a nato office?",
            "simple",
        ),
    ],
)
def test_requests_about_the_form_in_other_words(message: str, question: str, wants: str) -> None:
    understood = reader().read(message)
    assert understood.question == question and understood.wants == wants


@pytest.mark.parametrize("request_", ["name pls", "just the name", "full name please"])
def test_a_request_for_a_name_is_not_a_question_of_its_own(request_: str) -> None:
    understood = reader().read(f"who is japan's ambassador to nato? {request_}")
    assert understood.question == "who is japan's ambassador to nato?"
    assert understood.parts == () and understood.wants == "name"


def test_a_date_request_turns_a_bare_topic_into_a_when_question() -> None:
    understood = reader().read("stoltenberg visit to japan, month + year pls")
    assert understood.question == "when stoltenberg visit to japan"


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("thanks!", "thanks"),
        ("thx bot", "thanks"),
        ("Thank you so much", "thanks"),
        ("thnaks", "thanks"),
        ("hello", "greeting"),
        ("gm bot ☀️", "greeting"),
        ("morning!", "greeting"),
        ("ok cool", "acknowledgement"),
        ("nice one", "acknowledgement"),
        ("👍", "acknowledgement"),
        ("bye", "farewell"),
    ],
)
def test_pleasantries_are_recognised(message: str, kind: str) -> None:
    smalltalk = reader().read(message).smalltalk
    assert smalltalk is not None and smalltalk.kind == kind


@pytest.mark.parametrize(
    "message",
    ["thanks, and when did japan join the cyber centre?", "hi, who is kishida", "think tank", "ok"],
)
def test_a_question_with_a_pleasantry_is_still_a_question(message: str) -> None:
    understood = reader().read(message)
    if message == "ok":
        assert understood.smalltalk is not None
    else:
        assert understood.smalltalk is None and understood.is_question


@pytest.mark.parametrize(
    ("message", "language"),
    [
        ("日本はいつNATOのサイバー防衛センターに参加しましたか？", "ja"),
        ("quand le japon a-t-il rejoint le centre cyber de l'otan", "fr"),
        ("wann ist japan dem nato zentrum beigetreten", "de"),
        ("when did japan join the cyber centre", "en"),
        ("what did kishida say in tokyo", "en"),
        ("who is stoltenberg?", "en"),
    ],
)
def test_the_language_is_recognised(message: str, language: str) -> None:
    assert reader().read(message).language == language


def test_several_questions_are_split_into_parts() -> None:
    understood = reader().read(
        "what is the itpp, when was it expected to be agreed, and who signed the 2023 declaration?"
    )
    assert understood.parts == (
        "what is the itpp",
        "when was it expected to be agreed",
        "who signed the 2023 declaration?",
    )


def test_two_questions_joined_by_and_without_a_comma_are_two_parts() -> None:
    understood = reader().read(
        "two questions: when did japan join ccdcoe and what did russia say about the tokyo office"
    )
    assert understood.parts == ("when did japan join ccdcoe", "what did russia say about the tokyo office")


@pytest.mark.parametrize(
    "message",
    [
        "who signed the joint declaration and when",  # "when" alone holds no content
        "who leads the undersea cell and when was it announced",  # "it" points back
        "what did china and russia say about the tokyo office",  # "and" joins subjects
    ],
)
def test_and_before_a_question_word_splits_only_two_whole_questions(message: str) -> None:
    assert reader().read(message).parts == ()


@pytest.mark.parametrize(
    "message",
    [
        "'what happens in asia matters for europe' — where's that line from",
        "“what happens in asia matters for europe” — where is that line from",
    ],
)
def test_a_quoted_line_asked_about_is_not_a_question_of_its_own(message: str) -> None:
    assert reader().read(message).parts == ()


def test_one_question_has_no_parts() -> None:
    assert reader().read("when did japan join the cyber centre in estonia?").parts == ()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_read_without_error(text: str) -> None:
    understood = reader().read(text)
    assert isinstance(understood.question, str)
    assert all(part for part in understood.parts)
