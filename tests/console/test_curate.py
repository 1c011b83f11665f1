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
