"""The request lifecycle every chat adapter shares, driven through a recording outlet."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from adapters.lifecycle import Lifecycle, Outlet
from bot.messages import Reply

_log = logging.getLogger("adapters.test-platform")


class Recording(Outlet[str]):
    """Records what the lifecycle asks of a platform."""

    def __init__(self, patience: float | None = None, fail_apology: bool = False) -> None:
        self.patience = patience
        self.fail_apology = fail_apology
        self.events: list[str] = []

    def render(self, reply: Reply) -> str:
        self.events.append(f"render {reply.text}")
        return reply.text.upper()

    async def send(self, message: str, reply: Reply) -> None:
        self.events.append(f"send {message} ephemeral={reply.ephemeral}")

    async def apologise(self) -> None:
        self.events.append("apologise")
        if self.fail_apology:
            raise ConnectionError("the platform is gone too")

    async def decline(self) -> None:
        self.events.append("decline")

    async def hold(self) -> None:
        self.events.append("hold")


async def test_a_reply_is_worked_out_on_the_core_thread_then_rendered_and_sent() -> None:
    lifecycle = Lifecycle("Test", _log)
    outlet = Recording()
    threads: list[str] = []

    def core() -> Reply:
        threads.append(threading.current_thread().name)
        return Reply("hello", ephemeral=True)

    await lifecycle.answer("question", outlet, lambda: lifecycle.core(core))
    lifecycle.close()
    assert outlet.events == ["render hello", "send HELLO ephemeral=True"]
    assert threads[0].startswith("briefbot-core")


async def test_a_request_counts_as_in_flight_until_its_reply_is_sent() -> None:
    lifecycle = Lifecycle("Test", _log)
    release = asyncio.Event()

    async def ask() -> Reply:
        await release.wait()
        return Reply("late")

    task = asyncio.create_task(lifecycle.answer("question", Recording(), ask))
    await asyncio.sleep(0)
    assert await lifecycle.wait_idle(timeout=0.01) is False
    release.set()
    await task
    assert await lifecycle.wait_idle(timeout=1) is True


async def test_a_failure_is_logged_with_its_traceback_on_the_platforms_logger_and_apologised_for_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lifecycle = Lifecycle("Test", _log)
    outlet = Recording()

    def broken() -> Reply:
        raise RuntimeError("the core broke")

    with caplog.at_level(logging.ERROR, logger=_log.name):
        await lifecycle.answer("slash command", outlet, lambda: lifecycle.core(broken))
    lifecycle.close()
    assert outlet.events == ["apologise"]
    [record] = [r for r in caplog.records if r.name == _log.name]
    assert record.getMessage() == "failed to handle a Test slash command"
    assert record.exc_info is not None and "the core broke" in str(record.exc_info[1])
    assert await lifecycle.wait_idle(timeout=1) is True


async def test_an_apology_that_fails_too_is_logged_and_goes_no_further(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lifecycle = Lifecycle("Test", _log)
    outlet = Recording(fail_apology=True)

    async def ask() -> Reply:
        raise ValueError("bad event")

    with caplog.at_level(logging.ERROR, logger=_log.name):
        await lifecycle.answer("mention", outlet, ask)
    messages = [r.getMessage() for r in caplog.records if r.name == _log.name]
    assert messages == [
        "failed to handle a Test mention",
        "could not send the apology for a failed Test mention",
    ]


async def test_while_shutting_down_a_request_is_declined_and_never_reaches_the_core() -> None:
    lifecycle = Lifecycle("Test", _log)
    lifecycle.draining = True
    outlet = Recording()
    asked: list[str] = []

    async def ask() -> Reply:
        asked.append("asked")
        return Reply("no")

    await lifecycle.answer("question", outlet, ask)
    assert outlet.events == ["decline"] and asked == []


async def test_a_slow_answer_is_held_before_it_is_sent() -> None:
    lifecycle = Lifecycle("Test", _log)
    outlet = Recording(patience=0.01)
    release = asyncio.Event()

    async def slow() -> Reply:
        await release.wait()
        return Reply("eventually")

    task = asyncio.create_task(lifecycle.answer("question", outlet, slow))
    while "hold" not in outlet.events:
        await asyncio.sleep(0.01)
    release.set()
    await task
    assert outlet.events == ["hold", "render eventually", "send EVENTUALLY ephemeral=False"]


async def test_a_quick_answer_is_never_held() -> None:
    lifecycle = Lifecycle("Test", _log)
    outlet = Recording(patience=60)

    async def quick() -> Reply:
        return Reply("now")

    await lifecycle.answer("question", outlet, quick)
    assert "hold" not in outlet.events
