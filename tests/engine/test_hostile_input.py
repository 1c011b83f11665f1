"""Whatever arrives, the user gets a polite answer and nothing crashes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adapters.discord.rendering as discord_adapter
from adapters.console import ConsolePoster
from adapters.discord import DiscordPoster
from adapters.discord.buttons import message_kwargs as discord_message_kwargs
from adapters.discord.rendering import render_reply as discord_render
from adapters.slack import SlackPoster
from adapters.slack.rendering import render_reply as slack_render
from bot.digests.commands import DigestCommands
from bot.dispatch import Bot
from bot.grammar.commands import parse_command
from bot.grammar.intents import AfterNotes, Ask, Define, Digest, Help, Timeline, Topics, Usage, Who
from bot.messages import Reply, Request
from bot.qa.devset import default_dev_set, load_dev_set
from bot.qa.engine import MAX_QUESTION_CHARS
from bot.store.sqlite import SQLiteStore
from tests.adapters.slack.emulator import unescaped_markup
from tests.fixtures import bundled_bot, bundled_engine, bundled_kb

HOSTILE = [
    "",
    "   \t\n ",
    "a" * 50_000,
    "when did japan join the nato cyber centre " * 1200,
    "\x00\x01\x02 what is itpp \x7f\x1b[31m",
    "wh\u200bo is lun\u200dgescu\u2060?",
    "🇯🇵🤝🇪🇺 ??? 🚀",
    "ما هو الناتو",
    "\u202eorez\u202c",
    "<!channel> @everyone @here who is kishida",
    "/nato timeline \x00",
    "'; DROP TABLE subscriptions; --",
    "%s %n {0} ${jndi:ldap://x}",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_questions_get_a_bounded_polite_answer(text: str) -> None:
    answer = bundled_engine().ask(text)
    assert answer.text.strip()
    assert len(answer.text) < 3000


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_commands_never_raise(text: str) -> None:
    reply = bundled_bot().dispatch(Request("console", "u", "c", text, is_command=True))
    assert reply.text.strip()


def test_invisible_characters_do_not_hide_a_known_name() -> None:
    answer = bundled_engine().ask("wh\u200bo is lun\u200dgescu\u2060?")
    assert not answer.abstained and "Lungescu" in answer.text


def test_very_long_input_is_matched_on_its_start() -> None:
    answer = bundled_engine().ask("when did japan join the nato cyber centre " * 1200)
    assert not answer.abstained and "2022" in answer.text
    assert MAX_QUESTION_CHARS <= 1000


# -- properties ----------------------------------------------------------------------------
#
# Derandomized with no example database: CI tries the same inputs on every run (a failure
# reproduces), and nothing is written to .hypothesis/. Counts are modest so the suite
# stays fast; the hand-picked HOSTILE list above covers the known nasty cases exactly.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)

# What people paste into chat that could ping, link or break markup on the way back out.
INJECTIONS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "@everyone",
    "@here",
    "<@U123>",
    "<@U123|boss>",
    "<@&123456789>",
    "<#C123|general>",
    "<!subteam^S123|@team>",
    "<https://evil.example|click me>",
    "&lt;!channel&gt;",
    "&amp;",
    "&",
    "<",
    ">",
]
INVISIBLE = ["\u200b", "\u200d", "\u2060", "\ufeff", "\u202e", "\u202c", "\u2066", "\x00", "\x1b[31m", "\r\n"]
WORDS = (
    "/nato nato ask timeline who is define topics help digest subscribe list now 2022 2013-2019 "
    "since firsts maritime cyber kishida lungescu itpp japan ? 🇯🇵 🤝 ما 東京"
).split()

# st.text() never yields surrogates, which no chat platform delivers either.
fragments = st.one_of(st.text(max_size=24), st.sampled_from(INJECTIONS + INVISIBLE + WORDS))
messages = st.lists(fragments, max_size=14).map(" ".join)
# 50 kB of the same, built by repetition: hypothesis need not draw 50,000 characters.
huge = st.tuples(messages, st.just(50_000)).map(lambda pair: ((pair[0] or "x ") * pair[1])[: pair[1]])
# One 20,000-character word after a subcommand: what a usage message may echo back.
giant_word = st.tuples(
    st.sampled_from(["", "timeline ", "timeline 2022 ", "who ", "define ", "topics "]),
    st.text(min_size=1, max_size=3),
).map(lambda pair: pair[0] + (pair[1].replace(" ", "") or "x") * 20_000)
anything = st.one_of(messages, messages, messages, huge, giant_word)
USAGE_MAX = 700  # the longest fixed usage text (timeline's, with its topics) and a 60-character quote

REPO = Path(__file__).resolve().parents[2]
ASKER = "U0ASKER"  # the one mention the Slack renderer itself adds ("<@U0ASKER> asked …")
SLACK_BLOCKS_PER_MESSAGE = 50  # Block Kit's limit per message; more and Slack refuses the post
SLACK_SECTION_LIMIT = 3000  # Block Kit's limit on the text of one section
SLACK_MESSAGE_LIMIT = 40000  # the top-level `text` of one message
_SLACK_MARKUP = re.compile(r"<[^>]*>")


def _slack_mrkdwn(node: object) -> list[str]:
    """Every string Slack would parse for markup (plain_text and button values are not)."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            found.append(node["text"])
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                found.extend(_slack_mrkdwn(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_slack_mrkdwn(item))
    return found


def assert_fits_slack(reply: Reply, asked: str) -> None:
    message = slack_render(reply, asked_by=ASKER, asked=asked)
    payload = message.as_kwargs()
    assert unescaped_markup(payload) == []
    texts = [message.text, *_slack_mrkdwn(payload["blocks"])]
    # No <!channel>, <@U123> or link survives: the only markup is the renderer's own.
    assert {m for t in texts for m in _SLACK_MARKUP.findall(t)} <= {f"<@{ASKER}>"}
    assert len(message.blocks) <= SLACK_BLOCKS_PER_MESSAGE
    assert len(message.text) <= SLACK_MESSAGE_LIMIT
    assert all(len(t) <= SLACK_SECTION_LIMIT for t in texts[1:])


def assert_fits_discord(reply: Reply, asked: str) -> None:
    sent = discord_render(reply, echo=asked)
    assert 1 <= len(sent) <= discord_adapter.MAX_MESSAGES_PER_REPLY
    for message in sent:
        if message.content is not None:
            assert 0 < len(message.content.encode("utf-16-le")) // 2 <= discord_adapter.CONTENT_LIMIT
        if message.embed is not None:
            assert len(message.embed.description or "") <= discord_adapter.EMBED_DESCRIPTION_LIMIT
            assert len(message.embed) <= discord_adapter.EMBED_TOTAL_LIMIT
        # Discord renders "@everyone" as typed; what keeps it from pinging anyone is that
        # every message goes out with no mentions allowed.
        allowed = discord_message_kwargs(message)["allowed_mentions"]
        assert allowed.to_dict() == {"parse": []}


@FUZZ
@given(anything)
def test_any_text_gets_one_bounded_answer_and_the_same_one_every_time(text: str) -> None:
    answer = bundled_engine().ask(text)
    assert answer.text.strip() and 0.0 <= answer.confidence <= 1.0
    assert len(answer.text) <= SLACK_SECTION_LIMIT
    assert bundled_engine().ask(text) == answer


@FUZZ
@given(anything, st.booleans())
def test_any_message_gets_a_reply_that_fits_slack_and_discord_and_pings_no_one(
    text: str, as_command: bool
) -> None:
    request = Request("slack", ASKER, "C1", text, is_command=as_command, workspace="T1")
    reply = bundled_bot().dispatch(request)
    assert reply.text.strip()
    assert bundled_bot().dispatch(request) == reply
    if reply.kind not in ("answer", "digest"):  # timelines and digests are long by nature
        assert len(reply.text) <= SLACK_SECTION_LIMIT
    asked = f"/nato {text}" if as_command else text
    assert_fits_slack(reply, asked)
    assert_fits_discord(reply, asked)


@FUZZ
@given(anything)
def test_the_nato_grammar_is_total_and_malformed_input_gets_usage_not_an_error(text: str) -> None:
    command = parse_command(f"/nato {text}", bundled_kb().notes_end, bundled_kb().lexicon.topic_words)
    assert isinstance(command, Ask | Timeline | Who | Define | AfterNotes | Topics | Help | Digest | Usage)
    if isinstance(command, Usage):
        # Fixed text plus at most a short, single-line quote of what was typed, however
        # much was typed.
        assert command.message.strip() and "\n" not in command.message
        assert len(command.message) <= USAGE_MAX
    if isinstance(command, Ask | Who | Define | AfterNotes):
        assert next(iter(vars(command).values())).strip()


# The digest grammar in pieces, valid and not, so examples reach schedule, cron and
# time-zone parsing rather than stopping at an unknown first word.
DIGEST_SUBCOMMANDS = ["subscribe", "subscribe", "subscribe", "now", "preview", "list", "unsubscribe", "help"]
DIGEST_KINDS = (
    "month|new|topic maritime|topic cyber|period last-week|period 2019..2021|period 2022-06|"
    "period 2021..2019|period 2022-13|period 2022-02-30|topic|period|new 3|weekly|*"
).split("|")
SCHEDULE_WORDS = (
    "daily weekly monthly mon sun fri funday 09:00 00:00 23:59 24:00 9:5 -1:00 last 1 28 29 31 0 * */0 "
    "*/15 1-5 5-1 ? L W 7#5 99999999999999999999 0-59/0 mon-fri"
).split()
ZONES = "UTC utc Europe/Brussels Asia/Tokyo EST5EDT Etc/GMT+14 ../../etc/passwd Mars/Olympus /etc/ Z".split()


def mostly(words: list[str]) -> st.SearchStrategy[str]:
    """Mostly the given words, sometimes anything."""
    return st.one_of(*[st.sampled_from(words)] * 3, st.text(max_size=8))


digest_args = st.builds(
    lambda sub, kind, schedule, zone: " ".join([sub, kind, *schedule, *zone]),
    st.sampled_from(DIGEST_SUBCOMMANDS),  # unknown subcommands: the dispatch property above
    st.sampled_from(DIGEST_KINDS),
    st.lists(mostly(SCHEDULE_WORDS), max_size=6),
    st.lists(st.sampled_from(ZONES), max_size=1),
)


@pytest.fixture(scope="module")
def digest_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    # One real database for the module: hypothesis reuses it across examples, which only
    # makes it fuller (subscriptions pile up to the per-channel cap), never wrong.
    with SQLiteStore(tmp_path_factory.mktemp("db") / "bot.sqlite3") as store:
        limits = {p.platform: p.message_limit for p in (SlackPoster, DiscordPoster, ConsolePoster)}
        commands = DigestCommands(store, bundled_kb, message_limits=limits)
        yield Bot(bundled_engine(), store=store, digest_handler=commands)


@settings(FUZZ, max_examples=150)  # cheap examples, and a grammar with many corners
@given(args=digest_args, platform=st.sampled_from(["slack", "discord", "console"]))
def test_any_digest_arguments_get_a_precise_reply_never_the_catch_all_apology(
    digest_bot: Bot, args: str, platform: str
) -> None:
    request = Request(platform, "U1", "C1", f"/nato digest {args}", is_command=True, user_is_manager=True)
    reply = digest_bot.dispatch(request)
    assert reply.text.strip()
    # DigestCommands turns any exception into this apology; seeing it means a bug.
    assert "something went wrong" not in reply.text
    assert reply.kind in ("usage", "help", "info", "digest")


# Answers the questions on stdin, one JSON line each, in a fresh interpreter.
_ANSWER_LINES = """
import json, sys
from bot.messages import Request
from tests.fixtures import bundled_bot
bot = bundled_bot()
for line in sys.stdin:
    reply = bot.dispatch(Request("console", "u", "c", line.rstrip("\\n"), is_command=True))
    print(json.dumps([reply.text, reply.title, list(reply.entry_ids), reply.kind, reply.source_line,
                      [s.entry_id for s in reply.suggestions]]))
"""


def _as_json(reply: Reply) -> list[object]:
    """The reply as the child prints it, for comparing the two."""
    fields = [reply.text, reply.title, list(reply.entry_ids), reply.kind, reply.source_line]
    return [*fields, [s.entry_id for s in reply.suggestions]]


def test_answers_do_not_change_with_the_processs_hash_seed() -> None:
    # Set and dict-of-set iteration order follows PYTHONHASHSEED; an engine that leaned on
    # it would answer differently after every restart, or differently on two replicas.
    questions = [case.question for case in load_dev_set(default_dev_set())]
    questions += [q.upper() for q in questions[::6]] + [" ".join(reversed(q.split())) for q in questions[::6]]
    questions += ["timeline", "timeline firsts", "topics", "who kishida", "define itpp"]
    # This process's seed is random unless PYTHONHASHSEED is set; the child's differs.
    ours = os.environ.get("PYTHONHASHSEED", "")
    seed = str(int(ours) + 1) if ours.isdigit() else "1"
    done = subprocess.run(
        [sys.executable, "-c", _ANSWER_LINES],
        input="\n".join(questions) + "\n",
        cwd=REPO,
        env={**os.environ, "PYTHONHASHSEED": seed},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    theirs = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(theirs) == len(questions)
    here = [
        _as_json(bundled_bot().dispatch(Request("console", "u", "c", q, is_command=True))) for q in questions
    ]
    assert here == theirs
