"""One run's rows as Markdown tables (printed and written to bench/RESULTS.md), JSON and a chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1 else f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|"]
    lines += ["| " + " | ".join(_fmt(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def array_table(rows: list[dict[str, Any]]) -> str:
    raw = {r["n"]: r for r in rows if r["contender"] == "raw"}
    body = []
    for r in rows:
        base = raw.get(r["n"])
        ratio = round(r["makespan_s"] / base["makespan_s"], 2) if base and base["makespan_s"] else None
        body.append([r["n"], r["contender"], r["completed"], r["makespan_s"], ratio, r["pods_per_s"],
                     r["first_pod_s"], r["last_pod_s"], r.get("pods_bound_s"), r.get("pods_running_s"),
                     r["pods_done_s"], r.get("operator_cpu_s"), r.get("operator_peak_rss_mib")])
    return table(["N", "contender", "completed", "makespan s", "× raw", "pods created/s", "submit→first pod s",
                  "all pods created s", "all bound s", "all Running s", "all Succeeded s", "operator CPU s",
                  "operator peak RSS MiB"], body)


def many_table(rows: list[dict[str, Any]]) -> str:
    body = [[r["m"], f"paced at {r['rate']:g}/s" if r.get("rate") else "burst", r["completed"], r["submit_per_s"],
             r["jobs_per_s"], r["makespan_s"],
             r["p50_submit_to_starting_s"], r["p99_submit_to_starting_s"], r["max_submit_to_starting_s"],
             f"{'held' if r['priority_order_held'] else 'NOT held'} ({r['priority_inversions']} inversions)"
             if "priority_order_held" in r else None,
             r["operator_cpu_s"], r["operator_peak_rss_mib"]] for r in rows]
    return table(["M", "submission", "SUCCEEDED", "submitted/s", "jobs/s to SUCCEEDED", "last SUCCEEDED s",
                  "p50 submit→STARTING s", "p99 submit→STARTING s", "max s", "priority order",
                  "operator CPU s", "operator peak RSS MiB"], body)


def deep_table(rows: list[dict[str, Any]]) -> str:
    body = [[r["jobs"], r["fill"], r["submit_s"], r["intake_s"], r["fill_first_pod_s"], r["fill_pods_s"],
             r["fill_running_s"], r["fill_pods_per_s"], r["over_quota_pods"], r["operator_cpu_intake_s"],
             r["operator_cpu_fill_s"], r["operator_rss_all_runnable_mib"], r["operator_peak_rss_mib"]] for r in rows]
    return table(["RUNNABLE", "freed for", "submit s", "submit→all RUNNABLE s", "free→first pod s",
                  "free→all pods s", "free→all RUNNING s", "pods/s", "over quota", "operator CPU intake s",
                  "operator CPU fill s", "RSS all RUNNABLE MiB", "peak RSS MiB"], body)


def core_table(rows: list[dict[str, Any]]) -> str:
    body = [[r["bench"], r["runnable"], r.get("queues"), r.get("ces"), r.get("held"), r["full_cycle_ms"],
             r.get("incremental_cycle_ms")] for r in rows]
    return table(["bench", "RUNNABLE", "queues", "CEs", "held", "full cycle ms", "incremental cycle ms"], body)


TABLES = {"A": ("A. Array burst", array_table), "B": ("B. Many jobs", many_table),
          "C": ("C. Deep queue", deep_table), "D": ("D. Core", core_table)}


def tables(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for key, (title, render) in TABLES.items():
        picked = [r for r in rows if r["scenario"] == key]
        if picked:
            out.append((title, render(picked)))
    return out


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1))


def write_chart(path: Path, rows: list[dict[str, Any]]) -> bool:
    """Makespan bars per N and contender, plus created/succeeded curves of the largest N."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    array_rows = [r for r in rows if r["scenario"] == "A"]
    if not array_rows:
        return False
    sizes = sorted({r["n"] for r in array_rows})
    contenders = list(dict.fromkeys(r["contender"] for r in array_rows))
    figure, (bars, curves) = plt.subplots(1, 2, figsize=(13, 4.8))
    width = 0.8 / len(contenders)
    for i, contender in enumerate(contenders):
        values = [next((r["makespan_s"] for r in array_rows if r["n"] == n and r["contender"] == contender), 0)
                  for n in sizes]
        positions = [x + i * width for x in range(len(sizes))]
        bars.bar(positions, values, width, label=contender)
        for x, v in zip(positions, values):
            bars.text(x, v, f"{v:.0f}s", ha="center", va="bottom", fontsize=8)
    bars.set_xticks([x + width * (len(contenders) - 1) / 2 for x in range(len(sizes))], [f"N={n:,}" for n in sizes])
    bars.set_ylabel("makespan (s): submit → all SUCCEEDED")
    bars.set_title("A. Array burst")
    bars.legend()
    largest = sizes[-1]
    for r in array_rows:
        if r["n"] == largest:
            line, = curves.plot(*zip(*r["created_curve"]), label=f"{r['contender']} created")
            if r["succeeded_curve"]:
                curves.plot(*zip(*r["succeeded_curve"]), linestyle="--", color=line.get_color(),
                            label=f"{r['contender']} Succeeded")
    curves.set_xlabel("seconds since submit")
    curves.set_ylabel("pods")
    curves.set_title(f"A. N={largest:,}: pods created / Succeeded")
    curves.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
