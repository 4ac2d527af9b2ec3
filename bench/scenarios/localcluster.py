"""The benchmark's side of the local control plane: start and stop it, its processes, its controller-manager's limits.

The one module of bench/ that knows the local cluster module (``testkit.cluster``)
and its state directory's layout (``run/<component>.pid``, ``logs/<component>.log``), so a
move of that module is a change here only.

Why restart kube-controller-manager: it is the Job controller's client, started by the
cluster module with ``--kube-api-qps 500 --kube-api-burst 1000``. Rows at other client
limits (issue 20: 50 QPS / burst 100 for every contender) must give the Job controller
the same limits as the operator and the raw client, so the process is restarted with
the same command line but those two values, and every row records the limits read back
from the running process.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from testkit import cluster as _cluster

CLUSTER_MODULE = _cluster.__name__
COMPONENTS = _cluster.COMPONENTS
CONTROLLER_MANAGER = "kube-controller-manager"
LIMIT_FLAGS = ("--kube-api-qps", "--kube-api-burst")


def up(*, repo_root: Path, nodes: int, cpu: int, memory_gi: int, bin_dir: Path | None) -> tuple[Path, Path]:
    """Start (or reuse) the cluster of ``$KUBATCH_CLUSTER_DIR``; returns its kubeconfig and kubectl."""
    bin_dir = bin_dir or Path(subprocess.run(
        ["bash", str(repo_root / "hack/cluster/build.sh")], check=True, stdout=subprocess.PIPE,
        text=True).stdout.strip().splitlines()[-1])
    out = subprocess.run([sys.executable, "-m", CLUSTER_MODULE, "up", "--bin-dir", str(bin_dir),
                          "--pool", f"on-demand={nodes}x{cpu}x{memory_gi}"],
                         check=True, stdout=subprocess.PIPE, text=True, cwd=repo_root)
    return Path(out.stdout.strip().splitlines()[-1]), bin_dir / "kubectl"


def down(*, repo_root: Path) -> None:
    subprocess.run([sys.executable, "-m", CLUSTER_MODULE, "down"], check=False, cwd=repo_root,
                   stdout=subprocess.DEVNULL)


def state_dir() -> Path:
    """The cluster's state directory (``$KUBATCH_CLUSTER_DIR``, default ``~/.cache/kubatch/cluster``)."""
    return _cluster.STATE_DIR


def _pid_file(cluster_dir: Path, component: str) -> Path:
    return cluster_dir / "run" / f"{component}.pid"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def component_pids(cluster_dir: Path | None) -> dict[str, int]:
    """The running cluster processes by component name (those whose pid file names a live process)."""
    if cluster_dir is None:
        return {}
    pids = {}
    for component in COMPONENTS:
        try:
            pid = int(_pid_file(cluster_dir, component).read_text())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            pids[component] = pid
    return pids


def _argv(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().rstrip("\0").split("\0")


def controller_manager_limits(cluster_dir: Path | None) -> dict[str, str] | None:
    """kube-controller-manager's --kube-api-qps/--kube-api-burst, read from the running process."""
    pid = component_pids(cluster_dir).get(CONTROLLER_MANAGER)
    if pid is None:
        return None
    try:
        argv = _argv(pid)
    except OSError:
        return None
    return {flag.lstrip("-"): argv[argv.index(flag) + 1] for flag in LIMIT_FLAGS if flag in argv[:-1]}


def _with_limits(argv: list[str], qps: float, burst: int) -> list[str]:
    argv = list(argv)
    for flag, value in zip(LIMIT_FLAGS, (f"{qps:g}", str(burst))):
        if flag in argv[:-1]:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    return argv


def _healthy(port: str) -> bool:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # its self-signed serving cert
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", timeout=2, context=context) as response:
            return response.status == 200
    except OSError:
        return False


def set_controller_manager_limits(cluster_dir: Path, *, qps: float, burst: int, timeout: float = 90) -> dict[str, str]:
    """Restart kube-controller-manager with these client limits (no-op when it has them already)."""
    pid_file = _pid_file(cluster_dir, CONTROLLER_MANAGER)
    pid = component_pids(cluster_dir).get(CONTROLLER_MANAGER)
    if pid is None:
        raise RuntimeError(f"{CONTROLLER_MANAGER} is not running in {cluster_dir}")
    argv = _argv(pid)
    wanted = _with_limits(argv, qps, burst)
    if wanted == argv:
        return controller_manager_limits(cluster_dir) or {}
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)
    with open(cluster_dir / "logs" / f"{CONTROLLER_MANAGER}.log", "ab") as log:
        process = subprocess.Popen(wanted, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    pid_file.write_text(str(process.pid))
    port = wanted[wanted.index("--secure-port") + 1] if "--secure-port" in wanted[:-1] else "10257"
    deadline = time.monotonic() + timeout
    while not _healthy(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{CONTROLLER_MANAGER} did not come back with --kube-api-qps {qps:g}; "
                               f"see {cluster_dir / 'logs'}")
        time.sleep(0.5)
    return controller_manager_limits(cluster_dir) or {}
