"""A throwaway PostgreSQL server for the tests: a real cluster, started and stopped here.

``postgres_server`` (session-scoped) runs ``initdb`` in a new temporary directory and
starts ``postgres`` on a free loopback port, with its unix socket in that directory too,
so nothing it does can touch a server of the machine's own. When the tests run as root
the cluster belongs to the unprivileged ``postgres`` user (PostgreSQL refuses to run as
root). It is tuned for throwaway data (``initdb --no-sync``, ``fsync=off``,
``full_page_writes=off``) and requires passwords (SCRAM) on every connection, so the
store is tested the way a deployment connects.

The binaries are looked up on PATH, then in ``/usr/lib/postgresql/<version>/bin``
(Debian's ``postgresql`` package). Without them the PostgreSQL tests are skipped with
the reason, except under ``CI=true``, where a missing server is a failure: CI must never
turn green by testing one backend only.

``postgres`` is a direct child of the test process, so stopping it never depends on a
pid file, and the kernel sends it SIGQUIT if the test process dies without stopping it
(``PR_SET_PDEATHSIG``): no server outlives its test run. Each test asks for a database
of its own (``create_database``) rather than a server of its own: ``initdb`` takes
seconds, ``CREATE DATABASE`` milliseconds.
"""

from __future__ import annotations

import ctypes
import fcntl
import glob
import itertools
import os
import pwd
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

__all__ = [
    "PostgresServer",
    "PostgresUnavailable",
    "find_binaries",
    "postgres_server",
    "start_server",
    "unavailable",
]

