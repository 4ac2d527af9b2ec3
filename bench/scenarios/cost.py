"""Who used the machine during one measured run: every process's CPU and peak RSS, the API server's requests.

Why the whole cluster and not just the operator: on two cores the API server, etcd,
kube-scheduler, kube-controller-manager and kwok share the CPUs with the contender, so a
contender that saves its own CPU by making the API server or etcd work harder must show
up, and so must a run where kwok, not the contender, was the bottleneck.

- **CPU seconds**: utime + stime from ``/proc/PID/stat`` at the start and the end of the
  measured interval (submit -> done), per process.
- **Peak RSS**: ``VmHWM`` from ``/proc/PID/status`` is a process's lifetime peak; writing
  ``5`` to ``/proc/PID/clear_refs`` resets it, so it is reset at the start and each run's
  peak is that run's own. Where the reset is refused the lifetime peak is kept and the
  record says ``"peak_rss_scope": "lifetime"``.
- **API requests**: the API server's own ``apiserver_request_total`` (``/metrics``) read
  before and after. It has no client or user-agent label, so the difference is every
  client's requests during the interval (the contender, kube-scheduler's bindings,
  kwok's status updates, the controllers, the harness's watches). Contenders run one at
  a time, so it is still per contender; ``classify_writes`` leaves out of the
  contender's share the writes that are the same whoever created the pods (the
  scheduler's ``pods/binding``, kwok's ``pods/status``, node heartbeats, leases) and
  counts events apart (every component records some; the counter cannot tell whose).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

CLK_TCK = os.sysconf("SC_CLK_TCK")
# apiserver_request_total's verb label; both spellings (HTTP-like and Kubernetes verbs) are writes
WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY", "CREATE", "UPDATE"})
# written once per pod or per node whoever created the pods: not the contender's doing
COMMON_WRITES = frozenset({("pods", "binding"), ("pods", "status")})  # and nodes, leases (any subresource)
_SAMPLE = re.compile(r'^apiserver_request_total\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def _status_mib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return float("nan")


def proc_peak_rss_mib(pid: int) -> float:
    return _status_mib(pid, "VmHWM:")


def proc_rss_mib(pid: int) -> float:
    return _status_mib(pid, "VmRSS:")


def reset_peak_rss(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS; False where the kernel refuses."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def request_counts(metrics_text: str) -> Counter:
    """apiserver_request_total summed by (verb, resource, subresource)."""
    counts: Counter = Counter()
    for line in metrics_text.splitlines():
        match = _SAMPLE.match(line)
        if match:
            labels = dict(_LABEL.findall(match.group("labels")))
            key = (labels.get("verb", ""), labels.get("resource", ""), labels.get("subresource", ""))
            counts[key] += int(float(match.group("value")))
    return counts


def summarise_requests(before: Counter, after: Counter) -> dict[str, Any]:
    """The requests made between two readings: how many, how many writes, the writes by kind.

    Only raw counts are kept; who made which writes is read from ``writes_by_kind`` by
    ``classify_writes`` when the report is generated, so the rule can improve without
    measuring again.
    """
    delta = Counter({key: after[key] - before.get(key, 0) for key in after if after[key] - before.get(key, 0) > 0})
    writes = {key: count for key, count in delta.items() if key[0] in WRITE_VERBS}
    return {
        "requests": sum(delta.values()),
        "writes": sum(writes.values()),
        "writes_by_kind": {f"{verb} {resource}{'/' + sub if sub else ''}": count
                           for (verb, resource, sub), count in sorted(writes.items())},
    }


def classify_writes(writes_by_kind: dict[str, int]) -> dict[str, int]:
    """Split ``writes_by_kind`` ("PATCH pods/status": 300, ...) into the contender's, events and common.

    *common*: written once per pod or node whoever made the pods (the scheduler's
    bindings, kwok's pod status, node heartbeats, leases); *events*: every component
    records some (the scheduler and kwok one or two per pod), and the counter cannot
    tell whose; *contender*: the rest (pods created or patched, the contender's own
    objects and their status).
    """
    split = {"contender": 0, "events": 0, "common": 0}
    for kind, count in writes_by_kind.items():
        resource, _, sub = kind.split(" ", 1)[-1].partition("/")
        if resource == "events":
            split["events"] += count
        elif (resource, sub) in COMMON_WRITES or resource in ("nodes", "leases"):
            split["common"] += count
        else:
            split["contender"] += count
    return split


@dataclass
class Reading:
    """The state at the start of an interval."""

    pids: dict[str, int]
    cpu: dict[str, float]
    rss_reset: bool
    requests: Counter | None


@dataclass
class Meter:
    """Measures one interval: ``reading = await meter.begin()`` ... ``cost = await meter.end(reading)``.

    ``processes`` returns the processes to watch by role (``kube-apiserver``, ...,
    ``operator``, ``harness``) at the moment of the call; ``metrics`` returns the API
    server's ``/metrics`` text, or is None when there is no API server to ask.
    """

    processes: Callable[[], dict[str, int]]
    metrics: Callable[[], Awaitable[str]] | None = None

    async def begin(self) -> Reading:
        pids = {role: pid for role, pid in self.processes().items() if pid}
        cpu, reset = {}, True
        for role, pid in pids.items():
            try:
                cpu[role] = proc_cpu_seconds(pid)
                reset = reset_peak_rss(pid) and reset
            except OSError:
                continue
        requests = request_counts(await self.metrics()) if self.metrics else None
        return Reading(pids=pids, cpu=cpu, rss_reset=reset, requests=requests)

    async def end(self, reading: Reading) -> dict[str, Any]:
        cpu, rss = {}, {}
        for role, pid in reading.pids.items():
            try:
                used = proc_cpu_seconds(pid) - reading.cpu[role]
                peak = proc_peak_rss_mib(pid)
            except (OSError, KeyError):
                continue  # the process ended (or began) inside the interval: no honest figure
            cpu[role], rss[role] = round(used, 2), round(peak, 1)
        cost: dict[str, Any] = {"cpu_s": cpu, "cpu_total_s": round(sum(cpu.values()), 2), "peak_rss_mib": rss,
                                "peak_rss_scope": "run" if reading.rss_reset else "lifetime"}
        if self.metrics and reading.requests is not None:
            cost["api"] = summarise_requests(reading.requests, request_counts(await self.metrics()))
        return cost
