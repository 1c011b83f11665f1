"""``briefbot run``: every configured platform around one engine, one store, one scheduler.

The process holds one ``LiveKnowledge`` (the base and its engine, replaced whole on a
reload), one store (SQLite or PostgreSQL, as ``database`` says), one ``ObservedBot`` that
every adapter dispatches to, one ``Scheduler`` with a poster per connected platform, and
one web server for ``/healthz``, ``/metrics`` and (Slack HTTP mode) ``/slack/events``.
``briefbot slack`` and ``briefbot discord`` are this runtime with one platform.

Signals:

- SIGTERM / SIGINT: shut down gracefully. Stop taking new work (close Socket Mode, stop the
  web server, new Discord requests are told to ask again), let answers in flight and the
  digest post in progress finish, close the connections and the database. The delivery
  ledger makes a restart resume the schedule.
- SIGHUP: reload the knowledge base (``briefbot kb reload`` sends it, to the pid written in
  the pid file). The directory is also polled for changes every ``reload_poll_seconds``.

Each platform's adapter module provides a ``Service`` (``SlackService``,
``DiscordService``); the runtime knows nothing else of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from adapters.health import HEALTH_PATH, METRICS_PATH, HealthServer
from adapters.healthcheck import health_url
from bot.digests.commands import DigestCommands
from bot.digests.compose import DigestSpec
from bot.digests.poster import Poster
from bot.digests.scheduler import DatabaseClock, GivenUp, Scheduler
from bot.dispatch import Bot
from bot.errors import ConfigError
from bot.knowledge.base import KnowledgeBase
from bot.ops.config import SECRET_VARIABLES, Config
from bot.ops.live import LiveKnowledge, ReloadResult
from bot.ops.logs import configure_logging
from bot.ops.metrics import Metrics, PlatformErrorCounter
from bot.ops.observed import ObservedBot
from bot.qa.engine import Engine
from bot.store.location import open_store
from bot.store.protocol import Store

__all__ = [
    "PLATFORMS",
    "Runtime",
    "Service",
    "configured_platforms",
    "reload_running",
    "run",
]

_log = logging.getLogger("briefbot")

# What each platform's credentials are called. A platform is started when any of its
# variables is set; a half-configured one is then an error naming what is missing.
PLATFORMS: Mapping[str, tuple[str, ...]] = {
    "slack": ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"),
    "discord": ("DISCORD_TOKEN",),
}
NOTHING_CONFIGURED = (
    "no chat platform is configured, so there is nothing to run. Missing from the environment: "
    "SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) for Slack; "
    "DISCORD_TOKEN for Discord. Set one platform's, or both (`briefbot config show` lists what is set)."
)
# How long shutdown waits for answers in flight, and for the digest post in progress
# (the scheduler never cuts a post midway, and each post times out after 60 s anyway).
DRAIN_SECONDS = 20.0
DIGEST_STOP_SECONDS = 30.0


class Service(Protocol):
    """One platform as the runtime drives it (see ``SlackService``, ``DiscordService``)."""

    # Read-only here, so each adapter may name its own poster class.
    @property
    def platform(self) -> str: ...
    @property
    def poster(self) -> Poster: ...

    async def start(self) -> None: ...
    def mount(self, application: web.Application) -> None: ...
    def describe(self, port: int) -> str: ...
    async def connected(self) -> bool: ...
    async def stop_intake(self) -> None: ...
    async def drain(self, timeout: float) -> bool: ...
    async def close(self) -> None: ...
    async def notify_admins(self, text: str) -> None: ...


# -- which platforms -----------------------------------------------------------------------


def configured_platforms(env: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(p for p, names in PLATFORMS.items() if any(env.get(n, "").strip() for n in names))


ServiceFactory = Callable[[Bot], Service]


def _factory(platform: str, config: Config) -> ServiceFactory:
    """Read and check one platform's settings now, before anything is opened; a missing
    or malformed one raises ConfigError naming it."""
    if platform == "slack":
        from adapters.slack import SlackService, SlackSettings

        slack = replace(SlackSettings.from_env(os.environ), digest_admins=config.slack_digest_admins)
        return lambda bot: SlackService(bot, slack)
    if platform == "discord":
        from adapters.discord import DiscordService, DiscordSettings

        discord = DiscordSettings.from_env()
        return lambda bot: DiscordService(bot, discord)
    raise ConfigError(f"unknown platform {platform!r}")


# -- the pid file --------------------------------------------------------------------------


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _is_briefbot(pid: int) -> bool:
    """Is ``pid`` a live briefbot? (A stale pid file may name a reused pid: never signal that.)"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process: not ours to signal
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS): trust the pid file
    return b"briefbot" in cmdline or b"adapters.cli" in cmdline


