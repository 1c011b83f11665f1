"""`/nato settings …` read by the grammar both platforms share (#13): every setting, several
at once, and a precise message for anything malformed (nothing is half-applied)."""

from __future__ import annotations

import pytest

from bot.grammar.commands import command_help, parse_command
from bot.grammar.intents import ChannelRef, Intent, Settings, Usage
from bot.grammar.settings import MAX_ALLOWED
from bot.knowledge.base import PartialDate
from tests.fixtures import bundled_topic_words

JULY_2023 = PartialDate(2023, 7)


def parse(text: str) -> Intent:
    return parse_command(text, JULY_2023, bundled_topic_words())


def usage(text: str) -> str:
    intent = parse(text)
    assert isinstance(intent, Usage), intent
    return intent.message


@pytest.mark.parametrize("text", ["settings", "/nato settings", "settings show", "SETTINGS  list"])
def test_settings_alone_shows_them(text: str) -> None:
    intent = parse(text)
    assert intent == Settings() and not intent.changes


def test_settings_are_private_and_need_a_manager_even_to_show() -> None:
    for intent in (Settings(), Settings(auto_answer=True)):
        assert intent.private and intent.needs_manager


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("settings answers public", Settings(private_answers=False)),
        ("settings answers PRIVATE", Settings(private_answers=True)),
        ("settings auto-answer on", Settings(auto_answer=True)),
        ("settings autoanswer off", Settings(auto_answer=False)),
        ("settings allow all", Settings(allow=())),
        ("settings allow #briefings", Settings(allow=(ChannelRef(name="briefings"),))),
        (
            "settings allow <#123> <#C0POLICY|policy>, #nato-japan",
            Settings(
                allow=(
                    ChannelRef(id="123"),
                    ChannelRef(id="C0POLICY", name="policy"),
                    ChannelRef(name="nato-japan"),
                )
            ),
        ),
        (
            "settings answers public allow #a #b auto-answer on",
            Settings(
                private_answers=False,
                auto_answer=True,
                allow=(ChannelRef(name="a"), ChannelRef(name="b")),
            ),
        ),
    ],
)
def test_each_setting_and_several_at_once(text: str, expected: Settings) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("settings answerz public", "Did you mean `answers`?"),
        ("settings colour blue", "There is no setting “colour”"),
        ("settings answers", "`answers` needs a value: `private` or `public`"),
        ("settings answers loud", "`answers` is `private` or `public`, not “loud”"),
        ("settings auto-answer maybe", "`auto-answer` is `on` or `off`, not “maybe”"),
        ("settings answers public answers private", "`answers` is given twice"),
        ("settings allow", "`allow` needs channels"),
        ("settings allow all #general", "`allow all` takes no channels"),
        ("settings allow general", "“general” is not a channel"),
        ("settings allow @channel", "“@channel” is not a channel"),
        ("settings allow #", "“#” is not a channel"),
    ],
)
def test_malformed_settings_say_precisely_what_is_wrong(text: str, said: str) -> None:
    assert said in usage(text)


def test_a_list_too_long_is_refused() -> None:
    channels = " ".join(f"#c{n}" for n in range(MAX_ALLOWED + 1))
    assert f"At most {MAX_ALLOWED} channels" in usage(f"settings allow {channels}")
    assert isinstance(parse(f"settings allow {' '.join(f'#c{n}' for n in range(MAX_ALLOWED))}"), Settings)


@pytest.mark.parametrize(
    "hostile",
    [
        "<!channel>",
        "@everyone",
        "x" * 50_000,
        "#ok \x00\x1b[2J\u202e",
        "#" + "a" * 50_000,
        "\x07" * 1000,
    ],
)
def test_hostile_values_are_refused_briefly_or_read_cleanly(hostile: str) -> None:
    intent = parse(f"settings allow {hostile}")
    if isinstance(intent, Usage):
        assert len(intent.message) < 400
        # Quoted, short and clean; each platform's renderer escapes the rest (tests/adapters).
        assert "\x00" not in intent.message and "\x1b" not in intent.message
    else:
        assert isinstance(intent, Settings) and intent.allow is not None
        assert all(ref.name.isprintable() and len(ref.name) <= 80 for ref in intent.allow)


def test_a_mistyped_settings_gets_did_you_mean() -> None:
    assert "did you mean `/nato settings`?" in usage("settngs answers public").casefold()


def test_help_settings_explains_every_setting_with_examples() -> None:
    text = command_help(JULY_2023, "settings")
    for example in ("`/nato settings answers public`", "`/nato settings auto-answer on`", "allow all"):
        assert example in text
    assert "/nato settings" in command_help(JULY_2023)
