"""The stemmer: a word and its plural or inflections are one term, so a question's wording
and the notes' meet; unrelated words stay apart."""

from __future__ import annotations

import pytest

from bot.qa.vocabulary import stem


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("nation", "nations"),
        ("reaction", "reactions"),
        ("ally", "allies"),
        ("member", "members"),
        ("country", "countries"),
        ("join", "joined"),
        ("plan", "planned"),
        ("react", "reaction"),
    ],
)
def test_forms_of_one_word_are_one_term(one: str, other: str) -> None:
    assert stem(one) == stem(other)


@pytest.mark.parametrize(("one", "other"), [("nation", "nato"), ("member", "memo"), ("ally", "all")])
def test_different_words_stay_apart(one: str, other: str) -> None:
    assert stem(one) != stem(other)
