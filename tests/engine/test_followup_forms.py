"""Follow-up forms a new writer used that the first resolver did not read: each test is a
conversation of its own wording, and what the user would notice of its last answer."""

from __future__ import annotations

import pytest

from bot.qa.engine import Engine
from bot.qa.vocabulary import content_terms
from tests.fixtures import bundled_engine, converse


@pytest.fixture(scope="module")
def engine() -> Engine:
    return bundled_engine()


# -- "who …?" answered by the countries or bodies an entry names ---------------------------


def test_who_else_is_answered_by_the_other_countries_the_previous_entry_names(engine: Engine) -> None:
    answer = converse(
        engine,
        "when did japan get enhanced opportunity partner status at the STO",
        "who else got that status",
    )
    assert not answer.abstained
    assert "Australia" in answer.text and "Finland" in answer.text


def test_who_is_in_it_is_answered_by_the_countries_the_previous_entry_names(engine: Engine) -> None:
    answer = converse(engine, "the semiconductor export control agreement", "who is in that?")
    assert not answer.abstained and "Dutch" in answer.text


def test_who_is_answered_by_an_organisation_when_the_entry_names_one(engine: Engine) -> None:
    answer = converse(engine, "does the piece have a picture", "who is it credited to?")
    assert not answer.abstained and "U.S. Army" in answer.text


# -- "which <role> …?" asks for a person, which a ministry or a country is not -------------


@pytest.mark.parametrize("follow_up", ["which official said it?", "which spokesperson was that?"])
def test_a_person_asked_by_role_is_declined_when_the_notes_name_only_a_ministry(
    engine: Engine, follow_up: str
) -> None:
    answer = converse(engine, "what did beijing say about nato and japan", follow_up)
    assert answer.abstained


def test_who_said_it_is_still_answered_by_the_ministry(engine: Engine) -> None:
    answer = converse(engine, "what did beijing say about nato and japan", "who said it?")
    assert not answer.abstained and "foreign ministry" in answer.text


# -- "that <noun>" as the whole subject points back ----------------------------------------


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("what was that drill named?", "refer"),
        ("and who else is in that club?", "refer"),
        ("what is the budget of that office in tokyo", None),  # a subject of its own
        ("what is that section about", None),  # a part of the document, not the thread's
        ("which paragraph is this article's conclusion in", None),
    ],
)
def test_a_demonstrative_and_its_noun_point_back_only_when_they_are_all_the_subject(
    engine: Engine, message: str, kind: str | None
) -> None:
    reading = engine.followups.read(message)
    assert (reading.kind if reading else None) == kind


def test_a_name_asked_of_that_noun_is_declined_when_the_notes_never_name_it(engine: Engine) -> None:
    answer = converse(engine, "the 2021 cyber defence war game with nato", "what was that drill named?")
    assert answer.abstained


# -- frame words and who reacts: "what was nato's response?" -------------------------------


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("what was nato's response", "ask"),
        ("and what did the eu think?", "ask"),
        ("did japan join nato", None),  # a whole question of its own names
    ],
)
def test_a_reaction_asked_of_a_name_alone_is_a_follow_up(
    engine: Engine, message: str, kind: str | None
) -> None:
    reading = engine.followups.read(message)
    assert (reading.kind if reading else None) == kind


def test_a_reaction_asked_of_a_name_is_answered_about_the_thread_subject(engine: Engine) -> None:
    answer = converse(
        engine, "japan and the earthquake relief for turkey in 2023", "what was nato's response"
    )
    assert not answer.abstained and "historic first" in answer.text


def test_a_reaction_asked_of_another_name_is_not_answered_by_the_previous_speaker(engine: Engine) -> None:
    answer = converse(
        engine, "russia's comments on the tokyo liaison office", "and what was china's response"
    )
    assert not answer.abstained and "Zakharova" not in answer.text


# -- "source?", "which paragraph is that in?": where the previous answer comes from --------


@pytest.mark.parametrize("follow_up", ["source pls", "which para?", "what section is it in?", "cite that"])
def test_asking_where_an_answer_comes_from_cites_its_paragraph_and_section(
    engine: Engine, follow_up: str
) -> None:
    answer = converse(engine, "when did japan open a mission to nato in belgium", follow_up)
    assert not answer.abstained and answer.followup
    assert "¶9" in answer.text and "Bridges Over the New Geography of Danger" in answer.text
    assert "Belgium" in answer.text


