"""Generate the CustomResourceDefinitions in `crds/` from the pydantic models.

The models are the single source of truth: field names, descriptions (what
`kubectl explain` prints), bounds and CEL rules all come from them, so the CRDs the
API server enforces and the validation the CLI runs in Python cannot drift apart.
A unit test fails when the files in `crds/` differ from `render_crds()`.

Usage: `kubatch crds`, or `python -m kubatch.api.crdgen [DIRECTORY]` (default `crds`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from kubatch.api.base import CATEGORY, GROUP, VERSION, Resource
from kubatch.api.batch_job import BatchJob
from kubatch.api.compute_environment import ComputeEnvironment
from kubatch.api.job_definition import JobDefinition
from kubatch.api.job_queue import JobQueue
from kubatch.api.scheduling_policy import SchedulingPolicy
from kubatch.api.structural import to_structural

RESOURCES: tuple[type[Resource], ...] = (ComputeEnvironment, JobQueue, SchedulingPolicy, JobDefinition, BatchJob)

# Each file starts a YAML document of its own: `helm show crds` prints the chart's CRD files
# one after another, and without the leading `---` the five would read as one document.
HEADER = "---\n# Generated from operator/kubatch/api by `kubatch crds`. Do not edit.\n"


class _Dumper(yaml.SafeDumper):
    """Writes shared schema parts out in full: YAML anchors would make the CRDs hard to read and diff."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def crd_filename(resource: type[Resource]) -> str:
    return f"{GROUP}_{resource.crd.plural}.yaml"


def build_crd(resource: type[Resource]) -> dict[str, Any]:
    """The CustomResourceDefinition of one kind, as a plain dict."""
    names = resource.crd
    kind = resource.model_fields["kind"].default
    schema = to_structural(resource.model_json_schema())
    fields = schema["properties"]
    root: dict[str, Any] = {
        "type": "object",
        "description": schema["description"],
        "properties": {
            "apiVersion": {"type": "string", "description": f"The API version: {GROUP}/{VERSION}."},
            "kind": {"type": "string", "description": f"The kind: {kind}."},
            "metadata": {"type": "object"},
            "spec": fields["spec"],
            "status": fields["status"],
        },
    }
    if "spec" in schema.get("required", ()):
        root["required"] = ["spec"]
    version: dict[str, Any] = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "subresources": {"status": {}},
        "additionalPrinterColumns": [column.as_crd() for column in names.columns],
        "schema": {"openAPIV3Schema": root},
    }
    if names.selectableFields:
        version["selectableFields"] = [{"jsonPath": path} for path in names.selectableFields]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{names.plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": names.plural,
                "singular": names.singular,
                "shortNames": list(names.shortNames),
                "categories": [CATEGORY],
            },
            "scope": names.scope,
            "versions": [version],
        },
    }


def render_crds() -> dict[str, str]:
    """{file name: YAML text} of every kind's CRD, as `crds/` must contain them."""
    return {
        crd_filename(resource): HEADER + yaml.dump(build_crd(resource), Dumper=_Dumper, sort_keys=False, width=10_000)
        for resource in RESOURCES
    }


def write_crds(directory: str | Path) -> list[Path]:
    """Write the CRDs into `directory` (created if missing); returns the paths written."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_crds().items():
        path = target / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_crds(sys.argv[1] if len(sys.argv) > 1 else "crds"):
        print(written_path)
