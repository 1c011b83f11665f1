"""Dev sets: questions with what a right answer must say, or that it must be declined;
and conversation sets, whose last turn is such a question asked after the earlier turns.

Read by the evaluation (``bot.qa.evaluation``) and by the judge's training
(``bot.qa.training``), which is why they sit apart from both: training must not import the
evaluation, which imports the engine, which trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.knowledge.base import default_knowledge_dir, dev_set_of

__all__ = ["Conversation", "EvalCase", "default_dev_set", "load_conversations", "load_dev_set"]


@dataclass(frozen=True)
class EvalCase:
    question: str
    kind: str  # factual, who, define, ... or "out-of-scope"
    expect: tuple[tuple[str, ...], ...]  # every group must match; any member of a group will do
    in_scope: bool


@dataclass(frozen=True)
class Conversation:
    """Turns asked in one thread; the last is the case scored."""

    id: str
    earlier: tuple[str, ...]
    case: EvalCase


def default_dev_set() -> Path:
    """The dev set beside the knowledge base (``knowledge/eval/dev.yaml``): it ships with the
    base, since the judge is fitted on it too (``bot.qa.training``)."""
    return dev_set_of(default_knowledge_dir())


def load_dev_set(path: Path | str) -> list[EvalCase]:
    data = _load_yaml(path)
    cases = []
    for item in data.get("in_scope", []):
        groups = tuple(
            tuple(str(x) for x in (e if isinstance(e, list) else [e])) for e in item.get("expect", [])
        )
        cases.append(EvalCase(str(item["q"]), str(item.get("kind", "factual")), groups, True))
    for item in data.get("out_of_scope", []):
        cases.append(EvalCase(str(item["q"]), "out-of-scope", (), False))
    return cases


def load_conversations(path: Path | str) -> list[Conversation]:
    """A conversation set: ``conversations:``, each with ``id``, ``turns`` (two or more),
    ``kind``, and ``expect`` or ``declined: true`` for its last turn."""
    data = _load_yaml(path)
    conversations = []
    for item in data.get("conversations", []):
        turns = tuple(str(t) for t in item["turns"])
        if len(turns) < 2:
            raise ValueError(f"conversation {item.get('id')!r} has fewer than two turns")
        declined = bool(item.get("declined", False))
        groups = tuple(
            tuple(str(x) for x in (e if isinstance(e, list) else [e])) for e in item.get("expect") or []
        )
        kind = "out-of-scope" if declined else str(item.get("kind", "factual"))
        case = EvalCase(turns[-1], kind, groups, not declined)
        conversations.append(Conversation(str(item["id"]), turns[:-1], case))
    return conversations


def _load_yaml(path: Path | str) -> dict[str, Any]:
    """A YAML mapping, read with libyaml's safe loader when PyYAML has it: training reads
    the dev set on every cache-miss start, and the pure-Python loader took ~0.3 s of it."""
    import yaml  # read when a dev set is: training or `briefbot eval`

    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: dict[str, Any] = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader)
    return data
