"""Resolve what a submitted job will run: its definition, frozen, with the job's overrides.

Why here and pure: AWS Batch freezes the definition at SubmitJob, so editing a
definition later never changes a submitted job. The operator calls ``resolve_job`` once
per job and stores the result in the job's status; everything after reads only that.
All inputs and outputs are the AWS JSON shapes as plain dicts.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

MAX_PROPAGATED_TAGS = 50
"""AWS fails a job whose propagated tags (the job's and its definition's together) number more."""
DEFINITION_REF = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{0,127})(?::(?P<revision>[1-9][0-9]*))?$")


class InvalidJobError(ValueError):
    """The job cannot run as submitted; the message names the offending field."""


@dataclass(frozen=True)
class DefinitionRef:
    name: str
    revision: int | None  # None: the latest active revision


def parse_definition_ref(ref: str) -> DefinitionRef:
    """``name`` or ``name:revision``, as SubmitJob's ``jobDefinition`` accepts (ARNs aside)."""
    match = DEFINITION_REF.match(ref or "")
    if not match:
        raise InvalidJobError(f"spec.jobDefinition {ref!r} is not 'name' or 'name:revision'")
    revision = match.group("revision")
    return DefinitionRef(name=match.group("name"), revision=int(revision) if revision else None)


def _merge_by_key(base: list[dict], overrides: list[dict], key: str) -> list[dict]:
    merged = {item[key]: item for item in base}
    for item in overrides:
        merged[item[key]] = item
    return list(merged.values())


def override_container(container: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Apply SubmitJob's ``containerOverrides`` the way AWS does (field by field)."""
    result = copy.deepcopy(container)
    for field in ("command", "vcpus", "memory", "instanceType"):
        if overrides.get(field) is not None:
            result[field] = copy.deepcopy(overrides[field])
    if overrides.get("environment"):
        result["environment"] = _merge_by_key(result.get("environment", []), overrides["environment"], "name")
    if overrides.get("resourceRequirements"):
        result["resourceRequirements"] = _merge_by_key(
            result.get("resourceRequirements", []), overrides["resourceRequirements"], "type")
    return result


def resolve_job(*, job_spec: dict[str, Any], definition_spec: dict[str, Any], revision: int) -> dict[str, Any]:
    """The frozen run description: definition + job overrides, in AWS field names.

    Job-level ``parameters``, ``retryStrategy``, ``timeout``, ``tags``, ``propagateTags``
    and ``schedulingPriorityOverride`` win over the definition's, as in AWS Batch; when
    tags are propagated, more than 50 of them fail the job, as AWS fails it.
    """
    resolved: dict[str, Any] = {
        "revision": revision,
        "type": definition_spec.get("type", "container"),
        "parameters": {**definition_spec.get("parameters", {}), **job_spec.get("parameters", {})},
        "retryStrategy": copy.deepcopy(job_spec.get("retryStrategy") or definition_spec.get("retryStrategy")
                                       or {"attempts": 1}),
        "timeout": copy.deepcopy(job_spec.get("timeout") or definition_spec.get("timeout") or {}),
        "tags": {**definition_spec.get("tags", {}), **job_spec.get("tags", {})},
        "propagateTags": bool(job_spec.get("propagateTags", definition_spec.get("propagateTags", False))),
        "schedulingPriority": job_spec.get("schedulingPriorityOverride",
                                           definition_spec.get("schedulingPriority", 0)),
        "platformCapabilities": list(definition_spec.get("platformCapabilities", ["EC2"])),
    }
    if definition_spec.get("containerProperties") is not None:
        resolved["containerProperties"] = override_container(
            definition_spec["containerProperties"], job_spec.get("containerOverrides") or {})
    if definition_spec.get("eksProperties") is not None:
        resolved["eksProperties"] = copy.deepcopy(definition_spec["eksProperties"])
        if job_spec.get("eksPropertiesOverride"):
            resolved["eksPropertiesOverride"] = _named_overrides(definition_spec["eksProperties"],
                                                                 job_spec["eksPropertiesOverride"])
    if definition_spec.get("nodeProperties") is not None:
        resolved["nodeProperties"] = copy.deepcopy(definition_spec["nodeProperties"])
        if job_spec.get("nodeOverrides"):
            resolved["nodeOverrides"] = copy.deepcopy(job_spec["nodeOverrides"])
    if "containerProperties" not in resolved and "eksProperties" not in resolved \
            and "nodeProperties" not in resolved:
        raise InvalidJobError("job definition has none of containerProperties, eksProperties, nodeProperties")
    if resolved["propagateTags"] and len(resolved["tags"]) > MAX_PROPAGATED_TAGS:
        raise InvalidJobError(f"spec.tags: {len(resolved['tags'])} tags of the job and its definition together are "
                              f"more than the {MAX_PROPAGATED_TAGS} that propagateTags can copy")
    return resolved


def _named_overrides(eks_properties: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``eksPropertiesOverride`` with each container override naming its container: one without a name (AWS
    allows it) changes the pod's only container, and is refused when the pod has several."""
    override = copy.deepcopy(override)
    pod = eks_properties.get("podProperties") or {}
    for key in ("containers", "initContainers"):
        for index, item in enumerate((override.get("podProperties") or {}).get(key) or []):
            if item.get("name"):
                continue
            names = [container.get("name") for container in pod.get(key) or []]
            if len(names) != 1:
                raise InvalidJobError(f"eksPropertiesOverride.podProperties.{key}[{index}].name: required, as the "
                                      f"definition's pod has {len(names)} {key} ({', '.join(map(str, names))})")
            item["name"] = names[0]
    return override


_REF = re.compile(r"Ref::([A-Za-z0-9_.-]+)")


def substitute_parameters(command: list[str], parameters: dict[str, str]) -> list[str]:
    """Replace ``Ref::name`` placeholders; unknown names stay as written (AWS behaviour)."""
    return [_REF.sub(lambda m: str(parameters.get(m.group(1), m.group(0))), arg) for arg in command]


def requirement(container: dict[str, Any], kind: str) -> str | None:
    """A ``resourceRequirements`` value by type (VCPU, MEMORY, GPU), or None."""
    for item in container.get("resourceRequirements") or []:
        if item.get("type") == kind:
            return str(item.get("value"))
    return None


def container_vcpus(container: dict[str, Any]) -> float:
    value = requirement(container, "VCPU")
    return float(value) if value is not None else float(container.get("vcpus") or 1)


def container_memory_mib(container: dict[str, Any]) -> int:
    value = requirement(container, "MEMORY")
    return int(value) if value is not None else int(container.get("memory") or 2048)


def container_gpus(container: dict[str, Any]) -> int:
    value = requirement(container, "GPU")
    return int(value) if value is not None else 0
