"""One real worker node for the local cluster: kubelet + containerd + runc + bridge CNI.

Why: kwok proves scheduling, but only a real container proves that what kubatch puts in
a pod works: environment variables reaching the process, exit codes, the OOM killer,
SIGTERM then SIGKILL on a timeout, a read-only root filesystem, the user, image errors,
and one pod reaching another over the pod network.

What this machine gives and what it takes (see docs/testing.md):

- containerd 1.6, runc and the CNI plugins from Debian; the kubelet built from the same
  pinned ``k8s.io/kubernetes`` module as the control plane (``hack/cluster/build.sh``).
- cgroups v1: the kubelet runs with ``failCgroupV1: false`` and the cgroupfs driver, under
  its own cgroup root so it never touches another kubelet's pods.
- The kubelet refuses a loopback node IP, so the node's address is the pods' gateway,
  ``10.250.77.1`` on a bridge of this machine, and pods get the rest of
  ``10.250.77.0/24`` from the CNI bridge plugin. Nothing leaves the machine: no route
  leads to that range but the bridge, and no physical interface is part of it.
- No registry: the images are OCI archives built here (``testkit.images``) and
  imported into containerd; a missing image is never pulled from anywhere reachable.
- Test shortcuts, on purpose: the kubelet's server accepts anonymous requests (it listens
  only on the dummy address) and the node is tainted so that only compute environments
  that ask for it (``nodeSelector`` + toleration) place pods there.

One real node per machine: the links, addresses and cgroup root are machine-wide.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from testkit import images

NODE_NAME = "real-node-0"
POD_SUBNET = "10.250.77.0/24"
NODE_IP = "10.250.77.1"  # the bridge's own address, the pods' gateway
POD_BRIDGE = "kubatch-pods0"
REAL_NODE_LABEL = "kubatch.io/real-node"
NODE_LABELS = {
    "kubatch.io/capacity-type": "on-demand",
    REAL_NODE_LABEL: "true",
    "node.kubernetes.io/instance-type": "real",
}
NODE_TAINT = {"key": REAL_NODE_LABEL, "value": "true", "effect": "NoSchedule"}
CNI_PLUGINS_DIR = Path("/usr/lib/cni")
CGROUP_ROOT = Path("/sys/fs/cgroup")
HOST_TOOLS = ("containerd", "containerd-shim-runc-v2", "runc", "ctr", "ip", "mount", "umount")


def unavailable_reason() -> str | None:
    """Why this machine cannot run the real node, or None when it can."""
    if os.geteuid() != 0:
        return "the real node needs root (containerd, runc, network links, cgroups)"
    missing = [tool for tool in HOST_TOOLS if not shutil.which(tool)]
    if missing:
        return f"missing {', '.join(missing)}: apt-get install containerd runc iproute2"
    for plugin in ("bridge", "host-local", "loopback"):
        if not (CNI_PLUGINS_DIR / plugin).exists():
            return f"missing CNI plugin {CNI_PLUGINS_DIR / plugin}: apt-get install containernetworking-plugins"
    if not images.BUSYBOX_BINARY.exists():
        return f"missing {images.BUSYBOX_BINARY}: apt-get install busybox-static"
    if not (CGROUP_ROOT / "memory").is_dir() and not (CGROUP_ROOT / "cgroup.controllers").exists():
        return f"no memory cgroup under {CGROUP_ROOT}"
    return None


class RealNode:
    """Files, commands and clean-up of the real node of one cluster state directory."""

    def __init__(self, *, state_dir: Path, kubelet_port: int, kubelet_healthz_port: int, stream_port: int) -> None:
        self.dir = state_dir / "real-node"
        self.kubelet_port = kubelet_port
        self.kubelet_healthz_port = kubelet_healthz_port
        self.stream_port = stream_port
        owner = hashlib.sha256(str(state_dir).encode()).hexdigest()[:8]
        self.cgroup_root = f"/kubatch-{owner}"

    @property
    def socket(self) -> Path:
        return self.dir / "containerd.sock"

    # ------------------------------------------------------------------------- files

    def write_files(self) -> None:
        for sub in ("containerd", "cni", "kubelet", "pod-logs", "images"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "containerd.toml").write_text(self._containerd_config())
        (self.dir / "cni" / "10-kubatch.conflist").write_text(json.dumps(self._cni_config(), indent=2))
        (self.dir / "kubelet.json").write_text(json.dumps(self._kubelet_config(), indent=2))

    def _containerd_config(self) -> str:
        cri = 'plugins."io.containerd.grpc.v1.cri"'
        return f"""version = 2
root = "{self.dir / 'containerd' / 'root'}"
state = "{self.dir / 'containerd' / 'state'}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{self.socket}"

[{cri}]
  sandbox_image = "{images.PAUSE_IMAGE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "{self.stream_port}"
  netns_mounts_under_state_dir = true
  # this machine's root lacks CAP_SYS_RESOURCE: no OOM score may go below containerd's own
  restrict_oom_score_adj = true
  enable_selinux = false

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "{self.dir / 'runc'}"

[{cri}.cni]
  bin_dir = "{CNI_PLUGINS_DIR}"
  conf_dir = "{self.dir / 'cni'}"
