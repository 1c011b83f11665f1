"""Broken knowledge files are reported precisely (file, line, entry, field) and load nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.errors import KnowledgeError
from bot.knowledge.base import PartialDate, count_sentences
from bot.knowledge.loading import load_knowledge

REPO = Path(__file__).resolve().parents[2]

GOOD_ENTRY = """\
  - id: japan-cyber-centre-2022
    kind: milestone
    title: Japan joins NATO's cyber centre in Estonia
    answer: In 2022 Japan formally joined the NATO cyber centre in Estonia and posted experts there.
    questions:
      - when did japan join the nato cyber centre
      - japan ccdcoe
      - Did Tokyo send cyber experts to Estonia?
    topics: [cyber]
    source:
      doc: nato-japan-2023
      paragraphs: [12]
      evidence: "Tokyo formally joined the NATO Cyber Cooperation Center in Estonia"
    as_of: 2023-07
    date: 2022
"""


def another_entry(entry_id: str) -> str:
    """GOOD_ENTRY under another id and a title of its own (titles are unique in a base)."""
    return GOOD_ENTRY.replace("japan-cyber-centre-2022", entry_id).replace(
        "title: Japan joins NATO's cyber centre in Estonia", f"title: Japan and the cyber centre ({entry_id})"
    )


def make_base(tmp_path: Path, body: str, name: str = "entries.yaml") -> Path:
    root = tmp_path / "knowledge"
    root.mkdir()
    shutil.copy(REPO / "knowledge" / "sources.yaml", root / "sources.yaml")
    (root / name).write_text(body, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(root)
    return [str(p) for p in caught.value.problems]


def test_a_valid_file_loads_into_frozen_entries(tmp_path: Path) -> None:
    kb = load_knowledge(make_base(tmp_path, "entries:\n" + GOOD_ENTRY))
    entry = kb.by_id["japan-cyber-centre-2022"]
    assert entry.date == PartialDate(2022)
    assert entry.source.paragraphs == (12,)
    assert entry.line == 2
    with pytest.raises(AttributeError):
        entry.title = "changed"  # type: ignore[misc]


def test_wrong_field_type_names_file_line_entry_and_field(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY.replace("paragraphs: [12]", "paragraphs: twelve")
    assert problems_of(make_base(tmp_path, body)) == [
        "knowledge/entries.yaml:13: entry 'japan-cyber-centre-2022': field 'source.paragraphs': "
        "Input should be a valid list"
    ]


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY + "    colour: blue\n"
    assert problems_of(make_base(tmp_path, body)) == [
        "knowledge/entries.yaml:17: entry 'japan-cyber-centre-2022': field 'colour': is not a known field"
    ]


def test_unknown_topic_lists_the_valid_ones(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY.replace("topics: [cyber]", "topics: [cyber, hacking]")
    (problem,) = problems_of(make_base(tmp_path, body))
    assert problem.startswith(
        "knowledge/entries.yaml:10: entry 'japan-cyber-centre-2022': field 'topics': unknown topic 'hacking'"
    )
    assert "maritime" in problem


def test_bad_date_is_rejected(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY.replace("date: 2022", "date: 2022-13")
    assert problems_of(make_base(tmp_path, body)) == [
        "knowledge/entries.yaml:16: entry 'japan-cyber-centre-2022': field 'date': "
        "'2022-13' has month 13; months run 01-12"
    ]


@pytest.mark.parametrize(
    ("written", "complaint"),
    [
        ("2023-02-30", "'2023-02-30' is not a day of the calendar"),
        ("2023-02-29", "'2023-02-29' is not a day of the calendar"),  # 2023 is no leap year
        ("2023-13", "'2023-13' has month 13; months run 01-12"),
        ("2023-13-01", "'2023-13-01' has month 13; months run 01-12"),
        ("2023-00-10", "'2023-00-10' has month 0; months run 01-12"),
        ("2023-7-1", "'2023-7-1' is not a date; use YYYY, YYYY-MM or YYYY-MM-DD"),
    ],
)
def test_an_impossible_date_names_file_line_entry_and_field(
    tmp_path: Path, written: str, complaint: str
) -> None:
    # Unquoted, YAML reads most of these as timestamps: the problem must still reach the schema.
    body = "entries:\n" + GOOD_ENTRY.replace("date: 2022", f"date: {written}")
    assert problems_of(make_base(tmp_path, body)) == [
        f"knowledge/entries.yaml:16: entry 'japan-cyber-centre-2022': field 'date': {complaint}"
    ]


def test_a_leap_day_is_a_date() -> None:
    assert PartialDate.parse("2024-02-29") == PartialDate(2024, 2, 29)


def test_an_impossible_date_in_the_sources_names_the_document_and_field(tmp_path: Path) -> None:
    root = make_base(tmp_path, "entries:\n" + GOOD_ENTRY)
    sources = root / "sources.yaml"
    text = sources.read_text()
    sources.write_text(text.replace("published: 2023-07", "published: 2023-02-30"))
    line = text.splitlines().index("    published: 2023-07") + 1
    assert problems_of(root)[0] == (
        f"knowledge/sources.yaml:{line}: entry 'nato-japan-2023': field 'published': "
        "'2023-02-30' is not a day of the calendar"
    )


def test_sections_out_of_order_name_the_document(tmp_path: Path) -> None:
    root = make_base(tmp_path, "entries:\n" + GOOD_ENTRY)
    sources = root / "sources.yaml"
    sources.write_text(sources.read_text().replace("paragraph: 13", "paragraph: 3"))
    problems = problems_of(root)
    assert "nato-japan-2023" in problems[0] and "sections must stand at distinct paragraphs" in problems[0]


def test_a_paragraph_is_in_the_section_whose_heading_precedes_it(tmp_path: Path) -> None:
    document = load_knowledge(make_base(tmp_path, "entries:\n" + GOOD_ENTRY)).documents["nato-japan-2023"]
    assert document.section_of(3) == ""
    assert document.section_of(7) == document.section_of(12) == "Bridges Over the New Geography of Danger"
    assert document.section_of(27) == "Charting the Future Course"


def test_a_value_yaml_cannot_build_names_file_line_entry_and_field(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY.replace("paragraphs: [12]", "paragraphs: [12, !!int twelve]")
    (problem,) = problems_of(make_base(tmp_path, body))
    assert problem.startswith(
        "knowledge/entries.yaml:13: entry 'japan-cyber-centre-2022': field 'source.paragraphs.1': "
        "is not valid YAML: cannot read 'twelve'"
    )


def test_too_few_questions_is_rejected(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY.replace("      - japan ccdcoe\n", "")
    (problem,) = problems_of(make_base(tmp_path, body))
    assert problem.startswith("knowledge/entries.yaml:6: entry 'japan-cyber-centre-2022': field 'questions':")
    assert "at least 3" in problem


def test_missing_questions_is_rejected(tmp_path: Path) -> None:
    lines = GOOD_ENTRY.splitlines(keepends=True)
    body = "entries:\n" + "".join(lines[:4] + lines[8:])
    assert problems_of(make_base(tmp_path, body)) == [
        "knowledge/entries.yaml:2: entry 'japan-cyber-centre-2022': field 'questions': is required"
    ]


def test_over_long_answer_is_rejected(tmp_path: Path) -> None:
    long_answer = "Japan and NATO cooperate closely on cyber defence matters " * 10
    body = "entries:\n" + GOOD_ENTRY.replace(
        "answer: In 2022 Japan formally joined the NATO cyber centre in Estonia and posted experts there.",
        f"answer: {long_answer.strip()}",
    )
    (problem,) = problems_of(make_base(tmp_path, body))
    assert problem.startswith("knowledge/entries.yaml:5: entry 'japan-cyber-centre-2022': field 'answer':")
    assert "500" in problem


def test_answers_of_more_than_three_sentences_are_rejected(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY.replace(
        "posted experts there.", "posted experts there. It was 2022. The U.S. agreed. Estonia hosts it."
    )
    (problem,) = problems_of(make_base(tmp_path, body))
    assert "has 4 sentences; at most 3" in problem


def test_duplicate_ids_name_the_first_definition(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY + GOOD_ENTRY
    assert problems_of(make_base(tmp_path, body)) == [
        "knowledge/entries.yaml:17: entry 'japan-cyber-centre-2022': field 'id': "
        "duplicates the id defined in knowledge/entries.yaml:2"
    ]


def test_a_title_used_twice_across_files_names_both_entries(tmp_path: Path) -> None:
    # Case and spacing do not make two titles different: "Related" would read as one line twice.
    other = GOOD_ENTRY.replace("japan-cyber-centre-2022", "quote-cyber-centre").replace(
        "title: Japan joins NATO's cyber centre in Estonia",
        "title:  japan JOINS nato's cyber  centre in Estonia",
    )
    root = make_base(tmp_path, "entries:\n" + GOOD_ENTRY)
    (root / "quotes.yaml").write_text("entries:\n" + other, encoding="utf-8")
    assert problems_of(root) == [
        "knowledge/quotes.yaml:4: entry 'quote-cyber-centre': field 'title': duplicates the title of "
        "entry 'japan-cyber-centre-2022' (knowledge/entries.yaml:4, field 'title'); titles must differ"
    ]


def test_unknown_related_id_is_rejected(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY + "    related: [no-such-entry]\n"
    assert problems_of(make_base(tmp_path, body)) == [
        "knowledge/entries.yaml:2: entry 'japan-cyber-centre-2022': field 'related': "
        "names 'no-such-entry', which is no entry's id"
    ]


def test_planned_entry_must_say_as_of_july_2023(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY + "    status: planned\n"
    (problem,) = problems_of(make_base(tmp_path, body))
    assert "must say 'as of July 2023'" in problem


def test_a_planned_entry_says_the_date_it_holds_at_not_a_fixed_one(tmp_path: Path) -> None:
    later = GOOD_ENTRY.replace("as_of: 2023-07", "as_of: 2024-03") + "    status: planned\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (problem,) = problems_of(make_base(tmp_path / "a", "entries:\n" + later))
    assert "must say 'as of March 2024'" in problem
    said = later.replace("answer: In 2022", "answer: As of March 2024, in 2022")
    kb = load_knowledge(make_base(tmp_path / "b", "entries:\n" + said))
    assert kb.by_id["japan-cyber-centre-2022"].planned


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY.replace("topics: [cyber]", "topics: [cyber")
    (problem,) = problems_of(make_base(tmp_path, body))
    assert problem.startswith("knowledge/entries.yaml:11: is not valid YAML")


def test_every_problem_is_reported_at_once_and_nothing_loads(tmp_path: Path) -> None:
    second = GOOD_ENTRY.replace("japan-cyber-centre-2022", "second-entry").replace("date: 2022", "date: soon")
    body = "entries:\n" + GOOD_ENTRY.replace("kind: milestone", "kind: rumour") + second
    problems = problems_of(make_base(tmp_path, body))
    assert len(problems) == 2
    assert "field 'kind'" in problems[0]
    assert "entry 'second-entry': field 'date'" in problems[1]


def test_a_milestone_needs_a_date(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY.replace("    date: 2022\n", "")
    (problem,) = problems_of(make_base(tmp_path, body))
    assert "a milestone entry needs 'date'" in problem


def test_only_a_person_has_a_pronoun(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY + "    pronoun: she\n"
    (problem,) = problems_of(make_base(tmp_path, body))
    assert "entry 'japan-cyber-centre-2022'" in problem
    assert "only a person entry has 'pronoun'" in problem


def test_a_pronoun_is_one_of_three(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY + "    pronoun: it\n"
    (problem,) = problems_of(make_base(tmp_path, body))
    assert "field 'pronoun'" in problem


def test_what_an_entry_is_silent_on_is_a_known_slot(tmp_path: Path) -> None:
    body = "entries:\n" + GOOD_ENTRY + "    silent_on: [motives]\n"
    (problem,) = problems_of(make_base(tmp_path, body))
    assert "entry 'japan-cyber-centre-2022'" in problem and "field 'silent_on" in problem


def test_sentence_counting_ignores_abbreviations() -> None:
    assert count_sentences("The U.S. and Japan met. They agreed, e.g. on cyber.") == 2
    assert count_sentences("One. Two! Three? Four.") == 4


def test_partial_dates_sort_and_read_naturally() -> None:
    dates = [PartialDate.parse(d) for d in ("2023-07-11", "2019", "2023-02")]
    assert [d.human() for d in sorted(dates)] == ["2019", "February 2023", "11 July 2023"]


NEAR_MISSES = """\
    near_misses:
      - which japanese ministry posted the experts to estonia
      - How much does Japan pay the Estonia centre?
