"""Multi-node parallel jobs: `nodeProperties` of a definition and `nodeOverrides` of a job.

A node range is AWS's `targetNodes` string ("0:3", "4:", ":2" or "5"); `node_range`
is its one reading, used both by the door check here and by whoever needs to know
which range a node index falls in.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from kubatch.api.base import KubeModel, Rule
from kubatch.api.container import ContainerOverrides, ContainerProperties

TARGET_NODES_PATTERN = r"^([0-9]+|[0-9]*:[0-9]*)$"
MAX_NODE_RANGES = 5

TargetNodes = Annotated[
    str,
    Field(
        min_length=1,
        max_length=16,
        pattern=TARGET_NODES_PATTERN,
        description=(
            "Node indexes the range applies to: 'start:end' inclusive (0:3), 'start:' up to the last node, "
            "':end' from node 0, or a single index. Later, narrower ranges override wider ones."
        ),
    ),
]


def node_range(target_nodes: str, num_nodes: int) -> range:
    """The node indexes `target_nodes` names in a job of `num_nodes` nodes (empty or too long if invalid)."""
    if ":" not in target_nodes:
        index = int(target_nodes)
        return range(index, index + 1)
    start, end = target_nodes.split(":")
    return range(int(start or 0), int(end) + 1 if end else num_nodes)


def _ranges_fit(props: NodeProperties) -> bool:
    for item in props.nodeRangeProperties:
        indexes = node_range(item.targetNodes, props.numNodes)
        if len(indexes) == 0 or indexes.stop > props.numNodes:
            return False
    return True


def _ranges_cover(props: NodeProperties) -> bool:
    covered: set[int] = set()
    for item in props.nodeRangeProperties:
        covered.update(node_range(item.targetNodes, props.numNodes))
    return covered >= set(range(props.numNodes))


def _part(r: str, i: int) -> str:
    return f"{r}.targetNodes.split(':')[{i}]"


def _start(r: str) -> str:
    """CEL: the first node index of range `r` (its start, 0 when open)."""
    return f"({r}.targetNodes.contains(':') ? ({_part(r, 0)} == '' ? 0 : int({_part(r, 0)})) : int({r}.targetNodes))"


def _end(r: str) -> str:
    """CEL: the last node index of range `r` (its end, numNodes-1 when open)."""
    return (
        f"({r}.targetNodes.contains(':') ? ({_part(r, 1)} == '' ? self.numNodes - 1 : int({_part(r, 1)}))"
        f" : int({r}.targetNodes))"
    )


_RANGES_FIT_CEL = (
    "self.nodeRangeProperties.all(r, r.targetNodes.contains(':') ? "
    f"(({_part('r', 0)} == '' || int({_part('r', 0)}) < self.numNodes) && "
    f"({_part('r', 1)} == '' || int({_part('r', 1)}) < self.numNodes) && "
    f"({_part('r', 0)} == '' || {_part('r', 1)} == '' || int({_part('r', 0)}) <= int({_part('r', 1)}))) "
    ": int(r.targetNodes) < self.numNodes)"
)

# Ranges cover 0..numNodes-1 exactly when node 0 is in a range and, after the end of every
# range short of the last node, the next node is in a range too (the first uncovered node
# would be just past the end of the range covering the node before it). This needs only
# pairs of ranges (at most 5 x 5), never a walk over the nodes, so its cost is bounded
# whatever numNodes is.
_RANGES_COVER_CEL = (
    f"self.nodeRangeProperties.exists(r, {_start('r')} == 0) && "
    f"self.nodeRangeProperties.all(a, {_end('a')} >= self.numNodes - 1 || "
    f"self.nodeRangeProperties.exists(b, {_start('b')} <= {_end('a')} + 1 && {_end('a')} + 1 <= {_end('b')}))"
)


class NodeRangeProperty(KubeModel):
    """The container of the nodes in one index range."""

    targetNodes: TargetNodes
    container: ContainerProperties = Field(description="The container the nodes of this range run.")


class NodeProperties(KubeModel):
    """Shape of a multi-node parallel job: how many nodes, which one is main, what each runs."""

    rules = (
        Rule(
            "self.mainNode < self.numNodes",
            "nodeProperties.mainNode must be less than nodeProperties.numNodes",
            lambda p: p.mainNode < p.numNodes,
            field_path=".mainNode",
            reason="FieldValueInvalid",
        ),
        Rule(
            _RANGES_FIT_CEL,
            "nodeProperties.nodeRangeProperties[].targetNodes must have start <= end < numNodes",
            _ranges_fit,
            field_path=".nodeRangeProperties",
            reason="FieldValueInvalid",
        ),
        Rule(
            _RANGES_COVER_CEL,
            "nodeProperties.nodeRangeProperties[].targetNodes must together cover every node from 0 to numNodes-1",
            _ranges_cover,
            field_path=".nodeRangeProperties",
            reason="FieldValueInvalid",
        ),
    )

    numNodes: int = Field(ge=1, description="Number of nodes (pods) of the job.")
    mainNode: int = Field(ge=0, description="Index of the main node; its address is given to the others.")
    nodeRangeProperties: list[NodeRangeProperty] = Field(
        min_length=1,
        max_length=MAX_NODE_RANGES,
        description="Up to 5 node ranges and the container each runs; together they must cover nodes 0 to numNodes-1.",
    )


class NodePropertyOverride(KubeModel):
    """Per-job changes to the container of one node range."""

    targetNodes: TargetNodes
    containerOverrides: ContainerOverrides | None = Field(default=None, description="Changes to the range's container.")


class NodeOverrides(KubeModel):
    """Per-job changes to a multi-node definition (SubmitJob nodeOverrides)."""

    numNodes: int | None = Field(
        default=None, ge=1, description="Number of nodes, replacing the definition's numNodes."
    )
    nodePropertyOverrides: list[NodePropertyOverride] | None = Field(
        default=None, max_length=MAX_NODE_RANGES, description="Changes to the containers of node ranges."
    )
