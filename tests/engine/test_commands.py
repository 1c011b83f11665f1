"""The `/nato` grammar through the one dispatch every adapter uses."""

from __future__ import annotations

import pytest

from bot.commands import Ask, DefineCmd, DigestCmd, HelpCmd, Timeline, Topics, Usage, WhoCmd, parse_command
from bot.dispatch import Bot
from bot.messages import Request
from bot.qa.intents import TimelineQuery
from tests.fixtures import bundled_bot


def slash(text: str) -> Request:
    return Request("console", "u1", "c1", text, is_command=True)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("when did japan join air defender", Ask("when did japan join air defender")),
        ("ask who is kishida", Ask("who is kishida")),
        ("timeline", Timeline(TimelineQuery())),
        ("timeline 2022", Timeline(TimelineQuery(2022, 2022))),
        ("timeline 2013-2019", Timeline(TimelineQuery(2013, 2019))),
        ("timeline since 2021", Timeline(TimelineQuery(2021, None))),
        ("timeline maritime", Timeline(TimelineQuery(topic="maritime"))),
        ("timeline naval since 2018", Timeline(TimelineQuery(2018, None, "maritime"))),
        ("who Oana Lungescu", WhoCmd("Oana Lungescu")),
        ("who is Kishida", WhoCmd("Kishida")),
        ("define ITPP", DefineCmd("ITPP")),
        ("topics", Topics()),
        ("help", HelpCmd()),
        ("", HelpCmd()),
        ("/nato help", HelpCmd()),
        ("digest list", DigestCmd("list")),
    ],
)
def test_grammar(text: str, command: object) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize(
    ("text", "message_part"),
    [
        ("timeline 20x8", "couldn't read “20x8”"),
        ("timeline 2019-2013", "runs backwards; did you mean `/nato timeline 2013-2019`"),
        ("timeline maritime cyber", "One topic at a time"),
        ("timeline 2013 2015 2019", "Give one year or one range"),
        ("who", "Usage: `/nato who <name>`"),
        ("define", "Usage: `/nato define <term>`"),
        ("ask", "Usage: `/nato ask <question>`"),
        ("topics please", "takes no arguments"),
    ],
)
def test_malformed_arguments_get_a_precise_usage_message(text: str, message_part: str) -> None:
    command = parse_command(text)
    assert isinstance(command, Usage)
    assert message_part in command.message


@pytest.fixture(scope="module")
def bot() -> Bot:
    return bundled_bot()


def test_usage_replies_are_private(bot: Bot) -> None:
    reply = bot.dispatch(slash("timeline 20x8"))
    assert reply.kind == "usage" and reply.ephemeral


def test_plain_answers_are_public_with_source_and_feedback(bot: Bot) -> None:
    reply = bot.dispatch(slash("when did japan join the nato cyber centre"))
    assert not reply.ephemeral and reply.kind == "answer"
    assert reply.source_line and "¶12" in reply.source_line
    assert reply.feedback and reply.entry_ids


def test_who_finds_a_person_and_refuses_a_stranger(bot: Bot) -> None:
    reply = bot.dispatch(slash("who lungescu"))
    assert "Lungescu" in reply.text and not reply.ephemeral
    stranger = bot.dispatch(slash("who Angela Merkel"))
    assert stranger.ephemeral and "no one called" in stranger.text
    assert "Angela Merkel" in stranger.text and "Closest" in stranger.text


def test_define_finds_a_term_by_acronym(bot: Bot) -> None:
    reply = bot.dispatch(slash("define IUU"))
    assert "unreported" in reply.text.casefold()


def test_topics_lists_the_vocabulary_with_counts(bot: Bot) -> None:
    reply = bot.dispatch(slash("topics"))
    assert "maritime (" in reply.text and "cyber (" in reply.text


def test_help_lists_every_command(bot: Bot) -> None:
    reply = bot.dispatch(slash("help"))
    for word in ("ask", "timeline", "who", "define", "topics", "digest"):
        assert f"/nato {word}" in reply.text


def test_suggestion_click_answers_that_entry(bot: Bot) -> None:
    reply = bot.dispatch(slash("when did japan join the nato cyber centre"))
    target = reply.suggestions[0] if reply.suggestions else None
    assert target is not None
    clicked = bot.answer_entry(target.entry_id)
    assert clicked.entry_ids == (target.entry_id,)
    assert bot.answer_entry("no-such-entry").ephemeral


@pytest.mark.parametrize(
    ("text", "since_event", "until_event", "period"),
    [
        ("timeline since madrid", ("madrid",), (), ""),
        ("timeline before the vilnius summit", (), ("vilnius", "summit"), ""),
        ("timeline early 2023", (), (), "early 2023"),
        ("timeline since feb 2023", (), (), "since February 2023"),
        ("timeline recent", (), (), "July 2022 – July 2023"),
    ],
)
def test_timeline_can_be_bounded_by_an_event_a_month_or_part_of_a_year(
    text: str, since_event: tuple[str, ...], until_event: tuple[str, ...], period: str
) -> None:
    command = parse_command(text)
    assert isinstance(command, Timeline)
    assert (command.query.since_event, command.query.until_event, command.query.period) == (
        since_event,
        until_event,
        period,
    )
