"""Near misses a user would notice: the right words, but not what the notes say."""

from __future__ import annotations

import pytest

from bot.qa.engine import Engine
from tests.fixtures import bundled_engine, converse


@pytest.fixture(scope="module")
def engine() -> Engine:
    return bundled_engine()


@pytest.mark.parametrize(
    "question",
    [
        # The subject is a country the matching entries are not about, or only name as
        # company ("Japan joined ... with Australia, Sweden and Finland").
        "when did india join the nato cyber centre",
        "when did finland become an sto partner",
        # When someone took a post: the notes name holders, not when they took office.
        "when did stoltenberg become secretary general",
        # When, of something the notes give no date for at all.
        "when did nato set up the undersea infrastructure coordination cell",
        # A role nobody in the notes holds.
        "who is germany's foreign minister",
        "who is the usa ambassador to nato",
        # A person is wanted, but the notes name nobody for it.
        "who heads the nato cyber centre in estonia",
        "which japanese prime minister signed the 2013 declaration",  # Kishida signed 2023's
        # Someone who did something the notes have nobody doing.
        "who hosted the vilnius summit",
        "who organises the shangri-la dialogue",
        "which country hosted the air defender exercise",
        # A country reacting, where the notes have another country (or nobody) reacting.
        "how did russia react to the 2022 strategic concept",
        "what did russia say about the shangri-la dialogue",
        # A count the notes never give.
        "how many tanks did japan send to air defender",
        "how many experts does japan have at ccdcoe",  # years in the answer are not counts
        "how many nato members are there",  # "six G7 members" counts the G7's, not NATO's
        "how many countries are in nato",
        "how many members has nato?",
        "how many countries does nato have",
    ],
)
def test_questions_the_notes_only_seem_to_answer_are_declined(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.abstained, answer.text
    assert "isn't in my briefing notes" in answer.text


def test_a_reaction_to_an_office_that_never_opened_is_corrected(engine: Engine) -> None:
    # It rests on a false premise: as of July 2023 the Tokyo office was only a plan, which
    # the correction says, rather than a bare "not in my notes".
    answer = engine.ask("how did beijing respond to the nato office opening in tokyo")
    assert answer.abstained and answer.intent == "false-premise"
    assert "only a plan" in answer.text


@pytest.mark.parametrize(
    ("question", "must_contain"),
    [
        ("who is the chinese defence minister", "Li Shangfu"),
        ("who is the foreign minister of japan", "Hayashi"),
        ("who is Joseph Biden in these notes", "President"),
        ("who is putin according to the paper", "Russia"),
        ("whos the US president", "Biden"),
        # "who leads X" asks for a role holder as "who is the head of X" does.
        ("who leads nato", "Stoltenberg"),
        ("who runs japan", "Kishida"),
    ],
)
def test_who_is_finds_the_person_by_name_or_by_role(engine: Engine, question: str, must_contain: str) -> None:
    answer = engine.ask(question)
    assert not answer.abstained, answer.text
    assert must_contain in answer.text


def test_a_role_two_people_share_is_not_answered_with_one_of_them(engine: Engine) -> None:
    answer = engine.ask("who are the authors")
    assert not answer.abstained
    assert "Brummer" in answer.text and "Lindgren" in answer.text


@pytest.mark.parametrize(
    ("question", "must_contain"),
    [
        ("when did japan join air defender", "June 2023"),
        ("when did france object to the tokyo office", "2023"),
    ],
)
def test_when_the_subject_is_the_entrys_own_it_is_answered(
    engine: Engine, question: str, must_contain: str
) -> None:
    answer = engine.ask(question)
    assert not answer.abstained, answer.text
    assert must_contain in answer.text


@pytest.mark.parametrize(
    ("question", "number"),
    [("how many partners does the sto have", "four"), ("how many g7 members are nato members", "six")],
)
def test_a_count_of_the_thing_asked_about_is_answered(engine: Engine, question: str, number: str) -> None:
    answer = engine.ask(question)
    assert not answer.abstained, answer.text
    assert number in answer.text


def test_a_count_the_notes_give_is_still_answered(engine: Engine) -> None:
    answer = engine.ask("how many nato members joined japan in air defender")
    assert not answer.abstained
    assert "23" in answer.text


@pytest.mark.parametrize(
    ("typed", "understood"),
    [("tokio", "tokyo"), ("kishda", "kishida"), ("stoltenbrg", "stoltenberg")],
)
def test_typos_of_known_words_are_corrected(engine: Engine, typed: str, understood: str) -> None:
    assert (typed, understood) in engine.matcher.analyse(f"{typed} visit").corrected


@pytest.mark.parametrize("word", ["tall", "stock", "reset", "slack"])
def test_ordinary_short_words_are_not_corrected_into_other_words(engine: Engine, word: str) -> None:
    query = engine.matcher.analyse(f"{word} price")
    assert query.corrected == ()


@pytest.mark.parametrize(
    "question",
    [
        "what has biden said about the tokyo office",
        "what did biden say about nato and japan",
        # The authors mention "Putin's war machine"; that is not Putin saying anything.
        "what did putin say about the war",
    ],
)
def test_what_someone_said_is_not_answered_with_who_they_are(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.abstained, answer.text


@pytest.mark.parametrize(
    ("question", "speaker"),
    [
        ("what did zakharova say about the tokyo office", "Zakharova"),
        ("what did kishida say in madrid", "Kishida said"),
    ],
)
def test_what_someone_said_is_answered_with_their_words(engine: Engine, question: str, speaker: str) -> None:
    answer = engine.ask(question)
    assert not answer.abstained
    assert speaker in answer.text


def test_a_role_is_found_under_another_name_for_it(engine: Engine) -> None:
    assert "Stoltenberg" in engine.ask("who is the head of nato").text


def test_who_leads_something_is_not_answered_with_who_recommended_it(engine: Engine) -> None:
    assert engine.ask("who leads the nato science and technology organization").abstained


def test_a_country_that_reacts_in_a_long_sentence_is_still_the_one_reacting(engine: Engine) -> None:
    """'At the Shangri-La Dialogue (which the authors call ...), China's Defense Minister
    Li Shangfu attacked ...': China reacts, though 'call' comes first in the sentence."""
    answer = engine.ask("did china condemn nato japan alignment at shangri-la in 2023")
    assert not answer.abstained and "Li Shangfu" in answer.text
    checks = {c.entry_id: dict(c.adjustments) for c in answer.candidates}
    assert "shangri-la-li-shangfu-2023" in checks
    assert "another country reacts" not in checks["shangri-la-li-shangfu-2023"]


def test_how_a_country_described_something_is_not_answered_with_another_countrys_words(
    engine: Engine,
) -> None:
    # "describe" is a way of saying: Russia's foreign ministry is asked for, so China's
    # foreign ministry's words are another country reacting.
    answer = engine.ask("how did russia's foreign ministry describe nato-japan alignment?")
    checks = {c.entry_id: dict(c.adjustments) for c in answer.candidates}
    assert "another country reacts" in checks["quote-china-foreign-ministry-bloc-confrontation"]
    assert answer.entry_ids[0] != "quote-china-foreign-ministry-bloc-confrontation"
    assert "Zakharova" in answer.text


def test_a_country_named_away_from_the_role_is_not_whose_role_it_is(engine: Engine) -> None:
    # "nato-jp ties" names Japan, but the minister asked for is the Chinese one.
    answer = engine.ask("who was the chinese defence minister who slammed nato-jp ties at shangri-la?")
    assert not answer.abstained and "Li Shangfu" in answer.text


@pytest.mark.parametrize(
    ("question", "declined"),
    [("who is japan's defense minister", True), ("who is the foreign minister of japan", False)],
)
def test_a_country_beside_the_role_is_whose_role_it_is(engine: Engine, question: str, declined: bool) -> None:
    # The notes name China's defence minister and Japan's foreign minister, not Japan's
    # defence minister.
    assert engine.ask(question).abstained is declined


@pytest.mark.parametrize(
    ("question", "declined"),
    [
        ("whats the japanese defense ministers name", True),  # the notes name China's
        ("name of japan's ambassador to nato", True),  # the notes never name one
        ("what is the name of the chinese defense minister", False),
    ],
)
def test_a_persons_name_asked_by_role_is_a_who_question(
    engine: Engine, question: str, declined: bool
) -> None:
    answer = engine.ask(question)
    assert answer.abstained is declined
    if not declined:
        assert "Li Shangfu" in answer.text


def test_an_officer_asked_for_by_name_is_a_person_the_notes_do_not_name(engine: Engine) -> None:
    assert engine.ask("what was the name of the japanese officer sent to nato's maritime command?").abstained
    assert not engine.ask("when did japan send a liaison officer to marcom").abstained


@pytest.mark.parametrize(
    "question",
    [
        "why did france object to the tokyo office?",
        "what were france's reasons for opposing the nato office?",
    ],
)
def test_reasons_the_notes_never_give_are_declined_with_what_they_do_say(
    engine: Engine, question: str
) -> None:
    # The France entries are marked `silent_on: [reasons]`: the notes report the protest only.
    answer = engine.ask(question)
    assert answer.abstained and answer.text.startswith("My briefing notes don't give the reasons")
    assert answer.suggestions and "France" in answer.suggestions[0].title
    # What does follow from the protest is not a reason for it, and is answered.
    assert not engine.ask("why does france's protest matter according to the authors").abstained


def test_a_follow_up_asking_why_of_what_the_notes_give_no_reason_for_is_declined(engine: Engine) -> None:
    answer = converse(engine, "which nato member protested the tokyo office?", "why did they object?")
    assert answer.abstained and answer.text.startswith("My briefing notes don't give the reasons")


def test_a_place_the_notes_never_give_is_declined_with_what_they_do_say(engine: Engine) -> None:
    # Air Defender is `silent_on: [place]`: the notes give its size and length, not where.
    answer = converse(
        engine, "which big air exercise did japan join in june 2023?", "which country was it held in?"
    )
    assert answer.abstained and answer.text.startswith("My briefing notes don't say where")
    assert answer.suggestions
    assert not engine.ask("how long did air defender last").abstained
