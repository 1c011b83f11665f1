"""Question logs (plain and JSON lines), secret scrubbing, and the metrics they feed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.messages import Request
from bot.ops.live import ReloadResult
from bot.ops.logs import configure_logging
from bot.ops.metrics import Metrics, PlatformErrorCounter
from bot.ops.observed import ObservedBot
from bot.qa.engine import Engine
from bot.store.sqlite import SQLiteStore
from tests.adapters.slack.harness import fixture_kb

TOKEN = "xoxb-1234567890-never-log-me"
USER = "U0RAWUSERID"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging("json", "info", secrets=[TOKEN, ""], stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_question_is_one_json_line_with_a_hashed_user(captured: io.StringIO, tmp_path: Path) -> None:
    metrics = Metrics()
    with SQLiteStore(tmp_path / "b.sqlite3") as store:
        bot = ObservedBot(
            Engine(fixture_kb()),
            store=store,
            user_hash=lambda r: store.user_hash(r.platform, r.workspace, r.user),
            on_question=metrics.record_question,
        )
        bot.dispatch(Request("slack", USER, "C1", "who is fumio kishida", workspace="T1"))
        bot.dispatch(Request("slack", USER, "C1", "what is the weather on mars", workspace="T1"))
        expected_hash = store.user_hash("slack", "T1", USER)
    answered, abstained = [line for line in lines(captured) if line.get("event") == "question"]
    assert answered["outcome"] == "answered" and answered["platform"] == "slack"
    assert answered["entry_ids"] == ["person-kishida"]
    assert isinstance(answered["confidence"], float) and isinstance(answered["latency_ms"], float)
    assert answered["user_hash"] == expected_hash
    assert answered["question_id"] != abstained["question_id"]
    assert abstained["outcome"] == "abstained"
    assert USER not in captured.getvalue()
    assert "weather" not in captured.getvalue()  # what people ask stays out of the log
    page = metrics.render().decode()
    assert 'briefbot_questions_total{outcome="answered",platform="slack"} 1.0' in page
    assert 'briefbot_abstentions_total{platform="slack"} 1.0' in page
    assert 'briefbot_answer_latency_seconds_count{platform="slack"} 2.0' in page


def test_a_failing_core_call_is_logged_and_counted_as_an_error(captured: io.StringIO) -> None:
    metrics = Metrics()

    def broken_hash(request: Request) -> str:
        raise RuntimeError("store down")

    bot = ObservedBot(Engine(fixture_kb()), user_hash=broken_hash, on_question=metrics.record_question)
    bot.digest_handler = lambda request, args: 1 / 0  # type: ignore[assignment,return-value]
    with pytest.raises(ZeroDivisionError):
        bot.dispatch(Request("discord", USER, "1", "digest list", is_command=True))
    [line] = [line for line in lines(captured) if line.get("event") == "question"]
    assert (line["outcome"], line["level"], line["user_hash"]) == ("error", "error", "unknown")
    assert 'briefbot_questions_total{outcome="error",platform="discord"} 1.0' in metrics.render().decode()


def test_secrets_are_scrubbed_from_every_line_even_tracebacks(captured: io.StringIO) -> None:
    log = logging.getLogger("adapters.slack")
    log.warning("calling with token %s", TOKEN)
    try:
        raise RuntimeError(f"auth failed for {TOKEN}")
    except RuntimeError:
        log.exception("boom")
    text = captured.getvalue()
    assert TOKEN not in text
    assert text.count("[redacted]") == 2  # the message, and the exception under the traceback


def test_plain_format_puts_fields_after_the_message() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    handler = configure_logging("plain", "info", secrets=[TOKEN], stream=stream)
    try:
        logging.getLogger("bot.ops.observed").info(
            "question answered", extra={"question_id": "abc", "entry_ids": ("a", "b"), "note": TOKEN}
        )
    finally:
        root.removeHandler(handler)
        for old in saved:
            root.addHandler(old)
    line = stream.getvalue().strip()
    assert line.endswith(
        "INFO bot.ops.observed: question answered question_id=abc entry_ids=a,b note=[redacted]"
    )


def test_adapter_errors_count_as_platform_errors() -> None:
    metrics = Metrics()
    logger = logging.getLogger("adapters.discord")
    counter = PlatformErrorCounter(metrics, "discord")
    logger.addHandler(counter)
    try:
        logger.warning("a warning is not an error")
        logger.error("failed to answer a message")
    finally:
        logger.removeHandler(counter)
    assert 'briefbot_platform_errors_total{platform="discord"} 1.0' in metrics.render().decode()


def test_metrics_name_the_knowledge_version_served_and_follow_a_reload() -> None:
    metrics = Metrics()
    metrics.kb_version.info({"version": "v-first"})
    assert 'briefbot_knowledge_info{version="v-first"} 1.0' in metrics.render().decode()
    metrics.record_reload(ReloadResult(True, "file change", datetime.now(UTC), "v-second", True, entries=3))
    text = metrics.render().decode()
    assert 'briefbot_knowledge_info{version="v-second"} 1.0' in text and "v-first" not in text


def test_a_plain_line_cannot_be_forged(tmp_path: Path) -> None:
    # #14.1: control characters in the message, in a field or in an exception are escaped,
    # and a traceback's lines are indented: every line at the margin is a real record.
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging("plain", "info", stream=stream)
    forged = "\n2026-01-01T00:00:00Z ERROR bot: forged\r\x1b[2K\u2028"
    try:
        log = logging.getLogger("tests.forging")
        log.info("asked %s", forged, extra={"question": forged})
        try:
            raise ValueError(forged)
        except ValueError:
            log.exception("failed")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    text = stream.getvalue()
    records = [line for line in text.split("\n") if line and not line.startswith(" ")]
    assert len(records) == 2
    assert "asked \\n2026-01-01T00:00:00Z ERROR bot: forged\\r\\x1b[2K\\u2028 question=" in records[0]
    assert all(ch not in text for ch in "\r\x1b\u2028")
