"""The job archive: finished jobs' DescribeJobs records, kept after their BatchJobs leave etcd.

Why an archive: every BatchJob ever submitted would otherwise stay in etcd, and etcd
(2 GiB by default) and every LIST the operator starts with grow with it. The operator's
retention worker (``kubatch.controller.retention``) writes a finished job's final
records here, then deletes the object; ``kubatch.service`` reads them back for
DescribeJobs and ListJobs, so AWS clients see no difference.

What is stored: one row per DescribeJobs entry, the JSON as the service layer shaped it
(``kubatch.service.archived``), plus the columns ListJobs filters and sorts by. An array
job's children and a multi-node job's nodes get a row each, with ``parent_id`` set, so
``describe-jobs <id>:<index>`` and ``list-jobs --array-job-id`` answer from the archive too.

Two back ends with the same behaviour (one test suite runs against both):
``SQLiteArchive`` (the default: a file, for one operator) and ``PostgresArchive``
(production: a shared server the operator and any number of API pods reach).
``open_archive`` picks one from a URL. Writes are idempotent by job id: a crash
between archiving and deleting only archives the same job again.
"""

from __future__ import annotations

from kubatch.archive.base import Archive, ArchiveError, ListQuery, Record, open_archive

__all__ = ["Archive", "ArchiveError", "ListQuery", "Record", "open_archive"]
