"""A throwaway PostgreSQL server: the benchmark's (bench/pg.py) and the tests' (tests/conftest.py, `pg_server`).

`initdb` into a temporary directory, `pg_ctl start` on a free port of 127.0.0.1 (no other address, trust
auth, a unix socket only inside that directory), `create_database()` for each fresh database, `pg_ctl stop`
and the directory removed by `stop()` (and at interpreter exit, whatever happens). The server refuses to run
as root, so as root it runs as the `postgres` system user.

`start_server()` raises ServerUnavailable, with the reason, when no server can be had (binaries absent,
psycopg not installed, no unprivileged user to run it as); the caller decides whether that is a skip. A
server that is present but fails to start raises RuntimeError with the tail of its log.
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SEARCH_DIRS = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/opt/homebrew/opt/postgresql*/bin")
RUN_AS = "postgres"  # system user the server runs as when its caller is root
START_ATTEMPTS = 3  # a free port can be taken between choosing it and the server binding it
# Durability is pointless for a throwaway server; these make CREATE DATABASE and commits much faster.
SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50 "
    "-c shared_buffers=64MB -c log_min_messages=warning"
)


class ServerUnavailable(RuntimeError):
    """No PostgreSQL server can be started on this machine; the message says why."""


def find_bin_dir() -> Path:
    """The directory holding initdb, pg_ctl and postgres: from PATH, else the usual install places."""
    candidates = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    # Highest version first (sorted by the number in /usr/lib/postgresql/<N>/bin).
    found = [Path(p) for pattern in SEARCH_DIRS for p in glob.glob(pattern)]
    found.sort(key=lambda p: [int(s) if s.isdigit() else 0 for s in p.parent.name.split(".")], reverse=True)
    candidates.extend(found)
    for directory in candidates:
        if all((directory / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    raise ServerUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or in "
        f"{', '.join(SEARCH_DIRS)}; install them with `apt-get install postgresql`."
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment of asking."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """One running server; `create_database()` gives a fresh empty database and its SQLAlchemy URL."""

    bin_dir: Path
    root: Path
    port: int = 0
    version: str = ""
    _user: str | None = None
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))
    _running: bool = False

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self._user:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        proc = subprocess.run(cmd, check=False, cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}\n{self.log_tail()}"
            )
        return proc

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return "server log:\n" + "\n".join(text[-lines:])

    def start(self) -> None:
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(RUN_AS)
            except KeyError:
                raise ServerUnavailable(
                    f"running as root and there is no {RUN_AS!r} system user to run the "
                    "PostgreSQL server as (it refuses to run as root)"
                ) from None
            if not shutil.which("runuser"):
                raise ServerUnavailable("running as root and `runuser` is not available to drop privileges")
            self._user = RUN_AS
            os.chmod(self.root, 0o700)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.version = self._run("postgres", "--version").stdout.strip()
        self._run(
            "initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"
        )
        last = ""
        for _ in range(START_ATTEMPTS):
            self.port = free_port()
            opts = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='{self.root}' "
                f"{SERVER_OPTIONS}"
            )
            proc = self._run(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                opts,
                "-w",
                "-t",
                "60",
                "start",
                check=False,
            )
            if proc.returncode == 0:
                self._running = True
                return
            last = f"pg_ctl start exited {proc.returncode}: {proc.stdout}{proc.stderr}\n{self.log_tail()}"
            if "already in use" not in last and "could not bind" not in last:
                break
        raise RuntimeError(f"PostgreSQL server in {self.root} did not start.\n{last}")

    def stop(self) -> None:
        if self._running:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", check=False, timeout=60)
            self._running = False
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True, connect_timeout=10
        ) as conn:
            conn.execute(sql)

    def create_database(self, prefix: str = "wpmi_test") -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"{prefix}_{next(self._names)}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by create_database, closing any connection still open to it."""
        name = url.rsplit("/", 1)[-1]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _base_dir() -> str:
    """Where to make the server's directory: the temp dir, unless the server's user could not reach it."""
    base = Path(tempfile.gettempdir()).resolve()
    if os.geteuid() == 0 and not all(os.stat(p).st_mode & 0o001 for p in (base, *base.parents)):
        return "/tmp"
    return str(base)


def start_server() -> PostgresServer:
    """Start a throwaway server (raises ServerUnavailable with the reason when none can be had)."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise ServerUnavailable(f"psycopg is not installed ({exc}); pip install -e '.[test]'") from None
    bin_dir = find_bin_dir()
    server = PostgresServer(bin_dir=bin_dir, root=Path(tempfile.mkdtemp(prefix="wpmi-pg-", dir=_base_dir())))
    atexit.register(server.stop)  # also stopped if the caller dies before it calls stop()
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server
