"""Start the operator: kopf with our handlers, plus the Prometheus endpoint.

Why kopf standalone: kopf's peering is priority-based and pauses every handler; kubatch
keeps all replicas' watch caches warm and gates only its reconcile loop, with a Lease
(``kubatch.controller.leader``) when ``--leader-election-namespace`` is given.
"""

from __future__ import annotations

import logging

import kopf
from prometheus_client import start_http_server

from kubatch.archive import open_archive
from kubatch.controller.ratelimit import DEFAULT_BURST, DEFAULT_WRITES_PER_SECOND, WriteLimiter
from kubatch.core.reconcile import Settings
from kubatch.logformat import configure_logging


def run_operator(*, namespaces: tuple[str, ...], metrics_port: int, health_port: int, verbose: bool,
                 settings: Settings = Settings(), leader_election_namespace: str | None = None,
                 log_format: str = "text", api_qps: float = DEFAULT_WRITES_PER_SECOND,
                 api_burst: int = DEFAULT_BURST, archive_url: str | None = None,
                 finished_job_retention_seconds: int = 0) -> None:
    """``archive_url``: where finished jobs go before they are deleted (None: they never are);
    ``finished_job_retention_seconds``: how long they stay first, unless their queue says otherwise."""
    import kubatch.controller.handlers  # noqa: F401  (registers the handlers with kopf)

    configure_logging(verbose=verbose, log_format=log_format)
    if not verbose:  # kopf reports every watch event's handler at INFO
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    if metrics_port:
        start_http_server(metrics_port, addr="0.0.0.0")
    kopf.run(memo=kopf.Memo(settings=settings, namespaces=tuple(namespaces), leader_namespace=leader_election_namespace,
                             write_limiter=WriteLimiter(rate=api_qps, burst=api_burst),
                             archive=open_archive(archive_url, writer=True) if archive_url else None,
                             retention_seconds=finished_job_retention_seconds),
             standalone=True, clusterwide=not namespaces, namespaces=list(namespaces),
             liveness_endpoint=f"http://0.0.0.0:{health_port}/healthz" if health_port else None)
