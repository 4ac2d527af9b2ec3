"""Printing responses: AWS's JSON (the default), or an aligned table for people.

JSON is printed as the AWS CLI prints it (4-space indent, nothing at all for an empty
response), so scripts written against ``aws batch`` parse kubatch's output unchanged.
The table shows the main list of a response with a few useful columns, times in UTC
and ARNs shortened to their names.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

ARN_PREFIX = "arn:aws:batch:"
COLUMNS = {
    "jobs": ("jobName", "jobId", "status", "statusReason", "createdAt", "startedAt", "stoppedAt"),
    "jobSummaryList": ("jobName", "jobId", "status", "statusReason", "createdAt", "startedAt", "stoppedAt"),
    "jobDefinitions": ("jobDefinitionName", "revision", "status", "type"),
    "jobQueues": ("jobQueueName", "priority", "state", "status", "computeEnvironmentOrder", "schedulingPolicyArn"),
    "computeEnvironments": ("computeEnvironmentName", "type", "state", "status", "computeResources.type",
                            "computeResources.maxvCpus", "usedvCpus"),
    "schedulingPolicies": ("name", "arn"),
}


def render(response: dict[str, Any], *, output: str) -> str:
    """The text to print for ``response`` ("" for an empty one)."""
    if not response:
        return ""
    if output == "json":
        return json.dumps(response, indent=4)
    return table(response)


def _lookup(row: dict[str, Any], column: str) -> Any:
    value: Any = row
    for part in column.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def cell(value: Any, *, column: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and column.endswith("At"):
        return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and value.startswith(ARN_PREFIX):
        return value.split("/", 1)[-1]
    if isinstance(value, list):
        return ", ".join(cell(item) for item in value)
    if isinstance(value, dict):
        return ",".join(f"{key}={cell(item)}" for key, item in value.items())
    return str(value)


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(text.ljust(width) for text, width in zip(row, widths)).rstrip() for row in rows]


def table(response: dict[str, Any]) -> str:
    lines: list[str] = []
    scalars = [[key, cell(value, column=key)] for key, value in response.items() if not isinstance(value, list)]
    for key, value in response.items():
        if not isinstance(value, list):
            continue
        rows = [row for row in value if isinstance(row, dict)]
        columns = COLUMNS.get(key) or tuple(dict.fromkeys(name for row in rows for name in row))
        lines += _aligned([list(columns), *([cell(_lookup(row, c), column=c) for c in columns] for row in rows)])
    if scalars:
        lines += _aligned(scalars)
    return "\n".join(lines)