ADMIN = "postgres"
USER = "briefbot"
_PREFIX = "briefbot-pg-"
_LOCK = "in-use.lock"
_READY_TIMEOUT = 60.0
_BINARIES = ("initdb", "postgres")
_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "32MB",
    # A test that breaks a connection on purpose should not fill the log with it.
    "log_min_messages": "warning",
    "log_min_error_statement": "panic",
}


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not on this machine."""


def find_binaries() -> Path:
    """The directory holding ``initdb`` and ``postgres``: PATH first, then Debian's layout."""
    on_path = shutil.which("initdb")
    if on_path is not None:
        directory = Path(os.path.realpath(on_path)).parent
        if all((directory / name).exists() for name in _BINARIES):
            return directory
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    for candidate in reversed(versions):
        directory = Path(candidate).parent
        if all((directory / name).exists() for name in _BINARIES):
            return directory
    raise PostgresUnavailable(
        "the PostgreSQL server binaries (initdb, postgres) are neither on PATH nor in "
        "/usr/lib/postgresql/*/bin; install them (Debian: apt-get install postgresql) to test "
        "the PostgreSQL store"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    # Runs in the child between fork and exec, after the switch to the postgres user
    # (a change of user clears the setting, so it must come after). SIGQUIT is
    # PostgreSQL's immediate shutdown: the postmaster takes its backends down with it.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT, 0, 0, 0)


class PostgresServer:
    """One running cluster: its URLs, an admin connection, fresh databases, restarts."""

    def __init__(self, bin_dir: Path, *, file_size_limit: int | None = None) -> None:
        """``file_size_limit``: bytes no file of the server may grow past (RLIMIT_FSIZE), a disk
        that fills up without filling a real one. PostgreSQL ignores SIGXFSZ, so a write past
        it is cut short, and a table that cannot grow by a whole page fails as on a full disk
        (SQLSTATE 53100). Above 16 MB, so write-ahead log segments still fit."""
        self.bin_dir = bin_dir
        self.file_size_limit = file_size_limit
        self.root = Path(tempfile.mkdtemp(prefix=_PREFIX))
        # Held while this run uses the folder, so another run's clean-up leaves it alone.
        self._lock = (self.root / _LOCK).open("wb")
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.admin_password = secrets.token_urlsafe(12)
        # Characters a URL must escape, so the tests show the password is quoted right.
        self.password = "p@ss:w/rd-" + secrets.token_urlsafe(9)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)
        self._owner = self._unprivileged_user()

    # -- running as someone who may --

    @staticmethod
    def _unprivileged_user() -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(ADMIN)
        except KeyError:
            raise PostgresUnavailable(
                "the tests run as root, and PostgreSQL refuses to; there is no 'postgres' user to "
                "run the test server as (Debian's postgresql package creates it)"
            ) from None

    def _popen_args(self) -> dict[str, object]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        args: dict[str, object] = {"env": env, "cwd": self.root}
        if self._owner is not None:
            args.update(user=self._owner.pw_uid, group=self._owner.pw_gid, extra_groups=[])
            env["HOME"] = str(self.root)
        return args

    def _run(self, argv: Sequence[str]) -> None:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **self._popen_args(),  # type: ignore[call-overload]
        )
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    # -- lifecycle --

    def init(self) -> None:
        if self._owner is not None:
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)
        pwfile = self.root / "admin.pw"
        pwfile.write_text(self.admin_password + "\n")
        if self._owner is not None:
            os.chown(pwfile, self._owner.pw_uid, self._owner.pw_gid)
        self._run(
            [
                str(self.bin_dir / "initdb"),
                "--pgdata",
                str(self.data),
                "--username",
                ADMIN,
                "--pwfile",
                str(pwfile),
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
                "--no-instructions",
            ]
        )
        pwfile.unlink()

    def start(self, port: int | None = None) -> None:
        """Start on ``port`` (a restart keeps its port), or on a free one."""
        for attempt in range(5):
            self.port = port if port is not None else _free_port()
            argv = [str(self.bin_dir / "postgres"), "-D", str(self.data), "-p", str(self.port)]
            argv += ["-c", f"unix_socket_directories={self.root}"]
            for name, value in _SERVER_SETTINGS.items():
                argv += ["-c", f"{name}={value}"]
            with self.log.open("ab") as log:
                self._process = subprocess.Popen(  # type: ignore[call-overload]
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=self._in_child,
                    **self._popen_args(),
                )
            if self._wait_until_ready():
                return
            if port is not None or attempt == 4:
                break  # a restart must get its own port back; no point trying others
            # Someone took the free port between the probe and the bind: another one.
        raise RuntimeError(f"the test PostgreSQL server did not start; its log:\n{self._log_tail()}")

    def _in_child(self) -> None:
        _die_with_parent()
        if self.file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (self.file_size_limit, self.file_size_limit))

    def _wait_until_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + _READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with psycopg.connect(self.admin_url(), connect_timeout=2):
                    return True
            except psycopg.OperationalError:
                time.sleep(0.05)
        self._kill()
        return False

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Fast shutdown: clients are disconnected, the data stays."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        # The postmaster exits only after its backends have: nothing of it is left.

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=30)

    def restart(self) -> None:
        """What an operator's ``pg_ctl restart`` does: every connection is cut, data kept."""
        self.stop()
        self.start(self.port)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        self._lock.close()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- using it --

    def url(self, database: str, *, user: str = USER, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return (
            f"postgresql://{quote(user, safe='')}:{quote(secret, safe='')}@127.0.0.1:{self.port}/{database}"
        )

    def bare_url(self, database: str) -> str:
        """The briefbot role's URL without the password (for PGPASSWORD to supply)."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def admin_url(self, database: str = "postgres") -> str:
        return self.url(database, user=ADMIN, password=self.admin_password)

    def admin(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit superuser connection; the caller closes it."""
        return psycopg.connect(self.admin_url(database), autocommit=True, connect_timeout=10)

    def create_role(self) -> None:
        with self.admin() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(USER), sql.Literal(self.password)
                )
            )

    def create_database(self) -> str:
        """A new, empty database owned by the briefbot role; returns its name."""
        name = f"t{os.getpid()}_{next(self._names)}"
        with self.admin() as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0").format(
                    sql.Identifier(name), sql.Identifier(USER)
                )
            )
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def backends(self, database: str) -> list[int]:
        """The server processes serving connections to ``database`` (not this one's)."""
        with self.admin() as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchall()
        return [int(row[0]) for row in rows]  # type: ignore[call-overload]

    def terminate(self, pid: int) -> None:
        """Kill one backend the way a crash or a DBA's pg_terminate_backend does."""
        with self.admin() as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))

    def raw(self, database: str) -> bytes:
        """Every byte the cluster holds for ``database``: its files and the write-ahead log."""
        with self.admin(database) as conn:
            conn.execute("CHECKPOINT")
            oid = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()
        assert oid is not None
        files = sorted((self.data / "base" / str(oid[0])).iterdir()) + sorted(
            (self.data / "pg_wal").glob("0*")
        )
        return b"".join(f.read_bytes() for f in files if f.is_file())


def _in_use(folder: Path) -> bool:
    """Whether a test run still owns ``folder`` (it holds the lock) or its server still runs."""
    try:
        with (folder / _LOCK).open("rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except FileNotFoundError:
        # Between mkdtemp and taking the lock: young folders are left alone.
        return time.time() - folder.stat().st_mtime < 600
    except OSError:
        return True
    try:
        os.kill(int((folder / "data" / "postmaster.pid").read_text().split()[0]), 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def _remove_leftovers() -> None:
    """Delete the clusters of earlier test runs that were killed before cleaning up."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        try:
            if not _in_use(folder):
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def start_server(*, file_size_limit: int | None = None) -> PostgresServer:
    """A running cluster with the briefbot role; raises PostgresUnavailable without binaries."""
    bin_dir = find_binaries()
    _remove_leftovers()
    server = PostgresServer(bin_dir, file_size_limit=file_size_limit)
    try:
        server.init()
        server.start()
        server.create_role()
    except BaseException:
        server.remove()
        raise
    return server


def unavailable(reason: str) -> None:
    """Skip, with the reason; under CI a missing server fails the run instead."""
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true and no PostgreSQL server can be started: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL server: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        unavailable(str(exc))
        raise AssertionError("unreachable") from exc
    try:
        yield server
    finally:
        server.remove()
