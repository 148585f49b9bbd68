"""A throwaway PostgreSQL + PostGIS cluster for the tests (a pytest plugin: ``pytest_plugins``).

``pg_server`` (session): ``initdb`` in a temporary folder (as the ``postgres`` user when the tests
run as root), ``pg_ctl start`` on a free local port, a ``hotspot_template`` database with
``CREATE EXTENSION postgis``; stopped and deleted at the end of the session.
``pg_url`` (function): a fresh database (copied from the template) and its ``postgresql://`` URL.

When the binaries or the PostGIS extension are missing the PostGIS tests SKIP outside CI and
FAIL when ``CI=true`` (.ci/run installs Debian's ``postgresql`` and ``postgresql-NN-postgis-3``).
``HOTSPOT_PG_BINDIR`` overrides where ``initdb``/``pg_ctl`` are looked for.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

_counter = itertools.count(1)


def _bindir() -> Path | None:
    env = os.environ.get("HOTSPOT_PG_BINDIR")
    if env:
        return Path(env) if (Path(env) / "initdb").exists() else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(found[-1]).parent if found else None


def _postgis_installed(bindir: Path) -> bool:
    version = bindir.parent.name
    return bool(glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"))


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostGIS tests cannot run in CI: {reason} (.ci/run installs postgresql and "
                    "postgresql-NN-postgis-3)", pytrace=False)
    pytest.skip(f"PostGIS not available: {reason}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """Run a server command as the `postgres` user when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class PgServer:
    def __init__(self, bindir: Path, folder: Path, port: int):
        self.bindir, self.folder, self.port = bindir, folder, port
        self.data = folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(statement)

    def new_database(self) -> str:
        name = f"hotspot_test_{os.getpid()}_{next(_counter)}"
        self.sql(f"CREATE DATABASE {name} TEMPLATE hotspot_template")
        return self.url(name)


class Unavailable(RuntimeError):
    """PostgreSQL or PostGIS is not installed here."""


@contextmanager
def throwaway_cluster() -> Iterator[PgServer]:
    """A running PostgreSQL with a ``hotspot_template`` PostGIS database; removed on exit.
    Raises `Unavailable` when the binaries, the extension or psycopg are missing."""
    bindir = _bindir()
    if bindir is None:
        raise Unavailable("no initdb under /usr/lib/postgresql/*/bin")
    if not _postgis_installed(bindir):
        raise Unavailable(f"the PostGIS extension is not installed for PostgreSQL {bindir.parent.name}")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise Unavailable("the psycopg package is not installed (pip install -e '.[test]')") from None
    folder = Path(tempfile.mkdtemp(prefix="hotspot-pg-"))
    os.chmod(folder, 0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PgServer(bindir, folder, _free_port())
    try:
        subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(server.data), "-U", "postgres",
                                     "-A", "trust", "-E", "UTF8", "--no-sync"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        options = f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(server.data), "-o", options,
                                     "-l", str(folder / "server.log"), "-w", "-t", "60", "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                server.sql("CREATE DATABASE hotspot_template")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        server.sql("CREATE EXTENSION postgis", database="hotspot_template")
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(server.data), "-m", "fast",
                                         "-w", "stop"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    try:
        with throwaway_cluster() as server:
            yield server
    except Unavailable as exc:
        _unavailable(str(exc))


@pytest.fixture
def pg_url(pg_server) -> str:
    """A fresh, empty database with PostGIS; its postgresql:// URL."""
    return pg_server.new_database()
