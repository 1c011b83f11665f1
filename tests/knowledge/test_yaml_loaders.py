"""The bundled knowledge reads the same with or without libyaml.

The loader prefers libyaml's CSafeLoader and falls back to PyYAML's pure-Python SafeLoader
where libyaml is missing. The two disagree on some plain scalars ("and?" inside a flow
list is a value to libyaml and a syntax error to the pure-Python parser), so a file
that only one of them reads would break the bot on some installs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="libyaml missing: only one loader to compare")
@pytest.mark.parametrize(
    "path", sorted([*KNOWLEDGE.glob("*.yaml"), *KNOWLEDGE.glob("eval/*.yaml")]), ids=lambda p: p.name
)
def test_a_bundled_file_reads_the_same_with_both_loaders(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert yaml.load(text, Loader=yaml.SafeLoader) == yaml.load(text, Loader=yaml.CSafeLoader)
