"""The job archive: one suite, run against SQLite and a real PostgreSQL server (no mocks).

``archive_url`` (tests/conftest.py) gives each test an empty archive of each kind; the
PostgreSQL server is Debian's binaries on loopback with a throwaway data directory
(``testkit.postgres``). Where it cannot start, its half of the suite is skipped
saying why, unless ``KUBATCH_REQUIRE_POSTGRES=1`` (CI as root sets it): then it fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubatch.archive import ArchiveError, ListQuery, Record, open_archive
from kubatch.archive.base import SCHEMA_TABLE, SCHEMA_VERSION


@pytest.fixture
async def archive(archive_url: str) -> AsyncIterator:
    writer = open_archive(archive_url, writer=True)
    yield writer
    await writer.close()


def job(job_id: str, *, name: str | None = None, namespace: str = "ns", status: str = "SUCCEEDED",
        created: int = 1000, queue: str = "q", definition: str = "def:1", job_name: str | None = None,
        parent: str | None = None, position: int = -1) -> Record:
    detail = {"jobId": job_id, "jobName": job_name or name or job_id, "status": status, "createdAt": created,
              "stoppedAt": created + 5, "attempts": [{"container": {"exitCode": 0}}]}
    return Record(job_id=job_id, namespace=namespace, name=name or job_id, detail=detail, job_queue=queue,
                  job_definition=definition, parent_id=parent, position=position)


def ids(records: list[Record]) -> list[str]:
    return [record.job_id for record in records]


async def test_a_stored_job_is_found_by_id_and_by_name_and_its_children_by_their_ids(archive) -> None:
    parent = job("u1", name="big")
    children = [job(f"u1:{i}", name="big", parent="u1", position=i) for i in range(3)]
    await archive.put([parent, *children])
    assert await archive.get("ns", ids=["u1"]) == [parent]
    assert await archive.get("ns", names=["big"]) == [parent]  # a name finds the job, not its children
    assert ids(await archive.get("ns", ids=["u1:2", "u1:0"])) == ["u1:0", "u1:2"]
    assert await archive.get("other", ids=["u1"]) == []
    assert await archive.get("ns", ids=["nope"], names=["nope"]) == []


async def test_putting_a_job_again_replaces_it_instead_of_adding_a_second(archive) -> None:
    await archive.put([job("u1", status="RUNNING")])
    await archive.put([job("u1", status="SUCCEEDED")])
    await archive.put([job("u1", status="SUCCEEDED")])
    found = await archive.list(ListQuery(namespace="ns", limit=10))
    assert [(record.job_id, record.detail["status"]) for record in found] == [("u1", "SUCCEEDED")]


async def test_a_listing_is_newest_first_then_by_position_and_id_and_pages_by_key(archive) -> None:
    records = [job(f"j{i}", created=1000 + i % 4) for i in range(10)]
    await archive.put(records)
    expected = ids(sorted(records, key=lambda record: record.sort_key))
    assert ids(await archive.list(ListQuery(namespace="ns", limit=100))) == expected
    seen, after = [], None
    while True:
        page = await archive.list(ListQuery(namespace="ns", limit=3, after=after))
        if not page:
            break
        seen += ids(page)
        after = page[-1].sort_key
    assert seen == expected


async def test_job_ids_sort_byte_by_byte_as_the_paging_tokens_compare_them(archive) -> None:
    records = [job(job_id) for job_id in ("a-1", "a:1", "aa", "A", "a_1", "a.1", "b")]
    await archive.put(records)
    assert ids(await archive.list(ListQuery(namespace="ns", limit=10))) == sorted(ids(records))
    after = (-1000, -1, "a-1")
    assert ids(await archive.list(ListQuery(namespace="ns", limit=10, after=after))) == \
        [job_id for job_id in sorted(ids(records)) if job_id > "a-1"]


async def test_a_listing_keeps_to_its_namespace_queue_status_and_level(archive) -> None:
    await archive.put([job("a", queue="q1"), job("b", queue="q2"), job("c", queue="q1", status="FAILED"),
                       job("d", namespace="other"), job("a:0", parent="a", position=0, status="FAILED"),
                       job("a:1", parent="a", position=1)])
    assert ids(await archive.list(ListQuery(namespace="ns", limit=10))) == ["a", "b", "c"]
    assert ids(await archive.list(ListQuery(namespace="ns", job_queue="q1", limit=10))) == ["a", "c"]
    assert ids(await archive.list(ListQuery(namespace="ns", status="FAILED", limit=10))) == ["c"]
    assert ids(await archive.list(ListQuery(namespace="ns", parent_id="a", limit=10))) == ["a:0", "a:1"]
    assert ids(await archive.list(ListQuery(namespace="ns", parent_id="a", status="FAILED", limit=10))) == ["a:0"]


@pytest.mark.parametrize(("query", "expected"), [
    ({"name": "Render"}, ["a"]),
    ({"name": "render"}, ["a"]),
    ({"name": "rend*"}, ["b", "a"]),
    ({"name": "*"}, ["c", "b", "a"]),
    ({"definition": "sim"}, ["c"]),
    ({"definition": "render:2"}, ["b"]),
    ({"definition": "render:*"}, ["b", "a"]),
    ({"definition": "ren*"}, ["b", "a"]),
    ({"created_after": 1000}, ["c", "b"]),
    ({"created_before": 3000}, ["b", "a"]),
    ({"created_after": 1000, "created_before": 3000}, ["b"]),
])
async def test_the_list_jobs_filters(archive, query: dict, expected: list[str]) -> None:
    await archive.put([job("a", job_name="render", definition="render:1", created=1000),
                       job("b", job_name="Render-2", definition="render:2", created=2000),
                       job("c", job_name="sim", definition="sim:7", created=3000)])
    assert ids(await archive.list(ListQuery(namespace="ns", limit=10, **query))) == expected


async def test_a_filter_value_with_sql_wildcards_matches_them_literally(archive) -> None:
    await archive.put([job("a", job_name="a_b"), job("b", job_name="axb"), job("c", job_name="a%")])
    assert ids(await archive.list(ListQuery(namespace="ns", name="a_*", limit=10))) == ["a"]
    assert ids(await archive.list(ListQuery(namespace="ns", name="a%", limit=10))) == ["c"]


async def test_a_reader_sees_nothing_before_the_writer_made_the_schema_and_everything_after(archive_url) -> None:
    reader = open_archive(archive_url, writer=False)
    try:
        assert await reader.get("ns", ids=["u1"]) == []
        assert await reader.list(ListQuery(namespace="ns", limit=10)) == []
        assert await reader.schema_version() == 0
        writer = open_archive(archive_url, writer=True)
        await writer.put([job("u1")])
        await writer.close()
        assert ids(await reader.get("ns", ids=["u1"])) == ["u1"]
        assert await reader.schema_version() == SCHEMA_VERSION
    finally:
        await reader.close()


async def test_reopening_the_writer_keeps_the_rows_and_applies_each_migration_once(archive_url) -> None:
    for _ in range(2):
        writer = open_archive(archive_url, writer=True)
        await writer.put([job("u1")])
        await writer.close()
    writer = open_archive(archive_url, writer=True)
    try:
        assert ids(await writer.list(ListQuery(namespace="ns", limit=10))) == ["u1"]
        assert await writer._fetch(f"SELECT count(*) FROM {SCHEMA_TABLE}", []) == [(SCHEMA_VERSION,)]
    finally:
        await writer.close()


async def test_a_schema_newer_than_this_kubatch_is_refused_with_a_clear_error(archive) -> None:
    await archive.put([job("u1")])
    await archive._run([(f"INSERT INTO {SCHEMA_TABLE} (version, applied_at) VALUES (?, 'later')",
                         [SCHEMA_VERSION + 1])])
    url = getattr(archive, "url", None) or f"sqlite://{archive.path}"
    newer = open_archive(url, writer=False)
    try:
        with pytest.raises(ArchiveError, match="newer than this kubatch knows"):
            await newer.get("ns", ids=["u1"])
    finally:
        await newer.close()


def test_an_archive_url_names_sqlite_or_postgresql(tmp_path: Path) -> None:
    assert type(open_archive(str(tmp_path / "a.db"), writer=False)).__name__ == "SQLiteArchive"
    assert open_archive(f"sqlite://{tmp_path}/a.db", writer=False).path == f"{tmp_path}/a.db"
    assert type(open_archive("postgresql://u@h/db", writer=False)).__name__ == "PostgresArchive"
    with pytest.raises(ArchiveError, match="use sqlite:///PATH"):
        open_archive("mysql://u@h/db", writer=False)
