"""The SQLite archive: one file, for a single operator (the default).

Why the standard library's ``sqlite3`` in a thread: it is always there, and each call
is short; ``asyncio.to_thread`` keeps the event loop free while SQLite waits on the
disk (aiosqlite does the same, and is not on the package index this project uses).
One connection per archive, used by one thread at a time (a lock), in WAL mode so
the CLI or an API process on the same volume reads while the operator writes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kubatch.archive.base import Archive, ArchiveError, Statement

BUSY_TIMEOUT_SECONDS = 30


class SQLiteArchive(Archive):
    def __init__(self, path: str, *, writer: bool) -> None:
        super().__init__(writer=writer)
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            if not self.writer and not Path(self.path).exists():
                raise FileNotFoundError(self.path)
            try:
                if self.writer:
                    Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                                             check_same_thread=False)
                if self.writer:
                    connection.execute("PRAGMA journal_mode=WAL")
            except (sqlite3.Error, OSError) as error:
                raise ArchiveError(f"cannot open the SQLite archive {self.path}: {error}") from error
            self._connection = connection
        return self._connection

    def _run_now(self, statements: Sequence[Statement], lock: bool, skip_if: Statement | None) -> None:
        with self._lock:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE" if lock else "BEGIN")
            try:
                if skip_if is None or connection.execute(*skip_if).fetchone() is None:
                    for sql, params in statements:
                        connection.execute(sql, tuple(params))
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _fetch_now(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                connection = self._connect()
            except FileNotFoundError:  # a reader before the operator created the file: nothing archived yet
                return []
            return connection.execute(sql, tuple(params)).fetchall()

    async def _run(self, statements: Sequence[Statement], *, lock: bool = False,
                   skip_if: Statement | None = None) -> None:
        try:
            await asyncio.to_thread(self._run_now, statements, lock or self.writer, skip_if)
        except sqlite3.Error as error:
            raise ArchiveError(f"SQLite archive {self.path}: {error}") from error

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            return await asyncio.to_thread(self._fetch_now, sql, params)
        except sqlite3.Error as error:
            raise ArchiveError(f"SQLite archive {self.path}: {error}") from error

    async def _has_table(self, name: str) -> bool:
        return bool(await self._fetch("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]))

    async def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
