"""The prepared-base cache: a warm start answers exactly as a fresh build, and any change
to the notes or the code, or anything wrong with the cache, means the normal path."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import bot.ops.prepared as prepared
from bot.errors import KnowledgeError
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.loading import load_knowledge
from bot.ops.live import LiveKnowledge
from bot.ops.prepared import prepare
from bot.qa.devset import default_dev_set, load_dev_set
from bot.qa.engine import DEFAULT_THRESHOLD, Engine
from tests.runtime.support import EDITED, ORIGINAL, copy_kb, edit_kishida

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = ("who is oana lungescu", "when did japan join the nato cyber centre", "wen did japn join ccdcoe")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory of this test's own."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("BRIEFBOT_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every directory prepare() loads and validates (a cache hit loads nothing)."""
    seen: list[Path] = []

    def counting(directory: Path) -> KnowledgeBase:
        seen.append(Path(directory))
        return load_knowledge(directory)

    monkeypatch.setattr(prepared, "load_knowledge", counting)
    return seen


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A small valid base (the Slack fixture's), copied so a test may edit it."""
    return copy_kb(tmp_path)


def _cached(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.pickle"))


def _same_base(a: KnowledgeBase, b: KnowledgeBase) -> None:
    assert a.entries == b.entries
    assert dict(a.documents) == dict(b.documents)
    assert a.directory == b.directory


# -- answers -----------------------------------------------------------------------------


def test_a_round_tripped_engine_answers_the_dev_set_exactly_as_a_fresh_one() -> None:
    fresh = Engine(load_knowledge())
    restored = pickle.loads(pickle.dumps(fresh, protocol=pickle.HIGHEST_PROTOCOL))
    assert restored is not fresh and restored.matcher is not fresh.matcher
    questions = [case.question for case in load_dev_set(default_dev_set())]
    assert len(questions) > 200
    for question in questions:
        assert restored.ask(question) == fresh.ask(question), question
    # And the copy's memos work (they are rebuilt, not carried): asked again, same answers.
    for question in questions[:50]:
        assert restored.ask(question) == fresh.ask(question), question


def test_the_second_start_is_served_from_the_cache_with_equal_answers(
    tmp_path: Path, cache: Path, loads: list[Path]
) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", root)
    first = prepare(root)
    assert loads == [root] and len(_cached(cache)) == 1
    second = prepare(root)
    assert loads == [root]  # not loaded again
    assert second is not first and second.kb is not first.kb
    _same_base(second.kb, first.kb)
    for question in QUESTIONS:
        assert second.ask(question) == first.ask(question)


def test_the_threshold_is_applied_after_the_cache(base: Path, cache: Path, loads: list[Path]) -> None:
    assert prepare(base, threshold=0.9).threshold == 0.9
    assert prepare(base).threshold == DEFAULT_THRESHOLD  # cached at the default
    assert prepare(base, threshold=0.3).threshold == 0.3
    assert len(loads) == 1


# -- what invalidates ---------------------------------------------------------------------


def test_editing_a_knowledge_file_means_a_new_load(tmp_path: Path, cache: Path, loads: list[Path]) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", root)
    before = prepare(root)
    # An entry whose answer is written on one line of its file, to edit it there.
    entry = next(e for e in before.kb.entries if e.answer in (root / Path(e.file).name).read_text("utf-8"))
    path = root / Path(entry.file).name
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\n# a curator's note\n", encoding="utf-8")
    prepare(root)
    assert len(loads) == 2  # a comment is an edit too: the files' bytes are what is keyed
    edited = entry.answer[:-1] + " (edited)."
    path.write_text(text.replace(entry.answer, edited), encoding="utf-8")
    after = prepare(root)
    assert len(loads) == 3
    assert after.kb.by_id[entry.id].answer == edited
    assert before.kb.by_id[entry.id].answer == entry.answer
    path.write_text(text, encoding="utf-8")  # back as it was: the first file serves again
    _same_base(prepare(root).kb, before.kb)
    assert len(loads) == 3


def test_a_new_file_means_a_new_load(base: Path, cache: Path, loads: list[Path]) -> None:
    prepare(base)
    (base / "more.yml").write_text("entries: []\n")
    prepare(base)
    assert len(loads) == 2


def test_a_code_change_means_a_new_load(
    base: Path, cache: Path, loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(base)
    prepare(base)
    assert len(loads) == 1
    monkeypatch.setattr(prepared, "code_version", lambda: "a different version of bot/*.py")
    prepare(base)
    assert len(loads) == 2


def test_the_code_version_follows_the_source_of_the_bot_package() -> None:
    prepared.code_version.cache_clear()
    try:
        version = prepared.code_version()
        assert len(version) == 64 and version == prepared.code_version()
    finally:
        prepared.code_version.cache_clear()


# -- a cache that cannot be used -----------------------------------------------------------


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00not a pickle at all" * 100)


def _foreign(path: Path) -> None:  # a whole, valid file, but for another key
    data = path.read_bytes()
    path.write_bytes(data.replace(path.stem.encode(), b"0" * 64, 1))


def _not_an_engine(path: Path) -> None:
    header = path.read_bytes().split(b"\n", 2)
    path.write_bytes(b"\n".join(header[:2]) + b"\n" + pickle.dumps({"an": "engine?"}))


def _writable_by_others(path: Path) -> None:
    path.chmod(0o666)


@pytest.mark.parametrize("spoil", [_truncate, _garbage, _foreign, _not_an_engine, _writable_by_others])
def test_a_spoilt_cache_file_is_ignored_and_replaced(
    base: Path, cache: Path, loads: list[Path], spoil: Callable[[Path], None]
) -> None:
    good = prepare(base)
    [path] = _cached(cache)
    spoil(path)
    again = prepare(base)
    assert len(loads) == 2
    _same_base(again.kb, good.kb)
    for question in QUESTIONS:
        assert again.ask(question) == good.ask(question)
    [replaced] = _cached(cache)
    assert replaced == path and replaced.stat().st_mode & 0o077 == 0
    prepare(base)
    assert len(loads) == 2  # the replacement is used


def _no_home(cls: type[Path]) -> Path:
    raise RuntimeError("Could not determine home directory.")


@pytest.mark.parametrize("where", ["beneath-a-file", "nowhere"])
def test_without_a_usable_cache_directory_every_start_loads(
    base: Path, tmp_path: Path, loads: list[Path], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    if where == "beneath-a-file":  # cannot be created, whoever runs the test (root too)
        (tmp_path / "a-file").write_text("")
        monkeypatch.setenv("BRIEFBOT_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    else:  # no variable names a place and there is no home to find
        monkeypatch.delenv("BRIEFBOT_CACHE_DIR")
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
        monkeypatch.setattr(Path, "home", classmethod(_no_home))
        assert prepared.cache_dir() is None
    first, second = prepare(base), prepare(base)
    assert len(loads) == 2
    assert second.ask(QUESTIONS[0]) == first.ask(QUESTIONS[0])


def test_the_cache_location_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BRIEFBOT_CACHE_DIR", str(tmp_path / "mine"))
    assert prepared.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("BRIEFBOT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert prepared.cache_dir() == tmp_path / "xdg" / "briefbot"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert prepared.cache_dir() == tmp_path / "home" / ".cache" / "briefbot"


def test_the_directory_is_private_and_holds_only_the_newest_files(
    base: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(prepared.KEEP + 3):
        monkeypatch.setattr(prepared, "code_version", lambda n=n: f"version {n}")
        prepare(base)
    assert len(_cached(cache)) == prepared.KEEP
    assert cache.stat().st_mode & 0o777 == 0o700
    assert not [p for p in cache.iterdir() if not p.name.endswith(".pickle")]  # no temporary left


# -- a broken base ----------------------------------------------------------------------------


def _problems(call: Callable[[], object]) -> list[tuple[object, ...]]:
    with pytest.raises(KnowledgeError) as caught:
        call()
    return [(p.file, p.line, p.entry_id, p.field, p.message) for p in caught.value.problems]


@pytest.mark.parametrize(
    "damage",
    [
        ("topics: [people, diplomacy]", "topics: [people, astrology]"),  # invalid entry
        ("topics: [people, diplomacy]", "topics: [people, diplomacy"),  # not YAML
    ],
)
def test_a_broken_base_raises_the_same_problems_and_is_never_cached(
    base: Path, cache: Path, damage: tuple[str, str]
) -> None:
    good = prepare(base)
    [good_file] = _cached(cache)
    path = base / "entries.yaml"
    text = path.read_text()
    path.write_text(text.replace(*damage, 1))
    expected = _problems(lambda: load_knowledge(base))
    assert expected and _problems(lambda: prepare(base)) == expected
    assert _problems(lambda: prepare(base)) == expected  # the second time too: nothing cached
    assert _cached(cache) == [good_file]
    path.write_text(text)
    _same_base(prepare(base).kb, good.kb)


def test_a_missing_directory_is_reported_as_before(tmp_path: Path, cache: Path) -> None:
    missing = tmp_path / "nowhere"
    assert _problems(lambda: prepare(missing)) == _problems(lambda: load_knowledge(missing))
    assert not cache.exists() or not _cached(cache)


# -- where the cache is used -------------------------------------------------------------------


async def test_a_live_reload_after_an_edit_validates_the_new_files(tmp_path: Path, cache: Path) -> None:
    root = copy_kb(tmp_path)
    live = LiveKnowledge.load(root)
    original = live.current.version
    edit_kishida(root)
    result = await live.reload("test")
    assert result.ok and result.changed and EDITED in live.engine().ask("who is fumio kishida").text
    edit_kishida(root, back=True)  # prepared before: from the cache, and the same version as then
    result = await live.reload("test")
    assert result.ok and result.changed and result.version == original
    assert ORIGINAL in live.engine().ask("who is fumio kishida").text


def test_a_warm_ask_imports_neither_pydantic_nor_yaml(cache: Path, tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from adapters.cli import main\n"
        "code = main(['ask', 'who is oana lungescu'])\n"
        "heavy = sorted(m for m in ('pydantic', 'yaml') if m in sys.modules)\n"
        "print('HEAVY', ','.join(heavy) or '-')\n"
        "sys.exit(code)\n"
    )
    root = tmp_path / "knowledge"  # a copy: the two starts must read the same files
    shutil.copytree(REPO / "knowledge", root)
    env = {**os.environ, "BRIEFBOT_CACHE_DIR": str(cache), "BRIEFBOT_KNOWLEDGE_DIR": str(root)}

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert "Lungescu" in done.stdout
        return done.stdout.rsplit("HEAVY ", 1)[1].strip()

    assert run() == "pydantic,yaml"  # the first start validates the YAML
    assert run() == "-"  # a warm one needs neither
