"""The lexicon is curated data: validated on load, and a mistake is named precisely."""

from __future__ import annotations

from pathlib import Path

from bot.grammar.intents import Timeline, TimelineQuery
from bot.knowledge.loading import load_knowledge
from bot.qa.engine import Engine
from bot.qa.understand import recognise
from tests.fixtures import bundled_kb
from tests.knowledge.test_loading import GOOD_ENTRY, make_base, problems_of

LEXICON = """\
lexicon:
  smalltalk:
    - kind: thanks
      reply: "You're welcome!"
      phrases: [thanks, thank you]
  chatter: [hey, bot]
  form_requests:
    - wants: date
      ask_as: when
      phrases: [month + year]
  english_words: [the, is]
  languages:
    - code: ja
      name: Japanese
      scripts: [hiragana, katakana, cjk]
      marks: [hiragana, katakana]
      notice: "I can only read English for now."
"""


def _base_with_lexicon(tmp_path: Path, lexicon: str) -> Path:
    root = make_base(tmp_path, "entries:\n" + GOOD_ENTRY)
    (root / "lexicon.yaml").write_text(lexicon, encoding="utf-8")
    return root


def test_the_bundled_base_carries_its_lexicon() -> None:
    lexicon = bundled_kb().lexicon
    assert {s.kind for s in lexicon.smalltalk} >= {"thanks", "greeting", "acknowledgement"}
    assert "ja" in {language.code for language in lexicon.languages}
    assert lexicon.file == "knowledge/lexicon.yaml"


def test_a_valid_lexicon_loads_into_frozen_values(tmp_path: Path) -> None:
    kb = load_knowledge(_base_with_lexicon(tmp_path, LEXICON))
    assert kb.lexicon.smalltalk[0].phrases == ("thanks", "thank you")
    assert kb.lexicon.form_requests[0].ask_as == "when"
    assert kb.lexicon.languages[0].marks == ("hiragana", "katakana")


def test_a_base_without_a_lexicon_reads_messages_as_they_are(tmp_path: Path) -> None:
    kb = load_knowledge(make_base(tmp_path, "entries:\n" + GOOD_ENTRY))
    assert kb.lexicon.smalltalk == () and kb.lexicon.chatter == ()


def test_an_unknown_field_names_file_line_and_field(tmp_path: Path) -> None:
    broken = LEXICON.replace("  chatter: [hey, bot]", "  chatter: [hey, bot]\n  slang: [lol]")
    assert problems_of(_base_with_lexicon(tmp_path, broken)) == [
        "knowledge/lexicon.yaml:7: entry 'lexicon': field 'slang': is not a known field"
    ]


def test_a_phrase_listed_twice_is_refused(tmp_path: Path) -> None:
    broken = LEXICON.replace("phrases: [thanks, thank you]", "phrases: [thanks, Thanks]")
    (problem,) = problems_of(_base_with_lexicon(tmp_path, broken))
    assert problem.startswith("knowledge/lexicon.yaml:5: entry 'lexicon': field 'smalltalk.0.phrases'")
    assert "twice" in problem


def test_a_language_it_cannot_recognise_is_refused(tmp_path: Path) -> None:
    broken = LEXICON.replace(
        "      scripts: [hiragana, katakana, cjk]\n      marks: [hiragana, katakana]\n", ""
    )
    (problem,) = problems_of(_base_with_lexicon(tmp_path, broken))
    assert "field 'languages'" in problem and "scripts or its common words" in problem


def test_a_second_lexicon_file_is_refused(tmp_path: Path) -> None:
    root = _base_with_lexicon(tmp_path, LEXICON)
    (root / "more.yaml").write_text(LEXICON, encoding="utf-8")
    (problem,) = problems_of(root)
    assert problem.startswith("knowledge/more.yaml:1: field 'lexicon': is also given in knowledge/")


FOLLOWUPS = """\
  followups:
    references:
      thing: [it, that]
      person: [he, she]
    asks:
      - ask: why
        phrases: [why, how come]
      - ask: when
        phrases: [when]
    more: [tell me more]
    before: [before that]
    after: [after that]
    swap: [what about]
    frame_words: [reaction]
    joiners: [and]
    standalone: [who wrote this]
"""


def test_the_words_that_make_a_follow_up_are_lexicon_data(tmp_path: Path) -> None:
    kb = load_knowledge(_base_with_lexicon(tmp_path, LEXICON + FOLLOWUPS))
    followups = kb.lexicon.followups
    assert followups.thing == ("it", "that") and followups.person == ("he", "she")
    assert [(a.ask, a.phrases) for a in followups.asks] == [("why", ("why", "how come")), ("when", ("when",))]
    assert followups.swap == ("what about",) and followups.standalone == ("who wrote this",)
    assert bundled_kb().lexicon.followups.more  # the bundled base has them


def test_a_phrase_asking_two_things_is_refused(tmp_path: Path) -> None:
    broken = LEXICON + FOLLOWUPS.replace("        phrases: [when]", "        phrases: [when, how come]")
    (problem,) = problems_of(_base_with_lexicon(tmp_path, broken))
    assert "field 'followups.asks'" in problem and "“how come” asks both 'why' and 'when'" in problem


