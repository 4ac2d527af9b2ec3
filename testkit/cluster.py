"""A real local control plane for tests: etcd, kube-apiserver, controller-manager, scheduler, kwok.

Why: this machine has no Docker, so kind cannot run; the e2e suite still needs the real
API server, admission, scheduler and garbage collectors, not a mock. The binaries are
built from the Go module proxy by ``hack/cluster/build.sh``; nodes and the run of each
pod are simulated by kwok with the Stages in ``hack/cluster/stages.yaml``.

Usage::

    python -m testkit.cluster up [--pool on-demand=3x8x32] [--bin-dir DIR] [--real-node] [--audit]
    python -m testkit.cluster status
    python -m testkit.cluster down
    python -m testkit.cluster free-port-base

``up`` is idempotent (a healthy cluster is left as it is) and prints the admin
kubeconfig's path; ``down`` stops every process it started and removes the etcd data.
Everything lives in ``$KUBATCH_CLUSTER_DIR`` (default ``~/.cache/kubatch/cluster``).

``--real-node`` (or ``KUBATCH_REAL_NODE=1`` for the test suite) adds one real worker node,
kubelet + containerd + runc, beside the kwok nodes (``testkit.realnode``).

``--audit`` (the e2e suite always asks for it) turns on the API server's audit log,
``audit.log`` in the state directory: every write to kubatch.io kinds, pods, Services,
Events and Leases, by anyone but the cluster's own components (``AUDIT_POLICY``), so a test
can tell who wrote what and when. ``client_kubeconfig`` gives a test an identity of its own
(a client certificate), which is how the audit log tells two operators apart.

Test-only shortcuts, on purpose: all components authenticate with static tokens, and
the controller-manager, scheduler and kwok are members of ``system:masters``. RBAC is
on, so every other identity (the operator's ServiceAccount, say) is checked for real;
the real node's kubelet is a ``system:nodes`` member checked by the Node authorizer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from testkit import realnode
from testkit.pools import DEFAULT_POOLS, NodePool, node_manifests, parse_pool

REPO_ROOT = Path(__file__).resolve().parents[1]
HACK_DIR = REPO_ROOT / "hack" / "cluster"
STATE_DIR = Path(os.environ.get("KUBATCH_CLUSTER_DIR", Path.home() / ".cache/kubatch/cluster"))
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
REAL_NODE_COMPONENTS = ("containerd", "kubelet")


@dataclass(frozen=True)
class Ports:
    """Loopback ports; override with KUBATCH_PORT_BASE when two clusters must coexist."""

    base: int

    @property
    def etcd_client(self) -> int:
        return self.base + 1

    @property
    def etcd_peer(self) -> int:
        return self.base + 2

    @property
    def apiserver(self) -> int:
        return self.base + 3

    @property
    def controller_manager(self) -> int:
        return self.base + 4

    @property
    def scheduler(self) -> int:
        return self.base + 5

    @property
    def kwok(self) -> int:
        return self.base + 6

    @property
    def kubelet(self) -> int:
        return self.base + 7

    @property
    def kubelet_healthz(self) -> int:
        return self.base + 8

    @property
    def containerd_stream(self) -> int:
        return self.base + 9


PORTS = Ports(base=int(os.environ.get("KUBATCH_PORT_BASE", "16440")))
COMPONENT_PORTS = {
    "etcd": ("etcd_client", "etcd_peer"), "kube-apiserver": ("apiserver",),
    "kube-controller-manager": ("controller_manager",), "kube-scheduler": ("scheduler",), "kwok": ("kwok",),
    "containerd": ("containerd_stream",), "kubelet": ("kubelet_healthz",),
}


def _port_free(port: int) -> bool:
    """Whether a server could listen on the port: as servers do, ignore connections in TIME_WAIT."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_base(start: int = 16440, stop: int = 30000) -> int:
    """The first base (in steps of 10, below the ephemeral range) whose ports are all free.

    Why: a test run must never talk to, or fail against, another cluster that happens to
    hold the default ports (a developer's kept cluster, a benchmark, a second checkout).
    """
    for base in range(start, stop, 10):
        ports = Ports(base=base)
        if all(_port_free(getattr(ports, name)) for names in COMPONENT_PORTS.values() for name in names):
            return base
    raise RuntimeError(f"no free block of loopback ports between {start} and {stop}")


