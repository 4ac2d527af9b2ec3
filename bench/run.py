"""The side-by-side benchmark of issue 9: kubatch against the raw API limit and the Job controller.

One command brings up its own local cluster (``testkit.cluster``, state in
``~/.cache/kubatch/bench-cluster``, ports from 17840, so it never touches the e2e
cluster; not ``cluster-bench``: ``cluster down`` of the default ``~/.cache/kubatch/cluster``
kills every process whose command line contains that path, a prefix of ``cluster-bench``), sized so every contender has room, runs each scenario for each contender in
the same run, prints the tables, and writes ``bench/results/<time>.json`` (+ ``.png``
when matplotlib is importable) and ``bench/RESULTS.md``::

    python bench/run.py                                   # everything, default sizes
    python bench/run.py --scenario array --n 1000 10000   # only A
    python bench/run.py --scenario many --m 1000 --scenario deep --c-jobs 5000 --c-fill 2500
    python bench/run.py --scenario core                   # only D (no cluster)
    python bench/run.py --kubeconfig ~/.kube/config ...   # an existing cluster (not started/stopped)

Scenarios: ``array`` (A), ``many`` (B), ``deep`` (C), ``core`` (D); see bench/scenarios/.
The operator is started fresh (``kubatch operator`` as a subprocess) for each kubatch
run, so its CPU seconds and peak RSS belong to that run. ``--profile`` attaches py-spy
(``--py-spy PATH``) to each operator and summarises where its time went.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("KUBATCH_CLUSTER_DIR", str(Path.home() / ".cache/kubatch/bench-cluster"))
os.environ.setdefault("KUBATCH_PORT_BASE", "17840")

from bench.scenarios import array, core, deep, many, report  # noqa: E402
from bench.scenarios.common import Api, Bench, ManagedOperator, controller_manager_limits, machine  # noqa: E402

CLUSTER_DIR = Path(os.environ["KUBATCH_CLUSTER_DIR"])
PODS_PER_NODE, NODE_CPU, NODE_MEM_GI = 110, 8, 32
SCENARIOS = ("array", "many", "deep", "core")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=[*SCENARIOS, "all"],
                        help="repeatable; default: all")
    parser.add_argument("--n", type=int, nargs="+", default=[1_000, 10_000], help="A: array sizes")
    parser.add_argument("--contenders", default="raw,job,kubatch", help="A: comma-separated subset")
    parser.add_argument("--m", type=int, nargs="+", default=[1_000], help="B: numbers of jobs")
    parser.add_argument("--b-rate", type=float, nargs="*", default=[], metavar="JOBS_PER_S",
                        help="B: also submit the M jobs paced at each of these rates (latency below saturation)")
    parser.add_argument("--api-qps", type=float, default=500,
                        help="client-side writes/s of the operator and the raw client (the local cluster's "
                             "kube-controller-manager has --kube-api-qps 500: keep them equal)")
    parser.add_argument("--api-burst", type=int, default=1000, help="their burst (kube-controller-manager: 1000)")
    parser.add_argument("--c-jobs", type=int, default=20_000, help="C: RUNNABLE jobs behind the full CE")
    parser.add_argument("--c-fill", type=int, default=10_000, help="C: how many of them the freed capacity holds")
    parser.add_argument("--d-sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000], help="D: RUNNABLE units")
    parser.add_argument("--kubeconfig", type=Path, help="use this cluster instead of starting the local one")
    parser.add_argument("--nodes", type=int, help="kwok nodes (default: enough for the largest scenario)")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the local cluster running")
    parser.add_argument("--profile", action="store_true", help="py-spy each operator run")
    parser.add_argument("--py-spy", default=shutil.which("py-spy")
                        or str(Path.home() / ".cache/kubatch/bench-tools/bin/py-spy"))
    parser.add_argument("--results-dir", type=Path, default=REPO_ROOT / "bench" / "results")
    parser.add_argument("--no-results-md", action="store_true", help="do not rewrite bench/RESULTS.md")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="measure nothing: rewrite bench/RESULTS.md from a saved results file")
    args = parser.parse_args(argv)
    chosen = args.scenario or ["all"]
    args.scenarios = list(SCENARIOS) if "all" in chosen else [s for s in SCENARIOS if s in chosen]
    args.contenders = tuple(c.strip() for c in args.contenders.split(",") if c.strip())
    return args


def nodes_needed(args: argparse.Namespace) -> int:
    pods = 0
    if "array" in args.scenarios:
        pods = max(pods, *args.n)
    if "many" in args.scenarios:
        pods = max(pods, *args.m)
    if "deep" in args.scenarios:
        pods = max(pods, args.c_fill + 1)
    return max(10, math.ceil(pods * 1.1 / PODS_PER_NODE))


def cluster_up(nodes: int) -> tuple[Path, Path]:
    """Start (or reuse) the bench cluster; returns its kubeconfig and the kubectl binary."""
    bin_dir = Path(os.environ.get("KUBATCH_BIN_DIR") or subprocess.run(
        ["bash", str(REPO_ROOT / "hack/cluster/build.sh")], check=True, stdout=subprocess.PIPE,
        text=True).stdout.strip().splitlines()[-1])
    out = subprocess.run([sys.executable, "-m", "testkit.cluster", "up", "--bin-dir", str(bin_dir),
                          "--pool", f"on-demand={nodes}x{NODE_CPU}x{NODE_MEM_GI}"],
                         check=True, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    return Path(out.stdout.strip().splitlines()[-1]), bin_dir / "kubectl"


def cluster_down() -> None:
    subprocess.run([sys.executable, "-m", "testkit.cluster", "down"], check=False, cwd=REPO_ROOT,
                   stdout=subprocess.DEVNULL)


def install_crds(kubectl: str, kubeconfig: Path) -> None:
    base = [kubectl, "--kubeconfig", str(kubeconfig)]
    subprocess.run([*base, "apply", "--server-side", "--force-conflicts", "-f", str(REPO_ROOT / "crds")],
                   check=True, capture_output=True)
    subprocess.run([*base, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"],
                   check=True, capture_output=True)


def other_clusters() -> int:
    """kube-apiservers on this machine that are not ours: other people's tests share the CPUs."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"kube-apiserver" in argv.split(b"\0")[0] and str(CLUSTER_DIR).encode() not in argv:
                count += 1
    return count


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