"""

    def _cni_config(self) -> dict:
        return {
            "cniVersion": "0.4.0",
            "name": "kubatch-pods",
            "plugins": [{
                "type": "bridge", "bridge": POD_BRIDGE, "isGateway": True, "ipMasq": False, "hairpinMode": True,
                "ipam": {"type": "host-local", "ranges": [[{"subnet": POD_SUBNET}]],
                         "dataDir": str(self.dir / "ipam")},
            }],
        }

    def _kubelet_config(self) -> dict:
        return {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": NODE_IP, "port": self.kubelet_port, "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1", "healthzPort": self.kubelet_healthz_port,
            "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
            "authorization": {"mode": "AlwaysAllow"},
            "containerRuntimeEndpoint": f"unix://{self.socket}",
            "cgroupDriver": "cgroupfs", "cgroupRoot": self.cgroup_root, "failCgroupV1": False,
            "failSwapOn": False,
            "podLogsDir": str(self.dir / "pod-logs"),
            "resolvConf": "",
            "maxPods": 30,
            "registerWithTaints": [NODE_TAINT],
            # a busy test machine must not evict test pods nor garbage-collect the imported images
            "evictionHard": {"memory.available": "1Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
            "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
            "serializeImagePulls": False,
            "shutdownGracePeriod": "0s",
        }

    def containerd_command(self) -> list[str]:
        return ["containerd", "--config", str(self.dir / "containerd.toml")]

    def kubelet_command(self, *, bin_dir: Path, kubeconfig: Path) -> list[str]:
        labels = ",".join(f"{key}={value}" for key, value in NODE_LABELS.items())
        return [
            str(bin_dir / "kubelet"), "--config", str(self.dir / "kubelet.json"),
            "--kubeconfig", str(kubeconfig), "--root-dir", str(self.dir / "kubelet"),
            "--cert-dir", str(self.dir / "kubelet" / "pki"),
            "--hostname-override", NODE_NAME, "--node-ip", NODE_IP, "--node-labels", labels,
        ]

    # ------------------------------------------------------------------------- host set-up

    def prepare_host(self) -> None:
        """The node's address and the kubelet's cgroup root; both idempotent."""
        if subprocess.run(["ip", "link", "show", POD_BRIDGE], capture_output=True).returncode != 0:
            _run("ip", "link", "add", POD_BRIDGE, "type", "bridge")
        _run("ip", "addr", "replace", f"{NODE_IP}/{POD_SUBNET.split('/')[1]}", "dev", POD_BRIDGE)
        _run("ip", "link", "set", POD_BRIDGE, "up")
        for hierarchy in self._cgroup_hierarchies():
            path = hierarchy / self.cgroup_root.lstrip("/")
            path.mkdir(exist_ok=True)
            if hierarchy.name == "cpuset":
                # a new cpuset cgroup starts empty, and no process may join an empty one
                for knob in ("cpuset.cpus", "cpuset.mems"):
                    (path / knob).write_text((hierarchy / knob).read_text())

    def import_images(self) -> None:
        archive = images.write_archive(self.dir / "images" / "kubatch-images.tar")
        _run("ctr", "--address", str(self.socket), "--namespace", "k8s.io",
             "images", "import", "--snapshotter", "overlayfs", str(archive))

    def ctr_ready(self) -> bool:
        return self.socket.exists() and subprocess.run(
            ["ctr", "--address", str(self.socket), "version"], capture_output=True, timeout=10).returncode == 0

    # ------------------------------------------------------------------------- clean-up

    def clean_host(self) -> None:
        """After kubelet and containerd stopped: kill what still runs in the node's cgroups,
        unmount what the node mounted, drop its links, so nothing outlives ``down``."""
        for pid in self._shim_pids():
            _kill(pid)
        for hierarchy in self._cgroup_hierarchies():
            root = hierarchy / self.cgroup_root.lstrip("/")
            if not root.is_dir():
                continue
            # deepest first, so each directory is empty when its turn to be removed comes
            cgroups = sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts),
                             reverse=True) + [root]
            for cgroup in cgroups:
                for pid in (cgroup / "cgroup.procs").read_text().split():
                    _kill(int(pid))
            for cgroup in cgroups:
                try:
                    cgroup.rmdir()
                except OSError:
                    pass
        for mount_point in self._mounts_under(self.dir):
            subprocess.run(["umount", "-l", mount_point], capture_output=True)
        subprocess.run(["ip", "link", "del", POD_BRIDGE], capture_output=True)
        # unmounted above, so this removes only the node's own files (containers, IPAM leases, logs)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _shim_pids(self) -> list[int]:
        marker = str(self.socket).encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    cmdline = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if b"containerd-shim" in cmdline and marker in cmdline:
                    found.append(int(entry.name))
        return found

    @staticmethod
    def _cgroup_hierarchies() -> list[Path]:
        if (CGROUP_ROOT / "cgroup.controllers").exists():
            return [CGROUP_ROOT]
        return [path for path in sorted(CGROUP_ROOT.iterdir()) if path.is_dir() and not path.is_symlink()]

    @staticmethod
    def _mounts_under(directory: Path) -> list[str]:
        prefix = f"{directory}/"
        points = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
        return sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True)


def _run(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.strip()}")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main() -> int:
    """``python -m testkit.realnode check``: exit 0 if the real node can run here,
    else print why and exit 1 (``hack/test.sh`` uses it to decide, and to say why not)."""
    if sys.argv[1:] != ["check"]:
        print("usage: python -m testkit.realnode check", file=sys.stderr)
        return 2
    reason = unavailable_reason()
    print(reason or "the real node can run here")
    return 1 if reason else 0


if __name__ == "__main__":
    sys.exit(main())