def kubeconfig_path() -> Path:
    return STATE_DIR / "kubeconfig"


def _etcd_data_dir() -> Path:
    # tmpfs: etcd's fsyncs on a real disk dominate test time on a small machine.
    shm = Path("/dev/shm")
    root = shm if shm.is_dir() else Path(tempfile.gettempdir())
    # Keyed by the state directory too: two clusters must never share (or clean up) one store.
    owner = hashlib.sha256(str(STATE_DIR).encode()).hexdigest()[:8]
    return root / f"kubatch-etcd-{os.getuid()}-{PORTS.base}-{owner}"


def build_binaries() -> Path:
    """Run the pinned, cached build and return its bin directory."""
    if explicit := os.environ.get("KUBATCH_BIN_DIR"):
        return Path(explicit)
    result = subprocess.run(
        ["bash", str(HACK_DIR / "build.sh")], check=True, stdout=subprocess.PIPE, text=True
    )
    return Path(result.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- certificates


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _write_pki(pki: Path) -> None:
    """A CA, the apiserver's serving certificate and the service-account signing key."""
    pki.mkdir(parents=True, exist_ok=True)
    if (pki / "apiserver.crt").exists():
        return
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
             "-keyout", str(pki / "ca.key"), "-out", str(pki / "ca.crt"), "-subj", "/CN=kubatch-test-ca")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
             "-CA", str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key"),
             "-keyout", str(pki / "apiserver.key"), "-out", str(pki / "apiserver.crt"),
             "-subj", "/CN=kube-apiserver",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc")
    _openssl("genrsa", "-out", str(pki / "sa.key"), "2048")
    _openssl("rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))


def client_kubeconfig(user: str, *, group: str = "system:masters") -> Path:
    """A kubeconfig for ``user`` in ``group``, by a client certificate from the cluster's CA."""
    pki, path = STATE_DIR / "pki", STATE_DIR / "kubeconfigs" / f"client-{user}"
    key, csr, cert, extensions = (pki / f"client-{user}.{ext}" for ext in ("key", "csr", "crt", "ext"))
    if not cert.exists():
        extensions.write_text("extendedKeyUsage = clientAuth\n")
        _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
                 "-subj", f"/O={group}/CN={user}")
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key"),
                 "-CAcreateserial", "-days", "30", "-extfile", str(extensions), "-out", str(cert))
    config = json.loads(kubeconfig_path().read_text())
    config["users"] = [{"name": "user", "user": {"client-certificate": str(cert), "client-key": str(key)}}]
    path.write_text(json.dumps(config, indent=2))
    return path


KUBELET_USER = f"system:node:{realnode.NODE_NAME}"
IDENTITIES = {  # user: group
    "kubatch-admin": "system:masters", "system:kube-controller-manager": "system:masters",
    "system:kube-scheduler": "system:masters", "kwok": "system:masters", KUBELET_USER: "system:nodes",
}


def _write_tokens(path: Path) -> dict[str, str]:
    """Static bearer tokens, one identity per component (kept across restarts)."""
    if path.exists():
        return {row.split(",")[1]: row.split(",")[0] for row in path.read_text().splitlines()}
    tokens = {user: secrets.token_hex(16) for user in IDENTITIES}
    path.write_text("".join(f'{token},{user},{user},"{IDENTITIES[user]}"\n' for user, token in tokens.items()))
    return tokens