async def run_cluster_scenarios(args: argparse.Namespace, kubeconfig: Path, kcm: dict | None) -> tuple[list, list]:
    api = await Api.connect(kubeconfig)
    profiler = args.py_spy if args.profile else None
    operator = ManagedOperator(kubeconfig=kubeconfig, log_dir=args.log_dir, profiler=profiler,
                               api_qps=args.api_qps, api_burst=args.api_burst)
    bench = Bench(kubeconfig=kubeconfig, api=api, operator=operator, log=log,
                  api_qps=args.api_qps, api_burst=args.api_burst)
    rows, errors = [], []
    steps = {
        "array": lambda: array.run_scenario(bench, args.n, args.contenders, kcm_limits=kcm),
        "many": lambda: many.run_scenario(bench, args.m, args.b_rate),
        "deep": lambda: deep.run_scenario(bench, args.c_jobs, args.c_fill),
    }
    try:
        for scenario in args.scenarios:
            if scenario in steps:
                try:
                    rows += await steps[scenario]()
                except Exception as error:  # noqa: BLE001 - report it, go on with the next scenario
                    log(f"scenario {scenario} failed: {error!r}")
                    errors.append({"scenario": scenario, "error": repr(error),
                                   "traceback": traceback.format_exc()})
                    await operator.stop()
    finally:
        await api.close()
    return rows, errors


