"""What every operation runs with: the cluster, the caller's namespace, ARN settings, a warning sink, the archive.

Why a value passed in: the CLI builds one per command and the HTTP front end one per
request (its namespace comes from the caller's credentials), so the operations
themselves hold no global state. Warnings (AWS-only fields that were ignored) go to
``warn`` so each front end can show them its own way; they are never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kubatch.kinds import KINDS
from kubatch.archive import Archive
from kubatch.service.arns import Arns
from kubatch.service.port import KubeApi


def _discard(message: str) -> None:
    del message


@dataclass(frozen=True, kw_only=True)
class Context:
    kube: KubeApi
    namespace: str
    arns: Arns = field(default_factory=Arns)
    warn: Callable[[str], None] = _discard
    archive: Archive | None = None
    """Where finished jobs are read from once they left the cluster (``kubatch.service.archived``); None: nowhere."""

    def scope(self, kind: str) -> str | None:
        """The namespace argument for ``kind``: the caller's for namespaced kinds, None otherwise."""
        return self.namespace if KINDS[kind].namespaced else None
