"""Prometheus metrics, all defined here, units in their names.

Why one file: dashboards and alerts depend on these names; one place to read them all.
"""

from prometheus_client import Counter, Gauge, Histogram

CYCLE_SECONDS = Histogram(
    "kubatch_reconcile_cycle_duration_seconds", "Time to plan one reconcile cycle over the whole snapshot.",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
CYCLE_ERRORS = Counter("kubatch_reconcile_cycle_errors_total", "Reconcile cycles that raised.")
WRITE_ERRORS = Counter("kubatch_api_write_errors_total", "API writes the server refused.", ["action"])
PODS_CREATED = Counter("kubatch_pods_created_total", "Pods created for job attempts.")
JOBS_BY_STATE = Gauge("kubatch_jobs", "Jobs known to the operator by state.", ["state"])
