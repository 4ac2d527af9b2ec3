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
@click.option("--verbose", "-v", is_flag=True)
def operator(namespaces: tuple[str, ...], all_namespaces: bool, metrics_port: int, health_port: int,
             image_pull_grace_seconds: float, pod_retention: str, verbose: bool) -> None:
    """Run the operator (what the Helm chart's Deployment runs)."""
    from kubatch.controller.run import run_operator
    from kubatch.core.reconcile import PodRetention, Settings

    run_operator(namespaces=() if all_namespaces else namespaces, metrics_port=metrics_port,
                 health_port=health_port, verbose=verbose,
                 settings=Settings(image_pull_grace_seconds=image_pull_grace_seconds,
                                   pod_retention=PodRetention(pod_retention)))


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
