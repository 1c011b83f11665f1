"""``Runtime``: every configured platform around one engine, one store, one scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from adapters.registry import (
    PLATFORMS,
    Leased,
    Losable,
    Platform,
    Service,
    ServiceFactory,
    configured_platforms,
)
from adapters.runtime import pid_file
from adapters.runtime.health import HEALTH_PATH, METRICS_PATH, HealthServer
from bot.digests.commands import DigestCommands
from bot.digests.compose import DigestSpec
from bot.digests.scheduler import DatabaseClock, GivenUp, Scheduler
from bot.errors import ConfigError
from bot.knowledge.base import KnowledgeBase
from bot.ops.config import DIGEST_PACE_SECONDS, SECRET_VARIABLES, Config
from bot.ops.live import LiveKnowledge, ReloadResult
from bot.ops.logs import configure_logging
from bot.ops.metrics import Metrics, PlatformErrorCounter
from bot.ops.observed import ObservedBot
from bot.qa.engine import Engine
from bot.store.opening import open_store
from bot.store.protocol import Store

__all__ = ["Runtime", "nothing_configured", "run"]

_log = logging.getLogger("briefbot")

# How long shutdown waits for answers in flight, and for the digest post in progress
# (the scheduler never cuts a post midway, and each post times out after
# digest_post_timeout_seconds, 60 s unless configured, anyway).
DRAIN_SECONDS = 20.0
DIGEST_STOP_SECONDS = 30.0


def nothing_configured() -> str:
    """Why `briefbot run` with no credentials set has nothing to run, naming each platform's."""
    missing = "; ".join(f"{p.needs} for {p.title}" for p in PLATFORMS.values())
    choice = "or both" if len(PLATFORMS) == 2 else "or several"
    return (
        "no chat platform is configured, so there is nothing to run. Missing from the environment: "
        f"{missing}. Set one platform's, {choice} (`briefbot config show` lists what is set)."
    )


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
        # What serve() starts, for _shut_down() to stop whatever of it did start.
        self._health: HealthServer | None = None
        self._scheduler: Scheduler | None = None
        self._digests: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._error_counters: list[tuple[logging.Logger, logging.Handler]] = []
        self._message_limits: dict[str, int] = {}
        # Services whose connection ended for good, and the watchers that notice it; the exit
        # code is 1 when the process stopped because no platform was left serving.
        self.lost: dict[str, str] = {}
        self._loss_watchers: list[asyncio.Task[None]] = []
        self.exit_code = 0

    def _spawn(self, coroutine: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def status(self, detail: bool = True) -> tuple[bool, dict[str, Any]]:
        """Whether every part is well; the body says so per component, and with ``detail``
        (the metrics token was shown) also versions and a failed reload's problems, which
        name files and entries and so are not for whoever can reach the port."""
        adapters: dict[str, str] = {}
        leases: dict[str, dict[str, bool]] = {}
        for service in self.services:
            up = await service.connected()
            self.metrics.connected.labels(service.platform).set(1 if up else 0)
            adapters[service.platform] = "connected" if up else "disconnected"
            if isinstance(service, Leased):
                leader = service.leader
                self.metrics.leader.labels(service.platform).set(1 if leader else 0)
                leases[service.platform] = {"held": leader}
                # Another replica serves it and this one is ready to take over; one whose
                # connection ended for good (and so gave the lease up) is no standby.
                if not leader and service.platform not in self.lost:
                    adapters[service.platform] = "standby"
        healthy = ("connected", "standby")
        ok = bool(adapters) and all(v in healthy for v in adapters.values()) and not self.stopping
        body: dict[str, Any] = {
            "ok": ok,
            "status": "stopping" if self.stopping else "ok" if ok else "degraded",
            "adapters": adapters,
        }
        last = self.live.last_reload if self.live is not None else None
        if not detail:
            body["digests"] = {"ok": self.digests_given_up == 0}
            body["knowledge"] = {"ok": self.live is not None}
            # "at" tells `briefbot kb reload` a new result from the previous one.
            body["last_reload"] = (
                None if last is None else {"ok": last.ok, "at": last.at.isoformat(timespec="milliseconds")}
            )
            return ok, body
        # A count only: which channels lost a digest is for the log and the admins.
        body["digests"] = {"ok": self.digests_given_up == 0, "given_up": self.digests_given_up}
        # Whether this replica holds each gateway (Discord: only the holder is connected).
        body["gateway"] = leases
        if self.live is not None:
            edition = self.live.current
            body["knowledge"] = {
                "ok": True,
                "version": edition.version,
                "entries": len(edition.kb),
                "loaded_at": edition.loaded_at.isoformat(timespec="seconds"),
            }
            body["last_reload"] = _reload_json(last)
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
        """Run until SIGTERM or SIGINT, then shut down gracefully."""
        loop = asyncio.get_running_loop()
        handled = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, self._reload_on_signal)
        pid_path = self.config.effective_pid_file
        store: Store = open_store(self.config.database)  # SQLite or PostgreSQL, as the URL says
        try:
            pid_file.claim(pid_path)
            live = self.live = LiveKnowledge(self.kb, threshold=self.config.threshold, engine=self.engine)
            self.metrics.kb_entries.set(len(self.kb))
            self.metrics.kb_version.info({"version": live.current.version})
            live.on_reload(self.metrics.record_reload)
            live.on_reload(self._on_reload)
            await self._start_services(self._bot(store, live))
            self._watch_losses()
            health = await self._start_health()
            self._start_digests(store, live)
            for service in self.services:
                _log.info("briefbot: %s", service.describe(health.port))
            _log.info(
                "briefbot: running %s on knowledge %s (%d entries); health on http://%s:%d%s and %s; "
                "pid %d in %s",
                ", ".join(s.platform for s in self.services),
                live.current.version,
                len(self.kb),
                health.host,
                health.port,
                HEALTH_PATH,
                METRICS_PATH,
                os.getpid(),
                pid_path,
            )
            await self._stop.wait()
        finally:
            await self._shut_down()
            for logger, handler in self._error_counters:
                logger.removeHandler(handler)
            store.close()
            pid_file.release(pid_path)
            for sig in handled:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
        _log.info("briefbot: stopped.")
        return self.exit_code

    def _watch_losses(self) -> None:
        for service in self.services:
            if isinstance(service, Losable):
                self._loss_watchers.append(
                    asyncio.create_task(
                        self._on_lost(service.platform, service), name=f"briefbot-lost-{service.platform}"
                    )
                )

    async def _on_lost(self, platform: str, service: Losable) -> None:
        reason = await service.lost()
        self.lost[platform] = reason  # the service has logged why, at ERROR
        serving = [s.platform for s in self.services if s.platform not in self.lost]
        if serving:
            _log.warning("briefbot: %s is no longer served; still serving %s", platform, ", ".join(serving))
            return
        # A process serving nothing must not look alive: exit non-zero so the supervisor
        # (compose's restart policy, systemd) restarts it or someone is told.
        _log.error("briefbot: no platform is left serving (%s: %s); exiting", platform, reason)
        self.exit_code = 1
        self._stop.set()

    def _bot(self, store: Store, live: LiveKnowledge) -> ObservedBot:
        """The one bot every platform dispatches to."""
        # Each platform's message limit is its poster's, known once its service is built
        # (_start_services); the digest commands read this mapping per preview.
        digest_commands = DigestCommands(
            store, live.kb, default_zone=self.config.default_timezone, message_limits=self._message_limits
        )
        return ObservedBot(
            live.engine,
            store=store,
            digest_handler=digest_commands,
            user_hash=lambda r: store.user_hash(r.platform, r.workspace, r.user),
            on_question=self.metrics.record_question,
            context_ttl=self.config.context_ttl,
        )

    async def _start_services(self, bot: ObservedBot) -> None:
        for platform, factory in self.factories.items():
            service = factory(bot)
            self.services.append(service)
            self._message_limits[service.platform] = service.poster.message_limit
            # Each adapter logs under adapters.<platform>; its errors are that platform's.
            logger = logging.getLogger(f"adapters.{platform}")
            counter = PlatformErrorCounter(self.metrics, platform)
            logger.addHandler(counter)
            self._error_counters.append((logger, counter))
        for service in self.services:
            await service.start()

    async def _start_health(self) -> HealthServer:
        health = self._health = HealthServer(
            self.config.health_host,
            self.config.health_port,
            self.status,
            self.metrics,
            metrics_token=os.environ.get("BRIEFBOT_METRICS_TOKEN") or None,
        )
        routes = len(health.application.router.routes())
        for service in self.services:
            service.mount(health.application)
        host_chosen = self.config.origins.get("health.host", "default") != "default"
        if len(health.application.router.routes()) > routes and not host_chosen:
            # A platform mounted a route (Slack's HTTP mode): its deliveries come from outside,
            # so loopback would shut them out. Say so: /healthz and /metrics are reachable too.
            health.host = "0.0.0.0"
            _log.info(
                "briefbot: listening on all interfaces (port %d), not loopback, because Slack's HTTP mode "
                "receives its events there; /healthz and /metrics are reachable too (/metrics and "
                "/healthz details only with BRIEFBOT_METRICS_TOKEN). Set health.host to choose.",
                self.config.health_port,
            )
        await health.start()
        return health

    def _start_digests(self, store: Store, live: LiveKnowledge) -> None:
        """The digest scheduler, and the watcher that reloads an edited knowledge base."""
        scheduler = self._scheduler = Scheduler(
            store,
            live.kb,
            {s.platform: s.poster for s in self.services},
            DatabaseClock(store),  # leases by the database's clock, shared by every replica
            lease=timedelta(seconds=self.config.digest_lease_seconds),
            post_timeout=self.config.digest_post_timeout_seconds,
            pace=DIGEST_PACE_SECONDS,
            on_outcome=self.metrics.record_outcome,
            on_given_up=self._on_given_up,
        )
        self._digests = asyncio.create_task(scheduler.run_forever(), name="briefbot-digests")
        if self.config.reload_poll_seconds > 0:
            self._watcher = asyncio.create_task(
                live.watch(self.config.reload_poll_seconds, self._stop), name="briefbot-kb-watch"
            )

    def _reload_on_signal(self) -> None:
        if self.live is not None and not self.stopping:
            self._spawn(self.live.reload("SIGHUP"), "briefbot-reload")

    async def _shut_down(self) -> None:
        """Stop taking work, finish what is in flight, then close; in that order."""
        health, scheduler, digests, watcher = self._health, self._scheduler, self._digests, self._watcher
        self.stopping = True
        self._stop.set()
        for watcher in self._loss_watchers:
            watcher.cancel()
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
        if scheduler is not None:
            scheduler.close()
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


def _platform(name: str) -> Platform:
    try:
        return PLATFORMS[name]
    except KeyError:
        raise ConfigError(f"unknown platform {name!r}") from None


def run(config: Config, kb: KnowledgeBase, *, only: str | None = None, engine: Engine | None = None) -> int:
    """Run until SIGTERM/SIGINT; ``only`` limits it to one platform (``briefbot slack``).

    ``engine``, when given, is one already built on ``kb`` (``bot.ops.prepared``), used as it is.
    """
    platforms = (only,) if only else configured_platforms(os.environ)
    if not platforms:
        raise ConfigError(nothing_configured())
    # Every platform's settings are read and checked first, before anything is opened.
    factories = {p: _platform(p).maker()(config, os.environ) for p in platforms}
    secrets = [os.environ.get(name, "") for name in SECRET_VARIABLES]
    configure_logging(config.log_format, config.log_level, secrets)
    return asyncio.run(Runtime(config, kb, factories, engine).serve())
