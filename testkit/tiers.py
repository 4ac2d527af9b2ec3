"""CI runs every tier the machine can run: a required tier that is skipped fails the run.

Why: the real-node tests skip, saying why, wherever the machine cannot run the real node
(no root, no containerd). That is right on a developer's machine and wrong in CI: when the
Debian install failed, CI used to pass with the real-node tests quietly skipped. ``.ci/run``
therefore sets ``KUBATCH_REQUIRE_REAL_NODE=1`` when it runs as root, ``hack/test.sh`` stops
at once if the machine then cannot run the real node, and this pytest plugin turns any
skip of a ``real_node`` test into a failure that carries the skip's reason.

Registered by ``tests/e2e/conftest.py``; also usable alone with ``pytest -p testkit.tiers``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping

import pytest

REQUIRE_REAL_NODE = "KUBATCH_REQUIRE_REAL_NODE"
REAL_NODE_MARKER = "real_node"


def required_tiers(environ: Mapping[str, str]) -> frozenset[str]:
    """The markers whose tests must run, not skip, in this environment."""
    return frozenset({REAL_NODE_MARKER} if environ.get(REQUIRE_REAL_NODE) == "1" else ())


def skip_is_a_failure(*, markers: Iterable[str], skipped: bool, environ: Mapping[str, str]) -> str | None:
    """Why a test's skip fails the run (its required tier), or None when the outcome stands."""
    if not skipped:
        return None
    missed = sorted(required_tiers(environ).intersection(markers))
    if not missed:
        return None
    return (f"a {missed[0]} test was skipped while {REQUIRE_REAL_NODE}=1 (CI as root must run every tier; "
            f"set {REQUIRE_REAL_NODE}=0 to allow the skip)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    why = skip_is_a_failure(markers=(mark.name for mark in item.iter_markers()), skipped=report.skipped,
                            environ=os.environ)
    if why is None or getattr(report, "wasxfail", None) is not None:
        return
    skip_reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    skip_reason = skip_reason.removeprefix("Skipped: ")
    report.outcome = "failed"
    report.longrepr = f"{why}\nthe skip said: {skip_reason}"
