"""A ``Bot`` that logs and counts every request it answers, for operators.

Each request gets a question id, and one log line (``event=question``) with the platform,
a salted hash of the user id (never the id), the entry ids, the engine's confidence, the
latency and the outcome: ``answered``, ``abstained`` or ``error``. The question's text is
not logged: ``briefbot kb unanswered`` keeps what curators need, and a log is no place for
what people ask.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from bot.conversation import DEFAULT_CONTEXT_TTL
from bot.dispatch import Bot
from bot.messages import DigestHandler, FeedbackSink, Reply, Request
from bot.qa.engine import Engine

__all__ = ["ObservedBot"]

_log = logging.getLogger(__name__)

UserHasher = Callable[[Request], str]
QuestionListener = Callable[[str, str, float], None]  # platform, outcome, seconds


class ObservedBot(Bot):
    def __init__(
        self,
        engine: Engine | Callable[[], Engine],
        store: FeedbackSink | None = None,
        digest_handler: DigestHandler | None = None,
        *,
        user_hash: UserHasher,
        on_question: QuestionListener | None = None,
        context_ttl: timedelta = DEFAULT_CONTEXT_TTL,
    ) -> None:
        super().__init__(engine, store, digest_handler, context_ttl=context_ttl)
        self._user_hash = user_hash
        self._on_question = on_question

    def dispatch(self, request: Request) -> Reply:
        question_id = uuid.uuid4().hex[:12]
        started = time.perf_counter()
        try:
            reply = super().dispatch(request)
        except Exception:
            self._record(question_id, request, None, time.perf_counter() - started)
            raise
        self._record(question_id, request, reply, time.perf_counter() - started)
        return reply

    def _record(self, question_id: str, request: Request, reply: Reply | None, seconds: float) -> None:
        outcome = "error" if reply is None else "abstained" if reply.kind == "abstain" else "answered"
        try:
            user = self._user_hash(request)
        except Exception:  # the hash needs the store; a broken store must not hide the answer
            user = "unknown"
        fields = {
            "event": "question",
            "question_id": question_id,
            "platform": request.platform,
            "user_hash": user,
            "kind": "-" if reply is None else reply.kind,
            "entry_ids": () if reply is None else reply.entry_ids[:5],
            "confidence": None if reply is None or reply.confidence is None else round(reply.confidence, 3),
            "latency_ms": round(seconds * 1000, 1),
            "outcome": outcome,
        }
        level = logging.ERROR if reply is None else logging.INFO
        _log.log(level, "question %s", outcome, extra=fields)
        if self._on_question is not None:
            self._on_question(request.platform, outcome, seconds)
