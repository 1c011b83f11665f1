"""Importable fixtures for the digest tests: small knowledge bases, a clock, posters."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bot.digests.poster import ChannelRef, PostError
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.loading import load_knowledge
from bot.messages import Reply
from tests.fixtures import bundled_kb, bundled_topic_words

REPO = Path(__file__).resolve().parents[2]


def entry(
    entry_id: str,
    *,
    kind: str = "milestone",
    title: str | None = None,
    date: str | None = None,
    topics: Sequence[str] = ("diplomacy",),
    planned: bool = False,
    paragraph: int = 3,
    answer: str | None = None,
) -> dict[str, object]:
    """One valid entry; a planned one says 'as of July 2023' as the schema demands."""
    words = entry_id.replace("-", " ")
    text = answer or (
        f"As of July 2023 this was only planned: {words}." if planned else f"The notes record that {words}."
    )
    data: dict[str, object] = {
        "id": entry_id,
        "kind": kind,
        "title": title or words.capitalize(),
        "answer": text + " It is a test entry.",
        "questions": [f"what about {words}", f"tell me of {words}", f"{words} details"],
        "topics": list(topics),
        "source": {"doc": "nato-japan-2023", "paragraphs": [paragraph], "evidence": f"evidence for {words}"},
        "as_of": "2023-07",
    }
    if date is not None:
        data["date"] = date
    if planned:
        data["status"] = "planned"
    return data


MILESTONES: tuple[dict[str, object], ...] = (
    entry("first-dialogue-1990", date="1990-06", title="First NATO–Japan security dialogue"),
    entry("joint-declaration-2007", date="2007-07-01", title="Joint political declaration signed"),
    entry(
        "ipcp-2014",
        date="2014-05",
        title="Individual Partnership and Cooperation Programme",
        topics=["institutions"],
    ),
    entry("ccdcoe-2022", date="2022", title="Japan joins the NATO cyber centre", topics=["cyber"]),
    entry(
        "madrid-summit-2022", date="2022-06-29", title="Kishida attends the Madrid summit", topics=["summits"]
    ),
    entry(
        "gulf-of-aden-2014", date="2014-09", title="First joint counter-piracy exercise", topics=["maritime"]
    ),
    entry(
        "vilnius-itpp-2023",
        date="2023-07-12",
        title="ITPP to be agreed at Vilnius (planned)",
        topics=["summits", "diplomacy"],
        planned=True,
    ),
    entry("fact-maritime-interest", kind="fact", title="Sea lanes matter to both", topics=["maritime"]),
)


def make_kb_dir(tmp_path: Path, entries: Iterable[dict[str, object]] = MILESTONES, name: str = "kb") -> Path:
    """A knowledge directory holding the real sources.yaml, the real lexicon's words for
    topics (a digest reads "naval" as maritime) and domain words, and ``entries``."""
    root = tmp_path / name
    root.mkdir(exist_ok=True)
    shutil.copy(REPO / "knowledge" / "sources.yaml", root / "sources.yaml")
    topic_words: dict[str, list[str]] = {}
    for word, topic in bundled_topic_words().items():
        topic_words.setdefault(topic, []).append(word)
    domain = {
        name: list(map(list, v)) if name == "same_roles" else list(v)
        for name, v in asdict(bundled_kb().lexicon.domain).items()
    }
    lexicon = {"lexicon": {"topic_words": topic_words, "domain": domain}}
    (root / "lexicon.yaml").write_text(yaml.safe_dump(lexicon, sort_keys=False), encoding="utf-8")
    body = yaml.safe_dump({"entries": list(entries)}, allow_unicode=True, sort_keys=False)
    (root / "entries.yaml").write_text(body, encoding="utf-8")
    return root


def make_kb(
    tmp_path: Path, entries: Iterable[dict[str, object]] = MILESTONES, name: str = "kb"
) -> KnowledgeBase:
    return load_knowledge(make_kb_dir(tmp_path, entries, name))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


class FakeClock:
    """Time that moves only when told, or when the code under test sleeps."""

    def __init__(self, start: datetime) -> None:
        self.current = start
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)
        await asyncio.sleep(0)  # yield, as a real sleep would


@dataclass(frozen=True)
class Posted:
    channel: ChannelRef
    reply: Reply
    at: datetime


@dataclass
class RecordingPoster:
    """Records what it posts; ``failures`` are raised, in order, before posting succeeds."""

    clock: FakeClock
    platform: str = "slack"
    message_limit: int = 3000  # the Slack poster's
    failures: list[BaseException] = field(default_factory=list)
    posted: list[Posted] = field(default_factory=list)
    calls: int = 0

    async def post(self, channel: ChannelRef, reply: Reply) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.posted.append(Posted(channel, reply, self.clock.now()))


def rate_limited(seconds: float) -> PostError:
    return PostError("ratelimited", retry_after=seconds)


def channel_gone() -> PostError:
    return PostError("channel_not_found", permanent=True)
