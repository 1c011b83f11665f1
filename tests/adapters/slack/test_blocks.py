"""Slack markup both ways: what arrives is decoded once, everything sent is escaped once."""

from __future__ import annotations

import json

import adapters.slack
import adapters.slack.rendering
from adapters.slack.rendering import decode_feedback, decode_vote, escape, from_slack, home_view, render_reply
from bot.messages import Reply, Suggestion
from tests.adapters.slack.emulator import unescaped_markup
from tests.adapters.slack.harness import fixture_kb


def test_escape_covers_exactly_slacks_three_characters() -> None:
    assert escape("R&D <!channel> > 'quotes' *bold*") == "R&amp;D &lt;!channel&gt; &gt; 'quotes' *bold*"


def test_incoming_text_becomes_what_the_person_typed() -> None:
    assert from_slack("<@UBOT> who is <@U123|kishida>?", bot_user_id="UBOT") == "who is @kishida?"
    assert (
        from_slack("<!channel> <!here> <!subteam^S1|@analysts> <!subteam^S2>")
        == "@channel @here @analysts @subteam"
    )
    assert from_slack("see <#C1|general> and <https://nato.int|NATO> or <https://mofa.go.jp>") == (
        "see #general and NATO or https://mofa.go.jp"
    )
    assert (
        from_slack("<!date^1392734382^{date}|Feb 18, 2014> R&amp;D &lt;b&gt; &amp;lt;")
        == "Feb 18, 2014 R&D <b> &lt;"
    )
    assert from_slack("  two\n lines\t") == "two lines"


def test_everything_sent_is_escaped_including_knowledge_base_text() -> None:
    reply = Reply(
        "A & B <!channel>",
        title="T <@U1>",
        fields=(("Who <x>", "Me & you"),),
        source_line="Source: Brummer & Lindgren",
        question="<!here>",
        entry_ids=("e1",),
        feedback=True,
    )
    message = render_reply(reply, asked_by="U0ASKER", asked="is <!everyone> there?")
    mrkdwn = [
        t["text"]
        for b in message.blocks
        for t in [b.get("text"), *b.get("elements", []), *b.get("fields", [])]
        if t and t.get("type") == "mrkdwn"
    ]
    assert mrkdwn == [
        "<@U0ASKER> asked: is &lt;!everyone&gt; there?",
        "A &amp; B &lt;!channel&gt;",
        "*Who &lt;x&gt;*\nMe &amp; you",
        "Source: Brummer &amp; Lindgren",
    ]
    assert message.text == "T &lt;@U1&gt;: A &amp; B &lt;!channel&gt;"


def test_asked_by_is_only_ever_a_real_user_id() -> None:
    message = render_reply(Reply("x"), asked_by="<!channel>", asked="q")
    assert "asked" not in json.dumps(message.blocks)


def test_long_answers_split_into_sections_within_slacks_limits() -> None:
    lines = [f"• {n} — {'milestone & more ' * 10}" for n in range(40)]
    title = "A title that goes on " * 20
    suggestions = tuple(Suggestion(f"id-{n}", "A very long suggestion title " * 5, "q") for n in range(5))
    reply = Reply("\n".join(lines), title=title, suggestions=suggestions, feedback=True, question="q" * 5000)
    message = render_reply(reply)
    sections = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert len(sections) > 1 and all(len(s) <= 3000 for s in sections)
    assert "\n".join(sections) == escape("\n".join(lines))
    header = message.blocks[0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")
    [suggest] = [b for b in message.blocks if b["type"] == "actions"]
    [feedback] = [b for b in message.blocks if b["type"] == "context_actions"]
    assert len(suggest["elements"]) == 3
    assert all(len(b["text"]["text"]) <= 75 for b in suggest["elements"])
    [buttons] = feedback["elements"]
    assert all(len(buttons[side]["value"]) <= 2000 for side in ("positive_button", "negative_button"))
    assert len(message.text) <= 3000


def test_pre_split_parts_each_get_a_section() -> None:
    message = render_reply(Reply("ignored", parts=("part one", "part two")))
    assert [b["text"]["text"] for b in message.blocks] == ["part one", "part two"]
    assert message.text == "part one part two"


def test_feedback_button_value_round_trips_and_bad_values_are_harmless() -> None:
    reply = Reply("x", question="who is “Kishida”?", entry_ids=("a", "b"), feedback=True)
    [actions] = [b for b in render_reply(reply).blocks if b["type"] == "context_actions"]
    [buttons] = actions["elements"]
    for side, vote in (("positive_button", True), ("negative_button", False)):
        assert decode_feedback(buttons[side]["value"]) == ("who is “Kishida”?", ("a", "b"))
        assert decode_vote(buttons[side]["value"]) is vote
    for bad in ("", "nonsense", "[1, 2]", '{"q": 3, "e": "x"}'):
        assert decode_feedback(bad) == ("", ())
    for bad in ("", "nonsense", "[1]", '{"h": 2}', '{"h": "1"}', '{"h": 0.5}'):
        assert decode_vote(bad) is None


def test_home_view_lists_the_latest_milestones_newest_first() -> None:
    view = home_view(fixture_kb(), latest=2)
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert "/nato who &lt;name&gt;" in text and "<name>" not in text
    assert text.index("February 2023") < text.index("November 2022")
    assert "June 2022" not in text
    assert "Stoltenberg visits Tokyo &amp; signs" in text


def test_public_names_are_pinned() -> None:
    assert adapters.slack.__all__ == [
        "DEFAULT_API_URL",
        "SlackApp",
        "SlackPoster",
        "SlackService",
        "SlackSettings",
        "build_app",
        "connect_socket_mode",
        "serve_http",
    ]
    assert sorted(adapters.slack.rendering.__all__) == adapters.slack.rendering.__all__


def test_the_emulators_markup_check_catches_what_slack_would_parse() -> None:
    message = {
        "text": "hi <!channel> & <@U0ASKER> &amp;",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "<!here> is fine in plain text"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "see <https://x.test|x> &lt;ok&gt;"}},
        ],
    }
    assert unescaped_markup(message) == ["<!channel>", "&", "<https://x.test|x>"]
