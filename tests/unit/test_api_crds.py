"""The generated CRDs: up to date, registered as DESIGN §1 says, and structural.

The API server refuses a CRD whose schema is not structural and a CEL rule whose
estimated cost is too high; these checks catch the usual causes without a cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubatch.api.batch_job import IMMUTABLE_OPTIONAL, IMMUTABLE_REQUIRED
from kubatch.api.crdgen import render_crds

CRDS_DIR = Path(__file__).resolve().parents[2] / "crds"
RENDERED = render_crds()
CRDS = {yaml.safe_load(text)["spec"]["names"]["kind"]: yaml.safe_load(text) for text in RENDERED.values()}

Schema = dict[str, Any]


def version(kind: str) -> dict[str, Any]:
    (only,) = CRDS[kind]["spec"]["versions"]
    return only


def root_schema(kind: str) -> Schema:
    return version(kind)["schema"]["openAPIV3Schema"]


def walk(schema: Schema, path: str = "") -> Iterator[tuple[str, Schema]]:
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from walk(sub, f"{path}.{name}")
    if "items" in schema:
        yield from walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}{{}}")


def lookup(kind: str, json_path: str) -> Schema:
    node = root_schema(kind)
    for name in json_path.strip(".").split("."):
        node = node["properties"][name]
    return node


ALL_NODES = [(kind, path, node) for kind in CRDS for path, node in walk(root_schema(kind))]


def test_crds_on_disk_are_up_to_date() -> None:
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in CRDS_DIR.glob("kubatch.io_*.yaml")}
    stale = sorted(name for name in on_disk.keys() | RENDERED.keys() if on_disk.get(name) != RENDERED.get(name))
    assert not stale, (
        f"crds/ is stale ({', '.join(stale)}): run `kubatch crds` (or `python -m kubatch.api.crdgen crds`)"
    )


@pytest.mark.parametrize(
    ("kind", "plural", "scope", "short"),
    [
        ("ComputeEnvironment", "computeenvironments", "Cluster", "ce"),
        ("JobQueue", "jobqueues", "Cluster", "jq"),
        ("SchedulingPolicy", "schedulingpolicies", "Cluster", "sp"),
        ("JobDefinition", "jobdefinitions", "Namespaced", "jd"),
        ("BatchJob", "batchjobs", "Namespaced", "bj"),
    ],
)
def test_kind_is_registered_as_designed(kind: str, plural: str, scope: str, short: str) -> None:
    crd = CRDS[kind]
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["metadata"]["name"] == f"{plural}.kubatch.io"
    assert crd["spec"]["group"] == "kubatch.io"
    assert crd["spec"]["scope"] == scope
    names = crd["spec"]["names"]
    assert (names["plural"], names["shortNames"], names["categories"]) == (plural, [short], ["kubatch"])
    assert version(kind)["name"] == "v1alpha1"
    assert version(kind)["served"] and version(kind)["storage"]
    assert version(kind)["subresources"] == {"status": {}}


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_status_keeps_unknown_keys(kind: str) -> None:
    status = root_schema(kind)["properties"]["status"]
    assert status["type"] == "object"
    assert status["x-kubernetes-preserve-unknown-fields"] is True


STRUCTURAL_TYPES = {"object", "array", "string", "integer", "number", "boolean"}
FORBIDDEN = {"$ref", "$defs", "anyOf", "oneOf", "allOf", "not", "title", "const", "uniqueItems", "examples"}


@pytest.mark.parametrize(("kind", "path", "node"), ALL_NODES, ids=[f"{k}{p}" for k, p, _ in ALL_NODES])
def test_schema_node_is_structural(kind: str, path: str, node: Schema) -> None:
    assert not FORBIDDEN & node.keys()
    assert (
        node.get("type") in STRUCTURAL_TYPES
        or node.get("x-kubernetes-int-or-string")
        or node.get("x-kubernetes-preserve-unknown-fields")
    )
    assert not ("properties" in node and "additionalProperties" in node)
    if node.get("type") == "array":
        assert "items" in node
    if "default" in node:
        assert node["default"] is not None


def is_field(path: str) -> bool:
    """A named property (what `kubectl explain` lists), not a list item or map value."""
    return bool(path) and not path.endswith(("[]", "{}"))


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_every_field_has_a_description(kind: str) -> None:
    missing = [
        path
        for path, node in walk(root_schema(kind))
        if is_field(path) and path != ".metadata" and not node.get("description")
    ]
    assert not missing


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_spec_lists_and_maps_are_bounded_for_cel_cost(kind: str) -> None:
    spec = root_schema(kind)["properties"]["spec"]
    unbounded = [
        path
        for path, node in walk(spec, ".spec")
        if (node.get("type") == "array" and "maxItems" not in node)
        or (isinstance(node.get("additionalProperties"), dict) and "maxProperties" not in node)
    ]
    assert not unbounded


RULES = [
    (kind, path, rule)
    for kind in CRDS
    for path, node in walk(root_schema(kind))
    for rule in node.get("x-kubernetes-validations", [])
]


RULE_IDS = [f"{k}{p}:{r['message'][:40]}" for k, p, r in RULES]
# FieldValueDuplicate is not among them: the API server drops the rule's message for it.
REASONS = {"FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired"}


@pytest.mark.parametrize(("kind", "path", "rule"), RULES, ids=RULE_IDS)
def test_cel_rule_has_a_message_naming_a_field(kind: str, path: str, rule: dict[str, str]) -> None:
    assert {"rule", "message"} <= set(rule) <= {"rule", "message", "fieldPath", "reason"}
    assert rule["rule"].strip() and rule["message"].strip()
    assert "\n" not in rule["message"]
    assert rule["rule"].count("(") == rule["rule"].count(")")
    assert rule["rule"].count("'") % 2 == 0
    fields = {name for _, node in walk(root_schema(kind)) for name in node.get("properties", {})}
    assert any(field in rule["message"] for field in fields), rule["message"]


def node_at(kind: str, path: str) -> Schema:
    return next(node for p, node in walk(root_schema(kind)) if p == path)


@pytest.mark.parametrize(("kind", "path", "rule"), RULES, ids=RULE_IDS)
def test_field_path_names_a_declared_field_the_message_names_too(kind: str, path: str, rule: dict[str, str]) -> None:
    """The API server refuses a fieldPath that is not in the schema; the message must name the same field."""
    assert rule.get("reason", "FieldValueInvalid") in REASONS
    if "fieldPath" not in rule:
        return
    assert rule["fieldPath"].startswith(".") and "[" not in rule["fieldPath"]
    node = node_at(kind, path)
    for name in rule["fieldPath"].removeprefix(".").split("."):
        node = node["properties"][name]
    assert rule["fieldPath"].rsplit(".", 1)[-1] in rule["message"]


@pytest.mark.parametrize(
    ("kind", "path", "field_path", "reason"),
    [
        ("ComputeEnvironment", ".spec.computeResources", ".minvCpus", "FieldValueInvalid"),
        ("ComputeEnvironment", ".spec.computeResources", ".instanceTypes", "FieldValueForbidden"),
        ("ComputeEnvironment", ".spec", ".computeResources", "FieldValueRequired"),
        ("ComputeEnvironment", ".spec", ".computeResources", "FieldValueForbidden"),
        ("JobDefinition", ".spec", ".containerProperties.memory", "FieldValueInvalid"),
        ("JobDefinition", ".spec.nodeProperties", ".nodeRangeProperties", "FieldValueInvalid"),
        ("BatchJob", ".spec", ".jobQueue", "FieldValueInvalid"),
        ("BatchJob", ".spec", ".dependsOn", "FieldValueRequired"),
    ],
)
def test_rules_about_one_field_are_reported_at_that_field(kind: str, path: str, field_path: str, reason: str) -> None:
    rules = node_at(kind, path)["x-kubernetes-validations"]
    assert any(r.get("fieldPath") == field_path and r.get("reason") == reason for r in rules), rules


def test_weight_factor_has_its_own_cel_rule() -> None:
    """Whole numbers are checked against the integer-truncated OpenAPI bounds (0 and 999): CEL compares as doubles."""
    node = lookup("SchedulingPolicy", ".spec.fairsharePolicy.shareDistribution")["items"]["properties"]["weightFactor"]
    assert (node["minimum"], node["maximum"]) == (0.0001, 999.9999)
    assert [r["rule"] for r in node["x-kubernetes-validations"]] == ["self >= 0.0001 && self <= 999.9999"]


def test_each_crd_file_is_a_yaml_document_of_its_own() -> None:
    """`helm show crds` prints the files one after another; each must start its own document."""
    for text in RENDERED.values():
        assert text.startswith("---\n")
    joined = "".join(RENDERED.values())
    assert [doc["spec"]["names"]["kind"] for doc in yaml.safe_load_all(joined)] == [
        "ComputeEnvironment", "JobQueue", "SchedulingPolicy", "JobDefinition", "BatchJob"]


def test_override_containers_may_leave_the_name_out_as_in_aws_model() -> None:
    override = lookup("BatchJob", ".spec.eksPropertiesOverride.podProperties")
    for field in ("containers", "initContainers"):
        item = override["properties"][field]["items"]
        assert "required" not in item and item["properties"]["name"]["pattern"]
        assert item["x-kubernetes-preserve-unknown-fields"] is True
        assert "matched by name" in override["properties"][field]["description"]


def test_every_spec_level_rule_of_batch_job_is_covered() -> None:
    messages = {r["message"] for r in root_schema("BatchJob")["properties"]["spec"]["x-kubernetes-validations"]}
    for field in IMMUTABLE_REQUIRED + IMMUTABLE_OPTIONAL:
        assert f"spec.{field} is immutable" in messages
    for field in ("cancelRequest", "terminateRequest"):
        assert f"spec.{field} cannot be changed or removed once set" in messages
    assert {"tags", "propagateTags"}.isdisjoint(m.split()[0].removeprefix("spec.") for m in messages)


@pytest.mark.parametrize(
    ("kind", "columns"),
    [
        (
            "BatchJob",
            [
                ("Status", ".status.status"),
                ("Queue", ".spec.jobQueue"),
                ("CE", ".status.computeEnvironment"),
                ("Attempts", ".status.attemptCount"),
                ("Reason", ".status.statusReason"),
                ("Age", ".metadata.creationTimestamp"),
            ],
        ),
        (
            "ComputeEnvironment",
            [
                ("Type", ".spec.computeResources.type"),
                ("State", ".spec.state"),
                ("Used", ".status.usedvCpus"),
                ("Max", ".spec.computeResources.maxvCpus"),
                ("Status", ".status.status"),
                ("Age", ".metadata.creationTimestamp"),
            ],
        ),
        (
            "JobQueue",
            [
                ("Priority", ".spec.priority"),
                ("State", ".spec.state"),
                ("Status", ".status.status"),
                ("Age", ".metadata.creationTimestamp"),
            ],
        ),
        (
            "JobDefinition",
            [("Type", ".spec.type"), ("Revision", ".status.revision"), ("Age", ".metadata.creationTimestamp")],
        ),
        (
            "SchedulingPolicy",
            [("Share-Decay", ".spec.fairsharePolicy.shareDecaySeconds"), ("Age", ".metadata.creationTimestamp")],
        ),
    ],
)
def test_printer_columns(kind: str, columns: list[tuple[str, str]]) -> None:
    printed = version(kind)["additionalPrinterColumns"]
    assert [(c["name"], c["jsonPath"]) for c in printed] == columns
    for column in printed:
        if column["jsonPath"].startswith(".metadata."):
            assert column["type"] == "date"
        else:
            assert column["type"] == lookup(kind, column["jsonPath"])["type"]


def test_selectable_fields_exist_and_are_scalars() -> None:
    for kind in CRDS:
        for selectable in version(kind).get("selectableFields", []):
            assert lookup(kind, selectable["jsonPath"])["type"] in {"string", "integer", "boolean"}


@pytest.mark.parametrize(
    ("kind", "json_path", "values"),
    [
        ("ComputeEnvironment", ".spec.type", ["MANAGED", "UNMANAGED"]),
        ("ComputeEnvironment", ".spec.state", ["ENABLED", "DISABLED"]),
        ("ComputeEnvironment", ".spec.computeResources.type", ["EC2", "SPOT", "FARGATE", "FARGATE_SPOT"]),
        ("JobQueue", ".spec.state", ["ENABLED", "DISABLED"]),
        ("JobDefinition", ".spec.type", ["container", "multinode"]),
        ("JobDefinition", ".spec.platformCapabilities", ["EC2", "FARGATE"]),
        (
            "BatchJob",
            ".status.status",
            ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"],
        ),
        ("JobDefinition", ".status.status", ["ACTIVE", "INACTIVE"]),
    ],
)
def test_enums_are_aws_values(kind: str, json_path: str, values: list[str]) -> None:
    node = lookup(kind, json_path)
    assert node.get("enum", node.get("items", {}).get("enum")) == values


def test_resolved_definition_is_in_status_not_spec() -> None:
    schema = root_schema("BatchJob")["properties"]
    assert "resolvedDefinition" not in schema["spec"]["properties"]
    assert schema["status"]["properties"]["resolvedDefinition"]["x-kubernetes-preserve-unknown-fields"] is True