def _write_kubeconfig(path: Path, *, token: str, ca: Path) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kubatch-local", "cluster": {
            "server": f"https://127.0.0.1:{PORTS.apiserver}", "certificate-authority": str(ca)}}],
        "users": [{"name": "user", "user": {"token": token}}],
        "contexts": [{"name": "kubatch-local", "context": {"cluster": "kubatch-local", "user": "user"}}],
        "current-context": "kubatch-local",
    }
    path.write_text(json.dumps(config, indent=2))


# ----------------------------------------------------------------------------- audit log

AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"],
    "rules": [
        # the cluster's own components write pods all day (binding, status): not what tests ask about
        {"level": "None", "users": ["system:apiserver", *(user for user in IDENTITIES if user != "kubatch-admin")]},
        {"level": "Metadata", "verbs": ["create", "update", "patch", "delete", "deletecollection"],
         "resources": [{"group": "kubatch.io"}, {"group": "", "resources": ["pods", "pods/status", "services", "events"]},
                       {"group": "events.k8s.io", "resources": ["events"]},
                       {"group": "coordination.k8s.io", "resources": ["leases"]}]},
        {"level": "None"},
    ],
}


def audit_log_path() -> Path:
    return STATE_DIR / "audit.log"


def audit_events(*, containing: str | None = None) -> list[dict]:
    """The audit log's entries so far (one JSON object per line), oldest first; with ``containing``,
    only the lines that contain that text. After a whole suite the log holds hundreds of thousands
    of entries: parsing every one on each poll took longer than the tests wait."""
    if not audit_log_path().exists():
        return []
    with audit_log_path().open() as log:
        return [json.loads(line) for line in log if line.strip() and (containing is None or containing in line)]


def _audit_flags(enabled: bool) -> list[str]:
    if not enabled:
        return []
    policy = STATE_DIR / "audit-policy.json"
    policy.write_text(json.dumps(AUDIT_POLICY, indent=2))
    return ["--audit-policy-file", str(policy), "--audit-log-path", str(audit_log_path()),
            "--audit-log-format", "json", "--audit-log-maxsize", "500", "--audit-log-maxbackup", "1"]


# ----------------------------------------------------------------------------- processes


def _pid_file(component: str) -> Path:
    return STATE_DIR / "run" / f"{component}.pid"


def _alive(pid: int) -> bool:
    """Running, and not a zombie: a component killed while its starter (a test session) lives
    stays a zombie until reaped, and must count as gone so ``up`` starts it again."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    if state != "Z":
        return True
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    return False


def _running_pid(component: str) -> int | None:
    try:
        pid = int(_pid_file(component).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def _start(component: str, argv: list[str]) -> None:
    if _running_pid(component):
        return
    taken = [getattr(PORTS, name) for name in COMPONENT_PORTS[component] if not _port_free(getattr(PORTS, name))]
    if taken:
        raise RuntimeError(
            f"{component} cannot start: loopback port {taken[0]} is held by a process this cluster "
            f"({STATE_DIR}) did not start; stop it or choose other ports with KUBATCH_PORT_BASE "
            f"(`python -m testkit.cluster free-port-base` prints a free one)")
    log = open(STATE_DIR / "logs" / f"{component}.log", "ab")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    _pid_file(component).write_text(str(process.pid))


def _stop(component: str) -> None:
    pid = _running_pid(component)
    if pid:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.killpg(pid, signal.SIGKILL)
    _pid_file(component).unlink(missing_ok=True)


def _stray_pids() -> list[int]:
    """Processes still holding this cluster's state directory, e.g. after a lost pid file."""
    # trailing separators: ~/.cache/kubatch/cluster must not match ~/.cache/kubatch/cluster-bench
    markers = (f"{STATE_DIR}/".encode(), f"{_etcd_data_dir()}\0".encode())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if any(m in cmdline for m in markers) and b"testkit.cluster" not in cmdline:
            found.append(int(entry.name))
    return found


# ----------------------------------------------------------------------------- health


