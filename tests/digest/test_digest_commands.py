"""`/nato digest …` through the real Bot.dispatch, as a user on any platform types it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.digests.commands import MAX_PER_CHANNEL, DigestCommands
from bot.dispatch import Bot
from bot.errors import StoreError
from bot.knowledge.base import KnowledgeBase
from bot.messages import Reply, Request
from bot.qa.engine import Engine
from bot.store.sqlite import SQLiteStore
from tests.digest.support import entry, make_kb, utc

NOW = utc(2024, 3, 28, 12)  # the Thursday before Brussels moves its clocks


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return make_kb(tmp_path_factory.mktemp("kb"))  # a frozen value: safe to share


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "bot.sqlite3") as opened:
        yield opened


@pytest.fixture
def bot(kb: KnowledgeBase, store: SQLiteStore) -> Bot:
    return Bot(Engine(kb), store=store, digest_handler=DigestCommands(store, lambda: kb, clock=lambda: NOW))


def say(bot: Bot, text: str, *, manager: bool = True, channel: str = "C1", workspace: str = "T1") -> Reply:
    request = Request(
        "slack",
        "U1",
        channel,
        f"/nato digest {text}",
        is_command=True,
        workspace=workspace,
        user_is_manager=manager,
    )
    return bot.dispatch(request)


def test_a_manager_subscribes_the_channel_and_is_told_when_the_first_digest_comes(
    bot: Bot, store: SQLiteStore
) -> None:
    reply = say(bot, "subscribe topic maritime weekly mon 09:00 Europe/Brussels")
    assert not reply.ephemeral and reply.kind == "info"
    assert reply.text == (
        "Subscribed this channel to the `topic maritime` digest (#1), every Monday at 09:00 "
        "(Europe/Brussels). First one: Monday 1 April 2024, 09:00 CEST."
    )
    [sub] = store.subscriptions()
    assert (sub.platform, sub.workspace, sub.channel, sub.created_by) == ("slack", "T1", "C1", "U1")
    assert (sub.kind, sub.arg, sub.schedule, sub.tz, sub.created_at) == (
        "topic",
        "maritime",
        "weekly mon 09:00",
        "Europe/Brussels",
        NOW,
    )


def test_someone_who_is_not_a_manager_is_refused_politely_and_privately(bot: Bot, store: SQLiteStore) -> None:
    say(bot, "subscribe month daily 09:00")
    for text in ("subscribe month daily 10:00", "unsubscribe 1"):
        reply = say(bot, text, manager=False)
        assert reply.ephemeral and reply.kind == "refusal"
        # The refusal names Slack's rule, so the user knows whom to ask.
        assert reply.text.startswith("Sorry, only workspace admins and the people on this bot's digest")
        assert "`/nato digest now <kind>`" in reply.text
    assert len(store.subscriptions()) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "subscribe month daily 09:00 Europe/Brusels",
            "“Europe/Brusels” is not a time zone I know. Did you mean",
        ),
        ("subscribe month daily 9 UTC", "“9” is not a time of day; write it as 24-hour HH:MM"),
        ("subscribe month fortnightly", "“fortnightly” is not a schedule. Schedules: `daily HH:MM`"),
        ("subscribe topic submarines daily 09:00", "“submarines” is not a topic I know. Topics: diplomacy,"),
        ("subscribe weekly daily 09:00", "“weekly” is not a digest kind. Digest kinds: `month`"),
        ("subscribe month maritime daily 09:00", "`month` takes no argument"),
        ("subscribe month", "A schedule is missing"),
        ("subscribe period 2021..2019 daily 09:00", "runs backwards"),
        ("subscribe", "Which digest?"),
    ],
)
def test_mistakes_get_a_precise_private_message_listing_what_is_valid(
    bot: Bot, text: str, expected: str
) -> None:
    reply = say(bot, text)
    assert reply.ephemeral and reply.kind == "usage"
    assert expected in reply.text
    assert "Usage: `/nato digest subscribe <kind> [arg] <schedule> [time zone]`" in reply.text


def test_list_shows_this_channels_digests_with_their_next_run(bot: Bot) -> None:
    assert "no digest subscriptions" in say(bot, "list", manager=False).text
    say(bot, "subscribe month monthly 1 08:00 Asia/Tokyo")
    say(bot, "subscribe new daily 09:00", channel="C2")
    listing = say(bot, "list", manager=False)
    assert listing.ephemeral
    assert listing.text == (
        "• #1 `month`, on day 1 of each month at 08:00 (Asia/Tokyo); next Monday 1 April 2024, 08:00 JST"
    )


def test_always_asks_for_one_line_when_there_is_nothing_new(bot: Bot, store: SQLiteStore) -> None:
    quiet = say(bot, "subscribe topic maritime daily 09:00")
    assert "nothing new" not in quiet.text
    told = say(bot, "subscribe topic cyber daily 09:00 Europe/Brussels always", channel="C2")
    assert told.text.endswith("When there is nothing new, it says so in one line.")
    # Anywhere after the kind: on Discord it is typed into the schedule field.
    say(bot, "subscribe month daily 09:00 ALWAYS Asia/Tokyo", channel="C3")
    subs = store.subscriptions()
    assert [(s.arg, s.tz, s.say_when_empty) for s in subs] == [
        ("maritime", "UTC", False),
        ("cyber", "Europe/Brussels", True),
        ("", "Asia/Tokyo", True),
    ]
    assert say(bot, "list", channel="C2").text.startswith("• #2 `topic cyber` `always`, every day")
    help_text = say(bot, "help").text
    assert "add `always` to get one line saying so" in help_text


def test_the_same_digest_twice_or_too_many_digests_are_refused(bot: Bot) -> None:
    say(bot, "subscribe month daily 09:00")
    assert "already gets that digest (#1)" in say(bot, "subscribe month daily 09:00 utc").text
    for hour in range(10, 10 + MAX_PER_CHANNEL - 1):
        say(bot, f"subscribe month daily {hour}:00")
    assert "the most I keep per channel" in say(bot, "subscribe month daily 23:00").text


def test_unsubscribe_only_reaches_this_channels_digests(bot: Bot, store: SQLiteStore) -> None:
    say(bot, "subscribe month daily 09:00", channel="C2")
    assert say(bot, "unsubscribe 1").text == (
        "This channel has no digest #1; `/nato digest list` shows its subscriptions."
    )
    assert len(store.subscriptions()) == 1
    done = say(bot, "unsubscribe #1", channel="C2")
    assert not done.ephemeral and done.text == "Unsubscribed this channel from digest #1 (`month`)."
    assert store.subscriptions() == ()
    assert "Usage: `/nato digest unsubscribe <id>`" in say(bot, "unsubscribe first").text


def test_now_previews_a_digest_privately(bot: Bot) -> None:
    reply = say(bot, "now topic naval", manager=False)
    assert reply.ephemeral and reply.kind == "digest"
    assert reply.title == "Preview: NATO–Japan: maritime, milestones and key facts"
    assert "First joint counter-piracy exercise" in reply.text
    assert say(bot, "now topic").kind == "usage"
    assert "nothing to compare against" in say(bot, "now new").text
    say(bot, "subscribe new daily 09:00")
    assert "Nothing has been added or changed" in say(bot, "now new").text


def test_unknown_subcommands_and_help_show_the_usage(bot: Bot) -> None:
    assert say(bot, "frobnicate").text.startswith("I don't know `digest frobnicate`. Usage:")
    assert say(bot, "").kind == "help" and "`/nato digest list`" in say(bot, "").text


class BrokenStore(SQLiteStore):
    def subscriptions(self, **filters: str | None) -> tuple[()]:
        raise StoreError("writing the database failed: disk I/O error")


def test_a_broken_store_gets_a_short_apology_not_an_exception(
    tmp_path: Path, kb: KnowledgeBase, caplog: pytest.LogCaptureFixture
) -> None:
    with BrokenStore(tmp_path / "broken.sqlite3") as broken:
        bot = Bot(Engine(kb), store=broken, digest_handler=DigestCommands(broken, lambda: kb))
        reply = say(bot, "list")
    assert reply.ephemeral and "couldn't reach the subscription store, so nothing was changed" in reply.text
    assert "disk I/O error" in caplog.text  # logged for the operator, not shown to the user


def test_an_unexpected_failure_is_logged_and_apologised_for(
    store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    def no_kb() -> KnowledgeBase:
        raise RuntimeError("kb exploded")

    bot_without_kb = DigestCommands(store, no_kb)
    request = Request("discord", "U1", "C1", "", is_command=True, user_is_manager=True)
    reply = bot_without_kb(request, "now month")
    assert reply.ephemeral and reply.text.startswith("Sorry, something went wrong")
    assert "kb exploded" in caplog.text


def test_a_long_preview_is_split_to_the_limit_its_platform_declared(
    tmp_path: Path, store: SQLiteStore
) -> None:
    title = "Japan and NATO hold another round of staff talks on maritime security cooperation no. {}"
    many = make_kb(
        tmp_path,
        [
            entry(f"talks-{i:02d}", date=f"{1980 + i}-03-0{1 + i % 9}", title=title.format(i))
            for i in range(40)
        ],
        name="many",
    )
    limits = {"slack": 500, "discord": 900}
    commands = DigestCommands(store, lambda: many, clock=lambda: NOW, message_limits=limits)
    bot = Bot(Engine(many), store=store, digest_handler=commands)
    for platform, limit in limits.items():
        reply = bot.dispatch(Request(platform, "U1", "C1", "/nato digest now month", is_command=True))
        assert reply.kind == "digest" and reply.ephemeral and len(reply.parts) > 1
        assert all(len(part) <= limit for part in reply.parts)
    # A platform that declared no limit gets the digest whole, for its renderer to split.
    whole = bot.dispatch(Request("elsewhere", "U1", "C1", "/nato digest now month", is_command=True))
    assert whole.kind == "digest" and whole.parts == () and len(whole.text) > max(limits.values())