"""


def test_near_misses_load_with_their_entry(tmp_path: Path) -> None:
    second = another_entry("second-entry").replace(
        "when did japan join the nato cyber centre", "when did tokyo join the nato cyber centre"
    )
    body = "entries:\n" + GOOD_ENTRY + NEAR_MISSES + second.replace("japan ccdcoe", "ccdcoe japan")
    kb = load_knowledge(make_base(tmp_path, body))
    assert kb.by_id["japan-cyber-centre-2022"].near_misses == (
        "which japanese ministry posted the experts to estonia",
        "How much does Japan pay the Estonia centre?",
    )
    assert kb.by_id["second-entry"].near_misses == ()
    assert kb.by_id["japan-cyber-centre-2022"].to_json()["near_misses"] == list(
        kb.by_id["japan-cyber-centre-2022"].near_misses
    )


def test_a_near_miss_that_is_another_entrys_question_names_both(tmp_path: Path) -> None:
    root = make_base(tmp_path, "entries:\n" + GOOD_ENTRY)
    other = another_entry("japan-cyber-experts-2022").replace(
        "      - japan ccdcoe\n", "      - japan cyber experts estonia\n"
    )
    (root / "more.yaml").write_text(
        "entries:\n"
        + other.replace("when did japan join", "when did tokyo join")
        + "    near_misses:\n      - who heads the centre in estonia\n      - Japan  CCDCOE?\n",
        encoding="utf-8",
    )
    assert problems_of(root) == [
        "knowledge/more.yaml:19: entry 'japan-cyber-experts-2022': field 'near_misses': "
        "'Japan  CCDCOE?' is a question of entry 'japan-cyber-centre-2022' (knowledge/entries.yaml:8): "
        "the notes answer it"
    ]


def test_the_same_near_miss_on_two_entries_is_refused(tmp_path: Path) -> None:
    second = another_entry("second-entry").replace(
        "when did japan join the nato cyber centre", "when did tokyo join the nato cyber centre"
    )
    second = second.replace("japan ccdcoe", "ccdcoe japan") + (
        "    near_misses:\n      - Which Japanese ministry posted the experts to Estonia?\n"
    )
    body = "entries:\n" + GOOD_ENTRY + NEAR_MISSES + second
    assert problems_of(make_base(tmp_path, body)) == [
        "knowledge/entries.yaml:36: entry 'second-entry': field 'near_misses': "
        "'Which Japanese ministry posted the experts to Estonia?' is already a near miss of entry "
        "'japan-cyber-centre-2022' (knowledge/entries.yaml:18)"
    ]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("      - who heads the centre\n      - Who heads the centre?\n", "the same near miss twice"),
        ("      - ' ? '\n", "an empty near miss"),
        ("      - 42\n", "Input should be a valid string"),
    ],
)
def test_near_misses_are_checked_like_questions(tmp_path: Path, items: str, message: str) -> None:
    body = "entries:\n" + GOOD_ENTRY + "    near_misses:\n" + items
    (problem,) = problems_of(make_base(tmp_path, body))
    assert problem.startswith("knowledge/entries.yaml:")
    assert "entry 'japan-cyber-centre-2022': field 'near_misses" in problem
    assert problem.endswith(message)
