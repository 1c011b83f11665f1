"""A ``Reply`` as plain text for a terminal."""

from __future__ import annotations

from bot.messages import Reply

__all__ = ["render_reply"]


def render_reply(reply: Reply) -> str:
    """A reply as plain text for a terminal."""
    lines = []
    if reply.title and reply.kind not in ("answer",):
        lines.append(f"== {reply.title} ==")
    lines.append(reply.text)
    for name, value in reply.fields:
        lines.append(f"{name}: {value}")
    if reply.source_line:
        lines.append(f"  — {reply.source_line}")
    if reply.suggestions:
        lines.append("  Related: " + " · ".join(s.title for s in reply.suggestions))
    return "\n".join(lines)
