"""Shared, importable test fixtures (explicit imports rather than conftest magic)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from bot.dispatch import Bot
from bot.knowledge.base import KnowledgeBase, default_knowledge_dir
from bot.knowledge.loading import load_knowledge
from bot.qa.engine import Engine


@cache
def bundled_kb() -> KnowledgeBase:
    return load_knowledge()


def bundled_topic_words() -> Mapping[str, str]:
    """The bundled lexicon's words for topics, which the grammar reads beside the notes' end."""
    return bundled_kb().lexicon.topic_words


@cache
def bundled_engine() -> Engine:
    return Engine(bundled_kb())


def bundled_bot() -> Bot:
    return Bot(bundled_engine())


def knowledge_as_of(tmp_path: Path, as_of: str) -> KnowledgeBase:
    """The bundled base as a curator would leave it after saying, in ``sources.yaml`` only,
    that the source holds at ``as_of`` (e.g. "2024-03"); the entries are untouched."""
    root = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), root)
    sources = root / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    assert text.count("as_of: 2023-07") == 1, "the bundled sources changed: update this fixture"
    sources.write_text(text.replace("as_of: 2023-07", f"as_of: {as_of}"), encoding="utf-8")
    return load_knowledge(root)
