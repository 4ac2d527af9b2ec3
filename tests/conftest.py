"""Shared pytest configuration: e2e tests are marked by their folder; property tests do not time;
one throwaway PostgreSQL server per session for the archive tests (unit and e2e).

Hypothesis's per-example deadline and its "too slow" health check measure the machine, not
the code: on a two-core machine that runs a cluster beside the unit tests they failed tests
whose properties held. Speed is measured by bench/, never by a test.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from testkit import postgres

settings.register_profile("kubatch", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("kubatch")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The DSN of a real PostgreSQL server on loopback (testkit.postgres), for the session.

    Skipped, saying why, where none can start; a failure instead with KUBATCH_REQUIRE_POSTGRES=1 (CI as root).
    """
    reason = postgres.postgres_unavailable()
    if reason:
        if os.environ.get("KUBATCH_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"KUBATCH_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    with postgres.running_postgres() as dsn:
        yield dsn


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty job archive of each kind: a SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'archive.sqlite'}"
    return postgres.fresh_database(request.getfixturevalue("postgres_server"), f"t_{uuid.uuid4().hex[:12]}")