def summarise_profiles(log_dir: Path, top: int = 25) -> str:
    """py-spy raw (collapsed) stacks -> the functions with the most samples, inclusive and self."""
    sections = []
    for path in sorted(log_dir.glob("profile-*.txt")):
        inclusive, own, total = Counter(), Counter(), 0
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            samples = int(count)
            total += samples
            frames = [f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].split("/")[-1] + ")"
                      if " (" in f else f for f in stack.split(";")]
            for frame in set(frames):
                inclusive[frame] += samples
            own[frames[-1]] += samples
        if not total:
            continue
        rows = [[frame, round(100 * count / total, 1), round(100 * own[frame] / total, 1)]
                for frame, count in inclusive.most_common(top)]
        own_rows = [[frame, round(100 * count / total, 1)] for frame, count in own.most_common(15)]
        sections.append(f"#### {path.stem} ({total:,} samples)\n\n"
                        + report.table(["function (file)", "inclusive %", "self %"], rows)
                        + "\n\nTop self time:\n\n" + report.table(["function (file)", "self %"], own_rows))
    return "\n\n".join(sections)


def results_md(document: dict, profile_text: str) -> str:
    m = document["machine"]
    lines = [
        "# Benchmark results",
        "",
        "Generated by `bench/run.py` (issue 9); do not edit by hand, run it again. All contenders were",
        "measured in the same run, one after another, each on an empty cluster (namespace per contender).",
        "",
        f"- **Command:** `{document['command']}`",
        f"- **When:** {document['started']} – {document['finished']} (UTC)",
        f"- **Machine:** {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB RAM, Linux {m['kernel']}, "
        f"Python {m['python']}",
        f"- **Load average** (1/5/15 min) at start {m['loadavg']}, at end {document['loadavg_end']}; "
        f"other kube-apiservers running on the machine at start: {document['other_clusters']} "
        "(other people's test clusters share the 2 CPUs, so absolute numbers are noisy; compare within a row set)",
        f"- **Cluster:** local control plane (`testkit.cluster`), {document['nodes']} kwok nodes of "
        f"{NODE_CPU} CPU / {NODE_MEM_GI} GiB / {PODS_PER_NODE} pods; simulated run of every pod 0.2 s "
        "(kwok default) unless stated",
        f"- **Client limits:** {document['limits']}",
        "",
    ]
    for title, text in report.tables(document["rows"]):
        lines += [f"## {title}", "", text, "", NOTES.get(title[0], ""), ""]
    if document["errors"]:
        lines += ["## Errors", ""] + [f"- {e['scenario']}: `{e['error']}`" for e in document["errors"]] + [""]
    if profile_text:
        lines += ["## Operator profile (py-spy, sampled at 50 Hz)", "", profile_text, ""]
    return "\n".join(lines).rstrip() + "\n"


