"""The namespace a command works in when ``--namespace`` is not given, as kubectl chooses it.

The current (or ``--context``) context's namespace from the kubeconfig files
(``--kubeconfig``, else ``$KUBECONFIG``'s list, else ``~/.kube/config``); inside a pod
without a kubeconfig, the pod's own namespace; otherwise ``default``. Read with
PyYAML: only ``kubatch.kube`` may use the Kubernetes client library.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

IN_CLUSTER_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
DEFAULT_NAMESPACE = "default"


def _documents(kubeconfig: str | None) -> list[dict[str, Any]]:
    if kubeconfig:
        paths = [kubeconfig]
    elif os.environ.get("KUBECONFIG"):
        paths = [path for path in os.environ["KUBECONFIG"].split(os.pathsep) if path]
    else:
        paths = [str(Path.home() / ".kube" / "config")]
    documents = []
    for path in paths:
        try:
            document = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(document, dict):
            documents.append(document)
    return documents


def context_namespace(*, kubeconfig: str | None, context: str | None) -> str | None:
    """The namespace the kubeconfig gives the chosen context, if any."""
    documents = _documents(kubeconfig)
    chosen = context or next((doc["current-context"] for doc in documents if doc.get("current-context")), None)
    for document in documents:
        for entry in document.get("contexts") or []:
            if entry.get("name") == chosen:
                return (entry.get("context") or {}).get("namespace")
    return None


def default_namespace(*, kubeconfig: str | None, context: str | None) -> str:
    namespace = context_namespace(kubeconfig=kubeconfig, context=context)
    if namespace:
        return namespace
    if not kubeconfig and not os.environ.get("KUBECONFIG") and IN_CLUSTER_NAMESPACE.exists():
        return IN_CLUSTER_NAMESPACE.read_text().strip()
    return DEFAULT_NAMESPACE
