"""The console's digest tools, driven through `briefbot`'s main() as a user types them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from adapters.cli import main
from bot.store.sqlite import SQLiteStore
from tests.digest.support import make_kb_dir


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_kb_dir(tmp_path_factory.mktemp("kb"))


def briefbot(capsys: pytest.CaptureFixture[str], kb_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--knowledge", str(kb_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def chat(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kb_dir: Path, db: Path, text: str
) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code, out, _ = briefbot(capsys, kb_dir, "chat", "--db", str(db))
    assert code == 0
    return out


def test_preview_prints_a_digest_as_of_a_given_date(capsys: pytest.CaptureFixture[str], kb_dir: Path) -> None:
    code, out, _ = briefbot(capsys, kb_dir, "digest", "preview", "month", "--date", "2024-06-03")
    assert code == 0
    assert out.splitlines()[:3] == [
        "== This month in NATO–Japan relations: June, across the years ==",
        "• 29 June 2022 — Kishida attends the Madrid summit (¶3)",
        "• June 1990 — First NATO–Japan security dialogue (¶3)",
    ]
    assert "As of 3 June 2024." in out


def test_preview_explains_a_bad_kind_or_topic(capsys: pytest.CaptureFixture[str], kb_dir: Path) -> None:
    code, _, err = briefbot(capsys, kb_dir, "digest", "preview", "topic", "submarines")
    assert code == 2 and "Topics: diplomacy, summits" in err
    code, _, err = briefbot(capsys, kb_dir, "digest", "preview", "new")
    assert code == 2 and "needs a subscription" in err


def test_subscribe_in_chat_then_run_due_prints_the_post_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kb_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    out = chat(monkeypatch, capsys, kb_dir, db, "/nato digest subscribe month daily 09:00 Asia/Tokyo\n")
    assert "Subscribed this channel to the `month` digest (#1)" in out
    with SQLiteStore(db) as store:
        assert [s.platform for s in store.subscriptions()] == ["console"]
    code, out, _ = briefbot(capsys, kb_dir, "digest", "run-due", "--db", str(db), "--now", "2099-07-02T01:00")
    assert code == 0
    assert out.startswith(
        "--> console:console\n== This month in NATO–Japan relations: July, across the years =="
    )
    assert "#1 2099-07-02T09:00: posted" in out
    code, out, _ = briefbot(capsys, kb_dir, "digest", "run-due", "--db", str(db), "--now", "2099-07-02T02:00")
    assert out == "Nothing is due.\n"


def test_run_due_leaves_other_platforms_subscriptions_alone(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, tmp_path: Path
) -> None:
    from bot.store.values import NewSubscription
    from tests.digest.support import utc

    db = tmp_path / "bot.sqlite3"
    with SQLiteStore(db) as store:
        store.add_subscription(
            NewSubscription("slack", "T1", "C1", "month", "", "daily 09:00", "UTC", "U1"), now=utc(2099, 1, 1)
        )
    code, out, _ = briefbot(capsys, kb_dir, "digest", "run-due", "--db", str(db), "--now", "2099-07-02T10:00")
    assert code == 0 and out == "Nothing is due.\nLeft to their own adapters: 1 on slack.\n"
    with SQLiteStore(db) as store:
        assert store.last_delivery(store.subscriptions()[0].id) is None


def test_feedback_and_unanswered_questions_are_listed_for_curators(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kb_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    chat(monkeypatch, capsys, kb_dir, db, "what is the airspeed of an unladen swallow?\n")
    with SQLiteStore(db) as store:
        store.record_feedback(
            platform="slack",
            workspace="T1",
            channel="C1",
            user="U1",
            question="when was the madrid summit?",
            entry_ids=("madrid-summit-2022",),
            helpful=True,
        )
    code, out, _ = briefbot(capsys, kb_dir, "kb", "unanswered", "--db", str(db))
    assert code == 0 and "console:console “what is the airspeed of an unladen swallow?”" in out
    code, out, _ = briefbot(capsys, kb_dir, "feedback", "--db", str(db))
    assert code == 0 and out.startswith("1 most recent: 1 helpful, 0 not helpful\n")
    assert "helpful     slack:C1 “when was the madrid summit?” -> madrid-summit-2022" in out


def test_readers_do_not_create_a_database_at_a_mistyped_path(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, tmp_path: Path
) -> None:
    code, _, err = briefbot(capsys, kb_dir, "feedback", "--db", str(tmp_path / "typo.sqlite3"))
    assert code == 1 and "there is no database at" in err
    assert not (tmp_path / "typo.sqlite3").exists()


def test_chat_without_a_database_still_explains_digests_are_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kb_dir: Path
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("/nato digest list\n"))
    code, out, _ = briefbot(capsys, kb_dir, "chat")
    assert code == 0 and "Digests aren't enabled on this bot." in out
