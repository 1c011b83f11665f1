"""What the Docker image relies on, tested without Docker: the wheel builds and installs,
`briefbot run` starts from it with the knowledge baked in, the HEALTHCHECK command tells
healthy from not, and compose.yaml keeps the database on a named volume."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from tests.adapters.slack.emulator import SlackEmulator
from tests.runtime.process import REPO, BriefbotProcess, clean_env, free_port
from tests.runtime.test_process import slash

DOCKERFILE = (REPO / "Dockerfile").read_text()


def _instruction(name: str) -> str:
    """The last ``name`` instruction of the Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    found = re.findall(rf"^{name}\s+(.*)$", joined, flags=re.MULTILINE)
    assert found, f"no {name} in the Dockerfile"
    return str(found[-1])


def healthcheck_command() -> list[str]:
    command = json.loads(_instruction("HEALTHCHECK").split(" CMD ", 1)[1])
    assert isinstance(command, list)
    return [str(part) for part in command]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with briefbot installed from its wheel, nothing else of it.

    The dependencies come from the project's environment through a .pth file (tests reach
    no network); that path line is not a site directory, so the checkout's editable
    install is not picked up with it, and only the wheel provides ``bot`` and ``adapters``.
    """
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run(
        [*build, "--wheel-dir", str(dist), str(REPO)], check=True, capture_output=True, timeout=180
    )
    [wheel] = dist.glob("briefbot-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "_briefbot_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index"]
    subprocess.run([*install, str(wheel)], check=True, capture_output=True, timeout=120)
    return venv


def test_the_installed_wheel_carries_the_code_and_the_knowledge(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import adapters.runtime, bot.knowledge.base as k; "
        "print(adapters.runtime.__file__); print(k.default_knowledge_dir())"
    )
    env = {k: v for k, v in clean_env().items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [str(installed / "bin" / "python"), "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    module, knowledge = (Path(line) for line in out)
    assert module.is_relative_to(installed) and knowledge.is_relative_to(installed)
    assert knowledge.name == "_knowledge" and sorted(knowledge.glob("*.yaml"))


async def test_briefbot_run_from_the_wheel_serves_until_terminated(installed: Path, tmp_path: Path) -> None:
    port = free_port()
    async with SlackEmulator() as slack:
        env = clean_env(
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_APP_TOKEN=slack.app_token,
            SLACK_API_URL=slack.api_url,
            BRIEFBOT_DB=str(tmp_path / "data" / "briefbot.sqlite3"),
        )
        env.pop("PYTHONPATH", None)
        (tmp_path / "data").mkdir()
        argv = [str(installed / "bin" / "briefbot"), "run"]
        async with BriefbotProcess(env, port=port, argv=argv, cwd=tmp_path) as bot:
            body = await bot.wait_health(200)
            assert body["knowledge"]["entries"] > 100  # the bundled base, not a test fixture
            assert "Lungescu" in await slash(slack, "who is oana lungescu")

            # The image's HEALTHCHECK, as Docker would run it inside the container.
            check = healthcheck_command()
            assert check[0] == "python"
            healthy = subprocess.run(
                [str(installed / "bin" / "python"), *check[1:]], env=bot.env, capture_output=True, timeout=10
            )
            assert healthy.returncode == 0, healthy.stderr
            assert await bot.stop() == 0
    unhealthy = subprocess.run(
        [str(installed / "bin" / "python"), *check[1:]], env=bot.env, capture_output=True, timeout=10
    )
    assert unhealthy.returncode != 0
    assert (tmp_path / "data" / "briefbot.sqlite3").exists()


def test_the_image_runs_briefbot_run_as_a_user_with_the_database_on_the_volume() -> None:
    assert json.loads(_instruction("CMD")) == ["briefbot", "run"]
    assert _instruction("USER") not in ("root", "0")
    assert json.loads(_instruction("VOLUME")) == ["/data"]
    assert "BRIEFBOT_DB=/data/" in _instruction("ENV")
    assert "/healthz" in " ".join(healthcheck_command())
    assert "BRIEFBOT_KNOWLEDGE_DIR=/knowledge" in DOCKERFILE  # the documented override


def test_compose_keeps_the_database_on_a_named_volume_and_secrets_in_env_file() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    service = compose["services"]["briefbot"]
    assert "briefbot-data:/data" in service["volumes"]
    assert "briefbot-data" in compose["volumes"]
    assert service["env_file"] == ".env"
    inline = json.dumps(service.get("environment", {}))
    assert not any(name in inline for name in ("TOKEN", "SECRET"))
    assert ".env" in (REPO / ".gitignore").read_text().split()
    assert os.path.basename(service["build"]) in (".", "")
