"""The throwaway PostgreSQL server the store tests start: who runs it, and that it goes away."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.digest.support import REPO
from tests.store.postgres_server import (
    PostgresServer,
    PostgresUnavailable,
    _remove_leftovers,
    find_binaries,
    unavailable,
)


def test_a_missing_server_fails_the_run_under_ci_and_only_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and no PostgreSQL server"):
        unavailable("no binaries")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no binaries"):
        unavailable("no binaries")


def test_the_server_runs_as_an_unprivileged_user(postgres_server: PostgresServer) -> None:
    with postgres_server.admin() as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        owner = os.stat(f"/proc/{row[0]}").st_uid  # while the backend serves this connection
    assert owner != 0 and owner == postgres_server.data.stat().st_uid


_ORPHAN = """
import sys, time
from tests.store.postgres_server import start_server
server = start_server()
print(server._process.pid, server.root, flush=True)
time.sleep(120)
"""


def test_a_server_dies_with_a_test_run_that_is_killed_and_its_files_go_next_time() -> None:
    try:
        find_binaries()
    except PostgresUnavailable as exc:
        unavailable(str(exc))
    with subprocess.Popen(
        [sys.executable, "-c", _ORPHAN], cwd=REPO, stdout=subprocess.PIPE, text=True
    ) as run:
        assert run.stdout is not None
        pid_text, root = run.stdout.readline().split()
        pid = int(pid_text)
        os.kill(pid, 0)  # running
        run.kill()  # SIGKILL: none of the test run's clean-up code gets to run
        run.wait(timeout=30)
    deadline = time.monotonic() + 30
    while _alive(pid):
        assert time.monotonic() < deadline, f"the server {pid} outlived the test run that started it"
        time.sleep(0.05)
    assert Path(root).is_dir()  # nobody was left to delete it...
    _remove_leftovers()
    assert not Path(root).exists()  # ...until the next run starts


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
