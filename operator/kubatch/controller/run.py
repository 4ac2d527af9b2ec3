"""Start the operator: kopf with our handlers, plus the Prometheus endpoint.

Why standalone: one replica owns the scheduling loop; kopf's peering is priority-based,
not a Lease, so running two replicas is not supported yet (docs/operations.md).
"""

from __future__ import annotations

import logging

import kopf
from prometheus_client import start_http_server

from kubatch.core.reconcile import Settings


def run_operator(*, namespaces: tuple[str, ...], metrics_port: int, health_port: int, verbose: bool,
                 settings: Settings = Settings()) -> None:
    import kubatch.controller.handlers  # noqa: F401  (registers the handlers with kopf)

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:  # kopf reports every watch event's handler at INFO
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    if metrics_port:
        start_http_server(metrics_port, addr="0.0.0.0")
    kopf.run(memo=kopf.Memo(settings=settings, namespaces=tuple(namespaces)), standalone=True, clusterwide=not namespaces, namespaces=list(namespaces),
             liveness_endpoint=f"http://0.0.0.0:{health_port}/healthz" if health_port else None)
