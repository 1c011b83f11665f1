"""Each knowledge file is parsed once; YAML merge keys still load and still report lines."""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.loading import load_knowledge
from tests.knowledge.test_loading import GOOD_ENTRY, make_base, problems_of

# Titles are unique across a base, so the second entry needs its own.
SECOND = GOOD_ENTRY.replace("japan-cyber-centre-2022", "japan-cyber-centre-again").replace(
    "title: Japan joins NATO's cyber centre in Estonia", "title: Japan joins NATO's cyber centre again"
)


def _sharing_the_source(first: str, second: str) -> str:
    """The two entries, the second taking its source block from the first through ``<<``."""
    anchored = first.replace("    source:\n", "    source: &cyber-source\n")
    merged = second.replace(
        "      doc: nato-japan-2023\n      paragraphs: [12]\n", "      <<: *cyber-source\n"
    )
    return "entries:\n" + anchored + merged


def test_a_file_with_merge_keys_loads_like_the_spelled_out_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    spelled = load_knowledge(make_base(tmp_path / "a", "entries:\n" + GOOD_ENTRY + SECOND))
    merged = load_knowledge(make_base(tmp_path / "b", _sharing_the_source(GOOD_ENTRY, SECOND)))
    assert "<<: *cyber-source" in (tmp_path / "b" / "knowledge" / "entries.yaml").read_text()
    assert [e.to_json() for e in merged.entries] == [e.to_json() for e in spelled.entries]


def test_a_problem_in_a_file_with_merge_keys_names_its_line(tmp_path: Path) -> None:
    body = _sharing_the_source(GOOD_ENTRY, SECOND.replace("kind: milestone", "kind: rumour"))
    (problem,) = problems_of(make_base(tmp_path, body))
    assert problem.startswith("knowledge/entries.yaml:18:"), problem
    assert "japan-cyber-centre-again" in problem and "kind" in problem
