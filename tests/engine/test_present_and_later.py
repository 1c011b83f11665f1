"""Questions about the present, and about what became of something, as a user sees them.

The notes end in July 2023. The authors' analysis is dated, not outdated: asked "now", it is
given as it stood then, and says so. What may have changed since (who holds an office, what
became of a plan or a proposal) gets the after-the-notes reply, with what the notes said.
"""

from __future__ import annotations

import pytest

from bot.qa.engine import Engine
from tests.fixtures import bundled_engine, converse


@pytest.fixture(scope="module")
def engine() -> Engine:
    return bundled_engine()


def test_the_authors_analysis_asked_now_is_given_as_it_stood(engine: Engine) -> None:
    answer = engine.ask("what stage is nato-japan interoperability at right now")
    assert not answer.abstained
    assert answer.entry_ids == ("fact-interoperability-fledgling",)
    assert answer.text.startswith("As of July 2023")  # the entry's own date, or said before it


def test_naming_the_document_makes_now_its_present(engine: Engine) -> None:
    answer = engine.ask("what stage is nato-japan interoperability at right now, per the piece")
    assert not answer.abstained
    assert "fledgling" in answer.text
    assert "when my notes end" not in answer.text  # the asker said whose present


@pytest.mark.parametrize(
    "question",
    [
        "who is nato secretary general now",  # an office: it may have changed
        "is kishida still prime minister?",
        "what is nato doing now",  # vague: the notes answer it only loosely
        # Whether a state went on past the notes, whatever entry holds it then.
        "is hayashi still japan's foreign minister",
        "does japan still want the tokyo office to be its only one in asia",
        "has japan joined the undersea cable cell by now",
        # A sum or a count runs on after the notes.
        "how much aid has japan given ukraine as of today",
        "how many partners does nato have in the indo-pacific now",
    ],
)
def test_what_may_have_changed_gets_the_after_the_notes_reply(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.abstained and answer.intent == "after-notes"
    assert answer.text.startswith("My briefing notes stop in July 2023")


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        (
            "has japan joined the undersea infrastructure coordination cell yet",
            "rec-undersea-infrastructure-cell",
        ),
        ("did kishida show up in vilnius in the end?", "kishida-vilnius-attendance-2023"),
        ("has japan ever joined nato's undersea infrastructure cell", "rec-undersea-infrastructure-cell"),
        ("has japan joined the undersea infrastructure cell since then?", "rec-undersea-infrastructure-cell"),
        ("did japan join the undersea infrastructure cell afterwards?", "rec-undersea-infrastructure-cell"),
        (
            "was japan admitted to the undersea infrastructure coordination cell later on?",
            "rec-undersea-infrastructure-cell",
        ),
        ("did japan ever get a seat on the north atlantic council as an observer", "rec-japan-nac-observer"),
        ("has japan become an observer at the north atlantic council later", "rec-japan-nac-observer"),
        # A planned event's outcome asked with a plain verb: "decide", "show up", "take place".
        ("what did the vilnius summit actually decide for japan", "term-vilnius-summit"),
        ("did kishida actually show up at the vilnius summit?", "term-vilnius-summit"),
    ],
)
def test_what_became_of_a_plan_or_a_proposal_is_after_the_notes(
    engine: Engine, question: str, entry: str
) -> None:
    answer = engine.ask(question)
    assert answer.abstained and answer.intent == "after-notes"
    assert answer.entry_ids == (entry,)  # with what the notes said of it then


def test_what_the_authors_proposed_is_still_answered(engine: Engine) -> None:
    # "did ... say" asks what they proposed, not what became of it.
    answer = engine.ask("what did the authors say about the undersea infrastructure coordination cell")
    assert not answer.abstained and answer.intent != "after-notes"
    assert "Undersea Infrastructure Coordination Cell" in answer.text


def test_an_amount_so_far_is_an_amount_not_a_history(engine: Engine) -> None:
    answer = engine.ask("how much has japan committed to ukraine so far")
    assert answer.intent != "timeline"
    assert "7.1 billion" in answer.text


def test_a_clause_before_an_event_is_not_a_comparison(engine: Engine) -> None:
    answer = engine.ask("did france drop its objection to the tokyo office after vilnius")
    assert answer.intent != "compare"
    assert answer.abstained  # what France did after July 2023 is after the notes


def test_a_comparison_says_on_for_a_day_and_in_for_a_year(engine: Engine) -> None:
    answer = engine.ask("was madrid before vilnius")
    assert answer.intent == "compare"
    assert "\nThen, on 11 July 2023:" in answer.text


@pytest.mark.parametrize("message", ["how are you doing today bot", "how's your day going?"])
def test_a_pleasantry_wrapped_in_chatter_is_a_pleasantry(engine: Engine, message: str) -> None:
    answer = engine.ask(message)
    assert answer.intent == "smalltalk" and answer.abstained
    assert not answer.entry_ids


def test_a_false_premise_with_a_modifier_is_still_corrected(engine: Engine) -> None:
    answer = engine.ask("when did japan become a full nato member")
    assert answer.intent == "false-premise" and answer.abstained
    assert answer.text.startswith("Japan is not a NATO member")


@pytest.mark.parametrize(
    "question",
    ["when did japan and south korea become nato members", "when did sweden join nato"],
)
def test_a_premise_about_another_subject_is_not_corrected_as_japans(engine: Engine, question: str) -> None:
    assert engine.ask(question).intent != "false-premise"


def test_ever_of_something_that_happened_is_answered(engine: Engine) -> None:
    answer = engine.ask("did japan ever join the nato cyber centre")
    assert not answer.abstained and "2022" in answer.text


@pytest.mark.parametrize(
    "turns",
    [
        ("when was the tokyo office plan announced?", "did it open?"),
        ("what did japan announce about nato in may 2023", "so has it actually opened?"),
    ],
)
def test_a_follow_up_asking_whether_a_plan_came_about_is_after_the_notes(
    engine: Engine, turns: tuple[str, str]
) -> None:
    # The rewrite borrows the plan's title ("… plan would cement …"), whose plan words hid
    # that the follow-up asks what became of it.
    answer = converse(engine, *turns)
    assert answer.abstained and answer.intent == "after-notes"
    assert answer.text.startswith("My briefing notes stop in July 2023")


def test_what_someone_said_of_a_plan_is_still_answered(engine: Engine) -> None:
    answer = converse(
        engine, "what did japan announce in may 2023 about nato", "what did russia say about it?"
    )
    assert not answer.abstained and answer.intent != "after-notes"


@pytest.mark.parametrize(
    "question",
    ["did zakharova say anything after the vilnius summit?", "did she say something after vilnius"],
)
def test_what_someone_said_after_an_event_is_not_asking_which_came_first(
    engine: Engine, question: str
) -> None:
    # "X after vilnius" orders two events only when X names one ("was madrid before
    # vilnius"); what someone said after the notes' last event, the notes cannot know.
    answer = engine.ask(question)
    assert answer.intent != "compare" and answer.abstained