def test_an_introduction_paragraph_is_cited_as_the_introduction(engine: Engine) -> None:
    answer = converse(engine, "stoltenbergs visit to tokio", "which paragraph is that from?")
    assert "¶1" in answer.text and "introduction" in answer.text


def test_source_after_no_answer_asks_about_the_notes(engine: Engine) -> None:
    alone = engine.ask("source?")
    answer = converse(engine, "what is the capital of peru", "source?")
    assert answer.text == alone.text


def test_a_question_about_the_documents_sections_is_not_a_citation(engine: Engine) -> None:
    reading = engine.followups.read("what sections does this article have")
    assert reading is None or reading.kind != "source"


# -- "what's her name?": a person's name, which the notes may not give ---------------------


@pytest.mark.parametrize(
    ("first", "follow_up"),
    [
        ("the futures in the indo-pacific program", "what is her name?"),
        ("the itpp with nato", "whats his name"),
    ],
)
def test_a_persons_name_is_declined_when_the_previous_answer_names_no_one(
    engine: Engine, first: str, follow_up: str
) -> None:
    # The programme has a name of its own; the person asked about has none in the notes.
    answer = converse(engine, first, follow_up)
    assert answer.abstained


def test_a_persons_name_is_the_previous_answer_when_it_names_them(engine: Engine) -> None:
    answer = converse(engine, "who wrote the piece", "what are their names?")
    assert not answer.abstained and "Brummer" in answer.text and "Lindgren" in answer.text


# -- "unrelated, but …": a new subject stands alone ------------------------------------------


@pytest.mark.parametrize(
    "message",
    ["ok unrelated but who wrote it", "new question: when was it founded", "on another note, who is he"],
)
def test_a_message_opening_a_new_subject_is_not_a_follow_up(engine: Engine, message: str) -> None:
    assert engine.followups.read(message) is None


def test_after_a_new_subject_the_thread_follows_the_new_answer(engine: Engine) -> None:
    answer = converse(
        engine,
        "what does the piece conclude overall",
        "ok unrelated but who wrote it",
        "where is the second one based?",
    )
    assert not answer.abstained and "Norwegian Institute" in answer.text


# -- "the figures?": the numbers of the previous answer --------------------------------------


@pytest.mark.parametrize("follow_up", ["the figures?", "stats pls", "what are the numbers"])
def test_asking_for_the_numbers_gives_the_previous_answers_figures(engine: Engine, follow_up: str) -> None:
    answer = converse(engine, "how much has japan committed to ukraine", follow_up)
    assert not answer.abstained and "7.1 billion" in answer.text


# -- "any others besides the uk?": the rest of what the previous answer lists ----------------


@pytest.mark.parametrize(
    ("message", "asks"),
    [
        ("any others besides the uk?", "which countries"),
        ("ok, any other ones apart from italy", "which countries"),
        ("anybody else except him?", "who"),
    ],
)
def test_a_bare_question_leaving_something_out_asks_the_rest(engine: Engine, message: str, asks: str) -> None:
    reading = engine.followups.read(message)
    assert reading is not None and (reading.kind, reading.text) == ("ask", asks)


def test_others_besides_one_are_the_rest_the_previous_answer_lists(engine: Engine) -> None:
    answer = converse(engine, "is japan making a security pact with italy", "others apart from italy?")
    assert not answer.abstained and "Germany" in answer.text


# -- "the second one" of a list that is not of people ----------------------------------------


def test_the_nth_one_after_a_list_of_things_is_not_a_person(engine: Engine) -> None:
    answer = converse(engine, "what headings does the piece use", "what is the third one called?")
    assert not answer.abstained and "Charting the Future Course" in answer.text
    assert not answer.text.startswith(("Matthew Brummer", "Wrenn Yennie Lindgren"))


def test_the_nth_one_after_a_question_about_people_is_still_a_person(engine: Engine) -> None:
    answer = converse(engine, "who are the authors", "where does the second one work?")
    assert not answer.abstained and "Norwegian Institute" in answer.text


# -- "what about china's share?": a swap is not answered by a passing mention ---------------


def test_a_swap_is_declined_when_the_previous_answer_only_mentions_the_new_name(engine: Engine) -> None:
    answer = converse(engine, "japan's share of chip equipment", "how about russia's share?")
    assert answer.abstained


# -- "was that before or after X?": the subject put in order against another event ----------


