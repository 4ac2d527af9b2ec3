"""Multi-node parallel jobs: which container runs on node i, and what the whole group needs.

AWS rules: ``nodeRangeProperties`` name node ranges (``"0:3"``, ``"4:"``, ``":2"``,
``"5"``); where ranges overlap, the narrower one wins. A job's ``nodeOverrides`` may
change ``numNodes`` and, per range, the container (``nodePropertyOverrides``, again
the narrowest matching range wins). The group is admitted as one: its demand is the
sum over all nodes.
"""

from __future__ import annotations

from typing import Any

from kubatch.core.definition import InvalidJobError, override_container


def target_range(target_nodes: str, num_nodes: int) -> range:
    """The node indexes ``target_nodes`` names in a job of ``num_nodes`` nodes."""
    if ":" not in target_nodes:
        index = int(target_nodes)
        return range(index, index + 1)
    start, _, end = target_nodes.partition(":")
    return range(int(start or 0), min(int(end) + 1 if end else num_nodes, num_nodes))


def _narrowest(items: list[dict[str, Any]], index: int, num_nodes: int) -> dict[str, Any] | None:
    matching = [item for item in items if index in target_range(item["targetNodes"], num_nodes)]
    return min(matching, key=lambda item: len(target_range(item["targetNodes"], num_nodes)), default=None)


def num_nodes(resolved: dict[str, Any]) -> int:
    overrides = resolved.get("nodeOverrides") or {}
    return int(overrides.get("numNodes") or resolved["nodeProperties"]["numNodes"])


def main_node(resolved: dict[str, Any]) -> int:
    return int(resolved["nodeProperties"].get("mainNode", 0))


def node_container(resolved: dict[str, Any], index: int) -> dict[str, Any]:
    """The container of node ``index``, with the job's overrides for its range applied."""
    count = num_nodes(resolved)
    chosen = _narrowest(resolved["nodeProperties"].get("nodeRangeProperties") or [], index, count)
    if chosen is None:
        raise InvalidJobError(f"nodeProperties.nodeRangeProperties: no range covers node {index} of {count}")
    override = _narrowest((resolved.get("nodeOverrides") or {}).get("nodePropertyOverrides") or [], index, count)
    return override_container(chosen["container"], (override or {}).get("containerOverrides") or {})


def check_nodes(resolved: dict[str, Any]) -> None:
    """Every node has a container and the main node exists (raises InvalidJobError naming the field)."""
    count = num_nodes(resolved)
    if not 0 <= main_node(resolved) < count:
        raise InvalidJobError(f"nodeProperties.mainNode: {main_node(resolved)} is not below numNodes {count}")
    for index in range(count):
        node_container(resolved, index)
