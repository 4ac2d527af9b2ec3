"""Prometheus metrics, all defined here, units in their names.

Why one file: dashboards and alerts depend on these names; one place to read them all.
The loop sets the gauges from each cycle's snapshot, so they always agree with what
the scheduler saw.
"""

from prometheus_client import Counter, Gauge, Histogram

CYCLE_SECONDS = Histogram(
    "kubatch_scheduling_cycle_duration_seconds",
    "Time to plan one reconcile cycle (snapshot, schedule, decisions) over all jobs.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
CYCLE_ERRORS = Counter("kubatch_scheduling_cycle_errors_total", "Reconcile cycles that raised.")
DISPATCH_ERRORS = Counter("kubatch_dispatch_errors_total", "API writes the server refused, by action.", ["action"])
PODS_CREATED = Counter("kubatch_pods_created_total", "Pods created for job attempts.")
EVENTS_DROPPED = Counter("kubatch_events_dropped_total",
                         "Job Events dropped unsent because too many were waiting to be sent.")
SUBMIT_TO_STARTING_SECONDS = Histogram(
    "kubatch_job_submit_to_starting_seconds",
    "Time from a job's submission to its (first or retried) attempt being admitted.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
JOBS = Gauge("kubatch_jobs", "Jobs known to the operator, by queue and state.", ["queue", "state"])
CE_USED_VCPUS = Gauge("kubatch_compute_environment_used_vcpus", "vCPUs held by STARTING and RUNNING jobs.",
                      ["compute_environment"])
CE_MAX_VCPUS = Gauge("kubatch_compute_environment_max_vcpus", "The compute environment's maxvCpus quota.",
                     ["compute_environment"])
JOBS_ARCHIVED = Counter("kubatch_jobs_archived_total",
                        "Finished jobs written to the archive and deleted from the cluster after their retention.")
ARCHIVE_ERRORS = Counter("kubatch_archive_errors_total",
                         "Retention passes that failed (the archive or the API server could not be reached).")
