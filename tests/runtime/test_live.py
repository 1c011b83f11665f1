"""Live knowledge: a reload swaps the whole base at once, a broken edit changes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.dispatch import Bot
from bot.messages import Request
from bot.ops.live import LiveKnowledge, ReloadResult
from tests.runtime.support import (
    BROKEN_TOPIC,
    EDITED,
    ORIGINAL,
    break_topics,
    copy_kb,
    edit_kishida,
    impossible_date,
)

WHO = Request("console", "u", "c", "who is fumio kishida")


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    return copy_kb(tmp_path)


async def test_a_reload_swaps_in_the_edited_base(kb_dir: Path) -> None:
    live = LiveKnowledge.load(kb_dir)
    bot = Bot(live.engine)
    assert ORIGINAL in bot.dispatch(WHO).text
    before = live.current
    edit_kishida(kb_dir)
    result = await live.reload("test")
    assert result.ok and result.changed and result.version != before.version
    assert EDITED in bot.dispatch(WHO).text
    # An answer already under way holds the edition it started with, whole.
    assert ORIGINAL in before.engine.ask("who is fumio kishida").text
    assert live.current is not before


async def test_an_unchanged_base_is_not_rebuilt(kb_dir: Path) -> None:
    live = LiveKnowledge.load(kb_dir)
    edition = live.current
    result = await live.reload("test")
    assert result.ok and not result.changed
    assert live.current is edition


async def test_a_broken_edit_keeps_the_old_base_and_names_file_line_entry_field(kb_dir: Path) -> None:
    live = LiveKnowledge.load(kb_dir)
    heard: list[ReloadResult] = []
    live.on_reload(heard.append)
    edition = live.current
    line = break_topics(kb_dir)
    result = await live.reload("test")
    assert not result.ok and not result.changed
    assert live.current is edition
    assert ORIGINAL in Bot(live.engine).dispatch(WHO).text
    problem = result.problems[0]  # (the entries that relate to it are reported too)
    assert (problem.file, problem.line, problem.entry_id, problem.field) == (
        "knowledge/entries.yaml",
        line,
        "person-kishida",
        "topics",
    )
    assert BROKEN_TOPIC in problem.message
    assert f"knowledge/entries.yaml:{line}: entry 'person-kishida': field 'topics'" in result.summary()
    assert heard == [result] and live.last_reload == result


@pytest.mark.parametrize(
    ("written", "complaint"),
    [
        ("2022-06-31", "'2022-06-31' is not a day of the calendar"),
        ("2022-13-01", "'2022-13-01' has month 13; months run 01-12"),
        ("2022-00-10", "'2022-00-10' has month 0; months run 01-12"),
    ],
)
async def test_an_impossible_date_fails_the_reload_naming_file_line_entry_field(
    kb_dir: Path, written: str, complaint: str
) -> None:
    live = LiveKnowledge.load(kb_dir)
    edition = live.current
    line = impossible_date(kb_dir, written)
    result = await live.reload("test")
    assert not result.ok and live.current is edition
    problem = result.problems[0]
    assert (problem.file, problem.line, problem.entry_id, problem.field, problem.message) == (
        "knowledge/entries.yaml",
        line,
        "madrid-summit-2022",
        "date",
        complaint,
    )
    assert "ValueError" not in result.summary()


async def test_a_file_change_is_noticed_and_loaded(kb_dir: Path) -> None:
    live = LiveKnowledge.load(kb_dir)
    stop = asyncio.Event()
    results: list[ReloadResult] = []
    changed = asyncio.Event()
    def record(result: ReloadResult) -> None:
        results.append(result)
        changed.set()

    live.on_reload(record)
    watcher = asyncio.create_task(live.watch(0.05, stop))
    try:
        await asyncio.sleep(0.1)
        edit_kishida(kb_dir)
        await asyncio.wait_for(changed.wait(), 10)
    finally:
        stop.set()
        await asyncio.wait_for(watcher, 5)
    assert [r.trigger for r in results] == ["file change"]
    assert EDITED in live.engine().ask("who is fumio kishida").text


async def test_questions_during_a_reload_never_see_a_half_loaded_base(kb_dir: Path) -> None:
    live = LiveKnowledge.load(kb_dir)
    bot = Bot(live.engine)
    edit_kishida(kb_dir)
    reload = asyncio.create_task(live.reload("test"))
    seen = set()
    while not reload.done():
        text = bot.dispatch(WHO).text
        seen.add("old" if ORIGINAL in text else "new" if EDITED in text else text)
        await asyncio.sleep(0)
    await reload
    seen.add("new" if EDITED in bot.dispatch(WHO).text else "?")
    assert seen <= {"old", "new"} and "new" in seen
