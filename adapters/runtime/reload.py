"""``briefbot kb reload``: SIGHUP to the running bot named in the pid file, then its
``/healthz`` read until it reports the reload's result."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from adapters.healthcheck import health_url
from adapters.runtime.pid_file import is_briefbot, read_pid
from bot.ops.config import Config

__all__ = ["reload_running"]


def _read_health(url: str) -> dict[str, Any] | None:
    # With the metrics token /healthz names a failed reload's problems; without it, only ok.
    token = os.environ.get("BRIEFBOT_METRICS_TOKEN", "").strip()
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
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
    pid = read_pid(pid_file)
    if pid is None or not is_briefbot(pid):
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
            problems = result.get("problems")
            if problems is None:  # /healthz keeps them for whoever holds the metrics token
                print("  (its log names the problems; set BRIEFBOT_METRICS_TOKEN here to see them)", file=out)
            for problem in problems or []:
                print(f"  {problem}", file=out)
            return 1
    print(f"Asked briefbot (pid {pid}) to reload; no result within {wait:.0f}s, see its log.", file=out)
    return 1