@pytest.mark.parametrize(
    ("first", "follow_up"),
    [
        (
            "what did zakharova say about the tokyo office plan",
            "was that earlier than the shangri-la dialogue?",
        ),
        (
            "when did li shangfu speak at the shangri-la dialogue",
            "so was that before or after zakharova's statement",
        ),
    ],
)
def test_the_subject_is_ordered_against_another_event(engine: Engine, first: str, follow_up: str) -> None:
    answer = converse(engine, first, follow_up)
    assert not answer.abstained and answer.intent == "compare"
    assert set(answer.entry_ids) == {"zakharova-tokyo-office-statement-2023", "shangri-la-li-shangfu-2023"}


# -- "how much of that was …?": a part of the previous number needs a number of its own ----


@pytest.mark.parametrize(
    "follow_up",
    [
        "how much of that was financial aid?",
        "what part of it is nonlethal equipment",
        "how much of it was humanitarian?",
    ],
)
def test_a_part_of_a_total_the_notes_do_not_break_down_is_declined(engine: Engine, follow_up: str) -> None:
    answer = converse(engine, "how much has japan committed to ukraine", follow_up)
    assert answer.abstained


def test_a_part_the_notes_give_a_number_for_is_answered(engine: Engine) -> None:
    answer = converse(engine, "japan's part in the chip value chain", "how much of it is equipment?")
    assert not answer.abstained and "30%" in answer.text


# -- a message the notes cannot answer alone, asked of the thread's subject -----------------


def test_a_question_declined_alone_is_answered_of_the_threads_subject(engine: Engine) -> None:
    assert engine.ask("how many nato members").abstained  # alone it names nothing
    answer = converse(engine, "explain air defender", "how many nato members")
    assert not answer.abstained and "23 NATO members" in answer.text


@pytest.mark.parametrize("off_topic", ["what's the weather in tokyo", "who is the president of france"])
def test_a_question_off_the_threads_subject_stays_declined(engine: Engine, off_topic: str) -> None:
    assert converse(engine, "what is the sps programme", off_topic).abstained


def test_what_someone_else_said_in_reply_is_not_the_previous_speakers_words(engine: Engine) -> None:
    answer = converse(
        engine, "what did li shangfu say at shangri-la", "what did japan's defense minister say in reply"
    )
    assert answer.abstained  # the notes quote no Japanese reply


# -- the ranker's next candidate, when its first lacks what the follow-up asks -------------


def test_what_he_said_is_answered_by_his_quote_not_his_biography(engine: Engine) -> None:
    answer = converse(engine, "who is hayashi", "what did he say about europe and asia")
    assert answer.entry_ids[:1] == ("quote-hayashi-not-separately",)
    assert "separately" in answer.text


@pytest.mark.parametrize("follow_up", ["how many in total", "how many altogether?", "what's the total?"])
def test_a_total_asked_alone_is_the_previous_subjects_number(engine: Engine, follow_up: str) -> None:
    answer = converse(engine, "japan sto enhanced opportunity partner", follow_up)
    assert not answer.abstained and "four STO partners" in answer.text


def test_a_total_asked_alone_outside_a_thread_is_declined(engine: Engine) -> None:
    assert engine.ask("how many in total").abstained


# -- a message answered part by part is a turn like any other --------------------------------


def test_a_follow_up_after_a_multi_part_answer_reads_its_first_part(engine: Engine) -> None:
    first = "what did stoltenberg sign in tokyo? and when did japan open its nato mission?"
    answer = converse(engine, first, "when was that?")
    assert not answer.abstained and "February 2023" in answer.text


def test_a_follow_up_of_a_timeline_is_not_answered_by_its_first_milestone(engine: Engine) -> None:
    answer = converse(engine, "nato japan milestones 2019", "when was it upgraded?")
    assert not answer.abstained and "2023" in answer.text and "mission" in answer.text


def test_since_which_year_asks_the_previous_subjects_year(engine: Engine) -> None:
    answer = converse(engine, "nato's maritime command and japan", "since which year?")
    assert not answer.abstained and "2018" in answer.text


def test_they_after_a_which_question_is_its_answer_not_its_question(engine: Engine) -> None:
    # "which nato member protested …?" is answered by France: "they" is France, not NATO.
    answer = converse(engine, "which nato member protested the tokyo office?", "why did they object?")
    assert answer.asked.startswith("why did france object")


def test_how_long_is_answered_by_a_length_the_previous_entry_gives(engine: Engine) -> None:
    answer = converse(engine, "which big air exercise did japan join in 2023", "how long did it run?")
    assert not answer.abstained and "two-week" in answer.text


