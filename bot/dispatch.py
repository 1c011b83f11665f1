"""The one dispatch every adapter shares: a neutral Request in, a neutral Reply out.

Adapters translate their platform's event into a ``Request`` and the ``Reply`` back into
their platform's message; all behaviour lives here. ``Bot.dispatch`` never raises for
anything a user can type.

A request with a ``thread`` is part of a conversation: its question is read against the
thread's recent turns (a follow-up such as "and when was that?" is resolved from them,
``bot.qa.followup``), and what it is answered with becomes the thread's newest turn. The
turns live in a ``ThreadMemory``: the store when the bot has one (so a restart, or another
replica, reads the same thread), else memory. A request without a thread is answered
exactly as before, and so is any message that is not a follow-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import assert_never

from bot.auto_answer import confident, looks_like_question
from bot.channel_settings import change_settings, elsewhere
from bot.conversation import DEFAULT_CONTEXT_TTL, ThreadKey, ThreadMemory, Turn
from bot.errors import StoreError
from bot.grammar.commands import command_help, parse_command
from bot.grammar.intents import (
    AfterNotes,
    Ask,
    Compare,
    Define,
    Digest,
    Help,
    Intent,
    Settings,
    Timeline,
    Topics,
    Usage,
    Who,
)
from bot.knowledge.base import TOPICS
from bot.messages import DigestHandler, FeedbackSink, Reply, Request, Suggestion
from bot.qa.answer import Answer
from bot.qa.engine import CONTEXT_TURNS, SUGGESTION_FLOOR, Engine
from bot.store.protocol import ChannelSettingsStore
from bot.store.recent import RecentTurns
from bot.store.values import AnswerChannels, ChannelSettings
from bot.text import quote_user_text
from bot.votes import REASONS, VOTE_RECORDED, clean_note

__all__ = ["NOT_A_REASON", "NO_VOTE_FOR_REASON", "Bot", "reply_from_answer"]

_log = logging.getLogger(__name__)


# Replies that abstain but leave nothing for a curator to add: an empty message, a
# pleasantry, what the notes say of a plan's outcome or of a false premise, and an empty
# timeline, which answers with the years the notes cover ("what did japan do after July
# 2023?" is told they stop then: a fact about the notes, not a gap in them).
NOT_UNANSWERED = frozenset({"empty", "smalltalk", "after-notes", "false-premise", "help", "timeline"})

NOT_A_REASON = "That is not one of the reasons offered."
NO_VOTE_FOR_REASON = "I have no 👎 of yours on that answer waiting for a reason, so it was not kept."


def intent_word(kind: str) -> str:
    """The `/nato` subcommand that looks up an entry of ``kind``."""
    return "who" if kind == "person" else "define"


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
        *,
        threads: ThreadMemory | None = None,
        context_ttl: timedelta = DEFAULT_CONTEXT_TTL,
    ) -> None:
        # A provider (bot.ops.live.LiveKnowledge.engine) lets the knowledge base be replaced
        # while the bot runs; each request reads it once, so it never mixes two bases.
        self._engine = engine
        self.store = store
        self.digest_handler = digest_handler
        # Conversations: in the store when it keeps them, so they survive a restart.
        if threads is None:
            threads = store if isinstance(store, ThreadMemory) else RecentTurns()
        self.threads = threads
        self.context_ttl = context_ttl

    @property
    def engine(self) -> Engine:
        """The engine serving now."""
        return self._engine if isinstance(self._engine, Engine) else self._engine()

    def channel_settings(self, platform: str, channel: str) -> ChannelSettings:
        """The channel's settings; the defaults (private answers) without a store that keeps them."""
        store = self.store
        if isinstance(store, ChannelSettingsStore):
            return store.channel_settings(platform, channel)
        return ChannelSettings()

    def answer_channels(self, request: Request) -> AnswerChannels:
        """The channels of the request's workspace the bot answers in. Every channel without
        a store that keeps the list, and, logged, when the store cannot say: the list keeps
        a workspace's channels quiet, and a failing database should not also silence them."""
        store = self.store
        if not isinstance(store, ChannelSettingsStore) or request.direct or not request.workspace:
            return AnswerChannels()
        try:
            return store.answer_channels(request.platform, request.workspace)
        except StoreError:
            _log.exception("could not read the channels this workspace allows; answering")
            return AnswerChannels()

    def auto_answer(self, request: Request) -> Reply | None:
        """A message posted in a channel without a mention: its reply when the channel's
        managers turned auto-answer on, the channel is on the workspace's allow-list, the
        message reads as a question and the notes answer it with confidence; None (stay
        silent) otherwise. Nothing else is recorded: a declined chatter message is not a
        question anyone asked, so it never reaches the curators' queue."""
        if request.direct or not request.workspace or not looks_like_question(request.text):
            return None
        store = self.store
        if not isinstance(store, ChannelSettingsStore):
            return None
        try:
            if not store.channel_settings(request.platform, request.channel).auto_answer:
                return None
        except StoreError:
            _log.exception("could not read the channel's settings; not auto-answering")
            return None
        if self.outside(request) is not None:
            return None
        engine = self.engine
        answer = engine.ask(request.text)  # a new question: no thread's context
        reply = reply_from_answer(answer, request.text)
        if not confident(reply):
            return None
        self._remember(engine, request, answer)  # so the thread it starts can follow up
        return reply

    def outside(self, request: Request) -> Reply | None:
        """The polite private line for a request in a channel the workspace's allow-list
        leaves out (None where the bot answers). Direct messages are never left out."""
        if request.direct:
            return None
        allowed = self.answer_channels(request)
        return None if allowed.admits(request.channel) else elsewhere(allowed)

    def feedback(self, request: Request, entry_ids: tuple[str, ...], question: str, helpful: bool) -> Reply:
        """Record a helpful / not-helpful click; the reply is shown only to the clicker."""
        if self.store is not None:
            # No try: with nothing saved there is nothing to thank for, so a store failure
            # reaches the adapter, which logs it (the StoreError says why) and apologises.
            self.store.record_feedback(
                platform=request.platform,
                workspace=request.workspace,
                channel=request.channel,
                user=request.user,
                question=question[:500],
                entry_ids=entry_ids,
                helpful=helpful,
            )
        return Reply(VOTE_RECORDED[helpful], ephemeral=True, kind="info")

    def feedback_reason(
        self, request: Request, entry_ids: tuple[str, ...], reason: str, note: str = ""
    ) -> Reply:
        """What the user's 👎 on the answer with ``entry_ids`` said was wrong: one of
        ``bot.votes.REASONS`` and an optional note, kept on that vote for the curators'
        queue. The reply is for the voter alone; it never repeats the note.

        The log line says a reason was given, which, and whether it was kept, but neither
        the note nor the question: a note is free text that may hold anything (names, an
        address, what the user thinks of a colleague), and logs travel further and live
        longer than the database the curators read (the question is not logged for the same
        reason, ``bot.ops.observed``).
        """
        if reason not in REASONS:
            return _notice(NOT_A_REASON)
        note = clean_note(note)
        kept = False
        if self.store is not None:
            # No try, as for the vote: a store failure reaches the adapter's apology.
            kept = self.store.record_feedback_reason(
                platform=request.platform,
                workspace=request.workspace,
                channel=request.channel,
                user=request.user,
                entry_ids=entry_ids,
                reason=reason,
                note=note,
            )
        _log.info(
            "not helpful, because: %s",
            reason,
            extra={
                "event": "feedback_reason",
                "platform": request.platform,
                "reason": reason,
                "with_note": bool(note),
                "entry_ids": entry_ids,
                "channel": request.channel,
                "kept": kept,
            },
        )
        if self.store is not None and not kept:
            return _notice(NO_VOTE_FOR_REASON)
        label = REASONS[reason]  # "Not what I asked": only its first letter is lowered
        return _notice(f"Thanks — noted: {label[:1].lower()}{label[1:]}.")

    def read(self, request: Request) -> Request:
        """``request`` with its intent read, for an adapter that must know it before
        dispatching (is the reply private, must the user be a manager); dispatch then uses
        that reading instead of parsing the text again."""
        if request.intent is not None:
            return request
        return replace(request, intent=_intent_of(request, self.engine))

    def dispatch(self, request: Request) -> Reply:
        engine = self.engine
        intent = request.intent if request.intent is not None else _intent_of(request, engine)
        # `/nato settings` works even where the allow-list leaves the channel out: it is how
        # a manager undoes it.
        if not isinstance(intent, Settings) and (refusal := self.outside(request)) is not None:
            return refusal
        match intent:
            case Settings():
                store = self.store if isinstance(self.store, ChannelSettingsStore) else None
                return change_settings(store, request, intent, now=datetime.now(UTC))
            case Ask(question=question):
                return self._ask(engine, request, question)
            case Usage(message=message):
                return Reply(message, ephemeral=True, kind="usage")
            case Help(command=command):
                text = command_help(engine.kb.notes_end, command)
                return Reply(text, title="briefbot help", ephemeral=True, kind="help")
            case Topics():
                return self._topics(engine)
            case Timeline():
                answer = engine.answer(intent)
                self._remember(engine, request, replace(answer, asked=request.text))
                return replace(reply_from_answer(answer, request.text), feedback=False)
            case Who() | Define():
                return self._lookup(engine, request, intent)
            case Compare() | AfterNotes():
                answer = engine.answer(intent)
                self._remember(engine, request, replace(answer, asked=request.text))
                return reply_from_answer(answer, request.text)
            case Digest(args=args):
                if self.digest_handler is None:
                    return Reply("Digests aren't enabled on this bot.", ephemeral=True, kind="info")
                return self.digest_handler(request, args)
            case _:
                assert_never(intent)

    def answer_entry(self, entry_id: str, question: str = "", request: Request | None = None) -> Reply:
        """The reply for a clicked suggestion button. A click is a question asked where it
        was clicked (``request``), so outside the workspace's allow-list it gets the same
        private line as a slash command there; App Home's questions, asked in the user's
        direct messages, pass none."""
        if request is not None and (refusal := self.outside(request)) is not None:
            return refusal
        answer = self.engine.answer_entry(entry_id)
        if answer is None:
            return Reply("That item is no longer in my notes.", ephemeral=True, kind="info")
        return reply_from_answer(answer, question or answer.title or entry_id)

    def _ask(self, engine: Engine, request: Request, question: str) -> Reply:
        answer = engine.ask(question, self._context(request.thread_key))
        self._remember(engine, request, answer)
        # A follow-up is recorded as it was read ("who said it? → who said <the quote>"):
        # the words typed alone tell a curator nothing.
        asked = f"{question} → {answer.asked}" if answer.followup else question
        if answer.abstained and answer.intent not in NOT_UNANSWERED:
            self._record_unanswered(request, asked, answer.confidence)
        return reply_from_answer(answer, asked if answer.followup else question)

    def _context(self, key: ThreadKey | None) -> tuple[Turn, ...]:
        """The recent turns of the request's thread; none without a thread, or when
        conversations are kept for no time at all (``context_ttl`` 0)."""
        if key is None or self.context_ttl <= timedelta(0):
            return ()
        try:
            return self.threads.recent_turns(key, limit=CONTEXT_TURNS)
        except StoreError:
            # Without its context a follow-up may be declined; the question is still answered.
            _log.exception("could not read the conversation's recent turns")
            return ()

    def _remember(self, engine: Engine, request: Request, answer: Answer) -> None:
        """Make what ``answer`` gave the newest turn of the request's thread."""
        key = request.thread_key
        if key is None or self.context_ttl <= timedelta(0):
            return  # nothing to remember it in, or nothing to remember it for
        turn = engine.turn(answer)
        if turn is None:
            return
        try:
            self.threads.remember_turn(key, turn, self.context_ttl)
        except StoreError:
            # The answer stands; only a follow-up to it would go without context.
            _log.exception("could not remember the conversation's turn")

    def _record_unanswered(self, request: Request, question: str, confidence: float) -> None:
        """Put a question the notes could not answer on the curators' list (`briefbot curate`)."""
        if self.store is None:
            return
        try:
            self.store.record_unanswered(
                platform=request.platform,
                workspace=request.workspace,
                channel=request.channel,
                question=question[:500],
                confidence=confidence,
            )
        except StoreError:
            # The curators' to-do list is not worth the user's answer: a locked,
            # read-only or full database loses this one record, logged, and the user
            # still hears that it is not in the notes.
            _log.exception("could not record an unanswered question")

    def _lookup(self, engine: Engine, request: Request, intent: Who | Define) -> Reply:
        answer = engine.answer(intent)
        self._remember(engine, request, replace(answer, asked=request.text))
        kind = "person" if isinstance(intent, Who) else "term"
        wanted = intent.name if isinstance(intent, Who) else intent.term
        if answer.abstained or not any(engine.kb.by_id[e].kind == kind for e in answer.entry_ids):
            # Below the floor a "closest" entry is noise (who Macron -> Maria Zakharova).
            close = engine.suggest(wanted, kinds=(kind,), limit=5, floor=SUGGESTION_FLOOR)
            # A name or term the notes lack is a gap for the curators, as a declined question is.
            self._record_unanswered(request, request.text.strip(), answer.confidence)
            what = "no one called" if kind == "person" else "no term"
            listing = "people" if kind == "person" else "terms"
            # Nothing close is said as such, with where to look, not as "Closest: none".
            where = f"`/nato {intent_word(kind)}` suggests {listing} as you type"
            closest = (
                f"Closest: {', '.join(e.title for e in close)}."
                if close
                else f"`/nato topics` shows what my notes cover; {where}."
            )
            return Reply(
                f"I have {what} “{quote_user_text(wanted)}” in my notes. {closest}",
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


def _intent_of(request: Request, engine: Engine) -> Intent:
    """`/nato …` text parsed into an intent; free text is a question for the engine to recognise."""
    if request.is_command:
        return parse_command(request.text, engine.kb.notes_end, engine.kb.lexicon.topic_words)
    return Ask(request.text)


def _notice(text: str) -> Reply:
    """A short private notice for whoever asked."""
    return Reply(text, ephemeral=True, kind="info")