def test_an_unknown_kind_of_reference_is_refused(tmp_path: Path) -> None:
    animal = "      person: [he, she]\n      animal: [it]"
    broken = LEXICON + FOLLOWUPS.replace("      person: [he, she]", animal)
    (problem,) = problems_of(_base_with_lexicon(tmp_path, broken))
    assert "field 'followups.references.animal': is not a known field" in problem


TOPIC_WORDS = """\
  topic_words:
    maritime: [maritime, naval, boats]
    cyber: [cyber]
"""


def test_the_words_for_topics_are_lexicon_data_a_custom_base_brings(tmp_path: Path) -> None:
    kb = load_knowledge(_base_with_lexicon(tmp_path, LEXICON + TOPIC_WORDS))
    assert dict(kb.lexicon.topic_words) == {
        "maritime": "maritime",
        "naval": "maritime",
        "boats": "maritime",
        "cyber": "cyber",
    }
    assert recognise("boats timeline", kb.notes_end, kb.lexicon.topic_words) == Timeline(
        TimelineQuery(topic="maritime")
    )
    assert bundled_kb().lexicon.topic_words["naval"] == "maritime"  # the bundled base has them


def test_a_word_for_a_topic_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    broken = LEXICON + TOPIC_WORDS.replace("    cyber: [cyber]", "    cyber: [cyber]\n    boats: [ships]")
    (problem,) = problems_of(_base_with_lexicon(tmp_path, broken))
    assert problem.startswith(
        "knowledge/lexicon.yaml:21: entry 'lexicon': field 'topic_words.boats': “boats” is not a topic"
    )


def test_a_word_for_a_topic_must_be_one_lower_case_word(tmp_path: Path) -> None:
    broken = LEXICON + TOPIC_WORDS.replace("[maritime, naval, boats]", "[maritime, Naval, boats]")
    (problem,) = problems_of(_base_with_lexicon(tmp_path, broken))
    assert problem == (
        "knowledge/lexicon.yaml:19: entry 'lexicon': field 'topic_words.maritime.1': "
        "“Naval” must be one lower-case word, as questions are read"
    )


def test_a_word_naming_two_topics_is_refused(tmp_path: Path) -> None:
    broken = LEXICON + TOPIC_WORDS.replace("cyber: [cyber]", "cyber: [cyber, boats]")
    (problem,) = problems_of(_base_with_lexicon(tmp_path, broken))
    assert problem == (
        "knowledge/lexicon.yaml:18: entry 'lexicon': field 'topic_words': "
        "“boats” is listed under both 'maritime' and 'cyber'"
    )


def test_a_word_listed_twice_for_a_topic_is_refused(tmp_path: Path) -> None:
    twice = LEXICON + TOPIC_WORDS.replace("cyber: [cyber]", "cyber: [cyber, cyber]")
    (problem,) = problems_of(_base_with_lexicon(tmp_path, twice))
    assert problem.endswith("field 'topic_words': cyber: lists “cyber” twice")


DOMAIN = """\
  domain:
    countries: [japan, netherlands]
    roles: [minister, chief, head]
    same_roles:
      - [head, chief]
    bodies: [nato]
    person_nouns: [minister]
"""


def test_the_domain_words_the_checks_read_are_lexicon_data_a_custom_base_brings(tmp_path: Path) -> None:
    kb = load_knowledge(_base_with_lexicon(tmp_path, LEXICON + DOMAIN))
    domain = kb.lexicon.domain
    assert domain.countries == ("japan", "netherlands") and domain.same_roles == (("head", "chief"),)
    fit = Engine(kb).fit
    assert fit.countries == {"japan", "netherland"}  # stemmed as questions are: "the dutch" meets it
    assert fit.role_word("chief") == "head" and fit.bodies == {"nato"}
    bundled = bundled_kb().lexicon.domain
    assert "sweden" in bundled.countries and "g7" in bundled.bodies and "minister" in bundled.person_nouns


def test_a_domain_word_must_be_one_lower_case_word(tmp_path: Path) -> None:
    broken = LEXICON + DOMAIN.replace("[japan, netherlands]", "[japan, The Netherlands]")
    (problem,) = problems_of(_base_with_lexicon(tmp_path, broken))
    assert problem == (
        "knowledge/lexicon.yaml:19: entry 'lexicon': field 'domain.countries.1': "
        "“The Netherlands” must be one lower-case word, as questions are read"
    )


def test_a_role_listed_twice_is_refused(tmp_path: Path) -> None:
    broken = LEXICON + DOMAIN.replace("[minister, chief, head]", "[minister, chief, minister]")
    (problem,) = problems_of(_base_with_lexicon(tmp_path, broken))
    assert (
        problem == "knowledge/lexicon.yaml:20: entry 'lexicon': field 'domain.roles': lists “minister” twice"
    )


def test_a_word_in_two_groups_of_the_same_role_is_refused(tmp_path: Path) -> None:
    broken = LEXICON + DOMAIN.replace(
        "      - [head, chief]\n", "      - [head, chief]\n      - [boss, chief]\n"
    )
    (problem,) = problems_of(_base_with_lexicon(tmp_path, broken))
    assert problem == (
        "knowledge/lexicon.yaml:21: entry 'lexicon': field 'domain.same_roles': "
        "“chief” is in two groups, or twice in one"
    )
