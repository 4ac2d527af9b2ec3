"""Container images for the real test node, built here without Docker or a registry.

Why: the machine has no Docker engine and no registry, but the real node's containerd
imports OCI image archives. Both images share one layer made from the host's
``busybox-static`` binary (a shell, ``id``, ``nc``, ``sleep``, ``env`` ... in one static
file), so building them is a tar, two JSON configs and a few digests, byte-for-byte
reproducible:

- ``kubatch.local/busybox:1``: what the real-node tests run (``/bin/sh`` and its applets);
- ``kubatch.local/pause:1``: the pod sandbox containerd starts first; a shell that waits
  for signals and exits on SIGTERM, which is all a pause container has to do.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

BUSYBOX_IMAGE = "kubatch.local/busybox:1"
PAUSE_IMAGE = "kubatch.local/pause:1"
BUSYBOX_BINARY = Path("/bin/busybox")
PT_INTERP = 3
PAUSE_SCRIPT = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"

LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"


@dataclass(frozen=True)
class Blob:
    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()

    def descriptor(self, **annotations: str) -> dict:
        made = {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data)}
        if annotations:
            made["annotations"] = annotations
        return made


def _is_static(binary: Path) -> bool:
    """No PT_INTERP program header (64-bit ELF): a dynamic busybox would need the host's libc."""
    data = binary.read_bytes()
    if data[:5] != b"\x7fELF\x02":
        return False
    (program_headers,) = struct.unpack_from("<Q", data, 0x20)
    entry_size, count = struct.unpack_from("<HH", data, 0x36)
    return all(struct.unpack_from("<I", data, program_headers + i * entry_size)[0] != PT_INTERP for i in range(count))


def _applets(binary: Path) -> list[str]:
    listed = subprocess.run([str(binary), "--list"], check=True, capture_output=True, text=True).stdout
    return sorted(set(listed.split()) - {"busybox"})


def _add(archive: tarfile.TarFile, name: str, *, kind: bytes, mode: int, data: bytes = b"", target: str = "") -> None:
    entry = tarfile.TarInfo(name)
    entry.type, entry.mode, entry.mtime, entry.uid, entry.gid = kind, mode, 0, 0, 0
    entry.linkname = target
    entry.size = len(data)
    archive.addfile(entry, io.BytesIO(data) if data else None)


def busybox_layer(binary: Path = BUSYBOX_BINARY) -> bytes:
    """An uncompressed, reproducible layer: /bin/busybox, one symlink per applet, /etc, /tmp."""
    if not binary.exists():
        raise FileNotFoundError(f"{binary} is missing: install Debian's busybox-static")
    if not _is_static(binary):
        raise RuntimeError(f"{binary} is not statically linked: install Debian's busybox-static")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for directory in ("bin", "etc", "proc", "sys", "dev", "root", "home"):
            _add(archive, directory, kind=tarfile.DIRTYPE, mode=0o755)
        _add(archive, "tmp", kind=tarfile.DIRTYPE, mode=0o1777)
        _add(archive, "bin/busybox", kind=tarfile.REGTYPE, mode=0o755, data=binary.read_bytes())
        for applet in _applets(binary):
            _add(archive, f"bin/{applet}", kind=tarfile.SYMTYPE, mode=0o777, target="busybox")
        passwd = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/sh\n"
        group = b"root:x:0:\nnogroup:x:65534:\n"
        _add(archive, "etc/passwd", kind=tarfile.REGTYPE, mode=0o644, data=passwd)
        _add(archive, "etc/group", kind=tarfile.REGTYPE, mode=0o644, data=group)
    return out.getvalue()


def _image(layer: Blob, *, entrypoint: list[str] | None, cmd: list[str]) -> tuple[Blob, Blob]:
    """The config and manifest blobs of a one-layer linux/amd64 image."""
    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Entrypoint": entrypoint, "Cmd": cmd, "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [layer.digest]},
    }
    config_blob = Blob(CONFIG_MEDIA_TYPE, json.dumps(config, sort_keys=True).encode())
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE,
                "config": config_blob.descriptor(), "layers": [layer.descriptor()]}
    return config_blob, Blob(MANIFEST_MEDIA_TYPE, json.dumps(manifest, sort_keys=True).encode())


def write_archive(path: Path, *, binary: Path = BUSYBOX_BINARY) -> Path:
    """Write one OCI image-layout archive holding both images; ``ctr images import`` reads it."""
    layer = Blob(LAYER_MEDIA_TYPE, busybox_layer(binary))
    images = {
        BUSYBOX_IMAGE: _image(layer, entrypoint=None, cmd=["sh"]),
        PAUSE_IMAGE: _image(layer, entrypoint=["/bin/sh", "-c", PAUSE_SCRIPT], cmd=[]),
    }
    blobs = {layer.digest: layer}
    manifests = []
    for name, (config, manifest) in images.items():
        blobs[config.digest], blobs[manifest.digest] = config, manifest
        manifests.append(manifest.descriptor(**{
            "io.containerd.image.name": name, "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1]}))
    index = {"schemaVersion": 2, "manifests": manifests}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, mode="w") as archive:
        _add(archive, "oci-layout", kind=tarfile.REGTYPE, mode=0o644, data=b'{"imageLayoutVersion":"1.0.0"}')
        _add(archive, "index.json", kind=tarfile.REGTYPE, mode=0o644, data=json.dumps(index).encode())
        for digest, blob in sorted(blobs.items()):
            _add(archive, f"blobs/sha256/{digest.split(':')[1]}", kind=tarfile.REGTYPE, mode=0o644, data=blob.data)
    return path


def main() -> int:
    """``python -m testkit.images ARCHIVE``: write the archive, e.g. for ``kind load image-archive``."""
    if len(sys.argv) != 2:
        print("usage: python -m testkit.images ARCHIVE.tar", file=sys.stderr)
        return 2
    print(write_archive(Path(sys.argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
