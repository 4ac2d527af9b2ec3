"""CI as root runs every tier: a skipped real-node test fails the run; elsewhere it still skips."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from testkit.tiers import REQUIRE_REAL_NODE, skip_is_a_failure

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("markers", "skipped", "environ", "fails"), [
    ({"real_node", "e2e"}, True, {REQUIRE_REAL_NODE: "1"}, True),
    ({"real_node"}, False, {REQUIRE_REAL_NODE: "1"}, False),   # it ran: nothing to say
    ({"e2e"}, True, {REQUIRE_REAL_NODE: "1"}, False),          # another tier may skip
    ({"real_node"}, True, {}, False),                          # a developer's machine: the skip stands
    ({"real_node"}, True, {REQUIRE_REAL_NODE: "0"}, False),    # a root machine that opted out
])
def test_which_skips_fail_the_run(markers: set[str], skipped: bool, environ: dict[str, str], fails: bool) -> None:
    why = skip_is_a_failure(markers=markers, skipped=skipped, environ=environ)
    assert (why is not None) is fails
    if fails:
        assert "real_node" in why and f"{REQUIRE_REAL_NODE}=1" in why


SUITE = textwrap.dedent('''
    import pytest

    @pytest.mark.real_node
    def test_needs_the_real_node():
        pytest.skip("no real node: the real node needs root")

    @pytest.mark.real_node
    def test_runs_on_the_real_node():
        pass

    def test_skips_for_another_reason():
        pytest.skip("not this tier")
''')


def run_suite(tmp_path: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_suite.py").write_text(SUITE)
    env = {key: value for key, value in os.environ.items() if key != REQUIRE_REAL_NODE}
    env |= {"PYTHONPATH": str(REPO_ROOT), **environ}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "testkit.tiers", "-p", "no:cacheprovider", "-rfEs",
         "-W", "ignore::pytest.PytestUnknownMarkWarning", "--rootdir", str(tmp_path), str(tmp_path)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_the_plugin_fails_a_session_whose_real_node_test_skipped(tmp_path: Path) -> None:
    result = run_suite(tmp_path, **{REQUIRE_REAL_NODE: "1"})
    assert result.returncode == 1, result.stdout
    assert "1 failed, 1 passed, 1 skipped" in result.stdout
    assert "FAILED" in result.stdout and "test_needs_the_real_node" in result.stdout
    assert "the skip said: no real node: the real node needs root" in result.stdout


def test_without_the_requirement_the_real_node_test_skips_with_its_reason(tmp_path: Path) -> None:
    result = run_suite(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 2 skipped" in result.stdout
    assert "no real node: the real node needs root" in result.stdout
