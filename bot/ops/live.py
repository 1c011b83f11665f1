"""The knowledge base a running bot serves, replaced whole when curators change it.

``LiveKnowledge`` holds one ``Edition`` (a validated base and the engine built on it).
``reload()`` loads and validates the directory again and builds the new engine on a worker
thread, off the event loop (``bot.ops.prepared``: from its cache when the files are ones it has
prepared before), then swaps the edition with a single reference assignment:
every question reads ``current`` once and so sees one whole base, and a question already
being answered finishes on the edition it started with. A base that fails validation is
never swapped in: the old one keeps serving and the result records every problem (file,
line, entry, field) for the log, ``/healthz`` and the admins.

``watch()`` polls the directory's ``*.yaml`` files (name, size, modification time) and
reloads when they change; polling needs no new dependency and a few seconds of delay is
nothing for curated notes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.errors import KnowledgeError, Problem
from bot.knowledge.base import KnowledgeBase
from bot.ops.prepared import prepare
from bot.qa.engine import DEFAULT_THRESHOLD, Engine

__all__ = ["Edition", "LiveKnowledge", "ReloadResult", "kb_version"]

_log = logging.getLogger(__name__)

# A change must hold still this long before it is loaded: editors and `git pull` write
# several files, or one file in several steps.
SETTLE_SECONDS = 0.5


def kb_version(kb: KnowledgeBase) -> str:
    """A short fingerprint of the base's content: equal bases, equal versions."""
    digest = hashlib.sha256()
    for entry in sorted(kb.entries, key=lambda e: e.id):
        digest.update(f"{entry.id}:{entry.content_hash}\n".encode())
    for doc_id in sorted(kb.documents):
        digest.update(f"doc:{doc_id}:{kb.documents[doc_id]!r}\n".encode())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Edition:
    """One whole, validated knowledge base and the engine that answers from it."""

    kb: KnowledgeBase
    engine: Engine
    version: str
    loaded_at: datetime


@dataclass(frozen=True)
class ReloadResult:
    """What one reload did. ``problems`` is empty when it succeeded."""

    ok: bool
    trigger: str  # "signal", "file change", "command", ...
    at: datetime
    version: str  # the version serving afterwards
    changed: bool  # a new edition was swapped in
    problems: tuple[Problem, ...] = ()
    entries: int = 0

    def summary(self) -> str:
        if self.ok:
            verb = "now serving" if self.changed else "unchanged,"
            size = f"{self.entries} entries"
            return f"knowledge reload ({self.trigger}): ok, {verb} version {self.version} ({size})"
        head = f"knowledge reload ({self.trigger}) failed; still serving version {self.version}"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


Listener = Callable[[ReloadResult], None]
_Snapshot = frozenset[tuple[str, int, int]]


class LiveKnowledge:
    """The current ``Edition``, and the only place that replaces it."""

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        directory: Path | None = None,
        engine: Engine | None = None,
    ) -> None:
        """``engine``, when given, is one already built on ``kb`` (at any threshold)."""
        self.directory = directory if directory is not None else kb.directory
        self.threshold = threshold
        if engine is not None and engine.kb is kb:
            self._edition = self._edition_of(engine.with_threshold(threshold))
        else:
            self._edition = self._build(kb)
        self._lock = asyncio.Lock()
        self._listeners: list[Listener] = []
        self.last_reload: ReloadResult | None = None
        self.reloads = 0

    @classmethod
    def load(
        cls, directory: Path | str | None = None, *, threshold: float = DEFAULT_THRESHOLD
    ) -> LiveKnowledge:
        """The first edition; a broken base raises KnowledgeError (start-up fails fast)."""
        engine = prepare(directory, threshold=threshold)
        return cls(engine.kb, threshold=threshold, engine=engine)

    def _build(self, kb: KnowledgeBase) -> Edition:
        return self._edition_of(Engine(kb, self.threshold))

    @staticmethod
    def _edition_of(engine: Engine, version: str | None = None) -> Edition:
        return Edition(engine.kb, engine, version or kb_version(engine.kb), datetime.now(UTC))

    # -- reading: each is one reference read ---------------------------------------------

    @property
    def current(self) -> Edition:
        return self._edition

    def engine(self) -> Engine:
        return self._edition.engine

    def kb(self) -> KnowledgeBase:
        return self._edition.kb

    def on_reload(self, listener: Listener) -> None:
        """Call ``listener`` with every reload's result (on the event loop)."""
        self._listeners.append(listener)

    # -- replacing ---------------------------------------------------------------------------

    async def reload(self, trigger: str) -> ReloadResult:
        """Load, validate and swap in the directory's base; keep the old one if it is broken."""
        async with self._lock:  # one reload at a time; a second trigger waits and reloads again
            try:
                engine = await asyncio.to_thread(prepare, self.directory, threshold=self.threshold)
                kb = engine.kb
                version = kb_version(kb)
                if version == self._edition.version:
                    changed = False
                else:
                    self._edition = self._edition_of(engine, version)  # the swap: one assignment
                    changed = True
                result = ReloadResult(True, trigger, _now(), version, changed, entries=len(kb))
            except KnowledgeError as exc:
                result = self._failed(trigger, list(exc.problems))
            except Exception as exc:  # a bug in loading must not take the serving base down
                _log.exception("knowledge reload (%s) raised", trigger)
                problem = Problem(str(self.directory), None, None, None, f"{type(exc).__name__}: {exc}")
                result = self._failed(trigger, [problem])
            self.last_reload = result
            self.reloads += 1
        if result.ok:
            _log.info(
                result.summary(), extra={"event": "reload", "outcome": "ok", "kb_version": result.version}
            )
        else:
            _log.error(
                result.summary(), extra={"event": "reload", "outcome": "failed", "kb_version": result.version}
            )
        for listener in self._listeners:
            try:
                listener(result)
            except Exception:  # a listener (metrics, notifying admins) must not break reloads
                _log.exception("a reload listener failed")
        return result

    def _failed(self, trigger: str, problems: list[Problem]) -> ReloadResult:
        edition = self._edition
        return ReloadResult(False, trigger, _now(), edition.version, False, tuple(problems), len(edition.kb))

    # -- noticing changes -------------------------------------------------------------------

    def snapshot(self) -> _Snapshot:
        """Name, size and modification time of every ``*.yaml`` file in the directory."""
        found = set()
        try:
            for path in self.directory.glob("*.yaml"):
                try:
                    stat = path.stat()
                except OSError:
                    continue  # removed between listing and stat: the next poll sees it
                found.add((path.name, stat.st_size, stat.st_mtime_ns))
        except OSError:
            pass  # the directory itself is gone; a reload will say so
        return frozenset(found)

    async def watch(self, interval: float, stop: asyncio.Event) -> None:
        """Reload whenever the files change, until ``stop`` is set."""
        seen = await asyncio.to_thread(self.snapshot)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), interval)
                return
            except TimeoutError:
                pass
            now = await asyncio.to_thread(self.snapshot)
            if now == seen:
                continue
            while True:  # wait for the edit to finish
                await asyncio.sleep(SETTLE_SECONDS)
                settled = await asyncio.to_thread(self.snapshot)
                if settled == now:
                    break
                now = settled
            seen = now
            await self.reload("file change")


def _now() -> datetime:
    return datetime.now(UTC)
