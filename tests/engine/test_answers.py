"""What a user asking in a channel notices: right answer, cited, or an honest abstention."""

from __future__ import annotations

import pytest

from bot.qa.engine import Engine
from bot.qa.vocabulary import content_terms
from tests.fixtures import bundled_engine, converse


@pytest.fixture(scope="module")
def engine() -> Engine:
    return bundled_engine()


@pytest.mark.parametrize(
    ("question", "must_contain"),
    [
        ("when did Japan join the NATO cyber centre?", ["2022", "Estonia"]),
        ("stoltenbergs visit to tokio", ["Stoltenberg", "2023"]),
        ("who is Oana Lungescu?", ["Lungescu", "spokesperson"]),
        ("what does IUU stand for", ["unreported"]),
        ("itpp?", ["Individually Tailored"]),
        ("how much has japan given to the ukraine trust fund", ["30 million"]),
        ("yokota air base", ["Yokota"]),
    ],
)
def test_in_scope_questions_are_answered_with_the_fact(
    engine: Engine, question: str, must_contain: list[str]
) -> None:
    answer = engine.ask(question)
    assert not answer.abstained, answer
    for fact in must_contain:
        assert fact.casefold() in answer.text.casefold(), (fact, answer.text)


def test_every_answer_carries_source_and_as_of_date(engine: Engine) -> None:
    answer = engine.ask("when did japan join air defender")
    assert not answer.abstained
    line = answer.source_line()
    assert line is not None
    assert "¶10" in line and "as of July 2023" in line


@pytest.mark.parametrize(
    "question",
    [
        "when did south korea open a nato office",
        "how many troops does japan have",
        "who is nato secretary general now",
        "what happened at the 2024 washington summit",
        "what's the weather in oslo",
        "",
        "   ",
    ],
)
def test_near_misses_and_later_events_abstain(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.abstained, answer
    assert answer.entry_ids == () or answer.intent == "after-notes"


def test_questions_past_the_notes_say_so_plainly(engine: Engine) -> None:
    answer = engine.ask("who is nato secretary general now")
    assert "July 2023" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "did the nato liaison office in tokyo open",
        # What became of a plan, asked with the word "plan" in it.
        "when was the tokyo liaison office plan shelved",
        "did the plan for a nato office in tokyo go ahead",
    ],
)
def test_outcomes_of_plans_are_not_invented(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.abstained
    assert answer.text.startswith("My briefing notes stop in July 2023"), answer.text
    assert answer.text.count("As of July 2023") == 1, answer.text


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("who visited tokyo in february 2023", "Stoltenberg"),
        ("who talked about a historic crossroads", "Kishida"),
        ("when did japan become an sto partner", "2021"),
        # Titles name the country, often not the person: Kishida is this entry's subject.
        ("where did kishida attend his first nato summit", "Madrid"),
    ],
)
def test_who_did_something_the_notes_report_is_answered(engine: Engine, question: str, name: str) -> None:
    answer = engine.ask(question)
    assert not answer.abstained, answer.text
    assert name in answer.text


def test_advice_on_whether_a_plan_should_go_ahead_is_answered(engine: Engine) -> None:
    answer = engine.ask("should the planned nato office in tokyo go ahead even though france objects")
    assert not answer.abstained, answer.text
    assert "France" in answer.text


def test_abstention_offers_suggestions_when_something_is_close(engine: Engine) -> None:
    answer = engine.ask("when did south korea open a nato office")
    assert answer.abstained
    assert 1 <= len(answer.suggestions) <= 3


def test_answers_are_deterministic(engine: Engine) -> None:
    first = engine.ask("what did lungescu say about the turkey airlift")
    assert all(engine.ask("what did lungescu say about the turkey airlift") == first for _ in range(3))


def test_confidence_is_a_probability(engine: Engine) -> None:
    for question in ("itpp?", "maritime timeline", "how many troops does japan have", "help"):
        assert 0.0 <= engine.ask(question).confidence <= 1.0


def test_related_never_lists_one_title_twice(engine: Engine) -> None:
    """Each entry answering its own first question: its "Related" line names distinct things."""
    for entry in engine.kb:
        answer = engine.ask(entry.questions[0])
        titles = [s.title.casefold() for s in answer.suggestions]
        if not answer.abstained:
            titles.append(engine.kb.by_id[answer.entry_ids[0]].title.casefold())
        assert len(set(titles)) == len(titles), (entry.id, titles)


@pytest.mark.parametrize(
    "question",
    ["how large would the nato liaison office in japan be?", "the tokyo liaison office, how big would it be"],
)
def test_how_big_is_answered_by_a_size_in_words(engine: Engine, question: str) -> None:
    # The notes give the office's size as "would start small", not as a number.
    answer = engine.ask(question)
    assert not answer.abstained and "start small" in answer.text


