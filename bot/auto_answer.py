"""Which channel messages auto-answer takes up, and which of its replies it sends.

In a channel whose managers turned auto-answer on, a message posted without a mention is
read as a question only if it is shaped like one (a question mark, or a question word
first: chatter such as "lunch at noon" is never sent to the engine), and answered only
when the answer is confident: an answer from the notes, never a decline, a pleasantry, a
notice or help. Anything else gets silence, so a channel never hears the bot say it does
not know something nobody asked it.
"""

from __future__ import annotations

from bot.messages import Reply
from bot.qa.message import QUESTION_WORDS
from bot.text import clean_user_text, normalise

__all__ = ["MAX_QUESTION_CHARS", "confident", "looks_like_question"]

# A channel message longer than this is a post, not a question for the bot.
MAX_QUESTION_CHARS = 500


def looks_like_question(text: str) -> bool:
    """Whether a channel message reads as a question, before anything is asked of the engine."""
    cleaned = clean_user_text(text)
    if not cleaned or len(cleaned) > MAX_QUESTION_CHARS or cleaned.startswith("/"):
        return False
    words = normalise(cleaned).split()
    return bool(words) and (cleaned.endswith("?") or words[0] in QUESTION_WORDS)


def confident(reply: Reply) -> bool:
    """Whether ``reply`` is worth posting unasked: a confident answer from the notes."""
    return reply.kind == "answer" and reply.feedback and bool(reply.entry_ids)
