"""The real test node's pure parts: the images built without a registry, and its configuration."""

from __future__ import annotations

import hashlib
import json
import tarfile
import tomllib
from pathlib import Path

import pytest

from testkit import images, realnode

needs_busybox = pytest.mark.skipif(not images.BUSYBOX_BINARY.exists(), reason="Debian's busybox-static is not installed")


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as opened:
        return {m.name: opened.extractfile(m).read() for m in opened.getmembers() if m.isfile()}


@needs_busybox
def test_the_image_archive_is_reproducible_and_names_both_images(tmp_path: Path) -> None:
    first = images.write_archive(tmp_path / "a.tar").read_bytes()
    second = images.write_archive(tmp_path / "b.tar").read_bytes()
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    blobs = members(tmp_path / "a.tar")
    index = json.loads(blobs["index.json"])
    names = {m["annotations"]["io.containerd.image.name"]: m for m in index["manifests"]}
    assert set(names) == {images.BUSYBOX_IMAGE, images.PAUSE_IMAGE}
    for descriptor in names.values():
        manifest_bytes = blobs[f"blobs/sha256/{descriptor['digest'].split(':')[1]}"]
        assert hashlib.sha256(manifest_bytes).hexdigest() == descriptor["digest"].split(":")[1]
        manifest = json.loads(manifest_bytes)
        config = json.loads(blobs[f"blobs/sha256/{manifest['config']['digest'].split(':')[1]}"])
        layer = blobs[f"blobs/sha256/{manifest['layers'][0]['digest'].split(':')[1]}"]
        # an uncompressed layer: its diff id is its digest
        assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]
        assert (config["os"], config["architecture"]) == ("linux", "amd64")


@needs_busybox
def test_the_layer_is_a_shell_with_its_applets_users_and_tmp(tmp_path: Path) -> None:
    path = tmp_path / "layer.tar"
    path.write_bytes(images.busybox_layer())
    with tarfile.open(path) as layer:
        entries = {m.name: m for m in layer.getmembers()}
        passwd = layer.extractfile("etc/passwd").read().decode()
    assert entries["bin/busybox"].mode == 0o755 and entries["bin/sh"].linkname == "busybox"
    assert {"bin/id", "bin/nc", "bin/sleep", "bin/touch"} <= set(entries)
    assert entries["tmp"].mode == 0o1777
    assert "nobody:x:65534:65534" in passwd


def test_a_dynamically_linked_busybox_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="busybox-static"):
        images.busybox_layer(Path("/bin/ls"))
    with pytest.raises(FileNotFoundError, match="busybox-static"):
        images.busybox_layer(tmp_path / "absent")


@pytest.fixture
def node(tmp_path: Path) -> realnode.RealNode:
    made = realnode.RealNode(state_dir=tmp_path, kubelet_port=10250, kubelet_healthz_port=10248, stream_port=10010)
    made.write_files()
    return made


def test_the_kubelet_runs_on_cgroup_v1_under_its_own_root_tainted_and_labelled(node: realnode.RealNode) -> None:
    config = json.loads((node.dir / "kubelet.json").read_text())
    assert (config["failCgroupV1"], config["cgroupDriver"]) == (False, "cgroupfs")
    assert config["cgroupRoot"].startswith("/kubatch-") and config["address"] == realnode.NODE_IP
    assert config["registerWithTaints"] == [realnode.NODE_TAINT]
    assert config["imageGCHighThresholdPercent"] == 100  # the imported images must never be collected
    command = node.kubelet_command(bin_dir=Path("/bin-dir"), kubeconfig=Path("/kubeconfig"))
    labels = command[command.index("--node-labels") + 1]
    assert f"{realnode.REAL_NODE_LABEL}=true" in labels and "kubatch.io/capacity-type=on-demand" in labels


def test_containerd_uses_the_local_pause_image_and_the_private_bridge(node: realnode.RealNode) -> None:
    config = tomllib.loads((node.dir / "containerd.toml").read_text())
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["sandbox_image"] == images.PAUSE_IMAGE
    assert cri["restrict_oom_score_adj"] is True
    assert cri["stream_server_address"] == "127.0.0.1"
    assert config["grpc"]["address"] == str(node.socket)
    network = json.loads((node.dir / "cni" / "10-kubatch.conflist").read_text())
    bridge = network["plugins"][0]
    assert bridge["bridge"] == realnode.POD_BRIDGE and bridge["ipMasq"] is False
    assert bridge["ipam"]["ranges"] == [[{"subnet": realnode.POD_SUBNET}]]


def test_two_state_directories_never_share_a_cgroup_root(tmp_path: Path) -> None:
    def root(name: str) -> str:
        return realnode.RealNode(state_dir=tmp_path / name, kubelet_port=1, kubelet_healthz_port=2,
                                 stream_port=3).cgroup_root
    assert root("a") != root("b")