NOTES = {
    "A": ("One array of N children (kubatch), N pods (raw), one Indexed Job of N (job); pods request 0.05 vCPU "
          "and 64 MiB. *makespan*: submit → the contender reports done (raw: every pod Succeeded; job: "
          "Complete condition; kubatch: parent SUCCEEDED). *pods created/s*: N / (last pod seen − submit). "
          "*× raw*: makespan over the raw client's, same N. *all bound / Running / Succeeded*: the last pod seen "
          "with a node (kube-scheduler), Running and Succeeded (kwok plays both) — where a contender's makespan "
          "is the cluster's, not its own. At N = 10,000 kwok is the bottleneck: every contender's pods wait "
          "minutes between bound and Succeeded (see the chart's curves), so makespan mostly measures kwok under "
          "the machine's load at that moment; *all pods created s* is the contender's own part. Operator CPU/RSS: kubatch only (fresh process per run)."),
    "B": ("Throughput part: capacity free (2 EC2 CEs with room for all M; queues hi=30 → [a, b], mid=20 → [a], "
          "lo=10 → [b]); *burst*: jobs created with the operator's write concurrency, as fast as the API "
          "takes them; *paced*: the same M jobs created at that rate (`--b-rate`), a fresh operator, "
          "to show latency below the API server's saturation. *submit→STARTING*: create call "
          "returned → first watch event with the job STARTING/RUNNING/SUCCEEDED. Priority part (burst rows): 72 one-vCPU jobs "
          "of 1 s (24 per queue) behind two DISABLED 4-vCPU CEs, then enabled; an inversion is a job started "
          "while a higher-priority job that could use its CE started > 0.5 s later."),
    "C": ("A 1-vCPU CE held by a day-long blocker; RUNNABLE jobs of 0.05 vCPU (day-long too) behind it; then "
          "maxvCpus is raised so that *freed for* of them fit. *over quota*: pods beyond that a few seconds later "
          "(must be 0)."),
    "D": ("`bench/bench_scheduler.py` (synthetic snapshots: 50 queues, 20 or 100 CEs, a third fits) and "
          "`bench/bench_planner.py` (one reconcile plan). There is no incremental mode: *incremental cycle* is a whole cycle after one more job arrives, what one change costs today."),
}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.render:
        document = json.loads(args.render.read_text())
        (REPO_ROOT / "bench" / "RESULTS.md").write_text(results_md(document, document.get("profile", "")))
        print(f"wrote {REPO_ROOT / 'bench' / 'RESULTS.md'} from {args.render}")
        return 0
    started = datetime.datetime.now(datetime.timezone.utc)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    args.log_dir = args.results_dir / "logs" / stamp
    info = machine()
    document = {"command": "python bench/run.py " + shlex.join(sys.argv[1:] if argv is None else argv),
                "started": started.strftime("%Y-%m-%d %H:%M"), "machine": info, "other_clusters": other_clusters(),
                "rows": [], "errors": []}
    log(f"machine: {info}")
    needs_cluster = any(s in args.scenarios for s in ("array", "many", "deep"))
    manage_cluster = needs_cluster and args.kubeconfig is None
    try:
        kcm = None
        if needs_cluster:
            document["nodes"] = args.nodes or nodes_needed(args)
            if manage_cluster:
                log(f"cluster: {CLUSTER_DIR}, {document['nodes']} kwok nodes")
                kubeconfig, kubectl = cluster_up(document["nodes"])
                kcm = controller_manager_limits(CLUSTER_DIR)
            else:
                kubeconfig, kubectl = args.kubeconfig, shutil.which("kubectl") or "kubectl"
            install_crds(str(kubectl), kubeconfig)
            rows, errors = asyncio.run(run_cluster_scenarios(args, kubeconfig, kcm))
            document["rows"] += rows
            document["errors"] += errors
        if "core" in args.scenarios:
            log("D  schedule() and plan() on synthetic snapshots ...")
            document["rows"] += core.run_scenario(args.d_sizes)
    finally:
        if manage_cluster and not args.keep_cluster:
            log("cluster: down")
            cluster_down()
    from kubatch.controller.loop import MAX_CONCURRENT_WRITES
    kcm_text = " ".join(f"--{k} {v}" for k, v in kcm.items()) if kcm else "as configured by that cluster"
    document["limits"] = (f"kubatch operator: {MAX_CONCURRENT_WRITES} writes in flight, --api-qps {args.api_qps:g} "
                          f"--api-burst {args.api_burst} (token bucket); raw client: {MAX_CONCURRENT_WRITES} creates "
                          f"in flight, the same token bucket; kube-controller-manager (Job controller): {kcm_text} "
                          "(client-go token bucket), and the Job controller creates at most 500 pods per sync")
    document["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    document["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    profile_text = summarise_profiles(args.log_dir) if args.profile else ""
    document["profile"] = profile_text
    report.write_json(args.results_dir / f"{stamp}.json", document)
    chart = report.write_chart(args.results_dir / f"{stamp}.png", document["rows"])
    print()
    for title, text in report.tables(document["rows"]):
        print(f"{title}\n\n{text}\n")
    if profile_text:
        print(profile_text)
    for error in document["errors"]:
        print(f"ERROR in {error['scenario']}:\n{error['traceback']}", file=sys.stderr)
    print(f"results: {args.results_dir / f'{stamp}.json'}" + (f", chart {stamp}.png" if chart else
                                                                " (no chart: matplotlib not importable)"))
    if not args.no_results_md:
        (REPO_ROOT / "bench" / "RESULTS.md").write_text(results_md(document, profile_text))
        print(f"wrote {REPO_ROOT / 'bench' / 'RESULTS.md'}")
    return 1 if document["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
