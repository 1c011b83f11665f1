"""Replies as Discord messages: embeds with source footers, split within Discord's limits."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.discord.buttons import FeedbackButton
from adapters.discord.rendering import (
    CONTENT_LIMIT,
    CUSTOM_ID_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    render_reply,
    split_text,
)
from bot.messages import Reply, Suggestion


def _embed_size(message_embed: Mapping[str, object]) -> int:
    total = 0
    for key in ("title", "description"):
        total += len(str(message_embed.get(key) or ""))
    for key in ("author", "footer"):
        part = message_embed.get(key)
        if isinstance(part, dict):
            total += len(str(part.get("name") or part.get("text") or ""))
    return total


def test_an_answer_is_one_embed_with_source_footer_and_buttons() -> None:
    reply = Reply(
        "Japan joined in 2022.",
        title="Japan joins the cyber centre",
        source_line="Source: Brummer & Lindgren, ¶12 · as of July 2023",
        suggestions=(Suggestion("cyber-war-game-2021", "Cyber war game", "what was the war game"),),
        entry_ids=("japan-joins-nato-cyber-centre-2022",),
        feedback=True,
    )
    [message] = render_reply(reply, echo="when did japan join?")
    assert message.content is None and message.embed is not None
    embed = message.embed.to_dict()
    assert embed["title"] == "Japan joins the cyber centre"
    assert embed["footer"] == {"text": "Source: Brummer & Lindgren, ¶12 · as of July 2023"}
    assert embed["author"] == {"name": "“when did japan join?”"}
    assert [b.kind for b in message.buttons] == ["suggestion", "helpful", "not-helpful"]


def test_short_notices_are_plain_text() -> None:
    [message] = render_reply(Reply("Usage: `/nato who <name>`.", ephemeral=True, kind="usage"))
    assert message.content == "Usage: `/nato who <name>`." and message.embed is None


def test_a_long_reply_is_split_into_embeds_within_every_limit() -> None:
    lines = [
        f"• {year} — milestone number {i} with a fairly long description" for i, year in enumerate(range(500))
    ]
    reply = Reply(
        "\n".join(lines), title="Timeline", source_line="Source: ¶1 · as of July 2023", kind="answer"
    )
    messages = render_reply(reply, echo="timeline")
    assert len(messages) > 1
    embeds = [m.embed.to_dict() for m in messages if m.embed is not None]
    assert all(len(e["description"]) <= EMBED_DESCRIPTION_LIMIT for e in embeds)
    assert all(_embed_size(dict(e)) <= EMBED_TOTAL_LIMIT for e in embeds)
    assert "title" in embeds[0] and all("title" not in e for e in embeds[1:])
    assert "footer" in embeds[-1] and all("footer" not in e for e in embeds[:-1])
    # Nothing lost, nothing cut mid-line (short of the cap on messages per reply).
    shown = "\n".join(e["description"] for e in embeds).splitlines()
    assert shown[: len(shown) - 1] == lines[: len(shown) - 1]


def test_long_plain_text_is_split_at_line_ends_within_2000_characters() -> None:
    text = "\n".join(f"line {i}: " + "word " * 30 for i in range(120))
    messages = render_reply(Reply(text, kind="info"))
    assert all(m.content is not None and len(m.content) <= CONTENT_LIMIT for m in messages)
    assert all(m.content is not None and m.content.startswith("line ") for m in messages)


def test_digest_parts_become_one_message_each() -> None:
    reply = Reply("whole", title="Digest", kind="digest", parts=("(1/2)\nfirst part", "(2/2)\nsecond part"))
    messages = render_reply(reply)
    assert [m.embed.description for m in messages if m.embed] == ["(1/2)\nfirst part", "(2/2)\nsecond part"]


def test_split_text_prefers_line_ends_then_spaces_and_cuts_only_giant_words() -> None:
    assert split_text("aaa bbb\nccc ddd", 9) == ["aaa bbb", "ccc ddd"]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_split_text_counts_characters_as_discord_may_count_them() -> None:
    flags = "🇯🇵" * 600  # 1,200 code points, 2,400 UTF-16 units
    pieces = split_text(flags, CONTENT_LIMIT)
    assert "".join(pieces) == flags
    assert all(len(p.encode("utf-16-le")) // 2 <= CONTENT_LIMIT for p in pieces)


async def test_feedback_custom_ids_fit_discords_100_characters() -> None:
    ids = [f"a-rather-long-entry-identifier-number-{i}" for i in range(10)]
    button = FeedbackButton(True, ids)
    assert len(button.custom_id) <= CUSTOM_ID_LIMIT
    assert button.custom_id.startswith("briefbot:fb:y:a-rather-long-entry-identifier-number-0")
