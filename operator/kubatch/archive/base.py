"""The archive's interface, its schema and the SQL both back ends run.

Why one SQL text for both: SQLite and PostgreSQL agree on everything the archive needs
(``ON CONFLICT … DO UPDATE``, partial indexes, string ranges), so the queries are written
once with ``?`` placeholders and the PostgreSQL back end only swaps the placeholder
style. A back end supplies a connection and a transaction; the behaviour is here.

Schema changes are migrations, applied in order by the writer (the operator) and
recorded in ``kubatch_archive_schema``; readers (``kubatch api``, the CLI) never change
the schema: before the writer has created it the archive reads as empty, and a schema
newer than the reader knows is an error that says to upgrade.

Sort order and paging: ListJobs lists newest first, then by child index or node number,
then by job id — the key ``(-createdAt, position, jobId)`` that ``kubatch.service.paging``
puts in its tokens. ``ListQuery.after`` is such a key: rows strictly after it come back,
so paging through the archive is keyset paging, stable while rows are added.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SCHEMA_TABLE = "kubatch_archive_schema"
JOBS_TABLE = "kubatch_archived_jobs"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # ``{bytewise_text}``: a text type compared byte by byte, as Python compares the job ids in a
    # nextToken and as prefix filters are answered from an index by range (PostgreSQL's default
    # collation may follow the locale instead)
    # version 1
    (
        f"""CREATE TABLE {JOBS_TABLE} (
            job_id {{bytewise_text}} PRIMARY KEY,
            namespace TEXT NOT NULL,
            name TEXT NOT NULL,
            parent_id TEXT,
            position INTEGER NOT NULL,
            job_name_lower {{bytewise_text}} NOT NULL,
            job_queue TEXT,
            job_definition {{bytewise_text}},
            job_definition_name {{bytewise_text}},
            status TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            stopped_at BIGINT,
            record TEXT NOT NULL
        )""",
        # ListJobs by status (no queue), and by queue and status: newest first
        f"CREATE INDEX kubatch_archived_by_status ON {JOBS_TABLE} (namespace, status, created_at DESC, job_id) "
        "WHERE parent_id IS NULL",
        f"CREATE INDEX kubatch_archived_by_queue ON {JOBS_TABLE} (namespace, job_queue, status, created_at DESC, "
        "job_id) WHERE parent_id IS NULL",
        # the filters (which list every status): by creation time, name, definition
        f"CREATE INDEX kubatch_archived_by_created ON {JOBS_TABLE} (namespace, created_at DESC, job_id) "
        "WHERE parent_id IS NULL",
        f"CREATE INDEX kubatch_archived_by_job_name ON {JOBS_TABLE} (namespace, job_name_lower) "
        "WHERE parent_id IS NULL",
        f"CREATE INDEX kubatch_archived_by_definition ON {JOBS_TABLE} (namespace, job_definition_name, "
        "job_definition) WHERE parent_id IS NULL",
        # DescribeJobs by object name; children and nodes by their parent
        f"CREATE INDEX kubatch_archived_by_name ON {JOBS_TABLE} (namespace, name) WHERE parent_id IS NULL",
        f"CREATE INDEX kubatch_archived_by_parent ON {JOBS_TABLE} (parent_id, position)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

COLUMNS = ("job_id", "namespace", "name", "parent_id", "position", "job_name_lower", "job_queue", "job_definition",
           "job_definition_name", "status", "created_at", "stopped_at", "record")
_UPDATED = ", ".join(f"{column} = excluded.{column}" for column in COLUMNS if column != "job_id")
UPSERT = (f"INSERT INTO {JOBS_TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
          f"ON CONFLICT (job_id) DO UPDATE SET {_UPDATED}")
ORDER = "ORDER BY created_at DESC, position, job_id"
SELECTED = "record, job_id, namespace, name, parent_id, position, job_queue, job_definition"


class ArchiveError(Exception):
    """The archive cannot be opened or read as it is (a bad URL, a schema from a newer kubatch)."""


SortKey = tuple[int, int, str]


@dataclass(frozen=True, kw_only=True)
class Record:
    """One archived DescribeJobs entry and what it is found by.

    ``name`` is the BatchJob's object name (a child's or node's: its parent's);
    ``parent_id`` is set for array children and multi-node nodes; ``position`` is their
    index or node number, -1 for a job. ``job_queue`` and ``job_definition``
    (``name:revision``) are names, not ARNs.
    """

    job_id: str
    namespace: str
    name: str
    detail: dict[str, Any]
    job_queue: str | None = None
    job_definition: str | None = None
    parent_id: str | None = None
    position: int = -1

    def row(self) -> tuple[Any, ...]:
        detail = self.detail
        return (self.job_id, self.namespace, self.name, self.parent_id, self.position,
                str(detail["jobName"]).lower(), self.job_queue, self.job_definition,
                self.job_definition.split(":")[0] if self.job_definition else None,
                detail["status"], int(detail.get("createdAt") or 0), detail.get("stoppedAt"),
                json.dumps(detail, separators=(",", ":"), sort_keys=True))

    @property
    def sort_key(self) -> SortKey:
        return -int(self.detail.get("createdAt") or 0), self.position, self.job_id


@dataclass(frozen=True, kw_only=True)
class ListQuery:
    """A ListJobs question for the archive: every condition given must hold.

    ``parent_id`` None lists jobs (no children); set, that job's children or nodes.
    ``name`` and ``definition`` match whole values, or a prefix when they end in ``*``;
    ``name`` is compared lowercased, ``definition`` as ``name:revision`` when it has a
    colon, else by name alone (ListJobs' JOB_NAME and JOB_DEFINITION filters).
    ``created_after``/``created_before`` are exclusive, in epoch milliseconds.
    """

    namespace: str
    limit: int
    job_queue: str | None = None
    parent_id: str | None = None
    status: str | None = None
    name: str | None = None
    definition: str | None = None
    created_after: int | None = None
    created_before: int | None = None
    after: SortKey | None = None


LAST_CHARACTER = "\U0010ffff"


def _match(column: str, value: str) -> tuple[str, list[Any]]:
    """Equal to ``value``, or starting with it when it ends in ``*``: a range an index answers (bytewise text)."""
    if value.endswith("*"):
        prefix = value[:-1]
        return f"{column} >= ? AND {column} < ?", [prefix, prefix + LAST_CHARACTER]
    return f"{column} = ?", [value]


def list_sql(query: ListQuery) -> tuple[str, list[Any]]:
    """The SELECT for ``query`` (``?`` placeholders) and its parameters."""
    terms, params = ["namespace = ?"], [query.namespace]
    if query.parent_id is None:
        terms.append("parent_id IS NULL")
    else:
        terms.append("parent_id = ?")
        params.append(query.parent_id)
    for column, value in (("job_queue", query.job_queue), ("status", query.status)):
        if value is not None:
            terms.append(f"{column} = ?")
            params.append(value)
    if query.name is not None:
        term, values = _match("job_name_lower", query.name.lower())
        terms.append(term)
        params += values
    if query.definition is not None:
        term, values = _match("job_definition" if ":" in query.definition else "job_definition_name",
                              query.definition)
        terms.append(term)
        params += values
    if query.created_after is not None:
        terms.append("created_at > ?")
        params.append(query.created_after)
    if query.created_before is not None:
        terms.append("created_at < ?")
        params.append(query.created_before)
    if query.after is not None:
        created, position, job_id = -query.after[0], query.after[1], query.after[2]
        terms.append("(created_at < ? OR (created_at = ? AND (position > ? OR (position = ? AND job_id > ?))))")
        params += [created, created, position, position, job_id]
    return f"SELECT {SELECTED} FROM {JOBS_TABLE} WHERE {' AND '.join(terms)} {ORDER} LIMIT ?", \
        [*params, query.limit]


def get_sql(namespace: str, ids: Sequence[str], names: Sequence[str]) -> tuple[str, list[Any]]:
    """The SELECT of the rows whose id is one of ``ids`` or, for jobs, whose object name is one of ``names``."""
    wanted = []
    params: list[Any] = [namespace]
    if ids:
        wanted.append(f"job_id IN ({', '.join('?' for _ in ids)})")
        params += list(ids)
    if names:
        wanted.append(f"(parent_id IS NULL AND name IN ({', '.join('?' for _ in names)}))")
        params += list(names)
    return (f"SELECT {SELECTED} FROM {JOBS_TABLE} WHERE namespace = ? "
            f"AND ({' OR '.join(wanted)}) {ORDER}", params)


def record_of(row: Sequence[Any]) -> Record:
    record, job_id, namespace, name, parent_id, position, job_queue, job_definition = row
    return Record(job_id=job_id, namespace=namespace, name=name, parent_id=parent_id, position=position,
                  job_queue=job_queue, job_definition=job_definition, detail=json.loads(record))


Statement = tuple[str, Sequence[Any]]


class Archive(abc.ABC):
    """Where finished jobs' records go. Async; ``writer`` archives create and migrate the schema."""

    BYTEWISE_TEXT = "TEXT"

    def __init__(self, *, writer: bool) -> None:
        self.writer = writer
        self._ready = False

    # ------------------------------------------------------------------ what a back end supplies

    @abc.abstractmethod
    async def _run(self, statements: Sequence[Statement], *, lock: bool = False,
                   skip_if: Statement | None = None) -> None:
        """Run ``statements`` (``?`` placeholders) in one transaction.

        ``lock``: exclusive against other writers of the database; ``skip_if``: a query that,
        if it finds a row inside the transaction, makes it end doing nothing.
        """

    @abc.abstractmethod
    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of one query (``?`` placeholders)."""

    @abc.abstractmethod
    async def _has_table(self, name: str) -> bool: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    # ------------------------------------------------------------------ schema

    async def schema_version(self) -> int:
        """The schema's version in the database; 0 when the writer has not created it yet."""
        if not await self._has_table(SCHEMA_TABLE):
            return 0
        rows = await self._fetch(f"SELECT max(version) FROM {SCHEMA_TABLE}", [])
        return int(rows[0][0] or 0)

    async def _prepare(self) -> bool:
        """Create or migrate the schema (writer) or check it (reader); False: nothing to read yet."""
        if self._ready:
            return True
        version = await self.schema_version()
        if version > SCHEMA_VERSION:
            raise ArchiveError(f"the archive's schema is version {version}, newer than this kubatch knows "
                               f"({SCHEMA_VERSION}): upgrade kubatch")
        if version < SCHEMA_VERSION:
            if not self.writer:
                return False
            await self._migrate()
        self._ready = True
        return True

    async def _migrate(self) -> None:
        await self._run([(f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (version INTEGER PRIMARY KEY, "
                          "applied_at TEXT NOT NULL)", [])], lock=True)
        # each migration in its own transaction under the writers' lock, skipped if already
        # recorded (checked inside that transaction): two writers starting at once apply it once
        for version, statements in enumerate(MIGRATIONS, start=1):
            await self._run([*[(sql.format(bytewise_text=self.BYTEWISE_TEXT), []) for sql in statements],
                             (f"INSERT INTO {SCHEMA_TABLE} (version, applied_at) VALUES (?, CURRENT_TIMESTAMP)",
                              [version])],
                            lock=True, skip_if=(f"SELECT 1 FROM {SCHEMA_TABLE} WHERE version = ?", [version]))

    # ------------------------------------------------------------------ the interface

    async def put(self, records: Sequence[Record]) -> None:
        """Store ``records`` (a job and its children) in one transaction; storing one again replaces it."""
        if not records:
            return
        await self._prepare()
        await self._run([(UPSERT, record.row()) for record in records])

    async def get(self, namespace: str, *, ids: Sequence[str] = (), names: Sequence[str] = ()) -> list[Record]:
        """Rows by job id (children too: ``<id>:<index>``, ``<id>#<node>``) or by the jobs' object names."""
        if not (ids or names) or not await self._prepare():
            return []
        return [record_of(row) for row in await self._fetch(*get_sql(namespace, ids, names))]

    async def list(self, query: ListQuery) -> list[Record]:
        """Up to ``query.limit`` rows that answer ``query``, in ListJobs order, after ``query.after``."""
        if not await self._prepare():
            return []
        return [record_of(row) for row in await self._fetch(*list_sql(query))]


def open_archive(url: str, *, writer: bool) -> Archive:
    """The archive at ``url``: ``postgresql://…`` (a libpq DSN), or ``sqlite:///path`` / a plain file path."""
    if url.startswith(("postgresql://", "postgres://")):
        from kubatch.archive.postgres import PostgresArchive

        return PostgresArchive(url, writer=writer)
    path = url.removeprefix("sqlite://") if url.startswith("sqlite://") else url
    if not path or "://" in path:
        raise ArchiveError(f"archive URL {url!r}: use sqlite:///PATH, a file path, or postgresql://…")
    from kubatch.archive.sqlite import SQLiteArchive

    return SQLiteArchive(path, writer=writer)
