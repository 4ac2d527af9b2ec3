"""Fixtures that give e2e tests a real control plane and, when asked, the operator.

``cluster``: the cluster named by ``KUBECONFIG`` when set (kind, a cloud), otherwise the
local one from ``testkit.cluster`` (built and started on demand, stopped at the
end of the session unless ``KUBATCH_KEEP_CLUSTER=1``).
``real_node_absent``: why the real-node tests cannot run, or None once the local cluster's
real node is up (started on first use when ``KUBATCH_REAL_NODE=1``).
``operator``: installs ``crds/`` and runs ``kubatch operator`` as a subprocess; its log is
attached to the report of any test that fails while it runs.
With ``KUBATCH_REQUIRE_REAL_NODE=1`` (CI as root) a skipped real-node test fails
(``testkit.tiers``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from testkit import cluster as local_cluster
from testkit import tiers
from tests.e2e.kubectl import Kubectl

REPO_ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.is_registered(tiers):
        config.pluginmanager.register(tiers, "kubatch-required-tiers")


@pytest.fixture(scope="session")
def uses_local_cluster() -> bool:
    return not os.environ.get("KUBECONFIG")


@pytest.fixture(scope="session")
def kubectl(uses_local_cluster: bool) -> Iterator[Kubectl]:
    if not uses_local_cluster:
        yield Kubectl(binary=shutil.which("kubectl") or "kubectl", kubeconfig=Path(os.environ["KUBECONFIG"]))
        return
    bin_dir = local_cluster.build_binaries()
    kubeconfig = local_cluster.up(pools=list(local_cluster.DEFAULT_POOLS), bin_dir=bin_dir, audit=True)
    yield Kubectl(binary=str(bin_dir / "kubectl"), kubeconfig=kubeconfig)
    if os.environ.get("KUBATCH_KEEP_CLUSTER") != "1":
        local_cluster.down()


@pytest.fixture(scope="session")
def real_node_absent(kubectl: Kubectl, uses_local_cluster: bool) -> str | None:
    """None when a real node may be looked for; otherwise the reason to skip its tests.

    A machine that can run the real node but fails to start it is an error, not a skip.
    """
    if not uses_local_cluster:
        return None  # a kind or cloud cluster: its labelled nodes are the real nodes
    if os.environ.get("KUBATCH_REAL_NODE") != "1":
        return os.environ.get("KUBATCH_REAL_NODE_UNAVAILABLE") or "KUBATCH_REAL_NODE=1 is not set"
    local_cluster.up_real_node(local_cluster.build_binaries())
    return None


@pytest.fixture
def namespace(kubectl: Kubectl) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards without waiting."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubectl.run("create", "namespace", name)
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


class OperatorProcess:
    """``kubatch operator`` as a subprocess: its log, its metrics URL, and a way to crash it."""

    def __init__(self, *, kubeconfig: Path, log: Path, args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:
        self.log = log
        self.args = args
        self.extra_env = dict(env or {})
        """Added to the environment of each start (a test may change it between restarts)."""
        self.metrics_port = _free_port()
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        self._env = os.environ | {"KUBECONFIG": str(kubeconfig)}
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "kubatch.cli.main", "operator", "--all-namespaces",
                 "--metrics-port", str(self.metrics_port), "--health-port", "0", "--image-pull-grace-seconds", "5",
                 *self.args],
                stdout=log, stderr=subprocess.STDOUT, env=self._env | self.extra_env, cwd=REPO_ROOT,
            )

    def peak_rss_mib(self) -> float:
        """The operator's peak resident memory so far (VmHWM)."""
        for line in Path(f"/proc/{self._process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM in /proc status")

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill_and_restart(self) -> None:
        """SIGKILL, as a crashed or OOM-killed operator dies, then start a new one."""
        self._process.kill()
        self._process.wait(timeout=10)
        self.start()

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def operator(kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OperatorProcess]:
    """CRDs installed and ``kubatch operator`` running."""
    kubectl.run("apply", "--server-side", "--force-conflicts", "-f", str(REPO_ROOT / "crds"))
    kubectl.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    process = OperatorProcess(kubeconfig=kubectl.kubeconfig,
                              log=tmp_path_factory.mktemp("operator") / "operator.log")
    process.start()
    OPERATOR_LOGS.append(process.log)
    yield process
    process.stop()


@pytest.fixture
def suite_operator_paused(operator: OperatorProcess) -> Iterator[None]:
    """The suite's admin operator is stopped for the test (which runs its own) and started again afterwards."""
    operator.stop()
    try:
        yield
    finally:
        operator.start()


OPERATOR_LOGS: list[Path] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and OPERATOR_LOGS and "operator" in getattr(item, "fixturenames", ()):
        text = OPERATOR_LOGS[-1].read_text(errors="replace")
        report.sections.append(("kubatch operator log (last 300 lines)", "\n".join(text.splitlines()[-300:])))