def _get(url: str, *, token: str | None = None, ca: Path | None = None, timeout: float = 2) -> int:
    context = ssl.create_default_context(cafile=str(ca)) if ca else ssl._create_unverified_context()
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.status
    except Exception:  # noqa: BLE001 - any failure means "not healthy yet"
        return 0


def _wait_for(what: str, check, *, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        for component in COMPONENTS + REAL_NODE_COMPONENTS:
            if _pid_file(component).exists() and not _running_pid(component):
                log = (STATE_DIR / "logs" / f"{component}.log").read_text(errors="replace").splitlines()
                tail = "\n".join(log[-15:])
                raise RuntimeError(f"{component} exited while waiting for {what}; its log ends:\n{tail}")
        time.sleep(0.3)
    raise TimeoutError(f"{what} did not become healthy in {timeout:.0f}s; see {STATE_DIR / 'logs'}")


def _admin_token() -> str:
    return _write_tokens(STATE_DIR / "tokens.csv")["kubatch-admin"]


def _apiserver_ready() -> bool:
    url = f"https://127.0.0.1:{PORTS.apiserver}/readyz"
    return _get(url, token=_admin_token(), ca=STATE_DIR / "pki" / "ca.crt") == 200


def is_healthy() -> bool:
    return all(_running_pid(c) for c in COMPONENTS) and _apiserver_ready()


# ----------------------------------------------------------------------------- up / down


def _component_commands(bin_dir: Path, *, audit: bool = False) -> dict[str, list[str]]:
    pki, kubeconfigs = STATE_DIR / "pki", STATE_DIR / "kubeconfigs"
    return {
        "etcd": [
            str(bin_dir / "etcd"), "--name", "kubatch", "--data-dir", str(_etcd_data_dir()),
            "--listen-client-urls", f"http://127.0.0.1:{PORTS.etcd_client}",
            "--advertise-client-urls", f"http://127.0.0.1:{PORTS.etcd_client}",
            "--listen-peer-urls", f"http://127.0.0.1:{PORTS.etcd_peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{PORTS.etcd_peer}",
            "--initial-cluster", f"kubatch=http://127.0.0.1:{PORTS.etcd_peer}",
            "--unsafe-no-fsync", "--quota-backend-bytes", str(4 * 1024**3),
        ],
        "kube-apiserver": [
            str(bin_dir / "kube-apiserver"),
            "--etcd-servers", f"http://127.0.0.1:{PORTS.etcd_client}",
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
            "--secure-port", str(PORTS.apiserver),
            "--tls-cert-file", str(pki / "apiserver.crt"), "--tls-private-key-file", str(pki / "apiserver.key"),
            "--client-ca-file", str(pki / "ca.crt"),
            "--token-auth-file", str(STATE_DIR / "tokens.csv"),
            "--authorization-mode", "Node,RBAC",
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-account-key-file", str(pki / "sa.pub"),
            "--service-account-signing-key-file", str(pki / "sa.key"),
            "--service-cluster-ip-range", "10.96.0.0/16",
            # logs and exec reach the real node's kubelet at its InternalIP, never by host name
            "--kubelet-preferred-address-types", "InternalIP",
            "--allow-privileged=true",
            # a test cluster serves bursts of thousands of objects from one client
            "--max-requests-inflight", "1000", "--max-mutating-requests-inflight", "500",
            "--enable-priority-and-fairness=false",
            "--event-ttl", "30m",
            *_audit_flags(audit),
        ],
        "kube-controller-manager": [
            str(bin_dir / "kube-controller-manager"),
            "--kubeconfig", str(kubeconfigs / "kube-controller-manager"),
            "--authentication-kubeconfig", str(kubeconfigs / "kube-controller-manager"),
            "--authorization-kubeconfig", str(kubeconfigs / "kube-controller-manager"),
            "--bind-address", "127.0.0.1", "--secure-port", str(PORTS.controller_manager),
            "--service-account-private-key-file", str(pki / "sa.key"),
            "--root-ca-file", str(pki / "ca.crt"),
            "--cluster-signing-cert-file", str(pki / "ca.crt"), "--cluster-signing-key-file", str(pki / "ca.key"),
            "--leader-elect=false", "--kube-api-qps", "500", "--kube-api-burst", "1000",
            # a lost node's pods are evicted after this grace, as on a real cluster
            "--node-monitor-grace-period", "20s",
            "--cert-dir", str(STATE_DIR / "run" / "kcm-certs"),
        ],
        "kube-scheduler": [
            str(bin_dir / "kube-scheduler"),
            "--kubeconfig", str(kubeconfigs / "kube-scheduler"),
            "--authentication-kubeconfig", str(kubeconfigs / "kube-scheduler"),
            "--authorization-kubeconfig", str(kubeconfigs / "kube-scheduler"),
            "--bind-address", "127.0.0.1", "--secure-port", str(PORTS.scheduler),
            "--leader-elect=false", "--kube-api-qps", "500", "--kube-api-burst", "1000",
            "--cert-dir", str(STATE_DIR / "run" / "scheduler-certs"),
        ],
        "kwok": [
            str(bin_dir / "kwok"),
            "--kubeconfig", str(kubeconfigs / "kwok"),
            "--manage-nodes-with-annotation-selector", "kwok.x-k8s.io/node=fake",
            "--server-address", f"127.0.0.1:{PORTS.kwok}",
            "--node-lease-duration-seconds", "40",
            "--config", str(HACK_DIR / "stages.yaml"),
        ],
    }


def _kubectl(bin_dir: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(bin_dir / "kubectl"), "--kubeconfig", str(kubeconfig_path()), *args],
        input=stdin, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def _nodes_ready(bin_dir: Path, expected: int) -> bool:
    listing = json.loads(_kubectl(bin_dir, "get", "nodes", "-o", "json"))
    ready = [
        node for node in listing["items"]
        if any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))
    ]
    return len(ready) >= expected