def test_what_she_was_talking_about_asks_what_she_said(engine: Engine) -> None:
    answer = converse(
        engine, "what did nato's spokesperson say about japan's turkey relief?", "what was she talking about?"
    )
    assert not answer.abstained and "Turkey" in answer.text


def test_there_is_the_place_the_previous_answer_puts_it_in(engine: Engine) -> None:
    answer = converse(engine, "where should japan help nato with peacekeeping?", "why japan there?")
    assert answer.asked == "why japan in kosovo"
    assert not answer.abstained and "Kosovo" in answer.text


def test_a_swap_the_whole_question_cannot_answer_asks_what_the_new_side_said(engine: Engine) -> None:
    answer = converse(engine, "what did russia say about nato expanding toward asia", "what about china?")
    assert not answer.abstained and "China" in answer.text
    # Only a name before a word of saying is shortened so: "which germany member" is not asked.
    assert converse(engine, "which nato member protested the tokyo office", "what about germany?").abstained


def test_who_is_it_is_not_answered_by_a_country_the_entry_names(engine: Engine) -> None:
    # The notes say Japan has an ambassador at NATO but never name them; the entry names Belgium.
    answer = converse(engine, "does japan have an ambassador at nato headquarters?", "who is it?")
    assert answer.abstained


def test_tell_me_more_before_a_question_asks_the_question(engine: Engine) -> None:
    answer = converse(
        engine, "which new nato cell should japan join?", "tell me more, what would japan do in it?"
    )
    assert not answer.abstained and "cable" in answer.text


# -- a slot alone, its question word left out ("year?", "exact day?") ----------------------


@pytest.mark.parametrize("follow_up", ["year?", "the year?", "and the year pls"])
def test_a_bare_year_asks_the_previous_subjects_date(engine: Engine, follow_up: str) -> None:
    answer = converse(engine, "who arranged the trilateral with japan and south korea", follow_up)
    assert not answer.abstained
    assert answer.entry_ids[0] == "biden-trilateral-madrid-2022" and "2022" in answer.text


def test_a_bare_day_is_declined_when_the_notes_date_the_subject_only_to_its_month(engine: Engine) -> None:
    answer = converse(engine, "when did zakharova comment on the tokyo office", "exact day?")
    assert answer.abstained


def test_exact_words_alone_asks_for_the_previous_subjects_words(engine: Engine) -> None:
    answer = converse(engine, "when did zakharova comment on the tokyo office", "exact words?")
    assert not answer.abstained and "Zakharova" in answer.text


# -- "he", "she", "the other author": the person the thread means --------------------------


def test_she_is_never_a_man_the_thread_named(engine: Engine) -> None:
    # The question names Brummer; "she" is Lindgren, whom the answer names.
    answer = converse(engine, "who co-wrote the piece with brummer?", "where does she work?")
    assert not answer.abstained and "Lindgren" in answer.text and "NUPI" in answer.text


def test_he_after_the_same_question_is_the_man(engine: Engine) -> None:
    answer = converse(engine, "who co-wrote the piece with brummer?", "where does he teach?")
    assert not answer.abstained and "Brummer" in answer.text and "GRIPS" in answer.text


def test_after_a_question_asking_who_the_answer_is_who_she_is(engine: Engine) -> None:
    answer = converse(engine, "who is the co-author with brummer?", "what's she head of?")
    assert not answer.abstained and "Center for Asian Research" in answer.text


def test_after_who_is_x_he_is_still_x_not_someone_his_answer_names(engine: Engine) -> None:
    # Stoltenberg's entry names Kishida; "he" is Stoltenberg.
    answer = converse(engine, "who is jens stoltenberg", "what did he sign in tokyo?")
    assert not answer.abstained and "Stoltenberg" in answer.text and "declaration" in answer.text


@pytest.mark.parametrize(
    ("first", "follow_up", "expected"),
    [
        ("who is wrenn yennie lindgren?", "and her co-author?", "Brummer"),
        ("where does matthew brummer work", "and his co-author?", "Lindgren"),
        ("where does brummer work?", "and the other author?", "Lindgren"),
        ("who wrote the article", "where does the first author work?", "Brummer"),
    ],
)
def test_a_co_author_is_the_documents_other_author(
    engine: Engine, first: str, follow_up: str, expected: str
) -> None:
    answer = converse(engine, first, follow_up)
    assert not answer.abstained and expected in answer.text


