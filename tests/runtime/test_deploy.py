"""What the Docker image relies on, tested without Docker: the wheel builds and installs,
`briefbot run` starts from it with the knowledge baked in, the HEALTHCHECK command tells
healthy from not on the port the settings name, compose.yaml keeps the database on a named
volume, and builds are reproducible (a pinned base image, every package pinned in
constraints.txt, a .dockerignore)."""

from __future__ import annotations

import fnmatch
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.qa.semantic import default_model
from tests.adapters.slack.emulator import SlackEmulator
from tests.runtime.process import REPO, BriefbotProcess, clean_env, free_port
from tests.runtime.test_process import slash

DOCKERFILE = (REPO / "Dockerfile").read_text()
MAKEFILE = (REPO / "Makefile").read_text()
CONSTRAINTS = REPO / "constraints.txt"
REGENERATE = "run `make constraints` and commit constraints.txt"


def _instructions(name: str) -> list[str]:
    """Every ``name`` instruction of the Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [str(found) for found in re.findall(rf"^{name}\s+(.*)$", joined, flags=re.MULTILINE)]


def _instruction(name: str) -> str:
    """The last ``name`` instruction of the Dockerfile."""
    found = _instructions(name)
    assert found, f"no {name} in the Dockerfile"
    return found[-1]


def run_healthcheck(installed: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The image's HEALTHCHECK command, as Docker runs it inside the container."""
    command = healthcheck_command()
    executable = installed / "bin" / command[0]
    assert executable.is_file(), f"the HEALTHCHECK runs {command[0]}, which the wheel does not install"
    return subprocess.run(
        [str(executable), *command[1:]], env=env, cwd=cwd, capture_output=True, text=True, timeout=10
    )


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


