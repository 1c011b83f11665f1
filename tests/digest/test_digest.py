"""Digests composed from a knowledge base: each kind, labels, and splitting for platforms."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.discord import DiscordPoster
from adapters.discord.rendering import CONTENT_LIMIT as DISCORD_CONTENT_LIMIT
from adapters.slack import SlackPoster
from bot.digests.compose import (
    TITLE_MAX,
    DigestError,
    DigestSpec,
    compose,
    parse_spec,
    snapshot,
    split_lines,
)
from bot.knowledge.base import KnowledgeBase
from tests.digest.support import MILESTONES, entry, make_kb

JULY_2023 = date(2023, 7, 20)
LIMITS = {p.platform: p.message_limit for p in (SlackPoster, DiscordPoster)}  # each poster declares its own


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return make_kb(tmp_path_factory.mktemp("kb"))  # a frozen value: safe to share


def ids(kb: KnowledgeBase, kind: str, arg: str = "", on: date = JULY_2023) -> list[str]:
    return list(compose(parse_spec(kind, arg, kb, today=on), kb, on=on).entry_ids)


def test_month_lists_this_months_milestones_across_the_years_newest_first(kb: KnowledgeBase) -> None:
    assert ids(kb, "month") == ["vilnius-itpp-2023", "joint-declaration-2007"]
    assert ids(kb, "month", on=date(2024, 6, 1)) == ["madrid-summit-2022", "first-dialogue-1990"]
    digest = compose(DigestSpec("month"), kb, on=JULY_2023)
    assert digest.title == "This month in NATO–Japan relations: July, across the years"


def test_items_carry_date_one_line_and_source_paragraph_and_plans_are_labelled(kb: KnowledgeBase) -> None:
    digest = compose(DigestSpec("month"), kb, on=JULY_2023)
    planned, reported = digest.lines()[:2]
    assert planned == "• 12 July 2023 — [planned as of July 2023] ITPP to be agreed at Vilnius (¶3)"
    assert reported == "• 1 July 2007 — Joint political declaration signed (¶3)"
    assert digest.lines()[-1].startswith("As of 20 July 2023. My notes run to July 2023 (Brummer & Lindgren")
    assert "Planned items were plans as of July 2023, not outcomes." in digest.as_of


def test_a_plan_is_labelled_with_the_date_its_entry_holds_at(tmp_path: Path) -> None:
    plan = entry("space-plan-2024", date="2024-07", title="Space dialogue (planned)", planned=True)
    plan.update(as_of="2024-03", answer="As of March 2024 a space dialogue was only planned. A test entry.")
    digest = compose(DigestSpec("month"), make_kb(tmp_path, [*MILESTONES, plan]), on=JULY_2023)
    assert "• July 2024 — [planned as of March 2024] Space dialogue (¶3)" in digest.lines()
    assert "• 12 July 2023 — [planned as of July 2023] ITPP to be agreed at Vilnius (¶3)" in digest.lines()
    assert "Planned items were plans as of the date in their label, not outcomes." in digest.as_of
    alone = compose(DigestSpec("period", "2024"), make_kb(tmp_path, [plan], name="alone"), on=JULY_2023)
    assert "Planned items were plans as of March 2024, not outcomes." in alone.as_of


def test_period_takes_whole_dates_and_ranges_and_only_claims_what_certainly_fell_inside(
    kb: KnowledgeBase,
) -> None:
    assert ids(kb, "period", "2022") == ["ccdcoe-2022", "madrid-summit-2022"]
    # Dated only "2022", the cyber centre may not have been in June: it is left out.
    assert ids(kb, "period", "2022-06") == ["madrid-summit-2022"]
    assert ids(kb, "period", "2007..2014-05") == ["joint-declaration-2007", "ipcp-2014"]
    assert ids(kb, "period", "month", on=date(2022, 7, 5)) == ["madrid-summit-2022"]
    assert ids(kb, "period", "week", on=date(2022, 7, 4)) == ["madrid-summit-2022"]
    assert ids(kb, "period", "week", on=date(2022, 7, 7)) == []
    assert ids(kb, "period", "year", on=date(2015, 3, 1)) == ["ipcp-2014", "gulf-of-aden-2014"]
    title = compose(parse_spec("period", "month", kb), kb, on=date(2022, 7, 5)).title
    assert title == "NATO–Japan milestones, June 2022"
    # The way people say it works as well.
    assert ids(kb, "period", "last-week", on=date(2022, 7, 4)) == ["madrid-summit-2022"]
    title = compose(parse_spec("period", "Last-Month", kb), kb, on=date(2022, 7, 5)).title
    assert title == "NATO–Japan milestones, June 2022"


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("", "`period` needs a range"),
        ("fortnight", "Use one of week, month, year, a date"),
        ("2022-13", "months run 01-12"),
        ("2021..2019", "runs backwards; did you mean 2019..2021?"),
    ],
)
def test_a_bad_period_says_what_is_valid(kb: KnowledgeBase, arg: str, message: str) -> None:
    with pytest.raises(DigestError, match=re.escape(message)):
        parse_spec("period", arg, kb)


def test_topic_gives_milestones_then_undated_key_facts(kb: KnowledgeBase) -> None:
    assert ids(kb, "topic", "maritime") == ["gulf-of-aden-2014", "fact-maritime-interest"]
    assert ids(kb, "topic", "naval") == ["gulf-of-aden-2014", "fact-maritime-interest"]  # a synonym


def test_an_unknown_or_empty_topic_lists_the_topics_that_have_content(kb: KnowledgeBase) -> None:
    with pytest.raises(DigestError) as caught:
        parse_spec("topic", "submarines", kb)
    assert str(caught.value) == (
        "“submarines” is not a topic I know. Topics: diplomacy, summits, institutions, maritime, cyber."
    )
    with pytest.raises(DigestError, match="“space” has nothing to digest yet"):
        parse_spec("topic", "space", kb)


def test_an_unknown_kind_or_a_stray_argument_lists_the_kinds(kb: KnowledgeBase) -> None:
    with pytest.raises(DigestError, match=re.escape("“weekly” is not a digest kind. Digest kinds: `month`")):
        parse_spec("weekly", "", kb)
    with pytest.raises(DigestError, match="`month` takes no argument"):
        parse_spec("month", "july", kb)


def test_new_reports_added_and_changed_entries_since_the_baseline(tmp_path: Path, kb: KnowledgeBase) -> None:
    baseline = snapshot(kb)
    assert compose(DigestSpec("new"), kb, on=JULY_2023, baseline=baseline).empty
    changed = [
        e if e["id"] != "ccdcoe-2022" else {**e, "title": "Japan joins CCDCOE in Tallinn"} for e in MILESTONES
    ]
    added = entry("space-dialogue-2023", date="2023-03", topics=["space"], title="First space dialogue")
    later = make_kb(tmp_path, [*changed, added], name="later")
    digest = compose(DigestSpec("new"), later, on=JULY_2023, baseline=baseline)
    assert [(i.entry_id, i.change) for i in digest.items] == [
        ("ccdcoe-2022", "updated"),
        ("space-dialogue-2023", "new"),
    ]
    assert digest.lines()[1] == "• [new] March 2023 — First space dialogue (¶3)"
    now = snapshot(later)
    assert dict(digest.delivers) == {e: now[e] for e in ("ccdcoe-2022", "space-dialogue-2023")}
    # Once posted, what it delivered is not news again.
    assert compose(DigestSpec("new"), later, on=JULY_2023, baseline=baseline, delivered=now).empty


def test_new_without_a_baseline_posts_nothing_and_starts_one(kb: KnowledgeBase) -> None:
    digest = compose(DigestSpec("new"), kb, on=JULY_2023, baseline=None)
    assert digest.empty and dict(digest.delivers) == snapshot(kb)
    assert "Nothing has been added or changed" in digest.text()


@pytest.fixture(scope="module")
def big_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """Fifty July milestones with long titles: more than one message anywhere."""
    long_title = "Japan and NATO hold another round of staff talks on maritime security cooperation no. {}"
    entries = [
        entry(f"talks-{i:03d}", date=f"{2000 + i % 23}-07-{1 + i % 28:02d}", title=long_title.format(i))
        for i in range(50)
    ]
    return make_kb(tmp_path_factory.mktemp("big"), entries)


@pytest.mark.parametrize("platform", ["slack", "discord"])
def test_a_long_digest_is_split_within_the_platform_limit_and_loses_nothing(
    big_kb: KnowledgeBase, platform: str
) -> None:
    digest = compose(DigestSpec("month"), big_kb, on=JULY_2023)
    limit = LIMITS[platform]
    parts = digest.split_for(limit)
    assert len(parts) > 1
    assert all(len(p) <= limit for p in parts)
    if platform == "discord":  # the title shares the 2000-character message
        assert all(len(f"**{'x' * TITLE_MAX}**\n{p}") <= DISCORD_CONTENT_LIMIT for p in parts)
    assert [p.splitlines()[0] for p in parts] == [f"({i}/{len(parts)})" for i in range(1, len(parts) + 1)]
    body = [line for p in parts for line in p.splitlines()[1:]]
    assert [line for line in body if line.startswith("•")] == [item.render() for item in digest.items]
    assert body[-1] == digest.as_of
    replies = digest.replies(limit)
    assert [r.text for r in replies] == list(parts) and {r.kind for r in replies} == {"digest"}


def test_a_short_digest_is_one_unnumbered_part_and_a_long_preview_carries_its_parts(
    big_kb: KnowledgeBase, kb: KnowledgeBase
) -> None:
    short = compose(DigestSpec("month"), kb, on=JULY_2023)
    assert short.split_for(SlackPoster.message_limit) == (short.text(),)
    assert short.to_reply().parts == () and short.to_reply().kind == "digest"
    long = compose(DigestSpec("month"), big_kb, on=JULY_2023)
    reply = long.to_reply(DISCORD_CONTENT_LIMIT)
    assert reply.text == long.text() and len(reply.parts) > 1


@given(
    lines=st.lists(st.text(alphabet="ab cdé—•\t", max_size=300), min_size=1, max_size=40),
    limit=st.integers(min_value=60, max_value=600),
)
def test_splitting_never_exceeds_the_limit_nor_drops_a_word(lines: list[str], limit: int) -> None:
    parts = split_lines(lines, limit)
    assert all(len(p) <= limit for p in parts)
    if len(parts) > 1:
        parts = tuple(p.split("\n", 1)[1] if "\n" in p else "" for p in parts)
    assert " ".join(parts).split() == " ".join(lines).split()
