"""The `context_ttl_hours` setting (BRIEFBOT_CONTEXT_TTL_HOURS): how long a conversation's
context is kept, wherever a bot answers: the runtime every platform shares, `briefbot chat`
and `briefbot ask --json -`. An expired context is not used: the follow-up stands alone."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.cli import main
from adapters.runtime.process import Runtime
from bot.messages import Reply, Request
from bot.ops.config import load_config
from bot.ops.live import LiveKnowledge
from bot.ops.observed import ObservedBot
from bot.store.sqlite import SQLiteStore
from tests.fixtures import bundled_engine

VISIT = "stoltenbergs visit to tokio"
WHEN = "and when was that?"
VISIT_ENTRY = "stoltenberg-tokyo-visit-2023"
NOW = datetime(2024, 3, 1, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No settings file or variable of the machine's own leaks in."""
    monkeypatch.chdir(tmp_path)
    for name in ("BRIEFBOT_CONFIG", "BRIEFBOT_CONTEXT_TTL_HOURS", "BRIEFBOT_DB", "BRIEFBOT_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)


def _runtime_bot(store: SQLiteStore, env: dict[str, str]) -> ObservedBot:
    """The one bot ``briefbot run`` builds for every platform, from these settings."""
    engine = bundled_engine()
    runtime = Runtime(load_config(None, env), engine.kb, {}, engine)
    return runtime._bot(store, LiveKnowledge(engine.kb, engine=engine))


def _ask(bot: ObservedBot, text: str) -> Reply:
    return bot.dispatch(Request("slack", "U1", "C1", text, workspace="T1", thread="1700000000.000100"))


def test_the_runtime_forgets_a_thread_after_the_configured_hours(tmp_path: Path) -> None:
    now = [NOW]
    with SQLiteStore(tmp_path / "bot.sqlite3", clock=lambda: now[0]) as store:
        bot = _runtime_bot(store, {"BRIEFBOT_CONTEXT_TTL_HOURS": "2"})
        _ask(bot, VISIT)
        now[0] = NOW + timedelta(hours=1, minutes=59)
        assert _ask(bot, WHEN).entry_ids == (VISIT_ENTRY,)  # in context: 1 h 59 min after
        now[0] += timedelta(hours=2, seconds=1)  # 2 h after that follow-up, its last turn
        expired = _ask(bot, WHEN)
    assert expired.entry_ids != (VISIT_ENTRY,) and "February 2023" not in expired.text


def test_the_runtime_keeps_a_thread_a_day_by_default(tmp_path: Path) -> None:
    now = [NOW]
    with SQLiteStore(tmp_path / "bot.sqlite3", clock=lambda: now[0]) as store:
        bot = _runtime_bot(store, {})
        _ask(bot, VISIT)
        now[0] = NOW + timedelta(hours=23)
        assert _ask(bot, WHEN).entry_ids == (VISIT_ENTRY,)


def _chat(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *lines: str) -> list[str]:
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    assert main(["chat"]) == 0, capsys.readouterr().err
    replies: list[str] = []
    for line in capsys.readouterr().out.splitlines():
        if line.startswith(" ") and replies:  # a reply's source and related lines are indented
            replies[-1] += "\n" + line
        elif line.strip():
            replies.append(line)
    return replies


def test_chat_follows_up_by_default_and_not_with_a_ttl_of_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "February 2023" in _chat(monkeypatch, capsys, VISIT, WHEN)[-1]
    monkeypatch.setenv("BRIEFBOT_CONTEXT_TTL_HOURS", "0")
    alone = _chat(monkeypatch, capsys, VISIT, WHEN)[-1]
    assert "February 2023" not in alone


@pytest.mark.parametrize("where", ["env", "file"])
def test_batch_threads_follow_the_setting(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    lines = [json.dumps({"thread": "t1", "q": VISIT}), json.dumps({"thread": "t1", "q": WHEN})]

    def batch() -> list[dict[str, object]]:
        monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
        assert main(["ask", "--json", "-"]) == 0, capsys.readouterr().err
        return [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert batch()[1]["entry_ids"] == [VISIT_ENTRY]
    if where == "env":
        monkeypatch.setenv("BRIEFBOT_CONTEXT_TTL_HOURS", "0")
    else:
        (tmp_path / "briefbot.toml").write_text("context_ttl_hours = 0\n")
    rows = batch()
    assert rows[0]["entry_ids"] == [VISIT_ENTRY]  # the first question is answered as ever
    assert rows[1]["entry_ids"] != [VISIT_ENTRY] and rows[1]["thread"] == "t1"
