"""`briefbot chat` at a terminal edits lines and keeps a history (#14.19); piped, it does not.

Driven through a real pseudo-terminal: the keys are the bytes a terminal sends.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from adapters.console.line_editing import HISTORY_LENGTH
from tests.runtime.process import REPO, clean_env

LEFT, UP = "\x1b[D", "\x1b[A"


def _chat_on_a_terminal(cache: Path, keys: list[str]) -> str:
    """Run `briefbot chat` on a pty, type ``keys`` (each after the previous prompt), return what it showed."""
    env = clean_env(BRIEFBOT_CACHE_DIR=str(cache), PYTHONPATH=str(REPO), TERM="xterm")
    env.pop("INPUTRC", None)
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "chat"],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        cwd=cache,
        close_fds=True,
    )
    os.close(secondary)
    shown = b""

    def read_until(marker: bytes, count: int) -> None:
        nonlocal shown
        deadline = time.monotonic() + 120  # a bound on a hang, not a timing assertion
        while shown.count(marker) < count and time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 1.0)
            if ready:
                try:
                    shown += os.read(primary, 65536)
                except OSError:  # the child closed the terminal
                    return

    try:
        for number, key in enumerate(keys, start=1):
            read_until(b"you> ", number)
            os.write(primary, key.encode())
        process.wait(timeout=120)
        read_until(b"you> ", len(keys) + 1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(primary)
    return shown.decode(errors="replace")


def test_arrow_keys_edit_the_line_and_recall_the_last_one(tmp_path: Path) -> None:
    # "kishia", left, "d": the cursor moved back one letter, so the line is "…kishida".
    shown = _chat_on_a_terminal(tmp_path, ["who is fumio kishia" + LEFT + "d\r", UP + "\r", "\x04"])
    # Up recalled it, so it was asked twice (readline records a repeated line once).
    assert (tmp_path / "chat_history").read_text().splitlines() == ["who is fumio kishida"]
    answers = [part for part in shown.split("you> ") if "Kishida" in part]  # typed text is lowercase
    assert len(answers) == 2 and "^[[D" not in shown
    assert (tmp_path / "chat_history").stat().st_mode & 0o077 == 0  # the owner's alone


def test_the_history_is_read_back_and_bounded(tmp_path: Path) -> None:
    (tmp_path / "chat_history").write_text("".join(f"question {n}\n" for n in range(HISTORY_LENGTH + 50)))
    _chat_on_a_terminal(tmp_path, [UP + "\r", "\x04"])  # recalls the newest line from the file
    history = (tmp_path / "chat_history").read_text().splitlines()
    assert len(history) <= HISTORY_LENGTH
    assert history[-1] == f"question {HISTORY_LENGTH + 49}"


def test_piped_input_keeps_no_history(tmp_path: Path) -> None:
    env = clean_env(BRIEFBOT_CACHE_DIR=str(tmp_path), PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "chat"],
        input="who is fumio kishida\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "Kishida" in done.stdout and "you> " not in done.stdout
    assert not (tmp_path / "chat_history").exists()
