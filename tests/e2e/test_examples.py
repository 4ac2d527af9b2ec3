"""Every manifest under examples/ is accepted as it is written, by the real API server.

`kubectl apply --dry-run=server` runs the whole admission chain (schema, CEL rules,
strict field validation) without creating anything: the examples' cluster-scoped
objects have fixed names (`ondemand`, `default`) that other tests on a shared cluster
must not see change, and no operator runs here. Namespaced objects go to the test's
namespace.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubatch import api
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.kubectl import Kubectl

EXAMPLES = REPO_ROOT / "examples"
MANIFESTS = sorted(EXAMPLES.rglob("*.yaml"))


@pytest.fixture(scope="module", autouse=True)
def crds(kubectl: Kubectl) -> None:
    kubectl.run("apply", "--server-side", "--force-conflicts", "-f", str(REPO_ROOT / "crds"))
    kubectl.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def by_path(paths: list[Path]) -> list:
    return [pytest.param(path, id=str(path.relative_to(EXAMPLES))) for path in paths]


def test_every_example_folder_has_manifests_and_a_readme() -> None:
    folders = {path.parent for path in MANIFESTS}
    assert {"quickstart", "spot-with-fallback", "fargate", "retries", "eks-pod-properties", "fair-share"} <= {
        f.name for f in folders}
    assert sorted(f.name for f in folders if not (f / "README.md").is_file()) == []


@pytest.mark.parametrize("path", by_path(MANIFESTS))
def test_example_applies(kubectl: Kubectl, namespace: str, path: Path) -> None:
    result = kubectl.run("apply", "--dry-run=server", "-n", namespace, "-f", str(path), check=False)
    assert result.returncode == 0, result.stderr
    applied = [line for line in result.stdout.splitlines() if line.endswith("(server dry run)")]
    expected = [f"{doc['kind'].lower()}.kubatch.io/{doc['metadata']['name']}" for doc in documents(path)]
    assert [line.split()[0] for line in applied] == expected, result.stdout


@pytest.mark.parametrize("path", by_path(MANIFESTS))
def test_example_is_valid_for_the_cli_and_operator_models(path: Path) -> None:
    for doc in documents(path):
        getattr(api, doc["kind"]).model_validate(doc)
