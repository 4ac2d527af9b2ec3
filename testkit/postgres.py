"""A real, throwaway PostgreSQL server for tests: Debian's ``postgresql`` binaries, on loopback.

Why a real server: the archive's PostgreSQL back end is tested with the same suite as
the SQLite one, against the real thing (no mocks), as the e2e tests use a real API
server. The server runs from a fresh data directory with trust authentication on
127.0.0.1 and a free port, and is stopped and removed afterwards. PostgreSQL refuses
to run as root: as root, the data directory goes to the ``postgres`` user the Debian
package creates and the binaries run through ``runuser``.

``postgres_unavailable()`` says why no server can be started (no binaries, no
``postgres`` user as root, no psycopg), for tests to skip with that reason.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

USER = "kubatch"
BIN_DIRS = "/usr/lib/postgresql/*/bin"


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's binaries (``$KUBATCH_POSTGRES_BIN_DIR`` first)."""
    chosen = os.environ.get("KUBATCH_POSTGRES_BIN_DIR")
    if chosen:
        return Path(chosen)
    found = sorted(glob.glob(BIN_DIRS), key=lambda path: int(Path(path).parent.name))
    return Path(found[-1]) if found else None


def _server_user() -> str | None:
    """The user to run the server as: None for ourselves, ``postgres`` when we are root."""
    return "postgres" if os.geteuid() == 0 else None


def postgres_unavailable() -> str | None:
    """Why a server cannot be started here, or None."""
    binaries = bin_dir()
    if binaries is None or not (binaries / "initdb").exists():
        return "no PostgreSQL binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
    if _server_user() is not None:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'kubatch[postgres]')"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(binary: Path, *args: str) -> None:
    user = _server_user()
    command = [str(binary), *args]
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    subprocess.run(command, check=True, capture_output=True, text=True)


@contextlib.contextmanager
def running_postgres() -> Iterator[str]:
    """A running server for the duration of the block; yields the DSN of its ``postgres`` database."""
    binaries = bin_dir()
    assert binaries is not None, postgres_unavailable()
    root = Path(tempfile.mkdtemp(prefix="kubatch-postgres-"))
    data = root / "data"
    user = _server_user()
    if user is not None:
        shutil.chown(root, user=user)
    port = _free_port()
    try:
        _run(binaries / "initdb", "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        _run(binaries / "pg_ctl", "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "60", "-o",
             f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off", "start")
        try:
            yield f"postgresql://{USER}@127.0.0.1:{port}/postgres"
        finally:
            _run(binaries / "pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(dsn: str, name: str) -> str:
    """Create the empty database ``name`` on the server of ``dsn``; its DSN."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return dsn.rsplit("/", 1)[0] + f"/{name}"
