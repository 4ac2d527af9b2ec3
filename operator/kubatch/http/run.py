"""``kubatch api``: serve the AWS Batch API until SIGTERM or Ctrl-C.

One Kubernetes client (kubeconfig, context, or in-cluster) serves every request;
its identity's RBAC bounds what any caller can do, and each request works in the
namespace of its access key. TLS when ``tls_cert``/``tls_key`` are given.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from kubatch.archive import ArchiveError, open_archive
from kubatch.http.credentials import CredentialsError, KeyFile
from kubatch.http.server import Authenticator, BatchApi, NoAuth, SigV4Keys, build_app
from kubatch.kube.client import Kube
from kubatch.logformat import configure_logging
from kubatch.service.arns import Arns

log = logging.getLogger("kubatch.http")


class ConfigError(ValueError):
    """The server cannot start as configured; the message says why."""


@dataclass(frozen=True, kw_only=True)
class ApiOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    arns: Arns = Arns()
    kubeconfig: str | None = None
    context: str | None = None
    credentials_file: Path | None = None
    no_auth_namespace: str | None = None
    """Set only with ``--no-auth``: the namespace every request works in."""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    archive_url: str | None = None
    """The job archive to read finished jobs from once they left the cluster."""


def authenticator(options: ApiOptions) -> Authenticator:
    if options.no_auth_namespace is not None:
        if options.credentials_file is not None:
            raise ConfigError("give either --credentials-file or --no-auth, not both")
        log.warning("authentication is OFF (--no-auth): every request works in namespace %s as an admin",
                    options.no_auth_namespace)
        return NoAuth(options.no_auth_namespace)
    if options.credentials_file is None:
        raise ConfigError("--credentials-file is required (or --no-auth for local development)")
    try:
        keys = KeyFile(options.credentials_file)
    except OSError as error:
        raise ConfigError(f"cannot read the credentials file: {error}") from None
    except CredentialsError as error:
        raise ConfigError(str(error)) from None
    log.info("SigV4 authentication with %d access key(s) from %s", len(keys), options.credentials_file)
    return SigV4Keys(keys)


def tls_context(options: ApiOptions) -> ssl.SSLContext | None:
    if (options.tls_cert is None) != (options.tls_key is None):
        raise ConfigError("--tls-cert and --tls-key go together")
    if options.tls_cert is None or options.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(options.tls_cert, options.tls_key)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"cannot load the TLS certificate and key: {error}") from None
    return context


def run_api(options: ApiOptions, *, verbose: bool = False, log_format: str = "text") -> None:
    """Serve until stopped; a ConfigError before anything is served when the options cannot work."""
    configure_logging(verbose=verbose, log_format=log_format)
    auth = authenticator(options)
    ssl_context = tls_context(options)
    try:
        archive = open_archive(options.archive_url, writer=False) if options.archive_url else None
    except ArchiveError as error:
        raise ConfigError(str(error)) from None

    async def application() -> web.Application:
        try:
            kube = await Kube.connect(kubeconfig=options.kubeconfig, context=options.context)
        except Exception as error:  # the client library's config errors are not ours to import
            raise ConfigError(f"cannot load the kubeconfig: {error}") from None
        app = build_app(BatchApi(kube=kube, arns=options.arns, auth=auth, archive=archive))

        async def close(_: web.Application) -> AsyncIterator[None]:
            yield
            await kube.close()
            if archive is not None:
                await archive.close()

        app.cleanup_ctx.append(close)
        return app

    scheme = "https" if ssl_context else "http"
    web.run_app(application(), host=options.host, port=options.port, ssl_context=ssl_context, access_log=None,
                print=lambda _: log.info("serving the AWS Batch API on %s://%s:%d (region %s, account %s)", scheme,
                                         options.host, options.port, options.arns.region, options.arns.account))
