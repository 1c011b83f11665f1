"""`briefbot curate`: the curators' queue, grouped, most frequent first; --since, --json,
--handled (#13)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.cli import main
from adapters.console import Console
from bot.dispatch import Bot
from bot.messages import Request
from bot.ops.prepared import prepare
from bot.store.sqlite import SQLiteStore


def _asked(db: Path, lines: list[str], *, at: datetime) -> None:
    with SQLiteStore(db, clock=lambda: at) as store:
        console = Console(Bot(prepare(None), store=store))
        for line in lines:
            console.reply_to(line)


def _queue(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    assert main(["curate", "--json", *argv]) == 0, capsys.readouterr().err
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "q.sqlite3"
    _asked(
        path,
        [
            "hello!",  # a pleasantry: never unanswered
            "what did japan do after july 2023?",  # answered "my notes stop": not unanswered
            "who won the 2022 world cup",
            "who won the world cup in 2022?",
            "/nato who Macron",  # a who miss is unanswered
            "when did japan join the nato cyber center officially as a sponsor",  # a near miss
        ],
        at=datetime(2024, 3, 1, 9, tzinfo=UTC),
    )
    _asked(path, ["who won the world cup 2022"], at=datetime(2024, 3, 5, 9, tzinfo=UTC))
    with SQLiteStore(path) as store:
        store.record_feedback(
            platform="console",
            workspace="",
            channel="console",
            user="U1",
            question="what is the itpp",
            entry_ids=("term-itpp",),
            helpful=False,
        )
    return path


def test_the_queue_groups_similar_questions_most_frequent_first(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = _queue(capsys, "--db", str(db))
    questions = [str(i["question"]) for i in items]
    assert questions[0] == "who won the 2022 world cup" and items[0]["count"] == 3
    assert items[0]["kinds"] == {"declined": 3}  # out of scope: no near miss
    assert items[0]["last_seen"] == "2024-03-05T09:00:00+00:00"
    assert "/nato who Macron" in questions
    near = next(i for i in items if "sponsor" in str(i["question"]))
    assert near["kinds"] == {"near miss": 1} and near["entry_ids"]
    thumbs = next(i for i in items if i["question"] == "what is the itpp")
    assert thumbs["kinds"] == {"thumbs down": 1} and thumbs["entry_ids"] == ["term-itpp"]
    assert not any("hello" in q or "july 2023" in q for q in questions)


def test_since_drops_older_occurrences(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = _queue(capsys, "--db", str(db), "--since", "2024-03-02")
    cup = next(i for i in items if "world cup" in str(i["question"]))
    assert cup["count"] == 1 and "Macron" not in json.dumps(items)


def test_an_item_marked_handled_leaves_the_queue_until_asked_again(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [cup] = [i for i in _queue(capsys, "--db", str(db)) if "world cup" in str(i["question"])]
    assert main(["curate", "--db", str(db), "--handled", str(cup["key"])]) == 0
    assert "handled" in capsys.readouterr().out
    assert not any("world cup" in str(i["question"]) for i in _queue(capsys, "--db", str(db)))
    assert any(i["key"] == cup["key"] for i in _queue(capsys, "--db", str(db), "--all"))
    _asked(db, ["who won the world cup in 2022"], at=datetime(2099, 1, 1, tzinfo=UTC))
    assert any(i["key"] == cup["key"] for i in _queue(capsys, "--db", str(db)))


def test_an_unknown_key_is_refused(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["curate", "--db", str(db), "--handled", "nosuchkey"]) == 1
    assert "no queue item" in capsys.readouterr().err


def test_the_console_listing_names_keys_counts_and_entries(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["curate", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "×3 “who won the 2022 world cup”" in out and "entries: term-itpp" in out
    assert "briefbot curate --handled KEY" in out


# -- 👎 with their reasons ----------------------------------------------------------------------


def _voted_down(db: Path, votes: list[tuple[str, str, str | None, str]]) -> None:
    """(user, question, reason, note) votes down on the ITPP answer, through the core as
    every platform records them, a minute apart."""
    for minute, (user, question, reason, note) in enumerate(votes):
        at = datetime(2024, 3, 2, 9, minute, tzinfo=UTC)
        with SQLiteStore(db, clock=lambda at=at: at) as store:  # type: ignore[misc]
            bot = Bot(prepare(None), store=store)
            request = Request("slack", user, "C1", "", workspace="T1")
            bot.feedback(request, ("term-itpp",), question, helpful=False)
            if reason is not None:
                bot.feedback_reason(request, ("term-itpp",), reason, note)


HOSTILE = "<!channel> @everyone look\x1b[31m\u202e here"


@pytest.fixture
def reasons_db(tmp_path: Path) -> Path:
    path = tmp_path / "r.sqlite3"
    _voted_down(
        path,
        [
            ("U1", "what is the itpp", "wrong", "It is a partnership programme, not a treaty."),
            ("U2", "what is the itpp?", "outdated", ""),
            ("U3", "what is the ITPP", None, ""),  # voted down, gave no reason
            ("U4", "what is the itpp", "wrong", "Signed 2023, not 2022."),
            ("U5", "what is the itpp", "not_asked", HOSTILE),
            ("U6", "what is the itpp", "wrong", "latest"),
        ],
    )
    return path


def test_a_thumbs_down_item_counts_its_reasons_and_shows_the_latest_notes(
    reasons_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [item] = _queue(capsys, "--db", str(reasons_db))
    assert item["kinds"] == {"thumbs down": 6}  # similar wordings are one item, as before
    assert item["reasons"] == {"wrong": 3, "outdated": 1, "not_asked": 1}  # most frequent first
    assert list(item["reasons"]) == ["wrong", "outdated", "not_asked"]
    notes = item["notes"]
    assert notes == ["latest", "‹!channel› ＠everyone look [31m here", "Signed 2023, not 2022."]


def test_the_console_listing_says_why_and_defuses_what_voters_typed(
    reasons_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["curate", "--db", str(reasons_db)]) == 0
    out = capsys.readouterr().out
    assert "👎 because: Wrong 3, Outdated 1, Not what I asked 1" in out
    assert "notes: “latest” | “‹!channel› ＠everyone look [31m here” | “Signed 2023, not 2022.”" in out
    # Nothing a chat would read as a mention, and no terminal escape, whatever was typed.
    assert "<!channel>" not in out and "@everyone" not in out
    assert "\x1b" not in out and "\u202e" not in out


def test_the_json_queue_defuses_notes_too(reasons_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["curate", "--db", str(reasons_db), "--json"]) == 0
    out = capsys.readouterr().out
    assert "<!channel>" not in out and "@everyone" not in out and "\\u001b" not in out
