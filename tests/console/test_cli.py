"""The `briefbot` command line, run as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import adapters.cli
import adapters.cli.platforms
from bot.qa.matcher import COVERAGE_SHARE, FUZZY_SHARE
from tests.source import source_path

REPO = Path(__file__).resolve().parents[2]


def briefbot(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )


def test_batch_mode_writes_exactly_one_json_line_per_input_line() -> None:
    questions = [
        "when did japan join the nato cyber centre",
        "",
        "how many troops does japan have",
        "\x00\x01",
        "a" * 50_000,
        "what happened in 2018",
        "who is oana lungescu",
    ]
    result = briefbot("ask", "--json", "-", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(questions)
    rows = [json.loads(line) for line in lines]
    for row in rows:
        assert set(row) >= {"answer", "abstained", "confidence", "entry_ids"}
        assert isinstance(row["answer"], str) and isinstance(row["abstained"], bool)
    assert not rows[0]["abstained"] and "2022" in rows[0]["answer"]
    assert rows[1]["abstained"] and rows[2]["abstained"]
    assert rows[5]["entry_ids"]


def test_explain_shows_match_scores_and_runner_ups() -> None:
    result = briefbot("ask", "stoltenbergs visit to tokio", "--explain")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Stoltenberg" in out
    assert "spelling: tokio→tokyo" in out
    assert "candidates" in out and out.count("coverage") >= 3
    assert "via “" in out
    # The formula shown is the matcher's, not a stale copy of older weights.
    assert f"{FUZZY_SHARE:.2f}·fuzzy + {COVERAGE_SHARE:.2f}·coverage" in out


def test_chat_answers_questions_and_commands_until_eof() -> None:
    result = briefbot("chat", stdin="who is kishida\n/nato timeline 20x8\n/nato timeline 2018\nquit\n")
    assert result.returncode == 0, result.stderr
    assert "Kishida" in result.stdout
    assert "couldn't read “20x8”" in result.stdout
    assert "2018" in result.stdout


def test_kb_check_counts_and_verifies_evidence() -> None:
    result = briefbot("kb", "check", "--source", str(source_path()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "by kind:" in result.stdout and "milestone" in result.stdout
    assert "evidence checked" in result.stdout


def test_kb_check_fails_precisely_on_a_broken_base(tmp_path: Path) -> None:
    broken = tmp_path / "knowledge"
    broken.mkdir()
    (broken / "sources.yaml").write_text((REPO / "knowledge" / "sources.yaml").read_text())
    (broken / "bad.yaml").write_text("entries:\n  - id: Bad Id\n    kind: milestone\n")
    result = briefbot("--knowledge", str(broken), "kb", "check")
    assert result.returncode == 1
    assert "bad.yaml:2: entry 'Bad Id': field 'id'" in result.stderr


def test_kb_check_names_an_impossible_date_without_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "knowledge"
    broken.mkdir()
    sources = (REPO / "knowledge" / "sources.yaml").read_text()
    (broken / "sources.yaml").write_text(sources.replace("published: 2023-07", "published: 2023-02-29"))
    entries = (REPO / "knowledge" / "milestones.yaml").read_text()
    first = entries.index("date: 2023-07-11")
    (broken / "milestones.yaml").write_text(
        entries[:first] + "date: 2023-02-30" + entries[first + len("date: 2023-07-11") :]
    )
    line = entries[:first].count("\n") + 1
    result = briefbot("--knowledge", str(broken), "kb", "check")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"milestones.yaml:{line}: entry 'vilnius-summit-2023': field 'date': " in result.stderr
    assert "'2023-02-30' is not a day of the calendar" in result.stderr
    assert "entry 'nato-japan-2023': field 'published': '2023-02-29' is not a day" in result.stderr


def test_kb_export_prints_every_entry_as_json() -> None:
    result = briefbot("kb", "export", "--json")
    entries = json.loads(result.stdout)
    assert len(entries) >= 150
    assert {"id", "kind", "answer", "questions", "source", "content_hash"} <= set(entries[0])


def test_a_reader_that_stops_early_is_not_an_error() -> None:
    """`briefbot ask ... | head -1`: the reader is gone before the answer is written."""
    child = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "ask", "what happened in 2023"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert child.stdout is not None
    child.stdout.close()  # long before the child has started up and answered
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr


def test_explain_lists_the_checks_that_lowered_a_candidate() -> None:
    """Why did it decline? Each candidate shows its match and what each check took away."""
    result = briefbot("ask", "when did sweden join nato", "--explain")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "isn't in my briefing notes" in out
    assert "match 0." in out
    assert "-0.30 sweden is not what it is about" in out


def test_public_names_are_pinned() -> None:
    # `briefbot` is `adapters.cli:main`; `briefbot slack` and `briefbot discord` are the CLI's,
    # not the adapters': an adapter never starts the runtime.
    assert adapters.cli.__all__ == ["main"]
    assert adapters.cli.platforms.__all__ == [
        "register_platforms",
        "register_run",
        "run_discord",
        "run_slack",
    ]


def test_the_command_lists_every_command_in_order() -> None:
    result = briefbot("--help")
    assert result.returncode == 0, result.stderr
    assert "{run,config,health,chat,ask,eval,kb,slack,discord,digest,db,feedback,curate}" in result.stdout


def test_batch_mode_keeps_a_conversation_per_thread_id() -> None:
    lines = [
        '{"thread": "t1", "q": "stoltenbergs visit to tokio"}',
        '{"thread": "t2", "q": "what was called a historic first for japan and nato?"}',
        "and when was that?",  # a plain line stands alone, whatever the threads hold
        '{"thread": "t1", "q": "and when was that?"}',
        '{"thread": 2, "q": "who said it?"}',  # a number is a thread id too, but another one
        '{"thread": "t2", "q": "who said it?"}',
        '{"q": "who is oana lungescu?"}',
    ]
    result = briefbot("ask", "--json", "-", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(lines)
    visit = rows[0]["entry_ids"]
    assert rows[3]["entry_ids"] == visit and "February 2023" in rows[3]["answer"]
    assert rows[3]["thread"] == "t1"
    assert rows[2]["entry_ids"] != visit and "thread" not in rows[2]
    assert "Lungescu" in rows[5]["answer"] and rows[5]["thread"] == "t2"
    assert rows[4]["thread"] == "2" and "Lungescu" not in rows[4]["answer"]
    assert "Lungescu" in rows[6]["answer"]


def test_a_malformed_batch_line_gets_an_error_line_and_the_batch_goes_on() -> None:
    lines = [
        '{"thread": "t1", "q": ',
        '{"thread": "t1", "question": "who is kishida"}',
        '{"thread": ["t1"], "q": "who is kishida"}',
        '{"thread": "' + "x" * 500 + '", "q": "who is kishida"}',
        '{"thread": "t1", "q": null}',
        "who is kishida",
    ]
    result = briefbot("ask", "--json", "-", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(lines)
    for number, row in enumerate(rows[:-1], start=1):
        assert row["error"] == "bad-line" and row["abstained"] is True and row["answer"] == ""
        assert row["message"].startswith(f"line {number}: ")
        assert '{"thread": "<id>", "q": "<question>"}' in row["message"]
    assert "not valid JSON" in rows[0]["message"]
    assert "unknown field 'question'" in rows[1]["message"]
    assert "Kishida" in rows[-1]["answer"]


def test_kb_export_lists_entries_and_json_gives_them_in_full(capsys: pytest.CaptureFixture[str]) -> None:
    from adapters.cli import main

    assert main(["kb", "export"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(" person " in line and "Lungescu" in line for line in lines)
    assert not lines[0].startswith("[")
    assert main(["kb", "export", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert len(entries) == len(lines) and {"id", "kind", "title"} <= set(entries[0])