# -- "it" as the glossary term a "which …?" question was answered with ----------------------


@pytest.mark.parametrize(
    "first",
    [
        "which article of japan's constitution slows the ties down?",
        "what article of japan's constitution slows the relationship down?",
    ],
)
def test_it_is_the_term_the_previous_answer_gave(engine: Engine, first: str) -> None:
    # Answered by the authors' list of obstacles, which names Article 9 among others.
    assert engine.ask(first).entry_ids[:1] == ("obstacle-slow-progress-expected",)
    answer = converse(engine, first, "what does it restrict?")
    assert not answer.abstained and "force abroad" in answer.text


def test_what_each_side_brings_is_asked_of_the_previous_plan(engine: Engine) -> None:
    answer = converse(
        engine,
        "do the authors want nato and japan to plan ukraine's rebuilding?",
        "what would each side bring?",
    )
    assert not answer.abstained and "security provision" in answer.text


@pytest.mark.parametrize(
    "follow_up", ["would there be any others like it in asia?", "any others like it in the region?"]
)
def test_any_others_like_it_points_back(engine: Engine, follow_up: str) -> None:
    # "others" and "like" name nothing: "it" is the office of the previous turn.
    answer = converse(engine, "the planned nato office in tokyo", follow_up)
    assert not answer.abstained and "only" in answer.text and "Asia" in answer.text


def test_like_is_not_a_word_the_answer_must_hold() -> None:
    assert content_terms("rivals like china".split()) == content_terms("rivals china".split())


# -- a question word and a role, or names, alone ------------------------------------------


def test_the_role_alone_asks_who_held_it_in_the_previous_subject(engine: Engine) -> None:
    # "the spokesperson" of Moscow's words is Zakharova, not NATO's spokesperson.
    answer = converse(
        engine, "what did russia say about the nato office in tokyo?", "who was the spokesperson?"
    )
    assert not answer.abstained and "Zakharova" in answer.text


@pytest.mark.parametrize("follow_up", ["why japan in particular?", "why japan tho"])
def test_why_and_a_name_asks_it_of_the_previous_subject(engine: Engine, follow_up: str) -> None:
    answer = converse(engine, "which nato cell do the authors want japan to join?", follow_up)
    assert not answer.abstained and "Undersea Infrastructure Coordination Cell" in answer.text


def test_the_other_after_one_author_is_the_other_author(engine: Engine) -> None:
    answer = converse(engine, "who wrote the article?", "where does the first one work?", "and the other?")
    assert not answer.abstained and "Lindgren" in answer.text and "NUPI" in answer.text


def test_thru_is_through(engine: Engine) -> None:
    answer = converse(engine, "japan's ukraine aid total?", "and how much thru nato")
    assert not answer.abstained and "$30 million" in answer.text


def test_a_name_with_a_compass_word_is_a_swap(engine: Engine) -> None:
    # "and south korea?" asks the previous question of South Korea, whose contribution the
    # notes do not give; alone it would be answered with the partners South Korea is among.
    answer = converse(engine, "how much did japan give nato's ukraine trust fund?", "and south korea?")
    assert answer.abstained


def test_a_follow_up_naming_a_new_thing_is_its_own_words_when_the_thread_names_it(engine: Engine) -> None:
    # "that constitutional article" is not the previous subject (why ties stay evolutionary)
    # but Article 9, which its answer names: asked with the subject's words it found nothing.
    first = "why will ties stay evolutionary rather than revolutionary"
    answer = converse(engine, first, "what does that constitutional article restrict")
    assert not answer.abstained and "force abroad" in answer.text


# -- "says who?", "who were the others?", "who was the speaker?" ---------------------------


@pytest.mark.parametrize("follow_up", ["says who?", "who says so?", "according to whom?"])
def test_says_who_asks_who_said_the_previous_answer(engine: Engine, follow_up: str) -> None:
    # Alone, "says who" has nothing to answer; after Kishida's Madrid words it asks who said them.
    answer = converse(engine, "is the security of europe and the indo-pacific really inseparable?", follow_up)
    assert not answer.abstained and "Kishida" in answer.text


def test_who_were_the_others_names_the_others_the_previous_entry_lists(engine: Engine) -> None:
    answer = converse(
        engine, "when did japan become an enhanced opportunity partner of the sto", "who were the others?"
    )
    assert not answer.abstained
    assert "Australia" in answer.text and "Sweden" in answer.text


