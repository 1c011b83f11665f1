"""Slack's markup both ways: a ``Reply`` as Block Kit, and Slack's message text as plain text.

Slack gives ``&``, ``<`` and ``>`` meaning (``<!channel>``, ``<@U123>``, ``<https://…|link>``)
and expects every other use of them escaped. So text arriving from Slack is decoded once,
into what the person actually typed, and *everything* the bot sends is escaped once, at
render time, whether it came from the knowledge base or from a user. Nothing a user types
can therefore come back as a mention or a link.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.knowledge.base import KnowledgeBase
from bot.messages import Reply, Suggestion
from bot.qa.timeline import format_milestone
from bot.text import clean_user_text

__all__ = [
    "ACTION_FEEDBACK",
    "ACTION_HELPFUL",
    "ACTION_HOME_ASK",
    "ACTION_NOT_HELPFUL",
    "ACTION_OPEN_ASK",
    "ACTION_SHARE",
    "ACTION_SUGGEST",
    "ASK_CALLBACK",
    "ASK_CHARS",
    "HOME_SUGGESTIONS",
    "SlackMessage",
    "ask_modal",
    "channel_entities",
    "decode_feedback",
    "decode_share",
    "decode_vote",
    "escape",
    "from_slack",
    "home_view",
    "render_reply",
]

Block = dict[str, Any]

# action_id values: a suggestion button carries its index so the three are distinct in
# one actions block, as Slack requires.
ACTION_SUGGEST = "briefbot_suggest"
ACTION_HELPFUL = "briefbot_helpful"
ACTION_NOT_HELPFUL = "briefbot_not_helpful"
# The native feedback buttons; the two above are the ordinary buttons of earlier answers,
# still handled for messages posted before.
ACTION_FEEDBACK = "briefbot_feedback"
ACTION_SHARE = "briefbot_share"
# App Home: a suggested question (with its index, as for ACTION_SUGGEST), and the button
# that opens the "Ask a question" modal, whose submission has ASK_CALLBACK.
ACTION_HOME_ASK = "briefbot_home_ask"
ACTION_OPEN_ASK = "briefbot_open_ask"
ASK_CALLBACK = "briefbot_ask"
ASK_CHARS = 500
HOME_SUGGESTIONS = 3

MAX_SUGGESTIONS = 3
# Slack's limits, from the Block Kit reference.
_SECTION_CHARS = 3000
_HEADER_CHARS = 150
_BUTTON_CHARS = 75
_VALUE_CHARS = 2000
_FIELDS_PER_SECTION = 10
_FIELD_CHARS = 2000
_FALLBACK_CHARS = 3000
_FEEDBACK_QUESTION_CHARS = 300
_FEEDBACK_ENTRY_IDS = 10

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_ENTITY = re.compile(r"<([^<>]*)>")


@dataclass(frozen=True)
class SlackMessage:
    """A rendered message: Block Kit blocks plus the plain-text fallback for notifications."""

    text: str
    blocks: tuple[Block, ...]

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": list(self.blocks)}


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def from_slack(text: str, bot_user_id: str | None = None) -> str:
    """Slack message text as the words a person typed.

    Mentions of the bot itself are dropped, other mentions become ``@name`` / ``#channel``,
    links become their label (or URL), and Slack's escaping is undone.
    """

    def entity(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            if bot_user_id is not None and target[1:] == bot_user_id:
                return " "
            return "@" + (label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            # <!channel>, <!here>, <!subteam^S123|@team>, <!date^…|fallback>
            name = target[1:].split("^", 1)[0]
            if name == "date":
                return label
            if label:
                return label if label.startswith("@") else "@" + label
            return "@" + name
        return label or target

    # Bidi overrides and zero-width characters go too (clean_user_text), as for every
    # platform: echoed into "<@U> asked: …" they could make it show other words (#14.8).
    return clean_user_text(_unescape(_ENTITY.sub(entity, text)))


def channel_entities(text: str) -> dict[str, str]:
    """The channels Slack linked in ``text``, by the word ``from_slack`` leaves for each
    (``<#C123|general>`` reads "#general": "general" -> "C123"; ``<#C123>``: "C123" -> "C123"),
    so a command naming channels keeps the ids Slack gave."""
    found: dict[str, str] = {}
    for match in _ENTITY.finditer(text):
        target, _, label = match.group(1).partition("|")
        if target.startswith("#") and len(target) > 1:
            found.setdefault(clean_user_text(_unescape(label)) or target[1:], target[1:])
    return found


# -- replies ---------------------------------------------------------------------------


def render_reply(
    reply: Reply,
    *,
    asked_by: str | None = None,
    asked: str | None = None,
    verb: str = "asked",
    share: str | None = None,
) -> SlackMessage:
    """Block Kit for a reply. ``asked_by``/``asked`` add a context line saying who asked
    (or, with ``verb``, shared) what, for answers posted to a whole channel away from the
    question; ``share``, the command text, adds a "Share in channel" button."""
    blocks: list[Block] = []
    if asked_by is not None and _USER_ID.match(asked_by):
        what = f": {escape(_shorten(_one_line(asked), 200))}" if asked else ""
        blocks.append(_context(f"<@{asked_by}> {verb}{what}"))
    if reply.title:
        blocks.append(_header(reply.title))
    for part in reply.parts or (reply.text,):
        blocks.extend(_section(chunk) for chunk in _chunks(escape(part), _SECTION_CHARS))
    if reply.fields:
        blocks.extend(_field_sections(reply.fields))
    if reply.source_line:
        blocks.append(_context(escape(reply.source_line)))
    if reply.suggestions:
        blocks.append(_suggestion_buttons(reply.suggestions))
    if reply.feedback:
        blocks.append(_feedback_buttons(reply))
    if share is not None and len(share) <= _SHARE_CHARS:
        blocks.append(_share_button(share))
    return SlackMessage(text=_fallback(reply), blocks=tuple(blocks))


# The command text a share button carries, to be answered again when clicked: within a
# button value's 2,000 characters with room for JSON's escapes. A longer one is not offered.
_SHARE_CHARS = 1000


def _share_button(command_text: str) -> Block:
    return {
        "type": "actions",
        "block_id": "briefbot_share",
        "elements": [
            {
                "type": "button",
                "action_id": ACTION_SHARE,
                "text": {"type": "plain_text", "text": "Share in channel", "emoji": True},
                "value": json.dumps({"q": command_text}, ensure_ascii=False, separators=(",", ":")),
            }
        ],
    }


def decode_share(value: str) -> str:
    """The command text a share button carries; empty if it is malformed."""
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return ""
    question = data.get("q") if isinstance(data, dict) else None
    return question[:_SHARE_CHARS] if isinstance(question, str) else ""


def _fallback(reply: Reply) -> str:
    """What notifications and screen readers show: the title and the answer, escaped."""
    body = " ".join(reply.parts) if reply.parts else reply.text
    text = f"{reply.title}: {body}" if reply.title else body
    return _cut(escape(text), _FALLBACK_CHARS)


def _header(title: str) -> Block:
    # plain_text is never parsed for mentions, so it needs no escaping.
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": _shorten(_one_line(title), _HEADER_CHARS), "emoji": True},
    }


def _context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(mrkdwn, _SECTION_CHARS)}]}


def _section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _field_sections(fields: Sequence[tuple[str, str]]) -> Iterable[Block]:
    items = [
        {"type": "mrkdwn", "text": _cut(f"*{escape(name)}*\n{escape(value)}", _FIELD_CHARS)}
        for name, value in fields
    ]
    for start in range(0, len(items), _FIELDS_PER_SECTION):
        yield {"type": "section", "fields": items[start : start + _FIELDS_PER_SECTION]}


def _suggestion_buttons(suggestions: Sequence[Suggestion]) -> Block:
    buttons = [
        {
            "type": "button",
            "action_id": f"{ACTION_SUGGEST}_{index}",
            "text": {
                "type": "plain_text",
                "text": _shorten(_one_line(s.title), _BUTTON_CHARS),
                "emoji": True,
            },
            "value": s.entry_id[:_VALUE_CHARS],
        }
        for index, s in enumerate(suggestions[:MAX_SUGGESTIONS])
    ]
    return {"type": "actions", "block_id": "briefbot_suggestions", "elements": buttons}


def _feedback_buttons(reply: Reply) -> Block:
    """Block Kit's native feedback buttons (a ``context_actions`` block): Slack shows the
    clicker which one they chose. Each button's value carries the vote and the answer."""

    def value(helpful: bool) -> str:
        return json.dumps(
            {
                "h": int(helpful),
                "q": _shorten(_one_line(reply.question), _FEEDBACK_QUESTION_CHARS),
                "e": list(reply.entry_ids[:_FEEDBACK_ENTRY_IDS]),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    return {
        "type": "context_actions",
        "block_id": "briefbot_feedback",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": ACTION_FEEDBACK,
                "positive_button": {
                    "text": {"type": "plain_text", "text": "👍"},
                    "accessibility_label": "Helpful",
                    "value": value(True),
                },
                "negative_button": {
                    "text": {"type": "plain_text", "text": "👎"},
                    "accessibility_label": "Not helpful",
                    "value": value(False),
                },
            }
        ],
    }


def decode_vote(value: str) -> bool | None:
    """Which of the feedback buttons was clicked (True: 👍); None if the value says neither."""
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return None
    vote = data.get("h") if isinstance(data, dict) else None
    return bool(vote) if vote in (0, 1) and not isinstance(vote, float) else None


def decode_feedback(value: str) -> tuple[str, tuple[str, ...]]:
    """The question and entry ids a feedback button carries; empty if it is malformed."""
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return "", ()
    if not isinstance(data, dict):
        return "", ()
    question = data.get("q")
    ids = data.get("e")
    return (
        question if isinstance(question, str) else "",
        tuple(i for i in ids if isinstance(i, str)) if isinstance(ids, list) else (),
    )


# -- App Home --------------------------------------------------------------------------

_GUIDE = (
    "I answer questions on NATO–Japan security relations from curated briefing notes, "
    "with the source paragraph for every answer. My notes run to {notes_end}."
)
_HOW_TO = (
    "*Ask me*\n"
    "• `/nato when did Japan join the NATO cyber centre?` in any channel\n"
    "• mention me in a channel: `@briefbot who is Fumio Kishida?` (I answer in a thread)\n"
    "• or send me a direct message from the Messages tab\n\n"
    "*Commands*\n"
    "• `/nato timeline [year | from-to | since year | topic | firsts]`\n"
    "• `/nato who <name>` · `/nato define <term>` · `/nato topics`\n"
    "• `/nato digest subscribe|list|unsubscribe|now`: milestone digests for a channel (admins)\n"
    "• `/nato help`: everything else"
)


def home_view(kb: KnowledgeBase, latest: int = 5) -> dict[str, Any]:
    """The App Home tab: a short guide and the latest milestones, newest first."""
    blocks: list[Block] = [
        _header("briefbot: NATO–Japan briefings"),
        _section(escape(_GUIDE.format(notes_end=kb.notes_end.human()))),
        *_home_questions(kb),
        _section(escape(_HOW_TO)),
        {"type": "divider"},
        _header("Latest milestones"),
    ]
    milestones = list(reversed(kb.milestones()))[:latest]
    if milestones:
        lines = "\n".join(escape(format_milestone(e)) for e in milestones)
        blocks.extend(_section(chunk) for chunk in _chunks(lines, _SECTION_CHARS))
    else:
        blocks.append(_section("No dated milestones in my notes yet."))
    citations = sorted({d.citation() for d in kb.documents.values()})
    if citations:
        blocks.append(_context(escape("Source: " + "; ".join(citations))))
    return {"type": "home", "blocks": blocks}


def _home_questions(kb: KnowledgeBase) -> list[Block]:
    """Questions to try (the newest milestones' own), each a button that asks it, and the
    button that opens the "Ask a question" modal. The answer arrives in the Messages tab."""
    newest = list(reversed(kb.milestones()))[:HOME_SUGGESTIONS]
    buttons: list[Block] = [
        {
            "type": "button",
            "action_id": ACTION_OPEN_ASK,
            "style": "primary",
            "text": {"type": "plain_text", "text": "Ask a question", "emoji": True},
            "value": "ask",
        }
    ]
    buttons += [
        {
            "type": "button",
            "action_id": f"{ACTION_HOME_ASK}_{index}",
            "text": {"type": "plain_text", "text": _shorten(_one_line(e.questions[0]), _BUTTON_CHARS)},
            "value": e.id[:_VALUE_CHARS],
        }
        for index, e in enumerate(newest)
    ]
    return [
        _section("*Try asking* (the answer arrives in the Messages tab)"),
        {"type": "actions", "block_id": "briefbot_home_questions", "elements": buttons},
    ]


def ask_modal() -> dict[str, Any]:
    """The "Ask a question" modal opened from App Home."""
    return {
        "type": "modal",
        "callback_id": ASK_CALLBACK,
        "title": {"type": "plain_text", "text": "Ask briefbot"},
        "submit": {"type": "plain_text", "text": "Ask"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "question",
                "label": {"type": "plain_text", "text": "Your question on NATO–Japan relations"},
                "element": {"type": "plain_text_input", "action_id": "question", "max_length": ASK_CHARS},
            }
        ],
    }


# -- text limits -----------------------------------------------------------------------


def _shorten(text: str | None, limit: int) -> str:
    """Plain text cut to ``limit`` characters with an ellipsis (before any escaping)."""
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _cut(mrkdwn: str, limit: int) -> str:
    """Escaped text cut to ``limit`` without splitting an ``&amp;``-style escape."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    cut = mrkdwn[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def _chunks(mrkdwn: str, limit: int) -> list[str]:
    """Split escaped text into pieces of at most ``limit``, at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in mrkdwn.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(line) > limit:
            head = _cut(line, limit)
            pieces.append(head)
            line = line[len(head) - 1 :]
        current = line
    if current or not pieces:
        pieces.append(current or " ")
    return pieces
