"""Follow-ups in context: a message that only makes sense after the previous turn of its
thread is read against it; any other message is answered exactly as it is alone."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.conversation import ThreadKey, Turn
from bot.qa.engine import Engine
from bot.store.recent import RecentTurns
from tests.fixtures import bundled_engine, converse


@pytest.fixture(scope="module")
def engine() -> Engine:
    return bundled_engine()


# -- reading: which messages are follow-ups ------------------------------------------------


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("and when was that?", "refer"),
        ("who said it?", "refer"),
        ("why?", "ask"),
        ("how come?", "ask"),
        ("what did russia say about it?", "refer"),
        ("tell me more", "more"),
        ("Tell me more about that!", "more"),
        ("what about france?", "swap"),
        ("and russia?", "swap"),
        ("how many?", "ask"),
        ("where?", "ask"),
        ("and before that?", "before"),
        ("what happened next?", "after"),
        ("what followed it?", "after"),
        ("who is he?", "refer"),
        ("is it legally binding?", "refer"),
        ("what was the reaction to it?", "refer"),
        ("why did that change?", "refer"),
        ("what did he say there?", "refer"),
        ("how did japan respond to her?", "refer"),
        ("at which summit?", "ask"),
        ("ok thanks, and who signed it?", "refer"),
        ("when did he visit tokyo?", "people"),
        ("and what was japan's policy before?", "refer"),
        ("what else happened that year?", "refer"),
        ("where was it first based?", "refer"),
        ("which ones?", "ask"),
        ("with whom?", "ask"),
        ("in what capacity?", "ask"),
        ("how did japan respond?", "refer"),  # respond to what the thread was about
        ("how many countries took part?", "refer"),
        ("what did stoltenberg say a year later?", "refer"),
        ("as what?", "ask"),  # "with" is chatter, but not here
        ("what came the year after?", "after"),
        ("and the year before?", "before"),
        ("what did japan do after?", "refer"),  # after the subject, but asked of Japan
        ("how many nato members were in it?", "refer"),  # an object: not the members
        ("how much funding does japan give it?", "refer"),
        ("and on russia's side?", "swap"),
        ("what about from china's perspective?", "swap"),
        ("and the eu?", "swap"),
    ],
)
def test_a_message_without_a_subject_of_its_own_is_a_follow_up(
    engine: Engine, message: str, kind: str
) -> None:
    reading = engine.followups.read(message)
    assert reading is not None and reading.kind == kind


@pytest.mark.parametrize(
    "message",
    [
        "when did japan join the nato cyber centre?",
        "ITPP what is it",  # "it" is the ITPP
        "ccdcoe japan - when did they join",  # "they" is Japan
        "does the japanese constitution let it use force overseas",
        "are nato and japan closer than they've ever been",
        "who is putin in this article",  # "this" is a determiner
        "what kind of maritime cooperation opportunities are there for nato and japan",
        "how did nato mark its 75th anniversary",
        "russia used to be a reason japan kept away from nato, is that still the case",
        "what did kishida say in his vilnius speech",
        "who wrote this",  # the notes' authors, whatever came before
        "what is marcom",
        "what is ITPP and when will japan sign it",  # "it" is the ITPP
        "the itpp, when will japan sign it",
        "who's kishida",
        "thanks!",
    ],
)
def test_a_message_with_a_subject_of_its_own_is_not_a_follow_up(engine: Engine, message: str) -> None:
    assert engine.followups.read(message) is None


# -- resolving: what a follow-up is answered with -----------------------------------------


def test_when_was_that_is_answered_by_the_previous_entry_and_its_date(engine: Engine) -> None:
    first = converse(engine, "stoltenbergs visit to tokio")
    answer = converse(engine, "stoltenbergs visit to tokio", "and when was that?")
    assert not answer.abstained and answer.entry_ids == first.entry_ids
    assert "February 2023" in answer.text
    # Alone, the same message has nothing to go on: whatever it gets, it is not the visit.
    assert engine.ask("and when was that?").entry_ids != first.entry_ids


def test_who_said_it_names_the_speaker(engine: Engine) -> None:
    answer = converse(engine, "what was called a historic first for japan and nato?", "who said that?")
    assert not answer.abstained and "Lungescu" in answer.text


def test_what_did_russia_say_about_it_asks_russia_about_the_previous_subject(engine: Engine) -> None:
    answer = converse(
        engine,
        "what do you know about the proposed nato liaison office in tokyo?",
        "what did russia say about it?",
    )
    assert not answer.abstained and "Zakharova" in answer.text


def test_what_about_france_asks_the_previous_question_of_france(engine: Engine) -> None:
    answer = converse(engine, "what did russia say about the nato office in tokyo?", "what about france?")
    assert not answer.abstained and "France" in answer.text
    assert "france" in answer.asked and "russia" not in answer.asked


def test_a_swap_replaces_a_name_of_its_own_kind(engine: Engine) -> None:
    context = engine.followups.context(
        [
            Turn(
                ("japan-joins-nato-cyber-centre-2022",),
                "milestone",
                "when did japan join the nato cyber centre",
            )
        ]
    )
    assert context is not None
    for message, asked in (
        ("what about south korea?", "when did south korea join the nato cyber centre"),
        ("and on the eu's side?", "when did japan join the eu cyber centre"),
    ):
        reading = engine.followups.read(message)
        assert reading is not None and engine.followups.rewrites(reading, context) == (asked,)


def test_a_name_swapped_into_a_question_without_one_is_asked_of_its_subject(engine: Engine) -> None:
    answer = converse(engine, "tell me about the tokyo liaison office", "and russia's view?")
    assert not answer.abstained and "Zakharova" in answer.text


def test_what_about_a_year_asks_the_previous_question_of_that_year(engine: Engine) -> None:
    for message in ("what about 2018?", "and what about in 2018?"):
        answer = converse(engine, "what did japan do in 2022", message)
        assert answer.asked == "what did japan do in 2018", message
        assert not answer.abstained and "Baltic" in answer.text


def test_a_swap_is_not_answered_by_the_previous_answer_again(engine: Engine) -> None:
    first = converse(engine, "which article of japan's constitution limits the use of force abroad")
    answer = converse(
        engine, "which article of japan's constitution limits the use of force abroad", "and on nato's side?"
    )
    assert answer.entry_ids != first.entry_ids


def test_how_many_takes_the_number_from_the_previous_subject(engine: Engine) -> None:
    answer = converse(engine, "has japan given aid to ukraine?", "how much?")
    assert not answer.abstained and "7.1" in answer.text


def test_who_is_he_is_the_person_the_thread_named(engine: Engine) -> None:
    answer = converse(engine, "stoltenberg went to tokyo in 2023", "who did he meet there?")
    assert not answer.abstained and "Kishida" in answer.text
    who = converse(engine, "what did russia say about the tokyo office?", "who is she?")
    assert not who.abstained and "Zakharova" in who.text and "spokeswoman" in who.text


def test_the_first_one_and_the_other_one_are_the_people_the_thread_named_in_order(engine: Engine) -> None:
    first = converse(engine, "who wrote the document?", "where does the first author work?")
    assert not first.abstained and "GRIPS" in first.text
    other = converse(engine, "who wrote the document?", "and where is the other one based?")
    assert not other.abstained and "NUPI" in other.text


def test_should_that_change_is_the_recommendation_on_the_previous_subject(engine: Engine) -> None:
    answer = converse(
        engine, "do nato and japan do much together in outer space?", "what should they do about it?"
    )
    assert not answer.abstained and answer.intent == "recommendation" and "expanded" in answer.text
    # Words of its own make it a question of its own, not a request for advice.
    assert not engine.followups.asks_advice("why should japan do it")


def test_in_what_capacity_asks_how_of_the_previous_subject(engine: Engine) -> None:
    answer = converse(engine, "should japan take part in the north atlantic council?", "as what?")
    assert not answer.abstained and "observer" in answer.text


def test_tell_me_more_gives_a_related_entry_not_given_yet(engine: Engine) -> None:
    first = converse(engine, "what did lungescu say about japan?")
    more = converse(engine, "what did lungescu say about japan?", "tell me more")
    again = converse(engine, "what did lungescu say about japan?", "tell me more", "tell me more")
    assert not more.abstained and more.entry_ids != first.entry_ids
    assert first.entry_ids[0] in {r for e in first.entry_ids for r in engine.kb.by_id[e].related} | {
        r for e in more.entry_ids for r in engine.kb.by_id[e].related
    }
    assert not again.abstained and again.entry_ids not in (first.entry_ids, more.entry_ids)


def test_before_that_is_the_milestone_before_the_previous_one(engine: Engine) -> None:
    answer = converse(engine, "when did japan formally join the nato cyber centre?", "and before that?")
    assert not answer.abstained and "2021" in answer.text and "war game" in answer.text
    after = converse(engine, "what was the 2013 joint political declaration?", "what followed it?")
    assert not after.abstained and "IPCP" in after.text


def test_a_verb_with_its_object_pointing_back_adds_the_subject_once(engine: Engine) -> None:
    context = engine.followups.context(
        [Turn(("nato-japan-joint-declaration-2023",), "milestone", "the 2023 joint declaration")]
    )
    reading = engine.followups.read("where was it signed?")
    assert context is not None and reading is not None
    for rewrite in engine.followups.rewrites(reading, context):
        assert rewrite.count("declaration") == 1, rewrite


def test_with_whom_names_who_the_previous_subject_was_with(engine: Engine) -> None:
    answer = converse(engine, "stoltenberg signed a joint declaration in tokyo?", "with whom?")
    assert not answer.abstained and "Kishida" in answer.text


def test_the_year_after_is_the_next_milestone(engine: Engine) -> None:
    answer = converse(engine, "the 2013 joint political declaration", "what happened the following year?")
    assert not answer.abstained and "2014" in answer.text and "IPCP" in answer.text


def test_how_many_in_it_counts_in_the_previous_subject(engine: Engine) -> None:
    answer = converse(engine, "did japan take part in air defender?", "how many nato members were in it?")
    assert not answer.abstained and "23" in answer.text


def test_an_exact_date_needs_an_entry_dated_that_precisely(engine: Engine) -> None:
    # The visit is dated to its month: the exact date asked is as exact as the notes go.
    visit = converse(engine, "stoltenbergs visit to tokio", "what was the exact date?")
    assert not visit.abstained and "February 2023" in visit.text
    # Hayashi's remark is dated only "recently" (its year): no exact date to give.
    remark = converse(
        engine, "hayashi's remark on europe and indo-pacific security", "on what day did he say it?"
    )
    assert remark.abstained and remark.text.startswith(engine.not_in_notes)


def test_what_it_was_called_needs_an_entry_that_names_it(engine: Engine) -> None:
    named = converse(engine, "japan took part in a big air exercise in june 2023", "what was it called?")
    assert not named.abstained and "Air Defender" in named.text
    # The notes describe the 2021 war game ("the world's largest") but never name it.
    unnamed = converse(engine, "tell me about the 2021 nato japan cyber defence war game", "what's its name?")
    assert unnamed.abstained and unnamed.text.startswith(engine.not_in_notes)
    # Asking which things were named is not asking a name.
    assert not engine.followups.asks_name("which countries were named in it?")


def test_a_year_later_is_the_year_after_the_previous_entrys(engine: Engine) -> None:
    before = converse(
        engine, "japan joined the cyber centre in estonia", "what did nato and japan hold the year before?"
    )
    assert not before.abstained and "2021" in before.text and "war game" in before.text
    after = converse(
        engine,
        "when did japan post a liaison officer to nato's maritime command?",
        "what did japan do the following year?",
    )
    assert not after.abstained and "2019" in after.text and "2018" not in after.text


def test_that_year_is_the_previous_entrys_year(engine: Engine) -> None:
    answer = converse(
        engine,
        "when did japan post a liaison officer to nato's maritime command?",
        "what else happened that year?",
    )
    assert answer.intent == "timeline" and "2018" in answer.asked
    assert "Baltic" in answer.text and "Spain" in answer.text


def test_a_follow_up_the_notes_cannot_answer_is_declined(engine: Engine) -> None:
    for messages in (
        ("tell me about the planned nato office in tokyo", "how much will it cost?"),
        ("when did japan join the nato cyber centre?", "what about sweden?"),
        ("when did japan first train with nato ships in the mediterranean?", "how many ships did it send?"),
        ("stoltenbergs visit to tokio", "how many days did it last?"),
        ("who is maria zakharova?", "how old is she?"),
    ):
        answer = converse(engine, *messages)
        assert answer.abstained, messages
        assert answer.text.startswith(engine.not_in_notes)


def test_how_someone_responded_is_not_answered_by_someone_elses_words(engine: Engine) -> None:
    for messages in (
        ("li shangfu at the shangri-la dialogue", "how did japan respond?"),
        ("what did russia say about the tokyo office?", "and how did japan react to that?"),
        ("who is kishida?", "how did russia react to him?"),  # a biography is not Russia's reaction
    ):
        answer = converse(engine, *messages)
        assert answer.abstained and answer.text.startswith(engine.not_in_notes), messages
    # Whom the words are about is not whose they are: "what did she say about japan?" asks hers.
    assert engine.followups.voiced_by("what did she say about japan?") == []
    assert engine.followups.voiced_by("how did japan respond?") == ["japan"]
    # Someone's own words still answer: Russia's on the office are Zakharova's.
    answer = converse(engine, "tell me about the planned tokyo office", "how did russia react?")
    assert not answer.abstained and "Zakharova" in answer.text


def test_a_bare_follow_up_of_a_declined_question_is_declined(engine: Engine) -> None:
    for follow_up in (
        "why?",
        "tell me more",
        "and before that?",
        "how many?",
        "why did they?",
        "when was that?",
    ):
        answer = converse(engine, "when did sweden join nato?", follow_up)
        assert answer.abstained and answer.text.startswith(engine.not_in_notes), follow_up


def test_what_became_of_a_plan_is_still_after_the_notes(engine: Engine) -> None:
    answer = converse(
        engine, "what was expected at the vilnius summit?", "so what was agreed there in the end?"
    )
    assert answer.abstained and answer.intent == "after-notes"


def test_a_message_that_is_not_a_follow_up_is_answered_exactly_as_alone(engine: Engine) -> None:
    questions = [
        "when did japan join the nato cyber centre?",
        "who is oana lungescu?",
        "what does IUU stand for",
        "milestones since 2021",
        "which came first, the IPCP or the cyber centre membership?",
        "what did zakharova say about the tokyo office?",
        "how much aid has japan given ukraine",
        "when did sweden join nato",
        "thanks!",
        "quand le japon a-t-il rejoint l'otan ?",
    ]
    for earlier in ("stoltenbergs visit to tokio", "how did china react to nato japan ties?"):
        for question in questions:
            alone = engine.ask(question)
            in_thread = converse(engine, earlier, question)
            assert (in_thread.text, in_thread.entry_ids, in_thread.abstained) == (
                alone.text,
                alone.entry_ids,
                alone.abstained,
            ), (earlier, question)


def test_only_the_latest_turns_are_read(engine: Engine) -> None:
    turns: Sequence[Turn] = (
        Turn(("japan-joins-nato-cyber-centre-2022",), "milestone", "when did japan join the cyber centre"),
        Turn(("stoltenberg-tokyo-visit-2023",), "milestone", "stoltenberg visit to tokyo"),
    )
    answer = engine.ask("and when was that?", turns)
    assert answer.entry_ids == ("stoltenberg-tokyo-visit-2023",)


@pytest.mark.parametrize(
    "message",
    [
        "it " * 400,
        "who said it? " * 60,
        "what about " + "france " * 200,
        "\x00\u202e<script>alert(1)</script> who said it?",
        "tell me more " * 80,
        "and before that? 🙏" * 30,
        "he she they them it there then " * 20,
    ],
)
def test_hostile_input_as_a_follow_up_is_answered_or_declined_and_remembered_bounded(
    engine: Engine, message: str
) -> None:
    memory, key = RecentTurns(), ThreadKey("test", "channel", "hostile")
    engine.ask_in_thread("stoltenbergs visit to tokio", memory, key)
    answer = engine.ask_in_thread(message, memory, key)
    assert isinstance(answer.text, str) and answer.text
    for turn in memory.recent_turns(key, limit=10):
        assert len(turn.question) <= 300
        assert "<script>" not in turn.question and "\x00" not in turn.question


# -- remembering: what a thread keeps ------------------------------------------------------


def test_a_turn_keeps_the_question_in_the_bases_words_only(engine: Engine) -> None:
    answer = engine.ask("stoltenbergs visit to tokio, asking for my colleague Smithereens at acme-corp")
    turn = engine.turn(answer)
    assert turn is not None and turn.entry_ids == answer.entry_ids and turn.kind == "milestone"
    assert "stoltenberg" in turn.question and "visit" in turn.question
    for private in ("smithereens", "acme"):
        assert private not in turn.question


def test_a_pleasantry_or_a_notice_is_not_a_turn(engine: Engine) -> None:
    for message in ("thanks!", "", "日本はいつNATOサイバーセンターに参加しましたか"):
        assert engine.turn(engine.ask(message)) is None