@pytest.mark.parametrize("follow_up", ["who was the speaker?", "who was the speaker there"])
def test_who_was_the_speaker_is_the_person_the_previous_entry_names(engine: Engine, follow_up: str) -> None:
    answer = converse(engine, "what happened at the shangri-la dialogue in 2023", follow_up)
    assert not answer.abstained and "Li Shangfu" in answer.text


@pytest.mark.parametrize("follow_up", ["which summit was that?", "what summit was it again"])
def test_which_noun_was_that_asks_the_noun_of_the_previous_subject(engine: Engine, follow_up: str) -> None:
    # "summit" is what is asked of "that", not what "that" stands for: alone, the message
    # is answered by the Vilnius summit.
    answer = converse(engine, "who attacked nato-japan ties at a june 2023 summit?", follow_up)
    assert not answer.abstained and "Shangri-La" in answer.text


def test_what_someone_said_there_is_the_previous_entry_when_it_reports_their_words(engine: Engine) -> None:
    answer = converse(
        engine,
        "when was the informal oslo meeting of nato foreign ministers",
        "what did stoltenberg say there?",
    )
    assert not answer.abstained and "matters for Europe" in answer.text


# -- what the notes never say of the thread's subject ------------------------------------


@pytest.mark.parametrize("follow_up", ["why?", "why did they object?"])
def test_why_of_something_the_notes_give_no_reasons_for_is_declined_offering_it(
    engine: Engine, follow_up: str
) -> None:
    first = engine.ask("which ally protested against the nato office in tokyo?")
    answer = converse(engine, "which ally protested against the nato office in tokyo?", follow_up)
    assert answer.abstained and "don't give the reasons" in answer.text
    assert first.entry_ids[0] in {s.entry_id for s in answer.suggestions}


def test_why_according_to_the_authors_is_their_reasoning_not_a_decline(engine: Engine) -> None:
    answer = converse(
        engine,
        "which ally protested against the nato office in tokyo?",
        "why shouldn't that stop it, per the authors?",
    )
    assert not answer.abstained


def test_how_a_body_responded_is_not_answered_by_someone_elses_words(engine: Engine) -> None:
    # The notes report Zakharova's attack on the office, never NATO's reply to it.
    answer = converse(
        engine, "what did zakharova say about the tokyo office?", "how did nato respond to her?"
    )
    assert answer.abstained


def test_whether_someone_still_says_it_is_after_the_notes(engine: Engine) -> None:
    answer = converse(
        engine, "what did zakharova say about the tokyo office?", "does she still say that now?"
    )
    assert answer.intent == "after-notes" and "stop in July 2023" in answer.text


def test_a_message_of_several_questions_is_read_against_the_thread(engine: Engine) -> None:
    # Both parts point back: alone, "is it open now?" has no subject, and "who objected
    # to it?" was answered with China's and Russia's displeasure.
    answer = converse(
        engine, "when was the nato office in tokyo announced?", "is it open now? and who objected to it?"
    )
    assert answer.intent == "multi-part"
    assert "stop in July 2023" in answer.text and "France" in answer.text


# -- "the one a year later": the previous question, of the year after --------------------


@pytest.mark.parametrize("follow_up", ["and the one the year after?", "and the one a year later?"])
def test_the_one_a_year_later_asks_the_previous_question_of_the_next_year(
    engine: Engine, follow_up: str
) -> None:
    # The first answer is an overview of the agreements, with no date to be after: "the
    # one" is what the question asked for, in 2014.
    answer = converse(engine, "what nato japan document got signed in 2013?", follow_up)
    assert not answer.abstained and "2014" in answer.text and "Individual Partnership" in answer.text


def test_they_after_a_question_answered_by_two_people_are_those_people(engine: Engine) -> None:
    # Not "nato and japan", which found a glossary term about chemical weapons.
    answer = converse(engine, "who wrote this analysis?", "where do they work?")
    assert not answer.abstained and "GRIPS" in answer.text and "NUPI" in answer.text


@pytest.mark.parametrize("follow_up", ["did japan join it?", "ok so has that happened?"])
def test_whether_a_proposal_was_taken_up_is_after_the_notes(engine: Engine, follow_up: str) -> None:
    # The notes hold the authors' proposal, not what became of it.
    answer = converse(engine, "which nato cell do the authors say japan should join?", follow_up)
    assert answer.intent == "after-notes" and "stop in July 2023" in answer.text


