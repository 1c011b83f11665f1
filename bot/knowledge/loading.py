"""``load_knowledge``: a directory of curator YAML in, a validated ``KnowledgeBase`` out.

The values (``bot.knowledge.base``) import neither pydantic nor PyYAML; the schema that
validates the YAML (``bot.knowledge.schema``) imports both. This module stands between
them and reaches the schema only when it is called, so a process answering from a
prepared base (``bot.ops.prepared``) never pays for either.
"""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.base import KnowledgeBase, default_knowledge_dir

__all__ = ["load_knowledge"]


def load_knowledge(directory: Path | str | None = None) -> KnowledgeBase:
    """Load every ``*.yaml`` file in ``directory``; raise KnowledgeError listing all problems."""
    from bot.knowledge.schema import validate_directory  # pydantic and PyYAML: only when validating

    return validate_directory(Path(directory) if directory is not None else default_knowledge_dir())
