"""``briefbot run`` as a real process, and what an operator does to it: probe /healthz,
scrape /metrics, send signals, read its log."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp

__all__ = ["REPO", "BriefbotProcess", "clean_env", "free_port"]

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any briefbot, Slack or Discord setting, plus ``settings``.

    BRIEFBOT_CACHE_DIR stays: it keeps the prepared-base cache out of the real ~/.cache
    (tests/conftest.py) and changes no behaviour.
    """
    prefixes = ("SLACK_", "DISCORD_", "BRIEFBOT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes) or k == "BRIEFBOT_CACHE_DIR"}
    return env | settings


class BriefbotProcess:
    """Runs ``argv`` (default: ``python -m adapters.cli run``) and collects its log."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        port: int,
        argv: Sequence[str] | None = None,
        cwd: Path = REPO,
        port_in_env: bool = True,
    ) -> None:
        """``port_in_env=False``: the settings file in ``cwd`` says where /healthz is (on ``port``)."""
        where = {"BRIEFBOT_HEALTH_HOST": "127.0.0.1", "BRIEFBOT_HEALTH_PORT": str(port)}
        self.env = dict(env) | (where if port_in_env else {})
        self.port = port
        self.argv = list(argv or [sys.executable, "-m", "adapters.cli", "run"])
        self.cwd = cwd
        self.lines: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> BriefbotProcess:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if self._reader is not None:
            await self._reader
        if self._session is not None:
            await self._session.close()

    async def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def health(self) -> tuple[int, dict[str, Any]]:
        """/healthz, with the metrics token when the process was given one (then with details)."""
        assert self._session is not None
        token = self.env.get("BRIEFBOT_METRICS_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self._session.get(f"http://127.0.0.1:{self.port}/healthz", headers=headers) as response:
            return response.status, json.loads(await response.text())

    async def metrics(self, *, authorised: bool = True) -> str:
        """The /metrics page, with the bearer token when the process was given one."""
        assert self._session is not None
        token = self.env.get("BRIEFBOT_METRICS_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token and authorised else {}
        async with self._session.get(f"http://127.0.0.1:{self.port}/metrics", headers=headers) as response:
            text = await response.text()
            if token and not authorised:
                assert response.status == 401, text
                return text
            assert response.status == 200, text
            return text

    async def wait_health(self, status: int = 200, timeout: float = 30.0, **wanted: Any) -> dict[str, Any]:
        """Poll /healthz until it answers ``status`` and its body has ``wanted``'s values."""
        assert self.process is not None
        last: object = "no answer"
        try:
            async with asyncio.timeout(timeout):
                while True:
                    if self.process.returncode is not None:
                        raise AssertionError(f"briefbot exited ({self.process.returncode}):\n{self.log}")
                    try:
                        code, body = await self.health()
                    except aiohttp.ClientError as exc:
                        last = exc
                    else:
                        last = (code, body)
                        if code == status and all(body.get(k) == v for k, v in wanted.items()):
                            return body
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise AssertionError(f"/healthz never gave {status} {wanted}; last: {last}\n{self.log}") from None

    async def wait_reload(self, after: str | None, timeout: float = 20.0) -> dict[str, Any]:
        """The next reload result reported by /healthz (one not at ``after``)."""
        async with asyncio.timeout(timeout):
            while True:
                _, body = await self.health()
                result = body.get("last_reload")
                if result and result["at"] != after:
                    return dict(result)
                await asyncio.sleep(0.1)

    async def last_reload_at(self) -> str | None:
        _, body = await self.health()
        result = body.get("last_reload")
        return None if result is None else str(result["at"])

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    async def stop(self, timeout: float = 40.0) -> int:
        """SIGTERM, then the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(timeout):
            code = await self.process.wait()
        assert self._reader is not None
        await self._reader
        return code