def test_the_readme_wheel_command_leaves_only_briefbots_wheel_in_dist(tmp_path: Path) -> None:
    """The README's `pip wheel …`, run in a clean checkout, adds one file: no dependency wheels."""
    readme = (REPO / "README.md").read_text()
    (command,) = {found.replace("\n", " ") for found in re.findall(r"`(pip wheel [^`]+)`", readme)}
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, checkout / name)
    for name in ("bot", "adapters", "knowledge"):
        shutil.copytree(REPO / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
    before = set(checkout.rglob("*"))
    offline = ["--no-build-isolation", "--no-index"]  # tests reach no network; the tools are installed
    built = subprocess.run(
        [sys.executable, "-m", *shlex.split(command), *offline],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert built.returncode == 0, f"{command}: {built.stderr}"
    added = sorted(path.relative_to(checkout).as_posix() for path in set(checkout.rglob("*")) - before)
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    wheel = f"dist/briefbot-{version}-py3-none-any.whl"
    assert added == ["dist", wheel], added
    assert f"pip install '{wheel}[slack,discord]'" in readme.replace("\n", " ")  # how to install it


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


def test_briefbot_eval_runs_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    """The dev set ships beside the knowledge base in the wheel (#14.12): no checkout needed."""
    env = {k: v for k, v in clean_env().items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(installed / "bin" / "briefbot"), "eval"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("dev set: ") and Path(first.split()[2]).is_relative_to(installed), first
    assert "in-scope accuracy" in done.stdout and "Traceback" not in done.stderr


def test_the_installed_wheel_carries_the_semantic_model(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import bot.qa.semantic as s; m = s.default_model(); "
        "print(s.MODEL_DIR); print(m.fingerprint); print(m.encode(['hello']).shape[1])"
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
    assert Path(out[0]).is_relative_to(installed)
    assert out[1] == default_model().fingerprint and out[2] == str(default_model().dim)


async def test_briefbot_run_from_the_wheel_serves_until_terminated(installed: Path, tmp_path: Path) -> None:
    port = free_port()
    async with SlackEmulator() as slack:
        env = clean_env(
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_APP_TOKEN=slack.app_token,
            SLACK_API_URL=slack.api_url,
            BRIEFBOT_DB=str(tmp_path / "data" / "briefbot.sqlite3"),
            BRIEFBOT_METRICS_TOKEN="metrics-token-for-details",  # /healthz with the base's size
        )
        env.pop("PYTHONPATH", None)
        (tmp_path / "data").mkdir()
        argv = [str(installed / "bin" / "briefbot"), "run"]
        async with BriefbotProcess(env, port=port, argv=argv, cwd=tmp_path) as bot:
            body = await bot.wait_health(200)
            assert body["knowledge"]["entries"] > 100  # the bundled base, not a test fixture
            assert "Lungescu" in await slash(slack, "who is oana lungescu")

            healthy = run_healthcheck(installed, bot.env, tmp_path)
            assert healthy.returncode == 0, healthy.stdout + healthy.stderr
            assert await bot.stop() == 0
    unhealthy = run_healthcheck(installed, bot.env, tmp_path)
    assert unhealthy.returncode != 0
    assert (tmp_path / "data" / "briefbot.sqlite3").exists()


async def test_the_healthcheck_asks_the_port_set_in_briefbot_toml(installed: Path, tmp_path: Path) -> None:
    # The image's working directory holds the settings file; nothing in the environment names a port.
    port = free_port()
    (tmp_path / "briefbot.toml").write_text(f'[health]\nhost = "127.0.0.1"\nport = {port}\n')
    async with SlackEmulator() as slack:
        env = clean_env(
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_APP_TOKEN=slack.app_token,
            SLACK_API_URL=slack.api_url,
            BRIEFBOT_DB=str(tmp_path / "briefbot.sqlite3"),
        )
        env.pop("PYTHONPATH", None)
        argv = [str(installed / "bin" / "briefbot"), "run"]
        async with BriefbotProcess(env, port=port, argv=argv, cwd=tmp_path, port_in_env=False) as bot:
            assert "BRIEFBOT_HEALTH_PORT" not in bot.env
            await bot.wait_health(200)
            healthy = run_healthcheck(installed, bot.env, tmp_path)
            assert healthy.returncode == 0, healthy.stdout + healthy.stderr
            assert f":{port}/healthz" in healthy.stdout
            assert await bot.stop() == 0
    unhealthy = run_healthcheck(installed, bot.env, tmp_path)
    assert unhealthy.returncode == 1
    assert f"nothing answers at http://127.0.0.1:{port}/healthz" in unhealthy.stdout


def test_the_image_sets_no_health_port_that_would_outrank_briefbot_toml() -> None:
    assert not any("BRIEFBOT_HEALTH_PORT" in env for env in _instructions("ENV"))
    assert "BRIEFBOT_HEALTH_PORT" not in " ".join(healthcheck_command())


def test_the_image_runs_briefbot_run_as_a_user_with_the_database_on_the_volume() -> None:
    assert json.loads(_instruction("CMD")) == ["briefbot", "run"]
    assert _instruction("USER") not in ("root", "0")
    assert json.loads(_instruction("VOLUME")) == ["/data"]
    assert "BRIEFBOT_DB=/data/" in _instruction("ENV")
    # `briefbot health` asks /healthz on the configured port (test_the_healthcheck_asks_the_port_…).
    assert healthcheck_command() == ["briefbot", "health"]
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


# -- reproducible builds ---------------------------------------------------------------------


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in CONSTRAINTS.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, exact, version = line.partition("==")
        assert exact and version, f"constraints.txt: {raw!r} is not name==version; {REGENERATE}"
        pins[canonicalize_name(name)] = version.strip()
    return pins


# Extras that `make` never installs (constraints.txt freezes `.[dev]`), and that pin every
# package exactly in pyproject.toml instead: model-build needs torch, for
# scripts/build_semantic_model.py alone.
BUILD_ONLY_EXTRAS = ("model-build",)


def _declared() -> list[Requirement]:
    """Every dependency pyproject.toml declares, core and extras, but briefbot's own extras
    and the build-only extras."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    listed = [
        *project["dependencies"],
        *(
            r
            for name, extra in project["optional-dependencies"].items()
            if name not in BUILD_ONLY_EXTRAS
            for r in extra
        ),
    ]
    requirements = [Requirement(text) for text in listed]
    return [r for r in requirements if canonicalize_name(r.name) != "briefbot"]


def test_build_only_extras_pin_exact_versions_themselves() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for name in BUILD_ONLY_EXTRAS:
        loose = [text for text in extras[name] if not str(Requirement(text).specifier).startswith("==")]
        assert not loose, f"the {name} extra must pin exact versions: {loose}"


def test_constraints_pin_every_dependency_pyproject_declares() -> None:
    pins = _pins()
    missing = sorted({r.name for r in _declared() if canonicalize_name(r.name) not in pins})
    assert not missing, f"constraints.txt pins no version of {', '.join(missing)}: {REGENERATE}"
    outdated = [
        f"{r} (pinned {pins[canonicalize_name(r.name)]})"
        for r in _declared()
        if not r.specifier.contains(pins[canonicalize_name(r.name)], prereleases=True)
    ]
    assert not outdated, f"constraints.txt pins versions pyproject.toml excludes: {outdated}; {REGENERATE}"


def test_this_environment_holds_exactly_the_pinned_versions() -> None:
    """What `make test` installed, all the way down from briefbot[dev]: so CI uses the pins."""
    pins = _pins()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [("briefbot", frozenset({"dev"}))]
    unpinned, different = [], []
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        distribution = importlib.metadata.distribution(name)
        if canonicalize_name(name) != "briefbot":
            pinned = pins.get(canonicalize_name(name))
            if pinned is None:
                unpinned.append(name)
            elif pinned != distribution.version:
                different.append(f"{name} {distribution.version} (pinned {pinned})")
        for text in distribution.requires or []:
            requirement = Requirement(text)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in (*extras, "")
            )
            if wanted:
                todo.append((requirement.name, frozenset(requirement.extras)))
    assert not unpinned, f"installed but not pinned: {sorted(set(unpinned))}; {REGENERATE}"
    assert not different, f"installed versions differ from the pins: {different}; run `make test` again"


def test_every_install_uses_the_constraints() -> None:
    assert re.search(r"^CONSTRAINTS\s*:=\s*-c constraints\.txt$", MAKEFILE, flags=re.MULTILINE)
    # Every pip install in the Makefile, but the one that re-resolves to write the pins.
    recipes = re.split(r"^(?=\S)", MAKEFILE, flags=re.MULTILINE)
    installs = [
        line
        for recipe in recipes
        if not recipe.startswith("constraints:")
        for line in recipe.splitlines()
        if "pip install" in line
    ]
    assert len(installs) >= 3 and all("$(CONSTRAINTS)" in line for line in installs), installs
    assert re.search(r"^constraints:", MAKEFILE, flags=re.MULTILINE), "no `make constraints` target"
    pip_runs = [run for run in _instructions("RUN") if re.search(r"\bpip (wheel|install)\b", run)]
    assert len(pip_runs) == 2 and all("-c " in run and "constraints.txt" in run for run in pip_runs), pip_runs
    assert "PIP_CONSTRAINT=" in pip_runs[0]  # the build backend, in pip's isolated build environment


def test_the_base_image_is_pinned_by_version_and_digest() -> None:
    (image,) = (arg.split("=", 1)[1] for arg in _instructions("ARG") if arg.startswith("PYTHON_IMAGE="))
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", image), image
    stages = _instructions("FROM")
    assert len(stages) == 2 and all(stage.split()[0] == "${PYTHON_IMAGE}" for stage in stages), stages


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in (".venv", ".git", "tests", "*.sqlite3", ".env", ".mypy_cache", ".pytest_cache", "dist"):
        assert needed in ignored, f".dockerignore does not leave out {needed}"
    assert "**/__pycache__" in ignored
    # ...and nothing the Dockerfile copies from the context.
    copied = [
        source
        for copy in _instructions("COPY")
        if not copy.startswith("--from")
        for source in copy.split()[:-1]
    ]
    assert {"pyproject.toml", "constraints.txt", "bot", "knowledge"} <= set(copied)
    for source in copied:
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source


def test_the_replicas_example_shares_one_postgresql_server_with_the_password_in_env_only() -> None:
    text = (REPO / "docs" / "deploy.md").read_text()
    (block,) = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    services = yaml.safe_load(block)["services"]
    assert services["db"]["image"].startswith("postgres:") and "healthcheck" in services["db"]
    replicas = [s for s in services.values() if s.get("command", [None])[-1:] == ["slack"]]
    assert len(replicas) == 2
    discord = [s for s in services.values() if s.get("command", [None])[-1:] == ["discord"]]
    # Two Discord replicas: the gateway lease in the shared database lets one connect at a time.
    assert len(discord) == 2
    for service in [*replicas, *discord]:
        url = service["environment"]["BRIEFBOT_DB"]
        assert url == "postgresql://briefbot@db:5432/briefbot"  # one server, no password in the URL
        assert service["environment"]["PGPASSWORD"] == "${BRIEFBOT_DB_PASSWORD}"
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
    assert "postgres" in _instruction("RUN pip install")  # the image has the driver
