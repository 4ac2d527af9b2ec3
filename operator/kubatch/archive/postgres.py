"""The PostgreSQL archive: for production, and for API pods apart from the operator.

Why psycopg 3 (not asyncpg): it is libpq underneath, so the URL from the Secret is any
libpq connection string (``sslmode``, ``sslrootcert``, ``target_session_attrs``,
``PGPASSWORD``/``.pgpass``, service files) with libpq's own meaning, as ``psql`` reads
it; it has a native asyncio connection; and its binary wheel needs no compiler or
system libpq. asyncpg is faster on large result sets, which the archive never
returns (a page is at most 1,000 rows), and parses connection strings its own way.

One connection per archive, one statement at a time (an asyncio lock); a connection
that breaks is dropped and the next call opens a new one. Writers take a transaction
advisory lock for schema migrations, so two operators starting at once migrate once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from kubatch.archive.base import Archive, ArchiveError, Statement

MIGRATION_LOCK = 0x6B75626174  # "kubat": the advisory lock id writers migrate under
CONNECT_TIMEOUT_SECONDS = 10


def _placeholders(sql: str) -> str:
    return sql.replace("?", "%s")


class PostgresArchive(Archive):
    BYTEWISE_TEXT = 'TEXT COLLATE "C"'
    def __init__(self, url: str, *, writer: bool) -> None:
        super().__init__(writer=writer)
        self.url = url
        self._connection: Any = None
        self._lock = asyncio.Lock()

    async def _connect(self) -> Any:
        try:
            import psycopg
        except ImportError as error:
            raise ArchiveError("a postgresql:// archive needs psycopg: pip install 'kubatch[postgres]'") from error
        if self._connection is None or self._connection.closed:
            try:
                self._connection = await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
            except psycopg.Error as error:
                raise ArchiveError(f"cannot connect to the PostgreSQL archive: {error}") from error
        return self._connection

    async def _dropping_broken(self, work):
        import psycopg

        async with self._lock:
            connection = await self._connect()
            try:
                return await work(connection)
            except psycopg.Error as error:
                if isinstance(error, psycopg.OperationalError):
                    await connection.close()
                    self._connection = None
                raise ArchiveError(f"PostgreSQL archive: {error}") from error

    async def _run(self, statements: Sequence[Statement], *, lock: bool = False,
                   skip_if: Statement | None = None) -> None:
        async def work(connection: Any) -> None:
            async with connection.transaction():
                if lock:
                    await connection.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
                if skip_if is not None:
                    cursor = await connection.execute(_placeholders(skip_if[0]), list(skip_if[1]))
                    if await cursor.fetchone() is not None:
                        return
                # runs of the same statement (an array's children) go as one batch, not a round trip each
                for sql, run in groupby(statements, key=lambda statement: statement[0]):
                    async with connection.cursor() as cursor:
                        await cursor.executemany(_placeholders(sql), [list(params) for _, params in run])

        await self._dropping_broken(work)

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        async def work(connection: Any) -> list[tuple[Any, ...]]:
            cursor = await connection.execute(_placeholders(sql), list(params))
            return await cursor.fetchall()

        return await self._dropping_broken(work)

    async def _has_table(self, name: str) -> bool:
        return bool(await self._fetch("SELECT 1 FROM pg_catalog.pg_tables WHERE tablename = ? "
                                      "AND schemaname = ANY (current_schemas(false))", [name]))

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                await self._connection.close()
                self._connection = None