def test_a_size_asked_in_units_still_needs_a_number(engine: Engine) -> None:
    assert engine.ask("how big is yokota in km2?").abstained


def test_a_name_asked_for_the_notes_do_not_give_is_declined_whatever_the_request(engine: Engine) -> None:
    # "name pls" once read as a question of its own, answered with the closest name.
    answer = engine.ask("who is japan's ambassador to nato? name pls")
    assert answer.abstained and answer.intent == "abstain"


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("where would nato's office in japan probably sit", "fact-tokyo-office-design-yokota"),
        ("where would the tokyo office physically be", "fact-tokyo-office-design-yokota"),
        ("when did japan perhaps join the cyber centre", "term-nato-cyber-centre-estonia"),
        ("who is apparently nato's spokesperson", "oana-lungescu"),
    ],
)
def test_a_hedge_is_not_a_word_the_answer_must_hold(engine: Engine, question: str, entry_id: str) -> None:
    # "probably", "physically": words the notes never use, which sank the match.
    answer = engine.ask(question)
    assert not answer.abstained and answer.entry_ids[:1] == (entry_id,)


def test_housed_asks_where_something_is_located(engine: Engine) -> None:
    answer = engine.ask("where would the tokyo nato office be housed")
    assert not answer.abstained and "Yokota" in answer.text


def test_jpn_is_japan(engine: Engine) -> None:
    answer = engine.ask("when did jpn join the nato cyber centre")
    assert not answer.abstained and "2022" in answer.text


def test_a_date_as_precise_as_the_notes_give_it_is_answered(engine: Engine) -> None:
    answer = engine.ask("what was the exact date stoltenberg visited tokyo")
    assert not answer.abstained and "February 2023" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "what day did japan open its nato mission",
        "what's the exact date of the oslo foreign ministers meeting",
    ],
)
def test_a_date_more_precise_than_the_notes_give_it_is_declined(engine: Engine, question: str) -> None:
    # The notes date the mission by its year and the meeting by "shortly before June 2023".
    assert engine.ask(question).abstained


def test_a_filler_noun_is_not_a_word_the_answer_must_hold(engine: Engine) -> None:
    answer = engine.ask("the nato tokyo office thing")
    assert not answer.abstained and "Tokyo" in answer.text


def test_the_name_of_something_the_notes_never_name_is_declined(engine: Engine) -> None:
    # The notes call it "the world's largest cyber defense war game" and give no name.
    assert engine.ask("what was the 2021 cyber war game called").abstained


@pytest.mark.parametrize(
    ("question", "must_contain"),
    [
        ("what was the name of the exercise japan joined in june 2023", "Air Defender"),
        ("what is the wolf warrior diplomacy called", "wolf warrior"),
        ("what was the last section of the article called?", "Bridges Over"),
    ],
)
def test_a_name_the_notes_give_is_answered(engine: Engine, question: str, must_contain: str) -> None:
    answer = engine.ask(question)
    assert not answer.abstained and must_contain in answer.text


@pytest.mark.parametrize("typed", ["shouldnt", "didnt", "wont", "isnt"])
def test_a_contraction_without_its_apostrophe_is_its_negation(typed: str) -> None:
    # "shouldnt" was a word the base did not know, which sank the match as an unknown word.
    assert content_terms([typed]) == content_terms(["not"])


def test_a_follow_up_typed_without_apostrophes_is_answered(engine: Engine) -> None:
    answer = converse(
        engine,
        "who protested the tokyo liaison office",
        "why shouldnt that stop it according to the authors?",
    )
    assert not answer.abstained and answer.entry_ids[:1] == ("rec-open-tokyo-office-despite-france",)


@pytest.mark.parametrize(
    "question",
    [
        "of the g7 besides japan, how many are nato members",
        "apart from japan how many g7 nations are nato members",
    ],
)
def test_a_count_of_nations_is_a_count_of_members(engine: Engine, question: str) -> None:
    # "six G7 nations are NATO members": the stemmer makes "nations" "nat", which the
    # count check's words for the same counted thing did not hold.
    answer = engine.ask(question)
    assert not answer.abstained and "six" in answer.text


def test_a_total_asked_of_the_present_is_after_the_notes(engine: Engine) -> None:
    answer = engine.ask("what's japan's total ukraine aid as of today")
    assert answer.abstained and answer.intent == "after-notes" and "$7.1 billion" in answer.text


def test_asking_for_simple_words_does_not_make_them_the_question(engine: Engine) -> None:
    # "words" is a word of saying: read as content, "in simple words" made the question ask
    # what NATO and Ukraine said, and the right entry was declined.
    answer = engine.ask("what can japan learn from the way nato keeps ukraine supplied? in simple words")
    assert not answer.abstained and answer.entry_ids == ("rec-learn-from-ukraine-resupply",)


