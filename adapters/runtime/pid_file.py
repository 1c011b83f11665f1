"""The pid file: which process is the running briefbot (``briefbot kb reload`` signals it).

A stale file may name a pid the system has since given to another process; that one is
never signalled, nor taken for a briefbot already running.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from bot.errors import ConfigError

__all__ = ["claim", "is_briefbot", "read_pid", "release"]


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def is_briefbot(pid: int) -> bool:
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


def claim(path: Path) -> None:
    other = read_pid(path)
    if other is not None and other != os.getpid() and is_briefbot(other):
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


def release(path: Path) -> None:
    if read_pid(path) == os.getpid():
        with contextlib.suppress(OSError):
            path.unlink()
