"""A throwaway PostgreSQL cluster for the test session, and fresh databases in it.

``start_cluster()`` runs ``initdb`` into a temporary folder and starts the server on a
free loopback port with durability switched off (the data is thrown away anyway).
``initdb`` refuses to run as root, so under root (as in CI) the cluster belongs to the
``postgres`` system user. The cluster lives in RAM when /dev/shm has room (see
``scratch_dir``). ``COPUB_TEST_PG_URL`` points the tests at an existing server
instead; the tests then create (and drop) their databases there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import URL, make_url

T = TypeVar("T")

ENV_URL = "COPUB_TEST_PG_URL"
SYSTEM_USER = "postgres"
RAM_DIR_MIN_BYTES = 1 << 30
PREFIX = "copub-pg-"
OWNER_FILE = "owner.pid"  # the pid of the test process that started the cluster
INITDB_OPTIONS = ("-U", SYSTEM_USER, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
START_OPTIONS = ("-w", "-t", "60")
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
}


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries (or no way to run them); the message says why."""


def find_bindir() -> Path:
    """The folder holding initdb and pg_ctl: from PATH, else the newest Debian install."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    for bindir in candidates:
        if (Path(bindir) / "initdb").exists() and (Path(bindir) / "pg_ctl").exists():
            return Path(bindir)
    raise PostgresUnavailable(
        "PostgreSQL binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin; "
        f"install PostgreSQL or set {ENV_URL}"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scratch_dir() -> str:
    """Where the cluster lives: $COPUB_PG_TMP, else RAM (/dev/shm, when roomy), else /tmp.

    On disk, CREATE DATABASE costs 0.2-0.8 s even with fsync off; in RAM about 20 ms. The
    folder must be traversable by the postgres user when we run as root (both are 1777)."""
    explicit = os.environ.get("COPUB_PG_TMP")
    if explicit:
        return explicit
    shm = "/dev/shm"
    try:
        stat = os.statvfs(shm)
    except OSError:
        return "/tmp"
    roomy = stat.f_bavail * stat.f_frsize >= RAM_DIR_MIN_BYTES
    return shm if roomy and os.access(shm, os.W_OK | os.X_OK) else "/tmp"


def _as_owner(argv: Sequence[str]) -> list[str]:
    """Run as the postgres system user when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return list(argv)
    if shutil.which("runuser"):
        return ["runuser", "-u", SYSTEM_USER, "--", *argv]
    return ["su", SYSTEM_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]


def _run(argv: Sequence[str]) -> None:
    result = subprocess.run(_as_owner(argv), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even if a loop is running here."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _execute(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _create_database(dsn: str, name: str, template: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        # FILE_COPY (PostgreSQL 15+) is several times faster than WAL_LOG for a tiny template.
        fast = conn.get_server_version().major >= 15
        strategy = " STRATEGY FILE_COPY" if fast else ""
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
    finally:
        await conn.close()


def _stop(bindir: Path, basedir: Path) -> None:
    _run([str(bindir / "pg_ctl"), "stop", "-D", str(basedir / "data"), "-m", "immediate", "-w"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_orphans(bindir: Path, scratch: str) -> None:
    """Stop and remove clusters left by test runs that were killed before their teardown."""
    for basedir in Path(scratch).glob(PREFIX + "*"):
        try:
            owner = int((basedir / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not ours, or a run that is starting right now
        if _alive(owner):
            continue
        if (basedir / "data" / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                _stop(bindir, basedir)
        shutil.rmtree(basedir, ignore_errors=True)


@dataclass
class PostgresServer:
    """A running server the tests may create databases on, as a superuser."""

    admin_url: URL  # postgresql://user@host:port/postgres (no driver)
    bindir: Path | None = None
    basedir: Path | None = None
    created: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.admin_url.port or 5432)

    def url_for(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return self.admin_url.set(drivername=driver, database=database).render_as_string(
            hide_password=False
        )

    def create_database(self, prefix: str = "copub_test", *, template: str = "template0") -> str:
        """A new database, a copy of ``template`` (empty by default); returns its name.

        The template must have no open connections while it is copied."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        run_sync(_create_database(self._dsn(), name, template))
        self.created.append(name)
        return name

    def drop_database(self, name: str) -> None:
        run_sync(_execute(self._dsn(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def _dsn(self) -> str:
        return self.url_for(str(self.admin_url.database or "postgres"), driver="postgresql")

    def stop(self) -> None:
        """Stop a cluster we started and remove its folder; drop databases on a shared one."""
        if self.basedir is None:
            for name in list(self.created):
                self.drop_database(name)
            return
        assert self.bindir is not None
        try:
            _stop(self.bindir, self.basedir)
        finally:
            shutil.rmtree(self.basedir, ignore_errors=True)


def server_from_env() -> PostgresServer | None:
    raw = os.environ.get(ENV_URL)
    if not raw:
        return None
    url = make_url(raw)
    return PostgresServer(admin_url=url.set(drivername="postgresql"))


def start_cluster(attempts: int = 3) -> PostgresServer:
    """initdb + pg_ctl start on a free port; the caller must ``stop()`` it."""
    bindir = find_bindir()
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(SYSTEM_USER)
        except KeyError as exc:
            raise PostgresUnavailable(
                f"running as root and there is no {SYSTEM_USER!r} user to run initdb as"
            ) from exc
    scratch = scratch_dir()
    reap_orphans(bindir, scratch)
    basedir = Path(tempfile.mkdtemp(prefix=PREFIX, dir=scratch))
    try:
        (basedir / OWNER_FILE).write_text(str(os.getpid()))
        if os.geteuid() == 0:
            os.chown(basedir, owner.pw_uid, owner.pw_gid)
        basedir.chmod(0o700)
        data = basedir / "data"
        _run([str(bindir / "initdb"), "-D", str(data), *INITDB_OPTIONS])
        conf = {**SETTINGS, "unix_socket_directories": f"'{basedir}'"}
        lines = "".join(f"{key} = {value}\n" for key, value in conf.items())
        with (data / "postgresql.conf").open("a", encoding="utf-8") as fh:
            fh.write(lines)
        last_error: Exception | None = None
        for _ in range(attempts):
            port = free_port()
            try:
                log = str(basedir / "server.log")
                _run([str(bindir / "pg_ctl"), "start", "-D", str(data), "-l", log, *START_OPTIONS,
                      "-o", f"-p {port}"])  # fmt: skip
            except RuntimeError as exc:  # most likely the port was taken meanwhile
                last_error = exc
                continue
            url = URL.create(
                "postgresql", username=SYSTEM_USER, host="127.0.0.1", port=port, database="postgres"
            )
            return PostgresServer(admin_url=url, bindir=bindir, basedir=basedir)
        log_text = (basedir / "server.log").read_text(errors="replace") if data.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {last_error}\n{log_text}")
    except BaseException:
        shutil.rmtree(basedir, ignore_errors=True)
        raise
