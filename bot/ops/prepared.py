"""A knowledge directory made ready to answer from: validated, indexed, cached between starts.

Validating the YAML (``load_knowledge``) and building the engine's index (``Engine``)
cost more than everything else a fresh process does before its first answer. Both are
pure functions of the knowledge files and the code, so ``prepare`` stores their result,
the built ``Engine`` (whose ``kb`` is the validated base), in a cache file and, on the
next start, loads that file instead when nothing they depend on has changed.

The cache key is a SHA-256 over the knowledge files ``load_knowledge`` reads (names and
bytes), the directory as given, the source of every ``bot/*.py`` module, the Python
version, the RapidFuzz version and ``FORMAT``. Any edit, to the notes or the code, is a
new key, so the normal path runs: the base is validated again and a broken one raises
the same ``KnowledgeError`` as always. A broken base is never cached.

The files live in ``$BRIEFBOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/briefbot``, else
``~/.cache/briefbot``; only the newest few are kept and deleting them is always safe.
The cache is an optimisation and nothing else: a missing or unwritable directory, or a
file that is truncated, corrupt, stale or not ours, is logged at debug level and the
normal path runs. The files are pickles, read only when the current user owns them and
no one else can write them.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import logging
import os
import pickle
import sys
import time
from pathlib import Path

import rapidfuzz

from bot.knowledge.base import KnowledgeBase, default_knowledge_dir, dev_set_of, knowledge_files
from bot.knowledge.loading import load_knowledge
from bot.qa.engine import Engine

__all__ = ["FORMAT", "cache_dir", "code_version", "prepare"]

_log = logging.getLogger(__name__)

# Bump when what is stored changes in a way the code fingerprint would not show.
FORMAT = 1
# Cache files kept: one per knowledge directory or code version recently used.
KEEP = 3
_MAGIC = b"briefbot-prepared\n"
_SUFFIX = ".pickle"
# A temporary file this old is left over from a writer that died; others are in progress.
_STALE_TEMP_SECONDS = 3600.0


def prepare(
    directory: Path | str | None = None, *, threshold: float | None = None, fresh: bool = False
) -> Engine:
    """The engine for ``directory`` (default: the bundled base); ``engine.kb`` is the base.

    From the cache when a file for exactly these knowledge files and this code is there;
    else loaded, validated and built, then cached. ``fresh`` skips reading the cache
    (``briefbot kb check`` validates for real) but still writes it. A broken base raises
    ``KnowledgeError`` listing every problem, as ``load_knowledge`` does.
    """
    root = Path(directory) if directory is not None else default_knowledge_dir()
    place = cache_dir()
    key = _key(root) if place is not None else None
    if place is not None and key is not None and not fresh:
        path = place / f"{key}{_SUFFIX}"
        cached = _read(path, key)
        if cached is not None:
            _used(path)
            return _at(cached, threshold)
    kb = load_knowledge(root)
    engine = Engine(kb)  # built at the default threshold; the threshold is applied per call
    if place is not None and key is not None:
        # Cache only what was built from the files the key was computed over: an edit
        # landing while they were loaded would otherwise be stored under the old key.
        if _key(root) == key:
            _write(place, key, engine)
        else:
            _log.debug("knowledge in %s changed while loading; not cached", root)
    return _at(engine, threshold)


def cache_dir() -> Path | None:
    """Where prepared bases are kept, or None when no location can be named."""
    override = os.environ.get("BRIEFBOT_CACHE_DIR")
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec: a relative path is to be ignored
        return Path(xdg) / "briefbot"
    try:
        return Path.home() / ".cache" / "briefbot"
    except RuntimeError:  # no home directory to be found
        return None


@functools.cache
def code_version() -> str:
    """A fingerprint of the ``bot`` package's source: any change to the code is a new one.

    Taken once per process, so that a long-running bot whose files are replaced under it
    (a deploy) keeps describing the code it runs, not the code on disk.
    """
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    sources = sorted(package.rglob("*.py"))
    if not sources:
        return ""  # no source to fingerprint (a build without .py files): no caching
    # The semantic model ships as data beside the code (bot/qa/model/): its manifest
    # records every file's sha256, so hashing it covers a rebuilt model.
    manifest = package / "qa" / "model" / "model.json"
    for path in [*sources, *([manifest] if manifest.is_file() else [])]:
        data = path.read_bytes()
        digest.update(f"{path.relative_to(package).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _key(root: Path) -> str | None:
    """The cache key for ``root`` as it is now; None when it cannot be cached."""
    try:
        code = code_version()
        files = knowledge_files(root) if root.is_dir() else []
        if not code or not files:
            return None  # no fingerprint, or load_knowledge will report the problem
        digest = hashlib.sha256()
        for part in (f"format {FORMAT}", sys.version, rapidfuzz.__version__, code, str(root)):
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        # The dev set is fitted on (bot.qa.training), so an edit to it is a new engine too.
        dev = dev_set_of(root)
        for path in [*files, *([dev] if dev.is_file() else [])]:
            data = path.read_bytes()
            digest.update(f"{path.name}\0{len(data)}\0".encode("utf-8", "surrogateescape"))
            digest.update(data)
        return digest.hexdigest()
    except OSError as exc:  # unreadable now: load_knowledge says so, or reads it after all
        _log.debug("cannot fingerprint %s (%s); not using the cache", root, exc)
        return None


def _header(key: str) -> bytes:
    return _MAGIC + key.encode() + b"\n"


def _read(path: Path, key: str) -> Engine | None:
    """The engine stored at ``path`` for ``key``, or None (and why, at debug level)."""
    try:
        with path.open("rb") as file:
            status = os.fstat(file.fileno())
            if status.st_uid != os.getuid() or status.st_mode & 0o022:
                _log.debug("ignoring %s: not owned by this user, or writable by others", path)
                return None
            data = file.read()
    except FileNotFoundError:
        _log.debug("no prepared base at %s", path)
        return None
    except OSError as exc:
        _log.debug("cannot read %s (%s)", path, exc)
        return None
    header = _header(key)
    if not data.startswith(header):
        _log.debug("ignoring %s: not a prepared base for this key", path)
        return None
    collecting = gc.isenabled()
    gc.disable()  # unpickling allocates many small objects and frees none: no cycles to find
    try:
        engine = pickle.loads(memoryview(data)[len(header) :])
    except Exception as exc:  # truncated, corrupt, or from code that no longer exists
        _log.debug("ignoring %s: cannot be unpickled (%s: %s)", path, type(exc).__name__, exc)
        return None
    finally:
        if collecting:
            gc.enable()
    if not isinstance(engine, Engine) or not isinstance(engine.kb, KnowledgeBase):
        _log.debug("ignoring %s: holds a %s, not an engine", path, type(engine).__name__)
        return None
    _log.debug("prepared base for %s loaded from %s", engine.kb.directory, path)
    return engine


def _write(place: Path, key: str, engine: Engine) -> None:
    """Store ``engine`` under ``key`` atomically; on any failure, store nothing."""
    temporary: Path | None = None
    try:
        payload = pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL)
        place.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = place / f".{key[:16]}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(_header(key))
            file.write(payload)
        os.replace(temporary, place / f"{key}{_SUFFIX}")  # readers see the old file or the whole new one
        temporary = None
    except Exception as exc:  # unwritable, full, or an engine that does not pickle
        _log.debug("prepared base not cached in %s (%s: %s)", place, type(exc).__name__, exc)
        return
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
    _log.debug("prepared base cached in %s (%d bytes)", place, len(payload))
    _prune(place)


def _prune(place: Path) -> None:
    """Keep the ``KEEP`` newest cache files, and no temporary file a dead writer left."""
    try:
        found = []
        now = time.time()
        for path in place.iterdir():
            try:
                status = path.stat()
            except OSError:
                continue  # removed meanwhile
            if path.name.endswith(_SUFFIX):
                found.append((status.st_mtime, path))
            elif path.name.endswith(".tmp") and now - status.st_mtime > _STALE_TEMP_SECONDS:
                path.unlink(missing_ok=True)
        found.sort(reverse=True)
        for _, path in found[KEEP:]:
            path.unlink(missing_ok=True)
    except OSError as exc:
        _log.debug("could not tidy %s (%s)", place, exc)


def _used(path: Path) -> None:
    """Mark a cache file as just used, so pruning keeps the ones in use, not the newest."""
    with contextlib.suppress(OSError):  # a read-only cache still serves
        os.utime(path)


def _at(engine: Engine, threshold: float | None) -> Engine:
    return engine if threshold is None else engine.with_threshold(threshold)
