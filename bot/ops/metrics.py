"""Prometheus metrics for a running bot, on a registry of its own.

A registry per ``Metrics`` (not prometheus-client's global one) so several bots, or several
tests, never count into each other. ``render()`` is what ``GET /metrics`` serves.

Labels have few values on purpose (platform, outcome, status): a label per user or
channel would grow without bound and say more about people than an operator needs.
"""

from __future__ import annotations

import logging

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)

from bot.digests.scheduler import Outcome
from bot.ops.live import ReloadResult

__all__ = ["CONTENT_TYPE", "Metrics", "PlatformErrorCounter"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Answers take milliseconds; the long tail is a busy store or a large timeline.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.questions = Counter(
            "briefbot_questions",
            "Requests answered, by platform and outcome (answered, abstained, error).",
            ["platform", "outcome"],
            registry=r,
        )
        self.abstentions = Counter(
            "briefbot_abstentions", "Questions answered with 'not in my notes'.", ["platform"], registry=r
        )
        self.latency = Histogram(
            "briefbot_answer_latency_seconds",
            "Time to compose a reply in the core (not counting the platform's round trip).",
            ["platform"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.digest_deliveries = Counter(
            "briefbot_digest_deliveries",
            "Digest periods handled by the scheduler, by platform and status (posted, empty, retry, ...).",
            ["platform", "status"],
            registry=r,
        )
        self.digest_failures = Counter(
            "briefbot_digest_failures",
            "Digest periods that failed for good or raised.",
            ["platform"],
            registry=r,
        )
        self.digests_given_up = Counter(
            "briefbot_digests_given_up",
            "Digest periods given up unposted: superseded by the next period, or refused for good.",
            ["platform"],
            registry=r,
        )
        self.platform_errors = Counter(
            "briefbot_platform_errors",
            "Failures at an adapter's boundary (logged with a traceback).",
            ["platform"],
            registry=r,
        )
        self.reloads = Counter(
            "briefbot_knowledge_reloads",
            "Knowledge base reloads, by result (ok, failed).",
            ["result"],
            registry=r,
        )
        self.kb_entries = Gauge(
            "briefbot_knowledge_entries", "Entries in the knowledge base being served.", registry=r
        )
        # Which version this replica serves: behind a load balancer, each replica's scrape
        # shows whether a knowledge edit has reached it yet.
        self.kb_version = Info(
            "briefbot_knowledge", "The version of the knowledge base being served.", registry=r
        )
        self.connected = Gauge(
            "briefbot_adapter_connected", "1 while the platform connection is up.", ["platform"], registry=r
        )
        # Which replica holds the Discord gateway: exactly one of them should show 1.
        self.leader = Gauge(
            "briefbot_gateway_leader",
            "1 while this replica holds the platform's gateway lease (only the holder connects).",
            ["platform"],
            registry=r,
        )
        for outcome in ("answered", "abstained", "error"):
            for platform in ("slack", "discord"):
                # Present from the start, so a rate() over a fresh process is not "no data".
                self.questions.labels(platform, outcome)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    # -- listeners the runtime wires up -----------------------------------------------------

    def record_question(self, platform: str, outcome: str, seconds: float) -> None:
        self.questions.labels(platform, outcome).inc()
        if outcome == "abstained":
            self.abstentions.labels(platform).inc()
        self.latency.labels(platform).observe(seconds)

    def record_outcome(self, platform: str, outcome: Outcome) -> None:
        self.digest_deliveries.labels(platform, outcome.status).inc()
        if outcome.status in ("failed", "error"):
            self.digest_failures.labels(platform).inc()

    def record_reload(self, result: ReloadResult) -> None:
        self.reloads.labels("ok" if result.ok else "failed").inc()
        self.kb_entries.set(result.entries)
        self.kb_version.info({"version": result.version})


class PlatformErrorCounter(logging.Handler):
    """Counts ERROR records from an adapter's logger as that platform's errors.

    Every adapter already logs each failure at its boundary (the house rule), so counting
    those records counts the failures without threading a metrics object through every
    ``except`` in the adapters.
    """

    def __init__(self, metrics: Metrics, platform: str) -> None:
        super().__init__(level=logging.ERROR)
        self._counter = metrics.platform_errors.labels(platform)

    def emit(self, record: logging.LogRecord) -> None:
        self._counter.inc()
