"""kubatch: AWS Batch's model (queues, compute environments, jobs) as a Kubernetes operator.

Layers, top to bottom; a layer imports only those below it (import-linter's `layers`
contract in pyproject.toml checks it; siblings on one line do not import each other):
  cli/                  the `kubatch` command (it can also start the other two front ends)
  http/ | controller/   the AWS-compatible HTTP API | kopf handlers and the one scheduler loop
  service/              Batch operations (SubmitJob, DescribeJobs, ...) over the resources
  kube/ | core/ | api/  the only code that talks to the API server | pure decisions (scheduling,
                        life cycle, retries, pod manifests; no I/O, no clock) | pydantic models
                        of the five kinds, the single source of the CRDs
  kinds, states         the words every layer shares: the five kinds' names, group, version and
                        scope; the seven job states
Inside core/, reconcile/ (the planner) uses scheduling/ (the scheduler), never the reverse.
"""
