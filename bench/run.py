"""The side-by-side benchmark (issues 9 and 20): kubatch against the raw API limit and the Job controller.

One command brings up its own local cluster (``bench/scenarios/localcluster.py``, state in
``~/.cache/kubatch/bench-cluster``, ports from 17840, so it never touches the e2e
cluster; not ``cluster-bench``: ``cluster down`` of the default ``~/.cache/kubatch/cluster``
kills every process whose command line contains that path, a prefix of ``cluster-bench``),
sized so every contender has room, and runs every scenario x contender ``--repeat`` times
(contenders in a rotating order) at each ``--limits`` setting. Each measured run is
written at once to ``bench/data/<stamp>/runs/*.json`` (a compact summary: percentiles,
curves of at most ~60 points, the cluster's cost), the invocation's facts to
``meta.json``, and the report generated from those files only (``python -m bench.report``)
to ``REPORT.md`` beside them::

    python bench/run.py                                   # everything, default sizes (about 75 min)
    python bench/run.py --scenario array --scenario many --n 100 --m 50 --limits 50/100 --label smoke  # ~3.5 min
    python bench/run.py --scenario array --n 1000 10000 --limits 500/1000
    python bench/run.py --scenario core                   # only D (no cluster)
    python bench/run.py --kubeconfig ~/.kube/config ...   # an existing cluster (not started/stopped)

Scenarios: ``array`` (A), ``many`` (B), ``deep`` (C), ``core`` (D); see bench/scenarios/.
Limits: every contender's client-side writes/s and burst, ``QPS/BURST``: the operator's
``--api-qps/--api-burst``, the raw client's token bucket and kube-controller-manager's
``--kube-api-qps/--kube-api-burst`` (restarted with them). The first setting runs every
scenario at every size; later ones (default 50/100, where the client limit binds) run A
and B at the smallest N and M. The operator is started fresh (``kubatch operator`` as a
subprocess) for each kubatch run. ``--profile`` attaches py-spy (``--py-spy PATH``) to
each operator and summarises where its time went. Logs and charts go to
``bench/results/`` (not committed).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("KUBATCH_CLUSTER_DIR", str(Path.home() / ".cache/kubatch/bench-cluster"))
os.environ.setdefault("KUBATCH_PORT_BASE", "17840")

from bench import report  # noqa: E402
from bench.scenarios import array, chart, core, deep, localcluster, many  # noqa: E402
from bench.scenarios.common import Api, Bench, ManagedOperator, cluster_meter, machine  # noqa: E402

CLUSTER_DIR = Path(os.environ["KUBATCH_CLUSTER_DIR"])
PODS_PER_NODE, NODE_CPU, NODE_MEM_GI = 110, 8, 32
SCENARIOS = ("array", "many", "deep", "core")


def limits_arg(text: str) -> tuple[float, int]:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)/(\d+)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"--limits: expected QPS/BURST such as 50/100, got {text!r}")
    return float(match.group(1)), int(match.group(2))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=[*SCENARIOS, "all"],
                        help="repeatable; default: all")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of every scenario x contender (at least 3 for a comparison; default 3)")
    parser.add_argument("--n", type=int, nargs="+", default=[1_000, 10_000], help="A: array sizes")
    parser.add_argument("--contenders", default="raw,job,kubatch", help="A: comma-separated subset")
    parser.add_argument("--m", type=int, nargs="+", default=[1_000], help="B: numbers of jobs")
    parser.add_argument("--b-rate", type=float, nargs="*", default=[], metavar="JOBS_PER_S",
                        help="B: also submit the M jobs paced at each of these rates (latency below saturation)")
    parser.add_argument("--limits", type=limits_arg, nargs="+", default=[(500.0, 1000), (50.0, 100)],
                        metavar="QPS/BURST", help="client limits of every contender (default: 500/1000 50/100)")
    parser.add_argument("--c-jobs", type=int, default=20_000, help="C: RUNNABLE jobs behind the full CE")
    parser.add_argument("--c-fill", type=int, default=2_000, help="C: how many of them the freed capacity holds")
    parser.add_argument("--d-sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000], help="D: RUNNABLE units")
    parser.add_argument("--kubeconfig", type=Path, help="use this cluster instead of starting the local one")
    parser.add_argument("--nodes", type=int, help="kwok nodes (default: enough for the largest scenario)")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the local cluster running")
    parser.add_argument("--profile", action="store_true", help="py-spy each operator run")
    parser.add_argument("--py-spy", default=shutil.which("py-spy")
                        or str(Path.home() / ".cache/kubatch/bench-tools/bin/py-spy"))
    parser.add_argument("--label", default="full", help="names the data directory and the report (e.g. smoke)")
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "bench" / "data",
                        help="where the run's directory of raw data and REPORT.md goes (committed)")
    parser.add_argument("--results-dir", type=Path, default=REPO_ROOT / "bench" / "results",
                        help="logs and charts (not committed)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
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


def limits_text(args: argparse.Namespace, kcm: dict[tuple[float, int], dict[str, str] | None]) -> str:
    from kubatch.controller.loop import MAX_CONCURRENT_WRITES
    settings = []
    for qps, burst in args.limits:
        got = kcm.get((qps, burst))
        kcm_text = " ".join(f"--{k} {v}" for k, v in got.items()) if got else "as configured by that cluster"
        settings.append(f"{qps:g} QPS / burst {burst}: kubatch operator --api-qps {qps:g} --api-burst {burst}, "
                        f"raw client the same token bucket, kube-controller-manager {kcm_text}")
    later = " Settings after the first run A and B at the smallest N and M only." if len(args.limits) > 1 else ""
    return (f"{'; '.join(settings)}. The operator and the raw client keep at most {MAX_CONCURRENT_WRITES} "
            f"writes in flight; the Job controller creates at most 500 pods per sync.{later}")


async def run_cluster_scenarios(args: argparse.Namespace, kubeconfig: Path, sink: report.RunFiles,
                                manage_cluster: bool) -> tuple[list, dict]:
    api = await Api.connect(kubeconfig)
    profiler = args.py_spy if args.profile else None
    qps, burst = args.limits[0]
    operator = ManagedOperator(kubeconfig=kubeconfig, log_dir=args.log_dir, profiler=profiler,
                               api_qps=qps, api_burst=burst)
    cluster_dir = CLUSTER_DIR if manage_cluster else None
    bench = Bench(kubeconfig=kubeconfig, api=api, operator=operator, log=log, repeat=args.repeat,
                  meter=cluster_meter(api, cluster_dir, operator), sink=sink)
    errors, kcm_seen = [], {}
    try:
        for setting, (qps, burst) in enumerate(args.limits):
            bench.api_qps, bench.api_burst = operator.api_qps, operator.api_burst = qps, burst
            kcm = None
            if manage_cluster:
                log(f"limits {qps:g}/{burst}: kube-controller-manager restarted with them")
                kcm = localcluster.set_controller_manager_limits(CLUSTER_DIR, qps=qps, burst=burst)
            kcm_seen[(qps, burst)] = kcm
            n = args.n if setting == 0 else [min(args.n)]
            m = args.m if setting == 0 else [min(args.m)]
            steps = {
                "array": lambda: array.run_scenario(bench, n, args.contenders, kcm_limits=kcm),
                "many": lambda: many.run_scenario(bench, m, args.b_rate if setting == 0 else [], probe=setting == 0),
                "deep": lambda: deep.run_scenario(bench, args.c_jobs, args.c_fill) if setting == 0 else [],
            }
            for scenario in args.scenarios:
                if scenario in steps:
                    try:
                        await steps[scenario]()
                    except Exception as error:  # noqa: BLE001 - report it, go on with the next scenario
                        log(f"scenario {scenario} failed: {error!r}")
                        errors.append({"scenario": scenario, "error": repr(error),
                                       "traceback": traceback.format_exc()})
                        await operator.stop()
    finally:
        await api.close()
    return errors, kcm_seen


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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    stamp = started.strftime("%Y-%m-%d-%H%M%S")
    dataset = args.data_dir / f"{stamp}-{args.label}"
    args.log_dir = args.results_dir / "logs" / stamp
    sink = report.RunFiles(dataset)
    info = machine()
    meta: dict[str, Any] = {"command": "python bench/run.py " + shlex.join(argv), "label": args.label,
                            "started": started.strftime("%Y-%m-%d %H:%M"), "machine": info,
                            "other_clusters": other_clusters(), "repeat": args.repeat, "errors": []}
    report.write_meta(dataset, meta)
    log(f"machine: {info}; data: {dataset}")
    needs_cluster = any(s in args.scenarios for s in ("array", "many", "deep"))
    manage_cluster = needs_cluster and args.kubeconfig is None
    kcm_seen: dict = {}
    try:
        if needs_cluster:
            nodes = args.nodes or nodes_needed(args)
            meta["cluster"] = (f"local control plane (`{localcluster.CLUSTER_MODULE}`), {nodes} kwok nodes of "
                               f"{NODE_CPU} CPU / {NODE_MEM_GI} GiB / {PODS_PER_NODE} pods; simulated run of every "
                               "pod 0.2 s (kwok default) unless stated") if manage_cluster else \
                f"an existing cluster ({args.kubeconfig})"
            if manage_cluster:
                log(f"cluster: {CLUSTER_DIR}, {nodes} kwok nodes")
                bin_dir = Path(os.environ["KUBATCH_BIN_DIR"]) if os.environ.get("KUBATCH_BIN_DIR") else None
                kubeconfig, kubectl = localcluster.up(repo_root=REPO_ROOT, nodes=nodes, cpu=NODE_CPU,
                                                      memory_gi=NODE_MEM_GI, bin_dir=bin_dir)
            else:
                kubeconfig, kubectl = args.kubeconfig, shutil.which("kubectl") or "kubectl"
            install_crds(str(kubectl), kubeconfig)
            errors, kcm_seen = asyncio.run(run_cluster_scenarios(args, kubeconfig, sink, manage_cluster))
            meta["errors"] += errors
        if "core" in args.scenarios:
            log("D  schedule() and plan() on synthetic snapshots ...")
            for row in core.run_scenario(args.d_sizes, args.repeat):
                sink(row)
    finally:
        if manage_cluster and not args.keep_cluster:
            log("cluster: down")
            localcluster.down(repo_root=REPO_ROOT)
    meta["limits"] = limits_text(args, kcm_seen)
    meta["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    meta["profile"] = summarise_profiles(args.log_dir) if args.profile else ""
    report.write_meta(dataset, meta)
    text = report.render(dataset)
    (dataset / report.REPORT).write_text(text)
    _, rows = report.load(dataset)
    drawn = chart.write_chart(args.results_dir / f"{stamp}.png", rows)
    print("\n" + text)
    for error in meta["errors"]:
        print(f"ERROR in {error['scenario']}:\n{error['traceback']}", file=sys.stderr)
    log(f"data and report: {dataset}" + (f"; chart: {args.results_dir / f'{stamp}.png'}" if drawn else ""))
    return 1 if meta["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
