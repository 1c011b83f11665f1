"""Shared, importable test fixtures (explicit imports rather than conftest magic)."""

from __future__ import annotations

from functools import cache

from bot.dispatch import Bot
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.loading import load_knowledge
from bot.qa.engine import Engine


@cache
def bundled_kb() -> KnowledgeBase:
    return load_knowledge()


@cache
def bundled_engine() -> Engine:
    return Engine(bundled_kb())


def bundled_bot() -> Bot:
    return Bot(bundled_engine())