def _claim_pid_file(path: Path) -> None:
    other = _read_pid(path)
    if other is not None and other != os.getpid() and _is_briefbot(other):
        raise ConfigError(
            f"another briefbot (pid {other}) is running with the pid file {path}; stop it, or give "
            "this one its own with pid_file / BRIEFBOT_PID_FILE"
        )
    try:
        path.write_text(f"{os.getpid()}\n")
    except OSError as exc:
        raise ConfigError(
            f"cannot write the pid file {path} ({exc.strerror or exc}); set pid_file / BRIEFBOT_PID_FILE"
        ) from None


def _release_pid_file(path: Path) -> None:
    if _read_pid(path) == os.getpid():
        with contextlib.suppress(OSError):
            path.unlink()


# -- the runtime ---------------------------------------------------------------------------


class Runtime:
    def __init__(
        self,
        config: Config,
        kb: KnowledgeBase,
        factories: Mapping[str, ServiceFactory],
        engine: Engine | None = None,
    ) -> None:
        self.config = config
        self.kb = kb
        self.engine = engine  # already built on kb (bot.ops.prepared), or None to build one
        self.factories = dict(factories)
        self.metrics = Metrics()
        self.services: list[Service] = []
        self.live: LiveKnowledge | None = None
        self.stopping = False
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_alert: tuple[str, ...] = ()
        self.digests_given_up = 0  # since this process started; /healthz shows the count

    def _spawn(self, coroutine: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def status(self) -> tuple[bool, dict[str, Any]]:
        adapters: dict[str, str] = {}
        for service in self.services:
            up = await service.connected()
            self.metrics.connected.labels(service.platform).set(1 if up else 0)
            adapters[service.platform] = "connected" if up else "disconnected"
        ok = bool(adapters) and all(v == "connected" for v in adapters.values()) and not self.stopping
        body: dict[str, Any] = {
            "ok": ok,
            "status": "stopping" if self.stopping else "ok" if ok else "degraded",
            "adapters": adapters,
        }
        # A count only: which channels lost a digest is for the log and the admins.
        body["digests"] = {"given_up": self.digests_given_up}
        if self.live is not None:
            edition = self.live.current
            body["knowledge"] = {
                "version": edition.version,
                "entries": len(edition.kb),
                "loaded_at": edition.loaded_at.isoformat(timespec="seconds"),
            }
            body["last_reload"] = _reload_json(self.live.last_reload)
        return ok, body

    def _on_reload(self, result: ReloadResult) -> None:
        problems = tuple(str(p) for p in result.problems)
        if result.ok:
            self._last_alert = ()
            return
        if problems == self._last_alert:
            return  # the same broken edit again: the admins have heard
        self._last_alert = problems
        shown = "\n".join(f"• {p}" for p in problems[:10])
        more = f"\n…and {len(problems) - 10} more (see the log)" if len(problems) > 10 else ""
        text = (
            f"briefbot could not load the edited knowledge base ({result.trigger}), so it is still "
            f"answering from version {result.version}. Please fix:\n{shown}{more}"
        )
        for service in self.services:
            self._spawn(service.notify_admins(text), f"briefbot-notify-{service.platform}")

    def _on_given_up(self, given_up: GivenUp) -> None:
        """A digest period the scheduler stopped trying (it has logged it at ERROR): count
        it, and tell that platform's digest admins where the platform lets us."""
        sub = given_up.subscription
        self.digests_given_up += 1
        self.metrics.digests_given_up.labels(sub.platform).inc()
        text = (
            f"briefbot gave up posting the `{DigestSpec(sub.kind, sub.arg).describe()}` digest "
            f"(#{sub.id}) for {given_up.period_key} in channel {sub.channel}: {given_up.reason}. "
            "Its next period is posted as usual; `/nato digest list` in that channel shows how "
            "each went."
        )
        for service in self.services:
            if service.platform == sub.platform:
                self._spawn(service.notify_admins(text), f"briefbot-notify-{service.platform}")

    async def serve(self) -> int:
        config = self.config
        loop = asyncio.get_running_loop()
        handled = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, self._reload_on_signal)
        pid_file = config.effective_pid_file
        store: Store = open_store(config.database)  # SQLite or PostgreSQL, as the URL says
        health: HealthServer | None = None
        scheduler: Scheduler | None = None
        digests: asyncio.Task[None] | None = None
        watcher: asyncio.Task[None] | None = None
        error_counters: list[tuple[logging.Logger, logging.Handler]] = []
        try:
            _claim_pid_file(pid_file)
            live = self.live = LiveKnowledge(self.kb, threshold=config.threshold, engine=self.engine)
            self.metrics.kb_entries.set(len(self.kb))
            self.metrics.kb_version.info({"version": live.current.version})
            live.on_reload(self.metrics.record_reload)
            live.on_reload(self._on_reload)
            # Each platform's message limit is its poster's, known once its service is built
            # below; the digest commands read this mapping per preview.
            message_limits: dict[str, int] = {}
            digest_commands = DigestCommands(
                store, live.kb, default_zone=config.default_timezone, message_limits=message_limits
            )
            bot = ObservedBot(
                live.engine,
                store=store,
                digest_handler=digest_commands,
                user_hash=lambda r: store.user_hash(r.platform, r.workspace, r.user),
                on_question=self.metrics.record_question,
            )
            for platform, factory in self.factories.items():
                service = factory(bot)
                self.services.append(service)
                message_limits[service.platform] = service.poster.message_limit
                logger = logging.getLogger(f"adapters.{platform}")
                counter = PlatformErrorCounter(self.metrics, platform)
                logger.addHandler(counter)
                error_counters.append((logger, counter))
            for service in self.services:
                await service.start()
            health = HealthServer(
                config.health_host,
                config.health_port,
                self.status,
                self.metrics,
                metrics_token=os.environ.get("BRIEFBOT_METRICS_TOKEN") or None,
            )
            for service in self.services:
                service.mount(health.application)
            await health.start()
            scheduler = Scheduler(
                store,
                live.kb,
                {s.platform: s.poster for s in self.services},
                DatabaseClock(store),  # leases by the database's clock, shared by every replica
                on_outcome=self.metrics.record_outcome,
                on_given_up=self._on_given_up,
            )
            digests = asyncio.create_task(scheduler.run_forever(), name="briefbot-digests")
            if config.reload_poll_seconds > 0:
                watcher = asyncio.create_task(
                    live.watch(config.reload_poll_seconds, self._stop), name="briefbot-kb-watch"
                )
            for service in self.services:
                _log.info("briefbot: %s", service.describe(health.port))
            _log.info(
                "briefbot: running %s on knowledge %s (%d entries); health on http://%s:%d%s and %s; "
                "pid %d in %s",
                ", ".join(s.platform for s in self.services),
                live.current.version,
                len(self.kb),
                config.health_host,
                health.port,
                HEALTH_PATH,
                METRICS_PATH,
                os.getpid(),
                pid_file,
            )
            await self._stop.wait()
        finally:
            await self._shut_down(health, scheduler, digests, watcher)
            for logger, handler in error_counters:
                logger.removeHandler(handler)
            store.close()
            _release_pid_file(pid_file)
            for sig in handled:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
        _log.info("briefbot: stopped.")
        return 0

    def _reload_on_signal(self) -> None:
        if self.live is not None and not self.stopping:
            self._spawn(self.live.reload("SIGHUP"), "briefbot-reload")

    async def _shut_down(
        self,
        health: HealthServer | None,
        scheduler: Scheduler | None,
        digests: asyncio.Task[None] | None,
        watcher: asyncio.Task[None] | None,
    ) -> None:
        """Stop taking work, finish what is in flight, then close; in that order."""
        self.stopping = True
        self._stop.set()
        _log.info("briefbot: stopping; finishing answers and digest posts in progress")
        if scheduler is not None:
            scheduler.stop()  # ends after the pass in progress; a post is never cut midway
        for service in self.services:
            with _logged(f"stopping {service.platform} intake"):
                await service.stop_intake()
        if health is not None:
            await health.stop()  # Slack HTTP deliveries already received are acknowledged
        for service in self.services:
            with _logged(f"draining {service.platform}"):
                if not await service.drain(DRAIN_SECONDS):
                    _log.warning(
                        "%s still had answers in progress after %.0fs", service.platform, DRAIN_SECONDS
                    )
        if digests is not None:
            done, _ = await asyncio.wait({digests}, timeout=DIGEST_STOP_SECONDS)
            if not done:
                _log.warning("the digest post in progress did not finish in time; the ledger resumes it")
                digests.cancel()
                await asyncio.wait({digests})
            elif digests.exception() is not None:
                _log.error("the digest scheduler failed", exc_info=digests.exception())
        if watcher is not None:
            await asyncio.wait({watcher}, timeout=5)
            watcher.cancel()
        for task in list(self._tasks):  # a reload or an admin notice still running
            await asyncio.wait({task}, timeout=5)
            task.cancel()
        for service in self.services:
            with _logged(f"closing {service.platform}"):
                await service.close()