def _real_node() -> realnode.RealNode:
    return realnode.RealNode(state_dir=STATE_DIR, kubelet_port=PORTS.kubelet,
                             kubelet_healthz_port=PORTS.kubelet_healthz, stream_port=PORTS.containerd_stream)


def _node_ready(bin_dir: Path, name: str) -> bool:
    node = json.loads(_kubectl(bin_dir, "get", "node", name, "--ignore-not-found", "-o", "json") or "{}")
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))


def up_real_node(bin_dir: Path) -> None:
    """Add the real node to a running cluster: containerd with the images imported, then the
    kubelet, until its node is Ready. Idempotent."""
    if reason := realnode.unavailable_reason():
        raise RuntimeError(f"the real node cannot run here: {reason}")
    node = _real_node()
    node.prepare_host()
    node.write_files()
    _start("containerd", node.containerd_command())
    _wait_for("containerd", node.ctr_ready, timeout=60)
    node.import_images()
    kubeconfig = STATE_DIR / "kubeconfigs" / "kubelet"
    _write_kubeconfig(kubeconfig, token=_write_tokens(STATE_DIR / "tokens.csv")[KUBELET_USER],
                      ca=STATE_DIR / "pki" / "ca.crt")
    _start("kubelet", node.kubelet_command(bin_dir=bin_dir, kubeconfig=kubeconfig))
    _wait_for("the real node", lambda: _node_ready(bin_dir, realnode.NODE_NAME), timeout=120)


def _down_real_node() -> None:
    for component in reversed(REAL_NODE_COMPONENTS):
        _stop(component)
    node = _real_node()
    if node.dir.exists():
        node.clean_host()


