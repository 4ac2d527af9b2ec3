"""Shared pytest configuration: e2e tests are marked by their folder; property tests do not time.

Hypothesis's per-example deadline and its "too slow" health check measure the machine, not
the code: on a two-core machine that runs a cluster beside the unit tests they failed tests
whose properties held. Speed is measured by bench/, never by a test.
"""

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("kubatch", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("kubatch")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)
