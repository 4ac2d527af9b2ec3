"""kubatch's own job verbs: ``logs``, ``wait``, and the ``--wait`` of ``submit-job``.

AWS sends job output to CloudWatch and has no waiter for jobs; here the log is the
pod's (for an array child, the pod of the attempt its parent's record names), and
waiting prints a progress line on stderr each time the job's state or reason changes,
so a long wait shows what the job is waiting for. ``wait`` exits 0 when the job
reaches the wanted state, 1 when it ended in another, 124 on timeout (as
``timeout(1)`` does).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import click

from kubatch.cli.output import render
from kubatch.cli.runtime import CommandFailed, Globals, global_options, run
from kubatch.service import Context
from kubatch.service.child_logs import log
from kubatch.service.waiting import wait_for_job
from kubatch.states import JOB_STATES, TERMINAL_STATES, JobState

ANY_TERMINAL = "any-terminal"
EXIT_ENDED_OTHERWISE = 1
EXIT_TIMED_OUT = 124
POLL_SECONDS = 2.0


def _code(detail: dict[str, Any]) -> str | None:
    """kubatch's short reason code: ``statusReason`` carries AWS's human text once a job has ended."""
    return detail.get("statusReasonCode", detail.get("statusReason"))


def progress_line(detail: dict[str, Any], *, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).strftime("%H:%M:%S")
    line = f"{moment} {detail.get('jobName')} {detail['jobId']}: {detail['status']}"
    if _code(detail):
        line += f" {_code(detail)}"
    if detail.get("statusMessage"):
        line += f": {detail['statusMessage']}"
    summary = (detail.get("arrayProperties") or {}).get("statusSummary") or {}
    counts = ", ".join(f"{state} {count}" for state, count in summary.items() if count)
    return f"{line} [{counts}]" if counts else line


async def follow(ctx: Context, *, job: str, until: Collection[str], timeout: float | None,
                 interval: float = POLL_SECONDS) -> dict[str, Any]:
    """Wait for the job, printing progress on stderr; fail with the exit code of the outcome."""
    detail = await wait_for_job(ctx, job=job, until=until, timeout=timeout, interval=interval,
                                progress=lambda seen: click.echo(progress_line(seen), err=True))
    if detail["status"] in until:
        return detail
    what = f"job {detail.get('jobName')} ({detail['jobId']})"
    if detail["status"] in TERMINAL_STATES:
        why = ": ".join(filter(None, [_code(detail), detail.get("statusMessage")]))
        raise CommandFailed(f"{what} is {detail['status']}" + (f" ({why})" if why else ""),
                            exit_code=EXIT_ENDED_OTHERWISE)
    raise CommandFailed(f"timed out after {timeout:g}s waiting for {what}: it is {detail['status']}",
                        exit_code=EXIT_TIMED_OUT)


async def wait_after_submit(ctx: Context, response: dict[str, Any], extras: dict[str, Any], settings: Globals) -> None:
    """``submit-job --wait``: the job must succeed."""
    del settings
    if extras["wait"]:
        await follow(ctx, job=response["jobId"], until={JobState.SUCCEEDED}, timeout=extras["wait_timeout"])


SUBMIT_EXTRAS = (
    click.Option(["--wait"], is_flag=True, help="wait until the job ends; exit 0 only if it SUCCEEDED"),
    click.Option(["--wait-timeout"], type=float, help="seconds --wait waits at most (exit 124 then)"),
)


@click.command("logs", params=global_options(output=False))
@click.argument("job")
@click.option("--attempt", type=int, help="attempt number, from 1 (default: the latest)")
@click.option("--container", help="container name (default: main, or the pod's first container)")
def logs(job: str, attempt: int | None, container: str | None, **values: Any) -> None:
    """Print the log of JOB's pod: JOB is an id, name or ARN; JOB:INDEX an array child, JOB#NODE a node."""
    text = run(Globals.take(values), lambda ctx: log(ctx, job=job, attempt=attempt, container=container))
    click.echo(text, nl=False)


@click.command("wait", params=global_options())
@click.argument("job")
@click.option("--for", "wanted", type=click.Choice([*JOB_STATES, ANY_TERMINAL]), default=ANY_TERMINAL,
              show_default=True, help="the state to wait for")
@click.option("--timeout", type=float, help="seconds to wait at most (default: no limit)")
@click.option("--interval", type=float, default=POLL_SECONDS, show_default=True, help="seconds between checks")
def wait(job: str, wanted: str, timeout: float | None, interval: float, **values: Any) -> None:
    """Wait until JOB reaches a state, showing progress on stderr; print its DescribeJobs entry."""
    settings = Globals.take(values)
    until = TERMINAL_STATES if wanted == ANY_TERMINAL else {wanted}

    async def work(ctx: Context) -> None:
        detail = await follow(ctx, job=job, until=until, timeout=timeout, interval=interval)
        click.echo(render({"jobs": [detail]}, output=settings.output))

    run(settings, work)
