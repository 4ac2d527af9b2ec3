"""The ``kubatch`` command: AWS Batch's CLI verbs, plus ``operator`` and ``crds``.

Why click: a proven parser gives one-line errors and consistent flags; the AWS verbs
live in their own modules and are registered here, so this file only wires them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kubatch.cli.catalog import VERBS
from kubatch.cli.job_verbs import logs, wait
from kubatch.cli.verbs import build
from kubatch.service.arns import DEFAULT_ACCOUNT, DEFAULT_REGION


class Duration(click.ParamType):
    """Seconds, written ``45``, ``90s``, ``30m``, ``6h`` or ``7d``."""

    name = "duration"
    UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        unit = self.UNITS.get(text[-1:], None)
        number = text[:-1] if unit else text
        if not number.isdigit():
            self.fail(f"{value!r} is not a duration: write seconds, or a number with s, m, h or d (e.g. 7d)",
                      param, ctx)
        return int(number) * (unit or 1)


DURATION = Duration()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """kubatch: AWS Batch on Kubernetes."""


@cli.command()
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("crds"),
              show_default=True, help="where to write one YAML file per kind")
def crds(output_dir: Path) -> None:
    """Write the CustomResourceDefinitions generated from the pydantic models."""
    from kubatch.api.crdgen import write_crds

    for path in write_crds(output_dir):
        click.echo(path)


@cli.command()
@click.option("--namespace", "-n", "namespaces", multiple=True, help="watch only these namespaces (repeatable)")
@click.option("--all-namespaces", "-A", is_flag=True, help="watch every namespace (the default without -n)")
@click.option("--metrics-port", type=int, default=8080, show_default=True, help="Prometheus /metrics port (0: off)")
@click.option("--health-port", type=int, default=8081, show_default=True, help="liveness /healthz port (0: off)")
@click.option("--image-pull-grace-seconds", type=float, default=120, show_default=True,
              help="how long an image may fail to pull before the attempt ends CannotPullContainerError")
@click.option("--pod-retention", type=click.Choice(["all", "last", "none"]), default="last", show_default=True,
              help="which finished attempt pods to keep for their logs")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one JSON object per line, for log pipelines")
@click.option("--api-qps", type=click.FloatRange(min=0, min_open=True), default=200, show_default=True,
              help="writes per second the operator sends to the API server at most (like client-go's --kube-api-qps)")
@click.option("--api-burst", type=click.IntRange(min=1), default=400, show_default=True,
              help="writes it may send at once after a quiet spell (like client-go's --kube-api-burst)")
@click.option("--archive-url", envvar="KUBATCH_ARCHIVE_URL",
              help="the job archive: sqlite:///PATH or postgresql://… (docs/operations.md); finished jobs are "
                   "deleted only when one is given")
@click.option("--finished-job-retention", type=DURATION, default="0", show_default=True,
              help="how long a finished job stays in the cluster before it is archived and deleted (90s, 30m, 6h, "
                   "7d; 0: for ever); a JobQueue's spec.finishedJobRetentionSeconds overrides it")
@click.option("--leader-election-namespace", envvar="KUBATCH_LEADER_ELECTION_NAMESPACE",
              help="hold a Lease in this namespace and act only while holding it (for more than one replica)")
@click.option("--verbose", "-v", is_flag=True)
def operator(namespaces: tuple[str, ...], all_namespaces: bool, metrics_port: int, health_port: int,
             image_pull_grace_seconds: float, pod_retention: str, log_format: str, api_qps: float, api_burst: int,
             archive_url: str | None, finished_job_retention: int, leader_election_namespace: str | None,
             verbose: bool) -> None:
    """Run the operator (what the Helm chart's Deployment runs)."""
    from kubatch.controller.run import run_operator
    from kubatch.core.reconcile import PodRetention, Settings

    if finished_job_retention and not archive_url:
        raise click.UsageError("--finished-job-retention needs --archive-url: a finished job is deleted only "
                               "after its record is archived")

    run_operator(namespaces=() if all_namespaces else namespaces, metrics_port=metrics_port,
                 health_port=health_port, verbose=verbose, leader_election_namespace=leader_election_namespace,
                 log_format=log_format, api_qps=api_qps, api_burst=api_burst, archive_url=archive_url,
                 finished_job_retention_seconds=finished_job_retention,
                 settings=Settings(image_pull_grace_seconds=image_pull_grace_seconds,
                                   pod_retention=PodRetention(pod_retention)))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on (0.0.0.0: all)")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--region", envvar="KUBATCH_REGION", default=DEFAULT_REGION, show_default=True, help="region of the ARNs")
@click.option("--account-id", envvar="KUBATCH_ACCOUNT_ID", default=DEFAULT_ACCOUNT, show_default=True,
              help="account of the ARNs")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), help="kubeconfig (default: $KUBECONFIG, in-cluster)")
@click.option("--context", help="kubeconfig context (default: the current one)")
@click.option("--credentials-file", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML/JSON access keys: accessKeyId, secretAccessKey, namespace, admin (docs/aws-compatibility.md)")
@click.option("--no-auth", is_flag=True, help="accept unsigned requests, all in one namespace (local development only)")
@click.option("--namespace", "-n", help="with --no-auth: the namespace (default: the kubeconfig context's)")
@click.option("--tls-cert", type=click.Path(dir_okay=False, path_type=Path), help="serve HTTPS with this certificate")
@click.option("--tls-key", type=click.Path(dir_okay=False, path_type=Path), help="… and this private key")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one JSON object per line, for log pipelines")
@click.option("--archive-url", envvar="KUBATCH_ARCHIVE_URL",
              help="the operator's job archive (sqlite:///PATH or postgresql://…), read for jobs the cluster no "
                   "longer holds")
@click.option("--verbose", "-v", is_flag=True)
def api(host: str, port: int, region: str, account_id: str, kubeconfig: str | None, context: str | None,
        credentials_file: Path | None, no_auth: bool, namespace: str | None, tls_cert: Path | None,
        tls_key: Path | None, log_format: str, archive_url: str | None, verbose: bool) -> None:
    """Serve AWS Batch's HTTP API (SigV4-signed; each access key works in one namespace)."""
    from kubatch.cli.kubeconfig import default_namespace
    from kubatch.http.run import ApiOptions, ConfigError, run_api
    from kubatch.service.arns import Arns

    if namespace and not no_auth:
        raise click.UsageError("--namespace goes with --no-auth: otherwise each access key names its namespace")
    options = ApiOptions(host=host, port=port, arns=Arns(region=region, account=account_id), kubeconfig=kubeconfig,
                         context=context, credentials_file=credentials_file, tls_cert=tls_cert, tls_key=tls_key,
                         archive_url=archive_url,
                         no_auth_namespace=(namespace or default_namespace(kubeconfig=kubeconfig, context=context))
                         if no_auth else None)
    try:
        run_api(options, verbose=verbose, log_format=log_format)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


for _verb in VERBS:
    cli.add_command(build(_verb))
cli.add_command(logs)
cli.add_command(wait)


def main(args: list[str] | None = None, *, obj: object = None) -> None:
    """The ``kubatch`` entry point; ``args`` and ``obj`` (a ``Runtime``) let tests run it in-process."""
    try:
        cli.main(args=args, standalone_mode=False, obj=obj)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        click.echo(f"kubatch: {error.format_message()}", err=True)
        sys.exit(error.exit_code)


if __name__ == "__main__":
    main()