@contextlib.contextmanager
def _logged(what: str) -> Any:
    """Shutdown goes on whatever one step does."""
    try:
        yield
    except Exception:
        _log.exception("failed %s", what)


def _reload_json(result: ReloadResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "ok": result.ok,
        "trigger": result.trigger,
        "at": result.at.isoformat(timespec="milliseconds"),
        "version": result.version,
        "changed": result.changed,
        "problems": [str(p) for p in result.problems],
    }


# -- entry points ----------------------------------------------------------------------


def run(config: Config, kb: KnowledgeBase, *, only: str | None = None, engine: Engine | None = None) -> int:
    """Run until SIGTERM/SIGINT; ``only`` limits it to one platform (``briefbot slack``).

    ``engine``, when given, is one already built on ``kb`` (``bot.ops.prepared``), used as it is.
    """
    platforms = (only,) if only else configured_platforms(os.environ)
    if not platforms:
        raise ConfigError(NOTHING_CONFIGURED)
    factories = {p: _factory(p, config) for p in platforms}  # every setting checked first
    secrets = [os.environ.get(name, "") for name in SECRET_VARIABLES]
    configure_logging(config.log_format, config.log_level, secrets)
    return asyncio.run(Runtime(config, kb, factories, engine).serve())


# -- briefbot kb reload ----------------------------------------------------------------------