def test_what_the_document_says_makes_no_one_a_speaker(engine: Engine) -> None:
    # "does the article say": the document reports; China is not asked to have said anything.
    answer = engine.ask("which chinese project does the article say reached nato member states?")
    assert not answer.abstained and answer.entry_ids == ("fact-belt-and-road-in-nato-states",)


@pytest.mark.parametrize(
    "question", ["how old is kishida", "which party is yoshimasa hayashi in?", "where was stoltenberg born"]
)
def test_something_the_notes_never_say_about_a_person_is_declined(engine: Engine, question: str) -> None:
    # The name matches the person's entry word for word; what is asked of them it never holds.
    answer = engine.ask(question)
    assert answer.abstained and answer.intent == "abstain"


@pytest.mark.parametrize(
    ("question", "person"),
    [
        ("oana lungescu background", "oana-lungescu"),
        ("tell me about kishida's career", "fumio-kishida"),
        ("stoltenberg's bio pls", "jens-stoltenberg"),
        ("hey bot who's the nato sec gen in this article", "jens-stoltenberg"),
    ],
)
def test_asking_about_someone_as_a_whole_is_who_they_are(engine: Engine, question: str, person: str) -> None:
    answer = engine.ask(question)
    assert not answer.abstained and answer.entry_ids == (person,)


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("is it correct that france blocked the office?", "obstacle-france-opposes-tokyo-office"),
        ("is it accurate that japan gave 7.1 billion to ukraine?", "fact-japan-ukraine-aid-7-1-billion"),
        # "true" as "correct"; "yr" is "year".
        ("is it true kishida went to madrid last yr?", "kishida-madrid-remarks-2022"),
        ("is it true that the sec gen came to japan this yr", "stoltenberg-tokyo-visit-2023"),
    ],
)
def test_a_claim_asked_to_be_checked_is_answered(engine: Engine, question: str, entry: str) -> None:
    # "correct", "accurate", "confirm" say what the asker wants done with the claim; read as
    # words the base does not know, they sank its match.
    answer = engine.ask(question)
    assert not answer.abstained and answer.entry_ids == (entry,)


def test_a_reaction_asked_verb_first_is_still_of_whoever_follows_the_verb(engine: Engine) -> None:
    # "how reacted beijing": who reacts comes after the verb, as non-native English puts it;
    # Russia's Zakharova is not Beijing.
    answer = engine.ask("how reacted beijing on the liaison office?")
    assert answer.entry_ids[:1] != ("reaction-zakharova-tokyo-office",)
    assert engine.ask("what said russia about the tokyo office?").entry_ids[:1] == (
        "reaction-zakharova-tokyo-office",
    )


def test_a_day_asked_for_apart_is_as_precise_as_asked(engine: Engine) -> None:
    # The notes date the visit to its month: "exact date" alone is answered with it, but
    # "day pls" asks the day, which they never give.
    assert not engine.ask("what was the exact date of stoltenberg's visit to tokyo?").abstained
    assert engine.ask("what was the exact date of stoltenberg's visit to tokyo? day pls").abstained


# -- "who objected?" is answered by a country or body the entry reports objecting ----------


@pytest.mark.parametrize(
    "question",
    [
        "who protested against the tokyo liaison office?",
        "who inside nato pushed back on the tokyo office?",
        "who opposed the nato office in tokyo?",
        "is everyone in nato ok with the tokyo liaison office?",
    ],
)
def test_who_objected_is_answered_by_the_country_reported_objecting(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert not answer.abstained and "France" in answer.text


def test_who_welcomed_it_is_declined_where_the_notes_report_only_objections(engine: Engine) -> None:
    assert engine.ask("who welcomed the tokyo office plan?").abstained


# -- a verb the document does, or a reacting one, is not what the one asked for did -------


@pytest.mark.parametrize(
    ("question", "who_verb"),
    [
        ("which law is cited as an example", None),  # the document cites it
        ("which country pushed back against the office in tokyo", None),  # a reaction
        ("which country hosted the summit", "host"),
    ],
)
def test_the_verb_a_which_question_asks_the_doer_of(
    engine: Engine, question: str, who_verb: str | None
) -> None:
    assert engine.fit.shape(engine.matcher.analyse(question)).who_verb == who_verb


def test_which_law_the_document_cites_is_answered(engine: Engine) -> None:
    answer = engine.ask("which american law is cited as a support and protect regime?")
    assert not answer.abstained and "CHIPS and Science Act" in answer.text


@pytest.mark.parametrize(
    "question", ["is kishida going to the next nato summit?", "which nato summit is japan going to next?"]
)
def test_the_next_nato_summit_is_vilnius_as_of_the_notes(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert not answer.abstained and "Vilnius" in answer.text and "As of July 2023" in answer.text