def test_whether_the_authors_said_something_of_a_proposal_is_not_after_the_notes(engine: Engine) -> None:
    answer = converse(engine, "which nato cell do the authors say japan should join?", "did they say why?")
    assert answer.intent != "after-notes"


@pytest.mark.parametrize("follow_up", ["ok and russia?", "ok, and moscow?"])
def test_and_a_name_after_ok_is_the_previous_question_asked_of_it(engine: Engine, follow_up: str) -> None:
    # Alone, "russia" is the glossary's Kremlin; after China's reaction it asks Russia's.
    answer = converse(engine, "what did china say about the tokyo office?", follow_up)
    assert not answer.abstained and "Zakharova" in answer.text


# -- "where?": a place the thread has not named yet ---------------------------------------


@pytest.mark.parametrize(
    ("first", "follow_up", "place"),
    [
        # Not France's protest again, which only says "in Tokyo".
        ("which ally objected to the nato office in tokyo?", "and where would it be housed?", "Yokota"),
        ("what did tokyo announce about nato in may 2023?", "where would it likely be placed?", "Yokota"),
        ("which nato cyber centre did japan join in 2022?", "where is it?", "Estonia"),
    ],
)
def test_where_asks_for_a_place_beyond_the_ones_already_named(
    engine: Engine, first: str, follow_up: str, place: str
) -> None:
    answer = converse(engine, first, follow_up)
    assert not answer.abstained and place in answer.text


def test_who_objected_is_answered_by_who_objected_not_by_a_country_named(engine: Engine) -> None:
    # The entry on where the office would sit names the U.S. (its air base), which did not
    # object; France protested and Russia's Zakharova condemned the plan.
    answer = converse(
        engine, "is nato opening an office in tokyo?", "where would it sit?", "who objected to it?"
    )
    assert not answer.abstained and ("France" in answer.text or "Zakharova" in answer.text)


def test_that_before_a_verbs_particle_points_back(engine: Engine) -> None:
    # "set that out": "out" is the verb's, not a noun "that" determines ("that office").
    answer = converse(
        engine, "is japan covered by nato's collective defence?", "which articles set that out?"
    )
    assert not answer.abstained and "Article" in answer.text and "5" in answer.text


# -- "how much …?" with a verb of the asker's own ----------------------------------------


def test_how_much_with_a_verb_the_entry_lacks_is_answered_by_the_number_it_gives(engine: Engine) -> None:
    answer = converse(
        engine,
        "is japan a financial supporter of nato missions?",
        "how much did it put into the ukraine trust fund?",
    )
    assert not answer.abstained and "$30 million" in answer.text


def test_how_much_of_something_the_entry_never_counts_is_still_declined(engine: Engine) -> None:
    answer = converse(
        engine,
        "is japan a financial supporter of nato missions?",
        "how much did it spend on the tokyo office rent?",
    )
    assert answer.abstained


def test_how_much_money_is_answered_by_the_sum_the_entry_gives(engine: Engine) -> None:
    answer = converse(engine, "what did kishida promise ukraine?", "how much money is that?")
    assert not answer.abstained and "$7.1 billion" in answer.text


def test_how_much_money_of_an_entry_giving_other_numbers_but_no_sum_is_declined(engine: Engine) -> None:
    answer = converse(
        engine, "what undersea nato initiative should japan join", "how much money does it have?"
    )
    assert answer.abstained


# -- "whose words?" asks for someone besides those the thread named ----------------------


@pytest.mark.parametrize(
    "first",
    [
        "where did stoltenberg say what happens in asia matters for europe?",
        "what did stoltenberg say at the oslo meeting?",
    ],
)
def test_whose_remark_that_echoed_is_answered_with_the_other_speaker(engine: Engine, first: str) -> None:
    answer = converse(engine, first, "whose earlier remark did that echo?")
    assert not answer.abstained and "Kishida" in answer.text


def test_everyone_a_sentence_reports_speaking_is_a_speaker_of_the_entry(engine: Engine) -> None:
    # "Stoltenberg said …, echoing Kishida …, who said …": both speak.
    assert engine.fit.speakers_of("fact-oslo-stoltenberg-asia-europe") == {
        "jens-stoltenberg",
        "fumio-kishida",
    }


def test_anyway_is_filler_not_a_misspelling_of_away(engine: Engine) -> None:
    answer = converse(
        engine, "which country objected to the tokyo nato office?", "where would it be located anyway?"
    )
    assert not answer.abstained and "Yokota" in answer.text


