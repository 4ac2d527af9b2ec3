"""Running one command: global flags, a connection to the cluster, errors as one line and an exit code.

Every kubatch verb takes the same global flags after its name, as ``aws batch`` verbs
take ``--region``. Failures print ``kubatch: <Code>: <message>`` on stderr and exit
with the AWS CLI's codes: 254 for a ClientException (the request is wrong), 255 for
a ServerException (the cluster failed or cannot be reached), 253 when the kubeconfig
cannot be loaded; click's usage errors exit with 2.

The connection is made by ``Runtime.connect``, which tests replace with an in-memory
cluster (``CliRunner.invoke(cli, args, obj=Runtime(connect=...))``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from kubatch.archive import ArchiveError, open_archive
from kubatch.cli.kubeconfig import default_namespace
from kubatch.kube.client import ApiError, Kube
from kubatch.service import BatchError, Context, translated
from kubatch.service.arns import Arns
from kubatch.service.port import KubeApi

T = TypeVar("T")
EXIT_CODES = {"ClientException": 254, "ServerException": 255}
EXIT_CONFIG = 253
GLOBAL_NAMES = ("namespace", "kubeconfig", "context", "output", "region", "profile")


class CommandFailed(click.ClickException):
    """A failure already phrased for the user, with its exit code."""

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True, kw_only=True)
class Globals:
    namespace: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    output: str = "json"

    @classmethod
    def take(cls, values: dict[str, Any]) -> Globals:
        """The global flags' values, removed from a command's ``values``; AWS-only ones are warned about."""
        taken = {name: values.pop(name, None) for name in GLOBAL_NAMES}
        for name in ("region", "profile"):
            if taken.pop(name) is not None:
                warn(f"--{name} is ignored: kubatch talks to the cluster of the kubeconfig")
        return cls(**{name: value for name, value in taken.items() if value is not None})


def warn(message: str) -> None:
    click.echo(f"kubatch: warning: {message}", err=True)


def global_options(*, output: bool = True) -> list[click.Option]:
    options = [
        click.Option(["--namespace", "-n"], help="namespace of jobs and job definitions (default: the context's)"),
        click.Option(["--kubeconfig"], type=click.Path(dir_okay=False), help="kubeconfig file (default: $KUBECONFIG)"),
        click.Option(["--context"], help="kubeconfig context (default: the current one)"),
        click.Option(["--region"], hidden=True),
        click.Option(["--profile"], hidden=True),
    ]
    if output:
        options.append(click.Option(["--output", "-o"], type=click.Choice(["json", "table"]), default="json",
                                    show_default=True, help="json (the AWS CLI's shapes) or a readable table"))
    return options


Connect = Callable[[Globals], AbstractAsyncContextManager[tuple[KubeApi, str]]]


@asynccontextmanager
async def connect_cluster(settings: Globals) -> AsyncIterator[tuple[KubeApi, str]]:
    """The cluster of the kubeconfig and the namespace to work in."""
    if settings.kubeconfig and not Path(settings.kubeconfig).is_file():
        raise CommandFailed(f"cannot load the kubeconfig: {settings.kubeconfig} does not exist",
                            exit_code=EXIT_CONFIG)
    try:
        kube = await Kube.connect(kubeconfig=settings.kubeconfig, context=settings.context)
    except Exception as error:  # the client library's config errors are not ours to import
        raise CommandFailed(f"cannot load the kubeconfig: {error}", exit_code=EXIT_CONFIG) from None
    try:
        yield kube, settings.namespace or default_namespace(kubeconfig=settings.kubeconfig, context=settings.context)
    finally:
        await kube.close()


@dataclass(frozen=True, kw_only=True)
class Runtime:
    connect: Connect = connect_cluster
    arns: Arns = field(default_factory=Arns.from_environment)
    archive_url: str | None = field(default_factory=lambda: os.environ.get("KUBATCH_ARCHIVE_URL"))
    """The operator's job archive, read for jobs the cluster no longer holds (docs/operations.md)."""


def failure(error: BatchError) -> CommandFailed:
    return CommandFailed(f"{error.code}: {error.message}", exit_code=EXIT_CODES[error.code])


async def _in_session(runtime: Runtime, settings: Globals, work: Callable[[Context], Awaitable[T]]) -> T:
    async with runtime.connect(settings) as (kube, namespace):
        try:
            archive = open_archive(runtime.archive_url, writer=False) if runtime.archive_url else None
        except ArchiveError as error:
            raise CommandFailed(f"KUBATCH_ARCHIVE_URL: {error}", exit_code=EXIT_CONFIG) from None
        ctx = Context(kube=kube, namespace=namespace, arns=runtime.arns, warn=warn, archive=archive)
        try:
            return await work(ctx)
        except BatchError as error:
            raise failure(error) from None
        except (ApiError, ArchiveError, OSError, TimeoutError) as error:
            raise failure(translated(error)) from None
        finally:
            if archive is not None:
                await archive.close()


def run(settings: Globals, work: Callable[[Context], Awaitable[T]]) -> T:
    """Run ``work`` with a Context on the cluster ``settings`` name (one event loop per command)."""
    runtime = click.get_current_context().find_object(Runtime) or Runtime()
    return asyncio.run(_in_session(runtime, settings, work))
