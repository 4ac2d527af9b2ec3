"""Simulated node pools: the on-demand, spot and fargate-like nodes kubatch schedules onto.

Why a module of its own: the pool layout is the contract between the test cluster and
the operator (DESIGN §1 "Pools"): label ``kubatch.io/capacity-type`` with the pool's
name, and a ``NoSchedule`` taint with the same key and value on spot and fargate nodes.
Benchmarks ask for hundreds of nodes, so count and size are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

CAPACITY_TYPE_LABEL = "kubatch.io/capacity-type"
TAINTED_POOLS = frozenset({"spot", "fargate", "fargate-spot"})
KWOK_NODE_ANNOTATION = {"kwok.x-k8s.io/node": "fake"}


@dataclass(frozen=True)
class NodePool:
    name: str
    count: int
    cpu: int
    memory_gi: int
    instance_type: str
    max_pods: int = 110

    def spec(self) -> str:
        return f"{self.name}={self.count}x{self.cpu}x{self.memory_gi}"


DEFAULT_POOLS = (
    NodePool(name="on-demand", count=3, cpu=8, memory_gi=32, instance_type="m5.2xlarge"),
    NodePool(name="spot", count=3, cpu=8, memory_gi=32, instance_type="m5.2xlarge"),
    NodePool(name="fargate", count=4, cpu=16, memory_gi=120, instance_type="fargate"),
)


def parse_pool(text: str) -> NodePool:
    """Parse ``NAME=COUNTxCPUxMEM_GI`` (e.g. ``spot=200x4x16``) as the CLI flag gives it."""
    try:
        name, sizes = text.split("=", 1)
        count, cpu, memory_gi = (int(part) for part in sizes.split("x"))
    except ValueError:
        raise ValueError(f"pool {text!r}: expected NAME=COUNTxCPUxMEM_GI, e.g. on-demand=3x8x32") from None
    if count < 0 or cpu < 1 or memory_gi < 1:
        raise ValueError(f"pool {text!r}: count must be >= 0, cpu and memory >= 1")
    instance_type = "fargate" if name.startswith("fargate") else f"sim.{cpu}cpu-{memory_gi}gi"
    return NodePool(name=name, count=count, cpu=cpu, memory_gi=memory_gi, instance_type=instance_type)


def node_manifests(pools: list[NodePool] | tuple[NodePool, ...]) -> list[dict]:
    """Node objects kwok will manage, named ``kwok-<pool>-<i>`` so reruns are idempotent."""
    nodes = []
    for pool in pools:
        for index in range(pool.count):
            name = f"kwok-{pool.name}-{index}"
            resources = {"cpu": str(pool.cpu), "memory": f"{pool.memory_gi}Gi", "pods": str(pool.max_pods)}
            nodes.append({
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": dict(KWOK_NODE_ANNOTATION),
                    "labels": {
                        CAPACITY_TYPE_LABEL: pool.name,
                        "node.kubernetes.io/instance-type": pool.instance_type,
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "type": "kwok",
                    },
                },
                "spec": {
                    "taints": [{"key": CAPACITY_TYPE_LABEL, "value": pool.name, "effect": "NoSchedule"}]
                    if pool.name in TAINTED_POOLS else [],
                },
                "status": {"allocatable": resources, "capacity": resources},
            })
    return nodes
