"""The core install (`make run`, `pip install briefbot`): no aiohttp, slack-bolt or discord.py.

Each command runs in a fresh interpreter whose imports of those libraries fail, as they
would where they are not installed: a command that needs an extra names it and exits 2,
and the others (`config show`, `kb reload`, `ask`) do not need one at all.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.runtime.process import REPO, clean_env

# A finder ahead of every other: these packages are not there.
_WITHOUT_EXTRAS = """
import importlib.abc, sys
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("aiohttp", "slack_bolt", "slack_sdk", "discord"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Absent())
from adapters.cli import main
sys.exit(main(sys.argv[1:]))
"""


def core_only(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRAS, *argv],
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(REPO), BRIEFBOT_PID_FILE=str(tmp_path / "none.pid"), **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("argv", "env", "extra"),
    [
        (("run",), {}, "pip install 'briefbot[slack]' or 'briefbot[discord]'"),
        (
            ("run",),
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"},
            "pip install 'briefbot[slack]'",
        ),
        (("run",), {"DISCORD_TOKEN": "d"}, "pip install 'briefbot[discord]'"),
        (("slack",), {}, "pip install 'briefbot[slack]'"),
        (("discord",), {}, "pip install 'briefbot[discord]'"),
        (("discord", "sync"), {}, "pip install 'briefbot[discord]'"),
    ],
)
def test_a_command_that_needs_an_extra_names_it(
    tmp_path: Path, argv: tuple[str, ...], env: dict[str, str], extra: str
) -> None:
    done = core_only(tmp_path, *argv, **env)
    assert done.returncode == 2, done.stderr
    assert extra in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (("config", "show"), 0, "health.host"),
        (("kb", "reload"), 1, "No running briefbot to reload"),
        (("ask", "who is oana lungescu"), 0, "Lungescu"),
    ],
)
def test_commands_of_the_core_need_no_extra(
    tmp_path: Path, argv: tuple[str, ...], code: int, says: str
) -> None:
    done = core_only(tmp_path, *argv)
    assert done.returncode == code, done.stdout + done.stderr
    assert says in done.stdout and "Traceback" not in done.stderr