def test_who_is_against_it_is_answered_by_the_country_reported_objecting(engine: Engine) -> None:
    answer = converse(engine, "so nato wants an office in tokyo?", "and who in nato is against it?")
    assert not answer.abstained and "France" in answer.text


# -- "that article" after an answer naming a charter's or constitution's article ----------


@pytest.mark.parametrize(
    "follow_up", ["what does that article do?", "what does that constitution article restrict?"]
)
def test_that_article_is_the_article_the_previous_answer_names(engine: Engine, follow_up: str) -> None:
    answer = converse(engine, "why will nato-japan ties stay evolutionary?", follow_up)
    assert not answer.abstained and "use of force abroad" in answer.text


def test_this_article_without_one_named_before_is_still_the_briefing(engine: Engine) -> None:
    answer = converse(engine, "when did stoltenberg visit tokyo?", "who wrote this article?")
    assert not answer.abstained and "Brummer" in answer.text


# -- "any other line from him?": more words of the person quoted --------------------------


@pytest.mark.parametrize("follow_up", ["any other line from him?", "and his other remark? exact quote"])
def test_another_line_from_the_person_quoted_is_a_quote_not_yet_given(engine: Engine, follow_up: str) -> None:
    first = "who is japan's foreign minister in the piece?"
    then = "what did he say about european and indo-pacific security?"
    given = converse(engine, first, then)
    answer = converse(engine, first, then, follow_up)
    assert not answer.abstained and "Hayashi" in answer.text
    assert answer.entry_ids[:1] != given.entry_ids[:1] and answer.intent == "quote"


def test_when_did_it_become_what_it_was_upgraded_to_is_answered(engine: Engine) -> None:
    answer = converse(
        engine, "when did japan open its first mission to nato", "and when did it become permanent"
    )
    assert not answer.abstained and "2023" in answer.text and "permanent" in answer.text


def test_a_tag_asking_to_confirm_is_not_a_word_the_answer_must_hold(engine: Engine) -> None:
    answer = converse(
        engine,
        "which summit was the first a japanese pm attended?",
        "biden held a meeting there, right? with which countries?",
    )
    assert not answer.abstained and "South Korea" in answer.text


def test_what_someone_said_after_an_event_is_not_a_request_to_order_two_events(engine: Engine) -> None:
    answer = converse(
        engine,
        "who was the russian spokeswoman quoted on the tokyo office?",
        "what did she say about it after vilnius?",
    )
    assert answer.abstained and answer.intent != "compare"


def test_was_that_before_or_after_still_orders_the_two_events(engine: Engine) -> None:
    answer = converse(
        engine, "when did stoltenberg visit tokyo?", "was that before or after the madrid summit?"
    )
    assert answer.intent == "compare" and answer.text.startswith("First, in 2022")


@pytest.mark.parametrize("follow_up", ["with whom, for example?", "whom, for instance?"])
def test_for_example_after_a_question_word_asks_it_of_the_previous_subject(
    engine: Engine, follow_up: str
) -> None:
    answer = converse(
        engine, "on which maritime issues does japan work with partners outside nato?", follow_up
    )
    assert not answer.abstained and "India" in answer.text


def test_so_what_in_a_thread_is_what_follows_from_the_previous_answer(engine: Engine) -> None:
    answer = converse(engine, "do nato and japan cooperate much in outer space?", "so what?")
    assert not answer.abstained and answer.intent == "recommendation" and "expand" in answer.text


# -- "today" about the asker's deadline, or about the present ------------------------------


def test_today_in_a_clause_about_the_asker_does_not_make_a_follow_up_about_the_present(
    engine: Engine,
) -> None:
    answer = converse(
        engine, "when did stoltenberg visit tokyo?", "when was that? need it for my brief today"
    )
    assert not answer.abstained and "February 2023" in answer.text


def test_up_to_today_asks_about_the_present_and_is_answered_as_of_the_notes_end(engine: Engine) -> None:
    answer = converse(engine, "how much has japan committed to ukraine?", "what's it up to today?")
    assert answer.text.startswith("As of July 2023, when my notes end")


@pytest.mark.parametrize(
    "follow_up", ["which came first, that or the madrid summit?", "which happened first, that or madrid?"]
)
def test_which_came_first_that_or_an_event_orders_the_subject_and_the_event(
    engine: Engine, follow_up: str
) -> None:
    answer = converse(engine, "when did stoltenberg visit tokyo?", follow_up)
    assert answer.intent == "compare" and answer.text.startswith("First, in 2022")
