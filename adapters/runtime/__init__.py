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

The platforms come from ``adapters.registry``: each provides a ``Service`` (``SlackService``,
``DiscordService``), and the runtime knows nothing else of them; no adapter imports the
runtime. ``process`` holds the ``Runtime``, ``health`` its web server, ``pid_file`` the
pid file and ``reload`` the `briefbot kb reload` client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.runtime.process import Runtime, run
    from adapters.runtime.reload import reload_running

__all__ = ["Runtime", "reload_running", "run"]


def __getattr__(name: str) -> Any:
    # Imported when first used: `briefbot kb reload` reaches adapters.runtime.reload through
    # this package, and must not load the web server (aiohttp, not in the core install).
    if name in ("Runtime", "run"):
        from adapters.runtime import process

        return getattr(process, name)
    if name == "reload_running":
        from adapters.runtime.reload import reload_running

        return reload_running
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
