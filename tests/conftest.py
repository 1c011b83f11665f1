"""The one piece of session-wide set-up: the prepared-base cache goes to a temporary directory.

``bot.ops.prepared`` caches built engines in ``~/.cache/briefbot`` unless told otherwise. No test
may read or write the developer's real cache, so ``BRIEFBOT_CACHE_DIR`` is set here, in
``os.environ``, before any test runs: in-process calls read it, and every subprocess a test
starts inherits it (``tests.runtime.process.clean_env`` keeps it). Shared fixtures remain
explicit imports from ``tests.fixtures``, with one exception: ``postgres_server`` (the
throwaway PostgreSQL server of ``tests.store.postgres_server``) is registered here, once,
because a session fixture imported into several modules would start a server per module.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from tests.store.postgres_server import postgres_server

__all__ = ["postgres_server"]  # one server for the whole session

_CACHE_ENV = "BRIEFBOT_CACHE_DIR"
_created: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    directory = tempfile.mkdtemp(prefix="briefbot-test-cache-")
    _created.append(directory)
    os.environ[_CACHE_ENV] = directory


def pytest_unconfigure(config: pytest.Config) -> None:
    for directory in _created:
        shutil.rmtree(directory, ignore_errors=True)