def _read_health(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:  # 503 still carries the JSON body
        body = exc.read()
    except (OSError, ValueError):
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def reload_running(config: Config, out: Any = sys.stdout, wait: float = 15.0) -> int:
    """``briefbot kb reload``: SIGHUP to the running bot named in the pid file, then wait
    for its /healthz to report the reload's result."""
    pid_file = config.effective_pid_file
    pid = _read_pid(pid_file)
    if pid is None or not _is_briefbot(pid):
        state = "does not exist" if pid is None else f"names pid {pid}, which is not a running briefbot"
        print(
            f"No running briefbot to reload: the pid file {pid_file} {state}. Start it with "
            "`briefbot run` using the same configuration (pid_file / BRIEFBOT_PID_FILE).",
            file=out,
        )
        return 1
    url = health_url(config)
    before = _read_health(url)
    previous = (before or {}).get("last_reload") or {}
    os.kill(pid, signal.SIGHUP)
    if before is None:
        print(
            f"Asked briefbot (pid {pid}) to reload; its log reports the result ({url} did not answer).",
            file=out,
        )
        return 0
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = _read_health(url) or {}
        result = now.get("last_reload") or {}
        if result and result.get("at") != previous.get("at"):
            if result.get("ok"):
                what = "new version" if result.get("changed") else "unchanged, version"
                print(f"Reloaded: briefbot (pid {pid}) serves {what} {result.get('version')}.", file=out)
                return 0
            print(
                f"The reload failed; briefbot (pid {pid}) still serves version {result.get('version')}:",
                file=out,
            )
            for problem in result.get("problems") or []:
                print(f"  {problem}", file=out)
            return 1
    print(f"Asked briefbot (pid {pid}) to reload; no result within {wait:.0f}s, see its log.", file=out)
    return 1
