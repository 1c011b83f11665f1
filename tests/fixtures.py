"""Shared, importable test fixtures (explicit imports rather than conftest magic)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from bot.conversation import ThreadKey
from bot.dispatch import Bot
from bot.knowledge.base import KnowledgeBase, default_knowledge_dir
from bot.knowledge.loading import load_knowledge
from bot.qa.answer import Answer
from bot.qa.engine import Engine
from bot.store.recent import RecentTurns


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


def converse(engine: Engine, *messages: str) -> Answer:
    """Each message in one thread of its own, as batch mode asks them; the last one's answer."""
    memory, key = RecentTurns(), ThreadKey("test", "channel", "thread")
    answers = [engine.ask_in_thread(message, memory, key) for message in messages]
    return answers[-1]