def up(*, pools: list[NodePool], bin_dir: Path, real_node: bool = False, audit: bool | None = None) -> Path:
    """Start (or keep) the cluster and return the admin kubeconfig path; ``audit``: with the audit log
    (None: as this cluster was started before, so a test that restarts the API server keeps it)."""
    if audit is None:
        audit = (STATE_DIR / "audit-policy.json").exists()
    for sub in ("logs", "run", "kubeconfigs"):
        (STATE_DIR / sub).mkdir(parents=True, exist_ok=True)
    _write_pki(STATE_DIR / "pki")
    tokens = _write_tokens(STATE_DIR / "tokens.csv")
    ca = STATE_DIR / "pki" / "ca.crt"
    _write_kubeconfig(kubeconfig_path(), token=tokens["kubatch-admin"], ca=ca)
    for component, user in (("kube-controller-manager", "system:kube-controller-manager"),
                            ("kube-scheduler", "system:kube-scheduler"), ("kwok", "kwok")):
        _write_kubeconfig(STATE_DIR / "kubeconfigs" / component, token=tokens[user], ca=ca)

    commands = _component_commands(bin_dir, audit=audit)
    _start("etcd", commands["etcd"])
    _wait_for("etcd", lambda: _get(f"http://127.0.0.1:{PORTS.etcd_client}/health") == 200)
    _start("kube-apiserver", commands["kube-apiserver"])
    _wait_for("kube-apiserver", _apiserver_ready)
    for component in ("kube-controller-manager", "kube-scheduler", "kwok"):
        _start(component, commands[component])
    _wait_for("kube-controller-manager", lambda: _get(f"https://127.0.0.1:{PORTS.controller_manager}/healthz") == 200)
    _wait_for("kube-scheduler", lambda: _get(f"https://127.0.0.1:{PORTS.scheduler}/healthz") == 200)

    manifests = node_manifests(pools)
    _kubectl(bin_dir, "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests}))
    _wait_for("kwok nodes", lambda: _nodes_ready(bin_dir, len(manifests)))
    _wait_for("default service account", lambda: bool(
        _kubectl(bin_dir, "get", "serviceaccount", "default", "-n", "default", "--ignore-not-found", "-o", "name")))
    if real_node:
        up_real_node(bin_dir)
    return kubeconfig_path()


def down() -> None:
    """Stop every component, newest first, and drop etcd's data so the next up is clean."""
    _down_real_node()
    for component in reversed(COMPONENTS):
        _stop(component)
    for pid in _stray_pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    subprocess.run(["rm", "-rf", str(_etcd_data_dir())], check=True)


def status() -> dict[str, object]:
    return {
        "kubeconfig": str(kubeconfig_path()),
        "components": {c: _running_pid(c) for c in COMPONENTS + REAL_NODE_COMPONENTS},
        "apiserverReady": _apiserver_ready() if _running_pid("kube-apiserver") else False,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testkit.cluster", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status", "free-port-base"])
    parser.add_argument("--pool", action="append", type=parse_pool, default=None, metavar="NAME=COUNTxCPUxMEM_GI",
                        help="a node pool, e.g. on-demand=3x8x32 (repeatable; default: %s)"
                        % ", ".join(p.spec() for p in DEFAULT_POOLS))
    parser.add_argument("--bin-dir", type=Path, default=None, help="prebuilt binaries (default: build or reuse the cache)")
    parser.add_argument("--audit", action="store_true", help=f"write the API server's audit log, {audit_log_path()}")
    parser.add_argument("--real-node", action="store_true",
                        help=f"also start one real node (kubelet + containerd), {realnode.NODE_NAME}")
    args = parser.parse_args(argv)
    if args.action == "down":
        down()
        print("cluster stopped")
        return 0
    if args.action == "free-port-base":
        print(free_port_base())
        return 0
    if args.action == "status":
        report = status()
        print(json.dumps(report, indent=2))
        return 0 if report["apiserverReady"] else 1
    path = up(pools=args.pool or list(DEFAULT_POOLS), bin_dir=args.bin_dir or build_binaries(), real_node=args.real_node,
              audit=args.audit or None)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
