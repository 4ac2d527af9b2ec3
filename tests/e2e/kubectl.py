"""A small kubectl wrapper for e2e tests.

Why kubectl and not a Python client: the same tests run against any cluster given by
KUBECONFIG (kind, a cloud) and what they check is what a user would see with kubectl.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class Kubectl:
    binary: str
    kubeconfig: Path

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.binary, "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin, capture_output=True, text=True, timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def apply(self, *manifests: dict[str, Any], namespace: str | None = None) -> None:
        ns = ["-n", namespace] if namespace else []
        self.run("apply", *ns, "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(manifests)}))

    def get(self, kind: str, name: str | None = None, *, namespace: str | None = None,
            selector: str | None = None) -> dict[str, Any] | None:
        args = ["get", kind, *([name] if name else []), "-o", "json", "--ignore-not-found"]
        if namespace:
            args += ["-n", namespace]
        if selector:
            args += ["-l", selector]
        out = self.run(*args).stdout.strip()
        return json.loads(out) if out else None

    def wait_for(self, what: str, probe: Callable[[], Any], *, timeout: float = 60, interval: float = 0.25) -> Any:
        """Poll ``probe`` until it returns something truthy; fail with the last value seen."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = probe()
            if last:
                return last
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {last!r}")
