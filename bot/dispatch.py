"""The one dispatch every adapter shares: a neutral Request in, a neutral Reply out.

Adapters translate their platform's event into a ``Request`` and the ``Reply`` back into
their platform's message; all behaviour lives here. ``Bot.dispatch`` never raises for
anything a user can type.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from bot.commands import (
    COMMAND_HELP,
    Ask,
    DefineCmd,
    DigestCmd,
    HelpCmd,
    Timeline,
    Topics,
    Usage,
    WhoCmd,
    parse_command,
)
from bot.errors import StoreError
from bot.knowledge.base import TOPICS
from bot.messages import DigestHandler, FeedbackSink, Reply, Request, Suggestion
from bot.qa.answer import Answer
from bot.qa.engine import Engine
from bot.qa.intents import Define, WhoIs
from bot.text import quote_user_text

__all__ = ["Bot", "reply_from_answer"]

_log = logging.getLogger(__name__)


def reply_from_answer(answer: Answer, question: str) -> Reply:
    """The reply that carries an engine answer to a question."""
    return Reply(
        text=answer.text,
        title=answer.title,
        source_line=answer.source_line(),
        suggestions=answer.suggestions,
        ephemeral=False,
        kind="abstain" if answer.abstained else "answer",
        entry_ids=answer.entry_ids,
        question=question,
        feedback=not answer.abstained and answer.intent not in ("help", "empty"),
        confidence=answer.confidence,
    )


class Bot:
    """Routes requests to the engine and to command handlers."""

    def __init__(
        self,
        engine: Engine | Callable[[], Engine],
        store: FeedbackSink | None = None,
        digest_handler: DigestHandler | None = None,
    ) -> None:
        # A provider (bot.ops.live.LiveKnowledge.engine) lets the knowledge base be replaced
        # while the bot runs; each request reads it once, so it never mixes two bases.
        self._engine = engine
        self.store = store
        self.digest_handler = digest_handler

    @property
    def engine(self) -> Engine:
        """The engine serving now."""
        return self._engine if isinstance(self._engine, Engine) else self._engine()

    def feedback(self, request: Request, entry_ids: tuple[str, ...], question: str, helpful: bool) -> Reply:
        """Record a helpful / not-helpful click; the reply is shown only to the clicker."""
        if self.store is not None:
            self.store.record_feedback(
                platform=request.platform,
                workspace=request.workspace,
                channel=request.channel,
                user=request.user,
                question=question[:500],
                entry_ids=entry_ids,
                helpful=helpful,
            )
        thanks = "Thanks, glad it helped." if helpful else "Thanks, noted: a curator will look at it."
        return Reply(thanks, ephemeral=True, kind="info")

    def dispatch(self, request: Request) -> Reply:
        command = parse_command(request.text) if request.is_command else Ask(request.text)
        engine = self.engine
        if isinstance(command, Ask):
            return self._ask(engine, request, command.question)
        if isinstance(command, Usage):
            return Reply(command.message, ephemeral=True, kind="usage")
        if isinstance(command, HelpCmd):
            return Reply(COMMAND_HELP, title="briefbot help", ephemeral=True, kind="help")
        if isinstance(command, Topics):
            return self._topics(engine)
        if isinstance(command, Timeline):
            answer = engine.timeline(command.query)
            reply = reply_from_answer(answer, request.text)
            return replace(reply, feedback=False)
        if isinstance(command, WhoCmd):
            return self._lookup(engine, request, WhoIs(command.name))
        if isinstance(command, DefineCmd):
            return self._lookup(engine, request, Define(command.term))
        if isinstance(command, DigestCmd):
            if self.digest_handler is None:
                return Reply("Digests aren't enabled on this bot.", ephemeral=True, kind="info")
            return self.digest_handler(request, command.args)
        raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover

    def answer_entry(self, entry_id: str, question: str = "") -> Reply:
        """The reply for a clicked suggestion button."""
        answer = self.engine.answer_entry(entry_id)
        if answer is None:
            return Reply("That item is no longer in my notes.", ephemeral=True, kind="info")
        return reply_from_answer(answer, question or answer.title or entry_id)

    def _ask(self, engine: Engine, request: Request, question: str) -> Reply:
        answer = engine.ask(question)
        if answer.abstained and answer.intent != "empty" and self.store is not None:
            try:
                self.store.record_unanswered(
                    platform=request.platform,
                    workspace=request.workspace,
                    channel=request.channel,
                    question=question[:500],
                    confidence=answer.confidence,
                )
            except StoreError:
                # The curators' to-do list is not worth the user's answer: a locked or
                # read-only database loses this one record, logged, and the user still
                # hears that it is not in the notes.
                _log.exception("could not record an unanswered question")
        return reply_from_answer(answer, question)

    def _lookup(self, engine: Engine, request: Request, intent: WhoIs | Define) -> Reply:
        answer = engine.ask(
            f"who is {intent.name}" if isinstance(intent, WhoIs) else f"what is {intent.term}"
        )
        kind = "person" if isinstance(intent, WhoIs) else "term"
        wanted = intent.name if isinstance(intent, WhoIs) else intent.term
        if answer.abstained or not any(engine.kb.by_id[e].kind == kind for e in answer.entry_ids):
            close = engine.suggest(wanted, kinds=(kind,), limit=5)
            names = ", ".join(e.title for e in close) or "none"
            what = "no one called" if kind == "person" else "no term"
            return Reply(
                f"I have {what} “{quote_user_text(wanted)}” in my notes. Closest: {names}.",
                ephemeral=True,
                kind="abstain",
                suggestions=tuple(Suggestion(e.id, e.title, e.questions[0]) for e in close[:3]),
            )
        return reply_from_answer(answer, request.text)

    def _topics(self, engine: Engine) -> Reply:
        counts = engine.kb.count_by("topics")
        lines = [f"• {topic} ({counts.get(topic, 0)})" for topic in TOPICS if counts.get(topic)]
        text = "Topics I can brief on (entries):\n" + "\n".join(lines)
        text += "\nTry `/nato timeline maritime` or just ask a question."
        return Reply(text, title="Topics", ephemeral=True, kind="info")
